/*
 * Reloading without losing a connection.  The new configuration is read
 * and checked first: an invalid one changes nothing.  A valid one starts a
 * new generation of workers, which take over the unchanged sockets; once
 * every new worker is ready, the old generation is told to drain.  Reload
 * requests that arrive meanwhile are answered by the reload after it.
 */
#include "acconfig.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin.h"
#include "config.h"
#include "log.h"
#include "master_int.h"
#include "notify.h"
#include "stats.h"
#include "util.h"

#define RELOAD_HANDOVER_NS	(5ULL * 1000000000ULL)
#define RELOAD_MAX_REQS	ARRAY_SIZE(((struct master *)0)->reload_reqs)

static void
reload_answer(struct master *m, json_t *doc)
{
	size_t	 i;

	for (i = 0; i < m->nreload_reqs; i++)
		admin_reply(m->reload_reqs[i], json_deep_copy(doc));
	m->nreload_reqs = 0;
	json_decref(doc);
}

static void
reload_answer_error(struct master *m, const char *why)
{
	json_t	*doc = json_object();

	json_object_set_new(doc, "error", json_string(why));
	reload_answer(m, doc);
}

/* Starts the reload that requests arrived for while another ran. */
static void
reload_next(struct master *m)
{
	size_t	 i;

	if (!m->reload_pending || m->stopping)
		return;
	m->reload_pending = 0;
	for (i = 0; i < m->nreload_waiting; i++)
		m->reload_reqs[m->nreload_reqs++] = m->reload_waiting[i];
	m->nreload_waiting = 0;
	reload_start(m, NULL);
}

static void
reload_done(struct master *m)
{
	m->starting = NULL;
	reload_next(m);
}

static char *
reload_join(const struct strv *errors)
{
	size_t	 i, len = 1;
	char	*text;

	for (i = 0; i < errors->n; i++)
		len += strlen(errors->v[i]) + 1;
	if ((text = calloc(1, len)) == NULL)
		return NULL;
	for (i = 0; i < errors->n; i++) {
		strcat(text, errors->v[i]);
		if (i + 1 < errors->n)
			strcat(text, "\n");
	}
	return text;
}

/* Reads the configuration again; NULL after logging every error. */
static struct config *
reload_read(struct master *m)
{
	const char	*path = m->active->conf->path;
	struct config	*conf = NULL;
	struct strv	 errors = { 0 };
	char		*text, status[400];
	size_t		 i;

	if (path == NULL)
		return config_defaults();
	if (config_load(path, &conf, &errors) == 0) {
		strv_free(&errors);
		return conf;
	}
	for (i = 0; i < errors.n; i++)
		log_errorx("%s", errors.v[i]);
	log_errorx("reload: %s is invalid; the running workers keep "
	    "serving with the last good configuration", path);
	text = reload_join(&errors);
	snprintf(status, sizeof(status), "reload failed: %zu error(s) in %s; "
	    "still serving generation %u", errors.n, path, m->active->number);
	notify_ready(status);
	reload_answer_error(m, text ? text : "invalid configuration");
	free(text);
	strv_free(&errors);
	return NULL;
}

static void
reload_warn_fixed(const struct config *old, const struct config *conf)
{
	if (strcmp(old->admin_socket, conf->admin_socket) != 0)
		log_warnx("reload: daemon.admin_socket changes only on restart");
	if ((old->metrics == NULL) != (conf->metrics == NULL) ||
	    (old->metrics && strcmp(old->metrics, conf->metrics) != 0))
		log_warnx("reload: daemon.metrics changes only on restart");
	if ((old->user == NULL) != (conf->user == NULL) ||
	    (old->user && strcmp(old->user, conf->user) != 0))
		log_warnx("reload: daemon.user changes only on restart");
}

void
reload_start(struct master *m, struct admin_req *req)
{
	struct generation	*gen;
	struct config		*conf;
	char			*why = NULL;

	if (m->stopping || m->active == NULL) {
		if (req != NULL) {
			json_t *doc = json_object();

			json_object_set_new(doc, "error", json_string(
			    m->stopping ? "stopping" : "still starting"));
			admin_reply(req, doc);
		}
		return;
	}
	if (m->starting != NULL) {
		m->reload_pending = 1;
		if (req != NULL && m->nreload_waiting < RELOAD_MAX_REQS)
			m->reload_waiting[m->nreload_waiting++] = req;
		else if (req != NULL)
			admin_reply(req, NULL);
		return;
	}
	if (req != NULL && m->nreload_reqs < RELOAD_MAX_REQS)
		m->reload_reqs[m->nreload_reqs++] = req;
	else if (req != NULL)
		admin_reply(req, NULL);
	log_info("reloading %s", m->active->conf->path ?
	    m->active->conf->path : "the built-in defaults");
	notify_reloading();
	if ((conf = reload_read(m)) == NULL) {
		reload_next(m);
		return;
	}
	reload_warn_fixed(m->active->conf, conf);
	log_setlevel(conf->log_level);
	if ((gen = generation_new(m, conf, m->active, &why)) == NULL) {
		reload_failed(m, NULL, why ? why : "out of memory");
		free(why);
		return;
	}
	gen->next = m->gens;
	m->gens = gen;
	m->starting = gen;
	supervise_start_next(gen);
}

/* Every new worker is ready: switch, then drain the old generation. */
void
reload_ready(struct generation *gen)
{
	struct master		*m = gen->m;
	struct generation	*old = m->active;
	char			 status[256];
	size_t			 i;

	if (master_check_ports(gen) == -1) {
		reload_failed(m, gen, "a listener's port is in use by "
		    "another program");
		return;
	}
	for (i = 0; i < gen->nworkers; i++)
		supervise_send_go(&gen->workers[i]);
	gen->state = GEN_ACTIVE;
	m->active = gen;
	m->last_generation = gen->number;
	old->state = GEN_DRAINING;
	supervise_signal_gen(old, SIGTERM);
	generation_release(old);
	snprintf(status, sizeof(status), "reloaded: generation %u with %zu "
	    "workers; generation %u draining", gen->number, gen->nworkers,
	    old->number);
	log_info("%s", status);
	notify_ready(status);
	m->handover = old;
	m->handover_ns = stats_now_ns();
	reload_handover_check(m);
}

/*
 * The reload is answered once every old worker said it stopped accepting
 * (or is gone), so that from then on only the new generation takes
 * connections; a wedged old worker delays the answer by a bounded time.
 */
void
reload_handover_check(struct master *m)
{
	struct generation	*old = m->handover;
	json_t			*doc;
	size_t			 i, waiting = 0;

	if (old == NULL)
		return;
	for (i = 0; i < old->nworkers; i++)
		waiting += old->workers[i].pid > 0 && !old->workers[i].stopped;
	if (waiting > 0 &&
	    stats_now_ns() - m->handover_ns < RELOAD_HANDOVER_NS)
		return;
	if (waiting > 0)
		log_warnx("generation %u: %zu worker(s) did not say they stopped "
		    "accepting; answering the reload anyway", old->number,
		    waiting);
	m->handover = NULL;
	doc = json_pack("{s:b, s:i}", "ok", 1, "generation",
	    (int)m->active->number);
	reload_answer(m, doc);
	reload_done(m);
}

/* The new generation did not start: the old one keeps serving. */
void
reload_failed(struct master *m, struct generation *gen, const char *why)
{
	char	 text[700], status[800];

	if (gen != NULL) {
		gen->state = GEN_FAILED;
		supervise_signal_gen(gen, SIGKILL);
		generation_release(gen);
	}
	snprintf(text, sizeof(text), "reload failed: %s", why);
	log_errorx("%s; generation %u keeps serving", text,
	    m->active->number);
	snprintf(status, sizeof(status), "%s; still serving generation %u",
	    text, m->active->number);
	notify_ready(status);
	reload_answer_error(m, text);
	reload_done(m);
	generation_collect(m);
}
