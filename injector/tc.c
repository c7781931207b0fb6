/*
 * tc: htb + u32 scoping, netem / random-drop leaves, bandwidth through the
 * htb class rate. See tc.h for the tree, how faults on one device compose,
 * and the marks.
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
#define TC_MAJORS     (TC_MAJOR_LAST - TC_MAJOR)  /* leaf majors TC_MAJOR+1..TC_MAJOR_LAST */
#define TC_MEMBERS_MAX 64        /* tc faults sharing one device's tree */
#define TC_ATOMS_MAX  128        /* scope atoms (and leaf classes) of one device's tree */
#define TC_NODES_MAX  (TC_ATOMS_MAX + TC_MEMBERS_MAX)  /* leaf classes + rate classes */
#define TC_MINOR_FIRST 0x10u     /* fault classes; :1 is the default pass class */
/* u32 priorities of the scoping filters: two ranges, so a new tree goes in beside the old */
#define TC_PRIO_BASE(gen) ((gen) ? 0x400u : 0x10u)

/*
 * One piece of a fault's scope: a family, a prefix and a port. fam 0 (with
 * len 0 and port -1) is all traffic of the device, whatever its protocol;
 * port -1 is any port. The address is in network order, host bits zero,
 * unused bytes zero.
 */
struct tc_item {
	int fam;
	unsigned len;
	int port;
	unsigned char addr[16];
};

/* A scope atom of a device's tree and the set of member faults it carries (bit i: member i). */
struct tc_atom {
	struct tc_item it;
	uint64_t set;
};

/*
 * An htb class of a planned tree: a leaf that carries a member set, or a
 * rate class above the leaves that a bandwidth fault spans.
 */
struct tc_node {
	int parent;                       /* node index; -1: under the root qdisc */
	int leaf;                         /* index into cls[]; -1 for a rate class */
	uint64_t rate, ceil;              /* guaranteed and maximal rate, bit/s */
	uint64_t bits[TC_ATOMS_MAX / 64]; /* rate class: the leaves (cls[] indexes) below it */
	size_t width;                     /* rate class: how many leaves */
	size_t nchild;
};

/* What a device's tree should look like for its members. */
struct tc_plan {
	struct tc_atom atom[TC_ATOMS_MAX];  /* in filter order */
	size_t natom;
	uint64_t cls[TC_ATOMS_MAX];       /* distinct member sets, one leaf class each */
	size_t ncls;
	size_t atom_cls[TC_ATOMS_MAX];    /* class index of each atom */
	struct tc_node node[TC_NODES_MAX];  /* parents before children */
	size_t nnode;
	size_t cls_node[TC_ATOMS_MAX];    /* node of each class */
};

struct tc_flt {
	uint16_t prio, proto;             /* proto in host order */
};

/*
 * doorjam's tree on one device, shared by every tc fault of this process
 * that chose the device (in one direction). The tree is a function of its
 * members: each apply and revert recomputes it and swaps it in (see
 * tc_tree_sync). Invariant: while it is registered, the device carries
 * doorjam's root and the objects listed in cls/flt, and nothing else of
 * doorjam's.
 */
struct tc_tree {
	struct tc_tree *next;
	unsigned long ns_ino;
	int ingress;
	int src_ifindex;                  /* the device the faults name */
	char src_name[IF_NAMESIZE];
	int ifindex;                      /* the device carrying the tree (the ifb on ingress) */
	char name[IF_NAMESIZE];
	int has_ifb, has_ingress, has_root;
	struct tc_fault *member[TC_MEMBERS_MAX];   /* in the order they were applied */
	size_t nmember;
	unsigned gen;                     /* which filter priority range is in use */
	uint16_t cls[TC_NODES_MAX];       /* minors of the classes in the kernel, parents first */
	size_t ncls;
	struct tc_flt flt[TC_ATOMS_MAX];  /* the scoping filters in the kernel */
	size_t nflt;
	unsigned char major_used[TC_MAJORS + 1];  /* leaf majors in use, by major - TC_MAJOR */
};

struct tc_fault {
	struct nl_ns *nl;
	unsigned long ns_ino;
	struct tc_item *item;
	size_t nitem;
	uint64_t rate_bps;
	double bpf_loss;
	int use_netem;
	struct tc_netem netem;
	struct tc_tree *tree[TC_MAX_DEVS];
	size_t ntree;
};

/* Every tree this process keeps. doorjam drives faults from one thread. */
static struct tc_tree *tc_trees;

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

/* Gone already; EINVAL is "cannot find specified qdisc on specified device". */
static const int tc_gone[] = { ENOENT, ENODEV, EINVAL, 0 };

static int tc_del(struct nl_ns *nl, struct nl_msg *m, const char *what, int *absent,
		  struct err *err)
{
	return nl_ns_delete(nl, m, what, tc_gone, absent, err);
}

static void tc_rate(struct tc_ratespec *r, uint64_t bps)
{
	memset(r, 0, sizeof(*r));
	r->linklayer = TC_LINKLAYER_ETHERNET;
	r->rate = (uint32_t)(bps / 8 > UINT32_MAX ? UINT32_MAX : bps / 8);
}

/* htb buffer for a rate: one tick's worth at HZ=250 plus a full frame, in psched ticks (64 ns) */
static uint32_t tc_htb_buffer(uint64_t bps)
{
	uint64_t bytes = bps / 8, burst = bytes / 250 + 1600;
	uint64_t ticks = burst * 1000000000ull / (bytes ? bytes : 1) / 64;

	return (uint32_t)(ticks > UINT32_MAX ? UINT32_MAX : ticks);
}

/* An htb class guaranteed rate bps that may borrow up to ceil bps from its parent. */
static int tc_htb_class2(struct nl_ns *nl, int ifindex, uint32_t parent, uint32_t classid,
			 uint64_t bps, uint64_t ceil, const char *dev, struct err *err)
{
	struct tc_htb_opt o;
	struct nl_msg *m = tc_msg(RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL, ifindex, parent,
				  classid, 0);
	struct nlattr *opt;
	uint64_t bytes = ceil / 8;
	char what[96];
	int ok;

	memset(&o, 0, sizeof(o));
	tc_rate(&o.rate, bps);
	tc_rate(&o.ceil, ceil);
	o.buffer = tc_htb_buffer(bps);
	o.cbuffer = tc_htb_buffer(ceil);
	o.quantum = bytes / 10 > 60000 ? 60000 : (bytes / 10 < 1600 ? 1600 : (uint32_t)(bytes / 10));
	snprintf(what, sizeof(what), "%s: add htb class %x:%x", dev, classid >> 16, classid & 0xffff);
	ok = m && nla_put_string(m, TCA_KIND, "htb") == 0 &&
	     (opt = nla_nest_start(m, TCA_OPTIONS)) != NULL &&
	     nla_put(m, TCA_HTB_PARMS, sizeof(o), &o) == 0 &&
	     nla_nest_end(m, opt) == 0;
	return tc_send(nl, m, ok, what, err);
}

static int tc_htb_class(struct nl_ns *nl, int ifindex, uint32_t parent, uint32_t classid,
			uint64_t bps, const char *dev, struct err *err)
{
	return tc_htb_class2(nl, ifindex, parent, classid, bps, bps, dev, err);
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

/* ---- scopes: items, atoms, plans ---- */

/* 1 when the first len bits of a and p agree. */
static int tc_bits_within(const unsigned char *a, const unsigned char *p, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	if (memcmp(a, p, full))
		return 0;
	if (rest) {
		unsigned char m = (unsigned char)(0xffu << (8 - rest));

		return (a[full] & m) == (p[full] & m);
	}
	return 1;
}

/* The traffic both a and b match, into *out; 0 when they share none. */
static int tc_item_meet(const struct tc_item *a, const struct tc_item *b, struct tc_item *out)
{
	const struct tc_item *hi = a->len >= b->len ? a : b, *lo = hi == a ? b : a;

	if (a->fam && b->fam && a->fam != b->fam)
		return 0;
	if (a->port >= 0 && b->port >= 0 && a->port != b->port)
		return 0;
	if (!tc_bits_within(hi->addr, lo->addr, lo->len))
		return 0;
	*out = *hi;
	out->fam = a->fam ? a->fam : b->fam;
	out->port = a->port >= 0 ? a->port : b->port;
	return 1;
}

static int tc_item_eq(const struct tc_item *a, const struct tc_item *b)
{
	return a->fam == b->fam && a->len == b->len && a->port == b->port &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* 1 when every packet a matches, b matches too. */
static int tc_item_within(const struct tc_item *a, const struct tc_item *b)
{
	struct tc_item x;

	return tc_item_meet(a, b, &x) && tc_item_eq(&x, a);
}

/*
 * Filter order: an atom that lies inside another must be tried first. A
 * strict subset has a longer prefix, or the same prefix and a port where
 * the other has none, or a family where the other matches every protocol;
 * the rest only makes the order deterministic.
 */
static int tc_atom_cmp(const void *x, const void *y)
{
	const struct tc_item *a = &((const struct tc_atom *)x)->it;
	const struct tc_item *b = &((const struct tc_atom *)y)->it;

	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	if ((a->port >= 0) != (b->port >= 0))
		return a->port >= 0 ? -1 : 1;
	if ((a->fam != 0) != (b->fam != 0))
		return a->fam ? -1 : 1;
	if (a->fam != b->fam)
		return a->fam < b->fam ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static char *tc_item_str(const struct tc_item *it, char *out, size_t outlen)
{
	struct route_prefix p;
	char pf[64] = "all traffic";

	if (it->fam) {
		memset(&p, 0, sizeof(p));
		p.family = it->fam;
		p.len = it->len;
		memcpy(p.addr, it->addr, sizeof(p.addr));
		route_prefix_format(&p, pf, sizeof(pf));
	}
	if (it->port >= 0)
		snprintf(out, outlen, "%s port %d", pf, it->port);
	else
		snprintf(out, outlen, "%s", pf);
	return out;
}

/* The fault's scope as items: one per (prefix, port) pair of the spec. */
static int tc_items_make(struct tc_fault *f, const struct tc_spec *s, struct err *err)
{
	size_t np = s->npfx ? s->npfx : 1, nq = s->nports ? s->nports : 1, i, k;
	int fam;

	if (np * nq > TC_ATOMS_MAX)
		return err_set(err, -E2BIG, "the fault's scope has %zu prefix and port pairs; "
			       "at most %u can be scoped on one device", np * nq, TC_ATOMS_MAX);
	f->item = calloc(2 * np * nq, sizeof(*f->item));
	if (!f->item)
		return err_set(err, -ENOMEM, "out of memory");
	if (!s->npfx && !s->nports) {
		f->item[0].port = -1;
		f->nitem = 1;
		return 0;
	}
	for (fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
		for (i = 0; i < np; i++) {
			const struct route_prefix *p = s->npfx ? &s->pfx[i] : NULL;

			if (p && p->family != fam)
				continue;
			for (k = 0; k < nq; k++) {
				struct tc_item *it = &f->item[f->nitem++];

				it->fam = fam;
				it->port = s->nports ? s->ports[k] : -1;
				if (p) {
					it->len = p->len;
					memcpy(it->addr, p->addr, fam == AF_INET ? 4 : 16);
				}
			}
		}
	}
	return 0;
}

static int tc_plan_add(struct tc_plan *p, const struct tc_item *it, struct err *err)
{
	size_t i;

	for (i = 0; i < p->natom; i++)
		if (tc_item_eq(&p->atom[i].it, it))
			return 0;
	if (p->natom == TC_ATOMS_MAX)
		return err_set(err, -E2BIG, "the tc faults on one device overlap in more than %u "
			       "distinct scopes", TC_ATOMS_MAX);
	p->atom[p->natom].it = *it;
	p->atom[p->natom].set = 0;
	p->natom++;
	return 0;
}

static int tc_bits_has(const uint64_t *b, size_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

/* 1 when every bit of a is in b. */
static int tc_bits_sub(const uint64_t *a, const uint64_t *b)
{
	size_t i;

	for (i = 0; i < TC_ATOMS_MAX / 64; i++)
		if (a[i] & ~b[i])
			return 0;
	return 1;
}

static int tc_bits_meet(const uint64_t *a, const uint64_t *b)
{
	size_t i;

	for (i = 0; i < TC_ATOMS_MAX / 64; i++)
		if (a[i] & b[i])
			return 1;
	return 0;
}

static int tc_node_cmp(const void *x, const void *y)
{
	const struct tc_node *a = x, *b = y;

	return a->width == b->width ? 0 : a->width > b->width ? -1 : 1;
}

/*
 * The htb classes of the plan. A bandwidth fault whose traffic falls into
 * several leaf classes (another fault overlaps it in part) gets a rate class
 * above them, so its limit holds for all of its traffic together; rate
 * classes nest as their bandwidth faults' scopes do. The leaves under a rate
 * class are guaranteed an equal share of it and may borrow up to all of it
 * (their ceil), so together they never pass it. Two bandwidth faults that
 * overlap in part, neither inside the other, are refused: no htb tree gives
 * both limits.
 */
static int tc_plan_rates(const struct tc_tree *t, struct tc_plan *p, struct err *err)
{
	size_t i, j, m, c, nrate;

	p->nnode = 0;
	for (m = 0; m < t->nmember; m++) {
		struct tc_node x;

		if (!t->member[m]->rate_bps)
			continue;
		memset(&x, 0, sizeof(x));
		for (c = 0; c < p->ncls; c++)
			if (p->cls[c] & (1ull << m)) {
				x.bits[c / 64] |= 1ull << (c % 64);
				x.width++;
			}
		if (x.width < 2)
			continue;   /* one leaf: its own rate is the limit */
		for (j = 0; j < p->nnode && memcmp(p->node[j].bits, x.bits, sizeof(x.bits)); j++)
			;
		if (j < p->nnode) {
			if (t->member[m]->rate_bps < p->node[j].rate)
				p->node[j].rate = t->member[m]->rate_bps;
			continue;
		}
		x.parent = x.leaf = -1;
		x.rate = t->member[m]->rate_bps;
		p->node[p->nnode++] = x;
	}
	nrate = p->nnode;
	for (i = 0; i < nrate; i++)
		for (j = 0; j < i; j++)
			if (tc_bits_meet(p->node[i].bits, p->node[j].bits) &&
			    !tc_bits_sub(p->node[i].bits, p->node[j].bits) &&
			    !tc_bits_sub(p->node[j].bits, p->node[i].bits)) {
				char a[96] = "?", b[96] = "?";

				/* name traffic that only one of the two limits covers, for each */
				for (c = 0; c < p->natom; c++) {
					int in_i = tc_bits_has(p->node[i].bits, p->atom_cls[c]);
					int in_j = tc_bits_has(p->node[j].bits, p->atom_cls[c]);

					if (in_i && !in_j)
						tc_item_str(&p->atom[c].it, a, sizeof(a));
					if (in_j && !in_i)
						tc_item_str(&p->atom[c].it, b, sizeof(b));
				}
				return err_set(err, -EINVAL, "%s: two bandwidth faults overlap in "
					       "part, neither inside the other (one covers %s, the other "
					       "%s): no tree of rate classes holds both limits; give them "
					       "the same prefixes and ports, nested ones or disjoint ones",
					       t->src_name, a, b);
			}
	qsort(p->node, nrate, sizeof(p->node[0]), tc_node_cmp);   /* widest (outermost) first */
	for (i = 0; i < nrate; i++)
		for (j = 0; j < i; j++)
			if (tc_bits_sub(p->node[i].bits, p->node[j].bits))
				p->node[i].parent = (int)j;   /* the last one is the narrowest */
	for (c = 0; c < p->ncls; c++) {
		struct tc_node *n = &p->node[p->nnode];

		memset(n, 0, sizeof(*n));
		n->parent = -1;
		n->leaf = (int)c;
		for (j = 0; j < nrate; j++)
			if (tc_bits_has(p->node[j].bits, c))
				n->parent = (int)j;
		for (m = 0; m < t->nmember; m++)
			if ((p->cls[c] & (1ull << m)) && t->member[m]->rate_bps &&
			    (!n->rate || t->member[m]->rate_bps < n->rate))
				n->rate = t->member[m]->rate_bps;
		if (!n->rate)
			n->rate = TC_PASS_BPS;
		p->cls_node[c] = p->nnode++;
	}
	for (i = 0; i < p->nnode; i++)
		if (p->node[i].parent >= 0)
			p->node[p->node[i].parent].nchild++;
	for (i = 0; i < p->nnode; i++) {   /* parents come first: their rates are final */
		struct tc_node *n = &p->node[i];
		const struct tc_node *up = n->parent >= 0 ? &p->node[n->parent] : NULL;

		n->ceil = n->rate;
		if (!up)
			continue;
		if (up->ceil < n->ceil)
			n->ceil = up->ceil;
		n->rate = up->rate / up->nchild;
		if (n->rate > n->ceil)
			n->rate = n->ceil;
		if (n->rate < 8)
			n->rate = 8;
	}
	return 0;
}

/*
 * Plan the tree for t's members. The atoms are every member's items closed
 * under intersection, so the first atom (in filter order) that a packet
 * matches is the intersection of all the items it matches, and its member
 * set is exactly the faults whose scope holds the packet. Atoms with the
 * same member set share one class. A member with a rate must end up in one
 * class only: the htb class rate is then its limit for all of its traffic.
 */
static int tc_plan_make(const struct tc_tree *t, struct tc_plan *p, struct err *err)
{
	size_t i, j, m, k;
	int rc;

	memset(p, 0, sizeof(*p));
	for (m = 0; m < t->nmember; m++)
		for (k = 0; k < t->member[m]->nitem; k++) {
			rc = tc_plan_add(p, &t->member[m]->item[k], err);
			if (rc < 0)
				return rc;
		}
	for (i = 0; i < p->natom; i++)   /* natom grows: new atoms meet the earlier ones too */
		for (j = 0; j < i; j++) {
			struct tc_item x;

			if (!tc_item_meet(&p->atom[i].it, &p->atom[j].it, &x))
				continue;
			rc = tc_plan_add(p, &x, err);
			if (rc < 0)
				return rc;
		}
	for (i = 0; i < p->natom; i++)
		for (m = 0; m < t->nmember; m++)
			for (k = 0; k < t->member[m]->nitem; k++)
				if (tc_item_within(&p->atom[i].it, &t->member[m]->item[k]))
					p->atom[i].set |= 1ull << m;
	qsort(p->atom, p->natom, sizeof(p->atom[0]), tc_atom_cmp);
	for (i = 0; i < p->natom; i++) {
		for (j = 0; j < p->ncls && p->cls[j] != p->atom[i].set; j++)
			;
		if (j == p->ncls)
			p->cls[p->ncls++] = p->atom[i].set;
		p->atom_cls[i] = j;
	}
	return tc_plan_rates(t, p, err);
}

/* ---- apply / revert ---- */

struct tc_pick {
	int ifindex;
	char name[IF_NAMESIZE];
};

static int tc_pick_devices(struct nl_ns *nl, const struct tc_spec *s, struct tc_pick *dev,
			   size_t *ndev, struct err *err)
{
	struct tc_links *l;
	size_t i, k;
	int rc = 0, oif;

	*ndev = 0;
	l = malloc(sizeof(*l));
	if (!l)
		return err_set(err, -ENOMEM, "out of memory");
	rc = tc_links_list(nl, l, err);
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
		dev[0].ifindex = l->v[i].ifindex;
		snprintf(dev[0].name, sizeof(dev[0].name), "%s", l->v[i].name);
		*ndev = 1;
		goto out;
	}
	if (s->npfx == 0) {
		/* no prefixes: every non-loopback device that is up */
		for (i = 0; i < l->n && *ndev < TC_MAX_DEVS; i++) {
			if ((l->v[i].flags & IFF_LOOPBACK) || !(l->v[i].flags & IFF_UP) ||
			    !strncmp(l->v[i].name, TC_IFB_PREFIX, strlen(TC_IFB_PREFIX)))
				continue;
			dev[*ndev].ifindex = l->v[i].ifindex;
			snprintf(dev[*ndev].name, IF_NAMESIZE, "%s", l->v[i].name);
			(*ndev)++;
		}
	} else {
		for (k = 0; k < s->npfx; k++) {
			rc = tc_route_oif(nl, &s->pfx[k], &oif, err);
			if (rc < 0)
				goto out;
			for (i = 0; i < l->n; i++)
				if (l->v[i].ifindex == oif && !(l->v[i].flags & IFF_LOOPBACK))
					break;
			if (!oif || i == l->n)
				continue;
			for (size_t d = 0; d < *ndev; d++)
				if (dev[d].ifindex == oif)
					goto next;
			if (*ndev == TC_MAX_DEVS)
				break;
			dev[*ndev].ifindex = oif;
			snprintf(dev[*ndev].name, IF_NAMESIZE, "%s", l->v[i].name);
			(*ndev)++;
next:;
		}
	}
	if (*ndev == 0)
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

/* Make an ifb device (journaled first), bring it up; t->name/ifindex become the ifb. */
static int tc_ifb_create(struct nl_ns *nl, struct tc_tree *t, struct journal *j, int nsfd,
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
		rc = tc_link_index(nl, name, err, &idx);
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
	rc = tc_send(nl, m, ok, what, err);
	if (rc < 0)
		return rc;
	t->has_ifb = 1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	rc = tc_link_index(nl, name, err, &t->ifindex);
	if (rc < 0)
		return rc;
	if (!t->ifindex)
		return err_set(err, -ENODEV, "ifb device %s vanished", name);
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_index = t->ifindex;
	ifi.ifi_flags = IFF_UP;
	ifi.ifi_change = IFF_UP;
	m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	ok = m && nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0;
	snprintf(what, sizeof(what), "set %s up", name);
	return tc_send(nl, m, ok, what, err);
}

/* -EBUSY when the device already has an ingress (or clsact) qdisc. */
static int tc_ingress_free(struct nl_ns *nl, int ifindex, const char *name, struct err *err)
{
	struct tc_objs o;
	size_t i;
	int rc, busy = 0;

	rc = tc_list(nl, RTM_GETQDISC, ifindex, &o, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < o.n; i++)
		if (o.v[i].parent == TC_H_INGRESS)
			busy = 1;
	free(o.v);
	if (busy)
		return err_set(err, -EBUSY, "%s: already has an ingress (or clsact) qdisc that is "
			       "not this run's; doorjam does not share it", name);
	return 0;
}

/*
 * Redirect everything arriving on t->src into the ifb: an ingress qdisc
 * (journaled first) and one u32 match-all filter at prio TC_INGRESS_PRIO
 * (doorjam's mark) with a mirred egress-redirect action.
 */
static int tc_ingress_redirect(struct nl_ns *nl, struct tc_tree *t, struct journal *j,
			       int nsfd, struct err *err)
{
	struct journal_rec rec;
	struct tc_u32_key key;
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key keys[1];
	} sel;
	struct tc_mirred mir;
	struct nlattr *opt, *act, *a1, *aopt;
	struct nl_msg *m;
	char what[96];
	int rc, ok;

	rc = tc_ingress_free(nl, t->src_ifindex, t->src_name, err);
	if (rc < 0)
		return rc;
	memset(&rec, 0, sizeof(rec));
	rec.kind = JOURNAL_QDISC;
	journal_rec_set_ns(&rec, nsfd);
	rec.ifindex = t->src_ifindex;
	snprintf(rec.dev, sizeof(rec.dev), "%s", t->src_name);
	rec.parent = TC_H_INGRESS;
	rec.handle = TC_H_MAKE(TC_H_INGRESS, 0);
	rc = journal_add(j, &rec, err);
	if (rc == 0)
		rc = journal_sync(j, err);
	if (rc == 0)
		rc = tc_plain_qdisc(nl, t->src_ifindex, TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0),
				    "ingress", t->src_name, err);
	if (rc < 0)
		return rc;
	t->has_ingress = 1;
	tc_key(&key, 0, 0, 0);
	memset(&sel, 0, sizeof(sel));
	sel.sel.flags = TC_U32_TERMINAL;
	sel.sel.nkeys = 1;
	sel.keys[0] = key;
	memset(&mir, 0, sizeof(mir));
	mir.action = TC_ACT_STOLEN;
	mir.eaction = TCA_EGRESS_REDIR;
	mir.ifindex = (uint32_t)t->ifindex;
	m = tc_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, t->src_ifindex,
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
	snprintf(what, sizeof(what), "%s: redirect ingress to %s (u32 + mirred)", t->src_name,
		 t->name);
	return tc_send(nl, m, ok, what, err);
}

/*
 * Take the tree off its device: on ingress the redirect first, then the ifb
 * (its root and everything under it go with it); on egress doorjam's root,
 * which takes every class, leaf and filter with it.
 */
static int tc_tree_teardown(struct nl_ns *nl, struct tc_tree *t, struct err *err)
{
	struct err e2;
	char what[96];
	int rc, absent, first = 0;

	if (t->has_ingress) {
		snprintf(what, sizeof(what), "%s: delete ingress qdisc", t->src_name);
		rc = tc_del(nl, tc_msg(RTM_DELQDISC, 0, t->src_ifindex, TC_H_INGRESS,
				       TC_H_MAKE(TC_H_INGRESS, 0), 0), what, &absent, err);
		if (rc < 0)
			first = rc;
		else
			t->has_ingress = 0;
	}
	if (t->has_ifb) {
		rc = tc_link_del(nl, t->ifindex, t->name, &absent, first ? &e2 : err);
		if (rc < 0 && !first)
			first = rc;
		if (rc == 0)
			t->has_ifb = t->has_root = 0;
	} else if (t->has_root && !first) {
		snprintf(what, sizeof(what), "%s: delete doorjam's root qdisc", t->name);
		rc = tc_del(nl, tc_msg(RTM_DELQDISC, 0, t->ifindex, TC_H_ROOT, TC_MAJOR << 16, 0),
			    what, &absent, err);
		if (rc < 0)
			first = rc;
		else
			t->has_root = 0;
	}
	if (first == 0)
		t->ncls = t->nflt = 0;
	return first;
}

/*
 * Put doorjam's root on the tree's device (on ingress: on a new ifb first).
 * A doorjam root that this process does not know belongs to another run (or
 * to a crashed one) and is refused, as is a foreign root without force.
 */
static int tc_tree_setup(struct nl_ns *nl, struct tc_tree *t, struct journal *j, int nsfd,
			 int force, struct err *err)
{
	struct journal_rec rec;
	char foreign[64];
	int ours, rc;

	if (t->ingress) {
		rc = tc_ingress_free(nl, t->src_ifindex, t->src_name, err);
		if (rc == 0)
			rc = tc_ifb_create(nl, t, j, nsfd, err);
		if (rc < 0)
			return rc;
	}
	rc = tc_root_state(nl, t->ifindex, &ours, foreign, sizeof(foreign), err);
	if (rc < 0)
		return rc;
	if (ours)
		return err_set(err, -EBUSY, "%s: already carries doorjam's tc tree of another run "
			       "(if no other doorjam run is active, run doorjam recover); tc faults "
			       "on one device compose within one run", t->name);
	if (foreign[0] && !force)
		return err_set(err, -EBUSY, "%s: has a root qdisc (%s) that is not doorjam's; it "
			       "is left alone unless --force is given", t->name, foreign);
	memset(&rec, 0, sizeof(rec));
	rec.kind = JOURNAL_QDISC;
	journal_rec_set_ns(&rec, nsfd);
	rec.ifindex = t->ifindex;
	snprintf(rec.dev, sizeof(rec.dev), "%s", t->name);
	rec.parent = TC_H_ROOT;
	rec.handle = TC_MAJOR << 16;
	rc = journal_add(j, &rec, err);
	if (rc == 0)
		rc = journal_sync(j, err);
	if (rc < 0)
		return rc;
	/* CREATE|REPLACE swaps the default root without a gap */
	rc = tc_htb_qdisc(nl, t->ifindex, TC_H_ROOT, TC_MAJOR << 16, NLM_F_CREATE | NLM_F_REPLACE,
			  t->name, err);
	if (rc < 0)
		return rc;
	t->has_root = 1;
	return tc_htb_class(nl, t->ifindex, TC_MAJOR << 16, (TC_MAJOR << 16) | 1, TC_PASS_BPS,
			    t->name, err);
}

/* A leaf major that neither the tree in the kernel nor the one being built uses. */
static int tc_major_alloc(const struct tc_tree *t, unsigned char *used, uint32_t *major,
			  struct err *err)
{
	unsigned i;

	for (i = 1; i <= TC_MAJORS; i++)
		if (!t->major_used[i] && !used[i]) {
			used[i] = 1;
			*major = TC_MAJOR + i;
			return 0;
		}
	return err_set(err, -ENOSPC, "%s: all qdisc handles %x..%x are in use", t->name,
		       TC_MAJOR + 1, TC_MAJOR_LAST);
}

/*
 * The leaf chain of a class carrying member set `set`, under classid: first
 * the random-drop tree when members drop without netem (their shares drop
 * independently, so one drop with 1 - prod(1 - p) does the same), then one
 * netem per netem member, each the child of the one before, in apply order:
 * a packet meets every effect in turn, as on a real path.
 */
static int tc_leaf_chain(struct nl_ns *nl, const struct tc_tree *t, uint32_t classid,
			 uint64_t set, unsigned char *used, struct err *err)
{
	uint32_t parent = classid, maj, hole;
	double keep = 1;
	size_t m;
	int rc;

	for (m = 0; m < t->nmember; m++)
		if ((set & (1ull << m)) && t->member[m]->bpf_loss > 0)
			keep *= 1 - (t->member[m]->bpf_loss > 1 ? 1 : t->member[m]->bpf_loss);
	if (keep < 1) {
		rc = tc_major_alloc(t, used, &maj, err);
		if (rc == 0)
			rc = tc_major_alloc(t, used, &hole, err);
		if (rc == 0)
			rc = tc_htb_qdisc(nl, t->ifindex, parent, maj << 16, NLM_F_CREATE | NLM_F_EXCL,
					  t->name, err);
		if (rc == 0)
			rc = tc_htb_class(nl, t->ifindex, maj << 16, (maj << 16) | 1, TC_PASS_BPS,
					  t->name, err);
		if (rc == 0)
			rc = tc_htb_class(nl, t->ifindex, maj << 16, (maj << 16) | 2, TC_PASS_BPS,
					  t->name, err);
		if (rc == 0)
			rc = tc_plain_qdisc(nl, t->ifindex, (maj << 16) | 2, hole << 16, "blackhole",
					    t->name, err);
		if (rc == 0)
			rc = tc_bpf_filter(nl, t->ifindex, maj << 16, (maj << 16) | 2, 1 - keep,
					   t->name, err);
		if (rc < 0)
			return rc;
		parent = (maj << 16) | 1;
	}
	for (m = 0; m < t->nmember; m++) {
		if (!(set & (1ull << m)) || !t->member[m]->use_netem)
			continue;
		rc = tc_major_alloc(t, used, &maj, err);
		if (rc == 0)
			rc = tc_netem_qdisc(nl, t->ifindex, parent, maj << 16, &t->member[m]->netem,
					    t->name, err);
		if (rc < 0)
			return rc;
		parent = (maj << 16) | 1;   /* netem's one class: its child goes there */
	}
	return 0;
}

static int tc_flt_del(struct nl_ns *nl, const struct tc_tree *t, const struct tc_flt *x,
		      struct err *err)
{
	char what[96];
	int absent;

	snprintf(what, sizeof(what), "%s: delete u32 filter prio %u", t->name, x->prio);
	return tc_del(nl, tc_msg(RTM_DELTFILTER, 0, t->ifindex, TC_MAJOR << 16, 0,
				 TC_H_MAKE((uint32_t)x->prio << 16, htons(x->proto))),
		      what, &absent, err);
}

static int tc_cls_del(struct nl_ns *nl, const struct tc_tree *t, uint16_t minor,
		      struct err *err)
{
	char what[96];
	int absent;

	snprintf(what, sizeof(what), "%s: delete class %x:%x", t->name, TC_MAJOR, minor);
	return tc_del(nl, tc_msg(RTM_DELTCLASS, 0, t->ifindex, TC_MAJOR << 16,
				 (TC_MAJOR << 16) | minor, 0), what, &absent, err);
}

/*
 * Make the kernel's tree match t's members without a gap: build the new
 * classes and leaf chains beside the old ones (no traffic reaches them
 * yet), add the new scoping filters in the other priority range, then
 * delete the old filters and the old classes (each takes its leaves with
 * it). Every packet meets either the old tree or the new one. On failure
 * the new objects are removed and the old tree is left as it was.
 */
static int tc_tree_sync(struct nl_ns *nl, struct tc_tree *t, struct err *err)
{
	struct tc_plan *p = malloc(sizeof(*p));
	uint16_t cls[TC_NODES_MAX];
	struct tc_flt flt[TC_ATOMS_MAX];
	unsigned char used[TC_MAJORS + 1];
	unsigned gen = !t->gen;
	size_t ncls = 0, nflt = 0, i, k;
	struct err e2;
	int rc = 0, first = 0;

	if (!p)
		return err_set(err, -ENOMEM, "out of memory");
	memset(used, 0, sizeof(used));
	rc = tc_plan_make(t, p, err);
	if (rc < 0)
		goto out;
	for (i = 0; i < p->nnode; i++) {
		const struct tc_node *n = &p->node[i];
		uint32_t minor = TC_MINOR_FIRST;

		for (;; minor++) {
			for (k = 0; k < t->ncls && t->cls[k] != minor; k++)
				;
			if (k < t->ncls)
				continue;
			for (k = 0; k < ncls && cls[k] != minor; k++)
				;
			if (k == ncls)
				break;
		}
		rc = tc_htb_class2(nl, t->ifindex, n->parent < 0 ? TC_MAJOR << 16 :
				   (TC_MAJOR << 16) | cls[n->parent], (TC_MAJOR << 16) | minor,
				   n->rate, n->ceil, t->name, err);
		if (rc < 0)
			goto undo;
		cls[ncls++] = (uint16_t)minor;   /* node i has minor cls[i] */
		if (n->leaf < 0)
			continue;
		rc = tc_leaf_chain(nl, t, (TC_MAJOR << 16) | minor, p->cls[n->leaf], used, err);
		if (rc < 0)
			goto undo;
	}
	for (i = 0; i < p->natom; i++) {
		const struct tc_item *it = &p->atom[i].it;
		struct tc_u32_key key[8];
		struct route_prefix rp;
		uint16_t proto = it->fam == AF_INET ? ETH_P_IP :
				 it->fam == AF_INET6 ? ETH_P_IPV6 : ETH_P_ALL;
		unsigned nk;

		memset(&rp, 0, sizeof(rp));
		rp.family = it->fam;
		rp.len = it->len;
		memcpy(rp.addr, it->addr, sizeof(rp.addr));
		nk = tc_u32_keys(key, it->fam ? it->fam : AF_INET, it->fam ? &rp : NULL, it->port,
				 t->ingress);
		rc = tc_u32_filter(nl, t->ifindex, TC_MAJOR << 16, TC_PRIO_BASE(gen) + (uint32_t)i,
				   proto, (TC_MAJOR << 16) | cls[p->cls_node[p->atom_cls[i]]], key, nk, t->name,
				   err);
		if (rc < 0)
			goto undo;
		flt[nflt].prio = (uint16_t)(TC_PRIO_BASE(gen) + i);
		flt[nflt].proto = proto;
		nflt++;
	}
	/* the new tree is complete: the old one goes, filters first */
	for (k = 0; k < t->nflt; k++) {
		int r = tc_flt_del(nl, t, &t->flt[k], first ? &e2 : err);

		if (r < 0 && !first)
			first = r;
	}
	for (k = t->ncls; k-- > 0;) {   /* children before their parents */
		int r = tc_cls_del(nl, t, t->cls[k], first ? &e2 : err);

		if (r < 0 && !first)
			first = r;
	}
	t->gen = gen;
	memcpy(t->cls, cls, ncls * sizeof(cls[0]));
	t->ncls = ncls;
	memcpy(t->flt, flt, nflt * sizeof(flt[0]));
	t->nflt = nflt;
	memcpy(t->major_used, used, sizeof(used));
	rc = first;
	goto out;
undo:
	while (nflt-- > 0)
		(void)tc_flt_del(nl, t, &flt[nflt], &e2);
	while (ncls-- > 0)
		(void)tc_cls_del(nl, t, cls[ncls], &e2);
out:
	free(p);
	return rc;
}

static struct tc_tree *tc_tree_find(unsigned long ns_ino, int src_ifindex, int ingress)
{
	struct tc_tree *t;

	for (t = tc_trees; t; t = t->next)
		if (t->ns_ino == ns_ino && t->src_ifindex == src_ifindex && t->ingress == ingress)
			return t;
	return NULL;
}

static void tc_tree_unlink(struct tc_tree *t)
{
	struct tc_tree **pp;

	for (pp = &tc_trees; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	free(t);
}

/*
 * Take f out of tree t: the last member takes the tree off the device,
 * otherwise the tree is rebuilt for the members left. f leaves the member
 * list either way; on a failed rebuild its effect stays in the kernel until
 * the next change of the tree (or its removal) and err says why.
 */
static int tc_tree_leave(struct nl_ns *nl, struct tc_tree *t, struct tc_fault *f,
			 struct err *err)
{
	size_t m;
	int rc;

	for (m = 0; m < t->nmember && t->member[m] != f; m++)
		;
	if (m == t->nmember)
		return 0;
	memmove(&t->member[m], &t->member[m + 1], (t->nmember - m - 1) * sizeof(t->member[0]));
	t->nmember--;
	if (t->nmember > 0)
		return tc_tree_sync(nl, t, err);
	rc = tc_tree_teardown(nl, t, err);
	tc_tree_unlink(t);
	return rc;
}

/* Put f on one device: join its tree (made here when f is the first) and rebuild it. */
static int tc_tree_join(struct tc_fault *f, const struct tc_pick *d, const struct tc_spec *s,
			struct journal *j, int nsfd, int force, struct err *err)
{
	struct tc_tree *t = tc_tree_find(f->ns_ino, d->ifindex, s->ingress);
	struct err e2;
	int rc, made = 0;

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return err_set(err, -ENOMEM, "out of memory");
		t->ns_ino = f->ns_ino;
		t->ingress = s->ingress;
		t->src_ifindex = t->ifindex = d->ifindex;
		snprintf(t->src_name, sizeof(t->src_name), "%s", d->name);
		snprintf(t->name, sizeof(t->name), "%s", d->name);
		t->next = tc_trees;
		tc_trees = t;
		made = 1;
		rc = tc_tree_setup(f->nl, t, j, nsfd, force, err);
		if (rc < 0)
			goto fail;
	}
	if (t->nmember == TC_MEMBERS_MAX)
		return err_set(err, -ENOSPC, "%s: already carries %u tc faults", t->src_name,
			       TC_MEMBERS_MAX);
	t->member[t->nmember++] = f;
	rc = tc_tree_sync(f->nl, t, err);
	if (rc == 0 && made && t->ingress)
		rc = tc_ingress_redirect(f->nl, t, j, nsfd, err);  /* last: now traffic comes */
	if (rc == 0) {
		f->tree[f->ntree++] = t;
		return 0;
	}
	t->nmember--;
	if (!made)
		return rc;
fail:
	(void)tc_tree_teardown(f->nl, t, &e2);
	tc_tree_unlink(t);
	return rc;
}

static void tc_fault_free(struct tc_fault *f)
{
	if (!f)
		return;
	nl_ns_close(f->nl);
	free(f->item);
	free(f);
}

int tc_apply(int nsfd, struct journal *j, const struct tc_spec *s, int force,
	     struct tc_fault **out, struct err *err)
{
	struct tc_pick dev[TC_MAX_DEVS];
	struct tc_fault *f;
	struct err e2;
	size_t ndev, i;
	int rc;

	*out = NULL;
	if (!s->use_netem && !(s->bpf_loss > 0) && !s->rate_bps)
		return err_set(err, -EINVAL, "the fault changes nothing (no netem parameter, "
			       "loss or rate)");
	f = calloc(1, sizeof(*f));
	if (!f)
		return err_set(err, -ENOMEM, "out of memory");
	f->ns_ino = netns_inode(nsfd);
	f->rate_bps = s->rate_bps;
	f->bpf_loss = s->bpf_loss;
	f->use_netem = s->use_netem;
	f->netem = s->netem;
	if (!f->ns_ino) {
		rc = err_set(err, -EINVAL, "cannot identify the target namespace");
		goto fail;
	}
	rc = tc_items_make(f, s, err);
	if (rc == 0)
		rc = nl_ns_open(nsfd, &f->nl, err);
	if (rc == 0)
		rc = tc_pick_devices(f->nl, s, dev, &ndev, err);
	for (i = 0; rc == 0 && i < ndev; i++)
		rc = tc_tree_join(f, &dev[i], s, j, nsfd, force, err);
	if (rc < 0) {
		while (f->ntree-- > 0)
			(void)tc_tree_leave(f->nl, f->tree[f->ntree], f, &e2);
		goto fail;
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
	for (i = 0; f && i < f->ntree && n < outlen; i++) {
		const struct tc_tree *t = f->tree[i];
		int w = t->ingress ?
			snprintf(out + n, outlen - n, "%s%s(ingress via %s)", i ? "," : "",
				 t->src_name, t->name) :
			snprintf(out + n, outlen - n, "%s%s", i ? "," : "", t->name);

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
	for (i = f->ntree; i-- > 0;) {
		rc = tc_tree_leave(f->nl, f->tree[i], f, first ? &e2 : err);
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
