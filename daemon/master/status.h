/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The "status" document: what the master says of each worker, and the
 * table "affinityd status" prints from it.
 */
#ifndef AFFINITYD_STATUS_H
#define AFFINITYD_STATUS_H

#include <stdio.h>

#include <jansson.h>

struct stats_slot;
struct strv;

/*
 * status.c
 *
 * status_worker_json() describes one worker (slot may be NULL for a
 * worker not started); status_print_table() prints the "status" document
 * for a person, and returns -1 when it has no "workers" or writing failed.
 */
json_t	*status_worker_json(unsigned int id, unsigned int cpu,
	    const struct strv *queues, const struct stats_slot *slot,
	    unsigned int restarts);
int	 status_print_table(FILE *out, json_t *doc);

#endif
