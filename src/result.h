/*
 * result.h - the one result enum of firelake, and the error text beside it.
 *
 * Every fallible function returns enum fl_result; values are stable (they
 * appear in logs and tests).  Human text travels beside the code in a
 * struct fl_error, short and factual.  The mapping from results to the AWS
 * error shape lives in awserr.c, and only there.
 */
#ifndef FL_RESULT_H
#define FL_RESULT_H

#include <stddef.h>

#define FL_MUST_USE __attribute__((warn_unused_result))
#define FL_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum fl_result {
	FL_OK = 0,
	FL_INVALID = 1,     /* the client sent something malformed */
	FL_TOO_LARGE = 2,   /* a size limit of the API was passed */
	FL_NOT_FOUND = 3,
	FL_EXISTS = 4,
	FL_IO = 5,          /* local disk failed */
	FL_UNAVAILABLE = 6, /* load shed or dependency down: client retries */
	FL_RETRY = 7,       /* transient: the caller retries by itself */
	FL_INTERNAL = 8,
	FL_IN_USE = 9,      /* resource busy (e.g. stream being deleted) */
	FL_LIMIT = 10,      /* an account-style limit (count of streams ...) */
	FL_UNKNOWN_OP = 11,
	FL_VALIDATION = 12, /* a request violates its shape's constraints */
	FL_CONFLICT = 13,   /* stale version: concurrent modification */
	FL_MALFORMED = 14,  /* the request body is not the JSON it must be */
	FL_DENIED = 15,     /* authentication failed (400: a bad or unknown signature) */
	FL_FORBIDDEN = 16,  /* not allowed at all (403: no credentials; storage refused) */
};

#define FL_ERROR_MAX 1024

/* A result plus its human text.  Fixed size: lives on the stack. */
struct fl_error {
	enum fl_result code;
	char msg[FL_ERROR_MAX];
	/* When not empty, the AWS error type that awserr.c answers instead of
	 * the one it maps code to: a service's own exception for one case
	 * ("CrawlerRunningException"); the status stays code's. */
	char type[64];
};

/* Sets *err (when not NULL) and returns code, so callers can write
 * `return fl_error_set(err, FL_INVALID, "...")`. */
enum fl_result fl_error_set(struct fl_error *err, enum fl_result code,
			    const char *fmt, ...) FL_PRINTF(3, 4);

/* fl_error_set with an AWS error type of its own (see struct fl_error). */
enum fl_result fl_error_set_type(struct fl_error *err, enum fl_result code,
				 const char *type, const char *fmt, ...) FL_PRINTF(4, 5);

/* Stable lower-case name of a result ("invalid", "io" ...). */
const char *fl_result_name(enum fl_result r);

#endif
