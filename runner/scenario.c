/*
 * scenario: loading and validating scenario and flows files. See scenario.h.
 *
 * The loader reads each file into memory (bounded), parses it with jansson
 * (duplicate keys rejected), then walks the tree with the typed getters of
 * check.h. Every problem is recorded with its place and the walk goes on, so
 * the user sees all errors at once. Only when a file has no error is the
 * model returned. Nothing here touches the system beyond reading files.
 */
#include "runner/scenario.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/jptr.h"
#include "runner/fault_dns.h"
#include "runner/fault_rpc.h"
#include "runner/lab.h"

#define SCENARIO_FILE_MAX (16u << 20)   /* scenario, flows and lab files */
#define SCENARIO_FORMAT 1

static const char *const scenario_keys[] = {
	"$schema", "doorjam", "name", "description", "lab", "target", "flows", "regions",
	"schedule", "faults", "expect", "seed", "dns", "rpc", NULL,
};
static const char *const schedule_keys[] = { "baseline", "fault", "recovery", "every", NULL };
static const char *const region_keys[] = { "hosts", "prefixes", "names", NULL };
static const char *const fault_common_keys[] = { "kind", "at", "for", "region", "note", NULL };
static const char *const flows_file_keys[] = { "$schema", "doorjam", "description", "flows", NULL };
static const char *const flow_keys[] = { "name", "description", "from", "slo", "steps", NULL };
static const char *const step_keys[] = {
	"name", "http", "jsonrpc", "exec", "timeout", "retry", "slo", "expect", "capture", NULL,
};
static const char *const http_keys[] = { "method", "url", "headers", "body", NULL };
static const char *const jsonrpc_keys[] = { "url", "method", "params", "batch", "headers", NULL };
static const char *const batch_keys[] = { "method", "params", NULL };
static const char *const exec_keys[] = { "argv", "env", "user", NULL };
static const char *const retry_keys[] = { "until", "every", NULL };
static const char *const expect_obj_keys[] = { "expect", "within", NULL };
static const char *const expect_names[] = {
	"survive", "degrade", "fail-clean", "recover", "any", NULL,
};
static const char *const assert_src_keys[] = {
	"status", "json", "result", "exit", "stdout", "stderr", "body", "header", NULL,
};
static const char *const assert_op_keys[] = {
	"equals", "matches", "lt", "le", "gt", "ge", "ne", "exists", NULL,
};
static const char *const capture_src_keys[] = { "json", "result", "stdout", "header", NULL };

const char *expect_name(enum expect_kind k)
{
	return k <= EXPECT_ANY ? expect_names[k] : "?";
}

/* ---- files ---- */

int scenario_read_file(const char *path, size_t max, char **text, size_t *len,
		       struct err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, rc = 0;

	/* O_NONBLOCK: opening a FIFO or a device must not wait; regular files ignore it */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_errno(err, errno, "cannot open");
	if (fstat(fd, &st) < 0) {
		rc = err_errno(err, errno, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(err, -EINVAL, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = err_set(err, -EFBIG, "file is %lld bytes, more than the %zu bytes allowed",
			     (long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_errno(err, errno, "cannot read");
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Parse text as a JSON object; on failure record a positioned error. */
static json_t *scenario_parse(struct check *c, const char *text, size_t len)
{
	json_error_t je;
	json_t *root;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		diags_add(c->out, c->file, je.line > 0 ? je.line : 1,
			  je.column > 0 ? je.column : 1, "", "invalid JSON: %s", je.text);
		c->errors++;
		return NULL;
	}
	if (!json_is_object(root)) {
		check_error(c, "", 0, "expected an object at the top level, found %s",
			    check_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Resolve ref relative to the directory dir into a heap path. */
static char *scenario_resolve(const char *dir, const char *ref)
{
	char *p;
	size_t n;

	if (ref[0] == '/' || !dir || !*dir)
		return strdup(ref);
	n = strlen(dir) + strlen(ref) + 2;
	p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, ref);
	return p;
}

static char *scenario_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Check the "doorjam": 1 format marker. */
static void scenario_check_format(struct check *c, json_t *root)
{
	uint64_t v = 0;
	int rc = check_uint(c, root, "", "doorjam", 1, 0, UINT32_MAX, &v);

	if (rc == 1 && v != SCENARIO_FORMAT)
		check_error(c, "/doorjam", 0,
			    "format version %llu is not supported (this doorjam reads version %d)",
			    (unsigned long long)v, SCENARIO_FORMAT);
}

/* ---- templates ---- */

/*
 * Check that every {{name}} in s names a capture in known (NULL-terminated
 * list of count n). Records errors at ptr.
 */
static void scenario_check_template(struct check *c, const char *s, const char *ptr,
				    char **known, size_t n)
{
	const char *p = s;

	while ((p = strstr(p, "{{"))) {
		const char *e = strstr(p + 2, "}}");
		size_t i, len;
		int found = 0;

		if (!e) {
			check_error(c, ptr, 0, "\"{{\" without a closing \"}}\"");
			return;
		}
		len = (size_t)(e - (p + 2));
		for (i = 0; i < n; i++)
			if (strlen(known[i]) == len && !strncmp(known[i], p + 2, len))
				found = 1;
		if (!found)
			check_error(c, ptr, 0,
				    "\"{{%.*s}}\" is not captured by an earlier step of this flow",
				    (int)len, p + 2);
		p = e + 2;
	}
}

static void scenario_check_templates_json(struct check *c, json_t *v, const char *ptr,
					  char **known, size_t n)
{
	char p[CHECK_PTR_MAX];
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_string(v)) {
		scenario_check_template(c, json_string_value(v), ptr, known, n);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			scenario_check_templates_json(c, e, check_ptr_index(p, ptr, i), known, n);
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			scenario_check_templates_json(c, e, check_ptr(p, ptr, k), known, n);
	}
}

/* ---- flows ---- */

static int scenario_name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

static int scenario_regex_ok(struct check *c, const char *re, const char *ptr)
{
	regex_t rx;
	char msg[256];
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

	if (rc) {
		regerror(rc, &rx, msg, sizeof(msg));
		check_error(c, ptr, 0, "invalid regular expression \"%s\": %s", re, msg);
		return 0;
	}
	regfree(&rx);
	return 1;
}

static void scenario_assert_free(struct flow_assert *a)
{
	free(a->path);
	free(a->ptr);
	json_decref(a->value);
	json_decref(a->within);
}

static int scenario_load_assert(struct check *c, json_t *o, const char *ptr,
				enum step_kind kind, struct flow_assert *a)
{
	const char *src_key = NULL, *op_key = NULL, *k;
	char p[CHECK_PTR_MAX];
	json_t *v;
	int nsrc = 0, nop = 0, i;
	const char *const *s;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(o)) {
		check_error(c, ptr, 0, "an assertion must be an object, found %s",
			    check_type_name(o));
		return -1;
	}
	json_object_foreach(o, k, v) {
		for (s = assert_src_keys; *s; s++)
			if (!strcmp(*s, k)) {
				src_key = *s;
				nsrc++;
			}
		for (s = assert_op_keys; *s; s++)
			if (!strcmp(*s, k)) {
				op_key = *s;
				nop++;
			}
	}
	{
		const char *all[32];
		size_t n = 0;

		for (s = assert_src_keys; *s; s++)
			all[n++] = *s;
		for (s = assert_op_keys; *s; s++)
			all[n++] = *s;
		all[n++] = "within";
		all[n] = NULL;
		if (check_keys(c, o, ptr, all))
			return -1;
	}
	if (nsrc != 1) {
		check_error(c, ptr, 0, "an assertion names exactly one of status, json, result, "
			    "exit, stdout, stderr, body, header (found %d)", nsrc);
		return -1;
	}
	a->ptr = strdup(ptr);
	check_ptr(p, ptr, src_key);
	v = json_object_get(o, src_key);
	if (!strcmp(src_key, "status") || !strcmp(src_key, "exit")) {
		int is_status = src_key[0] == 's';

		a->src = is_status ? ASSERT_SRC_STATUS : ASSERT_SRC_EXIT;
		if (is_status && kind == STEP_EXEC) {
			check_error(c, p, 1, "\"status\" applies to http and jsonrpc steps; use \"exit\"");
			return -1;
		}
		if (!is_status && kind != STEP_EXEC) {
			check_error(c, p, 1, "\"exit\" applies to exec steps only");
			return -1;
		}
		if (nop) {
			check_error(c, p, 1, "\"%s\" takes the expected value directly, without \"%s\"",
				    src_key, op_key);
			return -1;
		}
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (is_status ? 599 : 255)) {
			check_error(c, p, 0, "expected %s", is_status ? "an HTTP status (100 to 599)"
				    : "an exit code (0 to 255)");
			return -1;
		}
		a->op = ASSERT_EQUALS;
		a->value = json_incref(v);
		return 0;
	}
	if (!strcmp(src_key, "stdout") || !strcmp(src_key, "stderr") || !strcmp(src_key, "body")) {
		a->src = src_key[0] == 'b' ? ASSERT_SRC_BODY :
			 src_key[3] == 'o' ? ASSERT_SRC_STDOUT : ASSERT_SRC_STDERR;
		if (a->src != ASSERT_SRC_BODY && kind != STEP_EXEC) {
			check_error(c, p, 1, "\"%s\" applies to exec steps only", src_key);
			return -1;
		}
		if (a->src == ASSERT_SRC_BODY && kind == STEP_EXEC) {
			check_error(c, p, 1, "\"body\" applies to http and jsonrpc steps; use \"stdout\"");
			return -1;
		}
		if (nop) {
			check_error(c, p, 1, "\"%s\" takes a regular expression directly", src_key);
			return -1;
		}
		if (!json_is_string(v)) {
			check_error(c, p, 0, "expected a regular expression string, found %s",
				    check_type_name(v));
			return -1;
		}
		if (!scenario_regex_ok(c, json_string_value(v), p))
			return -1;
		a->op = ASSERT_MATCHES;
		a->value = json_incref(v);
		return 0;
	}
	/* json, result, header: a path plus one operator */
	if (!strcmp(src_key, "result") && kind != STEP_JSONRPC) {
		check_error(c, p, 1, "\"result\" applies to jsonrpc steps only; use \"json\"");
		return -1;
	}
	if (!strcmp(src_key, "header") && kind == STEP_EXEC) {
		check_error(c, p, 1, "\"header\" applies to http and jsonrpc steps only");
		return -1;
	}
	if (kind == STEP_EXEC && !strcmp(src_key, "json")) {
		/* exec steps may assert on JSON printed to stdout */
	}
	a->src = src_key[0] == 'j' ? ASSERT_SRC_JSON : src_key[0] == 'r' ? ASSERT_SRC_RESULT
		 : ASSERT_SRC_HEADER;
	if (!json_is_string(v)) {
		check_error(c, p, 0, "expected %s, found %s",
			    a->src == ASSERT_SRC_HEADER ? "a header name" : "a JSON pointer",
			    check_type_name(v));
		return -1;
	}
	if (a->src != ASSERT_SRC_HEADER) {
		struct err e;

		err_clear(&e);
		if (jptr_check(json_string_value(v), &e)) {
			check_error(c, p, 0, "%s", e.msg);
			return -1;
		}
	}
	a->path = strdup(json_string_value(v));
	if (nop != 1) {
		check_error(c, ptr, 0, "\"%s\" needs exactly one of equals, matches, lt, le, gt, "
			    "ge, ne, exists (found %d)", src_key, nop);
		return -1;
	}
	for (i = 0; assert_op_keys[i]; i++)
		if (!strcmp(assert_op_keys[i], op_key))
			a->op = (enum assert_op)i;
	check_ptr(p, ptr, op_key);
	v = json_object_get(o, op_key);
	switch (a->op) {
	case ASSERT_MATCHES:
		if (!json_is_string(v)) {
			check_error(c, p, 0, "expected a regular expression string, found %s",
				    check_type_name(v));
			return -1;
		}
		if (!scenario_regex_ok(c, json_string_value(v), p))
			return -1;
		break;
	case ASSERT_EXISTS:
		if (!json_is_boolean(v)) {
			check_error(c, p, 0, "expected true or false, found %s", check_type_name(v));
			return -1;
		}
		break;
	case ASSERT_LT:
	case ASSERT_LE:
	case ASSERT_GT:
	case ASSERT_GE:
		if (!json_is_number(v) && !json_is_string(v)) {
			check_error(c, p, 0, "expected a number (or a numeric string such as "
				    "\"0x1bc16d674ec80000\"), found %s", check_type_name(v));
			return -1;
		}
		break;
	default:
		break;
	}
	a->value = json_incref(v);
	if ((v = json_object_get(o, "within"))) {
		check_ptr(p, ptr, "within");
		if (a->op != ASSERT_EQUALS) {
			check_error(c, p, 1, "\"within\" goes with \"equals\" (a numeric tolerance)");
			return -1;
		}
		if (!(json_is_integer(v) && json_integer_value(v) >= 0) &&
		    !(json_is_real(v) && json_real_value(v) >= 0) && !json_is_string(v)) {
			check_error(c, p, 0, "expected a number of at least 0, found %s",
				    check_type_name(v));
			return -1;
		}
		a->within = json_incref(v);
	}
	return 0;
}

static void scenario_step_free(struct flow_step *s)
{
	size_t i;

	free(s->name);
	free(s->ptr);
	free(s->method);
	free(s->url);
	for (i = 0; i < s->nheaders; i++)
		free(s->headers[i]);
	free(s->headers);
	json_decref(s->body);
	json_decref(s->batch);
	for (i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	for (i = 0; i < s->nenv; i++)
		free(s->env[i]);
	free(s->env);
	free(s->user);
	for (i = 0; i < s->nasserts; i++)
		scenario_assert_free(&s->asserts[i]);
	free(s->asserts);
	for (i = 0; i < s->ncaptures; i++) {
		free(s->captures[i].name);
		free(s->captures[i].path);
		free(s->captures[i].regex);
	}
	free(s->captures);
}

static void scenario_flow_free(struct flow *f)
{
	size_t i;

	free(f->name);
	free(f->description);
	free(f->from);
	free(f->file);
	free(f->ptr);
	for (i = 0; i < f->nsteps; i++)
		scenario_step_free(&f->steps[i]);
	free(f->steps);
}

static int scenario_load_headers(struct check *c, json_t *o, const char *ptr,
				 struct flow_step *s)
{
	char p[CHECK_PTR_MAX];
	const char *k;
	json_t *v, *h = NULL;
	int bad = 0;

	if (check_object(c, o, ptr, "headers", 0, &h) <= 0)
		return 0;
	s->headers = calloc(json_object_size(h) + 1, sizeof(char *));
	json_object_foreach(h, k, v) {
		const char *q;

		check_ptr(p, ptr, "headers");
		check_ptr(p, p, k);
		for (q = k; *q; q++)
			if (!isgraph((unsigned char)*q) || *q == ':')
				break;
		if (!*k || *q) {
			check_error(c, p, 1, "\"%s\" is not a valid header name", k);
			bad = 1;
			continue;
		}
		if (!json_is_string(v)) {
			check_error(c, p, 0, "a header value must be a string, found %s",
				    check_type_name(v));
			bad = 1;
			continue;
		}
		if (strpbrk(json_string_value(v), "\r\n")) {
			check_error(c, p, 0, "a header value must not contain line breaks");
			bad = 1;
			continue;
		}
		if (asprintf(&s->headers[s->nheaders], "%s: %s", k, json_string_value(v)) >= 0)
			s->nheaders++;
	}
	return bad ? -1 : 0;
}

static int scenario_url_ok(struct check *c, const char *url, const char *ptr)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8) && strncmp(url, "{{", 2)) {
		check_error(c, ptr, 0, "\"%s\" is not an http:// or https:// URL", url);
		return 0;
	}
	return 1;
}

/* Load one step; known/nknown: captures defined by earlier steps (grows). */
static int scenario_load_step(struct check *c, json_t *o, const char *ptr, size_t index,
			      struct flow_step *s, char ***known, size_t *nknown)
{
	char p[CHECK_PTR_MAX], q[CHECK_PTR_MAX];
	const char *str = NULL;
	json_t *body = NULL, *arr = NULL, *retry = NULL, *caps = NULL, *v;
	size_t before = c->errors, i;
	int nkinds = 0;

	memset(s, 0, sizeof(*s));
	s->ptr = strdup(ptr);
	if (!json_is_object(o)) {
		check_error(c, ptr, 0, "a step must be an object, found %s", check_type_name(o));
		return -1;
	}
	check_keys(c, o, ptr, step_keys);
	if (check_string(c, o, ptr, "name", 0, &str) == 1)
		s->name = strdup(str);
	else if (asprintf(&s->name, "step %zu", index + 1) < 0)
		s->name = NULL;
	nkinds = !!json_object_get(o, "http") + !!json_object_get(o, "jsonrpc") +
		 !!json_object_get(o, "exec");
	if (nkinds != 1) {
		check_error(c, ptr, 0, "a step has exactly one of \"http\", \"jsonrpc\", \"exec\" "
			    "(found %d)", nkinds);
		return -1;
	}
	s->timeout_us = 10000000;
	check_duration(c, o, ptr, "timeout", 0, &s->timeout_us);
	if (s->timeout_us == 0)
		check_error(c, check_ptr(p, ptr, "timeout"), 0, "timeout must be above zero");
	check_duration(c, o, ptr, "slo", 0, &s->slo_us);
	if (check_object(c, o, ptr, "retry", 0, &retry) == 1) {
		check_ptr(p, ptr, "retry");
		check_keys(c, retry, p, retry_keys);
		check_duration(c, retry, p, "until", 1, &s->retry_until_us);
		s->retry_every_us = 500000;
		check_duration(c, retry, p, "every", 0, &s->retry_every_us);
		if (s->retry_every_us == 0)
			check_error(c, check_ptr(q, p, "every"), 0, "must be above zero");
	}

	if ((v = json_object_get(o, "http"))) {
		s->kind = STEP_HTTP;
		check_ptr(p, ptr, "http");
		if (!json_is_object(v)) {
			check_error(c, p, 0, "expected an object, found %s", check_type_name(v));
			return -1;
		}
		check_keys(c, v, p, http_keys);
		if (check_string(c, v, p, "method", 0, &str) == 1) {
			const char *m;

			for (m = str; *m; m++)
				if (!isupper((unsigned char)*m))
					break;
			if (!*str || *m)
				check_error(c, check_ptr(q, p, "method"), 0,
					    "\"%s\" is not an HTTP method (upper-case letters, e.g. GET)", str);
			s->method = strdup(str);
		} else {
			s->method = strdup("GET");
		}
		if (check_string(c, v, p, "url", 1, &str) == 1) {
			scenario_url_ok(c, str, check_ptr(q, p, "url"));
			s->url = strdup(str);
		}
		scenario_load_headers(c, v, p, s);
		if ((body = json_object_get(v, "body")))
			s->body = json_incref(body);
	} else if ((v = json_object_get(o, "jsonrpc"))) {
		s->kind = STEP_JSONRPC;
		check_ptr(p, ptr, "jsonrpc");
		if (!json_is_object(v)) {
			check_error(c, p, 0, "expected an object, found %s", check_type_name(v));
			return -1;
		}
		check_keys(c, v, p, jsonrpc_keys);
		if (check_string(c, v, p, "url", 1, &str) == 1) {
			scenario_url_ok(c, str, check_ptr(q, p, "url"));
			s->url = strdup(str);
		}
		scenario_load_headers(c, v, p, s);
		if (json_object_get(v, "batch")) {
			json_t *e;

			if (json_object_get(v, "method") || json_object_get(v, "params"))
				check_error(c, p, 0, "a jsonrpc step has either \"method\" or \"batch\"");
			if (check_array(c, v, p, "batch", 1, &arr) == 1) {
				check_ptr(q, p, "batch");
				if (!json_array_size(arr))
					check_error(c, q, 0, "a batch needs at least one call");
				json_array_foreach(arr, i, e) {
					char r[CHECK_PTR_MAX];
					json_t *pa;

					check_ptr_index(r, q, i);
					if (!json_is_object(e)) {
						check_error(c, r, 0, "a batch call must be an object");
						continue;
					}
					check_keys(c, e, r, batch_keys);
					check_string(c, e, r, "method", 1, &str);
					pa = json_object_get(e, "params");
					if (pa && !json_is_array(pa) && !json_is_object(pa))
						check_error(c, check_ptr(r, r, "params"), 0,
							    "params must be an array or an object");
				}
				s->batch = json_incref(arr);
			}
		} else {
			if (check_string(c, v, p, "method", 1, &str) == 1)
				s->method = strdup(str);
			body = json_object_get(v, "params");
			if (body && !json_is_array(body) && !json_is_object(body))
				check_error(c, check_ptr(q, p, "params"), 0,
					    "params must be an array or an object, found %s",
					    check_type_name(body));
			s->body = body ? json_incref(body) : json_array();
		}
	} else {
		const char *k;

		v = json_object_get(o, "exec");
		s->kind = STEP_EXEC;
		check_ptr(p, ptr, "exec");
		if (!json_is_object(v)) {
			check_error(c, p, 0, "expected an object, found %s", check_type_name(v));
			return -1;
		}
		check_keys(c, v, p, exec_keys);
		if (check_array(c, v, p, "argv", 1, &arr) == 1) {
			json_t *e;

			if (!json_array_size(arr))
				check_error(c, check_ptr(q, p, "argv"), 0,
					    "argv needs at least the program");
			s->argv = calloc(json_array_size(arr) + 1, sizeof(char *));
			json_array_foreach(arr, i, e) {
				if (!json_is_string(e)) {
					check_error(c, check_ptr_index(q, check_ptr(q, p, "argv"), i), 0,
						    "expected a string, found %s", check_type_name(e));
					continue;
				}
				s->argv[s->argc++] = strdup(json_string_value(e));
			}
		}
		if (check_object(c, v, p, "env", 0, &arr) == 1) {
			s->env = calloc(json_object_size(arr) + 1, sizeof(char *));
			json_object_foreach(arr, k, body) {
				check_ptr(q, p, "env");
				check_ptr(q, q, k);
				if (!*k || strchr(k, '=')) {
					check_error(c, q, 1, "\"%s\" is not a valid variable name", k);
					continue;
				}
				if (!json_is_string(body)) {
					check_error(c, q, 0, "expected a string, found %s",
						    check_type_name(body));
					continue;
				}
				if (asprintf(&s->env[s->nenv], "%s=%s", k, json_string_value(body)) >= 0)
					s->nenv++;
			}
		}
		if (check_string(c, v, p, "user", 0, &str) == 1)
			s->user = strdup(str);
	}
	/* templates may use captures of earlier steps only */
	scenario_check_templates_json(c, json_object_get(o, s->kind == STEP_HTTP ? "http" :
				      s->kind == STEP_JSONRPC ? "jsonrpc" : "exec"),
				      check_ptr(p, ptr, s->kind == STEP_HTTP ? "http" :
						s->kind == STEP_JSONRPC ? "jsonrpc" : "exec"),
				      *known, *nknown);

	if (check_array(c, o, ptr, "expect", 0, &arr) == 1) {
		json_t *e;

		s->asserts = calloc(json_array_size(arr) + 1, sizeof(*s->asserts));
		check_ptr(p, ptr, "expect");
		json_array_foreach(arr, i, e) {
			check_ptr_index(q, p, i);
			if (scenario_load_assert(c, e, q, s->kind, &s->asserts[s->nasserts]) == 0) {
				scenario_check_templates_json(c, s->asserts[s->nasserts].value, q,
							      *known, *nknown);
				s->nasserts++;
			} else {
				scenario_assert_free(&s->asserts[s->nasserts]);
			}
		}
	}
	if (check_object(c, o, ptr, "capture", 0, &caps) == 1) {
		const char *name;
		json_t *cv;

		s->captures = calloc(json_object_size(caps) + 1, sizeof(*s->captures));
		json_object_foreach(caps, name, cv) {
			struct flow_capture *cp = &s->captures[s->ncaptures];
			const char *src = NULL;
			char **nk;

			check_ptr(p, ptr, "capture");
			check_ptr(p, p, name);
			if (!scenario_name_ok(name)) {
				check_error(c, p, 1, "\"%s\" is not a valid capture name (letters, digits, "
					    "'-', '_', '.')", name);
				continue;
			}
			if (!json_is_object(cv) || json_object_size(cv) != 1) {
				check_error(c, p, 0, "a capture is an object with one of \"json\", "
					    "\"result\", \"stdout\", \"header\"");
				continue;
			}
			if (check_keys(c, cv, p, capture_src_keys))
				continue;
			src = json_object_iter_key(json_object_iter(cv));
			body = json_object_get(cv, src);
			check_ptr(q, p, src);
			if (!json_is_string(body)) {
				check_error(c, q, 0, "expected a string, found %s", check_type_name(body));
				continue;
			}
			if (!strcmp(src, "result") && s->kind != STEP_JSONRPC) {
				check_error(c, q, 1, "\"result\" applies to jsonrpc steps only");
				continue;
			}
			if (!strcmp(src, "stdout") && s->kind != STEP_EXEC) {
				check_error(c, q, 1, "\"stdout\" applies to exec steps only");
				continue;
			}
			if (!strcmp(src, "stdout")) {
				if (!scenario_regex_ok(c, json_string_value(body), q))
					continue;
				cp->src = ASSERT_SRC_STDOUT;
				cp->regex = strdup(json_string_value(body));
			} else {
				struct err e;

				cp->src = src[0] == 'j' ? ASSERT_SRC_JSON : src[0] == 'r' ?
					  ASSERT_SRC_RESULT : ASSERT_SRC_HEADER;
				err_clear(&e);
				if (cp->src != ASSERT_SRC_HEADER &&
				    jptr_check(json_string_value(body), &e)) {
					check_error(c, q, 0, "%s", e.msg);
					continue;
				}
				cp->path = strdup(json_string_value(body));
			}
			cp->name = strdup(name);
			s->ncaptures++;
			nk = realloc(*known, (*nknown + 1) * sizeof(char *));
			if (nk) {
				*known = nk;
				(*known)[(*nknown)++] = cp->name;
			}
		}
	}
	return c->errors > before ? -1 : 0;
}

static int scenario_load_flow(struct check *c, json_t *o, const char *ptr, struct flow *f)
{
	char p[CHECK_PTR_MAX];
	const char *str;
	json_t *steps = NULL, *e;
	char **known = NULL;
	size_t nknown = 0, i, before = c->errors;

	memset(f, 0, sizeof(*f));
	f->ptr = strdup(ptr);
	f->file = strdup(c->file);
	if (!json_is_object(o)) {
		check_error(c, ptr, 0, "a flow must be an object, found %s", check_type_name(o));
		return -1;
	}
	check_keys(c, o, ptr, flow_keys);
	if (check_string(c, o, ptr, "name", 1, &str) == 1) {
		if (!scenario_name_ok(str))
			check_error(c, check_ptr(p, ptr, "name"), 0,
				    "\"%s\" is not a valid flow name (1 to 64 letters, digits, "
				    "'-', '_', '.')", str);
		f->name = strdup(str);
	}
	if (check_string(c, o, ptr, "description", 0, &str) == 1)
		f->description = strdup(str);
	if (check_string(c, o, ptr, "from", 0, &str) == 1)
		f->from = strdup(str);
	check_duration(c, o, ptr, "slo", 0, &f->slo_us);
	if (check_array(c, o, ptr, "steps", 1, &steps) == 1) {
		check_ptr(p, ptr, "steps");
		if (!json_array_size(steps))
			check_error(c, p, 0, "a flow needs at least one step");
		f->steps = calloc(json_array_size(steps) + 1, sizeof(*f->steps));
		json_array_foreach(steps, i, e) {
			char q[CHECK_PTR_MAX];

			scenario_load_step(c, e, check_ptr_index(q, p, i), i, &f->steps[i], &known,
					   &nknown);
			f->nsteps++;
		}
	}
	free(known);
	return c->errors > before ? -1 : 0;
}

/* Load flows from arr (at ptr in the file c describes) and append to sc. */
static void scenario_load_flow_array(struct check *c, json_t *arr, const char *ptr,
				     struct scenario *sc)
{
	struct flow *nf;
	json_t *e;
	size_t i, j;

	if (sc->nflows + json_array_size(arr) > SCENARIO_MAX_FLOWS) {
		check_error(c, ptr, 0, "too many flows: %zu, at most %d in one scenario",
			    sc->nflows + json_array_size(arr), SCENARIO_MAX_FLOWS);
		return;
	}
	nf = realloc(sc->flows, (sc->nflows + json_array_size(arr) + 1) * sizeof(*nf));
	if (!nf) {
		check_error(c, ptr, 0, "out of memory");
		return;
	}
	sc->flows = nf;
	json_array_foreach(arr, i, e) {
		char p[CHECK_PTR_MAX];
		struct flow *f = &sc->flows[sc->nflows];

		scenario_load_flow(c, e, check_ptr_index(p, ptr, i), f);
		sc->nflows++;
		for (j = 0; f->name && j + 1 < sc->nflows; j++) {
			if (sc->flows[j].name && !strcmp(sc->flows[j].name, f->name)) {
				check_error(c, check_ptr(p, p, "name"), 0,
					    "flow name \"%s\" is used twice (also at %s in %s)",
					    f->name, sc->flows[j].ptr, sc->flows[j].file);
				break;
			}
		}
	}
}

/* Load a flows file into sc. from: the check of the referencing file, refptr the pointer. */
static void scenario_load_flows_file(struct check *from, const char *refptr,
				     const char *path, struct scenario *sc)
{
	struct check c;
	struct err e;
	char *text = NULL;
	size_t len = 0;
	json_t *root, *arr = NULL;

	err_clear(&e);
	if (scenario_read_file(path, SCENARIO_FILE_MAX, &text, &len, &e)) {
		check_error(from, refptr, 0, "flows file \"%s\": %s", path, e.msg);
		return;
	}
	check_init(&c, path, text, len, from->out);
	root = scenario_parse(&c, text, len);
	if (root) {
		check_keys(&c, root, "", flows_file_keys);
		scenario_check_format(&c, root);
		if (check_array(&c, root, "", "flows", 1, &arr) == 1) {
			if (!json_array_size(arr))
				check_error(&c, "/flows", 0, "a flows file needs at least one flow");
			scenario_load_flow_array(&c, arr, "/flows", sc);
		}
		json_decref(root);
	}
	from->errors += c.errors;
	free(text);
}

/* ---- regions ---- */

static int scenario_cidr_ok(const char *s)
{
	char addr[64];
	unsigned char buf[16];
	const char *slash = strchr(s, '/');
	char *end;
	long len;
	int v6;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return 0;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	v6 = strchr(addr, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1)
		return 0;
	if (!isdigit((unsigned char)slash[1]))
		return 0;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 || len > (v6 ? 128 : 32))
		return 0;
	return 1;
}

static int scenario_dns_pattern_ok(const char *s)
{
	const char *p = s;

	if (!strncmp(p, "*.", 2))
		p += 2;
	if (!*p || strlen(s) > 253)
		return 0;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			return 0;
	return 1;
}

static char **scenario_strings_dup(json_t *v, size_t *n)
{
	char **out;
	size_t i;

	if (json_is_string(v)) {
		out = calloc(2, sizeof(char *));
		if (out) {
			out[0] = strdup(json_string_value(v));
			*n = 1;
		}
		return out;
	}
	out = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!out)
		return NULL;
	for (i = 0; i < json_array_size(v); i++)
		out[i] = strdup(json_string_value(json_array_get(v, i)));
	*n = json_array_size(v);
	return out;
}

static void scenario_strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void scenario_load_regions(struct check *c, json_t *obj, struct scenario *sc)
{
	const char *name;
	json_t *r;
	size_t i = 0;

	sc->regions = calloc(json_object_size(obj) + 1, sizeof(*sc->regions));
	json_object_foreach(obj, name, r) {
		struct region *rg = &sc->regions[i];
		char p[CHECK_PTR_MAX], q[CHECK_PTR_MAX];
		json_t *v = NULL;
		size_t k;

		check_ptr(p, "/regions", name);
		if (!scenario_name_ok(name))
			check_error(c, p, 1, "\"%s\" is not a valid region name", name);
		if (!json_is_object(r)) {
			check_error(c, p, 0, "a region must be an object, found %s", check_type_name(r));
			continue;
		}
		check_keys(c, r, p, region_keys);
		rg->name = strdup(name);
		if (check_strings(c, r, p, "hosts", 0, &v) == 1)
			rg->hosts = scenario_strings_dup(v, &rg->nhosts);
		if (check_strings(c, r, p, "prefixes", 0, &v) == 1) {
			rg->prefixes = scenario_strings_dup(v, &rg->nprefixes);
			for (k = 0; k < rg->nprefixes; k++) {
				if (!scenario_cidr_ok(rg->prefixes[k])) {
					check_ptr(q, p, "prefixes");
					if (json_is_array(v))
						check_ptr_index(q, q, k);
					check_error(c, q, 0, "\"%s\" is not an address prefix such as "
						    "\"10.77.1.0/24\" or \"fd00:77::/64\"", rg->prefixes[k]);
				}
			}
		}
		if (check_strings(c, r, p, "names", 0, &v) == 1) {
			rg->names = scenario_strings_dup(v, &rg->nnames);
			for (k = 0; k < rg->nnames; k++) {
				if (!scenario_dns_pattern_ok(rg->names[k])) {
					check_ptr(q, p, "names");
					if (json_is_array(v))
						check_ptr_index(q, q, k);
					check_error(c, q, 0, "\"%s\" is not a DNS name or pattern such as "
						    "\"*.use1.example\"", rg->names[k]);
				}
			}
		}
		if (!rg->nhosts && !rg->nprefixes && !rg->nnames)
			check_error(c, p, 0, "a region needs at least one of hosts, prefixes, names");
		i++;
		sc->nregions = i;
	}
}

/* Add a string to a heap array of strings. */
static void scenario_strings_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (!nv)
		return;
	nv[*n] = strdup(s);
	nv[*n + 1] = NULL;
	*v = nv;
	(*n)++;
}

/*
 * With a lab: hosts that name a region join it (the region is made when the
 * scenario does not define it), region hosts must exist, and every region
 * host's /24 becomes one of the region's prefixes, so that net.* faults on a
 * region cut the path to its hosts in the lab's core.
 */
static void scenario_regions_from_lab(struct check *c, struct scenario *sc)
{
	size_t i, k;

	for (i = 0; sc->lab && i < sc->lab->nhosts; i++) {
		const struct lab_host *h = &sc->lab->hosts[i];
		struct region *rg;
		int found = 0;

		if (!h->region)
			continue;
		rg = (struct region *)scenario_region(sc, h->region);
		if (!rg) {
			struct region *nr = realloc(sc->regions, (sc->nregions + 2) * sizeof(*nr));

			if (!nr)
				return;
			sc->regions = nr;
			rg = &sc->regions[sc->nregions++];
			memset(rg, 0, sizeof(*rg) * 2);
			rg->name = strdup(h->region);
		}
		for (k = 0; k < rg->nhosts; k++)
			if (!strcmp(rg->hosts[k], h->name))
				found = 1;
		if (!found)
			scenario_strings_push(&rg->hosts, &rg->nhosts, h->name);
	}
	for (i = 0; i < sc->nregions; i++) {
		struct region *rg = &sc->regions[i];

		for (k = 0; k < rg->nhosts; k++) {
			const struct lab_host *h = sc->lab ? lab_host(sc->lab, rg->hosts[k]) : NULL;
			char p[CHECK_PTR_MAX], cidr[32];
			struct in_addr net;

			if (!h) {
				check_ptr(p, "/regions", rg->name ? rg->name : "");
				check_error(c, check_ptr(p, p, "hosts"), 0, sc->lab ?
					    "host \"%s\" is not in the lab" :
					    "host \"%s\": region hosts need a lab (\"lab\")", rg->hosts[k]);
				continue;
			}
			net.s_addr = h->addr.s_addr & htonl(0xffffff00u);
			inet_ntop(AF_INET, &net, cidr, sizeof(cidr));
			strcat(cidr, "/24");
			scenario_strings_push(&rg->prefixes, &rg->nprefixes, cidr);
		}
	}
}

/* A flow's "from" names a lab host when there is a lab. */
static void scenario_check_vantage(struct check *c, const struct scenario *sc)
{
	size_t i;

	for (i = 0; sc->lab && i < sc->nflows; i++) {
		const struct flow *f = &sc->flows[i];
		char p[CHECK_PTR_MAX], *text = NULL;
		size_t len = 0;
		struct check fc;
		struct err e;

		if (!f->from || lab_host(sc->lab, f->from))
			continue;
		check_ptr(p, f->ptr, "from");
		if (!strcmp(f->file, c->file)) {
			check_error(c, p, 0, "no lab host is called \"%s\"", f->from);
			continue;
		}
		/* the flow came from a flows file: its position is in that file's text */
		if (scenario_read_file(f->file, SCENARIO_FILE_MAX, &text, &len, &e))
			len = 0;
		check_init(&fc, f->file, text, len, c->out);
		check_error(&fc, p, 0, "no lab host is called \"%s\"", f->from);
		c->errors++;
		free(text);
	}
}

const struct region *scenario_region(const struct scenario *sc, const char *name)
{
	size_t i;

	for (i = 0; i < sc->nregions; i++)
		if (sc->regions[i].name && !strcmp(sc->regions[i].name, name))
			return &sc->regions[i];
	return NULL;
}

int scenario_flow_index(const struct scenario *sc, const char *name)
{
	size_t i;

	for (i = 0; i < sc->nflows; i++)
		if (sc->flows[i].name && !strcmp(sc->flows[i].name, name))
			return (int)i;
	return -1;
}

/* ---- faults ---- */

static void scenario_load_faults(struct check *c, json_t *arr, struct scenario *sc)
{
	json_t *o;
	size_t i;

	sc->faults = calloc(json_array_size(arr) + 1, sizeof(*sc->faults));
	json_array_foreach(arr, i, o) {
		struct fault *f = &sc->faults[sc->nfaults];
		char p[CHECK_PTR_MAX], q[CHECK_PTR_MAX];
		const char *kind = NULL, *str = NULL;
		const struct fault_ops *ops;
		const char *all[64];
		size_t n = 0, before = c->errors;
		const char *const *k;

		check_ptr_index(p, "/faults", i);
		if (!json_is_object(o)) {
			check_error(c, p, 0, "a fault must be an object, found %s", check_type_name(o));
			continue;
		}
		if (check_string(c, o, p, "kind", 1, &kind) != 1)
			continue;
		ops = fault_lookup(kind);
		if (!ops) {
			const char *names[128];
			size_t m;
			const char *hint;

			for (m = 0; m < 127 && fault_at(m); m++)
				names[m] = fault_at(m)->kind;
			names[m] = NULL;
			hint = check_suggest(kind, names);
			if (hint)
				check_error(c, check_ptr(q, p, "kind"), 0,
					    "unknown fault kind \"%s\" (did you mean \"%s\"?)", kind, hint);
			else
				check_error(c, check_ptr(q, p, "kind"), 0,
					    "unknown fault kind \"%s\" (`doorjam help faults` lists them)",
					    kind);
			continue;
		}
		for (k = fault_common_keys; *k && n < 63; k++)
			all[n++] = *k;
		for (k = ops->keys; k && *k && n < 63; k++)
			all[n++] = *k;
		all[n] = NULL;
		check_keys(c, o, p, all);
		f->ops = ops;
		f->ptr = strdup(p);
		f->spec = json_incref(o);
		check_duration(c, o, p, "at", 0, &f->at_us);
		check_duration(c, o, p, "for", 0, &f->for_us);
		if (json_object_get(o, "for") && f->for_us == 0)
			check_error(c, check_ptr(q, p, "for"), 0, "must be above zero (leave \"for\" "
				    "out to keep the fault on until the fault phase ends)");
		if (f->at_us >= sc->sched.fault_us && sc->sched.fault_us)
			check_error(c, check_ptr(q, p, "at"), 0, "the fault would start after the "
				    "fault phase ends (schedule.fault is %llu ms)",
				    (unsigned long long)(sc->sched.fault_us / 1000));
		else if (f->for_us && f->at_us + f->for_us > sc->sched.fault_us)
			check_error(c, check_ptr(q, p, "for"), 0, "the fault would outlast the fault "
				    "phase (at + for = %llu ms, schedule.fault is %llu ms)",
				    (unsigned long long)((f->at_us + f->for_us) / 1000),
				    (unsigned long long)(sc->sched.fault_us / 1000));
		if (check_string(c, o, p, "region", 0, &str) == 1) {
			if (!scenario_region(sc, str)) {
				const char *names[64];
				size_t m;
				const char *hint;

				for (m = 0; m < sc->nregions && m < 63; m++)
					names[m] = sc->regions[m].name;
				names[m] = NULL;
				hint = check_suggest(str, names);
				check_error(c, check_ptr(q, p, "region"), 0,
					    "region \"%s\" is not defined in \"regions\"%s%s%s", str,
					    hint ? " (did you mean \"" : "", hint ? hint : "",
					    hint ? "\"?)" : "");
			}
			f->region = strdup(str);
		}
		if (check_string(c, o, p, "note", 0, &str) == 1)
			f->note = strdup(str);
		if (c->errors == before && ops->validate &&
		    ops->validate(c, sc, o, p, &f->params) != 0 && c->errors == before)
			check_error(c, p, 0, "invalid %s fault", kind);
		sc->nfaults++;
	}
}

/* ---- expectations ---- */

static void scenario_load_expect(struct check *c, json_t *obj, struct scenario *sc)
{
	const char *name;
	json_t *v;
	size_t i;

	sc->expects = calloc(sc->nflows + 1, sizeof(*sc->expects));
	for (i = 0; i < sc->nflows; i++)
		sc->expects[i].kind = EXPECT_ANY;
	if (!obj)
		return;
	json_object_foreach(obj, name, v) {
		char p[CHECK_PTR_MAX];
		int idx = scenario_flow_index(sc, name), e = 0;

		check_ptr(p, "/expect", name);
		if (idx < 0) {
			const char *names[256];
			const char *hint;
			size_t m;

			for (m = 0; m < sc->nflows && m < 255; m++)
				names[m] = sc->flows[m].name ? sc->flows[m].name : "";
			names[m] = NULL;
			hint = check_suggest(name, names);
			check_error(c, p, 1, "no flow is called \"%s\"%s%s%s", name,
				    hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
			continue;
		}
		if (json_is_string(v)) {
			json_t *wrap = json_pack("{sO}", name, v);

			if (check_enum(c, wrap, "/expect", name, 1, expect_names, &e) != 1) {
				json_decref(wrap);
				continue;
			}
			json_decref(wrap);
			/* check_enum reported against the wrapper; the pointer is the same */
			if (e == EXPECT_RECOVER) {
				check_error(c, p, 0, "\"recover\" needs a deadline: "
					    "{\"expect\": \"recover\", \"within\": \"10s\"}");
				continue;
			}
		} else if (json_is_object(v)) {
			check_keys(c, v, p, expect_obj_keys);
			if (check_enum(c, v, p, "expect", 1, expect_names, &e) != 1)
				continue;
			if (check_duration(c, v, p, "within", e == EXPECT_RECOVER,
					   &sc->expects[idx].within_us) == 1 && e != EXPECT_RECOVER)
				check_error(c, check_ptr(p, p, "within"), 1,
					    "\"within\" applies to \"recover\" only");
		} else {
			check_error(c, p, 0, "expected one of \"survive\", \"degrade\", \"fail-clean\", "
				    "\"any\", or {\"expect\": \"recover\", \"within\": ...}; found %s",
				    check_type_name(v));
			continue;
		}
		sc->expects[idx].kind = (enum expect_kind)e;
	}
}

/* ---- the scenario ---- */

int scenario_load(const char *path, struct scenario **out, struct diags *diags)
{
	struct scenario *sc;
	struct check c;
	struct err e;
	char *text = NULL;
	size_t len = 0;
	json_t *root = NULL, *v = NULL;
	const char *str;
	uint64_t seed;
	int rc = -1;

	*out = NULL;
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		diags_add(diags, path, 0, 0, "", "out of memory");
		return -1;
	}
	sc->file = strdup(path);
	sc->dir = scenario_dirname(path);
	err_clear(&e);
	if (scenario_read_file(path, SCENARIO_FILE_MAX, &text, &len, &e)) {
		diags_add(diags, path, 0, 0, "", "%s", e.msg);
		goto out;
	}
	check_init(&c, path, text, len, diags);
	root = scenario_parse(&c, text, len);
	if (!root)
		goto out;
	sc->root = root;
	check_keys(&c, root, "", scenario_keys);
	scenario_check_format(&c, root);
	if (check_string(&c, root, "", "name", 1, &str) == 1) {
		if (!scenario_name_ok(str))
			check_error(&c, "/name", 0, "\"%s\" is not a valid scenario name (1 to 64 "
				    "letters, digits, '-', '_', '.')", str);
		sc->name = strdup(str);
	}
	if (check_string(&c, root, "", "description", 0, &str) == 1)
		sc->description = strdup(str);
	if (check_uint(&c, root, "", "seed", 0, 0, UINT64_MAX >> 1, &seed) == 1) {
		sc->seed = seed;
		sc->has_seed = 1;
	}
	if (check_string(&c, root, "", "target", 0, &str) == 1)
		sc->target = strdup(str);
	if (check_string(&c, root, "", "lab", 0, &str) == 1) {
		sc->lab_file = scenario_resolve(sc->dir, str);
		if (access(sc->lab_file, R_OK) != 0) {
			check_error(&c, "/lab", 0, "lab file \"%s\": %s", sc->lab_file, strerror(errno));
		} else {
			size_t before = diags->n;

			if (lab_load(sc->lab_file, &sc->lab, diags))
				c.errors += diags->n > before ? diags->n - before : 1;
		}
		if (sc->target)
			check_error(&c, "/target", 0, "a scenario with a lab applies kernel faults in "
				    "the lab; \"target\" is for scenarios without one");
	}

	/* schedule first: fault offsets are checked against it */
	sc->sched.baseline_us = 5000000;
	sc->sched.fault_us = 30000000;
	sc->sched.recovery_us = 20000000;
	sc->sched.every_us = 2000000;
	if (check_object(&c, root, "", "schedule", 0, &v) == 1) {
		check_keys(&c, v, "/schedule", schedule_keys);
		check_duration(&c, v, "/schedule", "baseline", 0, &sc->sched.baseline_us);
		check_duration(&c, v, "/schedule", "fault", 0, &sc->sched.fault_us);
		check_duration(&c, v, "/schedule", "recovery", 0, &sc->sched.recovery_us);
		check_duration(&c, v, "/schedule", "every", 0, &sc->sched.every_us);
		if (sc->sched.every_us == 0)
			check_error(&c, "/schedule/every", 0, "must be above zero");
		if (sc->sched.fault_us == 0)
			check_error(&c, "/schedule/fault", 0, "must be above zero");
		if (sc->sched.baseline_us == 0)
			check_error(&c, "/schedule/baseline", 0,
				    "must be above zero (a baseline shows the stack worked before the fault)");
	}

	if (check_object(&c, root, "", "regions", 0, &v) == 1)
		scenario_load_regions(&c, v, sc);
	scenario_regions_from_lab(&c, sc);

	v = json_object_get(root, "flows");
	if (!v) {
		check_error(&c, "", 0, "missing required key \"flows\" (a path to a flows file, "
			    "or an array of flows)");
	} else if (json_is_string(v)) {
		char *fp = scenario_resolve(sc->dir, json_string_value(v));

		if (fp)
			scenario_load_flows_file(&c, "/flows", fp, sc);
		free(fp);
	} else if (json_is_array(v)) {
		if (!json_array_size(v))
			check_error(&c, "/flows", 0, "a scenario needs at least one flow");
		scenario_load_flow_array(&c, v, "/flows", sc);
	} else {
		check_error(&c, "/flows", 0, "expected a path to a flows file or an array of "
			    "flows, found %s", check_type_name(v));
	}

	if (check_array(&c, root, "", "faults", 0, &v) == 1)
		scenario_load_faults(&c, v, sc);
	v = NULL;
	check_object(&c, root, "", "expect", 0, &v);
	scenario_load_expect(&c, v, sc);
	if (check_object(&c, root, "", "dns", 0, &v) == 1) {
		sc->dns = v;
		if (sc->lab && sc->lab->dns)
			check_error(&c, "/dns", 0, "the lab runs the DNS server; configure it in the lab file");
		else
			fault_dns_config_check(&c, v, "/dns");
	}
	if (check_object(&c, root, "", "rpc", 0, &v) == 1) {
		sc->rpc = v;
		fault_rpc_config_check(&c, v, "/rpc");
	}
	scenario_check_vantage(&c, sc);

	if (c.errors == 0) {
		rc = 0;
		*out = sc;
		sc = NULL;
	}
out:
	free(text);
	scenario_free(sc);
	return rc;
}

int scenario_validate_flows_file(const char *path, struct diags *diags)
{
	struct scenario sc;
	struct check c;
	size_t before = diags->n;

	memset(&sc, 0, sizeof(sc));
	check_init(&c, path, NULL, 0, diags);
	scenario_load_flows_file(&c, "", path, &sc);
	while (sc.nflows)
		scenario_flow_free(&sc.flows[--sc.nflows]);
	free(sc.flows);
	return diags->n > before ? -1 : 0;
}

void scenario_free(struct scenario *sc)
{
	size_t i;

	if (!sc)
		return;
	for (i = 0; i < sc->nflows; i++)
		scenario_flow_free(&sc->flows[i]);
	free(sc->flows);
	for (i = 0; i < sc->nfaults; i++) {
		struct fault *f = &sc->faults[i];

		if (f->ops && f->ops->free_params)
			f->ops->free_params(f->params);
		free(f->ptr);
		free(f->region);
		free(f->note);
		json_decref(f->spec);
	}
	free(sc->faults);
	for (i = 0; i < sc->nregions; i++) {
		free(sc->regions[i].name);
		scenario_strings_free(sc->regions[i].hosts, sc->regions[i].nhosts);
		scenario_strings_free(sc->regions[i].prefixes, sc->regions[i].nprefixes);
		scenario_strings_free(sc->regions[i].names, sc->regions[i].nnames);
	}
	free(sc->regions);
	free(sc->expects);
	free(sc->file);
	free(sc->dir);
	free(sc->name);
	free(sc->description);
	free(sc->lab_file);
	lab_free(sc->lab);
	free(sc->target);
	json_decref(sc->root);
	free(sc);
}
