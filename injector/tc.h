/*
 * tc: traffic-control faults (delay, loss, duplicate, corrupt, reorder,
 * bandwidth) made over rtnetlink, scoped by destination prefix and port.
 *
 * The tree on each chosen device (egress; or, for ingress, on an ifb device
 * that the device's ingress traffic is redirected to) belongs to all the tc
 * faults of this process on that device, and is recomputed from them on
 * every apply and revert:
 *
 *   root htb TC_MAJOR:  default class TC_MAJOR:1 (pass, 10gbit)
 *     [class TC_MAJOR:<minor>  rate class of a bandwidth fault whose traffic
 *                              spans several leaves; the leaves below it get
 *                              an equal share and may borrow up to all of it]
 *     class TC_MAJOR:<minor>   leaf: one per distinct set of faults that some
 *                              traffic falls under; rate = the lowest rate
 *                              among them (pass when none has one)
 *       leaf chain, each the child of the one before:
 *         the random-drop tree when faults drop without netem (one drop for
 *           their combined share 1 - prod(1 - p)): htb M: with class :1
 *           (pass, the rest of the chain) and class :2 whose leaf is a
 *           blackhole qdisc; a classic-BPF cls_bpf filter loads SKF_AD_RANDOM
 *           and sends the chosen share of packets to :2
 *         one netem per netem fault, in the order they were applied
 *     u32 filters on the root, one priority per scope atom, most specific
 *       first, into the atom's class.
 *
 * Scope atoms: every fault's (prefix, port) pairs, closed under
 * intersection, so the first atom a packet matches carries exactly the
 * faults whose scopes hold it: overlapping faults all apply to the traffic
 * they share (bandwidth AND loss AND delay, as on a real degraded path),
 * also when one scope lies inside the other. A bandwidth fault split over
 * several leaves by a partial overlap gets a rate class above them, so its
 * limit holds for all of its traffic; two bandwidth faults that overlap in
 * part with neither inside the other are refused. A new tree is built beside the old
 * one (fresh classes and leaves, filters in the other priority range), then
 * the old filters and classes are deleted: every packet meets one complete
 * tree, never a gap. The root's tree is known only to the process that made
 * it: a doorjam root made by another process is refused with -EBUSY.
 *
 * Ingress: an ifb device TC_IFB_PREFIX<n> carries the tree above (matching
 * source fields instead of destination ones), shared by the ingress faults
 * of the device; the device gets an ingress qdisc with one u32 match-all
 * filter at prio 0xd0a whose mirred action redirects every arriving packet
 * to the ifb. The redirect is made after the first fault's tree and removed
 * with the last fault, before the ifb.
 *
 * Handle majors TC_MAJOR..TC_MAJOR_LAST, ifb names and the redirect filter's
 * prio are doorjam's marks. A root qdisc that is not doorjam's and not the
 * kernel's default is never replaced unless force is given. The root qdisc
 * (which takes every class, leaf and filter with it) and each ifb device are
 * journaled before they are made. Swapping the default root for doorjam's
 * htb uses CREATE|REPLACE, so there is no moment without a qdisc.
 *
 * Where the kernel has no sch_netem the netem leaf fails with a message
 * naming sch_netem and code -ENOTSUP; it never degrades to a no-op.
 */
#ifndef DOORJAM_TC_H
#define DOORJAM_TC_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "injector/route.h"

struct journal;
struct journal_rec;
struct nl_msg;
struct nl_ns;

#define TC_MAJOR       0xd0a0u      /* root htb handle major; leaves take majors above it */
#define TC_MAJOR_LAST  0xd1a0u      /* last major doorjam uses */
#define TC_IFB_PREFIX  "djifb"
#define TC_PASS_BPS    10000000000ull  /* rate of the pass-through classes */

/* Netem parameters; probabilities 0..1, times in microseconds. */
struct tc_netem {
	uint64_t delay_us, jitter_us;
	double delay_corr;
	char dist[16];            /* "", "uniform" (no table), "normal", "pareto", "paretonormal" */
	double loss, loss_corr;
	double duplicate, corrupt;
	double reorder, reorder_corr;
};

struct tc_spec {
	int ingress;              /* 0: egress (destination scoping); 1: ingress via ifb
	                             (source scoping: the far end's prefix and port) */
	const char *device;       /* NULL: every non-lo device with a route to the prefixes */
	const struct route_prefix *pfx;
	size_t npfx;
	const uint16_t *ports;
	size_t nports;
	int use_netem;            /* netem leaf with the parameters below */
	struct tc_netem netem;
	uint64_t rate_bps;        /* 0: no bandwidth limit */
	double bpf_loss;          /* > 0: random drop through cls_bpf (no netem needed) */
};

struct tc_fault;

/*
 * Make the fault described by spec in namespace nsfd: it joins the tree of
 * every device it chooses (made here for the first fault), and each tree is
 * recomputed. force: a foreign root qdisc may be replaced. Stores the applied
 * fault in *out (tc_revert frees it). On failure nothing of it remains, the
 * other faults are as they were, and err says why (the kernel's ext-ack
 * text; -ENOTSUP naming sch_netem when netem is missing; -EBUSY for a foreign
 * root qdisc, doorjam's root of another process or a shared ingress qdisc;
 * -EINVAL for two bandwidth faults that overlap in part, neither inside the
 * other; -E2BIG
 * for more scope atoms than a device's tree holds). Not thread-safe: the
 * trees are the process's, and doorjam drives faults from one thread.
 */
int tc_apply(int nsfd, struct journal *j, const struct tc_spec *spec, int force,
	     struct tc_fault **out, struct err *err) __attribute__((warn_unused_result));

/* Names of the devices the fault was put on, comma separated, into out. */
char *tc_fault_devices(const struct tc_fault *f, char *out, size_t outlen);

/*
 * Undo tc_apply and free f: the fault leaves each of its trees, which is
 * recomputed for the faults left (the last one takes the tree off the
 * device). Accepts NULL. Returns 0 or the first error.
 */
int tc_revert(struct tc_fault *f, struct err *err);

/*
 * The classic-BPF random-drop program for probability p (0..1) into prog
 * (4 instructions of struct sock_filter, as raw bytes of 8 each). Exposed
 * for unit tests. Returns the number of instructions.
 */
size_t tc_bpf_loss_prog(double p, void *prog, size_t cap);

/* Probability 0..1 on the kernel's u32 scale (0xffffffff = 1). */
uint32_t tc_prob_u32(double p);

/*
 * Load a netem distribution table ("normal", ...) from iproute2's folder into
 * a heap array of int16 (caller frees). Returns the count, or negative with
 * err set.
 */
int tc_dist_load(const char *name, int16_t **table, struct err *err)
	__attribute__((warn_unused_result));

/* recover: undo a JOURNAL_QDISC or JOURNAL_LINK record. */
int tc_undo(struct nl_ns *nl, const struct journal_rec *r, int *absent, struct err *err)
	__attribute__((warn_unused_result));

/* recover: remove every qdisc with doorjam's handle majors and every ifb device of doorjam's. */
int tc_sweep(struct nl_ns *nl, size_t *removed, struct err *err)
	__attribute__((warn_unused_result));

#endif
