/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * "affinityd doctor": loads the configuration, discovers its worker plan,
 * runs the doctor checks on this machine (or a sysroot) and prints the
 * findings as text a person reads or as JSON; exits 1 when one FAILs, 2
 * when it could not look (77 when it was not allowed to).
 */
#include "acconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/affinityd.h"
#include "config/config.h"
#include "doctor/doctor.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/log.h"
#include "common/util.h"
#include "worker/handler.h"

/* The machine could not be looked at: no verdict, unlike a FAIL's 1. */
#define CMD_DOCTOR_EXIT_UNSEEN	2

/* Wide enough for the longest check name. */
#define CMD_DOCTOR_NAME_WIDTH	16
/* The layout of "doctor --json"; raised when a key changes meaning. */
#define DOCTOR_JSON_VERSION	1

static void
cmd_doctor_usage(FILE *out)
{
	fprintf(out,
	    "usage: affinityd doctor [-c FILE] [--sysroot DIR] [--json]\n"
	    "\n"
	    "Looks at this machine as the daemon would run on it with FILE\n"
	    "(default: the built-in defaults) and reports what stands in the\n"
	    "way of keeping each flow on its RX queue's CPU: each finding OK,\n"
	    "WARN or FAIL, why, and the fix.  Exits 0 when nothing FAILs, 1\n"
	    "when something does, 2 when it could not look (77: not allowed).\n"
	    "affinityd(8) lists every check.\n"
	    "\n"
	    "  -c, --config FILE  the configuration to check the machine for\n"
	    "  --sysroot DIR      read proc/, sys/ and etc/ below DIR instead of /\n"
	    "  --json             print {\"version\": 1, \"findings\": [...], "
	    "\"counts\": {...}}\n");
}

/* A configuration that does not load is the one finding there is. */
static int
cmd_doctor_config(const char *path, struct config **conf,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct strv		 errors = { 0 };

	if (path == NULL)
		return (*conf = config_defaults()) == NULL ? -ENOMEM : 0;
	if (config_load(path, &handler_catalogue, conf, &errors) == 0) {
		strv_free(&errors);
		return 0;
	}
	*conf = NULL;
	f = doctor_add(rep, "config", DOCTOR_FAIL, "%s does not load: %s%s",
	    path, errors.n > 0 ? errors.v[0] : "unknown error",
	    errors.n > 1 ? " (and more)" : "");
	doctor_fix(rep, f, "correct it; \"affinityd -t -c %s\" lists every "
	    "error", path);
	strv_free(&errors);
	return 0;
}

static int
cmd_doctor_json(const struct doctor_report *rep)
{
	const struct doctor_finding	*f;
	json_t				*doc, *findings;
	size_t				 i;
	int				 r;

	doc = json_object();
	findings = json_array();
	for (i = 0; i < rep->n; i++) {
		f = &rep->v[i];
		json_array_append_new(findings, json_pack("{s:s, s:s, s:s, s:s?}",
		    "check", f->check, "status", doctor_status_name(f->status),
		    "why", f->why, "fix", f->fix));
	}
	json_object_set_new(doc, "version", json_integer(DOCTOR_JSON_VERSION));
	json_object_set_new(doc, "findings", findings);
	json_object_set_new(doc, "failures",
	    json_integer((json_int_t)doctor_count(rep, DOCTOR_FAIL)));
	json_object_set_new(doc, "counts", json_pack("{s:I, s:I, s:I}",
	    "ok", (json_int_t)doctor_count(rep, DOCTOR_OK),
	    "warn", (json_int_t)doctor_count(rep, DOCTOR_WARN),
	    "fail", (json_int_t)doctor_count(rep, DOCTOR_FAIL)));
	r = json_dumpf(doc, stdout, JSON_INDENT(2));
	json_decref(doc);
	if (r == 0)
		putchar('\n');
	return r;
}

/* The report for a person; 0, or -1 when it could not be written. */
static int
cmd_doctor_text(const struct doctor_report *rep, const char *path,
    const char *sysroot)
{
	const struct doctor_finding	*f;
	struct cli_text			 t;
	size_t				 i, nwarn, nfail;

	if (cli_text_open(&t) < 0)
		return -1;
	fprintf(t.f, "affinityd doctor: %s, on %s\n\n", path ? path :
	    "the built-in defaults", sysroot ? sysroot : "this machine");
	for (i = 0; i < rep->n; i++) {
		f = &rep->v[i];
		fprintf(t.f, "%-5s %-*s %s\n", doctor_status_name(f->status),
		    CMD_DOCTOR_NAME_WIDTH, f->check, f->why);
		if (f->fix != NULL)
			fprintf(t.f, "%-5s %-*s fix: %s\n", "",
			    CMD_DOCTOR_NAME_WIDTH, "", f->fix);
	}
	nwarn = doctor_count(rep, DOCTOR_WARN);
	nfail = doctor_count(rep, DOCTOR_FAIL);
	fprintf(t.f, "\n%zu OK, %zu WARN, %zu FAIL: %s\n",
	    doctor_count(rep, DOCTOR_OK), nwarn, nfail, nfail > 0 ?
	    "fix what FAILs before relying on affinityd here" : nwarn > 0 ?
	    "affinityd runs here; each WARN costs some locality" :
	    "nothing on this host moves flows off their queue's CPU");
	return cli_text_close(&t, stdout);
}

/*
 * The plan could not be made because the machine's files could not be
 * read (a --sysroot tree that lacks them, no permission): 0, or the exit
 * status that says so.
 */
static int
cmd_doctor_unseen(int plan_error)
{
	switch (plan_error) {
	case -EACCES:
	case -EPERM:
		return EXIT_NOPERM;
	case -ENOENT:
	case -ENOTDIR:
	case -EIO:
		return CMD_DOCTOR_EXIT_UNSEEN;
	default:
		return 0;
	}
}

/*
 * Loads, plans and checks; fills rep, and *plan_error with why there is no
 * plan (0: there is).  Returns 0 or -ENOMEM.
 */
static int
cmd_doctor_check(const char *path, const char *sysroot,
    struct doctor_report *rep, int *plan_error)
{
	struct doctor_host	 host;
	struct config		*conf = NULL;
	struct plan		*plan = NULL;
	int			 r;

	if ((r = cmd_doctor_config(path, &conf, rep)) < 0 || conf == NULL)
		return r;
	memset(&host, 0, sizeof(host));
	host.sysroot = sysroot;
	host.conf = conf;
	host.plan_error = plan_conf_discover(conf, sysroot, NULL, &plan);
	*plan_error = host.plan_error;
	if (plan != NULL)
		plan_conf_log_warnings(plan);
	host.plan = plan;
	if (host.plan_error == -ENOMEM)
		r = -ENOMEM;
	else
		r = doctor_run(&host, rep);
	plan_free(plan);
	config_free(conf);
	return r;
}

int
cmd_doctor(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "sysroot", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct doctor_report	 rep = { 0 };
	const char		*path = NULL, *sysroot = NULL;
	int			 ch, json = 0, r, plan_error = 0;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			cmd_doctor_usage(stdout);
			return 0;
		case 'j':
			json = 1;
			break;
		case 'r':
			sysroot = optarg;
			break;
		default:
			cmd_doctor_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cmd_doctor_usage(stderr);
		return EXIT_USAGE;
	}
	if ((r = cmd_sysroot_check("doctor", sysroot,
	    CMD_DOCTOR_EXIT_UNSEEN)) != 0)
		return r;
	r = cmd_doctor_check(path, sysroot, &rep, &plan_error);
	if (r < 0) {
		log_cmd_error("affinityd: doctor: %s", strerror(ENOMEM));
		r = EXIT_OSERR;
		goto out;
	}
	if (json)
		r = cmd_doctor_json(&rep);
	else
		r = cmd_doctor_text(&rep, path, sysroot);
	if (r != 0 || fflush(stdout) != 0 || ferror(stdout))
		r = EXIT_OSERR;
	else if ((r = cmd_doctor_unseen(plan_error)) != 0)
		log_cmd_error("affinityd: doctor: could not read what the "
		    "machine is (%s): no verdict", strerror(-plan_error));
	else
		r = doctor_count(&rep, DOCTOR_FAIL) > 0 ? 1 : 0;
out:
	doctor_report_free(&rep);
	return r;
}
