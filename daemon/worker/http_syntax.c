/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Checks a request head's bytes against the RFC 9112 rules http-parser
 * does not enforce (http_syntax.h).  The scan starts at the request
 * target, since the parser has checked the method before it; it is fed
 * the head in whatever pieces the input arrives in, and stops at the empty
 * line that ends it, so a body is never read as head.
 */
#include "acconfig.h"

#include <string.h>

#include "worker/http_syntax.h"

#define HTTP_TE_NAME	"transfer-encoding"

/* RFC 9110 tchar: the bytes a field name is made of. */
static int
http_syntax_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Follows the field name being read against "transfer-encoding". */
static void
http_syntax_name_byte(struct http_syntax *hs, unsigned char ch)
{
	if (hs->te_matched < 0)
		return;
	if (hs->te_matched < (int)sizeof(HTTP_TE_NAME) - 1 &&
	    (ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch) ==
	    (unsigned char)HTTP_TE_NAME[hs->te_matched])
		hs->te_matched++;
	else
		hs->te_matched = -1;
}

/* Starts the head of a request, at its request target. */
void
http_syntax_begin(struct http_syntax *hs)
{
	hs->state = HTTP_SYNTAX_LINE;
	hs->te_matched = -1;
	hs->transfer_encoding = 0;
}

/* The state after byte CH of the head, or HTTP_SYNTAX_BAD. */
static enum http_syntax_state
http_syntax_step(struct http_syntax *hs, unsigned char ch)
{
	switch (hs->state) {
	case HTTP_SYNTAX_LINE:
		/* The parser checks the bytes of a value; we, its end. */
		return ch == '\r' ? HTTP_SYNTAX_LINE_CR :
		    ch == '\n' ? HTTP_SYNTAX_BAD : HTTP_SYNTAX_LINE;
	case HTTP_SYNTAX_LINE_CR:
		return ch == '\n' ? HTTP_SYNTAX_LINE_START : HTTP_SYNTAX_BAD;
	case HTTP_SYNTAX_LINE_START:
		if (ch == '\r')
			return HTTP_SYNTAX_END_CR;
		/* SP or HT here is obs-fold; a bare LF, or no name, too. */
		if (!http_syntax_tchar(ch))
			return HTTP_SYNTAX_BAD;
		hs->te_matched = 0;
		http_syntax_name_byte(hs, ch);
		return HTTP_SYNTAX_NAME;
	case HTTP_SYNTAX_NAME:
		if (http_syntax_tchar(ch)) {
			http_syntax_name_byte(hs, ch);
			return HTTP_SYNTAX_NAME;
		}
		/* Whitespace before the colon, or inside the name. */
		if (ch != ':')
			return HTTP_SYNTAX_BAD;
		if (hs->te_matched == (int)sizeof(HTTP_TE_NAME) - 1)
			hs->transfer_encoding = 1;
		return HTTP_SYNTAX_LINE;
	case HTTP_SYNTAX_END_CR:
		return ch == '\n' ? HTTP_SYNTAX_DONE : HTTP_SYNTAX_BAD;
	case HTTP_SYNTAX_IDLE:
	case HTTP_SYNTAX_DONE:
	case HTTP_SYNTAX_BAD:
		break;
	}
	return hs->state;
}

/*
 * Scans the next LEN bytes of the head.  HTTP_SYNTAX_END also sets *used
 * to the bytes that were head, the empty line's LF included; bytes after
 * it are not looked at.  Once ended or broken, it stays so until the next
 * http_syntax_begin().
 */
enum http_syntax_result
http_syntax_scan(struct http_syntax *hs, const char *buf, size_t len,
    size_t *used)
{
	size_t	 i;

	for (i = 0; i < len && hs->state != HTTP_SYNTAX_DONE &&
	    hs->state != HTTP_SYNTAX_BAD && hs->state != HTTP_SYNTAX_IDLE; i++)
		hs->state = http_syntax_step(hs, (unsigned char)buf[i]);
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
