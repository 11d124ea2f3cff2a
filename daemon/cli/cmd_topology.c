/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * "affinityd topology": prints each RX queue's IRQ and CPU and the worker
 * plan the daemon would fork, as a table or as the JSON contract.
 */
#include "acconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/affinityd.h"
#include "common/log.h"
#include "config/config.h"
#include "topology/plan.h"
#include "topology/steer_selftest.h"
#include "master/steering.h"
#include "topology/topology.h"
#include "common/util.h"

/* The layout of "topology --json"; raised when a key changes meaning. */
#define TOPOLOGY_JSON_VERSION	1

static void
cmd_topology_usage(FILE *out)
{
	fprintf(out,
	    "usage: affinityd topology [-c FILE] [--sysroot DIR] [--json] [IFACE ...]\n"
	    "\n"
	    "Maps each RX queue of IFACE (default: the interfaces the daemon would\n"
	    "serve, those of the listen addresses of FILE or of the built-in\n"
	    "defaults) to its IRQ and CPU, and prints the worker plan.\n"
	    "\n"
	    "  -c, --config FILE  the configuration (default: the built-in defaults,\n"
	    "                     as the daemon runs without -c)\n"
	    "  --sysroot DIR      read proc/ and sys/ below DIR instead of /\n"
	    "  --json             print JSON (the layout is stable)\n");
}

/*
 * The steering the configuration gets on this machine; "auto" runs the
 * self-test, which says nothing about a --sysroot tree.
 */
static int
cmd_topology_steering(const struct config *conf, const struct plan *plan,
    const char *sysroot, struct steer_decision *dec)
{
	if (conf->steering == STEERING_AUTO && sysroot != NULL &&
	    strcmp(sysroot, "/") != 0) {
		snprintf(dec->reason, sizeof(dec->reason), "the self-test "
		    "runs on this machine, not on a --sysroot tree");
		return 0;
	}
	steering_choose(conf->steering, plan->topo->allowed, dec);
	return 1;
}

static int
cmd_topology_print(const struct config *conf, const struct plan *plan,
    const char *sysroot, int json)
{
	struct steer_decision	 dec;
	struct cli_text		 t;
	json_t			*root;
	int			 known, r = 0;

	known = cmd_topology_steering(conf, plan, sysroot, &dec);
	if (!json) {
		if (cli_text_open(&t) < 0)
			return -1;
		r = topology_print_table(t.f, plan);
		fprintf(t.f, "steering %s (%s): %s\n", known ?
		    steer_method_name(dec.method) : "unknown",
		    steering_name(conf->steering), dec.reason);
		return cli_text_close(&t, stdout) < 0 || r < 0 ? -1 : 0;
	}
	if ((root = topology_json(plan)) == NULL ||
	    json_object_set_new(root, "version",
	    json_integer(TOPOLOGY_JSON_VERSION)) == -1 ||
	    json_object_set_new(root, "steering", json_pack("{s:o, s:s, s:s}",
	    "method", known ? json_string(steer_method_name(dec.method)) :
	    json_null(), "config", steering_name(conf->steering), "reason",
	    dec.reason)) == -1 ||
	    json_dumpf(root, stdout, JSON_INDENT(2)) < 0 ||
	    putchar('\n') == EOF || fflush(stdout) == EOF)
		r = -1;
	json_decref(root);
	return r;
}

int
cmd_topology(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "sysroot", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	*conf = NULL;
	struct plan	*plan = NULL;
	struct strv	 ifaces = { 0 };
	const char	*path = NULL, *sysroot = NULL;
	int		 ch, json = 0, r, status = 0;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			cmd_topology_usage(stdout);
			return 0;
		case 'j':
			json = 1;
			break;
		case 'r':
			sysroot = optarg;
			break;
		default:
			cmd_topology_usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++)
		if (strv_add(&ifaces, argv[optind]) < 0)
			return EXIT_OSERR;
	if ((r = cmd_sysroot_check("topology", sysroot, EXIT_NOINPUT)) != 0 ||
	    (r = cmd_config_load(path, &conf)) != 0)
		goto out_status;
	/* Without -c, the built-in defaults: what the daemon would serve. */
	r = plan_conf_discover(conf, sysroot, &ifaces, &plan);
	if (plan != NULL)
		plan_conf_log_warnings(plan);
	if (r < 0) {
		log_cmd_error("affinityd: topology: %s",
		    read_file_error(r, NULL));
		r = r == -ENODEV ? EXIT_DATAERR : EXIT_OSERR;
		goto out_status;
	}
	status = cmd_topology_print(conf, plan, sysroot, json);
	r = status < 0 ? EXIT_OSERR : 0;
out_status:
	plan_free(plan);
	config_free(conf);
	strv_free(&ifaces);
	return r;
}
