/*
 * result: the result model of one scenario run, and the verdict logic.
 *
 * The runner fills a struct run_result as the run goes on (flow runs, fault
 * windows, events from the DNS server and the RPC proxy); when the run ends,
 * result_finish() computes per-phase statistics, time to recover and the
 * verdicts, and the writers (report_json, report_junit, report_term, ...)
 * turn it into files. This module knows nothing about scenario JSON, the
 * injector or the network; it is plain data plus arithmetic.
 */
#ifndef DOORJAM_RESULT_H
#define DOORJAM_RESULT_H

#include <stddef.h>
#include <stdint.h>

enum phase {
	PHASE_BASELINE = 0,
	PHASE_FAULT = 1,
	PHASE_RECOVERY = 2,
	PHASE_COUNT = 3,
};

enum outcome {
	OUTCOME_OK = 0,     /* every assertion held within the objective */
	OUTCOME_SLOW = 1,   /* every assertion held, over the latency objective */
	OUTCOME_ERROR = 2,  /* the user saw a failure */
	OUTCOME_WRONG = 3,  /* answered, but with wrong data */
	OUTCOME_COUNT = 4,
};

enum verdict {
	VERDICT_PASS = 0,
	VERDICT_FAIL = 1,
	VERDICT_INCONCLUSIVE = 2,   /* the flow failed before any fault */
	VERDICT_NONE = 3,           /* no expectation (observed only) */
};

/* Expectation kinds, mirrored from the scenario model (same values). */
enum result_expect {
	RESULT_EXPECT_SURVIVE = 0,
	RESULT_EXPECT_DEGRADE = 1,
	RESULT_EXPECT_FAIL_CLEAN = 2,
	RESULT_EXPECT_RECOVER = 3,
	RESULT_EXPECT_ANY = 4,
};

/* One run of one flow. */
struct flow_run {
	uint64_t start_ms;      /* since the run started */
	uint64_t latency_us;
	enum phase phase;       /* the phase in which the run started */
	enum outcome outcome;
	char *message;          /* what went wrong, or NULL; owned */
	char *step;             /* the step that decided the outcome, or NULL; owned */
};

struct phase_stats {
	size_t count[OUTCOME_COUNT];
	uint64_t p50_us, p95_us, max_us;
	size_t runs;
};

struct flow_result {
	char *name;
	char *description;
	enum result_expect expect;
	uint64_t expect_within_us;   /* RESULT_EXPECT_RECOVER */
	struct flow_run *runs;
	size_t nruns, capruns;
	/* filled by result_finish */
	struct phase_stats phases[PHASE_COUNT];
	char *first_error;           /* message of the first error or wrong run in the
	                                fault or recovery phase, or NULL; owned */
	enum outcome first_bad;      /* its outcome (OUTCOME_OK when there is none) */
	int broke;                   /* any error/wrong/slow run during fault or recovery */
	int recovered;               /* passed again after the faults lifted */
	uint64_t recovered_after_ms; /* from lift to the end of the first passing run,
	                                rounded up to whole ms */
	enum verdict verdict;
	char *reason;                /* one sentence on the verdict, or NULL (out of memory) */
	uint64_t recovered_after_us; /* the same, exact: the recover deadline compares this */
	size_t recovery_runs;        /* fault/recovery runs that started at or after lift_ms */
};

/* A fault window as it really happened. */
struct fault_window {
	char *kind;
	char *label;        /* short human description ("net.unreachable us-east-1") */
	char *params_json;  /* the fault's JSON as written (compact), or NULL */
	uint64_t start_ms;  /* since the run started; UINT64_MAX if never applied */
	uint64_t end_ms;    /* UINT64_MAX if never reverted */
	char *error;        /* apply/revert failure, or NULL */
};

/* A decision of the DNS server or the RPC proxy, for the logs in reports. */
struct result_event {
	uint64_t at_ms;
	char *source;       /* "dns" or "rpc:<name>" */
	char *what;         /* name/type or method(s) */
	char *rule;         /* matched fault kind, or NULL */
	char *action;       /* answer/action taken */
	char *detail;       /* client, status, latency ... or NULL */
};

/*
 * Packet evidence for one fault, counted from the run's packet captures
 * (reports/capture.h says how). One entry per fault and subject; which
 * counters mean something depends on the kind:
 *
 *  - PREFIX (subject "10.77.2.0/24"): sent = IP packets toward the prefix
 *    seen at the near points (the client side) during the fault window;
 *    through = of packets toward it, those seen at the far points (past the
 *    fault, on the links toward the prefix's hosts), or UINT64_MAX when no
 *    far point was captured; answered = packets from the prefix seen at the
 *    near points; unreachable = ICMP destination-unreachable messages about
 *    a destination in the prefix seen at the near points.
 *  - CONNECT (subject "10.77.2.10:8545", "[fd77::10]:8545"): TCP connection
 *    attempts toward one destination at the near points during the window:
 *    attempts = first SYNs, retries = the same SYN again (same ports and
 *    sequence number), answered = SYN-ACKs from it, reset = RSTs from it,
 *    unreachable = ICMP destination-unreachable about it.
 *  - DNS (subject a name pattern, "*.use1.example"): at the DNS points,
 *    sent = queries for matching names, answered = responses for them,
 *    rcode[] = those responses by RCODE.
 */
enum evidence_kind {
	EVIDENCE_PREFIX = 0,
	EVIDENCE_CONNECT = 1,
	EVIDENCE_DNS = 2,
};

struct evidence {
	enum evidence_kind kind;
	size_t fault;            /* index in run_result.faults */
	char *subject;           /* owned */
	uint64_t sent;           /* PREFIX: packets toward; DNS: queries */
	uint64_t attempts;       /* CONNECT */
	uint64_t retries;        /* CONNECT */
	uint64_t through;        /* PREFIX; UINT64_MAX: not measured */
	uint64_t answered;       /* PREFIX, CONNECT, DNS */
	uint64_t unreachable;    /* PREFIX, CONNECT */
	uint64_t reset;          /* CONNECT */
	uint64_t rcode[16];      /* DNS: responses by RCODE */
	uint64_t first_ms;       /* first packet counted, since the run started; */
	uint64_t last_ms;        /* the last one; both UINT64_MAX when none was */
};

/* One packet capture point of the run and its file. */
struct result_capture {
	char *label;             /* where: "client eth0", "core h3 (rpc-a)"; owned */
	char *role;              /* "near", "far" or "dns"; owned */
	char *path;              /* the pcap file as written; owned */
	uint64_t packets;        /* packets written to the file */
	uint64_t dropped;        /* seen but not written: kernel drops, size cap */
	uint64_t undecoded;      /* in the file, but headers that could not be walked */
	char *error;             /* why the capture failed or stopped early, or NULL; owned */
};

struct run_result {
	char *scenario;
	char *description;
	char *file;
	uint64_t seed;
	uint64_t started_at_unix_ms;
	uint64_t duration_ms;
	uint64_t phase_start_ms[PHASE_COUNT];  /* since the run started */
	uint64_t phase_end_ms[PHASE_COUNT];
	uint64_t lift_ms;        /* when the last fault was lifted (recovery start);
	                            UINT64_MAX (result_new's value) until then */
	int interrupted;         /* stopped by a signal */
	char *error;             /* the run could not complete (lab, apply...), or NULL */
	struct flow_result *flows;
	size_t nflows;
	struct fault_window *faults;
	size_t nfaults;
	struct result_event *events;
	size_t nevents, capevents;
	enum verdict verdict;
	/* packet evidence (--pcap); none without captures */
	struct result_capture *captures;
	size_t ncaptures, capcaptures;
	struct evidence *evidence;
	size_t nevidence, capevidence;
};

/* Caps on recorded data, so a long run cannot grow memory without bound. */
#define RESULT_MAX_RUNS   (1u << 20)  /* per flow */
#define RESULT_MAX_EVENTS (1u << 17)  /* per run */
#define RESULT_MAX_EVIDENCE 4096u     /* per run */
#define RESULT_MAX_CAPTURES 256u      /* per run */

/*
 * Allocate a result with nflows flows and nfaults faults, all zeroed except
 * lift_ms = UINT64_MAX (faults not lifted yet, so a run interrupted before
 * the recovery phase never counts as recovered). NULL if out of memory.
 * Free with result_free.
 */
struct run_result *result_new(size_t nflows, size_t nfaults);
void result_free(struct run_result *r);

/*
 * Record a flow run (copies message and step). Returns 0, -ENOMEM, or
 * -ENOBUFS past RESULT_MAX_RUNS (the run is then not recorded).
 */
int result_add_run(struct flow_result *f, const struct flow_run *run)
	__attribute__((warn_unused_result));

/* Record a DNS/RPC decision (copies strings). Returns 0 or -ENOMEM (or -ENOBUFS past the cap). */
int result_add_event(struct run_result *r, const struct result_event *ev)
	__attribute__((warn_unused_result));

/*
 * Record packet evidence (copies the subject). ev->fault must index
 * r->faults. Returns 0, -EINVAL (bad fault index), -ENOMEM, or -ENOBUFS
 * past RESULT_MAX_EVIDENCE.
 */
int result_add_evidence(struct run_result *r, const struct evidence *ev)
	__attribute__((warn_unused_result));

/*
 * Record a capture point (copies the strings). Returns 0, -ENOMEM, or
 * -ENOBUFS past RESULT_MAX_CAPTURES.
 */
int result_add_capture(struct run_result *r, const struct result_capture *cap)
	__attribute__((warn_unused_result));

/* "prefix", "connect", "dns". */
const char *evidence_kind_name(enum evidence_kind k);

/* "NOERROR", "SERVFAIL", ... for a DNS RCODE (0..15), "RCODE<n>" for others; buf has 16 bytes. */
const char *evidence_rcode_name(unsigned rcode, char *buf);

/*
 * What the captures saw during one fault, summed over its evidence entries;
 * the one-sentence summary the HTML, Markdown and terminal reports print.
 */
struct evidence_summary {
	int prefix, far, dns;                    /* which kinds of entry there were */
	uint64_t sent, through, answered, unreachable;   /* PREFIX; through: far points */
	uint64_t dests, attempts, retries, syn_acks;     /* CONNECT */
	uint64_t queries, answers;                       /* DNS */
};

/* Sum fault's evidence into *s. Returns 1 when the fault has any, else 0. */
int evidence_summarize(const struct run_result *r, size_t fault, struct evidence_summary *s);

/*
 * *s as plain text, numbers and fixed words only (no escaping needed), each
 * clause starting with a space: " 33 packets toward it, 0 got through, 0
 * came back from it, 4 ICMP unreachable. 240 DNS queries for its names, 240
 * answers." Truncated to fit n bytes.
 */
void evidence_summary_text(const struct evidence_summary *s, char *buf, size_t n);

/*
 * Compute statistics, recovery and verdicts for every flow and the scenario.
 * Sorts each flow's runs by start_ms (stable). May be called again after
 * more runs were added; it recomputes everything. The rules:
 *
 *  - per phase: outcome counts, nearest-rank p50/p95 and max latency (0
 *    when the phase has no runs);
 *  - broke: a non-ok run in the fault or recovery phase; first_error: the
 *    first error or wrong run there;
 *  - recovery: the first run of the fault or recovery phase that started at
 *    or after lift_ms and passed (ok or slow); recovered_after = its start +
 *    latency - lift_ms. No such run: not recovered;
 *  - flow verdict: an error or wrong run in the baseline makes the flow
 *    INCONCLUSIVE whatever its expectation. Otherwise, over the fault and
 *    recovery runs: survive = no error and no wrong; degrade = no wrong and
 *    recovered; fail-clean = no wrong; recover = recovered and
 *    recovered_after_us <= expect_within_us; any = VERDICT_NONE;
 *  - scenario verdict: any INCONCLUSIVE flow -> INCONCLUSIVE; else any FAIL
 *    flow, r->error or r->interrupted -> FAIL; else PASS (also with no
 *    flows or no expectations).
 */
void result_finish(struct run_result *r);

/* Percentile (0..100) of the latencies of the given flow's runs in a phase. */
uint64_t result_percentile(const struct flow_result *f, enum phase p, unsigned pct);

const char *outcome_name(enum outcome o);
const char *phase_name(enum phase p);
const char *verdict_name(enum verdict v);
const char *result_expect_name(enum result_expect e);

/*
 * Process exit code for a scenario verdict: 0 pass, 1 fail, 4 inconclusive
 * (VERDICT_NONE, only ever a flow verdict, maps to 0).
 */
int verdict_exit_code(enum verdict v);

#endif
