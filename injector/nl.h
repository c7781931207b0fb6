/*
 * nl: rtnetlink sockets opened inside a chosen network namespace.
 *
 * A socket belongs to the namespace it was created in, so nl_ns_open() makes
 * the socket in a short-lived thread that has entered the target namespace
 * (common/netns); the caller's thread never moves. Every socket has
 * NETLINK_EXT_ACK on, and every failed request returns the kernel's ext-ack
 * text in the error ("Specified qdisc kind is unknown"), because an errno on
 * its own cannot tell a missing qdisc kind from a missing parent class.
 *
 * Messages are built with libnl's message API (nlmsg_*, nla_*); nothing here
 * uses libnl's route objects, whose setters abort the process on misuse.
 * This module knows nothing about routes or qdiscs: route.c and tc.c build
 * the messages. One request is outstanding at a time; calls are short and
 * synchronous, as the event loop expects of netlink.
 */
#ifndef DOORJAM_NL_H
#define DOORJAM_NL_H

#include <linux/netlink.h>
#include <stddef.h>

#include "common/err.h"

struct nl_msg;
struct nl_ns;

/* Largest dump doorjam reads, in messages; a longer dump fails with -E2BIG. */
#define NL_NS_DUMP_MAX 200000

/*
 * Open an rtnetlink socket inside namespace nsfd (NETNS_SELF: our own).
 * On success stores a heap handle in *out (free with nl_ns_close) and
 * returns 0; otherwise a negative code with err set.
 */
int nl_ns_open(int nsfd, struct nl_ns **out, struct err *err)
	__attribute__((warn_unused_result));

/* Close the socket and free the handle. Accepts NULL. */
void nl_ns_close(struct nl_ns *nl);

/*
 * Send msg (NLM_F_REQUEST and NLM_F_ACK are added) and wait for the kernel's
 * answer. Returns 0 on an ack, or the kernel's negative errno with err set to
 * "what: strerror (kernel: ext-ack text)". what names the operation in
 * messages ("add route 10.0.0.0/8"). The caller keeps and frees msg.
 */
int nl_ns_request(struct nl_ns *nl, struct nl_msg *msg, const char *what, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Like nl_ns_request, but returns the kernel's errno in *kerr instead of
 * failing when the kernel refused, so that callers can accept "already gone"
 * (ENOENT, ESRCH, EADDRNOTAVAIL) without string matching. Returns 0 when an
 * answer (ack or error) arrived, negative with err set when the socket
 * failed. On a kernel error err holds the message as nl_ns_request would.
 */
int nl_ns_request_errno(struct nl_ns *nl, struct nl_msg *msg, const char *what, int *kerr,
			struct err *err) __attribute__((warn_unused_result));

/*
 * Send a delete request and free msg (taking ownership; NULL counts as out of
 * memory). When the kernel answers with one of the errnos in gone (a list
 * ending in 0), the object was already gone: *absent is set and 0 returned.
 * Otherwise the same returns as nl_ns_request.
 */
int nl_ns_delete(struct nl_ns *nl, struct nl_msg *msg, const char *what, const int *gone,
		 int *absent, struct err *err) __attribute__((warn_unused_result));

/*
 * Send a dump request (NLM_F_DUMP is added) and call fn for every message of
 * the answer. fn returns 0 to go on or a negative code to stop (the rest of
 * the dump is drained and that code is returned). Returns 0, or a negative
 * code with err set.
 */
int nl_ns_dump(struct nl_ns *nl, struct nl_msg *msg, const char *what,
	       int (*fn)(const struct nlmsghdr *h, void *arg, struct err *err), void *arg,
	       struct err *err) __attribute__((warn_unused_result));

/*
 * Send a request that the kernel answers with data (RTM_GETROUTE for one
 * destination, RTM_GETLINK for one device): fn is called for every answer
 * message, then the ack ends the exchange. Same returns as nl_ns_request.
 */
int nl_ns_get(struct nl_ns *nl, struct nl_msg *msg, const char *what,
	      int (*fn)(const struct nlmsghdr *h, void *arg, struct err *err), void *arg,
	      struct err *err) __attribute__((warn_unused_result));

/*
 * Extract the ext-ack message from an NLMSG_ERROR message of len bytes into
 * out (NUL-terminated, "" when none). Exposed for unit tests; never reads past
 * len.
 */
void nl_ns_extack(const struct nlmsghdr *h, size_t len, char *out, size_t outlen);

#endif
