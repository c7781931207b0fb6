/*
 * run: one scenario run on the event loop: baseline, fault phase, recovery.
 *
 * run_scenario() drives the flows on the schedule, applies and lifts the
 * faults through their fault_ops entries, and records everything in a
 * run_result. Faults are always lifted before it returns: at their scheduled
 * end, at the end of the fault phase, on SIGINT/SIGTERM, and when anything
 * fails. It does not load files and does not write reports.
 */
#ifndef DOORJAM_RUN_H
#define DOORJAM_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "reports/result.h"
#include "runner/scenario.h"

/* A snapshot of a run for live progress displays. */
struct run_progress {
	const char *scenario;
	const char *phase;           /* "lab", "baseline", "fault", "recovery", "done" */
	uint64_t elapsed_ms;
	uint64_t planned_ms;         /* baseline + fault + recovery */
	const char *const *faults;   /* labels of the faults that are on */
	size_t nfaults;
	const char *const *flows;    /* flow names */
	const char *const *last;     /* each flow's last outcome ("ok", ..., or "-") */
	size_t nflows;
};

struct run_options {
	uint64_t seed;            /* used when has_seed; else the scenario's, else random */
	int has_seed;
	const char *target;       /* --target: overrides the scenario's "target" */
	int allow_root_netns;     /* --allow-root-netns */
	int force;                /* --force */
	int keep_going;           /* --keep-going: run the fault phase after a failed baseline */
	int dry_run;              /* --dry-run: run the flows, apply no fault */
	const char *log_dir;      /* --logs: lab service logs go to DIR/<scenario>/ */
	FILE *events;             /* --events: one JSON object per line, or NULL */
	const char *pcap_dir;     /* --pcap: packet captures and evidence, or NULL */
	/* called on every change and twice a second; NULL: none */
	void (*progress)(void *arg, const struct run_progress *p);
	void *progress_arg;
};

/* What run_scenario returns besides the result. */
#define RUN_OK        0       /* the run completed; the verdict is in the result */
#define RUN_REFUSED  (-3)     /* the system refused (privileges, kernel feature) */

/*
 * Run sc. On return *out holds the result (caller frees with result_free),
 * also when the run was interrupted or failed part-way (result->error says
 * why). Returns RUN_OK, RUN_REFUSED (exit 3) or another negative code, with
 * err set in the latter cases.
 */
/*
 * 1 once SIGINT, SIGTERM or SIGHUP reached a run of this process, during
 * its timeline or after it (teardown, reports, between scenarios): the
 * caller should stop running scenarios.
 */
int run_signalled(void);

int run_scenario(const struct scenario *sc, const struct run_options *o,
		 struct run_result **out, struct err *err) __attribute__((warn_unused_result));

#endif
