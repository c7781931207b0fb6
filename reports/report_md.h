/*
 * report_md: a run as a short Markdown summary, for a CI step summary or a
 * pull-request comment (GitHub-flavoured Markdown).
 *
 * It holds the verdict as a bold word (no emoji), the scenario and its
 * description, a table with one row per flow (expectation, verdict, runs
 * per phase as ok/slow/err/wrong, time to recover, first error), why each
 * failing flow failed, and the faults with their windows. The layout is in
 * docs/report-format.md.
 *
 * The summary always stays under REPORT_MD_MAX bytes (so under as many
 * characters), below the 65,536-character limit of a GitHub comment: long
 * texts are cut, and when the flows do not fit, the table stops with a note
 * saying how many flows were left out. Text from the run cannot change the
 * layout or the markup: Markdown punctuation is backslash-escaped, messages
 * from peers go into code spans (so no @mention or link fires), pipes are
 * escaped and line breaks show as a literal \n. Output is deterministic.
 */
#ifndef DOORJAM_REPORT_MD_H
#define DOORJAM_REPORT_MD_H

#include <stdio.h>

#include "common/err.h"
#include "reports/result.h"

/* The summary never exceeds this many bytes. */
#define REPORT_MD_MAX 65000

/* Characters of a first error shown in the flows table. */
#define REPORT_MD_MSG_MAX 120

/*
 * Write the summary of r (after result_finish) to out. Returns 0, -ENOMEM
 * with err set when a buffer cannot be allocated, or -EIO with err set when
 * out reports a write error.
 */
int report_md_write(const struct run_result *r, FILE *out, struct err *err)
	__attribute__((warn_unused_result));

/* Same, to a file replaced atomically ("-" is stdout). See report_out_file. */
int report_md_write_path(const struct run_result *r, const char *path, struct err *err)
	__attribute__((warn_unused_result));

#endif
