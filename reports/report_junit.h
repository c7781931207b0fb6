/*
 * report_junit: the run as JUnit XML, for CI systems (Jenkins, GitLab,
 * GitHub test reporters).
 *
 * One <testsuites> holding one <testsuite> named after the scenario, with
 * one <testcase> per flow (classname = scenario, name = flow):
 *   FAIL          -> <failure type="expectation" message=reason>
 *   INCONCLUSIVE  -> <error type="inconclusive" message=reason>
 *   NONE          -> <skipped message="no expectation"/>
 *   PASS          -> no child but <system-out>
 * Every testcase has a <system-out> with its per-phase counts. When the run
 * itself failed (r->error) or was interrupted, one more testcase named
 * "(run)" carries an <error type="run-error"> or <error type="interrupted">,
 * so the CI view agrees with the exit code. docs/report-format.md has the
 * mapping. Text is escaped for XML 1.0; characters XML cannot hold (control
 * characters, invalid UTF-8) become U+FFFD. Output is deterministic.
 */
#ifndef DOORJAM_REPORT_JUNIT_H
#define DOORJAM_REPORT_JUNIT_H

#include <stdio.h>

#include "common/err.h"
#include "reports/result.h"

/*
 * Write r (after result_finish) as JUnit XML to out. Returns 0, or a
 * negative code with err set when out reports a write error.
 */
int report_junit_write(const struct run_result *r, FILE *out, struct err *err)
	__attribute__((warn_unused_result));

/* Same, to a file replaced atomically ("-" is stdout). See report_out_file. */
int report_junit_write_path(const struct run_result *r, const char *path, struct err *err)
	__attribute__((warn_unused_result));

#endif
