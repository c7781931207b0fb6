/*
 * fault_net: the net.* fault kinds.
 *
 * net.unreachable, net.blackhole and net.prohibit make reject routes for a
 * region's or the fault's own prefixes (injector/route). net.delay, net.loss,
 * net.duplicate, net.corrupt, net.reorder and net.bandwidth make a tc fault
 * scoped by prefix and port (injector/tc). Validation is side-effect free and
 * cannot know the kernel: kinds that need sch_netem say so in ops->needs
 * (FAULT_NEEDS_NETEM) so that the runner can refuse them up front with
 * probe_has_qdisc("netem"); apply fails with -ENOTSUP naming sch_netem if it
 * still meets a kernel without it. net.loss without netem uses the classic-BPF
 * random-drop tree instead. Faults apply in env->target_nsfd; the machine's
 * root namespace is refused unless env->allow_root_netns.
 */
#include "runner/fault.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/netns.h"
#include "injector/probe.h"
#include "injector/route.h"
#include "injector/tc.h"
#include "runner/scenario.h"

#define NET_PREFIXES_MAX 100000
#define NET_PORTS_MAX 64

enum net_kind {
	NET_UNREACHABLE, NET_BLACKHOLE, NET_PROHIBIT,
	NET_DELAY, NET_LOSS, NET_DUPLICATE, NET_CORRUPT, NET_REORDER, NET_BANDWIDTH,
};

struct net_params {
	enum net_kind kind;
	struct route_prefix *pfx;
	size_t npfx;
	uint16_t ports[NET_PORTS_MAX];
	size_t nports;
	char *device;
	int ingress;
	struct tc_netem netem;
	uint64_t rate_bps;
};

struct net_state {
	struct route_set *routes;
	struct tc_fault *tc;
};

static const char *const net_route_keys[] = { "prefixes", NULL };
static const char *const net_delay_keys[] = {
	"prefixes", "ports", "direction", "device", "delay", "jitter", "correlation",
	"distribution", NULL };
static const char *const net_loss_keys[] = {
	"prefixes", "ports", "direction", "device", "loss", "correlation", NULL };
static const char *const net_duplicate_keys[] = {
	"prefixes", "ports", "direction", "device", "duplicate", NULL };
static const char *const net_corrupt_keys[] = {
	"prefixes", "ports", "direction", "device", "corrupt", NULL };
static const char *const net_reorder_keys[] = {
	"prefixes", "ports", "direction", "device", "reorder", "correlation", "delay", NULL };
static const char *const net_bandwidth_keys[] = {
	"prefixes", "ports", "direction", "device", "rate", NULL };

static const char *const net_kind_names[] = {
	"net.unreachable", "net.blackhole", "net.prohibit", "net.delay", "net.loss",
	"net.duplicate", "net.corrupt", "net.reorder", "net.bandwidth",
};

static void net_free(void *p)
{
	struct net_params *np = p;

	if (!np)
		return;
	free(np->pfx);
	free(np->device);
	free(np);
}

static int net_is_route(enum net_kind k)
{
	return k <= NET_PROHIBIT;
}

/* Add the prefixes of a JSON string or array (at ptr) to np; errors through c. */
static int net_add_prefixes(struct check *c, struct net_params *np, json_t *v, const char *ptr)
{
	char p[CHECK_PTR_MAX];
	size_t i, n = json_is_array(v) ? json_array_size(v) : 1;
	struct route_prefix *nv;
	int bad = 0;

	if (np->npfx + n > NET_PREFIXES_MAX) {
		check_error(c, ptr, 0, "more than %d prefixes", NET_PREFIXES_MAX);
		return -1;
	}
	nv = realloc(np->pfx, (np->npfx + n + 1) * sizeof(*nv));
	if (!nv) {
		check_error(c, ptr, 0, "out of memory");
		return -1;
	}
	np->pfx = nv;
	for (i = 0; i < n; i++) {
		json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
		struct err err;

		err_clear(&err);
		if (route_prefix_parse(json_string_value(e), &np->pfx[np->npfx], &err) < 0) {
			check_error(c, json_is_array(v) ? check_ptr_index(p, ptr, i) : ptr, 0,
				    "%s", err.msg);
			bad = 1;
			continue;
		}
		np->npfx++;
	}
	return bad ? -1 : 0;
}

static int net_validate(struct check *c, const struct scenario *sc, json_t *obj,
			const char *ptr, void **params, enum net_kind kind)
{
	static const char *const dirs[] = { "egress", "ingress", NULL };
	struct net_params *np;
	const char *region = NULL, *device = NULL, *dist = NULL;
	json_t *pfx = NULL, *ports = NULL;
	char p[CHECK_PTR_MAX], q[CHECK_PTR_MAX];
	size_t errors = c->errors, i;
	double corr = 0;
	int dir = 0;

	*params = NULL;
	np = calloc(1, sizeof(*np));
	if (!np) {
		check_error(c, ptr, 0, "out of memory");
		return -1;
	}
	np->kind = kind;
	if (check_strings(c, obj, ptr, "prefixes", 0, &pfx) > 0)
		(void)net_add_prefixes(c, np, pfx, check_ptr(p, ptr, "prefixes"));
	if (check_string(c, obj, ptr, "region", 0, &region) > 0) {
		const struct region *r = NULL;

		for (i = 0; sc && i < sc->nregions; i++)
			if (!strcmp(sc->regions[i].name, region))
				r = &sc->regions[i];
		if (!r) {
			check_error(c, check_ptr(p, ptr, "region"), 0, "no region called \"%s\"",
				    region);
		} else if (r->nprefixes == 0) {
			check_error(c, check_ptr(p, ptr, "region"), 0,
				    "region \"%s\" lists no prefixes, which net.* faults need",
				    region);
		} else {
			json_t *arr = json_array();

			for (i = 0; arr && i < r->nprefixes; i++)
				json_array_append_new(arr, json_string(r->prefixes[i]));
			if (arr)
				(void)net_add_prefixes(c, np, arr, check_ptr(p, ptr, "region"));
			json_decref(arr);
		}
	}
	if (net_is_route(kind) && np->npfx == 0 && c->errors == errors)
		check_error(c, ptr, 0, "%s needs \"prefixes\" or a \"region\" with prefixes",
			    net_kind_names[kind]);
	if (!net_is_route(kind)) {
		if (check_array(c, obj, ptr, "ports", 0, &ports) > 0) {
			json_t *e;

			if (json_array_size(ports) > NET_PORTS_MAX)
				check_error(c, check_ptr(p, ptr, "ports"), 0, "more than %d ports",
					    NET_PORTS_MAX);
			json_array_foreach(ports, i, e) {
				json_int_t v = json_is_integer(e) ? json_integer_value(e) : -1;

				if (v < 1 || v > 65535) {
					check_error(c, check_ptr_index(q, check_ptr(p, ptr, "ports"), i),
						    0, "a port is an integer 1..65535");
				} else if (np->nports < NET_PORTS_MAX) {
					np->ports[np->nports++] = (uint16_t)v;
				}
			}
		}
		if (check_enum(c, obj, ptr, "direction", 0, dirs, &dir) > 0)
			np->ingress = dir == 1;
		if (check_string(c, obj, ptr, "device", 0, &device) > 0) {
			if (!*device || strlen(device) >= IF_NAMESIZE || strchr(device, '/'))
				check_error(c, check_ptr(p, ptr, "device"), 0,
					    "\"%s\" is not a device name", device);
			else
				np->device = strdup(device);
		}
	}
	switch (kind) {
	case NET_DELAY:
		(void)check_duration(c, obj, ptr, "delay", 1, &np->netem.delay_us);
		(void)check_duration(c, obj, ptr, "jitter", 0, &np->netem.jitter_us);
		(void)check_probability(c, obj, ptr, "correlation", 0, &np->netem.delay_corr);
		if (check_string(c, obj, ptr, "distribution", 0, &dist) > 0) {
			static const char *const dists[] = { "uniform", "normal", "pareto",
							     "paretonormal", NULL };
			int d = 0;

			if (check_enum(c, obj, ptr, "distribution", 0, dists, &d) > 0) {
				strcpy(np->netem.dist, dists[d]);
				if (!np->netem.jitter_us)
					check_error(c, check_ptr(p, ptr, "distribution"), 0,
						    "a distribution needs \"jitter\"");
			}
		}
		if (np->netem.delay_us > 3600000000ull)
			check_error(c, check_ptr(p, ptr, "delay"), 0, "delay above 1h");
		break;
	case NET_LOSS:
		(void)check_probability(c, obj, ptr, "loss", 1, &np->netem.loss);
		if (check_probability(c, obj, ptr, "correlation", 0, &corr) > 0)
			np->netem.loss_corr = corr;
		break;
	case NET_DUPLICATE:
		(void)check_probability(c, obj, ptr, "duplicate", 1, &np->netem.duplicate);
		break;
	case NET_CORRUPT:
		(void)check_probability(c, obj, ptr, "corrupt", 1, &np->netem.corrupt);
		break;
	case NET_REORDER:
		(void)check_probability(c, obj, ptr, "reorder", 1, &np->netem.reorder);
		(void)check_probability(c, obj, ptr, "correlation", 0, &np->netem.reorder_corr);
		/* netem reorders by sending some packets at once while delaying the rest */
		if (check_duration(c, obj, ptr, "delay", 1, &np->netem.delay_us) > 0 &&
		    np->netem.delay_us == 0)
			check_error(c, check_ptr(p, ptr, "delay"), 0,
				    "reorder needs a delay above 0 for the other packets");
		break;
	case NET_BANDWIDTH:
		if (check_rate(c, obj, ptr, "rate", 1, &np->rate_bps) > 0 &&
		    (np->rate_bps < 8000 || np->rate_bps > 10000000000ull))
			check_error(c, check_ptr(p, ptr, "rate"), 0,
				    "rate must be between 8kbit and 10gbit");
		break;
	default:
		break;
	}
	if (c->errors != errors) {
		net_free(np);
		return -1;
	}
	*params = np;
	return 0;
}

/*
 * 1 when nsfd is the machine's root namespace. PID 1's namespace may be
 * unreadable (ptrace access rules refuse both stat and readlink of
 * /proc/1/ns/net, as in some containers and sandboxes); then the namespace
 * doorjam itself runs in is taken to be the root one, so the check fails
 * closed for the case that matters: a fault without a target.
 */
static int net_is_root_ns(int nsfd)
{
	unsigned long target = netns_inode(nsfd), init = 0, self = 0;
	struct stat st;
	char link[64];
	ssize_t n;

	if (netns_is_init(nsfd))
		return 1;
	n = readlink("/proc/1/ns/net", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (sscanf(link, "net:[%lu]", &init) != 1)
			init = 0;
	}
	if (init)
		return target == init;
	if (stat("/proc/self/ns/net", &st) == 0)
		self = (unsigned long)st.st_ino;
	return !target || !self || target == self;
}

static int net_target(struct fault_env *env, struct fault *f, struct err *err)
{
	if (net_is_root_ns(env->target_nsfd) && !env->allow_root_netns)
		return err_set(err, -EPERM, "%s %s: the target is the machine's root network "
			       "namespace; give a lab or --target, or --allow-root-netns",
			       f->ops->kind, f->ptr ? f->ptr : "");
	return 0;
}

static int net_apply(struct fault_env *env, struct fault *f, struct err *err)
{
	struct net_params *np = f->params;
	struct net_state *st;
	int rc;

	rc = net_target(env, f, err);
	if (rc < 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(err, -ENOMEM, "out of memory");
	if (net_is_route(np->kind)) {
		static const int types[] = { RTN_UNREACHABLE, RTN_BLACKHOLE, RTN_PROHIBIT };

		rc = route_apply(env->target_nsfd, env->journal, types[np->kind], np->pfx,
				 np->npfx, &st->routes, err);
	} else {
		struct tc_spec s;

		memset(&s, 0, sizeof(s));
		s.ingress = np->ingress;
		s.device = np->device;
		s.pfx = np->pfx;
		s.npfx = np->npfx;
		s.ports = np->ports;
		s.nports = np->nports;
		s.netem = np->netem;
		s.rate_bps = np->rate_bps;
		s.use_netem = np->kind != NET_BANDWIDTH;
		if (np->kind == NET_LOSS) {
			rc = probe_has_qdisc("netem", err);
			if (rc < 0)
				goto out;
			if (rc == 0) {
				if (np->netem.loss_corr > 0) {
					rc = err_set(err, -ENOTSUP, "net.loss with \"correlation\" "
						     "needs the kernel's sch_netem, which this kernel "
						     "lacks (without it loss is independent per packet)");
					goto out;
				}
				s.use_netem = 0;
				s.bpf_loss = np->netem.loss;
			}
		}
		rc = tc_apply(env->target_nsfd, env->journal, &s, env->force, &st->tc, err);
	}
out:
	if (rc < 0) {
		free(st);
		return err_prefix(err, "%s: ", f->ops->kind);
	}
	f->state = st;
	return 0;
}

static int net_revert(struct fault_env *env, struct fault *f, struct err *err)
{
	struct net_state *st = f->state;
	int rc;

	(void)env;
	if (!st)
		return 0;
	rc = st->routes ? route_revert(st->routes, err) : tc_revert(st->tc, err);
	free(st);
	f->state = NULL;
	return rc < 0 ? err_prefix(err, "%s: revert: ", f->ops->kind) : 0;
}

#define NET_VALIDATE(name, k) \
	static int name(struct check *c, const struct scenario *sc, json_t *obj, \
			const char *ptr, void **params) \
	{ return net_validate(c, sc, obj, ptr, params, k); }

NET_VALIDATE(net_v_unreachable, NET_UNREACHABLE)
NET_VALIDATE(net_v_blackhole, NET_BLACKHOLE)
NET_VALIDATE(net_v_prohibit, NET_PROHIBIT)
NET_VALIDATE(net_v_delay, NET_DELAY)
NET_VALIDATE(net_v_loss, NET_LOSS)
NET_VALIDATE(net_v_duplicate, NET_DUPLICATE)
NET_VALIDATE(net_v_corrupt, NET_CORRUPT)
NET_VALIDATE(net_v_reorder, NET_REORDER)
NET_VALIDATE(net_v_bandwidth, NET_BANDWIDTH)

#define NET_OPS(var, name, sum, needs, keys, v) \
	static const struct fault_ops var = { name, sum, needs, keys, v, net_apply, \
					      net_revert, net_free }

NET_OPS(net_unreachable, "net.unreachable",
	"unreachable routes for prefixes/region: clients get \"no route to host\" at once",
	FAULT_NEEDS_ROOT, net_route_keys, net_v_unreachable);
NET_OPS(net_blackhole, "net.blackhole",
	"blackhole routes for prefixes/region: packets vanish, clients wait for timeouts",
	FAULT_NEEDS_ROOT, net_route_keys, net_v_blackhole);
NET_OPS(net_prohibit, "net.prohibit",
	"prohibit routes for prefixes/region: \"administratively prohibited\"",
	FAULT_NEEDS_ROOT, net_route_keys, net_v_prohibit);
NET_OPS(net_delay, "net.delay",
	"added latency (delay, jitter, correlation, distribution) via netem",
	FAULT_NEEDS_ROOT | FAULT_NEEDS_NETEM, net_delay_keys, net_v_delay);
NET_OPS(net_loss, "net.loss",
	"random packet loss via netem, or a classic-BPF random drop without netem",
	FAULT_NEEDS_ROOT, net_loss_keys, net_v_loss);
NET_OPS(net_duplicate, "net.duplicate", "duplicated packets via netem",
	FAULT_NEEDS_ROOT | FAULT_NEEDS_NETEM, net_duplicate_keys, net_v_duplicate);
NET_OPS(net_corrupt, "net.corrupt", "single-bit corruption via netem",
	FAULT_NEEDS_ROOT | FAULT_NEEDS_NETEM, net_corrupt_keys, net_v_corrupt);
NET_OPS(net_reorder, "net.reorder", "reordered packets via netem (needs a delay)",
	FAULT_NEEDS_ROOT | FAULT_NEEDS_NETEM, net_reorder_keys, net_v_reorder);
NET_OPS(net_bandwidth, "net.bandwidth", "bandwidth limit (htb class rate)",
	FAULT_NEEDS_ROOT, net_bandwidth_keys, net_v_bandwidth);

const struct fault_ops *const fault_net_kinds[] = {
	&net_unreachable, &net_blackhole, &net_prohibit, &net_delay, &net_loss,
	&net_duplicate, &net_corrupt, &net_reorder, &net_bandwidth, NULL,
};
