/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * "affinityd reload": asks the running master to reload its configuration.
 * With --wait it waits for the outcome and exits non-zero with the errors,
 * so "systemctl reload" reports a bad configuration instead of returning
 * before anything happened.
 */
#include "acconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/admin_client.h"
#include "cli/affinityd.h"
#include "common/admin_proto.h"
#include "config/config.h"
#include "common/log.h"
#include "common/util.h"

/* Long enough for a new generation to start and the old one to be told. */
#define CMD_RELOAD_WAIT_SEC	120.0

static void
cmd_reload_usage(FILE *out)
{
	fprintf(out,
	    "usage: affinityd reload [--wait] [-c FILE | -s SOCKET]\n"
	    "\n"
	    "Asks the running daemon to re-read its configuration.  An invalid\n"
	    "file changes nothing; a valid one starts new workers and then drains\n"
	    "the old ones, without losing a connection.\n"
	    "\n"
	    "  --wait              wait for the outcome; exit 78 with the errors\n"
	    "                      of an invalid file, 71 if the new workers failed,\n"
	    "                      75 if the daemon is stopping\n"
	    "  -c, --config FILE   find the admin socket in FILE\n"
	    "  -s, --socket PATH   the admin socket (default: %s)\n",
	    config_default_admin_socket());
}

/* The file does not even parse: say why; the daemon was not asked. */
static int
cmd_reload_unreadable(const char *path)
{
	struct config	*conf = NULL;
	int		 r;

	if ((r = cmd_config_load(path, &conf)) == 0) {
		config_free(conf);
		return EXIT_SOFTWARE;
	}
	log_cmd_error("affinityd: reload: %s cannot be read; the running "
	    "daemon was not asked to reload and keeps serving", path);
	return r;
}

int
cmd_reload(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "socket", required_argument, NULL, 's' },
		{ "wait", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*path = NULL, *sock = NULL;
	json_t		*doc = NULL;
	char		*why = NULL, *peeked = NULL;
	int		 ch, wait = 0, r, code;

	while ((ch = getopt_long(argc, argv, "c:hs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			cmd_reload_usage(stdout);
			return 0;
		case 's':
			sock = optarg;
			break;
		case 'w':
			wait = 1;
			break;
		default:
			cmd_reload_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cmd_reload_usage(stderr);
		return EXIT_USAGE;
	}
	if (sock == NULL) {
		if ((peeked = config_peek_admin_socket(path)) == NULL)
			return path ? cmd_reload_unreadable(path) : EXIT_OSERR;
		sock = peeked;
	}
	r = admin_request(sock, ADMIN_CMD_RELOAD, wait ?
	    CMD_RELOAD_WAIT_SEC : ADMIN_TIMEOUT, &doc, &why, &code);
	if (r == -1) {
		log_cmd_error("affinityd: reload: %s", why ? why : "failed");
		/* A daemon older than the codes refused configurations only. */
		r = code != 0 ? code : EXIT_CONFIG;
	} else if (r == -ETIMEDOUT && !wait) {
		printf("reload requested; affinityd's log tells the outcome\n");
		r = 0;
	} else if (r < 0) {
		log_cmd_error("affinityd: reload: %s", why ? why : "failed");
		r = r == -EACCES ? EXIT_NOPERM : EXIT_UNAVAIL;
	} else if (!json_is_true(json_object_get(doc, ADMIN_KEY_OK))) {
		log_cmd_error("affinityd: reload: the daemon's answer says "
		    "neither ok nor what failed");
		r = EXIT_SOFTWARE;
	} else {
		printf("reloaded: generation %lld\n", (long long)json_integer_value(
		    json_object_get(doc, ADMIN_KEY_GENERATION)));
		r = 0;
	}
	free(why);
	free(peeked);
	json_decref(doc);
	return r;
}
