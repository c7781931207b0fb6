/*
 * Unit tests for injector/dns and runner/fault_dns: rule selection, seeded
 * probability, rule add/delete, the "dns" block and fault validation with
 * their JSON pointers, and a few real queries over loopback UDP and TCP
 * (127.0.0.1, port chosen by the kernel) driven through the event loop.
 * Also: port 0 while many TCP ports are taken, and hostile TCP clients
 * (oversized and trickled frames, silence, half-close, too many connections,
 * answers never read) and the cap on pending queries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/loop.h"
#include "injector/dns.h"
#include "common/dnsmsg.h"
#include "runner/check.h"
#include "runner/fault.h"
#include "runner/fault_dns.h"

struct fixture {
	struct loop *l;
	struct dns_server *s;
	struct dns_config cfg;
	struct sockaddr_storage listen;
	struct dns_zone_entry zone[2];
	uint8_t v4[1][4];
	int nlog;
	char last_action[32];
	char last_answer[128];
	int last_rule;
	int ndropped;                 /* answers logged as dropped for load */
};

static void fixture_log(const struct dns_log_entry *e, void *arg)
{
	struct fixture *f = arg;

	f->nlog++;
	f->last_rule = e->rule;
	snprintf(f->last_action, sizeof(f->last_action), "%s", e->action);
	snprintf(f->last_answer, sizeof(f->last_answer), "%s", e->answer);
	if (strstr(e->answer, "too many pending"))
		f->ndropped++;
}

/*
 * A server on 127.0.0.1 (kernel-chosen port) with a two-name zone; lim, when
 * given, supplies the TCP and pending limits.
 */
static struct fixture *fixture_new_lim(uint64_t seed, const struct sockaddr_storage *up,
				       const struct dns_config *lim)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct err e;

	assert_non_null(f);
	f->l = loop_new(&e);
	assert_non_null(f->l);
	assert_int_equal(dns_addr_parse("127.0.0.1:0", 53, &f->listen, &e), 0);
	memcpy(f->v4[0], "\x0a\x4d\x01\x0a", 4);
	f->zone[0].name = (char *)"rpc-a.example";
	f->zone[0].v4 = f->v4;
	f->zone[0].nv4 = 1;
	f->zone[1].name = (char *)"alias.example";
	f->zone[1].cname = (char *)"rpc-a.example";
	f->cfg.listen = &f->listen;
	f->cfg.nlisten = 1;
	f->cfg.zone = f->zone;
	f->cfg.nzone = 2;
	f->cfg.ttl = 60;
	f->cfg.seed = seed;
	if (up) {
		f->cfg.upstreams = (struct sockaddr_storage *)up;
		f->cfg.nupstreams = 1;
		f->cfg.upstream_timeout_us = 100000;
		f->cfg.upstream_tries = 2;
	}
	if (lim) {
		f->cfg.tcp_idle_us = lim->tcp_idle_us;
		f->cfg.tcp_max_conns = lim->tcp_max_conns;
		f->cfg.max_pending = lim->max_pending;
	}
	f->s = dns_server_new(f->l, &f->cfg, &e);
	if (!f->s)
		fail_msg("dns_server_new: %s", e.msg);
	dns_server_set_log(f->s, fixture_log, f);
	return f;
}

static struct fixture *fixture_new_up(uint64_t seed, const struct sockaddr_storage *up)
{
	return fixture_new_lim(seed, up, NULL);
}

static struct fixture *fixture_new(uint64_t seed)
{
	return fixture_new_up(seed, NULL);
}

static void fixture_free(struct fixture *f)
{
	dns_server_free(f->s);
	loop_free(f->l);
	free(f);
}

static int add_rule(struct fixture *f, enum dns_action a, const char *pattern, double p,
		    const uint16_t *types, size_t ntypes)
{
	const char *names[1] = { pattern };
	struct dns_rule r;
	struct err e;
	int id;

	memset(&r, 0, sizeof(r));
	r.action = a;
	r.names = names;
	r.nnames = 1;
	r.types = types;
	r.ntypes = ntypes;
	r.probability = p;
	r.ttl = 30;
	r.delay_us = 50000;
	id = dns_server_rule_add(f->s, &r, &e);
	if (id <= 0)
		fail_msg("rule_add: %s", e.msg);
	return id;
}

static void test_rule_selection(void **state)
{
	struct fixture *f = fixture_new(1);
	const uint16_t aaaa[] = { DNSMSG_TYPE_AAAA };
	int nx, sf, tc, typed;

	(void)state;
	nx = add_rule(f, DNS_ACTION_NXDOMAIN, "*.use1.example", 1.0, NULL, 0);
	sf = add_rule(f, DNS_ACTION_SERVFAIL, "*.example", 1.0, NULL, 0);
	tc = add_rule(f, DNS_ACTION_TRUNCATE, "tc.test", 1.0, NULL, 0);
	typed = add_rule(f, DNS_ACTION_REFUSED, "Only.AAAA.test", 1.0, aaaa, 1);
	/* First match in the order added. */
	assert_int_equal(dns_server_rule_pick(f->s, "rpc.use1.example", 1, 0, 0), nx);
	assert_int_equal(dns_server_rule_pick(f->s, "a.b.use1.example", 28, 0, 0), nx);
	/* Label boundaries: use1.example itself falls to the next rule. */
	assert_int_equal(dns_server_rule_pick(f->s, "use1.example", 1, 0, 0), sf);
	assert_int_equal(dns_server_rule_pick(f->s, "baduse1.example", 1, 0, 0), sf);
	assert_int_equal(dns_server_rule_pick(f->s, "example", 1, 0, 0), 0);
	assert_int_equal(dns_server_rule_pick(f->s, "example.org", 1, 0, 0), 0);
	/* Truncation applies to UDP only. */
	assert_int_equal(dns_server_rule_pick(f->s, "tc.test", 1, 0, 0), tc);
	assert_int_equal(dns_server_rule_pick(f->s, "tc.test", 1, 1, 0), 0);
	/* Type filter, and patterns are case-insensitive (stored canonical). */
	assert_int_equal(dns_server_rule_pick(f->s, "only.aaaa.test", DNSMSG_TYPE_A, 0, 0), 0);
	assert_int_equal(dns_server_rule_pick(f->s, "only.aaaa.test", DNSMSG_TYPE_AAAA, 0, 0),
			 typed);
	/* Delete: the next rule takes over; deleting twice fails. */
	assert_int_equal(dns_server_rule_del(f->s, nx), 0);
	assert_int_equal(dns_server_rule_pick(f->s, "rpc.use1.example", 1, 0, 0), sf);
	assert_int_equal(dns_server_rule_del(f->s, nx), -ENOENT);
	fixture_free(f);
}

static void test_rule_window_and_bad(void **state)
{
	struct fixture *f = fixture_new(1);
	const char *names[1] = { "w.test" };
	const char *bad[1] = { "a..b" };
	struct dns_rule r;
	struct err e;
	int id;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.action = DNS_ACTION_SERVFAIL;
	r.names = names;
	r.nnames = 1;
	r.probability = 1.0;
	r.not_before_us = 1000;
	r.not_after_us = 2000;
	id = dns_server_rule_add(f->s, &r, &e);
	assert_true(id > 0);
	assert_int_equal(dns_server_rule_pick(f->s, "w.test", 1, 0, 999), 0);
	assert_int_equal(dns_server_rule_pick(f->s, "w.test", 1, 0, 1000), id);
	assert_int_equal(dns_server_rule_pick(f->s, "w.test", 1, 0, 2000), 0);
	r.names = bad;
	assert_int_equal(dns_server_rule_add(f->s, &r, &e), -EINVAL);
	r.names = names;
	r.action = DNS_ACTION_REDIRECT;
	assert_int_equal(dns_server_rule_add(f->s, &r, &e), -EINVAL);
	r.action = DNS_ACTION_SERVFAIL;
	r.probability = 1.5;
	assert_int_equal(dns_server_rule_add(f->s, &r, &e), -EINVAL);
	fixture_free(f);
}

/* Hits of a 30% rule over 2000 queries, as a bit string. */
static void draws(uint64_t seed, char *out, size_t n)
{
	struct fixture *f = fixture_new(seed);
	size_t i;
	int id = add_rule(f, DNS_ACTION_SERVFAIL, "*.p.test", 0.3, NULL, 0);

	for (i = 0; i < n; i++)
		out[i] = dns_server_rule_pick(f->s, "x.p.test", 1, 0, 0) == id ? '1' : '0';
	out[n] = '\0';
	fixture_free(f);
}

static void test_probability_seeded(void **state)
{
	char a[2001], b[2001], c[2001];
	size_t i, hits = 0;

	(void)state;
	draws(42, a, 2000);
	draws(42, b, 2000);
	draws(43, c, 2000);
	assert_string_equal(a, b);           /* same seed, same choices */
	assert_string_not_equal(a, c);       /* another seed, other choices */
	for (i = 0; i < 2000; i++)
		hits += a[i] == '1';
	/* 600 expected; the seed makes this exact, the bounds say it is 30%. */
	assert_in_range(hits, 540, 660);
}

/* ---- real queries through the loop ---- */

static size_t make_query(uint8_t *q, uint16_t id, const char *name, uint16_t type)
{
	struct err e;
	int n;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01;
	q[5] = 1;
	n = dnsmsg_name_encode(name, q + 12, 255, &e);
	assert_true(n > 0);
	q[12 + n] = (uint8_t)(type >> 8);
	q[13 + n] = (uint8_t)type;
	q[14 + n] = 0;
	q[15 + n] = 1;
	return 16 + (size_t)n;
}

/* Send one query over UDP, run the loop until an answer arrives or max_us. */
static ssize_t udp_ask(struct fixture *f, const char *name, uint16_t type, uint8_t *out,
		       size_t cap, uint64_t max_us, uint64_t *took)
{
	struct sockaddr_storage a;
	uint8_t q[300];
	size_t ql = make_query(q, 0x4242, name, type);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	uint64_t t0 = loop_now_us();
	ssize_t n = -1;

	assert_true(fd >= 0);
	assert_int_equal(dns_server_addr(f->s, 0, &a), 0);
	assert_true(sendto(fd, q, ql, 0, (struct sockaddr *)&a, sizeof(struct sockaddr_in)) > 0);
	while (loop_now_us() - t0 < max_us) {
		assert_int_equal(loop_once(f->l, 10000), 0);
		n = recv(fd, out, cap, 0);
		if (n >= 0)
			break;
	}
	*took = loop_now_us() - t0;
	close(fd);
	return n;
}

static void test_udp_answers(void **state)
{
	struct fixture *f = fixture_new(7);
	uint8_t out[1500];
	char sum[128];
	uint64_t took;
	ssize_t n;

	(void)state;
	n = udp_ask(f, "RPC-A.example", DNSMSG_TYPE_A, out, sizeof(out), 1000000, &took);
	assert_true(n > 0);
	assert_string_equal(dnsmsg_summary(out, (size_t)n, sum, sizeof(sum)), "NOERROR A 10.77.1.10");
	n = udp_ask(f, "alias.example", DNSMSG_TYPE_A, out, sizeof(out), 1000000, &took);
	assert_string_equal(dnsmsg_summary(out, (size_t)n, sum, sizeof(sum)),
			    "NOERROR CNAME rpc-a.example A 10.77.1.10");
	n = udp_ask(f, "rpc-a.example", DNSMSG_TYPE_AAAA, out, sizeof(out), 1000000, &took);
	assert_string_equal(dnsmsg_summary(out, (size_t)n, sum, sizeof(sum)),
			    "NOERROR (no records)");
	/* Not in the zone, no upstream: REFUSED, never forwarded. */
	n = udp_ask(f, "www.example.org", DNSMSG_TYPE_A, out, sizeof(out), 1000000, &took);
	assert_string_equal(dnsmsg_summary(out, (size_t)n, sum, sizeof(sum)), "REFUSED");
	assert_string_equal(f->last_action, "refused");
	/* A rule on a zone name wins over the zone. */
	add_rule(f, DNS_ACTION_SINKHOLE, "rpc-a.example", 1.0, NULL, 0);
	n = udp_ask(f, "rpc-a.example", DNSMSG_TYPE_A, out, sizeof(out), 1000000, &took);
	assert_string_equal(dnsmsg_summary(out, (size_t)n, sum, sizeof(sum)), "NOERROR A 0.0.0.0");
	assert_string_equal(f->last_action, "sinkhole");
	assert_true(f->last_rule > 0);
	fixture_free(f);
}

static void test_udp_delay_timeout_and_response(void **state)
{
	struct fixture *f = fixture_new(7);
	uint8_t out[1500], resp[64];
	struct sockaddr_storage a;
	uint64_t took;
	ssize_t n;
	int fd, logs;

	(void)state;
	add_rule(f, DNS_ACTION_DELAY, "rpc-a.example", 1.0, NULL, 0);
	add_rule(f, DNS_ACTION_TIMEOUT, "gone.example", 1.0, NULL, 0);
	n = udp_ask(f, "rpc-a.example", DNSMSG_TYPE_A, out, sizeof(out), 1000000, &took);
	assert_true(n > 0);
	assert_true(took >= 50000);           /* answered no earlier than the delay */
	assert_string_equal(f->last_action, "delay");
	n = udp_ask(f, "gone.example", DNSMSG_TYPE_A, out, sizeof(out), 200000, &took);
	assert_true(n < 0);
	assert_string_equal(f->last_answer, "no answer");
	/* A response (QR set) is never answered and not logged as a query. */
	logs = f->nlog;
	memcpy(resp, "\x00\x01\x81\x80\x00\x00\x00\x00\x00\x00\x00\x00", 12);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_int_equal(dns_server_addr(f->s, 0, &a), 0);
	assert_true(sendto(fd, resp, 12, 0, (struct sockaddr *)&a, sizeof(struct sockaddr_in)) > 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(loop_once(f->l, 5000), 0);
	assert_true(recv(fd, out, sizeof(out), 0) < 0);
	assert_int_equal(f->nlog, logs);
	/* Garbage with a query header gets FORMERR. */
	memcpy(resp, "\x00\x02\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c", 14);
	assert_true(sendto(fd, resp, 14, 0, (struct sockaddr *)&a, sizeof(struct sockaddr_in)) > 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(loop_once(f->l, 5000), 0);
	n = recv(fd, out, sizeof(out), 0);
	assert_int_equal(n, 12);
	assert_int_equal(out[3] & 0xf, DNSMSG_RCODE_FORMERR);
	close(fd);
	fixture_free(f);
}

static void test_tcp_framing(void **state)
{
	struct fixture *f = fixture_new(7);
	struct sockaddr_storage a;
	uint8_t buf[1024], q[300];
	size_t ql, got = 0, i;
	int fd;

	(void)state;
	assert_int_equal(dns_server_addr(f->s, 0, &a), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(struct sockaddr_in)), 0);
	/* Two queries in one write: two framed answers. */
	ql = make_query(q + 2, 1, "rpc-a.example", DNSMSG_TYPE_A);
	q[0] = 0;
	q[1] = (uint8_t)ql;
	memcpy(buf, q, ql + 2);
	memcpy(buf + ql + 2, q, ql + 2);
	buf[ql + 2 + 3] = 2;                  /* second ID */
	assert_int_equal(write(fd, buf, 2 * (ql + 2)), (ssize_t)(2 * (ql + 2)));
	for (i = 0; i < 50 && got < 2 * (ql + 2 + 16); i++) {
		ssize_t n;

		assert_int_equal(loop_once(f->l, 10000), 0);
		n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
	}
	assert_int_equal(got, 2 * (2 + ql + 16));
	assert_int_equal(buf[2 + 1], 1);
	assert_int_equal(buf[2 + ql + 16 + 2 + 1], 2);
	/* A frame shorter than a header closes the connection. */
	assert_int_equal(write(fd, "\x00\x05hello", 7), 7);
	for (i = 0; i < 10; i++)
		assert_int_equal(loop_once(f->l, 5000), 0);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(fd);
	fixture_free(f);
}

/* Run the loop until fd has a datagram (or 1 s); returns its length or -1. */
static ssize_t pump_recv(struct fixture *f, int fd, uint8_t *buf, size_t cap,
			 struct sockaddr_storage *from)
{
	uint64_t t0 = loop_now_us();

	while (loop_now_us() - t0 < 1000000) {
		socklen_t fl = sizeof(*from);
		ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &fl);

		if (n >= 0)
			return n;
		assert_int_equal(loop_once(f->l, 5000), 0);
	}
	return -1;
}

static void test_forwarding(void **state)
{
	struct sockaddr_storage up, srv, from;
	socklen_t ul = sizeof(up);
	uint8_t q[300], fwd[512], reply[512], got[512];
	struct fixture *f;
	struct dnsmsg m;
	struct err e;
	size_t ql;
	ssize_t n, fl;
	int ufd = socket(AF_INET, SOCK_DGRAM, 0), cfd = socket(AF_INET, SOCK_DGRAM, 0);
	uint16_t fid;
	char sum[128];

	(void)state;
	/* A fake upstream on a free loopback port. */
	assert_int_equal(dns_addr_parse("127.0.0.1:0", 53, &up, &e), 0);
	assert_int_equal(bind(ufd, (struct sockaddr *)&up, sizeof(struct sockaddr_in)), 0);
	assert_int_equal(getsockname(ufd, (struct sockaddr *)&up, &ul), 0);
	f = fixture_new_up(5, &up);
	assert_int_equal(dns_server_addr(f->s, 0, &srv), 0);
	ql = make_query(q, 0x7777, "www.outside.example", DNSMSG_TYPE_A);
	assert_true(sendto(cfd, q, ql, 0, (struct sockaddr *)&srv, sizeof(struct sockaddr_in)) > 0);
	/* The forwarded query: same question, a new ID. */
	fl = pump_recv(f, ufd, fwd, sizeof(fwd), &from);
	assert_int_equal(fl, (ssize_t)ql);
	assert_int_equal(dnsmsg_parse_query(fwd, (size_t)fl, &m, &e), 0);
	assert_string_equal(m.qname, "www.outside.example");
	fid = m.id;
	/* Replies with the wrong ID or question are ignored... */
	memcpy(reply, fwd, (size_t)fl);
	reply[2] |= 0x80;                            /* QR */
	reply[7] = 1;                                /* one answer */
	memcpy(reply + fl, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x01\x02\x03", 16);
	reply[0] ^= 0xff;
	assert_true(sendto(ufd, reply, (size_t)fl + 16, 0, (struct sockaddr *)&from, ul) > 0);
	reply[0] ^= 0xff;
	reply[13] ^= 0x01;                           /* "vww.outside.example" */
	assert_true(sendto(ufd, reply, (size_t)fl + 16, 0, (struct sockaddr *)&from, ul) > 0);
	reply[13] ^= 0x01;
	for (int i = 0; i < 5; i++)
		assert_int_equal(loop_once(f->l, 5000), 0);
	assert_true(recv(cfd, got, sizeof(got), MSG_DONTWAIT) < 0);
	/* ...the right one reaches the client with the client's ID. */
	assert_int_equal((reply[0] << 8) | reply[1], fid);
	assert_true(sendto(ufd, reply, (size_t)fl + 16, 0, (struct sockaddr *)&from, ul) > 0);
	n = pump_recv(f, cfd, got, sizeof(got), &from);
	assert_int_equal(n, fl + 16);
	assert_int_equal(got[0], 0x77);
	assert_int_equal(got[1], 0x77);
	assert_string_equal(dnsmsg_summary(got, (size_t)n, sum, sizeof(sum)), "NOERROR A 10.1.2.3");
	assert_string_equal(f->last_action, "upstream");
	/* A silent upstream: two tries, then SERVFAIL to the client. */
	assert_true(sendto(cfd, q, ql, 0, (struct sockaddr *)&srv, sizeof(struct sockaddr_in)) > 0);
	assert_true(pump_recv(f, ufd, fwd, sizeof(fwd), &from) > 0);
	assert_true(pump_recv(f, ufd, fwd, sizeof(fwd), &from) > 0);     /* the retry */
	n = pump_recv(f, cfd, got, sizeof(got), &from);
	assert_true(n > 0);
	assert_string_equal(dnsmsg_summary(got, (size_t)n, sum, sizeof(sum)), "SERVFAIL");
	close(ufd);
	close(cfd);
	fixture_free(f);
}

/* ---- port 0 when the kernel's pick for UDP is taken for TCP ---- */

static void test_port0_tcp_taken(void **state)
{
	static uint8_t taken[65536];
	struct rlimit rl, old;
	struct sockaddr_storage any, ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct dns_config cfg;
	struct loop *l;
	struct err e;
	int *occ, lo = 32768, hi = 60999, collisions = 0;
	size_t nocc = 0, want, starts, i;
	FILE *pr;

	(void)state;
	memset(taken, 0, sizeof(taken));
	pr = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (pr) {
		if (fscanf(pr, "%d %d", &lo, &hi) != 2)
			lo = 32768, hi = 60999;
		fclose(pr);
	}
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 1200)
		skip();   /* cmocka prints it: too few descriptors to occupy ports */
	/*
	 * 2000 ports, about 7% of the usual range: enough to collide often,
	 * few enough that other processes (and copies of this test running at
	 * the same time) still find free ports.
	 */
	want = rl.rlim_cur - 200 < 2000 ? rl.rlim_cur - 200 : 2000;
	occ = calloc(want, sizeof(*occ));
	assert_non_null(occ);
	/* Occupy TCP ports from the ephemeral range on 127.0.0.1 (bound, not listening). */
	assert_int_equal(dns_addr_parse("127.0.0.1:0", 53, &any, &e), 0);
	for (i = 0; i < want; i++) {
		socklen_t sl = sizeof(ss);
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		assert_true(fd >= 0);
		if (bind(fd, (struct sockaddr *)&any, sizeof(struct sockaddr_in)) < 0 ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
			close(fd);
			break;
		}
		occ[nocc++] = fd;
		taken[ntohs(a4->sin_port)] = 1;
	}
	assert_true(nocc >= 1000);
	/* Enough starts that about ten of the kernel's UDP picks land on a taken port. */
	starts = (10 * (size_t)(hi - lo + 1) + nocc - 1) / nocc;
	/* The setting is real: the kernel's UDP picks do land on taken TCP ports. */
	for (i = 0; i < starts; i++) {
		socklen_t sl = sizeof(ss);
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		assert_int_equal(bind(fd, (struct sockaddr *)&any, sizeof(struct sockaddr_in)), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
		collisions += taken[ntohs(a4->sin_port)];
		close(fd);
	}
	print_message("  %zu TCP ports taken, %d of %zu UDP picks collided\n", nocc, collisions,
		      starts);
	assert_true(collisions >= 1);
	/* Every start with port 0 still gets a server, on a port free for TCP. */
	l = loop_new(&e);
	assert_non_null(l);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = &any;
	cfg.nlisten = 1;
	for (i = 0; i < starts; i++) {
		struct dns_server *srv = dns_server_new(l, &cfg, &e);

		if (!srv)
			fail_msg("start %zu with port 0: %s", i, e.msg);
		assert_int_equal(dns_server_addr(srv, 0, &ss), 0);
		assert_int_equal(taken[ntohs(a4->sin_port)], 0);
		dns_server_free(srv);
	}
	/* An explicit port stays strict: taken for TCP means failure, nothing left open. */
	for (i = 0; i < nocc; i++) {
		struct sockaddr_storage p = any;
		socklen_t sl = sizeof(ss);
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct dns_server *srv;

		assert_int_equal(getsockname(occ[i], (struct sockaddr *)&ss, &sl), 0);
		((struct sockaddr_in *)&p)->sin_port = a4->sin_port;
		if (bind(u, (struct sockaddr *)&p, sizeof(struct sockaddr_in)) < 0) {
			close(u);
			continue;      /* taken for UDP as well: try another */
		}
		close(u);
		cfg.listen = &p;
		srv = dns_server_new(l, &cfg, &e);
		assert_null(srv);
		assert_int_equal(e.code, -EADDRINUSE);
		assert_non_null(strstr(e.msg, "/tcp: bind"));
		u = socket(AF_INET, SOCK_DGRAM, 0);
		assert_int_equal(bind(u, (struct sockaddr *)&p, sizeof(struct sockaddr_in)), 0);
		close(u);
		break;
	}
	assert_true(i < nocc);
	loop_free(l);
	for (i = 0; i < nocc; i++)
		close(occ[i]);
	free(occ);
	(void)setrlimit(RLIMIT_NOFILE, &old);
}

/* ---- hostile TCP clients ---- */

static int tcp_client(struct fixture *f, int rcvbuf)
{
	struct sockaddr_storage a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (rcvbuf)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(dns_server_addr(f->s, 0, &a), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(struct sockaddr_in)), 0);
	return fd;
}

static void pump(struct fixture *f, uint64_t us)
{
	uint64_t t0 = loop_now_us();

	while (loop_now_us() - t0 < us)
		assert_int_equal(loop_once(f->l, 2000), 0);
}

/* 1: the server closed fd (EOF or reset); 0: still open. Data read is dropped. */
static int tcp_closed(int fd)
{
	uint8_t b[4096];
	ssize_t n;

	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
		;
	return n == 0 || (n < 0 && errno != EAGAIN);
}

/* Pump the loop until the server closes fd; the time it took, or -1 after max_us. */
static int64_t wait_closed(struct fixture *f, int fd, uint64_t max_us)
{
	uint64_t t0 = loop_now_us();

	while (loop_now_us() - t0 < max_us) {
		if (tcp_closed(fd))
			return (int64_t)(loop_now_us() - t0);
		assert_int_equal(loop_once(f->l, 2000), 0);
	}
	return -1;
}

/* One query over TCP on fd; the loop runs until its answer is in. */
static void tcp_query_ok(struct fixture *f, int fd, uint16_t id)
{
	uint8_t q[300], a[512];
	size_t ql = make_query(q + 2, id, "rpc-a.example", DNSMSG_TYPE_A), got = 0, want = 0;
	uint64_t t0 = loop_now_us();
	char sum[128];

	q[0] = 0;
	q[1] = (uint8_t)ql;
	assert_int_equal(send(fd, q, ql + 2, MSG_NOSIGNAL), (ssize_t)(ql + 2));
	while (loop_now_us() - t0 < 1000000 && (!want || got < want)) {
		ssize_t n;

		assert_int_equal(loop_once(f->l, 2000), 0);
		n = recv(fd, a + got, sizeof(a) - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		if (got >= 2)
			want = 2 + (((size_t)a[0] << 8) | a[1]);
	}
	assert_true(want > 2 && got == want);
	assert_int_equal((a[2] << 8) | a[3], id);
	assert_string_equal(dnsmsg_summary(a + 2, want - 2, sum, sizeof(sum)),
			    "NOERROR A 10.77.1.10");
}

static void test_tcp_slow_and_oversized(void **state)
{
	struct dns_config lim = { .tcp_idle_us = 300000 };
	struct fixture *f = fixture_new_lim(7, NULL, &lim);
	int big, silent, trickle, good, i;
	uint64_t t0;
	int64_t took;

	(void)state;
	big = tcp_client(f, 0);
	silent = tcp_client(f, 0);
	trickle = tcp_client(f, 0);
	good = tcp_client(f, 0);
	/* A 65535-byte frame is no query: closed at once, nothing buffered. */
	assert_int_equal(send(big, "\xff\xff\x00\x01\x01\x00", 6, MSG_NOSIGNAL), 6);
	took = wait_closed(f, big, 200000);
	assert_true(took >= 0);
	/* A frame trickled one byte every 50 ms: closed after tcp_idle all the same. */
	assert_int_equal(send(trickle, "\x00\x40", 2, MSG_NOSIGNAL), 2);
	t0 = loop_now_us();
	for (i = 0; i < 30 && !tcp_closed(trickle); i++) {
		if (send(trickle, "x", 1, MSG_NOSIGNAL) != 1)
			break;
		pump(f, 50000);
	}
	assert_true(tcp_closed(trickle));
	assert_true(loop_now_us() - t0 < 1000000);
	/* The silent one went too, and the other client is answered throughout. */
	assert_true(wait_closed(f, silent, 500000) >= 0);
	close(good);
	good = tcp_client(f, 0);
	tcp_query_ok(f, good, 11);
	close(big);
	close(silent);
	close(trickle);
	close(good);
	fixture_free(f);
}

static void test_tcp_half_close(void **state)
{
	struct fixture *f = fixture_new(7);
	uint8_t q[300], a[512];
	size_t ql = make_query(q + 2, 0x1234, "rpc-a.example", DNSMSG_TYPE_A), got = 0;
	uint64_t t0;
	int fd, eof = 0;

	(void)state;
	add_rule(f, DNS_ACTION_DELAY, "rpc-a.example", 1.0, NULL, 0);   /* 50 ms */
	fd = tcp_client(f, 0);
	q[0] = 0;
	q[1] = (uint8_t)ql;
	assert_int_equal(send(fd, q, ql + 2, MSG_NOSIGNAL), (ssize_t)(ql + 2));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	/* The delayed answer still arrives after the client's FIN, then the server closes. */
	t0 = loop_now_us();
	while (loop_now_us() - t0 < 1000000 && !eof) {
		ssize_t n;

		assert_int_equal(loop_once(f->l, 2000), 0);
		n = recv(fd, a + got, sizeof(a) - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			eof = 1;
	}
	assert_true(eof);
	assert_true(got > 2);
	assert_int_equal(got, 2 + (((size_t)a[0] << 8) | a[1]));
	assert_int_equal((a[2] << 8) | a[3], 0x1234);
	assert_string_equal(f->last_action, "delay");
	close(fd);
	fixture_free(f);
}

static void test_tcp_full_pushes_out(void **state)
{
	struct dns_config lim = { .tcp_max_conns = 4 };
	struct fixture *f = fixture_new_lim(7, NULL, &lim);
	int c[6], i;

	(void)state;
	/* Four silent connections fill the server. */
	for (i = 0; i < 4; i++) {
		c[i] = tcp_client(f, 0);
		pump(f, 5000);
	}
	/* A fifth pushes out the least recently active (the first) and is answered. */
	c[4] = tcp_client(f, 0);
	assert_true(wait_closed(f, c[0], 200000) >= 0);
	tcp_query_ok(f, c[4], 5);
	/* A query makes c[1] recently active: the sixth pushes out c[2] instead. */
	tcp_query_ok(f, c[1], 6);
	c[5] = tcp_client(f, 0);
	assert_true(wait_closed(f, c[2], 200000) >= 0);
	for (i = 1; i < 6; i++)
		if (i != 2)
			assert_false(tcp_closed(c[i]));
	for (i = 0; i < 6; i++)
		close(c[i]);
	fixture_free(f);
}

static void test_tcp_silent_pushed_out_first(void **state)
{
	struct dns_config lim = { .tcp_max_conns = 2 };
	struct fixture *f = fixture_new_lim(7, NULL, &lim);
	int a, b, c;

	(void)state;
	a = tcp_client(f, 0);
	tcp_query_ok(f, a, 1);                /* a asked, then went quiet */
	b = tcp_client(f, 0);                 /* b never says anything */
	pump(f, 1100000);
	/* a is the least recently active, but b has been silent since accept: b goes. */
	c = tcp_client(f, 0);
	assert_true(wait_closed(f, b, 200000) >= 0);
	assert_false(tcp_closed(a));
	tcp_query_ok(f, a, 2);
	tcp_query_ok(f, c, 3);
	close(a);
	close(b);
	close(c);
	fixture_free(f);
}

static void test_tcp_unread_answers(void **state)
{
	enum { N = 20000 };
	struct fixture *f = fixture_new(7);
	uint8_t q[300], *all, a[65536];
	size_t ql = make_query(q + 2, 1, "rpc-a.example", DNSMSG_TYPE_A), sent = 0, got = 0, i;
	size_t total, answers = 0, off = 0, alen = 0;
	uint64_t t0;
	int fd = tcp_client(f, 4096);

	(void)state;
	q[0] = 0;
	q[1] = (uint8_t)ql;
	total = N * (ql + 2);
	all = malloc(total);
	assert_non_null(all);
	for (i = 0; i < N; i++)
		memcpy(all + i * (ql + 2), q, ql + 2);
	/* Pipeline every query without reading a single answer. */
	t0 = loop_now_us();
	while (sent < total && loop_now_us() - t0 < 500000) {
		ssize_t n = send(fd, all + sent, total - sent, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0)
			sent += (size_t)n;
		assert_int_equal(loop_once(f->l, 1000), 0);
	}
	pump(f, 50000);
	/*
	 * Now read: every query gets its answer, none was dropped for the backlog.
	 * Gives up after 5 s without a byte (a stall), not after a fixed time: under
	 * valgrind on a loaded machine reading them all takes longer.
	 */
	t0 = loop_now_us();
	while (answers < N && loop_now_us() - t0 < 5000000) {
		ssize_t n = recv(fd, a + alen, sizeof(a) - alen, MSG_DONTWAIT);

		if (n > 0) {
			t0 = loop_now_us();
			alen += (size_t)n;
			got += (size_t)n;
			off = 0;
			while (alen - off >= 2 && alen - off >= 2 + (((size_t)a[off] << 8) | a[off + 1])) {
				off += 2 + (((size_t)a[off] << 8) | a[off + 1]);
				answers++;
			}
			memmove(a, a + off, alen - off);
			alen -= off;
		} else if (n == 0) {
			break;
		}
		if (sent < total) {
			n = send(fd, all + sent, total - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		assert_int_equal(loop_once(f->l, 1000), 0);
	}
	print_message("  %zu queries sent, %zu answers (%zu bytes) read\n", sent / (ql + 2), answers,
		      got);
	assert_int_equal(sent, total);
	assert_int_equal(answers, N);
	free(all);
	close(fd);
	fixture_free(f);
}

static void test_pending_cap(void **state)
{
	struct dns_config lim = { .max_pending = 3 };
	struct fixture *f = fixture_new_lim(7, NULL, &lim);
	struct sockaddr_storage srv;
	uint8_t q[300], out[512];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), answers = 0;
	uint16_t id;

	(void)state;
	add_rule(f, DNS_ACTION_DELAY, "rpc-a.example", 1.0, NULL, 0);   /* 50 ms */
	assert_int_equal(dns_server_addr(f->s, 0, &srv), 0);
	for (id = 1; id <= 5; id++) {
		size_t ql = make_query(q, id, "rpc-a.example", DNSMSG_TYPE_A);

		assert_true(sendto(fd, q, ql, 0, (struct sockaddr *)&srv, sizeof(struct sockaddr_in)) > 0);
	}
	pump(f, 300000);
	while (recv(fd, out, sizeof(out), 0) > 0)
		answers++;
	/* Three wait for the delay and are answered; two are dropped, and logged so. */
	assert_int_equal(answers, 3);
	assert_int_equal(f->ndropped, 2);
	/* Once they are out, the next ones are delayed and answered again. */
	make_query(q, 9, "rpc-a.example", DNSMSG_TYPE_A);
	{
		uint64_t took;
		ssize_t n = udp_ask(f, "rpc-a.example", DNSMSG_TYPE_A, out, sizeof(out), 1000000,
				    &took);

		assert_true(n > 0);
		assert_true(took >= 50000);
	}
	close(fd);
	fixture_free(f);
}

/* ---- the "dns" block and fault validation ---- */

static int count_diag(struct diags *d, const char *ptr)
{
	size_t i;
	int n = 0;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].ptr, ptr))
			n++;
	return n;
}

static void test_config_check(void **state)
{
	const char *text =
		"{\"listen\": [\"127.0.0.1:5353\", \"nowhere:53\"], \"zone\": {\"a.example\": "
		"[\"10.0.0.1\", \"bogus\"], \"b.example\": \"a.example\", \"c..example\": \"1.2.3.4\"}, "
		"\"ttl\": \"1500ms\", \"upstreams\": [\"[::1]:53\"], \"tcp_idle\": \"2x\", \"colour\": 1}";
	json_t *obj = json_loads(text, 0, NULL);
	struct diags d;
	struct check c;

	(void)state;
	assert_non_null(obj);
	diags_init(&d);
	check_init(&c, "t.json", text, strlen(text), &d);
	assert_int_equal(fault_dns_config_check(&c, obj, "/dns"), -1);
	assert_int_equal(count_diag(&d, "/dns/listen/1"), 1);
	assert_int_equal(count_diag(&d, "/dns/zone/a.example/1"), 1);
	assert_int_equal(count_diag(&d, "/dns/zone/c..example"), 1);
	assert_int_equal(count_diag(&d, "/dns/ttl"), 1);
	assert_int_equal(count_diag(&d, "/dns/tcp_idle"), 1);
	assert_int_equal(count_diag(&d, "/dns/colour"), 1);
	assert_int_equal(count_diag(&d, "/dns/zone/b.example"), 0);   /* a CNAME */
	assert_int_equal(count_diag(&d, "/dns/upstreams/0"), 0);
	diags_cleanup(&d);
	json_decref(obj);
}

static void test_config_build(void **state)
{
	json_t *obj = json_loads("{\"listen\": \"[::1]:5300\", \"netns\": \"lab-dns\", \"zone\": "
				 "{\"A.Example.\": [\"10.0.0.1\", \"fd00::2\"], \"b.example\": "
				 "\"A.example\"}, \"upstreams\": [\"10.77.0.1\"], \"ttl\": 5}", 0,
				 NULL);
	struct dns_config *cfg = NULL;
	struct err e;
	size_t i, ia = 9;

	(void)state;
	assert_int_equal(fault_dns_config_build(obj, 99, &cfg, &e), 0);
	assert_int_equal(cfg->nlisten, 1);
	assert_int_equal(cfg->listen[0].ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&cfg->listen[0])->sin6_port), 5300);
	assert_string_equal(cfg->netns, "lab-dns");
	assert_int_equal(cfg->nupstreams, 1);
	assert_int_equal(ntohs(((struct sockaddr_in *)&cfg->upstreams[0])->sin_port), 53);
	assert_int_equal(cfg->ttl, 5);
	assert_int_equal(cfg->seed, 99);
	assert_int_equal(cfg->nzone, 2);
	for (i = 0; i < 2; i++)
		if (!strcmp(cfg->zone[i].name, "a.example"))
			ia = i;
	assert_true(ia < 2);
	assert_int_equal(cfg->zone[ia].nv4, 1);
	assert_int_equal(cfg->zone[ia].nv6, 1);
	assert_string_equal(cfg->zone[1 - ia].cname, "a.example");
	dns_config_free(cfg);
	json_decref(obj);
	obj = json_loads("{\"zone\": {}}", 0, NULL);
	assert_int_equal(fault_dns_config_build(obj, 1, &cfg, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "listen"));
	json_decref(obj);
}

static int validate(const char *kind, const char *text, struct diags *d, void **params)
{
	const struct fault_ops *ops = fault_lookup(kind);
	json_t *obj = json_loads(text, 0, NULL);
	struct check c;
	int rc;

	assert_non_null(ops);
	assert_non_null(obj);
	check_init(&c, "t.json", text, strlen(text), d);
	*params = NULL;
	rc = ops->validate(&c, NULL, obj, "/faults/0", params);
	json_decref(obj);
	return rc;
}

static void test_fault_validate(void **state)
{
	struct diags d;
	void *p;

	(void)state;
	diags_init(&d);
	assert_int_equal(validate("dns.servfail", "{\"types\": [\"A\", \"BOGUS\"]}", &d, &p), -1);
	assert_int_equal(count_diag(&d, "/faults/0"), 1);          /* no names, no region */
	assert_int_equal(count_diag(&d, "/faults/0/types/1"), 1);
	assert_int_equal(validate("dns.nxdomain", "{\"names\": [\"ok.example\", \"x.*.example\"], "
				  "\"probability\": 2, \"ttl\": -1}", &d, &p), -1);
	assert_int_equal(count_diag(&d, "/faults/0/names/1"), 1);
	assert_int_equal(count_diag(&d, "/faults/0/probability"), 1);
	assert_int_equal(count_diag(&d, "/faults/0/ttl"), 1);
	/* A missing required key is reported at the fault, naming the key. */
	assert_int_equal(validate("dns.redirect", "{\"names\": \"a.example\"}", &d, &p), -1);
	assert_int_equal(count_diag(&d, "/faults/0"), 2);
	assert_non_null(strstr(d.v[d.n - 1].msg, "\"address\""));
	assert_int_equal(validate("dns.redirect", "{\"names\": \"a.example\", \"address\": "
				  "\"not-an-ip\"}", &d, &p), -1);
	assert_int_equal(count_diag(&d, "/faults/0/address"), 1);
	assert_int_equal(validate("dns.delay", "{\"names\": \"a.example\"}", &d, &p), -1);
	assert_int_equal(count_diag(&d, "/faults/0"), 3);
	assert_non_null(strstr(d.v[d.n - 1].msg, "\"delay\""));
	assert_int_equal(validate("dns.delay", "{\"names\": \"a.example\", \"delay\": \"0\"}",
				  &d, &p), -1);
	assert_int_equal(count_diag(&d, "/faults/0/delay"), 1);
	/* A valid one yields params. */
	assert_int_equal(validate("dns.truncate", "{\"names\": \"*.example\", \"probability\": "
				  "\"50%\"}", &d, &p), 0);
	assert_non_null(p);
	fault_lookup("dns.truncate")->free_params(p);
	diags_cleanup(&d);
}

static void test_fault_apply_revert(void **state)
{
	struct fixture *f = fixture_new(3);
	const struct fault_ops *ops = fault_lookup("dns.redirect");
	struct fault_env env;
	struct fault flt;
	struct diags d;
	struct err e;

	(void)state;
	diags_init(&d);
	memset(&flt, 0, sizeof(flt));
	memset(&env, 0, sizeof(env));
	flt.ops = ops;
	assert_int_equal(validate("dns.redirect", "{\"names\": [\"*.use1.example\"], \"types\": "
				  "\"A\", \"address\": [\"10.9.9.9\", \"fd00::9\"], \"ttl\": \"1m\"}",
				  &d, &flt.params), 0);
	assert_int_equal(d.n, 0);
	/* Without a server, apply says why. */
	assert_int_equal(ops->apply(&env, &flt, &e), -ENOENT);
	env.loop = f->l;
	env.dns = f->s;
	assert_int_equal(ops->apply(&env, &flt, &e), 0);
	assert_true(dns_server_rule_pick(f->s, "rpc.use1.example", DNSMSG_TYPE_A, 0, 0) > 0);
	assert_int_equal(dns_server_rule_pick(f->s, "rpc.use1.example", DNSMSG_TYPE_AAAA, 0, 0), 0);
	assert_int_equal(ops->revert(&env, &flt, &e), 0);
	assert_int_equal(dns_server_rule_pick(f->s, "rpc.use1.example", DNSMSG_TYPE_A, 0, 0), 0);
	ops->free_params(flt.params);
	diags_cleanup(&d);
	fixture_free(f);
}

static void test_kinds_registered(void **state)
{
	static const char *const kinds[] = { "dns.nxdomain", "dns.servfail", "dns.refused",
					     "dns.timeout", "dns.sinkhole", "dns.redirect",
					     "dns.delay", "dns.truncate" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct fault_ops *ops = fault_lookup(kinds[i]);

		assert_non_null(ops);
		assert_true(ops->needs & FAULT_NEEDS_DNS);
		assert_non_null(ops->validate);
		assert_non_null(ops->apply);
		assert_non_null(ops->revert);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_selection),
		cmocka_unit_test(test_rule_window_and_bad),
		cmocka_unit_test(test_probability_seeded),
		cmocka_unit_test(test_udp_answers),
		cmocka_unit_test(test_udp_delay_timeout_and_response),
		cmocka_unit_test(test_tcp_framing),
		cmocka_unit_test(test_forwarding),
		cmocka_unit_test(test_port0_tcp_taken),
		cmocka_unit_test(test_tcp_slow_and_oversized),
		cmocka_unit_test(test_tcp_half_close),
		cmocka_unit_test(test_tcp_full_pushes_out),
		cmocka_unit_test(test_tcp_silent_pushed_out_first),
		cmocka_unit_test(test_tcp_unread_answers),
		cmocka_unit_test(test_pending_cap),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_config_build),
		cmocka_unit_test(test_fault_validate),
		cmocka_unit_test(test_fault_apply_revert),
		cmocka_unit_test(test_kinds_registered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
