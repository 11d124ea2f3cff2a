/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * irq_affinity = "spread": each RX queue's IRQ is pinned to one CPU, the
 * queues of an interface taking the workers' CPUs in turn, so that every
 * queue gets a CPU of its own where there are enough.  The kernel may
 * refuse a write, ignore it, or move the IRQ only at its next interrupt,
 * so every write is read back after a short wait; what could not be done
 * is a warning, never a failure.
 */
#include "acconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cpuset.h"
#include "topology/irqcheck.h"
#include "topology/irqmap.h"
#include "topology/irqspread.h"
#include "common/log.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

/* How long written IRQs get to move, and how often they are looked at. */
#define IRQSPREAD_SETTLE_MS	100
#define IRQSPREAD_POLL_MS	5

/* One queue IRQ and the CPU it is given. */
struct irqspread_move {
	int		 irq;
	int		 cpu;
	char		 name[64];	/* "eth0 queue 3" */
	struct cpuset	*before;	/* its affinity before, NULL: unknown */
	int		 settled;	/* not written, or moved */
};

struct irqspread_ctx {
	const char		*sysroot;
	struct strv		*warnings;
	unsigned int		 changed;
	struct irqspread_move	*moves;		/* one per distinct IRQ */
	size_t			 nmoves;
	int			 nomem;
};

static uint64_t
irqspread_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
irqspread_targets(const struct plan *plan, enum topo_workers workers,
    struct cpuset **cpus)
{
	const struct topology	*topo = plan->topo;
	struct cpuset		*set;
	size_t			 i;
	int			 r = 0;

	*cpus = NULL;
	if (workers != TOPO_WORKERS_LIST && topo->allowed != NULL)
		set = cpuset_dup(topo->allowed);
	else
		set = cpuset_new();
	if (set == NULL)
		return -ENOMEM;
	/* An explicit list: its CPUs the daemon may use, as the plan has them. */
	for (i = 0; workers == TOPO_WORKERS_LIST && i < plan->nworkers &&
	    r == 0; i++)
		r = cpuset_add(set, plan->workers[i].cpu);
	if (r < 0) {
		cpuset_free(set);
		return r;
	}
	*cpus = set;
	return 0;
}

static void PRINTFLIKE(2, 3)
irqspread_warn(struct irqspread_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	if (text == NULL || strv_add(ctx->warnings, text) < 0)
		ctx->nomem = 1;
	free(text);
}

/* Writes "CPU\n" to an affinity file: 0 or -errno. */
static int
irqspread_write(const char *path, int cpu)
{
	char	 buf[16];
	ssize_t	 w;
	int	 fd, n, saved;

	n = snprintf(buf, sizeof(buf), "%d\n", cpu);
	/* O_NONBLOCK: a FIFO under --sysroot fails at once (ENXIO). */
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1)
		return -errno;
	do
		w = write(fd, buf, (size_t)n);
	while (w == -1 && errno == EINTR);
	saved = w == -1 ? errno : w != n ? EIO : 0;
	/* procfs may report a refused mask only when the file is closed. */
	if (close(fd) == -1 && saved == 0)
		saved = errno;
	return -saved;
}

static const char *
irqspread_hint(int error)
{
	switch (error) {
	case EACCES:
	case EPERM:
		return " (needs root)";
	case EIO:
		return " (the kernel does not let this IRQ move; its driver "
		    "may manage it)";
	default:
		return "";
	}
}

/* True when set is exactly { cpu }. */
static int
irqspread_on(const struct cpuset *set, int cpu)
{
	return set != NULL && cpuset_count(set) == 1 &&
	    cpuset_first(set) == cpu;
}

/* Pins one IRQ to cpu unless it is there already; 1 when written. */
static int
irqspread_one(struct irqspread_ctx *ctx, struct irqspread_move *mv)
{
	const char	*file;
	char		*path, *list = NULL;
	int		 r;

	if (irqmap_affinity(ctx->sysroot, (unsigned int)mv->irq, &mv->before,
	    &file) == 0 && irqspread_on(mv->before, mv->cpu))
		return 0;
	path = sysroot_path(ctx->sysroot, "proc/irq/%d/smp_affinity_list",
	    mv->irq);
	if (path == NULL || (mv->before != NULL &&
	    (list = cpuset_format_list(mv->before)) == NULL)) {
		ctx->nomem = 1;
		r = -ENOMEM;
	} else if ((r = irqspread_write(path, mv->cpu)) < 0)
		irqspread_warn(ctx, "IRQ %d (%s): cannot write CPU %d to %s: "
		    "%s%s; it stays on CPUs %s", mv->irq, mv->name, mv->cpu,
		    path, strerror(-r), irqspread_hint(-r),
		    list ? list : "unknown");
	free(list);
	free(path);
	return r == 0;
}

/*
 * Reads where a written IRQ is delivered now: 1 when on its CPU, 0 when
 * not (yet), and *after the set read (NULL when it could not be read).
 */
static int
irqspread_where(struct irqspread_ctx *ctx, const struct irqspread_move *mv,
    struct cpuset **after, const char **file)
{
	*after = NULL;
	if (irqmap_affinity(ctx->sysroot, (unsigned int)mv->irq, after,
	    file) == -ENOMEM)
		ctx->nomem = 1;
	return irqspread_on(*after, mv->cpu);
}

/*
 * A verdict that is not OK is a warning, worded as the doctor's findings
 * are (strv_add_why_fix()).
 */
static void
irqspread_verdict(struct irqspread_ctx *ctx, struct irqcheck_result *res)
{
	if (res->nomem || (res->why != NULL && res->status != IRQCHECK_OK &&
	    strv_add_why_fix(ctx->warnings, res->why, res->fix) < 0))
		ctx->nomem = 1;
	irqcheck_result_free(res);
}

/*
 * An IRQ that is not where it was written to go, after the wait: the
 * irq-moved check the doctor shares says why, so that both say the same.
 */
static void
irqspread_unmoved(struct irqspread_ctx *ctx, const struct irqspread_move *mv)
{
	struct irqcheck_result	 res = { 0 };
	struct cpuset		*after = NULL;
	const char		*file;

	irqspread_where(ctx, mv, &after, &file);
	if (irqcheck_irq_moved(ctx->sysroot, mv->irq, mv->name, mv->cpu,
	    &res) == -ENOMEM)
		ctx->nomem = 1;
	irqspread_verdict(ctx, &res);
	if (after != NULL && (mv->before == NULL ||
	    !cpuset_equal(after, mv->before)))
		ctx->changed++;
	cpuset_free(after);
}

/*
 * Waits a little for the written IRQs to get where they were sent: on
 * x86 without interrupt remapping the kernel moves an IRQ only at its
 * next interrupt, which a busy queue has at once and an idle one may not.
 */
static void
irqspread_settle(struct irqspread_ctx *ctx)
{
	struct timespec	 nap = { 0, IRQSPREAD_POLL_MS * 1000000L };
	struct cpuset	*after;
	const char	*file;
	uint64_t	 deadline;
	size_t		 i, waiting;

	deadline = irqspread_now_ms() + IRQSPREAD_SETTLE_MS;
	for (;;) {
		for (i = waiting = 0; i < ctx->nmoves && !ctx->nomem; i++) {
			if (ctx->moves[i].settled)
				continue;
			if (irqspread_where(ctx, &ctx->moves[i], &after, &file)) {
				ctx->moves[i].settled = 1;
				ctx->changed++;
				log_debug("IRQ %d (%s) now on CPU %d",
				    ctx->moves[i].irq, ctx->moves[i].name,
				    ctx->moves[i].cpu);
			} else
				waiting++;
			cpuset_free(after);
		}
		if (waiting == 0 || ctx->nomem ||
		    irqspread_now_ms() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	for (i = 0; i < ctx->nmoves && !ctx->nomem; i++)
		if (!ctx->moves[i].settled)
			irqspread_unmoved(ctx, &ctx->moves[i]);
}

/* 1 when irq has been given a CPU already. */
static int
irqspread_seen(const struct irqspread_ctx *ctx, int irq)
{
	size_t	 i;

	for (i = 0; i < ctx->nmoves; i++)
		if (ctx->moves[i].irq == irq)
			return 1;
	return 0;
}

/* Gives an interface's queue IRQs the CPUs in turn, from the lowest. */
static void
irqspread_iface(struct irqspread_ctx *ctx, const struct topo_iface *ifc,
    const struct cpuset *cpus)
{
	const struct topo_queue	*q;
	struct irqspread_move	*mv;
	size_t			 j;
	int			 cpu = cpuset_first(cpus);

	for (j = 0; j < ifc->nqueues && !ctx->nomem; j++) {
		q = &ifc->queues[j];
		if (q->irq < 0 || irqspread_seen(ctx, q->irq))
			continue;
		mv = &ctx->moves[ctx->nmoves++];
		mv->irq = q->irq;
		mv->cpu = cpu;
		snprintf(mv->name, sizeof(mv->name), "%s queue %u", ifc->name,
		    q->queue);
		mv->settled = !irqspread_one(ctx, mv);
		if ((cpu = cpuset_next(cpus, cpu)) < 0)
			cpu = cpuset_first(cpus);
	}
}

/* irqbalance would move the IRQs again: the shared check says so. */
static void
irqspread_warn_irqbalance(struct irqspread_ctx *ctx,
    const struct topology *topo)
{
	struct irqcheck_result	 res = { 0 };

	if (irqcheck_irqbalance(ctx->sysroot, topo, &res) == -ENOMEM)
		ctx->nomem = 1;
	irqspread_verdict(ctx, &res);
}

int
irqspread_apply(const char *sysroot, const struct topology *topo,
    const struct cpuset *cpus, struct strv *warnings, unsigned int *changed)
{
	struct irqspread_ctx	 ctx;
	size_t			 i, max = 0;

	*changed = 0;
	if (cpuset_empty(cpus))
		return -EINVAL;
	for (i = 0; i < topo->nifaces; i++)
		max += topo->ifaces[i].nqueues;
	memset(&ctx, 0, sizeof(ctx));
	ctx.sysroot = sysroot;
	ctx.warnings = warnings;
	if ((ctx.moves = calloc(max + 1, sizeof(*ctx.moves))) == NULL)
		return -ENOMEM;
	for (i = 0; i < topo->nifaces && !ctx.nomem; i++)
		irqspread_iface(&ctx, &topo->ifaces[i], cpus);
	if (!ctx.nomem)
		irqspread_settle(&ctx);
	if (ctx.nmoves > 0 && !ctx.nomem)
		irqspread_warn_irqbalance(&ctx, topo);
	for (i = 0; i < ctx.nmoves; i++)
		cpuset_free(ctx.moves[i].before);
	free(ctx.moves);
	*changed = ctx.changed;
	return ctx.nomem ? -ENOMEM : 0;
}
