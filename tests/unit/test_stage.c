/*
 * test_stage.c - the staged lake (stage.c, stage_table.c, stage_copy.c).
 *
 * First the conversion of lake text to COPY rows, pure and table-driven:
 * every column type with values that fit and values that do not, JSON
 * lines (bad lines, key case, SerDe mappings, escaped and duplicate keys,
 * wide objects), CSV records (quotes, newlines in quotes, \N, short rows,
 * bad UTF-8), gzip objects (several members, cut short, chunking).
 *
 * Then against a real embedded PostgreSQL with a local lake, in order:
 * names staging refuses; a partitioned NDJSON table synced and staged
 * (types, values, NULLs for what does not fit, the leaves' persistence,
 * collation and BRIN index, exactly once when staged again); a CSV table;
 * two stagers of one partition at once; the partitions a plan scans
 * (read as the query role); schema evolution (added, widened, dropped,
 * retyped columns; new partition keys); partitions registered and
 * removed; eviction under a tiny budget (held and locked leaves kept);
 * the epoch after a "crash"; eager staging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "pgembed.h"
#include "server.h"
#include "stage.h"
#include "stage_copy.h"
#include "storage.h"

static char tmp[PATH_MAX];
static char conninfo[1024];
static struct fl_pgembed *pg;
static struct fl_db *db;
static struct fl_storage *lake;
static struct fl_server srv;
static struct fl_stage *st;

/* ---- helpers: conversion ------------------------------------------------ */

/* Field i (0-based) of a COPY row, into out. */
static void field(const char *row, size_t i, char *out, size_t n)
{
	const char *p = row;
	for (size_t k = 0; k < i; k++) {
		p = strchr(p, '\t');
		assert_non_null(p);
		p++;
	}
	size_t len = strcspn(p, "\t\n");
	assert_true(len < n);
	memcpy(out, p, len);
	out[len] = '\0';
}

static struct fl_stage_copy *converter(const struct fl_stage_layout *l)
{
	struct fl_stage_copy *c = NULL;
	struct fl_error err;
	if (fl_stage_copy_new(l, &c, &err) != FL_OK)
		fail_msg("fl_stage_copy_new: %s", err.msg);
	return c;
}

/* Converts text; returns the rows (caller frees). */
static char *convert(struct fl_stage_copy *c, const char *text, size_t len, uint64_t *rows,
		     uint64_t *bad)
{
	struct fl_buf out;
	struct fl_error err;
	fl_buf_init(&out, 1 << 28);
	if (fl_stage_copy_text(c, text, len, &out, rows, bad, &err) != FL_OK)
		fail_msg("fl_stage_copy_text: %s", err.msg);
	return fl_buf_steal(&out, NULL);
}

/* gzip of in (one member) appended to out. */
static void gzip_add(const char *in, size_t n, struct fl_buf *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	size_t cap = deflateBound(&zs, (uLong)n) + 64;
	assert_int_equal(fl_buf_reserve(out, cap), FL_OK);
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (unsigned char *)out->data + out->len;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	out->len += cap - zs.avail_out;
	deflateEnd(&zs);
}

/* ---- helpers: the catalog ------------------------------------------------ */

static PGconn *acquire(void)
{
	PGconn *c = NULL;
	struct fl_error err;
	if (fl_db_acquire(db, &c, &err) != FL_OK)
		fail_msg("acquire: %s", err.msg);
	return c;
}

/* The first value of a statement's first row ("N" for NULL, "<none>"
 * without a row). */
static void query(const char *sql, int n, const char *const *p, char *out, size_t cap)
{
	PGconn *c = acquire();
	PGresult *res = NULL;
	struct fl_error err;
	if (fl_db_exec(c, sql, n, p, &res, &err) != FL_OK)
		fail_msg("%s: %s", sql, err.msg);
	snprintf(out, cap, "%s", PQntuples(res) == 0 ? "<none>" :
		 PQgetisnull(res, 0, 0) ? "N" : PQgetvalue(res, 0, 0));
	PQclear(res);
	fl_db_release(db, c);
}

static void exec_sql(const char *sql)
{
	char v[64];
	query(sql, 0, NULL, v, sizeof v);
}

static long long count(const char *sql)
{
	char v[64];
	query(sql, 0, NULL, v, sizeof v);
	return atoll(v);
}

static void assert_query(const char *sql, const char *want)
{
	char got[8192];
	query(sql, 0, NULL, got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("%s\n got  %s\n want %s", sql, got, want);
}

/* A table made as delivery makes one, then given these columns (and
 * SerDe parameters, a JSON object or NULL). */
static void make_table(const char *name, enum fl_catalog_format format,
		       const char *const *keys, size_t nkeys, const char *columns,
		       const char *serde_params)
{
	struct fl_catalog_table t;
	memset(&t, 0, sizeof t);
	snprintf(t.db, sizeof t.db, "default");
	snprintf(t.name, sizeof t.name, "%s", name);
	snprintf(t.location, sizeof t.location, "s3://lake/%s/", name);
	t.format = format;
	t.compressed = format == FL_FORMAT_JSON;
	for (size_t i = 0; i < nkeys; i++)
		snprintf(t.keys[i], sizeof t.keys[i], "%s", keys[i]);
	t.nkeys = nkeys;
	PGconn *c = acquire();
	struct fl_error err;
	if (fl_catalog_ensure_table(c, &t, &err) != FL_OK)
		fail_msg("ensure_table: %s", err.msg);
	const char *p[] = { name, columns, serde_params ? serde_params : "{}" };
	if (fl_db_exec(c, "UPDATE fl_glue_tables SET spec = jsonb_set(jsonb_set(spec, "
		       "'{StorageDescriptor,Columns}', $2::jsonb), "
		       "'{StorageDescriptor,SerdeInfo,Parameters}', "
		       "spec #> '{StorageDescriptor,SerdeInfo,Parameters}' || $3::jsonb), "
		       "version_id = version_id + 1 WHERE db = 'default' AND name = $1",
		       3, p, NULL, &err) != FL_OK)
		fail_msg("columns: %s", err.msg);
	fl_db_release(db, c);
}

static void set_columns(const char *name, const char *columns)
{
	const char *p[] = { name, columns };
	char v[16];
	query("UPDATE fl_glue_tables SET spec = jsonb_set(spec, '{StorageDescriptor,Columns}', "
	      "$2::jsonb), version_id = version_id + 1 WHERE db = 'default' AND name = $1 "
	      "RETURNING 1", 2, p, v, sizeof v);
	assert_string_equal(v, "1");
}

static void add_partition(const char *tbl, const char *const *vals, size_t n)
{
	PGconn *c = acquire();
	struct fl_error err;
	if (fl_catalog_add_partition(c, "default", tbl, vals, n, "s3://lake/x/", &err) != FL_OK)
		fail_msg("add_partition: %s", err.msg);
	fl_db_release(db, c);
}

/* Puts an object in the lake and records it in the partition. */
static void add_object(const char *tbl, const char *const *vals, size_t n, const char *key,
		       const void *data, size_t len)
{
	struct fl_error err;
	if (fl_storage_put(lake, "lake", key, data, len, &err) != FL_OK)
		fail_msg("put: %s", err.msg);
	struct fl_catalog_object o = {
		.bucket = "lake", .key = key, .stream = NULL, .kind = "crawled",
		.partition_path = tbl, .bytes = len, .records = 1,
		.min_ms = INT64_MAX, .max_ms = INT64_MIN,
		.db = "default", .tbl = tbl, .vals = vals, .nvals = n,
	};
	PGconn *c = acquire();
	if (fl_catalog_add_object(c, &o, &err) != FL_OK)
		fail_msg("add_object: %s", err.msg);
	fl_db_release(db, c);
}

static enum fl_result stage_with(struct fl_stage *s, const char *tbl, const char *const *vals,
				 size_t n, uint64_t *bytes, uint64_t *rows, struct fl_error *err)
{
	struct fl_stage_part p = { "default", tbl, vals, n };
	return fl_stage_partition(s, &p, bytes, rows, err);
}

static uint64_t stage_ok(const char *tbl, const char *const *vals, size_t n)
{
	uint64_t bytes, rows;
	struct fl_error err;
	if (stage_with(st, tbl, vals, n, &bytes, &rows, &err) != FL_OK)
		fail_msg("stage %s: %s", tbl, err.msg);
	return rows;
}

static void sync_ok(const char *tbl)
{
	struct fl_error err;
	if (fl_stage_sync_table(st, "default", tbl, &err) != FL_OK)
		fail_msg("sync %s: %s", tbl, err.msg);
}

/* ---- conversion ------------------------------------------------------------ */

static void test_col_types(void **state)
{
	(void)state;
	static const struct {
		const char *pg;
		bool ok;
		enum fl_stage_kind kind;
		bool array;
		int p, s;
	} cases[] = {
		{ "text", true, FL_STAGE_TEXT, false, 0, 0 },
		{ "bigint[]", true, FL_STAGE_BIGINT, true, 0, 0 },
		{ "double precision", true, FL_STAGE_DOUBLE, false, 0, 0 },
		{ "timestamp without time zone[]", true, FL_STAGE_TIMESTAMP, true, 0, 0 },
		{ "numeric(10,2)", true, FL_STAGE_NUMERIC, false, 10, 2 },
		{ "numeric(38,0)[]", true, FL_STAGE_NUMERIC, true, 38, 0 },
		{ "numeric", true, FL_STAGE_NUMERIC, false, 0, 0 },
		{ "numeric(1001,0)", false, FL_STAGE_UNKNOWN, false, 0, 0 },
		{ "numeric(3,4)", false, FL_STAGE_UNKNOWN, false, 0, 0 },
		{ "character varying(10)", true, FL_STAGE_UNKNOWN, false, 0, 0 },
		{ "timestamp with time zone", true, FL_STAGE_UNKNOWN, false, 0, 0 },
		{ "jsonb", true, FL_STAGE_JSONB, false, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_stage_col c;
		bool ok = fl_stage_col_type(cases[i].pg, &c);
		assert_int_equal(ok, cases[i].ok);
		if (!ok)
			continue;
		assert_int_equal(c.kind, cases[i].kind);
		assert_int_equal(c.array, cases[i].array);
		assert_int_equal(c.precision, cases[i].p);
		assert_int_equal(c.scale, cases[i].s);
	}
}

static const struct {
	const char *name, *pg;
} type_cols[] = {
	{ "t", "text" }, { "b", "bigint" }, { "i", "integer" }, { "s", "smallint" },
	{ "d", "double precision" }, { "r", "real" }, { "n", "numeric(5,2)" },
	{ "bo", "boolean" }, { "ts", "timestamp without time zone" }, { "dt", "date" },
	{ "j", "jsonb" }, { "ab", "bigint[]" }, { "at", "text[]" }, { "by", "bytea" },
	{ "u", "uuid" }, { "nu", "numeric" }, { "ats", "timestamp without time zone[]" },
	{ "k", "text" },
};
#define NTYPE_COLS (sizeof type_cols / sizeof type_cols[0])

static struct fl_stage_copy *types_converter(enum fl_stage_format format, struct fl_stage_col *cols)
{
	static const char *const vals[] = { "a\tb\\c" };
	for (size_t i = 0; i < NTYPE_COLS; i++) {
		assert_true(fl_stage_col_type(type_cols[i].pg, &cols[i]));
		cols[i].key = type_cols[i].name;
		cols[i].field = (int)i;
		cols[i].part = i == NTYPE_COLS - 1 ? 0 : -1;
	}
	struct fl_stage_layout l = { format, ',', 0, cols, NTYPE_COLS, vals, 1 };
	return converter(&l);
}

static size_t col_index(const char *name)
{
	for (size_t i = 0; i < NTYPE_COLS; i++)
		if (strcmp(type_cols[i].name, name) == 0)
			return i;
	fail_msg("no column %s", name);
	return 0;
}

static void test_json_values(void **state)
{
	(void)state;
	static const struct {
		const char *col, *json, *want;
	} cases[] = {
		{ "t", "\"abc\"", "abc" },
		{ "t", "\"a\\tb\\\\c\\n\\\"\"", "a\\tb\\\\c\\n\"" },
		{ "t", "\"x\\u0000y\"", "\\N" },
		{ "t", "\"\\u00e9\\ud83d\\ude00\"", "\xc3\xa9\xf0\x9f\x98\x80" },
		{ "t", "12.5", "12.5" },
		{ "t", "true", "true" },
		{ "t", "{\"a\":\t[1, \"\\\\\"]}", "{\"a\":\\t[1, \"\\\\\\\\\"]}" },
		{ "t", "null", "\\N" },
		{ "b", "9223372036854775807", "9223372036854775807" },
		{ "b", "9223372036854775808", "\\N" },
		{ "b", "-9223372036854775808", "-9223372036854775808" },
		{ "b", "-9223372036854775809", "\\N" },
		{ "b", "1.5", "\\N" },
		{ "b", "1e3", "\\N" },
		{ "b", "\"42\"", "42" },
		{ "b", "\"4 2\"", "\\N" },
		{ "b", "true", "\\N" },
		{ "b", "[1]", "\\N" },
		{ "i", "2147483647", "2147483647" },
		{ "i", "2147483648", "\\N" },
		{ "s", "-32768", "-32768" },
		{ "s", "32768", "\\N" },
		{ "d", "1.5", "1.5" },
		{ "d", "-2.5E-3", "-2.5E-3" },
		{ "d", "1e308", "1e308" },
		{ "d", "1e309", "\\N" },
		{ "d", "1e-400", "\\N" },
		{ "d", "4.9e-324", "4.9e-324" },
		{ "d", "\"3.25\"", "3.25" },
		{ "d", "\"NaN\"", "\\N" },
		{ "d", "\"Infinity\"", "\\N" },
		{ "d", "\"0x10\"", "\\N" },
		{ "r", "3.4e38", "3.4e38" },
		{ "r", "3.5e38", "\\N" },
		{ "r", "1e-50", "\\N" },
		{ "n", "123.456", "123.46" },
		{ "n", "999.994", "999.99" },
		{ "n", "999.995", "\\N" },
		{ "n", "-99.995", "-100.00" },
		{ "n", "-0.004", "0.00" },
		{ "n", "0.005", "0.01" },
		{ "n", "1e2", "100.00" },
		{ "n", "12.3e-1", "1.23" },
		{ "n", "\"12\"", "12.00" },
		{ "n", "0", "0.00" },
		{ "n", "1000", "\\N" },
		{ "nu", "1.5e300", "1.5e300" },
		{ "nu", "1e1001", "\\N" },
		{ "bo", "true", "t" },
		{ "bo", "false", "f" },
		{ "bo", "\"TRUE\"", "t" },
		{ "bo", "\"False\"", "f" },
		{ "bo", "1", "\\N" },
		{ "bo", "\"yes\"", "\\N" },
		{ "ts", "\"2026-01-01T00:00:00Z\"", "2026-01-01 00:00:00" },
		{ "ts", "\"2026-01-01T00:00:00.123Z\"", "2026-01-01 00:00:00.123" },
		{ "ts", "\"2026-01-01 12:34:56\"", "2026-01-01 12:34:56" },
		{ "ts", "\"2026-01-01T12:34\"", "2026-01-01 12:34:00" },
		{ "ts", "\"2026-01-01\"", "2026-01-01 00:00:00" },
		{ "ts", "\"2026-01-01T01:30:00+02:00\"", "2025-12-31 23:30:00" },
		{ "ts", "\"2026-01-01T22:00:00-0330\"", "2026-01-02 01:30:00" },
		{ "ts", "\"2024-02-29T23:59:59.1234567Z\"", "2024-02-29 23:59:59.123456" },
		{ "ts", "\"2023-02-29T00:00:00Z\"", "\\N" },
		{ "ts", "\"2026-13-01T00:00:00Z\"", "\\N" },
		{ "ts", "\"2026-01-01T24:00:00Z\"", "\\N" },
		{ "ts", "\"2026-01-01T00:00:60Z\"", "\\N" },
		{ "ts", "\"2026-01-01T00:00:00 junk\"", "\\N" },
		{ "ts", "\"0000-01-01T00:00:00Z\"", "\\N" },
		{ "ts", "1767225600", "\\N" },
		{ "dt", "\"2024-02-29\"", "2024-02-29" },
		{ "dt", "\"2023-02-29\"", "\\N" },
		{ "dt", "\"2024-02-29T00:00:00Z\"", "\\N" },
		{ "dt", "20240229", "\\N" },
		{ "j", "{\"a\":\"x\\ty\"}", "{\"a\":\"x\\\\ty\"}" },
		{ "j", "{\"a\":\"\\u0000\"}", "\\N" },
		{ "j", "{\"a\":\"\\\\u0000\"}", "{\"a\":\"\\\\\\\\u0000\"}" },
		{ "j", "[1e5000]", "\\N" },
		{ "j", "[1.5e-7, -3]", "[1.5e-7, -3]" },
		{ "j", "\"s\"", "\"s\"" },
		{ "j", "null", "\\N" },
		{ "ab", "[1,2,null,\"3\",1.5,[1]]", "{\"1\",\"2\",NULL,\"3\",NULL,NULL}" },
		{ "ab", "[]", "{}" },
		{ "ab", "\"x\"", "\\N" },
		{ "ab", "7", "\\N" },
		{ "at", "[\"a\\\"b\",\"c\\\\d\",1,{\"x\":1}]",
		  "{\"a\\\\\"b\",\"c\\\\\\\\d\",\"1\",\"{\\\\\"x\\\\\":1}\"}" },
		{ "at", "[\"tab\\there\"]", "{\"tab\\there\"}" },
		{ "ats", "[\"2026-01-01T00:00:00Z\",\"bad\",1]", "{\"2026-01-01 00:00:00\",NULL,NULL}" },
		{ "by", "\"AB\"", "\\\\x4142" },
		{ "by", "1", "\\N" },
		{ "u", "\"0e4b5b9e-0000-4000-8000-000000000000\"", "\\N" },
	};
	struct fl_stage_col cols[NTYPE_COLS] = { 0 };
	struct fl_stage_copy *c = types_converter(FL_STAGE_JSON, cols);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char line[512], got[512];
		uint64_t rows, bad;
		size_t idx = col_index(cases[i].col);
		int n = snprintf(line, sizeof line, "{\"%s\": %s}\n", cases[i].col, cases[i].json);
		char *out = convert(c, line, (size_t)n, &rows, &bad);
		assert_int_equal(rows, 1);
		assert_int_equal(bad, 0);
		field(out, idx, got, sizeof got);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s = %s: got '%s', want '%s'", cases[i].col, cases[i].json, got,
				 cases[i].want);
		for (size_t k = 0; k + 1 < NTYPE_COLS; k++) {
			if (k == idx)
				continue;
			field(out, k, got, sizeof got);
			assert_string_equal(got, "\\N");
		}
		field(out, NTYPE_COLS - 1, got, sizeof got);
		assert_string_equal(got, "a\\tb\\\\c");  /* the partition value, escaped */
		assert_int_equal(out[strlen(out) - 1], '\n');
		free(out);
	}
	fl_stage_copy_free(c);
}

static void test_json_lines(void **state)
{
	(void)state;
	static const char *const vals[] = { "p" };
	struct fl_stage_col cols[4] = { 0 };
	for (size_t i = 0; i < 4; i++) {
		assert_true(fl_stage_col_type(i == 1 ? "bigint" : "text", &cols[i]));
		cols[i].part = i == 3 ? 0 : -1;
		cols[i].field = -1;
	}
	cols[0].key = "name";
	cols[1].key = "n";
	cols[2].key = "User-Id";  /* a SerDe mapping to a key no column could be */
	cols[3].key = "name";     /* the partition key: never read from the line */
	struct fl_stage_layout l = { FL_STAGE_JSON, 0, 0, cols, 4, vals, 1 };
	struct fl_stage_copy *c = converter(&l);
	static const struct {
		const char *text;
		uint64_t rows, bad;
		const char *want;
	} cases[] = {
		{ "{\"name\":\"a\",\"n\":1,\"user-id\":\"u\"}\n", 1, 0, "a\t1\tu\tp\n" },
		{ "{\"NAME\":\"a\",\"N\":2}", 1, 0, "a\t2\t\\N\tp\n" },
		{ "{\"n\":1,\"n\":2}\r\n", 1, 0, "\\N\t2\t\\N\tp\n" },
		{ "{\"\\u006eame\":\"esc\"}\n", 1, 0, "esc\t\\N\t\\N\tp\n" },
		{ "\n   \n{}\n\n", 1, 0, "\\N\t\\N\t\\N\tp\n" },
		{ "not json\n[1,2]\n{\"n\":1\n{} x\n\"s\"\n{\"n\":1}", 1, 5, "\\N\t1\t\\N\tp\n" },
		{ "{\"n\": 01}\n{\"t\":\"\xff\"}\n", 0, 2, "" },
		{ "  {\"n\" : 3 }  \n", 1, 0, "\\N\t3\t\\N\tp\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t rows, bad;
		char *out = convert(c, cases[i].text, strlen(cases[i].text), &rows, &bad);
		if (rows != cases[i].rows || bad != cases[i].bad || strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: %llu rows %llu bad '%s'", i, (unsigned long long)rows,
				 (unsigned long long)bad, out);
		free(out);
	}
	/* A wide object (more members than one scan reads): the last key
	 * still matches. */
	struct fl_buf wide;
	fl_buf_init(&wide, 1 << 20);
	assert_int_equal(fl_buf_addc(&wide, '{'), FL_OK);
	for (int i = 0; i < 400; i++)
		assert_int_equal(fl_buf_printf(&wide, "\"k%d\":%d,", i, i), FL_OK);
	assert_int_equal(fl_buf_adds(&wide, "\"N\":77}\n"), FL_OK);
	uint64_t rows, bad;
	char *out = convert(c, wide.data, wide.len, &rows, &bad);
	assert_string_equal(out, "\\N\t77\t\\N\tp\n");
	free(out);
	fl_buf_free(&wide);
	fl_stage_copy_free(c);
}

static void test_csv_records(void **state)
{
	(void)state;
	struct fl_stage_col cols[4] = { 0 };
	static const char *const types[] = { "bigint", "text", "double precision", "text[]" };
	for (size_t i = 0; i < 4; i++) {
		assert_true(fl_stage_col_type(types[i], &cols[i]));
		cols[i].part = -1;
		cols[i].field = (int)i;
		cols[i].key = NULL;
	}
	cols[2].field = 3;  /* fields 2 and 3 swap places */
	cols[3].field = 2;
	struct fl_stage_layout l = { FL_STAGE_CSV, ',', 1, cols, 4, NULL, 0 };
	struct fl_stage_copy *c = converter(&l);
	const char text[] =
		"id,name,arr,score\r\n"
		"1,plain,\"[\"\"x\"\"]\",1.5\r\n"
		"2,\"quoted, with comma\",,\"2\"\r\n"
		"3,\"multi\nline \"\"q\"\"\",,bad\n"
		"\\N,,,\n"
		"\n"
		"4\n"
		"5,\xff\xfe,\"[1,2]\",1e400\n"
		"6,\"tab\there\"junk,x,7,extra,fields";
	uint64_t rows, bad;
	char *out = convert(c, text, sizeof text - 1, &rows, &bad);
	assert_int_equal(rows, 7);
	assert_int_equal(bad, 0);
	assert_string_equal(out,
		"1\tplain\t1.5\t{\"x\"}\n"
		"2\tquoted, with comma\t2\t\\N\n"
		"3\tmulti\\nline \"q\"\t\\N\t\\N\n"
		"\\N\t\t\\N\t\\N\n"
		"4\t\\N\t\\N\t\\N\n"
		"5\t\\N\t\\N\t{\"1\",\"2\"}\n"
		"6\ttab\\there\t7\t\\N\n");
	free(out);
	fl_stage_copy_free(c);
	/* Another delimiter, no header. */
	l.delim = '|';
	l.skip_lines = 0;
	c = converter(&l);
	out = convert(c, "1|a,b|x|2\n", 10, &rows, &bad);
	assert_string_equal(out, "1\ta,b\t2\t\\N\n");
	free(out);
	fl_stage_copy_free(c);
}

struct chunks {
	struct fl_buf all;
	int calls;
	bool whole_rows;
};

static enum fl_result collect(void *arg, const char *rows, size_t n, struct fl_error *err)
{
	struct chunks *ch = arg;
	(void)err;
	ch->calls++;
	ch->whole_rows &= n > 0 && rows[n - 1] == '\n';
	return fl_buf_add(&ch->all, rows, n);
}

static void test_objects(void **state)
{
	(void)state;
	struct fl_stage_col col = { 0 };
	assert_true(fl_stage_col_type("bigint", &col));
	col.part = -1;
	col.field = -1;
	col.key = "n";
	struct fl_stage_layout l = { FL_STAGE_JSON, 0, 0, &col, 1, NULL, 0 };
	struct fl_stage_copy *c = converter(&l);
	struct fl_buf gz;
	struct fl_error err;
	uint64_t rows, bad;
	fl_buf_init(&gz, 1 << 28);
	/* Two members; the first ends inside a line that the second ends. */
	gzip_add("{\"n\":1}\n{\"n\":", 13, &gz);
	size_t first = gz.len;
	gzip_add("2}\n{\"n\":3}", 10, &gz);
	struct chunks ch = { .whole_rows = true };
	fl_buf_init(&ch.all, 1 << 28);
	assert_int_equal(fl_stage_copy_object(c, gz.data, gz.len, collect, &ch, &rows, &bad, &err),
			 FL_OK);
	assert_int_equal(rows, 3);
	assert_int_equal(bad, 0);
	assert_string_equal(ch.all.data, "1\n2\n3\n");
	/* Cut short (in the second member's header): what came before is
	 * kept, the break is one bad line. */
	fl_buf_reset(&ch.all);
	assert_int_equal(fl_stage_copy_object(c, gz.data, first + 5, collect, &ch, &rows, &bad,
					      &err), FL_OK);
	assert_int_equal(rows, 1);
	assert_int_equal(bad, 1);
	assert_string_equal(ch.all.data, "1\n");
	/* Plain text, and trailing garbage after a member. */
	fl_buf_reset(&ch.all);
	assert_int_equal(fl_stage_copy_object(c, "{\"n\":5}", 7, collect, &ch, &rows, &bad, &err),
			 FL_OK);
	assert_string_equal(ch.all.data, "5\n");
	/* Many rows: handed over in chunks of whole rows. */
	struct fl_buf big;
	fl_buf_init(&big, 1 << 28);
	for (int i = 0; i < 300000; i++)
		assert_int_equal(fl_buf_printf(&big, "{\"n\":%d}\n", i), FL_OK);
	fl_buf_reset(&gz);
	gzip_add(big.data, big.len, &gz);
	fl_buf_reset(&ch.all);
	ch.calls = 0;
	assert_int_equal(fl_stage_copy_object(c, gz.data, gz.len, collect, &ch, &rows, &bad, &err),
			 FL_OK);
	assert_int_equal(rows, 300000);
	assert_true(ch.calls >= 2);
	assert_true(ch.whole_rows);
	/* An emit failure stops the object and is returned. */
	fl_buf_free(&ch.all);
	fl_buf_init(&ch.all, 100);
	assert_int_equal(fl_stage_copy_object(c, gz.data, gz.len, collect, &ch, &rows, &bad, &err),
			 FL_TOO_LARGE);
	/* A line past FL_STAGE_LINE_MAX is dropped (once), the rest kept. */
	fl_buf_reset(&big);
	assert_int_equal(fl_buf_adds(&big, "{\"n\":1}\n{\"t\":\""), FL_OK);
	assert_int_equal(fl_buf_reserve(&big, FL_STAGE_LINE_MAX + 4096), FL_OK);
	memset(big.data + big.len, 'a', FL_STAGE_LINE_MAX + 1024);
	big.len += FL_STAGE_LINE_MAX + 1024;
	assert_int_equal(fl_buf_adds(&big, "\"}\n{\"n\":2}\n"), FL_OK);
	fl_buf_reset(&gz);
	gzip_add(big.data, big.len, &gz);
	fl_buf_free(&ch.all);
	fl_buf_init(&ch.all, 1 << 20);
	assert_int_equal(fl_stage_copy_object(c, gz.data, gz.len, collect, &ch, &rows, &bad, &err),
			 FL_OK);
	assert_int_equal(rows, 2);
	assert_int_equal(bad, 1);
	assert_string_equal(ch.all.data, "1\n2\n");
	fl_buf_free(&big);
	fl_buf_free(&gz);
	fl_buf_free(&ch.all);
	fl_stage_copy_free(c);
}

/* ---- against PostgreSQL ----------------------------------------------------- */

static void test_start(void **state)
{
	(void)state;
	char dir[PATH_MAX + 8];
	struct fl_error err = { .code = FL_OK };
	snprintf(dir, sizeof dir, "%s/pg", tmp);
	if (fl_pgembed_start(dir, &pg, conninfo, sizeof conninfo, &err) != FL_OK)
		fail_msg("fl_pgembed_start: %s", err.msg);
	if (fl_db_open(conninfo, 8, &db, &err) != FL_OK)
		fail_msg("fl_db_open: %s", err.msg);
	snprintf(dir, sizeof dir, "%s/lake", tmp);
	if (fl_storage_local_open(dir, &lake, &err) != FL_OK)
		fail_msg("storage: %s", err.msg);
	srv.db = db;
	srv.storage = lake;
	if (fl_stage_new(&srv, UINT64_C(1) << 40, &st, &err) != FL_OK)
		fail_msg("fl_stage_new: %s", err.msg);
	assert_int_equal(count("SELECT count(*) FROM pg_roles WHERE rolname = 'fl_query' AND "
			       "NOT rolcanlogin"), 1);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_epoch"), 1);
	assert_int_equal(fl_stage_bytes(st), 0);
	/* A second stage of the same catalog keeps the epoch. */
	struct fl_stage *other;
	assert_int_equal(fl_stage_new(&srv, 1, &other, &err), FL_OK);
	fl_stage_free(other);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_epoch"), 1);
}

static void test_names(void **state)
{
	(void)state;
	static const char *const bad_dbs[] = { "public", "information_schema", "pg_catalog",
					       "pg_toast", "fl_trino", "Bad-Name", "" };
	struct fl_error err;
	for (size_t i = 0; i < sizeof bad_dbs / sizeof bad_dbs[0]; i++)
		assert_int_equal(fl_stage_sync_table(st, bad_dbs[i], "t", &err), FL_INVALID);
	assert_int_equal(fl_stage_sync_table(st, "public", "t", &err), FL_INVALID);
	assert_non_null(strstr(err.msg, "public"));
	assert_int_equal(fl_stage_sync_table(st, "default", "nope", &err), FL_NOT_FOUND);
	assert_int_equal(fl_stage_sync_table(st, "default", "x\"; DROP TABLE y", &err), FL_INVALID);
	char longname[80];
	memset(longname, 'a', 70);
	longname[70] = '\0';
	assert_int_equal(fl_stage_sync_table(st, "default", longname, &err), FL_INVALID);
	assert_int_equal(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'default'"), 0);
}

#define EVENTS_COLUMNS "[" \
	"{\"Name\":\"event_uuid\",\"Type\":\"string\"}," \
	"{\"Name\":\"created_at\",\"Type\":\"bigint\"}," \
	"{\"Name\":\"amount\",\"Type\":\"double\"}," \
	"{\"Name\":\"flag\",\"Type\":\"boolean\"}," \
	"{\"Name\":\"created_datetime\",\"Type\":\"timestamp\"}," \
	"{\"Name\":\"tags\",\"Type\":\"array<string>\"}," \
	"{\"Name\":\"payload\",\"Type\":\"struct<a:bigint,b:array<boolean>>\"}," \
	"{\"Name\":\"nums\",\"Type\":\"array<bigint>\"}," \
	"{\"Name\":\"day\",\"Type\":\"date\"}," \
	"{\"Name\":\"price\",\"Type\":\"decimal(6,2)\"}," \
	"{\"Name\":\"renamed\",\"Type\":\"string\"}]"

static const char *const keys2[] = { "event_type", "dt" };
static const char *const part_a[] = { "a", "2026-01-01" };
static const char *const part_b[] = { "b", "2026-01-01" };
static const char *const part_c[] = { "c", "2026-01-02" };
static const char *const part_odd[] = { "it's, {odd} \"v\" \\", "2026-01-03" };

#define U1 "{\"event_uuid\":\"u1\",\"created_at\":1767225600,\"amount\":12.5,\"flag\":true," \
	"\"created_datetime\":\"2026-01-01T00:00:00.123Z\",\"tags\":[\"x\",\"y\\\"z\"]," \
	"\"payload\":{\"a\":1,\"b\":[true]},\"nums\":[1,2,3],\"day\":\"2026-01-01\"," \
	"\"price\":\"19.999\",\"Old-Name\":\"renamed!\",\"event_type\":\"IGNORED\"}"
#define U2 "{\"event_uuid\":\"u2\",\"created_at\":\"notanumber\",\"amount\":\"1e999\"," \
	"\"flag\":\"maybe\",\"created_datetime\":\"2026-02-30T00:00:00Z\",\"tags\":\"notarray\"," \
	"\"payload\":{\"a\":\"\\u0000\"},\"nums\":[1,\"x\",null],\"day\":20260101," \
	"\"price\":123456.0}"
#define U3 "{\"EVENT_UUID\":\"u3\",\"Created_At\":-5,\"amount\":3,\"flag\":false," \
	"\"created_datetime\":\"2026-01-01 10:00:00\",\"nums\":[],\"payload\":null}"

static void test_sync_and_stage_json(void **state)
{
	(void)state;
	struct fl_error err;
	make_table("events", FL_FORMAT_JSON, keys2, 2, EVENTS_COLUMNS,
		   "{\"mapping.renamed\":\"Old-Name\"}");
	add_partition("events", part_a, 2);
	add_partition("events", part_b, 2);
	add_partition("events", part_c, 2);
	add_partition("events", part_odd, 2);
	struct fl_buf o1;
	fl_buf_init(&o1, 1 << 20);
	gzip_add(U1 "\nthis is not json\n", strlen(U1 "\nthis is not json\n"), &o1);
	gzip_add(U2 "\n" U3 "\n{\"event_uuid\":\"u4\",", strlen(U2 "\n" U3 "\n{\"event_uuid\":\"u4\","),
		 &o1);
	add_object("events", part_a, 2, "events/a/o1.gz", o1.data, o1.len);
	const char o2[] = "{\"event_uuid\":\"u5\",\"amount\":1.25e2}\n\n";
	add_object("events", part_a, 2, "events/a/o2.json", o2, sizeof o2 - 1);
	add_object("events", part_b, 2, "events/b/o3.json", "{\"event_uuid\":\"b1\"}", 19);
	add_object("events", part_odd, 2, "events/odd/o.json", "{\"event_uuid\":\"odd\"}", 20);

	sync_ok("events");
	/* Nothing changed: the cheap path, which takes no DDL lock (another
	 * session holds it). */
	PGconn *lk = acquire();
	PGresult *lr = NULL;
	assert_int_equal(fl_db_exec(lk, "SELECT pg_advisory_lock(hashtextextended("
				    "'fl_stage:default.events', 0))", 0, NULL, &lr, &err), FL_OK);
	PQclear(lr);
	sync_ok("events");
	assert_int_equal(fl_db_exec(lk, "SELECT pg_advisory_unlock(hashtextextended("
				    "'fl_stage:default.events', 0))", 0, NULL, &lr, &err), FL_OK);
	PQclear(lr);
	fl_db_release(db, lk);
	assert_query("SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' "
		     "ORDER BY attnum) FROM pg_attribute WHERE attrelid = '\"default\".events'::regclass "
		     "AND attnum > 0 AND NOT attisdropped",
		     "event_uuid:text,created_at:bigint,amount:double precision,flag:boolean,"
		     "created_datetime:timestamp without time zone,tags:text[],payload:jsonb,"
		     "nums:bigint[],day:date,price:numeric(6,2),renamed:text,event_type:text,dt:text");
	assert_query("SELECT relkind::text || relpersistence::text FROM pg_class WHERE oid = "
		     "'\"default\".events'::regclass", "pp");
	assert_query("SELECT string_agg(c.collname, ',' ORDER BY a.attnum) FROM pg_attribute a JOIN "
		     "pg_collation c ON c.oid = a.attcollation WHERE a.attrelid = "
		     "'\"default\".events'::regclass AND a.attname IN ('event_type', 'dt')", "C,C");
	/* Four leaves (unlogged, with the BRIN index), four first levels. */
	assert_int_equal(count("SELECT count(*) FROM fl_stage_partitions WHERE tbl = 'events'"), 4);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_partitions s JOIN pg_class c ON "
			       "c.relname = s.relname WHERE s.tbl = 'events' AND c.relpersistence = 'u' "
			       "AND c.relkind = 'r' AND c.relname ~ '^p_[0-9a-f]{16}$'"), 4);
	assert_int_equal(count("SELECT count(*) FROM pg_inherits WHERE inhparent = "
			       "'\"default\".events'::regclass"), 4);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_partitions s JOIN pg_indexes i ON "
			       "i.schemaname = 'default' AND i.tablename = s.relname WHERE "
			       "s.tbl = 'events' AND i.indexdef LIKE '%brin%created_datetime%'"), 4);

	uint64_t bytes, rows;
	assert_int_equal(stage_with(st, "events", part_a, 2, &bytes, &rows, &err), FL_OK);
	assert_int_equal(rows, 4);
	assert_int_equal(bytes, o1.len + sizeof o2 - 1);
	assert_query("SELECT string_agg(key || '=' || rows || '/' || bad, ',' ORDER BY key) FROM "
		     "fl_stage_objects WHERE tbl = 'events'",
		     "events/a/o1.gz=3/2,events/a/o2.json=1/0");
	assert_query("SELECT concat_ws('|', event_uuid, created_at, amount, flag, created_datetime, "
		     "tags, payload, nums, day, price, renamed, event_type, dt) FROM "
		     "\"default\".events WHERE event_uuid = 'u1'",
		     "u1|1767225600|12.5|t|2026-01-01 00:00:00.123|{x,\"y\\\"z\"}|"
		     "{\"a\": 1, \"b\": [true]}|{1,2,3}|2026-01-01|20.00|renamed!|a|2026-01-01");
	assert_query("SELECT concat_ws('|', event_uuid, coalesce(created_at::text, 'N'), "
		     "coalesce(amount::text, 'N'), coalesce(flag::text, 'N'), "
		     "coalesce(created_datetime::text, 'N'), coalesce(tags::text, 'N'), "
		     "coalesce(payload::text, 'N'), nums, coalesce(day::text, 'N'), "
		     "coalesce(price::text, 'N')) FROM \"default\".events WHERE event_uuid = 'u2'",
		     "u2|N|N|N|N|N|N|{1,NULL,NULL}|N|N");
	assert_query("SELECT concat_ws('|', event_uuid, created_at, amount, flag, created_datetime, "
		     "nums, coalesce(payload::text, 'N')) FROM \"default\".events WHERE "
		     "event_uuid = 'u3'", "u3|-5|3|f|2026-01-01 10:00:00|{}|N");
	assert_query("SELECT amount FROM \"default\".events WHERE event_uuid = 'u5'", "125");
	assert_query("SELECT staged_rows || ' ' || (staged_bytes > 0) FROM fl_stage_partitions "
		     "WHERE tbl = 'events' AND vals = '{a,2026-01-01}'", "4 true");

	/* Staged again: nothing added, the same lake bytes. */
	assert_int_equal(stage_with(st, "events", part_a, 2, &bytes, &rows, &err), FL_OK);
	assert_int_equal(rows, 0);
	assert_int_equal(bytes, o1.len + sizeof o2 - 1);
	assert_int_equal(count("SELECT count(*) FROM \"default\".events"), 4);
	/* A value that needs quoting everywhere. */
	assert_int_equal(stage_ok("events", part_odd, 2), 1);
	assert_query("SELECT event_type FROM \"default\".events WHERE event_uuid = 'odd'",
		     part_odd[0]);
	assert_true(fl_stage_bytes(st) > 0);
	/* Not a registered partition. */
	static const char *const nope[] = { "zz", "2026-01-01" };
	assert_int_equal(stage_with(st, "events", nope, 2, &bytes, &rows, &err), FL_NOT_FOUND);
	fl_buf_free(&o1);
}

static void test_stage_csv(void **state)
{
	(void)state;
	make_table("sales", FL_FORMAT_CSV, NULL, 0,
		   "[{\"Name\":\"id\",\"Type\":\"bigint\"},{\"Name\":\"name\",\"Type\":\"string\"},"
		   "{\"Name\":\"score\",\"Type\":\"double\"},{\"Name\":\"at\",\"Type\":\"timestamp\"}]",
		   NULL);
	const char csv[] = "id,name,score,at\r\n1,plain,1.5,2026-01-01 00:00:00\r\n"
			   "2,\"quoted, with comma\",\"2\",\r\n"
			   "3,\"multi\nline \"\"q\"\"\",bad,2026-01-01T00:00:00Z\n"
			   "\\N,,,\n4\n5,\xff\xfe,1,\n";
	add_object("sales", NULL, 0, "sales/a.csv", csv, sizeof csv - 1);
	sync_ok("sales");
	assert_query("SELECT relkind::text || relpersistence::text FROM pg_class WHERE oid = "
		     "'\"default\".sales'::regclass", "ru");
	assert_int_equal(stage_ok("sales", NULL, 0), 6);
	assert_query("SELECT string_agg(concat_ws('|', coalesce(id::text, 'N'), coalesce(name, 'N'), "
		     "coalesce(score::text, 'N'), coalesce(at::text, 'N')), ';' ORDER BY id NULLS LAST) "
		     "FROM \"default\".sales",
		     "1|plain|1.5|2026-01-01 00:00:00;2|quoted, with comma|2|N;"
		     "3|multi\nline \"q\"|N|2026-01-01 00:00:00;4|N|N|N;5|N|1|N;N||N|N");
	assert_int_equal(stage_ok("sales", NULL, 0), 0);
}

struct stager {
	const char *const *vals;
	uint64_t rows;
	enum fl_result r;
};

static void *stage_thread(void *arg)
{
	struct stager *s = arg;
	uint64_t bytes;
	struct fl_error err;
	s->r = stage_with(st, "conc", s->vals, 1, &bytes, &s->rows, &err);
	if (s->r != FL_OK)
		print_error("stage: %s\n", err.msg);
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	static const char *const k[] = { "k" };
	static const char *const x[] = { "x" };
	make_table("conc", FL_FORMAT_JSON, k, 1, "[{\"Name\":\"n\",\"Type\":\"bigint\"}]", NULL);
	add_partition("conc", x, 1);
	struct fl_buf text, gz;
	fl_buf_init(&text, 1 << 24);
	fl_buf_init(&gz, 1 << 24);
	for (int o = 0; o < 6; o++) {
		fl_buf_reset(&text);
		fl_buf_reset(&gz);
		for (int i = 0; i < 3000; i++)
			assert_int_equal(fl_buf_printf(&text, "{\"n\":%d}\n", o * 3000 + i), FL_OK);
		gzip_add(text.data, text.len, &gz);
		char key[64];
		snprintf(key, sizeof key, "conc/o%d.gz", o);
		add_object("conc", x, 1, key, gz.data, gz.len);
	}
	fl_buf_free(&text);
	fl_buf_free(&gz);
	sync_ok("conc");
	struct stager a = { x, 0, FL_OK }, b = { x, 0, FL_OK };
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, stage_thread, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, stage_thread, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.r, FL_OK);
	assert_int_equal(b.r, FL_OK);
	assert_int_equal(a.rows + b.rows, 18000);
	assert_int_equal(count("SELECT count(*) FROM \"default\".conc"), 18000);
	assert_int_equal(count("SELECT count(DISTINCT n) FROM \"default\".conc"), 18000);
	assert_int_equal(count("SELECT sum(rows) FROM fl_stage_objects WHERE tbl = 'conc'"), 18000);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_objects WHERE tbl = 'conc'"), 6);
	assert_int_equal(count("SELECT staged_rows FROM fl_stage_partitions WHERE tbl = 'conc'"),
			 18000);
}

/* The partitions of a plan, on a connection in the query role. */
static enum fl_result plan(const char *sql, struct fl_stage_parts *parts, char *got, size_t n)
{
	PGconn *c = acquire();
	struct fl_error err;
	assert_int_equal(fl_db_exec(c, "BEGIN READ ONLY", 0, NULL, NULL, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "SET LOCAL ROLE fl_query", 0, NULL, NULL, &err), FL_OK);
	enum fl_result r = fl_stage_plan_parts(st, c, sql, parts, &err);
	got[0] = '\0';
	for (size_t i = 0; r == FL_OK && i < parts->n; i++) {
		size_t len = strlen(got);
		snprintf(got + len, n - len, "%s%s.%s(", i ? ";" : "", parts->items[i].db,
			 parts->items[i].tbl);
		for (size_t k = 0; k < parts->items[i].nvals; k++) {
			len = strlen(got);
			snprintf(got + len, n - len, "%s%s", k ? "," : "", parts->items[i].vals[k]);
		}
		len = strlen(got);
		snprintf(got + len, n - len, ")");
	}
	if (r == FL_OK) {
		/* The role may read what it planned. */
		PGresult *res = NULL;
		assert_int_equal(fl_db_exec(c, sql, 0, NULL, &res, &err), FL_OK);
		PQclear(res);
	}
	assert_int_equal(fl_db_exec(c, "ROLLBACK", 0, NULL, NULL, &err), FL_OK);
	fl_db_release(db, c);
	return r;
}

/* fl_stage_ready: which partitions of a plan need no staging, and the
 * lake bytes of each, in one statement. */
static void test_ready(void **state)
{
	(void)state;
	static const char *const nope[] = { "zz", "2026-01-01" };
	static const char ja[] = "{\"event_uuid\":\"ra\"}\n";
	static const char jb[] = "{\"event_uuid\":\"rb\"}\n{\"event_uuid\":\"rb2\"}\n";
	struct fl_error err;
	make_table("ready", FL_FORMAT_JSON, keys2, 2, EVENTS_COLUMNS, NULL);
	add_partition("ready", part_a, 2);
	add_partition("ready", part_b, 2);
	add_partition("ready", part_c, 2);   /* no objects */
	add_object("ready", part_a, 2, "ready/a/1.json", ja, sizeof ja - 1);
	add_object("ready", part_b, 2, "ready/b/1.json", jb, sizeof jb - 1);
	sync_ok("ready");

	struct fl_stage_part items[] = {
		{ "default", "ready", part_a, 2 }, { "default", "ready", part_b, 2 },
		{ "default", "ready", part_c, 2 }, { "default", "ready", nope, 2 },
	};
	struct fl_stage_parts parts = { items, 4, NULL };
	bool ready[4];
	uint64_t bytes[4];
	assert_int_equal(fl_stage_ready(st, &parts, ready, bytes, &err), FL_OK);
	assert_false(ready[0]);
	assert_false(ready[1]);
	assert_true(ready[2]);    /* nothing to stage */
	assert_false(ready[3]);   /* not a partition: fl_stage_partition says so */
	assert_int_equal(bytes[0], sizeof ja - 1);
	assert_int_equal(bytes[1], sizeof jb - 1);
	assert_int_equal(bytes[2], 0);
	assert_int_equal(bytes[3], 0);

	assert_int_equal(stage_ok("ready", part_a, 2), 1);
	/* The filled leaf was vacuumed: its page is all-visible. */
	assert_query("SELECT c.relpages || '/' || c.relallvisible FROM fl_stage_partitions s "
		     "JOIN pg_class c ON c.relname = s.relname WHERE s.tbl = 'ready' AND "
		     "s.vals = '{a,2026-01-01}'", "1/1");
	assert_int_equal(fl_stage_ready(st, &parts, ready, bytes, &err), FL_OK);
	assert_true(ready[0]);
	assert_false(ready[1]);
	/* An object delivered after staging: not ready until it is staged. */
	add_object("ready", part_a, 2, "ready/a/2.json", ja, sizeof ja - 1);
	assert_int_equal(fl_stage_ready(st, &parts, ready, bytes, &err), FL_OK);
	assert_false(ready[0]);
	assert_int_equal(bytes[0], 2 * (sizeof ja - 1));
	assert_int_equal(stage_ok("ready", part_a, 2), 1);
	assert_int_equal(stage_ok("ready", part_b, 2), 2);
	assert_int_equal(fl_stage_ready(st, &parts, ready, bytes, &err), FL_OK);
	assert_true(ready[0] && ready[1] && ready[2]);
	assert_false(ready[3]);
	/* Error records are never staged and never wait. */
	struct fl_catalog_object eo = {
		.bucket = "lake", .key = "ready/a/errors.json", .kind = "error",
		.partition_path = "ready", .bytes = 7, .records = 1,
		.min_ms = INT64_MAX, .max_ms = INT64_MIN,
		.db = "default", .tbl = "ready", .vals = part_a, .nvals = 2,
	};
	PGconn *c = acquire();
	assert_int_equal(fl_catalog_add_object(c, &eo, &err), FL_OK);
	fl_db_release(db, c);
	assert_int_equal(fl_stage_ready(st, &parts, ready, bytes, &err), FL_OK);
	assert_true(ready[0]);
	assert_int_equal(bytes[0], 2 * (sizeof ja - 1));
	/* An empty plan. */
	struct fl_stage_parts none = { NULL, 0, NULL };
	assert_int_equal(fl_stage_ready(st, &none, ready, bytes, &err), FL_OK);
}

static void test_plan_parts(void **state)
{
	(void)state;
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{ "SELECT count(*) FROM \"default\".events WHERE event_type = 'a'",
		  "default.events(a,2026-01-01)" },
		{ "SELECT count(*) FROM \"default\".events WHERE event_type IN ('a', 'b') AND "
		  "dt = '2026-01-01'", "default.events(a,2026-01-01);default.events(b,2026-01-01)" },
		{ "SELECT count(*) FROM \"default\".events WHERE dt >= '2026-01-02'",
		  "default.events(c,2026-01-02);default.events(it's, {odd} \"v\" \\,2026-01-03)" },
		{ "SELECT count(*) FROM \"default\".events WHERE event_type = 'none'", "" },
		{ "SELECT e.event_uuid FROM \"default\".events e JOIN \"default\".sales s ON "
		  "s.name = e.event_uuid WHERE e.event_type = 'b'",
		  "default.events(b,2026-01-01);default.sales()" },
		{ "WITH x AS (SELECT * FROM \"default\".conc) SELECT count(*) FROM x, "
		  "(SELECT 1 FROM \"default\".events WHERE event_type = 'c' LIMIT 1) y",
		  "default.conc(x);default.events(c,2026-01-02)" },
		{ "SELECT 1", "" },
	};
	char got[4096];
	struct fl_stage_parts parts;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(plan(cases[i].sql, &parts, got, sizeof got), FL_OK);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s\n got  %s\n want %s", cases[i].sql, got, cases[i].want);
		fl_stage_parts_free(&parts);
	}
	assert_int_equal(plan("SELECT no_such_column FROM \"default\".events", &parts, got,
			      sizeof got), FL_INVALID);
	assert_int_equal(parts.n, 0);
	/* The query role reads nothing of the catalog. */
	assert_int_equal(plan("SELECT count(*) FROM fl_stage_partitions", &parts, got, sizeof got),
			 FL_INVALID);
	fl_stage_parts_free(&parts);
	fl_stage_parts_free(NULL);
}

static void test_evolution(void **state)
{
	(void)state;
	make_table("evo", FL_FORMAT_JSON, NULL, 0,
		   "[{\"Name\":\"a\",\"Type\":\"bigint\"},{\"Name\":\"b\",\"Type\":\"bigint\"},"
		   "{\"Name\":\"gone\",\"Type\":\"string\"},{\"Name\":\"created_datetime\","
		   "\"Type\":\"timestamp\"}]", NULL);
	const char e1[] = "{\"a\":1,\"b\":2,\"gone\":\"g\",\"c\":\"x\",\"created_datetime\":"
			  "\"2026-01-01T00:00:00Z\"}\n";
	add_object("evo", NULL, 0, "evo/e1.json", e1, sizeof e1 - 1);
	sync_ok("evo");
	assert_int_equal(stage_ok("evo", NULL, 0), 1);
	assert_query("SELECT concat_ws('|', a, b, gone) FROM \"default\".evo", "1|2|g");
	const char *cols_sql = "SELECT string_agg(attname || ':' || format_type(atttypid, "
			       "atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = "
			       "'\"default\".evo'::regclass AND attnum > 0 AND NOT attisdropped";
	/* Widened in place, added (NULL in rows staged before), dropped. */
	set_columns("evo", "[{\"Name\":\"a\",\"Type\":\"double\"},{\"Name\":\"b\",\"Type\":\"string\"},"
		    "{\"Name\":\"created_datetime\",\"Type\":\"timestamp\"},"
		    "{\"Name\":\"c\",\"Type\":\"string\"}]");
	sync_ok("evo");
	assert_query(cols_sql, "a:double precision,b:text,created_datetime:timestamp without time "
		     "zone,c:text");
	assert_query("SELECT concat_ws('|', a, b, coalesce(c, 'N')) FROM \"default\".evo", "1|2|N");
	assert_int_equal(count("SELECT staged_rows FROM fl_stage_partitions WHERE tbl = 'evo'"), 1);
	const char e2[] = "{\"a\":1.5,\"b\":\"two\",\"c\":\"y\"}\n";
	add_object("evo", NULL, 0, "evo/e2.json", e2, sizeof e2 - 1);
	assert_int_equal(stage_ok("evo", NULL, 0), 1);
	assert_query("SELECT string_agg(concat_ws('|', a, b, c), ';' ORDER BY a) FROM \"default\".evo",
		     "1|2;1.5|two|y");
	/* A timestamp read as text is the lake's text, not PostgreSQL's: the
	 * table is emptied and read again (the BRIN index follows). */
	set_columns("evo", "[{\"Name\":\"a\",\"Type\":\"double\"},{\"Name\":\"b\",\"Type\":\"string\"},"
		    "{\"Name\":\"created_datetime\",\"Type\":\"string\"},"
		    "{\"Name\":\"c\",\"Type\":\"string\"}]");
	sync_ok("evo");
	assert_int_equal(count("SELECT count(*) FROM \"default\".evo"), 0);
	assert_int_equal(count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'default' AND "
			       "tablename = 'evo' AND indexdef LIKE '%brin%'"), 1);
	assert_int_equal(stage_ok("evo", NULL, 0), 2);
	assert_query("SELECT string_agg(concat_ws('|', a, b, created_datetime, c), ';' ORDER BY a) "
		     "FROM \"default\".evo", "1|2|2026-01-01T00:00:00Z|x;1.5|two|y");
	/* Narrowed: the table is emptied and read again. */
	set_columns("evo", "[{\"Name\":\"a\",\"Type\":\"double\"},{\"Name\":\"b\",\"Type\":\"bigint\"},"
		    "{\"Name\":\"c\",\"Type\":\"string\"}]");
	sync_ok("evo");
	assert_query(cols_sql, "a:double precision,b:bigint,c:text");
	assert_int_equal(count("SELECT count(*) FROM \"default\".evo"), 0);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_objects WHERE tbl = 'evo'"), 0);
	assert_int_equal(stage_ok("evo", NULL, 0), 2);
	assert_query("SELECT string_agg(concat_ws('|', a, coalesce(b::text, 'N'), c), ';' ORDER BY a) "
		     "FROM \"default\".evo", "1|2|x;1.5|N|y");
	/* Partition keys: made again, partitioned. */
	const char *p[] = { "evo" };
	char v[16];
	query("UPDATE fl_glue_tables SET spec = jsonb_set(spec, '{PartitionKeys}', "
	      "'[{\"Name\":\"p\",\"Type\":\"string\"}]'), version_id = version_id + 1 WHERE "
	      "db = 'default' AND name = $1 RETURNING 1", 1, p, v, sizeof v);
	sync_ok("evo");
	assert_query("SELECT relkind::text FROM pg_class WHERE oid = '\"default\".evo'::regclass", "p");
	assert_query(cols_sql, "a:double precision,b:bigint,c:text,p:text");
	assert_int_equal(count("SELECT count(*) FROM fl_stage_partitions WHERE tbl = 'evo'"), 0);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_objects WHERE tbl = 'evo'"), 0);
}

static void test_partitions_change(void **state)
{
	(void)state;
	static const char *const part_d[] = { "d", "2026-01-04" };
	/* Registered after the last sync: staging makes its leaf. */
	add_partition("events", part_d, 2);
	add_object("events", part_d, 2, "events/d/o.json", "{\"event_uuid\":\"d1\"}", 19);
	assert_int_equal(stage_ok("events", part_d, 2), 1);
	assert_int_equal(count("SELECT count(*) FROM \"default\".events WHERE event_type = 'd'"), 1);
	char rel[64];
	query("SELECT relname FROM fl_stage_partitions WHERE tbl = 'events' AND vals = "
	      "'{d,2026-01-04}'", 0, NULL, rel, sizeof rel);
	/* Removed from Glue: its leaf goes with the next sync. */
	exec_sql("DELETE FROM fl_glue_partitions WHERE tbl = 'events' AND vals = '{d,2026-01-04}' "
		 "RETURNING 1");
	sync_ok("events");
	const char *p[] = { rel };
	char v[16];
	query("SELECT count(*) FROM pg_class WHERE relname = $1", 1, p, v, sizeof v);
	assert_string_equal(v, "0");
	assert_int_equal(count("SELECT count(*) FROM fl_stage_partitions WHERE tbl = 'events' AND "
			       "vals = '{d,2026-01-04}'"), 0);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_objects WHERE key = 'events/d/o.json'"),
			 0);
	assert_int_equal(count("SELECT count(*) FROM \"default\".events WHERE event_type = 'd'"), 0);
	assert_int_equal(count("SELECT count(*) FROM \"default\".events"), 5);
}

static void test_eviction(void **state)
{
	(void)state;
	struct fl_stage *tiny = NULL;
	struct fl_error err;
	uint64_t bytes, rows;
	static const char *const k[] = { "k" };
	static const char *const p1[] = { "p1" }, *const p2[] = { "p2" }, *const p3[] = { "p3" };
	const char *const *ps[] = { p1, p2, p3 };
	make_table("ev", FL_FORMAT_JSON, k, 1, "[{\"Name\":\"n\",\"Type\":\"bigint\"}]", NULL);
	for (int i = 0; i < 3; i++) {
		char key[32];
		add_partition("ev", ps[i], 1);
		snprintf(key, sizeof key, "ev/p%d.json", i + 1);
		add_object("ev", ps[i], 1, key, "{\"n\":1}\n{\"n\":2}\n", 16);
	}
	assert_int_equal(fl_stage_new(&srv, 1, &tiny, &err), FL_OK);
	/* The partition just staged is never the one evicted. */
	assert_int_equal(stage_with(tiny, "ev", p1, 1, &bytes, &rows, &err), FL_OK);
	assert_int_equal(rows, 2);
	assert_int_equal(count("SELECT count(*) FROM \"default\".ev WHERE k = 'p1'"), 2);
	/* Over budget: the least recently used leaves go (with the other
	 * tables' leaves, also in the catalog). */
	assert_int_equal(stage_with(tiny, "ev", p2, 1, &bytes, &rows, &err), FL_OK);
	assert_int_equal(count("SELECT count(*) FROM \"default\".ev WHERE k = 'p1'"), 0);
	assert_int_equal(count("SELECT count(*) FROM \"default\".ev WHERE k = 'p2'"), 2);
	assert_int_equal(count("SELECT staged_bytes + staged_rows FROM fl_stage_partitions WHERE "
			       "tbl = 'ev' AND vals = '{p1}'"), 0);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_objects WHERE key = 'ev/p1.json'"), 0);
	assert_int_equal(count("SELECT count(*) FROM \"default\".events"), 0);
	/* Held by a query: kept. */
	struct fl_stage_part hp = { "default", "ev", p2, 1 };
	struct fl_stage_parts held = { &hp, 1, NULL };
	fl_stage_hold(tiny, &held);
	assert_int_equal(stage_with(tiny, "ev", p3, 1, &bytes, &rows, &err), FL_OK);
	assert_int_equal(count("SELECT count(*) FROM \"default\".ev WHERE k = 'p2'"), 2);
	assert_int_equal(count("SELECT count(*) FROM \"default\".ev WHERE k = 'p3'"), 2);
	fl_stage_release(tiny, &held);
	/* Read by a query of another process (a lock): kept too. */
	PGconn *c = acquire();
	PGresult *res = NULL;
	assert_int_equal(fl_db_exec(c, "BEGIN", 0, NULL, NULL, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "SELECT count(*) FROM \"default\".ev WHERE k = 'p3'", 0, NULL,
				    &res, &err), FL_OK);
	PQclear(res);
	assert_int_equal(stage_with(tiny, "ev", p1, 1, &bytes, &rows, &err), FL_OK);
	assert_int_equal(rows, 2);
	assert_int_equal(fl_db_exec(c, "ROLLBACK", 0, NULL, NULL, &err), FL_OK);
	fl_db_release(db, c);
	assert_int_equal(count("SELECT count(*) FROM \"default\".ev WHERE k = 'p1'"), 2);
	assert_int_equal(count("SELECT count(*) FROM \"default\".ev WHERE k = 'p2'"), 0);
	assert_int_equal(count("SELECT count(*) FROM \"default\".ev WHERE k = 'p3'"), 2);
	assert_true(fl_stage_bytes(tiny) > 0);
	fl_stage_free(tiny);
}

static void test_epoch(void **state)
{
	(void)state;
	struct fl_stage *after = NULL;
	struct fl_error err;
	static const char *const x[] = { "x" };
	/* What a crash of PostgreSQL leaves: empty UNLOGGED tables. */
	exec_sql("DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname FROM pg_class c JOIN "
		 "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'default' AND "
		 "c.relkind = 'r' LOOP EXECUTE format('TRUNCATE %I.%I', 'default', r.relname); "
		 "END LOOP; DELETE FROM fl_stage_epoch; END $$");
	assert_true(count("SELECT count(*) FROM fl_stage_objects") > 0);
	assert_int_equal(fl_stage_new(&srv, UINT64_C(1) << 40, &after, &err), FL_OK);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_objects"), 0);
	assert_int_equal(count("SELECT coalesce(sum(staged_rows + staged_bytes), 0) FROM "
			       "fl_stage_partitions"), 0);
	assert_int_equal(count("SELECT count(*) FROM fl_stage_epoch"), 1);
	assert_int_equal(fl_stage_bytes(after), 0);
	uint64_t bytes, rows;
	assert_int_equal(stage_with(after, "conc", x, 1, &bytes, &rows, &err), FL_OK);
	assert_int_equal(rows, 18000);
	assert_int_equal(count("SELECT count(*) FROM \"default\".conc"), 18000);
	/* The epoch is checked before staging too (PostgreSQL may crash
	 * while firelake runs). */
	exec_sql("DO $$ BEGIN TRUNCATE \"default\".conc; DELETE FROM fl_stage_epoch; END $$");
	assert_int_equal(stage_with(after, "conc", x, 1, &bytes, &rows, &err), FL_OK);
	assert_int_equal(rows, 18000);
	fl_stage_free(after);
}

static void test_eager(void **state)
{
	(void)state;
	fl_stage_enqueue(st, "default", "events", part_c, 2);
	fl_stage_enqueue(st, "default", "events", part_c, 2);  /* queued once */
	fl_stage_enqueue(st, "default", "nope", NULL, 0);      /* fails alone */
	add_object("events", part_c, 2, "events/c/o4.json", "{\"event_uuid\":\"c1\"}", 19);
	fl_stage_enqueue(st, "default", "events", part_c, 2);
	long long n = 0;
	for (int i = 0; i < 200 && n == 0; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		n = count("SELECT count(*) FROM \"default\".events WHERE event_uuid = 'c1'");
	}
	assert_int_equal(n, 1);
	fl_stage_enqueue(NULL, "default", "events", part_c, 2);
}

/* ---- setup ---------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? 0 : 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/fl-test-stage-XXXXXX");
	if (!mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fl_stage_free(st);
	st = NULL;
	fl_storage_free(lake);
	lake = NULL;
	fl_db_free(db);
	db = NULL;
	fl_pgembed_stop(pg);
	pg = NULL;
	if (tmp[0] && !getenv("FL_TEST_KEEP"))
		nftw(tmp, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_col_types),
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_csv_records),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sync_and_stage_json),
		cmocka_unit_test(test_stage_csv),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_plan_parts),
		cmocka_unit_test(test_evolution),
		cmocka_unit_test(test_partitions_change),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_eager),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
