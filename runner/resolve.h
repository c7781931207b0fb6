/*
 * resolve: a stub resolver for flows, on the event loop.
 *
 * When a run has a DNS server of its own (the lab's, or the scenario's
 * "dns"), flows look host names up through it, the way an application whose
 * resolv.conf names that server would: an A query over UDP from inside the
 * flow's namespace, 2 s per try, two tries, and a retry over TCP when the
 * answer comes back truncated. So dns.* faults reach flows exactly as they
 * reach the stack under test. Names are not cached: every flow run asks.
 */
#ifndef DOORJAM_RESOLVE_H
#define DOORJAM_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"

struct loop;
struct resolve;

/*
 * Called once with the outcome: rc 0 and addr (dotted quad) on success, or
 * rc < 0 and msg saying what failed ("NXDOMAIN", "SERVFAIL", "timed out
 * after 2 tries", ...).
 */
typedef void (*resolve_fn)(void *arg, int rc, const char *addr, const char *msg);

/*
 * Start looking name up at server from inside namespace nsfd. done runs from
 * the loop, never from inside this call. Returns the lookup (cancel with
 * resolve_cancel until done has run) or NULL with err set.
 */
struct resolve *resolve_start(struct loop *l, int nsfd, const struct sockaddr_storage *server,
			      const char *name, uint64_t budget_us, resolve_fn done, void *arg,
			      struct err *err);

/* Stop a lookup in flight; done does not run. Accepts NULL. */
void resolve_cancel(struct resolve *r);

/*
 * Build an A query for name with the given id into out. Returns its length
 * or a negative code.
 */
int resolve_query_build(const char *name, uint16_t id, uint8_t *out, size_t cap);

/*
 * Read an answer to the query (id, name): 0 with the first A address in
 * addr, 1 when truncated (retry over TCP), or a negative code with msg set
 * (rcode name, "no address", "malformed answer", "answer to another query").
 * Never reads past len.
 */
int resolve_answer_parse(const uint8_t *p, size_t len, uint16_t id, const char *name,
			 char *addr, size_t addrlen, char *msg, size_t msglen);

#endif
