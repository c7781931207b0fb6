/*
 * Unit tests for reports/capture: the packet evidence counted from pcap files.
 *
 * Each test writes pcap files itself, with libpcap's pcap_open_dead and
 * pcap_dump, from hand-made frames (Ethernet, IPv4/IPv6, TCP, UDP, ICMP,
 * DNS), at chosen times around a fault window, and checks the counts that
 * capture_finish puts into a run result: packets toward a prefix and how
 * many got through, SYNs and SYN retransmits per destination, ICMP
 * unreachable, DNS queries and answers by RCODE. No root and no network.
 *
 * The headers are walked for every cut of several frames (each copied to a
 * heap block of exactly its captured length, so ASan in `make SAN=1` sees
 * any read past it), and the JSON and HTML reports of a fixture with
 * evidence are compared with the golden files
 * tests/data/reports/evidence.{json,html,md,txt} (DOORJAM_UPDATE_GOLDEN=1 rewrites
 * them). The test runs from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "common/dnsmsg.h"
#include "reports/capture.h"
#include "reports/report_html.h"
#include "reports/report_json.h"
#include "reports/report_md.h"
#include "reports/report_term.h"
#include "reports/result.h"

#define ORIGIN_S 1700000000ull
#define ORIGIN_NS (ORIGIN_S * 1000000000ull)
#define GOLDEN_DIR "tests/data/reports/"

/* ---- frame builders ---- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static size_t eth(uint8_t *f, unsigned etype)
{
	memset(f, 0, 14);
	f[0] = 0x02; f[5] = 0x01; f[6] = 0x02; f[11] = 0x02;
	put16(f + 12, etype);
	return 14;
}

static size_t ip4(uint8_t *f, const char *src, const char *dst, uint8_t proto, size_t l4len)
{
	memset(f, 0, 20);
	f[0] = 0x45;
	put16(f + 2, (unsigned)(20 + l4len));
	f[8] = 64;
	f[9] = proto;
	assert_int_equal(inet_pton(AF_INET, src, f + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, f + 16), 1);
	return 20;
}

static size_t ip6(uint8_t *f, const char *src, const char *dst, uint8_t nh, size_t plen)
{
	memset(f, 0, 40);
	f[0] = 0x60;
	put16(f + 4, (unsigned)plen);
	f[6] = nh;
	f[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, f + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, f + 24), 1);
	return 40;
}

#define SYN 0x02
#define RST 0x04
#define ACK 0x10

static size_t tcp(uint8_t *f, unsigned sp, unsigned dp, uint32_t seq, uint8_t flags)
{
	memset(f, 0, 20);
	put16(f, sp);
	put16(f + 2, dp);
	put32(f + 4, seq);
	f[12] = 5 << 4;
	f[13] = flags;
	put16(f + 14, 64240);
	return 20;
}

static size_t tcp4(uint8_t *f, const char *src, const char *dst, unsigned sp, unsigned dp,
		   uint32_t seq, uint8_t flags)
{
	size_t n = eth(f, 0x0800);

	n += ip4(f + n, src, dst, IPPROTO_TCP, 20);
	return n + tcp(f + n, sp, dp, seq, flags);
}

/* IPv6 with a destination-options header before TCP, to walk one extension header. */
static size_t tcp6(uint8_t *f, const char *src, const char *dst, unsigned sp, unsigned dp,
		   uint32_t seq, uint8_t flags)
{
	size_t n = eth(f, 0x86dd);

	n += ip6(f + n, src, dst, 60, 8 + 20);
	memset(f + n, 0, 8);
	f[n] = IPPROTO_TCP;
	f[n + 2] = 1;   /* PadN */
	f[n + 3] = 4;
	n += 8;
	return n + tcp(f + n, sp, dp, seq, flags);
}

static size_t udp4(uint8_t *f, const char *src, const char *dst, unsigned sp, unsigned dp,
		   const uint8_t *pay, size_t plen)
{
	size_t n = eth(f, 0x0800);

	n += ip4(f + n, src, dst, IPPROTO_UDP, 8 + plen);
	put16(f + n, sp);
	put16(f + n + 2, dp);
	put16(f + n + 4, (unsigned)(8 + plen));
	put16(f + n + 6, 0);
	memcpy(f + n + 8, pay, plen);
	return n + 8 + plen;
}

/* A TCP segment carrying one DNS message with its length prefix. */
static size_t tcpdns4(uint8_t *f, const char *src, const char *dst, unsigned sp, unsigned dp,
		      const uint8_t *msg, size_t mlen)
{
	size_t n = eth(f, 0x0800);

	n += ip4(f + n, src, dst, IPPROTO_TCP, 20 + 2 + mlen);
	n += tcp(f + n, sp, dp, 5000, ACK | 0x08);
	put16(f + n, (unsigned)mlen);
	memcpy(f + n + 2, msg, mlen);
	return n + 2 + mlen;
}

/* ICMP destination unreachable (code 1, host) from src to dst quoting a TCP SYN. */
static size_t unreach4(uint8_t *f, const char *src, const char *dst, const char *qsrc,
		       const char *qdst, unsigned qsp, unsigned qdp)
{
	size_t n = eth(f, 0x0800);

	n += ip4(f + n, src, dst, IPPROTO_ICMP, 8 + 28);
	memset(f + n, 0, 8);
	f[n] = 3;
	f[n + 1] = 1;
	n += 8;
	n += ip4(f + n, qsrc, qdst, IPPROTO_TCP, 20);
	put16(f + n, qsp);
	put16(f + n + 2, qdp);
	put32(f + n + 4, 77);
	return n + 8;
}

/* A DNS query for name (A), as a stub resolver sends it. */
static size_t dns_query(uint8_t *m, uint16_t id, const char *name, uint16_t qtype)
{
	struct err e;
	int wl;

	memset(m, 0, 12);
	put16(m, id);
	put16(m + 2, DNSMSG_F_RD);
	put16(m + 4, 1);
	wl = dnsmsg_name_encode(name, m + 12, 300, &e);
	assert_true(wl > 0);
	put16(m + 12 + wl, qtype);
	put16(m + 14 + wl, DNSMSG_CLASS_IN);
	return 16 + (size_t)wl;
}

static size_t dns_reply(uint8_t *out, const uint8_t *q, size_t qlen, unsigned rcode)
{
	struct dnsmsg qm;
	struct dnsmsg_answer a;
	struct err e;
	int n;

	assert_int_equal(dnsmsg_parse_query(q, qlen, &qm, &e), 0);
	memset(&a, 0, sizeof(a));
	a.rcode = rcode;
	n = dnsmsg_build(&qm, &a, out, 1500, 512);
	assert_true(n > 0);
	return (size_t)n;
}

/* ---- pcap writer ---- */

struct pw {
	pcap_t *dead;
	pcap_dumper_t *d;
};

static void pw_open(struct pw *w, const char *path)
{
	w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
						       PCAP_TSTAMP_PRECISION_NANO);
	assert_non_null(w->dead);
	w->d = pcap_dump_open(w->dead, path);
	assert_non_null(w->d);
}

/* One frame at t_ms after the origin (+ extra ns), cut to caplen (0: whole). */
static void pw_put(struct pw *w, uint64_t t_ms, const uint8_t *f, size_t len, size_t caplen)
{
	struct pcap_pkthdr h;
	uint64_t ns = ORIGIN_NS + t_ms * 1000000ull + 1234;

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(ns % 1000000000ull);
	h.len = (bpf_u_int32)len;
	h.caplen = (bpf_u_int32)(caplen ? caplen : len);
	pcap_dump((u_char *)w->d, &h, f);
}

static void pw_close(struct pw *w)
{
	pcap_dump_close(w->d);
	pcap_close(w->dead);
}

/* ---- the fixture: a client, a dead provider, a DNS server ---- */

struct fx {
	char dir[64];
	char near[128], far[128], dns[128];
};

#define CLI "10.77.1.2"
#define CORE "10.77.1.1"
#define RPC_A "10.77.2.10"
#define RPC_B "10.77.2.11"

/*
 * Fault 0 (net.blackhole us-east-1): 10.77.2.0/24 and fd77:2::/64, window
 * 1000..5000 ms. Fault 1 (dns.servfail *.use1.example): the same window.
 * Fault 2: never applied.
 */
static void write_near(const char *path)
{
	uint8_t f[2048];
	struct pw w;
	size_t n;

	pw_open(&w, path);
	/* before the window: a connection that works */
	n = tcp4(f, CLI, RPC_A, 40000, 8545, 100, SYN);
	pw_put(&w, 500, f, n, 0);
	n = tcp4(f, RPC_A, CLI, 8545, 40000, 9000, SYN | ACK);
	pw_put(&w, 501, f, n, 0);
	/* in the window: the SYN of 500 ms again is a retransmit */
	n = tcp4(f, CLI, RPC_A, 40000, 8545, 100, SYN);
	pw_put(&w, 1500, f, n, 0);
	/* a new attempt and its two retransmits */
	n = tcp4(f, CLI, RPC_A, 40001, 8545, 200, SYN);
	pw_put(&w, 1200, f, n, 0);
	pw_put(&w, 2200, f, n, 0);
	pw_put(&w, 4200, f, n, 0);
	/* an attempt toward RPC_B, refused by the core with ICMP host unreachable */
	n = tcp4(f, CLI, RPC_B, 40002, 443, 300, SYN);
	pw_put(&w, 1300, f, n, 0);
	n = unreach4(f, CORE, CLI, CLI, RPC_B, 40002, 443);
	pw_put(&w, 1301, f, n, 0);
	/* a SYN outside every faulted prefix */
	n = tcp4(f, CLI, "10.77.9.9", 40005, 80, 500, SYN);
	pw_put(&w, 1400, f, n, 0);
	/* a reset from RPC_A, and a UDP datagram toward it */
	n = tcp4(f, RPC_A, CLI, 8545, 40001, 0, RST | ACK);
	pw_put(&w, 1600, f, n, 0);
	n = udp4(f, CLI, RPC_A, 5000, 9999, (const uint8_t *)"ping", 4);
	pw_put(&w, 1700, f, n, 0);
	/* IPv6, through a destination-options header */
	n = tcp6(f, "fd77:1::2", "fd77:2::10", 40010, 8545, 600, SYN);
	pw_put(&w, 2000, f, n, 0);
	/* a SYN cut at the end of its TCP header still counts (snaplen) */
	n = tcp4(f, CLI, RPC_A, 40004, 8545, 400, SYN);
	put16(f + 14 + 2, 20 + 20 + 1000);   /* the datagram was longer on the wire */
	pw_put(&w, 3000, f, n + 1000, n);
	/* undecoded: a frame cut inside the IP header, an IPv4 header with IHL 4 */
	n = tcp4(f, CLI, RPC_A, 40006, 8545, 700, SYN);
	pw_put(&w, 3100, f, n, 30);
	f[14] = 0x44;
	pw_put(&w, 3200, f, n, 0);
	/* not IP: ARP is skipped, not undecoded */
	n = eth(f, 0x0806);
	memset(f + n, 0, 28);
	pw_put(&w, 3300, f, n + 28, 0);
	/* after the window */
	n = tcp4(f, CLI, RPC_A, 40003, 8545, 800, SYN);
	pw_put(&w, 6000, f, n, 0);
	pw_close(&w);
}

static void write_far(const char *path)
{
	uint8_t f[2048];
	struct pw w;
	size_t n;

	pw_open(&w, path);
	n = tcp4(f, CLI, RPC_A, 40000, 8545, 100, SYN);
	pw_put(&w, 500, f, n, 0);    /* before the window */
	n = udp4(f, CLI, RPC_A, 5000, 9999, (const uint8_t *)"ping", 4);
	pw_put(&w, 1700, f, n, 0);   /* the one packet that got through */
	n = tcp4(f, RPC_A, CLI, 8545, 40001, 0, RST | ACK);
	pw_put(&w, 1600, f, n, 0);   /* from the prefix, not toward it */
	pw_close(&w);
}

static void write_dns(const char *path)
{
	uint8_t f[2048], q[512], a[1500];
	size_t n, ql, al;
	struct pw w;

	pw_open(&w, path);
	ql = dns_query(q, 1, "a.use1.example", DNSMSG_TYPE_A);
	n = udp4(f, CLI, "10.77.3.53", 33000, 53, q, ql);
	pw_put(&w, 600, f, n, 0);    /* before the window */
	pw_put(&w, 1100, f, n, 0);
	al = dns_reply(a, q, ql, DNSMSG_RCODE_SERVFAIL);
	n = udp4(f, "10.77.3.53", CLI, 53, 33000, a, al);
	pw_put(&w, 1101, f, n, 0);

	ql = dns_query(q, 2, "B.Use1.Example", DNSMSG_TYPE_AAAA);
	n = udp4(f, CLI, "10.77.3.53", 33001, 53, q, ql);
	pw_put(&w, 1200, f, n, 0);
	al = dns_reply(a, q, ql, DNSMSG_RCODE_NXDOMAIN);
	n = udp4(f, "10.77.3.53", CLI, 53, 33001, a, al);
	pw_put(&w, 1201, f, n, 0);

	ql = dns_query(q, 3, "other.example", DNSMSG_TYPE_A);
	n = udp4(f, CLI, "10.77.3.53", 33002, 53, q, ql);
	pw_put(&w, 1300, f, n, 0);   /* not a faulted name */

	ql = dns_query(q, 4, "c.use1.example", DNSMSG_TYPE_A);
	n = tcpdns4(f, CLI, "10.77.3.53", 33003, 53, q, ql);
	pw_put(&w, 1400, f, n, 0);
	al = dns_reply(a, q, ql, DNSMSG_RCODE_NOERROR);
	n = tcpdns4(f, "10.77.3.53", CLI, 53, 33003, a, al);
	pw_put(&w, 1401, f, n, 0);

	/* undecoded: garbage on port 53, and a reply cut short by the capture */
	n = udp4(f, CLI, "10.77.3.53", 33004, 53, (const uint8_t *)"\x01\x02\x03", 3);
	pw_put(&w, 1500, f, n, 0);
	ql = dns_query(q, 5, "d.use1.example", DNSMSG_TYPE_A);
	al = dns_reply(a, q, ql, DNSMSG_RCODE_REFUSED);
	n = udp4(f, "10.77.3.53", CLI, 53, 33005, a, al);
	pw_put(&w, 1600, f, n, n - 3);
	pw_close(&w);
}

static struct fx *fx_make(void)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	strcpy(x->dir, "/tmp/djt-capture.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->near, sizeof(x->near), "%s/client.pcap", x->dir);
	snprintf(x->far, sizeof(x->far), "%s/core-rpc.pcap", x->dir);
	snprintf(x->dns, sizeof(x->dns), "%s/dns.pcap", x->dir);
	write_near(x->near);
	write_far(x->far);
	write_dns(x->dns);
	return x;
}

static void fx_free(struct fx *x)
{
	unlink(x->near);
	unlink(x->far);
	unlink(x->dns);
	rmdir(x->dir);
	free(x);
}

static void fault(struct fault_window *fw, const char *kind, const char *label,
		  uint64_t start, uint64_t end)
{
	fw->kind = strdup(kind);
	fw->label = strdup(label);
	fw->start_ms = start;
	fw->end_ms = end;
}

/* A result with the three faults and the evidence counted from the fixture. */
static struct run_result *counted(struct fx *x, int far, int dns)
{
	static const char *const pfx0[] = { "10.77.2.0/24", "fd77:2::/64" };
	static const char *const names1[] = { "*.use1.example" };
	static const char *const pfx2[] = { "10.77.1.2" };
	struct run_result *r = result_new(0, 3);
	struct capture *c;
	struct err e;

	assert_non_null(r);
	r->scenario = strdup("evidence");
	r->started_at_unix_ms = ORIGIN_S * 1000;
	r->duration_ms = 7000;
	r->lift_ms = 5000;
	fault(&r->faults[0], "net.blackhole", "net.blackhole us-east-1", 1000, 5000);
	fault(&r->faults[1], "dns.servfail", "dns.servfail *.use1.example", 1000, 5000);
	fault(&r->faults[2], "net.unreachable", "net.unreachable client", UINT64_MAX, UINT64_MAX);
	c = capture_new(NULL, &e);
	assert_non_null(c);
	capture_set_origin_ns(c, ORIGIN_NS);
	assert_int_equal(capture_add_file(c, x->near, "client eth0", CAPTURE_NEAR, &e), 0);
	if (far)
		assert_int_equal(capture_add_file(c, x->far, "core h2 (rpc-a)", CAPTURE_FAR, &e), 0);
	if (dns)
		assert_int_equal(capture_add_file(c, x->dns, "dns eth0", CAPTURE_DNS, &e), 0);
	assert_int_equal(capture_add_fault(c, 0, pfx0, 2, NULL, 0, &e), 0);
	assert_int_equal(capture_add_fault(c, 1, NULL, 0, names1, 1, &e), 0);
	assert_int_equal(capture_add_fault(c, 2, pfx2, 1, NULL, 0, &e), 0);
	assert_int_equal(capture_finish(c, r, &e), 0);
	capture_free(c);
	result_finish(r);
	return r;
}

static const struct evidence *find(const struct run_result *r, enum evidence_kind k,
				   const char *subject)
{
	size_t i;

	for (i = 0; i < r->nevidence; i++)
		if (r->evidence[i].kind == k && !strcmp(r->evidence[i].subject, subject))
			return &r->evidence[i];
	return NULL;
}

/* ---- tests ---- */

static void test_counts(void **state)
{
	struct fx *x = fx_make();
	struct run_result *r = counted(x, 1, 1);
	const struct evidence *ev;

	(void)state;
	/* rows: 2 prefixes, 3 destinations (v4 8545, v4 443, v6 8545), 1 name */
	assert_int_equal(r->nevidence, 6);
	assert_int_equal(r->ncaptures, 3);

	ev = find(r, EVIDENCE_PREFIX, "10.77.2.0/24");
	assert_non_null(ev);
	assert_int_equal(ev->fault, 0);
	/* SYN retx 1500, SYNs 1200/2200/4200, SYN 1300, UDP 1700, cut SYN 3000 */
	assert_int_equal(ev->sent, 7);
	assert_int_equal(ev->through, 1);
	assert_int_equal(ev->answered, 1);       /* the RST */
	assert_int_equal(ev->unreachable, 1);
	assert_int_equal(ev->first_ms, 1200);
	assert_int_equal(ev->last_ms, 4200);

	ev = find(r, EVIDENCE_PREFIX, "fd77:2::/64");
	assert_non_null(ev);
	assert_int_equal(ev->sent, 1);
	assert_int_equal(ev->through, 0);

	ev = find(r, EVIDENCE_CONNECT, "10.77.2.10:8545");
	assert_non_null(ev);
	assert_int_equal(ev->attempts, 2);        /* 40001, and 40004 cut at snaplen */
	assert_int_equal(ev->retries, 3);         /* 40000 once, 40001 twice */
	assert_int_equal(ev->answered, 0);        /* the SYN-ACK came before the window */
	assert_int_equal(ev->reset, 1);

	ev = find(r, EVIDENCE_CONNECT, "10.77.2.11:443");
	assert_non_null(ev);
	assert_int_equal(ev->attempts, 1);
	assert_int_equal(ev->retries, 0);
	assert_int_equal(ev->unreachable, 1);

	ev = find(r, EVIDENCE_CONNECT, "[fd77:2::10]:8545");
	assert_non_null(ev);
	assert_int_equal(ev->attempts, 1);
	assert_null(find(r, EVIDENCE_CONNECT, "10.77.9.9:80"));

	ev = find(r, EVIDENCE_DNS, "*.use1.example");
	assert_non_null(ev);
	assert_int_equal(ev->fault, 1);
	assert_int_equal(ev->sent, 3);
	assert_int_equal(ev->answered, 3);
	assert_int_equal(ev->rcode[DNSMSG_RCODE_NOERROR], 1);
	assert_int_equal(ev->rcode[DNSMSG_RCODE_SERVFAIL], 1);
	assert_int_equal(ev->rcode[DNSMSG_RCODE_NXDOMAIN], 1);
	assert_int_equal(ev->rcode[DNSMSG_RCODE_REFUSED], 0);   /* cut short: undecoded */
	assert_int_equal(ev->first_ms, 1100);
	assert_int_equal(ev->last_ms, 1401);

	/* the captures: every frame is in the file; undecoded ones are counted */
	assert_string_equal(r->captures[0].role, "near");
	assert_int_equal(r->captures[0].packets, 17);
	assert_int_equal(r->captures[0].undecoded, 2);
	assert_int_equal(r->captures[1].packets, 3);
	assert_int_equal(r->captures[1].undecoded, 0);
	assert_int_equal(r->captures[2].packets, 10);
	assert_int_equal(r->captures[2].undecoded, 2);
	assert_null(r->captures[0].error);

	/* fault 2 was never applied: no row names it */
	for (size_t i = 0; i < r->nevidence; i++)
		assert_int_not_equal(r->evidence[i].fault, 2);
	result_free(r);
	fx_free(x);
}

/* Without a far point "through" is not measured; without a DNS point there are no DNS rows. */
static void test_roles_missing(void **state)
{
	struct fx *x = fx_make();
	struct run_result *r = counted(x, 0, 0);
	const struct evidence *ev;

	(void)state;
	ev = find(r, EVIDENCE_PREFIX, "10.77.2.0/24");
	assert_non_null(ev);
	assert_int_equal(ev->sent, 7);
	assert_true(ev->through == UINT64_MAX);
	assert_null(find(r, EVIDENCE_DNS, "*.use1.example"));
	assert_int_equal(r->nevidence, 5);
	result_free(r);
	fx_free(x);
}

/* The window is half-open and in whole ms from the origin. */
static void test_window_edges(void **state)
{
	static const char *const pfx[] = { "10.77.2.10/32" };
	char path[] = "/tmp/djt-capture-edge.XXXXXX";
	struct run_result *r = result_new(0, 1);
	struct capture *c;
	uint8_t f[128];
	struct pw w;
	struct err e;
	size_t n;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	pw_open(&w, path);
	n = tcp4(f, CLI, RPC_A, 1, 80, 1, SYN);
	pw_put(&w, 999, f, n, 0);    /* 999.001 ms: before */
	n = tcp4(f, CLI, RPC_A, 2, 80, 2, SYN);
	pw_put(&w, 1000, f, n, 0);   /* 1000.001 ms: in */
	n = tcp4(f, CLI, RPC_A, 3, 80, 3, SYN);
	pw_put(&w, 1999, f, n, 0);   /* in */
	n = tcp4(f, CLI, RPC_A, 4, 80, 4, SYN);
	pw_put(&w, 2000, f, n, 0);   /* the end is out */
	pw_close(&w);
	fault(&r->faults[0], "net.blackhole", "x", 1000, 2000);
	c = capture_new(NULL, &e);
	capture_set_origin_ns(c, ORIGIN_NS);
	assert_int_equal(capture_add_file(c, path, "near", CAPTURE_NEAR, &e), 0);
	assert_int_equal(capture_add_fault(c, 0, pfx, 1, NULL, 0, &e), 0);
	assert_int_equal(capture_finish(c, r, &e), 0);
	assert_int_equal(capture_finish(c, r, &e), -EINVAL);   /* once only */
	capture_free(c);
	assert_int_equal(r->nevidence, 2);
	assert_string_equal(r->evidence[0].subject, "10.77.2.10/32");
	assert_int_equal(r->evidence[0].sent, 2);
	assert_string_equal(r->evidence[1].subject, "10.77.2.10:80");
	assert_int_equal(r->evidence[1].attempts, 2);
	result_free(r);
	unlink(path);
}

/* Every cut of several frames, each in a heap block of exactly that size. */
static void test_truncation(void **state)
{
	uint8_t f[5][2048], q[512], a[1500];
	size_t len[5], ql, al, i, cut;

	(void)state;
	len[0] = tcp4(f[0], CLI, RPC_A, 40000, 8545, 1, SYN);
	len[1] = tcp6(f[1], "fd77:1::2", "fd77:2::10", 40010, 8545, 2, SYN);
	len[2] = unreach4(f[2], CORE, CLI, CLI, RPC_B, 40002, 443);
	ql = dns_query(q, 9, "a.use1.example", DNSMSG_TYPE_A);
	al = dns_reply(a, q, ql, DNSMSG_RCODE_SERVFAIL);
	len[3] = udp4(f[3], "10.77.3.53", CLI, 53, 33000, a, al);
	len[4] = tcpdns4(f[4], CLI, "10.77.3.53", 33003, 53, q, ql);
	for (i = 0; i < 5; i++) {
		assert_int_equal(capture_frame_check(DLT_EN10MB, f[i], len[i]), 1);
		for (cut = 0; cut < len[i]; cut++) {
			uint8_t *b = malloc(cut ? cut : 1);
			int rc;

			assert_non_null(b);
			memcpy(b, f[i], cut);
			rc = capture_frame_check(DLT_EN10MB, b, cut);
			free(b);
			/* cut inside the link or IP header: undecoded */
			if (cut < 14 + 20)
				assert_int_equal(rc, -1);
			/* a DNS message cut short is never taken as one */
			if (i >= 3 && cut >= 14 + 20 + (i == 3 ? 8 : 20))
				assert_int_equal(rc, -1);
		}
	}
	/* an IP packet in a raw-IP capture, an ARP frame, an unknown link type */
	assert_int_equal(capture_frame_check(DLT_RAW, f[0] + 14, len[0] - 14), 1);
	assert_int_equal(capture_frame_check(DLT_EN10MB, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\x08\x06", 14), 0);
	assert_int_equal(capture_frame_check(9999, f[0], len[0]), -1);
	/* Ethernet says IPv4, the header says IPv6 */
	memcpy(a, f[0], len[0]);
	a[14] = 0x65;
	assert_int_equal(capture_frame_check(DLT_EN10MB, a, len[0]), -1);
	/* an ICMP error quoting a datagram of the other family */
	memcpy(a, f[2], len[2]);
	a[14 + 20 + 8] = 0x60;
	assert_int_equal(capture_frame_check(DLT_EN10MB, a, len[2]), -1);
}

static void test_bad_input(void **state)
{
	static const char *const bad[] = { "10.77.2.0/33" };
	static const char *const bad2[] = { "example.com/24" };
	static const char *const empty[] = { "" };
	struct capture *c;
	struct run_result *r = result_new(0, 1);
	struct err e;

	(void)state;
	c = capture_new(NULL, &e);
	assert_non_null(c);
	assert_int_equal(capture_add_fault(c, 0, bad, 1, NULL, 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "10.77.2.0/33"));
	assert_int_equal(capture_add_fault(c, 0, bad2, 1, NULL, 0, &e), -EINVAL);
	assert_int_equal(capture_add_fault(c, 0, NULL, 0, empty, 1, &e), -EINVAL);
	/* live points need a loop */
	assert_int_equal(capture_add_point(c, -1, "lo", "lo", CAPTURE_NEAR, "/tmp/x.pcap", &e),
			 -EINVAL);
	/* a missing file is reported on its capture, not fatal */
	assert_int_equal(capture_add_file(c, "/nonexistent/x.pcap", "gone", CAPTURE_DNS, &e), 0);
	/* a fault index the result does not have is */
	assert_int_equal(capture_add_fault(c, 5, NULL, 0, NULL, 0, &e), 0);
	fault(&r->faults[0], "net.blackhole", "x", 0, 10);
	assert_int_equal(capture_finish(c, r, &e), -EINVAL);
	capture_free(c);
	result_free(r);

	r = result_new(0, 1);
	fault(&r->faults[0], "net.blackhole", "x", 0, 10);
	c = capture_new(NULL, &e);
	assert_int_equal(capture_add_file(c, "/nonexistent/x.pcap", "gone", CAPTURE_DNS, &e), 0);
	assert_int_equal(capture_finish(c, r, &e), 0);
	assert_int_equal(r->ncaptures, 1);
	assert_non_null(r->captures[0].error);
	assert_int_equal(r->nevidence, 0);
	capture_free(c);
	result_free(r);
	capture_free(NULL);
}

/* ---- golden reports with evidence ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	s[n] = '\0';
	*len = (size_t)n;
	return s;
}

enum golden_fmt { G_JSON, G_HTML, G_MD, G_TERM };

static void golden(const char *name, const struct run_result *r, enum golden_fmt fmt)
{
	char path[256], *got = NULL, *want;
	size_t got_len = 0, want_len = 0, i;
	FILE *mem = open_memstream(&got, &got_len);
	struct err e;
	const char *upd = getenv("DOORJAM_UPDATE_GOLDEN");

	assert_non_null(mem);
	if (fmt == G_HTML)
		assert_int_equal(report_html_write(r, mem, &e), 0);
	else if (fmt == G_MD)
		assert_int_equal(report_md_write(r, mem, &e), 0);
	else if (fmt == G_TERM)
		assert_int_equal(report_term_write(r, mem, 0, &e), 0);
	else
		assert_int_equal(report_json_write(r, mem, &e), 0);
	fclose(mem);
	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	if (upd && !strcmp(upd, "1")) {
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(got, 1, got_len, f), got_len);
		fclose(f);
	}
	want = slurp(path, &want_len);
	if (!want)
		fail_msg("%s: cannot read (run from the repository root)", path);
	if (got_len != want_len || memcmp(got, want, got_len)) {
		for (i = 0; i < got_len && i < want_len && got[i] == want[i]; i++)
			;
		fail_msg("%s: output differs at byte %zu; DOORJAM_UPDATE_GOLDEN=1 rewrites it",
			 path, i);
	}
	free(got);
	free(want);
}

static void test_golden(void **state)
{
	struct fx *x = fx_make();
	struct run_result *r = counted(x, 1, 1);
	struct result_capture extra;
	size_t i;

	(void)state;
	/* the files live in a temporary folder: give them stable names */
	for (i = 0; i < r->ncaptures; i++) {
		const char *base = strrchr(r->captures[i].path, '/') + 1;
		char *p = NULL;

		assert_true(asprintf(&p, "pcap/%s", base) > 0);
		free(r->captures[i].path);
		r->captures[i].path = p;
	}
	/* a hostile path and label: escaped, and never read as a URL scheme */
	memset(&extra, 0, sizeof(extra));
	extra.label = (char *)"<b>evil</b>";
	extra.role = (char *)"near";
	extra.path = (char *)"javascript:alert(1)\".pcap";
	extra.error = (char *)"capture stopped: The interface went down";
	assert_int_equal(result_add_capture(r, &extra), 0);
	golden("evidence.json", r, G_JSON);
	golden("evidence.html", r, G_HTML);
	golden("evidence.md", r, G_MD);
	golden("evidence.txt", r, G_TERM);
	result_free(r);
	fx_free(x);
}

/* The JSON of a result with evidence parses, and its numbers are the counts. */
static void test_json_shape(void **state)
{
	struct fx *x = fx_make();
	struct run_result *r = counted(x, 1, 1);
	char *got = NULL;
	size_t got_len = 0;
	FILE *mem = open_memstream(&got, &got_len);
	struct err e;
	json_error_t je;
	json_t *root, *ev;

	(void)state;
	assert_int_equal(report_json_write(r, mem, &e), 0);
	fclose(mem);
	root = json_loads(got, 0, &je);
	assert_non_null(root);
	ev = json_object_get(root, "evidence");
	assert_int_equal(json_array_size(ev), 6);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "kind")),
			    "prefix");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "sent")), 7);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		json_array_get(ev, 5), "rcodes"), "SERVFAIL")), 1);
	assert_int_equal(json_array_size(json_object_get(root, "captures")), 3);
	json_decref(root);
	free(got);
	result_free(r);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_roles_missing),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_json_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
