/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc/interrupts: any text parses or is refused with a warning per bad
 * line; the IRQ names found are then matched against a few devices the
 * way topology discovery does (irqname.c).
 */
#include "acconfig.h"

#include <stdlib.h>

#include "topology/irqmap.h"
#include "fuzz.h"

static const struct irqname_dev fuzz_devs[] = {
	{ "eth0", "0000:3b:00.0", NULL, "mlx5_core" },
	{ "ens5", "0000:00:05.0", NULL, "ena" },
	{ "eth1", NULL, "virtio2", "virtio_net" },
	{ "enp1s0f0", "0000:01:00.0", NULL, "i40e" },
	{ "eth2", NULL, NULL, NULL },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct irqname_candidate	*cand = NULL;
	struct irqname_queue		*q;
	struct irqmap			*map = NULL;
	char				*text = fuzz_string(data, size);
	size_t				 ncand = 0, nq, i, j;

	if (irqmap_parse(text, &map) == 0) {
		for (i = 0; i < map->nlines; i++)
			if (irqmap_find(map, map->lines[i].irq) == NULL)
				abort();
		if (irqmap_candidates(map, NULL, 0, &cand, &ncand) == 0) {
			for (i = 0; i < sizeof(fuzz_devs) /
			    sizeof(fuzz_devs[0]); i++) {
				q = NULL;
				if (irqname_rx_queues(&fuzz_devs[i], cand,
				    ncand, &q, &nq) != 0)
					continue;
				for (j = 0; j < ncand; j++)
					(void)irqname_mentions(&fuzz_devs[i],
					    cand[j].name);
				free(q);
			}
			free(cand);
		}
		irqmap_free(map);
	}
	free(text);
	return 0;
}
