/*
 * libFuzzer target for common/dnsmsg: the parser must refuse or accept
 * any input without reading out of bounds, and whatever it accepts as a
 * query must turn into a response that parses again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNSMSG_MSG_MAX + 1];
	struct dnsmsg m, r;
	struct dnsmsg_rr rr[3];
	struct dnsmsg_answer a;
	char sum[256], text[DNSMSG_TEXT_MAX], *s;
	int n;

	dnsmsg_summary(data, size, sum, sizeof(sum));
	if (dnsmsg_parse(data, size, &m, NULL) == 0) {
		/* What the parser produced is in range. */
		if (m.qdcount == 1 && (m.qname_wire_len < 1 || m.qname_wire_len > DNSMSG_WIRE_MAX))
			abort();
		if (strlen(m.qname) >= DNSMSG_TEXT_MAX)
			abort();
	}
	if (dnsmsg_parse_query(data, size, &m, NULL) == 0) {
		memset(rr, 0, sizeof(rr));
		rr[0].type = DNSMSG_TYPE_CNAME;
		rr[0].target = "target.example";
		rr[1].owner = "target.example";
		rr[1].type = DNSMSG_TYPE_A;
		rr[2].type = DNSMSG_TYPE_AAAA;
		memset(&a, 0, sizeof(a));
		a.rrs = rr;
		a.nrrs = 3;
		a.soa_owner = m.qname;
		a.rcode = size & 1 ? DNSMSG_RCODE_NXDOMAIN : DNSMSG_RCODE_NOERROR;
		n = dnsmsg_build(&m, &a, out, sizeof(out), size & 2 ? 512 : dnsmsg_udp_limit(&m));
		if (n < 0 || dnsmsg_parse(out, (size_t)n, &r, NULL) != 0 || r.id != m.id ||
		    strcmp(r.qname, m.qname) != 0)
			abort();
		/* The text form of a parsed name encodes back to a name. */
		if (dnsmsg_name_canon(m.qname, text, NULL) == 0 && strcmp(text, m.qname) != 0)
			abort();
	}
	/* Names and patterns as text. */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (dnsmsg_name_canon(s, text, NULL) == 0)
		(void)dnsmsg_pattern_match("*.example", text);
	free(s);
	return 0;
}
