/*
 * test_jscan.c - the validating scanner, iteration, lookup, unescaping,
 * base64.
 *
 * Table-driven: validation cases give the input bytes and either how many
 * bytes the value spans or the exact reason; iteration cases list the exact
 * keys and value spans expected; unescape and base64 cases give exact
 * output bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jscan.h"

/* A literal with its length, for bytes holding NUL. */
#define B(s) s, sizeof(s) - 1

/* ---- fl_json_value ---------------------------------------------------- */

struct vcase {
	const char *in;
	size_t len;
	long span;         /* bytes of the value; -1: must fail */
	const char *why;
};

static const struct vcase value_cases[] = {
	{ B("true"), 4, NULL },
	{ B("false"), 5, NULL },
	{ B("null"), 4, NULL },
	{ B("true false"), 4, NULL },     /* stops after the value */
	{ B("nul"), -1, "not valid JSON" },
	{ B("True"), -1, "not valid JSON" },
	{ B(""), -1, "not valid JSON" },
	{ B(" 1"), -1, "not valid JSON" },  /* no leading white space */
	/* numbers */
	{ B("0"), 1, NULL },
	{ B("-0"), 2, NULL },
	{ B("123"), 3, NULL },
	{ B("-12.5e+10"), 9, NULL },
	{ B("1E-2"), 4, NULL },
	{ B("0.0e0"), 5, NULL },
	{ B("1e0001"), 6, NULL },
	{ B("123456789012345678901234567890e99999999999"), 42, NULL },
	{ B("1,"), 1, NULL },
	{ B("01"), -1, "invalid number" },
	{ B("-01"), -1, "invalid number" },
	{ B("00"), -1, "invalid number" },
	{ B("-"), -1, "invalid number" },
	{ B("--1"), -1, "invalid number" },
	{ B("-a"), -1, "invalid number" },
	{ B("1."), -1, "invalid number" },
	{ B("1.e3"), -1, "invalid number" },
	{ B("1e"), -1, "invalid number" },
	{ B("1e+"), -1, "invalid number" },
	{ B("1E-x"), -1, "invalid number" },
	{ B(".1"), -1, "not valid JSON" },
	{ B("+1"), -1, "not valid JSON" },
	{ B("Infinity"), -1, "not valid JSON" },
	/* strings */
	{ B("\"\""), 2, NULL },
	{ B("\"abc\" "), 5, NULL },
	{ B("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""), 22, NULL },
	{ B("\"\\u0000\\uFFFF\\uabcd\""), 20, NULL },
	{ B("\"\\ud83d\\ude00\""), 14, NULL },
	{ B("\"\\uDBFF\\uDFFF\""), 14, NULL },
	{ B("\"\\ud800\""), -1, "invalid escape in string" },
	{ B("\"\\ud800x\""), -1, "invalid escape in string" },
	{ B("\"\\ud800\\n\""), -1, "invalid escape in string" },
	{ B("\"\\ud800\\ud800\""), -1, "invalid escape in string" },
	{ B("\"\\udfff\""), -1, "invalid escape in string" },
	{ B("\"\\u00g0\""), -1, "invalid escape in string" },
	{ B("\"\\u00"), -1, "invalid escape in string" },
	{ B("\"\\a\""), -1, "invalid escape in string" },
	{ B("\"\\'\""), -1, "invalid escape in string" },
	{ B("\"\\"), -1, "invalid escape in string" },
	{ B("\"abc"), -1, "not valid JSON" },
	{ B("\"abcdefghijklmnopqrstuvwxyz0123456789"), -1, "not valid JSON" },
	{ B("\"a\0b\""), -1, "control character in string" },
	{ B("\"a\x1f\""), -1, "control character in string" },
	{ B("\"0123456789abcdef0123456789\x01\""), -1, "control character in string" },
	{ B("\"0123456789abcdef0123456789\x7f\""), 29, NULL },
	/* UTF-8: the edges of table 3-7 */
	{ B("\"\xc2\x80\xdf\xbf\""), 6, NULL },
	{ B("\"\xe0\xa0\x80\xef\xbf\xbf\""), 8, NULL },
	{ B("\"\xed\x9f\xbf\xee\x80\x80\""), 8, NULL },
	{ B("\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""), 10, NULL },
	{ B("\"0123456789abcdef\xf0\x9f\x98\x80 and \xe2\x82\xac and more text here\""), 49, NULL },
	{ B("\"\xc0\xaf\""), -1, "invalid UTF-8" },
	{ B("\"\xc1\x81\""), -1, "invalid UTF-8" },
	{ B("\"\xc2\x41\""), -1, "invalid UTF-8" },
	{ B("\"\xe0\x9f\xbf\""), -1, "invalid UTF-8" },
	{ B("\"\xed\xa0\x80\""), -1, "invalid UTF-8" },
	{ B("\"\xed\xbf\xbf\""), -1, "invalid UTF-8" },
	{ B("\"\xf0\x8f\xbf\xbf\""), -1, "invalid UTF-8" },
	{ B("\"\xf4\x90\x80\x80\""), -1, "invalid UTF-8" },
	{ B("\"\xf8\x88\x80\x80\x80\""), -1, "invalid UTF-8" },
	{ B("\"\xfe\""), -1, "invalid UTF-8" },
	{ B("\"\xbf\""), -1, "invalid UTF-8" },
	{ B("\"\xe2\x82\""), -1, "invalid UTF-8" },
	{ B("\"\xf0\x9f\x98"), -1, "invalid UTF-8" },
	{ B("\"0123456789abcdef0123\xe9t\""), -1, "invalid UTF-8" },
	/* containers */
	{ B("[]"), 2, NULL },
	{ B("{}"), 2, NULL },
	{ B("[ ]"), 3, NULL },
	{ B("{ \t\r\n}"), 6, NULL },
	{ B("[1,\"a\",[],{},null]x"), 18, NULL },
	{ B("{\"a\":{\"b\":[1,{\"c\":true}]},\"d\":\"e\"} "), 34, NULL },
	{ B("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }"), 29, NULL },
	{ B("[1,]"), -1, "not valid JSON" },
	{ B("[,1]"), -1, "not valid JSON" },
	{ B("[1 2]"), -1, "not valid JSON" },
	{ B("[1}"), -1, "not valid JSON" },
	{ B("{\"a\":1]"), -1, "not valid JSON" },
	{ B("{\"a\":1,}"), -1, "not valid JSON" },
	{ B("{\"a\"}"), -1, "not valid JSON" },
	{ B("{\"a\":}"), -1, "not valid JSON" },
	{ B("{1:2}"), -1, "not valid JSON" },
	{ B("{\"a\" 1}"), -1, "not valid JSON" },
	{ B("{\"a\":1 \"b\":2}"), -1, "not valid JSON" },
	{ B("["), -1, "not valid JSON" },
	{ B("[1"), -1, "not valid JSON" },
	{ B("{\"a\":1"), -1, "not valid JSON" },
	{ B("{\"a\":[1,\0]}"), -1, "not valid JSON" },
	{ B("{\"\\x\":1}"), -1, "invalid escape in string" },
	{ B("[\"\xff\"]"), -1, "invalid UTF-8" },
};

static void test_value(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof value_cases / sizeof value_cases[0]; i++) {
		const struct vcase *c = &value_cases[i];
		const char *why = NULL;
		const char *end = fl_json_value(c->in, c->in + c->len, &why);
		if (c->span < 0) {
			if (end || !why || strcmp(why, c->why) != 0)
				fail_msg("case %zu (%s): want failure \"%s\", got %s", i, c->in,
					 c->why, end ? "success" : why);
		} else {
			if (!end || end - c->in != c->span)
				fail_msg("case %zu (%s): want span %ld, got %ld (%s)", i, c->in,
					 c->span, end ? (long)(end - c->in) : -1L, why ? why : "");
		}
	}
	/* why may be NULL */
	const char x[] = "x";
	assert_null(fl_json_value(x, x + 1, NULL));
}

static void test_depth(void **state)
{
	(void)state;
	char buf[300] = { 0 };
	const char *why = NULL;

	/* 64 nested arrays are the bound; 65 are not. */
	memset(buf, '[', 64);
	memset(buf + 64, ']', 64);
	assert_ptr_equal(fl_json_value(buf, buf + 128, &why), buf + 128);
	memset(buf, '[', 65);
	memset(buf + 65, ']', 65);
	assert_null(fl_json_value(buf, buf + 130, &why));
	assert_string_equal(why, "nested too deeply");

	/* Mixed, with the limit reached by an object. */
	size_t n = 0;
	for (int i = 0; i < 64; i++)
		n += (size_t)sprintf(buf + n, i % 2 ? "[" : "{\"k\":");
	buf[n++] = '1';
	for (int i = 63; i >= 0; i--)
		buf[n++] = i % 2 ? ']' : '}';
	assert_ptr_equal(fl_json_value(buf, buf + n, &why), buf + n);

	/* Closing and reopening does not accumulate depth. */
	char wide[64 * 4 + 2];
	n = 0;
	wide[n++] = '[';
	for (int i = 0; i < 63; i++) {
		memcpy(wide + n, "[],", 3);
		n += 3;
	}
	wide[n - 1] = ']';
	assert_ptr_equal(fl_json_value(wide, wide + n, &why), wide + n);
}

/* ---- fl_json_string --------------------------------------------------- */

static void test_string(void **state)
{
	(void)state;
	const char *s = NULL, *why = NULL;
	size_t n = 99;
	bool esc = true;
	const char in[] = "\"plain\" rest";

	assert_ptr_equal(fl_json_string(in, in + sizeof in - 1, &s, &n, &esc, &why), in + 7);
	assert_ptr_equal(s, in + 1);
	assert_int_equal(n, 5);
	assert_false(esc);

	const char in2[] = "\"a\\nb\\u00e9\"";
	assert_ptr_equal(fl_json_string(in2, in2 + sizeof in2 - 1, &s, &n, &esc, &why),
			 in2 + sizeof in2 - 1);
	assert_int_equal(n, 10);
	assert_memory_equal(s, "a\\nb\\u00e9", 10);
	assert_true(esc);

	/* Not at a quote. */
	assert_null(fl_json_string(in + 1, in + sizeof in - 1, &s, &n, &esc, &why));
	assert_string_equal(why, "not valid JSON");
	assert_null(fl_json_string(in, in, &s, &n, &esc, &why));
	/* The bound is honoured: the closing quote is past end. */
	assert_null(fl_json_string(in, in + 6, &s, &n, &esc, &why));
	assert_string_equal(why, "not valid JSON");
}

static void test_ws(void **state)
{
	(void)state;
	const char in[] = " \t\r\n\v x";
	assert_ptr_equal(fl_json_ws(in, in + sizeof in - 1), in + 4);  /* \v is not JSON white space */
	assert_ptr_equal(fl_json_ws(in, in + 2), in + 2);
	assert_ptr_equal(fl_json_ws(in + 5, in + sizeof in - 1), in + 6);
}

/* ---- object and array iteration -------------------------------------- */

/* Renders an object's members as "key=value|..." (raw spans), or
 * "ERR:<why>". */
static void render_object(const char *in, size_t len, char *out, size_t cap)
{
	const char *end = in + len, *why = NULL;
	struct fl_json_member m;
	size_t n = 0;

	out[0] = '\0';
	const char *p = fl_json_object_begin(in, end, &why);
	while (p && (p = fl_json_object_next(p, end, &m, &why)) && m.key) {
		assert_int_equal(*m.member, '"');
		assert_ptr_equal(m.member + 1, m.key);
		assert_int_equal(m.key_escaped, memchr(m.key, '\\', m.key_len) != NULL);
		n += (size_t)snprintf(out + n, cap - n, "%.*s=%.*s|", (int)m.key_len, m.key,
				      (int)m.value_len, m.value);
	}
	if (!p) {
		snprintf(out, cap, "ERR:%s", why);
		return;
	}
	n += (size_t)snprintf(out + n, cap - n, "@%d", (int)(p - in));
}

struct ocase {
	const char *in;
	const char *want;
};

static const struct ocase object_cases[] = {
	{ "{}", "@2" },
	{ " { } x", "@4" },
	{ "{\"a\":1}", "a=1|@7" },
	{ "{ \"a\" : 1 , \"b\\n\" :[1, 2] ,\"c\":{\"d\":null}, \"e\":\"x\\\"y\" }",
	  "a=1|b\\n=[1, 2]|c={\"d\":null}|e=\"x\\\"y\"|@55" },
	{ "{\"a\":1,\"a\":2}", "a=1|a=2|@13" },
	{ "{\"\":true}", "=true|@9" },
	{ "[]", "ERR:not a JSON object" },
	{ "", "ERR:not valid JSON" },
	{ "{", "ERR:not valid JSON" },
	{ "{\"a\":1,}", "ERR:not valid JSON" },
	{ "{,}", "ERR:not valid JSON" },
	{ "{\"a\":1 \"b\":2}", "ERR:not valid JSON" },
	{ "{\"a\" 1}", "ERR:not valid JSON" },
	{ "{\"a\":}", "ERR:not valid JSON" },
	{ "{\"a\":1", "ERR:not valid JSON" },
	{ "{\"a\":1]", "ERR:not valid JSON" },
	{ "{\"a\":[1,]}", "ERR:not valid JSON" },
	{ "{\"a\":\"\xc0\x80\"}", "ERR:invalid UTF-8" },
	{ "{\"\\z\":1}", "ERR:invalid escape in string" },
	{ "{\"a\":-}", "ERR:invalid number" },
};

static void test_object(void **state)
{
	(void)state;
	char out[512];

	for (size_t i = 0; i < sizeof object_cases / sizeof object_cases[0]; i++) {
		render_object(object_cases[i].in, strlen(object_cases[i].in), out, sizeof out);
		if (strcmp(out, object_cases[i].want) != 0)
			fail_msg("%s: got %s want %s", object_cases[i].in, out, object_cases[i].want);
	}

	/* The object's own level counts: 63 nested levels in a member are
	 * the bound, as for fl_json_value on the whole. */
	char buf[200];
	size_t n = (size_t)sprintf(buf, "{\"a\":");
	memset(buf + n, '[', 63);
	memset(buf + n + 63, ']', 63);
	n += 126;
	buf[n++] = '}';
	render_object(buf, n, out, sizeof out);
	assert_string_equal(out + strlen(out) - 4, "@132");
	assert_non_null(fl_json_value(buf, buf + n, NULL));
	n = (size_t)sprintf(buf, "{\"a\":");
	memset(buf + n, '[', 64);
	memset(buf + n + 64, ']', 64);
	n += 128;
	buf[n++] = '}';
	render_object(buf, n, out, sizeof out);
	assert_string_equal(out, "ERR:nested too deeply");
	assert_null(fl_json_value(buf, buf + n, NULL));
}

static void test_object_scan(void **state)
{
	(void)state;
	struct fl_json_member m[3];
	const char *why = NULL;
	size_t count = 99;
	const char in[] = " {\"a\" : 1 ,\"b\\u0041\":[1,{}], \"c\":\"x\",\"d\":null} tail";
	const char *end = in + sizeof in - 1;

	/* Room for all. */
	const char *p = fl_json_object_scan(in, end, m, 3, &count, &why);
	assert_int_equal(count, 4);
	assert_ptr_equal(p, strstr(in, " tail"));
	assert_ptr_equal(m[0].member, in + 1 + 1);
	assert_memory_equal(m[0].key, "a", m[0].key_len);
	assert_int_equal(m[0].key_len, 1);
	assert_false(m[0].key_escaped);
	assert_int_equal(m[0].value_len, 1);
	assert_memory_equal(m[0].value, "1", 1);
	assert_int_equal(m[1].key_len, 7);
	assert_memory_equal(m[1].key, "b\\u0041", 7);
	assert_true(m[1].key_escaped);
	assert_int_equal(m[1].value_len, 6);
	assert_memory_equal(m[1].value, "[1,{}]", 6);
	assert_int_equal(m[2].value_len, 3);
	assert_memory_equal(m[2].value, "\"x\"", 3);

	/* No room: still validated and counted. */
	assert_ptr_equal(fl_json_object_scan(in, end, NULL, 0, &count, &why), p);
	assert_int_equal(count, 4);

	const char empty[] = "{ }";
	assert_ptr_equal(fl_json_object_scan(empty, empty + 3, m, 3, &count, &why), empty + 3);
	assert_int_equal(count, 0);

	/* Same verdicts as iteration. */
	for (size_t i = 0; i < sizeof object_cases / sizeof object_cases[0]; i++) {
		const char *o = object_cases[i].in, *w = NULL;
		p = fl_json_object_scan(o, o + strlen(o), m, 3, &count, &w);
		if (strncmp(object_cases[i].want, "ERR:", 4) == 0) {
			if (p || strcmp(w, object_cases[i].want + 4) != 0)
				fail_msg("%s: want %s got %s", o, object_cases[i].want, p ? "ok" : w);
		} else {
			const char *at = strrchr(object_cases[i].want, '@');
			if (!p || p - o != atoi(at + 1))
				fail_msg("%s: want %s", o, object_cases[i].want);
		}
	}

	/* Depth is counted from the object, as fl_json_value does. */
	char buf[200];
	size_t n = (size_t)sprintf(buf, "{\"a\":");
	memset(buf + n, '[', 64);
	memset(buf + n + 64, ']', 64);
	n += 128;
	buf[n++] = '}';
	assert_null(fl_json_object_scan(buf, buf + n, m, 3, &count, &why));
	assert_string_equal(why, "nested too deeply");
}

static void render_array(const char *in, char *out, size_t cap)
{
	const char *end = in + strlen(in), *why = NULL, *e;
	size_t el, n = 0;

	out[0] = '\0';
	const char *p = fl_json_array_begin(in, end, &why);
	while (p && (p = fl_json_array_next(p, end, &e, &el, &why)) && e)
		n += (size_t)snprintf(out + n, cap - n, "%.*s|", (int)el, e);
	if (!p) {
		snprintf(out, cap, "ERR:%s", why);
		return;
	}
	snprintf(out + n, cap - n, "@%d", (int)(p - in));
}

static const struct ocase array_cases[] = {
	{ "[]", "@2" },
	{ "\n[ ]", "@4" },
	{ "[1, \"x\" ,[ ],{\"a\":[2]} , null,true,-1.5e3]", "1|\"x\"|[ ]|{\"a\":[2]}|null|true|-1.5e3|@42" },
	{ "[[1,2],[3]] tail", "[1,2]|[3]|@11" },
	{ "{}", "ERR:not a JSON array" },
	{ "[1,]", "ERR:not valid JSON" },
	{ "[,1]", "ERR:not valid JSON" },
	{ "[1 2]", "ERR:not valid JSON" },
	{ "[1", "ERR:not valid JSON" },
	{ "[1}", "ERR:not valid JSON" },
	{ "[\"\\ud800\"]", "ERR:invalid escape in string" },
};

static void test_array(void **state)
{
	(void)state;
	char out[512];

	for (size_t i = 0; i < sizeof array_cases / sizeof array_cases[0]; i++) {
		render_array(array_cases[i].in, out, sizeof out);
		if (strcmp(out, array_cases[i].want) != 0)
			fail_msg("%s: got %s want %s", array_cases[i].in, out, array_cases[i].want);
	}
}

/* ---- fl_json_find and fl_json_key_eq --------------------------------- */

struct fcase {
	const char *obj;
	const char *key;
	const char *want;  /* value span, NULL: absent */
};

static const struct fcase find_cases[] = {
	{ "{\"a\":1,\"b\":\"two\"}", "b", "\"two\"" },
	{ "{\"a\":1,\"b\":\"two\"}", "a", "1" },
	{ "{\"a\":1,\"b\":\"two\"}", "c", NULL },
	{ "{\"a\":1,\"b\":\"two\"}", "", NULL },
	{ "{}", "a", NULL },
	{ " { } ", "a", NULL },
	{ " { \"a\" : [1,{\"b\":2}] , \"c\" : -1.5e3 } ", "a", "[1,{\"b\":2}]" },
	{ " { \"a\" : [1,{\"b\":2}] , \"c\" : -1.5e3 } ", "c", "-1.5e3" },
	{ "{\"x\":{\"b\":1},\"y\":[\"b\"]}", "b", NULL },        /* top level only */
	{ "{\"x\":\"\\\"b\\\":1,\",\"b\":2}", "b", "2" },           /* quotes in strings */
	{ "{\"x\":\"}\\\\\",\"b\":{\"}\":\"{\"}}", "b", "{\"}\":\"{\"}" },
	{ "{\"b\":1,\"b\":2}", "b", "2" },                        /* last wins */
	{ "{\"\\u0062\":true}", "b", "true" },                    /* escaped key */
	{ "{\"caf\\u00e9\":null}", "caf\xc3\xa9", "null" },
	{ "{\"caf\xc3\xa9\":null}", "caf\\u00e9", NULL },         /* key is decoded, the argument is not */
	{ "{\"\\ud83d\\ude00\":0}", "\xf0\x9f\x98\x80", "0" },
	{ "{\"a\\\\b\":0}", "a\\b", "0" },
	{ "[1]", "a", NULL },
	{ "{\"a\":1", "a", NULL },
	{ "{\"a\":\"xx", "a", NULL },
	{ "{\"a\":[1,2", "a", NULL },
};

static void test_find(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof find_cases / sizeof find_cases[0]; i++) {
		const struct fcase *c = &find_cases[i];
		const char *v = NULL;
		size_t vn = 0;
		bool found = fl_json_find(c->obj, strlen(c->obj), c->key, strlen(c->key), &v, &vn);
		if (found != (c->want != NULL))
			fail_msg("%s [%s]: found %d", c->obj, c->key, found);
		if (found && (vn != strlen(c->want) || memcmp(v, c->want, vn) != 0))
			fail_msg("%s [%s]: got %.*s want %s", c->obj, c->key, (int)vn, v, c->want);
	}
}

static void test_key_eq(void **state)
{
	(void)state;
	assert_true(fl_json_key_eq("abc", 3, false, "abc", 3));
	assert_false(fl_json_key_eq("abc", 3, false, "abd", 3));
	assert_false(fl_json_key_eq("abc", 3, false, "ab", 2));
	assert_true(fl_json_key_eq("a\\u0062c", 8, true, "abc", 3));
	assert_false(fl_json_key_eq("a\\u0062c", 8, true, "ab", 2));
	assert_false(fl_json_key_eq("a\\u0062", 7, true, "abc", 3));
	assert_true(fl_json_key_eq("\\n\\t", 4, true, "\n\t", 2));
	assert_true(fl_json_key_eq("\\u0000", 6, true, "\0", 1));
	assert_false(fl_json_key_eq("\\u00", 4, true, "\0", 1));  /* malformed */
	assert_false(fl_json_key_eq("\\ud800", 6, true, "\xed\xa0\x80", 3));
	assert_true(fl_json_key_eq("", 0, true, "", 0));
}

/* ---- fl_json_unescape ------------------------------------------------- */

struct ucase {
	const char *raw;
	size_t raw_len;
	const char *want;  /* NULL: FL_INVALID */
	size_t want_len;
};

static const struct ucase unescape_cases[] = {
	{ B(""), B("") },
	{ B("plain text"), B("plain text") },
	{ B("\\\"\\\\\\/\\b\\f\\n\\r\\t"), B("\"\\/\b\f\n\r\t") },
	{ B("a\\u0041b"), B("aAb") },
	{ B("\\u0000"), B("\0") },
	{ B("\\u007f\\u0080\\u07FF\\u0800"), B("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80") },
	{ B("\\u00e9\\u20AC\\uffff"), B("\xc3\xa9\xe2\x82\xac\xef\xbf\xbf") },
	{ B("\\ud83d\\ude00!"), B("\xf0\x9f\x98\x80!") },
	{ B("\\uD800\\uDC00\\uDBFF\\uDFFF"), B("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf") },
	{ B("caf\xc3\xa9 \\u2014 ok"), B("caf\xc3\xa9 \xe2\x80\x94 ok") },
	{ B("\\x"), NULL, 0 },
	{ B("\\"), NULL, 0 },
	{ B("\\u12"), NULL, 0 },
	{ B("\\ud800"), NULL, 0 },
	{ B("\\ud800\\u0041"), NULL, 0 },
	{ B("\\udc00"), NULL, 0 },
};

static void test_unescape(void **state)
{
	(void)state;
	struct fl_buf out;

	for (size_t i = 0; i < sizeof unescape_cases / sizeof unescape_cases[0]; i++) {
		const struct ucase *c = &unescape_cases[i];
		fl_buf_init(&out, 1024);
		assert_int_equal(fl_buf_adds(&out, "pre:"), FL_OK);
		enum fl_result r = fl_json_unescape(c->raw, c->raw_len, &out);
		if (!c->want) {
			if (r != FL_INVALID)
				fail_msg("case %zu: want FL_INVALID, got %d", i, r);
			assert_int_equal(out.len, 4);
			assert_string_equal(out.data, "pre:");
		} else {
			if (r != FL_OK || out.len != 4 + c->want_len ||
			    memcmp(out.data + 4, c->want, c->want_len) != 0)
				fail_msg("case %zu: result %d, %zu bytes", i, r, out.len - 4);
			assert_int_equal(out.data[out.len], '\0');
		}
		fl_buf_free(&out);
	}

	/* The maximum counts decoded bytes: 12 raw bytes decode to 4. */
	fl_buf_init(&out, 4);
	assert_int_equal(fl_json_unescape("\\ud83d\\ude00", 12, &out), FL_OK);
	assert_memory_equal(out.data, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(fl_json_unescape("a", 1, &out), FL_TOO_LARGE);
	assert_int_equal(out.len, 4);
	fl_buf_free(&out);
}

/* ---- base64 ----------------------------------------------------------- */

struct bcase {
	const char *text;
	const char *bin;   /* NULL: decode fails */
	size_t bin_len;
};

static const struct bcase b64_cases[] = {
	/* RFC 4648 section 10 */
	{ "", B("") },
	{ "Zg==", B("f") },
	{ "Zm8=", B("fo") },
	{ "Zm9v", B("foo") },
	{ "Zm9vYg==", B("foob") },
	{ "Zm9vYmE=", B("fooba") },
	{ "Zm9vYmFy", B("foobar") },
	{ "AAEC/f7/", B("\x00\x01\x02\xfd\xfe\xff") },
	{ "+/+/", B("\xfb\xff\xbf") },
	/* non-zero unused bits are accepted, as Java and Go do */
	{ "Zh==", B("f") },
	{ "Zm9=", B("fo") },
	/* bad */
	{ "Zg", NULL, 0 },
	{ "Zg=", NULL, 0 },
	{ "Zm9vY", NULL, 0 },
	{ "Z===", NULL, 0 },
	{ "====", NULL, 0 },
	{ "Zg=a", NULL, 0 },
	{ "Z=g=", NULL, 0 },
	{ "Zg==Zm9v", NULL, 0 },
	{ "Zm9v\nZm9v", NULL, 0 },
	{ "Zm9vZm9v\n", NULL, 0 },
	{ "Zm 9", NULL, 0 },
	{ "Zm9-", NULL, 0 },
	{ "Zm9_", NULL, 0 },
	{ "Zm9vZm9vZm9vZm9vZm9vZm9vZm9vZm9vZm9vZm9vZm9vZm9vZm9vZm9vZm9v\x80m9v", NULL, 0 },
};

static void test_base64(void **state)
{
	(void)state;
	struct fl_buf out;

	for (size_t i = 0; i < sizeof b64_cases / sizeof b64_cases[0]; i++) {
		const struct bcase *c = &b64_cases[i];
		fl_buf_init(&out, 1024);
		assert_int_equal(fl_buf_adds(&out, "pre:"), FL_OK);
		enum fl_result r = fl_base64_decode(c->text, strlen(c->text), &out);
		if (!c->bin) {
			if (r != FL_INVALID)
				fail_msg("%s: want FL_INVALID, got %d", c->text, r);
			assert_int_equal(out.len, 4);
			assert_string_equal(out.data, "pre:");
			fl_buf_free(&out);
			continue;
		}
		if (r != FL_OK || out.len != 4 + c->bin_len ||
		    memcmp(out.data + 4, c->bin, c->bin_len) != 0)
			fail_msg("%s: result %d, %zu bytes", c->text, r, out.len - 4);
		assert_int_equal(out.data[out.len], '\0');

		/* Encoding gives the canonical text back. */
		fl_buf_reset(&out);
		assert_int_equal(fl_base64_encode(c->bin, c->bin_len, &out), FL_OK);
		if (strcmp(c->text, "Zh==") != 0 && strcmp(c->text, "Zm9=") != 0)
			assert_string_equal(out.data, c->text);
		fl_buf_free(&out);
	}
}

static void test_base64_round_trip(void **state)
{
	(void)state;
	unsigned char bin[600];
	struct fl_buf text, back;
	uint32_t seed = 12345;

	for (size_t i = 0; i < sizeof bin; i++) {
		seed = seed * 1103515245u + 12345u;
		bin[i] = (unsigned char)(i < 256 ? i : seed >> 16);
	}
	for (size_t n = 0; n <= sizeof bin; n++) {
		fl_buf_init(&text, 4096);
		fl_buf_init(&back, 4096);
		assert_int_equal(fl_base64_encode(bin, n, &text), FL_OK);
		assert_int_equal(text.len, (n + 2) / 3 * 4);
		assert_int_equal(fl_base64_decode(text.data, text.len, &back), FL_OK);
		assert_int_equal(back.len, n);
		assert_memory_equal(back.data, bin, n);
		/* Any character outside the alphabet at any position fails. */
		if (text.len && n % 7 == 0) {
			for (size_t k = 0; k < text.len; k++) {
				char saved = text.data[k];
				text.data[k] = (char)(k % 2 ? '.' : 0);
				fl_buf_reset(&back);
				assert_int_equal(fl_base64_decode(text.data, text.len, &back), FL_INVALID);
				assert_int_equal(back.len, 0);
				text.data[k] = saved;
			}
		}
		fl_buf_free(&text);
		fl_buf_free(&back);
	}

	/* Limits. */
	fl_buf_init(&back, 5);
	assert_int_equal(fl_base64_decode("Zm9vYmFy", 8, &back), FL_TOO_LARGE);
	assert_int_equal(back.len, 0);
	assert_int_equal(fl_base64_decode("Zm9vYmE=", 8, &back), FL_OK);
	assert_string_equal(back.data, "fooba");
	fl_buf_free(&back);
	fl_buf_init(&text, 7);
	assert_int_equal(fl_base64_encode("foobar", 6, &text), FL_TOO_LARGE);
	assert_int_equal(text.len, 0);
	fl_buf_free(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_ws),
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_object_scan),
		cmocka_unit_test(test_array),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_key_eq),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_base64_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
