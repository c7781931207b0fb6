/*
 * fault_dns: the dns.* fault kinds.
 */
#include "runner/fault.h"

#include <stddef.h>

const struct fault_ops *const fault_dns_kinds[] = {
	NULL,
};
