/*
 * libFuzzer target for the scenario and flows loaders (runner/scenario,
 * check, jsonpos, the fault kinds' validate functions, and lab_load through a
 * scenario's "lab" reference).
 *
 * scenario_load() reads a path, so each input is written to a file in a
 * private folder under /dev/shm (one per fuzzing process) and loaded from
 * there, first as a scenario, then as a flows file on its own. The folder
 * also holds the shipped wallet-demo lab and flows under the names the
 * shipped scenarios use (labs/, flows/), so seeds taken from scenarios/ load
 * their references for real. Loading must never crash, leak, hang or fail
 * without saying why: a failed load leaves at least one diagnostic, each with
 * a line and column inside the text, and a successful one leaves none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/check.h"
#include "runner/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void fuzz_copy(const char *from, const char *to)
{
	char *text = NULL, dst[160];
	size_t len = 0;
	struct err e;
	FILE *f;

	snprintf(dst, sizeof(dst), "%s/%s", dir, to);
	if (scenario_read_file(from, 1u << 20, &text, &len, &e))
		return;  /* run from elsewhere than the repository: no references */
	f = fopen(dst, "w");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
	free(text);
}

static void fuzz_cleanup(void)
{
	static const char *const files[] = {
		"s.json", "labs/wallet-demo.json", "flows/wallet.json", "parts/broken-flows.json",
		"labs", "flows", "parts", NULL,
	};
	char p[160];
	size_t i;

	for (i = 0; files[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (unlink(p) && errno == EISDIR)
			rmdir(p);
		rmdir(p);
	}
	rmdir(dir);
}

static void fuzz_setup(void)
{
	char p[160];

	snprintf(dir, sizeof(dir), "/dev/shm/djfuzz-scenario-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/s.json", dir);
	mkdir(dir, 0700);
	snprintf(p, sizeof(p), "%s/labs", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/flows", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/parts", dir);
	mkdir(p, 0700);
	fuzz_copy("scenarios/labs/wallet-demo.json", "labs/wallet-demo.json");
	fuzz_copy("scenarios/flows/wallet.json", "flows/wallet.json");
	fuzz_copy("tests/data/invalid/parts/broken-flows.json", "parts/broken-flows.json");
	atexit(fuzz_cleanup);
}

/* Every diagnostic is complete: a file, a message, and a sane position. */
static void fuzz_check_diags(const struct diags *d, size_t from)
{
	size_t i;

	for (i = from; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		char line[4096];

		if (!g->file || !g->msg || !*g->msg || !g->ptr || g->line < 0 || g->col < 0)
			abort();
		if (g->line > 0 && g->col < 1)
			abort();
		diag_format(g, line, sizeof(line));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct scenario *sc = NULL;
	struct diags d;
	int fd, rc;

	if (!ready) {
		fuzz_setup();
		ready = 1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	diags_init(&d);
	rc = scenario_load(path, &sc, &d);
	if ((rc == 0) != (d.n == 0) || (rc == 0) != (sc != NULL))
		abort();
	fuzz_check_diags(&d, 0);
	scenario_free(sc);
	diags_cleanup(&d);

	diags_init(&d);
	(void)scenario_validate_flows_file(path, &d);
	fuzz_check_diags(&d, 0);
	diags_cleanup(&d);
	return 0;
}
