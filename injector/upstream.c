/*
 * upstream: the native HTTP/1.1 upstream leg. See upstream.h.
 *
 * Connections (struct up_conn) are either idle (in the pool, watched for
 * reading so a close by the server is seen) or carry exactly one request
 * (struct up_req). A request owns its serialised bytes, its response parser
 * and its timer; the timer is also how failures found while sending are
 * reported, so the caller's callback never runs inside upstream_send.
 */
#include "injector/upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/loop.h"
#include "common/netns.h"

#define UP_READ_CHUNK (64 * 1024)
#define UP_REQ_HEAD_MAX (64 * 1024)

enum up_state {
	UP_CONNECTING,
	UP_SENDING,
	UP_RECEIVING,
	UP_IDLE,
};

struct up_conn {
	struct upstream *u;
	int fd;
	enum up_state state;
	int reused;               /* it completed an exchange before this one */
	struct upstream_req *req; /* the request it carries, or NULL when idle */
	struct up_conn *prev, *next;
};

struct upstream_req {
	struct upstream *u;
	struct up_conn *conn;
	struct buf out;
	size_t out_off;
	struct httpresp resp;
	int head;                 /* HEAD request: no body in the answer */
	int retried;
	enum upstream_status fail;/* a failure waiting for the timer to report it */
	struct loop_timer *timer;
	upstream_done_fn fn;
	void *arg;
	struct upstream_req *prev, *next;
};

struct upstream {
	struct loop *loop;
	struct upstream_config cfg;
	char *url;
	char *authority;          /* Host header value, as in the URL */
	char *path;               /* the URL's path, "/" when none */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct up_conn *idle;     /* idle pool, most recently used first */
	struct up_conn *busy;     /* connections carrying a request */
	struct upstream_req *reqs;/* every request not yet finished */
	struct upstream_stats stats;
};

static const char *const upstream_errors[] = {
	[UPSTREAM_OK] = "OK",
	[UPSTREAM_ECONNECT] = "Couldn't connect to server",
	[UPSTREAM_ERESET] = "Connection reset or closed in the middle of the answer",
	[UPSTREAM_EEMPTY] = "Server returned nothing (no headers, no data)",
	[UPSTREAM_ETIMEOUT] = "Timeout was reached",
	[UPSTREAM_EPROTO] = "Malformed answer from the server",
	[UPSTREAM_ETOOBIG] = "Answer larger than the limit",
	[UPSTREAM_ENOMEM] = "Out of memory",
};

const char *upstream_strerror(enum upstream_status st)
{
	if ((unsigned)st >= sizeof(upstream_errors) / sizeof(upstream_errors[0]))
		return "Unknown error";
	return upstream_errors[st];
}

/*
 * Split "http://AUTHORITY[/path]" into an address, the authority and the
 * path. Returns 0, or -1 when it is not a URL the native client serves.
 */
static int upstream_url_split(const char *url, struct sockaddr_storage *ss, socklen_t *sl,
			      char *auth, size_t authsz, const char **path)
{
	const char *a, *end, *host, *hend, *port = NULL;
	char h[64];
	unsigned long pn = 80;
	size_t n;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	a = url + 7;
	end = a + strcspn(a, "/?#");
	if (*end == '#' || memchr(a, '@', (size_t)(end - a)))
		return -1;
	n = (size_t)(end - a);
	if (n == 0 || n >= authsz)
		return -1;
	memcpy(auth, a, n);
	auth[n] = '\0';
	if (a[0] == '[') {
		host = a + 1;
		hend = memchr(a, ']', n);
		if (!hend)
			return -1;
		if (hend + 1 < end) {
			if (hend[1] != ':')
				return -1;
			port = hend + 2;
		}
	} else {
		host = a;
		hend = memchr(a, ':', n);
		if (hend)
			port = hend + 1;
		else
			hend = end;
	}
	if (port) {
		char *pe;

		if (port == end || *port < '0' || *port > '9')
			return -1;
		pn = strtoul(port, &pe, 10);
		if (pe != end || pn == 0 || pn > 65535)
			return -1;
	}
	if ((size_t)(hend - host) >= sizeof(h))
		return -1;
	memcpy(h, host, (size_t)(hend - host));
	h[hend - host] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (a[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, h, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)pn);
		*sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, h, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)pn);
		*sl = sizeof(*s4);
	}
	*path = end;
	return 0;
}

int upstream_url_ok(const char *url)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char auth[128];
	const char *path;

	return upstream_url_split(url, &ss, &sl, auth, sizeof(auth), &path) == 0;
}

struct upstream *upstream_new(struct loop *loop, const struct upstream_config *cfg,
			      struct err *err)
{
	struct upstream *u = calloc(1, sizeof(*u));
	char auth[128];
	const char *path;

	if (!u) {
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (upstream_url_split(cfg->url, &u->addr, &u->addrlen, auth, sizeof(auth), &path)) {
		err_set(err, -EINVAL,
			"upstream \"%s\": the native client needs http:// and a numeric address",
			cfg->url);
		free(u);
		return NULL;
	}
	u->loop = loop;
	u->cfg = *cfg;
	u->url = strdup(cfg->url);
	u->authority = strdup(auth);
	if (*path == '/')
		u->path = strdup(path);
	else if (asprintf(&u->path, "/%s", path) < 0) /* "" or "?query" */
		u->path = NULL;
	if (!u->url || !u->authority || !u->path) {
		err_set(err, -ENOMEM, "out of memory");
		upstream_free(u);
		return NULL;
	}
	u->cfg.url = u->url;
	return u;
}

static void up_list_del(struct up_conn **head, struct up_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void up_list_push(struct up_conn **head, struct up_conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

/* Close a connection (idle or busy) and forget it. Its request, if any, is left alone. */
static void up_conn_close(struct up_conn *c)
{
	struct upstream *u = c->u;

	up_list_del(c->state == UP_IDLE ? &u->idle : &u->busy, c);
	if (c->state == UP_IDLE)
		u->stats.idle--;
	if (c->req)
		c->req->conn = NULL;
	loop_fd_del(u->loop, c->fd);
	close(c->fd);
	free(c);
}

static void up_req_free(struct upstream_req *r)
{
	struct upstream *u = r->u;

	if (r->timer)
		loop_timer_cancel(u->loop, r->timer);
	if (r->prev)
		r->prev->next = r->next;
	else
		u->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	buf_cleanup(&r->out);
	httpresp_cleanup(&r->resp);
	free(r);
}

/* Report the outcome and free the request. The connection must be detached already. */
static void up_req_finish(struct upstream_req *r, enum upstream_status st)
{
	upstream_done_fn fn = r->fn;
	void *arg = r->arg;

	if (r->timer) {
		loop_timer_cancel(r->u->loop, r->timer);
		r->timer = NULL;
	}
	fn(arg, st, st == UPSTREAM_OK ? &r->resp : NULL);
	up_req_free(r);
}

static void up_req_timer(struct loop *l, void *arg)
{
	struct upstream_req *r = arg;

	(void)l;
	r->timer = NULL;
	if (r->conn)
		up_conn_close(r->conn);
	up_req_finish(r, r->fail ? r->fail : UPSTREAM_ETIMEOUT);
}

/*
 * Fail later, from the loop (the caller may still be inside upstream_send).
 * Returns -1 when no timer could be made: the caller then reports itself.
 */
static int up_req_fail_soon(struct upstream_req *r, enum upstream_status st)
{
	if (r->conn)
		up_conn_close(r->conn);
	if (r->timer)
		loop_timer_cancel(r->u->loop, r->timer);
	r->fail = st;
	r->timer = loop_timer_add(r->u->loop, 0, up_req_timer, r);
	return r->timer ? 0 : -1;
}

static void up_conn_io(struct loop *l, int fd, unsigned events, void *arg);
static int up_req_attach(struct upstream_req *r);

/*
 * The request's reused connection died before any byte of the answer: the
 * server closed it while idle, and may never have seen the request. Send it
 * once more on a fresh connection; otherwise fail with st.
 */
static void up_req_dead_conn(struct upstream_req *r, enum upstream_status st)
{
	struct up_conn *c = r->conn;
	int retry = c && c->reused && !r->retried && httpresp_fed(&r->resp) == 0;

	if (c)
		up_conn_close(c);
	if (!retry) {
		up_req_finish(r, st);
		return;
	}
	r->retried = 1;
	r->u->stats.retries++;
	r->out_off = 0;
	if (up_req_attach(r))
		up_req_finish(r, UPSTREAM_ENOMEM);
}

/* Send what is left of the request; then wait for the answer. */
static void up_conn_send(struct up_conn *c)
{
	struct upstream_req *r = c->req;

	while (r->out_off < r->out.len) {
		ssize_t n = send(c->fd, r->out.data + r->out_off, r->out.len - r->out_off,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				loop_fd_mod(c->u->loop, c->fd, LOOP_READ | LOOP_WRITE);
				return;
			}
			up_req_dead_conn(r, UPSTREAM_ERESET);
			return;
		}
		r->out_off += (size_t)n;
	}
	c->state = UP_RECEIVING;
	loop_fd_mod(c->u->loop, c->fd, LOOP_READ);
}

/* The answer is complete: hand the connection back to the pool (or close it), then report. */
static void up_conn_done(struct up_conn *c, int reusable)
{
	struct upstream *u = c->u;
	struct upstream_req *r = c->req;

	c->req = NULL;
	r->conn = NULL;
	/* an answer that came before the whole request was sent leaves the stream unusable */
	if (reusable && r->out_off == r->out.len && u->stats.idle < u->cfg.max_idle) {
		up_list_del(&u->busy, c);
		c->state = UP_IDLE;
		c->reused = 1;
		up_list_push(&u->idle, c);
		u->stats.idle++;
		loop_fd_mod(u->loop, c->fd, LOOP_READ);
	} else {
		up_conn_close(c);
	}
	up_req_finish(r, UPSTREAM_OK);
}

static enum upstream_status up_parse_error(const struct httpresp *resp)
{
	switch (resp->err) {
	case HTTPRESP_ETOOBIG:
		return UPSTREAM_ETOOBIG;
	case HTTPRESP_ETRUNCATED:
		return UPSTREAM_ERESET;
	default:
		return UPSTREAM_EPROTO;
	}
}

static void up_conn_recv(struct up_conn *c)
{
	struct upstream_req *r = c->req;
	char chunk[UP_READ_CHUNK];
	ssize_t n;
	size_t used = 0;
	int rc;

	n = recv(c->fd, chunk, sizeof(chunk), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		up_req_dead_conn(r, UPSTREAM_ERESET);
		return;
	}
	if (n == 0) {
		if (httpresp_fed(&r->resp) == 0) {
			up_req_dead_conn(r, UPSTREAM_EEMPTY);
			return;
		}
		rc = httpresp_eof(&r->resp);
		if (rc == HTTPRESP_DONE) {
			up_conn_done(c, 0);
			return;
		}
		up_conn_close(c);
		up_req_finish(r, up_parse_error(&r->resp));
		return;
	}
	rc = httpresp_feed(&r->resp, chunk, (size_t)n, &used);
	if (rc == HTTPRESP_MORE)
		return; /* level-triggered: the loop calls again when more arrives */
	if (rc == HTTPRESP_DONE) {
		/* bytes after the answer were never asked for: do not trust the connection */
		up_conn_done(c, r->resp.keep_alive && used == (size_t)n);
		return;
	}
	up_conn_close(c);
	up_req_finish(r, up_parse_error(&r->resp));
}

static void up_conn_io(struct loop *l, int fd, unsigned events, void *arg)
{
	struct up_conn *c = arg;

	(void)l;
	(void)fd;
	switch (c->state) {
	case UP_IDLE:
		/* an idle connection has nothing to say: a close, a reset or junk ends it */
		up_conn_close(c);
		return;
	case UP_CONNECTING: {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			struct upstream_req *r = c->req;

			up_conn_close(c);
			up_req_finish(r, UPSTREAM_ECONNECT);
			return;
		}
		if (!(events & (LOOP_WRITE | LOOP_ERROR)))
			return;
		c->state = UP_SENDING;
		up_conn_send(c);
		return;
	}
	case UP_SENDING:
		if (events & LOOP_READ) {
			/* the server answered (or closed) before taking the whole request */
			c->state = UP_RECEIVING;
			loop_fd_mod(c->u->loop, c->fd, LOOP_READ);
			up_conn_recv(c);
			return;
		}
		up_conn_send(c);
		return;
	case UP_RECEIVING:
		up_conn_recv(c);
		return;
	}
}

/* A new connection to the origin, connecting. NULL with *st set on failure. */
static struct up_conn *up_conn_open(struct upstream *u, enum upstream_status *st)
{
	struct up_conn *c;
	struct err err;
	int fd, one = 1;

	fd = netns_socket(u->cfg.nsfd, u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0, &err);
	if (fd < 0) {
		*st = UPSTREAM_ECONNECT;
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&u->addr, u->addrlen) < 0 && errno != EINPROGRESS) {
		close(fd);
		*st = UPSTREAM_ECONNECT;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || loop_fd_add(u->loop, fd, LOOP_WRITE, up_conn_io, c, &err)) {
		free(c);
		close(fd);
		*st = UPSTREAM_ENOMEM;
		return NULL;
	}
	c->u = u;
	c->fd = fd;
	c->state = UP_CONNECTING;
	up_list_push(&u->busy, c);
	u->stats.connects++;
	return c;
}

/*
 * Give the request a connection: a pooled one (the retry of a request
 * takes a fresh one), else a new one. Failures are reported from the loop.
 * Returns -1 only when even that could not be arranged.
 */
static int up_req_attach(struct upstream_req *r)
{
	struct upstream *u = r->u;
	struct up_conn *c = r->retried ? NULL : u->idle;
	enum upstream_status st = UPSTREAM_OK;

	if (c) {
		up_list_del(&u->idle, c);
		u->stats.idle--;
		up_list_push(&u->busy, c);
		u->stats.reuses++;
		c->state = UP_SENDING;
	} else {
		c = up_conn_open(u, &st);
		if (!c)
			return up_req_fail_soon(r, st);
	}
	c->req = r;
	r->conn = c;
	if (c->state == UP_SENDING)
		up_conn_send(c);
	return 0;
}

struct upstream_req *upstream_send(struct upstream *u, const char *method, const char *target,
				   const char *headers, const void *body, size_t len,
				   upstream_done_fn fn, void *arg, struct err *err)
{
	struct upstream_req *r = calloc(1, sizeof(*r));
	const struct httpresp_limits lim = { u->cfg.max_head, u->cfg.max_body };
	size_t plen = strlen(u->path);
	int rc;

	if (!r) {
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	r->u = u;
	r->fn = fn;
	r->arg = arg;
	r->head = strcmp(method, "HEAD") == 0;
	httpresp_init(&r->resp, &lim, r->head);
	buf_init(&r->out, UP_REQ_HEAD_MAX + len + 64);
	/* the path as the curl leg builds its URL: "/" is the origin's path, else appended */
	if (strcmp(target, "/") != 0 && plen && u->path[plen - 1] == '/')
		plen--;
	rc = buf_printf(&r->out, "%s %.*s%s HTTP/1.1\r\nHost: %s\r\n%s", method, (int)plen, u->path,
			strcmp(target, "/") == 0 ? "" : target, u->authority,
			headers ? headers : "");
	if (!rc && (len || (strcmp(method, "GET") != 0 && !r->head)))
		rc = buf_printf(&r->out, "Content-Length: %zu\r\n", len);
	if (!rc)
		rc = buf_append(&r->out, "\r\n", 2);
	if (!rc && len)
		rc = buf_append(&r->out, body, len);
	if (rc) {
		httpresp_cleanup(&r->resp);
		buf_cleanup(&r->out);
		free(r);
		err_set(err, rc, "upstream request too large");
		return NULL;
	}
	r->next = u->reqs;
	if (u->reqs)
		u->reqs->prev = r;
	u->reqs = r;
	r->timer = loop_timer_add(u->loop, u->cfg.timeout_us, up_req_timer, r);
	if (!r->timer || up_req_attach(r)) {
		if (r->conn)
			up_conn_close(r->conn);
		up_req_free(r);
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	return r;
}

void upstream_cancel(struct upstream *u, struct upstream_req *r)
{
	(void)u;
	if (!r)
		return;
	if (r->conn)
		up_conn_close(r->conn); /* mid-exchange: the connection cannot carry another */
	up_req_free(r);
}

void upstream_free(struct upstream *u)
{
	if (!u)
		return;
	while (u->reqs)
		upstream_cancel(u, u->reqs);
	while (u->busy)
		up_conn_close(u->busy);
	while (u->idle)
		up_conn_close(u->idle);
	free(u->url);
	free(u->authority);
	free(u->path);
	free(u);
}

void upstream_stats(const struct upstream *u, struct upstream_stats *out)
{
	*out = u->stats;
}
