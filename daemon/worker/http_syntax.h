/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The HTTP/1.1 request head syntax that http-parser lets through and RFC
 * 9112 forbids: a field name that is not a token or is followed by
 * whitespace before its colon, an obs-folded line, a bare LF line ending,
 * Transfer-Encoding outside HTTP/1.1 or on a second line; and in a
 * chunked body, which
 * http-parser (built without HTTP_PARSER_STRICT) frames by skipping the
 * bytes where CRLF must be, a chunk's line or data not ended by CRLF and
 * the same field rules in its trailer section.  Each of these lets a peer
 * frame a request differently than the server it is relayed to would, so
 * the handler answers 400 and closes.
 */
#ifndef AFFINITYD_HTTP_SYNTAX_H
#define AFFINITYD_HTTP_SYNTAX_H

#include <stddef.h>
#include <stdint.h>

enum http_syntax_state {
	HTTP_SYNTAX_IDLE,	/* between requests: nothing to scan */
	HTTP_SYNTAX_LINE,	/* in the request line or a field value */
	HTTP_SYNTAX_LINE_CR,	/* after a CR: LF must follow */
	HTTP_SYNTAX_LINE_START,	/* a field line or the empty line */
	HTTP_SYNTAX_NAME,	/* in a field name */
	HTTP_SYNTAX_END_CR,	/* the empty line's CR */
	HTTP_SYNTAX_CHUNK_SIZE,	/* a chunk's size, in hex */
	HTTP_SYNTAX_CHUNK_EXT,	/* the rest of its line: extensions */
	HTTP_SYNTAX_CHUNK_LF,	/* its line's CR: LF must follow */
	HTTP_SYNTAX_CHUNK_DATA,	/* the chunk's data, chunk_left bytes */
	HTTP_SYNTAX_DATA_CR,	/* after the data, CR */
	HTTP_SYNTAX_DATA_LF,	/* then LF */
	HTTP_SYNTAX_DONE,	/* the head ended well */
	HTTP_SYNTAX_BAD		/* the head broke a rule */
};

/* One request head being scanned, fed in pieces as its bytes arrive. */
struct http_syntax {
	enum http_syntax_state	 state;
	int			 te_matched;	/* of "transfer-encoding", or -1 */
	int			 transfer_encoding; /* the head has one */
	uint64_t		 chunk_left;	/* of the chunk's size or data */
	int			 chunk_digits;	/* of its size read so far */
};

/* What http_syntax_scan() found. */
enum http_syntax_result {
	HTTP_SYNTAX_MORE,	/* all bytes were head: feed more */
	HTTP_SYNTAX_END,	/* the head ended well within the bytes */
	HTTP_SYNTAX_ERROR	/* the head broke a rule */
};

/* http_syntax.c */
void	 http_syntax_begin(struct http_syntax *hs);
void	 http_syntax_begin_chunked(struct http_syntax *hs);
enum http_syntax_result
	 http_syntax_scan(struct http_syntax *hs, const char *buf, size_t len,
	    size_t *used);
int	 http_syntax_framing_ok(const struct http_syntax *hs, int http_major,
	    int http_minor);

#endif
