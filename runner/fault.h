/*
 * fault: the registry of fault kinds.
 *
 * Each kind ("net.unreachable", "dns.servfail", "rpc.rate_limit", ...) is one
 * const struct fault_ops entry: it validates its JSON (side-effect free),
 * applies the fault to the world and reverts it. The runner knows nothing
 * about any particular kind; adding a kind means adding an entry to one of
 * the per-area tables (fault_net.c, fault_dns.c, fault_rpc.c, fault_proc.c).
 *
 * Keys common to every fault, handled by the scenario loader before the kind
 * sees the object: "kind", "at", "for", "region", "note". A kind lists its
 * other keys in ops->keys; unknown keys are reported by the loader.
 */
#ifndef DOORJAM_FAULT_H
#define DOORJAM_FAULT_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"
#include "runner/check.h"

struct scenario;
struct fault_env;
struct fault;

/* What a kind needs from the run; checked before anything is applied. */
#define FAULT_NEEDS_ROOT   0x1u   /* CAP_NET_ADMIN in the target namespace */
#define FAULT_NEEDS_NETEM  0x2u   /* the kernel's sch_netem */
#define FAULT_NEEDS_DNS    0x4u   /* a DNS server configured (lab or "dns") */
#define FAULT_NEEDS_RPC    0x8u   /* an RPC proxy configured (lab or "rpc") */

struct fault_ops {
	const char *kind;
	const char *summary;          /* one line for `doorjam help faults` */
	unsigned needs;               /* FAULT_NEEDS_* */
	const char *const *keys;      /* kind-specific keys, NULL-terminated */
	/*
	 * Parse and check obj (the fault's JSON object at ptr). Record every
	 * problem through c and return -1, or store a heap object in *params
	 * and return 0. Must not touch the system.
	 */
	int (*validate)(struct check *c, const struct scenario *sc, json_t *obj,
			const char *ptr, void **params);
	/* Make the fault happen. On failure nothing of it may remain. */
	int (*apply)(struct fault_env *env, struct fault *f, struct err *err);
	/* Undo apply. Called once for every successful apply, in reverse order. */
	int (*revert)(struct fault_env *env, struct fault *f, struct err *err);
	/* Free what validate stored. */
	void (*free_params)(void *params);
};

/* One fault of a scenario: plain data, owned by the scenario. */
struct fault {
	const struct fault_ops *ops;
	char *ptr;          /* JSON pointer of the fault in its file, e.g. "/faults/2" */
	uint64_t at_us;     /* offset into the fault phase */
	uint64_t for_us;    /* duration; 0: until the fault phase ends */
	char *region;       /* optional region name */
	char *note;         /* optional free text */
	json_t *spec;       /* the fault's JSON object as written (for reports) */
	void *params;       /* from ops->validate */
	void *state;        /* from ops->apply, for ops->revert */
};

struct loop;
struct journal;
struct dns_server;
struct rpc_proxy;

/*
 * What a run hands to apply/revert. Filled by the runner; members that do not
 * apply to a run are NULL. Kinds take what they need and nothing else.
 */
struct fault_env {
	struct loop *loop;
	const struct scenario *sc;
	int target_nsfd;              /* namespace for kernel faults without a lab;
	                                 NETNS_SELF (-1) for doorjam's own */
	int allow_root_netns;         /* --allow-root-netns was given */
	int force;                    /* --force: may replace a foreign root qdisc */
	struct journal *journal;      /* write-ahead record of kernel objects */
	struct dns_server *dns;       /* the run's DNS server, or NULL */
	/* The RPC proxy called name, or NULL. */
	struct rpc_proxy *(*rpc_find)(struct fault_env *env, const char *name);
	/* Namespace fd of a lab host (not to be closed), or -1 when unknown. */
	int (*host_netns)(struct fault_env *env, const char *host);
	void *run;                    /* the runner's own state, for the callbacks */
	uint64_t seed;                /* --seed, for probabilistic faults */
};

/* The kind with this name, or NULL. */
const struct fault_ops *fault_lookup(const char *kind);

/* Iterate all kinds: i from 0 until NULL. */
const struct fault_ops *fault_at(size_t i);

/* Per-area tables, each NULL-terminated. */
extern const struct fault_ops *const fault_net_kinds[];
extern const struct fault_ops *const fault_dns_kinds[];
extern const struct fault_ops *const fault_rpc_kinds[];
extern const struct fault_ops *const fault_proc_kinds[];

#endif
