/*
 * test_athena_csv.c - Athena's result format: values as Athena prints
 * them, CSV quoting, ColumnInfo, and reading rows back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "athena_csv.h"

static char *value_of(unsigned oid, int typmod, const char *pg, struct fl_athena_csv_col *c)
{
	struct fl_buf out, tmp;
	fl_buf_init(&out, 1 << 20);
	fl_buf_init(&tmp, 1 << 20);
	fl_athena_csv_col_init(c, oid, typmod);
	assert_int_equal(fl_athena_csv_value(c, pg, strlen(pg), &out, &tmp), FL_OK);
	fl_buf_free(&tmp);
	return fl_buf_steal(&out, NULL);
}

static void test_values(void **state)
{
	static const struct {
		unsigned oid;
		int typmod;
		const char *pg, *athena, *type;
	} cases[] = {
		{ 16, -1, "t", "true", "boolean" },
		{ 16, -1, "f", "false", "boolean" },
		{ 20, -1, "-9223372036854775808", "-9223372036854775808", "bigint" },
		{ 23, -1, "42", "42", "integer" },
		{ 21, -1, "7", "7", "smallint" },
		{ 25, -1, "a \"q\", b", "a \"q\", b", "varchar" },
		/* doubles as Java's Double.toString lays them out */
		{ 701, -1, "2.5", "2.5", "double" },
		{ 701, -1, "100", "100.0", "double" },
		{ 701, -1, "0", "0.0", "double" },
		{ 701, -1, "-0", "-0.0", "double" },
		{ 701, -1, "1e+10", "1.0E10", "double" },
		{ 701, -1, "10000000000", "1.0E10", "double" },
		{ 701, -1, "1e-05", "1.0E-5", "double" },
		{ 701, -1, "0.001", "0.001", "double" },
		{ 701, -1, "0.0001", "1.0E-4", "double" },
		{ 701, -1, "1234567.5", "1234567.5", "double" },
		{ 701, -1, "12345678", "1.2345678E7", "double" },
		{ 701, -1, "-3.14159", "-3.14159", "double" },
		{ 701, -1, "1.7976931348623157e+308", "1.7976931348623157E308", "double" },
		{ 701, -1, "NaN", "NaN", "double" },
		{ 701, -1, "-Infinity", "-Infinity", "double" },
		{ 700, -1, "1.5", "1.5", "float" },
		/* times */
		{ 1114, -1, "2026-01-02 03:04:05", "2026-01-02 03:04:05.000", "timestamp" },
		{ 1114, -1, "2026-01-02 03:04:05.5", "2026-01-02 03:04:05.500", "timestamp" },
		{ 1114, -1, "2026-01-02 03:04:05.678912", "2026-01-02 03:04:05.678", "timestamp" },
		{ 1114, -1, "infinity", "infinity", "timestamp" },
		{ 1184, -1, "2026-01-02 03:04:05.25+00", "2026-01-02 03:04:05.250 UTC",
		  "timestamp with time zone" },
		{ 1082, -1, "2026-01-02", "2026-01-02", "date" },
		{ 1083, -1, "12:00:01", "12:00:01.000", "time" },
		/* structured */
		{ 1007, -1, "{1,2,3}", "[1, 2, 3]", "array" },
		{ 1009, -1, "{a,\"b c\",NULL,\"x\\\"y\"}", "[a, b c, null, x\"y]", "array" },
		{ 1000, -1, "{t,f}", "[true, false]", "array" },
		{ 1022, -1, "{1e+10,2.5}", "[1.0E10, 2.5]", "array" },
		{ 1007, -1, "{{1,2},{3,4}}", "[[1, 2], [3, 4]]", "array" },
		{ 1007, -1, "[0:1]={5,6}", "[5, 6]", "array" },
		{ 1009, -1, "{}", "[]", "array" },
		{ 3802, -1, "{\"a\": 1, \"b\": [\"x y\", 2]}", "{\"a\":1,\"b\":[\"x y\",2]}", "json" },
		{ 17, -1, "\\x0a0bff", "0a 0b ff", "varbinary" },
		/* numeric: declared, and free (sum() of integers, avg()) */
		{ 1700, (10 << 16) + 2 + 4, "12.50", "12.50", "decimal" },
		{ 1700, -1, "123", "123", "bigint" },
		{ 1700, -1, "12.3333333333333333", "12.333333333333334", "double" },
		{ 1700, -1, "0.1000000000000000", "0.1", "double" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_athena_csv_col c;
		char *got = value_of(cases[i].oid, cases[i].typmod, cases[i].pg, &c);
		json_t *info = fl_athena_csv_column_info("x", &c);
		if (strcmp(got, cases[i].athena) != 0 ||
		    strcmp(json_string_value(json_object_get(info, "Type")), cases[i].type) != 0)
			fail_msg("case %zu: %s -> %s (%s), want %s (%s)", i, cases[i].pg, got,
				 json_string_value(json_object_get(info, "Type")), cases[i].athena,
				 cases[i].type);
		json_decref(info);
		free(got);
	}
}

static void test_column_info(void **state)
{
	struct fl_athena_csv_col c;
	fl_athena_csv_col_init(&c, 1700, (10 << 16) + 2 + 4);
	json_t *info = fl_athena_csv_column_info("amount", &c);
	assert_int_equal(json_integer_value(json_object_get(info, "Precision")), 10);
	assert_int_equal(json_integer_value(json_object_get(info, "Scale")), 2);
	assert_string_equal(json_string_value(json_object_get(info, "Label")), "amount");
	assert_true(json_is_false(json_object_get(info, "CaseSensitive")));
	json_decref(info);
	fl_athena_csv_col_init(&c, 25, -1);
	info = fl_athena_csv_column_info("s", &c);
	assert_true(json_is_true(json_object_get(info, "CaseSensitive")));
	assert_string_equal(json_string_value(json_object_get(info, "CatalogName")), "hive");
	json_decref(info);
}

static void test_fields(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "abc", "\"abc\"" },
		{ "a\"b", "\"a\"\"b\"" },
		{ "\"", "\"\"\"\"" },
		{ "x,\ny", "\"x,\ny\"" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_buf b;
		fl_buf_init(&b, 1024);
		assert_int_equal(fl_athena_csv_field(&b, cases[i].in, strlen(cases[i].in)), FL_OK);
		assert_string_equal(b.data, cases[i].out);
		fl_buf_free(&b);
	}
	struct fl_buf small;
	fl_buf_init(&small, 4);
	assert_int_equal(fl_athena_csv_field(&small, "abcdef", 6), FL_TOO_LARGE);
	fl_buf_free(&small);
}

/* Rows read back: [["v", null ...], ...] as compact JSON of the values. */
static char *read_rows(const char *text, bool txt, size_t ncols)
{
	struct fl_buf tmp;
	fl_buf_init(&tmp, 1 << 20);
	const char *p = text, *end = text + strlen(text);
	json_t *all = json_array();
	while (p < end) {
		json_t *row = fl_athena_csv_row(&p, end, txt, ncols, &tmp);
		json_t *vals = json_array(), *d;
		size_t i;
		assert_non_null(row);
		json_array_foreach(json_object_get(row, "Data"), i, d) {
			json_t *v = json_object_get(d, "VarCharValue");
			json_array_append(vals, v ? v : json_null());
		}
		json_array_append_new(all, vals);
		json_decref(row);
	}
	char *s = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	fl_buf_free(&tmp);
	return s;
}

static void test_read_back(void **state)
{
	static const struct {
		const char *text;
		bool txt;
		size_t ncols;
		const char *rows;
	} cases[] = {
		{ "\"a\",\"n\"\n\"x\",\"1\"\n", false, 0, "[[\"a\",\"n\"],[\"x\",\"1\"]]" },
		{ ",\"\",\"q\"\"q\"\n", false, 0, "[[null,\"\",\"q\\\"q\"]]" },
		{ "\"multi\nline\",\n", false, 0, "[[\"multi\\nline\",null]]" },
		{ "\"only\"", false, 0, "[[\"only\"]]" },
		{ "events\nlabels\n", true, 1, "[[\"events\"],[\"labels\"]]" },
		{ "a\tb\tc\n\n", true, 2, "[[\"a\",\"b\\tc\"],[\"\"]]" },
		{ "a\tb\n", true, 0, "[[\"a\",\"b\"]]" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = read_rows(cases[i].text, cases[i].txt, cases[i].ncols);
		if (strcmp(got, cases[i].rows) != 0)
			fail_msg("case %zu: %s, want %s", i, got, cases[i].rows);
		free(got);
	}
}

/* What the writer writes, the reader reads. */
static void test_round_trip(void **state)
{
	static const char *const values[] = { "", "plain", "with \"quotes\"", "a,b", "line\nbreak" };
	struct fl_buf b;
	fl_buf_init(&b, 1 << 16);
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		assert_int_equal(fl_buf_adds(&b, i ? "," : ""), FL_OK);
		assert_int_equal(fl_athena_csv_field(&b, values[i], strlen(values[i])), FL_OK);
	}
	assert_int_equal(fl_buf_adds(&b, ",\n"), FL_OK);   /* and a NULL */
	char *got = read_rows(b.data, false, 0);
	assert_string_equal(got, "[[\"\",\"plain\",\"with \\\"quotes\\\"\",\"a,b\",\"line\\nbreak\","
			    "null]]");
	free(got);
	fl_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_column_info),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_read_back),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
