/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Talking to the service manager (sd_notify(3)), from the master only.
 * Without libsystemd, or outside systemd, every call does nothing.
 */
#ifndef AFFINITYD_NOTIFY_H
#define AFFINITYD_NOTIFY_H

#include <stdint.h>

/* notify.c */
void	 notify_ready(const char *status);
void	 notify_reloading(void);
void	 notify_stopping(void);
void	 notify_watchdog(void);
uint64_t notify_watchdog_usec(void);
void	 notify_mainpid(int pid);

#endif
