/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared per-worker counters: one slot per worker in a memory segment the
 * master maps before forking.  Each field has a single writer (the slot's
 * worker, or the master for restarts), and readers only read, so plain
 * relaxed atomics do.
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
	uint64_t	 restarts;	/* written by the master, not the worker */
	int32_t		 last_cpu;	/* sched_getcpu() at the last beat */
	int32_t		 pid;
	uint32_t	 open_conns;
	uint32_t	 draining;
} __attribute__((aligned(STATS_SLOT_ALIGN)));

/*
 * The counters of a slot, in one order for every reader: they only grow,
 * while the gauges of a slot (open_conns, buffered, heartbeat) describe
 * the worker running now.
 */
enum stats_counter {
	STATS_ACCEPTED,
	STATS_DATAGRAMS,
	STATS_BYTES_IN,
	STATS_BYTES_OUT,
	STATS_LOCAL,
	STATS_REMOTE,
	STATS_ERRORS,
	STATS_CPU_MISMATCHES,
	STATS_IDLE_TIMEOUTS,
	STATS_HEADER_TIMEOUTS,
	STATS_EVICTED,
	STATS_RESTARTS,
	STATS_NCOUNTERS
};

struct stats_counts {
	uint64_t	 n[STATS_NCOUNTERS];
};

/*
 * The shared slots, and the master's own account of them, which no worker
 * sees: the CPU each slot counts for, and per CPU what the slots that
 * counted for it earlier had counted before they were reused or moved.
 * A CPU's counts are its carried counts plus those its slots hold now, so
 * they never go back when a reload, re-map or respawn replaces a worker.
 */
struct stats_segment {
	struct stats_slot	*slots;
	size_t			 nslots;
	int			*slot_cpu;	/* -1: counts for no CPU yet */
	struct stats_counts	*base;		/* per slot: counted elsewhere */
	struct stats_counts	*carried;	/* per CPU */
	unsigned char		*seen;		/* per CPU: had a slot */
	size_t			 ncpus;		/* of carried and seen */
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
 *
 * stats_take() gives slot i to a worker on cpu: what it counted before is
 * carried to the CPU it counted for, and it starts from zero; NULL when
 * out of memory.  stats_move() makes slot count for cpu from now on (a
 * re-mapped worker); its counts so far stay with its last CPU.
 * stats_cpu_counts() adds up what cpu counted since the segment was
 * mapped, and returns 0, or -1 for a CPU no slot ever counted for;
 * stats_total_counts() adds up every CPU.  stats_next_cpu() walks the CPUs
 * that had a slot, from after + 1 (-1 to start); -1 at the end.
 * stats_counter_name() is a counter's key in "status --json" ("accepted",
 * "bytes_received"), which the metric family repeats.
 */
int	 stats_map(size_t nslots, struct stats_segment *seg);
void	 stats_unmap(struct stats_segment *seg);
void	 stats_slot_reset(struct stats_slot *slot, pid_t pid);
void	 stats_slot_respawn(struct stats_slot *slot, pid_t pid);
void	 stats_heartbeat(struct stats_slot *slot, int cpu);
struct stats_slot *stats_take(struct stats_segment *seg, size_t i,
	    unsigned int cpu);
void	 stats_move(struct stats_segment *seg, const struct stats_slot *slot,
	    unsigned int cpu);
int	 stats_cpu_counts(const struct stats_segment *seg, unsigned int cpu,
	    struct stats_counts *out);
void	 stats_total_counts(const struct stats_segment *seg,
	    struct stats_counts *out);
int	 stats_next_cpu(const struct stats_segment *seg, int after);
const char *stats_counter_name(enum stats_counter c);
uint64_t stats_now_ns(void);

#endif
