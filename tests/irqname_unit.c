/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of irqname.c: for every sample of tests/fixtures/irq-samples
 * the RX queue -> IRQ map that the names give, with the device context
 * (netdev, PCI address, bus device, driver) taken from the sample's notes;
 * then drivers without a sample and the known traps, built by hand.
 */
#include "acconfig.h"

#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "topology/irqmap.h"

#include "samples.h"

/* Candidates and what they point into. */
struct cands {
	struct irqname_candidate	*v;
	size_t				 n;
	struct irqmap			*map;
	struct strv			 names;
};


/* Candidates from /proc/interrupts text: every name and every row tail. */
static void
cands_parse(struct cands *c, char *text)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(irqmap_parse(text, &c->map), 0);
	free(text);
	assert_int_equal(irqmap_candidates(c->map, NULL, 0, &c->v, &c->n), 0);
}

/* The same, limited to some IRQs (a device's msi_irqs). */
static void
cands_limit(struct cands *c, unsigned int first, unsigned int last)
{
	size_t	 i, n = 0;

	for (i = 0; i < c->n; i++)
		if (c->v[i].irq >= first && c->v[i].irq <= last)
			c->v[n++] = c->v[i];
	c->n = n;
}

static void
cands_add(struct cands *c, unsigned int irq, const char *name)
{
	assert_null(c->map);
	assert_int_equal(strv_add(&c->names, name), 0);
	c->v = reallocarray(c->v, c->n + 1, sizeof(*c->v));
	assert_non_null(c->v);
	c->v[c->n].irq = irq;
	c->v[c->n].name = c->names.v[c->names.n - 1];
	c->n++;
}

enum cands_form {
	CANDS_TUNA,		/* "IRQ NAME CPU" (tuna) */
	CANDS_PROC_IRQ,		/* "/proc/irq/IRQ/NAME" (ls -d) */
	CANDS_NUMBER,		/* "IRQ" alone (cut -f1 -d:): no name */
};

/* Candidates from the lines of a sample that are not /proc/interrupts. */
static void
cands_lines(struct cands *c, const char *text, enum cands_form form)
{
	const char	*p, *nl;
	char		 line[512], name[256], *q, *end;
	unsigned long	 irq;

	memset(c, 0, sizeof(*c));
	for (p = text; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		q = line + strspn(line, " ");
		if (form == CANDS_PROC_IRQ) {
			if (strncmp(q, "/proc/irq/", 10) != 0)
				continue;
			q += 10;
		}
		if (*q < '0' || *q > '9')
			continue;
		irq = strtoul(q, &end, 10);
		name[0] = '\0';
		switch (form) {
		case CANDS_NUMBER:
			if (end[strspn(end, " ")] != '\0')
				continue;
			break;
		case CANDS_TUNA:
			if (*end != ' ' || sscanf(end, "%255s", name) != 1)
				continue;
			break;
		case CANDS_PROC_IRQ:
			if (*end != '/' || sscanf(end + 1, "%255s", name) != 1)
				continue;
			break;
		}
		cands_add(c, (unsigned int)irq, name);
	}
}

/* Candidates from an "ls /proc/irq/N/" line: the entries ending in '/'. */
static void
cands_dirs(struct cands *c, unsigned int irq, const char *line)
{
	char	 name[256];
	int	 len;

	memset(c, 0, sizeof(*c));
	while (sscanf(line, " %255s%n", name, &len) == 1 && *line != '\n') {
		if (name[strlen(name) - 1] == '/') {
			name[strlen(name) - 1] = '\0';
			cands_add(c, irq, name);
		}
		line += len;
		if (*line == '\n')
			break;
	}
}

static void
cands_free(struct cands *c)
{
	free(c->v);
	irqmap_free(c->map);
	strv_free(&c->names);
	memset(c, 0, sizeof(*c));
}

static struct cands
sample_cands(const char *name, const char *strip, unsigned int header,
    int unwrap)
{
	struct cands	 c;
	char		*text;

	text = sample_read(name);
	if (strip != NULL)
		text = text_strip(text, strip);
	if (header > 0)
		text = text_header(text, header);
	if (unwrap)
		text = text_unwrap(text);
	cands_parse(&c, text);
	return c;
}

/* want: pairs of (queue, IRQ), sorted. */
static void
check_queues(const struct irqname_dev *dev, const struct cands *c,
    const unsigned int *want, size_t nwant)
{
	struct irqname_queue	*q = NULL;
	size_t			 n = 99, i;

	assert_int_equal(irqname_rx_queues(dev, c->v, c->n, &q, &n), 0);
	if (n != nwant / 2) {
		for (i = 0; i < n; i++)
			print_message("got queue %u -> IRQ %u\n", q[i].queue,
			    q[i].irq);
		fail_msg("%s: %zu queues, want %zu", dev->ifname ?
		    dev->ifname : dev->pci_addr, n, nwant / 2);
	}
	for (i = 0; i < n; i++) {
		if (q[i].queue != want[2 * i] || q[i].irq != want[2 * i + 1])
			fail_msg("%s: entry %zu is queue %u -> IRQ %u, want "
			    "%u -> %u", dev->ifname ? dev->ifname :
			    dev->pci_addr, i, q[i].queue, q[i].irq,
			    want[2 * i], want[2 * i + 1]);
	}
	if (n == 0)
		assert_null(q);
	free(q);
}

#define CHECK(dev, c, ...) do {						\
	static const unsigned int want_[] = { __VA_ARGS__ };		\
	check_queues((dev), (c), want_, ARRAY_SIZE(want_));		\
} while (0)
#define CHECK_NONE(dev, c)	check_queues((dev), (c), NULL, 0)

/* Queues first..first+n-1 on consecutive IRQs from irq. */
static void
check_run(const struct irqname_dev *dev, const struct cands *c,
    unsigned int first, unsigned int irq, unsigned int n)
{
	unsigned int	 want[256];
	unsigned int	 i;

	assert_true(n <= 128);
	for (i = 0; i < n; i++) {
		want[2 * i] = first + i;
		want[2 * i + 1] = irq + i;
	}
	check_queues(dev, c, want, 2 * n);
}

static void
test_bnx2(void **state)
{
	struct irqname_dev	 eth0 = { "eth0", "0000:02:00.0", NULL, "bnx2" };
	struct irqname_dev	 eth1 = { "eth1", "0000:02:00.1", NULL, "bnx2" };
	struct cands		 c = sample_cands("bnx2-1", NULL, 0, 0);

	(void)state;
	/* One vector per ring, "<netdev>-<vector>": no rx/tx hint. */
	check_run(&eth0, &c, 0, 77, 8);
	check_run(&eth1, &c, 0, 86, 8);
	eth0.driver = NULL;
	check_run(&eth0, &c, 0, 77, 8);
	cands_free(&c);
}

static void
test_e1000e(void **state)
{
	struct irqname_dev	 dev = { "eth2", "0000:02:00.0", NULL,
	    "e1000e" };
	struct cands		 c;
	char			*text;

	(void)state;
	c = sample_cands("e1000e-1", NULL, 0, 0);
	CHECK(&dev, &c, 0, 53);
	dev.ifname = "eth3";
	CHECK(&dev, &c, 0, 56);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 56);
	cands_free(&c);

	c = sample_cands("e1000e-2", NULL, 0, 0);
	dev.driver = "e1000e";
	dev.ifname = "eth0";
	CHECK(&dev, &c, 0, 77);
	dev.ifname = "eth1";
	CHECK(&dev, &c, 0, 80);
	cands_free(&c);

	/*
	 * e1000e-3 holds only the IRQ numbers (the author cut the names
	 * away) and the netlink truth, RX queue 0 -> IRQ 50.  Names cannot
	 * give anything here: netlink is the only source for this sample.
	 */
	text = sample_read("e1000e-3");
	cands_lines(&c, text, CANDS_NUMBER);
	free(text);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.v[2].irq, 52);
	dev.ifname = "ens2";
	CHECK_NONE(&dev, &c);
	cands_free(&c);
}

static void
test_ena(void **state)
{
	struct irqname_dev	 dev = { "enp39s0", "0000:27:00.0", NULL,
	    "ena" };
	struct cands		 c;

	(void)state;
	/* Queues reduced to 1: IRQs 67-69 are left without a name. */
	c = sample_cands("ena-1", NULL, 4, 0);
	CHECK(&dev, &c, 0, 66);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 66);
	cands_free(&c);

	c = sample_cands("ena-2", "[stdout] ", 64, 0);
	dev.ifname = "eth0";
	dev.pci_addr = NULL;
	dev.driver = "ena";
	CHECK(&dev, &c, 0, 683);
	cands_free(&c);
}

static void
test_gve(void **state)
{
	/* The sample does not name the interface: gve names carry none. */
	struct irqname_dev	 dev = { NULL, "0000:00:04.0", NULL, "gve" };
	struct cands		 c = sample_cands("gve-1", NULL, 2, 0);

	(void)state;
	/* Two blocks: block 0 serves TX queue 0, block 1 RX queue 0. */
	CHECK(&dev, &c, 0, 25);
	dev.driver = "gvnic";
	CHECK(&dev, &c, 0, 25);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 25);
	dev.pci_addr = "0000:00:05.0";
	CHECK_NONE(&dev, &c);
	cands_free(&c);
}

static void
test_i40e(void **state)
{
	struct irqname_dev	 dev = { "eth0", "0000:01:00.0", NULL,
	    "i40e" };
	struct cands		 c;

	(void)state;
	c = sample_cands("i40e-1", NULL, 0, 0);
	CHECK(&dev, &c, 0, 33, 1, 34, 2, 35, 3, 36);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 33, 1, 34, 2, 35, 3, 36);
	/* eth1 is down: only its misc and fdir vectors exist. */
	dev.ifname = "eth1";
	dev.pci_addr = "0000:01:00.1";
	dev.driver = "i40e";
	CHECK_NONE(&dev, &c);
	cands_free(&c);

	c = sample_cands("i40e-2", NULL, 0, 0);
	dev.ifname = "enP1s15";
	dev.pci_addr = "0001:00:0f.0";
	CHECK(&dev, &c, 0, 10, 1, 11, 2, 12);
	cands_free(&c);
}

static void
test_iavf(void **state)
{
	struct irqname_dev	 vf1 = { "net1", "0000:b5:03.6", NULL, "iavf" };
	struct irqname_dev	 vf2 = { "net1", "0000:b5:02.7", NULL, "iavf" };
	struct cands		 c;

	(void)state;
	/* Two VFs in two namespaces, both "net1": msi_irqs tell them apart. */
	c = sample_cands("iavf-1", NULL, 0, 1);
	CHECK(&vf1, &c, 0, 942, 0, 962, 1, 943, 1, 963, 2, 944, 2, 964,
	    3, 945, 3, 965);
	cands_limit(&c, 941, 945);
	CHECK(&vf1, &c, 0, 942, 1, 943, 2, 944, 3, 945);
	cands_free(&c);
	c = sample_cands("iavf-1", NULL, 0, 1);
	cands_limit(&c, 961, 965);
	CHECK(&vf2, &c, 0, 962, 1, 963, 2, 964, 3, 965);
	cands_free(&c);

	/* Without undoing the mail's line wrap the rows have no name. */
	c = sample_cands("iavf-1", NULL, 0, 0);
	CHECK_NONE(&vf1, &c);
	cands_free(&c);
}

static void
test_ice(void **state)
{
	/* lan1's function is inferred: its misc vector precedes its queues. */
	struct irqname_dev	 dev = { "lan1", "0000:65:00.1", NULL, "ice" };
	struct cands		 c;
	char			*text;

	(void)state;
	c = sample_cands("ice-1", NULL, 16, 0);
	CHECK(&dev, &c, 0, 78, 1, 79, 2, 80);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 78, 1, 79, 2, 80);
	cands_free(&c);

	/* ice-2 is tuna output: "IRQ NAME CPU". */
	text = sample_read("ice-2");
	cands_lines(&c, text, CANDS_TUNA);
	free(text);
	assert_int_equal(c.n, 1);
	dev.ifname = "em3";
	dev.pci_addr = NULL;
	dev.driver = "ice";
	CHECK(&dev, &c, 126, 1056);
	cands_free(&c);
}

static void
test_igb(void **state)
{
	struct irqname_dev	 dev = { "eth0", NULL, NULL, "igb" };
	struct cands		 c;

	(void)state;
	/* igb-1: separate rx and tx vectors; eth2, eth3 a single vector. */
	c = sample_cands("igb-1", NULL, 0, 0);
	check_run(&dev, &c, 0, 128, 4);
	dev.ifname = "eth1";
	check_run(&dev, &c, 0, 137, 4);
	dev.ifname = "eth2";
	CHECK(&dev, &c, 0, 146);
	dev.ifname = "eth3";
	CHECK(&dev, &c, 0, 145);
	cands_free(&c);

	c = sample_cands("igb-2", NULL, 0, 0);
	dev.ifname = "eth0";
	check_run(&dev, &c, 0, 58, 4);
	dev.ifname = "eth1";
	check_run(&dev, &c, 0, 67, 4);
	dev.ifname = "eth3";
	check_run(&dev, &c, 0, 85, 4);
	dev.ifname = "eth4";
	check_run(&dev, &c, 0, 94, 4);
	dev.ifname = "eth5";
	check_run(&dev, &c, 0, 103, 4);
	dev.ifname = "eth2";
	CHECK_NONE(&dev, &c);
	cands_free(&c);

	c = sample_cands("igb-3", NULL, 0, 0);
	dev.ifname = "eth0";
	dev.pci_addr = "0000:07:00.0";
	check_run(&dev, &c, 0, 36, 8);
	dev.ifname = "eth1";
	dev.pci_addr = "0000:07:00.1";
	check_run(&dev, &c, 0, 45, 8);
	cands_free(&c);

	c = sample_cands("igb-4", NULL, 0, 0);
	dev.ifname = "em1";
	dev.pci_addr = "0000:01:00.0";
	check_run(&dev, &c, 0, 58, 8);
	dev.ifname = "em2";
	dev.pci_addr = "0000:01:00.1";
	check_run(&dev, &c, 0, 67, 8);
	cands_free(&c);

	c = sample_cands("igb-5", NULL, 0, 0);
	dev.ifname = "eth6";
	dev.pci_addr = "0000:01:00.0";
	check_run(&dev, &c, 0, 35, 4);
	dev.ifname = "eth7";
	dev.pci_addr = "0000:01:00.1";
	CHECK_NONE(&dev, &c);
	cands_free(&c);

	/* igb-6: eth1 is an e1000e with one vector named after it. */
	c = sample_cands("igb-6", NULL, 0, 0);
	dev.ifname = "eth0";
	dev.pci_addr = "0000:03:00.0";
	CHECK(&dev, &c, 0, 130, 1, 131);
	dev.ifname = "eth1";
	dev.pci_addr = "0000:00:1f.6";
	dev.driver = "e1000e";
	CHECK(&dev, &c, 0, 128);
	cands_free(&c);

	c = sample_cands("igb-7", NULL, 0, 0);
	dev.driver = "igb";
	dev.ifname = "eth0";
	dev.pci_addr = "0000:02:00.0";
	check_run(&dev, &c, 0, 92, 8);
	dev.ifname = "eth1";
	dev.pci_addr = "0000:02:00.1";
	check_run(&dev, &c, 0, 101, 8);
	cands_free(&c);

	c = sample_cands("igb-8", NULL, 0, 0);
	dev.ifname = "eth3";
	dev.pci_addr = "0000:04:00.0";
	check_run(&dev, &c, 0, 62, 4);
	cands_free(&c);

	/* igb-9: napi-get gives IRQs 124-127 too, one per queue pair. */
	c = sample_cands("igb-9", "|", 2, 0);
	dev.ifname = "enp2s0";
	dev.pci_addr = "0000:02:00.0";
	check_run(&dev, &c, 0, 124, 4);
	cands_free(&c);
}

static void
test_igc(void **state)
{
	struct irqname_dev	 dev = { "enp86s0", NULL, NULL, "igc" };
	struct cands		 c;
	char			*text;

	(void)state;
	/*
	 * The author elided the counts ("[...]") and CPUs 0 and 2 were
	 * online: put the counts back under a "CPU0 CPU2" header.  netlink
	 * in the same sample says rx 0 -> napi 8193 -> IRQ 145, rx 1 -> 146.
	 */
	text = sample_read("igc-1");
	text = text_replace(text, "$ cat /proc/interrupts",
	    "           CPU0       CPU2\n$ cat /proc/interrupts");
	text = text_replace(text, "[...]", "0 0");
	cands_parse(&c, text);
	CHECK(&dev, &c, 0, 145, 1, 146);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 145, 1, 146);
	cands_free(&c);
}

static void
test_ixgbe(void **state)
{
	struct irqname_dev	 dev = { "eth0", NULL, NULL, "ixgbe" };
	struct cands		 c;

	(void)state;
	c = sample_cands("ixgbe-1", NULL, 0, 0);
	check_run(&dev, &c, 0, 66, 8);
	dev.ifname = "eth1";
	check_run(&dev, &c, 0, 75, 8);
	dev.ifname = "eth2";
	CHECK(&dev, &c, 0, 63);
	dev.ifname = "eth3";
	CHECK(&dev, &c, 0, 64);
	cands_free(&c);

	/* 32 queues per port; the link vector comes after the queues. */
	c = sample_cands("ixgbe-2", NULL, 0, 0);
	dev.ifname = "eth5";
	dev.pci_addr = "0000:04:00.0";
	check_run(&dev, &c, 0, 109, 32);
	dev.ifname = "eth4";
	dev.pci_addr = "0000:04:00.1";
	check_run(&dev, &c, 0, 142, 32);
	dev.ifname = "eth2";
	dev.pci_addr = "0000:81:00.0";
	check_run(&dev, &c, 0, 175, 32);
	dev.ifname = "eth3";
	dev.pci_addr = "0000:81:00.1";
	dev.driver = NULL;
	check_run(&dev, &c, 0, 208, 32);
	cands_free(&c);
}

static void
test_mana(void **state)
{
	/* The mail does not name the interface; names carry the VF's PCI. */
	struct irqname_dev	 dev = { NULL, "7870:00:00.0", NULL, "mana" };
	struct cands		 c;
	char			*text;

	(void)state;
	/* The second listing is whole. */
	text = sample_read("mana-1");
	memmove(text, strstr(text, "Interrupt affinity"),
	    strlen(strstr(text, "Interrupt affinity")) + 1);
	cands_parse(&c, text_header(text, 4));
	CHECK(&dev, &c, 0, 25, 1, 26, 2, 27, 3, 28);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 25, 1, 26, 2, 27, 3, 28);
	dev.pci_addr = "0000:00:00.0";
	CHECK_NONE(&dev, &c);
	cands_free(&c);

	/* In the first, the mail wrapped IRQ 28's name after "mana_q3". */
	c = sample_cands("mana-1", NULL, 4, 0);
	dev.pci_addr = "7870:00:00.0";
	CHECK(&dev, &c, 0, 25, 1, 26, 2, 27);
	cands_free(&c);
}

static void
test_mlx4(void **state)
{
	struct irqname_dev	 dev = { "eth2", "0000:07:00.0", NULL,
	    "mlx4_en" };
	struct cands		 c;

	(void)state;
	/* Old mlx4_en: per-ring "<netdev>-<ring>"; core EQs are not rings. */
	c = sample_cands("mlx4-1", NULL, 0, 0);
	check_run(&dev, &c, 0, 64, 8);
	dev.driver = NULL;
	check_run(&dev, &c, 0, 64, 8);
	cands_free(&c);

	/* Two ports of one PCI function: only the ring names differ. */
	c = sample_cands("mlx4-2", NULL, 0, 0);
	dev.ifname = "eth6";
	dev.pci_addr = "0000:04:00.0";
	dev.driver = "mlx4_en";
	check_run(&dev, &c, 0, 113, 8);
	dev.ifname = "eth7";
	check_run(&dev, &c, 0, 121, 8);
	cands_free(&c);
}

static void
test_mlx5(void **state)
{
	struct irqname_dev	 dev = { NULL, "0000:01:00.0", NULL,
	    "mlx5_core" };
	struct cands		 c;
	char			*text;

	(void)state;
	/* mlx5-1: the fixture selects the device as pci:0000:01:00.0. */
	c = sample_cands("mlx5-1", NULL, 0, 0);
	check_run(&dev, &c, 0, 30, 4);
	dev.pci_addr = "0000:01:00.1";
	check_run(&dev, &c, 0, 37, 4);
	dev.driver = NULL;
	check_run(&dev, &c, 0, 37, 4);
	cands_free(&c);

	/*
	 * mlx5-2: /proc/irq/N/<action> names of a Multi-PF netdev whose
	 * channels alternate between 08:00.0 and 09:00.0.  netlink's truth
	 * is rx 0..4 -> IRQs 36, 39, 40, 41, 42; by name, the primary PF
	 * only yields its own comp vectors, so the names cannot give it.
	 */
	text = sample_read("mlx5-2");
	cands_lines(&c, text, CANDS_PROC_IRQ);
	assert_int_equal(c.n, 5);
	dev.pci_addr = "0000:08:00.0";
	dev.driver = "mlx5_core";
	CHECK(&dev, &c, 0, 36, 1, 40, 2, 42);
	dev.pci_addr = "0000:09:00.0";
	CHECK(&dev, &c, 0, 39, 1, 41);
	cands_free(&c);

	/* The same listing before 9f7e8fbb91f8 started at mlx5_comp1. */
	text = text_replace(text, "comp1@", "comp9@");
	text = text_replace(text, "comp2@", "comp3@");
	text = text_replace(text, "comp9@", "comp2@");
	text = text_replace(text, "comp0@", "comp1@");
	cands_lines(&c, text, CANDS_PROC_IRQ);
	free(text);
	assert_string_equal(c.v[0].name, "mlx5_comp1@pci:0000:08:00.0");
	dev.pci_addr = "0000:08:00.0";
	CHECK(&dev, &c, 0, 36, 1, 40, 2, 42);
	cands_free(&c);

	/* mlx5-3: tuna output with elisions; queue N on IRQ 288 + N. */
	text = sample_read("mlx5-3");
	cands_lines(&c, text, CANDS_TUNA);
	free(text);
	assert_int_equal(c.n, 14);
	dev.pci_addr = "0000:81:00.0";
	CHECK(&dev, &c, 10, 298, 11, 299, 12, 300, 13, 301, 14, 302, 15, 303,
	    16, 304, 25, 313, 26, 314, 27, 315, 28, 316, 29, 317, 30, 318,
	    31, 319);
	cands_free(&c);
}

static void
test_qlcnic(void **state)
{
	struct irqname_dev	 dev = { "eth0", "0000:05:00.0", NULL,
	    "qlcnic" };
	struct cands		 c = sample_cands("qlcnic-1", NULL, 0, 0);

	(void)state;
	/* The last vector, "eth0-tx-0-rx-3", carries RX queue 3 too. */
	check_run(&dev, &c, 0, 88, 4);
	dev.ifname = "eth1";
	dev.pci_addr = "0000:05:00.1";
	check_run(&dev, &c, 0, 93, 4);
	dev.driver = NULL;
	check_run(&dev, &c, 0, 93, 4);
	cands_free(&c);
}

static void
test_realtek(void **state)
{
	struct irqname_dev	 dev = { "eth0", NULL, NULL, NULL };
	struct cands		 c = sample_cands("realtek-1", NULL, 0, 0);

	(void)state;
	/*
	 * Seven vectors "eth0-0".."eth0-6" for three RX queues (the sysfs
	 * listing in the sample): a vector number, not a queue, and nothing
	 * in the names says which.  This is what the names give; queues
	 * without an rx-N directory are for the caller to drop.
	 */
	check_run(&dev, &c, 0, 30, 7);
	dev.driver = "r8125";
	check_run(&dev, &c, 0, 30, 7);
	cands_free(&c);
}

static void
test_stmmac(void **state)
{
	/* The driver is inferred from the name format, not stated. */
	struct irqname_dev	 dev = { "enp0s8f0", NULL, NULL, NULL };
	struct cands		 c = sample_cands("stmmac-1", NULL, 0, 0);

	(void)state;
	CHECK(&dev, &c, 0, 9, 1, 11, 2, 13, 3, 15, 4, 17, 5, 19);
	dev.driver = "intel-eth-pci";
	CHECK(&dev, &c, 0, 9, 1, 11, 2, 13, 3, 15, 4, 17, 5, 19);
	cands_free(&c);
}

static void
test_tg3(void **state)
{
	struct irqname_dev	 dev = { "eth0", "0000:03:00.0", NULL, "tg3" };
	struct cands		 c;
	char			*text;

	(void)state;
	/* Vector 0 is tx + link; "rx-1" is RX queue 0. */
	c = sample_cands("tg3-1", NULL, 0, 0);
	check_run(&dev, &c, 0, 162, 4);
	dev.ifname = "eth1";
	dev.pci_addr = "0000:03:00.1";
	check_run(&dev, &c, 0, 167, 4);
	dev.driver = NULL;
	check_run(&dev, &c, 0, 167, 4);
	cands_free(&c);

	/*
	 * tg3-2 holds IRQ numbers 343-347 (names cut away) and napi-get,
	 * where every vector has a NAPI: only netlink can tell them apart.
	 */
	text = sample_read("tg3-2");
	cands_lines(&c, text, CANDS_NUMBER);
	free(text);
	assert_int_equal(c.n, 5);
	dev.driver = "tg3";
	CHECK_NONE(&dev, &c);
	cands_free(&c);
}

static void
test_thunderx(void **state)
{
	struct irqname_dev	 dev = { "enp5s0f1", NULL, NULL,
	    "thunder-nicvf" };
	struct cands		 c;

	(void)state;
	c = sample_cands("thunderx_nicvf-1", "> > ", 4, 1);
	CHECK(&dev, &c, 0, 73);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 73);
	cands_free(&c);

	/* Left wrapped, the rows end at the hwirq: no name to go by. */
	c = sample_cands("thunderx_nicvf-1", "> > ", 4, 0);
	CHECK_NONE(&dev, &c);
	cands_free(&c);
}

static void
test_virtio(void **state)
{
	struct irqname_dev	 dev = { "eth0", "0000:00:03.0", "virtio0",
	    "virtio_net" };
	struct cands		 c;

	(void)state;
	/* virtio1 and virtio2 are other virtio devices. */
	c = sample_cands("virtio_net-1", NULL, 0, 0);
	CHECK(&dev, &c, 0, 27);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 27);
	/* virtio2 is INTx with a single IRQ named after the device. */
	dev.bus_name = "virtio2";
	CHECK(&dev, &c, 0, 10);
	cands_free(&c);

	/* The excerpt starts at input.1; the interface is not named. */
	c = sample_cands("virtio_net-2", NULL, 16, 0);
	dev.ifname = NULL;
	dev.pci_addr = NULL;
	dev.bus_name = "virtio5";
	dev.driver = "virtio_net";
	CHECK(&dev, &c, 1, 41, 2, 43, 3, 45);
	dev.bus_name = "virtio";
	CHECK_NONE(&dev, &c);
	cands_free(&c);
}

static void
test_vmxnet3(void **state)
{
	struct irqname_dev	 dev = { "eth0", NULL, NULL, "vmxnet3" };
	struct cands		 c;
	char			*text;

	(void)state;
	c = sample_cands("vmxnet3-1", NULL, 16, 0);
	check_run(&dev, &c, 0, 56, 8);
	dev.driver = NULL;
	check_run(&dev, &c, 0, 56, 8);
	/* eth2 is an e1000 with one IO-APIC interrupt. */
	dev.ifname = "eth2";
	dev.driver = "e1000";
	CHECK(&dev, &c, 0, 19);
	cands_free(&c);

	/* The /proc/irq/56/ listing: the directory named after the action. */
	text = sample_read("vmxnet3-1");
	cands_dirs(&c, 56, strstr(text, "cat /proc/irq/56/\n") + 18);
	free(text);
	assert_int_equal(c.n, 1);
	dev.ifname = "eth0";
	dev.driver = "vmxnet3";
	CHECK(&dev, &c, 0, 56);
	cands_free(&c);
}

static void
test_xen(void **state)
{
	/* "vif0" is the Xen device (vif-0 on the bus), not the netdev. */
	struct irqname_dev	 dev = { "eth0", NULL, "vif-0", "vif" };
	struct cands		 c = sample_cands("xen_netfront-1", NULL, 4, 0);

	(void)state;
	CHECK(&dev, &c, 0, 71, 1, 73, 2, 75, 3, 77);
	dev.bus_name = "vif0";
	CHECK(&dev, &c, 0, 71, 1, 73, 2, 75, 3, 77);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 71, 1, 73, 2, 75, 3, 77);
	dev.bus_name = "vif-1";
	CHECK_NONE(&dev, &c);
	cands_free(&c);
}

/* A hand-made candidate list: NULL-terminated (irq, name) pairs. */
static struct cands
make(unsigned int irq, const char *name, ...)
{
	struct cands	 c;
	va_list		 ap;

	memset(&c, 0, sizeof(c));
	va_start(ap, name);
	while (name != NULL) {
		cands_add(&c, irq, name);
		irq = va_arg(ap, unsigned int);
		if (irq == 0)
			break;
		name = va_arg(ap, const char *);
	}
	va_end(ap);
	return c;
}

/* bnxt_en: shared TxRx rings, or rx first and tx continuing the count. */
static void
test_bnxt(void **state)
{
	struct irqname_dev	 dev = { "enp4s0f0np0", NULL, NULL, "bnxt_en" };
	struct cands		 c;

	(void)state;
	c = make(40, "enp4s0f0np0-TxRx-0", 41, "enp4s0f0np0-TxRx-1",
	    42, "enp4s0f0np0-TxRx-2", 0);
	CHECK(&dev, &c, 0, 40, 1, 41, 2, 42);
	cands_free(&c);
	c = make(40, "enp4s0f0np0-rx-0", 41, "enp4s0f0np0-rx-1",
	    42, "enp4s0f0np0-tx-2", 43, "enp4s0f0np0-tx-3", 0);
	CHECK(&dev, &c, 0, 40, 1, 41);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 40, 1, 41);
	cands_free(&c);
}

/* sfc: "<netdev>-N" channels; split rx/tx restart at 0; xdp channels. */
static void
test_sfc(void **state)
{
	struct irqname_dev	 dev = { "ens1f0", NULL, NULL, "sfc" };
	struct cands		 c;

	(void)state;
	c = make(60, "ens1f0-0", 61, "ens1f0-1", 62, "ens1f0-2",
	    63, "ens1f0-xdp-0", 0);
	CHECK(&dev, &c, 0, 60, 1, 61, 2, 62);
	cands_free(&c);
	c = make(60, "ens1f0-rx-0", 61, "ens1f0-rx-1", 62, "ens1f0-tx-0",
	    63, "ens1f0-tx-1", 0);
	CHECK(&dev, &c, 0, 60, 1, 61);
	dev.driver = "sfc_ef100";
	CHECK(&dev, &c, 0, 60, 1, 61);
	cands_free(&c);
}

/* nfp, octeontx2 and thunderx: "-rxtx-N" with link/exception vectors. */
static void
test_rxtx(void **state)
{
	struct irqname_dev	 dev = { "enp1s0np0", NULL, NULL, "nfp" };
	struct cands		 c;

	(void)state;
	c = make(70, "enp1s0np0-lsc", 71, "enp1s0np0-exn",
	    72, "enp1s0np0-rxtx-0", 73, "enp1s0np0-rxtx-1", 0);
	CHECK(&dev, &c, 0, 72, 1, 73);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 72, 1, 73);
	dev.driver = "rvu_nicpf";
	CHECK(&dev, &c, 0, 72, 1, 73);
	cands_free(&c);
}

/* hns3: "TxRx" indices step by two; newer names carry the PCI address. */
static void
test_hns3(void **state)
{
	struct irqname_dev	 dev = { "eth0", "0000:7d:00.0", NULL, "hns3" };
	struct cands		 c;

	(void)state;
	c = make(80, "hns3-0000:7d:00.0-TxRx-0", 81, "hns3-0000:7d:00.0-TxRx-2",
	    82, "hns3-0000:7d:00.0-TxRx-4", 83, "hns3-0000:7d:00.1-TxRx-0",
	    84, "hns3-0000:7d:00.0-Rx-0", 0);
	CHECK(&dev, &c, 0, 80, 0, 84, 1, 81, 2, 82);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 80, 0, 84, 1, 81, 2, 82);
	cands_free(&c);
	c = make(80, "eth0-TxRx-0", 81, "eth0-TxRx-2", 82, "eth0-TxRx-4", 0);
	dev.driver = "hns3";
	CHECK(&dev, &c, 0, 80, 1, 81, 2, 82);
	/* Unknown driver: old hns3 names look like igb's and are read so. */
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 80, 2, 81, 4, 82);
	cands_free(&c);
}

/* bnx2x and qede: "<netdev>-fp-N". */
static void
test_fp(void **state)
{
	struct irqname_dev	 dev = { "eth0", NULL, NULL, "qede" };
	struct cands		 c;

	(void)state;
	c = make(90, "eth0", 91, "eth0-fp-0", 92, "eth0-fp-1", 0);
	CHECK(&dev, &c, 0, 91, 1, 92);
	dev.driver = "bnx2x";
	CHECK(&dev, &c, 0, 91, 1, 92);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 91, 1, 92);
	cands_free(&c);
}

/* idpf: the index is a vector number (before the 2025 fix, device-wide). */
static void
test_idpf(void **state)
{
	struct irqname_dev	 dev = { "eth1", NULL, NULL, "idpf" };
	struct cands		 c;

	(void)state;
	c = make(69, "idpf-eth1-TxRx-0", 70, "idpf-eth1-TxRx-1",
	    71, "idpf-eth1-TxRx-2", 72, "idpf-eth1-Tx-3", 0);
	CHECK(&dev, &c, 0, 69, 1, 70, 2, 71);
	cands_free(&c);
	c = make(69, "idpf-eth1-TxRx-5", 70, "idpf-eth1-TxRx-6",
	    71, "idpf-eth1-Rx-7", 72, "idpf-eth1-Tx-8", 0);
	CHECK(&dev, &c, 0, 69, 1, 70, 2, 71);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 69, 1, 70, 2, 71);
	cands_free(&c);
}

/* mlx4 now: "mlx4-N@<BDF>", EQ 0 being the async one. */
static void
test_mlx4_new(void **state)
{
	struct irqname_dev	 dev = { "eth6", "0000:04:00.0", NULL,
	    "mlx4_en" };
	struct cands		 c;

	(void)state;
	c = make(100, "mlx4-async@pci:0000:04:00.0", 101, "mlx4-1@0000:04:00.0",
	    102, "mlx4-2@0000:04:00.0", 103, "mlx4-3@0000:04:00.0",
	    104, "mlx4-1@0000:05:00.0", 0);
	CHECK(&dev, &c, 0, 101, 1, 102, 2, 103);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 101, 1, 102, 2, 103);
	cands_free(&c);
}

/* gve: blocks, first half TX and second half RX, old and new names. */
static void
test_gve_names(void **state)
{
	struct irqname_dev	 dev = { "ens4", "0000:00:04.0", NULL, "gve" };
	struct cands		 c;
	unsigned int		 i;
	char			 name[64];

	(void)state;
	c = make(24, "gve-ntfy-blk0@pci:0000:00:04.0",
	    25, "gve-ntfy-blk1@pci:0000:00:04.0",
	    26, "gve-ntfy-blk2@pci:0000:00:04.0",
	    27, "gve-ntfy-blk3@pci:0000:00:04.0",
	    28, "gve-mgmnt@pci:0000:00:04.0", 0);
	CHECK(&dev, &c, 0, 26, 1, 27);
	cands_free(&c);

	/* The 2021 report: 16 blocks named with a literal "eth%d". */
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "eth%%d-ntfy-block.%u", i);
		cands_add(&c, 40 + i, name);
	}
	check_run(&dev, &c, 0, 48, 8);
	cands_free(&c);
	c = make(40, "ens4-ntfy-block.0", 41, "ens4-ntfy-block.1", 0);
	CHECK(&dev, &c, 0, 41);
	cands_free(&c);
}

/* tg3 with TSS: vector 0 has neither ring ("eth0-0"), then "txrx-N". */
static void
test_tg3_vectors(void **state)
{
	struct irqname_dev	 dev = { "eth0", NULL, NULL, "tg3" };
	struct cands		 c;

	(void)state;
	c = make(30, "eth0-0", 31, "eth0-txrx-1", 32, "eth0-txrx-2", 0);
	CHECK(&dev, &c, 0, 31, 1, 32);
	cands_free(&c);
	/* One vector: named after the netdev, it serves everything. */
	c = make(30, "eth0", 0);
	CHECK(&dev, &c, 0, 30);
	cands_free(&c);
}

/* vmxnet3 without buddy sharing: tx vectors first, "-rx-<vector>". */
static void
test_vmxnet3_split(void **state)
{
	struct irqname_dev	 dev = { "ens192", NULL, NULL, "vmxnet3" };
	struct cands		 c;

	(void)state;
	c = make(56, "ens192-tx-0", 57, "ens192-tx-1", 58, "ens192-rx-2",
	    59, "ens192-rx-3", 60, "ens192-event-4", 0);
	CHECK(&dev, &c, 0, 58, 1, 59);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 58, 1, 59);
	cands_free(&c);
}

/* "eth1" is not in "eth10-TxRx-0" nor in "veth1-TxRx-0". */
static void
test_name_boundaries(void **state)
{
	struct irqname_dev	 dev = { "eth1", NULL, NULL, "igb" };
	struct cands		 c;

	(void)state;
	c = make(40, "eth10-TxRx-0", 41, "eth10-TxRx-1", 50, "eth1-TxRx-0",
	    51, "eth1", 52, "veth1-TxRx-3", 53, "i40e-eth10-TxRx-2", 0);
	CHECK(&dev, &c, 0, 50);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 50);
	dev.ifname = "eth10";
	CHECK(&dev, &c, 0, 40, 1, 41, 2, 53);
	cands_free(&c);

	/* Interface names are literals, not patterns. */
	c = make(60, "net.1-TxRx-0", 61, "netx1-TxRx-1", 0);
	dev.ifname = "net.1";
	CHECK(&dev, &c, 0, 60);
	cands_free(&c);
}

/* Flow director and ctrl vectors contain "-TxRx-" and are not queues. */
static void
test_control_vectors(void **state)
{
	struct irqname_dev	 dev = { "eth0", "0000:01:00.0", NULL, NULL };
	struct cands		 c;

	(void)state;
	c = make(32, "i40e-0000:01:00.0:misc", 33, "i40e-eth0-TxRx-0",
	    37, "i40e-0000:01:00.0:fdir-TxRx-0",
	    66, "ice-0000:01:00.0:ctrl-TxRx-0", 67, "iavf-0000:01:00.0:mbx",
	    68, "ena-mgmnt@pci:0000:01:00.0", 69, "eth0-TxRx-0:misc", 0);
	CHECK(&dev, &c, 0, 33);
	dev.driver = "i40e";
	CHECK(&dev, &c, 0, 33);
	cands_free(&c);
}

/* mlx5: control vector last, the 1-based era, domains, single IRQ. */
static void
test_mlx5_names(void **state)
{
	struct irqname_dev	 dev = { "enp59s0f0np0", "0000:3b:00.0", NULL,
	    "mlx5_core" };
	struct cands		 c;

	(void)state;
	/* After "Shift control IRQ to the last index". */
	c = make(10, "mlx5_comp0@pci:0000:3b:00.0",
	    11, "mlx5_comp1@pci:0000:3b:00.0",
	    12, "mlx5_comp2@pci:0000:3b:00.0",
	    13, "mlx5_async3@pci:0000:3b:00.0", 0);
	CHECK(&dev, &c, 0, 10, 1, 11, 2, 12);
	cands_free(&c);

	/* 3354822cde5a..9f7e8fbb91f8: async0, then comp1..compN. */
	c = make(9, "mlx5_async0@pci:0000:3b:00.0",
	    10, "mlx5_comp1@pci:0000:3b:00.0",
	    11, "mlx5_comp2@pci:0000:3b:00.0",
	    20, "mlx5_comp0@pci:0001:3b:00.0",
	    21, "mlx5_comp1@pci:0001:3b:00.0", 0);
	CHECK(&dev, &c, 0, 10, 1, 11);
	dev.pci_addr = "0001:3b:00.0";
	CHECK(&dev, &c, 0, 20, 1, 21);
	dev.driver = NULL;
	CHECK(&dev, &c, 0, 20, 1, 21);
	cands_free(&c);

	c = make(9, "mlx5_combined0@pci:0001:3b:00.0", 0);
	CHECK(&dev, &c, 0, 9);
	cands_free(&c);
}

/* Xen single-queue netfront, virtio with one shared vector, no names. */
static void
test_single_vectors(void **state)
{
	struct irqname_dev	 dev = { "eth0", NULL, "virtio3", "virtio_net" };
	struct cands		 c;

	(void)state;
	c = make(11, "virtio3-config", 12, "virtio3-virtqueues", 0);
	CHECK(&dev, &c, 0, 12);
	cands_free(&c);
	c = make(11, "virtio3-config", 0);
	CHECK_NONE(&dev, &c);
	cands_free(&c);

	dev.bus_name = "vif-0";
	dev.driver = "vif";
	c = make(70, "eth0-tx", 71, "eth0-rx", 0);
	CHECK(&dev, &c, 0, 71);
	cands_free(&c);

	/* Two IRQs named after the netdev: no way to tell which. */
	dev.driver = "igb";
	c = make(70, "eth0", 71, "eth0", 0);
	CHECK_NONE(&dev, &c);
	cands_free(&c);
	c = make(70, "eth0", 70, "PCI-MSI-edge      eth0", 0);
	CHECK(&dev, &c, 0, 70);
	cands_free(&c);

	memset(&c, 0, sizeof(c));
	CHECK_NONE(&dev, &c);
	c = make(1, "", 2, "  ", 0);
	CHECK_NONE(&dev, &c);
	cands_free(&c);
	dev.ifname = NULL;
	dev.bus_name = NULL;
	dev.driver = NULL;
	c = make(1, "eth0-TxRx-0", 0);
	CHECK_NONE(&dev, &c);
	cands_free(&c);
}

/* An unknown driver string falls back to every rule. */
static void
test_unknown_driver(void **state)
{
	struct irqname_dev	 dev = { "eth0", NULL, NULL, "cxgb4" };
	struct cands		 c;

	(void)state;
	c = make(5, "eth0-TxRx-1", 4, "eth0-TxRx-0", 0);
	CHECK(&dev, &c, 0, 4, 1, 5);
	dev.driver = "";
	CHECK(&dev, &c, 0, 4, 1, 5);
	cands_free(&c);
}

static void
test_mentions(void **state)
{
	struct irqname_dev	 dev = { "eth1", "0000:01:00.1", "virtio1",
	    NULL };
	struct irqname_dev	 xen = { "eth0", NULL, "vif-0", NULL };

	(void)state;
	assert_true(irqname_mentions(&dev, "eth1"));
	assert_true(irqname_mentions(&dev, "eth1-TxRx-0"));
	assert_true(irqname_mentions(&dev, "i40e-eth1-TxRx-0"));
	assert_true(irqname_mentions(&dev, "IR-PCI-MSI-edge      eth1-rx-0"));
	assert_false(irqname_mentions(&dev, "eth10-TxRx-0"));
	assert_false(irqname_mentions(&dev, "veth1"));
	assert_true(irqname_mentions(&dev, "mlx5_comp0@pci:0000:01:00.1"));
	assert_false(irqname_mentions(&dev, "mlx5_comp0@pci:0000:01:00.0"));
	assert_false(irqname_mentions(&dev, "mlx5_comp0@pci:10000:01:00.1"));
	assert_true(irqname_mentions(&dev, "i40e-0000:01:00.1:misc"));
	assert_true(irqname_mentions(&dev, "virtio1-input.0"));
	assert_false(irqname_mentions(&dev, "virtio10-input.0"));
	assert_false(irqname_mentions(&dev, "eth%d-ntfy-block.0"));
	assert_false(irqname_mentions(&dev, ""));
	assert_false(irqname_mentions(&dev, NULL));
	assert_true(irqname_mentions(&xen, "vif0-q1-rx"));
	assert_true(irqname_mentions(&xen, "eth0"));
	assert_false(irqname_mentions(&xen, "vif01-q1-rx"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bnx2),
		cmocka_unit_test(test_e1000e),
		cmocka_unit_test(test_ena),
		cmocka_unit_test(test_gve),
		cmocka_unit_test(test_i40e),
		cmocka_unit_test(test_iavf),
		cmocka_unit_test(test_ice),
		cmocka_unit_test(test_igb),
		cmocka_unit_test(test_igc),
		cmocka_unit_test(test_ixgbe),
		cmocka_unit_test(test_mana),
		cmocka_unit_test(test_mlx4),
		cmocka_unit_test(test_mlx5),
		cmocka_unit_test(test_qlcnic),
		cmocka_unit_test(test_realtek),
		cmocka_unit_test(test_stmmac),
		cmocka_unit_test(test_tg3),
		cmocka_unit_test(test_thunderx),
		cmocka_unit_test(test_virtio),
		cmocka_unit_test(test_vmxnet3),
		cmocka_unit_test(test_xen),
		cmocka_unit_test(test_bnxt),
		cmocka_unit_test(test_sfc),
		cmocka_unit_test(test_rxtx),
		cmocka_unit_test(test_hns3),
		cmocka_unit_test(test_fp),
		cmocka_unit_test(test_idpf),
		cmocka_unit_test(test_mlx4_new),
		cmocka_unit_test(test_gve_names),
		cmocka_unit_test(test_tg3_vectors),
		cmocka_unit_test(test_vmxnet3_split),
		cmocka_unit_test(test_name_boundaries),
		cmocka_unit_test(test_control_vectors),
		cmocka_unit_test(test_mlx5_names),
		cmocka_unit_test(test_single_vectors),
		cmocka_unit_test(test_unknown_driver),
		cmocka_unit_test(test_mentions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
