/*
 * idlehold: open many TCP connections to an HTTP server, keep them open and
 * silent, notice every one the server closes, and at the end send one
 * JSON-RPC request on a sample of them to show they were still served. For
 * load benchmarks (bench/load/); it changes nothing outside its own sockets.
 *
 *   idlehold [-s SAMPLE] [-b BATCH] [-w PROBE_MS] ADDR PORT N
 *
 * Opens N connections to the IPv4 ADDR:PORT (raising its own descriptor
 * limit up to the hard limit), prints "ready OPENED FAILED SECONDS" and
 * holds them until SIGUSR1, SIGTERM or SIGINT. While holding, a connection
 * that becomes readable (the server closed it or sent something unasked) is
 * counted as dropped and closed. Then it sends "POST /" with an eth_chainId
 * call on SAMPLE of the connections still open, spread evenly (default: all
 * of them), at most BATCH (default 200) waiting for an answer at a time, and
 * gives the whole probe PROBE_MS (default 30000). Last line on stdout:
 *
 *   idle opened=N failed=F dropped=D open=O probed=P answered=A bad=B slowest_ms=T
 *
 * "answered" counts "HTTP/1.x 200" status lines; "bad" counts other answers,
 * a close or a reset; the rest of the probed connections got nothing within
 * PROBE_MS; slowest_ms is the longest wait for one answer. Exit 0 when
 * every probed connection answered 200 and none was dropped, 1 otherwise,
 * 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IH_EVENTS 256
#define IH_SIGNAL_TAG UINT64_MAX

enum ih_state {
	IH_FAILED = 0,  /* never connected */
	IH_OPEN,        /* connected, silent, watched */
	IH_DROPPED,     /* the server closed it (or talked) while idle */
	IH_PROBED,      /* request sent, waiting for the status line */
	IH_ANSWERED,    /* "HTTP/1.x 200" seen */
	IH_BAD,         /* another status, a close or an error */
};

struct ih_conn {
	int fd;
	enum ih_state state;
	unsigned char got;     /* status line bytes kept so far */
	char head[16];
	double sent;           /* when the probe request went out */
};

static double ih_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ih_usage(void)
{
	fprintf(stderr, "usage: idlehold [-s SAMPLE] [-b BATCH] [-w PROBE_MS] ADDR PORT N\n");
}

/* Parse a non-negative decimal that fits in long; -1 when it is not one. */
static long ih_num(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	return v;
}

/* Connect one socket (blocking, which on loopback is a few microseconds), then
 * switch it to non-blocking for the hold. Returns the fd or -1. */
static int ih_connect(const struct sockaddr_in *sa)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The state a connection's status line puts it in: IH_PROBED while incomplete. */
static enum ih_state ih_status(const struct ih_conn *c)
{
	if (c->got < 12)
		return IH_PROBED;
	if (memcmp(c->head, "HTTP/1.", 7) == 0 && memcmp(c->head + 8, " 200", 4) == 0)
		return IH_ANSWERED;
	return IH_BAD;
}

int main(int argc, char **argv)
{
	static const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}";
	struct epoll_event evs[IH_EVENTS];
	struct ih_conn *conns = NULL;
	struct sockaddr_in sa;
	struct rlimit rl;
	sigset_t set;
	char req[512];
	long n, sample = -1, probe_ms = 30000, batch = 200, i, next = 0, seen = 0;
	long opened = 0, failed = 0, dropped = 0, open_now = 0, probed = 0, answered = 0, bad = 0;
	double t0, slowest = 0, deadline;
	int ep = -1, sfd = -1, opt, reqlen, holding = 1, rc = 1;

	while ((opt = getopt(argc, argv, "b:s:w:")) != -1) {
		if (opt == 'b' && (batch = ih_num(optarg, 1000000)) > 0)
			continue;
		if (opt == 's' && (sample = ih_num(optarg, 10000000)) > 0)
			continue;
		if (opt == 'w' && (probe_ms = ih_num(optarg, 3600000)) >= 0)
			continue;
		ih_usage();
		return 2;
	}
	if (argc - optind != 3) {
		ih_usage();
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	n = ih_num(argv[optind + 2], 1000000);
	i = ih_num(argv[optind + 1], 65535);
	if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1 || i <= 0 || n <= 0) {
		ih_usage();
		return 2;
	}
	sa.sin_port = htons((unsigned short)i);
	reqlen = snprintf(req, sizeof(req),
			  "POST / HTTP/1.1\r\nHost: %s:%ld\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n\r\n%s",
			  argv[optind], i, sizeof(body) - 1, body);
	signal(SIGPIPE, SIG_IGN);

	/* Room for N sockets plus the few of our own. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64 < rl.rlim_max ? (rlim_t)n + 64 : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("idlehold: setup");
		goto out;
	}
	evs[0].events = EPOLLIN;
	evs[0].data.u64 = IH_SIGNAL_TAG;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &evs[0]) < 0) {
		perror("idlehold: epoll_ctl");
		goto out;
	}
	conns = calloc((size_t)n, sizeof(*conns));
	if (!conns) {
		fprintf(stderr, "idlehold: out of memory\n");
		goto out;
	}
	for (i = 0; i < n; i++)
		conns[i].fd = -1;

	t0 = ih_now();
	for (i = 0; i < n; i++) {
		struct epoll_event ev;

		conns[i].fd = ih_connect(&sa);
		if (conns[i].fd < 0) {
			failed++;
			continue;
		}
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = (uint64_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0) {
			close(conns[i].fd);
			conns[i].fd = -1;
			failed++;
			continue;
		}
		conns[i].state = IH_OPEN;
		opened++;
	}
	open_now = opened;
	printf("ready %ld %ld %.2f\n", opened, failed, ih_now() - t0);
	fflush(stdout);

	/* Hold: every event on a connection means the server gave up on it. */
	while (holding) {
		int k, m = epoll_wait(ep, evs, IH_EVENTS, -1);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			perror("idlehold: epoll_wait");
			goto out;
		}
		for (k = 0; k < m; k++) {
			struct ih_conn *c;

			if (evs[k].data.u64 == IH_SIGNAL_TAG) {
				holding = 0;
				continue;
			}
			c = &conns[evs[k].data.u64];
			if (c->state != IH_OPEN)
				continue;
			(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->fd = -1;
			c->state = IH_DROPPED;
			dropped++;
			open_now--;
		}
	}

	/* Probe a spread of the survivors, at most BATCH requests in flight so
	 * that the probe itself is not a burst of N upstream connections. */
	if (sample < 0 || sample > open_now)
		sample = open_now;
	deadline = ih_now() + (double)probe_ms / 1000.0;
	for (;;) {
		double left;
		int k, m;

		while (probed - answered - bad < batch && probed < sample && next < n) {
			struct ih_conn *c = &conns[next++];

			if (c->state != IH_OPEN || seen++ % (open_now / sample))
				continue;
			probed++;
			c->sent = ih_now();
			if (send(c->fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen) {
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				c->state = IH_BAD;
				bad++;
				continue;
			}
			c->state = IH_PROBED;
		}
		left = deadline - ih_now();
		if (answered + bad >= probed && (probed >= sample || next >= n))
			break;
		if (left <= 0)
			break;
		m = epoll_wait(ep, evs, IH_EVENTS, (int)(left * 1000) + 1);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			break;
		for (k = 0; k < m; k++) {
			struct ih_conn *c;
			ssize_t r;

			if (evs[k].data.u64 == IH_SIGNAL_TAG)
				continue;
			c = &conns[evs[k].data.u64];
			if (c->state != IH_PROBED)
				continue;
			r = recv(c->fd, c->head + c->got, sizeof(c->head) - c->got, 0);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r > 0)
				c->got = (unsigned char)(c->got + r);
			c->state = r > 0 ? ih_status(c) : IH_BAD;
			if (c->state == IH_PROBED)
				continue; /* fewer than 12 bytes so far */
			(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			if (c->state == IH_ANSWERED)
				answered++;
			else
				bad++;
			if (ih_now() - c->sent > slowest)
				slowest = ih_now() - c->sent;
		}
	}
	printf("idle opened=%ld failed=%ld dropped=%ld open=%ld probed=%ld answered=%ld bad=%ld "
	       "slowest_ms=%.0f\n",
	       opened, failed, dropped, open_now, probed, answered, bad, slowest * 1000);
	fflush(stdout);
	rc = dropped == 0 && failed == 0 && answered == probed ? 0 : 1;
out:
	if (conns)
		for (i = 0; i < n; i++)
			if (conns[i].fd >= 0)
				close(conns[i].fd);
	free(conns);
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
