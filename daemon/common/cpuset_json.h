/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU sets in the JSON documents: an array of CPU numbers beside the list
 * string ("0-2,8" and [0, 1, 2, 8]), so that a program need not parse
 * lists.
 */
#ifndef AFFINITYD_CPUSET_JSON_H
#define AFFINITYD_CPUSET_JSON_H

#include <jansson.h>

struct cpuset;

/*
 * cpuset_json.c
 *
 * cpuset_json() is the array of set's CPUs ([] for NULL or an empty set);
 * cpuset_list_json() the array of a CPU list string, or null when there is
 * no list (NULL) or it does not parse.  Both return NULL out of memory.
 */
json_t	*cpuset_json(const struct cpuset *set);
json_t	*cpuset_list_json(const char *list);

#endif
