/*
 * awsshape.h - request validation against botocore's service models.
 *
 * scripts/gen-shapes.py reads botocore's glue and athena models and writes
 * src/shapes_glue.c and src/shapes_athena.c: a table of shapes
 * (structure, list, map, string, integer/long, double, boolean,
 * timestamp, blob) with their constraints (required members, min/max
 * length or value, enum, pattern) and, per operation, its input shape.
 * The generated files are committed; the script is rerun when the
 * operations firelake serves change.
 *
 * One walk checks a parsed JSON request against an input shape, as the
 * AWS services do before an operation runs:
 *   - a JSON value of the wrong type for its shape -> FL_MALFORMED (a
 *     SerializationException), message naming the member;
 *   - constraint violations -> FL_VALIDATION with AWS's text, every
 *     violation counted and at most the first few listed:
 *       "1 validation error detected: Value 'x' at 'databaseInput.name'
 *        failed to satisfy constraint: Member must have length less than
 *        or equal to 255"
 *     (member paths in lowerCamelCase as AWS writes them; a missing
 *     required member is "Value null at 'name' failed to satisfy
 *     constraint: Member must not be null"; list/map elements as
 *     'partitionInputList.1.member.values');
 *   - patterns: Glue's single-line-string pattern (no control characters
 *     other than tab, valid UTF-8) and Athena's patterns are checked;
 *     a pattern the walker does not know is not checked;
 *   - members the model does not know are ignored (as AWS JSON 1.1
 *     services ignore them); JSON null is an absent member.
 */
#ifndef FL_AWSSHAPE_H
#define FL_AWSSHAPE_H

#include <jansson.h>
#include <stddef.h>

#include "result.h"

struct fl_awsshape;            /* a generated shape node (opaque) */

struct fl_awsshape_op {
	const char *name;                   /* "GetTable" */
	const struct fl_awsshape *input;    /* NULL: the operation takes no input */
};

/* The generated tables, sorted by name. */
extern const struct fl_awsshape_op fl_glue_ops[];
extern const size_t fl_glue_op_count;
extern const struct fl_awsshape_op fl_athena_ops[];
extern const size_t fl_athena_op_count;

/* The operation named op in ops, or NULL. */
const struct fl_awsshape_op *fl_awsshape_find(const struct fl_awsshape_op *ops, size_t n,
					      const char *op);

/* Validates request (a JSON object; anything else is FL_MALFORMED)
 * against op's input shape.  FL_OK, FL_MALFORMED or FL_VALIDATION. */
enum fl_result fl_awsshape_check(const struct fl_awsshape_op *op, const json_t *request,
				 struct fl_error *err) FL_MUST_USE;

/* Parses body as a JSON object and validates it: the start of every Glue
 * and Athena handler.  Empty body = {}.  Caller owns *out (json_decref). */
enum fl_result fl_awsshape_parse(const struct fl_awsshape_op *op, const char *body,
				 size_t len, json_t **out, struct fl_error *err) FL_MUST_USE;

#endif
