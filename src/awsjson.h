/*
 * awsjson.h - AWS JSON 1.1 request/answer helpers shared by the Glue,
 * Athena and Firehose handlers (private to src/).
 *
 * A handler parses its body against the operation's botocore model,
 * reads typed members, and writes one JSON document as its answer; these
 * are the pieces every handler repeats.
 */
#ifndef FL_AWSJSON_H
#define FL_AWSJSON_H

#include <jansson.h>
#include <stddef.h>

#include "awsshape.h"
#include "http.h"
#include "result.h"

/* Enough digits that epoch seconds with microseconds survive (Glue). */
#define FL_AWSJSON_GLUE_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(16))

/* Parses and validates req's body against op's model in ops[0..n). */
enum fl_result fl_awsjson_parse(const struct fl_req *req, const struct fl_awsshape_op *ops,
				size_t n, const char *op, json_t **in, struct fl_error *err);

/* fl_awsjson_parse against botocore's Glue model, for req->op. */
enum fl_result fl_awsjson_parse_glue(const struct fl_req *req, json_t **in, struct fl_error *err);

/* fl_awsjson_parse against botocore's Athena model, for op. */
enum fl_result fl_awsjson_parse_athena(const struct fl_req *req, const char *op, json_t **in,
				       struct fl_error *err);

/* Writes out (stolen; NULL: out of memory) as the answer, dumped with
 * jansson's flags. */
enum fl_result fl_awsjson_reply(struct fl_req *req, size_t flags, json_t *out,
				struct fl_error *err);

/* A string member, or NULL when absent (the shape walk has typed it). */
const char *fl_awsjson_member(const json_t *in, const char *name);

/* FL_VALIDATION: AWS's "Value null at '<path>'" validation error. */
enum fl_result fl_awsjson_not_null(const char *path, struct fl_error *err);

/* The Glue name in obj's member (path: its name as AWS writes it; what:
 * as fl_catalog_name). */
enum fl_result fl_awsjson_glue_name(const json_t *obj, const char *member, const char *path,
				    const char *what, char out[256], struct fl_error *err);

/* FL_INVALID when a string or key anywhere in v holds a NUL (PostgreSQL's
 * text and jsonb cannot). */
enum fl_result fl_awsjson_no_nul(const json_t *v, struct fl_error *err);

#endif
