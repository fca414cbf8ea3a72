/*
 * stage_value.c - PostgreSQL column types and the checks of values that
 * staging writes into COPY rows (see stage_copy.h, stage_value.h).
 *
 * DESIGN
 *
 * COPY must never reject a row, so every non-text value a lake object
 * holds is checked here against PostgreSQL's own input rules, made
 * strict, and rewritten as the text PostgreSQL will read back: integers
 * in range, decimal numbers whose double/float does not overflow or
 * underflow to zero, numeric(p,s) rounded here, dates and timestamps with
 * real calendars, booleans; text must be UTF-8 and jsonb must hold no
 * U+0000 and no number beyond what numeric accepts.  A check that fails
 * answers -1 or false and the caller writes \N.  Nothing here allocates:
 * the checks run once per value on the staging hot path.
 */
#include "stage_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_DIGITS_MAX 1000             /* numeric's precision limit */
#define NUM_EXP_MAX 1000                /* and its exponent limit */

/* ---- types ---------------------------------------------------------------- */

bool fl_stage_col_type(const char *pg_type, struct fl_stage_col *col)
{
	static const struct { const char *name; enum fl_stage_kind kind; } tab[] = {
		{ "text", FL_STAGE_TEXT }, { "character varying", FL_STAGE_TEXT },
		{ "bigint", FL_STAGE_BIGINT }, { "integer", FL_STAGE_INT },
		{ "smallint", FL_STAGE_SMALLINT }, { "double precision", FL_STAGE_DOUBLE },
		{ "real", FL_STAGE_REAL }, { "boolean", FL_STAGE_BOOL },
		{ "timestamp without time zone", FL_STAGE_TIMESTAMP }, { "date", FL_STAGE_DATE },
		{ "bytea", FL_STAGE_BYTEA }, { "jsonb", FL_STAGE_JSONB },
		{ "numeric", FL_STAGE_NUMERIC },
	};
	char t[128];
	size_t n = strlen(pg_type);
	col->kind = FL_STAGE_UNKNOWN;
	col->array = false;
	col->precision = col->scale = 0;
	if (n >= sizeof t)
		return true;
	memcpy(t, pg_type, n + 1);
	if (n > 2 && strcmp(t + n - 2, "[]") == 0) {
		col->array = true;
		t[n -= 2] = '\0';
	}
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(t, tab[i].name) == 0) {
			col->kind = tab[i].kind;
			return true;
		}
	int p, s, used = 0;
	if (strncmp(t, "numeric(", 8) == 0) {
		if (sscanf(t, "numeric(%d,%d)%n", &p, &s, &used) != 2 || (size_t)used != n ||
		    p < 1 || p > NUM_DIGITS_MAX || s < 0 || s > p)
			return false;
		col->kind = FL_STAGE_NUMERIC;
		col->precision = p;
		col->scale = s;
	}
	return true;
}

/* ---- checks of values (write PostgreSQL's input text, or fail) ----------- */

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* An integer in [-(lim + 1), lim]: [+-]digits. */
static int int_plain(const char *s, size_t n, uint64_t lim, char *dst)
{
	size_t i = 0;
	bool neg = false;
	if (n > 0 && (s[0] == '+' || s[0] == '-'))
		neg = s[i++] == '-';
	if (i == n || n > 64)
		return -1;
	uint64_t v = 0;
	for (size_t k = i; k < n; k++) {
		if (!is_digit(s[k]))
			return -1;
		unsigned d = (unsigned)(s[k] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v > lim + (neg ? 1 : 0))
		return -1;
	memcpy(dst, s, n);
	return (int)n;
}

/* A decimal number's syntax: [+-](digits[.digits] | .digits)[e[+-]digits].
 * *digits counts the mantissa's digits, *exp is the exponent (saturated). */
static bool num_syntax(const char *s, size_t n, size_t *digits, long *exp, bool *has_exp)
{
	size_t i = 0, d = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && is_digit(s[i]))
		i++, d++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && is_digit(s[i]))
			i++, d++;
	}
	if (d == 0)
		return false;
	*digits = d;
	*exp = 0;
	*has_exp = false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		bool neg = false;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			neg = s[i++] == '-';
		if (i == n || !is_digit(s[i]))
			return false;
		long e = 0;
		for (; i < n && is_digit(s[i]); i++)
			e = e > 100000 ? e : e * 10 + (s[i] - '0');
		*exp = neg ? -e : e;
		*has_exp = true;
	}
	return i == n;
}

static int float_plain(const char *s, size_t n, bool single, char *dst)
{
	size_t digits;
	long exp;
	bool has_exp;
	if (n >= FL_STAGE_PLAIN_MAX || !num_syntax(s, n, &digits, &exp, &has_exp))
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	if (has_exp || n > 15) {
		/* What float8in/float4in do: out of range is an error only when
		 * the result overflowed or underflowed to zero. */
		char *end;
		errno = 0;
		double v = single ? (double)strtof(dst, &end) : strtod(dst, &end);
		if (end != dst + n || (errno == ERANGE && (v == 0.0 || isinf(v))))
			return -1;
	}
	return (int)n;
}

/* numeric(p,s), rounded half away from zero; precision 0: unconstrained. */
static int numeric_plain(const char *s, size_t n, int prec, int scale, char *dst)
{
	size_t digits;
	long exp;
	bool has_exp;
	if (n >= FL_STAGE_PLAIN_MAX - 8 || !num_syntax(s, n, &digits, &exp, &has_exp) ||
	    digits > NUM_DIGITS_MAX || exp > NUM_EXP_MAX || exp < -NUM_EXP_MAX)
		return -1;
	if (prec == 0) {
		memcpy(dst, s, n);
		return (int)n;
	}
	/* The value is 0.D * 10^point with D the digits without leading
	 * zeros. */
	char d[NUM_DIGITS_MAX + 2];
	size_t nd = 0, i = 0;
	long point = 0;
	bool neg = false, frac = false;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	for (; i < n && (is_digit(s[i]) || s[i] == '.'); i++) {
		if (s[i] == '.') {
			frac = true;
			continue;
		}
		if (nd == 0 && s[i] == '0') {
			if (frac)
				point--;
			continue;
		}
		d[nd++] = s[i];
		if (!frac)
			point++;
	}
	point += exp;
	/* Round at scale places after the point: keep digits [0, keep). */
	long keep = point + scale;
	if (keep < 0 || nd == 0) {
		nd = 0;
	} else if ((size_t)keep < nd) {
		bool up = d[keep] >= '5';
		nd = (size_t)keep;
		if (up) {
			long k = (long)nd - 1;
			while (k >= 0 && d[k] == '9')
				d[k--] = '0';
			if (k >= 0) {
				d[k]++;
			} else {
				memmove(d + 1, d, nd);
				d[0] = '1';
				nd++;
				point++;
			}
		}
		while (nd > 0 && d[nd - 1] == '0')
			nd--;
	}
	if (nd == 0)
		neg = false;
	long intd = nd == 0 ? 0 : (point > 0 ? point : 0);
	if (intd > prec - scale)
		return -1;
	size_t o = 0;
	if (neg)
		dst[o++] = '-';
	if (intd == 0)
		dst[o++] = '0';
	for (long k = 0; k < intd; k++)
		dst[o++] = (size_t)k < nd ? d[k] : '0';
	if (scale > 0) {
		dst[o++] = '.';
		for (long k = 0; k < scale; k++) {
			long at = point + k;  /* index into d of this fraction digit */
			dst[o++] = at >= 0 && (size_t)at < nd ? d[at] : '0';
		}
	}
	return (int)o;
}

static int digits_at(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
static long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put_num(char *w, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		w[i] = (char)('0' + v % 10);
	return w + width;
}

/* yyyy-MM-dd, then (timestamps) [T ]HH:mm[:ss[.f]][Z|+HH[:mm]]. */
static int time_plain(const char *s, size_t n, bool date_only, char *dst)
{
	if (n < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	int y = digits_at(s, 4), mo = digits_at(s + 5, 2), d = digits_at(s + 8, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return -1;
	int hh = 0, mi = 0, ss = 0, off = 0;
	size_t i = 10, fs = 0, fn = 0;
	if (date_only && n != 10)
		return -1;
	if (i < n) {
		if ((s[i] != 'T' && s[i] != 't' && s[i] != ' ') || n < i + 6 || s[i + 3] != ':')
			return -1;
		hh = digits_at(s + i + 1, 2);
		mi = digits_at(s + i + 4, 2);
		i += 6;
		if (i < n && s[i] == ':') {
			if (n < i + 3 || (ss = digits_at(s + i + 1, 2)) < 0)
				return -1;
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				fs = ++i;
				while (i < n && is_digit(s[i]))
					i++;
				fn = i - fs;
				if (fn == 0 || fn > 9)
					return -1;
			}
		}
		if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss > 59)
			return -1;
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
			if (n < i + 3 || (oh = digits_at(s + i + 1, 2)) < 0 || oh > 23)
				return -1;
			i += 3;
			if (i < n && s[i] == ':')
				i++;
			if (i < n) {
				if (n < i + 2 || (om = digits_at(s + i, 2)) < 0 || om > 59)
					return -1;
				i += 2;
			}
			off = sign * (oh * 60 + om);
		}
		if (i != n)
			return -1;
	}
	if (off != 0) {
		long mins = (long)hh * 60 + mi - off, day = days_from_civil(y, mo, d);
		day += mins < 0 ? -1 : mins >= 1440 ? 1 : 0;
		mins = (mins + 1440) % 1440;
		civil_from_days(day, &y, &mo, &d);
		if (y < 1 || y > 9999)
			return -1;
		hh = (int)(mins / 60);
		mi = (int)(mins % 60);
	}
	char *w = put_num(dst, y, 4);
	*w++ = '-';
	w = put_num(w, mo, 2);
	*w++ = '-';
	w = put_num(w, d, 2);
	if (!date_only) {
		*w++ = ' ';
		w = put_num(w, hh, 2);
		*w++ = ':';
		w = put_num(w, mi, 2);
		*w++ = ':';
		w = put_num(w, ss, 2);
		if (fn) {
			*w++ = '.';
			memcpy(w, s + fs, fn > 6 ? 6 : fn);  /* microseconds: the rest cut */
			w += fn > 6 ? 6 : fn;
		}
	}
	return (int)(w - dst);
}

static bool word_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* A non-text scalar from text; the length written to dst, or -1. */
int fl_stage_value_plain(const struct fl_stage_col *col, const char *s, size_t n, char *dst)
{
	switch (col->kind) {
	case FL_STAGE_BIGINT:
		return int_plain(s, n, INT64_MAX, dst);
	case FL_STAGE_INT:
		return int_plain(s, n, INT32_MAX, dst);
	case FL_STAGE_SMALLINT:
		return int_plain(s, n, INT16_MAX, dst);
	case FL_STAGE_DOUBLE:
		return float_plain(s, n, false, dst);
	case FL_STAGE_REAL:
		return float_plain(s, n, true, dst);
	case FL_STAGE_NUMERIC:
		return numeric_plain(s, n, col->precision, col->scale, dst);
	case FL_STAGE_BOOL:
		if (word_eq(s, n, "true") || word_eq(s, n, "false")) {
			dst[0] = (s[0] | 0x20) == 't' ? 't' : 'f';
			return 1;
		}
		return -1;
	case FL_STAGE_TIMESTAMP:
		return time_plain(s, n, false, dst);
	case FL_STAGE_DATE:
		return time_plain(s, n, true, dst);
	default:
		return -1;
	}
}

bool fl_stage_value_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (c == 0)
				return false;
			i++;
			continue;
		}
		size_t len;
		unsigned char lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			lo = c == 0xE0 ? 0xA0 : 0x80;
			hi = c == 0xED ? 0x9F : 0xBF;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			lo = c == 0xF0 ? 0x90 : 0x80;
			hi = c == 0xF4 ? 0x8F : 0xBF;
		} else {
			return false;
		}
		if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* Whether PostgreSQL's jsonb takes this valid JSON text: no \u0000, no
 * number past numeric's limits. */
bool fl_stage_value_jsonb_ok(const char *s, size_t n)
{
	const char *p = s, *e = s + n;
	while (p < e) {
		if (*p == '"') {
			for (p++; p < e && *p != '"'; p++)
				if (*p == '\\') {
					if (e - p >= 6 && memcmp(p + 1, "u0000", 5) == 0)
						return false;
					p++;
				}
			p++;
		} else if (*p == '-' || is_digit(*p)) {
			const char *q = p;
			while (q < e && (*q == '-' || *q == '+' || *q == '.' || *q == 'e' ||
					 *q == 'E' || is_digit(*q)))
				q++;
			size_t digits;
			long exp;
			bool has_exp;
			if (!num_syntax(p, (size_t)(q - p), &digits, &exp, &has_exp) ||
			    digits > NUM_DIGITS_MAX || exp > NUM_EXP_MAX || exp < -NUM_EXP_MAX)
				return false;
			p = q;
		} else {
			p++;
		}
	}
	return true;
}
