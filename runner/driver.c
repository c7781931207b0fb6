/*
 * driver: flow runs on the event loop (libcurl multi + child processes).
 * See driver.h.
 *
 * A run is a small state machine: start the current step (an attempt), wait
 * for its transfer or process to end, judge it, then go on to the next step,
 * retry the step after a pause, or finish the run. Judging is separate from
 * transport so that every step kind classifies failures the same way:
 * transport or protocol failure is "error", a wrong answer is "wrong".
 */
#include "runner/driver.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/curlmux.h"
#include "common/jptr.h"
#include "common/loop.h"
#include "common/netns.h"
#include "common/units.h"
#include "runner/quantity.h"
#include "runner/resolve.h"

#define DRIVER_BODY_MAX   (4u << 20)   /* response bodies and process output */
#define DRIVER_HEADER_MAX (64u << 10)
#define DRIVER_EXEC_USER  "nobody"     /* exec steps' user when doorjam is root */

extern char **environ;

struct drun;

struct driver {
	struct loop *loop;
	struct curlmux *mux;     /* HTTP steps' transfers */
	struct drun *runs;       /* in flight, doubly linked */
	size_t nruns;
	int has_resolver;
	struct sockaddr_storage resolver;
};

struct drun {
	struct driver *d;
	struct drun *prev, *next;
	int linked;
	const struct flow *flow;
	int nsfd;
	driver_done_fn done;
	void *arg;
	size_t step;              /* index of the current step */
	uint64_t run_start;       /* loop_now_us() */
	uint64_t step_start;      /* first attempt of the current step */
	uint64_t attempt_start;
	unsigned attempts;
	int slow;                 /* some step or the run went over its objective */
	json_t *captures;         /* name -> string */
	struct loop_timer *timer; /* retry pause, or exec timeout */
	/* http / jsonrpc */
	CURL *easy;
	struct curl_slist *hdrs;
	struct curl_slist *pinned;   /* CURLOPT_RESOLVE entry from our own lookup */
	struct resolve *lookup;
	char *post;
	struct buf body;
	struct buf headers;
	/* exec */
	pid_t pid;
	int outfd, errfd;
	struct buf out, errb;
	int timed_out;
	/* the verdict of the last attempt */
	enum outcome last;
	char msg[512];
};

static void drun_next(struct drun *r);
static void drun_attempt(struct drun *r);
static void drun_judge(struct drun *r, enum outcome o);
static void drun_retry_timer(struct loop *l, void *arg);
static void drun_start_timer(struct loop *l, void *arg);

/* ---- templates ---- */

char *driver_template(const char *s, json_t *captures)
{
	struct buf b;
	const char *p = s;

	buf_init(&b, DRIVER_BODY_MAX);
	while (*p) {
		const char *open = strstr(p, "{{"), *close;
		json_t *v = NULL;

		if (!open) {
			if (buf_append(&b, p, strlen(p)))
				goto fail;
			break;
		}
		close = strstr(open + 2, "}}");
		if (close) {
			char name[128];
			size_t n = (size_t)(close - open - 2);

			if (n < sizeof(name)) {
				memcpy(name, open + 2, n);
				name[n] = '\0';
				v = captures ? json_object_get(captures, name) : NULL;
			}
		}
		if (buf_append(&b, p, (size_t)(open - p)))
			goto fail;
		if (v && json_is_string(v)) {
			if (buf_append(&b, json_string_value(v), json_string_length(v)))
				goto fail;
			p = close + 2;
		} else {
			if (buf_append(&b, "{{", 2))
				goto fail;
			p = open + 2;
		}
	}
	return buf_steal(&b);
fail:
	buf_cleanup(&b);
	return NULL;
}

/* Deep copy of v with templates substituted in every string. */
static json_t *driver_template_json(json_t *v, json_t *captures)
{
	json_t *out, *e;
	const char *k;
	size_t i;

	if (!v)
		return NULL;
	if (json_is_string(v)) {
		char *s = driver_template(json_string_value(v), captures);

		out = s ? json_string(s) : NULL;
		free(s);
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, e)
			json_array_append_new(out, driver_template_json(e, captures));
		return out;
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, k, e)
			json_object_set_new(out, k, driver_template_json(e, captures));
		return out;
	}
	return json_deep_copy(v);
}

/* ---- assertions ---- */

/* The string form of a JSON value: strings bare, the rest compact JSON. */
static char *driver_strval(json_t *v)
{
	if (!v)
		return strdup("(missing)");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int driver_regex(const char *re, const char *s)
{
	regex_t rx;
	int ok;

	/* REG_NEWLINE: ^ and $ match at line boundaries, as grep users expect */
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE))
		return 0;
	ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

/* Equality with numbers compared by value (hex, decimal, JSON numbers). */
static int driver_equal(json_t *a, json_t *b)
{
	struct quantity qa, qb;

	if (json_equal(a, b))
		return 1;
	if ((json_is_number(a) || json_is_string(a)) && (json_is_number(b) || json_is_string(b)) &&
	    quantity_from_json(a, &qa) == 0 && quantity_from_json(b, &qb) == 0)
		return quantity_cmp(&qa, &qb) == 0;
	return 0;
}

static const char *driver_op_name(enum assert_op op)
{
	static const char *const names[] = { "equal", "match", "be below", "be at most",
					     "be above", "be at least", "differ from", "exist" };

	return op <= ASSERT_EXISTS ? names[op] : "?";
}

int driver_assert_json(const struct flow_assert *a, json_t *doc, json_t *expected,
		       char *msg, size_t msglen)
{
	json_t *v = jptr_get(doc, a->path ? a->path : "");
	char *got = NULL, *want = NULL;
	struct quantity qa, qb;
	int ok = 0, c;

	switch (a->op) {
	case ASSERT_EXISTS:
		ok = (v != NULL) == json_is_true(expected);
		if (!ok)
			snprintf(msg, msglen, "%s: expected it %s", a->path,
				 json_is_true(expected) ? "to exist, it is missing" : "not to exist");
		return ok;
	case ASSERT_EQUALS:
		if (a->within) {
			struct quantity lo, hi, tol, zero;

			/* |v - expected| <= within, i.e. expected - within <= v <= expected + within */
			ok = v && quantity_from_json(v, &qa) == 0 &&
			     quantity_from_json(expected, &qb) == 0 &&
			     quantity_from_json(a->within, &tol) == 0 &&
			     quantity_parse("0", &zero) == 0 && quantity_cmp(&tol, &zero) >= 0 &&
			     quantity_add(&qb, &tol, 1, &lo) == 0 && quantity_add(&qb, &tol, 0, &hi) == 0 &&
			     quantity_cmp(&qa, &lo) >= 0 && quantity_cmp(&qa, &hi) <= 0;
			if (!ok) {
				char *w = driver_strval(a->within);

				got = driver_strval(v);
				want = driver_strval(expected);
				snprintf(msg, msglen, "%s: expected %.100s (within %.40s), got %.100s",
					 a->path, want ? want : "?", w ? w : "?", got ? got : "?");
				free(w);
				free(got);
				free(want);
				return 0;
			}
			return 1;
		}
		/* fall through */
	case ASSERT_NE:
		ok = v && driver_equal(v, expected);
		if (a->op == ASSERT_NE)
			ok = v && !ok;
		break;
	case ASSERT_MATCHES:
		if (v) {
			got = driver_strval(v);
			ok = got && driver_regex(json_string_value(expected), got);
		}
		break;
	default:
		if (v && quantity_from_json(v, &qa) == 0 && quantity_from_json(expected, &qb) == 0) {
			c = quantity_cmp(&qa, &qb);
			ok = a->op == ASSERT_LT ? c < 0 : a->op == ASSERT_LE ? c <= 0 :
			     a->op == ASSERT_GT ? c > 0 : c >= 0;
		}
		break;
	}
	if (!ok) {
		if (!got)
			got = driver_strval(v);
		want = driver_strval(expected);
		snprintf(msg, msglen, "%s: expected to %s %.120s, got %.120s", a->path,
			 driver_op_name(a->op), want ? want : "?", got ? got : "?");
	}
	free(got);
	free(want);
	return ok;
}

/* ---- run bookkeeping ---- */

/* Take r out of the list of runs in flight (idempotent). */
static void drun_unlink(struct drun *r)
{
	struct driver *d = r->d;

	if (!r->linked)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		d->runs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	r->linked = 0;
	d->nruns--;
}

static void drun_free(struct drun *r)
{
	struct driver *d = r->d;

	if (r->timer)
		loop_timer_cancel(d->loop, r->timer);
	if (r->easy) {
		curl_multi_remove_handle(curlmux_multi(d->mux), r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->hdrs);
	curl_slist_free_all(r->pinned);
	resolve_cancel(r->lookup);
	free(r->post);
	buf_cleanup(&r->body);
	buf_cleanup(&r->headers);
	if (r->pid > 0) {
		loop_child_del(d->loop, r->pid);
		kill(-r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	if (r->outfd >= 0) {
		loop_fd_del(d->loop, r->outfd);
		close(r->outfd);
	}
	if (r->errfd >= 0) {
		loop_fd_del(d->loop, r->errfd);
		close(r->errfd);
	}
	buf_cleanup(&r->out);
	buf_cleanup(&r->errb);
	json_decref(r->captures);
	drun_unlink(r);
	free(r);
}

/* Finish the run with outcome o and report it. */
static void drun_finish(struct drun *r, enum outcome o)
{
	struct driver_outcome out;
	const struct flow *f = r->flow;

	memset(&out, 0, sizeof(out));
	out.latency_us = loop_now_us() - r->run_start;
	if (o == OUTCOME_OK && (r->slow || (f->slo_us && out.latency_us > f->slo_us))) {
		o = OUTCOME_SLOW;
		if (!r->slow) {
			char a[32], b[32];

			snprintf(r->msg, sizeof(r->msg), "took %s, objective %s",
				 units_duration_format(out.latency_us / 1000 * 1000, a, sizeof(a)),
				 units_duration_format(f->slo_us, b, sizeof(b)));
		}
	}
	out.outcome = o;
	if (o != OUTCOME_OK) {
		snprintf(out.message, sizeof(out.message), "%s", r->msg);
		if (r->step < f->nsteps)
			snprintf(out.step, sizeof(out.step), "%s", f->steps[r->step].name);
	}
	/* unlinked first: the callback may cancel every run in flight */
	drun_unlink(r);
	r->done(r->arg, &out);
	drun_free(r);
}

/* ---- judging ---- */

static int drun_capture(struct drun *r, const struct flow_step *s, json_t *doc, json_t *result)
{
	size_t i;

	for (i = 0; i < s->ncaptures; i++) {
		const struct flow_capture *c = &s->captures[i];
		json_t *v = NULL;
		char *str = NULL;

		if (c->src == ASSERT_SRC_JSON)
			v = doc ? jptr_get(doc, c->path) : NULL;
		else if (c->src == ASSERT_SRC_RESULT)
			v = result ? jptr_get(result, c->path) : NULL;
		if (c->src == ASSERT_SRC_STDOUT) {
			regex_t rx;
			regmatch_t m[2];

			if (regcomp(&rx, c->regex, REG_EXTENDED | REG_NEWLINE) == 0) {
				if (regexec(&rx, r->out.data ? r->out.data : "", 2, m, 0) == 0) {
					int g = m[1].rm_so >= 0 ? 1 : 0;

					str = strndup(r->out.data + m[g].rm_so,
						      (size_t)(m[g].rm_eo - m[g].rm_so));
				}
				regfree(&rx);
			}
		} else if (c->src == ASSERT_SRC_HEADER) {
			/* header capture: search the raw header block */
			const char *h = r->headers.data ? r->headers.data : "";
			size_t n = strlen(c->path);

			while (h && *h) {
				if (!strncasecmp(h, c->path, n) && h[n] == ':') {
					const char *e = h + n + 1;

					while (*e == ' ')
						e++;
					str = strndup(e, strcspn(e, "\r\n"));
					break;
				}
				h = strchr(h, '\n');
				if (h)
					h++;
			}
		} else if (v) {
			str = driver_strval(v);
		}
		if (!str) {
			snprintf(r->msg, sizeof(r->msg), "capture \"%s\": %s not found in the answer",
				 c->name, c->path ? c->path : c->regex);
			return -1;
		}
		json_object_set_new(r->captures, c->name, json_string(str));
		free(str);
	}
	return 0;
}

/* Evaluate content assertions; returns 1 when all hold. */
static int drun_check_content(struct drun *r, const struct flow_step *s, json_t *doc,
			      json_t *result, const char *body)
{
	size_t i;

	for (i = 0; i < s->nasserts; i++) {
		const struct flow_assert *a = &s->asserts[i];
		json_t *want = driver_template_json(a->value, r->captures);
		int ok = 1;

		switch (a->src) {
		case ASSERT_SRC_JSON:
		case ASSERT_SRC_RESULT:
			ok = driver_assert_json(a, a->src == ASSERT_SRC_JSON ? doc : result, want,
						r->msg, sizeof(r->msg));
			break;
		case ASSERT_SRC_BODY:
		case ASSERT_SRC_STDOUT:
		case ASSERT_SRC_STDERR: {
			const char *txt = a->src == ASSERT_SRC_BODY ? body :
					  a->src == ASSERT_SRC_STDOUT ? r->out.data : r->errb.data;

			ok = driver_regex(json_string_value(want), txt ? txt : "");
			if (!ok)
				snprintf(r->msg, sizeof(r->msg), "%s does not match /%s/: %.160s",
					 a->src == ASSERT_SRC_BODY ? "body" :
					 a->src == ASSERT_SRC_STDOUT ? "stdout" : "stderr",
					 json_string_value(want), txt ? txt : "");
			break;
		}
		case ASSERT_SRC_HEADER: {
			const char *h = r->headers.data ? r->headers.data : "";
			size_t n = strlen(a->path);
			char *val = NULL;
			json_t *tmp;

			while (h && *h) {
				if (!strncasecmp(h, a->path, n) && h[n] == ':') {
					const char *e = h + n + 1;

					while (*e == ' ')
						e++;
					val = strndup(e, strcspn(e, "\r\n"));
				}
				h = strchr(h, '\n');
				if (h)
					h++;
			}
			tmp = json_object();
			if (val)
				json_object_set_new(tmp, "v", json_string(val));
			{
				struct flow_assert b = *a;

				b.path = (char *)"/v";
				ok = driver_assert_json(&b, tmp, want, r->msg, sizeof(r->msg));
				if (!ok) {
					char m2[512];

					snprintf(m2, sizeof(m2), "header %s%s", a->path,
						 strchr(r->msg, ':') ? strchr(r->msg, ':') : "");
					snprintf(r->msg, sizeof(r->msg), "%s", m2);
				}
			}
			json_decref(tmp);
			free(val);
			break;
		}
		default:
			break;
		}
		json_decref(want);
		if (!ok)
			return 0;
	}
	return 1;
}

static int drun_has_src(const struct flow_step *s, enum assert_src src)
{
	size_t i;

	for (i = 0; i < s->nasserts; i++)
		if (s->asserts[i].src == src)
			return 1;
	for (i = 0; i < s->ncaptures; i++)
		if (s->captures[i].src == src)
			return 1;
	return 0;
}

/* Judge a finished HTTP/JSON-RPC transfer. */
static enum outcome drun_judge_http(struct drun *r, CURLcode res)
{
	const struct flow_step *s = &r->flow->steps[r->step];
	long status = 0;
	json_t *doc = NULL, *result = NULL;
	enum outcome o = OUTCOME_OK;
	size_t i;

	if (res != CURLE_OK) {
		char a[32];

		if (res == CURLE_OPERATION_TIMEDOUT)
			snprintf(r->msg, sizeof(r->msg), "timed out after %s (%s)",
				 units_duration_format(s->timeout_us, a, sizeof(a)),
				 curl_easy_strerror(res));
		else
			snprintf(r->msg, sizeof(r->msg), "%s", curl_easy_strerror(res));
		/* the OS error says more than curl's category ("Couldn't connect") */
		{
			long oserr = 0;

			curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
			if (oserr && res != CURLE_OPERATION_TIMEDOUT) {
				size_t n = strlen(r->msg);

				snprintf(r->msg + n, sizeof(r->msg) - n, ": %s", strerror((int)oserr));
			}
		}
		return OUTCOME_ERROR;
	}
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	for (i = 0; i < s->nasserts; i++) {
		const struct flow_assert *a = &s->asserts[i];

		if (a->src == ASSERT_SRC_STATUS && json_integer_value(a->value) != status) {
			snprintf(r->msg, sizeof(r->msg), "HTTP status %ld, expected %lld: %.120s",
				 status, (long long)json_integer_value(a->value),
				 r->body.data ? r->body.data : "");
			return OUTCOME_ERROR;
		}
	}
	if (!drun_has_src(s, ASSERT_SRC_STATUS) && (status < 200 || status > 299)) {
		snprintf(r->msg, sizeof(r->msg), "HTTP status %ld: %.160s", status,
			 r->body.data ? r->body.data : "");
		return OUTCOME_ERROR;
	}
	if (s->kind == STEP_JSONRPC || drun_has_src(s, ASSERT_SRC_JSON)) {
		json_error_t je;

		doc = json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_DECODE_ANY, &je);
		if (!doc) {
			snprintf(r->msg, sizeof(r->msg), "the answer is not JSON (%s): %.120s", je.text,
				 r->body.data ? r->body.data : "");
			return OUTCOME_ERROR;
		}
	}
	if (s->kind == STEP_JSONRPC && !s->batch) {
		json_t *e = json_object_get(doc, "error");

		if (!json_is_object(doc)) {
			snprintf(r->msg, sizeof(r->msg), "the JSON-RPC answer is not an object: %.120s",
				 r->body.data);
			o = OUTCOME_ERROR;
			goto out;
		}
		if (e) {
			json_t *code = json_object_get(e, "code"), *m = json_object_get(e, "message");

			snprintf(r->msg, sizeof(r->msg), "JSON-RPC error %lld: %.200s",
				 (long long)json_integer_value(code),
				 json_is_string(m) ? json_string_value(m) : "(no message)");
			o = OUTCOME_ERROR;
			goto out;
		}
		result = json_object_get(doc, "result");
		if (!result) {
			snprintf(r->msg, sizeof(r->msg), "the JSON-RPC answer has no result: %.120s",
				 r->body.data);
			o = OUTCOME_ERROR;
			goto out;
		}
		json_incref(result);
	} else if (s->kind == STEP_JSONRPC) {
		size_t n = json_array_size(s->batch), k;
		json_t *e;

		if (!json_is_array(doc)) {
			json_t *err = json_object_get(doc, "error");

			snprintf(r->msg, sizeof(r->msg), "the batch answer is not an array%s%.160s",
				 err ? ": " : "", err ? json_string_value(json_object_get(err, "message")) : "");
			o = OUTCOME_ERROR;
			goto out;
		}
		result = json_array();
		for (k = 0; k < n; k++) {
			json_t *found = NULL;

			json_array_foreach(doc, i, e) {
				json_t *id = json_object_get(e, "id");

				if (json_is_integer(id) && json_integer_value(id) == (json_int_t)(k + 1))
					found = e;
			}
			if (!found) {
				snprintf(r->msg, sizeof(r->msg), "the batch answer has no reply for call %zu",
					 k + 1);
				o = OUTCOME_ERROR;
				goto out;
			}
			if (json_object_get(found, "error")) {
				json_t *er = json_object_get(found, "error");

				snprintf(r->msg, sizeof(r->msg), "JSON-RPC error %lld in batch call %zu: %.160s",
					 (long long)json_integer_value(json_object_get(er, "code")), k + 1,
					 json_string_value(json_object_get(er, "message")) ?: "");
				o = OUTCOME_ERROR;
				goto out;
			}
			json_array_append(result, json_object_get(found, "result"));
		}
	}
	if (!drun_check_content(r, s, doc, result, r->body.data ? r->body.data : "") ||
	    drun_capture(r, s, doc, result))
		o = OUTCOME_WRONG;
out:
	json_decref(result);
	json_decref(doc);
	return o;
}

static enum outcome drun_judge_exec(struct drun *r, int status)
{
	const struct flow_step *s = &r->flow->steps[r->step];
	json_t *doc = NULL;
	enum outcome o = OUTCOME_OK;
	int code;
	size_t i;

	if (r->timed_out) {
		char a[32];

		snprintf(r->msg, sizeof(r->msg), "timed out after %s (killed)",
			 units_duration_format(s->timeout_us, a, sizeof(a)));
		return OUTCOME_ERROR;
	}
	if (WIFSIGNALED(status)) {
		snprintf(r->msg, sizeof(r->msg), "killed by signal %d", WTERMSIG(status));
		return OUTCOME_ERROR;
	}
	code = WEXITSTATUS(status);
	for (i = 0; i < s->nasserts; i++) {
		const struct flow_assert *a = &s->asserts[i];

		if (a->src == ASSERT_SRC_EXIT && json_integer_value(a->value) != code) {
			snprintf(r->msg, sizeof(r->msg), "exit code %d, expected %lld: %.200s", code,
				 (long long)json_integer_value(a->value),
				 r->errb.len ? r->errb.data : (r->out.data ? r->out.data : ""));
			return OUTCOME_ERROR;
		}
	}
	if (!drun_has_src(s, ASSERT_SRC_EXIT) && code != 0) {
		snprintf(r->msg, sizeof(r->msg), "exit code %d: %.200s", code,
			 r->errb.len ? r->errb.data : (r->out.data ? r->out.data : ""));
		return OUTCOME_ERROR;
	}
	if (drun_has_src(s, ASSERT_SRC_JSON)) {
		json_error_t je;

		doc = json_loadb(r->out.data ? r->out.data : "", r->out.len, JSON_DECODE_ANY, &je);
		if (!doc) {
			snprintf(r->msg, sizeof(r->msg), "the output is not JSON (%s): %.120s", je.text,
				 r->out.data ? r->out.data : "");
			return OUTCOME_ERROR;
		}
	}
	if (!drun_check_content(r, s, doc, NULL, NULL) || drun_capture(r, s, doc, NULL))
		o = OUTCOME_WRONG;
	json_decref(doc);
	return o;
}

/* Decide what follows an attempt that ended with outcome o. */
static void drun_judge(struct drun *r, enum outcome o)
{
	const struct flow_step *s = &r->flow->steps[r->step];
	uint64_t now = loop_now_us();

	r->last = o;
	if (o == OUTCOME_OK) {
		if (s->slo_us && now - r->step_start > s->slo_us) {
			char a[32], b[32];

			r->slow = 1;
			snprintf(r->msg, sizeof(r->msg), "step \"%s\" took %s, objective %s", s->name,
				 units_duration_format((now - r->step_start) / 1000 * 1000, a, sizeof(a)),
				 units_duration_format(s->slo_us, b, sizeof(b)));
		}
		r->step++;
		drun_next(r);
		return;
	}
	if (s->retry_until_us && now + s->retry_every_us - r->step_start <= s->retry_until_us) {
		r->timer = loop_timer_add(r->d->loop, s->retry_every_us, drun_retry_timer, r);
		if (r->timer)
			return;
	}
	if (r->attempts > 1) {
		size_t n = strlen(r->msg);

		snprintf(r->msg + n, sizeof(r->msg) - n, " (after %u attempts)", r->attempts);
	}
	drun_finish(r, o);
}

/* ---- curl plumbing ---- */

/* A finished HTTP transfer (already out of the multi handle): judge the run. */
static void driver_curl_done(CURL *easy, CURLcode res, void *arg)
{
	struct drun *r = NULL;
	enum outcome o;

	(void)arg;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	o = drun_judge_http(r, res);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	curl_slist_free_all(r->pinned);
	r->pinned = NULL;
	free(r->post);
	r->post = NULL;
	drun_judge(r, o);
}

static size_t driver_curl_write(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_append(b, p, size * n))
		return 0; /* over the cap: curl aborts the transfer with a write error */
	return size * n;
}

static curl_socket_t driver_curl_open(void *clientp, curlsocktype purpose,
				      struct curl_sockaddr *addr)
{
	struct drun *r = clientp;
	int fd;

	(void)purpose;
	fd = netns_socket(r->nsfd, addr->family, addr->socktype, addr->protocol, NULL);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* ---- attempts ---- */

static int drun_start_http(struct drun *r, const struct flow_step *s)
{
	char *url = driver_template(s->url, r->captures);
	size_t i;
	int rc = -1;

	if (!url)
		return -1;
	r->easy = curl_easy_init();
	if (!r->easy)
		goto out;
	buf_reset(&r->body);
	buf_reset(&r->headers);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)(s->timeout_us / 1000));
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, driver_curl_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, driver_curl_write);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(r->easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PROXY, "");   /* never a proxy from the environment */
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "doorjam/1");
	if (r->nsfd != NETNS_SELF) {
		curl_easy_setopt(r->easy, CURLOPT_OPENSOCKETFUNCTION, driver_curl_open);
		curl_easy_setopt(r->easy, CURLOPT_OPENSOCKETDATA, r);
	}
	for (i = 0; i < s->nheaders; i++) {
		char *h = driver_template(s->headers[i], r->captures);

		if (h)
			r->hdrs = curl_slist_append(r->hdrs, h);
		free(h);
	}
	if (s->kind == STEP_JSONRPC) {
		json_t *req;

		if (s->batch) {
			json_t *e;

			req = json_array();
			json_array_foreach(s->batch, i, e) {
				json_t *params = json_object_get(e, "params");

				json_array_append_new(req, json_pack("{sssIsOso}", "jsonrpc", "2.0", "id",
								     (json_int_t)(i + 1), "method",
								     json_object_get(e, "method"), "params",
								     params ? driver_template_json(params, r->captures)
									    : json_array()));
			}
		} else {
			req = json_pack("{sssisssO}", "jsonrpc", "2.0", "id", 1, "method", s->method,
					"params", s->body);
			json_object_set_new(req, "params", driver_template_json(s->body, r->captures));
		}
		r->post = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/json");
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->post);
	} else {
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, s->method);
		if (!strcmp(s->method, "HEAD"))
			curl_easy_setopt(r->easy, CURLOPT_NOBODY, 1L);
		if (s->body) {
			if (json_is_string(s->body)) {
				r->post = driver_template(json_string_value(s->body), r->captures);
			} else {
				json_t *b = driver_template_json(s->body, r->captures);

				r->post = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
				json_decref(b);
				r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/json");
			}
			curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->post);
		}
	}
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	if (r->pinned)
		curl_easy_setopt(r->easy, CURLOPT_RESOLVE, r->pinned);
	if (curl_multi_add_handle(curlmux_multi(r->d->mux), r->easy) != CURLM_OK)
		goto out;
	rc = 0;
out:
	free(url);
	return rc;
}

static void drun_exec_fd(struct loop *l, int fd, unsigned events, void *arg)
{
	struct drun *r = arg;
	struct buf *b = fd == r->outfd ? &r->out : &r->errb;
	char tmp[4096];
	ssize_t n;

	(void)events;
	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n > 0) {
			/* past the cap, output is dropped; the step still ends normally */
			if (buf_append(b, tmp, (size_t)n)) {
				/* keep reading so that the child does not block on a full pipe */
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		break; /* EOF or error */
	}
	loop_fd_del(l, fd);
	close(fd);
	if (fd == r->outfd)
		r->outfd = -1;
	else
		r->errfd = -1;
}

static void drun_exec_timeout(struct loop *l, void *arg)
{
	struct drun *r = arg;

	(void)l;
	r->timer = NULL;
	r->timed_out = 1;
	if (r->pid > 0)
		kill(-r->pid, SIGKILL);
}

static void drun_exec_exit(struct loop *l, pid_t pid, int status, void *arg)
{
	struct drun *r = arg;

	(void)pid;
	r->pid = 0;
	if (r->timer) {
		loop_timer_cancel(l, r->timer);
		r->timer = NULL;
	}
	/* collect what is left in the pipes */
	if (r->outfd >= 0)
		drun_exec_fd(l, r->outfd, LOOP_READ, r);
	if (r->errfd >= 0)
		drun_exec_fd(l, r->errfd, LOOP_READ, r);
	if (r->outfd >= 0) {
		loop_fd_del(l, r->outfd);
		close(r->outfd);
		r->outfd = -1;
	}
	if (r->errfd >= 0) {
		loop_fd_del(l, r->errfd);
		close(r->errfd);
		r->errfd = -1;
	}
	drun_judge(r, drun_judge_exec(r, status));
}

static int drun_start_exec(struct drun *r, const struct flow_step *s, struct err *err)
{
	char **argv = NULL, **envp = NULL;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc = -1;
	size_t i, nenv = 0;
	struct passwd *pw = NULL;
	const char *user;
	uid_t uid = 0;
	gid_t gid = 0;
	pid_t pid;

	buf_reset(&r->out);
	buf_reset(&r->errb);
	r->timed_out = 0;
	/*
	 * doorjam runs as root to change the network; the commands a flow runs
	 * need not. Unless a step names its user, it runs as "nobody" when
	 * doorjam is root; "user": "root" keeps root on purpose.
	 */
	user = s->user ? s->user : (geteuid() == 0 ? DRIVER_EXEC_USER : NULL);
	if (user && strcmp(user, "root")) {
		pw = getpwnam(user);
		if (!pw) {
			snprintf(r->msg, sizeof(r->msg), "no such user \"%s\"", user);
			return err_set(err, -ENOENT, "no such user \"%s\"", user);
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	argv = calloc(s->argc + 1, sizeof(char *));
	for (i = 0; environ[i]; i++)
		nenv++;
	envp = calloc(nenv + s->nenv + 1, sizeof(char *));
	if (!argv || !envp)
		goto out;
	for (i = 0; i < s->argc; i++)
		argv[i] = driver_template(s->argv[i], r->captures);
	nenv = 0;
	for (i = 0; environ[i]; i++)
		envp[nenv++] = strdup(environ[i]);
	for (i = 0; i < s->nenv; i++)
		envp[nenv++] = driver_template(s->env[i], r->captures);
	if (pipe2(out, O_CLOEXEC | O_NONBLOCK) || pipe2(errp, O_CLOEXEC | O_NONBLOCK)) {
		rc = err_errno(err, errno, "pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = err_errno(err, errno, "fork");
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		if (r->nsfd != NETNS_SELF && setns(r->nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(errp[1], 2);
		fcntl(1, F_SETFL, 0);
		fcntl(2, F_SETFL, 0);
		if (pw && (setgroups(0, NULL) || setgid(gid) || setuid(uid))) {
			dprintf(2, "doorjam: cannot switch to user %s\n", user);
			_exit(126);
		}
		execvpe(argv[0], argv, envp);
		dprintf(2, "doorjam: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	r->pid = pid;
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	r->outfd = out[0];
	r->errfd = errp[0];
	out[0] = errp[0] = -1;
	if (loop_fd_add(r->d->loop, r->outfd, LOOP_READ, drun_exec_fd, r, err) ||
	    loop_fd_add(r->d->loop, r->errfd, LOOP_READ, drun_exec_fd, r, err) ||
	    loop_child_add(r->d->loop, pid, drun_exec_exit, r, err))
		goto out; /* drun_free kills and reaps the child */
	r->timer = loop_timer_add(r->d->loop, s->timeout_us, drun_exec_timeout, r);
	rc = 0;
out:
	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
	for (i = 0; envp && envp[i]; i++)
		free(envp[i]);
	free(envp);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	return rc;
}

/* The lookup for an http/jsonrpc step ended. */
static void drun_lookup_done(void *arg, int rc, const char *addr, const char *msg)
{
	struct drun *r = arg;
	const struct flow_step *s = &r->flow->steps[r->step];
	char *url = driver_template(s->url, r->captures), *host = NULL, *port = NULL;
	CURLU *u = curl_url();
	char pin[512];

	r->lookup = NULL;
	if (url && u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		if (rc == 0) {
			snprintf(pin, sizeof(pin), "%s:%s:%s", host, port, addr);
			r->pinned = curl_slist_append(NULL, pin);
		} else {
			snprintf(r->msg, sizeof(r->msg), "could not resolve %s: %s", host, msg);
		}
	} else if (rc == 0) {
		rc = -EINVAL;
		snprintf(r->msg, sizeof(r->msg), "bad URL %.200s", url ? url : "");
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	free(url);
	if (rc) {
		drun_judge(r, OUTCOME_ERROR);
		return;
	}
	if (drun_start_http(r, s)) {
		snprintf(r->msg, sizeof(r->msg), "could not start the step: out of memory");
		drun_finish(r, OUTCOME_ERROR);
	}
}

/*
 * Start looking up the step's host through the run's DNS server. Returns 1
 * when a lookup is in flight, 0 when none is needed (an address literal).
 */
static int drun_lookup(struct drun *r, const struct flow_step *s, struct err *err)
{
	char *url = driver_template(s->url, r->captures), *host = NULL;
	CURLU *u = curl_url();
	unsigned char tmp[16];
	int rc = 0;

	if (url && u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '[' &&
	    inet_pton(AF_INET, host, tmp) != 1 && strcmp(host, "localhost")) {
		r->lookup = resolve_start(r->d->loop, r->nsfd, &r->d->resolver, host,
					  s->timeout_us, drun_lookup_done, r, err);
		rc = r->lookup ? 1 : 0;  /* on failure curl resolves it, and says so */
	}
	curl_free(host);
	curl_url_cleanup(u);
	free(url);
	return rc;
}

static void drun_attempt(struct drun *r)
{
	const struct flow_step *s = &r->flow->steps[r->step];
	struct err e;
	int rc;

	r->timer = NULL;
	r->attempts++;
	r->attempt_start = loop_now_us();
	r->msg[0] = '\0';
	err_clear(&e);
	if (s->kind == STEP_EXEC)
		rc = drun_start_exec(r, s, &e);
	else if (r->d->has_resolver && drun_lookup(r, s, &e) == 1)
		return;   /* the step starts when the lookup ends */
	else
		rc = drun_start_http(r, s);
	if (rc) {
		if (!r->msg[0])
			snprintf(r->msg, sizeof(r->msg), "could not start the step: %.400s",
				 e.msg[0] ? e.msg : "out of memory");
		drun_finish(r, OUTCOME_ERROR);
	}
}

static void drun_next(struct drun *r)
{
	if (r->step >= r->flow->nsteps) {
		drun_finish(r, OUTCOME_OK);
		return;
	}
	r->step_start = loop_now_us();
	r->attempts = 0;
	drun_attempt(r);
}

static void drun_retry_timer(struct loop *l, void *arg)
{
	struct drun *r = arg;

	(void)l;
	r->timer = NULL;
	drun_attempt(r);
}

static void drun_start_timer(struct loop *l, void *arg)
{
	struct drun *r = arg;

	(void)l;
	r->timer = NULL;
	drun_next(r);
}

/* ---- public ---- */

struct driver *driver_new(struct loop *l, struct err *err)
{
	struct driver *d = calloc(1, sizeof(*d));

	if (!d) {
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	d->loop = l;
	d->mux = curlmux_new(l, driver_curl_done, d, err);
	if (!d->mux) {
		free(d);
		return NULL;
	}
	return d;
}

void driver_cancel_all(struct driver *d)
{
	while (d->runs)
		drun_free(d->runs);
}

void driver_free(struct driver *d)
{
	if (!d)
		return;
	driver_cancel_all(d);
	curlmux_free(d->mux);
	free(d);
}

void driver_set_resolver(struct driver *d, const struct sockaddr_storage *server)
{
	if (!server) {
		d->has_resolver = 0;
		return;
	}
	d->resolver = *server;
	d->has_resolver = 1;
}

size_t driver_active(const struct driver *d)
{
	return d->nruns;
}

int driver_start(struct driver *d, const struct flow *f, int nsfd, driver_done_fn done,
		 void *arg, struct err *err)
{
	struct drun *r = calloc(1, sizeof(*r));

	if (!r)
		return err_set(err, -ENOMEM, "out of memory");
	r->d = d;
	r->flow = f;
	r->nsfd = nsfd;
	r->done = done;
	r->arg = arg;
	r->outfd = r->errfd = -1;
	r->captures = json_object();
	buf_init(&r->body, DRIVER_BODY_MAX);
	buf_init(&r->headers, DRIVER_HEADER_MAX);
	buf_init(&r->out, DRIVER_BODY_MAX);
	buf_init(&r->errb, DRIVER_BODY_MAX);
	r->next = d->runs;
	if (d->runs)
		d->runs->prev = r;
	d->runs = r;
	r->linked = 1;
	d->nruns++;
	r->run_start = loop_now_us();
	/* start from the loop, so that done never runs inside driver_start */
	r->timer = loop_timer_add(d->loop, 0, drun_start_timer, r);
	if (!r->timer) {
		drun_free(r);
		return err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}
