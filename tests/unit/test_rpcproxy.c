/*
 * The RPC proxy end to end inside one process, on loopback: a scripted
 * JSON-RPC node (a thread per upstream connection, its head set by the
 * test), the proxy on a doorjam loop in the main thread, and a blocking
 * client in a thread of its own. Covers what needs the proxy's run-time
 * state: the chain head it learns from answers and what rpc.stale_head
 * makes of it, and how the upstream leg frames and fails.
 *
 * The real-peer version of these checks (anvil, cast) is
 * tests/net/test_rpc.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/loop.h"
#include "injector/rpc.h"

/* ---- the scripted node ---- */

enum node_mode {
	NODE_LENGTH,      /* Content-Length framing */
	NODE_CHUNKED,     /* chunked framing, in small chunks */
	NODE_CLOSE,       /* no length: the body ends when the connection closes */
	NODE_RESET,       /* read the request, answer with a TCP RST */
	NODE_SILENT,      /* read the request, never answer */
	NODE_EMPTY,       /* read the request, close without a byte */
	NODE_HANGUP,      /* Content-Length framing, then close as if the idle timer fired */
	NODE_GARBAGE,     /* not HTTP at all */
};

#define NODE_CONNS 64

struct node {
	int lfd;
	int port;
	pthread_t acceptor;
	pthread_t conn_threads[NODE_CONNS];
	int conn_fds[NODE_CONNS];
	atomic_int nconns;
	atomic_ullong head;
	atomic_int mode;
	atomic_int requests;
	pthread_mutex_t mu;
	char last_body[4096];   /* the last request body received */
	char last_head[4096];   /* and its head */
};

struct node_conn {
	struct node *n;
	int fd;
};

static void hex(char *out, size_t n, unsigned long long v)
{
	snprintf(out, n, "0x%llx", v);
}

/* The node's answer to one call. Caller decrefs. */
static json_t *node_call(struct node *n, json_t *call)
{
	const char *m = json_string_value(json_object_get(call, "method"));
	json_t *id = json_object_get(call, "id"), *params = json_object_get(call, "params");
	unsigned long long head = atomic_load(&n->head);
	char v[32];
	json_t *result;

	if (!m)
		return json_pack("{s:s,s:O?,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
				 -32600, "message", "invalid request");
	if (strcmp(m, "eth_blockNumber") == 0) {
		hex(v, sizeof(v), head);
		result = json_string(v);
	} else if (strcmp(m, "eth_chainId") == 0) {
		result = json_string("0x7a69");
	} else if (strcmp(m, "eth_getBlockByNumber") == 0 || strcmp(m, "eth_getBalance") == 0) {
		int block = strcmp(m, "eth_getBlockByNumber") == 0;
		json_t *tagv = json_array_get(params, block ? 0 : 1);
		const char *tag = json_is_string(tagv) ? json_string_value(tagv) : "latest";
		unsigned long long num;

		if (strcmp(tag, "latest") == 0)
			num = head;
		else if (strcmp(tag, "pending") == 0)
			num = head + 1;
		else
			num = strtoull(tag, NULL, 16);
		hex(v, sizeof(v), num);
		if (!block)
			result = json_string(num > head ? "0x0" : "0x10"); /* balance at that block */
		else if (num > head + 1)
			result = json_null();
		else
			result = json_pack("{s:s,s:s}", "number", v, "hash", "0xabcdef");
	} else {
		return json_pack("{s:s,s:O?,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
				 -32601, "message", "method not found");
	}
	return json_pack("{s:s,s:O?,s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

static int node_send(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t k = send(fd, p, len, MSG_NOSIGNAL);

		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static void *node_conn_main(void *arg)
{
	struct node_conn *nc = arg;
	struct node *n = nc->n;
	char buf[65536];
	size_t have = 0;
	int fd = nc->fd;

	free(nc);
	for (;;) {
		char *end, *cl, *text, head[256];
		size_t hlen, blen = 0;
		json_t *doc, *ans;
		int mode;

		while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
			ssize_t k = have < sizeof(buf) ? recv(fd, buf + have, sizeof(buf) - have, 0) : 0;

			if (k <= 0)
				goto out;
			have += (size_t)k;
		}
		hlen = (size_t)(end - buf) + 4;
		buf[hlen - 1] = '\0';
		cl = strcasestr(buf, "\r\ncontent-length:");
		if (cl)
			blen = strtoul(cl + 17, NULL, 10);
		while (have < hlen + blen) {
			ssize_t k = recv(fd, buf + have, sizeof(buf) - have, 0);

			if (k <= 0)
				goto out;
			have += (size_t)k;
		}
		atomic_fetch_add(&n->requests, 1);
		pthread_mutex_lock(&n->mu);
		snprintf(n->last_body, sizeof(n->last_body), "%.*s", (int)blen, buf + hlen);
		snprintf(n->last_head, sizeof(n->last_head), "%.4000s", buf);
		pthread_mutex_unlock(&n->mu);
		doc = json_loadb(buf + hlen, blen, 0, NULL);
		memmove(buf, buf + hlen + blen, have - hlen - blen);
		have -= hlen + blen;
		if (json_is_array(doc)) {
			size_t i;

			ans = json_array();
			for (i = 0; i < json_array_size(doc); i++)
				json_array_append_new(ans, node_call(n, json_array_get(doc, i)));
		} else {
			ans = node_call(n, doc);
		}
		text = json_dumps(ans, JSON_COMPACT);
		json_decref(ans);
		json_decref(doc);
		mode = atomic_load(&n->mode);
		if (mode == NODE_RESET) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			free(text);
			goto out;
		}
		if (mode == NODE_EMPTY) {
			free(text);
			goto out;
		}
		if (mode == NODE_SILENT) {
			free(text);
			while (recv(fd, buf, sizeof(buf), 0) > 0)
				;
			goto out;
		}
		if (mode == NODE_GARBAGE) {
			node_send(fd, "<html>hello</html>\r\n\r\n", 22);
			free(text);
			goto out;
		}
		if (mode == NODE_LENGTH || mode == NODE_HANGUP) {
			snprintf(head, sizeof(head),
				 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				 "X-Node: scripted\r\nContent-Length: %zu\r\n\r\n",
				 strlen(text));
			if (node_send(fd, head, strlen(head)) || node_send(fd, text, strlen(text)) ||
			    mode == NODE_HANGUP) {
				free(text);
				goto out;
			}
		} else if (mode == NODE_CHUNKED) {
			size_t off = 0, len = strlen(text);

			snprintf(head, sizeof(head),
				 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				 "X-Node: scripted\r\nTransfer-Encoding: chunked\r\n\r\n");
			node_send(fd, head, strlen(head));
			while (off < len) {
				size_t k = len - off < 7 ? len - off : 7;
				char sz[32];

				snprintf(sz, sizeof(sz), "%zx;ext=1\r\n", k);
				node_send(fd, sz, strlen(sz));
				node_send(fd, text + off, k);
				node_send(fd, "\r\n", 2);
				off += k;
			}
			node_send(fd, "0\r\nX-Trailer: t\r\n\r\n", 19);
		} else { /* NODE_CLOSE */
			snprintf(head, sizeof(head),
				 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				 "X-Node: scripted\r\nConnection: close\r\n\r\n");
			node_send(fd, head, strlen(head));
			node_send(fd, text, strlen(text));
			free(text);
			goto out;
		}
		free(text);
	}
out:
	close(fd);
	return NULL;
}

static void *node_accept_main(void *arg)
{
	struct node *n = arg;

	for (;;) {
		struct node_conn *nc;
		int fd = accept(n->lfd, NULL, NULL), i;

		if (fd < 0)
			return NULL;
		i = atomic_fetch_add(&n->nconns, 1);
		if (i >= NODE_CONNS) {
			close(fd);
			continue;
		}
		nc = malloc(sizeof(*nc));
		nc->n = n;
		nc->fd = fd;
		n->conn_fds[i] = fd;
		pthread_create(&n->conn_threads[i], NULL, node_conn_main, nc);
	}
}

static struct node *node_start(unsigned long long head)
{
	struct node *n = calloc(1, sizeof(*n));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int one = 1;

	assert_non_null(n);
	pthread_mutex_init(&n->mu, NULL);
	atomic_store(&n->head, head);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	n->lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(n->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(n->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(n->lfd, 64), 0);
	getsockname(n->lfd, (struct sockaddr *)&a, &al);
	n->port = ntohs(a.sin_port);
	pthread_create(&n->acceptor, NULL, node_accept_main, n);
	return n;
}

static void node_stop(struct node *n)
{
	int i, k;

	shutdown(n->lfd, SHUT_RDWR);
	close(n->lfd);
	pthread_join(n->acceptor, NULL);
	k = atomic_load(&n->nconns);
	for (i = 0; i < k && i < NODE_CONNS; i++) {
		shutdown(n->conn_fds[i], SHUT_RDWR);
		pthread_join(n->conn_threads[i], NULL);
	}
	pthread_mutex_destroy(&n->mu);
	free(n);
}

/* ---- the client ---- */

enum client_end { CLIENT_ANSWERED, CLIENT_RESET, CLIENT_EMPTY, CLIENT_TIMEOUT };

struct client {
	int port;
	const char *request;      /* the whole request, bytes as sent */
	int timeout_ms;
	char answer[16384];
	size_t len;
	enum client_end end;
	atomic_int done;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = c->timeout_ms / 1000,
			      .tv_usec = (c->timeout_ms % 1000) * 1000 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)c->port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	c->end = CLIENT_RESET;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    node_send(fd, c->request, strlen(c->request)) == 0) {
		for (;;) {
			ssize_t k = recv(fd, c->answer + c->len, sizeof(c->answer) - 1 - c->len, 0);

			if (k > 0) {
				c->len += (size_t)k;
				continue;
			}
			if (k == 0)
				c->end = c->len ? CLIENT_ANSWERED : CLIENT_EMPTY;
			else if (errno == EAGAIN || errno == EWOULDBLOCK)
				c->end = CLIENT_TIMEOUT;
			else
				c->end = CLIENT_RESET;
			break;
		}
	}
	c->answer[c->len] = '\0';
	close(fd);
	atomic_store(&c->done, 1);
	return NULL;
}

/* ---- the fixture: node + proxy ---- */

struct fx {
	struct loop *l;
	struct node *n;
	struct rpc_proxy *p;
	struct rpc_rule rule;
	int rule_id;
	char upstream[64];
};

static struct fx *fx_new_client(unsigned long long head, const char *upstream,
				uint64_t up_timeout_us, enum rpc_upstream_client client,
				enum rpc_down_mode down)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rpc_proxy_config cfg;
	struct err e;

	assert_non_null(f);
	f->l = loop_new(&e);
	assert_non_null(f->l);
	f->n = node_start(head);
	if (upstream)
		snprintf(f->upstream, sizeof(f->upstream), "%s", upstream);
	else
		snprintf(f->upstream, sizeof(f->upstream), "http://127.0.0.1:%d", f->n->port);
	rpc_proxy_config_default(&cfg);
	cfg.name = "t";
	cfg.listen = "127.0.0.1:0";
	cfg.upstream = f->upstream;
	if (up_timeout_us)
		cfg.upstream_timeout_us = up_timeout_us;
	cfg.client = client;
	cfg.on_down = down;
	f->p = rpc_proxy_new(f->l, &cfg, &e);
	if (!f->p)
		fail_msg("rpc_proxy_new: %s", e.msg);
	rpc_rule_init(&f->rule);
	return f;
}

static struct fx *fx_new(unsigned long long head, const char *upstream, uint64_t up_timeout_us)
{
	return fx_new_client(head, upstream, up_timeout_us, RPC_CLIENT_AUTO, RPC_DOWN_MIRROR);
}

static void fx_free(struct fx *f)
{
	rpc_proxy_free(f->p);
	node_stop(f->n);
	loop_free(f->l);
	rpc_rule_cleanup(&f->rule);
	free(f);
}

static void fx_rule(struct fx *f, enum rpc_action a, uint64_t lag)
{
	struct err e;

	f->rule.action = a;
	f->rule.lag = lag;
	f->rule_id = rpc_proxy_rule_add(f->p, &f->rule, &e);
	assert_true(f->rule_id > 0);
}

/* One request through the proxy; the loop runs until the client is done. */
static enum client_end fx_send(struct fx *f, const char *body, char **answer, int timeout_ms)
{
	static struct client c;
	char req[4096];
	pthread_t t;

	memset(&c, 0, sizeof(c));
	snprintf(req, sizeof(req),
		 "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	c.port = rpc_proxy_port(f->p);
	c.request = req;
	c.timeout_ms = timeout_ms;
	pthread_create(&t, NULL, client_main, &c);
	while (!atomic_load(&c.done))
		loop_once(f->l, 5000);
	pthread_join(t, NULL);
	*answer = c.answer;
	return c.end;
}

/* The JSON body of an answer, parsed. Caller decrefs. */
static json_t *fx_call(struct fx *f, const char *body)
{
	char *a, *b;
	json_t *doc;

	assert_int_equal(fx_send(f, body, &a, 3000), CLIENT_ANSWERED);
	b = strstr(a, "\r\n\r\n");
	assert_non_null(b);
	doc = json_loads(b + 4, 0, NULL);
	if (!doc)
		fail_msg("answer is not JSON: %s", a);
	return doc;
}

static unsigned long long fx_number(struct fx *f, const char *body)
{
	json_t *doc = fx_call(f, body), *r = json_object_get(doc, "result");
	unsigned long long v;

	if (json_is_object(r))
		r = json_object_get(r, "number");
	if (!json_is_string(r))
		fail_msg("no number in %s", json_dumps(doc, JSON_COMPACT));
	v = strtoull(json_string_value(r), NULL, 16);
	json_decref(doc);
	return v;
}

#define LATEST "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBlockByNumber\",\"params\":[\"latest\",false]}"
#define PENDING "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBlockByNumber\",\"params\":[\"pending\",false]}"
#define BLOCKNUM "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_blockNumber\",\"params\":[]}"
#define BALANCE "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_getBalance\",\"params\":[\"0xf39f\",\"latest\"]}"

/* A wallet that only reads "latest" blocks: the head it saw before the fault stays. */
static void test_frozen_learns_from_latest_block(void **state)
{
	struct fx *f = fx_new(100, NULL, 0);

	(void)state;
	assert_int_equal(fx_number(f, LATEST), 100);
	atomic_store(&f->n->head, 105);
	fx_rule(f, RPC_ACT_STALE_HEAD, 0);
	assert_int_equal(fx_number(f, LATEST), 100);
	atomic_store(&f->n->head, 110);
	assert_int_equal(fx_number(f, LATEST), 100);
	assert_int_equal(fx_number(f, BLOCKNUM), 100);
	/* the block really was asked for by number upstream */
	assert_non_null(strstr(f->n->last_body, "\"0x64\""));
	/* reverted: fresh again */
	assert_int_equal(rpc_proxy_rule_del(f->p, f->rule_id), 0);
	assert_int_equal(fx_number(f, LATEST), 110);
	fx_free(f);
}

/* The newest head seen wins, from whichever answer revealed it. */
static void test_frozen_newest_head(void **state)
{
	struct fx *f = fx_new(100, NULL, 0);

	(void)state;
	assert_int_equal(fx_number(f, BLOCKNUM), 100);
	atomic_store(&f->n->head, 103);
	assert_int_equal(fx_number(f, PENDING), 104); /* reveals head 103 */
	atomic_store(&f->n->head, 120);
	fx_rule(f, RPC_ACT_STALE_HEAD, 0);
	assert_int_equal(fx_number(f, BLOCKNUM), 103);
	assert_int_equal(fx_number(f, LATEST), 103);
	fx_free(f);
}

/* Applied before any head was seen: the first answer after it sets the frozen head. */
static void test_frozen_first_after(void **state)
{
	struct fx *f = fx_new(200, NULL, 0);

	(void)state;
	fx_rule(f, RPC_ACT_STALE_HEAD, 0);
	assert_int_equal(fx_number(f, LATEST), 200);
	atomic_store(&f->n->head, 207);
	assert_int_equal(fx_number(f, LATEST), 200);
	assert_int_equal(fx_number(f, BLOCKNUM), 200);
	/* a batch: both reads see the frozen head */
	{
		json_t *doc = fx_call(f, "[" BLOCKNUM "," LATEST "]");

		assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 0), "result")),
				    "0xc8");
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(json_array_get(doc, 1), "result"), "number")),
				    "0xc8");
		json_decref(doc);
	}
	fx_free(f);
}

/* Lag: "latest" reads trail the real head by N and keep moving with it. */
static void test_lag_latest_block(void **state)
{
	struct fx *f = fx_new(50, NULL, 0);
	char *a;
	int before;

	(void)state;
	fx_rule(f, RPC_ACT_STALE_HEAD, 3);
	/* no head known yet: the probe asks first, so even the first read lags */
	assert_int_equal(fx_number(f, LATEST), 47);
	atomic_store(&f->n->head, 60);
	before = atomic_load(&f->n->requests);
	assert_int_equal(fx_number(f, LATEST), 57);
	assert_int_equal(atomic_load(&f->n->requests), before + 2); /* probe, then the read */
	assert_non_null(strstr(f->n->last_body, "\"0x39\""));
	assert_int_equal(fx_number(f, BLOCKNUM), 57);
	/* the probe never reaches the client */
	assert_int_equal(fx_send(f, LATEST, &a, 3000), CLIENT_ANSWERED);
	assert_null(strstr(a, "probe"));
	assert_non_null(strstr(a, "\r\n\r\n{\"jsonrpc\""));
	/* a batch: both latest reads lag, other calls stay real */
	{
		json_t *doc = fx_call(f, "[" LATEST "," BALANCE "," BLOCKNUM "]");

		assert_int_equal(json_array_size(doc), 3);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(json_array_get(doc, 0), "result"), "number")),
				    "0x39");
		assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 2), "result")),
				    "0x39");
		json_decref(doc);
	}
	assert_non_null(strstr(f->n->last_body, "[\"0xf39f\",\"0x39\"]"));
	/* an unmatched read passes as sent */
	assert_int_equal(fx_number(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBlockByNumber\","
				      "\"params\":[\"0x5\",false]}"),
			 5);
	fx_free(f);
}

static const enum rpc_upstream_client clients[] = { RPC_CLIENT_NATIVE, RPC_CLIENT_CURL };
static const char *const client_names[] = { "native", "curl" };

/* Every framing the upstream may use reaches the client as the same answer. */
static void test_upstream_framings(void **state)
{
	static const int modes[] = { NODE_LENGTH, NODE_CHUNKED, NODE_CLOSE };
	size_t k, m;

	(void)state;
	for (k = 0; k < 2; k++) {
		for (m = 0; m < 3; m++) {
			struct fx *f = fx_new_client(0x1234, NULL, 0, clients[k], RPC_DOWN_MIRROR);
			char *a;
			int i;

			atomic_store(&f->n->mode, modes[m]);
			for (i = 0; i < 3; i++) {
				if (fx_send(f, BLOCKNUM, &a, 3000) != CLIENT_ANSWERED)
					fail_msg("%s, mode %d: no answer", client_names[k], modes[m]);
				if (!strstr(a, "HTTP/1.1 200 OK\r\n") || !strstr(a, "X-Node: scripted\r\n") ||
				    !strstr(a, "Content-Length: 42\r\n") || strstr(a, "chunked") ||
				    !strstr(a, "\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x1234\"}"))
					fail_msg("%s, mode %d: answer %s", client_names[k], modes[m], a);
			}
			fx_free(f);
		}
	}
}

/* Connections are kept alive and reused; one closed by the server is replaced. */
static void test_upstream_keepalive(void **state)
{
	struct fx *f = fx_new_client(1, NULL, 0, RPC_CLIENT_NATIVE, RPC_DOWN_MIRROR);
	char *a;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(fx_send(f, BLOCKNUM, &a, 3000), CLIENT_ANSWERED);
	assert_int_equal(atomic_load(&f->n->nconns), 1);
	/* the server now closes after every answer, without saying so */
	atomic_store(&f->n->mode, NODE_HANGUP);
	for (i = 0; i < 5; i++) {
		assert_int_equal(fx_send(f, BLOCKNUM, &a, 3000), CLIENT_ANSWERED);
		assert_non_null(strstr(a, "\"result\":\"0x1\""));
	}
	assert_int_equal(atomic_load(&f->n->requests), 10);
	fx_free(f);
}

/* A port nobody listens on. */
static int dead_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Outages are mirrored the same way by both clients: reset, close, silence. */
static void test_upstream_failures_mirrored(void **state)
{
	static const struct {
		int mode;
		enum client_end end;
	} v[] = {
		{ NODE_RESET, CLIENT_RESET },
		{ NODE_EMPTY, CLIENT_EMPTY },
		{ NODE_SILENT, CLIENT_TIMEOUT },
		{ NODE_GARBAGE, CLIENT_RESET },
	};
	size_t k, i;

	(void)state;
	for (k = 0; k < 2; k++) {
		char url[64], *a;
		struct fx *f;

		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			enum client_end got;

			/* upstream timeout 300 ms, client gives up after 1 s: silence stays silence */
			f = fx_new_client(1, NULL, 300000, clients[k], RPC_DOWN_MIRROR);
			atomic_store(&f->n->mode, v[i].mode);
			got = fx_send(f, BLOCKNUM, &a, 1000);
			if (got != v[i].end)
				fail_msg("%s, node mode %d: client saw %d, want %d", client_names[k],
					 v[i].mode, got, v[i].end);
			fx_free(f);
		}
		snprintf(url, sizeof(url), "http://127.0.0.1:%d", dead_port());
		f = fx_new_client(1, url, 0, clients[k], RPC_DOWN_MIRROR);
		assert_int_equal(fx_send(f, BLOCKNUM, &a, 1000), CLIENT_RESET);
		fx_free(f);
		/* or, when asked, a 502 that says why */
		f = fx_new_client(1, url, 0, clients[k], RPC_DOWN_502);
		assert_int_equal(fx_send(f, BLOCKNUM, &a, 1000), CLIENT_ANSWERED);
		if (!strstr(a, "HTTP/1.1 502") || !strstr(a, "Couldn't connect to server"))
			fail_msg("%s: 502 answer %s", client_names[k], a);
		fx_free(f);
	}
}

/* The upstream URL's path is used for "/", and the client's path appended to it. */
static void test_upstream_path_and_headers(void **state)
{
	static const struct {
		const char *path, *target, *line;
	} v[] = {
		{ "/v3/KEY", "/extra?q=1", "POST /v3/KEY/extra?q=1 HTTP/1.1\r\n" },
		{ "/v3/KEY/", "/", "POST /v3/KEY/ HTTP/1.1\r\n" },
		{ "", "/", "POST / HTTP/1.1\r\n" },
		{ "?k=1", "/", "POST /?k=1 HTTP/1.1\r\n" },
	};
	size_t k, i;

	(void)state;
	for (k = 0; k < 2 * 4; k++) {
		i = k / 2;
		struct fx *f = fx_new_client(1, NULL, 0, clients[k % 2], RPC_DOWN_MIRROR);
		struct rpc_proxy_config cfg;
		struct rpc_proxy *p;
		struct err e;
		char url[64], req[512];
		static struct client c;
		pthread_t t;

		snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", f->n->port, v[i].path);
		rpc_proxy_config_default(&cfg);
		cfg.name = "path";
		cfg.listen = "127.0.0.1:0";
		cfg.upstream = url;
		cfg.client = clients[k % 2];
		p = rpc_proxy_new(f->l, &cfg, &e);
		assert_non_null(p);
		snprintf(req, sizeof(req),
			 "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
			 "Content-Type: application/json\r\nAccept-Encoding: gzip\r\n"
			 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
			 v[i].target, strlen(BLOCKNUM), BLOCKNUM);
		memset(&c, 0, sizeof(c));
		c.port = rpc_proxy_port(p);
		c.request = req;
		c.timeout_ms = 3000;
		pthread_create(&t, NULL, client_main, &c);
		while (!atomic_load(&c.done))
			loop_once(f->l, 5000);
		pthread_join(t, NULL);
		assert_int_equal(c.end, CLIENT_ANSWERED);
		if (strncmp(f->n->last_head, v[i].line, strlen(v[i].line)) != 0 ||
		    !strcasestr(f->n->last_head, "\r\nAuthorization: Bearer t\r\n") ||
		    strcasestr(f->n->last_head, "accept-encoding") ||
		    !strcasestr(f->n->last_head, "\r\nHost: 127.0.0.1:"))
			fail_msg("%s, %s + %s: upstream saw %s", client_names[k % 2], v[i].path,
				 v[i].target, f->n->last_head);
		rpc_proxy_free(p);
		fx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frozen_learns_from_latest_block),
		cmocka_unit_test(test_frozen_newest_head),
		cmocka_unit_test(test_frozen_first_after),
		cmocka_unit_test(test_lag_latest_block),
		cmocka_unit_test(test_upstream_framings),
		cmocka_unit_test(test_upstream_keepalive),
		cmocka_unit_test(test_upstream_failures_mirrored),
		cmocka_unit_test(test_upstream_path_and_headers),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
