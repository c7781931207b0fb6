/*
 * driver: runs flows, one asynchronous flow run at a time per flow, on the
 * event loop.
 *
 * A flow run executes the flow's steps in order: http and jsonrpc steps
 * through libcurl's multi interface in socket-action mode (its sockets and
 * timers are the loop's), exec steps as child processes watched by pidfd.
 * Sockets and processes are made inside the flow's network namespace. Each
 * run ends with exactly one outcome (ok, slow, error, wrong) and a message
 * that says what the user would have seen.
 *
 * Every flow run opens fresh connections (no keep-alive across runs), so a
 * fault applied between two runs is never bypassed by a connection that was
 * opened before it.
 */
#ifndef DOORJAM_DRIVER_H
#define DOORJAM_DRIVER_H

#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"
#include "reports/result.h"
#include "runner/scenario.h"

struct loop;
struct driver;

struct driver_outcome {
	enum outcome outcome;
	uint64_t latency_us;
	char step[128];       /* the step that decided the outcome ("" when ok) */
	char message[512];    /* what went wrong ("" when ok) */
};

typedef void (*driver_done_fn)(void *arg, const struct driver_outcome *o);

/* A driver on loop l, or NULL with err set. Free with driver_free. */
struct driver *driver_new(struct loop *l, struct err *err);

/* Cancel every run in flight (their callbacks do not run) and free. Accepts NULL. */
void driver_free(struct driver *d);

/*
 * Start one run of flow f in the namespace nsfd (NETNS_SELF: doorjam's own;
 * the fd must stay open while the run is in flight). done runs exactly once,
 * from the loop, unless the run is cancelled. Returns 0 or a negative code.
 */
int driver_start(struct driver *d, const struct flow *f, int nsfd, driver_done_fn done,
		 void *arg, struct err *err) __attribute__((warn_unused_result));

/*
 * Look host names up through server (a DNS server of the run's own) instead
 * of the machine's resolver; NULL goes back to the machine's resolver.
 */
void driver_set_resolver(struct driver *d, const struct sockaddr_storage *server);

/* Cancel every run in flight; their callbacks do not run. */
void driver_cancel_all(struct driver *d);

/* Number of runs in flight. */
size_t driver_active(const struct driver *d);

/*
 * Evaluate one assertion against a JSON document (for unit tests and the
 * runner alike). Returns 1 when it holds, 0 when not (msg says why).
 */
int driver_assert_json(const struct flow_assert *a, json_t *doc, json_t *expected,
		       char *msg, size_t msglen);

/*
 * Replace {{name}} in s with values from captures (an object of strings).
 * Returns a heap string (caller frees) or NULL when out of memory. Unknown
 * names are left as they are.
 */
char *driver_template(const char *s, json_t *captures);

#endif
