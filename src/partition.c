/*
 * partition.c - dynamic partitioning keys from an event (Firehose's
 * MetadataExtractionQuery, jq 1.6).
 *
 * Two ways to run a query, with the same results:
 *
 *  - The fast path.  Almost every query in the wild is an object of plain
 *    paths: {event_type: .event_type, dt: .meta.dt}.  Such a query is
 *    recognised at compile time (keys are identifiers or quoted strings,
 *    values `.a` or `.a.b.c`, the shorthands {a} and {"a"} too) and run
 *    straight over the event's bytes with jscan: one pass over the top-level
 *    members picks the value of every first path segment (the last member
 *    wins on duplicates, as jq's parser does), deeper segments descend into
 *    that value.  jq semantics are kept where they show: a missing member
 *    or an index into null gives null, an index into a string, number,
 *    boolean or array is an error of the whole query, every key of the
 *    query is evaluated even when the caller asks for fewer.
 *  - libjq for anything else.  libjq is not thread-safe per jq_state, so
 *    each struct fl_partition_state owns one, compiled lazily for the last
 *    query it ran.  The user's program runs wrapped in definitions that
 *    hide the server's environment (env, $ENV) and the filesystem
 *    (modulemeta, import/include): a query is client input, and its output
 *    becomes object keys the client can list.
 *
 * Every query is compiled by libjq once at fl_partition_compile, so bad
 * syntax is reported the same way whichever path will run it.
 *
 * Values are rendered as Firehose renders partition keys: strings raw
 * (unescaped, no quotes), numbers as jq prints them (integers of up to 15
 * digits are copied, anything else goes through jq's own parser and
 * printer), true/false.  null, objects, arrays and missing keys fail the
 * event (Firehose's MetadataExtractionFailed).
 */
#include "partition.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "enrich.h"
#include "jscan.h"

#define FAST_MAX_KEYS 64
#define FAST_MAX_DEPTH 16
#define SCRATCH_MAX (1024 * 1024)     /* an unescaped member key */

/* One key of a fast query: key name and path, both pointing into buf. */
struct fast_key {
	const char *name;
	size_t name_len;
	size_t nseg;
	const char *seg[FAST_MAX_DEPTH];
	size_t seg_len[FAST_MAX_DEPTH];
	/* `.path | strftime("fmt")`: fmt (raw, no escapes) or NULL. */
	const char *fmt;
	size_t fmt_len;
};

struct fl_partition_query {
	char *jq;                       /* the user's query */
	char *wrapped;                  /* what libjq runs */
	bool fast;
	size_t nkeys;                   /* fast only: distinct keys */
	struct fast_key *keys;
};

struct fl_partition_state {
	jq_state *jq;
	char *compiled;                 /* wrapped text jq was compiled with */
	struct fl_buf scratch;          /* unescaped member keys */
	const char *spans[FAST_MAX_KEYS];       /* value of each fast key */
	size_t span_lens[FAST_MAX_KEYS];
};

/* ---- libjq glue ------------------------------------------------------- */

/* Keeps the first message libjq reports (the later ones are summaries). */
struct jq_msg {
	char text[192];
	bool set;
};

static void keep_first_msg(void *data, jv msg)
{
	struct jq_msg *m = data;
	if (!m->set) {
		msg = jq_format_error(msg);
		const char *s = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "";
		if (strncmp(s, "jq: error: ", 11) == 0)
			s += 11;
		size_t i = 0;
		for (; s[i] && i < sizeof m->text - 1; i++)
			m->text[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
		while (i > 0 && m->text[i - 1] == ' ')
			i--;
		m->text[i] = '\0';
		m->set = true;
	}
	jv_free(msg);
}

static void drop_msg(void *data, jv msg)
{
	jv_free(msg);
}

/* A jq_state that reports into m and prints nothing.  libjq 1.6's jq_init
 * leaves the input and debug callbacks uninitialised: a query calling
 * `input` would jump through a garbage pointer.  Both are set here. */
static jq_state *jq_new(struct jq_msg *m)
{
	jq_state *jq = jq_init();
	if (!jq)
		return NULL;
	jq_set_error_cb(jq, m ? keep_first_msg : drop_msg, m);
	jq_set_debug_cb(jq, drop_msg, NULL);
	jq_set_input_cb(jq, NULL, NULL);        /* input: "No more inputs" */
	jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
	return jq;
}

/* The program libjq runs: the user's query under definitions that shadow
 * env, $ENV, stderr and modulemeta.  `{} as $ENV | USER` keeps USER's
 * meaning (the binding's body is the whole rest of the program, top-level
 * defs and a trailing comment included); import, include and module
 * directives cannot follow it, so they fail to compile.  A program of
 * definitions only (or empty) is jq's identity: the second form, with a
 * '.' after it, serves those. */
static char *wrap_query(const char *user, bool identity)
{
	static const char head[] =
		"def env: {}; def stderr: .; "
		"def modulemeta: error(\"modulemeta is not available\"); "
		"{} as $ENV | ";
	const char *tail = identity ? "\n." : "\n";
	size_t n = strlen(user), t = strlen(tail);
	char *w = malloc(sizeof head - 1 + n + t + 1);
	if (!w)
		return NULL;
	memcpy(w, head, sizeof head - 1);
	memcpy(w + sizeof head - 1, user, n);
	memcpy(w + sizeof head - 1 + n, tail, t + 1);
	return w;
}

/* ---- fast path: recognising a query ----------------------------------- */

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* jq 1.6's white space: no '\r'. */
static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

/* jq 1.6 keywords: left to libjq so that no corner of its grammar differs. */
static bool is_keyword(const char *s, size_t n)
{
	static const char *const kw[] = {
		"as", "import", "include", "module", "def", "if", "then", "elif",
		"else", "end", "and", "or", "reduce", "foreach", "try", "catch",
		"label", "__loc__", "not", NULL
	};
	for (int i = 0; kw[i]; i++)
		if (strlen(kw[i]) == n && memcmp(kw[i], s, n) == 0)
			return true;
	return false;
}

/* An identifier that is not a keyword; NULL if there is none at p. */
static const char *parse_ident(const char *p, const char **s, size_t *n)
{
	if (!is_ident_start(*p))
		return NULL;
	const char *e = p + 1;
	while (is_ident(*e))
		e++;
	if (e[0] == ':' && e[1] == ':')         /* module-qualified name */
		return NULL;
	if (is_keyword(p, (size_t)(e - p)))
		return NULL;
	*s = p;
	*n = (size_t)(e - p);
	return e;
}

/* A string literal of printable ASCII without escapes or interpolation. */
static const char *parse_qstring(const char *p, const char **s, size_t *n)
{
	if (*p != '"')
		return NULL;
	const char *e = p + 1;
	while (*e >= 0x20 && *e < 0x7f && *e != '"' && *e != '\\')
		e++;
	if (*e != '"')
		return NULL;
	*s = p + 1;
	*n = (size_t)(e - p - 1);
	return e + 1;
}

/* The strftime conversions the fast path renders itself; anything else
 * (or an escape in the format) leaves the query to libjq. */
static bool fast_format(const char *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i] == '\\')
			return false;
		if (f[i] == '%') {
			if (++i == n || !strchr("YmdHMS%", f[i]))
				return false;
		}
	}
	return true;
}

/* Parses `| strftime("fmt")` at p (at the '|') into k; NULL otherwise. */
static const char *parse_strftime(const char *p, struct fast_key *k)
{
	p = skip_ws(p + 1);
	if (strncmp(p, "strftime", 8) != 0)
		return NULL;
	p = skip_ws(p + 8);
	if (*p != '(')
		return NULL;
	p = skip_ws(p + 1);
	if (*p != '"' || !(p = parse_qstring(p, &k->fmt, &k->fmt_len)) ||
	    !fast_format(k->fmt, k->fmt_len))
		return NULL;
	p = skip_ws(p);
	return *p == ')' ? skip_ws(p + 1) : NULL;
}

/* Recognises `{key: .a.b, ...}`; fills keys (names and paths point into
 * text) and returns their count, or -1 when the query is anything else. */
static int parse_fast(const char *text, struct fast_key *keys, size_t max)
{
	const char *p = skip_ws(text);
	size_t n = 0;

	if (*p++ != '{')
		return -1;
	p = skip_ws(p);
	if (*p == '}')
		return skip_ws(p + 1)[0] == '\0' ? 0 : -1;
	for (;;) {
		struct fast_key k = { 0 };
		const char *q;
		bool quoted = *p == '"';
		q = quoted ? parse_qstring(p, &k.name, &k.name_len)
			   : parse_ident(p, &k.name, &k.name_len);
		if (!q)
			return -1;
		p = skip_ws(q);
		if (*p == ':') {
			p = skip_ws(p + 1);
			bool paren = *p == '(';
			if (paren)
				p = skip_ws(p + 1);
			while (*p == '.') {
				if (k.nseg == FAST_MAX_DEPTH)
					return -1;
				q = parse_ident(p + 1, &k.seg[k.nseg], &k.seg_len[k.nseg]);
				if (!q)
					return -1;
				k.nseg++;
				p = skip_ws(q);
			}
			if (k.nseg == 0)
				return -1;
			if (*p == '|' && !(p = parse_strftime(p, &k)))
				return -1;
			if (paren) {
				if (*p != ')')
					return -1;
				p = skip_ws(p + 1);
			}
		} else {                        /* {a} is {a: .a}, {"a"} is {"a": ."a"} */
			k.nseg = 1;
			k.seg[0] = k.name;
			k.seg_len[0] = k.name_len;
		}
		/* A repeated key: jq keeps the last value. */
		size_t i = 0;
		while (i < n && !(keys[i].name_len == k.name_len &&
				  memcmp(keys[i].name, k.name, k.name_len) == 0))
			i++;
		if (i == n) {
			if (n == max)
				return -1;
			n++;
		}
		keys[i] = k;
		if (*p == ',') {
			p = skip_ws(p + 1);
			continue;
		}
		if (*p != '}')
			return -1;
		return skip_ws(p + 1)[0] == '\0' ? (int)n : -1;
	}
}

/* ---- compile ---------------------------------------------------------- */

enum fl_result fl_partition_compile(const char *jq, struct fl_partition_query **out,
				    struct fl_error *err)
{
	struct fl_partition_query *q = NULL;
	struct jq_msg msg = { .set = false };
	jq_state *st = NULL;
	enum fl_result r = FL_OK;

	*out = NULL;
	q = calloc(1, sizeof *q);
	if (!q || !(q->jq = strdup(jq)) || !(q->wrapped = wrap_query(jq, false))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	/* The wrapped program is what runs.  When it does not compile, the
	 * user's text alone gives the message (it names their own program), or,
	 * if it compiles alone, it is a program of definitions only (jq's
	 * identity: the second wrapping) or it holds a directive. */
	for (int identity = 0; ; identity++) {
		if (st)
			jq_teardown(&st);
		st = jq_new(NULL);
		if (!st) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		if (jq_compile(st, q->wrapped))
			break;
		jq_teardown(&st);
		st = jq_new(&msg);
		if (!st) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		if (!jq_compile(st, q->jq)) {
			r = fl_error_set(err, FL_INVALID, "MetadataExtractionQuery is not a "
					 "valid jq 1.6 expression: %s",
					 msg.set ? msg.text : "compile error");
			goto out;
		}
		free(q->wrapped);
		q->wrapped = NULL;
		if (identity) {
			r = fl_error_set(err, FL_INVALID, "MetadataExtractionQuery is not a "
					 "valid jq 1.6 expression: module, import and include "
					 "directives are not supported");
			goto out;
		}
		q->wrapped = wrap_query(jq, true);
		if (!q->wrapped) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}

	struct fast_key keys[FAST_MAX_KEYS];
	int nk = parse_fast(q->jq, keys, FAST_MAX_KEYS);
	if (nk >= 0) {
		q->keys = calloc((size_t)nk + 1, sizeof *q->keys);
		if (!q->keys) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		memcpy(q->keys, keys, (size_t)nk * sizeof *keys);
		q->nkeys = (size_t)nk;
		q->fast = true;
	}
	*out = q;
	q = NULL;
out:
	if (st)
		jq_teardown(&st);
	fl_partition_query_free(q);
	return r;
}

void fl_partition_query_free(struct fl_partition_query *q)
{
	if (!q)
		return;
	free(q->jq);
	free(q->wrapped);
	free(q->keys);
	free(q);
}

bool fl_partition_is_fast(const struct fl_partition_query *q)
{
	return q->fast;
}

struct fl_partition_state *fl_partition_state_new(void)
{
	struct fl_partition_state *s = calloc(1, sizeof *s);
	if (s)
		fl_buf_init(&s->scratch, SCRATCH_MAX);
	return s;
}

void fl_partition_state_free(struct fl_partition_state *s)
{
	if (!s)
		return;
	if (s->jq)
		jq_teardown(&s->jq);
	free(s->compiled);
	fl_buf_free(&s->scratch);
	free(s);
}

/* ---- rendering -------------------------------------------------------- */

/* jq's name of the kind of a JSON value span, as in its messages. */
static const char *jq_kind(char c)
{
	switch (c) {
	case '{': return "object";
	case '[': return "array";
	case '"': return "string";
	case 't': case 'f': return "boolean";
	case 'n': return "null";
	default: return "number";
	}
}

static enum fl_result put(struct fl_buf *vals, const char *p, size_t n,
			  struct fl_error *err)
{
	enum fl_result r = fl_buf_add(vals, p, n);
	if (r != FL_OK)
		fl_error_set(err, r, r == FL_TOO_LARGE ? "partition key values too large"
						       : "out of memory");
	return r;
}

static enum fl_result not_scalar(const char *name, const char *what,
				 struct fl_error *err)
{
	return fl_error_set(err, FL_INVALID,
			    "MetadataExtractionFailed: partition key '%.64s' is %s, "
			    "not a string, number or boolean", name, what);
}

/* jq's text of a number: jq's own parser and printer.  Steals num. */
static enum fl_result render_jq_number(jv num, struct fl_buf *vals,
				       struct fl_error *err)
{
	jv s = jv_dump_string(num, 0);
	enum fl_result r = put(vals, jv_string_value(s),
			       (size_t)jv_string_length_bytes(jv_copy(s)), err);
	jv_free(s);
	return r;
}

/* Appends the rendering of a JSON value span (validated) to vals. */
static enum fl_result render_span(const char *v, size_t n, const char *name,
				  struct fl_buf *vals, struct fl_error *err)
{
	switch (v[0]) {
	case '"':
		if (memchr(v + 1, '\\', n - 2)) {
			enum fl_result r = fl_json_unescape(v + 1, n - 2, vals);
			if (r != FL_OK)
				fl_error_set(err, r, "partition key '%.64s' cannot be "
					     "unescaped", name);
			return r;
		}
		return put(vals, v + 1, n - 2, err);
	case 't':
		return put(vals, "true", 4, err);
	case 'f':
		return put(vals, "false", 5, err);
	case 'n':
		return not_scalar(name, "null", err);
	case '{':
		return not_scalar(name, "an object", err);
	case '[':
		return not_scalar(name, "an array", err);
	}
	/* A number.  Integers of up to 15 digits are exact doubles that jq
	 * prints as written; anything else takes jq's parser and printer. */
	size_t i = v[0] == '-', digits = 0;
	while (i < n && v[i] >= '0' && v[i] <= '9')
		i++, digits++;
	if (i == n && digits <= 15)
		return put(vals, v, n, err);
	jv num = jv_parse_sized(v, (int)n);
	if (jv_get_kind(num) != JV_KIND_NUMBER) {
		jv_free(num);
		return fl_error_set(err, FL_INVALID,
				    "MetadataExtractionFailed: partition key '%.64s' is not "
				    "a valid number", name);
	}
	return render_jq_number(num, vals, err);
}

/* Renders `value | strftime(fmt)` as jq 1.6 does for a number: the UTC
 * civil time of floor(value).  FL_RETRY when the value is anything else
 * (the caller then asks libjq, for jq's own result or error). */
static enum fl_result render_strftime(const char *v, size_t n, const struct fast_key *fk,
				      struct fl_buf *vals, struct fl_error *err)
{
	char num[64], iso[32];
	if (n >= sizeof num || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')))
		return FL_RETRY;
	memcpy(num, v, n);
	num[n] = '\0';
	double d = strtod(num, NULL);
	if (!(d >= 0 && d < 253402300800.0))  /* years 1970-9999 */
		return FL_RETRY;
	fl_iso8601((int64_t)d * 1000, 0, iso); /* YYYY-MM-DDTHH:MM:SSZ */
	static const struct { char c; int at, len; } fields[] = {
		{ 'Y', 0, 4 }, { 'm', 5, 2 }, { 'd', 8, 2 },
		{ 'H', 11, 2 }, { 'M', 14, 2 }, { 'S', 17, 2 },
	};
	enum fl_result r = FL_OK;
	for (size_t i = 0; r == FL_OK && i < fk->fmt_len; i++) {
		char c = fk->fmt[i];
		if (c != '%' || fk->fmt[++i] == '%') {
			r = fl_buf_addc(vals, c);
			continue;
		}
		for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
			if (fields[f].c == fk->fmt[i])
				r = fl_buf_add(vals, iso + fields[f].at, (size_t)fields[f].len);
	}
	if (r != FL_OK)
		fl_error_set(err, r, "partition key values too long");
	return r;
}

/* Appends the rendering of a jq value to vals.  Steals v. */
static enum fl_result render_jv(jv v, const char *name, struct fl_buf *vals,
				struct fl_error *err)
{
	enum fl_result r;
	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		r = put(vals, jv_string_value(v),
			(size_t)jv_string_length_bytes(jv_copy(v)), err);
		break;
	case JV_KIND_NUMBER:
		return render_jq_number(v, vals, err);
	case JV_KIND_TRUE:
		r = put(vals, "true", 4, err);
		break;
	case JV_KIND_FALSE:
		r = put(vals, "false", 5, err);
		break;
	case JV_KIND_INVALID:
		r = fl_error_set(err, FL_INVALID,
				 "MetadataExtractionFailed: partition key '%.64s' is missing "
				 "from the query result", name);
		break;
	case JV_KIND_NULL:
		r = not_scalar(name, "null", err);
		break;
	case JV_KIND_OBJECT:
		r = not_scalar(name, "an object", err);
		break;
	default:
		r = not_scalar(name, "an array", err);
		break;
	}
	jv_free(v);
	return r;
}

/* ---- fast path: evaluation -------------------------------------------- */

/* Whether a member key (raw, maybe escaped) equals seg. */
static bool key_eq(struct fl_partition_state *s, const struct fl_json_member *m,
		   const char *seg, size_t seg_len)
{
	if (!m->key_escaped)
		return m->key_len == seg_len && memcmp(m->key, seg, seg_len) == 0;
	fl_buf_reset(&s->scratch);
	if (fl_json_unescape(m->key, m->key_len, &s->scratch) != FL_OK)
		return false;
	return s->scratch.len == seg_len && memcmp(s->scratch.data, seg, seg_len) == 0;
}

/* The value of member seg in the object at v (last one wins); NULL when
 * absent (the span was validated before). */
static const char *member(struct fl_partition_state *s, const char *v, size_t n,
			  const char *seg, size_t seg_len, size_t *out_len,
			  const char **why)
{
	const char *end = v + n, *found = NULL;
	struct fl_json_member m;
	const char *p = fl_json_object_begin(v, end, why);
	while (p && (p = fl_json_object_next(p, end, &m, why)) && m.key) {
		if (key_eq(s, &m, seg, seg_len)) {
			found = m.value;
			*out_len = m.value_len;
		}
	}
	return p ? found : NULL;
}

static const char null_text[] = "null";

static enum fl_result eval_fast(const struct fl_partition_query *q,
				struct fl_partition_state *s,
				const char *event, size_t len, struct fl_error *err)
{
	const char *end = event + len, *why = "not valid JSON";
	struct fl_json_member m;
	size_t k;

	const char *p = fl_json_ws(event, end);
	if (p < end && *p != '{') {
		/* jq: null yields null for every path, other values fail. */
		const char *after = fl_json_value(p, end, &why);
		if (after && fl_json_ws(after, end) == end && after - p == 4 &&
		    memcmp(p, "null", 4) == 0) {
			for (k = 0; k < q->nkeys; k++) {
				s->spans[k] = null_text;
				s->span_lens[k] = 4;
			}
			return FL_OK;
		}
		if (!after || fl_json_ws(after, end) != end)
			return fl_error_set(err, FL_INVALID,
					    "MetadataExtractionFailed: the record is not "
					    "valid JSON (%s)", after ? "data after the value" : why);
		if (q->nkeys == 0)
			return FL_OK;                   /* {} needs no input */
		return fl_error_set(err, FL_INVALID,
				    "MetadataExtractionFailed: jq: Cannot index %s with "
				    "string \"%.*s\"", jq_kind(*p),
				    (int)(q->keys[0].seg_len[0] < 64 ? q->keys[0].seg_len[0] : 64),
				    q->keys[0].seg[0]);
	}
	for (k = 0; k < q->nkeys; k++)
		s->spans[k] = NULL;
	p = fl_json_object_begin(p, end, &why);
	while (p && (p = fl_json_object_next(p, end, &m, &why)) && m.key) {
		for (k = 0; k < q->nkeys; k++) {
			const struct fast_key *fk = &q->keys[k];
			if (key_eq(s, &m, fk->seg[0], fk->seg_len[0])) {
				s->spans[k] = m.value;
				s->span_lens[k] = m.value_len;
			}
		}
	}
	if (!p || fl_json_ws(p, end) != end)
		return fl_error_set(err, FL_INVALID,
				    "MetadataExtractionFailed: the record is not valid JSON (%s)",
				    p ? "data after the object" : why);

	for (k = 0; k < q->nkeys; k++) {
		const struct fast_key *fk = &q->keys[k];
		const char *v = s->spans[k];
		size_t vlen = s->span_lens[k];
		for (size_t i = 1; i < fk->nseg && v; i++) {
			if (v[0] == 'n')
				break;                          /* null.a is null */
			if (v[0] != '{')
				return fl_error_set(err, FL_INVALID,
						    "MetadataExtractionFailed: jq: Cannot index "
						    "%s with string \"%.*s\"", jq_kind(v[0]),
						    (int)(fk->seg_len[i] < 64 ? fk->seg_len[i] : 64),
						    fk->seg[i]);
			v = member(s, v, vlen, fk->seg[i], fk->seg_len[i], &vlen, &why);
		}
		if (!v) {
			v = null_text;
			vlen = 4;
		}
		s->spans[k] = v;
		s->span_lens[k] = vlen;
	}
	return FL_OK;
}

/* ---- libjq path ------------------------------------------------------- */

static enum fl_result eval_jq(const struct fl_partition_query *q,
			      struct fl_partition_state *s, const char *event, size_t len,
			      jv *result, struct fl_error *err)
{
	if (!s->jq || !s->compiled || strcmp(s->compiled, q->wrapped) != 0) {
		if (s->jq)
			jq_teardown(&s->jq);
		free(s->compiled);
		s->compiled = NULL;
		s->jq = jq_new(NULL);
		if (!s->jq)
			return fl_error_set(err, FL_INTERNAL, "out of memory");
		if (!jq_compile(s->jq, q->wrapped)) {
			jq_teardown(&s->jq);
			return fl_error_set(err, FL_INTERNAL, "query does not compile");
		}
		s->compiled = strdup(q->wrapped);
		if (!s->compiled)
			return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	if (len > INT32_MAX)
		return fl_error_set(err, FL_INVALID, "record too large");
	jv in = jv_parse_sized(event, (int)len);
	if (!jv_is_valid(in)) {
		jv msg = jv_invalid_get_msg(in);
		enum fl_result r = fl_error_set(err, FL_INVALID,
			"MetadataExtractionFailed: the record is not valid JSON (%s)",
			jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "parse error");
		jv_free(msg);
		return r;
	}
	jq_start(s->jq, in, 0);
	jv out = jq_next(s->jq);
	if (!jv_is_valid(out)) {
		jv msg = jv_invalid_get_msg(out);
		enum fl_result r;
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			r = fl_error_set(err, FL_INVALID, "MetadataExtractionFailed: jq: %s",
					 jv_string_value(msg));
			jv_free(msg);
		} else if (jv_get_kind(msg) != JV_KIND_NULL) {
			jv d = jv_dump_string(msg, 0);
			r = fl_error_set(err, FL_INVALID, "MetadataExtractionFailed: jq: %s "
					 "(not a string)", jv_string_value(d));
			jv_free(d);
		} else {
			jv_free(msg);
			r = fl_error_set(err, FL_INVALID, "MetadataExtractionFailed: the "
					 "query produced no output");
		}
		return r;
	}
	if (jv_get_kind(out) != JV_KIND_OBJECT) {
		enum fl_result r = fl_error_set(err, FL_INVALID,
			"MetadataExtractionFailed: the query result is %s, not an object",
			jv_kind_name(jv_get_kind(out)));
		jv_free(out);
		return r;
	}
	*result = out;
	return FL_OK;
}

/* ---- evaluation ------------------------------------------------------- */

enum fl_result fl_partition_eval(const struct fl_partition_query *q,
				 struct fl_partition_state *s,
				 const char *event, size_t len,
				 const char *const *names, size_t n,
				 struct fl_buf *vals, size_t *offs, size_t *lens,
				 struct fl_error *err)
{
	size_t start = vals->len;
	jv obj = jv_invalid();
	enum fl_result r;

	bool fast = q->fast;
again:
	if (fast)
		r = eval_fast(q, s, event, len, err);
	else
		r = eval_jq(q, s, event, len, &obj, err);

	for (size_t i = 0; r == FL_OK && i < n; i++) {
		size_t at = vals->len;
		if (fast) {
			size_t nl = strlen(names[i]), k = 0;
			while (k < q->nkeys && !(q->keys[k].name_len == nl &&
						 memcmp(q->keys[k].name, names[i], nl) == 0))
				k++;
			if (k == q->nkeys)
				r = fl_error_set(err, FL_INVALID,
						 "MetadataExtractionFailed: partition key '%.64s' is "
						 "missing from the query result", names[i]);
			else if (q->keys[k].fmt)
				r = render_strftime(s->spans[k], s->span_lens[k], &q->keys[k],
						    vals, err);
			else
				r = render_span(s->spans[k], s->span_lens[k], names[i], vals, err);
			if (r == FL_RETRY) {
				vals->len = start;
				fast = false;
				goto again;
			}
		} else {
			r = render_jv(jv_object_get(jv_copy(obj), jv_string(names[i])),
				      names[i], vals, err);
		}
		offs[i] = at;
		lens[i] = vals->len - at;
	}
	jv_free(obj);
	if (r != FL_OK) {
		vals->len = start;
		if (vals->data)
			vals->data[start] = '\0';
	}
	return r;
}
