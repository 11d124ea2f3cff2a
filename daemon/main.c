/* SPDX-License-Identifier: BSD-2-Clause */
/* The affinityd program: everything else lives in libaffinityd. */
#include "acconfig.h"

#include "cli/affinityd.h"

int
main(int argc, char *argv[])
{
	return affinityd_main(argc, argv);
}
