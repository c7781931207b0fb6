/*
 * Unit tests for the report writers (JSON, JUnit XML, terminal).
 *
 * Two fixed run results are built by hand: "outage" (a realistic run with
 * every verdict kind) and "hostile" (markup characters, escape sequences,
 * invalid UTF-8, an interrupted run with an error, a fault never applied).
 * Each writer's output is compared byte for byte with the golden files in
 * tests/data/reports/<fixture>.{json,xml,txt,color.txt}; the test runs from
 * the repository root (as tests/run-unit.sh does).
 *
 * To rewrite the golden files after an intended format change, run
 *     DOORJAM_UPDATE_GOLDEN=1 build/std/tests/test_report
 * and review the diff before committing it.
 *
 * Beyond the golden files, the JSON is parsed back with jansson and its key
 * fields checked, and the XML goes through a small well-formedness checker
 * (balanced tags, quoted attributes, known entities, no raw control
 * characters, valid UTF-8).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "reports/report_json.h"
#include "reports/report_junit.h"
#include "reports/report_out.h"
#include "reports/report_term.h"
#include "reports/result.h"

#define GOLDEN_DIR "tests/data/reports/"

#include "tests/unit/report_fixtures.h"

/* ---- helpers ---- */

enum fmt { FMT_JSON, FMT_XML, FMT_TXT, FMT_COLOR };

static char *render(const struct run_result *r, enum fmt fmt, size_t *len)
{
	char *s = NULL;
	FILE *m = open_memstream(&s, len);
	struct err e = { 0 };
	int rc = -1;

	assert_non_null(m);
	switch (fmt) {
	case FMT_JSON: rc = report_json_write(r, m, &e); break;
	case FMT_XML: rc = report_junit_write(r, m, &e); break;
	case FMT_TXT: rc = report_term_write(r, m, 0, &e); break;
	case FMT_COLOR: rc = report_term_write(r, m, REPORT_TERM_COLOR, &e); break;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(fclose(m), 0);
	return s;
}

static void golden(const char *fixture, enum fmt fmt, const struct run_result *r)
{
	static const char *ext[] = { "json", "xml", "txt", "color.txt" };
	char path[256];
	size_t got_len, want_len = 0, i;
	char *got = render(r, fmt, &got_len), *want;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s.%s", fixture, ext[fmt]);
	if (getenv("DOORJAM_UPDATE_GOLDEN") && strcmp(getenv("DOORJAM_UPDATE_GOLDEN"), "1") == 0) {
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

/* ---- a small XML well-formedness checker ---- */

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == ':' || c == '.';
}

/* An entity or character reference at p ('&'); returns its length. */
static size_t xml_entity(const char *p)
{
	static const char *known[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strncmp(p, known[i], strlen(known[i])) == 0)
			return strlen(known[i]);
	if (p[1] == '#') {
		i = 2;
		while (p[i] >= '0' && p[i] <= '9')
			i++;
		if (i > 2 && p[i] == ';')
			return i + 1;
	}
	fail_msg("bad entity reference at \"%.12s\"", p);
	return 0;
}

/* Character data up to stop (NUL-terminated region end or stop char). */
static const char *xml_chars(const char *p, char stop)
{
	while (*p && *p != stop) {
		unsigned char c = (unsigned char)*p;
		uint32_t cp;
		size_t k;

		if (c == '&') {
			p += xml_entity(p);
			continue;
		}
		if (c == '<' || c == '>')
			fail_msg("raw '%c' in character data at \"%.20s\"", c, p);
		if (c < 0x20 && c != '\n' && c != '\t')
			fail_msg("raw control character 0x%02x", c);
		k = report_out_utf8((const unsigned char *)p, strlen(p), &cp);
		if (cp == REPORT_OUT_REPLACEMENT && k == 1 && c >= 0x80)
			fail_msg("invalid UTF-8 at \"%.8s\"", p);
		p += k;
	}
	return p;
}

static void xml_check(const char *doc, const char *root)
{
	const char *stack[32];
	size_t lens[32];
	int depth = 0, roots = 0;
	const char *p = doc;

	assert_true(strncmp(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
	p += 39;
	while (*p) {
		if (*p != '<') {
			if (depth == 0) {   /* only blanks outside the root element */
				assert_true(*p == '\n' || *p == ' ');
				p++;
			} else {
				p = xml_chars(p, '<');
			}
			continue;
		}
		if (p[1] == '/') {
			const char *n = p + 2;
			size_t len = 0;

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
		{
			const char *n = p + 1;
			size_t len = 0;

			while (name_char(n[len]))
				len++;
			assert_true(len > 0);
			if (depth == 0) {
				roots++;
				assert_int_equal(len, strlen(root));
				assert_true(strncmp(n, root, len) == 0);
			}
			p = n + len;
			for (;;) {
				size_t an = 0;

				if (*p == '>') {
					assert_true(depth < 32);
					stack[depth] = n;
					lens[depth] = len;
					depth++;
					p++;
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
				p = xml_chars(p + an + 2, '"');
				assert_int_equal(*p, '"');
				p++;
			}
		}
	}
	assert_int_equal(depth, 0);
	assert_int_equal(roots, 1);
}

/* ---- tests ---- */

static void test_golden_outage(void **state)
{
	struct run_result *r = fixture_outage();

	(void)state;
	golden("outage", FMT_JSON, r);
	golden("outage", FMT_XML, r);
	golden("outage", FMT_TXT, r);
	golden("outage", FMT_COLOR, r);
	result_free(r);
}

static void test_golden_hostile(void **state)
{
	struct run_result *r = fixture_hostile(0);

	(void)state;
	golden("hostile", FMT_JSON, r);
	golden("hostile", FMT_XML, r);
	golden("hostile", FMT_TXT, r);
	golden("hostile", FMT_COLOR, r);
	result_free(r);
}

static json_t *get(json_t *root, const char *ptr)
{
	/* tiny pointer walker for tests: "/a/0/b" */
	char buf[256], *tok, *save = NULL;
	json_t *v = root;

	snprintf(buf, sizeof(buf), "%s", ptr);
	for (tok = strtok_r(buf, "/", &save); tok && v; tok = strtok_r(NULL, "/", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, strtoul(tok, NULL, 10));
		else
			v = json_object_get(v, tok);
	}
	if (!v)
		fail_msg("no value at %s", ptr);
	return v;
}

static void test_json_parses_back_outage(void **state)
{
	struct run_result *r = fixture_outage();
	size_t len;
	char *s = render(r, FMT_JSON, &len);
	json_error_t jerr;
	json_t *root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *keys[] = { "doorjam_report", "scenario", "description", "file", "seed",
			       "verdict", "exit_code", "interrupted", "error", "started_at",
			       "duration_ms", "lift_ms", "phases", "faults", "flows", "events" };
	const char *k;
	json_t *v;
	size_t i = 0;

	(void)state;
	if (!root)
		fail_msg("JSON does not parse: %s at %d:%d", jerr.text, jerr.line, jerr.column);
	/* key order is part of the format */
	json_object_foreach(root, k, v) {
		assert_true(i < sizeof(keys) / sizeof(keys[0]));
		assert_string_equal(k, keys[i]);
		i++;
	}
	assert_int_equal(i, sizeof(keys) / sizeof(keys[0]));
	assert_int_equal(json_integer_value(get(root, "/doorjam_report")), 1);
	assert_string_equal(json_string_value(get(root, "/verdict")), "fail");
	assert_int_equal(json_integer_value(get(root, "/exit_code")), 1);
	assert_string_equal(json_string_value(get(root, "/started_at")),
			    "2026-11-30T13:29:48.123Z");
	assert_int_equal(json_integer_value(get(root, "/seed")), 42);
	assert_true(json_is_null(get(root, "/error")));
	assert_int_equal(json_integer_value(get(root, "/phases/fault/start_ms")), 10000);
	assert_int_equal(json_integer_value(get(root, "/faults/1/params/rps")), 5);
	assert_true(json_real_value(get(root, "/faults/1/params/p")) == 0.25);
	assert_int_equal(json_integer_value(get(root, "/faults/0/end_ms")), 30000);

	assert_string_equal(json_string_value(get(root, "/flows/0/name")), "view-balance");
	assert_string_equal(json_string_value(get(root, "/flows/0/expect")), "survive");
	assert_string_equal(json_string_value(get(root, "/flows/0/verdict")), "fail");
	assert_int_equal(json_integer_value(get(root, "/flows/0/phases/fault/wrong")), 2);
	assert_int_equal(json_integer_value(get(root, "/flows/0/phases/fault/slow")), 1);
	assert_int_equal(json_integer_value(get(root, "/flows/0/phases/fault/runs")), 4);
	assert_true(json_real_value(get(root, "/flows/0/phases/fault/p95_ms")) == 1500.0);
	assert_true(json_real_value(get(root, "/flows/0/phases/baseline/p50_ms")) == 12.345);
	assert_string_equal(json_string_value(get(root, "/flows/0/first_error")),
			    "balance 0x0 expected 0x3635c9adc5dea00000");
	assert_string_equal(json_string_value(get(root, "/flows/0/first_bad")), "wrong");
	assert_int_equal(json_array_size(get(root, "/flows/0/runs")), 8);
	assert_string_equal(json_string_value(get(root, "/flows/0/runs/3/outcome")), "wrong");
	assert_int_equal(json_integer_value(get(root, "/flows/0/runs/3/t_ms")), 15000);
	assert_true(json_real_value(get(root, "/flows/0/runs/3/latency_ms")) == 18.0);
	assert_true(json_is_null(get(root, "/flows/0/runs/0/message")));

	assert_string_equal(json_string_value(get(root, "/flows/1/verdict")), "pass");
	assert_true(json_is_true(get(root, "/flows/1/recovered")));
	assert_int_equal(json_integer_value(get(root, "/flows/1/recovered_after_ms")), 6096);
	assert_string_equal(json_string_value(get(root, "/flows/2/verdict")), "pass");
	assert_string_equal(json_string_value(get(root, "/flows/3/verdict")), "fail");
	assert_true(json_real_value(get(root, "/flows/3/expect_within_ms")) == 5000.0);
	assert_int_equal(json_integer_value(get(root, "/flows/3/recovered_after_ms")), 6504);
	assert_string_equal(json_string_value(get(root, "/flows/4/verdict")), "none");
	assert_true(json_is_null(get(root, "/flows/4/recovered_after_ms")));
	assert_int_equal(json_array_size(get(root, "/events")), 3);
	assert_true(json_is_null(get(root, "/events/1/detail")));
	json_decref(root);
	free(s);
	result_free(r);
}

static void test_json_parses_back_hostile(void **state)
{
	struct run_result *r = fixture_hostile(0);
	size_t len;
	char *s = render(r, FMT_JSON, &len);
	json_error_t jerr;
	json_t *root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);

	(void)state;
	if (!root)
		fail_msg("JSON does not parse: %s at %d:%d", jerr.text, jerr.line, jerr.column);
	assert_string_equal(json_string_value(get(root, "/scenario")), "a<b>&\"c\" 'd'");
	assert_string_equal(json_string_value(get(root, "/verdict")), "inconclusive");
	assert_int_equal(json_integer_value(get(root, "/exit_code")), 4);
	assert_true(json_is_true(get(root, "/interrupted")));
	assert_int_equal(json_integer_value(get(root, "/seed")), 9007199254740993ll);
	assert_string_equal(json_string_value(get(root, "/started_at")),
			    "1970-01-01T00:00:00.000Z");
	/* invalid params are kept as a string; never-applied windows are null */
	assert_string_equal(json_string_value(get(root, "/faults/0/params")), "{not json");
	assert_true(json_is_null(get(root, "/faults/0/start_ms")));
	assert_true(json_is_null(get(root, "/faults/1/params")));
	assert_true(json_is_null(get(root, "/phases/recovery/start_ms")));
	/* escapes round-trip exactly; only invalid UTF-8 is replaced */
	assert_string_equal(json_string_value(get(root, "/flows/0/name")),
			    "esc \033[31mred\033[0m & <tag>");
	assert_string_equal(json_string_value(get(root, "/flows/0/runs/0/message")),
			    "body ]]> <html>&amp; \033]0;title\a \x01\x02 bad utf8 "
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok ü✓ 𝄞");
	assert_string_equal(json_string_value(get(root, "/flows/0/runs/1/message")),
			    "line1\nline2\r\n\ttabbed 'single' \"double\"");
	assert_string_equal(json_string_value(get(root, "/flows/0/verdict")), "inconclusive");
	assert_int_equal(json_array_size(get(root, "/flows/1/runs")), 0);
	assert_true(json_real_value(get(root, "/flows/1/phases/fault/p95_ms")) == 0.0);
	assert_true(json_real_value(get(root, "/flows/2/expect_within_ms")) == 1.5);
	assert_string_equal(json_string_value(get(root, "/events/0/detail")), "\xef\xbf\xbd");
	json_decref(root);
	free(s);
	result_free(r);
}

static void test_xml_well_formed(void **state)
{
	struct run_result *o = fixture_outage(), *h = fixture_hostile(0);
	size_t len;
	char *xo = render(o, FMT_XML, &len), *xh = render(h, FMT_XML, &len);

	(void)state;
	xml_check(xo, "testsuites");
	xml_check(xh, "testsuites");
	/* counts: 5 flows, 2 failures, 0 errors, 1 skipped */
	assert_non_null(strstr(xo, "<testsuite name=\"aws-us-east-1-outage\" tests=\"5\" "
				   "failures=\"2\" errors=\"0\" skipped=\"1\" time=\"40.000\" "
				   "timestamp=\"2026-11-30T13:29:48\""));
	assert_non_null(strstr(xo, "<failure message=\"2 of 4 runs in the fault phase"));
	assert_non_null(strstr(xo, "type=\"expectation\">expected survive, but 2 of 4 runs in "
				   "the fault phase were wrong"));
	assert_non_null(strstr(xo, "<skipped message=\"no expectation\"/>"));
	/* hostile: inconclusive flow is an error, plus the (run) case */
	assert_non_null(strstr(xh, "tests=\"4\" failures=\"2\" errors=\"2\" skipped=\"0\""));
	assert_non_null(strstr(xh, "<error message=\"before any fault"));
	assert_non_null(strstr(xh, "name=\"(run)\""));
	assert_non_null(strstr(xh, "type=\"run-error\""));
	assert_non_null(strstr(xh, "name=\"a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;\""));
	assert_non_null(strstr(xh, "line one&#10;line two&#9;with a tab"));
	assert_null(strchr(xh, '\033'));
	assert_null(strchr(xh, '\r'));
	assert_null(strstr(xh, "]]>"));
	free(xo);
	free(xh);
	result_free(o);
	result_free(h);
}

static void test_term_plain_and_color(void **state)
{
	struct run_result *h = fixture_hostile(0), *o = fixture_outage();
	size_t len, i;
	char *plain = render(h, FMT_TXT, &len), *color = render(h, FMT_COLOR, &len);
	char *oplain = render(o, FMT_TXT, &len);

	(void)state;
	/* no escape byte at all without colour, even with hostile text */
	assert_null(strchr(plain, '\033'));
	assert_null(strchr(oplain, '\033'));
	assert_non_null(strstr(plain, "esc ?[31mred?[0m & <tag>"));
	/* with colour, every ESC is one of ours: ESC [ digits/; m */
	for (i = 0; color[i]; i++) {
		size_t j = i + 2;

		if (color[i] != '\033')
			continue;
		assert_int_equal(color[i + 1], '[');
		while ((color[j] >= '0' && color[j] <= '9') || color[j] == ';')
			j++;
		assert_int_equal(color[j], 'm');
	}
	assert_non_null(strstr(color, "\033[33mINCONCLUSIVE\033[0m: "));
	/* no trailing blanks on any line */
	for (i = 1; oplain[i]; i++)
		if (oplain[i] == '\n')
			assert_int_not_equal(oplain[i - 1], ' ');
	assert_non_null(strstr(oplain, "FAIL: 2 of 5 flows failed their expectation: "
				       "view-balance, chain-head (exit 1)\n"));
	free(plain);
	free(color);
	free(oplain);
	result_free(h);
	result_free(o);
}

static void test_write_path(void **state)
{
	struct run_result *r = fixture_outage();
	char dir[] = "/tmp/djt-report-XXXXXX", path[128], bad[160];
	struct err e = { 0 };
	size_t got_len, want_len;
	char *got, *want;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	assert_int_equal(report_json_write_path(r, path, &e), 0);
	got = slurp(path, &got_len);
	want = render(r, FMT_JSON, &want_len);
	assert_non_null(got);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, got_len);
	free(got);
	free(want);
	snprintf(path, sizeof(path), "%s/report.xml", dir);
	assert_int_equal(report_junit_write_path(r, path, &e), 0);
	assert_int_equal(unlink(path), 0);

	snprintf(bad, sizeof(bad), "%s/missing/report.json", dir);
	assert_int_equal(report_json_write_path(r, bad, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "missing/report.json"));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);   /* no temporary file left behind */
	result_free(r);
}

static void test_write_error_reported(void **state)
{
	struct run_result *r = fixture_outage();
	struct err e = { 0 };
	FILE *full = fopen("/dev/full", "w");

	(void)state;
	if (!full)
		skip();
	setvbuf(full, NULL, _IONBF, 0);
	assert_int_equal(report_json_write(r, full, &e), -EIO);
	assert_string_equal(e.msg, "JSON report: write error");
	clearerr(full);
	assert_int_equal(report_junit_write(r, full, &e), -EIO);
	clearerr(full);
	assert_int_equal(report_term_write(r, full, 0, &e), -EIO);
	fclose(full);
	result_free(r);
}

static void test_out_helpers(void **state)
{
	char buf[REPORT_OUT_NUM];
	uint32_t cp;

	(void)state;
	report_out_ms3(buf, 0);
	assert_string_equal(buf, "0.000");
	report_out_ms3(buf, 1234567);
	assert_string_equal(buf, "1234.567");
	report_out_ms3(buf, UINT64_MAX);
	assert_string_equal(buf, "18446744073709551.615");
	report_out_time(buf, 1796045388123ull, REPORT_OUT_NOZONE);
	assert_string_equal(buf, "2026-11-30T13:29:48");
	/* overlong '/', surrogate, past U+10FFFF, truncated */
	assert_int_equal(report_out_utf8((const unsigned char *)"\xc0\xaf", 2, &cp), 1);
	assert_int_equal(cp, REPORT_OUT_REPLACEMENT);
	assert_int_equal(report_out_utf8((const unsigned char *)"\xed\xa0\x80", 3, &cp), 1);
	assert_int_equal(cp, REPORT_OUT_REPLACEMENT);
	assert_int_equal(report_out_utf8((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 1);
	assert_int_equal(report_out_utf8((const unsigned char *)"\xe2\x9c", 2, &cp), 1);
	assert_int_equal(report_out_utf8((const unsigned char *)"\xe2\x9c\x93", 3, &cp), 3);
	assert_int_equal(cp, 0x2713);
	assert_int_equal(report_out_width("Grüße ✓"), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_outage),
		cmocka_unit_test(test_golden_hostile),
		cmocka_unit_test(test_json_parses_back_outage),
		cmocka_unit_test(test_json_parses_back_hostile),
		cmocka_unit_test(test_xml_well_formed),
		cmocka_unit_test(test_term_plain_and_color),
		cmocka_unit_test(test_write_path),
		cmocka_unit_test(test_write_error_reported),
		cmocka_unit_test(test_out_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
