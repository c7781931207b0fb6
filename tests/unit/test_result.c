/*
 * Unit tests for reports/result: per-phase statistics, recovery, and every
 * verdict rule, with hand-built flow runs (no runner, no clock).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "reports/result.h"

#define LIFT_MS 20000u

/* A one-flow result whose faults lift at LIFT_MS. */
static struct run_result *one_flow(enum result_expect e, uint64_t within_us)
{
	struct run_result *r = result_new(1, 0);

	assert_non_null(r);
	r->flows[0].name = strdup("view-balance");
	r->flows[0].expect = e;
	r->flows[0].expect_within_us = within_us;
	r->lift_ms = LIFT_MS;
	return r;
}

static void add(struct flow_result *f, uint64_t start_ms, uint64_t lat_us, enum phase p,
		enum outcome o, const char *msg)
{
	struct flow_run run = {
		.start_ms = start_ms, .latency_us = lat_us, .phase = p, .outcome = o,
		.message = (char *)msg, .step = (char *)(msg ? "get-balance" : NULL),
	};

	assert_int_equal(result_add_run(f, &run), 0);
}

/* Two baseline runs that pass. */
static void good_baseline(struct flow_result *f)
{
	add(f, 0, 10000, PHASE_BASELINE, OUTCOME_OK, NULL);
	add(f, 2000, 12000, PHASE_BASELINE, OUTCOME_OK, NULL);
}

static void test_percentile_nearest_rank(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_ANY, 0);
	struct flow_result *f = &r->flows[0];
	uint64_t i;

	(void)state;
	assert_int_equal(result_percentile(f, PHASE_FAULT, 50), 0);
	/* recorded out of order: 10,9,...,1 ms */
	for (i = 10; i >= 1; i--)
		add(f, 10000 + i, i * 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	assert_int_equal(result_percentile(f, PHASE_FAULT, 50), 5000);
	assert_int_equal(result_percentile(f, PHASE_FAULT, 95), 10000);
	assert_int_equal(result_percentile(f, PHASE_FAULT, 90), 9000);
	assert_int_equal(result_percentile(f, PHASE_FAULT, 91), 10000);
	assert_int_equal(result_percentile(f, PHASE_FAULT, 0), 1000);
	assert_int_equal(result_percentile(f, PHASE_FAULT, 100), 10000);
	assert_int_equal(result_percentile(f, PHASE_BASELINE, 95), 0);
	result_finish(r);
	assert_int_equal(f->phases[PHASE_FAULT].p50_us, 5000);
	assert_int_equal(f->phases[PHASE_FAULT].p95_us, 10000);
	assert_int_equal(f->phases[PHASE_FAULT].max_us, 10000);
	assert_int_equal(f->phases[PHASE_FAULT].runs, 10);
	assert_int_equal(f->phases[PHASE_RECOVERY].runs, 0);
	assert_int_equal(f->phases[PHASE_RECOVERY].p50_us, 0);
	assert_int_equal(f->phases[PHASE_RECOVERY].max_us, 0);
	/* runs are now in start order */
	for (i = 1; i < f->nruns; i++)
		assert_true(f->runs[i - 1].start_ms <= f->runs[i].start_ms);
	result_free(r);
}

static void test_phase_counts(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_ANY, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 10000, 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	add(f, 12000, 900000, PHASE_FAULT, OUTCOME_SLOW, NULL);
	add(f, 14000, 5000, PHASE_FAULT, OUTCOME_ERROR, "connect: no route to host");
	add(f, 16000, 6000, PHASE_FAULT, OUTCOME_WRONG, "balance 0x0");
	add(f, 18000, 7000, PHASE_FAULT, OUTCOME_WRONG, "balance 0x0");
	add(f, 20000, 8000, PHASE_RECOVERY, OUTCOME_OK, NULL);
	result_finish(r);
	assert_int_equal(f->phases[PHASE_BASELINE].count[OUTCOME_OK], 2);
	assert_int_equal(f->phases[PHASE_BASELINE].p95_us, 12000);
	assert_int_equal(f->phases[PHASE_FAULT].count[OUTCOME_OK], 1);
	assert_int_equal(f->phases[PHASE_FAULT].count[OUTCOME_SLOW], 1);
	assert_int_equal(f->phases[PHASE_FAULT].count[OUTCOME_ERROR], 1);
	assert_int_equal(f->phases[PHASE_FAULT].count[OUTCOME_WRONG], 2);
	assert_int_equal(f->phases[PHASE_FAULT].runs, 5);
	assert_int_equal(f->phases[PHASE_FAULT].max_us, 900000);
	assert_int_equal(f->phases[PHASE_RECOVERY].runs, 1);
	assert_true(f->broke);
	assert_string_equal(f->first_error, "connect: no route to host");
	assert_int_equal(f->first_bad, OUTCOME_ERROR);
	assert_int_equal(f->verdict, VERDICT_NONE);
	assert_string_equal(f->reason, "observed only, no expectation: 3 of 6 runs in the "
			    "fault and recovery phases passed");
	result_free(r);
}

static void test_survive_slow_only_passes(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_SURVIVE, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 10000, 2000000, PHASE_FAULT, OUTCOME_SLOW, "over the 1s objective");
	add(f, 12000, 2000000, PHASE_FAULT, OUTCOME_SLOW, "over the 1s objective");
	add(f, 20000, 2000000, PHASE_RECOVERY, OUTCOME_SLOW, "over the 1s objective");
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_PASS);
	assert_true(f->broke);              /* slow is not ok */
	assert_null(f->first_error);        /* but it is not an error */
	assert_int_equal(f->first_bad, OUTCOME_OK);
	assert_true(f->recovered);          /* slow passes */
	assert_int_equal(f->recovered_after_ms, 2000);
	assert_string_equal(f->reason, "all 3 runs in the fault and recovery phases passed "
			    "(3 slow)");
	assert_int_equal(r->verdict, VERDICT_PASS);
	assert_int_equal(verdict_exit_code(r->verdict), 0);
	result_free(r);
}

static void test_survive_wrong_fails(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_SURVIVE, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 10000, 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	add(f, 12000, 1000, PHASE_FAULT, OUTCOME_WRONG,
	    "balance 0x0 expected 0x3635c9adc5dea00000");
	add(f, 14000, 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	add(f, 20000, 1000, PHASE_RECOVERY, OUTCOME_OK, NULL);
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_string_equal(f->reason, "1 of 3 runs in the fault phase was wrong: balance 0x0 "
			    "expected 0x3635c9adc5dea00000");
	assert_int_equal(f->first_bad, OUTCOME_WRONG);
	assert_int_equal(r->verdict, VERDICT_FAIL);
	assert_int_equal(verdict_exit_code(r->verdict), 1);
	result_free(r);
}

static void test_survive_mixed_phases_reason(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_SURVIVE, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	/* recorded out of order: the first error by start time is the timeout */
	add(f, 12000, 1000, PHASE_FAULT, OUTCOME_WRONG, "chain id 0x1 expected 0x7a69");
	add(f, 10000, 5000000, PHASE_FAULT, OUTCOME_ERROR, "timeout after 5s");
	add(f, 20000, 1000, PHASE_RECOVERY, OUTCOME_ERROR, "HTTP 502");
	add(f, 22000, 1000, PHASE_RECOVERY, OUTCOME_OK, NULL);
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_string_equal(f->first_error, "timeout after 5s");
	assert_int_equal(f->first_bad, OUTCOME_ERROR);
	assert_string_equal(f->reason, "2 of 2 runs in the fault phase and 1 of 2 in the "
			    "recovery phase failed (2 error, 1 wrong): timeout after 5s");
	assert_true(f->recovered);
	assert_int_equal(f->recovered_after_ms, 2001);
	result_free(r);
}

static void test_wrong_in_baseline_inconclusive(void **state)
{
	struct run_result *r = result_new(2, 0);
	struct flow_result *a, *b;

	(void)state;
	assert_non_null(r);
	r->lift_ms = LIFT_MS;
	a = &r->flows[0];
	b = &r->flows[1];
	a->expect = RESULT_EXPECT_SURVIVE;
	b->expect = RESULT_EXPECT_SURVIVE;
	add(a, 0, 1000, PHASE_BASELINE, OUTCOME_OK, NULL);
	add(a, 2000, 1000, PHASE_BASELINE, OUTCOME_WRONG, "chain id 0x1 expected 0x7a69");
	add(a, 10000, 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	/* b fails its expectation: inconclusive still wins */
	good_baseline(b);
	add(b, 10000, 1000, PHASE_FAULT, OUTCOME_ERROR, "HTTP 503");
	result_finish(r);
	assert_int_equal(a->verdict, VERDICT_INCONCLUSIVE);
	assert_string_equal(a->reason, "before any fault, 1 of 2 runs in the baseline phase was "
			    "wrong: chain id 0x1 expected 0x7a69");
	assert_null(a->first_error);   /* first_error only looks at fault and recovery */
	assert_int_equal(b->verdict, VERDICT_FAIL);
	assert_int_equal(r->verdict, VERDICT_INCONCLUSIVE);
	assert_int_equal(verdict_exit_code(r->verdict), 4);
	result_free(r);
}

static void test_error_in_baseline_inconclusive_even_for_any(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_ANY, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	add(f, 0, 1000, PHASE_BASELINE, OUTCOME_ERROR, "connection refused");
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_INCONCLUSIVE);
	assert_string_equal(f->reason, "before any fault, 1 of 1 runs in the baseline phase "
			    "ended in error: connection refused");
	assert_int_equal(r->verdict, VERDICT_INCONCLUSIVE);
	result_free(r);
}

static void test_slow_in_baseline_is_not_inconclusive(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_SURVIVE, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	add(f, 0, 3000000, PHASE_BASELINE, OUTCOME_SLOW, NULL);
	add(f, 10000, 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_PASS);
	assert_false(f->broke);
	result_free(r);
}

static void test_degrade(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_DEGRADE, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 10000, 5000000, PHASE_FAULT, OUTCOME_ERROR, "timeout");
	add(f, 16000, 3000000, PHASE_FAULT, OUTCOME_SLOW, NULL);
	/* an ok run before the lift does not count as recovery */
	add(f, 19000, 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	add(f, 20000, 5000000, PHASE_RECOVERY, OUTCOME_ERROR, "timeout");
	add(f, 25500, 250000, PHASE_RECOVERY, OUTCOME_OK, NULL);
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_PASS);
	assert_true(f->recovered);
	assert_int_equal(f->recovered_after_ms, 5750);
	assert_int_equal(f->recovered_after_us, 5750000);
	assert_int_equal(f->recovery_runs, 2);
	assert_string_equal(f->reason, "no wrong answer in 5 runs (1 slow, 2 error) and passed "
			    "again 5750 ms after the faults lifted");

	/* one wrong answer breaks degrade, even though it recovered */
	add(f, 12000, 1000, PHASE_FAULT, OUTCOME_WRONG, "stale block 0x10");
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_string_equal(f->reason, "1 of 4 runs in the fault phase was wrong: stale block 0x10");
	result_free(r);
}

static void test_degrade_without_recovery_fails(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_DEGRADE, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 10000, 1000, PHASE_FAULT, OUTCOME_ERROR, "no route to host");
	add(f, 20000, 1000, PHASE_RECOVERY, OUTCOME_ERROR, "no route to host");
	add(f, 22000, 1000, PHASE_RECOVERY, OUTCOME_ERROR, "no route to host");
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_false(f->recovered);
	assert_string_equal(f->reason, "none of the 2 runs that started after the faults lifted "
			    "at 20000 ms passed (2 error, 0 wrong in the recovery phase)");
	result_free(r);
}

static void test_no_runs_in_recovery(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_DEGRADE, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	r->interrupted = 1;
	good_baseline(f);
	add(f, 10000, 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	result_finish(r);
	assert_false(f->recovered);
	assert_int_equal(f->recovered_after_ms, 0);
	assert_int_equal(f->recovery_runs, 0);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_string_equal(f->reason, "no run started after the faults lifted at 20000 ms, so "
			    "recovery was never observed");
	assert_int_equal(r->verdict, VERDICT_FAIL);
	result_free(r);
}

/* Interrupted in the fault phase: lift_ms keeps result_new's "never". */
static void test_interrupted_before_lift(void **state)
{
	struct run_result *r = result_new(1, 0);
	struct flow_result *f;

	(void)state;
	assert_non_null(r);
	assert_true(r->lift_ms == UINT64_MAX);
	f = &r->flows[0];
	f->expect = RESULT_EXPECT_RECOVER;
	f->expect_within_us = 60000000;
	r->interrupted = 1;
	good_baseline(f);
	add(f, 10000, 1000, PHASE_FAULT, OUTCOME_ERROR, "HTTP 503");
	add(f, 12000, 1000, PHASE_FAULT, OUTCOME_OK, NULL);
	result_finish(r);
	assert_false(f->recovered);
	assert_int_equal(f->recovery_runs, 0);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_string_equal(f->reason, "the faults were never lifted, so recovery was never "
			    "observed");
	assert_int_equal(r->verdict, VERDICT_FAIL);
	result_free(r);
}

static void test_fail_clean(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_FAIL_CLEAN, 0);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 10000, 1000, PHASE_FAULT, OUTCOME_ERROR, "HTTP 503");
	add(f, 12000, 1000, PHASE_FAULT, OUTCOME_ERROR, "HTTP 503");
	add(f, 20000, 1000, PHASE_RECOVERY, OUTCOME_ERROR, "HTTP 503");
	result_finish(r);
	/* never recovered, but fail-clean does not ask for recovery */
	assert_int_equal(f->verdict, VERDICT_PASS);
	assert_false(f->recovered);
	assert_string_equal(f->reason, "no wrong answer in 3 runs of the fault and recovery "
			    "phases (3 error)");

	add(f, 21000, 1000, PHASE_RECOVERY, OUTCOME_WRONG, "price 0");
	add(f, 22000, 1000, PHASE_RECOVERY, OUTCOME_WRONG, "price 0");
	result_finish(r);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_string_equal(f->reason, "2 of 3 runs in the recovery phase were wrong: price 0");
	result_free(r);
}

/* Recover within 5 s: the first passing run after the lift ends exactly at 5 s. */
static void test_recover_deadline_just_met(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_RECOVER, 5000000);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 10000, 1000, PHASE_FAULT, OUTCOME_ERROR, "HTTP 429");
	add(f, 20000, 1000, PHASE_RECOVERY, OUTCOME_ERROR, "HTTP 429");
	add(f, 24900, 100000, PHASE_RECOVERY, OUTCOME_OK, NULL);
	result_finish(r);
	assert_true(f->recovered);
	assert_int_equal(f->recovered_after_us, 5000000);
	assert_int_equal(f->recovered_after_ms, 5000);
	assert_int_equal(f->verdict, VERDICT_PASS);
	assert_string_equal(f->reason, "passed again 5000 ms after the faults lifted, within "
			    "the 5000 ms deadline");
	result_free(r);
}

static void test_recover_deadline_just_missed(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_RECOVER, 5000000);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 20000, 1000, PHASE_RECOVERY, OUTCOME_ERROR, "HTTP 429");
	add(f, 24900, 100001, PHASE_RECOVERY, OUTCOME_OK, NULL);
	result_finish(r);
	assert_true(f->recovered);
	assert_int_equal(f->recovered_after_us, 5000001);
	assert_int_equal(f->recovered_after_ms, 5001);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_string_equal(f->reason, "passed again only 5001 ms after the faults lifted, over "
			    "the 5000 ms deadline");
	result_free(r);
}

static void test_recover_never(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_RECOVER, 5000000);
	struct flow_result *f = &r->flows[0];

	(void)state;
	good_baseline(f);
	add(f, 20000, 1000, PHASE_RECOVERY, OUTCOME_WRONG, "balance 0x0");
	result_finish(r);
	assert_false(f->recovered);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	assert_string_equal(f->reason, "none of the 1 runs that started after the faults lifted "
			    "at 20000 ms passed (0 error, 1 wrong in the recovery phase)");
	result_free(r);
}

/* A baseline run never counts as recovery, even when lift_ms is 0. */
static void test_recovery_ignores_baseline(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_RECOVER, 60000000);
	struct flow_result *f = &r->flows[0];

	(void)state;
	r->lift_ms = 0;
	good_baseline(f);
	result_finish(r);
	assert_false(f->recovered);
	assert_int_equal(f->verdict, VERDICT_FAIL);
	result_free(r);
}

static void test_any_and_empty_scenarios(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_ANY, 0);
	struct run_result *empty = result_new(0, 0);

	(void)state;
	good_baseline(&r->flows[0]);
	add(&r->flows[0], 10000, 1000, PHASE_FAULT, OUTCOME_WRONG, "balance 0x0");
	result_finish(r);
	assert_int_equal(r->flows[0].verdict, VERDICT_NONE);
	assert_int_equal(r->verdict, VERDICT_PASS);

	assert_non_null(empty);
	result_finish(empty);
	assert_int_equal(empty->verdict, VERDICT_PASS);
	empty->interrupted = 1;
	result_finish(empty);
	assert_int_equal(empty->verdict, VERDICT_FAIL);
	result_free(empty);
	result_free(r);
}

static void test_run_error_fails_scenario(void **state)
{
	struct run_result *r = one_flow(RESULT_EXPECT_SURVIVE, 0);

	(void)state;
	good_baseline(&r->flows[0]);
	r->error = strdup("lab up: host rpc-a: readiness probe timed out");
	result_finish(r);
	assert_int_equal(r->flows[0].verdict, VERDICT_PASS);
	assert_int_equal(r->verdict, VERDICT_FAIL);

	/* inconclusive beats a run error */
	add(&r->flows[0], 3000, 1000, PHASE_BASELINE, OUTCOME_ERROR, "refused");
	result_finish(r);
	assert_int_equal(r->verdict, VERDICT_INCONCLUSIVE);
	result_free(r);
}

static void test_add_copies_and_events(void **state)
{
	struct run_result *r = result_new(1, 1);
	char msg[] = "HTTP 502";
	struct flow_run run = { .start_ms = 1, .phase = PHASE_FAULT, .outcome = OUTCOME_ERROR,
				.message = msg, .step = NULL };
	struct result_event ev = { .at_ms = 5, .source = (char *)"dns",
				   .what = (char *)"rpc.example A", .rule = NULL,
				   .action = (char *)"SERVFAIL", .detail = NULL };
	size_t i;

	(void)state;
	assert_non_null(r);
	assert_int_equal(result_add_run(&r->flows[0], &run), 0);
	msg[0] = 'X';
	assert_string_equal(r->flows[0].runs[0].message, "HTTP 502");
	assert_null(r->flows[0].runs[0].step);
	for (i = 0; i < 100; i++)
		assert_int_equal(result_add_event(r, &ev), 0);
	assert_int_equal(r->nevents, 100);
	assert_string_equal(r->events[99].action, "SERVFAIL");
	assert_null(r->events[99].rule);
	assert_ptr_not_equal(r->events[0].source, ev.source);
	result_finish(r);
	result_finish(r);   /* idempotent, no leak of the first reason */
	assert_string_equal(r->flows[0].first_error, "HTTP 502");
	result_free(r);
	result_free(NULL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(outcome_name(OUTCOME_WRONG), "wrong");
	assert_string_equal(phase_name(PHASE_RECOVERY), "recovery");
	assert_string_equal(verdict_name(VERDICT_INCONCLUSIVE), "inconclusive");
	assert_string_equal(result_expect_name(RESULT_EXPECT_FAIL_CLEAN), "fail-clean");
	assert_int_equal(verdict_exit_code(VERDICT_PASS), 0);
	assert_int_equal(verdict_exit_code(VERDICT_FAIL), 1);
	assert_int_equal(verdict_exit_code(VERDICT_INCONCLUSIVE), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile_nearest_rank),
		cmocka_unit_test(test_phase_counts),
		cmocka_unit_test(test_survive_slow_only_passes),
		cmocka_unit_test(test_survive_wrong_fails),
		cmocka_unit_test(test_survive_mixed_phases_reason),
		cmocka_unit_test(test_wrong_in_baseline_inconclusive),
		cmocka_unit_test(test_error_in_baseline_inconclusive_even_for_any),
		cmocka_unit_test(test_slow_in_baseline_is_not_inconclusive),
		cmocka_unit_test(test_degrade),
		cmocka_unit_test(test_degrade_without_recovery_fails),
		cmocka_unit_test(test_no_runs_in_recovery),
		cmocka_unit_test(test_interrupted_before_lift),
		cmocka_unit_test(test_fail_clean),
		cmocka_unit_test(test_recover_deadline_just_met),
		cmocka_unit_test(test_recover_deadline_just_missed),
		cmocka_unit_test(test_recover_never),
		cmocka_unit_test(test_recovery_ignores_baseline),
		cmocka_unit_test(test_any_and_empty_scenarios),
		cmocka_unit_test(test_run_error_fails_scenario),
		cmocka_unit_test(test_add_copies_and_events),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
