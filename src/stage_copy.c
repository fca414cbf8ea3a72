/*
 * stage_copy.c - lake objects as COPY text rows (see stage_copy.h).
 *
 * DESIGN
 *
 * Staging is bounded by how fast PostgreSQL's COPY can take rows, so the
 * conversion must cost a fraction of that: no DOM, no per-value
 * allocation, no printf on the hot path.  A line is read by one call of
 * the validating scanner (fl_json_object_scan), which hands back the
 * spans of the top-level members; each key is lower-cased and looked up
 * in a small open-addressing table of the columns' keys, and the span is
 * kept for its column (the last duplicate wins, as fl_json_find).  The
 * row is then written column by column straight into the output buffer:
 * a JSON string without escapes is copied as it is (JSON forbids raw
 * control bytes in strings, and without a backslash nothing needs COPY's
 * escaping), everything else goes through a checker of its column's type
 * that writes the value PostgreSQL will read back, or \N.  The checks are
 * PostgreSQL's own input rules, made strict enough that COPY never
 * rejects a row: integers in range, decimal numbers whose double/float
 * does not overflow or underflow to zero, numeric(p,s) rounded here,
 * dates and timestamps with real calendars, no U+0000 in text or jsonb,
 * no jsonb number beyond what numeric accepts, UTF-8 checked for CSV.
 * Those checks, and the column types they serve, live in stage_value.c.
 *
 * The object is inflated a step at a time into a text buffer; complete
 * lines (or CSV records, whose quoted fields may hold newlines) are
 * converted and the unfinished tail moves to the front.  A line longer
 * than FL_STAGE_LINE_MAX is dropped up to its newline and counted bad.
 * Rows collect in an output buffer that is handed to the caller (COPY)
 * whenever it passes FL_STAGE_CHUNK, always at a row boundary.
 */
#include "stage_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "jscan.h"
#include "log.h"
#include "schema.h"
#include "stage_value.h"

#define MEMBERS 256                     /* members read by one scan */
#define KEY_MAX 255                     /* longest key that can match */
#define OUT_MAX ((size_t)1 << 30)
#define INFLATE_STEP (256u << 10)
#define SCRATCH_MAX ((size_t)FL_STAGE_LINE_MAX * 4 + 64)

struct ccol {
	struct fl_stage_col c;
	char *key;              /* owned, lower case; NULL: no JSON key */
	size_t key_len;
	char *part;             /* owned: the COPY-escaped partition value */
	size_t part_len;
};

struct fl_stage_copy {
	enum fl_stage_format format;
	char delim;
	unsigned skip_lines;
	size_t ncols;
	struct ccol *cols;
	int *slots;             /* key table: column index + 1, 0 = empty */
	size_t mask;            /* slots - 1, a power of two minus one */
	/* The JSON line being converted: value span per column, valid when
	 * vgen equals gen. */
	const char **vp;
	size_t *vl;
	uint64_t *vgen;
	uint64_t gen;
	struct fl_json_member *members;
	/* The CSV record being converted. */
	size_t nfields;         /* fields that feed a column */
	size_t *foff, *flen;
	bool *fbuf;             /* field is in cell, not in the record */
	size_t fcount;          /* fields of this record (<= nfields) */
	struct fl_buf cell;     /* unquoted fields */
	struct fl_buf str;      /* an unescaped JSON string */
	struct fl_buf arr;      /* an array literal */
	struct fl_buf key;      /* an unescaped key */
	struct fl_buf text;     /* inflated text not converted yet */
	struct fl_buf obuf;     /* rows of fl_stage_copy_object */
	struct fl_buf fold;     /* a struct's jsonb with its keys folded */
	char plain[FL_STAGE_PLAIN_MAX];
	/* The object being converted. */
	struct fl_buf *out;
	enum fl_result (*emit)(void *arg, const char *rows, size_t n, struct fl_error *err);
	void *arg;
	struct fl_error *err;
	enum fl_result fail;
	unsigned skipped;       /* header records passed in this object */
	bool skipping;          /* inside a line past FL_STAGE_LINE_MAX */
	uint64_t rows, bad;
};

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* ---- writing the row -------------------------------------------------------- */

static char *room(struct fl_stage_copy *c, size_t n)
{
	if (c->fail != FL_OK)
		return NULL;
	enum fl_result r = fl_buf_reserve(c->out, n);
	if (r != FL_OK) {
		c->fail = fl_error_set(c->err, r, r == FL_TOO_LARGE ? "a staged row is too large"
				       : "out of memory");
		return NULL;
	}
	return c->out->data + c->out->len;
}

static void put_raw(struct fl_stage_copy *c, const char *s, size_t n)
{
	char *w = room(c, n);
	if (w) {
		memcpy(w, s, n);
		c->out->len += n;
	}
}

static void put_null(struct fl_stage_copy *c)
{
	put_raw(c, "\\N", 2);
}

static const unsigned char copy_special[256] = {
	['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

/* COPY's escaping: backslash, LF, CR, TAB. */
static char *copy_escape(char *w, const char *s, size_t n)
{
	const char *e = s + n;
	while (s < e) {
		const char *r = s;
		while (r < e && !copy_special[(unsigned char)*r])
			r++;
		memcpy(w, s, (size_t)(r - s));
		w += r - s;
		if (r == e)
			break;
		*w++ = '\\';
		*w++ = (char)copy_special[(unsigned char)*r];
		s = r + 1;
	}
	return w;
}

static void put_esc(struct fl_stage_copy *c, const char *s, size_t n)
{
	char *w = room(c, 2 * n);
	if (w)
		c->out->len = (size_t)(copy_escape(w, s, n) - c->out->data);
}

/* Writes JSON text v (valid: fl_stage_value_jsonb_ok passed) with every object key
 * that has no escape replaced by its Glue column name, as the struct type
 * of the column names its fields; other keys, and everything nested
 * deeper than FOLD_DEPTH, are written as they are. */
#define FOLD_DEPTH 256
static void put_folded(struct fl_stage_copy *c, const char *v, size_t n)
{
	bool is_obj[FOLD_DEPTH];
	int depth = -1;
	bool expect_key = false;
	fl_buf_reset(&c->fold);
	for (size_t i = 0; i < n;) {
		char ch = v[i];
		size_t j = i + 1;
		if (ch == '"') {
			bool esc = false;
			while (j < n && v[j] != '"') {
				if (v[j] == '\\') {
					esc = true;
					j++;
				}
				j++;
			}
			j++;  /* past the closing quote */
			char name[FL_SCHEMA_NAME_MAX + 1];
			if (depth >= 0 && depth < FOLD_DEPTH && is_obj[depth] && expect_key && !esc &&
			    j - i >= 2 && fl_schema_column_name(v + i + 1, j - i - 2, name)) {
				if (fl_buf_addc(&c->fold, '"') != FL_OK ||
				    fl_buf_adds(&c->fold, name) != FL_OK ||
				    fl_buf_addc(&c->fold, '"') != FL_OK)
					goto as_is;
			} else if (fl_buf_add(&c->fold, v + i, j - i) != FL_OK) {
				goto as_is;
			}
			expect_key = false;
			i = j;
			continue;
		}
		if (ch == '{' || ch == '[') {
			if (++depth < FOLD_DEPTH)
				is_obj[depth] = ch == '{';
			expect_key = ch == '{';
		} else if (ch == '}' || ch == ']') {
			depth--;
		} else if (ch == ',') {
			expect_key = depth >= 0 && depth < FOLD_DEPTH && is_obj[depth];
		}
		if (fl_buf_addc(&c->fold, ch) != FL_OK)
			goto as_is;
		i = j;
	}
	put_esc(c, c->fold.data, c->fold.len);
	return;
as_is:
	put_esc(c, v, n);
}

/* bytea's hex form of s: \x and two digits a byte. */
static char *hex_into(char *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	*w++ = '\\';
	*w++ = 'x';
	for (size_t i = 0; i < n; i++) {
		*w++ = hex[(unsigned char)s[i] >> 4];
		*w++ = hex[(unsigned char)s[i] & 15];
	}
	return w;
}

static void put_hex(struct fl_stage_copy *c, const char *s, size_t n)
{
	char *w = room(c, 2 * n + 3);
	if (w) {
		*w++ = '\\';  /* COPY's escape of the backslash */
		c->out->len = (size_t)(hex_into(w, s, n) - c->out->data);
	}
}

/* The content of a JSON string value (quotes included in v) unescaped:
 * into c->str when it holds escapes.  False on U+0000 when nul_ok is
 * false. */
static bool json_str(struct fl_stage_copy *c, const char *v, size_t n, bool nul_ok,
		     const char **s, size_t *len)
{
	*s = v + 1;
	*len = n - 2;
	if (!memchr(*s, '\\', *len))
		return true;
	fl_buf_reset(&c->str);
	if (fl_json_unescape(*s, *len, &c->str) != FL_OK)
		return false;
	*s = c->str.data;
	*len = c->str.len;
	return nul_ok || !memchr(*s, '\0', *len);
}

/* Appends an array element to c->arr: NULL, or "..." with " and \ escaped. */
static bool arr_elem(struct fl_stage_copy *c, const char *s, size_t n, bool null)
{
	struct fl_buf *a = &c->arr;
	if (null)
		return fl_buf_add(a, "NULL", 4) == FL_OK;
	if (fl_buf_reserve(a, 2 * n + 2) != FL_OK)
		return false;
	char *w = a->data + a->len;
	*w++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			*w++ = '\\';
		*w++ = s[i];
	}
	*w++ = '"';
	a->len = (size_t)(w - a->data);
	a->data[a->len] = '\0';
	return true;
}

/* One element of a JSON array for an array column of col's kind. */
static bool json_elem(struct fl_stage_copy *c, const struct fl_stage_col *col, const char *v,
		      size_t n)
{
	const char *s = v;
	size_t len = n;
	int k;
	bool str = v[0] == '"';
	if (v[0] == 'n')
		return arr_elem(c, NULL, 0, true);
	switch (col->kind) {
	case FL_STAGE_TEXT:
		if (str && !json_str(c, v, n, false, &s, &len))
			return arr_elem(c, NULL, 0, true);
		return arr_elem(c, s, len, false);
	case FL_STAGE_JSONB:
		return arr_elem(c, v, n, !fl_stage_value_jsonb_ok(v, n));
	case FL_STAGE_BYTEA:
		if (!str || !json_str(c, v, n, true, &s, &len) || 2 * len + 2 >= FL_STAGE_PLAIN_MAX)
			return arr_elem(c, NULL, 0, true);
		return arr_elem(c, c->plain, (size_t)(hex_into(c->plain, s, len) - c->plain), false);
	case FL_STAGE_BOOL:
		if (v[0] == 't' || v[0] == 'f')
			return arr_elem(c, v[0] == 't' ? "t" : "f", 1, false);
		break;
	default:
		break;
	}
	k = -1;
	if (str) {
		if (json_str(c, v, n, false, &s, &len))
			k = fl_stage_value_plain(col, s, len, c->plain);
	} else if ((v[0] == '-' || is_digit(v[0])) && col->kind != FL_STAGE_BOOL &&
		   col->kind != FL_STAGE_TIMESTAMP && col->kind != FL_STAGE_DATE) {
		k = fl_stage_value_plain(col, v, n, c->plain);
	}
	return arr_elem(c, c->plain, k < 0 ? 0 : (size_t)k, k < 0);
}

/* A JSON array (v, n) as an array literal, or \N. */
static void copy_json_array(struct fl_stage_copy *c, const struct fl_stage_col *col, const char *v,
		       size_t n)
{
	const char *why, *e, *end = v + n;
	size_t el;
	if (v[0] != '[' || col->kind == FL_STAGE_UNKNOWN) {
		put_null(c);
		return;
	}
	fl_buf_reset(&c->arr);
	bool ok = fl_buf_addc(&c->arr, '{') == FL_OK, first = true;
	const char *p = fl_json_array_begin(v, end, &why);
	while (ok && p && (p = fl_json_array_next(p, end, &e, &el, &why)) && e) {
		ok = (first || fl_buf_addc(&c->arr, ',') == FL_OK) && json_elem(c, col, e, el);
		first = false;
	}
	if (ok && p && fl_buf_addc(&c->arr, '}') == FL_OK)
		put_esc(c, c->arr.data, c->arr.len);
	else
		put_null(c);
}

/* One JSON value (validated span) for its column. */
static void json_value(struct fl_stage_copy *c, const struct fl_stage_col *col, const char *v,
		       size_t n)
{
	const char *s;
	size_t len;
	int k;
	if (v[0] == 'n' || col->kind == FL_STAGE_UNKNOWN) {
		put_null(c);
		return;
	}
	if (col->array) {
		copy_json_array(c, col, v, n);
		return;
	}
	switch (col->kind) {
	case FL_STAGE_TEXT:
		if (v[0] != '"')
			put_esc(c, v, n);  /* a number, literal or container: its JSON text */
		else if (!memchr(v + 1, '\\', n - 2))
			put_raw(c, v + 1, n - 2);
		else if (json_str(c, v, n, false, &s, &len))
			put_esc(c, s, len);
		else
			put_null(c);
		return;
	case FL_STAGE_JSONB:
		if (!fl_stage_value_jsonb_ok(v, n))
			put_null(c);
		else if (col->fold_keys)
			put_folded(c, v, n);
		else
			put_esc(c, v, n);
		return;
	case FL_STAGE_BYTEA:
		if (v[0] == '"' && json_str(c, v, n, true, &s, &len))
			put_hex(c, s, len);
		else
			put_null(c);
		return;
	case FL_STAGE_BOOL:
		if (v[0] == 't' || v[0] == 'f') {
			put_raw(c, v[0] == 't' ? "t" : "f", 1);
			return;
		}
		break;
	default:
		break;
	}
	k = -1;
	if (v[0] == '"') {
		if (json_str(c, v, n, false, &s, &len))
			k = fl_stage_value_plain(col, s, len, c->plain);
	} else if (v[0] == '-' || is_digit(v[0])) {
		if (col->kind != FL_STAGE_BOOL && col->kind != FL_STAGE_TIMESTAMP &&
		    col->kind != FL_STAGE_DATE)
			k = fl_stage_value_plain(col, v, n, c->plain);
	}
	if (k < 0)
		put_null(c);
	else
		put_raw(c, c->plain, (size_t)k);
}

/* One CSV field for its column. */
static void text_value(struct fl_stage_copy *c, const struct fl_stage_col *col, const char *s,
		       size_t n)
{
	const char *why;
	if ((n == 2 && s[0] == '\\' && s[1] == 'N') || col->kind == FL_STAGE_UNKNOWN) {
		put_null(c);
		return;
	}
	if (col->array || col->kind == FL_STAGE_JSONB) {
		const char *e = n ? fl_json_value(s, s + n, &why) : NULL;
		size_t len = e && fl_json_ws(e, s + n) == s + n ? (size_t)(e - s) : 0;
		if (col->array && len && s[0] == '[')
			copy_json_array(c, col, s, len);
		else if (!col->array && len && fl_stage_value_jsonb_ok(s, len))
			put_esc(c, s, len);
		else
			put_null(c);
		return;
	}
	switch (col->kind) {
	case FL_STAGE_TEXT:
		if (fl_stage_value_utf8_ok((const unsigned char *)s, n))
			put_esc(c, s, n);
		else
			put_null(c);
		return;
	case FL_STAGE_BYTEA:
		put_hex(c, s, n);
		return;
	default: {
		int k = n ? fl_stage_value_plain(col, s, n, c->plain) : -1;
		if (k < 0)
			put_null(c);
		else
			put_raw(c, c->plain, (size_t)k);
		return;
	}
	}
}

static void flush(struct fl_stage_copy *c)
{
	if (c->fail != FL_OK || !c->emit || c->out->len == 0)
		return;
	enum fl_result r = c->emit(c->arg, c->out->data, c->out->len, c->err);
	if (r != FL_OK)
		c->fail = r;
	fl_buf_reset(c->out);
}

/* Writes the row of the line or record just read. */
static void row(struct fl_stage_copy *c, const char *rec)
{
	size_t start = c->out->len;
	for (size_t i = 0; i < c->ncols && c->fail == FL_OK; i++) {
		const struct ccol *col = &c->cols[i];
		if (i)
			put_raw(c, "\t", 1);
		if (col->c.part >= 0) {
			put_raw(c, col->part, col->part_len);
		} else if (c->format == FL_STAGE_JSON) {
			if (c->vgen[i] == c->gen)
				json_value(c, &col->c, c->vp[i], c->vl[i]);
			else
				put_null(c);
		} else if (col->c.field >= 0 && (size_t)col->c.field < c->fcount) {
			size_t f = (size_t)col->c.field;
			text_value(c, &col->c, (c->fbuf[f] ? c->cell.data : rec) + c->foff[f],
				   c->flen[f]);
		} else {
			put_null(c);
		}
	}
	put_raw(c, "\n", 1);
	if (c->fail != FL_OK) {
		c->out->len = start;
		return;
	}
	c->out->data[c->out->len] = '\0';
	c->rows++;
	if (c->emit && c->out->len >= FL_STAGE_CHUNK)
		flush(c);
}

/* ---- NDJSON ------------------------------------------------------------------ */

static uint64_t key_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static void match(struct fl_stage_copy *c, const struct fl_json_member *m)
{
	const char *k = m->key;
	size_t n = m->key_len;
	char low[KEY_MAX];
	if (m->key_escaped) {
		fl_buf_reset(&c->key);
		if (fl_json_unescape(k, n, &c->key) != FL_OK)
			return;
		k = c->key.data;
		n = c->key.len;
	}
	if (n == 0 || n > KEY_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		low[i] = k[i] >= 'A' && k[i] <= 'Z' ? (char)(k[i] | 0x20) : k[i];
	for (size_t s = key_hash(low, n) & c->mask;; s = (s + 1) & c->mask) {
		int ci = c->slots[s] - 1;
		if (ci < 0)
			return;
		const struct ccol *col = &c->cols[ci];
		if (col->key_len == n && memcmp(col->key, low, n) == 0) {
			c->vp[ci] = m->value;
			c->vl[ci] = m->value_len;
			c->vgen[ci] = c->gen;
			return;
		}
	}
}

static void json_line(struct fl_stage_copy *c, const char *p, const char *end)
{
	const char *why, *q;
	size_t count = 0;
	p = fl_json_ws(p, end);
	if (p == end)
		return;  /* a blank line */
	q = fl_json_object_scan(p, end, c->members, MEMBERS, &count, &why);
	if (!q || fl_json_ws(q, end) != end) {
		c->bad++;
		return;
	}
	c->gen++;
	if (count <= MEMBERS) {
		for (size_t i = 0; i < count; i++)
			match(c, &c->members[i]);
	} else {
		struct fl_json_member m;
		q = fl_json_object_begin(p, end, &why);
		while (q && (q = fl_json_object_next(q, end, &m, &why)) && m.key)
			match(c, &m);
	}
	row(c, NULL);
}

/* ---- CSV ---------------------------------------------------------------------- */

static void csv_record(struct fl_stage_copy *c, const char *rec, size_t n)
{
	if (n && rec[n - 1] == '\r')
		n--;
	if (n == 0)
		return;  /* a blank line */
	if (c->skipped < c->skip_lines) {
		c->skipped++;
		return;
	}
	size_t i = 0, f = 0;
	fl_buf_reset(&c->cell);
	for (;;) {
		size_t off, len;
		bool inbuf = false;
		if (i < n && rec[i] == '"') {
			off = c->cell.len;
			inbuf = true;
			for (i++;;) {
				const char *q = memchr(rec + i, '"', n - i);
				size_t stop = q ? (size_t)(q - rec) : n;
				if (fl_buf_add(&c->cell, rec + i, stop - i) != FL_OK) {
					c->bad++;
					return;
				}
				i = stop + 1;
				if (!q || i >= n || rec[i] != '"')
					break;
				if (fl_buf_addc(&c->cell, '"') != FL_OK) {
					c->bad++;
					return;
				}
				i++;
			}
			len = c->cell.len - off;
			while (i < n && rec[i] != c->delim)
				i++;  /* bytes after the closing quote: ignored */
		} else {
			const char *d = i < n ? memchr(rec + i, c->delim, n - i) : NULL;
			size_t stop = d ? (size_t)(d - rec) : n;
			off = i;
			len = stop - i;
			i = stop;
		}
		if (f < c->nfields) {
			c->foff[f] = off;
			c->flen[f] = len;
			c->fbuf[f] = inbuf;
		}
		f++;
		if (i >= n)
			break;
		i++;  /* the delimiter */
	}
	c->fcount = f < c->nfields ? f : c->nfields;
	row(c, rec);
}

/* ---- feeding text --------------------------------------------------------------- */

/* The end of the record starting at p (the '\n', or NULL when it does not
 * end before end). */
static const char *record_end(const struct fl_stage_copy *c, const char *p, const char *end)
{
	if (c->format == FL_STAGE_JSON || c->skipping)
		return memchr(p, '\n', (size_t)(end - p));
	bool quoted = false;
	for (; p < end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '\n' && !quoted)
			return p;
	}
	return NULL;
}

/* Converts the complete records of [p, p + n) (all of them when final);
 * returns the bytes used. */
static size_t feed(struct fl_stage_copy *c, const char *p, size_t n, bool final)
{
	const char *s = p, *end = p + n;
	while (s < end && c->fail == FL_OK) {
		const char *e = record_end(c, s, end);
		if (!e && !final)
			break;
		const char *stop = e ? e : end;
		if (c->skipping) {
			c->skipping = false;  /* the tail of an overlong line */
		} else if ((size_t)(stop - s) > FL_STAGE_LINE_MAX) {
			c->bad++;
		} else if (c->format == FL_STAGE_JSON) {
			json_line(c, s, stop);
		} else {
			csv_record(c, s, (size_t)(stop - s));
		}
		s = e ? e + 1 : end;
	}
	return (size_t)(s - p);
}

static void begin(struct fl_stage_copy *c, struct fl_buf *out,
		  enum fl_result (*emit)(void *, const char *, size_t, struct fl_error *),
		  void *arg, struct fl_error *err)
{
	c->out = out;
	c->emit = emit;
	c->arg = arg;
	c->err = err;
	c->fail = FL_OK;
	c->skipped = 0;
	c->skipping = false;
	c->rows = c->bad = 0;
}

static void inflate_object(struct fl_stage_copy *c, const unsigned char *data, size_t len)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		c->fail = fl_error_set(c->err, FL_INTERNAL, "out of memory");
		return;
	}
	struct fl_buf *t = &c->text;
	bool broken = false;
	fl_buf_reset(t);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	size_t left = len - zs.avail_in;  /* input not yet given to zlib */
	while (c->fail == FL_OK) {
		if (fl_buf_reserve(t, INFLATE_STEP) != FL_OK) {
			c->fail = fl_error_set(c->err, FL_INTERNAL, "out of memory");
			break;
		}
		zs.next_out = (unsigned char *)t->data + t->len;
		zs.avail_out = INFLATE_STEP;
		int zr = inflate(&zs, Z_NO_FLUSH);
		t->len += INFLATE_STEP - zs.avail_out;
		size_t used = feed(c, t->data, t->len, false);
		memmove(t->data, t->data + used, t->len - used);
		t->len -= used;
		if (t->len > FL_STAGE_LINE_MAX) {
			c->bad += !c->skipping;  /* one overlong line, dropped to its end */
			c->skipping = true;
			t->len = 0;
		}
		if (zs.avail_in == 0 && left > 0) {
			zs.avail_in = left > UINT32_MAX ? UINT32_MAX : (uInt)left;
			left -= zs.avail_in;
		}
		if (zr == Z_STREAM_END) {
			if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b &&
			    inflateReset(&zs) == Z_OK)
				continue;  /* the next member */
			break;         /* the end (anything after it is ignored) */
		}
		if (zr == Z_OK || (zr == Z_BUF_ERROR && zs.avail_in > 0))
			continue;
		broken = true;  /* corrupt or cut short */
		break;
	}
	if (broken) {
		c->bad++;
		fl_debug("stage: a gzip stream breaks off after %llu rows",
			 (unsigned long long)c->rows);
	} else if (c->fail == FL_OK && !c->skipping) {
		feed(c, t->data, t->len, true);
	}
	inflateEnd(&zs);
}

enum fl_result fl_stage_copy_object(struct fl_stage_copy *c, const void *data, size_t len,
				    enum fl_result (*emit)(void *arg, const char *rows, size_t n,
							   struct fl_error *err),
				    void *arg, uint64_t *rows, uint64_t *bad,
				    struct fl_error *err)
{
	const unsigned char *d = data;
	fl_buf_reset(&c->obuf);
	begin(c, &c->obuf, emit, arg, err);
	if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b)
		inflate_object(c, d, len);
	else
		feed(c, data, len, true);
	flush(c);
	*rows = c->rows;
	*bad = c->bad;
	if (c->obuf.cap > 4 * FL_STAGE_CHUNK) {
		fl_buf_free(&c->obuf);  /* a huge row passed: give it back */
		fl_buf_init(&c->obuf, OUT_MAX);
	}
	return c->fail;
}

enum fl_result fl_stage_copy_text(struct fl_stage_copy *c, const char *text, size_t len,
				  struct fl_buf *out, uint64_t *rows, uint64_t *bad,
				  struct fl_error *err)
{
	begin(c, out, NULL, NULL, err);
	feed(c, text, len, true);
	*rows = c->rows;
	*bad = c->bad;
	return c->fail;
}

/* ---- the converter ---------------------------------------------------------- */

void fl_stage_copy_free(struct fl_stage_copy *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->cols && i < c->ncols; i++) {
		free(c->cols[i].key);
		free(c->cols[i].part);
	}
	free(c->cols);
	free(c->slots);
	free(c->vp);
	free(c->vl);
	free(c->vgen);
	free(c->members);
	free(c->foff);
	free(c->flen);
	free(c->fbuf);
	fl_buf_free(&c->cell);
	fl_buf_free(&c->str);
	fl_buf_free(&c->arr);
	fl_buf_free(&c->key);
	fl_buf_free(&c->text);
	fl_buf_free(&c->obuf);
	fl_buf_free(&c->fold);
	free(c);
}

enum fl_result fl_stage_copy_new(const struct fl_stage_layout *l, struct fl_stage_copy **out,
				 struct fl_error *err)
{
	enum fl_result r = FL_OK;
	struct fl_stage_copy *c = calloc(1, sizeof *c);
	size_t nslots = 16, nfields = 0, n = l->ncols ? l->ncols : 1;
	*out = NULL;
	if (!c)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	c->format = l->format;
	c->delim = l->delim ? l->delim : ',';
	c->skip_lines = l->skip_lines;
	c->ncols = l->ncols;
	fl_buf_init(&c->cell, FL_STAGE_LINE_MAX);
	fl_buf_init(&c->str, FL_STAGE_LINE_MAX);
	fl_buf_init(&c->arr, SCRATCH_MAX);
	fl_buf_init(&c->key, 4096);
	fl_buf_init(&c->text, (size_t)FL_STAGE_LINE_MAX + 2 * INFLATE_STEP);
	fl_buf_init(&c->obuf, OUT_MAX);
	fl_buf_init(&c->fold, SCRATCH_MAX);
	while (nslots < 2 * n)
		nslots *= 2;
	c->mask = nslots - 1;
	for (size_t i = 0; i < l->ncols; i++)
		if (l->cols[i].part < 0 && l->cols[i].field >= 0 &&
		    (size_t)l->cols[i].field + 1 > nfields)
			nfields = (size_t)l->cols[i].field + 1;
	c->nfields = nfields;
	c->cols = calloc(n, sizeof *c->cols);
	c->slots = calloc(nslots, sizeof *c->slots);
	c->vp = calloc(n, sizeof *c->vp);
	c->vl = calloc(n, sizeof *c->vl);
	c->vgen = calloc(n, sizeof *c->vgen);
	c->members = calloc(MEMBERS, sizeof *c->members);
	c->foff = calloc(nfields + 1, sizeof *c->foff);
	c->flen = calloc(nfields + 1, sizeof *c->flen);
	c->fbuf = calloc(nfields + 1, sizeof *c->fbuf);
	if (!c->cols || !c->slots || !c->vp || !c->vl || !c->vgen || !c->members || !c->foff ||
	    !c->flen || !c->fbuf) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l->ncols; i++) {
		struct ccol *col = &c->cols[i];
		col->c = l->cols[i];
		col->c.key = NULL;
		if (col->c.part >= 0) {
			if ((size_t)col->c.part >= l->nvals) {
				r = fl_error_set(err, FL_INTERNAL, "column %zu has no partition value", i);
				goto out;
			}
			const char *v = l->vals[col->c.part];
			size_t vn = strlen(v);
			if (!(col->part = malloc(2 * vn + 1))) {
				r = fl_error_set(err, FL_INTERNAL, "out of memory");
				goto out;
			}
			col->part_len = (size_t)(copy_escape(col->part, v, vn) - col->part);
			continue;
		}
		const char *k = l->cols[i].key;
		if (l->format != FL_STAGE_JSON || !k || !*k || strlen(k) > KEY_MAX)
			continue;
		col->key_len = strlen(k);
		if (!(col->key = malloc(col->key_len + 1))) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		for (size_t j = 0; j <= col->key_len; j++)
			col->key[j] = k[j] >= 'A' && k[j] <= 'Z' ? (char)(k[j] | 0x20) : k[j];
		size_t s = key_hash(col->key, col->key_len) & c->mask;
		bool dup = false;
		for (; c->slots[s]; s = (s + 1) & c->mask) {
			const struct ccol *o = &c->cols[c->slots[s] - 1];
			dup |= o->key_len == col->key_len && memcmp(o->key, col->key, o->key_len) == 0;
		}
		if (!dup)
			c->slots[s] = (int)i + 1;  /* two columns of one key: the first */
	}
	*out = c;
	c = NULL;
out:
	fl_stage_copy_free(c);
	return r;
}
