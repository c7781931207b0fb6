/*
 * udprate: the rate a path delivers, measured with paced UDP datagrams, for
 * tests where TCP would measure its own reaction to loss instead of the
 * link (a rate limit plus random loss). Run inside a namespace with
 * `ip netns exec`; it makes no namespace changes of its own.
 *
 *   udprate sink ADDR PORT
 *       bind ADDR:PORT, print "listening", count datagrams until none has
 *       come for one second (or 60 s passed), then print
 *       "received BYTES PACKETS SECONDS BITS_PER_SECOND": IP-level bytes
 *       (payload + 28) from the second datagram to the last, over the time
 *       between the first and the last
 *   udprate send ADDR PORT BITS_PER_SECOND SECONDS
 *       send 1000-byte datagrams paced at that IP-level rate
 *
 * Exit 0, or 1 with a message on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UR_PAYLOAD 1000
#define UR_OVERHEAD 28     /* IPv4 + UDP headers */

static double ur_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ur_addr(const char *addr, const char *port, struct sockaddr_in *sa)
{
	char *end;
	long p = strtol(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end || p < 1 || p > 65535 || inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "udprate: bad address %s port %s\n", addr, port);
		return -1;
	}
	sa->sin_port = htons((uint16_t)p);
	return 0;
}

static int ur_sink(const char *addr, const char *port)
{
	struct sockaddr_in sa;
	struct pollfd pfd;
	char buf[2048];
	double start = ur_now(), first = 0, last = 0;
	unsigned long long bytes = 0, pkts = 0;
	int fd, rcvbuf = 4 << 20;

	if (ur_addr(addr, port, &sa) < 0)
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "udprate: bind: %s\n", strerror(errno));
		return 1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	printf("listening\n");
	fflush(stdout);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		int r = poll(&pfd, 1, pkts ? 1000 : 30000);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ur_now() - start > 60)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		last = ur_now();
		if (pkts++ == 0)
			first = last;
		else
			bytes += (unsigned long long)n + UR_OVERHEAD;
	}
	close(fd);
	if (pkts < 2 || last <= first) {
		fprintf(stderr, "udprate: received %llu datagrams: too few to measure\n", pkts);
		return 1;
	}
	printf("received %llu %llu %.3f %.0f\n", bytes, pkts, last - first,
	       (double)bytes * 8 / (last - first));
	return 0;
}

static int ur_send(const char *addr, const char *port, const char *bps_s, const char *secs_s)
{
	struct sockaddr_in sa;
	char buf[UR_PAYLOAD];
	double bps = strtod(bps_s, NULL), secs = strtod(secs_s, NULL), start, gap;
	unsigned long long i;
	int fd;

	if (ur_addr(addr, port, &sa) < 0)
		return 1;
	if (!(bps > 0) || !(secs > 0)) {
		fprintf(stderr, "udprate: bad rate or duration\n");
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "udprate: connect: %s\n", strerror(errno));
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	gap = (UR_PAYLOAD + UR_OVERHEAD) * 8 / bps;
	start = ur_now();
	for (i = 0; ; i++) {
		double due = start + (double)i * gap, now = ur_now();

		if (due - start >= secs)
			break;
		if (due > now) {
			struct timespec ts = { (time_t)(due - now),
					       (long)((due - now - (double)(time_t)(due - now)) * 1e9) };

			nanosleep(&ts, NULL);
		}
		(void)send(fd, buf, sizeof(buf), 0);  /* a full queue or ICMP error: go on */
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return ur_sink(argv[2], argv[3]);
	if (argc == 6 && !strcmp(argv[1], "send"))
		return ur_send(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: udprate sink ADDR PORT | udprate send ADDR PORT BPS SECONDS\n");
	return 1;
}
