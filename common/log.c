/*
 * log: see log.h. Messages longer than 2 KiB are cut.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

static log_sink_fn log_sink;
static void *log_sink_arg;
static enum log_level log_max = LOG_LEVEL_INFO;

void log_set_sink(log_sink_fn fn, void *arg, enum log_level max)
{
	log_sink = fn;
	log_sink_arg = arg;
	log_max = max;
}

int log_enabled(enum log_level level)
{
	return log_sink && level <= log_max;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_sink(level, msg, log_sink_arg);
}
