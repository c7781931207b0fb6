/*
 * report_md: the Markdown summary. See report_md.h and docs/report-format.md.
 *
 * The header and the faults are bounded by construction (every text is cut,
 * the faults table has at most MD_FAULT_ROWS rows); the flows table and the
 * list of reasons are not, so each of their lines is rendered into a
 * buffer first and kept only while the whole summary stays under
 * REPORT_MD_MAX.
 */
#include "reports/report_md.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_out.h"

#define MD_NAME_MAX    80     /* characters of a name in a heading or a cell */
#define MD_TEXT_MAX    300    /* characters of a description, reason or error */
#define MD_FAULT_ROWS  40
#define MD_NOTE_ROOM   400    /* bytes kept free for the notes that say what was cut */

/* Bidirectional controls would let a peer's text reorder what is shown. */
static int bidi_control(uint32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

/*
 * Characters that cannot be shown as they are: control characters become
 * their control pictures, invalid UTF-8, C1 controls and bidirectional
 * controls U+FFFD. Returns 1 when cp was written, 0 when the caller decides.
 */
static int put_special(FILE *out, uint32_t cp, size_t k)
{
	if (cp < 0x20) {
		report_out_put_cp(out, 0x2400 + cp);
		return 1;
	}
	if (cp == 0x7F) {
		report_out_put_cp(out, 0x2421);
		return 1;
	}
	if ((cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF || bidi_control(cp) ||
	    (cp == REPORT_OUT_REPLACEMENT && k == 1)) {
		report_out_put_cp(out, REPORT_OUT_REPLACEMENT);
		return 1;
	}
	return 0;
}

/*
 * Inline Markdown text: punctuation that could start markup is
 * backslash-escaped, line breaks and tabs become spaces, and '@' is
 * followed by a zero-width space so that no @mention notifies anyone.
 * Cut after max characters with an ellipsis.
 */
static void md_text(FILE *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), chars = 0;
	uint32_t cp;

	while (n) {
		size_t k = report_out_utf8(p, n, &cp);

		if (chars++ == max) {
			fputs("\xe2\x80\xa6", out);
			return;
		}
		if (cp == '\t' || cp == '\n' || cp == '\r')
			fputc(' ', out);
		else if (cp == '@')
			fputs("@\xe2\x80\x8b", out);
		else if (cp < 0x80 && strchr("\\`*_[]<>|~&$#", (int)cp))
			fprintf(out, "\\%c", (int)cp);
		else if (!put_special(out, cp, k))
			fwrite(p, 1, k, out);
		p += k;
		n -= k;
	}
}

/*
 * A message from the run as a code span: inside it nothing is markup, so
 * only backticks (by a longer fence), pipes (escaped, for tables) and line
 * breaks (a literal \n or \r) need care. Empty or NULL text gives "-".
 * Returns 0 or -ENOMEM.
 */
static int md_code(FILE *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), chars = 0, len = 0, run = 0, longest = 0, i;
	char *c = NULL;
	FILE *m;
	uint32_t cp;
	int pad;

	if (!n) {
		fputc('-', out);
		return 0;
	}
	m = open_memstream(&c, &len);
	if (!m)
		return -ENOMEM;
	while (n) {
		size_t k = report_out_utf8(p, n, &cp);

		if (chars++ == max) {
			fputs("\xe2\x80\xa6", m);
			break;
		}
		if (cp == '\n')
			fputs("\\n", m);
		else if (cp == '\r')
			fputs("\\r", m);
		else if (cp == '\t')
			fputc(' ', m);
		else if (cp == '|')
			fputs("\\|", m);
		else if (!put_special(m, cp, k))
			fwrite(p, 1, k, m);
		p += k;
		n -= k;
	}
	if (fclose(m) != 0) {
		free(c);
		return -ENOMEM;
	}
	for (i = 0; i < len; i++) {
		run = c[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	/* A space on each side is stripped again by the renderer. */
	pad = c[0] == '`' || c[0] == ' ' || c[len - 1] == '`' || c[len - 1] == ' ';
	for (i = 0; i <= longest; i++)
		fputc('`', out);
	if (pad)
		fputc(' ', out);
	fwrite(c, 1, len, out);
	if (pad)
		fputc(' ', out);
	for (i = 0; i <= longest; i++)
		fputc('`', out);
	free(c);
	return 0;
}

static const char *verdict_upper(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "PASS";
	case VERDICT_FAIL: return "FAIL";
	case VERDICT_INCONCLUSIVE: return "INCONCLUSIVE";
	default: return "NONE";
	}
}

static void window_text(char *buf, size_t n, uint64_t start, uint64_t end)
{
	char a[REPORT_OUT_NUM], b[REPORT_OUT_NUM];

	if (start == UINT64_MAX) {
		snprintf(buf, n, "not applied");
		return;
	}
	report_out_s3(a, start);
	if (end == UINT64_MAX) {
		snprintf(buf, n, "%s s to (never lifted)", a);
		return;
	}
	report_out_s3(b, end);
	snprintf(buf, n, "%s s to %s s", a, b);
}

static void write_verdict_line(FILE *out, const struct run_result *r)
{
	size_t i, nfail = 0, ninc = 0, nnone = 0, k = 0;
	enum verdict which = r->verdict == VERDICT_INCONCLUSIVE ? VERDICT_INCONCLUSIVE
								 : VERDICT_FAIL;

	for (i = 0; i < r->nflows; i++) {
		nfail += r->flows[i].verdict == VERDICT_FAIL;
		ninc += r->flows[i].verdict == VERDICT_INCONCLUSIVE;
		nnone += r->flows[i].verdict == VERDICT_NONE;
	}
	fprintf(out, "**%s**: ", verdict_upper(r->verdict));
	if (r->verdict == VERDICT_INCONCLUSIVE)
		fprintf(out, "%zu of %zu flows failed in the baseline, before any fault", ninc,
			r->nflows);
	else if (nfail)
		fprintf(out, "%zu of %zu flows failed their expectation", nfail, r->nflows);
	if (r->verdict == VERDICT_INCONCLUSIVE || nfail) {
		for (i = 0; i < r->nflows && k < 10; i++) {
			if (r->flows[i].verdict != which)
				continue;
			fputs(k++ ? ", " : ": ", out);
			md_text(out, r->flows[i].name, MD_NAME_MAX);
		}
		if ((r->verdict == VERDICT_INCONCLUSIVE ? ninc : nfail) > k)
			fputs(", ...", out);
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
	fprintf(out, " (exit %d)\n\n", verdict_exit_code(r->verdict));
}

static int write_head(FILE *out, const struct run_result *r)
{
	char ts[REPORT_OUT_NUM], dur[REPORT_OUT_NUM];
	int rc = 0;

	report_out_time(ts, r->started_at_unix_ms, REPORT_OUT_RFC3339);
	report_out_s3(dur, r->duration_ms);
	fprintf(out, "### doorjam: **%s** ", verdict_upper(r->verdict));
	md_text(out, r->scenario ? r->scenario : "(unnamed scenario)", MD_NAME_MAX);
	fputs("\n\n", out);
	write_verdict_line(out, r);
	if (r->description) {
		fputs("Scenario: ", out);
		md_text(out, r->description, MD_TEXT_MAX);
		fputs("  \n", out);
	}
	fprintf(out, "Seed %llu, started %s, took %s s", (unsigned long long)r->seed, ts, dur);
	if (r->file) {
		fputs(", file ", out);
		rc = md_code(out, r->file, MD_NAME_MAX);
	}
	fputs(".\n\n", out);
	if (!rc && r->error) {
		fputs("**The run did not complete:** ", out);
		rc = md_code(out, r->error, MD_TEXT_MAX);
		fputs("\n\n", out);
	}
	if (r->interrupted)
		fputs("**The run was interrupted** by a signal; the counts cover what ran until "
		      "then.\n\n", out);
	return rc;
}

static void counts(FILE *out, const struct phase_stats *st)
{
	fprintf(out, "%zu/%zu/%zu/%zu", st->count[OUTCOME_OK], st->count[OUTCOME_SLOW],
		st->count[OUTCOME_ERROR], st->count[OUTCOME_WRONG]);
}

static int write_row(FILE *out, const struct flow_result *f)
{
	char expect[64], ms[REPORT_OUT_NUM];
	int p;

	if (f->expect == RESULT_EXPECT_RECOVER) {
		report_out_ms3(ms, f->expect_within_us);
		snprintf(expect, sizeof(expect), "recover within %s ms", ms);
	} else {
		snprintf(expect, sizeof(expect), "%s", result_expect_name(f->expect));
	}
	fputs("| ", out);
	md_text(out, f->name ? f->name : "(unnamed)", MD_NAME_MAX);
	fputs(" | ", out);
	md_text(out, expect, sizeof(expect));
	fprintf(out, " | **%s** |", verdict_upper(f->verdict));
	for (p = 0; p < PHASE_COUNT; p++) {
		fputc(' ', out);
		counts(out, &f->phases[p]);
		fputs(" |", out);
	}
	if (f->recovered)
		fprintf(out, " %llu ms |", (unsigned long long)f->recovered_after_ms);
	else
		fprintf(out, " %s |", f->recovery_runs ? "no" : "-");
	fputc(' ', out);
	if (f->first_error) {
		fprintf(out, "%s: ", outcome_name(f->first_bad));
		if (md_code(out, f->first_error, REPORT_MD_MSG_MAX))
			return -ENOMEM;
	} else {
		fputc('-', out);
	}
	fputs(" |\n", out);
	return 0;
}

static void write_why(FILE *out, const struct flow_result *f)
{
	fputs("- **", out);
	md_text(out, f->name ? f->name : "(unnamed)", MD_NAME_MAX);
	fprintf(out, "** (%s): ", verdict_upper(f->verdict));
	md_text(out, f->reason ? f->reason : "(no reason)", MD_TEXT_MAX);
	fputc('\n', out);
}

static int write_faults(FILE *out, const struct run_result *r)
{
	size_t i, shown;

	fputs("#### Faults\n\n", out);
	if (!r->nfaults) {
		fputs("None.\n", out);
		return 0;
	}
	fputs("| kind | label | window |\n| :--- | :--- | :--- |\n", out);
	for (i = 0; i < r->nfaults && i < MD_FAULT_ROWS; i++) {
		const struct fault_window *fw = &r->faults[i];
		char win[96];

		window_text(win, sizeof(win), fw->start_ms, fw->end_ms);
		fputs("| ", out);
		md_text(out, fw->kind, MD_NAME_MAX);
		fputs(" | ", out);
		md_text(out, fw->label, MD_NAME_MAX);
		fprintf(out, " | %s", win);
		if (fw->error) {
			fputs(", failed: ", out);
			if (md_code(out, fw->error, REPORT_MD_MSG_MAX))
				return -ENOMEM;
		}
		fputs(" |\n", out);
	}
	if (r->nfaults > MD_FAULT_ROWS)
		fprintf(out, "\n%zu more faults are in the JSON report.\n",
			r->nfaults - MD_FAULT_ROWS);
	for (i = 0, shown = 0; i < r->nfaults && i < MD_FAULT_ROWS; i++) {
		struct evidence_summary sum;
		char text[512];

		if (!evidence_summarize(r, i, &sum))
			continue;
		if (!shown++)
			fputs("\n**Packet evidence** (what the captures saw during each fault):\n\n", out);
		evidence_summary_text(&sum, text, sizeof(text));
		fputs("* ", out);
		md_text(out, r->faults[i].label, MD_NAME_MAX);
		fprintf(out, ":%s\n", text);
	}
	return 0;
}

/* A growing piece of the summary in memory. */
struct piece {
	char *buf;
	size_t len;
	FILE *m;
};

static int piece_open(struct piece *pc)
{
	pc->buf = NULL;
	pc->len = 0;
	pc->m = open_memstream(&pc->buf, &pc->len);
	return pc->m ? 0 : -ENOMEM;
}

/* Close the stream; the text stays in buf/len. */
static int piece_close(struct piece *pc)
{
	int rc = 0;

	if (pc->m && fclose(pc->m) != 0)
		rc = -ENOMEM;
	pc->m = NULL;
	return rc;
}

static void piece_free(struct piece *pc)
{
	piece_close(pc);
	free(pc->buf);
	pc->buf = NULL;
}

int report_md_write(const struct run_result *r, FILE *out, struct err *err)
{
	struct piece head = { 0 }, tail = { 0 }, body = { 0 }, one = { 0 };
	size_t i, budget, shown = 0, why_shown = 0, why_total = 0;
	int rc;

	rc = piece_open(&head);
	if (!rc)
		rc = write_head(head.m, r);
	if (!rc)
		rc = piece_close(&head);
	if (!rc)
		rc = piece_open(&tail);
	if (!rc)
		rc = write_faults(tail.m, r);
	if (!rc)
		rc = piece_close(&tail);
	if (!rc)
		rc = piece_open(&body);
	if (rc)
		goto out;
	budget = REPORT_MD_MAX - MD_NOTE_ROOM - head.len - tail.len;

	if (r->nflows)
		fputs("| flow | expect | verdict | baseline | fault | recovery | recovered | "
		      "first error |\n| :--- | :--- | :--- | ---: | ---: | ---: | ---: | :--- |\n",
		      body.m);
	else
		fputs("No flows.\n", body.m);
	for (i = 0; i < r->nflows; i++) {
		rc = piece_open(&one);
		if (!rc)
			rc = write_row(one.m, &r->flows[i]);
		if (!rc)
			rc = piece_close(&one);
		if (rc)
			goto out;
		if ((size_t)ftell(body.m) + one.len > budget) {
			piece_free(&one);
			break;
		}
		fwrite(one.buf, 1, one.len, body.m);
		piece_free(&one);
		shown++;
	}
	if (r->nflows)
		fputs("\nRuns per phase: ok/slow/err/wrong.\n", body.m);
	if (shown < r->nflows)
		fprintf(body.m, "\n%zu of %zu flows are not shown: the summary is kept under %u "
			"bytes. The JSON report has every flow.\n", r->nflows - shown, r->nflows,
			REPORT_MD_MAX);

	for (i = 0; i < r->nflows; i++) {
		const struct flow_result *f = &r->flows[i];

		if (f->verdict != VERDICT_FAIL && f->verdict != VERDICT_INCONCLUSIVE)
			continue;
		why_total++;
		if (why_shown < why_total - 1)
			continue;   /* an earlier reason did not fit: keep the list in order */
		rc = piece_open(&one);
		if (rc)
			goto out;
		if (!why_shown)
			fputs("\n**Why**\n\n", one.m);
		write_why(one.m, f);
		rc = piece_close(&one);
		if (rc)
			goto out;
		if ((size_t)ftell(body.m) + one.len <= budget) {
			fwrite(one.buf, 1, one.len, body.m);
			why_shown++;
		}
		piece_free(&one);
	}
	if (why_shown < why_total)
		fprintf(body.m, "\n%zu more reasons are not shown.\n", why_total - why_shown);
	fputc('\n', body.m);
	rc = piece_close(&body);
	if (rc)
		goto out;

	fwrite(head.buf, 1, head.len, out);
	fwrite(body.buf, 1, body.len, out);
	fwrite(tail.buf, 1, tail.len, out);
	if (ferror(out))
		rc = err_set(err, -EIO, "Markdown report: write error");
out:
	if (rc == -ENOMEM)
		err_set(err, rc, "Markdown report: out of memory");
	piece_free(&one);
	piece_free(&body);
	piece_free(&tail);
	piece_free(&head);
	return rc;
}

static int write_cb(const void *ctx, FILE *out, struct err *err)
{
	return report_md_write(ctx, out, err);
}

int report_md_write_path(const struct run_result *r, const char *path, struct err *err)
{
	return report_out_file(path, write_cb, r, err);
}
