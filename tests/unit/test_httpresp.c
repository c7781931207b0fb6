/*
 * Unit tests for injector/httpresp, the upstream response parser: vectors
 * for every framing (Content-Length, chunked, close-delimited, no body),
 * caps, malformed heads and chunks; every response also fed byte by byte and
 * split at every offset, which must not change the result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "injector/httpresp.h"

struct vec {
	const char *name;
	const char *in;
	int head_request;
	int eof;                /* the server closes after the bytes */
	int want;               /* HTTPRESP_DONE or HTTPRESP_ERROR (after eof if set) */
	int status;
	const char *body;
	const char *headers;    /* exact passed-on headers, or NULL: not checked */
	int keep_alive;
	enum httpresp_error err;
	size_t extra;           /* bytes left after a complete response */
};

static const struct httpresp_limits lim = { .max_head = 256, .max_body = 64 };

static const struct vec vecs[] = {
	{ "content-length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			    "Content-Length: 5\r\n\r\nhello",
	  0, 0, HTTPRESP_DONE, 200, "hello", "Content-Type: application/json\r\n", 1, 0, 0 },
	{ "length then a pipelined byte", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiX", 0, 0,
	  HTTPRESP_DONE, 200, "hi", "", 1, 0, 1 },
	{ "length zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, HTTPRESP_DONE, 200,
	  "", "", 1, 0, 0 },
	{ "repeated equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
	  0, 0, HTTPRESP_DONE, 200, "x", NULL, 1, 0, 0 },
	{ "chunked with extensions and trailers",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
	  "3;x=y\r\nabc\r\n00A\r\n0123456789\r\n0\r\nX-T: t\r\n\r\n",
	  0, 0, HTTPRESP_DONE, 200, "abc0123456789", "X-A: 1\r\n", 1, 0, 0 },
	{ "chunked, bare LF endings", "HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n2\nab\n0\n\n",
	  0, 0, HTTPRESP_DONE, 200, "ab", "", 1, 0, 0 },
	{ "close-delimited", "HTTP/1.1 200 OK\r\nX-B:  spaced value  \r\n\r\nuntil the end", 0, 1,
	  HTTPRESP_DONE, 200, "until the end", "X-B: spaced value\r\n", 0, 0, 0 },
	{ "close-delimited, empty", "HTTP/1.0 200 OK\r\n\r\n", 0, 1, HTTPRESP_DONE, 200, "", "", 0,
	  0, 0 },
	{ "HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
	  0, 0, HTTPRESP_DONE, 200, "x", "", 1, 0, 0 },
	{ "HTTP/1.0 default close", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, 0,
	  HTTPRESP_DONE, 200, "x", "", 0, 0, 0 },
	{ "Connection: close", "HTTP/1.1 503 Busy\r\nConnection: keep-alive, close\r\n"
			       "Content-Length: 4\r\n\r\nbusy",
	  0, 0, HTTPRESP_DONE, 503, "busy", "", 0, 0, 0 },
	{ "interim 100 skipped", "HTTP/1.1 100 Continue\r\nX-I: 1\r\n\r\nHTTP/1.1 201 Created\r\n"
				 "Content-Length: 1\r\n\r\nz",
	  0, 0, HTTPRESP_DONE, 201, "z", "", 1, 0, 0 },
	{ "204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", 0, 0,
	  HTTPRESP_DONE, 204, "", "", 1, 0, 0 },
	{ "304 has no body", "HTTP/1.1 304 Not Modified\r\n\r\n", 0, 0, HTTPRESP_DONE, 304, "", "",
	  1, 0, 0 },
	{ "HEAD has no body", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", 1, 0, HTTPRESP_DONE,
	  200, "", "", 1, 0, 0 },
	{ "empty reason", "HTTP/1.1 502\r\nContent-Length: 0\r\n\r\n", 0, 0, HTTPRESP_DONE, 502, "",
	  "", 1, 0, 0 },
	{ "hop-by-hop headers dropped", "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nTrailer: X\r\n"
					"Upgrade: h2\r\nAccess-Control-Allow-Origin: *\r\n"
					"Content-Length: 0\r\n\r\n",
	  0, 0, HTTPRESP_DONE, 200, "", "Access-Control-Allow-Origin: *\r\n", 1, 0, 0 },
	/* oversize */
	{ "body over the cap (length)", "HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n", 0, 0,
	  HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_ETOOBIG, 0 },
	{ "body over the cap (chunked)", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					 "20\r\n01234567890123456789012345678901\r\n"
					 "21\r\n",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_ETOOBIG, 0 },
	{ "body over the cap (close)", "HTTP/1.1 200 OK\r\n\r\n"
				       "0123456789012345678901234567890123456789"
				       "0123456789012345678901234567890123456789",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_ETOOBIG, 0 },
	{ "head over the cap", "HTTP/1.1 200 OK\r\nX: "
			       "0123456789012345678901234567890123456789012345678901234567890123"
			       "0123456789012345678901234567890123456789012345678901234567890123"
			       "0123456789012345678901234567890123456789012345678901234567890123"
			       "0123456789012345678901234567890123456789012345678901234567890123",
	  0, 0, HTTPRESP_ERROR, 0, NULL, NULL, 0, HTTPRESP_ETOOBIG, 0 },
	{ "chunk size line too long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;"
				      "0123456789012345678901234567890123456789012345678901234567890123"
				      "0123456789012345678901234567890123456789012345678901234567890123"
				      "0123456789012345678901234567890123456789012345678901234567890123"
				      "0123456789012345678901234567890123456789012345678901234567890123",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_ETOOBIG, 0 },
	/* truncated */
	{ "cut in the head", "HTTP/1.1 200 OK\r\nContent-Le", 0, 1, HTTPRESP_ERROR, 0, NULL, NULL, 0,
	  HTTPRESP_ETRUNCATED, 0 },
	{ "cut in a length body", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", 0, 1,
	  HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_ETRUNCATED, 0 },
	{ "cut in a chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 0,
	  1, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_ETRUNCATED, 0 },
	{ "nothing at all", "", 0, 1, HTTPRESP_ERROR, 0, NULL, NULL, 0, HTTPRESP_ETRUNCATED, 0 },
	/* malformed */
	{ "not HTTP", "<html>gateway</html>\r\n\r\n", 0, 0, HTTPRESP_ERROR, 0, NULL, NULL, 0,
	  HTTPRESP_EMALFORMED, 0 },
	{ "HTTP/2 status line", "HTTP/2 200\r\n\r\n", 0, 0, HTTPRESP_ERROR, 0, NULL, NULL, 0,
	  HTTPRESP_EMALFORMED, 0 },
	{ "two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 0, 0, HTTPRESP_ERROR, 0, NULL, NULL, 0,
	  HTTPRESP_EMALFORMED, 0 },
	{ "status 099", "HTTP/1.1 099 X\r\n\r\n", 0, 0, HTTPRESP_ERROR, 0, NULL, NULL, 0,
	  HTTPRESP_EMALFORMED, 0 },
	{ "status glued to reason", "HTTP/1.1 200OK\r\n\r\n", 0, 0, HTTPRESP_ERROR, 0, NULL, NULL, 0,
	  HTTPRESP_EMALFORMED, 0 },
	{ "empty head", "\r\n\r\n", 0, 0, HTTPRESP_ERROR, 0, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  more\r\nContent-Length: 0\r\n\r\n", 0, 0,
	  HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", 0, 0,
	  HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "no colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", 0, 0, HTTPRESP_ERROR, 200, NULL, NULL,
	  0, HTTPRESP_EMALFORMED, 0 },
	{ "bare CR in a header", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", 0, 0, HTTPRESP_ERROR, 200,
	  NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "control char in a value", "HTTP/1.1 200 OK\r\nX-A: a\x01\r\n\r\n", 0, 0, HTTPRESP_ERROR,
	  200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, HTTPRESP_ERROR,
	  200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "length list", "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx", 0, 0, HTTPRESP_ERROR,
	  200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked"
				"\r\n\r\n1\r\nx\r\n0\r\n\r\n",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, 0,
	  HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
			   "\r\n\r\n",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, 0,
	  HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "chunk size with sign", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 0, 0,
	  HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "huge chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "ffffffffffffffffff\r\n",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "bad trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n",
	  0, 0, HTTPRESP_ERROR, 200, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
	{ "101 switching", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0, 0,
	  HTTPRESP_ERROR, 101, NULL, NULL, 0, HTTPRESP_EMALFORMED, 0 },
};

struct outcome {
	int rc;
	size_t used;
	int status, keep_alive;
	enum httpresp_error err;
	char body[128];
	char headers[512];
};

/* Feed v->in in pieces of at most `step` bytes, the first piece `first` bytes long. */
static void run(const struct vec *v, size_t first, size_t step, struct outcome *o)
{
	struct httpresp r;
	size_t len = strlen(v->in), off = 0;

	memset(o, 0, sizeof(*o));
	httpresp_init(&r, &lim, v->head_request);
	o->rc = HTTPRESP_MORE;
	while (off < len && o->rc == HTTPRESP_MORE) {
		size_t n = off == 0 ? first : step, used = 0;

		if (n > len - off || n == 0)
			n = len - off;
		o->rc = httpresp_feed(&r, v->in + off, n, &used);
		if (o->rc == HTTPRESP_MORE)
			assert_int_equal(used, n);
		o->used += used;
		off += n;
	}
	if (o->rc == HTTPRESP_MORE && v->eof)
		o->rc = httpresp_eof(&r);
	o->status = r.status;
	o->keep_alive = r.keep_alive;
	o->err = r.err;
	if (o->rc == HTTPRESP_DONE) {
		snprintf(o->body, sizeof(o->body), "%s", r.body.data ? r.body.data : "");
		snprintf(o->headers, sizeof(o->headers), "%s", r.headers.data ? r.headers.data : "");
	}
	httpresp_cleanup(&r);
}

static void check(const struct vec *v, const struct outcome *o, const char *how)
{
	if (o->rc != v->want)
		fail_msg("%s (%s): result %d, want %d", v->name, how, o->rc, v->want);
	if (v->status && o->status != v->status)
		fail_msg("%s (%s): status %d, want %d", v->name, how, o->status, v->status);
	if (v->want == HTTPRESP_ERROR) {
		if (o->err != v->err)
			fail_msg("%s (%s): error %d, want %d", v->name, how, o->err, v->err);
		return;
	}
	if (strcmp(o->body, v->body) != 0)
		fail_msg("%s (%s): body \"%s\", want \"%s\"", v->name, how, o->body, v->body);
	if (v->headers && strcmp(o->headers, v->headers) != 0)
		fail_msg("%s (%s): headers \"%s\", want \"%s\"", v->name, how, o->headers, v->headers);
	if (o->keep_alive != v->keep_alive)
		fail_msg("%s (%s): keep-alive %d, want %d", v->name, how, o->keep_alive,
			 v->keep_alive);
	if (o->used != strlen(v->in) - v->extra)
		fail_msg("%s (%s): used %zu, want %zu", v->name, how, o->used,
			 strlen(v->in) - v->extra);
}

static void test_vectors_whole(void **state)
{
	struct outcome o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		run(&vecs[i], 0, 0, &o);
		check(&vecs[i], &o, "whole");
	}
}

static void test_vectors_bytewise(void **state)
{
	struct outcome o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		run(&vecs[i], 1, 1, &o);
		check(&vecs[i], &o, "byte by byte");
	}
}

static void test_vectors_every_split(void **state)
{
	struct outcome o;
	char how[32];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		for (k = 1; k < strlen(vecs[i].in); k++) {
			run(&vecs[i], k, strlen(vecs[i].in), &o);
			snprintf(how, sizeof(how), "split at %zu", k);
			check(&vecs[i], &o, how);
		}
	}
}

/* After DONE or ERROR the parser takes nothing more. */
static void test_finished_stays(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
	struct httpresp r;
	size_t used;

	(void)state;
	httpresp_init(&r, &lim, 0);
	assert_int_equal(httpresp_feed(&r, ok, strlen(ok), &used), HTTPRESP_DONE);
	assert_int_equal(httpresp_feed(&r, "more", 4, &used), HTTPRESP_DONE);
	assert_int_equal(used, 0);
	assert_int_equal(httpresp_eof(&r), HTTPRESP_DONE);
	assert_int_equal(httpresp_fed(&r), strlen(ok));
	httpresp_cleanup(&r);
	httpresp_init(&r, &lim, 0);
	assert_int_equal(httpresp_feed(&r, "junk\r\n\r\n", 8, &used), HTTPRESP_ERROR);
	assert_int_equal(httpresp_feed(&r, ok, strlen(ok), &used), HTTPRESP_ERROR);
	assert_int_equal(httpresp_eof(&r), HTTPRESP_ERROR);
	assert_non_null(r.error);
	httpresp_cleanup(&r);
	/* nothing fed, then EOF: the "empty reply" case the proxy mirrors as a close */
	httpresp_init(&r, &lim, 0);
	assert_int_equal(httpresp_eof(&r), HTTPRESP_ERROR);
	assert_int_equal(r.err, HTTPRESP_ETRUNCATED);
	assert_int_equal(httpresp_fed(&r), 0);
	httpresp_cleanup(&r);
}

/* A body of exactly the cap fits, in every framing. */
static void test_cap_edges(void **state)
{
	char in[512], body[65];
	struct httpresp r;
	size_t used;

	(void)state;
	memset(body, 'a', 64);
	body[64] = '\0';
	snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n%s", body);
	httpresp_init(&r, &lim, 0);
	assert_int_equal(httpresp_feed(&r, in, strlen(in), &used), HTTPRESP_DONE);
	assert_int_equal(r.body.len, 64);
	httpresp_cleanup(&r);
	snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n%s\r\n0\r\n\r\n",
		 body);
	httpresp_init(&r, &lim, 0);
	assert_int_equal(httpresp_feed(&r, in, strlen(in), &used), HTTPRESP_DONE);
	assert_int_equal(r.body.len, 64);
	httpresp_cleanup(&r);
	snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\n\r\n%s", body);
	httpresp_init(&r, &lim, 0);
	assert_int_equal(httpresp_feed(&r, in, strlen(in), &used), HTTPRESP_MORE);
	assert_int_equal(httpresp_eof(&r), HTTPRESP_DONE);
	assert_int_equal(r.body.len, 64);
	httpresp_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_whole),
		cmocka_unit_test(test_vectors_bytewise),
		cmocka_unit_test(test_vectors_every_split),
		cmocka_unit_test(test_finished_stays),
		cmocka_unit_test(test_cap_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
