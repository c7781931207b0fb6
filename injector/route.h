/*
 * route: unreachable, blackhole and prohibit routes for sets of IPv4 and IPv6
 * prefixes, switched on and off atomically.
 *
 * A set lives in a private routing table of its own; one policy rule per
 * address family sends lookups to that table. The routes are added first,
 * while no rule points at the table (they have no effect yet), then the rule
 * makes the whole set take effect at once; revert removes the rule first, so
 * the whole set stops at once, then the routes. Destinations outside the set
 * find no route in the private table and fall through to the next rule (main),
 * untouched.
 *
 * doorjam's marks: every route and rule carries protocol ROUTE_PROTO; tables
 * are ROUTE_TABLE_BASE + slot and rule priorities ROUTE_PRIO_BASE + slot, a
 * slot being the first one free in the namespace. recover finds leftovers by
 * these marks. Every object is journaled (and the journal fsync'd) before it
 * is made. This module does not decide where a fault goes; fault_net does.
 */
#ifndef DOORJAM_ROUTE_H
#define DOORJAM_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct journal;
struct journal_rec;
struct nl_msg;
struct nl_ns;

#define ROUTE_PROTO       215u          /* rtm_protocol / FRA_PROTOCOL of doorjam's objects */
#define ROUTE_TABLE_BASE  0x646a0000u   /* "dj" << 16: private tables */
#define ROUTE_PRIO_BASE   11500u        /* rule priorities, before main (32766) */
#define ROUTE_SLOTS       256u

/* An IPv4 or IPv6 prefix; host bits are zero. Plain data. */
struct route_prefix {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network order; 4 bytes used for AF_INET */
	unsigned len;            /* prefix length */
};

/*
 * Parse "10.1.0.0/16", "2001:db8::/32" or a bare address (a host prefix).
 * Strict: the length must be in range and host bits must be zero (so that
 * "10.1.2.3/16" is reported, not silently widened). Returns 0 or -EINVAL
 * with err set.
 */
int route_prefix_parse(const char *s, struct route_prefix *out, struct err *err)
	__attribute__((warn_unused_result));

/* "10.1.0.0/16" into out (at least 64 bytes). Returns out. */
char *route_prefix_format(const struct route_prefix *p, char *out, size_t outlen);

/* Route types doorjam makes: RTN_UNREACHABLE, RTN_BLACKHOLE, RTN_PROHIBIT. */
int route_type_ok(int rtype);
const char *route_type_name(int rtype);

struct route_set;

/*
 * Make routes of type rtype for the n prefixes in namespace nsfd (NETNS_SELF:
 * our own) and switch them on. Everything is journaled in j (may be NULL)
 * and synced first. On success stores the applied set in *out (route_revert
 * frees it). On failure nothing of the set remains and err says why, with
 * the kernel's ext-ack text.
 */
int route_apply(int nsfd, struct journal *j, int rtype, const struct route_prefix *pfx,
		size_t n, struct route_set **out, struct err *err)
	__attribute__((warn_unused_result));

/* Table and priority slot of an applied set (for reports and tests). */
uint32_t route_set_table(const struct route_set *rs);

/*
 * Switch the set off (rule first) and remove its routes, then free rs.
 * Objects already gone are not an error. Accepts NULL. Returns 0, or the
 * first error (every object is still tried).
 */
int route_revert(struct route_set *rs, struct err *err);

/*
 * Message builders, exposed for unit tests. cmd is RTM_NEWROUTE/RTM_DELROUTE
 * or RTM_NEWRULE/RTM_DELRULE. Return a heap message (nlmsg_free) or NULL
 * when out of memory.
 */
struct nl_msg *route_msg(int cmd, int rtype, uint32_t table, const struct route_prefix *p);
struct nl_msg *route_rule_msg(int cmd, int family, uint32_t prio, uint32_t table);

/*
 * recover: undo one journal record of kind JOURNAL_ROUTE or JOURNAL_RULE
 * through nl. *absent is set when the object was already gone. Returns 0 or
 * negative with err set.
 */
int route_undo(struct nl_ns *nl, const struct journal_rec *r, int *absent, struct err *err)
	__attribute__((warn_unused_result));

/*
 * recover: remove every rule and route that carries doorjam's marks in the
 * namespace of nl; *removed counts them. Returns 0 or negative with err set.
 */
int route_sweep(struct nl_ns *nl, size_t *removed, struct err *err)
	__attribute__((warn_unused_result));

#endif
