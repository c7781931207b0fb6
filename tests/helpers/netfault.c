/*
 * netfault: a test driver for the net.* fault kinds, outside the runner.
 *
 *   netfault apply NS 'FAULT-JSON' [--force] [--allow-root-netns]
 *       validate the fault as a scenario would, open a journal (folder:
 *       DOORJAM_JOURNAL_DIR or /run/doorjam), apply it in namespace NS (a
 *       name, a path or a PID; "-" for our own), print "applied" and wait for
 *       SIGTERM or SIGINT; then revert, remove the journal, print "reverted".
 *   netfault recover [NS]   undo stale journals; also sweep NS for marks
 *   netfault stale          print the stale journals; exit 3 when there are some
 *   netfault probe          print the kernel's traffic-control kinds
 *   netfault connect NS ADDR PORT TIMEOUT_MS
 *       one TCP connect from inside NS; prints "connect RESULT MS" where
 *       RESULT is ok, timeout or the errno name (EHOSTUNREACH, ...)
 *   netfault sink NS ADDR PORT   accept one TCP connection, read to EOF, print
 *       "received BYTES SECONDS BITS_PER_SECOND" (steady rate: from 64 KiB in to EOF)
 *   netfault send NS ADDR PORT BYTES   connect and write BYTES zero bytes
 *
 * Exit codes follow doorjam's: 0 fine, 1 failed, 2 invalid input, 3 the
 * system refused (privileges, kernel feature missing, foreign qdisc).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/netns.h"
#include "injector/journal.h"
#include "injector/probe.h"
#include "runner/check.h"
#include "runner/fault.h"
#include "runner/scenario.h"

static int exit_for(int rc)
{
	if (rc == -ENOTSUP || rc == -EPERM || rc == -EBUSY || rc == -EACCES)
		return 3;
	return 1;
}

static int cmd_apply(int argc, char **argv)
{
	struct fault_env env;
	struct fault f;
	struct scenario sc;
	struct diags d;
	struct check c;
	struct journal *j = NULL;
	struct err err;
	json_error_t jerr;
	json_t *obj, *kind;
	const char *text = argv[3];
	sigset_t set;
	int sig, rc, i;

	memset(&env, 0, sizeof(env));
	memset(&f, 0, sizeof(f));
	memset(&sc, 0, sizeof(sc));
	err_clear(&err);
	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			env.force = 1;
		else if (!strcmp(argv[i], "--allow-root-netns"))
			env.allow_root_netns = 1;
		else {
			fprintf(stderr, "netfault: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	obj = json_loads(text, 0, &jerr);
	if (!obj || !json_is_object(obj)) {
		fprintf(stderr, "netfault: fault JSON: %s\n", obj ? "not an object" : jerr.text);
		return 2;
	}
	kind = json_object_get(obj, "kind");
	f.ops = json_is_string(kind) ? fault_lookup(json_string_value(kind)) : NULL;
	if (!f.ops || strncmp(f.ops->kind, "net.", 4)) {
		fprintf(stderr, "netfault: not a net.* kind\n");
		json_decref(obj);
		return 2;
	}
	diags_init(&d);
	check_init(&c, "argv", text, strlen(text), &d);
	{
		/* the loader's job in a scenario: common keys + the kind's keys */
		const char *allowed[32];
		size_t n = 0;

		allowed[n++] = "kind";
		allowed[n++] = "region";
		for (i = 0; f.ops->keys && f.ops->keys[i] && n < 31; i++)
			allowed[n++] = f.ops->keys[i];
		allowed[n] = NULL;
		(void)check_keys(&c, obj, "", allowed);
	}
	if (f.ops->validate(&c, &sc, obj, "", &f.params) < 0 || c.errors) {
		char line[2048];
		size_t k;

		for (k = 0; k < d.n; k++)
			fprintf(stderr, "%s\n", diag_format(&d.v[k], line, sizeof(line)));
		diags_cleanup(&d);
		if (f.params)
			f.ops->free_params(f.params);
		json_decref(obj);
		return 2;
	}
	diags_cleanup(&d);
	f.ptr = (char *)"/faults/0";
	rc = netns_open(strcmp(argv[2], "-") ? argv[2] : NULL, &env.target_nsfd, &err);
	if (rc < 0)
		goto fail;
	rc = journal_open(NULL, &j, &err);
	if (rc < 0)
		goto fail;
	env.journal = j;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	rc = f.ops->apply(&env, &f, &err);
	if (rc < 0)
		goto fail;
	printf("applied\n");
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	rc = f.ops->revert(&env, &f, &err);
	if (rc < 0)
		goto fail;
	rc = journal_close(j, 1, &err);
	j = NULL;
	if (rc < 0)
		goto fail;
	printf("reverted\n");
	f.ops->free_params(f.params);
	json_decref(obj);
	return 0;
fail:
	fprintf(stderr, "netfault: %s\n", err.msg);
	/* after a failed apply nothing remains: the journal may go */
	if (j)
		(void)journal_close(j, 1, NULL);
	if (f.params)
		f.ops->free_params(f.params);
	json_decref(obj);
	return exit_for(rc);
}

static int cmd_recover(int argc, char **argv)
{
	struct journal_recover_stats st;
	struct err err;
	int nsfd = -2, rc;

	err_clear(&err);
	if (argc > 2) {
		rc = netns_open(strcmp(argv[2], "-") ? argv[2] : NULL, &nsfd, &err);
		if (rc < 0) {
			fprintf(stderr, "netfault: %s\n", err.msg);
			return 1;
		}
	}
	rc = journal_recover(NULL, nsfd, &st, &err);
	printf("recover: journals=%zu records=%zu undone=%zu absent=%zu swept=%zu ns_gone=%zu%s\n",
	       st.journals, st.records, st.undone, st.absent, st.swept, st.ns_gone,
	       st.live ? " (a live run holds a journal: no sweep by marks)" : "");
	if (rc < 0) {
		fprintf(stderr, "netfault: %s\n", err.msg);
		return exit_for(rc);
	}
	return 0;
}

static int cmd_stale(void)
{
	struct err err;
	char **paths;
	size_t n, i;

	err_clear(&err);
	if (journal_stale(NULL, &paths, &n, &err) < 0) {
		fprintf(stderr, "netfault: %s\n", err.msg);
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("stale %s\n", paths[i]);
	journal_paths_free(paths, n);
	return n ? 3 : 0;
}

static int cmd_probe(void)
{
	struct probe_kind *k;
	struct err err;
	char why[128];
	size_t n, i;

	err_clear(&err);
	printf("privileges %s %s\n", probe_privileges(why, sizeof(why)) ? "ok" : "missing", why);
	if (probe_kernel(&k, &n, &err) < 0) {
		fprintf(stderr, "netfault: %s\n", err.msg);
		return 3;
	}
	for (i = 0; i < n; i++)
		printf("%s %s %s%s%s\n", probe_type_name(k[i].type), k[i].kind,
		       k[i].present == 1 ? "yes" : "no", k[i].detail[0] ? " " : "", k[i].detail);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A socket in namespace ns for ADDR:PORT (v4 or v6); fills sa. */
static int sock_for(const char *ns, const char *addr, const char *port,
		    struct sockaddr_storage *sa, socklen_t *salen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	struct err err;
	int nsfd, fd;

	err_clear(&err);
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(port));
		*salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
		*salen = sizeof(*s6);
	} else {
		fprintf(stderr, "netfault: bad address %s\n", addr);
		return -1;
	}
	if (netns_open(strcmp(ns, "-") ? ns : NULL, &nsfd, &err) < 0) {
		fprintf(stderr, "netfault: %s\n", err.msg);
		return -1;
	}
	fd = netns_socket(nsfd, sa->ss_family, SOCK_STREAM, 0, &err);
	if (nsfd >= 0)
		close(nsfd);
	if (fd < 0)
		fprintf(stderr, "netfault: %s\n", err.msg);
	return fd;
}

static int cmd_connect(char **argv)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	struct pollfd pfd;
	int fd = sock_for(argv[2], argv[3], argv[4], &sa, &salen), e = 0;
	socklen_t elen = sizeof(e);
	double t0;
	const char *res;

	if (fd < 0)
		return 1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	t0 = now_s();
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0 && errno != EINPROGRESS) {
		e = errno;
	} else {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, atoi(argv[5])) == 0)
			e = ETIMEDOUT;
		else
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen);
	}
	res = e == 0 ? "ok" : e == ETIMEDOUT ? "timeout" : strerrorname_np(e);
	printf("connect %s %.1f\n", res ? res : "?", (now_s() - t0) * 1000);
	close(fd);
	return 0;
}

static int cmd_sink(char **argv)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	char buf[65536];
	int fd = sock_for(argv[2], argv[3], argv[4], &sa, &salen), c, one = 1;
	double t0 = 0, t1 = 0;
	unsigned long long total = 0, base = 0;
	ssize_t r;

	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 1) < 0) {
		perror("netfault: sink");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	c = accept(fd, NULL, NULL);
	if (c < 0) {
		perror("netfault: accept");
		return 1;
	}
	/*
	 * The rate is measured from the moment 64 KiB have arrived to EOF: a
	 * shaper lets the first (GSO-sized) burst through at once, so the
	 * start of a transfer says nothing about the steady rate.
	 */
	while ((r = read(c, buf, sizeof(buf))) > 0) {
		total += (unsigned long long)r;
		if (!base && total >= 65536) {
			base = total;
			t0 = now_s();
		}
		t1 = now_s();
	}
	printf("received %llu %.3f %.0f\n", total, t1 - t0,
	       t1 > t0 ? (double)(total - base) * 8 / (t1 - t0) : 0.0);
	close(c);
	close(fd);
	return 0;
}

static int cmd_send(char **argv)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	static char buf[16384];
	int fd = sock_for(argv[2], argv[3], argv[4], &sa, &salen);
	unsigned long long left = strtoull(argv[5], NULL, 10);

	if (fd < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		perror("netfault: connect");
		return 1;
	}
	while (left) {
		ssize_t w = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (w <= 0) {
			perror("netfault: write");
			return 1;
		}
		left -= (unsigned long long)w;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 6 && !strcmp(argv[1], "connect"))
		return cmd_connect(argv);
	if (argc == 5 && !strcmp(argv[1], "sink"))
		return cmd_sink(argv);
	if (argc == 6 && !strcmp(argv[1], "send"))
		return cmd_send(argv);
	if (argc >= 4 && !strcmp(argv[1], "apply"))
		return cmd_apply(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "recover"))
		return cmd_recover(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "stale"))
		return cmd_stale();
	if (argc == 2 && !strcmp(argv[1], "probe"))
		return cmd_probe();
	fprintf(stderr, "usage: netfault apply NS JSON [--force] [--allow-root-netns] | "
		"recover [NS] | stale | probe | connect NS ADDR PORT MS | sink NS ADDR PORT | "
		"send NS ADDR PORT BYTES\n");
	return 2;
}
