/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration as the command line loads it: FILE, or the built-in
 * defaults without one, with every error printed to stderr.  The
 * subcommands that read a configuration share it; running the daemon and
 * -t also check the host (affinityd.c's affinityd_load()).
 */
#include "acconfig.h"

#include <stdio.h>

#include "cli/affinityd.h"
#include "config/config.h"
#include "common/log.h"
#include "common/util.h"
#include "worker/handler.h"

int
cmd_config_load(const char *path, struct config **conf)
{
	struct strv	 errors = { 0 };
	size_t		 i;

	if (path == NULL) {
		if ((*conf = config_defaults()) == NULL) {
			log_cmd_error("affinityd: out of memory");
			return EXIT_OSERR;
		}
		return 0;
	}
	if (config_load(path, &handler_catalogue, conf, &errors) == 0) {
		strv_free(&errors);
		return 0;
	}
	for (i = 0; i < errors.n; i++)
		log_cmd_error("%s", errors.v[i]);
	strv_free(&errors);
	return EXIT_CONFIG;
}
