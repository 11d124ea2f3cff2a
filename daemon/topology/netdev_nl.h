/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The netdev generic-netlink family (Linux 6.8 and later): the IRQ that
 * serves each RX queue, as the driver links queues to NAPI instances and
 * NAPI instances to IRQs.  No name parsing; drivers that do not link them
 * give nothing, and the caller falls back to IRQ names.
 */
#ifndef AFFINITYD_NETDEV_NL_H
#define AFFINITYD_NETDEV_NL_H

#include <stddef.h>
#include <stdint.h>

/* One RX queue and the IRQ of the NAPI instance that services it. */
struct netdev_nl_rxq {
	unsigned int	 queue;
	unsigned int	 irq;
};

/* A queue-get reply: a queue and its NAPI, 0 when it has none. */
struct netdev_nl_queue {
	uint32_t	 id;
	uint32_t	 type;		/* 0: rx; anything else is not */
	uint32_t	 napi_id;
};

/* A napi-get reply: a NAPI instance and its IRQ, -1 when it has none. */
struct netdev_nl_napi {
	uint32_t	 id;
	int64_t		 irq;
};

/* What the two dumps of one interface said, before they are joined. */
struct netdev_nl_rows {
	uint16_t		 family;	/* the family's id */
	uint32_t		 ifindex;
	struct netdev_nl_queue	*queues;
	size_t			 nqueues;
	size_t			 qcap;
	struct netdev_nl_napi	*napis;
	size_t			 nnapis;
	size_t			 ncap;
};

/* The shape of netdev_nl_rx_irqs(), so tests can stand in for it. */
typedef int netdev_nl_rx_irqs_fn(unsigned int ifindex,
    struct netdev_nl_rxq **rxq, size_t *nrxq);

/*
 * netdev_nl.c: netdev_nl_rx_irqs() asks the kernel about one interface and
 * sets *rxq (sorted by queue, to be freed) to the RX queues that have an
 * IRQ.  It returns 0; -EOPNOTSUPP when the kernel has no netdev family or
 * no queue/NAPI commands; -ENOENT when no RX queue is linked to an IRQ;
 * -ETIMEDOUT, -EBADMSG or another -errno.
 */
netdev_nl_rx_irqs_fn	netdev_nl_rx_irqs;

/*
 * The steps, on received bytes (tests feed crafted replies).  The parsers
 * are nlsock_parse_fn: arg is the uint16_t family id, or the struct
 * netdev_nl_rows being filled.  They return 0 when the answer is complete,
 * 1 when more is to be read, or a negative errno (the kernel's, or
 * -EBADMSG for a malformed message).
 */
int	 netdev_nl_parse_family(const void *buf, size_t len, uint32_t seq,
	    uint32_t portid, void *arg);
int	 netdev_nl_parse_dump(const void *buf, size_t len, uint32_t seq,
	    uint32_t portid, void *arg);
int	 netdev_nl_join(const struct netdev_nl_rows *rows,
	    struct netdev_nl_rxq **rxq, size_t *nrxq);
void	 netdev_nl_rows_free(struct netdev_nl_rows *rows);

#endif
