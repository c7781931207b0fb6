/*
 * err: the error value that fallible functions fill in.
 *
 * A fallible function returns 0 on success or a negative errno-style code, and
 * writes a one-line, human-readable message into a caller-supplied struct err.
 * Library code never prints and never exits; main() decides what to do with
 * the message. The message buffer is fixed so that filling it never fails.
 */
#ifndef DOORJAM_ERR_H
#define DOORJAM_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 1024

struct err {
	int code;               /* negative errno-style code, 0 when unset */
	char msg[ERR_MSG_MAX];  /* NUL-terminated, empty when unset */
};

/* Clear an error value. Accepts NULL. */
void err_clear(struct err *e);

/*
 * Set code and message (printf-style). Returns code, so callers can write
 * `return err_set(err, -EINVAL, "...")`. Accepts e == NULL (the message is
 * dropped, the code is still returned).
 */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set with code = -errnum and ": strerror(errnum)" appended. */
int err_errno(struct err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Prepend context to an existing message ("lab up: " + old message). Keeps
 * the code. Returns the code.
 */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
