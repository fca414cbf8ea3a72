/*
 * schema_infer.c - events read into type trees: the line scanner, its
 * shape hash, and the observer of NDJSON lines (schema.h).
 *
 * Design.  One scanner validates a line and hashes its shape in the same
 * pass; the rules are jscan's (RFC 8259, UTF-8 checked, surrogate escapes
 * paired: fl_json_string does the strings), so an event ingest accepted
 * is never a bad line here and the two paths cannot disagree.  It is
 * deliberately not jansson: jansson refuses integers past int64 (here
 * they are double), stops at 2048 levels and keeps only the last of
 * duplicate keys.  Containers are read by recursion down to
 * FL_SCHEMA_MAX_DEPTH (a column's own value is level 1); a container below
 * that is typed string and checked by a loop with a bit stack of
 * DEEP_MAX levels (a line nesting deeper is bad).  The shape hash of an
 * object is a sum over its members of mix(key hash, value hash), so
 * member order does not matter; an array hashes the set of its distinct
 * element shapes (length and order do not matter) - up to ARRAY_SET
 * distinct ones, past that the line is parsed every time.  The same pass,
 * given a place to put it, builds the line's type tree (schema_tree.h);
 * the observer does that only for a shape it has not remembered, and
 * merges the tree into its schema as schema.c's merge does.  The hash is
 * not keyed: a line crafted to collide with a remembered shape can at
 * worst hide its new fields from inference.
 *
 * Details decided here:
 *  - A line of white space only is empty: neither a record nor bad.
 *  - created_at counts when it is a top-level number (the last of
 *    duplicates decides) in [0, 253402300800) seconds, -0 being 0;
 *    milliseconds are truncated from the decimal digits, as enrich does.
 *  - A top-level string field created_datetime is a timestamp.
 */
#include "schema.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jscan.h"
#include "schema_tree.h"

#define DEEP_MAX 65536          /* nesting a line may have at all */
#define ARRAY_SET 16            /* distinct element shapes an array hashes */
#define MIN_SHAPES_CAP 64

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
	if (kn > FL_SCHEMA_KEY_RAW_MAX)
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
	struct field *have = fl_schema_tree_find(st, name);
	if (have) {
		bool ch = false;
		if (fl_schema_tree_join(have->t, vt, &ch) != 0)
			sc->nomem = true;
		goto drop;
	}
	if (top && st->nf >= FL_SCHEMA_MAX_COLUMNS)
		goto drop;
	/* Only columns keep their key: nested names have no mapping. */
	bool keep = top && memcmp(key, name, klen) != 0;
	struct field f = { .name = strdup(name), .t = vt };
	if (f.name && (!keep || (f.key = strndup(key, klen))) &&
	    fl_schema_tree_insert(st, st->nf, &f) == 0)
		return;
	free(f.name);
	free(f.key);
	sc->nomem = true;
drop:
	fl_schema_tree_free(vt);
}

static const char *object(struct scan *sc, const char *p, int depth, uint64_t *h,
			  struct type **t, bool top)
{
	const char *end = sc->end;
	struct type *st = NULL;
	uint64_t sum = 0;
	if (t && !(st = fl_schema_tree_new(T_STRUCT)))
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
	fl_schema_tree_free(st);
	return NULL;
}

static const char *array(struct scan *sc, const char *p, int depth, uint64_t *h,
			 struct type **t)
{
	const char *end = sc->end;
	struct type *at = NULL;
	uint64_t set[ARRAY_SET], sum = 0;
	size_t n = 0;
	if (t && (!(at = fl_schema_tree_new(T_ARRAY)) || !(at->elem = fl_schema_tree_new(T_NONE))))
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
			if (at && fl_schema_tree_join(at->elem, et, &ch) != 0) {
				fl_schema_tree_free(et);
				goto nomem;
			}
		}
		fl_schema_tree_free(et);
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
	fl_schema_tree_free(at);
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
	if (p && t && !(*t = fl_schema_tree_new(k))) {
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
	fl_schema_tree_free(t);
	return false;
}

static struct scan *scan_new(void)
{
	struct scan *sc = malloc(sizeof *sc);
	if (sc)
		fl_buf_init(&sc->key, FL_SCHEMA_KEY_RAW_MAX + 1);
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
	r = fl_schema_tree_add_columns(s, root, &ch) == 0 ? FL_OK : FL_INTERNAL;
out:
	fl_schema_tree_free(root);
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
	int rc = fl_schema_tree_add_columns(inf->schema, root, &ch);
	fl_schema_tree_free(root);
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
