/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin socket: a unix stream socket on which the master reads one
 * command line per connection and answers with one JSON document, then
 * closes (the format is in common/admin_proto.h; the client is
 * cli/admin_client.c).  A second daemon finds the socket answering and
 * refuses to start; a socket file left by a crash is replaced.
 */
#include "acconfig.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <jansson.h>

#include "common/admin_proto.h"
#include "master/admin.h"
#include "common/log.h"
#include "common/util.h"

#define ADMIN_BACKLOG		16
#define ADMIN_DRAIN_MAX		65536

struct admin_conn {
	struct admin		*admin;
	struct bufferevent	*bev;
	struct event		*deadline;	/* for the command, the reply */
	struct admin_req	*req;		/* a reload awaiting its reply */
	int			 answered;	/* the command was read */
	TAILQ_ENTRY(admin_conn)	 entry;		/* oldest first */
};

/* Outlives its connection: the reload answers whenever it is done. */
struct admin_req {
	struct admin_conn	*conn;		/* NULL once the client is gone */
};

struct admin {
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct event		*retry;		/* re-enables after accept errors */
	struct admin_ops	 ops;
	void			*arg;
	char			*path;
	dev_t			 dev;		/* of the socket file we bound */
	ino_t			 ino;
	pid_t			 pid;		/* the process that bound it */
	TAILQ_HEAD(, admin_conn) conns;
	unsigned int		 nconns;
	int			 accept_failed;
};

static struct timeval admin_timeout = { (time_t)ADMIN_TIMEOUT, 0 };

static void	admin_conn_free(struct admin_conn *conn);

void
admin_set_timeout(double seconds)
{
	admin_timeout = seconds_timeval(seconds);
}

/*
 * An error text that is not valid UTF-8 makes no JSON string; it goes out
 * escaped rather than as an answer without the error, which a client
 * would take for success.
 */
json_t *
admin_error_doc(int code, const char *fmt, ...)
{
	va_list	 ap;
	char	*s, *clean;
	json_t	*text;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return NULL;
	if ((text = json_string(s)) == NULL &&
	    (clean = str_printable(s)) != NULL) {
		text = json_string(clean);
		free(clean);
	}
	free(s);
	if (text == NULL)
		return NULL;
	return json_pack("{s:o, s:i}", ADMIN_KEY_ERROR, text, ADMIN_KEY_CODE,
	    code);
}

/* Writes doc (taking its reference) and closes once it is sent. */
static void
admin_conn_send(struct admin_conn *conn, json_t *doc)
{
	struct evbuffer	*out = bufferevent_get_output(conn->bev);
	char		*text;

	conn->answered = 1;
	bufferevent_disable(conn->bev, EV_READ);
	text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (text == NULL ||
	    evbuffer_add(out, text, strlen(text)) == -1 ||
	    evbuffer_add(out, "\n", 1) == -1) {
		free(text);
		admin_conn_free(conn);
		return;
	}
	free(text);
	/* A fresh total deadline: a reader that never reads is dropped. */
	evtimer_add(conn->deadline, &admin_timeout);
	bufferevent_enable(conn->bev, EV_WRITE);
}

/* Keeps an unknown command printable and short in the error reply. */
static void
admin_sanitize(char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!isprint((unsigned char)s[i]))
			s[i] = '?';
	if (len > 64)
		strcpy(s + 61, "...");
}

static void
admin_conn_command(struct admin_conn *conn, char *line, size_t len)
{
	struct admin	*admin = conn->admin;
	struct admin_req *req;
	json_t		*doc;

	conn->answered = 1;
	bufferevent_disable(conn->bev, EV_READ);
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	if (strlen(line) == len && strcmp(line, ADMIN_CMD_STATUS) == 0) {
		doc = admin->ops.status != NULL ?
		    admin->ops.status(admin->arg) : NULL;
		if (doc == NULL)
			doc = admin_error_doc(ADMIN_CODE_SOFTWARE,
			    "status is not available");
		admin_conn_send(conn, doc);
	} else if (strlen(line) == len && strcmp(line, ADMIN_CMD_RELOAD) == 0) {
		if (admin->ops.reload == NULL) {
			admin_conn_send(conn,
			    admin_error_doc(ADMIN_CODE_SOFTWARE,
			    "reload is not supported"));
			return;
		}
		if ((req = calloc(1, sizeof(*req))) == NULL) {
			admin_conn_free(conn);
			return;
		}
		req->conn = conn;
		conn->req = req;
		/* The master bounds a reload; "reload --wait" waits for it. */
		evtimer_del(conn->deadline);
		admin->ops.reload(admin->arg, req);
	} else {
		admin_sanitize(line, len);
		admin_conn_send(conn,
		    admin_error_doc(ADMIN_CODE_SOFTWARE,
		    "unknown command: %s", line));
	}
}

static void
admin_conn_read(struct bufferevent *bev, void *arg)
{
	struct admin_conn	*conn = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	if (conn->answered)
		return;
	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line == NULL && evbuffer_get_length(in) <= ADMIN_LINE_MAX)
		return;
	if (line == NULL || len > ADMIN_LINE_MAX) {
		free(line);
		admin_conn_send(conn, admin_error_doc(ADMIN_CODE_SOFTWARE,
		    "request line longer "
		    "than %d bytes", ADMIN_LINE_MAX));
		return;
	}
	admin_conn_command(conn, line, len);
	free(line);
}

static void
admin_conn_written(struct bufferevent *bev, void *arg)
{
	struct admin_conn	*conn = arg;

	/* Called once the output is empty: the reply is out. */
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    conn->answered)
		admin_conn_free(conn);
}

static void
admin_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct admin_conn	*conn = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 len;
	char			*line;

	if (!conn->answered && (what & BEV_EVENT_EOF) &&
	    (len = evbuffer_get_length(in)) > 0 && len <= ADMIN_LINE_MAX) {
		/* A last line without its newline ("printf status | nc -U"). */
		if ((line = calloc(1, len + 1)) == NULL) {
			admin_conn_free(conn);
			return;
		}
		evbuffer_remove(in, line, len);
		admin_conn_command(conn, line, len);
		free(line);
		return;
	}
	admin_conn_free(conn);
}

/*
 * The total deadline: the command must be complete within ADMIN_TIMEOUT
 * of the connection, however the bytes trickle in, and a reply must be
 * read within ADMIN_TIMEOUT of being sent.
 */
static void
admin_conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conn	*conn = arg;

	(void)fd;
	(void)what;
	if (!conn->answered) {
		admin_conn_send(conn, admin_error_doc(ADMIN_CODE_SOFTWARE,
		    "no command within "
		    "%.1f s", (double)admin_timeout.tv_sec +
		    admin_timeout.tv_usec / 1e6));
		return;
	}
	admin_conn_free(conn);
}

/*
 * Reads what the client sent beyond its command before closing: closing a
 * unix socket with unread data makes the client's read fail with
 * ECONNRESET instead of returning the reply.
 */
static void
admin_conn_drain(evutil_socket_t fd)
{
	char	 buf[4096];
	size_t	 total = 0;
	ssize_t	 n;

	while (total < ADMIN_DRAIN_MAX &&
	    (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

static void
admin_conn_free(struct admin_conn *conn)
{
	struct admin	*admin = conn->admin;

	if (conn->req != NULL)
		conn->req->conn = NULL;
	TAILQ_REMOVE(&admin->conns, conn, entry);
	admin_conn_drain(bufferevent_getfd(conn->bev));
	bufferevent_free(conn->bev);
	event_free(conn->deadline);
	free(conn);
	if (admin->nconns-- == ADMIN_CONNS_MAX && !admin->accept_failed)
		evconnlistener_enable(admin->listener);
}

/*
 * At the limit, the oldest connection not waiting for a reload makes room,
 * so that clients holding every slot cannot keep "status" out; only when
 * every slot waits for a reload do new clients wait in the backlog.
 */
static void
admin_make_room(struct admin *admin, struct admin_conn *newest)
{
	struct admin_conn	*conn;

	TAILQ_FOREACH(conn, &admin->conns, entry)
		if (conn->req == NULL || conn == newest)
			break;
	if (conn != newest) {
		log_debug("admin socket %s: %u clients; closing the oldest",
		    admin->path, admin->nconns);
		admin_conn_free(conn);
	}
	if (admin->nconns >= ADMIN_CONNS_MAX)
		evconnlistener_disable(admin->listener);
}

/* Root and our own user only; others get a one-line refusal. */
static int
admin_peer_trusted(struct admin *admin, int fd)
{
	static const char refusal[] = "{\"error\":\"permission denied: "
	    "only root and the daemon's user may use the admin socket\","
	    "\"code\":77}\n";
	_Static_assert(ADMIN_CODE_NOPERM == 77, "the refusal's code");
	long	 uid = admin_peer_uid(fd);

	if (uid == 0 || uid == (long)geteuid())
		return 1;
	if (uid < 0)
		log_warnx("admin socket %s: SO_PEERCRED: %s", admin->path,
		    strerror((int)-uid));
	else {
		log_warnx("admin socket %s: refused a client of uid %ld",
		    admin->path, uid);
		(void)send(fd, refusal, sizeof(refusal) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		admin_conn_drain(fd);
	}
	return 0;
}

static void
admin_accept(struct evconnlistener *listener, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct admin		*admin = arg;
	struct admin_conn	*conn;

	(void)sa;
	(void)salen;
	if (!admin_peer_trusted(admin, fd) ||
	    (conn = calloc(1, sizeof(*conn))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	conn->admin = admin;
	conn->deadline = evtimer_new(admin->base, admin_conn_deadline, conn);
	conn->bev = bufferevent_socket_new(admin->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL || conn->deadline == NULL ||
	    evtimer_add(conn->deadline, &admin_timeout) == -1) {
		if (conn->bev != NULL)
			bufferevent_free(conn->bev);
		else
			evutil_closesocket(fd);
		if (conn->deadline != NULL)
			event_free(conn->deadline);
		free(conn);
		return;
	}
	/* Stop reading past one line so a flood cannot grow the buffer. */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, ADMIN_LINE_MAX + 1);
	bufferevent_setcb(conn->bev, admin_conn_read, admin_conn_written,
	    admin_conn_event, conn);
	bufferevent_enable(conn->bev, EV_READ);
	TAILQ_INSERT_TAIL(&admin->conns, conn, entry);
	if (++admin->nconns >= ADMIN_CONNS_MAX)
		admin_make_room(admin, conn);
}

static void
admin_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct admin	*admin = arg;

	(void)fd;
	(void)what;
	admin->accept_failed = 0;
	if (admin->nconns < ADMIN_CONNS_MAX)
		evconnlistener_enable(admin->listener);
}

/* Out of descriptors, most likely: pause rather than spin on accept(). */
static void
admin_accept_error(struct evconnlistener *listener, void *arg)
{
	struct admin	*admin = arg;
	struct timeval	 tv = { 1, 0 };

	log_warn("admin socket %s: accept", admin->path);
	evconnlistener_disable(listener);
	admin->accept_failed = 1;
	evtimer_add(admin->retry, &tv);
}

/* Makes PATH's directory (e.g. /run/affinityd) when only it is missing. */
static int
admin_mkparent(const char *path)
{
	struct stat	 st;
	char		*dir;
	mode_t		 mode;
	int		 r = 0;

	if (strchr(path, '/') == NULL)
		return 0;
	if ((dir = admin_dirname(path)) == NULL)
		return -ENOMEM;
	/* A link, even a dangling one, is left for admin_dir_check(). */
	if (lstat(dir, &st) == 0 || errno != ENOENT)
		goto out;
	/* Root's (/run/affinityd) lets the group look in; a user's is private. */
	mode = geteuid() == 0 ? 0750 : 0700;
	if (mkdir(dir, mode) == -1) {
		if (errno != EEXIST)
			r = -errno;
		goto out;
	}
	/* Exactly that mode, whatever the umask. */
	if (chmod(dir, mode) == -1)
		r = -errno;
out:
	free(dir);
	return r;
}

/*
 * The socket's directory must be ours (or root's), a directory and not a
 * link to one, and not writable by others, unless sticky: else another
 * user could have put a socket of theirs at the path first, or could
 * replace ours.  A default directory in /tmp made by someone else is
 * refused here.
 */
static char *
admin_check_parent(const char *path)
{
	struct stat	 st;
	char		*dir, *why;

	if ((why = admin_dir_check(path, &st)) != NULL)
		return why;
	if ((dir = admin_dirname(path)) == NULL)
		return admin_why("%s", strerror(ENOMEM));
	if (st.st_uid != geteuid() && st.st_uid != 0)
		why = admin_why("%s: its directory %s belongs to "
		    "uid %lu, not to us (uid %lu) or root; set "
		    "XDG_RUNTIME_DIR or daemon.admin_socket to a directory of "
		    "our own", path, dir, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(st.st_mode & S_ISVTX))
		why = admin_why("%s: its directory %s is writable "
		    "by other users (mode %04o)", path, dir,
		    (unsigned int)(st.st_mode & 07777));
	free(dir);
	return why;
}

/* 1 when a process answers on PATH, 0 when nobody does, or -errno. */
static int
admin_probe(const struct sockaddr_un *sun)
{
	int	 fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		r = 1;
	else if (errno == EAGAIN)
		r = 1;		/* listening, with a full backlog */
	else if (errno == ECONNREFUSED || errno == ENOENT)
		r = 0;
	else
		r = -errno;
	close(fd);
	return r;
}

static int
admin_bind(const char *path, const struct sockaddr_un *sun, char **why)
{
	struct stat	 st;
	int		 fd, attempt, r;

	for (attempt = 0;; attempt++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (fd == -1) {
			*why = admin_why("socket: %s", strerror(errno));
			return -1;
		}
		if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
			return fd;
		r = errno;
		close(fd);
		if (r != EADDRINUSE || attempt > 0) {
			*why = admin_why("bind %s: %s", path, strerror(r));
			return -1;
		}
		if ((r = admin_probe(sun)) != 0) {
			*why = r > 0 ? admin_why("admin socket %s is in use "
			    "by another affinityd", path) :
			    admin_why("connect %s: %s", path, strerror(-r));
			return -1;
		}
		/* Nobody answers: a socket file left by a crash. */
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			*why = admin_why("admin socket %s: the path exists "
			    "and is not a socket", path);
			return -1;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			*why = admin_why("remove stale admin socket %s: %s",
			    path, strerror(errno));
			return -1;
		}
	}
}

struct admin *
admin_listen(struct event_base *base, const char *path,
    const struct admin_ops *ops, void *arg, char **why)
{
	struct sockaddr_un	 sun;
	struct admin		*admin;
	struct stat		 st;
	int			 fd, r;

	*why = NULL;
	if (admin_sockaddr(path, &sun) < 0) {
		*why = admin_why("admin socket path %s is longer than %zu "
		    "bytes", path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	if ((r = admin_mkparent(path)) < 0) {
		*why = admin_why("admin socket %s: cannot make its "
		    "directory: %s", path, strerror(-r));
		return NULL;
	}
	if ((*why = admin_check_parent(path)) != NULL)
		return NULL;
	if ((fd = admin_bind(path, &sun, why)) == -1)
		return NULL;
	if (chmod(path, 0660) == -1 || lstat(path, &st) == -1) {
		*why = admin_why("chmod %s: %s", path, strerror(errno));
		goto bad_fd;
	}
	if ((admin = calloc(1, sizeof(*admin))) == NULL ||
	    (admin->path = strdup(path)) == NULL) {
		free(admin);
		*why = admin_why("admin socket %s: %s", path, strerror(ENOMEM));
		goto bad_fd;
	}
	admin->base = base;
	admin->ops = *ops;
	admin->arg = arg;
	admin->dev = st.st_dev;
	admin->ino = st.st_ino;
	admin->pid = getpid();
	TAILQ_INIT(&admin->conns);
	admin->retry = evtimer_new(base, admin_accept_retry, admin);
	admin->listener = evconnlistener_new(base, admin_accept, admin,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, ADMIN_BACKLOG, fd);
	if (admin->retry == NULL || admin->listener == NULL) {
		*why = admin_why("listen %s: %s", path, strerror(errno));
		if (admin->listener == NULL)
			close(fd);
		admin_close(admin);
		return NULL;
	}
	evconnlistener_set_error_cb(admin->listener, admin_accept_error);
	return admin;
bad_fd:
	close(fd);
	unlink(path);
	return NULL;
}

/*
 * Removes the socket file only from the process that bound it and only
 * while it is still ours: a worker freeing what it inherited, or a file
 * that replaced ours, must stay.
 */
static void
admin_unlink(struct admin *admin)
{
	struct stat	 st;

	if (admin->pid != getpid())
		return;
	if (lstat(admin->path, &st) == 0 && st.st_dev == admin->dev &&
	    st.st_ino == admin->ino)
		unlink(admin->path);
}

void
admin_close(struct admin *admin)
{
	struct admin_conn	*conn;

	if (admin == NULL)
		return;
	/*
	 * Answers already given (a reload refused as the daemon stops) go
	 * out now, as far as the socket takes them without waiting; only
	 * from the process that answered, not a worker freeing its copy.
	 */
	if (admin->pid == getpid())
		TAILQ_FOREACH(conn, &admin->conns, entry)
			if (conn->answered)
				(void)evbuffer_write(bufferevent_get_output(
				    conn->bev), bufferevent_getfd(conn->bev));
	while (!TAILQ_EMPTY(&admin->conns))
		admin_conn_free(TAILQ_FIRST(&admin->conns));
	if (admin->listener != NULL)
		evconnlistener_free(admin->listener);
	if (admin->retry != NULL)
		event_free(admin->retry);
	admin_unlink(admin);
	free(admin->path);
	free(admin);
}

void
admin_reply(struct admin_req *req, json_t *doc)
{
	struct admin_conn	*conn = req->conn;

	free(req);
	if (conn == NULL) {
		json_decref(doc);
		return;
	}
	conn->req = NULL;
	if (doc == NULL)
		doc = admin_error_doc(ADMIN_CODE_OSERR, "reload failed");
	admin_conn_send(conn, doc);
}
