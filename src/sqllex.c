/*
 * sqllex.c - Athena (Trino) SQL text to tokens (sqllex.h).
 *
 * DESIGN
 * One pass over the text, by Trino's lexical rules ('strings' with ''
 * escapes, "identifiers" with "" escapes, -- and non-nesting block
 * comments, numbers, a closed set of operators).  Comments and white
 * space are not tokens, so nothing can hide in them, and whatever Trino's
 * lexer does not know but PostgreSQL's does (::, $, E'', U&'', ?,
 * backslashes outside strings) is refused here, before PostgreSQL could
 * give it a meaning.  Identifier names are copied once, lower-cased and
 * unescaped, into one arena sized from the text (at most 2 bytes per
 * byte of it), so a token never owns memory of its own.
 */
#include "sqllex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	struct fl_sql_lex *lx;
	struct fl_error *err;
};

enum fl_result fl_sql_tok_verror(struct fl_error *err, const struct fl_sql_tok *k,
				 enum fl_result code, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	return fl_error_set(err, code, "%s at line %u, column %u", msg, k->line, k->col);
}

enum fl_result fl_sql_tok_error(struct fl_error *err, const struct fl_sql_tok *k,
				enum fl_result code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum fl_result r = fl_sql_tok_verror(err, k, code, fmt, ap);
	va_end(ap);
	return r;
}

static enum fl_result fail_at(struct lexer *w, const struct fl_sql_tok *k, enum fl_result code,
			      const char *fmt, ...) FL_PRINTF(4, 5);
static enum fl_result fail_at(struct lexer *w, const struct fl_sql_tok *k, enum fl_result code,
			      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum fl_result r = fl_sql_tok_verror(w->err, k, code, fmt, ap);
	va_end(ap);
	return r;
}

static enum fl_result add_tok(struct lexer *w, const struct fl_sql_tok *k)
{
	if (w->lx->n == w->lx->cap) {
		int cap = w->lx->cap ? w->lx->cap * 2 : 256;
		struct fl_sql_tok *t = realloc(w->lx->t, (size_t)cap * sizeof *t);
		if (!t)
			return fl_error_set(w->err, FL_INTERNAL, "Out of memory");
		w->lx->t = t;
		w->lx->cap = cap;
	}
	w->lx->t[w->lx->n++] = *k;
	return FL_OK;
}

/* The end of a quoted token starting at s[i] (doubled quotes escape), or 0. */
static size_t quoted_end(const char *s, size_t i, char q)
{
	for (size_t j = i + 1; s[j]; j++)
		if (s[j] == q) {
			if (s[j + 1] != q)
				return j + 1;
			j++;
		}
	return 0;
}

/* Copies n bytes of p into the arena, lower case, dropping doubled q. */
static const char *arena_name(struct lexer *w, const char *p, size_t n, char q)
{
	char *d = w->lx->arena + w->lx->arena_len, *o = d;
	for (size_t i = 0; i < n; i++) {
		*o++ = (char)tolower((unsigned char)p[i]);
		if (q && p[i] == q)
			i++;
	}
	*o++ = '\0';
	w->lx->arena_len += (size_t)(o - d);
	return d;
}

static enum fl_result lex_word(struct lexer *w, struct fl_sql_tok *k, const char *s, size_t i,
			        size_t *end)
{
	size_t j = i;
	while (isalnum((unsigned char)s[j]) || s[j] == '_')
		j++;
	k->kind = FL_SQL_TK_IDENT;
	k->name = arena_name(w, s + i, j - i, 0);
	if (s[j] == '$')
		return fail_at(w, k, FL_INVALID, "Dollar-quoted strings and $ parameters are not allowed");
	if (strcmp(k->name, "u") == 0 && s[j] == '&')
		return fail_at(w, k, FL_INVALID, "Unicode escape literals (U&'...') are not allowed");
	if (s[j] == '\'' && k->name[1] == '\0' && strchr("ebn", k->name[0]))
		return fail_at(w, k, FL_INVALID, "PostgreSQL %s'...' string literals are not allowed",
			       k->name[0] == 'e' ? "E" : k->name[0] == 'b' ? "B" : "N");
	if (s[j] == '\'' && strcmp(k->name, "x") == 0) {
		size_t e = quoted_end(s, j, '\'');
		if (!e)
			return fail_at(w, k, FL_INVALID, "Unterminated binary literal");
		char *d = w->lx->arena + w->lx->arena_len, *o = d;
		for (size_t x = j + 1; x + 1 < e; x++) {
			unsigned char c = (unsigned char)s[x];
			if (isspace(c))
				continue;
			if (!isxdigit(c))
				return fail_at(w, k, FL_INVALID, "Binary literal can only contain "
					       "hexadecimal digits");
			*o++ = (char)tolower(c);
		}
		if ((o - d) % 2)
			return fail_at(w, k, FL_INVALID, "Binary literal must contain an even number "
				       "of digits");
		*o++ = '\0';
		w->lx->arena_len += (size_t)(o - d);
		k->kind = FL_SQL_TK_BINARY;
		k->name = d;
		j = e;
	}
	*end = j;
	return FL_OK;
}

static enum fl_result lex_number(struct lexer *w, struct fl_sql_tok *k, const char *s, size_t i,
			          size_t *end)
{
	size_t j = i;
	while (isdigit((unsigned char)s[j]))
		j++;
	if (s[j] == '.')
		for (j++; isdigit((unsigned char)s[j]); j++)
			;
	if (s[j] == 'e' || s[j] == 'E') {
		size_t e = j + 1;
		if (s[e] == '+' || s[e] == '-')
			e++;
		if (isdigit((unsigned char)s[e]))
			for (j = e; isdigit((unsigned char)s[j]); j++)
				;
	}
	if (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.')
		return fail_at(w, k, FL_INVALID, "Invalid number (identifiers must not start with "
			       "a digit; surround the identifier with double quotes)");
	k->kind = FL_SQL_TK_NUMBER;
	*end = j;
	return FL_OK;
}

static enum fl_result lex_op(struct lexer *w, struct fl_sql_tok *k, const char *s, size_t i,
			      size_t *end)
{
	static const char *const two[] = { "<>", "!=", "<=", ">=", "||", "=>", "->", "::" };
	char c = s[i];
	k->kind = FL_SQL_TK_OP;
	for (size_t x = 0; x < sizeof two / sizeof two[0]; x++)
		if (c == two[x][0] && s[i + 1] == two[x][1]) {
			if (x == 6)
				return fail_at(w, k, FL_INVALID, "Lambda expressions (->) are not supported");
			if (x == 7)
				return fail_at(w, k, FL_INVALID, "PostgreSQL casts (::) are not allowed; "
					       "use CAST(x AS type)");
			*end = i + 2;
			return FL_OK;
		}
	if (c && strchr("+-*/%=<>()[],.;", c)) {
		*end = i + 1;
		return FL_OK;
	}
	if (c == '$')
		return fail_at(w, k, FL_INVALID, "Dollar-quoted strings and $ parameters are not allowed");
	if (c == '?')
		return fail_at(w, k, FL_INVALID, "Query parameters (?) are not supported");
	if (c == '`')
		return fail_at(w, k, FL_INVALID, "Backquoted identifiers are not supported; use "
			       "double quotes to quote identifiers");
	if (isprint((unsigned char)c))
		return fail_at(w, k, FL_INVALID, "Unexpected character '%c'", c);
	return fail_at(w, k, FL_INVALID, "Unexpected character 0x%02x", (unsigned char)c);
}

static enum fl_result lex(struct lexer *w, const char *s)
{
	size_t i = 0, bol = 0;
	unsigned line = 1;
	bool space = false;
	enum fl_result r = FL_OK;
	for (;;) {
		unsigned char c = (unsigned char)s[i];
		struct fl_sql_tok k = { .text = s + i, .line = line, .col = (unsigned)(i - bol + 1),
				 .space = space, .match = -1, .src = -1 };
		size_t j = i + 1;
		bool token = true;
		if (c == '\0') {
			k.kind = FL_SQL_TK_END;
			return add_tok(w, &k);
		} else if (strchr(" \t\n\r\f\v", c)) {
			token = false;
		} else if (c == '-' && s[i + 1] == '-') {
			for (j = i + 2; s[j] && s[j] != '\n'; j++)
				;
			token = false;
		} else if (c == '/' && s[i + 1] == '*') {
			const char *e = strstr(s + i + 2, "*/");
			if (!e)
				return fail_at(w, &k, FL_INVALID, "Unterminated comment");
			j = (size_t)(e - s) + 2;
			token = false;
		} else if (c == '\'') {
			if (!(j = quoted_end(s, i, '\'')))
				return fail_at(w, &k, FL_INVALID, "Unterminated string literal");
			k.kind = FL_SQL_TK_STRING;
		} else if (c == '"') {
			if (!(j = quoted_end(s, i, '"')))
				return fail_at(w, &k, FL_INVALID, "Unterminated quoted identifier");
			if (j == i + 2)
				return fail_at(w, &k, FL_INVALID, "Zero-length delimited identifier not allowed");
			k.kind = FL_SQL_TK_QIDENT;
			k.name = arena_name(w, s + i + 1, j - i - 2, '"');
		} else if (isalpha(c) || c == '_') {
			r = lex_word(w, &k, s, i, &j);
		} else if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
			r = lex_number(w, &k, s, i, &j);
		} else {
			r = lex_op(w, &k, s, i, &j);
		}
		if (r != FL_OK)
			return r;
		for (size_t x = i; x < j; x++)
			if (s[x] == '\n') {
				line++;
				bol = x + 1;
			}
		if (token) {
			k.len = (unsigned)(j - i);
			if ((r = add_tok(w, &k)) != FL_OK)
				return r;
		}
		space = !token;
		i = j;
	}
}

enum fl_result fl_sql_lex(const char *sql, struct fl_sql_lex *out, struct fl_error *err)
{
	struct lexer w = { out, err };
	*out = (struct fl_sql_lex){ 0 };
	if (!(out->arena = malloc(2 * strlen(sql) + 2)))
		return fl_error_set(err, FL_INTERNAL, "Out of memory");
	return lex(&w, sql);
}

void fl_sql_lex_free(struct fl_sql_lex *lx)
{
	if (!lx)
		return;
	free(lx->t);
	free(lx->arena);
	*lx = (struct fl_sql_lex){ 0 };
}

/* The bracket a token is, or 0. */
static char bracket(const struct fl_sql_tok *k)
{
	if (k->kind != FL_SQL_TK_OP || k->len != 1 || !strchr("()[]", k->text[0]))
		return 0;
	return k->text[0];
}

enum fl_result fl_sql_lex_pair(struct fl_sql_tok *t, int n, struct fl_error *err)
{
	int stack[FL_SQL_LEX_MAX_DEPTH], d = 0;
	for (int i = 0; i < n; i++) {
		struct fl_sql_tok *k = &t[i];
		char b = bracket(k);
		if (b == '(' || b == '[') {
			if (d == FL_SQL_LEX_MAX_DEPTH)
				return fl_sql_tok_error(err, k, FL_INVALID,
							"Query is nested too deeply");
			stack[d++] = i;
		} else if (b) {
			if (d == 0 || t[stack[d - 1]].text[0] != (b == ')' ? '(' : '['))
				return fl_sql_tok_error(err, k, FL_INVALID, "Unbalanced '%c'", b);
			k->match = stack[--d];
			t[k->match].match = i;
		}
	}
	if (d > 0)
		return fl_sql_tok_error(err, &t[stack[d - 1]], FL_INVALID, "Unclosed '%c'",
					t[stack[d - 1]].text[0]);
	return FL_OK;
}
