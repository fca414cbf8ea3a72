/*
 * schema.c - Glue types inferred from events, merged, parsed and written.
 *
 * Design.  A schema is the column list of a struct type: every column is
 * a field (name, JSON key, type tree) of the root struct.  Type trees are
 * small malloc'd nodes; a struct with more than a few fields carries an
 * open-addressing index of its field names (compared ignoring ASCII case,
 * as Hive and Athena do), so a merge of 1000 columns stays linear.  Each
 * column keeps its Glue type string rendered, refreshed only when its
 * type changes; a column read from Glue keeps the string it was given
 * ("INT", "struct<a: int>") until a merge changes its type.
 *
 * Merging is a join on a lattice whose top is string: unknown (a null, an
 * empty array's elements) joins to anything; integers widen (tinyint <
 * smallint < int < bigint); integer or float with double or float ->
 * double (float + float stays float); decimals widen to decimal(p,s) with
 * enough integer and fraction digits (integers count as decimal(3/5/10/
 * 19,0)), or double past 38 digits or with a float; char/varchar ->
 * varchar of the larger length; date + timestamp -> timestamp; structs
 * unite their fields; arrays join their elements; maps join key and
 * value, and a map joined with a struct joins every field's type into the
 * value; every other pair -> string.  A column whose type string would pass
 * FL_SCHEMA_MAX_TYPE_LEN becomes string.
 *
 * Column order.  fl_schema_new gives a schema kept in the fixed order: the
 * common fields (event_uuid, event_name, event_type, event_subtype,
 * created_at, created_datetime) lead in that order, a new one inserted at
 * its place among them; any other new column is appended.  A schema from
 * fl_schema_from_columns keeps the order it was given: everything new is
 * appended.  Whatever the target, a merge adds the columns of its source
 * in two passes - first the common fields it lacks, in the fixed order,
 * then the others in the source's order - so a new table written from an
 * inferred schema lists the common fields first.  Columns past
 * FL_SCHEMA_MAX_COLUMNS are not added; columns read from Glue are all
 * kept, however many.  A column already present keeps its name, key and
 * Glue attributes (Comment, Parameters); only its type changes.
 *
 * Names.  Top-level keys and nested struct field names follow the same
 * rule (lower-case, bytes outside [a-z0-9_] -> '_'): the OpenX SerDe reads
 * keys case-insensitively at every level.  Only top-level columns keep the
 * key they came from, for the SerDe's mapping.  A key holding a NUL byte
 * (written \u0000) gives no name.  Duplicate keys of one object (or keys
 * giving the same name) are merged, all of their values joined.
 *
 * Reading events.  One scanner validates a line and hashes its shape in
 * the same pass; the rules are jscan's (RFC 8259, UTF-8 checked, surrogate
 * escapes paired: fl_json_string does the strings), so an event ingest
 * accepted is never a bad line here and the two paths cannot disagree.
 * It is deliberately not jansson: jansson refuses integers past int64
 * (here they are double), stops at 2048 levels and keeps only the last of
 * duplicate keys.  Containers are read by recursion down to
 * FL_SCHEMA_MAX_DEPTH (a column's own value is level 1); a container below
 * that is typed string and checked by a loop with a bit stack of
 * DEEP_MAX levels (a line nesting deeper is bad).  The shape hash
 * of an object is a sum over its members of mix(key hash, value hash), so
 * member order does not matter; an array hashes the set of its distinct
 * element shapes (length and order do not matter) - up to ARRAY_SET
 * distinct ones, past that the line is parsed every time.  The same pass,
 * given a place to put it, builds the line's type tree; the observer does
 * that only for a shape it has not remembered.  The hash is not keyed: a
 * line crafted to collide with a remembered shape can at worst hide its
 * new fields from inference.
 *
 * Details decided here:
 *  - A line of white space only is empty: neither a record nor bad.
 *  - created_at counts when it is a top-level number (the last of
 *    duplicates decides) in [0, 253402300800) seconds, -0 being 0;
 *    milliseconds are truncated from the decimal digits, as enrich does.
 *  - Type strings are read with keywords in any case, white space around
 *    tokens, `quoted` field names, integer for int and decimal for
 *    decimal(10,0); up to PARSE_MAX_DEPTH levels.  Types are written in
 *    lower case without spaces ("decimal(10,2)", "struct<a:int>").  A
 *    Glue column without a Type reads as string.
 *  - observe_text maps name like a key; "" adds nothing, not even the
 *    column.
 */
#include "schema.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jscan.h"

#define DEEP_MAX 65536          /* nesting a line may have at all */
#define PARSE_MAX_DEPTH 128     /* nesting of a type string read from Glue */
#define ARRAY_SET 16            /* distinct element shapes an array hashes */
#define INDEX_FROM 8            /* structs with more fields get an index */
#define KEY_RAW_MAX ((FL_SCHEMA_NAME_MAX) * 6)  /* longer raw keys give no name */
#define MIN_SHAPES_CAP 64

enum kind {
	T_NONE,  /* nothing learnt yet: written string */
	T_BOOLEAN, T_TINYINT, T_SMALLINT, T_INT, T_BIGINT, T_FLOAT, T_DOUBLE,
	T_DECIMAL, T_STRING, T_CHAR, T_VARCHAR, T_TIMESTAMP, T_DATE, T_BINARY,
	T_ARRAY, T_MAP, T_STRUCT,
};

struct field;

struct type {
	enum kind kind;
	unsigned a, b;           /* decimal (precision, scale), char/varchar (n) */
	struct type *elem;       /* array element; map key */
	struct type *val;        /* map value */
	struct field *f;         /* struct fields */
	size_t nf, capf;
	uint32_t *idx;           /* field index + 1, 0 empty; NULL: none */
	size_t idxcap;           /* power of two */
};

struct field {
	char *name;
	char *key;     /* the JSON key when it differs from name, else NULL */
	struct type *t;
	char *tstr;    /* columns only: the Glue type string */
	json_t *col;   /* columns only: the Glue Column object it came from */
};

struct fl_schema {
	struct type root;
	bool given;    /* from fl_schema_from_columns: order as given */
};

/* ---- type nodes ------------------------------------------------------- */

static struct type *type_new(enum kind k)
{
	struct type *t = calloc(1, sizeof *t);
	if (t)
		t->kind = k;
	return t;
}

static void type_clear(struct type *t);

static void type_free(struct type *t)
{
	if (!t)
		return;
	type_clear(t);
	free(t);
}

static void field_clear(struct field *f)
{
	free(f->name);
	free(f->key);
	free(f->tstr);
	json_decref(f->col);
	type_free(f->t);
}

/* Frees what t holds and makes it unknown. */
static void type_clear(struct type *t)
{
	for (size_t i = 0; i < t->nf; i++)
		field_clear(&t->f[i]);
	free(t->f);
	free(t->idx);
	type_free(t->elem);
	type_free(t->val);
	memset(t, 0, sizeof *t);
}

static void type_set(struct type *t, enum kind k, unsigned a, unsigned b)
{
	type_clear(t);
	t->kind = k;
	t->a = a;
	t->b = b;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool name_eq(const char *x, const char *y)
{
	for (; *x && *y; x++, y++)
		if (lower((unsigned char)*x) != lower((unsigned char)*y))
			return false;
	return *x == *y;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint32_t)lower((unsigned char)*s)) * 16777619u;
	return h;
}

static int index_rebuild(struct type *t)
{
	size_t cap = 16;
	while (cap < t->nf * 2 + 2)
		cap *= 2;
	uint32_t *idx = calloc(cap, sizeof *idx);
	if (!idx)
		return -1;
	for (size_t i = 0; i < t->nf; i++) {
		size_t h = name_hash(t->f[i].name) & (cap - 1);
		while (idx[h] && !name_eq(t->f[idx[h] - 1].name, t->f[i].name))
			h = (h + 1) & (cap - 1);
		if (!idx[h])  /* duplicates (given by Glue): the first one answers */
			idx[h] = (uint32_t)i + 1;
	}
	free(t->idx);
	t->idx = idx;
	t->idxcap = cap;
	return 0;
}

static struct field *field_find(const struct type *t, const char *name)
{
	if (t->idx) {
		size_t h = name_hash(name) & (t->idxcap - 1);
		for (; t->idx[h]; h = (h + 1) & (t->idxcap - 1))
			if (name_eq(t->f[t->idx[h] - 1].name, name))
				return &t->f[t->idx[h] - 1];
		return NULL;
	}
	for (size_t i = 0; i < t->nf; i++)
		if (name_eq(t->f[i].name, name))
			return &t->f[i];
	return NULL;
}

/* Inserts *f at position at (fields after it move up); takes what f
 * holds on success.  -1 on ENOMEM, t unchanged. */
static int field_insert(struct type *t, size_t at, const struct field *f)
{
	if (t->nf == t->capf) {
		size_t cap = t->capf ? t->capf * 2 : 4;
		struct field *nfs = realloc(t->f, cap * sizeof *nfs);
		if (!nfs)
			return -1;
		t->f = nfs;
		t->capf = cap;
	}
	memmove(&t->f[at + 1], &t->f[at], (t->nf - at) * sizeof *t->f);
	t->f[at] = *f;
	t->nf++;
	if (t->nf <= INDEX_FROM && !t->idx)
		return 0;
	if (at + 1 == t->nf && t->idx && t->nf * 2 + 2 <= t->idxcap) {
		size_t h = name_hash(f->name) & (t->idxcap - 1);
		while (t->idx[h] && !name_eq(t->f[t->idx[h] - 1].name, f->name))
			h = (h + 1) & (t->idxcap - 1);
		if (!t->idx[h])
			t->idx[h] = (uint32_t)at + 1;
		return 0;
	}
	if (index_rebuild(t) == 0)
		return 0;
	memmove(&t->f[at], &t->f[at + 1], (t->nf - at - 1) * sizeof *t->f);
	t->nf--;
	return -1;
}

static struct type *type_copy(const struct type *s);

/* Copies a field's name, key and type (not tstr/col). */
static int field_copy(struct field *d, const struct field *s)
{
	memset(d, 0, sizeof *d);
	d->name = strdup(s->name);
	d->key = s->key ? strdup(s->key) : NULL;
	d->t = type_copy(s->t);
	if (d->name && (d->key || !s->key) && d->t)
		return 0;
	field_clear(d);
	return -1;
}

static struct type *type_copy(const struct type *s)
{
	struct type *d = type_new(s->kind);
	if (!d)
		return NULL;
	d->a = s->a;
	d->b = s->b;
	if ((s->elem && !(d->elem = type_copy(s->elem))) ||
	    (s->val && !(d->val = type_copy(s->val))))
		goto fail;
	for (size_t i = 0; i < s->nf; i++) {
		struct field f;
		if (field_copy(&f, &s->f[i]) != 0)
			goto fail;
		if (field_insert(d, d->nf, &f) != 0) {
			field_clear(&f);
			goto fail;
		}
	}
	return d;
fail:
	type_free(d);
	return NULL;
}

/* ---- the join --------------------------------------------------------- */

static unsigned int_rank(enum kind k)
{
	switch (k) {
	case T_TINYINT: return 1;
	case T_SMALLINT: return 2;
	case T_INT: return 3;
	case T_BIGINT: return 4;
	default: return 0;
	}
}

/* Decimal digits an integer type needs. */
static unsigned int_digits(enum kind k)
{
	static const unsigned d[] = { 0, 3, 5, 10, 19 };
	return d[int_rank(k)];
}

static bool is_numeric(enum kind k)
{
	return int_rank(k) || k == T_FLOAT || k == T_DOUBLE || k == T_DECIMAL;
}

/* The join of two scalar types into *r (kind, a, b). */
static void scalar_join(const struct type *x, const struct type *y, struct type *r)
{
	enum kind a = x->kind, b = y->kind;
	r->a = r->b = 0;
	if (a == b && x->a == y->a && x->b == y->b) {
		*r = (struct type){ .kind = a, .a = x->a, .b = x->b };
		return;
	}
	if (int_rank(a) && int_rank(b)) {
		r->kind = int_rank(a) > int_rank(b) ? a : b;
	} else if (is_numeric(a) && is_numeric(b) && (a == T_DECIMAL || b == T_DECIMAL) &&
		   a != T_FLOAT && a != T_DOUBLE && b != T_FLOAT && b != T_DOUBLE) {
		unsigned pa = a == T_DECIMAL ? x->a : int_digits(a), sa = a == T_DECIMAL ? x->b : 0;
		unsigned pb = b == T_DECIMAL ? y->a : int_digits(b), sb = b == T_DECIMAL ? y->b : 0;
		unsigned s = sa > sb ? sa : sb;
		unsigned ip = pa - sa > pb - sb ? pa - sa : pb - sb;
		if (ip + s <= 38)
			*r = (struct type){ .kind = T_DECIMAL, .a = ip + s, .b = s };
		else
			r->kind = T_DOUBLE;
	} else if (is_numeric(a) && is_numeric(b)) {
		r->kind = T_DOUBLE;  /* float + float was equal above */
	} else if ((a == T_CHAR || a == T_VARCHAR) && (b == T_CHAR || b == T_VARCHAR)) {
		*r = (struct type){ .kind = T_VARCHAR, .a = x->a > y->a ? x->a : y->a };
	} else if ((a == T_DATE && b == T_TIMESTAMP) || (a == T_TIMESTAMP && b == T_DATE)) {
		r->kind = T_TIMESTAMP;
	} else {
		r->kind = T_STRING;
	}
}

static bool is_scalar(enum kind k)
{
	return k != T_ARRAY && k != T_MAP && k != T_STRUCT && k != T_NONE;
}

static int join(struct type *a, const struct type *b, bool *changed);

/* a (a struct) joined with b (a map): the map, its value joined with the
 * type of every field of a. */
static int join_struct_map(struct type *a, const struct type *b, bool *changed)
{
	struct type *m = type_copy(b);
	bool dummy = false;
	if (!m)
		return -1;
	for (size_t i = 0; i < a->nf; i++)
		if (join(m->val, a->f[i].t, &dummy) != 0) {
			type_free(m);
			return -1;
		}
	type_clear(a);
	*a = *m;
	free(m);
	*changed = true;
	return 0;
}

/* Joins b into a (b is borrowed); *changed is set when a changes.
 * -1 on ENOMEM (a is then valid but may be half joined). */
static int join(struct type *a, const struct type *b, bool *changed)
{
	if (b->kind == T_NONE || a->kind == T_STRING)
		return 0;
	if (a->kind == T_NONE) {
		struct type *c = type_copy(b);
		if (!c)
			return -1;
		*a = *c;
		free(c);
		*changed = true;
		return 0;
	}
	if (is_scalar(a->kind) && is_scalar(b->kind)) {
		struct type r;
		scalar_join(a, b, &r);
		if (r.kind != a->kind || r.a != a->a || r.b != a->b) {
			type_set(a, r.kind, r.a, r.b);
			*changed = true;
		}
		return 0;
	}
	if (a->kind == T_STRUCT && b->kind == T_STRUCT) {
		for (size_t i = 0; i < b->nf; i++) {
			struct field *have = field_find(a, b->f[i].name);
			if (have) {
				if (join(have->t, b->f[i].t, changed) != 0)
					return -1;
				continue;
			}
			struct field f;
			if (field_copy(&f, &b->f[i]) != 0)
				return -1;
			if (field_insert(a, a->nf, &f) != 0) {
				field_clear(&f);
				return -1;
			}
			*changed = true;
		}
		return 0;
	}
	if (a->kind == T_ARRAY && b->kind == T_ARRAY)
		return join(a->elem, b->elem, changed);
	if (a->kind == T_MAP && b->kind == T_MAP)
		return join(a->elem, b->elem, changed) || join(a->val, b->val, changed) ? -1 : 0;
	if (a->kind == T_MAP && b->kind == T_STRUCT) {
		for (size_t i = 0; i < b->nf; i++)
			if (join(a->val, b->f[i].t, changed) != 0)
				return -1;
		return 0;
	}
	if (a->kind == T_STRUCT && b->kind == T_MAP)
		return join_struct_map(a, b, changed);
	type_set(a, T_STRING, 0, 0);
	*changed = true;
	return 0;
}

/* ---- type strings ----------------------------------------------------- */

static const char *const kind_names[] = {
	[T_NONE] = "string", [T_BOOLEAN] = "boolean", [T_TINYINT] = "tinyint",
	[T_SMALLINT] = "smallint", [T_INT] = "int", [T_BIGINT] = "bigint",
	[T_FLOAT] = "float", [T_DOUBLE] = "double", [T_DECIMAL] = "decimal",
	[T_STRING] = "string", [T_CHAR] = "char", [T_VARCHAR] = "varchar",
	[T_TIMESTAMP] = "timestamp", [T_DATE] = "date", [T_BINARY] = "binary",
	[T_ARRAY] = "array", [T_MAP] = "map", [T_STRUCT] = "struct",
};

/* A struct field name that would not read back as one is quoted. */
static bool needs_quotes(const char *s)
{
	return strpbrk(s, ":,<>() \t\r\n") != NULL;
}

static enum fl_result render(const struct type *t, struct fl_buf *b)
{
	enum fl_result r = fl_buf_adds(b, kind_names[t->kind]);
	if (r != FL_OK)
		return r;
	switch (t->kind) {
	case T_DECIMAL:
		return fl_buf_printf(b, "(%u,%u)", t->a, t->b);
	case T_CHAR:
	case T_VARCHAR:
		return fl_buf_printf(b, "(%u)", t->a);
	case T_ARRAY:
		if ((r = fl_buf_addc(b, '<')) != FL_OK || (r = render(t->elem, b)) != FL_OK)
			return r;
		return fl_buf_addc(b, '>');
	case T_MAP:
		if ((r = fl_buf_addc(b, '<')) != FL_OK || (r = render(t->elem, b)) != FL_OK ||
		    (r = fl_buf_addc(b, ',')) != FL_OK || (r = render(t->val, b)) != FL_OK)
			return r;
		return fl_buf_addc(b, '>');
	case T_STRUCT:
		r = fl_buf_addc(b, '<');
		for (size_t i = 0; r == FL_OK && i < t->nf; i++) {
			const char *n = t->f[i].name;
			if (i && (r = fl_buf_addc(b, ',')) != FL_OK)
				break;
			r = needs_quotes(n) ? fl_buf_printf(b, "`%s`:", n) : fl_buf_printf(b, "%s:", n);
			if (r == FL_OK)
				r = render(t->f[i].t, b);
		}
		return r == FL_OK ? fl_buf_addc(b, '>') : r;
	default:
		return FL_OK;
	}
}

/* Renders column f's type string; a type too long for Glue becomes
 * string.  -1 on ENOMEM. */
static int column_render(struct field *f)
{
	struct fl_buf b;
	fl_buf_init(&b, FL_SCHEMA_MAX_TYPE_LEN);
	enum fl_result r = render(f->t, &b);
	if (r == FL_TOO_LARGE) {
		type_set(f->t, T_STRING, 0, 0);
		fl_buf_reset(&b);
		r = render(f->t, &b);
	}
	char *s = r == FL_OK ? fl_buf_steal(&b, NULL) : NULL;
	fl_buf_free(&b);
	if (!s)
		return -1;
	free(f->tstr);
	f->tstr = s;
	return 0;
}

struct tparse {
	const char *p, *end;
	bool nomem;
};

static void tp_ws(struct tparse *tp)
{
	while (tp->p < tp->end && (*tp->p == ' ' || *tp->p == '\t' || *tp->p == '\n' ||
				   *tp->p == '\r'))
		tp->p++;
}

static bool tp_char(struct tparse *tp, char c)
{
	tp_ws(tp);
	if (tp->p < tp->end && *tp->p == c) {
		tp->p++;
		return true;
	}
	return false;
}

/* "(n)" with lo <= n <= hi. */
static bool tp_num(struct tparse *tp, unsigned lo, unsigned hi, unsigned *n)
{
	tp_ws(tp);
	unsigned v = 0;
	const char *s = tp->p;
	while (tp->p < tp->end && *tp->p >= '0' && *tp->p <= '9' && tp->p - s < 9)
		v = v * 10 + (unsigned)(*tp->p++ - '0');
	*n = v;
	return tp->p > s && v >= lo && v <= hi && !(tp->p < tp->end && *tp->p >= '0' && *tp->p <= '9');
}

/* A struct field name: `quoted` or a run of bytes that are not syntax. */
static char *tp_name(struct tparse *tp)
{
	tp_ws(tp);
	const char *s = tp->p, *e;
	if (tp->p < tp->end && *tp->p == '`') {
		s = ++tp->p;
		while (tp->p < tp->end && *tp->p != '`')
			tp->p++;
		if (tp->p == tp->end)
			return NULL;
		e = tp->p++;
	} else {
		while (tp->p < tp->end && !strchr(":,<>`() \t\r\n", *tp->p) && *tp->p)
			tp->p++;
		e = tp->p;
	}
	if (e == s || memchr(s, '\0', (size_t)(e - s)))
		return NULL;
	char *n = strndup(s, (size_t)(e - s));
	if (!n)
		tp->nomem = true;
	return n;
}

static struct type *tp_type(struct tparse *tp, int depth)
{
	static const struct {
		const char *w;
		enum kind k;
	} words[] = {
		{ "boolean", T_BOOLEAN }, { "tinyint", T_TINYINT }, { "smallint", T_SMALLINT },
		{ "int", T_INT }, { "integer", T_INT }, { "bigint", T_BIGINT },
		{ "float", T_FLOAT }, { "double", T_DOUBLE }, { "decimal", T_DECIMAL },
		{ "string", T_STRING }, { "char", T_CHAR }, { "varchar", T_VARCHAR },
		{ "timestamp", T_TIMESTAMP }, { "date", T_DATE }, { "binary", T_BINARY },
		{ "array", T_ARRAY }, { "map", T_MAP }, { "struct", T_STRUCT },
	};
	struct type *t = NULL;
	tp_ws(tp);
	const char *w = tp->p;
	while (tp->p < tp->end && ((lower((unsigned char)*tp->p) >= 'a' &&
				    lower((unsigned char)*tp->p) <= 'z')))
		tp->p++;
	size_t wn = (size_t)(tp->p - w), i;
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strlen(words[i].w) == wn && !strncasecmp(w, words[i].w, wn))
			break;
	if (i == sizeof words / sizeof words[0] || depth > PARSE_MAX_DEPTH)
		return NULL;
	if (!(t = type_new(words[i].k)))
		goto nomem;
	switch (t->kind) {
	case T_DECIMAL:
		t->a = 10;
		if (tp_char(tp, '(')) {
			if (!tp_num(tp, 1, 38, &t->a))
				goto bad;
			if (tp_char(tp, ',') && !tp_num(tp, 0, t->a, &t->b))
				goto bad;
			if (!tp_char(tp, ')'))
				goto bad;
		}
		break;
	case T_CHAR:
	case T_VARCHAR:
		if (!tp_char(tp, '(') ||
		    !tp_num(tp, 1, t->kind == T_CHAR ? 255 : 65535, &t->a) || !tp_char(tp, ')'))
			goto bad;
		break;
	case T_ARRAY:
		if (!tp_char(tp, '<') || !(t->elem = tp_type(tp, depth + 1)) || !tp_char(tp, '>'))
			goto bad;
		break;
	case T_MAP:
		if (!tp_char(tp, '<') || !(t->elem = tp_type(tp, depth + 1)) ||
		    !tp_char(tp, ',') || !(t->val = tp_type(tp, depth + 1)) || !tp_char(tp, '>'))
			goto bad;
		break;
	case T_STRUCT:
		if (!tp_char(tp, '<'))
			goto bad;
		if (tp_char(tp, '>'))
			break;
		do {
			struct field f = { 0 };
			if (!(f.name = tp_name(tp)) || !tp_char(tp, ':') ||
			    !(f.t = tp_type(tp, depth + 1)) || field_insert(t, t->nf, &f) != 0) {
				tp->nomem = tp->nomem || (f.name && f.t);
				field_clear(&f);
				goto bad;
			}
		} while (tp_char(tp, ','));
		if (!tp_char(tp, '>'))
			goto bad;
		break;
	default:
		break;
	}
	return t;
nomem:
	tp->nomem = true;
bad:
	type_free(t);
	return NULL;
}

/* Parses a whole type string: FL_OK, FL_INVALID or FL_INTERNAL. */
static enum fl_result type_parse(const char *s, struct type **out)
{
	size_t n = strlen(s);
	struct tparse tp = { s, s + n, false };
	*out = NULL;
	if (n > FL_SCHEMA_MAX_TYPE_LEN)
		return FL_INVALID;
	struct type *t = tp_type(&tp, 1);
	if (t) {
		tp_ws(&tp);
		if (tp.p == tp.end) {
			*out = t;
			return FL_OK;
		}
		type_free(t);
	}
	return tp.nomem ? FL_INTERNAL : FL_INVALID;
}

bool fl_schema_type_valid(const char *type)
{
	struct type *t = NULL;
	if (!type || type_parse(type, &t) != FL_OK)
		return false;
	type_free(t);
	return true;
}

/* ---- schemas ---------------------------------------------------------- */

static const char *const common[] = {
	"event_uuid", "event_name", "event_type", "event_subtype", "created_at",
	"created_datetime",
};
#define NCOMMON (sizeof common / sizeof common[0])

/* Rank of a common field name, NCOMMON for any other. */
static size_t common_rank(const char *name)
{
	if (name[0] != 'e' && name[0] != 'c' && name[0] != 'E' && name[0] != 'C')
		return NCOMMON;
	for (size_t i = 0; i < NCOMMON; i++)
		if (name_eq(name, common[i]))
			return i;
	return NCOMMON;
}

bool fl_schema_column_name(const char *key, size_t len, char out[FL_SCHEMA_NAME_MAX + 1])
{
	if (!key || len == 0 || len > FL_SCHEMA_NAME_MAX || memchr(key, '\0', len))
		return false;
	for (size_t i = 0; i < len; i++) {
		int c = lower((unsigned char)key[i]);
		out[i] = (char)((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ? c : '_');
	}
	out[len] = '\0';
	return true;
}

struct fl_schema *fl_schema_new(void)
{
	struct fl_schema *s = calloc(1, sizeof *s);
	if (s)
		s->root.kind = T_STRUCT;
	return s;
}

void fl_schema_free(struct fl_schema *s)
{
	if (!s)
		return;
	type_clear(&s->root);
	free(s);
}

size_t fl_schema_count(const struct fl_schema *s)
{
	return s ? s->root.nf : 0;
}

const char *fl_schema_name(const struct fl_schema *s, size_t i)
{
	return s && i < s->root.nf ? s->root.f[i].name : NULL;
}

const char *fl_schema_type(const struct fl_schema *s, size_t i)
{
	return s && i < s->root.nf ? s->root.f[i].tstr : NULL;
}

const char *fl_schema_key(const struct fl_schema *s, size_t i)
{
	if (!s || i >= s->root.nf)
		return NULL;
	return s->root.f[i].key ? s->root.f[i].key : s->root.f[i].name;
}

/* Adds column src (borrowed) to s or joins it into the column of its
 * name.  -1 on ENOMEM. */
static int column_add(struct fl_schema *s, const struct field *src, bool *changed)
{
	struct type *root = &s->root;
	struct field *have = field_find(root, src->name);
	if (have) {
		bool ch = false;
		if (join(have->t, src->t, &ch) != 0)
			return -1;
		if (!ch)
			return 0;
		*changed = true;
		return column_render(have);
	}
	if (root->nf >= FL_SCHEMA_MAX_COLUMNS)
		return 0;
	size_t at = root->nf, rank = common_rank(src->name);
	if (!s->given && rank < NCOMMON)
		for (at = 0; at < root->nf && common_rank(root->f[at].name) < rank; at++)
			;
	struct field f;
	if (field_copy(&f, src) != 0)
		return -1;
	f.col = json_incref(src->col);
	if (column_render(&f) != 0 || field_insert(root, at, &f) != 0) {
		field_clear(&f);
		return -1;
	}
	*changed = true;
	return 0;
}

/* The two passes of a merge (see DESIGN). */
static int columns_add(struct fl_schema *s, const struct type *from, bool *changed)
{
	for (size_t r = 0; r < NCOMMON; r++) {
		const struct field *f = field_find(from, common[r]);
		if (f && column_add(s, f, changed) != 0)
			return -1;
	}
	for (size_t i = 0; i < from->nf; i++)
		if (common_rank(from->f[i].name) == NCOMMON &&
		    column_add(s, &from->f[i], changed) != 0)
			return -1;
	return 0;
}

enum fl_result fl_schema_merge(struct fl_schema *into, const struct fl_schema *from,
			       bool *changed)
{
	bool ch = false;
	int rc = columns_add(into, &from->root, &ch);
	if (changed)
		*changed = ch;
	return rc == 0 ? FL_OK : FL_INTERNAL;
}

/* Scalar type of one CSV cell; T_NONE for "". */
static enum kind text_kind(const char *t, size_t n)
{
	static const char *const lits[] = { "true", "false" };
	if (n == 0)
		return T_NONE;
	for (size_t i = 0; i < 2; i++)
		if (n == strlen(lits[i]) && !strncasecmp(t, lits[i], n))
			return T_BOOLEAN;
	const char *p = t, *end = t + n;
	if (*p == '-')
		p++;
	const char *ds = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	size_t nint = (size_t)(p - ds);
	bool real = false;
	if (p < end && *p == '.') {
		const char *f = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (nint == 0 && p == f)
			return T_STRING;
		real = true;
	} else if (nint == 0) {
		return T_STRING;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		const char *e = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == e)
			return T_STRING;
		real = true;
	}
	if (p != end)
		return T_STRING;
	if (real)
		return T_DOUBLE;
	while (nint > 1 && *ds == '0') {  /* leading zeros do not count */
		ds++;
		nint--;
	}
	if (nint < 19)
		return T_BIGINT;
	if (nint > 19)
		return T_DOUBLE;
	return memcmp(ds, t[0] == '-' ? "9223372036854775808" : "9223372036854775807", 19) <= 0
		? T_BIGINT : T_DOUBLE;
}

enum fl_result fl_schema_observe_text(struct fl_schema *s, const char *name,
				      const char *text, size_t len)
{
	char col[FL_SCHEMA_NAME_MAX + 1];
	enum kind k = text_kind(text, len);
	if (!name || !fl_schema_column_name(name, strlen(name), col))
		return FL_INVALID;
	if (k == T_NONE)
		return FL_OK;
	struct type t = { .kind = k };
	struct field f = { .name = col, .key = strcmp(col, name) ? (char *)name : NULL, .t = &t };
	bool ch = false;
	return column_add(s, &f, &ch) == 0 ? FL_OK : FL_INTERNAL;
}

enum fl_result fl_schema_from_columns(const json_t *columns, struct fl_schema **out,
				      struct fl_error *err)
{
	enum fl_result r = FL_OK;
	struct fl_schema *s = fl_schema_new();
	*out = NULL;
	if (!s)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	s->given = true;
	if (!json_is_array(columns)) {
		r = fl_error_set(err, FL_INVALID, "Columns is not a list");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(columns); i++) {
		json_t *c = json_array_get(columns, i);
		const char *name = json_string_value(json_object_get(c, "Name"));
		json_t *jt = json_object_get(c, "Type");
		const char *type = json_is_string(jt) ? json_string_value(jt) : "string";
		if (!name || !*name) {
			r = fl_error_set(err, FL_INVALID, "Column %zu has no name", i + 1);
			goto out;
		}
		if (jt && !json_is_null(jt) && !json_is_string(jt)) {
			r = fl_error_set(err, FL_INVALID, "Type of column %s is not a string", name);
			goto out;
		}
		struct field f = { 0 };
		if ((r = type_parse(type, &f.t)) == FL_INVALID) {
			r = fl_error_set(err, FL_INVALID, "Invalid type for column %s: %.200s",
					 name, type);
			goto out;
		}
		if (r == FL_OK && (!(f.name = strdup(name)) || !(f.tstr = strdup(type)) ||
				   field_insert(&s->root, s->root.nf, &f) != 0))
			r = FL_INTERNAL;
		if (r != FL_OK) {
			field_clear(&f);
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		s->root.f[s->root.nf - 1].col = json_incref(c);
	}
out:
	if (r == FL_OK)
		*out = s;
	else
		fl_schema_free(s);
	return r;
}

json_t *fl_schema_to_columns(const struct fl_schema *s, const char *const *skip,
			     size_t nskip)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < fl_schema_count(s); i++) {
		const struct field *f = &s->root.f[i];
		size_t k = 0;
		while (k < nskip && !(skip[k] && name_eq(skip[k], f->name)))
			k++;
		if (k < nskip)
			continue;
		json_t *c = f->col ? json_deep_copy(f->col) : json_object();
		if (!c || json_object_set_new(c, "Name", json_string(f->name)) != 0 ||
		    json_object_set_new(c, "Type", json_string(f->tstr)) != 0) {
			json_decref(c);
			c = NULL;
		}
		if (!c || json_array_append_new(arr, c) != 0) {  /* append steals c */
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

/* ---- the line scanner ------------------------------------------------- */

#define K_NULL   0x6a09e667f3bcc909ull
#define K_BOOL   0xbb67ae8584caa73bull
#define K_INT    0x3c6ef372fe94f82bull
#define K_DOUBLE 0xa54ff53a5f1d36f1ull
#define K_STRING 0x510e527fade682d1ull
#define K_DEEP   0x9b05688c2b3e6c1full
#define K_OBJECT 0x1f83d9abfb41bd6bull
#define K_ARRAY  0x5be0cd19137e2179ull

struct scan {
	const char *end;
	bool uncacheable;       /* an array had too many shapes to hash */
	bool nomem;
	const char *cat;        /* the last top-level created_at, when a number */
	size_t cat_len;
	struct fl_buf key;      /* decoded keys (building) */
	uint64_t deep[DEEP_MAX / 64];
};

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	while (n >= 8) {
		uint64_t x;
		memcpy(&x, s, 8);
		h = (h ^ x) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		s += 8;
		n -= 8;
	}
	if (n) {
		uint64_t x = 0;
		for (size_t i = 0; i < n; i++)
			x |= (uint64_t)(unsigned char)s[i] << (8 * i);
		h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
	}
	return h;
}

static inline const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static const char *literal(const char *p, const char *end, const char *lit, size_t n)
{
	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

/* A JSON number at p; *is_int: no fraction or exponent, fits int64. */
static const char *number(const char *p, const char *end, bool *is_int)
{
	bool neg = *p == '-';
	if (neg)
		p++;
	const char *ds = p;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	size_t nd = (size_t)(p - ds);
	bool real = false;
	if (p < end && *p == '.') {
		if (++p == end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		real = true;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		real = true;
	}
	if (p < end && *p >= '0' && *p <= '9')
		return NULL;  /* "01" */
	*is_int = !real && (nd < 19 || (nd == 19 && memcmp(ds, neg ? "9223372036854775808"
							   : "9223372036854775807", 19) <= 0));
	return p;
}

/* A string, number or literal at p: its end, shape hash and kind. */
static const char *scalar(const char *p, const char *end, uint64_t *h, enum kind *k)
{
	bool is_int = false;
	switch (*p) {
	case '"':
		*h = K_STRING;
		*k = T_STRING;
		return fl_json_string(p, end, NULL, NULL, NULL, NULL);
	case 't':
		*h = K_BOOL;
		*k = T_BOOLEAN;
		return literal(p, end, "true", 4);
	case 'f':
		*h = K_BOOL;
		*k = T_BOOLEAN;
		return literal(p, end, "false", 5);
	case 'n':
		*h = K_NULL;
		*k = T_NONE;
		return literal(p, end, "null", 4);
	default:
		p = number(p, end, &is_int);
		*h = is_int ? K_INT : K_DOUBLE;
		*k = is_int ? T_BIGINT : T_DOUBLE;
		return p;
	}
}

/* `"key" :` and the white space after it at p; the value's start, or
 * NULL.  *ks, *kn, *kesc: the raw key (may be NULL). */
static const char *member_key(const char *p, const char *end, const char **ks, size_t *kn,
			      bool *kesc)
{
	if (p >= end || *p != '"' || !(p = fl_json_string(p, end, ks, kn, kesc, NULL)))
		return NULL;
	p = ws(p, end);
	return p < end && *p == ':' ? ws(p + 1, end) : NULL;
}

/* Validates a container below FL_SCHEMA_MAX_DEPTH without recursion: a
 * bit per open level says object (1) or array (0). */
static const char *deep_skip(struct scan *sc, const char *p)
{
	const char *end = sc->end;
	size_t level = 0;
	uint64_t h;
	enum kind k;
	for (;;) {
		/* p is at a value */
		if (p >= end)
			return NULL;
		if (*p == '{' || *p == '[') {
			bool obj = *p == '{';
			if (level == DEEP_MAX)
				return NULL;
			if (obj)
				sc->deep[level / 64] |= 1ull << (level % 64);
			else
				sc->deep[level / 64] &= ~(1ull << (level % 64));
			level++;
			p = ws(p + 1, end);
			if (p < end && *p == (obj ? '}' : ']')) {
				p++;
				level--;
			} else {
				if (obj && !(p = member_key(p, end, NULL, NULL, NULL)))
					return NULL;
				continue;
			}
		} else if (!(p = scalar(p, end, &h, &k))) {
			return NULL;
		}
		/* after a value: close levels or go to the next member */
		for (;;) {
			if (level == 0)
				return p;
			bool obj = sc->deep[(level - 1) / 64] >> ((level - 1) % 64) & 1;
			p = ws(p, end);
			if (p < end && *p == (obj ? '}' : ']')) {
				p++;
				level--;
				continue;
			}
			if (p >= end || *p != ',')
				return NULL;
			p = ws(p + 1, end);
			if (obj && !(p = member_key(p, end, NULL, NULL, NULL)))
				return NULL;
			break;
		}
	}
}

static const char *value(struct scan *sc, const char *p, int depth, uint64_t *h,
			 struct type **t);

/* Adds member key (raw) with type *vt (taken) to the struct being built. */
static void build_member(struct scan *sc, struct type *st, const char *ks, size_t kn,
			 bool kesc, struct type *vt, bool top)
{
	char name[FL_SCHEMA_NAME_MAX + 1];
	const char *key = ks;
	size_t klen = kn;
	if (kn > KEY_RAW_MAX)
		goto drop;
	if (kesc) {
		fl_buf_reset(&sc->key);
		enum fl_result r = fl_json_unescape(ks, kn, &sc->key);
		if (r == FL_INTERNAL)
			sc->nomem = true;
		if (r != FL_OK)
			goto drop;
		key = sc->key.data;
		klen = sc->key.len;
	}
	if (!fl_schema_column_name(key, klen, name))
		goto drop;
	if (top && vt->kind == T_STRING && strcmp(name, "created_datetime") == 0)
		vt->kind = T_TIMESTAMP;
	struct field *have = field_find(st, name);
	if (have) {
		bool ch = false;
		if (join(have->t, vt, &ch) != 0)
			sc->nomem = true;
		goto drop;
	}
	if (top && st->nf >= FL_SCHEMA_MAX_COLUMNS)
		goto drop;
	/* Only columns keep their key: nested names have no mapping. */
	bool keep = top && memcmp(key, name, klen) != 0;
	struct field f = { .name = strdup(name), .t = vt };
	if (f.name && (!keep || (f.key = strndup(key, klen))) &&
	    field_insert(st, st->nf, &f) == 0)
		return;
	free(f.name);
	free(f.key);
	sc->nomem = true;
drop:
	type_free(vt);
}

static const char *object(struct scan *sc, const char *p, int depth, uint64_t *h,
			  struct type **t, bool top)
{
	const char *end = sc->end;
	struct type *st = NULL;
	uint64_t sum = 0;
	if (t && !(st = type_new(T_STRUCT)))
		goto nomem;
	p = ws(p + 1, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		const char *ks;
		size_t kn;
		bool kesc;
		uint64_t vh;
		struct type *vt = NULL;
		const char *vs = p = member_key(p, end, &ks, &kn, &kesc);
		if (!p || !(p = value(sc, p, depth + 1, &vh, st ? &vt : NULL)))
			goto bad;
		sum += mix(hash_bytes(ks, kn) ^ (vh * 0x9e3779b97f4a7c15ull));
		if (top && ((kn == 10 && !kesc && memcmp(ks, "created_at", 10) == 0) ||
			    (kesc && fl_json_key_eq(ks, kn, true, "created_at", 10)))) {
			bool num = vh == K_INT || vh == K_DOUBLE;
			sc->cat = num ? vs : NULL;
			sc->cat_len = (size_t)(p - vs);
		}
		if (st) {
			build_member(sc, st, ks, kn, kesc, vt, top);
			if (sc->nomem)
				goto bad;
		}
		p = ws(p, end);
		if (p < end && *p == ',') {
			p = ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		goto bad;
	}
done:
	*h = mix(sum ^ K_OBJECT);
	if (t)
		*t = st;
	return p;
nomem:
	sc->nomem = true;
bad:
	type_free(st);
	return NULL;
}

static const char *array(struct scan *sc, const char *p, int depth, uint64_t *h,
			 struct type **t)
{
	const char *end = sc->end;
	struct type *at = NULL;
	uint64_t set[ARRAY_SET], sum = 0;
	size_t n = 0;
	if (t && (!(at = type_new(T_ARRAY)) || !(at->elem = type_new(T_NONE))))
		goto nomem;
	p = ws(p + 1, end);
	if (p < end && *p == ']') {
		p++;
		goto done;
	}
	for (;;) {
		uint64_t eh;
		struct type *et = NULL;
		if (!(p = value(sc, p, depth + 1, &eh, at ? &et : NULL)))
			goto bad;
		size_t i = 0;
		while (i < n && set[i] != eh)
			i++;
		if (i == n) {
			if (n < ARRAY_SET) {
				set[n++] = eh;
				sum += mix(eh ^ K_ARRAY);
			} else {
				sc->uncacheable = true;
			}
			bool ch = false;
			if (at && join(at->elem, et, &ch) != 0) {
				type_free(et);
				goto nomem;
			}
		}
		type_free(et);
		p = ws(p, end);
		if (p < end && *p == ',') {
			p = ws(p + 1, end);
			continue;
		}
		if (p < end && *p == ']') {
			p++;
			break;
		}
		goto bad;
	}
done:
	*h = mix(sum + K_ARRAY);
	if (t)
		*t = at;
	return p;
nomem:
	sc->nomem = true;
bad:
	type_free(at);
	return NULL;
}

/* One value at depth (a column's value is at 1): its end and shape hash,
 * and when t is not NULL its type (caller owns).  NULL when malformed or
 * (sc->nomem) out of memory. */
static const char *value(struct scan *sc, const char *p, int depth, uint64_t *h,
			 struct type **t)
{
	enum kind k;
	if (p >= sc->end)
		return NULL;
	if (*p == '{' || *p == '[') {
		if (depth <= FL_SCHEMA_MAX_DEPTH)
			return *p == '{' ? object(sc, p, depth, h, t, false)
					 : array(sc, p, depth, h, t);
		*h = K_DEEP;
		k = T_STRING;
		p = deep_skip(sc, p);
	} else {
		p = scalar(p, sc->end, h, &k);
	}
	if (p && t && !(*t = type_new(k))) {
		sc->nomem = true;
		return NULL;
	}
	return p;
}

/* Scans one line as a JSON object: true when it is one.  With root, also
 * builds its type (caller owns). */
static bool scan_line(struct scan *sc, const char *p, const char *end, uint64_t *h,
		      struct type **root)
{
	sc->end = end;
	sc->uncacheable = false;
	sc->nomem = false;
	sc->cat = NULL;
	p = ws(p, end);
	if (p >= end || *p != '{')
		return false;
	struct type *t = NULL;
	p = object(sc, p, 0, h, root ? &t : NULL, true);
	if (p && ws(p, end) == end) {
		if (root)
			*root = t;
		return true;
	}
	type_free(t);
	return false;
}

static struct scan *scan_new(void)
{
	struct scan *sc = malloc(sizeof *sc);
	if (sc)
		fl_buf_init(&sc->key, KEY_RAW_MAX + 1);
	return sc;
}

static void scan_free(struct scan *sc)
{
	if (sc)
		fl_buf_free(&sc->key);
	free(sc);
}

enum fl_result fl_schema_observe_json(struct fl_schema *s, const char *text, size_t len)
{
	struct scan *sc = scan_new();
	struct type *root = NULL;
	uint64_t h;
	bool ch;
	enum fl_result r = FL_INTERNAL;
	if (!sc)
		goto out;
	if (!scan_line(sc, text, text + len, &h, &root)) {
		r = sc->nomem ? FL_INTERNAL : FL_INVALID;
		goto out;
	}
	r = columns_add(s, root, &ch) == 0 ? FL_OK : FL_INTERNAL;
out:
	type_free(root);
	scan_free(sc);
	return r;
}

/* ---- the observer ----------------------------------------------------- */

#define MAX_MS 253402300799999LL  /* 9999-12-31T23:59:59.999Z */

struct fl_infer {
	struct fl_schema *schema;
	struct scan *sc;
	uint64_t *shapes;      /* open addressing; 0 is empty */
	size_t nshapes, cap;
	uint64_t last;         /* the shape of the previous good line */
	struct fl_infer_stats st;
};

/* Unix seconds (a validated JSON number) to milliseconds, truncated;
 * false when negative or past the year 9999.  Exact decimal arithmetic:
 * the exponent only moves the point over the digits. */
static bool seconds_ms(const char *s, size_t n, int64_t *ms)
{
	const char *p = s, *end = s + n;
	char dig[64];
	size_t nd = 0;
	int64_t point = 0, exp = 0;
	if (*p == '-') {
		for (const char *q = p; q < end && *q != 'e' && *q != 'E'; q++)
			if (*q >= '1' && *q <= '9')
				return false;
		*ms = 0;
		return true;
	}
	for (; p < end && *p >= '0' && *p <= '9'; p++, point++)
		if (nd || *p != '0') {
			if (nd == sizeof dig)
				return false;  /* > 10^64 s */
			dig[nd++] = *p;
		} else {
			point--;  /* leading zeros do not move the point */
		}
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			if (!nd && *p == '0') {
				point--;
				continue;
			}
			if (nd < sizeof dig)
				dig[nd++] = *p;
		}
	if (p < end && (*p == 'e' || *p == 'E')) {
		bool eneg = false;
		if (++p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < end; p++)
			if (exp < 100000000)
				exp = exp * 10 + (*p - '0');
		exp = eneg ? -exp : exp;
	}
	point += exp;  /* value = 0.dig... x 10^point */
	if (!nd || point + 3 <= 0) {
		*ms = 0;
		return true;
	}
	if (point > 12)
		return false;
	int64_t v = 0;
	for (int64_t i = 0; i < point + 3; i++)
		v = v * 10 + (i < (int64_t)nd ? dig[i] - '0' : 0);
	if (v > MAX_MS)
		return false;
	*ms = v;
	return true;
}

struct fl_infer *fl_infer_new(void)
{
	struct fl_infer *inf = calloc(1, sizeof *inf);
	if (!inf)
		return NULL;
	inf->schema = fl_schema_new();
	inf->sc = scan_new();
	inf->cap = MIN_SHAPES_CAP;
	inf->shapes = calloc(inf->cap, sizeof *inf->shapes);
	if (!inf->schema || !inf->sc || !inf->shapes) {
		fl_infer_free(inf);
		return NULL;
	}
	fl_infer_reset_stats(inf);
	return inf;
}

void fl_infer_free(struct fl_infer *inf)
{
	if (!inf)
		return;
	fl_schema_free(inf->schema);
	scan_free(inf->sc);
	free(inf->shapes);
	free(inf);
}

static bool shape_known(const struct fl_infer *inf, uint64_t h)
{
	for (size_t i = h & (inf->cap - 1); inf->shapes[i]; i = (i + 1) & (inf->cap - 1))
		if (inf->shapes[i] == h)
			return true;
	return false;
}

static void shape_put(struct fl_infer *inf, uint64_t h)
{
	if (inf->nshapes >= FL_INFER_MAX_SHAPES)
		return;
	if ((inf->nshapes + 1) * 2 > inf->cap) {
		size_t cap = inf->cap * 2;
		uint64_t *ns = calloc(cap, sizeof *ns);
		if (!ns)
			return;  /* only costs parses later */
		for (size_t i = 0; i < inf->cap; i++) {
			if (!inf->shapes[i])
				continue;
			size_t j = inf->shapes[i] & (cap - 1);
			while (ns[j])
				j = (j + 1) & (cap - 1);
			ns[j] = inf->shapes[i];
		}
		free(inf->shapes);
		inf->shapes = ns;
		inf->cap = cap;
	}
	size_t i = h & (inf->cap - 1);
	while (inf->shapes[i])
		i = (i + 1) & (inf->cap - 1);
	inf->shapes[i] = h;
	inf->nshapes++;
}

/* One line: -1 on ENOMEM. */
static int infer_line(struct fl_infer *inf, const char *p, const char *end)
{
	struct scan *sc = inf->sc;
	uint64_t h;
	p = ws(p, end);
	if (p == end)
		return 0;
	if (!scan_line(sc, p, end, &h, NULL)) {
		inf->st.bad++;
		return 0;
	}
	inf->st.records++;
	int64_t ms;
	if (sc->cat && seconds_ms(sc->cat, sc->cat_len, &ms)) {
		if (ms < inf->st.min_created_ms)
			inf->st.min_created_ms = ms;
		if (ms > inf->st.max_created_ms)
			inf->st.max_created_ms = ms;
	}
	h |= !h;  /* 0 marks an empty slot */
	if (!sc->uncacheable && (h == inf->last || shape_known(inf, h))) {
		inf->last = h;
		return 0;
	}
	struct type *root = NULL;
	bool ch, cacheable = !sc->uncacheable;
	if (!scan_line(sc, p, end, &h, &root))
		return sc->nomem ? -1 : 0;  /* cannot happen: it scanned well */
	int rc = columns_add(inf->schema, root, &ch);
	type_free(root);
	if (rc == 0 && cacheable) {
		h |= !h;
		shape_put(inf, h);
		inf->last = h;
	}
	return rc;
}

enum fl_result fl_infer_lines(struct fl_infer *inf, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (infer_line(inf, p, le) != 0)
			return FL_INTERNAL;
		p = nl ? nl + 1 : end;
	}
	return FL_OK;
}

const struct fl_schema *fl_infer_schema(const struct fl_infer *inf)
{
	return inf->schema;
}

void fl_infer_stats(const struct fl_infer *inf, struct fl_infer_stats *out)
{
	*out = inf->st;
}

void fl_infer_reset_stats(struct fl_infer *inf)
{
	inf->st = (struct fl_infer_stats){ .min_created_ms = INT64_MAX,
					   .max_created_ms = INT64_MIN };
}
