/*
 * athena_csv.c - query results as Athena writes them (athena_csv.h draws
 * the format).
 *
 * DESIGN: the writer works one value at a time on PostgreSQL's text
 * output, so a result streams through it in single-row mode; it never
 * parses a value into a C type it would have to print back (a double is
 * re-laid out digit by digit, never through printf, so no digit is lost
 * or invented).  The reader is the writer's inverse for GetQueryResults:
 * a quoted field is a value (the empty string included), an empty
 * unquoted field is NULL.
 */
#include "athena_csv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- values as Athena prints them ---------------------------------------- */

/* PostgreSQL type OIDs (pg_type.dat) and their array types. */
static const struct {
	unsigned oid, elem_of;  /* elem_of: the array type of this element, 0 none */
	const char *type;
	enum fl_athena_csv_kind kind;
	int precision;
} TYPES[] = {
	{ 16, 1000, "boolean", FL_CSV_BOOL, 0 },        { 17, 1001, "varbinary", FL_CSV_BYTEA, 0 },
	{ 20, 1016, "bigint", FL_CSV_TEXT, 19 },        { 21, 1005, "smallint", FL_CSV_TEXT, 5 },
	{ 23, 1007, "integer", FL_CSV_TEXT, 10 },       { 25, 1009, "varchar", FL_CSV_TEXT, 2147483647 },
	{ 1043, 1015, "varchar", FL_CSV_TEXT, 2147483647 }, { 1042, 1014, "char", FL_CSV_TEXT, 2147483647 },
	{ 19, 1003, "varchar", FL_CSV_TEXT, 2147483647 }, { 700, 1021, "float", FL_CSV_FLOAT, 7 },
	{ 701, 1022, "double", FL_CSV_FLOAT, 17 },      { 1082, 1182, "date", FL_CSV_TEXT, 0 },
	{ 1114, 1115, "timestamp", FL_CSV_TS, 3 },      { 1184, 1185, "timestamp with time zone", FL_CSV_TSTZ, 3 },
	{ 1083, 1183, "time", FL_CSV_TIME, 3 },         { 1700, 1231, "decimal", FL_CSV_TEXT, 38 },
	{ 114, 199, "json", FL_CSV_JSON, 0 },           { 3802, 3807, "json", FL_CSV_JSON, 0 },
	{ 2950, 2951, "uuid", FL_CSV_TEXT, 0 },         { 2249, 0, "row", FL_CSV_TEXT, 0 },
	{ 1186, 1187, "interval day to second", FL_CSV_TEXT, 0 },
};

void fl_athena_csv_col_init(struct fl_athena_csv_col *c, unsigned oid, int mod)
{
	*c = (struct fl_athena_csv_col){ .type = "varchar", .kind = FL_CSV_TEXT,
					 .precision = 2147483647 };
	for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
		if (TYPES[i].oid == oid) {
			c->type = TYPES[i].type;
			c->kind = TYPES[i].kind;
			c->precision = TYPES[i].precision;
		} else if (TYPES[i].elem_of == oid) {
			*c = (struct fl_athena_csv_col){ .type = "array", .kind = FL_CSV_ARRAY,
							 .elem = TYPES[i].kind };
		}
	}
	if (oid == 1700) {
		if (mod >= 4) {
			c->precision = ((mod - 4) >> 16) & 0xffff;
			c->scale = (mod - 4) & 0xffff;
		} else {
			c->free_numeric = true;
		}
	}
}

/* Java's Double.toString / Float.toString layout of PostgreSQL's shortest
 * digits: plain for 1e-3 <= |x| < 1e7 (at least one fractional digit),
 * else d.dddE<n>. */
static enum fl_result java_double(const char *v, struct fl_buf *b)
{
	char dig[64];
	int nd = 0;
	long e = 0;           /* value = 0.<dig> * 10^e */
	bool point = false, neg = false;
	const char *p = v;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p) && *p != '.')
		return fl_buf_adds(b, v);       /* NaN, Infinity, -Infinity */
	for (; *p && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			point = true;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			return fl_buf_adds(b, v);
		if (nd == 0 && *p == '0') {
			e -= point;
			continue;
		}
		if (nd < (int)sizeof dig - 1)
			dig[nd++] = *p;
		e += !point;
	}
	if (*p)
		e += strtol(p + 1, NULL, 10);
	while (nd > 0 && dig[nd - 1] == '0')
		nd--;
	enum fl_result r = neg ? fl_buf_addc(b, '-') : FL_OK;
	if (r != FL_OK)
		return r;
	if (nd == 0)
		return fl_buf_adds(b, "0.0");
	long sci = e - 1;
	if (sci >= -3 && sci < 7) {
		if (e <= 0) {
			r = fl_buf_adds(b, "0.");
			for (long i = 0; i < -e && r == FL_OK; i++)
				r = fl_buf_addc(b, '0');
			return r == FL_OK ? fl_buf_add(b, dig, (size_t)nd) : r;
		}
		for (long i = 0; i < e && r == FL_OK; i++)
			r = fl_buf_addc(b, i < nd ? dig[i] : '0');
		if (r == FL_OK)
			r = nd > e ? fl_buf_printf(b, ".%.*s", nd - (int)e, dig + e)
				: fl_buf_adds(b, ".0");
		return r;
	}
	return fl_buf_printf(b, "%c.%.*s%sE%ld", dig[0], nd - 1, dig + 1, nd > 1 ? "" : "0", sci);
}

/* 'YYYY-MM-DD HH:MM:SS[.ffffff][+zz]' -> milliseconds, zone cut off. */
static enum fl_result timestamp_ms(const char *v, size_t len, bool time_only,
				   const char *suffix, struct fl_buf *b)
{
	size_t base = time_only ? 8 : 19;
	if (len < base || !isdigit((unsigned char)v[0]) || (len > base && v[base] != '.' &&
							   v[base] != '+' && v[base] != '-'))
		return fl_buf_add(b, v, len);   /* infinity, BC dates: as they are */
	char ms[4] = "000";
	if (len > base && v[base] == '.')
		for (size_t i = 0; i < 3 && base + 1 + i < len && isdigit((unsigned char)v[base + 1 + i]); i++)
			ms[i] = v[base + 1 + i];
	return fl_buf_printf(b, "%.*s.%s%s", (int)base, v, ms, suffix);
}

static enum fl_result format_scalar(enum fl_athena_csv_kind k, const char *v, size_t len, struct fl_buf *b);

/* A PostgreSQL array literal '{a,"b c",NULL,{1,2}}' as Trino prints it:
 * [a, b c, null, [1, 2]]. */
static enum fl_result format_array(enum fl_athena_csv_kind k, const char **pp, const char *end,
				   struct fl_buf *b, struct fl_buf *tmp, int depth)
{
	const char *p = *pp;
	enum fl_result r = fl_buf_addc(b, '[');
	if (depth > 16 || p >= end || *p != '{')
		return FL_INVALID;
	p++;
	for (bool first = true; r == FL_OK && p < end && *p != '}'; first = false) {
		if (!first && (r = fl_buf_adds(b, ", ")) != FL_OK)
			break;
		if (*p == '{') {
			r = format_array(k, &p, end, b, tmp, depth + 1);
		} else if (*p == '"') {
			fl_buf_reset(tmp);
			for (p++; p < end && *p != '"' && r == FL_OK; p++)
				r = fl_buf_addc(tmp, *p == '\\' && p + 1 < end ? *++p : *p);
			p++;
			if (r == FL_OK)
				r = format_scalar(k, tmp->data ? tmp->data : "", tmp->len, b);
		} else {
			const char *s = p;
			while (p < end && *p != ',' && *p != '}')
				p++;
			r = (p - s == 4 && strncasecmp(s, "NULL", 4) == 0) ? fl_buf_adds(b, "null")
				: format_scalar(k, s, (size_t)(p - s), b);
		}
		if (p < end && *p == ',')
			p++;
	}
	if (r == FL_OK && (p >= end || *p != '}'))
		return FL_INVALID;
	*pp = p + 1;
	return r == FL_OK ? fl_buf_addc(b, ']') : r;
}

static enum fl_result format_scalar(enum fl_athena_csv_kind k, const char *v, size_t len, struct fl_buf *b)
{
	enum fl_result r = FL_OK;
	char num[128];
	switch (k) {
	case FL_CSV_BOOL:
		return fl_buf_adds(b, v[0] == 't' ? "true" : "false");
	case FL_CSV_FLOAT:
		if (len >= sizeof num)
			return fl_buf_add(b, v, len);
		snprintf(num, sizeof num, "%.*s", (int)len, v);
		return java_double(num, b);
	case FL_CSV_TS:
		return timestamp_ms(v, len, false, "", b);
	case FL_CSV_TSTZ:
		return timestamp_ms(v, len, false, " UTC", b);
	case FL_CSV_TIME:
		return timestamp_ms(v, len, true, "", b);
	case FL_CSV_JSON:
		for (size_t i = 0, in_str = 0; i < len && r == FL_OK; i++) {
			if (in_str && v[i] == '\\' && i + 1 < len) {
				r = fl_buf_add(b, v + i, 2);
				i++;
				continue;
			}
			if (v[i] == '"')
				in_str = !in_str;
			if (in_str || !isspace((unsigned char)v[i]))
				r = fl_buf_addc(b, v[i]);
		}
		return r;
	case FL_CSV_BYTEA:
		for (size_t i = 2; i + 1 < len && r == FL_OK; i += 2)
			r = fl_buf_printf(b, "%s%c%c", i > 2 ? " " : "", v[i], v[i + 1]);
		return r;
	default:
		return fl_buf_add(b, v, len);
	}
}

/* One value of a result column, written into b (unquoted). */
enum fl_result fl_athena_csv_value(struct fl_athena_csv_col *c, const char *v, size_t len,
				   struct fl_buf *b, struct fl_buf *tmp)
{
	if (c->kind == FL_CSV_ARRAY) {
		const char *p = v, *end = v + len;
		if (*p == '[')      /* explicit bounds: "[0:1]={...}" */
			while (p < end && *p != '=')
				p++;
		p += *p == '=';
		size_t mark = b->len;
		enum fl_result r = format_array(c->elem, &p, end, b, tmp, 0);
		if (r == FL_INVALID) {
			b->len = mark;
			return fl_buf_add(b, v, len);
		}
		return r;
	}
	if (c->free_numeric) {
		if (!memchr(v, '.', len))
			return fl_buf_add(b, v, len);
		/* A fraction: Trino would have typed this a double; its
		 * shortest digits that read back as the same double. */
		c->fractional = true;
		char num[128];
		double d = strtod(v, NULL);
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(num, sizeof num, "%.*g", prec, d);
			if (strtod(num, NULL) == d)
				break;
		}
		return java_double(num, b);
	}
	return format_scalar(c->kind, v, len, b);
}

enum fl_result fl_athena_csv_field(struct fl_buf *out, const char *s, size_t n)
{
	enum fl_result r = fl_buf_addc(out, '"');
	for (const char *q; r == FL_OK && n > 0 && (q = memchr(s, '"', n)); ) {
		size_t k = (size_t)(q - s) + 1;
		if ((r = fl_buf_add(out, s, k)) == FL_OK)
			r = fl_buf_addc(out, '"');
		s += k;
		n -= k;
	}
	if (r == FL_OK)
		r = fl_buf_add(out, s, n);
	return r == FL_OK ? fl_buf_addc(out, '"') : r;
}

json_t *fl_athena_csv_column_info(const char *name, const struct fl_athena_csv_col *c)
{
	const char *type = c->free_numeric ? (c->fractional ? "double" : "bigint") : c->type;
	int precision = c->free_numeric ? (c->fractional ? 17 : 19) : c->precision;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:b}",
			 "CatalogName", "hive", "SchemaName", "", "TableName", "",
			 "Name", name, "Label", name, "Type", type, "Precision", precision,
			 "Scale", c->free_numeric ? 0 : c->scale, "Nullable", "UNKNOWN",
			 "CaseSensitive", strcmp(type, "varchar") == 0 || strcmp(type, "char") == 0);
}

/* ---- reading it back ----------------------------------------------------- */

static json_t *datum(const char *s, size_t n)
{
	return s ? json_pack("{s:s%}", "VarCharValue", s, n) : json_object();
}

/* One CSV record from *pp (query.c's format: quoted values, NULL an
 * empty unquoted field) as a Row. */
static json_t *csv_row(const char **pp, const char *end, struct fl_buf *tmp)
{
	const char *p = *pp;
	json_t *data = json_array();
	for (bool more = true; data && more; ) {
		json_t *d;
		if (p < end && *p == '"') {
			fl_buf_reset(tmp);
			for (p++; p < end; p++) {
				if (*p == '"' && (p + 1 >= end || p[1] != '"'))
					break;
				p += *p == '"';
				if (fl_buf_addc(tmp, *p) != FL_OK)
					break;
			}
			p++;
			d = datum(tmp->data ? tmp->data : "", tmp->len);
		} else {
			const char *s = p;
			while (p < end && *p != ',' && *p != '\n')
				p++;
			d = datum(p > s ? s : NULL, (size_t)(p - s));
		}
		if (!d || json_array_append_new(data, d) != 0) {
			json_decref(data);
			return NULL;
		}
		more = p < end && *p == ',';
		p += p < end;     /* the ',' or the '\n' */
	}
	*pp = p;
	return data ? json_pack("{s:o}", "Data", data) : NULL;
}

/* One line of a DDL result, split on tabs into at most ncols fields. */
static json_t *txt_row(const char **pp, const char *end, size_t ncols)
{
	const char *p = *pp, *eol = memchr(p, '\n', (size_t)(end - p));
	json_t *data = json_array();
	if (!eol)
		eol = end;
	for (size_t k = 0; data; k++) {
		const char *tab = memchr(p, '\t', (size_t)(eol - p));
		if (!tab || (ncols && k + 1 >= ncols))
			tab = eol;
		if (json_array_append_new(data, datum(p, (size_t)(tab - p))) != 0) {
			json_decref(data);
			return NULL;
		}
		if (tab == eol)
			break;
		p = tab + 1;
	}
	*pp = eol < end ? eol + 1 : end;
	return data ? json_pack("{s:o}", "Data", data) : NULL;
}

json_t *fl_athena_csv_row(const char **p, const char *end, bool txt, size_t ncols,
			  struct fl_buf *tmp)
{
	return txt ? txt_row(p, end, ncols) : csv_row(p, end, tmp);
}
