/*
 * stage_copy.h - lake objects as the rows of PostgreSQL's COPY text
 * format: the conversion half of the staged lake (stage.h).
 *
 * A converter is built for one leaf table: its columns in COPY order,
 * each with the PostgreSQL type it has (read from the catalog, so a value
 * is checked against the column it lands in) and where its value comes
 * from: a JSON key (NDJSON objects), a field position (CSV), or a
 * partition value.  Every value is checked in C before it is written, so
 * COPY never fails on data: a value that does not fit its column is \N.
 *
 * Row format (COPY ... FROM STDIN, text format):
 *
 *   value TAB value TAB ... value LF        \N for NULL
 *
 * with backslash, LF, CR and TAB in values written \\ \n \r \t.  Values:
 *   text       a JSON string unescaped (one holding U+0000 is \N), any
 *              other JSON value as its JSON text; a CSV field as it is
 *              (\N when it is not UTF-8)
 *   bigint, integer, smallint   an integer in range (JSON number or string)
 *   double precision, real      a decimal number in range (no NaN/Inf)
 *   numeric(p,s)                rounded half away from zero to s places,
 *                               \N when it needs more than p - s digits
 *                               before the point
 *   boolean    true/false (JSON literals, or strings in any case)
 *   timestamp  ISO 8601 text (2026-01-01T00:00:00Z, .123Z, +02:00 ...) or
 *              'yyyy-MM-dd HH:mm:ss[.f]' or a bare date; zones to UTC
 *   date       yyyy-MM-dd
 *   bytea      the bytes of a string
 *   jsonb      the raw JSON value (not U+0000, no number PostgreSQL's
 *              numeric cannot hold)
 *   T[]        a JSON array of scalars: {"e1","e2",NULL}, an element that
 *              does not fit T is NULL
 * JSON null, a missing key, and an empty CSV field (except for text) are
 * \N; a CSV field \N is \N.
 *
 * A line that is not a JSON object is skipped and counted as bad; so is a
 * line longer than FL_STAGE_LINE_MAX.  Objects are gzip (any number of
 * members, found by magic bytes) or plain.  A converter is used by one
 * thread at a time.
 */
#ifndef FL_STAGE_COPY_H
#define FL_STAGE_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

#define FL_STAGE_LINE_MAX (64u << 20)   /* one NDJSON line or CSV record */
#define FL_STAGE_CHUNK (1u << 20)       /* bytes handed to COPY at once */

enum fl_stage_kind {
	FL_STAGE_TEXT,
	FL_STAGE_BIGINT,
	FL_STAGE_INT,
	FL_STAGE_SMALLINT,
	FL_STAGE_DOUBLE,
	FL_STAGE_REAL,
	FL_STAGE_NUMERIC,
	FL_STAGE_BOOL,
	FL_STAGE_TIMESTAMP,
	FL_STAGE_DATE,
	FL_STAGE_BYTEA,
	FL_STAGE_JSONB,
	FL_STAGE_UNKNOWN,       /* a type staging does not write: always \N */
};

struct fl_stage_col {
	enum fl_stage_kind kind;
	bool array;             /* kind[] */
	int precision, scale;   /* numeric(p,s); precision 0: unconstrained */
	int part;               /* >= 0: the column holds vals[part] */
	int field;              /* CSV: 0-based field, -1: none */
	const char *key;        /* JSON: key matched case-insensitively, NULL: none */
	/* jsonb of a struct: object keys are written as their Glue column
	 * names (fl_schema_column_name: lower case, [a-z0-9_]), the names
	 * the table's struct type and so the rewritten SQL use. */
	bool fold_keys;
};

/* Reads a type as PostgreSQL's format_type() prints it ("bigint",
 * "numeric(10,2)", "timestamp without time zone[]" ...) into kind, array,
 * precision and scale of col (the other fields are left alone).  Unknown
 * types are FL_STAGE_UNKNOWN; false only for a malformed numeric(p,s). */
bool fl_stage_col_type(const char *pg_type, struct fl_stage_col *col);

enum fl_stage_format { FL_STAGE_JSON, FL_STAGE_CSV };

struct fl_stage_layout {
	enum fl_stage_format format;
	char delim;             /* CSV field separator */
	unsigned skip_lines;    /* CSV header records of each object */
	const struct fl_stage_col *cols;  /* in COPY order */
	size_t ncols;
	const char *const *vals;          /* the partition's values */
	size_t nvals;
};

struct fl_stage_copy;

/* Builds a converter (copies what it needs of l).  Caller owns *out. */
enum fl_result fl_stage_copy_new(const struct fl_stage_layout *l, struct fl_stage_copy **out,
				 struct fl_error *err) FL_MUST_USE;
void fl_stage_copy_free(struct fl_stage_copy *c);

/* Converts one object (gzip or plain, borrowed) and hands its rows to
 * emit in chunks of whole rows, each about FL_STAGE_CHUNK bytes; an emit
 * failure stops the conversion and is returned.  *rows and *bad get the
 * rows written and the lines skipped.  A gzip stream that breaks off
 * ends the object (what came before it is kept; counted as one bad line). */
enum fl_result fl_stage_copy_object(struct fl_stage_copy *c, const void *data, size_t len,
				    enum fl_result (*emit)(void *arg, const char *rows, size_t n,
							   struct fl_error *err),
				    void *arg, uint64_t *rows, uint64_t *bad,
				    struct fl_error *err) FL_MUST_USE;

/* Converts plain text (whole lines or records) and appends the rows to
 * out (for tests and benchmarks). */
enum fl_result fl_stage_copy_text(struct fl_stage_copy *c, const char *text, size_t len,
				  struct fl_buf *out, uint64_t *rows, uint64_t *bad,
				  struct fl_error *err) FL_MUST_USE;

#endif
