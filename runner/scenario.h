/*
 * scenario: the parsed, validated model of a scenario file and the flows and
 * lab it references.
 *
 * scenario_load() reads the file, parses it with jansson, checks every key and
 * value, follows the "flows" and "lab" references (relative to the scenario
 * file) and either returns a complete model or a list of every error found,
 * each with file:line:column and JSON pointer. Loading has no side effects on
 * the system. The model is plain data: the runner reads it, nothing mutates it
 * except fault state pointers.
 */
#ifndef DOORJAM_SCENARIO_H
#define DOORJAM_SCENARIO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/check.h"
#include "runner/fault.h"

/* ---- flows ---- */

/* Flows in one scenario, counting its flows files: more is refused at load. */
#define SCENARIO_MAX_FLOWS 1000

enum step_kind {
	STEP_HTTP,
	STEP_JSONRPC,
	STEP_EXEC,
};

enum assert_op {
	ASSERT_EQUALS,     /* JSON value equality (numbers compared exactly, hex too) */
	ASSERT_MATCHES,    /* POSIX extended regex against the string form */
	ASSERT_LT,
	ASSERT_LE,
	ASSERT_GT,
	ASSERT_GE,
	ASSERT_NE,
	ASSERT_EXISTS,     /* the pointer resolves (value true) or not (false) */
};

enum assert_src {
	ASSERT_SRC_STATUS,   /* HTTP status */
	ASSERT_SRC_JSON,     /* JSON pointer into the response body (jsonrpc: the whole reply) */
	ASSERT_SRC_RESULT,   /* jsonrpc: JSON pointer into "result" */
	ASSERT_SRC_EXIT,     /* exec: exit code */
	ASSERT_SRC_STDOUT,   /* exec: standard output (regex) */
	ASSERT_SRC_STDERR,   /* exec: standard error (regex) */
	ASSERT_SRC_BODY,     /* the raw body (regex) */
	ASSERT_SRC_HEADER,   /* a response header (name in .path) */
};

struct flow_assert {
	enum assert_src src;
	char *path;          /* JSON pointer (JSON/RESULT) or header name */
	enum assert_op op;
	json_t *value;       /* expected value; may contain {{captures}} in strings */
	json_t *within;      /* ASSERT_EQUALS on numbers: allowed difference, or NULL */
	char *ptr;           /* where it was written, for messages */
};

struct flow_capture {
	char *name;
	enum assert_src src; /* JSON, RESULT, STDOUT, HEADER */
	char *path;
	char *regex;         /* STDOUT: first group (or whole match) */
};

struct flow_step {
	enum step_kind kind;
	char *name;
	char *ptr;           /* JSON pointer of the step in its file */
	/* http / jsonrpc */
	char *method;        /* HTTP method, or the JSON-RPC method */
	char *url;           /* may contain {{captures}} */
	char **headers;      /* "Name: value" */
	size_t nheaders;
	json_t *body;        /* http: string or JSON; jsonrpc: params array */
	json_t *batch;       /* jsonrpc batch: array of {method, params} */
	/* exec */
	char **argv;
	size_t argc;
	char **env;          /* "NAME=value" */
	size_t nenv;
	char *user;          /* run as this user; NULL: default */
	/* common */
	uint64_t timeout_us;
	uint64_t retry_until_us;  /* 0: no retry */
	uint64_t retry_every_us;
	uint64_t slo_us;          /* latency objective for this step; 0: none */
	struct flow_assert *asserts;
	size_t nasserts;
	struct flow_capture *captures;
	size_t ncaptures;
};

struct flow {
	char *name;
	char *description;
	char *from;          /* vantage point: lab host or namespace spec; NULL: own */
	char *file;          /* file the flow came from */
	char *ptr;
	uint64_t slo_us;     /* latency objective for the whole run; 0: none */
	struct flow_step *steps;
	size_t nsteps;
};

/* ---- expectations ---- */

enum expect_kind {
	EXPECT_SURVIVE,      /* ok or slow throughout */
	EXPECT_DEGRADE,      /* slow or error allowed, never wrong, must recover */
	EXPECT_FAIL_CLEAN,   /* error allowed, never wrong */
	EXPECT_RECOVER,      /* anything during the fault; passes again within a deadline */
	EXPECT_ANY,          /* observed only: no verdict on this flow */
};

struct expectation {
	enum expect_kind kind;
	uint64_t within_us;  /* EXPECT_RECOVER deadline after the faults lift */
};

/* ---- regions ---- */

struct region {
	char *name;
	char **hosts;
	size_t nhosts;
	char **prefixes;     /* CIDR strings, validated */
	size_t nprefixes;
	char **names;        /* DNS patterns */
	size_t nnames;
};

struct schedule {
	uint64_t baseline_us;
	uint64_t fault_us;
	uint64_t recovery_us;
	uint64_t every_us;
};

struct scenario {
	char *file;          /* path as given */
	char *dir;           /* directory of the file, for relative references */
	char *name;
	char *description;
	char *lab_file;      /* resolved path, or NULL */
	struct lab *lab;     /* the loaded lab, or NULL */
	char *target;        /* namespace spec for kernel faults without a lab */
	struct region *regions;
	size_t nregions;
	struct schedule sched;
	struct fault *faults;
	size_t nfaults;
	struct flow *flows;
	size_t nflows;
	struct expectation *expects;   /* one per flow, same index */
	json_t *dns;         /* the "dns" block (validated by fault_dns), or NULL */
	json_t *rpc;         /* the "rpc" block (validated by fault_rpc), or NULL */
	json_t *root;        /* the whole document */
	uint64_t seed;       /* from the file; the command line overrides */
	int has_seed;
};

/*
 * Load and validate a scenario file. On success returns 0 and a heap model in
 * *out (free with scenario_free). On failure returns -1 and every error found
 * is in diags (the caller owns diags).
 */
int scenario_load(const char *path, struct scenario **out, struct diags *diags)
	__attribute__((warn_unused_result));

/*
 * Validate a flows file on its own (for `doorjam validate`). Same contract;
 * the flows are freed again.
 */
int scenario_validate_flows_file(const char *path, struct diags *diags)
	__attribute__((warn_unused_result));

void scenario_free(struct scenario *sc);

/* The region called name, or NULL. */
const struct region *scenario_region(const struct scenario *sc, const char *name);

/* Index of the flow called name, or -1. */
int scenario_flow_index(const struct scenario *sc, const char *name);

const char *expect_name(enum expect_kind k);

/*
 * Read a whole file (bounded by max bytes) into a NUL-terminated heap buffer.
 * Returns 0, or a negative code with err set (too large, unreadable, not a
 * regular file).
 */
int scenario_read_file(const char *path, size_t max, char **text, size_t *len,
		       struct err *err) __attribute__((warn_unused_result));

#endif
