/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker plan for a configuration: which interfaces "auto" means for
 * its listen addresses (every interface with queues for a wildcard
 * address), the plan discovered and decided for them, and its
 * facts (warnings and notes), which are logged here: by a command once,
 * by the master when they change rather than at every rescan.
 */
#include "acconfig.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "config/config.h"
#include "common/log.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

static int
plan_conf_wildcard(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static int
plan_conf_addr_equal(const struct sockaddr_storage *ss,
    const struct sockaddr *sa)
{
	const struct sockaddr_in	*a4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)ss;

	if (sa == NULL || sa->sa_family != ss->ss_family)
		return 0;
	if (sa->sa_family == AF_INET)
		return a4->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	return memcmp(&a6->sin6_addr,
	    &((const struct sockaddr_in6 *)sa)->sin6_addr,
	    sizeof(a6->sin6_addr)) == 0;
}

/* Adds the interface that holds a listener's address. */
static int
plan_conf_iface_of(const struct listener_conf *lc, struct ifaddrs *ifa_list,
    struct strv *ifaces, struct strv *warnings)
{
	struct ifaddrs	*ifa;

	for (ifa = ifa_list; ifa != NULL; ifa = ifa->ifa_next) {
		if (!plan_conf_addr_equal(&lc->addr, ifa->ifa_addr))
			continue;
		if (strv_contains(ifaces, ifa->ifa_name))
			return 0;
		return strv_add(ifaces, ifa->ifa_name);
	}
	return strv_addf(warnings, "listener \"%s\": address %s is not on any "
	    "interface yet", lc->name, lc->address);
}

/*
 * Fills ifaces with the interfaces to discover.  *all is set when every
 * interface with queues is meant (a wildcard address, or a sysroot whose
 * addresses cannot be looked up).
 */
static int
plan_conf_interfaces(const struct config *conf, const char *sysroot,
    struct strv *ifaces, int *all, struct strv *warnings)
{
	struct ifaddrs	*ifa_list = NULL;
	size_t		 i;
	int		 r = 0;

	*all = 0;
	if (conf->interfaces.n > 0) {
		for (i = 0; i < conf->interfaces.n && r == 0; i++)
			r = strv_add(ifaces, conf->interfaces.v[i]);
		return r;
	}
	if (sysroot != NULL && strcmp(sysroot, "/") != 0) {
		*all = 1;
		return 0;
	}
	for (i = 0; i < conf->nlisteners; i++)
		if (plan_conf_wildcard(&conf->listeners[i].addr))
			*all = 1;
	if (*all)
		return 0;
	if (getifaddrs(&ifa_list) == -1)
		return -errno;
	for (i = 0; i < conf->nlisteners && r == 0; i++)
		r = plan_conf_iface_of(&conf->listeners[i], ifa_list, ifaces,
		    warnings);
	freeifaddrs(ifa_list);
	if (r == 0 && ifaces->n == 0)
		*all = 1;
	return r;
}

int
plan_conf_discover(const struct config *conf, const char *sysroot,
    const struct strv *cli_ifaces, struct plan **plan)
{
	struct topo_options	 opts;
	struct strv		 ifaces = { 0 }, warnings = { 0 };
	size_t			 i;
	int			 all = 0, r;

	if (cli_ifaces != NULL && cli_ifaces->n > 0) {
		for (i = 0; i < cli_ifaces->n; i++)
			if ((r = strv_add(&ifaces, cli_ifaces->v[i])) < 0)
				goto out;
	} else if ((r = plan_conf_interfaces(conf, sysroot, &ifaces, &all,
	    &warnings)) < 0) {
		log_warnx("cannot list interface addresses: %s", strerror(-r));
		goto out;
	}
	memset(&opts, 0, sizeof(opts));
	opts.sysroot = sysroot;
	opts.ifaces = all ? NULL : (const char * const *)ifaces.v;
	opts.nifaces = all ? 0 : ifaces.n;
	opts.workers = plan_topo_workers(conf->workers);
	opts.worker_cpus = conf->worker_cpus;
	opts.exclude_cpus = conf->exclude_cpus;
	r = plan_discover(&opts, plan);
	/* The listeners' warnings join the plan's, as facts of it. */
	for (i = 0; i < warnings.n; i++)
		if (*plan == NULL || strv_add(&(*plan)->warnings,
		    warnings.v[i]) < 0)
			log_warnx("%s", warnings.v[i]);
out:
	strv_free(&warnings);
	strv_free(&ifaces);
	return r;
}

void
plan_conf_log_warnings(const struct plan *plan)
{
	size_t	 i;

	for (i = 0; i < plan->topo->warnings.n; i++)
		log_warnx("%s", plan->topo->warnings.v[i]);
	for (i = 0; i < plan->warnings.n; i++)
		log_warnx("%s", plan->warnings.v[i]);
}

/* Logs the lines of facts that last does not hold, and keeps them in now. */
static void
plan_conf_log_new(const struct strv *facts,
    void (*logf)(const char *, ...), const struct strv *last,
    struct strv *now)
{
	size_t	 i;

	for (i = 0; i < facts->n; i++) {
		if (!strv_contains(last, facts->v[i]))
			logf("%s", facts->v[i]);
		/* Out of memory, a fact is only logged again next time. */
		(void)strv_add(now, facts->v[i]);
	}
}

void
plan_conf_log_changes(const struct plan *plan, struct strv *last)
{
	struct strv	 now = { 0 };

	plan_conf_log_new(&plan->topo->warnings, log_warnx, last, &now);
	plan_conf_log_new(&plan->warnings, log_warnx, last, &now);
	plan_conf_log_new(&plan->topo->notes, log_info, last, &now);
	strv_free(last);
	*last = now;
}
