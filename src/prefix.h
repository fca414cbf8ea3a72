/*
 * prefix.h - Firehose S3 prefix expressions and object names.
 *
 * A prefix such as
 *   raw/events/event_type=!{partitionKeyFromQuery:event_type}/dt=!{timestamp:yyyy-MM-dd}/
 * is compiled once per stream configuration and evaluated per event.
 * Namespaces as Firehose: timestamp (Java DateTimeFormatter pattern),
 * firehose (random-string, error-output-type), partitionKeyFromQuery,
 * partitionKeyFromLambda.
 *
 * Defaults, as Firehose documents them ("Semantic rules"):
 *   - a Prefix with no timestamp expression and no partition-key expression
 *     gets !{timestamp:yyyy/MM/dd/HH/} appended (so a prefix without any
 *     expression gets the default "YYYY/MM/dd/HH/", event time);
 *   - an ErrorOutputPrefix with no expression gets
 *     !{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/} appended,
 *     which is what Firehose writes for a null ErrorOutputPrefix when
 *     compiled from the Prefix text: <prefix><error-output-type>/YYYY/MM/dd/HH/.
 * Nothing is inserted before an appended default: "logs" gives
 * "logs2026/01/01/00/", as Firehose does.
 */
#ifndef FL_PREFIX_H
#define FL_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

#define FL_PREFIX_MAX_KEYS 50
#define FL_PREFIX_MAX_LEN 1024      /* characters of Prefix/ErrorOutputPrefix */
#define FL_PREFIX_MAX_EVAL_LEN 512  /* characters of an evaluated prefix */
#define FL_PREFIX_RANDOM_LEN 11     /* !{firehose:random-string} */

struct fl_prefix;

/* Values that an evaluation reads. */
struct fl_prefix_ctx {
	int64_t ts_ms;                   /* for !{timestamp:...} */
	const char *error_output_type;   /* for !{firehose:error-output-type} */
	/* 11 chars for !{firehose:random-string} (FL_PREFIX_RANDOM_LEN; more
	 * are ignored).  Firehose gives every instance in a prefix a new
	 * string: the first gets these chars, each further one 11 lower-case
	 * hex chars derived from them (fl_prefix_random), so an evaluation is
	 * deterministic for a given ctx. */
	const char *random;
	/* For !{partitionKeyFromQuery:name}: values[i] is the value of
	 * fl_prefix_key_name(p, i); NULL values are an error. */
	const char *const *key_values;
	const size_t *key_lens;
};

/* Compiles expr; is_error_prefix allows !{firehose:error-output-type}.
 * Validation and messages as Firehose's for a bad expression (all
 * FL_INVALID): longer than FL_PREFIX_MAX_LEN, an expression not closed, a
 * nested "!{", no ':' in an expression, an unknown namespace, an empty
 * value, an unknown firehose value, a bad timestamp pattern,
 * error-output-type in a Prefix, an ErrorOutputPrefix with expressions
 * but no error-output-type or with partition keys, more than
 * FL_PREFIX_MAX_KEYS keys.  Caller owns *out (fl_prefix_free). */
enum fl_result fl_prefix_compile(const char *expr, bool is_error_prefix,
				 struct fl_prefix **out, struct fl_error *err) FL_MUST_USE;
void fl_prefix_free(struct fl_prefix *p);

/* Appends the evaluated prefix to out.  FL_INVALID (out unchanged) when a
 * value the prefix needs is missing from ctx or the result is longer than
 * FL_PREFIX_MAX_EVAL_LEN characters, FL_TOO_LARGE past out's max.  Reads
 * p only: one compiled prefix may be evaluated by many threads. */
enum fl_result fl_prefix_eval(const struct fl_prefix *p, const struct fl_prefix_ctx *ctx,
			      struct fl_buf *out, struct fl_error *err) FL_MUST_USE;

/* Whether the text given to fl_prefix_compile held an expression (the
 * appended default does not count). */
bool fl_prefix_has_expression(const struct fl_prefix *p);
bool fl_prefix_uses_random(const struct fl_prefix *p);
/* partitionKeyFromQuery expressions. */
bool fl_prefix_uses_partition_keys(const struct fl_prefix *p);
/* partitionKeyFromLambda expressions.  firelake runs no Lambda processor,
 * so such a prefix compiles (the syntax is valid) but every evaluation
 * fails; configuration code rejects it with this. */
bool fl_prefix_uses_lambda_keys(const struct fl_prefix *p);
/* partitionKeyFromQuery names, in order of first use, deduplicated. */
size_t fl_prefix_key_count(const struct fl_prefix *p);
const char *fl_prefix_key_name(const struct fl_prefix *p, size_t i);

/* Hive-style partition keys of a prefix: the `name` of each `name=!{...}`
 * path segment, in order, without duplicates (names of 128 bytes or more
 * are skipped).  Returns the count (at most max). */
size_t fl_prefix_hive_keys(const char *expr, char names[][128], size_t max);

/* The literal directory part of a prefix: its bytes up to and including
 * the last '/' before its first expression (or before its end, where the
 * default time is appended).  "raw/events/event_type=!{...}/" gives 11
 * ("raw/events/"); every object key of the prefix starts with it. */
size_t fl_prefix_static_len(const char *expr);

/* Writes FL_PREFIX_RANDOM_LEN lower-case hex chars and a NUL derived from
 * seed (splitmix64): a random-string that is stable for a given seed, so
 * an object delivered twice gets the same key. */
void fl_prefix_random(uint64_t seed, char out[FL_PREFIX_RANDOM_LEN + 1]);

/* Formats ts_ms (UTC) with a Java DateTimeFormatter pattern and appends
 * it to out.  Letters: y u (year; yy two digits), Y (taken as the calendar
 * year, not Java's week-based year: they differ only in the days around
 * 1 January), M L (1-2 digits, MMM "Jan", MMMM "January", MMMMM "J"),
 * d, H, h (1-12), K (0-11), k (1-24), m, s (1-2 digits), S (fraction, 1-9
 * digits), a (AM/PM), E (EEE "Mon", EEEE "Monday", EEEEE "M"), D (day of
 * year, 1-3 digits); 'literal', '' for a quote, [ ] (optional sections:
 * always printed) and other non-letters literal.  Too many letters, '{'
 * '}' '#', an unclosed quote, a ']' without '[' are FL_INVALID as Java
 * throws for them; so are the letters Java has and firelake does not
 * print (G Q q w W e c F n N A V z O X x Z ...).  Years 1..9999 only
 * (FL_INVALID outside).  Checked against Java 17's DateTimeFormatter. */
enum fl_result fl_datefmt(const char *pattern, size_t n, int64_t ts_ms,
			  struct fl_buf *out, struct fl_error *err) FL_MUST_USE;

/* Object name as Firehose writes it:
 *   <stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>[.gz]
 * uuid is the 16 bytes formatted as 8-4-4-4-12 lower-case hex. */
enum fl_result fl_object_name(struct fl_buf *out, const char *stream, int version,
			      int64_t ts_ms, const uint8_t uuid[16], bool gzip) FL_MUST_USE;

#endif
