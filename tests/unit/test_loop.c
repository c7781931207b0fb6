/* Unit tests: common/loop (timers, fds, children, stop) and common/jptr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/jptr.h"
#include "common/loop.h"

static int order[8];
static int norder;

static void on_timer(struct loop *l, void *arg)
{
	(void)l;
	order[norder++] = (int)(intptr_t)arg;
}

static void test_timers_order_and_cancel(void **state)
{
	struct loop *l = loop_new(NULL);
	struct loop_timer *t;
	uint64_t t0 = loop_now_us();

	(void)state;
	norder = 0;
	loop_timer_add(l, 30000, on_timer, (void *)3);
	loop_timer_add(l, 10000, on_timer, (void *)1);
	t = loop_timer_add(l, 20000, on_timer, (void *)99);
	loop_timer_add(l, 20000, on_timer, (void *)2);
	loop_timer_add(l, 10000, on_timer, (void *)4); /* same deadline: after 1 */
	loop_timer_cancel(l, t);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(norder, 4);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 4);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 3);
	assert_true(loop_now_us() - t0 >= 30000);   /* never early */
	loop_free(l);
}

struct pipe_state {
	int got;
	char data[16];
};

static void on_read(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct pipe_state *ps = arg;
	ssize_t n;

	assert_true(ev & LOOP_READ);
	n = read(fd, ps->data, sizeof(ps->data) - 1);
	if (n > 0)
		ps->data[n] = '\0';
	ps->got++;
	loop_fd_del(l, fd);   /* deleting the own watch inside the callback is allowed */
}

static void test_fd_watch(void **state)
{
	struct loop *l = loop_new(NULL);
	struct pipe_state ps = { 0, "" };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_read, &ps, NULL), 0);
	assert_int_equal(write(p[1], "hi", 2), 2);
	assert_int_equal(loop_run(l), 0);        /* returns once nothing is watched */
	assert_int_equal(ps.got, 1);
	assert_string_equal(ps.data, "hi");
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static int child_status = -1;

static void on_child(struct loop *l, pid_t pid, int status, void *arg)
{
	(void)l;
	(void)pid;
	(void)arg;
	child_status = status;
}

static void test_child(void **state)
{
	struct loop *l;
	pid_t pid;
	int pfd;

	(void)state;
	/* the loop watches children through pidfd; valgrind 3.19 does not know the call */
	pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pfd < 0 && errno == ENOSYS) {
		fprintf(stderr, "test_child: pidfd_open(2) is not available here (ENOSYS: an old "
			"kernel, or valgrind): skipped\n");
		skip();
	}
	if (pfd >= 0)
		close(pfd);
	pid = fork();
	if (pid == 0)
		_exit(7);
	l = loop_new(NULL);   /* after the fork: the child leaves with nothing allocated */
	assert_non_null(l);
	assert_int_equal(loop_child_add(l, pid, on_child, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_true(WIFEXITED(child_status));
	assert_int_equal(WEXITSTATUS(child_status), 7);
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);   /* already reaped */
	loop_free(l);
}

static void test_jptr(void **state)
{
	json_t *doc = json_loads("{\"a\":{\"b/c\":[10,20,{\"~x\":true}]},\"\":1}", 0, NULL);
	json_t *v;
	char p[64] = "";

	(void)state;
	assert_non_null(doc);
	assert_ptr_equal(jptr_get(doc, ""), doc);
	v = jptr_get(doc, "/a/b~1c/1");
	assert_int_equal(json_integer_value(v), 20);
	assert_true(json_is_true(jptr_get(doc, "/a/b~1c/2/~0x")));
	assert_null(jptr_get(doc, "/a/b~1c/3"));
	assert_null(jptr_get(doc, "/a/b~1c/01"));     /* no leading zeros */
	assert_null(jptr_get(doc, "a"));
	assert_int_equal(json_integer_value(jptr_get(doc, "/")), 1);
	v = json_string("x");
	assert_int_equal(jptr_set(doc, "/a/b~1c/0", v), 0);   /* takes a reference of its own */
	json_decref(v);
	assert_string_equal(json_string_value(jptr_get(doc, "/a/b~1c/0")), "x");
	assert_int_equal(jptr_set(doc, "/a/new", json_true()), 0);      /* singletons: no leak */
	assert_int_equal(jptr_set(doc, "/missing/x", json_true()), -ENOENT);
	assert_int_equal(jptr_set(doc, "/a/b~1c/-", json_true()), 0);
	assert_int_equal(json_array_size(jptr_get(doc, "/a/b~1c")), 4);
	assert_int_equal(jptr_check("/a~2", NULL), -EINVAL);
	assert_int_equal(jptr_check("a", NULL), -EINVAL);
	assert_int_equal(jptr_append(p, sizeof(p), "x/y~z"), 0);
	assert_string_equal(p, "/x~1y~0z");
	assert_int_equal(jptr_append_index(p, sizeof(p), 12), 0);
	assert_string_equal(p, "/x~1y~0z/12");
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_order_and_cancel),
		cmocka_unit_test(test_fd_watch),
		cmocka_unit_test(test_child),
		cmocka_unit_test(test_jptr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
