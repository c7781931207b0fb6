/*
 * Unit tests for common/dnsmsg: parser vectors (valid, and each malformed
 * case the parser must refuse), names and patterns, response building.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/dnsmsg.h"

/* A query for "www.Example.com" A, RD set, no EDNS. */
static const uint8_t q_plain[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0, 1, 0, 1,
};

/* The same query with an OPT record (UDP size 4096, version 0). */
static const uint8_t q_edns[] = {
	0x12, 0x35, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0, 28, 0, 1,
	0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0,
};

/* A response with one answer whose owner is a pointer back to the question. */
static const uint8_t r_ptr[] = {
	0x00, 0x07, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
	1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
	0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 77, 1, 10,
};

static int parse(const uint8_t *p, size_t len, struct dnsmsg *m)
{
	struct err e;

	err_clear(&e);
	return dnsmsg_parse(p, len, m, &e);
}

static void test_parse_plain(void **state)
{
	struct dnsmsg m;
	struct err e;

	(void)state;
	assert_int_equal(dnsmsg_parse_query(q_plain, sizeof(q_plain), &m, &e), 0);
	assert_int_equal(m.id, 0x1234);
	assert_string_equal(m.qname, "www.example.com");
	assert_int_equal(m.qtype, DNSMSG_TYPE_A);
	assert_int_equal(m.qclass, DNSMSG_CLASS_IN);
	assert_int_equal(m.qname_wire_len, 17);
	assert_int_equal(m.qname_wire[5], 'E');   /* case kept on the wire */
	assert_false(m.has_edns);
	assert_int_equal(dnsmsg_udp_limit(&m), 512);
}

static void test_parse_edns(void **state)
{
	struct dnsmsg m;

	(void)state;
	assert_int_equal(parse(q_edns, sizeof(q_edns), &m), 0);
	assert_true(m.has_edns);
	assert_int_equal(m.edns_udp_size, 4096);
	assert_int_equal(m.edns_version, 0);
	assert_int_equal(m.qtype, DNSMSG_TYPE_AAAA);
	/* Clamped to what doorjam sends over UDP. */
	assert_int_equal(dnsmsg_udp_limit(&m), DNSMSG_UDP_OURS);
}

static void test_parse_backward_pointer(void **state)
{
	struct dnsmsg m;

	(void)state;
	assert_int_equal(parse(r_ptr, sizeof(r_ptr), &m), 0);
	assert_int_equal(m.ancount, 1);
	assert_string_equal(m.qname, "a.example");
}

static void test_query_rejects_response(void **state)
{
	struct dnsmsg m;
	struct err e;

	(void)state;
	assert_int_equal(dnsmsg_parse_query(r_ptr, sizeof(r_ptr), &m, &e), -EPROTO);
}

/* Copy base, apply one change, expect the parser to refuse it. */
static void expect_bad(const uint8_t *p, size_t len, const char *why)
{
	struct dnsmsg m;
	struct err e;

	err_clear(&e);
	if (dnsmsg_parse(p, len, &m, &e) != -EBADMSG)
		fail_msg("accepted a message with %s", why);
	assert_true(e.msg[0] != '\0');
}

static void test_reject_pointer_loop(void **state)
{
	/* The question name is a pointer to itself. */
	const uint8_t p[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	/* Two names pointing at each other: the answer owner at 27 points to
	 * 29, which points back to 27. */
	const uint8_t p2[] = { 0, 1, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0,
			       1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
			       0xc0, 29, 0xc0, 27, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0 };
	/* A label, then a pointer back to that label's start: a loop. */
	const uint8_t p3[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1 };

	(void)state;
	expect_bad(p, sizeof(p), "a self-pointer");
	expect_bad(p2, sizeof(p2), "a two-pointer loop");
	expect_bad(p3, sizeof(p3), "a label-pointer loop");
}

static void test_reject_forward_pointer(void **state)
{
	/* The question name points forward to offset 20. */
	const uint8_t p[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 18, 0, 1, 0, 1,
			      1, 'a', 0 };
	/* A pointer into the header. */
	const uint8_t p2[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 4, 0, 1, 0, 1 };
	/* A pointer cut off at the end. */
	const uint8_t p3[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0 };

	(void)state;
	expect_bad(p, sizeof(p), "a forward pointer");
	expect_bad(p2, sizeof(p2), "a pointer into the header");
	expect_bad(p3, sizeof(p3), "a cut-off pointer");
}

static void test_reject_long_label(void **state)
{
	uint8_t p[12 + 1 + 64 + 1 + 4] = { 0, 1, 0, 0, 0, 1 };
	const uint8_t reserved[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1 };

	(void)state;
	p[12] = 64;
	memset(p + 13, 'a', 64);
	p[13 + 64] = 0;
	p[13 + 64 + 2] = 1;
	p[13 + 64 + 4] = 1;
	expect_bad(p, sizeof(p), "a 64-octet label");
	expect_bad(reserved, sizeof(reserved), "a reserved label type (0x41)");
	/* 63 is fine. */
	{
		uint8_t ok[12 + 1 + 63 + 1 + 4] = { 0, 1, 0, 0, 0, 1 };
		struct dnsmsg m;

		ok[12] = 63;
		memset(ok + 13, 'a', 63);
		ok[13 + 63 + 2] = 1;
		ok[13 + 63 + 4] = 1;
		assert_int_equal(parse(ok, sizeof(ok), &m), 0);
		assert_int_equal(strlen(m.qname), 63);
	}
}

static void test_reject_long_name(void **state)
{
	/* Four 63-octet labels: 4 * 64 + 1 = 257 octets. */
	uint8_t p[12 + 257 + 4] = { 0, 1, 0, 0, 0, 1 };
	uint8_t ok[12 + 255 + 4] = { 0, 1, 0, 0, 0, 1 };
	struct dnsmsg m;
	size_t i, o = 12;

	(void)state;
	for (i = 0; i < 4; i++) {
		p[o] = 63;
		memset(p + o + 1, 'x', 63);
		o += 64;
	}
	p[o] = 0;
	p[o + 2] = 1;
	p[o + 4] = 1;
	expect_bad(p, sizeof(p), "a 257-octet name");
	/* 3 * 64 + 62 + 1 = 255 octets is the longest allowed. */
	o = 12;
	for (i = 0; i < 3; i++) {
		ok[o] = 63;
		memset(ok + o + 1, 'x', 63);
		o += 64;
	}
	ok[o] = 61;
	memset(ok + o + 1, 'y', 61);
	o += 62;
	ok[o] = 0;
	ok[o + 2] = 1;
	ok[o + 4] = 1;
	assert_int_equal(o + 5, sizeof(ok));
	assert_int_equal(parse(ok, sizeof(ok), &m), 0);
	assert_int_equal(m.qname_wire_len, 255);
}

static void test_reject_counts(void **state)
{
	uint8_t p[sizeof(q_plain)];

	(void)state;
	memcpy(p, q_plain, sizeof(p));
	p[6] = 0xff;                       /* ancount 65280 */
	expect_bad(p, sizeof(p), "an answer count larger than the packet");
	memcpy(p, q_plain, sizeof(p));
	p[11] = 1;                         /* one additional record that is not there */
	expect_bad(p, sizeof(p), "an additional count with no record");
	memcpy(p, q_plain, sizeof(p));
	p[5] = 2;                          /* two questions */
	expect_bad(p, sizeof(p), "two questions");
	expect_bad(q_plain, 11, "a short header");
	expect_bad(q_plain, sizeof(q_plain) - 1, "a cut-off question");
}

static void test_reject_rdata_and_junk(void **state)
{
	uint8_t p[sizeof(r_ptr) + 1];
	const uint8_t two_opt[] = {
		0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0,
	};

	(void)state;
	memcpy(p, r_ptr, sizeof(r_ptr));
	p[sizeof(r_ptr) - 5] = 5;          /* rdlength 5, 4 bytes present */
	expect_bad(p, sizeof(r_ptr), "record data running past the end");
	memcpy(p, r_ptr, sizeof(r_ptr));
	p[sizeof(r_ptr)] = 0;
	expect_bad(p, sizeof(r_ptr) + 1, "a trailing byte");
	expect_bad(two_opt, sizeof(two_opt), "two OPT records");
}

static void test_names(void **state)
{
	char out[DNSMSG_TEXT_MAX];
	uint8_t wire[DNSMSG_WIRE_MAX];
	struct err e;
	char big[300];

	(void)state;
	assert_int_equal(dnsmsg_name_canon("RPC-A.Example.", out, &e), 0);
	assert_string_equal(out, "rpc-a.example");
	assert_int_equal(dnsmsg_name_canon("a\\.b.c", out, &e), 0);
	assert_string_equal(out, "a\\046b.c");
	assert_int_equal(dnsmsg_name_canon(".", out, &e), 0);
	assert_string_equal(out, "");
	assert_int_equal(dnsmsg_name_canon("a..b", out, &e), -EINVAL);
	memset(big, 'a', 64);
	big[64] = '\0';
	assert_int_equal(dnsmsg_name_canon(big, out, &e), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 50; i < sizeof(big) - 1; i += 51)
		big[i] = '.';
	assert_int_equal(dnsmsg_name_canon(big, out, &e), -EINVAL);
	assert_int_equal(dnsmsg_name_encode("a.bc", wire, sizeof(wire), &e), 6);
	assert_memory_equal(wire, "\1a\2bc", 6);
}

static void test_patterns(void **state)
{
	(void)state;
	assert_true(dnsmsg_pattern_match("*.example.com", "a.example.com"));
	assert_true(dnsmsg_pattern_match("*.example.com", "x.y.example.com"));
	assert_true(dnsmsg_pattern_match("*.example.com", "A.Example.COM"));
	assert_false(dnsmsg_pattern_match("*.example.com", "example.com"));
	assert_false(dnsmsg_pattern_match("*.example.com", "badexample.com"));
	assert_false(dnsmsg_pattern_match("*.example.com", "a.example.com.evil"));
	/* A dot inside a label is \046 in text form, never a boundary. */
	assert_false(dnsmsg_pattern_match("*.example.com", "a\\046example.com"));
	assert_false(dnsmsg_pattern_match("*.b.c", "a\\046b.c"));
	assert_true(dnsmsg_pattern_match("rpc-a.example", "RPC-A.example"));
	assert_false(dnsmsg_pattern_match("rpc-a.example", "x.rpc-a.example"));
	assert_true(dnsmsg_pattern_match("*", "anything.at.all"));
}

static void test_types(void **state)
{
	char b[16];
	uint16_t t;

	(void)state;
	assert_int_equal(dnsmsg_type_parse("aaaa", &t), 0);
	assert_int_equal(t, DNSMSG_TYPE_AAAA);
	assert_int_equal(dnsmsg_type_parse("TYPE65", &t), 0);
	assert_int_equal(t, 65);
	assert_int_equal(dnsmsg_type_parse("TYPE0", &t), -EINVAL);
	assert_int_equal(dnsmsg_type_parse("TYPE70000", &t), -EINVAL);
	assert_int_equal(dnsmsg_type_parse("AX", &t), -EINVAL);
	assert_string_equal(dnsmsg_type_name(99, b), "TYPE99");
	assert_string_equal(dnsmsg_rcode_name(3, b), "NXDOMAIN");
}

static void test_build_answer(void **state)
{
	struct dnsmsg q, r;
	struct dnsmsg_rr rr[2];
	struct dnsmsg_answer a = { .rcode = 0, .authoritative = 1, .rrs = rr, .nrrs = 2 };
	uint8_t out[1024];
	char sum[128];
	int n;

	(void)state;
	memset(rr, 0, sizeof(rr));
	rr[0].type = DNSMSG_TYPE_CNAME;
	rr[0].ttl = 60;
	rr[0].target = "rpc-a.example";
	rr[1].owner = "rpc-a.example";
	rr[1].type = DNSMSG_TYPE_A;
	rr[1].ttl = 60;
	memcpy(rr[1].addr, "\x0a\x4d\x01\x0a", 4);
	assert_int_equal(parse(q_plain, sizeof(q_plain), &q), 0);
	n = dnsmsg_build(&q, &a, out, sizeof(out), 512);
	assert_true(n > 0);
	assert_int_equal(parse(out, (size_t)n, &r), 0);
	assert_int_equal(r.id, 0x1234);
	assert_true(r.flags & DNSMSG_F_QR);
	assert_true(r.flags & DNSMSG_F_AA);
	assert_true(r.flags & DNSMSG_F_RD);
	assert_false(r.flags & DNSMSG_F_TC);
	assert_int_equal(r.ancount, 2);
	/* The question is echoed as the client wrote it. */
	assert_memory_equal(out + 12, q_plain + 12, sizeof(q_plain) - 12);
	assert_string_equal(dnsmsg_summary(out, (size_t)n, sum, sizeof(sum)),
			    "NOERROR CNAME rpc-a.example A 10.77.1.10");
}

static void test_build_truncates(void **state)
{
	struct dnsmsg q, r;
	struct dnsmsg_rr rr[40];
	struct dnsmsg_answer a = { .rrs = rr, .nrrs = 40 };
	uint8_t out[2048];
	char sum[64];
	int n, i;

	(void)state;
	memset(rr, 0, sizeof(rr));
	for (i = 0; i < 40; i++) {
		rr[i].type = DNSMSG_TYPE_A;
		rr[i].addr[3] = (uint8_t)i;
	}
	assert_int_equal(parse(q_plain, sizeof(q_plain), &q), 0);
	/* 33 + 40 * 16 = 673 bytes: over 512 without EDNS. */
	n = dnsmsg_build(&q, &a, out, sizeof(out), dnsmsg_udp_limit(&q));
	assert_int_equal(n, (int)sizeof(q_plain));
	assert_int_equal(parse(out, (size_t)n, &r), 0);
	assert_true(r.flags & DNSMSG_F_TC);
	assert_int_equal(r.ancount, 0);
	assert_string_equal(dnsmsg_summary(out, (size_t)n, sum, sizeof(sum)), "NOERROR TC");
	/* Over TCP it all fits. */
	n = dnsmsg_build(&q, &a, out, sizeof(out), DNSMSG_MSG_MAX);
	assert_int_equal(n, 33 + 40 * 16);
	assert_int_equal(parse(out, (size_t)n, &r), 0);
	assert_int_equal(r.ancount, 40);
	assert_false(r.flags & DNSMSG_F_TC);
	/* A cut summary says so. */
	dnsmsg_summary(out, (size_t)n, sum, sizeof(sum));
	assert_true(strlen(sum) < sizeof(sum));
	assert_non_null(strstr(sum, " ..."));
}

static void test_build_negative(void **state)
{
	struct dnsmsg q, r;
	struct dnsmsg_answer a = { .rcode = DNSMSG_RCODE_NXDOMAIN, .authoritative = 1,
				   .soa_owner = "example.com", .soa_ttl = 30 };
	uint8_t out[512];
	int n;

	(void)state;
	assert_int_equal(parse(q_edns, sizeof(q_edns), &q), 0);
	n = dnsmsg_build(&q, &a, out, sizeof(out), dnsmsg_udp_limit(&q));
	assert_true(n > 0);
	assert_int_equal(parse(out, (size_t)n, &r), 0);
	assert_int_equal(DNSMSG_RCODE(r.flags), DNSMSG_RCODE_NXDOMAIN);
	assert_int_equal(r.nscount, 1);
	assert_true(r.has_edns);
	assert_int_equal(r.edns_udp_size, DNSMSG_UDP_OURS);
	/* SOA MINIMUM is the last 4 bytes before the OPT record (11 bytes). */
	assert_memory_equal(out + n - 11 - 4, "\0\0\0\x1e", 4);
	/* The SOA's own TTL is the negative TTL too (owner, type, class, TTL). */
	assert_memory_equal(out + sizeof(q_edns) - 11 + 13 + 4, "\0\0\0\x1e", 4);
}

static void test_build_formerr(void **state)
{
	uint8_t out[64];
	struct dnsmsg r;

	(void)state;
	assert_int_equal(dnsmsg_build_formerr(q_plain, 12, out, sizeof(out)), 12);
	assert_int_equal(parse(out, 12, &r), 0);
	assert_int_equal(DNSMSG_RCODE(r.flags), DNSMSG_RCODE_FORMERR);
	assert_int_equal(r.id, 0x1234);
	assert_int_equal(dnsmsg_build_formerr(r_ptr, sizeof(r_ptr), out, sizeof(out)), -EINVAL);
	assert_int_equal(dnsmsg_build_formerr(q_plain, 11, out, sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_parse_edns),
		cmocka_unit_test(test_parse_backward_pointer),
		cmocka_unit_test(test_query_rejects_response),
		cmocka_unit_test(test_reject_pointer_loop),
		cmocka_unit_test(test_reject_forward_pointer),
		cmocka_unit_test(test_reject_long_label),
		cmocka_unit_test(test_reject_long_name),
		cmocka_unit_test(test_reject_counts),
		cmocka_unit_test(test_reject_rdata_and_junk),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_build_answer),
		cmocka_unit_test(test_build_truncates),
		cmocka_unit_test(test_build_negative),
		cmocka_unit_test(test_build_formerr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
