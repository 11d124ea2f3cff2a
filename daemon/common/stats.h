/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared per-worker counters: one slot per worker in a memory segment the
 * master maps before forking.  Each slot has a single writer (its worker);
 * the master and the admin socket only read, so plain relaxed atomics do.
 * Each slot fills cache lines of its own, so that two workers counting
 * on two CPUs never write the same line.
 */
#ifndef AFFINITYD_STATS_H
#define AFFINITYD_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * 128: a cache line, or the pair of lines that x86 prefetches together,
 * which otherwise would still bounce between the CPUs of two neighbours.
 */
#define STATS_SLOT_ALIGN	128

struct stats_slot {
	uint64_t	 accepted;	/* TCP connections accepted */
	uint64_t	 datagrams;	/* UDP datagrams received */
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 local;		/* TCP: SO_INCOMING_CPU == worker CPU */
	uint64_t	 remote;	/* TCP: SO_INCOMING_CPU elsewhere */
	uint64_t	 errors;
	uint64_t	 cpu_mismatches; /* sched_getcpu() != pinned CPU */
	uint64_t	 heartbeat_ns;	/* CLOCK_MONOTONIC of the last beat */
	uint64_t	 idle_timeouts;	/* TCP closed: idle_timeout */
	uint64_t	 header_timeouts; /* TCP closed: header_timeout */
	uint64_t	 evicted;	/* TCP idle closed: worker full */
	uint64_t	 buffered;	/* bytes in connection buffers */
	int32_t		 last_cpu;	/* sched_getcpu() at the last beat */
	int32_t		 pid;
	uint32_t	 open_conns;
	uint32_t	 draining;
} __attribute__((aligned(STATS_SLOT_ALIGN)));

struct stats_segment {
	struct stats_slot	*slots;
	size_t			 nslots;
};

/*
 * Relaxed single-writer updates; readers tolerate a torn snapshot.  Only
 * the slot's worker adds, so a load and a store do: a locked
 * read-modify-write would cost every request a bus lock for nothing.
 */
#define STATS_ADD(slot, field, n) \
	__atomic_store_n(&(slot)->field, \
	    __atomic_load_n(&(slot)->field, __ATOMIC_RELAXED) + (n), \
	    __ATOMIC_RELAXED)
#define STATS_SET(slot, field, v) \
	__atomic_store_n(&(slot)->field, (v), __ATOMIC_RELAXED)
#define STATS_GET(slot, field) \
	__atomic_load_n(&(slot)->field, __ATOMIC_RELAXED)

/*
 * stats.c
 *
 * stats_map() maps nslots zeroed slots shared with every child forked
 * afterwards; 0 or -errno.  A slot whose heartbeat_ns is 0 has not beaten
 * yet.  stats_slot_reset() zeroes a slot for a worker that starts afresh;
 * stats_slot_respawn() keeps the counters of a worker restarted on the
 * same CPU, so that totals stay per CPU, and clears only its pid,
 * heartbeat, open connections, buffered bytes and draining flag.
 */
int	 stats_map(size_t nslots, struct stats_segment *seg);
void	 stats_unmap(struct stats_segment *seg);
void	 stats_slot_reset(struct stats_slot *slot, pid_t pid);
void	 stats_slot_respawn(struct stats_slot *slot, pid_t pid);
void	 stats_heartbeat(struct stats_slot *slot, int cpu);
uint64_t stats_now_ns(void);

#endif
