/*
 * probe: which traffic-control kinds this kernel has, and whether doorjam
 * has the privileges it needs; what `doorjam doctor` reports and what the
 * runner checks before a run.
 *
 * Kinds are probed in a forked child that moves into a fresh network
 * namespace of its own (unshare), asks the kernel to create each qdisc,
 * classifier and action kind on its loopback device and reports back through
 * a pipe; the namespace dies with the child, so nothing is left behind and
 * the caller's namespaces are never touched. A kind is missing when the
 * kernel answers ENOENT with an "unknown kind" ext-ack; any other answer
 * (even a refusal of the probe's empty options) means the kind exists.
 */
#ifndef DOORJAM_PROBE_H
#define DOORJAM_PROBE_H

#include <stddef.h>

#include "common/err.h"

enum probe_type {
	PROBE_QDISC,
	PROBE_CLASSIFIER,
	PROBE_ACTION,
};

struct probe_kind {
	enum probe_type type;
	const char *kind;       /* "netem", "u32", "mirred" */
	const char *used_for;   /* what doorjam does with it, for doctor */
	int present;            /* filled by probe_kernel: 1 yes, 0 no, -1 unknown */
	char detail[160];       /* the kernel's answer when missing or unknown */
};

/*
 * Probe every kind doorjam uses. On success stores a pointer to a static
 * table of *n entries in *kinds (valid until the next call) and returns 0.
 * Needs CAP_SYS_ADMIN for unshare(CLONE_NEWNET); without it returns -EPERM
 * with err set. Results are cached after the first successful probe.
 */
int probe_kernel(struct probe_kind **kinds, size_t *n, struct err *err)
	__attribute__((warn_unused_result));

/*
 * 1 when the kernel has qdisc kind (probed once, then cached), 0 when not,
 * negative with err set when it cannot be told.
 */
int probe_has_qdisc(const char *kind, struct err *err) __attribute__((warn_unused_result));

/* Name of a probe type ("qdisc", "classifier", "action"). */
const char *probe_type_name(enum probe_type t);

/*
 * Privileges: 1 when the process has CAP_NET_ADMIN and CAP_SYS_ADMIN in its
 * user namespace (needed to change routes and qdiscs and to enter
 * namespaces), 0 otherwise with a description of what is missing in why.
 */
int probe_privileges(char *why, size_t whylen);

#endif
