/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The "status" document: what the master says of itself and of each
 * worker, built here from what the master passes in, and the table
 * "affinityd status" prints from it.
 */
#ifndef AFFINITYD_STATUS_H
#define AFFINITYD_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/stats.h"

struct cpuset;
struct strv;

/* The layout of the document; raised when a key changes meaning. */
#define STATUS_LAYOUT_VERSION	1

/* One worker the document shows. */
struct status_worker {
	unsigned int		 id;
	unsigned int		 cpu;
	pid_t			 pid;		/* 0: no process */
	const char		*state;		/* "ready", "starting", ... */
	const struct strv	*queues;	/* may be NULL */
	const struct stats_slot	*slot;		/* NULL: not started */
	struct stats_counts	 counts;	/* its CPU's, since the start */
};

/* What the master knows, as the document shows it. */
struct status_input {
	pid_t			 pid;
	double			 start_time;	/* seconds since the epoch */
	unsigned int		 generation;	/* 0: none serving yet */
	size_t			 draining;	/* workers draining */
	uint64_t		 remaps;
	const char		*steering;	/* NULL: none serving yet */
	const char		*steering_config;
	const char		*steering_reason;
	const struct cpuset	*fallback_cpus;	/* may be NULL */
	const struct status_worker *workers;
	size_t			 nworkers;
	struct stats_counts	 totals;	/* every CPU, since the start */
};

/*
 * status.c
 *
 * status_json() is the document (NULL out of memory); status_worker_json()
 * one worker of it.
 */
json_t	*status_json(const struct status_input *in);
json_t	*status_worker_json(const struct status_worker *w);

#endif
