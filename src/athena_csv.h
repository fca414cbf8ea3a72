/*
 * athena_csv.h - query results as Athena writes them to the output
 * location, and as GetQueryResults reads them back.
 *
 * <id>.csv (a SELECT; RFC 4180 as Athena writes it):
 *
 *     "event_type","n"\n            header: the column names, quoted
 *     "login","650"\n               every value quoted, " doubled
 *     "say ""hi""",,""\n            NULL: an empty unquoted field;
 *                                   the empty string: ""
 *
 * <id>.txt (DDL and utility statements): one line per row, the columns
 * separated by tabs, no header, no quoting (no value holds a newline,
 * and only the last column may hold tabs, as MSCK REPAIR TABLE's answer
 * does: a reader splits at most ncols - 1 times).  <id>.csv.metadata / <id>.txt.metadata: {"ColumnInfo": [...]}
 * (Athena's own is binary; nothing reads it but people).
 *
 * Values are written from PostgreSQL's text output (the query runs with
 * TimeZone UTC, DateStyle ISO, extra_float_digits 1) in Athena's
 * (Trino's) forms:
 *   boolean                 t / f           -> true / false
 *   double, real            shortest digits -> Java's Double.toString:
 *                           plain for 1e-3 <= |x| < 1e7 with at least one
 *                           fractional digit (2.5, 100.0), else
 *                           d.dddE<n> (1.0E10, 1.0E-5); NaN, Infinity
 *   timestamp               YYYY-MM-DD HH:MM:SS.mmm (3 digits, always)
 *   timestamptz             the same + " UTC";  time  HH:MM:SS.mmm
 *   arrays                  {a,"b c",NULL}  -> [a, b c, null]
 *   json, jsonb             compact (no blanks outside strings)
 *   bytea                   \x0a0b          -> 0a 0b
 *   numeric without typmod  (sum() of integers): as it is while integral
 *                           (the column is then bigint), else as a
 *                           double (the column is then double)
 *   anything else           as PostgreSQL writes it
 */
#ifndef FL_ATHENA_CSV_H
#define FL_ATHENA_CSV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

enum fl_athena_csv_kind {
	FL_CSV_TEXT, FL_CSV_BOOL, FL_CSV_FLOAT, FL_CSV_TS, FL_CSV_TSTZ, FL_CSV_TIME,
	FL_CSV_JSON, FL_CSV_BYTEA, FL_CSV_ARRAY,
};

/* A result column: its Athena type and how its values are written. */
struct fl_athena_csv_col {
	const char *type;                /* ColumnInfo Type ("varchar") */
	enum fl_athena_csv_kind kind, elem;   /* elem: of an array's elements */
	int precision, scale;
	bool free_numeric;               /* numeric without a typmod */
	bool fractional;                 /* free_numeric: a fraction was seen */
};

/* The column of a PostgreSQL result field (PQftype, PQfmod). */
void fl_athena_csv_col_init(struct fl_athena_csv_col *c, unsigned oid, int typmod);

/* Appends value v (len bytes of PostgreSQL text) as Athena prints it,
 * unquoted, to out; tmp is scratch.  FL_TOO_LARGE past out's maximum. */
enum fl_result fl_athena_csv_value(struct fl_athena_csv_col *c, const char *v, size_t len,
				   struct fl_buf *out, struct fl_buf *tmp) FL_MUST_USE;

/* Appends s as one quoted CSV field. */
enum fl_result fl_athena_csv_field(struct fl_buf *out, const char *s, size_t n) FL_MUST_USE;

/* ColumnInfo {CatalogName "hive", Name, Label, Type, Precision, Scale,
 * Nullable, CaseSensitive} of a column after its values were written
 * (a free numeric's type depends on them).  Caller owns; NULL on ENOMEM. */
json_t *fl_athena_csv_column_info(const char *name, const struct fl_athena_csv_col *c);

/* Reads the record at *p (a .csv line, or a .txt line split on tabs into
 * at most ncols fields, ncols 0: every tab) as GetQueryResults' Row
 * {"Data": [{"VarCharValue": ...} | {} for NULL]} and moves *p past it.
 * Caller owns; NULL on ENOMEM. */
json_t *fl_athena_csv_row(const char **p, const char *end, bool txt, size_t ncols,
			  struct fl_buf *tmp);

#endif
