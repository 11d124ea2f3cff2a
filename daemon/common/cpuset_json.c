/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU sets as JSON arrays of CPU numbers, for every --json document.
 */
#include "acconfig.h"

#include <jansson.h>

#include "common/cpuset.h"
#include "common/cpuset_json.h"

json_t *
cpuset_json(const struct cpuset *set)
{
	json_t	*a;
	int	 cpu;

	if ((a = json_array()) == NULL || set == NULL)
		return a;
	CPUSET_FOREACH(cpu, set) {
		if (json_array_append_new(a, json_integer(cpu)) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *
cpuset_list_json(const char *list)
{
	struct cpuset	*set = NULL;
	json_t		*a;

	if (list == NULL)
		return json_null();
	if (*list == '\0')
		return json_array();
	if (cpuset_parse_list(list, &set) < 0)
		return json_null();
	a = cpuset_json(set);
	cpuset_free(set);
	return a;
}
