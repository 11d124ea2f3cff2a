/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which of a device's IRQs serve its RX queues, and which queue each one
 * serves, from the names drivers give their vectors (IRQ-NAMING.md §2).
 * This is the fallback for when netlink does not link queues to IRQs; the
 * caller hands in the device's candidates and decides what to log.
 */
#include "acconfig.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/irqmap.h"

/* How a name's index becomes the RX queue number the kernel uses. */
enum irqname_fix {
	IRQNAME_QUEUE,		/* the index is the queue */
	IRQNAME_MINUS1,		/* index - 1: index 0 is no queue (mlx4, tg3) */
	IRQNAME_BASE1,		/* mlx5: a run of names starting at 1 */
	IRQNAME_HALF,		/* gve: blocks of the upper half are RX */
	IRQNAME_HALVE,		/* hns3: the TxRx index counts in twos */
	IRQNAME_RANK,		/* a vector number: rank among RX vectors */
	IRQNAME_SINGLE,		/* a device's only vector serves queue 0 */
	IRQNAME_SKIP,		/* a known vector that serves no RX queue */
};

/*
 * Patterns are POSIX extended regular expressions matched against a whole
 * name, or against the end of a /proc/interrupts row after a blank, with
 * these placeholders: %N the netdev name, %P the PCI address (any address
 * when the device has none), %B the bus device (virtio2), %X the Xen vif
 * name ("vif-0" on the bus is "vif0" in names), %% a percent sign.  A rule
 * whose placeholder the device lacks is left out.
 */
struct irqname_rule {
	const char	*drivers;	/* NULL: always; "": unknown driver only */
	int		 generic;	/* also tried when the driver is unknown */
	const char	*pattern;
	int		 index;		/* sub-expression of the index, 0: none */
	int		 key;		/* sub-expression of the PCI address */
	enum irqname_fix fix;
};

#define IRQNAME_INTEL_TXRX \
	"ixgbe ixgbevf igb igbvf igc fm10k amd-xgbe fbnic e1000e bnxt_en " \
	"txgbe ngbe"
#define IRQNAME_SFC	"sfc sfc_ef100 sfc_siena"
#define IRQNAME_XEN	"vif xen-netfront xen_netfront"

static const struct irqname_rule irqname_rules[] = {
	/* Control vectors; i40e fdir and ice ctrl ones contain "-TxRx-". */
	{ NULL, 1, "[^[:space:]]+:(misc|mbx|fdir-TxRx-[0-9]+|"
	    "ctrl-TxRx-[0-9]+)", 0, 0, IRQNAME_SKIP },
	{ NULL, 1, "mlx5_[a-z_]*(async|eq)[a-z_]*[0-9]*@pci:[^[:space:]]+",
	    0, 0, IRQNAME_SKIP },
	{ NULL, 1, "(mlx4-async|mlx4-comp-[0-9]+|ena-mgmnt|gve-mgmnt|"
	    "mana_hwc)@[^[:space:]]+", 0, 0, IRQNAME_SKIP },

	/* Names that carry the PCI address or a bus device name. */
	{ "mlx5_core", 1, "mlx5_comp([0-9]+)@pci:(%P)", 1, 2, IRQNAME_BASE1 },
	{ "mlx5_core", 1, "mlx5_combined([0-9]+)@pci:(%P)", 1, 2,
	    IRQNAME_QUEUE },
	{ "mlx4_core mlx4_en", 1, "mlx4-([0-9]+)@(%P)", 1, 2,
	    IRQNAME_MINUS1 },
	{ "hns3", 1, "hns3-(%P)-TxRx-([0-9]+)", 2, 1, IRQNAME_HALVE },
	{ "hns3", 1, "hns3-(%P)-Rx-([0-9]+)", 2, 1, IRQNAME_QUEUE },
	{ "gve gvnic", 1, "gve-ntfy-blk([0-9]+)@pci:(%P)", 1, 2,
	    IRQNAME_HALF },
	{ "mana", 1, "mana_q([0-9]+)@pci:(%P)", 1, 2, IRQNAME_QUEUE },
	{ "virtio_net", 1, "%B-input\\.([0-9]+)", 1, 0, IRQNAME_QUEUE },
	{ IRQNAME_XEN, 1, "%X-q([0-9]+)-rx", 1, 0, IRQNAME_QUEUE },

	/* Netdev names with a driver's own prefix or separator. */
	{ "i40e ice iavf i40evf", 1, "(i40e|ice|iavf|i40evf)-%N-(TxRx|rx)-"
	    "([0-9]+)", 3, 0, IRQNAME_QUEUE },
	{ "idpf iecm", 1, "(idpf|iecm)-%N-(TxRx|Rx)-([0-9]+)", 3, 0,
	    IRQNAME_RANK },
	{ "ena", 1, "%N-Tx-Rx-([0-9]+)", 1, 0, IRQNAME_QUEUE },
	{ "gve gvnic", 1, "(%N|eth%%d)-ntfy-block\\.([0-9]+)", 2, 0,
	    IRQNAME_HALF },
	{ "bnx2x qede", 1, "%N-fp-([0-9]+)", 1, 0, IRQNAME_QUEUE },
	{ "stmmac stmmac-pci intel-eth-pci dwmac-intel", 1,
	    "%N:rx-([0-9]+)", 1, 0, IRQNAME_QUEUE },

	/* Names whose index is not the queue, known by the driver only. */
	{ "tg3", 0, "%N-(txrx|rx)-([0-9]+)", 2, 0, IRQNAME_MINUS1 },
	{ "tg3", 0, "%N-(tx-)?[0-9]+", 0, 0, IRQNAME_SKIP },
	{ "hns3", 0, "%N-TxRx-([0-9]+)", 1, 0, IRQNAME_HALVE },
	{ "hns3", 0, "%N-Rx-([0-9]+)", 1, 0, IRQNAME_QUEUE },
	{ "vmxnet3", 0, "%N-rx-([0-9]+)", 1, 0, IRQNAME_RANK },
	{ "qlcnic", 0, "%N-(tx-[0-9]+-)?rx-([0-9]+)", 2, 0, IRQNAME_QUEUE },
	{ IRQNAME_XEN, 0, "%N-rx", 0, 0, IRQNAME_QUEUE },

	/* Plain netdev names shared by several drivers. */
	{ "nfp vmxnet3 rvu_nicpf rvu_nicvf thunder-nicvf", 1,
	    "%N-rxtx-([0-9]+)", 1, 0, IRQNAME_QUEUE },
	{ IRQNAME_INTEL_TXRX, 1, "%N-TxRx-([0-9]+)", 1, 0, IRQNAME_QUEUE },
	{ IRQNAME_INTEL_TXRX " " IRQNAME_SFC, 0, "%N-rx-([0-9]+)", 1, 0,
	    IRQNAME_QUEUE },
	/* Unknown driver: "-rx-N" counts queues (igb) or vectors (tg3). */
	{ "", 1, "%N-(tx-[0-9]+-)?rx-([0-9]+)", 2, 0, IRQNAME_RANK },
	{ "bnx2 mlx4_core mlx4_en " IRQNAME_SFC " r8125 r8126 r8168", 1,
	    "%N-([0-9]+)", 1, 0, IRQNAME_QUEUE },

	/* A device with a single vector (MSI, INTx) names it plainly. */
	{ NULL, 1, "%N", 0, 0, IRQNAME_SINGLE },
	{ NULL, 1, "%B", 0, 0, IRQNAME_SINGLE },
	{ NULL, 1, "%B-virtqueues", 0, 0, IRQNAME_SINGLE },
};

#define IRQNAME_NRULES	ARRAY_SIZE(irqname_rules)
#define IRQNAME_ANY_PCI	"[[:xdigit:]]+:[[:xdigit:]]+:[[:xdigit:]]+\\.[0-7]"

struct irqname_hit {
	unsigned int	 irq;
	unsigned int	 index;
	size_t		 rule;
	const char	*key;		/* PCI address in the name, or "" */
	size_t		 keylen;
	long		 queue;		/* -1: serves no RX queue */
};

struct irqname_hits {
	struct irqname_hit	*v;
	size_t			 n;
	size_t			 cap;
};

struct irqname_buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

static void
irqname_buf_add(struct irqname_buf *b, const char *s, size_t len)
{
	char	*grown;
	size_t	 cap;

	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		cap = (b->len + len + 1) * 2;
		if ((grown = realloc(b->s, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

/* Appends a name as a literal: interface names may hold ".", "+"... */
static void
irqname_buf_literal(struct irqname_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr("\\.[()*+?{|^$", *s) != NULL)
			irqname_buf_add(b, "\\", 1);
		irqname_buf_add(b, s, 1);
	}
}

/* Xen names queues after the vif ("vif0-q1-rx"); the bus says "vif-0". */
static void
irqname_buf_xen(struct irqname_buf *b, const char *bus)
{
	if (strncmp(bus, "vif-", 4) == 0) {
		irqname_buf_add(b, "vif", 3);
		bus += 4;
	}
	irqname_buf_literal(b, bus);
}

/*
 * The rule's regular expression for this device, anchored at the end and
 * at the start of the name or after a blank.  Returns 1 with *out, 0 when
 * the device lacks what the rule needs, -ENOMEM.
 */
static int
irqname_expand(const struct irqname_dev *dev, const char *p, char **out)
{
	struct irqname_buf	 b = { NULL, 0, 0, 0 };

	irqname_buf_add(&b, "(^|[[:space:]])", 15);
	for (; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			irqname_buf_add(&b, p, 1);
			continue;
		}
		switch (*++p) {
		case 'N':
			if (dev->ifname == NULL || dev->ifname[0] == '\0')
				goto lacking;
			irqname_buf_literal(&b, dev->ifname);
			break;
		case 'P':
			if (dev->pci_addr == NULL || dev->pci_addr[0] == '\0')
				irqname_buf_add(&b, IRQNAME_ANY_PCI,
				    strlen(IRQNAME_ANY_PCI));
			else
				irqname_buf_literal(&b, dev->pci_addr);
			break;
		case 'B':
		case 'X':
			if (dev->bus_name == NULL || dev->bus_name[0] == '\0')
				goto lacking;
			if (*p == 'B')
				irqname_buf_literal(&b, dev->bus_name);
			else
				irqname_buf_xen(&b, dev->bus_name);
			break;
		default:
			irqname_buf_add(&b, p, 1);
			break;
		}
	}
	irqname_buf_add(&b, "$", 1);
	if (b.failed) {
		free(b.s);
		return -ENOMEM;
	}
	*out = b.s;
	return 1;
lacking:
	free(b.s);
	return 0;
}

static int
irqname_driver_in(const char *list, const char *driver)
{
	size_t	 len = strlen(driver);
	const char *p;

	if (len == 0)
		return 0;
	for (p = list; (p = strstr(p, driver)) != NULL; p += len)
		if ((p == list || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ' '))
			return 1;
	return 0;
}

/* Whether any rule belongs to the driver (then its own pass runs first). */
static int
irqname_driver_known(const char *driver)
{
	size_t	 i;

	if (driver == NULL || driver[0] == '\0')
		return 0;
	for (i = 0; i < IRQNAME_NRULES; i++)
		if (irqname_rules[i].drivers != NULL &&
		    irqname_driver_in(irqname_rules[i].drivers, driver))
			return 1;
	return 0;
}

static int
irqname_rule_used(const struct irqname_rule *rule, const char *driver)
{
	if (rule->drivers == NULL)
		return 1;
	if (driver == NULL)
		return rule->generic;
	return irqname_driver_in(rule->drivers, driver);
}

static int
irqname_add_hit(struct irqname_hits *hits, const struct irqname_hit *hit)
{
	struct irqname_hit	*grown;
	size_t			 cap;

	if (hits->n == hits->cap) {
		cap = hits->cap ? hits->cap * 2 : 32;
		if ((grown = reallocarray(hits->v, cap,
		    sizeof(*grown))) == NULL)
			return -ENOMEM;
		hits->v = grown;
		hits->cap = cap;
	}
	hits->v[hits->n++] = *hit;
	return 0;
}

/* Reads the digits of a sub-expression; 0 when absent or too large. */
static int
irqname_index(const char *name, const regmatch_t *m, unsigned int *index)
{
	char	 num[10];
	size_t	 len;

	if (m->rm_so < 0) {
		*index = 0;
		return 1;
	}
	len = (size_t)(m->rm_eo - m->rm_so);
	if (len == 0 || len >= sizeof(num))
		return 0;
	memcpy(num, name + m->rm_so, len);
	num[len] = '\0';
	return parse_uint(num, 999999999, index) == 0;
}

/* Classifies one name by the first rule that matches it. */
static int
irqname_match(regex_t *const *re, const struct irqname_candidate *c,
    struct irqname_hits *hits)
{
	const struct irqname_rule	*rule;
	struct irqname_hit		 hit;
	regmatch_t			 m[8];
	size_t				 i;

	for (i = 0; i < IRQNAME_NRULES; i++) {
		if (re[i] == NULL ||
		    regexec(re[i], c->name, ARRAY_SIZE(m), m, 0) != 0)
			continue;
		rule = &irqname_rules[i];
		if (rule->fix == IRQNAME_SKIP)
			return 0;
		memset(&hit, 0, sizeof(hit));
		hit.irq = c->irq;
		hit.rule = i;
		hit.key = "";
		if (rule->index == 0)
			hit.index = 0;
		else if (!irqname_index(c->name, &m[rule->index + 1],
		    &hit.index))
			return 0;
		if (rule->key != 0 && m[rule->key + 1].rm_so >= 0) {
			hit.key = c->name + m[rule->key + 1].rm_so;
			hit.keylen = (size_t)(m[rule->key + 1].rm_eo -
			    m[rule->key + 1].rm_so);
		}
		return irqname_add_hit(hits, &hit);
	}
	return 0;
}

static int
irqname_same_group(const struct irqname_hit *a, const struct irqname_hit *b)
{
	return a->rule == b->rule && a->keylen == b->keylen &&
	    memcmp(a->key, b->key, a->keylen) == 0;
}

/*
 * Turns each hit's index into a queue, looking at the other hits of the
 * same rule and PCI address where the numbering needs it.
 */
static void
irqname_fix_hit(const struct irqname_hits *hits, struct irqname_hit *h)
{
	unsigned int	 min = h->index, max = h->index, rank = 0, half;
	size_t		 i, j;
	int		 seen;

	for (i = 0; i < hits->n; i++) {
		if (!irqname_same_group(&hits->v[i], h))
			continue;
		if (hits->v[i].index < min)
			min = hits->v[i].index;
		if (hits->v[i].index > max)
			max = hits->v[i].index;
		if (irqname_rules[h->rule].fix != IRQNAME_RANK ||
		    hits->v[i].index >= h->index)
			continue;
		/* Count each smaller index once (an IRQ may repeat). */
		for (seen = 0, j = 0; j < i && !seen; j++)
			seen = irqname_same_group(&hits->v[j], h) &&
			    hits->v[j].index == hits->v[i].index;
		if (!seen)
			rank++;
	}
	switch (irqname_rules[h->rule].fix) {
	case IRQNAME_QUEUE:
		h->queue = h->index;
		break;
	case IRQNAME_MINUS1:
		h->queue = (long)h->index - 1;
		break;
	case IRQNAME_BASE1:
		h->queue = min == 1 ? (long)h->index - 1 : h->index;
		break;
	case IRQNAME_HALF:
		half = (max + 1) / 2;
		h->queue = h->index >= half ? (long)(h->index - half) : -1;
		break;
	case IRQNAME_HALVE:
		h->queue = h->index / 2;
		break;
	case IRQNAME_RANK:
		h->queue = rank;
		break;
	case IRQNAME_SINGLE:
	case IRQNAME_SKIP:
		h->queue = -1;
		break;
	}
}

/*
 * One pass over the candidates with the rules of a driver (NULL: the rules
 * tried when the driver is unknown).  Returns how many hits serve an RX
 * queue, or -errno.
 */
static int
irqname_pass(const struct irqname_dev *dev, const char *driver,
    const struct irqname_candidate *cand, size_t ncand,
    struct irqname_hits *hits)
{
	regex_t	*re[IRQNAME_NRULES];
	char	*pattern;
	size_t	 i;
	int	 r = 0, nrx = 0;

	memset(re, 0, sizeof(re));
	for (i = 0; i < IRQNAME_NRULES && r == 0; i++) {
		if (!irqname_rule_used(&irqname_rules[i], driver))
			continue;
		if ((r = irqname_expand(dev, irqname_rules[i].pattern,
		    &pattern)) <= 0)
			continue;
		r = 0;
		if ((re[i] = malloc(sizeof(*re[i]))) == NULL)
			r = -ENOMEM;
		else if (regcomp(re[i], pattern, REG_EXTENDED) != 0) {
			/* A rule that does not compile is a bug here. */
			free(re[i]);
			re[i] = NULL;
			r = -EINVAL;
		}
		free(pattern);
	}
	for (i = 0; i < ncand && r >= 0; i++)
		if (cand[i].name != NULL && cand[i].name[0] != '\0')
			r = irqname_match(re, &cand[i], hits);
	for (i = 0; i < IRQNAME_NRULES; i++)
		if (re[i] != NULL) {
			regfree(re[i]);
			free(re[i]);
		}
	if (r < 0)
		return r;
	for (i = 0; i < hits->n; i++) {
		irqname_fix_hit(hits, &hits->v[i]);
		if (hits->v[i].queue >= 0)
			nrx++;
	}
	return nrx;
}

/*
 * With no per-queue name, a device whose one vector is named after it
 * (an MSI or INTx device: "eth2", "virtio2") has it serve queue 0.
 */
static void
irqname_single(struct irqname_hits *hits)
{
	struct irqname_hit	*one = NULL;
	size_t			 i;

	for (i = 0; i < hits->n; i++) {
		if (irqname_rules[hits->v[i].rule].fix != IRQNAME_SINGLE)
			continue;
		if (one != NULL && one->irq != hits->v[i].irq)
			return;
		one = &hits->v[i];
	}
	if (one != NULL)
		one->queue = 0;
}

static int
irqname_queue_cmp(const void *a, const void *b)
{
	const struct irqname_queue	*qa = a, *qb = b;

	if (qa->queue != qb->queue)
		return qa->queue < qb->queue ? -1 : 1;
	return qa->irq < qb->irq ? -1 : qa->irq > qb->irq;
}

static int
irqname_collect(const struct irqname_hits *hits, struct irqname_queue **out,
    size_t *nout)
{
	struct irqname_queue	*q;
	size_t			 i, n = 0;

	*out = NULL;
	*nout = 0;
	if ((q = calloc(hits->n + 1, sizeof(*q))) == NULL)
		return -ENOMEM;
	for (i = 0; i < hits->n; i++) {
		if (hits->v[i].queue < 0 || hits->v[i].queue > UINT_MAX)
			continue;
		q[n].irq = hits->v[i].irq;
		q[n++].queue = (unsigned int)hits->v[i].queue;
	}
	qsort(q, n, sizeof(*q), irqname_queue_cmp);
	for (i = 1, *nout = n ? 1 : 0; i < n; i++)
		if (irqname_queue_cmp(&q[i], &q[*nout - 1]) != 0)
			q[(*nout)++] = q[i];
	if (*nout == 0) {
		free(q);
		return 0;
	}
	*out = q;
	return 0;
}

/*
 * The IRQs among a device's candidates (irq + one action name each; an IRQ
 * with several actions appears several times) that serve RX queues, with
 * the queue numbers the kernel uses, sorted by queue then IRQ.  A queue
 * claimed by several IRQs is listed once per IRQ: names are not unique
 * across network namespaces, the caller decides.  The driver's own rules
 * are tried first, then every rule.  Returns 0 (*queues NULL when none)
 * or -ENOMEM.
 */
int
irqname_rx_queues(const struct irqname_dev *dev,
    const struct irqname_candidate *cand, size_t ncand,
    struct irqname_queue **queues, size_t *nqueues)
{
	struct irqname_hits	 hits = { NULL, 0, 0 };
	int			 r = 0;

	*queues = NULL;
	*nqueues = 0;
	if (irqname_driver_known(dev->driver))
		r = irqname_pass(dev, dev->driver, cand, ncand, &hits);
	if (r == 0) {
		hits.n = 0;
		r = irqname_pass(dev, NULL, cand, ncand, &hits);
	}
	if (r == 0)
		irqname_single(&hits);
	if (r >= 0)
		r = irqname_collect(&hits, queues, nqueues);
	free(hits.v);
	return r;
}

/* Whether word occurs in s with no letter or digit on either side. */
static int
irqname_word(const char *s, const char *word, size_t len)
{
	const char	*p;

	if (len == 0)
		return 0;
	for (p = s; (p = strstr(p, word)) != NULL; p++)
		if ((p == s || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[len]))
			return 1;
	return 0;
}

/*
 * Whether an IRQ name refers to this device: its netdev name, its PCI
 * address or its bus device name, as a whole word ("eth1" is not in
 * "eth10-TxRx-0").  For devices without an msi_irqs directory.
 */
int
irqname_mentions(const struct irqname_dev *dev, const char *name)
{
	char	 vif[64];

	if (name == NULL)
		return 0;
	if (dev->ifname != NULL &&
	    irqname_word(name, dev->ifname, strlen(dev->ifname)))
		return 1;
	if (dev->pci_addr != NULL &&
	    irqname_word(name, dev->pci_addr, strlen(dev->pci_addr)))
		return 1;
	if (dev->bus_name == NULL)
		return 0;
	if (irqname_word(name, dev->bus_name, strlen(dev->bus_name)))
		return 1;
	if (strncmp(dev->bus_name, "vif-", 4) == 0 &&
	    (size_t)snprintf(vif, sizeof(vif), "vif%s",
	    dev->bus_name + 4) < sizeof(vif))
		return irqname_word(name, vif, strlen(vif));
	return 0;
}
