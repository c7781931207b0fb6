/*
 * check: validating parsed JSON input and collecting every error, with its
 * place.
 *
 * Loaders walk a jansson tree and call these typed getters with the JSON
 * pointer of the parent and a member name. A getter that finds a bad value
 * records a diagnostic (file, line, column, pointer, message) and returns -1;
 * the loader carries on so that one run of `doorjam validate` lists all the
 * errors of a file, not only the first. Nothing here has side effects beyond
 * the diagnostics list.
 */
#ifndef DOORJAM_CHECK_H
#define DOORJAM_CHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CHECK_PTR_MAX 512

struct diag {
	char *file;  /* as the user named it */
	int line;    /* 1-based; 0 when the error is about the file as a whole */
	int col;
	char *ptr;   /* JSON pointer of the bad value, "" for the root */
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n, cap;
};

void diags_init(struct diags *d);
void diags_cleanup(struct diags *d);

/* Add a diagnostic (copies every string). */
void diags_add(struct diags *d, const char *file, int line, int col, const char *ptr,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* "file:line:col: /ptr: msg" into out. Returns out. */
char *diag_format(const struct diag *g, char *out, size_t outlen);

struct check {
	const char *file;   /* name used in messages */
	const char *text;   /* the source text, to find positions */
	size_t len;
	struct diags *out;
	size_t errors;      /* errors recorded through this context */
};

void check_init(struct check *c, const char *file, const char *text, size_t len,
		struct diags *out);

/* Record an error about the value at ptr (at its member name with at_key). */
void check_error(struct check *c, const char *ptr, int at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Build "ptr/key" (escaped) into out; returns out. */
char *check_ptr(char *out, const char *ptr, const char *key);
char *check_ptr_index(char *out, const char *ptr, size_t index);

/*
 * Report every member of obj whose name is not in allowed (NULL-terminated),
 * with a "did you mean" for near misses. Returns the number of unknown keys.
 */
int check_keys(struct check *c, json_t *obj, const char *ptr, const char *const *allowed);

/* Closest candidate to word within a small edit distance, or NULL. */
const char *check_suggest(const char *word, const char *const *candidates);

/*
 * Typed getters for member key of obj (whose pointer is ptr). Each returns 1
 * when the member is present and valid (out is set), 0 when absent and not
 * required (out untouched), -1 when invalid or required-but-absent (an error
 * is recorded).
 */
int check_string(struct check *c, json_t *obj, const char *ptr, const char *key,
		 int required, const char **out);
int check_bool(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, int *out);
int check_uint(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, uint64_t min, uint64_t max, uint64_t *out);
int check_number(struct check *c, json_t *obj, const char *ptr, const char *key,
		 int required, double min, double max, double *out);
int check_duration(struct check *c, json_t *obj, const char *ptr, const char *key,
		   int required, uint64_t *out_us);
int check_rate(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, uint64_t *out_bps);
int check_size(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, uint64_t *out_bytes);
/* A probability: a number 0..1 or a percentage string "20%". */
int check_probability(struct check *c, json_t *obj, const char *ptr, const char *key,
		      int required, double *out);
/* One of values (NULL-terminated); *out is the index. */
int check_enum(struct check *c, json_t *obj, const char *ptr, const char *key,
	       int required, const char *const *values, int *out);
int check_object(struct check *c, json_t *obj, const char *ptr, const char *key,
		 int required, json_t **out);
int check_array(struct check *c, json_t *obj, const char *ptr, const char *key,
		int required, json_t **out);
/* An array of strings (or a single string, taken as a one-element array). */
int check_strings(struct check *c, json_t *obj, const char *ptr, const char *key,
		  int required, json_t **out);

/* Name of a jansson type for messages ("a string", "an object", ...). */
const char *check_type_name(const json_t *v);

#endif
