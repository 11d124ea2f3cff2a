/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU sets as JSON arrays of CPU numbers and string vectors as arrays of
 * strings, for every --json document.
 */
#include "acconfig.h"

#include <jansson.h>

#include "common/cpuset.h"
#include "common/json.h"
#include "common/util.h"

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

json_t *
strv_json_append(json_t *arr, const struct strv *sv)
{
	size_t	 i;

	if (arr == NULL)
		return NULL;
	for (i = 0; sv != NULL && i < sv->n; i++) {
		if (json_array_append_new(arr, json_string(sv->v[i])) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *
strv_json(const struct strv *sv)
{
	return strv_json_append(json_array(), sv);
}
