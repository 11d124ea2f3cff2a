/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared stats segment: an anonymous shared mapping the master makes
 * before forking, one slot per worker.  Each worker writes only its own
 * slot; the master reads them all to answer "status".
 */
#include "acconfig.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/stats.h"

/*
 * The names of the counters wherever they are shown: the keys of
 * "status --json", and, with "affinityd_" before and "_total" after, the
 * metric families (the locality of a connection is a label there).
 */
static const char *const stats_counter_names[STATS_NCOUNTERS] = {
	[STATS_ACCEPTED] = "accepted",
	[STATS_DATAGRAMS] = "datagrams",
	[STATS_BYTES_IN] = "bytes_received",
	[STATS_BYTES_OUT] = "bytes_sent",
	[STATS_LOCAL] = "connections_local",
	[STATS_REMOTE] = "connections_remote",
	[STATS_ERRORS] = "errors",
	[STATS_CPU_MISMATCHES] = "cpu_mismatches",
	[STATS_IDLE_TIMEOUTS] = "idle_timeouts",
	[STATS_HEADER_TIMEOUTS] = "header_timeouts",
	[STATS_EVICTED] = "evicted",
	[STATS_RESTARTS] = "restarts",
};

const char *
stats_counter_name(enum stats_counter c)
{
	return stats_counter_names[c];
}

/* mmap() returns whole pages, so every slot starts on a line of its own. */
_Static_assert(sizeof(struct stats_slot) % STATS_SLOT_ALIGN == 0,
    "stats slots share cache lines");

int
stats_map(size_t nslots, struct stats_segment *seg)
{
	void	*p;
	size_t	 i;

	memset(seg, 0, sizeof(*seg));
	if (nslots == 0 || nslots > SIZE_MAX / sizeof(struct stats_slot))
		return -EINVAL;
	seg->slot_cpu = calloc(nslots, sizeof(*seg->slot_cpu));
	seg->base = calloc(nslots, sizeof(*seg->base));
	if (seg->slot_cpu == NULL || seg->base == NULL) {
		stats_unmap(seg);
		return -ENOMEM;
	}
	for (i = 0; i < nslots; i++)
		seg->slot_cpu[i] = -1;
	/* Anonymous pages come zeroed: every slot starts with no beat. */
	p = mmap(NULL, nslots * sizeof(struct stats_slot),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		i = (size_t)errno;
		stats_unmap(seg);
		return -(int)i;
	}
	seg->slots = p;
	seg->nslots = nslots;
	return 0;
}

void
stats_unmap(struct stats_segment *seg)
{
	if (seg->slots != NULL)
		munmap(seg->slots, seg->nslots * sizeof(struct stats_slot));
	free(seg->slot_cpu);
	free(seg->base);
	free(seg->carried);
	free(seg->seen);
	memset(seg, 0, sizeof(*seg));
}

/* A worker that starts afresh: nothing it counts comes from before. */
void
stats_slot_reset(struct stats_slot *slot, pid_t pid)
{
	memset(slot, 0, sizeof(*slot));
	STATS_SET(slot, pid, (int32_t)pid);
}

/*
 * A worker restarted on the same CPU: the counters go on from where the
 * dead one left them, so "status" shows totals per CPU; what described
 * the dead process alone starts over.
 */
void
stats_slot_respawn(struct stats_slot *slot, pid_t pid)
{
	STATS_SET(slot, heartbeat_ns, 0);
	STATS_SET(slot, last_cpu, 0);
	STATS_SET(slot, open_conns, 0);
	STATS_SET(slot, buffered, 0);
	STATS_SET(slot, draining, 0);
	STATS_SET(slot, pid, (int32_t)pid);
}

void
stats_heartbeat(struct stats_slot *slot, int cpu)
{
	STATS_SET(slot, last_cpu, (int32_t)cpu);
	STATS_SET(slot, heartbeat_ns, stats_now_ns());
}

uint64_t
stats_now_ns(void)
{
	struct timespec	 ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A slot's counts as they stand. */
static void
stats_slot_counts(const struct stats_slot *slot, struct stats_counts *out)
{
	out->n[STATS_ACCEPTED] = STATS_GET(slot, accepted);
	out->n[STATS_DATAGRAMS] = STATS_GET(slot, datagrams);
	out->n[STATS_BYTES_IN] = STATS_GET(slot, bytes_in);
	out->n[STATS_BYTES_OUT] = STATS_GET(slot, bytes_out);
	out->n[STATS_LOCAL] = STATS_GET(slot, local);
	out->n[STATS_REMOTE] = STATS_GET(slot, remote);
	out->n[STATS_ERRORS] = STATS_GET(slot, errors);
	out->n[STATS_CPU_MISMATCHES] = STATS_GET(slot, cpu_mismatches);
	out->n[STATS_IDLE_TIMEOUTS] = STATS_GET(slot, idle_timeouts);
	out->n[STATS_HEADER_TIMEOUTS] = STATS_GET(slot, header_timeouts);
	out->n[STATS_EVICTED] = STATS_GET(slot, evicted);
	out->n[STATS_RESTARTS] = STATS_GET(slot, restarts);
}

/* What slot i counted for its CPU: all it holds but what it had before. */
static void
stats_slot_own(const struct stats_segment *seg, size_t i,
    struct stats_counts *out)
{
	int	 c;

	stats_slot_counts(&seg->slots[i], out);
	for (c = 0; c < STATS_NCOUNTERS; c++)
		out->n[c] -= seg->base[i].n[c];
}

static void
stats_counts_add(struct stats_counts *sum, const struct stats_counts *more)
{
	int	 c;

	for (c = 0; c < STATS_NCOUNTERS; c++)
		sum->n[c] += more->n[c];
}

/* Room in carried and seen for cpu; -1 when out of memory. */
static int
stats_grow_cpus(struct stats_segment *seg, unsigned int cpu)
{
	struct stats_counts	*carried;
	unsigned char		*seen;
	size_t			 n = (size_t)cpu + 1;

	if (n <= seg->ncpus)
		return 0;
	if ((carried = reallocarray(seg->carried, n, sizeof(*carried))) == NULL)
		return -1;
	seg->carried = carried;
	if ((seen = realloc(seg->seen, n)) == NULL)
		return -1;
	seg->seen = seen;
	memset(&carried[seg->ncpus], 0, (n - seg->ncpus) * sizeof(*carried));
	memset(&seen[seg->ncpus], 0, n - seg->ncpus);
	seg->ncpus = n;
	return 0;
}

/* Slot i's counts so far go to its CPU's carried ones; it counts for cpu. */
static void
stats_hand_over(struct stats_segment *seg, size_t i, unsigned int cpu)
{
	struct stats_counts	 own;

	if (seg->slot_cpu[i] >= 0) {
		stats_slot_own(seg, i, &own);
		stats_counts_add(&seg->carried[seg->slot_cpu[i]], &own);
	}
	seg->slot_cpu[i] = (int)cpu;
	seg->seen[cpu] = 1;
}

struct stats_slot *
stats_take(struct stats_segment *seg, size_t i, unsigned int cpu)
{
	if (i >= seg->nslots || stats_grow_cpus(seg, cpu) == -1)
		return NULL;
	stats_hand_over(seg, i, cpu);
	stats_slot_reset(&seg->slots[i], 0);
	memset(&seg->base[i], 0, sizeof(seg->base[i]));
	return &seg->slots[i];
}

void
stats_move(struct stats_segment *seg, const struct stats_slot *slot,
    unsigned int cpu)
{
	size_t	 i = (size_t)(slot - seg->slots);

	/* Out of memory: the slot goes on counting for its last CPU. */
	if (slot == NULL || i >= seg->nslots || stats_grow_cpus(seg, cpu) == -1)
		return;
	stats_hand_over(seg, i, cpu);
	stats_slot_counts(slot, &seg->base[i]);
}

int
stats_cpu_counts(const struct stats_segment *seg, unsigned int cpu,
    struct stats_counts *out)
{
	struct stats_counts	 own;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	if (cpu >= seg->ncpus || !seg->seen[cpu])
		return -1;
	*out = seg->carried[cpu];
	for (i = 0; i < seg->nslots; i++) {
		if (seg->slot_cpu[i] != (int)cpu)
			continue;
		stats_slot_own(seg, i, &own);
		stats_counts_add(out, &own);
	}
	return 0;
}

void
stats_total_counts(const struct stats_segment *seg, struct stats_counts *out)
{
	struct stats_counts	 own;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < seg->ncpus; i++)
		stats_counts_add(out, &seg->carried[i]);
	for (i = 0; i < seg->nslots; i++) {
		if (seg->slot_cpu[i] < 0)
			continue;
		stats_slot_own(seg, i, &own);
		stats_counts_add(out, &own);
	}
}

int
stats_next_cpu(const struct stats_segment *seg, int after)
{
	size_t	 cpu;

	for (cpu = (size_t)(after + 1); cpu < seg->ncpus; cpu++)
		if (seg->seen[cpu])
			return (int)cpu;
	return -1;
}
