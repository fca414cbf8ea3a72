/*
 * prefix.c - Firehose S3 prefix expressions, timestamps and object names.
 *
 * A prefix is compiled once per stream configuration into a flat token
 * list: literal runs, date fields (a timestamp pattern is expanded into its
 * fields in place, adjacent literals merged), random strings, the error
 * output type and partition keys.  Evaluation runs per event, so it does no
 * parsing and no allocation: one pass sizes the output (the dynamic parts
 * are key values and the error type), one fl_buf_reserve, one pass writes
 * bytes.  The broken-down time is computed once per evaluation, with the
 * days-to-civil algorithm of Howard Hinnant (no gmtime_r, no locale, no
 * time zone): every timestamp of a prefix shows the same instant, as
 * Firehose documents.
 *
 * The compiled prefix holds no mutable state and is shared by threads.
 *
 * Rules (Firehose developer guide, "Custom Prefixes for Amazon S3 Objects",
 * "Semantic rules" and "Dynamic Partitioning"):
 *   - expressions are !{namespace:value}; "!{" may appear only there;
 *   - namespaces: timestamp (Java DateTimeFormatter pattern, UTC), firehose
 *     (random-string: 11 characters, each instance a new one;
 *     error-output-type: ErrorOutputPrefix only), partitionKeyFromQuery,
 *     partitionKeyFromLambda;
 *   - a Prefix without a timestamp expression gets !{timestamp:yyyy/MM/dd/HH/}
 *     appended, unless it partitions by keys (dynamic partitioning prefixes
 *     are used as written);
 *   - an ErrorOutputPrefix with expressions must hold error-output-type;
 *   - prefixes are at most 1024 characters, and at most 512 once evaluated.
 */
#include "prefix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Date fields a numeric token can print. */
enum field {
	F_YEAR, F_MONTH, F_DAY, F_HOUR, F_HOUR12, F_HOUR_K, F_HOUR_k,
	F_MINUTE, F_SECOND, F_DAY_OF_YEAR, F_COUNT
};

enum tok_kind {
	TOK_LIT,          /* a: offset in text, b: length */
	TOK_NUM,          /* a: enum field, width: minimum digits */
	TOK_YEAR2,        /* two-digit year */
	TOK_FRACTION,     /* width: digits of the second's fraction (1..9) */
	TOK_AMPM,
	TOK_MONTH_TEXT,   /* width 3 "Jan", 4 "January", 5 "J" */
	TOK_WEEKDAY_TEXT, /* width 3 "Mon", 4 "Monday", 5 "M" */
	TOK_RANDOM,       /* a: instance number */
	TOK_ERROR_TYPE,
	TOK_QUERY_KEY,    /* a: index in keys */
	TOK_LAMBDA_KEY,   /* a/b: name in text */
};

struct tok {
	uint8_t kind;
	uint8_t width;
	uint32_t a;
	uint32_t b;
};

struct fl_prefix {
	struct tok *toks;
	size_t ntoks;
	char *text;             /* literal bytes and lambda key names */
	char *keys[FL_PREFIX_MAX_KEYS];
	size_t nkeys;
	size_t fixed_max;       /* bytes written by all tokens but keys/error type */
	bool has_expr;
	bool uses_random;
	bool uses_lambda;
	bool uses_time;
	bool uses_error_type;
};

/* Compile-time builder; tokens and text grow with bounded buffers. */
struct builder {
	struct fl_buf toks;     /* array of struct tok */
	struct fl_buf text;
	bool merge;             /* the last token is a literal that may grow */
};

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};
static const char *const weekday_names[7] = {  /* 0 = Monday, as ISO */
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
};

/* ---- builder -------------------------------------------------------- */

static void builder_init(struct builder *b)
{
	fl_buf_init(&b->toks, 64 * 1024 * sizeof(struct tok));
	fl_buf_init(&b->text, 64 * 1024);
	b->merge = false;
}

static void builder_free(struct builder *b)
{
	fl_buf_free(&b->toks);
	fl_buf_free(&b->text);
}

static struct tok *builder_last(struct builder *b)
{
	return (struct tok *)(void *)(b->toks.data + b->toks.len - sizeof(struct tok));
}

static enum fl_result add_tok(struct builder *b, uint8_t kind, uint8_t width,
			      uint32_t a, uint32_t c)
{
	struct tok t = { .kind = kind, .width = width, .a = a, .b = c };
	b->merge = false;
	return fl_buf_add(&b->toks, &t, sizeof t);
}

static enum fl_result add_lit(struct builder *b, const char *s, size_t n)
{
	if (n == 0)
		return FL_OK;
	size_t off = b->text.len;
	enum fl_result r = fl_buf_add(&b->text, s, n);
	if (r != FL_OK)
		return r;
	if (b->merge) {
		builder_last(b)->b += (uint32_t)n;
		return FL_OK;
	}
	r = add_tok(b, TOK_LIT, 0, (uint32_t)off, (uint32_t)n);
	b->merge = true;
	return r;
}

/* How many bytes of s[0..n) a message quotes: at most max, cut back to a
 * character boundary (messages travel in JSON answers, as UTF-8). */
static int shown_len(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return (int)max;
}

/* ---- Java DateTimeFormatter patterns --------------------------------- */

/* Compiles a pattern into b's tokens.  On a bad pattern returns FL_INVALID
 * with a short reason (Java's wording) in why. */
static enum fl_result datefmt_compile(struct builder *b, const char *pat, size_t n,
				      char *why, size_t why_size)
{
	enum fl_result r = FL_OK;
	int optional = 0;
	size_t i = 0;

	while (r == FL_OK && i < n) {
		char c = pat[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
			size_t cnt = 1;
			while (i + cnt < n && pat[i + cnt] == c)
				cnt++;
			i += cnt;
			int max = 2;        /* letters printed as 1 or 2 digits */
			enum field f = F_COUNT;
			switch (c) {
			case 'y': case 'u': case 'Y':
				if (cnt > 19)
					goto too_many;
				if (cnt == 2)
					r = add_tok(b, TOK_YEAR2, 2, 0, 0);
				else
					r = add_tok(b, TOK_NUM, (uint8_t)cnt, F_YEAR, 0);
				continue;
			case 'M': case 'L':
				if (cnt > 5)
					goto too_many;
				if (cnt <= 2)
					r = add_tok(b, TOK_NUM, (uint8_t)cnt, F_MONTH, 0);
				else
					r = add_tok(b, TOK_MONTH_TEXT, (uint8_t)cnt, 0, 0);
				continue;
			case 'E':
				if (cnt > 5)
					goto too_many;
				r = add_tok(b, TOK_WEEKDAY_TEXT, (uint8_t)(cnt < 3 ? 3 : cnt), 0, 0);
				continue;
			case 'S':
				if (cnt > 9)
					goto too_many;
				r = add_tok(b, TOK_FRACTION, (uint8_t)cnt, 0, 0);
				continue;
			case 'a':
				if (cnt > 1)
					goto too_many;
				r = add_tok(b, TOK_AMPM, 0, 0, 0);
				continue;
			case 'D': f = F_DAY_OF_YEAR; max = 3; break;
			case 'd': f = F_DAY; break;
			case 'H': f = F_HOUR; break;
			case 'h': f = F_HOUR12; break;
			case 'K': f = F_HOUR_K; break;
			case 'k': f = F_HOUR_k; break;
			case 'm': f = F_MINUTE; break;
			case 's': f = F_SECOND; break;
			default:
				snprintf(why, why_size, "unsupported pattern letter '%c'", c);
				return FL_INVALID;
			}
			if ((int)cnt > max)
				goto too_many;
			r = add_tok(b, TOK_NUM, (uint8_t)cnt, f, 0);
			continue;
too_many:
			snprintf(why, why_size, "too many pattern letters: %c", c);
			return FL_INVALID;
		}
		if (c == '\'') {
			size_t j = i + 1;
			if (j < n && pat[j] == '\'') {          /* '' outside quotes */
				r = add_lit(b, "'", 1);
				i = j + 1;
				continue;
			}
			for (;;) {
				if (j >= n) {
					snprintf(why, why_size,
						 "pattern ends with an incomplete string literal");
					return FL_INVALID;
				}
				if (pat[j] == '\'') {
					if (j + 1 < n && pat[j + 1] == '\'') {
						r = add_lit(b, "'", 1);
						j += 2;
						continue;
					}
					break;
				}
				size_t k = j;
				while (k < n && pat[k] != '\'')
					k++;
				r = add_lit(b, pat + j, k - j);
				if (r != FL_OK)
					return r;
				j = k;
			}
			i = j + 1;
			continue;
		}
		if (c == '{' || c == '}' || c == '#') {
			snprintf(why, why_size, "pattern includes reserved character '%c'", c);
			return FL_INVALID;
		}
		if (c == '[') {                 /* optional section: always printed */
			optional++;
			i++;
			continue;
		}
		if (c == ']') {
			if (optional == 0) {
				snprintf(why, why_size,
					 "pattern contains ] without previous [");
				return FL_INVALID;
			}
			optional--;
			i++;
			continue;
		}
		size_t k = i + 1;               /* a run of literal characters */
		while (k < n && !((pat[k] >= 'A' && pat[k] <= 'Z') ||
				  (pat[k] >= 'a' && pat[k] <= 'z') ||
				  strchr("'{}#[]", pat[k])))
			k++;
		r = add_lit(b, pat + i, k - i);
		i = k;
	}
	return r;       /* an open [ ends with the pattern, as in Java */
}

/* Broken-down UTC time. */
struct tm_utc {
	unsigned v[F_COUNT];
	unsigned ms;
	unsigned weekday;       /* 0 = Monday */
};

/* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z */
#define TS_MIN_MS (-62135596800000LL)
#define TS_MAX_MS (253402300799999LL)

/* Days since 1970-01-01 to proleptic Gregorian y/m/d (Hinnant). */
static void civil_from_days(int64_t z, unsigned *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (unsigned)((int64_t)yoe + era * 400 + (*m <= 2));
}

static bool breakdown(int64_t ts_ms, struct tm_utc *t)
{
	static const unsigned cum[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243,
					  273, 304, 334 };
	if (ts_ms < TS_MIN_MS || ts_ms > TS_MAX_MS)
		return false;
	int64_t days = ts_ms >= 0 ? ts_ms / 86400000 : -((-ts_ms + 86399999) / 86400000);
	unsigned msd = (unsigned)(ts_ms - days * 86400000);
	unsigned y, m, d;
	civil_from_days(days, &y, &m, &d);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	unsigned hour = msd / 3600000;
	t->v[F_YEAR] = y;
	t->v[F_MONTH] = m;
	t->v[F_DAY] = d;
	t->v[F_HOUR] = hour;
	t->v[F_HOUR12] = hour % 12 == 0 ? 12 : hour % 12;
	t->v[F_HOUR_K] = hour % 12;
	t->v[F_HOUR_k] = hour == 0 ? 24 : hour;
	t->v[F_MINUTE] = msd / 60000 % 60;
	t->v[F_SECOND] = msd / 1000 % 60;
	t->v[F_DAY_OF_YEAR] = cum[m - 1] + d + (leap && m > 2);
	t->ms = msd % 1000;
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	t->weekday = (unsigned)(((days + 3) % 7 + 7) % 7);
	return true;
}

/* Writes v in at least width digits (zero padded); returns the end. */
static char *put_num(char *p, unsigned v, unsigned width)
{
	char tmp[24];
	unsigned n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (width > n) {
		*p++ = '0';
		width--;
	}
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* Upper bound of the bytes a date or literal token writes. */
static size_t tok_max(const struct tok *t)
{
	switch (t->kind) {
	case TOK_LIT: return t->b;
	case TOK_NUM: return t->width > 4 ? t->width : 4;
	case TOK_YEAR2: return 2;
	case TOK_FRACTION: return t->width;
	case TOK_AMPM: return 2;
	case TOK_MONTH_TEXT: return 9;
	case TOK_WEEKDAY_TEXT: return 9;
	case TOK_RANDOM: return FL_PREFIX_RANDOM_LEN;
	default: return 0;
	}
}

/* Writes one date or literal token. */
static char *put_date_tok(char *p, const struct tok *t, const struct tm_utc *tm,
			  const char *text)
{
	static const unsigned pow10[10] = { 1, 10, 100, 1000, 10000, 100000,
					    1000000, 10000000, 100000000, 1000000000 };
	switch (t->kind) {
	case TOK_LIT:
		return put_str(p, text + t->a, t->b);
	case TOK_NUM:
		return put_num(p, tm->v[t->a], t->width);
	case TOK_YEAR2:
		return put_num(p, tm->v[F_YEAR] % 100, 2);
	case TOK_FRACTION:
		/* nano-of-second truncated to width digits */
		if (t->width <= 3)
			return put_num(p, tm->ms / pow10[3 - t->width], t->width);
		p = put_num(p, tm->ms, 3);
		memset(p, '0', t->width - 3u);
		return p + t->width - 3;
	case TOK_AMPM:
		return put_str(p, tm->v[F_HOUR] < 12 ? "AM" : "PM", 2);
	case TOK_MONTH_TEXT: {
		const char *s = month_names[tm->v[F_MONTH] - 1];
		return put_str(p, s, t->width == 3 ? 3 : t->width == 5 ? 1 : strlen(s));
	}
	case TOK_WEEKDAY_TEXT: {
		const char *s = weekday_names[tm->weekday];
		return put_str(p, s, t->width == 3 ? 3 : t->width == 5 ? 1 : strlen(s));
	}
	}
	return p;
}

enum fl_result fl_datefmt(const char *pattern, size_t n, int64_t ts_ms,
			  struct fl_buf *out, struct fl_error *err)
{
	struct builder b;
	struct tm_utc tm;
	char why[160];
	enum fl_result r;

	builder_init(&b);
	r = datefmt_compile(&b, pattern, n, why, sizeof why);
	if (r == FL_INVALID) {
		/* pattern is counted, not NUL-terminated: quote n bytes at most */
		fl_error_set(err, r, "invalid DateTimeFormatter pattern '%.*s': %s",
			     shown_len(pattern, n, 64), pattern, why);
		goto out;
	}
	if (r != FL_OK) {
		fl_error_set(err, r, "timestamp pattern too large");
		goto out;
	}
	if (!breakdown(ts_ms, &tm)) {
		r = fl_error_set(err, FL_INVALID, "timestamp %lld ms is outside years 1-9999",
				 (long long)ts_ms);
		goto out;
	}
	const struct tok *t = (const struct tok *)(void *)b.toks.data;
	size_t nt = b.toks.len / sizeof *t, need = 0;
	for (size_t i = 0; i < nt; i++)
		need += tok_max(&t[i]);
	r = fl_buf_reserve(out, need);
	if (r != FL_OK) {
		fl_error_set(err, r, "formatted timestamp too large");
		goto out;
	}
	char *p = out->data + out->len;
	for (size_t i = 0; i < nt; i++)
		p = put_date_tok(p, &t[i], &tm, b.text.data);
	out->len = (size_t)(p - out->data);
	out->data[out->len] = '\0';
out:
	builder_free(&b);
	return r;
}

/* ---- prefixes --------------------------------------------------------- */

/* Characters (UTF-8 code points) in s. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static bool span_is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

enum fl_result fl_prefix_compile(const char *expr, bool is_error_prefix,
				 struct fl_prefix **out, struct fl_error *err)
{
	const char *field = is_error_prefix ? "ErrorOutputPrefix" : "Prefix";
	struct fl_prefix *p = NULL;
	struct builder b;
	enum fl_result r = FL_OK;
	size_t n = strlen(expr);
	unsigned nrandom = 0;

	*out = NULL;
	builder_init(&b);
	p = calloc(1, sizeof *p);
	if (!p) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if (utf8_chars(expr, n) > FL_PREFIX_MAX_LEN) {
		r = fl_error_set(err, FL_INVALID,
				 "%s must have length less than or equal to %d",
				 field, FL_PREFIX_MAX_LEN);
		goto out;
	}

	size_t i = 0;
	while (i < n) {
		const char *open = strstr(expr + i, "!{");
		if (!open) {
			r = add_lit(&b, expr + i, n - i);
			break;
		}
		size_t at = (size_t)(open - expr);
		r = add_lit(&b, expr + i, at - i);
		if (r != FL_OK)
			break;
		size_t j = at + 2;
		while (j < n && expr[j] != '}' && !(expr[j] == '!' && expr[j + 1] == '{'))
			j++;
		if (j >= n) {
			r = fl_error_set(err, FL_INVALID,
					 "%s has an expression that is not closed: '%.*s'",
					 field, shown_len(open, n - at, 64), open);
			goto out;
		}
		if (expr[j] == '!') {
			r = fl_error_set(err, FL_INVALID,
					 "%s has a nested expression: '!{' inside '%.*s'",
					 field, shown_len(open, j - at, 64), open);
			goto out;
		}
		const char *body = expr + at + 2;
		size_t blen = j - at - 2;
		int shown = shown_len(body, blen, 64);
		const char *colon = memchr(body, ':', blen);
		if (!colon) {
			r = fl_error_set(err, FL_INVALID,
					 "%s expression '!{%.*s}' must be of the form "
					 "!{namespace:value}", field, shown, body);
			goto out;
		}
		const char *ns = body, *val = colon + 1;
		size_t nslen = (size_t)(colon - body), vlen = blen - nslen - 1;
		bool ts = span_is(ns, nslen, "timestamp");
		bool fh = span_is(ns, nslen, "firehose");
		bool qk = span_is(ns, nslen, "partitionKeyFromQuery");
		bool lk = span_is(ns, nslen, "partitionKeyFromLambda");
		if (!ts && !fh && !qk && !lk) {
			r = fl_error_set(err, FL_INVALID,
					 "%s expression '!{%.*s}' has an unknown namespace "
					 "'%.*s': use firehose, timestamp, partitionKeyFromQuery "
					 "or partitionKeyFromLambda", field, shown, body,
					 shown_len(ns, nslen, 32), ns);
			goto out;
		}
		if (vlen == 0) {
			r = fl_error_set(err, FL_INVALID,
					 "%s expression '!{%.*s}' has an empty value",
					 field, shown, body);
			goto out;
		}
		p->has_expr = true;
		if (ts) {
			char why[160];
			r = datefmt_compile(&b, val, vlen, why, sizeof why);
			if (r == FL_INVALID) {
				fl_error_set(err, r, "%s expression '!{%.*s}' is not a valid "
					     "DateTimeFormatter pattern: %s", field, shown,
					     body, why);
				goto out;
			}
			p->uses_time = true;
		} else if (fh && span_is(val, vlen, "random-string")) {
			r = add_tok(&b, TOK_RANDOM, 0, nrandom++, 0);
			p->uses_random = true;
		} else if (fh && span_is(val, vlen, "error-output-type")) {
			if (!is_error_prefix) {
				r = fl_error_set(err, FL_INVALID,
						 "Prefix can't contain !{firehose:error-output-type}: "
						 "it is valid only in ErrorOutputPrefix");
				goto out;
			}
			r = add_tok(&b, TOK_ERROR_TYPE, 0, 0, 0);
			p->uses_error_type = true;
		} else if (fh) {
			r = fl_error_set(err, FL_INVALID,
					 "%s expression '!{%.*s}' has an unknown firehose value: "
					 "use random-string or error-output-type",
					 field, shown, body);
			goto out;
		} else if (is_error_prefix) {
			r = fl_error_set(err, FL_INVALID,
					 "ErrorOutputPrefix can't contain !{%.*s}: records that "
					 "failed have no partition keys", shown, body);
			goto out;
		} else if (qk) {
			size_t k = 0;
			while (k < p->nkeys && !span_is(val, vlen, p->keys[k]))
				k++;
			if (k == p->nkeys) {
				if (p->nkeys == FL_PREFIX_MAX_KEYS) {
					r = fl_error_set(err, FL_INVALID,
							 "%s has more than %d partition keys",
							 field, FL_PREFIX_MAX_KEYS);
					goto out;
				}
				p->keys[k] = strndup(val, vlen);
				if (!p->keys[k]) {
					r = fl_error_set(err, FL_INTERNAL, "out of memory");
					goto out;
				}
				p->nkeys++;
			}
			r = add_tok(&b, TOK_QUERY_KEY, 0, (uint32_t)k, 0);
		} else {
			size_t off = b.text.len;
			r = fl_buf_add(&b.text, val, vlen);
			if (r == FL_OK)
				r = add_tok(&b, TOK_LAMBDA_KEY, 0, (uint32_t)off, (uint32_t)vlen);
			p->uses_lambda = true;
		}
		if (r != FL_OK)
			break;
		i = j + 1;
	}
	if (r != FL_OK) {
		r = fl_error_set(err, r == FL_TOO_LARGE ? FL_INVALID : r,
				 "%s could not be compiled", field);
		goto out;
	}

	if (is_error_prefix && p->has_expr && !p->uses_error_type) {
		r = fl_error_set(err, FL_INVALID,
				 "ErrorOutputPrefix must contain !{firehose:error-output-type} "
				 "when it contains expressions");
		goto out;
	}
	/* Firehose's defaults (see the header). */
	static const char def_time[] = "yyyy/MM/dd/HH/";
	char why[160];
	if (is_error_prefix && !p->has_expr) {
		r = add_tok(&b, TOK_ERROR_TYPE, 0, 0, 0);
		if (r == FL_OK)
			r = add_lit(&b, "/", 1);
		if (r == FL_OK)
			r = datefmt_compile(&b, def_time, sizeof def_time - 1, why, sizeof why);
		p->uses_error_type = p->uses_time = true;
	} else if (!is_error_prefix && !p->uses_time && p->nkeys == 0 && !p->uses_lambda) {
		r = datefmt_compile(&b, def_time, sizeof def_time - 1, why, sizeof why);
		p->uses_time = true;
	}
	if (r != FL_OK) {
		r = fl_error_set(err, FL_INTERNAL, "%s could not be compiled", field);
		goto out;
	}

	p->ntoks = b.toks.len / sizeof(struct tok);
	p->toks = (struct tok *)(void *)fl_buf_steal(&b.toks, NULL);
	p->text = fl_buf_steal(&b.text, NULL);
	if (!p->toks || !p->text) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < p->ntoks; k++)
		p->fixed_max += tok_max(&p->toks[k]);
	*out = p;
	p = NULL;
out:
	builder_free(&b);
	fl_prefix_free(p);
	return r;
}

void fl_prefix_free(struct fl_prefix *p)
{
	if (!p)
		return;
	for (size_t k = 0; k < p->nkeys; k++)
		free(p->keys[k]);
	free(p->toks);
	free(p->text);
	free(p);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void random_hex(uint64_t seed, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v = splitmix64(&seed);
	for (int i = 0; i < FL_PREFIX_RANDOM_LEN; i++, v >>= 4)
		out[i] = hex[v & 15];
}

void fl_prefix_random(uint64_t seed, char out[FL_PREFIX_RANDOM_LEN + 1])
{
	random_hex(seed, out);
	out[FL_PREFIX_RANDOM_LEN] = '\0';
}

/* The random string of instance k > 0, derived from the caller's. */
static void random_instance(const char *first, uint32_t k, char *out)
{
	uint64_t h = 0xcbf29ce484222325ULL;     /* FNV-1a */
	for (int i = 0; i < FL_PREFIX_RANDOM_LEN; i++)
		h = (h ^ (unsigned char)first[i]) * 0x100000001b3ULL;
	random_hex(h ^ ((uint64_t)k << 32), out);
}

enum fl_result fl_prefix_eval(const struct fl_prefix *p, const struct fl_prefix_ctx *ctx,
			      struct fl_buf *out, struct fl_error *err)
{
	struct tm_utc tm;
	size_t need = p->fixed_max, etlen = 0;

	/* Size the dynamic parts and check that ctx has what p needs. */
	if (p->uses_time && !breakdown(ctx->ts_ms, &tm))
		return fl_error_set(err, FL_INVALID,
				    "timestamp %lld ms is outside years 1-9999",
				    (long long)ctx->ts_ms);
	if (p->uses_random && (!ctx->random ||
			       strnlen(ctx->random, FL_PREFIX_RANDOM_LEN) < FL_PREFIX_RANDOM_LEN))
		return fl_error_set(err, FL_INTERNAL, "random-string needs %d characters",
				    FL_PREFIX_RANDOM_LEN);
	if (p->uses_error_type) {
		if (!ctx->error_output_type)
			return fl_error_set(err, FL_INTERNAL, "no error-output-type to evaluate");
		etlen = strlen(ctx->error_output_type);
	}
	for (size_t i = 0; i < p->ntoks; i++) {
		const struct tok *t = &p->toks[i];
		if (t->kind == TOK_ERROR_TYPE) {
			need += etlen;
		} else if (t->kind == TOK_QUERY_KEY) {
			const char *v = ctx->key_values ? ctx->key_values[t->a] : NULL;
			if (!v)
				return fl_error_set(err, FL_INVALID,
						    "partition key '%.64s' has no value",
						    p->keys[t->a]);
			need += ctx->key_lens ? ctx->key_lens[t->a] : strlen(v);
		} else if (t->kind == TOK_LAMBDA_KEY) {
			return fl_error_set(err, FL_INVALID,
					    "partitionKeyFromLambda:%.*s has no value: firelake "
					    "runs no Lambda processor",
					    (int)(t->b < 64 ? t->b : 64), p->text + t->a);
		}
	}

	enum fl_result r = fl_buf_reserve(out, need);
	if (r != FL_OK)
		return fl_error_set(err, r, "evaluated prefix too large");
	char *start = out->data + out->len, *q = start;
	for (size_t i = 0; i < p->ntoks; i++) {
		const struct tok *t = &p->toks[i];
		switch (t->kind) {
		case TOK_RANDOM:
			if (t->a == 0)
				memcpy(q, ctx->random, FL_PREFIX_RANDOM_LEN);
			else
				random_instance(ctx->random, t->a, q);
			q += FL_PREFIX_RANDOM_LEN;
			break;
		case TOK_ERROR_TYPE:
			q = put_str(q, ctx->error_output_type, etlen);
			break;
		case TOK_QUERY_KEY: {
			const char *v = ctx->key_values[t->a];
			q = put_str(q, v, ctx->key_lens ? ctx->key_lens[t->a] : strlen(v));
			break;
		}
		default:
			q = put_date_tok(q, t, &tm, p->text);
			break;
		}
	}
	size_t len = (size_t)(q - start);
	if (len > FL_PREFIX_MAX_EVAL_LEN && utf8_chars(start, len) > FL_PREFIX_MAX_EVAL_LEN) {
		out->data[out->len] = '\0';
		return fl_error_set(err, FL_INVALID,
				    "evaluated prefix is longer than %d characters",
				    FL_PREFIX_MAX_EVAL_LEN);
	}
	out->len += len;
	out->data[out->len] = '\0';
	return FL_OK;
}

bool fl_prefix_has_expression(const struct fl_prefix *p)
{
	return p->has_expr;
}

bool fl_prefix_uses_random(const struct fl_prefix *p)
{
	return p->uses_random;
}

bool fl_prefix_uses_partition_keys(const struct fl_prefix *p)
{
	return p->nkeys > 0;
}

bool fl_prefix_uses_lambda_keys(const struct fl_prefix *p)
{
	return p->uses_lambda;
}

size_t fl_prefix_key_count(const struct fl_prefix *p)
{
	return p->nkeys;
}

const char *fl_prefix_key_name(const struct fl_prefix *p, size_t i)
{
	return i < p->nkeys ? p->keys[i] : NULL;
}

size_t fl_prefix_hive_keys(const char *expr, char names[][128], size_t max)
{
	size_t count = 0;
	const char *s = expr;

	while (*s && count < max) {
		/* s is at the start of a path segment. */
		const char *eq = s;
		while (*eq && *eq != '/' && *eq != '=' && !(eq[0] == '!' && eq[1] == '{'))
			eq++;
		size_t nlen = (size_t)(eq - s);
		if (eq[0] == '=' && eq[1] == '!' && eq[2] == '{' && nlen > 0 && nlen < 128) {
			bool dup = false;
			for (size_t k = 0; k < count && !dup; k++)
				dup = strlen(names[k]) == nlen && memcmp(names[k], s, nlen) == 0;
			if (!dup) {
				memcpy(names[count], s, nlen);
				names[count][nlen] = '\0';
				count++;
			}
		}
		/* Skip to the next segment; '/' inside an expression does not count. */
		while (*s && *s != '/') {
			if (s[0] == '!' && s[1] == '{') {
				const char *close = strchr(s + 2, '}');
				if (!close)
					return count;
				s = close + 1;
			} else {
				s++;
			}
		}
		if (*s == '/')
			s++;
	}
	return count;
}

size_t fl_prefix_static_len(const char *expr)
{
	const char *open = strstr(expr, "!{");
	size_t end = open ? (size_t)(open - expr) : strlen(expr);
	while (end > 0 && expr[end - 1] != '/')
		end--;
	return end;
}

enum fl_result fl_object_name(struct fl_buf *out, const char *stream, int version,
			      int64_t ts_ms, const uint8_t uuid[16], bool gzip)
{
	static const char hex[] = "0123456789abcdef";
	struct tm_utc tm;
	char tail[96], *q = tail;

	if (!breakdown(ts_ms, &tm))
		return FL_INVALID;
	*q++ = '-';
	if (version < 0) {
		*q++ = '-';
		q = put_num(q, 0u - (unsigned)version, 1);
	} else {
		q = put_num(q, (unsigned)version, 1);
	}
	*q++ = '-';
	q = put_num(q, tm.v[F_YEAR], 4);
	*q++ = '-';
	q = put_num(q, tm.v[F_MONTH], 2);
	*q++ = '-';
	q = put_num(q, tm.v[F_DAY], 2);
	*q++ = '-';
	q = put_num(q, tm.v[F_HOUR], 2);
	*q++ = '-';
	q = put_num(q, tm.v[F_MINUTE], 2);
	*q++ = '-';
	q = put_num(q, tm.v[F_SECOND], 2);
	*q++ = '-';
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*q++ = '-';
		*q++ = hex[uuid[i] >> 4];
		*q++ = hex[uuid[i] & 15];
	}
	if (gzip)
		q = put_str(q, ".gz", 3);

	size_t slen = strlen(stream), tlen = (size_t)(q - tail);
	enum fl_result r = fl_buf_reserve(out, slen + tlen);
	if (r != FL_OK)
		return r;
	memcpy(out->data + out->len, stream, slen);
	memcpy(out->data + out->len + slen, tail, tlen);
	out->len += slen + tlen;
	out->data[out->len] = '\0';
	return FL_OK;
}
