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
#include <string.h>
#include <time.h>

#include "common/stats.h"

/* mmap() returns whole pages, so every slot starts on a line of its own. */
_Static_assert(sizeof(struct stats_slot) % STATS_SLOT_ALIGN == 0,
    "stats slots share cache lines");

int
stats_map(size_t nslots, struct stats_segment *seg)
{
	void	*p;

	seg->slots = NULL;
	seg->nslots = 0;
	if (nslots == 0 || nslots > SIZE_MAX / sizeof(struct stats_slot))
		return -EINVAL;
	/* Anonymous pages come zeroed: every slot starts with no beat. */
	p = mmap(NULL, nslots * sizeof(struct stats_slot),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	seg->slots = p;
	seg->nslots = nslots;
	return 0;
}

void
stats_unmap(struct stats_segment *seg)
{
	if (seg->slots != NULL)
		munmap(seg->slots, seg->nslots * sizeof(struct stats_slot));
	seg->slots = NULL;
	seg->nslots = 0;
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
