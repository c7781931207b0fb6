/*
 * err: fixed-size error messages with errno-style codes. See err.h.
 */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int err_errno(struct err *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (errnum < 0)
		errnum = -errnum;
	if (!e)
		return -errnum;
	e->code = -errnum;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(errnum));
	return -errnum;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char head[ERR_MSG_MAX];
	size_t hl, ol;
	va_list ap;

	if (!e)
		return 0;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	hl = strlen(head);
	if (hl >= sizeof(e->msg))
		hl = sizeof(e->msg) - 1;
	ol = strlen(e->msg);
	if (hl + ol >= sizeof(e->msg))
		ol = sizeof(e->msg) - 1 - hl;
	memmove(e->msg + hl, e->msg, ol);
	memcpy(e->msg, head, hl);
	e->msg[hl + ol] = '\0';
	return e->code;
}
