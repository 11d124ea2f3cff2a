/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The netdev netlink reply parsers: the input is a series of datagrams as
 * the kernel would send them (each a 2-byte little-endian length, then
 * the bytes).  The first goes to the family lookup; the rest, in order,
 * to the dump of queues and then of NAPI instances, which are then
 * joined into RX queue -> IRQ pairs.  Each datagram sits in a buffer of
 * its exact size, so a read past its end is caught.
 */
#include "acconfig.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "topology/netdev_nl.h"

#define FUZZ_SEQ	7
#define FUZZ_PORTID	1234
#define FUZZ_FAMILY	20

/* The next datagram, copied to a buffer of its own; NULL at the end. */
static void *
fuzz_next(const uint8_t **data, size_t *size, size_t *len)
{
	void	*buf;

	if (*size < 2)
		return NULL;
	*len = (size_t)(*data)[0] | (size_t)(*data)[1] << 8;
	*data += 2;
	*size -= 2;
	if (*len > *size)
		*len = *size;
	if ((buf = malloc(*len ? *len : 1)) == NULL)
		abort();
	memcpy(buf, *data, *len);
	*data += *len;
	*size -= *len;
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netdev_nl_rows	 rows = { .family = FUZZ_FAMILY };
	struct netdev_nl_rxq	*rxq = NULL;
	uint16_t		 family = 0;
	size_t			 len, n, i;
	void			*buf;
	int			 r, done = 0;

	rows.ifindex = 4;
	if ((buf = fuzz_next(&data, &size, &len)) == NULL)
		return 0;
	(void)netdev_nl_parse_family(buf, len, FUZZ_SEQ, FUZZ_PORTID, &family);
	free(buf);
	/* Two dumps, queues then NAPI instances, each ended by NLMSG_DONE. */
	while (done < 2 && (buf = fuzz_next(&data, &size, &len)) != NULL) {
		r = netdev_nl_parse_dump(buf, len, FUZZ_SEQ, FUZZ_PORTID,
		    &rows);
		free(buf);
		if (r < 0)
			break;
		done += r == 0;
	}
	if (done == 2 && netdev_nl_join(&rows, &rxq, &n) == 0) {
		/* Sorted by queue, as promised. */
		for (i = 1; i < n; i++)
			if (rxq[i - 1].queue > rxq[i].queue)
				abort();
		free(rxq);
	}
	netdev_nl_rows_free(&rows);
	return 0;
}
