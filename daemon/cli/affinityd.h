/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The command line: the entry point that main() calls, the subcommands it
 * dispatches to, and the steps they share.  One section per file.
 */
#ifndef AFFINITYD_AFFINITYD_H
#define AFFINITYD_AFFINITYD_H

struct config;

/* affinityd.c */
int	 affinityd_main(int argc, char *argv[]);

/* cmd_config.c: 0, or an exit status after printing every error. */
int	 cmd_config_load(const char *path, struct config **conf);

/* cmd_topology.c */
int	 cmd_topology(int argc, char *argv[]);

/* cmd_status.c */
int	 cmd_status(int argc, char *argv[]);

/* cmd_reload.c */
int	 cmd_reload(int argc, char *argv[]);

/* cmd_bind.c */
int	 cmd_bind(int argc, char *argv[]);

/* cmd_boot_config.c */
int	 cmd_boot_config(int argc, char *argv[]);

/* cmd_doctor.c */
int	 cmd_doctor(int argc, char *argv[]);

#endif
