/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The doctor's report: findings kept as data (a check name, OK, WARN or
 * FAIL, why and how to fix it) that the checks add to and the callers
 * print or log.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/doctor.h"
#include "common/log.h"
#include "common/util.h"

static char * PRINTFLIKE(1, 0)
doctor_vformat(const char *fmt, va_list ap)
{
	char	*text;

	if (vasprintf(&text, fmt, ap) == -1)
		return NULL;
	return text;
}

struct doctor_finding *
doctor_add(struct doctor_report *rep, const char *check,
    enum doctor_status status, const char *fmt, ...)
{
	struct doctor_finding	*f, *grown;
	va_list			 ap;
	size_t			 cap;
	char			*why;

	va_start(ap, fmt);
	why = doctor_vformat(fmt, ap);
	va_end(ap);
	if (why != NULL && rep->n == rep->cap) {
		cap = rep->cap ? rep->cap * 2 : 16;
		if ((grown = reallocarray(rep->v, cap, sizeof(*grown))) ==
		    NULL) {
			free(why);
			why = NULL;
		} else {
			rep->v = grown;
			rep->cap = cap;
		}
	}
	if (why == NULL) {
		rep->nomem = 1;
		return NULL;
	}
	f = &rep->v[rep->n++];
	f->check = check;
	f->status = status;
	f->why = why;
	f->fix = NULL;
	return f;
}

void
doctor_fix(struct doctor_report *rep, struct doctor_finding *f,
    const char *fmt, ...)
{
	va_list	 ap;

	if (f == NULL)
		return;
	va_start(ap, fmt);
	free(f->fix);
	if ((f->fix = doctor_vformat(fmt, ap)) == NULL)
		rep->nomem = 1;
	va_end(ap);
}

void
doctor_report_free(struct doctor_report *rep)
{
	size_t	 i;

	for (i = 0; i < rep->n; i++) {
		free(rep->v[i].why);
		free(rep->v[i].fix);
	}
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

size_t
doctor_count(const struct doctor_report *rep, enum doctor_status status)
{
	size_t	 i, n = 0;

	for (i = 0; i < rep->n; i++)
		n += rep->v[i].status == status;
	return n;
}

const char *
doctor_status_name(enum doctor_status status)
{
	switch (status) {
	case DOCTOR_OK:
		return "OK";
	case DOCTOR_WARN:
		return "WARN";
	case DOCTOR_FAIL:
		return "FAIL";
	}
	return "?";
}

/*
 * Appends each finding that is not OK to out as one line, "WHY; fix:
 * FIX", the way the daemon shows them: 0 or -ENOMEM.
 */
int
doctor_warnings(const struct doctor_report *rep, struct strv *out)
{
	const struct doctor_finding	*f;
	size_t				 i;
	int				 r = 0;

	for (i = 0; i < rep->n && r == 0; i++) {
		f = &rep->v[i];
		if (f->status != DOCTOR_OK)
			r = strv_add_why_fix(out, f->why, f->fix);
	}
	return r < 0 ? -ENOMEM : 0;
}

/* Logs each finding that is not OK as a warning, after prefix. */
void
doctor_log(const struct doctor_report *rep, const char *prefix)
{
	struct strv	 lines = { 0 };
	size_t		 i;

	if (doctor_warnings(rep, &lines) < 0)
		log_warnx("%sout of memory", prefix ? prefix : "");
	for (i = 0; i < lines.n; i++)
		log_warnx("%s%s", prefix ? prefix : "", lines.v[i]);
	strv_free(&lines);
}
