/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The messages between the master and a worker: fixed records over a
 * SOCK_SEQPACKET socketpair, with a version, sockets attached as
 * SCM_RIGHTS.
 */
#ifndef AFFINITYD_WMSG_H
#define AFFINITYD_WMSG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define WMSG_VERSION	1
#define WMSG_MAX_FDS	250	/* below the kernel's SCM_MAX_FD (253) */

enum wmsg_type {
	WMSG_READY = 1,		/* worker -> master: listening; fds attached */
	WMSG_ERROR,		/* worker -> master: cannot start; text says why */
	WMSG_GO,		/* master -> worker: every check passed, serve */
	WMSG_STOPPED,		/* worker -> master: stopped accepting, draining */
	WMSG_MOVE,		/* master -> worker: serve on CPU status from now */
};

struct wmsg {
	uint32_t	 version;
	uint32_t	 type;
	int32_t		 status;	/* WMSG_ERROR: the exit code to use */
	uint32_t	 nfds;		/* descriptors attached (WMSG_READY) */
	char		 text[480];
};

/* wmsg.c */
int	 wmsg_send(int fd, enum wmsg_type type, int status, const int *fds,
	    size_t nfds, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
ssize_t	 wmsg_recv(int fd, struct wmsg *msg, int *fds, size_t maxfds);

#endif
