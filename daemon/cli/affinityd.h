/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The command line: the entry point that main() calls, the subcommands it
 * dispatches to, and the steps they share.  One section per file.
 */
#ifndef AFFINITYD_AFFINITYD_H
#define AFFINITYD_AFFINITYD_H

#include <stdio.h>

struct config;

/* affinityd.c */
int	 affinityd_main(int argc, char *argv[]);

/* cli_text.c: text for a terminal, its control bytes escaped. */
struct cli_text {
	FILE	*f;		/* print the text here */
	char	*buf;
	size_t	 len;
};
int	 cli_text_open(struct cli_text *t);
int	 cli_text_close(struct cli_text *t, FILE *out);

/* cmd_config.c: 0, or an exit status after printing every error. */
int	 cmd_config_load(const char *path, struct config **conf);

/*
 * cmd_sysroot.c: 0 when sysroot is NULL or describes a machine (proc/ and
 * sys/ below it); else says why and returns status (EXIT_NOPERM when it
 * may not be read).
 */
int	 cmd_sysroot_check(const char *cmd, const char *sysroot, int status);

/* cmd_topology.c */
int	 cmd_topology(int argc, char *argv[]);

/* cmd_status.c */
int	 cmd_status(int argc, char *argv[]);

/* cmd_reload.c */
int	 cmd_reload(int argc, char *argv[]);

/*
 * cmd_bind.c: cmd_bind_load_plan() loads FILE (or the defaults) and fills
 * plan with the boot binding's CPUs below sysroot, saying what went wrong
 * as command cmd; 0 or an exit status.
 */
int	 cmd_bind(int argc, char *argv[]);
struct bind_plan;
int	 cmd_bind_load_plan(const char *cmd, const char *path,
	    const char *sysroot, struct bind_plan *plan);

/* cmd_boot_config.c */
int	 cmd_boot_config(int argc, char *argv[]);

/* cmd_doctor.c */
int	 cmd_doctor(int argc, char *argv[]);

#endif
