/*
 * Report test fixtures shared by test_report.c and test_report_html.c: two
 * fixed run results (an outage, and one full of hostile text) built without
 * a clock, so every writer's output is byte-stable, and a golden-file reader.
 * Include after cmocka.h. Included by the tests
 * only; the functions are static so each test binary has its own copy.
 */
#ifndef DOORJAM_TEST_REPORT_FIXTURES_H
#define DOORJAM_TEST_REPORT_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/result.h"

/* ---- fixtures ---- */

static __attribute__((unused)) void add(struct flow_result *f, uint64_t start_ms, uint64_t lat_us, enum phase p,
		enum outcome o, const char *step, const char *msg)
{
	struct flow_run run = {
		.start_ms = start_ms, .latency_us = lat_us, .phase = p, .outcome = o,
		.message = (char *)msg, .step = (char *)step,
	};

	assert_int_equal(result_add_run(f, &run), 0);
}

static __attribute__((unused)) void flow(struct flow_result *f, const char *name, const char *desc,
		 enum result_expect e, uint64_t within_us)
{
	f->name = strdup(name);
	f->description = desc ? strdup(desc) : NULL;
	f->expect = e;
	f->expect_within_us = within_us;
}

static __attribute__((unused)) void fault(struct fault_window *fw, const char *kind, const char *label,
		  const char *params, uint64_t start, uint64_t end, const char *error)
{
	fw->kind = strdup(kind);
	fw->label = strdup(label);
	fw->params_json = params ? strdup(params) : NULL;
	fw->start_ms = start;
	fw->end_ms = end;
	fw->error = error ? strdup(error) : NULL;
}

static __attribute__((unused)) void event(struct run_result *r, uint64_t at, const char *src, const char *what,
		  const char *rule, const char *action, const char *detail)
{
	struct result_event ev = {
		.at_ms = at, .source = (char *)src, .what = (char *)what, .rule = (char *)rule,
		.action = (char *)action, .detail = (char *)detail,
	};

	assert_int_equal(result_add_event(r, &ev), 0);
}

static __attribute__((unused)) void phases(struct run_result *r, uint64_t b, uint64_t f, uint64_t rec, uint64_t end)
{
	r->phase_start_ms[PHASE_BASELINE] = 0;
	r->phase_end_ms[PHASE_BASELINE] = b;
	r->phase_start_ms[PHASE_FAULT] = b;
	r->phase_end_ms[PHASE_FAULT] = f;
	r->phase_start_ms[PHASE_RECOVERY] = rec;
	r->phase_end_ms[PHASE_RECOVERY] = end;
	r->lift_ms = rec;
}

static __attribute__((unused)) struct run_result *fixture_outage(void)
{
	struct run_result *r = result_new(5, 2);
	struct flow_result *f;

	assert_non_null(r);
	r->scenario = strdup("aws-us-east-1-outage");
	r->description = strdup("us-east-1 goes dark; provider B rate-limits the failover surge");
	r->file = strdup("scenarios/aws-us-east-1-outage.json");
	r->seed = 42;
	r->started_at_unix_ms = 1796045388123ull;   /* 2026-11-30T13:29:48.123Z */
	r->duration_ms = 40000;
	phases(r, 10000, 30000, 30000, 40000);
	fault(&r->faults[0], "net.unreachable", "net.unreachable us-east-1",
	      "{\"kind\":\"net.unreachable\",\"region\":\"us-east-1\"}", 10000, 30000, NULL);
	fault(&r->faults[1], "rpc.rate_limit", "rpc.rate_limit rpc-b 5/s",
	      "{\"kind\":\"rpc.rate_limit\",\"upstream\":\"rpc-b\",\"rps\":5,\"p\":0.25}",
	      15000, 30000, NULL);

	f = &r->flows[0];
	flow(f, "view-balance", "open the wallet and read the ETH balance",
	     RESULT_EXPECT_SURVIVE, 0);
	add(f, 0, 12345, PHASE_BASELINE, OUTCOME_OK, NULL, NULL);
	add(f, 5000, 15000, PHASE_BASELINE, OUTCOME_OK, NULL, NULL);
	add(f, 10000, 20500, PHASE_FAULT, OUTCOME_OK, NULL, NULL);
	add(f, 15000, 18000, PHASE_FAULT, OUTCOME_WRONG, "get-balance",
	    "balance 0x0 expected 0x3635c9adc5dea00000");
	add(f, 20000, 1500000, PHASE_FAULT, OUTCOME_SLOW, "get-balance", "1.500 s over the 1 s objective");
	add(f, 25000, 17250, PHASE_FAULT, OUTCOME_WRONG, "get-balance",
	    "balance 0x0 expected 0x3635c9adc5dea00000");
	add(f, 30000, 11000, PHASE_RECOVERY, OUTCOME_OK, NULL, NULL);
	add(f, 35000, 10999, PHASE_RECOVERY, OUTCOME_OK, NULL, NULL);

	f = &r->flows[1];
	flow(f, "send-eth", NULL, RESULT_EXPECT_DEGRADE, 0);
	add(f, 1000, 80000, PHASE_BASELINE, OUTCOME_OK, NULL, NULL);
	add(f, 11000, 5000000, PHASE_FAULT, OUTCOME_ERROR, "send-raw-tx", "timeout after 5 s");
	add(f, 21000, 2500, PHASE_FAULT, OUTCOME_ERROR, "send-raw-tx",
	    "JSON-RPC error -32005: request rate limited");
	add(f, 31000, 2000, PHASE_RECOVERY, OUTCOME_ERROR, "send-raw-tx", "HTTP 502");
	add(f, 36000, 95500, PHASE_RECOVERY, OUTCOME_OK, NULL, NULL);

	f = &r->flows[2];
	flow(f, "token-prices", "price ticker from the prices service",
	     RESULT_EXPECT_FAIL_CLEAN, 0);
	add(f, 2000, 3000, PHASE_BASELINE, OUTCOME_OK, NULL, NULL);
	add(f, 12000, 1000, PHASE_FAULT, OUTCOME_ERROR, "prices", "connect: no route to host");
	add(f, 32000, 3000, PHASE_RECOVERY, OUTCOME_OK, NULL, NULL);

	f = &r->flows[3];
	flow(f, "chain-head", NULL, RESULT_EXPECT_RECOVER, 5000000);
	add(f, 3000, 4000, PHASE_BASELINE, OUTCOME_OK, NULL, NULL);
	add(f, 13000, 4000, PHASE_FAULT, OUTCOME_ERROR, "block-number", "HTTP 429");
	add(f, 33000, 4000, PHASE_RECOVERY, OUTCOME_WRONG, "block-number",
	    "block 0x10 is 40 s old");
	add(f, 36500, 4000, PHASE_RECOVERY, OUTCOME_OK, NULL, NULL);

	f = &r->flows[4];
	flow(f, "explorer", NULL, RESULT_EXPECT_ANY, 0);
	add(f, 4000, 250000, PHASE_BASELINE, OUTCOME_OK, NULL, NULL);
	add(f, 14000, 250000, PHASE_FAULT, OUTCOME_ERROR, "open-page", "exit status 1");

	event(r, 10012, "dns", "prices.use1.example A", "dns.servfail", "SERVFAIL",
	      "client 10.77.0.5");
	event(r, 15020, "rpc:rpc-b", "eth_sendRawTransaction", "rpc.rate_limit", "429",
	      NULL);
	event(r, 21001, "rpc:rpc-b", "eth_getBalance", NULL, "forward", "200 in 3.1 ms");
	result_finish(r);
	return r;
}

static __attribute__((unused)) struct run_result *fixture_hostile(int markup)
{
	struct run_result *r = result_new(3, 2);
	struct flow_result *f;

	assert_non_null(r);
	r->scenario = strdup("a<b>&\"c\" 'd'");
	r->description = strdup("line one\nline two\twith a tab");
	r->file = NULL;
	r->seed = 9007199254740993ull;
	r->started_at_unix_ms = 0;
	r->duration_ms = 1234;
	r->interrupted = 1;
	r->error = strdup("lab up: host \"rpc-a\" <core>: readiness probe timed out");
	phases(r, 1000, UINT64_MAX, UINT64_MAX, UINT64_MAX);
	r->phase_end_ms[PHASE_FAULT] = UINT64_MAX;
	r->lift_ms = UINT64_MAX;
	r->phase_start_ms[PHASE_FAULT] = 1000;
	fault(&r->faults[0], "rpc.status", "rpc.status <html> & \"quotes\"", "{not json",
	      UINT64_MAX, UINT64_MAX, "apply: Operation not permitted");
	fault(&r->faults[1], "dns.nxdomain", "dns.nxdomain *.example", NULL, 1000, UINT64_MAX,
	      NULL);

	f = &r->flows[0];
	flow(f, "esc \033[31mred\033[0m & <tag>", "desc\x01with\x7f controls",
	     RESULT_EXPECT_SURVIVE, 0);
	add(f, 0, 999, PHASE_BASELINE, OUTCOME_WRONG, "check \"a\"",
	    "body ]]> <html>&amp; \033]0;title\a \x01\x02 bad utf8 \xff\xfe\xc3 ok ü✓ 𝄞");
	add(f, 1000, 1, PHASE_FAULT, OUTCOME_ERROR, NULL,
	    markup ? "line1\nline2\r\n\ttabbed 'single' \"double\" x|y" :
		     "line1\nline2\r\n\ttabbed 'single' \"double\"");

	f = &r->flows[1];
	flow(f, "no-runs", NULL, RESULT_EXPECT_DEGRADE, 0);

	f = &r->flows[2];
	flow(f, "Grüße ✓", NULL, RESULT_EXPECT_RECOVER, 1500);
	add(f, 10, 1000000, PHASE_BASELINE, OUTCOME_SLOW, NULL, NULL);

	event(r, 5, "dns", "x\x01y", NULL, "NXDOMAIN", "\xff");
	if (markup) {
		/* for the HTML and Markdown writers: markup and external references from a peer */
		add(&r->flows[0], 1100, 5, PHASE_FAULT, OUTCOME_WRONG, "<script>",
		    "<script>alert('x')</script> a|b <img src=https://evil.example/p.png> "
		    "@octocat `tick` ``two`` \u202eevil");
		event(r, 6, "rpc:<b>", "<script src=\"http://evil.example/x.js\"></script>",
		      "rpc.status", "503", NULL);
	}
	result_finish(r);
	return r;
}


/* Read a whole file (golden files); NULL when it does not exist. Caller frees. */
static __attribute__((unused)) char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return s;
}

#endif
