/*
 * dnsabuse: hostile DNS clients, for tests/net/test_dns_hostile.sh.
 *
 *   dnsabuse MODE IP PORT COUNT
 *
 * Runs until SIGTERM or SIGINT, then prints one summary line
 * "MODE connects=N closed=N answered=N sent=N" and exits 0 (2: bad usage,
 * 3: the system refused). COUNT is the number of TCP connections kept going
 * at once (a connection the server closes is opened again 200 ms later), or
 * for udp-garbage the datagrams of one burst (one burst every 100 ms).
 *
 *   silent       connect, send nothing
 *   trickle      send a length prefix (64), then one byte per second
 *   bigframe     send a length of 65535 and 1000 bytes of it, then stop
 *   halfclose    send a query for rpc-a.example, shut the write side, read
 *                the answer to EOF; then again
 *   flood        send a query, read its answer, keep the connection open
 *   noread       pipeline 2,000 queries a second and never read an answer
 *                (a 4 KiB receive buffer), so answers pile up at the server
 *   udp-garbage  random datagrams of 1 to 600 random bytes
 *
 * "closed" counts connections the server closed or reset; "answered" counts
 * whole answers read. Not a library module: it prints, and it is a client
 * for tests only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/rng.h"

enum abuse_mode { AB_SILENT, AB_TRICKLE, AB_BIGFRAME, AB_HALFCLOSE, AB_FLOOD, AB_NOREAD, AB_UDP };

struct abuse;

struct abuse_conn {
	struct abuse *ab;
	int fd;
	int connected;
	int answered_once;
	uint8_t in[1024];
	size_t inlen;
	struct loop_timer *timer;     /* reconnect, or the next trickled byte */
};

struct abuse {
	struct loop *l;
	enum abuse_mode mode;
	struct sockaddr_in addr;
	struct abuse_conn *conns;
	size_t n;
	int udp_fd;
	uint64_t rng;
	unsigned long connects, closed, answered, sent;
};

static const char *const abuse_names[] = {
	"silent", "trickle", "bigframe", "halfclose", "flood", "noread", "udp-garbage",
};

/* A query for rpc-a.example A with a 2-byte TCP length prefix. */
static const uint8_t abuse_query[] = {
	0, 31, 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	5, 'r', 'p', 'c', '-', 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
};

static void abuse_open(struct abuse_conn *c);

static void abuse_reopen(struct loop *l, void *arg)
{
	struct abuse_conn *c = arg;

	(void)l;
	c->timer = NULL;
	abuse_open(c);
}

/* The server closed (or reset) c: open it again a little later. */
static void abuse_drop(struct abuse_conn *c, int by_server)
{
	struct abuse *ab = c->ab;

	if (c->timer)
		loop_timer_cancel(ab->l, c->timer);
	c->timer = NULL;
	if (c->fd >= 0) {
		loop_fd_del(ab->l, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	if (by_server)
		ab->closed++;
	c->timer = loop_timer_add(ab->l, 200000, abuse_reopen, c);
}

static void abuse_send(struct abuse_conn *c, const void *p, size_t n)
{
	ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w > 0)
		c->ab->sent += (unsigned long)w;
}

/* noread: as many of 2,000 pipelined queries as the socket takes, every second. */
static void abuse_pipeline(struct loop *l, void *arg)
{
	static uint8_t many[2000 * sizeof(abuse_query)];
	struct abuse_conn *c = arg;
	ssize_t w;
	size_t i;

	c->timer = NULL;
	if (!many[1])
		for (i = 0; i < 2000; i++)
			memcpy(many + i * sizeof(abuse_query), abuse_query, sizeof(abuse_query));
	w = send(c->fd, many, sizeof(many), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && errno != EAGAIN) {
		abuse_drop(c, 1);       /* the server closed it: it is not read, so found here */
		return;
	}
	if (w > 0)
		c->ab->sent += (unsigned long)w;
	c->timer = loop_timer_add(l, 1000000, abuse_pipeline, c);
}

static void abuse_trickle(struct loop *l, void *arg)
{
	struct abuse_conn *c = arg;

	c->timer = NULL;
	abuse_send(c, "x", 1);
	c->timer = loop_timer_add(l, 1000000, abuse_trickle, c);
}

/* Connected: start the mode's script. */
static void abuse_start(struct abuse_conn *c)
{
	static uint8_t big[1002] = { 0xff, 0xff };

	c->connected = 1;
	c->inlen = 0;
	c->ab->connects++;
	switch (c->ab->mode) {
	case AB_TRICKLE:
		abuse_send(c, "\x00\x40", 2);
		c->timer = loop_timer_add(c->ab->l, 1000000, abuse_trickle, c);
		break;
	case AB_BIGFRAME:
		abuse_send(c, big, sizeof(big));
		break;
	case AB_HALFCLOSE:
		abuse_send(c, abuse_query, sizeof(abuse_query));
		shutdown(c->fd, SHUT_WR);
		break;
	case AB_FLOOD:
		abuse_send(c, abuse_query, sizeof(abuse_query));
		break;
	case AB_NOREAD:
		abuse_pipeline(c->ab->l, c);
		(void)loop_fd_mod(c->ab->l, c->fd, 0);
		return;
	default:
		break;
	}
	(void)loop_fd_mod(c->ab->l, c->fd, LOOP_READ);
}

static void abuse_event(struct loop *l, int fd, unsigned events, void *arg)
{
	struct abuse_conn *c = arg;
	int e = 0;
	socklen_t el = sizeof(e);

	(void)l;
	if (!c->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
			abuse_drop(c, 1);           /* refused: counts as closed */
			return;
		}
		abuse_start(c);
		return;
	}
	(void)events;
	for (;;) {
		ssize_t n = recv(fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* After its answer, a half-closed client expects the EOF. */
			abuse_drop(c, !(c->ab->mode == AB_HALFCLOSE && n == 0 && c->inlen == 0 &&
					c->answered_once));
			return;
		}
		c->inlen += (size_t)n;
		while (c->inlen >= 2 && c->inlen >= 2 + (((size_t)c->in[0] << 8) | c->in[1])) {
			size_t fl = 2 + (((size_t)c->in[0] << 8) | c->in[1]);

			c->ab->answered++;
			c->answered_once = 1;
			memmove(c->in, c->in + fl, c->inlen - fl);
			c->inlen -= fl;
		}
		if (c->inlen == sizeof(c->in)) {
			abuse_drop(c, 0);               /* an answer larger than ours: not expected */
			return;
		}
	}
}

static void abuse_open(struct abuse_conn *c)
{
	struct abuse *ab = c->ab;

	c->connected = 0;
	c->answered_once = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->timer = loop_timer_add(ab->l, 200000, abuse_reopen, c);
		return;
	}
	if (ab->mode == AB_NOREAD) {
		int small = 4096;

		(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	if (connect(c->fd, (struct sockaddr *)&ab->addr, sizeof(ab->addr)) < 0 &&
	    errno != EINPROGRESS) {
		abuse_drop(c, 1);
		return;
	}
	if (loop_fd_add(ab->l, c->fd, LOOP_WRITE, abuse_event, c, NULL) < 0)
		abuse_drop(c, 0);
}

static void abuse_udp_burst(struct loop *l, void *arg)
{
	struct abuse *ab = arg;
	uint8_t d[600];
	size_t i, k;

	for (i = 0; i < ab->n; i++) {
		size_t len = 1 + rng_next(&ab->rng) % sizeof(d);

		for (k = 0; k < len; k += 8) {
			uint64_t r = rng_next(&ab->rng);

			memcpy(d + k, &r, len - k < 8 ? len - k : 8);
		}
		if (sendto(ab->udp_fd, d, len, MSG_DONTWAIT, (struct sockaddr *)&ab->addr,
			   sizeof(ab->addr)) > 0)
			ab->sent++;
	}
	if (!loop_timer_add(l, 100000, abuse_udp_burst, ab))
		loop_stop(l);
}

static void abuse_udp_drain(struct loop *l, int fd, unsigned events, void *arg)
{
	uint8_t d[2048];

	(void)l;
	(void)events;
	(void)arg;
	while (recv(fd, d, sizeof(d), MSG_DONTWAIT) >= 0)
		;
}

static void abuse_signal(struct loop *l, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	loop_stop(l);
}

int main(int argc, char **argv)
{
	struct abuse ab;
	struct rlimit rl;
	struct err err;
	sigset_t set;
	size_t i;
	int m = -1;

	memset(&ab, 0, sizeof(ab));
	for (i = 0; argc == 5 && i < sizeof(abuse_names) / sizeof(abuse_names[0]); i++)
		if (!strcmp(argv[1], abuse_names[i]))
			m = (int)i;
	ab.addr.sin_family = AF_INET;
	if (m < 0 || inet_pton(AF_INET, argv[2], &ab.addr.sin_addr) != 1 ||
	    atoi(argv[3]) <= 0 || atoi(argv[3]) > 65535 || atoi(argv[4]) <= 0) {
		fprintf(stderr, "usage: dnsabuse silent|trickle|bigframe|halfclose|flood|noread|udp-garbage "
			"IP PORT COUNT\n");
		return 2;
	}
	ab.mode = (enum abuse_mode)m;
	ab.addr.sin_port = htons((uint16_t)atoi(argv[3]));
	ab.n = (size_t)atoi(argv[4]);
	ab.rng = (uint64_t)getpid() * 0x2545f4914f6cdd1dull;
	ab.udp_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	ab.l = loop_new(&err);
	if (!ab.l)
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (loop_signals(ab.l, &set, abuse_signal, NULL, &err) < 0)
		goto fail;
	if (ab.mode == AB_UDP) {
		ab.udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (ab.udp_fd < 0 ||
		    loop_fd_add(ab.l, ab.udp_fd, LOOP_READ, abuse_udp_drain, &ab, &err) < 0) {
			err_errno(&err, errno, "udp socket");
			goto fail;
		}
		abuse_udp_burst(ab.l, &ab);
	} else {
		ab.conns = calloc(ab.n, sizeof(*ab.conns));
		if (!ab.conns) {
			err_set(&err, -ENOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < ab.n; i++) {
			ab.conns[i].ab = &ab;
			ab.conns[i].fd = -1;
			abuse_open(&ab.conns[i]);
		}
	}
	printf("started\n");
	fflush(stdout);
	if (loop_run(ab.l) < 0)
		goto fail;
	printf("%s connects=%lu closed=%lu answered=%lu sent=%lu\n", abuse_names[ab.mode],
	       ab.connects, ab.closed, ab.answered, ab.sent);
	return 0;
fail:
	fprintf(stderr, "dnsabuse: %s\n", err.msg);
	return 3;
}
