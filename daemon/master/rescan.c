/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rescan's clock: a periodic timer and the rtnetlink watch, folded
 * into one call to the owner.  Events come in bursts (a link going down
 * sends several), so an event only arms a short one-shot timer.
 */
#include "acconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "master/nlwatch.h"
#include "master/rescan.h"
#include "common/util.h"

#define RESCAN_SETTLE_MS	200	/* after the last event of a burst */

struct rescan {
	struct event_base	*base;
	struct event		*timer;
	struct event		*soon;
	struct nlwatch		*nw;
	rescan_fn		*fn;
	void			*arg;
	double			 interval;
	char			 why[64];
};

static void
rescan_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rescan	*rs = arg;

	rs->fn(rs->arg, "timer");
}

static void
rescan_soon_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rescan	*rs = arg;

	rs->fn(rs->arg, rs->why);
}

static void
rescan_event(const char *what, void *arg)
{
	struct rescan	*rs = arg;
	struct timeval	 tv = { 0, RESCAN_SETTLE_MS * 1000 };

	log_debug("rtnetlink: %s; rescanning", what);
	snprintf(rs->why, sizeof(rs->why), "%s", what);
	if (evtimer_add(rs->soon, &tv) == -1)
		log_warnx("cannot schedule a rescan after \"%s\"", what);
}

void
rescan_set_interval(struct rescan *rs, double interval)
{
	struct timeval	 tv;
	char		*why = NULL;

	rs->interval = interval;
	evtimer_del(rs->timer);
	if (interval <= 0) {
		nlwatch_close(rs->nw);
		rs->nw = NULL;
		return;
	}
	tv = seconds_timeval(interval);
	if (evtimer_add(rs->timer, &tv) == -1)
		log_warnx("cannot arm the rescan timer");
	if (rs->nw == NULL &&
	    (rs->nw = nlwatch_open(rs->base, rescan_event, rs, &why)) == NULL) {
		log_warnx("%s; rescanning on the timer only", why ? why :
		    "rtnetlink: out of memory");
		free(why);
	}
}

struct rescan *
rescan_start(struct event_base *base, double interval, rescan_fn *fn,
    void *arg)
{
	struct rescan	*rs;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	rs->base = base;
	rs->fn = fn;
	rs->arg = arg;
	rs->timer = event_new(base, -1, EV_PERSIST, rescan_timer_cb, rs);
	rs->soon = evtimer_new(base, rescan_soon_cb, rs);
	if (rs->timer == NULL || rs->soon == NULL) {
		rescan_stop(rs);
		return NULL;
	}
	rescan_set_interval(rs, interval);
	return rs;
}

void
rescan_stop(struct rescan *rs)
{
	if (rs == NULL)
		return;
	if (rs->timer != NULL)
		event_free(rs->timer);
	if (rs->soon != NULL)
		event_free(rs->soon);
	nlwatch_close(rs->nw);
	free(rs);
}
