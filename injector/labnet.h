/*
 * labnet: the kernel objects a lab is made of: named network namespaces,
 * veth links between them, addresses, routes, forwarding, and the per-
 * namespace resolv.conf that `ip netns exec` conventions use.
 *
 * Named namespaces live where iproute2 keeps them (/var/run/netns/NAME, a
 * bind mount of the namespace file), so `ip netns exec NAME ...` works on a
 * lab for people poking at it by hand. Links and addresses are made over
 * rtnetlink (injector/nl) from doorjam's own thread; nothing here runs `ip`.
 * This module does not journal; the lab builder journals each object before
 * it calls in here.
 */
#ifndef DOORJAM_LABNET_H
#define DOORJAM_LABNET_H

#include <netinet/in.h>
#include <stdint.h>

#include "common/err.h"

/* The directory of per-namespace configuration (resolv.conf), as iproute2. */
#define LABNET_ETC_DIR "/etc/netns"

/*
 * Create a network namespace named name (pinned under /var/run/netns) with
 * its loopback up. On success stores an fd of it in *nsfd (caller closes) and
 * returns 0. Fails with -EEXIST when the name is taken.
 */
int labnet_ns_create(const char *name, int *nsfd, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Remove a named namespace: unpin it and remove /etc/netns/NAME. The
 * namespace itself ends when the last process and fd in it are gone.
 * Returns 0 also when it did not exist.
 */
int labnet_ns_delete(const char *name, struct err *err);

/* 1 when /var/run/netns/NAME exists. */
int labnet_ns_exists(const char *name);

/*
 * Create a veth pair: a_name inside namespace a_nsfd, b_name inside b_nsfd,
 * both up. The request is sent in a_nsfd.
 */
int labnet_veth_add(int a_nsfd, const char *a_name, int b_nsfd, const char *b_name,
		    struct err *err) __attribute__((warn_unused_result));

/* Add an IPv4 address addr/plen to interface ifname in nsfd. */
int labnet_addr_add(int nsfd, const char *ifname, struct in_addr addr, unsigned plen,
		    struct err *err) __attribute__((warn_unused_result));

/* Add an IPv4 route dst/plen via gw (main table) in nsfd. */
int labnet_route_add(int nsfd, struct in_addr dst, unsigned plen, struct in_addr gw,
		     struct err *err) __attribute__((warn_unused_result));

/* Turn IPv4 forwarding on in nsfd (never call it for the machine's own namespace). */
int labnet_forwarding(int nsfd, struct err *err) __attribute__((warn_unused_result));

/*
 * Write /etc/netns/NAME/resolv.conf with one nameserver. Services and exec
 * steps started in the lab see it as /etc/resolv.conf.
 */
int labnet_resolv_conf(const char *name, struct in_addr nameserver, struct err *err)
	__attribute__((warn_unused_result));

/*
 * In a freshly forked child: enter namespace nsfd and a private mount
 * namespace in which /etc/netns/NAME/resolv.conf (if it exists) is bound
 * over /etc/resolv.conf, as `ip netns exec` does. Returns 0 or -errno; for
 * use between fork() and exec() only.
 */
int labnet_child_enter(int nsfd, const char *name);

#endif
