/*
 * jsonpos: where in a JSON text a value lives.
 *
 * jansson keeps no source positions for values, but every validation error
 * must name file:line:column. Validation works on the parsed tree and names
 * bad values by JSON pointer; this module maps such a pointer back to the
 * line and column of the value (or of its member name) by scanning the text.
 * The scanner only skips over syntax; it never allocates.
 */
#ifndef DOORJAM_JSONPOS_H
#define DOORJAM_JSONPOS_H

#include <stddef.h>

/*
 * Find the position of the value at ptr (RFC 6901) in text. With want_key,
 * the position of the member name is returned instead (for "unknown key"
 * messages). When the pointer does not resolve completely, the position of
 * the deepest value that does resolve is returned (an error about a missing
 * member points at the object that lacks it). Lines and columns are 1-based;
 * columns count bytes. Returns 0 on an exact match, 1 on a partial one, -1
 * when the text is not valid enough to scan (line/col then point at 1:1).
 */
int jsonpos_find(const char *text, size_t len, const char *ptr, int want_key,
		 int *line, int *col);

#endif
