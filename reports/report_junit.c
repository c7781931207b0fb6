/*
 * report_junit: JUnit XML. See report_junit.h for the mapping.
 */
#include "reports/report_junit.h"

#include <errno.h>
#include <string.h>

#include "reports/report_out.h"

/* Characters that XML 1.0 forbids or discourages become U+FFFD. */
static int xml_allowed(uint32_t cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r')
		return 1;
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
		return 0;
	if (cp == 0xFFFE || cp == 0xFFFF)
		return 0;
	return 1;
}

/*
 * Escape s for XML; in an attribute, newlines and tabs become character
 * references so that attribute-value normalisation keeps them.
 */
static void xml_put(FILE *out, const char *s, int attr)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	uint32_t cp;

	while (n) {
		size_t k = report_out_utf8(p, n, &cp);

		if (!xml_allowed(cp))
			cp = REPORT_OUT_REPLACEMENT;
		switch (cp) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		case '\r': fputs("&#13;", out); break;
		case '\n': fputs(attr ? "&#10;" : "\n", out); break;
		case '\t': fputs(attr ? "&#9;" : "\t", out); break;
		default:
			if (cp == REPORT_OUT_REPLACEMENT)
				report_out_put_cp(out, cp);
			else
				fwrite(p, 1, k, out);
		}
		p += k;
		n -= k;
	}
}

static void attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	xml_put(out, value, 1);
	fputc('"', out);
}

static void attr_u64(FILE *out, const char *name, uint64_t v)
{
	fprintf(out, " %s=\"%llu\"", name, (unsigned long long)v);
}

static void property(FILE *out, const char *name, const char *value)
{
	fputs("      <property", out);
	attr(out, "name", name);
	attr(out, "value", value ? value : "");
	fputs("/>\n", out);
}

/* Seconds with three decimals: the sum of the flow's run latencies. */
static void flow_time(char *buf, const struct flow_result *f)
{
	uint64_t us = 0;
	size_t i;

	for (i = 0; i < f->nruns; i++)
		us += f->runs[i].latency_us;
	report_out_s3(buf, us / 1000);
}

static void phase_line(FILE *out, const struct flow_result *f, enum phase p)
{
	const struct phase_stats *st = &f->phases[p];
	char p50[REPORT_OUT_NUM], p95[REPORT_OUT_NUM], max[REPORT_OUT_NUM];
	char line[256];

	report_out_ms3(p50, st->p50_us);
	report_out_ms3(p95, st->p95_us);
	report_out_ms3(max, st->max_us);
	snprintf(line, sizeof(line),
		 "%s: %zu run%s: %zu ok, %zu slow, %zu error, %zu wrong; p50 %s ms, p95 %s ms, "
		 "max %s ms\n", phase_name(p), st->runs, st->runs == 1 ? "" : "s",
		 st->count[OUTCOME_OK],
		 st->count[OUTCOME_SLOW], st->count[OUTCOME_ERROR], st->count[OUTCOME_WRONG],
		 p50, p95, max);
	xml_put(out, line, 0);
}

static void write_testcase(FILE *out, const char *suite, const struct flow_result *f)
{
	char t[REPORT_OUT_NUM];
	int p;

	flow_time(t, f);
	fputs("    <testcase", out);
	attr(out, "classname", suite);
	attr(out, "name", f->name);
	fprintf(out, " time=\"%s\">\n", t);

	if (f->verdict == VERDICT_FAIL || f->verdict == VERDICT_INCONCLUSIVE) {
		int fail = f->verdict == VERDICT_FAIL;

		fprintf(out, "      <%s", fail ? "failure" : "error");
		attr(out, "message", f->reason);
		attr(out, "type", fail ? "expectation" : "inconclusive");
		fputc('>', out);
		if (fail) {
			xml_put(out, "expected ", 0);
			xml_put(out, result_expect_name(f->expect), 0);
			xml_put(out, ", but ", 0);
		} else {
			xml_put(out, "the flow failed in the baseline phase, so the fault could "
				"not be judged: ", 0);
		}
		xml_put(out, f->reason ? f->reason : "(no reason)", 0);
		/* The first error, unless the reason already quotes it. */
		if (f->first_error && (!f->reason || !strstr(f->reason, f->first_error))) {
			xml_put(out, "\nfirst error in the fault or recovery phase (", 0);
			xml_put(out, outcome_name(f->first_bad), 0);
			xml_put(out, "): ", 0);
			xml_put(out, f->first_error, 0);
		}
		fprintf(out, "</%s>\n", fail ? "failure" : "error");
	} else if (f->verdict == VERDICT_NONE) {
		fputs("      <skipped message=\"no expectation\"/>\n", out);
	}

	fputs("      <system-out>", out);
	xml_put(out, "expect: ", 0);
	xml_put(out, result_expect_name(f->expect), 0);
	xml_put(out, "; verdict: ", 0);
	xml_put(out, verdict_name(f->verdict), 0);
	xml_put(out, "\n", 0);
	for (p = 0; p < PHASE_COUNT; p++)
		phase_line(out, f, (enum phase)p);
	if (f->recovered)
		fprintf(out, "recovered %llu ms after the faults lifted\n",
			(unsigned long long)f->recovered_after_ms);
	else
		fputs("not recovered\n", out);
	if (f->reason) {
		xml_put(out, f->reason, 0);
		xml_put(out, "\n", 0);
	}
	fputs("</system-out>\n", out);
	fputs("    </testcase>\n", out);
}

int report_junit_write(const struct run_result *r, FILE *out, struct err *err)
{
	size_t i, failures = 0, errors = 0, skipped = 0, tests = r->nflows;
	const char *suite = r->scenario ? r->scenario : "scenario";
	char ts[REPORT_OUT_NUM], dur[REPORT_OUT_NUM], seed[REPORT_OUT_NUM];
	int run_case = r->error || r->interrupted;

	for (i = 0; i < r->nflows; i++) {
		switch (r->flows[i].verdict) {
		case VERDICT_FAIL: failures++; break;
		case VERDICT_INCONCLUSIVE: errors++; break;
		case VERDICT_NONE: skipped++; break;
		default: break;
		}
	}
	if (run_case) {
		tests++;
		errors++;
	}
	report_out_time(ts, r->started_at_unix_ms, REPORT_OUT_NOZONE);
	report_out_s3(dur, r->duration_ms);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)r->seed);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fputs("<testsuites", out);
	attr(out, "name", "doorjam");
	attr_u64(out, "tests", tests);
	attr_u64(out, "failures", failures);
	attr_u64(out, "errors", errors);
	fprintf(out, " time=\"%s\">\n", dur);

	fputs("  <testsuite", out);
	attr(out, "name", suite);
	attr_u64(out, "tests", tests);
	attr_u64(out, "failures", failures);
	attr_u64(out, "errors", errors);
	attr_u64(out, "skipped", skipped);
	fprintf(out, " time=\"%s\" timestamp=\"%s\"", dur, ts);
	if (r->file)
		attr(out, "file", r->file);
	fputs(">\n", out);

	fputs("    <properties>\n", out);
	property(out, "seed", seed);
	property(out, "verdict", verdict_name(r->verdict));
	if (r->description)
		property(out, "description", r->description);
	for (i = 0; i < r->nfaults; i++) {
		const struct fault_window *fw = &r->faults[i];
		char name[64];

		snprintf(name, sizeof(name), "fault.%zu", i);
		property(out, name, fw->label ? fw->label : fw->kind);
	}
	fputs("    </properties>\n", out);

	for (i = 0; i < r->nflows; i++)
		write_testcase(out, suite, &r->flows[i]);

	if (run_case) {
		const char *type = r->error ? "run-error" : "interrupted";
		const char *msg = r->error ? r->error : "the run was interrupted by a signal";

		fputs("    <testcase", out);
		attr(out, "classname", suite);
		fputs(" name=\"(run)\" time=\"0.000\">\n      <error", out);
		attr(out, "message", msg);
		attr(out, "type", type);
		fputc('>', out);
		xml_put(out, msg, 0);
		if (r->error && r->interrupted)
			xml_put(out, "\nthe run was also interrupted by a signal", 0);
		fputs("</error>\n    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);

	if (ferror(out))
		return err_set(err, -EIO, "JUnit report: write error");
	return 0;
}

static int write_cb(const void *ctx, FILE *out, struct err *err)
{
	return report_junit_write(ctx, out, err);
}

int report_junit_write_path(const struct run_result *r, const char *path, struct err *err)
{
	return report_out_file(path, write_cb, r, err);
}
