/*
 * fault_rpc: the rpc.* fault kinds and the "rpc" proxies block.
 * See fault_rpc.h and docs/rpc.md.
 *
 * Validation turns a fault's JSON into a struct rpc_rule (the injector's
 * plain rule type) without touching the system; apply hands that rule to the
 * named proxy and keeps the rule id, revert removes it. Every kind shares
 * the matcher keys; each adds its own action keys.
 */
#include "runner/fault_rpc.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/jptr.h"
#include "injector/rpcpreset.h"
#include "injector/upstream.h"
#include "runner/scenario.h"

struct fault_rpc_params {
	char *upstream;
	struct rpc_rule rule;
};

#define FAULT_RPC_MATCH_KEYS \
	"upstream", "method", "params", "params_match", "batch_index", "probability", \
	"first", "every_nth", "after", "until"

static const char *const fault_rpc_keys_status[] = {
	FAULT_RPC_MATCH_KEYS, "status", "headers", "body", "error", "preset", NULL,
};
static const char *const fault_rpc_keys_error[] = {
	FAULT_RPC_MATCH_KEYS, "status", "headers", "error", "preset", NULL,
};
static const char *const fault_rpc_keys_delay[] = { FAULT_RPC_MATCH_KEYS, "delay", NULL };
static const char *const fault_rpc_keys_plain[] = { FAULT_RPC_MATCH_KEYS, NULL };
static const char *const fault_rpc_keys_truncate[] = { FAULT_RPC_MATCH_KEYS, "bytes", NULL };
static const char *const fault_rpc_keys_rate[] = {
	FAULT_RPC_MATCH_KEYS, "rps", "burst", "respond", "preset", NULL,
};
static const char *const fault_rpc_keys_override[] = { FAULT_RPC_MATCH_KEYS, "set", NULL };
static const char *const fault_rpc_keys_stale[] = { FAULT_RPC_MATCH_KEYS, "lag", NULL };
static const char *const fault_rpc_keys_chain[] = { FAULT_RPC_MATCH_KEYS, "chain_id", NULL };

static const char *const fault_rpc_respond_keys[] = {
	"status", "headers", "body", "error", "jsonrpc_error", "preset", NULL,
};

/* Header names are tokens; values have no line breaks. Appends "Name: value\r\n". */
static int fault_rpc_headers(struct check *c, json_t *hdrs, const char *ptr, char **out)
{
	const char *name;
	json_t *val;
	struct buf b;
	int bad = 0;

	buf_init(&b, 64 * 1024);
	json_object_foreach(hdrs, name, val) {
		char p[CHECK_PTR_MAX];
		const char *s, *q;

		check_ptr(p, ptr, name);
		if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789!#$%&'*+-.^_`|~") != strlen(name)) {
			check_error(c, p, 1, "\"%s\" is not a valid header name", name);
			bad = 1;
			continue;
		}
		if (!json_is_string(val)) {
			check_error(c, p, 0, "expected a string, found %s", check_type_name(val));
			bad = 1;
			continue;
		}
		s = json_string_value(val);
		for (q = s; *q; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				break;
		if (*q) {
			check_error(c, p, 0, "header value has a control character");
			bad = 1;
			continue;
		}
		if (buf_printf(&b, "%s: %s\r\n", name, s)) {
			check_error(c, p, 0, "headers are too large");
			bad = 1;
		}
	}
	if (bad) {
		buf_cleanup(&b);
		return -1;
	}
	*out = buf_steal(&b);
	buf_cleanup(&b);
	return *out ? 0 : -1;
}

static int fault_rpc_error_obj(struct check *c, json_t *obj, const char *ptr, const char *key,
			       json_t **out)
{
	char p[CHECK_PTR_MAX];
	json_t *e = NULL;
	const char *msg;
	json_t *code;
	int rc = check_object(c, obj, ptr, key, 0, &e);

	if (rc <= 0)
		return rc;
	check_ptr(p, ptr, key);
	code = json_object_get(e, "code");
	if (!json_is_integer(code)) {
		check_error(c, code ? check_ptr(p, p, "code") : p, 0,
			    "a JSON-RPC error needs an integer \"code\"");
		return -1;
	}
	if (check_string(c, e, p, "message", 1, &msg) < 0)
		return -1;
	*out = json_deep_copy(e);
	return *out ? 1 : -1;
}

/*
 * A made-up answer from obj: "preset" first, then explicit keys on top.
 * need_error: rpc.error (an error object is required).
 */
static int fault_rpc_response(struct check *c, json_t *obj, const char *ptr,
			      struct rpc_response *r, int need_error)
{
	const char *preset = NULL;
	json_t *v = NULL, *hdrs = NULL;
	char p[CHECK_PTR_MAX];
	uint64_t status;
	int rc, bad = 0, have_status = 0;

	if ((rc = check_string(c, obj, ptr, "preset", 0, &preset)) < 0)
		bad = 1;
	if (rc > 0) {
		const struct rpc_preset *ps = rpc_preset_find(preset);

		if (!ps) {
			const char *names[64];
			size_t i;

			for (i = 0; i < 63 && rpc_preset_at(i); i++)
				names[i] = rpc_preset_at(i)->name;
			names[i] = NULL;
			check_ptr(p, ptr, "preset");
			if (check_suggest(preset, names))
				check_error(c, p, 0, "unknown preset \"%s\" (did you mean \"%s\"?)",
					    preset, check_suggest(preset, names));
			else
				check_error(c, p, 0, "unknown preset \"%s\" (see docs/rpc.md)", preset);
			bad = 1;
		} else if (rpc_preset_response(ps, r, NULL)) {
			check_error(c, ptr, 0, "out of memory");
			return -1;
		}
		if (ps && need_error && !r->error) {
			check_ptr(p, ptr, "preset");
			check_error(c, p, 0, "preset \"%s\" is not a JSON-RPC error; use rpc.status",
				    preset);
			bad = 1;
		}
	}
	rc = check_uint(c, obj, ptr, "status", 0, 100, 999, &status);
	if (rc < 0)
		bad = 1;
	else if (rc > 0) {
		r->status = (int)status;
		have_status = 1;
	}
	rc = check_object(c, obj, ptr, "headers", 0, &hdrs);
	if (rc < 0) {
		bad = 1;
	} else if (rc > 0) {
		free(r->headers);
		r->headers = NULL;
		if (fault_rpc_headers(c, hdrs, check_ptr(p, ptr, "headers"), &r->headers))
			bad = 1;
	}
	v = json_object_get(obj, "body");
	if (v) {
		free(r->body);
		if (json_is_string(v)) {
			r->body_len = json_string_length(v);
			r->body = malloc(r->body_len + 1);
			if (r->body)
				memcpy(r->body, json_string_value(v), r->body_len + 1);
		} else {
			r->body = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			r->body_len = r->body ? strlen(r->body) : 0;
		}
		json_decref(r->error);
		r->error = NULL;
	}
	{
		json_t *e = NULL;
		const char *key = json_object_get(obj, "jsonrpc_error") ? "jsonrpc_error" : "error";

		rc = fault_rpc_error_obj(c, obj, ptr, key, &e);
		if (rc < 0) {
			bad = 1;
		} else if (rc > 0) {
			json_decref(r->error);
			r->error = e;
			if (v) {
				check_ptr(p, ptr, "body");
				check_error(c, p, 1, "give either \"body\" or \"%s\", not both", key);
				bad = 1;
			}
		}
	}
	if (!bad && need_error && !r->error) {
		check_error(c, ptr, 0, "missing required key \"error\" (or a \"preset\")");
		bad = 1;
	}
	if (!bad && !need_error && !have_status && !preset && !r->error && !r->body) {
		check_error(c, ptr, 0, "give a \"status\", a \"body\", an \"error\" or a \"preset\"");
		bad = 1;
	}
	if (!r->status)
		r->status = 200;
	return bad ? -1 : 0;
}

static int fault_rpc_matchers(struct check *c, const struct scenario *sc, json_t *obj,
			      const char *ptr, struct fault_rpc_params *fp)
{
	struct rpc_rule *r = &fp->rule;
	const char *s = NULL;
	json_t *o = NULL;
	char p[CHECK_PTR_MAX];
	uint64_t u;
	int bad = 0, rc;

	if (check_string(c, obj, ptr, "upstream", 1, &s) < 0) {
		bad = 1;
	} else {
		if (sc && sc->rpc && !sc->lab_file && !json_object_get(sc->rpc, s)) {
			check_ptr(p, ptr, "upstream");
			check_error(c, p, 0, "no RPC proxy called \"%s\" in the \"rpc\" block", s);
			bad = 1;
		}
		fp->upstream = strdup(s);
	}
	if ((rc = check_string(c, obj, ptr, "method", 0, &s)) < 0)
		bad = 1;
	else if (rc > 0)
		r->method = strdup(s);
	if (check_probability(c, obj, ptr, "probability", 0, &r->probability) < 0)
		bad = 1;
	if ((rc = check_uint(c, obj, ptr, "batch_index", 0, 0, 1000000, &u)) < 0)
		bad = 1;
	else if (rc > 0)
		r->batch_index = (long)u;
	if (check_uint(c, obj, ptr, "first", 0, 1, UINT32_MAX, &r->first) < 0)
		bad = 1;
	if (check_uint(c, obj, ptr, "every_nth", 0, 1, UINT32_MAX, &r->every_nth) < 0)
		bad = 1;
	if (check_duration(c, obj, ptr, "after", 0, &r->after_us) < 0)
		bad = 1;
	if (check_duration(c, obj, ptr, "until", 0, &r->until_us) < 0)
		bad = 1;
	if (r->until_us && r->until_us <= r->after_us) {
		check_error(c, check_ptr(p, ptr, "until"), 0, "\"until\" must be later than \"after\"");
		bad = 1;
	}
	/* params: {"/0": value} equality; params_match: {"/0": "regex"} */
	for (int pass = 0; pass < 2; pass++) {
		const char *key = pass ? "params_match" : "params", *jp;
		json_t *val;

		if ((rc = check_object(c, obj, ptr, key, 0, &o)) < 0) {
			bad = 1;
			continue;
		}
		if (rc == 0)
			continue;
		json_object_foreach(o, jp, val) {
			struct rpc_param_match *m, *nv;
			struct err e;

			check_ptr(p, check_ptr(p, ptr, key), jp);
			if (jptr_check(jp, &e)) {
				check_error(c, p, 1, "%s", e.msg);
				bad = 1;
				continue;
			}
			if (pass && !json_is_string(val)) {
				check_error(c, p, 0, "expected a regular expression string, found %s",
					    check_type_name(val));
				bad = 1;
				continue;
			}
			nv = realloc(r->params, (r->nparams + 1) * sizeof(*nv));
			if (!nv) {
				bad = 1;
				break;
			}
			r->params = nv;
			m = &r->params[r->nparams++];
			memset(m, 0, sizeof(*m));
			m->ptr = strdup(jp);
			if (pass)
				m->matches = strdup(json_string_value(val));
			else
				m->equals = json_incref(val);
			if (pass) {
				struct rpc_rule one;

				/* compile now so a bad pattern is reported here, at its place */
				rpc_rule_init(&one);
				one.params = m;
				one.nparams = 1;
				if (rpc_rule_compile(&one, &e)) {
					check_error(c, p, 0, "%s", e.msg);
					bad = 1;
				}
			}
		}
	}
	return bad ? -1 : 0;
}

static void fault_rpc_free(void *params)
{
	struct fault_rpc_params *fp = params;

	if (!fp)
		return;
	free(fp->upstream);
	rpc_rule_cleanup(&fp->rule);
	free(fp);
}

static int fault_rpc_kind_action(const char *kind, enum rpc_action *out)
{
	int a;

	if (strncmp(kind, "rpc.", 4) != 0)
		return -1;
	for (a = 0; a < RPC_ACT_COUNT_; a++) {
		if (strcmp(kind + 4, rpc_action_name((enum rpc_action)a)) == 0) {
			*out = (enum rpc_action)a;
			return 0;
		}
	}
	return -1;
}

static int fault_rpc_validate(struct check *c, const struct scenario *sc, json_t *obj,
			      const char *ptr, void **params)
{
	struct fault_rpc_params *fp = calloc(1, sizeof(*fp));
	json_t *kindv = json_object_get(obj, "kind"), *o = NULL;
	struct rpc_rule *r;
	char p[CHECK_PTR_MAX];
	int bad = 0, rc;
	uint64_t u;

	if (!fp) {
		check_error(c, ptr, 0, "out of memory");
		return -1;
	}
	r = &fp->rule;
	rpc_rule_init(r);
	if (!json_is_string(kindv) || fault_rpc_kind_action(json_string_value(kindv), &r->action)) {
		check_error(c, ptr, 0, "not an rpc.* fault");
		fault_rpc_free(fp);
		return -1;
	}
	if (fault_rpc_matchers(c, sc, obj, ptr, fp))
		bad = 1;
	switch (r->action) {
	case RPC_ACT_STATUS:
		if (fault_rpc_response(c, obj, ptr, &r->resp, 0))
			bad = 1;
		break;
	case RPC_ACT_ERROR:
		if (fault_rpc_response(c, obj, ptr, &r->resp, 1))
			bad = 1;
		break;
	case RPC_ACT_DELAY:
		if (check_duration(c, obj, ptr, "delay", 1, &r->delay_us) < 0)
			bad = 1;
		break;
	case RPC_ACT_TRUNCATE:
		if (check_uint(c, obj, ptr, "bytes", 1, 0, 1u << 30, &u) < 0)
			bad = 1;
		else
			r->bytes = (size_t)u;
		break;
	case RPC_ACT_RATE_LIMIT:
		if (check_number(c, obj, ptr, "rps", 1, 0.0, 1e9, &r->rps) < 0)
			bad = 1;
		r->burst = r->rps < 1.0 ? 1.0 : r->rps;
		if (check_number(c, obj, ptr, "burst", 0, 1.0, 1e9, &r->burst) < 0)
			bad = 1;
		rc = check_object(c, obj, ptr, "respond", 0, &o);
		if (rc < 0) {
			bad = 1;
		} else if (rc > 0) {
			if (json_object_get(obj, "preset")) {
				check_error(c, check_ptr(p, ptr, "preset"), 1,
					    "give either \"preset\" or \"respond\", not both");
				bad = 1;
			}
			check_ptr(p, ptr, "respond");
			if (check_keys(c, o, p, fault_rpc_respond_keys) ||
			    fault_rpc_response(c, o, p, &r->resp, 0))
				bad = 1;
		} else if (json_object_get(obj, "preset")) {
			if (fault_rpc_response(c, obj, ptr, &r->resp, 0))
				bad = 1;
		} else if (rpc_preset_response(rpc_preset_find("infura-rate-limit"), &r->resp,
					       NULL)) {
			bad = 1;
		}
		break;
	case RPC_ACT_OVERRIDE: {
		const char *jp;
		json_t *val;

		if (check_object(c, obj, ptr, "set", 1, &o) < 0) {
			bad = 1;
			break;
		}
		if (json_object_size(o) == 0) {
			check_error(c, check_ptr(p, ptr, "set"), 0,
				    "\"set\" needs at least one \"/pointer/in/result\": value");
			bad = 1;
		}
		json_object_foreach(o, jp, val) {
			struct err e;

			(void)val;
			if (jptr_check(jp, &e)) {
				check_ptr(p, check_ptr(p, ptr, "set"), jp);
				check_error(c, p, 1, "%s", e.msg);
				bad = 1;
			}
		}
		r->set = json_deep_copy(o);
		break;
	}
	case RPC_ACT_STALE_HEAD:
		if (check_uint(c, obj, ptr, "lag", 0, 0, 1000000000, &r->lag) < 0)
			bad = 1;
		break;
	case RPC_ACT_CHAIN_ID:
		if (check_uint(c, obj, ptr, "chain_id", 1, 1, UINT64_MAX / 2, &r->chain_id) < 0)
			bad = 1;
		break;
	default:
		break;
	}
	if (!bad) {
		struct err e;

		if (rpc_rule_compile(r, &e)) {
			check_error(c, ptr, 0, "%s", e.msg);
			bad = 1;
		}
	}
	if (bad) {
		fault_rpc_free(fp);
		return -1;
	}
	*params = fp;
	return 0;
}

static int fault_rpc_apply(struct fault_env *env, struct fault *f, struct err *err)
{
	struct fault_rpc_params *fp = f->params;
	struct rpc_proxy *p = env->rpc_find ? env->rpc_find(env, fp->upstream) : NULL;
	int id;

	if (!p)
		return err_set(err, -ENOENT, "%s: no RPC proxy called \"%s\" is running",
			       f->ops->kind, fp->upstream);
	rpc_proxy_set_seed(p, env->seed);
	id = rpc_proxy_rule_add(p, &fp->rule, err);
	if (id < 0)
		return id;
	f->state = (void *)(intptr_t)id;
	return 0;
}

static int fault_rpc_revert(struct fault_env *env, struct fault *f, struct err *err)
{
	struct fault_rpc_params *fp = f->params;
	struct rpc_proxy *p = env->rpc_find ? env->rpc_find(env, fp->upstream) : NULL;
	int id = (int)(intptr_t)f->state;

	f->state = NULL;
	if (!p)
		return err_set(err, -ENOENT, "%s: RPC proxy \"%s\" is gone", f->ops->kind,
			       fp->upstream);
	if (rpc_proxy_rule_del(p, id))
		return err_set(err, -ENOENT, "%s: rule %d not active on \"%s\"", f->ops->kind, id,
			       fp->upstream);
	return 0;
}

#define FAULT_RPC_KIND(sym, name, text, keylist) \
	static const struct fault_ops sym = { \
		.kind = name, .summary = text, .needs = FAULT_NEEDS_RPC, .keys = keylist, \
		.validate = fault_rpc_validate, .apply = fault_rpc_apply, \
		.revert = fault_rpc_revert, .free_params = fault_rpc_free, \
	}

FAULT_RPC_KIND(fault_rpc_status, "rpc.status",
	       "answer matching requests with an HTTP status, headers and body",
	       fault_rpc_keys_status);
FAULT_RPC_KIND(fault_rpc_error, "rpc.error",
	       "answer matching calls with a JSON-RPC error object", fault_rpc_keys_error);
FAULT_RPC_KIND(fault_rpc_delay, "rpc.delay", "answer matching requests late",
	       fault_rpc_keys_delay);
FAULT_RPC_KIND(fault_rpc_hang, "rpc.hang", "never answer matching requests",
	       fault_rpc_keys_plain);
FAULT_RPC_KIND(fault_rpc_reset, "rpc.reset", "reset the connection (TCP RST)",
	       fault_rpc_keys_plain);
FAULT_RPC_KIND(fault_rpc_close, "rpc.close", "close the connection without an answer",
	       fault_rpc_keys_plain);
FAULT_RPC_KIND(fault_rpc_truncate, "rpc.truncate", "cut the real answer after N body bytes",
	       fault_rpc_keys_truncate);
FAULT_RPC_KIND(fault_rpc_rate_limit, "rpc.rate_limit",
	       "token bucket; over the limit answer like a rate-limited provider",
	       fault_rpc_keys_rate);
FAULT_RPC_KIND(fault_rpc_override, "rpc.override",
	       "set values inside real results (e.g. a zero balance)", fault_rpc_keys_override);
FAULT_RPC_KIND(fault_rpc_stale_head, "rpc.stale_head",
	       "freeze or lag eth_blockNumber and \"latest\" reads", fault_rpc_keys_stale);
FAULT_RPC_KIND(fault_rpc_null_receipt, "rpc.null_receipt",
	       "eth_getTransactionReceipt answers null (pending forever)", fault_rpc_keys_plain);
FAULT_RPC_KIND(fault_rpc_chain_id, "rpc.chain_id",
	       "eth_chainId and net_version of another chain", fault_rpc_keys_chain);
FAULT_RPC_KIND(fault_rpc_batch_drop, "rpc.batch_drop",
	       "leave matching calls out of batch answers", fault_rpc_keys_plain);
FAULT_RPC_KIND(fault_rpc_batch_reorder, "rpc.batch_reorder",
	       "answer batches in reverse order", fault_rpc_keys_plain);
FAULT_RPC_KIND(fault_rpc_batch_null_id, "rpc.batch_null_id",
	       "answer matching batch calls with id null", fault_rpc_keys_plain);

const struct fault_ops *const fault_rpc_kinds[] = {
	&fault_rpc_status, &fault_rpc_error, &fault_rpc_delay, &fault_rpc_hang,
	&fault_rpc_reset, &fault_rpc_close, &fault_rpc_truncate, &fault_rpc_rate_limit,
	&fault_rpc_override, &fault_rpc_stale_head, &fault_rpc_null_receipt,
	&fault_rpc_chain_id, &fault_rpc_batch_drop, &fault_rpc_batch_reorder,
	&fault_rpc_batch_null_id, NULL,
};

const struct rpc_rule *fault_rpc_rule(const struct fault *f)
{
	if (!f || !f->ops || f->ops->validate != fault_rpc_validate || !f->params)
		return NULL;
	return &((const struct fault_rpc_params *)f->params)->rule;
}

const char *fault_rpc_upstream(const struct fault *f)
{
	if (!fault_rpc_rule(f))
		return NULL;
	return ((const struct fault_rpc_params *)f->params)->upstream;
}

/* ---- the "rpc" block ---- */

static const char *const fault_rpc_proxy_keys[] = {
	"listen", "netns", "upstream", "hosts", "on_upstream_down", "max_header", "max_body",
	"max_conns", "max_response", "idle_timeout", "request_timeout", "upstream_timeout",
	"upstream_client", NULL,
};
static const char *const fault_rpc_down_modes[] = { "mirror", "502", NULL };
/* in the order of enum rpc_upstream_client */
static const char *const fault_rpc_clients[] = { "auto", "curl", "native", NULL };

/* Fill (or, with cfg NULL, only check) one proxy entry. */
static int fault_rpc_entry(struct check *c, json_t *e, const char *p, const char *name,
			   struct rpc_proxy_config *cfg)
{
	const char *listen = NULL, *up = NULL, *ns = NULL;
	json_t *hosts = NULL;
	char q[CHECK_PTR_MAX];
	uint64_t u;
	int mode = 0, client = 0, bad = 0, rc;

	if (check_keys(c, e, p, fault_rpc_proxy_keys))
		bad = 1;
	if (check_string(c, e, p, "listen", 1, &listen) < 0) {
		bad = 1;
	} else {
		const char *colon = strrchr(listen, ':');
		char *end;
		unsigned long port;

		port = colon ? strtoul(colon + 1, &end, 10) : 0;
		if (!colon || colon == listen || !colon[1] || *end || port > 65535) {
			check_error(c, check_ptr(q, p, "listen"), 0,
				    "\"%s\" is not an address with a port (\"127.0.0.1:8545\", "
				    "\"[::1]:8545\")", listen);
			bad = 1;
		}
	}
	if (check_string(c, e, p, "upstream", 1, &up) < 0) {
		bad = 1;
	} else if (strncmp(up, "http://", 7) != 0 && strncmp(up, "https://", 8) != 0) {
		check_error(c, check_ptr(q, p, "upstream"), 0,
			    "\"%s\" is not an http:// or https:// URL", up);
		bad = 1;
	}
	if (check_string(c, e, p, "netns", 0, &ns) < 0)
		bad = 1;
	if (check_enum(c, e, p, "on_upstream_down", 0, fault_rpc_down_modes, &mode) < 0)
		bad = 1;
	if (check_enum(c, e, p, "upstream_client", 0, fault_rpc_clients, &client) < 0) {
		bad = 1;
	} else if (client == RPC_CLIENT_NATIVE && up && !upstream_url_ok(up)) {
		check_error(c, check_ptr(q, p, "upstream_client"), 0,
			    "\"native\" needs an http:// upstream with a numeric address "
			    "(\"http://10.77.5.10:8545\"); \"%s\" is not one", up);
		bad = 1;
	}
	if (cfg) {
		rpc_proxy_config_default(cfg);
		cfg->name = name;
		cfg->listen = listen;
		cfg->upstream = up;
		cfg->netns = ns;
		cfg->on_down = mode == 1 ? RPC_DOWN_502 : RPC_DOWN_MIRROR;
		cfg->client = (enum rpc_upstream_client)client;
	}
	if ((rc = check_strings(c, e, p, "hosts", 0, &hosts)) < 0) {
		bad = 1;
	} else if (rc > 0) {
		size_t n = json_is_array(hosts) ? json_array_size(hosts) : 1, i;

		if (n > RPC_HOSTS_MAX || n == 0) {
			check_error(c, check_ptr(q, p, "hosts"), 0, "give 1 to %d host names",
				    RPC_HOSTS_MAX);
			bad = 1;
		}
		for (i = 0; i < n && i < RPC_HOSTS_MAX; i++) {
			json_t *h = json_is_array(hosts) ? json_array_get(hosts, i) : hosts;
			const char *s = json_string_value(h);

			if (!*s || strpbrk(s, ":/ []@")) {
				check_error(c, check_ptr_index(q, check_ptr(q, p, "hosts"), i), 0,
					    "\"%s\" is not a host name (no port, no brackets)", s);
				bad = 1;
			} else if (cfg) {
				cfg->hosts[i] = s;
			}
		}
	}
#define FAULT_RPC_SIZE(key, field, lo, hi) \
	do { \
		rc = check_size(c, e, p, key, 0, &u); \
		if (rc < 0 || (rc > 0 && (u < (lo) || u > (hi)))) { \
			if (rc > 0) \
				check_error(c, check_ptr(q, p, key), 0, \
					    "must be between %llu and %llu bytes", \
					    (unsigned long long)(lo), (unsigned long long)(hi)); \
			bad = 1; \
		} else if (rc > 0 && cfg) { \
			field = (size_t)u; \
		} \
	} while (0)
	FAULT_RPC_SIZE("max_header", cfg->limits.max_head, 1024, 1024 * 1024);
	FAULT_RPC_SIZE("max_body", cfg->limits.max_body, 1024, 256ULL * 1024 * 1024);
	FAULT_RPC_SIZE("max_response", cfg->max_response, 1024, 1024ULL * 1024 * 1024);
#undef FAULT_RPC_SIZE
	if ((rc = check_uint(c, e, p, "max_conns", 0, 1, 1000000, &u)) < 0)
		bad = 1;
	else if (rc > 0 && cfg)
		cfg->max_conns = (size_t)u;
	if ((rc = check_duration(c, e, p, "idle_timeout", 0, &u)) < 0)
		bad = 1;
	else if (rc > 0 && cfg)
		cfg->idle_timeout_us = u;
	if ((rc = check_duration(c, e, p, "request_timeout", 0, &u)) < 0)
		bad = 1;
	else if (rc > 0 && cfg)
		cfg->request_timeout_us = u;
	if ((rc = check_duration(c, e, p, "upstream_timeout", 0, &u)) < 0)
		bad = 1;
	else if (rc > 0 && cfg)
		cfg->upstream_timeout_us = u;
	return bad ? -1 : 0;
}

int fault_rpc_config_check(struct check *c, json_t *obj, const char *ptr)
{
	const char *name;
	json_t *e;
	int bad = 0;

	if (!json_is_object(obj)) {
		check_error(c, ptr, 0, "expected an object of proxies, found %s",
			    check_type_name(obj));
		return -1;
	}
	json_object_foreach(obj, name, e) {
		char p[CHECK_PTR_MAX];

		check_ptr(p, ptr, name);
		if (!json_is_object(e)) {
			check_error(c, p, 0, "expected an object, found %s", check_type_name(e));
			bad = 1;
			continue;
		}
		if (fault_rpc_entry(c, e, p, name, NULL))
			bad = 1;
	}
	return bad ? -1 : 0;
}

int fault_rpc_config(json_t *entry, const char *name, struct rpc_proxy_config *cfg,
		     struct err *err)
{
	struct diags d;
	struct check c;
	int rc;

	diags_init(&d);
	check_init(&c, "rpc", NULL, 0, &d);
	rc = fault_rpc_entry(&c, entry, "", name, cfg);
	if (rc) {
		char line[512];

		err_set(err, -EINVAL, "rpc %s: %s", name,
			d.n ? diag_format(&d.v[0], line, sizeof(line)) : "invalid");
	}
	diags_cleanup(&d);
	return rc ? -EINVAL : 0;
}
