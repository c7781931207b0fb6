/*
 * report_json: the machine-readable report of a run ("doorjam_report": 1).
 *
 * The layout is the reference in docs/report-format.md: scenario, seed,
 * verdict, phase and fault windows, and per flow its verdict, per-phase
 * counts and latencies and every run. The output is deterministic: keys in
 * a fixed order, two-space indentation, every latency in milliseconds with
 * exactly three decimals, no current time. Text that is not valid UTF-8 is
 * repaired (U+FFFD per bad byte) so the file always parses. A fault's
 * params_json is embedded as a JSON value when it parses with jansson, and
 * as a JSON string otherwise.
 */
#ifndef DOORJAM_REPORT_JSON_H
#define DOORJAM_REPORT_JSON_H

#include <stdio.h>

#include "common/err.h"
#include "reports/result.h"

/* The value of the "doorjam_report" key; bumped on incompatible changes. */
#define REPORT_JSON_VERSION 1

/*
 * Write r (after result_finish) as JSON to out. Writes nothing but to out.
 * Returns 0, or a negative code with err set when out reports a write error.
 */
int report_json_write(const struct run_result *r, FILE *out, struct err *err)
	__attribute__((warn_unused_result));

/* Same, to a file replaced atomically ("-" is stdout). See report_out_file. */
int report_json_write_path(const struct run_result *r, const char *path, struct err *err)
	__attribute__((warn_unused_result));

#endif
