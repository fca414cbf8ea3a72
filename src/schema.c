/*
 * schema.c - Glue types: merged, parsed and written; schemas and their
 * Glue Columns.
 *
 * Design.  A schema is the column list of a struct type: every column is
 * a field (name, JSON key, type tree) of the root struct (schema_tree.h).
 * Type trees are small malloc'd nodes; a struct with more than a few
 * fields carries an open-addressing index of its field names (compared
 * ignoring ASCII case, as Hive and Athena do), so a merge of 1000 columns
 * stays linear.  Each column keeps its Glue type string rendered,
 * refreshed only when its type changes; a column read from Glue keeps the
 * string it was given ("INT", "struct<a: int>") until a merge changes its
 * type.  Reading events into type trees is schema_infer.c's.
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
 * appended.  Whatever that target, a merge adds the columns of its source
 * in two passes - first the common fields it lacks, in the fixed order,
 * then the others in the source's order - so a new table written from an
 * inferred schema lists the common fields first.  A positional schema
 * (fl_schema_new_positional, fl_schema_set_positional: CSV tables, read by
 * position) knows no common fields: a merge adds the source's columns in
 * the source's order, one pass, each new one appended.  Columns past
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
 * Details decided here:
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
#include <strings.h>

#include "buf.h"
#include "schema_tree.h"

#define PARSE_MAX_DEPTH 128     /* nesting of a type string read from Glue */
#define INDEX_FROM 8            /* structs with more fields get an index */

/* ---- type nodes ------------------------------------------------------- */

struct type *fl_schema_tree_new(enum kind k)
{
	struct type *t = calloc(1, sizeof *t);
	if (t)
		t->kind = k;
	return t;
}

static void type_clear(struct type *t);

void fl_schema_tree_free(struct type *t)
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
	fl_schema_tree_free(f->t);
}

/* Frees what t holds and makes it unknown. */
static void type_clear(struct type *t)
{
	for (size_t i = 0; i < t->nf; i++)
		field_clear(&t->f[i]);
	free(t->f);
	free(t->idx);
	fl_schema_tree_free(t->elem);
	fl_schema_tree_free(t->val);
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

struct field *fl_schema_tree_find(const struct type *t, const char *name)
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
int fl_schema_tree_insert(struct type *t, size_t at, const struct field *f)
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
	struct type *d = fl_schema_tree_new(s->kind);
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
		if (fl_schema_tree_insert(d, d->nf, &f) != 0) {
			field_clear(&f);
			goto fail;
		}
	}
	return d;
fail:
	fl_schema_tree_free(d);
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

/* a (a struct) joined with b (a map): the map, its value joined with the
 * type of every field of a. */
static int join_struct_map(struct type *a, const struct type *b, bool *changed)
{
	struct type *m = type_copy(b);
	bool dummy = false;
	if (!m)
		return -1;
	for (size_t i = 0; i < a->nf; i++)
		if (fl_schema_tree_join(m->val, a->f[i].t, &dummy) != 0) {
			fl_schema_tree_free(m);
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
int fl_schema_tree_join(struct type *a, const struct type *b, bool *changed)
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
			struct field *have = fl_schema_tree_find(a, b->f[i].name);
			if (have) {
				if (fl_schema_tree_join(have->t, b->f[i].t, changed) != 0)
					return -1;
				continue;
			}
			struct field f;
			if (field_copy(&f, &b->f[i]) != 0)
				return -1;
			if (fl_schema_tree_insert(a, a->nf, &f) != 0) {
				field_clear(&f);
				return -1;
			}
			*changed = true;
		}
		return 0;
	}
	if (a->kind == T_ARRAY && b->kind == T_ARRAY)
		return fl_schema_tree_join(a->elem, b->elem, changed);
	if (a->kind == T_MAP && b->kind == T_MAP)
		return fl_schema_tree_join(a->elem, b->elem, changed) ||
		       fl_schema_tree_join(a->val, b->val, changed) ? -1 : 0;
	if (a->kind == T_MAP && b->kind == T_STRUCT) {
		for (size_t i = 0; i < b->nf; i++)
			if (fl_schema_tree_join(a->val, b->f[i].t, changed) != 0)
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
	if (!(t = fl_schema_tree_new(words[i].k)))
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
			    !(f.t = tp_type(tp, depth + 1)) ||
			    fl_schema_tree_insert(t, t->nf, &f) != 0) {
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
	fl_schema_tree_free(t);
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
		fl_schema_tree_free(t);
	}
	return tp.nomem ? FL_INTERNAL : FL_INVALID;
}

bool fl_schema_type_valid(const char *type)
{
	struct type *t = NULL;
	if (!type || type_parse(type, &t) != FL_OK)
		return false;
	fl_schema_tree_free(t);
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

struct fl_schema *fl_schema_new_positional(void)
{
	struct fl_schema *s = fl_schema_new();
	fl_schema_set_positional(s);
	return s;
}

void fl_schema_set_positional(struct fl_schema *s)
{
	if (s)
		s->positional = true;
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
	struct field *have = fl_schema_tree_find(root, src->name);
	if (have) {
		bool ch = false;
		if (fl_schema_tree_join(have->t, src->t, &ch) != 0)
			return -1;
		if (!ch)
			return 0;
		*changed = true;
		return column_render(have);
	}
	if (root->nf >= FL_SCHEMA_MAX_COLUMNS)
		return 0;
	size_t at = root->nf, rank = common_rank(src->name);
	if (!s->given && !s->positional && rank < NCOMMON)
		for (at = 0; at < root->nf && common_rank(root->f[at].name) < rank; at++)
			;
	struct field f;
	if (field_copy(&f, src) != 0)
		return -1;
	f.col = json_incref(src->col);
	if (column_render(&f) != 0 || fl_schema_tree_insert(root, at, &f) != 0) {
		field_clear(&f);
		return -1;
	}
	*changed = true;
	return 0;
}

/* The two passes of a merge, or the one of a positional target (see
 * DESIGN). */
int fl_schema_tree_add_columns(struct fl_schema *s, const struct type *from, bool *changed)
{
	if (s->positional) {
		for (size_t i = 0; i < from->nf; i++)
			if (column_add(s, &from->f[i], changed) != 0)
				return -1;
		return 0;
	}
	for (size_t r = 0; r < NCOMMON; r++) {
		const struct field *f = fl_schema_tree_find(from, common[r]);
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
	int rc = fl_schema_tree_add_columns(into, &from->root, &ch);
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
				   fl_schema_tree_insert(&s->root, s->root.nf, &f) != 0))
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
