/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A model of the kernel's SO_REUSEPORT groups holding our sockets: the
 * array of sockets each group selects from, kept in the kernel's order
 * (join at the end; a leaving socket's place taken by the last one), and
 * the classic BPF program built from it.  The model is only as true as
 * the order of the joins and leaves it is told: its owner must report
 * them in the order they happen.  Nothing here logs.
 */
#include "acconfig.h"

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topology/steer_cbpf.h"
#include "master/steer_group.h"

struct steer_grp {
	int			 type;
	struct sockaddr_storage	 addr;
	uint64_t		*socks;		/* cookies in the kernel's order */
	size_t			 n, cap;
	int			 attached;	/* a program of ours is on it */
};

struct steer_groups {
	struct steer_grp	*v;
	size_t			 n, cap;
};

struct steer_groups *
steer_groups_new(void)
{
	return calloc(1, sizeof(struct steer_groups));
}

void
steer_groups_free(struct steer_groups *sg)
{
	size_t	 i;

	if (sg == NULL)
		return;
	for (i = 0; i < sg->n; i++)
		free(sg->v[i].socks);
	free(sg->v);
	free(sg);
}

/* Same type, family, address and port: the same group. */
static int
steer_groups_same(const struct steer_grp *g, int type,
    const struct sockaddr_storage *addr)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (g->type != type || g->addr.ss_family != addr->ss_family)
		return 0;
	if (addr->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&g->addr;
		b4 = (const struct sockaddr_in *)addr;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)&g->addr;
	b6 = (const struct sockaddr_in6 *)addr;
	return a6->sin6_port == b6->sin6_port &&
	    a6->sin6_scope_id == b6->sin6_scope_id &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* The group and index of a socket; NULL when it is in none. */
static struct steer_grp *
steer_groups_find(const struct steer_groups *sg, uint64_t cookie,
    size_t *index)
{
	size_t	 i, k;

	for (i = 0; cookie != 0 && i < sg->n; i++)
		for (k = 0; k < sg->v[i].n; k++)
			if (sg->v[i].socks[k] == cookie) {
				*index = k;
				return &sg->v[i];
			}
	return NULL;
}

static struct steer_grp *
steer_groups_get(struct steer_groups *sg, int type,
    const struct sockaddr_storage *addr)
{
	struct steer_grp	*v;
	size_t			 i;

	for (i = 0; i < sg->n; i++)
		if (steer_groups_same(&sg->v[i], type, addr))
			return &sg->v[i];
	if (sg->n == sg->cap) {
		v = reallocarray(sg->v, sg->cap ? 2 * sg->cap : 4, sizeof(*v));
		if (v == NULL)
			return NULL;
		sg->v = v;
		sg->cap = sg->cap ? 2 * sg->cap : 4;
	}
	memset(&sg->v[sg->n], 0, sizeof(sg->v[sg->n]));
	sg->v[sg->n].type = type;
	sg->v[sg->n].addr = *addr;
	return &sg->v[sg->n++];
}

int
steer_groups_join(struct steer_groups *sg, int type,
    const struct sockaddr_storage *addr, uint64_t cookie)
{
	struct steer_grp	*g;
	uint64_t		*socks;
	size_t			 k;

	if (cookie == 0)
		return -EINVAL;
	if (steer_groups_find(sg, cookie, &k) != NULL)
		return -EEXIST;
	if ((g = steer_groups_get(sg, type, addr)) == NULL)
		return -ENOMEM;
	if (g->n == g->cap) {
		socks = reallocarray(g->socks, g->cap ? 2 * g->cap : 8,
		    sizeof(*socks));
		if (socks == NULL)
			return -ENOMEM;
		g->socks = socks;
		g->cap = g->cap ? 2 * g->cap : 8;
	}
	g->socks[g->n++] = cookie;
	return 0;
}

/* The kernel's way: the last socket moves into the hole. */
static void
steer_grp_remove(struct steer_grp *g, size_t k)
{
	g->socks[k] = g->socks[--g->n];
}

int
steer_groups_leave(struct steer_groups *sg, uint64_t cookie)
{
	struct steer_grp	*g;
	size_t			 k;

	if ((g = steer_groups_find(sg, cookie, &k)) == NULL)
		return -ENOENT;
	steer_grp_remove(g, k);
	return 0;
}

void
steer_groups_prune(struct steer_groups *sg,
    int (*held)(uint64_t cookie, void *arg), void *arg)
{
	struct steer_grp	*g;
	size_t			 i, k;

	for (i = 0; i < sg->n; i++) {
		g = &sg->v[i];
		for (k = 0; k < g->n; ) {
			if (held(g->socks[k], arg))
				k++;
			else
				steer_grp_remove(g, k);
		}
	}
}

/* Whether two sockets are in one group. */
int
steer_groups_together(const struct steer_groups *sg, uint64_t a, uint64_t b)
{
	const struct steer_grp	*g;
	size_t			 k;

	g = steer_groups_find(sg, a, &k);
	return g != NULL && g == steer_groups_find(sg, b, &k);
}

int
steer_groups_index(const struct steer_groups *sg, uint64_t cookie)
{
	size_t	 k;

	if (steer_groups_find(sg, cookie, &k) == NULL)
		return -1;
	return (int)k;
}

size_t
steer_groups_count(const struct steer_groups *sg, uint64_t cookie)
{
	const struct steer_grp	*g;
	size_t			 k;

	if ((g = steer_groups_find(sg, cookie, &k)) == NULL)
		return 0;
	return g->n;
}

int
steer_groups_program(const struct steer_groups *sg,
    const struct steer_target *targets, size_t ntargets,
    struct steer_cbpf *prog)
{
	const struct steer_grp	*g = NULL, *tg;
	size_t			 i, k, ncpus = 0;
	int			*index, r;

	for (i = 0; i < ntargets; i++) {
		if ((tg = steer_groups_find(sg, targets[i].cookie, &k)) == NULL)
			return -ENOENT;
		if (g != NULL && tg != g)
			return -EINVAL;
		g = tg;
		if (targets[i].cpu + 1 > ncpus)
			ncpus = targets[i].cpu + 1;
	}
	if ((index = malloc((ncpus ? ncpus : 1) * sizeof(*index))) == NULL)
		return -ENOMEM;
	for (i = 0; i < ncpus; i++)
		index[i] = -1;
	for (i = 0; i < ntargets; i++)
		index[targets[i].cpu] = steer_groups_index(sg,
		    targets[i].cookie);
	r = steer_cbpf_build(index, ncpus, prog);
	free(index);
	return r;
}

int
steer_groups_attach(struct steer_groups *sg,
    const struct steer_target *targets, size_t ntargets, int fd)
{
	struct steer_cbpf	 prog;
	struct steer_grp	*g;
	size_t			 k;
	int			 r;

	if (ntargets == 0 ||
	    (g = steer_groups_find(sg, targets[0].cookie, &k)) == NULL)
		return -ENOENT;
	if ((r = steer_groups_program(sg, targets, ntargets, &prog)) < 0)
		return r;
	r = steer_cbpf_attach(fd, &prog);
	steer_cbpf_free(&prog);
	if (r == 0)
		g->attached = 1;
	return r;
}

int
steer_groups_detach(struct steer_groups *sg, uint64_t cookie, int fd)
{
	struct steer_grp	*g;
	size_t			 k;
	int			 r;

	if ((g = steer_groups_find(sg, cookie, &k)) == NULL || !g->attached)
		return 0;
	if ((r = steer_cbpf_detach(fd)) < 0 && r != -ENOENT)
		return r;
	g->attached = 0;
	return 0;
}
