/* affinityd bind: being written. */
#include "acconfig.h"

#include <stdio.h>

#include "affinityd.h"
#include "util.h"

int
cmd_bind(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "affinityd: not available in this build\n");
	return EXIT_SOFTWARE;
}
