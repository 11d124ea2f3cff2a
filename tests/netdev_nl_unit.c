/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netdev_nl.c: the family lookup and the queue-get / napi-get dumps parsed
 * from crafted replies (a normal dump, queues without a NAPI, NAPIs without
 * an IRQ, TX queues, kernel errors, foreign and truncated messages), their
 * join, and a question to this machine's kernel.
 */
#include "acconfig.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "unit.h"

#include "topology/netdev_nl.h"

#define FAMILY		20
#define IFINDEX		4
#define SEQ		7
#define PORTID		1234
#define QUEUE_GET	10
#define NAPI_GET	11
#define RX		0
#define TX		1
#define NONE		(-1)

/* A reply buffer being written, message after message. */
struct msgs {
	char	 buf[8192];
	size_t	 len;
};

static struct nlmsghdr *
msg_put(struct msgs *m, uint16_t type, uint32_t seq, uint32_t portid)
{
	struct nlmsghdr	*nlh;

	assert_true(m->len + 512 <= sizeof(m->buf));
	nlh = mnl_nlmsg_put_header(m->buf + m->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = portid;
	return nlh;
}

static void
msg_end(struct msgs *m, struct nlmsghdr *nlh)
{
	m->len += MNL_ALIGN(nlh->nlmsg_len);
}

static struct nlmsghdr *
genl_put(struct msgs *m, uint16_t type, uint8_t cmd)
{
	struct nlmsghdr		*nlh = msg_put(m, type, SEQ, PORTID);
	struct genlmsghdr	*genl;

	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = 1;
	return nlh;
}

/* A queue-get reply as the kernel writes it; NONE leaves napi-id out. */
static void
put_queue(struct msgs *m, uint32_t id, uint32_t type, int64_t napi_id)
{
	struct nlmsghdr	*nlh = genl_put(m, FAMILY, QUEUE_GET);

	mnl_attr_put_u32(nlh, 1, id);
	mnl_attr_put_u32(nlh, 3, type);
	mnl_attr_put_u32(nlh, 2, IFINDEX);
	if (napi_id != NONE)
		mnl_attr_put_u32(nlh, 4, (uint32_t)napi_id);
	msg_end(m, nlh);
}

/*
 * A napi-get reply; NONE leaves irq out.  Like a 6.18 kernel's, it holds
 * attributes this code does not read, one of them a 64-bit "uint".
 */
static void
put_napi(struct msgs *m, uint32_t id, int64_t irq)
{
	struct nlmsghdr	*nlh = genl_put(m, FAMILY, NAPI_GET);

	mnl_attr_put_u32(nlh, 2, id);
	mnl_attr_put_u32(nlh, 1, IFINDEX);
	if (irq != NONE)
		mnl_attr_put_u32(nlh, 3, (uint32_t)irq);
	mnl_attr_put_u32(nlh, 5, 0);
	mnl_attr_put_u64(nlh, 6, 20000000000ULL);
	mnl_attr_put_u32(nlh, 8, 0);
	msg_end(m, nlh);
}

static void
put_done(struct msgs *m, int error)
{
	struct nlmsghdr	*nlh = msg_put(m, NLMSG_DONE, SEQ, PORTID);
	int		*p;

	nlh->nlmsg_flags = NLM_F_MULTI;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	*p = error;
	msg_end(m, nlh);
}

static void
put_error(struct msgs *m, int error)
{
	struct nlmsghdr	*nlh = msg_put(m, NLMSG_ERROR, SEQ, PORTID);
	struct nlmsgerr	*err;

	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = error;
	msg_end(m, nlh);
}

static void
rows_init(struct netdev_nl_rows *rows)
{
	memset(rows, 0, sizeof(*rows));
	rows->family = FAMILY;
	rows->ifindex = IFINDEX;
}

static int
parse(const struct msgs *m, struct netdev_nl_rows *rows)
{
	return netdev_nl_parse_dump(m->buf, m->len, SEQ, PORTID, rows);
}

/*
 * Parses a queue dump and a NAPI dump and joins them; returns the join's
 * result and renders the pairs as "Q=IRQ ...".
 */
static int
dump_join(const struct msgs *queues, const struct msgs *napis, char *out,
    size_t outlen)
{
	struct netdev_nl_rows	 rows;
	struct netdev_nl_rxq	*rxq;
	size_t			 n, i, len = 0;
	int			 r;

	rows_init(&rows);
	assert_int_equal(parse(queues, &rows), 0);
	assert_int_equal(parse(napis, &rows), 0);
	r = netdev_nl_join(&rows, &rxq, &n);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, outlen - len, "%s%u=%u",
		    i ? " " : "", rxq[i].queue, rxq[i].irq);
	if (r < 0) {
		assert_null(rxq);
		assert_int_equal(n, 0);
	}
	free(rxq);
	netdev_nl_rows_free(&rows);
	return r;
}

/* ---- The family lookup. ---- */

static void
put_family(struct msgs *m, int with_id)
{
	struct nlmsghdr	*nlh = genl_put(m, GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "netdev");
	if (with_id)
		mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, FAMILY);
	mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, 1);
	msg_end(m, nlh);
}

static void
test_family(void **state)
{
	struct msgs	 m = { .len = 0 };
	uint16_t	 family = 0;

	(void)state;
	put_family(&m, 1);
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len, SEQ, PORTID,
	    &family), 0);
	assert_int_equal(family, FAMILY);

	/* Another request's answer is not ours: read on. */
	family = 0;
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len, SEQ + 1, PORTID,
	    &family), 1);
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len, SEQ, PORTID + 1,
	    &family), 1);
	assert_int_equal(family, 0);

	/* Cut short, or without the id. */
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len - 4, SEQ, PORTID,
	    &family), -EBADMSG);
	m.len = 0;
	put_family(&m, 0);
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len, SEQ, PORTID,
	    &family), -EBADMSG);
}

/*
 * A length of 2 GiB or more: libmnl's own check passes it (it compares as
 * a signed int), and the walk must not step outside the buffer.
 */
static void
test_huge_length(void **state)
{
	struct msgs		 m = { .len = 0 };
	struct netdev_nl_rows	 rows = { .family = FAMILY };
	struct nlmsghdr		*nlh;
	uint16_t		 family = 0;

	(void)state;
	nlh = msg_put(&m, NLMSG_NOOP, SEQ + 1, PORTID);
	nlh->nlmsg_len = 0xc2c2c200;
	m.len = 64;
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len, SEQ, PORTID,
	    &family), -EBADMSG);
	assert_int_equal(netdev_nl_parse_dump(m.buf, m.len, SEQ, PORTID,
	    &rows), -EBADMSG);
	netdev_nl_rows_free(&rows);
}

/* A kernel without the family (before 6.2) answers ENOENT. */
static void
test_family_missing(void **state)
{
	struct msgs	 m = { .len = 0 };
	uint16_t	 family = 0;

	(void)state;
	put_error(&m, -ENOENT);
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len, SEQ, PORTID,
	    &family), -EOPNOTSUPP);
	m.len = 0;
	put_error(&m, -EPERM);
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len, SEQ, PORTID,
	    &family), -EPERM);
	/* An acknowledgement without the answer is malformed. */
	m.len = 0;
	put_error(&m, 0);
	assert_int_equal(netdev_nl_parse_family(m.buf, m.len, SEQ, PORTID,
	    &family), -EBADMSG);
}

/* ---- The dumps and their join. ---- */

/* Combined channels: rx N and tx N share a NAPI, as igc or mlx5 do. */
static void
test_dump(void **state)
{
	struct msgs	 q = { .len = 0 }, n = { .len = 0 };
	char		 out[256];

	(void)state;
	put_queue(&q, 0, RX, 513);
	put_queue(&q, 1, RX, 514);
	put_queue(&q, 2, RX, 515);
	put_queue(&q, 0, TX, 513);
	put_queue(&q, 1, TX, 514);
	put_queue(&q, 2, TX, 515);
	put_done(&q, 0);
	/* The kernel lists NAPIs newest first. */
	put_napi(&n, 515, 142);
	put_napi(&n, 514, 141);
	put_napi(&n, 513, 140);
	put_done(&n, 0);
	assert_int_equal(dump_join(&q, &n, out, sizeof(out)), 0);
	assert_string_equal(out, "0=140 1=141 2=142");
}

/* A dump over several reads: 1 until NLMSG_DONE. */
static void
test_dump_parts(void **state)
{
	struct netdev_nl_rows	 rows;
	struct msgs		 a = { .len = 0 }, b = { .len = 0 };

	(void)state;
	rows_init(&rows);
	put_queue(&a, 0, RX, 600);
	put_queue(&a, 1, RX, 601);
	put_queue(&b, 2, RX, 602);
	put_done(&b, 0);
	assert_int_equal(parse(&a, &rows), 1);
	assert_int_equal(rows.nqueues, 2);
	assert_int_equal(parse(&b, &rows), 0);
	assert_int_equal(rows.nqueues, 3);
	assert_int_equal(rows.queues[2].id, 2);
	assert_int_equal(rows.queues[2].napi_id, 602);
	netdev_nl_rows_free(&rows);
}

/* A queue without napi-id is left out; with none linked, ENOENT. */
static void
test_no_napi_id(void **state)
{
	struct msgs	 q = { .len = 0 }, n = { .len = 0 };
	char		 out[256];

	(void)state;
	put_queue(&q, 0, RX, 513);
	put_queue(&q, 1, RX, NONE);
	put_queue(&q, 0, TX, NONE);
	put_done(&q, 0);
	put_napi(&n, 513, 40);
	put_done(&n, 0);
	assert_int_equal(dump_join(&q, &n, out, sizeof(out)), 0);
	assert_string_equal(out, "0=40");

	q.len = 0;
	put_queue(&q, 0, RX, NONE);
	put_queue(&q, 1, RX, NONE);
	put_done(&q, 0);
	assert_int_equal(dump_join(&q, &n, out, sizeof(out)), -ENOENT);
	assert_string_equal(out, "");
}

/*
 * A NAPI without irq: this machine's virtio_net on 6.18 answers so (rx 0
 * on NAPI 257, tx 0 without one, NAPI 257 without irq).  A queue whose
 * NAPI the second dump does not list counts as unlinked too.
 */
static void
test_no_irq(void **state)
{
	struct msgs	 q = { .len = 0 }, n = { .len = 0 };
	char		 out[256];

	(void)state;
	put_queue(&q, 0, RX, 257);
	put_queue(&q, 0, TX, NONE);
	put_done(&q, 0);
	put_napi(&n, 257, NONE);
	put_done(&n, 0);
	assert_int_equal(dump_join(&q, &n, out, sizeof(out)), -ENOENT);

	q.len = n.len = 0;
	put_queue(&q, 0, RX, 257);
	put_queue(&q, 1, RX, 258);
	put_done(&q, 0);
	put_napi(&n, 257, NONE);
	put_napi(&n, 999, 77);
	put_done(&n, 0);
	assert_int_equal(dump_join(&q, &n, out, sizeof(out)), -ENOENT);

	/* No queue at all (a device that is down). */
	q.len = n.len = 0;
	put_done(&q, 0);
	put_done(&n, 0);
	assert_int_equal(dump_join(&q, &n, out, sizeof(out)), -ENOENT);
}

/* Separate vectors: TX queues and their IRQs never appear. */
static void
test_tx_ignored(void **state)
{
	struct msgs	 q = { .len = 0 }, n = { .len = 0 };
	char		 out[256];

	(void)state;
	put_queue(&q, 0, TX, 700);
	put_queue(&q, 1, TX, 701);
	put_queue(&q, 1, RX, 703);
	put_queue(&q, 0, RX, 702);
	put_queue(&q, 5, 2, 702);	/* a later queue type: not rx */
	put_done(&q, 0);
	put_napi(&n, 700, 50);
	put_napi(&n, 701, 51);
	put_napi(&n, 702, 52);
	put_napi(&n, 703, 53);
	put_done(&n, 0);
	assert_int_equal(dump_join(&q, &n, out, sizeof(out)), 0);
	assert_string_equal(out, "0=52 1=53");

	/* TX only: nothing for RX. */
	q.len = 0;
	put_queue(&q, 0, TX, 700);
	put_done(&q, 0);
	assert_int_equal(dump_join(&q, &n, out, sizeof(out)), -ENOENT);
}

/* The kernel's errors, in an NLMSG_ERROR or in NLMSG_DONE. */
static void
test_errors(void **state)
{
	struct netdev_nl_rows	 rows;
	struct msgs		 m = { .len = 0 };

	(void)state;
	rows_init(&rows);
	/* 6.2 - 6.7: the family without queue-get. */
	put_error(&m, -EOPNOTSUPP);
	assert_int_equal(parse(&m, &rows), -EOPNOTSUPP);
	m.len = 0;
	put_queue(&m, 0, RX, 513);
	put_done(&m, -ENODEV);
	assert_int_equal(parse(&m, &rows), -ENODEV);
	/* A short error message. */
	m.len = 0;
	put_done(&m, 0);
	((struct nlmsghdr *)m.buf)->nlmsg_type = NLMSG_ERROR;
	assert_int_equal(parse(&m, &rows), -EBADMSG);
	netdev_nl_rows_free(&rows);
}

/* Cut-short messages and malformed attributes are -EBADMSG. */
static void
test_truncated(void **state)
{
	struct netdev_nl_rows	 rows;
	struct msgs		 m = { .len = 0 };
	struct nlmsghdr		*nlh;
	size_t			 cut, first, second;

	(void)state;
	rows_init(&rows);
	put_queue(&m, 0, RX, 513);
	first = m.len;
	put_queue(&m, 1, RX, 514);
	second = m.len;
	put_done(&m, 0);
	for (cut = 1; cut < m.len; cut++) {
		if (cut == first || cut == second)
			continue;
		assert_int_equal(netdev_nl_parse_dump(m.buf, cut, SEQ, PORTID,
		    &rows), -EBADMSG);
		netdev_nl_rows_free(&rows);
	}
	/* At a message boundary the dump merely goes on. */
	assert_int_equal(netdev_nl_parse_dump(m.buf, second, SEQ, PORTID,
	    &rows), 1);
	assert_int_equal(rows.nqueues, 2);
	netdev_nl_rows_free(&rows);

	/* No queue id; a 2-byte napi id; no genetlink header. */
	m.len = 0;
	nlh = genl_put(&m, FAMILY, QUEUE_GET);
	mnl_attr_put_u32(nlh, 3, RX);
	msg_end(&m, nlh);
	assert_int_equal(parse(&m, &rows), -EBADMSG);
	m.len = 0;
	nlh = genl_put(&m, FAMILY, QUEUE_GET);
	mnl_attr_put_u32(nlh, 1, 0);
	mnl_attr_put_u32(nlh, 3, RX);
	mnl_attr_put_u16(nlh, 4, 513);
	msg_end(&m, nlh);
	assert_int_equal(parse(&m, &rows), -EBADMSG);
	m.len = 0;
	nlh = genl_put(&m, FAMILY, NAPI_GET);
	mnl_attr_put_u16(nlh, 3, 40);
	msg_end(&m, nlh);
	assert_int_equal(parse(&m, &rows), -EBADMSG);
	m.len = 0;
	nlh = msg_put(&m, FAMILY, SEQ, PORTID);
	msg_end(&m, nlh);
	assert_int_equal(parse(&m, &rows), -EBADMSG);
	assert_int_equal(rows.nqueues + rows.nnapis, 0);
	netdev_nl_rows_free(&rows);
}

/* Other requests', other families' and other interfaces' messages. */
static void
test_foreign(void **state)
{
	struct netdev_nl_rows	 rows;
	struct msgs		 m = { .len = 0 };
	struct nlmsghdr		*nlh;

	(void)state;
	rows_init(&rows);
	put_queue(&m, 9, RX, 900);
	((struct nlmsghdr *)m.buf)->nlmsg_seq = SEQ - 1;
	nlh = msg_put(&m, FAMILY + 1, SEQ, PORTID);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct genlmsghdr));
	msg_end(&m, nlh);
	nlh = genl_put(&m, FAMILY, QUEUE_GET);
	mnl_attr_put_u32(nlh, 1, 3);
	mnl_attr_put_u32(nlh, 3, RX);
	mnl_attr_put_u32(nlh, 2, IFINDEX + 1);
	mnl_attr_put_u32(nlh, 4, 901);
	msg_end(&m, nlh);
	put_queue(&m, 0, RX, 513);
	put_done(&m, 0);
	assert_int_equal(parse(&m, &rows), 0);
	assert_int_equal(rows.nqueues, 1);
	assert_int_equal(rows.queues[0].id, 0);
	assert_int_equal(rows.queues[0].napi_id, 513);
	netdev_nl_rows_free(&rows);
}

/* ---- This machine's kernel. ---- */

/*
 * Whatever this kernel and driver support, the answer is one of the
 * documented ones; an interface that does not exist is ENODEV.
 */
static void
test_machine(void **state)
{
	struct netdev_nl_rxq	*rxq;
	size_t			 n, i;
	unsigned int		 eth0;
	FILE			*f;
	int			 r;

	(void)state;
	r = netdev_nl_rx_irqs(1, &rxq, &n);
	print_message("lo: %d (%s), %zu queues\n", r, strerror(-r), n);
	if (r == -EOPNOTSUPP || r == -EPROTONOSUPPORT)
		skip();
	assert_int_equal(r, -ENOENT);
	assert_null(rxq);
	r = netdev_nl_rx_irqs(0x7ffffff0, &rxq, &n);
	assert_int_equal(r, -ENODEV);
	assert_null(rxq);
	if ((f = fopen("/sys/class/net/eth0/ifindex", "r")) == NULL)
		return;
	assert_int_equal(fscanf(f, "%u", &eth0), 1);
	fclose(f);
	r = netdev_nl_rx_irqs(eth0, &rxq, &n);
	print_message("eth0: %d (%s), %zu queues\n", r, strerror(-r), n);
	for (i = 0; r == 0 && i < n; i++)
		print_message("  rx %u: IRQ %u\n", rxq[i].queue, rxq[i].irq);
	assert_true(r == 0 ? n > 0 && rxq != NULL : rxq == NULL && n == 0);
	free(rxq);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_family_missing),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dump_parts),
		cmocka_unit_test(test_no_napi_id),
		cmocka_unit_test(test_no_irq),
		cmocka_unit_test(test_tx_ignored),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_huge_length),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
