/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin socket, the shared stats segment and the status rendering.
 * The server runs on its own event_base in a second thread; the test
 * thread is the client.  The two talk over pipes: the server says when a
 * reload arrived, the test tells it when to answer, so nothing waits on
 * a guess of how long something takes.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "unit.h"

#include "cli/admin_client.h"
#include "cli/affinityd.h"
#include "master/admin.h"
#include "common/cpuset.h"
#include "common/stats.h"
#include "cli/status_table.h"
#include "master/status.h"
#include "common/util.h"

#define HELD_MAX	(ADMIN_CONNS_MAX + 8)

enum reload_mode {
	RELOAD_NONE,		/* ops.reload is NULL */
	RELOAD_TIMER,		/* answer 50 ms later from a timer */
	RELOAD_HOLD,		/* answer when the test says so */
};

struct server {
	struct event_base	*base;
	struct admin		*admin;
	struct event		*ctlev;
	pthread_t		 thread;
	int			 ctl[2];	/* test -> server */
	int			 note[2];	/* server -> test */
	char			 dir[64];
	char			 path[128];
	json_t			*doc;
	enum reload_mode	 mode;
	struct admin_req	*held[HELD_MAX];
	size_t			 nheld;
};

static void
note(struct server *srv, char c)
{
	if (write(srv->note[1], &c, 1) != 1)
		abort();
}

/* Waits for the server's next note, at most 5 s. */
static char
wait_note(struct server *srv)
{
	struct pollfd	 pfd = { .fd = srv->note[0], .events = POLLIN };
	char		 c;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(srv->note[0], &c, 1), 1);
	return c;
}

static void
tell(struct server *srv, char c)
{
	assert_int_equal(write(srv->ctl[1], &c, 1), 1);
}

static json_t *
ops_status(void *arg)
{
	struct server	*srv = arg;

	return json_incref(srv->doc);
}

static void
reload_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	admin_reply(arg, json_pack("{s:b, s:i}", "reloaded", 1,
	    "generation", 2));
}

static void
ops_reload(void *arg, struct admin_req *req)
{
	struct server	*srv = arg;
	struct timeval	 tv = { 0, 50000 };

	if (srv->mode == RELOAD_TIMER) {
		if (event_base_once(srv->base, -1, EV_TIMEOUT, reload_timer,
		    req, &tv) == -1)
			abort();
		return;
	}
	if (srv->nheld == HELD_MAX)
		abort();
	srv->held[srv->nheld++] = req;
	note(srv, 'R');
}

static void
answer_held(struct server *srv)
{
	size_t	 i;

	for (i = 0; i < srv->nheld; i++)
		admin_reply(srv->held[i], json_pack("{s:b}", "reloaded", 1));
	srv->nheld = 0;
}

/* Runs in the server thread: 's' stops, 'r' answers, 'c' closes. */
static void
server_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct server	*srv = arg;
	char		 c;

	(void)what;
	if (read(fd, &c, 1) != 1)
		abort();
	switch (c) {
	case 's':
		event_base_loopbreak(srv->base);
		return;
	case 'r':
		answer_held(srv);
		break;
	case 'c':
		admin_close(srv->admin);
		srv->admin = NULL;
		break;
	}
	note(srv, 'D');
}

static void *
server_main(void *arg)
{
	struct server	*srv = arg;

	event_base_dispatch(srv->base);
	return NULL;
}

static void
server_dir(struct server *srv)
{
	strcpy(srv->dir, "/tmp/admin_unit.XXXXXX");
	assert_non_null(mkdtemp(srv->dir));
	snprintf(srv->path, sizeof(srv->path), "%s/admin.sock", srv->dir);
}

static void
server_listen(struct server *srv)
{
	struct admin_ops	 ops = { ops_status, NULL };
	char			*why = NULL;

	if (srv->mode != RELOAD_NONE)
		ops.reload = ops_reload;
	assert_non_null(srv->base = event_base_new());
	srv->admin = admin_listen(srv->base, srv->path, &ops, srv, &why);
	if (srv->admin == NULL)
		fail_msg("admin_listen: %s", why);
	assert_null(why);
}

static void
server_start(struct server *srv, enum reload_mode mode)
{
	srv->mode = mode;
	srv->doc = json_pack("{s:[{s:i, s:i, s:i, s:[s], s:i}], s:i}",
	    "workers", "id", 0, "pid", 1234, "cpu", 1, "queues", "eth0:0",
	    "accepted", 7, "generation", 1);
	assert_non_null(srv->doc);
	if (srv->dir[0] == '\0')
		server_dir(srv);
	server_listen(srv);
	assert_int_equal(pipe2(srv->ctl, O_CLOEXEC), 0);
	assert_int_equal(pipe2(srv->note, O_CLOEXEC), 0);
	srv->ctlev = event_new(srv->base, srv->ctl[0], EV_READ | EV_PERSIST,
	    server_ctl, srv);
	assert_non_null(srv->ctlev);
	assert_int_equal(event_add(srv->ctlev, NULL), 0);
	assert_int_equal(pthread_create(&srv->thread, NULL, server_main, srv),
	    0);
}

static void
server_stop(struct server *srv)
{
	tell(srv, 's');
	assert_int_equal(pthread_join(srv->thread, NULL), 0);
	admin_close(srv->admin);
	/* Answers that come after the close only free their requests. */
	answer_held(srv);
	event_free(srv->ctlev);
	event_base_free(srv->base);
	close(srv->ctl[0]);
	close(srv->ctl[1]);
	close(srv->note[0]);
	close(srv->note[1]);
	json_decref(srv->doc);
	unlink(srv->path);
	assert_int_equal(rmdir(srv->dir), 0);
	memset(srv, 0, sizeof(*srv));
}

static int
raw_connect(const char *path)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct timeval		 tv = { 5, 0 };
	int			 fd;

	strcpy(sun.sun_path, path);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void
raw_send(int fd, const void *data, size_t len)
{
	assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Everything the server writes until it closes; fails on a timeout. */
static size_t
raw_read_all(int fd, char *buf, size_t cap)
{
	size_t	 len = 0;
	ssize_t	 n;

	while ((n = recv(fd, buf + len, cap - 1 - len, 0)) > 0)
		len += (size_t)n;
	assert_int_equal(n, 0);
	buf[len] = '\0';
	return len;
}

static void
assert_status_works(struct server *srv)
{
	json_t	*reply = NULL;
	char	*why = NULL;

	assert_int_equal(admin_request(srv->path, "status", ADMIN_TIMEOUT,
	    &reply, &why, NULL), 0);
	assert_null(why);
	assert_true(json_equal(reply, srv->doc));
	json_decref(reply);
}

static void
test_status_round_trip(void **state)
{
	struct server	 srv = { 0 };
	struct stat	 st;
	char		 buf[4096], *want;
	int		 fd;

	(void)state;
	server_start(&srv, RELOAD_NONE);
	assert_status_works(&srv);
	assert_int_equal(stat(srv.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* On the wire: one compact line, then the server closes. */
	fd = raw_connect(srv.path);
	raw_send(fd, "status\r\n", 8);
	raw_read_all(fd, buf, sizeof(buf));
	close(fd);
	want = json_dumps(srv.doc, JSON_COMPACT);
	assert_non_null(want);
	assert_int_equal(strlen(buf), strlen(want) + 1);
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(buf[strlen(want)], '\n');
	free(want);
	server_stop(&srv);
}

/* status exits with the code of the daemon's error answer, not 69. */
static void
test_status_error_code(void **state)
{
	struct server	 srv = { 0 };
	char		*argv[] = { (char *)"status", (char *)"-s", NULL, NULL };

	(void)state;
	server_start(&srv, RELOAD_NONE);
	/* No document: the server answers "status is not available". */
	json_decref(srv.doc);
	srv.doc = NULL;
	argv[2] = srv.path;
	optind = 0;
	assert_int_equal(cmd_status(3, argv), ADMIN_CODE_SOFTWARE);
	server_stop(&srv);
}

static void
test_reload_async(void **state)
{
	struct server	 srv = { 0 };
	json_t		*reply = NULL;
	char		*why = NULL;

	(void)state;
	server_start(&srv, RELOAD_TIMER);
	assert_int_equal(admin_request(srv.path, "reload", 10, &reply,
	    &why, NULL), 0);
	assert_null(why);
	assert_true(json_is_true(json_object_get(reply, "reloaded")));
	assert_int_equal(json_integer_value(json_object_get(reply,
	    "generation")), 2);
	json_decref(reply);
	server_stop(&srv);
}

static void
test_reload_unsupported(void **state)
{
	struct server	 srv = { 0 };
	json_t		*reply = NULL;
	char		*why = NULL;

	(void)state;
	server_start(&srv, RELOAD_NONE);
	assert_int_equal(admin_request(srv.path, "reload", ADMIN_TIMEOUT,
	    &reply, &why, NULL), -1);
	assert_null(reply);
	assert_string_equal(why, "reload is not supported");
	free(why);
	server_stop(&srv);
}

static void
test_unknown_command(void **state)
{
	struct server	 srv = { 0 };
	json_t		*reply = NULL;
	char		*why = NULL;

	(void)state;
	server_start(&srv, RELOAD_HOLD);
	assert_int_equal(admin_request(srv.path, "frobnicate", ADMIN_TIMEOUT,
	    &reply, &why, NULL), -1);
	assert_null(reply);
	assert_string_equal(why, "unknown command: frobnicate");
	free(why);
	server_stop(&srv);
}

/* An error answer carries its exit status, which the client hands back. */
static void
test_error_code(void **state)
{
	struct server	 srv = { 0 };
	json_t		*reply = NULL;
	char		*why = NULL;
	int		 code = -1;

	(void)state;
	server_start(&srv, RELOAD_NONE);
	assert_int_equal(admin_request(srv.path, "reload", 5, &reply,
	    &why, &code), -1);
	assert_null(reply);
	assert_int_equal(code, ADMIN_CODE_SOFTWARE);
	free(why);
	why = NULL;
	assert_int_equal(admin_request(srv.path, "status", 5, &reply,
	    &why, &code), 0);
	assert_int_equal(code, 0);
	json_decref(reply);
	server_stop(&srv);
}

static void
test_missing_socket(void **state)
{
	json_t	*reply = NULL;
	char	*why = NULL, dir[] = "/tmp/admin_unit.XXXXXX", path[64];
	char	 want[160];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.sock", dir);
	assert_int_equal(admin_request(path, "status", ADMIN_TIMEOUT, &reply,
	    &why, NULL), -ENOENT);
	assert_null(reply);
	snprintf(want, sizeof(want), "connect %s: No such file or directory "
	    "(is affinityd running?)", path);
	assert_string_equal(why, want);
	free(why);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_stale_socket_replaced(void **state)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct server		 srv = { 0 };
	struct stat		 st;
	int			 fd;

	(void)state;
	server_dir(&srv);
	/* What a crashed daemon leaves: a socket file nobody listens on. */
	strcpy(sun.sun_path, srv.path);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(stat(srv.path, &st), 0);
	server_start(&srv, RELOAD_NONE);
	assert_status_works(&srv);
	server_stop(&srv);
}

static void
test_live_socket_refused(void **state)
{
	struct admin_ops	 ops = { ops_status, NULL };
	struct server		 srv = { 0 };
	struct event_base	*base;
	struct admin		*second;
	char			*why = NULL;

	(void)state;
	server_start(&srv, RELOAD_NONE);
	assert_non_null(base = event_base_new());
	second = admin_listen(base, srv.path, &ops, &srv, &why);
	assert_null(second);
	assert_non_null(why);
	assert_non_null(strstr(why, srv.path));
	assert_non_null(strstr(why, "is in use by another affinityd"));
	free(why);
	event_base_free(base);
	/* The first one keeps its socket and still answers. */
	assert_status_works(&srv);
	server_stop(&srv);
}

static void
test_not_a_socket_kept(void **state)
{
	struct admin_ops	 ops = { ops_status, NULL };
	struct event_base	*base;
	struct stat		 st;
	char			*why = NULL, dir[] = "/tmp/admin_unit.XXXXXX";
	char			 path[64];
	int			 fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/admin.sock", dir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	assert_non_null(base = event_base_new());
	assert_null(admin_listen(base, path, &ops, NULL, &why));
	assert_non_null(strstr(why, "is not a socket"));
	free(why);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	event_base_free(base);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_parent_made_and_socket_removed(void **state)
{
	struct server	 srv = { 0 };
	struct stat	 st;
	char		 top[sizeof(srv.dir)];

	(void)state;
	server_dir(&srv);
	memcpy(top, srv.dir, sizeof(top));
	/* /tmp/admin_unit.XXXXXX/run: only the last directory is missing. */
	assert_true(strlen(top) + 4 < sizeof(srv.dir));
	strcat(srv.dir, "/run");
	snprintf(srv.path, sizeof(srv.path), "%s/admin.sock", srv.dir);
	server_start(&srv, RELOAD_NONE);
	assert_int_equal(stat(srv.dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_status_works(&srv);

	/* admin_close() removes the socket file, so rmdir succeeds. */
	server_stop(&srv);
	assert_int_equal(rmdir(top), 0);
}

static void
test_garbage_rejected(void **state)
{
	struct server	 srv = { 0 };
	json_t		*doc;
	char		 big[4000], buf[4096];
	int		 fd;

	(void)state;
	server_start(&srv, RELOAD_HOLD);

	memset(big, 'x', sizeof(big));
	fd = raw_connect(srv.path);
	raw_send(fd, big, sizeof(big));
	raw_read_all(fd, buf, sizeof(buf));
	close(fd);
	assert_non_null(doc = json_loads(buf, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(doc, "error")),
	    "request line longer than 256 bytes");
	json_decref(doc);

	/* Control bytes, invalid UTF-8 and a NUL come back printable. */
	fd = raw_connect(srv.path);
	raw_send(fd, "\x01st\xff\0tus\n", 9);
	raw_read_all(fd, buf, sizeof(buf));
	close(fd);
	assert_non_null(doc = json_loads(buf, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(doc, "error")),
	    "unknown command: ?st??tus");
	json_decref(doc);

	assert_status_works(&srv);
	server_stop(&srv);
}

static void
test_last_line_without_newline(void **state)
{
	struct server	 srv = { 0 };
	json_t		*doc;
	char		 buf[4096];
	int		 fd;

	(void)state;
	server_start(&srv, RELOAD_NONE);
	fd = raw_connect(srv.path);
	raw_send(fd, "status", 6);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	raw_read_all(fd, buf, sizeof(buf));
	close(fd);
	assert_non_null(doc = json_loads(buf, 0, NULL));
	assert_true(json_equal(doc, srv.doc));
	json_decref(doc);
	server_stop(&srv);
}

static void
test_idle_client_times_out(void **state)
{
	struct server	 srv = { 0 };
	struct timespec	 t0, t1;
	json_t		*doc;
	char		 buf[4096];
	int		 fd;

	(void)state;
	admin_set_timeout(0.2);
	server_start(&srv, RELOAD_NONE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = raw_connect(srv.path);
	/* raw_read_all() fails if the server keeps it open for 5 s. */
	raw_read_all(fd, buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	assert_true(t1.tv_sec - t0.tv_sec < 4);
	assert_non_null(doc = json_loads(buf, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(doc, "error")),
	    "no command within 0.2 s");
	json_decref(doc);
	server_stop(&srv);
	admin_set_timeout(ADMIN_TIMEOUT);
}

static void
test_client_gone_during_reload(void **state)
{
	struct server	 srv = { 0 };
	int		 fd;

	(void)state;
	server_start(&srv, RELOAD_HOLD);
	fd = raw_connect(srv.path);
	raw_send(fd, "reload\n", 7);
	assert_int_equal(wait_note(&srv), 'R');
	close(fd);
	/* The request outlived its client; answering it must be harmless. */
	tell(&srv, 'r');
	assert_int_equal(wait_note(&srv), 'D');
	assert_status_works(&srv);
	server_stop(&srv);
}

static void
test_close_with_pending_reload(void **state)
{
	struct server	 srv = { 0 };
	struct stat	 st;
	char		 buf[64];
	int		 fd;

	(void)state;
	server_start(&srv, RELOAD_HOLD);
	fd = raw_connect(srv.path);
	raw_send(fd, "reload\n", 7);
	assert_int_equal(wait_note(&srv), 'R');
	tell(&srv, 'c');
	assert_int_equal(wait_note(&srv), 'D');
	/* The client sees the connection close without an answer. */
	assert_int_equal(raw_read_all(fd, buf, sizeof(buf)), 0);
	close(fd);
	assert_int_equal(stat(srv.path, &st), -1);
	assert_int_equal(errno, ENOENT);
	tell(&srv, 'r');
	assert_int_equal(wait_note(&srv), 'D');
	server_stop(&srv);
}

static void
test_connections_bounded(void **state)
{
	struct server	 srv = { 0 };
	json_t		*reply = NULL;
	char		*why = NULL, buf[256];
	int		 fds[ADMIN_CONNS_MAX];
	size_t		 i;

	(void)state;
	server_start(&srv, RELOAD_HOLD);
	for (i = 0; i < ADMIN_CONNS_MAX; i++) {
		fds[i] = raw_connect(srv.path);
		raw_send(fds[i], "reload\n", 7);
		assert_int_equal(wait_note(&srv), 'R');
	}
	/* One more waits in the backlog, unserved. */
	assert_int_equal(admin_request(srv.path, "status", 0.3,
	    &reply, &why, NULL), -ETIMEDOUT);
	assert_null(reply);
	assert_non_null(strstr(why, "no reply within"));
	free(why);
	why = NULL;

	tell(&srv, 'r');
	assert_int_equal(wait_note(&srv), 'D');
	for (i = 0; i < ADMIN_CONNS_MAX; i++) {
		raw_read_all(fds[i], buf, sizeof(buf));
		assert_string_equal(buf, "{\"reloaded\":true}\n");
		close(fds[i]);
	}
	assert_status_works(&srv);
	server_stop(&srv);
}

static void
test_idle_clients_make_room(void **state)
{
	struct server	 srv = { 0 };
	char		 buf[256];
	int		 fds[ADMIN_CONNS_MAX];
	size_t		 i;

	(void)state;
	server_start(&srv, RELOAD_NONE);
	/* Every slot held by a client that sent half a command. */
	for (i = 0; i < ADMIN_CONNS_MAX; i++) {
		fds[i] = raw_connect(srv.path);
		raw_send(fds[i], "sta", 3);
	}
	assert_status_works(&srv);
	/* The oldest made room: closed without an answer. */
	assert_int_equal(raw_read_all(fds[0], buf, sizeof(buf)), 0);
	for (i = 0; i < ADMIN_CONNS_MAX; i++)
		close(fds[i]);
	server_stop(&srv);
}

static void
test_deadline_is_total(void **state)
{
	struct server	 srv = { 0 };
	struct timespec	 t0, t1;
	json_t		*doc;
	char		 buf[4096];
	int		 fd, i;

	(void)state;
	admin_set_timeout(0.3);
	server_start(&srv, RELOAD_NONE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = raw_connect(srv.path);
	/* A byte every 0.1 s must not keep the connection open. */
	for (i = 0; i < 10; i++) {
		if (send(fd, "s", 1, MSG_NOSIGNAL) != 1)
			break;
		poll(NULL, 0, 100);
	}
	raw_read_all(fd, buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	assert_true(t1.tv_sec - t0.tv_sec < 4);
	assert_non_null(doc = json_loads(buf, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(doc, "error")),
	    "no command within 0.3 s");
	json_decref(doc);
	server_stop(&srv);
	admin_set_timeout(ADMIN_TIMEOUT);
}

static void
test_client_invalid_reply(void **state)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	json_t			*reply = NULL;
	char			*why = NULL, dir[] = "/tmp/admin_unit.XXXXXX";
	char			 buf[64];
	pid_t			 pid;
	int			 lfd, fd, status;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/bad.sock", dir);
	assert_true((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		/* Something that is not affinityd answers. */
		if ((fd = accept(lfd, NULL, NULL)) == -1 ||
		    read(fd, buf, sizeof(buf)) <= 0 ||
		    write(fd, "hello there\n", 12) != 12)
			_exit(1);
		_exit(0);
	}
	close(lfd);
	assert_int_equal(admin_request(sun.sun_path, "status", ADMIN_TIMEOUT,
	    &reply, &why, NULL), -EPROTO);
	assert_null(reply);
	assert_non_null(strstr(why, sun.sun_path));
	assert_non_null(strstr(why, "invalid reply"));
	free(why);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(unlink(sun.sun_path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_stats_shared_with_child(void **state)
{
	struct stats_segment	 seg;
	struct stats_slot	*s;
	uint64_t		 before;
	pid_t			 pid;
	int			 status;
	size_t			 i;

	(void)state;
	assert_int_equal(stats_map(0, &seg), -EINVAL);
	assert_int_equal(stats_map(3, &seg), 0);
	assert_int_equal(seg.nslots, 3);
	for (i = 0; i < seg.nslots; i++) {
		assert_int_equal(seg.slots[i].accepted, 0);
		assert_int_equal(seg.slots[i].heartbeat_ns, 0);
	}
	before = stats_now_ns();
	s = &seg.slots[1];
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		stats_slot_reset(s, getpid());
		STATS_ADD(s, accepted, 5);
		STATS_ADD(s, local, 4);
		STATS_ADD(s, remote, 1);
		STATS_SET(s, open_conns, 2);
		stats_heartbeat(s, 1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(STATS_GET(s, pid), pid);
	assert_int_equal(STATS_GET(s, accepted), 5);
	assert_int_equal(STATS_GET(s, local), 4);
	assert_int_equal(STATS_GET(s, remote), 1);
	assert_int_equal(STATS_GET(s, last_cpu), 1);
	assert_true(STATS_GET(s, heartbeat_ns) >= before);
	assert_true(STATS_GET(s, heartbeat_ns) <= stats_now_ns());
	assert_int_equal(seg.slots[0].accepted, 0);
	assert_int_equal(seg.slots[2].accepted, 0);

	/* A respawn keeps the CPU's totals and forgets the dead process. */
	stats_slot_respawn(s, 4242);
	assert_int_equal(STATS_GET(s, pid), 4242);
	assert_int_equal(STATS_GET(s, accepted), 5);
	assert_int_equal(STATS_GET(s, local), 4);
	assert_int_equal(STATS_GET(s, open_conns), 0);
	assert_int_equal(STATS_GET(s, heartbeat_ns), 0);
	stats_slot_reset(s, 4343);
	assert_int_equal(STATS_GET(s, pid), 4343);
	assert_int_equal(STATS_GET(s, accepted), 0);

	stats_unmap(&seg);
	assert_null(seg.slots);
	assert_int_equal(seg.nslots, 0);
}

static void
test_status_worker_json(void **state)
{
	static const char *keys[] = { "id", "pid", "cpu", "state", "queues",
	    "accepted", "datagrams", "local", "remote", "restarts",
	    "bytes_in", "bytes_out", "errors", "cpu_mismatches", "last_cpu",
	    "open_conns", "idle_timeouts", "header_timeouts", "evicted",
	    "buffered_bytes", "heartbeat_age_ms", "draining",
	    "bytes_received", "bytes_sent", "connections_local",
	    "connections_remote", "open_connections", "heartbeat_age_seconds" };
	struct stats_slot	 slot = { 0 };
	struct strv		 queues = { 0 };
	struct status_worker	 sw = { .id = 4, .cpu = 5, .pid = 777,
	    .state = "ready", .queues = &queues, .slot = &slot };
	json_t			*w, *q;
	json_int_t		 age;
	double			 age_s;
	size_t			 i;

	(void)state;
	assert_int_equal(strv_add(&queues, "eth0:0"), 0);
	assert_int_equal(strv_add(&queues, "eth1:3"), 0);
	stats_slot_reset(&slot, 777);
	sw.counts.n[STATS_ACCEPTED] = 10;
	sw.counts.n[STATS_DATAGRAMS] = 20;
	sw.counts.n[STATS_LOCAL] = 9;
	sw.counts.n[STATS_REMOTE] = 1;
	sw.counts.n[STATS_BYTES_IN] = 300;
	sw.counts.n[STATS_BYTES_OUT] = 400;
	sw.counts.n[STATS_ERRORS] = 2;
	sw.counts.n[STATS_CPU_MISMATCHES] = 1;
	sw.counts.n[STATS_IDLE_TIMEOUTS] = 6;
	sw.counts.n[STATS_HEADER_TIMEOUTS] = 7;
	sw.counts.n[STATS_EVICTED] = 8;
	sw.counts.n[STATS_RESTARTS] = 2;
	slot.open_conns = 3;
	slot.buffered = 4096;
	stats_heartbeat(&slot, 5);
	slot.heartbeat_ns -= 1500 * 1000000ull;

	assert_non_null(w = status_worker_json(&sw));
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (json_object_get(w, keys[i]) == NULL)
			fail_msg("key %s missing", keys[i]);
#define INT(k)	json_integer_value(json_object_get(w, k))
	assert_int_equal(INT("id"), 4);
	assert_int_equal(INT("pid"), 777);
	assert_int_equal(INT("cpu"), 5);
	assert_string_equal(json_string_value(json_object_get(w, "state")),
	    "ready");
	assert_int_equal(INT("accepted"), 10);
	assert_int_equal(INT("datagrams"), 20);
	assert_int_equal(INT("local"), 9);
	assert_int_equal(INT("connections_local"), 9);
	assert_int_equal(INT("remote"), 1);
	assert_int_equal(INT("connections_remote"), 1);
	assert_int_equal(INT("restarts"), 2);
	assert_int_equal(INT("bytes_in"), 300);
	assert_int_equal(INT("bytes_received"), 300);
	assert_int_equal(INT("bytes_out"), 400);
	assert_int_equal(INT("bytes_sent"), 400);
	assert_int_equal(INT("errors"), 2);
	assert_int_equal(INT("cpu_mismatches"), 1);
	assert_int_equal(INT("last_cpu"), 5);
	assert_int_equal(INT("open_conns"), 3);
	assert_int_equal(INT("open_connections"), 3);
	assert_int_equal(INT("idle_timeouts"), 6);
	assert_int_equal(INT("header_timeouts"), 7);
	assert_int_equal(INT("evicted"), 8);
	assert_int_equal(INT("buffered_bytes"), 4096);
	age = INT("heartbeat_age_ms");
	assert_true(age >= 1500 && age < 60000);
	age_s = json_real_value(json_object_get(w, "heartbeat_age_seconds"));
	assert_true(age_s >= 1.5 && age_s < 60.0);
#undef INT
	q = json_object_get(w, "queues");
	assert_int_equal(json_array_size(q), 2);
	assert_string_equal(json_string_value(json_array_get(q, 0)), "eth0:0");
	assert_string_equal(json_string_value(json_array_get(q, 1)), "eth1:3");
	json_decref(w);

	/* Before the first beat: no age and no CPU, rather than made-up ones. */
	stats_slot_reset(&slot, 778);
	sw.queues = NULL;
	assert_non_null(w = status_worker_json(&sw));
	assert_true(json_is_null(json_object_get(w, "heartbeat_age_ms")));
	assert_true(json_is_null(json_object_get(w, "heartbeat_age_seconds")));
	assert_true(json_is_null(json_object_get(w, "last_cpu")));
	assert_int_equal(json_array_size(json_object_get(w, "queues")), 0);
	json_decref(w);
	strv_free(&queues);
}

/*
 * A CPU's counts never go back: not when its slot is given to another
 * worker (a reload), nor when the slot's worker moves to another CPU (a
 * re-map); the totals add up every CPU, those without a slot now too.
 */
static void
test_stats_carried(void **state)
{
	struct stats_segment	 seg;
	struct stats_counts	 c;
	struct stats_slot	*a, *b;

	(void)state;
	assert_int_equal(stats_map(4, &seg), 0);
	assert_int_equal(stats_cpu_counts(&seg, 1, &c), -1);
	assert_int_equal(stats_next_cpu(&seg, -1), -1);
	assert_non_null(a = stats_take(&seg, 0, 1));
	STATS_ADD(a, accepted, 5);
	STATS_ADD(a, restarts, 1);
	/* A reload: a new slot on CPU 1 while the old one drains. */
	assert_non_null(b = stats_take(&seg, 1, 1));
	STATS_ADD(a, accepted, 2);
	STATS_ADD(b, accepted, 3);
	assert_int_equal(stats_cpu_counts(&seg, 1, &c), 0);
	assert_int_equal(c.n[STATS_ACCEPTED], 10);
	assert_int_equal(c.n[STATS_RESTARTS], 1);
	/* The old slot goes to a worker on CPU 2: CPU 1 keeps its 7. */
	assert_ptr_equal(stats_take(&seg, 0, 2), a);
	assert_int_equal(STATS_GET(a, accepted), 0);
	STATS_ADD(a, accepted, 4);
	assert_int_equal(stats_cpu_counts(&seg, 1, &c), 0);
	assert_int_equal(c.n[STATS_ACCEPTED], 10);
	assert_int_equal(stats_cpu_counts(&seg, 2, &c), 0);
	assert_int_equal(c.n[STATS_ACCEPTED], 4);
	/* A re-map moves b's worker to CPU 3; what b counted stays CPU 1's. */
	stats_move(&seg, b, 3);
	STATS_ADD(b, accepted, 6);
	assert_int_equal(stats_cpu_counts(&seg, 1, &c), 0);
	assert_int_equal(c.n[STATS_ACCEPTED], 10);
	assert_int_equal(stats_cpu_counts(&seg, 3, &c), 0);
	assert_int_equal(c.n[STATS_ACCEPTED], 6);
	stats_total_counts(&seg, &c);
	assert_int_equal(c.n[STATS_ACCEPTED], 20);
	assert_int_equal(c.n[STATS_RESTARTS], 1);
	assert_int_equal(stats_next_cpu(&seg, -1), 1);
	assert_int_equal(stats_next_cpu(&seg, 1), 2);
	assert_int_equal(stats_next_cpu(&seg, 2), 3);
	assert_int_equal(stats_next_cpu(&seg, 3), -1);
	assert_string_equal(stats_counter_name(STATS_BYTES_IN),
	    "bytes_received");
	stats_unmap(&seg);
}

/* The document: its layout version, the daemon's, totals and CPU arrays. */
static void
test_status_json(void **state)
{
	struct status_input	 in = { .pid = 42, .start_time = 1.5e9,
	    .generation = 3, .steering = "cbpf", .steering_config = "auto",
	    .steering_reason = "why" };
	struct cpuset		*idle = NULL;
	json_t			*doc, *list;

	(void)state;
	assert_int_equal(cpuset_parse_list("0-1,4", &idle), 0);
	in.fallback_cpus = idle;
	in.totals.n[STATS_ACCEPTED] = 12;
	assert_non_null(doc = status_json(&in));
	assert_int_equal(json_integer_value(json_object_get(doc, "version")),
	    STATUS_LAYOUT_VERSION);
	assert_string_equal(json_string_value(json_object_get(doc,
	    "daemon_version")), PACKAGE_VERSION);
	assert_string_equal(json_string_value(json_object_get(doc,
	    "fallback_cpus")), "0-1,4");
	list = json_object_get(doc, "fallback_cpus_list");
	assert_int_equal(json_array_size(list), 3);
	assert_int_equal(json_integer_value(json_array_get(list, 2)), 4);
	assert_string_equal(json_string_value(json_object_get(doc,
	    "udp_locality")), "unobservable");
	assert_non_null(strstr(json_string_value(json_object_get(doc,
	    "udp_locality_reason")), "classic BPF"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    doc, "totals"), "accepted")), 12);
	assert_int_equal(json_array_size(json_object_get(doc, "workers")), 0);
	json_decref(doc);
	cpuset_free(idle);

	/* Nothing serving yet: the keys are there, null or empty. */
	memset(&in, 0, sizeof(in));
	assert_non_null(doc = status_json(&in));
	assert_true(json_is_null(json_object_get(doc, "steering")));
	assert_string_equal(json_string_value(json_object_get(doc,
	    "fallback_cpus")), "");
	assert_int_equal(json_array_size(json_object_get(doc,
	    "fallback_cpus_list")), 0);
	json_decref(doc);
}

/* The words of the table line whose first word is FIRST. */
static size_t
table_row(const char *text, const char *first, char words[][32], size_t max,
    size_t *column)
{
	const char	*line = text, *end, *p;
	size_t		 n, len;

	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		n = 0;
		for (p = line; p < end && n < max;) {
			while (p < end && *p == ' ')
				p++;
			if (p == end)
				break;
			len = strcspn(p, " \n");
			snprintf(words[n], 32, "%.*s", (int)len, p);
			/* Where the LOCAL% column ends, for the alignment. */
			if (n == 5)
				*column = (size_t)(p - line) + len;
			n++;
			p += len;
		}
		if (n > 0 && strcmp(words[0], first) == 0)
			return n;
	}
	fail_msg("no table row starting with %s", first);
	return 0;
}

static void
test_status_table(void **state)
{
	char	 w[16][32], *text = NULL;
	size_t	 len = 0, n, colh, col0, col1, colt;
	json_t	*doc;
	FILE	*out;

	(void)state;
	doc = json_pack("{s:[{s:i, s:i, s:i, s:[s,s], s:i, s:i, s:i, s:i, s:i,"
	    " s:i, s:i, s:i, s:i, s:i}, {s:i, s:i, s:i, s:[], s:i, s:i, s:i,"
	    " s:i, s:i, s:n, s:n}], s:i}",
	    "workers",
	    "id", 0, "pid", 4100, "cpu", 2, "queues", "eth0:0", "eth1:0",
	    "accepted", 4, "local", 3, "remote", 1, "datagrams", 10,
	    "restarts", 1, "open_conns", 2, "errors", 0, "heartbeat_age_ms", 250,
	    "cpu_mismatches", 3, "last_cpu", 0,
	    "id", 1, "pid", 0, "cpu", 3, "queues", "accepted", 0, "local", 0,
	    "remote", 0, "datagrams", 7, "restarts", 0, "heartbeat_age_ms",
	    "last_cpu",
	    "generation", 5);
	assert_non_null(doc);
	assert_non_null(out = open_memstream(&text, &len));
	assert_int_equal(status_print_table(out, doc), 0);
	fclose(out);

	assert_non_null(strstr(text, "generation 5, 2 workers\n"));
	n = table_row(text, "ID", w, 16, &colh);
	assert_true(n >= 8);
	assert_string_equal(w[3], "QUEUES");
	assert_string_equal(w[5], "LOCAL%");
	assert_string_equal(w[6], "DATAGRAMS");
	assert_string_equal(w[7], "RESTARTS");
	n = table_row(text, "0", w, 16, &col0);
	assert_true(n >= 8);
	assert_string_equal(w[1], "4100");
	assert_string_equal(w[2], "2");
	assert_string_equal(w[3], "eth0:0,eth1:0");
	assert_string_equal(w[4], "4");
	assert_string_equal(w[5], "75.0");
	assert_string_equal(w[6], "10");
	assert_string_equal(w[7], "1");
	/* No pid, no connections: dashes, not zeros or a division by 0. */
	n = table_row(text, "1", w, 16, &col1);
	assert_string_equal(w[1], "-");
	assert_string_equal(w[3], "-");
	assert_string_equal(w[4], "0");
	assert_string_equal(w[5], "-");
	assert_string_equal(w[6], "7");
	n = table_row(text, "total", w, 16, &colt);
	assert_string_equal(w[1], "4");
	assert_string_equal(w[2], "75.0");
	assert_string_equal(w[3], "17");
	assert_string_equal(w[4], "1");
	assert_int_equal(col0, colh);
	assert_int_equal(col1, colh);
	assert_non_null(strstr(text, "UDP locality: not measured"));
	assert_null(strstr(text, "steering"));
	assert_non_null(strstr(text, "warning: worker 0 ran off its CPU 2 "
	    "(seen 3 times, last on CPU 0)\n"));
	assert_null(strstr(text, "worker 1 ran off"));
	free(text);

	/* The steering in use, why, and what it means for UDP. */
	json_object_set_new(doc, "steering", json_string("cbpf"));
	json_object_set_new(doc, "steering_config", json_string("auto"));
	json_object_set_new(doc, "steering_reason", json_string("SO_INCOMING_CPU "
	    "does not steer on this kernel"));
	json_object_set_new(doc, "fallback_cpus", json_string("0-1"));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "daemon_version", json_string("9.8.7"));
	json_object_set_new(doc, "udp_locality", json_string("unobservable"));
	json_object_set_new(doc, "udp_locality_reason", json_string("not "
	    "measured: by construction"));
	text = NULL;
	assert_non_null(out = open_memstream(&text, &len));
	assert_int_equal(status_print_table(out, doc), 0);
	fclose(out);
	assert_non_null(strstr(text, "affinityd 9.8.7, generation 5, 2 "
	    "workers\nsteering cbpf "
	    "(auto): SO_INCOMING_CPU does not steer on this kernel\nCPUs 0-1 "
	    "have no worker"));
	assert_non_null(strstr(text, "UDP locality: not measured: by "
	    "construction.\n"));
	free(text);
	json_decref(doc);

	/* Not a status document. */
	doc = json_pack("{s:i}", "generation", 1);
	assert_int_equal(status_print_table(stdout, doc), -1);
	json_decref(doc);
}

/* The table reads this daemon's key names, not only the older aliases. */
static void
test_status_table_new_keys(void **state)
{
	json_t	*doc;
	char	*text = NULL, w[16][32];
	size_t	 len, n, col;
	FILE	*out;

	(void)state;
	doc = json_pack("{s:[{s:i, s:i, s:i, s:[], s:i, s:i, s:i, s:i, s:i,"
	    " s:i, s:i, s:f}], s:i}", "workers",
	    "id", 0, "pid", 4100, "cpu", 1, "queues", "accepted", 8,
	    "connections_local", 6, "connections_remote", 2, "datagrams", 0,
	    "restarts", 0, "open_connections", 5, "errors", 0,
	    "heartbeat_age_seconds", 0.25, "generation", 2);
	assert_non_null(doc);
	assert_non_null(out = open_memstream(&text, &len));
	assert_int_equal(status_print_table(out, doc), 0);
	fclose(out);
	n = table_row(text, "0", w, 16, &col);
	assert_true(n >= 11);
	assert_string_equal(w[5], "75.0");
	assert_string_equal(w[8], "5");
	assert_string_equal(w[10], "0.2s");
	free(text);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_reload_async),
		cmocka_unit_test(test_reload_unsupported),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_error_code),
		cmocka_unit_test(test_status_error_code),
		cmocka_unit_test(test_missing_socket),
		cmocka_unit_test(test_stale_socket_replaced),
		cmocka_unit_test(test_live_socket_refused),
		cmocka_unit_test(test_not_a_socket_kept),
		cmocka_unit_test(test_parent_made_and_socket_removed),
		cmocka_unit_test(test_garbage_rejected),
		cmocka_unit_test(test_last_line_without_newline),
		cmocka_unit_test(test_idle_client_times_out),
		cmocka_unit_test(test_client_gone_during_reload),
		cmocka_unit_test(test_close_with_pending_reload),
		cmocka_unit_test(test_connections_bounded),
		cmocka_unit_test(test_idle_clients_make_room),
		cmocka_unit_test(test_deadline_is_total),
		cmocka_unit_test(test_client_invalid_reply),
		cmocka_unit_test(test_stats_shared_with_child),
		cmocka_unit_test(test_status_worker_json),
		cmocka_unit_test(test_stats_carried),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_status_table_new_keys),
	};

	/* The daemon ignores SIGPIPE; a client that left must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
