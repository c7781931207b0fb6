/*
 * libFuzzer target for the packet walk of reports/capture (link layer, IPv4,
 * IPv6 extension headers, TCP, UDP, ICMP errors and the DNS message on port
 * 53). The first input byte picks the link type, the rest is the frame, copied
 * to a block of exactly its length so that ASan sees any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "reports/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW };
	uint8_t *frame;
	int rc;

	if (size < 1)
		return 0;
	frame = malloc(size - 1 ? size - 1 : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, size - 1);
	rc = capture_frame_check(types[data[0] % 4], frame, size - 1);
	if (rc < -1 || rc > 1)
		abort();
	free(frame);
	return 0;
}
