/*
 * libFuzzer target for the small text parsers every input file goes through:
 * durations, sizes and rates (common/units), the numbers flows compare
 * (runner/quantity), and jsonpos, which maps a JSON pointer back to a line and
 * column by skimming text that may not be valid JSON at all.
 *
 * Input layout: everything up to the first newline is the unit string and
 * the JSON pointer; the rest is the JSON text. Properties checked beyond "no
 * crash": a parsed duration formats to text that parses back to the same
 * value, and a position jsonpos reports lies inside the text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/units.h"
#include "runner/jsonpos.h"
#include "runner/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Offset of (line, col) in text, or (size_t)-1 when it lies outside. */
static size_t fuzz_offset(const char *text, size_t len, int line, int col)
{
	size_t i = 0;
	int l = 1;

	while (l < line) {
		const char *nl = memchr(text + i, '\n', len - i);

		if (!nl)
			return (size_t)-1;
		i = (size_t)(nl - text) + 1;
		l++;
	}
	if ((size_t)(col - 1) > len - i)
		return (size_t)-1;
	return i + (size_t)(col - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - data) : size;
	const char *text = nl ? (const char *)nl + 1 : "";
	size_t tlen = nl ? size - head - 1 : 0;
	char *s, fmt[64];
	uint64_t v, w;
	struct quantity q;
	struct err e;
	int line = 0, col = 0, rc, want_key;

	s = malloc(head + 1);
	if (!s)
		return 0;
	memcpy(s, data, head);
	s[head] = '\0';

	err_clear(&e);
	if (units_duration(s, &v, &e) == 0) {
		units_duration_format(v, fmt, sizeof(fmt));
		err_clear(&e);
		if (units_duration(fmt, &w, &e) != 0 || w != v)
			abort();  /* the formatted form must read back exactly */
	}
	err_clear(&e);
	(void)units_size(s, &v, &e);
	err_clear(&e);
	(void)units_rate(s, &v, &e);
	(void)quantity_parse(s, &q);

	/* jsonpos: the head is the pointer, the rest the text */
	for (want_key = 0; want_key < 2; want_key++) {
		rc = jsonpos_find(text, tlen, s, want_key, &line, &col);
		if (rc < -1 || rc > 1 || line < 1 || col < 1)
			abort();
		if (rc >= 0 && fuzz_offset(text, tlen, line, col) == (size_t)-1)
			abort();
	}
	free(s);
	return 0;
}
