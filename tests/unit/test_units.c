/* Unit tests: common/units (durations, sizes, rates) and common/buf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "common/buf.h"
#include "common/units.h"

static void test_durations(void **state)
{
	static const struct { const char *in; uint64_t us; } ok[] = {
		{ "250ms", 250000 }, { "2s", 2000000 }, { "1m", 60000000 }, { "1h", 3600000000u },
		{ "750us", 750 }, { "1.5s", 1500000 }, { "0.1s", 100000 }, { "1m30s", 90000000 },
		{ "0", 0 }, { "0s", 0 }, { "2000ns", 2 }, { "1.25ms", 1250 },
	};
	static const char *const bad[] = {
		"", "12qs", "s", "-1s", "1.s", "1 s", "1s ", "2000001ns", "1.5", "10", "ms",
		"99999999999999999999s", ".5s", "1e3ms",
	};
	struct err e;
	size_t i;
	uint64_t v;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(units_duration(ok[i].in, &v, &e), 0);
		assert_int_equal(v, ok[i].us);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_true(units_duration(bad[i], &v, &e) < 0);
		assert_true(strlen(e.msg) > 0);
	}
	err_clear(&e);
	assert_int_equal(units_duration("12qs", &v, &e), -EINVAL);
	assert_string_equal(e.msg, "duration \"12qs\" has an unknown unit \"qs\"");
}

static void test_sizes_rates(void **state)
{
	struct err e;
	uint64_t v;

	(void)state;
	assert_int_equal(units_size("64KiB", &v, &e), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(units_size("10KB", &v, &e), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(units_size("512", &v, &e), 0);
	assert_int_equal(v, 512);
	assert_true(units_size("1XB", &v, &e) < 0);
	assert_int_equal(units_rate("1mbit", &v, &e), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(units_rate("1.5mbit", &v, &e), 0);
	assert_int_equal(v, 1500000);
	assert_int_equal(units_rate("1MBps", &v, &e), 0);
	assert_int_equal(v, 8000000);
	assert_true(units_rate("100", &v, &e) < 0);     /* a rate needs a unit */
	assert_true(units_rate("-1mbit", &v, &e) < 0);
	assert_int_equal(units_rate("99999999999gbit", &v, &e), -ERANGE);
}

static void test_format(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(units_duration_format(0, b, sizeof(b)), "0s");
	assert_string_equal(units_duration_format(250000, b, sizeof(b)), "250ms");
	assert_string_equal(units_duration_format(2000000, b, sizeof(b)), "2s");
	assert_string_equal(units_duration_format(90000000, b, sizeof(b)), "1m30s");
	assert_string_equal(units_duration_format(1500000, b, sizeof(b)), "1.500s");
	assert_string_equal(units_duration_format(1250, b, sizeof(b)), "1.250ms");
	assert_string_equal(units_duration_format(7, b, sizeof(b)), "7us");
}

static void test_buf_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "hello", 5), 0);
	assert_int_equal(buf_printf(&b, "%s", "world"), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	assert_int_equal(buf_append(&b, "!", 1), -ENOBUFS);
	assert_int_equal(b.len, 10);           /* nothing appended past the cap */
	buf_consume(&b, 5);
	assert_string_equal(b.data, "world");
	assert_int_equal(buf_printf(&b, "%d", 12345), 0);
	assert_int_equal(buf_printf(&b, "x"), -ENOBUFS);
	buf_cleanup(&b);
	buf_cleanup(NULL);
}

static void test_buf_shrink(void **state)
{
	struct buf b;
	char big[5000];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append(&b, big, sizeof(big)), 0);
	buf_shrink(&b, 4096);                  /* has data: left alone */
	assert_int_equal(b.len, sizeof(big));
	assert_non_null(b.data);
	buf_reset(&b);
	buf_shrink(&b, 8192);                  /* small enough to keep */
	assert_non_null(b.data);
	buf_shrink(&b, 4096);                  /* empty and larger than kept: freed */
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 1 << 20);      /* the cap stays */
	assert_int_equal(buf_append(&b, "again", 5), 0);
	assert_string_equal(b.data, "again");
	buf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes_rates),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_shrink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
