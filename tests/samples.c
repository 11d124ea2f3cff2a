/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The irq-samples test data, shared by the irqmap and irqname unit tests.
 */
#include "acconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "samples.h"
#include "common/util.h"

/* The verbatim excerpt of a sample: everything before its "---" line. */
char *
sample_read(const char *name)
{
	char	*path, *text, *cut;

	assert_true(asprintf(&path, "%s/%s.txt", SAMPLE_DIR, name) > 0);
	assert_int_equal(read_file(path, &text, 1 << 20), 0);
	free(path);
	if (strncmp(text, "---\n", 4) == 0)
		text[0] = '\0';
	else {
		cut = strstr(text, "\n---\n");
		assert_non_null(cut);
		cut[1] = '\0';
	}
	return text;
}

/* Replaces every "from" with "to"; frees text. */
char *
text_replace(char *text, const char *from, const char *to)
{
	char	*out, *p, *hit;
	size_t	 n = 0, flen = strlen(from), tlen = strlen(to);

	for (p = text; (hit = strstr(p, from)) != NULL; p = hit + flen)
		n++;
	out = malloc(strlen(text) + n * tlen + 1);
	assert_non_null(out);
	out[0] = '\0';
	for (p = text; (hit = strstr(p, from)) != NULL; p = hit + flen) {
		strncat(out, p, (size_t)(hit - p));
		strcat(out, to);
	}
	strcat(out, p);
	free(text);
	return out;
}

/* Removes a quoting prefix ("> > ", "|") from the start of lines. */
char *
text_strip(char *text, const char *prefix)
{
	char	*nl;

	assert_true(asprintf(&nl, "\n%s", prefix) > 0);
	if (strncmp(text, prefix, strlen(prefix)) == 0)
		memmove(text, text + strlen(prefix),
		    strlen(text + strlen(prefix)) + 1);
	text = text_replace(text, nl, "\n");
	free(nl);
	return text;
}

/* Prepends a CPU header as the kernel prints it, for CPUs 0..n-1. */
char *
text_header(char *text, unsigned int ncpus)
{
	char		*out, *p;
	unsigned int	 i;

	out = malloc(ncpus * 16 + 16 + strlen(text));
	assert_non_null(out);
	p = out + sprintf(out, "%*s", 4, "");
	for (i = 0; i < ncpus; i++)
		p += sprintf(p, " CPU%-8u", i);
	sprintf(p, "\n%s", text);
	free(text);
	return out;
}

/* Whether a line starts an IRQ row: blanks, digits, ':'. */
static int
row_start(const char *p)
{
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == ':';
}

/*
 * Undoes a mail client's line wrap: a non-blank line that does not start
 * a row is joined to the IRQ row just before it (iavf-1, thunderx_nicvf-1).
 */
char *
text_unwrap(char *text)
{
	char	*p, *nl;
	int	 prev_row = 0;

	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (prev_row && *p != '\0' && *p != '\n' && !row_start(p)) {
			p[-1] = ' ';
			prev_row = 0;
			continue;
		}
		prev_row = row_start(p);
	}
	return text;
}
