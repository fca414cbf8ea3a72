/*
 * awsshape.c - the one walk that checks a Glue or Athena request against
 * its botocore input shape, as the AWS services do before an operation
 * runs.
 *
 * DESIGN
 * The shapes are data (src/shapes_<service>.c, generated from botocore by
 * scripts/gen-shapes.py; the node is drawn in awsshape_model.h); this file
 * is only the walk.  A request is checked in two layers, like Coral's
 * deserializer followed by its validator:
 *
 *   - a JSON value of the wrong type for its shape stops the walk: FL_MALFORMED
 *     (SerializationException) naming the member as the model spells it;
 *   - constraints (required, length, value range, enum, pattern) are all
 *     checked and counted; the message lists them in AWS's words, in model
 *     order, as many as fit in struct fl_error ("N validation errors
 *     detected: Value 'v' at 'path' failed to satisfy constraint: ...").
 *
 * Paths are AWS's: each member name with its first letter lower-cased,
 * list elements as "<list>.<i>.member" (1-based), as firehose_shape.c
 * writes them.  A map reports once for its keys and once for its values
 * ("Map keys must satisfy constraint: [every constraint of the key
 * shape]"), as Coral does.  Values shown in messages are strings as they
 * are, numbers as written, lists and maps as Java prints them ("[a, b]",
 * "{k=v}"), structures as JSON, cut after AS_VALUE_SHOWN bytes.
 *
 * Patterns are Java regular expressions in the models; the ones the
 * selected operations use are implemented here by hand, each named by the
 * generator after the model's exact text (FL_AWSSHAPE_PAT_*).  A pattern
 * the generator does not know is not checked.  Unknown members are
 * ignored and JSON null is an absent member, as AWS JSON 1.1 services do.
 *
 * Nothing is allocated on the walk's paths but a structure's JSON text
 * when one is quoted; the walk keeps no state beyond its stack.
 */
#include "awsshape.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsshape_model.h"
#include "buf.h"

#define AS_PATH_MAX 512
#define AS_DEPTH_MAX 64                 /* nested containers walked */
#define AS_VALUE_SHOWN 400              /* bytes of a value quoted in a message */
#define AS_RENDER_DEPTH 16              /* nesting shown inside a quoted value */
/* Listed violations: FL_ERROR_MAX less "NNNNN validation errors detected: ". */
#define AS_LIST_MAX (FL_ERROR_MAX - 48)
#define AS_CONSTRAINT_MAX 1024

/* ---- UTF-8 and character classes ----------------------------------------- */

/* Decodes the code point at s[*i] (advancing *i), or -1 for a byte that
 * does not start a valid, shortest UTF-8 sequence of a scalar value. */
static int32_t utf8_next(const char *s, size_t n, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t len = fl_utf8_seq(p, n - *i);

	if (len == 0)
		return -1;
	int32_t cp = len == 1 ? p[0] : p[0] & (0x7f >> len);
	for (size_t k = 1; k < len; k++)
		cp = (cp << 6) | (p[k] & 0x3f);
	*i += len;
	return cp;
}

/* Characters, as the models' length constraints count them. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* The longest prefix of s[0..n) of at most max bytes that ends on a
 * character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* s with every byte that is not part of well-formed UTF-8 dropped, into
 * out[cap]: jansson's error text quotes the body "near" the fault and
 * cuts it at any byte, and the message travels in a JSON answer. */
static const char *utf8_clean(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s), i = 0, o = 0;

	while (i < n && o + 4 < cap) {
		size_t at = i;
		if (utf8_next(s, n, &i) < 0) {
			i = at + 1;
			continue;
		}
		memcpy(out + o, s + at, i - at);
		o += i - at;
	}
	out[o] = '\0';
	return out;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex_lower(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* Java's \s: [ \t\n\x0B\f\r]. */
static bool is_java_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* What Java's '.' does not match: \n \r U+0085 U+2028 U+2029. */
static bool has_line_terminator(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r')
			return true;
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85)
			return true;
		if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
			return true;
	}
	return false;
}

/* Every byte of s[0..n) is in set or is an ASCII letter or digit. */
static bool all_alnum_or(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && (s[i] == '\0' || !strchr(set, s[i])))
			return false;
	return true;
}

/* s starts with prefix; *p moves past it. */
static bool eat(const char *s, size_t n, size_t *p, const char *prefix)
{
	size_t k = strlen(prefix);

	if (n - *p < k || memcmp(s + *p, prefix, k) != 0)
		return false;
	*p += k;
	return true;
}

/* ---- the patterns ----------------------------------------------------------- */

/* [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]* and, with
 * newlines, its \r\n variant: the XML characters. */
static bool m_glue_chars(const char *s, size_t n, bool newlines)
{
	size_t i = 0;

	while (i < n) {
		int32_t c = utf8_next(s, n, &i);
		if (c < 0)
			return false;
		if (c == '\t' || (newlines && (c == '\n' || c == '\r')))
			continue;
		if (c < 0x20 || (c > 0xd7ff && c < 0xe000) || c == 0xfffe || c == 0xffff)
			return false;
	}
	return true;
}

/* arn:aws(-(cn|us-gov|iso(-[bef])?))?:glue:.* */
static bool m_glue_arn(const char *s, size_t n)
{
	static const char *const partitions[] = {
		"", "-cn", "-us-gov", "-iso", "-iso-b", "-iso-e", "-iso-f" };
	size_t p = 0;

	if (!eat(s, n, &p, "arn:aws") || has_line_terminator(s, n))
		return false;
	for (size_t k = 0; k < sizeof partitions / sizeof partitions[0]; k++) {
		size_t q = p;
		if (eat(s, n, &q, partitions[k]) && eat(s, n, &q, ":glue:"))
			return true;
	}
	return false;
}

/* [a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12} */
static bool m_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !is_hex_lower(s[i]))
			return false;
	}
	return true;
}

/* [\p{L}\p{N}\p{P}]*: exact for ASCII; beyond it, controls and spaces are
 * refused and every other character is let through (Unicode's letter,
 * number and punctuation tables are not carried here). */
static bool m_letters_punct(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		int32_t c = utf8_next(s, n, &i);
		if (c < 0)
			return false;
		if (c < 0x80) {
			if (!is_alnum((char)c) && !strchr("!\"#%&'()*,-./:;?@[\\]_{}", (int)c))
				return false;
		} else if (c <= 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
			   c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
			   c == 0x3000) {
			return false;
		}
	}
	return true;
}

/* ^s3://[a-z0-9][a-z0-9\-]*[a-z0-9](/.*)?$ */
static bool m_s3_uri(const char *s, size_t n)
{
	size_t p = 0;
	size_t end;

	if (!eat(s, n, &p, "s3://") || has_line_terminator(s, n))
		return false;
	end = p;
	while (end < n && s[end] != '/')
		end++;
	if (end - p < 2 || !is_lower_alnum(s[p]) || !is_lower_alnum(s[end - 1]))
		return false;
	for (size_t i = p; i < end; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* ^arn:aws[a-z\-]*:<service>:<region>:\d{12}:<kind>/?[a-zA-Z_0-9+=,.@\-_/]+$
 * with region empty (IAM) or [a-z0-9\-]+ (KMS).  The optional '/' is in
 * the final class, so it needs no case of its own. */
static bool m_resource_arn(const char *s, size_t n, const char *service, bool region,
			   const char *kind)
{
	size_t p = 0;
	size_t start;

	if (!eat(s, n, &p, "arn:aws"))
		return false;
	while (p < n && ((s[p] >= 'a' && s[p] <= 'z') || s[p] == '-'))
		p++;
	if (!eat(s, n, &p, ":") || !eat(s, n, &p, service) || !eat(s, n, &p, ":"))
		return false;
	start = p;
	while (region && p < n && (is_lower_alnum(s[p]) || s[p] == '-'))
		p++;
	if ((region && p == start) || !eat(s, n, &p, ":"))
		return false;
	for (int k = 0; k < 12; k++, p++)
		if (p >= n || !is_digit(s[p]))
			return false;
	if (!eat(s, n, &p, ":") || !eat(s, n, &p, kind))
		return false;
	return p < n && all_alnum_or(s + p, n - p, "_+=,.@-/");
}

/* key ARN | alias ARN | ^alias/[a-zA-Z0-9/_-]+$ | a key id. */
static bool m_kms_key(const char *s, size_t n)
{
	size_t p = 0;

	if (m_resource_arn(s, n, "kms", true, "key") ||
	    m_resource_arn(s, n, "kms", true, "alias") || m_uuid(s, n))
		return true;
	return eat(s, n, &p, "alias/") && p < n && all_alnum_or(s + p, n - p, "/_-");
}

/* ^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$ */
static bool m_sso_instance_arn(const char *s, size_t n)
{
	static const char *const partitions[] = {
		"aws", "aws-us-gov", "aws-cn", "aws-iso", "aws-iso-b" };

	for (size_t k = 0; k < sizeof partitions / sizeof partitions[0]; k++) {
		size_t p = 0;
		if (!eat(s, n, &p, "arn:") || !eat(s, n, &p, partitions[k]) ||
		    !eat(s, n, &p, ":sso:::instance/"))
			continue;
		(void)eat(s, n, &p, "sso");
		if (eat(s, n, &p, "ins-") && n - p == 16 && all_alnum_or(s + p, 16, "-."))
			return true;
	}
	return false;
}

/* Whether s matches the pattern (true for none and for unchecked ones). */
static bool pattern_match(enum fl_awsshape_pattern pat, const char *s, size_t n)
{
	if (pat == FL_AWSSHAPE_PAT_NONE || pat == FL_AWSSHAPE_PAT_UNCHECKED)
		return true;
	if (memchr(s, '\0', n))
		return false;           /* nothing downstream can carry a NUL */
	switch (pat) {
	case FL_AWSSHAPE_PAT_GLUE_LINE:
		return m_glue_chars(s, n, false);
	case FL_AWSSHAPE_PAT_GLUE_TEXT:
		return m_glue_chars(s, n, true);
	case FL_AWSSHAPE_PAT_GLUE_ARN:
		return m_glue_arn(s, n);
	case FL_AWSSHAPE_PAT_UUID:
		return m_uuid(s, n);
	case FL_AWSSHAPE_PAT_REGISTRY_NAME:
		return n > 0 && all_alnum_or(s, n, "-_$#.");
	case FL_AWSSHAPE_PAT_LETTERS_PUNCT:
		return m_letters_punct(s, n);
	case FL_AWSSHAPE_PAT_WORKGROUP:
		return n >= 1 && n <= 128 && all_alnum_or(s, n, "._-");
	case FL_AWSSHAPE_PAT_LOG_GROUP:
		return n > 0 && all_alnum_or(s, n, "._/-");
	case FL_AWSSHAPE_PAT_DIGITS:
		if (n == 0)
			return false;
		for (size_t i = 0; i < n; i++)
			if (!is_digit(s[i]))
				return false;
		return true;
	case FL_AWSSHAPE_PAT_LOG_STREAM:
		return !memchr(s, ':', n) && !memchr(s, '*', n);
	case FL_AWSSHAPE_PAT_NOT_SPACE:
		if (n == 0)
			return false;
		for (size_t i = 0; i < n; i++)
			if (is_java_space(s[i]))
				return false;
		return true;
	case FL_AWSSHAPE_PAT_IAM_ROLE_ARN:
		return m_resource_arn(s, n, "iam", false, "role");
	case FL_AWSSHAPE_PAT_S3_URI:
		return m_s3_uri(s, n);
	case FL_AWSSHAPE_PAT_KMS_KEY:
		return m_kms_key(s, n);
	case FL_AWSSHAPE_PAT_SSO_INSTANCE_ARN:
		return m_sso_instance_arn(s, n);
	case FL_AWSSHAPE_PAT_NONE:
	case FL_AWSSHAPE_PAT_UNCHECKED:
		break;
	}
	return true;
}

/* ---- timestamps and blobs --------------------------------------------------- */

/* n digits at s[*p] as a number within [lo, hi]. */
static bool digits(const char *s, size_t len, size_t *p, int n, int lo, int hi)
{
	int v = 0;

	for (int k = 0; k < n; k++, (*p)++) {
		if (*p >= len || !is_digit(s[*p]))
			return false;
		v = v * 10 + (s[*p] - '0');
	}
	return v >= lo && v <= hi;
}

/* ISO 8601 date and time: YYYY-MM-DD[T ]hh:mm:ss[.f+][Z|+hh:mm|+hhmm|+hh]. */
static bool iso8601_ok(const char *s, size_t n)
{
	size_t p = 0;

	if (!digits(s, n, &p, 4, 0, 9999) || !eat(s, n, &p, "-") ||
	    !digits(s, n, &p, 2, 1, 12) || !eat(s, n, &p, "-") ||
	    !digits(s, n, &p, 2, 1, 31))
		return false;
	if (p >= n || (s[p] != 'T' && s[p] != 't' && s[p] != ' '))
		return false;
	p++;
	if (!digits(s, n, &p, 2, 0, 23) || !eat(s, n, &p, ":") ||
	    !digits(s, n, &p, 2, 0, 59) || !eat(s, n, &p, ":") ||
	    !digits(s, n, &p, 2, 0, 60))
		return false;
	if (p < n && s[p] == '.') {
		size_t start = ++p;
		while (p < n && is_digit(s[p]))
			p++;
		if (p == start)
			return false;
	}
	if (p == n)
		return true;
	if (s[p] == 'Z' || s[p] == 'z')
		return p + 1 == n;
	if (s[p] != '+' && s[p] != '-')
		return false;
	p++;
	if (!digits(s, n, &p, 2, 0, 23))
		return false;
	if (p == n)
		return true;
	(void)eat(s, n, &p, ":");
	return digits(s, n, &p, 2, 0, 59) && p == n;
}

/* Standard base64 with padding; *bytes is the decoded length. */
static bool base64_ok(const char *s, size_t n, size_t *bytes)
{
	size_t pad = 0;

	if (n % 4 != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=') {
			if (i < n - 2)
				return false;
			pad++;
		} else if (pad > 0 || (!is_alnum(c) && c != '+' && c != '/')) {
			return false;
		}
	}
	*bytes = n / 4 * 3 - pad;
	return true;
}

/* ---- the walk ----------------------------------------------------------------- */

struct walk {
	char path[AS_PATH_MAX];     /* "databaseInput.name": as AWS writes it */
	char mpath[AS_PATH_MAX];    /* "DatabaseInput.Name": as the model spells it */
	size_t plen, mlen;
	int depth;
	int nerrors;                /* every violation, listed or not */
	bool full;                  /* one did not fit: the rest are counted only */
	char msg[AS_LIST_MAX];      /* "Value ... constraint: ...; Value ..." */
	size_t msglen;
	bool malformed;
	struct fl_error *err;       /* set once, at the first type error */
};

struct mark {
	size_t plen, mlen;
};

/* Appends ".seg" to both paths; member names are lower-camel-cased in
 * AWS's.  A segment that does not fit is left out. */
static struct mark path_push(struct walk *w, const char *seg, bool member)
{
	struct mark m = { w->plen, w->mlen };
	const char *dot = w->plen ? "." : "";
	int a = snprintf(w->path + w->plen, sizeof w->path - w->plen, "%s%s", dot, seg);
	int b = snprintf(w->mpath + w->mlen, sizeof w->mpath - w->mlen, "%s%s", dot, seg);

	if (a < 0 || b < 0 || (size_t)a >= sizeof w->path - w->plen ||
	    (size_t)b >= sizeof w->mpath - w->mlen) {
		w->path[m.plen] = '\0';
		w->mpath[m.mlen] = '\0';
		return m;
	}
	if (member && seg[0] >= 'A' && seg[0] <= 'Z')
		w->path[w->plen + strlen(dot)] = (char)(seg[0] - 'A' + 'a');
	w->plen += (size_t)a;
	w->mlen += (size_t)b;
	return m;
}

static void path_pop(struct walk *w, struct mark m)
{
	w->plen = m.plen;
	w->mlen = m.mlen;
	w->path[m.plen] = '\0';
	w->mpath[m.mlen] = '\0';
}

/* A bounded text being written; past cap it is cut and says so. */
struct out {
	char *p;
	size_t len, cap;
	bool cut;
};

static void out_add(struct out *o, const char *s, size_t n)
{
	if (o->cut)
		return;
	if (n > o->cap - o->len) {
		n = o->cap - o->len;
		o->cut = true;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_adds(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* A double as Java would print it closely enough: the shortest %g that
 * reads back the same. */
static void out_double(struct out *o, double d)
{
	char tmp[40];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	out_adds(o, tmp);
}

/* v as AWS quotes it: strings bare, lists "[a, b]", maps "{k=v}",
 * structures (and values of no known shape) as JSON. */
static void render(struct out *o, const struct fl_awsshape *sh, const json_t *v, int depth)
{
	char tmp[32];

	if (o->cut)
		return;
	if (depth > AS_RENDER_DEPTH) {
		o->cut = true;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		out_add(o, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
		out_adds(o, tmp);
		return;
	case JSON_REAL:
		out_double(o, json_real_value(v));
		return;
	case JSON_TRUE:
		out_adds(o, "true");
		return;
	case JSON_FALSE:
		out_adds(o, "false");
		return;
	case JSON_NULL:
		out_adds(o, "null");
		return;
	case JSON_ARRAY: {
		size_t i;
		const json_t *e;
		const struct fl_awsshape *es = sh && sh->kind == FL_AWSSHAPE_LIST ? sh->elem : NULL;

		out_adds(o, "[");
		json_array_foreach(v, i, e) {
			if (i > 0)
				out_adds(o, ", ");
			render(o, es, e, depth + 1);
		}
		out_adds(o, "]");
		return;
	}
	case JSON_OBJECT:
		if (sh && sh->kind == FL_AWSSHAPE_MAP) {
			const char *k;
			const json_t *e;
			bool first = true;

			out_adds(o, "{");
			json_object_foreach((json_t *)v, k, e) {
				out_adds(o, first ? "" : ", ");
				out_adds(o, k);
				out_adds(o, "=");
				render(o, sh->elem, e, depth + 1);
				first = false;
			}
			out_adds(o, "}");
		} else {
			char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			out_adds(o, text ? text : "{}");
			free(text);
		}
		return;
	}
}

/* Appends one violation to the message, whole or not at all (only the
 * first may be cut, so that the message never is empty). */
static void list_violation(struct walk *w, const char *text, size_t n)
{
	size_t sep = w->msglen ? 2 : 0;
	size_t room = sizeof w->msg - 1 - w->msglen;

	if (w->full)
		return;
	if (sep + n > room) {
		w->full = true;
		if (w->msglen > 0)
			return;
		n = utf8_cut(text, n, room);
	}
	memcpy(w->msg + w->msglen, "; ", sep);
	memcpy(w->msg + w->msglen + sep, text, n);
	w->msglen += sep + n;
	w->msg[w->msglen] = '\0';
}

/* One constraint violation at the current path, in Coral's words.
 * v NULL: a missing member ("Value null"). */
static void violation(struct walk *w, const struct fl_awsshape *sh, const json_t *v,
		      const char *fmt, ...) FL_PRINTF(4, 5);

static void violation(struct walk *w, const struct fl_awsshape *sh, const json_t *v,
		      const char *fmt, ...)
{
	char shown[AS_VALUE_SHOWN + 8];
	char constraint[AS_CONSTRAINT_MAX];
	char text[AS_VALUE_SHOWN + AS_PATH_MAX + AS_CONSTRAINT_MAX + 64];
	struct out o = { shown, 0, AS_VALUE_SHOWN, false };
	va_list ap;
	int n;

	w->nerrors++;
	if (w->full)
		return;
	va_start(ap, fmt);
	vsnprintf(constraint, sizeof constraint, fmt, ap);
	va_end(ap);
	if (v) {
		render(&o, sh, v, 0);
		if (o.cut) {
			o.len = utf8_cut(shown, o.len, AS_VALUE_SHOWN - 3);
			memcpy(shown + o.len, "...", 3);
			o.len += 3;
		}
		n = snprintf(text, sizeof text, "Value '%.*s' at '%s' failed to satisfy "
			     "constraint: %s", (int)o.len, shown, w->path, constraint);
	} else {
		n = snprintf(text, sizeof text, "Value null at '%s' failed to satisfy "
			     "constraint: %s", w->path, constraint);
	}
	if (n > 0)
		list_violation(w, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

/* A value of the wrong JSON type: the walk stops. */
static bool type_error(struct walk *w, const char *expected)
{
	if (!w->malformed) {
		w->malformed = true;
		if (w->mlen)
			fl_error_set(w->err, FL_MALFORMED,
				     "Unexpected value type for member '%s': expected %s",
				     w->mpath, expected);
		else
			fl_error_set(w->err, FL_MALFORMED, "Request body must be a JSON object");
	}
	return false;
}

/* Failed constraints, as bits. */
enum {
	F_ENUM = 1 << 0,
	F_MIN = 1 << 1,
	F_MAX = 1 << 2,
	F_PATTERN = 1 << 3,
};

static bool is_length_kind(enum fl_awsshape_kind k)
{
	return k == FL_AWSSHAPE_STRING || k == FL_AWSSHAPE_BLOB || k == FL_AWSSHAPE_LIST ||
	       k == FL_AWSSHAPE_MAP;
}

/* "A, B" of an enum. */
static void enum_set(const struct fl_awsshape *sh, char *set, size_t cap)
{
	struct out o = { set, 0, cap - 1, false };

	for (const char *const *e = sh->enums; *e; e++) {
		out_adds(&o, e == sh->enums ? "" : ", ");
		out_adds(&o, *e);
	}
	set[o.len] = '\0';
}

/* The text of one constraint of sh (one F_ bit). */
static void constraint_text(const struct fl_awsshape *sh, unsigned bit, char *buf, size_t cap)
{
	const char *what = is_length_kind(sh->kind) ? "length" : "value";
	char set[AS_CONSTRAINT_MAX - 48];

	switch (bit) {
	case F_ENUM:
		enum_set(sh, set, sizeof set);
		snprintf(buf, cap, "Member must satisfy enum value set: [%s]", set);
		break;
	case F_MIN:
		snprintf(buf, cap, "Member must have %s greater than or equal to %lld", what,
			 (long long)sh->min);
		break;
	case F_MAX:
		snprintf(buf, cap, "Member must have %s less than or equal to %lld", what,
			 (long long)sh->max);
		break;
	case F_PATTERN:
		snprintf(buf, cap, "Member must satisfy regular expression pattern: %s",
			 sh->pattern_text);
		break;
	default:
		buf[0] = '\0';
	}
}

/* Reports each failed constraint of faults at the current path. */
static void report(struct walk *w, const struct fl_awsshape *sh, const json_t *v,
		   unsigned faults)
{
	static const unsigned order[] = { F_ENUM, F_MIN, F_MAX, F_PATTERN };
	char c[AS_CONSTRAINT_MAX];

	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (!(faults & order[i]))
			continue;
		constraint_text(sh, order[i], c, sizeof c);
		violation(w, sh, v, "%s", c);
	}
}

static unsigned range_faults(const struct fl_awsshape *sh, double v)
{
	unsigned f = 0;

	if (sh->has_min && v < (double)sh->min)
		f |= F_MIN;
	if (sh->has_max && v > (double)sh->max)
		f |= F_MAX;
	return f;
}

static unsigned string_faults(const struct fl_awsshape *sh, const char *s, size_t n)
{
	unsigned f = 0;

	if (sh->enums) {
		bool found = false;
		for (const char *const *e = sh->enums; *e && !found; e++)
			found = strlen(*e) == n && memcmp(*e, s, n) == 0;
		if (!found)
			f |= F_ENUM;
	}
	f |= range_faults(sh, (double)utf8_chars(s, n));
	if (!pattern_match(sh->pattern, s, n))
		f |= F_PATTERN;
	return f;
}

static bool is_scalar(enum fl_awsshape_kind k)
{
	return k != FL_AWSSHAPE_STRUCTURE && k != FL_AWSSHAPE_LIST && k != FL_AWSSHAPE_MAP &&
	       k != FL_AWSSHAPE_DOCUMENT;
}

/* Type-checks scalar v against sh; *faults gets its failed constraints. */
static bool scalar(struct walk *w, const struct fl_awsshape *sh, const json_t *v,
		   unsigned *faults)
{
	size_t bytes;

	*faults = 0;
	switch (sh->kind) {
	case FL_AWSSHAPE_STRING:
		if (!json_is_string(v))
			return type_error(w, "string");
		*faults = string_faults(sh, json_string_value(v), json_string_length(v));
		return true;
	case FL_AWSSHAPE_INTEGER:
		if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
		    json_integer_value(v) > INT32_MAX)
			return type_error(w, "integer");
		*faults = range_faults(sh, (double)json_integer_value(v));
		return true;
	case FL_AWSSHAPE_LONG:
		if (!json_is_integer(v))
			return type_error(w, "long");
		*faults = range_faults(sh, (double)json_integer_value(v));
		return true;
	case FL_AWSSHAPE_DOUBLE:
		if (!json_is_number(v))
			return type_error(w, "number");
		*faults = range_faults(sh, json_number_value(v));
		return true;
	case FL_AWSSHAPE_BOOLEAN:
		if (!json_is_boolean(v))
			return type_error(w, "boolean");
		return true;
	case FL_AWSSHAPE_TIMESTAMP:
		if (!json_is_number(v) && !(json_is_string(v) &&
					    iso8601_ok(json_string_value(v), json_string_length(v))))
			return type_error(w, "timestamp (epoch seconds or ISO 8601)");
		return true;
	case FL_AWSSHAPE_BLOB:
		if (!json_is_string(v) ||
		    !base64_ok(json_string_value(v), json_string_length(v), &bytes))
			return type_error(w, "blob (base64)");
		*faults = range_faults(sh, (double)bytes);
		return true;
	default:
		return true;
	}
}

static bool walk_value(struct walk *w, const struct fl_awsshape *sh, const json_t *v);

static bool walk_structure(struct walk *w, const struct fl_awsshape *sh, const json_t *v)
{
	if (!json_is_object(v))
		return type_error(w, "structure");
	for (size_t i = 0; i < sh->nmembers; i++) {
		const struct fl_awsshape_member *m = &sh->members[i];
		const json_t *mv = json_object_get(v, m->name);
		struct mark mk = path_push(w, m->name, true);
		bool ok = true;

		if (!mv || json_is_null(mv)) {
			if (m->required)
				violation(w, m->shape, NULL, "Member must not be null");
		} else {
			ok = walk_value(w, m->shape, mv);
		}
		path_pop(w, mk);
		if (!ok)
			return false;
	}
	return true;
}

static bool walk_list(struct walk *w, const struct fl_awsshape *sh, const json_t *v)
{
	size_t i;
	const json_t *e;

	if (!json_is_array(v))
		return type_error(w, "list");
	report(w, sh, v, range_faults(sh, (double)json_array_size(v)));
	json_array_foreach(v, i, e) {
		char seg[32];
		struct mark mk;
		bool ok = true;

		snprintf(seg, sizeof seg, "%zu.member", i + 1);
		mk = path_push(w, seg, false);
		if (json_is_null(e))
			violation(w, sh->elem, NULL, "Member must not be null");
		else
			ok = walk_value(w, sh->elem, e);
		path_pop(w, mk);
		if (!ok)
			return false;
	}
	return true;
}

/* "Map keys must satisfy constraint: [c1, c2]": every constraint of the
 * key (or value) shape, as Coral lists them. */
static void map_violation(struct walk *w, const struct fl_awsshape *map, const json_t *v,
			  const char *which, const struct fl_awsshape *sh, bool null_value)
{
	static const unsigned order[] = { F_MAX, F_MIN, F_PATTERN, F_ENUM };
	char list[AS_CONSTRAINT_MAX];
	char c[AS_CONSTRAINT_MAX];
	struct out o = { list, 0, sizeof list - 1, false };
	bool first = true;

	if (null_value) {
		out_adds(&o, "Member must not be null");
		first = false;
	}
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		bool has = (order[i] == F_MAX && sh->has_max) ||
			   (order[i] == F_MIN && sh->has_min) ||
			   (order[i] == F_PATTERN && sh->pattern != FL_AWSSHAPE_PAT_NONE) ||
			   (order[i] == F_ENUM && sh->enums);
		if (!has)
			continue;
		constraint_text(sh, order[i], c, sizeof c);
		out_adds(&o, first ? "" : ", ");
		out_adds(&o, c);
		first = false;
	}
	list[o.len] = '\0';
	violation(w, map, v, "Map %s must satisfy constraint: [%s]", which, list);
}

static bool walk_map(struct walk *w, const struct fl_awsshape *sh, const json_t *v)
{
	const char *k;
	const json_t *e;
	bool bad_key = false, bad_value = false, null_value = false;

	if (!json_is_object(v))
		return type_error(w, "map");
	report(w, sh, v, range_faults(sh, (double)json_object_size(v)));
	json_object_foreach((json_t *)v, k, e) {
		struct mark mk;
		unsigned faults = 0;
		bool ok = true;

		if (string_faults(sh->key, k, strlen(k)))
			bad_key = true;
		mk = path_push(w, k, false);
		if (json_is_null(e)) {
			null_value = true;
		} else if (is_scalar(sh->elem->kind)) {
			ok = scalar(w, sh->elem, e, &faults);
			bad_value = bad_value || faults != 0;
		} else {
			ok = walk_value(w, sh->elem, e);
		}
		path_pop(w, mk);
		if (!ok)
			return false;
	}
	if (bad_key)
		map_violation(w, sh, v, "keys", sh->key, false);
	if (bad_value || null_value)
		map_violation(w, sh, v, "value", sh->elem, null_value);
	return true;
}

/* Checks v (not NULL, not null) against sh.  false: the walk stops (a
 * type error, err set). */
static bool walk_value(struct walk *w, const struct fl_awsshape *sh, const json_t *v)
{
	bool ok;
	unsigned faults;

	if (w->depth >= AS_DEPTH_MAX) {
		if (!w->malformed)
			fl_error_set(w->err, FL_MALFORMED,
				     "Request nesting is deeper than %d levels", AS_DEPTH_MAX);
		w->malformed = true;
		return false;
	}
	w->depth++;
	switch (sh->kind) {
	case FL_AWSSHAPE_STRUCTURE:
		ok = walk_structure(w, sh, v);
		break;
	case FL_AWSSHAPE_LIST:
		ok = walk_list(w, sh, v);
		break;
	case FL_AWSSHAPE_MAP:
		ok = walk_map(w, sh, v);
		break;
	case FL_AWSSHAPE_DOCUMENT:
		ok = true;
		break;
	default:
		ok = scalar(w, sh, v, &faults);
		if (ok)
			report(w, sh, v, faults);
		break;
	}
	w->depth--;
	return ok;
}

/* ---- the API ------------------------------------------------------------------ */

static int op_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct fl_awsshape_op *)elem)->name);
}

const struct fl_awsshape_op *fl_awsshape_find(const struct fl_awsshape_op *ops, size_t n,
					      const char *op)
{
	if (!ops || !op)
		return NULL;
	return bsearch(op, ops, n, sizeof ops[0], op_cmp);
}

enum fl_result fl_awsshape_check(const struct fl_awsshape_op *op, const json_t *request,
				 struct fl_error *err)
{
	struct walk w;
	enum fl_result r = FL_OK;

	if (!op)
		return fl_error_set(err, FL_INTERNAL, "no model for the operation");
	if (!json_is_object(request))
		return fl_error_set(err, FL_MALFORMED, "Request body must be a JSON object");
	if (!op->input)
		return FL_OK;
	memset(&w, 0, sizeof w);
	w.err = err;
	if (!walk_value(&w, op->input, request))
		r = FL_MALFORMED;       /* err set by type_error() */
	else if (w.nerrors > 0)
		r = fl_error_set(err, FL_VALIDATION, "%d validation error%s detected: %s",
				 w.nerrors, w.nerrors == 1 ? "" : "s", w.msg);
	return r;
}

enum fl_result fl_awsshape_parse(const struct fl_awsshape_op *op, const char *body,
				 size_t len, json_t **out, struct fl_error *err)
{
	json_t *root = NULL;
	json_error_t jerr;
	enum fl_result r;

	*out = NULL;
	if (!body || len == 0) {
		root = json_object();
		if (!root) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	} else {
		root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!root) {
			char text[sizeof jerr.text];
			r = fl_error_set(err, FL_MALFORMED, "Request body is not valid JSON: %s",
					 utf8_clean(jerr.text, text, sizeof text));
			goto out;
		}
	}
	r = fl_awsshape_check(op, root, err);
	if (r == FL_OK) {
		*out = root;
		root = NULL;
	}
out:
	json_decref(root);
	return r;
}
