/*
 * sqlscope.h - what sqlrewrite.c and sqlscope.c share (private to them):
 * the rewriter's state, the relations the analysis finds, the words of
 * the SELECT grammar, and the refusal of a token.
 */
#ifndef FL_SQLSCOPE_H
#define FL_SQLSCOPE_H

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "result.h"
#include "sqllex.h"
#include "sqlrewrite.h"

#define RW_MAX_SOURCES 1024      /* FROM items, WITH references included */
#define RW_MAX_CTES 256

/* Words written as they are: the SELECT grammar's keywords.  Any other
 * word that is not a function name is a column or relation name and goes
 * out quoted in lower case. */
static const char KEYWORDS[] =
	" all and any array as asc between both by case cross cube current"
	" current_date current_time current_timestamp current_user desc distinct"
	" else end escape except exists false fetch filter following for from"
	" full group grouping groups having in inner intersect is join lateral"
	" leading left like limit localtime localtimestamp natural not null nulls"
	" offset on only or order ordinality outer over partition preceding range"
	" recursive right rollup row rows select sets some tablesample then ties"
	" trailing true union unbounded unknown unnest using values when where"
	" window with within ";
/* Trino reserved words that have no place in a query. */
static const char REFUSED[] =
	" alter create deallocate delete describe drop execute insert into"
	" prepare returning table uescape ";
/* What the analysis notes in a token's role (sqllex.h leaves it 0); src
 * of an R_TABLE token is its source; gen of the ) of an unnamed subquery
 * is its made-up alias. */
enum role { R_NONE, R_TABLE, R_SKIP, R_ALIAS };

enum src_kind { S_TABLE, S_DERIVED };

/* A FROM item, visible over tokens [scope_s, scope_e). */
struct source {
	enum src_kind kind;
	const char *name;    /* what qualifies its columns: alias or table */
	bool aliased;
	const char *db, *tbl;                 /* S_TABLE */
	const struct fl_sql_column *cols;     /* S_TABLE */
	size_t ncols;
	int at, scope_s, scope_e;
	int inner_s, inner_e;  /* S_DERIVED: the tokens of its query */
};

struct cte {
	const char *name;
	int body_s, body_e, scope_s, scope_e;
};

struct rw {
	struct fl_sql_lex lx;   /* the tokens */
	struct fl_sql_tok *t;   /* lx.t; t[n] is a FL_SQL_TK_END sentinel */
	int n;
	struct source *src;
	int nsrc;
	struct cte ctes[RW_MAX_CTES];
	int ncte, ngen;
	const struct fl_sql_catalog *cat;
	const char *default_db;
	struct fl_sql_rewrite *out;
	struct fl_buf *b;
	enum fl_result berr; /* first failure of an append */
	struct fl_error *err;
};

/* ---- words ---- */

static inline bool word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	if (n == 0 || strchr(w, ' '))
		return false;
	for (const char *p = strstr(list, w); p; p = strstr(p + 1, w))
		if (p[-1] == ' ' && p[n] == ' ')
			return true;
	return false;
}

static inline bool prefix_in(const char *list, const char *w)
{
	for (const char *p = list + 1; *p; ) {
		const char *e = strchr(p, ' ');
		if (!e)
			break;
		if (e > p && strncmp(w, p, (size_t)(e - p)) == 0)
			return true;
		p = e + 1;
	}
	return false;
}

static inline bool is_op(const struct fl_sql_tok *k, const char *op)
{
	size_t n = strlen(op);
	return k->kind == FL_SQL_TK_OP && k->len == n && memcmp(k->text, op, n) == 0;
}

static inline bool is_word(const struct fl_sql_tok *k, const char *w)
{
	return k->kind == FL_SQL_TK_IDENT && strcmp(k->name, w) == 0;
}

static inline bool word_of(const struct fl_sql_tok *k, const char *list)
{
	return k->kind == FL_SQL_TK_IDENT && word_in(list, k->name);
}

static inline bool is_ident(const struct fl_sql_tok *k)
{
	return k->kind == FL_SQL_TK_IDENT || k->kind == FL_SQL_TK_QIDENT;
}

static inline bool is_kw(const struct fl_sql_tok *k)
{
	return word_of(k, KEYWORDS) || word_of(k, REFUSED);
}

/* An identifier that can name something (not a keyword). */
static inline bool is_name(const struct fl_sql_tok *k)
{
	return k->kind == FL_SQL_TK_QIDENT || (k->kind == FL_SQL_TK_IDENT && !is_kw(k));
}

static inline bool query_word(const struct fl_sql_tok *k)
{
	return word_of(k, " select with values ");
}

static inline void upper(const char *s, char *out, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[i] = '\0';
}

/* ---- errors ---- */

static inline enum fl_result fail_at(struct rw *w, const struct fl_sql_tok *k,
				     enum fl_result code, const char *fmt, ...) FL_PRINTF(4, 5);
static inline enum fl_result fail_at(struct rw *w, const struct fl_sql_tok *k,
				     enum fl_result code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum fl_result r = fl_sql_tok_verror(w->err, k, code, fmt, ap);
	va_end(ap);
	return r;
}

static inline enum fl_result refused(struct rw *w, const struct fl_sql_tok *k)
{
	char up[32];
	if (is_word(k, "into"))
		return fail_at(w, k, FL_INVALID, "SELECT ... INTO is not allowed");
	upper(k->name, up, sizeof up);
	return fail_at(w, k, FL_INVALID, "%s is not allowed: only SELECT, WITH ... SELECT and "
		       "VALUES queries are run", up);
}

/* ---- the analysis (sqlscope.c) ---- */

/* Finds the relations of tokens [a, b) (query: they are a query): WITH
 * names and FROM items become w->ctes and w->src, table names are looked
 * up in the catalog and marked R_TABLE. */
enum fl_result fl_sqlscope_scan(struct rw *w, int a, int b, bool query);

/* The token after the one at i, a bracketed group skipped whole. */
int fl_sqlscope_skip(const struct rw *w, int i);

/* A column of s; through a subquery or WITH query, a column of the same
 * name of a lake table inside it. */
const struct fl_sql_column *fl_sqlscope_src_col(const struct rw *w, const struct source *s,
						const char *name);

/* The innermost source visible at `at` that is named name (db/tbl given:
 * an unaliased table of that name); NULL when none. */
const struct source *fl_sqlscope_find_src(const struct rw *w, int at, const char *db,
					  const char *name);

/* An unqualified column: of the innermost visible source that has it. */
const struct fl_sql_column *fl_sqlscope_find_col(const struct rw *w, int at, const char *name);

/* FL_INVALID when identifier k names a system schema, table or column
 * (NAME_DENY*: pg_*, fl_*, information_schema, system columns). */
enum fl_result fl_sqlscope_check_name(struct rw *w, const struct fl_sql_tok *k);

#endif
