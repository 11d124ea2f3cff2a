/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The common types in the JSON documents: CPU sets as an array of CPU
 * numbers beside the list string ("0-2,8" and [0, 1, 2, 8]), so that a
 * program need not parse lists, and string vectors as arrays of strings.
 */
#ifndef AFFINITYD_JSON_H
#define AFFINITYD_JSON_H

#include <jansson.h>

struct cpuset;
struct strv;

/*
 * json.c
 *
 * cpuset_json() is the array of set's CPUs ([] for NULL or an empty set);
 * cpuset_list_json() the array of a CPU list string, or null when there is
 * no list (NULL) or it does not parse.  Both return NULL out of memory.
 */
json_t	*cpuset_json(const struct cpuset *set);
json_t	*cpuset_list_json(const char *list);

/*
 * strv_json_append() appends the strings of sv (none for NULL) to arr and
 * returns it, or drops arr and returns NULL out of memory (also when arr
 * is NULL); strv_json() is that on a new array.
 */
json_t	*strv_json_append(json_t *arr, const struct strv *sv);
json_t	*strv_json(const struct strv *sv);

#endif
