/*
 * report_term: the human summary of a run, for a terminal or a CI log.
 *
 * A header (scenario, seed, start, duration, phase and fault windows), then a
 * table with one row per flow and phase: outcome counts (ok/slow/err/wrong),
 * p50/p95 latency, and on the flow's first row its expectation, verdict and
 * time to recover; under each flow, why it got its verdict and its first
 * error. The last line is the scenario verdict and the exit code.
 *
 * Colour (ANSI SGR) is used only when the caller passes REPORT_TERM_COLOR;
 * the caller decides (isatty, NO_COLOR, a flag). Without it the output is
 * plain ASCII apart from the user's own text, and reads the same. Text from
 * the run is sanitised: control characters (escape sequences from a peer
 * included) become '?', invalid UTF-8 becomes U+FFFD, long messages are cut
 * at REPORT_TERM_MSG_MAX characters. Output is deterministic.
 */
#ifndef DOORJAM_REPORT_TERM_H
#define DOORJAM_REPORT_TERM_H

#include <stdio.h>

#include "common/err.h"
#include "reports/result.h"

#define REPORT_TERM_COLOR 0x1u   /* use ANSI colours */

/* Messages longer than this (in characters) are cut and end with "...". */
#define REPORT_TERM_MSG_MAX 160

/*
 * Write the summary of r (after result_finish) to out. flags: a mask of
 * REPORT_TERM_*. Returns 0, or a negative code with err set when out
 * reports a write error.
 */
int report_term_write(const struct run_result *r, FILE *out, unsigned flags,
		      struct err *err)
	__attribute__((warn_unused_result));

#endif
