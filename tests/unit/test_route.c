/*
 * Unit tests for injector/route, injector/nl's ext-ack parser and the net.*
 * validation in runner/fault_net: prefix parsing (strict, fails closed),
 * the rtnetlink messages for routes and rules (decoded back attribute by
 * attribute), and fault validation with its JSON pointers. No root needed:
 * nothing here talks to the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "injector/nl.h"
#include "injector/route.h"
#include "runner/check.h"
#include "runner/fault.h"
#include "runner/scenario.h"

static void test_prefix_good(void **state)
{
	struct route_prefix p;
	struct err e;
	char out[64];

	(void)state;
	assert_int_equal(route_prefix_parse("10.77.0.0/16", &p, &e), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 16);
	assert_string_equal(route_prefix_format(&p, out, sizeof(out)), "10.77.0.0/16");
	assert_int_equal(route_prefix_parse("2001:db8::/32", &p, &e), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.len, 32);
	assert_string_equal(route_prefix_format(&p, out, sizeof(out)), "2001:db8::/32");
	assert_int_equal(route_prefix_parse("192.0.2.7", &p, &e), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(route_prefix_parse("0.0.0.0/0", &p, &e), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(route_prefix_parse("fd77::1", &p, &e), 0);
	assert_int_equal(p.len, 128);
}

static void test_prefix_bad(void **state)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/8x", "10.0.0.0/-1",
		"10.0.0.0/08", "10.0.0/8", "10.1.2.3/16", "2001:db8::1/32", "2001:db8::/129",
		"host.example/24", "10.0.0.0/8 ", " 10.0.0.0/8", "::/+0",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999/64",
	};
	struct route_prefix p;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (route_prefix_parse(bad[i], &p, &e) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(e.msg[0] != '\0');
	}
	assert_int_equal(route_prefix_parse("10.1.2.3/16", &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "host bits"));
}

/* Walk the attributes of a built message. */
static struct nlattr *attr_of(struct nl_msg *m, size_t hdrlen, int type)
{
	struct nlattr *tb[RTA_MAX + FRA_MAX + 2];

	memset(tb, 0, sizeof(tb));
	assert_int_equal(nlmsg_parse(nlmsg_hdr(m), (int)hdrlen, tb, RTA_MAX > FRA_MAX ? RTA_MAX : FRA_MAX,
				     NULL), 0);
	return tb[type];
}

static void test_route_msg(void **state)
{
	struct route_prefix p;
	struct err e;
	struct nl_msg *m;
	struct rtmsg *rt;
	struct nlattr *a;

	(void)state;
	assert_int_equal(route_prefix_parse("fd77:2::/64", &p, &e), 0);
	m = route_msg(RTM_NEWROUTE, RTN_UNREACHABLE, ROUTE_TABLE_BASE + 3, &p);
	assert_non_null(m);
	assert_int_equal(nlmsg_hdr(m)->nlmsg_type, RTM_NEWROUTE);
	assert_int_equal(nlmsg_hdr(m)->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL),
			 NLM_F_CREATE | NLM_F_EXCL);
	rt = nlmsg_data(nlmsg_hdr(m));
	assert_int_equal(rt->rtm_family, AF_INET6);
	assert_int_equal(rt->rtm_dst_len, 64);
	assert_int_equal(rt->rtm_type, RTN_UNREACHABLE);
	assert_int_equal(rt->rtm_protocol, ROUTE_PROTO);
	assert_int_equal(rt->rtm_table, RT_TABLE_UNSPEC); /* > 255: only in RTA_TABLE */
	a = attr_of(m, sizeof(*rt), RTA_TABLE);
	assert_non_null(a);
	assert_int_equal(nla_get_u32(a), ROUTE_TABLE_BASE + 3);
	a = attr_of(m, sizeof(*rt), RTA_DST);
	assert_non_null(a);
	assert_int_equal(nla_len(a), 16);
	assert_memory_equal(nla_data(a), p.addr, 16);
	nlmsg_free(m);

	/* a delete matches any scope, and only doorjam's protocol */
	assert_int_equal(route_prefix_parse("10.77.2.0/24", &p, &e), 0);
	m = route_msg(RTM_DELROUTE, RTN_BLACKHOLE, 200, &p);
	rt = nlmsg_data(nlmsg_hdr(m));
	assert_int_equal(nlmsg_hdr(m)->nlmsg_flags & NLM_F_CREATE, 0);
	assert_int_equal(rt->rtm_scope, RT_SCOPE_NOWHERE);
	assert_int_equal(rt->rtm_protocol, ROUTE_PROTO);
	assert_int_equal(rt->rtm_table, 200);
	assert_int_equal(nla_len(attr_of(m, sizeof(*rt), RTA_DST)), 4);
	nlmsg_free(m);

	/* a default route has no RTA_DST at all */
	assert_int_equal(route_prefix_parse("0.0.0.0/0", &p, &e), 0);
	m = route_msg(RTM_NEWROUTE, RTN_PROHIBIT, ROUTE_TABLE_BASE, &p);
	assert_null(attr_of(m, sizeof(struct rtmsg), RTA_DST));
	nlmsg_free(m);
}

static void test_rule_msg(void **state)
{
	struct nl_msg *m = route_rule_msg(RTM_NEWRULE, AF_INET, ROUTE_PRIO_BASE + 1,
					  ROUTE_TABLE_BASE + 1);
	struct fib_rule_hdr *fr;

	(void)state;
	assert_non_null(m);
	fr = nlmsg_data(nlmsg_hdr(m));
	assert_int_equal(fr->family, AF_INET);
	assert_int_equal(fr->action, FR_ACT_TO_TBL);
	assert_int_equal(nla_get_u32(attr_of(m, sizeof(*fr), FRA_PRIORITY)), ROUTE_PRIO_BASE + 1);
	assert_int_equal(nla_get_u32(attr_of(m, sizeof(*fr), FRA_TABLE)), ROUTE_TABLE_BASE + 1);
	assert_int_equal(nla_get_u8(attr_of(m, sizeof(*fr), FRA_PROTOCOL)), ROUTE_PROTO);
	nlmsg_free(m);
}

/* An NLMSG_ERROR with NLM_F_CAPPED|NLM_F_ACK_TLVS and an NLMSGERR_ATTR_MSG. */
static size_t build_err(unsigned char *buf, size_t cap, const char *text, int capped,
			int truncate)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlmsgerr *e;
	struct nlattr *a;
	size_t off, tl = strlen(text) + 1;

	memset(buf, 0, cap);
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_flags = NLM_F_ACK_TLVS | (capped ? NLM_F_CAPPED : 0);
	e = NLMSG_DATA(h);
	e->error = -ENOENT;
	e->msg.nlmsg_len = NLMSG_HDRLEN + 8; /* the request had 8 bytes of body */
	off = NLMSG_HDRLEN + sizeof(*e) + (capped ? 0 : 8);
	a = (struct nlattr *)(buf + off);
	a->nla_type = NLMSGERR_ATTR_MSG;
	a->nla_len = (unsigned short)(sizeof(*a) + tl);
	memcpy(a + 1, text, tl);
	h->nlmsg_len = (unsigned)(off + NLA_ALIGN(a->nla_len));
	if (truncate)
		a->nla_len = 0xfff0; /* claims more than the message holds */
	return h->nlmsg_len;
}

static void test_extack(void **state)
{
	unsigned char buf[512];
	char out[128];
	size_t n;

	(void)state;
	n = build_err(buf, sizeof(buf), "Specified qdisc kind is unknown", 1, 0);
	nl_ns_extack((struct nlmsghdr *)buf, n, out, sizeof(out));
	assert_string_equal(out, "Specified qdisc kind is unknown");
	n = build_err(buf, sizeof(buf), "Specified class not found", 0, 0);
	nl_ns_extack((struct nlmsghdr *)buf, n, out, sizeof(out));
	assert_string_equal(out, "Specified class not found");
	/* a lying attribute length is ignored, never read past the message */
	n = build_err(buf, sizeof(buf), "x", 1, 1);
	nl_ns_extack((struct nlmsghdr *)buf, n, out, sizeof(out));
	assert_string_equal(out, "");
	/* a short buffer gives nothing */
	nl_ns_extack((struct nlmsghdr *)buf, 10, out, sizeof(out));
	assert_string_equal(out, "");
	/* truncated into a small output */
	n = build_err(buf, sizeof(buf), "Specified qdisc kind is unknown", 1, 0);
	nl_ns_extack((struct nlmsghdr *)buf, n, out, 10);
	assert_string_equal(out, "Specified");
}

/* Validate one fault object; returns the validate result and the first diagnostic. */
static int validate(const char *json, const struct scenario *sc, char *diag, size_t dlen,
		    void **params)
{
	struct diags d;
	struct check c;
	json_error_t je;
	json_t *obj = json_loads(json, 0, &je);
	const struct fault_ops *ops;
	int rc;

	assert_non_null(obj);
	ops = fault_lookup(json_string_value(json_object_get(obj, "kind")));
	assert_non_null(ops);
	diags_init(&d);
	check_init(&c, "s.json", json, strlen(json), &d);
	*params = NULL;
	rc = ops->validate(&c, sc, obj, "/faults/0", params);
	diag[0] = '\0';
	if (d.n)
		diag_format(&d.v[0], diag, dlen);
	diags_cleanup(&d);
	json_decref(obj);
	if (rc == 0) {
		ops->free_params(*params);
		*params = NULL;
	}
	return rc;
}

static void test_fault_validate(void **state)
{
	struct scenario sc;
	struct region r;
	char *pfx[] = { (char *)"10.77.2.0/24", (char *)"fd77:2::/64" };
	char diag[1024];
	void *p;

	(void)state;
	memset(&sc, 0, sizeof(sc));
	memset(&r, 0, sizeof(r));
	r.name = (char *)"use1";
	r.prefixes = pfx;
	r.nprefixes = 2;
	sc.regions = &r;
	sc.nregions = 1;

	assert_int_equal(validate("{\"kind\":\"net.unreachable\",\"region\":\"use1\"}", &sc,
				  diag, sizeof(diag), &p), 0);
	assert_int_equal(validate("{\"kind\":\"net.blackhole\",\"prefixes\":\"10.0.0.0/8\"}", &sc,
				  diag, sizeof(diag), &p), 0);
	assert_int_equal(validate("{\"kind\":\"net.unreachable\",\"region\":\"euw1\"}", &sc,
				  diag, sizeof(diag), &p), -1);
	assert_non_null(strstr(diag, "/faults/0/region"));
	assert_non_null(strstr(diag, "no region called \"euw1\""));
	assert_int_equal(validate("{\"kind\":\"net.prohibit\"}", &sc, diag, sizeof(diag), &p), -1);
	assert_non_null(strstr(diag, "needs \"prefixes\""));
	assert_int_equal(validate("{\"kind\":\"net.unreachable\",\"prefixes\":[\"10.0.0.0/8\","
				  "\"10.1.2.3/16\"]}", &sc, diag, sizeof(diag), &p), -1);
	assert_non_null(strstr(diag, "/faults/0/prefixes/1"));

	assert_int_equal(validate("{\"kind\":\"net.delay\",\"delay\":\"100ms\",\"jitter\":\"10ms\","
				  "\"distribution\":\"normal\",\"ports\":[443]}", &sc,
				  diag, sizeof(diag), &p), 0);
	assert_int_equal(validate("{\"kind\":\"net.delay\",\"delay\":\"100ms\","
				  "\"distribution\":\"normal\"}", &sc, diag, sizeof(diag), &p), -1);
	assert_non_null(strstr(diag, "needs \"jitter\""));
	assert_int_equal(validate("{\"kind\":\"net.delay\"}", &sc, diag, sizeof(diag), &p), -1);
	assert_non_null(strstr(diag, "delay"));
	assert_int_equal(validate("{\"kind\":\"net.loss\",\"loss\":\"20%\",\"ports\":[0]}", &sc,
				  diag, sizeof(diag), &p), -1);
	assert_non_null(strstr(diag, "/faults/0/ports/0"));
	assert_int_equal(validate("{\"kind\":\"net.loss\",\"loss\":1.5}", &sc, diag, sizeof(diag),
				  &p), -1);
	assert_int_equal(validate("{\"kind\":\"net.reorder\",\"reorder\":\"25%\"}", &sc, diag,
				  sizeof(diag), &p), -1);
	assert_non_null(strstr(diag, "delay"));
	assert_int_equal(validate("{\"kind\":\"net.bandwidth\",\"rate\":\"1mbit\","
				  "\"direction\":\"sideways\"}", &sc, diag, sizeof(diag), &p), -1);
	assert_non_null(strstr(diag, "/faults/0/direction"));
	assert_int_equal(validate("{\"kind\":\"net.bandwidth\",\"rate\":\"1bit\"}", &sc, diag,
				  sizeof(diag), &p), -1);
	assert_int_equal(validate("{\"kind\":\"net.bandwidth\",\"rate\":\"1mbit\",\"device\":"
				  "\"../etc\"}", &sc, diag, sizeof(diag), &p), -1);
}

static void test_fault_table(void **state)
{
	static const char *const kinds[] = {
		"net.unreachable", "net.blackhole", "net.prohibit", "net.delay", "net.loss",
		"net.duplicate", "net.corrupt", "net.reorder", "net.bandwidth",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct fault_ops *o = fault_lookup(kinds[i]);

		assert_non_null(o);
		assert_true(o->needs & FAULT_NEEDS_ROOT);
	}
	/* netem kinds say so up front; loss does not need netem (BPF path) */
	assert_true(fault_lookup("net.delay")->needs & FAULT_NEEDS_NETEM);
	assert_true(fault_lookup("net.reorder")->needs & FAULT_NEEDS_NETEM);
	assert_false(fault_lookup("net.loss")->needs & FAULT_NEEDS_NETEM);
	assert_false(fault_lookup("net.bandwidth")->needs & FAULT_NEEDS_NETEM);
	assert_false(fault_lookup("net.unreachable")->needs & FAULT_NEEDS_NETEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_good),
		cmocka_unit_test(test_prefix_bad),
		cmocka_unit_test(test_route_msg),
		cmocka_unit_test(test_rule_msg),
		cmocka_unit_test(test_extack),
		cmocka_unit_test(test_fault_validate),
		cmocka_unit_test(test_fault_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
