/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The master's side of steering: the method a generation uses ("auto"
 * resolved by the self-test), and for the reuseport groups the programs
 * attached to them, chosen from the sockets the generations hand over.
 * Which sockets exist, and when they join and leave their groups, is the
 * generations' business (generation.c keeps the model, steer_group.c).
 */
#ifndef AFFINITYD_STEERING_H
#define AFFINITYD_STEERING_H

#include <stddef.h>
#include <stdint.h>

#include "common/enums.h"
#include "topology/steer_selftest.h"

struct cpuset;
struct steer_decision;
struct steer_groups;

/* A serving worker's socket: its CPU, its SO_COOKIE, the master's copy. */
struct steer_sock {
	unsigned int	 cpu;
	uint64_t	 cookie;
	int		 fd;
};

/*
 * steering.c
 *
 * steering_choose() turns topology.steering into a method and a reason,
 * running the self-test on cpus for "auto" (see steer_selftest()).
 *
 * steering_before_leave() is called before the master closes the last
 * copy of the socket cookie: the kernel then moves the group's last socket
 * into its place, and until steering_apply() follows, the program's
 * indices past the hole are wrong and the kernel hashes over the whole
 * group, draining sockets with nobody left to read them included (a
 * datagram queued there is lost).  For that moment every flow of the
 * group goes to one of the serving sockets (in their order) whose index
 * the leave does not change, when there is one.
 *
 * steering_apply() makes one listener's group steer as method says, the
 * serving generation's sockets of that listener being socks: with "cbpf"
 * the program mapping each socket's CPU to its index; otherwise no
 * program of ours, unless the group also holds sockets not serving (a
 * draining worker's, a starting generation's), which the program then
 * fences off whatever the method.  Sockets not in the model are skipped.
 * Failures are logged under the listener's name; the group then hashes.
 */
void	 steering_choose(enum steering steering, const struct cpuset *cpus,
	    struct steer_decision *dec);
void	 steering_before_leave(struct steer_groups *sg, uint64_t cookie,
	    const struct steer_sock *serving, size_t n);
void	 steering_apply(struct steer_groups *sg, const char *name,
	    enum steer_method method, const struct steer_sock *socks,
	    size_t n);

#endif
