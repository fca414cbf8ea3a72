/*
 * enrich.c - one event in, one enriched event out.
 *
 * Design.  One validating pass (fl_json_object_scan) hands back the
 * event's top-level members; a look at their keys finds the last
 * event_uuid, event_name and created_at values and counts the members that
 * enrichment replaces (created_datetime, event_type, event_subtype).
 * Nothing is written until the event is known good, so a failure leaves
 * the output untouched.
 *
 * The usual event has none of the replaced members: its output is its own
 * bytes up to the closing brace, then the three new members and '}'.  The
 * exact size is known beforehand, so that is one fl_buf_reserve and a few
 * memcpy, no allocation per event once the buffer has grown.  An event
 * that carries replaced members takes a second, slower pass that copies
 * the members it keeps with their original separators.
 *
 * created_datetime comes from decimal arithmetic on created_at's digits
 * (no double: 1767226391.251 must not become .250) and a civil-from-days
 * conversion (Howard Hinnant's), not gmtime.
 */
#include "enrich.h"

#include <stdbool.h>
#include <string.h>

#include "jscan.h"

#define MAX_MS 253402300799999LL    /* 9999-12-31T23:59:59.999Z */
#define MIN_MS (-62167219200000LL)  /* 0000-01-01T00:00:00.000Z */

enum field { F_OTHER, F_UUID, F_NAME, F_CREATED_AT, F_REPLACED };

struct span {
	const char *p;  /* NULL: absent */
	size_t n;
};

static enum fl_result reject(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return FL_INVALID;
}

static inline __attribute__((always_inline)) enum field
classify(const struct fl_json_member *m)
{
	static const struct {
		const char *name;
		size_t len;
		enum field f;
	} names[] = {
		{ "event_uuid", 10, F_UUID },
		{ "event_name", 10, F_NAME },
		{ "created_at", 10, F_CREATED_AT },
		{ "created_datetime", 16, F_REPLACED },
		{ "event_type", 10, F_REPLACED },
		{ "event_subtype", 13, F_REPLACED },
	};
	const char *k = m->key;

	if (!m->key_escaped) {
		switch (m->key_len) {
		case 10:
			if (k[0] == 'e' && !memcmp(k, "event_", 6)) {
				if (!memcmp(k + 6, "uuid", 4))
					return F_UUID;
				if (!memcmp(k + 6, "name", 4))
					return F_NAME;
				if (!memcmp(k + 6, "type", 4))
					return F_REPLACED;
			} else if (k[0] == 'c' && !memcmp(k, "created_at", 10)) {
				return F_CREATED_AT;
			}
			return F_OTHER;
		case 13:
			return memcmp(k, "event_subtype", 13) ? F_OTHER : F_REPLACED;
		case 16:
			return memcmp(k, "created_datetime", 16) ? F_OTHER : F_REPLACED;
		default:
			return F_OTHER;
		}
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (fl_json_key_eq(k, m->key_len, true, names[i].name, names[i].len))
			return names[i].f;
	return F_OTHER;
}

/* Digit i of the concatenation of the integer and fraction digits. */
static inline int digit_at(const char *ip, size_t nint, const char *fp, size_t i)
{
	return (i < nint ? ip[i] : fp[i - nint]) - '0';
}

/*
 * Converts a validated JSON number (Unix seconds) to milliseconds,
 * truncated; *frac says the value is not an integer.  Returns false when
 * it is negative or past MAX_MS.  Exact for any spelling: the digits are
 * read as a decimal string and the exponent only moves the point.
 */
static bool seconds_to_ms(const char *s, size_t n, int64_t *ms, bool *frac)
{
	const char *p = s, *end = s + n;
	bool neg = false;

	/* The usual spelling: a plain integer of at most 12 digits. */
	if (n <= 12 && *p != '-') {
		int64_t v = 0;
		while (p < end && *p >= '0' && *p <= '9')
			v = v * 10 + (*p++ - '0');
		if (p == end) {
			if (v * 1000 > MAX_MS)
				return false;
			*ms = v * 1000;
			*frac = false;
			return true;
		}
		p = s;
	}
	if (*p == '-') {
		neg = true;
		p++;
	}
	const char *ip = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	size_t nint = (size_t)(p - ip);
	const char *fp = p;
	size_t nfrac = 0;
	if (p < end && *p == '.') {
		fp = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		nfrac = (size_t)(p - fp);
	}
	int64_t exp = 0;
	if (p < end && (*p == 'e' || *p == 'E')) {
		bool eneg = false;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < end; p++)
			if (exp < 100000000)  /* saturate: far past any answer */
				exp = exp * 10 + (*p - '0');
		if (eneg)
			exp = -exp;
	}

	size_t total = nint + nfrac, lead = 0;
	while (lead < total && digit_at(ip, nint, fp, lead) == 0)
		lead++;
	if (lead == total) {  /* zero, whatever its sign */
		*ms = 0;
		*frac = false;
		return true;
	}
	if (neg)
		return false;

	/* The value is 0.DDD... x 10^point over the significant digits. */
	int64_t point = (int64_t)nint - (int64_t)lead + exp;
	if (point > 12)  /* >= 10^12 s, past the year 9999 */
		return false;
	int64_t v = 0;
	for (int64_t i = 0; i < point + 3; i++) {
		size_t k = lead + (size_t)i;
		v = v * 10 + (k < total ? digit_at(ip, nint, fp, k) : 0);
	}
	if (v > MAX_MS)
		return false;
	bool fr = false;
	for (size_t k = lead + (size_t)(point > 0 ? point : 0); k < total && !fr; k++)
		fr = digit_at(ip, nint, fp, k) != 0;
	*ms = v;
	*frac = fr;
	return true;
}

static inline char *put2(char *d, unsigned v)
{
	static const char digits[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	memcpy(d, digits + 2 * v, 2);
	return d + 2;
}

size_t fl_iso8601(int64_t ms, int with_ms, char *out)
{
	if (ms < MIN_MS)
		ms = MIN_MS;
	if (ms > MAX_MS)
		ms = MAX_MS;

	int64_t days = ms / 86400000;
	int64_t rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	unsigned milli = (unsigned)(rem % 1000);
	unsigned secs = (unsigned)(rem / 1000);

	/* civil_from_days, http://howardhinnant.github.io/date_algorithms.html */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	unsigned y = (unsigned)(yoe + era * 400) + (m <= 2);

	char *o = out;
	o = put2(o, y / 100);
	o = put2(o, y % 100);
	*o++ = '-';
	o = put2(o, m);
	*o++ = '-';
	o = put2(o, d);
	*o++ = 'T';
	o = put2(o, secs / 3600);
	*o++ = ':';
	o = put2(o, secs / 60 % 60);
	*o++ = ':';
	o = put2(o, secs % 60);
	if (with_ms) {
		*o++ = '.';
		*o++ = (char)('0' + milli / 100);
		o = put2(o, milli % 100);
	}
	*o++ = 'Z';
	*o = '\0';
	return (size_t)(o - out);
}

/* The members enrichment adds, ready to be written. */
struct additions {
	char iso[25];
	size_t iso_len;
	struct span type;
	struct span sub;  /* p NULL: null */
};

#define A_DATETIME  ",\"created_datetime\":\""
#define A_TYPE      "\",\"event_type\":\""
#define A_SUBTYPE   "\",\"event_subtype\":"
#define A_NULL      "null}"
#define LIT(s)      (sizeof(s) - 1)

static size_t additions_len(const struct additions *a)
{
	return LIT(A_DATETIME) + a->iso_len + LIT(A_TYPE) + a->type.n +
	       LIT(A_SUBTYPE) + (a->sub.p ? a->sub.n + 3 : LIT(A_NULL));
}

static inline char *put(char *d, const void *s, size_t n)
{
	memcpy(d, s, n);
	return d + n;
}

/* Writes the additions and the closing brace at d; `comma` is false when
 * nothing precedes them in the object.  Fills the offsets of info
 * relative to ev (the start of the event). */
static char *write_additions(char *d, const struct additions *a, bool comma,
			     const char *ev, struct fl_enriched *info)
{
	d = put(d, A_DATETIME + !comma, LIT(A_DATETIME) - !comma);
	d = put(d, a->iso, a->iso_len);
	d = put(d, A_TYPE, LIT(A_TYPE));
	info->event_type_off = (size_t)(d - ev);
	info->event_type_len = a->type.n;
	d = put(d, a->type.p, a->type.n);
	d = put(d, A_SUBTYPE, LIT(A_SUBTYPE));
	if (a->sub.p) {
		*d++ = '"';
		info->event_subtype_off = (size_t)(d - ev);
		info->event_subtype_len = a->sub.n;
		d = put(d, a->sub.p, a->sub.n);
		*d++ = '"';
		*d++ = '}';
	} else {
		info->event_subtype_off = (size_t)(d - ev);
		info->event_subtype_len = 0;
		d = put(d, A_NULL, LIT(A_NULL));
	}
	return d;
}

/*
 * Copies the valid object at obj without the members that enrichment
 * replaces, up to but without its closing brace, to d (NULL: only counts).
 * Kept members bring the separator that stood before them, the first one
 * the white space after '{'.  Returns the length; *any says a member was
 * kept.
 */
static size_t copy_kept(const char *obj, const char *end, char *d, bool *any)
{
	struct fl_json_member m;
	const char *w = NULL;
	const char *p = fl_json_object_begin(obj, end, &w);
	const char *first = NULL;  /* first member of the object */
	const char *prev = NULL;   /* end of the previous member's value */
	size_t n = 1;

	if (d)
		d[0] = '{';
	*any = false;
	while ((p = fl_json_object_next(p, end, &m, &w)) && m.key) {
		const char *vend = m.value + m.value_len;
		if (!first)
			first = m.member;
		if (classify(&m) != F_REPLACED) {
			const char *from = *any ? prev : m.member;
			if (!*any) {
				if (d)
					memcpy(d + n, obj + 1, (size_t)(first - obj - 1));
				n += (size_t)(first - obj - 1);
			}
			if (d)
				memcpy(d + n, from, (size_t)(vend - from));
			n += (size_t)(vend - from);
			*any = true;
		}
		prev = vend;
	}
	/* p is past the closing brace: the object was validated. */
	const char *tail = prev ? prev : obj + 1;
	if (*any) {
		if (d)
			memcpy(d + n, tail, (size_t)(p - 1 - tail));
		n += (size_t)(p - 1 - tail);
	}
	return n;
}

/* What the first pass learns about an event's members. */
struct found {
	struct span uuid, name, cat;  /* the last of each */
	size_t replaced;
};

static inline __attribute__((always_inline)) void
note(struct found *f, const struct fl_json_member *m)
{
	switch (classify(m)) {
	case F_UUID:
		f->uuid = (struct span){ m->value, m->value_len };
		break;
	case F_NAME:
		f->name = (struct span){ m->value, m->value_len };
		break;
	case F_CREATED_AT:
		f->cat = (struct span){ m->value, m->value_len };
		break;
	case F_REPLACED:
		f->replaced++;
		break;
	case F_OTHER:
		break;
	}
}

/* Top-level members read in one scan; events with more are read again by
 * iteration. */
#define FAST_MEMBERS 32

enum fl_result fl_enrich_event(const char *in, size_t len, struct fl_buf *out,
			       struct fl_enriched *info, const char **why)
{
	const char *end = in + len, *w = "not valid JSON";
	struct fl_json_member mem[FAST_MEMBERS];
	struct found f = { { 0 }, { 0 }, { 0 }, 0 };
	struct fl_enriched scratch;
	size_t count;

	if (!info)
		info = &scratch;

	const char *obj = fl_json_ws(in, end);
	if (obj == end)
		return reject(why, w);
	if (*obj != '{') {
		const char *q = fl_json_value(obj, end, &w);
		if (!q)
			return reject(why, w);
		if (fl_json_ws(q, end) != end)
			return reject(why, "trailing data after JSON");
		return reject(why, "not a JSON object");
	}

	const char *p = fl_json_object_scan(obj, end, mem, FAST_MEMBERS, &count, &w);
	if (!p)
		return reject(why, w);
	const char *close = p - 1;
	if (fl_json_ws(p, end) != end)
		return reject(why, "trailing data after JSON");
	if (count <= FAST_MEMBERS) {
		for (size_t i = 0; i < count; i++)
			note(&f, &mem[i]);
	} else {
		struct fl_json_member m;
		const char *q = fl_json_object_begin(obj, end, &w);
		while ((q = fl_json_object_next(q, end, &m, &w)) && m.key)
			note(&f, &m);
	}
	bool members = count > 0;
	struct span uuid = f.uuid, name = f.name, cat = f.cat;
	size_t replaced = f.replaced;

	if (!uuid.p)
		return reject(why, "missing event_uuid");
	if (uuid.p[0] != '"')
		return reject(why, "event_uuid is not a string");
	if (!name.p)
		return reject(why, "missing event_name");
	if (name.p[0] != '"')
		return reject(why, "event_name is not a string");
	if (!cat.p)
		return reject(why, "missing created_at");
	if (cat.p[0] != '-' && (cat.p[0] < '0' || cat.p[0] > '9'))
		return reject(why, "created_at is not a number");

	int64_t ms;
	bool frac;
	if (!seconds_to_ms(cat.p, cat.n, &ms, &frac))
		return reject(why, "created_at out of range");

	struct additions a;
	a.iso_len = fl_iso8601(ms, frac, a.iso);
	const char *raw = name.p + 1;
	size_t raw_n = name.n - 2;
	const char *colon = memchr(raw, ':', raw_n);
	a.type = (struct span){ raw, colon ? (size_t)(colon - raw) : raw_n };
	a.sub = (struct span){ NULL, 0 };
	if (colon) {
		const char *s = colon + 1;
		const char *s_end = memchr(s, ':', (size_t)(raw + raw_n - s));
		size_t sn = (size_t)((s_end ? s_end : raw + raw_n) - s);
		if (sn)
			a.sub = (struct span){ s, sn };
	}

	size_t body = (size_t)(close - obj);
	if (replaced)
		body = copy_kept(obj, end, NULL, &members);
	size_t total = body + additions_len(&a) - !members;
	enum fl_result r = fl_buf_reserve(out, total);
	if (r != FL_OK) {
		if (why)
			*why = r == FL_TOO_LARGE ? "output too large" : "out of memory";
		return r;
	}

	char *ev = out->data + out->len;
	char *d = ev;
	if (replaced)
		d += copy_kept(obj, end, d, &members);
	else
		d = put(d, obj, body);
	d = write_additions(d, &a, members, ev, info);

	info->created_at_ms = ms;
	info->event_off = out->len;
	info->event_len = (size_t)(d - ev);
	out->len += info->event_len;
	out->data[out->len] = '\0';
	return FL_OK;
}
