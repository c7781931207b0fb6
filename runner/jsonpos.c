/*
 * jsonpos: a position-tracking skim over JSON text. See jsonpos.h.
 *
 * The text has already been parsed successfully by jansson when this runs, so
 * the scanner can be forgiving; it still stops cleanly on anything odd and
 * never reads past len.
 */
#include "runner/jsonpos.h"

#include <string.h>

struct jscan {
	const char *s;
	size_t len, i;
	int depth;
};

static void jscan_ws(struct jscan *j)
{
	while (j->i < j->len && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
				 j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

/* Skip a string starting at '"'; returns 0 or -1. */
static int jscan_string(struct jscan *j)
{
	if (j->i >= j->len || j->s[j->i] != '"')
		return -1;
	j->i++;
	while (j->i < j->len) {
		char c = j->s[j->i++];

		if (c == '\\')
			j->i++;
		else if (c == '"')
			return 0;
	}
	return -1;
}

/*
 * Compare the JSON string at position i (starting with '"') to the decoded
 * token. Only the escapes a member name plausibly carries are decoded; others
 * make the comparison fail, which at worst gives a less precise position.
 */
static int jscan_key_equals(const char *s, size_t len, size_t i, const char *tok)
{
	size_t k = 0;

	if (i >= len || s[i] != '"')
		return 0;
	i++;
	while (i < len && s[i] != '"') {
		char c = s[i];

		if (c == '\\') {
			if (i + 1 >= len)
				return 0;
			switch (s[i + 1]) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			default: return 0;
			}
			i++;
		}
		if (tok[k] != c)
			return 0;
		k++;
		i++;
	}
	return tok[k] == '\0';
}

static int jscan_value(struct jscan *j)
{
	char c;

	jscan_ws(j);
	if (j->i >= j->len || ++j->depth > 4096)
		return -1;
	c = j->s[j->i];
	if (c == '"') {
		j->depth--;
		return jscan_string(j);
	}
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';

		j->i++;
		jscan_ws(j);
		if (j->i < j->len && j->s[j->i] == close) {
			j->i++;
			j->depth--;
			return 0;
		}
		for (;;) {
			if (c == '{') {
				jscan_ws(j);
				if (jscan_string(j))
					return -1;
				jscan_ws(j);
				if (j->i >= j->len || j->s[j->i] != ':')
					return -1;
				j->i++;
			}
			if (jscan_value(j))
				return -1;
			jscan_ws(j);
			if (j->i >= j->len)
				return -1;
			if (j->s[j->i] == ',') {
				j->i++;
				continue;
			}
			if (j->s[j->i] == close) {
				j->i++;
				j->depth--;
				return 0;
			}
			return -1;
		}
	}
	/* number, true, false, null */
	while (j->i < j->len && !strchr(",]} \t\r\n", j->s[j->i]))
		j->i++;
	j->depth--;
	return 0;
}

/* Decode the next pointer token into tok; returns the rest or NULL. */
static const char *jscan_token(const char *p, char *tok, size_t toklen)
{
	size_t n = 0;

	while (*p && *p != '/') {
		char c = *p;

		if (c == '~') {
			c = p[1] == '1' ? '/' : '~';
			if (p[1])
				p++;
		}
		if (n + 1 < toklen)
			tok[n++] = c;
		p++;
	}
	tok[n] = '\0';
	return p;
}

/*
 * Position j at the member value (or name) tok inside the object/array at
 * j->i. Returns 0 when found, -1 when not.
 */
static int jscan_child(struct jscan *j, const char *tok, int want_key, size_t *keypos)
{
	char c;
	size_t idx = 0, want_idx = 0;
	const char *t;
	int is_idx = *tok != '\0';

	jscan_ws(j);
	if (j->i >= j->len)
		return -1;
	c = j->s[j->i];
	if (c != '{' && c != '[')
		return -1;
	for (t = tok; *t; t++) {
		if (*t < '0' || *t > '9')
			is_idx = 0;
		else
			want_idx = want_idx * 10 + (size_t)(*t - '0');
	}
	j->i++;
	jscan_ws(j);
	if (j->i < j->len && (j->s[j->i] == '}' || j->s[j->i] == ']'))
		return -1;
	for (;;) {
		int hit = 0;

		jscan_ws(j);
		if (c == '{') {
			size_t kp = j->i;

			hit = jscan_key_equals(j->s, j->len, j->i, tok);
			if (jscan_string(j))
				return -1;
			jscan_ws(j);
			if (j->i >= j->len || j->s[j->i] != ':')
				return -1;
			j->i++;
			if (hit) {
				*keypos = kp;
				jscan_ws(j);
				if (want_key)
					j->i = kp;
				return 0;
			}
		} else if (is_idx && idx == want_idx) {
			jscan_ws(j);
			*keypos = j->i;
			return 0;
		}
		if (jscan_value(j))
			return -1;
		jscan_ws(j);
		if (j->i >= j->len || j->s[j->i] != ',')
			return -1;
		j->i++;
		idx++;
	}
}

int jsonpos_find(const char *text, size_t len, const char *ptr, int want_key, int *line,
		 int *col)
{
	struct jscan j = { text, len, 0, 0 };
	char tok[512];
	size_t found = 0, keypos, k;
	const char *p = ptr ? ptr : "";
	int rc = 0, l = 1, c = 1;

	/* skip a UTF-8 byte order mark the way jansson would refuse it anyway */
	jscan_ws(&j);
	found = j.i;
	while (*p == '/') {
		const char *next = jscan_token(p + 1, tok, sizeof(tok));
		size_t save = j.i;
		int last = *next == '\0';

		if (jscan_child(&j, tok, want_key && last, &keypos)) {
			j.i = save;
			rc = 1;
			break;
		}
		found = j.i;
		p = next;
	}
	if (j.i > len)
		return -1;
	for (k = 0; k < found && k < len; k++) {
		if (text[k] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
	return rc;
}
