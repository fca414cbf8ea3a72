/*
 * firehose_shape.h - shape validation of Firehose S3 destination requests
 * against the botocore model (firehose 2015-08-04).
 */
#ifndef FL_FIREHOSE_SHAPE_H
#define FL_FIREHOSE_SHAPE_H

#include <jansson.h>

#include "result.h"

enum fl_firehose_shape {
	FL_SHAPE_S3,                  /* S3DestinationConfiguration */
	FL_SHAPE_S3_UPDATE,           /* S3DestinationUpdate */
	FL_SHAPE_EXTENDED_S3,         /* ExtendedS3DestinationConfiguration */
	FL_SHAPE_EXTENDED_S3_UPDATE,  /* ExtendedS3DestinationUpdate */
};

/* Validates v against the shape (root_name begins the member paths of the
 * messages, e.g. "extendedS3DestinationConfiguration").  FL_VALIDATION
 * with every violation in AWS's words, FL_MALFORMED for a value of the
 * wrong JSON type.  On FL_OK, *out is a copy of v's known members (caller
 * owns). */
enum fl_result fl_firehose_shape_check(const json_t *v, enum fl_firehose_shape shape,
				       const char *root_name, json_t **out,
				       struct fl_error *err) FL_MUST_USE;

#endif
