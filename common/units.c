/*
 * units: strict parsers for durations, sizes and rates. See units.h.
 *
 * Each parser reads "<number><unit>" parts where the number is a decimal with
 * an optional fraction. The value is computed in integers (the fraction is
 * scaled by the unit, rounded to the nearest base unit) so "0.1s" is exactly
 * 100000 us and no floating-point rounding leaks into a schedule.
 */
#include "common/units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit units_time[] = {
	{ "ns", 0 }, /* accepted only when it yields whole microseconds */
	{ "us", 1 },
	{ "ms", 1000 },
	{ "s", 1000000 },
	{ "m", (uint64_t)60000000u },
	{ "h", (uint64_t)3600000000u },
	{ NULL, 0 },
};

static const struct unit units_bytes[] = {
	{ "", 1 },
	{ "B", 1 },
	{ "KB", 1000 },
	{ "KiB", 1024 },
	{ "MB", 1000000 },
	{ "MiB", 1048576 },
	{ "GB", (uint64_t)1000000000u },
	{ "GiB", (uint64_t)1073741824u },
	{ NULL, 0 },
};

static const struct unit units_bits[] = {
	{ "bit", 1 },
	{ "kbit", 1000 },
	{ "mbit", 1000000 },
	{ "gbit", (uint64_t)1000000000u },
	{ "Bps", 8 },
	{ "KBps", 8000 },
	{ "MBps", 8000000 },
	{ "GBps", (uint64_t)8000000000u },
	{ NULL, 0 },
};

/*
 * Read one "<int>[.<frac>]<unit>" part starting at *sp. On success adds the
 * value to *acc and advances *sp. what names the kind for messages.
 */
static int units_part(const char **sp, const struct unit *table, uint64_t *acc,
		      const char *what, const char *whole, struct err *err)
{
	const char *s = *sp;
	uint64_t ip = 0, frac = 0, fscale = 1, v;
	const struct unit *u, *best = NULL;
	size_t ulen = 0, bestlen = 0;
	int digits = 0;

	while (isdigit((unsigned char)*s)) {
		if (ip > (UINT64_MAX - 9) / 10)
			return err_set(err, -ERANGE, "%s \"%s\" is too large", what, whole);
		ip = ip * 10 + (uint64_t)(*s - '0');
		s++;
		digits++;
	}
	if (*s == '.') {
		if (!digits)
			return err_set(err, -EINVAL, "%s \"%s\" does not start with a number", what,
				       whole);
		s++;
		if (!isdigit((unsigned char)*s))
			return err_set(err, -EINVAL, "%s \"%s\" has a '.' without digits after it",
				       what, whole);
		while (isdigit((unsigned char)*s)) {
			if (fscale < (uint64_t)1000000000u) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				fscale *= 10;
			}
			s++;
			digits++;
		}
	}
	if (!digits)
		return err_set(err, -EINVAL, "%s \"%s\" does not start with a number", what, whole);
	while (isalpha((unsigned char)s[ulen]))
		ulen++;
	for (u = table; u->name; u++) {
		size_t n = strlen(u->name);

		if (n == ulen && strncmp(s, u->name, n) == 0) {
			best = u;
			bestlen = n;
			break;
		}
	}
	if (!best) {
		if (ulen == 0 && ip == 0 && frac == 0 && !strcmp(what, "duration")) {
			*sp = s;
			return 0; /* a bare zero needs no unit */
		}
		return err_set(err, -EINVAL, "%s \"%s\" has %s unit%s%.*s%s", what, whole,
			       ulen ? "an unknown" : "no", ulen ? " \"" : "", (int)ulen, s,
			       ulen ? "\"" : "");
	}
	if (best->mult == 0) {
		/* nanoseconds: only whole microseconds make sense for doorjam */
		if (frac || ip % 1000)
			return err_set(err, -EINVAL,
				       "%s \"%s\" is finer than a microsecond", what, whole);
		v = ip / 1000;
	} else {
		if (ip && best->mult > UINT64_MAX / ip)
			return err_set(err, -ERANGE, "%s \"%s\" is too large", what, whole);
		v = ip * best->mult;
		/* fraction, rounded to the nearest base unit */
		v += (frac * best->mult + fscale / 2) / fscale;
	}
	if (*acc > UINT64_MAX - v)
		return err_set(err, -ERANGE, "%s \"%s\" is too large", what, whole);
	*acc += v;
	*sp = s + bestlen;
	return 0;
}

static int units_parse(const char *s, const struct unit *table, int multi,
		       uint64_t *out, const char *what, struct err *err)
{
	const char *p = s;
	uint64_t acc = 0;
	int rc;

	if (!s || !*s)
		return err_set(err, -EINVAL, "%s is empty", what);
	do {
		rc = units_part(&p, table, &acc, what, s, err);
		if (rc)
			return rc;
	} while (multi && isdigit((unsigned char)*p));
	if (*p)
		return err_set(err, -EINVAL, "%s \"%s\" has trailing characters \"%s\"", what, s, p);
	*out = acc;
	return 0;
}

int units_duration(const char *s, uint64_t *out_us, struct err *err)
{
	return units_parse(s, units_time, 1, out_us, "duration", err);
}

int units_size(const char *s, uint64_t *out_bytes, struct err *err)
{
	return units_parse(s, units_bytes, 0, out_bytes, "size", err);
}

int units_rate(const char *s, uint64_t *out_bps, struct err *err)
{
	return units_parse(s, units_bits, 0, out_bps, "rate", err);
}

char *units_duration_format(uint64_t us, char *out, size_t outlen)
{
	if (us == 0)
		snprintf(out, outlen, "0s");
	else if (us % (uint64_t)3600000000u == 0)
		snprintf(out, outlen, "%" PRIu64 "h", us / (uint64_t)3600000000u);
	else if (us % (uint64_t)60000000u == 0)
		snprintf(out, outlen, "%" PRIu64 "m", us / (uint64_t)60000000u);
	else if (us >= (uint64_t)60000000u && us % 1000000 == 0)
		snprintf(out, outlen, "%" PRIu64 "m%" PRIu64 "s", us / (uint64_t)60000000u,
			 (us % (uint64_t)60000000u) / 1000000);
	else if (us % 1000000 == 0)
		snprintf(out, outlen, "%" PRIu64 "s", us / 1000000);
	else if (us >= 1000000 && us % 1000 == 0)
		snprintf(out, outlen, "%" PRIu64 ".%03" PRIu64 "s", us / 1000000,
			 (us % 1000000) / 1000);
	else if (us % 1000 == 0)
		snprintf(out, outlen, "%" PRIu64 "ms", us / 1000);
	else if (us >= 1000)
		snprintf(out, outlen, "%" PRIu64 ".%03" PRIu64 "ms", us / 1000, us % 1000);
	else
		snprintf(out, outlen, "%" PRIu64 "us", us);
	return out;
}
