/*
 * buf: a growable byte buffer with a hard cap.
 *
 * Every buffer that holds input from a file, a process or the network has a
 * cap, so a peer that never stops sending cannot grow doorjam's memory without
 * bound. The data is always NUL-terminated (one byte past len) so text can be
 * used as a C string; binary data may contain NULs as well.
 */
#ifndef DOORJAM_BUF_H
#define DOORJAM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;     /* NULL until the first append */
	size_t len;     /* bytes in use */
	size_t cap;     /* bytes allocated (excluding the NUL) */
	size_t max;     /* hard cap on len */
};

/* Initialise caller-owned storage; max is the cap in bytes. */
void buf_init(struct buf *b, size_t max);

/* Free the storage; b may be reused after buf_init. Accepts NULL. */
void buf_cleanup(struct buf *b);

/*
 * Append n bytes. Returns 0, -ENOBUFS when the result would exceed the cap
 * (nothing is appended), or -ENOMEM.
 */
int buf_append(struct buf *b, const void *p, size_t n)
	__attribute__((warn_unused_result));

/* Append a formatted string; same returns as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0), warn_unused_result));

/* Drop the first n bytes (n > len empties the buffer). */
void buf_consume(struct buf *b, size_t n);

/* Empty the buffer, keeping its storage. */
void buf_reset(struct buf *b);

/*
 * For a buffer that is empty: free its storage when more than keep bytes are
 * allocated (a connection that once carried a large message need not hold
 * it while it waits). A buffer with data is left alone.
 */
void buf_shrink(struct buf *b, size_t keep);

/*
 * Take the storage out: returns the NUL-terminated data (caller frees) and
 * leaves the buffer empty. Returns an empty heap string for an empty buffer,
 * NULL only when out of memory.
 */
char *buf_steal(struct buf *b);

#endif
