/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The text that the commands print for a person: written first to memory,
 * then to the terminal with every control byte but newline and tab shown
 * as \xNN (str_printable_text()), since what it holds comes from elsewhere:
 * interface names and sysfs files anyone able to name an interface chose,
 * a daemon's answers.  An ESC among them would reach the terminal as a
 * command.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/affinityd.h"
#include "common/util.h"

/* Starts a text: print to t->f, then cli_text_close().  0 or -errno. */
int
cli_text_open(struct cli_text *t)
{
	t->buf = NULL;
	t->len = 0;
	if ((t->f = open_memstream(&t->buf, &t->len)) == NULL)
		return -errno;
	return 0;
}

/*
 * Writes the text to OUT, escaped, and frees it.  0, or -1 when it could
 * not be written (or held in memory), as fflush() and ferror() tell.
 */
int
cli_text_close(struct cli_text *t, FILE *out)
{
	char	*clean = NULL;
	int	 r = -1;

	if (fclose(t->f) == 0 && (clean = str_printable_text(t->buf)) != NULL &&
	    fputs(clean, out) != EOF && fflush(out) != EOF && !ferror(out))
		r = 0;
	t->f = NULL;
	free(clean);
	free(t->buf);
	t->buf = NULL;
	return r;
}
