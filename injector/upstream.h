/*
 * upstream: the RPC proxy's native upstream leg, a small HTTP/1.1 client on
 * doorjam's event loop for one http:// origin given by a numeric address.
 *
 * It keeps a pool of keep-alive connections to the origin (opened inside a
 * chosen network namespace), sends one request per connection at a time,
 * and parses the answer with injector/httpresp (Content-Length, chunked or
 * close-delimited bodies, capped). In steady state a request costs one
 * send() and one recv() on a connection that stays in the loop's interest
 * set: no liveness poll before reuse and no watch churn. An idle connection
 * stays watched for reading, so a server that closes it is noticed and the
 * connection dropped before it is used again; a request whose reused
 * connection turns out dead before any answer byte (the server's idle close
 * raced with the send) is sent once more on a fresh connection.
 *
 * Failures are reported as classes the proxy can mirror to its client:
 * could not connect, reset or cut mid-answer, closed without a byte, no
 * answer within the timeout, malformed answer, answer over a cap.
 *
 * What it does not do: TLS, names (the origin is an IP literal; resolving
 * would block the loop), proxies, redirects, content codings, pipelining.
 * https:// and named origins stay on libcurl in injector/rpc.
 */
#ifndef DOORJAM_UPSTREAM_H
#define DOORJAM_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "injector/httpresp.h"

struct loop;
struct upstream;
struct upstream_req;

struct upstream_config {
	const char *url;        /* http://IPv4[:port][/path] or http://[IPv6][:port][/path] */
	int nsfd;               /* namespace fd for connections (NETNS_SELF: doorjam's own);
	                           borrowed, must outlive the upstream */
	size_t max_head;        /* answer head cap, bytes */
	size_t max_body;        /* answer body cap, bytes */
	uint64_t timeout_us;    /* whole exchange, from send to complete answer */
	size_t max_idle;        /* idle keep-alive connections kept */
};

enum upstream_status {
	UPSTREAM_OK = 0,
	UPSTREAM_ECONNECT,      /* could not connect (refused, unreachable, ...) */
	UPSTREAM_ERESET,        /* reset, or closed in the middle of the answer */
	UPSTREAM_EEMPTY,        /* closed without sending a byte */
	UPSTREAM_ETIMEOUT,      /* no complete answer within timeout_us */
	UPSTREAM_EPROTO,        /* the answer is not valid HTTP/1.x */
	UPSTREAM_ETOOBIG,       /* the answer is over a cap */
	UPSTREAM_ENOMEM,
};

/* A short English phrase for a status ("Connection refused by the upstream"). */
const char *upstream_strerror(enum upstream_status st);

/*
 * 1 when url can be served natively: http://, a numeric IPv4 or bracketed
 * IPv6 address, an optional port (1..65535), no user info.
 */
int upstream_url_ok(const char *url);

/*
 * The outcome of one request. On UPSTREAM_OK, resp holds the answer
 * (status, end-to-end headers, decoded body); the callee may take its
 * buffers (swap them out; the rest is freed after the callback returns).
 * resp is NULL otherwise. Called exactly once per request, from the loop,
 * never from inside upstream_send, unless the request is cancelled.
 */
typedef void (*upstream_done_fn)(void *arg, enum upstream_status st, struct httpresp *resp);

/* Create the client. cfg is copied (url too). Returns NULL with err set. */
struct upstream *upstream_new(struct loop *loop, const struct upstream_config *cfg,
			      struct err *err);

/* Close every connection; requests in flight are dropped without callback. Accepts NULL. */
void upstream_free(struct upstream *u);

/*
 * Send a request. target is the client's request target: "/" means the
 * origin URL's path as configured, any other target is appended to that
 * path. headers are zero or more "Name: value\r\n" lines (no Host and no
 * framing headers: the client writes those); body may be NULL when len is 0.
 * All inputs are copied. Returns the request handle (owned by the client
 * until its callback has run or it is cancelled), or NULL with err set when
 * out of memory.
 */
struct upstream_req *upstream_send(struct upstream *u, const char *method, const char *target,
				   const char *headers, const void *body, size_t len,
				   upstream_done_fn fn, void *arg, struct err *err);

/* Drop a request in flight: no callback; its connection is closed. */
void upstream_cancel(struct upstream *u, struct upstream_req *r);

/* Counters for tests and benchmarks. */
struct upstream_stats {
	uint64_t connects;      /* connections opened */
	uint64_t reuses;        /* requests sent on a kept-alive connection */
	uint64_t retries;       /* requests sent again after a dead reused connection */
	uint64_t idle;          /* idle connections now */
};
void upstream_stats(const struct upstream *u, struct upstream_stats *out);

#endif
