/*
 * libFuzzer target for the proxy's JSON-RPC side: the input is decoded as a
 * request body and matched against a fixed set of rules (globs, params by
 * pointer and regex, batch positions, implied methods), then used as a reply
 * for an override. Also feeds the glob matcher with pattern and subject cut
 * from the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "injector/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rpc_rule rules[5];
static const struct rpc_rule *rule_ptrs[5];
static json_t *override_set;

static void setup(void)
{
	struct err e;
	size_t i;

	for (i = 0; i < 5; i++) {
		rpc_rule_init(&rules[i]);
		rule_ptrs[i] = &rules[i];
	}
	rules[0].action = RPC_ACT_ERROR;
	rules[0].method = strdup("eth_get*");
	rules[0].params = calloc(2, sizeof(*rules[0].params));
	rules[0].nparams = 2;
	rules[0].params[0].ptr = strdup("/0");
	rules[0].params[0].equals = json_string("0xABCDEF");
	rules[0].params[1].ptr = strdup("/1/a~1b/0");
	rules[0].params[1].matches = strdup("^(latest|0x[0-9a-f]+)$");
	if (rpc_rule_compile(&rules[0], &e))
		abort();
	rules[1].action = RPC_ACT_STALE_HEAD;
	rules[2].action = RPC_ACT_BATCH_DROP;
	rules[2].batch_index = 1;
	rules[3].action = RPC_ACT_CHAIN_ID;
	rules[4].action = RPC_ACT_STATUS;
	rules[4].method = strdup("*_?a*l*");
	override_set = json_loads("{\"\":\"0x0\",\"/a\":1,\"/b/0\":null,\"/c/-\":2}", 0, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	long out[64];
	long n;
	json_t *doc;
	char *a, *b;
	size_t cut;

	if (!ready) {
		setup();
		ready = 1;
	}
	n = rpc_match_body((const char *)data, size, rule_ptrs, 5, out, 64);
	if (n > 0) {
		long i;

		for (i = 0; i < n && i < 64; i++)
			if (out[i] < -1 || out[i] >= 5)
				abort();
	}
	doc = json_loadb((const char *)data, size, 0, NULL);
	if (json_is_object(doc))
		(void)rpc_override_apply(doc, override_set);
	json_decref(doc);
	/* glob: first half is the pattern, second half the subject */
	cut = size / 2;
	a = strndup((const char *)data, cut);
	b = strndup((const char *)data + cut, size - cut);
	if (a && b)
		(void)rpc_glob_match(a, b);
	free(a);
	free(b);
	return 0;
}
