/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Link and address events from rtnetlink, for the master's rescan: a
 * link that appears, goes, or changes state, an address added or removed.
 */
#ifndef AFFINITYD_NLWATCH_H
#define AFFINITYD_NLWATCH_H

struct event_base;
struct nlwatch;

/*
 * Called once per batch of events read together; what names the first
 * ("link eth0", "address", or "events lost" when the kernel dropped some
 * because the socket's buffer was full).
 */
typedef void	 nlwatch_fn(const char *what, void *arg);

/*
 * nlwatch.c: nlwatch_open() returns the watch, or NULL with *why set
 * (malloc'd) when the socket cannot be opened or subscribed.
 */
struct nlwatch	*nlwatch_open(struct event_base *base, nlwatch_fn *fn,
		    void *arg, char **why);
void		 nlwatch_close(struct nlwatch *nw);

#endif
