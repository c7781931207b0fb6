/*
 * libFuzzer target for runner/resolve's answer parser: the flows' stub
 * resolver reads UDP and TCP answers from the lab's DNS server, which a
 * dns.* fault may make as odd as it likes. The parser must never read past
 * the answer, must fail closed on anything malformed, and what it returns
 * must be usable: an address that parses as IPv4, or a message that fits.
 *
 * The first two input bytes choose the query id and one bit chooses the name
 * asked for; the answer is the rest. A second pass feeds the answer back
 * behind a real query built by resolve_query_build, so the fuzzer gets past
 * the "answer to another query" check more often.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const uint8_t *p, size_t len, uint16_t id, const char *name)
{
	char addr[64], msg[128];
	struct in_addr a;
	int rc;

	memset(addr, 'x', sizeof(addr));
	memset(msg, 'x', sizeof(msg));
	addr[sizeof(addr) - 1] = msg[sizeof(msg) - 1] = '\0';
	rc = resolve_answer_parse(p, len, id, name, addr, sizeof(addr), msg, sizeof(msg));
	if (rc == 0 && inet_pton(AF_INET, addr, &a) != 1)
		abort();
	if (rc < 0 && (!memchr(msg, '\0', sizeof(msg)) || msg[0] == '\0'))
		abort();
	if (rc > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "rpc-a.use1.example", "x" };
	uint8_t buf[4096];
	const char *name;
	uint16_t id;
	int n;

	if (size < 3)
		return 0;
	id = (uint16_t)(data[0] << 8 | data[1]);
	name = names[data[2] & 1];
	data += 3;
	size -= 3;
	fuzz_check(data, size, id, name);

	/* the same bytes as answer records behind a well-formed header+question */
	n = resolve_query_build(name, id, buf, sizeof(buf));
	if (n < 12 || (size_t)n + size > sizeof(buf))
		return 0;
	buf[2] |= 0x80;                     /* QR: a response */
	buf[7] = size ? data[0] & 3 : 0;    /* ANCOUNT 0..3 */
	if (size)
		buf[3] = (uint8_t)((buf[3] & 0xf0) | (data[0] >> 4 & 0x0f)); /* RCODE */
	memcpy(buf + n, data, size);
	fuzz_check(buf, (size_t)n + size, id, name);
	return 0;
}
