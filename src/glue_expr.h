/*
 * glue_expr.h - Glue's partition filter expressions, compiled to SQL.
 *
 * GetPartitions' Expression is a SQL-like predicate over a table's
 * partition keys:
 *
 *   expr  := or
 *   or    := and { OR and }
 *   and   := not { AND not }
 *   not   := NOT not | '(' expr ')' | pred
 *   pred  := key cmp literal | literal cmp key
 *          | key [NOT] IN '(' literal { ',' literal } ')'
 *          | key [NOT] BETWEEN literal AND literal
 *          | key [NOT] LIKE string
 *          | key IS [NOT] NULL
 *   cmp   := '=' | '<>' | '!=' | '<' | '>' | '<=' | '>='
 *   key   := identifier ([A-Za-z_][A-Za-z0-9_]*, any case) | `quoted`
 *   literal := 'string' ('' is a quote) | number (-?digits[.digits])
 *
 * Keywords are case-insensitive.  A key must be one of the table's
 * partition keys (compared lower-cased).  Comparisons follow the key's
 * Glue type: string/char/varchar compare as text; tinyint, smallint, int,
 * bigint as bigint; float, double, decimal as numeric; date as date;
 * timestamp as timestamp.  LIKE has SQL's % and _.
 *
 * The output is a SQL boolean expression over the partition's values
 * array (`<values_sql>[i]`, 1-based): no identifier or literal from the
 * expression is ever written into the SQL; literals become parameters
 * $first_param, $first_param+1 ... (text, cast in SQL to the key's type).
 *
 * Errors (all FL_INVALID, an InvalidInputException, with a message that
 * says what and where): syntax, an unknown key, a literal of the wrong
 * kind for the key's type, an expression over FL_GLUE_EXPR_MAX_LEN bytes,
 * nesting deeper than FL_GLUE_EXPR_MAX_DEPTH, more than
 * FL_GLUE_EXPR_MAX_PARAMS literals.
 */
#ifndef FL_GLUE_EXPR_H
#define FL_GLUE_EXPR_H

#include <stddef.h>

#include "buf.h"
#include "result.h"

#define FL_GLUE_EXPR_MAX_LEN 2048      /* the model's PredicateString */
#define FL_GLUE_EXPR_MAX_DEPTH 64
#define FL_GLUE_EXPR_MAX_PARAMS 256

struct fl_glue_key {
	const char *name;   /* lower case */
	const char *type;   /* Glue type string: "string", "int" ... */
};

struct fl_glue_expr {
	struct fl_buf sql;                        /* the boolean SQL expression */
	char *params[FL_GLUE_EXPR_MAX_PARAMS];    /* owned, text values */
	int nparams;
};

/* Compiles expr over keys into out (initialised here; release with
 * fl_glue_expr_free, also after a failure).  values_sql is SQL text
 * written as given (the caller's own column reference, e.g. "p.vals"). */
enum fl_result fl_glue_expr_compile(const char *expr, const struct fl_glue_key *keys,
				    size_t nkeys, const char *values_sql, int first_param,
				    struct fl_glue_expr *out, struct fl_error *err) FL_MUST_USE;
void fl_glue_expr_free(struct fl_glue_expr *e);

/* GetTables' Expression: a regular expression over table names, with '*'
 * as a glob-like wildcard (".*" kept as is), matched from the start of the
 * name as Glue matches it.  Writes the POSIX ERE for PostgreSQL's `~`
 * (anchored with '^') to out.  FL_INVALID for an expression longer than
 * 2048 bytes or that regcomp(REG_EXTENDED) rejects. */
enum fl_result fl_glue_table_pattern(const char *expr, struct fl_buf *out,
				     struct fl_error *err) FL_MUST_USE;

#endif
