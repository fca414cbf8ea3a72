/*
 * jscan.c - validating JSON scanner, no DOM; base64.
 *
 * Design.  Every event of the ingest path goes through here once, so the
 * scanner is written for throughput on small (~250 byte) objects:
 *
 *  - Containers are walked with a loop and a fixed stack of the closers
 *    still expected (FL_JSON_MAX_DEPTH bytes), never by recursion, so a
 *    deep input costs no C stack and the depth bound is one compare.
 *  - Inside strings almost every byte is plain printable ASCII.  SSE2 (the
 *    x86-64 baseline) tests 16 bytes at a time for the four things that
 *    need attention: '"', '\\', a control byte, a byte >= 0x80 (one signed
 *    compare catches the last two).  Elsewhere, and for the tail of the
 *    input, a 256-entry class table does the same a byte at a time.
 *  - A byte >= 0x80 starts a UTF-8 sequence that is checked against the
 *    Unicode Standard's table of well-formed sequences (table 3-7): no
 *    overlongs, no surrogates, nothing past U+10FFFF, no truncation.
 *  - \u escapes must pair surrogates (a lone one cannot be decoded to
 *    UTF-8, and PostgreSQL's jsonb rejects it later anyway).
 *  - Reasons are static strings; the first problem found is reported.
 *  - Member and element values that are strings or numbers (most of an
 *    event) are checked inline; only containers enter the general loop.
 *    fl_json_object_scan reads a whole object in one call, for the hot
 *    path; the begin/next iterators cost a call per member.
 *
 * Only fl_json_find trusts its input: it runs on objects already
 * validated, skips strings looking only for '"' and '\\', containers by
 * bracket counting, and stays within [obj, obj + len) whatever the bytes
 * are.
 *
 * Base64 decodes four characters per step through four 256-entry tables
 * that hold each character's six bits already shifted into place, with an
 * out-of-range marker bit for characters outside the alphabet, so a step
 * is four table lookups, three ORs and one test.
 */
#include "jscan.h"

#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define WHY_JSON   "not valid JSON"
#define WHY_NUMBER "invalid number"
#define WHY_ESCAPE "invalid escape in string"
#define WHY_CTRL   "control character in string"
#define WHY_UTF8   "invalid UTF-8"
#define WHY_DEPTH  "nested too deeply"
#define WHY_OBJECT "not a JSON object"
#define WHY_ARRAY  "not a JSON array"

static const char *fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return NULL;
}

static inline bool is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

#define ALWAYS_INLINE inline __attribute__((always_inline))

static const char *ws_slow(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Most JSON on the wire is compact: one compare says "no white space". */
static ALWAYS_INLINE const char *ws(const char *p, const char *end)
{
	if (p < end && (unsigned char)*p > ' ')
		return p;
	return ws_slow(p, end);
}

/* Skips white space; returns the position of c if it comes next, else
 * NULL. */
static ALWAYS_INLINE const char *at(const char *p, const char *end, char c)
{
	if (p < end && *p == c)
		return p;
	p = ws_slow(p, end);
	return p < end && *p == c ? p : NULL;
}

const char *fl_json_ws(const char *p, const char *end)
{
	return ws(p, end);
}

/* ---- strings ---------------------------------------------------------- */

enum { C_PLAIN = 0, C_QUOTE, C_BSLASH, C_CTRL, C_HIGH };

static const unsigned char str_class[256] = {
	[0x00 ... 0x1f] = C_CTRL,
	['"'] = C_QUOTE,
	['\\'] = C_BSLASH,
	[0x80 ... 0xff] = C_HIGH,
};

/* Hex digit value plus one; 0 for anything else. */
static const unsigned char hex1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Value of four hex digits at p (the caller checked they are there), or
 * -1. */
static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hex1[(unsigned char)p[i]];
		if (!d)
			return -1;
		v = v << 4 | (d - 1);
	}
	return v;
}

/* Checks the escape at p (at the backslash); returns the byte after it. */
static const char *string_escape(const char *p, const char *end, const char **why)
{
	if (end - p < 2)
		return fail(why, WHY_ESCAPE);
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return p + 2;
	case 'u':
		break;
	default:
		return fail(why, WHY_ESCAPE);
	}
	if (end - p < 6)
		return fail(why, WHY_ESCAPE);
	int hi = hex4(p + 2);
	if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
		return fail(why, WHY_ESCAPE);
	if (hi < 0xD800 || hi > 0xDBFF)
		return p + 6;
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
		return fail(why, WHY_ESCAPE);
	int lo = hex4(p + 8);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return fail(why, WHY_ESCAPE);
	return p + 12;
}

/* Checks the UTF-8 sequence starting at p (a byte >= 0x80). */
static const char *utf8_seq(const char *p, const char *end, const char **why)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t left = (size_t)(end - p);
	unsigned c = u[0];

	if (c >= 0xC2 && c <= 0xDF) {
		if (left >= 2 && (u[1] & 0xC0) == 0x80)
			return p + 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		unsigned lo = c == 0xE0 ? 0xA0 : 0x80;  /* no overlongs */
		unsigned hi = c == 0xED ? 0x9F : 0xBF;  /* no surrogates */
		if (left >= 3 && u[1] >= lo && u[1] <= hi && (u[2] & 0xC0) == 0x80)
			return p + 3;
	} else if (c >= 0xF0 && c <= 0xF4) {
		unsigned lo = c == 0xF0 ? 0x90 : 0x80;  /* no overlongs */
		unsigned hi = c == 0xF4 ? 0x8F : 0xBF;  /* <= U+10FFFF */
		if (left >= 4 && u[1] >= lo && u[1] <= hi &&
		    (u[2] & 0xC0) == 0x80 && (u[3] & 0xC0) == 0x80)
			return p + 4;
	}
	return fail(why, WHY_UTF8);
}

/* Validates a string body (p is after the opening quote) and returns the
 * byte after the closing quote; *escaped says a backslash was seen. */
static ALWAYS_INLINE const char *string_body(const char *p, const char *end,
					     bool *escaped, const char **why)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(' ');
#endif
	bool esc = false;

	for (;;) {
#ifdef __SSE2__
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			/* Signed: bytes >= 0x80 are negative, so one compare
			 * finds control bytes and UTF-8 lead/continuation bytes. */
			__m128i m = _mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
				_mm_cmplt_epi8(v, space));
			unsigned mask = (unsigned)_mm_movemask_epi8(m);
			if (mask) {
				p += __builtin_ctz(mask);
				goto special;
			}
			p += 16;
		}
#endif
		while (p < end && str_class[(unsigned char)*p] == C_PLAIN)
			p++;
		if (p == end)
			return fail(why, WHY_JSON);  /* unterminated */
#ifdef __SSE2__
special:
#endif
		if (*p == '"') {
			*escaped = esc;
			return p + 1;
		}
		switch (str_class[(unsigned char)*p]) {
		case C_BSLASH:
			esc = true;
			p = string_escape(p, end, why);
			break;
		case C_CTRL:
			return fail(why, WHY_CTRL);
		default:  /* C_HIGH */
			p = utf8_seq(p, end, why);
			break;
		}
		if (!p)
			return NULL;
	}
}

const char *fl_json_string(const char *p, const char *end, const char **s,
			   size_t *n, bool *escaped, const char **why)
{
	bool esc;

	if (p >= end || *p != '"')
		return fail(why, WHY_JSON);
	const char *q = string_body(p + 1, end, &esc, why);
	if (!q)
		return NULL;
	if (s)
		*s = p + 1;
	if (n)
		*n = (size_t)(q - p - 2);
	if (escaped)
		*escaped = esc;
	return q;
}

/* ---- values ----------------------------------------------------------- */

/* Skips digits, eight at a time while there are (Unix seconds have ten). */
static ALWAYS_INLINE const char *digits(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		/* Each byte is 0x30..0x39 iff its high nibble is 3 and adding
		 * 6 does not carry into it. */
		if (((x & 0xF0F0F0F0F0F0F0F0u) |
		     ((x + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4) !=
		    0x3333333333333333u)
			break;
		p += 8;
	}
	while (p < end && is_digit(*p))
		p++;
	return p;
}

static const char *number(const char *p, const char *end, const char **why)
{
	if (*p == '-')
		p++;
	if (p == end)
		return fail(why, WHY_NUMBER);
	if (*p == '0') {
		p++;
	} else if (is_digit(*p)) {
		p = digits(p + 1, end);
	} else {
		return fail(why, WHY_NUMBER);
	}
	if (p < end && *p == '.') {
		p++;
		if (p == end || !is_digit(*p))
			return fail(why, WHY_NUMBER);
		p = digits(p + 1, end);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return fail(why, WHY_NUMBER);
		do
			p++;
		while (p < end && is_digit(*p));
	}
	if (p < end && is_digit(*p))
		return fail(why, WHY_NUMBER);  /* a leading zero: "01" */
	return p;
}

static const char *literal(const char *p, const char *end, const char *lit,
			   size_t n, const char **why)
{
	if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
		return fail(why, WHY_JSON);
	return p + n;
}

/* Validates `"key" :` plus the white space after it; returns the start of
 * the member's value. */
static ALWAYS_INLINE const char *member_key(const char *p, const char *end, const char **why)
{
	bool esc;

	if (p == end || *p != '"')
		return fail(why, WHY_JSON);
	p = string_body(p + 1, end, &esc, why);
	if (!p)
		return NULL;
	if (!(p = at(p, end, ':')))
		return fail(why, WHY_JSON);
	return ws(p + 1, end);
}

/* Validates one value at p, already inside `depth` containers, and
 * returns the byte after it. */
static const char *scan_value(const char *p, const char *end, int depth,
			      const char **why)
{
	char closer[FL_JSON_MAX_DEPTH];  /* what each open container waits for */
	int top = 0;
	bool esc;

	for (;;) {
		/* A value starts at p. */
		if (p >= end)
			return fail(why, WHY_JSON);
		switch (*p) {
		case '"':
			p = string_body(p + 1, end, &esc, why);
			break;
		case '{':
		case '[':
			if (depth + top >= FL_JSON_MAX_DEPTH)
				return fail(why, WHY_DEPTH);
			closer[top++] = *p == '{' ? '}' : ']';
			p = ws(p + 1, end);
			if (p < end && *p == closer[top - 1]) {
				p++;
				top--;
				break;
			}
			if (closer[top - 1] == '}' && !(p = member_key(p, end, why)))
				return NULL;
			continue;
		case 't':
			p = literal(p, end, "true", 4, why);
			break;
		case 'f':
			p = literal(p, end, "false", 5, why);
			break;
		case 'n':
			p = literal(p, end, "null", 4, why);
			break;
		default:
			if (*p != '-' && !is_digit(*p))
				return fail(why, WHY_JSON);
			p = number(p, end, why);
			break;
		}
		if (!p)
			return NULL;

		/* After a value: close containers or take a comma. */
		for (;;) {
			if (top == 0)
				return p;
			p = ws(p, end);
			if (p == end)
				return fail(why, WHY_JSON);
			if (*p == ',') {
				p = ws(p + 1, end);
				if (closer[top - 1] == '}' && !(p = member_key(p, end, why)))
					return NULL;
				break;
			}
			if (*p != closer[top - 1])
				return fail(why, WHY_JSON);
			p++;
			top--;
		}
	}
}

const char *fl_json_value(const char *p, const char *end, const char **why)
{
	return scan_value(p, end, 0, why);
}

/* A member or element value (one level down): strings and numbers, most
 * values of an event, without the container machinery. */
static ALWAYS_INLINE const char *member_value(const char *p, const char *end,
					      const char **why)
{
	bool esc;

	if (p < end && *p == '"')
		return string_body(p + 1, end, &esc, why);
	if (p < end && (*p == '-' || is_digit(*p)))
		return number(p, end, why);
	return scan_value(p, end, 1, why);
}

/* ---- iteration -------------------------------------------------------- */

/*
 * begin returns the byte after the opening bracket and next returns the
 * byte after a member's comma, or the closing bracket itself when no comma
 * followed.  So next tells "first member or after a comma" from the byte
 * before its p: '{' or ',' allow a member, and ',' forbids the closer.
 */

const char *fl_json_object_begin(const char *p, const char *end, const char **why)
{
	p = ws(p, end);
	if (p == end)
		return fail(why, WHY_JSON);
	if (*p != '{')
		return fail(why, WHY_OBJECT);
	return p + 1;
}

const char *fl_json_object_next(const char *p, const char *end,
				struct fl_json_member *m, const char **why)
{
	char prev = p[-1];
	bool esc;

	p = ws(p, end);
	if (p == end)
		return fail(why, WHY_JSON);
	if (*p == '}') {
		if (prev == ',')
			return fail(why, WHY_JSON);
		m->key = m->value = m->member = NULL;
		m->key_len = m->value_len = 0;
		m->key_escaped = false;
		return p + 1;
	}
	if ((prev != ',' && prev != '{') || *p != '"')
		return fail(why, WHY_JSON);

	const char *key = p + 1;
	p = string_body(key, end, &esc, why);
	if (!p)
		return NULL;
	m->key = key;
	m->key_len = (size_t)(p - 1 - key);
	m->key_escaped = esc;
	m->member = key - 1;
	if (!(p = at(p, end, ':')))
		return fail(why, WHY_JSON);
	const char *value = ws(p + 1, end);
	p = member_value(value, end, why);
	if (!p)
		return NULL;
	m->value = value;
	m->value_len = (size_t)(p - value);

	if ((p = at(p, end, ',')))
		return p + 1;
	if ((p = at(value + m->value_len, end, '}')))
		return p;
	return fail(why, WHY_JSON);
}

const char *fl_json_object_scan(const char *p, const char *end,
				struct fl_json_member *members, size_t max,
				size_t *count, const char **why)
{
	size_t n = 0;
	bool esc;

	p = ws(p, end);
	if (p == end)
		return fail(why, WHY_JSON);
	if (*p != '{')
		return fail(why, WHY_OBJECT);
	p = ws(p + 1, end);
	if (p < end && *p == '}') {
		*count = 0;
		return p + 1;
	}
	for (;;) {
		if (p == end || *p != '"')
			return fail(why, WHY_JSON);
		const char *key = p + 1;
		p = string_body(key, end, &esc, why);
		if (!p)
			return NULL;
		const char *key_end = p - 1;
		if (!(p = at(p, end, ':')))
			return fail(why, WHY_JSON);
		const char *value = ws(p + 1, end);
		p = member_value(value, end, why);
		if (!p)
			return NULL;
		if (n < max) {
			struct fl_json_member *m = &members[n];
			m->key = key;
			m->key_len = (size_t)(key_end - key);
			m->key_escaped = esc;
			m->value = value;
			m->value_len = (size_t)(p - value);
			m->member = key - 1;
		}
		n++;
		const char *q = at(p, end, ',');
		if (q) {
			p = ws(q + 1, end);
			continue;
		}
		if (!(q = at(p, end, '}')))
			return fail(why, WHY_JSON);
		*count = n;
		return q + 1;
	}
}

const char *fl_json_array_begin(const char *p, const char *end, const char **why)
{
	p = ws(p, end);
	if (p == end)
		return fail(why, WHY_JSON);
	if (*p != '[')
		return fail(why, WHY_ARRAY);
	return p + 1;
}

const char *fl_json_array_next(const char *p, const char *end, const char **elem,
			       size_t *elem_len, const char **why)
{
	char prev = p[-1];

	*elem = NULL;
	*elem_len = 0;
	p = ws(p, end);
	if (p == end)
		return fail(why, WHY_JSON);
	if (*p == ']')
		return prev == ',' ? fail(why, WHY_JSON) : p + 1;
	if (prev != ',' && prev != '[')
		return fail(why, WHY_JSON);

	const char *value = p;
	p = member_value(value, end, why);
	if (!p)
		return NULL;
	*elem = value;
	*elem_len = (size_t)(p - value);

	if ((p = at(p, end, ',')))
		return p + 1;
	if ((p = at(value + *elem_len, end, ']')))
		return p;
	return fail(why, WHY_JSON);
}

/* ---- unescaping and keys ---------------------------------------------- */

static size_t put_utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes the escape at s (s[0] is the backslash, n bytes left) into out
 * (4 bytes); returns the decoded length and sets *used, or 0 when the
 * escape is malformed. */
static size_t decode_escape(const char *s, size_t n, char *out, size_t *used)
{
	static const char simple[256] = {
		['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
		['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
	};

	if (n < 2)
		return 0;
	if (s[1] != 'u') {
		char c = simple[(unsigned char)s[1]];
		if (!c)
			return 0;
		out[0] = c;
		*used = 2;
		return 1;
	}
	int hi = n >= 6 ? hex4(s + 2) : -1;
	if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
		return 0;
	if (hi < 0xD800 || hi > 0xDBFF) {
		*used = 6;
		return put_utf8((unsigned)hi, out);
	}
	if (n < 12 || s[6] != '\\' || s[7] != 'u')
		return 0;
	int lo = hex4(s + 8);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return 0;
	*used = 12;
	return put_utf8(0x10000 + (((unsigned)hi - 0xD800) << 10) + ((unsigned)lo - 0xDC00), out);
}

/* Decodes s/n into dst (NULL: only count); returns the decoded length, or
 * SIZE_MAX for a malformed escape. */
static size_t unescape_into(const char *s, size_t n, char *dst)
{
	const char *end = s + n;
	size_t len = 0;

	while (s < end) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));
		size_t run = (size_t)((bs ? bs : end) - s);
		if (dst)
			memcpy(dst + len, s, run);
		len += run;
		if (!bs)
			break;
		char u[4];
		size_t used = 0;
		size_t k = decode_escape(bs, (size_t)(end - bs), u, &used);
		if (!k)
			return SIZE_MAX;
		if (dst)
			memcpy(dst + len, u, k);
		len += k;
		s = bs + used;
	}
	return len;
}

enum fl_result fl_json_unescape(const char *s, size_t n, struct fl_buf *out)
{
	/* Decoding never grows a string; reserve the exact size only when
	 * the raw size does not fit. */
	size_t need = n;
	enum fl_result r = fl_buf_reserve(out, need);
	if (r == FL_TOO_LARGE) {
		need = unescape_into(s, n, NULL);
		if (need == SIZE_MAX)
			return FL_INVALID;
		r = fl_buf_reserve(out, need);
	}
	if (r != FL_OK)
		return r;
	size_t len = unescape_into(s, n, out->data + out->len);
	if (len == SIZE_MAX) {
		out->data[out->len] = '\0';
		return FL_INVALID;
	}
	out->len += len;
	out->data[out->len] = '\0';
	return FL_OK;
}

bool fl_json_key_eq(const char *raw, size_t n, bool escaped, const char *key,
		    size_t key_len)
{
	if (!escaped)
		return n == key_len && memcmp(raw, key, n) == 0;

	const char *end = raw + n;
	size_t j = 0;
	while (raw < end) {
		if (*raw != '\\') {
			if (j == key_len || key[j] != *raw)
				return false;
			raw++;
			j++;
			continue;
		}
		char u[4];
		size_t used = 0;
		size_t k = decode_escape(raw, (size_t)(end - raw), u, &used);
		if (!k || key_len - j < k || memcmp(key + j, u, k) != 0)
			return false;
		raw += used;
		j += k;
	}
	return j == key_len;
}

/* ---- lookup in validated objects -------------------------------------- */

/* p is after an opening quote of a valid string; returns the byte after
 * the closing one and sets *escaped, or NULL at end. */
static const char *skip_string(const char *p, const char *end, bool *escaped)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
#endif
	bool esc = false;

	for (;;) {
#ifdef __SSE2__
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			unsigned mask = (unsigned)_mm_movemask_epi8(
				_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
			if (mask) {
				p += __builtin_ctz(mask);
				goto found;
			}
			p += 16;
		}
#endif
		while (p < end && *p != '"' && *p != '\\')
			p++;
		if (p == end)
			return NULL;
#ifdef __SSE2__
found:
#endif
		if (*p == '"') {
			*escaped = esc;
			return p + 1;
		}
		/* An escape: its second byte is never a quote that ends the
		 * string (\uXXXX continues with hex digits). */
		esc = true;
		p += 2;
		if (p > end)
			return NULL;
	}
}

static const char *skip_value(const char *p, const char *end)
{
	bool esc;

	if (*p == '"')
		return skip_string(p + 1, end, &esc);
	if (*p == '{' || *p == '[') {
		size_t depth = 0;
		while (p < end) {
			char c = *p;
			if (c == '"') {
				p = skip_string(p + 1, end, &esc);
				if (!p)
					return NULL;
				continue;
			}
			if (c == '{' || c == '[') {
				depth++;
			} else if ((c == '}' || c == ']') && --depth == 0) {
				return p + 1;
			}
			p++;
		}
		return NULL;
	}
	while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
	       *p != '\n' && *p != '\r' && *p != '\t')
		p++;
	return p;
}

bool fl_json_find(const char *obj, size_t len, const char *key, size_t key_len,
		  const char **value, size_t *value_len)
{
	const char *end = obj + len;
	const char *found = NULL, *found_end = NULL;
	const char *p = ws(obj, end);

	if (p == end || *p != '{')
		return false;
	p = ws(p + 1, end);
	if (p < end && *p == '}')
		return false;
	for (;;) {
		if (p == end || *p != '"')
			return false;
		const char *k = p + 1;
		bool esc;
		p = skip_string(k, end, &esc);
		if (!p)
			return false;
		size_t kn = (size_t)(p - 1 - k);
		if (!(p = at(p, end, ':')))
			return false;
		p = ws(p + 1, end);
		if (p == end)
			return false;
		const char *v = p;
		p = skip_value(p, end);
		if (!p)
			return false;
		if (esc ? fl_json_key_eq(k, kn, esc, key, key_len)
			: kn == key_len && memcmp(k, key, kn) == 0) {
			found = v;  /* the last one wins */
			found_end = p;
		}
		p = ws(p, end);
		if (p == end)
			return false;
		if (*p == '}')
			break;
		if (*p != ',')
			return false;
		p = ws(p + 1, end);
	}
	if (!found)
		return false;
	*value = found;
	*value_len = (size_t)(found_end - found);
	return true;
}

/* ---- base64 ----------------------------------------------------------- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Six-bit value of a base64 character, 64 for anything else. */
#define B64V(c) ((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' :                  \
		 (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26 :             \
		 (c) >= '0' && (c) <= '9' ? (c) - '0' + 52 :             \
		 (c) == '+' ? 62 : (c) == '/' ? 63 : 64)
/* The value shifted into place for position `sh`, or the bad-char bit. */
#define B64_BAD 0x01000000u
#define B64S(c, sh) (B64V(c) == 64 ? B64_BAD : (uint32_t)B64V(c) << (sh))
#define B64_ROW(b, sh)                                                    \
	B64S((b) + 0, sh), B64S((b) + 1, sh), B64S((b) + 2, sh),          \
	B64S((b) + 3, sh), B64S((b) + 4, sh), B64S((b) + 5, sh),          \
	B64S((b) + 6, sh), B64S((b) + 7, sh), B64S((b) + 8, sh),          \
	B64S((b) + 9, sh), B64S((b) + 10, sh), B64S((b) + 11, sh),        \
	B64S((b) + 12, sh), B64S((b) + 13, sh), B64S((b) + 14, sh),       \
	B64S((b) + 15, sh)
#define B64_TABLE(sh) {                                                   \
	B64_ROW(0, sh), B64_ROW(16, sh), B64_ROW(32, sh), B64_ROW(48, sh),\
	B64_ROW(64, sh), B64_ROW(80, sh), B64_ROW(96, sh), B64_ROW(112, sh),\
	B64_ROW(128, sh), B64_ROW(144, sh), B64_ROW(160, sh), B64_ROW(176, sh),\
	B64_ROW(192, sh), B64_ROW(208, sh), B64_ROW(224, sh), B64_ROW(240, sh) }

static const uint32_t b64_d0[256] = B64_TABLE(18);
static const uint32_t b64_d1[256] = B64_TABLE(12);
static const uint32_t b64_d2[256] = B64_TABLE(6);
static const uint32_t b64_d3[256] = B64_TABLE(0);

static inline uint32_t b64_quad(const unsigned char *s)
{
	return b64_d0[s[0]] | b64_d1[s[1]] | b64_d2[s[2]] | b64_d3[s[3]];
}

/*
 * Padding is required and only in the last quad ("xx==" or "xxx=").  The
 * unused low bits of a padded quad are not checked: encoders write zeros,
 * and decoders as Java's and Go's standard ones accept either.
 */
enum fl_result fl_base64_decode(const char *s, size_t n, struct fl_buf *out)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n % 4)
		return FL_INVALID;
	if (n == 0)
		return fl_buf_reserve(out, 0);

	size_t pad = u[n - 1] == '=' ? (u[n - 2] == '=' ? 2 : 1) : 0;
	size_t dlen = n / 4 * 3 - pad;
	enum fl_result r = fl_buf_reserve(out, dlen);
	if (r != FL_OK)
		return r;

	/* All quads but the last carry three bytes and no padding. */
	unsigned char *d = (unsigned char *)out->data + out->len;
	const unsigned char *last = u + n - 4;
	for (; u < last; u += 4, d += 3) {
		uint32_t x = b64_quad(u);
		if (x & B64_BAD)
			goto bad;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* One store of four bytes, three kept: the fourth is the next
		 * quad's first, and the last quad always yields one. */
		uint32_t be = __builtin_bswap32(x << 8);
		memcpy(d, &be, 4);
#else
		d[0] = (unsigned char)(x >> 16);
		d[1] = (unsigned char)(x >> 8);
		d[2] = (unsigned char)x;
#endif
	}

	uint32_t x;
	if (pad == 0) {
		x = b64_quad(u);
	} else if (pad == 1) {
		x = b64_d0[u[0]] | b64_d1[u[1]] | b64_d2[u[2]];
	} else {
		x = b64_d0[u[0]] | b64_d1[u[1]];
	}
	if (x & B64_BAD)
		goto bad;
	d[0] = (unsigned char)(x >> 16);
	if (pad < 2)
		d[1] = (unsigned char)(x >> 8);
	if (pad < 1)
		d[2] = (unsigned char)x;

	out->len += dlen;
	out->data[out->len] = '\0';
	return FL_OK;
bad:
	out->data[out->len] = '\0';
	return FL_INVALID;
}

enum fl_result fl_base64_encode(const void *p, size_t n, struct fl_buf *out)
{
	const unsigned char *u = p;

	if (n / 3 >= SIZE_MAX / 4 - 1)
		return FL_TOO_LARGE;
	size_t elen = (n + 2) / 3 * 4;
	enum fl_result r = fl_buf_reserve(out, elen);
	if (r != FL_OK)
		return r;

	char *d = out->data + out->len;
	size_t i = 0;
	for (; n - i >= 3; i += 3, d += 4) {
		uint32_t x = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
		d[0] = b64_alphabet[x >> 18];
		d[1] = b64_alphabet[x >> 12 & 63];
		d[2] = b64_alphabet[x >> 6 & 63];
		d[3] = b64_alphabet[x & 63];
	}
	if (n - i == 1) {
		uint32_t x = (uint32_t)u[i] << 16;
		d[0] = b64_alphabet[x >> 18];
		d[1] = b64_alphabet[x >> 12 & 63];
		d[2] = '=';
		d[3] = '=';
	} else if (n - i == 2) {
		uint32_t x = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8;
		d[0] = b64_alphabet[x >> 18];
		d[1] = b64_alphabet[x >> 12 & 63];
		d[2] = b64_alphabet[x >> 6 & 63];
		d[3] = '=';
	}
	out->len += elen;
	out->data[out->len] = '\0';
	return FL_OK;
}
