/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Steering by a classic BPF reuseport program: for the CPU that processes
 * a packet, the index inside the SO_REUSEPORT group of the socket whose
 * worker runs on that CPU.  Works on kernels whose SO_INCOMING_CPU does not
 * steer inside a group, and needs no privilege.
 */
#ifndef AFFINITYD_STEER_CBPF_H
#define AFFINITYD_STEER_CBPF_H

#include <stddef.h>

#include <linux/filter.h>

/* The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
#define STEER_CBPF_MAX_INSNS	4096

struct steer_cbpf {
	struct sock_filter	*insns;
	unsigned short		 len;
};

/*
 * steer_cbpf.c
 *
 * steer_cbpf_build() makes the program for a table: index[cpu], for cpu
 * from 0 to ncpus - 1, is the group index of the socket that serves cpu,
 * or -1 when no worker runs there.  A CPU without a socket (and any CPU
 * past the table) goes to fallback[cpu % n], the table's n distinct
 * indices in the order of their lowest CPU, so the choice is the same on
 * every run.  Returns 0, -EINVAL for a table with no index, -E2BIG when
 * the program would exceed STEER_CBPF_MAX_INSNS, or -ENOMEM; free the
 * program with steer_cbpf_free().
 *
 * steer_cbpf_attach() attaches it to the group that socket fd belongs to
 * (SO_ATTACH_REUSEPORT_CBPF: it replaces the group's program, whichever
 * member it is given to); steer_cbpf_detach() takes the group's program
 * away (SO_DETACH_REUSEPORT_BPF, Linux 5.3); -ENOENT when there was none.
 * Both return 0 or -errno.
 */
int	 steer_cbpf_build(const int *index, size_t ncpus,
	    struct steer_cbpf *prog);
void	 steer_cbpf_free(struct steer_cbpf *prog);
int	 steer_cbpf_attach(int fd, const struct steer_cbpf *prog);
int	 steer_cbpf_detach(int fd);

#endif
