/*
 * tc: htb + u32 scoping, netem / random-drop leaves, bandwidth through the
 * htb class rate. See tc.h for the tree and the marks.
 */
#include "injector/tc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "common/netns.h"
#include "injector/journal.h"
#include "injector/nl.h"

#define TC_DIST_DIR   "/usr/lib/x86_64-linux-gnu/tc"
#define TC_DIST_DIR2  "/usr/lib/tc"
#define TC_DIST_MAX   16384
#define TC_MAX_DEVS   32
#define TC_INGRESS_PRIO 0xd0au   /* prio of doorjam's redirect filter: its mark */
#define TC_FAULT_MINOR(slot)  (0x10u + (slot))
#define TC_LEAF_MAJOR(slot)   (TC_MAJOR + 1u + (slot))
#define TC_HOLE_MAJOR(slot)   (TC_MAJOR + 0x80u + 1u + (slot))

struct tc_dev {
	int ifindex;              /* the device the tree is on (the ifb for ingress) */
	char name[IF_NAMESIZE];
	int src_ifindex;          /* ingress: the device whose ingress is redirected */
	char src_name[IF_NAMESIZE];
	int has_ingress;          /* ingress qdisc made on src */
	int has_ifb;              /* ifb device made */
	uint32_t slot;
	int has_class;        /* the fault's class exists */
	int prio_used[2];     /* u32 filters made at 2*slot+1 (IPv4/all), 2*slot+2 (IPv6) */
	uint16_t proto[2];    /* their protocols, host order */
};

struct tc_fault {
	struct nl_ns *nl;
	struct tc_dev dev[TC_MAX_DEVS];
	size_t ndev;
};

uint32_t tc_prob_u32(double p)
{
	if (!(p > 0))
		return 0;
	if (p >= 1)
		return UINT32_MAX;
	return (uint32_t)llround(p * 4294967295.0);
}

size_t tc_bpf_loss_prog(double p, void *prog, size_t cap)
{
	/*
	 * A = random u32; if A >= threshold: return 0 (no match: the packet
	 * takes the default pass class); else return -1 (the filter's classid:
	 * the dropping class).
	 */
	struct sock_filter f[4] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, tc_prob_u32(p), 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};

	if (p >= 1)
		f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0); /* always drop */
	if (cap < sizeof(f))
		return 0;
	memcpy(prog, f, sizeof(f));
	return 4;
}

int tc_dist_load(const char *name, int16_t **table, struct err *err)
{
	char path[256], line[512];
	int16_t *v;
	int n = 0;
	FILE *f;

	*table = NULL;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return err_set(err, -EINVAL, "bad distribution name \"%s\"", name);
	snprintf(path, sizeof(path), "%s/%s.dist", TC_DIST_DIR, name);
	f = fopen(path, "re");
	if (!f) {
		snprintf(path, sizeof(path), "%s/%s.dist", TC_DIST_DIR2, name);
		f = fopen(path, "re");
	}
	if (!f)
		return err_errno(err, errno, "netem distribution \"%s\" (%s.dist from iproute2)",
				 name, name);
	v = malloc(TC_DIST_MAX * sizeof(*v));
	if (!v) {
		fclose(f);
		return err_set(err, -ENOMEM, "out of memory");
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		if (*p == '#')
			continue;
		for (;;) {
			long x;

			while (isspace((unsigned char)*p))
				p++;
			if (!*p)
				break;
			errno = 0;
			x = strtol(p, &end, 10);
			if (end == p || errno || x < INT16_MIN || x > INT16_MAX || n == TC_DIST_MAX) {
				fclose(f);
				free(v);
				return err_set(err, -EINVAL, "%s: malformed distribution table", path);
			}
			v[n++] = (int16_t)x;
			p = end;
		}
	}
	fclose(f);
	if (n == 0) {
		free(v);
		return err_set(err, -EINVAL, "%s: empty distribution table", path);
	}
	*table = v;
	return n;
}

/* ---- message helpers ---- */

/* A tc message of at most size bytes (0: a page, enough for all but netem tables). */
static struct nl_msg *tc_msg_sized(int cmd, int flags, int ifindex, uint32_t parent,
				   uint32_t handle, uint32_t info, size_t size)
{
	struct tcmsg t;
	struct nl_msg *m = size ? nlmsg_alloc_size(size) : nlmsg_alloc_simple(cmd, flags);

	if (!m)
		return NULL;
	if (size && !nlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, cmd, 0, flags)) {
		nlmsg_free(m);
		return NULL;
	}
	memset(&t, 0, sizeof(t));
	t.tcm_family = AF_UNSPEC;
	t.tcm_ifindex = ifindex;
	t.tcm_parent = parent;
	t.tcm_handle = handle;
	t.tcm_info = info;
	if (nlmsg_append(m, &t, sizeof(t), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

static struct nl_msg *tc_msg(int cmd, int flags, int ifindex, uint32_t parent,
			     uint32_t handle, uint32_t info)
{
	return tc_msg_sized(cmd, flags, ifindex, parent, handle, info, 0);
}

static int tc_send(struct nl_ns *nl, struct nl_msg *m, int ok, const char *what, struct err *err)
{
	int rc;

	if (!m || !ok) {
		nlmsg_free(m);
		return err_set(err, -ENOMEM, "%s: cannot build the message", what);
	}
	rc = nl_ns_request(nl, m, what, err);
	nlmsg_free(m);
	return rc;
}

static int tc_del(struct nl_ns *nl, struct nl_msg *m, const char *what, int *absent,
		  struct err *err)
{
	int kerr = 0, rc;

	*absent = 0;
	if (!m)
		return err_set(err, -ENOMEM, "out of memory");
	rc = nl_ns_request_errno(nl, m, what, &kerr, err);
	nlmsg_free(m);
	if (rc < 0)
		return rc;
	if (kerr == ENOENT || kerr == ENODEV || kerr == EINVAL) {
		/* EINVAL: "cannot find specified qdisc on specified device" */
		*absent = 1;
		err_clear(err);
		return 0;
	}
	return kerr ? -kerr : 0;
}

static void tc_rate(struct tc_ratespec *r, uint64_t bps)
{
	memset(r, 0, sizeof(*r));
	r->linklayer = TC_LINKLAYER_ETHERNET;
	r->rate = (uint32_t)(bps / 8 > UINT32_MAX ? UINT32_MAX : bps / 8);
}

static int tc_htb_class(struct nl_ns *nl, int ifindex, uint32_t parent, uint32_t classid,
			uint64_t bps, const char *dev, struct err *err)
{
	struct tc_htb_opt o;
	struct nl_msg *m = tc_msg(RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL, ifindex, parent,
				  classid, 0);
	struct nlattr *opt;
	uint64_t bytes = bps / 8, burst, ticks;
	char what[96];
	int ok;

	memset(&o, 0, sizeof(o));
	tc_rate(&o.rate, bps);
	tc_rate(&o.ceil, bps);
	/* burst: one tick's worth at HZ=250 plus a full frame, as tc computes it */
	burst = bytes / 250 + 1600;
	ticks = burst * 1000000000ull / (bytes ? bytes : 1) / 64; /* psched ticks of 64 ns */
	o.buffer = o.cbuffer = (uint32_t)(ticks > UINT32_MAX ? UINT32_MAX : ticks);
	o.quantum = bytes / 10 > 60000 ? 60000 : (bytes / 10 < 1600 ? 1600 : (uint32_t)(bytes / 10));
	snprintf(what, sizeof(what), "%s: add htb class %x:%x", dev, classid >> 16, classid & 0xffff);
	ok = m && nla_put_string(m, TCA_KIND, "htb") == 0 &&
	     (opt = nla_nest_start(m, TCA_OPTIONS)) != NULL &&
	     nla_put(m, TCA_HTB_PARMS, sizeof(o), &o) == 0 &&
	     nla_nest_end(m, opt) == 0;
	return tc_send(nl, m, ok, what, err);
}

static int tc_htb_qdisc(struct nl_ns *nl, int ifindex, uint32_t parent, uint32_t handle,
			int flags, const char *dev, struct err *err)
{
	struct tc_htb_glob g;
	struct nl_msg *m = tc_msg(RTM_NEWQDISC, flags, ifindex, parent, handle, 0);
	struct nlattr *opt;
	char what[96];
	int ok;

	memset(&g, 0, sizeof(g));
	g.version = 3;
	g.rate2quantum = 10;
	g.defcls = 1;
	snprintf(what, sizeof(what), "%s: add htb qdisc %x:", dev, handle >> 16);
	ok = m && nla_put_string(m, TCA_KIND, "htb") == 0 &&
	     (opt = nla_nest_start(m, TCA_OPTIONS)) != NULL &&
	     nla_put(m, TCA_HTB_INIT, sizeof(g), &g) == 0 &&
	     nla_nest_end(m, opt) == 0;
	return tc_send(nl, m, ok, what, err);
}

static int tc_netem_qdisc(struct nl_ns *nl, int ifindex, uint32_t parent, uint32_t handle,
			  const struct tc_netem *ne, const char *dev, struct err *err)
{
	struct tc_netem_qopt q;
	struct tc_netem_corr corr;
	struct tc_netem_reorder reo;
	struct tc_netem_corrupt cor;
	struct nl_msg *m;
	struct nlattr *opt;
	int16_t *dist = NULL;
	int ndist = 0, ok, rc;
	int64_t lat = (int64_t)ne->delay_us * 1000, jit = (int64_t)ne->jitter_us * 1000;
	char what[96];

	if (ne->dist[0] && strcmp(ne->dist, "uniform")) {
		ndist = tc_dist_load(ne->dist, &dist, err);
		if (ndist < 0)
			return ndist;
	}
	memset(&q, 0, sizeof(q));
	q.latency = (uint32_t)(lat / 64 > UINT32_MAX ? UINT32_MAX : lat / 64);
	q.jitter = (uint32_t)(jit / 64 > UINT32_MAX ? UINT32_MAX : jit / 64);
	q.limit = 10000;
	q.loss = tc_prob_u32(ne->loss);
	q.duplicate = tc_prob_u32(ne->duplicate);
	if (ne->reorder > 0)
		q.gap = 1;
	memset(&corr, 0, sizeof(corr));
	corr.delay_corr = tc_prob_u32(ne->delay_corr);
	corr.loss_corr = tc_prob_u32(ne->loss_corr);
	memset(&reo, 0, sizeof(reo));
	reo.probability = tc_prob_u32(ne->reorder);
	reo.correlation = tc_prob_u32(ne->reorder_corr);
	memset(&cor, 0, sizeof(cor));
	cor.probability = tc_prob_u32(ne->corrupt);

	m = tc_msg_sized(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, parent, handle, 0,
			 4096 + (size_t)ndist * sizeof(*dist));
	ok = m && nla_put_string(m, TCA_KIND, "netem") == 0 &&
	     (opt = nla_nest_start(m, TCA_OPTIONS)) != NULL &&
	     /* netem's options are a struct followed by attributes, not a nest */
	     nlmsg_append(m, &q, sizeof(q), NLMSG_ALIGNTO) == 0 &&
	     nla_put(m, TCA_NETEM_CORR, sizeof(corr), &corr) == 0 &&
	     nla_put(m, TCA_NETEM_REORDER, sizeof(reo), &reo) == 0 &&
	     nla_put(m, TCA_NETEM_CORRUPT, sizeof(cor), &cor) == 0 &&
	     nla_put_s64(m, TCA_NETEM_LATENCY64, lat) == 0 &&
	     nla_put_s64(m, TCA_NETEM_JITTER64, jit) == 0 &&
	     (ndist == 0 || nla_put(m, TCA_NETEM_DELAY_DIST, ndist * (int)sizeof(*dist), dist) == 0) &&
	     nla_nest_end(m, opt) == 0;
	free(dist);
	snprintf(what, sizeof(what), "%s: add netem qdisc %x:", dev, handle >> 16);
	rc = tc_send(nl, m, ok, what, err);
	if (rc == -ENOENT && strstr(err->msg, "qdisc kind is unknown"))
		return err_set(err, -ENOTSUP,
			       "%s: this kernel has no sch_netem (netem qdisc), which delay, "
			       "jitter, duplicate, corrupt and reorder faults need (%s)",
			       dev, err->msg);
	return rc;
}

static int tc_plain_qdisc(struct nl_ns *nl, int ifindex, uint32_t parent, uint32_t handle,
			  const char *kind, const char *dev, struct err *err)
{
	struct nl_msg *m = tc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, parent,
				  handle, 0);
	char what[96];
	int ok = m && nla_put_string(m, TCA_KIND, kind) == 0;

	snprintf(what, sizeof(what), "%s: add %s qdisc %x:", dev, kind, handle >> 16);
	return tc_send(nl, m, ok, what, err);
}

static int tc_bpf_filter(struct nl_ns *nl, int ifindex, uint32_t parent, uint32_t classid,
			 double p, const char *dev, struct err *err)
{
	struct sock_filter prog[4];
	size_t n = tc_bpf_loss_prog(p, prog, sizeof(prog));
	struct nl_msg *m = tc_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex, parent, 0,
				  TC_H_MAKE(1u << 16, htons(ETH_P_ALL)));
	struct nlattr *opt;
	char what[96];
	int ok;

	snprintf(what, sizeof(what), "%s: add bpf random-drop filter", dev);
	ok = m && n && nla_put_string(m, TCA_KIND, "bpf") == 0 &&
	     (opt = nla_nest_start(m, TCA_OPTIONS)) != NULL &&
	     nla_put_u32(m, TCA_BPF_CLASSID, classid) == 0 &&
	     nla_put_u16(m, TCA_BPF_OPS_LEN, (uint16_t)n) == 0 &&
	     nla_put(m, TCA_BPF_OPS, (int)(n * sizeof(prog[0])), prog) == 0 &&
	     nla_nest_end(m, opt) == 0;
	return tc_send(nl, m, ok, what, err);
}

/* One u32 key: 32 bits at off (network header relative), val/mask in network order. */
static void tc_key(struct tc_u32_key *k, uint32_t off, uint32_t val_be, uint32_t mask_be)
{
	memset(k, 0, sizeof(*k));
	k->off = (int)off;
	k->mask = mask_be;
	k->val = val_be & mask_be;
}

static uint32_t tc_mask_be(unsigned bits)
{
	return htonl(bits >= 32 ? 0xffffffffu : (bits ? ~((1u << (32 - bits)) - 1) : 0));
}

/*
 * Build the u32 selector for one (prefix, port) pair; pfx and port may be
 * absent. Egress matches destination fields, ingress source fields. Returns
 * the number of keys.
 */
static unsigned tc_u32_keys(struct tc_u32_key *k, int family, const struct route_prefix *pfx,
			    int port, int ingress)
{
	unsigned n = 0, i;

	if (family == AF_INET) {
		if (pfx && pfx->len) {
			uint32_t a;

			memcpy(&a, pfx->addr, 4);
			tc_key(&k[n++], ingress ? 12 : 16, a, tc_mask_be(pfx->len));
		}
		if (port >= 0)  /* ports follow a 20-byte header (no IP options) */
			tc_key(&k[n++], 20, htonl(ingress ? (uint32_t)port << 16 : (uint32_t)port),
			       htonl(ingress ? 0xffff0000u : 0x0000ffffu));
	} else {
		if (pfx) {
			for (i = 0; i < 4 && i * 32 < pfx->len; i++) {
				uint32_t a;
				unsigned bits = pfx->len - i * 32;

				memcpy(&a, pfx->addr + 4 * i, 4);
				tc_key(&k[n++], (ingress ? 8 : 24) + 4 * i, a, tc_mask_be(bits));
			}
		}
		if (port >= 0)  /* ports follow the 40-byte header (no extension headers) */
			tc_key(&k[n++], 40, htonl(ingress ? (uint32_t)port << 16 : (uint32_t)port),
			       htonl(ingress ? 0xffff0000u : 0x0000ffffu));
	}
	if (n == 0)
		tc_key(&k[n++], 0, 0, 0); /* match everything */
	return n;
}

static int tc_u32_filter(struct nl_ns *nl, int ifindex, uint32_t parent, uint32_t prio,
			 uint16_t proto, uint32_t classid, const struct tc_u32_key *keys,
			 unsigned nkeys, const char *dev, struct err *err)
{
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key keys[8];
	} s;
	struct nl_msg *m = tc_msg(RTM_NEWTFILTER, NLM_F_CREATE, ifindex, parent, 0,
				  TC_H_MAKE(prio << 16, htons(proto)));
	struct nlattr *opt;
	char what[96];
	int ok;

	memset(&s, 0, sizeof(s));
	s.sel.flags = TC_U32_TERMINAL;
	s.sel.nkeys = (unsigned char)nkeys;
	memcpy(s.keys, keys, nkeys * sizeof(*keys));
	snprintf(what, sizeof(what), "%s: add u32 filter prio %u", dev, prio);
	ok = m && nla_put_string(m, TCA_KIND, "u32") == 0 &&
	     (opt = nla_nest_start(m, TCA_OPTIONS)) != NULL &&
	     nla_put_u32(m, TCA_U32_CLASSID, classid) == 0 &&
	     nla_put(m, TCA_U32_SEL, (int)(sizeof(s.sel) + nkeys * sizeof(*keys)), &s) == 0 &&
	     nla_nest_end(m, opt) == 0;
	return tc_send(nl, m, ok, what, err);
}

/* ---- reading state ---- */

struct tc_obj {
	int ifindex;
	uint32_t parent, handle, info;
	char kind[16];
};

struct tc_objs {
	struct tc_obj *v;
	size_t n, cap;
	int ifindex;   /* 0: all */
};

static int tc_obj_cb(const struct nlmsghdr *h, void *arg, struct err *err)
{
	struct tc_objs *o = arg;
	struct nlattr *tb[TCA_MAX + 1];
	const struct tcmsg *t;
	struct tc_obj x;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*t)))
		return 0;
	t = NLMSG_DATA(h);
	if (o->ifindex && t->tcm_ifindex != o->ifindex)
		return 0;
	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*t), tb, TCA_MAX, NULL) < 0)
		return 0;
	memset(&x, 0, sizeof(x));
	x.ifindex = t->tcm_ifindex;
	x.parent = t->tcm_parent;
	x.handle = t->tcm_handle;
	x.info = t->tcm_info;
	if (tb[TCA_KIND])
		snprintf(x.kind, sizeof(x.kind), "%.*s", nla_len(tb[TCA_KIND]),
			 (const char *)nla_data(tb[TCA_KIND]));
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		void *v = realloc(o->v, cap * sizeof(*o->v));

		if (!v)
			return err_set(err, -ENOMEM, "out of memory");
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = x;
	return 0;
}

static int tc_list_parent(struct nl_ns *nl, int cmd, int ifindex, uint32_t parent,
			  struct tc_objs *o, struct err *err)
{
	struct nl_msg *m = tc_msg(cmd, 0, ifindex, parent, 0, 0);
	int rc;

	memset(o, 0, sizeof(*o));
	o->ifindex = ifindex;
	if (!m)
		return err_set(err, -ENOMEM, "out of memory");
	rc = nl_ns_dump(nl, m, cmd == RTM_GETQDISC ? "list qdiscs" :
			cmd == RTM_GETTCLASS ? "list classes" : "list filters", tc_obj_cb, o, err);
	nlmsg_free(m);
	if (rc < 0) {
		free(o->v);
		memset(o, 0, sizeof(*o));
	}
	return rc;
}

static int tc_list(struct nl_ns *nl, int cmd, int ifindex, struct tc_objs *o, struct err *err)
{
	return tc_list_parent(nl, cmd, ifindex, 0, o, err);
}

struct tc_link {
	int ifindex;
	unsigned flags;
	char name[IF_NAMESIZE];
	char kind[16];
};

struct tc_links {
	struct tc_link v[256];
	size_t n;
};

static int tc_link_cb(const struct nlmsghdr *h, void *arg, struct err *err)
{
	struct tc_links *l = arg;
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	const struct ifinfomsg *ifi;
	struct tc_link *x;

	(void)err;
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	if (l->n == sizeof(l->v) / sizeof(l->v[0]))
		return 0;
	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 ||
	    !tb[IFLA_IFNAME])
		return 0;
	ifi = NLMSG_DATA(h);
	x = &l->v[l->n++];
	memset(x, 0, sizeof(*x));
	x->ifindex = ifi->ifi_index;
	x->flags = ifi->ifi_flags;
	snprintf(x->name, sizeof(x->name), "%.*s", nla_len(tb[IFLA_IFNAME]),
		 (const char *)nla_data(tb[IFLA_IFNAME]));
	if (tb[IFLA_LINKINFO] &&
	    nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0 && li[IFLA_INFO_KIND])
		snprintf(x->kind, sizeof(x->kind), "%.*s", nla_len(li[IFLA_INFO_KIND]),
			 (const char *)nla_data(li[IFLA_INFO_KIND]));
	return 0;
}

static int tc_links_list(struct nl_ns *nl, struct tc_links *l, struct err *err)
{
	struct ifinfomsg ifi;
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, 0);
	int rc;

	l->n = 0;
	memset(&ifi, 0, sizeof(ifi));
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return err_set(err, -ENOMEM, "out of memory");
	}
	rc = nl_ns_dump(nl, m, "list devices", tc_link_cb, l, err);
	nlmsg_free(m);
	return rc;
}

static int tc_oif_cb(const struct nlmsghdr *h, void *arg, struct err *err)
{
	struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rt;
	int *oif = arg;

	(void)err;
	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
		return 0;
	rt = NLMSG_DATA(h);
	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*rt), tb, RTA_MAX, NULL) < 0)
		return 0;
	if (rt->rtm_type == RTN_UNICAST && tb[RTA_OIF])
		*oif = (int)nla_get_u32(tb[RTA_OIF]);
	return 0;
}

/* Output device for traffic to address a (0 when there is no unicast route). */
static int tc_route_oif1(struct nl_ns *nl, const struct route_prefix *a, int *oif,
			 struct err *err)
{
	struct rtmsg rt;
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETROUTE, 0);
	int rc;

	*oif = 0;
	memset(&rt, 0, sizeof(rt));
	rt.rtm_family = (unsigned char)a->family;
	rt.rtm_dst_len = a->family == AF_INET ? 32 : 128;
	if (!m || nlmsg_append(m, &rt, sizeof(rt), NLMSG_ALIGNTO) < 0 ||
	    nla_put(m, RTA_DST, a->family == AF_INET ? 4 : 16, a->addr) < 0) {
		nlmsg_free(m);
		return err_set(err, -ENOMEM, "out of memory");
	}
	rc = nl_ns_get(nl, m, "route lookup", tc_oif_cb, oif, err);
	nlmsg_free(m);
	if (rc == -ENETUNREACH || rc == -EHOSTUNREACH || rc == -ENOENT || rc == -EINVAL) {
		err_clear(err);
		return 0;
	}
	return rc;
}

/*
 * Output device for traffic to prefix p: tried with the highest host but one
 * and the first host of the prefix, then its network address, because one of
 * them may be local to this namespace (the core's own address on that link)
 * and on an IPv6 router prefix:: is the subnet-router anycast address.
 */
static int tc_route_oif(struct nl_ns *nl, const struct route_prefix *p, int *oif, struct err *err)
{
	unsigned max = p->family == AF_INET ? 32 : 128, i, c;
	struct route_prefix a;
	int rc;

	for (c = 0; c < 3; c++) {
		a = *p;
		if (c == 0 && p->len + 1 < max) {
			for (i = p->len; i < max - 1; i++)
				a.addr[i / 8] |= (unsigned char)(0x80u >> (i % 8));
		} else if (c == 1 && p->len < max) {
			a.addr[max / 8 - 1] |= 1;
		} else if (c != 2) {
			continue;
		}
		rc = tc_route_oif1(nl, &a, oif, err);
		if (rc < 0 || *oif)
			return rc;
	}
	return 0;
}

/* ---- apply / revert ---- */

static int tc_pick_devices(struct tc_fault *f, const struct tc_spec *s, struct err *err)
{
	struct tc_links *l;
	size_t i, k;
	int rc = 0, oif;

	l = malloc(sizeof(*l));
	if (!l)
		return err_set(err, -ENOMEM, "out of memory");
	rc = tc_links_list(f->nl, l, err);
	if (rc < 0)
		goto out;
	if (s->device) {
		for (i = 0; i < l->n; i++)
			if (!strcmp(l->v[i].name, s->device))
				break;
		if (i == l->n) {
			rc = err_set(err, -ENODEV, "device \"%s\" does not exist in the target "
				     "namespace", s->device);
			goto out;
		}
		f->dev[0].ifindex = l->v[i].ifindex;
		snprintf(f->dev[0].name, sizeof(f->dev[0].name), "%s", l->v[i].name);
		f->ndev = 1;
		goto out;
	}
	if (s->npfx == 0) {
		/* no prefixes: every non-loopback device that is up */
		for (i = 0; i < l->n && f->ndev < TC_MAX_DEVS; i++) {
			if ((l->v[i].flags & IFF_LOOPBACK) || !(l->v[i].flags & IFF_UP) ||
			    !strncmp(l->v[i].name, TC_IFB_PREFIX, strlen(TC_IFB_PREFIX)))
				continue;
			f->dev[f->ndev].ifindex = l->v[i].ifindex;
			snprintf(f->dev[f->ndev].name, IF_NAMESIZE, "%s", l->v[i].name);
			f->ndev++;
		}
	} else {
		for (k = 0; k < s->npfx; k++) {
			rc = tc_route_oif(f->nl, &s->pfx[k], &oif, err);
			if (rc < 0)
				goto out;
			for (i = 0; i < l->n; i++)
				if (l->v[i].ifindex == oif && !(l->v[i].flags & IFF_LOOPBACK))
					break;
			if (!oif || i == l->n)
				continue;
			for (size_t d = 0; d < f->ndev; d++)
				if (f->dev[d].ifindex == oif)
					goto next;
			if (f->ndev == TC_MAX_DEVS)
				break;
			f->dev[f->ndev].ifindex = oif;
			snprintf(f->dev[f->ndev].name, IF_NAMESIZE, "%s", l->v[i].name);
			f->ndev++;
next:;
		}
	}
	if (f->ndev == 0)
		rc = err_set(err, -ENODEV, "no device in the target namespace has a route to the "
			     "fault's prefixes (or none is up); name one with \"device\"");
out:
	free(l);
	return rc;
}

/* Root qdisc of ifindex: *ours when it is doorjam's htb, *foreign when user-made. */
static int tc_root_state(struct nl_ns *nl, int ifindex, int *ours, char *foreign, size_t flen,
			 struct err *err)
{
	struct tc_objs o;
	size_t i;
	int rc;

	*ours = 0;
	foreign[0] = '\0';
	rc = tc_list(nl, RTM_GETQDISC, ifindex, &o, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < o.n; i++) {
		if (o.v[i].parent != TC_H_ROOT)
			continue;
		if (TC_H_MAJ(o.v[i].handle) == TC_MAJOR << 16 && !strcmp(o.v[i].kind, "htb"))
			*ours = 1;
		else if (o.v[i].handle != 0) /* the kernel's defaults have handle 0 */
			snprintf(foreign, flen, "%s %x:", o.v[i].kind, o.v[i].handle >> 16);
	}
	free(o.v);
	return 0;
}

/* Fault classes (minor >= 0x10) on doorjam's root; fills used[] by slot. */
static int tc_fault_classes(struct nl_ns *nl, int ifindex, unsigned char *used, size_t *count,
			    struct err *err)
{
	struct tc_objs o;
	size_t i;
	int rc;

	*count = 0;
	rc = tc_list(nl, RTM_GETTCLASS, ifindex, &o, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < o.n; i++) {
		uint32_t minor = TC_H_MIN(o.v[i].handle);

		if (TC_H_MAJ(o.v[i].handle) != TC_MAJOR << 16 || minor < 0x10 ||
		    minor >= 0x10 + TC_SLOTS)
			continue;
		if (used)
			used[minor - 0x10] = 1;
		(*count)++;
	}
	free(o.v);
	return 0;
}

static int tc_link_del(struct nl_ns *nl, int ifindex, const char *name, int *absent,
		       struct err *err);

/* Index of device name (0 when there is none). */
static int tc_link_index(struct nl_ns *nl, const char *name, struct err *err, int *ifindex)
{
	struct tc_links *l = malloc(sizeof(*l));
	size_t i;
	int rc;

	*ifindex = 0;
	if (!l)
		return err_set(err, -ENOMEM, "out of memory");
	rc = tc_links_list(nl, l, err);
	for (i = 0; rc == 0 && i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			*ifindex = l->v[i].ifindex;
	free(l);
	return rc;
}

/* Make an ifb device (journaled first), bring it up; d->name/ifindex become the ifb. */
static int tc_ifb_create(struct tc_fault *f, struct tc_dev *d, struct journal *j, int nsfd,
			 struct err *err)
{
	struct journal_rec rec;
	struct ifinfomsg ifi;
	struct nl_msg *m;
	struct nlattr *li;
	char name[IF_NAMESIZE], what[64];
	int k, idx = 1, rc, ok;

	for (k = 0; k < 100 && idx; k++) {
		snprintf(name, sizeof(name), TC_IFB_PREFIX "%d", k);
		rc = tc_link_index(f->nl, name, err, &idx);
		if (rc < 0)
			return rc;
	}
	if (idx)
		return err_set(err, -ENOSPC, "no free ifb device name (" TC_IFB_PREFIX "0..99)");
	memset(&rec, 0, sizeof(rec));
	rec.kind = JOURNAL_LINK;
	journal_rec_set_ns(&rec, nsfd);
	snprintf(rec.dev, sizeof(rec.dev), "%s", name);
	rc = journal_add(j, &rec, err);
	if (rc == 0)
		rc = journal_sync(j, err);
	if (rc < 0)
		return rc;
	memset(&ifi, 0, sizeof(ifi));
	m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ok = m && nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
	     nla_put_string(m, IFLA_IFNAME, name) == 0 &&
	     (li = nla_nest_start(m, IFLA_LINKINFO)) != NULL &&
	     nla_put_string(m, IFLA_INFO_KIND, "ifb") == 0 && nla_nest_end(m, li) == 0;
	snprintf(what, sizeof(what), "create ifb device %s", name);
	rc = tc_send(f->nl, m, ok, what, err);
	if (rc < 0)
		return rc;
	d->has_ifb = 1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	rc = tc_link_index(f->nl, name, err, &d->ifindex);
	if (rc < 0)
		return rc;
	if (!d->ifindex)
		return err_set(err, -ENODEV, "ifb device %s vanished", name);
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_index = d->ifindex;
	ifi.ifi_flags = IFF_UP;
	ifi.ifi_change = IFF_UP;
	m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	ok = m && nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0;
	snprintf(what, sizeof(what), "set %s up", name);
	return tc_send(f->nl, m, ok, what, err);
}

/*
 * Redirect everything arriving on d->src into the ifb: an ingress qdisc
 * (journaled first) and one u32 match-all filter at prio TC_INGRESS_PRIO
 * (doorjam's mark) with a mirred egress-redirect action.
 */
static int tc_ingress_redirect(struct tc_fault *f, struct tc_dev *d, struct journal *j,
			       int nsfd, struct err *err)
{
	struct journal_rec rec;
	struct tc_objs o;
	struct tc_u32_key key;
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key keys[1];
	} sel;
	struct tc_mirred mir;
	struct nlattr *opt, *act, *a1, *aopt;
	struct nl_msg *m;
	char what[96];
	size_t i;
	int rc, ok, busy = 0;

	rc = tc_list(f->nl, RTM_GETQDISC, d->src_ifindex, &o, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < o.n; i++)
		if (o.v[i].parent == TC_H_INGRESS)
			busy = 1;
	free(o.v);
	if (busy)
		return err_set(err, -EBUSY, "%s: already has an ingress (or clsact) qdisc; doorjam "
			       "does not share it", d->src_name);
	memset(&rec, 0, sizeof(rec));
	rec.kind = JOURNAL_QDISC;
	journal_rec_set_ns(&rec, nsfd);
	rec.ifindex = d->src_ifindex;
	snprintf(rec.dev, sizeof(rec.dev), "%s", d->src_name);
	rec.parent = TC_H_INGRESS;
	rec.handle = TC_H_MAKE(TC_H_INGRESS, 0);
	rc = journal_add(j, &rec, err);
	if (rc == 0)
		rc = journal_sync(j, err);
	if (rc == 0)
		rc = tc_plain_qdisc(f->nl, d->src_ifindex, TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0),
				    "ingress", d->src_name, err);
	if (rc < 0)
		return rc;
	d->has_ingress = 1;
	tc_key(&key, 0, 0, 0);
	memset(&sel, 0, sizeof(sel));
	sel.sel.flags = TC_U32_TERMINAL;
	sel.sel.nkeys = 1;
	sel.keys[0] = key;
	memset(&mir, 0, sizeof(mir));
	mir.action = TC_ACT_STOLEN;
	mir.eaction = TCA_EGRESS_REDIR;
	mir.ifindex = (uint32_t)d->ifindex;
	m = tc_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, d->src_ifindex,
		   TC_H_MAKE(TC_H_INGRESS, 0), 0, TC_H_MAKE(TC_INGRESS_PRIO << 16, htons(ETH_P_ALL)));
	ok = m && nla_put_string(m, TCA_KIND, "u32") == 0 &&
	     (opt = nla_nest_start(m, TCA_OPTIONS)) != NULL &&
	     nla_put(m, TCA_U32_SEL, sizeof(sel), &sel) == 0 &&
	     (act = nla_nest_start(m, TCA_U32_ACT)) != NULL &&
	     (a1 = nla_nest_start(m, 1)) != NULL &&
	     nla_put_string(m, TCA_ACT_KIND, "mirred") == 0 &&
	     (aopt = nla_nest_start(m, TCA_ACT_OPTIONS)) != NULL &&
	     nla_put(m, TCA_MIRRED_PARMS, sizeof(mir), &mir) == 0 &&
	     nla_nest_end(m, aopt) == 0 && nla_nest_end(m, a1) == 0 &&
	     nla_nest_end(m, act) == 0 && nla_nest_end(m, opt) == 0;
	snprintf(what, sizeof(what), "%s: redirect ingress to %s (u32 + mirred)", d->src_name,
		 d->name);
	return tc_send(f->nl, m, ok, what, err);
}

/* Undo an ingress fault: stop the redirect first, then remove the ifb (and its tree). */
static int tc_ingress_undo(struct nl_ns *nl, struct tc_dev *d, struct err *err)
{
	struct err e2;
	char what[96];
	int rc, absent, first = 0;

	if (d->has_ingress) {
		snprintf(what, sizeof(what), "%s: delete ingress qdisc", d->src_name);
		rc = tc_del(nl, tc_msg(RTM_DELQDISC, 0, d->src_ifindex, TC_H_INGRESS,
				       TC_H_MAKE(TC_H_INGRESS, 0), 0), what, &absent, err);
		if (rc < 0)
			first = rc;
		else
			d->has_ingress = 0;
	}
	if (d->has_ifb) {
		rc = tc_link_del(nl, d->ifindex, d->name, &absent, first ? &e2 : err);
		if (rc < 0 && !first)
			first = rc;
		if (rc == 0)
			d->has_ifb = d->has_class = 0;
	}
	return first;
}

static int tc_dev_undo(struct nl_ns *nl, struct tc_dev *d, struct err *err)
{
	struct err e2;
	char what[96];
	size_t left = 0;
	int rc, absent, first = 0, k;

	if (d->src_ifindex)
		return tc_ingress_undo(nl, d, err);

	rc = tc_fault_classes(nl, d->ifindex, NULL, &left, err);
	if (rc < 0)
		return rc;
	if (left <= (size_t)d->has_class) {
		/* the last fault on this device: the root takes everything with it */
		snprintf(what, sizeof(what), "%s: delete doorjam's root qdisc", d->name);
		rc = tc_del(nl, tc_msg(RTM_DELQDISC, 0, d->ifindex, TC_H_ROOT, TC_MAJOR << 16, 0),
			    what, &absent, err);
		if (rc == 0)
			d->has_class = d->prio_used[0] = d->prio_used[1] = 0;
		return rc;
	}
	for (k = 0; k < 2; k++) {
		if (!d->prio_used[k])
			continue;
		snprintf(what, sizeof(what), "%s: delete u32 filters prio %u", d->name,
			 2 * d->slot + 1 + (unsigned)k);
		rc = tc_del(nl, tc_msg(RTM_DELTFILTER, 0, d->ifindex, TC_MAJOR << 16, 0,
				       TC_H_MAKE((2 * d->slot + 1 + (unsigned)k) << 16,
						 htons(d->proto[k]))),
			    what, &absent, first ? &e2 : err);
		if (rc < 0 && !first)
			first = rc;
		if (rc == 0)
			d->prio_used[k] = 0;
	}
	if (d->has_class && !first) {
		snprintf(what, sizeof(what), "%s: delete class %x:%x", d->name, TC_MAJOR,
			 TC_FAULT_MINOR(d->slot));
		rc = tc_del(nl, tc_msg(RTM_DELTCLASS, 0, d->ifindex, TC_MAJOR << 16,
				       (TC_MAJOR << 16) | TC_FAULT_MINOR(d->slot), 0),
			    what, &absent, err);
		if (rc < 0)
			first = rc;
		else
			d->has_class = 0;
	}
	return first;
}

static int tc_dev_apply(struct tc_fault *f, struct tc_dev *d, struct journal *j, int nsfd,
			const struct tc_spec *s, int force, struct err *err)
{
	unsigned char used[TC_SLOTS];
	struct journal_rec rec;
	char foreign[64];
	uint32_t slot, classid;
	size_t count, i, k;
	int ours, rc;

	rc = tc_root_state(f->nl, d->ifindex, &ours, foreign, sizeof(foreign), err);
	if (rc < 0)
		return rc;
	if (!ours) {
		if (foreign[0] && !force)
			return err_set(err, -EBUSY, "%s: has a root qdisc (%s) that is not "
				       "doorjam's; it is left alone unless --force is given",
				       d->name, foreign);
		memset(&rec, 0, sizeof(rec));
		rec.kind = JOURNAL_QDISC;
		journal_rec_set_ns(&rec, nsfd);
		rec.ifindex = d->ifindex;
		snprintf(rec.dev, sizeof(rec.dev), "%s", d->name);
		rec.parent = TC_H_ROOT;
		rec.handle = TC_MAJOR << 16;
		rc = journal_add(j, &rec, err);
		if (rc == 0)
			rc = journal_sync(j, err);
		if (rc < 0)
			return rc;
		/* CREATE|REPLACE swaps the default root without a gap */
		rc = tc_htb_qdisc(f->nl, d->ifindex, TC_H_ROOT, TC_MAJOR << 16,
				  NLM_F_CREATE | NLM_F_REPLACE, d->name, err);
		if (rc == 0)
			rc = tc_htb_class(f->nl, d->ifindex, TC_MAJOR << 16, (TC_MAJOR << 16) | 1,
					  TC_PASS_BPS, d->name, err);
		if (rc < 0)
			return rc;
	}
	memset(used, 0, sizeof(used));
	rc = tc_fault_classes(f->nl, d->ifindex, used, &count, err);
	if (rc < 0)
		return rc;
	for (slot = 0; slot < TC_SLOTS && used[slot]; slot++)
		;
	if (slot == TC_SLOTS)
		return err_set(err, -ENOSPC, "%s: all %u fault slots are in use", d->name, TC_SLOTS);
	d->slot = slot;
	classid = (TC_MAJOR << 16) | TC_FAULT_MINOR(slot);
	rc = tc_htb_class(f->nl, d->ifindex, TC_MAJOR << 16, classid,
			  s->rate_bps ? s->rate_bps : TC_PASS_BPS, d->name, err);
	if (rc < 0)
		return rc;
	d->has_class = 1;
	if (s->use_netem) {
		rc = tc_netem_qdisc(f->nl, d->ifindex, classid, TC_LEAF_MAJOR(slot) << 16,
				    &s->netem, d->name, err);
	} else if (s->bpf_loss > 0) {
		uint32_t leaf = TC_LEAF_MAJOR(slot) << 16;

		rc = tc_htb_qdisc(f->nl, d->ifindex, classid, leaf, NLM_F_CREATE | NLM_F_EXCL,
				  d->name, err);
		if (rc == 0)
			rc = tc_htb_class(f->nl, d->ifindex, leaf, leaf | 1, TC_PASS_BPS, d->name, err);
		if (rc == 0)
			rc = tc_htb_class(f->nl, d->ifindex, leaf, leaf | 2, TC_PASS_BPS, d->name, err);
		if (rc == 0)
			rc = tc_plain_qdisc(f->nl, d->ifindex, leaf | 2, TC_HOLE_MAJOR(slot) << 16,
					    "blackhole", d->name, err);
		if (rc == 0)
			rc = tc_bpf_filter(f->nl, d->ifindex, leaf, leaf | 2, s->bpf_loss, d->name, err);
	}
	if (rc < 0)
		return rc;

	/* scoping filters on the root, last: until now nothing reached the class */
	if (s->npfx == 0 && s->nports == 0) {
		struct tc_u32_key key[8];
		unsigned nk = tc_u32_keys(key, AF_INET, NULL, -1, s->ingress);

		d->prio_used[0] = 1;
		d->proto[0] = ETH_P_ALL;
		return tc_u32_filter(f->nl, d->ifindex, TC_MAJOR << 16, 2 * slot + 1, ETH_P_ALL,
				     classid, key, nk, d->name, err);
	}
	for (int fam = 0; fam < 2; fam++) {
		int family = fam ? AF_INET6 : AF_INET;
		size_t np = s->npfx ? s->npfx : 1;
		size_t nq = s->nports ? s->nports : 1;

		for (i = 0; i < np; i++) {
			const struct route_prefix *p = s->npfx ? &s->pfx[i] : NULL;

			if (p && p->family != family)
				continue;
			for (k = 0; k < nq; k++) {
				struct tc_u32_key key[8];
				unsigned nk = tc_u32_keys(key, family, p,
							  s->nports ? s->ports[k] : -1, s->ingress);

				d->prio_used[fam] = 1;
				d->proto[fam] = fam ? ETH_P_IPV6 : ETH_P_IP;
				rc = tc_u32_filter(f->nl, d->ifindex, TC_MAJOR << 16,
						   2 * slot + 1 + (uint32_t)fam, d->proto[fam],
						   classid, key, nk, d->name, err);
				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

static void tc_fault_free(struct tc_fault *f)
{
	if (!f)
		return;
	nl_ns_close(f->nl);
	free(f);
}

int tc_apply(int nsfd, struct journal *j, const struct tc_spec *s, int force,
	     struct tc_fault **out, struct err *err)
{
	struct tc_fault *f;
	struct err e2;
	size_t i;
	int rc;

	*out = NULL;
	if (!s->use_netem && !(s->bpf_loss > 0) && !s->rate_bps)
		return err_set(err, -EINVAL, "the fault changes nothing (no netem parameter, "
			       "loss or rate)");
	f = calloc(1, sizeof(*f));
	if (!f)
		return err_set(err, -ENOMEM, "out of memory");
	rc = nl_ns_open(nsfd, &f->nl, err);
	if (rc < 0)
		goto fail;
	rc = tc_pick_devices(f, s, err);
	if (rc < 0)
		goto fail;
	for (i = 0; i < f->ndev; i++) {
		struct tc_dev *d = &f->dev[i];

		if (s->ingress) {
			/* the tree goes on an ifb; the redirect comes last */
			d->src_ifindex = d->ifindex;
			snprintf(d->src_name, sizeof(d->src_name), "%s", d->name);
			rc = tc_ifb_create(f, d, j, nsfd, err);
			if (rc == 0)
				rc = tc_dev_apply(f, d, j, nsfd, s, force, err);
			if (rc == 0)
				rc = tc_ingress_redirect(f, d, j, nsfd, err);
		} else {
			rc = tc_dev_apply(f, d, j, nsfd, s, force, err);
		}
		if (rc < 0) {
			size_t k;

			for (k = i + 1; k-- > 0;)
				(void)tc_dev_undo(f->nl, &f->dev[k], &e2);
			goto fail;
		}
	}
	*out = f;
	return 0;
fail:
	tc_fault_free(f);
	return rc;
}

char *tc_fault_devices(const struct tc_fault *f, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (outlen)
		out[0] = '\0';
	for (i = 0; f && i < f->ndev && n < outlen; i++) {
		const struct tc_dev *d = &f->dev[i];
		int w = d->src_ifindex ?
			snprintf(out + n, outlen - n, "%s%s(ingress via %s)", i ? "," : "",
				 d->src_name, d->name) :
			snprintf(out + n, outlen - n, "%s%s", i ? "," : "", d->name);

		if (w < 0)
			break;
		n += (size_t)w;
	}
	return out;
}

int tc_revert(struct tc_fault *f, struct err *err)
{
	struct err e2;
	size_t i;
	int rc, first = 0;

	if (!f)
		return 0;
	for (i = f->ndev; i-- > 0;) {
		rc = tc_dev_undo(f->nl, &f->dev[i], first ? &e2 : err);
		if (rc < 0 && !first)
			first = rc;
	}
	tc_fault_free(f);
	return first;
}

/* ---- recover ---- */

static int tc_link_del(struct nl_ns *nl, int ifindex, const char *name, int *absent,
		       struct err *err)
{
	struct ifinfomsg ifi;
	struct nl_msg *m = nlmsg_alloc_simple(RTM_DELLINK, 0);
	char what[64];

	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_index = ifindex;
	snprintf(what, sizeof(what), "delete device %s", name);
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (!ifindex && nla_put_string(m, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(m);
		return err_set(err, -ENOMEM, "out of memory");
	}
	return tc_del(nl, m, what, absent, err);
}

int tc_undo(struct nl_ns *nl, const struct journal_rec *r, int *absent, struct err *err)
{
	struct tc_links *l;
	struct tc_objs o;
	char what[96];
	size_t i;
	int rc, ifindex = 0, found = 0;

	*absent = 0;
	if (r->kind == JOURNAL_LINK) {
		if (strncmp(r->dev, TC_IFB_PREFIX, strlen(TC_IFB_PREFIX)))
			return err_set(err, -EINVAL, "journal: device %s is not one of doorjam's",
				       r->dev);
		return tc_link_del(nl, 0, r->dev, absent, err);
	}
	if (r->kind != JOURNAL_QDISC)
		return err_set(err, -EINVAL, "not a qdisc or device record");
	/* find the device by index, checking that the name still matches */
	l = malloc(sizeof(*l));
	if (!l)
		return err_set(err, -ENOMEM, "out of memory");
	rc = tc_links_list(nl, l, err);
	for (i = 0; rc == 0 && i < l->n; i++)
		if (l->v[i].ifindex == r->ifindex && (!r->dev[0] || !strcmp(l->v[i].name, r->dev)))
			ifindex = r->ifindex;
	free(l);
	if (rc < 0)
		return rc;
	if (!ifindex) {
		*absent = 1;
		return 0;
	}
	/* delete only a qdisc that still carries the recorded handle */
	rc = tc_list(nl, RTM_GETQDISC, ifindex, &o, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < o.n; i++)
		if (o.v[i].parent == r->parent && o.v[i].handle == r->handle)
			found = 1;
	free(o.v);
	if (!found) {
		*absent = 1;
		return 0;
	}
	snprintf(what, sizeof(what), "%s: delete qdisc %x:", r->dev, r->handle >> 16);
	return tc_del(nl, tc_msg(RTM_DELQDISC, 0, ifindex, r->parent, r->handle, 0), what,
		      absent, err);
}

int tc_sweep(struct nl_ns *nl, size_t *removed, struct err *err)
{
	struct tc_objs o;
	struct tc_links *l;
	char what[96];
	size_t i;
	int rc, absent;

	*removed = 0;
	rc = tc_list(nl, RTM_GETQDISC, 0, &o, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < o.n && rc == 0; i++) {
		uint32_t maj = o.v[i].handle >> 16;

		if (o.v[i].parent != TC_H_ROOT || maj < TC_MAJOR || maj > TC_MAJOR_LAST)
			continue;
		snprintf(what, sizeof(what), "delete qdisc %x: on device %d", maj, o.v[i].ifindex);
		rc = tc_del(nl, tc_msg(RTM_DELQDISC, 0, o.v[i].ifindex, TC_H_ROOT, o.v[i].handle, 0),
			    what, &absent, err);
		if (rc == 0 && !absent)
			(*removed)++;
	}
	/* ingress qdiscs that carry doorjam's redirect filter (its prio is the mark) */
	for (i = 0; i < o.n && rc == 0; i++) {
		struct tc_objs fl;
		size_t k;
		int ours = 0;

		if (o.v[i].parent != TC_H_INGRESS)
			continue;
		rc = tc_list_parent(nl, RTM_GETTFILTER, o.v[i].ifindex, TC_H_MAKE(TC_H_INGRESS, 0),
				    &fl, err);
		if (rc < 0)
			break;
		for (k = 0; k < fl.n; k++)
			if (fl.v[k].info >> 16 == TC_INGRESS_PRIO)
				ours = 1;
		free(fl.v);
		if (!ours)
			continue;
		snprintf(what, sizeof(what), "delete ingress qdisc on device %d", o.v[i].ifindex);
		rc = tc_del(nl, tc_msg(RTM_DELQDISC, 0, o.v[i].ifindex, TC_H_INGRESS,
				       TC_H_MAKE(TC_H_INGRESS, 0), 0), what, &absent, err);
		if (rc == 0 && !absent)
			(*removed)++;
	}
	free(o.v);
	if (rc < 0)
		return rc;
	l = malloc(sizeof(*l));
	if (!l)
		return err_set(err, -ENOMEM, "out of memory");
	rc = tc_links_list(nl, l, err);
	for (i = 0; rc == 0 && i < l->n; i++) {
		if (strncmp(l->v[i].name, TC_IFB_PREFIX, strlen(TC_IFB_PREFIX)) ||
		    strcmp(l->v[i].kind, "ifb"))
			continue;
		rc = tc_link_del(nl, l->v[i].ifindex, l->v[i].name, &absent, err);
		if (rc == 0 && !absent)
			(*removed)++;
	}
	free(l);
	return rc;
}
