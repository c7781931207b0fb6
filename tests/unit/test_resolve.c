/*
 * Unit tests: the flows' stub resolver (runner/resolve): query building and
 * answer parsing, with answers made by doorjam's own DNS response builder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "common/dnsmsg.h"
#include "runner/resolve.h"

static int answer(const char *name, uint16_t id, const struct dnsmsg_answer *a, uint8_t *out,
		  size_t cap)
{
	uint8_t q[512];
	struct dnsmsg m;
	int n = resolve_query_build(name, id, q, sizeof(q));

	assert_true(n > 12);
	assert_int_equal(dnsmsg_parse_query(q, (size_t)n, &m, NULL), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.qtype, DNSMSG_TYPE_A);
	assert_true(m.flags & DNSMSG_F_RD);
	return dnsmsg_build(&m, a, out, cap, 512);
}

static void test_answers(void **state)
{
	struct dnsmsg_rr rr[2];
	struct dnsmsg_answer a;
	uint8_t out[512];
	char addr[64], msg[128];
	int n;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(rr, 0, sizeof(rr));
	rr[0].type = DNSMSG_TYPE_CNAME;
	rr[0].ttl = 30;
	rr[0].target = "rpc-a.use1.example";
	rr[1].owner = "rpc-a.use1.example";
	rr[1].type = DNSMSG_TYPE_A;
	rr[1].ttl = 30;
	memcpy(rr[1].addr, "\x0a\x4d\x01\x0a", 4);
	a.rrs = rr;
	a.nrrs = 2;
	n = answer("RPC.example", 0x1234, &a, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 0x1234, "rpc.example", addr,
					      sizeof(addr), msg, sizeof(msg)), 0);
	assert_string_equal(addr, "10.77.1.10");
	/* names compare without regard to case (RFC 4343: the reader folds them) */
	rr[1].owner = "RPC-A.Use1.EXAMPLE";
	n = answer("RPC.example", 0x1234, &a, out, sizeof(out));
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 0x1234, "rpc.example", addr,
					      sizeof(addr), msg, sizeof(msg)), 0);
	assert_string_equal(addr, "10.77.1.10");
	/* an A record for another name does not count */
	memset(&a, 0, sizeof(a));
	rr[1].owner = "elsewhere.example";
	a.rrs = &rr[1];
	a.nrrs = 1;
	n = answer("asked.example", 0x42, &a, out, sizeof(out));
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 0x42, "asked.example", addr,
					      sizeof(addr), msg, sizeof(msg)), -ENODATA);
	rr[1].owner = "rpc-a.use1.example";
	a.rrs = rr;
	a.nrrs = 2;
	n = answer("RPC.example", 0x1234, &a, out, sizeof(out));
	/* a different id or name is not our answer */
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 0x1235, "rpc.example", addr,
					      sizeof(addr), msg, sizeof(msg)), -EPROTO);
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 0x1234, "other.example", addr,
					      sizeof(addr), msg, sizeof(msg)), -EPROTO);
	/* NXDOMAIN and SERVFAIL name themselves */
	memset(&a, 0, sizeof(a));
	a.rcode = DNSMSG_RCODE_NXDOMAIN;
	n = answer("gone.example", 7, &a, out, sizeof(out));
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 7, "gone.example", addr, sizeof(addr),
					      msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "NXDOMAIN");
	a.rcode = DNSMSG_RCODE_SERVFAIL;
	n = answer("gone.example", 7, &a, out, sizeof(out));
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 7, "gone.example", addr, sizeof(addr),
					      msg, sizeof(msg)), -EAGAIN);
	assert_string_equal(msg, "SERVFAIL");
	/* truncated: retry over TCP */
	a.rcode = 0;
	a.truncated = 1;
	n = answer("big.example", 9, &a, out, sizeof(out));
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 9, "big.example", addr, sizeof(addr),
					      msg, sizeof(msg)), 1);
	/* NOERROR without an address */
	a.truncated = 0;
	n = answer("empty.example", 9, &a, out, sizeof(out));
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 9, "empty.example", addr,
					      sizeof(addr), msg, sizeof(msg)), -ENODATA);
	/* garbage and a query (QR clear) are rejected */
	assert_int_equal(resolve_answer_parse((const uint8_t *)"\x00\x01", 2, 1, "x", addr,
					      sizeof(addr), msg, sizeof(msg)), -EBADMSG);
	n = resolve_query_build("x.example", 5, out, sizeof(out));
	assert_int_equal(resolve_answer_parse(out, (size_t)n, 5, "x.example", addr, sizeof(addr),
					      msg, sizeof(msg)), -EPROTO);
	assert_true(resolve_query_build("bad..name", 1, out, sizeof(out)) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
