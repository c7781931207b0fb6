/*
 * rpc: the JSON-RPC proxy. See rpc.h for what it does.
 *
 * Structure: a listener accepts client connections (struct rpc_conn). Each
 * connection reads into a capped buffer and parses one request at a time
 * (pipelined bytes wait in the buffer). A complete request becomes an
 * exchange (struct rpc_ex): its body is decoded as JSON-RPC, every call is
 * matched against the active rules (struct rpc_slot, one per added rule, with
 * the rule's run-time state: counters, token bucket, frozen head, random
 * state), and the exchange either answers by itself, or forwards the calls
 * that need real answers upstream and edits the reply.
 *
 * The upstream leg is injector/upstream (doorjam's own HTTP/1.1 client) for
 * http:// upstreams with a numeric address, or libcurl for the rest; both
 * end in rpc_ex_upstream_reply with the status, headers and body, or in
 * rpc_ex_upstream_failed with what the client should see.
 *
 * The libcurl leg runs on common/curlmux (socket-action mode on the loop),
 * so the proxy never blocks and never owns a thread; a finished transfer
 * reaches rpc_curl_done outside curl's own callbacks, already out of the
 * multi handle.
 *
 * The proxy sends answers with Content-Length framing and passes on the
 * upstream's end-to-end headers; it does not ask the upstream for compressed
 * bodies, so bodies can be read and edited.
 */
#include "injector/rpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/curlmux.h"
#include "common/jptr.h"
#include "common/loop.h"
#include "common/netns.h"
#include "common/rng.h"
#include "injector/upstream.h"

#define RPC_READ_CHUNK (64 * 1024)
/* a waiting connection keeps at most this much buffer storage per direction */
#define RPC_KEEP_BUF 4096
#define RPC_UP_HEAD_MAX (64 * 1024)
#define RPC_METHODS_MAX 256
#define RPC_EASY_POOL 64
#define RPC_PROBE_ID "doorjam-head-probe"
#define RPC_PROBE_PENDING 1   /* the head probe goes upstream first */
#define RPC_PROBE_DONE 2      /* the probe answered; the request itself goes next */

/* ---- rules: matching, buckets, overrides (pure) ---- */

static const char *const rpc_action_names[RPC_ACT_COUNT_] = {
	[RPC_ACT_STATUS] = "status",
	[RPC_ACT_ERROR] = "error",
	[RPC_ACT_DELAY] = "delay",
	[RPC_ACT_HANG] = "hang",
	[RPC_ACT_RESET] = "reset",
	[RPC_ACT_CLOSE] = "close",
	[RPC_ACT_TRUNCATE] = "truncate",
	[RPC_ACT_RATE_LIMIT] = "rate_limit",
	[RPC_ACT_OVERRIDE] = "override",
	[RPC_ACT_STALE_HEAD] = "stale_head",
	[RPC_ACT_NULL_RECEIPT] = "null_receipt",
	[RPC_ACT_CHAIN_ID] = "chain_id",
	[RPC_ACT_BATCH_DROP] = "batch_drop",
	[RPC_ACT_BATCH_REORDER] = "batch_reorder",
	[RPC_ACT_BATCH_NULL_ID] = "batch_null_id",
};

const char *rpc_action_name(enum rpc_action a)
{
	if ((unsigned)a >= RPC_ACT_COUNT_)
		return "unknown";
	return rpc_action_names[a];
}

void rpc_rule_init(struct rpc_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->batch_index = -1;
	r->probability = 1.0;
	r->burst = 1.0;
	r->resp.status = 200;
}

void rpc_rule_cleanup(struct rpc_rule *r)
{
	size_t i;

	if (!r)
		return;
	free(r->method);
	for (i = 0; i < r->nparams; i++) {
		free(r->params[i].ptr);
		json_decref(r->params[i].equals);
		free(r->params[i].matches);
		if (r->params[i].re_ok)
			regfree(&r->params[i].re);
	}
	free(r->params);
	free(r->resp.headers);
	free(r->resp.body);
	json_decref(r->resp.error);
	json_decref(r->set);
	memset(r, 0, sizeof(*r));
}

int rpc_rule_compile(struct rpc_rule *r, struct err *err)
{
	size_t i;

	for (i = 0; i < r->nparams; i++) {
		struct rpc_param_match *m = &r->params[i];
		int rc;

		if (!m->matches || m->re_ok)
			continue;
		rc = regcomp(&m->re, m->matches, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[256];

			regerror(rc, &m->re, msg, sizeof(msg));
			return err_set(err, -EINVAL, "bad regular expression \"%s\": %s", m->matches,
				       msg);
		}
		m->re_ok = 1;
	}
	return 0;
}

int rpc_glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	/* Iterative matcher with one backtrack point: linear in practice, no recursion. */
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* Hex strings compare case-insensitively: addresses come in both cases. */
static int rpc_value_equal(json_t *a, json_t *b)
{
	if (json_is_string(a) && json_is_string(b)) {
		const char *x = json_string_value(a), *y = json_string_value(b);

		if ((x[0] == '0' && (x[1] == 'x' || x[1] == 'X')) &&
		    (y[0] == '0' && (y[1] == 'x' || y[1] == 'X')))
			return strcasecmp(x, y) == 0;
	}
	return json_equal(a, b);
}

/* Methods whose block argument means "latest" when it says so or is left out. */
static const struct {
	const char *method;
	size_t index;
} rpc_block_args[] = {
	{ "eth_getBalance", 1 },          { "eth_getCode", 1 },
	{ "eth_getTransactionCount", 1 }, { "eth_call", 1 },
	{ "eth_getStorageAt", 2 },        { "eth_getBlockByNumber", 0 },
	{ "eth_estimateGas", 1 },
};

static long rpc_block_arg(const char *method)
{
	size_t i;

	if (!method)
		return -1;
	for (i = 0; i < sizeof(rpc_block_args) / sizeof(rpc_block_args[0]); i++)
		if (strcmp(rpc_block_args[i].method, method) == 0)
			return (long)rpc_block_args[i].index;
	return -1;
}

/* 1 when a call's block argument is "latest" (explicitly or by omission). */
static int rpc_reads_latest(const char *method, json_t *params)
{
	long idx = rpc_block_arg(method);
	json_t *v;

	if (idx < 0)
		return 0;
	if (!json_is_array(params))
		return 0;
	if (json_array_size(params) == (size_t)idx)
		return idx > 0; /* omitted block tag defaults to latest (not for getBlockByNumber) */
	v = json_array_get(params, (size_t)idx);
	return json_is_string(v) && strcmp(json_string_value(v), "latest") == 0;
}

int rpc_rule_match(const struct rpc_rule *r, const char *method, json_t *params, int in_batch,
		   size_t index)
{
	size_t i;

	if (r->method) {
		if (!method || !rpc_glob_match(r->method, method))
			return 0;
	}
	switch (r->action) {
	case RPC_ACT_NULL_RECEIPT:
		if (!method || (!r->method && strcmp(method, "eth_getTransactionReceipt") != 0))
			return 0;
		break;
	case RPC_ACT_CHAIN_ID:
		if (!method || (strcmp(method, "eth_chainId") != 0 &&
				strcmp(method, "net_version") != 0))
			return 0;
		break;
	case RPC_ACT_STALE_HEAD:
		if (!method || (strcmp(method, "eth_blockNumber") != 0 &&
				!rpc_reads_latest(method, params)))
			return 0;
		break;
	case RPC_ACT_BATCH_DROP:
	case RPC_ACT_BATCH_REORDER:
	case RPC_ACT_BATCH_NULL_ID:
		if (!in_batch)
			return 0;
		break;
	case RPC_ACT_ERROR:
	case RPC_ACT_OVERRIDE:
		if (!method)
			return 0; /* call-level actions need a call */
		break;
	default:
		break;
	}
	if (r->batch_index >= 0 && (!in_batch || (size_t)r->batch_index != index))
		return 0;
	for (i = 0; i < r->nparams; i++) {
		const struct rpc_param_match *m = &r->params[i];
		json_t *v = params ? jptr_get(params, m->ptr) : NULL;

		if (!v)
			return 0;
		if (m->equals && !rpc_value_equal(v, m->equals))
			return 0;
		if (m->matches) {
			if (!m->re_ok || !json_is_string(v) ||
			    regexec(&m->re, json_string_value(v), 0, NULL, 0) != 0)
				return 0;
		}
	}
	return 1;
}

long rpc_match_body(const char *body, size_t len, const struct rpc_rule *const *rules,
		    size_t nrules, long *out, size_t max_out)
{
	json_error_t jerr;
	json_t *doc, *call;
	size_t n, i, k;
	int batch;

	doc = json_loadb(body, len, 0, &jerr);
	if (!doc)
		return -1;
	batch = json_is_array(doc);
	n = batch ? json_array_size(doc) : 1;
	for (i = 0; i < n && i < max_out; i++) {
		const char *method = NULL;
		json_t *params = NULL, *m;

		call = batch ? json_array_get(doc, i) : doc;
		if (json_is_object(call)) {
			m = json_object_get(call, "method");
			if (json_is_string(m))
				method = json_string_value(m);
			params = json_object_get(call, "params");
		}
		out[i] = -1;
		for (k = 0; k < nrules; k++) {
			if (rpc_rule_match(rules[k], method, params, batch, i)) {
				out[i] = (long)k;
				break;
			}
		}
	}
	json_decref(doc);
	return (long)n;
}

void rpc_bucket_init(struct rpc_bucket *b, double rate, double burst, uint64_t now_us)
{
	b->rate = rate;
	b->burst = burst < 1.0 ? 1.0 : burst;
	b->tokens = b->burst;
	b->last_us = now_us;
}

int rpc_bucket_take(struct rpc_bucket *b, uint64_t now_us)
{
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) * b->rate / 1e6;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_us = now_us;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 1;
	}
	return 0;
}

int rpc_override_apply(json_t *reply, json_t *set)
{
	const char *key;
	json_t *val, *result;
	int n = 0;

	if (!json_is_object(reply) || !json_is_object(set))
		return 0;
	json_object_foreach(set, key, val) {
		result = json_object_get(reply, "result");
		if (!result)
			return n;
		if (*key == '\0') {
			if (json_object_set(reply, "result", val) == 0)
				n++;
		} else if (jptr_set(result, key, val) == 0) {
			n++;
		}
	}
	return n;
}

/* ---- the proxy ---- */

struct rpc_slot {
	int id;
	const struct rpc_rule *rule;
	uint64_t added_us;
	uint64_t seen;          /* calls that passed the static matchers in the window */
	struct rpc_bucket bucket;
	int head_known;         /* stale_head, frozen: the head it shows */
	uint64_t head;
	uint64_t rng;
	struct rpc_slot *next;
};

struct rpc_call {
	const char *method;     /* NULL: not a JSON-RPC call */
	json_t *obj;            /* borrowed from the exchange's document */
	json_t *params;
	json_t *id;             /* NULL: absent */
	struct rpc_slot *slot;  /* the rule deciding this call, or NULL */
	json_t *reply;          /* owned */
	int upstream;           /* sent upstream */
	int head_call;          /* eth_blockNumber: maybe patched or answered */
	uint64_t lag;           /* a "latest" read to send lag blocks behind the head */
};

enum rpc_conn_state {
	RPC_CONN_READ,          /* waiting for (the rest of) a request */
	RPC_CONN_BUSY,          /* an exchange is in flight */
	RPC_CONN_WRITE,         /* sending an answer */
	RPC_CONN_HANG,          /* a rule holds the connection without answering */
};

struct rpc_conn;

struct rpc_ex {
	struct rpc_conn *conn;
	struct http_request req;
	uint64_t start_us;
	json_t *doc;
	int is_batch;
	struct rpc_call *calls;
	size_t ncalls;
	char methods[RPC_METHODS_MAX];
	int rule_id;            /* the rule that acted (first one), 0: none */
	const char *action;
	uint64_t delay_us;
	int truncate;
	size_t truncate_bytes;
	int reorder;
	int modified;           /* the upstream body must be rebuilt */
	int synth;              /* some call is answered by the proxy */
	int edit;               /* some upstream reply must be edited */
	int track;              /* a reply may reveal the chain head */
	int probe;              /* RPC_PROBE_*: asking the head before the request */
	int status;             /* status for a single faked call, 0: upstream's */
	CURL *easy;
	struct upstream_req *ureq;  /* the native leg's request in flight */
	struct curl_slist *hdrs;
	char *url;
	char *up_body;
	size_t up_len;
	struct buf up_head;
	struct buf up_data;
	struct buf answer;      /* the complete answer, while a delay runs */
	int answer_status;
	struct loop_timer *timer;
};

struct rpc_conn {
	struct rpc_proxy *p;
	int fd;
	enum rpc_conn_state state;
	struct buf in;
	struct buf out;
	size_t out_off;
	int close_after;        /* close once out is sent */
	int keep_alive;
	int sent_continue;
	int reading;            /* LOOP_READ is in the interest set */
	int hang_id;            /* RPC_CONN_HANG: the rule holding it */
	int depth;              /* inside rpc_conn_process: freeing is deferred */
	int again;              /* rpc_conn_process was asked again while inside */
	int closed;             /* closed; freed when depth drops to 0 */
	uint64_t req_start_us;  /* first byte of the current request, 0: none yet */
	struct rpc_ex *ex;
	struct loop_timer *timer;
	struct rpc_conn *prev, *next;   /* newest first: the list's tail is the oldest */
};

struct rpc_proxy {
	struct loop *loop;
	struct rpc_proxy_config cfg;
	char *name, *listen, *netns, *upstream;
	char **hosts;           /* NULL-terminated copy of cfg->hosts, or NULL */
	int nsfd;
	int lfd;
	int port;
	struct curlmux *mux;        /* the libcurl leg's transfers */
	struct upstream *native;    /* the native leg, or NULL: libcurl */
	struct rpc_slot *slots;
	int next_id;
	uint64_t seed;
	rpc_log_fn log_fn;
	void *log_arg;
	struct rpc_conn *conns;
	struct rpc_conn *conns_tail;   /* the oldest connection */
	int head_known;         /* newest head the upstream revealed (rpc_reply_head) */
	uint64_t head;
	CURL *pool[RPC_EASY_POOL];  /* idle easy handles, reset before reuse */
	size_t npool;
	struct rpc_proxy_stats stats;
};

void rpc_proxy_config_default(struct rpc_proxy_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->on_down = RPC_DOWN_MIRROR;
	http_limits_default(&cfg->limits);
	cfg->max_conns = 16384;
	cfg->max_response = 64 * 1024 * 1024;
	cfg->idle_timeout_us = 60 * 1000000ULL;
	cfg->request_timeout_us = 30 * 1000000ULL;
	cfg->upstream_timeout_us = 60 * 1000000ULL;
}

static void rpc_conn_close(struct rpc_conn *c, int rst);
static int rpc_ex_forward(struct rpc_ex *ex);
static void rpc_conn_flush(struct rpc_conn *c);
static void rpc_conn_process(struct rpc_conn *c);

/* Counters, window and probability: the dynamic part of matching. */
static int rpc_slot_take(struct rpc_slot *s, uint64_t now)
{
	const struct rpc_rule *r = s->rule;

	if (now < s->added_us + r->after_us)
		return 0;
	if (r->until_us && now >= s->added_us + r->until_us)
		return 0;
	s->seen++;
	if (r->first && s->seen > r->first)
		return 0;
	if (r->every_nth > 1 && s->seen % r->every_nth != 0)
		return 0;
	if (r->probability < 1.0) {
		double draw = rng_unit(&s->rng);

		if (draw >= r->probability)
			return 0;
	}
	return 1;
}

static void rpc_log(struct rpc_ex *ex, const char *action, int status)
{
	struct rpc_proxy *p = ex->conn->p;
	struct rpc_log_entry e;

	if (ex->rule_id)
		p->stats.faked++;
	if (!p->log_fn)
		return;
	e.start_us = ex->start_us;
	e.proxy = p->name;
	e.methods = ex->methods;
	e.rule_id = ex->rule_id;
	e.action = action ? action : (ex->action ? ex->action : "pass");
	e.status = status;
	e.latency_us = loop_now_us() - ex->start_us;
	p->log_fn(&e, p->log_arg);
}

/* Easy handles are kept for reuse: creating one per request costs more than resetting. */
static CURL *rpc_easy_get(struct rpc_proxy *p)
{
	CURL *h;

	if (!p->npool)
		return curl_easy_init();
	h = p->pool[--p->npool];
	curl_easy_reset(h);
	return h;
}

static void rpc_easy_put(struct rpc_proxy *p, CURL *h)
{
	if (p->npool < RPC_EASY_POOL)
		p->pool[p->npool++] = h;
	else
		curl_easy_cleanup(h);
}

static void rpc_ex_free(struct rpc_ex *ex)
{
	struct rpc_proxy *p;
	size_t i;

	if (!ex)
		return;
	p = ex->conn->p;
	if (ex->easy) {
		curl_multi_remove_handle(curlmux_multi(p->mux), ex->easy);
		rpc_easy_put(p, ex->easy);
	}
	if (ex->ureq)
		upstream_cancel(p->native, ex->ureq);
	if (ex->timer)
		loop_timer_cancel(p->loop, ex->timer);
	curl_slist_free_all(ex->hdrs);
	for (i = 0; i < ex->ncalls; i++)
		json_decref(ex->calls[i].reply);
	free(ex->calls);
	json_decref(ex->doc);
	http_request_cleanup(&ex->req);
	free(ex->url);
	free(ex->up_body);
	buf_cleanup(&ex->up_head);
	buf_cleanup(&ex->up_data);
	buf_cleanup(&ex->answer);
	free(ex);
}

/* ---- connection timers ---- */

static void rpc_conn_timeout(struct loop *l, void *arg)
{
	struct rpc_conn *c = arg;
	struct buf *o = &c->out;

	(void)l;
	c->timer = NULL;
	if (c->state == RPC_CONN_READ && c->in.len > 0 && c->out.len == c->out_off) {
		/* a request started but did not finish in time */
		buf_reset(o);
		c->out_off = 0;
		if (http_response_write(o, 408, "Content-Type: text/plain\r\n",
					"request timeout\n", 16, 0) == 0) {
			c->close_after = 1;
			c->state = RPC_CONN_WRITE;
			rpc_conn_flush(c);
			return;
		}
	}
	rpc_conn_close(c, 0);
}

/* (Re)arm the connection's timer for its state. */
static void rpc_conn_arm(struct rpc_conn *c)
{
	struct rpc_proxy *p = c->p;
	uint64_t delay = 0, now = loop_now_us();

	if (c->timer) {
		loop_timer_cancel(p->loop, c->timer);
		c->timer = NULL;
	}
	switch (c->state) {
	case RPC_CONN_READ:
		if (c->in.len == 0) {
			delay = p->cfg.idle_timeout_us;
		} else {
			uint64_t end = c->req_start_us + p->cfg.request_timeout_us;

			delay = end > now ? end - now : 1;
		}
		break;
	case RPC_CONN_WRITE:
		delay = p->cfg.request_timeout_us;
		break;
	default:
		return; /* busy: the upstream timeout covers it; hang: the rule decides */
	}
	c->timer = loop_timer_add(p->loop, delay, rpc_conn_timeout, c);
}

/* ---- connections ---- */

static void rpc_conn_close(struct rpc_conn *c, int rst)
{
	struct rpc_proxy *p = c->p;

	if (c->closed)
		return;
	c->closed = 1;
	if (c->ex) {
		rpc_ex_free(c->ex);
		c->ex = NULL;
	}
	if (c->timer)
		loop_timer_cancel(p->loop, c->timer);
	loop_fd_del(p->loop, c->fd);
	if (rst) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd);
	buf_cleanup(&c->in);
	buf_cleanup(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		p->conns_tail = c->prev;
	p->stats.conns_open--;
	if (!c->depth)
		free(c);
}

static void rpc_conn_interest(struct rpc_conn *c)
{
	unsigned ev = 0;

	c->reading = c->in.len < c->in.max;
	if (c->reading)
		ev |= LOOP_READ;
	if (c->out.len > c->out_off)
		ev |= LOOP_WRITE;
	loop_fd_mod(c->p->loop, c->fd, ev);
}

/* Send what is queued; when done, close or go back to reading. */
static void rpc_conn_flush(struct rpc_conn *c)
{
	while (c->out.len > c->out_off) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				rpc_conn_interest(c);
				return;
			}
			if (errno == EINTR)
				continue;
			rpc_conn_close(c, 0);
			return;
		}
		c->out_off += (size_t)n;
	}
	buf_reset(&c->out);
	buf_shrink(&c->out, RPC_KEEP_BUF);
	c->out_off = 0;
	if (c->state != RPC_CONN_WRITE) {
		rpc_conn_interest(c);
		return; /* e.g. "100 Continue" sent while reading */
	}
	if (c->close_after) {
		shutdown(c->fd, SHUT_WR);
		rpc_conn_close(c, 0);
		return;
	}
	c->state = RPC_CONN_READ;
	c->req_start_us = c->in.len ? loop_now_us() : 0;
	rpc_conn_process(c);
}

/* Queue a complete answer for the current exchange and finish it. */
static void rpc_ex_send(struct rpc_ex *ex)
{
	struct rpc_conn *c = ex->conn;
	const char *data = ex->answer.data ? ex->answer.data : "";
	size_t len = ex->answer.len;
	int rc;

	if (ex->truncate) {
		/* keep the head and the first N body bytes; the client sees a short body */
		const char *end = strstr(data, "\r\n\r\n");
		size_t head = end ? (size_t)(end - data) + 4 : len;

		if (head + ex->truncate_bytes < len)
			len = head + ex->truncate_bytes;
		c->close_after = 1;
	} else {
		c->close_after = !c->keep_alive;
	}
	rc = buf_append(&c->out, data, len);
	rpc_log(ex, NULL, ex->answer_status);
	rpc_ex_free(ex);
	c->ex = NULL;
	if (rc) {
		rpc_conn_close(c, 1);
		return;
	}
	c->state = RPC_CONN_WRITE;
	rpc_conn_arm(c);
	rpc_conn_flush(c);
}

static void rpc_ex_delay_done(struct loop *l, void *arg)
{
	struct rpc_ex *ex = arg;

	(void)l;
	ex->timer = NULL;
	rpc_ex_send(ex);
}

/*
 * Answer the exchange with status, headers and body, after any delay a rule
 * asked for.
 */
static void rpc_ex_answer(struct rpc_ex *ex, int status, const char *headers, const void *body,
			  size_t len)
{
	struct rpc_conn *c = ex->conn;
	struct rpc_proxy *p = c->p;
	uint64_t now = loop_now_us(), due = ex->start_us + ex->delay_us;

	buf_init(&ex->answer, len + RPC_UP_HEAD_MAX + 256);
	if (http_response_write(&ex->answer, status, headers, body, len, c->keep_alive)) {
		rpc_log(ex, "answer-too-large", 0);
		rpc_conn_close(c, 1);
		return;
	}
	ex->answer_status = status;
	if (due > now) {
		ex->timer = loop_timer_add(p->loop, due - now, rpc_ex_delay_done, ex);
		if (ex->timer)
			return;
	}
	rpc_ex_send(ex);
}

/* A plain-text answer made by the proxy itself (bad requests, 502). */
static void rpc_ex_text(struct rpc_ex *ex, int status, const char *text)
{
	rpc_ex_answer(ex, status, "Content-Type: text/plain; charset=utf-8\r\n", text,
		      strlen(text));
}

/* End the exchange without an answer: reset, close or hang. */
static void rpc_ex_drop(struct rpc_ex *ex, enum rpc_action how, const char *action)
{
	struct rpc_conn *c = ex->conn;

	rpc_log(ex, action, 0);
	if (how == RPC_ACT_HANG) {
		c->hang_id = ex->rule_id;
		rpc_ex_free(ex);
		c->ex = NULL;
		c->state = RPC_CONN_HANG;
		rpc_conn_arm(c);
		rpc_conn_interest(c);
		return;
	}
	rpc_conn_close(c, how == RPC_ACT_RESET);
}

static json_t *rpc_envelope(json_t *id, json_t *error, json_t *result)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	json_object_set(o, "id", id ? id : json_null());
	if (error)
		json_object_set(o, "error", error);
	else
		json_object_set(o, "result", result ? result : json_null());
	return o;
}

static const char *rpc_default_type(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i < len && (body[i] == '{' || body[i] == '['))
		return "Content-Type: application/json\r\n";
	return "Content-Type: text/plain; charset=utf-8\r\n";
}

/* Answer with a rule's made-up response (status, rate limit). */
static void rpc_ex_respond(struct rpc_ex *ex, const struct rpc_response *r)
{
	int status = r->status ? r->status : 200;
	char *text = NULL;
	size_t i;

	if (r->error) {
		json_t *out;

		if (ex->is_batch) {
			out = json_array();
			for (i = 0; out && i < ex->ncalls; i++)
				json_array_append_new(out, rpc_envelope(ex->calls[i].id, r->error,
									NULL));
		} else {
			out = rpc_envelope(ex->ncalls ? ex->calls[0].id : NULL, r->error, NULL);
		}
		text = out ? json_dumps(out, JSON_COMPACT) : NULL;
		json_decref(out);
		if (!text) {
			rpc_ex_text(ex, 500, "doorjam: out of memory\n");
			return;
		}
		rpc_ex_answer(ex, status,
			      r->headers ? r->headers : "Content-Type: application/json\r\n", text,
			      strlen(text));
		free(text);
		return;
	}
	rpc_ex_answer(ex, status,
		      r->headers ? r->headers : rpc_default_type(r->body ? r->body : "", r->body_len),
		      r->body ? r->body : "", r->body_len);
}

static void rpc_hex(char *out, size_t n, uint64_t v)
{
	snprintf(out, n, "0x%" PRIx64, v);
}

/* A "0x..." quantity; 1 when s is one and fits 64 bits. */
static int rpc_parse_quantity(json_t *v, uint64_t *out)
{
	const char *s;
	char *end;
	unsigned long long n;

	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	if (strncmp(s, "0x", 2) != 0 || !s[2] || strlen(s) > 18)
		return 0;
	errno = 0;
	n = strtoull(s + 2, &end, 16);
	if (errno || *end)
		return 0;
	*out = n;
	return 1;
}

/* Which head a call asks for: 0 none, 1 eth_blockNumber, 2 "latest" block, 3 "pending". */
static int rpc_head_kind(const char *method, json_t *params)
{
	json_t *tag;

	if (!method)
		return 0;
	if (strcmp(method, "eth_blockNumber") == 0)
		return 1;
	if (strcmp(method, "eth_getBlockByNumber") != 0 || !json_is_array(params))
		return 0;
	tag = json_array_get(params, 0);
	if (!json_is_string(tag))
		return 0;
	if (strcmp(json_string_value(tag), "latest") == 0)
		return 2;
	if (strcmp(json_string_value(tag), "pending") == 0)
		return 3;
	return 0;
}

int rpc_reply_head(const char *method, json_t *params, json_t *reply, uint64_t *head)
{
	json_t *result = json_is_object(reply) ? json_object_get(reply, "result") : NULL;
	uint64_t v;

	switch (rpc_head_kind(method, params)) {
	case 1:
		if (!rpc_parse_quantity(result, &v))
			return 0;
		break;
	case 2:
		if (!json_is_object(result) ||
		    !rpc_parse_quantity(json_object_get(result, "number"), &v))
			return 0;
		break;
	case 3:
		/* the pending block is the one being built on top of the head */
		if (!json_is_object(result) ||
		    !rpc_parse_quantity(json_object_get(result, "number"), &v) || v == 0)
			return 0;
		v--;
		break;
	default:
		return 0;
	}
	*head = v;
	return 1;
}

/*
 * Learn the head from the reply to a call that went upstream. The proxy
 * keeps the newest head it has seen: answers to concurrent requests may
 * arrive out of order, and an older one must not move the head back.
 */
static int rpc_learn_head(struct rpc_proxy *p, const struct rpc_call *call, json_t *reply)
{
	struct rpc_slot *s;
	uint64_t v;

	if (!call->upstream || !rpc_reply_head(call->method, call->params, reply, &v))
		return 0;
	if (!p->head_known || v > p->head)
		p->head = v;
	p->head_known = 1;
	/* frozen rules applied before any head was known freeze at the first one */
	for (s = p->slots; s; s = s->next) {
		if (s->rule->action == RPC_ACT_STALE_HEAD && !s->rule->lag && !s->head_known) {
			s->head = p->head;
			s->head_known = 1;
		}
	}
	return 1;
}

/* Send a "latest" read for block number `block` instead. */
static void rpc_call_set_block(struct rpc_ex *ex, struct rpc_call *call, uint64_t block)
{
	long idx = rpc_block_arg(call->method);
	char v[32];

	rpc_hex(v, sizeof(v), block);
	if ((size_t)idx == json_array_size(call->params))
		json_array_append_new(call->params, json_string(v));
	else
		json_array_set_new(call->params, (size_t)idx, json_string(v));
	ex->modified = 1;
}

/* Decide every call's fate. Returns 1 when the exchange was answered already. */
static int rpc_ex_plan(struct rpc_ex *ex)
{
	struct rpc_proxy *p = ex->conn->p;
	uint64_t now = ex->start_us;
	struct rpc_slot *s;
	size_t i;

	/* Rate limits first: one token per request that has a matching call. */
	for (s = p->slots; s; s = s->next) {
		int hit = 0;

		if (s->rule->action != RPC_ACT_RATE_LIMIT)
			continue;
		for (i = 0; i < ex->ncalls && !hit; i++)
			hit = rpc_rule_match(s->rule, ex->calls[i].method, ex->calls[i].params,
					     ex->is_batch, i);
		if (!hit || !rpc_slot_take(s, now))
			continue;
		if (!rpc_bucket_take(&s->bucket, now)) {
			ex->rule_id = s->id;
			ex->action = "rate_limit";
			rpc_ex_respond(ex, &s->rule->resp);
			return 1;
		}
	}
	for (i = 0; i < ex->ncalls; i++) {
		struct rpc_call *call = &ex->calls[i];

		for (s = p->slots; s; s = s->next) {
			if (s->rule->action == RPC_ACT_RATE_LIMIT)
				continue;
			if (!rpc_rule_match(s->rule, call->method, call->params, ex->is_batch, i))
				continue;
			if (rpc_slot_take(s, now)) {
				call->slot = s;
				break;
			}
		}
		switch (rpc_head_kind(call->method, call->params)) {
		case 0:
			break;
		case 1:
			call->head_call = 1;
			/* fall through */
		default:
			ex->track = 1;
			break;
		}
		if (!call->slot)
			continue;
		s = call->slot;
		if (!ex->rule_id) {
			ex->rule_id = s->id;
			ex->action = rpc_action_name(s->rule->action);
		}
		switch (s->rule->action) {
		case RPC_ACT_STATUS:
			ex->rule_id = s->id;
			ex->action = "status";
			rpc_ex_respond(ex, &s->rule->resp);
			return 1;
		case RPC_ACT_HANG:
		case RPC_ACT_RESET:
		case RPC_ACT_CLOSE:
			ex->rule_id = s->id;
			rpc_ex_drop(ex, s->rule->action, rpc_action_name(s->rule->action));
			return 1;
		case RPC_ACT_DELAY:
			if (s->rule->delay_us > ex->delay_us)
				ex->delay_us = s->rule->delay_us;
			break;
		case RPC_ACT_TRUNCATE:
			if (!ex->truncate) {
				ex->truncate = 1;
				ex->truncate_bytes = s->rule->bytes;
			}
			break;
		case RPC_ACT_ERROR:
			call->reply = rpc_envelope(call->id, s->rule->resp.error, NULL);
			ex->synth = 1;
			if (!ex->is_batch && s->rule->resp.status)
				ex->status = s->rule->resp.status;
			break;
		case RPC_ACT_NULL_RECEIPT:
			call->reply = rpc_envelope(call->id, NULL, json_null());
			ex->synth = 1;
			break;
		case RPC_ACT_CHAIN_ID: {
			char v[32];
			json_t *res;

			if (strcmp(call->method, "net_version") == 0)
				snprintf(v, sizeof(v), "%" PRIu64, s->rule->chain_id);
			else
				rpc_hex(v, sizeof(v), s->rule->chain_id);
			res = json_string(v);
			call->reply = rpc_envelope(call->id, NULL, res);
			json_decref(res);
			ex->synth = 1;
			break;
		}
		case RPC_ACT_STALE_HEAD: {
			const struct rpc_rule *r = s->rule;
			int known = s->head_known;
			uint64_t head = s->head;
			char v[32];

			if (call->head_call) {
				json_t *res;

				if (r->lag) {
					ex->edit = 1; /* patch the real answer */
					break;
				}
				if (!s->head_known)
					break; /* the real answer is the head the rule freezes at */
				rpc_hex(v, sizeof(v), s->head);
				res = json_string(v);
				call->reply = rpc_envelope(call->id, NULL, res);
				json_decref(res);
				call->head_call = 0;
				ex->synth = 1;
			} else if (r->lag) {
				/*
				 * A lagging head must keep moving with the real one, which
				 * a rewritten read no longer reveals: ask the upstream for
				 * its head first, then send the read for head - lag.
				 */
				call->lag = r->lag;
				ex->probe = RPC_PROBE_PENDING;
			} else if (known) {
				rpc_call_set_block(ex, call, head);
			}
			/* else: the first real answer teaches the frozen head (rpc_learn_head) */
			break;
		}
		case RPC_ACT_OVERRIDE:
		case RPC_ACT_BATCH_DROP:
		case RPC_ACT_BATCH_NULL_ID:
			ex->edit = 1;
			break;
		case RPC_ACT_BATCH_REORDER:
			ex->reorder = 1;
			ex->edit = 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Build the body of the final answer from the calls' replies. Caller frees. */
static char *rpc_ex_compose(struct rpc_ex *ex)
{
	struct rpc_proxy *p = ex->conn->p;
	json_t *out = NULL;
	char *text;
	size_t i;

	if (ex->is_batch && !(out = json_array()))
		return NULL;
	for (i = 0; i < ex->ncalls; i++) {
		struct rpc_call *call = &ex->calls[i];
		enum rpc_action a = call->slot ? call->slot->rule->action : RPC_ACT_COUNT_;

		if (!call->reply)
			continue;
		if (rpc_learn_head(p, call, call->reply) && call->head_call &&
		    a == RPC_ACT_STALE_HEAD && call->slot->rule->lag) {
			uint64_t lag = call->slot->rule->lag;
			char v[32];

			rpc_hex(v, sizeof(v), p->head > lag ? p->head - lag : 0);
			json_object_set_new(call->reply, "result", json_string(v));
		}
		if (a == RPC_ACT_OVERRIDE)
			rpc_override_apply(call->reply, call->slot->rule->set);
		if (a == RPC_ACT_BATCH_NULL_ID)
			json_object_set_new(call->reply, "id", json_null());
		if (a == RPC_ACT_BATCH_DROP)
			continue;
		if (!ex->is_batch) {
			out = json_incref(call->reply);
			break;
		}
		json_array_append(out, call->reply);
	}
	if (ex->reorder && out) {
		size_t n = json_array_size(out);

		for (i = 0; i < n / 2; i++) {
			json_t *a = json_incref(json_array_get(out, i));

			json_array_set(out, i, json_array_get(out, n - 1 - i));
			json_array_set_new(out, n - 1 - i, a);
		}
	}
	if (!out)
		return strdup("");
	text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return text;
}

/* Distribute an upstream reply document over the calls sent upstream. */
static int rpc_ex_assign(struct rpc_ex *ex, json_t *reply)
{
	size_t i, k, n;
	char *used = NULL;

	if (!ex->is_batch) {
		for (i = 0; i < ex->ncalls; i++) {
			if (ex->calls[i].upstream) {
				if (!json_is_object(reply))
					return -1;
				ex->calls[i].reply = json_incref(reply);
				return 0;
			}
		}
		return -1;
	}
	if (!json_is_array(reply))
		return -1;
	n = json_array_size(reply);
	used = calloc(n + 1, 1);
	if (!used)
		return -1;
	for (i = 0; i < ex->ncalls; i++) {
		struct rpc_call *call = &ex->calls[i];

		if (!call->upstream || !call->id)
			continue;
		for (k = 0; k < n; k++) {
			json_t *r = json_array_get(reply, k);

			if (!used[k] && json_is_object(r) &&
			    json_equal(json_object_get(r, "id"), call->id)) {
				used[k] = 1;
				call->reply = json_incref(r);
				break;
			}
		}
	}
	free(used);
	return 0;
}

/*
 * The upstream leg failed. how is what the client sees in mirror mode:
 * RPC_ACT_HANG (the upstream went silent: so does the proxy, until the
 * client gives up), RPC_ACT_CLOSE (it closed without an answer) or
 * RPC_ACT_RESET (refused, reset, unreachable, cut mid-body, malformed).
 */
static void rpc_ex_upstream_failed(struct rpc_ex *ex, enum rpc_action how, const char *why)
{
	struct rpc_proxy *p = ex->conn->p;
	char text[512];

	p->stats.upstream_errors++;
	if (p->cfg.on_down == RPC_DOWN_502) {
		snprintf(text, sizeof(text), "doorjam: upstream %s (%s) failed: %s\n", p->name,
			 p->upstream, why);
		ex->action = "upstream-down";
		rpc_ex_text(ex, 502, text);
		return;
	}
	rpc_ex_drop(ex, how, "upstream-down");
}

static void rpc_ex_curl_failed(struct rpc_ex *ex, CURLcode rc)
{
	enum rpc_action how = RPC_ACT_RESET;

	if (rc == CURLE_OPERATION_TIMEDOUT)
		how = RPC_ACT_HANG;
	else if (rc == CURLE_GOT_NOTHING)
		how = RPC_ACT_CLOSE;
	rpc_ex_upstream_failed(ex, how, curl_easy_strerror(rc));
}

static void rpc_ex_upstream_reply(struct rpc_ex *ex, int status);
static void rpc_ex_probe_done(struct rpc_ex *ex);

/* The native leg finished: take its answer's buffers, or mirror its failure. */
static void rpc_native_done(void *arg, enum upstream_status st, struct httpresp *resp)
{
	struct rpc_ex *ex = arg;
	struct buf tmp;

	ex->ureq = NULL;
	if (st != UPSTREAM_OK) {
		enum rpc_action how = RPC_ACT_RESET;

		if (st == UPSTREAM_ETIMEOUT)
			how = RPC_ACT_HANG;
		else if (st == UPSTREAM_EEMPTY)
			how = RPC_ACT_CLOSE;
		rpc_ex_upstream_failed(ex, how, upstream_strerror(st));
		return;
	}
	tmp = ex->up_head;
	ex->up_head = resp->headers;
	resp->headers = tmp;
	tmp = ex->up_data;
	ex->up_data = resp->body;
	resp->body = tmp;
	if (ex->probe == RPC_PROBE_PENDING) {
		rpc_ex_probe_done(ex);
		return;
	}
	rpc_ex_upstream_reply(ex, resp->status);
}

/*
 * The head probe answered: learn the head, point the lagging reads at
 * head - lag, and send the request itself. Without a head (the upstream
 * answered the probe with an error, say) they go as the client sent them.
 */
static void rpc_ex_probe_done(struct rpc_ex *ex)
{
	struct rpc_proxy *p = ex->conn->p;
	struct rpc_call probe = { .method = "eth_blockNumber", .upstream = 1 };
	json_t *reply = json_loadb(ex->up_data.data ? ex->up_data.data : "", ex->up_data.len, 0,
				   NULL);
	size_t i;

	rpc_learn_head(p, &probe, reply);
	json_decref(reply);
	for (i = 0; i < ex->ncalls && p->head_known; i++) {
		uint64_t lag = ex->calls[i].lag;

		if (lag)
			rpc_call_set_block(ex, &ex->calls[i], p->head > lag ? p->head - lag : 0);
	}
	ex->probe = RPC_PROBE_DONE;
	curl_slist_free_all(ex->hdrs);
	ex->hdrs = NULL;
	free(ex->url);
	ex->url = NULL;
	free(ex->up_body);
	ex->up_body = NULL;
	buf_cleanup(&ex->up_head);
	buf_cleanup(&ex->up_data);
	if (rpc_ex_forward(ex))
		rpc_ex_text(ex, 500, "doorjam: out of memory\n");
}

/* The upstream answered (or failed): build the client's answer. */
static void rpc_ex_upstream_done(struct rpc_ex *ex, CURLcode rc)
{
	long status = 0;

	curl_easy_getinfo(ex->easy, CURLINFO_RESPONSE_CODE, &status);
	rpc_easy_put(ex->conn->p, ex->easy);
	ex->easy = NULL;
	if (rc != CURLE_OK || status < 100 || status > 999) {
		rpc_ex_curl_failed(ex, rc != CURLE_OK ? rc : CURLE_WEIRD_SERVER_REPLY);
		return;
	}
	if (ex->probe == RPC_PROBE_PENDING) {
		rpc_ex_probe_done(ex);
		return;
	}
	rpc_ex_upstream_reply(ex, (int)status);
}

/* The upstream answered with status, ex->up_head and ex->up_data: build the client's answer. */
static void rpc_ex_upstream_reply(struct rpc_ex *ex, int status)
{
	json_error_t jerr;
	json_t *reply = NULL;
	char *text;

	if (!ex->synth && !ex->edit && !ex->track) {
		rpc_ex_answer(ex, (int)status, ex->up_head.data, ex->up_data.data,
			      ex->up_data.len);
		return;
	}
	reply = json_loadb(ex->up_data.data ? ex->up_data.data : "", ex->up_data.len, 0, &jerr);
	if (!ex->synth && !ex->edit) {
		/* only learning the head: the bytes go back untouched */
		size_t i;

		if (!ex->is_batch && json_is_object(reply))
			rpc_learn_head(ex->conn->p, &ex->calls[0], reply);
		for (i = 0; ex->is_batch && json_is_array(reply) && i < json_array_size(reply); i++) {
			json_t *r = json_array_get(reply, i);
			size_t k;

			for (k = 0; k < ex->ncalls; k++)
				if (ex->calls[k].id &&
				    json_equal(json_object_get(r, "id"), ex->calls[k].id))
					rpc_learn_head(ex->conn->p, &ex->calls[k], r);
		}
		json_decref(reply);
		rpc_ex_answer(ex, (int)status, ex->up_head.data, ex->up_data.data,
			      ex->up_data.len);
		return;
	}
	if (!reply || rpc_ex_assign(ex, reply) != 0) {
		/* not JSON-RPC (an HTML page, say): nothing to merge, pass it on */
		json_decref(reply);
		rpc_ex_answer(ex, (int)status, ex->up_head.data, ex->up_data.data,
			      ex->up_data.len);
		return;
	}
	json_decref(reply);
	text = rpc_ex_compose(ex);
	if (!text) {
		rpc_ex_text(ex, 500, "doorjam: out of memory\n");
		return;
	}
	rpc_ex_answer(ex, ex->status ? ex->status : (int)status, ex->up_head.data, text,
		      strlen(text));
	free(text);
}

/* ---- curl glue ---- */

static size_t rpc_curl_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct rpc_ex *ex = arg;

	if (buf_append(&ex->up_data, ptr, size * nmemb))
		return 0; /* over max_response: curl aborts the transfer */
	return size * nmemb;
}

static size_t rpc_curl_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct rpc_ex *ex = arg;
	size_t n = size * nmemb, name;
	const char *colon;

	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		buf_reset(&ex->up_head); /* a new header block (after 1xx) */
		return n;
	}
	colon = memchr(ptr, ':', n);
	if (!colon)
		return n; /* the empty line, or junk curl tolerated */
	name = (size_t)(colon - ptr);
	if (http_header_is_hop(ptr, name))
		return n;
	if (buf_append(&ex->up_head, ptr, n))
		return 0;
	if (n < 2 || ptr[n - 2] != '\r') {
		/* normalise a bare LF line ending */
		ex->up_head.len--;
		if (buf_append(&ex->up_head, "\r\n", 2))
			return 0;
	}
	return n;
}

static curl_socket_t rpc_curl_opensocket(void *arg, curlsocktype purpose,
					 struct curl_sockaddr *a)
{
	struct rpc_proxy *p = arg;
	struct err err;
	int fd;

	(void)purpose;
	fd = netns_socket(p->nsfd, a->family, a->socktype, a->protocol, &err);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* A finished libcurl transfer (already out of the multi handle). */
static void rpc_curl_done(CURL *easy, CURLcode result, void *arg)
{
	struct rpc_ex *ex = NULL;

	(void)arg;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ex);
	if (ex)
		rpc_ex_upstream_done(ex, result);
}

/* Client request headers that must not go upstream. */
static int rpc_skip_request_header(const char *name)
{
	static const char *const skip[] = {
		"host", "content-length", "expect", "accept-encoding", NULL,
	};
	size_t i;

	if (http_header_is_hop(name, strlen(name)))
		return 1;
	for (i = 0; skip[i]; i++)
		if (strcasecmp(skip[i], name) == 0)
			return 1;
	return 0;
}

/* Send the prepared body through the native leg, with the client's end-to-end headers. */
static int rpc_ex_forward_native(struct rpc_ex *ex)
{
	struct rpc_proxy *p = ex->conn->p;
	const struct http_request *rq = &ex->req;
	struct buf hdrs;
	struct err err;
	size_t i;
	int rc = 0;

	buf_init(&hdrs, RPC_UP_HEAD_MAX);
	for (i = 0; i < rq->nheaders && !rc; i++) {
		if (rpc_skip_request_header(rq->headers[i].name))
			continue;
		rc = buf_printf(&hdrs, "%s: %s\r\n", rq->headers[i].name, rq->headers[i].value);
	}
	if (!rc)
		ex->ureq = upstream_send(p->native, rq->method, rq->target, hdrs.data, ex->up_body,
					 ex->up_len, rpc_native_done, ex, &err);
	buf_cleanup(&hdrs);
	if (rc || !ex->ureq)
		return -ENOMEM;
	p->stats.forwarded++;
	return 0;
}

static int rpc_ex_forward(struct rpc_ex *ex)
{
	struct rpc_proxy *p = ex->conn->p;
	const struct http_request *rq = &ex->req;
	struct curl_slist *l;
	char line[16 * 1024 + 64];
	size_t i, n;
	int have_type = 0;

	/* the body: the client's bytes, unless calls were answered or rewritten */
	if (ex->probe == RPC_PROBE_PENDING) {
		ex->up_body = strdup("{\"jsonrpc\":\"2.0\",\"id\":\"" RPC_PROBE_ID
				     "\",\"method\":\"eth_blockNumber\",\"params\":[]}");
		if (!ex->up_body)
			return -ENOMEM;
		ex->up_len = strlen(ex->up_body);
	} else if (ex->synth || ex->modified) {
		json_t *send = ex->is_batch ? json_array() : NULL;

		for (i = 0; i < ex->ncalls; i++) {
			if (ex->calls[i].reply)
				continue;
			ex->calls[i].upstream = 1;
			if (send)
				json_array_append(send, ex->calls[i].obj);
			else
				send = json_incref(ex->calls[i].obj);
		}
		ex->up_body = send ? json_dumps(send, JSON_COMPACT) : NULL;
		json_decref(send);
		if (!ex->up_body)
			return -ENOMEM;
		ex->up_len = strlen(ex->up_body);
	} else {
		for (i = 0; i < ex->ncalls; i++)
			ex->calls[i].upstream = 1;
		ex->up_body = malloc(rq->body_len + 1);
		if (!ex->up_body)
			return -ENOMEM;
		memcpy(ex->up_body, rq->body, rq->body_len + 1);
		ex->up_len = rq->body_len;
	}
	if (p->native)
		return rpc_ex_forward_native(ex);
	n = strlen(p->upstream);
	if (strcmp(rq->target, "/") == 0) {
		ex->url = strdup(p->upstream);
	} else {
		ex->url = malloc(n + strlen(rq->target) + 1);
		if (ex->url) {
			memcpy(ex->url, p->upstream, n);
			if (n && p->upstream[n - 1] == '/')
				n--;
			strcpy(ex->url + n, rq->target);
		}
	}
	ex->easy = rpc_easy_get(p);
	if (!ex->url || !ex->easy)
		return -ENOMEM;
	for (i = 0; i < rq->nheaders; i++) {
		if (rpc_skip_request_header(rq->headers[i].name))
			continue;
		if (strcasecmp(rq->headers[i].name, "content-type") == 0)
			have_type = 1;
		snprintf(line, sizeof(line), "%s: %s", rq->headers[i].name, rq->headers[i].value);
		if (!(l = curl_slist_append(ex->hdrs, line)))
			return -ENOMEM;
		ex->hdrs = l;
	}
	/* no "Expect: 100-continue", and no content type the client did not send */
	if (!(l = curl_slist_append(ex->hdrs, "Expect:")))
		return -ENOMEM;
	ex->hdrs = l;
	if (!have_type) {
		if (!(l = curl_slist_append(ex->hdrs, "Content-Type:")))
			return -ENOMEM;
		ex->hdrs = l;
	}
	buf_init(&ex->up_head, RPC_UP_HEAD_MAX);
	buf_init(&ex->up_data, p->cfg.max_response);
	curl_easy_setopt(ex->easy, CURLOPT_URL, ex->url);
	curl_easy_setopt(ex->easy, CURLOPT_PRIVATE, (char *)ex);
	curl_easy_setopt(ex->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ex->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(ex->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(ex->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(ex->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(ex->easy, CURLOPT_HTTPHEADER, ex->hdrs);
	curl_easy_setopt(ex->easy, CURLOPT_WRITEFUNCTION, rpc_curl_write);
	curl_easy_setopt(ex->easy, CURLOPT_WRITEDATA, ex);
	curl_easy_setopt(ex->easy, CURLOPT_HEADERFUNCTION, rpc_curl_header);
	curl_easy_setopt(ex->easy, CURLOPT_HEADERDATA, ex);
	curl_easy_setopt(ex->easy, CURLOPT_TIMEOUT_MS, (long)(p->cfg.upstream_timeout_us / 1000));
	if (p->nsfd != NETNS_SELF) {
		curl_easy_setopt(ex->easy, CURLOPT_OPENSOCKETFUNCTION, rpc_curl_opensocket);
		curl_easy_setopt(ex->easy, CURLOPT_OPENSOCKETDATA, p);
	}
	if (strcmp(rq->method, "GET") == 0 && ex->up_len == 0) {
		curl_easy_setopt(ex->easy, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(rq->method, "HEAD") == 0) {
		curl_easy_setopt(ex->easy, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(ex->easy, CURLOPT_POSTFIELDS, ex->up_body);
		curl_easy_setopt(ex->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ex->up_len);
		if (strcmp(rq->method, "POST") != 0)
			curl_easy_setopt(ex->easy, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	if (curl_multi_add_handle(curlmux_multi(p->mux), ex->easy) != CURLM_OK)
		return -ENOMEM;
	p->stats.forwarded++;
	return 0;
}

/* Split the body into calls. A body that is not JSON-RPC is one call without a method. */
static int rpc_ex_calls(struct rpc_ex *ex)
{
	json_error_t jerr;
	size_t i, n = 1, len = 0;

	if (ex->req.body_len)
		ex->doc = json_loadb(ex->req.body, ex->req.body_len, 0, &jerr);
	ex->is_batch = json_is_array(ex->doc) && json_array_size(ex->doc) > 0;
	if (ex->is_batch)
		n = json_array_size(ex->doc);
	ex->calls = calloc(n, sizeof(*ex->calls));
	if (!ex->calls)
		return -ENOMEM;
	ex->ncalls = n;
	for (i = 0; i < n; i++) {
		struct rpc_call *call = &ex->calls[i];
		json_t *o = ex->is_batch ? json_array_get(ex->doc, i) : ex->doc;
		json_t *m;

		if (!json_is_object(o))
			continue;
		m = json_object_get(o, "method");
		call->obj = o;
		call->id = json_object_get(o, "id");
		call->params = json_object_get(o, "params");
		if (!json_is_string(m))
			continue;
		call->method = json_string_value(m);
		if (len + strlen(call->method) + 2 < sizeof(ex->methods)) {
			if (len)
				ex->methods[len++] = ',';
			strcpy(ex->methods + len, call->method);
			len += strlen(call->method);
		}
	}
	/* calls the proxy cannot split (not objects) make the batch opaque */
	for (i = 0; ex->is_batch && i < n; i++) {
		if (!ex->calls[i].obj) {
			size_t k;

			for (k = 0; k < n; k++)
				ex->calls[k].method = NULL;
			break;
		}
	}
	return 0;
}

/* Host without its port ("a.example:8545", "[::1]:8545"), compared case-insensitively. */
static int rpc_host_allowed(const struct rpc_proxy *p, const char *host)
{
	size_t n, i;
	const char *colon;

	if (!host)
		return 0;
	if (host[0] == '[') {
		const char *e = strchr(host, ']');

		if (!e)
			return 0;
		host++;
		n = (size_t)(e - host);
	} else {
		colon = strchr(host, ':');
		n = colon ? (size_t)(colon - host) : strlen(host);
	}
	for (i = 0; p->hosts[i]; i++)
		if (strlen(p->hosts[i]) == n && strncasecmp(p->hosts[i], host, n) == 0)
			return 1;
	return 0;
}

/* A complete request arrived: take it from the connection and act. */
static void rpc_ex_start(struct rpc_conn *c, struct http_request *req)
{
	struct rpc_proxy *p = c->p;
	struct rpc_ex *ex = calloc(1, sizeof(*ex));
	const char *t;

	if (!ex) {
		http_request_cleanup(req);
		rpc_conn_close(c, 1);
		return;
	}
	ex->conn = c;
	ex->req = *req;
	http_request_init(req);
	ex->start_us = loop_now_us();
	c->ex = ex;
	c->state = RPC_CONN_BUSY;
	c->keep_alive = ex->req.keep_alive;
	c->sent_continue = 0;
	rpc_conn_arm(c);
	p->stats.requests++;
	t = ex->req.target;
	if (strcmp(ex->req.method, "CONNECT") == 0) {
		c->keep_alive = 0;
		rpc_ex_text(ex, 405, "doorjam: CONNECT is refused; this is not an open proxy\n");
		return;
	}
	if (p->hosts && !rpc_host_allowed(p, ex->req.host)) {
		c->keep_alive = 0;
		rpc_ex_text(ex, 421, "doorjam: this proxy does not serve that Host\n");
		return;
	}
	if (t[0] != '/') {
		c->keep_alive = 0;
		rpc_ex_text(ex, 403, "doorjam: only origin-form targets (\"/path\") are served; "
				     "the upstream is fixed by configuration\n");
		return;
	}
	if (rpc_ex_calls(ex)) {
		rpc_ex_text(ex, 500, "doorjam: out of memory\n");
		return;
	}
	if (rpc_ex_plan(ex))
		return;
	if (ex->synth) {
		size_t i;
		int all = 1;

		for (i = 0; i < ex->ncalls; i++)
			if (!ex->calls[i].reply)
				all = 0;
		if (all) {
			const struct rpc_slot *s0 = ex->calls[0].slot;
			const char *hdrs = "Content-Type: application/json\r\n";
			char *text = rpc_ex_compose(ex);

			if (!text) {
				rpc_ex_text(ex, 500, "doorjam: out of memory\n");
				return;
			}
			/* a single faked error keeps the headers its rule asked for */
			if (!ex->is_batch && s0 && s0->rule->action == RPC_ACT_ERROR &&
			    s0->rule->resp.headers)
				hdrs = s0->rule->resp.headers;
			rpc_ex_answer(ex, ex->status ? ex->status : 200, hdrs, text, strlen(text));
			free(text);
			return;
		}
	}
	if (rpc_ex_forward(ex)) {
		rpc_ex_text(ex, 500, "doorjam: out of memory\n");
		return;
	}
	/* curl starts the transfer from its timer callback */
}

/* Parse and start the next request, if the state allows. */
static void rpc_conn_step(struct rpc_conn *c)
{
	struct rpc_proxy *p = c->p;
	struct http_request req;
	size_t used = 0;
	int rc;

	if (c->state != RPC_CONN_READ)
		return;
	if (c->in.len == 0) {
		c->req_start_us = 0;
		buf_shrink(&c->in, RPC_KEEP_BUF);
		rpc_conn_arm(c);
		rpc_conn_interest(c);
		return;
	}
	if (!c->req_start_us)
		c->req_start_us = loop_now_us();
	http_request_init(&req);
	rc = http_request_parse(c->in.data, c->in.len, &p->cfg.limits, &req, &used);
	if (rc == HTTP_PARSE_DONE) {
		buf_consume(&c->in, used);
		c->req_start_us = 0;
		rpc_ex_start(c, &req);
		return;
	}
	if (rc == HTTP_PARSE_MORE) {
		if (req.head_len && req.expect_continue && !c->sent_continue) {
			c->sent_continue = 1;
			if (buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0)
				rpc_conn_flush(c);
			return;
		}
		if (c->in.len >= c->in.max) {
			/* chunk framing overhead beyond what the caps leave room for */
			req.status = 413;
			req.error = "request larger than the limit";
		} else {
			http_request_cleanup(&req);
			rpc_conn_arm(c);
			rpc_conn_interest(c);
			return;
		}
	}
	{
		/* malformed: answer once, then close (the byte stream cannot be trusted) */
		char text[160];
		int status = req.status ? req.status : 400;
		struct rpc_ex *ex = calloc(1, sizeof(*ex));

		snprintf(text, sizeof(text), "doorjam: %s\n", req.error ? req.error : "bad request");
		http_request_cleanup(&req);
		buf_reset(&c->in);
		if (!ex) {
			rpc_conn_close(c, 1);
			return;
		}
		ex->conn = c;
		ex->start_us = loop_now_us();
		ex->action = "bad-request";
		c->ex = ex;
		c->state = RPC_CONN_BUSY;
		c->keep_alive = 0;
		p->stats.requests++;
		rpc_ex_text(ex, status, text);
	}
}

/*
 * Run rpc_conn_step until no more work is asked for. Answers made at once
 * (faked calls, pipelined requests) come back here through rpc_conn_flush;
 * they set `again` instead of recursing, so the stack stays flat however
 * many requests a client pipelines.
 */
static void rpc_conn_process(struct rpc_conn *c)
{
	if (c->depth) {
		c->again = 1;
		return;
	}
	c->depth++;
	do {
		c->again = 0;
		rpc_conn_step(c);
	} while (c->again && !c->closed);
	c->depth--;
	if (c->closed)
		free(c);
}

static void rpc_conn_read(struct rpc_conn *c)
{
	char chunk[RPC_READ_CHUNK];
	size_t room = c->in.max - c->in.len;
	ssize_t n;

	if (room > sizeof(chunk))
		room = sizeof(chunk);
	if (room == 0) {
		rpc_conn_interest(c);
		return;
	}
	n = recv(c->fd, chunk, room, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		/* peer closed or reset: whatever was in flight is abandoned */
		if (c->ex) {
			rpc_log(c->ex, "client-gone", 0);
		}
		rpc_conn_close(c, 0);
		return;
	}
	if (c->state == RPC_CONN_HANG)
		return; /* a held connection's input is ignored */
	if (buf_append(&c->in, chunk, (size_t)n)) {
		rpc_conn_close(c, 1);
		return;
	}
	if (c->state == RPC_CONN_READ)
		rpc_conn_process(c);
	else if (c->in.len >= c->in.max)
		rpc_conn_interest(c);
}

static void rpc_conn_io(struct loop *l, int fd, unsigned events, void *arg)
{
	struct rpc_conn *c = arg;

	(void)l;
	(void)fd;
	if (events & LOOP_WRITE) {
		rpc_conn_flush(c);
		return; /* c may be gone; reading resumes on the next wakeup */
	}
	if (events & (LOOP_READ | LOOP_ERROR))
		rpc_conn_read(c);
}

/*
 * At max_conns: make room by closing (with a reset) the oldest connection
 * that is only waiting for a request, idle or half-sent, among the 64 oldest.
 * One with an exchange in flight or an answer on its way is never chosen.
 * Without this, clients that hold connections and reconnect would keep every
 * new client out; with it they only push each other out.
 */
static void rpc_evict_oldest(struct rpc_proxy *p)
{
	struct rpc_conn *c;
	int n;

	for (c = p->conns_tail, n = 0; c && n < 64; c = c->prev, n++) {
		if (c->state != RPC_CONN_READ || c->ex || c->depth)
			continue;
		p->stats.conns_evicted++;
		rpc_conn_close(c, 1);
		return;
	}
}

static void rpc_accept(struct loop *l, int fd, unsigned events, void *arg)
{
	struct rpc_proxy *p = arg;
	int i;

	(void)l;
	(void)events;
	for (i = 0; i < 64; i++) {
		struct rpc_conn *c;
		struct err err;
		int cfd, one = 1;

		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		if (p->stats.conns_open >= p->cfg.max_conns)
			rpc_evict_oldest(p);
		if (p->stats.conns_open >= p->cfg.max_conns || !(c = calloc(1, sizeof(*c)))) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(cfd);
			p->stats.conns_refused++;
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->p = p;
		c->fd = cfd;
		c->state = RPC_CONN_READ;
		buf_init(&c->in, p->cfg.limits.max_head + 2 * p->cfg.limits.max_body + 4096);
		buf_init(&c->out, p->cfg.max_response + RPC_UP_HEAD_MAX + 4096);
		if (loop_fd_add(p->loop, cfd, LOOP_READ, rpc_conn_io, c, &err)) {
			close(cfd);
			free(c);
			continue;
		}
		c->reading = 1;
		c->next = p->conns;
		if (p->conns)
			p->conns->prev = c;
		else
			p->conns_tail = c;
		p->conns = c;
		p->stats.conns_accepted++;
		p->stats.conns_open++;
		rpc_conn_arm(c);
	}
}

/* ---- setup ---- */

static int rpc_parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sl,
			    struct err *err)
{
	char host[128], *colon;
	const char *port;
	struct addrinfo hints, *res = NULL;
	size_t n = strlen(spec);
	int rc;

	if (n >= sizeof(host))
		return err_set(err, -EINVAL, "listen address \"%s\" is too long", spec);
	if (spec[0] == '[') {
		const char *close_br = strchr(spec, ']');

		if (!close_br || close_br[1] != ':')
			return err_set(err, -EINVAL, "listen address \"%s\": want [IPv6]:port", spec);
		memcpy(host, spec + 1, (size_t)(close_br - spec - 1));
		host[close_br - spec - 1] = '\0';
		port = close_br + 2;
	} else {
		strcpy(host, spec);
		colon = strrchr(host, ':');
		if (!colon)
			return err_set(err, -EINVAL, "listen address \"%s\": want IP:port", spec);
		*colon = '\0';
		port = spec + (colon - host) + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res)
		return err_set(err, -EINVAL, "listen address \"%s\": %s", spec,
			       rc ? gai_strerror(rc) : "no address");
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

struct rpc_proxy *rpc_proxy_new(struct loop *loop, const struct rpc_proxy_config *cfg,
				struct err *err)
{
	static int curl_ready;
	struct rpc_proxy *p = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int one = 1;

	if (!cfg->name || !cfg->listen || !cfg->upstream) {
		err_set(err, -EINVAL, "rpc proxy needs a name, a listen address and an upstream");
		return NULL;
	}
	if (strncmp(cfg->upstream, "http://", 7) != 0 && strncmp(cfg->upstream, "https://", 8) != 0) {
		err_set(err, -EINVAL, "rpc %s: upstream \"%s\" must be an http:// or https:// URL",
			cfg->name, cfg->upstream);
		return NULL;
	}
	if (rpc_parse_listen(cfg->listen, &ss, &sl, err))
		goto fail_noproxy;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			err_set(err, -ENOMEM, "curl_global_init failed");
			return NULL;
		}
		curl_ready = 1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	p->loop = loop;
	p->cfg = *cfg;
	p->nsfd = NETNS_SELF;
	p->lfd = -1;
	p->next_id = 1;
	p->name = strdup(cfg->name);
	p->listen = strdup(cfg->listen);
	p->upstream = strdup(cfg->upstream);
	p->netns = cfg->netns ? strdup(cfg->netns) : NULL;
	if (!p->name || !p->listen || !p->upstream || (cfg->netns && !p->netns)) {
		err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	p->cfg.name = p->name;
	p->cfg.listen = p->listen;
	p->cfg.upstream = p->upstream;
	p->cfg.netns = p->netns;
	if (cfg->hosts[0]) {
		size_t n = 0, i;

		while (n < RPC_HOSTS_MAX && cfg->hosts[n])
			n++;
		p->hosts = calloc(n + 1, sizeof(*p->hosts));
		for (i = 0; p->hosts && i < n; i++)
			if (!(p->hosts[i] = strdup(cfg->hosts[i])))
				break;
		if (!p->hosts || i < n) {
			err_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	p->cfg.hosts[0] = NULL; /* p->hosts is the proxy's own copy */
	if (p->cfg.limits.max_headers > HTTP_HEADERS_MAX || !p->cfg.limits.max_headers)
		p->cfg.limits.max_headers = HTTP_HEADERS_MAX;
	if (netns_open(cfg->netns, &p->nsfd, err))
		goto fail;
	p->lfd = netns_socket(p->nsfd, ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0, err);
	if (p->lfd < 0)
		goto fail;
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p->lfd, (struct sockaddr *)&ss, sl) < 0) {
		err_errno(err, errno, "rpc %s: bind %s", cfg->name, cfg->listen);
		goto fail;
	}
	if (listen(p->lfd, 1024) < 0) {
		err_errno(err, errno, "rpc %s: listen %s", cfg->name, cfg->listen);
		goto fail;
	}
	sl = sizeof(ss);
	if (getsockname(p->lfd, (struct sockaddr *)&ss, &sl) == 0)
		p->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	p->mux = curlmux_new(p->loop, rpc_curl_done, p, err);
	if (!p->mux)
		goto fail;
	/* keep enough idle upstream connections for a busy client side */
	curl_multi_setopt(curlmux_multi(p->mux), CURLMOPT_MAXCONNECTS, 512L);
	if (cfg->client == RPC_CLIENT_NATIVE ||
	    (cfg->client == RPC_CLIENT_AUTO && upstream_url_ok(cfg->upstream))) {
		struct upstream_config ucfg = {
			.url = p->upstream,
			.nsfd = p->nsfd,
			.max_head = RPC_UP_HEAD_MAX,
			.max_body = p->cfg.max_response,
			.timeout_us = p->cfg.upstream_timeout_us,
			.max_idle = 512,
		};

		p->native = upstream_new(loop, &ucfg, err);
		if (!p->native)
			goto fail;
	}
	if (loop_fd_add(loop, p->lfd, LOOP_READ, rpc_accept, p, err))
		goto fail;
	return p;
fail:
	err_prefix(err, "rpc %s: ", cfg->name);
	rpc_proxy_free(p);
	return NULL;
fail_noproxy:
	err_prefix(err, "rpc %s: ", cfg->name);
	return NULL;
}

void rpc_proxy_free(struct rpc_proxy *p)
{
	struct rpc_slot *s;
	size_t i;

	if (!p)
		return;
	while (p->conns)
		rpc_conn_close(p->conns, 0);
	upstream_free(p->native); /* after the connections: their exchanges cancel requests */
	if (p->lfd >= 0) {
		loop_fd_del(p->loop, p->lfd);
		close(p->lfd);
	}
	while (p->npool)
		curl_easy_cleanup(p->pool[--p->npool]);
	curlmux_free(p->mux);
	while ((s = p->slots)) {
		p->slots = s->next;
		free(s);
	}
	if (p->nsfd >= 0)
		close(p->nsfd);
	free(p->name);
	free(p->listen);
	free(p->upstream);
	free(p->netns);
	for (i = 0; p->hosts && p->hosts[i]; i++)
		free(p->hosts[i]);
	free(p->hosts);
	free(p);
}

const char *rpc_proxy_name(const struct rpc_proxy *p)
{
	return p->name;
}

int rpc_proxy_port(const struct rpc_proxy *p)
{
	return p->port;
}

void rpc_proxy_set_seed(struct rpc_proxy *p, uint64_t seed)
{
	p->seed = seed;
}

void rpc_proxy_set_log(struct rpc_proxy *p, rpc_log_fn fn, void *arg)
{
	p->log_fn = fn;
	p->log_arg = arg;
}

int rpc_proxy_rule_add(struct rpc_proxy *p, const struct rpc_rule *r, struct err *err)
{
	struct rpc_slot *s, **tail;
	size_t i;

	if ((unsigned)r->action >= RPC_ACT_COUNT_)
		return err_set(err, -EINVAL, "rpc %s: unknown action", p->name);
	for (i = 0; i < r->nparams; i++)
		if (r->params[i].matches && !r->params[i].re_ok)
			return err_set(err, -EINVAL, "rpc %s: rule regex not compiled", p->name);
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, -ENOMEM, "out of memory");
	s->id = p->next_id++;
	s->rule = r;
	s->added_us = loop_now_us();
	s->rng = p->seed ^ ((uint64_t)s->id * 0x9e3779b97f4a7c15ULL);
	rpc_bucket_init(&s->bucket, r->rps, r->burst, s->added_us);
	if (r->action == RPC_ACT_STALE_HEAD && p->head_known) {
		s->head = p->head;
		s->head_known = 1;
	}
	for (tail = &p->slots; *tail; tail = &(*tail)->next)
		;
	*tail = s;
	return s->id;
}

int rpc_proxy_rule_del(struct rpc_proxy *p, int id)
{
	struct rpc_slot **pp, *s;
	struct rpc_conn *c, *next;

	for (pp = &p->slots; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id)
			break;
	if (!*pp)
		return -ENOENT;
	s = *pp;
	*pp = s->next;
	for (c = p->conns; c; c = next) {
		next = c->next;
		if (c->state == RPC_CONN_HANG && c->hang_id == id) {
			rpc_conn_close(c, 0);
		} else if (c->ex) {
			size_t i;

			/* the exchange must not look at the slot again */
			for (i = 0; i < c->ex->ncalls; i++)
				if (c->ex->calls[i].slot == s)
					c->ex->calls[i].slot = NULL;
			if (c->ex->timer && c->ex->rule_id == id) {
				loop_timer_cancel(p->loop, c->ex->timer);
				c->ex->timer = NULL;
				rpc_ex_send(c->ex);
			}
		}
	}
	free(s);
	return 0;
}

void rpc_proxy_stats(const struct rpc_proxy *p, struct rpc_proxy_stats *out)
{
	*out = p->stats;
}
