/*
 * gluetype.h - Glue type strings read as they are written, and the
 * PostgreSQL types of Glue and Trino type names.
 *
 * A Glue type string is read in place, as spans of the string, without
 * building a tree: the rewriter asks for the kind of a type, the fields
 * of a struct, the key and value of a map, the element of an array.
 *   struct<name:type,...>   (a name may be `quoted`)
 *   array<type>   map<key,value>
 *   a scalar: string, char(n), varchar(n), bigint, int, integer,
 *   smallint, tinyint, double, float, boolean, date, timestamp,
 *   decimal[(p[,s])], binary
 * Keywords are read in any case; blanks around the parts are allowed.
 * fl_sql_pg_type (declared in sqlrewrite.h, defined in gluetype.c) maps a
 * whole Glue type string by the table of sqlrewrite.h.
 *
 * Pure, no I/O, no allocation.
 */
#ifndef FL_GLUETYPE_H
#define FL_GLUETYPE_H

#include <stdbool.h>
#include <stddef.h>

#define FL_GLUETYPE_MAX_DEPTH 64     /* nesting of a Glue type string */

/* A piece of a type string (not NUL-terminated; borrowed). */
struct fl_gluetype_span {
	const char *p;
	size_t n;
};

enum fl_gluetype_kind {
	FL_GLUETYPE_BAD, FL_GLUETYPE_SCALAR, FL_GLUETYPE_STRUCT, FL_GLUETYPE_ARRAY,
	FL_GLUETYPE_MAP,
};

/* The kind of type s; for struct, array and map, *in gets what is between
 * its < > (untouched otherwise).  Only the outer form is checked. */
enum fl_gluetype_kind fl_gluetype_kind_of(struct fl_gluetype_span s,
					  struct fl_gluetype_span *in);

/* Splits s at its first c outside <>, () and `quotes`: *a before, *b
 * after; false when there is none. */
bool fl_gluetype_split(struct fl_gluetype_span s, char c, struct fl_gluetype_span *a,
		       struct fl_gluetype_span *b);

/* The field named want (ignoring ASCII case) among the fields in (the
 * inside of a struct<>): its name as written and its type. */
bool fl_gluetype_field(struct fl_gluetype_span in, const char *want,
		       struct fl_gluetype_span *name, struct fl_gluetype_span *type);

/*
 * The PostgreSQL type of a scalar type name ty (lower case, single blanks
 * only between words: "double precision"), written to out (n bytes);
 * false for a name it does not know or an out too small.  trino selects
 * Trino's names (CAST targets: varchar(n), real, varbinary, json, time,
 * uuid, timestamp(p) [with time zone], numeric, decimal with Trino's
 * default precision 38, array(scalar)) over Glue's (binary, decimal
 * defaulting to (10,0)).  *try gets the fl_try_cast_<t> suffix of the
 * type (NULL: TRY_CAST to it is not supported); *param says whether the
 * result of fl_try_cast_<t> needs a cast of its own to carry the type's
 * parameters (numeric(p,s), timestamp(p)).
 */
bool fl_gluetype_scalar(const char *ty, bool trino, char *out, size_t n, const char **try,
			bool *param);

/* The PostgreSQL type of the Glue scalar type s (any case, blanks
 * anywhere), as fl_gluetype_scalar with Glue's names. */
bool fl_gluetype_scalar_span(struct fl_gluetype_span s, char *out, size_t n);

#endif
