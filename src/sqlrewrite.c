/*
 * sqlrewrite.c - Athena (Trino) SQL to the PostgreSQL SQL that runs it.
 *
 * DESIGN
 * The text is cut into tokens by Trino's lexical rules (sqllex.c):
 * comments and white space are not tokens, so nothing can hide in them,
 * and whatever Trino's lexer does not know but PostgreSQL's does (::, $,
 * E'', U&'', ?, backslashes) is refused before PostgreSQL could give it a
 * meaning.  Here the statement is checked to be one query, and its
 * brackets are paired.
 *
 * Two walks over the tokens follow.  The analysis (sqlscope.c) finds the
 * relations: WITH names with their scope, and every FROM/JOIN item.  A table name is
 * resolved against the catalog (a name that is neither a Glue table nor a
 * visible WITH name is refused) and each item becomes a "source" visible
 * over its query block.  The emission then writes PostgreSQL text token
 * by token: table names as "db"."tbl", other names quoted in lower case,
 * keywords and function names as written, struct dereferences (resolved
 * through the sources to a jsonb column and its Glue type) as ->/->>
 * chains cast to the field's type (Glue type strings are read in place by
 * gluetype.c), CAST and TRY_CAST with mapped types, strings holding a
 * backslash as E'' (so that their meaning does not hang on
 * standard_conforming_strings).  A query is rewritten whole or refused.
 *
 * Security rests on allow-lists where it can: the statement starts with
 * SELECT, WITH or VALUES; every WITH body is a query; every FROM item is a
 * catalog table, a WITH name, a subquery or UNNEST; cast targets are a
 * fixed list of types.  Deny-lists cover the rest: names beginning with
 * pg_ or fl_, information_schema and system columns (NAME_DENY*, unless
 * the name is a column of a lake table), and the functions of FUNC_DENY*
 * (files, settings, large objects, other databases, SQL given as text).
 */
#include "sqlrewrite.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gluetype.h"
#include "sqllex.h"
#include "sqlscope.h"

#define RW_MAX_STEPS 32          /* parts of a dotted name, struct path */
#define RW_OUT_MAX (8 * (size_t)FL_SQL_MAX_LEN)

/* Functions a query may not call: server files, settings, large objects,
 * other databases, SQL given as text, catalog probing, sequences. */
static const char FUNC_DENY_PREFIX[] =
	" pg_ lo_ dblink query_to_ table_to_ cursor_to_ schema_to_ database_to_"
	" to_reg binary_upgrade brin_ gin_ plpgsql has_ ";
static const char FUNC_DENY[] =
	" set_config current_setting loread lowrite ts_stat ts_rewrite nextval"
	" setval currval lastval col_description obj_description shobj_description"
	" format_type current_schemas inet_server_addr inet_server_port"
	" inet_client_addr inet_client_port currtid2 operator regclass regcollation"
	" regconfig regdictionary regnamespace regoper regoperator regproc"
	" regprocedure regrole regtype ";
static const char UNITS[] = " year month day hour minute second ";

/* A name that may not be called: check_name's, and FUNC_DENY*. */
static enum fl_result check_func(struct rw *w, const struct fl_sql_tok *k)
{
	enum fl_result r = fl_sqlscope_check_name(w, k);
	if (r == FL_OK && (prefix_in(FUNC_DENY_PREFIX, k->name) || word_in(FUNC_DENY, k->name)))
		r = fail_at(w, k, FL_INVALID, "Function %s is not allowed", k->name);
	return r;
}

/* One statement, and a query: SELECT, WITH or VALUES. */
static enum fl_result statement(struct rw *w)
{
	char up[32];
	for (int i = 0; i < w->n; i++)
		if (is_op(&w->t[i], ";")) {
			if (i != w->n - 1)
				return fail_at(w, &w->t[i], FL_INVALID, "Only one statement is allowed");
			w->t[i] = w->t[i + 1];   /* the sentinel moves down */
			w->n--;
		}
	if (w->n == 0)
		return fail_at(w, &w->t[0], FL_INVALID, "Query is empty");
	int f = 0;
	while (f < w->n && is_op(&w->t[f], "("))
		f++;
	const struct fl_sql_tok *k = &w->t[f];
	if (query_word(k))
		return FL_OK;
	if (k->kind != FL_SQL_TK_IDENT)
		return fail_at(w, k, FL_INVALID, "A query must begin with SELECT, WITH or VALUES");
	upper(k->name, up, sizeof up);
	return fail_at(w, k, FL_INVALID, "%s statements are not allowed: only SELECT, WITH ... "
		       "SELECT and VALUES queries are run", up);
}

/* ---- the emission ---- */

static void put(struct rw *w, const char *s, size_t n)
{
	if (w->berr == FL_OK)
		w->berr = fl_buf_add(w->b, s, n);
}

static void puts_(struct rw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void putf(struct rw *w, const char *fmt, ...) FL_PRINTF(2, 3);

static void putf(struct rw *w, const char *fmt, ...)
{
	char s[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s, sizeof s, fmt, ap);
	va_end(ap);
	put(w, s, n < 0 ? 0 : (size_t)n >= sizeof s ? sizeof s - 1 : (size_t)n);
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The blank before what token k begins (with first): as in the query,
 * and wherever two tokens would otherwise run together. */
static void sep(struct rw *w, const struct fl_sql_tok *k, char first)
{
	if (w->b->len == 0)
		return;
	char last = w->b->data[w->b->len - 1];
	bool need = k->space && !strchr("([ ", last) && !strchr(")],", first);
	if ((word_char(last) && word_char(first)) ||
	    (strchr("+-*/<>=!%|", last) && strchr("+-*/<>=!%|", first)) ||
	    (last == first && (last == '\'' || last == '"')))
		need = true;
	if (need)
		put(w, " ", 1);
}

static void put_raw(struct rw *w, const struct fl_sql_tok *k)
{
	sep(w, k, k->text[0]);
	put(w, k->text, k->len);
}

static void put_quoted(struct rw *w, const char *s, size_t n)
{
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++)
		put(w, s[i] == '"' ? "\"\"" : s + i, s[i] == '"' ? 2 : 1);
	put(w, "\"", 1);
}

static void put_name(struct rw *w, const char *s)
{
	put_quoted(w, s, strlen(s));
}

/*
 * A string literal of content p[0..n); quotes doubled unless they already are
 * (a string token's text).  With a backslash in it, it is written E'...'
 * with backslashes doubled: its meaning then does not depend on the
 * session's standard_conforming_strings.
 */
static void put_string(struct rw *w, const char *p, size_t n, bool doubled)
{
	bool e = memchr(p, '\\', n) != NULL;
	put(w, e ? "E'" : "'", e ? 2 : 1);
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		put(w, p + i, 1);
		if ((c == '\'' && !doubled) || (c == '\\' && e))
			put(w, p + i, 1);
	}
	put(w, "'", 1);
}

static enum fl_result emit(struct rw *w, int a, int b);

/* The qualifier of a column: "alias". or "db"."tbl". */
static void put_qual(struct rw *w, const struct source *s, int q)
{
	if (q == 0)
		return;
	if (s->kind == S_TABLE && q >= 2) {
		put_name(w, s->db);
		put(w, ".", 1);
		put_name(w, s->tbl);
	} else {
		put_name(w, s->name);
	}
	put(w, ".", 1);
}

/* CAST(x AS t) with t mapped; TRY_CAST(x AS t) as fl_try_cast_<t>(x). */
static enum fl_result cast(struct rw *w, int i, int *ip)
{
	struct fl_sql_tok *t = w->t, *k = &t[i];
	int o = i + 1, m = t[o].match, as = -1;
	char ty[96], pg[96];
	size_t n = 0;
	const char *try;
	bool param, trycast = is_word(k, "try_cast");
	enum fl_result r;
	for (int j = o + 1; j < m && as < 0; j = fl_sqlscope_skip(w, j))
		if (is_word(&t[j], "as"))
			as = j;
	if (as <= o + 1 || as + 1 >= m)
		return fail_at(w, k, FL_INVALID, "%s needs ( expression AS type )", trycast ?
			       "TRY_CAST" : "CAST");
	for (int j = as + 1; j < m; j++) {
		const struct fl_sql_tok *x = &t[j];
		const char *s = x->kind == FL_SQL_TK_IDENT ? x->name : x->text;
		size_t l = x->kind == FL_SQL_TK_IDENT ? strlen(x->name) : x->len;
		bool ok = x->kind == FL_SQL_TK_IDENT || (x->kind == FL_SQL_TK_NUMBER &&
			  strspn(x->text, "0123456789") >= x->len) || is_op(x, "(") || is_op(x, ")") ||
			  is_op(x, ",");
		bool blank = x->kind == FL_SQL_TK_IDENT && n > 0 &&
			     (word_char(ty[n - 1]) || ty[n - 1] == ')');
		if (!ok || n + l + 2 > sizeof ty)
			return fail_at(w, &t[as + 1], FL_INVALID, "Unknown type in %s",
				       trycast ? "TRY_CAST" : "CAST");
		if (blank)
			ty[n++] = ' ';
		memcpy(ty + n, s, l);
		n += l;
	}
	ty[n] = '\0';
	if (!fl_gluetype_scalar(ty, true, pg, sizeof pg, &try, &param))
		return fail_at(w, &t[as + 1], FL_INVALID, "Unknown type: %s", ty);
	if (trycast) {
		if (!try)
			return fail_at(w, &t[as + 1], FL_INVALID, "TRY_CAST to %s is not supported", ty);
		sep(w, k, 'f');
		putf(w, "fl_try_cast_%s(", try);
		r = emit(w, o + 1, as);
		put(w, ")", 1);
		if (param)
			putf(w, "::%s", pg);
	} else {
		put_raw(w, k);
		put(w, "(", 1);
		r = emit(w, o + 1, as);
		put(w, " ", 1);
		put(w, t[as].text, t[as].len);
		putf(w, " %s)", pg);
	}
	*ip = m + 1;
	return r;
}

/* EXTRACT(field FROM x): Trino's fields, and a bigint as Trino's. */
static enum fl_result extract(struct rw *w, int i, int *ip)
{
	static const char *const fields[][2] = {
		{ "year", "year" }, { "quarter", "quarter" }, { "month", "month" },
		{ "week", "week" }, { "day", "day" }, { "day_of_month", "day" },
		{ "day_of_week", "isodow" }, { "dow", "isodow" }, { "day_of_year", "doy" },
		{ "doy", "doy" }, { "year_of_week", "isoyear" }, { "yow", "isoyear" },
		{ "hour", "hour" }, { "minute", "minute" }, { "second", "second" },
		{ "timezone_hour", "timezone_hour" }, { "timezone_minute", "timezone_minute" },
	};
	struct fl_sql_tok *t = w->t, *k = &t[i];
	int o = i + 1, m = t[o].match;
	const char *f = NULL;
	if (!(o + 3 < m && t[o + 1].kind == FL_SQL_TK_IDENT && is_word(&t[o + 2], "from")))
		return fail_at(w, k, FL_INVALID, "EXTRACT needs ( field FROM expression )");
	for (size_t x = 0; x < sizeof fields / sizeof fields[0]; x++)
		if (strcmp(t[o + 1].name, fields[x][0]) == 0)
			f = fields[x][1];
	if (!f)
		return fail_at(w, &t[o + 1], FL_INVALID, "Invalid EXTRACT field %s", t[o + 1].name);
	bool sec = strcmp(f, "second") == 0;
	sep(w, k, 'C');
	puts_(w, sec ? "CAST(floor(" : "CAST(");
	put(w, k->text, k->len);
	putf(w, "(%s ", f);
	put(w, t[o + 2].text, t[o + 2].len);
	put(w, " ", 1);
	enum fl_result r = emit(w, o + 3, m);
	puts_(w, sec ? ")) AS bigint)" : ") AS bigint)");
	*ip = m + 1;
	return r;
}

/* INTERVAL [+-] 'n' unit [TO unit]. */
static enum fl_result interval(struct rw *w, int i, int b, int *ip)
{
	struct fl_sql_tok *t = w->t, *k = &t[i];
	int j = i + 1, u = -1, v = -1;
	bool neg = is_op(&t[j], "-");
	if (neg || is_op(&t[j], "+"))
		j++;
	int s = j++;
	if (j < b && word_of(&t[j], UNITS)) {
		u = j++;
		if (j + 1 < b && is_word(&t[j], "to") && word_of(&t[j + 1], UNITS)) {
			v = j + 1;
			j += 2;
		}
	}
	if (u < 0)
		return fail_at(w, &t[s], FL_INVALID, "An interval literal needs a unit (YEAR, MONTH, "
			       "DAY, HOUR, MINUTE or SECOND)");
	sep(w, k, neg ? '(' : 'I');
	if (neg)
		puts_(w, "(-");
	put(w, k->text, k->len);
	put(w, " ", 1);
	put_string(w, t[s].text + 1, t[s].len - 2, true);
	put(w, " ", 1);
	put(w, t[u].text, t[u].len);
	if (v >= 0) {
		put(w, " ", 1);
		put(w, t[v - 1].text, t[v - 1].len);
		put(w, " ", 1);
		put(w, t[v].text, t[v].len);
	}
	if (neg)
		put(w, ")", 1);
	*ip = j;
	return FL_OK;
}

/* VALUES rows: Trino's VALUES 1, 2 is PostgreSQL's VALUES (1), (2). */
static enum fl_result values(struct rw *w, int i, int b, int *ip)
{
	struct fl_sql_tok *t = w->t;
	enum fl_result r;
	put_raw(w, &t[i]);
	for (int j = i + 1;; ) {
		int s = j, e = j;
		while (e < b && !is_op(&t[e], ",") && !is_op(&t[e], ")") &&
		       !word_of(&t[e], " order limit offset fetch union intersect except "))
			e = fl_sqlscope_skip(w, e);
		if (s == e)
			return fail_at(w, &t[s], FL_INVALID, "Missing row after VALUES");
		bool row = is_op(&t[s], "(") && t[s].match + 1 == e;
		if (!row) {
			sep(w, &t[s], '(');
			put(w, "(", 1);
		}
		if ((r = emit(w, s, e)) != FL_OK)
			return r;
		if (!row)
			put(w, ")", 1);
		if (e < b && is_op(&t[e], ",")) {
			put(w, ",", 1);
			j = e + 1;
			continue;
		}
		*ip = e;
		return FL_OK;
	}
}

/* name( args ): refused names, and Trino's f(x)[i] as (f(x))[i]. */
static enum fl_result call(struct rw *w, int i, int b, int *ip)
{
	struct fl_sql_tok *t = w->t, *k = &t[i];
	int m = t[i + 1].match;
	enum fl_result r = check_func(w, k);
	if (r != FL_OK)
		return r;
	bool wrap = m + 1 < b && is_op(&t[m + 1], "[");
	sep(w, k, wrap ? '(' : k->text[0]);
	if (wrap)
		put(w, "(", 1);
	if (k->kind == FL_SQL_TK_QIDENT)
		put_name(w, k->name);
	else
		put(w, k->text, k->len);
	put(w, "(", 1);
	r = emit(w, i + 2, m);
	put(w, wrap ? "))" : ")", wrap ? 2 : 1);
	*ip = m + 1;
	return r;
}

/* Athena's messages for a dereference that does not resolve: the path is
 * the names from token i to token j. */
static enum fl_result unresolved(struct rw *w, int i, int j, bool row)
{
	char path[512];
	size_t n = 0;
	for (int x = i; x <= j; x = fl_sqlscope_skip(w, x))
		if (is_ident(&w->t[x]) && n < sizeof path)
			n += (size_t)snprintf(path + n, sizeof path - n, "%s%s", n ? "." : "",
					      w->t[x].name);
	if (row)
		return fl_error_set(w->err, FL_INVALID, "line %u:%u: Expression '%s' is not of "
				    "type ROW", w->t[i].line, w->t[i].col, path);
	return fl_error_set(w->err, FL_INVALID, "line %u:%u: Column '%s' cannot be resolved",
			    w->t[i].line, w->t[i].col, path);
}

struct step {
	int kind;            /* 0 field, 1 map key, 2 array index */
	struct fl_gluetype_span name;    /* field: its name in the Glue type */
	int l, r;            /* key, index: the tokens between [ ] */
};

/* Emits a column of the lake (qualified by q parts of source s), then
 * the struct fields and jsonb subscripts after it; *ip moves past them. */
static enum fl_result column(struct rw *w, int i, int c, const struct source *s, int q,
			     const struct fl_sql_column *col, int b, int *ip)
{
	struct fl_sql_tok *t = w->t;
	struct step st[RW_MAX_STEPS];
	struct fl_gluetype_span ty = { col->type, strlen(col->type) }, in, e;
	int ns = 0, x = c + 1;
	enum fl_result r = FL_OK;
	for (;; ) {
		enum fl_gluetype_kind g = fl_gluetype_kind_of(ty, &in);
		if (ns == RW_MAX_STEPS)
			return fail_at(w, &t[i], FL_INVALID, "Dereference chain is too long");
		if (x + 1 < b && is_op(&t[x], ".") && is_ident(&t[x + 1])) {
			if (g != FL_GLUETYPE_STRUCT)
				return unresolved(w, i, x - 1, true);
			st[ns] = (struct step){ 0, { NULL, 0 }, 0, 0 };
			if (!fl_gluetype_field(in, t[x + 1].name, &st[ns].name, &ty))
				return unresolved(w, i, x + 1, false);
			ns++;
			x += 2;
		} else if (x < b && is_op(&t[x], "[") &&
			   (g == FL_GLUETYPE_MAP || (g == FL_GLUETYPE_ARRAY &&
			    (ns > 0 || fl_gluetype_kind_of(in, &e) != FL_GLUETYPE_SCALAR)))) {
			if (g == FL_GLUETYPE_MAP && !fl_gluetype_split(in, ',', &e, &ty))
				break;
			if (g == FL_GLUETYPE_ARRAY)
				ty = in;
			st[ns++] = (struct step){ g == FL_GLUETYPE_MAP ? 1 : 2, { NULL, 0 }, x + 1,
						  t[x].match };
			x = t[x].match + 1;
		} else {
			break;
		}
	}
	char pg[96];
	bool scalar = fl_gluetype_kind_of(ty, &in) == FL_GLUETYPE_SCALAR;
	if (scalar && !fl_gluetype_scalar_span(ty, pg, sizeof pg))
		snprintf(pg, sizeof pg, "text");
	sep(w, &t[i], ns ? '(' : '"');
	if (ns)
		puts_(w, scalar ? "((" : "(");
	put_qual(w, s, q);
	put_name(w, t[c].name);
	for (int k = 0; k < ns && r == FL_OK; k++) {
		puts_(w, k == ns - 1 && scalar ? " ->> " : " -> ");
		if (st[k].kind == 0) {
			put_string(w, st[k].name.p, st[k].name.n, false);
			continue;
		}
		puts_(w, st[k].kind == 1 ? "CAST((" : "(NULLIF(GREATEST(CAST((");
		r = emit(w, st[k].l, st[k].r);
		puts_(w, st[k].kind == 1 ? ") AS text)" : ") AS integer), 0), 0) - 1)");
	}
	if (ns && scalar)
		putf(w, ")::%s)", pg);
	else if (ns)
		put(w, ")", 1);
	*ip = x;
	return r;
}

/* A dotted name in an expression: [[catalog.]db.]tbl.col, alias.col,
 * col, each maybe followed by struct fields; or a qualified *. */
static enum fl_result chain(struct rw *w, int i, int b, int *ip)
{
	struct fl_sql_tok *t = w->t;
	int p[RW_MAX_STEPS], np = 0, j = i, q = 0;
	const struct source *s = NULL;
	enum fl_result r;
	p[np++] = i;
	while (np < RW_MAX_STEPS && j + 2 < b && is_op(&t[j + 1], ".") && is_ident(&t[j + 2]))
		p[np++] = j += 2;
	bool star = j + 2 < b && is_op(&t[j + 1], ".") && is_op(&t[j + 2], "*");
	if (!star && j + 1 < b && is_op(&t[j + 1], "("))
		return fail_at(w, &t[i], FL_INVALID, "Qualified function names are not supported");
	int left = np - (star ? 0 : 1);  /* parts that may be a qualifier */
	if (left >= 3 && strcmp(t[p[0]].name, "awsdatacatalog") == 0 &&
	    (s = fl_sqlscope_find_src(w, i, t[p[1]].name, t[p[2]].name)))
		q = 3;
	else if (left >= 2 && (s = fl_sqlscope_find_src(w, i, t[p[0]].name, t[p[1]].name)))
		q = 2;
	else if (left >= 1 && (s = fl_sqlscope_find_src(w, i, NULL, t[p[0]].name)))
		q = 1;
	const struct fl_sql_column *col = NULL;
	if (!star)
		col = q ? fl_sqlscope_src_col(w, s, t[p[q]].name)
			: fl_sqlscope_find_col(w, i, t[p[q]].name);
	if (col)
		return column(w, i, p[q], s, q, col, b, ip);
	for (int x = q; x < np; x++)   /* (alias).f is f(alias) in PostgreSQL */
		if ((r = check_func(w, &t[p[x]])) != FL_OK)
			return r;
	sep(w, &t[i], '"');
	if (star && q == np) {
		put_qual(w, s, q);
	} else {
		put_qual(w, s, q);
		for (int x = q; x < np; x++) {
			if (x > q)
				put(w, ".", 1);
			put_name(w, t[p[x]].name);
		}
		if (star)
			put(w, ".", 1);
	}
	if (star)
		put(w, "*", 1);
	*ip = star ? j + 3 : j + 1;
	return FL_OK;
}

/* A typed literal: DATE '...', TIMESTAMP '...', DECIMAL '...' ... */
static enum fl_result typed_literal(struct rw *w, int i, int *ip)
{
	struct fl_sql_tok *k = &w->t[i], *s = &w->t[i + 1];
	char pg[96];
	const char *try;
	bool param;
	if (word_in(" decimal numeric ", k->name))
		snprintf(pg, sizeof pg, "numeric");
	else if (!fl_gluetype_scalar(k->name, true, pg, sizeof pg, &try, &param) ||
		 strcmp(k->name, "string") == 0)
		return fail_at(w, k, FL_INVALID, "Unknown type: %s", k->name);
	sep(w, k, pg[0]);
	putf(w, "%s ", pg);
	put_string(w, s->text + 1, s->len - 2, true);
	*ip = i + 2;
	return FL_OK;
}

static enum fl_result ident(struct rw *w, int i, int b, int *ip)
{
	struct fl_sql_tok *t = w->t, *k = &t[i];
	const struct fl_sql_tok *nx = i + 1 < b ? &t[i + 1] : &t[w->n];
	const struct fl_sql_tok *nx2 = i + 2 < b ? &t[i + 2] : &t[w->n];
	int kw = 0;
	if (k->role == R_TABLE) {
		const struct source *s = &w->src[k->src];
		sep(w, k, '"');
		put_name(w, s->db);
		put(w, ".", 1);
		put_name(w, s->tbl);
		for (i++; i < b && t[i].role == R_SKIP; i++)
			;
		*ip = i;
		return FL_OK;
	}
	if (k->role == R_ALIAS) {
		sep(w, k, '"');
		put_name(w, k->name);
		*ip = i + 1;
		return FL_OK;
	}
	if (k->kind == FL_SQL_TK_IDENT) {
		if (word_of(k, REFUSED))
			return refused(w, k);
		if (is_word(k, "for") && word_of(nx, " update share no key "))
			return fail_at(w, k, FL_INVALID, "FOR UPDATE and FOR SHARE are not allowed");
		if (word_of(k, " cast try_cast ") && is_op(nx, "("))
			return cast(w, i, ip);
		if (is_word(k, "extract") && is_op(nx, "("))
			return extract(w, i, ip);
		if (is_word(k, "interval") && (nx->kind == FL_SQL_TK_STRING ||
		    ((is_op(nx, "-") || is_op(nx, "+")) && nx2->kind == FL_SQL_TK_STRING)))
			return interval(w, i, b, ip);
		if (is_word(k, "values"))
			return values(w, i, b, ip);
		if (is_word(k, "array") && is_op(nx, "[") && nx->match + 1 < b &&
		    is_op(&t[nx->match + 1], "[")) {
			sep(w, k, '(');
			put(w, "(", 1);
			put(w, k->text, k->len);
			enum fl_result r = emit(w, i + 1, nx->match + 1);
			put(w, ")", 1);
			*ip = nx->match + 1;
			return r;
		}
		if (is_word(k, "at") && is_word(nx, "time") && is_word(nx2, "zone"))
			kw = 3;
		else if ((is_word(k, "nulls") && word_of(nx, " first last ")) ||
			 (is_word(k, "fetch") && word_of(nx, " first next ")))
			kw = 2;
		else if (is_kw(k))
			kw = 1;
		for (int x = 0; x < kw; x++)
			put_raw(w, &t[i + x]);
		if (kw) {
			*ip = i + kw;
			return FL_OK;
		}
	}
	if (nx->kind == FL_SQL_TK_STRING)
		return typed_literal(w, i, ip);
	if (is_op(nx, "("))
		return call(w, i, b, ip);
	return chain(w, i, b, ip);
}

static enum fl_result emit_one(struct rw *w, int i, int b, int *ip)
{
	struct fl_sql_tok *k = &w->t[i];
	*ip = i + 1;
	switch (k->kind) {
	case FL_SQL_TK_IDENT:
	case FL_SQL_TK_QIDENT:
		return ident(w, i, b, ip);
	case FL_SQL_TK_BINARY:
		sep(w, k, '\'');
		putf(w, "E'\\\\x%s'::bytea", k->name);
		return FL_OK;
	case FL_SQL_TK_NUMBER:
		if (memchr(k->text, 'e', k->len) || memchr(k->text, 'E', k->len)) {
			sep(w, k, 'C');
			puts_(w, "CAST(");
			put(w, k->text, k->len);
			puts_(w, " AS double precision)");
			return FL_OK;
		}
		put_raw(w, k);
		return FL_OK;
	case FL_SQL_TK_OP:
		put_raw(w, k);
		if (k->gen)
			putf(w, " AS \"fl_subquery_%d\"", k->gen);
		return FL_OK;
	case FL_SQL_TK_STRING:
		sep(w, k, '\'');
		put_string(w, k->text + 1, k->len - 2, true);
		return FL_OK;
	case FL_SQL_TK_END:
		break;
	}
	return FL_OK;
}

static enum fl_result emit(struct rw *w, int a, int b)
{
	enum fl_result r = FL_OK;
	for (int i = a; i < b && r == FL_OK; )
		r = emit_one(w, i, b, &i);
	return r;
}

/* ---- entry points ---- */

enum fl_result fl_sql_rewrite(const char *sql, const struct fl_sql_catalog *cat,
			      struct fl_sql_rewrite *out, struct fl_error *err)
{
	struct rw *w = NULL;
	enum fl_result r;
	size_t chars = 0;
	out->ntables = 0;
	fl_buf_init(&out->sql, RW_OUT_MAX);
	if (!sql || !cat || !cat->table)
		return fl_error_set(err, FL_INTERNAL, "No query or no catalog");
	for (const char *p = sql; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	if (chars > FL_SQL_MAX_LEN)
		return fl_error_set(err, FL_TOO_LARGE, "Query string is longer than %d characters",
				    FL_SQL_MAX_LEN);
	w = calloc(1, sizeof *w);
	if (w)
		w->src = calloc(RW_MAX_SOURCES, sizeof *w->src);
	if (!w || !w->src) {
		r = fl_error_set(err, FL_INTERNAL, "Out of memory");
		goto done;
	}
	w->cat = cat;
	w->default_db = cat->default_db && cat->default_db[0] ? cat->default_db : "default";
	w->out = out;
	w->b = &out->sql;
	w->err = err;
	if ((r = fl_sql_lex(sql, &w->lx, err)) != FL_OK)
		goto done;
	w->t = w->lx.t;
	w->n = w->lx.n - 1;   /* the FL_SQL_TK_END stays as the sentinel t[n] */
	if ((r = statement(w)) != FL_OK || (r = fl_sql_lex_pair(w->t, w->n, err)) != FL_OK ||
	    (r = fl_sqlscope_scan(w, 0, w->n, true)) != FL_OK || (r = emit(w, 0, w->n)) != FL_OK)
		goto done;
	if (w->berr != FL_OK)
		r = fl_error_set(err, w->berr, w->berr == FL_TOO_LARGE ?
				 "The rewritten query is longer than %zu bytes" : "Out of memory",
				 (size_t)RW_OUT_MAX);
done:
	if (r != FL_OK) {
		fl_buf_reset(&out->sql);
		out->ntables = 0;
	}
	if (w) {
		fl_sql_lex_free(&w->lx);
		free(w->src);
		free(w);
	}
	return r;
}

void fl_sql_rewrite_free(struct fl_sql_rewrite *out)
{
	if (!out)
		return;
	fl_buf_free(&out->sql);
	out->ntables = 0;
}
