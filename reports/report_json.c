/*
 * report_json: the JSON report. See report_json.h and docs/report-format.md.
 *
 * The writer emits text itself rather than building a jansson tree and
 * dumping it: jansson prints reals with %.17g (so 12.5 ms could come out as
 * 12.500000000000002 or in exponent form), and the report promises exactly
 * three decimals and byte-stable output for golden-file tests. jansson is
 * still used to check that a fault's parameters are valid JSON before they
 * are embedded verbatim.
 */
#include "reports/report_json.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "reports/report_out.h"

/*
 * A streaming writer with pretty layout: one member per line, except inside
 * "inline" containers (a run, an event), which stay on one line.
 */
struct jw {
	FILE *out;
	int depth;
	int first;       /* nothing written yet in the current container */
	int inl_depth;   /* depth at which the current inline container opened, 0 if none */
};

static void jw_indent(struct jw *w)
{
	int i;

	fputc('\n', w->out);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

static void jw_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	uint32_t cp;

	fputc('"', out);
	while (n) {
		size_t k = report_out_utf8(p, n, &cp);

		switch (cp) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		default:
			if (cp < 0x20 || cp == 0x7F)
				fprintf(out, "\\u%04x", (unsigned)cp);
			else if (cp == REPORT_OUT_REPLACEMENT && k == 1)
				fputs("\\ufffd", out);
			else
				fwrite(p, 1, k, out);
		}
		p += k;
		n -= k;
	}
	fputc('"', out);
}

/* Separator and key before a value; key NULL inside arrays. */
static void jw_key(struct jw *w, const char *key)
{
	if (!w->first)
		fputc(',', w->out);
	if (w->inl_depth) {
		if (!w->first)
			fputc(' ', w->out);
	} else if (w->depth > 0) {
		jw_indent(w);
	}
	w->first = 0;
	if (key) {
		jw_string(w->out, key);
		fputs(": ", w->out);
	}
}

static void jw_open(struct jw *w, const char *key, char ch, int inl)
{
	jw_key(w, key);
	fputc(ch, w->out);
	w->depth++;
	w->first = 1;
	if (inl && !w->inl_depth)
		w->inl_depth = w->depth;
}

static void jw_close(struct jw *w, char ch)
{
	int was_empty = w->first;

	if (w->inl_depth == w->depth) {
		w->inl_depth = 0;
		w->depth--;
	} else {
		w->depth--;
		if (!w->inl_depth && !was_empty)
			jw_indent(w);
	}
	w->first = 0;
	fputc(ch, w->out);
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	if (v)
		jw_string(w->out, v);
	else
		fputs("null", w->out);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->out, "%llu", (unsigned long long)v);
}

/* A time offset in ms, or null when it never happened (UINT64_MAX). */
static void jw_at(struct jw *w, const char *key, uint64_t v)
{
	if (v == UINT64_MAX) {
		jw_key(w, key);
		fputs("null", w->out);
	} else {
		jw_u64(w, key, v);
	}
}

static void jw_ms3(struct jw *w, const char *key, uint64_t us)
{
	char num[REPORT_OUT_NUM];

	report_out_ms3(num, us);
	jw_key(w, key);
	fputs(num, w->out);
}

static void jw_bool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->out);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->out);
}

/* Embed the fault's own JSON when it is valid, else keep it as a string. */
static void jw_params(struct jw *w, const char *key, const char *json)
{
	json_error_t jerr;
	json_t *v;

	if (!json) {
		jw_null(w, key);
		return;
	}
	v = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		jw_str(w, key, json);
		return;
	}
	json_decref(v);
	jw_key(w, key);
	fputs(json, w->out);
}

static void write_phase_stats(struct jw *w, const struct phase_stats *st)
{
	jw_u64(w, "ok", st->count[OUTCOME_OK]);
	jw_u64(w, "slow", st->count[OUTCOME_SLOW]);
	jw_u64(w, "error", st->count[OUTCOME_ERROR]);
	jw_u64(w, "wrong", st->count[OUTCOME_WRONG]);
	jw_u64(w, "runs", st->runs);
	jw_ms3(w, "p50_ms", st->p50_us);
	jw_ms3(w, "p95_ms", st->p95_us);
	jw_ms3(w, "max_ms", st->max_us);
}

static void write_flow(struct jw *w, const struct flow_result *f)
{
	size_t i;
	int p;

	jw_open(w, NULL, '{', 0);
	jw_str(w, "name", f->name);
	jw_str(w, "description", f->description);
	jw_str(w, "expect", result_expect_name(f->expect));
	if (f->expect == RESULT_EXPECT_RECOVER)
		jw_ms3(w, "expect_within_ms", f->expect_within_us);
	else
		jw_null(w, "expect_within_ms");
	jw_str(w, "verdict", verdict_name(f->verdict));
	jw_str(w, "reason", f->reason);
	jw_bool(w, "broke", f->broke);
	jw_bool(w, "recovered", f->recovered);
	if (f->recovered)
		jw_u64(w, "recovered_after_ms", f->recovered_after_ms);
	else
		jw_null(w, "recovered_after_ms");
	jw_str(w, "first_error", f->first_error);
	jw_str(w, "first_bad", f->first_error ? outcome_name(f->first_bad) : NULL);
	jw_open(w, "phases", '{', 0);
	for (p = 0; p < PHASE_COUNT; p++) {
		jw_open(w, phase_name((enum phase)p), '{', 1);
		write_phase_stats(w, &f->phases[p]);
		jw_close(w, '}');
	}
	jw_close(w, '}');
	jw_open(w, "runs", '[', 0);
	for (i = 0; i < f->nruns; i++) {
		const struct flow_run *run = &f->runs[i];

		jw_open(w, NULL, '{', 1);
		jw_u64(w, "t_ms", run->start_ms);
		jw_str(w, "phase", phase_name(run->phase));
		jw_str(w, "outcome", outcome_name(run->outcome));
		jw_ms3(w, "latency_ms", run->latency_us);
		jw_str(w, "step", run->step);
		jw_str(w, "message", run->message);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

/*
 * Packet evidence (--pcap): the capture points and the counts per fault.
 * Written only when the run captured, so reports of runs without captures
 * stay as they were.
 */
static void write_evidence(struct jw *w, const struct run_result *r)
{
	char rbuf[16];
	size_t i;
	unsigned k;

	jw_open(w, "captures", '[', 0);
	for (i = 0; i < r->ncaptures; i++) {
		const struct result_capture *cp = &r->captures[i];

		jw_open(w, NULL, '{', 1);
		jw_str(w, "label", cp->label);
		jw_str(w, "role", cp->role);
		jw_str(w, "path", cp->path);
		jw_u64(w, "packets", cp->packets);
		jw_u64(w, "dropped", cp->dropped);
		jw_u64(w, "undecoded", cp->undecoded);
		jw_str(w, "error", cp->error);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "evidence", '[', 0);
	for (i = 0; i < r->nevidence; i++) {
		const struct evidence *ev = &r->evidence[i];

		jw_open(w, NULL, '{', 1);
		jw_str(w, "kind", evidence_kind_name(ev->kind));
		jw_u64(w, "fault", ev->fault);
		jw_str(w, "subject", ev->subject);
		switch (ev->kind) {
		case EVIDENCE_PREFIX:
			jw_u64(w, "sent", ev->sent);
			jw_at(w, "through", ev->through);
			jw_u64(w, "answered", ev->answered);
			jw_u64(w, "unreachable", ev->unreachable);
			break;
		case EVIDENCE_CONNECT:
			jw_u64(w, "attempts", ev->attempts);
			jw_u64(w, "retries", ev->retries);
			jw_u64(w, "answered", ev->answered);
			jw_u64(w, "reset", ev->reset);
			jw_u64(w, "unreachable", ev->unreachable);
			break;
		case EVIDENCE_DNS:
			jw_u64(w, "queries", ev->sent);
			jw_u64(w, "answers", ev->answered);
			jw_open(w, "rcodes", '{', 1);
			for (k = 0; k < 16; k++)
				if (ev->rcode[k])
					jw_u64(w, evidence_rcode_name(k, rbuf), ev->rcode[k]);
			jw_close(w, '}');
			break;
		}
		jw_at(w, "first_ms", ev->first_ms);
		jw_at(w, "last_ms", ev->last_ms);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

int report_json_write(const struct run_result *r, FILE *out, struct err *err)
{
	struct jw w = { .out = out, .depth = 0, .first = 1, .inl_depth = 0 };
	char ts[REPORT_OUT_NUM];
	size_t i;
	int p;

	jw_open(&w, NULL, '{', 0);
	jw_u64(&w, "doorjam_report", REPORT_JSON_VERSION);
	jw_str(&w, "scenario", r->scenario);
	jw_str(&w, "description", r->description);
	jw_str(&w, "file", r->file);
	jw_u64(&w, "seed", r->seed);
	jw_str(&w, "verdict", verdict_name(r->verdict));
	jw_u64(&w, "exit_code", (uint64_t)verdict_exit_code(r->verdict));
	jw_bool(&w, "interrupted", r->interrupted);
	jw_str(&w, "error", r->error);
	report_out_time(ts, r->started_at_unix_ms, REPORT_OUT_RFC3339);
	jw_str(&w, "started_at", ts);
	jw_u64(&w, "duration_ms", r->duration_ms);
	jw_at(&w, "lift_ms", r->lift_ms);

	jw_open(&w, "phases", '{', 0);
	for (p = 0; p < PHASE_COUNT; p++) {
		jw_open(&w, phase_name((enum phase)p), '{', 1);
		jw_at(&w, "start_ms", r->phase_start_ms[p]);
		jw_at(&w, "end_ms", r->phase_end_ms[p]);
		jw_close(&w, '}');
	}
	jw_close(&w, '}');

	jw_open(&w, "faults", '[', 0);
	for (i = 0; i < r->nfaults; i++) {
		const struct fault_window *fw = &r->faults[i];

		jw_open(&w, NULL, '{', 1);
		jw_str(&w, "kind", fw->kind);
		jw_str(&w, "label", fw->label);
		jw_params(&w, "params", fw->params_json);
		jw_at(&w, "start_ms", fw->start_ms);
		jw_at(&w, "end_ms", fw->end_ms);
		jw_str(&w, "error", fw->error);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_open(&w, "flows", '[', 0);
	for (i = 0; i < r->nflows; i++)
		write_flow(&w, &r->flows[i]);
	jw_close(&w, ']');

	jw_open(&w, "events", '[', 0);
	for (i = 0; i < r->nevents; i++) {
		const struct result_event *ev = &r->events[i];

		jw_open(&w, NULL, '{', 1);
		jw_u64(&w, "at_ms", ev->at_ms);
		jw_str(&w, "source", ev->source);
		jw_str(&w, "what", ev->what);
		jw_str(&w, "rule", ev->rule);
		jw_str(&w, "action", ev->action);
		jw_str(&w, "detail", ev->detail);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	if (r->ncaptures || r->nevidence)
		write_evidence(&w, r);
	jw_close(&w, '}');
	fputc('\n', out);

	if (ferror(out))
		return err_set(err, -EIO, "JSON report: write error");
	return 0;
}

static int write_cb(const void *ctx, FILE *out, struct err *err)
{
	return report_json_write(ctx, out, err);
}

int report_json_write_path(const struct run_result *r, const char *path, struct err *err)
{
	return report_out_file(path, write_cb, r, err);
}
