#include "result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

/* Makes msg[cap] well-formed UTF-8 in place.  Messages quote client text,
 * and a precision ("%.200s") or the buffer's end may cut a character in
 * two: every byte that is not part of a well-formed sequence becomes
 * U+FFFD, as a JSON answer would show it, and the text stays within cap,
 * ending on a character boundary. */
static void utf8_repair(char *msg, size_t cap)
{
	const unsigned char *u = (const unsigned char *)msg;
	size_t n = strlen(msg), i = 0, k;
	while (i < n && (k = fl_utf8_seq(u + i, n - i)) != 0)
		i += k;
	if (i == n)
		return;
	char out[FL_ERROR_MAX];
	size_t o = i;
	memcpy(out, msg, o);
	while (i < n) {
		k = fl_utf8_seq(u + i, n - i);
		const char *c = k ? msg + i : "\xef\xbf\xbd";
		size_t len = k ? k : 3;
		if (o + len >= cap || o + len >= sizeof out)
			break;
		memcpy(out + o, c, len);
		o += len;
		i += k ? k : 1;
	}
	out[o] = '\0';
	memcpy(msg, out, o + 1);
}

enum fl_result fl_error_set(struct fl_error *err, enum fl_result code,
			    const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		utf8_repair(err->msg, sizeof err->msg);
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
		utf8_repair(err->msg, sizeof err->msg);
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
