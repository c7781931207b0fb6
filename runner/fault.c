/*
 * fault: lookup over the per-area fault tables. See fault.h.
 */
#include "runner/fault.h"

#include <string.h>

static const struct fault_ops *const *const fault_tables[] = {
	fault_net_kinds,
	fault_dns_kinds,
	fault_rpc_kinds,
	fault_proc_kinds,
	NULL,
};

const struct fault_ops *fault_at(size_t i)
{
	size_t t, k;

	for (t = 0; fault_tables[t]; t++) {
		for (k = 0; fault_tables[t][k]; k++) {
			if (i == 0)
				return fault_tables[t][k];
			i--;
		}
	}
	return NULL;
}

const struct fault_ops *fault_lookup(const char *kind)
{
	const struct fault_ops *ops;
	size_t i;

	for (i = 0; (ops = fault_at(i)); i++)
		if (!strcmp(ops->kind, kind))
			return ops;
	return NULL;
}
