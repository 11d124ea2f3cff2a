/* affinityd command line: being written. */
#include "acconfig.h"

#include "affinityd.h"

int
affinityd_main(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	return 0;
}
