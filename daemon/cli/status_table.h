/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The "status" document as a table for a person.
 */
#ifndef AFFINITYD_STATUS_TABLE_H
#define AFFINITYD_STATUS_TABLE_H

#include <stdio.h>

#include <jansson.h>

/*
 * status_table.c: status_print_table() prints a document, and returns -1
 * when it has no "workers" or writing failed.
 */
int	 status_print_table(FILE *out, json_t *doc);

#endif
