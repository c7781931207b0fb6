/*
 * dnsd: run doorjam's DNS server from a JSON file until SIGTERM, for the
 * namespace tests.
 *
 *   dnsd CONFIG.json
 *
 * CONFIG is {"dns": {...the scenario's "dns" block...}, "seed": N,
 * "faults": [{"kind": "dns.servfail", "names": [...], "at": "1s", "for": "2s"}],
 * "log": false}. With "log": false the query log is not installed (benchmarks).
 * Faults go through the same validate/apply/revert entries the runner uses;
 * "at" and "for" are honoured with loop timers, counted from start-up. The
 * helper prints "ready ADDR..." once listening, then one JSON line per query
 * (the query log) and "apply N"/"revert N" when a fault changes, all on
 * stdout. Errors go to stderr with exit status 2 (bad input) or 3 (the
 * system refused).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/loop.h"
#include "common/units.h"
#include "injector/dns.h"
#include "runner/check.h"
#include "runner/fault.h"
#include "runner/fault_dns.h"

struct dnsd_fault {
	struct fault f;
	struct fault_env *env;
	size_t index;
};

static void dnsd_log(const struct dns_log_entry *e, void *arg)
{
	json_t *o = json_pack("{sIsIsssssssssissss}", "time_us", (json_int_t)e->time_us,
			      "latency_us", (json_int_t)e->latency_us, "transport", e->transport,
			      "client", e->client, "name", e->name, "type", e->type, "rule", e->rule,
			      "action", e->action, "answer", e->answer);
	char *s;

	(void)arg;
	if (!o)
		return;
	s = json_dumps(o, JSON_COMPACT);
	if (s)
		printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static void dnsd_revert(struct loop *l, void *arg)
{
	struct dnsd_fault *df = arg;
	struct err err;

	(void)l;
	err_clear(&err);
	if (df->f.ops->revert(df->env, &df->f, &err) < 0)
		fprintf(stderr, "dnsd: revert %zu: %s\n", df->index, err.msg);
	printf("revert %zu\n", df->index);
	fflush(stdout);
}

static void dnsd_apply(struct loop *l, void *arg)
{
	struct dnsd_fault *df = arg;
	struct err err;

	err_clear(&err);
	if (df->f.ops->apply(df->env, &df->f, &err) < 0) {
		fprintf(stderr, "dnsd: apply %zu: %s\n", df->index, err.msg);
		return;
	}
	printf("apply %zu\n", df->index);
	fflush(stdout);
	if (df->f.for_us && !loop_timer_add(l, df->f.for_us, dnsd_revert, df))
		fprintf(stderr, "dnsd: out of memory\n");
}

static void dnsd_signal(struct loop *l, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	loop_stop(l);
}

int main(int argc, char **argv)
{
	struct dnsd_fault *faults = NULL;
	struct dns_config *cfg = NULL;
	struct dns_server *srv = NULL;
	struct fault_env env;
	struct loop *l = NULL;
	json_t *root = NULL, *dns, *fl, *o;
	json_error_t jerr;
	struct diags d;
	struct check c;
	struct err err;
	sigset_t set;
	uint64_t seed = 1;
	size_t i, nfaults = 0;
	int rc = 2;

	diags_init(&d);
	err_clear(&err);
	memset(&env, 0, sizeof(env));
	if (argc != 2) {
		fprintf(stderr, "usage: dnsd CONFIG.json\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	root = json_load_file(argv[1], 0, &jerr);
	if (!root) {
		fprintf(stderr, "dnsd: %s:%d: %s\n", argv[1], jerr.line, jerr.text);
		goto out;
	}
	check_init(&c, argv[1], NULL, 0, &d);
	dns = json_object_get(root, "dns");
	if (!dns) {
		fprintf(stderr, "dnsd: %s: no \"dns\" block\n", argv[1]);
		goto out;
	}
	if (json_is_integer(json_object_get(root, "seed")))
		seed = (uint64_t)json_integer_value(json_object_get(root, "seed"));
	fault_dns_config_check(&c, dns, "/dns");
	fl = json_object_get(root, "faults");
	if (fl && json_array_size(fl)) {
		faults = calloc(json_array_size(fl), sizeof(*faults));
		if (!faults)
			goto out;
	}
	json_array_foreach(fl, i, o) {
		struct dnsd_fault *df = &faults[nfaults];
		char p[CHECK_PTR_MAX];
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *s;

		check_ptr_index(p, "/faults", i);
		df->f.ops = kind ? fault_lookup(kind) : NULL;
		if (!df->f.ops || strncmp(kind, "dns.", 4) != 0) {
			check_error(&c, p, 0, "not a dns.* fault kind");
			continue;
		}
		check_duration(&c, o, p, "at", 0, &df->f.at_us);
		check_duration(&c, o, p, "for", 0, &df->f.for_us);
		if (check_string(&c, o, p, "region", 0, &s) == 1)
			check_error(&c, p, 0, "dnsd has no regions");
		if (df->f.ops->validate(&c, NULL, o, p, &df->f.params) < 0)
			continue;
		df->env = &env;
		df->index = i;
		nfaults++;
	}
	if (c.errors) {
		char line[2048];

		for (i = 0; i < d.n; i++)
			fprintf(stderr, "dnsd: %s\n", diag_format(&d.v[i], line, sizeof(line)));
		goto out;
	}
	if (fault_dns_config_build(dns, seed, &cfg, &err) < 0) {
		fprintf(stderr, "dnsd: %s\n", err.msg);
		goto out;
	}
	rc = 3;
	l = loop_new(&err);
	if (!l)
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (loop_signals(l, &set, dnsd_signal, NULL, &err) < 0)
		goto fail;
	srv = dns_server_new(l, cfg, &err);
	if (!srv)
		goto fail;
	if (!json_is_false(json_object_get(root, "log")))
		dns_server_set_log(srv, dnsd_log, NULL);
	env.loop = l;
	env.dns = srv;
	env.seed = seed;
	env.target_nsfd = -1;
	for (i = 0; i < nfaults; i++) {
		if (faults[i].f.at_us == 0)
			dnsd_apply(l, &faults[i]);
		else if (!loop_timer_add(l, faults[i].f.at_us, dnsd_apply, &faults[i]))
			goto fail;
	}
	printf("ready");
	for (i = 0; i < cfg->nlisten; i++) {
		struct sockaddr_storage ss;
		char a[64];

		if (dns_server_addr(srv, i, &ss) == 0) {
			if (ss.ss_family == AF_INET6) {
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
				printf(" [%s]:%u", a, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
			} else {
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
				printf(" %s:%u", a, ntohs(((struct sockaddr_in *)&ss)->sin_port));
			}
		}
	}
	printf("\n");
	fflush(stdout);
	if (loop_run(l) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "dnsd: %s\n", err.msg);
out:
	dns_server_free(srv);
	loop_free(l);
	dns_config_free(cfg);
	for (i = 0; i < nfaults; i++)
		faults[i].f.ops->free_params(faults[i].f.params);
	free(faults);
	json_decref(root);
	diags_cleanup(&d);
	return rc;
}
