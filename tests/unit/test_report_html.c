/*
 * Unit tests for the HTML report and the Markdown summary.
 *
 * The fixtures are those of test_report.c ("outage": a realistic run with
 * every verdict kind; "hostile": markup, escape sequences, invalid UTF-8,
 * an interrupted run with an error, a fault never applied), copied here
 * because they are static there; the hostile one also gets a <script>
 * message, external URLs, an @mention, backticks, a pipe and a bidi
 * override. Each writer's output is compared byte for byte with
 * tests/data/reports/<fixture>.{html,md}; run from the repository root.
 * DOORJAM_UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
 *
 * Beyond the golden files: the HTML goes through a small checker (tags
 * balanced, attributes quoted, no raw '<', '>' or stray '&' in text, valid
 * UTF-8, no control characters); it has one mark per flow run and one fault
 * band per applied fault at the result's times; it holds no script and
 * references nothing outside itself; a 10-minute run of 6 flows stays small.
 * The Markdown has one table row per flow with the right number of cells
 * (pipes in messages escaped), and stays under its size cap with a note
 * when thousands of flows do not fit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "reports/report_html.h"
#include "reports/report_md.h"
#include "reports/report_out.h"
#include "reports/result.h"

#define GOLDEN_DIR "tests/data/reports/"

#include "tests/unit/report_fixtures.h"


/* ---- helpers ---- */

enum fmt { FMT_HTML, FMT_MD };

static char *render(const struct run_result *r, enum fmt fmt, size_t *len)
{
	char *s = NULL;
	FILE *m = open_memstream(&s, len);
	struct err e = { 0 };
	int rc;

	assert_non_null(m);
	rc = fmt == FMT_HTML ? report_html_write(r, m, &e) : report_md_write(r, m, &e);
	if (rc)
		fail_msg("writer failed: %s", e.msg);
	assert_int_equal(fclose(m), 0);
	assert_int_equal(strlen(s), *len);   /* no NUL byte inside */
	return s;
}

static void golden(const char *fixture, enum fmt fmt, const struct run_result *r)
{
	char path[256];
	size_t got_len, want_len = 0, i;
	char *got = render(r, fmt, &got_len), *want;
	const char *upd = getenv("DOORJAM_UPDATE_GOLDEN");

	snprintf(path, sizeof(path), GOLDEN_DIR "%s.%s", fixture, fmt == FMT_HTML ? "html" : "md");
	if (upd && strcmp(upd, "1") == 0) {
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(got, 1, got_len, f), got_len);
		assert_int_equal(fclose(f), 0);
		print_message("rewrote %s\n", path);
	}
	want = slurp(path, &want_len);
	if (!want)
		fail_msg("%s: cannot read (run from the repository root; "
			 "DOORJAM_UPDATE_GOLDEN=1 creates it)", path);
	if (got_len != want_len || memcmp(got, want, got_len) != 0) {
		for (i = 0; i < got_len && i < want_len && got[i] == want[i]; i++)
			;
		fail_msg("%s: output differs at byte %zu (got %zu bytes, want %zu); "
			 "DOORJAM_UPDATE_GOLDEN=1 rewrites it", path, i, got_len, want_len);
	}
	free(got);
	free(want);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, k = strlen(needle);

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += k;
	}
	return n;
}

static size_t total_runs(const struct run_result *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nflows; i++)
		n += r->flows[i].nruns;
	return n;
}

/* ---- a small HTML checker for what the writer emits ---- */

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* Text or an attribute value up to stop: entities known, no raw markup. */
static const char *html_chars(const char *p, char stop)
{
	static const char *known[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };

	while (*p && *p != stop) {
		unsigned char c = (unsigned char)*p;
		uint32_t cp;
		size_t k, i;

		if (c == '&') {
			for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
				if (strncmp(p, known[i], strlen(known[i])) == 0)
					break;
			if (i == sizeof(known) / sizeof(known[0]))
				fail_msg("stray '&' at \"%.16s\"", p);
			p += strlen(known[i]);
			continue;
		}
		if (c == '<' || c == '>' || c == '"')
			fail_msg("raw '%c' in text at \"%.24s\"", c, p);
		if (c < 0x20 && c != '\n')
			fail_msg("raw control character 0x%02x", c);
		k = report_out_utf8((const unsigned char *)p, strlen(p), &cp);
		if (cp == REPORT_OUT_REPLACEMENT && k == 1 && c >= 0x80)
			fail_msg("invalid UTF-8 at \"%.8s\"", p);
		if (cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x202E)
			fail_msg("control character U+%04X in text", (unsigned)cp);
		p += k;
	}
	return p;
}

static void html_check(const char *doc)
{
	const char *stack[64];
	size_t lens[64];
	int depth = 0;
	const char *p = doc;

	assert_true(strncmp(p, "<!DOCTYPE html>\n", 16) == 0);
	p += 16;
	while (*p) {
		const char *n;
		size_t len = 0;

		if (*p != '<') {
			p = html_chars(p, '<');
			continue;
		}
		if (p[1] == '/') {
			n = p + 2;
			while (name_char(n[len]))
				len++;
			assert_true(depth > 0);
			depth--;
			if (len != lens[depth] || strncmp(n, stack[depth], len) != 0)
				fail_msg("</%.*s> closes <%.*s>", (int)len, n, (int)lens[depth],
					 stack[depth]);
			assert_int_equal(n[len], '>');
			p = n + len + 1;
			continue;
		}
		n = p + 1;
		while (name_char(n[len]))
			len++;
		if (len == 0)
			fail_msg("raw '<' at \"%.24s\"", p);
		p = n + len;
		for (;;) {
			size_t an = 0;

			if (*p == '>') {
				p++;
				if (len == 4 && strncmp(n, "meta", 4) == 0)
					break;   /* a void element */
				assert_true(depth < 64);
				stack[depth] = n;
				lens[depth] = len;
				depth++;
				if (len == 5 && strncmp(n, "style", 5) == 0) {
					p = strstr(p, "</style>");
					assert_non_null(p);
				}
				break;
			}
			if (p[0] == '/' && p[1] == '>') {
				p += 2;
				break;
			}
			assert_int_equal(*p, ' ');
			p++;
			while (name_char(p[an]))
				an++;
			assert_true(an > 0);
			assert_int_equal(p[an], '=');
			assert_int_equal(p[an + 1], '"');
			p = html_chars(p + an + 2, '"');
			assert_int_equal(*p, '"');
			p++;
		}
	}
	assert_int_equal(depth, 0);
}

/*
 * Nothing that loads or runs: no script element, and in every tag no src,
 * no event handler, no style attribute, hrefs only to fragments of the
 * page, no "://" in any attribute; the stylesheet has no url() or @import.
 * Text may mention anything (it is escaped: html_check ran first).
 */
static void html_self_contained(const char *doc)
{
	const char *p = doc, *style = strstr(doc, "<style>"), *style_end;

	assert_null(strcasestr(doc, "<script"));
	assert_non_null(style);
	style_end = strstr(style, "</style>");
	assert_non_null(style_end);
	assert_null(memmem(style, (size_t)(style_end - style), "url(", 4));
	assert_null(memmem(style, (size_t)(style_end - style), "@import", 7));
	while ((p = strchr(p, '<'))) {
		const char *end = strchr(p, '>'), *a;
		size_t n;

		assert_non_null(end);
		n = (size_t)(end - p);
		if (p == style)
			end = style_end;
		assert_null(memmem(p, n, " src=", 5));
		assert_null(memmem(p, n, " style=", 7));
		assert_null(memmem(p, n, "://", 3));
		for (a = p; (a = memmem(a, n - (size_t)(a - p), " on", 3)); a += 3)
			fail_msg("event handler attribute in \"%.*s\"", (int)n, p);
		for (a = p; (a = memmem(a, n - (size_t)(a - p), " href=\"", 7)); a += 7)
			if (a[7] != '#')
				fail_msg("href to something else than the page: \"%.40s\"", a);
		p = end + 1;
	}
}

/* The attribute value after the first occurrence of name at or after p. */
static const char *attr_val(const char *p, const char *name, char *buf, size_t n)
{
	const char *v = strstr(p, name), *end;

	assert_non_null(v);
	v += strlen(name);
	assert_int_equal(*v, '"');
	v++;
	end = strchr(v, '"');
	assert_non_null(end);
	assert_true((size_t)(end - v) < n);
	memcpy(buf, v, (size_t)(end - v));
	buf[end - v] = '\0';
	return end;
}

/* ---- tests ---- */

static void test_golden_outage(void **state)
{
	struct run_result *r = fixture_outage();

	(void)state;
	golden("outage", FMT_HTML, r);
	golden("outage", FMT_MD, r);
	result_free(r);
}

static void test_golden_hostile(void **state)
{
	struct run_result *r = fixture_hostile(1);

	(void)state;
	golden("hostile", FMT_HTML, r);
	golden("hostile", FMT_MD, r);
	result_free(r);
}

static void test_html_structure_outage(void **state)
{
	struct run_result *r = fixture_outage();
	size_t len, i;
	char *h = render(r, FMT_HTML, &len);
	char buf[64], want[64];
	const char *p;

	(void)state;
	html_check(h);
	html_self_contained(h);
	/* one mark per flow run, and per flow on its own row */
	assert_int_equal(count(h, "data-outcome=\""), total_runs(r));
	assert_int_equal(total_runs(r), 22);
	for (i = 0; i < r->nflows; i++) {
		snprintf(want, sizeof(want), "data-flow=\"%zu\"", i);
		assert_int_equal(count(h, want), r->flows[i].nruns);
	}
	assert_int_equal(count(h, "data-outcome=\"wrong\""), 3);
	assert_int_equal(count(h, "data-outcome=\"error\""), 6);
	assert_int_equal(count(h, "data-outcome=\"slow\""), 1);
	assert_int_equal(count(h, "href=\"#mk-wrong\" x=\""), 3 + 1);   /* + the legend */
	/* the wrong run at 15 s carries its time and a tooltip with the message */
	p = strstr(h, "data-outcome=\"wrong\" data-t-ms=\"15000\"><title>view-balance at "
		      "15.000 s, fault phase: wrong in 18.000 ms, step get-balance: balance 0x0 "
		      "expected 0x3635c9adc5dea00000</title>");
	assert_non_null(p);
	/* fault bands where the result says */
	assert_int_equal(count(h, "<g class=\"band\""), 2);
	p = attr_val(h, "data-fault-start-ms=", buf, sizeof(buf));
	assert_string_equal(buf, "10000");
	attr_val(p, "data-fault-end-ms=", buf, sizeof(buf));
	assert_string_equal(buf, "30000");
	p = attr_val(p, "data-fault-start-ms=", buf, sizeof(buf));
	assert_string_equal(buf, "15000");
	attr_val(p, "data-fault-end-ms=", buf, sizeof(buf));
	assert_string_equal(buf, "30000");
	/* phase boundaries at 10 s and 30 s; span 40 s over 810 units from x=170 */
	assert_non_null(strstr(h, "data-phase=\"fault\" data-t-ms=\"10000\" x1=\"372.5\""));
	assert_non_null(strstr(h, "data-phase=\"recovery\" data-t-ms=\"30000\" x1=\"777.5\""));
	/* header, what broke, tables */
	assert_non_null(strstr(h, "<p class=\"verdict v-fail\" id=\"verdict\"><strong>FAIL"
				  "</strong> 2 of 5 flows failed their expectation: view-balance, "
				  "chain-head (exit 1)</p>"));
	assert_non_null(strstr(h, "<li><strong>view-balance</strong> answered wrong at 15.000 s "
				  "(<q>balance 0x0 expected 0x3635c9adc5dea00000</q>) and came back "
				  "11 ms after the faults lifted."));
	assert_non_null(strstr(h, "<li><strong>chain-head</strong> failed at 13.000 s "
				  "(<q>HTTP 429</q>) and came back 6504 ms after the faults lifted."));
	assert_int_equal(count(h, "<ul class=\"broke\">"), 1);
	assert_int_equal(count(h, "<li>"), 5);   /* every flow broke in this run */
	assert_int_equal(count(h, "<section class=\"flow\""), 5);
	assert_int_equal(count(h, "<table class=\"phases\">"), 5);
	/* parameters pretty-printed, numbers as written */
	assert_non_null(strstr(h, "<pre>{\n  &quot;kind&quot;: &quot;rpc.rate_limit&quot;,\n"
				  "  &quot;upstream&quot;: &quot;rpc-b&quot;,\n  &quot;rps&quot;: 5,\n"
				  "  &quot;p&quot;: 0.25\n}</pre>"));
	/* events: one DNS group, two RPC groups */
	assert_non_null(strstr(h, "<p>1 decision in 1 group, most frequent first.</p>"));
	assert_non_null(strstr(h, "<p>2 decisions in 2 groups, most frequent first.</p>"));
	free(h);
	result_free(r);
}

static void test_html_hostile_escaped(void **state)
{
	struct run_result *r = fixture_hostile(1);
	size_t len;
	char *h = render(r, FMT_HTML, &len);

	(void)state;
	html_check(h);
	html_self_contained(h);
	assert_int_equal(count(h, "data-outcome=\""), total_runs(r));
	assert_null(strchr(h, '\033'));
	assert_null(strchr(h, '\r'));
	assert_null(strstr(h, "\xe2\x80\xae"));   /* the bidi override is gone */
	assert_non_null(strstr(h, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
	assert_non_null(strstr(h, "<h1>a&lt;b&gt;&amp;&quot;c&quot; &#39;d&#39;</h1>"));
	/* ESC shows as its control picture, invalid bytes as U+FFFD */
	assert_non_null(strstr(h, "esc \xe2\x90\x9b[31mred\xe2\x90\x9b[0m &amp; &lt;tag&gt;"));
	assert_non_null(strstr(h, "bad utf8 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok"));
	/* never applied: no band; never lifted: band with an empty end */
	assert_int_equal(count(h, "<g class=\"band\""), 1);
	assert_non_null(strstr(h, "data-fault=\"1\" data-fault-start-ms=\"1000\" "
				  "data-fault-end-ms=\"\""));
	assert_non_null(strstr(h, "<td class=\"num\">not applied</td>"));
	assert_non_null(strstr(h, "(not valid JSON)"));
	assert_non_null(strstr(h, "<p class=\"verdict v-inconclusive\""));
	assert_non_null(strstr(h, "The run did not complete:"));
	free(h);
	result_free(r);
}

static void test_html_no_flows(void **state)
{
	struct run_result *r = result_new(0, 0);
	size_t len;
	char *h;

	(void)state;
	assert_non_null(r);
	result_finish(r);
	h = render(r, FMT_HTML, &len);
	html_check(h);
	assert_int_equal(count(h, "data-outcome=\""), 0);
	assert_non_null(strstr(h, "The scenario has no flows."));
	assert_non_null(strstr(h, "<strong>PASS</strong>"));
	free(h);
	result_free(r);
}

static void test_html_event_groups(void **state)
{
	struct run_result *r = fixture_outage();
	struct result_event ev = {
		.source = (char *)"dns", .what = (char *)"prices.use1.example A",
		.rule = (char *)"dns.servfail", .action = (char *)"SERVFAIL",
	};
	size_t len, i;
	char *h;

	(void)state;
	for (i = 0; i < 5; i++) {
		ev.at_ms = 11000 + i * 1000;
		assert_int_equal(result_add_event(r, &ev), 0);
	}
	ev.what = (char *)"rpc.use1.example A";
	assert_int_equal(result_add_event(r, &ev), 0);
	h = render(r, FMT_HTML, &len);
	/* 6 of one name first (first 10.012 s, last 15.000 s), then the other */
	assert_non_null(strstr(h, "<p>7 decisions in 2 groups, most frequent first.</p>"));
	assert_non_null(strstr(h, "<tr><td class=\"msg\">prices.use1.example A</td>"
				  "<td>dns.servfail</td><td class=\"msg\">SERVFAIL</td>"
				  "<td class=\"num\">6</td><td class=\"num\">10.012 s</td>"
				  "<td class=\"num\">15.000 s</td></tr>\n<tr><td class=\"msg\">"
				  "rpc.use1.example A</td>"));
	free(h);
	result_free(r);
}

/* A 10-minute run, 6 flows every 2 s, a third of them failing with a message. */
static void test_html_long_run_small(void **state)
{
	struct run_result *r = result_new(6, 2);
	size_t len, i, j;
	char name[32], *h;

	(void)state;
	assert_non_null(r);
	r->scenario = strdup("ten-minutes");
	r->duration_ms = 600000;
	r->phase_end_ms[PHASE_BASELINE] = 60000;
	r->phase_start_ms[PHASE_FAULT] = 60000;
	r->phase_end_ms[PHASE_FAULT] = 540000;
	r->phase_start_ms[PHASE_RECOVERY] = 540000;
	r->phase_end_ms[PHASE_RECOVERY] = 600000;
	r->lift_ms = 540000;
	r->faults[0].kind = strdup("net.unreachable");
	r->faults[0].label = strdup("net.unreachable us-east-1");
	r->faults[0].start_ms = 60000;
	r->faults[0].end_ms = 540000;
	r->faults[1].kind = strdup("rpc.rate_limit");
	r->faults[1].label = strdup("rpc.rate_limit rpc-b 5/s");
	r->faults[1].start_ms = 120000;
	r->faults[1].end_ms = 300000;
	for (i = 0; i < 6; i++) {
		struct flow_result *f = &r->flows[i];

		snprintf(name, sizeof(name), "wallet-flow-%zu", i);
		f->name = strdup(name);
		for (j = 0; j < 300; j++) {
			uint64_t t = j * 2000 + i * 100;
			enum phase p = t < 60000 ? PHASE_BASELINE : t < 540000 ? PHASE_FAULT
									 : PHASE_RECOVERY;
			int bad = p == PHASE_FAULT && j % 3 == 0;
			struct flow_run run = {
				.start_ms = t, .latency_us = 12345 + j, .phase = p,
				.outcome = bad ? (j % 2 ? OUTCOME_ERROR : OUTCOME_WRONG) : OUTCOME_OK,
				.step = bad ? (char *)"get-balance" : NULL,
				.message = bad ? (char *)"JSON-RPC error -32005: daily request count "
							"exceeded, request rate limited" : NULL,
			};

			assert_int_equal(result_add_run(f, &run), 0);
		}
	}
	result_finish(r);
	h = render(r, FMT_HTML, &len);
	assert_int_equal(count(h, "data-outcome=\""), 1800);
	print_message("10-minute run, 6 flows every 2 s: %zu marks, %zu bytes of HTML\n",
		      (size_t)1800, len);
	assert_true(len < 512 * 1024);
	html_check(h);
	free(h);
	result_free(r);
}

/* Cells of a Markdown table line: unescaped pipes minus one. */
static size_t md_cells(const char *line, size_t n)
{
	size_t i, pipes = 0;

	for (i = 0; i < n; i++) {
		if (line[i] == '\\') {
			i++;
			continue;
		}
		pipes += line[i] == '|';
	}
	return pipes ? pipes - 1 : 0;
}

/* Every table line has as many cells as its header; returns the data rows. */
static size_t md_table_rows(const char *md, const char *header)
{
	const char *p = strstr(md, header), *eol;
	size_t want, rows = 0;

	assert_non_null(p);
	eol = strchr(p, '\n');
	want = md_cells(p, (size_t)(eol - p));
	for (p = eol + 1; *p == '|'; p = eol + 1) {
		eol = strchr(p, '\n');
		assert_non_null(eol);
		if (md_cells(p, (size_t)(eol - p)) != want)
			fail_msg("table line with %zu cells, want %zu: %.*s",
				 md_cells(p, (size_t)(eol - p)), want, (int)(eol - p), p);
		rows++;
	}
	return rows - 1;   /* the alignment line */
}

static void test_md_outage(void **state)
{
	struct run_result *r = fixture_outage();
	size_t len;
	char *m = render(r, FMT_MD, &len);

	(void)state;
	assert_true(strncmp(m, "### doorjam: **FAIL** aws-us-east-1-outage\n\n**FAIL**: 2 of 5 "
			       "flows failed their expectation: view-balance, chain-head (exit 1)\n",
			    len) == 0 || strstr(m, "**FAIL**: 2 of 5") == strchr(m, '\n') + 2);
	assert_int_equal(md_table_rows(m, "| flow |"), 5);
	assert_int_equal(md_table_rows(m, "| kind |"), 2);
	assert_non_null(strstr(m, "| view-balance | survive | **FAIL** | 2/0/0/0 | 1/1/0/2 | "
				  "2/0/0/0 | 11 ms | wrong: `balance 0x0 expected "
				  "0x3635c9adc5dea00000` |\n"));
	assert_non_null(strstr(m, "| chain-head | recover within 5000.000 ms | **FAIL** |"));
	assert_non_null(strstr(m, "| explorer | any | **NONE** | 1/0/0/0 | 0/0/1/0 | 0/0/0/0 | "
				  "- | error: `exit status 1` |\n"));
	assert_non_null(strstr(m, "| net.unreachable | net.unreachable us-east-1 | "
				  "10.000 s to 30.000 s |\n"));
	assert_non_null(strstr(m, "- **chain-head** (FAIL): passed again only 6504 ms"));
	free(m);
	result_free(r);
}

static void test_md_hostile(void **state)
{
	struct run_result *r = fixture_hostile(1);
	size_t len, i;
	char *m = render(r, FMT_MD, &len);

	(void)state;
	assert_int_equal(md_table_rows(m, "| flow |"), 3);
	assert_null(strchr(m, '\033'));
	assert_null(strchr(m, '\r'));
	for (i = 0; i < len; i++)
		if ((unsigned char)m[i] < 0x20 && m[i] != '\n')
			fail_msg("control byte 0x%02x at %zu", (unsigned char)m[i], i);
	/* the first error keeps its pipe (escaped) and shows its line breaks */
	assert_non_null(strstr(m, "error: `line1\\nline2\\r\\n tabbed 'single' \"double\" "
				  "x\\|y` |"));
	/* names are escaped text, not markup */
	assert_non_null(strstr(m, "a\\<b\\>\\&\"c\" 'd'"));
	/* no @mention: a zero-width space follows every '@' */
	assert_null(strstr(m, "@octocat"));
	assert_non_null(strstr(m, "**The run was interrupted**"));
	assert_non_null(strstr(m, "| dns.nxdomain | dns.nxdomain \\*.example | "
				  "1.000 s to (never lifted) |"));
	assert_non_null(strstr(m, "| rpc.status | rpc.status \\<html\\> \\& \"quotes\" | "
				  "not applied, failed: `apply: Operation not permitted` |"));
	free(m);
	result_free(r);
}

/* Code spans survive backticks in the message. */
static void test_md_backticks(void **state)
{
	struct run_result *r = result_new(1, 0);
	struct flow_result *f;
	size_t len;
	char *m;

	(void)state;
	assert_non_null(r);
	r->scenario = strdup("ticks");
	f = &r->flows[0];
	f->name = strdup("f");
	r->phase_end_ms[PHASE_BASELINE] = 10;
	r->phase_start_ms[PHASE_FAULT] = 10;
	r->lift_ms = 20;
	{
		struct flow_run run = {
			.start_ms = 11, .latency_us = 5, .phase = PHASE_FAULT,
			.outcome = OUTCOME_ERROR, .message = (char *)"`a`` b",
		};

		assert_int_equal(result_add_run(f, &run), 0);
	}
	result_finish(r);
	m = render(r, FMT_MD, &len);
	assert_non_null(strstr(m, "error: ``` `a`` b ``` |"));
	free(m);
	result_free(r);
}

static void test_md_size_cap(void **state)
{
	struct run_result *r = result_new(3000, 100);
	size_t len, i, rows;
	char name[200], *m;

	(void)state;
	assert_non_null(r);
	r->scenario = strdup("many");
	r->lift_ms = 0;
	for (i = 0; i < 100; i++) {
		r->faults[i].kind = strdup("rpc.status");
		r->faults[i].label = strdup("a label that is long enough to matter|||||||||||||||"
					    "|||||||||||||||||||||||||||||||||||||||||||||||||||");
		r->faults[i].start_ms = 0;
		r->faults[i].end_ms = 1;
	}
	for (i = 0; i < 3000; i++) {
		struct flow_run run = {
			.start_ms = 5, .latency_us = 5, .phase = PHASE_RECOVERY,
			.outcome = OUTCOME_WRONG,
			.message = (char *)"<<<<<<<<<<||||||||||``````````\n\n\n\n\n\xff\xff\xff\xff"
					   "<<<<<<<<<<||||||||||``````````\n\n\n\n\n\xff\xff\xff\xff"
					   "<<<<<<<<<<||||||||||``````````\n\n\n\n\n\xff\xff\xff\xff"
					   "<<<<<<<<<<||||||||||``````````\n\n\n\n\n\xff\xff\xff\xff",
		};

		snprintf(name, sizeof(name), "flow-%04zu-<*_[]|`&$#@~>-<*_[]|`&$#@~>-<*_[]|`&$#@~>-"
			 "<*_[]|`&$#@~>-<*_[]|`&$#@~>-<*_[]|`&$#@~>-<*_[]|`&$#@~>", i);
		r->flows[i].name = strdup(name);
		assert_int_equal(result_add_run(&r->flows[i], &run), 0);
	}
	result_finish(r);
	m = render(r, FMT_MD, &len);
	print_message("3000 flows, 100 faults: %zu bytes of Markdown\n", len);
	assert_true(len <= REPORT_MD_MAX);
	assert_true(len > REPORT_MD_MAX / 2);
	rows = md_table_rows(m, "| flow |");
	assert_true(rows > 10 && rows < 3000);
	{
		char note[128];

		snprintf(note, sizeof(note), "%zu of 3000 flows are not shown", 3000 - rows);
		assert_non_null(strstr(m, note));
	}
	assert_non_null(strstr(m, "60 more faults are in the JSON report."));
	assert_int_equal(md_table_rows(m, "| kind |"), 40);
	free(m);
	result_free(r);
}

static void test_write_path_and_errors(void **state)
{
	struct run_result *r = fixture_outage();
	char dir[] = "/tmp/djt-html-XXXXXX", path[128], bad[160];
	struct err e = { 0 };
	size_t got_len, want_len;
	char *got, *want;
	FILE *full;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.html", dir);
	assert_int_equal(report_html_write_path(r, path, &e), 0);
	got = slurp(path, &got_len);
	want = render(r, FMT_HTML, &want_len);
	assert_non_null(got);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, got_len);
	free(got);
	free(want);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	assert_int_equal(report_md_write_path(r, path, &e), 0);
	got = slurp(path, &got_len);
	want = render(r, FMT_MD, &want_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, got_len);
	free(got);
	free(want);
	assert_int_equal(unlink(path), 0);
	snprintf(bad, sizeof(bad), "%s/missing/report.html", dir);
	assert_int_equal(report_html_write_path(r, bad, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "missing/report.html"));
	assert_int_equal(rmdir(dir), 0);   /* no temporary file left behind */

	full = fopen("/dev/full", "w");
	if (full) {
		setvbuf(full, NULL, _IONBF, 0);
		assert_int_equal(report_html_write(r, full, &e), -EIO);
		assert_string_equal(e.msg, "HTML report: write error");
		clearerr(full);
		assert_int_equal(report_md_write(r, full, &e), -EIO);
		assert_string_equal(e.msg, "Markdown report: write error");
		fclose(full);
	}
	result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_outage),
		cmocka_unit_test(test_golden_hostile),
		cmocka_unit_test(test_html_structure_outage),
		cmocka_unit_test(test_html_hostile_escaped),
		cmocka_unit_test(test_html_no_flows),
		cmocka_unit_test(test_html_event_groups),
		cmocka_unit_test(test_html_long_run_small),
		cmocka_unit_test(test_md_outage),
		cmocka_unit_test(test_md_hostile),
		cmocka_unit_test(test_md_backticks),
		cmocka_unit_test(test_md_size_cap),
		cmocka_unit_test(test_write_path_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
