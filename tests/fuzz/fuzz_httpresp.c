/*
 * libFuzzer target for injector/httpresp, the upstream response parser.
 * The first input byte picks the request method (HEAD or not) and a piece
 * size; the rest is one server's byte stream, fed once whole and once in
 * pieces, then closed. Both runs must agree on the result, status, body and
 * passed-on headers, consume only what they were given, and keep every
 * buffer within its cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "injector/httpresp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	int rc;
	size_t used;
	int status;
};

static void feed(struct httpresp *r, const char *in, size_t len, size_t step, struct run *o)
{
	size_t off = 0;

	o->rc = HTTPRESP_MORE;
	o->used = 0;
	while (off < len && o->rc == HTTPRESP_MORE) {
		size_t n = len - off < step ? len - off : step, used = 0;

		o->rc = httpresp_feed(r, in + off, n, &used);
		if (used > n || (o->rc == HTTPRESP_MORE && used != n))
			abort();
		o->used += used;
		off += n;
	}
	if (o->rc == HTTPRESP_MORE)
		o->rc = httpresp_eof(r);
	o->status = r->status;
	if (r->body.len > 1024 || r->headers.len > 256)
		abort();
	if (r->body.data && r->body.data[r->body.len] != '\0')
		abort();
	if (o->rc == HTTPRESP_DONE && (r->status < 200 || r->status > 999))
		abort();
	if (o->rc == HTTPRESP_ERROR && (!r->error || r->err == HTTPRESP_OK))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct httpresp_limits lim = { .max_head = 256, .max_body = 1024 };
	struct httpresp a, b;
	struct run ra, rb;
	size_t step;
	char *copy;
	int head;

	if (size < 1)
		return 0;
	head = data[0] & 1;
	step = (size_t)(data[0] >> 1) + 1;
	data++;
	size--;
	/* an exact-size heap copy, so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	httpresp_init(&a, &lim, head);
	httpresp_init(&b, &lim, head);
	feed(&a, copy, size, size ? size : 1, &ra);
	feed(&b, copy, size, step, &rb);
	if (ra.rc != rb.rc || (ra.rc == HTTPRESP_DONE && ra.used != rb.used))
		abort();
	if (ra.rc == HTTPRESP_DONE &&
	    (ra.status != rb.status || a.keep_alive != b.keep_alive || a.body.len != b.body.len ||
	     (a.body.len && memcmp(a.body.data, b.body.data, a.body.len) != 0) ||
	     a.headers.len != b.headers.len ||
	     (a.headers.len && memcmp(a.headers.data, b.headers.data, a.headers.len) != 0)))
		abort();
	httpresp_cleanup(&a);
	httpresp_cleanup(&b);
	free(copy);
	return 0;
}
