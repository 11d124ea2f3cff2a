/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What every cmocka unit test includes.  cmocka 1.1.5's skip() does not
 * make the program exit 77, so a test that lacks a privilege calls
 * unit_skip_all(), which says why and exits 77 before any test runs.
 */
#ifndef AFFINITYD_TESTS_UNIT_H
#define AFFINITYD_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#define UNIT_EXIT_SKIP	77

static inline void __attribute__((noreturn))
unit_skip_all(const char *why)
{
	printf("SKIP: %s\n", why);
	fflush(stdout);
	exit(UNIT_EXIT_SKIP);
}

/* Path of a file in the source tree (fixtures). */
#define UNIT_SRCPATH(rel)	SRCDIR "/" rel

#endif
