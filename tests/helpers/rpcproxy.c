/*
 * rpcproxy: run doorjam's RPC proxies from a JSON file until SIGTERM, for
 * shell tests and benchmarks.
 *
 *   rpcproxy CONFIG.json
 *
 * CONFIG: {"rpc": {NAME: {...proxy...}}, "faults": [{"kind": "rpc.*", ...}],
 *          "seed": N, "log": true}
 * The "rpc" block and the faults are validated and applied with the same
 * code the runner uses (runner/fault_rpc.c); "at", "for", "region" and
 * "note" are accepted and ignored (every fault is applied at start).
 *
 * Prints "listening NAME PORT" per proxy, then "ready", on stdout. Every
 * finished request is logged as one JSON line on stderr (unless "log" is
 * false, as for benchmarks). SIGUSR1 reverts
 * all faults, SIGUSR2 applies them again (rules at run time), SIGHUP prints
 * "stats NAME accepted=N refused=N evicted=N open=N requests=N" per proxy on
 * stdout; SIGTERM or SIGINT reverts and exits 0. Exit 2: invalid config; 3: setup failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/loop.h"
#include "injector/rpc.h"
#include "runner/check.h"
#include "runner/fault.h"
#include "runner/fault_rpc.h"
#include "runner/scenario.h"

#define MAX_PROXIES 32
#define MAX_FAULTS 64

struct helper {
	struct loop *loop;
	struct rpc_proxy *proxies[MAX_PROXIES];
	size_t nproxies;
	struct fault faults[MAX_FAULTS];
	int applied[MAX_FAULTS];
	size_t nfaults;
	struct fault_env env;
};

static struct rpc_proxy *helper_find(struct fault_env *env, const char *name)
{
	struct helper *h = env->run;
	size_t i;

	for (i = 0; i < h->nproxies; i++)
		if (strcmp(rpc_proxy_name(h->proxies[i]), name) == 0)
			return h->proxies[i];
	return NULL;
}

static void helper_log(const struct rpc_log_entry *e, void *arg)
{
	(void)arg;
	fprintf(stderr,
		"{\"t_us\":%" PRIu64 ",\"proxy\":\"%s\",\"methods\":\"%s\",\"rule\":%d,"
		"\"action\":\"%s\",\"status\":%d,\"latency_us\":%" PRIu64 "}\n",
		e->start_us, e->proxy, e->methods, e->rule_id, e->action, e->status,
		e->latency_us);
	fflush(stderr);
}

static void helper_apply(struct helper *h)
{
	size_t i;

	for (i = 0; i < h->nfaults; i++) {
		struct err err;

		if (h->applied[i])
			continue;
		err_clear(&err);
		if (h->faults[i].ops->apply(&h->env, &h->faults[i], &err))
			fprintf(stderr, "rpcproxy: apply %s: %s\n", h->faults[i].ptr, err.msg);
		else
			h->applied[i] = 1;
	}
}

static void helper_revert(struct helper *h)
{
	size_t i;

	for (i = h->nfaults; i-- > 0;) {
		struct err err;

		if (!h->applied[i])
			continue;
		err_clear(&err);
		if (h->faults[i].ops->revert(&h->env, &h->faults[i], &err))
			fprintf(stderr, "rpcproxy: revert %s: %s\n", h->faults[i].ptr, err.msg);
		h->applied[i] = 0;
	}
}

static void helper_signal(struct loop *l, int signo, void *arg)
{
	struct helper *h = arg;

	if (signo == SIGUSR1) {
		helper_revert(h);
		fprintf(stdout, "reverted\n");
		fflush(stdout);
	} else if (signo == SIGUSR2) {
		helper_apply(h);
		fprintf(stdout, "applied\n");
		fflush(stdout);
	} else if (signo == SIGHUP) {
		size_t i;

		for (i = 0; i < h->nproxies; i++) {
			struct rpc_proxy_stats st;

			rpc_proxy_stats(h->proxies[i], &st);
			fprintf(stdout, "stats %s accepted=%llu refused=%llu evicted=%llu open=%llu "
				"requests=%llu\n", rpc_proxy_name(h->proxies[i]),
				(unsigned long long)st.conns_accepted,
				(unsigned long long)st.conns_refused,
				(unsigned long long)st.conns_evicted, (unsigned long long)st.conns_open,
				(unsigned long long)st.requests);
		}
		fflush(stdout);
	} else {
		loop_stop(l);
	}
}

int main(int argc, char **argv)
{
	static struct helper h;
	static const char *const common[] = { "kind", "at", "for", "region", "note", NULL };
	struct scenario sc;
	struct diags d;
	struct check c;
	struct err err;
	json_error_t jerr;
	json_t *root = NULL, *rpc, *faults, *e;
	const char *name;
	char *text = NULL;
	size_t len = 0, i;
	sigset_t set;
	int rc = 3;

	if (argc != 2) {
		fprintf(stderr, "usage: rpcproxy CONFIG.json\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	diags_init(&d);
	if (scenario_read_file(argv[1], 1 << 20, &text, &len, &err)) {
		fprintf(stderr, "rpcproxy: %s\n", err.msg);
		return 2;
	}
	root = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(root)) {
		fprintf(stderr, "rpcproxy: %s:%d:%d: %s\n", argv[1], jerr.line, jerr.column,
			root ? "expected an object" : jerr.text);
		return 2;
	}
	check_init(&c, argv[1], text, len, &d);
	memset(&sc, 0, sizeof(sc));
	rpc = json_object_get(root, "rpc");
	sc.rpc = rpc;
	if (!rpc)
		check_error(&c, "", 0, "missing \"rpc\"");
	else
		fault_rpc_config_check(&c, rpc, "/rpc");
	faults = json_object_get(root, "faults");
	json_array_foreach(faults, i, e) {
		char p[CHECK_PTR_MAX];
		const char *kind = NULL;
		const char *keys[64];
		size_t k = 0, j;
		struct fault *f;

		check_ptr_index(p, "/faults", i);
		if (i >= MAX_FAULTS || check_string(&c, e, p, "kind", 1, &kind) < 0)
			continue;
		f = &h.faults[h.nfaults];
		f->ops = fault_lookup(kind);
		if (!f->ops || strncmp(kind, "rpc.", 4) != 0) {
			check_error(&c, p, 0, "unknown rpc fault kind \"%s\"", kind);
			continue;
		}
		for (j = 0; common[j]; j++)
			keys[k++] = common[j];
		for (j = 0; f->ops->keys[j] && k < 63; j++)
			keys[k++] = f->ops->keys[j];
		keys[k] = NULL;
		check_keys(&c, e, p, keys);
		if (f->ops->validate(&c, &sc, e, p, &f->params) == 0) {
			f->ptr = strdup(p);
			f->spec = e;
			h.nfaults++;
		}
	}
	if (c.errors) {
		char line[1200];

		for (i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", diag_format(&d.v[i], line, sizeof(line)));
		rc = 2;
		goto out;
	}
	h.loop = loop_new(&err);
	if (!h.loop)
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	if (loop_signals(h.loop, &set, helper_signal, &h, &err))
		goto fail;
	json_object_foreach(rpc, name, e) {
		struct rpc_proxy_config cfg;
		struct rpc_proxy *p;

		if (h.nproxies >= MAX_PROXIES || fault_rpc_config(e, name, &cfg, &err))
			goto fail;
		p = rpc_proxy_new(h.loop, &cfg, &err);
		if (!p)
			goto fail;
		if (!json_is_false(json_object_get(root, "log")))
			rpc_proxy_set_log(p, helper_log, NULL);
		h.proxies[h.nproxies++] = p;
		printf("listening %s %d\n", name, rpc_proxy_port(p));
	}
	h.env.loop = h.loop;
	h.env.rpc_find = helper_find;
	h.env.run = &h;
	h.env.seed = (uint64_t)json_integer_value(json_object_get(root, "seed"));
	h.env.target_nsfd = -1;
	helper_apply(&h);
	printf("ready\n");
	fflush(stdout);
	loop_run(h.loop);
	helper_revert(&h);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "rpcproxy: %s\n", err.msg);
	rc = 3;
out:
	for (i = 0; i < h.nproxies; i++)
		rpc_proxy_free(h.proxies[i]);
	for (i = 0; i < h.nfaults; i++) {
		h.faults[i].ops->free_params(h.faults[i].params);
		free(h.faults[i].ptr);
	}
	loop_free(h.loop);
	json_decref(root);
	free(text);
	diags_cleanup(&d);
	return rc;
}
