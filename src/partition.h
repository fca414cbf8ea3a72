/*
 * partition.h - dynamic partitioning keys from an event.
 *
 * A MetadataExtractionQuery is a jq 1.6 expression producing an object of
 * key -> scalar, e.g. `{event_type: .event_type, customer: .customer.id}`.
 * Queries that are an object of plain paths take a fast path over the
 * event's bytes (jscan) with no jq at all; anything else runs in libjq.
 * Values are strings, numbers or booleans, rendered as Firehose does
 * (strings without quotes, numbers as jq prints them).
 *
 * A compiled query is immutable and may be shared; fl_partition_eval
 * needs a per-thread struct fl_partition_state (libjq states are not
 * thread-safe).
 */
#ifndef FL_PARTITION_H
#define FL_PARTITION_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

struct fl_partition_query;
struct fl_partition_state;

/* Compiles a query; FL_INVALID with a message for a bad jq expression.
 * Caller owns *out. */
enum fl_result fl_partition_compile(const char *jq, struct fl_partition_query **out,
				    struct fl_error *err) FL_MUST_USE;
void fl_partition_query_free(struct fl_partition_query *q);
bool fl_partition_is_fast(const struct fl_partition_query *q);

struct fl_partition_state *fl_partition_state_new(void);
void fl_partition_state_free(struct fl_partition_state *s);

/* Evaluates q on one (validated) event and sets, for each name, the
 * rendered value appended to vals; offs/lens (count n) index into
 * vals->data.  FL_INVALID with *err when the query fails, a key is missing
 * or a value is not a scalar (Firehose's MetadataExtractionFailed). */
enum fl_result fl_partition_eval(const struct fl_partition_query *q,
				 struct fl_partition_state *s,
				 const char *event, size_t len,
				 const char *const *names, size_t n,
				 struct fl_buf *vals, size_t *offs, size_t *lens,
				 struct fl_error *err) FL_MUST_USE;

#endif
