/*
 * report_term: the terminal summary. See report_term.h.
 */
#include "reports/report_term.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_out.h"

#define SGR_RESET   "\033[0m"
#define SGR_BOLD    "\033[1m"
#define SGR_DIM     "\033[2m"
#define SGR_RED     "\033[31m"
#define SGR_BRED    "\033[1;31m"
#define SGR_GREEN   "\033[32m"
#define SGR_YELLOW  "\033[33m"
#define SGR_MAGENTA "\033[1;35m"

#define GAP 2   /* spaces between columns */

/*
 * A copy of s fit for a terminal: tabs and newlines become spaces, other
 * control characters '?', invalid UTF-8 U+FFFD; cut after max characters.
 * Returns a heap string (caller frees), or NULL when out of memory.
 */
static char *term_clean(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), chars = 0;
	char *res = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&res, &len);
	uint32_t cp;

	if (!m)
		return NULL;
	while (n) {
		size_t k = report_out_utf8(p, n, &cp);

		if (chars == max) {
			fputs("...", m);
			break;
		}
		if (cp == '\t' || cp == '\n' || cp == '\r')
			fputc(' ', m);
		else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			fputc('?', m);
		else if (cp == REPORT_OUT_REPLACEMENT && k == 1)
			report_out_put_cp(m, cp);
		else
			fwrite(p, 1, k, m);
		chars++;
		p += k;
		n -= k;
	}
	if (fclose(m) != 0) {
		free(res);
		return NULL;
	}
	return res;
}

/* Print s sanitised; "?" when memory runs out. */
static void put_clean(FILE *out, const char *s, size_t max)
{
	char *c = term_clean(s, max);

	fputs(c ? c : "?", out);
	free(c);
}

/*
 * One table line: cells are printed with padding, and padding is only
 * written when something follows it, so lines carry no trailing blanks.
 */
struct line {
	FILE *out;
	int color;
	size_t pending;
};

static void cell(struct line *l, const char *text, size_t width, int right, const char *sgr)
{
	size_t w = report_out_width(text), pad = w < width ? width - w : 0;

	if (!*text) {
		l->pending += width + GAP;
		return;
	}
	if (right)
		l->pending += pad;
	fprintf(l->out, "%*s", (int)l->pending, "");
	if (l->color && sgr)
		fprintf(l->out, "%s%s%s", sgr, text, SGR_RESET);
	else
		fputs(text, l->out);
	l->pending = (right ? 0 : pad) + GAP;
}

static void line_end(struct line *l)
{
	fputc('\n', l->out);
	l->pending = 0;
}

static const char *verdict_sgr(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return SGR_GREEN;
	case VERDICT_FAIL: return SGR_BRED;
	case VERDICT_INCONCLUSIVE: return SGR_YELLOW;
	default: return SGR_DIM;
	}
}

static void verdict_upper(char *buf, size_t n, enum verdict v)
{
	const char *s = verdict_name(v);
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
	buf[i] = '\0';
}

static void expect_text(char *buf, size_t n, const struct flow_result *f)
{
	if (f->expect == RESULT_EXPECT_RECOVER) {
		char ms[REPORT_OUT_NUM];

		report_out_s3(ms, f->expect_within_us / 1000);
		snprintf(buf, n, "recover<=%ss", ms);
	} else {
		snprintf(buf, n, "%s", result_expect_name(f->expect));
	}
}

/*
 * A window "10.000s-30.000s"; open names what to say when it never ended,
 * unset what to say when it never started.
 */
static void window_text(char *buf, size_t n, uint64_t start, uint64_t end,
			const char *unset, const char *open)
{
	char a[REPORT_OUT_NUM], b[REPORT_OUT_NUM];

	if (start == UINT64_MAX) {
		snprintf(buf, n, "%s", unset);
		return;
	}
	report_out_s3(a, start);
	if (end == UINT64_MAX) {
		snprintf(buf, n, "%ss-(%s)", a, open);
		return;
	}
	report_out_s3(b, end);
	snprintf(buf, n, "%ss-%ss", a, b);
}

struct widths {
	size_t name, count, ms, expect;
};

static size_t digits(uint64_t v)
{
	size_t d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static void measure(const struct run_result *r, struct widths *w)
{
	char buf[64];
	size_t i;
	int p, o;

	w->name = strlen("FLOW");
	w->count = strlen("WRONG");
	w->ms = strlen("P95 ms");
	w->expect = strlen("EXPECT");
	for (i = 0; i < r->nflows; i++) {
		const struct flow_result *f = &r->flows[i];
		char *name = term_clean(f->name ? f->name : "(unnamed)", REPORT_TERM_MSG_MAX);
		size_t nw = name ? report_out_width(name) : 1;

		free(name);
		if (nw > w->name)
			w->name = nw;
		expect_text(buf, sizeof(buf), f);
		if (strlen(buf) > w->expect)
			w->expect = strlen(buf);
		for (p = 0; p < PHASE_COUNT; p++) {
			const struct phase_stats *st = &f->phases[p];

			for (o = 0; o < OUTCOME_COUNT; o++)
				if (digits(st->count[o]) > w->count)
					w->count = digits(st->count[o]);
			report_out_ms3(buf, st->p95_us);
			if (strlen(buf) > w->ms)
				w->ms = strlen(buf);
			report_out_ms3(buf, st->p50_us);
			if (strlen(buf) > w->ms)
				w->ms = strlen(buf);
		}
	}
}

static void write_header(const struct run_result *r, FILE *out, int color)
{
	struct evidence_summary sum;
	char text[512];
	char ts[REPORT_OUT_NUM], dur[REPORT_OUT_NUM], win[96];
	size_t i;
	int p;

	report_out_time(ts, r->started_at_unix_ms, REPORT_OUT_RFC3339);
	report_out_s3(dur, r->duration_ms);
	fputs(color ? SGR_BOLD "doorjam " : "doorjam ", out);
	put_clean(out, r->scenario ? r->scenario : "(unnamed scenario)", REPORT_TERM_MSG_MAX);
	fprintf(out, "%s  seed %llu  started %s  took %ss%s\n", color ? SGR_RESET : "",
		(unsigned long long)r->seed, ts, dur, r->interrupted ? "  (interrupted)" : "");
	if (r->description) {
		fputs("  ", out);
		put_clean(out, r->description, REPORT_TERM_MSG_MAX);
		fputc('\n', out);
	}
	fputs("phases:", out);
	for (p = 0; p < PHASE_COUNT; p++) {
		window_text(win, sizeof(win), r->phase_start_ms[p], r->phase_end_ms[p],
			    "not reached", "cut short");
		fprintf(out, "%s %s %s", p ? "," : "", phase_name((enum phase)p), win);
	}
	fputc('\n', out);
	for (i = 0; i < r->nfaults; i++) {
		const struct fault_window *fw = &r->faults[i];

		window_text(win, sizeof(win), fw->start_ms, fw->end_ms, "not applied",
			    "never lifted");
		fputs("fault: ", out);
		put_clean(out, fw->label ? fw->label : fw->kind ? fw->kind : "?",
			  REPORT_TERM_MSG_MAX);
		fprintf(out, "  %s", win);
		if (fw->error) {
			fputs(color ? "  " SGR_RED "failed: " : "  failed: ", out);
			put_clean(out, fw->error, REPORT_TERM_MSG_MAX);
			if (color)
				fputs(SGR_RESET, out);
		}
		fputc('\n', out);
		if (evidence_summarize(r, i, &sum)) {
			evidence_summary_text(&sum, text, sizeof(text));
			fprintf(out, "  packets:%s\n", text);
		}
	}
	if (r->error) {
		fputs(color ? SGR_BRED "run error: " : "run error: ", out);
		put_clean(out, r->error, REPORT_TERM_MSG_MAX);
		fputs(color ? SGR_RESET "\n" : "\n", out);
	}
	fputc('\n', out);
}

static void write_flow(const struct flow_result *f, const struct widths *w, struct line *l)
{
	char buf[64], num[REPORT_OUT_NUM];
	char *name = term_clean(f->name ? f->name : "(unnamed)", REPORT_TERM_MSG_MAX);
	FILE *out = l->out;
	int p;

	for (p = 0; p < PHASE_COUNT; p++) {
		const struct phase_stats *st = &f->phases[p];

		cell(l, p == 0 ? (name ? name : "?") : "", w->name, 0, NULL);
		cell(l, phase_name((enum phase)p), strlen("recovery"), 0, NULL);
		snprintf(buf, sizeof(buf), "%zu", st->count[OUTCOME_OK]);
		cell(l, buf, w->count, 1, NULL);
		snprintf(buf, sizeof(buf), "%zu", st->count[OUTCOME_SLOW]);
		cell(l, buf, w->count, 1, st->count[OUTCOME_SLOW] ? SGR_YELLOW : NULL);
		snprintf(buf, sizeof(buf), "%zu", st->count[OUTCOME_ERROR]);
		cell(l, buf, w->count, 1, st->count[OUTCOME_ERROR] ? SGR_RED : NULL);
		snprintf(buf, sizeof(buf), "%zu", st->count[OUTCOME_WRONG]);
		cell(l, buf, w->count, 1, st->count[OUTCOME_WRONG] ? SGR_MAGENTA : NULL);
		report_out_ms3(num, st->p50_us);
		cell(l, st->runs ? num : "-", w->ms, 1, NULL);
		report_out_ms3(num, st->p95_us);
		cell(l, st->runs ? num : "-", w->ms, 1, NULL);
		if (p == 0) {
			expect_text(buf, sizeof(buf), f);
			cell(l, buf, w->expect, 0, NULL);
			verdict_upper(buf, sizeof(buf), f->verdict);
			cell(l, buf, strlen("INCONCLUSIVE"), 0, verdict_sgr(f->verdict));
			if (f->recovered)
				snprintf(buf, sizeof(buf), "%llu ms",
					 (unsigned long long)f->recovered_after_ms);
			else
				snprintf(buf, sizeof(buf), "%s", f->recovery_runs ? "no" : "-");
			cell(l, buf, 0, 0, NULL);
		}
		line_end(l);
	}
	free(name);

	if (f->reason) {
		fprintf(out, "%*s", (int)(w->name + GAP), "");
		fputs(l->color ? SGR_DIM "why: " SGR_RESET : "why: ", out);
		put_clean(out, f->reason, REPORT_TERM_MSG_MAX);
		fputc('\n', out);
	}
	/* The first error, unless the reason already quotes it. */
	if (f->first_error && (!f->reason || !strstr(f->reason, f->first_error))) {
		fprintf(out, "%*s", (int)(w->name + GAP), "");
		fprintf(out, "%sfirst %s:%s ", l->color ? SGR_DIM : "", outcome_name(f->first_bad),
			l->color ? SGR_RESET : "");
		put_clean(out, f->first_error, REPORT_TERM_MSG_MAX);
		fputc('\n', out);
	}
}

static void write_names(FILE *out, const struct run_result *r, enum verdict v)
{
	size_t i, k = 0;

	for (i = 0; i < r->nflows; i++) {
		if (r->flows[i].verdict != v)
			continue;
		fputs(k++ ? ", " : ": ", out);
		put_clean(out, r->flows[i].name ? r->flows[i].name : "(unnamed)", 64);
	}
}

static void write_verdict(const struct run_result *r, FILE *out, int color)
{
	size_t i, nfail = 0, ninc = 0, nnone = 0;
	char v[32];

	for (i = 0; i < r->nflows; i++) {
		nfail += r->flows[i].verdict == VERDICT_FAIL;
		ninc += r->flows[i].verdict == VERDICT_INCONCLUSIVE;
		nnone += r->flows[i].verdict == VERDICT_NONE;
	}
	verdict_upper(v, sizeof(v), r->verdict);
	if (color)
		fprintf(out, "%s%s%s: ", verdict_sgr(r->verdict), v, SGR_RESET);
	else
		fprintf(out, "%s: ", v);
	if (r->verdict == VERDICT_INCONCLUSIVE) {
		fprintf(out, "%zu of %zu flows failed in the baseline, before any fault",
			ninc, r->nflows);
		write_names(out, r, VERDICT_INCONCLUSIVE);
	} else if (nfail) {
		fprintf(out, "%zu of %zu flows failed their expectation", nfail, r->nflows);
		write_names(out, r, VERDICT_FAIL);
		if (r->error || r->interrupted)
			fputs(r->error ? "; the run did not complete" : "; the run was interrupted",
			      out);
	} else if (r->error) {
		fputs("the run did not complete: ", out);
		put_clean(out, r->error, REPORT_TERM_MSG_MAX);
	} else if (r->interrupted) {
		fputs("the run was interrupted before the end", out);
	} else {
		fprintf(out, "%zu of %zu flows held their expectation",
			r->nflows - nnone, r->nflows);
		if (nnone)
			fprintf(out, " (%zu observed only)", nnone);
	}
	fprintf(out, " (exit %d)\n", verdict_exit_code(r->verdict));
}

int report_term_write(const struct run_result *r, FILE *out, unsigned flags,
		      struct err *err)
{
	int color = (flags & REPORT_TERM_COLOR) != 0;
	struct line l = { .out = out, .color = color, .pending = 0 };
	struct widths w;
	size_t i;

	write_header(r, out, color);
	if (r->nflows) {
		measure(r, &w);
		l.color = 0;
		if (color)
			fputs(SGR_BOLD, out);
		cell(&l, "FLOW", w.name, 0, NULL);
		cell(&l, "PHASE", strlen("recovery"), 0, NULL);
		cell(&l, "OK", w.count, 1, NULL);
		cell(&l, "SLOW", w.count, 1, NULL);
		cell(&l, "ERR", w.count, 1, NULL);
		cell(&l, "WRONG", w.count, 1, NULL);
		cell(&l, "P50 ms", w.ms, 1, NULL);
		cell(&l, "P95 ms", w.ms, 1, NULL);
		cell(&l, "EXPECT", w.expect, 0, NULL);
		cell(&l, "VERDICT", strlen("INCONCLUSIVE"), 0, NULL);
		cell(&l, "RECOVERED", 0, 0, NULL);
		if (color)
			fputs(SGR_RESET, out);
		line_end(&l);
		l.color = color;
		for (i = 0; i < r->nflows; i++)
			write_flow(&r->flows[i], &w, &l);
		fputc('\n', out);
	} else {
		fputs("no flows\n\n", out);
	}
	write_verdict(r, out, color);

	if (ferror(out))
		return err_set(err, -EIO, "terminal report: write error");
	return 0;
}
