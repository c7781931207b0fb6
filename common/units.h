/*
 * units: the one parser for durations, sizes and rates in doorjam's files.
 *
 * Durations: a decimal number with a unit, "250ms", "1.5s", "2m", "1h",
 * "750us"; several parts may be joined, "1m30s". A bare "0" is zero.
 * Sizes: "512", "64B", "10KB" (1000), "10KiB" (1024), "1MB", "1MiB", "1GB".
 * Rates: bits per second, "1mbit", "100kbit", "10gbit", "512bit",
 * "1MBps" (bytes per second, times 8).
 *
 * Parsing is strict: no spaces, no signs, no trailing junk, no overflow.
 * On failure the functions return -EINVAL (or -ERANGE) and say why in err.
 */
#ifndef DOORJAM_UNITS_H
#define DOORJAM_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Parse a duration into microseconds. */
int units_duration(const char *s, uint64_t *out_us, struct err *err)
	__attribute__((warn_unused_result));

/* Parse a size into bytes. */
int units_size(const char *s, uint64_t *out_bytes, struct err *err)
	__attribute__((warn_unused_result));

/* Parse a rate into bits per second. */
int units_rate(const char *s, uint64_t *out_bps, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Format a duration in microseconds the short way ("250ms", "2s", "1m30s",
 * "1.5ms") into out (at least 32 bytes). Returns out.
 */
char *units_duration_format(uint64_t us, char *out, size_t outlen);

#endif
