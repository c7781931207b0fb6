/*
 * main: doorjam's command line.
 *
 *   doorjam run SCENARIO... [options]   run scenarios, write reports
 *   doorjam validate FILE...            check scenario and flows files
 *   doorjam plan SCENARIO               print the timeline, change nothing
 *   doorjam help [COMMAND|faults]
 *   doorjam version
 *
 * Only this file prints to the terminal or decides the exit code (see
 * docs/cli.md): 0 every expectation held, 1 an expectation failed, 2 invalid
 * input or usage, 3 the system refused, 4 inconclusive.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/netns.h"
#include "injector/journal.h"
#include "injector/probe.h"
#include "common/units.h"
#include "reports/report_json.h"
#include "reports/report_html.h"
#include "reports/report_md.h"
#include "reports/report_junit.h"
#include "reports/report_term.h"
#include "reports/result.h"
#include "runner/lab.h"
#include "runner/run.h"
#include "runner/scenario.h"

#define DOORJAM_VERSION "0.1.0"

#define EXIT_PASS 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_REFUSED 3
#define EXIT_INCONCLUSIVE 4

struct report_req {
	char *format;
	char *path;
};

struct cli {
	struct report_req reports[16];
	size_t nreports;
	struct run_options run;
	int quiet;
	int verbose;
	int color;
	int live;            /* a status line is drawn at the bottom of the terminal */
	int live_drawn;
	const char *events_path;
};

/* Erase the live status line (before a log line is printed over it). */
static void live_clear(struct cli *c)
{
	if (c->live && c->live_drawn) {
		fputs("\r\033[K", stderr);
		c->live_drawn = 0;
	}
}

/* Draw the live status line: phase, time, faults on, each flow's last outcome. */
static void live_draw(void *arg, const struct run_progress *p)
{
	struct cli *c = arg;
	char line[1024];
	size_t n = 0, i, width = 80;
	const char *cols = getenv("COLUMNS");

	if (!c->live)
		return;
	if (cols && atoi(cols) > 20)
		width = (size_t)atoi(cols);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "[%s %llu.%llus/%llus]", p->phase,
			      (unsigned long long)(p->elapsed_ms / 1000),
			      (unsigned long long)(p->elapsed_ms % 1000 / 100),
			      (unsigned long long)(p->planned_ms / 1000));
	if (p->nfaults)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " faults on: %zu", p->nfaults);
	for (i = 0; i < p->nflows && n < sizeof(line) - 64; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " | %s %s", p->flows[i], p->last[i]);
	if (n >= width)
		line[width - 1] = '\0';
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	c->live_drawn = 1;
}

static int main_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fileno(f)) && !(nc && *nc) && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
}

static void main_log_sink(enum log_level level, const char *msg, void *arg)
{
	struct cli *c = arg;
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct timespec ts;
	struct tm tm;
	char when[16];

	live_clear(c);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (c->color && level <= LOG_LEVEL_WARN)
		fprintf(stderr, "%s.%03ld \033[%sm%s\033[0m %s\n", when, ts.tv_nsec / 1000000,
			level == LOG_LEVEL_ERROR ? "31" : "33", names[level], msg);
	else
		fprintf(stderr, "%s.%03ld %s %s\n", when, ts.tv_nsec / 1000000, names[level], msg);
}

static void usage(FILE *f)
{
	fputs("usage: doorjam run SCENARIO... [--report FORMAT:PATH]... [--seed N] [--quiet]\n"
	      "                 [--target NETNS] [--allow-root-netns] [--force] [--keep-going]\n"
	      "                 [--dry-run] [--logs DIR] [--events PATH] [--pcap DIR] [--verbose]\n"
	      "       doorjam validate FILE...\n"
	      "       doorjam plan SCENARIO\n"
	      "       doorjam doctor\n"
	      "       doorjam recover\n"
	      "       doorjam lab up LAB | lab down [ID] | lab list | lab exec [--lab ID] HOST -- CMD...\n"
	      "       doorjam help [run|validate|plan|faults|exit-codes]\n"
	      "       doorjam version\n", f);
}

static int cmd_help(int argc, char **argv)
{
	const char *topic = argc > 1 ? argv[1] : NULL;
	size_t i;

	if (!topic) {
		puts("doorjam: a chaos-testing harness for wallet and dApp stacks.\n");
		usage(stdout);
		puts("\nSee docs/cli.md for the full reference.");
		return EXIT_PASS;
	}
	if (!strcmp(topic, "run")) {
		puts("doorjam run SCENARIO... [options]\n\n"
		     "Runs each scenario: baseline flows, faults on their schedule, recovery,\n"
		     "then the verdict per flow. Faults are lifted on every exit path.\n\n"
		     "  --report FORMAT:PATH  write a report; FORMAT is json, junit, html, md or term;\n"
		     "                        PATH '-' is standard output (repeatable).\n"
		     "                        With several scenarios, {name} in PATH is the\n"
		     "                        scenario name.\n"
		     "  --seed N              seed for every random decision (default: the\n"
		     "                        scenario's \"seed\", else random; always reported)\n"
		     "  --target NETNS        namespace for kernel faults: a name under\n"
		     "                        /var/run/netns, a /proc/PID/ns/net path, or a PID\n"
		     "  --allow-root-netns    allow kernel faults in the machine's own namespace\n"
		     "  --force               allow replacing a root qdisc doorjam did not make\n"
		     "  --keep-going          run the fault phase even if the baseline failed\n"
		     "  --dry-run             run the flows on the schedule, apply no fault\n"
		     "  --events PATH         every event of the run as JSON lines ('-': stdout)\n"
		     "  --pcap DIR            capture packets where the evidence is (one pcap\n"
		     "                        file per point) and count it in the reports\n"
		     "  --logs DIR            lab service logs go to DIR/SCENARIO/ (default\n"
		     "                        /tmp/doorjam-logs)\n"
		     "  --quiet               no progress lines\n"
		     "  --verbose             every flow run, also the ok ones");
	} else if (!strcmp(topic, "validate")) {
		puts("doorjam validate FILE...\n\n"
		     "Checks scenario and flows files and prints every error as\n"
		     "file:line:column: /json/pointer: message. Exit 0 when all are valid, 2 when not.");
	} else if (!strcmp(topic, "plan")) {
		puts("doorjam plan SCENARIO\n\n"
		     "Prints the timeline of a run (phases, when each fault starts and ends, the\n"
		     "flows and their expectations) and changes nothing.");
	} else if (!strcmp(topic, "faults")) {
		const struct fault_ops *ops;

		puts("Fault kinds this build knows:");
		for (i = 0; (ops = fault_at(i)); i++)
			printf("  %-20s %s\n", ops->kind, ops->summary ? ops->summary : "");
		if (i == 0)
			puts("  (none)");
	} else if (!strcmp(topic, "exit-codes")) {
		puts("0  every expectation held\n"
		     "1  an expectation failed\n"
		     "2  invalid input or usage\n"
		     "3  the system refused (privileges, a missing kernel feature, a stale journal)\n"
		     "4  inconclusive: a flow failed before any fault was applied");
	} else {
		fprintf(stderr, "doorjam: no help for \"%s\"\n", topic);
		usage(stderr);
		return EXIT_USAGE;
	}
	return EXIT_PASS;
}

static void print_diags(const struct diags *d)
{
	char line[2048];
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", diag_format(&d->v[i], line, sizeof(line)));
}

/*
 * What a file is, from its top level: a lab has "hosts", a flows file has a
 * "flows" array and no "name"; everything else is read as a scenario.
 */
enum file_kind { FILE_SCENARIO, FILE_FLOWS, FILE_LAB };

static enum file_kind file_kind_of(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	json_t *root = NULL;
	enum file_kind k = FILE_SCENARIO;

	/* bounded and non-blocking like the loaders; anything odd is left to them */
	if (scenario_read_file(path, 16u << 20, &text, &len, NULL) == 0)
		root = json_loadb(text, len, 0, NULL);
	free(text);

	if (root && json_is_object(json_object_get(root, "hosts")))
		k = FILE_LAB;
	else if (root && json_is_array(json_object_get(root, "flows")) &&
		 !json_object_get(root, "name") && !json_object_get(root, "faults"))
		k = FILE_FLOWS;
	json_decref(root);
	return k;
}

static int cmd_validate(int argc, char **argv)
{
	struct diags d;
	int i, bad = 0;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 1; i < argc; i++) {
		struct scenario *sc = NULL;
		size_t before;

		diags_init(&d);
		before = d.n;
		enum file_kind kind = file_kind_of(argv[i]);

		if (kind == FILE_FLOWS) {
			if (scenario_validate_flows_file(argv[i], &d))
				bad = 1;
		} else if (kind == FILE_LAB) {
			struct lab *lab = NULL;

			if (lab_load(argv[i], &lab, &d))
				bad = 1;
			lab_free(lab);
		} else if (scenario_load(argv[i], &sc, &d)) {
			bad = 1;
		}
		print_diags(&d);
		if (d.n == before)
			printf("%s: valid\n", argv[i]);
		else
			fprintf(stderr, "%s: %zu error%s\n", argv[i], d.n - before,
				d.n - before == 1 ? "" : "s");
		scenario_free(sc);
		diags_cleanup(&d);
	}
	return bad ? EXIT_USAGE : EXIT_PASS;
}

static int cmd_plan(int argc, char **argv)
{
	struct scenario *sc = NULL;
	struct diags d;
	char a[32], b[32], c[32];
	uint64_t t;
	size_t i;

	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	diags_init(&d);
	if (scenario_load(argv[1], &sc, &d)) {
		print_diags(&d);
		diags_cleanup(&d);
		return EXIT_USAGE;
	}
	diags_cleanup(&d);
	printf("scenario %s%s%s\n", sc->name, sc->description ? ": " : "",
	       sc->description ? sc->description : "");
	printf("target   %s\n", sc->target ? sc->target : "doorjam's own network namespace");
	t = 0;
	printf("\n%10s  baseline  %s, flows every %s\n", units_duration_format(t, a, sizeof(a)),
	       units_duration_format(sc->sched.baseline_us, b, sizeof(b)),
	       units_duration_format(sc->sched.every_us, c, sizeof(c)));
	t += sc->sched.baseline_us;
	printf("%10s  fault     %s\n", units_duration_format(t, a, sizeof(a)),
	       units_duration_format(sc->sched.fault_us, b, sizeof(b)));
	for (i = 0; i < sc->nfaults; i++) {
		const struct fault *f = &sc->faults[i];
		uint64_t end = f->for_us ? f->at_us + f->for_us : sc->sched.fault_us;
		char *spec = json_dumps(f->spec, JSON_COMPACT);

		printf("%10s    + %s", units_duration_format(t + f->at_us, a, sizeof(a)), f->ops->kind);
		printf(" until %s  %s\n", units_duration_format(t + end, b, sizeof(b)),
		       spec ? spec : "");
		free(spec);
	}
	t += sc->sched.fault_us;
	printf("%10s  recovery  up to %s (ends early once every flow passes again)\n",
	       units_duration_format(t, a, sizeof(a)),
	       units_duration_format(sc->sched.recovery_us, b, sizeof(b)));
	t += sc->sched.recovery_us;
	printf("%10s  end (at the latest)\n\nflows:\n", units_duration_format(t, a, sizeof(a)));
	for (i = 0; i < sc->nflows; i++)
		printf("  %-24s %zu step%s, from %s, expect %s\n", sc->flows[i].name,
		       sc->flows[i].nsteps, sc->flows[i].nsteps == 1 ? "" : "s",
		       sc->flows[i].from ? sc->flows[i].from : "doorjam's namespace",
		       expect_name(sc->expects[i].kind));
	printf("\nNothing was changed. `doorjam run %s` runs it.\n", argv[1]);
	scenario_free(sc);
	return EXIT_PASS;
}

static int cmd_doctor(void)
{
	struct probe_kind *kinds = NULL;
	char why[256] = "", **stale = NULL, **labs = NULL;
	size_t n = 0, i, nstale = 0, nlabs = 0;
	struct err e;
	int ok = 1, priv;
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	printf("doorjam %s\n", DOORJAM_VERSION);
	printf("  libcurl %s, jansson %s, %s\n", cv->version, jansson_version_str(),
	       pcap_lib_version());
	priv = probe_privileges(why, sizeof(why));
	printf("\nprivileges: %s%s%s\n", priv == 1 ? "ok (CAP_NET_ADMIN, CAP_SYS_ADMIN)" : "MISSING",
	       priv == 1 ? "" : ": ", priv == 1 ? "" : why);
	if (priv != 1)
		ok = 0;
	printf("namespaces: %s\n", access("/proc/self/ns/net", R_OK) == 0 ?
	       "ok (/proc/self/ns/net)" : "cannot read /proc/self/ns/net");
	err_clear(&e);
	if (probe_kernel(&kinds, &n, &e)) {
		printf("kernel features: cannot probe: %s\n", e.msg);
		ok = 0;
	} else {
		int netem = 1;

		printf("\nkernel features (probed in a throw-away namespace):\n");
		for (i = 0; i < n; i++) {
			printf("  %-10s %-9s %-8s %s%s%s\n", probe_type_name(kinds[i].type), kinds[i].kind,
			       kinds[i].present == 1 ? "yes" : kinds[i].present == 0 ? "MISSING" : "unknown",
			       kinds[i].used_for, kinds[i].present == 1 ? "" : ": ",
			       kinds[i].present == 1 ? "" : kinds[i].detail);
			if (!strcmp(kinds[i].kind, "netem") && kinds[i].present != 1)
				netem = 0;
		}
		if (!netem)
			printf("\n  This kernel has no sch_netem: net.delay, net.duplicate, net.corrupt and\n"
			       "  net.reorder are refused (exit 3); net.loss uses a classic-BPF random-drop\n"
			       "  filter instead; net.bandwidth (tbf) and the route faults work.\n");
	}
	err_clear(&e);
	if (journal_stale(NULL, &stale, &nstale, &e) == 0) {
		printf("\njournal (%s): %s\n", journal_dir(), nstale ? "STALE" : "clean");
		for (i = 0; i < nstale; i++)
			printf("  %s: a crashed run left faults behind; run `doorjam recover`\n", stale[i]);
		if (nstale)
			ok = 0;
		journal_paths_free(stale, nstale);
	}
	if (lab_list(&labs, &nlabs, &e) == 0) {
		printf("labs up: %zu\n", nlabs);
		for (i = 0; i < nlabs; i++) {
			printf("  dj%s-*\n", labs[i]);
			free(labs[i]);
		}
		free(labs);
	}
	printf("\n%s\n", ok ? "doorjam can run here." : "doorjam cannot run kernel faults here yet (see above).");
	return ok ? EXIT_PASS : EXIT_REFUSED;
}

static int cmd_recover(void)
{
	struct journal_recover_stats st;
	struct err e;
	size_t labs = 0;
	int rc, rc2;

	memset(&st, 0, sizeof(st));
	err_clear(&e);
	rc = journal_recover(NULL, -2, &st, &e);
	if (rc)
		fprintf(stderr, "doorjam recover: %s\n", e.msg);
	printf("journals: %zu stale, %zu records, %zu objects removed, %zu already gone, "
	       "%zu marked objects swept\n", st.journals, st.records, st.undone, st.absent, st.swept);
	err_clear(&e);
	rc2 = lab_recover(&labs, &e);
	if (rc2)
		fprintf(stderr, "doorjam recover: labs: %s\n", e.msg);
	printf("labs: %zu leftover namespace%s removed\n", labs, labs == 1 ? "" : "s");
	if (rc || rc2)
		return EXIT_REFUSED;
	printf("nothing of doorjam's remains.\n");
	return EXIT_PASS;
}

static volatile int lab_stop;

static void lab_on_signal(struct loop *l, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	lab_stop = 1;
	loop_stop(l);
}

/* 1 when process pid is a `doorjam lab up`. */
static int is_lab_up_process(int pid)
{
	char path[64], buf[512];
	size_t n, i, arg = 0;
	const char *args[3] = { NULL, NULL, NULL };
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (i = 0; i < n && arg < 3; i += strlen(buf + i) + 1)
		args[arg++] = buf + i;
	return arg == 3 && !strcmp(args[1], "lab") && !strcmp(args[2], "up");
}

static int cmd_lab(int argc, char **argv)
{
	struct err e;

	err_clear(&e);
	if (argc >= 3 && !strcmp(argv[1], "up")) {
		struct lab *lab = NULL;
		struct loop *l;
		struct diags d;
		sigset_t sigs;
		size_t i;
		char logs[512];
		struct cli c;

		memset(&c, 0, sizeof(c));
		c.color = main_color(stderr);
		log_set_sink(main_log_sink, &c, LOG_LEVEL_INFO);
		diags_init(&d);
		if (lab_load(argv[2], &lab, &d)) {
			print_diags(&d);
			diags_cleanup(&d);
			return EXIT_USAGE;
		}
		diags_cleanup(&d);
		l = loop_new(&e);
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGHUP);
		if (!l || loop_signals(l, &sigs, lab_on_signal, NULL, &e)) {
			fprintf(stderr, "doorjam lab: %s\n", e.msg);
			lab_free(lab);
			loop_free(l);
			return EXIT_REFUSED;
		}
		snprintf(logs, sizeof(logs), "/tmp/doorjam-logs/lab-%s", lab->name);
		if (lab_up(lab, l, logs, 0, &e)) {
			fprintf(stderr, "doorjam lab: %s\n", e.msg);
			lab_free(lab);
			loop_free(l);
			return EXIT_REFUSED;
		}
		printf("lab %s is up (id %s). Hosts:\n", lab->name, lab->id);
		for (i = 0; i < lab->nhosts; i++) {
			char a[32];

			inet_ntop(AF_INET, &lab->hosts[i].addr, a, sizeof(a));
			printf("  %-12s %-15s namespace %s%s%s\n", lab->hosts[i].name, a,
			       lab->hosts[i].nsname, lab->hosts[i].log_path ? ", log " : "",
			       lab->hosts[i].log_path ? lab->hosts[i].log_path : "");
		}
		printf("Poke at it with `doorjam lab exec HOST -- CMD` (or ip netns exec NAMESPACE ...).\n"
		       "Ctrl-C or `doorjam lab down` tears it down.\n");
		fflush(stdout);
		while (!lab_stop)
			if (loop_run(l) || !lab_stop)
				loop_once(l, 1000000);
		/* tearing down: a second signal ends doorjam at once, recover removes the rest */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		fprintf(stderr, "doorjam lab: tearing down (a second Ctrl-C stops at once and leaves "
			"the rest to `doorjam recover`)\n");
		lab_down(lab);
		lab_free(lab);
		loop_free(l);
		return EXIT_PASS;
	}
	if (argc >= 2 && !strcmp(argv[1], "down")) {
		char **ids = NULL, path[256], line[64];
		size_t n = 0, i;
		int sent = 0;

		if (lab_list(&ids, &n, &e)) {
			fprintf(stderr, "doorjam lab: %s\n", e.msg);
			return EXIT_REFUSED;
		}
		for (i = 0; i < n; i++) {
			FILE *f;

			if (argc >= 3 && strcmp(argv[2], ids[i]))
				continue;
			snprintf(path, sizeof(path), "/run/doorjam/lab-%s.lock", ids[i]);
			f = fopen(path, "r");
			if (f && fgets(line, sizeof(line), f) && atoi(line) > 1) {
				/* only labs kept up by `lab up`; a lab of a running scenario is its run's */
				if (!is_lab_up_process(atoi(line))) {
					printf("lab %s: belongs to a running scenario (process %d); left alone\n",
					       ids[i], atoi(line));
				} else {
					kill(atoi(line), SIGTERM);
					printf("lab %s: asked process %d to tear it down\n", ids[i], atoi(line));
					sent++;
				}
			}
			if (f)
				fclose(f);
		}
		for (i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		if (!sent)
			printf("no lab is up%s\n", argc >= 3 ? " with that id" : "");
		return EXIT_PASS;
	}
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		char **ids = NULL;
		size_t n = 0, i;

		if (lab_list(&ids, &n, &e)) {
			fprintf(stderr, "doorjam lab: %s\n", e.msg);
			return EXIT_REFUSED;
		}
		for (i = 0; i < n; i++) {
			printf("%s\n", ids[i]);
			free(ids[i]);
		}
		free(ids);
		return EXIT_PASS;
	}
	if (argc >= 4 && !strcmp(argv[1], "exec")) {
		const char *id = NULL;
		int k = 2;

		if (!strcmp(argv[k], "--lab") && k + 1 < argc) {
			id = argv[k + 1];
			k += 2;
		}
		if (k + 2 < argc && !strcmp(argv[k + 1], "--")) {
			lab_exec(id, argv[k], argv + k + 2, &e);
			fprintf(stderr, "doorjam lab exec: %s\n", e.msg);
			return EXIT_REFUSED;
		}
	}
	usage(stderr);
	return EXIT_USAGE;
}

/* Expand {name} in a report path template. */
static char *report_path(const char *tmpl, const char *name)
{
	const char *p = strstr(tmpl, "{name}");
	char *out;

	if (!p)
		return strdup(tmpl);
	if (asprintf(&out, "%.*s%s%s", (int)(p - tmpl), tmpl, name, p + 6) < 0)
		return NULL;
	return out;
}

static int write_report(const struct report_req *q, const struct run_result *res, int color)
{
	struct err e;
	char *path = report_path(q->path, res->scenario ? res->scenario : "scenario");
	int rc, to_stdout;

	if (!path)
		return -ENOMEM;
	to_stdout = !strcmp(path, "-");
	err_clear(&e);
	if (to_stdout) {
		if (!strcmp(q->format, "json"))
			rc = report_json_write(res, stdout, &e);
		else if (!strcmp(q->format, "junit"))
			rc = report_junit_write(res, stdout, &e);
		else if (!strcmp(q->format, "html"))
			rc = report_html_write(res, stdout, &e);
		else if (!strcmp(q->format, "md"))
			rc = report_md_write(res, stdout, &e);
		else
			rc = report_term_write(res, stdout, color ? REPORT_TERM_COLOR : 0, &e);
		fflush(stdout);
	} else if (!strcmp(q->format, "json")) {
		rc = report_json_write_path(res, path, &e);
	} else if (!strcmp(q->format, "junit")) {
		rc = report_junit_write_path(res, path, &e);
	} else if (!strcmp(q->format, "html")) {
		rc = report_html_write_path(res, path, &e);
	} else if (!strcmp(q->format, "md")) {
		rc = report_md_write_path(res, path, &e);
	} else {
		FILE *f = fopen(path, "w");

		if (!f) {
			rc = err_errno(&e, errno, "cannot open");
		} else {
			rc = report_term_write(res, f, 0, &e);
			if (fclose(f) != 0 && !rc)
				rc = err_errno(&e, errno, "close");
		}
	}
	if (rc)
		fprintf(stderr, "doorjam: writing %s report %s: %s\n", q->format, path, e.msg);
	else if (!to_stdout)
		fprintf(stderr, "doorjam: %s report written to %s\n", q->format, path);
	free(path);
	return rc;
}

static int parse_run_args(int argc, char **argv, struct cli *c, int *first)
{
	static const struct option opts[] = {
		{ "report", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "target", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "allow-root-netns", no_argument, NULL, 'R' },
		{ "force", no_argument, NULL, 'F' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "logs", required_argument, NULL, 'L' },
		{ "events", required_argument, NULL, 'E' },
		{ "pcap", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:s:t:qv", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': {
			char *colon = strchr(optarg, ':');

			if (!colon || colon == optarg || !colon[1]) {
				fprintf(stderr, "doorjam: --report takes FORMAT:PATH (e.g. json:report.json), "
					"not \"%s\"\n", optarg);
				return -1;
			}
			*colon = '\0';
			if (strcmp(optarg, "json") && strcmp(optarg, "junit") && strcmp(optarg, "term") &&
			    strcmp(optarg, "html") && strcmp(optarg, "md")) {
				fprintf(stderr, "doorjam: --report: unknown format \"%s\" (json, junit, term)\n",
					optarg);
				return -1;
			}
			if (c->nreports == sizeof(c->reports) / sizeof(c->reports[0])) {
				fprintf(stderr, "doorjam: too many --report options\n");
				return -1;
			}
			c->reports[c->nreports].format = optarg;
			c->reports[c->nreports].path = colon + 1;
			c->nreports++;
			break;
		}
		case 's': {
			char *end;

			errno = 0;
			c->run.seed = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-' ||
			    c->run.seed > (UINT64_MAX >> 1)) {
				fprintf(stderr, "doorjam: --seed takes a whole number below 2^63, not \"%s\"\n",
					optarg);
				return -1;
			}
			c->run.has_seed = 1;
			break;
		}
		case 't': c->run.target = optarg; break;
		case 'q': c->quiet = 1; break;
		case 'v': c->verbose = 1; break;
		case 'R': c->run.allow_root_netns = 1; break;
		case 'F': c->run.force = 1; break;
		case 'k': c->run.keep_going = 1; break;
		case 'n': c->run.dry_run = 1; break;
		case 'L': c->run.log_dir = optarg; break;
		case 'E': c->events_path = optarg; break;
		case 'P': c->run.pcap_dir = optarg; break;
		default:
			return -1;
		}
	}
	*first = optind;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct cli c;
	int first, i, worst = EXIT_PASS;

	memset(&c, 0, sizeof(c));
	if (parse_run_args(argc, argv, &c, &first))
		return EXIT_USAGE;
	if (first >= argc) {
		fprintf(stderr, "doorjam run: name at least one scenario file\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	c.color = main_color(stderr);
	c.live = !c.quiet && c.color;
	if (c.live) {
		c.run.progress = live_draw;
		c.run.progress_arg = &c;
	}
	if (c.events_path) {
		c.run.events = strcmp(c.events_path, "-") ? fopen(c.events_path, "w") : stdout;
		if (!c.run.events) {
			fprintf(stderr, "doorjam: --events %s: %s\n", c.events_path, strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (!c.quiet)
		log_set_sink(main_log_sink, &c, c.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	else
		log_set_sink(main_log_sink, &c, LOG_LEVEL_ERROR);

	/* validate everything before running anything */
	{
		struct diags d;
		int bad = 0;

		diags_init(&d);
		for (i = first; i < argc; i++) {
			struct scenario *sc = NULL;

			if (scenario_load(argv[i], &sc, &d))
				bad = 1;
			scenario_free(sc);
		}
		print_diags(&d);
		diags_cleanup(&d);
		if (bad)
			return EXIT_USAGE;
	}
	for (i = first; i < argc; i++) {
		struct scenario *sc = NULL;
		struct run_result *res = NULL;
		struct diags d;
		struct err e;
		size_t k;
		int rc, code, term_to_stdout = 0, code_io = 0;

		diags_init(&d);
		if (scenario_load(argv[i], &sc, &d)) {
			print_diags(&d);
			diags_cleanup(&d);
			return EXIT_USAGE;
		}
		diags_cleanup(&d);
		err_clear(&e);
		if (!c.quiet)
			fprintf(stderr, "doorjam: running %s (%s)\n", sc->name, argv[i]);
		rc = run_scenario(sc, &c.run, &res, &e);
		live_clear(&c);
		if (rc)
			fprintf(stderr, "doorjam: %s: %s\n", sc->name, e.msg);
		for (k = 0; res && k < c.nreports; k++) {
			if (!strcmp(c.reports[k].format, "term") && !strcmp(c.reports[k].path, "-"))
				term_to_stdout = 1;
			if (write_report(&c.reports[k], res, main_color(stdout)) && code_io == 0)
				code_io = 1;
		}
		size_t nruns = 0;

		for (k = 0; res && k < res->nflows; k++)
			nruns += res->flows[k].nruns;
		/* a run refused before its first flow run has no table worth printing */
		if (res && !term_to_stdout && (rc == 0 || nruns > 0)) {
			struct report_req q = { (char *)"term", (char *)"-" };

			if (write_report(&q, res, main_color(stdout)))
				code_io = 1;
		}
		if (rc == RUN_REFUSED)
			code = EXIT_REFUSED;
		else if (rc || !res)
			code = EXIT_FAIL;
		else
			code = verdict_exit_code(res->verdict);
		/* interrupted, also by a signal that came while the reports were written */
		if (((res && res->interrupted) || run_signalled()) && code == EXIT_PASS)
			code = EXIT_FAIL;
		if (code_io && code == EXIT_PASS)
			code = EXIT_FAIL;  /* a report that could not be written fails the run */
		/* the most serious code wins: refused > inconclusive > fail > pass */
		if (code == EXIT_REFUSED || (code == EXIT_INCONCLUSIVE && worst != EXIT_REFUSED) ||
		    (code == EXIT_FAIL && worst == EXIT_PASS))
			worst = code;
		{
			int interrupted = (res && res->interrupted) || run_signalled();

			result_free(res);
			scenario_free(sc);
			if (interrupted)
				break;
		}
	}
	if (c.run.events && c.run.events != stdout)
		fclose(c.run.events);
	return worst;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

		printf("doorjam %s (libcurl %s, jansson %s)\n", DOORJAM_VERSION, cv->version,
		       jansson_version_str());
		return EXIT_PASS;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
		return cmd_help(argc - 1, argv + 1);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "doorjam: libcurl failed to initialise\n");
		return EXIT_REFUSED;
	}
	if (!strcmp(cmd, "validate"))
		rc = cmd_validate(argc - 1, argv + 1);
	else if (!strcmp(cmd, "plan"))
		rc = cmd_plan(argc - 1, argv + 1);
	else if (!strcmp(cmd, "run"))
		rc = cmd_run(argc - 1, argv + 1);
	else if (!strcmp(cmd, "doctor"))
		rc = cmd_doctor();
	else if (!strcmp(cmd, "recover"))
		rc = cmd_recover();
	else if (!strcmp(cmd, "lab"))
		rc = cmd_lab(argc - 1, argv + 1);
	else {
		fprintf(stderr, "doorjam: unknown command \"%s\"\n", cmd);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	curl_global_cleanup();
	return rc;
}
