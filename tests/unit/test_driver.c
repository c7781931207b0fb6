/*
 * Unit tests: flow assertions, templates and exact number comparison
 * (runner/driver, runner/quantity).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "runner/driver.h"
#include "runner/quantity.h"

static int q(const char *a, const char *b)
{
	struct quantity x, y;

	assert_int_equal(quantity_parse(a, &x), 0);
	assert_int_equal(quantity_parse(b, &y), 0);
	return quantity_cmp(&x, &y);
}

static void test_quantity(void **state)
{
	struct quantity x;

	(void)state;
	/* 1000 ETH in wei, hex vs decimal: beyond 64 bits */
	assert_int_equal(q("0x3635c9adc5dea00000", "1000000000000000000000"), 0);
	assert_int_equal(q("0x3635c9adc5dea00000", "0x3635c9adc5dea00001"), -1);
	assert_int_equal(q("0x0", "0"), 0);
	assert_int_equal(q("-1", "0"), -1);
	assert_int_equal(q("-0", "0"), 0);
	assert_int_equal(q("3150.25", "3150.2"), 1);
	assert_int_equal(q("3150.250", "3150.25"), 0);
	assert_int_equal(q("0.000000000000000001", "0"), 1);
	/* 2^256 - 1 fits; 2^280 does not (the limit is 2^264, with 36 fraction digits) */
	assert_int_equal(quantity_parse("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", &x), 0);
	assert_int_equal(quantity_parse("0x10000000000000000000000000000000000000000000000000000000000000000000000", &x), -1);
	assert_int_equal(quantity_parse("1e3", &x), -1);
	assert_int_equal(quantity_parse("0x", &x), -1);
	assert_int_equal(quantity_parse("", &x), -1);
	assert_int_equal(quantity_parse("12a", &x), -1);
	assert_int_equal(quantity_parse("1.2.3", &x), -1);
	{
		struct quantity a, b, c, r;

		assert_int_equal(quantity_parse("5", &a), 0);
		assert_int_equal(quantity_parse("7.5", &b), 0);
		assert_int_equal(quantity_add(&a, &b, 1, &r), 0);      /* 5 - 7.5 */
		assert_int_equal(quantity_parse("-2.5", &c), 0);
		assert_int_equal(quantity_cmp(&r, &c), 0);
		assert_int_equal(quantity_add(&r, &b, 0, &a), 0);      /* -2.5 + 7.5 */
		assert_int_equal(quantity_parse("5", &c), 0);
		assert_int_equal(quantity_cmp(&a, &c), 0);
	}
}

static int check(const char *doc_text, const char *path, enum assert_op op, json_t *want,
		 char *msg)
{
	struct flow_assert a;
	json_t *doc = json_loads(doc_text, JSON_DECODE_ANY, NULL);
	int r;

	assert_non_null(doc);
	memset(&a, 0, sizeof(a));
	a.src = ASSERT_SRC_JSON;
	a.path = (char *)path;
	a.op = op;
	msg[0] = '\0';
	r = driver_assert_json(&a, doc, want, msg, 512);
	json_decref(doc);
	json_decref(want);
	return r;
}

static void test_assertions(void **state)
{
	char msg[512];
	const char *bal = "{\"balance\":\"0x3635c9adc5dea00000\",\"n\":5,\"s\":\"abc\",\"z\":null}";

	(void)state;
	assert_true(check(bal, "/balance", ASSERT_EQUALS, json_string("1000000000000000000000"), msg));
	assert_false(check("{\"balance\":\"0x0\"}", "/balance", ASSERT_EQUALS,
			   json_string("0x3635c9adc5dea00000"), msg));
	assert_string_equal(msg, "/balance: expected to equal 0x3635c9adc5dea00000, got 0x0");
	assert_true(check(bal, "/n", ASSERT_EQUALS, json_string("5"), msg));
	assert_true(check(bal, "/n", ASSERT_GT, json_integer(4), msg));
	assert_false(check(bal, "/n", ASSERT_LT, json_integer(5), msg));
	assert_true(check(bal, "/n", ASSERT_LE, json_string("0x5"), msg));
	assert_true(check(bal, "/balance", ASSERT_GE, json_string("0x1"), msg));
	assert_false(check(bal, "/s", ASSERT_GT, json_integer(0), msg));   /* not a number */
	assert_true(check(bal, "/s", ASSERT_MATCHES, json_string("^a.c$"), msg));
	assert_false(check(bal, "/s", ASSERT_MATCHES, json_string("^x"), msg));
	assert_true(check(bal, "/s", ASSERT_NE, json_string("abd"), msg));
	assert_false(check(bal, "/missing", ASSERT_NE, json_string("abd"), msg)); /* missing is no pass */
	assert_true(check(bal, "/z", ASSERT_EXISTS, json_true(), msg));
	assert_true(check(bal, "/missing", ASSERT_EXISTS, json_false(), msg));
	assert_false(check(bal, "/missing", ASSERT_EXISTS, json_true(), msg));
	assert_string_equal(msg, "/missing: expected it to exist, it is missing");
	assert_true(check("[1,{\"a\":[true]}]", "/1/a/0", ASSERT_EQUALS, json_true(), msg));
	assert_true(check("\"0x7a69\"", "", ASSERT_EQUALS, json_string("0x7a69"), msg));
	assert_true(check("\"0x7a69\"", "", ASSERT_EQUALS, json_integer(31337), msg));
	assert_false(check("\"0x1\"", "", ASSERT_EQUALS, json_string("0x7a69"), msg));
}

/* driver_assert_json borrows expected: this wrapper frees it afterwards. */
static int holds(const struct flow_assert *a, json_t *doc, json_t *want, char *msg, size_t n)
{
	int r = driver_assert_json(a, doc, want, msg, n);

	json_decref(want);
	return r;
}

static void test_within(void **state)
{
	struct flow_assert a;
	json_t *doc = json_loads("{\"n\":\"0x10\",\"p\":\"3150.25\"}", 0, NULL);
	char msg[512];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.src = ASSERT_SRC_JSON;
	a.op = ASSERT_EQUALS;
	a.path = (char *)"/n";
	a.within = json_integer(3);
	assert_true(holds(&a, doc, json_string("19"), msg, sizeof(msg)));   /* 16 vs 19 */
	assert_true(holds(&a, doc, json_string("13"), msg, sizeof(msg)));
	assert_false(holds(&a, doc, json_string("20"), msg, sizeof(msg)));
	assert_string_equal(msg, "/n: expected 20 (within 3), got 0x10");
	assert_false(holds(&a, doc, json_string("12"), msg, sizeof(msg)));
	json_decref(a.within);
	a.path = (char *)"/p";
	a.within = json_string("0.5");
	assert_true(holds(&a, doc, json_string("3150.75"), msg, sizeof(msg)));
	assert_false(holds(&a, doc, json_string("3150.76"), msg, sizeof(msg)));
	json_decref(a.within);
	json_decref(doc);
}

static void test_template(void **state)
{
	json_t *caps = json_pack("{ssss}", "tx", "0xabc", "to", "0x1");
	char *s;

	(void)state;
	s = driver_template("hash={{tx}} to={{to}} {{unknown}} {{ {{tx}}", caps);
	assert_string_equal(s, "hash=0xabc to=0x1 {{unknown}} {{ 0xabc");
	free(s);
	s = driver_template("no templates", caps);
	assert_string_equal(s, "no templates");
	free(s);
	s = driver_template("{{tx", caps);
	assert_string_equal(s, "{{tx");
	free(s);
	json_decref(caps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantity),
		cmocka_unit_test(test_assertions),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_template),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
