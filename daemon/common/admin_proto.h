/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin socket's wire format, shared by the server (the master,
 * master/admin.c) and the client (the commands, cli/admin_client.c): a
 * client sends one command line, the server answers with one JSON object
 * and closes.  An answer {"error": TEXT, "code": N} is a refusal or a
 * failure; N is the sysexits(3) status the command exits with (an older
 * daemon sends no "code").  Also the socket helpers both sides use.
 */
#ifndef AFFINITYD_ADMIN_PROTO_H
#define AFFINITYD_ADMIN_PROTO_H

#include <sys/un.h>

#include "common/util.h"

/* The commands. */
#define ADMIN_CMD_STATUS	"status"
#define ADMIN_CMD_RELOAD	"reload"

/* The keys of an answer other than the status document. */
#define ADMIN_KEY_ERROR		"error"		/* string: what failed */
#define ADMIN_KEY_CODE		"code"		/* integer: an ADMIN_CODE_* */
#define ADMIN_KEY_OK		"ok"		/* true: the reload is done */
#define ADMIN_KEY_GENERATION	"generation"	/* the generation serving */

/* What an error means, as the exit status of the command that got it. */
#define ADMIN_CODE_OK		0
#define ADMIN_CODE_SOFTWARE	EXIT_SOFTWARE	/* unknown command, bad request */
#define ADMIN_CODE_OSERR	EXIT_OSERR	/* the new workers failed */
#define ADMIN_CODE_TEMPFAIL	EXIT_TEMPFAIL	/* stopping, or still starting */
#define ADMIN_CODE_NOPERM	EXIT_NOPERM	/* a user the daemon refuses */
#define ADMIN_CODE_CONFIG	EXIT_CONFIG	/* the configuration is invalid */

/*
 * Seconds a client has, in all, to send its command, and then to read the
 * reply; bytes trickling in do not extend it.
 */
#define ADMIN_TIMEOUT		5.0
/* Longest command line, in bytes. */
#define ADMIN_LINE_MAX		256
/* Longest answer a client reads, in bytes. */
#define ADMIN_REPLY_MAX		(16 * 1024 * 1024)

/*
 * admin_proto.c
 *
 * admin_sockaddr() fills sun for PATH (-ENAMETOOLONG when it does not
 * fit).  admin_peer_uid() gives the uid of the process at the other end
 * of a unix socket (for a server, the one that called listen()), or
 * -errno.  admin_why() formats a malloc'd message (NULL when out of
 * memory), for the *why both sides hand back.
 */
int	 admin_sockaddr(const char *path, struct sockaddr_un *sun);
/*
 * admin_dir_check() lstat()s the directory holding the socket PATH into
 * *st and refuses a symbolic link or a non-directory there; both the
 * daemon and the client use it before trusting that directory's owner.
 * NULL when it is a directory, else a malloc'd reason naming it.
 */
struct stat;
char	*admin_dir_check(const char *path, struct stat *st);
/* admin_dirname(): PATH's directory, malloc'd ("." for a bare name). */
char	*admin_dirname(const char *path);
long	 admin_peer_uid(int fd);
char	*admin_why(const char *fmt, ...) PRINTFLIKE(1, 2);

#endif
