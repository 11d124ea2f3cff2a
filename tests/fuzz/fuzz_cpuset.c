/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU lists ("0-3,8") and the kernel's hex masks ("ff,00000001"): any text
 * parses or is refused, and what parses prints back to the same set.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cpuset.h"
#include "fuzz.h"

/* A set printed as a list and as a mask must read back as itself. */
static void
fuzz_round_trip(const struct cpuset *set)
{
	struct cpuset	*again = NULL;
	char		*text;

	if ((text = cpuset_format_list(set)) == NULL)
		return;
	if (cpuset_parse_list(text, &again) != 0 || !cpuset_equal(set, again))
		abort();
	cpuset_free(again);
	free(text);
	again = NULL;
	if ((text = cpuset_format_mask(set)) == NULL)
		return;
	if (cpuset_parse_mask(text, &again) != 0 || !cpuset_equal(set, again))
		abort();
	cpuset_free(again);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int		(*parse[])(const char *, struct cpuset **) = {
		cpuset_parse_list, cpuset_parse_mask, cpuset_parse,
	};
	struct cpuset	*set;
	char		*text = fuzz_string(data, size);
	size_t		 i;
	int		 r;

	for (i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
		set = NULL;
		r = parse[i](text, &set);
		if (r == 0) {
			if (set == NULL)
				abort();
			fuzz_round_trip(set);
			cpuset_free(set);
		} else if (r != -EINVAL && r != -ERANGE && r != -ENOMEM)
			abort();
	}
	free(text);
	return 0;
}
