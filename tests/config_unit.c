/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of config.c: the built-in defaults, the shipped file, files
 * that set keys, and one fixture per kind of mistake, each checked for
 * the exact "FILE:LINE: KEY: message" lines that a user reads.
 */
#include "acconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"

#include "config/config.h"
#include "config/config_file.h"
#include "common/cpuset.h"
#include "worker/handler.h"

#define FIXTURE_DIR	UNIT_SRCPATH("tests/fixtures/conf")
#define FIXTURE(name)	FIXTURE_DIR "/" name

/* Anything but NULL: config_load must leave it alone when it fails. */
static struct config *const untouched = (struct config *)&untouched;

static struct config *
load_ok(const char *path)
{
	struct config	*conf = NULL;
	struct strv	 errors = { 0 };
	size_t		 i;
	int		 r;

	r = config_load(path, &handler_catalogue, &conf, &errors);
	for (i = 0; i < errors.n; i++)
		print_message("unexpected: %s\n", errors.v[i]);
	assert_int_equal(r, 0);
	assert_int_equal(errors.n, 0);
	assert_non_null(conf);
	assert_string_equal(conf->path, path);
	strv_free(&errors);
	return conf;
}

static void
assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void
assert_cpus(const struct cpuset *set, const char *list)
{
	char	*text;

	assert_non_null(set);
	assert_non_null(text = cpuset_format_list(set));
	assert_string_equal(text, list);
	free(text);
}

/* The socket address holds text and port, and nothing else. */
static void
assert_sockaddr(const struct sockaddr_storage *ss, socklen_t len,
    const char *text, uint16_t port)
{
	struct sockaddr_storage	 want;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&want;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&want;

	memset(&want, 0, sizeof(want));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(len, sizeof(*sin));
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		assert_int_equal(len, sizeof(*sin6));
	}
	assert_memory_equal(ss, &want, len);
}

static void
assert_listener(const struct listener_conf *l, const char *name,
    enum listen_proto protocol, const char *address, uint16_t port,
    const char *handler, int backlog, int v6only, const char *body)
{
	assert_string_equal(l->name, name);
	assert_int_equal(l->protocol, protocol);
	assert_string_equal(l->address, address);
	assert_int_equal(l->port, port);
	assert_string_equal(l->handler, handler);
	assert_int_equal(l->backlog, backlog);
	assert_int_equal(l->v6only, v6only);
	assert_str_or_null(l->http_body, body);
	assert_sockaddr(&l->addr, l->addrlen, address, port);
}

/* Every field but the path is the same. */
static void
assert_config_equal(const struct config *a, const struct config *b)
{
	size_t	 i;

	assert_str_or_null(a->user, b->user);
	assert_str_or_null(a->admin_socket, b->admin_socket);
	assert_str_or_null(a->metrics, b->metrics);
	assert_int_equal(a->max_connections, b->max_connections);
	assert_str_or_null(a->pid_file, b->pid_file);
	assert_int_equal(a->log_level, b->log_level);
	assert_true(a->shutdown_timeout == b->shutdown_timeout);
	assert_int_equal(a->interfaces.n, b->interfaces.n);
	for (i = 0; i < a->interfaces.n; i++)
		assert_string_equal(a->interfaces.v[i], b->interfaces.v[i]);
	assert_int_equal(a->workers, b->workers);
	assert_true((a->worker_cpus == NULL) == (b->worker_cpus == NULL));
	if (a->worker_cpus != NULL)
		assert_true(cpuset_equal(a->worker_cpus, b->worker_cpus));
	assert_true(cpuset_equal(a->exclude_cpus, b->exclude_cpus));
	assert_int_equal(a->steering, b->steering);
	assert_int_equal(a->irq_affinity, b->irq_affinity);
	assert_true(a->rescan_interval == b->rescan_interval);
	assert_int_equal(a->nlisteners, b->nlisteners);
	for (i = 0; i < a->nlisteners; i++)
		assert_listener(&a->listeners[i], b->listeners[i].name,
		    b->listeners[i].protocol, b->listeners[i].address,
		    b->listeners[i].port, b->listeners[i].handler,
		    b->listeners[i].backlog, b->listeners[i].v6only,
		    b->listeners[i].http_body);
}

/* The defaults of DESIGN.md, less the user. */
static void
test_defaults(void **state)
{
	struct config	*conf;
	char		 sock[128];

	(void)state;
	assert_non_null(conf = config_defaults());
	assert_null(conf->path);
	assert_null(conf->user);
	assert_int_equal(config_admin_socket_path(geteuid(), sock,
	    sizeof(sock)), 0);
	assert_string_equal(conf->admin_socket, sock);
	assert_string_equal(conf->admin_socket, config_default_admin_socket());
	if (geteuid() == 0)
		assert_string_equal(conf->admin_socket,
		    "/run/affinityd/admin.sock");
	assert_null(conf->metrics);
	assert_int_equal(conf->metrics_addrlen, 0);
	assert_int_equal(conf->max_connections, 10000);
	assert_int_equal(conf->buffer_budget_kib, 65536);
	assert_null(conf->pid_file);
	assert_int_equal(conf->log_level, LOG_LEVEL_INFO);
	assert_true(conf->shutdown_timeout == 10.0);
	assert_int_equal(conf->interfaces.n, 0);
	assert_int_equal(conf->workers, CONFIG_WORKERS_RX_QUEUES);
	assert_null(conf->worker_cpus);
	assert_non_null(conf->exclude_cpus);
	assert_true(cpuset_empty(conf->exclude_cpus));
	assert_int_equal(conf->steering, STEERING_AUTO);
	assert_int_equal(conf->irq_affinity, IRQ_AFFINITY_KEEP);
	assert_true(conf->rescan_interval == 5.0);
	assert_int_equal(conf->nlisteners, 5);
	assert_listener(&conf->listeners[0], "echo", LISTEN_TCP, "127.0.0.1",
	    7777, "echo", 4096, -1, NULL);
	assert_listener(&conf->listeners[1], "echo-udp", LISTEN_UDP,
	    "127.0.0.1", 7777, "echo", 0, -1, NULL);
	assert_listener(&conf->listeners[2], "info", LISTEN_TCP, "127.0.0.1",
	    7778, "info", 4096, -1, NULL);
	assert_listener(&conf->listeners[3], "info-udp", LISTEN_UDP,
	    "127.0.0.1", 7778, "info", 0, -1, NULL);
	assert_listener(&conf->listeners[4], "http", LISTEN_TCP, "127.0.0.1",
	    8080, "http", 4096, -1, "ok\n");
	assert_true(conf->listeners[0].idle_timeout == 60.0);
	assert_true(conf->listeners[0].header_timeout == 0);
	assert_true(conf->listeners[1].idle_timeout == 0);
	assert_true(conf->listeners[4].idle_timeout == 60.0);
	assert_true(conf->listeners[4].header_timeout == 60.0);
	config_free(conf);
}

/* Runs config_admin_socket_path with XDG_RUNTIME_DIR set to xdg. */
static void
assert_admin_socket(uid_t euid, const char *xdg, const char *want)
{
	char	 buf[sizeof(((struct sockaddr_un *)NULL)->sun_path)];

	if (xdg != NULL)
		assert_int_equal(setenv("XDG_RUNTIME_DIR", xdg, 1), 0);
	else
		assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
	assert_int_equal(config_admin_socket_path(euid, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void
test_admin_socket(void **state)
{
	const char	*saved = getenv("XDG_RUNTIME_DIR");
	char		*copy = saved ? strdup(saved) : NULL, small[8];
	char		 longdir[100];

	(void)state;
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';

	assert_admin_socket(0, "/run/user/0", "/run/affinityd/admin.sock");
	assert_admin_socket(0, NULL, "/run/affinityd/admin.sock");
	assert_admin_socket(1000, "/run/user/1000",
	    "/run/user/1000/affinityd.sock");
	assert_admin_socket(1000, NULL, "/tmp/affinityd-1000/admin.sock");
	assert_admin_socket(1000, "", "/tmp/affinityd-1000/admin.sock");
	assert_admin_socket(1000, "run/user/1000", "/tmp/affinityd-1000/admin.sock");
	assert_admin_socket(1000, longdir, "/tmp/affinityd-1000/admin.sock");
	assert_int_equal(config_admin_socket_path(1000, small, sizeof(small)),
	    -ENAMETOOLONG);

	if (copy != NULL)
		setenv("XDG_RUNTIME_DIR", copy, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(copy);
}

/* The shipped file is the defaults but for what its comments point out. */
static void
test_shipped(void **state)
{
	struct config	*conf, *def;

	(void)state;
	conf = load_ok(UNIT_SRCPATH("conf/affinityd.conf"));
	assert_non_null(def = config_defaults());

	/* "Built-in default: none": it drops to a user of its own. */
	assert_string_equal(conf->user, "affinityd");
	/* The system path, which is the default for root only. */
	assert_string_equal(conf->admin_socket, "/run/affinityd/admin.sock");
	/* For the SysV init script; not used without --daemon. */
	assert_string_equal(conf->pid_file, "/run/affinityd.pid");

	free(conf->pid_file);
	conf->pid_file = NULL;
	free(conf->user);
	conf->user = NULL;
	free(conf->admin_socket);
	assert_non_null(conf->admin_socket = strdup(def->admin_socket));
	assert_config_equal(conf, def);
	config_free(def);
	config_free(conf);
}

static void
test_empty_file(void **state)
{
	struct config	*conf, *def;

	(void)state;
	conf = load_ok(FIXTURE("good-empty.conf"));
	assert_non_null(def = config_defaults());
	assert_config_equal(conf, def);
	config_free(def);
	config_free(conf);
}

static void
test_every_key(void **state)
{
	struct config	*conf;

	(void)state;
	conf = load_ok(FIXTURE("good-all.conf"));
	assert_string_equal(conf->user, "nobody");
	assert_string_equal(conf->admin_socket,
	    "/var/tmp/affinityd/admin.sock");
	assert_string_equal(conf->metrics, "[::1]:9477");
	assert_sockaddr(&conf->metrics_addr, conf->metrics_addrlen, "::1",
	    9477);
	assert_int_equal(conf->max_connections, 500);
	assert_int_equal(conf->buffer_budget_kib, 1024);
	assert_string_equal(conf->pid_file, "/run/affinityd.pid");
	assert_int_equal(conf->log_level, LOG_LEVEL_DEBUG);
	assert_true(conf->shutdown_timeout == 2.5);
	assert_int_equal(conf->interfaces.n, 2);
	assert_string_equal(conf->interfaces.v[0], "eth0");
	assert_string_equal(conf->interfaces.v[1], "eth1");
	assert_int_equal(conf->workers, CONFIG_WORKERS_LIST);
	assert_cpus(conf->worker_cpus, "2-5,8");
	assert_cpus(conf->exclude_cpus, "3");
	assert_int_equal(conf->steering, STEERING_NONE);
	assert_int_equal(conf->irq_affinity, IRQ_AFFINITY_SPREAD);
	assert_true(conf->rescan_interval == 0);
	assert_int_equal(conf->nlisteners, 2);
	assert_listener(&conf->listeners[0], "web", LISTEN_TCP, "::", 80,
	    "http", 128, 1, "hello\n");
	assert_int_equal(conf->listeners[0].defer_accept, 1);
	assert_int_equal(conf->listeners[1].defer_accept, 0);
	assert_true(conf->listeners[0].idle_timeout == 5.0);
	assert_true(conf->listeners[0].header_timeout == 2.5);
	assert_true(conf->listeners[1].idle_timeout == 0);
	assert_true(conf->listeners[1].header_timeout == 0);
	assert_listener(&conf->listeners[1], "sink", LISTEN_UDP, "0.0.0.0",
	    5353, "discard", 0, -1, NULL);
	config_free(conf);
}

/* libconfig 1.5 reads "30" as an integer; a number of seconds takes it. */
static void
test_int_for_float(void **state)
{
	struct config	*conf;

	(void)state;
	conf = load_ok(FIXTURE("good-int-float.conf"));
	assert_true(conf->shutdown_timeout == 30.0);
	assert_int_equal(conf->max_connections, 10000);
	config_free(conf);
}

/* A listener's optional keys take their defaults; "auto" is no list. */
static void
test_listener_defaults(void **state)
{
	struct config	*conf;

	(void)state;
	conf = load_ok(FIXTURE("good-listener-defaults.conf"));
	assert_int_equal(conf->workers, CONFIG_WORKERS_CPUS);
	assert_null(conf->worker_cpus);
	assert_int_equal(conf->interfaces.n, 0);
	assert_cpus(conf->exclude_cpus, "0");
	assert_int_equal(conf->nlisteners, 2);
	assert_listener(&conf->listeners[0], "web", LISTEN_TCP, "127.0.0.1",
	    8000, "http", 4096, -1, "ok\n");
	assert_listener(&conf->listeners[1], "v6", LISTEN_TCP, "::1", 8001,
	    "echo", 4096, 0, NULL);
	assert_true(conf->listeners[0].idle_timeout == 60.0);
	assert_true(conf->listeners[0].header_timeout == 60.0);
	assert_true(conf->listeners[1].idle_timeout == 60.0);
	assert_true(conf->listeners[1].header_timeout == 0);
	config_free(conf);
}

/* The shipped file and the man page describe every key. */
static void
test_every_key_documented(void **state)
{
	static const char *const keys[] = {
		"user", "admin_socket", "metrics", "max_connections",
		"pid_file", "log_level", "shutdown_timeout", "interfaces",
		"workers", "exclude_cpus", "steering", "irq_affinity",
		"rescan_interval", "name",
		"protocol", "address", "port", "handler", "backlog", "v6only",
		"defer_accept", "http", "body", "buffer_budget_kib",
		"idle_timeout", "header_timeout",
	};
	char		*conf, *man, *want;
	size_t		 i;

	(void)state;
	assert_int_equal(read_file(UNIT_SRCPATH("conf/affinityd.conf"), &conf,
	    1 << 20), 0);
	assert_int_equal(read_file(UNIT_SRCPATH("conf/affinityd.conf.5"), &man,
	    1 << 20), 0);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		assert_true(asprintf(&want, " %s = ", keys[i]) > 0);
		if (strstr(conf, want) == NULL)
			fail_msg("conf/affinityd.conf lacks \"%s\"", want);
		free(want);
		assert_true(asprintf(&want, "\n.BR %s \"", keys[i]) > 0);
		if (strstr(man, want) == NULL)
			fail_msg("conf/affinityd.conf.5 lacks \"%s\"",
			    want + 1);
		free(want);
	}
	free(conf);
	free(man);
}

/* The file cannot be read: its name and why, and no line. */
static void
assert_unreadable(const char *path, const char *why)
{
	struct config	*conf = untouched;
	struct strv	 errors = { 0 };
	char		*want;

	assert_int_equal(config_load(path, &handler_catalogue, &conf,
	    &errors), -1);
	assert_ptr_equal(conf, untouched);
	assert_int_equal(errors.n, 1);
	assert_true(asprintf(&want, "%s: %s", path, why) > 0);
	assert_string_equal(errors.v[0], want);
	free(want);
	strv_free(&errors);
}

static void
test_unreadable(void **state)
{
	(void)state;
	assert_unreadable(FIXTURE("no-such-file.conf"), strerror(ENOENT));
	assert_unreadable(FIXTURE_DIR, "is a directory, not a regular file");
	assert_unreadable("/dev/null", "is a character device, not a "
	    "regular file");
}

/* Writes text to dir/name; returns the path (to free). */
static char *
scratch_file(const char *dir, const char *name, const char *text,
    size_t len)
{
	char	*path;
	FILE	*f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Loads path, which must fail with the one error dir's path, then want. */
static void
assert_one_error(const char *path, const char *want)
{
	struct config	*conf = untouched;
	struct strv	 errors = { 0 };
	size_t		 i;

	assert_int_equal(config_load(path, &handler_catalogue, &conf,
	    &errors), -1);
	assert_ptr_equal(conf, untouched);
	for (i = 0; errors.n != 1 && i < errors.n; i++)
		print_message("got: %s\n", errors.v[i]);
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.v[0], want);
	strv_free(&errors);
}

/*
 * Every file, the main one and what it includes, is checked before
 * libconfig opens it: a directory or FIFO is refused at the @include's
 * line (libconfig would exit or block), and so is a NUL byte and a
 * configuration over 1 MiB.  An @include in a comment or string is none.
 */
static void
test_include_checks(void **state)
{
	struct config	*conf;
	char		 dir[] = "/tmp/config_unit.XXXXXX", *fifo, *main, *inner;
	char		*big, *want, *text;
	size_t		 n = 1024 * 1024;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&fifo, "%s/fifo", dir) > 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);

	assert_true(asprintf(&text, "daemon = {\n};\n  @include \"%s\"\n",
	    dir) > 0);
	main = scratch_file(dir, "dir.conf", text, strlen(text));
	assert_true(asprintf(&want, "%s:3: @include \"%s\": is a directory, "
	    "not a regular file", main, dir) > 0);
	assert_one_error(main, want);
	free(text), free(want), free(main);

	assert_true(asprintf(&text, "@include \"%s\"\n", fifo) > 0);
	inner = scratch_file(dir, "inner.conf", text, strlen(text));
	free(text);
	assert_true(asprintf(&text, "\n@include \"%s\"\n", inner) > 0);
	main = scratch_file(dir, "fifo.conf", text, strlen(text));
	assert_true(asprintf(&want, "%s:1: @include \"%s\": is a FIFO, not a "
	    "regular file", inner, fifo) > 0);
	assert_one_error(main, want);
	free(text), free(want), free(main), free(inner);

	assert_true(asprintf(&want, "%s: is a FIFO, not a regular file",
	    fifo) > 0);
	assert_one_error(fifo, want);
	free(want);

	assert_true(asprintf(&text, "# @include \"%s\"\n/*\n@include \"%s\"\n"
	    "*/ listeners = ( { name = \"h\"; port = 80; handler = \"http\";\n"
	    "http = { body = \"\n@include \\\"%s\\\"\"; }; } );\n", dir, dir,
	    dir) > 0);
	main = scratch_file(dir, "none.conf", text, strlen(text));
	free(text);
	assert_true(asprintf(&want, "\n@include \"%s\"", dir) > 0);
	conf = load_ok(main);
	assert_string_equal(conf->listeners[0].http_body, want);
	config_free(conf);
	free(want), free(main);

	main = scratch_file(dir, "nul.conf", "daemon = {\n\0};\n", 15);
	assert_true(asprintf(&want, "%s:2: a NUL byte; a configuration is "
	    "text", main) > 0);
	assert_one_error(main, want);
	free(want), free(main);

	assert_non_null(big = malloc(n + 2));
	memset(big, '#', n + 1);
	big[n - 1] = '\n';		/* a comment ends at a newline */
	main = scratch_file(dir, "big.conf", big, n + 1);
	assert_true(asprintf(&want, "%s: the configuration, its @include "
	    "files counted in, is larger than 1048576 bytes (1 MiB)",
	    main) > 0);
	assert_one_error(main, want);
	free(want), free(main);
	main = scratch_file(dir, "big.conf", big, n);
	config_free(load_ok(main));
	free(main);
	free(big);

	/* 4097 settings: libconfig's time grows with their square. */
	assert_non_null(big = malloc(4097 * 16 + 1));
	for (n = 0, text = big; n < 4097; n++)
		text += sprintf(text, "k%zu = %zu;\n", n, n);
	main = scratch_file(dir, "many.conf", big, strlen(big));
	assert_true(asprintf(&want, "%s:4097: more than 4096 settings in the "
	    "configuration, its @include files counted in", main) > 0);
	assert_one_error(main, want);
	free(want), free(main), free(big);

	assert_true(asprintf(&text, "rm -r %s", dir) > 0);
	assert_int_equal(system(text), 0);
	free(text);
	free(fifo);
}

/* The errors of loading path, which must fail, one a line. */
static char *
load_errors(const char *path)
{
	struct config	*conf = untouched;
	struct strv	 errors = { 0 };
	char		*all = NULL, *grown;
	size_t		 i;

	assert_int_equal(config_load(path, &handler_catalogue, &conf,
	    &errors), -1);
	assert_ptr_equal(conf, untouched);
	for (i = 0; i < errors.n; i++) {
		assert_true(asprintf(&grown, "%s%s\n", all ? all : "",
		    errors.v[i]) > 0);
		free(all);
		all = grown;
	}
	strv_free(&errors);
	assert_non_null(all);
	return all;
}

/*
 * @include is expanded before libconfig reads the text, each file read
 * once: the text has no @include left, and every error names the file
 * and line it was written at, libconfig's as well as ours.  A cycle, a
 * nesting past 10 files, a file that ends inside a string and a second
 * @include on the line are refused.
 */
static void
test_include_expansion(void **state)
{
	struct config_file	 cf;
	char			 dir[] = "/tmp/config_unit.XXXXXX";
	char			*main, *inc, *syn, *a, *b, *text, *want, *got;
	unsigned int		 line, i;
	const char		*file;

	(void)state;
	assert_non_null(mkdtemp(dir));
	text = "topology = {\n  workers = \"bogus\";\n}";	/* no newline */
	inc = scratch_file(dir, "inc.conf", text, strlen(text));
	assert_true(asprintf(&text, "daemon = {\n  max_connections = "
	    "4294967296;\n};\n  @include \"%s\" # here\nlisteners = ( { name = "
	    "\"a\"; port = 70000; handler = \"echo\"; } );\n", inc) > 0);
	main = scratch_file(dir, "main.conf", text, strlen(text));
	free(text);

	/* The text: inc.conf's in place of the line, the rest after it. */
	assert_int_equal(config_file_read(main, &cf, NULL), 0);
	assert_null(strstr(cf.text, "@include"));
	assert_string_equal(cf.text, "daemon = {\n  max_connections = "
	    "4294967296;\n};\ntopology = {\n  workers = \"bogus\";\n}\n"
	    " # here\nlisteners = ( { name = \"a\"; port = 70000; handler = "
	    "\"echo\"; } );\n");
	{
		static const struct {
			unsigned int	 file;	/* 0: main, 1: inc */
			unsigned int	 line;
		} want_at[] = { { 0, 1 }, { 0, 2 }, { 0, 3 }, { 1, 1 },
		    { 1, 2 }, { 1, 3 }, { 0, 4 }, { 0, 5 }, { 0, 6 } };

		for (i = 0; i < ARRAY_SIZE(want_at); i++) {
			file = config_file_where(&cf, i + 1, &line);
			assert_string_equal(file, want_at[i].file ? inc : main);
			assert_int_equal(line, want_at[i].line);
		}
	}
	assert_int_equal(cf.nints, 1);
	assert_int_equal(cf.ints[0].line, 2);
	config_file_free(&cf);

	/* Our errors and the parsers' name the file and line. */
	got = load_errors(main);
	assert_true(asprintf(&want, "%s:2: daemon.max_connections: must be "
	    "from 1 to 1000000, not 4294967296\n%s:2: topology.workers: "
	    "\"bogus\" is not \"rx-queues\", \"cpus\" or a CPU list such as "
	    "\"2-7,10\"\n%s:5: listeners[0] (\"a\").port: must be from 1 to "
	    "65535, not 70000\n", main, inc, main) > 0);
	assert_string_equal(got, want);
	free(got), free(want), free(main);

	/* libconfig's syntax error, two files deep. */
	syn = scratch_file(dir, "syn.conf", "x = 1;\n\ny = ;\n", 14);
	assert_true(asprintf(&text, "\n\n@include \"%s\"\n", syn) > 0);
	a = scratch_file(dir, "a.conf", text, strlen(text));
	free(text);
	assert_true(asprintf(&text, "k = 1;\n@include \"%s\"\nj = 2;\n",
	    a) > 0);
	main = scratch_file(dir, "main.conf", text, strlen(text));
	free(text);
	got = load_errors(main);
	assert_true(asprintf(&want, "%s:3: syntax error\n", syn) > 0);
	assert_string_equal(got, want);
	free(got), free(want), free(main), free(a), free(syn);

	/* A cycle. */
	assert_true(asprintf(&a, "%s/a.conf", dir) > 0);
	assert_true(asprintf(&text, "\n@include \"%s\"\n", a) > 0);
	b = scratch_file(dir, "b.conf", text, strlen(text));
	free(text);
	assert_true(asprintf(&text, "@include \"%s\"\n", b) > 0);
	free(scratch_file(dir, "a.conf", text, strlen(text)));
	free(text);
	assert_true(asprintf(&want, "%s:2: @include \"%s\": includes itself, "
	    "through the files that include it", b, a) > 0);
	assert_one_error(a, want);
	free(want), free(a), free(b);

	/* Eleven files deep: d0 includes d1 ... d10 includes d11. */
	for (i = 0; i < 11; i++) {
		assert_true(asprintf(&text, "@include \"%s/d%u.conf\"\n", dir,
		    i + 1) > 0);
		assert_true(asprintf(&b, "d%u.conf", i) > 0);
		free(scratch_file(dir, b, text, strlen(text)));
		free(text), free(b);
	}
	free(scratch_file(dir, "d11.conf", "", 0));
	assert_true(asprintf(&main, "%s/d0.conf", dir) > 0);
	assert_true(asprintf(&want, "%s/d10.conf:1: @include \"%s/d11.conf\": "
	    "nests more than 10 files deep", dir, dir) > 0);
	assert_one_error(main, want);
	free(want), free(main);

	/* An included file ends inside a string; two @include on a line. */
	syn = scratch_file(dir, "open.conf", "a = \"x\n", 7);
	assert_true(asprintf(&text, "@include \"%s\"\n\";\n", syn) > 0);
	main = scratch_file(dir, "main.conf", text, strlen(text));
	free(text);
	assert_true(asprintf(&want, "%s:1: @include \"%s\": ends inside a "
	    "string", main, syn) > 0);
	assert_one_error(main, want);
	free(want), free(main);
	assert_true(asprintf(&text, "\n@include \"%s\" @include \"%s\"\n",
	    inc, inc) > 0);
	main = scratch_file(dir, "main.conf", text, strlen(text));
	free(text);
	assert_true(asprintf(&want, "%s:2: one @include per line", main) > 0);
	assert_one_error(main, want);
	free(want), free(main), free(syn), free(inc);

	assert_true(asprintf(&text, "rm -r %s", dir) > 0);
	assert_int_equal(system(text), 0);
	free(text);
}

/* A file of text in a scratch directory, loaded; the path to free. */
static struct config *
load_text(char *dir, const char *text, char **path)
{
	struct config	*conf = NULL;
	struct strv	 errors = { 0 };
	size_t		 i;

	assert_non_null(mkdtemp(dir));
	*path = scratch_file(dir, "a.conf", text, strlen(text));
	assert_int_equal(config_load(*path, &handler_catalogue, &conf,
	    &errors), 0);
	for (i = 0; i < errors.n; i++)
		print_message("unexpected: %s\n", errors.v[i]);
	strv_free(&errors);
	assert_int_equal(unlink(*path), 0);
	assert_int_equal(rmdir(dir), 0);
	return conf;
}

/* Checks conf against the CPUs list: no error, or the one want. */
static void
assert_check_cpus(const char *text, const char *cpus, const char *want)
{
	struct cpuset	*allowed;
	struct config	*conf;
	struct strv	 errors = { 0 };
	char		 dir[] = "/tmp/config_unit.XXXXXX", *path, *line;

	conf = load_text(dir, text, &path);
	assert_int_equal(cpuset_parse_list(cpus, &allowed), 0);
	assert_int_equal(config_check_cpus(conf, allowed, &errors),
	    want != NULL ? -1 : 0);
	assert_int_equal(errors.n, want != NULL);
	if (want != NULL) {
		assert_true(asprintf(&line, "%s:%s", path, want) > 0);
		assert_string_equal(errors.v[0], line);
		free(line);
	}
	strv_free(&errors);
	cpuset_free(allowed);
	config_free(conf);
	free(path);
}

/* Worker CPUs that this host does not let the daemon use fail -t. */
static void
test_check_cpus(void **state)
{
	(void)state;
	assert_check_cpus("topology = {\n  workers = \"5-7\";\n};\n", "0-1",
	    "2: topology.workers: none of CPUs 5-7 is one that this host "
	    "lets the daemon use (0-1)");
	assert_check_cpus("topology = {\n  workers = \"1,5-7\";\n};\n", "0-1",
	    NULL);
	assert_check_cpus("topology = {\n  workers = \"1,5\";\n"
	    "  exclude_cpus = \"1\";\n};\n", "0-1", "2: topology.workers: "
	    "none of CPUs 1,5 is one that this host lets the daemon use "
	    "(0-1, less exclude_cpus)");
	assert_check_cpus("topology = {\n\n  exclude_cpus = \"0-3\";\n};\n",
	    "0-1", "3: topology.exclude_cpus: leaves no CPU that this host "
	    "lets the daemon use (0-1)");
	assert_check_cpus("", "0", NULL);
}

/* At most CONFIG_MAX_LISTENERS listeners, which one message can carry. */
static void
test_max_listeners(void **state)
{
	struct config	*conf;
	char		 dir[] = "/tmp/config_unit.XXXXXX", *path, *text;
	char		*want;
	size_t		 i, len = 0, cap = 100 * (CONFIG_MAX_LISTENERS + 2);

	(void)state;
	assert_non_null(text = malloc(cap));
	len += (size_t)snprintf(text, cap, "listeners = (\n");
	for (i = 0; i < CONFIG_MAX_LISTENERS; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s{ name = "
		    "\"l%zu\"; port = %zu; handler = \"echo\"; }\n",
		    i ? "," : "", i, 1000 + i);
	snprintf(text + len, cap - len, ");\n");
	conf = load_text(dir, text, &path);
	assert_int_equal(conf->nlisteners, CONFIG_MAX_LISTENERS);
	config_free(conf);
	free(path);

	snprintf(text + len, cap - len, ",{ name = \"x\"; port = 999; "
	    "handler = \"echo\"; });\n");
	strcpy(dir, "/tmp/config_unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	path = scratch_file(dir, "a.conf", text, strlen(text));
	assert_true(asprintf(&want, "%s:1: listeners: holds %d listeners; at "
	    "most %d can be served", path, CONFIG_MAX_LISTENERS + 1,
	    CONFIG_MAX_LISTENERS) > 0);
	assert_one_error(path, want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(want);
	free(path);
	free(text);
}

/* Without an error list it still fails, and leaves *conf alone. */
static void
test_no_error_list(void **state)
{
	struct config	*conf = untouched;

	(void)state;
	assert_int_equal(config_load(FIXTURE("bad-many.conf"),
	    &handler_catalogue, &conf, NULL), -1);
	assert_ptr_equal(conf, untouched);
	assert_int_equal(config_load(FIXTURE("bad-syntax.conf"),
	    &handler_catalogue, &conf,
	    NULL), -1);
	assert_ptr_equal(conf, untouched);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(listen_proto_name(LISTEN_TCP), "tcp");
	assert_string_equal(listen_proto_name(LISTEN_UDP), "udp");
	assert_string_equal(steering_name(STEERING_INCOMING_CPU),
	    "incoming-cpu");
	assert_string_equal(steering_name(STEERING_NONE), "none");
	assert_string_equal(steering_name(STEERING_CBPF), "cbpf");
	assert_string_equal(steering_name(STEERING_AUTO), "auto");
	assert_string_equal(irq_affinity_name(IRQ_AFFINITY_KEEP), "keep");
	assert_string_equal(irq_affinity_name(IRQ_AFFINITY_SPREAD), "spread");
	config_free(NULL);
}

/*
 * Bad files.  Each line is what follows the file's path: ":LINE: KEY: ..."
 * (or ":LINE: syntax error...").  All of them, in order, and no others.
 */
struct bad_case {
	const char	*file;
	const char	*lines[10];
};

static const struct bad_case bad_cases[] = {
	{ "bad-bytes.conf", {
	    ":2: listeners[0] (\"\\xff\\xc3(\").port: must be from 1 to "
	    "65535, not 0",
	    ":3: listeners[1] (\"\xc3\xa9\\x01\").port: must be from 1 to "
	    "65535, not 70000" } },
	{ "bad-int-overflow.conf", {
	    ":4: daemon.max_connections: must be from 1 to 1000000, not "
	    "4294977296",
	    ":5: daemon.shutdown_timeout: must be more than 0 and at most "
	    "3600 seconds, not 4294967306",
	    ":8: listeners[0] (\"a\").port: must be from 1 to 65535, not "
	    "4294985073",
	    ":8: listeners[0] (\"a\").backlog: must be from 1 to 65535, not "
	    "4294967297",
	    ":9: listeners[1] (\"b\").port: must be from 1 to 65535, not "
	    "0x100001F91",
	    ":10: listeners[1] (\"b\").backlog: must be from 1 to 65535, not "
	    "-4294963200",
	    ":12: listeners[2] (\"c\").backlog: must be from 1 to 65535, not "
	    "99999999999999999999",
	    ":14: extra: unknown key",
	    ":14: extra: 2147483648 does not fit in an integer "
	    "(-2147483648 to 2147483647)" } },
	{ "bad-type.conf", {
	    ":3: daemon.max_connections: expected an integer, not a string" } },
	{ "bad-type-float.conf", {
	    ":3: daemon.max_connections: expected an integer, not a "
	    "floating-point number" } },
	{ "bad-type-group.conf", {
	    ":2: topology: expected a group { ... }, not a string" } },
	{ "bad-unknown-key.conf", {
	    ":3: topology.stering: unknown key; did you mean \"steering\"?" } },
	{ "bad-unknown-group.conf", {
	    ":2: deamon: unknown key; did you mean \"daemon\"?",
	    ":5: colour: unknown key" } },
	{ "bad-misplaced.conf", {
	    ":2: steering: unknown key at the top level; it belongs in the "
	    "topology group" } },
	{ "bad-admin-socket.conf", {
	    ":3: daemon.admin_socket: \"admin.sock\" is not an absolute "
	    "path" } },
	{ "bad-admin-socket-empty.conf", {
	    ":3: daemon.admin_socket: must not be empty" } },
	{ "bad-admin-socket-long.conf", {
	    ":3: daemon.admin_socket: is 108 bytes long; a socket path holds "
	    "at most 107" } },
	{ "bad-metrics.conf", {
	    ":3: daemon.metrics: \"localhost:9477\": the host must be an IPv4 "
	    "address or an IPv6 address in brackets (names are not "
	    "resolved)" } },
	{ "bad-metrics-ipv6.conf", {
	    ":3: daemon.metrics: \"::1:9477\": an IPv6 address needs "
	    "brackets, as in \"[::1]:9477\"" } },
	{ "bad-metrics-port.conf", {
	    ":3: daemon.metrics: \"127.0.0.1:65536\": the port must be a "
	    "number from 1 to 65535" } },
	{ "bad-max-connections.conf", {
	    ":3: daemon.max_connections: must be from 1 to 1000000, not 0" } },
	{ "bad-conn-limits.conf", {
	    ":3: daemon.buffer_budget_kib: must be from 64 to 16777216, not 63",
	    ":6: listeners[0] (\"a\").idle_timeout: must be more than 0 and "
	    "at most 86400 seconds, not 0",
	    ":7: listeners[1] (\"b\").header_timeout: must be more than 0 "
	    "and at most 86400 seconds, not 86401",
	    ":8: listeners[2] (\"c\").header_timeout: applies to handler "
	    "\"http\" only",
	    ":10: listeners[3] (\"d\").idle_timeout: applies to tcp "
	    "listeners only",
	    ":11: listeners[4] (\"e\").idle_timeout: expected a number, not "
	    "a string" } },
	{ "bad-buffer-budget.conf", {
	    ":3: daemon.buffer_budget_kib: must be from 64 to 16777216, not "
	    "16777217" } },
	{ "bad-log-level.conf", {
	    ":3: daemon.log_level: \"verbose\" is not a log level; expected "
	    "error, warning, info or debug" } },
	{ "bad-shutdown-timeout.conf", {
	    ":3: daemon.shutdown_timeout: must be more than 0 and at most "
	    "3600 seconds, not 0" } },
	{ "bad-shutdown-timeout-long.conf", {
	    ":3: daemon.shutdown_timeout: must be more than 0 and at most "
	    "3600 seconds, not 3600.5" } },
	{ "bad-user.conf", {
	    ":3: daemon.user: must name a user; leave the key out to keep the "
	    "user that starts the daemon" } },
	{ "bad-pid-file.conf", {
	    ":3: daemon.pid_file: \"affinityd.pid\" is not an absolute "
	    "path" } },
	/*
	 * libconfig 1.5 dates a list element by the token after it, so the
	 * last one, whose ")" is on the next line, is dated a line late.
	 */
	{ "bad-interfaces.conf", {
	    ":5: topology.interfaces[1]: \"abcdefghijklmnop\": an interface "
	    "name has at most 15 characters",
	    ":6: topology.interfaces[2]: \"\": an interface name must not be "
	    "empty",
	    ":7: topology.interfaces[3]: expected a string, not an integer",
	    ":8: topology.interfaces[4]: \"auto\" must be the only entry",
	    ":10: topology.interfaces[5]: \"eth0\" is listed twice" } },
	{ "bad-interfaces-type.conf", {
	    ":3: topology.interfaces: expected an array of strings [ ... ], "
	    "not a string" } },
	{ "bad-interfaces-empty.conf", {
	    ":3: topology.interfaces: must hold \"auto\" or interface "
	    "names" } },
	{ "bad-workers.conf", {
	    ":3: topology.workers: \"queues\" is not \"rx-queues\", \"cpus\" "
	    "or a CPU list such as \"2-7,10\"" } },
	{ "bad-workers-range.conf", {
	    ":3: topology.workers: \"0-70000\": CPU numbers go up to "
	    "65535" } },
	{ "bad-workers-empty.conf", {
	    ":3: topology.workers: \"\" is not \"rx-queues\", \"cpus\" or a "
	    "CPU list such as \"2-7,10\"" } },
	{ "bad-exclude-cpus.conf", {
	    ":3: topology.exclude_cpus: \"1-\" is not \"\" or a CPU list such "
	    "as \"0,1\"" } },
	{ "bad-exclude-all.conf", {
	    ":4: topology.exclude_cpus: excludes every CPU of "
	    "topology.workers (\"2-3\")" } },
	{ "bad-steering.conf", {
	    ":3: topology.steering: \"round-robin\" is not a steering mode; "
	    "expected \"auto\", \"incoming-cpu\", \"cbpf\" or \"none\"" } },
	{ "bad-rescan-interval.conf", {
	    ":3: topology.rescan_interval: must be 0 (no rescan) or from 0.1 "
	    "to 3600 seconds, not -1" } },
	{ "bad-irq-affinity.conf", {
	    ":3: topology.irq_affinity: \"pin\" is not an IRQ affinity mode; "
	    "expected \"keep\" or \"spread\"" } },
	{ "bad-listeners-empty.conf", {
	    ":2: listeners: must hold at least one listener" } },
	{ "bad-listeners-type.conf", {
	    ":2: listeners: expected a list ( ... ), not a group" } },
	{ "bad-listener-type.conf", {
	    ":4: listeners[0]: expected a group { ... }, not a string" } },
	{ "bad-listener-protocol.conf", {
	    ":3: listeners[0] (\"echo\").protocol: \"sctp\" is not a "
	    "protocol; expected \"tcp\" or \"udp\"" } },
	{ "bad-listener-address.conf", {
	    ":3: listeners[0] (\"a\").address: \"localhost\" is not an IPv4 or "
	    "IPv6 address (names are not resolved)",
	    ":4: listeners[1] (\"b\").address: \"*\" is not accepted; use "
	    "\"0.0.0.0\" for every IPv4 address or \"::\" for every "
	    "address" } },
	{ "bad-listener-port.conf", {
	    ":3: listeners[0] (\"zero\").port: must be from 1 to 65535, not 0",
	    ":4: listeners[1] (\"big\").port: must be from 1 to 65535, not "
	    "65536",
	    ":5: listeners[2] (\"text\").port: expected an integer, not a "
	    "string" } },
	{ "bad-listener-handler.conf", {
	    ":3: listeners[0] (\"gen\").handler: no handler is named "
	    "\"chargen\"; expected echo, discard, info or http" } },
	{ "bad-listener-http-udp.conf", {
	    ":6: listeners[0] (\"web\").handler: handler \"http\" does not "
	    "serve udp" } },
	{ "bad-listener-backlog.conf", {
	    ":4: listeners[0] (\"u\").backlog: applies to tcp listeners only",
	    ":5: listeners[1] (\"t\").backlog: must be from 1 to 65535, not "
	    "0" } },
	{ "bad-listener-defer-accept.conf", {
	    ":4: listeners[0] (\"u\").defer_accept: applies to tcp listeners "
	    "only",
	    ":5: listeners[1] (\"i\").defer_accept: handler \"info\" writes "
	    "first, so its clients send nothing that accepting could wait "
	    "for" } },
	{ "bad-listener-v6only.conf", {
	    ":4: listeners[0] (\"four\").v6only: applies to IPv6 addresses "
	    "only",
	    ":6: listeners[1] (\"six\").v6only: expected true or false, not "
	    "an integer" } },
	{ "bad-listener-http.conf", {
	    ":4: listeners[0] (\"echo\").http: applies to handler \"http\" "
	    "only",
	    ":6: listeners[1] (\"web\").http.bdy: unknown key; did you mean "
	    "\"body\"?" } },
	{ "bad-listener-missing.conf", {
	    ":3: listeners[0].name: missing; every listener needs a unique "
	    "name",
	    ":3: listeners[0].port: missing; every listener needs a port",
	    ":3: listeners[0].handler: missing; every listener needs a "
	    "handler: echo, discard, info or http" } },
	{ "bad-listener-name.conf", {
	    ":3: listeners[0].name: must not be empty",
	    ":5: listeners[2] (\"a\").name: \"a\" is already the name of "
	    "listeners[1] at " FIXTURE("bad-listener-name.conf") ":4",
	    ":6: listeners[3] (\"b\").hander: unknown key; did you mean "
	    "\"handler\"?",
	    ":6: listeners[3] (\"b\").handler: missing; every listener needs "
	    "a handler: echo, discard, info or http" } },
	{ "bad-listener-duplicate.conf", {
	    ":7: listeners[3] (\"again\"): duplicates listener \"echo\" at "
	    FIXTURE("bad-listener-duplicate.conf") ":4 (same protocol, "
	    "address and port)",
	    ":8: listeners[4] (\"six-again\"): duplicates listener \"six\" at "
	    FIXTURE("bad-listener-duplicate.conf") ":6 (same protocol, "
	    "address and port)" } },
	{ "bad-syntax.conf", {
	    ":4: syntax error" } },
	{ "bad-syntax-duplicate.conf", {
	    ":4: syntax error: duplicate setting name" } },
	{ "bad-many.conf", {
	    ":3: daemon.max_connections: must be from 1 to 1000000, not 0",
	    ":4: daemon.log_level: \"loud\" is not a log level; expected "
	    "error, warning, info or debug",
	    ":7: topology.steering: \"sideways\" is not a steering mode; "
	    "expected \"auto\", \"incoming-cpu\", \"cbpf\" or \"none\"",
	    ":8: topology.workers: \"x\" is not \"rx-queues\", \"cpus\" or a "
	    "CPU list such as \"2-7,10\"",
	    ":11: listeners[0] (\"web\").handler: handler \"http\" does not "
	    "serve udp",
	    ":12: listeners[1] (\"echo\").port: must be from 1 to 65535, not "
	    "70000",
	    ":14: extra: unknown key" } },
};

static void
test_bad(void **state)
{
	const struct bad_case	*c = *state;
	struct config		*conf = untouched;
	struct strv		 errors = { 0 };
	char			*path, *want;
	size_t			 i, n;

	assert_true(asprintf(&path, "%s/%s", FIXTURE_DIR, c->file) > 0);
	for (n = 0; n < ARRAY_SIZE(c->lines) && c->lines[n] != NULL; n++)
		continue;
	assert_int_equal(config_load(path, &handler_catalogue, &conf,
	    &errors), -1);
	assert_ptr_equal(conf, untouched);
	for (i = 0; errors.n != n && i < errors.n; i++)
		print_message("got: %s\n", errors.v[i]);
	assert_int_equal(errors.n, n);
	for (i = 0; i < n; i++) {
		assert_true(asprintf(&want, "%s%s", path, c->lines[i]) > 0);
		assert_string_equal(errors.v[i], want);
		free(want);
	}
	strv_free(&errors);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_admin_socket),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_every_key_documented),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_int_for_float),
		cmocka_unit_test(test_listener_defaults),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_include_checks),
		cmocka_unit_test(test_include_expansion),
		cmocka_unit_test(test_check_cpus),
		cmocka_unit_test(test_max_listeners),
		cmocka_unit_test(test_no_error_list),
		cmocka_unit_test(test_names),
	};
	struct CMUnitTest	 bad[ARRAY_SIZE(bad_cases)];
	size_t			 i;
	int			 failed;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		memset(&bad[i], 0, sizeof(bad[i]));
		bad[i].name = bad_cases[i].file;
		bad[i].test_func = test_bad;
		bad[i].initial_state = (void *)&bad_cases[i];
	}
	failed = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("config bad files", bad, NULL,
	    NULL);
	return failed == 0 ? 0 : 1;
}
