/*
 * test_athena_ddl.c - Athena's DDL (athena_ddl.c, athena_ddl_text.c,
 * athena_ddl_run.c): the classifiers and the parser, table-driven and
 * pure (every statement form, odd spacing, case and comments, hostile
 * names, syntax errors with their positions); the Glue TableInput that
 * CREATE EXTERNAL TABLE stands for and SHOW CREATE TABLE's text of it,
 * which parses back to the same table; partition names and SHOW
 * patterns.  Then the statements run against a real embedded PostgreSQL
 * and a local lake: databases, JSON and DELIMITED tables, SHOW and
 * DESCRIBE answers, a SHOW CREATE TABLE round trip through the catalog,
 * partitions added and dropped, MSCK REPAIR TABLE over key=value folders
 * with files, drops with RESTRICT and CASCADE, and the errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "athena_ddl.h"
#include "athena_ddl_text.h"
#include "buf.h"
#include "db.h"
#include "pgembed.h"
#include "server.h"
#include "storage.h"

static char tmp[PATH_MAX];
static char conninfo[1024];
static struct fl_pgembed *pg;
static struct fl_server srv;

/* ---- helpers ------------------------------------------------------------ */

static json_t *parse_json(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!j)
		fail_msg("bad JSON (%s): %s", jerr.text, text);
	return j;
}

static void assert_json_eq(const json_t *got, const char *want_text)
{
	json_t *want = parse_json(want_text);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
		print_error("got  %s\nwant %s\n", g ? g : "(null)", want_text);
		free(g);
		json_decref(want);
		fail();
	}
	json_decref(want);
}

static void assert_contains(const char *got, const char *want)
{
	if (!strstr(got, want))
		fail_msg("'%s' does not contain '%s'", got, want);
}

static const char *kind_name(enum fl_ddl_kind k)
{
	switch (k) {
	case FL_DDL_SHOW_DATABASES: return "SHOW_DATABASES";
	case FL_DDL_SHOW_TABLES: return "SHOW_TABLES";
	case FL_DDL_SHOW_PARTITIONS: return "SHOW_PARTITIONS";
	case FL_DDL_SHOW_COLUMNS: return "SHOW_COLUMNS";
	case FL_DDL_SHOW_CREATE_TABLE: return "SHOW_CREATE_TABLE";
	case FL_DDL_SHOW_TBLPROPERTIES: return "SHOW_TBLPROPERTIES";
	case FL_DDL_DESCRIBE: return "DESCRIBE";
	case FL_DDL_CREATE_DATABASE: return "CREATE_DATABASE";
	case FL_DDL_CREATE_TABLE: return "CREATE_TABLE";
	case FL_DDL_MSCK_REPAIR: return "MSCK_REPAIR";
	case FL_DDL_ADD_PARTITIONS: return "ADD_PARTITIONS";
	case FL_DDL_DROP_PARTITIONS: return "DROP_PARTITIONS";
	case FL_DDL_DROP_TABLE: return "DROP_TABLE";
	case FL_DDL_DROP_DATABASE: return "DROP_DATABASE";
	}
	return "?";
}

/* The parsed statement as JSON, to compare with a table's expectation. */
static json_t *stmt_json(const struct fl_ddl_stmt *st)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:s?,s:O?,s:O?}",
			      "kind", kind_name(st->kind), "db", st->db, "table", st->table,
			      "if_exists", st->if_exists, "cascade", st->cascade,
			      "formatted", st->formatted, "pattern", st->pattern,
			      "spec", st->spec, "partitions", st->partitions);
	assert_non_null(j);
	return j;
}

/* Every member of want is in got with the same value (null: absent or
 * null in got). */
static void assert_subset(const json_t *got, const char *want_text, const char *sql)
{
	json_t *want = parse_json(want_text);
	const char *key;
	json_t *v;
	json_object_foreach(want, key, v) {
		const json_t *g = json_object_get(got, key);
		if (json_is_null(v) ? g && !json_is_null(g) : !json_equal(g, v)) {
			char *gs = json_dumps(got, JSON_SORT_KEYS);
			print_error("%s\n  member %s: got %s\n  want %s\n", sql, key, gs, want_text);
			free(gs);
			json_decref(want);
			fail();
		}
	}
	json_decref(want);
}

static struct fl_ddl_stmt *parse_ok(const char *sql)
{
	struct fl_ddl_stmt *st = NULL;
	struct fl_error err = { .code = FL_OK };
	if (fl_ddl_parse(sql, &st, &err) != FL_OK)
		fail_msg("%s: %s", sql, err.msg);
	return st;
}

/* ---- classifiers ------------------------------------------------------------ */

static void test_statement_type(void **state)
{
	(void)state;
	static const struct {
		const char *sql, *type;
		bool ddl;
	} cases[] = {
		{ "SELECT 1", "DML", false },
		{ "  with x as (select 1) select * from x", "DML", false },
		{ "(SELECT 1)", "DML", false },
		{ "VALUES 1", "DML", false },
		{ "INSERT INTO t SELECT 1", "DML", false },
		{ "", "DML", false },
		{ "-- only a comment", "DML", false },
		{ "SHOW TABLES", "UTILITY", true },
		{ "show databases", "UTILITY", true },
		{ "SHOW PARTITIONS t", "UTILITY", true },
		{ "SHOW COLUMNS IN t", "UTILITY", true },
		{ "SHOW CREATE TABLE t", "DDL", true },
		{ "EXPLAIN SELECT 1", "UTILITY", false },
		{ "DESCRIBE t", "DDL", true },
		{ "desc t", "DDL", true },
		{ "/* hi */ CREATE EXTERNAL TABLE t (a int) LOCATION 's3://b/t/'", "DDL", true },
		{ "create database d", "DDL", true },
		{ "CREATE TABLE t AS SELECT 1", "DML", false },
		{ "CREATE TABLE db.t WITH (format='PARQUET') AS SELECT 1", "DML", false },
		{ "CREATE TABLE IF NOT EXISTS \"t\" AS SELECT 1", "DML", false },
		{ "CREATE TABLE t (a int)", "DDL", true },
		{ "--c\nMSCK REPAIR TABLE t", "DDL", true },
		{ "ALTER TABLE t ADD PARTITION (dt='1')", "DDL", true },
		{ "DROP TABLE t", "DDL", true },
		{ "\n\t drop\tdatabase x cascade", "DDL", true },
		{ "SHOWTABLES", "DML", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (strcmp(fl_ddl_statement_type(cases[i].sql), cases[i].type) != 0)
			fail_msg("%s: type %s, want %s", cases[i].sql,
				 fl_ddl_statement_type(cases[i].sql), cases[i].type);
		if (fl_ddl_is_ddl(cases[i].sql) != cases[i].ddl)
			fail_msg("%s: is_ddl %d", cases[i].sql, !cases[i].ddl);
	}
	assert_string_equal(fl_ddl_statement_type(NULL), "DML");
	assert_false(fl_ddl_is_ddl(NULL));
}

/* ---- the parser --------------------------------------------------------------- */

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{ "SHOW DATABASES", "{\"kind\":\"SHOW_DATABASES\",\"pattern\":null}" },
		{ "show schemas like 'sal*'", "{\"kind\":\"SHOW_DATABASES\",\"pattern\":\"sal*\"}" },
		{ "SHOW TABLES", "{\"kind\":\"SHOW_TABLES\",\"db\":\"\",\"pattern\":null}" },
		{ "SHOW TABLES IN Sales 'ev*|cl*'",
		  "{\"kind\":\"SHOW_TABLES\",\"db\":\"sales\",\"pattern\":\"ev*|cl*\"}" },
		{ "show tables from `sales` like 'x'",
		  "{\"kind\":\"SHOW_TABLES\",\"db\":\"sales\",\"pattern\":\"x\"}" },
		{ "SHOW TABLES \"ev*\";", "{\"kind\":\"SHOW_TABLES\",\"pattern\":\"ev*\"}" },
		{ "  /* c */ SHOW\n\t-- x\n TABLES   IN sales ;  -- trailing",
		  "{\"kind\":\"SHOW_TABLES\",\"db\":\"sales\"}" },
		{ "SHOW PARTITIONS sales.events",
		  "{\"kind\":\"SHOW_PARTITIONS\",\"db\":\"sales\",\"table\":\"events\","
		  "\"partitions\":null}" },
		{ "SHOW PARTITIONS events PARTITION (dt='2024-01-01')",
		  "{\"kind\":\"SHOW_PARTITIONS\",\"table\":\"events\",\"partitions\":"
		  "[{\"Keys\":[\"dt\"],\"Values\":[\"2024-01-01\"]}]}" },
		{ "SHOW COLUMNS IN events IN sales",
		  "{\"kind\":\"SHOW_COLUMNS\",\"db\":\"sales\",\"table\":\"events\"}" },
		{ "show columns from Sales.Events from sales",
		  "{\"kind\":\"SHOW_COLUMNS\",\"db\":\"sales\",\"table\":\"events\"}" },
		{ "DESCRIBE events",
		  "{\"kind\":\"DESCRIBE\",\"db\":\"\",\"table\":\"events\",\"formatted\":false}" },
		{ "DESC FORMATTED sales.events",
		  "{\"kind\":\"DESCRIBE\",\"db\":\"sales\",\"table\":\"events\",\"formatted\":true}" },
		{ "describe extended `events`;", "{\"kind\":\"DESCRIBE\",\"formatted\":true}" },
		{ "DESCRIBE formatted", "{\"kind\":\"DESCRIBE\",\"table\":\"formatted\","
		  "\"formatted\":false}" },
		{ "SHOW CREATE TABLE `sales`.`events`",
		  "{\"kind\":\"SHOW_CREATE_TABLE\",\"db\":\"sales\",\"table\":\"events\"}" },
		{ "SHOW TBLPROPERTIES events('classification')",
		  "{\"kind\":\"SHOW_TBLPROPERTIES\",\"table\":\"events\","
		  "\"pattern\":\"classification\"}" },
		{ "CREATE DATABASE IF NOT EXISTS Sales COMMENT 'Sales data' LOCATION "
		  "'s3://lake/sales/' WITH DBPROPERTIES ('creator'='me', 'k'='v')",
		  "{\"kind\":\"CREATE_DATABASE\",\"db\":\"sales\",\"if_exists\":true,\"spec\":"
		  "{\"Description\":\"Sales data\",\"LocationUri\":\"s3://lake/sales/\","
		  "\"Parameters\":{\"creator\":\"me\",\"k\":\"v\"}}}" },
		{ "create schema s2", "{\"kind\":\"CREATE_DATABASE\",\"db\":\"s2\","
		  "\"if_exists\":false,\"spec\":{}}" },
		{ "MSCK REPAIR TABLE events", "{\"kind\":\"MSCK_REPAIR\",\"table\":\"events\"}" },
		{ "msck repair table sales.events;",
		  "{\"kind\":\"MSCK_REPAIR\",\"db\":\"sales\",\"table\":\"events\"}" },
		{ "ALTER TABLE events ADD PARTITION (dt='2024-01-01', hr=5) LOCATION "
		  "'s3://lake/x/' PARTITION (dt = \"2024-01-02\", HR='06')",
		  "{\"kind\":\"ADD_PARTITIONS\",\"if_exists\":false,\"partitions\":["
		  "{\"Keys\":[\"dt\",\"hr\"],\"Values\":[\"2024-01-01\",\"5\"],"
		  "\"Location\":\"s3://lake/x/\"},"
		  "{\"Keys\":[\"dt\",\"hr\"],\"Values\":[\"2024-01-02\",\"06\"]}]}" },
		{ "alter table events add if not exists partition (dt='it''s')",
		  "{\"kind\":\"ADD_PARTITIONS\",\"if_exists\":true,\"partitions\":["
		  "{\"Keys\":[\"dt\"],\"Values\":[\"it's\"]}]}" },
		{ "ALTER TABLE events DROP IF EXISTS PARTITION (dt='a'), PARTITION (dt='b\\'c') PURGE",
		  "{\"kind\":\"DROP_PARTITIONS\",\"if_exists\":true,\"partitions\":["
		  "{\"Keys\":[\"dt\"],\"Values\":[\"a\"]},{\"Keys\":[\"dt\"],\"Values\":[\"b'c\"]}]}" },
		{ "DROP TABLE IF EXISTS sales.events PURGE",
		  "{\"kind\":\"DROP_TABLE\",\"db\":\"sales\",\"table\":\"events\",\"if_exists\":true}" },
		{ "drop table \"Events\"", "{\"kind\":\"DROP_TABLE\",\"table\":\"events\","
		  "\"if_exists\":false}" },
		{ "DROP DATABASE sales CASCADE",
		  "{\"kind\":\"DROP_DATABASE\",\"db\":\"sales\",\"cascade\":true}" },
		{ "drop schema if exists sales restrict",
		  "{\"kind\":\"DROP_DATABASE\",\"db\":\"sales\",\"cascade\":false,"
		  "\"if_exists\":true}" },
		{ "DROP DATABASE `123_db`", "{\"kind\":\"DROP_DATABASE\",\"db\":\"123_db\"}" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_ddl_stmt *st = parse_ok(cases[i].sql);
		json_t *got = stmt_json(st);
		assert_subset(got, cases[i].want, cases[i].sql);
		json_decref(got);
		fl_ddl_stmt_free(st);
	}
	fl_ddl_stmt_free(NULL);
}

static void test_parse_errors(void **state)
{
	(void)state;
	char long_name[300];
	memset(long_name, 'a', 256);
	long_name[256] = '\0';
	char long_sql[400];
	snprintf(long_sql, sizeof long_sql, "DROP TABLE %s", long_name);
	static const char *const LOC = " LOCATION 's3://lake/t/'";
	char with_loc[8][200];
	const char *bodies[] = {
		"CREATE EXTERNAL TABLE t (a widget)%s",
		"CREATE EXTERNAL TABLE t (a int, A string)%s",
		"CREATE EXTERNAL TABLE t (a int) PARTITIONED BY (a string)%s",
		"CREATE EXTERNAL TABLE t (a int) CLUSTERED BY (a) INTO 4 BUCKETS%s",
		"CREATE EXTERNAL TABLE t (a array<int)%s",
		"CREATE EXTERNAL TABLE t (a int) STORED AS JSONLINES%s",
		"CREATE EXTERNAL TABLE t (a int) ROW FORMAT SERDE x%s",
		"CREATE EXTERNAL TABLE t (`a b` int)%s",
	};
	for (size_t i = 0; i < 8; i++)
		snprintf(with_loc[i], sizeof with_loc[i], bodies[i], LOC);
	const struct {
		const char *sql, *msg;
	} cases[] = {
		{ "", "line 1:1: the statement is empty" },
		{ "SHOW TABLES IN `bad name`", "line 1:16: database name 'bad name' is not a "
		  "valid name" },
		{ "SHOW TABLES\n  IN `x y`", "line 2:6: database name 'x y' is not a valid name" },
		{ "DROP TABLE `a;drop`", "line 1:12: table name 'a;drop' is not a valid name" },
		{ "DESCRIBE \"x\"\"y\"", "table name 'x\"y' is not a valid name" },
		{ "DESCRIBE `../../etc`", "table name '../../etc' is not a valid name" },
		{ "DESCRIBE ``", "line 1:10: table name '' is not a valid name" },
		{ long_sql, "line 1:12: table name 'aaaa" },
		{ "DROP TABLE a.b.c", "line 1:15: mismatched input '.'. Expecting: <EOF>" },
		{ "SHOW TABLES; SHOW TABLES", "line 1:14: mismatched input 'SHOW'. Expecting: <EOF>" },
		{ "SHOW TABLES;;", "line 1:13: mismatched input ';'. Expecting: <EOF>" },
		{ "SHOW FUNCTIONS", "line 1:6: Queries of this type are not supported" },
		{ "SELECT 1", "line 1:1: Queries of this type are not supported" },
		{ "CREATE VIEW v AS SELECT 1", "line 1:1: Queries of this type are not supported" },
		{ "ALTER TABLE t RENAME TO u", "line 1:1: Queries of this type are not supported" },
		{ "ALTER DATABASE d SET DBPROPERTIES ('a'='b')",
		  "line 1:1: Queries of this type are not supported" },
		{ "CREATE TABLE t (a int) LOCATION 's3://lake/t/'",
		  "line 1:1: Only external table creation is supported" },
		{ "CREATE EXTERNAL TABLE t (a int)", "line 1:32: External table LOCATION is required" },
		{ "CREATE EXTERNAL TABLE t (a int) TBLPROPERTIES ('a'='b')",
		  "External table LOCATION is required" },
		{ "CREATE EXTERNAL TABLE t (a int) LOCATION '/tmp/x'",
		  "line 1:42: LOCATION '/tmp/x' is not an s3:// location" },
		{ "CREATE EXTERNAL TABLE t (a int) LOCATION 's3://B_ad/x'",
		  "is not a valid S3 location" },
		{ with_loc[0], "line 1:28: invalid type 'widget' for column 'a'" },
		{ with_loc[1], "Duplicate column name: a" },
		{ with_loc[2], "Column repeated in partitioning columns: a" },
		{ with_loc[3], "line 1:33: Bucketed and skewed tables are not supported" },
		{ with_loc[4], "invalid type 'array<int' for column 'a'" },
		{ with_loc[5], "mismatched input 'JSONLINES'. Expecting: 'AVRO', 'INPUTFORMAT'" },
		{ with_loc[6], "line 1:50: mismatched input 'x'. Expecting: <string>" },
		{ with_loc[7], "column name 'a b' is not a valid name" },
		{ "CREATE EXTERNAL TABLE t () LOCATION 's3://lake/t/'",
		  "line 1:26: mismatched input ')'. Expecting: <column name>" },
		{ "CREATE EXTERNAL TABLE t (a) LOCATION 's3://lake/t/'",
		  "mismatched input ')'. Expecting: <type>" },
		{ "CREATE EXTERNAL TABLE t (a 'int') LOCATION 's3://lake/t/'",
		  "mismatched input ''int''. Expecting: <type>" },
		{ "SHOW TABLES 'abc", "line 1:13: unterminated string literal" },
		{ "SHOW TABLES `abc", "line 1:13: unterminated quoted identifier" },
		{ "SHOW /* x", "line 1:6: unterminated comment" },
		{ "SHOW TABLES '\\0'", "line 1:13: string literal holds a NUL character" },
		{ "SHOW TABLES '\\u0000'", "string literal holds a NUL character" },
		{ "SHOW TABLES '\\ud800'", "unpaired surrogate" },
		{ "SHOW TABLES '\xff'", "line 1:14: the statement is not valid UTF-8" },
		{ "ALTER TABLE t ADD PARTITION (dt='a', dt='b')",
		  "line 1:38: partition key 'dt' appears twice" },
		{ "ALTER TABLE t ADD PARTITION (dt<'a')", "mismatched input '<'. Expecting: '='" },
		{ "ALTER TABLE t ADD PARTITION dt='a'", "mismatched input 'dt'. Expecting: '('" },
		{ "DROP TABLE", "line 1:11: mismatched input '<EOF>'. Expecting: <table name>" },
		{ "DROP TABLE IF t", "mismatched input 't'. Expecting: 'EXISTS'" },
		{ "MSCK TABLE t", "mismatched input 'TABLE'. Expecting: 'REPAIR'" },
		{ "SHOW COLUMNS t", "mismatched input 't'. Expecting: 'FROM', 'IN'" },
		{ "SHOW COLUMNS IN a.t IN b", "the table is named in database 'a' and IN names 'b'" },
		{ "CREATE DATABASE d WITH ('a'='b')", "mismatched input '('. Expecting: 'DBPROPERTIES'" },
		{ "CREATE DATABASE d WITH DBPROPERTIES ('a'=1)",
		  "mismatched input '1'. Expecting: <string>" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_ddl_stmt *st = (struct fl_ddl_stmt *)1;
		struct fl_error err = { .code = FL_OK };
		enum fl_result r = fl_ddl_parse(cases[i].sql, &st, &err);
		if (r != FL_INVALID)
			fail_msg("%s: result %d, want FL_INVALID", cases[i].sql, (int)r);
		assert_null(st);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("%s: message '%s' lacks '%s'", cases[i].sql, err.msg, cases[i].msg);
	}
	/* Longer than Athena's QueryString. */
	size_t big = 262145;
	char *huge = malloc(big + 1);
	assert_non_null(huge);
	memset(huge, ' ', big);
	memcpy(huge, "SHOW TABLES", 11);
	huge[big] = '\0';
	struct fl_ddl_stmt *st = NULL;
	struct fl_error err;
	assert_int_equal(fl_ddl_parse(huge, &st, &err), FL_INVALID);
	assert_contains(err.msg, "longer than 262144 bytes");
	free(huge);
}

/* ---- CREATE EXTERNAL TABLE -> TableInput -> SHOW CREATE TABLE ---------------------- */

#define JSON_TABLE \
	"CREATE EXTERNAL TABLE IF NOT EXISTS sales.Events (\n" \
	"  event_uuid string COMMENT 'id',\n" \
	"  created_at BIGINT,\n" \
	"  amount decimal(10, 2),\n" \
	"  tags array<string>,\n" \
	"  attrs map<string,integer>,\n" \
	"  `user` struct<id:integer, name:varchar(20)>\n" \
	") COMMENT 'Events'\n" \
	"PARTITIONED BY (dt string, hr int)\n" \
	"ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n" \
	"WITH SERDEPROPERTIES ('ignore.malformed.json'='true')\n" \
	"LOCATION 's3://lake/events/'\n" \
	"TBLPROPERTIES ('has_encrypted_data'='false');"

#define CSV_TABLE \
	"create external table clicks (ts TIMESTAMP, url string, n int)\n" \
	"row format delimited fields terminated by ',' escaped by '\\\\'\n" \
	"  lines terminated by '\\n'\n" \
	"stored as textfile\n" \
	"location 's3://lake/clicks'\n" \
	"tblproperties ('skip.header.line.count'='1')"

static void test_table_input(void **state)
{
	(void)state;
	struct fl_ddl_stmt *st = parse_ok(JSON_TABLE);
	assert_int_equal(st->kind, FL_DDL_CREATE_TABLE);
	assert_string_equal(st->db, "sales");
	assert_string_equal(st->table, "events");
	assert_true(st->if_exists);
	assert_json_eq(st->spec,
		"{\"StorageDescriptor\":{\"Columns\":["
		"{\"Name\":\"event_uuid\",\"Type\":\"string\",\"Comment\":\"id\"},"
		"{\"Name\":\"created_at\",\"Type\":\"bigint\"},"
		"{\"Name\":\"amount\",\"Type\":\"decimal(10,2)\"},"
		"{\"Name\":\"tags\",\"Type\":\"array<string>\"},"
		"{\"Name\":\"attrs\",\"Type\":\"map<string,int>\"},"
		"{\"Name\":\"user\",\"Type\":\"struct<id:int,name:varchar(20)>\"}],"
		"\"Location\":\"s3://lake/events/\","
		"\"InputFormat\":\"org.apache.hadoop.mapred.TextInputFormat\","
		"\"OutputFormat\":\"org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat\","
		"\"Compressed\":false,\"NumberOfBuckets\":-1,"
		"\"SerdeInfo\":{\"SerializationLibrary\":\"org.openx.data.jsonserde.JsonSerDe\","
		"\"Parameters\":{\"ignore.malformed.json\":\"true\"}},"
		"\"BucketColumns\":[],\"SortColumns\":[],\"Parameters\":{},"
		"\"StoredAsSubDirectories\":false},"
		"\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"string\"},"
		"{\"Name\":\"hr\",\"Type\":\"int\"}],"
		"\"TableType\":\"EXTERNAL_TABLE\",\"Description\":\"Events\","
		"\"Parameters\":{\"has_encrypted_data\":\"false\",\"EXTERNAL\":\"TRUE\","
		"\"classification\":\"json\",\"comment\":\"Events\"}}");
	fl_ddl_stmt_free(st);

	st = parse_ok(CSV_TABLE);
	assert_string_equal(st->db, "");
	assert_false(st->if_exists);
	assert_json_eq(st->spec,
		"{\"StorageDescriptor\":{\"Columns\":["
		"{\"Name\":\"ts\",\"Type\":\"timestamp\"},{\"Name\":\"url\",\"Type\":\"string\"},"
		"{\"Name\":\"n\",\"Type\":\"int\"}],"
		"\"Location\":\"s3://lake/clicks\","
		"\"InputFormat\":\"org.apache.hadoop.mapred.TextInputFormat\","
		"\"OutputFormat\":\"org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat\","
		"\"Compressed\":false,\"NumberOfBuckets\":-1,"
		"\"SerdeInfo\":{\"SerializationLibrary\":"
		"\"org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe\","
		"\"Parameters\":{\"field.delim\":\",\",\"serialization.format\":\",\","
		"\"escape.delim\":\"\\\\\",\"line.delim\":\"\\n\"}},"
		"\"BucketColumns\":[],\"SortColumns\":[],\"Parameters\":{},"
		"\"StoredAsSubDirectories\":false},"
		"\"PartitionKeys\":[],\"TableType\":\"EXTERNAL_TABLE\","
		"\"Parameters\":{\"skip.header.line.count\":\"1\",\"EXTERNAL\":\"TRUE\","
		"\"classification\":\"csv\"}}");
	fl_ddl_stmt_free(st);

	/* STORED AS picks formats and SerDe; a given classification stays;
	 * OpenCSVSerde is csv; no ROW FORMAT is Hive's LazySimpleSerDe. */
	static const struct {
		const char *tail, *serde, *input, *cls;
	} formats[] = {
		{ "STORED AS PARQUET", "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
		  "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat", "parquet" },
		{ "STORED AS orc", "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
		  "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat", "orc" },
		{ "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' WITH SERDEPROPERTIES "
		  "('separatorChar'=',') STORED AS INPUTFORMAT 'in.Fmt' OUTPUTFORMAT 'out.Fmt'",
		  "org.apache.hadoop.hive.serde2.OpenCSVSerde", "in.Fmt", "csv" },
		{ "", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
		  "org.apache.hadoop.mapred.TextInputFormat", "csv" },
		{ "ROW FORMAT SERDE 'com.example.Odd'", "com.example.Odd",
		  "org.apache.hadoop.mapred.TextInputFormat", NULL },
	};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		char sql[512];
		snprintf(sql, sizeof sql, "CREATE EXTERNAL TABLE t (a int) %s LOCATION 's3://lake/t/'",
			 formats[i].tail);
		st = parse_ok(sql);
		const json_t *sd = json_object_get(st->spec, "StorageDescriptor");
		assert_string_equal(json_string_value(json_object_get(
			json_object_get(sd, "SerdeInfo"), "SerializationLibrary")), formats[i].serde);
		assert_string_equal(json_string_value(json_object_get(sd, "InputFormat")),
				    formats[i].input);
		const char *cls = json_string_value(json_object_get(
			json_object_get(st->spec, "Parameters"), "classification"));
		if (formats[i].cls)
			assert_string_equal(cls, formats[i].cls);
		else
			assert_null(cls);
		fl_ddl_stmt_free(st);
	}
	st = parse_ok("CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET LOCATION 's3://lake/t/' "
		      "TBLPROPERTIES ('classification'='mine')");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(st->spec, "Parameters"), "classification")), "mine");
	fl_ddl_stmt_free(st);
}

/* The Table shape around a spec, as fl_glue_table_load gives it. */
static json_t *as_table(const json_t *spec, const char *db, const char *name)
{
	json_t *t = json_deep_copy(spec);
	assert_non_null(t);
	json_object_set_new(t, "Name", json_string(name));
	json_object_set_new(t, "DatabaseName", json_string(db));
	return t;
}

static void test_create_text(void **state)
{
	(void)state;
	struct fl_ddl_stmt *st = parse_ok(JSON_TABLE);
	json_t *t = as_table(st->spec, "sales", "events");
	struct fl_buf b;
	fl_buf_init(&b, 1 << 20);
	assert_int_equal(fl_ddl_create_text("sales", "events", t, &b), FL_OK);
	assert_string_equal(b.data,
		"CREATE EXTERNAL TABLE `sales`.`events`(\n"
		"  `event_uuid` string COMMENT 'id', \n"
		"  `created_at` bigint, \n"
		"  `amount` decimal(10,2), \n"
		"  `tags` array<string>, \n"
		"  `attrs` map<string,int>, \n"
		"  `user` struct<id:int,name:varchar(20)>)\n"
		"COMMENT 'Events'\n"
		"PARTITIONED BY ( \n"
		"  `dt` string, \n"
		"  `hr` int)\n"
		"ROW FORMAT SERDE \n"
		"  'org.openx.data.jsonserde.JsonSerDe' \n"
		"WITH SERDEPROPERTIES ( \n"
		"  'ignore.malformed.json'='true') \n"
		"STORED AS INPUTFORMAT \n"
		"  'org.apache.hadoop.mapred.TextInputFormat' \n"
		"OUTPUTFORMAT \n"
		"  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
		"LOCATION\n"
		"  's3://lake/events/'\n"
		"TBLPROPERTIES (\n"
		"  'classification'='json', \n"
		"  'has_encrypted_data'='false')");
	json_decref(t);
	fl_ddl_stmt_free(st);

	st = parse_ok(CSV_TABLE);
	t = as_table(st->spec, "default", "clicks");
	fl_buf_reset(&b);
	assert_int_equal(fl_ddl_create_text("default", "clicks", t, &b), FL_OK);
	assert_string_equal(b.data,
		"CREATE EXTERNAL TABLE `default`.`clicks`(\n"
		"  `ts` timestamp, \n"
		"  `url` string, \n"
		"  `n` int)\n"
		"ROW FORMAT DELIMITED \n"
		"  FIELDS TERMINATED BY ',' \n"
		"  LINES TERMINATED BY '\\n' \n"
		"WITH SERDEPROPERTIES ( \n"
		"  'escape.delim'='\\\\') \n"
		"STORED AS INPUTFORMAT \n"
		"  'org.apache.hadoop.mapred.TextInputFormat' \n"
		"OUTPUTFORMAT \n"
		"  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
		"LOCATION\n"
		"  's3://lake/clicks'\n"
		"TBLPROPERTIES (\n"
		"  'classification'='csv', \n"
		"  'skip.header.line.count'='1')");
	json_decref(t);
	fl_ddl_stmt_free(st);

	/* What is printed parses back to the same table. */
	static const char *const round[] = {
		JSON_TABLE,
		CSV_TABLE,
		"CREATE EXTERNAL TABLE t (`a` int COMMENT 'it''s \\\"q\\\"\\n\\ttab', b string) "
		"COMMENT 'multi\\nline \\\\ ''x''' "
		"ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\001' COLLECTION ITEMS TERMINATED BY "
		"'\\002' MAP KEYS TERMINATED BY ':' NULL DEFINED AS '\\\\N' "
		"LOCATION 's3://lake/t/' TBLPROPERTIES ('k\\'1'='v\\u00e9', 'EXTERNAL'='TRUE')",
		"CREATE EXTERNAL TABLE p (a double, b boolean, c date, d binary, e char(3), "
		"f smallint, g tinyint, h float) PARTITIONED BY (year int COMMENT 'y') "
		"STORED AS PARQUET LOCATION 's3://lake/p/'",
		"CREATE EXTERNAL TABLE t (a int) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2."
		"OpenCSVSerde' WITH SERDEPROPERTIES ('separatorChar'='\\t', 'quoteChar'='\"') "
		"LOCATION 's3://lake/csv/'",
	};
	for (size_t i = 0; i < sizeof round / sizeof round[0]; i++) {
		st = parse_ok(round[i]);
		t = as_table(st->spec, "d", "t");
		fl_buf_reset(&b);
		assert_int_equal(fl_ddl_create_text("d", "t", t, &b), FL_OK);
		struct fl_ddl_stmt *again = NULL;
		struct fl_error err = { .code = FL_OK };
		if (fl_ddl_parse(b.data, &again, &err) != FL_OK)
			fail_msg("%s\n--- printed ---\n%s\n--- %s", round[i], b.data, err.msg);
		if (!json_equal(st->spec, again->spec)) {
			char *x = json_dumps(st->spec, JSON_SORT_KEYS);
			char *y = json_dumps(again->spec, JSON_SORT_KEYS);
			fail_msg("%s\nprinted:\n%s\nbefore %s\nafter  %s", round[i], b.data, x, y);
		}
		assert_string_equal(again->db, "d");
		assert_string_equal(again->table, "t");
		fl_ddl_stmt_free(again);
		json_decref(t);
		fl_ddl_stmt_free(st);
	}
	fl_buf_free(&b);
}

static void test_unquote(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *want;
	} cases[] = {
		{ "'abc'", "abc" },
		{ "''", "" },
		{ "'it''s'", "it's" },
		{ "'it\\'s'", "it's" },
		{ "'a\\nb\\tc\\rd\\be\\Zf'", "a\nb\tc\rd\be\x1a" "f" },
		{ "'\\001\\177'", "\x01\x7f" },
		{ "'\\u00e9\\u20AC'", "\xc3\xa9\xe2\x82\xac" },
		{ "'\\ud83d\\ude00'", "\xf0\x9f\x98\x80" },
		{ "'\\\\'", "\\" },
		{ "'\\%\\x'", "%x" },
		{ "'\\\xc3\xa9'", "\xc3\xa9" },
		{ "\"a\"\"b\\\"c\"", "a\"b\"c" },
		{ "`a``b\\n`", "a`b\\n" },
		{ "'\\377'", "\xc3\xbf" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		const char *why = NULL;
		if (!fl_ddl_unquote(cases[i].raw, strlen(cases[i].raw), out, &why))
			fail_msg("%s: %s", cases[i].raw, why);
		assert_string_equal(out, cases[i].want);
	}
	char out[16];
	const char *why = NULL;
	assert_false(fl_ddl_unquote("'\\0'", 4, out, &why));
	assert_non_null(why);
	assert_false(fl_ddl_unquote("'\\udc00'", 8, out, &why));
}

static void test_partition_names(void **state)
{
	(void)state;
	static const struct {
		const char *vals[2], *want;
	} names[] = {
		{ { "2024-01-01", "00" }, "dt=2024-01-01/hr=00" },
		{ { "a/b", "x=y:z%" }, "dt=a%2Fb/hr=x%3Dy%3Az%25" },
		{ { "sp ace", "\t'q'" }, "dt=sp ace/hr=%09%27q%27" },
		{ { "\xc3\xa9", "a#b?c*d[e]f^g{h\\i\"j" }, "dt=\xc3\xa9/hr=a%23b%3Fc%2Ad%5Be%5Df%5Eg%7Bh%5Ci%22j" },
	};
	const char *keys[] = { "dt", "hr" };
	struct fl_buf b;
	fl_buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(fl_ddl_partition_name(keys, 2, names[i].vals, &b), FL_OK);
		assert_string_equal(b.data, names[i].want);
		/* And each value reads back from its path segment. */
		const char *seg = strchr(b.data, '=') + 1, *end = strchr(seg, '/');
		char v[256];
		assert_true(fl_ddl_path_value(seg, (size_t)(end - seg), v));
		assert_string_equal(v, names[i].vals[0]);
		seg = strrchr(b.data, '=') + 1;
		assert_true(fl_ddl_path_value(seg, strlen(seg), v));
		assert_string_equal(v, names[i].vals[1]);
	}
	fl_buf_free(&b);
	static const struct {
		const char *seg, *want;
	} values[] = {
		{ "plain", "plain" }, { "%zz", "%zz" }, { "a%2", "a%2" }, { "%C3%A9", "\xc3\xa9" },
		{ "", NULL }, { "%00", NULL }, { "%FF", NULL }, { "a\xff", NULL },
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char v[256];
		bool ok = fl_ddl_path_value(values[i].seg, strlen(values[i].seg), v);
		assert_int_equal(ok, values[i].want != NULL);
		if (ok)
			assert_string_equal(v, values[i].want);
	}
	char big[300];
	memset(big, 'x', 256);
	char v[256];
	assert_false(fl_ddl_path_value(big, 256, v));
	assert_true(fl_ddl_path_value(big, 255, v));
}

static void test_patterns(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *name;
		bool match;
	} cases[] = {
		{ NULL, "anything", true },
		{ "events", "events", true },
		{ "events", "events_x", false },
		{ "ev*", "events", true },
		{ "EV*", "events", true },
		{ "ev*", "clicks", false },
		{ "*s", "clicks", true },
		{ "*ic*", "clicks", true },
		{ "ev*|cl*", "clicks", true },
		{ "ev*|cl*", "orders", false },
		{ "x|orders|y", "orders", true },
		{ "e.ents", "events", true },
		{ "e.ents", "evvents", false },
		{ "*", "t", true },
		{ "", "t", false },
		{ "a*b*c", "aXbYc", true },
		{ "a*b*c", "aXbY", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (fl_ddl_pattern_match(cases[i].pattern, cases[i].name) != cases[i].match)
			fail_msg("'%s' ~ '%s': want %d", cases[i].pattern ? cases[i].pattern : "(null)",
				 cases[i].name, cases[i].match);
}

/* ---- against a real catalog ---------------------------------------------------------- */

static PGconn *acquire(void)
{
	PGconn *c = NULL;
	struct fl_error err;
	if (fl_db_acquire(srv.db, &c, &err) != FL_OK)
		fail_msg("acquire: %s", err.msg);
	return c;
}

/* The first value of a statement's first row ("" for NULL, "<none>"
 * without a row). */
static void query1(const char *sql, const char *p1, const char *p2, char *out, size_t n)
{
	PGconn *c = acquire();
	PGresult *res = NULL;
	struct fl_error err;
	const char *params[] = { p1, p2 };
	if (fl_db_exec(c, sql, p2 ? 2 : p1 ? 1 : 0, params, &res, &err) != FL_OK)
		fail_msg("%s: %s", sql, err.msg);
	snprintf(out, n, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "<none>");
	PQclear(res);
	fl_db_release(srv.db, c);
}

static long long count(const char *sql, const char *p1, const char *p2)
{
	char v[64];
	query1(sql, p1, p2, v, sizeof v);
	return atoll(v);
}

static json_t *query_json(const char *sql, const char *p1, const char *p2)
{
	char *text = malloc(1 << 20);
	assert_non_null(text);
	query1(sql, p1, p2, text, 1 << 20);
	json_t *j = parse_json(text);
	free(text);
	return j;
}

/* Runs sql; *rows (caller decrefs) on FL_OK. */
static enum fl_result run_sql(const char *sql, const char *db, json_t **rows,
			      struct fl_error *err)
{
	json_t *cols = NULL;
	*rows = NULL;
	enum fl_result r = fl_ddl_run(&srv, sql, db, &cols, rows, err);
	if (r == FL_OK) {
		assert_non_null(cols);
		assert_non_null(*rows);
		/* Every row as wide as the columns. */
		for (size_t i = 0; i < json_array_size(*rows); i++)
			assert_int_equal(json_array_size(json_array_get(*rows, i)),
					 json_array_size(cols));
	} else {
		assert_null(cols);
		assert_null(*rows);
	}
	json_decref(cols);
	return r;
}

/* Runs sql and expects these rows (JSON). */
static void expect_rows(const char *sql, const char *db, const char *want)
{
	json_t *rows = NULL;
	struct fl_error err = { .code = FL_OK };
	if (run_sql(sql, db, &rows, &err) != FL_OK)
		fail_msg("%s: %s", sql, err.msg);
	if (want)
		assert_json_eq(rows, want);
	json_decref(rows);
}

static void expect_error(const char *sql, const char *db, enum fl_result code, const char *msg)
{
	json_t *rows = NULL;
	struct fl_error err = { .code = FL_OK };
	enum fl_result r = run_sql(sql, db, &rows, &err);
	if (r != code)
		fail_msg("%s: result %d (%s), want %d", sql, (int)r, r ? err.msg : "", (int)code);
	assert_contains(err.msg, msg);
}

static void put(const char *key, const char *data)
{
	struct fl_error err;
	if (fl_storage_put(srv.storage, "lake", key, data, strlen(data), &err) != FL_OK)
		fail_msg("put %s: %s", key, err.msg);
}

static void test_start(void **state)
{
	(void)state;
	char dir[PATH_MAX + 16];
	struct fl_error err = { .code = FL_OK };
	snprintf(dir, sizeof dir, "%s/pg", tmp);
	if (fl_pgembed_start(dir, &pg, conninfo, sizeof conninfo, &err) != FL_OK)
		fail_msg("fl_pgembed_start: %s", err.msg);
	if (fl_db_open(conninfo, 4, &srv.db, &err) != FL_OK)
		fail_msg("fl_db_open: %s", err.msg);
	snprintf(dir, sizeof dir, "%s/lake", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	if (fl_storage_local_open(dir, &srv.storage, &err) != FL_OK)
		fail_msg("fl_storage_local_open: %s", err.msg);
}

static void test_columns_info(void **state)
{
	(void)state;
	json_t *cols = NULL, *rows = NULL;
	struct fl_error err;
	assert_int_equal(fl_ddl_run(&srv, "SHOW TABLES", NULL, &cols, &rows, &err), FL_OK);
	assert_json_eq(cols, "[{\"CatalogName\":\"hive\",\"SchemaName\":\"\",\"TableName\":\"\","
		       "\"Name\":\"tab_name\",\"Label\":\"tab_name\",\"Type\":\"string\","
		       "\"Precision\":0,\"Scale\":0,\"Nullable\":\"UNKNOWN\","
		       "\"CaseSensitive\":false}]");
	assert_json_eq(rows, "[]");
	json_decref(cols);
	json_decref(rows);
	/* A statement that answers nothing has no columns. */
	assert_int_equal(fl_ddl_run(&srv, "CREATE DATABASE IF NOT EXISTS default", NULL, &cols,
				    &rows, &err), FL_OK);
	assert_json_eq(cols, "[]");
	assert_json_eq(rows, "[]");
	json_decref(cols);
	json_decref(rows);
	/* Syntax errors and bad query databases leave nothing behind. */
	expect_error("SHOW TABLES IN", NULL, FL_INVALID, "line 1:15: mismatched input '<EOF>'");
	expect_error("SHOW TABLES", "bad-db", FL_INVALID, "database name 'bad-db' is not a valid");
}

static void test_databases(void **state)
{
	(void)state;
	expect_rows("CREATE DATABASE Sales COMMENT 'Sales data' LOCATION 's3://lake/sales/' "
		    "WITH DBPROPERTIES ('creator'='me')", NULL, "[]");
	json_t *spec = query_json("SELECT spec FROM fl_glue_databases WHERE name = $1", "sales",
				  NULL);
	assert_json_eq(spec, "{\"Description\":\"Sales data\",\"LocationUri\":\"s3://lake/sales/\","
		       "\"Parameters\":{\"creator\":\"me\"}}");
	json_decref(spec);
	expect_error("CREATE DATABASE sales", NULL, FL_EXISTS,
		     "FAILED: Execution Error, return code 1 from "
		     "org.apache.hadoop.hive.ql.exec.DDLTask. Database sales already exists");
	expect_rows("CREATE SCHEMA IF NOT EXISTS sales COMMENT 'other'", NULL, "[]");
	spec = query_json("SELECT spec FROM fl_glue_databases WHERE name = $1", "sales", NULL);
	assert_string_equal(json_string_value(json_object_get(spec, "Description")), "Sales data");
	json_decref(spec);
	expect_rows("CREATE DATABASE staging_2", NULL, "[]");
	expect_rows("SHOW DATABASES", NULL, "[[\"default\"],[\"sales\"],[\"staging_2\"]]");
	expect_rows("SHOW SCHEMAS LIKE 's*'", NULL, "[[\"sales\"],[\"staging_2\"]]");
	expect_rows("show databases like 'x*|DEF*'", NULL, "[[\"default\"]]");
	expect_rows("SHOW DATABASES LIKE 'nothing'", NULL, "[]");
}

static void test_create_tables(void **state)
{
	(void)state;
	/* Files already under a table without keys become its objects;
	 * hidden ones do not. */
	put("clicks/part-0.csv", "ts,url,n\n2024-01-01 00:00:00,/a,1\n");
	put("clicks/sub/part-1.csv", "ts,url,n\n");
	put("clicks/_SUCCESS", "");
	put("clicks/.part-0.csv.crc", "x");
	put("clicksother/x.csv", "x");

	expect_rows(JSON_TABLE, NULL, "[]");
	expect_rows(CSV_TABLE, "sales", "[]");
	struct fl_ddl_stmt *st = parse_ok(JSON_TABLE);
	json_t *spec = query_json("SELECT spec FROM fl_glue_tables WHERE db = $1 AND name = $2",
				  "sales", "events");
	assert_true(json_equal(spec, st->spec));
	json_decref(spec);
	fl_ddl_stmt_free(st);
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE db = $1 AND tbl = $2 AND "
			       "kind = 'crawled' AND vals = '{}'", "sales", "clicks"), 2);
	assert_int_equal(count("SELECT bytes FROM fl_objects WHERE bucket = 'lake' AND key = $1 "
			       "AND records = 0 AND min_created_at IS NULL AND partition_path = $2",
			       "clicks/part-0.csv", "clicks/"), 34);
	/* The partitioned table waits for its partitions. */
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE db = $1 AND tbl = $2",
			       "sales", "events"), 0);

	expect_rows(JSON_TABLE, NULL, "[]");     /* IF NOT EXISTS */
	expect_error("CREATE EXTERNAL TABLE sales.events (a int) LOCATION 's3://lake/x/'", NULL,
		     FL_EXISTS, "AlreadyExistsException(message:Table sales.events already exists)");
	expect_error("CREATE EXTERNAL TABLE nowhere.t (a int) LOCATION 's3://lake/x/'", NULL,
		     FL_NOT_FOUND, "FAILED: SemanticException [Error 10072]: Database does not "
		     "exist: nowhere");
	expect_rows("CREATE EXTERNAL TABLE orders (id bigint, total double) "
		    "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
		    "LOCATION 's3://lake/orders/'", "sales", "[]");

	expect_rows("SHOW TABLES IN sales", NULL, "[[\"clicks\"],[\"events\"],[\"orders\"]]");
	expect_rows("SHOW TABLES", "sales", "[[\"clicks\"],[\"events\"],[\"orders\"]]");
	expect_rows("SHOW TABLES", NULL, "[]");
	expect_rows("SHOW TABLES IN sales 'ev*|or*'", NULL, "[[\"events\"],[\"orders\"]]");
	expect_rows("SHOW TABLES LIKE '*s'", "Sales", "[[\"clicks\"],[\"events\"],[\"orders\"]]");
	expect_rows("SHOW TABLES 'c.icks'", "sales", "[[\"clicks\"]]");
	expect_error("SHOW TABLES IN nowhere", NULL, FL_NOT_FOUND,
		     "FAILED: SemanticException [Error 10072]: Database does not exist: nowhere");
	expect_error("SHOW TABLES", "nowhere", FL_NOT_FOUND, "Database does not exist: nowhere");
}

#define EVENTS_COLUMNS \
	"[\"event_uuid\",\"string\",\"id\"],[\"created_at\",\"bigint\",\"\"]," \
	"[\"amount\",\"decimal(10,2)\",\"\"],[\"tags\",\"array<string>\",\"\"]," \
	"[\"attrs\",\"map<string,int>\",\"\"]," \
	"[\"user\",\"struct<id:int,name:varchar(20)>\",\"\"]," \
	"[\"dt\",\"string\",\"\"],[\"hr\",\"int\",\"\"]"

static void test_describe(void **state)
{
	(void)state;
	expect_rows("DESCRIBE sales.events", NULL,
		    "[" EVENTS_COLUMNS ",[\"\",\"\",\"\"],"
		    "[\"# Partition Information\",\"\",\"\"],"
		    "[\"# col_name\",\"data_type\",\"comment\"],[\"\",\"\",\"\"],"
		    "[\"dt\",\"string\",\"\"],[\"hr\",\"int\",\"\"]]");
	expect_rows("describe clicks", "sales",
		    "[[\"ts\",\"timestamp\",\"\"],[\"url\",\"string\",\"\"],[\"n\",\"int\",\"\"]]");
	json_t *rows = NULL;
	struct fl_error err;
	assert_int_equal(run_sql("DESCRIBE FORMATTED clicks", "sales", &rows, &err), FL_OK);
	assert_json_eq(json_array_get(rows, 0), "[\"# col_name\",\"data_type\",\"comment\"]");
	assert_json_eq(json_array_get(rows, 2), "[\"ts\",\"timestamp\",\"\"]");
	assert_json_eq(json_array_get(rows, 6), "[\"# Detailed Table Information\",\"\",\"\"]");
	assert_json_eq(json_array_get(rows, 7), "[\"Database:\",\"sales\",\"\"]");
	bool location = false, param = false, serde = false, delim = false;
	for (size_t i = 0; i < json_array_size(rows); i++) {
		json_t *r = json_array_get(rows, i);
		const char *a = json_string_value(json_array_get(r, 0));
		const char *b = json_string_value(json_array_get(r, 1));
		const char *c = json_string_value(json_array_get(r, 2));
		location |= strcmp(a, "Location:") == 0 && strcmp(b, "s3://lake/clicks") == 0;
		param |= !*a && strcmp(b, "skip.header.line.count") == 0 && strcmp(c, "1") == 0;
		serde |= strcmp(a, "SerDe Library:") == 0 &&
			 strcmp(b, "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe") == 0;
		delim |= !*a && strcmp(b, "field.delim") == 0 && strcmp(c, ",") == 0;
	}
	assert_true(location && param && serde && delim);
	json_decref(rows);

	expect_rows("SHOW COLUMNS IN events IN sales", NULL,
		    "[[\"event_uuid\"],[\"created_at\"],[\"amount\"],[\"tags\"],[\"attrs\"],"
		    "[\"user\"],[\"dt\"],[\"hr\"]]");
	expect_rows("SHOW COLUMNS FROM sales.clicks", NULL, "[[\"ts\"],[\"url\"],[\"n\"]]");
	expect_rows("SHOW TBLPROPERTIES sales.clicks", NULL,
		    "[[\"EXTERNAL\",\"TRUE\"],[\"classification\",\"csv\"],"
		    "[\"skip.header.line.count\",\"1\"]]");
	expect_rows("SHOW TBLPROPERTIES sales.clicks('classification')", NULL, "[[\"csv\"]]");
	expect_error("SHOW TBLPROPERTIES sales.clicks('nope')", NULL, FL_NOT_FOUND,
		     "does not have property: nope");

	expect_error("DESCRIBE sales.nope", NULL, FL_NOT_FOUND,
		     "FAILED: SemanticException [Error 10001]: Table not found sales.nope");
	expect_error("DESCRIBE nope", "sales", FL_NOT_FOUND, "Table not found sales.nope");
	expect_error("DESCRIBE events", NULL, FL_NOT_FOUND, "Table not found default.events");
	expect_error("SHOW COLUMNS IN t IN nowhere", NULL, FL_NOT_FOUND,
		     "Table not found nowhere.t");
	expect_error("SHOW CREATE TABLE nowhere.t", NULL, FL_NOT_FOUND, "Table not found");
	expect_error("SHOW PARTITIONS sales.clicks", NULL, FL_INVALID,
		     "Table clicks is not a partitioned table");
}

/* SHOW CREATE TABLE's rows joined into the statement. */
static char *show_create(const char *table)
{
	char sql[256];
	json_t *rows = NULL;
	struct fl_error err;
	struct fl_buf b;
	fl_buf_init(&b, 1 << 20);
	snprintf(sql, sizeof sql, "SHOW CREATE TABLE %s", table);
	if (run_sql(sql, NULL, &rows, &err) != FL_OK)
		fail_msg("%s: %s", sql, err.msg);
	for (size_t i = 0; i < json_array_size(rows); i++)
		assert_int_equal(fl_buf_printf(&b, "%s%s", i ? "\n" : "",
					       json_string_value(json_array_get(
						       json_array_get(rows, i), 0))), FL_OK);
	json_decref(rows);
	return fl_buf_steal(&b, NULL);
}

static void test_show_create_round_trip(void **state)
{
	(void)state;
	static const char *const tables[] = { "sales.events", "sales.clicks", "sales.orders" };
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		char db[64], name[64];
		sscanf(tables[i], "%63[^.].%63s", db, name);
		json_t *before = query_json("SELECT spec FROM fl_glue_tables WHERE db = $1 AND "
					    "name = $2", db, name);
		char *text = show_create(tables[i]);
		char drop[128];
		snprintf(drop, sizeof drop, "DROP TABLE %s", tables[i]);
		expect_rows(drop, NULL, "[]");
		assert_int_equal(count("SELECT count(*) FROM fl_glue_tables WHERE db = $1 AND "
				       "name = $2", db, name), 0);
		expect_rows(text, "default", "[]");
		json_t *after = query_json("SELECT spec FROM fl_glue_tables WHERE db = $1 AND "
					   "name = $2", db, name);
		if (!json_equal(before, after)) {
			char *x = json_dumps(before, JSON_SORT_KEYS), *y = json_dumps(after, JSON_SORT_KEYS);
			fail_msg("%s\n%s\nbefore %s\nafter  %s", tables[i], text, x, y);
		}
		char *again = show_create(tables[i]);
		assert_string_equal(again, text);
		free(again);
		free(text);
		json_decref(before);
		json_decref(after);
	}
	/* The first row is Hive's. */
	char *text = show_create("sales.clicks");
	static const char first[] = "CREATE EXTERNAL TABLE `sales`.`clicks`(\n  `ts` timestamp, \n";
	assert_true(strncmp(text, first, strlen(first)) == 0);
	free(text);
}

static void test_partitions(void **state)
{
	(void)state;
	put("events/dt=2024-01-01/hr=0/a.json", "{\"a\":1}\n");
	put("events/dt=2024-01-01/hr=0/_SUCCESS", "");
	put("other/place/b.json", "{\"b\":2}\n{\"b\":3}\n");
	expect_rows("ALTER TABLE sales.events ADD PARTITION (dt='2024-01-01', hr=0) "
		    "PARTITION (hr='1', dt='2024-01-01') LOCATION 's3://lake/other/place/'", NULL,
		    "[]");
	json_t *p = query_json("SELECT jsonb_agg(jsonb_build_array(vals, "
			       "spec->'StorageDescriptor'->>'Location') ORDER BY vals) FROM "
			       "fl_glue_partitions WHERE db = $1 AND tbl = $2", "sales", "events");
	assert_json_eq(p, "[[[\"2024-01-01\",\"0\"],\"s3://lake/events/dt=2024-01-01/hr=0/\"],"
		       "[[\"2024-01-01\",\"1\"],\"s3://lake/other/place/\"]]");
	json_decref(p);
	/* The partition copies the table's descriptor. */
	p = query_json("SELECT spec->'StorageDescriptor'->'SerdeInfo' FROM fl_glue_partitions "
		       "WHERE db = $1 AND tbl = $2 LIMIT 1", "sales", "events");
	assert_json_eq(p, "{\"SerializationLibrary\":\"org.openx.data.jsonserde.JsonSerDe\","
		       "\"Parameters\":{\"ignore.malformed.json\":\"true\"}}");
	json_decref(p);
	/* Their objects are registered, each under its partition. */
	p = query_json("SELECT jsonb_agg(jsonb_build_array(key, vals, bytes, partition_path) "
		       "ORDER BY key) FROM fl_objects WHERE db = $1 AND tbl = $2", "sales", "events");
	assert_json_eq(p, "[[\"events/dt=2024-01-01/hr=0/a.json\",[\"2024-01-01\",\"0\"],8,"
		       "\"events/dt=2024-01-01/hr=0/\"],"
		       "[\"other/place/b.json\",[\"2024-01-01\",\"1\"],16,\"other/place/\"]]");
	json_decref(p);

	expect_error("ALTER TABLE sales.events ADD PARTITION (dt='2024-01-02', hr='5') "
		     "PARTITION (dt='2024-01-01', hr=0)", NULL, FL_EXISTS,
		     "AlreadyExistsException(message:Partition already exists: "
		     "events:dt=2024-01-01/hr=0)");
	/* All or nothing. */
	assert_int_equal(count("SELECT count(*) FROM fl_glue_partitions WHERE db = $1 AND "
			       "tbl = $2", "sales", "events"), 2);
	expect_rows("ALTER TABLE events ADD IF NOT EXISTS PARTITION (dt='2024-01-02', hr='5') "
		    "PARTITION (dt='2024-01-01', hr=0) PARTITION (dt='a/b', hr='x=y')", "sales", "[]");
	expect_error("ALTER TABLE sales.events ADD PARTITION (dt='x')", NULL, FL_INVALID,
		     "partition spec is invalid; field hr does not exist or is empty");
	expect_error("ALTER TABLE sales.events ADD PARTITION (dt='x', hr='')", NULL, FL_INVALID,
		     "field hr does not exist or is empty");
	expect_error("ALTER TABLE sales.events ADD PARTITION (dt='x', hr='1', zz='2')", NULL,
		     FL_INVALID, "Non-Partition column appears in the partition specification: zz");
	expect_error("ALTER TABLE sales.clicks ADD PARTITION (dt='x')", NULL, FL_INVALID,
		     "is not a partitioned table");
	expect_error("ALTER TABLE sales.nope ADD PARTITION (dt='x')", NULL, FL_NOT_FOUND,
		     "Table not found sales.nope");

	expect_rows("SHOW PARTITIONS sales.events", NULL,
		    "[[\"dt=2024-01-01/hr=0\"],[\"dt=2024-01-01/hr=1\"],[\"dt=2024-01-02/hr=5\"],"
		    "[\"dt=a%2Fb/hr=x%3Dy\"]]");
	p = query_json("SELECT spec->'StorageDescriptor'->'Location' FROM fl_glue_partitions "
		       "WHERE db = $1 AND vals = '{a/b,x=y}'", "sales", NULL);
	assert_json_eq(p, "\"s3://lake/events/dt=a%2Fb/hr=x%3Dy/\"");
	json_decref(p);
	expect_rows("SHOW PARTITIONS events PARTITION (dt='2024-01-01')", "sales",
		    "[[\"dt=2024-01-01/hr=0\"],[\"dt=2024-01-01/hr=1\"]]");
	expect_rows("SHOW PARTITIONS events PARTITION (hr='5')", "sales",
		    "[[\"dt=2024-01-02/hr=5\"]]");
	expect_error("SHOW PARTITIONS sales.events PARTITION (x='1')", NULL, FL_INVALID,
		     "Non-Partition column");

	/* DROP: whole and partial specs; a spec that matches nothing fails
	 * the statement unless IF EXISTS. */
	expect_error("ALTER TABLE sales.events DROP PARTITION (dt='2024-01-02', hr='5'), "
		     "PARTITION (dt='1999-01-01')", NULL, FL_NOT_FOUND,
		     "FAILED: SemanticException [Error 10006]: Partition not found "
		     "(dt = '1999-01-01')");
	assert_int_equal(count("SELECT count(*) FROM fl_glue_partitions WHERE db = $1 AND "
			       "tbl = $2", "sales", "events"), 4);
	expect_rows("ALTER TABLE sales.events DROP IF EXISTS PARTITION (dt='2024-01-02', hr='5'), "
		    "PARTITION (dt='1999-01-01')", NULL, "[]");
	expect_rows("ALTER TABLE sales.events DROP PARTITION (dt='2024-01-01')", NULL, "[]");
	expect_rows("SHOW PARTITIONS sales.events", NULL, "[[\"dt=a%2Fb/hr=x%3Dy\"]]");
	/* Their crawled objects went with them. */
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE db = $1 AND tbl = $2",
			       "sales", "events"), 0);
}

static void test_msck(void **state)
{
	(void)state;
	put("msck/dt=2024-01-01/hr=00/a.json", "{\"a\":1}\n");
	put("msck/dt=2024-01-01/hr=00/b.json", "{\"a\":22}\n");
	put("msck/dt=2024-01-01/hr=01/a.json", "{}\n");
	put("msck/dt=2024-01-02/hr=00/_SUCCESS", "");
	put("msck/dt=2024-01-02/hr=00/x.json", "{}\n");
	put("msck/dt=2024-01-02/hr=00/.x.json.crc", "crc");
	put("msck/dt=2024%2F01/hr=00/e.json", "{}\n");
	put("msck/dt=2024-01-03/y.json", "{}\n");            /* a level short */
	put("msck/other/z.json", "{}\n");                     /* not key=value */
	put("msck/hr=00/dt=2024-01-05/w.json", "{}\n");       /* keys out of order */
	put("msck/_tmp/dt=2024-01-06/hr=00/v.json", "{}\n");  /* hidden */
	put("msck/top.json", "{}\n");                         /* no partition */
	put("msck/dt=/hr=00/q.json", "{}\n");                 /* empty value */
	expect_rows("CREATE EXTERNAL TABLE msck_t (a int) PARTITIONED BY (dt string, hr string) "
		    "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
		    "LOCATION 's3://lake/msck'", "sales", "[]");
	expect_rows("ALTER TABLE msck_t ADD PARTITION (dt='2024-01-01', hr='01')", "sales", "[]");
	expect_rows("MSCK REPAIR TABLE sales.msck_t", NULL,
		    "[[\"Partitions not in metastore:\\tmsck_t:dt=2024%2F01/hr=00"
		    "\\tmsck_t:dt=2024-01-01/hr=00\\tmsck_t:dt=2024-01-02/hr=00\"],"
		    "[\"Repair: Added partition to metastore msck_t:dt=2024%2F01/hr=00\"],"
		    "[\"Repair: Added partition to metastore msck_t:dt=2024-01-01/hr=00\"],"
		    "[\"Repair: Added partition to metastore msck_t:dt=2024-01-02/hr=00\"]]");
	json_t *p = query_json("SELECT jsonb_agg(jsonb_build_array(vals, "
			       "spec->'StorageDescriptor'->>'Location') ORDER BY vals) FROM "
			       "fl_glue_partitions WHERE db = $1 AND tbl = $2", "sales", "msck_t");
	assert_json_eq(p, "[[[\"2024-01-01\",\"00\"],\"s3://lake/msck/dt=2024-01-01/hr=00/\"],"
		       "[[\"2024-01-01\",\"01\"],\"s3://lake/msck/dt=2024-01-01/hr=01/\"],"
		       "[[\"2024-01-02\",\"00\"],\"s3://lake/msck/dt=2024-01-02/hr=00/\"],"
		       "[[\"2024/01\",\"00\"],\"s3://lake/msck/dt=2024%2F01/hr=00/\"]]");
	json_decref(p);
	p = query_json("SELECT jsonb_agg(jsonb_build_array(key, vals, bytes, records, kind, "
		       "partition_path) ORDER BY key) FROM fl_objects WHERE db = $1 AND tbl = $2",
		       "sales", "msck_t");
	assert_json_eq(p,
		"[[\"msck/dt=2024%2F01/hr=00/e.json\",[\"2024/01\",\"00\"],3,0,\"crawled\","
		"\"msck/dt=2024%2F01/hr=00/\"],"
		"[\"msck/dt=2024-01-01/hr=00/a.json\",[\"2024-01-01\",\"00\"],8,0,\"crawled\","
		"\"msck/dt=2024-01-01/hr=00/\"],"
		"[\"msck/dt=2024-01-01/hr=00/b.json\",[\"2024-01-01\",\"00\"],9,0,\"crawled\","
		"\"msck/dt=2024-01-01/hr=00/\"],"
		"[\"msck/dt=2024-01-01/hr=01/a.json\",[\"2024-01-01\",\"01\"],3,0,\"crawled\","
		"\"msck/dt=2024-01-01/hr=01/\"],"
		"[\"msck/dt=2024-01-02/hr=00/x.json\",[\"2024-01-02\",\"00\"],3,0,\"crawled\","
		"\"msck/dt=2024-01-02/hr=00/\"]]");
	json_decref(p);
	/* Again: nothing new, nothing twice; a new file in a known
	 * partition is registered. */
	put("msck/dt=2024-01-02/hr=00/y.json", "{}\n");
	expect_rows("MSCK REPAIR TABLE msck_t", "sales", "[]");
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE db = $1 AND tbl = $2",
			       "sales", "msck_t"), 6);
	assert_int_equal(count("SELECT count(*) FROM fl_glue_partitions WHERE db = $1 AND "
			       "tbl = $2", "sales", "msck_t"), 4);
	/* A partition that reads from elsewhere does not take the folder's
	 * objects. */
	put("msck/dt=2024-02-01/hr=00/f.json", "{}\n");
	expect_rows("ALTER TABLE msck_t ADD PARTITION (dt='2024-02-01', hr='00') "
		    "LOCATION 's3://lake/elsewhere/'", "sales", "[]");
	expect_rows("MSCK REPAIR TABLE msck_t", "sales", "[]");
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE key = $1",
			       "msck/dt=2024-02-01/hr=00/f.json", NULL), 0);

	/* A table without keys: the objects under its location. */
	put("clicks/part-2.csv", "ts,url,n\n");
	expect_rows("MSCK REPAIR TABLE sales.clicks", NULL, "[]");
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE db = $1 AND tbl = $2",
			       "sales", "clicks"), 3);
	expect_error("MSCK REPAIR TABLE sales.nope", NULL, FL_NOT_FOUND, "Table not found sales.nope");
}

static void test_drops(void **state)
{
	(void)state;
	expect_rows("DROP TABLE sales.msck_t", NULL, "[]");
	assert_int_equal(count("SELECT count(*) FROM fl_glue_partitions WHERE db = $1 AND "
			       "tbl = $2", "sales", "msck_t"), 0);
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE db = $1 AND tbl = $2",
			       "sales", "msck_t"), 0);
	expect_error("DROP TABLE sales.msck_t", NULL, FL_NOT_FOUND,
		     "FAILED: SemanticException [Error 10001]: Table not found sales.msck_t");
	expect_rows("DROP TABLE IF EXISTS sales.msck_t", NULL, "[]");
	expect_rows("DROP TABLE IF EXISTS nowhere.t", NULL, "[]");

	expect_error("DROP DATABASE sales", NULL, FL_INVALID,
		     "FAILED: Execution Error, return code 1 from "
		     "org.apache.hadoop.hive.ql.exec.DDLTask. InvalidOperationException(message:"
		     "Database sales is not empty. One or more tables exist.)");
	expect_error("DROP SCHEMA sales RESTRICT", NULL, FL_INVALID, "is not empty");
	assert_int_equal(count("SELECT count(*) FROM fl_glue_tables WHERE db = $1", "sales", NULL),
			 3);
	expect_rows("DROP DATABASE staging_2", NULL, "[]");
	expect_rows("DROP DATABASE sales CASCADE", NULL, "[]");
	assert_int_equal(count("SELECT count(*) FROM fl_glue_tables WHERE db = $1", "sales", NULL),
			 0);
	assert_int_equal(count("SELECT count(*) FROM fl_glue_partitions WHERE db = $1", "sales",
			       NULL), 0);
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE db = $1", "sales", NULL), 0);
	expect_rows("SHOW DATABASES", NULL, "[[\"default\"]]");
	expect_error("DROP DATABASE sales", NULL, FL_NOT_FOUND,
		     "FAILED: SemanticException [Error 10072]: Database does not exist: sales");
	expect_rows("DROP DATABASE IF EXISTS sales CASCADE", NULL, "[]");
	expect_error("DROP DATABASE default", NULL, FL_INVALID, "Can not drop default database");
	/* Objects that a stream delivered stay with the stream. */
	PGconn *c = acquire();
	struct fl_error err;
	assert_int_equal(fl_db_exec(c, "INSERT INTO fl_objects (bucket, key, stream, kind, "
				    "partition_path, bytes, records, db, tbl, vals) VALUES ('lake', "
				    "'s/1.gz', 's', 'data', 's/', 1, 1, 'default', 'st', '{}')",
				    0, NULL, NULL, &err), FL_OK);
	fl_db_release(srv.db, c);
	expect_rows("CREATE EXTERNAL TABLE st (a int) LOCATION 's3://lake/s/'", NULL, "[]");
	expect_rows("DROP TABLE st", NULL, "[]");
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE key = 's/1.gz'", NULL, NULL),
			 1);
}

/* ---- setup ---------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/fl-test-ddl-XXXXXX");
	if (!mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fl_storage_free(srv.storage);
	srv.storage = NULL;
	fl_db_free(srv.db);
	srv.db = NULL;
	fl_pgembed_stop(pg);
	pg = NULL;
	if (tmp[0] && !getenv("FL_TEST_KEEP"))
		nftw(tmp, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statement_type),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_table_input),
		cmocka_unit_test(test_create_text),
		cmocka_unit_test(test_unquote),
		cmocka_unit_test(test_partition_names),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_columns_info),
		cmocka_unit_test(test_databases),
		cmocka_unit_test(test_create_tables),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_show_create_round_trip),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_msck),
		cmocka_unit_test(test_drops),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
