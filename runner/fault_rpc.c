/*
 * fault_rpc: the rpc.* fault kinds.
 */
#include "runner/fault.h"

#include <stddef.h>

const struct fault_ops *const fault_rpc_kinds[] = {
	NULL,
};
