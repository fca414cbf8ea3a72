/*
 * prefix.h - Firehose S3 prefix expressions and object names.
 *
 * A prefix such as
 *   raw/events/event_type=!{partitionKeyFromQuery:event_type}/dt=!{timestamp:yyyy-MM-dd}/
 * is compiled once per stream configuration and evaluated per event.
 * Namespaces as Firehose: timestamp (Java DateTimeFormatter pattern),
 * firehose (random-string, error-output-type), partitionKeyFromQuery,
 * partitionKeyFromLambda.  A prefix without any expression gets
 * Firehose's default "YYYY/MM/dd/HH/" (event time) appended.
 */
#ifndef FL_PREFIX_H
#define FL_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

#define FL_PREFIX_MAX_KEYS 50

struct fl_prefix;

/* Values that an evaluation reads. */
struct fl_prefix_ctx {
	int64_t ts_ms;                   /* for !{timestamp:...} */
	const char *error_output_type;   /* for !{firehose:error-output-type} */
	const char *random;              /* 11 chars for !{firehose:random-string} */
	/* For !{partitionKeyFromQuery:name}: values[i] is the value of
	 * fl_prefix_key_name(p, i); NULL values are an error. */
	const char *const *key_values;
	const size_t *key_lens;
};

/* Compiles expr; is_error_prefix allows !{firehose:error-output-type}.
 * Validation and messages as Firehose's for a bad expression.  Caller owns
 * *out (fl_prefix_free). */
enum fl_result fl_prefix_compile(const char *expr, bool is_error_prefix,
				 struct fl_prefix **out, struct fl_error *err) FL_MUST_USE;
void fl_prefix_free(struct fl_prefix *p);

/* Appends the evaluated prefix to out. */
enum fl_result fl_prefix_eval(const struct fl_prefix *p, const struct fl_prefix_ctx *ctx,
			      struct fl_buf *out, struct fl_error *err) FL_MUST_USE;

bool fl_prefix_has_expression(const struct fl_prefix *p);
bool fl_prefix_uses_random(const struct fl_prefix *p);
bool fl_prefix_uses_partition_keys(const struct fl_prefix *p);
/* partitionKeyFromQuery names, in order of first use, deduplicated. */
size_t fl_prefix_key_count(const struct fl_prefix *p);
const char *fl_prefix_key_name(const struct fl_prefix *p, size_t i);

/* Hive-style partition keys of a prefix: the `name` of each `name=!{...}`
 * path segment, in order.  Returns the count (at most max). */
size_t fl_prefix_hive_keys(const char *expr, char names[][128], size_t max);

/* The literal part of a prefix before its first expression. */
size_t fl_prefix_static_len(const char *expr);

/* Formats ts_ms with a Java DateTimeFormatter pattern (the subset Firehose
 * accepts: y Y M d H h m s S a E D u, 'literal', '' and other literal
 * characters) and appends it to out. */
enum fl_result fl_datefmt(const char *pattern, size_t n, int64_t ts_ms,
			  struct fl_buf *out, struct fl_error *err) FL_MUST_USE;

/* Object name as Firehose writes it:
 *   <stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>[.gz]
 * uuid is the 16 bytes formatted as 8-4-4-4-12 lower-case hex. */
enum fl_result fl_object_name(struct fl_buf *out, const char *stream, int version,
			      int64_t ts_ms, const uint8_t uuid[16], bool gzip) FL_MUST_USE;

#endif
