/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The command line: global options, the subcommands, and running the
 * daemon.  Each subcommand parses its own options and returns a sysexits
 * code; nothing here knows how the daemon works inside.
 */
#include "acconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/affinityd.h"
#include "config/config.h"
#include "config/config_file.h"
#include "common/log.h"
#include "master/master.h"
#include "worker/handler.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

static const struct {
	const char	*name;
	int		(*run)(int argc, char *argv[]);
	const char	*summary;
} affinityd_commands[] = {
	{ "topology", cmd_topology,
	    "print RX queue -> IRQ -> CPU and the worker plan" },
	{ "status", cmd_status, "print the running daemon's workers and counters" },
	{ "reload", cmd_reload, "reload the running daemon's configuration" },
	{ "bind", cmd_bind, "bind processes to CPUs, or the system to the "
	    "housekeeping CPUs" },
	{ "boot-config", cmd_boot_config, "print the boot binding: systemd "
	    "drop-ins, kernel command line" },
	{ "doctor", cmd_doctor, "explain what on this host keeps flows off "
	    "their queue's CPU" },
};

static void
affinityd_usage(FILE *out)
{
	size_t	 i;

	fprintf(out,
	    "usage: affinityd [-c FILE] [-d] [-l LEVEL]   run the daemon\n"
	    "       affinityd -t [-c FILE]                check the configuration\n"
	    "       affinityd COMMAND [OPTIONS]           see below\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default: built-in defaults)\n"
	    "  -d, --daemon        detach; write daemon.pid_file when set\n"
	    "  -l, --log-level L   error, warning, info or debug\n"
	    "  -t, --test          check the configuration and exit: 0 ok, 78 errors\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       the version\n"
	    "\n"
	    "commands:\n");
	for (i = 0; i < ARRAY_SIZE(affinityd_commands); i++)
		fprintf(out, "  %-12s %s\n", affinityd_commands[i].name,
		    affinityd_commands[i].summary);
	fprintf(out, "\n'affinityd COMMAND --help' describes a command;\n"
	    "affinityd(8) and affinityd.conf(5) say more.\n");
}

/*
 * Loads FILE (or the defaults) and checks it against this host (its CPUs,
 * daemon.user), printing every error of both at once: 0 or an exit status.
 * partial: after an error *conf holds the keys that were valid (or is
 * NULL), for -t to check the plan too.
 */
static int
affinityd_load(const char *path, int partial, struct config **conf)
{
	struct strv	 errors = { 0 };
	size_t		 i;
	int		 r;

	if (path == NULL) {
		if ((*conf = config_defaults()) == NULL)
			return EXIT_OSERR;
		r = config_check_host(*conf, &errors);
	} else if (partial)
		r = config_load_host_partial(path, &handler_catalogue, conf,
		    &errors);
	else
		r = config_load_host(path, &handler_catalogue, conf, &errors);
	for (i = 0; i < errors.n; i++)
		log_cmd_error("%s", errors.v[i]);
	strv_free(&errors);
	if (r == 0)
		return 0;
	if (!partial) {
		config_free(*conf);
		*conf = NULL;
	}
	return EXIT_CONFIG;
}

/*
 * A file with errors still has its plan checked, unless a listener it
 * locates the interfaces by was one of them (no address).
 */
static int
affinityd_plan_checkable(const struct config *conf)
{
	size_t	 i;

	if (conf == NULL)
		return 0;
	if (conf->interfaces.n > 0)
		return 1;
	for (i = 0; i < conf->nlisteners; i++)
		if (conf->listeners[i].address == NULL ||
		    conf->listeners[i].addr.ss_family == AF_UNSPEC)
			return 0;
	return 1;
}

/*
 * -t: the worker plan the start would make, refused in the start's words
 * (its interfaces must exist, one CPU at least must get a worker).
 */
static int
affinityd_check_plan(const struct config *conf, const char *what)
{
	struct plan	*plan = NULL;
	int		 r;

	log_setlevel(LOG_LEVEL_WARNING);	/* -t prints errors, or OK */
	r = plan_conf_discover(conf, NULL, NULL, &plan);
	if (r == 0 && plan != NULL && plan->nworkers > 0) {
		plan_free(plan);
		return 0;
	}
	if (plan != NULL)		/* they say why */
		plan_conf_log_warnings(plan);
	log_cmd_error("%s: no worker plan: %s", what, r < 0 ? strerror(-r) :
	    "no usable CPU");
	plan_free(plan);
	return EXIT_CONFIG;
}

/*
 * The configuration path the daemon keeps for its reloads: a relative one
 * made absolute now, as --daemon changes to "/" and the working directory
 * may go away.  Only the directory is resolved: the file may be a link
 * moved to a new configuration before a reload.  NULL: path as given
 * serves (absolute, or a directory that cannot be resolved, which the
 * load then reports).
 */
static char *
affinityd_absolute_path(const char *path)
{
	char	*copy, *slash, *dir, *abs = NULL;
	int	 r;

	if (path == NULL || path[0] == '/' || (copy = strdup(path)) == NULL)
		return NULL;
	if ((slash = strrchr(copy, '/')) != NULL)
		*slash = '\0';
	if ((dir = realpath(slash != NULL ? copy : ".", NULL)) != NULL) {
		r = asprintf(&abs, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
		    slash != NULL ? slash + 1 : copy);
		if (r == -1)
			abs = NULL;
		free(dir);
	}
	free(copy);
	return abs;
}

/*
 * Loads FILE (or the defaults) and checks what the start checks; with -t
 * says so and stops there, else runs the master.  level: --log-level,
 * or NULL for daemon.log_level.
 */
/*
 * A relative @include is taken from the directory the daemon starts in,
 * also at a reload after --daemon changed to "/".  When that directory
 * cannot be resolved, the paths stay relative and the load says why.
 */
static void
affinityd_keep_dir(void)
{
	char	*dir;

	if ((dir = realpath(".", NULL)) == NULL)
		return;
	(void)config_file_set_dir(dir);	/* -ENOMEM: as if it were gone */
	free(dir);
}

static int
affinityd_start(const char *path, int test, const enum log_level *level,
    const struct master_options *mopts)
{
	const char	*what = path ? path : "built-in defaults";
	struct config	*conf = NULL;
	char		*absolute = NULL;
	int		 r;

	if (!test)
		affinityd_keep_dir();
	if (!test && (absolute = affinityd_absolute_path(path)) != NULL)
		path = absolute;
	r = affinityd_load(path, test, &conf);
	free(absolute);
	if (test) {
		/* Every error at once: the plan's beside the file's. */
		if (affinityd_plan_checkable(conf) &&
		    affinityd_check_plan(conf, what) != 0)
			r = EXIT_CONFIG;
		if (r == 0)
			fprintf(stderr, "%s: configuration OK\n", what);
		config_free(conf);
		return r;
	}
	if (r != 0)
		return r;
	log_init(level != NULL ? *level : conf->log_level);
	log_procinit("master");
	return master_run(conf, mopts);
}

static int
affinityd_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "test", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct master_options	 mopts = { 0 };
	const char		*path = NULL;
	enum log_level		 level;
	int			 ch, test = 0, level_set = 0;

	while ((ch = getopt_long(argc, argv, "c:dhl:tV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			mopts.daemonize = 1;
			break;
		case 'h':
			affinityd_usage(stdout);
			return 0;
		case 'l':
			if (log_level_parse(optarg, &level) == -1) {
				log_cmd_error("affinityd: --log-level: "
				    "unknown level \"%s\" (error, warning, "
				    "info, debug)", optarg);
				return EXIT_USAGE;
			}
			level_set = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("affinityd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			affinityd_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_cmd_error("affinityd: unknown command \"%s\"",
		    argv[optind]);
		affinityd_usage(stderr);
		return EXIT_USAGE;
	}
	return affinityd_start(path, test, level_set ? &level : NULL, &mopts);
}

int
affinityd_main(int argc, char *argv[])
{
	size_t	 i;

	log_init(LOG_LEVEL_INFO);
	if (argc > 1) {
		for (i = 0; i < ARRAY_SIZE(affinityd_commands); i++) {
			if (strcmp(argv[1], affinityd_commands[i].name) == 0)
				return affinityd_commands[i].run(argc - 1,
				    argv + 1);
		}
	}
	return affinityd_run(argc, argv);
}
