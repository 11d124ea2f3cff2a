/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Checks a request head's bytes against the RFC 9112 rules http-parser
 * does not enforce (http_syntax.h).  The scan starts at the request
 * target, since the parser has checked the method before it; it is fed
 * the head in whatever pieces the input arrives in, and stops at the empty
 * line that ends it, so a body is never read as head.  A chunked body is
 * scanned the same way from its first chunk's size to the empty line that
 * ends its trailer section, its chunks' data skipped unread.
 */
#include "acconfig.h"

#include <string.h>
#include <strings.h>

#include "worker/http_syntax.h"

#define HTTP_TE_NAME	"transfer-encoding"

/* RFC 9110 tchar: the bytes a field name is made of. */
static const unsigned char http_syntax_tchars[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
};

static int
http_syntax_tchar(unsigned char ch)
{
	return http_syntax_tchars[ch];
}

/* Follows the field name being read, N more bytes at S, against TE. */
static void
http_syntax_te_match(struct http_syntax *hs, const char *s, size_t n)
{
	size_t	 k;

	if (hs->te_matched < 0 || n == 0)
		return;
	k = (size_t)hs->te_matched;
	/* Most names differ at once: no call for them. */
	if (k + n > sizeof(HTTP_TE_NAME) - 1 ||
	    (s[0] | 0x20) != HTTP_TE_NAME[k] ||
	    strncasecmp(s, &HTTP_TE_NAME[k], n) != 0)
		hs->te_matched = -1;
	else
		hs->te_matched += (int)n;
}

/* Starts the head of a request, at its request target. */
void
http_syntax_begin(struct http_syntax *hs)
{
	hs->state = HTTP_SYNTAX_LINE;
	hs->te_matched = -1;
	hs->transfer_encoding = 0;
}

/* Starts a chunked body, at its first chunk's size. */
void
http_syntax_begin_chunked(struct http_syntax *hs)
{
	http_syntax_begin(hs);
	hs->state = HTTP_SYNTAX_CHUNK_SIZE;
	/* The head's line: another, in the trailer, is refused. */
	hs->transfer_encoding = 1;
	hs->chunk_left = 0;
	hs->chunk_digits = 0;
}

/*
 * A byte of a chunk's size: hex digits, then extensions or the CR; the
 * parser checks the digits and extensions, we only need the size.
 */
static enum http_syntax_state
http_syntax_chunk_size(struct http_syntax *hs, unsigned char ch)
{
	int	 v;

	if (ch >= '0' && ch <= '9')
		v = ch - '0';
	else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		v = (ch | 0x20) - 'a' + 10;
	else if (hs->chunk_digits == 0)
		return HTTP_SYNTAX_BAD;
	else
		return ch == '\r' ? HTTP_SYNTAX_CHUNK_LF :
		    ch == '\n' ? HTTP_SYNTAX_BAD : HTTP_SYNTAX_CHUNK_EXT;
	if (hs->chunk_left > (UINT64_MAX >> 4))
		return HTTP_SYNTAX_BAD;	/* the parser refuses it too */
	hs->chunk_left = hs->chunk_left << 4 | (uint64_t)v;
	hs->chunk_digits++;
	return HTTP_SYNTAX_CHUNK_SIZE;
}

/* After a chunk's line: its data, or the trailer section of the last. */
static enum http_syntax_state
http_syntax_chunk_line_end(const struct http_syntax *hs, unsigned char ch)
{
	if (ch != '\n')
		return HTTP_SYNTAX_BAD;
	return hs->chunk_left == 0 ? HTTP_SYNTAX_LINE_START :
	    HTTP_SYNTAX_CHUNK_DATA;
}

/*
 * The request line after the method, or a field value: the parser checks
 * their bytes, we their end, a CR that LF must follow.  Most of a head is
 * such text, so memchr() finds the CR, many bytes a step, and then that
 * no LF came before it.  Returns where the scan goes on.
 */
static size_t
http_syntax_line(struct http_syntax *hs, const char *buf, size_t i,
    size_t len)
{
	const char	*cr, *lf;
	size_t		 end;

	cr = memchr(buf + i, '\r', len - i);
	end = cr != NULL ? (size_t)(cr - buf) : len;
	if ((lf = memchr(buf + i, '\n', end - i)) != NULL) {
		hs->state = HTTP_SYNTAX_BAD;
		return (size_t)(lf - buf) + 1;
	}
	if (cr != NULL)
		hs->state = HTTP_SYNTAX_LINE_CR;
	return cr != NULL ? end + 1 : len;
}

/*
 * A field name: tokens up to the colon, which must follow at once; any
 * other byte (whitespace before the colon, inside the name) breaks the
 * head.  Returns where the scan goes on.
 */
static size_t
http_syntax_name(struct http_syntax *hs, const char *buf, size_t i,
    size_t len)
{
	const unsigned char	*u = (const unsigned char *)buf;
	size_t			 start = i;

	while (i < len && http_syntax_tchars[u[i]])
		i++;
	http_syntax_te_match(hs, buf + start, i - start);
	if (i == len)
		return i;	/* the name goes on in the next piece */
	if (u[i] != ':')
		hs->state = HTTP_SYNTAX_BAD;
	else {
		/*
		 * A second Transfer-Encoding line (or one in the trailer) can
		 * apply chunked twice or a coding after it, which RFC 9112
		 * section 6.1 forbids and which servers in a chain read
		 * differently: one line is all a request here may have.
		 */
		if (hs->te_matched == (int)sizeof(HTTP_TE_NAME) - 1) {
			if (hs->transfer_encoding)
				hs->state = HTTP_SYNTAX_BAD;
			hs->transfer_encoding = 1;
		}
		if (hs->state != HTTP_SYNTAX_BAD)
			hs->state = HTTP_SYNTAX_LINE;
	}
	return i + 1;
}

/* Whether the scan of the head goes on. */
static int
http_syntax_scanning(const struct http_syntax *hs)
{
	return hs->state != HTTP_SYNTAX_DONE && hs->state != HTTP_SYNTAX_BAD &&
	    hs->state != HTTP_SYNTAX_IDLE;
}

/*
 * Scans the next LEN bytes of the head (or chunked body).  *used is set
 * to the bytes scanned: with HTTP_SYNTAX_END, those that were head, the
 * empty line's LF included; bytes after it are not looked at.  Once ended
 * or broken, it stays so until the next http_syntax_begin*().
 */
enum http_syntax_result
http_syntax_scan(struct http_syntax *hs, const char *buf, size_t len,
    size_t *used)
{
	unsigned char	 ch;
	size_t		 i = 0, n;

	while (i < len && http_syntax_scanning(hs)) {
		ch = (unsigned char)buf[i];
		switch (hs->state) {
		case HTTP_SYNTAX_LINE:
			i = http_syntax_line(hs, buf, i, len);
			continue;
		case HTTP_SYNTAX_NAME:
			i = http_syntax_name(hs, buf, i, len);
			continue;
		case HTTP_SYNTAX_LINE_START:
			if (http_syntax_tchar(ch)) {
				hs->te_matched = 0;
				hs->state = HTTP_SYNTAX_NAME;
				continue;	/* the name's first byte */
			}
			/* SP or HT is obs-fold; a bare LF, or no name, too. */
			hs->state = ch == '\r' ? HTTP_SYNTAX_END_CR :
			    HTTP_SYNTAX_BAD;
			break;
		case HTTP_SYNTAX_LINE_CR:
			hs->state = ch == '\n' ? HTTP_SYNTAX_LINE_START :
			    HTTP_SYNTAX_BAD;
			break;
		case HTTP_SYNTAX_END_CR:
			hs->state = ch == '\n' ? HTTP_SYNTAX_DONE :
			    HTTP_SYNTAX_BAD;
			break;
		case HTTP_SYNTAX_CHUNK_SIZE:
			hs->state = http_syntax_chunk_size(hs, ch);
			break;
		case HTTP_SYNTAX_CHUNK_EXT:
			hs->state = ch == '\r' ? HTTP_SYNTAX_CHUNK_LF :
			    ch == '\n' ? HTTP_SYNTAX_BAD :
			    HTTP_SYNTAX_CHUNK_EXT;
			break;
		case HTTP_SYNTAX_CHUNK_LF:
			hs->state = http_syntax_chunk_line_end(hs, ch);
			break;
		case HTTP_SYNTAX_CHUNK_DATA:
			/* The data is not looked at: skipped at once. */
			n = len - i < hs->chunk_left ? len - i :
			    (size_t)hs->chunk_left;
			hs->chunk_left -= n;
			if (hs->chunk_left == 0)
				hs->state = HTTP_SYNTAX_DATA_CR;
			i += n;
			continue;
		case HTTP_SYNTAX_DATA_CR:
			hs->state = ch == '\r' ? HTTP_SYNTAX_DATA_LF :
			    HTTP_SYNTAX_BAD;
			break;
		case HTTP_SYNTAX_DATA_LF:
			hs->chunk_digits = 0;
			hs->state = ch == '\n' ? HTTP_SYNTAX_CHUNK_SIZE :
			    HTTP_SYNTAX_BAD;
			break;
		default:
			break;
		}
		i++;
	}
	if (used != NULL)
		*used = i;
	switch (hs->state) {
	case HTTP_SYNTAX_DONE:
		return HTTP_SYNTAX_END;
	case HTTP_SYNTAX_BAD:
	case HTTP_SYNTAX_IDLE:
		return HTTP_SYNTAX_ERROR;
	default:
		return HTTP_SYNTAX_MORE;
	}
}

/*
 * Transfer-Encoding frames a message in HTTP/1.1 only: an HTTP/1.0
 * recipient of one, RFC 9112 section 6.1 says, must treat the framing as
 * faulty.  Content-Length is HTTP/1.0's own and stays.
 */
int
http_syntax_framing_ok(const struct http_syntax *hs, int http_major,
    int http_minor)
{
	return !hs->transfer_encoding ||
	    (http_major == 1 && http_minor >= 1);
}
