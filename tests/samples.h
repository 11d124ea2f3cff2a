/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading the real /proc/interrupts samples kept as test data: the
 * verbatim excerpt of a sample, and the small repairs some of them need
 * (quoting, a missing CPU header, a mail client's line wrap).
 */
#ifndef AFFINITYD_TESTS_SAMPLES_H
#define AFFINITYD_TESTS_SAMPLES_H

#define SAMPLE_DIR	UNIT_SRCPATH("tests/fixtures/irq-samples")

/* samples.c; each frees the text it is given and returns the new one. */
char	*sample_read(const char *name);
char	*text_replace(char *text, const char *from, const char *to);
char	*text_strip(char *text, const char *prefix);
char	*text_header(char *text, unsigned int ncpus);
char	*text_unwrap(char *text);

#endif
