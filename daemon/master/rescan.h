/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * When the master looks at the machine again while it serves: every
 * topology.rescan_interval seconds, and soon after an rtnetlink link or
 * address event.
 */
#ifndef AFFINITYD_RESCAN_H
#define AFFINITYD_RESCAN_H

struct event_base;
struct rescan;

/* Called from the loop; why says what prompted it ("timer", "link eth0"). */
typedef void	 rescan_fn(void *arg, const char *why);

/*
 * rescan.c: rescan_start() returns NULL without memory or events; a
 * netlink socket that cannot be opened only leaves the timer (logged).
 * rescan_set_interval() takes a reloaded interval; 0 stops both.
 */
struct rescan	*rescan_start(struct event_base *base, double interval,
		    rescan_fn *fn, void *arg);
void		 rescan_set_interval(struct rescan *rs, double interval);
void		 rescan_stop(struct rescan *rs);

#endif
