/*
 * awserr.h - the one place where results become AWS errors.
 *
 * Handlers return a struct fl_error; the router turns it into the AWS JSON
 * error shape {"__type": "...", "message": "..."} with the status code and
 * type name that the service in question uses.  PutRecordBatch's
 * per-record ErrorCode comes from here too.
 */
#ifndef FL_AWSERR_H
#define FL_AWSERR_H

#include "buf.h"
#include "result.h"

enum fl_service { FL_SVC_FIREHOSE, FL_SVC_GLUE, FL_SVC_ATHENA, FL_SVC_NONE };

struct fl_awserr {
	const char *type;  /* "ResourceNotFoundException" */
	int status;        /* HTTP status */
};

struct fl_awserr fl_awserr_map(enum fl_service svc, enum fl_result r);

/* Writes the error body for err to out and returns the HTTP status.
 * *type receives the __type (static, or err->type: valid while err is). */
int fl_awserr_body(enum fl_service svc, const struct fl_error *err,
		   struct fl_buf *out, const char **type);

/* ErrorCode of one failed record in a PutRecordBatch answer. */
const char *fl_awserr_record_code(enum fl_result r);

#endif
