/*
 * report_out: small output helpers shared by the report writers.
 *
 * Text in a run result comes partly from the network (response bodies,
 * error messages of peers), so it may hold invalid UTF-8 or control
 * characters; every writer decodes it with report_out_utf8() and decides
 * per format what to do with what it finds. Numbers and times are formatted
 * with integer arithmetic, so the same result always gives the same bytes.
 * Files are written atomically (temporary file + rename), so a CI job never
 * reads half a report. Nothing here knows a report format.
 */
#ifndef DOORJAM_REPORT_OUT_H
#define DOORJAM_REPORT_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

/* The code point that replaces each byte of an invalid UTF-8 sequence. */
#define REPORT_OUT_REPLACEMENT 0xFFFDu

/*
 * Decode one UTF-8 character from s (n > 0 bytes available). Stores the code
 * point in *cp and returns the bytes used (1..4). Overlong forms, surrogates,
 * code points past U+10FFFF and truncated sequences give
 * REPORT_OUT_REPLACEMENT and consume one byte.
 */
size_t report_out_utf8(const unsigned char *s, size_t n, uint32_t *cp);

/* Write code point cp as UTF-8 to out. */
void report_out_put_cp(FILE *out, uint32_t cp);

/* Number of characters (code points, invalid bytes count one each) in s. */
size_t report_out_width(const char *s);

/*
 * Milliseconds with exactly three decimals from microseconds: 1234567 ->
 * "1234.567". buf must hold REPORT_OUT_NUM bytes.
 */
#define REPORT_OUT_NUM 32
void report_out_ms3(char *buf, uint64_t us);

/* Seconds with exactly three decimals from milliseconds: 1234 -> "1.234". */
void report_out_s3(char *buf, uint64_t ms);

enum report_out_time {
	REPORT_OUT_RFC3339,     /* 2026-11-30T14:43:08.123Z */
	REPORT_OUT_NOZONE,      /* 2026-11-30T14:43:08 (UTC, no zone: JUnit's timestamp) */
};

/* Format a Unix time in ms (UTC). buf must hold REPORT_OUT_NUM bytes. */
void report_out_time(char *buf, uint64_t unix_ms, enum report_out_time how);

/* A writer for report_out_file: writes to out, returns 0 or a negative code. */
typedef int (*report_out_fn)(const void *ctx, FILE *out, struct err *err);

/*
 * Run fn on a new file at path, atomically: the output goes to a temporary
 * file next to path that replaces path only when fn and every write
 * succeeded (otherwise it is removed and path is left as it was). path "-"
 * writes to stdout instead. Returns 0 or a negative code with err set
 * ("report.json: No space left on device").
 */
int report_out_file(const char *path, report_out_fn fn, const void *ctx, struct err *err)
	__attribute__((warn_unused_result));

#endif
