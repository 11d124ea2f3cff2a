/*
 * The command line: options, subcommands, and the entry point that
 * main() calls.
 */
#ifndef AFFINITYD_AFFINITYD_H
#define AFFINITYD_AFFINITYD_H

struct config;

/* affinityd.c */
int	 affinityd_main(int argc, char *argv[]);
int	 affinityd_load_config(const char *path, struct config **conf);

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

#endif
