/*
 * test_partition.c - MetadataExtractionQuery evaluation.
 *
 * Every fast-path case runs twice: as written (fast path, no jq) and
 * wrapped in parentheses, which the fast path does not take, so libjq
 * evaluates the same query on the same bytes.  Both must give the exact
 * expected bytes, or both fail with FL_INVALID.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "partition.h"

#define MAX_NAMES 8

struct pcase {
	const char *query;
	const char *event;
	const char *names[MAX_NAMES];   /* NULL-terminated */
	const char *want[MAX_NAMES];    /* rendered values; NULL: must fail */
	const char *msg;                /* the failure message, when both paths agree */
};

#define Q1 "{event_type: .event_type, dt: .meta.dt, \"x\": .a.b}"
#define E1 "{\"event_type\":\"payment\",\"meta\":{\"dt\":\"2026-01-01\",\"h\":0},\"a\":{\"b\":1.5}}"

#define OK(q, e, ...) { q, e, __VA_ARGS__, NULL }
#define FAIL(q, e, names, msg) { q, e, names, { NULL }, msg }

static const struct pcase fast_cases[] = {
	OK(Q1, E1, { "event_type", "dt", "x" }, { "payment", "2026-01-01", "1.5" }),
	OK(Q1, E1, { "x", "event_type" }, { "1.5", "payment" }),
	OK(Q1, E1, { NULL }, { NULL }),
	/* White space anywhere (jq 1.6 has no '\r' in it), a space between path
	 * segments, shorthands. */
	OK(" \n{\tk :.meta .dt ,\"b c\":\n.a.b}\n", E1, { "k", "b c" }, { "2026-01-01", "1.5" }),
	OK("{event_type, \"meta\", a}", E1, { "event_type" }, { "payment" }),
	OK("{}", E1, { NULL }, { NULL }),
	/* A repeated query key keeps the last value; a repeated member too. */
	OK("{k: .event_type, k: .meta.dt}", E1, { "k" }, { "2026-01-01" }),
	OK("{k: .a}", "{\"a\":\"first\",\"b\":1,\"a\":\"last\"}", { "k" }, { "last" }),
	/* Member keys are compared after unescaping. */
	OK("{k: .key.sub}", "{\"k\\u0065y\":{\"s\\u0075b\":\"v\"}}", { "k" }, { "v" }),
	/* Strings: escapes decoded, unicode as UTF-8 bytes. */
	OK("{k: .s}", "{\"s\":\"a\\\"b\\\\c\\/d\\n\\te\"}", { "k" }, { "a\"b\\c/d\n\te" }),
	OK("{k: .s}", "{\"s\":\"caf\\u00e9 \\u2603 \\ud83d\\ude00\"}", { "k" },
	   { "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80" }),
	OK("{k: .s}", "{\"s\":\"\xe6\x97\xa5\xe6\x9c\xac caf\xc3\xa9\"}", { "k" },
	   { "\xe6\x97\xa5\xe6\x9c\xac caf\xc3\xa9" }),
	OK("{k: .s}", "{\"s\":\"\"}", { "k" }, { "" }),
	/* Numbers as jq 1.6 prints them. */
	OK("{a: .a, b: .b, c: .c, d: .d, e: .e, f: .f, g: .g}",
	   "{\"a\":1,\"b\":1.5,\"c\":1e3,\"d\":-0,\"e\":1.0,\"f\":-12,\"g\":1E3}",
	   { "a", "b", "c", "d", "e", "f", "g" },
	   { "1", "1.5", "1000", "-0", "1", "-12", "1000" }),
	OK("{a: .a, b: .b, c: .c, d: .d, e: .e, f: .f, g: .g}",
	   "{\"a\":12345678901234567890,\"b\":1e17,\"c\":0.00001,\"d\":123456789012345,"
	   "\"e\":1234567890123456,\"f\":0.1,\"g\":1e1000}",
	   { "a", "b", "c", "d", "e", "f", "g" },
	   { "12345678901234567000", "1e+17", "1e-05", "123456789012345", "1234567890123456",
	     "0.1", "1.7976931348623157e+308" }),
	OK("{a: .a, b: .b}", "{\"a\":3.0e2,\"b\":-2.5e-5}", { "a", "b" }, { "300", "-2.5e-05" }),
	/* Booleans. */
	OK("{t: .t, f: .f}", "{\"t\":true,\"f\":false}", { "t", "f" }, { "true", "false" }),
	/* Failures: null, missing, objects, arrays, absent keys. */
	FAIL("{k: .k}", "{\"k\":null}", { "k" },
	     "MetadataExtractionFailed: partition key 'k' is null, not a string, number or boolean"),
	FAIL("{k: .nope}", E1, { "k" },
	     "MetadataExtractionFailed: partition key 'k' is null, not a string, number or boolean"),
	FAIL("{k: .meta.nope.deeper}", E1, { "k" },
	     "MetadataExtractionFailed: partition key 'k' is null, not a string, number or boolean"),
	FAIL("{k: .meta}", E1, { "k" },
	     "MetadataExtractionFailed: partition key 'k' is an object, not a string, number or "
	     "boolean"),
	FAIL("{k: .a}", "{\"a\":[1,2]}", { "k" },
	     "MetadataExtractionFailed: partition key 'k' is an array, not a string, number or "
	     "boolean"),
	{ Q1, E1, { "event_type", "zzz" }, { "payment", NULL },
	  "MetadataExtractionFailed: partition key 'zzz' is missing from the query result" },
	/* Indexing a scalar fails the whole query, even for keys not asked. */
	FAIL("{k: .a.b, j: .event_type.x}", "{\"a\":{\"b\":\"v\"},\"event_type\":\"s\"}", { "k" },
	     "MetadataExtractionFailed: jq: Cannot index string with string \"x\""),
	FAIL("{k: .a.b}", "{\"a\":[1]}", { "k" },
	     "MetadataExtractionFailed: jq: Cannot index array with string \"b\""),
	FAIL("{k: .a.b}", "{\"a\":1}", { "k" },
	     "MetadataExtractionFailed: jq: Cannot index number with string \"b\""),
	FAIL("{k: .a.b}", "{\"a\":true}", { "k" },
	     "MetadataExtractionFailed: jq: Cannot index boolean with string \"b\""),
	FAIL("{k: .a}", "[1]", { "k" },
	     "MetadataExtractionFailed: jq: Cannot index array with string \"a\""),
	/* A null record gives null everywhere. */
	FAIL("{k: .a.b}", "null", { "k" },
	     "MetadataExtractionFailed: partition key 'k' is null, not a string, number or boolean"),
	/* strftime of a number: the fast path renders it; anything else
	 * falls back to libjq, so results and errors are jq's. */
	OK("{year: .t|strftime(\"%Y\"), month: .t|strftime(\"%m\"), hour: .t|strftime(\"%H\")}",
	   "{\"t\":1565382027}", { "year", "month", "hour" }, { "2019", "08", "20" }),
	OK("{event_type: .event_type, dt: (.created_at|strftime(\"%Y-%m-%d\")), "
	   "hour: (.created_at|strftime(\"%H\"))}",
	   "{\"event_type\":\"pay\",\"created_at\":1767226391.75}", { "event_type", "dt", "hour" },
	   { "pay", "2026-01-01", "00" }),
	OK("{k: .t | strftime( \"at %H:%M:%S %% %Y\" )}", "{\"t\":1.767229199e9}", { "k" },
	   { "at 00:59:59 % 2026" }),
	OK("{k: .t|strftime(\"%Y\")}", "{\"t\":0}", { "k" }, { "1970" }),
	FAIL("{k: .t|strftime(\"%Y\")}", "{\"t\":\"2026\"}", { "k" }, NULL),
	FAIL("{k: .t|strftime(\"%Y\")}", "{\"x\":1}", { "k" }, NULL),
	/* Not JSON: both fail (messages differ: each parser words its own). */
	FAIL("{k: .a}", "{\"a\":1", { "k" }, NULL),
	FAIL("{k: .a}", "{\"a\":1} x", { "k" }, NULL),
	FAIL("{k: .a}", "", { "k" }, NULL),
};

/* Runs one case through one query text; checks values or failure. */
static void run_case(const char *query, bool want_fast, const struct pcase *c)
{
	struct fl_partition_query *q = NULL;
	struct fl_partition_state *s = fl_partition_state_new();
	struct fl_error err = { 0 };
	struct fl_buf vals;
	size_t offs[MAX_NAMES], lens[MAX_NAMES], n = 0;
	bool fail = false;

	while (n < MAX_NAMES && c->names[n]) {
		fail |= c->want[n] == NULL;
		n++;
	}
	assert_non_null(s);
	enum fl_result r = fl_partition_compile(query, &q, &err);
	if (r != FL_OK)
		print_error("%s: %s\n", query, err.msg);
	assert_int_equal(r, FL_OK);
	if (fl_partition_is_fast(q) != want_fast)
		print_error("%s: fast path %s\n", query, want_fast ? "not taken" : "taken");
	assert_int_equal(fl_partition_is_fast(q), want_fast);

	fl_buf_init(&vals, 1 << 20);
	assert_int_equal(fl_buf_adds(&vals, "keep"), FL_OK);
	r = fl_partition_eval(q, s, c->event, strlen(c->event), c->names, n, &vals, offs,
			      lens, &err);
	if (fail || (n == 0 && c->msg)) {
		if (r != FL_INVALID)
			print_error("%s on %s: want failure, got %d\n", query, c->event, r);
		assert_int_equal(r, FL_INVALID);
		assert_int_equal(err.code, FL_INVALID);
		if (c->msg)
			assert_string_equal(err.msg, c->msg);
		else
			assert_memory_equal(err.msg, "MetadataExtractionFailed: ", 26);
		assert_int_equal(vals.len, 4);
		assert_string_equal(vals.data, "keep");
	} else {
		if (r != FL_OK)
			print_error("%s on %s: %s\n", query, c->event, err.msg);
		assert_int_equal(r, FL_OK);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(lens[i], strlen(c->want[i]));
			assert_memory_equal(vals.data + offs[i], c->want[i], lens[i]);
		}
		assert_memory_equal(vals.data, "keep", 4);
	}
	fl_buf_free(&vals);
	fl_partition_query_free(q);
	fl_partition_state_free(s);
}

static void test_fast_and_jq_agree(void **state)
{
	for (size_t i = 0; i < sizeof fast_cases / sizeof *fast_cases; i++) {
		const struct pcase *c = &fast_cases[i];
		char wrapped[512];
		snprintf(wrapped, sizeof wrapped, "(%s)", c->query);
		run_case(c->query, true, c);
		run_case(wrapped, false, c);
	}
}

/* Queries only libjq runs. */
static const struct pcase jq_cases[] = {
	/* A conversion the fast path does not render itself. */
	OK("{j: .t|strftime(\"%j\")}", "{\"t\":1565382027}", { "j" }, { "221" }),
	OK("{k: (.a | tostring), n: (.a + 1)}", "{\"a\":41}", { "k", "n" }, { "41", "42" }),
	OK("{k: .a?, j: .[\"b c\"], i: .\"d\"}", "{\"a\":\"x\",\"b c\":\"y\",\"d\":\"z\"}",
	   { "k", "j", "i" }, { "x", "y", "z" }),
	OK("{k: .a} # a comment", "{\"a\":\"x\"}", { "k" }, { "x" }),
	OK("def f: .a; {k: f}", "{\"a\":\"x\"}", { "k" }, { "x" }),
	OK("{(.name): .value}", "{\"name\":\"k\",\"value\":2}", { "k" }, { "2" }),
	OK(".", "{\"k\":\"v\",\"n\":7}", { "k", "n" }, { "v", "7" }),
	/* An empty program, or one of definitions only, is jq's identity. */
	OK("", "{\"k\":\"v\"}", { "k" }, { "v" }),
	OK("def f: 1; # nothing else", "{\"k\":\"v\"}", { "k" }, { "v" }),
	OK("{if: .a, a2: .and}", "{\"a\":\"x\",\"and\":\"y\"}", { "if", "a2" }, { "x", "y" }),
	FAIL("{k: .a} | .k", "{\"a\":\"x\"}", { "k" },
	     "MetadataExtractionFailed: the query result is string, not an object"),
	FAIL("empty", "{}", { "k" }, "MetadataExtractionFailed: the query produced no output"),
	FAIL("error(\"boom\")", "{}", { "k" }, "MetadataExtractionFailed: jq: boom"),
	FAIL("error({a: 1})", "{}", { "k" },
	     "MetadataExtractionFailed: jq: {\"a\":1} (not a string)"),
	/* The server's environment and files are not visible. */
	FAIL("{k: $ENV.PATH}", "{}", { "k" },
	     "MetadataExtractionFailed: partition key 'k' is null, not a string, number or boolean"),
	FAIL("{k: env.PATH}", "{}", { "k" },
	     "MetadataExtractionFailed: partition key 'k' is null, not a string, number or boolean"),
	FAIL("{k: (\"x\" | modulemeta)}", "{}", { "k" },
	     "MetadataExtractionFailed: jq: modulemeta is not available"),
	OK("{k: (.a | stderr)}", "{\"a\":\"x\"}", { "k" }, { "x" }),
	/* libjq 1.6 leaves the input callback unset: this read a wild pointer. */
	FAIL("{k: input}", "{}", { "k" }, "MetadataExtractionFailed: jq: break"),
	FAIL("[inputs]", "{}", { "k" }, "MetadataExtractionFailed: the query result is array, "
	     "not an object"),
};

static void test_jq_path(void **state)
{
	for (size_t i = 0; i < sizeof jq_cases / sizeof *jq_cases; i++)
		run_case(jq_cases[i].query, false, &jq_cases[i]);
}

static const struct {
	const char *query;
	const char *msg;
} bad_queries[] = {
	{ "{a: .b", "MetadataExtractionQuery is not a valid jq 1.6 expression: syntax error, "
		    "unexpected $end, expecting '}' (Unix shell quoting issues?) at <top-level>, line 1: {a: .b" },
	{ "{a: . b}", "MetadataExtractionQuery is not a valid jq 1.6 expression: syntax error, "
		      "unexpected '}' (Unix shell quoting issues?) at <top-level>, line 1: "
		      "{a: . b}" },
	{ "{a: .b}\r\n", "MetadataExtractionQuery is not a valid jq 1.6 expression: syntax "
			 "error, unexpected INVALID_CHARACTER, expecting $end (Unix shell quoting "
			 "issues?) at <top-level>, line 1: {a: .b}" },
	{ "{a: nosuchfn}", "MetadataExtractionQuery is not a valid jq 1.6 expression: "
			   "nosuchfn/0 is not defined at <top-level>, line 1: {a: nosuchfn}" },
	{ "module {a: 1}; {}", "MetadataExtractionQuery is not a valid jq 1.6 expression: "
			     "module, import and include directives are not supported" },
	{ "import \"x\" as x; {}", "MetadataExtractionQuery is not a valid jq 1.6 expression: "
				 "module not found: x" },
	{ "include \"x\"; {}", "MetadataExtractionQuery is not a valid jq 1.6 expression: "
			     "module not found: x" },
};

static void test_bad_queries(void **state)
{
	for (size_t i = 0; i < sizeof bad_queries / sizeof *bad_queries; i++) {
		struct fl_partition_query *q = (struct fl_partition_query *)(uintptr_t)1;
		struct fl_error err = { 0 };
		assert_int_equal(fl_partition_compile(bad_queries[i].query, &q, &err), FL_INVALID);
		assert_null(q);
		assert_string_equal(err.msg, bad_queries[i].msg);
	}
}

/* One state serves several queries in turn (it recompiles for each). */
static void test_state_reuse(void **state)
{
	struct fl_partition_query *a = NULL, *b = NULL;
	struct fl_partition_state *s = fl_partition_state_new();
	struct fl_error err = { 0 };
	struct fl_buf vals;
	size_t off, len;
	const char *name = "k";
	const char *ev = "{\"x\":\"X\",\"y\":\"Y\"}";

	assert_int_equal(fl_partition_compile("{k: .x} | .", &a, &err), FL_OK);
	assert_int_equal(fl_partition_compile("{k: .y} | .", &b, &err), FL_OK);
	fl_buf_init(&vals, 1024);
	for (int i = 0; i < 4; i++) {
		struct fl_partition_query *q = i % 2 ? b : a;
		fl_buf_reset(&vals);
		assert_int_equal(fl_partition_eval(q, s, ev, strlen(ev), &name, 1, &vals, &off,
						   &len, &err), FL_OK);
		assert_int_equal(len, 1);
		assert_int_equal(vals.data[off], i % 2 ? 'Y' : 'X');
	}
	/* Values past the buffer's maximum: FL_TOO_LARGE, vals unchanged. */
	fl_buf_reset(&vals);
	vals.max = 0;
	assert_int_equal(fl_partition_eval(a, s, ev, strlen(ev), &name, 1, &vals, &off, &len,
					   &err), FL_TOO_LARGE);
	assert_int_equal(vals.len, 0);
	fl_buf_free(&vals);
	fl_partition_query_free(a);
	fl_partition_query_free(b);
	fl_partition_state_free(s);
	fl_partition_query_free(NULL);
	fl_partition_state_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_and_jq_agree),
		cmocka_unit_test(test_jq_path),
		cmocka_unit_test(test_bad_queries),
		cmocka_unit_test(test_state_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
