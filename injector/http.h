/*
 * http: a bounded HTTP/1.1 request parser and a response writer, for the
 * RPC proxy's client side.
 *
 * The parser is stateless and side-effect free: it is handed everything a
 * connection has received so far and answers "a complete request of N
 * bytes", "need more" or "malformed, answer with status S". Because every
 * input is capped (head size, header count, body size), parsing again from
 * the start when more bytes arrive costs a bounded amount of work, and a
 * request that crosses any cap fails closed with the status a client should
 * see (400, 413, 431, 501, 505). Pipelined requests are handled by the
 * caller consuming the reported length and parsing the rest.
 *
 * What it refuses on purpose: obsolete line folding, both Content-Length and
 * Transfer-Encoding (request smuggling), transfer codings other than
 * "chunked", conflicting Content-Length values, control characters in header
 * values, HTTP versions other than 1.0 and 1.1. It does not interpret the
 * request target; the proxy decides which targets it serves.
 */
#ifndef DOORJAM_HTTP_H
#define DOORJAM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define HTTP_HEADERS_MAX 100

struct http_limits {
	size_t max_head;      /* request line + headers (and chunked trailers), bytes */
	size_t max_headers;   /* header lines; at most HTTP_HEADERS_MAX */
	size_t max_body;      /* decoded body, bytes */
};

/* Defaults: 16 KiB head, 100 headers, 4 MiB body. */
void http_limits_default(struct http_limits *lim);

struct http_header {
	const char *name;     /* NUL-terminated, as sent (case preserved) */
	const char *value;    /* NUL-terminated, leading/trailing blanks removed */
};

enum http_parse_result {
	HTTP_PARSE_ERROR = -1,  /* malformed or over a cap: answer req->status, then close */
	HTTP_PARSE_MORE = 0,    /* incomplete: call again with more bytes */
	HTTP_PARSE_DONE = 1,    /* one complete request; *used bytes belong to it */
};

/*
 * One parsed request. After HTTP_PARSE_DONE every pointer member is valid
 * until http_request_cleanup. After HTTP_PARSE_MORE only the numeric members
 * describing the head are set (head_len is 0 while the head is incomplete).
 */
struct http_request {
	char *head;             /* owned copy of the head; strings below point into it */
	const char *method;
	const char *target;     /* request target as sent */
	int minor;              /* HTTP/1.<minor> */
	struct http_header headers[HTTP_HEADERS_MAX];
	size_t nheaders;
	const char *host;       /* Host header, or NULL */
	int keep_alive;         /* the connection may serve another request */
	int chunked;            /* body was sent chunked */
	int expect_continue;    /* "Expect: 100-continue" */
	size_t head_len;        /* bytes of request line + headers, 0 until complete */
	uint64_t content_length;/* declared (Content-Length), 0 for chunked/none */
	char *body;             /* owned, decoded, NUL-terminated; "" when none */
	size_t body_len;
	int status;             /* HTTP_PARSE_ERROR: the status to answer */
	const char *error;      /* HTTP_PARSE_ERROR: static text saying why */
};

/* Zero a request before its first use. */
void http_request_init(struct http_request *req);

/* Free what a request owns; it may be reused. Accepts NULL. */
void http_request_cleanup(struct http_request *req);

/*
 * Parse one request from the start of data[0..len). Any previous content of
 * req is released first. Returns an enum http_parse_result; on DONE, *used is
 * the number of bytes of this request (pipelined bytes after it are not
 * touched). Out of memory is reported as an error with status 500.
 */
int http_request_parse(const char *data, size_t len, const struct http_limits *lim,
		       struct http_request *req, size_t *used)
	__attribute__((warn_unused_result));

/* Value of the first header called name (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* The standard reason phrase for status ("Too Many Requests"), "Unknown" if none. */
const char *http_reason(int status);

/*
 * Append a complete response to out: status line, the caller's headers
 * (zero or more "Name: value\r\n" lines, may be NULL), Content-Length,
 * "Connection: close" unless keep_alive, and the body. Returns 0 or the
 * buf_append error.
 */
int http_response_write(struct buf *out, int status, const char *headers, const void *body,
			size_t body_len, int keep_alive) __attribute__((warn_unused_result));

/*
 * 1 when a response header called name (len bytes) must not be copied by a
 * proxy: hop-by-hop headers, and the framing headers it writes itself.
 */
int http_header_is_hop(const char *name, size_t len);

#endif
