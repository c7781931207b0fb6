/*
 * fault_dns: the "dns" block and the dns.* fault kinds. See fault_dns.h.
 *
 * Validation and building share one walk over the JSON (dns_block_walk):
 * the check pass records every problem, the build pass runs the same code
 * with a private diagnostics list and fills a struct dns_config. A fault's
 * params are the rule in plain data; apply resolves a region's names and
 * adds the rule to the run's server, revert deletes it.
 */
#include "runner/fault_dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnsmsg.h"
#include "runner/fault.h"
#include "runner/scenario.h"

#define FAULT_DNS_TTL_MAX 2147483647u   /* RFC 2181: TTLs are 31-bit */

/* ---- shared value checks ---- */

/*
 * A TTL: whole seconds as a number, or a duration string ("30s", "5m").
 * Same returns as the check getters.
 */
static int fault_dns_ttl(struct check *c, json_t *obj, const char *ptr, const char *key,
			 uint32_t *out)
{
	char p[CHECK_PTR_MAX];
	json_t *v = json_object_get(obj, key);
	uint64_t us, secs;

	if (!v)
		return 0;
	check_ptr(p, ptr, key);
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > FAULT_DNS_TTL_MAX) {
			check_error(c, p, 0, "TTL %lld is outside 0 to %u seconds",
				    (long long)json_integer_value(v), FAULT_DNS_TTL_MAX);
			return -1;
		}
		*out = (uint32_t)json_integer_value(v);
		return 1;
	}
	if (check_duration(c, obj, ptr, key, 1, &us) != 1)
		return -1;
	if (us % 1000000) {
		check_error(c, p, 0, "a TTL is whole seconds (DNS has no finer unit)");
		return -1;
	}
	secs = us / 1000000;
	if (secs > FAULT_DNS_TTL_MAX) {
		check_error(c, p, 0, "TTL is over %u seconds", FAULT_DNS_TTL_MAX);
		return -1;
	}
	*out = (uint32_t)secs;
	return 1;
}

/* Check one name or pattern; wild allows "*" and "*.suffix". Returns 0 or -1. */
static int fault_dns_name(struct check *c, const char *p, const char *name, int wild)
{
	char canon[DNSMSG_TEXT_MAX];
	struct err e;

	err_clear(&e);
	canon[0] = '\0';
	if (wild && !strcmp(name, "*"))
		return 0;
	if (wild && name[0] == '*' && name[1] == '.')
		name += 2;
	if (strchr(name, '*')) {
		check_error(c, p, 0, "\"*\" is allowed only as a whole first label (\"*.example\")");
		return -1;
	}
	if (dnsmsg_name_canon(name, canon, &e) < 0) {
		check_error(c, p, 0, "not a DNS name: %s", e.msg);
		return -1;
	}
	if (!canon[0]) {
		check_error(c, p, 0, "the root name \"%s\" is not allowed here", name);
		return -1;
	}
	return 0;
}

/* Visit every string of a string-or-array value; returns the count or -1. */
static int fault_dns_each(json_t *v, int (*fn)(void *arg, size_t i, const char *s), void *arg)
{
	size_t i, n = 0;
	json_t *e;
	int bad = 0;

	if (json_is_string(v))
		return fn(arg, 0, json_string_value(v)) < 0 ? -1 : 1;
	json_array_foreach(v, i, e) {
		if (fn(arg, i, json_string_value(e)) < 0)
			bad = 1;
		n++;
	}
	return bad ? -1 : (int)n;
}

/* Pointer of element i of the string-or-array at p. */
static const char *fault_dns_elem_ptr(char *out, const char *p, json_t *v, size_t i)
{
	if (json_is_string(v))
		return strcpy(out, p);
	return check_ptr_index(out, p, i);
}

/* ---- addresses ---- */

struct fault_dns_addrs {
	struct check *c;
	const char *ptr;
	json_t *v;
	uint8_t (*v4)[4];
	size_t nv4;
	uint8_t (*v6)[16];
	size_t nv6;
	int allow_names;      /* zone values: a single non-address is a CNAME */
	const char *cname;
};

static int fault_dns_addr_one(void *arg, size_t i, const char *s)
{
	struct fault_dns_addrs *a = arg;
	char p[CHECK_PTR_MAX];
	uint8_t b[16];

	fault_dns_elem_ptr(p, a->ptr, a->v, i);
	if (inet_pton(AF_INET, s, b) == 1) {
		void *n = realloc(a->v4, (a->nv4 + 1) * sizeof(*a->v4));

		if (!n)
			return -1;
		a->v4 = n;
		memcpy(a->v4[a->nv4++], b, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		void *n = realloc(a->v6, (a->nv6 + 1) * sizeof(*a->v6));

		if (!n)
			return -1;
		a->v6 = n;
		memcpy(a->v6[a->nv6++], b, 16);
		return 0;
	}
	if (a->allow_names && json_is_string(a->v)) {
		if (fault_dns_name(a->c, p, s, 0) < 0)
			return -1;
		a->cname = s;
		return 0;
	}
	check_error(a->c, p, 0, "\"%s\" is not an IPv4 or IPv6 address%s", s,
		    a->allow_names ? " (a CNAME target must be the only value)" : "");
	return -1;
}

/* ---- the "dns" block ---- */

static const char *const fault_dns_block_keys[] = {
	"listen", "netns", "zone", "upstreams", "ttl", "upstream_timeout", "upstream_tries",
	"tcp_idle", "tcp_max_connections", NULL,
};

struct fault_dns_listen {
	struct check *c;
	const char *ptr;
	json_t *v;
	struct sockaddr_storage *out;
	size_t n;
	uint16_t default_port;
};

static int fault_dns_listen_one(void *arg, size_t i, const char *s)
{
	struct fault_dns_listen *l = arg;
	char p[CHECK_PTR_MAX];
	struct sockaddr_storage ss;
	struct err e;

	fault_dns_elem_ptr(p, l->ptr, l->v, i);
	if (dns_addr_parse(s, l->default_port, &ss, &e) < 0) {
		check_error(l->c, p, 0, "%s", e.msg);
		return -1;
	}
	if (l->out)
		l->out[l->n] = ss;
	l->n++;
	return 0;
}

static int fault_dns_addr_list(struct check *c, json_t *obj, const char *ptr, const char *key,
			       int required, uint16_t default_port,
			       struct sockaddr_storage **out, size_t *n)
{
	struct fault_dns_listen l = { c, NULL, NULL, NULL, 0, default_port };
	char p[CHECK_PTR_MAX];
	json_t *v;
	int rc = check_strings(c, obj, ptr, key, required, &v);

	if (rc != 1)
		return rc;
	check_ptr(p, ptr, key);
	if (json_is_array(v) && json_array_size(v) == 0 && required) {
		check_error(c, p, 0, "needs at least one address");
		return -1;
	}
	l.ptr = p;
	l.v = v;
	if (out) {
		l.out = calloc(json_is_array(v) ? json_array_size(v) + 1 : 1, sizeof(*l.out));
		if (!l.out)
			return -1;
	}
	if (fault_dns_each(v, fault_dns_listen_one, &l) < 0) {
		free(l.out);
		return -1;
	}
	if (out) {
		*out = l.out;
		*n = l.n;
	}
	return 1;
}

static int dns_block_walk(struct check *c, json_t *obj, const char *ptr, struct dns_config *cfg)
{
	char p[CHECK_PTR_MAX], q[CHECK_PTR_MAX];
	size_t before = c->errors;
	const char *str;
	json_t *zone = NULL;
	uint64_t u;

	if (!json_is_object(obj)) {
		check_error(c, ptr, 0, "expected an object, found %s", check_type_name(obj));
		return -1;
	}
	check_keys(c, obj, ptr, fault_dns_block_keys);
	fault_dns_addr_list(c, obj, ptr, "listen", 1, 53, cfg ? &cfg->listen : NULL,
			    cfg ? &cfg->nlisten : NULL);
	fault_dns_addr_list(c, obj, ptr, "upstreams", 0, 53, cfg ? &cfg->upstreams : NULL,
			    cfg ? &cfg->nupstreams : NULL);
	if (check_string(c, obj, ptr, "netns", 0, &str) == 1 && cfg)
		cfg->netns = strdup(str);
	if (cfg)
		cfg->ttl = 60;
	fault_dns_ttl(c, obj, ptr, "ttl", cfg ? &cfg->ttl : &(uint32_t){ 0 });
	if (check_duration(c, obj, ptr, "upstream_timeout", 0, &u) == 1) {
		if (u == 0)
			check_error(c, check_ptr(p, ptr, "upstream_timeout"), 0, "must be above zero");
		else if (cfg)
			cfg->upstream_timeout_us = u;
	}
	if (check_uint(c, obj, ptr, "upstream_tries", 0, 1, 10, &u) == 1 && cfg)
		cfg->upstream_tries = (unsigned)u;
	if (check_duration(c, obj, ptr, "tcp_idle", 0, &u) == 1) {
		if (u == 0)
			check_error(c, check_ptr(p, ptr, "tcp_idle"), 0, "must be above zero");
		else if (cfg)
			cfg->tcp_idle_us = u;
	}
	if (check_uint(c, obj, ptr, "tcp_max_connections", 0, 1, 65536, &u) == 1 && cfg)
		cfg->tcp_max_conns = (unsigned)u;
	if (check_object(c, obj, ptr, "zone", 0, &zone) == 1) {
		const char *name;
		json_t *v;
		size_t i = 0;

		check_ptr(p, ptr, "zone");
		if (cfg) {
			cfg->zone = calloc(json_object_size(zone) + 1, sizeof(*cfg->zone));
			if (!cfg->zone)
				return -1;
		}
		json_object_foreach(zone, name, v) {
			struct fault_dns_addrs a = { c, NULL, v, NULL, 0, NULL, 0, 1, NULL };
			char canon[DNSMSG_TEXT_MAX];
			size_t j;
			int bad = 0;

			check_ptr(q, p, name);
			a.ptr = q;
			if (fault_dns_name(c, q, name, 0) < 0) {
				continue;
			}
			if (!json_is_string(v) && !json_is_array(v)) {
				check_error(c, q, 0, "expected an address, a list of addresses or a "
					    "CNAME target, found %s", check_type_name(v));
				continue;
			}
			if (json_is_array(v) && json_array_size(v) == 0) {
				check_error(c, q, 0, "needs at least one address");
				continue;
			}
			for (j = 0; json_is_array(v) && j < json_array_size(v); j++) {
				if (!json_is_string(json_array_get(v, j))) {
					char e[CHECK_PTR_MAX];

					check_error(c, check_ptr_index(e, q, j), 0,
						    "expected an address, found %s",
						    check_type_name(json_array_get(v, j)));
					bad = 1;
				}
			}
			if (bad || fault_dns_each(v, fault_dns_addr_one, &a) < 0) {
				free(a.v4);
				free(a.v6);
				continue;
			}
			if (!cfg) {
				free(a.v4);
				free(a.v6);
				continue;
			}
			{
				struct dns_zone_entry *e = &cfg->zone[i++];
				struct err er;

				cfg->nzone = i;
				e->v4 = a.v4;
				e->nv4 = a.nv4;
				e->v6 = a.v6;
				e->nv6 = a.nv6;
				if (dnsmsg_name_canon(name, canon, &er) < 0 || !(e->name = strdup(canon)))
					return -1;
				if (a.cname) {
					if (dnsmsg_name_canon(a.cname, canon, &er) < 0 ||
					    !(e->cname = strdup(canon)))
						return -1;
				}
			}
		}
	}
	return c->errors == before ? 0 : -1;
}

int fault_dns_config_check(struct check *c, json_t *obj, const char *ptr)
{
	return dns_block_walk(c, obj, ptr, NULL);
}

int fault_dns_config_build(json_t *obj, uint64_t seed, struct dns_config **out, struct err *err)
{
	struct dns_config *cfg = calloc(1, sizeof(*cfg));
	struct diags d;
	struct check c;
	int rc = -EINVAL;

	diags_init(&d);
	check_init(&c, "dns", NULL, 0, &d);
	if (!cfg) {
		rc = err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (dns_block_walk(&c, obj, "/dns", cfg) < 0 || c.errors) {
		if (d.n)
			err_set(err, -EINVAL, "%s: %s", d.v[0].ptr, d.v[0].msg);
		else
			err_set(err, -ENOMEM, "out of memory");
		rc = d.n ? -EINVAL : -ENOMEM;
		goto out;
	}
	cfg->seed = seed;
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	dns_config_free(cfg);
	diags_cleanup(&d);
	return rc;
}

/* ---- the fault kinds ---- */

struct fault_dns_params {
	enum dns_action action;
	char **names;          /* NULL when the names come from the region */
	size_t nnames;
	char *region;
	uint16_t *types;
	size_t ntypes;
	double probability;
	uint32_t ttl;
	uint64_t delay_us;
	uint8_t (*v4)[4];
	size_t nv4;
	uint8_t (*v6)[16];
	size_t nv6;
};

static void fault_dns_free(void *params)
{
	struct fault_dns_params *fp = params;
	size_t i;

	if (!fp)
		return;
	for (i = 0; i < fp->nnames; i++)
		free(fp->names[i]);
	free(fp->names);
	free(fp->region);
	free(fp->types);
	free(fp->v4);
	free(fp->v6);
	free(fp);
}

struct fault_dns_walk {
	struct check *c;
	const char *ptr;
	json_t *v;
	struct fault_dns_params *fp;
};

static int fault_dns_pattern_one(void *arg, size_t i, const char *s)
{
	struct fault_dns_walk *w = arg;
	char p[CHECK_PTR_MAX];

	fault_dns_elem_ptr(p, w->ptr, w->v, i);
	if (fault_dns_name(w->c, p, s, 1) < 0)
		return -1;
	w->fp->names[w->fp->nnames] = strdup(s);
	if (!w->fp->names[w->fp->nnames])
		return -1;
	w->fp->nnames++;
	return 0;
}

static int fault_dns_type_one(void *arg, size_t i, const char *s)
{
	struct fault_dns_walk *w = arg;
	char p[CHECK_PTR_MAX];
	uint16_t t;

	fault_dns_elem_ptr(p, w->ptr, w->v, i);
	if (dnsmsg_type_parse(s, &t) < 0 || t == DNSMSG_TYPE_OPT) {
		check_error(w->c, p, 0, "\"%s\" is not a query type (\"A\", \"AAAA\", \"TYPE65\", ...)",
			    s);
		return -1;
	}
	w->fp->types[w->fp->ntypes++] = t;
	return 0;
}

static int fault_dns_validate(struct check *c, const struct scenario *sc, json_t *obj,
			      const char *ptr, void **params, enum dns_action action)
{
	struct fault_dns_params *fp = calloc(1, sizeof(*fp));
	char p[CHECK_PTR_MAX];
	size_t before = c->errors;
	const char *region = NULL;
	json_t *v;

	if (!fp)
		return -1;
	fp->action = action;
	fp->probability = 1.0;
	if (check_string(c, obj, ptr, "region", 0, &region) == 1) {
		fp->region = strdup(region);
		if (sc) {
			const struct region *r = scenario_region(sc, region);

			if (r && r->nnames == 0)
				check_error(c, check_ptr(p, ptr, "region"), 0,
					    "region \"%s\" has no \"names\" for a DNS fault to match",
					    region);
		}
	}
	if (check_strings(c, obj, ptr, "names", 0, &v) == 1) {
		struct fault_dns_walk w = { c, check_ptr(p, ptr, "names"), v, fp };
		size_t n = json_is_array(v) ? json_array_size(v) : 1;

		if (n == 0) {
			check_error(c, p, 0, "needs at least one name pattern");
		} else {
			fp->names = calloc(n, sizeof(*fp->names));
			if (fp->names)
				fault_dns_each(v, fault_dns_pattern_one, &w);
		}
		if (region)
			check_error(c, p, 1, "give either \"names\" or \"region\", not both");
	} else if (!region && !json_object_get(obj, "names")) {
		check_error(c, ptr, 0, "a DNS fault needs \"names\" (patterns such as "
			    "\"*.use1.example\") or a \"region\" with names");
	}
	if (check_strings(c, obj, ptr, "types", 0, &v) == 1) {
		struct fault_dns_walk w = { c, check_ptr(p, ptr, "types"), v, fp };
		size_t n = json_is_array(v) ? json_array_size(v) : 1;

		fp->types = calloc(n + 1, sizeof(*fp->types));
		if (fp->types)
			fault_dns_each(v, fault_dns_type_one, &w);
	}
	check_probability(c, obj, ptr, "probability", 0, &fp->probability);
	fault_dns_ttl(c, obj, ptr, "ttl", &fp->ttl);
	if (action == DNS_ACTION_DELAY &&
	    check_duration(c, obj, ptr, "delay", 1, &fp->delay_us) == 1 && fp->delay_us == 0)
		check_error(c, check_ptr(p, ptr, "delay"), 0, "must be above zero");
	if (action == DNS_ACTION_REDIRECT && check_strings(c, obj, ptr, "address", 1, &v) == 1) {
		struct fault_dns_addrs a = { c, check_ptr(p, ptr, "address"), v, NULL, 0, NULL, 0,
					     0, NULL };

		fault_dns_each(v, fault_dns_addr_one, &a);
		fp->v4 = a.v4;
		fp->nv4 = a.nv4;
		fp->v6 = a.v6;
		fp->nv6 = a.nv6;
		if (a.nv4 + a.nv6 == 0 && c->errors == before)
			check_error(c, p, 0, "needs at least one address");
	}
	if (c->errors != before) {
		fault_dns_free(fp);
		return -1;
	}
	*params = fp;
	return 0;
}

#define FAULT_DNS_VALIDATE(fn, action)                                                  \
	static int fn(struct check *c, const struct scenario *sc, json_t *obj,           \
		      const char *ptr, void **params)                                    \
	{                                                                                \
		return fault_dns_validate(c, sc, obj, ptr, params, action);              \
	}

FAULT_DNS_VALIDATE(fault_dns_validate_nxdomain, DNS_ACTION_NXDOMAIN)
FAULT_DNS_VALIDATE(fault_dns_validate_servfail, DNS_ACTION_SERVFAIL)
FAULT_DNS_VALIDATE(fault_dns_validate_refused, DNS_ACTION_REFUSED)
FAULT_DNS_VALIDATE(fault_dns_validate_timeout, DNS_ACTION_TIMEOUT)
FAULT_DNS_VALIDATE(fault_dns_validate_sinkhole, DNS_ACTION_SINKHOLE)
FAULT_DNS_VALIDATE(fault_dns_validate_redirect, DNS_ACTION_REDIRECT)
FAULT_DNS_VALIDATE(fault_dns_validate_delay, DNS_ACTION_DELAY)
FAULT_DNS_VALIDATE(fault_dns_validate_truncate, DNS_ACTION_TRUNCATE)

static int fault_dns_apply(struct fault_env *env, struct fault *f, struct err *err)
{
	const struct fault_dns_params *fp = f->params;
	const char *region = f->region ? f->region : fp->region;
	const char *const *names = (const char *const *)fp->names;
	size_t nnames = fp->nnames;
	struct dns_rule r;
	int id;

	if (!env->dns)
		return err_set(err, -ENOENT, "%s: no DNS server is running (add a \"dns\" block to "
			       "the scenario or the lab)", f->ops->kind);
	if (!names && region) {
		const struct region *rg = env->sc ? scenario_region(env->sc, region) : NULL;

		if (!rg || rg->nnames == 0)
			return err_set(err, -EINVAL, "%s: region \"%s\" has no DNS names",
				       f->ops->kind, region);
		names = (const char *const *)rg->names;
		nnames = rg->nnames;
	}
	memset(&r, 0, sizeof(r));
	r.action = fp->action;
	r.names = names;
	r.nnames = nnames;
	r.types = fp->types;
	r.ntypes = fp->ntypes;
	r.probability = fp->probability;
	r.ttl = fp->ttl;
	r.delay_us = fp->delay_us;
	r.v4 = (const uint8_t (*)[4])fp->v4;
	r.nv4 = fp->nv4;
	r.v6 = (const uint8_t (*)[16])fp->v6;
	r.nv6 = fp->nv6;
	id = dns_server_rule_add(env->dns, &r, err);
	if (id < 0)
		return err_prefix(err, "%s: ", f->ops->kind);
	f->state = (void *)(intptr_t)id;
	return 0;
}

static int fault_dns_revert(struct fault_env *env, struct fault *f, struct err *err)
{
	int id = (int)(intptr_t)f->state;

	f->state = NULL;
	if (!env->dns || id <= 0)
		return 0;
	if (dns_server_rule_del(env->dns, id) < 0)
		return err_set(err, -ENOENT, "%s: rule %d was already gone", f->ops->kind, id);
	return 0;
}

static const char *const fault_dns_keys[] = { "names", "types", "probability", "ttl", NULL };
static const char *const fault_dns_keys_redirect[] = { "names", "types", "probability", "ttl",
						       "address", NULL };
static const char *const fault_dns_keys_delay[] = { "names", "types", "probability", "ttl",
						    "delay", NULL };

#define FAULT_DNS_KIND(var, name, sum, vfn, klist)                                       \
	static const struct fault_ops var = {                                             \
		.kind = name,                                                             \
		.summary = sum,                                                           \
		.needs = FAULT_NEEDS_DNS,                                                 \
		.keys = klist,                                                            \
		.validate = vfn,                                                          \
		.apply = fault_dns_apply,                                                 \
		.revert = fault_dns_revert,                                               \
		.free_params = fault_dns_free,                                            \
	};

FAULT_DNS_KIND(fault_dns_nxdomain, "dns.nxdomain",
	       "matching names do not exist (NXDOMAIN, negative TTL from \"ttl\")",
	       fault_dns_validate_nxdomain, fault_dns_keys)
FAULT_DNS_KIND(fault_dns_servfail, "dns.servfail", "matching names fail to resolve (SERVFAIL)",
	       fault_dns_validate_servfail, fault_dns_keys)
FAULT_DNS_KIND(fault_dns_refused, "dns.refused", "the server refuses matching names (REFUSED)",
	       fault_dns_validate_refused, fault_dns_keys)
FAULT_DNS_KIND(fault_dns_timeout, "dns.timeout", "queries for matching names get no answer",
	       fault_dns_validate_timeout, fault_dns_keys)
FAULT_DNS_KIND(fault_dns_sinkhole, "dns.sinkhole",
	       "matching names resolve to 0.0.0.0 and ::", fault_dns_validate_sinkhole,
	       fault_dns_keys)
FAULT_DNS_KIND(fault_dns_redirect, "dns.redirect",
	       "matching names resolve to \"address\" instead", fault_dns_validate_redirect,
	       fault_dns_keys_redirect)
FAULT_DNS_KIND(fault_dns_delay, "dns.delay", "answers for matching names come \"delay\" late",
	       fault_dns_validate_delay, fault_dns_keys_delay)
FAULT_DNS_KIND(fault_dns_truncate, "dns.truncate",
	       "UDP answers for matching names are truncated (TC), forcing TCP",
	       fault_dns_validate_truncate, fault_dns_keys)

const struct fault_ops *const fault_dns_kinds[] = {
	&fault_dns_nxdomain,
	&fault_dns_servfail,
	&fault_dns_refused,
	&fault_dns_timeout,
	&fault_dns_sinkhole,
	&fault_dns_redirect,
	&fault_dns_delay,
	&fault_dns_truncate,
	NULL,
};
