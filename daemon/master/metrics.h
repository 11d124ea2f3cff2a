/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Prometheus endpoint: GET /metrics over HTTP on the master's event
 * loop, in text format 0.0.4, made from the workers' stats slots and the
 * counts the master carries for each CPU.
 */
#ifndef AFFINITYD_METRICS_H
#define AFFINITYD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/stats.h"

struct event_base;
struct metrics;

/* One worker of a scrape; its gauges are read from slot when formatted. */
struct metrics_worker {
	unsigned int		 id;
	unsigned int		 cpu;
	const struct stats_slot	*slot;		/* NULL: not started yet */
};

/* The counters of one CPU, since the start, whatever worker counted. */
struct metrics_cpu {
	unsigned int		 cpu;
	struct stats_counts	 counts;
};

/* What a scrape shows: the daemon, its CPUs and its serving workers. */
struct metrics_sample {
	double			 start_time;	/* seconds since the epoch */
	unsigned int		 generation;	/* 0: none serving yet */
	const char		*steering;	/* the method in use, or NULL */
	const char		*steering_config; /* topology.steering */
	uint64_t		 remaps;	/* re-maps without a reload */
	struct metrics_worker	*workers;
	size_t			 nworkers;
	size_t			 cap;
	struct metrics_cpu	*cpus;		/* every CPU that had a worker */
	size_t			 ncpus;
	size_t			 cpus_cap;
};

/*
 * Called for every scrape: fills sample with metrics_sample_add() and
 * metrics_sample_add_cpu(), and returns 0, or -errno (the scrape then
 * gets a 500).
 */
typedef int (*metrics_collect_fn)(void *arg, struct metrics_sample *sample);

/*
 * Seconds a client has, in all, to send a request and read its reply
 * (and, kept alive, to send the next one); bytes trickling in do not
 * extend it.
 */
#define METRICS_TIMEOUT		10
/* Largest request accepted, head and body, in bytes. */
#define METRICS_HEADERS_MAX	8192
/* Clients served at once; a new one at the limit closes the oldest. */
#define METRICS_CONNS_MAX	64

/*
 * metrics.c
 *
 * metrics_listen() binds and listens on sa (close-on-exec), and serves
 * GET and HEAD of /metrics on base; other paths get 404, other methods
 * 405.  On failure it returns NULL and sets *why to a malloc'd message
 * ("bind: Address already in use") for the caller to prefix with what it
 * was binding.
 */
struct metrics	*metrics_listen(struct event_base *base,
		    const struct sockaddr *sa, socklen_t salen,
		    metrics_collect_fn collect, void *arg, char **why);
void		 metrics_close(struct metrics *metrics);
int		 metrics_sample_add(struct metrics_sample *sample,
		    unsigned int id, unsigned int cpu,
		    const struct stats_slot *slot);
int		 metrics_sample_add_cpu(struct metrics_sample *sample,
		    unsigned int cpu, const struct stats_counts *counts);

#endif
