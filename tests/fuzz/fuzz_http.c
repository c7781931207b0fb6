/*
 * libFuzzer target for injector/http's request parser: any byte string is
 * parsed as a stream of pipelined requests under small caps. The parser
 * must never read out of bounds, must consume only what it was given, and
 * must keep every decoded body within the cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "injector/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	struct http_request req;
	size_t off = 0;
	char *copy;

	/* an exact-size heap copy, so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	http_limits_default(&lim);
	lim.max_head = 512;
	lim.max_headers = 16;
	lim.max_body = 2048;
	http_request_init(&req);
	while (off < size) {
		size_t used = 0;
		int rc = http_request_parse(copy + off, size - off, &lim, &req, &used);

		if (rc != HTTP_PARSE_DONE)
			break;
		if (used == 0 || used > size - off || req.body_len > lim.max_body ||
		    req.nheaders > lim.max_headers || req.body[req.body_len] != '\0')
			abort();
		(void)http_request_header(&req, "host");
		off += used;
	}
	if (req.status && (req.status < 400 || req.status > 505))
		abort();
	http_request_cleanup(&req);
	free(copy);
	return 0;
}
