/*
 * quantity: fixed-point big numbers for assertions. See quantity.h.
 *
 * Only what comparison needs: parse (multiply-add by 10 or 16) and compare.
 */
#include "runner/quantity.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define QLIMBS 6

/* mag = mag * m + a; returns -1 on overflow. */
static int quantity_muladd(uint64_t *mag, uint32_t m, uint32_t a)
{
	unsigned __int128 carry = a;
	int i;

	for (i = 0; i < QLIMBS; i++) {
		unsigned __int128 t = (unsigned __int128)mag[i] * m + carry;

		mag[i] = (uint64_t)t;
		carry = t >> 64;
	}
	return carry ? -1 : 0;
}

int quantity_parse(const char *s, struct quantity *out)
{
	int frac_digits = 0, digits = 0, i;
	const char *p = s;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	if (*p == '-') {
		out->neg = 1;
		p++;
	} else if (*p == '+') {
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!*p)
			return -1;
		for (; *p; p++) {
			int d;

			if (!isxdigit((unsigned char)*p))
				return -1;
			d = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
			if (quantity_muladd(out->mag, 16, (uint32_t)d))
				return -1;
		}
		frac_digits = 0;
	} else {
		int seen_point = 0;

		for (; *p; p++) {
			if (*p == '.' && !seen_point) {
				seen_point = 1;
				continue;
			}
			if (!isdigit((unsigned char)*p))
				return -1;
			if (seen_point) {
				if (frac_digits == QUANTITY_FRAC_DIGITS)
					return -1;
				frac_digits++;
			}
			if (quantity_muladd(out->mag, 10, (uint32_t)(*p - '0')))
				return -1;
			digits++;
		}
		if (!digits)
			return -1;
	}
	for (i = frac_digits; i < QUANTITY_FRAC_DIGITS; i++)
		if (quantity_muladd(out->mag, 10, 0))
			return -1;
	return 0;
}

int quantity_from_json(const json_t *v, struct quantity *out)
{
	char tmp[64];

	if (json_is_integer(v)) {
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return quantity_parse(tmp, out);
	}
	if (json_is_real(v)) {
		/* %.17g keeps a double's value; exponents are spelled out by %f */
		snprintf(tmp, sizeof(tmp), "%.12f", json_real_value(v));
		return quantity_parse(tmp, out);
	}
	if (json_is_string(v))
		return quantity_parse(json_string_value(v), out);
	return -1;
}

static int quantity_is_zero(const struct quantity *q)
{
	int i;

	for (i = 0; i < QLIMBS; i++)
		if (q->mag[i])
			return 0;
	return 1;
}

int quantity_cmp(const struct quantity *a, const struct quantity *b)
{
	int an = a->neg && !quantity_is_zero(a);
	int bn = b->neg && !quantity_is_zero(b);
	int i, r = 0;

	if (an != bn)
		return an ? -1 : 1;
	for (i = QLIMBS - 1; i >= 0; i--) {
		if (a->mag[i] != b->mag[i]) {
			r = a->mag[i] < b->mag[i] ? -1 : 1;
			break;
		}
	}
	return an ? -r : r;
}

/* |a| + |b| into out; -1 on overflow. */
static int quantity_mag_add(const uint64_t *a, const uint64_t *b, uint64_t *out)
{
	unsigned __int128 carry = 0;
	int i;

	for (i = 0; i < QLIMBS; i++) {
		unsigned __int128 t = (unsigned __int128)a[i] + b[i] + carry;

		out[i] = (uint64_t)t;
		carry = t >> 64;
	}
	return carry ? -1 : 0;
}

/* |a| - |b| into out, for |a| >= |b|. */
static void quantity_mag_sub(const uint64_t *a, const uint64_t *b, uint64_t *out)
{
	uint64_t borrow = 0;
	int i;

	for (i = 0; i < QLIMBS; i++) {
		uint64_t bi = b[i] + borrow;

		borrow = (bi < borrow) || (a[i] < bi);
		out[i] = a[i] - bi;
	}
}

static int quantity_mag_cmp(const uint64_t *a, const uint64_t *b)
{
	int i;

	for (i = QLIMBS - 1; i >= 0; i--)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

int quantity_add(const struct quantity *a, const struct quantity *b, int sub,
		 struct quantity *out)
{
	int bneg = sub ? !b->neg : b->neg;

	memset(out, 0, sizeof(*out));
	if (a->neg == bneg) {
		out->neg = a->neg;
		return quantity_mag_add(a->mag, b->mag, out->mag);
	}
	if (quantity_mag_cmp(a->mag, b->mag) >= 0) {
		quantity_mag_sub(a->mag, b->mag, out->mag);
		out->neg = a->neg;
	} else {
		quantity_mag_sub(b->mag, a->mag, out->mag);
		out->neg = bneg;
	}
	return 0;
}
