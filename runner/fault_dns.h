/*
 * fault_dns: the "dns" block of a scenario or lab (doorjam's DNS server) and
 * the dns.* fault kinds (registered in fault_dns_kinds[], see fault.h).
 *
 * The runner checks the block with fault_dns_config_check while loading,
 * turns it into a server configuration with fault_dns_config_build, starts
 * the server with dns_server_new and hands it to faults as fault_env->dns.
 * A dns.* fault's apply adds a rule to that server and its revert removes
 * it again.
 */
#ifndef DOORJAM_FAULT_DNS_H
#define DOORJAM_FAULT_DNS_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"
#include "injector/dns.h"
#include "runner/check.h"

/*
 * Check the "dns" object obj (at JSON pointer ptr): "listen" (required),
 * "netns", "zone", "upstreams", "ttl", "upstream_timeout", "upstream_tries",
 * "tcp_idle", "tcp_max_connections". Records every problem through c.
 * Returns 0 when valid, -1 when not.
 */
int fault_dns_config_check(struct check *c, json_t *obj, const char *ptr);

/*
 * Build a server configuration from a "dns" object (checked before with
 * fault_dns_config_check). seed seeds the rules' probability draws (the
 * run's seed). On success stores a heap config in *out (free with
 * dns_config_free) and returns 0; otherwise returns -EINVAL with err set to
 * the first problem.
 */
int fault_dns_config_build(json_t *obj, uint64_t seed, struct dns_config **out,
			   struct err *err) __attribute__((warn_unused_result));

#endif
