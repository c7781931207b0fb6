/*
 * jptr: JSON pointers (RFC 6901) over jansson values.
 *
 * Used by flow assertions and captures (read a value out of a response) and
 * by the RPC proxy's override rules (replace a value inside a real result).
 */
#ifndef DOORJAM_JPTR_H
#define DOORJAM_JPTR_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/*
 * Check that ptr is a syntactically valid pointer ("" or "/a/b~1c/0").
 * Returns 0 or -EINVAL with err naming the problem.
 */
int jptr_check(const char *ptr, struct err *err) __attribute__((warn_unused_result));

/*
 * The value at ptr inside root, or NULL when it does not exist (or ptr is
 * malformed). Borrowed reference.
 */
json_t *jptr_get(json_t *root, const char *ptr);

/*
 * Replace the value at ptr with val (takes a reference of its own; the caller
 * keeps its reference). The parent must exist; the last token may name a
 * new object member, an existing array index, or "-" to append.
 * Returns 0, -ENOENT when the parent does not exist, -EINVAL when malformed.
 */
int jptr_set(json_t *root, const char *ptr, json_t *val) __attribute__((warn_unused_result));

/*
 * Append one reference token to a pointer under construction, escaping '~'
 * and '/': jptr_append(buf, len, "a/b") turns "/x" into "/x/a~1b".
 * Returns 0, or -ENOBUFS when it does not fit (buf is left unchanged).
 */
int jptr_append(char *buf, size_t buflen, const char *token);

/* Same, for an array index. */
int jptr_append_index(char *buf, size_t buflen, size_t index);

#endif
