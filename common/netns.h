/*
 * netns: doing things inside another network namespace without moving the
 * main thread.
 *
 * A socket belongs to the namespace it was created in. To create one inside
 * namespace X, a short-lived thread enters X with setns(), checks that it
 * arrived (its /proc/thread-self/ns/net now names X's inode), runs the work,
 * and ends. The main thread never changes namespace, so nothing else in
 * doorjam can end up acting in the wrong one by accident.
 *
 * A namespace "spec" is what a user writes: a name under /var/run/netns, an
 * absolute path such as /proc/1234/ns/net, or a PID. NULL or "" means
 * doorjam's own namespace.
 */
#ifndef DOORJAM_NETNS_H
#define DOORJAM_NETNS_H

#include <sys/types.h>

#include "common/err.h"

#define NETNS_RUN_DIR "/var/run/netns"

/* The "namespace fd" that means doorjam's own namespace. */
#define NETNS_SELF (-1)

/*
 * Open a namespace by spec. On success returns 0 and stores an
 * O_RDONLY|O_CLOEXEC fd in *fd (caller closes), or NETNS_SELF when spec is
 * NULL or empty. On failure returns a negative code with err set.
 */
int netns_open(const char *spec, int *fd, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Run fn(arg) inside the namespace nsfd (NETNS_SELF: directly on the calling
 * thread). Returns fn's return value, or a negative code with err set when
 * the namespace could not be entered (fn did not run). fn may fill err too.
 */
int netns_run(int nsfd, int (*fn)(void *arg, struct err *err), void *arg, struct err *err)
	__attribute__((warn_unused_result));

/*
 * socket(2) inside the namespace nsfd. Returns the fd (caller closes) or a
 * negative code with err set. SOCK_CLOEXEC is always added.
 */
int netns_socket(int nsfd, int domain, int type, int protocol, struct err *err)
	__attribute__((warn_unused_result));

/* Inode number of the namespace behind fd (or of our own for NETNS_SELF); 0 on error. */
unsigned long netns_inode(int nsfd);

/*
 * 1 when nsfd refers to the machine's own namespace (PID 1's; where that
 * cannot be read, doorjam's own counts as the machine's). Fails closed: 1
 * when it cannot tell.
 */
int netns_is_init(int nsfd);

#endif
