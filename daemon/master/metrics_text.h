/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The text exposition of a scrape (Prometheus text format 0.0.4).
 */
#ifndef AFFINITYD_METRICS_TEXT_H
#define AFFINITYD_METRICS_TEXT_H

#include <stdint.h>

struct evbuffer;
struct metrics_sample;

/*
 * metrics_text.c: appends the text exposition of sample to out, with
 * heartbeat ages taken against now_ns (CLOCK_MONOTONIC); 0 or -ENOMEM.
 */
int	 metrics_format(const struct metrics_sample *sample, uint64_t now_ns,
	    struct evbuffer *out);

#endif
