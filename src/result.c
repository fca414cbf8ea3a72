#include "result.h"

#include <stdarg.h>
#include <stdio.h>

enum fl_result fl_error_set(struct fl_error *err, enum fl_result code,
			    const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
		err->type[0] = '\0';
	}
	return code;
}

enum fl_result fl_error_set_type(struct fl_error *err, enum fl_result code,
				 const char *type, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
		snprintf(err->type, sizeof err->type, "%s", type);
	}
	return code;
}

const char *fl_result_name(enum fl_result r)
{
	switch (r) {
	case FL_OK: return "ok";
	case FL_INVALID: return "invalid";
	case FL_TOO_LARGE: return "too large";
	case FL_NOT_FOUND: return "not found";
	case FL_EXISTS: return "exists";
	case FL_IO: return "io";
	case FL_UNAVAILABLE: return "unavailable";
	case FL_RETRY: return "retry";
	case FL_INTERNAL: return "internal";
	case FL_IN_USE: return "in use";
	case FL_LIMIT: return "limit";
	case FL_UNKNOWN_OP: return "unknown operation";
	case FL_VALIDATION: return "validation";
	case FL_CONFLICT: return "conflict";
	case FL_MALFORMED: return "malformed";
	case FL_DENIED: return "denied";
	case FL_FORBIDDEN: return "forbidden";
	}
	return "unknown";
}
