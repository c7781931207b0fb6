/*
 * pcapdrv: packet capture points and their evidence, driven from a shell
 * script, for tests/e2e/test_pcap.sh (the runner's --pcap goes through the
 * same reports/capture calls).
 *
 *   pcapdrv REPORT.json [--point NS IFNAME ROLE LABEL FILE]...
 *                       [--fault KIND PREFIXES NAMES]...
 *
 * NS is a name under /var/run/netns ("-": this process's namespace), ROLE is
 * near, far or dns, PREFIXES and NAMES are comma-separated lists ("-" for
 * none); faults are numbered from 0 in the order given. Once every point
 * captures, the helper prints "ready" and reads commands on stdin, one per
 * line: "on N" and "off N" open and close fault N's window at that moment
 * (answered "on N T_MS" / "off N T_MS"), "end" (or end of input) stops the
 * captures, counts the evidence and writes the JSON report, then prints
 * "origin_ns NS" (the wall-clock time zero that the report's milliseconds
 * count from) and exits 0. Errors go to stderr with exit status 2 (bad
 * arguments) or 3 (the system refused).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/netns.h"
#include "reports/capture.h"
#include "reports/report_json.h"
#include "reports/result.h"

#define MAX_LIST 16

struct drv {
	struct loop *loop;
	struct capture *cap;
	struct run_result *res;
	uint64_t t0;
	char line[256];
	size_t len;
	int done;
};

static size_t split(char *s, char **out)
{
	size_t n = 0;
	char *save = NULL, *tok;

	if (!strcmp(s, "-"))
		return 0;
	for (tok = strtok_r(s, ",", &save); tok && n < MAX_LIST; tok = strtok_r(NULL, ",", &save))
		out[n++] = tok;
	return n;
}

static void drv_command(struct drv *d, const char *cmd)
{
	unsigned long n;
	uint64_t t = (loop_now_us() - d->t0) / 1000;

	if (!strcmp(cmd, "end")) {
		d->done = 1;
		loop_stop(d->loop);
		return;
	}
	if (sscanf(cmd, "on %lu", &n) == 1 && n < d->res->nfaults) {
		d->res->faults[n].start_ms = t;
		printf("on %lu %llu\n", n, (unsigned long long)t);
	} else if (sscanf(cmd, "off %lu", &n) == 1 && n < d->res->nfaults) {
		d->res->faults[n].end_ms = t;
		printf("off %lu %llu\n", n, (unsigned long long)t);
	} else {
		fprintf(stderr, "pcapdrv: unknown command \"%s\"\n", cmd);
	}
	fflush(stdout);
}

static void drv_stdin(struct loop *l, int fd, unsigned events, void *arg)
{
	struct drv *d = arg;
	ssize_t n;
	char *nl;

	(void)events;
	n = read(fd, d->line + d->len, sizeof(d->line) - 1 - d->len);
	if (n <= 0) {
		loop_fd_del(l, fd);
		d->done = 1;
		loop_stop(l);
		return;
	}
	d->len += (size_t)n;
	d->line[d->len] = '\0';
	while ((nl = strchr(d->line, '\n'))) {
		*nl = '\0';
		drv_command(d, d->line);
		d->len -= (size_t)(nl + 1 - d->line);
		memmove(d->line, nl + 1, d->len + 1);
	}
	if (d->len == sizeof(d->line) - 1)
		d->len = 0;   /* an overlong line is dropped */
}

static int role_parse(const char *s, enum capture_role *r)
{
	if (!strcmp(s, "near"))
		*r = CAPTURE_NEAR;
	else if (!strcmp(s, "far"))
		*r = CAPTURE_FAR;
	else if (!strcmp(s, "dns"))
		*r = CAPTURE_DNS;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct drv d;
	struct err err;
	size_t nfaults = 0, fi = 0;
	int i, rc = 0, nsfds[64], nns = 0;

	memset(&d, 0, sizeof(d));
	err_clear(&err);
	if (argc < 2) {
		fprintf(stderr, "usage: pcapdrv REPORT.json [--point NS IF ROLE LABEL FILE]... "
			"[--fault KIND PREFIXES NAMES]...\n");
		return 2;
	}
	for (i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--fault"))
			nfaults++;
	d.loop = loop_new(&err);
	d.res = result_new(0, nfaults);
	d.cap = d.loop ? capture_new(d.loop, &err) : NULL;
	if (!d.loop || !d.res || !d.cap) {
		fprintf(stderr, "pcapdrv: %s\n", err.msg[0] ? err.msg : "out of memory");
		return 3;
	}
	d.res->scenario = strdup("pcapdrv");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--point") && i + 5 < argc + 0 && nns < 64) {
			enum capture_role role;
			int fd = NETNS_SELF;

			if (role_parse(argv[i + 3], &role)) {
				fprintf(stderr, "pcapdrv: bad role %s\n", argv[i + 3]);
				return 2;
			}
			if (strcmp(argv[i + 1], "-") && netns_open(argv[i + 1], &fd, &err)) {
				fprintf(stderr, "pcapdrv: %s\n", err.msg);
				return 3;
			}
			if (fd >= 0)
				nsfds[nns++] = fd;
			if (capture_add_point(d.cap, fd, argv[i + 2], argv[i + 4], role, argv[i + 5],
					      &err)) {
				fprintf(stderr, "pcapdrv: %s\n", err.msg);
				return 3;
			}
			i += 5;
		} else if (!strcmp(argv[i], "--fault") && i + 3 < argc) {
			char *pfx[MAX_LIST], *names[MAX_LIST];
			size_t np = split(argv[i + 2], pfx), nn = split(argv[i + 3], names);

			d.res->faults[fi].kind = strdup(argv[i + 1]);
			d.res->faults[fi].label = strdup(argv[i + 1]);
			d.res->faults[fi].start_ms = UINT64_MAX;
			d.res->faults[fi].end_ms = UINT64_MAX;
			if (capture_add_fault(d.cap, fi, (const char *const *)pfx, np,
					      (const char *const *)names, nn, &err)) {
				fprintf(stderr, "pcapdrv: %s\n", err.msg);
				return 2;
			}
			fi++;
			i += 3;
		} else {
			fprintf(stderr, "pcapdrv: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (loop_fd_add(d.loop, 0, LOOP_READ, drv_stdin, &d, &err)) {
		fprintf(stderr, "pcapdrv: %s\n", err.msg);
		return 3;
	}
	d.t0 = loop_now_us();
	capture_set_origin(d.cap, d.t0);
	printf("ready\n");
	fflush(stdout);
	while (!d.done)
		if (loop_run(d.loop))
			break;
	d.res->duration_ms = (loop_now_us() - d.t0) / 1000;
	if (capture_finish(d.cap, d.res, &err)) {
		fprintf(stderr, "pcapdrv: %s\n", err.msg);
		rc = 3;
	}
	result_finish(d.res);
	if (!rc && report_json_write_path(d.res, argv[1], &err)) {
		fprintf(stderr, "pcapdrv: %s\n", err.msg);
		rc = 3;
	}
	if (!rc)
		printf("origin_ns %llu\n", (unsigned long long)capture_origin_ns(d.cap));
	capture_free(d.cap);
	result_free(d.res);
	loop_free(d.loop);
	for (i = 0; i < nns; i++)
		close(nsfds[i]);
	return rc;
}
