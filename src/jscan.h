/*
 * jscan.h - a validating JSON scanner that builds no DOM.
 *
 * The ingest hot path reads request bodies and events with it: it checks
 * the full grammar of RFC 8259 (UTF-8 included, nesting bounded) and hands
 * back spans into the input.  Strings are returned raw (between the
 * quotes); fl_json_unescape decodes them when they hold escapes.
 */
#ifndef FL_JSCAN_H
#define FL_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

#define FL_JSON_MAX_DEPTH 64

/* Skips JSON white space. */
const char *fl_json_ws(const char *p, const char *end);

/* Validates one JSON value at p (no leading white space) and returns the
 * first byte after it, or NULL with *why (static text) when the value is
 * malformed or nests deeper than FL_JSON_MAX_DEPTH. */
const char *fl_json_value(const char *p, const char *end, const char **why);

/* Validates a string at p (p points at the opening quote); *s, *n is the
 * raw content between the quotes, *escaped says it holds a backslash. */
const char *fl_json_string(const char *p, const char *end, const char **s,
			   size_t *n, bool *escaped, const char **why);

/* Decodes the raw content of a validated string (escapes, \u surrogate
 * pairs) and appends it to out.  FL_INVALID (out unchanged) on a malformed
 * escape; FL_TOO_LARGE past out's maximum.  \u0000 decodes to a NUL byte. */
enum fl_result fl_json_unescape(const char *s, size_t n, struct fl_buf *out) FL_MUST_USE;

/* Object iteration over a validated or unvalidated object:
 *
 *   struct fl_json_member m;
 *   const char *p = fl_json_object_begin(text, end, &why);
 *   while (p && (p = fl_json_object_next(p, end, &m, &why)) && m.key)
 *       ... m.key/m.key_len (raw), m.value/m.value_len (validated span) ...
 *
 * object_begin expects '{' at p (after white space) and returns the
 * position after it; object_next returns the position after the member
 * (and its comma) with m.key set, or, at the closing brace, the position
 * after it with m.key == NULL.  NULL with *why on malformed input.
 * p passed to next must be the position the previous begin or next call
 * returned (next reads the byte before it to tell a trailing comma).
 * Member values are bounded as if the object itself were the outermost
 * container: they may nest FL_JSON_MAX_DEPTH - 1 levels, so iterating an
 * object accepts exactly what fl_json_value accepts for it. */
struct fl_json_member {
	const char *key;
	size_t key_len;
	bool key_escaped;
	const char *value;
	size_t value_len;
	const char *member;    /* first byte of the key's opening quote */
};
const char *fl_json_object_begin(const char *p, const char *end, const char **why);
const char *fl_json_object_next(const char *p, const char *end,
				struct fl_json_member *m, const char **why);

/* Validates the whole object at p (after white space) as fl_json_value
 * does and fills members[0 .. min(*count, max)) with its top-level members
 * in order; *count is the number of members, which may exceed max (the
 * rest are then not reported: iterate to see them).  Returns the byte
 * after the closing brace, or NULL with *why.  The hot path's way to read
 * an object: one pass, no call per member. */
const char *fl_json_object_scan(const char *p, const char *end,
				struct fl_json_member *members, size_t max,
				size_t *count, const char **why);

/* Array iteration, same pattern and depth rule: *elem, *elem_len is the
 * validated element, *elem == NULL at the closing bracket. */
const char *fl_json_array_begin(const char *p, const char *end, const char **why);
const char *fl_json_array_next(const char *p, const char *end, const char **elem,
			       size_t *elem_len, const char **why);

/* Finds the value of a top-level member of a validated object, by key
 * (compared after unescaping).  Returns false when absent.  With duplicate
 * keys the last one wins.  *value, *value_len is the value's span (a
 * string with its quotes).  Never reads outside [obj, obj + len), but on
 * input that is not valid JSON the answer is unspecified. */
bool fl_json_find(const char *obj, size_t len, const char *key, size_t key_len,
		  const char **value, size_t *value_len);

/* Compares a raw (possibly escaped) string content with key (UTF-8 bytes,
 * key_len) after decoding escapes; escaped false takes a plain memcmp.
 * A malformed escape compares unequal. */
bool fl_json_key_eq(const char *raw, size_t n, bool escaped, const char *key,
		    size_t key_len);

/* Base64 (RFC 4648, with padding; white space not allowed).  Appends the
 * decoded bytes to out.  FL_INVALID on a bad character or length. */
enum fl_result fl_base64_decode(const char *s, size_t n, struct fl_buf *out) FL_MUST_USE;
enum fl_result fl_base64_encode(const void *p, size_t n, struct fl_buf *out) FL_MUST_USE;

#endif
