/*
 * glue_expr.c - Glue's Expression parameters, compiled to something safe.
 *
 * Design.  GetPartitions' Expression is parsed by recursive descent, one
 * function per rule of the grammar in glue_expr.h, over a length-bounded
 * input with one token of lookahead; nesting (parentheses and NOT) is
 * counted and refused past FL_GLUE_EXPR_MAX_DEPTH, so the C stack is
 * bounded whatever the input.  The parser writes SQL as it goes; nothing
 * the client wrote is ever copied into that SQL: a key becomes
 * `(<values_sql>)[i]` (its 1-based position among the table's keys), a
 * literal becomes a parameter `$n::<type>` whose text the parser made
 * itself from the literal once the literal was checked against the key's
 * type.  The shape of the SQL follows the input: every predicate is
 * parenthesised, user parentheses are kept, AND/OR/NOT are SQL's and have
 * SQL's precedence, which is the grammar's.
 *
 * Partition values are free text in the catalog (Glue never checks them
 * against the key's type), so a typed comparison must not fail on a value
 * that does not parse: the value side is guarded by a regular expression
 * and is NULL (matches nothing, also under NOT) when the value is not in
 * the key type's canonical form.  The guards are what make every cast
 * infallible in PostgreSQL 15 (which has no pg_input_is_valid):
 *   string, char, varchar   value COLLATE "C" vs $n::text (byte order, as
 *                           Glue's Java compares strings)
 *   tinyint ... bigint      value::numeric vs $n::numeric, value at most
 *                           200 digits (numeric, not bigint: no overflow;
 *                           the order of integers is the same)
 *   float, double, decimal  likewise, with a fraction and an exponent
 *   date                    canonical 'yyyy-MM-dd' text, COLLATE "C": in
 *                           that form text order is date order, and a
 *                           value like 2024-02-30 cannot make a cast fail
 *   timestamp               'yyyy-MM-dd HH:mm:ss[.f]' with its separators
 *                           removed, as numeric (yyyyMMddHHmmss.f): the
 *                           order and equality of timestamps, with .5 and
 *                           .500 equal
 * Literals follow the key type: a string key takes a string or a number
 * (compared as the number's spelling: the documentation's own examples
 * write year BETWEEN 2015 AND 2018 for a crawler's string key); a numeric
 * key a number or a string holding one; date and timestamp keys a string
 * holding a valid date or timestamp.  Anything else is refused with the
 * key, its type and the position, never compared wrongly.  IS [NOT] NULL
 * looks at the raw value; LIKE matches the raw value as text with SQL's %,
 * _ and PostgreSQL's default escape '\'.
 *
 * GetTables' Expression is a regular expression where '*' is a glob star.
 * It is rewritten to a POSIX ERE anchored at the start, after a scan that
 * refuses what would be unsafe to hand to regcomp or PostgreSQL: back
 * references, repetition counts over 255, nesting past 64 groups,
 * patterns whose compiled size (bounded repetitions multiply) would be
 * large, and a repetition (+, {m,n}, '*' after '.') of something that can
 * match the empty string ("(.*)+", "a?+", "(|b){2,}"): glibc's regcomp
 * computes epsilon closures in time exponential in the number of such
 * loops (24 bytes of "a.*++++++++" cost it half a minute), and the loop
 * adds nothing a match could tell ((E*)+ matches what E* matches).  regcomp(REG_EXTENDED) then
 * has the last word on the syntax.
 */
#include "glue_expr.h"

#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_MAX ((size_t)1 << 20)   /* compiled SQL; far above what 2048 bytes make */
#define PARAM_MAX 64                /* a date or timestamp parameter's text */
#define SHOW_MAX 100                /* bytes of client text quoted in a message */

#define TABLE_RE_MAX 2048           /* the model's FilterString */
#define TABLE_RE_DEPTH 64
#define TABLE_RE_DUP_MAX 255        /* PostgreSQL's own limit (DUPMAX) */
#define TABLE_RE_WEIGHT_MAX 10000   /* atoms after bounded repetitions expand */

/* The guards on the value side (see DESIGN); constants, not client text. */
#define RE_INT "^[+-]?[0-9]{1,200}$"
#define RE_DEC "^[+-]?([0-9]{1,200}(\\.[0-9]{0,200})?|\\.[0-9]{1,200})([eE][+-]?[0-9]{1,3})?$"
#define RE_DATE "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
#define RE_TS "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]([01][0-9]|2[0-3])" \
	":[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?$"

enum kind { K_TEXT, K_INT, K_DEC, K_DATE, K_TS, K_UNSUPPORTED };

static const char *const param_cast[] = {
	[K_TEXT] = "text", [K_INT] = "numeric", [K_DEC] = "numeric",
	[K_DATE] = "text", [K_TS] = "numeric",
};

enum tk {
	T_END, T_IDENT, T_QIDENT, T_STRING, T_NUMBER, T_LPAREN, T_RPAREN, T_COMMA,
	T_CMP, T_AND, T_OR, T_NOT, T_IN, T_BETWEEN, T_LIKE, T_IS, T_NULL
};

static const struct {
	const char *word;
	enum tk kind;
} keywords[] = {
	{ "and", T_AND }, { "or", T_OR }, { "not", T_NOT }, { "in", T_IN },
	{ "between", T_BETWEEN }, { "like", T_LIKE }, { "is", T_IS }, { "null", T_NULL },
};

struct tok {
	enum tk kind;
	size_t at;        /* byte offset of its first byte */
	size_t len;       /* bytes, quotes included */
	const char *cmp;  /* T_CMP: the SQL operator */
};

struct parser {
	const char *src;          /* borrowed, len bytes */
	size_t len;
	size_t pos;               /* next byte the tokenizer reads */
	struct tok t;             /* lookahead */
	const struct fl_glue_key *keys;
	size_t nkeys;
	const char *vals;         /* values_sql */
	int first_param;
	int depth;
	enum fl_result sql_r;     /* first failure writing SQL */
	struct fl_glue_expr *out;
	struct fl_error *err;
};

/* ---- helpers ------------------------------------------------------------ */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident0(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident(char c)
{
	return is_ident0(c) || is_digit(c);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* a[0..n) equals the NUL-terminated b, ASCII case-insensitively. */
static bool same_ci(const char *a, size_t n, const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] == '\0' || lower(a[i]) != lower(b[i]))
			return false;
	return b[n] == '\0';
}

/* How many bytes of s[0..n) a message shows: at most SHOW_MAX, cut on a
 * UTF-8 character boundary (the message becomes JSON). */
static int shown(const char *s, size_t n)
{
	if (n <= SHOW_MAX)
		return (int)n;
	size_t k = SHOW_MAX;
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	return (int)k;
}

static const char *ellipsis(const char *s, size_t n)
{
	return (size_t)shown(s, n) < n ? "..." : "";
}

/* 1-based character position of byte offset at. */
static size_t column(const char *s, size_t at)
{
	size_t c = 1;
	for (size_t i = 0; i < at; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

static enum kind kind_of(const char *type)
{
	static const struct {
		const char *name;
		enum kind kind;
	} types[] = {
		{ "string", K_TEXT }, { "char", K_TEXT }, { "varchar", K_TEXT },
		{ "tinyint", K_INT }, { "smallint", K_INT }, { "int", K_INT },
		{ "integer", K_INT }, { "bigint", K_INT }, { "long", K_INT },
		{ "float", K_DEC }, { "double", K_DEC }, { "decimal", K_DEC },
		{ "date", K_DATE }, { "timestamp", K_TS },
	};
	if (!type)
		return K_UNSUPPORTED;
	size_t n = strcspn(type, "(");   /* varchar(10), decimal(10,2) */
	while (n > 0 && is_space(type[n - 1]))
		n--;
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (same_ci(type, n, types[i].name))
			return types[i].kind;
	return K_UNSUPPORTED;
}

/* ---- errors and SQL output ---------------------------------------------- */

static enum fl_result syntax(struct parser *p, size_t at, const char *what)
{
	return fl_error_set(p->err, FL_INVALID, "Syntax error in expression at position %zu: %s",
			    column(p->src, at), what);
}

/* Appends to the SQL; the first failure sticks and is reported at the end. */
static void put(struct parser *p, const char *fmt, ...) FL_PRINTF(2, 3);
static void put(struct parser *p, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	if (p->sql_r != FL_OK)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		p->sql_r = FL_INTERNAL;
		return;
	}
	if ((size_t)n < sizeof small) {
		p->sql_r = fl_buf_add(&p->out->sql, small, (size_t)n);
		return;
	}
	enum fl_result r = fl_buf_reserve(&p->out->sql, (size_t)n);
	if (r != FL_OK) {
		p->sql_r = r;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(p->out->sql.data + p->out->sql.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	p->out->sql.len += (size_t)n;
}

/* ---- tokenizer ---------------------------------------------------------- */

/* Reads the token after p->pos into p->t. */
static enum fl_result next(struct parser *p)
{
	const char *s = p->src;
	size_t n = p->len, i = p->pos;
	while (i < n && is_space(s[i]))
		i++;
	struct tok t = { .kind = T_END, .at = i, .len = 0, .cmp = NULL };
	if (i == n)
		goto done;
	char c = s[i];
	char c1 = i + 1 < n ? s[i + 1] : '\0';
	if (is_ident0(c)) {
		size_t j = i;
		while (j < n && is_ident(s[j]))
			j++;
		if (j < n && (unsigned char)s[j] >= 0x80)   /* not ASCII: quote the key */
			return syntax(p, j, "unexpected character");
		t.kind = T_IDENT;
		t.len = j - i;
		for (size_t k = 0; k < sizeof keywords / sizeof *keywords; k++)
			if (same_ci(s + i, t.len, keywords[k].word))
				t.kind = keywords[k].kind;
	} else if (c == '`') {
		const char *e = memchr(s + i + 1, '`', n - i - 1);
		if (!e)
			return syntax(p, i, "unterminated quoted key");
		if (e == s + i + 1)
			return syntax(p, i, "empty quoted key");
		t.kind = T_QIDENT;
		t.len = (size_t)(e - (s + i)) + 1;
	} else if (c == '\'') {
		size_t j = i + 1;
		for (;;) {
			if (j >= n)
				return syntax(p, i, "unterminated string literal");
			if (s[j] == '\'') {
				if (j + 1 < n && s[j + 1] == '\'') {
					j += 2;
					continue;
				}
				break;
			}
			j++;
		}
		t.kind = T_STRING;
		t.len = j + 1 - i;
	} else if (is_digit(c) || (c == '-' && is_digit(c1))) {
		size_t j = i + 1;
		while (j < n && is_digit(s[j]))
			j++;
		if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
			j++;
			while (j < n && is_digit(s[j]))
				j++;
		}
		if (j < n && (is_ident(s[j]) || s[j] == '.' || s[j] == '\'' || s[j] == '`'))
			return syntax(p, j, "malformed number");
		t.kind = T_NUMBER;
		t.len = j - i;
	} else if (c == '(' || c == ')' || c == ',') {
		t.kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
		t.len = 1;
	} else if (c == '=') {
		t.kind = T_CMP;
		t.cmp = "=";
		t.len = 1;
	} else if (c == '!' && c1 == '=') {
		t.kind = T_CMP;
		t.cmp = "<>";
		t.len = 2;
	} else if (c == '>') {
		t.kind = T_CMP;
		t.cmp = c1 == '=' ? ">=" : ">";
		t.len = c1 == '=' ? 2 : 1;
	} else if (c == '<') {
		size_t j = i + 1;
		while (j < n && is_space(s[j]))  /* "< >": the documentation's spelling */
			j++;
		t.kind = T_CMP;
		t.len = 1;
		t.cmp = "<";
		if (c1 == '=') {
			t.cmp = "<=";
			t.len = 2;
		} else if (j < n && s[j] == '>') {
			t.cmp = "<>";
			t.len = j + 1 - i;
		}
	} else {
		return syntax(p, i, "unexpected character");
	}
done:
	p->t = t;
	p->pos = t.at + t.len;
	return FL_OK;
}

/* ---- literals ----------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* [+-]digits, or with fraction [+-]digits.digits */
static bool is_number(const char *s, size_t n, bool fraction)
{
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		s++;
		n--;
	}
	const char *dot = fraction ? memchr(s, '.', n) : NULL;
	if (!dot)
		return all_digits(s, n);
	size_t k = (size_t)(dot - s);
	return all_digits(s, k) && all_digits(dot + 1, n - k - 1);
}

/* min_w to max_w digits, not followed by another; advances *i. */
static bool take_int(const char *s, size_t n, size_t *i, size_t min_w, size_t max_w, int *v)
{
	size_t k = 0;
	*v = 0;
	while (*i + k < n && k < max_w && is_digit(s[*i + k])) {
		*v = *v * 10 + (s[*i + k] - '0');
		k++;
	}
	*i += k;
	return k >= min_w && !(*i < n && is_digit(s[*i]));
}

static bool take_char(const char *s, size_t n, size_t *i, char c)
{
	if (*i < n && s[*i] == c) {
		(*i)++;
		return true;
	}
	return false;
}

/* yyyy-M[M]-d[d], a real calendar day of years 1..9999; advances *i. */
static bool take_date(const char *s, size_t n, size_t *i, int *y, int *m, int *d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!take_int(s, n, i, 4, 4, y) || !take_char(s, n, i, '-') ||
	    !take_int(s, n, i, 1, 2, m) || !take_char(s, n, i, '-') ||
	    !take_int(s, n, i, 1, 2, d))
		return false;
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1])
		return false;
	bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
	return !(*m == 2 && *d == 29 && !leap);
}

/* Makes the parameter text for a date key: 'yyyy-MM-dd'. */
static char *date_param(const char *s, size_t n)
{
	size_t i = 0;
	int y, m, d;
	if (!take_date(s, n, &i, &y, &m, &d) || i != n)
		return NULL;
	char *out = malloc(PARAM_MAX);
	if (out)
		snprintf(out, PARAM_MAX, "%04d-%02d-%02d", y, m, d);
	return out;
}

/* Makes the parameter text for a timestamp key, yyyyMMddHHmmss[.f], from
 * 'yyyy-M[M]-d[d][ H[H]:mm:ss[.f{1,9}]]' (java.sql.Timestamp's form; a
 * bare date is midnight). */
static char *ts_param(const char *s, size_t n)
{
	size_t i = 0, frac_at = 0, frac_len = 0;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (!take_date(s, n, &i, &y, &mo, &d))
		return NULL;
	if (i < n) {
		if (!(take_char(s, n, &i, ' ') || take_char(s, n, &i, 'T')) ||
		    !take_int(s, n, &i, 1, 2, &h) || !take_char(s, n, &i, ':') ||
		    !take_int(s, n, &i, 2, 2, &mi) || !take_char(s, n, &i, ':') ||
		    !take_int(s, n, &i, 2, 2, &sec))
			return NULL;
		if (take_char(s, n, &i, '.')) {
			frac_at = i;
			while (i < n && is_digit(s[i]))
				i++;
			frac_len = i - frac_at;
			if (frac_len < 1 || frac_len > 9)
				return NULL;
		}
		if (i != n || h > 23 || mi > 59 || sec > 59)
			return NULL;
	}
	char *out = malloc(PARAM_MAX);
	if (out)
		snprintf(out, PARAM_MAX, "%04d%02d%02d%02d%02d%02d%s%.*s", y, mo, d, h, mi, sec,
			 frac_len ? "." : "", (int)frac_len, s + frac_at);
	return out;
}

/* The text of a literal token, quotes removed and '' undone; caller owns. */
static char *literal_text(const char *src, const struct tok *t, size_t *len)
{
	const char *s = src + t->at;
	size_t n = t->len;
	if (t->kind == T_STRING) {
		s++;
		n -= 2;
	}
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		out[k++] = s[i];
		if (t->kind == T_STRING && s[i] == '\'')
			i++;
	}
	out[k] = '\0';
	*len = k;
	return out;
}

static enum fl_result add_param(struct parser *p, const struct tok *t, char *owned, enum kind k)
{
	struct fl_glue_expr *e = p->out;
	if (e->nparams >= FL_GLUE_EXPR_MAX_PARAMS) {
		free(owned);
		return fl_error_set(p->err, FL_INVALID, "Expression has more than %d literals "
				    "(position %zu)", FL_GLUE_EXPR_MAX_PARAMS, column(p->src, t->at));
	}
	e->params[e->nparams++] = owned;
	put(p, "$%d::%s", p->first_param + e->nparams - 1, param_cast[k]);
	return FL_OK;
}

/* Checks literal token t against key and writes its parameter. */
static enum fl_result literal(struct parser *p, const struct tok *t, size_t key)
{
	if (t->kind != T_STRING && t->kind != T_NUMBER)
		return syntax(p, t->at, "expected literal");
	const struct fl_glue_key *k = &p->keys[key];
	enum kind kind = kind_of(k->type);
	size_t n = 0;
	char *text = literal_text(p->src, t, &n), *param = NULL;
	const char *want = NULL;
	if (!text)
		return fl_error_set(p->err, FL_INTERNAL, "out of memory");
	switch (kind) {
	case K_TEXT:
		param = text;
		text = NULL;
		break;
	case K_INT:
	case K_DEC:
		want = kind == K_INT ? "an integer" : "a number";
		if (is_number(text, n, kind == K_DEC)) {
			param = text;
			text = NULL;
		}
		break;
	case K_DATE:
		want = "a date string 'yyyy-MM-dd'";
		if (t->kind == T_STRING)
			param = date_param(text, n);
		break;
	case K_TS:
		want = "a timestamp string 'yyyy-MM-dd HH:mm:ss[.fffffffff]'";
		if (t->kind == T_STRING)
			param = ts_param(text, n);
		break;
	case K_UNSUPPORTED:
		break;
	}
	free(text);
	if (!param) {
		const char *name = k->name, *type = k->type ? k->type : "";
		return fl_error_set(p->err, FL_INVALID, "Invalid literal for partition key '%.*s%s' "
				    "of type %.*s%s in expression at position %zu: expected %s",
				    shown(name, strlen(name)), name, ellipsis(name, strlen(name)),
				    shown(type, strlen(type)), type, ellipsis(type, strlen(type)),
				    column(p->src, t->at), want ? want : "a supported key type");
	}
	return add_param(p, t, param, kind);
}

/* ---- keys --------------------------------------------------------------- */

/* Resolves the lookahead as a partition key (index into keys). */
static enum fl_result key_of(struct parser *p, size_t *key)
{
	const struct tok *t = &p->t;
	const char *name = p->src + t->at;
	size_t n = t->len;
	if (t->kind == T_QIDENT) {
		name++;
		n -= 2;
	} else if (t->kind != T_IDENT) {
		return syntax(p, t->at, "expected partition key");
	}
	for (size_t i = 0; i < p->nkeys; i++) {
		if (!p->keys[i].name || !same_ci(name, n, p->keys[i].name))
			continue;
		const char *type = p->keys[i].type ? p->keys[i].type : "";
		if (kind_of(type) == K_UNSUPPORTED)
			return fl_error_set(p->err, FL_INVALID, "Unsupported type %.*s%s of partition "
					    "key '%.*s%s' in expression at position %zu",
					    shown(type, strlen(type)), type, ellipsis(type, strlen(type)),
					    shown(name, n), name, ellipsis(name, n), column(p->src, t->at));
		*key = i;
		return FL_OK;
	}
	return fl_error_set(p->err, FL_INVALID, "Unknown partition key '%.*s%s' in expression "
			    "at position %zu", shown(name, n), name, ellipsis(name, n),
			    column(p->src, t->at));
}

/* The key's value, typed for comparison (NULL when not in canonical form). */
static void put_value(struct parser *p, size_t key)
{
	const char *v = p->vals;
	size_t i = key + 1;
	switch (kind_of(p->keys[key].type)) {
	case K_INT:
		put(p, "(CASE WHEN (%s)[%zu] ~ '" RE_INT "' THEN ((%s)[%zu])::numeric END)",
		    v, i, v, i);
		break;
	case K_DEC:
		put(p, "(CASE WHEN (%s)[%zu] ~ '" RE_DEC "' THEN ((%s)[%zu])::numeric END)",
		    v, i, v, i);
		break;
	case K_DATE:
		put(p, "((CASE WHEN (%s)[%zu] ~ '" RE_DATE "' THEN (%s)[%zu] END) COLLATE \"C\")",
		    v, i, v, i);
		break;
	case K_TS:
		put(p, "(CASE WHEN (%s)[%zu] ~ '" RE_TS "' THEN translate((%s)[%zu], '-: T', '')"
		    "::numeric END)", v, i, v, i);
		break;
	case K_TEXT:
	case K_UNSUPPORTED:
		put(p, "((%s)[%zu] COLLATE \"C\")", v, i);
		break;
	}
}

/* ---- grammar ------------------------------------------------------------ */

static enum fl_result parse_or(struct parser *p);

/* key cmp literal, after the key. */
static enum fl_result pred_cmp(struct parser *p, size_t key)
{
	const char *op = p->t.cmp;
	enum fl_result r = next(p);
	if (r != FL_OK)
		return r;
	put(p, "(");
	put_value(p, key);
	put(p, " %s ", op);
	if ((r = literal(p, &p->t, key)) != FL_OK)
		return r;
	put(p, ")");
	return next(p);
}

/* literal cmp key */
static enum fl_result pred_reversed(struct parser *p)
{
	struct tok lit = p->t;
	size_t key;
	enum fl_result r = next(p);
	if (r != FL_OK)
		return r;
	if (p->t.kind != T_CMP)
		return syntax(p, p->t.at, "expected comparison operator");
	const char *op = p->t.cmp;
	if ((r = next(p)) != FL_OK || (r = key_of(p, &key)) != FL_OK)
		return r;
	put(p, "(");
	if ((r = literal(p, &lit, key)) != FL_OK)
		return r;
	put(p, " %s ", op);
	put_value(p, key);
	put(p, ")");
	return next(p);
}

/* [NOT] IN (literal, ...), at IN. */
static enum fl_result pred_in(struct parser *p, size_t key, bool neg)
{
	enum fl_result r = next(p);
	if (r != FL_OK)
		return r;
	if (p->t.kind != T_LPAREN)
		return syntax(p, p->t.at, "expected '('");
	put(p, "(");
	put_value(p, key);
	put(p, neg ? " NOT IN (" : " IN (");
	for (bool first = true;; first = false) {
		if ((r = next(p)) != FL_OK)
			return r;
		if (!first)
			put(p, ", ");
		if ((r = literal(p, &p->t, key)) != FL_OK || (r = next(p)) != FL_OK)
			return r;
		if (p->t.kind == T_RPAREN)
			break;
		if (p->t.kind != T_COMMA)
			return syntax(p, p->t.at, "expected ',' or ')'");
	}
	put(p, "))");
	return next(p);
}

/* [NOT] BETWEEN literal AND literal, at BETWEEN. */
static enum fl_result pred_between(struct parser *p, size_t key, bool neg)
{
	enum fl_result r = next(p);
	if (r != FL_OK)
		return r;
	put(p, "(");
	put_value(p, key);
	put(p, neg ? " NOT BETWEEN " : " BETWEEN ");
	if ((r = literal(p, &p->t, key)) != FL_OK || (r = next(p)) != FL_OK)
		return r;
	if (p->t.kind != T_AND)
		return syntax(p, p->t.at, "expected AND");
	put(p, " AND ");
	if ((r = next(p)) != FL_OK || (r = literal(p, &p->t, key)) != FL_OK)
		return r;
	put(p, ")");
	return next(p);
}

/* [NOT] LIKE string, at LIKE: over the raw value, as text. */
static enum fl_result pred_like(struct parser *p, size_t key, bool neg)
{
	enum fl_result r = next(p);
	if (r != FL_OK)
		return r;
	const struct tok t = p->t;
	if (t.kind != T_STRING)
		return syntax(p, t.at, "expected string literal");
	size_t n = 0;
	char *text = literal_text(p->src, &t, &n);
	if (!text)
		return fl_error_set(p->err, FL_INTERNAL, "out of memory");
	bool escaped = false;
	for (size_t i = 0; i < n; i++)
		escaped = !escaped && text[i] == '\\';
	if (escaped) {
		free(text);
		return fl_error_set(p->err, FL_INVALID, "Invalid LIKE pattern in expression at "
				    "position %zu: it ends with the escape character '\\'",
				    column(p->src, t.at));
	}
	put(p, "(((%s)[%zu] COLLATE \"C\")%s", p->vals, key + 1, neg ? " NOT LIKE " : " LIKE ");
	if ((r = add_param(p, &t, text, K_TEXT)) != FL_OK)
		return r;
	put(p, ")");
	return next(p);
}

/* IS [NOT] NULL, at IS. */
static enum fl_result pred_is(struct parser *p, size_t key)
{
	bool neg = false;
	enum fl_result r = next(p);
	if (r == FL_OK && p->t.kind == T_NOT) {
		neg = true;
		r = next(p);
	}
	if (r != FL_OK)
		return r;
	if (p->t.kind != T_NULL)
		return syntax(p, p->t.at, "expected NULL");
	put(p, "((%s)[%zu] IS %sNULL)", p->vals, key + 1, neg ? "NOT " : "");
	return next(p);
}

static enum fl_result parse_pred(struct parser *p)
{
	size_t key;
	enum fl_result r;
	if (p->t.kind == T_STRING || p->t.kind == T_NUMBER)
		return pred_reversed(p);
	if ((r = key_of(p, &key)) != FL_OK || (r = next(p)) != FL_OK)
		return r;
	switch (p->t.kind) {
	case T_CMP:
		return pred_cmp(p, key);
	case T_IN:
		return pred_in(p, key, false);
	case T_BETWEEN:
		return pred_between(p, key, false);
	case T_LIKE:
		return pred_like(p, key, false);
	case T_IS:
		return pred_is(p, key);
	case T_NOT:
		if ((r = next(p)) != FL_OK)
			return r;
		if (p->t.kind == T_IN)
			return pred_in(p, key, true);
		if (p->t.kind == T_BETWEEN)
			return pred_between(p, key, true);
		if (p->t.kind == T_LIKE)
			return pred_like(p, key, true);
		return syntax(p, p->t.at, "expected IN, BETWEEN or LIKE");
	default:
		return syntax(p, p->t.at, "expected comparison operator");
	}
}

/* not := NOT not | '(' expr ')' | pred */
static enum fl_result parse_not(struct parser *p)
{
	if (p->t.kind != T_NOT && p->t.kind != T_LPAREN)
		return parse_pred(p);
	bool paren = p->t.kind == T_LPAREN;
	if (++p->depth > FL_GLUE_EXPR_MAX_DEPTH)
		return fl_error_set(p->err, FL_INVALID, "Expression nests deeper than %d levels "
				    "at position %zu", FL_GLUE_EXPR_MAX_DEPTH,
				    column(p->src, p->t.at));
	enum fl_result r = next(p);
	if (r != FL_OK)
		return r;
	put(p, paren ? "(" : "NOT ");
	if ((r = paren ? parse_or(p) : parse_not(p)) != FL_OK)
		return r;
	if (paren) {
		if (p->t.kind != T_RPAREN)
			return syntax(p, p->t.at, "expected ')'");
		put(p, ")");
		if ((r = next(p)) != FL_OK)
			return r;
	}
	p->depth--;
	return FL_OK;
}

static enum fl_result parse_and(struct parser *p)
{
	enum fl_result r = parse_not(p);
	while (r == FL_OK && p->t.kind == T_AND) {
		put(p, " AND ");
		if ((r = next(p)) == FL_OK)
			r = parse_not(p);
	}
	return r;
}

static enum fl_result parse_or(struct parser *p)
{
	enum fl_result r = parse_and(p);
	while (r == FL_OK && p->t.kind == T_OR) {
		put(p, " OR ");
		if ((r = next(p)) == FL_OK)
			r = parse_and(p);
	}
	return r;
}

static void expr_init(struct fl_glue_expr *e)
{
	fl_buf_init(&e->sql, SQL_MAX);
	for (size_t i = 0; i < FL_GLUE_EXPR_MAX_PARAMS; i++)
		e->params[i] = NULL;
	e->nparams = 0;
}

void fl_glue_expr_free(struct fl_glue_expr *e)
{
	if (!e)
		return;
	fl_buf_free(&e->sql);
	for (int i = 0; i < e->nparams && i < FL_GLUE_EXPR_MAX_PARAMS; i++) {
		free(e->params[i]);
		e->params[i] = NULL;
	}
	e->nparams = 0;
}

enum fl_result fl_glue_expr_compile(const char *expr, const struct fl_glue_key *keys,
				    size_t nkeys, const char *values_sql, int first_param,
				    struct fl_glue_expr *out, struct fl_error *err)
{
	enum fl_result r;
	expr_init(out);
	if (!expr || !values_sql || (nkeys && !keys) || first_param < 1 ||
	    first_param > INT_MAX - FL_GLUE_EXPR_MAX_PARAMS)
		return fl_error_set(err, FL_INTERNAL, "invalid arguments to the expression compiler");
	size_t len = strnlen(expr, FL_GLUE_EXPR_MAX_LEN + 1);
	if (len > FL_GLUE_EXPR_MAX_LEN)
		return fl_error_set(err, FL_INVALID, "Expression is longer than %d bytes",
				    FL_GLUE_EXPR_MAX_LEN);
	struct parser p = {
		.src = expr, .len = len, .pos = 0, .keys = keys, .nkeys = nkeys,
		.vals = values_sql, .first_param = first_param, .depth = 0,
		.sql_r = FL_OK, .out = out, .err = err,
	};
	if ((r = next(&p)) != FL_OK)
		goto out;
	if (p.t.kind == T_END) {   /* a blank expression filters nothing */
		put(&p, "TRUE");
	} else {
		if ((r = parse_or(&p)) != FL_OK)
			goto out;
		if (p.t.kind != T_END) {
			r = syntax(&p, p.t.at, p.t.kind == T_RPAREN ? "unmatched ')'"
				   : "expected AND, OR or end of expression");
			goto out;
		}
	}
	if (p.sql_r == FL_TOO_LARGE)
		r = fl_error_set(err, FL_INVALID, "Expression is too complex");
	else if (p.sql_r != FL_OK)
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
out:
	if (r != FL_OK) {   /* no half-made SQL for a caller to run */
		fl_glue_expr_free(out);
		expr_init(out);
	}
	return r;
}

/* ---- GetTables' Expression ---------------------------------------------- */

/* Sizes of what regcomp will build, per open group, and what can match
 * the empty string (see DESIGN). */
struct re_scan {
	size_t total[TABLE_RE_DEPTH + 1];  /* weight of each open group so far */
	size_t last;                       /* weight of the last atom (0: none) */
	int depth;
	bool top_alt;                      /* a '|' outside any group */
	/* Items of the group's current branch that cannot match empty. */
	size_t solid[TABLE_RE_DEPTH + 1];
	bool alt_empty[TABLE_RE_DEPTH + 1];  /* an earlier branch can */
	bool last_empty;                     /* the last item can */
	bool last_solid;                     /* ... and is counted in solid */
};

static void re_atom(struct re_scan *s, size_t w)
{
	s->total[s->depth] += w;
	s->last = w;
}

/* The last item added (after re_atom) can match empty or not. */
static void re_item(struct re_scan *s, bool empty)
{
	s->last_empty = empty;
	s->last_solid = !empty;
	if (!empty)
		s->solid[s->depth]++;
}

/* A new group, or a new branch of the current one. */
static void re_branch(struct re_scan *s)
{
	s->solid[s->depth] = 0;
	s->last_empty = s->last_solid = false;
}

/* A quantifier with at least min copies, loop when it repeats (max > 1):
 * false when it loops over something that can match empty. */
static bool re_quantify(struct re_scan *s, size_t min, bool loop)
{
	if (loop && s->last_empty)
		return false;
	if (min == 0 && s->last_solid) {
		s->solid[s->depth]--;
		s->last_solid = false;
	}
	if (min == 0)
		s->last_empty = true;
	return true;
}

static void re_repeat(struct re_scan *s, size_t times)
{
	size_t extra = s->last * times;
	s->total[s->depth] += extra;
	s->last += extra;
}

/* End of the bracket expression starting at e[i] == '['; n when open. */
static size_t bracket_end(const char *e, size_t n, size_t i)
{
	size_t j = i + 1;
	if (j < n && e[j] == '^')
		j++;
	if (j < n && e[j] == ']')
		j++;
	while (j < n && e[j] != ']') {
		if (e[j] == '[' && j + 1 < n && strchr(":.=", e[j + 1])) {
			char close[3] = { e[j + 1], ']', '\0' };
			const char *c = NULL;
			for (size_t k = j + 2; k + 1 < n && !c; k++)
				if (e[k] == close[0] && e[k + 1] == close[1])
					c = e + k;
			if (c) {
				j = (size_t)(c - e) + 2;
				continue;
			}
		}
		j++;
	}
	return j;
}

/* Reads digits at e[*j] (value saturated); returns how many there were. */
static size_t re_count(const char *e, size_t n, size_t *j, size_t *v)
{
	size_t k = 0;
	*v = 0;
	for (; *j < n && is_digit(e[*j]); (*j)++, k++)
		if (*v <= TABLE_RE_DUP_MAX)
			*v = *v * 10 + (size_t)(e[*j] - '0');
	return k;
}

/* {m}, {m,}, {m,n}, {,n} at e[i] (glibc reads all four): the most copies
 * regcomp makes, or 0 when e[i] does not start a bound. */
static size_t re_bound(const char *e, size_t n, size_t i, size_t *end)
{
	size_t j = i + 1, m, v;
	size_t dm = re_count(e, n, &j, &m), mx = m;
	bool comma = j < n && e[j] == ',';
	if (dm == 0 && !comma)
		return 0;
	if (comma) {
		j++;
		mx = re_count(e, n, &j, &v) ? (v > m ? v : m) : m + 1;  /* {m,}: a star too */
	}
	if (j >= n || e[j] != '}')
		return 0;
	*end = j + 1;
	return mx ? mx : 1;
}

enum fl_result fl_glue_table_pattern(const char *expr, struct fl_buf *out, struct fl_error *err)
{
	char body[2 * TABLE_RE_MAX + 1];   /* each byte makes at most two */
	struct re_scan s;
	size_t n, k = 0;
	bool dot = false;   /* the last item was an unescaped '.' */
	bool loop_ok = true;
	regex_t re;
	enum fl_result r = FL_OK;
	memset(&s, 0, sizeof s);
	if (!expr)
		return fl_error_set(err, FL_INTERNAL, "invalid arguments to the pattern compiler");
	n = strnlen(expr, TABLE_RE_MAX + 1);
	if (n > TABLE_RE_MAX)
		return fl_error_set(err, FL_INVALID, "Invalid Expression: longer than %d bytes",
				    TABLE_RE_MAX);
	for (size_t i = 0; i < n;) {
		char c = expr[i];
		bool was_dot = dot;
		size_t end = i + 1, times, at = i;
		dot = false;
		if (c == '\\') {
			if (i + 1 < n && is_digit(expr[i + 1]))
				return fl_error_set(err, FL_INVALID, "Invalid Expression: back references "
						    "are not supported (position %zu)",
						    column(expr, i));
			end = i + 1 < n ? i + 2 : i + 1;
			re_atom(&s, 1);
			/* glibc's \b \B \< \> \` \' match between characters */
			re_item(&s, end == i + 2 && strchr("bB<>`'", expr[i + 1]));
		} else if (c == '[') {
			end = bracket_end(expr, n, i);
			end = end < n ? end + 1 : n;
			re_atom(&s, 1);
			re_item(&s, false);
		} else if (c == '(') {
			if (s.depth >= TABLE_RE_DEPTH)
				return fl_error_set(err, FL_INVALID, "Invalid Expression: groups nest "
						    "deeper than %d levels", TABLE_RE_DEPTH);
			s.total[++s.depth] = 0;
			s.last = 0;
			s.alt_empty[s.depth] = false;
			re_branch(&s);
		} else if (c == ')') {
			if (s.depth == 0)
				return fl_error_set(err, FL_INVALID, "Invalid Expression: unmatched ')' "
						    "at position %zu", column(expr, i));
			bool empty = s.alt_empty[s.depth] || s.solid[s.depth] == 0;
			size_t w = s.total[s.depth--] + 1;
			re_atom(&s, w);
			re_item(&s, empty);
		} else if (c == '|') {
			s.top_alt = s.top_alt || s.depth == 0;
			s.last = 0;
			s.alt_empty[s.depth] = s.alt_empty[s.depth] || s.solid[s.depth] == 0;
			re_branch(&s);
		} else if (c == '*') {
			if (!was_dot) {         /* glob star: any run of characters */
				body[k++] = '.';
				re_atom(&s, 1);
				re_item(&s, false);
			}
			re_repeat(&s, 1);
			loop_ok = re_quantify(&s, 0, true);
		} else if (c == '+' || c == '?') {
			re_repeat(&s, 1);
			loop_ok = re_quantify(&s, c == '+', c == '+');
		} else if (c == '{' && (times = re_bound(expr, n, i, &end)) > 0) {
			if (times > TABLE_RE_DUP_MAX)
				return fl_error_set(err, FL_INVALID, "Invalid Expression: repetition "
						    "count over %d at position %zu",
						    TABLE_RE_DUP_MAX, column(expr, i));
			re_repeat(&s, times);
			/* {m,n}, {,n}: at least m copies (0 when no digit) */
			size_t min = 0;
			for (size_t j = i + 1; is_digit(expr[j]) && !min; j++)
				min = expr[j] != '0';
			loop_ok = re_quantify(&s, min, times > 1);
		} else {
			dot = c == '.';
			re_atom(&s, 1);
			re_item(&s, c == '^' || c == '$');
		}
		memcpy(body + k, expr + i, end - i);
		k += end - i;
		i = end;
		if (s.total[s.depth] > TABLE_RE_WEIGHT_MAX)
			return fl_error_set(err, FL_INVALID, "Invalid Expression: too complex");
		if (!loop_ok)
			return fl_error_set(err, FL_INVALID, "Invalid Expression: a repetition of "
					    "what can match the empty string at position %zu",
					    column(expr, at));
	}
	if (s.depth > 0)
		return fl_error_set(err, FL_INVALID, "Invalid Expression: unmatched '('");
	fl_buf_reset(out);
	if ((r = fl_buf_adds(out, s.top_alt ? "^(" : "^")) != FL_OK ||
	    (r = fl_buf_add(out, body, k)) != FL_OK ||
	    (s.top_alt && (r = fl_buf_addc(out, ')')) != FL_OK))
		return fl_error_set(err, r == FL_TOO_LARGE ? FL_INVALID : FL_INTERNAL,
				    "Invalid Expression: too long");
	int rc = regcomp(&re, out->data, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[256];
		regerror(rc, &re, why, sizeof why);
		fl_buf_reset(out);
		return fl_error_set(err, FL_INVALID, "Invalid Expression: %s", why);
	}
	regfree(&re);
	return FL_OK;
}
