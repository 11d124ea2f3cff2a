/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of irqmap.c: every sample of tests/fixtures/irq-samples that
 * holds /proc/interrupts rows is parsed (column -> CPU mapping, counts,
 * chip forms, names), malformed rows give "line N: why: text" warnings,
 * and the /proc/irq/N readers run against small trees made at test time.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "common/cpuset.h"
#include "topology/irqmap.h"

#include "samples.h"


static struct irqmap *
parse_ok(const char *text)
{
	struct irqmap	*map = NULL;

	assert_int_equal(irqmap_parse(text, &map), 0);
	assert_non_null(map);
	return map;
}

static void
assert_warning(const struct irqmap *map, const char *warning)
{
	size_t	 i;

	if (strv_contains(&map->warnings, warning))
		return;
	for (i = 0; i < map->warnings.n; i++)
		print_message("have: %s\n", map->warnings.v[i]);
	fail_msg("no warning \"%s\"", warning);
}

static const struct irq_line *
find_ok(const struct irqmap *map, unsigned int irq)
{
	const struct irq_line	*l = irqmap_find(map, irq);

	if (l == NULL)
		fail_msg("IRQ %u not parsed", irq);
	return l;
}

static void
assert_names(const struct irq_line *l, size_t n, ...)
{
	va_list	 ap;
	size_t	 i;

	if (l->names.n != n)
		fail_msg("IRQ %u: %zu names, want %zu (tail \"%s\")", l->irq,
		    l->names.n, n, l->tail);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(l->names.v[i], va_arg(ap, const char *));
	va_end(ap);
}

/*
 * Every sample, prepared the way a reader of the sample's notes would:
 * quoting removed, a CPU header of the right width where the excerpt has
 * none, mail wraps joined.  Samples that hold no /proc/interrupts rows
 * (netlink dumps, tuna output, /proc/irq listings) must parse to nothing.
 */
static const struct sample_case {
	const char	*name;
	const char	*strip;		/* quoting to remove, or NULL */
	unsigned int	 header;	/* CPUs of a synthetic header, 0: own */
	int		 unwrap;
	size_t		 nlines;
	size_t		 ncolumns;
	unsigned int	 irq;		/* a row to look at, 0: none */
	const char	*name0;		/* its first name, or NULL: none */
} sample_cases[] = {
	{ "bnx2-1", NULL, 0, 0, 16, 12, 86, "eth1-0" },
	{ "e1000e-1", NULL, 0, 0, 6, 8, 55, "eth2" },
	{ "e1000e-2", NULL, 0, 0, 6, 16, 80, "eth1-rx-0" },
	{ "e1000e-3", NULL, 1, 0, 0, 1, 0, NULL },
	{ "ena-1", NULL, 4, 0, 5, 4, 66, "enp39s0-Tx-Rx-0" },
	{ "ena-2", "[stdout] ", 64, 0, 1, 64, 683, "eth0-Tx-Rx-0" },
	{ "gve-1", NULL, 2, 0, 3, 2, 26, "gve-mgmnt@pci:0000:00:04.0" },
	{ "i40e-1", NULL, 0, 0, 8, 4, 37, "i40e-0000:01:00.0:fdir-TxRx-0" },
	{ "i40e-2", NULL, 0, 0, 4, 4, 9, "i40e-0001:00:0f.0:misc" },
	{ "iavf-1", NULL, 0, 1, 10, 6, 941, "iavf-0000:b5:03.6:mbx" },
	{ "ice-1", NULL, 16, 0, 5, 16, 66, "ice-0000:65:00.0:ctrl-TxRx-0" },
	{ "ice-2", NULL, 1, 0, 0, 1, 0, NULL },
	{ "igb-1", NULL, 0, 0, 20, 4, 128, "eth0-rx-0" },
	{ "igb-2", NULL, 0, 0, 45, 4, 110, "eth5-tx-3" },
	{ "igb-3", NULL, 0, 0, 18, 8, 43, "eth0-TxRx-7" },
	{ "igb-4", NULL, 0, 0, 18, 16, 74, "em2-TxRx-7" },
	{ "igb-5", NULL, 0, 0, 5, 4, 34, "eth6" },
	{ "igb-6", NULL, 0, 0, 6, 4, 128, "eth1" },
	{ "igb-7", NULL, 0, 0, 18, 32, 108, "eth1-TxRx-7" },
	{ "igb-8", NULL, 0, 0, 5, 4, 65, "eth3-TxRx-3" },
	{ "igb-9", "|", 2, 0, 5, 2, 123, "enp2s0" },
	{ "igc-1", NULL, 2, 0, 0, 2, 0, NULL },
	{ "ixgbe-1", NULL, 0, 0, 20, 12, 63, "eth2" },
	{ "ixgbe-2", NULL, 0, 0, 132, 32, 141, "eth5" },
	{ "mana-1", NULL, 4, 0, 4, 4, 25, "mana_q0@pci:7870:00:00.0" },
	{ "mlx4-1", NULL, 0, 0, 12, 12, 63, "mlx4-async@pci:0000:07:00.0" },
	{ "mlx4-2", NULL, 0, 0, 20, 16, 128, "eth7-7" },
	{ "mlx5-1", NULL, 0, 0, 14, 4, 28, "mlx5_cmd_eq@pci:0000:01:00.0" },
	{ "mlx5-2", NULL, 1, 0, 0, 1, 0, NULL },
	{ "mlx5-3", NULL, 1, 0, 0, 1, 0, NULL },
	{ "qlcnic-1", NULL, 0, 0, 8, 48, 96, "eth1-tx-0-rx-3" },
	{ "realtek-1", NULL, 0, 0, 7, 3, 36, "eth0-6" },
	{ "stmmac-1", NULL, 0, 0, 13, 2, 1, "ttyS0" },
	{ "tg3-1", NULL, 0, 0, 10, 16, 161, "eth0-tx-0" },
	{ "tg3-2", NULL, 1, 0, 0, 1, 0, NULL },
	{ "thunderx_nicvf-1", "> > ", 4, 1, 3, 4, 92, "enp5s0f1-qset-err-0" },
	{ "virtio_net-1", NULL, 0, 0, 6, 1, 10, "virtio2" },
	{ "virtio_net-2", NULL, 16, 0, 5, 16, 45, "virtio5-input.3" },
	{ "vmxnet3-1", NULL, 16, 0, 10, 16, 19, "eth2" },
	{ "xen_netfront-1", NULL, 4, 0, 8, 4, 77, "vif0-q3-rx" },
};

static void
test_every_sample(void **state)
{
	const struct sample_case	*c;
	const struct irq_line		*l;
	struct irqmap			*map;
	char				*text;
	size_t				 i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sample_cases); i++) {
		c = &sample_cases[i];
		print_message("sample %s\n", c->name);
		text = sample_read(c->name);
		if (c->strip != NULL)
			text = text_strip(text, c->strip);
		if (c->header > 0)
			text = text_header(text, c->header);
		if (c->unwrap)
			text = text_unwrap(text);
		map = parse_ok(text);
		assert_int_equal(map->nlines, c->nlines);
		assert_int_equal(map->ncolumns, c->ncolumns);
		for (j = 0; j < map->ncolumns; j++)
			assert_int_equal(map->column_cpu[j], j);
		for (j = 0; j < map->nlines; j++) {
			assert_int_equal(map->lines[j].ncounts, c->ncolumns);
			if (j > 0)
				assert_true(map->lines[j - 1].irq <
				    map->lines[j].irq);
		}
		if (c->irq != 0) {
			l = find_ok(map, c->irq);
			if (c->name0 == NULL)
				assert_names(l, 0);
			else {
				assert_true(l->names.n >= 1);
				assert_string_equal(l->names.v[0], c->name0);
			}
		}
		irqmap_free(map);
		free(text);
	}
}

/* The header names the columns: with CPUs 0 and 2 online, column 1 is 2. */
static void
test_offline_cpus(void **state)
{
	const struct irq_line	*l;
	struct irqmap		*map;
	char			*text;

	(void)state;
	/* igc-1: lscpu says "0,2"; the author elided the counts himself. */
	text = sample_read("igc-1");
	text = text_replace(text, "$ cat /proc/interrupts",
	    "           CPU0       CPU2\n$ cat /proc/interrupts");
	map = parse_ok(text);
	assert_int_equal(map->ncolumns, 2);
	assert_int_equal(map->column_cpu[0], 0);
	assert_int_equal(map->column_cpu[1], 2);
	assert_int_equal(map->nlines, 0);
	assert_warning(map, "line 13: count 1 of 2 is not a number: "
	    "144: [...] enp86s0");
	assert_warning(map, "line 17: count 1 of 2 is not a number: "
	    "148: [...] enp86s0-tx-1");
	assert_warning(map, "line 2: before the CPU header: On-line CPU(s) "
	    "list: 0,2");
	irqmap_free(map);

	text = text_replace(text, "[...]", "11 22");
	map = parse_ok(text);
	assert_int_equal(map->nlines, 5);
	l = find_ok(map, 146);
	assert_int_equal(l->ncounts, 2);
	assert_int_equal(l->counts[0], 11);
	assert_int_equal(l->counts[1], 22);
	assert_string_equal(l->tail, "enp86s0-rx-1");
	/* A lone token could be a chip or a name: irqname reads the tail. */
	assert_names(l, 0);
	irqmap_free(map);
	free(text);

	map = parse_ok("CPU0 CPU3 CPU17\n 5: 1 2 3 IO-APIC 5-edge x\n");
	assert_int_equal(map->ncolumns, 3);
	assert_int_equal(map->column_cpu[2], 17);
	irqmap_free(map);
}

/* Wide rows: 48 columns (qlcnic-1), 64 (ena-2), ten-digit counts. */
static void
test_wide(void **state)
{
	const struct irq_line	*l;
	struct irqmap		*map;
	char			*text;

	(void)state;
	text = sample_read("qlcnic-1");
	map = parse_ok(text);
	assert_int_equal(map->ncolumns, 48);
	assert_int_equal(map->column_cpu[47], 47);
	l = find_ok(map, 93);
	assert_int_equal(l->counts[0], 4017789298ULL);
	assert_int_equal(l->counts[47], 0);
	assert_names(l, 1, "eth1-rx-0");
	irqmap_free(map);
	free(text);

	text = sample_read("bnx2-1");
	map = parse_ok(text);
	l = find_ok(map, 86);
	assert_int_equal(l->counts[1], 4125879810ULL);
	irqmap_free(map);
	free(text);

	/* realtek-1: a count that fills its whole 10-wide column. */
	text = sample_read("realtek-1");
	map = parse_ok(text);
	l = find_ok(map, 30);
	assert_int_equal(l->counts[0], 3551364829ULL);
	assert_string_equal(l->tail, "PCI-MSI 262144-edge      eth0-0");
	assert_warning(map, "line 1: before the CPU header: root@main:~# ls "
	    "-al /sys/class/net/eth0/queues/");
	irqmap_free(map);
	free(text);
}

/*
 * IRQ numbers wider than the header indent (a Dovetail kernel shows rows
 * like "524544:" after " 35:", LinuxCNC/linuxcnc#4199), and rows pasted
 * with a header indented differently from the rows (stmmac-1).
 */
static void
test_irq_number_width(void **state)
{
	const struct irq_line	*l;
	struct irqmap		*map;
	char			*text;

	(void)state;
	map = parse_ok(
	    "           CPU0       CPU1\n"
	    " 35:          0          1  IR-PCI-MSI 1-edge      eth0\n"
	    "524544:          7          0  irqchip 4-edge      sync\n");
	assert_int_equal(map->nlines, 2);
	l = find_ok(map, 524544);
	assert_int_equal(l->counts[0], 7);
	assert_names(l, 1, "sync");
	irqmap_free(map);

	text = sample_read("stmmac-1");
	map = parse_ok(text);
	assert_int_equal(map->ncolumns, 2);
	assert_names(find_ok(map, 9), 1, "enp0s8f0:rx-0");
	assert_names(find_ok(map, 20), 1, "enp0s8f0:tx-5");
	assert_int_equal(find_ok(map, 1)->counts[0], 3089);
	assert_int_equal(map->warnings.n, 0);
	irqmap_free(map);
	free(text);
}

/* Architecture rows and the one-count ERR/MIS rows are not IRQs. */
static void
test_arch_rows(void **state)
{
	struct irqmap	*map;
	char		*text;

	(void)state;
	/* mlx5-1's source file ends with ERR/MIS rows (see its notes). */
	text = sample_read("mlx5-1");
	text = text_replace(text, " 40:", " NMI:          0          0"
	    "          0          0   Non-maskable interrupts\n"
	    " LOC:   49362452   40103044   41153455   41164133   Local timer "
	    "interrupts\n"
	    " IWI:          0          0          0          0   IRQ work "
	    "interrupts\n 40:");
	text = text_replace(text, "mlx5_comp3@pci:0000:01:00.1\n",
	    "mlx5_comp3@pci:0000:01:00.1\nERR:          0\nMIS:          0\n");
	map = parse_ok(text);
	assert_int_equal(map->nlines, 14);
	assert_int_equal(map->warnings.n, 0);
	assert_names(find_ok(map, 40), 1, "mlx5_comp3@pci:0000:01:00.1");
	assert_null(irqmap_find(map, 41));
	irqmap_free(map);
	free(text);
}

/* The chip part takes 1 to 4 tokens; names come after its handler. */
static void
test_chip_forms(void **state)
{
	const struct irq_line	*l;
	struct irqmap		*map;
	char			*text;

	(void)state;
	/* mana-1: "Hyper-V PCIe MSI 4138200989697-edge", spaces in the chip. */
	text = text_header(sample_read("mana-1"), 4);
	map = parse_ok(text);
	l = find_ok(map, 26);
	assert_string_equal(l->tail, "Hyper-V PCIe MSI 4138200989698-edge"
	    "      mana_q1@pci:7870:00:00.0");
	assert_names(l, 1, "mana_q1@pci:7870:00:00.0");
	/* The mail wrapped IRQ 28's name; the second listing repeats IRQs. */
	assert_names(find_ok(map, 28), 1, "mana_q3");
	assert_warning(map, "line 8: not an IRQ number: @pci:7870:00:00.0");
	assert_warning(map, "line 10: no IRQ number: Interrupt affinity for "
	    "mana_q2 changes and the affinity table looks as follows");
	assert_warning(map, "line 11: IRQ listed twice: 25: 1 103 0 3038084 "
	    "Hyper-V PCIe MSI 4138200989697-edge mana_q0@pci:7870:00:00.0");
	assert_int_equal(find_ok(map, 25)->counts[3], 2989138);
	irqmap_free(map);
	free(text);

	/* ena-1: "PCI-MSIX-0000:27:00.0   1-edge"; rows ending at "-edge". */
	text = text_header(sample_read("ena-1"), 4);
	map = parse_ok(text);
	assert_names(find_ok(map, 65), 1, "ena-mgmnt@pci:0000:27:00.0");
	l = find_ok(map, 67);
	assert_string_equal(l->tail, "PCI-MSIX-0000:27:00.0   2-edge");
	assert_names(l, 0);
	assert_int_equal(l->counts[1], 163);
	irqmap_free(map);
	free(text);

	/* ena-2: Xen "xen-pirq-msi-x", no hwirq, 64 columns. */
	text = text_header(text_strip(sample_read("ena-2"), "[stdout] "), 64);
	map = parse_ok(text);
	l = find_ok(map, 683);
	assert_int_equal(l->counts[0], 6374);
	assert_string_equal(l->tail, "xen-pirq-msi-x     eth0-Tx-Rx-0");
	assert_names(l, 1, "eth0-Tx-Rx-0");
	irqmap_free(map);
	free(text);

	/* xen_netfront-1: the chip split in two, "xen-dyn    -event". */
	text = text_header(sample_read("xen_netfront-1"), 4);
	map = parse_ok(text);
	assert_names(find_ok(map, 72), 1, "vif0-q1-tx");
	assert_int_equal(find_ok(map, 72)->counts[0], 586350);
	irqmap_free(map);
	free(text);

	/* thunderx_nicvf-1: arm64 "ITS-MSI 2623488 Edge", once unwrapped. */
	text = text_header(text_strip(sample_read("thunderx_nicvf-1"), "> > "),
	    4);
	map = parse_ok(text);
	l = find_ok(map, 73);
	assert_string_equal(l->tail, "ITS-MSI 2623488");
	assert_names(l, 0);
	assert_warning(map, "line 4: no IRQ number: Edge enp5s0f1-rxtx-0");
	assert_warning(map, "line 2: not an IRQ number: srivatsp@EXA8:~$ "
	    "cat /proc/interrupts | grep enp5s0f1");
	irqmap_free(map);
	text = text_unwrap(text);
	map = parse_ok(text);
	assert_names(find_ok(map, 73), 1, "enp5s0f1-rxtx-0");
	assert_int_equal(find_ok(map, 73)->counts[1], 2);
	assert_names(find_ok(map, 89), 1, "enp5s0f1-rbdr-0");
	irqmap_free(map);
	free(text);

	/* Kernels of all eras, and GICv3 with "Level". */
	map = parse_ok("CPU0\n"
	    "  9:  0  IO-APIC   9-fasteoi   acpi\n"
	    " 10:  0  IR-IO-APIC-fasteoi   virtio2\n"
	    " 11:  0  GICv3  27 Level     arch_timer\n"
	    " 12:  0  IR-PCI-MSIX-0000:02:00.0   0-edge      enp2s0\n"
	    " 13:  0  xen-percpu    -virq      timer0\n");
	assert_names(find_ok(map, 9), 1, "acpi");
	assert_names(find_ok(map, 10), 1, "virtio2");
	assert_names(find_ok(map, 11), 1, "arch_timer");
	assert_names(find_ok(map, 12), 1, "enp2s0");
	assert_names(find_ok(map, 13), 1, "timer0");
	irqmap_free(map);
}

/* Shared IRQs list several actions; names may hold spaces. */
static void
test_names(void **state)
{
	struct irqmap	*map;

	(void)state;
	map = parse_ok(
	    "          CPU0       CPU1\n"
	    "  24:          0          0   PCI-MSI 16384-edge      PCIe PME, "
	    "aerdrv, pciehp\n"
	    "  3:          0          0   PCI-MSI 2-edge      iwlwifi: default "
	    "queue\n"
	    "  4:          0          0   PCI-MSI 3-edge      iwlwifi: queue 1, "
	    "eth0\n"
	    "  7:          0          3   IR-IO-APIC    7-fasteoi\n");
	assert_names(find_ok(map, 24), 3, "PCIe PME", "aerdrv", "pciehp");
	assert_names(find_ok(map, 3), 1, "iwlwifi: default queue");
	assert_names(find_ok(map, 4), 2, "iwlwifi: queue 1", "eth0");
	assert_names(find_ok(map, 7), 0);
	assert_string_equal(find_ok(map, 7)->tail, "IR-IO-APIC    7-fasteoi");
	assert_int_equal(map->warnings.n, 0);
	irqmap_free(map);
}

/* Malformed rows are skipped, each with a warning naming its line. */
static void
test_malformed(void **state)
{
	struct irqmap	*map;
	const char	*want;
	char		*text;
	size_t		 i;

	(void)state;
	map = parse_ok(
	    "           CPU0       CPU1       CPU2       CPU3\n"
	    " 12x:  0  0  0  0  PCI-MSI-edge  a\n"
	    " 13:  0  zz  0  0  PCI-MSI-edge  b\n"
	    " 14:  0  0  0  0  0  PCI-MSI-edge  c\n"
	    " 15:  0  0\n"
	    "no colon at all\n"
	    " 99999999999:  0  0  0  0  PCI-MSI-edge  d\n"
	    " 16:  0  99999999999999999999999  0  0  PCI-MSI-edge  e\n"
	    "CPU0 CPU1\n"
	    " 17:  1  2  3  4  PCI-MSI-edge  f\n"
	    "\n"
	    "\t\n"
	    " 17:  1  2  3  4  PCI-MSI-edge  g");
	assert_int_equal(map->nlines, 1);
	assert_names(find_ok(map, 17), 1, "f");
	assert_warning(map, "line 2: not an IRQ number: 12x: 0 0 0 0 "
	    "PCI-MSI-edge a");
	assert_warning(map, "line 3: count 2 of 4 is not a number: 13: 0 zz "
	    "0 0 PCI-MSI-edge b");
	assert_warning(map, "line 4: more counts than the 4 CPU columns: 14: "
	    "0 0 0 0 0 PCI-MSI-edge c");
	assert_warning(map, "line 5: only 2 of 4 counts: 15: 0 0");
	assert_warning(map, "line 6: no IRQ number: no colon at all");
	assert_warning(map, "line 7: IRQ number out of range: 99999999999: 0 "
	    "0 0 0 PCI-MSI-edge d");
	assert_warning(map, "line 8: count 2 out of range: 16: 0 "
	    "99999999999999999999999 0 0 PCI-MSI-edge e");
	assert_warning(map, "line 9: second CPU header: CPU0 CPU1");
	assert_warning(map, "line 13: IRQ listed twice: 17: 1 2 3 4 "
	    "PCI-MSI-edge g");
	assert_int_equal(map->warnings.n, 9);
	irqmap_free(map);

	/* A wide row is shortened in its warning. */
	text = sample_read("ixgbe-2");
	text = text_replace(text, " 150:", " 150x:");
	map = parse_ok(text);
	assert_int_equal(map->nlines, 131);
	assert_int_equal(map->warnings.n, 1);
	want = "line 43: not an IRQ number: 150x: 363926 0 0 0 ";
	assert_true(strncmp(map->warnings.v[0], want, strlen(want)) == 0);
	assert_true(strlen(map->warnings.v[0]) <=
	    strlen("line 43: not an IRQ number: ") + 100 + 3);
	assert_string_equal(map->warnings.v[0] +
	    strlen(map->warnings.v[0]) - 3, "...");
	irqmap_free(map);
	free(text);

	/* Garbage never crashes. */
	map = parse_ok("CPU0\n:\n::\n 1:\n2:x\n 3: 18446744073709551615 z\n"
	    "\x01\x02:\n 4: 1 PCI-MSI-edge ,  , , x,\n");
	assert_int_equal(map->nlines, 2);
	assert_int_equal(find_ok(map, 3)->counts[0], 18446744073709551615ULL);
	assert_names(find_ok(map, 3), 0);
	assert_names(find_ok(map, 4), 1, "x,");
	assert_warning(map, "line 7: not an IRQ number: ??:");
	for (i = 0; i < map->warnings.n; i++)
		assert_true(strncmp(map->warnings.v[i], "line ", 5) == 0);
	irqmap_free(map);
}

/* Without a CPU header nothing can be mapped to a CPU. */
static void
test_no_header(void **state)
{
	struct irqmap	*map = NULL;
	char		*text;

	(void)state;
	assert_int_equal(irqmap_parse("", &map), -EINVAL);
	assert_int_equal(irqmap_parse("\n\n", &map), -EINVAL);
	text = sample_read("ena-1");
	assert_int_equal(irqmap_parse(text, &map), -EINVAL);
	free(text);
	text = sample_read("xen_netfront-1");
	assert_int_equal(irqmap_parse(text, &map), -EINVAL);
	free(text);
	assert_int_equal(irqmap_parse("CPU0 CPU0\n 1: 0 0 x-edge y\n", &map),
	    -EINVAL);
	assert_int_equal(irqmap_parse("CPU1 CPU0\n", &map), -EINVAL);
	assert_int_equal(irqmap_parse("CPU CPU1\n", &map), -EINVAL);
	assert_null(map);

	/* A header alone, without a newline, is a valid empty table. */
	map = parse_ok("           CPU0       CPU1");
	assert_int_equal(map->ncolumns, 2);
	assert_int_equal(map->nlines, 0);
	irqmap_free(map);
}

/* irqmap_candidates: every name, and the tail for patterns at its end. */
static void
test_candidates(void **state)
{
	struct irqname_candidate	*cand;
	struct irqmap			*map;
	size_t				 n;
	unsigned int			 irqs[] = { 7, 24, 5, 66 };

	(void)state;
	map = parse_ok(
	    "CPU0\n"
	    " 5: 0 PCI-MSI-edge eth0\n"
	    " 7: 0 IR-IO-APIC 7-fasteoi\n"
	    " 24: 0 PCI-MSI 16384-edge PCIe PME, aerdrv\n"
	    " 66: 0 ITS-MSI 2623488\n");
	assert_int_equal(irqmap_candidates(map, NULL, 0, &cand, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(cand[0].irq, 5);
	assert_string_equal(cand[0].name, "eth0");
	assert_string_equal(cand[1].name, "PCI-MSI-edge eth0");
	assert_string_equal(cand[2].name, "IR-IO-APIC 7-fasteoi");
	assert_string_equal(cand[3].name, "PCIe PME");
	assert_string_equal(cand[4].name, "aerdrv");
	assert_string_equal(cand[5].name, "PCI-MSI 16384-edge PCIe PME, "
	    "aerdrv");
	assert_int_equal(cand[6].irq, 66);
	assert_string_equal(cand[6].name, "ITS-MSI 2623488");
	free(cand);

	assert_int_equal(irqmap_candidates(map, irqs, ARRAY_SIZE(irqs), &cand,
	    &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(cand[0].irq, 7);
	assert_int_equal(cand[1].irq, 24);
	assert_int_equal(cand[4].irq, 5);
	free(cand);
	irqmap_free(map);
}

/* A temporary root with files below it, removed at teardown. */
static int
tree_setup(void **state)
{
	char	*dir;

	dir = strdup("/tmp/irqmap_unit.XXXXXX");
	if (dir == NULL || mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int
tree_teardown(void **state)
{
	char	*cmd;
	int	 r;

	if (asprintf(&cmd, "rm -rf '%s'", (char *)*state) < 0)
		return -1;
	r = system(cmd);
	free(cmd);
	free(*state);
	return r == 0 ? 0 : -1;
}

static void
tree_mkdir(const char *root, const char *rel)
{
	char	*path, *p;

	assert_true(asprintf(&path, "%s/%s", root, rel) > 0);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	free(path);
}

static void
tree_file(const char *root, const char *rel, const char *content)
{
	char	*path, *dir, *slash;
	FILE	*f;

	dir = strdup(rel);
	assert_non_null(dir);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		tree_mkdir(root, dir);
	}
	free(dir);
	assert_true(asprintf(&path, "%s/%s", root, rel) > 0);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
	free(path);
}

static void
test_read(void **state)
{
	const char	*root = *state;
	struct irqmap	*map = NULL;
	char		*text;

	text = sample_read("tg3-1");
	tree_file(root, "proc/interrupts", text);
	free(text);
	assert_int_equal(irqmap_read(root, &map), 0);
	assert_int_equal(map->nlines, 10);
	assert_names(find_ok(map, 167), 1, "eth1-rx-1");
	irqmap_free(map);
	assert_int_equal(irqmap_read("/nonexistent-root", &map), -ENOENT);
}

/* vmxnet3-1 shows /proc/irq/56/ with "eth0-rxtx-0/" beside plain files. */
static void
test_actions(void **state)
{
	const char	*root = *state;
	struct strv	 names = { 0 };
	struct irqmap	*map;
	char		*text;

	tree_mkdir(root, "proc/irq/56/eth0-rxtx-0");
	tree_file(root, "proc/irq/56/affinity_hint", "0\n");
	tree_file(root, "proc/irq/56/node", "0\n");
	tree_file(root, "proc/irq/56/smp_affinity",
	    "00000000,00000000,00000000,00000400\n");
	tree_file(root, "proc/irq/56/smp_affinity_list", "10\n");
	tree_file(root, "proc/irq/56/spurious", "count 0\n");
	assert_int_equal(irqmap_actions(root, 56, &names), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "eth0-rxtx-0");
	strv_free(&names);

	/* A shared IRQ: one directory per action, names with spaces. */
	tree_mkdir(root, "proc/irq/24/pciehp");
	tree_mkdir(root, "proc/irq/24/PCIe PME");
	tree_mkdir(root, "proc/irq/24/aerdrv");
	tree_file(root, "proc/irq/24/node", "0\n");
	assert_int_equal(irqmap_actions(root, 24, &names), 0);
	assert_int_equal(names.n, 3);
	assert_string_equal(names.v[0], "PCIe PME");
	assert_string_equal(names.v[1], "aerdrv");
	assert_string_equal(names.v[2], "pciehp");
	strv_free(&names);

	/* An IRQ without action (ena-1 after ethtool -L) has no directory. */
	tree_file(root, "proc/irq/67/smp_affinity_list", "1\n");
	assert_int_equal(irqmap_actions(root, 67, &names), 0);
	assert_int_equal(names.n, 0);
	assert_int_equal(irqmap_actions(root, 68, &names), -ENOENT);
	assert_int_equal(names.n, 0);
	tree_file(root, "proc/irq/69", "not a directory\n");
	assert_int_equal(irqmap_actions(root, 69, &names), -ENOTDIR);

	/* irqmap_names: the directories first, else the parsed names. */
	text = text_header(sample_read("vmxnet3-1"), 16);
	map = parse_ok(text);
	free(text);
	assert_int_equal(irqmap_names(root, map, 56, &names), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "eth0-rxtx-0");
	strv_free(&names);
	assert_int_equal(irqmap_names(root, map, 57, &names), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "eth0-rxtx-1");
	strv_free(&names);
	assert_int_equal(irqmap_names(root, map, 67, &names), 0);
	assert_int_equal(names.n, 0);
	assert_int_equal(irqmap_names(root, map, 68, &names), -ENOENT);
	assert_int_equal(irqmap_names(root, NULL, 24, &names), 0);
	assert_int_equal(names.n, 3);
	strv_free(&names);
	irqmap_free(map);
}

static void
assert_affinity(const char *root, unsigned int irq, const char *want_list,
    const char *want_file)
{
	struct cpuset	*cpus = NULL;
	const char	*file = NULL;
	char		*list;

	assert_int_equal(irqmap_affinity(root, irq, &cpus, &file), 0);
	assert_non_null(cpus);
	assert_non_null(list = cpuset_format_list(cpus));
	assert_string_equal(list, want_list);
	assert_string_equal(file, want_file);
	free(list);
	cpuset_free(cpus);
}

static void
test_affinity(void **state)
{
	const char	*root = *state;
	struct cpuset	*cpus = NULL;
	const char	*file = NULL;

	/* Both files, as Thomas Gleixner asks for (iavf-1): effective wins. */
	tree_file(root, "proc/irq/942/effective_affinity_list", "4\n");
	tree_file(root, "proc/irq/942/smp_affinity_list", "0-1,24-25\n");
	tree_file(root, "proc/irq/942/smp_affinity", "03000003\n");
	assert_affinity(root, 942, "4", "effective_affinity_list");

	/* No effective file (kernels before 4.13). */
	tree_file(root, "proc/irq/943/smp_affinity_list", "0-1,24-25\n");
	tree_file(root, "proc/irq/943/smp_affinity", "ffffffff\n");
	assert_affinity(root, 943, "0-1,24-25", "smp_affinity_list");

	/* An empty effective list (old kernels) falls through. */
	tree_file(root, "proc/irq/944/effective_affinity_list", "\n");
	tree_file(root, "proc/irq/944/smp_affinity_list", "2\n");
	assert_affinity(root, 944, "2", "smp_affinity_list");

	/* Only the hex mask: ice-2's CPU 100, vmxnet3-1's CPU 10. */
	tree_file(root, "proc/irq/1056/smp_affinity",
	    "00000010,00000000,00000000,00000000\n");
	assert_affinity(root, 1056, "100", "smp_affinity");
	tree_file(root, "proc/irq/56/smp_affinity",
	    "00000000,00000000,00000000,00000400\n");
	assert_affinity(root, 56, "10", "smp_affinity");

	/* Missing: -ENOENT; malformed: -EINVAL naming the file at fault. */
	assert_int_equal(irqmap_affinity(root, 945, &cpus, &file), -ENOENT);
	tree_file(root, "proc/irq/946/effective_affinity_list", "abc\n");
	tree_file(root, "proc/irq/946/smp_affinity_list", "1\n");
	assert_int_equal(irqmap_affinity(root, 946, &cpus, &file), -EINVAL);
	assert_string_equal(file, "effective_affinity_list");
	tree_file(root, "proc/irq/947/smp_affinity", "zz\n");
	assert_int_equal(irqmap_affinity(root, 947, &cpus, &file), -EINVAL);
	assert_string_equal(file, "smp_affinity");
	tree_file(root, "proc/irq/948/smp_affinity_list", "0-99999999\n");
	assert_int_equal(irqmap_affinity(root, 948, &cpus, &file), -EINVAL);
	assert_string_equal(file, "smp_affinity_list");
	tree_file(root, "proc/irq/949/smp_affinity", "00000000\n");
	assert_int_equal(irqmap_affinity(root, 949, &cpus, &file), -ENOENT);
	assert_null(cpus);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_sample),
		cmocka_unit_test(test_offline_cpus),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_irq_number_width),
		cmocka_unit_test(test_arch_rows),
		cmocka_unit_test(test_chip_forms),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test_setup_teardown(test_read, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_actions, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_affinity, tree_setup,
		    tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
