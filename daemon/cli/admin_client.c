/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin socket's blocking client, which "affinityd status" and
 * "affinityd reload" use: it connects, makes sure the server is one it
 * may believe (not a squatter on the path), sends one command and reads
 * the JSON answer until the daemon closes.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/admin_client.h"
#include "common/admin_proto.h"
#include "common/util.h"

/*
 * A server we may believe: root, our own user, or, for root, the user that
 * owns the socket's directory when nobody else may write there (the
 * service's /run/affinityd, made by systemd for its unprivileged user),
 * and that directory is not a link another user could have pointed at a
 * directory of theirs.  A squatter can only own a directory that root was
 * pointed at by name.  NULL when trusted, else a malloc'd reason.
 */
static char *
admin_server_trusted(const char *path, long uid)
{
	struct stat	 st;
	char		*why;

	if (uid == 0 || uid == (long)geteuid())
		return NULL;
	if (geteuid() == 0) {
		if ((why = admin_dir_check(path, &st)) != NULL)
			return why;
		if ((long)st.st_uid == uid &&
		    (st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
			return NULL;
	}
	return admin_why("%s is served by a process of uid %ld, neither "
	    "ours (%lu) nor root nor the owner of its directory: not trusting "
	    "it", path, uid, (unsigned long)geteuid());
}

static int
admin_client_connect(const char *path, double seconds, char **why)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = seconds_timeval(seconds);
	long			 uid;
	int			 fd, r;

	if (admin_sockaddr(path, &sun) < 0) {
		*why = admin_why("admin socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		r = -errno;
		*why = admin_why("socket: %s", strerror(errno));
		return r;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		r = -errno;
		*why = admin_why("setsockopt: %s", strerror(errno));
		close(fd);
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* A blocking unix connect says EAGAIN when SO_SNDTIMEO ends. */
		r = errno == EAGAIN ? -ETIMEDOUT :
		    errno == EPERM ? -EACCES : -errno;
		*why = admin_why("connect %s: %s%s", path, strerror(-r),
		    r == -ENOENT || r == -ECONNREFUSED ?
		    " (is affinityd running?)" : "");
		close(fd);
		return r;
	}
	/* Whoever listens there must be one we trust, not a squatter. */
	if ((uid = admin_peer_uid(fd)) < 0) {
		r = (int)uid;
		*why = admin_why("%s: SO_PEERCRED: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if ((*why = admin_server_trusted(path, uid)) != NULL) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

static int
admin_client_send(int fd, const char *path, const char *command, char **why)
{
	char	*msg;
	size_t	 len, off = 0;
	ssize_t	 n;
	int	 r = 0;

	if (asprintf(&msg, "%s\n", command) < 0) {
		*why = admin_why("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	len = strlen(msg);
	while (off < len) {
		if ((n = send(fd, msg + off, len - off, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			r = errno == EAGAIN ? -ETIMEDOUT : -errno;
			*why = admin_why("send to %s: %s", path, strerror(-r));
			break;
		}
		off += (size_t)n;
	}
	free(msg);
	return r;
}

/* Reads until the daemon closes; the reply is then complete. */
static int
admin_client_read(int fd, const char *path, double seconds, char **text,
    size_t *len, char **why)
{
	char	*buf = NULL, *grown;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 r;

	*len = 0;
	for (;;) {
		if (*len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if ((grown = realloc(buf, cap)) == NULL) {
				free(buf);
				*why = admin_why("%s", strerror(ENOMEM));
				return -ENOMEM;
			}
			buf = grown;
		}
		n = recv(fd, buf + *len, cap - *len, 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET && *len > 0))
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = errno == EAGAIN ? -ETIMEDOUT : -errno;
			free(buf);
			if (r == -ETIMEDOUT)
				*why = admin_why("%s: no reply within %.1f s",
				    path, seconds);
			else
				*why = admin_why("read from %s: %s", path,
				    strerror(-r));
			return r;
		}
		*len += (size_t)n;
		if (*len > ADMIN_REPLY_MAX) {
			free(buf);
			*why = admin_why("%s: reply larger than %d bytes", path,
			    ADMIN_REPLY_MAX);
			return -EFBIG;
		}
	}
	*text = buf;
	return 0;
}

static int
admin_client_parse(const char *path, const char *text, size_t len,
    json_t **reply, char **why, int *code)
{
	json_error_t	 err;
	json_t		*doc, *error, *value;
	char		*clean;

	if (len == 0) {
		*why = admin_why("%s: the daemon closed the connection "
		    "without a reply", path);
		return -EPROTO;
	}
	/* What the server sent, quoted in err.text too, reaches a terminal. */
	if ((doc = json_loadb(text, len, 0, &err)) == NULL) {
		clean = str_printable(err.text);
		*why = admin_why("%s: invalid reply: %s (line %d)", path,
		    clean != NULL ? clean : "?", err.line);
		free(clean);
		return -EPROTO;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		*why = admin_why("%s: invalid reply: not a JSON object", path);
		return -EPROTO;
	}
	if ((error = json_object_get(doc, ADMIN_KEY_ERROR)) != NULL) {
		*why = json_is_string(error) ?
		    str_printable(json_string_value(error)) :
		    admin_why("%s: the daemon reported an error", path);
		value = json_object_get(doc, ADMIN_KEY_CODE);
		if (json_is_integer(value) && json_integer_value(value) > 0 &&
		    json_integer_value(value) < 256)
			*code = (int)json_integer_value(value);
		json_decref(doc);
		return -1;
	}
	*reply = doc;
	return 0;
}

int
admin_request(const char *path, const char *command, double seconds,
    json_t **reply, char **why, int *code)
{
	char	*text = NULL, *refusal = NULL;
	size_t	 len;
	int	 fd, r, ignored;

	if (code == NULL)
		code = &ignored;
	*reply = NULL;
	*why = NULL;
	*code = 0;
	if (strchr(command, '\n') != NULL || strlen(command) > ADMIN_LINE_MAX) {
		*why = admin_why("invalid admin command");
		return -EINVAL;
	}
	if ((fd = admin_client_connect(path, seconds, why)) < 0)
		return fd;
	r = admin_client_send(fd, path, command, why);
	/* A daemon that refuses us says why and closes before we write. */
	if (r == -EPIPE || r == -ECONNRESET) {
		if (admin_client_read(fd, path, seconds, &text, &len,
		    &refusal) == 0 && len > 0) {
			free(*why);
			*why = NULL;
			r = 0;
		}
		free(refusal);
	} else if (r == 0)
		r = admin_client_read(fd, path, seconds, &text, &len, why);
	if (r == 0)
		r = admin_client_parse(path, text, len, reply, why, code);
	free(text);
	close(fd);
	return r;
}
