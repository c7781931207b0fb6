/*
 * httpresp: an incremental, bounded HTTP/1.1 response parser, for the RPC
 * proxy's native upstream leg (injector/upstream).
 *
 * Bytes are fed as they arrive, split anywhere. The parser keeps only what
 * it must (an incomplete head, chunk-size or trailer line, each capped) and
 * appends the decoded body to a capped buffer, so a response costs one pass
 * however the network splits it. It has no side effects beyond the struct.
 *
 * Framing follows RFC 9112 section 6.3: no body for a HEAD request or a 204
 * or 304 status; interim 1xx responses are skipped; then chunked, then
 * Content-Length, else the body ends when the server closes.
 *
 * It fails closed on: a status line that is not "HTTP/1.0" or "HTTP/1.1"
 * with a three-digit status, obsolete line folding, control characters or
 * bare CR in the head, a header name that is not a token, both
 * Content-Length and Transfer-Encoding, conflicting or non-numeric lengths,
 * transfer codings other than chunked, malformed chunk sizes or chunk
 * endings, 101 Switching Protocols, and anything over a cap. It does not
 * decode content codings (the proxy does not ask for them).
 */
#ifndef DOORJAM_HTTPRESP_H
#define DOORJAM_HTTPRESP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct httpresp_limits {
	size_t max_head;        /* status line + headers, and trailers, bytes */
	size_t max_body;        /* decoded body, bytes */
};

enum httpresp_result {
	HTTPRESP_ERROR = -1,    /* malformed, over a cap or cut short: see err, error */
	HTTPRESP_MORE = 0,      /* incomplete: feed more, or call httpresp_eof */
	HTTPRESP_DONE = 1,      /* one complete response */
};

enum httpresp_error {
	HTTPRESP_OK = 0,
	HTTPRESP_EMALFORMED,    /* not valid HTTP/1.x */
	HTTPRESP_ETOOBIG,       /* over max_head or max_body */
	HTTPRESP_ETRUNCATED,    /* the server closed before the response was complete */
};

/*
 * One response. The public members are valid after HTTPRESP_DONE (status
 * and minor as soon as the head is complete); the rest is the parser's.
 */
struct httpresp {
	int status;             /* 100..999 */
	int minor;              /* HTTP/1.<minor> */
	int keep_alive;         /* the connection may carry another request */
	struct buf headers;     /* end-to-end headers as "Name: value\r\n" lines;
	                           hop-by-hop and framing headers are left out */
	struct buf body;        /* decoded body, NUL-terminated */
	enum httpresp_error err;/* after HTTPRESP_ERROR */
	const char *error;      /* after HTTPRESP_ERROR: static text saying why */
	/* private */
	int state;
	int head_only;          /* the request was HEAD: no body whatever the headers say */
	int chunked;
	int has_length;
	int conn_close;
	int conn_keep;
	uint64_t remaining;     /* bytes left of the body or of the current chunk */
	struct buf line;        /* head being collected, or the current chunk/trailer line */
	size_t trailer_bytes;
	uint64_t fed;           /* bytes fed so far */
	struct httpresp_limits lim;
};

/*
 * Prepare r for one response. head_request: the request was HEAD. lim is
 * copied. Pair with httpresp_cleanup.
 */
void httpresp_init(struct httpresp *r, const struct httpresp_limits *lim, int head_request);

/* Free what r holds; accepts NULL. r may be initialised again. */
void httpresp_cleanup(struct httpresp *r);

/*
 * Feed len bytes. Returns an enum httpresp_result. *used is the number of
 * bytes that belong to this response: all of them on HTTPRESP_MORE, at most
 * len on HTTPRESP_DONE (bytes after a complete response are not touched). After
 * DONE or ERROR, feeding again returns the same result and uses nothing.
 */
int httpresp_feed(struct httpresp *r, const char *data, size_t len, size_t *used)
	__attribute__((warn_unused_result));

/*
 * The server closed the connection. Completes a body delimited by the close
 * (HTTPRESP_DONE); anything else incomplete is HTTPRESP_ERROR with
 * HTTPRESP_ETRUNCATED. Returns the current result when already finished.
 */
int httpresp_eof(struct httpresp *r) __attribute__((warn_unused_result));

/* Bytes fed so far: 0 after an EOF means the server sent nothing at all. */
uint64_t httpresp_fed(const struct httpresp *r);

#endif
