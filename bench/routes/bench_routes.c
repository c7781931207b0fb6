/*
 * bench_routes: time doorjam's route module applying and reverting N
 * unreachable /24 routes (one private table + one policy rule) in a network
 * namespace, journaled as in a real run. Prints one line per run:
 * "apply_ms revert_ms". Built and run by bench/routes/run.sh.
 *
 *   bench_routes NS N RUNS
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/netns.h"
#include "injector/journal.h"
#include "injector/route.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct route_prefix *p;
	struct route_set *rs;
	struct journal *j;
	struct err err;
	int nsfd, n, runs, i, r;
	double t0, t1, t2;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_routes NS N RUNS\n");
		return 2;
	}
	n = atoi(argv[2]);
	runs = atoi(argv[3]);
	p = calloc((size_t)n, sizeof(*p));
	if (!p || n <= 0 || n > 65536 || runs <= 0)
		return 2;
	for (i = 0; i < n; i++) {
		char s[32];

		snprintf(s, sizeof(s), "10.%d.%d.0/24", 64 + i / 256, i % 256);
		if (route_prefix_parse(s, &p[i], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	}
	if (netns_open(argv[1], &nsfd, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	for (r = 0; r < runs; r++) {
		if (journal_open(NULL, &j, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		t0 = now_ms();
		if (route_apply(nsfd, j, RTN_UNREACHABLE, p, (size_t)n, &rs, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		t1 = now_ms();
		if (route_revert(rs, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		t2 = now_ms();
		if (journal_close(j, 1, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		printf("%.2f %.2f\n", t1 - t0, t2 - t1);
	}
	free(p);
	return 0;
}
