/*
 * log.h - one line per event to stderr: time, level, message.
 * Never pass secrets (Authorization headers, keys, passwords).
 */
#ifndef FL_LOG_H
#define FL_LOG_H

#include "result.h"

enum fl_log_level { FL_LOG_DEBUG, FL_LOG_INFO, FL_LOG_WARN, FL_LOG_ERROR };

void fl_log_set_level(enum fl_log_level level);
/* Parses "debug"/"info"/"warn"/"error"; -1 when unknown. */
int fl_log_level_parse(const char *s);
void fl_log(enum fl_log_level level, const char *fmt, ...) FL_PRINTF(2, 3);

#define fl_debug(...) fl_log(FL_LOG_DEBUG, __VA_ARGS__)
#define fl_info(...) fl_log(FL_LOG_INFO, __VA_ARGS__)
#define fl_warn(...) fl_log(FL_LOG_WARN, __VA_ARGS__)
#define fl_error(...) fl_log(FL_LOG_ERROR, __VA_ARGS__)

#endif
