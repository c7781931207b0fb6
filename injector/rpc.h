/*
 * rpc: doorjam's JSON-RPC proxy, which fakes provider failures in front of a
 * real upstream.
 *
 * A proxy listens on one address (optionally inside a network namespace) and
 * forwards every request to exactly one configured upstream URL, through
 * doorjam's own HTTP/1.1 client (injector/upstream) for http:// URLs with a
 * numeric address, or through libcurl's multi interface for https:// and
 * named hosts; both are driven by doorjam's event loop (curl in socket-action
 * mode: its sockets and timers are loop fds and loop timers). It is never
 * an open proxy: absolute-form targets and CONNECT are refused, and the
 * upstream is fixed by configuration.
 *
 * With no rule active, the upstream's status, end-to-end headers and body go
 * back to the client byte for byte. Rules, added and removed at run time,
 * match JSON-RPC calls (single or batch) and fake what real providers do when
 * they fail: HTTP errors and gateway pages, JSON-RPC errors, delays, hangs,
 * resets, truncated bodies, rate limits, wrong values in real results, a
 * stale chain head, null receipts, another chain id, broken batches.
 *
 * Rules are evaluated in the order they were added. For every call of a
 * request, the first rule whose matchers pass decides that call's fate.
 * HTTP-level actions (status, delay, hang, reset, close, truncate) then apply
 * to the whole request; call-level actions (error, override, stale_head,
 * null_receipt, chain_id, batch_*) to the matched calls only, so a batch
 * with one faked call keeps the others real. Rate limits are checked once per
 * request, before the other rules.
 *
 * The proxy does not read the scenario; runner/fault_rpc.c turns JSON into
 * the plain structs below.
 */
#ifndef DOORJAM_RPC_H
#define DOORJAM_RPC_H

#include <jansson.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "injector/http.h"

struct loop;
struct rpc_proxy;

#define RPC_HOSTS_MAX 16

/* What the client sees when the upstream cannot be reached or fails. */
enum rpc_down_mode {
	RPC_DOWN_MIRROR = 0,  /* as the outage looks: reset, or silence on a timeout */
	RPC_DOWN_502 = 1,     /* HTTP 502 with a text body naming the upstream and error */
};

/* Which HTTP client carries the upstream leg. */
enum rpc_upstream_client {
	RPC_CLIENT_AUTO = 0,  /* native for http:// URLs with a numeric address, else libcurl */
	RPC_CLIENT_CURL = 1,  /* libcurl always */
	RPC_CLIENT_NATIVE = 2,/* native always; other URLs are refused */
};

struct rpc_proxy_config {
	const char *name;             /* the proxy's name (faults' "upstream") */
	const char *listen;           /* "IPv4:port" or "[IPv6]:port"; port 0 picks one */
	const char *netns;            /* namespace spec for listener and upstream, or NULL */
	const char *upstream;         /* http:// or https:// URL */
	const char *hosts[RPC_HOSTS_MAX + 1]; /* Host names served (without port),
	                                 NULL-terminated; hosts[0] NULL: any Host.
	                                 Requests for other hosts get 421. */
	enum rpc_down_mode on_down;
	enum rpc_upstream_client client;
	struct http_limits limits;    /* request caps (413 / 431 beyond them) */
	size_t max_conns;             /* client connections; at the cap the oldest waiting one
				       * is closed for a new one, else the new one is refused */
	size_t max_response;          /* upstream body cap, bytes */
	uint64_t idle_timeout_us;     /* keep-alive connection with nothing sent */
	uint64_t request_timeout_us;  /* first byte to complete request; also send stalls */
	uint64_t upstream_timeout_us; /* whole upstream exchange */
};

/* Fill cfg with defaults (all strings NULL). */
void rpc_proxy_config_default(struct rpc_proxy_config *cfg);

enum rpc_action {
	RPC_ACT_STATUS,         /* answer with an HTTP status, headers, body */
	RPC_ACT_ERROR,          /* answer the call with a JSON-RPC error object */
	RPC_ACT_DELAY,          /* answer late */
	RPC_ACT_HANG,           /* never answer; keep the connection open */
	RPC_ACT_RESET,          /* TCP RST */
	RPC_ACT_CLOSE,          /* close without an answer (FIN) */
	RPC_ACT_TRUNCATE,       /* real answer cut after N body bytes, then close */
	RPC_ACT_RATE_LIMIT,     /* token bucket; over the limit answer with resp */
	RPC_ACT_OVERRIDE,       /* set values inside the real result */
	RPC_ACT_STALE_HEAD,     /* freeze or lag eth_blockNumber and "latest" reads */
	RPC_ACT_NULL_RECEIPT,   /* eth_getTransactionReceipt answers null */
	RPC_ACT_CHAIN_ID,       /* eth_chainId / net_version of another chain */
	RPC_ACT_BATCH_DROP,     /* leave the matched calls out of a batch answer */
	RPC_ACT_BATCH_REORDER,  /* answer a batch in reverse order */
	RPC_ACT_BATCH_NULL_ID,  /* answer the matched calls of a batch with id null */
	RPC_ACT_COUNT_
};

/* "status", "error", ... (the kind name without "rpc."). */
const char *rpc_action_name(enum rpc_action a);

/* A params matcher: the value at ptr inside "params" equals a value or matches a regex. */
struct rpc_param_match {
	char *ptr;              /* JSON pointer into params, e.g. "/0" */
	json_t *equals;         /* compared with json_equal; strings case-insensitively
	                           when both look like hex ("0xAB" == "0xab") */
	char *matches;          /* POSIX extended regex on a string value, or NULL */
	regex_t re;             /* compiled from matches by rpc_rule_compile */
	int re_ok;
};

/* A made-up answer. */
struct rpc_response {
	int status;             /* HTTP status */
	char *headers;          /* "Name: value\r\n" lines, or NULL */
	char *body;             /* literal body, or NULL */
	size_t body_len;
	json_t *error;          /* a JSON-RPC error object; wins over body: the body is
	                           then one envelope per call carrying the call's id */
};

/*
 * One rule: matchers and an action. Plain data, filled by the caller; strings
 * and JSON values are owned by the rule (rpc_rule_cleanup frees them).
 */
struct rpc_rule {
	enum rpc_action action;
	/* matchers (all must pass) */
	char *method;           /* glob with * and ?, NULL: any (see rpc_rule_match) */
	struct rpc_param_match *params;
	size_t nparams;
	long batch_index;       /* only this position in a batch; -1: any */
	double probability;     /* 0..1, seeded per proxy and rule */
	uint64_t first;         /* only the first N matching calls; 0: no limit */
	uint64_t every_nth;     /* only every Nth matching call; 0 or 1: all */
	uint64_t after_us;      /* window opens this long after the rule was added */
	uint64_t until_us;      /* and closes at this offset; 0: never */
	/* action parameters */
	struct rpc_response resp;   /* STATUS, ERROR, RATE_LIMIT (over the limit) */
	uint64_t delay_us;          /* DELAY */
	size_t bytes;               /* TRUNCATE: body bytes kept */
	double rps;                 /* RATE_LIMIT: refill rate */
	double burst;               /* RATE_LIMIT: bucket size (>= 1) */
	json_t *set;                /* OVERRIDE: {"/pointer/in/result": value} */
	uint64_t lag;               /* STALE_HEAD: blocks behind; 0: frozen */
	uint64_t chain_id;          /* CHAIN_ID */
};

/* Defaults: match everything, probability 1, batch_index -1, burst 1. */
void rpc_rule_init(struct rpc_rule *r);

/* Free what the rule owns; accepts NULL. */
void rpc_rule_cleanup(struct rpc_rule *r);

/* Compile regexes. Returns 0 or -EINVAL with err naming the pattern. */
int rpc_rule_compile(struct rpc_rule *r, struct err *err) __attribute__((warn_unused_result));

/* Glob match with '*' (any run) and '?' (one char). 1 on match. */
int rpc_glob_match(const char *pattern, const char *s);

/*
 * The static matchers of r against one call: method (with the action's
 * implied methods when r->method is NULL: null_receipt, chain_id and
 * stale_head only touch their methods), params, batch position. in_batch is
 * 1 for calls of a batch request; index is the call's position. method may
 * be NULL for a body that is not JSON-RPC. Counters, probability and the
 * time window are not looked at. Returns 1 on match.
 */
int rpc_rule_match(const struct rpc_rule *r, const char *method, json_t *params, int in_batch,
		   size_t index);

/*
 * Decode a request body as JSON-RPC and report, for every call, the index of
 * the first rule in rules[] whose static matchers pass, or -1 (out[i], up
 * to max_out calls). Returns the number of calls (a body that is not
 * JSON-RPC counts as one call without a method), or -1 when the body is not
 * JSON. Pure; used by tests and fuzzing.
 */
long rpc_match_body(const char *body, size_t len, const struct rpc_rule *const *rules,
		    size_t nrules, long *out, size_t max_out);

/*
 * The chain head one call's reply reveals: the result of eth_blockNumber,
 * the "number" of eth_getBlockByNumber("latest"), or that number minus one
 * for eth_getBlockByNumber("pending") (the pending block is built on top of
 * the head). method and params are the call as sent upstream (NULL allowed);
 * reply is the call's reply object. Returns 1 and sets *head when the reply
 * reveals a head, 0 otherwise (other methods, blocks asked for by number or
 * hash, errors, null results, malformed quantities). Pure.
 */
int rpc_reply_head(const char *method, json_t *params, json_t *reply, uint64_t *head);

/* A token bucket: rate tokens per second, at most burst. */
struct rpc_bucket {
	double tokens;
	double rate;
	double burst;
	uint64_t last_us;
};

/* Start full. */
void rpc_bucket_init(struct rpc_bucket *b, double rate, double burst, uint64_t now_us);

/* Take one token at now_us: 1 when taken, 0 when over the limit. */
int rpc_bucket_take(struct rpc_bucket *b, uint64_t now_us);

/*
 * Apply an override's "set" to one JSON-RPC reply object: each member name
 * is a JSON pointer into "result" ("" replaces the whole result). Replies
 * without a result (errors) are left alone. Returns the number of values set.
 */
int rpc_override_apply(json_t *reply, json_t *set);

/* One line per finished request, for the run's report. */
struct rpc_log_entry {
	uint64_t start_us;      /* loop_now_us when the request was complete */
	const char *proxy;      /* proxy name */
	const char *methods;    /* "eth_call" or "eth_chainId,eth_call"; "" if none */
	int rule_id;            /* rule that acted, 0: none */
	const char *action;     /* "pass", an action name, or "bad-request",
	                           "upstream-down", "client-gone" */
	int status;             /* HTTP status sent; 0 when none (reset, close, hang) */
	uint64_t latency_us;    /* request complete to answer queued (or given up) */
};

typedef void (*rpc_log_fn)(const struct rpc_log_entry *e, void *arg);

/*
 * Create a proxy on loop: bind and listen (inside cfg->netns if set) and
 * prepare the upstream leg. Strings in cfg are copied. Returns NULL with err
 * set on failure (bad address, port in use, bad URL). Caller frees.
 */
struct rpc_proxy *rpc_proxy_new(struct loop *loop, const struct rpc_proxy_config *cfg,
				 struct err *err);

/*
 * Close every connection (in-flight requests are dropped), remove every
 * rule, close the listener. Accepts NULL.
 */
void rpc_proxy_free(struct rpc_proxy *p);

const char *rpc_proxy_name(const struct rpc_proxy *p);

/* The port the listener is bound to (useful with port 0). */
int rpc_proxy_port(const struct rpc_proxy *p);

/* Seed for probabilistic rules (default 0); affects rules added afterwards. */
void rpc_proxy_set_seed(struct rpc_proxy *p, uint64_t seed);

/* Install the per-request log callback (NULL: none). */
void rpc_proxy_set_log(struct rpc_proxy *p, rpc_log_fn fn, void *arg);

/*
 * Activate a rule. The rule is borrowed: it must stay valid and unchanged
 * until rpc_proxy_rule_del(id) or rpc_proxy_free. Rules added later are
 * evaluated after earlier ones. Returns the rule's id (> 0), or a negative
 * code with err set.
 */
int rpc_proxy_rule_add(struct rpc_proxy *p, const struct rpc_rule *r, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Deactivate a rule. Requests it is holding (hang, delay) are released:
 * a hang then closes the client connection, a delay answers at once.
 * Returns 0, or -ENOENT for an unknown id.
 */
int rpc_proxy_rule_del(struct rpc_proxy *p, int id);

/* Counters since creation, for tests and reports. */
struct rpc_proxy_stats {
	uint64_t conns_accepted;
	uint64_t conns_refused;    /* over max_conns, nothing to evict */
	uint64_t conns_evicted;    /* closed at max_conns to make room for a new one */
	uint64_t conns_open;
	uint64_t requests;
	uint64_t forwarded;        /* requests that went upstream */
	uint64_t faked;            /* requests a rule acted on */
	uint64_t upstream_errors;
};
void rpc_proxy_stats(const struct rpc_proxy *p, struct rpc_proxy_stats *out);

#endif
