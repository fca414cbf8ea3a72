/*
 * test_schema.c - inference, merging, Glue type strings and the NDJSON
 * observer, table-driven.
 *
 * A schema is compared as one string "name=type|name=type|..." so a case
 * states the whole expected column list, order included.  Hostile input
 * (deep nesting, huge numbers, invalid UTF-8, truncation, renamed and
 * duplicate keys, too many columns) has its own tests.  One property test
 * feeds the same generated lines to the observer (which parses only new
 * shapes) and to fl_schema_observe_json (which parses every line) and
 * requires the same schema.
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

#include "buf.h"
#include "schema.h"

/* "name=type|..." of s (static buffer). */
static const char *cols(const struct fl_schema *s)
{
	static char out[1 << 20];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < fl_schema_count(s); i++)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%s=%s", i ? "|" : "",
				      fl_schema_name(s, i), fl_schema_type(s, i));
	return out;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static struct fl_schema *observe_lines(const char *const *lines)
{
	struct fl_schema *s = fl_schema_new();
	assert_non_null(s);
	for (; *lines; lines++)
		assert_int_equal(fl_schema_observe_json(s, *lines, strlen(*lines)), FL_OK);
	return s;
}

/* ---- inference from JSON ---------------------------------------------- */

struct icase {
	const char *name;
	const char *lines[6];
	const char *want;
};

static const struct icase infer_cases[] = {
	{ "scalars", { "{\"b\":true,\"i\":1,\"d\":1.5,\"s\":\"x\",\"n\":null,\"f\":false}" },
	  "b=boolean|i=bigint|d=double|s=string|n=string|f=boolean" },
	{ "int64 edges and huge numbers",
	  { "{\"max\":9223372036854775807,\"over\":9223372036854775808,"
	    "\"min\":-9223372036854775808,\"under\":-9223372036854775809,"
	    "\"huge\":123456789012345678901234567890123456789012345678901234567890,"
	    "\"e\":1e2,\"f\":1.0,\"z\":-0,\"big\":1e999999,\"tiny\":-1E-999999}" },
	  "max=bigint|over=double|min=bigint|under=double|huge=double|e=double|f=double|"
	  "z=bigint|big=double|tiny=double" },
	{ "nested", { "{\"p\":{\"a\":1,\"b\":[1,2],\"c\":{\"d\":\"x\"}}}" },
	  "p=struct<a:bigint,b:array<bigint>,c:struct<d:string>>" },
	{ "empty containers", { "{\"a\":[],\"o\":{},\"n\":[null]}" },
	  "a=array<string>|o=struct<>|n=array<string>" },
	{ "empty array learns later", { "{\"a\":[]}", "{\"a\":[1]}" }, "a=array<bigint>" },
	{ "array elements join", { "{\"a\":[1,2.5],\"b\":[1,\"x\"],\"c\":[[1],[2.5]],"
				   "\"d\":[{\"a\":1},{\"b\":true}]}" },
	  "a=array<double>|b=array<string>|c=array<array<double>>|"
	  "d=array<struct<a:bigint,b:boolean>>" },
	{ "bigint then double", { "{\"a\":1}", "{\"a\":2.5}" }, "a=double" },
	{ "array element kinds", { "{\"a\":[1]}", "{\"a\":[2,3]}", "{\"a\":[1.5]}" },
	  "a=array<double>" },
	{ "array element shapes", { "{\"a\":[{\"x\":1}]}", "{\"a\":[{\"x\":2},{\"x\":1.5}]}" },
	  "a=array<struct<x:double>>" },
	{ "nested kinds", { "{\"a\":{\"x\":1,\"y\":true}}", "{\"a\":{\"y\":false,\"x\":1.5}}" },
	  "a=struct<x:double,y:boolean>" },
	{ "same keys other kinds", { "{\"a\":1,\"b\":\"x\"}", "{\"a\":\"x\",\"b\":1}" },
	  "a=string|b=string" },
	{ "double then bigint", { "{\"a\":2.5}", "{\"a\":1}" }, "a=double" },
	{ "bigint then string", { "{\"a\":1}", "{\"a\":\"x\"}" }, "a=string" },
	{ "boolean then bigint", { "{\"a\":true}", "{\"a\":1}" }, "a=string" },
	{ "struct then array", { "{\"a\":{\"x\":1}}", "{\"a\":[1]}" }, "a=string" },
	{ "struct union", { "{\"a\":{\"x\":1}}", "{\"a\":{\"y\":\"s\",\"x\":2.5}}" },
	  "a=struct<x:double,y:string>" },
	{ "null then value", { "{\"a\":null}", "{\"a\":5}", "{\"a\":null}" }, "a=bigint" },
	{ "array of structs grows", { "{\"a\":[]}", "{\"a\":[{\"k\":1}]}", "{\"a\":[{\"j\":true}]}" },
	  "a=array<struct<k:bigint,j:boolean>>" },
	{ "created_datetime", { "{\"created_datetime\":\"2024-11-22T18:26:40Z\","
				"\"p\":{\"created_datetime\":\"x\"}}" },
	  "created_datetime=timestamp|p=struct<created_datetime:string>" },
	{ "created_datetime number", { "{\"created_datetime\":5}" }, "created_datetime=bigint" },
	{ "timestamp then number", { "{\"created_datetime\":\"t\"}", "{\"created_datetime\":5}" },
	  "created_datetime=string" },
	{ "timestamp then null", { "{\"created_datetime\":\"t\"}", "{\"created_datetime\":null}" },
	  "created_datetime=timestamp" },
	{ "fixed order", { "{\"z\":1,\"created_datetime\":\"t\",\"event_subtype\":\"s\","
			   "\"created_at\":1,\"event_type\":\"e\",\"event_name\":\"n\","
			   "\"event_uuid\":\"u\",\"a\":2}" },
	  "event_uuid=string|event_name=string|event_type=string|event_subtype=string|"
	  "created_at=bigint|created_datetime=timestamp|z=bigint|a=bigint" },
	{ "common fields seen late go first",
	  { "{\"a\":1}", "{\"b\":1,\"created_at\":1.5,\"event_name\":\"x\"}", "{\"event_uuid\":\"u\"}" },
	  "event_uuid=string|event_name=string|created_at=double|a=bigint|b=bigint" },
	{ "renamed keys", { "{\"User-ID\":\"u\",\"CamelCase\":1,\"a.b\":true,\"x y\":null}" },
	  "user_id=string|camelcase=bigint|a_b=boolean|x_y=string" },
	{ "duplicate keys join", { "{\"a\":1,\"a\":\"x\",\"b\":\"x\",\"b\":1,\"C\":1,\"c\":2.5}" },
	  "a=string|b=string|c=double" },
	{ "escaped keys", { "{\"a\\u0062\":1,\"\\u00e9t\\u00e9\":2,\"\\\"q\\\"\":3}" },
	  "ab=bigint|__t__=bigint|_q_=bigint" },
	{ "nested names lower-cased",
	  { "{\"P\":{\"User-ID\":1,\"userId\":\"x\"}}" }, "p=struct<user_id:bigint,userid:string>" },
	{ "keys giving no name", { "{\"\":1,\"a\\u0000b\":2,\"ok\":3}" }, "ok=bigint" },
	{ "white space", { " \t{ \"a\" : [ 1 , 2 ] , \"b\" : { } }\r\n " },
	  "a=array<bigint>|b=struct<>" },
	{ "unicode strings", { "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\ud83d\\ude00 \\n\"}" },
	  "s=string" },
};

static void test_infer_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof infer_cases / sizeof infer_cases[0]; i++) {
		const struct icase *c = &infer_cases[i];
		struct fl_schema *s = observe_lines(c->lines);
		if (strcmp(cols(s), c->want) != 0)
			fail_msg("%s: got %s, want %s", c->name, cols(s), c->want);
		fl_schema_free(s);

		/* The observer, which skips lines of shapes it has seen. */
		struct fl_infer *inf = fl_infer_new();
		for (size_t k = 0; k < 6 && c->lines[k]; k++)
			assert_int_equal(fl_infer_lines(inf, c->lines[k], strlen(c->lines[k])), FL_OK);
		if (strcmp(cols(fl_infer_schema(inf)), c->want) != 0)
			fail_msg("%s (observer): got %s", c->name, cols(fl_infer_schema(inf)));
		fl_infer_free(inf);
	}
}

static void test_keys(void **state)
{
	(void)state;
	const char *line = "{\"User-ID\":1,\"ok\":2,\"\\u00c9t\\u00e9\":3,\"A\":4,\"a\":5}";
	static const char *const want[][2] = {
		{ "user_id", "User-ID" }, { "ok", "ok" }, { "__t__", "\xc3\x89t\xc3\xa9" },
		{ "a", "A" },
	};
	struct fl_schema *s = fl_schema_new();
	assert_int_equal(fl_schema_observe_json(s, line, strlen(line)), FL_OK);
	assert_int_equal(fl_schema_count(s), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(fl_schema_name(s, i), want[i][0]);
		assert_string_equal(fl_schema_key(s, i), want[i][1]);
	}
	assert_null(fl_schema_name(s, 4));
	assert_null(fl_schema_type(s, 4));
	assert_null(fl_schema_key(s, 4));

	/* A merge carries the key of a new column. */
	struct fl_schema *m = fl_schema_new();
	bool changed = false;
	assert_int_equal(fl_schema_merge(m, s, &changed), FL_OK);
	assert_true(changed);
	assert_string_equal(fl_schema_key(m, 0), "User-ID");
	assert_int_equal(fl_schema_merge(m, s, &changed), FL_OK);
	assert_false(changed);
	fl_schema_free(m);
	fl_schema_free(s);
}

struct bad {
	const char *name;
	const char *text;
	size_t len;  /* 0: strlen */
};

static const struct bad bad_lines[] = {
	{ "empty", "", 0 },
	{ "space", "  ", 0 },
	{ "array", "[1]", 0 },
	{ "string", "\"x\"", 0 },
	{ "number", "1", 0 },
	{ "open", "{", 0 },
	{ "truncated member", "{\"a\":1", 0 },
	{ "truncated string", "{\"a\":\"xy", 0 },
	{ "truncated key", "{\"a", 0 },
	{ "truncated literal", "{\"a\":tru", 0 },
	{ "truncated number", "{\"a\":-", 0 },
	{ "truncated exponent", "{\"a\":1e", 0 },
	{ "truncated fraction", "{\"a\":1.}", 0 },
	{ "truncated nested", "{\"a\":[1,{\"b\":", 0 },
	{ "trailing data", "{\"a\":1}x", 0 },
	{ "two objects", "{\"a\":1}{\"b\":2}", 0 },
	{ "leading zero", "{\"a\":01}", 0 },
	{ "plus", "{\"a\":+1}", 0 },
	{ "NaN", "{\"a\":NaN}", 0 },
	{ "trailing comma", "{\"a\":1,}", 0 },
	{ "array trailing comma", "{\"a\":[1,]}", 0 },
	{ "lone comma", "{,}", 0 },
	{ "no colon", "{\"a\" 1}", 0 },
	{ "single quotes", "{'a':1}", 0 },
	{ "bare key", "{a:1}", 0 },
	{ "invalid UTF-8", "{\"a\":\"\xff\"}", 0 },
	{ "overlong UTF-8", "{\"a\":\"\xc0\xaf\"}", 0 },
	{ "UTF-8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", 0 },
	{ "truncated UTF-8", "{\"a\":\"\xe2\x82\"}", 0 },
	{ "invalid UTF-8 in key", "{\"\xfe\":1}", 0 },
	{ "lone surrogate escape", "{\"a\":\"\\ud800\"}", 0 },
	{ "bad escape", "{\"a\":\"\\x\"}", 0 },
	{ "control character", "{\"a\":\"\x01\"}", 0 },
	{ "NUL byte", "{\"a\":\"\0\"}", 9 },
	{ "deep and broken", "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]}", 0 },
	{ "mismatched close", "{\"a\":[1}", 0 },
	{ "deep mismatched close",
	  "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{\"x\":1]]]]]]]]]]]]]]]]]]]]]]]"
	  "]]]]]]]]]]]]]]]]]]]]]}", 0 },
	{ "deep bad key", "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{x:1}]]]]]]]]]]]]]]]]]]]"
	  "]]]]]]]]]]]]]]]]]]]]]]]]]}", 0 },
};

static void test_invalid(void **state)
{
	(void)state;
	struct fl_schema *s = fl_schema_new();
	assert_int_equal(fl_schema_observe_json(s, "{\"k\":1}", 7), FL_OK);
	for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
		const struct bad *b = &bad_lines[i];
		size_t n = b->len ? b->len : strlen(b->text);
		if (fl_schema_observe_json(s, b->text, n) != FL_INVALID)
			fail_msg("%s: accepted", b->name);
		assert_string_equal(cols(s), "k=bigint");

		/* The observer counts it bad and learns nothing. */
		struct fl_infer *inf = fl_infer_new();
		struct fl_infer_stats st;
		assert_int_equal(fl_infer_lines(inf, b->text, n), FL_OK);
		fl_infer_stats(inf, &st);
		bool blank = n == strspn(b->text, " ");
		if (st.bad != (blank ? 0u : 1u) || st.records != 0)
			fail_msg("%s: bad %llu records %llu", b->name, (unsigned long long)st.bad,
				 (unsigned long long)st.records);
		assert_int_equal(fl_schema_count(fl_infer_schema(inf)), 0);
		fl_infer_free(inf);
	}
	fl_schema_free(s);
}

/* ---- nesting ---------------------------------------------------------- */

/* {"a":<open x depth><inner><close x depth>} */
static char *nested(size_t depth, char open, const char *inner, size_t *len)
{
	size_t in = strlen(inner), unit = open == '[' ? 1 : 5;
	char *s = malloc(16 + depth * (unit + 1) + in);
	size_t n = 0;
	assert_non_null(s);
	n += (size_t)sprintf(s, "{\"a\":");
	for (size_t i = 0; i < depth; i++) {
		memcpy(s + n, open == '[' ? "[" : "{\"a\":", unit);
		n += unit;
	}
	memcpy(s + n, inner, in);
	n += in;
	for (size_t i = 0; i < depth; i++)
		s[n++] = open == '[' ? ']' : '}';
	s[n++] = '}';
	s[n] = '\0';
	*len = n;
	return s;
}

static char *repeat(const char *a, size_t times, const char *mid, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = 0;
	char *s = malloc((na + nb) * times + strlen(mid) + 1);
	if (!s)
		abort();
	for (size_t i = 0; i < times; i++, n += na)
		memcpy(s + n, a, na);
	n += (size_t)sprintf(s + n, "%s", mid);
	for (size_t i = 0; i < times; i++, n += nb)
		memcpy(s + n, b, nb);
	s[n] = '\0';
	return s;
}

struct dcase {
	size_t depth;  /* containers, the column's own value the first */
	char open;
	const char *inner;
	bool good;
	size_t typed;  /* levels written before string, or 0: all */
};

static const struct dcase depth_cases[] = {
	{ 1, '[', "1", true, 0 },
	{ 32, '[', "1", true, 0 },       /* FL_SCHEMA_MAX_DEPTH levels: all typed */
	{ 33, '[', "1", true, 32 },      /* the 33rd is string */
	{ 10000, '[', "1", true, 32 },
	{ 10000, '[', "{\"x\":[1,{}],\"y\":[]}", true, 32 },
	{ 40, '{', "1", true, 32 },
	{ 32 + 65536, '[', "1", true, 32 },  /* 65536 levels below the 32nd... */
	{ 32 + 65537, '[', "1", false, 0 },  /* ...more is a bad line */
};

static void test_depth(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof depth_cases / sizeof depth_cases[0]; i++) {
		const struct dcase *c = &depth_cases[i];
		size_t len;
		char *line = nested(c->depth, c->open, c->inner, &len);
		struct fl_schema *s = fl_schema_new();
		enum fl_result r = fl_schema_observe_json(s, line, len);
		if (r != (c->good ? FL_OK : FL_INVALID))
			fail_msg("depth %zu: result %d", c->depth, r);
		if (c->good) {
			size_t levels = c->typed ? c->typed : c->depth;
			const char *leaf = c->typed ? "string" : "bigint";
			char *want = c->open == '['
				? repeat("array<", levels, leaf, ">")
				: repeat("struct<a:", levels, leaf, ">");
			char *full = malloc(strlen(want) + 3);
			if (!full)
				abort();
			sprintf(full, "a=%s", want);
			if (strcmp(cols(s), full) != 0)
				fail_msg("depth %zu: got %.200s", c->depth, cols(s));
			free(full);
			free(want);
		}
		struct fl_infer *inf = fl_infer_new();
		struct fl_infer_stats st;
		assert_int_equal(fl_infer_lines(inf, line, len), FL_OK);
		fl_infer_stats(inf, &st);
		assert_int_equal(st.records, c->good ? 1 : 0);
		assert_int_equal(st.bad, c->good ? 0 : 1);
		if (c->good)
			assert_string_equal(cols(fl_infer_schema(inf)), cols(s));
		fl_infer_free(inf);
		fl_schema_free(s);
		free(line);
	}
}

/* ---- limits ----------------------------------------------------------- */

static void test_too_many_columns(void **state)
{
	(void)state;
	struct fl_buf b;
	fl_buf_init(&b, 1 << 20);
	assert_int_equal(fl_buf_addc(&b, '{'), FL_OK);
	for (int i = 0; i < 1500; i++)
		assert_int_equal(fl_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i), FL_OK);
	assert_int_equal(fl_buf_adds(&b, ",\"event_uuid\":\"u\"}\n{\"late\":1}\n"), FL_OK);

	struct fl_infer *inf = fl_infer_new();
	assert_int_equal(fl_infer_lines(inf, b.data, b.len), FL_OK);
	const struct fl_schema *s = fl_infer_schema(inf);
	assert_int_equal(fl_schema_count(s), FL_SCHEMA_MAX_COLUMNS);
	/* The first thousand names of the line are the columns; a full
	 * schema takes no new column, common or not. */
	assert_string_equal(fl_schema_name(s, 0), "k0");
	assert_string_equal(fl_schema_name(s, 999), "k999");
	struct fl_infer_stats st;
	fl_infer_stats(inf, &st);
	assert_int_equal(st.records, 2);
	fl_infer_free(inf);

	/* Glue's own columns are all kept, however many. */
	json_t *arr = json_array();
	for (int i = 0; i < 1200; i++) {
		char n[16];
		snprintf(n, sizeof n, "c%d", i);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "Name", n, "Type", "int"));
	}
	struct fl_schema *g = NULL;
	struct fl_error err;
	assert_int_equal(fl_schema_from_columns(arr, &g, &err), FL_OK);
	assert_int_equal(fl_schema_count(g), 1200);
	struct fl_schema *o = fl_schema_new();
	const char *line = "{\"c5\":1,\"new\":2}";
	assert_int_equal(fl_schema_observe_json(o, line, strlen(line)), FL_OK);
	bool changed;
	assert_int_equal(fl_schema_merge(g, o, &changed), FL_OK);
	assert_true(changed);                     /* c5 widened to bigint */
	assert_int_equal(fl_schema_count(g), 1200); /* "new" did not fit */
	assert_string_equal(fl_schema_type(g, 5), "bigint");
	fl_schema_free(o);
	fl_schema_free(g);
	json_decref(arr);
	fl_buf_free(&b);
}

static void test_type_too_long(void **state)
{
	(void)state;
	struct fl_buf b;
	char name[201];
	memset(name, 'n', 200);
	name[200] = '\0';
	fl_buf_init(&b, 1 << 22);
	assert_int_equal(fl_buf_adds(&b, "{\"ok\":{\"x\":1},\"p\":{"), FL_OK);
	for (int i = 0; i < 700; i++)  /* 700 * ~212 bytes > 131072 */
		assert_int_equal(fl_buf_printf(&b, "%s\"%s%d\":1", i ? "," : "", name, i), FL_OK);
	assert_int_equal(fl_buf_adds(&b, "}}"), FL_OK);
	struct fl_schema *s = fl_schema_new();
	assert_int_equal(fl_schema_observe_json(s, b.data, b.len), FL_OK);
	assert_string_equal(cols(s), "ok=struct<x:bigint>|p=string");

	/* 600 fields fit; 100 more from another schema do not. */
	struct fl_schema *t = fl_schema_new(), *u = fl_schema_new();
	for (int k = 0; k < 2; k++) {
		fl_buf_reset(&b);
		assert_int_equal(fl_buf_adds(&b, "{\"p\":{"), FL_OK);
		for (int i = k ? 600 : 0; i < (k ? 700 : 600); i++)
			assert_int_equal(fl_buf_printf(&b, "%s\"%s%d\":1", i % 600 ? "," : "",
						       name, i), FL_OK);
		assert_int_equal(fl_buf_adds(&b, "},\"q\":1}"), FL_OK);
		assert_int_equal(fl_schema_observe_json(k ? u : t, b.data, b.len), FL_OK);
	}
	assert_true(strlen(fl_schema_type(t, 0)) > 120000);
	assert_true(strlen(fl_schema_type(t, 0)) <= FL_SCHEMA_MAX_TYPE_LEN);
	bool changed = false;
	assert_int_equal(fl_schema_merge(t, u, &changed), FL_OK);
	assert_true(changed);
	assert_string_equal(cols(t), "p=string|q=bigint");
	fl_schema_free(u);
	fl_schema_free(t);
	fl_schema_free(s);
	fl_buf_free(&b);
}

/* ---- Glue type strings ------------------------------------------------ */

struct tcase {
	const char *type;
	bool valid;
};

static const struct tcase type_cases[] = {
	{ "string", true }, { "bigint", true }, { "int", true }, { "INT", true },
	{ "integer", true }, { "smallint", true }, { "tinyint", true }, { "float", true },
	{ "double", true }, { "boolean", true }, { "timestamp", true }, { "date", true },
	{ "binary", true }, { "decimal", true }, { "decimal(10,2)", true },
	{ "decimal(38)", true }, { "decimal(38,38)", true }, { "char(10)", true },
	{ "varchar(65535)", true }, { "array<string>", true }, { "map<string,int>", true },
	{ "struct<a:int,b:array<struct<c:string>>>", true }, { "struct<>", true },
	{ " struct< a : int , b:map< string , array<double> > > ", true },
	{ "struct<`a b`:int>", true }, { "Struct<UserId:Decimal(5,1)>", true },
	{ "array<array<array<map<int,struct<x:date>>>>>", true },
	{ "", false }, { "strin", false }, { "strings", false }, { "array<>", false },
	{ "array<string", false }, { "array<string>>", false }, { "map<string>", false },
	{ "map<string,int,int>", false }, { "decimal(0,0)", false }, { "decimal(39,0)", false },
	{ "decimal(10,11)", false }, { "decimal(10,)", false }, { "decimal()", false },
	{ "char", false }, { "char(0)", false }, { "char(256)", false },
	{ "varchar(65536)", false }, { "varchar(99999999999999)", false }, { "struct<a>", false },
	{ "struct<a:int,>", false }, { "struct<:int>", false }, { "struct<`a:int>", false },
	{ "string extra", false }, { "array string", false }, { "uniontype<int>", false },
};

static void test_type_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof type_cases / sizeof type_cases[0]; i++)
		if (fl_schema_type_valid(type_cases[i].type) != type_cases[i].valid)
			fail_msg("\"%s\": want %s", type_cases[i].type,
				 type_cases[i].valid ? "valid" : "invalid");
	assert_false(fl_schema_type_valid(NULL));
	char *deep = repeat("array<", 127, "int", ">");  /* 128 levels with int */
	assert_true(fl_schema_type_valid(deep));
	free(deep);
	deep = repeat("array<", 128, "int", ">");
	assert_false(fl_schema_type_valid(deep));
	free(deep);
	deep = repeat("array<", 100000, "int", ">");
	assert_false(fl_schema_type_valid(deep));
	free(deep);
}

/* ---- merging ---------------------------------------------------------- */

struct mcase {
	const char *into, *from, *want;
	bool changed;
};

static const struct mcase merge_cases[] = {
	{ "bigint", "bigint", "bigint", false },
	{ "INT", "int", "INT", false },  /* a given type string is kept as given */
	{ "int", "bigint", "bigint", true },
	{ "bigint", "int", "bigint", false },
	{ "tinyint", "smallint", "smallint", true },
	{ "bigint", "double", "double", true },
	{ "double", "bigint", "double", false },
	{ "int", "float", "double", true },
	{ "float", "float", "float", false },
	{ "float", "double", "double", true },
	{ "bigint", "string", "string", true },
	{ "string", "struct<a:int>", "string", false },
	{ "boolean", "bigint", "string", true },
	{ "timestamp", "string", "string", true },
	{ "date", "timestamp", "timestamp", true },
	{ "binary", "string", "string", true },
	{ "binary", "boolean", "string", true },
	{ "decimal(10,2)", "decimal(12,4)", "decimal(12,4)", true },
	{ "decimal(10,2)", "decimal(10,2)", "decimal(10,2)", false },
	{ "decimal(10,2)", "int", "decimal(12,2)", true },
	{ "decimal(20,0)", "bigint", "decimal(20,0)", false },
	{ "decimal(38,10)", "bigint", "decimal(38,10)", false },
	{ "decimal(38,20)", "bigint", "double", true },
	{ "decimal(10,2)", "double", "double", true },
	{ "char(10)", "char(10)", "char(10)", false },
	{ "char(10)", "char(20)", "varchar(20)", true },
	{ "varchar(10)", "varchar(5)", "varchar(10)", false },
	{ "varchar(10)", "string", "string", true },
	{ "struct<a:bigint>", "struct<b:string>", "struct<a:bigint,b:string>", true },
	{ "struct<a:bigint>", "struct<a:int>", "struct<a:bigint>", false },
	{ "struct<UserId:int>", "struct<userid:bigint,x:date>",
	  "struct<UserId:bigint,x:date>", true },
	{ "struct<a:int>", "array<int>", "string", true },
	{ "array<bigint>", "array<double>", "array<double>", true },
	{ "array<struct<a:int>>", "array<struct<b:int>>", "array<struct<a:int,b:int>>", true },
	{ "map<string,bigint>", "map<string,double>", "map<string,double>", true },
	{ "map<string,bigint>", "struct<a:double,b:int>", "map<string,double>", true },
	{ "struct<a:double,b:int>", "map<string,bigint>", "map<string,double>", true },
	{ "map<string,int>", "array<int>", "string", true },
	{ "struct<`a b`:int>", "struct<c:int>", "struct<`a b`:int,c:int>", true },
};

static struct fl_schema *one_column(const char *name, const char *type)
{
	json_t *c = json_pack("[{s:s, s:s}]", "Name", name, "Type", type);
	struct fl_schema *s = NULL;
	struct fl_error err;
	assert_int_equal(fl_schema_from_columns(c, &s, &err), FL_OK);
	json_decref(c);
	return s;
}

static void test_merge_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof merge_cases / sizeof merge_cases[0]; i++) {
		const struct mcase *c = &merge_cases[i];
		struct fl_schema *a = one_column("c", c->into), *b = one_column("c", c->from);
		bool changed = !c->changed;
		assert_int_equal(fl_schema_merge(a, b, &changed), FL_OK);
		if (strcmp(fl_schema_type(a, 0), c->want) != 0 || changed != c->changed)
			fail_msg("%s + %s: got %s (changed %d), want %s (changed %d)", c->into,
				 c->from, fl_schema_type(a, 0), changed, c->want, c->changed);
		assert_int_equal(fl_schema_count(a), 1);
		fl_schema_free(a);
		fl_schema_free(b);
	}
}

static void test_merge_order(void **state)
{
	(void)state;
	/* Into columns read from Glue: order kept, new ones appended, the
	 * common fields first among them. */
	json_t *c = json_pack("[{s:s, s:s}, {s:s, s:s}]", "Name", "x", "Type", "string",
			      "Name", "y", "Type", "int");
	struct fl_schema *g = NULL, *o = fl_schema_new();
	struct fl_error err;
	assert_int_equal(fl_schema_from_columns(c, &g, &err), FL_OK);
	const char *line = "{\"z\":1,\"y\":2,\"event_name\":\"n\",\"x\":\"s\",\"event_uuid\":\"u\"}";
	assert_int_equal(fl_schema_observe_json(o, line, strlen(line)), FL_OK);
	assert_string_equal(cols(o), "event_uuid=string|event_name=string|z=bigint|y=bigint|x=string");
	bool changed = false;
	assert_int_equal(fl_schema_merge(g, o, &changed), FL_OK);
	assert_true(changed);
	assert_string_equal(cols(g), "x=string|y=bigint|event_uuid=string|event_name=string|z=bigint");

	/* Into a new schema: the fixed order again. */
	struct fl_schema *n = fl_schema_new();
	assert_int_equal(fl_schema_merge(n, g, NULL), FL_OK);
	assert_string_equal(cols(n), "event_uuid=string|event_name=string|x=string|y=bigint|z=bigint");
	assert_int_equal(fl_schema_merge(n, o, &changed), FL_OK);
	assert_false(changed);
	fl_schema_free(n);
	fl_schema_free(o);
	fl_schema_free(g);
	json_decref(c);
}

/* ---- positional schemas (CSV tables) --------------------------------- */

enum { INTO_NEW, INTO_POSITIONAL, INTO_GLUE, INTO_GLUE_POSITIONAL };
enum { BY_MERGE, BY_JSON, BY_TEXT };

struct pcase {
	const char *what;
	int into;          /* the target */
	int by;            /* how src comes in */
	const char *src;   /* Glue Columns, a JSON line, or "name=cell,..." */
	const char *want;
};

#define PCOLS "[{\"Name\":\"id\",\"Type\":\"bigint\"}," \
	"{\"Name\":\"created_at\",\"Type\":\"bigint\"}," \
	"{\"Name\":\"event_uuid\",\"Type\":\"string\"},{\"Name\":\"name\",\"Type\":\"string\"}]"
#define PLINE "{\"z\":1,\"event_name\":\"n\",\"created_at\":5}"
#define PCELLS "id=1,created_at=1700000000,name=a"

static const struct pcase positional_cases[] = {
	{ "CSV cells, positional", INTO_POSITIONAL, BY_TEXT, PCELLS,
	  "id=bigint|created_at=bigint|name=string" },
	{ "CSV cells, fixed order", INTO_NEW, BY_TEXT, PCELLS,
	  "created_at=bigint|id=bigint|name=string" },
	{ "merge, positional", INTO_POSITIONAL, BY_MERGE, PCOLS,
	  "id=bigint|created_at=bigint|event_uuid=string|name=string" },
	{ "merge, fixed order", INTO_NEW, BY_MERGE, PCOLS,
	  "event_uuid=string|created_at=bigint|id=bigint|name=string" },
	{ "merge into Glue columns, positional", INTO_GLUE_POSITIONAL, BY_MERGE, PCOLS,
	  "x=string|id=bigint|created_at=bigint|event_uuid=string|name=string" },
	{ "merge into Glue columns", INTO_GLUE, BY_MERGE, PCOLS,
	  "x=string|event_uuid=string|created_at=bigint|id=bigint|name=string" },
	{ "event, positional", INTO_POSITIONAL, BY_JSON, PLINE,
	  "z=bigint|event_name=string|created_at=bigint" },
	{ "event, fixed order", INTO_NEW, BY_JSON, PLINE,
	  "event_name=string|created_at=bigint|z=bigint" },
};

static struct fl_schema *glue_x(void)
{
	return one_column("x", "string");
}

static void positional_apply(struct fl_schema *s, int by, const char *src)
{
	struct fl_error err;
	if (by == BY_JSON) {
		assert_int_equal(fl_schema_observe_json(s, src, strlen(src)), FL_OK);
	} else if (by == BY_MERGE) {
		json_t *c = json_loads(src, 0, NULL);
		struct fl_schema *from = NULL;
		bool changed = false;
		assert_non_null(c);
		assert_int_equal(fl_schema_from_columns(c, &from, &err), FL_OK);
		assert_int_equal(fl_schema_merge(s, from, &changed), FL_OK);
		assert_true(changed);
		fl_schema_free(from);
		json_decref(c);
	} else {
		char buf[256], *save = NULL;
		snprintf(buf, sizeof buf, "%s", src);
		for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '=');
			*eq = '\0';
			assert_int_equal(fl_schema_observe_text(s, kv, eq + 1, strlen(eq + 1)), FL_OK);
		}
	}
}

static void test_positional(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof positional_cases / sizeof positional_cases[0]; i++) {
		const struct pcase *c = &positional_cases[i];
		struct fl_schema *s = c->into == INTO_NEW ? fl_schema_new()
			: c->into == INTO_POSITIONAL ? fl_schema_new_positional() : glue_x();
		assert_non_null(s);
		if (c->into == INTO_GLUE_POSITIONAL)
			fl_schema_set_positional(s);
		positional_apply(s, c->by, c->src);
		if (strcmp(cols(s), c->want) != 0)
			fail_msg("%s: got %s, want %s", c->what, cols(s), c->want);
		fl_schema_free(s);
	}

	/* Schemas of several files: first-seen order across merges, types
	 * widened in place, nothing moved. */
	struct fl_schema *p = fl_schema_new_positional();
	positional_apply(p, BY_MERGE, "[{\"Name\":\"id\",\"Type\":\"bigint\"},"
			 "{\"Name\":\"created_at\",\"Type\":\"bigint\"}]");
	positional_apply(p, BY_MERGE, "[{\"Name\":\"name\",\"Type\":\"string\"},"
			 "{\"Name\":\"id\",\"Type\":\"double\"},"
			 "{\"Name\":\"event_uuid\",\"Type\":\"string\"}]");
	assert_string_equal(cols(p), "id=double|created_at=bigint|name=string|event_uuid=string");
	bool changed = true;
	struct fl_schema *again = fl_schema_new_positional();
	positional_apply(again, BY_MERGE, "[{\"Name\":\"created_at\",\"Type\":\"int\"},"
			 "{\"Name\":\"id\",\"Type\":\"bigint\"}]");
	assert_int_equal(fl_schema_merge(p, again, &changed), FL_OK);
	assert_false(changed);
	assert_string_equal(cols(p), "id=double|created_at=bigint|name=string|event_uuid=string");

	/* Order is the target's property: the same columns merged into a
	 * schema of the fixed order lead with the common fields. */
	struct fl_schema *n = fl_schema_new();
	assert_int_equal(fl_schema_merge(n, p, NULL), FL_OK);
	assert_string_equal(cols(n), "event_uuid=string|created_at=bigint|id=double|name=string");

	/* Glue Columns out keep the order. */
	json_t *out = fl_schema_to_columns(p, NULL, 0);
	char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(text, "[{\"Name\":\"id\",\"Type\":\"double\"},"
			    "{\"Name\":\"created_at\",\"Type\":\"bigint\"},"
			    "{\"Name\":\"name\",\"Type\":\"string\"},"
			    "{\"Name\":\"event_uuid\",\"Type\":\"string\"}]");
	free(text);
	json_decref(out);
	fl_schema_set_positional(NULL);
	fl_schema_free(again);
	fl_schema_free(n);
	fl_schema_free(p);
}

/* ---- Glue columns ----------------------------------------------------- */

static void test_columns(void **state)
{
	(void)state;
	struct fl_error err;
	struct fl_schema *s = NULL;
	json_t *c = json_loads("[{\"Name\":\"zeta\",\"Type\":\"int\",\"Comment\":\"z\"},"
			       "{\"Name\":\"Alpha\",\"Type\":\"STRUCT<A:INT>\"},"
			       "{\"Name\":\"dt\",\"Type\":\"string\"},"
			       "{\"Name\":\"untyped\"}]", 0, NULL);
	assert_int_equal(fl_schema_from_columns(c, &s, &err), FL_OK);
	assert_string_equal(cols(s), "zeta=int|Alpha=STRUCT<A:INT>|dt=string|untyped=string");

	/* An observed event widens zeta, adds to Alpha by its lower-case
	 * name, and appends a column; Glue attributes stay. */
	struct fl_schema *o = fl_schema_new();
	const char *line = "{\"alpha\":{\"a\":1,\"B\":true},\"zeta\":1.5,\"new\":null}";
	assert_int_equal(fl_schema_observe_json(o, line, strlen(line)), FL_OK);
	bool changed;
	assert_int_equal(fl_schema_merge(s, o, &changed), FL_OK);
	assert_true(changed);
	assert_string_equal(cols(s), "zeta=double|Alpha=struct<A:bigint,b:boolean>|dt=string|"
			    "untyped=string|new=string");
	const char *skip[] = { "DT", NULL, "nothing" };
	json_t *out = fl_schema_to_columns(s, skip, 3);
	char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(text,
		"[{\"Name\":\"zeta\",\"Type\":\"double\",\"Comment\":\"z\"},"
		"{\"Name\":\"Alpha\",\"Type\":\"struct<A:bigint,b:boolean>\"},"
		"{\"Name\":\"untyped\",\"Type\":\"string\"},"
		"{\"Name\":\"new\",\"Type\":\"string\"}]");
	free(text);
	/* The result is the caller's: changing it leaves s alone. */
	json_object_set_new(json_array_get(out, 0), "Comment", json_string("changed"));
	json_decref(out);
	out = fl_schema_to_columns(s, NULL, 0);
	assert_int_equal(json_array_size(out), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "Comment")),
			    "z");
	json_decref(out);
	fl_schema_free(o);
	fl_schema_free(s);
	json_decref(c);

	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "{}", "Columns is not a list" },
		{ "[{\"Name\":\"c1\",\"Type\":\"strin\"}]", "Invalid type for column c1: strin" },
		{ "[{\"Name\":\"ok\"},{\"Name\":\"c2\",\"Type\":\"array<\"}]",
		  "Invalid type for column c2: array<" },
		{ "[{\"Name\":\"c3\",\"Type\":5}]", "Type of column c3 is not a string" },
		{ "[{\"Type\":\"int\"}]", "Column 1 has no name" },
		{ "[{\"Name\":\"\"}]", "Column 1 has no name" },
		{ "[1]", "Column 1 has no name" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = json_loads(bad[i].json, 0, NULL);
		s = (struct fl_schema *)1;
		assert_int_equal(fl_schema_from_columns(j, &s, &err), FL_INVALID);
		assert_null(s);
		assert_int_equal(err.code, FL_INVALID);
		assert_string_equal(err.msg, bad[i].msg);
		json_decref(j);
	}

	/* Empty schema, empty list. */
	s = fl_schema_new();
	out = fl_schema_to_columns(s, NULL, 0);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
	fl_schema_free(s);
	fl_schema_free(NULL);
	assert_int_equal(fl_schema_count(NULL), 0);
}

/* ---- column names and CSV cells --------------------------------------- */

static void test_column_name(void **state)
{
	(void)state;
	static const struct {
		const char *key;
		size_t len;
		const char *want;  /* NULL: no name */
	} cases[] = {
		{ "User-ID", 7, "user_id" }, { "ok_1", 4, "ok_1" }, { "CamelCase", 9, "camelcase" },
		{ "\xc3\x89t\xc3\xa9", 5, "__t__" }, { "a b.c", 5, "a_b_c" }, { "---", 3, "___" },
		{ "", 0, NULL }, { "a\0b", 3, NULL },
	};
	char out[FL_SCHEMA_NAME_MAX + 1];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool ok = fl_schema_column_name(cases[i].key, cases[i].len, out);
		assert_int_equal(ok, cases[i].want != NULL);
		if (ok)
			assert_string_equal(out, cases[i].want);
	}
	char key[300];
	memset(key, 'K', sizeof key);
	assert_true(fl_schema_column_name(key, 255, out));
	assert_int_equal(strlen(out), 255);
	assert_int_equal(out[254], 'k');
	assert_false(fl_schema_column_name(key, 256, out));

	/* Such keys are ignored in events. */
	char line[700];
	snprintf(line, sizeof line, "{\"%.256s\":1,\"%.255s\":2}", key, key);
	struct fl_schema *s = fl_schema_new();
	assert_int_equal(fl_schema_observe_json(s, line, strlen(line)), FL_OK);
	assert_int_equal(fl_schema_count(s), 1);
	assert_int_equal(strlen(fl_schema_name(s, 0)), 255);
	fl_schema_free(s);
}

static void test_observe_text(void **state)
{
	(void)state;
	static const struct {
		const char *cells[4];
		const char *want;  /* "": no column */
	} cases[] = {
		{ { "" }, "" },
		{ { "12" }, "bigint" }, { { "-5" }, "bigint" }, { { "007" }, "bigint" },
		{ { "9223372036854775807" }, "bigint" }, { { "-9223372036854775808" }, "bigint" },
		{ { "9223372036854775808" }, "double" }, { { "00000000000000000000001" }, "bigint" },
		{ { "1.5" }, "double" }, { { "1e5" }, "double" }, { { ".5" }, "double" },
		{ { "-2.5E-3" }, "double" }, { { "5." }, "double" },
		{ { "TRUE" }, "boolean" }, { { "False" }, "boolean" },
		{ { "abc" }, "string" }, { { "1a" }, "string" }, { { "-" }, "string" },
		{ { "+1" }, "string" }, { { "1,5" }, "string" }, { { "." }, "string" },
		{ { "1e" }, "string" }, { { " 1" }, "string" }, { { "truex" }, "string" },
		{ { "1", "1.5" }, "double" }, { { "1", "", "2" }, "bigint" },
		{ { "1", "x" }, "string" }, { { "true", "1" }, "string" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_schema *s = fl_schema_new();
		for (size_t k = 0; k < 4 && cases[i].cells[k]; k++)
			assert_int_equal(fl_schema_observe_text(s, "Col-1", cases[i].cells[k],
								strlen(cases[i].cells[k])), FL_OK);
		if (!*cases[i].want) {
			assert_int_equal(fl_schema_count(s), 0);
		} else {
			assert_int_equal(fl_schema_count(s), 1);
			assert_string_equal(fl_schema_name(s, 0), "col_1");
			assert_string_equal(fl_schema_key(s, 0), "Col-1");
			if (strcmp(fl_schema_type(s, 0), cases[i].want) != 0)
				fail_msg("case %zu: got %s, want %s", i, fl_schema_type(s, 0),
					 cases[i].want);
		}
		fl_schema_free(s);
	}
	struct fl_schema *s = fl_schema_new();
	assert_int_equal(fl_schema_observe_text(s, "", "1", 1), FL_INVALID);
	assert_int_equal(fl_schema_count(s), 0);
	fl_schema_free(s);
}

/* ---- the observer ----------------------------------------------------- */

static void test_infer_stats(void **state)
{
	(void)state;
	static const char data[] =
		"{\"event_uuid\":\"u1\",\"created_at\":1767226391}\n"
		"\n"
		"   \n"
		"{\"created_at\":1767226391.2519,\"x\":1}\r\n"
		"not json\n"
		"{\"created_at\":1.7e9}\n"
		"{\"created_at\":\"1600000000\"}\n"
		"{\"p\":{\"created_at\":1500000000}}\n"
		"{\"created_at\":1500000000,\"created_at\":null}\n"
		"{\"created\\u005fat\":1800000000.5}\n"
		"{\"created_at\":-5}\n"
		"{\"created_at\":1e300}\n"
		"{\"created_at\":1900000000,\"bad\":}\n"
		"[\"created_at\",1]\n"
		"{\"created_at\":1767226391}";  /* no final newline */
	struct fl_infer *inf = fl_infer_new();
	struct fl_infer_stats st;
	assert_non_null(inf);
	fl_infer_stats(inf, &st);
	assert_int_equal(st.records, 0);
	assert_true(st.min_created_ms == INT64_MAX && st.max_created_ms == INT64_MIN);
	assert_int_equal(fl_infer_lines(inf, data, sizeof data - 1), FL_OK);
	fl_infer_stats(inf, &st);
	assert_int_equal(st.records, 10);
	assert_int_equal(st.bad, 3);
	assert_true(st.min_created_ms == 1700000000000LL);
	assert_true(st.max_created_ms == 1800000000500LL);
	assert_string_equal(cols(fl_infer_schema(inf)),
			    "event_uuid=string|created_at=string|x=bigint|p=struct<created_at:bigint>");

	fl_infer_reset_stats(inf);
	fl_infer_stats(inf, &st);
	assert_true(st.records == 0 && st.bad == 0);
	assert_true(st.min_created_ms == INT64_MAX && st.max_created_ms == INT64_MIN);
	const char *more = "{\"created_at\":0.0019}\n{\"created_at\":2}";
	assert_int_equal(fl_infer_lines(inf, more, strlen(more)), FL_OK);
	fl_infer_stats(inf, &st);
	assert_int_equal(st.records, 2);
	assert_true(st.min_created_ms == 1 && st.max_created_ms == 2000);
	/* The schema outlives a reset of the counters. */
	assert_int_equal(fl_schema_count(fl_infer_schema(inf)), 4);
	assert_int_equal(fl_infer_lines(inf, "", 0), FL_OK);
	fl_infer_free(inf);
	fl_infer_free(NULL);
}

/* Lines of a few shapes with keys in shuffled order, arrays of varying
 * length, and now and then a new field or type. */
static size_t gen_line(char *out, size_t cap, uint32_t *seed)
{
	static const char *const parts[] = {
		"\"event_uuid\":\"0b5e0f7e-7c1e-4d4a-9a53-5b1f1c7e0d11\"",
		"\"event_name\":\"payment:order:completed\"",
		"\"created_at\":1732300000",
		"\"payload\":{\"amount\":12.5,\"currency\":\"EUR\",\"items\":[1,2]}",
		"\"payload\":{\"amount\":12,\"items\":[],\"note\":null}",
		"\"payload\":{\"items\":[1,2.5,3],\"who\":{\"id\":7}}",
		"\"tags\":[\"a\",\"b\",\"c\"]",
		"\"tags\":[]",
		"\"mixed\":[{\"a\":1},{\"b\":\"x\"},{\"a\":2}]",
		"\"mixed\":[{\"c\":true}]",
		"\"Flag\":true",
		"\"flag\":\"yes\"",
		"\"n\":null",
		"\"created_datetime\":\"2024-11-22T18:26:40Z\"",
	};
	size_t idx[sizeof parts / sizeof parts[0]], n = 0, len = 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		*seed = *seed * 1103515245u + 12345u;
		if ((*seed >> 16) % 3)
			idx[n++] = i;
	}
	for (size_t i = n; i > 1; i--) {  /* shuffle */
		*seed = *seed * 1103515245u + 12345u;
		size_t j = (*seed >> 16) % i, t = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = t;
	}
	len += (size_t)snprintf(out + len, cap - len, "{");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", parts[idx[i]]);
	len += (size_t)snprintf(out + len, cap - len, "}\n");
	return len;
}

static void test_infer_equals_parse_all(void **state)
{
	(void)state;
	for (uint32_t run = 1; run <= 20; run++) {
		uint32_t seed = run * 7919u;
		struct fl_infer *inf = fl_infer_new();
		struct fl_schema *all = fl_schema_new();
		char line[1024];
		for (int i = 0; i < 300; i++) {
			size_t n = gen_line(line, sizeof line, &seed);
			assert_int_equal(fl_infer_lines(inf, line, n), FL_OK);
			assert_int_equal(fl_schema_observe_json(all, line, n - 1), FL_OK);
		}
		assert_string_equal(cols(fl_infer_schema(inf)), cols(all));
		for (size_t i = 0; i < fl_schema_count(all); i++)
			assert_string_equal(fl_schema_key(fl_infer_schema(inf), i),
					    fl_schema_key(all, i));
		struct fl_infer_stats st;
		fl_infer_stats(inf, &st);
		assert_int_equal(st.records, 300);
		fl_infer_free(inf);
		fl_schema_free(all);
	}
}

static void test_many_shapes(void **state)
{
	(void)state;
	struct fl_buf b;
	fl_buf_init(&b, 1 << 24);
	/* 5000 shapes: past FL_INFER_MAX_SHAPES they are still merged. */
	for (int i = 0; i < 5000; i++)
		assert_int_equal(fl_buf_printf(&b, "{\"p\":{\"k%d\":1}}\n{\"p\":{\"k%d\":2}}\n", i, i),
				 FL_OK);
	struct fl_infer *inf = fl_infer_new();
	assert_int_equal(fl_infer_lines(inf, b.data, b.len), FL_OK);
	const char *t = fl_schema_type(fl_infer_schema(inf), 0);
	assert_true(starts_with(t, "struct<k0:bigint,k1:bigint,"));
	assert_non_null(strstr(t, ",k4999:bigint>"));
	size_t fields = 0;
	for (const char *q = t; (q = strchr(q, ':')); q++)
		fields++;
	assert_int_equal(fields, 5000);
	/* ...and an old shape with a new type is not mistaken for known. */
	assert_int_equal(fl_infer_lines(inf, "{\"p\":{\"k7\":1.5}}", 16), FL_OK);
	assert_non_null(strstr(fl_schema_type(fl_infer_schema(inf), 0), ",k7:double,"));
	fl_infer_free(inf);

	/* Arrays with more element shapes than are hashed. */
	fl_buf_reset(&b);
	for (int line = 0; line < 3; line++) {
		assert_int_equal(fl_buf_adds(&b, "{\"a\":["), FL_OK);
		for (int i = 0; i < 40; i++)
			assert_int_equal(fl_buf_printf(&b, "%s{\"f%d\":%s}", i ? "," : "",
						       line == 2 && i == 39 ? 99 : i,
						       line == 1 && i == 0 ? "1.5" : "1"), FL_OK);
		assert_int_equal(fl_buf_adds(&b, "]}\n"), FL_OK);
	}
	inf = fl_infer_new();
	assert_int_equal(fl_infer_lines(inf, b.data, b.len), FL_OK);
	t = fl_schema_type(fl_infer_schema(inf), 0);
	assert_true(starts_with(t, "array<struct<f0:double,f1:bigint,"));
	assert_non_null(strstr(t, ",f39:bigint,f99:bigint>>"));
	fl_infer_free(inf);
	fl_buf_free(&b);
}

static void test_infer_hostile(void **state)
{
	(void)state;
	/* Lines cut anywhere are bad, never read past their end: each cut
	 * is copied to a buffer of exactly its size (ASan/valgrind watch). */
	const char *full = "{\"event_uuid\":\"u\",\"a\":[1,2.5e3,{\"b\":\"x\\u00e9\\n\"}],"
			   "\"c\":{\"d\":null,\"e\":[[[]]]},\"f\":true,\"g\":false,\"h\":-0.5}";
	size_t n = strlen(full);
	for (size_t cut = 0; cut < n; cut++) {
		char *p = malloc(cut ? cut : 1);
		memcpy(p, full, cut);
		struct fl_infer *inf = fl_infer_new();
		struct fl_infer_stats st;
		assert_int_equal(fl_infer_lines(inf, p, cut), FL_OK);
		fl_infer_stats(inf, &st);
		assert_int_equal(st.records, 0);
		assert_int_equal(st.bad, cut ? 1 : 0);
		fl_infer_free(inf);
		free(p);
	}
	struct fl_infer *inf = fl_infer_new();
	assert_int_equal(fl_infer_lines(inf, full, n), FL_OK);
	assert_string_equal(cols(fl_infer_schema(inf)),
			    "event_uuid=string|a=array<string>|"
			    "c=struct<d:string,e:array<array<array<string>>>>|f=boolean|g=boolean|h=double");
	fl_infer_free(inf);

	/* Every byte value in place of each byte: whatever is judged, no
	 * crash, and every line is counted once. */
	const char *small = "{\"a\":[1,{\"b\":\"c\"}],\"d\":2.5}";
	size_t sn = strlen(small);
	inf = fl_infer_new();
	for (size_t i = 0; i < sn; i++)
		for (int c = 0; c < 256; c++) {
			char *p = malloc(sn);
			memcpy(p, small, sn);
			p[i] = (char)c;
			assert_int_equal(fl_infer_lines(inf, p, sn), FL_OK);
			free(p);
		}
	struct fl_infer_stats st;
	fl_infer_stats(inf, &st);
	assert_true(st.records + st.bad <= sn * 256 + 256);  /* a '\n' makes two lines */
	assert_true(st.records > 0 && st.bad > 0);
	fl_infer_free(inf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_infer_table),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_too_many_columns),
		cmocka_unit_test(test_type_too_long),
		cmocka_unit_test(test_type_valid),
		cmocka_unit_test(test_merge_table),
		cmocka_unit_test(test_merge_order),
		cmocka_unit_test(test_positional),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_column_name),
		cmocka_unit_test(test_observe_text),
		cmocka_unit_test(test_infer_stats),
		cmocka_unit_test(test_infer_equals_parse_all),
		cmocka_unit_test(test_many_shapes),
		cmocka_unit_test(test_infer_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
