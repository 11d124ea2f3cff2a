/* The affinityd program: everything else lives in libaffinityd. */
#include "acconfig.h"

#include "affinityd.h"

int
main(int argc, char *argv[])
{
	return affinityd_main(argc, argv);
}
