/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of http_syntax.c: each head RFC 9112 forbids and http-parser
 * lets through is refused, scanned whole and a byte at a time; heads that
 * are well formed end where their empty line does, and a body after them
 * is not read as head.
 */
#include "acconfig.h"

#include <string.h>

#include "unit.h"

#include "worker/http_syntax.h"

/*
 * Scans HEAD (from its request target, as the handler does) in pieces of
 * STEP bytes; returns the result and sets *used to the head's length.
 */
static enum http_syntax_result
scan(const char *head, size_t step, size_t *used)
{
	struct http_syntax	 hs;
	enum http_syntax_result	 r = HTTP_SYNTAX_MORE;
	size_t			 len = strlen(head), off = 0, n, piece;

	http_syntax_begin(&hs);
	*used = 0;
	while (off < len && r == HTTP_SYNTAX_MORE) {
		piece = len - off < step ? len - off : step;
		r = http_syntax_scan(&hs, head + off, piece, &n);
		off += n;
	}
	*used = off;
	return r;
}

/* HEAD's verdict, the same whether scanned whole or a byte at a time. */
static enum http_syntax_result
verdict(const char *head)
{
	size_t			 used_whole, used_bytes;
	enum http_syntax_result	 whole, bytes;

	whole = scan(head, strlen(head), &used_whole);
	bytes = scan(head, 1, &used_bytes);
	assert_int_equal(whole, bytes);
	assert_int_equal(used_whole, used_bytes);
	return whole;
}

static void
test_refused(void **state)
{
	static const char *const heads[] = {
		"/ HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n",
		"/ HTTP/1.1\r\nContent-Length : 5\r\n\r\n",
		"/ HTTP/1.1\r\nHost\t: t\r\n\r\n",
		"/ HTTP/1.1\r\nX Forwarded: a\r\n\r\n",
		"/ HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
		"/ HTTP/1.1\r\nX-A: b\r\n\tc\r\n\r\n",
		"/ HTTP/1.1\nHost: t\n\n",
		"/ HTTP/1.1\r\nHost: t\n\r\n",
		"/ HTTP/1.1\r\nHost: t\r\n\n",
		"/ HTTP/1.1\r\nHost: t\rx\r\n\r\n",
		"/ HTTP/1.1\r\n: empty name\r\n\r\n",
		"/ HTTP/1.1\r\nHost: t\r\n\rx",
		"/ HTTP/1.1\r\nNa\x80me: t\r\n\r\n",
		"/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		    "transfer-encoding: chunked\r\n\r\n",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		print_message("refused: %zu\n", i);
		assert_int_equal(verdict(heads[i]), HTTP_SYNTAX_ERROR);
	}
}

static void
test_accepted(void **state)
{
	static const char *const heads[] = {
		"/ HTTP/1.1\r\nHost: t\r\n\r\n",
		"/ HTTP/1.1\r\n\r\n",
		"/ HTTP/1.1\r\nHost:t\r\nUser-Agent: a b  c\t\r\n\r\n",
		"/ HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: x\r\n\r\n",
		"/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	size_t	 i, used;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		print_message("accepted: %zu\n", i);
		assert_int_equal(verdict(heads[i]), HTTP_SYNTAX_END);
		assert_int_equal(scan(heads[i], 1, &used), HTTP_SYNTAX_END);
		assert_int_equal(used, strlen(heads[i]));
	}
}

/* A head that has not ended wants more; a body is not read as head. */
static void
test_ends_at_empty_line(void **state)
{
	static const char	 head[] = "/ HTTP/1.1\r\nHost: t\r\n\r\n";
	struct http_syntax	 hs;
	size_t			 used;
	char			 buf[256];

	(void)state;
	http_syntax_begin(&hs);
	assert_int_equal(http_syntax_scan(&hs, head, 12, &used),
	    HTTP_SYNTAX_MORE);
	assert_int_equal(used, 12);
	snprintf(buf, sizeof(buf), "%s%s", head + 12, " \n\r\nbody\n");
	assert_int_equal(http_syntax_scan(&hs, buf, strlen(buf), &used),
	    HTTP_SYNTAX_END);
	assert_int_equal(used, strlen(head) - 12);
}

/* Whether HEAD, fed in pieces of STEP bytes, has a Transfer-Encoding. */
static int
has_te(const char *head, size_t step)
{
	struct http_syntax	 hs;
	enum http_syntax_result	 r = HTTP_SYNTAX_MORE;
	size_t			 len = strlen(head), off, used;

	http_syntax_begin(&hs);
	for (off = 0; off < len && r == HTTP_SYNTAX_MORE; off += used) {
		used = len - off < step ? len - off : step;
		r = http_syntax_scan(&hs, head + off, used, &used);
	}
	assert_int_equal(r, HTTP_SYNTAX_END);
	assert_int_equal(hs.state, HTTP_SYNTAX_DONE);
	return !http_syntax_framing_ok(&hs, 1, 0);
}

/* Transfer-Encoding frames HTTP/1.1 only; Content-Length any version. */
/* A chunked body's verdict, scanned whole and a byte at a time. */
static enum http_syntax_result
chunked(const char *body)
{
	struct http_syntax	 whole, bytes;
	enum http_syntax_result	 r, rb = HTTP_SYNTAX_MORE;
	size_t			 used, len = strlen(body), i;

	http_syntax_begin_chunked(&whole);
	r = http_syntax_scan(&whole, body, len, &used);
	http_syntax_begin_chunked(&bytes);
	for (i = 0; i < len && rb == HTTP_SYNTAX_MORE; i++)
		rb = http_syntax_scan(&bytes, body + i, 1, &used);
	assert_int_equal(r, rb);
	return r;
}

static void
test_chunked(void **state)
{
	(void)state;
	assert_int_equal(chunked("0\r\n\r\n"), HTTP_SYNTAX_END);
	assert_int_equal(chunked("5\r\nhello\r\n0\r\n\r\n"),
	    HTTP_SYNTAX_END);
	assert_int_equal(chunked("3;a=b\r\na\r\n\r\n10\r\n0123456789abcdef"
	    "\r\n0;x\r\nX-Sum: 1\r\nX-B: c d\r\n\r\n"), HTTP_SYNTAX_END);
	assert_int_equal(chunked("5\r\nhel"), HTTP_SYNTAX_MORE);
	assert_int_equal(chunked("0\r\nX-Sum: 1\r\n"), HTTP_SYNTAX_MORE);
	/* CRLF where it must be; the trailer section as a head's fields. */
	assert_int_equal(chunked("5\r\nhelloXX0\r\n\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("5\r\nhello\rX0\r\n\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("5\rXhello\r\n0\r\n\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("5\nhello\r\n0\r\n\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("5;a\nhello\r\n0\r\n\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("0\rX\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked(";\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("0\r\n\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("0\r\nX-T: a\r\n b\r\n\r\n"),
	    HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("0\r\nX-T : a\r\n\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("0\r\nX T: a\r\n\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("0\r\nX-T: a\n\r\n"), HTTP_SYNTAX_ERROR);
	assert_int_equal(chunked("fffffffffffffffff1\r\n"), HTTP_SYNTAX_ERROR);
}

static void
test_framing(void **state)
{
	static const char *const te[] = {
		"/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
		"/ HTTP/1.0\r\ntransfer-ENCODING: gzip\r\n\r\n",
	};
	static const char *const not_te[] = {
		"/ HTTP/1.0\r\nContent-Length: 2\r\n\r\n",
		"/ HTTP/1.0\r\nTransfer-Encodings: x\r\n\r\n",
		"/ HTTP/1.0\r\nTransfer-Encodin: x\r\n\r\n",
		"/ HTTP/1.0\r\nX: Transfer-Encoding: chunked\r\n\r\n",
	};
	struct http_syntax	 hs;
	size_t			 i, used;

	(void)state;
	for (i = 0; i < sizeof(te) / sizeof(te[0]); i++) {
		http_syntax_begin(&hs);
		assert_int_equal(http_syntax_scan(&hs, te[i], strlen(te[i]),
		    &used), HTTP_SYNTAX_END);
		assert_false(http_syntax_framing_ok(&hs, 1, 0));
		assert_false(http_syntax_framing_ok(&hs, 0, 9));
		assert_true(http_syntax_framing_ok(&hs, 1, 1));
		assert_true(has_te(te[i], 1));
		assert_true(has_te(te[i], 5));
	}
	for (i = 0; i < sizeof(not_te) / sizeof(not_te[0]); i++) {
		http_syntax_begin(&hs);
		assert_int_equal(http_syntax_scan(&hs, not_te[i],
		    strlen(not_te[i]), &used), HTTP_SYNTAX_END);
		assert_true(http_syntax_framing_ok(&hs, 1, 0));
		assert_false(has_te(not_te[i], 1));
		assert_false(has_te(not_te[i], 5));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_ends_at_empty_line),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_framing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
