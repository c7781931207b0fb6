/*
 * httpresp: incremental HTTP/1.1 response parsing. See httpresp.h.
 *
 * A state machine over the bytes as they arrive: the head is collected
 * (capped) up to its empty line and parsed in one go; the body is then
 * copied straight into the body buffer (Content-Length, close-delimited) or
 * through the chunk states. Nothing is ever parsed twice.
 */
#include "injector/httpresp.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "injector/http.h"

#define HTTPRESP_CHUNK_LINE_MAX 256

enum {
	RS_HEAD,
	RS_LENGTH,
	RS_CLOSE,
	RS_CHUNK_SIZE,
	RS_CHUNK_DATA,
	RS_CHUNK_END,
	RS_TRAILER,
	RS_DONE,
	RS_ERROR,
};

void httpresp_init(struct httpresp *r, const struct httpresp_limits *lim, int head_request)
{
	memset(r, 0, sizeof(*r));
	r->lim = *lim;
	r->head_only = head_request;
	r->state = RS_HEAD;
	buf_init(&r->headers, lim->max_head);
	buf_init(&r->body, lim->max_body);
	buf_init(&r->line, lim->max_head);
}

void httpresp_cleanup(struct httpresp *r)
{
	if (!r)
		return;
	buf_cleanup(&r->headers);
	buf_cleanup(&r->body);
	buf_cleanup(&r->line);
}

uint64_t httpresp_fed(const struct httpresp *r)
{
	return r->fed;
}

static int httpresp_fail(struct httpresp *r, enum httpresp_error e, const char *why)
{
	r->state = RS_ERROR;
	r->err = e;
	r->error = why;
	return HTTPRESP_ERROR;
}

/* RFC 9110 tchar */
static int httpresp_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A control character other than HTAB (and DEL): never allowed in a head. */
static int httpresp_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Strict decimal, at most 18 digits. */
static int httpresp_length(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Each comma-separated token of a list value, trimmed; fn returns nonzero to stop. */
static int httpresp_tokens(const char *v, size_t n, int (*fn)(struct httpresp *r, const char *t,
							      size_t tn),
			   struct httpresp *r)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;
		int rc;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && (rc = fn(r, v + s, e - s)))
			return rc;
	}
	return 0;
}

static int httpresp_conn_token(struct httpresp *r, const char *t, size_t n)
{
	if (n == 5 && strncasecmp(t, "close", 5) == 0)
		r->conn_close = 1;
	else if (n == 10 && strncasecmp(t, "keep-alive", 10) == 0)
		r->conn_keep = 1;
	return 0;
}

static int httpresp_te_token(struct httpresp *r, const char *t, size_t n)
{
	if (n != 7 || strncasecmp(t, "chunked", 7) != 0 || r->chunked)
		return httpresp_fail(r, HTTPRESP_EMALFORMED,
				     "transfer coding other than a single chunked");
	r->chunked = 1;
	return 0;
}

/* One header line (without its line ending). */
static int httpresp_header(struct httpresp *r, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	size_t name, i, vs, ve;
	uint64_t len;

	if (p[0] == ' ' || p[0] == '\t')
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "obsolete line folding");
	if (!colon || colon == p)
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "header line without a name");
	name = (size_t)(colon - p);
	for (i = 0; i < name; i++)
		if (!httpresp_tchar((unsigned char)p[i]))
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad character in a header name");
	vs = name + 1;
	while (vs < n && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	for (i = vs; i < ve; i++)
		if (httpresp_ctl((unsigned char)p[i]))
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "control character in a header");
	if (name == 14 && strncasecmp(p, "content-length", 14) == 0) {
		if (httpresp_length(p + vs, ve - vs, &len) ||
		    (r->has_length && len != r->remaining))
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad or conflicting Content-Length");
		r->has_length = 1;
		r->remaining = len;
	} else if (name == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
		if (ve == vs)
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "empty Transfer-Encoding");
		if (httpresp_tokens(p + vs, ve - vs, httpresp_te_token, r))
			return HTTPRESP_ERROR;
	} else if (name == 10 && strncasecmp(p, "connection", 10) == 0) {
		httpresp_tokens(p + vs, ve - vs, httpresp_conn_token, r);
	}
	if (http_header_is_hop(p, name))
		return 0;
	if (buf_append(&r->headers, p, name) || buf_append(&r->headers, ": ", 2) ||
	    buf_append(&r->headers, p + vs, ve - vs) || buf_append(&r->headers, "\r\n", 2))
		return httpresp_fail(r, HTTPRESP_ETOOBIG, "response head too large");
	return 0;
}

/* "HTTP/1.x SSS reason" */
static int httpresp_status_line(struct httpresp *r, const char *p, size_t n)
{
	size_t i;

	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad status line");
	for (i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad status code");
	if (p[9] == '0' || (n > 12 && p[12] != ' '))
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad status code");
	for (i = 12; i < n; i++)
		if (httpresp_ctl((unsigned char)p[i]))
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "control character in the reason");
	r->minor = p[7] - '0';
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return 0;
}

/* The complete head is in r->line. Parse it and choose the body's framing. */
static int httpresp_head(struct httpresp *r)
{
	const char *p = r->line.data, *end = p + r->line.len;
	int first = 1;

	r->has_length = r->chunked = r->conn_close = r->conn_keep = 0;
	r->remaining = 0;
	buf_reset(&r->headers);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p), i;

		if (n && p[n - 1] == '\r')
			n--;
		for (i = 0; i < n; i++)
			if (p[i] == '\r' || p[i] == '\0')
				return httpresp_fail(r, HTTPRESP_EMALFORMED, "bare CR or NUL in the head");
		if (n == 0)
			break; /* the empty line that ends the head */
		if (first) {
			if (httpresp_status_line(r, p, n))
				return HTTPRESP_ERROR;
			first = 0;
		} else if (httpresp_header(r, p, n)) {
			return HTTPRESP_ERROR;
		}
		p = nl + 1;
	}
	if (first)
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "empty head");
	buf_reset(&r->line);
	if (r->status == 101)
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "unexpected 101 Switching Protocols");
	if (r->status < 200) {
		r->state = RS_HEAD; /* interim: the real response follows */
		return HTTPRESP_MORE;
	}
	if (r->chunked && r->has_length)
		return httpresp_fail(r, HTTPRESP_EMALFORMED,
				     "both Content-Length and Transfer-Encoding");
	r->keep_alive = r->minor == 1 ? !r->conn_close : (r->conn_keep && !r->conn_close);
	if (r->head_only || r->status == 204 || r->status == 304) {
		r->state = RS_DONE;
		return HTTPRESP_DONE;
	}
	if (r->chunked) {
		r->state = RS_CHUNK_SIZE;
	} else if (r->has_length) {
		if (r->remaining > r->lim.max_body)
			return httpresp_fail(r, HTTPRESP_ETOOBIG, "response body too large");
		r->state = r->remaining ? RS_LENGTH : RS_DONE;
	} else {
		r->keep_alive = 0;
		r->state = RS_CLOSE;
	}
	return r->state == RS_DONE ? HTTPRESP_DONE : HTTPRESP_MORE;
}

/*
 * Collect one line (up to and including '\n') into r->line, at most max
 * bytes. Returns the bytes of data used; *done is 1 when the line ended.
 */
static size_t httpresp_collect(struct httpresp *r, const char *data, size_t len, size_t max,
			       int *done)
{
	const char *nl = memchr(data, '\n', len);
	size_t n = nl ? (size_t)(nl - data) + 1 : len;

	*done = 0;
	if (r->line.len + n > max || buf_append(&r->line, data, n)) {
		httpresp_fail(r, HTTPRESP_ETOOBIG, "chunk or trailer line too long");
		return n;
	}
	*done = nl != NULL;
	return n;
}

/* The line collected, without its line ending; -1 on a bare CR. */
static long httpresp_line_len(const struct buf *b)
{
	size_t n = b->len - 1, i; /* without '\n' */

	if (n && b->data[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++)
		if (b->data[i] == '\r' || b->data[i] == '\0')
			return -1;
	return (long)n;
}

static int httpresp_chunk_size(struct httpresp *r)
{
	long n = httpresp_line_len(&r->line);
	const char *p = r->line.data;
	uint64_t size = 0;
	long i = 0;

	if (n < 0)
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "bare CR in a chunk size line");
	for (; i < n && isxdigit((unsigned char)p[i]); i++) {
		if (i >= 15)
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "chunk size too long");
		size = size * 16 + (uint64_t)(isdigit((unsigned char)p[i]) ? p[i] - '0'
									 : (tolower(p[i]) - 'a' + 10));
	}
	if (i == 0)
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad chunk size");
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && p[i] != ';')
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad chunk size");
	for (; i < n; i++)
		if (httpresp_ctl((unsigned char)p[i]))
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "control character in a chunk extension");
	buf_reset(&r->line);
	if (size == 0) {
		r->state = RS_TRAILER;
		return 0;
	}
	if (size > r->lim.max_body - r->body.len)
		return httpresp_fail(r, HTTPRESP_ETOOBIG, "response body too large");
	r->remaining = size;
	r->state = RS_CHUNK_DATA;
	return 0;
}

static int httpresp_trailer(struct httpresp *r)
{
	long n = httpresp_line_len(&r->line);
	const char *colon;
	long i;

	if (n < 0)
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "bare CR in a trailer");
	r->trailer_bytes += r->line.len;
	if (n == 0) {
		buf_reset(&r->line);
		r->state = RS_DONE;
		return HTTPRESP_DONE;
	}
	if (r->trailer_bytes > r->lim.max_head)
		return httpresp_fail(r, HTTPRESP_ETOOBIG, "trailers too large");
	colon = memchr(r->line.data, ':', (size_t)n);
	if (!colon || colon == r->line.data)
		return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad trailer line");
	for (i = 0; i < colon - r->line.data; i++)
		if (!httpresp_tchar((unsigned char)r->line.data[i]))
			return httpresp_fail(r, HTTPRESP_EMALFORMED, "bad trailer line");
	buf_reset(&r->line); /* trailers are not passed on */
	return HTTPRESP_MORE;
}

/* Find the end of the head in data; collect the head bytes. */
static size_t httpresp_head_bytes(struct httpresp *r, const char *data, size_t len, int *done)
{
	size_t i;
	int nl = 0;

	/* where the collected part left off: just after "\n" or "\n\r" */
	if (r->line.len >= 1 && r->line.data[r->line.len - 1] == '\n')
		nl = 1;
	else if (r->line.len >= 2 && r->line.data[r->line.len - 1] == '\r' &&
		 r->line.data[r->line.len - 2] == '\n')
		nl = 2;
	*done = 0;
	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n') {
			if (nl) {
				*done = 1;
				i++;
				break;
			}
			nl = 1;
		} else if (c == '\r' && nl == 1) {
			nl = 2;
		} else {
			nl = 0;
		}
	}
	if (r->line.len + i > r->lim.max_head || buf_append(&r->line, data, i)) {
		httpresp_fail(r, HTTPRESP_ETOOBIG, "response head too large");
		*done = 0;
	}
	return i;
}

int httpresp_feed(struct httpresp *r, const char *data, size_t len, size_t *used)
{
	size_t off = 0;
	int rc = HTTPRESP_MORE;

	*used = 0;
	if (r->state == RS_DONE)
		return HTTPRESP_DONE;
	if (r->state == RS_ERROR)
		return HTTPRESP_ERROR;
	while (off < len && rc == HTTPRESP_MORE) {
		size_t n, k;
		int done;

		switch (r->state) {
		case RS_HEAD:
			off += httpresp_head_bytes(r, data + off, len - off, &done);
			if (r->state == RS_ERROR)
				rc = HTTPRESP_ERROR;
			else if (done)
				rc = httpresp_head(r);
			break;
		case RS_LENGTH:
			n = len - off;
			if (n > r->remaining)
				n = (size_t)r->remaining;
			if (buf_append(&r->body, data + off, n)) {
				rc = httpresp_fail(r, HTTPRESP_ETOOBIG, "response body too large");
				break;
			}
			off += n;
			r->remaining -= n;
			if (!r->remaining) {
				r->state = RS_DONE;
				rc = HTTPRESP_DONE;
			}
			break;
		case RS_CLOSE:
			if (buf_append(&r->body, data + off, len - off)) {
				rc = httpresp_fail(r, HTTPRESP_ETOOBIG, "response body too large");
				break;
			}
			off = len;
			break;
		case RS_CHUNK_SIZE:
			off += httpresp_collect(r, data + off, len - off, HTTPRESP_CHUNK_LINE_MAX, &done);
			if (r->state == RS_ERROR)
				rc = HTTPRESP_ERROR;
			else if (done && httpresp_chunk_size(r))
				rc = HTTPRESP_ERROR;
			break;
		case RS_CHUNK_DATA:
			n = len - off;
			if (n > r->remaining)
				n = (size_t)r->remaining;
			if (buf_append(&r->body, data + off, n)) {
				rc = httpresp_fail(r, HTTPRESP_ETOOBIG, "response body too large");
				break;
			}
			off += n;
			r->remaining -= n;
			if (!r->remaining)
				r->state = RS_CHUNK_END;
			break;
		case RS_CHUNK_END:
			/* CRLF (or a bare LF) after the chunk's data; remaining: 1 after the CR */
			k = (unsigned char)data[off++];
			if (k == '\r' && r->remaining == 0)
				r->remaining = 1;
			else if (k == '\n') {
				r->state = RS_CHUNK_SIZE;
				r->remaining = 0;
			} else
				rc = httpresp_fail(r, HTTPRESP_EMALFORMED, "chunk data not followed by CRLF");
			break;
		case RS_TRAILER:
			off += httpresp_collect(r, data + off, len - off, HTTPRESP_CHUNK_LINE_MAX * 16,
						&done);
			if (r->state == RS_ERROR)
				rc = HTTPRESP_ERROR;
			else if (done)
				rc = httpresp_trailer(r);
			break;
		default:
			rc = httpresp_fail(r, HTTPRESP_EMALFORMED, "parser state lost");
			break;
		}
	}
	r->fed += off;
	*used = off;
	if (rc == HTTPRESP_MORE && r->state == RS_DONE)
		rc = HTTPRESP_DONE;
	return rc;
}

int httpresp_eof(struct httpresp *r)
{
	if (r->state == RS_DONE)
		return HTTPRESP_DONE;
	if (r->state == RS_ERROR)
		return HTTPRESP_ERROR;
	if (r->state == RS_CLOSE) {
		r->state = RS_DONE;
		return HTTPRESP_DONE;
	}
	return httpresp_fail(r, HTTPRESP_ETRUNCATED, "the server closed before the response ended");
}
