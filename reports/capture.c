/*
 * capture: libpcap capture points on the event loop, and the evidence
 * counted from their files. See capture.h for the contract and
 * docs/report-format.md for the counting rules.
 *
 * Counting is done after the run, from the files, rather than live: the
 * fault windows are only final when the run is over (a fault may be applied
 * late or never), the loop does no parsing while flows are timed, and the
 * numbers in the report come from exactly the bytes a user can open in
 * Wireshark. Headers are walked by hand (no BPF per counter) so that one
 * pass over a file feeds every counter.
 */
#include "reports/capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "common/loop.h"
#include "common/netns.h"
#include "common/dnsmsg.h"
#include "reports/result.h"

#define DISPATCH_BATCH   512   /* packets per pcap_dispatch */
#define DISPATCH_ROUNDS  16    /* pcap_dispatch calls per wake-up, so the loop moves on */
#define DRAIN_ROUNDS     4096  /* at the end: read until empty, but not forever */
#define PCAP_FILE_HDR    24u
#define PCAP_REC_HDR     16u
#define MAX_DNS_PORTS    8
#define MAX_EXT_HEADERS  8     /* IPv6 extension headers walked before giving up */
#define MAX_VLAN_TAGS    2

/* ---- model ---- */

struct prefix {
	int family;                /* AF_INET or AF_INET6 */
	uint8_t addr[16];          /* masked */
	unsigned plen;
	char text[INET6_ADDRSTRLEN + 8];
};

struct dest {
	int family;
	uint8_t addr[16];
	uint16_t port;
	struct evidence ev;
};

struct fault_spec {
	size_t index;
	struct prefix *prefixes;
	size_t nprefixes;
	char **names;
	size_t nnames;
	/* counters, filled by capture_finish */
	uint64_t start_ms, end_ms;
	struct evidence *pfx_ev;   /* one per prefix */
	struct evidence *dns_ev;   /* one per name */
	struct dest *dests;        /* at most CAPTURE_MAX_DESTS */
	size_t ndests;
};

struct point {
	struct capture *c;
	char *label;
	char *path;
	char *ifname;              /* NULL for a file added with capture_add_file */
	enum capture_role role;
	int nsfd;
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	int fd;                    /* selectable fd while watched, else -1 */
	uint64_t bytes;            /* written to the file */
	uint64_t packets;
	uint64_t dropped;
	uint64_t undecoded;
	int usable;                /* the file can be counted */
	char error[512];
};

struct capture {
	struct loop *loop;
	struct point **points;
	size_t npoints;
	struct fault_spec *faults;
	size_t nfaults;
	uint16_t dns_ports[MAX_DNS_PORTS];
	size_t ndns_ports;
	uint64_t origin_ns;
	int finished;
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct capture *capture_new(struct loop *loop, struct err *err)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (!c) {
		err_set(err, -ENOMEM, "capture: out of memory");
		return NULL;
	}
	c->loop = loop;
	c->dns_ports[0] = 53;
	c->ndns_ports = 1;
	c->origin_ns = realtime_ns();
	return c;
}

void capture_set_origin(struct capture *c, uint64_t mono_us)
{
	uint64_t now_mono = loop_now_us(), now_rt = realtime_ns();
	uint64_t back_ns = now_mono > mono_us ? (now_mono - mono_us) * 1000 : 0;

	c->origin_ns = now_rt > back_ns ? now_rt - back_ns : 0;
}

void capture_set_origin_ns(struct capture *c, uint64_t unix_ns)
{
	c->origin_ns = unix_ns;
}

uint64_t capture_origin_ns(const struct capture *c)
{
	return c->origin_ns;
}

int capture_add_dns_port(struct capture *c, uint16_t port)
{
	size_t i;

	for (i = 0; i < c->ndns_ports; i++)
		if (c->dns_ports[i] == port)
			return 0;
	if (c->ndns_ports == MAX_DNS_PORTS)
		return -ENOBUFS;
	c->dns_ports[c->ndns_ports++] = port;
	return 0;
}

/* Stop watching and close the live parts of a point; the file stays. */
static void point_close(struct point *pt)
{
	if (pt->fd >= 0 && pt->c->loop)
		loop_fd_del(pt->c->loop, pt->fd);
	pt->fd = -1;
	if (pt->dumper) {
		pcap_dump_close(pt->dumper);
		pt->dumper = NULL;
	}
	if (pt->pcap) {
		pcap_close(pt->pcap);
		pt->pcap = NULL;
	}
}

static void point_free(struct point *pt)
{
	if (!pt)
		return;
	point_close(pt);
	free(pt->label);
	free(pt->path);
	free(pt->ifname);
	free(pt);
}

static void fault_spec_cleanup(struct fault_spec *f)
{
	size_t i;

	free(f->prefixes);
	for (i = 0; i < f->nnames; i++)
		free(f->names[i]);
	free(f->names);
	free(f->pfx_ev);
	free(f->dns_ev);
	free(f->dests);
}

void capture_free(struct capture *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->npoints; i++)
		point_free(c->points[i]);
	free(c->points);
	for (i = 0; i < c->nfaults; i++)
		fault_spec_cleanup(&c->faults[i]);
	free(c->faults);
	free(c);
}

static struct point *point_new(struct capture *c, const char *label, const char *path,
			       enum capture_role role, struct err *err)
{
	struct point **arr, *pt;

	if (c->finished) {
		err_set(err, -EINVAL, "capture: already finished");
		return NULL;
	}
	if (c->npoints >= CAPTURE_MAX_POINTS) {
		err_set(err, -ENOBUFS, "capture: more than %u capture points", CAPTURE_MAX_POINTS);
		return NULL;
	}
	if ((unsigned)role > CAPTURE_DNS || !label || !path || !*path) {
		err_set(err, -EINVAL, "capture: a point needs a role, a label and a path");
		return NULL;
	}
	arr = realloc(c->points, (c->npoints + 1) * sizeof(*arr));
	if (!arr)
		goto oom;
	c->points = arr;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		goto oom;
	pt->c = c;
	pt->fd = -1;
	pt->role = role;
	pt->nsfd = NETNS_SELF;
	pt->label = strdup(label);
	pt->path = strdup(path);
	if (!pt->label || !pt->path) {
		point_free(pt);
		goto oom;
	}
	return pt;
oom:
	err_set(err, -ENOMEM, "capture: out of memory");
	return NULL;
}

int capture_add_file(struct capture *c, const char *path, const char *label,
		     enum capture_role role, struct err *err)
{
	struct point *pt = point_new(c, label, path, role, err);

	if (!pt)
		return err->code ? err->code : -ENOMEM;
	pt->usable = 1;
	c->points[c->npoints++] = pt;
	return 0;
}

/* ---- live capture ---- */

/* Runs on a thread inside the point's namespace: the handle is bound there. */
static int point_activate(void *arg, struct err *err)
{
	struct point *pt = arg;
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	int rc;

	p = pcap_create(pt->ifname, ebuf);
	if (!p)
		return err_set(err, -EIO, "pcap_create %s: %s", pt->ifname, ebuf);
	if (pcap_set_snaplen(p, (int)CAPTURE_SNAPLEN) || pcap_set_promisc(p, 0) ||
	    pcap_set_immediate_mode(p, 1) || pcap_set_buffer_size(p, 4 << 20) ||
	    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO)) {
		rc = err_set(err, -EIO, "%s: cannot set capture options (nanosecond timestamps)",
			     pt->ifname);
		goto fail;
	}
	rc = pcap_activate(p);
	if (rc < 0) {
		int code = rc == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV :
			   rc == PCAP_ERROR_PERM_DENIED ? -EPERM : -EIO;

		rc = err_set(err, code, "capture on %s: %s", pt->ifname, pcap_geterr(p));
		goto fail;
	}
	pt->pcap = p;
	return 0;
fail:
	pcap_close(p);
	return rc;
}

static void point_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct point *pt = (struct point *)arg;
	uint64_t need = PCAP_REC_HDR + (uint64_t)h->caplen;

	if (!pt->dumper || pt->bytes + need > CAPTURE_FILE_MAX) {
		pt->dropped++;
		return;
	}
	pcap_dump((u_char *)pt->dumper, h, bytes);
	pt->bytes += need;
	pt->packets++;
}

/* Read what is buffered, at most rounds batches. Returns 0, or -1 when the handle failed. */
static int point_read(struct point *pt, int rounds)
{
	int i, n;

	for (i = 0; i < rounds; i++) {
		n = pcap_dispatch(pt->pcap, DISPATCH_BATCH, point_packet, (u_char *)pt);
		if (n == 0 || n == PCAP_ERROR_BREAK)
			return 0;
		if (n < 0) {
			if (!pt->error[0])
				snprintf(pt->error, sizeof(pt->error), "capture stopped: %s",
					 pcap_geterr(pt->pcap));
			return -1;
		}
	}
	return 0;
}

static void point_readable(struct loop *l, int fd, unsigned events, void *arg)
{
	struct point *pt = arg;

	(void)events;
	if (point_read(pt, DISPATCH_ROUNDS) < 0) {
		/* the link went away or the handle broke: keep what was written */
		loop_fd_del(l, fd);
		pt->fd = -1;
		if (pt->dumper)
			pcap_dump_flush(pt->dumper);
	}
}

int capture_add_point(struct capture *c, int nsfd, const char *ifname, const char *label,
		      enum capture_role role, const char *path, struct err *err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct point *pt;
	int rc, fd;

	if (!c->loop)
		return err_set(err, -EINVAL, "capture: live points need an event loop");
	if (!ifname || !*ifname)
		return err_set(err, -EINVAL, "capture: no interface named");
	pt = point_new(c, label, path, role, err);
	if (!pt)
		return err->code ? err->code : -ENOMEM;
	pt->nsfd = nsfd;
	pt->ifname = strdup(ifname);
	if (!pt->ifname) {
		rc = err_set(err, -ENOMEM, "capture: out of memory");
		goto fail;
	}
	rc = netns_run(nsfd, point_activate, pt, err);
	if (rc)
		goto fail;
	if (pcap_setnonblock(pt->pcap, 1, ebuf) < 0) {
		rc = err_set(err, -EIO, "capture on %s: non-blocking mode: %s", ifname, ebuf);
		goto fail;
	}
	fd = pcap_get_selectable_fd(pt->pcap);
	if (fd < 0) {
		rc = err_set(err, -EIO, "capture on %s: no selectable fd", ifname);
		goto fail;
	}
	pt->dumper = pcap_dump_open(pt->pcap, path);
	if (!pt->dumper) {
		rc = err_set(err, -EIO, "capture file %s: %s", path, pcap_geterr(pt->pcap));
		goto fail;
	}
	pt->bytes = PCAP_FILE_HDR;
	rc = loop_fd_add(c->loop, fd, LOOP_READ, point_readable, pt, err);
	if (rc)
		goto fail;
	pt->fd = fd;
	pt->usable = 1;
	c->points[c->npoints++] = pt;
	return 0;
fail:
	err_prefix(err, "capture point %s: ", label);
	point_free(pt);
	return rc;
}

/* ---- faults ---- */

static int prefix_parse(const char *s, struct prefix *p, struct err *err)
{
	char buf[INET6_ADDRSTRLEN + 8], abuf[INET6_ADDRSTRLEN];
	char *slash, *end;
	unsigned long plen;
	unsigned maxlen, i;

	if (!s || strlen(s) >= sizeof(buf))
		return err_set(err, -EINVAL, "capture: bad prefix \"%.80s\"", s ? s : "(null)");
	memset(p, 0, sizeof(*p));
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		maxlen = 128;
	} else {
		return err_set(err, -EINVAL, "capture: bad prefix \"%s\"", s);
	}
	plen = maxlen;
	if (slash) {
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || plen > maxlen)
			return err_set(err, -EINVAL, "capture: bad prefix length in \"%s\"", s);
	}
	p->plen = (unsigned)plen;
	for (i = 0; i < 16; i++) {
		unsigned bits = p->plen > i * 8 ? p->plen - i * 8 : 0;

		if (bits < 8)
			p->addr[i] &= (uint8_t)(0xff00u >> bits);
	}
	inet_ntop(p->family, p->addr, abuf, sizeof(abuf));
	snprintf(p->text, sizeof(p->text), "%s/%u", abuf, p->plen);
	return 0;
}

int capture_add_fault(struct capture *c, size_t fault, const char *const *prefixes,
		      size_t nprefixes, const char *const *names, size_t nnames,
		      struct err *err)
{
	struct fault_spec *arr, *f;
	size_t i;
	int rc = 0;

	if (c->finished)
		return err_set(err, -EINVAL, "capture: already finished");
	if (c->nfaults >= CAPTURE_MAX_FAULTS || nprefixes > CAPTURE_MAX_PREFIXES ||
	    nnames > CAPTURE_MAX_NAMES)
		return err_set(err, -ENOBUFS, "capture: too many faults, prefixes or names "
			       "(at most %u, %u, %u)", CAPTURE_MAX_FAULTS, CAPTURE_MAX_PREFIXES,
			       CAPTURE_MAX_NAMES);
	arr = realloc(c->faults, (c->nfaults + 1) * sizeof(*arr));
	if (!arr)
		return err_set(err, -ENOMEM, "capture: out of memory");
	c->faults = arr;
	f = &c->faults[c->nfaults];
	memset(f, 0, sizeof(*f));
	f->index = fault;
	f->prefixes = calloc(nprefixes + 1, sizeof(*f->prefixes));
	f->names = calloc(nnames + 1, sizeof(*f->names));
	if (!f->prefixes || !f->names) {
		rc = err_set(err, -ENOMEM, "capture: out of memory");
		goto fail;
	}
	for (i = 0; i < nprefixes; i++) {
		rc = prefix_parse(prefixes[i], &f->prefixes[i], err);
		if (rc)
			goto fail;
		f->nprefixes++;
	}
	for (i = 0; i < nnames; i++) {
		if (!names[i] || !*names[i] || strlen(names[i]) >= DNSMSG_TEXT_MAX) {
			rc = err_set(err, -EINVAL, "capture: bad DNS name pattern");
			goto fail;
		}
		f->names[i] = strdup(names[i]);
		if (!f->names[i]) {
			rc = err_set(err, -ENOMEM, "capture: out of memory");
			goto fail;
		}
		f->nnames++;
	}
	c->nfaults++;
	return 0;
fail:
	fault_spec_cleanup(f);
	return rc;
}

/* ---- header walk ---- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct ipinfo {
	int family;                 /* 0: not IP */
	const uint8_t *src, *dst;   /* 4 or 16 bytes */
	uint8_t proto;
	int first;                  /* not a fragment, or the first one: l4 holds its header */
	int complete;               /* the whole datagram was captured */
	const uint8_t *l4;
	size_t l4len;               /* captured bytes of the upper layer */
};

struct pkt {
	struct ipinfo ip;
	int ports;                  /* TCP or UDP header read */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t seq;
	const uint8_t *payload;
	size_t paylen;
	int payload_complete;
	/* ICMP or ICMPv6 destination unreachable, and what it is about */
	int unreach;
	struct ipinfo inner;
	int inner_ports;
	uint16_t inner_sport, inner_dport;
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/*
 * Walk an IP header at p (n captured bytes). quoted: the header inside an
 * ICMP error, which is cut short by design, so a datagram longer than what
 * is there is fine. Returns 0, or -1 when the header does not add up.
 */
static int ip_walk(const uint8_t *p, size_t n, int quoted, struct ipinfo *ip)
{
	size_t hl, total, avail, off;
	unsigned k;
	uint8_t nh;

	memset(ip, 0, sizeof(*ip));
	if (n < 1)
		return -1;
	if ((p[0] >> 4) == 4) {
		if (n < 20)
			return -1;
		hl = (size_t)(p[0] & 0x0f) * 4;
		total = be16(p + 2);
		if (hl < 20 || hl > n || total < hl)
			return -1;
		ip->family = AF_INET;
		ip->proto = p[9];
		ip->src = p + 12;
		ip->dst = p + 16;
		ip->first = (be16(p + 6) & 0x1fff) == 0;
		ip->complete = total <= n && !(be16(p + 6) & 0x3fff);
		avail = total < n ? total : n;
		ip->l4 = p + hl;
		ip->l4len = avail - hl;
		return 0;
	}
	if ((p[0] >> 4) != 6 || n < 40)
		return -1;
	total = 40 + (size_t)be16(p + 4);
	if (total == 40 && p[6] == 0 && !quoted)
		return -1;   /* a jumbogram needs the hop-by-hop option: not on these links */
	ip->family = AF_INET6;
	ip->src = p + 8;
	ip->dst = p + 24;
	ip->complete = total <= n;
	avail = total < n ? total : n;
	ip->first = 1;
	nh = p[6];
	off = 40;
	for (k = 0; k < MAX_EXT_HEADERS; k++) {
		size_t len;

		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
			break;
		if (off + 8 > avail)
			return quoted ? (ip->first = 0, 0) : -1;
		if (nh == 44) {
			len = 8;
			if (be16(p + off + 2) & 0xfff8)
				ip->first = 0;
			ip->complete = 0;
		} else if (nh == 51) {
			len = ((size_t)p[off + 1] + 2) * 4;
		} else {
			len = ((size_t)p[off + 1] + 1) * 8;
		}
		if (off + len > avail)
			return quoted ? (ip->first = 0, 0) : -1;
		nh = p[off];
		off += len;
		if (!ip->first)
			break;
	}
	if (k == MAX_EXT_HEADERS)
		return -1;
	ip->proto = nh;
	ip->l4 = p + off;
	ip->l4len = avail - off;
	return 0;
}

/*
 * Walk one captured frame. Returns 1 for an IP packet (p filled), 0 for a
 * frame that is not IP (ARP ...), -1 for headers that do not add up.
 */
static int pkt_walk(int linktype, const uint8_t *b, size_t n, struct pkt *p)
{
	unsigned etype, tags = 0;
	size_t off;

	memset(p, 0, sizeof(*p));
	switch (linktype) {
	case DLT_EN10MB:
		if (n < 14)
			return -1;
		etype = be16(b + 12);
		off = 14;
		while (etype == 0x8100 || etype == 0x88a8) {
			if (++tags > MAX_VLAN_TAGS || n < off + 4)
				return -1;
			etype = be16(b + off + 2);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (n < 16)
			return -1;
		etype = be16(b + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (n < 20)
			return -1;
		etype = be16(b);
		off = 20;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (n < 1)
			return -1;
		etype = (b[0] >> 4) == 6 ? 0x86dd : 0x0800;
		off = 0;
		break;
	default:
		return -1;
	}
	if (etype != 0x0800 && etype != 0x86dd)
		return 0;
	if (ip_walk(b + off, n - off, 0, &p->ip))
		return -1;
	if ((etype == 0x0800) != (p->ip.family == AF_INET))
		return -1;
	if (!p->ip.first)
		return 1;

	switch (p->ip.proto) {
	case IPPROTO_TCP: {
		size_t doff;

		if (p->ip.l4len < 20)
			return p->ip.complete ? -1 : 1;
		doff = (size_t)(p->ip.l4[12] >> 4) * 4;
		if (doff < 20 || doff > p->ip.l4len)
			return p->ip.complete ? -1 : 1;
		p->ports = 1;
		p->sport = be16(p->ip.l4);
		p->dport = be16(p->ip.l4 + 2);
		p->seq = be32(p->ip.l4 + 4);
		p->tcp_flags = p->ip.l4[13];
		p->payload = p->ip.l4 + doff;
		p->paylen = p->ip.l4len - doff;
		p->payload_complete = p->ip.complete;
		break;
	}
	case IPPROTO_UDP: {
		size_t ulen;

		if (p->ip.l4len < 8)
			return p->ip.complete ? -1 : 1;
		ulen = be16(p->ip.l4 + 4);
		if (ulen < 8 || (p->ip.complete && ulen > p->ip.l4len))
			return -1;
		p->ports = 1;
		p->sport = be16(p->ip.l4);
		p->dport = be16(p->ip.l4 + 2);
		p->payload = p->ip.l4 + 8;
		p->paylen = (ulen < p->ip.l4len ? ulen : p->ip.l4len) - 8;
		p->payload_complete = p->ip.complete && ulen <= p->ip.l4len;
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		int v6 = p->ip.proto == IPPROTO_ICMPV6;

		if (p->ip.l4len < 8)
			return p->ip.complete ? -1 : 1;
		if (v6 != (p->ip.family == AF_INET6))
			return 1;   /* ICMP over IPv6 or ICMPv6 over IPv4: nothing to read */
		if (p->ip.l4[0] != (v6 ? 1 : 3))
			return 1;
		/* the quoted datagram must be of the same family */
		if (ip_walk(p->ip.l4 + 8, p->ip.l4len - 8, 1, &p->inner) ||
		    p->inner.family != p->ip.family)
			return -1;
		p->unreach = 1;
		if (p->inner.first && p->inner.l4len >= 4 &&
		    (p->inner.proto == IPPROTO_TCP || p->inner.proto == IPPROTO_UDP)) {
			p->inner_ports = 1;
			p->inner_sport = be16(p->inner.l4);
			p->inner_dport = be16(p->inner.l4 + 2);
		}
		break;
	}
	default:
		break;
	}
	return 1;
}

static int prefix_has(const struct prefix *pf, int family, const uint8_t *a)
{
	unsigned full = pf->plen / 8, rest = pf->plen % 8;

	if (!a || family != pf->family)
		return 0;
	if (memcmp(pf->addr, a, full))
		return 0;
	return rest == 0 || (a[full] & (uint8_t)(0xff00u >> rest)) == pf->addr[full];
}

static int fault_has(const struct fault_spec *f, int family, const uint8_t *a)
{
	size_t i;

	for (i = 0; i < f->nprefixes; i++)
		if (prefix_has(&f->prefixes[i], family, a))
			return 1;
	return 0;
}

/* ---- counting ---- */

/* A set of SYNs seen (64-bit hashes of ports, addresses and sequence number). */
struct synset {
	uint64_t *slot;
	size_t used;
};

#define SYNSET_SIZE (2u * CAPTURE_SYN_TRACK)

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* 1 when this SYN was seen before (a retransmit), 0 when it is new. */
static int synset_seen(struct synset *s, const struct pkt *p)
{
	size_t alen = p->ip.family == AF_INET ? 4 : 16, i;
	uint8_t k[12];
	uint64_t h = 0xcbf29ce484222325ull;

	h = fnv(h, p->ip.src, alen);
	h = fnv(h, p->ip.dst, alen);
	k[0] = (uint8_t)(p->sport >> 8); k[1] = (uint8_t)p->sport;
	k[2] = (uint8_t)(p->dport >> 8); k[3] = (uint8_t)p->dport;
	k[4] = (uint8_t)(p->seq >> 24); k[5] = (uint8_t)(p->seq >> 16);
	k[6] = (uint8_t)(p->seq >> 8); k[7] = (uint8_t)p->seq;
	k[8] = (uint8_t)p->ip.family;
	h = fnv(h, k, 9);
	if (!h)
		h = 1;
	if (!s->slot)
		return 0;   /* out of memory: every SYN counts as an attempt */
	for (i = h % SYNSET_SIZE;; i = (i + 1) % SYNSET_SIZE) {
		if (s->slot[i] == h)
			return 1;
		if (!s->slot[i])
			break;
	}
	if (s->used < CAPTURE_SYN_TRACK) {
		s->slot[i] = h;
		s->used++;
	}
	return 0;
}

static void touch(struct evidence *ev, uint64_t t_ms)
{
	if (ev->first_ms == UINT64_MAX || t_ms < ev->first_ms)
		ev->first_ms = t_ms;
	if (ev->last_ms == UINT64_MAX || t_ms > ev->last_ms)
		ev->last_ms = t_ms;
}

static void evidence_init(struct evidence *ev, enum evidence_kind kind, size_t fault)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->fault = fault;
	ev->first_ms = UINT64_MAX;
	ev->last_ms = UINT64_MAX;
}

/* The connect row for a destination; create: make it if missing (NULL at the cap). */
static struct dest *dest_get(struct fault_spec *f, int family, const uint8_t *a, uint16_t port,
			     int create)
{
	size_t alen = family == AF_INET ? 4 : 16, i;
	struct dest *d;

	for (i = 0; i < f->ndests; i++) {
		d = &f->dests[i];
		if (d->family == family && d->port == port && !memcmp(d->addr, a, alen))
			return d;
	}
	if (!create || !f->dests || f->ndests >= CAPTURE_MAX_DESTS)
		return NULL;
	d = &f->dests[f->ndests++];
	memset(d, 0, sizeof(*d));
	d->family = family;
	memcpy(d->addr, a, alen);
	d->port = port;
	evidence_init(&d->ev, EVIDENCE_CONNECT, f->index);
	return d;
}

static int dns_port(const struct capture *c, const struct pkt *p)
{
	size_t i;

	for (i = 0; i < c->ndns_ports; i++)
		if (p->sport == c->dns_ports[i] || p->dport == c->dns_ports[i])
			return 1;
	return 0;
}

/*
 * The DNS message in a packet: 1 with m filled, 0 when the packet carries
 * none (not a DNS port, an empty TCP segment), -1 when it does not parse.
 */
static int dns_read(const struct capture *c, const struct pkt *p, struct dnsmsg *m)
{
	const uint8_t *msg = p->payload;
	size_t len = p->paylen;
	struct err e;

	if (!p->ports || !dns_port(c, p))
		return 0;
	if (!p->payload_complete)
		return -1;
	if (p->ip.proto == IPPROTO_TCP && !len)
		return 0;   /* a handshake or a bare ACK of a DNS connection */
	if (p->ip.proto == IPPROTO_TCP) {
		/* one whole message per segment, with its length in front */
		if (len < 2 || be16(msg) != len - 2)
			return -1;
		msg += 2;
		len -= 2;
	}
	err_clear(&e);
	if (dnsmsg_parse(msg, len, m, &e) || m->qdcount != 1)
		return -1;
	return 1;
}

int capture_frame_check(int linktype, const uint8_t *frame, size_t caplen)
{
	struct capture c;
	struct dnsmsg m;
	struct pkt p;
	int rc;

	memset(&c, 0, sizeof(c));
	c.dns_ports[0] = 53;
	c.ndns_ports = 1;
	rc = pkt_walk(linktype, frame, caplen, &p);
	if (rc <= 0)
		return rc;
	return dns_read(&c, &p, &m) < 0 ? -1 : 1;
}

static void count_near(struct fault_spec *f, const struct pkt *p, int retx, uint64_t t)
{
	size_t i;
	struct dest *d;

	for (i = 0; i < f->nprefixes; i++) {
		const struct prefix *pf = &f->prefixes[i];
		struct evidence *ev = &f->pfx_ev[i];

		if (prefix_has(pf, p->ip.family, p->ip.dst)) {
			ev->sent++;
			touch(ev, t);
		}
		if (prefix_has(pf, p->ip.family, p->ip.src)) {
			ev->answered++;
			touch(ev, t);
		}
		if (p->unreach && prefix_has(pf, p->inner.family, p->inner.dst)) {
			ev->unreachable++;
			touch(ev, t);
		}
	}
	if (p->ports && p->ip.proto == IPPROTO_TCP) {
		unsigned fl = p->tcp_flags;

		if ((fl & TCP_SYN) && !(fl & TCP_ACK) && fault_has(f, p->ip.family, p->ip.dst)) {
			d = dest_get(f, p->ip.family, p->ip.dst, p->dport, 1);
			if (d) {
				if (retx)
					d->ev.retries++;
				else
					d->ev.attempts++;
				touch(&d->ev, t);
			}
		} else if (fault_has(f, p->ip.family, p->ip.src)) {
			d = dest_get(f, p->ip.family, p->ip.src, p->sport, 0);
			if (d && (fl & TCP_SYN) && (fl & TCP_ACK)) {
				d->ev.answered++;
				touch(&d->ev, t);
			} else if (d && (fl & TCP_RST)) {
				d->ev.reset++;
				touch(&d->ev, t);
			}
		}
	}
	if (p->unreach && p->inner_ports && p->inner.proto == IPPROTO_TCP) {
		d = dest_get(f, p->inner.family, p->inner.dst, p->inner_dport, 0);
		if (d) {
			d->ev.unreachable++;
			touch(&d->ev, t);
		}
	}
}

static void count_far(struct fault_spec *f, const struct pkt *p, uint64_t t)
{
	size_t i;

	for (i = 0; i < f->nprefixes; i++)
		if (prefix_has(&f->prefixes[i], p->ip.family, p->ip.dst)) {
			f->pfx_ev[i].through++;
			touch(&f->pfx_ev[i], t);
		}
}

static void count_dns(struct fault_spec *f, const struct dnsmsg *m, uint64_t t)
{
	size_t i;

	for (i = 0; i < f->nnames; i++) {
		struct evidence *ev = &f->dns_ev[i];

		if (!dnsmsg_pattern_match(f->names[i], m->qname))
			continue;
		if (m->flags & DNSMSG_F_QR) {
			ev->answered++;
			ev->rcode[DNSMSG_RCODE(m->flags)]++;
		} else {
			ev->sent++;
		}
		touch(ev, t);
	}
}

/* Count one frame of a point's file. */
static void count_frame(struct capture *c, struct point *pt, int linktype,
			const struct pcap_pkthdr *h, const uint8_t *b, struct synset *syns)
{
	struct dnsmsg m;
	struct pkt p;
	uint64_t ts_ns, t;
	int rc, retx = 0, isdns = 0;
	size_t i;

	rc = pkt_walk(linktype, b, h->caplen, &p);
	if (rc < 0) {
		pt->undecoded++;
		return;
	}
	if (rc == 0)
		return;
	if (pt->role == CAPTURE_NEAR && p.ports && p.ip.proto == IPPROTO_TCP &&
	    (p.tcp_flags & TCP_SYN) && !(p.tcp_flags & TCP_ACK))
		retx = synset_seen(syns, &p);
	if (pt->role == CAPTURE_DNS) {
		isdns = dns_read(c, &p, &m);
		if (isdns < 0) {
			pt->undecoded++;
			return;
		}
	}
	/* files are opened with nanosecond precision: tv_usec holds nanoseconds */
	ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	if (ts_ns < c->origin_ns)
		return;   /* before the run: in no window */
	t = (ts_ns - c->origin_ns) / 1000000u;
	for (i = 0; i < c->nfaults; i++) {
		struct fault_spec *f = &c->faults[i];

		if (f->start_ms == UINT64_MAX || t < f->start_ms || t >= f->end_ms)
			continue;
		switch (pt->role) {
		case CAPTURE_NEAR:
			count_near(f, &p, retx, t);
			break;
		case CAPTURE_FAR:
			count_far(f, &p, t);
			break;
		case CAPTURE_DNS:
			if (isdns)
				count_dns(f, &m, t);
			break;
		}
	}
}

static void count_file(struct capture *c, struct point *pt)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *b;
	struct synset syns = { NULL, 0 };
	pcap_t *p;
	int rc, lt;

	p = pcap_open_offline_with_tstamp_precision(pt->path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		snprintf(pt->error, sizeof(pt->error), "cannot read %s: %s", pt->path, ebuf);
		pt->usable = 0;
		return;
	}
	lt = pcap_datalink(p);
	if (lt != DLT_EN10MB && lt != DLT_LINUX_SLL && lt != DLT_LINUX_SLL2 && lt != DLT_RAW &&
	    lt != DLT_IPV4 && lt != DLT_IPV6) {
		snprintf(pt->error, sizeof(pt->error), "%s: link type %s is not counted",
			 pt->path, pcap_datalink_val_to_name(lt) ? pcap_datalink_val_to_name(lt) : "?");
		pcap_close(p);
		pt->usable = 0;
		return;
	}
	if (pt->role == CAPTURE_NEAR)
		syns.slot = calloc(SYNSET_SIZE, sizeof(*syns.slot));
	if (!pt->ifname)
		pt->packets = 0;   /* a file added as is: count what it holds */
	while ((rc = pcap_next_ex(p, &h, &b)) == 1) {
		if (!pt->ifname)
			pt->packets++;
		count_frame(c, pt, lt, h, b, &syns);
	}
	if (rc == PCAP_ERROR && !pt->error[0])
		snprintf(pt->error, sizeof(pt->error), "%s: %s", pt->path, pcap_geterr(p));
	free(syns.slot);
	pcap_close(p);
}

/* ---- finish ---- */

static void point_stop(struct point *pt)
{
	struct pcap_stat st;

	if (!pt->pcap)
		return;
	if (pt->fd >= 0)
		(void)point_read(pt, DRAIN_ROUNDS);
	if (pcap_stats(pt->pcap, &st) == 0)
		pt->dropped += (uint64_t)st.ps_drop + st.ps_ifdrop;
	if (pt->dumper && pcap_dump_flush(pt->dumper) && !pt->error[0])
		snprintf(pt->error, sizeof(pt->error), "write error on %s", pt->path);
	point_close(pt);
}

static int cmp_dest(const void *pa, const void *pb)
{
	const struct dest *a = pa, *b = pb;
	int k;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	k = memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
	if (k)
		return k;
	return a->port < b->port ? -1 : a->port > b->port;
}

static const char *role_name(enum capture_role r)
{
	switch (r) {
	case CAPTURE_NEAR: return "near";
	case CAPTURE_FAR: return "far";
	default: return "dns";
	}
}

static int add_ev(struct run_result *r, struct evidence *ev, struct err *err)
{
	int rc = result_add_evidence(r, ev);

	if (rc == -ENOBUFS)
		return 0;   /* at the cap: the report says how many rows it has */
	if (rc)
		return err_set(err, rc, "capture: cannot record evidence (%s)",
			       rc == -EINVAL ? "bad fault index" : "out of memory");
	return 0;
}

int capture_finish(struct capture *c, struct run_result *r, struct err *err)
{
	int has[3] = { 0, 0, 0 };
	size_t i, k;
	int rc;

	if (c->finished)
		return err_set(err, -EINVAL, "capture: already finished");
	c->finished = 1;
	for (i = 0; i < c->npoints; i++)
		point_stop(c->points[i]);

	for (i = 0; i < c->nfaults; i++) {
		struct fault_spec *f = &c->faults[i];

		if (f->index >= r->nfaults)
			return err_set(err, -EINVAL, "capture: fault %zu is not in the result", f->index);
		f->start_ms = r->faults[f->index].start_ms;
		f->end_ms = r->faults[f->index].end_ms;
		f->pfx_ev = calloc(f->nprefixes + 1, sizeof(*f->pfx_ev));
		f->dns_ev = calloc(f->nnames + 1, sizeof(*f->dns_ev));
		f->dests = calloc(CAPTURE_MAX_DESTS, sizeof(*f->dests));
		if (!f->pfx_ev || !f->dns_ev || !f->dests)
			return err_set(err, -ENOMEM, "capture: out of memory");
		for (k = 0; k < f->nprefixes; k++) {
			evidence_init(&f->pfx_ev[k], EVIDENCE_PREFIX, f->index);
			f->pfx_ev[k].subject = f->prefixes[k].text;
		}
		for (k = 0; k < f->nnames; k++) {
			evidence_init(&f->dns_ev[k], EVIDENCE_DNS, f->index);
			f->dns_ev[k].subject = f->names[k];
		}
	}

	for (i = 0; i < c->npoints; i++) {
		struct point *pt = c->points[i];
		struct result_capture rc_cap;

		if (pt->usable) {
			count_file(c, pt);
			if (pt->usable)
				has[pt->role] = 1;
		}
		memset(&rc_cap, 0, sizeof(rc_cap));
		rc_cap.label = pt->label;
		rc_cap.role = (char *)role_name(pt->role);
		rc_cap.path = pt->path;
		rc_cap.packets = pt->packets;
		rc_cap.dropped = pt->dropped;
		rc_cap.undecoded = pt->undecoded;
		rc_cap.error = pt->error[0] ? pt->error : NULL;
		rc = result_add_capture(r, &rc_cap);
		if (rc == -ENOMEM)
			return err_set(err, rc, "capture: out of memory");
	}

	for (i = 0; i < c->nfaults; i++) {
		struct fault_spec *f = &c->faults[i];

		if (f->start_ms == UINT64_MAX)
			continue;   /* never applied: no window, no evidence */
		if (has[CAPTURE_NEAR]) {
			for (k = 0; k < f->nprefixes; k++) {
				if (!has[CAPTURE_FAR])
					f->pfx_ev[k].through = UINT64_MAX;
				rc = add_ev(r, &f->pfx_ev[k], err);
				if (rc)
					return rc;
			}
			qsort(f->dests, f->ndests, sizeof(*f->dests), cmp_dest);
			for (k = 0; k < f->ndests; k++) {
				struct dest *d = &f->dests[k];
				char a[INET6_ADDRSTRLEN], subj[INET6_ADDRSTRLEN + 16];

				inet_ntop(d->family, d->addr, a, sizeof(a));
				snprintf(subj, sizeof(subj), d->family == AF_INET ? "%s:%u" : "[%s]:%u",
					 a, (unsigned)d->port);
				d->ev.subject = subj;
				rc = add_ev(r, &d->ev, err);
				d->ev.subject = NULL;
				if (rc)
					return rc;
			}
		}
		if (has[CAPTURE_DNS]) {
			for (k = 0; k < f->nnames; k++) {
				rc = add_ev(r, &f->dns_ev[k], err);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}
