/*
 * http: bounded HTTP/1.1 request parsing and response writing. See http.h.
 *
 * The parser works in two steps: find the end of the head within max_head
 * bytes, then copy the head and split it in place into NUL-terminated
 * strings. The body is scanned (chunked) or measured (Content-Length) before
 * anything is copied, so an incomplete request costs no allocation.
 */
#include "injector/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_METHOD_MAX 16
#define HTTP_CHUNK_LINE_MAX 256

void http_limits_default(struct http_limits *lim)
{
	lim->max_head = 16 * 1024;
	lim->max_headers = HTTP_HEADERS_MAX;
	lim->max_body = 4 * 1024 * 1024;
}

void http_request_init(struct http_request *req)
{
	memset(req, 0, sizeof(*req));
}

void http_request_cleanup(struct http_request *req)
{
	if (!req)
		return;
	free(req->head);
	free(req->body);
	memset(req, 0, sizeof(*req));
}

/* RFC 9110 tchar */
static int http_is_tchar(unsigned char c)
{
	if (isalnum(c))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int http_fail(struct http_request *req, int status, const char *why)
{
	free(req->head);
	req->head = NULL;
	free(req->body);
	req->body = NULL;
	req->status = status;
	req->error = why;
	return HTTP_PARSE_ERROR;
}

/* 1 when the comma-separated list value contains token (case-insensitive). */
static int http_list_has(const char *value, const char *token)
{
	size_t tl = strlen(token);
	const char *p = value;

	while (*p) {
		const char *e;
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		e = p;
		while (*e && *e != ',')
			e++;
		n = (size_t)(e - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(p, token, tl) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/* Strict decimal: digits only, no sign, no overflow past 10^18. */
static int http_parse_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	if (!*s)
		return -1;
	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n >= 18)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/*
 * Walk a chunked body starting at p (len bytes available). When out is not
 * NULL, copy the decoded data there. Returns HTTP_PARSE_DONE with *used and
 * *body_len set, HTTP_PARSE_MORE, or HTTP_PARSE_ERROR with req filled.
 */
static int http_chunks(const char *p, size_t len, const struct http_limits *lim,
		       struct http_request *req, char *out, size_t *used, size_t *body_len)
{
	size_t off = 0, total = 0, trailer = 0;

	for (;;) {
		const char *eol;
		uint64_t size = 0;
		size_t i, ndig = 0, linelen;

		eol = memchr(p + off, '\n', len - off);
		if (!eol) {
			if (len - off > HTTP_CHUNK_LINE_MAX)
				return http_fail(req, 400, "chunk size line too long");
			return HTTP_PARSE_MORE;
		}
		linelen = (size_t)(eol - (p + off));
		if (linelen > HTTP_CHUNK_LINE_MAX)
			return http_fail(req, 400, "chunk size line too long");
		if (linelen == 0 || p[off + linelen - 1] != '\r')
			return http_fail(req, 400, "chunk size line not ended by CRLF");
		for (i = off; i < off + linelen - 1; i++) {
			int d;
			char c = p[i];

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				break;
			if (++ndig > 15)
				return http_fail(req, 400, "chunk size too large");
			size = size * 16 + (uint64_t)d;
		}
		if (ndig == 0)
			return http_fail(req, 400, "chunk size is not hexadecimal");
		if (i < off + linelen - 1 && p[i] != ';' && p[i] != ' ' && p[i] != '\t')
			return http_fail(req, 400, "junk after chunk size");
		for (; i < off + linelen - 1; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c < 0x20 && c != '\t')
				return http_fail(req, 400, "control character in chunk extension");
		}
		off += linelen + 1;
		if (size == 0)
			break;
		if (size > lim->max_body - total)
			return http_fail(req, 413, "chunked body larger than the limit");
		if (len - off < size + 2)
			return HTTP_PARSE_MORE;
		if (p[off + size] != '\r' || p[off + size + 1] != '\n')
			return http_fail(req, 400, "chunk data not followed by CRLF");
		if (out)
			memcpy(out + total, p + off, size);
		total += size;
		off += size + 2;
	}
	/* trailer section: header lines until an empty line, bounded by max_head */
	for (;;) {
		const char *eol = memchr(p + off, '\n', len - off);
		size_t linelen;

		if (!eol) {
			if (trailer + (len - off) > lim->max_head)
				return http_fail(req, 431, "chunked trailers larger than the limit");
			return HTTP_PARSE_MORE;
		}
		linelen = (size_t)(eol - (p + off));
		trailer += linelen + 1;
		if (trailer > lim->max_head)
			return http_fail(req, 431, "chunked trailers larger than the limit");
		if (linelen == 0 || p[off + linelen - 1] != '\r')
			return http_fail(req, 400, "trailer line not ended by CRLF");
		off += linelen + 1;
		if (linelen == 1)
			break;
	}
	*used = off;
	*body_len = total;
	return HTTP_PARSE_DONE;
}

/* Split the request line in place. Returns 0 or a parse error. */
static int http_request_line(struct http_request *req, char *line)
{
	char *sp1, *sp2, *v;
	size_t i;

	sp1 = strchr(line, ' ');
	if (!sp1 || sp1 == line || sp1 - line > HTTP_METHOD_MAX)
		return http_fail(req, 400, "malformed request line");
	for (i = 0; line + i < sp1; i++)
		if (!http_is_tchar((unsigned char)line[i]))
			return http_fail(req, 400, "malformed method");
	*sp1 = '\0';
	req->method = line;
	req->target = sp1 + 1;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || sp2 == sp1 + 1)
		return http_fail(req, 400, "malformed request line");
	for (v = sp1 + 1; v < sp2; v++)
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f)
			return http_fail(req, 400, "malformed request target");
	*sp2 = '\0';
	v = sp2 + 1;
	if (strncmp(v, "HTTP/", 5) != 0 || !isdigit((unsigned char)v[5]) || v[6] != '.' ||
	    !isdigit((unsigned char)v[7]) || v[8])
		return http_fail(req, 400, "malformed HTTP version");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return http_fail(req, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	req->minor = v[7] - '0';
	return 0;
}

int http_request_parse(const char *data, size_t len, const struct http_limits *lim,
		       struct http_request *req, size_t *used)
{
	size_t skip = 0, head_len, scan, i, body_used = 0, body_len = 0;
	const char *end = NULL, *te = NULL, *conn = NULL, *expect = NULL;
	int have_cl = 0, rc;
	uint64_t cl = 0;
	char *line, *next;

	http_request_cleanup(req);
	/* Tolerate empty lines before a request (RFC 9112 2.2). */
	while (skip + 1 < len && data[skip] == '\r' && data[skip + 1] == '\n' && skip < 8)
		skip += 2;
	data += skip;
	len -= skip;
	if (len == 0)
		return HTTP_PARSE_MORE;
	/* Fail fast on bytes that cannot start a request (TLS, binary). */
	for (i = 0; i < len && i <= HTTP_METHOD_MAX && data[i] != ' '; i++)
		if (!http_is_tchar((unsigned char)data[i]))
			return http_fail(req, 400, "request does not start with a method");
	if (i > HTTP_METHOD_MAX)
		return http_fail(req, 400, "method too long");
	if (len >= 14 && memcmp(data, "PRI * HTTP/2.0", 14) == 0)
		return http_fail(req, 505, "HTTP/2 is not served");
	scan = len < lim->max_head ? len : lim->max_head;
	for (i = 0; i + 3 < scan; i++) {
		if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' &&
		    data[i + 3] == '\n') {
			end = data + i;
			break;
		}
	}
	if (!end) {
		if (len >= lim->max_head)
			return http_fail(req, 431, "request head larger than the limit");
		return HTTP_PARSE_MORE;
	}
	head_len = (size_t)(end - data) + 4;
	req->head = malloc(head_len - 1);
	if (!req->head)
		return http_fail(req, 500, "out of memory");
	memcpy(req->head, data, head_len - 2);
	req->head[head_len - 2] = '\0';
	/* Every line must end with CRLF; a lone CR or LF is refused. */
	for (i = 0; i < head_len - 2; i++) {
		char c = req->head[i];

		if (c == '\0')
			return http_fail(req, 400, "NUL byte in request head");
		if (c == '\r' && req->head[i + 1] != '\n')
			return http_fail(req, 400, "bare CR in request head");
		if (c == '\n' && (i == 0 || req->head[i - 1] != '\r'))
			return http_fail(req, 400, "bare LF in request head");
	}
	line = req->head;
	next = strstr(line, "\r\n");
	*next = '\0';
	rc = http_request_line(req, line);
	if (rc)
		return rc;
	for (line = next + 2; *line; line = next + 2) {
		char *colon, *v, *e;

		next = strstr(line, "\r\n");
		*next = '\0';
		if (*line == ' ' || *line == '\t')
			return http_fail(req, 400, "obsolete header line folding");
		colon = strchr(line, ':');
		if (!colon || colon == line)
			return http_fail(req, 400, "header line without a name");
		for (v = line; v < colon; v++)
			if (!http_is_tchar((unsigned char)*v))
				return http_fail(req, 400, "malformed header name");
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		for (e = v; *e; e++)
			if (((unsigned char)*e < 0x20 && *e != '\t') || *e == 0x7f)
				return http_fail(req, 400, "control character in header value");
		if (req->nheaders >= lim->max_headers || req->nheaders >= HTTP_HEADERS_MAX)
			return http_fail(req, 431, "too many header lines");
		req->headers[req->nheaders].name = line;
		req->headers[req->nheaders].value = v;
		req->nheaders++;
		if (strcasecmp(line, "content-length") == 0) {
			uint64_t n;

			if (http_parse_length(v, &n))
				return http_fail(req, 400, "malformed Content-Length");
			if (have_cl && n != cl)
				return http_fail(req, 400, "conflicting Content-Length headers");
			have_cl = 1;
			cl = n;
		} else if (strcasecmp(line, "transfer-encoding") == 0) {
			if (te)
				return http_fail(req, 501, "repeated Transfer-Encoding");
			te = v;
		} else if (strcasecmp(line, "host") == 0) {
			if (req->host)
				return http_fail(req, 400, "repeated Host header");
			req->host = v;
		} else if (strcasecmp(line, "connection") == 0) {
			conn = v;
		} else if (strcasecmp(line, "expect") == 0) {
			expect = v;
		}
	}
	if (req->minor == 1 && !req->host)
		return http_fail(req, 400, "HTTP/1.1 request without Host");
	if (te) {
		if (strcasecmp(te, "chunked") != 0)
			return http_fail(req, 501, "unsupported Transfer-Encoding");
		if (have_cl)
			return http_fail(req, 400, "both Content-Length and Transfer-Encoding");
		if (req->minor == 0)
			return http_fail(req, 400, "chunked body in an HTTP/1.0 request");
		req->chunked = 1;
	}
	if (expect) {
		if (strcasecmp(expect, "100-continue") != 0)
			return http_fail(req, 417, "unsupported Expect");
		req->expect_continue = 1;
	}
	if (req->minor == 1)
		req->keep_alive = !(conn && http_list_has(conn, "close"));
	else
		req->keep_alive = conn && http_list_has(conn, "keep-alive");
	req->head_len = skip + head_len;
	req->content_length = cl;
	if (have_cl && cl > lim->max_body)
		return http_fail(req, 413, "body larger than the limit");

	data += head_len;
	len -= head_len;
	if (req->chunked) {
		rc = http_chunks(data, len, lim, req, NULL, &body_used, &body_len);
		if (rc != HTTP_PARSE_DONE)
			return rc;
	} else {
		if (len < cl)
			return HTTP_PARSE_MORE;
		body_used = (size_t)cl;
		body_len = (size_t)cl;
	}
	req->body = malloc(body_len + 1);
	if (!req->body)
		return http_fail(req, 500, "out of memory");
	if (req->chunked) {
		rc = http_chunks(data, len, lim, req, req->body, &body_used, &body_len);
		if (rc != HTTP_PARSE_DONE)
			return rc;
	} else {
		memcpy(req->body, data, body_len);
	}
	req->body[body_len] = '\0';
	req->body_len = body_len;
	*used = req->head_len + body_used;
	return HTTP_PARSE_DONE;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

const char *http_reason(int status)
{
	static const struct {
		int code;
		const char *text;
	} table[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 301, "Moved Permanently" }, { 302, "Found" },
		{ 304, "Not Modified" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 402, "Payment Required" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" }, { 409, "Conflict" },
		{ 410, "Gone" }, { 411, "Length Required" }, { 413, "Content Too Large" },
		{ 414, "URI Too Long" }, { 415, "Unsupported Media Type" },
		{ 417, "Expectation Failed" }, { 421, "Misdirected Request" },
		{ 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
		{ 520, "Web Server Returned an Unknown Error" }, { 521, "Web Server Is Down" },
		{ 522, "Connection Timed Out" }, { 523, "Origin Is Unreachable" },
		{ 524, "A Timeout Occurred" },
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == status)
			return table[i].text;
	return "Unknown";
}

int http_response_write(struct buf *out, int status, const char *headers, const void *body,
			size_t body_len, int keep_alive)
{
	int rc;

	rc = buf_printf(out, "HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n%s\r\n", status,
			http_reason(status), headers ? headers : "", body_len,
			keep_alive ? "" : "Connection: close\r\n");
	if (rc)
		return rc;
	if (body_len)
		rc = buf_append(out, body, body_len);
	return rc;
}

int http_header_is_hop(const char *name, size_t len)
{
	static const char *const hop[] = {
		"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
		"proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
		"content-length", NULL,
	};
	size_t i;

	for (i = 0; hop[i]; i++)
		if (strlen(hop[i]) == len && strncasecmp(hop[i], name, len) == 0)
			return 1;
	return 0;
}
