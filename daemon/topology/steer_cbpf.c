/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The classic BPF reuseport program that steers each packet to the socket
 * of the worker on the CPU processing it.  The program loads that CPU
 * (SKF_AD_CPU) and returns an index into the group's array of sockets; the
 * kernel falls back to its hash for an index past the last socket.  The
 * indices themselves are the caller's business: a group orders its
 * sockets by joining and moves the last one into the hole a leaving one
 * makes.  Nothing here logs.
 */
#include "acconfig.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topology/steer_cbpf.h"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF	51
#endif
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF		68
#endif

/* The program being written. */
struct steer_cbpf_out {
	struct sock_filter	*insns;
	size_t			 len;
};

static void
steer_cbpf_stmt(struct steer_cbpf_out *o, unsigned short code, unsigned int k)
{
	o->insns[o->len++] = (struct sock_filter)BPF_STMT(code, k);
}

/* "if A == value return index", falling through otherwise. */
static void
steer_cbpf_case(struct steer_cbpf_out *o, unsigned int value,
    unsigned int index)
{
	o->insns[o->len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
	    BPF_K, value, 0, 1);
	steer_cbpf_stmt(o, BPF_RET | BPF_K, index);
}

/* The distinct indices of the table, in the order of their lowest CPU. */
static int
steer_cbpf_fallback(const int *index, size_t ncpus, unsigned int **fb,
    size_t *nfb)
{
	size_t	 cpu, j;

	*nfb = 0;
	if ((*fb = calloc(ncpus ? ncpus : 1, sizeof(**fb))) == NULL)
		return -ENOMEM;
	for (cpu = 0; cpu < ncpus; cpu++) {
		if (index[cpu] < 0)
			continue;
		for (j = 0; j < *nfb && (*fb)[j] != (unsigned int)index[cpu];
		    j++)
			;
		if (j == *nfb)
			(*fb)[(*nfb)++] = (unsigned int)index[cpu];
	}
	return 0;
}

/* Whether fallback[j] is j for every j: "A % n" is then the answer. */
static int
steer_cbpf_identity(const unsigned int *fb, size_t nfb)
{
	size_t	 j;

	for (j = 0; j < nfb; j++)
		if (fb[j] != j)
			return 0;
	return 1;
}

/* A CPU needs its own case only where the fallback would choose wrong. */
static int
steer_cbpf_needs_case(const int *index, size_t cpu, const unsigned int *fb,
    size_t nfb)
{
	return index[cpu] >= 0 && fb[cpu % nfb] != (unsigned int)index[cpu];
}

static size_t
steer_cbpf_count(const int *index, size_t ncpus, const unsigned int *fb,
    size_t nfb)
{
	size_t	 cpu, n = 1;		/* ld cpu */

	for (cpu = 0; cpu < ncpus; cpu++)
		n += 2 * (size_t)steer_cbpf_needs_case(index, cpu, fb, nfb);
	if (nfb == 1)
		return n + 1;		/* ret #fb[0] */
	if (steer_cbpf_identity(fb, nfb))
		return n + 2;		/* mod #n; ret a */
	return n + 1 + 2 * (nfb - 1) + 1;
}

static void
steer_cbpf_emit(struct steer_cbpf_out *o, const int *index, size_t ncpus,
    const unsigned int *fb, size_t nfb)
{
	size_t	 cpu, j;

	steer_cbpf_stmt(o, BPF_LD | BPF_W | BPF_ABS,
	    (unsigned int)(SKF_AD_OFF + SKF_AD_CPU));
	for (cpu = 0; cpu < ncpus; cpu++)
		if (steer_cbpf_needs_case(index, cpu, fb, nfb))
			steer_cbpf_case(o, (unsigned int)cpu,
			    (unsigned int)index[cpu]);
	if (nfb == 1) {
		steer_cbpf_stmt(o, BPF_RET | BPF_K, fb[0]);
		return;
	}
	steer_cbpf_stmt(o, BPF_ALU | BPF_MOD | BPF_K, (unsigned int)nfb);
	if (steer_cbpf_identity(fb, nfb)) {
		steer_cbpf_stmt(o, BPF_RET | BPF_A, 0);
		return;
	}
	for (j = 1; j < nfb; j++)
		steer_cbpf_case(o, (unsigned int)j, fb[j]);
	steer_cbpf_stmt(o, BPF_RET | BPF_K, fb[0]);
}

int
steer_cbpf_build(const int *index, size_t ncpus, struct steer_cbpf *prog)
{
	struct steer_cbpf_out	 o = { NULL, 0 };
	unsigned int		*fb;
	size_t			 nfb, n;
	int			 r;

	prog->insns = NULL;
	prog->len = 0;
	if ((r = steer_cbpf_fallback(index, ncpus, &fb, &nfb)) < 0)
		return r;
	if (nfb == 0) {
		free(fb);
		return -EINVAL;
	}
	if ((n = steer_cbpf_count(index, ncpus, fb, nfb)) >
	    STEER_CBPF_MAX_INSNS) {
		free(fb);
		return -E2BIG;
	}
	if ((o.insns = calloc(n, sizeof(*o.insns))) == NULL) {
		free(fb);
		return -ENOMEM;
	}
	steer_cbpf_emit(&o, index, ncpus, fb, nfb);
	free(fb);
	prog->insns = o.insns;
	prog->len = (unsigned short)o.len;
	return 0;
}

void
steer_cbpf_free(struct steer_cbpf *prog)
{
	free(prog->insns);
	prog->insns = NULL;
	prog->len = 0;
}

int
steer_cbpf_attach(int fd, const struct steer_cbpf *prog)
{
	struct sock_fprog	 fprog;

	/* The kernel copies the padding after len too: zero it. */
	memset(&fprog, 0, sizeof(fprog));
	fprog.len = prog->len;
	fprog.filter = prog->insns;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog,
	    sizeof(fprog)) == -1)
		return -errno;
	return 0;
}

int
steer_cbpf_detach(int fd)
{
	int	 dummy = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &dummy,
	    sizeof(dummy)) == -1)
		return -errno;
	return 0;
}
