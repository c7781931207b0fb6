/*
 * Unit tests for the JSON-RPC side of injector/rpc (glob, rule matching,
 * body decoding, token bucket, override), injector/rpcpreset, and the rpc.*
 * fault kinds' validation in runner/fault_rpc. No sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "injector/rpc.h"
#include "injector/rpcpreset.h"
#include "injector/upstream.h"
#include "runner/check.h"
#include "runner/fault.h"
#include "runner/fault_rpc.h"

static void test_glob(void **state)
{
	(void)state;
	assert_true(rpc_glob_match("eth_*", "eth_call"));
	assert_true(rpc_glob_match("eth_*", "eth_"));
	assert_false(rpc_glob_match("eth_*", "net_version"));
	assert_true(rpc_glob_match("*", ""));
	assert_true(rpc_glob_match("eth_get?alance", "eth_getBalance"));
	assert_false(rpc_glob_match("eth_get?alance", "eth_getBBalance"));
	assert_true(rpc_glob_match("*Block*", "eth_getBlockByNumber"));
	assert_true(rpc_glob_match("a*b*c", "aXbYbZc"));
	assert_false(rpc_glob_match("a*b*c", "aXbYbZ"));
	assert_true(rpc_glob_match("eth_call", "eth_call"));
	assert_false(rpc_glob_match("eth_call", "eth_calls"));
	assert_false(rpc_glob_match("", "x"));
}

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

static void test_rule_match(void **state)
{
	struct rpc_rule r;
	json_t *p1 = J("[\"0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266\", \"latest\"]");
	json_t *p2 = J("[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"]");
	struct err e;

	(void)state;
	rpc_rule_init(&r);
	r.action = RPC_ACT_ERROR;
	assert_true(rpc_rule_match(&r, "eth_call", NULL, 0, 0));
	assert_false(rpc_rule_match(&r, NULL, NULL, 0, 0)); /* errors need a call */
	r.method = strdup("eth_get*");
	assert_true(rpc_rule_match(&r, "eth_getBalance", p1, 0, 0));
	assert_false(rpc_rule_match(&r, "eth_call", p1, 0, 0));
	/* params: hex compared case-insensitively */
	r.params = calloc(1, sizeof(*r.params));
	r.nparams = 1;
	r.params[0].ptr = strdup("/0");
	r.params[0].equals = json_string("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
	assert_true(rpc_rule_match(&r, "eth_getBalance", p1, 0, 0));
	assert_false(rpc_rule_match(&r, "eth_getBalance", p2, 0, 0));
	assert_false(rpc_rule_match(&r, "eth_getBalance", NULL, 0, 0));
	/* regex on a param */
	json_decref(r.params[0].equals);
	r.params[0].equals = NULL;
	r.params[0].ptr[1] = '1';
	r.params[0].matches = strdup("^(latest|pending)$");
	assert_int_equal(rpc_rule_compile(&r, &e), 0);
	assert_true(rpc_rule_match(&r, "eth_getBalance", p1, 0, 0));
	assert_false(rpc_rule_match(&r, "eth_getBalance", p2, 0, 0)); /* no /1 */
	/* batch position */
	r.batch_index = 2;
	assert_false(rpc_rule_match(&r, "eth_getBalance", p1, 0, 2)); /* not a batch */
	assert_false(rpc_rule_match(&r, "eth_getBalance", p1, 1, 1));
	assert_true(rpc_rule_match(&r, "eth_getBalance", p1, 1, 2));
	rpc_rule_cleanup(&r);
	json_decref(p1);
	json_decref(p2);
}

static void test_rule_implied_methods(void **state)
{
	struct rpc_rule r;
	json_t *latest = J("[\"0xabc\", \"latest\"]"), *omitted = J("[\"0xabc\"]");
	json_t *fixed = J("[\"0xabc\", \"0x10\"]"), *blk = J("[\"latest\", false]");

	(void)state;
	rpc_rule_init(&r);
	r.action = RPC_ACT_NULL_RECEIPT;
	assert_true(rpc_rule_match(&r, "eth_getTransactionReceipt", NULL, 0, 0));
	assert_false(rpc_rule_match(&r, "eth_getTransactionByHash", NULL, 0, 0));
	r.action = RPC_ACT_CHAIN_ID;
	assert_true(rpc_rule_match(&r, "eth_chainId", NULL, 0, 0));
	assert_true(rpc_rule_match(&r, "net_version", NULL, 0, 0));
	assert_false(rpc_rule_match(&r, "eth_blockNumber", NULL, 0, 0));
	r.action = RPC_ACT_STALE_HEAD;
	assert_true(rpc_rule_match(&r, "eth_blockNumber", NULL, 0, 0));
	assert_true(rpc_rule_match(&r, "eth_getBalance", latest, 0, 0));
	assert_true(rpc_rule_match(&r, "eth_getBalance", omitted, 0, 0));
	assert_false(rpc_rule_match(&r, "eth_getBalance", fixed, 0, 0));
	assert_true(rpc_rule_match(&r, "eth_getBlockByNumber", blk, 0, 0));
	assert_false(rpc_rule_match(&r, "eth_chainId", NULL, 0, 0));
	r.action = RPC_ACT_BATCH_DROP;
	assert_false(rpc_rule_match(&r, "eth_chainId", NULL, 0, 0));
	assert_true(rpc_rule_match(&r, "eth_chainId", NULL, 1, 0));
	r.action = RPC_ACT_STATUS; /* HTTP-level: also requests that are not JSON-RPC */
	assert_true(rpc_rule_match(&r, NULL, NULL, 0, 0));
	json_decref(latest);
	json_decref(omitted);
	json_decref(fixed);
	json_decref(blk);
}

static void test_match_body(void **state)
{
	struct rpc_rule a, b;
	const struct rpc_rule *rules[2] = { &a, &b };
	long out[8];
	const char *batch = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"},"
			    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_call\",\"params\":[]},"
			    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"net_version\"}]";

	(void)state;
	rpc_rule_init(&a);
	rpc_rule_init(&b);
	a.action = RPC_ACT_ERROR;
	a.method = strdup("eth_call");
	b.action = RPC_ACT_CHAIN_ID;
	assert_int_equal(rpc_match_body(batch, strlen(batch), rules, 2, out, 8), 3);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 1);
	assert_int_equal(rpc_match_body("{\"method\":\"eth_call\"}", 21, rules, 2, out, 8), 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(rpc_match_body("{\"method\":\"x\"}", 14, rules, 2, out, 8), 1);
	assert_int_equal(out[0], -1);
	assert_int_equal(rpc_match_body("<html>", 6, rules, 2, out, 8), -1);
	assert_int_equal(rpc_match_body("[1,2]", 5, rules, 2, out, 8), 2);
	assert_int_equal(out[0], -1);
	rpc_rule_cleanup(&a);
	rpc_rule_cleanup(&b);
}

/* Which answers reveal the chain head, and which do not. */
static void test_reply_head(void **state)
{
	static const struct {
		const char *method, *params, *reply;
		int reveals;
		uint64_t head;
	} v[] = {
		{ "eth_blockNumber", "[]", "{\"result\":\"0x1b4\"}", 1, 0x1b4 },
		{ "eth_blockNumber", NULL, "{\"result\":\"0x0\"}", 1, 0 },
		{ "eth_getBlockByNumber", "[\"latest\",false]",
		  "{\"result\":{\"number\":\"0x2a\",\"hash\":\"0xab\"}}", 1, 0x2a },
		{ "eth_getBlockByNumber", "[\"pending\",false]",
		  "{\"result\":{\"number\":\"0x2b\"}}", 1, 0x2a },
		{ "eth_getBlockByNumber", "[\"pending\",false]",
		  "{\"result\":{\"number\":\"0x0\"}}", 0, 0 },
		/* a block asked for by number or by another tag says nothing about the head */
		{ "eth_getBlockByNumber", "[\"0x10\",false]",
		  "{\"result\":{\"number\":\"0x10\"}}", 0, 0 },
		{ "eth_getBlockByNumber", "[\"finalized\",false]",
		  "{\"result\":{\"number\":\"0x10\"}}", 0, 0 },
		{ "eth_getBlockByHash", "[\"0xab\",false]",
		  "{\"result\":{\"number\":\"0x10\"}}", 0, 0 },
		{ "eth_getBalance", "[\"0xf39f\",\"latest\"]", "{\"result\":\"0x10\"}", 0, 0 },
		/* errors, nulls and malformed quantities fail closed */
		{ "eth_blockNumber", "[]", "{\"error\":{\"code\":-32000,\"message\":\"x\"}}", 0, 0 },
		{ "eth_getBlockByNumber", "[\"latest\",false]", "{\"result\":null}", 0, 0 },
		{ "eth_getBlockByNumber", "[\"latest\",false]", "{\"result\":{\"number\":16}}", 0,
		  0 },
		{ "eth_blockNumber", "[]", "{\"result\":\"0x\"}", 0, 0 },
		{ "eth_blockNumber", "[]", "{\"result\":\"0xzz\"}", 0, 0 },
		{ "eth_blockNumber", "[]", "{\"result\":\"12\"}", 0, 0 },
		{ "eth_blockNumber", "[]", "{\"result\":\"0x1ffffffffffffffff\"}", 0, 0 },
		{ "eth_blockNumber", "[]", "[{\"result\":\"0x1\"}]", 0, 0 },
		{ NULL, "[]", "{\"result\":\"0x1\"}", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *params = v[i].params ? J(v[i].params) : NULL;
		json_t *reply = J(v[i].reply);
		uint64_t head = 12345;
		int got = rpc_reply_head(v[i].method, params, reply, &head);

		if (got != v[i].reveals || (got && head != v[i].head))
			fail_msg("vector %zu (%s %s -> %s): got %d head %llu", i,
				 v[i].method ? v[i].method : "(none)", v[i].params ? v[i].params : "",
				 v[i].reply, got, (unsigned long long)head);
		json_decref(params);
		json_decref(reply);
	}
}

static void test_bucket(void **state)
{
	struct rpc_bucket b;
	uint64_t t = 1000000;

	(void)state;
	rpc_bucket_init(&b, 2.0, 2.0, t);
	assert_true(rpc_bucket_take(&b, t));
	assert_true(rpc_bucket_take(&b, t));
	assert_false(rpc_bucket_take(&b, t));
	assert_false(rpc_bucket_take(&b, t + 400000)); /* 0.8 tokens */
	assert_true(rpc_bucket_take(&b, t + 500000));  /* 1.0 */
	assert_false(rpc_bucket_take(&b, t + 500000));
	/* a long pause refills only up to the burst */
	t += 60000000;
	assert_true(rpc_bucket_take(&b, t));
	assert_true(rpc_bucket_take(&b, t));
	assert_false(rpc_bucket_take(&b, t));
	/* fractional rates: one token every 4 s */
	rpc_bucket_init(&b, 0.25, 1.0, 0);
	assert_true(rpc_bucket_take(&b, 0));
	assert_false(rpc_bucket_take(&b, 3999999));
	assert_true(rpc_bucket_take(&b, 4000000));
}

static void test_override(void **state)
{
	json_t *reply = J("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x21e19e0c9bab2400000\"}");
	json_t *set = J("{\"\": \"0x0\"}");
	json_t *blk = J("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"number\":\"0x10\","
			"\"transactions\":[\"0xa\",\"0xb\"]}}");
	json_t *set2 = J("{\"/number\": \"0x1\", \"/transactions/1\": null, \"/miner\": \"0x0\","
			 "\"/nope/x\": 1}");
	json_t *err = J("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32000,\"message\":\"x\"}}");
	char *s;

	(void)state;
	assert_int_equal(rpc_override_apply(reply, set), 1);
	assert_string_equal(json_string_value(json_object_get(reply, "result")), "0x0");
	assert_int_equal(rpc_override_apply(blk, set2), 3); /* the missing parent is skipped */
	s = json_dumps(blk, JSON_COMPACT);
	assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"number\":\"0x1\","
			       "\"transactions\":[\"0xa\",null],\"miner\":\"0x0\"}}");
	free(s);
	assert_int_equal(rpc_override_apply(err, set), 0);
	assert_null(json_object_get(err, "result"));
	json_decref(reply);
	json_decref(set);
	json_decref(blk);
	json_decref(set2);
	json_decref(err);
}

static void test_presets(void **state)
{
	const struct rpc_preset *ps;
	struct rpc_response r;
	size_t i, k;

	(void)state;
	assert_null(rpc_preset_find("no-such-preset"));
	assert_null(rpc_preset_find(NULL));
	for (i = 0; (ps = rpc_preset_at(i)); i++) {
		assert_int_equal(rpc_preset_response(ps, &r, NULL), 0);
		assert_true(r.status >= 200 && r.status <= 599);
		assert_true(r.error || r.body);
		if (r.error) {
			assert_true(json_is_integer(json_object_get(r.error, "code")));
			assert_true(json_is_string(json_object_get(r.error, "message")));
		}
		for (k = 0; k < i; k++)
			assert_string_not_equal(rpc_preset_at(k)->name, ps->name);
		free(r.headers);
		free(r.body);
		json_decref(r.error);
	}
	assert_true(i >= 20);
	ps = rpc_preset_find("infura-rate-limit");
	assert_non_null(ps);
	assert_int_equal(rpc_preset_response(ps, &r, NULL), 0);
	assert_int_equal(r.status, 429);
	assert_int_equal(json_integer_value(json_object_get(r.error, "code")), -32005);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(json_object_get(r.error, "data"), "rate"), "allowed_rps")), 1);
	free(r.headers);
	free(r.body);
	json_decref(r.error);
	ps = rpc_preset_find("cloudflare-1015");
	assert_int_equal(rpc_preset_response(ps, &r, NULL), 0);
	assert_int_equal(r.status, 429);
	assert_string_equal(r.body, "error code: 1015");
	free(r.headers);
	free(r.body);
	json_decref(r.error);
}

/* Validate one fault object with the kind's own ops; returns its diagnostics count. */
static size_t validate(const char *text, void **params, struct diags *d)
{
	struct check c;
	json_t *obj = J(text);
	const struct fault_ops *ops = fault_lookup(json_string_value(json_object_get(obj, "kind")));
	int rc;

	assert_non_null(ops);
	diags_init(d);
	check_init(&c, "t.json", text, strlen(text), d);
	*params = NULL;
	rc = ops->validate(&c, NULL, obj, "/faults/0", params);
	assert_int_equal(rc == 0, c.errors == 0);
	assert_int_equal(rc == 0, *params != NULL);
	json_decref(obj);
	return c.errors;
}

static void test_fault_validate_ok(void **state)
{
	struct diags d;
	void *params;
	struct fault f;
	const struct rpc_rule *r;

	(void)state;
	assert_int_equal(validate("{\"kind\":\"rpc.override\",\"upstream\":\"a\","
				  "\"method\":\"eth_getBalance\",\"set\":{\"\":\"0x0\"},"
				  "\"params\":{\"/0\":\"0xabc\"},\"params_match\":{\"/1\":\"^lat\"},"
				  "\"probability\":\"50%\",\"first\":3,\"after\":\"1s\"}",
				  &params, &d), 0);
	memset(&f, 0, sizeof(f));
	f.ops = fault_lookup("rpc.override");
	f.params = params;
	r = fault_rpc_rule(&f);
	assert_non_null(r);
	assert_string_equal(fault_rpc_upstream(&f), "a");
	assert_int_equal(r->action, RPC_ACT_OVERRIDE);
	assert_string_equal(r->method, "eth_getBalance");
	assert_int_equal(r->nparams, 2);
	assert_true(r->params[1].re_ok);
	assert_true(r->probability > 0.49 && r->probability < 0.51);
	assert_int_equal(r->first, 3);
	assert_int_equal(r->after_us, 1000000);
	f.ops->free_params(params);
	diags_cleanup(&d);

	/* rate limit: Infura's answer unless told otherwise */
	assert_int_equal(validate("{\"kind\":\"rpc.rate_limit\",\"upstream\":\"a\",\"rps\":5}",
				  &params, &d), 0);
	f.ops = fault_lookup("rpc.rate_limit");
	f.params = params;
	r = fault_rpc_rule(&f);
	assert_int_equal(r->resp.status, 429);
	assert_int_equal(json_integer_value(json_object_get(r->resp.error, "code")), -32005);
	assert_true(r->burst >= 5.0);
	f.ops->free_params(params);
	diags_cleanup(&d);

	/* the DESIGN example: respond with status and jsonrpc_error */
	assert_int_equal(validate("{\"kind\":\"rpc.rate_limit\",\"upstream\":\"a\",\"rps\":5,"
				  "\"respond\":{\"status\":429,\"jsonrpc_error\":{\"code\":-32005,"
				  "\"message\":\"request rate limited\"}}}", &params, &d), 0);
	f.params = params;
	r = fault_rpc_rule(&f);
	assert_int_equal(r->resp.status, 429);
	assert_string_equal(json_string_value(json_object_get(r->resp.error, "message")),
			    "request rate limited");
	f.ops->free_params(params);
	diags_cleanup(&d);

	/* status: preset, then explicit keys win */
	assert_int_equal(validate("{\"kind\":\"rpc.status\",\"upstream\":\"a\","
				  "\"preset\":\"gateway-504\",\"status\":503,"
				  "\"headers\":{\"Retry-After\":\"5\"}}", &params, &d), 0);
	f.ops = fault_lookup("rpc.status");
	f.params = params;
	r = fault_rpc_rule(&f);
	assert_int_equal(r->resp.status, 503);
	assert_string_equal(r->resp.headers, "Retry-After: 5\r\n");
	assert_non_null(strstr(r->resp.body, "504 Gateway"));
	f.ops->free_params(params);
	diags_cleanup(&d);
}

static void test_fault_validate_bad(void **state)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{ "{\"kind\":\"rpc.override\",\"upstream\":\"a\"}", "missing required key \"set\"" },
		{ "{\"kind\":\"rpc.override\",\"set\":{\"\":1}}", "missing required key \"upstream\"" },
		{ "{\"kind\":\"rpc.override\",\"upstream\":\"a\",\"set\":{\"x\":1}}", "must start" },
		{ "{\"kind\":\"rpc.status\",\"upstream\":\"a\",\"preset\":\"cloudflare-520\"}",
		  "did you mean \"cloudflare-522\"" },
		{ "{\"kind\":\"rpc.error\",\"upstream\":\"a\",\"preset\":\"gateway-504\"}",
		  "not a JSON-RPC error" },
		{ "{\"kind\":\"rpc.error\",\"upstream\":\"a\",\"error\":{\"message\":\"x\"}}",
		  "integer \"code\"" },
		{ "{\"kind\":\"rpc.error\",\"upstream\":\"a\"}", "missing required key \"error\"" },
		{ "{\"kind\":\"rpc.status\",\"upstream\":\"a\",\"status\":42}", "" },
		{ "{\"kind\":\"rpc.status\",\"upstream\":\"a\"}", "give a \"status\"" },
		{ "{\"kind\":\"rpc.status\",\"upstream\":\"a\",\"status\":500,"
		  "\"headers\":{\"Bad Name\":\"x\"}}", "not a valid header name" },
		{ "{\"kind\":\"rpc.delay\",\"upstream\":\"a\",\"delay\":\"12qs\"}", "" },
		{ "{\"kind\":\"rpc.hang\",\"upstream\":\"a\",\"params_match\":{\"/0\":\"(\"}}",
		  "bad regular expression" },
		{ "{\"kind\":\"rpc.hang\",\"upstream\":\"a\",\"probability\":1.5}", "outside" },
		{ "{\"kind\":\"rpc.hang\",\"upstream\":\"a\",\"after\":\"2s\",\"until\":\"1s\"}",
		  "later than" },
		{ "{\"kind\":\"rpc.rate_limit\",\"upstream\":\"a\"}", "missing required key \"rps\"" },
		{ "{\"kind\":\"rpc.rate_limit\",\"upstream\":\"a\",\"rps\":1,\"preset\":\"x\","
		  "\"respond\":{\"status\":429}}", "not both" },
		{ "{\"kind\":\"rpc.chain_id\",\"upstream\":\"a\"}", "missing required key \"chain_id\"" },
		{ "{\"kind\":\"rpc.truncate\",\"upstream\":\"a\",\"bytes\":-1}", "" },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diags d;
		void *params;
		int found = 0;

		if (validate(cases[i].text, &params, &d) == 0)
			fail_msg("case %zu accepted: %s", i, cases[i].text);
		for (k = 0; k < d.n; k++) {
			if (strstr(d.v[k].msg, cases[i].needle))
				found = 1;
			assert_true(d.v[k].line >= 1);
		}
		if (!found)
			fail_msg("case %zu: no diagnostic mentions \"%s\" (first: %s)", i,
				 cases[i].needle, d.n ? d.v[0].msg : "none");
		diags_cleanup(&d);
	}
}

static void test_config(void **state)
{
	const char *good = "{\"a\":{\"listen\":\"127.0.0.1:8545\",\"upstream\":\"http://127.0.0.1:1\","
			   "\"on_upstream_down\":\"502\",\"max_body\":\"1MiB\",\"idle_timeout\":\"5s\"},"
			   "\"b\":{\"listen\":\"[::1]:0\",\"upstream\":\"https://x.example/v3/k\","
			   "\"netns\":\"djt-x\",\"hosts\":[\"rpc-b.example\",\"localhost\"]}}";
	const char *bad = "{\"a\":{\"listen\":\"8545\",\"upstream\":\"ftp://x\","
			  "\"on_upstream_down\":\"mirrror\",\"max_conn\":5,"
			  "\"hosts\":[\"a.example:8545\"]}}";
	struct rpc_proxy_config cfg;
	struct diags d;
	struct check c;
	struct err e;
	json_t *g = J(good), *b = J(bad);

	(void)state;
	diags_init(&d);
	check_init(&c, "lab.json", good, strlen(good), &d);
	assert_int_equal(fault_rpc_config_check(&c, g, "/rpc"), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(fault_rpc_config(json_object_get(g, "a"), "a", &cfg, &e), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:8545");
	assert_int_equal(cfg.on_down, RPC_DOWN_502);
	assert_int_equal(cfg.limits.max_body, 1024 * 1024);
	assert_int_equal(cfg.idle_timeout_us, 5000000);
	assert_int_equal(fault_rpc_config(json_object_get(g, "b"), "b", &cfg, &e), 0);
	assert_string_equal(cfg.netns, "djt-x");
	assert_string_equal(cfg.hosts[0], "rpc-b.example");
	assert_string_equal(cfg.hosts[1], "localhost");
	assert_null(cfg.hosts[2]);
	assert_int_equal(cfg.on_down, RPC_DOWN_MIRROR);
	check_init(&c, "lab.json", bad, strlen(bad), &d);
	assert_int_equal(fault_rpc_config_check(&c, b, "/rpc"), -1);
	assert_int_equal(d.n, 5); /* listen, upstream, on_upstream_down, unknown key, host */
	{
		size_t k;
		int hint = 0;

		for (k = 0; k < d.n; k++)
			hint |= strstr(d.v[k].msg, "did you mean \"max_conns\"") != NULL;
		assert_true(hint);
	}
	assert_int_not_equal(fault_rpc_config(json_object_get(b, "a"), "a", &cfg, &e), 0);
	diags_cleanup(&d);
	json_decref(g);
	json_decref(b);
}

/* "upstream_client": which URLs the native client takes, and how the choice is checked. */
static void test_upstream_client(void **state)
{
	static const struct {
		const char *url;
		int ok;
	} urls[] = {
		{ "http://127.0.0.1:8545", 1 },     { "http://10.77.5.10:8545/", 1 },
		{ "http://127.0.0.1", 1 },          { "http://[::1]:8545/v3/KEY", 1 },
		{ "http://127.0.0.1:8545?x=1", 1 }, { "https://127.0.0.1:8545", 0 },
		{ "http://localhost:8545", 0 },     { "http://node.example/", 0 },
		{ "http://u:p@127.0.0.1:1/", 0 },   { "http://127.0.0.1:0", 0 },
		{ "http://127.0.0.1:65536", 0 },    { "http://127.0.0.1:", 0 },
		{ "http://[::1/", 0 },              { "http://[::1]x/", 0 },
		{ "http://", 0 },                   { "http://1.2.3.4:80#f", 0 },
	};
	const char *good = "{\"a\":{\"listen\":\"127.0.0.1:0\",\"upstream\":\"http://127.0.0.1:1\","
			   "\"upstream_client\":\"native\"},"
			   "\"b\":{\"listen\":\"127.0.0.1:0\",\"upstream\":\"https://x.example/\","
			   "\"upstream_client\":\"curl\"}}";
	const char *bad = "{\"a\":{\"listen\":\"127.0.0.1:0\",\"upstream\":\"https://x.example/\","
			  "\"upstream_client\":\"native\"},"
			  "\"b\":{\"listen\":\"127.0.0.1:0\",\"upstream\":\"http://127.0.0.1:1\","
			  "\"upstream_client\":\"wget\"}}";
	struct rpc_proxy_config cfg;
	struct diags d;
	struct check c;
	struct err e;
	json_t *g = J(good), *b = J(bad);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (upstream_url_ok(urls[i].url) != urls[i].ok)
			fail_msg("upstream_url_ok(%s) != %d", urls[i].url, urls[i].ok);
	diags_init(&d);
	check_init(&c, "lab.json", good, strlen(good), &d);
	assert_int_equal(fault_rpc_config_check(&c, g, "/rpc"), 0);
	assert_int_equal(fault_rpc_config(json_object_get(g, "a"), "a", &cfg, &e), 0);
	assert_int_equal(cfg.client, RPC_CLIENT_NATIVE);
	assert_int_equal(fault_rpc_config(json_object_get(g, "b"), "b", &cfg, &e), 0);
	assert_int_equal(cfg.client, RPC_CLIENT_CURL);
	check_init(&c, "lab.json", bad, strlen(bad), &d);
	assert_int_equal(fault_rpc_config_check(&c, b, "/rpc"), -1);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].ptr, "/rpc/a/upstream_client");
	assert_non_null(strstr(d.v[0].msg, "numeric address"));
	assert_string_equal(d.v[1].ptr, "/rpc/b/upstream_client");
	diags_cleanup(&d);
	json_decref(g);
	json_decref(b);
}

static void test_kinds_registered(void **state)
{
	static const char *const kinds[] = {
		"rpc.status", "rpc.error", "rpc.delay", "rpc.hang", "rpc.reset", "rpc.close",
		"rpc.truncate", "rpc.rate_limit", "rpc.override", "rpc.stale_head",
		"rpc.null_receipt", "rpc.chain_id", "rpc.batch_drop", "rpc.batch_reorder",
		"rpc.batch_null_id", NULL,
	};
	size_t i;

	(void)state;
	for (i = 0; kinds[i]; i++) {
		const struct fault_ops *ops = fault_lookup(kinds[i]);

		assert_non_null(ops);
		assert_true(ops->needs & FAULT_NEEDS_RPC);
		assert_non_null(ops->keys);
		assert_non_null(ops->apply);
		assert_non_null(ops->revert);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_rule_match),
		cmocka_unit_test(test_rule_implied_methods),
		cmocka_unit_test(test_match_body),
		cmocka_unit_test(test_reply_head),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_fault_validate_ok),
		cmocka_unit_test(test_fault_validate_bad),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_upstream_client),
		cmocka_unit_test(test_kinds_registered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
