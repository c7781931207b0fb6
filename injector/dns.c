/*
 * dns: the DNS server on the event loop. See dns.h.
 *
 * Life of a query: a listener callback reads a datagram or a TCP frame,
 * dns_handle() parses it, picks a rule and either answers at once (from a
 * stack-held struct dns_query) or copies the query into a heap struct
 * dns_pending that waits for a timer (dns.delay) or an upstream reply. A
 * pending query that belongs to a TCP connection which closes meanwhile is
 * detached from it and its answer is dropped.
 *
 * TCP connections are kept on a list ordered by their last activity (a
 * complete query read, or answer bytes taken by the kernel), most recent
 * first. The idle timer closes a connection without activity for tcp_idle, so
 * a client that trickles a frame byte by byte is closed like a silent one.
 * When every slot is taken, a new connection pushes out the least recently
 * active one, preferring connections that have been silent since they were
 * accepted; a flood of connections therefore cannot lock other clients out.
 * Memory per connection is bounded: input holds at most DNS_TCP_IN_MAX bytes
 * (a frame longer than DNS_TCP_QUERY_MAX closes the connection: no query is
 * that long), and no further query is read while DNS_TCP_OUT_HIGH bytes of
 * answers wait to be read by the client. Queries waiting for a timer or an
 * upstream are capped at max_pending.
 *
 * Single-threaded: one scratch buffer per server serves every answer.
 */
#include "injector/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/loop.h"
#include "common/netns.h"
#include "common/rng.h"
#include "common/dnsmsg.h"

#define DNS_UDP_BATCH      64      /* datagrams read per readiness event */
#define DNS_ACCEPT_BATCH   64
#define DNS_TCP_READS      8       /* reads per readiness event */
#define DNS_TCP_BATCH      64      /* queries answered per connection and event */
#define DNS_MAX_RRS        64      /* records in one answer */
#define DNS_CNAME_HOPS     8
#define DNS_CLIENT_MAX     64
#define DNS_TCP_QUERY_MAX  4096    /* longest query frame accepted over TCP */
#define DNS_TCP_IN_MAX     16384   /* unhandled input per connection */
#define DNS_TCP_OUT_HIGH   16384   /* unread answers that stop reading queries */
#define DNS_TCP_SILENT_US  1000000 /* silent this long since accept: evicted first */
#define DNS_LISTEN_BACKLOG 1024
#define DNS_ACCEPT_PAUSE_US 100000 /* out of fds: stop accepting for this long */
#define DNS_PENDING_MAX    1024
#define DNS_UDP_RCVBUF     (4 << 20) /* receive buffer asked for each UDP listener */
#define DNS_PORT0_TRIES    32      /* port 0: fresh picks until one is free for TCP too */

struct dns_rule_slot {
	int id;
	enum dns_action action;
	char **names;
	size_t nnames;
	uint16_t *types;
	size_t ntypes;
	double probability;
	uint32_t ttl;
	uint64_t delay_us;
	uint8_t (*v4)[4];
	size_t nv4;
	uint8_t (*v6)[16];
	size_t nv6;
	uint64_t not_before_us, not_after_us;
	uint64_t rng;                 /* splitmix64 state */
	struct dns_rule_slot *next;
};

struct dns_listener {
	struct dns_server *s;
	int fd;
	int tcp;
	struct sockaddr_storage addr;
	struct loop_timer *pause;     /* accepting again when it fires */
};

struct dns_conn {
	struct dns_server *s;
	int fd;
	struct sockaddr_storage peer;
	char client[DNS_CLIENT_MAX];
	struct buf in, out;
	uint64_t accepted_us;
	uint64_t last_us;             /* last activity: a query read, answer bytes sent */
	unsigned nqueries;            /* complete queries read */
	unsigned npending;            /* its queries waiting for a timer or an upstream */
	struct loop_timer *idle;
	int broken;                   /* close once the current callback is done */
	int rd_eof;                   /* the client half-closed: answer, then close */
	int in_event;                 /* inside dns_conn_event */
	unsigned budget;              /* queries it may still answer in this event */
	struct dns_conn *prev, *next; /* most recently active first */
};

/* One query being answered: on the stack, or inside a struct dns_pending. */
struct dns_query {
	struct dns_server *s;
	int tcp;
	struct dns_conn *conn;        /* TCP; NULL once the connection is gone */
	int udp_fd;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char client[DNS_CLIENT_MAX];
	const uint8_t *raw;
	size_t rawlen;
	struct dnsmsg q;
	uint64_t t0;
	int rule;
	const char *action;
};

struct dns_pending {
	struct dns_query qr;
	uint8_t *raw;                 /* owned copy of the query */
	struct loop_timer *timer;
	/* upstream forwarding */
	int up_fd;
	int up_tcp;
	size_t up_idx;
	unsigned up_try;
	uint16_t up_id;
	struct buf up_buf;            /* TCP: what to write, then what was read */
	size_t up_sent;
	int up_reading;               /* TCP: the query is written, reading the reply */
	struct dns_pending *prev, *next;
};

struct dns_zone_slot {
	uint64_t hash;
	const struct dns_zone_entry *e;
};

struct dns_server {
	struct loop *loop;
	int nsfd;
	struct dns_listener *ls;
	size_t nls;
	struct dns_config cfg;        /* deep copy; zone and upstreams owned */
	struct dns_zone_slot *zt;     /* open addressing, size zmask + 1 */
	size_t zmask;
	struct dns_rule_slot *rules;
	int next_rule;
	struct dns_conn *conns, *conns_tail;
	unsigned nconns;
	struct dns_pending *pending;
	unsigned npending;
	dns_log_fn log_fn;
	void *log_arg;
	uint8_t in[DNSMSG_MSG_MAX + 1];
	uint8_t out[DNSMSG_MSG_MAX + 2];
};

static const char *const dns_action_names[] = {
	"nxdomain", "servfail", "refused", "timeout", "sinkhole", "redirect", "delay", "truncate",
};

const char *dns_action_name(enum dns_action a)
{
	if ((size_t)a < sizeof(dns_action_names) / sizeof(dns_action_names[0]))
		return dns_action_names[a];
	return "unknown";
}

/* ---- configuration ---- */

static void dns_zone_entry_cleanup(struct dns_zone_entry *e)
{
	free(e->name);
	free(e->cname);
	free(e->v4);
	free(e->v6);
}

void dns_config_free(struct dns_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->netns);
	free(cfg->listen);
	for (i = 0; i < cfg->nzone; i++)
		dns_zone_entry_cleanup(&cfg->zone[i]);
	free(cfg->zone);
	free(cfg->upstreams);
	free(cfg);
}

int dns_addr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *ss,
		   struct err *err)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *h = s;
	size_t hl;
	unsigned long pv = default_port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return err_set(err, -EINVAL, "\"%s\": missing ']'", s);
		h = s + 1;
		hl = (size_t)(close - h);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return err_set(err, -EINVAL, "\"%s\": junk after ']'", s);
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':')) {
			hl = strlen(s);          /* a bare IPv6 address */
		} else if (colon) {
			hl = (size_t)(colon - s);
			port = colon + 1;
		} else {
			hl = strlen(s);
		}
	}
	if (hl == 0 || hl >= sizeof(host))
		return err_set(err, -EINVAL, "\"%s\" is not an IP address with an optional port", s);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (port) {
		char *end;

		if (!*port || *port < '0' || *port > '9')
			return err_set(err, -EINVAL, "\"%s\": bad port", s);
		pv = strtoul(port, &end, 10);
		if (*end || pv > 65535)
			return err_set(err, -EINVAL, "\"%s\": bad port", s);
	}
	{
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons((uint16_t)pv);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons((uint16_t)pv);
			return 0;
		}
	}
	return err_set(err, -EINVAL, "\"%s\" is not an IP address with an optional port", s);
}

static socklen_t dns_sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void dns_sa_text(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a6->sin6_addr, a, sizeof(a));
		snprintf(out, outlen, "[%s]:%u", a, ntohs(a6->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a4->sin_addr, a, sizeof(a));
		snprintf(out, outlen, "%s:%u", a, ntohs(a4->sin_port));
	} else {
		snprintf(out, outlen, "?");
	}
}

static int dns_sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return 0;
}

/* ---- zone ---- */

static uint64_t dns_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static const struct dns_zone_entry *dns_zone_find(const struct dns_server *s, const char *name)
{
	uint64_t h;
	size_t i;

	if (!s->zt)
		return NULL;
	h = dns_hash(name);
	for (i = h & s->zmask; s->zt[i].e; i = (i + 1) & s->zmask)
		if (s->zt[i].hash == h && !strcmp(s->zt[i].e->name, name))
			return s->zt[i].e;
	return NULL;
}

static int dns_zone_copy(struct dns_server *s, const struct dns_config *cfg, struct err *err)
{
	size_t i, size = 16;

	if (!cfg->nzone)
		return 0;
	s->cfg.zone = calloc(cfg->nzone, sizeof(*s->cfg.zone));
	if (!s->cfg.zone)
		return err_set(err, -ENOMEM, "out of memory");
	for (i = 0; i < cfg->nzone; i++) {
		const struct dns_zone_entry *f = &cfg->zone[i];
		struct dns_zone_entry *t = &s->cfg.zone[i];

		s->cfg.nzone = i + 1;
		t->name = strdup(f->name);
		t->cname = f->cname ? strdup(f->cname) : NULL;
		t->v4 = f->nv4 ? malloc(f->nv4 * sizeof(*f->v4)) : NULL;
		t->v6 = f->nv6 ? malloc(f->nv6 * sizeof(*f->v6)) : NULL;
		if (!t->name || (f->cname && !t->cname) || (f->nv4 && !t->v4) || (f->nv6 && !t->v6))
			return err_set(err, -ENOMEM, "out of memory");
		if (f->nv4)
			memcpy(t->v4, f->v4, f->nv4 * sizeof(*f->v4));
		if (f->nv6)
			memcpy(t->v6, f->v6, f->nv6 * sizeof(*f->v6));
		t->nv4 = f->nv4;
		t->nv6 = f->nv6;
	}
	while (size < cfg->nzone * 2)
		size *= 2;
	s->zt = calloc(size, sizeof(*s->zt));
	if (!s->zt)
		return err_set(err, -ENOMEM, "out of memory");
	s->zmask = size - 1;
	for (i = 0; i < s->cfg.nzone; i++) {
		const struct dns_zone_entry *e = &s->cfg.zone[i];
		uint64_t h = dns_hash(e->name);
		size_t k;

		if (dns_zone_find(s, e->name))
			return err_set(err, -EINVAL, "zone name \"%s\" appears twice", e->name);
		for (k = h & s->zmask; s->zt[k].e; k = (k + 1) & s->zmask)
			;
		s->zt[k].hash = h;
		s->zt[k].e = e;
	}
	return 0;
}

/* ---- rules ---- */

static void dns_rule_free(struct dns_rule_slot *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	free(r->types);
	free(r->v4);
	free(r->v6);
	free(r);
}

int dns_server_rule_add(struct dns_server *s, const struct dns_rule *r, struct err *err)
{
	struct dns_rule_slot *n, **tail;
	size_t i;
	int rc = -ENOMEM;

	if (r->nnames == 0)
		return err_set(err, -EINVAL, "a DNS rule needs at least one name pattern");
	if (!(r->probability >= 0.0 && r->probability <= 1.0))
		return err_set(err, -EINVAL, "probability %g is outside 0..1", r->probability);
	if ((unsigned)r->action > DNS_ACTION_TRUNCATE)
		return err_set(err, -EINVAL, "unknown DNS action %d", (int)r->action);
	if (r->action == DNS_ACTION_REDIRECT && r->nv4 + r->nv6 == 0)
		return err_set(err, -EINVAL, "dns.redirect needs an address");
	n = calloc(1, sizeof(*n));
	if (!n)
		goto fail;
	n->names = calloc(r->nnames, sizeof(*n->names));
	if (!n->names)
		goto fail;
	for (i = 0; i < r->nnames; i++) {
		char canon[DNSMSG_TEXT_MAX];
		const char *pat = r->names[i];
		int wild = pat[0] == '*' && (pat[1] == '.' || !pat[1]);

		n->nnames = i + 1;
		if (wild && !pat[1]) {
			n->names[i] = strdup("*");
		} else {
			if (dnsmsg_name_canon(wild ? pat + 2 : pat, canon, err) < 0) {
				rc = err_prefix(err, "name pattern \"%s\": ", pat);
				goto fail;
			}
			if (wild && asprintf(&n->names[i], "*.%s", canon) < 0)
				n->names[i] = NULL;
			else if (!wild)
				n->names[i] = strdup(canon);
		}
		if (!n->names[i])
			goto fail;
	}
	if (r->ntypes) {
		n->types = malloc(r->ntypes * sizeof(*n->types));
		if (!n->types)
			goto fail;
		memcpy(n->types, r->types, r->ntypes * sizeof(*n->types));
		n->ntypes = r->ntypes;
	}
	if (r->nv4) {
		n->v4 = malloc(r->nv4 * sizeof(*n->v4));
		if (!n->v4)
			goto fail;
		memcpy(n->v4, r->v4, r->nv4 * sizeof(*n->v4));
		n->nv4 = r->nv4;
	}
	if (r->nv6) {
		n->v6 = malloc(r->nv6 * sizeof(*n->v6));
		if (!n->v6)
			goto fail;
		memcpy(n->v6, r->v6, r->nv6 * sizeof(*n->v6));
		n->nv6 = r->nv6;
	}
	n->action = r->action;
	n->probability = r->probability;
	n->ttl = r->ttl;
	n->delay_us = r->delay_us;
	n->not_before_us = r->not_before_us;
	n->not_after_us = r->not_after_us;
	n->id = ++s->next_rule;
	n->rng = s->cfg.seed ^ ((uint64_t)n->id * 0xd1b54a32d192ed03ull);
	for (tail = &s->rules; *tail; tail = &(*tail)->next)
		;
	*tail = n;
	return n->id;
fail:
	dns_rule_free(n);
	if (rc == -ENOMEM)
		return err_set(err, -ENOMEM, "out of memory");
	return rc;
}

int dns_server_rule_del(struct dns_server *s, int id)
{
	struct dns_rule_slot **pp, *r;

	for (pp = &s->rules; (r = *pp); pp = &r->next) {
		if (r->id == id) {
			*pp = r->next;
			dns_rule_free(r);
			return 0;
		}
	}
	return -ENOENT;
}

static struct dns_rule_slot *dns_rule_pick(struct dns_server *s, const char *name,
					   uint16_t qtype, int tcp, uint64_t now)
{
	struct dns_rule_slot *r;
	size_t i;

	for (r = s->rules; r; r = r->next) {
		int hit = 0;

		/* Truncation means nothing over TCP: the rules after it decide. */
		if (tcp && r->action == DNS_ACTION_TRUNCATE)
			continue;
		if (r->not_before_us && now < r->not_before_us)
			continue;
		if (r->not_after_us && now >= r->not_after_us)
			continue;
		if (r->ntypes) {
			for (i = 0; i < r->ntypes && r->types[i] != qtype; i++)
				;
			if (i == r->ntypes)
				continue;
		}
		for (i = 0; i < r->nnames && !hit; i++)
			hit = dnsmsg_pattern_match(r->names[i], name);
		if (!hit)
			continue;
		if (r->probability >= 1.0)
			return r;
		if (r->probability <= 0.0)
			continue;
		if (rng_unit(&r->rng) < r->probability)
			return r;
	}
	return NULL;
}

int dns_server_rule_pick(struct dns_server *s, const char *name, uint16_t qtype, int tcp,
			 uint64_t now_us)
{
	struct dns_rule_slot *r = dns_rule_pick(s, name, qtype, tcp, now_us);

	return r ? r->id : 0;
}

/* The owner of the SOA in a rule's negative answer: the zone the pattern names. */
static const char *dns_rule_soa_owner(const struct dns_rule_slot *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nnames; i++) {
		if (!dnsmsg_pattern_match(r->names[i], name))
			continue;
		if (!strcmp(r->names[i], "*"))
			return "";
		return r->names[i][0] == '*' ? r->names[i] + 2 : r->names[i];
	}
	return name;
}

/* ---- answering ---- */

static void dns_conn_close(struct dns_conn *c);
static void dns_conn_flush(struct dns_conn *c);
static int dns_conn_settle(struct dns_conn *c);

static void dns_log(struct dns_query *qr, const char *answer)
{
	struct dns_server *s = qr->s;
	struct dns_log_entry e;
	char type[16];

	if (!s->log_fn)
		return;
	e.time_us = qr->t0;
	e.latency_us = loop_now_us() - qr->t0;
	e.transport = qr->tcp ? "tcp" : "udp";
	e.client = qr->client;
	e.name = qr->q.qname;
	e.type = dnsmsg_type_name(qr->q.qtype, type);
	e.rule = qr->rule;
	e.action = qr->action;
	e.answer = answer;
	s->log_fn(&e, s->log_arg);
}

/* Send len bytes of s->out (already holding the answer) to the query's client. */
static void dns_send(struct dns_query *qr, const uint8_t *msg, size_t len)
{
	struct dns_server *s = qr->s;
	char sum[256];

	if (qr->tcp) {
		uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

		if (!qr->conn) {
			dns_log(qr, "no answer (client gone)");
			return;
		}
		if (buf_append(&qr->conn->out, hdr, 2) < 0 ||
		    buf_append(&qr->conn->out, msg, len) < 0) {
			/* The client does not read its answers: give up on it. */
			qr->conn->broken = 1;
			dns_log(qr, "no answer (client not reading)");
			if (dns_conn_settle(qr->conn))
				qr->conn = NULL;
			return;
		}
		dns_conn_flush(qr->conn);
		if (dns_conn_settle(qr->conn))
			qr->conn = NULL;
	} else {
		/* UDP is best effort: a full socket buffer drops, as a network would. */
		(void)!sendto(qr->udp_fd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&qr->peer,
			      qr->peerlen);
	}
	if (s->log_fn)
		dns_log(qr, dnsmsg_summary(msg, len, sum, sizeof(sum)));
}

static void dns_reply(struct dns_query *qr, const struct dnsmsg_answer *a)
{
	struct dns_server *s = qr->s;
	size_t limit = qr->tcp ? DNSMSG_MSG_MAX : dnsmsg_udp_limit(&qr->q);
	int n = dnsmsg_build(&qr->q, a, s->out, sizeof(s->out), limit);

	if (n < 0) {
		dns_log(qr, "no answer (could not build)");
		return;
	}
	dns_send(qr, s->out, (size_t)n);
}

static void dns_reply_rcode(struct dns_query *qr, unsigned rcode)
{
	struct dnsmsg_answer a = { .rcode = rcode };

	dns_reply(qr, &a);
}

/* Addresses for A/AAAA (ANY: both) from v4/v6 lists into rrs; returns the count. */
static size_t dns_addr_rrs(uint16_t qtype, const char *owner, uint32_t ttl,
			   const uint8_t (*v4)[4], size_t nv4, const uint8_t (*v6)[16], size_t nv6,
			   struct dnsmsg_rr *rrs, size_t n, size_t max)
{
	size_t i;

	if (qtype == DNSMSG_TYPE_A || qtype == DNSMSG_TYPE_ANY) {
		for (i = 0; i < nv4 && n < max; i++, n++) {
			memset(&rrs[n], 0, sizeof(rrs[n]));
			rrs[n].owner = owner;
			rrs[n].type = DNSMSG_TYPE_A;
			rrs[n].ttl = ttl;
			memcpy(rrs[n].addr, v4[i], 4);
		}
	}
	if (qtype == DNSMSG_TYPE_AAAA || qtype == DNSMSG_TYPE_ANY) {
		for (i = 0; i < nv6 && n < max; i++, n++) {
			memset(&rrs[n], 0, sizeof(rrs[n]));
			rrs[n].owner = owner;
			rrs[n].type = DNSMSG_TYPE_AAAA;
			rrs[n].ttl = ttl;
			memcpy(rrs[n].addr, v6[i], 16);
		}
	}
	return n;
}

/* Answer from the zone. Returns 0, or -ENOENT when the name is not in it. */
static int dns_answer_zone(struct dns_query *qr)
{
	struct dns_server *s = qr->s;
	const struct dns_zone_entry *e = dns_zone_find(s, qr->q.qname);
	struct dnsmsg_rr rrs[DNS_MAX_RRS];
	struct dnsmsg_answer a = { .rcode = DNSMSG_RCODE_NOERROR, .authoritative = 1 };
	const char *owner = NULL;     /* NULL: the question name */
	size_t n = 0, hops = 0;

	if (!e)
		return -ENOENT;
	if (!qr->rule)
		qr->action = "zone";
	while (e && e->cname && qr->q.qtype != DNSMSG_TYPE_CNAME && hops < DNS_CNAME_HOPS) {
		memset(&rrs[n], 0, sizeof(rrs[n]));
		rrs[n].owner = owner;
		rrs[n].type = DNSMSG_TYPE_CNAME;
		rrs[n].ttl = s->cfg.ttl;
		rrs[n].target = e->cname;
		n++;
		owner = e->cname;
		e = dns_zone_find(s, e->cname);
		hops++;
	}
	if (e && e->cname && qr->q.qtype == DNSMSG_TYPE_CNAME) {
		memset(&rrs[n], 0, sizeof(rrs[n]));
		rrs[n].type = DNSMSG_TYPE_CNAME;
		rrs[n].ttl = s->cfg.ttl;
		rrs[n].target = e->cname;
		n++;
	} else if (e && !e->cname) {
		n = dns_addr_rrs(qr->q.qtype, owner, s->cfg.ttl, (const uint8_t (*)[4])e->v4, e->nv4,
				 (const uint8_t (*)[16])e->v6, e->nv6, rrs, n, DNS_MAX_RRS);
	}
	if (n == 0) {
		/* The name exists but has no data of this type. */
		a.soa_owner = qr->q.qname;
		a.soa_ttl = s->cfg.ttl;
	}
	a.rrs = rrs;
	a.nrrs = n;
	dns_reply(qr, &a);
	return 0;
}

static void dns_forward_start(struct dns_query *qr);

/* The answer without rules: zone, upstream, or REFUSED. */
static void dns_answer_normal(struct dns_query *qr)
{
	if (dns_answer_zone(qr) == 0)
		return;
	if (qr->s->cfg.nupstreams) {
		qr->action = qr->rule ? qr->action : "upstream";
		dns_forward_start(qr);
		return;
	}
	if (!qr->rule)
		qr->action = "refused";
	dns_reply_rcode(qr, DNSMSG_RCODE_REFUSED);
}

/* A heap copy of the query; NULL when out of memory or at max_pending. */
static struct dns_pending *dns_pending_new(struct dns_query *qr)
{
	struct dns_server *s = qr->s;
	struct dns_pending *p;

	if (s->npending >= s->cfg.max_pending)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->raw = malloc(qr->rawlen);
	if (!p->raw) {
		free(p);
		return NULL;
	}
	memcpy(p->raw, qr->raw, qr->rawlen);
	p->qr = *qr;
	p->qr.raw = p->raw;
	p->up_fd = -1;
	buf_init(&p->up_buf, 2 + DNSMSG_MSG_MAX);
	p->next = s->pending;
	if (s->pending)
		s->pending->prev = p;
	s->pending = p;
	s->npending++;
	if (p->qr.conn)
		p->qr.conn->npending++;
	return p;
}

static void dns_pending_free(struct dns_pending *p)
{
	struct dns_server *s = p->qr.s;

	if (p->timer)
		loop_timer_cancel(s->loop, p->timer);
	if (p->up_fd >= 0) {
		loop_fd_del(s->loop, p->up_fd);
		close(p->up_fd);
	}
	buf_cleanup(&p->up_buf);
	if (p->prev)
		p->prev->next = p->next;
	else
		s->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	s->npending--;
	if (p->qr.conn) {
		p->qr.conn->npending--;
		/* A half-closed client is closed once its last answer is out. */
		dns_conn_settle(p->qr.conn);
	}
	free(p->raw);
	free(p);
}

static void dns_delay_fire(struct loop *l, void *arg)
{
	struct dns_pending *p = arg;
	struct dns_query qr = p->qr;

	(void)l;
	p->timer = NULL;
	/* Answer from a stack copy; an upstream forward makes a new pending. */
	qr.raw = p->raw;
	dns_answer_normal(&qr);
	dns_pending_free(p);
}

static void dns_handle(struct dns_query *qr)
{
	struct dns_server *s = qr->s;
	struct dns_rule_slot *r;
	struct dnsmsg_rr rrs[DNS_MAX_RRS];
	struct dnsmsg_answer a = { .rcode = DNSMSG_RCODE_NOERROR, .authoritative = 1 };
	static const uint8_t zero4[1][4], zero6[1][16];
	int rc = dnsmsg_parse_query(qr->raw, qr->rawlen, &qr->q, NULL);

	qr->rule = 0;
	if (rc == -EPROTO)
		return;                       /* never answer an answer */
	if (rc < 0) {
		int n = dnsmsg_build_formerr(qr->raw, qr->rawlen, s->out, sizeof(s->out));

		qr->q.qname[0] = '\0';
		qr->q.qtype = 0;
		qr->action = "formerr";
		if (n > 0)
			dns_send(qr, s->out, (size_t)n);
		else
			dns_log(qr, "no answer (malformed)");
		return;
	}
	if (DNSMSG_OPCODE(qr->q.flags) != 0) {
		qr->action = "notimp";
		dns_reply_rcode(qr, DNSMSG_RCODE_NOTIMP);
		return;
	}
	if (qr->q.has_edns && qr->q.edns_version != 0) {
		qr->action = "badvers";
		dns_reply_rcode(qr, DNSMSG_RCODE_BADVERS);
		return;
	}
	if (qr->q.qclass != DNSMSG_CLASS_IN) {
		qr->action = "refused";
		dns_reply_rcode(qr, DNSMSG_RCODE_REFUSED);
		return;
	}
	r = dns_rule_pick(s, qr->q.qname, qr->q.qtype, qr->tcp, qr->t0);
	if (!r) {
		dns_answer_normal(qr);
		return;
	}
	qr->rule = r->id;
	qr->action = dns_action_name(r->action);
	switch (r->action) {
	case DNS_ACTION_NXDOMAIN:
		a.rcode = DNSMSG_RCODE_NXDOMAIN;
		a.soa_owner = dns_rule_soa_owner(r, qr->q.qname);
		a.soa_ttl = r->ttl;
		dns_reply(qr, &a);
		return;
	case DNS_ACTION_SERVFAIL:
		dns_reply_rcode(qr, DNSMSG_RCODE_SERVFAIL);
		return;
	case DNS_ACTION_REFUSED:
		dns_reply_rcode(qr, DNSMSG_RCODE_REFUSED);
		return;
	case DNS_ACTION_TIMEOUT:
		dns_log(qr, "no answer");
		return;
	case DNS_ACTION_SINKHOLE:
	case DNS_ACTION_REDIRECT:
		if (r->action == DNS_ACTION_SINKHOLE)
			a.nrrs = dns_addr_rrs(qr->q.qtype, NULL, r->ttl, zero4, 1, zero6, 1, rrs, 0,
					      DNS_MAX_RRS);
		else
			a.nrrs = dns_addr_rrs(qr->q.qtype, NULL, r->ttl,
					      (const uint8_t (*)[4])r->v4, r->nv4,
					      (const uint8_t (*)[16])r->v6, r->nv6, rrs, 0,
					      DNS_MAX_RRS);
		a.rrs = rrs;
		if (a.nrrs == 0) {
			a.soa_owner = dns_rule_soa_owner(r, qr->q.qname);
			a.soa_ttl = r->ttl;
		}
		dns_reply(qr, &a);
		return;
	case DNS_ACTION_DELAY: {
		struct dns_pending *p = dns_pending_new(qr);

		if (!p) {
			/* Overloaded: dropped, as a busy server would. */
			dns_log(qr, "no answer (too many pending)");
			return;
		}
		if (!(p->timer = loop_timer_add(s->loop, r->delay_us, dns_delay_fire, p))) {
			/* p holds the only copy of the query: log before freeing it. */
			dns_log(&p->qr, "no answer (out of memory)");
			dns_pending_free(p);
		}
		return;
	}
	case DNS_ACTION_TRUNCATE:
		/* Only UDP queries get here (see dns_rule_pick). */
		a.truncated = 1;
		dns_reply(qr, &a);
		return;
	}
}

/* ---- upstream forwarding ---- */

static void dns_forward_try(struct dns_pending *p);

static void dns_forward_fail(struct dns_pending *p)
{
	struct dns_query qr = p->qr;

	qr.raw = p->raw;
	dns_reply_rcode(&qr, DNSMSG_RCODE_SERVFAIL);
	dns_pending_free(p);
}

/* The current try failed or timed out: next try, next upstream, or SERVFAIL. */
static void dns_forward_next(struct dns_pending *p)
{
	struct dns_server *s = p->qr.s;
	unsigned tries = s->cfg.upstream_tries ? s->cfg.upstream_tries : 2;

	if (p->timer) {
		loop_timer_cancel(s->loop, p->timer);
		p->timer = NULL;
	}
	if (p->up_fd >= 0) {
		loop_fd_del(s->loop, p->up_fd);
		close(p->up_fd);
		p->up_fd = -1;
	}
	p->up_tcp = 0;
	if (++p->up_try >= tries) {
		p->up_try = 0;
		p->up_idx++;
	}
	if (p->up_idx >= s->cfg.nupstreams) {
		dns_forward_fail(p);
		return;
	}
	dns_forward_try(p);
}

static void dns_forward_timeout(struct loop *l, void *arg)
{
	struct dns_pending *p = arg;

	(void)l;
	p->timer = NULL;
	dns_forward_next(p);
}

/*
 * Check a reply from the upstream and pass it on. Returns 0 when delivered
 * (p is freed), 1 when it is to be ignored (wrong ID or question), 2 when it
 * was truncated and TCP should be tried.
 */
static int dns_forward_reply(struct dns_pending *p, const uint8_t *msg, size_t len)
{
	struct dns_server *s = p->qr.s;
	struct dnsmsg m;
	struct dns_query qr;

	if (dnsmsg_parse(msg, len, &m, NULL) < 0 || !(m.flags & DNSMSG_F_QR) || m.id != p->up_id ||
	    m.qdcount != 1 || m.qtype != p->qr.q.qtype || m.qclass != p->qr.q.qclass ||
	    strcmp(m.qname, p->qr.q.qname) != 0)
		return 1;
	if ((m.flags & DNSMSG_F_TC) && !p->up_tcp)
		return 2;
	qr = p->qr;
	qr.raw = p->raw;
	if (!qr.tcp && len > dnsmsg_udp_limit(&qr.q)) {
		struct dnsmsg_answer a = { .rcode = DNSMSG_RCODE(m.flags), .truncated = 1 };

		dns_reply(&qr, &a);
	} else {
		memcpy(s->out, msg, len);
		s->out[0] = (uint8_t)(qr.q.id >> 8);
		s->out[1] = (uint8_t)qr.q.id;
		dns_send(&qr, s->out, len);
	}
	dns_pending_free(p);
	return 0;
}

static void dns_forward_tcp_event(struct loop *l, int fd, unsigned events, void *arg);

static void dns_forward_tcp_start(struct dns_pending *p)
{
	struct dns_server *s = p->qr.s;
	const struct sockaddr_storage *up = &s->cfg.upstreams[p->up_idx];
	uint8_t hdr[2] = { (uint8_t)(p->qr.rawlen >> 8), (uint8_t)p->qr.rawlen };
	int fd;

	if (p->up_fd >= 0) {
		loop_fd_del(s->loop, p->up_fd);
		close(p->up_fd);
		p->up_fd = -1;
	}
	p->up_tcp = 1;
	buf_reset(&p->up_buf);
	p->up_sent = 0;
	p->up_reading = 0;
	fd = netns_socket(s->nsfd, up->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0, NULL);
	if (fd < 0)
		goto fail;
	p->up_fd = fd;
	if (connect(fd, (const struct sockaddr *)up, dns_sa_len(up)) < 0 && errno != EINPROGRESS)
		goto fail;
	if (buf_append(&p->up_buf, hdr, 2) < 0 || buf_append(&p->up_buf, p->raw, p->qr.rawlen) < 0)
		goto fail;
	((uint8_t *)p->up_buf.data)[2] = (uint8_t)(p->up_id >> 8);
	((uint8_t *)p->up_buf.data)[3] = (uint8_t)p->up_id;
	if (loop_fd_add(s->loop, fd, LOOP_WRITE, dns_forward_tcp_event, p, NULL) < 0)
		goto fail;
	return;
fail:
	dns_forward_next(p);
}

static void dns_forward_tcp_event(struct loop *l, int fd, unsigned events, void *arg)
{
	struct dns_pending *p = arg;
	ssize_t n;
	size_t want;

	(void)events;
	if (!p->up_reading) {
		n = send(fd, p->up_buf.data + p->up_sent, p->up_buf.len - p->up_sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINPROGRESS)
				return;
			dns_forward_next(p);
			return;
		}
		p->up_sent += (size_t)n;
		if (p->up_sent == p->up_buf.len) {
			buf_reset(&p->up_buf);
			p->up_reading = 1;
			if (loop_fd_mod(l, fd, LOOP_READ) < 0)
				dns_forward_next(p);
		}
		return;
	}
	for (;;) {
		uint8_t chunk[4096];

		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || buf_append(&p->up_buf, chunk, (size_t)n) < 0) {
			dns_forward_next(p);
			return;
		}
		if (p->up_buf.len < 2)
			continue;
		want = ((size_t)(uint8_t)p->up_buf.data[0] << 8) | (uint8_t)p->up_buf.data[1];
		if (want < DNSMSG_HDR_LEN) {
			dns_forward_next(p);
			return;
		}
		if (p->up_buf.len >= 2 + want) {
			if (dns_forward_reply(p, (const uint8_t *)p->up_buf.data + 2, want) != 0)
				dns_forward_next(p);
			return;
		}
	}
}

static void dns_forward_udp_event(struct loop *l, int fd, unsigned events, void *arg)
{
	struct dns_pending *p = arg;
	struct dns_server *s = p->qr.s;
	int i;

	(void)l;
	(void)events;
	for (i = 0; i < DNS_UDP_BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, s->in, sizeof(s->in), 0, (struct sockaddr *)&from, &fl);
		int rc;

		if (n < 0) {
			if (errno != EAGAIN)
				dns_forward_next(p);   /* e.g. ECONNREFUSED from an ICMP error */
			return;
		}
		if (!dns_sa_equal(&from, &s->cfg.upstreams[p->up_idx]))
			continue;
		rc = dns_forward_reply(p, s->in, (size_t)n);
		if (rc == 0)
			return;
		if (rc == 2) {
			dns_forward_tcp_start(p);
			return;
		}
	}
}

static void dns_forward_try(struct dns_pending *p)
{
	struct dns_server *s = p->qr.s;
	const struct sockaddr_storage *up = &s->cfg.upstreams[p->up_idx];
	uint64_t tmo = s->cfg.upstream_timeout_us ? s->cfg.upstream_timeout_us : 2000000;
	int fd;

	if (getrandom(&p->up_id, sizeof(p->up_id), 0) != sizeof(p->up_id))
		p->up_id = (uint16_t)rng_next(&(uint64_t){ loop_now_us() });
	p->timer = loop_timer_add(s->loop, tmo, dns_forward_timeout, p);
	if (!p->timer) {
		dns_forward_fail(p);
		return;
	}
	/* A fresh socket per try: the kernel picks a random source port. */
	fd = netns_socket(s->nsfd, up->ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0, NULL);
	if (fd < 0)
		return;                     /* the timer moves on */
	p->up_fd = fd;
	if (connect(fd, (const struct sockaddr *)up, dns_sa_len(up)) < 0)
		return;
	memcpy(s->out, p->raw, p->qr.rawlen);
	s->out[0] = (uint8_t)(p->up_id >> 8);
	s->out[1] = (uint8_t)p->up_id;
	if (send(fd, s->out, p->qr.rawlen, 0) < 0)
		return;
	if (loop_fd_add(s->loop, fd, LOOP_READ, dns_forward_udp_event, p, NULL) < 0)
		return;                     /* the timer moves on */
}

static void dns_forward_start(struct dns_query *qr)
{
	struct dns_pending *p = dns_pending_new(qr);

	if (!p) {
		dns_reply_rcode(qr, DNSMSG_RCODE_SERVFAIL);
		return;
	}
	dns_forward_try(p);
}

/* ---- UDP ---- */

static void dns_udp_event(struct loop *l, int fd, unsigned events, void *arg)
{
	struct dns_listener *ls = arg;
	struct dns_server *s = ls->s;
	int i;

	(void)l;
	(void)events;
	for (i = 0; i < DNS_UDP_BATCH; i++) {
		struct dns_query qr;
		ssize_t n;

		memset(&qr, 0, offsetof(struct dns_query, q));
		qr.peerlen = sizeof(qr.peer);
		n = recvfrom(fd, s->in, sizeof(s->in), 0, (struct sockaddr *)&qr.peer, &qr.peerlen);
		if (n < 0)
			return;
		qr.s = s;
		qr.udp_fd = fd;
		qr.raw = s->in;
		qr.rawlen = (size_t)n;
		qr.t0 = loop_now_us();
		if (s->log_fn)
			dns_sa_text(&qr.peer, qr.client, sizeof(qr.client));
		dns_handle(&qr);
	}
}

/* ---- TCP ---- */

static void dns_conn_event(struct loop *l, int fd, unsigned events, void *arg);

static void dns_conn_unlink(struct dns_conn *c)
{
	struct dns_server *s = c->s;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->conns_tail = c->prev;
	c->prev = c->next = NULL;
}

static void dns_conn_push_front(struct dns_conn *c)
{
	struct dns_server *s = c->s;

	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	else
		s->conns_tail = c;
	s->conns = c;
}

/* The connection did something useful: it moves to the front of the list. */
static void dns_conn_touch(struct dns_conn *c)
{
	c->last_us = loop_now_us();
	if (c->s->conns != c) {
		dns_conn_unlink(c);
		dns_conn_push_front(c);
	}
}

static void dns_conn_close(struct dns_conn *c)
{
	struct dns_server *s = c->s;
	struct dns_pending *p;

	for (p = s->pending; p; p = p->next)
		if (p->qr.conn == c)
			p->qr.conn = NULL;
	if (c->idle)
		loop_timer_cancel(s->loop, c->idle);
	loop_fd_del(s->loop, c->fd);
	close(c->fd);
	buf_cleanup(&c->in);
	buf_cleanup(&c->out);
	dns_conn_unlink(c);
	s->nconns--;
	free(c);
}

/* Length of the first frame in c->in, or 0 when its prefix is incomplete. */
static size_t dns_conn_frame_len(const struct dns_conn *c)
{
	if (c->in.len < 2)
		return 0;
	return ((size_t)(uint8_t)c->in.data[0] << 8) | (uint8_t)c->in.data[1];
}

/* A whole frame waits in c->in. */
static int dns_conn_has_frame(const struct dns_conn *c)
{
	size_t flen = dns_conn_frame_len(c);

	return flen && c->in.len >= 2 + flen;
}

/* More queries are read only while the client reads its answers. */
static int dns_conn_wants_read(const struct dns_conn *c)
{
	return !c->rd_eof && !c->broken && c->out.len < DNS_TCP_OUT_HIGH &&
	       c->in.len < DNS_TCP_IN_MAX;
}

static void dns_conn_watch(struct dns_conn *c)
{
	unsigned ev = (dns_conn_wants_read(c) ? LOOP_READ : 0) | (c->out.len ? LOOP_WRITE : 0);

	/*
	 * Frames held back while answers piled up, and the answers are gone
	 * (sent from a timer, say): the socket is writable, so asking for
	 * LOOP_WRITE brings dns_conn_event back at once to answer them.
	 */
	if (!c->broken && c->out.len < DNS_TCP_OUT_HIGH && dns_conn_has_frame(c))
		ev |= LOOP_WRITE;

	(void)loop_fd_mod(c->s->loop, c->fd, ev);
}

static void dns_conn_flush(struct dns_conn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN)
				c->broken = 1;
			break;
		}
		buf_consume(&c->out, (size_t)n);
		dns_conn_touch(c);
	}
	dns_conn_watch(c);
}

/*
 * Outside its own event, close c when it is broken, or half-closed with
 * every answer sent. Returns 1 when c was closed (and freed).
 */
static int dns_conn_settle(struct dns_conn *c)
{
	if (c->in_event)
		return 0;
	if (c->broken || (c->rd_eof && !c->out.len && !c->npending && !dns_conn_has_frame(c))) {
		dns_conn_close(c);
		return 1;
	}
	return 0;
}

static void dns_conn_idle(struct loop *l, void *arg)
{
	struct dns_conn *c = arg;
	uint64_t idle = c->s->cfg.tcp_idle_us, now = loop_now_us();

	c->idle = NULL;
	if (now - c->last_us >= idle) {
		dns_conn_close(c);
		return;
	}
	c->idle = loop_timer_add(l, idle - (now - c->last_us), dns_conn_idle, c);
	if (!c->idle)
		dns_conn_close(c);
}

/*
 * Answer the whole frames in c->in while the client keeps reading answers,
 * up to the event's budget: one client pipelining thousands of queries gets
 * DNS_TCP_BATCH answers per turn of the loop, like everyone else.
 */
static void dns_conn_answer(struct dns_conn *c)
{
	struct dns_server *s = c->s;

	while (!c->broken && c->budget && c->out.len < DNS_TCP_OUT_HIGH && c->in.len >= 2) {
		size_t flen = dns_conn_frame_len(c);
		struct dns_query qr;

		if (flen < DNSMSG_HDR_LEN || flen > DNS_TCP_QUERY_MAX) {
			c->broken = 1;   /* not a DNS query: fail closed */
			break;
		}
		if (c->in.len < 2 + flen)
			break;
		dns_conn_touch(c);
		c->nqueries++;
		c->budget--;
		memset(&qr, 0, offsetof(struct dns_query, q));
		qr.s = s;
		qr.tcp = 1;
		qr.conn = c;
		qr.udp_fd = -1;
		memcpy(qr.client, c->client, sizeof(qr.client));
		/* s->in is free again: frames are copied there to be handled. */
		memcpy(s->in, c->in.data + 2, flen);
		qr.raw = s->in;
		qr.rawlen = flen;
		qr.t0 = c->last_us;
		buf_consume(&c->in, 2 + flen);
		dns_handle(&qr);
	}
}

static void dns_conn_event(struct loop *l, int fd, unsigned events, void *arg)
{
	struct dns_conn *c = arg;
	struct dns_server *s = c->s;
	int i;

	(void)l;
	c->in_event = 1;
	c->budget = DNS_TCP_BATCH;
	if (events & LOOP_WRITE)
		dns_conn_flush(c);
	/*
	 * An error or hang-up that no read will pick up (after the client's FIN,
	 * or while reading is held back) ends the connection: the condition
	 * stays and would wake the loop again and again.
	 */
	if ((events & LOOP_ERROR) && !dns_conn_wants_read(c))
		c->broken = 1;
	/* Frames held back while the client was not reading its answers. */
	dns_conn_answer(c);
	for (i = 0; i < DNS_TCP_READS && (events & (LOOP_READ | LOOP_ERROR)) && c->budget &&
		    dns_conn_wants_read(c); i++) {
		size_t room = DNS_TCP_IN_MAX - c->in.len;
		ssize_t n = recv(fd, s->in, room < 16384 ? room : 16384, 0);

		if (n < 0) {
			if (errno != EAGAIN)
				c->broken = 1;
			break;
		}
		if (n == 0) {
			c->rd_eof = 1;
			break;
		}
		if (buf_append(&c->in, s->in, (size_t)n) < 0) {
			c->broken = 1;
			break;
		}
		dns_conn_answer(c);
	}
	c->in_event = 0;
	if (!dns_conn_settle(c))
		dns_conn_watch(c);
}

/*
 * All slots are taken: the connection to push out, the oldest of those
 * silent since accept for DNS_TCP_SILENT_US, else the least recently active.
 */
static struct dns_conn *dns_conn_victim(struct dns_server *s, uint64_t now)
{
	struct dns_conn *c;

	for (c = s->conns_tail; c; c = c->prev)
		if (!c->nqueries && now - c->accepted_us >= DNS_TCP_SILENT_US)
			return c;
	return s->conns_tail;
}

static void dns_accept_resume(struct loop *l, void *arg)
{
	struct dns_listener *ls = arg;

	ls->pause = NULL;
	(void)loop_fd_mod(l, ls->fd, LOOP_READ);
}

static void dns_accept_event(struct loop *l, int fd, unsigned events, void *arg)
{
	struct dns_listener *ls = arg;
	struct dns_server *s = ls->s;
	int i;

	(void)events;
	for (i = 0; i < DNS_ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct dns_conn *c;

		if (cfd < 0) {
			if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
				return;
			/*
			 * Out of descriptors or memory: the pending connection stays
			 * queued and the listener would wake the loop at once, again
			 * and again. Stop accepting for a moment instead.
			 */
			if (!ls->pause &&
			    (ls->pause = loop_timer_add(l, DNS_ACCEPT_PAUSE_US, dns_accept_resume, ls)))
				(void)loop_fd_mod(l, fd, 0);
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->s = s;
		c->fd = cfd;
		c->peer = peer;
		dns_sa_text(&peer, c->client, sizeof(c->client));
		buf_init(&c->in, DNS_TCP_IN_MAX);
		buf_init(&c->out, s->cfg.tcp_max_buffer);
		c->accepted_us = c->last_us = loop_now_us();
		if (loop_fd_add(l, cfd, LOOP_READ, dns_conn_event, c, NULL) < 0 ||
		    !(c->idle = loop_timer_add(l, s->cfg.tcp_idle_us, dns_conn_idle, c))) {
			loop_fd_del(l, cfd);
			close(cfd);
			free(c);
			continue;
		}
		/* Full: the new connection takes the place of the least useful one. */
		if (s->nconns >= s->cfg.tcp_max_conns)
			dns_conn_close(dns_conn_victim(s, c->accepted_us));
		dns_conn_push_front(c);
		s->nconns++;
	}
}

/* ---- lifecycle ---- */

static int dns_listen_one(struct dns_server *s, struct dns_listener *ls,
			  const struct sockaddr_storage *addr, int tcp, struct err *err)
{
	char text[DNS_CLIENT_MAX];
	socklen_t al = dns_sa_len(addr);
	int one = 1, fd;

	dns_sa_text(addr, text, sizeof(text));
	fd = netns_socket(s->nsfd, addr->ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK,
			  0, err);
	if (fd < 0)
		return err_prefix(err, "dns listen %s/%s: ", text, tcp ? "tcp" : "udp");
	ls->s = s;
	ls->fd = fd;
	ls->tcp = tcp;
	if (addr->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (tcp) {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	} else {
		/*
		 * A burst of datagrams (garbage, or a benchmark) must not fill the
		 * receive buffer and push out the queries of other clients: ask
		 * for a large one (beyond rmem_max when the process may).
		 */
		int rcv = DNS_UDP_RCVBUF;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	}
	if (bind(fd, (const struct sockaddr *)addr, al) < 0)
		return err_errno(err, errno, "dns listen %s/%s: bind", text, tcp ? "tcp" : "udp");
	if (tcp && listen(fd, DNS_LISTEN_BACKLOG) < 0)
		return err_errno(err, errno, "dns listen %s/tcp: listen", text);
	al = sizeof(ls->addr);
	if (getsockname(fd, (struct sockaddr *)&ls->addr, &al) < 0)
		return err_errno(err, errno, "dns listen %s: getsockname", text);
	return loop_fd_add(s->loop, fd, LOOP_READ, tcp ? dns_accept_event : dns_udp_event, ls, err);
}

static uint16_t dns_sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void dns_listener_close(struct dns_server *s, struct dns_listener *ls)
{
	if (ls->pause) {
		loop_timer_cancel(s->loop, ls->pause);
		ls->pause = NULL;
	}
	if (ls->fd >= 0) {
		loop_fd_del(s->loop, ls->fd);
		close(ls->fd);
		ls->fd = -1;
	}
}

struct dns_server *dns_server_new(struct loop *l, const struct dns_config *cfg, struct err *err)
{
	struct dns_server *s = calloc(1, sizeof(*s));
	size_t i;

	if (!s) {
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->nsfd = NETNS_SELF;
	s->cfg.seed = cfg->seed;
	s->cfg.ttl = cfg->ttl;
	s->cfg.upstream_timeout_us = cfg->upstream_timeout_us;
	s->cfg.upstream_tries = cfg->upstream_tries;
	s->cfg.tcp_idle_us = cfg->tcp_idle_us ? cfg->tcp_idle_us : 10000000;
	s->cfg.tcp_max_conns = cfg->tcp_max_conns ? cfg->tcp_max_conns : 256;
	s->cfg.tcp_max_buffer = cfg->tcp_max_buffer ? cfg->tcp_max_buffer : 128 * 1024;
	s->cfg.max_pending = cfg->max_pending ? cfg->max_pending : DNS_PENDING_MAX;
	if (s->cfg.tcp_max_buffer < 2 + DNSMSG_MSG_MAX)
		s->cfg.tcp_max_buffer = 2 + DNSMSG_MSG_MAX;
	if (!cfg->nlisten) {
		err_set(err, -EINVAL, "dns: no listen address");
		goto fail;
	}
	if (dns_zone_copy(s, cfg, err) < 0)
		goto fail;
	if (cfg->nupstreams) {
		s->cfg.upstreams = malloc(cfg->nupstreams * sizeof(*cfg->upstreams));
		if (!s->cfg.upstreams) {
			err_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		memcpy(s->cfg.upstreams, cfg->upstreams, cfg->nupstreams * sizeof(*cfg->upstreams));
		s->cfg.nupstreams = cfg->nupstreams;
	}
	if (netns_open(cfg->netns, &s->nsfd, err) < 0) {
		s->nsfd = NETNS_SELF;
		err_prefix(err, "dns: ");
		goto fail;
	}
	s->ls = calloc(cfg->nlisten * 2, sizeof(*s->ls));
	if (!s->ls) {
		err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->nlisten; i++) {
		struct sockaddr_storage a = cfg->listen[i];
		struct dns_listener *u = &s->ls[2 * i], *t = &s->ls[2 * i + 1];
		int any = dns_sa_port(&a) == 0, tries = 0, rc;

		u->fd = t->fd = -1;
		s->nls = 2 * i + 2;
		for (;;) {
			struct sockaddr_storage b;

			if (dns_listen_one(s, u, &a, 0, err) < 0)
				goto fail;
			/* With port 0, TCP takes the port the kernel gave UDP. */
			b = u->addr;
			rc = dns_listen_one(s, t, &b, 1, err);
			if (rc == 0)
				break;
			/*
			 * The port the kernel picked for UDP is taken for TCP (by
			 * a listener or a connection of another process): pick
			 * another. An explicit port stays strict.
			 */
			if (!any || rc != -EADDRINUSE || ++tries >= DNS_PORT0_TRIES)
				goto fail;
			dns_listener_close(s, u);
			dns_listener_close(s, t);
		}
	}
	return s;
fail:
	dns_server_free(s);
	return NULL;
}

void dns_server_free(struct dns_server *s)
{
	size_t i;

	if (!s)
		return;
	while (s->conns)
		dns_conn_close(s->conns);
	while (s->pending)
		dns_pending_free(s->pending);
	for (i = 0; i < s->nls; i++)
		dns_listener_close(s, &s->ls[i]);
	free(s->ls);
	while (s->rules) {
		struct dns_rule_slot *r = s->rules;

		s->rules = r->next;
		dns_rule_free(r);
	}
	for (i = 0; i < s->cfg.nzone; i++)
		dns_zone_entry_cleanup(&s->cfg.zone[i]);
	free(s->cfg.zone);
	free(s->zt);
	free(s->cfg.upstreams);
	if (s->nsfd >= 0)
		close(s->nsfd);
	free(s);
}

void dns_server_set_log(struct dns_server *s, dns_log_fn fn, void *arg)
{
	s->log_fn = fn;
	s->log_arg = arg;
}

int dns_server_addr(const struct dns_server *s, size_t i, struct sockaddr_storage *out)
{
	if (2 * i >= s->nls)
		return -ENOENT;
	*out = s->ls[2 * i].addr;
	return 0;
}
