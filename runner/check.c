/*
 * check: typed getters with positioned diagnostics. See check.h.
 */
#include "runner/check.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/jptr.h"
#include "common/units.h"
#include "runner/jsonpos.h"

void diags_init(struct diags *d)
{
	memset(d, 0, sizeof(*d));
}

void diags_cleanup(struct diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].ptr);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void diags_add(struct diags *d, const char *file, int line, int col, const char *ptr,
	       const char *fmt, ...)
{
	char msg[1024];
	struct diag *g;
	va_list ap;

	if (d->n == d->cap) {
		size_t n = d->cap ? d->cap * 2 : 16;
		struct diag *v = realloc(d->v, n * sizeof(*v));

		if (!v)
			return; /* out of memory: the diagnostic is lost, the count is not */
		d->v = v;
		d->cap = n;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	g = &d->v[d->n++];
	g->file = strdup(file ? file : "");
	g->line = line;
	g->col = col;
	g->ptr = strdup(ptr ? ptr : "");
	g->msg = strdup(msg);
}

char *diag_format(const struct diag *g, char *out, size_t outlen)
{
	if (g->line > 0)
		snprintf(out, outlen, "%s:%d:%d: %s%s%s", g->file, g->line, g->col,
			 g->ptr, *g->ptr ? ": " : "", g->msg);
	else
		snprintf(out, outlen, "%s: %s%s%s", g->file, g->ptr, *g->ptr ? ": " : "",
			 g->msg);
	return out;
}

void check_init(struct check *c, const char *file, const char *text, size_t len,
		struct diags *out)
{
	c->file = file;
	c->text = text;
	c->len = len;
	c->out = out;
	c->errors = 0;
}

/*
 * Past this many errors in one file the rest are counted, not listed: each
 * listed error costs a scan of the text for its position, and a hostile file
 * can hold millions of them.
 */
#define CHECK_ERRORS_LISTED 100

void check_error(struct check *c, const char *ptr, int at_key, const char *fmt, ...)
{
	char msg[1024];
	int line = 1, col = 1;
	va_list ap;

	if (c->errors >= CHECK_ERRORS_LISTED) {
		if (c->errors == CHECK_ERRORS_LISTED)
			diags_add(c->out, c->file, 0, 0, "", "more than %d errors; the rest are "
				  "not listed", CHECK_ERRORS_LISTED);
		c->errors++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->text)
		jsonpos_find(c->text, c->len, ptr, at_key, &line, &col);
	diags_add(c->out, c->file, line, col, ptr, "%s", msg);
	c->errors++;
}

/* Mark a pointer that was too long to extend. */
static void check_ptr_ellipsis(char *out)
{
	size_t n = strlen(out);

	if (n > CHECK_PTR_MAX - 5)
		n = CHECK_PTR_MAX - 5;
	memcpy(out + n, "/...", 5);
}

char *check_ptr(char *out, const char *ptr, const char *key)
{
	if (out != ptr)
		snprintf(out, CHECK_PTR_MAX, "%s", ptr);
	if (jptr_append(out, CHECK_PTR_MAX, key))
		check_ptr_ellipsis(out);
	return out;
}

char *check_ptr_index(char *out, const char *ptr, size_t index)
{
	if (out != ptr)
		snprintf(out, CHECK_PTR_MAX, "%s", ptr);
	if (jptr_append_index(out, CHECK_PTR_MAX, index))
		check_ptr_ellipsis(out);
	return out;
}

static size_t check_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1, best;

			tmp = row[j];
			best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *check_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t bestd = 99, limit = strlen(word) <= 4 ? 1 : 2;

	for (; candidates && *candidates; candidates++) {
		size_t d = check_distance(word, *candidates);

		if (d < bestd) {
			bestd = d;
			best = *candidates;
		}
	}
	return bestd <= limit ? best : NULL;
}

int check_keys(struct check *c, json_t *obj, const char *ptr, const char *const *allowed)
{
	const char *key;
	json_t *val;
	int bad = 0;

	json_object_foreach(obj, key, val) {
		const char *const *a;
		const char *hint;
		char p[CHECK_PTR_MAX];

		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (*a)
			continue;
		hint = check_suggest(key, allowed);
		check_ptr(p, ptr, key);
		if (hint)
			check_error(c, p, 1, "unknown key \"%s\" (did you mean \"%s\"?)", key, hint);
		else
			check_error(c, p, 1, "unknown key \"%s\"", key);
		bad++;
	}
	return bad;
}

const char *check_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/* Fetch member key; 0 absent (error if required), 1 present. */
static int check_member(struct check *c, json_t *obj, const char *ptr, const char *key,
			int required, json_t **v, char *p)
{
	check_ptr(p, ptr, key);
	*v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (*v)
		return 1;
	if (required) {
		check_error(c, ptr, 0, "missing required key \"%s\"", key);
		return -1;
	}
	return 0;
}

int check_string(struct check *c, json_t *obj, const char *ptr, const char *key,
		 int required, const char **out)
{
	char p[CHECK_PTR_MAX];
	json_t *v;
	int rc = check_member(c, obj, ptr, key, required, &v, p);

	if (rc <= 0)
		return rc;
	if (!json_is_string(v)) {
		check_error(c, p, 0, "expected a string, found %s", check_type_name(v));
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int check_bool(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, int *out)
{
	char p[CHECK_PTR_MAX];
	json_t *v;
	int rc = check_member(c, obj, ptr, key, required, &v, p);

	if (rc <= 0)
		return rc;
	if (!json_is_boolean(v)) {
		check_error(c, p, 0, "expected true or false, found %s", check_type_name(v));
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int check_uint(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, uint64_t min, uint64_t max, uint64_t *out)
{
	char p[CHECK_PTR_MAX];
	json_int_t n;
	json_t *v;
	int rc = check_member(c, obj, ptr, key, required, &v, p);

	if (rc <= 0)
		return rc;
	if (!json_is_integer(v)) {
		check_error(c, p, 0, "expected a whole number, found %s", check_type_name(v));
		return -1;
	}
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max) {
		check_error(c, p, 0, "%lld is out of range (%llu to %llu)", (long long)n,
			    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)n;
	return 1;
}

int check_number(struct check *c, json_t *obj, const char *ptr, const char *key,
		 int required, double min, double max, double *out)
{
	char p[CHECK_PTR_MAX];
	double d;
	json_t *v;
	int rc = check_member(c, obj, ptr, key, required, &v, p);

	if (rc <= 0)
		return rc;
	if (!json_is_number(v)) {
		check_error(c, p, 0, "expected a number, found %s", check_type_name(v));
		return -1;
	}
	d = json_number_value(v);
	if (!(d >= min && d <= max)) {
		check_error(c, p, 0, "%g is out of range (%g to %g)", d, min, max);
		return -1;
	}
	*out = d;
	return 1;
}

typedef int (*check_unit_fn)(const char *s, uint64_t *out, struct err *err);

static int check_unit(struct check *c, json_t *obj, const char *ptr, const char *key,
		      int required, uint64_t *out, check_unit_fn fn, const char *example)
{
	char p[CHECK_PTR_MAX];
	struct err e;
	json_t *v;
	int rc = check_member(c, obj, ptr, key, required, &v, p);

	if (rc <= 0)
		return rc;
	if (!json_is_string(v)) {
		check_error(c, p, 0, "expected a string such as \"%s\", found %s", example,
			    check_type_name(v));
		return -1;
	}
	err_clear(&e);
	if (fn(json_string_value(v), out, &e)) {
		check_error(c, p, 0, "%s (for example \"%s\")", e.msg, example);
		return -1;
	}
	return 1;
}

int check_duration(struct check *c, json_t *obj, const char *ptr, const char *key,
		   int required, uint64_t *out_us)
{
	return check_unit(c, obj, ptr, key, required, out_us, units_duration, "250ms");
}

int check_rate(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, uint64_t *out_bps)
{
	return check_unit(c, obj, ptr, key, required, out_bps, units_rate, "1mbit");
}

int check_size(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, uint64_t *out_bytes)
{
	return check_unit(c, obj, ptr, key, required, out_bytes, units_size, "64KiB");
}

int check_probability(struct check *c, json_t *obj, const char *ptr, const char *key,
		      int required, double *out)
{
	char p[CHECK_PTR_MAX];
	json_t *v;
	double d;
	int rc = check_member(c, obj, ptr, key, required, &v, p);

	if (rc <= 0)
		return rc;
	if (json_is_number(v)) {
		d = json_number_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;

		errno = 0;
		d = strtod(s, &end);
		if (end == s || errno || strcmp(end, "%") != 0) {
			check_error(c, p, 0, "\"%s\" is not a percentage such as \"20%%\"", s);
			return -1;
		}
		d /= 100.0;
	} else {
		check_error(c, p, 0, "expected a probability (0 to 1, or \"20%%\"), found %s",
			    check_type_name(v));
		return -1;
	}
	if (!(d >= 0.0 && d <= 1.0) || isnan(d)) {
		check_error(c, p, 0, "probability %g is outside 0 to 1 (0%% to 100%%)", d);
		return -1;
	}
	*out = d;
	return 1;
}

int check_enum(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, const char *const *values, int *out)
{
	char p[CHECK_PTR_MAX], list[512];
	const char *s = NULL, *hint;
	size_t n = 0;
	int rc = check_string(c, obj, ptr, key, required, &s), i;

	if (rc <= 0)
		return rc;
	for (i = 0; values[i]; i++) {
		if (!strcmp(values[i], s)) {
			*out = i;
			return 1;
		}
	}
	list[0] = '\0';
	for (i = 0; values[i] && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "",
				      values[i]);
	hint = check_suggest(s, values);
	check_ptr(p, ptr, key);
	if (hint)
		check_error(c, p, 0, "\"%s\" is not one of %s (did you mean \"%s\"?)", s, list,
			    hint);
	else
		check_error(c, p, 0, "\"%s\" is not one of %s", s, list);
	return -1;
}

static int check_typed(struct check *c, json_t *obj, const char *ptr, const char *key,
		       int required, json_t **out, json_type t, const char *what)
{
	char p[CHECK_PTR_MAX];
	json_t *v;
	int rc = check_member(c, obj, ptr, key, required, &v, p);

	if (rc <= 0)
		return rc;
	if (json_typeof(v) != t) {
		check_error(c, p, 0, "expected %s, found %s", what, check_type_name(v));
		return -1;
	}
	*out = v;
	return 1;
}

int check_object(struct check *c, json_t *obj, const char *ptr, const char *key,
		 int required, json_t **out)
{
	return check_typed(c, obj, ptr, key, required, out, JSON_OBJECT, "an object");
}

int check_array(struct check *c, json_t *obj, const char *ptr, const char *key,
		int required, json_t **out)
{
	return check_typed(c, obj, ptr, key, required, out, JSON_ARRAY, "an array");
}

int check_strings(struct check *c, json_t *obj, const char *ptr, const char *key,
		  int required, json_t **out)
{
	char p[CHECK_PTR_MAX], q[CHECK_PTR_MAX];
	json_t *v, *e;
	size_t i;
	int rc = check_member(c, obj, ptr, key, required, &v, p), bad = 0;

	if (rc <= 0)
		return rc;
	if (json_is_string(v)) {
		*out = v;
		return 1;
	}
	if (!json_is_array(v)) {
		check_error(c, p, 0, "expected a string or an array of strings, found %s",
			    check_type_name(v));
		return -1;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			check_error(c, check_ptr_index(q, p, i), 0, "expected a string, found %s",
				    check_type_name(e));
			bad = 1;
		}
	}
	if (bad)
		return -1;
	*out = v;
	return 1;
}
