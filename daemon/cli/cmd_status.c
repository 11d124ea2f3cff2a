/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * "affinityd status": asks the running master for its workers and counters
 * over the admin socket and prints them as a table or as JSON.
 */
#include "acconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli/admin_client.h"
#include "cli/affinityd.h"
#include "common/admin_proto.h"
#include "common/log.h"
#include "config/config.h"
#include "cli/status_table.h"
#include "common/util.h"

static void
cmd_status_usage(FILE *out)
{
	fprintf(out,
	    "usage: affinityd status [-c FILE | -s SOCKET] [--json]\n"
	    "\n"
	    "Prints each worker's CPU, queues, connections, datagrams and how\n"
	    "many connections arrived on the worker's own CPU.\n"
	    "\n"
	    "  -c, --config FILE    find the admin socket in FILE\n"
	    "  -s, --socket PATH    the admin socket (default: %s)\n"
	    "  --json               print JSON (the layout is stable)\n",
	    config_default_admin_socket());
}

int
cmd_status(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	*conf = NULL;
	const char	*path = NULL, *sock = NULL;
	struct cli_text	 t;
	json_t		*doc = NULL;
	char		*why = NULL, *peeked = NULL;
	int		 ch, json = 0, r, code;

	while ((ch = getopt_long(argc, argv, "c:hs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			cmd_status_usage(stdout);
			return 0;
		case 'j':
			json = 1;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			cmd_status_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cmd_status_usage(stderr);
		return EXIT_USAGE;
	}
	/* A file being edited may be invalid: only its socket matters here. */
	if (sock == NULL && (sock = peeked = config_peek_admin_socket(path))
	    == NULL) {
		if ((r = cmd_config_load(path, &conf)) == 0)
			r = EXIT_SOFTWARE;
		config_free(conf);
		return r;
	}
	if ((r = admin_request(sock, ADMIN_CMD_STATUS, ADMIN_TIMEOUT,
	    &doc, &why, &code)) < 0) {
		log_cmd_error("affinityd: status: %s", why ? why : "failed");
		/* The daemon's error answer says its exit status, as reload's. */
		if (r == -1)
			r = code != 0 ? code : EXIT_SOFTWARE;
		else
			r = r == -EACCES ? EXIT_NOPERM : EXIT_UNAVAIL;
		goto out;
	}
	if (json) {
		r = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 ? 0 : EXIT_OSERR;
		putchar('\n');
	} else if (cli_text_open(&t) < 0)
		r = EXIT_OSERR;
	else {
		/* The daemon's strings are a terminal's commands no more. */
		r = status_print_table(t.f, doc) == 0 ? 0 : EXIT_SOFTWARE;
		if (cli_text_close(&t, stdout) < 0 && r == 0)
			r = EXIT_OSERR;
	}
out:
	free(why);
	free(peeked);
	json_decref(doc);
	return r;
}
