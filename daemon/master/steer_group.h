/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The order of our sockets inside their SO_REUSEPORT groups, as the kernel
 * keeps it, so that a classic BPF program can name a socket by its index:
 * a socket joins at the end of its group (TCP at listen(), UDP at bind()),
 * and when one leaves (its last descriptor closed), the group's last
 * socket moves into its place.  Sockets are named by their SO_COOKIE.
 */
#ifndef AFFINITYD_STEER_GROUP_H
#define AFFINITYD_STEER_GROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct steer_cbpf;
struct steer_groups;

/* One CPU and the socket that should serve it. */
struct steer_target {
	unsigned int	 cpu;
	uint64_t	 cookie;
};

/*
 * steer_group.c
 *
 * A group is named by the socket type (SOCK_STREAM, SOCK_DGRAM) and the
 * bound address and port.  steer_groups_join() appends cookie to its
 * group (0, -EEXIST if it is there already, -ENOMEM);
 * steer_groups_leave() takes it out the way the kernel does (0, -ENOENT).
 * steer_groups_index() gives a socket's index in its group, or -1;
 * steer_groups_count() how many sockets share its group (0: unknown).
 * steer_groups_program() builds the program that sends each target's CPU
 * to its socket; every target must be a member of one and the same group
 * (-ENOENT, -EINVAL otherwise; see steer_cbpf_build() for the rest).
 *
 * steer_groups_prune() takes out, as steer_groups_leave() does, every
 * socket for which held(cookie, arg) says 0.
 *
 * steer_groups_attach() builds that program and attaches it to the group
 * through fd, a descriptor of any member; steer_groups_detach() takes
 * the program of cookie's group away through fd when one was attached
 * (a group changing to another method).  Both return 0 or -errno.
 */
struct steer_groups *steer_groups_new(void);
void	 steer_groups_free(struct steer_groups *sg);
int	 steer_groups_join(struct steer_groups *sg, int type,
	    const struct sockaddr_storage *addr, uint64_t cookie);
int	 steer_groups_leave(struct steer_groups *sg, uint64_t cookie);
void	 steer_groups_prune(struct steer_groups *sg,
	    int (*held)(uint64_t cookie, void *arg), void *arg);
int	 steer_groups_index(const struct steer_groups *sg, uint64_t cookie);
int	 steer_groups_together(const struct steer_groups *sg, uint64_t a,
	    uint64_t b);
size_t	 steer_groups_count(const struct steer_groups *sg, uint64_t cookie);
int	 steer_groups_program(const struct steer_groups *sg,
	    const struct steer_target *targets, size_t ntargets,
	    struct steer_cbpf *prog);
int	 steer_groups_attach(struct steer_groups *sg,
	    const struct steer_target *targets, size_t ntargets, int fd);
int	 steer_groups_detach(struct steer_groups *sg, uint64_t cookie, int fd);

#endif
