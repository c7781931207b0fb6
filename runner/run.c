/*
 * run: the timeline of one scenario run. See run.h.
 *
 * Phases follow each other on loop timers. Within a phase, a tick every
 * "every" starts a run of each flow that is not still running. The baseline
 * is drained (its runs finish) before any fault is applied, so that no run
 * straddles the start of the outage. Faults are applied at their offsets and
 * lifted at their ends, and all that are still on are lifted, newest first,
 * when the fault phase ends. Recovery ends when every flow has passed again
 * or its window is over.
 */
#include "runner/run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/netns.h"
#include "common/units.h"
#include "injector/dns.h"
#include "injector/journal.h"
#include "injector/probe.h"
#include "injector/rpc.h"
#include "reports/capture.h"
#include "runner/driver.h"
#include "runner/fault_dns.h"
#include "runner/fault_rpc.h"
#include "runner/lab.h"

struct run;

struct run_flow {
	struct run *run;
	size_t index;
	int nsfd;
	int running;
	enum phase started_in;
	uint64_t started_at;
	int passed_since_lift;
	int borrowed;       /* nsfd belongs to the lab */
	int pending;        /* a tick came while a run was in flight */
};

struct run_fault {
	struct run *run;
	struct fault *f;
	int applied;
	size_t order;                 /* application order, for reverse lifting */
	int lift_failed;              /* revert failed: the journal must stay for recover */
	struct loop_timer *on, *off;
};

struct run {
	const struct scenario *sc;
	const struct run_options *o;
	struct loop *loop;
	struct driver *driver;
	struct run_result *res;
	struct fault_env env;
	struct run_flow *flows;
	struct run_fault *faults;
	size_t applied_count;
	uint64_t t0;
	enum phase phase;
	int draining;                 /* phase over, waiting for runs in flight */
	int done;
	int refused;
	struct loop_timer *tick, *phase_end;
	uint64_t phase_t0;
	unsigned sigints;
	int started;                     /* the timeline runs (the loop is past lab up) */
	int apply_failed;                /* an apply failed: its own undo may have too */
	struct err err;
	struct journal *journal;
	struct dns_server *dns;          /* from the scenario's "dns" (no lab) */
	struct rpc_proxy **proxies;      /* from the scenario's "rpc" */
	const char **proxy_names;
	size_t nproxies;
	struct loop_timer *watch;        /* lab service watchdog */
	struct loop_timer *progress;     /* progress refresh */
	struct capture *cap;             /* --pcap */
	const char **last_outcome;       /* per flow, for progress */
	int done_phase;
};

/* Write one event line: {"t_ms":..,"type":..,...}; takes ownership of obj. */
static void run_event(struct run *r, const char *type, json_t *obj)
{
	char *line;

	if (!r->o->events) {
		json_decref(obj);
		return;
	}
	if (!obj)
		obj = json_object();
	json_object_set_new(obj, "t_ms", json_integer(r->t0 ? (json_int_t)((loop_now_us() - r->t0) /
									     1000) : 0));
	json_object_set_new(obj, "type", json_string(type));
	line = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	if (line) {
		fprintf(r->o->events, "%s\n", line);
		fflush(r->o->events);
	}
	free(line);
	json_decref(obj);
}

static void run_progress_emit(struct run *r)
{
	const char *faults[64];
	const char *names[256];
	struct run_progress p;
	size_t i, n = 0;

	if (!r->o->progress)
		return;
	memset(&p, 0, sizeof(p));
	p.scenario = r->sc->name;
	p.phase = r->done_phase ? "done" : phase_name(r->phase);
	p.elapsed_ms = r->t0 ? (loop_now_us() - r->t0) / 1000 : 0;
	p.planned_ms = (r->sc->sched.baseline_us + r->sc->sched.fault_us +
			r->sc->sched.recovery_us) / 1000;
	for (i = 0; i < r->sc->nfaults && n < 64; i++)
		if (r->faults[i].applied)
			faults[n++] = r->res->faults[i].label;
	p.faults = faults;
	p.nfaults = n;
	for (i = 0; i < r->sc->nflows && i < 256; i++)
		names[i] = r->sc->flows[i].name;
	p.flows = names;
	p.last = r->last_outcome;
	p.nflows = i;
	r->o->progress(r->o->progress_arg, &p);
}

static void run_progress_timer(struct loop *l, void *arg)
{
	struct run *r = arg;

	(void)l;
	r->progress = loop_timer_add(r->loop, 500000, run_progress_timer, r);
	run_progress_emit(r);
}

static uint64_t run_ms(const struct run *r)
{
	return (loop_now_us() - r->t0) / 1000;
}

static void run_phase_start(struct run *r, enum phase p);
static void run_finish(struct run *r);
static void run_flow_start(struct run *r, struct run_flow *rf);

/* ---- faults ---- */

static void run_fault_label(const struct fault *f, char *out, size_t outlen)
{
	const char *names = NULL;
	json_t *v;

	if (f->region) {
		snprintf(out, outlen, "%s %s", f->ops->kind, f->region);
		return;
	}
	v = json_object_get(f->spec, "upstream");
	if (json_is_string(v))
		names = json_string_value(v);
	v = json_object_get(f->spec, "names");
	if (!names && json_is_string(v))
		names = json_string_value(v);
	if (!names && json_is_array(v) && json_is_string(json_array_get(v, 0)))
		names = json_string_value(json_array_get(v, 0));
	v = json_object_get(f->spec, "prefixes");
	if (!names && json_is_array(v) && json_is_string(json_array_get(v, 0)))
		names = json_string_value(json_array_get(v, 0));
	if (names)
		snprintf(out, outlen, "%s %s", f->ops->kind, names);
	else
		snprintf(out, outlen, "%s", f->ops->kind);
}

static void run_fault_lift(struct run_fault *rf)
{
	struct run *r = rf->run;
	struct fault_window *w = &r->res->faults[rf - r->faults];
	struct err e;

	if (rf->off) {
		loop_timer_cancel(r->loop, rf->off);
		rf->off = NULL;
	}
	if (rf->on) {
		loop_timer_cancel(r->loop, rf->on);
		rf->on = NULL;
	}
	if (!rf->applied)
		return;
	err_clear(&e);
	if (rf->f->ops->revert && rf->f->ops->revert(&r->env, rf->f, &e)) {
		log_error("lifting %s failed: %s", w->label, e.msg);
		rf->lift_failed = 1;
		if (!r->err.code) {  /* a fault that would not go fails the run */
			snprintf(r->err.msg, sizeof(r->err.msg), "lifting %.200s failed: %.700s",
				 w->label, e.msg);
			r->err.code = e.code ? e.code : -EIO;
		}
		if (!w->error)
			w->error = strdup(e.msg);
	} else {
		log_info("fault lifted: %s", w->label);
	}
	run_event(r, "fault_off", json_pack("{ssss}", "kind", w->kind, "label", w->label));
	rf->applied = 0;
	w->end_ms = run_ms(r);
}

/* Lift every fault that is on, newest first. */
static int run_any_lift_failed(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->sc->nfaults; i++)
		if (r->faults[i].lift_failed)
			return 1;
	return 0;
}

static void run_faults_lift_all(struct run *r)
{
	size_t i, best;

	for (;;) {
		best = SIZE_MAX;
		for (i = 0; i < r->sc->nfaults; i++)
			if (r->faults[i].applied &&
			    (best == SIZE_MAX || r->faults[i].order > r->faults[best].order))
				best = i;
		if (best == SIZE_MAX)
			break;
		run_fault_lift(&r->faults[best]);
	}
	for (i = 0; i < r->sc->nfaults; i++)
		run_fault_lift(&r->faults[i]); /* cancels timers of faults never applied */
}

static void run_fault_off_timer(struct loop *l, void *arg)
{
	struct run_fault *rf = arg;

	(void)l;
	rf->off = NULL;
	run_fault_lift(rf);
}

static void run_fault_on_timer(struct loop *l, void *arg)
{
	struct run_fault *rf = arg;
	struct run *r = rf->run;
	struct fault_window *w = &r->res->faults[rf - r->faults];
	struct err e;

	(void)l;
	rf->on = NULL;
	err_clear(&e);
	if (r->o->dry_run) {
		log_info("dry run: not applying %s", w->label);
		return;
	}
	if (rf->f->ops->apply(&r->env, rf->f, &e)) {
		log_error("applying %s failed: %s", w->label, e.msg);
		r->apply_failed = 1;
		w->error = strdup(e.msg);
		snprintf(r->err.msg, sizeof(r->err.msg), "applying %.200s failed: %.700s", w->label, e.msg);
		r->err.code = e.code ? e.code : -EIO;
		if (e.code == -EPERM || e.code == -EOPNOTSUPP || e.code == -ENOENT ||
		    e.code == -EACCES)
			r->refused = 1;
		run_finish(r);
		return;
	}
	rf->applied = 1;
	rf->order = ++r->applied_count;
	w->start_ms = run_ms(r);
	log_info("fault on: %s", w->label);
	run_event(r, "fault_on", json_pack("{ssss}", "kind", w->kind, "label", w->label));
	run_progress_emit(r);
	if (rf->f->for_us) {
		rf->off = loop_timer_add(r->loop, rf->f->for_us, run_fault_off_timer, rf);
		if (!rf->off)
			log_error("out of memory: %s stays on until the fault phase ends", w->label);
	}
}

/* ---- flows ---- */

/* The baseline is over and drained: go on to the fault phase, or stop. */
static void run_baseline_done(struct run *r)
{
	size_t i, k;
	int broken = 0;

	for (i = 0; i < r->sc->nflows; i++)
		for (k = 0; k < r->res->flows[i].nruns; k++)
			if (r->res->flows[i].runs[k].outcome >= OUTCOME_ERROR)
				broken = 1;
	r->res->phase_end_ms[PHASE_BASELINE] = run_ms(r);
	if (broken && !r->o->keep_going) {
		log_error("a flow failed before any fault: the scenario is inconclusive");
		run_finish(r);
		return;
	}
	run_phase_start(r, PHASE_FAULT);
}

static void run_flow_done(void *arg, const struct driver_outcome *o)
{
	struct run_flow *rf = arg;
	struct run *r = rf->run;
	struct flow_result *fr = &r->res->flows[rf->index];
	struct flow_run fr_run;

	rf->running = 0;
	memset(&fr_run, 0, sizeof(fr_run));
	fr_run.start_ms = (rf->started_at - r->t0) / 1000;
	fr_run.latency_us = o->latency_us;
	fr_run.phase = rf->started_in;
	fr_run.outcome = o->outcome;
	fr_run.message = o->message[0] ? (char *)o->message : NULL;
	fr_run.step = o->step[0] ? (char *)o->step : NULL;
	if (result_add_run(fr, &fr_run))
		log_error("out of memory recording a run of %s", fr->name);
	r->last_outcome[rf->index] = outcome_name(o->outcome);
	run_event(r, "flow_run", json_pack("{sssssIsfssss}", "flow", fr->name, "phase",
					   phase_name(rf->started_in), "start_ms",
					   (json_int_t)fr_run.start_ms, "latency_ms",
					   (double)o->latency_us / 1000.0, "outcome",
					   outcome_name(o->outcome), "message", o->message));
	run_progress_emit(r);
	if (o->outcome == OUTCOME_OK)
		log_debug("%s: ok in %llu ms", fr->name, (unsigned long long)(o->latency_us / 1000));
	else
		log_info("%s: %s (%s) %s%s%s", fr->name, outcome_name(o->outcome),
			 phase_name(rf->started_in), o->step, o->step[0] ? ": " : "", o->message);
	if (rf->started_in == PHASE_RECOVERY &&
	    (o->outcome == OUTCOME_OK || o->outcome == OUTCOME_SLOW))
		rf->passed_since_lift = 1;
	if (rf->pending && !r->draining && !r->done && r->tick) {
		/* the tick it missed: start again now, in the current phase */
		run_flow_start(r, rf);
		return;
	}
	rf->pending = 0;
	if (r->draining && driver_active(r->driver) == 0) {
		r->draining = 0;
		if (r->phase == PHASE_BASELINE)
			run_baseline_done(r);
		else
			run_finish(r);
	} else if (r->phase == PHASE_RECOVERY && !r->draining) {
		size_t i;
		int all = 1;

		for (i = 0; i < r->sc->nflows; i++)
			if (!r->flows[i].passed_since_lift)
				all = 0;
		if (all) {
			log_info("every flow passed again: recovery complete");
			if (r->tick) {
				loop_timer_cancel(r->loop, r->tick);
				r->tick = NULL;
			}
			if (r->phase_end) {
				loop_timer_cancel(r->loop, r->phase_end);
				r->phase_end = NULL;
			}
			r->res->phase_end_ms[PHASE_RECOVERY] = run_ms(r);
			r->draining = 1;
			if (driver_active(r->driver) == 0)
				run_finish(r);
		}
	}
}

/* Start a run of one flow now. */
static void run_flow_start(struct run *r, struct run_flow *rf)
{
	struct err e;

	err_clear(&e);
	rf->pending = 0;
	rf->running = 1;
	rf->started_in = r->phase;
	rf->started_at = loop_now_us();
	if (driver_start(r->driver, &r->sc->flows[rf->index], rf->nsfd, run_flow_done, rf, &e)) {
		rf->running = 0;
		log_error("cannot start flow %s: %s", r->sc->flows[rf->index].name, e.msg);
	}
}

static void run_tick(struct loop *l, void *arg)
{
	struct run *r = arg;
	uint64_t elapsed;
	size_t i;

	(void)l;
	r->tick = NULL;
	for (i = 0; i < r->sc->nflows; i++) {
		struct run_flow *rf = &r->flows[i];

		/*
		 * A run still in flight is never stacked on; the flow starts again
		 * as soon as it ends, so a tick is late, never lost.
		 */
		if (rf->running)
			rf->pending = 1;
		else
			run_flow_start(r, rf);
	}
	/* next tick on the phase's grid, so that late ticks do not drift */
	elapsed = loop_now_us() - r->phase_t0;
	r->tick = loop_timer_add(r->loop, r->sc->sched.every_us -
				 elapsed % r->sc->sched.every_us, run_tick, r);
}

/* ---- phases ---- */

static void run_phase_over(struct loop *l, void *arg)
{
	struct run *r = arg;

	(void)l;
	r->phase_end = NULL;
	if (r->tick) {
		loop_timer_cancel(r->loop, r->tick);
		r->tick = NULL;
	}
	switch (r->phase) {
	case PHASE_BASELINE:
		log_info("baseline over; waiting for runs in flight");
		r->draining = 1;
		if (driver_active(r->driver) == 0) {
			r->draining = 0;
			run_baseline_done(r);
		}
		break;
	case PHASE_FAULT:
		r->res->phase_end_ms[PHASE_FAULT] = run_ms(r);
		run_faults_lift_all(r);
		run_phase_start(r, PHASE_RECOVERY);
		break;
	default:
		r->res->phase_end_ms[PHASE_RECOVERY] = run_ms(r);
		log_info("recovery window over");
		r->draining = 1;
		if (driver_active(r->driver) == 0)
			run_finish(r);
		break;
	}
}

static void run_phase_start(struct run *r, enum phase p)
{
	uint64_t len = p == PHASE_BASELINE ? r->sc->sched.baseline_us :
		       p == PHASE_FAULT ? r->sc->sched.fault_us : r->sc->sched.recovery_us;
	char a[32];
	size_t i;

	r->phase = p;
	r->phase_t0 = loop_now_us();
	r->res->phase_start_ms[p] = run_ms(r);
	log_info("%s phase: %s", phase_name(p), units_duration_format(len, a, sizeof(a)));
	run_event(r, "phase", json_pack("{sssI}", "phase", phase_name(p), "planned_ms",
					(json_int_t)(len / 1000)));
	if (p == PHASE_FAULT) {
		for (i = 0; i < r->sc->nfaults; i++) {
			struct run_fault *rf = &r->faults[i];

			rf->on = loop_timer_add(r->loop, rf->f->at_us, run_fault_on_timer, rf);
			if (!rf->on) {
				err_set(&r->err, -ENOMEM, "out of memory");
				run_finish(r);
				return;
			}
		}
	}
	if (p == PHASE_RECOVERY)
		r->res->lift_ms = r->res->phase_start_ms[p];
	r->phase_end = loop_timer_add(r->loop, len, run_phase_over, r);
	r->tick = loop_timer_add(r->loop, 0, run_tick, r);
	if (!r->phase_end || !r->tick) {
		err_set(&r->err, -ENOMEM, "out of memory");
		run_finish(r);
	}
}

static void run_finish(struct run *r)
{
	if (r->done)
		return;
	r->done = 1;
	r->done_phase = 1;
	if (r->progress) {
		loop_timer_cancel(r->loop, r->progress);
		r->progress = NULL;
	}
	run_faults_lift_all(r);
	if (r->tick)
		loop_timer_cancel(r->loop, r->tick);
	if (r->phase_end)
		loop_timer_cancel(r->loop, r->phase_end);
	r->tick = r->phase_end = NULL;
	driver_cancel_all(r->driver);
	loop_stop(r->loop);
}

static const char *run_signame(int signo)
{
	return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "SIGHUP";
}

/*
 * The first SIGINT, SIGTERM or SIGHUP read by the loop lifts every fault at
 * once (synchronously, in this callback) and stops the timeline; teardown
 * and the reports follow. While the lab is still being built the signal only
 * stops the wait for its services (lab_up returns -EINTR).
 */
static void run_signal(struct loop *l, int signo, void *arg)
{
	struct run *r = arg;

	(void)l;
	r->sigints++;
	log_warn("%s: lifting every fault and stopping", signo == SIGINT ? "interrupted" : "terminated");
	r->res->interrupted = 1;
	run_event(r, "signal", json_pack("{ss}", "signal", run_signame(signo)));
	if (!r->started) {
		loop_stop(r->loop);
		return;
	}
	if (r->phase < PHASE_COUNT && !r->res->phase_end_ms[r->phase])
		r->res->phase_end_ms[r->phase] = run_ms(r);
	run_finish(r);
}

/*
 * After the loop: faults are lifted, what is left is teardown and the
 * reports, done with the signals unblocked and this handler installed. A
 * second signal (counting the one the loop read) exits at once: the lab's
 * namespaces and the journal stay for `doorjam recover`. A first signal
 * here only marks the run interrupted (SA_RESTART: teardown's waits and
 * netlink calls go on). The count lives for the whole process, so that one
 * that comes after run_scenario returned (while main writes the reports, or
 * before the next scenario) is not lost: run_signalled() tells main.
 */
static volatile sig_atomic_t run_late_signals;
static volatile sig_atomic_t run_early_signals;

static void run_late_signal(int signo)
{
	static const char msg[] = "doorjam: second signal: every fault is lifted; exiting without "
				  "teardown, run `doorjam recover` to remove the rest\n";

	run_late_signals = run_late_signals + 1;
	if (run_early_signals + run_late_signals < 2)
		return;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing else to do: exiting is the point */
	}
	_exit(128 + signo);
}

int run_signalled(void)
{
	return run_early_signals + run_late_signals > 0;
}

static void run_arm_late_signals(const struct run *r)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	sigset_t set;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_late_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (r->sigints)
		run_early_signals = (sig_atomic_t)r->sigints;
	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&set, sigs[i]);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- entry ---- */

static struct rpc_proxy *run_rpc_find(struct fault_env *env, const char *name)
{
	struct run *r = env->run;
	size_t i;

	for (i = 0; i < r->nproxies; i++)
		if (!strcmp(r->proxy_names[i], name))
			return r->proxies[i];
	return r->sc->lab ? lab_rpc(r->sc->lab, name) : NULL;
}

static int run_host_netns(struct fault_env *env, const char *host)
{
	struct run *r = env->run;

	return r->sc->lab ? lab_host_netns(r->sc->lab, host) : -1;
}

/*
 * The label of the applied fault whose rule id is id, among kinds starting
 * with prefix (and, for RPC, on the proxy named proxy), or NULL.
 */
static const char *run_rule_label(const struct run *r, const char *prefix, const char *proxy,
				  int id)
{
	size_t i;

	for (i = 0; id > 0 && i < r->sc->nfaults; i++) {
		const struct fault *f = &r->sc->faults[i];

		if (!r->faults[i].applied || strncmp(f->ops->kind, prefix, strlen(prefix)) ||
		    (int)(intptr_t)f->state != id)
			continue;
		if (proxy && strcmp(fault_rpc_upstream(f) ? fault_rpc_upstream(f) : "", proxy))
			continue;
		return r->res->faults[i].label;
	}
	return NULL;
}

static void run_dns_log(const struct dns_log_entry *e, void *arg)
{
	struct run *r = arg;
	struct result_event ev;
	char what[300], detail[200];

	memset(&ev, 0, sizeof(ev));
	ev.at_ms = e->time_us > r->t0 ? (e->time_us - r->t0) / 1000 : 0;
	ev.source = (char *)"dns";
	snprintf(what, sizeof(what), "%s %s", e->name, e->type);
	ev.what = what;
	ev.rule = (char *)run_rule_label(r, "dns.", NULL, e->rule);
	if (e->rule && !ev.rule)
		ev.rule = (char *)e->action;
	ev.action = (char *)e->answer;
	snprintf(detail, sizeof(detail), "%s %s, %llu us", e->transport, e->client,
		 (unsigned long long)e->latency_us);
	ev.detail = detail;
	if (result_add_event(r->res, &ev) == -ENOMEM)
		log_error("out of memory recording a DNS query");
	run_event(r, "dns", json_pack("{sssssssiss}", "query", what, "client", e->client,
				      "action", e->action, "rule", e->rule, "answer", e->answer));
}

static void run_rpc_log(const struct rpc_log_entry *e, void *arg)
{
	struct run *r = arg;
	struct result_event ev;
	char src[96], detail[96];

	memset(&ev, 0, sizeof(ev));
	ev.at_ms = e->start_us > r->t0 ? (e->start_us - r->t0) / 1000 : 0;
	snprintf(src, sizeof(src), "rpc:%s", e->proxy);
	ev.source = src;
	ev.what = (char *)(e->methods && *e->methods ? e->methods : "-");
	ev.rule = (char *)run_rule_label(r, "rpc.", e->proxy, e->rule_id);
	if (e->rule_id && !ev.rule)
		ev.rule = (char *)e->action;
	ev.action = (char *)e->action;
	snprintf(detail, sizeof(detail), "status %d, %llu us", e->status,
		 (unsigned long long)e->latency_us);
	ev.detail = detail;
	if (result_add_event(r->res, &ev) == -ENOMEM)
		log_error("out of memory recording an RPC request");
	run_event(r, "rpc", json_pack("{sssssssisisf}", "proxy", e->proxy, "methods", ev.what,
				      "action", e->action, "rule", e->rule_id, "status", e->status,
				      "latency_ms", (double)e->latency_us / 1000.0));
}

/* Every second: a lab service that died is reported (once). */
static void run_watch(struct loop *l, void *arg)
{
	struct run *r = arg;
	struct lab_host *h;

	(void)l;
	r->watch = NULL;
	while ((h = lab_service_died(r->sc->lab))) {
		log_error("lab service %s exited (status %d) during the run; see %s", h->name,
			  WIFEXITED(h->status) ? WEXITSTATUS(h->status) : 128 + WTERMSIG(h->status),
			  h->log_path);
		if (!r->res->error && asprintf(&r->res->error, "lab service %s exited during the run",
					       h->name) < 0)
			r->res->error = NULL;
	}
	r->watch = loop_timer_add(r->loop, 1000000, run_watch, r);
}

/* Start the scenario's own DNS server and RPC proxies (runs without a lab). */
static int run_servers_up(struct run *r, struct err *err)
{
	const struct scenario *sc = r->sc;
	int rc = 0;

	if (sc->dns) {
		struct dns_config *cfg = NULL;

		rc = fault_dns_config_build(sc->dns, r->res->seed, &cfg, err);
		if (rc == 0) {
			r->dns = dns_server_new(r->loop, cfg, err);
			if (!r->dns)
				rc = err->code ? err->code : -EIO;
		}
		dns_config_free(cfg);
		if (rc)
			return err_prefix(err, "DNS server: ");
	}
	if (sc->rpc) {
		const char *name;
		json_t *entry;

		r->proxies = calloc(json_object_size(sc->rpc) + 1, sizeof(*r->proxies));
		r->proxy_names = calloc(json_object_size(sc->rpc) + 1, sizeof(char *));
		if (!r->proxies || !r->proxy_names)
			return err_set(err, -ENOMEM, "out of memory");
		json_object_foreach(sc->rpc, name, entry) {
			struct rpc_proxy_config cfg;

			rpc_proxy_config_default(&cfg);
			rc = fault_rpc_config(entry, name, &cfg, err);
			if (rc == 0) {
				r->proxies[r->nproxies] = rpc_proxy_new(r->loop, &cfg, err);
				if (!r->proxies[r->nproxies])
					rc = err->code ? err->code : -EIO;
			}
			if (rc)
				return err_prefix(err, "RPC proxy %s: ", name);
			rpc_proxy_set_seed(r->proxies[r->nproxies], r->res->seed);
			r->proxy_names[r->nproxies++] = name;
		}
	}
	return 0;
}

static void run_servers_log(struct run *r)
{
	size_t i;

	if (r->dns)
		dns_server_set_log(r->dns, run_dns_log, r);
	if (lab_dns(r->sc->lab))
		dns_server_set_log(lab_dns(r->sc->lab), run_dns_log, r);
	for (i = 0; i < r->nproxies; i++)
		rpc_proxy_set_log(r->proxies[i], run_rpc_log, r);
	for (i = 0; r->sc->lab && i < r->sc->lab->nproxies; i++)
		rpc_proxy_set_log(r->sc->lab->proxies[i], run_rpc_log, r);
}

static void run_servers_down(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nproxies; i++)
		rpc_proxy_free(r->proxies[i]);
	free(r->proxies);
	free(r->proxy_names);
	r->proxies = NULL;
	r->nproxies = 0;
	dns_server_free(r->dns);
	r->dns = NULL;
}

/*
 * Refuse up front what this machine cannot do: kernel faults without
 * privileges, kinds that need sch_netem on a kernel without it, DNS or RPC
 * faults without a server to put them in. Returns 0 or RUN_REFUSED with err.
 */
static int run_preflight(const struct scenario *sc, const struct run_options *o,
			 struct err *err)
{
	unsigned needs = 0;
	size_t i;

	for (i = 0; i < sc->nfaults; i++)
		needs |= sc->faults[i].ops->needs;
	if (o->dry_run)
		needs &= ~(FAULT_NEEDS_ROOT | FAULT_NEEDS_NETEM);
	if ((needs & FAULT_NEEDS_ROOT) || sc->lab) {
		char why[256] = "";

		if (probe_privileges(why, sizeof(why)) != 1) {
			err_set(err, -EPERM, "%s needs root: %s", sc->lab ? "a lab" : "kernel faults", why);
			return RUN_REFUSED;
		}
	}
	if (needs & FAULT_NEEDS_NETEM) {
		struct err pe;
		int has;

		err_clear(&pe);
		has = probe_has_qdisc("netem", &pe);
		if (has == 0) {
			for (i = 0; i < sc->nfaults; i++)
				if (sc->faults[i].ops->needs & FAULT_NEEDS_NETEM)
					break;
			err_set(err, -EOPNOTSUPP, "%s (%s) needs the kernel's sch_netem, which this "
				"kernel does not have (`doorjam doctor` lists what it has); nothing was "
				"applied", sc->faults[i].ops->kind, sc->faults[i].ptr);
			return RUN_REFUSED;
		}
		if (has < 0) {
			err_set(err, pe.code, "cannot tell whether the kernel has sch_netem: %s", pe.msg);
			return RUN_REFUSED;
		}
	}
	if ((needs & FAULT_NEEDS_DNS) && !sc->dns && !(sc->lab && sc->lab->dns)) {
		err_set(err, -EINVAL, "dns.* faults need doorjam's DNS server: add \"dns\" to the "
			"scenario or a lab with one");
		return RUN_REFUSED;
	}
	if ((needs & FAULT_NEEDS_RPC) && !sc->rpc && !(sc->lab && sc->lab->rpc)) {
		err_set(err, -EINVAL, "rpc.* faults need doorjam's RPC proxy: add \"rpc\" to the "
			"scenario or a lab with one");
		return RUN_REFUSED;
	}
	return 0;
}

/* Push s onto a small list of strings unless it is there already. */
static void run_strs_add(const char **v, size_t *n, size_t max, const char *s)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp(v[i], s))
			return;
	if (*n < max)
		v[(*n)++] = s;
}

/* One capture point; a point that cannot be opened is logged and does not stop the run. */
static void run_cap_point(struct run *r, int nsfd, const char *ifname, const char *label,
			  enum capture_role role)
{
	char path[1024], name[128], *p;
	struct err e;

	snprintf(name, sizeof(name), "%s", label);
	for (p = name; *p; p++)
		if (*p == ' ' || *p == '/')
			*p = '-';
	snprintf(path, sizeof(path), "%s/%s.pcap", r->o->pcap_dir, name);
	err_clear(&e);
	if (capture_add_point(r->cap, nsfd, ifname, label, role, path, &e))
		log_warn("capture %s: %s", label, e.msg);
	else
		log_info("capturing %s into %s", label, path);
}

/*
 * --pcap: capture where the evidence is: each flow's vantage point (near),
 * the lab core's links toward the hosts of faulted regions (far), and the
 * DNS server's link; tell the capture which addresses and names each fault
 * concerns.
 */
static void run_cap_setup(struct run *r)
{
	const struct scenario *sc = r->sc;
	const struct lab *lab = sc->lab;
	const char *seen[64];
	size_t nseen = 0, i, k;
	struct err e;

	err_clear(&e);
	r->cap = capture_new(r->loop, &e);
	if (!r->cap) {
		log_warn("capture: %s", e.msg);
		return;
	}
	if (mkdir(r->o->pcap_dir, 0755) < 0 && errno != EEXIST)
		log_warn("capture: mkdir %s: %s", r->o->pcap_dir, strerror(errno));
	for (i = 0; !lab && i < sc->nflows; i++) {
		char label[96];

		if (nseen == 0) {
			/* the machine's own namespace: loopback only, never its real traffic */
			int own = netns_is_init(r->flows[i].nsfd);

			seen[nseen++] = "own";
			snprintf(label, sizeof(label), "near %s", own ? "lo" : "flows");
			run_cap_point(r, r->flows[i].nsfd, own ? "lo" : "any", label, CAPTURE_NEAR);
		}
	}
	if (lab) {
		const char *far[64];
		size_t nfar = 0;

		for (i = 0; i < sc->nfaults; i++) {
			const struct region *rg = sc->faults[i].region ?
						  scenario_region(sc, sc->faults[i].region) : NULL;

			if (!rg || strncmp(sc->faults[i].ops->kind, "net.", 4))
				continue;
			for (k = 0; k < rg->nhosts; k++)
				run_strs_add(far, &nfar, 64, rg->hosts[k]);
		}
		/*
		 * In the core: the links toward the faulted region's hosts show what
		 * got through (far); the links toward every other host show what
		 * those hosts sent toward the region (near): the wallet hammering a
		 * dead provider is seen where it enters the core.
		 */
		for (i = 0; i < lab->nhosts; i++) {
			const struct lab_host *h = &lab->hosts[i];
			char ifname[16], label[96];
			int is_far = 0;

			for (k = 0; k < nfar; k++)
				if (!strcmp(far[k], h->name))
					is_far = 1;
			if (!is_far && lab->dns_host && !strcmp(lab->dns_host, h->name))
				continue;
			snprintf(ifname, sizeof(ifname), "h%u", (unsigned)(i & 0xff));
			snprintf(label, sizeof(label), "%s core-%s", is_far ? "far" : "near", h->name);
			run_cap_point(r, lab->core_fd, ifname, label, is_far ? CAPTURE_FAR : CAPTURE_NEAR);
		}
		if (lab->dns_host)
			run_cap_point(r, lab_host_netns(lab, lab->dns_host), "eth0", "dns",
				      CAPTURE_DNS);
	} else if (r->dns) {
		struct sockaddr_storage ss;

		if (dns_server_addr(r->dns, 0, &ss) == 0 &&
		    capture_add_dns_port(r->cap, ntohs(((struct sockaddr_in *)&ss)->sin_port)))
			log_warn("capture: too many DNS ports");
		if (nseen == 0 || strcmp(seen[0], "own"))
			run_cap_point(r, -1, "lo", "dns lo", CAPTURE_DNS);
	}
	/* what each fault concerns: addresses and names */
	for (i = 0; i < sc->nfaults; i++) {
		const struct fault *f = &sc->faults[i];
		const struct region *rg = f->region ? scenario_region(sc, f->region) : NULL;
		const char *pfx[CAPTURE_MAX_PREFIXES], *names[CAPTURE_MAX_NAMES];
		char addrs[CAPTURE_MAX_PREFIXES][32];
		size_t np = 0, nn = 0, na = 0;
		json_t *v, *e2;
		size_t j;

		for (k = 0; rg && k < rg->nprefixes; k++)
			run_strs_add(pfx, &np, CAPTURE_MAX_PREFIXES, rg->prefixes[k]);
		for (k = 0; rg && k < rg->nnames; k++)
			run_strs_add(names, &nn, CAPTURE_MAX_NAMES, rg->names[k]);
		v = json_object_get(f->spec, "prefixes");
		json_array_foreach(v, j, e2)
			if (json_is_string(e2))
				run_strs_add(pfx, &np, CAPTURE_MAX_PREFIXES, json_string_value(e2));
		v = json_object_get(f->spec, "names");
		if (json_is_string(v))
			run_strs_add(names, &nn, CAPTURE_MAX_NAMES, json_string_value(v));
		json_array_foreach(v, j, e2)
			if (json_is_string(e2))
				run_strs_add(names, &nn, CAPTURE_MAX_NAMES, json_string_value(e2));
		/* a provider fault concerns the provider host's address */
		v = json_object_get(f->spec, "upstream");
		if (lab && json_is_string(v) && lab->rpc && na < CAPTURE_MAX_PREFIXES) {
			json_t *entry = json_object_get(lab->rpc, json_string_value(v));
			const struct lab_host *h = entry ? lab_host(lab,
				json_string_value(json_object_get(entry, "host"))) : NULL;

			if (h) {
				inet_ntop(AF_INET, &h->addr, addrs[na], sizeof(addrs[na]));
				run_strs_add(pfx, &np, CAPTURE_MAX_PREFIXES, addrs[na++]);
			}
		}
		err_clear(&e);
		if (capture_add_fault(r->cap, i, pfx, np, names, nn, &e))
			log_warn("capture: fault %s: %s", f->ptr, e.msg);
	}
}

/* 1 when some fault of the scenario is a kernel (net.*) fault. */
static int run_has_net_faults(const struct scenario *sc)
{
	size_t i;

	for (i = 0; i < sc->nfaults; i++)
		if (!strncmp(sc->faults[i].ops->kind, "net.", 4))
			return 1;
	return 0;
}

int run_scenario(const struct scenario *sc, const struct run_options *o,
		 struct run_result **out, struct err *err)
{
	struct run r;
	struct timespec now;
	sigset_t sigs;
	const char *target = NULL;
	size_t i;
	int rc = 0, tfd = NETNS_SELF;

	memset(&r, 0, sizeof(r));
	*out = NULL;
	r.sc = sc;
	r.o = o;
	r.res = result_new(sc->nflows, sc->nfaults);
	if (!r.res)
		return err_set(err, -ENOMEM, "out of memory");
	*out = r.res;
	r.res->scenario = strdup(sc->name);
	r.res->description = sc->description ? strdup(sc->description) : NULL;
	r.res->file = strdup(sc->file);
	if (o->has_seed)
		r.res->seed = o->seed;
	else if (sc->has_seed)
		r.res->seed = sc->seed;
	else if (getrandom(&r.res->seed, sizeof(r.res->seed), 0) != sizeof(r.res->seed))
		r.res->seed = (uint64_t)time(NULL);
	r.res->seed &= (UINT64_MAX >> 1);  /* a signed JSON integer holds it */
	clock_gettime(CLOCK_REALTIME, &now);
	r.res->started_at_unix_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	for (i = 0; i < sc->nflows; i++) {
		r.res->flows[i].name = strdup(sc->flows[i].name);
		r.res->flows[i].description = sc->flows[i].description ?
					      strdup(sc->flows[i].description) : NULL;
		r.res->flows[i].expect = (enum result_expect)sc->expects[i].kind;
		r.res->flows[i].expect_within_us = sc->expects[i].within_us;
	}
	for (i = 0; i < sc->nfaults; i++) {
		char label[256];

		run_fault_label(&sc->faults[i], label, sizeof(label));
		r.res->faults[i].kind = strdup(sc->faults[i].ops->kind);
		r.res->faults[i].label = strdup(label);
		r.res->faults[i].params_json = json_dumps(sc->faults[i].spec,
							  JSON_COMPACT | JSON_SORT_KEYS);
		r.res->faults[i].start_ms = UINT64_MAX;
		r.res->faults[i].end_ms = UINT64_MAX;
	}

	r.flows = calloc(sc->nflows + 1, sizeof(*r.flows));
	r.last_outcome = calloc(sc->nflows + 1, sizeof(char *));
	for (i = 0; r.last_outcome && i < sc->nflows; i++)
		r.last_outcome[i] = "-";
	r.faults = calloc(sc->nfaults + 1, sizeof(*r.faults));
	if (!r.flows || !r.faults || !r.last_outcome) {
		rc = err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sc->nflows; i++) {
		r.flows[i].run = &r;
		r.flows[i].index = i;
		r.flows[i].nsfd = NETNS_SELF;
	}
	for (i = 0; i < sc->nfaults; i++) {
		r.faults[i].run = &r;
		r.faults[i].f = &sc->faults[i];
	}
	rc = run_preflight(sc, o, err);
	if (rc)
		goto out;
	r.loop = loop_new(err);
	if (!r.loop) {
		rc = -ENOMEM;
		goto out;
	}
	/* from here a signal is read by the loop: during lab up it stops the build */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	rc = loop_signals(r.loop, &sigs, run_signal, &r, err);
	if (rc)
		goto out;
	/* a crashed run's kernel objects must be recovered before anything else */
	if (run_has_net_faults(sc) && !o->dry_run) {
		char **stale = NULL;
		size_t nstale = 0;

		rc = journal_stale(NULL, &stale, &nstale, err);
		journal_paths_free(stale, nstale);
		if (rc == 0 && nstale) {
			rc = RUN_REFUSED;
			err_set(err, -EBUSY, "a crashed run left faults behind (%zu stale journal%s in "
				"%s): run `doorjam recover` first", nstale, nstale == 1 ? "" : "s",
				journal_dir());
			goto out;
		}
		if (rc == 0)
			rc = journal_open(NULL, &r.journal, err);
		if (rc) {
			rc = RUN_REFUSED;
			goto out;
		}
	}
	if (sc->lab) {
		char logs[512];

		snprintf(logs, sizeof(logs), "%s/%s", o->log_dir ? o->log_dir : "/tmp/doorjam-logs",
			 sc->name);
		log_info("lab %s: building (%zu hosts)", sc->lab->name, sc->lab->nhosts);
		rc = lab_up(sc->lab, r.loop, logs, r.res->seed, err);
		if (rc == 0 && r.sigints) {
			rc = -EINTR;
			err_set(err, rc, "interrupted while the lab was being built");
		}
		if (rc) {
			rc = (rc == -EPERM || rc == -EACCES) ? RUN_REFUSED : rc;
			r.res->error = strdup(err->msg);
			goto out;
		}
		tfd = -1;  /* kernel faults go to the lab's core, owned by the lab */
	} else {
		target = o->target ? o->target : sc->target;
		if (netns_open(target, &tfd, err)) {
			rc = RUN_REFUSED;
			goto out;
		}
	}
	/* each flow's vantage point */
	for (i = 0; i < sc->nflows; i++) {
		if (sc->lab && sc->flows[i].from) {
			r.flows[i].nsfd = lab_host_netns(sc->lab, sc->flows[i].from);
			r.flows[i].borrowed = 1;
		} else if (netns_open(sc->flows[i].from, &r.flows[i].nsfd, err)) {
			err_prefix(err, "flow %s: ", sc->flows[i].name);
			rc = RUN_REFUSED;
			goto out;
		}
	}
	r.driver = driver_new(r.loop, err);
	if (!r.driver) {
		rc = -ENOMEM;
		goto out;
	}
	r.env.loop = r.loop;
	r.env.sc = sc;
	r.env.target_nsfd = sc->lab ? sc->lab->core_fd : tfd;
	r.env.allow_root_netns = o->allow_root_netns;
	r.env.force = o->force;
	r.env.journal = r.journal;
	r.env.rpc_find = run_rpc_find;
	r.env.host_netns = run_host_netns;
	r.env.run = &r;
	r.env.seed = r.res->seed;
	rc = run_servers_up(&r, err);
	if (rc) {
		r.res->error = strdup(err->msg);
		goto out;
	}
	r.env.dns = r.dns ? r.dns : lab_dns(sc->lab);
	if (r.env.dns) {
		struct sockaddr_storage ss;

		/* flows look names up through the run's own DNS server */
		if (dns_server_addr(r.env.dns, 0, &ss) == 0)
			driver_set_resolver(r.driver, &ss);
	}
	if (o->pcap_dir)
		run_cap_setup(&r);
	r.t0 = loop_now_us();
	/* every *_ms of the report counts from here: started_at says when that was */
	clock_gettime(CLOCK_REALTIME, &now);
	r.res->started_at_unix_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	if (r.cap)
		capture_set_origin(r.cap, r.t0);
	run_event(&r, "start", json_pack("{sssI}", "scenario", sc->name, "seed",
					 (json_int_t)r.res->seed));
	if (o->progress)
		r.progress = loop_timer_add(r.loop, 500000, run_progress_timer, &r);
	run_servers_log(&r);
	if (sc->lab)
		r.watch = loop_timer_add(r.loop, 1000000, run_watch, &r);
	r.started = 1;
	run_phase_start(&r, PHASE_BASELINE);
	/* a signal that came after lab up (still unread, or read while building) */
	if (r.sigints)
		run_finish(&r);
	rc = r.done ? 0 : loop_run(r.loop);
	if (rc) {
		err_errno(err, -rc, "event loop");
		run_finish(&r);
	}
	r.res->duration_ms = run_ms(&r);
	if (!r.done)
		run_finish(&r);
	run_event(&r, "end", json_pack("{sb}", "interrupted", r.res->interrupted));
	run_progress_emit(&r);
	if (r.err.code) {
		r.res->error = strdup(r.err.msg);
		*err = r.err;
		rc = r.refused ? RUN_REFUSED : r.err.code;
	}
out:
	if (rc && !r.res->error)
		r.res->error = strdup(err->msg[0] ? err->msg : "the run could not complete");
	if (!r.res->duration_ms && r.t0)
		r.res->duration_ms = run_ms(&r);
	result_finish(r.res);
	if (r.driver) {
		run_faults_lift_all(&r);
		driver_free(r.driver);
	}
	run_arm_late_signals(&r);
	if (r.cap) {
		struct err ce;

		err_clear(&ce);
		if (capture_finish(r.cap, r.res, &ce))
			log_error("capture: %s", ce.msg);
		capture_free(r.cap);
		r.cap = NULL;
	}
	if (r.watch)
		loop_timer_cancel(r.loop, r.watch);
	if (r.progress)
		loop_timer_cancel(r.loop, r.progress);
	for (i = 0; r.flows && i < sc->nflows; i++)
		if (r.flows[i].nsfd >= 0 && !r.flows[i].borrowed)
			close(r.flows[i].nsfd);
	/*
	 * The journal first, while the lab's namespaces still exist: a replay
	 * after them would look for their inode numbers among newer namespaces.
	 */
	if (r.journal) {
		int clean = !run_any_lift_failed(&r);
		struct err je;

		err_clear(&je);
		/*
		 * An apply or a lift that failed part-way may have left objects
		 * behind: undo the journal's records (as recover would) before
		 * deciding; the file goes only when nothing of them remains.
		 */
		if (r.apply_failed || !clean) {
			struct journal_recover_stats st;

			if (journal_undo_own(r.journal, &st, &je)) {
				log_error("%s; the journal %s stays: run `doorjam recover`", je.msg,
					  journal_path(r.journal));
				clean = 0;
			} else {
				if (st.undone)
					log_warn("journal: %zu object%s left by a failed step removed",
						 st.undone, st.undone == 1 ? "" : "s");
				clean = 1;
			}
			err_clear(&je);
		}
		if (journal_close(r.journal, clean, &je))
			log_error("journal: %s", je.msg);
	}
	run_servers_down(&r);
	lab_down(sc->lab);
	if (run_late_signals && !r.res->interrupted) {
		r.res->interrupted = 1;
		result_finish(r.res);   /* the verdict accounts for it */
	}
	loop_free(r.loop);
	if (tfd >= 0)
		close(tfd);
	free(r.flows);
	free(r.faults);
	free(r.last_outcome);
	return rc;
}
