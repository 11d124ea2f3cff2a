/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration: a libconfig file turned into a plain struct config
 * in which every value has been checked, and the built-in defaults that
 * stand in for every absent key.  Nothing here logs: each problem becomes
 * one "FILE:LINE: KEY: message" line for the caller, loading goes on to
 * the end of the file, and any problem at all fails the whole load.
 */
#include "acconfig.h"

#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_file.h"
#include "common/cpuset.h"
#include "common/log.h"

#define CONFIG_ROOT_ADMIN_SOCKET	"/run/affinityd/admin.sock"
#define CONFIG_DEFAULT_ADDRESS		"127.0.0.1"
#define CONFIG_DEFAULT_BACKLOG		4096
#define CONFIG_DEFAULT_HTTP_BODY	"ok\n"
#define CONFIG_MAX_CONNECTIONS		1000000
#define CONFIG_MAX_SHUTDOWN_TIMEOUT	3600.0
#define CONFIG_DEFAULT_BUFFER_BUDGET	65536		/* KiB: 64 MiB */
#define CONFIG_MIN_BUFFER_BUDGET	64
#define CONFIG_MAX_BUFFER_BUDGET	(16 * 1024 * 1024)	/* 16 GiB */
#define CONFIG_DEFAULT_IDLE_TIMEOUT	60.0
#define CONFIG_DEFAULT_HEADER_TIMEOUT	60.0
#define CONFIG_MAX_CONN_TIMEOUT		86400.0
#define CONFIG_MIN_RESCAN		0.1
#define CONFIG_MAX_RESCAN		3600.0
#define CONFIG_IFNAME_MAX		15	/* IFNAMSIZ less the NUL */
#define CONFIG_KEY_MAX			256
#define CONFIG_WORKERS_VALUES \
	"\"rx-queues\", \"cpus\" or a CPU list such as \"2-7,10\""

/* The longest path a unix socket address holds, less the NUL. */
#define CONFIG_SUN_PATH_MAX \
	(sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1)

/* One load in progress: where errors go and how many there were. */
struct config_ctx {
	const char		*path;
	struct strv		*errors;	/* may be NULL */
	const struct config_handlers *handlers;
	unsigned int		 nerrors;
	int			 nomem;
	struct config_file	 file;		/* its text and big integers */
};

/* What a key's value must be; checked before the key's parser runs. */
enum config_kind {
	CONFIG_KIND_STRING,
	CONFIG_KIND_INT,
	CONFIG_KIND_NUMBER,	/* an integer or a float */
	CONFIG_KIND_BOOL,
	CONFIG_KIND_GROUP,
	CONFIG_KIND_LIST,	/* ( ... ) */
	CONFIG_KIND_STRINGS,	/* [ ... ] or ( ... ) */
};

typedef void	 config_parse_fn(struct config_ctx *, const config_setting_t *,
		    const char *, void *);

struct config_key {
	const char		*name;
	enum config_kind	 kind;
	config_parse_fn		*parse;
};

struct config_group {
	const char		*name;		/* NULL: the top level */
	const struct config_key	*keys;
	size_t			 nkeys;
};

/* A listener being read: the settings seen and which of them were valid. */
struct config_lparse {
	struct listener_conf	*l;
	const config_setting_t	*group;
	const config_setting_t	*name_s, *handler_s, *backlog_s, *v6only_s;
	const config_setting_t	*defer_s;
	const config_setting_t	*http_s;
	const config_setting_t	*idle_s, *header_s;
	int			 name_ok, protocol_ok, address_ok, port_ok;
	int			 handler_ok;
	struct config_handler_caps caps;	/* when handler_ok */
	char			 key[CONFIG_KEY_MAX];	/* listeners[2] ("x") */
};

static void	 config_vreport(struct config_ctx *, const char *,
		    unsigned int, const char *, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));
static void	 config_report_at(struct config_ctx *, const char *,
		    unsigned int, const char *, const char *, ...)
		    PRINTFLIKE(5, 6);
static void	 config_report(struct config_ctx *, const config_setting_t *,
		    const char *, const char *, ...) PRINTFLIKE(4, 5);
static void	 config_walk(struct config_ctx *, const config_setting_t *,
		    const char *, const struct config_group *, void *);

/*
 * Errors.
 */

/*
 * The one place that formats a problem: "FILE:LINE: KEY: message", with
 * the line left out when there is none (a file that cannot be opened) and
 * the key left out when the problem is not one key's (a syntax error).
 */
static void
config_vreport(struct config_ctx *ctx, const char *file, unsigned int line,
    const char *key, const char *fmt, va_list ap)
{
	char	*msg, where[32] = "";
	int	 r;

	ctx->nerrors++;
	if (ctx->errors == NULL)
		return;
	if (vasprintf(&msg, fmt, ap) == -1) {
		ctx->nomem = 1;
		return;
	}
	if (line > 0)
		snprintf(where, sizeof(where), ":%u", line);
	if (key != NULL)
		r = strv_addf(ctx->errors, "%s%s: %s: %s", file, where, key,
		    msg);
	else
		r = strv_addf(ctx->errors, "%s%s: %s", file, where, msg);
	if (r < 0)
		ctx->nomem = 1;
	free(msg);
}

static void
config_report_at(struct config_ctx *ctx, const char *file, unsigned int line,
    const char *key, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	config_vreport(ctx, file, line, key, fmt, ap);
	va_end(ap);
}

/*
 * The file and line a line of the text libconfig read comes from: that
 * text has every @include expanded (config_file.c), so its lines are
 * mapped back to the files'.
 */
static const char *
config_where(const struct config_ctx *ctx, unsigned int line,
    unsigned int *file_line)
{
	const char	*file;

	file = config_file_where(&ctx->file, line, file_line);
	return file != NULL ? file : ctx->path;
}

/* The file and line where setting s was written. */
static const char *
config_source(const struct config_ctx *ctx, const config_setting_t *s,
    unsigned int *line)
{
	return config_where(ctx, config_setting_source_line(s), line);
}

/* Reports a problem with setting s, whose dotted name is key. */
static void
config_report(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, const char *fmt, ...)
{
	va_list		 ap;
	const char	*file;
	unsigned int	 line;

	file = config_source(ctx, s, &line);
	va_start(ap, fmt);
	config_vreport(ctx, file, line, key, fmt, ap);
	va_end(ap);
}

/* Sets *dst to "FILE:LINE" of setting s, for checks made after loading. */
static void
config_set_where(struct config_ctx *ctx, char **dst, const config_setting_t *s)
{
	const char	*file;
	unsigned int	 line;

	free(*dst);
	file = config_source(ctx, s, &line);
	if (asprintf(dst, "%s:%u", file, line) == -1) {
		*dst = NULL;
		ctx->nomem = 1;
	}
}

/* Replaces *dst with a copy of value (or NULL), noting a failed copy. */
static void
config_set_string(struct config_ctx *ctx, char **dst, const char *value)
{
	char	*copy = NULL;

	if (value != NULL && (copy = strdup(value)) == NULL) {
		ctx->nomem = 1;
		return;
	}
	free(*dst);
	*dst = copy;
}

/* Writes the dotted name of key name in group prefix (NULL: the top). */
static void
config_join(char *buf, size_t len, const char *prefix, const char *name)
{
	int	 r;

	if (prefix != NULL)
		r = snprintf(buf, len, "%s.%s", prefix, name);
	else
		r = snprintf(buf, len, "%s", name);
	if (r < 0)
		buf[0] = '\0';
}

/*
 * Writes the admin socket's default path for a process whose effective
 * user is euid: the system path for root; else the user's runtime
 * directory, which only that user can enter; else a directory of that
 * user's own in /tmp (the daemon makes it mode 0700 and refuses one that
 * another user made), never a name in /tmp itself, which anyone could
 * take first.  A runtime directory that is relative or too long for a
 * socket address is ignored.
 */
int
config_admin_socket_path(uid_t euid, char *buf, size_t len)
{
	const char	*dir;
	int		 r;

	if (euid == 0)
		r = snprintf(buf, len, "%s", CONFIG_ROOT_ADMIN_SOCKET);
	else {
		dir = getenv("XDG_RUNTIME_DIR");
		if (dir != NULL && dir[0] == '/' && strlen(dir) +
		    strlen("/affinityd.sock") <= CONFIG_SUN_PATH_MAX)
			r = snprintf(buf, len, "%s/affinityd.sock", dir);
		else
			r = snprintf(buf, len, "/tmp/affinityd-%lu/admin.sock",
			    (unsigned long)euid);
	}
	if (r < 0 || (size_t)r >= len)
		return -ENAMETOOLONG;
	return 0;
}

const char *
config_default_admin_socket(void)
{
	static char	 path[CONFIG_SUN_PATH_MAX + 1];

	/* Every choice fits: the runtime directory's length is checked. */
	(void)config_admin_socket_path(geteuid(), path, sizeof(path));
	return path;
}

/* Turns an IPv4 or IPv6 literal and a port into a socket address. */
static int
config_resolve(const char *text, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

/*
 * Parses "HOST:PORT" where HOST is an IPv4 literal or an IPv6 literal in
 * brackets.  Returns NULL, or what is wrong.
 */
static const char *
config_parse_hostport(const char *text, struct sockaddr_storage *ss,
    socklen_t *len)
{
	const char	*colon, *why = NULL;
	char		*host;
	unsigned int	 port;
	size_t		 hostlen;

	if ((colon = strrchr(text, ':')) == NULL)
		return "expected HOST:PORT, such as \"127.0.0.1:9477\"";
	if (parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
		return "the port must be a number from 1 to 65535";
	hostlen = (size_t)(colon - text);
	if (hostlen >= 2 && text[0] == '[' && text[hostlen - 1] == ']')
		host = strndup(text + 1, hostlen - 2);
	else if (memchr(text, ':', hostlen) != NULL)
		return "an IPv6 address needs brackets, as in \"[::1]:9477\"";
	else
		host = strndup(text, hostlen);
	if (host == NULL)
		return "out of memory";
	if (config_resolve(host, (uint16_t)port, ss, len) < 0 ||
	    (text[0] == '[') != (ss->ss_family == AF_INET6))
		why = "the host must be an IPv4 address or an IPv6 address "
		    "in brackets (names are not resolved)";
	free(host);
	return why;
}

/*
 * Unknown keys.
 */

/* Edit distance of two short names, enough to catch a typo. */
static size_t
config_distance(const char *a, const char *b)
{
	size_t	 row[CONFIG_KEY_MAX], i, j, diag, up, best;
	size_t	 la = strlen(a), lb = strlen(b);

	if (la >= CONFIG_KEY_MAX || lb >= CONFIG_KEY_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The key of group g closest to name, if it is close enough to be a typo. */
static const char *
config_suggest(const struct config_group *g, const char *name)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = 3;

	for (i = 0; i < g->nkeys; i++) {
		d = config_distance(name, g->keys[i].name);
		if (d < bestd && d < strlen(name)) {
			best = g->keys[i].name;
			bestd = d;
		}
	}
	return best;
}

static const struct config_group config_daemon_group, config_topology_group;

static void
config_report_unknown(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, const struct config_group *g)
{
	const struct config_group	*nested[] = {
		&config_daemon_group, &config_topology_group
	};
	const char			*name = config_setting_name(s), *hint;
	size_t				 i, j;

	if ((hint = config_suggest(g, name)) != NULL) {
		config_report(ctx, s, key, "unknown key; did you mean \"%s\"?",
		    hint);
		return;
	}
	for (i = 0; g->name == NULL && i < ARRAY_SIZE(nested); i++)
		for (j = 0; j < nested[i]->nkeys; j++)
			if (strcmp(nested[i]->keys[j].name, name) == 0) {
				config_report(ctx, s, key, "unknown key at the "
				    "top level; it belongs in the %s group",
				    nested[i]->name);
				return;
			}
	config_report(ctx, s, key, "unknown key");
}

/*
 * Types.
 */

static int
config_kind_ok(enum config_kind kind, int type)
{
	switch (kind) {
	case CONFIG_KIND_STRING:
		return type == CONFIG_TYPE_STRING;
	case CONFIG_KIND_INT:
		return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
	case CONFIG_KIND_NUMBER:
		return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64 ||
		    type == CONFIG_TYPE_FLOAT;
	case CONFIG_KIND_BOOL:
		return type == CONFIG_TYPE_BOOL;
	case CONFIG_KIND_GROUP:
		return type == CONFIG_TYPE_GROUP;
	case CONFIG_KIND_LIST:
		return type == CONFIG_TYPE_LIST;
	case CONFIG_KIND_STRINGS:
		return type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST;
	}
	return 0;
}

static const char *
config_kind_name(enum config_kind kind)
{
	switch (kind) {
	case CONFIG_KIND_STRING:
		return "a string";
	case CONFIG_KIND_INT:
		return "an integer";
	case CONFIG_KIND_NUMBER:
		return "a number";
	case CONFIG_KIND_BOOL:
		return "true or false";
	case CONFIG_KIND_GROUP:
		return "a group { ... }";
	case CONFIG_KIND_LIST:
		return "a list ( ... )";
	case CONFIG_KIND_STRINGS:
		return "an array of strings [ ... ]";
	}
	return "?";
}

static const char *
config_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

static void
config_report_type(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, enum config_kind kind)
{
	config_report(ctx, s, key, "expected %s, not %s",
	    config_kind_name(kind), config_type_name(config_setting_type(s)));
}

/*
 * Walks the members of a group in file order: an unknown key or a value
 * of the wrong type is reported here, anything else goes to the key's
 * parser with its dotted name.
 */
static void
config_walk(struct config_ctx *ctx, const config_setting_t *group,
    const char *prefix, const struct config_group *g, void *obj)
{
	const config_setting_t	*s;
	const struct config_key	*k;
	char			 key[CONFIG_KEY_MAX];
	int			 i, n = config_setting_length(group);
	size_t			 j;

	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(group, (unsigned int)i);
		config_join(key, sizeof(key), prefix, config_setting_name(s));
		for (j = 0, k = NULL; j < g->nkeys && k == NULL; j++)
			if (strcmp(g->keys[j].name,
			    config_setting_name(s)) == 0)
				k = &g->keys[j];
		if (k == NULL)
			config_report_unknown(ctx, s, key, g);
		else if (!config_kind_ok(k->kind, config_setting_type(s)))
			config_report_type(ctx, s, key, k->kind);
		else
			k->parse(ctx, s, key, obj);
	}
}

/*
 * The integer written for setting s when it does not fit in the 32 bits
 * libconfig keeps (config_file.c found it), marked as reported; or NULL.
 */
static const char *
config_int_too_big(struct config_ctx *ctx, const config_setting_t *s)
{
	struct config_file_int	*i;
	const char		*name = config_setting_name(s);
	size_t			 n;

	for (n = 0; name != NULL && n < ctx->file.nints; n++) {
		i = &ctx->file.ints[n];
		if (!i->reported && i->name_line ==
		    config_setting_source_line(s) &&
		    strcmp(i->name, name) == 0) {
			i->reported = 1;
			return i->text;
		}
	}
	return NULL;
}

/* Reports the too big integers that no setting's parser reported. */
static void
config_report_ints(struct config_ctx *ctx)
{
	struct config_file_int	*i;
	const char		*file;
	unsigned int		 line;
	size_t			 n;

	for (n = 0; n < ctx->file.nints; n++) {
		i = &ctx->file.ints[n];
		file = config_where(ctx, i->line, &line);
		if (!i->reported)
			config_report_at(ctx, file, line,
			    i->name[0] ? i->name : NULL, "%s does not fit in "
			    "an integer (%d to %d)", i->text, INT32_MIN,
			    INT32_MAX);
	}
}

/* Reports a number outside [min, max]; returns whether it was inside. */
static int
config_check_range(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, long long min, long long max)
{
	long long	 v = config_setting_get_int64(s);
	const char	*big;

	if ((big = config_int_too_big(ctx, s)) != NULL) {
		config_report(ctx, s, key, "must be from %lld to %lld, not %s",
		    min, max, big);
		return 0;
	}
	if (v >= min && v <= max)
		return 1;
	config_report(ctx, s, key, "must be from %lld to %lld, not %lld",
	    min, max, v);
	return 0;
}

/*
 * daemon = { ... }
 */

static void
config_parse_user(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	const char	*v = config_setting_get_string(s);

	if (*v == '\0')
		config_report(ctx, s, key, "must name a user; leave the key "
		    "out to keep the user that starts the daemon");
	else {
		config_set_string(ctx, &conf->user, v);
		config_set_where(ctx, &conf->user_at, s);
	}
}

static void
config_parse_admin_socket(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	const char	*v = config_setting_get_string(s);

	if (*v == '\0')
		config_report(ctx, s, key, "must not be empty");
	else if (*v != '/')
		config_report(ctx, s, key, "\"%s\" is not an absolute path", v);
	else if (strlen(v) > CONFIG_SUN_PATH_MAX)
		config_report(ctx, s, key, "is %zu bytes long; a socket path "
		    "holds at most %zu", strlen(v), CONFIG_SUN_PATH_MAX);
	else
		config_set_string(ctx, &conf->admin_socket, v);
}

static void
config_parse_metrics(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	const char	*v = config_setting_get_string(s), *why;

	if (*v == '\0') {
		config_set_string(ctx, &conf->metrics, NULL);
		conf->metrics_addrlen = 0;
		return;
	}
	why = config_parse_hostport(v, &conf->metrics_addr,
	    &conf->metrics_addrlen);
	if (why != NULL)
		config_report(ctx, s, key, "\"%s\": %s", v, why);
	else
		config_set_string(ctx, &conf->metrics, v);
}

static void
config_parse_max_connections(struct config_ctx *ctx,
    const config_setting_t *s, const char *key, void *obj)
{
	struct config	*conf = obj;

	if (config_check_range(ctx, s, key, 1, CONFIG_MAX_CONNECTIONS))
		conf->max_connections = config_setting_get_int(s);
}

static void
config_parse_buffer_budget(struct config_ctx *ctx,
    const config_setting_t *s, const char *key, void *obj)
{
	struct config	*conf = obj;

	if (config_check_range(ctx, s, key, CONFIG_MIN_BUFFER_BUDGET,
	    CONFIG_MAX_BUFFER_BUDGET))
		conf->buffer_budget_kib = config_setting_get_int(s);
}

static void
config_parse_pid_file(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	const char	*v = config_setting_get_string(s);

	if (*v != '\0' && *v != '/')
		config_report(ctx, s, key, "\"%s\" is not an absolute path", v);
	else
		config_set_string(ctx, &conf->pid_file, *v ? v : NULL);
}

static void
config_parse_log_level(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	const char	*v = config_setting_get_string(s);

	if (log_level_parse(v, &conf->log_level) < 0)
		config_report(ctx, s, key, "\"%s\" is not a log level; "
		    "expected error, warning, info or debug", v);
}

/* A CONFIG_KIND_NUMBER value: an integer or a float. */
static double
config_number(const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		return config_setting_get_float(s);
	return (double)config_setting_get_int64(s);
}

/*
 * A duration in seconds, more than 0 and at most max, stored in *out;
 * returns whether it was valid.
 */
static int
config_seconds(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, double max, double *out)
{
	const char	*big;
	double		 v;

	if ((big = config_int_too_big(ctx, s)) != NULL) {
		config_report(ctx, s, key, "must be more than 0 and at most "
		    "%g seconds, not %s", max, big);
		return 0;
	}
	v = config_number(s);
	if (!(v > 0 && v <= max)) {
		config_report(ctx, s, key, "must be more than 0 and at most "
		    "%g seconds, not %g", max, v);
		return 0;
	}
	*out = v;
	return 1;
}

static void
config_parse_shutdown_timeout(struct config_ctx *ctx,
    const config_setting_t *s, const char *key, void *obj)
{
	struct config	*conf = obj;

	config_seconds(ctx, s, key, CONFIG_MAX_SHUTDOWN_TIMEOUT,
	    &conf->shutdown_timeout);
}

static const struct config_key config_daemon_keys[] = {
	{ "user", CONFIG_KIND_STRING, config_parse_user },
	{ "admin_socket", CONFIG_KIND_STRING, config_parse_admin_socket },
	{ "metrics", CONFIG_KIND_STRING, config_parse_metrics },
	{ "max_connections", CONFIG_KIND_INT, config_parse_max_connections },
	{ "buffer_budget_kib", CONFIG_KIND_INT, config_parse_buffer_budget },
	{ "pid_file", CONFIG_KIND_STRING, config_parse_pid_file },
	{ "log_level", CONFIG_KIND_STRING, config_parse_log_level },
	{ "shutdown_timeout", CONFIG_KIND_NUMBER,
	    config_parse_shutdown_timeout },
};

static const struct config_group config_daemon_group = {
	"daemon", config_daemon_keys, ARRAY_SIZE(config_daemon_keys)
};

/*
 * topology = { ... }
 */

/* Checks one interface name the way the kernel's dev_valid_name() does. */
static const char *
config_check_ifname(const char *name)
{
	if (*name == '\0')
		return "an interface name must not be empty";
	if (strlen(name) > CONFIG_IFNAME_MAX)
		return "an interface name has at most 15 characters";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strpbrk(name, "/: \t\n\r\v\f") != NULL)
		return "not a valid interface name";
	return NULL;
}

static void
config_parse_interfaces(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config		*conf = obj;
	const config_setting_t	*e;
	const char		*v, *why;
	char			 ekey[CONFIG_KEY_MAX];
	int			 i, n = config_setting_length(s);

	strv_free(&conf->interfaces);
	if (n == 0)
		config_report(ctx, s, key, "must hold \"auto\" or interface "
		    "names");
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			config_report_type(ctx, e, ekey, CONFIG_KIND_STRING);
			continue;
		}
		v = config_setting_get_string(e);
		if (strcmp(v, "auto") == 0) {
			if (n > 1)
				config_report(ctx, e, ekey, "\"auto\" must be "
				    "the only entry");
		} else if ((why = config_check_ifname(v)) != NULL)
			config_report(ctx, e, ekey, "\"%s\": %s", v, why);
		else if (strv_contains(&conf->interfaces, v))
			config_report(ctx, e, ekey, "\"%s\" is listed twice",
			    v);
		else if (strv_add(&conf->interfaces, v) < 0)
			ctx->nomem = 1;
	}
}

/*
 * Parses a CPU list for key, whose valid values "what" describes.
 * Returns the set, or NULL after reporting what is wrong with the text.
 */
static struct cpuset *
config_cpu_list(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, const char *v, const char *what)
{
	struct cpuset	*set = NULL;
	int		 r;

	if ((r = cpuset_parse_list(v, &set)) == -ENOMEM)
		ctx->nomem = 1;
	else if (r == -ERANGE)
		config_report(ctx, s, key, "\"%s\": CPU numbers go up to %d",
		    v, CPUSET_MAX_CPUS - 1);
	else if (r < 0)
		config_report(ctx, s, key, "\"%s\" is not %s", v, what);
	return r < 0 ? NULL : set;
}

static void
config_parse_workers(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	struct cpuset	*set;
	const char	*v = config_setting_get_string(s);

	cpuset_free(conf->worker_cpus);
	conf->worker_cpus = NULL;
	config_set_where(ctx, &conf->workers_at, s);
	if (strcmp(v, "rx-queues") == 0)
		conf->workers = CONFIG_WORKERS_RX_QUEUES;
	else if (strcmp(v, "cpus") == 0)
		conf->workers = CONFIG_WORKERS_CPUS;
	else if ((set = config_cpu_list(ctx, s, key, v,
	    CONFIG_WORKERS_VALUES)) == NULL)
		return;
	else if (cpuset_empty(set)) {
		config_report(ctx, s, key, "\"%s\" is not %s", v,
		    CONFIG_WORKERS_VALUES);
		cpuset_free(set);
	} else {
		conf->workers = CONFIG_WORKERS_LIST;
		conf->worker_cpus = set;
	}
}

static void
config_parse_exclude_cpus(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	struct cpuset	*set;

	if ((set = config_cpu_list(ctx, s, key, config_setting_get_string(s),
	    "\"\" or a CPU list such as \"0,1\"")) == NULL)
		return;
	cpuset_free(conf->exclude_cpus);
	conf->exclude_cpus = set;
	config_set_where(ctx, &conf->exclude_at, s);
}

static void
config_parse_steering(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	const char	*v = config_setting_get_string(s);

	if (strcmp(v, "incoming-cpu") == 0)
		conf->steering = STEERING_INCOMING_CPU;
	else if (strcmp(v, "none") == 0)
		conf->steering = STEERING_NONE;
	else if (strcmp(v, "cbpf") == 0)
		conf->steering = STEERING_CBPF;
	else if (strcmp(v, "auto") == 0)
		conf->steering = STEERING_AUTO;
	else
		config_report(ctx, s, key, "\"%s\" is not a steering mode; "
		    "expected \"auto\", \"incoming-cpu\", \"cbpf\" or "
		    "\"none\"", v);
}

static void
config_parse_rescan_interval(struct config_ctx *ctx,
    const config_setting_t *s, const char *key, void *obj)
{
	struct config	*conf = obj;
	const char	*big;
	double		 v;

	if ((big = config_int_too_big(ctx, s)) != NULL) {
		config_report(ctx, s, key, "must be 0 (no rescan) or from %g "
		    "to %g seconds, not %s", CONFIG_MIN_RESCAN,
		    CONFIG_MAX_RESCAN, big);
		return;
	}
	v = config_number(s);
	if (v == 0 || (v >= CONFIG_MIN_RESCAN && v <= CONFIG_MAX_RESCAN))
		conf->rescan_interval = v;
	else
		config_report(ctx, s, key, "must be 0 (no rescan) or from %g "
		    "to %g seconds, not %g", CONFIG_MIN_RESCAN,
		    CONFIG_MAX_RESCAN, v);
}

static void
config_parse_irq_affinity(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config	*conf = obj;
	const char	*v = config_setting_get_string(s);

	if (strcmp(v, "keep") == 0)
		conf->irq_affinity = IRQ_AFFINITY_KEEP;
	else if (strcmp(v, "spread") == 0)
		conf->irq_affinity = IRQ_AFFINITY_SPREAD;
	else
		config_report(ctx, s, key, "\"%s\" is not an IRQ affinity "
		    "mode; expected \"keep\" or \"spread\"", v);
}

static const struct config_key config_topology_keys[] = {
	{ "interfaces", CONFIG_KIND_STRINGS, config_parse_interfaces },
	{ "workers", CONFIG_KIND_STRING, config_parse_workers },
	{ "exclude_cpus", CONFIG_KIND_STRING, config_parse_exclude_cpus },
	{ "steering", CONFIG_KIND_STRING, config_parse_steering },
	{ "irq_affinity", CONFIG_KIND_STRING, config_parse_irq_affinity },
	{ "rescan_interval", CONFIG_KIND_NUMBER,
	    config_parse_rescan_interval },
};

static const struct config_group config_topology_group = {
	"topology", config_topology_keys, ARRAY_SIZE(config_topology_keys)
};

/*
 * Listeners.
 */

static void
config_parse_name(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;
	const char		*v = config_setting_get_string(s);

	p->name_s = s;
	if (*v == '\0')
		config_report(ctx, s, key, "must not be empty");
	else {
		config_set_string(ctx, &p->l->name, v);
		p->name_ok = p->l->name != NULL;
	}
}

static void
config_parse_protocol(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;
	const char		*v = config_setting_get_string(s);

	p->protocol_ok = 1;
	if (strcmp(v, "tcp") == 0)
		p->l->protocol = LISTEN_TCP;
	else if (strcmp(v, "udp") == 0)
		p->l->protocol = LISTEN_UDP;
	else {
		config_report(ctx, s, key, "\"%s\" is not a protocol; "
		    "expected \"tcp\" or \"udp\"", v);
		p->protocol_ok = 0;
	}
}

static void
config_parse_address(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;
	const char		*v = config_setting_get_string(s);

	if (strcmp(v, "*") == 0)
		config_report(ctx, s, key, "\"*\" is not accepted; use "
		    "\"0.0.0.0\" for every IPv4 address or \"::\" for every "
		    "address");
	else if (config_resolve(v, 0, &p->l->addr, &p->l->addrlen) < 0)
		config_report(ctx, s, key, "\"%s\" is not an IPv4 or IPv6 "
		    "address (names are not resolved)", v);
	else {
		config_set_string(ctx, &p->l->address, v);
		p->address_ok = 1;
	}
}

static void
config_parse_port(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;

	if ((p->port_ok = config_check_range(ctx, s, key, 1, 65535)))
		p->l->port = (uint16_t)config_setting_get_int(s);
}

static void
config_parse_handler(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;
	const char		*v = config_setting_get_string(s);

	p->handler_s = s;
	if (ctx->handlers->find(v, &p->caps) < 0)
		config_report(ctx, s, key, "no handler is named \"%s\"; "
		    "expected echo, discard, info or http", v);
	else {
		config_set_string(ctx, &p->l->handler, v);
		p->handler_ok = p->l->handler != NULL;
	}
}

static void
config_parse_backlog(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;

	p->backlog_s = s;
	if (config_check_range(ctx, s, key, 1, 65535))
		p->l->backlog = config_setting_get_int(s);
}

static void
config_parse_defer_accept(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;

	p->defer_s = s;
	p->l->defer_accept = config_setting_get_bool(s) ? 1 : 0;
}

static void
config_parse_idle_timeout(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;

	p->idle_s = s;
	config_seconds(ctx, s, key, CONFIG_MAX_CONN_TIMEOUT,
	    &p->l->idle_timeout);
}

static void
config_parse_header_timeout(struct config_ctx *ctx,
    const config_setting_t *s, const char *key, void *obj)
{
	struct config_lparse	*p = obj;

	p->header_s = s;
	config_seconds(ctx, s, key, CONFIG_MAX_CONN_TIMEOUT,
	    &p->l->header_timeout);
}

static void
config_parse_v6only(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;

	p->v6only_s = s;
	p->l->v6only = config_setting_get_bool(s) ? 1 : 0;
}

static void
config_parse_body(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;

	config_set_string(ctx, &p->l->http_body, config_setting_get_string(s));
}

static const struct config_key config_http_keys[] = {
	{ "body", CONFIG_KIND_STRING, config_parse_body },
};

static const struct config_group config_http_group = {
	"http", config_http_keys, ARRAY_SIZE(config_http_keys)
};

static void
config_parse_http(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config_lparse	*p = obj;

	p->http_s = s;
	config_walk(ctx, s, key, &config_http_group, p);
}

static const struct config_key config_listener_keys[] = {
	{ "name", CONFIG_KIND_STRING, config_parse_name },
	{ "protocol", CONFIG_KIND_STRING, config_parse_protocol },
	{ "address", CONFIG_KIND_STRING, config_parse_address },
	{ "port", CONFIG_KIND_INT, config_parse_port },
	{ "handler", CONFIG_KIND_STRING, config_parse_handler },
	{ "backlog", CONFIG_KIND_INT, config_parse_backlog },
	{ "defer_accept", CONFIG_KIND_BOOL, config_parse_defer_accept },
	{ "v6only", CONFIG_KIND_BOOL, config_parse_v6only },
	{ "idle_timeout", CONFIG_KIND_NUMBER, config_parse_idle_timeout },
	{ "header_timeout", CONFIG_KIND_NUMBER, config_parse_header_timeout },
	{ "http", CONFIG_KIND_GROUP, config_parse_http },
};

static const struct config_group config_listener_group = {
	"listener", config_listener_keys, ARRAY_SIZE(config_listener_keys)
};

/* How a message names listener p: by its name when it has a valid one. */
static void
config_listener_name(const struct config_lparse *p, size_t i, char *buf,
    size_t len)
{
	if (p->name_ok)
		snprintf(buf, len, "listener \"%s\"", p->l->name);
	else
		snprintf(buf, len, "listeners[%zu]", i);
}

/*
 * Reports a required key that listener p lacks, at the listener's line.
 * A key that is there with a wrong type has been reported already.
 */
static void
config_listener_missing(struct config_ctx *ctx, const struct config_lparse *p,
    const char *name, const char *why)
{
	char	 key[CONFIG_KEY_MAX];

	if (config_setting_get_member(p->group, name) != NULL)
		return;
	config_join(key, sizeof(key), p->key, name);
	config_report(ctx, p->group, key, "missing; %s", why);
}

/* Checks listener i's name and address against the listeners before it. */
static void
config_listener_unique(struct config_ctx *ctx, struct config_lparse *lp,
    size_t i)
{
	struct config_lparse	*p = &lp[i], *q;
	struct listener_conf	*l = p->l;
	char			 key[CONFIG_KEY_MAX], other[CONFIG_KEY_MAX];
	const char		*file;
	unsigned int		 line;
	size_t			 j;

	config_join(key, sizeof(key), p->key, "name");
	for (j = 0, q = lp; p->name_ok && j < i; j++, q++)
		if (q->name_ok && strcmp(q->l->name, l->name) == 0) {
			file = config_source(ctx, q->name_s, &line);
			config_report(ctx, p->name_s, key, "\"%s\" is already "
			    "the name of listeners[%zu] at %s:%u", l->name, j,
			    file, line);
			break;
		}
	if (!p->protocol_ok || !p->address_ok || !p->port_ok)
		return;
	for (j = 0, q = lp; j < i; j++, q++) {
		if (!q->protocol_ok || !q->address_ok || !q->port_ok ||
		    q->l->protocol != l->protocol ||
		    q->l->addrlen != l->addrlen ||
		    memcmp(&q->l->addr, &l->addr, l->addrlen) != 0)
			continue;
		config_listener_name(q, j, other, sizeof(other));
		file = config_source(ctx, q->group, &line);
		config_report(ctx, p->group, p->key, "duplicates %s at %s:%u "
		    "(same protocol, address and port)", other, file, line);
		break;
	}
}

/*
 * Checks what only the whole listener shows (required keys, keys that do
 * not apply to it) and fills in the defaults of the keys it left out.
 */
static void
config_listener_check(struct config_ctx *ctx, struct config_lparse *p)
{
	struct listener_conf	*l = p->l;
	char			 key[CONFIG_KEY_MAX];

	config_listener_missing(ctx, p, "name", "every listener needs a "
	    "unique name");
	config_listener_missing(ctx, p, "port", "every listener needs a port");
	config_listener_missing(ctx, p, "handler", "every listener needs a "
	    "handler: echo, discard, info or http");
	if (p->handler_ok && p->protocol_ok &&
	    !(l->protocol == LISTEN_TCP ? p->caps.tcp : p->caps.udp)) {
		config_join(key, sizeof(key), p->key, "handler");
		config_report(ctx, p->handler_s, key, "handler \"%s\" does "
		    "not serve %s", l->handler, listen_proto_name(l->protocol));
	}
	if (p->backlog_s != NULL && p->protocol_ok &&
	    l->protocol == LISTEN_UDP) {
		config_join(key, sizeof(key), p->key, "backlog");
		config_report(ctx, p->backlog_s, key, "applies to tcp "
		    "listeners only");
	}
	if (p->defer_s != NULL && p->protocol_ok &&
	    l->protocol == LISTEN_UDP) {
		config_join(key, sizeof(key), p->key, "defer_accept");
		config_report(ctx, p->defer_s, key, "applies to tcp "
		    "listeners only");
	} else if (l->defer_accept && p->handler_ok && p->caps.speaks_first) {
		config_join(key, sizeof(key), p->key, "defer_accept");
		config_report(ctx, p->defer_s, key, "handler \"%s\" writes "
		    "first, so its clients send nothing that accepting could "
		    "wait for", l->handler);
	}
	if (p->v6only_s != NULL && p->address_ok &&
	    l->addr.ss_family != AF_INET6) {
		config_join(key, sizeof(key), p->key, "v6only");
		config_report(ctx, p->v6only_s, key, "applies to IPv6 "
		    "addresses only");
	}
	if (p->http_s != NULL && p->handler_ok &&
	    strcmp(l->handler, "http") != 0) {
		config_join(key, sizeof(key), p->key, "http");
		config_report(ctx, p->http_s, key, "applies to handler "
		    "\"http\" only");
	}
	if (p->idle_s != NULL && p->protocol_ok &&
	    l->protocol == LISTEN_UDP) {
		config_join(key, sizeof(key), p->key, "idle_timeout");
		config_report(ctx, p->idle_s, key, "applies to tcp "
		    "listeners only");
	}
	if (p->header_s != NULL && p->handler_ok &&
	    strcmp(l->handler, "http") != 0) {
		config_join(key, sizeof(key), p->key, "header_timeout");
		config_report(ctx, p->header_s, key, "applies to handler "
		    "\"http\" only");
	}

	if (config_setting_get_member(p->group, "address") == NULL) {
		config_set_string(ctx, &l->address, CONFIG_DEFAULT_ADDRESS);
		p->address_ok = config_resolve(CONFIG_DEFAULT_ADDRESS, 0,
		    &l->addr, &l->addrlen) == 0;
	}
	if (p->address_ok && p->port_ok) {
		if (l->addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&l->addr)->sin6_port =
			    htons(l->port);
		else
			((struct sockaddr_in *)&l->addr)->sin_port =
			    htons(l->port);
	}
	if (p->backlog_s == NULL && l->protocol == LISTEN_TCP)
		l->backlog = CONFIG_DEFAULT_BACKLOG;
	if (p->idle_s == NULL && l->protocol == LISTEN_TCP)
		l->idle_timeout = CONFIG_DEFAULT_IDLE_TIMEOUT;
	if (p->handler_ok && strcmp(l->handler, "http") == 0 &&
	    p->header_s == NULL)
		l->header_timeout = CONFIG_DEFAULT_HEADER_TIMEOUT;
	if (p->handler_ok && strcmp(l->handler, "http") == 0 &&
	    l->http_body == NULL)
		config_set_string(ctx, &l->http_body, CONFIG_DEFAULT_HTTP_BODY);
}

static void
config_parse_listener(struct config_ctx *ctx, const config_setting_t *s,
    struct config_lparse *lp, size_t i)
{
	struct config_lparse	*p = &lp[i];
	const config_setting_t	*name;
	const char		*v;

	snprintf(p->key, sizeof(p->key), "listeners[%zu]", i);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		config_report_type(ctx, s, p->key, CONFIG_KIND_GROUP);
		return;
	}
	name = config_setting_get_member(s, "name");
	if (name != NULL && config_setting_type(name) == CONFIG_TYPE_STRING &&
	    *(v = config_setting_get_string(name)) != '\0')
		snprintf(p->key, sizeof(p->key), "listeners[%zu] (\"%s\")", i,
		    v);
	p->group = s;
	p->l->protocol = LISTEN_TCP;
	p->l->v6only = -1;
	p->protocol_ok = config_setting_get_member(s, "protocol") == NULL;
	config_walk(ctx, s, p->key, &config_listener_group, p);
	config_listener_check(ctx, p);
	config_listener_unique(ctx, lp, i);
}

static void
config_free_listeners(struct listener_conf *ls, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(ls[i].name);
		free(ls[i].address);
		free(ls[i].handler);
		free(ls[i].http_body);
	}
	free(ls);
}

static void
config_parse_listeners(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config		*conf = obj;
	struct config_lparse	*lp;
	struct listener_conf	*ls;
	size_t			 i, n = (size_t)config_setting_length(s);

	if (n == 0) {
		config_report(ctx, s, key, "must hold at least one listener");
		return;
	}
	if (n > CONFIG_MAX_LISTENERS) {
		config_report(ctx, s, key, "holds %zu listeners; at most %d "
		    "can be served", n, CONFIG_MAX_LISTENERS);
		return;
	}
	ls = calloc(n, sizeof(*ls));
	lp = calloc(n, sizeof(*lp));
	if (ls == NULL || lp == NULL) {
		ctx->nomem = 1;
		free(ls);
		free(lp);
		return;
	}
	config_free_listeners(conf->listeners, conf->nlisteners);
	conf->listeners = ls;
	conf->nlisteners = n;
	for (i = 0; i < n; i++) {
		lp[i].l = &ls[i];
		config_parse_listener(ctx,
		    config_setting_get_elem(s, (unsigned int)i), lp, i);
	}
	free(lp);
}

/*
 * The top level.
 */

static void
config_parse_daemon(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	config_walk(ctx, s, key, &config_daemon_group, obj);
}

static void
config_parse_topology(struct config_ctx *ctx, const config_setting_t *s,
    const char *key, void *obj)
{
	struct config		*conf = obj;
	const config_setting_t	*ex;
	struct cpuset		*left;

	config_walk(ctx, s, key, &config_topology_group, obj);

	/* A worker list that exclude_cpus empties would start no worker. */
	if (conf->worker_cpus == NULL || cpuset_empty(conf->exclude_cpus) ||
	    (ex = config_setting_get_member(s, "exclude_cpus")) == NULL)
		return;
	if ((left = cpuset_dup(conf->worker_cpus)) == NULL) {
		ctx->nomem = 1;
		return;
	}
	cpuset_andnot(left, conf->exclude_cpus);
	if (cpuset_empty(left))
		config_report(ctx, ex, "topology.exclude_cpus", "excludes "
		    "every CPU of topology.workers (\"%s\")",
		    config_setting_get_string(
		    config_setting_get_member(s, "workers")));
	cpuset_free(left);
}

static const struct config_key config_top_keys[] = {
	{ "daemon", CONFIG_KIND_GROUP, config_parse_daemon },
	{ "topology", CONFIG_KIND_GROUP, config_parse_topology },
	{ "listeners", CONFIG_KIND_LIST, config_parse_listeners },
};

static const struct config_group config_top_group = {
	NULL, config_top_keys, ARRAY_SIZE(config_top_keys)
};

/*
 * Defaults, loading and freeing.
 */

static const struct {
	const char		*name;
	enum listen_proto	 protocol;
	uint16_t		 port;
	const char		*handler;
} config_default_listeners[] = {
	{ "echo", LISTEN_TCP, 7777, "echo" },
	{ "echo-udp", LISTEN_UDP, 7777, "echo" },
	{ "info", LISTEN_TCP, 7778, "info" },
	{ "info-udp", LISTEN_UDP, 7778, "info" },
	{ "http", LISTEN_TCP, 8080, "http" },
};

static int
config_defaults_listeners(struct config *conf)
{
	struct listener_conf	*l;
	size_t			 i, n = ARRAY_SIZE(config_default_listeners);

	if ((conf->listeners = calloc(n, sizeof(*l))) == NULL)
		return -ENOMEM;
	conf->nlisteners = n;
	for (i = 0; i < n; i++) {
		l = &conf->listeners[i];
		l->protocol = config_default_listeners[i].protocol;
		l->port = config_default_listeners[i].port;
		l->backlog = l->protocol == LISTEN_TCP ?
		    CONFIG_DEFAULT_BACKLOG : 0;
		l->idle_timeout = l->protocol == LISTEN_TCP ?
		    CONFIG_DEFAULT_IDLE_TIMEOUT : 0;
		l->v6only = -1;
		if ((l->name = strdup(config_default_listeners[i].name)) ==
		    NULL || (l->address = strdup(CONFIG_DEFAULT_ADDRESS)) ==
		    NULL || (l->handler =
		    strdup(config_default_listeners[i].handler)) == NULL)
			return -ENOMEM;
		if (strcmp(l->handler, "http") == 0 && (l->http_body =
		    strdup(CONFIG_DEFAULT_HTTP_BODY)) == NULL)
			return -ENOMEM;
		if (strcmp(l->handler, "http") == 0)
			l->header_timeout = CONFIG_DEFAULT_HEADER_TIMEOUT;
		if (config_resolve(l->address, l->port, &l->addr,
		    &l->addrlen) < 0)
			return -EINVAL;
	}
	return 0;
}

struct config *
config_defaults(void)
{
	struct config	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return NULL;
	conf->max_connections = 10000;
	conf->buffer_budget_kib = CONFIG_DEFAULT_BUFFER_BUDGET;
	conf->log_level = LOG_LEVEL_INFO;
	conf->shutdown_timeout = 10.0;
	conf->workers = CONFIG_WORKERS_RX_QUEUES;
	conf->steering = STEERING_AUTO;
	conf->irq_affinity = IRQ_AFFINITY_KEEP;
	conf->rescan_interval = 5.0;
	if ((conf->admin_socket = strdup(config_default_admin_socket())) ==
	    NULL || (conf->exclude_cpus = cpuset_new()) == NULL ||
	    config_defaults_listeners(conf) < 0) {
		config_free(conf);
		return NULL;
	}
	return conf;
}

/*
 * Checks the worker CPUs against the CPUs this host lets the daemon use
 * (allowed): a list of which none is usable, or an exclude_cpus that
 * leaves none, would pass the file's checks and start no worker.  Adds
 * "FILE:LINE: KEY: what is wrong" to errors; returns -1 when it did.
 */
int
config_check_cpus(const struct config *conf, const struct cpuset *allowed,
    struct strv *errors)
{
	struct cpuset	*usable;
	const char	*file = conf->path ? conf->path : "built-in defaults";
	char		*have = NULL, *list = NULL;
	int		 r = -ENOMEM;

	if ((usable = cpuset_dup(allowed)) == NULL ||
	    (have = cpuset_format_list(allowed)) == NULL)
		goto out;
	cpuset_andnot(usable, conf->exclude_cpus);
	if (cpuset_empty(usable)) {
		if (strv_addf(errors, "%s: topology.exclude_cpus: leaves no "
		    "CPU that this host lets the daemon use (%s)",
		    conf->exclude_at ? conf->exclude_at : file, have) == 0)
			r = -1;
		goto out;
	}
	r = 0;
	if (conf->worker_cpus == NULL)
		goto out;
	cpuset_and(usable, conf->worker_cpus);
	if (!cpuset_empty(usable))
		goto out;
	r = -ENOMEM;
	if ((list = cpuset_format_list(conf->worker_cpus)) != NULL &&
	    strv_addf(errors, "%s: topology.workers: none of CPUs %s is one "
	    "that this host lets the daemon use (%s%s)", conf->workers_at ?
	    conf->workers_at : file, list, have,
	    cpuset_empty(conf->exclude_cpus) ? "" : ", less exclude_cpus") == 0)
		r = -1;
out:
	free(list);
	free(have);
	cpuset_free(usable);
	return r;
}

/*
 * daemon.user must name a user of this host: the workers switch to it, and
 * the master looks it up before it starts any (and keeps the one it
 * started with on reload, which must still name a user).
 */
static int
config_check_user(const struct config *conf, struct strv *errors)
{
	const char	*where;

	if (conf->user == NULL)
		return 0;
	where = conf->user_at ? conf->user_at :
	    conf->path ? conf->path : "built-in defaults";
	errno = 0;
	if (getpwnam(conf->user) != NULL)
		return 0;
	if (errno != 0 && errno != ENOENT && errno != ESRCH)
		return strv_addf(errors, "%s: daemon.user: cannot look up "
		    "\"%s\": %s", where, conf->user, strerror(errno)) < 0 ?
		    -ENOMEM : -1;
	return strv_addf(errors, "%s: daemon.user: no such user \"%s\" on "
	    "this host; create it (the package does, with systemd-sysusers) "
	    "or leave the key out to keep the user that starts the daemon",
	    where, conf->user) < 0 ? -ENOMEM : -1;
}

/*
 * config_check_cpus() against the CPUs this host lets the daemon use (when
 * they cannot be read, the start says so: nothing to check here), and
 * config_check_user().
 */
int
config_check_host(const struct config *conf, struct strv *errors)
{
	struct cpuset	*allowed;
	int		 r = 0, ru;

	ru = config_check_user(conf, errors);
	if (cpuset_allowed(NULL, &allowed) == 0) {
		r = config_check_cpus(conf, allowed, errors);
		cpuset_free(allowed);
	}
	if (r == -ENOMEM || ru == -ENOMEM)
		strv_addf(errors, "%s", strerror(ENOMEM));
	return r < 0 || ru < 0 ? -1 : 0;
}

unsigned long long
config_worker_nofile(const struct config *conf)
{
	return (unsigned long long)conf->max_connections + conf->nlisteners +
	    CONFIG_NOFILE_SPARE;
}

void
config_free(struct config *conf)
{
	if (conf == NULL)
		return;
	free(conf->path);
	free(conf->user);
	free(conf->user_at);
	free(conf->admin_socket);
	free(conf->metrics);
	free(conf->pid_file);
	strv_free(&conf->interfaces);
	cpuset_free(conf->worker_cpus);
	cpuset_free(conf->exclude_cpus);
	free(conf->workers_at);
	free(conf->exclude_at);
	config_free_listeners(conf->listeners, conf->nlisteners);
	free(conf);
}

/*
 * Reads the file for libconfig: config_file.c reads it and every file it
 * includes, once each, and gives one text with no @include left, which
 * libconfig then reads as a string: what it parses is what was checked.
 */
static int
config_read_checked(config_t *cfg, const char *path, struct config_file *cf,
    struct strv *errors)
{
	if (config_file_read(path, cf, errors) < 0)
		return -1;
	return config_read_string(cfg, cf->text) == CONFIG_TRUE ? 0 : -1;
}

/* Reports why libconfig could not read the file. */
static void
config_report_read(struct config_ctx *ctx, const config_t *cfg)
{
	const char	*file, *text;
	unsigned int	 line;

	file = config_where(ctx, (unsigned int)config_error_line(cfg), &line);
	text = config_error_text(cfg);
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO && line == 0)
		config_report_at(ctx, file, 0, NULL, "%s", text);
	else if (strcmp(text, "syntax error") == 0)
		config_report_at(ctx, file, line, NULL, "syntax error");
	else
		config_report_at(ctx, file, line, NULL, "syntax error: %s",
		    text);
}

/*
 * Reads path into *confp, each listener's handler looked up through
 * handlers.  host: then checks against this host the keys that were
 * valid, also when others were not.  partial: on an error *confp is
 * still set, to the valid keys (defaults for the others) or NULL.
 */
static int
config_load_with(const char *path, const struct config_handlers *handlers,
    struct config **confp, struct strv *errors, int host, int partial)
{
	struct config_ctx	 ctx = { .path = path, .errors = errors,
				    .handlers = handlers };
	struct config		*conf = NULL;
	config_t		 cfg;
	size_t			 first = errors != NULL ? errors->n : 0;

	config_init(&cfg);
	config_set_auto_convert(&cfg, CONFIG_TRUE);
	if (config_read_checked(&cfg, path, &ctx.file, errors) < 0) {
		if (config_error_type(&cfg) == CONFIG_ERR_NONE)
			ctx.nerrors++;		/* config_file.c's */
		else
			config_report_read(&ctx, &cfg);
		goto done;
	}
	if ((conf = config_defaults()) == NULL ||
	    (conf->path = strdup(path)) == NULL) {
		ctx.nomem = 1;
		goto done;
	}
	config_walk(&ctx, config_root_setting(&cfg), NULL, &config_top_group,
	    conf);
	config_report_ints(&ctx);
	if (host && !ctx.nomem && errors != NULL &&
	    config_check_host(conf, errors) < 0)
		ctx.nerrors++;
done:
	config_destroy(&cfg);
	config_file_free(&ctx.file);
	/* Errors quote the file, which may hold any bytes. */
	if (errors != NULL && strv_printable(errors, first) < 0)
		ctx.nomem = 1;
	if (ctx.nomem && errors != NULL)
		config_report_at(&ctx, path, 0, NULL, "%s", strerror(ENOMEM));
	if (ctx.nerrors > 0 || ctx.nomem) {
		if (partial && !ctx.nomem) {
			*confp = conf;
			return -1;
		}
		config_free(conf);
		if (partial)
			*confp = NULL;
		return -1;
	}
	*confp = conf;
	return 0;
}

int
config_load(const char *path, const struct config_handlers *handlers,
    struct config **confp, struct strv *errors)
{
	return config_load_with(path, handlers, confp, errors, 0, 0);
}

int
config_load_host(const char *path, const struct config_handlers *handlers,
    struct config **confp, struct strv *errors)
{
	return config_load_with(path, handlers, confp, errors, 1, 0);
}

int
config_load_host_partial(const char *path,
    const struct config_handlers *handlers, struct config **confp,
    struct strv *errors)
{
	return config_load_with(path, handlers, confp, errors, 1, 1);
}

/*
 * The admin socket a file names, read even when the rest of the file is
 * invalid, so "affinityd reload" can reach the daemon and have it report
 * the errors.  NULL when the file cannot be parsed at all; the default
 * socket without a file.
 */
char *
config_peek_admin_socket(const char *path)
{
	struct config_file	 cf;
	config_t		 cfg;
	const char		*value = NULL;
	char			*copy = NULL;

	if (path == NULL)
		return strdup(config_default_admin_socket());
	config_init(&cfg);
	if (config_read_checked(&cfg, path, &cf, NULL) == 0) {
		if (config_lookup_string(&cfg, "daemon.admin_socket", &value) ==
		    CONFIG_TRUE && value[0] == '/')
			copy = strdup(value);
		else
			copy = strdup(config_default_admin_socket());
	}
	config_destroy(&cfg);
	config_file_free(&cf);
	return copy;
}
