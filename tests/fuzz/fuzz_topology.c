/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Topology discovery over a generated sysroot: the input describes a tree
 * (see fuzz_tree()) of /proc and /sys files and links, written below a
 * scratch directory; discovery must give a map or a clean error, with a
 * warning for what it could not read, and the map must print.
 */
#include "acconfig.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "topology/plan.h"
#include "topology/topology.h"

static FILE	*fuzz_null;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 root[PATH_MAX];
	struct topo_options	 opts = { 0 };
	struct plan		*plan = NULL;
	json_t			*doc;
	char			*text;

	if (root[0] == '\0') {
		snprintf(root, sizeof(root), "%s/root", fuzz_scratch());
		if ((fuzz_null = fopen("/dev/null", "w")) == NULL)
			abort();
	}
	fuzz_rmtree(root, 0);
	text = fuzz_string(data, size);
	fuzz_tree(root, text);
	free(text);
	opts.sysroot = root;
	opts.workers = size > 0 && data[0] % 2 ? TOPO_WORKERS_CPUS :
	    TOPO_WORKERS_RX_QUEUES;
	(void)plan_discover(&opts, &plan);
	if (plan != NULL) {
		if ((doc = topology_json(plan)) != NULL)
			(void)json_dumpf(doc, fuzz_null, JSON_INDENT(2));
		json_decref(doc);
		(void)topology_print_table(fuzz_null, plan);
	}
	plan_free(plan);
	return 0;
}
