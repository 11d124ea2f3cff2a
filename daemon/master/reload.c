/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The queue of reload requests.  A request that arrives while no reload
 * runs is answered by the one it starts; requests that arrive while one
 * runs wait, and are answered by the single reload that follows it (so
 * a burst of requests costs two reloads, not one each).  A request (or a
 * SIGHUP, which has no request) never gets lost: a full queue answers at
 * once with an error.
 */
#include "acconfig.h"

#include <stdlib.h>

#include <jansson.h>

#include "master/admin.h"
#include "master/reload.h"
#include "common/util.h"

/* Answers a request that cannot start a reload; NULL (a signal): nothing. */
void
reload_refuse(struct admin_req *req, const char *why)
{
	json_t	*doc;

	if (req == NULL)
		return;
	doc = json_object();
	json_object_set_new(doc, "error", json_string(why));
	admin_reply(req, doc);
}

/*
 * A reload was asked for (req NULL: by a signal).  Returns 1 when the
 * caller should start it now, 0 when one runs (busy) and it was queued
 * for the next.
 */
int
reload_request(struct reload_queue *q, struct admin_req *req, int busy)
{
	if (busy) {
		q->pending = 1;
		if (req != NULL && q->nwaiting < RELOAD_MAX_REQS)
			q->waiting[q->nwaiting++] = req;
		else if (req != NULL)
			admin_reply(req, NULL);
		return 0;
	}
	if (req != NULL && q->nrunning < RELOAD_MAX_REQS)
		q->running[q->nrunning++] = req;
	else if (req != NULL)
		admin_reply(req, NULL);
	return 1;
}

/*
 * The running reload was answered.  Returns 1 when another was asked for
 * meanwhile: its requests are now the running ones, to be started.
 */
int
reload_next(struct reload_queue *q)
{
	size_t	 i;

	if (!q->pending)
		return 0;
	q->pending = 0;
	for (i = 0; i < q->nwaiting; i++)
		q->running[q->nrunning++] = q->waiting[i];
	q->nwaiting = 0;
	return 1;
}

static void
reload_answer(struct reload_queue *q, json_t *doc)
{
	size_t	 i;

	for (i = 0; i < q->nrunning; i++)
		admin_reply(q->running[i], json_deep_copy(doc));
	q->nrunning = 0;
	json_decref(doc);
}

void
reload_answer_ok(struct reload_queue *q, unsigned int generation)
{
	reload_answer(q, json_pack("{s:b, s:i}", "ok", 1, "generation",
	    (int)generation));
}

/*
 * An error text that is not valid UTF-8 makes no JSON string; it goes out
 * escaped rather than as an answer without the error, which a client
 * would take for success.
 */
void
reload_answer_error(struct reload_queue *q, const char *why)
{
	json_t	*doc = json_object(), *text;
	char	*clean;

	if ((text = json_string(why)) == NULL &&
	    (clean = str_printable(why)) != NULL) {
		text = json_string(clean);
		free(clean);
	}
	json_object_set_new(doc, "error", text != NULL ? text :
	    json_string("reload failed: out of memory"));
	reload_answer(q, doc);
}
