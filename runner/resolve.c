/*
 * resolve: stub resolver over UDP (and TCP on truncation). See resolve.h.
 */
#include "runner/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/netns.h"
#include "common/dnsmsg.h"

#define RESOLVE_TRY_US 2000000
#define RESOLVE_TRIES 2

struct resolve {
	struct loop *loop;
	int nsfd;
	struct sockaddr_storage server;
	char name[DNSMSG_TEXT_MAX];
	uint16_t id;
	int fd;
	unsigned tries;
	uint64_t budget_us, start_us;
	struct loop_timer *timer;
	resolve_fn done;
	void *arg;
	uint8_t query[512];
	int qlen;
};

int resolve_query_build(const char *name, uint16_t id, uint8_t *out, size_t cap)
{
	uint8_t wire[DNSMSG_WIRE_MAX];
	int n = dnsmsg_name_encode(name, wire, sizeof(wire), NULL);

	if (n < 0)
		return n;
	if (cap < (size_t)(DNSMSG_HDR_LEN + n + 4))
		return -ENOBUFS;
	memset(out, 0, DNSMSG_HDR_LEN);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = DNSMSG_F_RD >> 8;     /* recursion desired, as a stub resolver asks */
	out[5] = 1;                    /* one question */
	memcpy(out + DNSMSG_HDR_LEN, wire, (size_t)n);
	out[DNSMSG_HDR_LEN + n] = 0;
	out[DNSMSG_HDR_LEN + n + 1] = DNSMSG_TYPE_A;
	out[DNSMSG_HDR_LEN + n + 2] = 0;
	out[DNSMSG_HDR_LEN + n + 3] = DNSMSG_CLASS_IN;
	return DNSMSG_HDR_LEN + n + 4;
}

int resolve_answer_parse(const uint8_t *p, size_t len, uint16_t id, const char *name,
			 char *addr, size_t addrlen, char *msg, size_t msglen)
{
	struct dnsmsg m;
	char canon[DNSMSG_TEXT_MAX], cur[DNSMSG_TEXT_MAX], rc[16];
	size_t off, i;

	if (dnsmsg_parse(p, len, &m, NULL) < 0) {
		snprintf(msg, msglen, "malformed answer");
		return -EBADMSG;
	}
	if (dnsmsg_name_canon(name, canon, NULL) < 0 || m.id != id || !(m.flags & DNSMSG_F_QR) ||
	    m.qdcount != 1 || strcmp(m.qname, canon) || m.qtype != DNSMSG_TYPE_A) {
		snprintf(msg, msglen, "answer to another query");
		return -EPROTO;
	}
	if (m.flags & DNSMSG_F_TC)
		return 1;
	if (DNSMSG_RCODE(m.flags) != DNSMSG_RCODE_NOERROR) {
		snprintf(msg, msglen, "%s", dnsmsg_rcode_name(DNSMSG_RCODE(m.flags), rc));
		return DNSMSG_RCODE(m.flags) == DNSMSG_RCODE_NXDOMAIN ? -ENOENT : -EAGAIN;
	}
	/*
	 * Follow the chain from the question's name: a CNAME for the current
	 * name moves it to the target; only an A record for the current name
	 * counts. Records for other names are skipped.
	 */
	snprintf(cur, sizeof(cur), "%s", canon);
	off = m.question_end;
	for (i = 0; i < m.ancount; i++) {
		char owner[DNSMSG_TEXT_MAX];
		uint16_t type, rdlen;

		if (dnsmsg_name_read(p, len, &off, owner, NULL, NULL, NULL) < 0 || off + 10 > len)
			break;
		type = (uint16_t)(p[off] << 8 | p[off + 1]);
		rdlen = (uint16_t)(p[off + 8] << 8 | p[off + 9]);
		off += 10;
		if (off + rdlen > len)
			break;
		if (!strcmp(owner, cur) && type == DNSMSG_TYPE_CNAME) {
			size_t t = off;
			char target[DNSMSG_TEXT_MAX];

			if (dnsmsg_name_read(p, len, &t, target, NULL, NULL, NULL) == 0)
				snprintf(cur, sizeof(cur), "%s", target);
		} else if (!strcmp(owner, cur) && type == DNSMSG_TYPE_A && rdlen == 4) {
			inet_ntop(AF_INET, p + off, addr, (socklen_t)addrlen);
			return 0;
		}
		off += rdlen;
	}
	snprintf(msg, msglen, "no address (NOERROR without an A record)");
	return -ENODATA;
}

static void resolve_close(struct resolve *r)
{
	if (r->timer) {
		loop_timer_cancel(r->loop, r->timer);
		r->timer = NULL;
	}
	if (r->fd >= 0) {
		loop_fd_del(r->loop, r->fd);
		close(r->fd);
		r->fd = -1;
	}
}

void resolve_cancel(struct resolve *r)
{
	if (!r)
		return;
	resolve_close(r);
	free(r);
}

static void resolve_finish(struct resolve *r, int rc, const char *addr, const char *msg)
{
	resolve_fn done = r->done;
	void *arg = r->arg;

	resolve_close(r);
	free(r);
	done(arg, rc, addr, msg);
}

struct resolve_tcp {
	struct resolve *r;
	char addr[64];
	char msg[128];
};

/* The TCP retry: short and synchronous, inside the flow's namespace. */
static int resolve_tcp_fn(void *arg, struct err *err)
{
	struct resolve_tcp *t = arg;
	struct resolve *r = t->r;
	struct timeval tv = { 2, 0 };
	uint8_t buf[4096];
	size_t got = 0, need = 0;
	int fd, rc = -ETIMEDOUT;

	(void)err;
	snprintf(t->msg, sizeof(t->msg), "TCP retry failed");
	fd = socket(r->server.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&r->server, r->server.ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0)
		goto out;
	buf[0] = (uint8_t)(r->qlen >> 8);
	buf[1] = (uint8_t)r->qlen;
	memcpy(buf + 2, r->query, (size_t)r->qlen);
	if (write(fd, buf, (size_t)r->qlen + 2) != r->qlen + 2)
		goto out;
	while (got < 2 || got < need + 2) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n <= 0)
			goto out;
		got += (size_t)n;
		if (got >= 2)
			need = (size_t)(buf[0] << 8 | buf[1]);
		if (need + 2 > sizeof(buf))
			goto out;
	}
	rc = resolve_answer_parse(buf + 2, need, r->id, r->name, t->addr, sizeof(t->addr), t->msg,
				  sizeof(t->msg));
	if (rc == 1) {
		snprintf(t->msg, sizeof(t->msg), "truncated over TCP too");
		rc = -EBADMSG;
	}
out:
	close(fd);
	return rc;
}

static int resolve_send(struct resolve *r);

static void resolve_timeout(struct loop *l, void *arg)
{
	struct resolve *r = arg;
	char msg[96];

	(void)l;
	r->timer = NULL;
	if (r->tries < RESOLVE_TRIES && loop_now_us() - r->start_us < r->budget_us &&
	    resolve_send(r) == 0)
		return;
	snprintf(msg, sizeof(msg), "no answer (timed out after %u %s)", r->tries,
		 r->tries == 1 ? "try" : "tries");
	resolve_finish(r, -ETIMEDOUT, NULL, msg);
}

static void resolve_ready(struct loop *l, int fd, unsigned events, void *arg)
{
	struct resolve *r = arg;
	uint8_t buf[1500];
	char addr[64] = "", msg[128] = "";
	ssize_t n;
	int rc;

	(void)l;
	(void)events;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		resolve_finish(r, -errno, NULL, msg);
		return;
	}
	rc = resolve_answer_parse(buf, (size_t)n, r->id, r->name, addr, sizeof(addr), msg,
				  sizeof(msg));
	if (rc == -EPROTO || rc == -EBADMSG)
		return;   /* not ours or garbage: keep waiting, as a stub resolver does */
	if (rc == 1) {
		struct resolve_tcp t;

		memset(&t, 0, sizeof(t));
		t.r = r;
		rc = netns_run(r->nsfd, resolve_tcp_fn, &t, NULL);
		resolve_finish(r, rc, rc == 0 ? t.addr : NULL, t.msg);
		return;
	}
	resolve_finish(r, rc, rc == 0 ? addr : NULL, msg);
}

static int resolve_send(struct resolve *r)
{
	uint64_t left = r->budget_us - (loop_now_us() - r->start_us);

	r->tries++;
	if (send(r->fd, r->query, (size_t)r->qlen, 0) < 0 && errno != ECONNREFUSED)
		return -errno;
	r->timer = loop_timer_add(r->loop, left < RESOLVE_TRY_US ? left : RESOLVE_TRY_US,
				  resolve_timeout, r);
	return r->timer ? 0 : -ENOMEM;
}

static void resolve_kick(struct loop *l, void *arg)
{
	struct resolve *r = arg;
	char msg[96];

	(void)l;
	r->timer = NULL;
	if (resolve_send(r)) {
		snprintf(msg, sizeof(msg), "cannot send the query: %s", strerror(errno));
		resolve_finish(r, -EIO, NULL, msg);
	}
}

struct resolve *resolve_start(struct loop *l, int nsfd, const struct sockaddr_storage *server,
			      const char *name, uint64_t budget_us, resolve_fn done, void *arg,
			      struct err *err)
{
	struct resolve *r = calloc(1, sizeof(*r));
	socklen_t sl = server->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
		       sizeof(struct sockaddr_in6);

	if (!r) {
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	r->loop = l;
	r->nsfd = nsfd;
	r->server = *server;
	r->done = done;
	r->arg = arg;
	r->budget_us = budget_us ? budget_us : RESOLVE_TRY_US * RESOLVE_TRIES;
	r->start_us = loop_now_us();
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (getrandom(&r->id, sizeof(r->id), 0) != sizeof(r->id))
		r->id = (uint16_t)r->start_us;
	r->qlen = resolve_query_build(name, r->id, r->query, sizeof(r->query));
	if (r->qlen < 0) {
		err_set(err, -EINVAL, "\"%s\" is not a valid host name", name);
		free(r);
		return NULL;
	}
	r->fd = netns_socket(nsfd, server->ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0, err);
	if (r->fd < 0) {
		free(r);
		return NULL;
	}
	if (connect(r->fd, (const struct sockaddr *)server, sl) < 0 ||
	    loop_fd_add(l, r->fd, LOOP_READ, resolve_ready, r, err)) {
		if (!err || !err->code)
			err_errno(err, errno, "connect to the DNS server");
		close(r->fd);
		free(r);
		return NULL;
	}
	/* the first send happens from the loop, so done never runs inside this call */
	r->timer = loop_timer_add(l, 0, resolve_kick, r);
	if (!r->timer) {
		resolve_cancel(r);
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	return r;
}
