/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The socket helpers the admin server and its client share: the address
 * of a socket path, the peer's uid, and the messages they hand back.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/admin_proto.h"

int
admin_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

long
admin_peer_uid(int fd)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -errno;
	return (long)cred.uid;
}

char *
admin_why(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* PATH's directory, malloc'd: "." for a bare name, "/" for "/name". */
char *
admin_dirname(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/*
 * lstat()s the directory holding the socket PATH into *ST.  A symbolic
 * link there is refused as a directory of another user is: whoever owns
 * the link (anyone, for a name in /tmp) can point it elsewhere at any
 * time, so what we check would not be what we bind or connect through.
 * NULL when it is a real directory, else a malloc'd reason naming it.
 */
char *
admin_dir_check(const char *path, struct stat *st)
{
	char	*dir, *why = NULL;

	if ((dir = admin_dirname(path)) == NULL)
		return admin_why("%s", strerror(ENOMEM));
	if (lstat(dir, st) == -1)
		why = admin_why("%s: %s: %s", path, dir, strerror(errno));
	else if (S_ISLNK(st->st_mode))
		why = admin_why("%s: its directory %s is a symbolic link "
		    "(of uid %lu), which anyone owning it may point elsewhere; "
		    "not following it", path, dir,
		    (unsigned long)st->st_uid);
	else if (!S_ISDIR(st->st_mode))
		why = admin_why("%s: %s is not a directory", path, dir);
	free(dir);
	return why;
}
