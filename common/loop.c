/*
 * loop: epoll event loop with a timer heap, signalfd and pidfd children.
 * See loop.h for the contract.
 *
 * Fd watches live in a table indexed by fd number. A callback may delete any
 * watch, including its own, and may add timers; deleted watches are marked so
 * that events already returned by epoll_wait for them in the same batch are
 * ignored.
 */
#include "common/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct loop_watch {
	loop_fd_fn fn;
	void *arg;
	unsigned events;
	unsigned gen;          /* bumped on every add/del, detects stale events */
	int active;
};

struct loop_timer {
	uint64_t when;
	uint64_t seq;          /* tie-break: equal deadlines fire in add order */
	size_t idx;            /* position in the heap */
	loop_timer_fn fn;
	void *arg;
};

struct loop_child {
	pid_t pid;
	int fd;
	loop_child_fn fn;
	void *arg;
	struct loop_child *next;
};

struct loop {
	int epfd;
	int stop;
	struct loop_watch *watches;
	size_t nwatches;
	size_t nactive;
	struct loop_timer **heap;
	size_t nheap, capheap;
	uint64_t seq;
	int sigfd;
	loop_signal_fn sigfn;
	void *sigarg;
	struct loop_child *children;
};

uint64_t loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct loop *loop_new(struct err *err)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l) {
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		err_errno(err, errno, "epoll_create1");
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	struct loop_child *c, *n;
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nheap; i++)
		free(l->heap[i]);
	free(l->heap);
	for (c = l->children; c; c = n) {
		n = c->next;
		close(c->fd);
		free(c);
	}
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->watches);
	close(l->epfd);
	free(l);
}

static uint32_t loop_epoll_bits(unsigned events)
{
	uint32_t ev = 0;

	if (events & LOOP_READ)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (events & LOOP_WRITE)
		ev |= EPOLLOUT;
	return ev;
}

int loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_fn fn, void *arg,
		struct err *err)
{
	struct epoll_event ev;
	int op;

	if (fd < 0)
		return err_set(err, -EBADF, "loop: bad fd %d", fd);
	if ((size_t)fd >= l->nwatches) {
		size_t n = l->nwatches ? l->nwatches : 64;
		struct loop_watch *w;

		while (n <= (size_t)fd)
			n *= 2;
		w = realloc(l->watches, n * sizeof(*w));
		if (!w)
			return err_set(err, -ENOMEM, "out of memory");
		memset(w + l->nwatches, 0, (n - l->nwatches) * sizeof(*w));
		l->watches = w;
		l->nwatches = n;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = loop_epoll_bits(events);
	ev.data.u64 = (uint64_t)(unsigned)fd | ((uint64_t)(l->watches[fd].gen + 1) << 32);
	op = l->watches[fd].active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		return err_errno(err, errno, "epoll_ctl(fd %d)", fd);
	if (!l->watches[fd].active)
		l->nactive++;
	l->watches[fd].gen++;
	l->watches[fd].fn = fn;
	l->watches[fd].arg = arg;
	l->watches[fd].events = events;
	l->watches[fd].active = 1;
	return 0;
}

int loop_fd_mod(struct loop *l, int fd, unsigned events)
{
	struct epoll_event ev;

	if (fd < 0 || (size_t)fd >= l->nwatches || !l->watches[fd].active)
		return -ENOENT;
	if (l->watches[fd].events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = loop_epoll_bits(events);
	ev.data.u64 = (uint64_t)(unsigned)fd | ((uint64_t)l->watches[fd].gen << 32);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	l->watches[fd].events = events;
	return 0;
}

void loop_fd_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nwatches || !l->watches[fd].active)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->watches[fd].active = 0;
	l->watches[fd].gen++;
	l->nactive--;
}

/* ---- timers: a binary min-heap ordered by (when, seq) ---- */

static int loop_timer_less(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void loop_heap_swap(struct loop *l, size_t i, size_t j)
{
	struct loop_timer *t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->heap[i]->idx = i;
	l->heap[j]->idx = j;
}

static void loop_heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!loop_timer_less(l->heap[i], l->heap[p]))
			break;
		loop_heap_swap(l, i, p);
		i = p;
	}
}

static void loop_heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t a = 2 * i + 1, b = a + 1, m = i;

		if (a < l->nheap && loop_timer_less(l->heap[a], l->heap[m]))
			m = a;
		if (b < l->nheap && loop_timer_less(l->heap[b], l->heap[m]))
			m = b;
		if (m == i)
			break;
		loop_heap_swap(l, i, m);
		i = m;
	}
}

static void loop_heap_remove(struct loop *l, size_t i)
{
	l->nheap--;
	if (i != l->nheap) {
		l->heap[i] = l->heap[l->nheap];
		l->heap[i]->idx = i;
		loop_heap_down(l, i);
		loop_heap_up(l, i);
	}
}

struct loop_timer *loop_timer_add(struct loop *l, uint64_t delay_us, loop_timer_fn fn,
				  void *arg)
{
	struct loop_timer *t;

	if (l->nheap == l->capheap) {
		size_t n = l->capheap ? l->capheap * 2 : 32;
		struct loop_timer **h = realloc(l->heap, n * sizeof(*h));

		if (!h)
			return NULL;
		l->heap = h;
		l->capheap = n;
	}
	t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	t->when = loop_now_us() + delay_us;
	t->seq = l->seq++;
	t->fn = fn;
	t->arg = arg;
	t->idx = l->nheap;
	l->heap[l->nheap++] = t;
	loop_heap_up(l, t->idx);
	return t;
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (!t)
		return;
	loop_heap_remove(l, t->idx);
	free(t);
}

static void loop_timers_run(struct loop *l)
{
	uint64_t now = loop_now_us();

	while (l->nheap && l->heap[0]->when <= now) {
		struct loop_timer *t = l->heap[0];
		loop_timer_fn fn = t->fn;
		void *arg = t->arg;

		loop_heap_remove(l, 0);
		free(t);
		fn(l, arg);
		if (l->stop)
			break;
	}
}

/* ---- signals ---- */

static void loop_signal_ready(struct loop *l, int fd, unsigned events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (l->sigfn)
			l->sigfn(l, (int)si.ssi_signo, l->sigarg);
	}
}

int loop_signals(struct loop *l, const sigset_t *set, loop_signal_fn fn, void *arg,
		 struct err *err)
{
	int rc;

	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return err_errno(err, errno, "sigprocmask");
	l->sigfd = signalfd(l->sigfd, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return err_errno(err, errno, "signalfd");
	l->sigfn = fn;
	l->sigarg = arg;
	rc = loop_fd_add(l, l->sigfd, LOOP_READ, loop_signal_ready, NULL, err);
	if (rc)
		return rc;
	/* a signal watch alone does not keep loop_run alive */
	l->nactive--;
	return 0;
}

/* ---- children ---- */

static void loop_child_ready(struct loop *l, int fd, unsigned events, void *arg)
{
	struct loop_child *c = arg, **pp;
	int status = 0;
	pid_t r;

	(void)events;
	r = waitpid(c->pid, &status, WNOHANG);
	if (r == 0)
		return; /* spurious: not exited yet */
	for (pp = &l->children; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	loop_fd_del(l, fd);
	close(fd);
	if (r < 0)
		status = 0;
	c->fn(l, c->pid, status, c->arg);
	free(c);
}

int loop_child_add(struct loop *l, pid_t pid, loop_child_fn fn, void *arg, struct err *err)
{
	struct loop_child *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return err_set(err, -ENOMEM, "out of memory");
	c->fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c->fd < 0) {
		rc = err_errno(err, errno, "pidfd_open(%d)", (int)pid);
		free(c);
		return rc;
	}
	c->pid = pid;
	c->fn = fn;
	c->arg = arg;
	rc = loop_fd_add(l, c->fd, LOOP_READ, loop_child_ready, c, err);
	if (rc) {
		close(c->fd);
		free(c);
		return rc;
	}
	c->next = l->children;
	l->children = c;
	return 0;
}

void loop_child_del(struct loop *l, pid_t pid)
{
	struct loop_child **pp, *c;

	for (pp = &l->children; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			c = *pp;
			*pp = c->next;
			loop_fd_del(l, c->fd);
			close(c->fd);
			free(c);
			return;
		}
	}
}

/* ---- running ---- */

int loop_once(struct loop *l, uint64_t max_wait_us)
{
	struct epoll_event evs[64];
	uint64_t wait = max_wait_us, now;
	int n, i, timeout_ms;

	if (l->nheap) {
		now = loop_now_us();
		if (l->heap[0]->when <= now)
			wait = 0;
		else if (l->heap[0]->when - now < wait)
			wait = l->heap[0]->when - now;
	}
	timeout_ms = wait > 3600000000ULL ? 3600000 : (int)((wait + 999) / 1000);
	n = epoll_wait(l->epfd, evs, 64, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -errno;
	}
	for (i = 0; i < n; i++) {
		int fd = (int)(evs[i].data.u64 & 0xffffffffu);
		unsigned gen = (unsigned)(evs[i].data.u64 >> 32);
		struct loop_watch *w;
		unsigned ev = 0;

		if ((size_t)fd >= l->nwatches)
			continue;
		w = &l->watches[fd];
		if (!w->active || w->gen != gen)
			continue; /* deleted or replaced by an earlier callback */
		if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
			ev |= LOOP_READ;
		if (evs[i].events & EPOLLOUT)
			ev |= LOOP_WRITE;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			ev |= LOOP_ERROR | (w->events & LOOP_READ);
		w->fn(l, fd, ev, w->arg);
		if (l->stop)
			return 0;
	}
	loop_timers_run(l);
	return 0;
}

int loop_run(struct loop *l)
{
	int rc;

	l->stop = 0;
	while (!l->stop && (l->nactive > 0 || l->nheap > 0)) {
		rc = loop_once(l, 3600000000ULL);
		if (rc)
			return rc;
	}
	l->stop = 0;
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

int loop_stopping(const struct loop *l)
{
	return l->stop;
}
