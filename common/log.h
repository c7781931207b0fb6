/*
 * log: leveled log messages routed to a sink that main() chooses.
 *
 * Modules report what they do through log_msg(); they never write to stdout
 * or stderr themselves. Until main installs a sink, messages are dropped, so
 * unit tests and library users stay quiet.
 */
#ifndef DOORJAM_LOG_H
#define DOORJAM_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

typedef void (*log_sink_fn)(enum log_level level, const char *msg, void *arg);

/* Install the sink and the most verbose level it receives. fn NULL drops all. */
void log_set_sink(log_sink_fn fn, void *arg, enum log_level max);

/* 1 when a message at this level would reach the sink. */
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
