/*
 * fault_proc: the proc.* fault kinds.
 */
#include "runner/fault.h"

#include <stddef.h>

const struct fault_ops *const fault_proc_kinds[] = {
	NULL,
};
