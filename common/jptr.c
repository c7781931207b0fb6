/*
 * jptr: RFC 6901 JSON pointers over jansson values. See jptr.h.
 */
#include "common/jptr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int jptr_check(const char *ptr, struct err *err)
{
	const char *p;

	if (!ptr)
		return err_set(err, -EINVAL, "JSON pointer is missing");
	if (*ptr && *ptr != '/')
		return err_set(err, -EINVAL, "JSON pointer \"%s\" must start with '/'", ptr);
	for (p = ptr; *p; p++) {
		if (*p == '~' && p[1] != '0' && p[1] != '1')
			return err_set(err, -EINVAL,
				       "JSON pointer \"%s\": '~' must be followed by 0 or 1", ptr);
	}
	return 0;
}

/*
 * Decode the token starting at p (just after a '/') into out. Returns the
 * pointer to the next '/' or the terminating NUL, or NULL when malformed or
 * too long.
 */
static const char *jptr_token(const char *p, char *out, size_t outlen)
{
	size_t n = 0;

	while (*p && *p != '/') {
		char c = *p;

		if (c == '~') {
			if (p[1] == '0')
				c = '~';
			else if (p[1] == '1')
				c = '/';
			else
				return NULL;
			p++;
		}
		if (n + 1 >= outlen)
			return NULL;
		out[n++] = c;
		p++;
	}
	out[n] = '\0';
	return p;
}

/* Parse an array index token: digits only, no leading zeros. */
static int jptr_index(const char *tok, size_t *out)
{
	size_t v = 0;
	const char *p;

	if (!*tok || (tok[0] == '0' && tok[1]))
		return -1;
	for (p = tok; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		if (v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(*p - '0');
	}
	*out = v;
	return 0;
}

static json_t *jptr_step(json_t *cur, const char *tok)
{
	size_t idx;

	if (json_is_object(cur))
		return json_object_get(cur, tok);
	if (json_is_array(cur) && jptr_index(tok, &idx) == 0)
		return json_array_get(cur, idx);
	return NULL;
}

json_t *jptr_get(json_t *root, const char *ptr)
{
	char tok[1024];
	const char *p = ptr;
	json_t *cur = root;

	if (!ptr || (*ptr && *ptr != '/'))
		return NULL;
	while (cur && *p == '/') {
		p = jptr_token(p + 1, tok, sizeof(tok));
		if (!p)
			return NULL;
		cur = jptr_step(cur, tok);
	}
	return cur;
}

int jptr_set(json_t *root, const char *ptr, json_t *val)
{
	char tok[1024];
	const char *p = ptr, *last;
	json_t *cur = root;
	size_t idx;

	if (!ptr || *ptr != '/')
		return -EINVAL; /* replacing the root itself is the caller's business */
	last = strrchr(ptr, '/');
	while (p < last) {
		p = jptr_token(p + 1, tok, sizeof(tok));
		if (!p)
			return -EINVAL;
		cur = jptr_step(cur, tok);
		if (!cur)
			return -ENOENT;
	}
	if (!jptr_token(last + 1, tok, sizeof(tok)))
		return -EINVAL;
	if (json_is_object(cur))
		return json_object_set(cur, tok, val) ? -ENOMEM : 0;
	if (json_is_array(cur)) {
		if (!strcmp(tok, "-"))
			return json_array_append(cur, val) ? -ENOMEM : 0;
		if (jptr_index(tok, &idx) || idx >= json_array_size(cur))
			return -ENOENT;
		return json_array_set(cur, idx, val) ? -ENOMEM : 0;
	}
	return -ENOENT;
}

int jptr_append(char *buf, size_t buflen, const char *token)
{
	size_t n = strlen(buf), need = 1;
	const char *t;

	for (t = token; *t; t++)
		need += (*t == '~' || *t == '/') ? 2 : 1;
	if (n + need + 1 > buflen)
		return -ENOBUFS;
	buf[n++] = '/';
	for (t = token; *t; t++) {
		if (*t == '~') {
			buf[n++] = '~';
			buf[n++] = '0';
		} else if (*t == '/') {
			buf[n++] = '~';
			buf[n++] = '1';
		} else {
			buf[n++] = *t;
		}
	}
	buf[n] = '\0';
	return 0;
}

int jptr_append_index(char *buf, size_t buflen, size_t index)
{
	char tok[32];

	snprintf(tok, sizeof(tok), "%zu", index);
	return jptr_append(buf, buflen, tok);
}
