/*
 * sqlscope.c - the rewriter's analysis: the relations of a query and the
 * scopes they are visible in, and the resolution of names against them
 * (see sqlscope.h, sqlrewrite.c).
 *
 * DESIGN
 * One walk over the paired tokens finds the relations: WITH names with
 * their scope, and every FROM/JOIN item.  A table name is resolved
 * against the catalog (a name that is neither a Glue table nor a visible
 * WITH name is refused; names of system schemas, tables and columns,
 * NAME_DENY*, are refused everywhere) and each item becomes a "source"
 * visible over its query block, tokens [scope_s, scope_e).  The emission
 * (sqlrewrite.c) then asks which source a qualified name means, or which
 * innermost visible source has an unqualified column; through a subquery
 * or WITH query a column is found in the lake tables inside it.
 */
#include "sqlscope.h"

#include <stdio.h>
#include <stdlib.h>

static const char SETOPS[] = " union intersect except ";

/* Names a query may not use unless they are columns of a lake table. */
static const char NAME_DENY_PREFIX[] = " pg_ fl_ ";
static const char NAME_DENY[] = " information_schema ctid xmin xmax cmin cmax tableoid ";

static enum fl_result check_name_of(struct rw *w, const struct fl_sql_tok *k, const char *name)
{
	if (prefix_in(NAME_DENY_PREFIX, name) || word_in(NAME_DENY, name))
		return fail_at(w, k, FL_INVALID, "Name '%s' is not allowed: system schemas, tables, "
			       "columns and functions (pg_*, fl_*, information_schema) cannot be "
			       "named in a query", name);
	return FL_OK;
}

enum fl_result fl_sqlscope_check_name(struct rw *w, const struct fl_sql_tok *k)
{
	return is_ident(k) ? check_name_of(w, k, k->name) : FL_OK;
}

/* ---- the analysis: relations and their scopes ---- */

static enum fl_result relations(struct rw *w, int i, int b, int bs, int be, int *next);

int fl_sqlscope_skip(const struct rw *w, int i)
{
	const struct fl_sql_tok *k = &w->t[i];
	return is_op(k, "(") || is_op(k, "[") ? k->match + 1 : i + 1;
}

/* Whether the group opened at i holds a query rather than arguments. */
static bool group_is_query(const struct rw *w, int i)
{
	const struct fl_sql_tok *f = &w->t[i + 1];
	return query_word(f) || (is_op(f, "(") && !(i > 0 && is_name(&w->t[i - 1])));
}

static enum fl_result add_source(struct rw *w, const struct fl_sql_tok *k, int at, int bs, int be,
				 int *si)
{
	if (w->nsrc == RW_MAX_SOURCES)
		return fail_at(w, k, FL_INVALID, "Query has more than %d relations", RW_MAX_SOURCES);
	struct source *s = &w->src[w->nsrc];
	memset(s, 0, sizeof *s);
	s->name = "";
	s->at = at;
	s->scope_s = bs;
	s->scope_e = be;
	*si = w->nsrc++;
	return FL_OK;
}

static const struct cte *find_cte(const struct rw *w, const char *name, int at)
{
	const struct cte *best = NULL;
	for (int i = 0; i < w->ncte; i++) {
		const struct cte *c = &w->ctes[i];
		if (c->scope_s <= at && at < c->scope_e && strcmp(c->name, name) == 0 &&
		    (!best || c->scope_s > best->scope_s))
			best = c;
	}
	return best;
}

static enum fl_result record_table(struct rw *w, const struct fl_sql_tok *k, const char *db,
				   const char *tbl)
{
	struct fl_sql_rewrite *o = w->out;
	for (size_t i = 0; i < o->ntables; i++)
		if (strcmp(o->tables[i].db, db) == 0 && strcmp(o->tables[i].tbl, tbl) == 0)
			return FL_OK;
	if (o->ntables == FL_SQL_MAX_TABLES)
		return fail_at(w, k, FL_INVALID, "Query references more than %d tables",
			       FL_SQL_MAX_TABLES);
	snprintf(o->tables[o->ntables].db, sizeof o->tables[0].db, "%s", db);
	snprintf(o->tables[o->ntables].tbl, sizeof o->tables[0].tbl, "%s", tbl);
	o->ntables++;
	return FL_OK;
}

/* ( a, b, ... ): column names of an alias or a WITH query. */
static enum fl_result name_list(struct rw *w, int o)
{
	int m = w->t[o].match;
	enum fl_result r;
	if (m == o + 1 || (m - o) % 2)
		return fail_at(w, &w->t[m], FL_INVALID, "Expected a column name");
	for (int j = o + 1; j < m; j++) {
		struct fl_sql_tok *k = &w->t[j];
		if ((j - o) % 2 == 0) {
			if (!is_op(k, ","))
				return fail_at(w, k, FL_INVALID, "Expected ','");
			continue;
		}
		if (!is_name(k))
			return fail_at(w, k, FL_INVALID, "Expected a column name");
		if ((r = fl_sqlscope_check_name(w, k)) != FL_OK)
			return r;
		k->role = R_ALIAS;
	}
	return FL_OK;
}

/* [AS] alias [( columns )] after a FROM item. */
static enum fl_result alias(struct rw *w, int *ip, int b, int si)
{
	struct fl_sql_tok *t = w->t;
	int i = *ip;
	enum fl_result r;
	bool as = i < b && is_word(&t[i], "as");
	if (as)
		i++;
	if (i < b && is_name(&t[i])) {
		if ((r = fl_sqlscope_check_name(w, &t[i])) != FL_OK)
			return r;
		t[i].role = R_ALIAS;
		w->src[si].name = t[i].name;
		w->src[si].aliased = true;
		if (++i < b && is_op(&t[i], "(")) {
			if ((r = name_list(w, i)) != FL_OK)
				return r;
			i = t[i].match + 1;
		}
	} else if (as) {
		return fail_at(w, &t[i], FL_INVALID, "Missing alias after AS");
	}
	*ip = i;
	return FL_OK;
}

/* [catalog.][db.]tbl of a FROM item: a lake table or a WITH name. */
static enum fl_result table_name(struct rw *w, int i, int b, int bs, int be, int *si, int *next)
{
	struct fl_sql_tok *t = w->t;
	int p[3], np = 0, j = i;
	enum fl_result r;
	for (;;) {
		p[np++] = j;
		if (!(j + 2 < b && is_op(&t[j + 1], ".") && is_ident(&t[j + 2])))
			break;
		if (np == 3)
			return fail_at(w, &t[i], FL_INVALID, "Table name has too many parts");
		j += 2;
	}
	if (++j < b && is_op(&t[j], "("))
		return fail_at(w, &t[i], FL_INVALID, "Table functions are not supported: %s",
			       t[i].name);
	for (int x = 0; x < np; x++)
		if ((r = fl_sqlscope_check_name(w, &t[p[x]])) != FL_OK)
			return r;
	if (np == 1 && (r = check_name_of(w, &t[i], w->default_db)) != FL_OK)
		return r;
	const char *tbl = t[p[np - 1]].name, *db = np > 1 ? t[p[np - 2]].name : w->default_db;
	if (np == 3 && strcmp(t[p[0]].name, "awsdatacatalog") != 0)
		return fl_error_set(w->err, FL_NOT_FOUND, "Catalog %s does not exist", t[p[0]].name);
	if ((r = add_source(w, &t[i], i, bs, be, si)) != FL_OK)
		return r;
	struct source *s = &w->src[*si];
	const struct cte *c = np == 1 ? find_cte(w, tbl, i) : NULL;
	s->name = tbl;
	*next = j;
	if (c) {
		s->kind = S_DERIVED;
		s->inner_s = c->body_s;
		s->inner_e = c->body_e;
		t[i].role = R_ALIAS;
		return FL_OK;
	}
	if (strlen(db) > 255 || strlen(tbl) > 255 ||
	    !w->cat->table(w->cat->arg, db, tbl, &s->cols, &s->ncols))
		return fl_error_set(w->err, FL_NOT_FOUND, "Table %s.%s does not exist", db, tbl);
	s->kind = S_TABLE;
	s->db = db;
	s->tbl = tbl;
	t[i].role = R_TABLE;
	t[i].src = *si;
	for (int x = i + 1; x < j; x++)
		t[x].role = R_SKIP;
	return record_table(w, &t[i], db, tbl);
}

/* One FROM item: a table, ( query ), LATERAL ( query ), UNNEST ( ... ),
 * ( relations ); then its alias and TABLESAMPLE. */
static enum fl_result item(struct rw *w, int *ip, int b, int bs, int be)
{
	struct fl_sql_tok *t = w->t, *k = &t[*ip];
	int i = *ip, si = -1;
	enum fl_result r;
	if (i >= b)
		return fail_at(w, k, FL_INVALID, "Missing relation after FROM or JOIN");
	if (is_op(k, "(") || is_word(k, "lateral")) {
		int o = is_op(k, "(") ? i : i + 1, f = o + 1;
		if (o >= b || !is_op(&t[o], "("))
			return fail_at(w, k, FL_INVALID, "LATERAL must be followed by a subquery");
		int m = t[o].match;
		while (f < m && is_op(&t[f], "("))
			f++;
		if (!query_word(&t[f])) {
			int e;
			if (o != i)
				return fail_at(w, k, FL_INVALID, "LATERAL must be followed by a subquery");
			if ((r = relations(w, o + 1, m, bs, be, &e)) != FL_OK)
				return r;
			if (e != m)
				return fail_at(w, &t[e], FL_INVALID, "Unexpected '%.*s' in a FROM item",
					       (int)t[e].len, t[e].text);
			*ip = m + 1;
			return FL_OK;
		}
		if ((r = fl_sqlscope_scan(w, o + 1, m, true)) != FL_OK ||
		    (r = add_source(w, k, i, bs, be, &si)) != FL_OK)
			return r;
		w->src[si].kind = S_DERIVED;
		w->src[si].inner_s = o + 1;
		w->src[si].inner_e = m;
		i = m + 1;
		if ((r = alias(w, &i, b, si)) != FL_OK)
			return r;
		if (!w->src[si].aliased)
			t[m].gen = ++w->ngen;
	} else if (is_word(k, "unnest")) {
		if (i + 1 >= b || !is_op(&t[i + 1], "("))
			return fail_at(w, k, FL_INVALID, "UNNEST must be followed by (");
		int m = t[i + 1].match;
		if ((r = fl_sqlscope_scan(w, i + 2, m, false)) != FL_OK ||
		    (r = add_source(w, k, i, bs, be, &si)) != FL_OK)
			return r;
		w->src[si].kind = S_DERIVED;
		i = m + 1;
		if (i + 1 < b && is_word(&t[i], "with") && is_word(&t[i + 1], "ordinality"))
			i += 2;
		if ((r = alias(w, &i, b, si)) != FL_OK)
			return r;
	} else if (is_name(k)) {
		if ((r = table_name(w, i, b, bs, be, &si, &i)) != FL_OK ||
		    (r = alias(w, &i, b, si)) != FL_OK)
			return r;
	} else {
		if (word_of(k, REFUSED))
			return refused(w, k);
		return fail_at(w, k, FL_INVALID, "Unsupported FROM item '%.*s'", (int)k->len, k->text);
	}
	if (i < b && is_word(&t[i], "tablesample")) {
		if (!(i + 2 < b && word_of(&t[i + 1], " bernoulli system ") && is_op(&t[i + 2], "(")))
			return fail_at(w, &t[i], FL_INVALID, "TABLESAMPLE needs BERNOULLI or SYSTEM "
				       "and a percentage");
		if ((r = fl_sqlscope_scan(w, i + 3, t[i + 2].match, false)) != FL_OK)
			return r;
		i = t[i + 2].match + 1;
	}
	*ip = i;
	return FL_OK;
}

/* The index after [NATURAL] [INNER | CROSS | LEFT|RIGHT|FULL [OUTER]] JOIN
 * at i, or -1. */
static int join_at(const struct rw *w, int i, int b)
{
	const struct fl_sql_tok *t = w->t;
	if (i < b && is_word(&t[i], "natural"))
		i++;
	if (i < b && word_of(&t[i], " cross inner ")) {
		i++;
	} else if (i < b && word_of(&t[i], " left right full ")) {
		if (++i < b && is_word(&t[i], "outer"))
			i++;
	}
	return i < b && is_word(&t[i], "join") ? i + 1 : -1;
}

/* The ON expression from i: scans the subqueries in it; returns its end. */
static enum fl_result on_expr(struct rw *w, int *ip, int b)
{
	int i = *ip;
	enum fl_result r;
	while (i < b && !is_op(&w->t[i], ",") && join_at(w, i, b) < 0 &&
	       !word_of(&w->t[i], " where group having order limit offset fetch union intersect"
			" except window for ")) {
		struct fl_sql_tok *k = &w->t[i];
		if (is_op(k, "(") || is_op(k, "[")) {
			if ((r = fl_sqlscope_scan(w, i + 1, k->match, is_op(k, "(")
						  && group_is_query(w, i))) != FL_OK)
				return r;
		}
		i = fl_sqlscope_skip(w, i);
	}
	*ip = i;
	return FL_OK;
}

static enum fl_result relations(struct rw *w, int i, int b, int bs, int be, int *next)
{
	enum fl_result r;
	for (;;) {
		if ((r = item(w, &i, b, bs, be)) != FL_OK)
			return r;
		for (int j; (j = join_at(w, i, b)) >= 0; ) {
			i = j;
			if ((r = item(w, &i, b, bs, be)) != FL_OK)
				return r;
			if (i < b && is_word(&w->t[i], "on")) {
				i++;
				if ((r = on_expr(w, &i, b)) != FL_OK)
					return r;
			} else if (i < b && is_word(&w->t[i], "using")) {
				if (i + 1 >= b || !is_op(&w->t[i + 1], "("))
					return fail_at(w, &w->t[i], FL_INVALID, "USING needs ( columns )");
				i = w->t[i + 1].match + 1;
			}
		}
		if (i < b && is_op(&w->t[i], ",")) {
			i++;
			continue;
		}
		*next = i;
		return FL_OK;
	}
}

/* WITH [RECURSIVE] name [(cols)] AS ( query ) [, ...] at a. */
static enum fl_result with_clause(struct rw *w, int a, int b, int *next)
{
	struct fl_sql_tok *t = w->t;
	int i = a + 1;
	bool rec = i < b && is_word(&t[i], "recursive");
	enum fl_result r;
	char up[32];
	if (rec)
		i++;
	for (;;) {
		if (i >= b || !is_name(&t[i]))
			return fail_at(w, &t[i], FL_INVALID, "Missing name of a WITH query");
		if ((r = fl_sqlscope_check_name(w, &t[i])) != FL_OK)
			return r;
		t[i].role = R_ALIAS;
		const char *name = t[i].name;
		if (++i < b && is_op(&t[i], "(")) {
			if ((r = name_list(w, i)) != FL_OK)
				return r;
			i = t[i].match + 1;
		}
		if (!(i + 1 < b && is_word(&t[i], "as") && is_op(&t[i + 1], "(")))
			return fail_at(w, &t[i], FL_INVALID, "Expected AS ( query ) in WITH");
		int o = i + 1, m = t[o].match, f = o + 1;
		while (f < m && is_op(&t[f], "("))
			f++;
		if (!query_word(&t[f])) {
			if (t[f].kind != FL_SQL_TK_IDENT)
				return fail_at(w, &t[f], FL_INVALID, "A WITH query must be a SELECT");
			upper(t[f].name, up, sizeof up);
			return fail_at(w, &t[f], FL_INVALID, "%s is not allowed in WITH: only SELECT, "
				       "WITH ... SELECT and VALUES queries are run", up);
		}
		if (w->ncte == RW_MAX_CTES)
			return fail_at(w, &t[a], FL_INVALID, "Too many WITH queries");
		w->ctes[w->ncte++] = (struct cte){ name, o + 1, m, rec ? o : m + 1, b };
		if ((r = fl_sqlscope_scan(w, o + 1, m, true)) != FL_OK)
			return r;
		i = m + 1;
		if (i < b && is_op(&t[i], ",")) {
			i++;
			continue;
		}
		break;
	}
	int f = i;
	while (f < b && is_op(&t[f], "("))
		f++;
	if (f >= b || !word_of(&t[f], " select values ")) {
		if (f >= b || t[f].kind != FL_SQL_TK_IDENT)
			return fail_at(w, &t[f], FL_INVALID, "WITH must be followed by a SELECT");
		upper(t[f].name, up, sizeof up);
		return fail_at(w, &t[f], FL_INVALID, "%s is not allowed after WITH: only SELECT, "
			       "WITH ... SELECT and VALUES queries are run", up);
	}
	*next = i;
	return FL_OK;
}

/* Scans tokens [a, b) for WITH and FROM clauses; query says whether the
 * range is a query (its FROMs are FROM clauses, not EXTRACT's). */
enum fl_result fl_sqlscope_scan(struct rw *w, int a, int b, bool query)
{
	int i = a, bs = a;
	enum fl_result r;
	if (query && a < b && is_word(&w->t[a], "with") && (r = with_clause(w, a, b, &i)) != FL_OK)
		return r;
	while (i < b) {
		const struct fl_sql_tok *k = &w->t[i];
		if (is_op(k, "(") || is_op(k, "[")) {
			if ((r = fl_sqlscope_scan(w, i + 1, k->match, is_op(k, "(")
						  && group_is_query(w, i))) != FL_OK)
				return r;
			i = k->match + 1;
		} else if (query && word_of(k, SETOPS)) {
			bs = ++i;
		} else if (query && is_word(k, "from") && !(i > a && is_word(&w->t[i - 1], "distinct"))) {
			int be = i;
			while (be < b && !word_of(&w->t[be], SETOPS))
				be = fl_sqlscope_skip(w, be);
			if ((r = relations(w, i + 1, b, bs, be, &i)) != FL_OK)
				return r;
		} else {
			i++;
		}
	}
	return FL_OK;
}

/* ---- name resolution ---- */

static bool visible(const struct source *s, int at)
{
	return s->scope_s <= at && at < s->scope_e;
}

static const struct fl_sql_column *tbl_col(const struct source *s, const char *name)
{
	for (size_t i = 0; i < s->ncols; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return &s->cols[i];
	return NULL;
}

/* A column of s; through a subquery or WITH query, a column of the same
 * name of a lake table inside it. */
const struct fl_sql_column *fl_sqlscope_src_col(const struct rw *w, const struct source *s,
						const char *name)
{
	const struct fl_sql_column *c;
	if (s->kind == S_TABLE)
		return tbl_col(s, name);
	for (int i = 0; i < w->nsrc; i++) {
		const struct source *x = &w->src[i];
		if (x->kind == S_TABLE && x->at >= s->inner_s && x->at < s->inner_e &&
		    (c = tbl_col(x, name)))
			return c;
	}
	return NULL;
}

/* The innermost source visible at `at` that is named name (db/tbl given:
 * an unaliased table of that name); NULL when none. */
const struct source *fl_sqlscope_find_src(const struct rw *w, int at, const char *db,
					  const char *name)
{
	const struct source *best = NULL;
	for (int i = 0; i < w->nsrc; i++) {
		const struct source *s = &w->src[i];
		if (!visible(s, at))
			continue;
		if (db ? (s->kind != S_TABLE || s->aliased || strcmp(s->db, db) != 0 ||
			  strcmp(s->tbl, name) != 0) : strcmp(s->name, name) != 0)
			continue;
		if (!best || s->scope_e - s->scope_s < best->scope_e - best->scope_s)
			best = s;
	}
	return best;
}

/* An unqualified column: of the innermost visible source that has it. */
const struct fl_sql_column *fl_sqlscope_find_col(const struct rw *w, int at, const char *name)
{
	const struct fl_sql_column *best = NULL, *c;
	int span = 0;
	for (int i = 0; i < w->nsrc; i++) {
		const struct source *s = &w->src[i];
		if (visible(s, at) && (c = fl_sqlscope_src_col(w, s, name)) &&
		    (!best || s->scope_e - s->scope_s < span)) {
			best = c;
			span = s->scope_e - s->scope_s;
		}
	}
	return best;
}
