/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Steering as the master runs it.  "auto" becomes a method by the
 * self-test, once per generation.  For "cbpf" the master keeps a model of
 * each listener's reuseport group (steer_group.c, kept by generation.c):
 * after every change to a group the serving generation's program is
 * attached again from the sockets the generation hands over, so the
 * indices it returns are those of the group as it is now.  Nothing here
 * knows the generations or their workers.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "master/steer_group.h"
#include "master/steering.h"
#include "topology/steer_selftest.h"

void
steering_choose(enum steering steering, const struct cpuset *cpus,
    struct steer_decision *dec)
{
	struct steer_result	 res;
	int			 r;

	switch (steering) {
	case STEERING_AUTO:
		if ((r = steer_selftest(cpus, &res)) < 0)
			log_warnx("steering self-test: %s", strerror(-r));
		steer_decide(&res, dec);
		return;
	case STEERING_CBPF:
		dec->method = STEER_METHOD_CBPF;
		break;
	case STEERING_NONE:
		dec->method = STEER_METHOD_NONE;
		break;
	default:
		dec->method = STEER_METHOD_INCOMING_CPU;
		break;
	}
	snprintf(dec->reason, sizeof(dec->reason), "set in the configuration");
}

/* A serving socket of the socket's group at an index a close keeps. */
static const struct steer_sock *
steering_stable_target(const struct steer_groups *sg, uint64_t cookie,
    const struct steer_sock *serving, size_t n)
{
	size_t	 i, last;
	int	 hole, idx;

	hole = steer_groups_index(sg, cookie);
	last = steer_groups_count(sg, cookie) - 1;
	for (i = 0; i < n; i++) {
		if (!steer_groups_together(sg, serving[i].cookie, cookie))
			continue;
		idx = steer_groups_index(sg, serving[i].cookie);
		if (idx != hole && (size_t)idx != last)
			return &serving[i];
	}
	return NULL;
}

void
steering_before_leave(struct steer_groups *sg, uint64_t cookie,
    const struct steer_sock *serving, size_t n)
{
	const struct steer_sock	*s;
	struct steer_target	 t;

	if (steer_groups_index(sg, cookie) < 0 ||
	    (s = steering_stable_target(sg, cookie, serving, n)) == NULL)
		return;
	t = (struct steer_target){ s->cpu, s->cookie };
	if (steer_groups_attach(sg, &t, 1, s->fd) < 0)
		log_debug("steering: no program for the moment a socket "
		    "leaves its group; the kernel may hash meanwhile");
}

/*
 * A group that also holds sockets not serving (a draining worker's, until
 * it let go; a starting generation's, until it serves) gets the program
 * whatever the method, as a fence: with SO_INCOMING_CPU or the hash alone
 * the kernel would still hand those sockets flows that nobody accepts or
 * reads.  Once the group holds only serving sockets again, a method other
 * than cbpf takes over again.
 */
void
steering_apply(struct steer_groups *sg, const char *name,
    enum steer_method method, const struct steer_sock *socks, size_t n)
{
	struct steer_target	*t;
	size_t			 i, nt = 0;
	int			 fd = -1, r, program;

	if (n == 0)
		return;
	if ((t = calloc(n, sizeof(*t))) == NULL) {
		log_warnx("steering: out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		if (steer_groups_index(sg, socks[i].cookie) < 0)
			continue;
		t[nt++] = (struct steer_target){ socks[i].cpu,
		    socks[i].cookie };
		fd = socks[i].fd;
	}
	if (nt == 0) {
		free(t);
		return;
	}
	program = method == STEER_METHOD_CBPF ||
	    steer_groups_count(sg, t[0].cookie) > nt;
	if (program)
		r = steer_groups_attach(sg, t, nt, fd);
	else
		r = steer_groups_detach(sg, t[0].cookie, fd);
	if (r < 0)
		log_warnx("listener \"%s\": %s the steering program: %s; its "
		    "flows are hashed over the workers", name, program ?
		    "attaching" : "detaching", strerror(-r));
	else if (program)
		log_debug("listener \"%s\": steering program for %zu worker "
		    "socket(s) of %zu in the group", name, nt,
		    steer_groups_count(sg, t[0].cookie));
	free(t);
}
