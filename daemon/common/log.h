/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging: one small vocabulary used the same way by every process.
 * Lines go to stderr, prefixed with the process role ("master", "worker 3")
 * and "warning: " or "error: "; when stderr is the journal (JOURNAL_STREAM
 * names it) each line starts with its <N> priority instead.
 */
#ifndef AFFINITYD_LOG_H
#define AFFINITYD_LOG_H

#include "common/enums.h"

/* Checks each format against its arguments. */
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* log.c */
void	log_init(enum log_level level);
void	log_setlevel(enum log_level level);
void	log_procinit(const char *role);
void	log_syslog(void);
int	log_level_parse(const char *text, enum log_level *level);
void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);	/* adds errno text */
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_errorx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_cmd_error(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
