/*
 * dns: doorjam's DNS server, with fault rules.
 *
 * The server listens on UDP and TCP at configured addresses inside a chosen
 * network namespace (its sockets are made there with netns_socket; the main
 * thread never moves) and runs in the event loop: nothing here blocks. It
 * answers from a static zone (A, AAAA, CNAME), forwards other names to
 * configured upstreams when there are any, and answers REFUSED otherwise, so
 * it is never an open resolver. Upstream replies are accepted only from the
 * upstream's address, with the query's random ID and the same question; a
 * truncated upstream reply is retried over TCP.
 *
 * Fault rules are added and removed while the server runs (a fault's apply
 * and revert). A rule matches by name pattern, query type, a seeded
 * probability and an optional time window, and then answers NXDOMAIN,
 * SERVFAIL or REFUSED, stays silent, sinkholes, redirects, delays the normal
 * answer, or sets TC to force the client to TCP. The first matching rule, in
 * the order the rules were added, wins; a truncate rule matches UDP queries
 * only, so over TCP the rules after it (or the zone) decide.
 *
 * Every query is reported through a log callback once it is answered (or
 * dropped), with the rule and action that decided it.
 *
 * Hostile clients are bounded: TCP clients that send nothing, trickle a
 * frame, stop mid-frame or never read their answers are closed after
 * tcp_idle; a query frame over 4 KiB closes its connection; when
 * tcp_max_conns connections are open, a new one pushes out the least
 * recently active (silent ones first); a half-closed client gets its answers,
 * then the connection closes; queries waiting for a delay or an upstream
 * are capped (max_pending). Memory therefore stays within about
 * tcp_max_conns * (16 KiB + tcp_max_buffer) plus max_pending queries.
 *
 * The server does not parse JSON (runner/fault_dns.c turns the scenario's
 * "dns" block into struct dns_config) and does not recurse on its own.
 */
#ifndef DOORJAM_DNS_H
#define DOORJAM_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"

struct loop;
struct dns_server;

/* One name of the zone: addresses, or a CNAME (then no addresses). */
struct dns_zone_entry {
	char *name;                 /* canonical text form (dnsmsg_name_canon) */
	char *cname;                /* canonical target, or NULL */
	uint8_t (*v4)[4];
	size_t nv4;
	uint8_t (*v6)[16];
	size_t nv6;
};

/* Server configuration: plain data, heap-owned (dns_config_free). */
struct dns_config {
	char *netns;                        /* namespace spec; NULL: doorjam's own */
	struct sockaddr_storage *listen;    /* port 0 picks a free port */
	size_t nlisten;
	struct dns_zone_entry *zone;
	size_t nzone;
	struct sockaddr_storage *upstreams; /* tried in order */
	size_t nupstreams;
	uint32_t ttl;                       /* TTL of zone answers, seconds */
	uint64_t upstream_timeout_us;       /* per try; 0: 2 s */
	unsigned upstream_tries;            /* tries per upstream; 0: 2 */
	uint64_t tcp_idle_us;               /* no query read, no answer sent: closed; 0: 10 s */
	unsigned tcp_max_conns;             /* 0: 256; when full, a new connection
	                                       pushes out the least recently active */
	size_t tcp_max_buffer;              /* answers a TCP client leaves unread before
	                                       it is closed; 0: 128 KiB */
	unsigned max_pending;               /* queries waiting for a delay or an upstream;
	                                       more are dropped (delay) or get SERVFAIL
	                                       (upstream); 0: 1024 */
	uint64_t seed;                      /* seeds every rule's probability draws */
};

/* Free a heap config and everything it points to. Accepts NULL. */
void dns_config_free(struct dns_config *cfg);

/*
 * Parse "127.0.0.1:5353", "[::1]:53", "10.77.0.53" (default_port) into ss.
 * Returns 0 or -EINVAL with err set.
 */
int dns_addr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *ss,
		   struct err *err) __attribute__((warn_unused_result));

enum dns_action {
	DNS_ACTION_NXDOMAIN,
	DNS_ACTION_SERVFAIL,
	DNS_ACTION_REFUSED,
	DNS_ACTION_TIMEOUT,    /* no answer at all */
	DNS_ACTION_SINKHOLE,   /* A 0.0.0.0, AAAA :: */
	DNS_ACTION_REDIRECT,   /* A/AAAA of the rule's addresses */
	DNS_ACTION_DELAY,      /* the normal answer, delay_us later */
	DNS_ACTION_TRUNCATE,   /* UDP: TC set, no records; TCP: the rule is skipped */
};

/* Name of an action as it appears in the log ("nxdomain", ...). */
const char *dns_action_name(enum dns_action a);

/* A fault rule: plain data, copied by dns_server_rule_add. */
struct dns_rule {
	enum dns_action action;
	const char *const *names;   /* patterns (exact or "*.suffix"); nnames >= 1 */
	size_t nnames;
	const uint16_t *types;      /* query types; ntypes 0: every type */
	size_t ntypes;
	double probability;         /* 0..1; a matching query is hit with this chance */
	uint32_t ttl;               /* answer TTL, and SOA minimum of negative answers */
	uint64_t delay_us;          /* DNS_ACTION_DELAY */
	const uint8_t (*v4)[4];     /* DNS_ACTION_REDIRECT */
	size_t nv4;
	const uint8_t (*v6)[16];
	size_t nv6;
	uint64_t not_before_us;     /* loop_now_us window; 0: unbounded */
	uint64_t not_after_us;
};

/* One line of the query log; every pointer is valid during the callback only. */
struct dns_log_entry {
	uint64_t time_us;           /* loop_now_us when the query arrived */
	uint64_t latency_us;        /* arrival to answer (or drop) */
	const char *transport;      /* "udp" or "tcp" */
	const char *client;         /* "10.77.0.2:41234", "[::1]:5555" */
	const char *name;           /* text form, lower-case */
	const char *type;           /* "A", "AAAA", ... */
	int rule;                   /* id of the matched rule, 0 when none */
	const char *action;         /* a dns_action_name, or "zone", "upstream", "refused",
	                               "formerr", "notimp" */
	const char *answer;         /* dnsmsg_summary of what was sent, or "no answer" */
};

typedef void (*dns_log_fn)(const struct dns_log_entry *e, void *arg);

/*
 * Start a server on loop l: open every listener inside cfg->netns and watch
 * them. cfg is copied. A listen address with port 0 gets one port that is
 * free for both UDP and TCP (the kernel's pick for UDP, tried again up to 32
 * times while that port is taken for TCP); an explicit port that is taken
 * fails with -EADDRINUSE. Returns the server (free with dns_server_free) or
 * NULL with err set; on failure nothing stays open.
 */
struct dns_server *dns_server_new(struct loop *l, const struct dns_config *cfg,
				  struct err *err) __attribute__((warn_unused_result));

/*
 * Stop: close every socket, cancel every timer, drop pending queries. Rules
 * go with it. Accepts NULL.
 */
void dns_server_free(struct dns_server *s);

/* Install (fn NULL: remove) the query log callback. */
void dns_server_set_log(struct dns_server *s, dns_log_fn fn, void *arg);

/*
 * The address listener i (in configuration order) is bound to, with the
 * real port when the configuration said 0. Returns 0 or -ENOENT.
 */
int dns_server_addr(const struct dns_server *s, size_t i, struct sockaddr_storage *out);

/*
 * Add a rule; r is copied. Returns its id (> 0) or a negative code with err
 * set (bad rule). The rule's probability draws come from a generator seeded
 * with the server's seed and the id, so a run with the same seed and the
 * same queries makes the same choices.
 */
int dns_server_rule_add(struct dns_server *s, const struct dns_rule *r, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Remove a rule. Queries it already delayed are still answered. Returns 0 or
 * -ENOENT.
 */
int dns_server_rule_del(struct dns_server *s, int id);

/*
 * Rule selection as the server does it for one query, without a socket:
 * the id of the rule that decides (name, qtype, over TCP or not) at time
 * now_us, drawing from the rules' generators exactly as a real query would,
 * or 0 when no rule matches. For tests and dry runs.
 */
int dns_server_rule_pick(struct dns_server *s, const char *name, uint16_t qtype, int tcp,
			 uint64_t now_us);

#endif
