/*
 * fault_rpc: the "rpc" block of a scenario or lab (the proxies), and the
 * rpc.* fault kinds (registered in fault_rpc_kinds[], see fault.h).
 *
 * The runner validates the block with fault_rpc_config_check while loading,
 * then, for each member, fills an injector config with fault_rpc_config and
 * creates the proxy with rpc_proxy_new. Faults reach their proxy through
 * fault_env->rpc_find by the name in their "upstream" key.
 */
#ifndef DOORJAM_FAULT_RPC_H
#define DOORJAM_FAULT_RPC_H

#include <jansson.h>

#include "common/err.h"
#include "injector/rpc.h"
#include "runner/check.h"
#include "runner/fault.h"

/*
 * Check the "rpc" object obj (at JSON pointer ptr): every member is a proxy
 * {"listen", "upstream", optional "netns", "on_upstream_down", caps and
 * timeouts}. Records every problem through c. Returns 0 when valid, -1 not.
 */
int fault_rpc_config_check(struct check *c, json_t *obj, const char *ptr);

/*
 * Fill cfg for the proxy called name from its validated member entry.
 * Strings in cfg point into entry (keep it alive until rpc_proxy_new
 * returns; the proxy copies them). Returns 0, or -EINVAL with err set when
 * entry was not validated.
 */
int fault_rpc_config(json_t *entry, const char *name, struct rpc_proxy_config *cfg,
		     struct err *err) __attribute__((warn_unused_result));

/* The rule a validated rpc.* fault built (its params), or NULL for another kind. */
const struct rpc_rule *fault_rpc_rule(const struct fault *f);

/* The proxy name a validated rpc.* fault targets. */
const char *fault_rpc_upstream(const struct fault *f);

#endif
