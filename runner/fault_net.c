/*
 * fault_net: the net.* fault kinds.
 */
#include "runner/fault.h"

#include <stddef.h>

const struct fault_ops *const fault_net_kinds[] = {
	NULL,
};
