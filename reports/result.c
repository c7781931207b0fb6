/*
 * result: the result model of one scenario run and the verdict logic.
 * See result.h for the rules; docs/report-format.md explains them to users.
 *
 * Everything here is plain arithmetic over the recorded flow runs: no clock,
 * no I/O, no knowledge of scenarios. result_finish() may be called more than
 * once (it recomputes everything from the runs), so the runner can finish a
 * partial result for an interrupted run and finish it again later.
 */
#include "reports/result.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation ---- */

struct run_result *result_new(size_t nflows, size_t nfaults)
{
	struct run_result *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->lift_ms = UINT64_MAX;
	if (nflows) {
		r->flows = calloc(nflows, sizeof(*r->flows));
		if (!r->flows)
			goto fail;
		r->nflows = nflows;
	}
	if (nfaults) {
		r->faults = calloc(nfaults, sizeof(*r->faults));
		if (!r->faults)
			goto fail;
		r->nfaults = nfaults;
	}
	return r;
fail:
	result_free(r);
	return NULL;
}

static void flow_result_cleanup(struct flow_result *f)
{
	size_t i;

	free(f->name);
	free(f->description);
	for (i = 0; i < f->nruns; i++) {
		free(f->runs[i].message);
		free(f->runs[i].step);
	}
	free(f->runs);
	free(f->first_error);
	free(f->reason);
}

void result_free(struct run_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nflows; i++)
		flow_result_cleanup(&r->flows[i]);
	free(r->flows);
	for (i = 0; i < r->nfaults; i++) {
		free(r->faults[i].kind);
		free(r->faults[i].label);
		free(r->faults[i].params_json);
		free(r->faults[i].error);
	}
	free(r->faults);
	for (i = 0; i < r->nevents; i++) {
		free(r->events[i].source);
		free(r->events[i].what);
		free(r->events[i].rule);
		free(r->events[i].action);
		free(r->events[i].detail);
	}
	free(r->events);
	for (i = 0; i < r->ncaptures; i++) {
		free(r->captures[i].label);
		free(r->captures[i].role);
		free(r->captures[i].path);
		free(r->captures[i].error);
	}
	free(r->captures);
	for (i = 0; i < r->nevidence; i++)
		free(r->evidence[i].subject);
	free(r->evidence);
	free(r->scenario);
	free(r->description);
	free(r->file);
	free(r->error);
	free(r);
}

/* strdup that maps NULL to NULL; *ok is cleared when memory runs out. */
static char *dup_or_null(const char *s, int *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = 0;
	return d;
}

int result_add_run(struct flow_result *f, const struct flow_run *run)
{
	struct flow_run *slot;
	int ok = 1;

	if (f->nruns >= RESULT_MAX_RUNS)
		return -ENOBUFS;
	if (f->nruns == f->capruns) {
		size_t ncap = f->capruns ? f->capruns * 2 : 16;
		struct flow_run *p;

		if (ncap > RESULT_MAX_RUNS)
			ncap = RESULT_MAX_RUNS;
		p = realloc(f->runs, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		f->runs = p;
		f->capruns = ncap;
	}
	slot = &f->runs[f->nruns];
	*slot = *run;
	slot->message = dup_or_null(run->message, &ok);
	slot->step = dup_or_null(run->step, &ok);
	if (!ok) {
		free(slot->message);
		free(slot->step);
		return -ENOMEM;
	}
	f->nruns++;
	return 0;
}

int result_add_event(struct run_result *r, const struct result_event *ev)
{
	struct result_event *slot;
	int ok = 1;

	if (r->nevents >= RESULT_MAX_EVENTS)
		return -ENOBUFS;
	if (r->nevents == r->capevents) {
		size_t ncap = r->capevents ? r->capevents * 2 : 64;
		struct result_event *p;

		if (ncap > RESULT_MAX_EVENTS)
			ncap = RESULT_MAX_EVENTS;
		p = realloc(r->events, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->events = p;
		r->capevents = ncap;
	}
	slot = &r->events[r->nevents];
	slot->at_ms = ev->at_ms;
	slot->source = dup_or_null(ev->source, &ok);
	slot->what = dup_or_null(ev->what, &ok);
	slot->rule = dup_or_null(ev->rule, &ok);
	slot->action = dup_or_null(ev->action, &ok);
	slot->detail = dup_or_null(ev->detail, &ok);
	if (!ok) {
		free(slot->source);
		free(slot->what);
		free(slot->rule);
		free(slot->action);
		free(slot->detail);
		return -ENOMEM;
	}
	r->nevents++;
	return 0;
}

/*
 * Make room for one more element of size sz in *arr (n used, *cap allocated,
 * at most max). Returns 0, -ENOBUFS at the cap or -ENOMEM.
 */
static int grow(void **arr, size_t n, size_t *cap, size_t sz, size_t first, size_t max)
{
	size_t ncap;
	void *p;

	if (n >= max)
		return -ENOBUFS;
	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	if (ncap > max)
		ncap = max;
	p = realloc(*arr, ncap * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int result_add_evidence(struct run_result *r, const struct evidence *ev)
{
	void *arr = r->evidence;
	struct evidence *slot;
	int rc;

	if (ev->fault >= r->nfaults)
		return -EINVAL;
	rc = grow(&arr, r->nevidence, &r->capevidence, sizeof(*slot), 16, RESULT_MAX_EVIDENCE);
	r->evidence = arr;
	if (rc)
		return rc;
	slot = &r->evidence[r->nevidence];
	*slot = *ev;
	slot->subject = strdup(ev->subject ? ev->subject : "");
	if (!slot->subject)
		return -ENOMEM;
	r->nevidence++;
	return 0;
}

int result_add_capture(struct run_result *r, const struct result_capture *cap)
{
	void *arr = r->captures;
	struct result_capture *slot;
	int rc, ok = 1;

	rc = grow(&arr, r->ncaptures, &r->capcaptures, sizeof(*slot), 4, RESULT_MAX_CAPTURES);
	r->captures = arr;
	if (rc)
		return rc;
	slot = &r->captures[r->ncaptures];
	*slot = *cap;
	slot->label = dup_or_null(cap->label ? cap->label : "", &ok);
	slot->role = dup_or_null(cap->role ? cap->role : "", &ok);
	slot->path = dup_or_null(cap->path ? cap->path : "", &ok);
	slot->error = dup_or_null(cap->error, &ok);
	if (!ok) {
		free(slot->label);
		free(slot->role);
		free(slot->path);
		free(slot->error);
		return -ENOMEM;
	}
	r->ncaptures++;
	return 0;
}

/* ---- statistics ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Nearest-rank percentile over a sorted array: the smallest value such that
 * at least pct% of the values are <= it (rank = ceil(pct/100 * n), at least 1).
 */
static uint64_t nearest_rank(const uint64_t *sorted, size_t n, unsigned pct)
{
	size_t rank;

	if (n == 0)
		return 0;
	if (pct > 100)
		pct = 100;
	rank = ((size_t)pct * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/* The phase's latencies, sorted; *n receives the count. NULL when none or out of memory. */
static uint64_t *phase_latencies(const struct flow_result *f, enum phase p, size_t *n)
{
	uint64_t *v;
	size_t i, k = 0;

	*n = 0;
	for (i = 0; i < f->nruns; i++)
		if (f->runs[i].phase == p)
			k++;
	if (k == 0)
		return NULL;
	v = malloc(k * sizeof(*v));
	if (!v)
		return NULL;
	k = 0;
	for (i = 0; i < f->nruns; i++)
		if (f->runs[i].phase == p)
			v[k++] = f->runs[i].latency_us;
	qsort(v, k, sizeof(*v), cmp_u64);
	*n = k;
	return v;
}

uint64_t result_percentile(const struct flow_result *f, enum phase p, unsigned pct)
{
	size_t n;
	uint64_t *v = phase_latencies(f, p, &n);
	uint64_t x = nearest_rank(v, n, pct);

	free(v);
	return x;
}

static void phase_stats_compute(const struct flow_result *f, enum phase p,
				struct phase_stats *st)
{
	size_t i, n;
	uint64_t *v;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < f->nruns; i++) {
		const struct flow_run *run = &f->runs[i];

		if (run->phase != p || (unsigned)run->outcome >= OUTCOME_COUNT)
			continue;
		st->count[run->outcome]++;
		st->runs++;
	}
	v = phase_latencies(f, p, &n);
	if (v) {
		st->p50_us = nearest_rank(v, n, 50);
		st->p95_us = nearest_rank(v, n, 95);
		st->max_us = v[n - 1];
		free(v);
	} else if (st->runs) {
		/* Out of memory for the sort: fall back to the maximum only. */
		for (i = 0; i < f->nruns; i++)
			if (f->runs[i].phase == p && f->runs[i].latency_us > st->max_us)
				st->max_us = f->runs[i].latency_us;
	}
}

/*
 * Runs are recorded when they end; order them by start time (stable, so runs
 * that started in the same millisecond keep their recorded order). Insertion
 * sort: the array is already sorted or nearly so.
 */
static void runs_sort(struct flow_result *f)
{
	size_t i, j;

	for (i = 1; i < f->nruns; i++) {
		struct flow_run tmp = f->runs[i];

		for (j = i; j > 0 && f->runs[j - 1].start_ms > tmp.start_ms; j--)
			f->runs[j] = f->runs[j - 1];
		f->runs[j] = tmp;
	}
}

static int run_passed(const struct flow_run *run)
{
	return run->outcome == OUTCOME_OK || run->outcome == OUTCOME_SLOW;
}

static int run_after_baseline(const struct flow_run *run)
{
	return run->phase == PHASE_FAULT || run->phase == PHASE_RECOVERY;
}

/* ---- reasons ---- */

/* printf into a fresh heap string; NULL when out of memory. */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

#define MASK(o) (1u << (o))
#define MASK_BAD (MASK(OUTCOME_ERROR) | MASK(OUTCOME_WRONG))

/* The first run in the given phases whose outcome is in mask, or NULL. */
static const struct flow_run *first_run(const struct flow_result *f, unsigned phases,
					unsigned mask)
{
	size_t i;

	for (i = 0; i < f->nruns; i++) {
		const struct flow_run *run = &f->runs[i];

		if ((unsigned)run->phase >= PHASE_COUNT || (unsigned)run->outcome >= OUTCOME_COUNT)
			continue;
		if ((phases & (1u << run->phase)) && (mask & MASK(run->outcome)))
			return run;
	}
	return NULL;
}

/*
 * "3 of 12 runs in the fault phase were wrong: <message>"; the phases named
 * are those among fault and recovery (or baseline alone) that hold a run with
 * an outcome in mask.
 */
static char *describe_bad(const struct flow_result *f, unsigned phases, unsigned mask)
{
	size_t bad[PHASE_COUNT] = { 0 }, nerr = 0, nwrong = 0;
	char where[256] = "";
	const char *verb;
	const struct flow_run *first;
	char verbbuf[96];
	size_t len = 0;
	int p, parts = 0;

	for (p = 0; p < PHASE_COUNT; p++) {
		const struct phase_stats *st = &f->phases[p];

		if (!(phases & (1u << p)))
			continue;
		if (mask & MASK(OUTCOME_ERROR)) {
			bad[p] += st->count[OUTCOME_ERROR];
			nerr += st->count[OUTCOME_ERROR];
		}
		if (mask & MASK(OUTCOME_WRONG)) {
			bad[p] += st->count[OUTCOME_WRONG];
			nwrong += st->count[OUTCOME_WRONG];
		}
	}
	for (p = 0; p < PHASE_COUNT; p++) {
		if (!bad[p])
			continue;
		len += (size_t)snprintf(where + len, sizeof(where) - len,
					parts ? " and %zu of %zu in the %s phase"
					      : "%zu of %zu runs in the %s phase",
					bad[p], f->phases[p].runs, phase_name((enum phase)p));
		if (len >= sizeof(where))
			len = sizeof(where) - 1;
		parts++;
	}
	if (nerr && nwrong) {
		snprintf(verbbuf, sizeof(verbbuf), "failed (%zu error, %zu wrong)", nerr, nwrong);
		verb = verbbuf;
	} else if (nwrong) {
		verb = nwrong == 1 ? "was wrong" : "were wrong";
	} else {
		verb = "ended in error";
	}
	first = first_run(f, phases, mask);
	if (first && first->message && *first->message)
		return strf("%s %s: %s", where, verb, first->message);
	return strf("%s %s", where, verb);
}

#define PH_BASE (1u << PHASE_BASELINE)
#define PH_AFTER ((1u << PHASE_FAULT) | (1u << PHASE_RECOVERY))

static size_t after_runs(const struct flow_result *f)
{
	return f->phases[PHASE_FAULT].runs + f->phases[PHASE_RECOVERY].runs;
}

static size_t after_count(const struct flow_result *f, enum outcome o)
{
	return f->phases[PHASE_FAULT].count[o] + f->phases[PHASE_RECOVERY].count[o];
}

/* Why the flow did not recover, for DEGRADE and RECOVER failures. */
static char *describe_no_recovery(const struct flow_result *f, uint64_t lift_ms)
{
	const struct phase_stats *st = &f->phases[PHASE_RECOVERY];

	if (lift_ms == UINT64_MAX)
		return strf("the faults were never lifted, so recovery was never observed");
	if (!f->recovery_runs)
		return strf("no run started after the faults lifted at %llu ms, so recovery "
			    "was never observed", (unsigned long long)lift_ms);
	return strf("none of the %zu runs that started after the faults lifted at %llu ms "
		    "passed (%zu error, %zu wrong in the recovery phase)",
		    f->recovery_runs, (unsigned long long)lift_ms,
		    st->count[OUTCOME_ERROR], st->count[OUTCOME_WRONG]);
}

/* ---- verdicts ---- */

static void flow_finish(struct flow_result *f, uint64_t lift_ms)
{
	const struct flow_run *first, *rec = NULL;
	uint64_t rec_us = 0;
	size_t i;
	int p;

	runs_sort(f);
	for (p = 0; p < PHASE_COUNT; p++)
		phase_stats_compute(f, (enum phase)p, &f->phases[p]);

	/* broke, first_error */
	f->broke = after_runs(f) != after_count(f, OUTCOME_OK);
	free(f->first_error);
	f->first_error = NULL;
	f->first_bad = OUTCOME_OK;
	first = first_run(f, PH_AFTER, MASK_BAD);
	if (first) {
		f->first_bad = first->outcome;
		f->first_error = strdup(first->message ? first->message : "(no message)");
	}

	/* recovery: the first passing run that started at or after the lift */
	f->recovery_runs = 0;
	for (i = 0; i < f->nruns; i++) {
		const struct flow_run *run = &f->runs[i];

		if (!run_after_baseline(run) || run->start_ms < lift_ms)
			continue;
		f->recovery_runs++;
		if (!rec && run_passed(run))
			rec = run;
	}
	f->recovered = rec != NULL;
	f->recovered_after_us = 0;
	f->recovered_after_ms = 0;
	if (rec) {
		rec_us = (rec->start_ms - lift_ms) * 1000 + rec->latency_us;
		f->recovered_after_us = rec_us;
		f->recovered_after_ms = (rec_us + 999) / 1000;
	}

	free(f->reason);
	f->reason = NULL;

	if (f->phases[PHASE_BASELINE].count[OUTCOME_ERROR] ||
	    f->phases[PHASE_BASELINE].count[OUTCOME_WRONG]) {
		char *d = describe_bad(f, PH_BASE, MASK_BAD);

		f->verdict = VERDICT_INCONCLUSIVE;
		f->reason = d ? strf("before any fault, %s", d) : NULL;
		free(d);
		return;
	}

	switch (f->expect) {
	case RESULT_EXPECT_SURVIVE:
		if (after_count(f, OUTCOME_ERROR) || after_count(f, OUTCOME_WRONG)) {
			f->verdict = VERDICT_FAIL;
			f->reason = describe_bad(f, PH_AFTER, MASK_BAD);
		} else if (!after_runs(f)) {
			f->verdict = VERDICT_PASS;
			f->reason = strf("no run took place in the fault or recovery phase, "
					 "so nothing contradicts survive");
		} else {
			f->verdict = VERDICT_PASS;
			f->reason = strf("all %zu runs in the fault and recovery phases passed "
					 "(%zu slow)", after_runs(f), after_count(f, OUTCOME_SLOW));
		}
		break;
	case RESULT_EXPECT_DEGRADE:
		if (after_count(f, OUTCOME_WRONG)) {
			f->verdict = VERDICT_FAIL;
			f->reason = describe_bad(f, PH_AFTER, MASK(OUTCOME_WRONG));
		} else if (!f->recovered) {
			f->verdict = VERDICT_FAIL;
			f->reason = describe_no_recovery(f, lift_ms);
		} else {
			f->verdict = VERDICT_PASS;
			f->reason = strf("no wrong answer in %zu runs (%zu slow, %zu error) and "
					 "passed again %llu ms after the faults lifted",
					 after_runs(f), after_count(f, OUTCOME_SLOW),
					 after_count(f, OUTCOME_ERROR),
					 (unsigned long long)f->recovered_after_ms);
		}
		break;
	case RESULT_EXPECT_FAIL_CLEAN:
		if (after_count(f, OUTCOME_WRONG)) {
			f->verdict = VERDICT_FAIL;
			f->reason = describe_bad(f, PH_AFTER, MASK(OUTCOME_WRONG));
		} else {
			f->verdict = VERDICT_PASS;
			f->reason = strf("no wrong answer in %zu runs of the fault and recovery "
					 "phases (%zu error)", after_runs(f),
					 after_count(f, OUTCOME_ERROR));
		}
		break;
	case RESULT_EXPECT_RECOVER:
		if (!f->recovered) {
			f->verdict = VERDICT_FAIL;
			f->reason = describe_no_recovery(f, lift_ms);
		} else if (rec_us > f->expect_within_us) {
			f->verdict = VERDICT_FAIL;
			f->reason = strf("passed again only %llu ms after the faults lifted, over "
					 "the %llu ms deadline",
					 (unsigned long long)f->recovered_after_ms,
					 (unsigned long long)(f->expect_within_us / 1000));
		} else {
			f->verdict = VERDICT_PASS;
			f->reason = strf("passed again %llu ms after the faults lifted, within "
					 "the %llu ms deadline",
					 (unsigned long long)f->recovered_after_ms,
					 (unsigned long long)(f->expect_within_us / 1000));
		}
		break;
	case RESULT_EXPECT_ANY:
	default:
		f->verdict = VERDICT_NONE;
		f->reason = strf("observed only, no expectation: %zu of %zu runs in the fault "
				 "and recovery phases passed", after_count(f, OUTCOME_OK) +
				 after_count(f, OUTCOME_SLOW), after_runs(f));
		break;
	}
}

void result_finish(struct run_result *r)
{
	size_t i;
	int inconclusive = 0, failed = 0;

	for (i = 0; i < r->nflows; i++) {
		flow_finish(&r->flows[i], r->lift_ms);
		if (r->flows[i].verdict == VERDICT_INCONCLUSIVE)
			inconclusive = 1;
		else if (r->flows[i].verdict == VERDICT_FAIL)
			failed = 1;
	}
	if (inconclusive)
		r->verdict = VERDICT_INCONCLUSIVE;
	else if (failed || r->error || r->interrupted)
		r->verdict = VERDICT_FAIL;
	else
		r->verdict = VERDICT_PASS;
}

/* ---- names ---- */

const char *outcome_name(enum outcome o)
{
	switch (o) {
	case OUTCOME_OK: return "ok";
	case OUTCOME_SLOW: return "slow";
	case OUTCOME_ERROR: return "error";
	case OUTCOME_WRONG: return "wrong";
	default: return "?";
	}
}

const char *phase_name(enum phase p)
{
	switch (p) {
	case PHASE_BASELINE: return "baseline";
	case PHASE_FAULT: return "fault";
	case PHASE_RECOVERY: return "recovery";
	default: return "?";
	}
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "pass";
	case VERDICT_FAIL: return "fail";
	case VERDICT_INCONCLUSIVE: return "inconclusive";
	case VERDICT_NONE: return "none";
	default: return "?";
	}
}

const char *result_expect_name(enum result_expect e)
{
	switch (e) {
	case RESULT_EXPECT_SURVIVE: return "survive";
	case RESULT_EXPECT_DEGRADE: return "degrade";
	case RESULT_EXPECT_FAIL_CLEAN: return "fail-clean";
	case RESULT_EXPECT_RECOVER: return "recover";
	case RESULT_EXPECT_ANY: return "any";
	default: return "?";
	}
}

const char *evidence_kind_name(enum evidence_kind k)
{
	switch (k) {
	case EVIDENCE_PREFIX: return "prefix";
	case EVIDENCE_CONNECT: return "connect";
	case EVIDENCE_DNS: return "dns";
	default: return "?";
	}
}

const char *evidence_rcode_name(unsigned rcode, char *buf)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, 16, "RCODE%u", rcode & 0xffffu);
	return buf;
}

int verdict_exit_code(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
	case VERDICT_NONE:
		return 0;
	case VERDICT_INCONCLUSIVE:
		return 4;
	case VERDICT_FAIL:
	default:
		return 1;
	}
}

int evidence_summarize(const struct run_result *r, size_t fault, struct evidence_summary *s)
{
	size_t k;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < r->nevidence; k++) {
		const struct evidence *ev = &r->evidence[k];

		if (ev->fault != fault)
			continue;
		if (ev->kind == EVIDENCE_PREFIX) {
			s->prefix = 1;
			s->sent += ev->sent;
			s->answered += ev->answered;
			s->unreachable += ev->unreachable;
			if (ev->through != UINT64_MAX) {
				s->far = 1;
				s->through += ev->through;
			}
		} else if (ev->kind == EVIDENCE_CONNECT) {
			s->dests++;
			s->attempts += ev->attempts;
			s->retries += ev->retries;
			s->syn_acks += ev->answered;
		} else {
			s->dns = 1;
			s->queries += ev->sent;
			s->answers += ev->answered;
		}
	}
	return s->prefix || s->dests || s->dns;
}

static const char *evidence_pl(uint64_t n)
{
	return n == 1 ? "" : "s";
}

void evidence_summary_text(const struct evidence_summary *s, char *buf, size_t n)
{
	size_t len = 0;

#define EV_PUT(...)                                                                       \
	do {                                                                              \
		int w_ = len < n ? snprintf(buf + len, n - len, __VA_ARGS__) : 0;         \
		if (w_ > 0)                                                               \
			len = len + (size_t)w_ < n ? len + (size_t)w_ : n;                \
	} while (0)

	if (n)
		buf[0] = '\0';
	if (s->prefix) {
		EV_PUT(" %llu packet%s toward it", (unsigned long long)s->sent, evidence_pl(s->sent));
		if (s->far)
			EV_PUT(", %llu got through", (unsigned long long)s->through);
		EV_PUT(", %llu came back from it, %llu ICMP unreachable.",
		       (unsigned long long)s->answered, (unsigned long long)s->unreachable);
	}
	if (s->dests)
		EV_PUT(" %llu connection attempt%s and %llu SYN retransmit%s to %llu destination%s, "
		       "%llu answered.", (unsigned long long)s->attempts, evidence_pl(s->attempts),
		       (unsigned long long)s->retries, evidence_pl(s->retries),
		       (unsigned long long)s->dests, evidence_pl(s->dests),
		       (unsigned long long)s->syn_acks);
	if (s->dns)
		EV_PUT(" %llu DNS quer%s for its names, %llu answer%s.", (unsigned long long)s->queries,
		       s->queries == 1 ? "y" : "ies", (unsigned long long)s->answers,
		       evidence_pl(s->answers));
#undef EV_PUT
}
