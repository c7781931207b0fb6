/*
 * report_html: the HTML report. See report_html.h and docs/report-format.md.
 *
 * The page is written as a stream, section by section, with integer
 * arithmetic only (coordinates in tenths of a viewBox unit), so the bytes
 * depend on the result alone. The timeline's marks reuse a few shapes
 * defined once (<use href="#mk-...">) to keep a run of thousands of marks
 * small. The only allocations are for the event summaries and the
 * pretty-printed fault parameters.
 */
#include "reports/report_html.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "reports/report_out.h"

/* Text cuts, in characters, outside the timeline tooltips. */
#define NAME_MAX_CHARS   200
#define ROW_LABEL_CHARS  22
#define MSG_MAX_CHARS    1000
#define PARAMS_MAX_CHARS 4000

/* Timeline geometry, in viewBox units. */
#define VB_W       1000
#define GUTTER     170    /* row labels left of the plot */
#define PLOT_W     810
#define ROW_H      22
#define LABEL_H    14     /* one line of fault labels above the rows */
#define BAND_TOP   20     /* fault bands start under the phase names */

/* ---- escaping ---- */

enum esc_mode {
	ESC_LINE,   /* one line: tabs and line breaks become spaces */
	ESC_PRE,    /* inside <pre>: tabs and newlines are kept */
};

/* Bidirectional controls would let a peer's text reorder what is shown. */
static int bidi_control(uint32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

/*
 * Write s as HTML text (also fit for a quoted attribute value), cut after
 * max characters with an ellipsis. Control characters show as their
 * control pictures (ESC as U+241B), so evidence stays visible but inert.
 */
static void esc(FILE *out, const char *s, size_t max, enum esc_mode mode)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), chars = 0;
	uint32_t cp;

	while (n) {
		size_t k = report_out_utf8(p, n, &cp);

		if (chars == max) {
			fputs("\xe2\x80\xa6", out);   /* U+2026 */
			return;
		}
		chars++;
		switch (cp) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		case '\t':
		case '\n': fputc(mode == ESC_PRE ? (int)cp : ' ', out); break;
		case '\r': if (mode == ESC_LINE) fputc(' ', out); break;
		default:
			if (cp < 0x20)
				report_out_put_cp(out, 0x2400 + cp);
			else if (cp == 0x7F)
				report_out_put_cp(out, 0x2421);
			else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF ||
				 bidi_control(cp) || (cp == REPORT_OUT_REPLACEMENT && k == 1))
				report_out_put_cp(out, REPORT_OUT_REPLACEMENT);
			else
				fwrite(p, 1, k, out);
		}
		p += k;
		n -= k;
	}
}

static void text(FILE *out, const char *s)
{
	esc(out, s, MSG_MAX_CHARS, ESC_LINE);
}

/* ---- small formatters ---- */

static const char *verdict_upper(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "PASS";
	case VERDICT_FAIL: return "FAIL";
	case VERDICT_INCONCLUSIVE: return "INCONCLUSIVE";
	default: return "NONE";
	}
}

/* Seconds for axis labels: "10 s", "2.5 s", "0.25 s". */
static void secs(char *buf, size_t n, uint64_t ms)
{
	unsigned frac = (unsigned)(ms % 1000);

	if (frac == 0)
		snprintf(buf, n, "%llu s", (unsigned long long)(ms / 1000));
	else if (frac % 100 == 0)
		snprintf(buf, n, "%llu.%u s", (unsigned long long)(ms / 1000), frac / 100);
	else if (frac % 10 == 0)
		snprintf(buf, n, "%llu.%02u s", (unsigned long long)(ms / 1000), frac / 10);
	else
		snprintf(buf, n, "%llu.%03u s", (unsigned long long)(ms / 1000), frac);
}

/* "12.000 s", or what to say when the time never came (UINT64_MAX). */
static void at_text(char *buf, size_t n, uint64_t ms, const char *never)
{
	char s[REPORT_OUT_NUM];

	if (ms == UINT64_MAX) {
		snprintf(buf, n, "%s", never);
		return;
	}
	report_out_s3(s, ms);
	snprintf(buf, n, "%s s", s);
}

static void expect_text(char *buf, size_t n, const struct flow_result *f)
{
	if (f->expect == RESULT_EXPECT_RECOVER) {
		char ms[REPORT_OUT_NUM];

		report_out_ms3(ms, f->expect_within_us);
		snprintf(buf, n, "recover within %s ms", ms);
	} else {
		snprintf(buf, n, "%s", result_expect_name(f->expect));
	}
}

/* ---- the timeline ---- */

struct geo {
	uint64_t span_ms;   /* time at the right edge of the plot, > 0 */
	unsigned top;       /* y of the first row */
	unsigned bottom;    /* y under the last row */
};

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The time the plot covers: the run, and anything recorded past its end. */
static uint64_t span_of(const struct run_result *r)
{
	uint64_t span = r->duration_ms;
	size_t i, j;
	int p;

	for (p = 0; p < PHASE_COUNT; p++) {
		if (r->phase_start_ms[p] != UINT64_MAX)
			span = max_u64(span, r->phase_start_ms[p]);
		if (r->phase_end_ms[p] != UINT64_MAX)
			span = max_u64(span, r->phase_end_ms[p]);
	}
	for (i = 0; i < r->nfaults; i++) {
		if (r->faults[i].start_ms != UINT64_MAX)
			span = max_u64(span, r->faults[i].start_ms);
		if (r->faults[i].end_ms != UINT64_MAX)
			span = max_u64(span, r->faults[i].end_ms);
	}
	for (i = 0; i < r->nflows; i++)
		for (j = 0; j < r->flows[i].nruns; j++)
			span = max_u64(span, r->flows[i].runs[j].start_ms);
	return span ? span : 1;
}

/* x of time t in tenths of a unit, clamped to the plot. */
static uint64_t x10(const struct geo *g, uint64_t t)
{
	unsigned __int128 v;

	if (t > g->span_ms)
		t = g->span_ms;
	v = (unsigned __int128)t * (PLOT_W * 10) / g->span_ms;
	return (uint64_t)GUTTER * 10 + (uint64_t)v;
}

static void put10(FILE *out, uint64_t v)
{
	fprintf(out, "%llu", (unsigned long long)(v / 10));
	if (v % 10)
		fprintf(out, ".%u", (unsigned)(v % 10));
}

/* A tick step that gives at most 10 ticks. */
static uint64_t tick_step(uint64_t span)
{
	static const uint64_t steps[] = {
		1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000,
		60000, 120000, 300000, 600000, 1200000, 1800000, 3600000, 7200000,
	};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / steps[i] <= 10)
			return steps[i];
	return (span / 10 / 3600000 + 1) * 3600000;
}

static void svg_defs(FILE *out)
{
	fputs("<defs>"
	      "<circle id=\"mk-ok\" r=\"5\"/>"
	      "<path id=\"mk-slow\" d=\"M0-6.5L6 4.5H-6Z\"/>"
	      "<path id=\"mk-error\" d=\"M-5-5H5V5H-5Z\"/>"
	      "<path id=\"mk-wrong\" d=\"M0-7L7 0L0 7L-7 0Z\"/>"
	      "</defs>\n", out);
}

static void svg_fault_bands(FILE *out, const struct run_result *r, const struct geo *g)
{
	size_t i;

	for (i = 0; i < r->nfaults; i++) {
		const struct fault_window *fw = &r->faults[i];
		uint64_t a, b, w;
		unsigned ly = BAND_TOP + 12 + (unsigned)i * LABEL_H;
		char s[48], e[48];

		if (fw->start_ms == UINT64_MAX)
			continue;   /* never applied: no band, the faults table says so */
		a = x10(g, fw->start_ms);
		b = x10(g, fw->end_ms == UINT64_MAX ? g->span_ms : fw->end_ms);
		w = b > a ? b - a : 0;
		if (w < 10)
			w = 10;   /* a window shorter than a unit stays visible */
		at_text(s, sizeof(s), fw->start_ms, "");
		at_text(e, sizeof(e), fw->end_ms, "never lifted");
		fprintf(out, "<g class=\"band\" data-fault=\"%zu\" data-fault-start-ms=\"%llu\" "
			"data-fault-end-ms=\"", i, (unsigned long long)fw->start_ms);
		if (fw->end_ms != UINT64_MAX)
			fprintf(out, "%llu", (unsigned long long)fw->end_ms);
		fputs("\"><title>", out);
		text(out, fw->label ? fw->label : fw->kind);
		fprintf(out, ": %s to %s</title><rect x=\"", s, e);
		put10(out, a);
		fprintf(out, "\" y=\"%u\" width=\"", BAND_TOP);
		put10(out, w);
		fprintf(out, "\" height=\"%u\"/><text x=\"", g->bottom - BAND_TOP);
		/* Labels of windows in the right part of the plot end at the window's end. */
		if (a > (uint64_t)(GUTTER + PLOT_W * 2 / 3) * 10) {
			put10(out, a + w - 30);
			fputs("\" text-anchor=\"end", out);
		} else {
			put10(out, a + 30);
		}
		fprintf(out, "\" y=\"%u\">", ly);
		esc(out, fw->label ? fw->label : fw->kind, 60, ESC_LINE);
		fputs("</text></g>\n", out);
	}
}

static void svg_phases(FILE *out, const struct run_result *r, const struct geo *g)
{
	int p;

	for (p = 0; p < PHASE_COUNT; p++) {
		uint64_t t = r->phase_start_ms[p], x;

		if (t == UINT64_MAX)
			continue;
		x = x10(g, t);
		fprintf(out, "<text class=\"ph\" x=\"");
		/* A phase that starts near the right edge is named left of its line. */
		if (x > (uint64_t)(GUTTER + PLOT_W * 9 / 10) * 10) {
			put10(out, x - 30);
			fputs("\" text-anchor=\"end", out);
		} else {
			put10(out, x + 30);
		}
		fprintf(out, "\" y=\"%u\">%s</text>", BAND_TOP - 6, phase_name((enum phase)p));
		if (p == PHASE_BASELINE && t == 0)
			continue;   /* the left edge of the plot is the boundary */
		fprintf(out, "<line class=\"phase\" data-phase=\"%s\" data-t-ms=\"%llu\" x1=\"",
			phase_name((enum phase)p), (unsigned long long)t);
		put10(out, x);
		fputs("\" x2=\"", out);
		put10(out, x);
		fprintf(out, "\" y1=\"4\" y2=\"%u\"/>\n", g->bottom);
	}
}

static void svg_axis(FILE *out, const struct geo *g)
{
	uint64_t step = tick_step(g->span_ms), t;
	char buf[48];

	fprintf(out, "<line class=\"axis\" x1=\"%u\" x2=\"%u\" y1=\"%u\" y2=\"%u\"/>",
		GUTTER, GUTTER + PLOT_W, g->bottom, g->bottom);
	for (t = 0; t <= g->span_ms; t += step) {
		uint64_t x = x10(g, t);

		secs(buf, sizeof(buf), t);
		fputs("<line class=\"tick\" x1=\"", out);
		put10(out, x);
		fputs("\" x2=\"", out);
		put10(out, x);
		fprintf(out, "\" y1=\"%u\" y2=\"%u\"/><text class=\"tl\" x=\"", g->bottom,
			g->bottom + 4);
		put10(out, x);
		fprintf(out, "\" y=\"%u\">%s</text>", g->bottom + 16, buf);
		if (t > UINT64_MAX - step)
			break;
	}
	fputc('\n', out);
}

static void svg_row(FILE *out, const struct flow_result *f, size_t idx, const struct geo *g)
{
	unsigned y = g->top + (unsigned)idx * ROW_H + ROW_H / 2;
	size_t j;

	fprintf(out, "<line class=\"row\" x1=\"%u\" x2=\"%u\" y1=\"%u\" y2=\"%u\"/>",
		GUTTER, GUTTER + PLOT_W, y, y);
	fprintf(out, "<text class=\"rl\" x=\"%u\" y=\"%u\"><title>", GUTTER - 8, y + 4);
	esc(out, f->name, NAME_MAX_CHARS, ESC_LINE);
	fputs("</title>", out);
	esc(out, f->name, ROW_LABEL_CHARS, ESC_LINE);
	fputs("</text>\n", out);
	for (j = 0; j < f->nruns; j++) {
		const struct flow_run *run = &f->runs[j];
		const char *o = outcome_name(run->outcome);
		char lat[REPORT_OUT_NUM], at[48];

		report_out_ms3(lat, run->latency_us);
		at_text(at, sizeof(at), run->start_ms, "?");
		fprintf(out, "<use class=\"mk %s\" href=\"#mk-%s\" x=\"", o, o);
		put10(out, x10(g, run->start_ms));
		fprintf(out, "\" y=\"%u\" data-flow=\"%zu\" data-outcome=\"%s\" data-t-ms=\"%llu\">"
			"<title>", y, idx, o, (unsigned long long)run->start_ms);
		esc(out, f->name, ROW_LABEL_CHARS * 2, ESC_LINE);
		fprintf(out, " at %s, %s phase: %s in %s ms", at, phase_name(run->phase),
			o, lat);
		if (run->step) {
			fputs(", step ", out);
			esc(out, run->step, 40, ESC_LINE);
		}
		if (run->message) {
			fputs(": ", out);
			esc(out, run->message, REPORT_HTML_TIP_MAX, ESC_LINE);
		}
		fputs("</title></use>\n", out);
	}
}

static void svg_legend(FILE *out, const struct geo *g)
{
	static const char *const names[] = { "ok", "slow", "error", "wrong" };
	unsigned y = g->bottom + 40, x = GUTTER;
	size_t i;

	fprintf(out, "<g class=\"legend\">");
	for (i = 0; i < 4; i++) {
		fprintf(out, "<use class=\"mk %s\" href=\"#mk-%s\" x=\"%u\" y=\"%u\"/>"
			"<text x=\"%u\" y=\"%u\">%s</text>", names[i], names[i], x + 6, y - 4,
			x + 16, y, names[i]);
		x += 80;
	}
	fprintf(out, "<rect class=\"lband\" x=\"%u\" y=\"%u\" width=\"24\" height=\"14\"/>"
		"<text x=\"%u\" y=\"%u\">fault window</text>", x, y - 11, x + 30, y);
	x += 130;
	fprintf(out, "<line class=\"phase\" x1=\"%u\" x2=\"%u\" y1=\"%u\" y2=\"%u\"/>"
		"<text x=\"%u\" y=\"%u\">phase boundary</text></g>\n", x + 6, x + 6, y - 13,
		y + 3, x + 14, y);
}

static void write_timeline(FILE *out, const struct run_result *r)
{
	struct geo g;
	unsigned height;
	size_t i;

	g.span_ms = span_of(r);
	g.top = BAND_TOP + 10 + (unsigned)r->nfaults * LABEL_H;
	g.bottom = g.top + (unsigned)(r->nflows ? r->nflows : 1) * ROW_H;
	height = g.bottom + 52;

	fputs("<section id=\"timeline\"><h2>Timeline</h2>\n", out);
	fprintf(out, "<div class=\"scroll\"><svg class=\"timeline\" viewBox=\"0 0 %u %u\" "
		"width=\"%u\" height=\"%u\" role=\"img\" aria-labelledby=\"tl-title\" "
		"data-span-ms=\"%llu\">"
		"<title id=\"tl-title\">Flow runs over time, with fault windows</title>\n",
		VB_W, height, VB_W, height, (unsigned long long)g.span_ms);
	svg_defs(out);
	svg_fault_bands(out, r, &g);
	svg_axis(out, &g);
	svg_phases(out, r, &g);
	for (i = 0; i < r->nflows; i++)
		svg_row(out, &r->flows[i], i, &g);
	if (!r->nflows)
		fprintf(out, "<text x=\"%u\" y=\"%u\">no flows</text>\n", GUTTER,
			g.top + ROW_H / 2 + 4);
	svg_legend(out, &g);
	fputs("</svg></div>\n</section>\n", out);
}

/* ---- the header and the flows that broke ---- */

static void write_verdict_sentence(FILE *out, const struct run_result *r)
{
	size_t i, nfail = 0, ninc = 0, nnone = 0, k = 0;
	enum verdict which = r->verdict == VERDICT_INCONCLUSIVE ? VERDICT_INCONCLUSIVE
								 : VERDICT_FAIL;

	for (i = 0; i < r->nflows; i++) {
		nfail += r->flows[i].verdict == VERDICT_FAIL;
		ninc += r->flows[i].verdict == VERDICT_INCONCLUSIVE;
		nnone += r->flows[i].verdict == VERDICT_NONE;
	}
	if (r->verdict == VERDICT_INCONCLUSIVE)
		fprintf(out, "%zu of %zu flows failed in the baseline, before any fault", ninc,
			r->nflows);
	else if (nfail)
		fprintf(out, "%zu of %zu flows failed their expectation", nfail, r->nflows);
	if (r->verdict == VERDICT_INCONCLUSIVE || nfail) {
		for (i = 0; i < r->nflows; i++) {
			if (r->flows[i].verdict != which)
				continue;
			fputs(k++ ? ", " : ": ", out);
			esc(out, r->flows[i].name, 60, ESC_LINE);
		}
		if (r->error || r->interrupted)
			fputs(r->error ? "; the run did not complete" : "; the run was interrupted",
			      out);
	} else if (r->error) {
		fputs("the run did not complete", out);
	} else if (r->interrupted) {
		fputs("the run was interrupted before the end", out);
	} else {
		fprintf(out, "%zu of %zu flows held their expectation", r->nflows - nnone,
			r->nflows);
		if (nnone)
			fprintf(out, " (%zu observed only)", nnone);
	}
	fprintf(out, " (exit %d)", verdict_exit_code(r->verdict));
}

static void write_header(FILE *out, const struct run_result *r)
{
	char ts[REPORT_OUT_NUM], dur[REPORT_OUT_NUM], a[48], b[48];
	size_t i;
	int p;

	report_out_time(ts, r->started_at_unix_ms, REPORT_OUT_RFC3339);
	report_out_s3(dur, r->duration_ms);
	fputs("<header>\n<p class=\"kicker\">doorjam run report</p>\n<h1>", out);
	esc(out, r->scenario ? r->scenario : "(unnamed scenario)", NAME_MAX_CHARS, ESC_LINE);
	fputs("</h1>\n", out);
	if (r->description) {
		fputs("<p class=\"desc\">", out);
		text(out, r->description);
		fputs("</p>\n", out);
	}
	fprintf(out, "<p class=\"verdict v-%s\" id=\"verdict\"><strong>%s</strong> ",
		verdict_name(r->verdict), verdict_upper(r->verdict));
	write_verdict_sentence(out, r);
	fputs("</p>\n", out);
	if (r->error) {
		fputs("<p class=\"runerr\"><strong>The run did not complete:</strong> ", out);
		text(out, r->error);
		fputs("</p>\n", out);
	}
	if (r->interrupted)
		fputs("<p class=\"runerr\">The run was interrupted by a signal; what it recorded "
		      "up to then is below.</p>\n", out);
	fprintf(out, "<dl class=\"meta\"><div><dt>seed</dt><dd>%llu</dd></div>"
		"<div><dt>started</dt><dd>%s</dd></div><div><dt>duration</dt><dd>%s s</dd></div>",
		(unsigned long long)r->seed, ts, dur);
	for (p = 0; p < PHASE_COUNT; p++) {
		at_text(a, sizeof(a), r->phase_start_ms[p], "not reached");
		at_text(b, sizeof(b), r->phase_end_ms[p], "(cut short)");
		if (r->phase_start_ms[p] == UINT64_MAX)
			fprintf(out, "<div><dt>%s</dt><dd>not reached</dd></div>",
				phase_name((enum phase)p));
		else
			fprintf(out, "<div><dt>%s</dt><dd>%s to %s</dd></div>",
				phase_name((enum phase)p), a, b);
	}
	if (r->file) {
		fputs("<div><dt>file</dt><dd>", out);
		esc(out, r->file, NAME_MAX_CHARS, ESC_LINE);
		fputs("</dd></div>", out);
	}
	fputs("</dl>\n", out);
	for (i = 0; i < r->nfaults; i++)
		if (r->faults[i].error)
			break;
	if (i < r->nfaults)
		fputs("<p class=\"runerr\">A fault could not be applied or lifted: see "
		      "<a href=\"#faults\">Faults</a>.</p>\n", out);
	fputs("</header>\n", out);
}

/* The first run that was not ok in the phases that decide the verdict. */
static const struct flow_run *first_bad_run(const struct flow_result *f)
{
	int baseline = f->verdict == VERDICT_INCONCLUSIVE;
	size_t i;

	for (i = 0; i < f->nruns; i++) {
		const struct flow_run *run = &f->runs[i];

		if ((run->phase == PHASE_BASELINE) != baseline)
			continue;
		if (baseline ? run->outcome >= OUTCOME_ERROR : run->outcome != OUTCOME_OK)
			return run;
	}
	return NULL;
}

static const char *went(enum outcome o)
{
	switch (o) {
	case OUTCOME_SLOW: return "went slow";
	case OUTCOME_ERROR: return "failed";
	case OUTCOME_WRONG: return "answered wrong";
	default: return "passed";
	}
}

static void broke_sentence(FILE *out, const struct run_result *r, const struct flow_result *f)
{
	const struct flow_run *bad = first_bad_run(f);
	const char *msg = NULL;
	char at[48];

	fputs("<li><strong>", out);
	esc(out, f->name, NAME_MAX_CHARS, ESC_LINE);
	fputs("</strong> ", out);
	if (bad) {
		at_text(at, sizeof(at), bad->start_ms, "?");
		fprintf(out, "%s at %s", went(bad->outcome), at);
		if (f->verdict == VERDICT_INCONCLUSIVE)
			fputs(", in the baseline", out);
		msg = bad->message;
		if (f->verdict != VERDICT_INCONCLUSIVE && bad->outcome >= OUTCOME_ERROR &&
		    f->first_error)
			msg = f->first_error;
		if (msg) {
			fputs(" (<q>", out);
			esc(out, msg, 200, ESC_LINE);
			fputs("</q>)", out);
		}
	} else {
		fputs("missed its expectation", out);
	}
	if (f->recovered)
		fprintf(out, " and came back %llu ms after the faults lifted.",
			(unsigned long long)f->recovered_after_ms);
	else if (f->verdict == VERDICT_INCONCLUSIVE)
		fputs(", so the fault could not be judged.", out);
	else if (r->lift_ms == UINT64_MAX)
		fputs("; the faults were never lifted.", out);
	else if (f->recovery_runs)
		fputs(" and did not come back before the run ended.", out);
	else
		fputs("; it had no run after the faults lifted.", out);
	fprintf(out, " <span class=\"why\"><span class=\"badge v-%s\">%s</span> ",
		verdict_name(f->verdict), verdict_upper(f->verdict));
	text(out, f->reason ? f->reason : "(no reason)");
	fputs("</span></li>\n", out);
}

static void write_broke(FILE *out, const struct run_result *r)
{
	size_t i, n = 0;
	int pass;

	fputs("<section id=\"broke\"><h2>What broke</h2>\n", out);
	/* Flows that failed (or made the run inconclusive) first, then the others that broke. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < r->nflows; i++) {
			const struct flow_result *f = &r->flows[i];
			int failed = f->verdict == VERDICT_FAIL || f->verdict == VERDICT_INCONCLUSIVE;

			if (pass == 0 ? !failed : failed || !f->broke)
				continue;
			if (!n++)
				fputs("<ul class=\"broke\">\n", out);
			broke_sentence(out, r, f);
		}
	}
	if (n)
		fputs("</ul>\n", out);
	else if (r->nflows)
		fputs("<p>No flow broke: every run of the fault and recovery phases was ok.</p>\n",
		      out);
	else
		fputs("<p>The scenario has no flows.</p>\n", out);
	fputs("</section>\n", out);
}

/* ---- per-flow tables ---- */

static void td_num(FILE *out, size_t v, const char *cls)
{
	if (v && cls)
		fprintf(out, "<td class=\"num %s\">%zu</td>", cls, v);
	else
		fprintf(out, "<td class=\"num\">%zu</td>", v);
}

static void td_ms(FILE *out, uint64_t us, size_t runs)
{
	char num[REPORT_OUT_NUM];

	report_out_ms3(num, us);
	fprintf(out, "<td class=\"num\">%s</td>", runs ? num : "-");
}

static void write_flow(FILE *out, const struct flow_result *f, size_t idx)
{
	char buf[96];
	int p;

	fprintf(out, "<section class=\"flow\" id=\"flow-%zu\"><h3>", idx);
	esc(out, f->name, NAME_MAX_CHARS, ESC_LINE);
	fprintf(out, " <span class=\"badge v-%s\">%s</span></h3>\n", verdict_name(f->verdict),
		verdict_upper(f->verdict));
	if (f->description) {
		fputs("<p class=\"desc\">", out);
		text(out, f->description);
		fputs("</p>\n", out);
	}
	expect_text(buf, sizeof(buf), f);
	fprintf(out, "<dl class=\"facts\"><div><dt>expectation</dt><dd>%s</dd></div>"
		"<div><dt>verdict</dt><dd>%s</dd></div><div><dt>time to recover</dt><dd>", buf,
		verdict_name(f->verdict));
	if (f->recovered)
		fprintf(out, "%llu ms", (unsigned long long)f->recovered_after_ms);
	else
		fputs(f->recovery_runs ? "did not recover" : "no run after the lift", out);
	fputs("</dd></div></dl>\n<p class=\"reason\"><span class=\"lbl\">why</span> ", out);
	text(out, f->reason ? f->reason : "(no reason)");
	fputs("</p>\n", out);
	if (f->first_error) {
		fprintf(out, "<p class=\"reason\"><span class=\"lbl\">first %s</span> "
			"<code class=\"msg\">", outcome_name(f->first_bad));
		text(out, f->first_error);
		fputs("</code></p>\n", out);
	}
	fputs("<div class=\"scroll\"><table class=\"phases\"><thead><tr><th>phase</th>"
	      "<th>runs</th><th>ok</th><th>slow</th><th>error</th><th>wrong</th>"
	      "<th>p50 ms</th><th>p95 ms</th><th>max ms</th></tr></thead><tbody>\n", out);
	for (p = 0; p < PHASE_COUNT; p++) {
		const struct phase_stats *st = &f->phases[p];

		fprintf(out, "<tr><th scope=\"row\">%s</th>", phase_name((enum phase)p));
		td_num(out, st->runs, NULL);
		td_num(out, st->count[OUTCOME_OK], NULL);
		td_num(out, st->count[OUTCOME_SLOW], "c-slow");
		td_num(out, st->count[OUTCOME_ERROR], "c-error");
		td_num(out, st->count[OUTCOME_WRONG], "c-wrong");
		td_ms(out, st->p50_us, st->runs);
		td_ms(out, st->p95_us, st->runs);
		td_ms(out, st->max_us, st->runs);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div>\n</section>\n", out);
}

/* ---- faults ---- */

/*
 * Re-indent compact JSON text without re-parsing its numbers, so the
 * parameters show exactly as written. The caller checked it parses.
 */
static char *json_pretty(const char *json)
{
	char *res = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&res, &len);
	int depth = 0, in_str = 0, esc_next = 0, d;

	if (!m)
		return NULL;
	for (i = 0; json[i]; i++) {
		char c = json[i];

		if (in_str) {
			fputc(c, m);
			if (esc_next)
				esc_next = 0;
			else if (c == '\\')
				esc_next = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		switch (c) {
		case ' ': case '\t': case '\n': case '\r':
			break;
		case '"':
			in_str = 1;
			fputc(c, m);
			break;
		case '{': case '[': {
			char close = c == '{' ? '}' : ']';
			size_t j = i + 1;

			while (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r')
				j++;
			if (json[j] == close) {   /* empty container stays on one line */
				fputc(c, m);
				fputc(close, m);
				i = j;
				break;
			}
			fputc(c, m);
			depth++;
			fputc('\n', m);
			for (d = 0; d < depth; d++)
				fputs("  ", m);
			break;
		}
		case '}': case ']':
			depth = depth > 0 ? depth - 1 : 0;
			fputc('\n', m);
			for (d = 0; d < depth; d++)
				fputs("  ", m);
			fputc(c, m);
			break;
		case ',':
			fputc(c, m);
			fputc('\n', m);
			for (d = 0; d < depth; d++)
				fputs("  ", m);
			break;
		case ':':
			fputs(": ", m);
			break;
		default:
			fputc(c, m);
		}
	}
	if (fclose(m) != 0) {
		free(res);
		return NULL;
	}
	return res;
}

static int write_params(FILE *out, const char *json, struct err *err)
{
	json_error_t jerr;
	json_t *v;
	char *pretty;

	if (!json) {
		fputs("-", out);
		return 0;
	}
	v = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		fputs("<pre>", out);
		esc(out, json, PARAMS_MAX_CHARS, ESC_PRE);
		fputs("</pre> <span class=\"muted\">(not valid JSON)</span>", out);
		return 0;
	}
	json_decref(v);
	pretty = json_pretty(json);
	if (!pretty)
		return err_set(err, -ENOMEM, "HTML report: out of memory");
	fputs("<pre>", out);
	esc(out, pretty, PARAMS_MAX_CHARS, ESC_PRE);
	fputs("</pre>", out);
	free(pretty);
	return 0;
}

static int write_faults(FILE *out, const struct run_result *r, struct err *err)
{
	size_t i;
	int rc;

	fputs("<section id=\"faults\"><h2>Faults</h2>\n", out);
	if (!r->nfaults) {
		fputs("<p>The scenario injects no fault.</p>\n</section>\n", out);
		return 0;
	}
	fputs("<div class=\"scroll\"><table class=\"faults\"><thead><tr><th>kind</th>"
	      "<th>label</th><th>applied</th><th>lifted</th><th>parameters</th>"
	      "<th>error</th></tr></thead><tbody>\n", out);
	for (i = 0; i < r->nfaults; i++) {
		const struct fault_window *fw = &r->faults[i];
		char a[48], b[48];

		at_text(a, sizeof(a), fw->start_ms, "not applied");
		at_text(b, sizeof(b), fw->end_ms, "never lifted");
		fprintf(out, "<tr id=\"fault-%zu\"><td>", i);
		esc(out, fw->kind, NAME_MAX_CHARS, ESC_LINE);
		fputs("</td><td>", out);
		esc(out, fw->label, NAME_MAX_CHARS, ESC_LINE);
		fprintf(out, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td>", a, b);
		rc = write_params(out, fw->params_json, err);
		if (rc)
			return rc;
		fputs("</td><td class=\"msg\">", out);
		if (fw->error)
			text(out, fw->error);
		else
			fputs("-", out);
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table></div>\n</section>\n", out);
	return 0;
}

/* ---- DNS and RPC summaries ---- */

struct group {
	const struct result_event *ev;   /* the first event of the group */
	size_t count;
	uint64_t first_ms, last_ms;
};

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_key(const struct result_event *a, const struct result_event *b)
{
	int c = cmp_str(a->source, b->source);

	if (!c)
		c = cmp_str(a->what, b->what);
	if (!c)
		c = cmp_str(a->rule, b->rule);
	if (!c)
		c = cmp_str(a->action, b->action);
	/* NULL rule and "" rule are different groups, so that no key is lost. */
	if (!c)
		c = (a->rule != NULL) - (b->rule != NULL);
	return c;
}

static int cmp_event(const void *pa, const void *pb)
{
	const struct result_event *a = *(const struct result_event *const *)pa;
	const struct result_event *b = *(const struct result_event *const *)pb;
	int c = cmp_key(a, b);

	if (c)
		return c;
	return a->at_ms < b->at_ms ? -1 : a->at_ms > b->at_ms;
}

static int cmp_group(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return cmp_key(a->ev, b->ev);
}

static int is_dns(const struct result_event *ev)
{
	return ev->source && strcmp(ev->source, "dns") == 0;
}

/* One summary table over the events that are (dns = 1) or are not DNS. */
static int write_summary(FILE *out, const struct run_result *r, int dns, struct err *err)
{
	const struct result_event **evs = NULL;
	struct group *groups = NULL;
	size_t n = 0, ng = 0, i;
	int rc = 0;

	for (i = 0; i < r->nevents; i++)
		n += is_dns(&r->events[i]) == dns;
	fprintf(out, "<h3>%s</h3>\n", dns ? "DNS queries" : "RPC requests");
	if (!n) {
		fprintf(out, "<p>No %s was recorded.</p>\n",
			dns ? "DNS decision" : "RPC proxy decision");
		return 0;
	}
	evs = calloc(n, sizeof(*evs));
	groups = calloc(n, sizeof(*groups));
	if (!evs || !groups) {
		rc = err_set(err, -ENOMEM, "HTML report: out of memory");
		goto out;
	}
	n = 0;
	for (i = 0; i < r->nevents; i++)
		if (is_dns(&r->events[i]) == dns)
			evs[n++] = &r->events[i];
	qsort(evs, n, sizeof(*evs), cmp_event);
	for (i = 0; i < n; i++) {
		if (ng && cmp_key(groups[ng - 1].ev, evs[i]) == 0) {
			groups[ng - 1].count++;
			groups[ng - 1].last_ms = max_u64(groups[ng - 1].last_ms, evs[i]->at_ms);
			continue;
		}
		groups[ng].ev = evs[i];
		groups[ng].count = 1;
		groups[ng].first_ms = evs[i]->at_ms;
		groups[ng].last_ms = evs[i]->at_ms;
		ng++;
	}
	qsort(groups, ng, sizeof(*groups), cmp_group);

	fprintf(out, "<p>%zu decision%s in %zu group%s, most frequent first.</p>\n", n,
		n == 1 ? "" : "s", ng, ng == 1 ? "" : "s");
	fprintf(out, "<div class=\"scroll\"><table class=\"events\" data-source=\"%s\"><thead>"
		"<tr>%s<th>%s</th><th>fault</th><th>action</th><th>count</th><th>first</th>"
		"<th>last</th></tr></thead><tbody>\n", dns ? "dns" : "rpc",
		dns ? "" : "<th>source</th>", dns ? "name and type" : "method");
	for (i = 0; i < ng && i < REPORT_HTML_EVENT_ROWS; i++) {
		const struct group *gr = &groups[i];
		char a[48], b[48];

		at_text(a, sizeof(a), gr->first_ms, "?");
		at_text(b, sizeof(b), gr->last_ms, "?");
		fputs("<tr>", out);
		if (!dns) {
			fputs("<td>", out);
			esc(out, gr->ev->source, 60, ESC_LINE);
			fputs("</td>", out);
		}
		fputs("<td class=\"msg\">", out);
		esc(out, gr->ev->what, 200, ESC_LINE);
		fputs("</td><td>", out);
		esc(out, gr->ev->rule ? gr->ev->rule : "-", 60, ESC_LINE);
		fputs("</td><td class=\"msg\">", out);
		esc(out, gr->ev->action, 120, ESC_LINE);
		fprintf(out, "</td><td class=\"num\">%zu</td><td class=\"num\">%s</td>"
			"<td class=\"num\">%s</td></tr>\n", gr->count, a, b);
	}
	fputs("</tbody></table></div>\n", out);
	if (ng > REPORT_HTML_EVENT_ROWS)
		fprintf(out, "<p class=\"muted\">%zu more groups are not shown; the JSON report "
			"has every event.</p>\n", ng - REPORT_HTML_EVENT_ROWS);
out:
	free(evs);
	free(groups);
	return rc;
}

static int write_events(FILE *out, const struct run_result *r, struct err *err)
{
	int rc;

	fputs("<section id=\"events\"><h2>DNS and RPC decisions</h2>\n", out);
	if (r->nevents >= RESULT_MAX_EVENTS)
		fprintf(out, "<p class=\"muted\">The log stopped at %u events; later decisions "
			"are not counted.</p>\n", RESULT_MAX_EVENTS);
	rc = write_summary(out, r, 1, err);
	if (!rc)
		rc = write_summary(out, r, 0, err);
	fputs("</section>\n", out);
	return rc;
}

/* ---- packet evidence ---- */

static void td_u64(FILE *out, uint64_t v)
{
	fprintf(out, "<td class=\"num\">%llu</td>", (unsigned long long)v);
}

static void td_at(FILE *out, uint64_t ms)
{
	char a[48];

	at_text(a, sizeof(a), ms, "-");
	fprintf(out, "<td class=\"num\">%s</td>", a);
}

static void td_fault(FILE *out, const struct run_result *r, const struct evidence *ev)
{
	fprintf(out, "<tr data-fault=\"%zu\"><td><a href=\"#fault-%zu\">", ev->fault, ev->fault);
	esc(out, r->faults[ev->fault].label, 60, ESC_LINE);
	fputs("</a></td><td>", out);
	esc(out, ev->subject, 120, ESC_LINE);
	fputs("</td>", out);
}

/* One sentence per fault with evidence: what the captures saw during it. */
static void evidence_sentences(FILE *out, const struct run_result *r)
{
	struct evidence_summary sum;
	char text[512];
	size_t i;

	fputs("<ul class=\"broke\">\n", out);
	for (i = 0; i < r->nfaults; i++) {
		if (!evidence_summarize(r, i, &sum))
			continue;
		evidence_summary_text(&sum, text, sizeof(text));
		fputs("<li><strong>", out);
		esc(out, r->faults[i].label, NAME_MAX_CHARS, ESC_LINE);
		fprintf(out, "</strong>:%s</li>\n", text);
	}
	fputs("</ul>\n", out);
}

static size_t evidence_count(const struct run_result *r, enum evidence_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < r->nevidence; i++)
		n += r->evidence[i].kind == kind;
	return n;
}

static void evidence_table(FILE *out, const struct run_result *r, enum evidence_kind kind)
{
	static const char *const head[] = {
		[EVIDENCE_PREFIX] = "<th>prefix</th><th>sent</th><th>got through</th>"
				    "<th>answered</th><th>ICMP unreachable</th>",
		[EVIDENCE_CONNECT] = "<th>destination</th><th>attempts</th><th>retries</th>"
				     "<th>SYN-ACK</th><th>reset</th><th>ICMP unreachable</th>",
		[EVIDENCE_DNS] = "<th>names</th><th>queries</th><th>answers</th>"
				 "<th>answers by RCODE</th>",
	};
	static const char *const title[] = {
		[EVIDENCE_PREFIX] = "Packets toward the faulted prefixes",
		[EVIDENCE_CONNECT] = "Connection attempts per destination",
		[EVIDENCE_DNS] = "DNS queries for the faulted names",
	};
	char rbuf[16];
	size_t i;
	unsigned k;

	if (!evidence_count(r, kind))
		return;
	fprintf(out, "<h3>%s</h3>\n<div class=\"scroll\"><table class=\"evidence\" "
		"data-kind=\"%s\"><thead><tr><th>fault</th>%s<th>first</th><th>last</th></tr>"
		"</thead><tbody>\n", title[kind], evidence_kind_name(kind), head[kind]);
	for (i = 0; i < r->nevidence; i++) {
		const struct evidence *ev = &r->evidence[i];
		int first = 1;

		if (ev->kind != kind)
			continue;
		td_fault(out, r, ev);
		switch (kind) {
		case EVIDENCE_PREFIX:
			td_u64(out, ev->sent);
			if (ev->through == UINT64_MAX)
				fputs("<td class=\"num\">not captured</td>", out);
			else
				td_u64(out, ev->through);
			td_u64(out, ev->answered);
			td_u64(out, ev->unreachable);
			break;
		case EVIDENCE_CONNECT:
			td_u64(out, ev->attempts);
			td_u64(out, ev->retries);
			td_u64(out, ev->answered);
			td_u64(out, ev->reset);
			td_u64(out, ev->unreachable);
			break;
		case EVIDENCE_DNS:
			td_u64(out, ev->sent);
			td_u64(out, ev->answered);
			fputs("<td>", out);
			for (k = 0; k < 16; k++) {
				if (!ev->rcode[k])
					continue;
				fprintf(out, "%s%s %llu", first ? "" : ", ",
					evidence_rcode_name(k, rbuf), (unsigned long long)ev->rcode[k]);
				first = 0;
			}
			fputs(first ? "-</td>" : "</td>", out);
			break;
		}
		td_at(out, ev->first_ms);
		td_at(out, ev->last_ms);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div>\n", out);
}

static void write_captures(FILE *out, const struct run_result *r)
{
	size_t i;

	fputs("<h3>Packet captures</h3>\n<div class=\"scroll\"><table class=\"captures\">"
	      "<thead><tr><th>point</th><th>role</th><th>file</th><th>packets</th>"
	      "<th>dropped</th><th>undecoded</th><th>error</th></tr></thead><tbody>\n", out);
	for (i = 0; i < r->ncaptures; i++) {
		const struct result_capture *cp = &r->captures[i];
		const char *colon = strchr(cp->path, ':'), *slash = strchr(cp->path, '/');

		fputs("<tr><td>", out);
		esc(out, cp->label, 120, ESC_LINE);
		fputs("</td><td>", out);
		esc(out, cp->role, 20, ESC_LINE);
		/* a path is never read as a URL scheme ("x:..." becomes "./x:...") */
		fputs("</td><td><a href=\"", out);
		if (colon && (!slash || colon < slash))
			fputs("./", out);
		esc(out, cp->path, MSG_MAX_CHARS, ESC_LINE);
		fputs("\">", out);
		esc(out, cp->path, 200, ESC_LINE);
		fputs("</a></td>", out);
		td_u64(out, cp->packets);
		td_u64(out, cp->dropped);
		td_u64(out, cp->undecoded);
		fputs("<td class=\"msg\">", out);
		text(out, cp->error ? cp->error : "-");
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table></div>\n", out);
}

/* Only for runs that captured packets, so other reports stay as they were. */
static void write_evidence(FILE *out, const struct run_result *r)
{
	fputs("<section id=\"evidence\"><h2>Packet evidence</h2>\n<p>Counted from the packet "
	      "captures, during each fault's window only.</p>\n", out);
	if (!r->nevidence)
		fputs("<p>No fault has packet evidence: none was applied, or no capture point "
		      "was on its path.</p>\n", out);
	else
		evidence_sentences(out, r);
	evidence_table(out, r, EVIDENCE_PREFIX);
	evidence_table(out, r, EVIDENCE_CONNECT);
	evidence_table(out, r, EVIDENCE_DNS);
	if (r->ncaptures)
		write_captures(out, r);
	fputs("</section>\n", out);
}

/* ---- the page ---- */

static const char css[] =
	":root{--ok:#1b7f3a;--slow:#b26a00;--error:#c62828;--wrong:#6a1b9a;--fault:#d32f2f;"
	"--ink:#1d1f23;--muted:#5f6368;--line:#d5d9de}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0 auto;max-width:1120px;padding:16px 20px;color:var(--ink);background:#fff;"
	"font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}\n"
	"h1{font-size:1.6em;margin:.1em 0 .3em;overflow-wrap:anywhere}\n"
	"h2{font-size:1.25em;margin:1.6em 0 .5em;border-bottom:2px solid var(--line)}\n"
	"h3{font-size:1.05em;margin:1.2em 0 .3em;overflow-wrap:anywhere}\n"
	".kicker{margin:0;color:var(--muted);font-size:.85em;text-transform:uppercase;"
	"letter-spacing:.08em}\n"
	".desc{margin:.2em 0 .6em;color:var(--muted);overflow-wrap:anywhere}\n"
	".verdict{font-size:1.15em;padding:.5em .8em;border-left:8px solid;border-radius:4px;"
	"overflow-wrap:anywhere}\n"
	".verdict strong{font-size:1.2em;margin-right:.4em}\n"
	".v-pass{color:#0f5a27;background:#e7f4ea;border-color:var(--ok)}\n"
	".v-fail{color:#8e1b1b;background:#fdecea;border-color:var(--error)}\n"
	".v-inconclusive{color:#704400;background:#fff3df;border-color:var(--slow)}\n"
	".v-none{color:var(--muted);background:#f1f3f4;border-color:#9aa0a6}\n"
	".badge{display:inline-block;font-size:.75em;font-weight:700;padding:.05em .5em;"
	"border-radius:3px;border-left:4px solid;vertical-align:middle}\n"
	".runerr{color:#8e1b1b;overflow-wrap:anywhere}\n"
	".meta,.facts{display:flex;flex-wrap:wrap;gap:.3em 1.6em;margin:.6em 0}\n"
	".meta dt,.facts dt{font-size:.8em;color:var(--muted)}\n"
	".meta dd,.facts dd{margin:0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}\n"
	"ul.broke{padding-left:1.2em}\nul.broke li{margin:.35em 0;overflow-wrap:anywhere}\n"
	".why{display:block;color:var(--muted);font-size:.9em}\n"
	".reason{margin:.3em 0;overflow-wrap:anywhere}\n"
	".lbl{font-size:.8em;color:var(--muted);margin-right:.4em}\n"
	"code,pre{font:12.5px/1.4 ui-monospace,\"DejaVu Sans Mono\",monospace}\n"
	"code.msg{overflow-wrap:anywhere;background:#f4f5f7;padding:0 .25em}\n"
	"pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;min-width:14em}\n"
	".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\n"
	"table{border-collapse:collapse;margin:.3em 0}\n"
	"th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;"
	"vertical-align:top;white-space:nowrap}\n"
	"thead th{font-size:.85em;color:var(--muted)}\n"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"td.msg{white-space:normal;overflow-wrap:anywhere;min-width:12em;max-width:40em}\n"
	".c-slow{color:var(--slow);font-weight:700}.c-error{color:var(--error);font-weight:700}"
	".c-wrong{color:var(--wrong);font-weight:700}\n"
	".muted{color:var(--muted)}\n"
	"svg.timeline{display:block;width:100%;min-width:640px;height:auto}\n"
	"svg text{font:11px system-ui,sans-serif;fill:var(--ink)}\n"
	"svg .rl{text-anchor:end}svg .tl{text-anchor:middle;fill:var(--muted)}\n"
	"svg .ph{font-style:italic;fill:var(--muted)}\n"
	".row{stroke:var(--line)}.axis,.tick{stroke:#9aa0a6}\n"
	".phase{stroke:#37474f;stroke-dasharray:3 3}\n"
	".band rect,.lband{fill:var(--fault);fill-opacity:.11;stroke:var(--fault);"
	"stroke-opacity:.55;stroke-dasharray:5 3}\n"
	".band text{fill:#8e1b1b;font-weight:600}\n"
	".mk{stroke:#fff;stroke-width:1}\n"
	".mk.ok{fill:var(--ok)}.mk.slow{fill:var(--slow)}.mk.error{fill:var(--error)}"
	".mk.wrong{fill:var(--wrong)}\n"
	"footer{margin-top:2em;color:var(--muted);font-size:.85em}\n"
	"@media (max-width:640px){body{padding:10px;font-size:14px}h1{font-size:1.3em}}\n"
	"@media print{body{max-width:none;padding:0;font-size:10pt}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
	".scroll{overflow:visible}svg.timeline{min-width:0}"
	"td.msg{max-width:none}section.flow,tr{break-inside:avoid}"
	"h2,h3{break-after:avoid}a{color:inherit;text-decoration:none}}\n";

int report_html_write(const struct run_result *r, FILE *out, struct err *err)
{
	size_t i;
	int rc;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"generator\" content=\"doorjam\">\n<title>", out);
	fprintf(out, "%s: ", verdict_upper(r->verdict));
	esc(out, r->scenario ? r->scenario : "(unnamed scenario)", NAME_MAX_CHARS, ESC_LINE);
	fputs(" (doorjam)</title>\n<style>\n", out);
	fputs(css, out);
	fputs("</style>\n</head>\n<body>\n", out);

	write_header(out, r);
	write_broke(out, r);
	write_timeline(out, r);

	fputs("<section id=\"flows\"><h2>Flows</h2>\n", out);
	if (!r->nflows)
		fputs("<p>The scenario has no flows.</p>\n", out);
	for (i = 0; i < r->nflows; i++)
		write_flow(out, &r->flows[i], i);
	fputs("</section>\n", out);

	rc = write_faults(out, r, err);
	if (!rc)
		rc = write_events(out, r, err);
	if (rc)
		return rc;
	if (r->ncaptures || r->nevidence)
		write_evidence(out, r);
	fprintf(out, "<footer>doorjam report, seed %llu. Every run, fault and event is in the "
		"JSON report of the same run.</footer>\n</body>\n</html>\n",
		(unsigned long long)r->seed);

	if (ferror(out))
		return err_set(err, -EIO, "HTML report: write error");
	return 0;
}

static int write_cb(const void *ctx, FILE *out, struct err *err)
{
	return report_html_write(ctx, out, err);
}

int report_html_write_path(const struct run_result *r, const char *path, struct err *err)
{
	return report_out_file(path, write_cb, r, err);
}
