/*
 * The worker process: pinned to one CPU, owns one socket per listener,
 * serves them from its own libevent loop.  The master and a worker talk
 * over a SOCK_SEQPACKET socketpair with the fixed messages below.
 */
#ifndef AFFINITYD_WORKER_H
#define AFFINITYD_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;
struct stats_slot;

#define WMSG_VERSION	1
#define WMSG_MAX_FDS	250	/* below the kernel's SCM_MAX_FD (253) */

enum wmsg_type {
	WMSG_READY = 1,		/* worker -> master: listening; fds attached */
	WMSG_ERROR,		/* worker -> master: cannot start; text says why */
	WMSG_GO,		/* master -> worker: every check passed, serve */
	WMSG_STOPPED,		/* worker -> master: stopped accepting, draining */
};

struct wmsg {
	uint32_t	 version;
	uint32_t	 type;
	int32_t		 status;	/* WMSG_ERROR: the exit code to use */
	uint32_t	 nfds;		/* descriptors attached (WMSG_READY) */
	char		 text[480];
};

/* What the master hands a worker; the child reads it after fork(). */
struct worker_spec {
	unsigned int		 id;
	unsigned int		 cpu;
	unsigned int		 generation;
	const struct config	*conf;
	struct stats_slot	*slot;
	int			 ctl_fd;	/* the worker's end */
	const int		*fds;		/* held sockets to take over, or NULL */
	const char		*user;		/* daemon.user, when drop_privileges */
	uid_t			 uid;
	gid_t			 gid;
	int			 drop_privileges;
};

/* worker.c */
int	 worker_main(const struct worker_spec *spec);
int	 wmsg_send(int fd, enum wmsg_type type, int status, const int *fds,
	    size_t nfds, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
ssize_t	 wmsg_recv(int fd, struct wmsg *msg, int *fds, size_t maxfds);

#endif
