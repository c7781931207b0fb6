/*
 * loop: doorjam's one event loop (epoll, one thread, no locks).
 *
 * Everything that waits goes through here: file descriptors (sockets, pipes,
 * pcap's selectable fd), timers, signals (via signalfd, so handlers never run
 * arbitrary code) and child processes (via pidfd). Callbacks run on the loop's
 * thread and must not block; netlink calls are the only synchronous work
 * doorjam allows inside a callback, because they are short.
 *
 * Time is monotonic, in microseconds (loop_now_us). Timers fire no earlier
 * than asked, rounded up to the next millisecond by epoll_wait.
 */
#ifndef DOORJAM_LOOP_H
#define DOORJAM_LOOP_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct loop;
struct loop_timer;

/* Interest and readiness bits for fd watches. */
#define LOOP_READ   0x1u
#define LOOP_WRITE  0x2u
#define LOOP_ERROR  0x4u  /* reported only: error or hang-up on the fd */

typedef void (*loop_fd_fn)(struct loop *l, int fd, unsigned events, void *arg);
typedef void (*loop_timer_fn)(struct loop *l, void *arg);
typedef void (*loop_signal_fn)(struct loop *l, int signo, void *arg);
/* status is the wait status as from waitpid() */
typedef void (*loop_child_fn)(struct loop *l, pid_t pid, int status, void *arg);

/* A new loop, or NULL with err set. Caller frees with loop_free. */
struct loop *loop_new(struct err *err);

/*
 * Free the loop. Pending timers are freed without running; watched fds are
 * not closed (their owners close them). Accepts NULL.
 */
void loop_free(struct loop *l);

/* Monotonic clock in microseconds. */
uint64_t loop_now_us(void);

/*
 * Watch fd for events (LOOP_READ | LOOP_WRITE). One watch per fd; adding a
 * watched fd again replaces its callback and interest.
 */
int loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_fn fn, void *arg,
		struct err *err) __attribute__((warn_unused_result));

/* Change the interest set of a watched fd. Returns 0 or -errno. */
int loop_fd_mod(struct loop *l, int fd, unsigned events);

/* Stop watching fd. Safe to call from any callback, also for fd's own. */
void loop_fd_del(struct loop *l, int fd);

/*
 * Call fn once after delay_us. Returns a handle valid until the timer fires
 * or is cancelled, or NULL when out of memory.
 */
struct loop_timer *loop_timer_add(struct loop *l, uint64_t delay_us, loop_timer_fn fn,
				  void *arg);

/* Cancel a pending timer. Accepts NULL. Must not be called after it fired. */
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/*
 * Block the given signals for the process and deliver them through the loop.
 * Call once, before starting threads. SIGPIPE should be ignored separately.
 */
int loop_signals(struct loop *l, const sigset_t *set, loop_signal_fn fn, void *arg,
		 struct err *err) __attribute__((warn_unused_result));

/*
 * Watch a child process: fn runs once with its wait status after it exits,
 * and the child is reaped. Uses a pidfd.
 */
int loop_child_add(struct loop *l, pid_t pid, loop_child_fn fn, void *arg,
		   struct err *err) __attribute__((warn_unused_result));

/* Stop watching a child (it will not be reaped by the loop). */
void loop_child_del(struct loop *l, pid_t pid);

/*
 * Run until loop_stop is called or nothing is left to wait for. Returns 0,
 * or a negative code if epoll itself failed.
 */
int loop_run(struct loop *l);

/* Run one iteration, waiting at most max_wait_us (0: poll). Returns 0 or -errno. */
int loop_once(struct loop *l, uint64_t max_wait_us);

/* Make loop_run return after the current iteration. */
void loop_stop(struct loop *l);

/*
 * 1 when loop_stop was called and no loop_run has started since: lets code
 * that drives the loop with loop_once (a wait for a service) give up early.
 */
int loop_stopping(const struct loop *l);

#endif
