/*
 * report_html: a run as one self-contained HTML page, for a game-day room.
 *
 * The page holds, top to bottom: the scenario, its verdict in words and
 * colour, seed, start and duration; one sentence per flow that broke (how,
 * when, whether it came back); an SVG timeline with one row per flow and
 * one mark per flow run, fault windows shaded across all rows and phase
 * boundaries as lines; a table per flow; the faults with their parameters;
 * and the DNS and RPC decisions summarised as counts. The layout is in
 * docs/report-format.md.
 *
 * The file fetches nothing and runs nothing: CSS and SVG are inline, there
 * is no script, and a Content-Security-Policy meta tag forbids any load.
 * Marks differ by shape as well as colour (ok circle, slow triangle, error
 * square, wrong diamond), so the page reads in black and white. Every text
 * from the run is escaped; control characters show as their Unicode control
 * pictures, invalid UTF-8 and bidirectional overrides as U+FFFD. Tooltips
 * cut messages at REPORT_HTML_TIP_MAX characters to keep long runs small.
 *
 * For tests and tools the marks carry data-outcome, data-t-ms (start of the
 * run, ms since the run started) and data-flow (flow index); fault bands
 * carry data-fault-start-ms and data-fault-end-ms (empty when never lifted).
 * Like every writer, the output is a pure function of the result: the same
 * result always gives the same bytes.
 */
#ifndef DOORJAM_REPORT_HTML_H
#define DOORJAM_REPORT_HTML_H

#include <stdio.h>

#include "common/err.h"
#include "reports/result.h"

/* Characters of a run's message shown in its timeline tooltip. */
#define REPORT_HTML_TIP_MAX 80

/* Rows of a DNS or RPC summary table; the rest is counted in a note. */
#define REPORT_HTML_EVENT_ROWS 200

/*
 * Write r (after result_finish) as an HTML page to out. Returns 0, -ENOMEM
 * with err set when a summary table cannot be built, or -EIO with err set
 * when out reports a write error.
 */
int report_html_write(const struct run_result *r, FILE *out, struct err *err)
	__attribute__((warn_unused_result));

/* Same, to a file replaced atomically ("-" is stdout). See report_out_file. */
int report_html_write_path(const struct run_result *r, const char *path, struct err *err)
	__attribute__((warn_unused_result));

#endif
