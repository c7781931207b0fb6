/*
 * route: reject routes in a private table plus one policy rule per family.
 * See route.h for the model and the marks.
 */
#include "injector/route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "common/netns.h"
#include "injector/journal.h"
#include "injector/nl.h"

struct route_set {
	struct nl_ns *nl;
	int rtype;
	uint32_t table, prio;
	struct route_prefix *pfx;
	size_t n;
	size_t added;          /* routes made so far, in order */
	int rule_on[2];        /* [0] IPv4, [1] IPv6 */
};

int route_prefix_parse(const char *s, struct route_prefix *out, struct err *err)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	unsigned max, i;
	char *end;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return err_set(err, -EINVAL, "\"%s\" is not an IP prefix", s);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return err_set(err, -EINVAL, "\"%s\" is not an IP prefix (address \"%s\")", s, addr);
	}
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]))
			goto badlen;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > max)
			goto badlen;
	} else {
		len = max;
	}
	out->len = (unsigned)len;
	for (i = out->len; i < max; i++)
		if (out->addr[i / 8] & (0x80u >> (i % 8)))
			return err_set(err, -EINVAL,
				       "\"%s\" has host bits set beyond /%u (did you mean the "
				       "network address?)", s, out->len);
	return 0;
badlen:
	return err_set(err, -EINVAL, "\"%s\": prefix length must be 0..%u", s, max);
}

char *route_prefix_format(const struct route_prefix *p, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(out, outlen, "%s/%u", a, p->len);
	return out;
}

int route_type_ok(int rtype)
{
	return rtype == RTN_UNREACHABLE || rtype == RTN_BLACKHOLE || rtype == RTN_PROHIBIT;
}

const char *route_type_name(int rtype)
{
	switch (rtype) {
	case RTN_UNREACHABLE: return "unreachable";
	case RTN_BLACKHOLE:   return "blackhole";
	case RTN_PROHIBIT:    return "prohibit";
	default:              return "?";
	}
}

static size_t route_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

struct nl_msg *route_msg(int cmd, int rtype, uint32_t table, const struct route_prefix *p)
{
	struct rtmsg rt;
	struct nl_msg *m;

	m = nlmsg_alloc_simple(cmd, cmd == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!m)
		return NULL;
	memset(&rt, 0, sizeof(rt));
	rt.rtm_family = (unsigned char)p->family;
	rt.rtm_dst_len = (unsigned char)p->len;
	rt.rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rt.rtm_protocol = ROUTE_PROTO;
	/* a delete with scope "nowhere" matches any scope, as ip route del does */
	rt.rtm_scope = cmd == RTM_NEWROUTE ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rt.rtm_type = (unsigned char)rtype;
	if (nlmsg_append(m, &rt, sizeof(rt), NLMSG_ALIGNTO) < 0 ||
	    (p->len && nla_put(m, RTA_DST, (int)route_addr_len(p->family), p->addr) < 0) ||
	    nla_put_u32(m, RTA_TABLE, table) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

struct nl_msg *route_rule_msg(int cmd, int family, uint32_t prio, uint32_t table)
{
	struct fib_rule_hdr fr;
	struct nl_msg *m;

	m = nlmsg_alloc_simple(cmd, cmd == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!m)
		return NULL;
	memset(&fr, 0, sizeof(fr));
	fr.family = (unsigned char)family;
	fr.action = FR_ACT_TO_TBL;
	fr.table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	if (nlmsg_append(m, &fr, sizeof(fr), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, FRA_PRIORITY, prio) < 0 ||
	    nla_put_u32(m, FRA_TABLE, table) < 0 ||
	    nla_put_u8(m, FRA_PROTOCOL, ROUTE_PROTO) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* ---- reading rules and routes back ---- */

struct route_rule_info {
	int family;
	uint32_t prio, table;
	unsigned proto;
};

struct route_rules {
	struct route_rule_info *v;
	size_t n, cap;
};

static int route_rule_cb(const struct nlmsghdr *h, void *arg, struct err *err)
{
	struct route_rules *rr = arg;
	struct nlattr *tb[FRA_MAX + 1];
	const struct fib_rule_hdr *fr;
	struct route_rule_info ri;

	if (h->nlmsg_type != RTM_NEWRULE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*fr)))
		return 0;
	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*fr), tb, FRA_MAX, NULL) < 0)
		return 0;
	fr = NLMSG_DATA(h);
	memset(&ri, 0, sizeof(ri));
	ri.family = fr->family;
	ri.table = tb[FRA_TABLE] ? nla_get_u32(tb[FRA_TABLE]) : fr->table;
	ri.prio = tb[FRA_PRIORITY] ? nla_get_u32(tb[FRA_PRIORITY]) : 0;
	ri.proto = tb[FRA_PROTOCOL] ? nla_get_u8(tb[FRA_PROTOCOL]) : 0;
	if (rr->n == rr->cap) {
		size_t cap = rr->cap ? rr->cap * 2 : 32;
		void *v = realloc(rr->v, cap * sizeof(*rr->v));

		if (!v)
			return err_set(err, -ENOMEM, "out of memory");
		rr->v = v;
		rr->cap = cap;
	}
	rr->v[rr->n++] = ri;
	return 0;
}

static int route_rules_list(struct nl_ns *nl, struct route_rules *rr, struct err *err)
{
	struct fib_rule_hdr fr;
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETRULE, 0);
	int rc;

	memset(rr, 0, sizeof(*rr));
	memset(&fr, 0, sizeof(fr));
	if (!m || nlmsg_append(m, &fr, sizeof(fr), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return err_set(err, -ENOMEM, "out of memory");
	}
	rc = nl_ns_dump(nl, m, "list policy rules", route_rule_cb, rr, err);
	nlmsg_free(m);
	if (rc < 0) {
		free(rr->v);
		memset(rr, 0, sizeof(*rr));
	}
	return rc;
}

/* What the kernel answers for a route or rule that is already gone. */
static const int route_gone[] = { ENOENT, ESRCH, EADDRNOTAVAIL, ENODEV, 0 };

/* Send a delete; *absent when the kernel says it is gone already. */
static int route_del(struct nl_ns *nl, struct nl_msg *m, const char *what, int *absent,
		     struct err *err)
{
	return nl_ns_delete(nl, m, what, route_gone, absent, err);
}

/* ---- apply / revert ---- */

static int route_pick_slot(struct nl_ns *nl, uint32_t *slot, struct err *err)
{
	struct route_rules rr;
	unsigned char used[ROUTE_SLOTS];
	size_t i;
	int rc;

	rc = route_rules_list(nl, &rr, err);
	if (rc < 0)
		return rc;
	memset(used, 0, sizeof(used));
	for (i = 0; i < rr.n; i++) {
		if (rr.v[i].prio >= ROUTE_PRIO_BASE && rr.v[i].prio < ROUTE_PRIO_BASE + ROUTE_SLOTS)
			used[rr.v[i].prio - ROUTE_PRIO_BASE] = 1;
		if (rr.v[i].table >= ROUTE_TABLE_BASE && rr.v[i].table < ROUTE_TABLE_BASE + ROUTE_SLOTS)
			used[rr.v[i].table - ROUTE_TABLE_BASE] = 1;
	}
	free(rr.v);
	for (i = 0; i < ROUTE_SLOTS; i++) {
		if (!used[i]) {
			*slot = (uint32_t)i;
			return 0;
		}
	}
	return err_set(err, -ENOSPC, "all %u of doorjam's route slots are in use", ROUTE_SLOTS);
}

static int route_fam_index(int family)
{
	return family == AF_INET6;
}

/* Remove whatever of rs exists; rule first. Returns the first error. */
static int route_undo_set(struct route_set *rs, struct err *err)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct err e2;
	char what[128], p[64];
	int first = 0, absent, rc, f;
	size_t i;

	for (f = 0; f < 2; f++) {
		if (!rs->rule_on[f])
			continue;
		snprintf(what, sizeof(what), "delete rule priority %u table %u", rs->prio, rs->table);
		rc = route_del(rs->nl, route_rule_msg(RTM_DELRULE, fams[f], rs->prio, rs->table),
			       what, &absent, first ? &e2 : err);
		if (rc < 0 && !first)
			first = rc;
		if (rc == 0)
			rs->rule_on[f] = 0;
	}
	for (i = rs->added; i-- > 0;) {
		snprintf(what, sizeof(what), "delete %s route %s",
			 route_type_name(rs->rtype), route_prefix_format(&rs->pfx[i], p, sizeof(p)));
		rc = route_del(rs->nl, route_msg(RTM_DELROUTE, rs->rtype, rs->table, &rs->pfx[i]),
			       what, &absent, first ? &e2 : err);
		if (rc < 0 && !first)
			first = rc;
	}
	rs->added = 0;
	return first;
}

static void route_set_free(struct route_set *rs)
{
	if (!rs)
		return;
	nl_ns_close(rs->nl);
	free(rs->pfx);
	free(rs);
}

int route_apply(int nsfd, struct journal *j, int rtype, const struct route_prefix *pfx,
		size_t n, struct route_set **out, struct err *err)
{
	struct route_set *rs;
	struct journal_rec rec;
	struct err e2;
	char what[128], p[64];
	int has[2] = { 0, 0 }, rc, f;
	uint32_t slot = 0;
	size_t i;

	*out = NULL;
	if (!route_type_ok(rtype))
		return err_set(err, -EINVAL, "route type %d is not one doorjam makes", rtype);
	if (n == 0)
		return err_set(err, -EINVAL, "no prefixes given");
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return err_set(err, -ENOMEM, "out of memory");
	rs->pfx = malloc(n * sizeof(*pfx));
	if (!rs->pfx) {
		free(rs);
		return err_set(err, -ENOMEM, "out of memory");
	}
	memcpy(rs->pfx, pfx, n * sizeof(*pfx));
	rs->n = n;
	rs->rtype = rtype;
	rc = nl_ns_open(nsfd, &rs->nl, err);
	if (rc < 0)
		goto fail;
	rc = route_pick_slot(rs->nl, &slot, err);
	if (rc < 0)
		goto fail;
	rs->table = ROUTE_TABLE_BASE + slot;
	rs->prio = ROUTE_PRIO_BASE + slot;

	/* Journal first: every route, then the rules, then one fsync. */
	memset(&rec, 0, sizeof(rec));
	journal_rec_set_ns(&rec, nsfd);
	for (i = 0; i < n; i++) {
		rec.kind = JOURNAL_ROUTE;
		rec.family = pfx[i].family;
		rec.table = rs->table;
		rec.rtype = (uint8_t)rtype;
		route_prefix_format(&pfx[i], rec.dst, sizeof(rec.dst));
		rc = journal_add(j, &rec, err);
		if (rc < 0)
			goto fail;
		has[route_fam_index(pfx[i].family)] = 1;
	}
	for (f = 0; f < 2; f++) {
		if (!has[f])
			continue;
		rec.kind = JOURNAL_RULE;
		rec.family = f ? AF_INET6 : AF_INET;
		rec.table = rs->table;
		rec.prio = rs->prio;
		rec.dst[0] = '\0';
		rc = journal_add(j, &rec, err);
		if (rc < 0)
			goto fail;
	}
	rc = journal_sync(j, err);
	if (rc < 0)
		goto fail;

	for (i = 0; i < n; i++) {
		struct nl_msg *m = route_msg(RTM_NEWROUTE, rtype, rs->table, &pfx[i]);

		if (!m) {
			rc = err_set(err, -ENOMEM, "out of memory");
			goto undo;
		}
		snprintf(what, sizeof(what), "add %s route %s", route_type_name(rtype),
			 route_prefix_format(&pfx[i], p, sizeof(p)));
		rc = nl_ns_request(rs->nl, m, what, err);
		nlmsg_free(m);
		if (rc < 0)
			goto undo;
		rs->added = i + 1;
	}
	for (f = 0; f < 2; f++) {
		struct nl_msg *m;

		if (!has[f])
			continue;
		m = route_rule_msg(RTM_NEWRULE, f ? AF_INET6 : AF_INET, rs->prio, rs->table);
		if (!m) {
			rc = err_set(err, -ENOMEM, "out of memory");
			goto undo;
		}
		snprintf(what, sizeof(what), "add %s rule priority %u table %u",
			 f ? "IPv6" : "IPv4", rs->prio, rs->table);
		rc = nl_ns_request(rs->nl, m, what, err);
		nlmsg_free(m);
		if (rc < 0)
			goto undo;
		rs->rule_on[f] = 1;
	}
	*out = rs;
	return 0;
undo:
	(void)route_undo_set(rs, &e2);
fail:
	route_set_free(rs);
	return rc;
}

uint32_t route_set_table(const struct route_set *rs)
{
	return rs ? rs->table : 0;
}

int route_revert(struct route_set *rs, struct err *err)
{
	int rc;

	if (!rs)
		return 0;
	rc = route_undo_set(rs, err);
	route_set_free(rs);
	return rc;
}

/* ---- recover ---- */

int route_undo(struct nl_ns *nl, const struct journal_rec *r, int *absent, struct err *err)
{
	struct route_prefix p;
	char what[128];

	*absent = 0;
	if (r->kind == JOURNAL_RULE) {
		snprintf(what, sizeof(what), "delete rule priority %u table %u", r->prio, r->table);
		return route_del(nl, route_rule_msg(RTM_DELRULE, r->family, r->prio, r->table),
				 what, absent, err);
	}
	if (r->kind != JOURNAL_ROUTE)
		return err_set(err, -EINVAL, "not a route or rule record");
	if (route_prefix_parse(r->dst, &p, err) < 0)
		return err_prefix(err, "journal: ");
	snprintf(what, sizeof(what), "delete %s route %s table %u", route_type_name(r->rtype),
		 r->dst, r->table);
	return route_del(nl, route_msg(RTM_DELROUTE, r->rtype, r->table, &p), what, absent, err);
}

struct route_found {
	struct route_prefix p;
	int rtype;
	uint32_t table;
};

struct route_founds {
	struct route_found *v;
	size_t n, cap;
};

static int route_dump_cb(const struct nlmsghdr *h, void *arg, struct err *err)
{
	struct route_founds *rf = arg;
	struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rt;
	struct route_found f;

	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
		return 0;
	rt = NLMSG_DATA(h);
	if (rt->rtm_protocol != ROUTE_PROTO ||
	    (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
		return 0;
	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*rt), tb, RTA_MAX, NULL) < 0)
		return 0;
	memset(&f, 0, sizeof(f));
	f.p.family = rt->rtm_family;
	f.p.len = rt->rtm_dst_len;
	if (tb[RTA_DST]) {
		if ((size_t)nla_len(tb[RTA_DST]) != route_addr_len(rt->rtm_family))
			return 0;
		memcpy(f.p.addr, nla_data(tb[RTA_DST]), route_addr_len(rt->rtm_family));
	}
	f.rtype = rt->rtm_type;
	f.table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rt->rtm_table;
	if (rf->n == rf->cap) {
		size_t cap = rf->cap ? rf->cap * 2 : 64;
		void *v = realloc(rf->v, cap * sizeof(*rf->v));

		if (!v)
			return err_set(err, -ENOMEM, "out of memory");
		rf->v = v;
		rf->cap = cap;
	}
	rf->v[rf->n++] = f;
	return 0;
}

int route_sweep(struct nl_ns *nl, size_t *removed, struct err *err)
{
	struct route_rules rr;
	struct route_founds rf = { NULL, 0, 0 };
	static const int fams[2] = { AF_INET, AF_INET6 };
	char what[128], p[64];
	int rc, absent, f;
	size_t i;

	*removed = 0;
	rc = route_rules_list(nl, &rr, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < rr.n && rc == 0; i++) {
		if (rr.v[i].proto != ROUTE_PROTO && !(rr.v[i].prio >= ROUTE_PRIO_BASE &&
		    rr.v[i].prio < ROUTE_PRIO_BASE + ROUTE_SLOTS &&
		    rr.v[i].table >= ROUTE_TABLE_BASE &&
		    rr.v[i].table < ROUTE_TABLE_BASE + ROUTE_SLOTS))
			continue;
		snprintf(what, sizeof(what), "delete rule priority %u table %u", rr.v[i].prio,
			 rr.v[i].table);
		rc = route_del(nl, route_rule_msg(RTM_DELRULE, rr.v[i].family, rr.v[i].prio,
						  rr.v[i].table), what, &absent, err);
		if (rc == 0 && !absent)
			(*removed)++;
	}
	free(rr.v);
	if (rc < 0)
		return rc;
	for (f = 0; f < 2 && rc == 0; f++) {
		struct rtmsg rt;
		struct nl_msg *m = nlmsg_alloc_simple(RTM_GETROUTE, 0);

		memset(&rt, 0, sizeof(rt));
		rt.rtm_family = (unsigned char)fams[f];
		if (!m || nlmsg_append(m, &rt, sizeof(rt), NLMSG_ALIGNTO) < 0) {
			nlmsg_free(m);
			rc = err_set(err, -ENOMEM, "out of memory");
			break;
		}
		rc = nl_ns_dump(nl, m, "list routes", route_dump_cb, &rf, err);
		nlmsg_free(m);
	}
	for (i = 0; i < rf.n && rc == 0; i++) {
		snprintf(what, sizeof(what), "delete %s route %s table %u",
			 route_type_name(rf.v[i].rtype),
			 route_prefix_format(&rf.v[i].p, p, sizeof(p)), rf.v[i].table);
		rc = route_del(nl, route_msg(RTM_DELROUTE, rf.v[i].rtype, rf.v[i].table,
					     &rf.v[i].p), what, &absent, err);
		if (rc == 0 && !absent)
			(*removed)++;
	}
	free(rf.v);
	return rc;
}
