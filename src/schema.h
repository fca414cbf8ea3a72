/*
 * schema.h - table schemas inferred from events: Glue types, merging, and
 * a fast observer of NDJSON lines.
 *
 * A schema is an ordered list of columns, each a type tree:
 *   boolean | bigint | double | string | timestamp
 *   | struct<name:type,...> | array<type>
 * written as Glue writes type strings ("struct<a:bigint,b:array<string>>").
 *
 * Inference rules (as a Glue crawler, with firelake's fixed order):
 *   - JSON true/false -> boolean; an integer that fits int64 -> bigint; any
 *     other number -> double; a string -> string, except the top-level
 *     field created_datetime -> timestamp; an object -> struct of its
 *     fields; an array -> array of the merge of its elements (array<string>
 *     when empty and never seen otherwise); null -> nothing learnt (a
 *     column seen only as null is string).
 *   - Merging: equal types stay; bigint + double -> double; struct +
 *     struct -> struct with the union of fields (merged recursively, first
 *     seen order); array + array -> array of the merged elements;
 *     timestamp + string -> string; any other pair -> string.
 *   - Column names: JSON keys lower-cased (Glue's rule), every byte outside
 *     [a-z0-9_] replaced by '_'; a key that gives an empty name or a name
 *     over 255 bytes is ignored; two keys giving the same name are one
 *     column (merged).  When a name differs from its key, the key is kept
 *     so the table can map it (SerDe parameter "mapping.<name>" = key).
 *   - Order: the enriched common fields first, in this order when present:
 *     event_uuid, event_name, event_type, event_subtype, created_at,
 *     created_datetime; then the others in order of first sight.  A
 *     positional schema (for tables read by position: CSV) keeps every
 *     column in order of first sight, common fields included.
 *
 * Limits: at most FL_SCHEMA_MAX_COLUMNS top-level columns, nesting depth
 * FL_SCHEMA_MAX_DEPTH, type strings of FL_SCHEMA_MAX_TYPE_LEN bytes (Glue's
 * Column.Type max, 131072).  Past a limit, what does not fit is typed
 * string (deeper nesting) or ignored (more columns) - never a failure of
 * the delivery that observes it.
 *
 * Everything here is pure and single-threaded per object; no I/O.
 */
#ifndef FL_SCHEMA_H
#define FL_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define FL_SCHEMA_MAX_COLUMNS 1000
#define FL_SCHEMA_MAX_DEPTH 32
#define FL_SCHEMA_MAX_TYPE_LEN 131072
#define FL_SCHEMA_NAME_MAX 255

struct fl_schema;

struct fl_schema *fl_schema_new(void);          /* NULL on ENOMEM */
void fl_schema_free(struct fl_schema *s);       /* NULL is fine */
/* A positional schema: observing and merging into it append the columns
 * it lacks in first-seen order (a merge: in the order of its source),
 * never moving the common fields ahead.  new_positional: NULL on ENOMEM;
 * set_positional makes s (e.g. from fl_schema_from_columns) positional
 * from now on (NULL is fine). */
struct fl_schema *fl_schema_new_positional(void);
void fl_schema_set_positional(struct fl_schema *s);
size_t fl_schema_count(const struct fl_schema *s);

/* Column i (in the fixed order above): name, Glue type string (borrowed,
 * valid until s changes), and the JSON key it came from (borrowed; equal
 * to name when the key needed no mapping). */
const char *fl_schema_name(const struct fl_schema *s, size_t i);
const char *fl_schema_type(const struct fl_schema *s, size_t i);
const char *fl_schema_key(const struct fl_schema *s, size_t i);

/* Observes one JSON object (one event).  FL_INVALID when text is not a
 * JSON object; s is unchanged then. */
enum fl_result fl_schema_observe_json(struct fl_schema *s, const char *text, size_t len)
	FL_MUST_USE;
/* Observes one CSV cell of column name: "" learns nothing; an optional
 * '-' and digits that fit int64 -> bigint; a decimal or exponent number
 * -> double; true/false (any case) -> boolean; anything else -> string. */
enum fl_result fl_schema_observe_text(struct fl_schema *s, const char *name,
				      const char *text, size_t len) FL_MUST_USE;

/* Merges from into into (columns of from that into lacks are added at
 * their place in the order; appended when into is positional or from
 * fl_schema_from_columns).  *changed (may be NULL) says whether into
 * changed. */
enum fl_result fl_schema_merge(struct fl_schema *into, const struct fl_schema *from,
			       bool *changed) FL_MUST_USE;

/* Glue Columns array [{"Name":..., "Type":...}] -> schema, and back.
 * from_columns: FL_INVALID for a type string it cannot parse (message
 * names the column); the order of columns is kept as given, not
 * re-sorted.  to_columns: the columns except those named in skip (the
 * partition keys); caller owns the result (NULL on ENOMEM). */
enum fl_result fl_schema_from_columns(const json_t *columns, struct fl_schema **out,
				      struct fl_error *err) FL_MUST_USE;
json_t *fl_schema_to_columns(const struct fl_schema *s, const char *const *skip,
			     size_t nskip);

/* Parses a Glue type string; true when it is one this module writes or
 * reads (the above plus int, smallint, tinyint, float, decimal(p,s),
 * char(n), varchar(n), date, binary, map<k,v>, which are kept as given). */
bool fl_schema_type_valid(const char *type);

/* Column name for a JSON key or CSV header cell (rules above); false
 * when the key gives no valid name.  out has FL_SCHEMA_NAME_MAX + 1 bytes. */
bool fl_schema_column_name(const char *key, size_t len, char out[FL_SCHEMA_NAME_MAX + 1]);

/*
 * The observer: feeds the lines of an object (NDJSON) into a schema fast.
 * Each line gets one scan that hashes its shape (keys and value kinds,
 * recursively) and reads a top-level numeric "created_at"; only a line of
 * a shape not seen yet in this observer is parsed and merged.  Lines that
 * are not JSON objects are counted as bad and skipped.  After
 * FL_INFER_MAX_SHAPES distinct shapes, new shapes are still merged but
 * no longer remembered.
 */
#define FL_INFER_MAX_SHAPES 4096

struct fl_infer_stats {
	uint64_t records;        /* lines that are JSON objects */
	uint64_t bad;            /* non-empty lines that are not */
	int64_t min_created_ms;  /* of top-level numeric created_at (seconds); */
	int64_t max_created_ms;  /* INT64_MAX / INT64_MIN when none was seen */
};

struct fl_infer;

struct fl_infer *fl_infer_new(void);            /* NULL on ENOMEM */
void fl_infer_free(struct fl_infer *inf);
/* Observes newline-separated lines (a last line without '\n' counts).
 * FL_INTERNAL only on ENOMEM. */
enum fl_result fl_infer_lines(struct fl_infer *inf, const char *data, size_t len)
	FL_MUST_USE;
/* The schema learnt so far (borrowed). */
const struct fl_schema *fl_infer_schema(const struct fl_infer *inf);
/* Counters since the last reset (records, bad, created_at range). */
void fl_infer_stats(const struct fl_infer *inf, struct fl_infer_stats *out);
void fl_infer_reset_stats(struct fl_infer *inf);

#endif
