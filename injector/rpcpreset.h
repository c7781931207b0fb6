/*
 * rpcpreset: the answers real RPC providers give when they fail, by name.
 *
 * A scenario writes "preset": "infura-rate-limit" instead of spelling out a
 * status, headers and an error body. Each preset is one table entry with the
 * shape seen from that provider (see docs/rpc.md for the list and sources).
 * A preset is only an answer; which calls get it, and when, is up to the
 * fault that names it.
 */
#ifndef DOORJAM_RPCPRESET_H
#define DOORJAM_RPCPRESET_H

#include <stddef.h>

#include "common/err.h"
#include "injector/rpc.h"

struct rpc_preset {
	const char *name;
	const char *summary;      /* one line for docs and `doorjam help` */
	int status;               /* HTTP status */
	const char *headers;      /* "Name: value\r\n" lines, or NULL */
	const char *body;         /* literal body, or NULL */
	const char *error;        /* JSON-RPC error object as JSON text, or NULL */
};

/* The preset called name, or NULL. */
const struct rpc_preset *rpc_preset_find(const char *name);

/* Iterate: i from 0 until NULL. */
const struct rpc_preset *rpc_preset_at(size_t i);

/*
 * Fill out (whose previous members are not freed) with heap copies of the
 * preset's answer. Returns 0 or -ENOMEM.
 */
int rpc_preset_response(const struct rpc_preset *ps, struct rpc_response *out,
			struct err *err) __attribute__((warn_unused_result));

#endif
