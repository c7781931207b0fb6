/*
 * faultstack: several net.* faults applied by one process, as a run applies
 * them, and reverted one at a time on command, so that tests can check how
 * faults on one device compose and come off.
 *
 *   faultstack NS 'FAULT-JSON' ['FAULT-JSON'...] [--force]
 *       validate every fault, open a journal (DOORJAM_JOURNAL_DIR or
 *       /run/doorjam), apply the faults in order in namespace NS (a name, a
 *       path or a PID), print "applied" and wait:
 *         SIGUSR1  revert the first fault still on, print "reverted N"
 *         SIGUSR2  revert the last fault still on, print "reverted N"
 *         SIGTERM, SIGINT  revert the rest in reverse order, remove the
 *                  journal, print "reverted" and exit 0
 *       (N counts from 1 in the order given.) A fault that fails to apply
 *       reverts the ones before it and exits like netfault: 1 failed,
 *       2 invalid input, 3 the system refused.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/netns.h"
#include "injector/journal.h"
#include "runner/check.h"
#include "runner/fault.h"
#include "runner/scenario.h"

#define FS_MAX 16

struct fs_fault {
	struct fault f;
	json_t *obj;
	int on;
};

static int fs_exit_for(int rc)
{
	if (rc == -ENOTSUP || rc == -EPERM || rc == -EBUSY || rc == -EACCES)
		return 3;
	return 1;
}

/* Parse and validate one fault as a scenario loader would; 0 or exit code 2. */
static int fs_load(struct fs_fault *x, const char *text, const struct scenario *sc)
{
	const char *allowed[32];
	json_error_t jerr;
	json_t *kind;
	struct diags d;
	struct check c;
	size_t n = 0, i;
	int rc = 0;

	x->obj = json_loads(text, 0, &jerr);
	if (!x->obj || !json_is_object(x->obj)) {
		fprintf(stderr, "faultstack: fault JSON: %s\n", x->obj ? "not an object" : jerr.text);
		return 2;
	}
	kind = json_object_get(x->obj, "kind");
	x->f.ops = json_is_string(kind) ? fault_lookup(json_string_value(kind)) : NULL;
	if (!x->f.ops || strncmp(x->f.ops->kind, "net.", 4)) {
		fprintf(stderr, "faultstack: not a net.* kind: %s\n", text);
		return 2;
	}
	diags_init(&d);
	check_init(&c, "argv", text, strlen(text), &d);
	allowed[n++] = "kind";
	allowed[n++] = "region";
	for (i = 0; x->f.ops->keys && x->f.ops->keys[i] && n < 31; i++)
		allowed[n++] = x->f.ops->keys[i];
	allowed[n] = NULL;
	(void)check_keys(&c, x->obj, "", allowed);
	if (x->f.ops->validate(&c, sc, x->obj, "", &x->f.params) < 0 || c.errors) {
		char line[2048];

		for (i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", diag_format(&d.v[i], line, sizeof(line)));
		rc = 2;
	}
	diags_cleanup(&d);
	x->f.ptr = (char *)"/faults/0";
	return rc;
}

static int fs_revert(struct fault_env *env, struct fs_fault *x, size_t n)
{
	struct err err;
	int rc;

	err_clear(&err);
	x->on = 0;
	rc = x->f.ops->revert(env, &x->f, &err);
	if (rc < 0) {
		fprintf(stderr, "faultstack: revert %zu: %s\n", n, err.msg);
		return rc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct fs_fault fs[FS_MAX];
	struct fault_env env;
	struct scenario sc;
	struct journal *j = NULL;
	struct err err;
	sigset_t set;
	size_t n = 0, i;
	int sig, rc = 0, code = 0, a;

	memset(&env, 0, sizeof(env));
	memset(&sc, 0, sizeof(sc));
	err_clear(&err);
	if (argc < 3) {
		fprintf(stderr, "usage: faultstack NS FAULT-JSON [FAULT-JSON...] [--force]\n");
		return 2;
	}
	for (a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "--force")) {
			env.force = 1;
			continue;
		}
		if (n == FS_MAX) {
			fprintf(stderr, "faultstack: at most %d faults\n", FS_MAX);
			code = 2;
			goto out;
		}
		code = fs_load(&fs[n++], argv[a], &sc);
		if (code)
			goto out;
	}
	rc = netns_open(argv[1], &env.target_nsfd, &err);
	if (rc == 0)
		rc = journal_open(NULL, &j, &err);
	if (rc < 0) {
		fprintf(stderr, "faultstack: %s\n", err.msg);
		code = 1;
		goto out;
	}
	env.journal = j;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		rc = fs[i].f.ops->apply(&env, &fs[i].f, &err);
		if (rc < 0) {
			fprintf(stderr, "faultstack: apply %zu: %s\n", i + 1, err.msg);
			code = fs_exit_for(rc);
			goto revert_all;
		}
		fs[i].on = 1;
	}
	printf("applied\n");
	fflush(stdout);
	for (;;) {
		size_t k;

		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
		for (k = 0; k < n && !fs[sig == SIGUSR1 ? k : n - 1 - k].on; k++)
			;
		if (k == n)
			continue;
		k = sig == SIGUSR1 ? k : n - 1 - k;
		if (fs_revert(&env, &fs[k], k + 1) < 0)
			code = 1;
		printf("reverted %zu\n", k + 1);
		fflush(stdout);
	}
revert_all:
	for (i = n; i-- > 0;)
		if (fs[i].on && fs_revert(&env, &fs[i], i + 1) < 0)
			code = 1;
	if (j && journal_close(j, 1, &err) < 0) {
		fprintf(stderr, "faultstack: %s\n", err.msg);
		code = 1;
	}
	if (code == 0)
		printf("reverted\n");
out:
	for (i = 0; i < n; i++) {
		if (fs[i].f.params)
			fs[i].f.ops->free_params(fs[i].f.params);
		json_decref(fs[i].obj);
	}
	return code;
}
