/*
 * The command line: options, subcommands, and the entry point that
 * main() calls.
 */
#ifndef AFFINITYD_AFFINITYD_H
#define AFFINITYD_AFFINITYD_H

/* affinityd.c */
int	 affinityd_main(int argc, char *argv[]);

#endif
