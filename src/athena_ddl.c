/*
 * athena_ddl.c - reading Athena's DDL and utility statements: the
 * classifiers (statement type, DDL or not) and the parser that turns a
 * statement into a struct fl_ddl_stmt for athena_ddl_run.c.
 *
 * DESIGN
 *
 * Athena runs these statements with Hive's grammar, so this follows
 * Hive's lexical rules: keywords in any case; identifiers bare (letters,
 * digits, '_'), `backticked` or "double quoted"; string literals in
 * single quotes (or double quotes where a string is expected) with
 * Hive's backslash escapes (\n \t \r \b \Z, \ooo octal, \uXXXX, \x for
 * any other x) and '' for a quote; -- and block comments; one trailing
 * ';'.  The lexer works on spans of the statement and never allocates,
 * so the classifiers, which the query API calls for every statement,
 * read only the first few tokens of it.  The parser lexes the whole
 * statement once into a token array, with every token's text decoded
 * (fl_ddl_unquote) into one arena no bigger than twice the statement (a
 * decoded token is never longer than its raw span).
 *
 * The grammar is recursive descent over that array, one function per
 * statement, each clause in Hive's fixed order.  Names become Glue names
 * (fl_catalog_name) where they are read, so a hostile name fails here,
 * with its position, before anything touches the catalog.  Column types
 * are read as balanced token text (<>, () and commas nest), lower-cased,
 * "integer" spelt "int", and checked with fl_schema_type_valid.  The
 * clauses of CREATE EXTERNAL TABLE become the Glue TableInput (the
 * document fl_glue_tables.spec holds) through fl_ddl_table_input, so the
 * parse is the whole translation from Hive DDL to Glue and is tested
 * without a database.
 *
 * Errors carry Athena's position prefix "line L:C: " (1-based) and,
 * where a token was not what the grammar wants, "mismatched input 'x'.
 * Expecting: ..." as Athena words it.
 */
#include "athena_ddl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "athena_ddl_text.h"
#include "buf.h"
#include "catalog.h"
#include "crawler.h"
#include "schema.h"

#define SQL_MAX 262144         /* Athena's QueryString limit */
#define SHOWN_MAX 40           /* bytes of a token echoed in a message */
#define CLASSIFY_TOKENS 16     /* tokens the classifiers look at */

/* ---- lexer ----------------------------------------------------------------- */

enum tok_kind { TK_END, TK_WORD, TK_STRING, TK_BACKTICK, TK_DQUOTE, TK_PUNCT };

struct tok {
	enum tok_kind kind;
	size_t off, len;        /* the raw span in the statement */
	unsigned line, col;     /* 1-based */
	const char *text;       /* NUL-terminated text (parser only): words and
				 * punctuation as written, quoted tokens decoded */
};

struct lexer {
	const char *s;
	size_t n, pos, line_start;
	unsigned line;
};

static void lex_init(struct lexer *lx, const char *s, size_t n)
{
	lx->s = s;
	lx->n = n;
	lx->pos = 0;
	lx->line_start = 0;
	lx->line = 1;
}

static unsigned lex_col(const struct lexer *lx, size_t at)
{
	return (unsigned)(at - lx->line_start + 1);
}

static void lex_newline(struct lexer *lx, size_t at)
{
	lx->line++;
	lx->line_start = at + 1;
}

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* The next token of lx.  err may be NULL (the classifiers). */
static enum fl_result lex_next(struct lexer *lx, struct tok *t, struct fl_error *err)
{
	const char *s = lx->s;
	for (;;) {
		if (lx->pos >= lx->n)
			break;
		char c = s[lx->pos];
		if (c == '\n') {
			lex_newline(lx, lx->pos);
			lx->pos++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx->pos++;
		} else if (c == '-' && lx->pos + 1 < lx->n && s[lx->pos + 1] == '-') {
			while (lx->pos < lx->n && s[lx->pos] != '\n')
				lx->pos++;
		} else if (c == '/' && lx->pos + 1 < lx->n && s[lx->pos + 1] == '*') {
			unsigned line = lx->line, col = lex_col(lx, lx->pos);
			lx->pos += 2;
			while (lx->pos + 1 < lx->n && !(s[lx->pos] == '*' && s[lx->pos + 1] == '/')) {
				if (s[lx->pos] == '\n')
					lex_newline(lx, lx->pos);
				lx->pos++;
			}
			if (lx->pos + 1 >= lx->n)
				return fl_error_set(err, FL_INVALID, "line %u:%u: unterminated comment",
						    line, col);
			lx->pos += 2;
		} else {
			break;
		}
	}
	memset(t, 0, sizeof *t);
	t->off = lx->pos;
	t->line = lx->line;
	t->col = lex_col(lx, lx->pos);
	if (lx->pos >= lx->n) {
		t->kind = TK_END;
		return FL_OK;
	}
	char c = s[lx->pos];
	if (word_byte((unsigned char)c)) {
		while (lx->pos < lx->n && word_byte((unsigned char)s[lx->pos]))
			lx->pos++;
		t->kind = TK_WORD;
	} else if (c == '\'' || c == '"' || c == '`') {
		t->kind = c == '\'' ? TK_STRING : c == '"' ? TK_DQUOTE : TK_BACKTICK;
		lx->pos++;
		for (;;) {
			if (lx->pos >= lx->n)
				return fl_error_set(err, FL_INVALID, "line %u:%u: unterminated %s",
						    t->line, t->col, c == '`' ? "quoted identifier"
						    : "string literal");
			char d = s[lx->pos];
			if (d == '\n')
				lex_newline(lx, lx->pos);
			if (d == '\\' && c != '`' && lx->pos + 1 < lx->n) {
				if (s[lx->pos + 1] == '\n')
					lex_newline(lx, lx->pos + 1);
				lx->pos += 2;
			} else if (d == c && lx->pos + 1 < lx->n && s[lx->pos + 1] == c) {
				lx->pos += 2;
			} else if (d == c) {
				lx->pos++;
				break;
			} else {
				lx->pos++;
			}
		}
	} else {
		/* One character: a UTF-8 sequence is not cut (messages quote it) */
		lx->pos++;
		if ((unsigned char)c >= 0xc0)
			while (lx->pos < lx->n && ((unsigned char)s[lx->pos] & 0xc0) == 0x80 &&
			       lx->pos - t->off < 4)
				lx->pos++;
		t->kind = TK_PUNCT;
	}
	t->len = lx->pos - t->off;
	return FL_OK;
}

static bool tok_is(const struct lexer *lx, const struct tok *t, const char *kw)
{
	size_t n = strlen(kw);
	return t->kind == TK_WORD && t->len == n && strncasecmp(lx->s + t->off, kw, n) == 0;
}

static bool tok_punct(const struct lexer *lx, const struct tok *t, char c)
{
	return t->kind == TK_PUNCT && lx->s[t->off] == c;
}

/* ---- classifiers ----------------------------------------------------------- */

/* The first tokens of sql, past any opening parentheses. */
struct head {
	struct lexer lx;
	struct tok t[CLASSIFY_TOKENS];
	size_t n;
};

static void head_read(const char *sql, struct head *h)
{
	size_t len = sql ? strnlen(sql, SQL_MAX + 1) : 0;
	lex_init(&h->lx, sql ? sql : "", len);
	h->n = 0;
	while (h->n < CLASSIFY_TOKENS) {
		struct tok *t = &h->t[h->n];
		if (lex_next(&h->lx, t, NULL) != FL_OK || t->kind == TK_END)
			break;
		if (h->n == 0 && tok_punct(&h->lx, t, '('))
			continue;
		h->n++;
	}
}

static bool head_is(const struct head *h, size_t i, const char *kw)
{
	return i < h->n && tok_is(&h->lx, &h->t[i], kw);
}

static bool head_name(const struct head *h, size_t i)
{
	return i < h->n && (h->t[i].kind == TK_WORD || h->t[i].kind == TK_BACKTICK ||
			    h->t[i].kind == TK_DQUOTE);
}

/* CREATE TABLE [IF NOT EXISTS] name [WITH (...)] AS ...: a query (CTAS). */
static bool head_ctas(const struct head *h)
{
	size_t i = 1;
	if (!head_is(h, i, "TABLE"))
		return false;
	i++;
	if (head_is(h, i, "IF") && head_is(h, i + 1, "NOT") && head_is(h, i + 2, "EXISTS"))
		i += 3;
	if (!head_name(h, i))
		return false;
	i++;
	while (i + 1 < h->n && tok_punct(&h->lx, &h->t[i], '.') && head_name(h, i + 1))
		i += 2;
	return head_is(h, i, "WITH") || head_is(h, i, "AS");
}

const char *fl_ddl_statement_type(const char *sql)
{
	struct head h;
	head_read(sql, &h);
	if (head_is(&h, 0, "SHOW"))
		return head_is(&h, 1, "CREATE") ? "DDL" : "UTILITY";
	if (head_is(&h, 0, "EXPLAIN"))
		return "UTILITY";
	if (head_is(&h, 0, "CREATE"))
		return head_ctas(&h) ? "DML" : "DDL";
	if (head_is(&h, 0, "DESCRIBE") || head_is(&h, 0, "DESC") || head_is(&h, 0, "DROP") ||
	    head_is(&h, 0, "ALTER") || head_is(&h, 0, "MSCK"))
		return "DDL";
	return "DML";
}

bool fl_ddl_is_ddl(const char *sql)
{
	struct head h;
	head_read(sql, &h);
	if (head_is(&h, 0, "CREATE"))
		return !head_ctas(&h);
	return head_is(&h, 0, "SHOW") || head_is(&h, 0, "DESCRIBE") || head_is(&h, 0, "DESC") ||
	       head_is(&h, 0, "DROP") || head_is(&h, 0, "ALTER") || head_is(&h, 0, "MSCK");
}

/* ---- parser state ---------------------------------------------------------- */

struct parser {
	struct lexer lx;
	struct tok *t;          /* tokens, the last one TK_END */
	size_t n, i;
	char *arena;
	struct fl_error *err;
};

static const struct tok *cur(const struct parser *p)
{
	return &p->t[p->i];
}

/* The token k places after the current one (the end when past it). */
static const struct tok *peek(const struct parser *p, size_t k)
{
	return p->i + k < p->n ? &p->t[p->i + k] : &p->t[p->n - 1];
}

static void advance(struct parser *p)
{
	if (p->t[p->i].kind != TK_END)
		p->i++;
}

static bool is_kw(const struct parser *p, const char *kw)
{
	return tok_is(&p->lx, cur(p), kw);
}

static bool is_punct(const struct parser *p, char c)
{
	return tok_punct(&p->lx, cur(p), c);
}

static bool accept_kw(struct parser *p, const char *kw)
{
	if (!is_kw(p, kw))
		return false;
	advance(p);
	return true;
}

static bool accept_punct(struct parser *p, char c)
{
	if (!is_punct(p, c))
		return false;
	advance(p);
	return true;
}

static enum fl_result perr(struct parser *p, const struct tok *t, const char *fmt, ...)
	FL_PRINTF(3, 4);

static enum fl_result perr(struct parser *p, const struct tok *t, const char *fmt, ...)
{
	char msg[FL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fl_error_set(p->err, FL_INVALID, "line %u:%u: %s", t->line, t->col, msg);
}

/* "mismatched input 'x'. Expecting: <expecting>" at the current token. */
static enum fl_result mismatch(struct parser *p, const char *expecting)
{
	const struct tok *t = cur(p);
	char shown[SHOWN_MAX * 4 + 8];
	if (t->kind == TK_END) {
		snprintf(shown, sizeof shown, "<EOF>");
	} else {
		size_t n = t->len < SHOWN_MAX ? t->len : SHOWN_MAX;
		/* Back off to a character boundary. */
		while (n < t->len && n > 0 && ((unsigned char)p->lx.s[t->off + n] & 0xc0) == 0x80)
			n--;
		snprintf(shown, sizeof shown, "%.*s%s", (int)n, p->lx.s + t->off,
			 n < t->len ? "..." : "");
	}
	return perr(p, t, "mismatched input '%s'. Expecting: %s", shown, expecting);
}

static enum fl_result expect_kw(struct parser *p, const char *kw)
{
	if (accept_kw(p, kw))
		return FL_OK;
	char want[64];
	snprintf(want, sizeof want, "'%s'", kw);
	return mismatch(p, want);
}

static enum fl_result expect_punct(struct parser *p, char c)
{
	if (accept_punct(p, c))
		return FL_OK;
	char want[8];
	snprintf(want, sizeof want, "'%c'", c);
	return mismatch(p, want);
}

static enum fl_result unsupported(struct parser *p, const struct tok *t)
{
	return perr(p, t, "Queries of this type are not supported");
}

static enum fl_result nomem(struct parser *p)
{
	return fl_error_set(p->err, FL_INTERNAL, "out of memory");
}

/* Lexes all of sql into p->t, decoding each token's text into p->arena. */
static enum fl_result lex_all(struct parser *p, const char *sql)
{
	size_t len = strnlen(sql, SQL_MAX + 1), bad = 0, cap = 64, o = 0;
	if (len > SQL_MAX)
		return fl_error_set(p->err, FL_INVALID, "the statement is longer than %d bytes",
				    SQL_MAX);
	lex_init(&p->lx, sql, len);
	if (!fl_ddl_utf8_valid(sql, len, &bad)) {
		struct lexer at;
		lex_init(&at, sql, len);
		for (size_t i = 0; i < bad; i++)
			if (sql[i] == '\n')
				lex_newline(&at, i);
		return fl_error_set(p->err, FL_INVALID, "line %u:%u: the statement is not valid "
				    "UTF-8", at.line, lex_col(&at, bad));
	}
	p->arena = malloc(2 * len + 2);
	p->t = malloc(cap * sizeof *p->t);
	if (!p->arena || !p->t)
		return nomem(p);
	for (;;) {
		if (p->n == cap) {
			struct tok *nt = realloc(p->t, 2 * cap * sizeof *nt);
			if (!nt)
				return nomem(p);
			p->t = nt;
			cap *= 2;
		}
		struct tok *t = &p->t[p->n];
		enum fl_result r = lex_next(&p->lx, t, p->err);
		if (r != FL_OK)
			return r;
		p->n++;
		char *text = p->arena + o;
		if (t->kind == TK_STRING || t->kind == TK_DQUOTE || t->kind == TK_BACKTICK) {
			const char *why = NULL;
			if (!fl_ddl_unquote(sql + t->off, t->len, text, &why))
				return fl_error_set(p->err, FL_INVALID, "line %u:%u: %s", t->line,
						    t->col, why);
		} else {
			memcpy(text, sql + t->off, t->len);
			text[t->len] = '\0';
		}
		t->text = text;
		o += strlen(text) + 1;
		if (t->kind == TK_END)
			return FL_OK;
	}
}

/* ---- pieces of statements -------------------------------------------------- */

/* A name (bare, `backticked` or "quoted") as a Glue name. */
static enum fl_result parse_name(struct parser *p, const char *what, char out[256])
{
	const struct tok *t = cur(p);
	if (t->kind != TK_WORD && t->kind != TK_BACKTICK && t->kind != TK_DQUOTE) {
		char want[64];
		snprintf(want, sizeof want, "<%s>", what);
		return mismatch(p, want);
	}
	struct fl_error nerr;
	if (fl_catalog_name(t->text, what, out, &nerr) != FL_OK)
		return perr(p, t, "%s", nerr.msg);
	advance(p);
	return FL_OK;
}

/* [db.]table */
static enum fl_result parse_table(struct parser *p, struct fl_ddl_stmt *st)
{
	char first[256];
	enum fl_result r = parse_name(p, "table name", first);
	if (r != FL_OK)
		return r;
	if (!accept_punct(p, '.')) {
		memcpy(st->table, first, sizeof first);
		return FL_OK;
	}
	memcpy(st->db, first, sizeof first);
	return parse_name(p, "table name", st->table);
}

/* A string literal ('...', or "..." where Hive takes a string). */
static enum fl_result parse_string(struct parser *p, const char **out)
{
	const struct tok *t = cur(p);
	if (t->kind != TK_STRING && t->kind != TK_DQUOTE)
		return mismatch(p, "<string>");
	*out = t->text;
	advance(p);
	return FL_OK;
}

static enum fl_result set_str(struct parser *p, json_t *obj, const char *key, const char *v)
{
	if (json_object_set_new(obj, key, json_string(v)) != 0)
		return nomem(p);
	return FL_OK;
}

/* ( 'k' = 'v' [, ...] ) into obj (a later key wins). */
static enum fl_result parse_props(struct parser *p, json_t *obj)
{
	enum fl_result r = expect_punct(p, '(');
	do {
		const char *k = NULL, *v = NULL;
		if (r == FL_OK)
			r = parse_string(p, &k);
		if (r == FL_OK)
			r = expect_punct(p, '=');
		if (r == FL_OK)
			r = parse_string(p, &v);
		if (r == FL_OK)
			r = set_str(p, obj, k, v);
	} while (r == FL_OK && accept_punct(p, ','));
	if (r == FL_OK)
		r = expect_punct(p, ')');
	return r;
}

/* A column type: balanced tokens up to ',' (outside <> and ()), ')'
 * (outside ()) or COMMENT, as Glue writes the type. */
static enum fl_result parse_type(struct parser *p, const char *column, char **out)
{
	struct fl_buf b;
	enum fl_result r = FL_OK;
	const struct tok *start = cur(p);
	int angle = 0, paren = 0;
	fl_buf_init(&b, FL_SCHEMA_MAX_TYPE_LEN);
	*out = NULL;
	for (;;) {
		const struct tok *t = cur(p);
		if (t->kind == TK_END || (paren == 0 && is_punct(p, ')')) ||
		    (angle == 0 && paren == 0 && (is_punct(p, ',') ||
						  (b.len > 0 && is_kw(p, "COMMENT")))))
			break;
		if (t->kind == TK_STRING || t->kind == TK_DQUOTE) {
			r = mismatch(p, "<type>");
			goto out;
		}
		angle += is_punct(p, '<') - is_punct(p, '>');
		paren += is_punct(p, '(') - is_punct(p, ')');
		if (t->kind == TK_BACKTICK) {
			r = fl_buf_printf(&b, "`%s`", t->text);
		} else if (t->kind == TK_WORD) {
			bool field = tok_punct(&p->lx, peek(p, 1), ':');
			if (!field && strcasecmp(t->text, "integer") == 0) {
				r = fl_buf_adds(&b, "int");
			} else {
				for (const char *c = t->text; r == FL_OK && *c; c++)
					r = fl_buf_addc(&b, (char)tolower((unsigned char)*c));
			}
		} else {
			r = fl_buf_adds(&b, t->text);
		}
		if (r != FL_OK) {
			r = r == FL_TOO_LARGE ? perr(p, start, "the type of column '%s' is longer "
						     "than %d bytes", column, FL_SCHEMA_MAX_TYPE_LEN)
				: nomem(p);
			goto out;
		}
		advance(p);
	}
	if (b.len == 0) {
		r = mismatch(p, "<type>");
		goto out;
	}
	if (!fl_schema_type_valid(b.data)) {
		r = perr(p, start, "invalid type '%.200s' for column '%s'", b.data, column);
		goto out;
	}
	*out = fl_buf_steal(&b, NULL);
	if (!*out)
		r = nomem(p);
out:
	fl_buf_free(&b);
	return r;
}

/* ( name type [COMMENT '...'] [, ...] ) appended to cols as Glue Columns. */
static enum fl_result parse_columns(struct parser *p, json_t *cols)
{
	enum fl_result r = expect_punct(p, '(');
	do {
		char name[256];
		char *type = NULL;
		const char *comment = NULL;
		json_t *col = NULL;
		if (r == FL_OK)
			r = parse_name(p, "column name", name);
		if (r == FL_OK)
			r = parse_type(p, name, &type);
		if (r == FL_OK && accept_kw(p, "COMMENT"))
			r = parse_string(p, &comment);
		if (r == FL_OK) {
			col = json_pack("{s:s,s:s}", "Name", name, "Type", type);
			if (!col || (comment && json_object_set_new(col, "Comment",
								    json_string(comment)) != 0) ||
			    json_array_append(cols, col) != 0)
				r = nomem(p);
		}
		json_decref(col);
		free(type);
	} while (r == FL_OK && accept_punct(p, ','));
	if (r == FL_OK)
		r = expect_punct(p, ')');
	return r;
}

/* A partition value: a string or a bare word / number. */
static enum fl_result parse_value(struct parser *p, const char **out)
{
	const struct tok *t = cur(p);
	if (t->kind == TK_WORD) {
		*out = t->text;
		advance(p);
		return FL_OK;
	}
	if (t->kind != TK_STRING && t->kind != TK_DQUOTE)
		return mismatch(p, "<partition value>");
	return parse_string(p, out);
}

/* PARTITION ( k = v [, ...] ) as {"Keys": [...], "Values": [...]}. */
static enum fl_result parse_partition_spec(struct parser *p, json_t **out)
{
	json_t *keys = json_array(), *vals = json_array();
	enum fl_result r = FL_OK;
	*out = NULL;
	if (!keys || !vals) {
		r = nomem(p);
		goto out;
	}
	if ((r = expect_kw(p, "PARTITION")) != FL_OK || (r = expect_punct(p, '(')) != FL_OK)
		goto out;
	do {
		char key[256];
		const char *v = NULL;
		const struct tok *at = cur(p);
		if ((r = parse_name(p, "partition key", key)) != FL_OK ||
		    (r = expect_punct(p, '=')) != FL_OK || (r = parse_value(p, &v)) != FL_OK)
			goto out;
		size_t i;
		json_t *k;
		json_array_foreach(keys, i, k)
			if (strcmp(json_string_value(k), key) == 0) {
				r = perr(p, at, "partition key '%s' appears twice", key);
				goto out;
			}
		if (json_array_append_new(keys, json_string(key)) != 0 ||
		    json_array_append_new(vals, json_string(v)) != 0) {
			r = nomem(p);
			goto out;
		}
	} while (accept_punct(p, ','));
	if ((r = expect_punct(p, ')')) != FL_OK)
		goto out;
	if (!(*out = json_pack("{s:O,s:O}", "Keys", keys, "Values", vals)))
		r = nomem(p);
out:
	json_decref(keys);
	json_decref(vals);
	return r;
}

/* A LOCATION string: an s3:// path, as Athena requires for a table. */
static enum fl_result parse_location(struct parser *p, const char **out)
{
	const struct tok *at = cur(p);
	enum fl_result r = parse_string(p, out);
	if (r != FL_OK)
		return r;
	char bucket[64], prefix[1100];
	struct fl_error lerr;
	if (strncasecmp(*out, "s3://", 5) != 0)
		return perr(p, at, "LOCATION '%.200s' is not an s3:// location", *out);
	if (fl_crawl_s3_path(*out, bucket, prefix, sizeof prefix, &lerr) != FL_OK)
		return perr(p, at, "LOCATION '%.200s' is not a valid S3 location", *out);
	return FL_OK;
}

static enum fl_result end_of_statement(struct parser *p)
{
	accept_punct(p, ';');
	if (cur(p)->kind != TK_END)
		return mismatch(p, "<EOF>");
	return FL_OK;
}

/* ---- SHOW / DESCRIBE -------------------------------------------------------- */

/* A SHOW pattern: a string or a bare word. */
static enum fl_result parse_pattern(struct parser *p, struct fl_ddl_stmt *st)
{
	const struct tok *t = cur(p);
	if (t->kind != TK_STRING && t->kind != TK_DQUOTE && t->kind != TK_WORD)
		return mismatch(p, "<pattern>");
	if (!(st->pattern = strdup(t->text)))
		return nomem(p);
	advance(p);
	return FL_OK;
}

static bool pattern_follows(const struct parser *p)
{
	const struct tok *t = cur(p);
	return t->kind == TK_STRING || t->kind == TK_DQUOTE ||
	       (t->kind == TK_WORD && !is_kw(p, "LIKE"));
}

static enum fl_result parse_show(struct parser *p, struct fl_ddl_stmt *st)
{
	enum fl_result r;
	const struct tok *what = cur(p);
	if (accept_kw(p, "DATABASES") || accept_kw(p, "SCHEMAS")) {
		st->kind = FL_DDL_SHOW_DATABASES;
		if (accept_kw(p, "LIKE"))
			return parse_pattern(p, st);
		return FL_OK;
	}
	if (accept_kw(p, "TABLES")) {
		st->kind = FL_DDL_SHOW_TABLES;
		if ((accept_kw(p, "IN") || accept_kw(p, "FROM")) &&
		    (r = parse_name(p, "database name", st->db)) != FL_OK)
			return r;
		if (accept_kw(p, "LIKE"))
			return parse_pattern(p, st);
		if (pattern_follows(p))
			return parse_pattern(p, st);
		return FL_OK;
	}
	if (accept_kw(p, "PARTITIONS")) {
		st->kind = FL_DDL_SHOW_PARTITIONS;
		if ((r = parse_table(p, st)) != FL_OK)
			return r;
		if (is_kw(p, "PARTITION")) {
			json_t *spec = NULL;
			if ((r = parse_partition_spec(p, &spec)) != FL_OK)
				return r;
			if (!(st->partitions = json_array()) ||
			    json_array_append_new(st->partitions, spec) != 0)
				return nomem(p);
		}
		return FL_OK;
	}
	if (accept_kw(p, "COLUMNS")) {
		st->kind = FL_DDL_SHOW_COLUMNS;
		if (!accept_kw(p, "IN") && !accept_kw(p, "FROM"))
			return mismatch(p, "'FROM', 'IN'");
		if ((r = parse_table(p, st)) != FL_OK)
			return r;
		if (accept_kw(p, "IN") || accept_kw(p, "FROM")) {
			char db[256];
			const struct tok *at = cur(p);
			if ((r = parse_name(p, "database name", db)) != FL_OK)
				return r;
			if (st->db[0] && strcmp(st->db, db) != 0)
				return perr(p, at, "the table is named in database '%s' and IN "
					    "names '%s'", st->db, db);
			memcpy(st->db, db, sizeof db);
		}
		return FL_OK;
	}
	if (accept_kw(p, "CREATE")) {
		st->kind = FL_DDL_SHOW_CREATE_TABLE;
		if ((r = expect_kw(p, "TABLE")) != FL_OK)
			return r;
		return parse_table(p, st);
	}
	if (accept_kw(p, "TBLPROPERTIES")) {
		st->kind = FL_DDL_SHOW_TBLPROPERTIES;
		if ((r = parse_table(p, st)) != FL_OK)
			return r;
		if (accept_punct(p, '(')) {
			if ((r = parse_pattern(p, st)) != FL_OK)
				return r;
			return expect_punct(p, ')');
		}
		return FL_OK;
	}
	return unsupported(p, what);
}

static enum fl_result parse_describe(struct parser *p, struct fl_ddl_stmt *st)
{
	st->kind = FL_DDL_DESCRIBE;
	if (is_kw(p, "FORMATTED") || is_kw(p, "EXTENDED")) {
		/* Unless it is the table's name. */
		const struct tok *next = peek(p, 1);
		if (next->kind != TK_END && !tok_punct(&p->lx, next, ';') &&
		    !tok_punct(&p->lx, next, '.')) {
			st->formatted = true;
			advance(p);
		}
	}
	return parse_table(p, st);
}

/* ---- CREATE ------------------------------------------------------------------ */

static bool parse_if_not_exists(struct parser *p, enum fl_result *r)
{
	if (!accept_kw(p, "IF"))
		return false;
	if ((*r = expect_kw(p, "NOT")) == FL_OK)
		*r = expect_kw(p, "EXISTS");
	return true;
}

static enum fl_result parse_create_database(struct parser *p, struct fl_ddl_stmt *st)
{
	enum fl_result r = FL_OK;
	st->kind = FL_DDL_CREATE_DATABASE;
	st->if_exists = parse_if_not_exists(p, &r);
	if (r != FL_OK || (r = parse_name(p, "database name", st->db)) != FL_OK)
		return r;
	if (!(st->spec = json_object()))
		return nomem(p);
	const char *s = NULL;
	if (accept_kw(p, "COMMENT") && ((r = parse_string(p, &s)) != FL_OK ||
					(r = set_str(p, st->spec, "Description", s)) != FL_OK))
		return r;
	if (accept_kw(p, "LOCATION") && ((r = parse_string(p, &s)) != FL_OK ||
					 (r = set_str(p, st->spec, "LocationUri", s)) != FL_OK))
		return r;
	if (accept_kw(p, "WITH")) {
		json_t *props = json_object();
		if (!props || json_object_set_new(st->spec, "Parameters", props) != 0)
			return nomem(p);
		if ((r = expect_kw(p, "DBPROPERTIES")) != FL_OK || (r = parse_props(p, props)) != FL_OK)
			return r;
	}
	return FL_OK;
}

/* The clauses being read, and the documents they fill. */
struct table_parse {
	struct fl_ddl_table_clauses c;
	json_t *cols, *keys, *serde_params, *props;
};

/* ROW FORMAT DELIMITED [FIELDS TERMINATED BY c [ESCAPED BY c]]
 * [COLLECTION ITEMS TERMINATED BY c] [MAP KEYS TERMINATED BY c]
 * [LINES TERMINATED BY c] [NULL DEFINED AS c], as Hive's SerDe
 * parameters ("colelction.delim" is Hive's spelling). */
static enum fl_result parse_delimited(struct parser *p, struct table_parse *tp)
{
	static const struct {
		const char *words[4];
		const char *param;
	} clauses[] = {
		{ { "FIELDS", "TERMINATED", "BY" }, "field.delim" },
		{ { "ESCAPED", "BY" }, "escape.delim" },
		{ { "COLLECTION", "ITEMS", "TERMINATED", "BY" }, "colelction.delim" },
		{ { "MAP", "KEYS", "TERMINATED", "BY" }, "mapkey.delim" },
		{ { "LINES", "TERMINATED", "BY" }, "line.delim" },
		{ { "NULL", "DEFINED", "AS" }, "serialization.null.format" },
	};
	enum fl_result r = FL_OK;
	tp->c.delimited = true;
	for (size_t i = 0; r == FL_OK && i < sizeof clauses / sizeof clauses[0]; i++) {
		const char *s = NULL;
		if (!accept_kw(p, clauses[i].words[0]))
			continue;
		for (size_t w = 1; r == FL_OK && w < 4 && clauses[i].words[w]; w++)
			r = expect_kw(p, clauses[i].words[w]);
		if (r == FL_OK)
			r = parse_string(p, &s);
		if (r == FL_OK)
			r = set_str(p, tp->serde_params, clauses[i].param, s);
		if (r == FL_OK && i == 0)   /* Hive's companion of field.delim */
			r = set_str(p, tp->serde_params, "serialization.format", s);
	}
	/* What SHOW CREATE TABLE prints for the other parameters. */
	if (r == FL_OK && accept_kw(p, "WITH") &&
	    (r = expect_kw(p, "SERDEPROPERTIES")) == FL_OK)
		r = parse_props(p, tp->serde_params);
	return r;
}

static enum fl_result parse_row_format(struct parser *p, struct table_parse *tp)
{
	enum fl_result r;
	if ((r = expect_kw(p, "FORMAT")) != FL_OK)
		return r;
	if (accept_kw(p, "DELIMITED"))
		return parse_delimited(p, tp);
	if (!accept_kw(p, "SERDE"))
		return mismatch(p, "'DELIMITED', 'SERDE'");
	if ((r = parse_string(p, &tp->c.serde)) != FL_OK)
		return r;
	if (accept_kw(p, "WITH") &&
	    ((r = expect_kw(p, "SERDEPROPERTIES")) != FL_OK ||
	     (r = parse_props(p, tp->serde_params)) != FL_OK))
		return r;
	return FL_OK;
}

static enum fl_result parse_stored_as(struct parser *p, struct table_parse *tp)
{
	enum fl_result r;
	if ((r = expect_kw(p, "AS")) != FL_OK)
		return r;
	if (accept_kw(p, "INPUTFORMAT")) {
		if ((r = parse_string(p, &tp->c.input)) != FL_OK ||
		    (r = expect_kw(p, "OUTPUTFORMAT")) != FL_OK)
			return r;
		return parse_string(p, &tp->c.output);
	}
	if (cur(p)->kind != TK_WORD || !fl_ddl_stored_as_known(cur(p)->text))
		return mismatch(p, "'AVRO', 'INPUTFORMAT', 'ORC', 'PARQUET', 'RCFILE', "
				"'SEQUENCEFILE', 'TEXTFILE'");
	tp->c.stored_as = cur(p)->text;
	advance(p);
	return FL_OK;
}

/* Column names are unique across the columns and the partition keys. */
static enum fl_result check_columns(struct parser *p, const struct tok *at,
				    const struct table_parse *c)
{
	size_t nc = json_array_size(c->cols), nk = json_array_size(c->keys);
	for (size_t i = 0; i < nc + nk; i++) {
		const json_t *a = i < nc ? json_array_get(c->cols, i) : json_array_get(c->keys, i - nc);
		const char *an = json_string_value(json_object_get(a, "Name"));
		for (size_t k = 0; k < i; k++) {
			const json_t *b = k < nc ? json_array_get(c->cols, k)
				: json_array_get(c->keys, k - nc);
			if (strcmp(an, json_string_value(json_object_get(b, "Name"))) != 0)
				continue;
			if (i >= nc && k < nc)
				return perr(p, at, "Column repeated in partitioning columns: %s", an);
			return perr(p, at, "Duplicate column name: %s", an);
		}
	}
	return FL_OK;
}

static enum fl_result parse_create_table(struct parser *p, struct fl_ddl_stmt *st)
{
	enum fl_result r = FL_OK;
	struct table_parse tp;
	memset(&tp, 0, sizeof tp);
	st->kind = FL_DDL_CREATE_TABLE;
	tp.cols = json_array();
	tp.keys = json_array();
	tp.serde_params = json_object();
	tp.props = json_object();
	if (!tp.cols || !tp.keys || !tp.serde_params || !tp.props) {
		r = nomem(p);
		goto out;
	}
	st->if_exists = parse_if_not_exists(p, &r);
	if (r != FL_OK || (r = parse_table(p, st)) != FL_OK)
		goto out;
	const struct tok *cols_at = cur(p);
	if ((r = parse_columns(p, tp.cols)) != FL_OK)
		goto out;
	if (accept_kw(p, "COMMENT") && (r = parse_string(p, &tp.c.comment)) != FL_OK)
		goto out;
	if (accept_kw(p, "PARTITIONED")) {
		if ((r = expect_kw(p, "BY")) != FL_OK || (r = parse_columns(p, tp.keys)) != FL_OK)
			goto out;
		if (json_array_size(tp.keys) > FL_CATALOG_MAX_KEYS) {
			r = perr(p, cols_at, "more than %d partition keys", FL_CATALOG_MAX_KEYS);
			goto out;
		}
	}
	if ((r = check_columns(p, cols_at, &tp)) != FL_OK)
		goto out;
	if (is_kw(p, "CLUSTERED") || is_kw(p, "SKEWED") ||
	    (is_kw(p, "STORED") && tok_is(&p->lx, peek(p, 1), "BY"))) {
		r = perr(p, cur(p), "%s tables are not supported",
			 is_kw(p, "STORED") ? "Storage handler" : "Bucketed and skewed");
		goto out;
	}
	if (accept_kw(p, "ROW") && (r = parse_row_format(p, &tp)) != FL_OK)
		goto out;
	if (accept_kw(p, "STORED") && (r = parse_stored_as(p, &tp)) != FL_OK)
		goto out;
	if (!accept_kw(p, "LOCATION")) {
		r = is_kw(p, "TBLPROPERTIES") || cur(p)->kind == TK_END || is_punct(p, ';')
			? perr(p, cur(p), "External table LOCATION is required: "
			       "LOCATION 's3://bucket/prefix/'")
			: mismatch(p, "'COMMENT', 'LOCATION', 'PARTITIONED', 'ROW', 'STORED'");
		goto out;
	}
	if ((r = parse_location(p, &tp.c.location)) != FL_OK)
		goto out;
	if (accept_kw(p, "TBLPROPERTIES") && (r = parse_props(p, tp.props)) != FL_OK)
		goto out;
	tp.c.cols = tp.cols;
	tp.c.keys = tp.keys;
	tp.c.serde_params = tp.serde_params;
	tp.c.props = tp.props;
	if (!(st->spec = fl_ddl_table_input(&tp.c)))
		r = nomem(p);
out:
	json_decref(tp.cols);
	json_decref(tp.keys);
	json_decref(tp.serde_params);
	json_decref(tp.props);
	return r;
}

static enum fl_result parse_create(struct parser *p, struct fl_ddl_stmt *st,
				   const struct tok *first)
{
	if (accept_kw(p, "DATABASE") || accept_kw(p, "SCHEMA"))
		return parse_create_database(p, st);
	if (accept_kw(p, "EXTERNAL")) {
		enum fl_result r = expect_kw(p, "TABLE");
		return r != FL_OK ? r : parse_create_table(p, st);
	}
	if (is_kw(p, "TABLE"))
		return perr(p, first, "Only external table creation is supported. "
			    "Use CREATE EXTERNAL TABLE");
	return unsupported(p, first);
}

/* ---- ALTER / DROP / MSCK ----------------------------------------------------- */

static enum fl_result parse_alter(struct parser *p, struct fl_ddl_stmt *st,
				  const struct tok *first)
{
	enum fl_result r;
	if (!accept_kw(p, "TABLE"))
		return unsupported(p, first);
	if ((r = parse_table(p, st)) != FL_OK)
		return r;
	bool add = is_kw(p, "ADD"), drop = is_kw(p, "DROP");
	if ((!add && !drop) || (!tok_is(&p->lx, peek(p, 1), "PARTITION") &&
				!tok_is(&p->lx, peek(p, 1), "IF")))
		return unsupported(p, first);
	advance(p);
	st->kind = add ? FL_DDL_ADD_PARTITIONS : FL_DDL_DROP_PARTITIONS;
	if (add) {
		r = FL_OK;
		st->if_exists = parse_if_not_exists(p, &r);
		if (r != FL_OK)
			return r;
	} else if (accept_kw(p, "IF")) {
		st->if_exists = true;
		if ((r = expect_kw(p, "EXISTS")) != FL_OK)
			return r;
	}
	if (!(st->partitions = json_array()))
		return nomem(p);
	do {
		json_t *spec = NULL;
		if ((r = parse_partition_spec(p, &spec)) != FL_OK)
			return r;
		if (json_array_append_new(st->partitions, spec) != 0)
			return nomem(p);
		const char *loc = NULL;
		if (add && accept_kw(p, "LOCATION") &&
		    ((r = parse_location(p, &loc)) != FL_OK ||
		     (r = set_str(p, spec, "Location", loc)) != FL_OK))
			return r;
		/* ADD lists partitions side by side, DROP with commas. */
	} while (add ? is_kw(p, "PARTITION") : accept_punct(p, ','));
	if (drop)
		accept_kw(p, "PURGE");
	return FL_OK;
}

static enum fl_result parse_drop(struct parser *p, struct fl_ddl_stmt *st,
				 const struct tok *first)
{
	enum fl_result r;
	bool table = accept_kw(p, "TABLE");
	if (!table && !accept_kw(p, "DATABASE") && !accept_kw(p, "SCHEMA"))
		return unsupported(p, first);
	if (accept_kw(p, "IF")) {
		st->if_exists = true;
		if ((r = expect_kw(p, "EXISTS")) != FL_OK)
			return r;
	}
	if (table) {
		st->kind = FL_DDL_DROP_TABLE;
		if ((r = parse_table(p, st)) != FL_OK)
			return r;
		accept_kw(p, "PURGE");
		return FL_OK;
	}
	st->kind = FL_DDL_DROP_DATABASE;
	if ((r = parse_name(p, "database name", st->db)) != FL_OK)
		return r;
	if (accept_kw(p, "CASCADE"))
		st->cascade = true;
	else
		accept_kw(p, "RESTRICT");
	return FL_OK;
}

static enum fl_result parse_msck(struct parser *p, struct fl_ddl_stmt *st)
{
	enum fl_result r;
	st->kind = FL_DDL_MSCK_REPAIR;
	if ((r = expect_kw(p, "REPAIR")) != FL_OK || (r = expect_kw(p, "TABLE")) != FL_OK)
		return r;
	return parse_table(p, st);
}

/* ---- the statement ----------------------------------------------------------- */

static enum fl_result parse_statement(struct parser *p, struct fl_ddl_stmt *st)
{
	const struct tok *first = cur(p);
	enum fl_result r;
	if (accept_kw(p, "SHOW"))
		r = parse_show(p, st);
	else if (accept_kw(p, "DESCRIBE") || accept_kw(p, "DESC"))
		r = parse_describe(p, st);
	else if (accept_kw(p, "CREATE"))
		r = parse_create(p, st, first);
	else if (accept_kw(p, "ALTER"))
		r = parse_alter(p, st, first);
	else if (accept_kw(p, "DROP"))
		r = parse_drop(p, st, first);
	else if (accept_kw(p, "MSCK"))
		r = parse_msck(p, st);
	else if (first->kind == TK_END)
		r = perr(p, first, "the statement is empty");
	else
		r = unsupported(p, first);
	if (r == FL_OK)
		r = end_of_statement(p);
	return r;
}

enum fl_result fl_ddl_parse(const char *sql, struct fl_ddl_stmt **out, struct fl_error *err)
{
	struct parser p;
	struct fl_ddl_stmt *st = calloc(1, sizeof *st);
	enum fl_result r;
	memset(&p, 0, sizeof p);
	p.err = err;
	*out = NULL;
	if (!st) {
		r = nomem(&p);
		goto out;
	}
	if ((r = lex_all(&p, sql ? sql : "")) != FL_OK)
		goto out;
	r = parse_statement(&p, st);
out:
	free(p.t);
	free(p.arena);
	if (r == FL_OK)
		*out = st;
	else
		fl_ddl_stmt_free(st);
	return r;
}

void fl_ddl_stmt_free(struct fl_ddl_stmt *st)
{
	if (!st)
		return;
	free(st->pattern);
	json_decref(st->spec);
	json_decref(st->partitions);
	free(st);
}
