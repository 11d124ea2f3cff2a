/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Topology discovery: the RX queues of each interface, the IRQ that serves
 * each queue (from the netdev netlink family on the machine itself when
 * the driver links every queue, else by the vectors' names), the CPU that
 * processes its packets, and the CPUs the daemon may use, all read below
 * a root prefix.  Discovery decides no worker: plan.c does that from the
 * map, for the caller (plan_discover()).  Nothing here logs above debug:
 * whatever looks wrong becomes a warning (or a note) for the caller, and
 * only a missing interface is an error.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cpuset.h"
#include "topology/irqmap.h"
#include "common/log.h"
#include "topology/netdev_nl.h"
#include "topology/topology.h"
#include "common/util.h"

/* Stacked devices deeper than this are a loop or a mistake. */
#define TOPO_MAX_DEPTH	8

/* The state of one discovery. */
struct topo_ctx {
	const struct topo_options *opts;
	const char		*sysroot;
	struct topology		*topo;
	struct irqmap		*map;	/* NULL: no /proc/interrupts */
	struct strv		 seen;	/* interfaces already listed */
	int			 nomem;	/* a warning was lost */
};

/* Where an interface's device sits and what names tie IRQs to it. */
struct topo_dev {
	char	*msidir;	/* the directory holding msi_irqs, or NULL */
	char	*pci_addr;	/* "0000:3b:00.0", or NULL */
	char	*bus_name;	/* "virtio2", or NULL */
	char	*driver;	/* NULL when there is none */
};

/* The action names of a device's IRQs, as irqname wants them. */
struct topo_cands {
	struct irqname_candidate *v;
	size_t			  n;
	size_t			  cap;
	struct strv		  names;	/* owns the strings of v */
};

static void
topology_warn(struct topo_ctx *ctx, const char *fmt, ...) PRINTFLIKE(2, 3);
static void
topology_note(struct topo_ctx *ctx, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
topology_warn(struct topo_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (strv_vaddf(&ctx->topo->warnings, fmt, ap) < 0)
		ctx->nomem = 1;
	va_end(ap);
}

/* A fact worth an info line rather than a warning. */
static void
topology_note(struct topo_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (strv_vaddf(&ctx->topo->notes, fmt, ap) < 0)
		ctx->nomem = 1;
	va_end(ap);
}

const char *
topology_source_name(enum topo_source source)
{
	switch (source) {
	case TOPO_SOURCE_NETLINK:
		return "netlink";
	case TOPO_SOURCE_IRQ:
		return "irq";
	case TOPO_SOURCE_RPS:
		return "rps";
	case TOPO_SOURCE_CPUS:
		return "cpus";
	}
	return "unknown";
}

static int
topology_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static int
topology_cmp_uint(const void *a, const void *b)
{
	const unsigned int	*x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Whether a device name is a PCI address, "DDDD:BB:DD.F". */
static int
topology_is_pci_addr(const char *s)
{
	size_t	 n;

	n = strspn(s, "0123456789abcdefABCDEF");
	if (n < 4 || s[n] != ':')
		return 0;
	s += n + 1;
	if (strspn(s, "0123456789abcdefABCDEF") != 2 || s[2] != ':')
		return 0;
	s += 3;
	if (strspn(s, "0123456789abcdefABCDEF") != 2 || s[2] != '.')
		return 0;
	return s[3] >= '0' && s[3] <= '7' && s[4] == '\0';
}

/* Whether a name can be an interface's: no path tricks. */
static int
topology_is_ifname(const char *s)
{
	return *s != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

static int
topology_is_dir(const char *path)
{
	struct stat	 sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * Reads the names in a directory, sorted.  Hidden entries and "." and
 * ".." are left out.
 */
static int
topology_list_dir(const char *path, struct strv *names)
{
	struct dirent	*de;
	DIR		*dir;
	int		 r = 0;

	if ((dir = opendir(path)) == NULL)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((r = strv_add(names, de->d_name)) < 0)
			break;
	}
	closedir(dir);
	if (r == 0 && names->n > 0)
		qsort(names->v, names->n, sizeof(*names->v), topology_cmp_str);
	return r;
}

/* The basename of a symlink's target, e.g. the driver's name. */
static char *
topology_link_name(const char *path)
{
	char	 buf[PATH_MAX];
	ssize_t	 len;
	char	*slash;

	if ((len = readlink(path, buf, sizeof(buf) - 1)) <= 0)
		return NULL;
	buf[len] = '\0';
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	slash = strrchr(buf, '/');
	return strdup(slash != NULL ? slash + 1 : buf);
}

static void
topology_dev_free(struct topo_dev *dev)
{
	free(dev->msidir);
	free(dev->pci_addr);
	free(dev->bus_name);
	free(dev->driver);
	memset(dev, 0, sizeof(*dev));
}

/*
 * The names that tie IRQs to a resolved device directory.  A PCI device
 * holds its own MSI vectors; a virtio (or other bus) device names itself,
 * and without an msi_irqs of its own its vectors sit on the parent PCI
 * device.
 */
static int
topology_dev_names(struct topo_dev *dev, char *path)
{
	char	*base = strrchr(path, '/') + 1, *parent;

	if (topology_is_pci_addr(base)) {
		dev->pci_addr = strdup(base);
		dev->msidir = sysroot_path(NULL, "%s/msi_irqs", path);
		return dev->pci_addr == NULL || dev->msidir == NULL ?
		    -ENOMEM : 0;
	}
	if ((dev->bus_name = strdup(base)) == NULL ||
	    (dev->msidir = sysroot_path(NULL, "%s/msi_irqs", path)) == NULL)
		return -ENOMEM;
	if (topology_is_dir(dev->msidir) || base == path + 1)
		return 0;
	base[-1] = '\0';
	parent = strrchr(path, '/') + 1;
	if (topology_is_pci_addr(parent) &&
	    (dev->pci_addr = strdup(parent)) == NULL)
		return -ENOMEM;
	free(dev->msidir);
	dev->msidir = sysroot_path(NULL, "%s/msi_irqs", path);
	return dev->msidir == NULL ? -ENOMEM : 0;
}

/*
 * Follows sys/class/net/IF/device and its driver link.  Without a device
 * link the interface is virtual and every field stays NULL.
 */
static int
topology_dev_read(struct topo_ctx *ctx, const char *ifname,
    struct topo_dev *dev)
{
	char	*link, *path;
	int	 r;

	memset(dev, 0, sizeof(*dev));
	if ((link = sysroot_path(ctx->sysroot, "sys/class/net/%s/device",
	    ifname)) == NULL)
		return -ENOMEM;
	if ((path = realpath(link, NULL)) == NULL) {
		r = errno == ENOENT ? 0 : -errno;
		if (r < 0 && r != -ENOMEM)
			topology_warn(ctx, "%s: cannot resolve %s: %s", ifname,
			    link, strerror(-r));
		free(link);
		return r == -ENOMEM ? r : 0;
	}
	free(link);
	if ((link = sysroot_path(NULL, "%s/driver", path)) == NULL)
		r = -ENOMEM;
	else {
		dev->driver = topology_link_name(link);
		r = topology_dev_names(dev, path);
	}
	free(link);
	free(path);
	if (r < 0)
		topology_dev_free(dev);
	return r;
}

static int
topology_cands_add(struct topo_cands *c, unsigned int irq, const char *name)
{
	struct irqname_candidate	*grown;
	size_t				 cap;
	int				 r;

	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 16;
		if ((grown = reallocarray(c->v, cap, sizeof(*grown))) == NULL)
			return -ENOMEM;
		c->v = grown;
		c->cap = cap;
	}
	if ((r = strv_add(&c->names, name)) < 0)
		return r;
	c->v[c->n].irq = irq;
	c->v[c->n].name = c->names.v[c->names.n - 1];
	c->n++;
	return 0;
}

static void
topology_cands_free(struct topo_cands *c)
{
	free(c->v);
	strv_free(&c->names);
	memset(c, 0, sizeof(*c));
}

/* The action names of one IRQ: /proc/irq/N first, then /proc/interrupts. */
static int
topology_irq_names(struct topo_ctx *ctx, unsigned int irq, struct strv *names)
{
	if (ctx->map == NULL)
		return irqmap_actions(ctx->sysroot, irq, names);
	return irqmap_names(ctx->sysroot, ctx->map, irq, names);
}

/*
 * Adds every name of an IRQ as a candidate; with only_mentioned, only
 * when one of them mentions the device.
 */
static int
topology_cands_irq(struct topo_ctx *ctx, const struct irqname_dev *idev,
    unsigned int irq, int only_mentioned, struct topo_cands *c)
{
	struct strv	 names = { 0 };
	size_t		 i;
	int		 r, keep = !only_mentioned;

	if ((r = topology_irq_names(ctx, irq, &names)) < 0) {
		strv_free(&names);
		return r == -ENOMEM ? r : 0;
	}
	for (i = 0; i < names.n && !keep; i++)
		keep = irqname_mentions(idev, names.v[i]);
	for (i = 0; i < names.n && keep && r == 0; i++)
		r = topology_cands_add(c, irq, names.v[i]);
	strv_free(&names);
	return r;
}

/*
 * The device's IRQs and their names: its MSI vectors, or, without an
 * msi_irqs directory, the IRQs whose names mention the device.
 */
static int
topology_cands_read(struct topo_ctx *ctx, const struct irqname_dev *idev,
    const struct topo_dev *dev, struct topo_cands *c)
{
	struct strv	 files = { 0 };
	unsigned int	 irq;
	size_t		 i;
	int		 r = -ENOENT;

	if (dev->msidir != NULL && (r = topology_list_dir(dev->msidir,
	    &files)) < 0 && r != -ENOENT && r != -ENOMEM)
		topology_warn(ctx, "%s: cannot read %s: %s", idev->ifname,
		    dev->msidir, strerror(-r));
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		for (i = 0; ctx->map != NULL && i < ctx->map->nlines; i++)
			if ((r = topology_cands_irq(ctx, idev,
			    ctx->map->lines[i].irq, 1, c)) < 0)
				goto out;
		r = 0;
		goto out;
	}
	for (i = 0; i < files.n; i++) {
		if (parse_uint(files.v[i], INT_MAX, &irq) < 0)
			continue;
		if ((r = topology_cands_irq(ctx, idev, irq, 0, c)) < 0)
			goto out;
	}
out:
	strv_free(&files);
	return r;
}

static struct topo_queue *
topology_find_queue(struct topo_iface *iface, unsigned int queue)
{
	size_t	 i;

	for (i = 0; i < iface->nqueues; i++)
		if (iface->queues[i].queue == queue)
			return &iface->queues[i];
	return NULL;
}

/* Gives each queue the IRQ that the driver's vector names assign to it. */
static int
topology_queue_irqs(struct topo_ctx *ctx, struct topo_iface *iface,
    const struct topo_dev *dev)
{
	struct irqname_dev	 idev;
	struct irqname_queue	*rxq = NULL;
	struct topo_cands	 c = { 0 };
	struct topo_queue	*q;
	size_t			 i, nrxq = 0;
	int			 r;

	/*
	 * A virtual device has no IRQ of its own; a name that mentions it
	 * belongs to another namespace's device (a container's veth "eth0").
	 */
	if (dev->msidir == NULL)
		return 0;
	idev.ifname = iface->name;
	idev.pci_addr = dev->pci_addr;
	idev.bus_name = dev->bus_name;
	idev.driver = dev->driver;
	if ((r = topology_cands_read(ctx, &idev, dev, &c)) < 0 || c.n == 0)
		goto out;
	if ((r = irqname_rx_queues(&idev, c.v, c.n, &rxq, &nrxq)) < 0) {
		if (r != -ENOMEM)
			topology_warn(ctx, "%s: cannot tell its queues' IRQs "
			    "apart: %s", iface->name, strerror(-r));
		r = r == -ENOMEM ? r : 0;
		goto out;
	}
	/* Sorted by queue then IRQ: the lowest IRQ wins a contested queue. */
	for (i = 0; i < nrxq; i++) {
		if ((q = topology_find_queue(iface, rxq[i].queue)) == NULL)
			continue;
		if (q->irq < 0)
			q->irq = (int)rxq[i].irq;
		else
			topology_warn(ctx, "%s: queue %u: IRQs %d and %u both "
			    "name it; using IRQ %d", iface->name, q->queue,
			    q->irq, rxq[i].irq, q->irq);
	}
out:
	free(rxq);
	topology_cands_free(&c);
	return r;
}

/* Who answers netdev netlink questions here, or NULL: nobody can. */
static netdev_nl_rx_irqs_fn *
topology_netlink_fn(const struct topo_ctx *ctx)
{
	if (ctx->opts->netlink_rx_irqs != NULL)
		return ctx->opts->netlink_rx_irqs;
	/* A fixture tree describes another machine than the kernel's. */
	if (ctx->sysroot == NULL || strcmp(ctx->sysroot, "/") == 0)
		return netdev_nl_rx_irqs;
	return NULL;
}

/* The interface's sys/class/net/IF/ifindex, or 0 when unreadable. */
static unsigned int
topology_ifindex(struct topo_ctx *ctx, const char *ifname)
{
	char		*path, *line = NULL;
	unsigned int	 ifindex = 0;

	if ((path = sysroot_path(ctx->sysroot, "sys/class/net/%s/ifindex",
	    ifname)) == NULL) {
		ctx->nomem = 1;
		return 0;
	}
	if (read_file_line(path, &line) == 0 &&
	    parse_uint(line, INT_MAX, &ifindex) < 0)
		ifindex = 0;
	free(line);
	free(path);
	return ifindex;
}

/*
 * Gives each queue the IRQ that the netdev netlink family links it to
 * through its NAPI instance.  Returns 1 when every queue got one; 0, with
 * the queues untouched, when the kernel or the driver cannot tell (the
 * names decide then); or -ENOMEM.
 */
static int
topology_queue_irqs_netlink(struct topo_ctx *ctx, struct topo_iface *iface)
{
	netdev_nl_rx_irqs_fn	*fn;
	struct netdev_nl_rxq	*rxq = NULL;
	struct topo_queue	*q;
	unsigned int		 ifindex;
	size_t			 i, nrxq = 0, found = 0;
	int			 r;

	if ((fn = topology_netlink_fn(ctx)) == NULL || iface->nqueues == 0 ||
	    (ifindex = topology_ifindex(ctx, iface->name)) == 0)
		return 0;
	if ((r = fn(ifindex, &rxq, &nrxq)) < 0) {
		log_debug("%s: netdev netlink gives no queue IRQs: %s",
		    iface->name, strerror(-r));
		free(rxq);
		return r == -ENOMEM ? r : 0;
	}
	/* The answer holds whole only when it names every rx-N once. */
	for (i = 0; i < iface->nqueues; i++)
		iface->queues[i].irq = -1;
	for (i = 0; i < nrxq; i++) {
		if ((q = topology_find_queue(iface, rxq[i].queue)) == NULL ||
		    q->irq >= 0 || rxq[i].irq > INT_MAX)
			continue;
		q->irq = (int)rxq[i].irq;
		found++;
	}
	free(rxq);
	if (found == iface->nqueues)
		return 1;
	log_debug("%s: netdev netlink links %zu of %zu RX queues to IRQs; "
	    "finding them by name", iface->name, found, iface->nqueues);
	for (i = 0; i < iface->nqueues; i++)
		iface->queues[i].irq = -1;
	return 0;
}

/*
 * An IRQ written to one CPU that the kernel still delivers elsewhere is
 * moving: x86 without interrupt remapping applies the new affinity at the
 * IRQ's next interrupt.  The queue stays on the CPU that processes it
 * now; a later discovery (the master's rescan) sees it arrive.
 */
static int
topology_queue_moving(struct topo_ctx *ctx, struct topo_queue *q,
    const struct cpuset *effective)
{
	struct cpuset	*smp = NULL;
	char		*path;
	int		 r;

	if ((path = sysroot_path(ctx->sysroot, "proc/irq/%d/smp_affinity_list",
	    q->irq)) == NULL)
		return -ENOMEM;
	r = cpuset_read_list_file(path, &smp);
	free(path);
	if (r == -ENOMEM)
		return r;
	if (r == 0 && cpuset_count(smp) == 1 &&
	    !cpuset_equal(smp, effective))
		q->moving_to = cpuset_first(smp);
	cpuset_free(smp);
	return 0;
}

/* The IRQ's delivery CPUs; the first one processes the queue. */
static int
topology_queue_affinity(struct topo_ctx *ctx, const struct topo_iface *iface,
    struct topo_queue *q)
{
	struct cpuset	*cpus = NULL;
	const char	*file = NULL;
	char		*path;
	int		 r;

	r = irqmap_affinity(ctx->sysroot, (unsigned int)q->irq, &cpus, &file);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* No file at all (-ENOENT): name the directory. */
		if ((path = sysroot_path(ctx->sysroot, "proc/irq/%d/%s", q->irq,
		    r == -ENOENT || file == NULL ? "" : file)) == NULL)
			return -ENOMEM;
		topology_warn(ctx, "%s: queue %u: cannot read IRQ %d's "
		    "affinity from %s: %s", iface->name, q->queue, q->irq,
		    path, read_file_error(r, NULL));
		free(path);
		return 0;
	}
	q->cpu = cpuset_first(cpus);
	q->irq_cpus = cpuset_format_list(cpus);
	if (strcmp(file, "effective_affinity_list") == 0)
		r = topology_queue_moving(ctx, q, cpus);
	cpuset_free(cpus);
	return q->irq_cpus == NULL ? -ENOMEM : r;
}

/* RPS, where rx-N/rps_cpus holds CPUs, decides the processing CPU. */
static int
topology_queue_rps(struct topo_ctx *ctx, const struct topo_iface *iface,
    struct topo_queue *q)
{
	struct cpuset	*cpus = NULL;
	char		*path;
	int		 r;

	if ((path = sysroot_path(ctx->sysroot,
	    "sys/class/net/%s/queues/rx-%u/rps_cpus", iface->name,
	    q->queue)) == NULL)
		return -ENOMEM;
	r = cpuset_read_mask_file(path, &cpus);
	if (r < 0 && r != -ENOENT && r != -ENOMEM)
		topology_warn(ctx, "%s: queue %u: cannot read %s: %s",
		    iface->name, q->queue, path, read_file_error(r, NULL));
	free(path);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	if (!cpuset_empty(cpus)) {
		q->cpu = cpuset_first(cpus);
		if ((q->rps_cpus = cpuset_format_list(cpus)) == NULL)
			r = -ENOMEM;
	}
	cpuset_free(cpus);
	return r;
}

static int
topology_queue_cpu(struct topo_ctx *ctx, const struct topo_iface *iface,
    struct topo_queue *q)
{
	int	 r;

	if (q->irq >= 0 && (r = topology_queue_affinity(ctx, iface, q)) < 0)
		return r;
	if ((r = topology_queue_rps(ctx, iface, q)) < 0)
		return r;
	/* Where RPS decides, the IRQ's spread does not move the queue. */
	if (q->rps_cpus == NULL && q->irq_cpus != NULL &&
	    strpbrk(q->irq_cpus, ",-") != NULL)
		topology_warn(ctx, "%s: queue %u: IRQ %d may be delivered to "
		    "CPUs %s; using CPU %d", iface->name, q->queue, q->irq,
		    q->irq_cpus, q->cpu);
	return 0;
}

/* The rx-N directories, sorted by N. */
static int
topology_queues_read(struct topo_ctx *ctx, struct topo_iface *iface)
{
	struct strv	 names = { 0 };
	unsigned int	*nums = NULL, n;
	char		*path;
	size_t		 i;
	int		 r;

	if ((path = sysroot_path(ctx->sysroot, "sys/class/net/%s/queues",
	    iface->name)) == NULL)
		return -ENOMEM;
	if ((r = topology_list_dir(path, &names)) < 0 && r != -ENOMEM) {
		topology_warn(ctx, "%s: cannot read %s: %s", iface->name, path,
		    strerror(-r));
		r = 0;
	}
	if (r < 0 || names.n == 0 ||
	    (nums = calloc(names.n, sizeof(*nums))) == NULL ||
	    (iface->queues = calloc(names.n, sizeof(*iface->queues))) == NULL)
		goto out;
	for (i = 0; i < names.n; i++)
		if (strncmp(names.v[i], "rx-", 3) == 0 &&
		    parse_uint(names.v[i] + 3, INT_MAX, &n) == 0)
			nums[iface->nqueues++] = n;
	qsort(nums, iface->nqueues, sizeof(*nums), topology_cmp_uint);
	for (i = 0; i < iface->nqueues; i++) {
		iface->queues[i].queue = nums[i];
		iface->queues[i].irq = iface->queues[i].cpu = -1;
		iface->queues[i].moving_to = -1;
	}
out:
	if (r == 0 && names.n > 0 && iface->queues == NULL)
		r = -ENOMEM;
	free(nums);
	free(path);
	strv_free(&names);
	return r;
}

/* Threaded NAPI moves receive processing to a kernel thread. */
static void
topology_threaded(struct topo_ctx *ctx, const struct topo_iface *iface)
{
	char		*path, *line = NULL;
	unsigned int	 v;
	int		 r;

	if ((path = sysroot_path(ctx->sysroot, "sys/class/net/%s/threaded",
	    iface->name)) == NULL) {
		ctx->nomem = 1;
		return;
	}
	if ((r = read_file_line(path, &line)) < 0 && r != -ENOENT)
		topology_warn(ctx, "%s: cannot read %s: %s", iface->name, path,
		    read_file_error(r, NULL));
	else if (r == 0 && parse_uint(line, UINT_MAX, &v) < 0)
		topology_warn(ctx, "%s: malformed %s: \"%s\"", iface->name,
		    path, line);
	else if (r == 0 && v != 0)
		topology_warn(ctx, "%s: threaded NAPI is on (%s): receive "
		    "processing may run off the IRQ's CPU", iface->name, path);
	free(line);
	free(path);
}

/*
 * How the interface's queues were mapped, with the fallback warning;
 * netlink says the netdev family gave every queue its IRQ.
 */
static void
topology_iface_source(struct topo_ctx *ctx, struct topo_iface *iface,
    int netlink)
{
	size_t	 i;
	int	 irq = 0, rps = 0;

	for (i = 0; i < iface->nqueues; i++) {
		irq |= iface->queues[i].irq >= 0;
		rps |= iface->queues[i].rps_cpus != NULL;
	}
	iface->source = netlink ? TOPO_SOURCE_NETLINK : irq ? TOPO_SOURCE_IRQ :
	    rps ? TOPO_SOURCE_RPS : TOPO_SOURCE_CPUS;
	/* Loopback never has per-queue IRQs: the fallback is expected. */
	if (!irq && !rps && ctx->opts->workers == TOPO_WORKERS_RX_QUEUES &&
	    strcmp(iface->name, "lo") == 0)
		topology_note(ctx, "%s: no per-queue IRQs and no RPS; one "
		    "worker per allowed CPU", iface->name);
	else if (!irq && !rps && ctx->opts->workers == TOPO_WORKERS_RX_QUEUES)
		topology_warn(ctx, "%s: no per-queue IRQs and no RPS; one "
		    "worker per allowed CPU", iface->name);
	else if (!irq && !rps)
		log_debug("%s: no per-queue IRQs and no RPS", iface->name);
	for (i = 0; irq && i < iface->nqueues; i++)
		if (iface->queues[i].cpu < 0 && iface->queues[i].irq < 0)
			topology_warn(ctx, "%s: queue %u: no IRQ found and no "
			    "RPS", iface->name, iface->queues[i].queue);
}

/* Reads one interface that owns its queues and appends it. */
static int
topology_iface_read(struct topo_ctx *ctx, const char *name)
{
	struct topology		*topo = ctx->topo;
	struct topo_iface	*iface, *grown;
	struct topo_dev		 dev;
	size_t			 i;
	int			 r, netlink = 0;

	grown = reallocarray(topo->ifaces, topo->nifaces + 1, sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	topo->ifaces = grown;
	iface = &topo->ifaces[topo->nifaces];
	memset(iface, 0, sizeof(*iface));
	if ((iface->name = strdup(name)) == NULL)
		return -ENOMEM;
	topo->nifaces++;
	if ((r = topology_dev_read(ctx, name, &dev)) < 0)
		return r;
	iface->driver = strdup(dev.driver != NULL ? dev.driver : "unknown");
	if (iface->driver == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = topology_queues_read(ctx, iface);
	/* A virtual device has no IRQ to ask the kernel about either. */
	if (r == 0 && dev.msidir != NULL)
		r = topology_queue_irqs_netlink(ctx, iface);
	if (r > 0) {
		netlink = 1;
		r = 0;
	} else if (r == 0)
		r = topology_queue_irqs(ctx, iface, &dev);
	for (i = 0; r == 0 && i < iface->nqueues; i++)
		r = topology_queue_cpu(ctx, iface, &iface->queues[i]);
	topology_dev_free(&dev);
	if (r < 0)
		return r;
	topology_iface_source(ctx, iface, netlink);
	topology_threaded(ctx, iface);
	return 0;
}

/* The lower_<dev> entries of an interface: the devices it is stacked on. */
static int
topology_lowers(struct topo_ctx *ctx, const char *name, struct strv *lowers)
{
	struct strv	 names = { 0 };
	char		*path;
	size_t		 i;
	int		 r;

	if ((path = sysroot_path(ctx->sysroot, "sys/class/net/%s",
	    name)) == NULL)
		return -ENOMEM;
	r = topology_list_dir(path, &names);
	if (r < 0 && r != -ENOMEM)
		topology_warn(ctx, "%s: cannot read %s: %s", name, path,
		    strerror(-r));
	for (i = 0; r == 0 && i < names.n; i++)
		if (strncmp(names.v[i], "lower_", 6) == 0 &&
		    names.v[i][6] != '\0')
			r = strv_add(lowers, names.v[i] + 6);
	free(path);
	strv_free(&names);
	return r == -ENOMEM ? r : 0;
}

/*
 * Whether sys/class/net/NAME exists: 1 if so.  A missing interface that
 * was asked for is an error; a missing lower device (it went away while
 * being read) is only a warning.
 */
static int
topology_iface_exists(struct topo_ctx *ctx, const char *name,
    const struct strv *path)
{
	char	*dir;
	int	 r = 1;

	if ((dir = sysroot_path(ctx->sysroot, "sys/class/net/%s",
	    name)) == NULL)
		return -ENOMEM;
	if (!topology_is_ifname(name) || !topology_is_dir(dir)) {
		if (path->n == 0)
			topology_warn(ctx, "%s: no such interface (no %s)",
			    name, dir);
		else
			topology_warn(ctx, "%s: lower device %s is gone (no "
			    "%s); ignoring", path->v[path->n - 1], name, dir);
		r = path->n == 0 ? -ENODEV : 0;
	}
	free(dir);
	return r;
}

/* Says where following lower_* went round in a loop or too deep. */
static void
topology_warn_chain(struct topo_ctx *ctx, const struct strv *path,
    const char *name)
{
	char	*chain = NULL, *grown;
	size_t	 i;

	for (i = 0; i < path->n; i++) {
		if (asprintf(&grown, "%s%s -> ", chain != NULL ? chain : "",
		    path->v[i]) < 0) {
			ctx->nomem = 1;
			free(chain);
			return;
		}
		free(chain);
		chain = grown;
	}
	topology_warn(ctx, "%s: stacked devices loop or nest deeper than %d "
	    "(%s%s); ignoring", path->v[0], TOPO_MAX_DEPTH, chain, name);
	free(chain);
}

/*
 * Lists an interface, or, when it is stacked, the devices below it that
 * own queues.  path holds the interfaces being followed, against loops.
 */
static int
topology_iface_add(struct topo_ctx *ctx, const char *name, struct strv *path)
{
	struct strv	 lowers = { 0 };
	size_t		 i;
	int		 r;

	if ((r = topology_iface_exists(ctx, name, path)) <= 0)
		return r;
	if (strv_contains(path, name) || path->n >= TOPO_MAX_DEPTH) {
		topology_warn_chain(ctx, path, name);
		return 0;
	}
	if ((r = topology_lowers(ctx, name, &lowers)) < 0)
		goto out;
	if (lowers.n == 0) {
		if (!strv_contains(&ctx->seen, name) &&
		    (r = strv_add(&ctx->seen, name)) == 0)
			r = topology_iface_read(ctx, name);
		goto out;
	}
	if ((r = strv_add(path, name)) < 0)
		goto out;
	for (i = 0; r == 0 && i < lowers.n; i++)
		r = topology_iface_add(ctx, lowers.v[i], path);
	free(path->v[--path->n]);
	path->v[path->n] = NULL;
out:
	strv_free(&lowers);
	return r;
}

/*
 * Sorts one entry of sys/class/net: 2 for hardware (a device link), 1 for
 * a virtual interface other than lo, 0 for lo and for files such as
 * bonding_masters.
 */
static int
topology_auto_kind(struct topo_ctx *ctx, const char *name)
{
	char	*path;
	int	 kind = 0;

	if ((path = sysroot_path(ctx->sysroot, "sys/class/net/%s/device",
	    name)) == NULL)
		return -ENOMEM;
	if (access(path, F_OK) == 0)
		kind = 2;
	else if (strcmp(name, "lo") != 0) {
		path[strlen(path) - strlen("/device")] = '\0';
		kind = topology_is_dir(path);
	}
	free(path);
	return kind;
}

/*
 * Every interface with a device link (hardware), sorted; when there is
 * none, every interface but lo.
 */
static int
topology_auto_ifaces(struct topo_ctx *ctx, struct strv *out)
{
	struct strv	 all = { 0 }, virt = { 0 };
	char		*dir;
	size_t		 i;
	int		 r, kind;

	if ((dir = sysroot_path(ctx->sysroot, "sys/class/net")) == NULL)
		return -ENOMEM;
	if ((r = topology_list_dir(dir, &all)) < 0 && r != -ENOMEM)
		topology_warn(ctx, "cannot read %s: %s", dir, strerror(-r));
	for (i = 0; r == 0 && i < all.n; i++) {
		if ((kind = topology_auto_kind(ctx, all.v[i])) < 0)
			r = kind;
		else if (kind > 0)
			r = strv_add(kind == 2 ? out : &virt, all.v[i]);
	}
	if (out->n == 0)
		for (i = 0; r == 0 && i < virt.n; i++)
			r = strv_add(out, virt.v[i]);
	free(dir);
	strv_free(&all);
	strv_free(&virt);
	return r == -ENOMEM ? r : 0;
}

/* The interfaces asked for, followed through stacked devices. */
static int
topology_ifaces(struct topo_ctx *ctx)
{
	const struct topo_options *opts = ctx->opts;
	struct strv	 names = { 0 }, path = { 0 };
	size_t		 i;
	int		 r = 0;

	for (i = 0; opts->ifaces != NULL && i < opts->nifaces && r == 0; i++)
		r = strv_add(&names, opts->ifaces[i]);
	if (r == 0 && opts->ifaces == NULL)
		r = topology_auto_ifaces(ctx, &names);
	for (i = 0; r == 0 && i < names.n; i++)
		r = topology_iface_add(ctx, names.v[i], &path);
	strv_free(&names);
	strv_free(&path);
	return r;
}

/* The CPUs the daemon may use: its cpuset (or the sysroot's online CPUs). */
static int
topology_allowed(struct topo_ctx *ctx)
{
	struct topology	*topo = ctx->topo;
	char		*online;
	int		 r;

	if ((r = cpuset_allowed(ctx->sysroot, &topo->allowed)) < 0) {
		if (r == -ENOMEM || (online = sysroot_path(ctx->sysroot,
		    "sys/devices/system/cpu/online")) == NULL)
			return -ENOMEM;
		topology_warn(ctx, "cannot tell which CPUs the daemon may use "
		    "(its cpuset, %s): %s", online, read_file_error(r, NULL));
		free(online);
		return r;
	}
	if (ctx->opts->exclude_cpus != NULL)
		cpuset_andnot(topo->allowed, ctx->opts->exclude_cpus);
	return 0;
}

/* Reads /proc/interrupts; the names it gives back up /proc/irq/N. */
static int
topology_irqmap(struct topo_ctx *ctx)
{
	char	*path;
	size_t	 i;
	int	 r;

	if ((path = sysroot_path(ctx->sysroot, "proc/interrupts")) == NULL)
		return -ENOMEM;
	if ((r = irqmap_read(ctx->sysroot, &ctx->map)) < 0) {
		ctx->map = NULL;
		if (r != -ENOMEM)
			topology_warn(ctx, "cannot read %s: %s", path,
			    read_file_error(r, NULL));
	}
	for (i = 0; ctx->map != NULL && i < ctx->map->warnings.n; i++)
		topology_warn(ctx, "%s: %s", path, ctx->map->warnings.v[i]);
	free(path);
	return r == -ENOMEM ? r : 0;
}

int
topology_discover(const struct topo_options *opts, struct topology **topop)
{
	struct topo_ctx	 ctx;
	int		 r;

	memset(&ctx, 0, sizeof(ctx));
	*topop = NULL;
	if ((ctx.topo = calloc(1, sizeof(*ctx.topo))) == NULL)
		return -ENOMEM;
	ctx.opts = opts;
	ctx.sysroot = opts->sysroot;
	if ((r = topology_allowed(&ctx)) == 0 &&
	    (r = topology_irqmap(&ctx)) == 0)
		r = topology_ifaces(&ctx);
	if (r == 0 && ctx.nomem)
		r = -ENOMEM;
	irqmap_free(ctx.map);
	strv_free(&ctx.seen);
	*topop = ctx.topo;
	return r;
}

void
topology_free(struct topology *topo)
{
	size_t	 i, j;

	if (topo == NULL)
		return;
	for (i = 0; i < topo->nifaces; i++) {
		for (j = 0; j < topo->ifaces[i].nqueues; j++) {
			free(topo->ifaces[i].queues[j].irq_cpus);
			free(topo->ifaces[i].queues[j].rps_cpus);
		}
		free(topo->ifaces[i].queues);
		free(topo->ifaces[i].name);
		free(topo->ifaces[i].driver);
	}
	free(topo->ifaces);
	cpuset_free(topo->allowed);
	strv_free(&topo->warnings);
	strv_free(&topo->notes);
	free(topo);
}
