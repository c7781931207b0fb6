/*
 * Unit tests: the scenario and flows loader (runner/scenario, check, jsonpos).
 *
 * Data-driven, in the way of curl's tests/data: every tests/data/invalid/X.json
 * must fail to load, and the diagnostics, one per line as `doorjam validate`
 * prints them (file:line:col: /pointer: message), must equal
 * tests/data/invalid/X.expect byte for byte. Every tests/data/valid/X.json and
 * the shipped examples must load without a diagnostic.
 *
 * DOORJAM_UPDATE_GOLDEN=1 rewrites the .expect files from the current output;
 * review the diff before committing it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/jsonpos.h"
#include "runner/scenario.h"

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of *.json (or symlinks) in dir; caller frees. */
static char **list_json(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
			v = realloc(v, (*n + 1) * sizeof(char *));
			assert_int_not_equal(asprintf(&v[*n], "%s/%s", dir, e->d_name), -1);
			(*n)++;
		}
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(char *), name_cmp);
	return v;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void test_invalid_corpus(void **state)
{
	size_t n, i, failures = 0;
	char **files = list_json("tests/data/invalid", &n);
	int update = getenv("DOORJAM_UPDATE_GOLDEN") != NULL;

	(void)state;
	assert_true(n >= 30);
	for (i = 0; i < n; i++) {
		struct scenario *sc = NULL;
		struct diags d;
		char *got = NULL, *want, expect_path[512], line[2048];
		size_t len = 0, k;
		FILE *mem = open_memstream(&got, &len);

		diags_init(&d);
		if (scenario_load(files[i], &sc, &d) == 0) {
			print_message("%s: loaded without error, expected a failure\n", files[i]);
			failures++;
		}
		assert_null(sc);
		for (k = 0; k < d.n; k++)
			fprintf(mem, "%s\n", diag_format(&d.v[k], line, sizeof(line)));
		fclose(mem);
		snprintf(expect_path, sizeof(expect_path), "%.*s.expect",
			 (int)(strlen(files[i]) - 5), files[i]);
		if (update) {
			FILE *f = fopen(expect_path, "w");

			assert_non_null(f);
			fputs(got, f);
			fclose(f);
		}
		want = slurp(expect_path);
		if (!want || strcmp(want, got)) {
			print_message("%s: diagnostics differ\n--- expected\n%s--- got\n%s", files[i],
				      want ? want : "(no .expect file)\n", got);
			failures++;
		}
		assert_true(d.n > 0);
		free(want);
		free(got);
		diags_cleanup(&d);
		free(files[i]);
	}
	free(files);
	assert_int_equal(failures, 0);
}

static void test_valid_files(void **state)
{
	static const char *const extra[] = { "examples/quickstart/scenario.json", NULL };
	size_t n, i;
	char **files = list_json("tests/data/valid", &n);

	(void)state;
	assert_true(n >= 1);
	for (i = 0; i <= n; i++) {
		const char *path = i < n ? files[i] : NULL;
		size_t k;

		for (k = 0; (i == n) && extra[k]; k++) {
			struct scenario *sc = NULL;
			struct diags d;

			diags_init(&d);
			assert_int_equal(scenario_load(extra[k], &sc, &d), 0);
			assert_int_equal(d.n, 0);
			scenario_free(sc);
			diags_cleanup(&d);
		}
		if (path) {
			struct scenario *sc = NULL;
			struct diags d;
			char line[2048];

			diags_init(&d);
			if (scenario_load(path, &sc, &d))
				for (k = 0; k < d.n; k++)
					print_message("%s\n", diag_format(&d.v[k], line, sizeof(line)));
			assert_int_equal(d.n, 0);
			assert_non_null(sc);
			scenario_free(sc);
			diags_cleanup(&d);
			free(files[i]);
		}
	}
	free(files);
}

static void test_model(void **state)
{
	struct scenario *sc = NULL;
	struct diags d;
	const struct flow *f;

	(void)state;
	diags_init(&d);
	assert_int_equal(scenario_load("examples/quickstart/scenario.json", &sc, &d), 0);
	assert_string_equal(sc->name, "quickstart");
	assert_int_equal(sc->sched.baseline_us, 2000000);
	assert_int_equal(sc->sched.every_us, 500000);
	assert_int_equal(sc->nflows, 3);
	f = &sc->flows[scenario_flow_index(sc, "chain-head")];
	assert_int_equal(f->nsteps, 3);
	assert_int_equal(f->steps[0].kind, STEP_JSONRPC);
	assert_string_equal(f->steps[0].method, "eth_chainId");
	assert_int_equal(f->steps[1].ncaptures, 1);
	assert_string_equal(f->steps[1].captures[0].name, "head");
	assert_int_equal(f->steps[2].asserts[0].op, ASSERT_GE);
	assert_int_equal(sc->expects[0].kind, EXPECT_SURVIVE);
	assert_int_equal(sc->flows[0].slo_us, 1000000);
	scenario_free(sc);
	diags_cleanup(&d);
}

static void test_jsonpos(void **state)
{
	const char *t = "{\n  \"a\": [1,\n    {\"b\": \"x\", \"c~/d\": 2}],\n  \"e\": {}\n}";
	int line, col;

	(void)state;
	assert_int_equal(jsonpos_find(t, strlen(t), "/a/1/b", 0, &line, &col), 0);
	assert_int_equal(line, 3);
	assert_int_equal(col, 11);
	assert_int_equal(jsonpos_find(t, strlen(t), "/a/1/b", 1, &line, &col), 0);
	assert_int_equal(col, 6);
	assert_int_equal(jsonpos_find(t, strlen(t), "/a/1/c~0~1d", 0, &line, &col), 0);
	assert_int_equal(col, 24);
	/* a member that does not exist points at the object that lacks it */
	assert_int_equal(jsonpos_find(t, strlen(t), "/e/missing", 0, &line, &col), 1);
	assert_int_equal(line, 4);
	assert_int_equal(col, 8);
	assert_int_equal(jsonpos_find(t, strlen(t), "", 0, &line, &col), 0);
	assert_int_equal(line, 1);
	assert_int_equal(col, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_corpus),
		cmocka_unit_test(test_valid_files),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_jsonpos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
