/*
 * Unit tests for injector/journal (record format, strict parsing, the file
 * on a temporary folder: write, read back, torn last line, stale detection
 * by lock) and the pure parts of injector/tc (probability scale, the
 * classic-BPF random-drop program run through a small interpreter, netem
 * distribution tables). No root needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "injector/journal.h"
#include "injector/tc.h"

static void test_rec_roundtrip(void **state)
{
	struct journal_rec r, back;
	struct err e;
	char line[JOURNAL_LINE_MAX + 1], line2[JOURNAL_LINE_MAX + 1];
	int k;

	(void)state;
	for (k = 0; k < 4; k++) {
		memset(&r, 0, sizeof(r));
		r.kind = (enum journal_kind)k;
		r.ns_ino = 4026532462ul;
		snprintf(r.ns_path, sizeof(r.ns_path), "/var/run/netns/lab-core");
		r.family = AF_INET6;
		r.table = 0x646a0002;
		r.prio = 11502;
		r.rtype = RTN_BLACKHOLE;
		snprintf(r.dst, sizeof(r.dst), "fd77:2::/64");
		r.ifindex = 3;
		snprintf(r.dev, sizeof(r.dev), k == JOURNAL_LINK ? "djifb0" : "rs");
		r.parent = TC_H_ROOT;
		r.handle = 0xd0a00000u;
		assert_int_equal(journal_rec_format(&r, line, sizeof(line)), 0);
		assert_int_equal(journal_rec_parse(line, &back, &e), 0);
		assert_int_equal(journal_rec_format(&back, line2, sizeof(line2)), 0);
		assert_string_equal(line, line2);
		assert_int_equal(back.kind, k);
		assert_int_equal(back.ns_ino, r.ns_ino);
	}
	assert_int_equal(journal_rec_parse("qdisc ns=1 nspath=- ifindex=3 dev=rs parent=ffffffff "
					   "handle=d0a00000", &back, &e), 0);
	assert_int_equal(back.parent, TC_H_ROOT);
	assert_int_equal(back.handle, 0xd0a00000u);
}

static void test_rec_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"bogus ns=1 nspath=- dev=x",
		"link ns=1 nspath=-",                                 /* missing dev */
		"link ns=1 nspath=- dev=djifb0 extra=1",              /* unknown key */
		"link ns=1 nspath=- dev=a dev=b",                     /* twice */
		"link ns=x nspath=- dev=djifb0",                      /* bad number */
		"link ns=1 nspath=- dev=djifb0 table=5",              /* key of another kind */
		"route ns=1 nspath=- fam=5 table=1 type=7 dst=10.0.0.0/8",
		"route ns=1 nspath=- fam=4 table=1 type=1 dst=10.0.0.0/8",    /* unicast */
		"route ns=1 nspath=- fam=4 table=1 type=7 dst=10.0.0.1/8",    /* host bits */
		"route ns=1 nspath=- fam=4 table=0 type=7 dst=10.0.0.0/8",
		"route ns=1 nspath=- fam=4 table=99999999999 type=7 dst=10.0.0.0/8",
		"rule ns=1 nspath=- fam=4 table=1",                   /* no prio */
		"qdisc ns=1 nspath=- ifindex=0 dev=rs parent=ffffffff handle=d0a00000",
		"qdisc ns=1 nspath=- ifindex=3 dev=rs parent=-1 handle=d0a00000",
		"route ns=1 nspath=- fam=4 table=1 type=7 dst",
	};
	struct journal_rec r;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (journal_rec_parse(bad[i], &r, &e) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(e.msg[0] != '\0');
	}
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/djt-unit-journal.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void rmtree(const char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static void test_file(void **state)
{
	struct journal *j;
	struct journal_rec r, *recs;
	struct err e;
	char *d = tmpdir(), **paths, path[512];
	size_t n, np;
	FILE *f;

	(void)state;
	assert_int_equal(journal_open(d, &j, &e), 0);
	snprintf(path, sizeof(path), "%s", journal_path(j));
	memset(&r, 0, sizeof(r));
	r.kind = JOURNAL_ROUTE;
	r.ns_ino = 7;
	snprintf(r.ns_path, sizeof(r.ns_path), "-");
	r.family = AF_INET;
	r.table = ROUTE_TABLE_BASE;
	r.rtype = RTN_UNREACHABLE;
	snprintf(r.dst, sizeof(r.dst), "10.77.2.0/24");
	assert_int_equal(journal_add(j, &r, &e), 0);
	r.kind = JOURNAL_RULE;
	r.prio = ROUTE_PRIO_BASE;
	assert_int_equal(journal_add(j, &r, &e), 0);
	assert_int_equal(journal_sync(j, &e), 0);

	/* held by a live run (this process, through its own lock): not stale */
	assert_int_equal(journal_stale(d, &paths, &np, &e), 0);
	assert_int_equal(np, 0);
	journal_paths_free(paths, np);

	assert_int_equal(journal_read(path, &recs, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(recs[0].kind, JOURNAL_ROUTE);
	assert_string_equal(recs[0].dst, "10.77.2.0/24");
	assert_int_equal(recs[1].kind, JOURNAL_RULE);
	assert_int_equal(recs[1].prio, ROUTE_PRIO_BASE);
	free(recs);

	/* a crash mid-write leaves a torn last line: ignored */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("route ns=7 nspath=- fam=4 ta", f);
	fclose(f);
	assert_int_equal(journal_read(path, &recs, &n, &e), 0);
	assert_int_equal(n, 2);
	free(recs);

	/* the run dies without removing its journal: stale */
	assert_int_equal(journal_close(j, 0, &e), 0);
	assert_int_equal(journal_stale(d, &paths, &np, &e), 0);
	assert_int_equal(np, 1);
	assert_string_equal(paths[0], path);
	journal_paths_free(paths, np);

	/* a bad line in the middle fails the whole read (fail closed) */
	f = fopen(path, "a");
	fputs("\nrule ns=7 nspath=- fam=4 table=1 prio=x\nlink ns=1 nspath=- dev=djifb0\n", f);
	fclose(f);
	assert_int_equal(journal_read(path, &recs, &n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, path));
	rmtree(d);
	free(d);
}

static void test_clean_close_and_foreign(void **state)
{
	struct journal *j;
	struct journal_rec *recs;
	struct err e;
	char *d = tmpdir(), **paths, path[512];
	size_t np, n;
	FILE *f;

	(void)state;
	assert_int_equal(journal_open(d, &j, &e), 0);
	assert_int_equal(journal_close(j, 1, &e), 0);
	assert_int_equal(journal_stale(d, &paths, &np, &e), 0);
	assert_int_equal(np, 0);
	journal_paths_free(paths, np);
	/* files that are not journals are neither stale nor read as journals */
	snprintf(path, sizeof(path), "%s/notes.txt", d);
	f = fopen(path, "w");
	fputs("hello\n", f);
	fclose(f);
	assert_int_equal(journal_stale(d, &paths, &np, &e), 0);
	assert_int_equal(np, 0);
	journal_paths_free(paths, np);
	assert_int_equal(journal_read(path, &recs, &n, &e), -EINVAL);
	/* a missing folder has no stale journals */
	rmtree(d);
	assert_int_equal(journal_stale(d, &paths, &np, &e), 0);
	assert_int_equal(np, 0);
	free(d);
}

static void test_dir_env(void **state)
{
	(void)state;
	unsetenv(JOURNAL_DIR_ENV);
	assert_string_equal(journal_dir(), "/run/doorjam");
	setenv(JOURNAL_DIR_ENV, "/tmp/x", 1);
	assert_string_equal(journal_dir(), "/tmp/x");
	setenv(JOURNAL_DIR_ENV, "", 1);
	assert_string_equal(journal_dir(), "/run/doorjam");
	unsetenv(JOURNAL_DIR_ENV);
}

/* A classic-BPF interpreter for the few instructions the drop program uses. */
static uint32_t bpf_run(const struct sock_filter *f, size_t n, uint32_t random)
{
	uint32_t a = 0;
	size_t pc = 0;

	while (pc < n) {
		const struct sock_filter *i = &f[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_int_equal(i->k, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM));
			a = random;
			pc++;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += 1 + (a >= i->k ? i->jt : i->jf);
			break;
		case BPF_JMP | BPF_JA:
			pc += 1 + i->k;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fail_msg("unexpected opcode %#x", i->code);
		}
	}
	fail_msg("fell off the program");
	return 0;
}

static void test_bpf_prog(void **state)
{
	struct sock_filter f[8];
	size_t n;
	uint32_t r, drops = 0, i;

	(void)state;
	assert_int_equal(tc_prob_u32(0), 0);
	assert_int_equal(tc_prob_u32(1), UINT32_MAX);
	assert_int_equal(tc_prob_u32(-1), 0);
	assert_int_equal(tc_prob_u32(0.5), 2147483648u);
	n = tc_bpf_loss_prog(0.2, f, sizeof(f));
	assert_int_equal(n, 4);
	/* -1: the filter's classid (the dropping class); 0: no match (pass) */
	assert_int_equal(bpf_run(f, n, 0), 0xffffffffu);
	assert_int_equal(bpf_run(f, n, tc_prob_u32(0.2) - 1), 0xffffffffu);
	assert_int_equal(bpf_run(f, n, tc_prob_u32(0.2)), 0);
	assert_int_equal(bpf_run(f, n, UINT32_MAX), 0);
	/* over a uniform sweep of the random value, 20% land in the drop class */
	for (i = 0, r = 0; i < 100000; i++, r += 42949u)
		drops += bpf_run(f, n, r) != 0;
	assert_in_range(drops, 19900, 20100);
	n = tc_bpf_loss_prog(1.0, f, sizeof(f));
	assert_int_equal(bpf_run(f, n, UINT32_MAX), 0xffffffffu);
	n = tc_bpf_loss_prog(0.0, f, sizeof(f));
	assert_int_equal(bpf_run(f, n, 0), 0);
	assert_int_equal(tc_bpf_loss_prog(0.2, f, 8), 0); /* too small */
}

static void test_dist(void **state)
{
	int16_t *t = NULL;
	struct err e;
	int n;

	(void)state;
	n = tc_dist_load("normal", &t, &e);
	if (n == -ENOENT) {
		skip(); /* iproute2's tables are not installed */
		return;
	}
	assert_true(n > 1000);
	free(t);
	assert_true(tc_dist_load("../../etc/passwd", &t, &e) < 0);
	assert_true(tc_dist_load("nosuchdist", &t, &e) < 0);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rec_roundtrip),
		cmocka_unit_test(test_rec_bad),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_clean_close_and_foreign),
		cmocka_unit_test(test_dir_env),
		cmocka_unit_test(test_bpf_prog),
		cmocka_unit_test(test_dist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
