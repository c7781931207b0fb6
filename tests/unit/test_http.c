/*
 * Unit tests for injector/http: request parser vectors (complete, pipelined,
 * incremental, chunked, over the caps, malformed) and the response writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "injector/http.h"

struct vector {
	const char *name;
	const char *in;
	int rc;              /* expected enum http_parse_result */
	int status;          /* on error */
	const char *body;    /* on done */
};

static const struct vector vectors[] = {
	{ "content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	  HTTP_PARSE_DONE, 0, "hello" },
	{ "no body", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_DONE, 0, "" },
	{ "leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_DONE, 0, "" },
	{ "chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n", HTTP_PARSE_DONE, 0, "Wikipedia" },
	{ "chunked uppercase hex + trailer",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
	  "A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n", HTTP_PARSE_DONE, 0, "0123456789" },
	{ "http/1.0 no host", "POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}", HTTP_PARSE_DONE, 0,
	  "{}" },
	{ "incomplete head", "POST / HTTP/1.1\r\nHost: a\r\n", HTTP_PARSE_MORE, 0, NULL },
	{ "incomplete body", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
	  HTTP_PARSE_MORE, 0, NULL },
	{ "incomplete chunk", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
			      "10\r\nabc", HTTP_PARSE_MORE, 0, NULL },
	{ "chunked without last chunk",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
	  HTTP_PARSE_MORE, 0, NULL },
	{ "missing host", "GET / HTTP/1.1\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "tls hello", "\x16\x03\x01\x02\x00\x01", HTTP_PARSE_ERROR, 400, NULL },
	{ "method too long", "ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n", HTTP_PARSE_ERROR, 400,
	  NULL },
	{ "http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HTTP_PARSE_ERROR, 505, NULL },
	{ "http/2.0 line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", HTTP_PARSE_ERROR, 505, NULL },
	{ "bad version", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "no target", "GET  HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "obs fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", HTTP_PARSE_ERROR, 400,
	  NULL },
	{ "bare lf", "GET / HTTP/1.1\nHost: a\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "bare cr", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "control in value", "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "cl and te", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "te gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	  HTTP_PARSE_ERROR, 501, NULL },
	{ "two te", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n", HTTP_PARSE_ERROR, 501, NULL },
	{ "conflicting cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
			    "Content-Length: 2\r\n\r\nab", HTTP_PARSE_ERROR, 400, NULL },
	{ "same cl twice", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
			   "Content-Length: 2\r\n\r\nab", HTTP_PARSE_DONE, 0, "ab" },
	{ "signed cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +2\r\n\r\nab",
	  HTTP_PARSE_ERROR, 400, NULL },
	{ "list cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nab",
	  HTTP_PARSE_ERROR, 400, NULL },
	{ "huge cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
	  HTTP_PARSE_ERROR, 400, NULL },
	{ "cl over cap", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n",
	  HTTP_PARSE_ERROR, 413, NULL },
	{ "chunked over cap", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
			      "800\r\n", HTTP_PARSE_ERROR, 413, NULL },
	{ "chunk size not hex", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				"zz\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "chunk size junk", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "3x\r\nabc\r\n0\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "chunk size overflow",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "10000000000000003\r\nabc\r\n0\r\n\r\n", HTTP_PARSE_ERROR, 400, NULL },
	{ "chunk data without crlf",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
	  HTTP_PARSE_ERROR, 400, NULL },
	{ "chunked in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	  HTTP_PARSE_ERROR, 400, NULL },
	{ "expect other", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", HTTP_PARSE_ERROR,
	  417, NULL },
};

static struct http_limits small_limits(void)
{
	struct http_limits lim;

	http_limits_default(&lim);
	lim.max_head = 256;
	lim.max_headers = 8;
	lim.max_body = 1024;
	return lim;
}

static void test_vectors(void **state)
{
	struct http_limits lim = small_limits();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		struct http_request req;
		size_t used = 0;
		int rc;

		http_request_init(&req);
		rc = http_request_parse(v->in, strlen(v->in), &lim, &req, &used);
		if (rc != v->rc)
			fail_msg("%s: rc %d, want %d (%s)", v->name, rc, v->rc,
				 req.error ? req.error : "");
		if (rc == HTTP_PARSE_ERROR && req.status != v->status)
			fail_msg("%s: status %d, want %d", v->name, req.status, v->status);
		if (rc == HTTP_PARSE_ERROR)
			assert_non_null(req.error);
		if (rc == HTTP_PARSE_DONE) {
			assert_int_equal(used, strlen(v->in));
			assert_int_equal(req.body_len, strlen(v->body));
			if (strcmp(req.body, v->body) != 0)
				fail_msg("%s: body \"%s\", want \"%s\"", v->name, req.body, v->body);
		}
		http_request_cleanup(&req);
	}
}

static void test_fields(void **state)
{
	const char *in = "POST /v3/key HTTP/1.1\r\nHost: rpc.example:8545\r\n"
			 "content-type:application/json \r\nX-Empty:\r\nContent-Length: 2\r\n\r\n{}";
	struct http_limits lim = small_limits();
	struct http_request req;
	size_t used;

	(void)state;
	http_request_init(&req);
	assert_int_equal(http_request_parse(in, strlen(in), &lim, &req, &used), HTTP_PARSE_DONE);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.target, "/v3/key");
	assert_int_equal(req.minor, 1);
	assert_string_equal(req.host, "rpc.example:8545");
	assert_string_equal(http_request_header(&req, "Content-Type"), "application/json");
	assert_string_equal(http_request_header(&req, "x-empty"), "");
	assert_null(http_request_header(&req, "missing"));
	assert_int_equal(req.nheaders, 4);
	assert_true(req.keep_alive);
	assert_int_equal(req.content_length, 2);
	http_request_cleanup(&req);
}

static void test_keep_alive(void **state)
{
	static const struct {
		const char *in;
		int keep;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, Close\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1 },
	};
	struct http_limits lim = small_limits();
	size_t i, used;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_request req;

		http_request_init(&req);
		assert_int_equal(http_request_parse(cases[i].in, strlen(cases[i].in), &lim, &req,
						    &used), HTTP_PARSE_DONE);
		assert_int_equal(req.keep_alive, cases[i].keep);
		http_request_cleanup(&req);
	}
}

static void test_pipelined(void **state)
{
	const char *in = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\none"
			 "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "3\r\ntwo\r\n0\r\n\r\n"
			 "GET /three HTTP/1.1\r\nHost: a\r\n\r\nGET /fo";
	struct http_limits lim = small_limits();
	struct http_request req;
	size_t off = 0, used;

	(void)state;
	http_request_init(&req);
	assert_int_equal(http_request_parse(in, strlen(in), &lim, &req, &used), HTTP_PARSE_DONE);
	assert_string_equal(req.body, "one");
	off += used;
	assert_int_equal(http_request_parse(in + off, strlen(in) - off, &lim, &req, &used),
			 HTTP_PARSE_DONE);
	assert_string_equal(req.body, "two");
	off += used;
	assert_int_equal(http_request_parse(in + off, strlen(in) - off, &lim, &req, &used),
			 HTTP_PARSE_DONE);
	assert_string_equal(req.target, "/three");
	off += used;
	assert_int_equal(http_request_parse(in + off, strlen(in) - off, &lim, &req, &used),
			 HTTP_PARSE_MORE);
	http_request_cleanup(&req);
}

/* Every prefix of a complete request asks for more; only the whole is done. */
static void test_incremental(void **state)
{
	const char *in = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n";
	struct http_limits lim = small_limits();
	struct http_request req;
	size_t n, used, len = strlen(in);

	(void)state;
	http_request_init(&req);
	for (n = 0; n < len; n++) {
		int rc = http_request_parse(in, n, &lim, &req, &used);

		if (rc != HTTP_PARSE_MORE)
			fail_msg("prefix of %zu bytes: rc %d (%s)", n, rc, req.error ? req.error : "");
	}
	assert_int_equal(http_request_parse(in, len, &lim, &req, &used), HTTP_PARSE_DONE);
	assert_string_equal(req.body, "hello!");
	http_request_cleanup(&req);
}

static void test_caps(void **state)
{
	struct http_limits lim = small_limits();
	struct http_request req;
	char in[2048];
	size_t used, i, n;

	(void)state;
	http_request_init(&req);
	/* a head that never ends fails once it crosses max_head */
	n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\nX-Long: ");
	memset(in + n, 'a', 300);
	assert_int_equal(http_request_parse(in, n + 300, &lim, &req, &used), HTTP_PARSE_ERROR);
	assert_int_equal(req.status, 431);
	/* just under the cap is still "more" */
	assert_int_equal(http_request_parse(in, 200, &lim, &req, &used), HTTP_PARSE_MORE);
	/* too many header lines */
	n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < 9; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "X%zu: 1\r\n", i);
	n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\n");
	assert_int_equal(http_request_parse(in, n, &lim, &req, &used), HTTP_PARSE_ERROR);
	assert_int_equal(req.status, 431);
	/* trailers count against max_head */
	n = (size_t)snprintf(in, sizeof(in), "POST / HTTP/1.1\r\nHost: a\r\n"
					     "Transfer-Encoding: chunked\r\n\r\n0\r\nX: ");
	memset(in + n, 'b', 400);
	assert_int_equal(http_request_parse(in, n + 400, &lim, &req, &used), HTTP_PARSE_ERROR);
	assert_int_equal(req.status, 431);
	http_request_cleanup(&req);
}

static void test_expect_continue(void **state)
{
	const char *in = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
			 "Content-Length: 4\r\n\r\n";
	struct http_limits lim = small_limits();
	struct http_request req;
	size_t used;

	(void)state;
	http_request_init(&req);
	assert_int_equal(http_request_parse(in, strlen(in), &lim, &req, &used), HTTP_PARSE_MORE);
	assert_int_equal(req.head_len, strlen(in));
	assert_true(req.expect_continue);
	http_request_cleanup(&req);
}

static void test_response(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(http_response_write(&b, 429, "Content-Type: application/json\r\n", "{}", 2,
					     1), 0);
	assert_string_equal(b.data, "HTTP/1.1 429 Too Many Requests\r\n"
				    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
	buf_reset(&b);
	assert_int_equal(http_response_write(&b, 599, NULL, NULL, 0, 0), 0);
	assert_string_equal(b.data, "HTTP/1.1 599 Unknown\r\nContent-Length: 0\r\n"
				    "Connection: close\r\n\r\n");
	buf_cleanup(&b);
	/* a cap too small for the answer is an error, not a short write */
	buf_init(&b, 10);
	assert_int_not_equal(http_response_write(&b, 200, NULL, "x", 1, 1), 0);
	buf_cleanup(&b);
}

static void test_hop(void **state)
{
	(void)state;
	assert_true(http_header_is_hop("Connection", 10));
	assert_true(http_header_is_hop("transfer-encoding", 17));
	assert_true(http_header_is_hop("Content-Length", 14));
	assert_false(http_header_is_hop("Content-Type", 12));
	assert_false(http_header_is_hop("Retry-After", 11));
	assert_false(http_header_is_hop("Connectionx", 11));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_hop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
