/*
 * quantity: exact comparison of the numbers that flows assert on.
 *
 * Wallet answers carry numbers in several shapes: JSON integers, decimal
 * strings ("1000000000000000000"), hex quantities ("0x3635c9adc5dea00000",
 * wei balances far beyond 64 bits) and decimal fractions ("3150.22" USD).
 * quantity_parse() accepts all of them; integers up to 256 bits are compared
 * exactly, fractions with up to 36 digits after the point exactly as well.
 */
#ifndef DOORJAM_QUANTITY_H
#define DOORJAM_QUANTITY_H

#include <jansson.h>
#include <stdint.h>

#define QUANTITY_FRAC_DIGITS 36

/* A signed fixed-point number: value = sign * mag / 10^QUANTITY_FRAC_DIGITS. */
struct quantity {
	int neg;
	uint64_t mag[6];   /* little-endian limbs: 384 bits holds 2^256 * 10^36 */
};

/*
 * Parse a JSON integer, real, or string ("123", "-4.5", "0x1f", "1e3" is not
 * accepted). Returns 0, or -1 when v is not a number in any accepted shape or
 * does not fit.
 */
int quantity_from_json(const json_t *v, struct quantity *out);
int quantity_parse(const char *s, struct quantity *out);

/*
 * out = a - b (sub) or a + b. Returns 0, or -1 on overflow. out may alias
 * neither a nor b.
 */
int quantity_add(const struct quantity *a, const struct quantity *b, int sub,
		 struct quantity *out);

/* -1, 0 or 1 as a < b, a == b, a > b. */
int quantity_cmp(const struct quantity *a, const struct quantity *b);

#endif
