/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The netdev generic-netlink client: resolves the "netdev" family, dumps
 * queue-get and napi-get for one interface and joins them on the NAPI id,
 * giving each RX queue its IRQ.  Replies are parsed from plain buffers so
 * that tests can feed crafted ones.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "topology/netdev_nl.h"
#include "topology/nlsock.h"

/*
 * From the family's spec (Documentation/netlink/specs/netdev.yaml); the
 * installed UAPI headers may predate it.
 */
#define NETDEV_NL_NAME			"netdev"
#define NETDEV_NL_VERSION		1
#define NETDEV_NL_CMD_QUEUE_GET		10
#define NETDEV_NL_CMD_NAPI_GET		11
#define NETDEV_NL_A_QUEUE_ID		1
#define NETDEV_NL_A_QUEUE_IFINDEX	2
#define NETDEV_NL_A_QUEUE_TYPE		3
#define NETDEV_NL_A_QUEUE_NAPI_ID	4
#define NETDEV_NL_A_NAPI_IFINDEX	1
#define NETDEV_NL_A_NAPI_ID		2
#define NETDEV_NL_A_NAPI_IRQ		3
#define NETDEV_NL_QUEUE_TYPE_RX		0
#define NETDEV_NL_MAX_ATTR		16	/* past every attribute used */

#define NETDEV_NL_REQSIZE	256	/* more than any request here */
#define NETDEV_NL_MAX_READS	1024	/* far more than any NIC's queues */

/* One request on an open socket. */
struct netdev_nl_sock {
	struct mnl_socket	*nl;
	char			*buf;
	uint32_t		 seq;
};

/*
 * Collects the attributes below NETDEV_NL_MAX_ATTR.  Only those read are
 * checked, by netdev_nl_u32(): others may be u32 or u64 ("uint").
 */
static int
netdev_nl_attr_cb(const struct nlattr *attr, void *arg)
{
	const struct nlattr	**tb = arg;
	uint16_t		  type = mnl_attr_get_type(attr);

	if (type < NETDEV_NL_MAX_ATTR)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int
netdev_nl_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	memset(tb, 0, NETDEV_NL_MAX_ATTR * sizeof(*tb));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct genlmsghdr))
		return -EBADMSG;
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), netdev_nl_attr_cb,
	    tb) < 0)
		return -EBADMSG;
	return 0;
}

/* 1 and *v set when the attribute is there, 0 when not, or -EBADMSG. */
static int
netdev_nl_u32(const struct nlattr *attr, uint32_t *v)
{
	if (attr == NULL)
		return 0;
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*v = mnl_attr_get_u32(attr);
	return 1;
}

/*
 * Appends a queue-get reply.  One about another interface (a kernel that
 * ignored the filter) is skipped.
 */
static int
netdev_nl_add_queue(struct netdev_nl_rows *rows, const struct nlmsghdr *nlh)
{
	const struct nlattr	*tb[NETDEV_NL_MAX_ATTR];
	struct netdev_nl_queue	*q, row = { 0 };
	uint32_t		 ifindex = rows->ifindex;
	size_t			 cap;
	int			 r;

	if ((r = netdev_nl_attrs(nlh, tb)) < 0)
		return r;
	if (netdev_nl_u32(tb[NETDEV_NL_A_QUEUE_ID], &row.id) <= 0 ||
	    netdev_nl_u32(tb[NETDEV_NL_A_QUEUE_TYPE], &row.type) <= 0 ||
	    netdev_nl_u32(tb[NETDEV_NL_A_QUEUE_NAPI_ID], &row.napi_id) < 0 ||
	    netdev_nl_u32(tb[NETDEV_NL_A_QUEUE_IFINDEX], &ifindex) < 0)
		return -EBADMSG;
	if (ifindex != rows->ifindex)
		return 0;
	if (rows->nqueues == rows->qcap) {
		cap = rows->qcap ? rows->qcap * 2 : 16;
		if ((q = reallocarray(rows->queues, cap, sizeof(*q))) == NULL)
			return -ENOMEM;
		rows->queues = q;
		rows->qcap = cap;
	}
	rows->queues[rows->nqueues++] = row;
	return 0;
}

/* Appends a napi-get reply, as netdev_nl_add_queue() does. */
static int
netdev_nl_add_napi(struct netdev_nl_rows *rows, const struct nlmsghdr *nlh)
{
	const struct nlattr	*tb[NETDEV_NL_MAX_ATTR];
	struct netdev_nl_napi	*n, row = { 0 };
	uint32_t		 ifindex = rows->ifindex, irq;
	size_t			 cap;
	int			 r, has_irq;

	if ((r = netdev_nl_attrs(nlh, tb)) < 0)
		return r;
	if (netdev_nl_u32(tb[NETDEV_NL_A_NAPI_ID], &row.id) <= 0 ||
	    (has_irq = netdev_nl_u32(tb[NETDEV_NL_A_NAPI_IRQ], &irq)) < 0 ||
	    netdev_nl_u32(tb[NETDEV_NL_A_NAPI_IFINDEX], &ifindex) < 0)
		return -EBADMSG;
	if (ifindex != rows->ifindex)
		return 0;
	row.irq = has_irq ? (int64_t)irq : -1;
	if (rows->nnapis == rows->ncap) {
		cap = rows->ncap ? rows->ncap * 2 : 16;
		if ((n = reallocarray(rows->napis, cap, sizeof(*n))) == NULL)
			return -ENOMEM;
		rows->napis = n;
		rows->ncap = cap;
	}
	rows->napis[rows->nnapis++] = row;
	return 0;
}

/*
 * The control messages common to both answers: 0 when nlh is not one, 1
 * at the end, or the kernel's error.
 */
static int
netdev_nl_control(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr	*err;
	const int		*done;

	switch (nlh->nlmsg_type) {
	case NLMSG_DONE:
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*done))
			return 1;
		done = mnl_nlmsg_get_payload(nlh);
		return *done < 0 ? *done : 1;
	case NLMSG_ERROR:
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
			return -EBADMSG;
		err = mnl_nlmsg_get_payload(nlh);
		/* An acknowledgement ends the answer too. */
		return err->error < 0 ? err->error : 1;
	default:
		return 0;
	}
}

int
netdev_nl_parse_family(const void *buf, size_t len, uint32_t seq,
    uint32_t portid, void *arg)
{
	uint16_t		*family = arg;
	const struct nlmsghdr	*nlh = buf;
	const struct nlattr	*attr;
	int			 left = (int)len, r;

	if (len > NLSOCK_BUFSIZE)
		return -EBADMSG;
	for (; nlsock_msg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (!mnl_nlmsg_seq_ok(nlh, seq) ||
		    !mnl_nlmsg_portid_ok(nlh, portid))
			continue;
		/* No such family: this kernel has no netdev netlink. */
		if ((r = netdev_nl_control(nlh)) != 0)
			return r == -ENOENT ? -EOPNOTSUPP : r > 0 ? -EBADMSG :
			    r;
		if (nlh->nlmsg_type != GENL_ID_CTRL ||
		    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct genlmsghdr))
			return -EBADMSG;
		mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
			if (mnl_attr_get_type(attr) != CTRL_ATTR_FAMILY_ID)
				continue;
			if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
				return -EBADMSG;
			*family = mnl_attr_get_u16(attr);
			return 0;
		}
		return -EBADMSG;
	}
	/* Bytes left over are a message cut short. */
	return left == 0 ? 1 : -EBADMSG;
}

int
netdev_nl_parse_dump(const void *buf, size_t len, uint32_t seq,
    uint32_t portid, void *arg)
{
	struct netdev_nl_rows	*rows = arg;
	const struct nlmsghdr	*nlh = buf;
	const struct genlmsghdr	*genl;
	int			 left = (int)len, r;

	if (len > NLSOCK_BUFSIZE)
		return -EBADMSG;
	for (; nlsock_msg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (!mnl_nlmsg_seq_ok(nlh, seq) ||
		    !mnl_nlmsg_portid_ok(nlh, portid))
			continue;
		if ((r = netdev_nl_control(nlh)) != 0)
			return r > 0 ? 0 : r;
		if (nlh->nlmsg_type != rows->family)
			continue;
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*genl))
			return -EBADMSG;
		genl = mnl_nlmsg_get_payload(nlh);
		if (genl->cmd == NETDEV_NL_CMD_QUEUE_GET)
			r = netdev_nl_add_queue(rows, nlh);
		else if (genl->cmd == NETDEV_NL_CMD_NAPI_GET)
			r = netdev_nl_add_napi(rows, nlh);
		if (r < 0)
			return r;
	}
	return left == 0 ? 1 : -EBADMSG;
}

static const struct netdev_nl_napi *
netdev_nl_find_napi(const struct netdev_nl_rows *rows, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < rows->nnapis; i++)
		if (rows->napis[i].id == id)
			return &rows->napis[i];
	return NULL;
}

static int
netdev_nl_cmp_rxq(const void *a, const void *b)
{
	const struct netdev_nl_rxq	*x = a, *y = b;

	return x->queue < y->queue ? -1 : x->queue > y->queue;
}

/*
 * The RX queues whose NAPI has an IRQ.  A queue without a NAPI, or a NAPI
 * without an IRQ, is left out: the driver does not link them.
 */
int
netdev_nl_join(const struct netdev_nl_rows *rows, struct netdev_nl_rxq **rxqp,
    size_t *nrxqp)
{
	const struct netdev_nl_queue	*q;
	const struct netdev_nl_napi	*napi;
	struct netdev_nl_rxq		*rxq;
	size_t				 i, n = 0;

	*rxqp = NULL;
	*nrxqp = 0;
	if ((rxq = calloc(rows->nqueues + 1, sizeof(*rxq))) == NULL)
		return -ENOMEM;
	for (i = 0; i < rows->nqueues; i++) {
		q = &rows->queues[i];
		if (q->type != NETDEV_NL_QUEUE_TYPE_RX || q->napi_id == 0 ||
		    (napi = netdev_nl_find_napi(rows, q->napi_id)) == NULL ||
		    napi->irq < 0)
			continue;
		rxq[n].queue = q->id;
		rxq[n].irq = (unsigned int)napi->irq;
		n++;
	}
	if (n == 0) {
		free(rxq);
		return -ENOENT;
	}
	qsort(rxq, n, sizeof(*rxq), netdev_nl_cmp_rxq);
	*rxqp = rxq;
	*nrxqp = n;
	return 0;
}

void
netdev_nl_rows_free(struct netdev_nl_rows *rows)
{
	free(rows->queues);
	free(rows->napis);
	rows->queues = NULL;
	rows->napis = NULL;
	rows->nqueues = rows->qcap = rows->nnapis = rows->ncap = 0;
}

static int
netdev_nl_open(struct netdev_nl_sock *s)
{
	int	 r;

	memset(s, 0, sizeof(*s));
	if ((s->buf = malloc(NLSOCK_BUFSIZE)) == NULL)
		return -ENOMEM;
	if ((r = nlsock_open(NETLINK_GENERIC, &s->nl)) < 0) {
		free(s->buf);
		return r;
	}
	return 0;
}

static void
netdev_nl_close(struct netdev_nl_sock *s)
{
	mnl_socket_close(s->nl);
	free(s->buf);
}

/* The header of a generic-netlink request; the caller adds attributes. */
static struct nlmsghdr *
netdev_nl_request(struct netdev_nl_sock *s, uint16_t type, uint16_t flags,
    uint8_t cmd, uint8_t version)
{
	struct nlmsghdr		*nlh;
	struct genlmsghdr	*genl;

	/* Attribute padding is sent as it lies in the buffer: clear it. */
	memset(s->buf, 0, NETDEV_NL_REQSIZE);
	nlh = mnl_nlmsg_put_header(s->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++s->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

static int
netdev_nl_family(struct netdev_nl_sock *s, uint16_t *family)
{
	struct nlmsghdr	*nlh;

	nlh = netdev_nl_request(s, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NETDEV_NL_NAME);
	return nlsock_exchange(s->nl, s->buf, nlh, NETDEV_NL_MAX_READS,
	    netdev_nl_parse_family, family);
}

/* One dump, filtered by ifindex; its attribute number differs per cmd. */
static int
netdev_nl_dump(struct netdev_nl_sock *s, uint8_t cmd, uint16_t attr,
    struct netdev_nl_rows *rows)
{
	struct nlmsghdr	*nlh;

	/* A kernel with the family but not this command gives -EOPNOTSUPP. */
	nlh = netdev_nl_request(s, rows->family, NLM_F_DUMP, cmd,
	    NETDEV_NL_VERSION);
	mnl_attr_put_u32(nlh, attr, rows->ifindex);
	return nlsock_exchange(s->nl, s->buf, nlh, NETDEV_NL_MAX_READS,
	    netdev_nl_parse_dump, rows);
}

int
netdev_nl_rx_irqs(unsigned int ifindex, struct netdev_nl_rxq **rxq,
    size_t *nrxq)
{
	struct netdev_nl_sock	 s;
	struct netdev_nl_rows	 rows;
	int			 r;

	*rxq = NULL;
	*nrxq = 0;
	memset(&rows, 0, sizeof(rows));
	rows.ifindex = ifindex;
	if ((r = netdev_nl_open(&s)) < 0)
		return r;
	if ((r = netdev_nl_family(&s, &rows.family)) == 0 &&
	    (r = netdev_nl_dump(&s, NETDEV_NL_CMD_QUEUE_GET,
	    NETDEV_NL_A_QUEUE_IFINDEX, &rows)) == 0 &&
	    (r = netdev_nl_dump(&s, NETDEV_NL_CMD_NAPI_GET,
	    NETDEV_NL_A_NAPI_IFINDEX, &rows)) == 0)
		r = netdev_nl_join(&rows, rxq, nrxq);
	netdev_nl_rows_free(&rows);
	netdev_nl_close(&s);
	return r;
}
