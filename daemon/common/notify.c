/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sd_notify(3) wrappers.  Return values are ignored on purpose: a service
 * manager that is not listening is not an error (sd_notify(3)).
 */
#include "acconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "common/notify.h"

#ifdef HAVE_SYSTEMD
static void
notify_send(const char *text)
{
	(void)sd_notify(0, text);
}
#else
static void
notify_send(const char *text)
{
	(void)text;
}
#endif

void
notify_ready(const char *status)
{
	char	 text[512];

	snprintf(text, sizeof(text), "READY=1\nSTATUS=%s", status);
	notify_send(text);
}

void
notify_reloading(void)
{
	struct timespec	 ts;
	char		 text[128];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(text, sizeof(text), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	notify_send(text);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping");
}

void
notify_watchdog(void)
{
	notify_send("WATCHDOG=1");
}

void
notify_mainpid(int pid)
{
	char	 text[64];

	snprintf(text, sizeof(text), "MAINPID=%d", pid);
	notify_send(text);
}

/* The watchdog interval systemd asked for, or 0. */
uint64_t
notify_watchdog_usec(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t	 usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
#endif
	return 0;
}
