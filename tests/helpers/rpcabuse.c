/*
 * rpcabuse: hostile HTTP clients of the RPC proxy, for
 * tests/net/test_rpc_hostile.sh.
 *
 *   rpcabuse MODE IP PORT COUNT [SECS]
 *
 * Keeps COUNT TCP connections going at once (a connection the proxy closes
 * is opened again 200 ms later) for SECS seconds (0 or none: until SIGTERM
 * or SIGINT), then prints one summary line
 *
 *   MODE connects=N closed=N resets=N unanswered=N answered=N
 *        s200=N s400=N s408=N s413=N s431=N sother=N sent=N
 *
 * and exits 0 (2: bad usage, 3: the system refused). "closed" counts
 * connections the proxy closed or reset (or refused), "resets" those of them
 * that ended in a reset, "unanswered" those that got no complete answer
 * first; "answered" counts complete answers read, sNNN their status codes.
 *
 *   silent      connect, send nothing
 *   slowloris   a request line and a Host header, then one header byte per
 *               second, never ending the head
 *   bigheader   20 KiB of header lines in one go, never ending the head
 *   bigbody     a complete head declaring a 1 GB body, then one body byte
 *               per second
 *   halfclose   one complete eth_chainId request (Connection: close), shut
 *               the write side, read to EOF
 *   noread      pipeline 200 eth_getLogs requests every 200 ms (as many as
 *               the socket takes) with a 4 KiB receive buffer, never read
 *               (eth_getLogs because its answers can be large: a test can
 *               make them so with an rpc.status rule, and fill the proxy's
 *               send buffer quickly)
 *   garbage     64 to 600 random bytes, then keep the connection, silent
 *   flood       one eth_chainId request, read its answer, keep the
 *               connection open
 *
 * Not a library module: it prints, and it is a client for tests only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/rng.h"

enum abuse_mode {
	AB_SILENT, AB_SLOWLORIS, AB_BIGHEADER, AB_BIGBODY, AB_HALFCLOSE, AB_NOREAD, AB_GARBAGE,
	AB_FLOOD, AB_COUNT_
};

static const char *const abuse_names[AB_COUNT_] = {
	"silent", "slowloris", "bigheader", "bigbody", "halfclose", "noread", "garbage", "flood",
};

/* Status codes counted one by one; the rest go to "sother". */
static const int abuse_codes[] = { 200, 400, 408, 413, 431 };
#define AB_NCODES (sizeof(abuse_codes) / sizeof(abuse_codes[0]))

#define AB_IN_MAX 8192          /* one answer of the proxy fits many times */
#define AB_PIPELINE 200         /* noread: requests per 200 ms */
#define AB_BIGHEAD (20 * 1024)  /* bigheader: bytes of head sent */

struct abuse;

struct abuse_conn {
	struct abuse *ab;
	int fd;
	int connected;
	unsigned long answers;      /* complete answers read on this connection */
	char in[AB_IN_MAX];
	size_t inlen;
	struct loop_timer *timer;   /* reopen, or the next trickled byte or burst */
};

struct abuse {
	struct loop *l;
	enum abuse_mode mode;
	struct sockaddr_in addr;
	struct abuse_conn *conns;
	size_t n;
	uint64_t rng;
	char req[512];              /* one keep-alive eth_chainId request */
	size_t reqlen;
	char logs[512];             /* one keep-alive eth_getLogs request */
	size_t logslen;
	char *payload;              /* bigheader head, noread pipeline */
	size_t paylen;
	unsigned long connects, closed, resets, unanswered, answered, sent;
	unsigned long codes[AB_NCODES + 1];
};

static void abuse_open(struct abuse_conn *c);

static void abuse_reopen(struct loop *l, void *arg)
{
	struct abuse_conn *c = arg;

	(void)l;
	c->timer = NULL;
	abuse_open(c);
}

/*
 * The connection ended: how is one of 0 (we dropped it), 1 (the proxy
 * closed it), 2 (the proxy reset or refused it). Open it again later.
 */
static void abuse_drop(struct abuse_conn *c, int how)
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
	if (how) {
		ab->closed++;
		if (how == 2)
			ab->resets++;
		if (!c->answers)
			ab->unanswered++;
	}
	c->timer = loop_timer_add(ab->l, 200000, abuse_reopen, c);
}

/* Send what the socket takes now; returns -1 when the proxy is gone. */
static int abuse_send(struct abuse_conn *c, const void *p, size_t n)
{
	ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w > 0)
		c->ab->sent += (unsigned long)w;
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		abuse_drop(c, errno == EPIPE ? 1 : 2);
		return -1;
	}
	return 0;
}

/* slowloris and bigbody: one more byte every second. */
static void abuse_trickle(struct loop *l, void *arg)
{
	struct abuse_conn *c = arg;

	c->timer = NULL;
	if (abuse_send(c, "a", 1) < 0)
		return;
	c->timer = loop_timer_add(l, 1000000, abuse_trickle, c);
}

/* noread: as much of the pipeline as the socket takes, every 200 ms. */
static void abuse_pipeline(struct loop *l, void *arg)
{
	struct abuse_conn *c = arg;

	c->timer = NULL;
	if (abuse_send(c, c->ab->payload, c->ab->paylen) < 0)
		return;     /* the proxy closed it: not read, so found here */
	c->timer = loop_timer_add(l, 200000, abuse_pipeline, c);
}

/* Connected: start the mode's script. */
static void abuse_start(struct abuse_conn *c)
{
	struct abuse *ab = c->ab;
	char text[700];
	size_t len, i;
	int n;

	c->connected = 1;
	c->inlen = 0;
	c->answers = 0;
	ab->connects++;
	switch (ab->mode) {
	case AB_SLOWLORIS:
		n = snprintf(text, sizeof(text), "POST / HTTP/1.1\r\nHost: %s\r\nX-Slow: ",
			     inet_ntoa(ab->addr.sin_addr));
		if (abuse_send(c, text, (size_t)n) < 0)
			return;
		c->timer = loop_timer_add(ab->l, 1000000, abuse_trickle, c);
		break;
	case AB_BIGHEADER:
		if (abuse_send(c, ab->payload, ab->paylen) < 0)
			return;
		break;
	case AB_BIGBODY:
		n = snprintf(text, sizeof(text),
			     "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
			     "Content-Length: 1000000000\r\n\r\n{",
			     inet_ntoa(ab->addr.sin_addr));
		if (abuse_send(c, text, (size_t)n) < 0)
			return;
		c->timer = loop_timer_add(ab->l, 1000000, abuse_trickle, c);
		break;
	case AB_HALFCLOSE: {
		/* the same request, but asking the proxy to close after its answer */
		const char *ka = strstr(ab->req, "Connection: keep-alive");
		size_t pre = (size_t)(ka - ab->req);

		memcpy(text, ab->req, pre);
		memcpy(text + pre, "Connection: close     ", 22);
		memcpy(text + pre + 22, ka + 22, ab->reqlen - pre - 22);
		if (abuse_send(c, text, ab->reqlen) < 0)
			return;
		shutdown(c->fd, SHUT_WR);
		break;
	}
	case AB_NOREAD:
		abuse_pipeline(ab->l, c);
		if (c->fd >= 0)
			(void)loop_fd_mod(ab->l, c->fd, 0);
		return;
	case AB_GARBAGE:
		len = 64 + rng_next(&ab->rng) % (600 - 64 + 1);
		for (i = 0; i < len; i += 8) {
			uint64_t r = rng_next(&ab->rng);

			memcpy(text + i, &r, len - i < 8 ? len - i : 8);
		}
		if (abuse_send(c, text, len) < 0)
			return;
		break;
	case AB_FLOOD:
		if (abuse_send(c, ab->req, ab->reqlen) < 0)
			return;
		break;
	default:
		break;
	}
	(void)loop_fd_mod(ab->l, c->fd, LOOP_READ);
}

/* The Content-Length of an answer head, or 0. */
static size_t abuse_content_length(const char *head, size_t len)
{
	static const char key[] = "\r\ncontent-length:";
	size_t i;

	for (i = 0; i + sizeof(key) - 1 <= len; i++)
		if (strncasecmp(head + i, key, sizeof(key) - 1) == 0)
			return (size_t)strtoul(head + i + sizeof(key) - 1, NULL, 10);
	return 0;
}

/* Count the complete answers at the start of c->in. Returns -1 on nonsense. */
static int abuse_answers(struct abuse_conn *c)
{
	struct abuse *ab = c->ab;

	for (;;) {
		char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
		size_t head, total, k;
		int code;

		if (!end)
			return c->inlen == sizeof(c->in) ? -1 : 0;
		head = (size_t)(end - c->in) + 4;
		if (head < 12 || memcmp(c->in, "HTTP/1.", 7) != 0)
			return -1;
		total = head + abuse_content_length(c->in, head);
		if (total > sizeof(c->in))
			return -1;
		if (c->inlen < total)
			return 0;
		code = atoi(c->in + 9);
		for (k = 0; k < AB_NCODES && abuse_codes[k] != code; k++)
			;
		ab->codes[k]++;
		ab->answered++;
		c->answers++;
		memmove(c->in, c->in + total, c->inlen - total);
		c->inlen -= total;
	}
}

static void abuse_event(struct loop *l, int fd, unsigned events, void *arg)
{
	struct abuse_conn *c = arg;
	int e = 0;
	socklen_t el = sizeof(e);

	(void)l;
	(void)events;
	if (!c->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
			abuse_drop(c, 2);           /* refused */
			return;
		}
		abuse_start(c);
		return;
	}
	if (c->ab->mode == AB_NOREAD) {
		/* it never reads: an event now is the proxy's reset or close */
		abuse_drop(c, getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e ? 2 : 1);
		return;
	}
	for (;;) {
		ssize_t n = recv(fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			abuse_drop(c, n == 0 ? 1 : 2);
			return;
		}
		c->inlen += (size_t)n;
		if (abuse_answers(c) < 0) {
			c->ab->codes[AB_NCODES]++;   /* not an answer we understand */
			abuse_drop(c, 0);
			return;
		}
	}
}

static void abuse_open(struct abuse_conn *c)
{
	struct abuse *ab = c->ab;

	c->connected = 0;
	c->answers = 0;
	c->inlen = 0;
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
		abuse_drop(c, 2);
		return;
	}
	if (loop_fd_add(ab->l, c->fd, LOOP_WRITE, abuse_event, c, NULL) < 0)
		abuse_drop(c, 0);
}

static void abuse_stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static void abuse_signal(struct loop *l, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	loop_stop(l);
}

/* The requests and payloads of the mode. Returns -1 when out of memory. */
/* A keep-alive POST of body to the proxy; the length of what was written. */
static size_t abuse_request(const struct abuse *ab, char *out, size_t size, const char *body)
{
	int n = snprintf(out, size, "POST / HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: application/json\r\n"
			 "Connection: keep-alive\r\nContent-Length: %zu\r\n\r\n%s",
			 inet_ntoa(ab->addr.sin_addr), ntohs(ab->addr.sin_port), strlen(body), body);

	return (size_t)n;
}

/* The requests and payloads of the mode. Returns -1 when out of memory. */
static int abuse_prepare(struct abuse *ab)
{
	size_t i;
	int n;

	ab->reqlen = abuse_request(ab, ab->req, sizeof(ab->req),
				   "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}");
	ab->logslen = abuse_request(ab, ab->logs, sizeof(ab->logs),
				    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\","
				    "\"params\":[{\"fromBlock\":\"0x0\"}]}");
	if (ab->mode == AB_NOREAD) {
		ab->paylen = AB_PIPELINE * ab->logslen;
		ab->payload = malloc(ab->paylen);
		if (!ab->payload)
			return -1;
		for (i = 0; i < AB_PIPELINE; i++)
			memcpy(ab->payload + i * ab->logslen, ab->logs, ab->logslen);
	} else if (ab->mode == AB_BIGHEADER) {
		ab->payload = malloc(AB_BIGHEAD + 1);
		if (!ab->payload)
			return -1;
		n = snprintf(ab->payload, AB_BIGHEAD + 1, "POST / HTTP/1.1\r\nHost: %s\r\n",
			     inet_ntoa(ab->addr.sin_addr));
		/* header lines of 200 bytes, "X-Pad: aaa...\r\n", the last one cut short */
		memset(ab->payload + n, 'a', AB_BIGHEAD - (size_t)n);
		for (i = (size_t)n; i + 200 <= AB_BIGHEAD; i += 200) {
			memcpy(ab->payload + i, "X-Pad: ", 7);
			memcpy(ab->payload + i + 198, "\r\n", 2);
		}
		ab->paylen = AB_BIGHEAD;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct abuse ab;
	struct rlimit rl;
	struct err err;
	sigset_t set;
	size_t i;
	long secs = 0;
	int m = -1, rc = 3;

	memset(&ab, 0, sizeof(ab));
	err_clear(&err);
	for (i = 0; (argc == 5 || argc == 6) && i < AB_COUNT_; i++)
		if (!strcmp(argv[1], abuse_names[i]))
			m = (int)i;
	if (argc == 6)
		secs = atol(argv[5]);
	ab.addr.sin_family = AF_INET;
	if (m < 0 || inet_pton(AF_INET, argv[2], &ab.addr.sin_addr) != 1 ||
	    atoi(argv[3]) <= 0 || atoi(argv[3]) > 65535 || atoi(argv[4]) <= 0 ||
	    atoi(argv[4]) > 100000 || secs < 0) {
		fprintf(stderr, "usage: rpcabuse silent|slowloris|bigheader|bigbody|halfclose|noread|"
			"garbage|flood IP PORT COUNT [SECS]\n");
		return 2;
	}
	ab.mode = (enum abuse_mode)m;
	ab.addr.sin_port = htons((uint16_t)atoi(argv[3]));
	ab.n = (size_t)atoi(argv[4]);
	ab.rng = (uint64_t)getpid() * 0x2545f4914f6cdd1dull;
	signal(SIGPIPE, SIG_IGN);
	/* COUNT sockets plus the loop's own descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < ab.n + 64) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < ab.n + 64) {
			fprintf(stderr, "rpcabuse: %zu connections need more descriptors than the "
				"limit of %llu\n", ab.n, (unsigned long long)rl.rlim_cur);
			return 3;
		}
	}
	if (abuse_prepare(&ab) < 0) {
		err_set(&err, -ENOMEM, "out of memory");
		goto out;
	}
	ab.l = loop_new(&err);
	if (!ab.l)
		goto out;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (loop_signals(ab.l, &set, abuse_signal, NULL, &err) < 0)
		goto out;
	if (secs > 0 && !loop_timer_add(ab.l, (uint64_t)secs * 1000000, abuse_stop, NULL)) {
		err_set(&err, -ENOMEM, "out of memory");
		goto out;
	}
	ab.conns = calloc(ab.n, sizeof(*ab.conns));
	if (!ab.conns) {
		err_set(&err, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < ab.n; i++) {
		ab.conns[i].ab = &ab;
		ab.conns[i].fd = -1;
		abuse_open(&ab.conns[i]);
	}
	printf("started\n");
	fflush(stdout);
	if (loop_run(ab.l) < 0) {
		err_set(&err, -EIO, "the event loop failed");
		goto out;
	}
	printf("%s connects=%lu closed=%lu resets=%lu unanswered=%lu answered=%lu", abuse_names[ab.mode],
	       ab.connects, ab.closed, ab.resets, ab.unanswered, ab.answered);
	for (i = 0; i < AB_NCODES; i++)
		printf(" s%d=%lu", abuse_codes[i], ab.codes[i]);
	printf(" sother=%lu sent=%lu\n", ab.codes[AB_NCODES], ab.sent);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "rpcabuse: %s\n", err.msg);
	for (i = 0; ab.conns && i < ab.n; i++)
		if (ab.conns[i].fd >= 0)
			close(ab.conns[i].fd);
	free(ab.conns);
	loop_free(ab.l);
	free(ab.payload);
	return rc;
}
