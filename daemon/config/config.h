/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's configuration: a libconfig file turned into a plain,
 * fully validated struct config, with a default for every key.
 */
#ifndef AFFINITYD_CONFIG_H
#define AFFINITYD_CONFIG_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/enums.h"
#include "common/util.h"

struct cpuset;

/* topology.workers; plan.c turns it into the plan's terms. */
enum config_workers {
	CONFIG_WORKERS_RX_QUEUES,	/* "rx-queues" */
	CONFIG_WORKERS_CPUS,		/* "cpus" */
	CONFIG_WORKERS_LIST,		/* a CPU list: worker_cpus */
};

struct listener_conf {
	char			*name;
	enum listen_proto	 protocol;
	char			*address;	/* as written: "127.0.0.1", "::" */
	uint16_t		 port;
	char			*handler;	/* "echo", "discard", "info", "http" */
	int			 backlog;	/* TCP; 0 for UDP */
	int			 defer_accept;	/* TCP: accept once data came */
	int			 v6only;	/* -1: default (off for "::") */
	char			*http_body;	/* handler "http" only */
	double			 idle_timeout;	/* TCP: seconds; 0: none */
	double			 header_timeout; /* http: seconds; 0: none */
	struct sockaddr_storage	 addr;		/* resolved address and port */
	socklen_t		 addrlen;
};

struct config {
	char			*path;		/* NULL: built-in defaults */

	/* daemon = { ... } */
	char			*user;		/* NULL: keep the current user */
	char			*user_at;	/* "FILE:LINE", NULL: default */
	char			*admin_socket;
	char			*metrics;	/* "HOST:PORT", NULL: off */
	struct sockaddr_storage	 metrics_addr;	/* when metrics is set */
	socklen_t		 metrics_addrlen;
	int			 max_connections;
	int			 buffer_budget_kib; /* per worker */
	char			*pid_file;	/* NULL: none */
	enum log_level		 log_level;
	double			 shutdown_timeout;

	/* topology = { ... } */
	struct strv		 interfaces;	/* empty: "auto" */
	enum config_workers	 workers;
	struct cpuset		*worker_cpus;	/* CONFIG_WORKERS_LIST only */
	struct cpuset		*exclude_cpus;	/* never NULL, may be empty */
	enum steering		 steering;
	enum irq_affinity_mode	 irq_affinity;
	char			*workers_at;	/* "FILE:LINE", NULL: default */
	char			*exclude_at;	/* "FILE:LINE", NULL: default */
	double			 rescan_interval; /* seconds; 0: no rescan */

	/* listeners = ( ... ) */
	struct listener_conf	*listeners;
	size_t			 nlisteners;
};

/*
 * What the configuration needs to know of a protocol handler to check a
 * listener.  The owner of the handlers (worker/handler.c's table today,
 * modules found by name later) answers through struct config_handlers,
 * so that the configuration knows no handler itself.
 */
struct config_handler_caps {
	int		 tcp;		/* serves TCP */
	int		 udp;		/* serves UDP */
	int		 speaks_first;	/* TCP: writes before the client */
};

struct config_handlers {
	/* 0 and *caps for the handler named name, -ENOENT when none is. */
	int		(*find)(const char *name,
			    struct config_handler_caps *caps);
};

/*
 * config.c: config_load() gives 0 and a fully checked *conf, or -1 with
 * *conf untouched and every problem appended to errors (may be NULL) as
 * "FILE:LINE: KEY: what is wrong"; each listener's handler is looked up
 * through handlers.  config_check_cpus() checks conf against the CPUs
 * allowed, config_check_host() against this host (the CPUs it lets the
 * daemon use, daemon.user), the same way: -1 when they added an error.
 * config_load_host() is config_load() and then config_check_host() on
 * every key that was valid, so that one run reports every error a start
 * would meet.  config_load_host_partial() is config_load_host() that,
 * after -1, still gives in *conf the keys that were valid (defaults for
 * the others; NULL when the file could not be read or parsed), for -t to
 * check the worker plan of a file that has other errors too.
 */

/*
 * A worker hands the master one socket per listener in one message, and
 * SCM_RIGHTS carries at most 253 descriptors (wmsg.h's WMSG_MAX_FDS).
 */
#define CONFIG_MAX_LISTENERS	250
struct config	*config_defaults(void);
int		 config_load(const char *path,
		    const struct config_handlers *handlers,
		    struct config **conf, struct strv *errors);
int		 config_load_host(const char *path,
		    const struct config_handlers *handlers,
		    struct config **conf, struct strv *errors);
int		 config_load_host_partial(const char *path,
		    const struct config_handlers *handlers,
		    struct config **conf, struct strv *errors);
int		 config_check_cpus(const struct config *conf,
		    const struct cpuset *allowed, struct strv *errors);
int		 config_check_host(const struct config *conf,
		    struct strv *errors);
void		 config_free(struct config *conf);
/*
 * config_worker_nofile(): the open files one worker of conf needs, its
 * max_connections across all listeners, the listeners, and a margin for
 * its event loop, signalfd, the master's socket and the log
 * (CONFIG_NOFILE_SPARE, which a master's count uses too).
 */
#define CONFIG_NOFILE_SPARE	32
unsigned long long config_worker_nofile(const struct config *conf);
const char	*config_default_admin_socket(void);
char		*config_peek_admin_socket(const char *path);
int		 config_admin_socket_path(uid_t euid, char *buf, size_t len);

#endif
