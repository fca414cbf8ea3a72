/*
 * test_catalog.c - catalog upkeep (catalog.c): names, paging tokens, the
 * tables of streams, partitions read from evaluated prefixes (pure,
 * table-driven), and the rows written into a real embedded PostgreSQL:
 * tables, partitions and objects written twice stay one row, schemas
 * merge (new columns, widening, clashes, never a partition key) with the
 * version moving only on change, and two merges from two connections
 * serialise on the table's row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "db.h"
#include "pgembed.h"
#include "schema.h"
#include "stream.h"

static char tmp[PATH_MAX];
static char conninfo[1024];
static struct fl_pgembed *pg;
static struct fl_db *db;

/* ---- helpers ------------------------------------------------------------ */

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!j)
		fail_msg("bad JSON (%s): %s", jerr.text, text);
	return j;
}

static void assert_json_eq(const json_t *got, const char *want_text)
{
	json_t *want = parse(want_text);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
		print_error("got  %s\nwant %s\n", g ? g : "(null)", want_text);
		free(g);
		json_decref(want);
		fail();
	}
	json_decref(want);
}

static PGconn *acquire(void)
{
	PGconn *c = NULL;
	struct fl_error err;
	if (fl_db_acquire(db, &c, &err) != FL_OK)
		fail_msg("acquire: %s", err.msg);
	return c;
}

/* The first value of a statement's first row as text ("" for NULL,
 * "<none>" without a row). */
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
	fl_db_release(db, c);
}

static long long count(const char *sql, const char *p1, const char *p2)
{
	char v[64];
	query1(sql, p1, p2, v, sizeof v);
	return atoll(v);
}

/* A table's spec, parsed (caller decrefs). */
static json_t *table_spec(const char *dbname, const char *tbl)
{
	char *text = malloc(1 << 20);
	assert_non_null(text);
	query1("SELECT spec FROM fl_glue_tables WHERE db = $1 AND name = $2", dbname, tbl,
	       text, 1 << 20);
	json_t *j = parse(text);
	free(text);
	return j;
}

static json_t *table_columns(const char *dbname, const char *tbl)
{
	json_t *spec = table_spec(dbname, tbl);
	json_t *cols = json_incref(json_object_get(json_object_get(spec, "StorageDescriptor"),
						   "Columns"));
	json_decref(spec);
	return cols;
}

static long long table_version(const char *dbname, const char *tbl)
{
	return count("SELECT version_id FROM fl_glue_tables WHERE db = $1 AND name = $2",
		     dbname, tbl);
}

static struct fl_stream_conf *conf_of(const char *dest_text)
{
	json_t *dest = parse(dest_text);
	struct fl_stream_conf *c = NULL;
	struct fl_error err;
	if (fl_stream_conf_new(dest, true, 1, &c, &err) != FL_OK)
		fail_msg("fl_stream_conf_new: %s: %s", err.msg, dest_text);
	json_decref(dest);
	return c;
}

static struct fl_schema *observed(const char *const *lines)
{
	struct fl_schema *s = fl_schema_new();
	assert_non_null(s);
	for (; *lines; lines++)
		assert_int_equal(fl_schema_observe_json(s, *lines, strlen(*lines)), FL_OK);
	return s;
}

/* A table made the way a stream's is, with these keys. */
static void make_table(const char *dbname, const char *name, const char *const *keys,
		       size_t nkeys)
{
	struct fl_catalog_table t;
	memset(&t, 0, sizeof t);
	snprintf(t.db, sizeof t.db, "%s", dbname);
	snprintf(t.name, sizeof t.name, "%s", name);
	snprintf(t.location, sizeof t.location, "s3://lake/%s/", name);
	for (size_t i = 0; i < nkeys; i++)
		snprintf(t.keys[i], sizeof t.keys[i], "%s", keys[i]);
	t.nkeys = nkeys;
	t.stream = name;
	PGconn *c = acquire();
	struct fl_error err;
	if (fl_catalog_ensure_table(c, &t, &err) != FL_OK)
		fail_msg("ensure_table: %s", err.msg);
	fl_db_release(db, c);
}

static enum fl_result merge(const char *dbname, const char *tbl, const char *const *lines,
			    struct fl_error *err)
{
	struct fl_schema *s = observed(lines);
	PGconn *c = acquire();
	enum fl_result r = fl_catalog_merge_schema(c, dbname, tbl, s, err);
	fl_db_release(db, c);
	fl_schema_free(s);
	return r;
}

#define ROLE "\"RoleARN\":\"arn:aws:iam::000000000000:role/firehose\""
#define BUCKET "\"BucketARN\":\"arn:aws:s3:::lake\""
#define DP "\"DynamicPartitioningConfiguration\":{\"Enabled\":true}," \
	"\"BufferingHints\":{\"SizeInMBs\":64,\"IntervalInSeconds\":60}"
#define QUERY(q) "\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[" \
	"{\"Type\":\"MetadataExtraction\",\"Parameters\":[" \
	"{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"" q "\"}," \
	"{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.6\"}]}]}"
#define EPREFIX "\"ErrorOutputPrefix\":\"errors/!{firehose:error-output-type}/\""
#define LAKE_PREFIX "raw/events/event_type=!{partitionKeyFromQuery:event_type}/" \
	"dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/"

/* ---- names and tokens (pure) ------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		enum fl_result r;
		const char *out;
	} cases[] = {
		{ "events", FL_OK, "events" },
		{ "Web_Clicks_V2", FL_OK, "web_clicks_v2" },
		{ "0", FL_OK, "0" },
		{ "", FL_INVALID, NULL },
		{ "x; DROP TABLE y", FL_INVALID, NULL },
		{ "Robert'); --", FL_INVALID, NULL },
		{ "a\"b", FL_INVALID, NULL },
		{ "with space", FL_INVALID, NULL },
		{ "dash-name", FL_INVALID, NULL },
		{ "dot.name", FL_INVALID, NULL },
		{ "caf\xc3\xa9", FL_INVALID, NULL },         /* é */
		{ "\xe6\x97\xa5\xe6\x9c\xac", FL_INVALID, NULL },  /* 日本 */
		{ "nul\n", FL_INVALID, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[256];
		struct fl_error err = { .code = FL_OK };
		enum fl_result r = fl_catalog_name(cases[i].in, "table name", out, &err);
		if (r != cases[i].r)
			fail_msg("case %zu '%s': got %d want %d", i, cases[i].in, r, cases[i].r);
		if (r == FL_OK) {
			assert_string_equal(out, cases[i].out);
		} else {
			assert_int_equal(err.code, FL_INVALID);
			assert_non_null(strstr(err.msg, "table name '"));
			assert_non_null(strstr(err.msg, "is not a valid name"));
		}
	}
	/* Lengths: 255 is the most; the message shows 64 bytes of a long one. */
	char name[301], out[256];
	struct fl_error err;
	memset(name, 'A', 255);
	name[255] = '\0';
	assert_int_equal(fl_catalog_name(name, "database name", out, &err), FL_OK);
	assert_int_equal(strlen(out), 255);
	assert_int_equal(out[0], 'a');
	memset(name, 'a', 300);
	name[300] = '\0';
	assert_int_equal(fl_catalog_name(name, "database name", out, &err), FL_INVALID);
	assert_non_null(strstr(err.msg, "database name '"));
	char shown[70];
	memset(shown, 'a', 64);
	snprintf(shown + 64, sizeof shown - 64, "'");
	assert_non_null(strstr(err.msg, shown));
	memset(shown, 'a', 65);
	shown[65] = '\0';
	assert_null(strstr(err.msg, shown));
	/* A message never carries bytes that are not valid UTF-8 or control
	 * characters. */
	assert_int_equal(fl_catalog_name("a\xff\x01z", "table name", out, &err), FL_INVALID);
	assert_non_null(strstr(err.msg, "'a??z'"));
	assert_int_equal(fl_catalog_name(NULL, "table name", out, &err), FL_INVALID);
}

static void test_tokens(void **state)
{
	(void)state;
	static const char *const keys[] = {
		"a", "ab", "abc", "abcd", "events", "default\x1f" "events",
		"caf\xc3\xa9/\xe6\x97\xa5", "with space, comma and \"quote\"",
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char tok[256], back[256];
		struct fl_error err;
		assert_int_equal(fl_catalog_token_encode(keys[i], tok, sizeof tok), FL_OK);
		for (const char *p = tok; *p; p++)
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					       "0123456789-_.", *p));
		assert_int_equal(fl_catalog_token_decode(tok, back, sizeof back, &err), FL_OK);
		assert_string_equal(back, keys[i]);
	}
	/* A long key: encode refuses a buffer that is too small, decode a
	 * token whose key does not fit. */
	char key[1001], tok[1400], back[1001];
	struct fl_error err;
	for (int i = 0; i < 1000; i++)
		key[i] = (char)('a' + i % 26);
	key[1000] = '\0';
	assert_int_equal(fl_catalog_token_encode(key, tok, 100), FL_TOO_LARGE);
	assert_int_equal(fl_catalog_token_encode(key, tok, sizeof tok), FL_OK);
	assert_int_equal(fl_catalog_token_decode(tok, back, sizeof back, &err), FL_OK);
	assert_string_equal(back, key);
	assert_int_equal(fl_catalog_token_decode(tok, back, 500, &err), FL_INVALID);

	char good[64];
	assert_int_equal(fl_catalog_token_encode("events", good, sizeof good), FL_OK);
	char flipped[64];
	snprintf(flipped, sizeof flipped, "%s", good);
	flipped[strlen(flipped) - 1] ^= 1;  /* stray bits in the last group */
	const char *const garbage[] = {
		"", "events", "fl1", "fl0.ZXZlbnRz", "FL1.ZXZlbnRz", "fl1.ZXZlbnRz=",
		"fl1.ZXZl bnRz", "fl1.ZXZl+nRz", "fl1.ZXZl/nRz", "fl1.Z", "fl1.ZXZlb",
		"fl1.AA", "fl1.AAAA", "x; DROP TABLE y", flipped,
	};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		char out[64] = "untouched";
		struct fl_error e = { .code = FL_OK };
		if (fl_catalog_token_decode(garbage[i], out, sizeof out, &e) != FL_INVALID)
			fail_msg("garbage token %zu '%s' accepted as '%s'", i, garbage[i], out);
		assert_string_equal(e.msg, "Invalid pagination token");
		assert_string_equal(out, "");
	}
}

/* ---- stream tables (pure) ---------------------------------------------- */

static void test_stream_table(void **state)
{
	(void)state;
	static const struct {
		const char *stream, *dest;
		enum fl_result r;
		const char *db, *name, *location, *keys;  /* keys: comma-separated */
		bool compressed;
	} cases[] = {
		{ "events", "{" ROLE "," BUCKET ",\"Prefix\":\"" LAKE_PREFIX "\"," EPREFIX ","
		  "\"CompressionFormat\":\"GZIP\"," DP "," QUERY("{event_type: .t, dt: .d, hour: .h}") "}",
		  FL_OK, "default", "events", "s3://lake/raw/events/", "event_type,dt,hour", true },
		{ "app-logs.v1", "{" ROLE "," BUCKET ",\"Prefix\":\"logs/!{timestamp:yyyy/MM}/"
		  "dt=!{timestamp:yyyy-MM-dd}/\"," EPREFIX "}",
		  FL_OK, "default", "app_logs_v1", "s3://lake/logs/", "dt", false },
		{ "Raw", "{" ROLE "," BUCKET "}", FL_OK, "default", "raw", "s3://lake/", "", false },
		{ "plain", "{" ROLE "," BUCKET ",\"Prefix\":\"plain/data\"}",
		  FL_OK, "default", "plain", "s3://lake/plain/", "", false },
		{ "Web-Clicks.v2", "{" ROLE "," BUCKET ",\"Prefix\":\"clicks/Site=!{partitionKeyFromQuery:site}/"
		  "!{timestamp:yyyy/MM}/\"," EPREFIX "," DP "," QUERY("{site: .site}") "}",
		  FL_OK, "default", "web_clicks_v2", "s3://lake/clicks/", "site", false },
		{ "conv", "{" ROLE "," BUCKET ",\"Prefix\":\"c/\",\"DataFormatConversionConfiguration\":"
		  "{\"Enabled\":false,\"SchemaConfiguration\":{\"DatabaseName\":\"Analytics\","
		  "\"TableName\":\"Clicks\"}}}",
		  FL_OK, "analytics", "clicks", "s3://lake/c/", "", false },
		{ "conv2", "{" ROLE "," BUCKET ",\"DataFormatConversionConfiguration\":"
		  "{\"Enabled\":false,\"SchemaConfiguration\":{\"TableName\":\"only_table\"}}}",
		  FL_OK, "default", "only_table", "s3://lake/", "", false },
		{ "conv3", "{" ROLE "," BUCKET ",\"DataFormatConversionConfiguration\":"
		  "{\"Enabled\":false,\"SchemaConfiguration\":{\"DatabaseName\":\"my-db\"}}}",
		  FL_INVALID, NULL, NULL, NULL, NULL, false },
		{ "conv4", "{" ROLE "," BUCKET ",\"DataFormatConversionConfiguration\":"
		  "{\"Enabled\":false,\"SchemaConfiguration\":{\"TableName\":\"x;DROP_TABLE_y\"}}}",
		  FL_INVALID, NULL, NULL, NULL, NULL, false },
		{ "badkey", "{" ROLE "," BUCKET ",\"Prefix\":\"p/event-type=!{partitionKeyFromQuery:k}/\","
		  EPREFIX "," DP "," QUERY("{k: .k}") "}",
		  FL_INVALID, NULL, NULL, NULL, NULL, false },
		{ "dupkey", "{" ROLE "," BUCKET ",\"Prefix\":\"p/K=!{partitionKeyFromQuery:k}/"
		  "k=!{partitionKeyFromQuery:k}/\"," EPREFIX "," DP "," QUERY("{k: .k}") "}",
		  FL_INVALID, NULL, NULL, NULL, NULL, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_stream_conf *c = conf_of(cases[i].dest);
		struct fl_catalog_table t;
		struct fl_error err = { .code = FL_OK };
		enum fl_result r = fl_catalog_stream_table(cases[i].stream, c, &t, &err);
		if (r != cases[i].r)
			fail_msg("case %zu (%s): got %d want %d: %s", i, cases[i].stream, r,
				 cases[i].r, err.msg);
		if (r == FL_OK) {
			assert_string_equal(t.db, cases[i].db);
			assert_string_equal(t.name, cases[i].name);
			assert_string_equal(t.location, cases[i].location);
			char keys[512] = "";
			for (size_t k = 0; k < t.nkeys; k++)
				snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s",
					 k ? "," : "", t.keys[k]);
			assert_string_equal(keys, cases[i].keys);
			assert_int_equal(t.compressed, cases[i].compressed);
			assert_int_equal(t.format, FL_FORMAT_JSON);
			assert_string_equal(t.stream, cases[i].stream);
			assert_null(t.crawler);
		} else {
			assert_non_null(strstr(err.msg, "not a valid name") ?
					strstr(err.msg, "not a valid name") : strstr(err.msg, "twice"));
		}
		fl_stream_conf_unref(c);
	}
}

/* ---- partitions of evaluated prefixes (pure) ---------------------------- */

static void test_partition_of(void **state)
{
	(void)state;
	static const struct {
		const char *expr, *evaluated;
		enum fl_result r;
		const char *vals;      /* '|'-separated */
		const char *location;
	} cases[] = {
		{ LAKE_PREFIX, "raw/events/event_type=payment/dt=2026-01-01/hour=03/", FL_OK,
		  "payment|2026-01-01|03", "s3://lake/raw/events/event_type=payment/dt=2026-01-01/hour=03/" },
		/* A key value holding '/' moves the segments. */
		{ LAKE_PREFIX, "raw/events/event_type=a/b/dt=2026-01-01/hour=03/", FL_INVALID, NULL, NULL },
		{ LAKE_PREFIX, "raw/events/event_type=a/dt=2026/01/hour=03/", FL_INVALID, NULL, NULL },
		{ LAKE_PREFIX, "raw/events/event_type=a/dt=x/hour=1/dt=y/hour=2/", FL_INVALID, NULL, NULL },
		/* Literal text must match. */
		{ LAKE_PREFIX, "raw/other/event_type=a/dt=x/hour=1/", FL_INVALID, NULL, NULL },
		{ LAKE_PREFIX, "raw/events/type=a/dt=x/hour=1/", FL_INVALID, NULL, NULL },
		{ LAKE_PREFIX, "raw/events/event_type=a/dt=x/", FL_INVALID, NULL, NULL },
		{ LAKE_PREFIX, "raw/events/event_type=a/dt=x/hour=1", FL_INVALID, NULL, NULL },
		{ LAKE_PREFIX, "", FL_INVALID, NULL, NULL },
		/* A timestamp with '/' after the key. */
		{ "clicks/site=!{partitionKeyFromQuery:site}/!{timestamp:yyyy/MM}/",
		  "clicks/site=s0/2026/01/", FL_OK, "s0", "s3://lake/clicks/site=s0/" },
		{ "clicks/site=!{partitionKeyFromQuery:site}/!{timestamp:yyyy/MM}/",
		  "clicks/site=s0/2026/", FL_INVALID, NULL, NULL },
		{ "clicks/site=!{partitionKeyFromQuery:site}/!{timestamp:yyyy/MM}/",
		  "clicks/site=s/0/2026/01/", FL_INVALID, NULL, NULL },
		/* ... and before it. */
		{ "logs/!{timestamp:yyyy/MM}/dt=!{timestamp:yyyy-MM-dd}/",
		  "logs/2026/01/dt=2026-01-15/", FL_OK, "2026-01-15",
		  "s3://lake/logs/2026/01/dt=2026-01-15/" },
		{ "logs/!{timestamp:yyyy/MM}/dt=!{timestamp:yyyy-MM-dd}/",
		  "logs/2026-01/dt=2026-01-15/", FL_INVALID, NULL, NULL },
		/* A key whose timestamp prints '/', quoted or not: one value. */
		{ "t/d=!{timestamp:yyyy/MM}/", "t/d=2026/01/", FL_OK, "2026/01", "s3://lake/t/d=2026/01/" },
		{ "q/d=!{timestamp:yyyy'/'MM}/x/", "q/d=2026/01/x/", FL_OK, "2026/01",
		  "s3://lake/q/d=2026/01/" },
		{ "q/d=!{timestamp:yyyy'/'MM}/x/", "q/d=2026/01/y/", FL_INVALID, NULL, NULL },
		/* Text after the expression belongs to the value. */
		{ "p/k=!{partitionKeyFromQuery:k}_v/", "p/k=abc_v/", FL_OK, "abc_v", "s3://lake/p/k=abc_v/" },
		{ "p/k=!{partitionKeyFromQuery:k}_v/", "p/k=abc/", FL_INVALID, NULL, NULL },
		/* A key seen twice: the first. */
		{ "a=!{partitionKeyFromQuery:x}/a=!{partitionKeyFromQuery:y}/", "a=1/a=2/", FL_OK,
		  "1", "s3://lake/a=1/" },
		/* Random strings, expressions that are not keys. */
		{ "r/!{firehose:random-string}/k=!{partitionKeyFromQuery:k}/", "r/abcdefghijk/k=v/",
		  FL_OK, "v", "s3://lake/r/abcdefghijk/k=v/" },
		/* No time and no query key: the default time is appended. */
		{ "k=!{firehose:random-string}/", "k=0123456789a/2026/01/01/00/", FL_OK,
		  "0123456789a", "s3://lake/k=0123456789a/" },
		{ "k=!{firehose:random-string}/", "k=0123456789a/", FL_INVALID, NULL, NULL },
		/* No key segments: nothing to read. */
		{ "raw/", "raw/2026/01/01/00/", FL_OK, "", "" },
		{ "", "anything/at/all", FL_OK, "", "" },
		{ "x/!{partitionKeyFromQuery:k}/", "x/v/", FL_OK, "", "" },
		/* Values are at most 255 bytes. */
		{ "p/k=!{partitionKeyFromQuery:k}/",
		  "p/k=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaa/", FL_INVALID, NULL, NULL },
		{ "p/k=!{partitionKeyFromQuery:k}", "p/k=unclosed/", FL_INVALID, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char vals[FL_CATALOG_MAX_KEYS][256], location[2048] = "junk";
		size_t n = 99;
		struct fl_error err = { .code = FL_OK };
		enum fl_result r = fl_catalog_partition_of(cases[i].expr, "lake", cases[i].evaluated,
							   vals, FL_CATALOG_MAX_KEYS, &n, location,
							   sizeof location, &err);
		if (r != cases[i].r)
			fail_msg("case %zu (%s | %s): got %d want %d: %s", i, cases[i].expr,
				 cases[i].evaluated, r, cases[i].r, err.msg);
		if (r != FL_OK) {
			assert_int_equal(n, 0);
			continue;
		}
		char got[16384] = "";
		for (size_t k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? "|" : "",
				 vals[k]);
		if (strcmp(got, cases[i].vals) != 0 || strcmp(location, cases[i].location) != 0)
			fail_msg("case %zu: got '%s' at '%s', want '%s' at '%s'", i, got, location,
				 cases[i].vals, cases[i].location);
	}
	/* More keys than the caller has room for. */
	char vals[2][256], location[256];
	size_t n;
	struct fl_error err;
	assert_int_equal(fl_catalog_partition_of(LAKE_PREFIX, "lake",
						 "raw/events/event_type=a/dt=b/hour=c/", vals, 2,
						 &n, location, sizeof location, &err), FL_INVALID);
	/* A location that does not fit. */
	char vals3[3][256];
	assert_int_equal(fl_catalog_partition_of(LAKE_PREFIX, "lake",
						 "raw/events/event_type=a/dt=b/hour=c/", vals3, 3,
						 &n, location, 20, &err), FL_INVALID);
	assert_int_equal(n, 0);
	assert_int_equal(fl_catalog_partition_of(LAKE_PREFIX, "lake",
						 "raw/events/event_type=a/dt=b/hour=c/", vals3, 3,
						 &n, location, sizeof location, &err), FL_OK);
	assert_string_equal(location, "s3://lake/raw/events/event_type=a/dt=b/hour=c/");
}

/* ---- rows ---------------------------------------------------------------- */

static void test_start(void **state)
{
	(void)state;
	char pgdir[PATH_MAX + 8];
	struct fl_error err = { .code = FL_OK };
	snprintf(pgdir, sizeof pgdir, "%s/pg", tmp);
	if (fl_pgembed_start(pgdir, &pg, conninfo, sizeof conninfo, &err) != FL_OK)
		fail_msg("fl_pgembed_start: %s", err.msg);
	if (fl_db_open(conninfo, 4, &db, &err) != FL_OK)
		fail_msg("fl_db_open: %s", err.msg);
}

static void test_ensure_table(void **state)
{
	(void)state;
	struct fl_stream_conf *c = conf_of("{" ROLE "," BUCKET ",\"Prefix\":\"" LAKE_PREFIX "\","
					   EPREFIX ",\"CompressionFormat\":\"GZIP\"," DP ","
					   QUERY("{event_type: .t, dt: .d, hour: .h}") "}");
	struct fl_catalog_table t;
	struct fl_error err;
	assert_int_equal(fl_catalog_stream_table("events", c, &t, &err), FL_OK);
	PGconn *conn = acquire();
	assert_int_equal(fl_catalog_ensure_table(conn, &t, &err), FL_OK);
	assert_int_equal(fl_catalog_ensure_table(conn, &t, &err), FL_OK);
	fl_db_release(db, conn);
	assert_int_equal(count("SELECT count(*) FROM fl_glue_tables WHERE db = $1 AND name = $2",
			       "default", "events"), 1);
	char v[64];
	query1("SELECT stream FROM fl_glue_tables WHERE db = $1 AND name = $2", "default",
	       "events", v, sizeof v);
	assert_string_equal(v, "events");
	assert_int_equal(table_version("default", "events"), 1);
	json_t *spec = table_spec("default", "events");
	assert_json_eq(spec,
		"{\"StorageDescriptor\":{\"Columns\":[],\"Location\":\"s3://lake/raw/events/\","
		"\"InputFormat\":\"org.apache.hadoop.mapred.TextInputFormat\","
		"\"OutputFormat\":\"org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat\","
		"\"Compressed\":true,\"NumberOfBuckets\":-1,"
		"\"SerdeInfo\":{\"SerializationLibrary\":\"org.openx.data.jsonserde.JsonSerDe\","
		"\"Parameters\":{}},\"BucketColumns\":[],\"SortColumns\":[],"
		"\"Parameters\":{\"classification\":\"json\",\"compressionType\":\"gzip\","
		"\"typeOfData\":\"file\"},\"StoredAsSubDirectories\":false},"
		"\"PartitionKeys\":[{\"Name\":\"event_type\",\"Type\":\"string\"},"
		"{\"Name\":\"dt\",\"Type\":\"string\"},{\"Name\":\"hour\",\"Type\":\"string\"}],"
		"\"TableType\":\"EXTERNAL_TABLE\",\"Parameters\":{\"classification\":\"json\","
		"\"compressionType\":\"gzip\",\"typeOfData\":\"file\",\"firelake.stream\":\"events\"}}");
	json_decref(spec);

	/* An existing table is left as it is. */
	query1("UPDATE fl_glue_tables SET spec = jsonb_set(spec, '{Description}', '\"mine\"') "
	       "WHERE db = $1 AND name = $2 RETURNING 1", "default", "events", v, sizeof v);
	conn = acquire();
	assert_int_equal(fl_catalog_ensure_table(conn, &t, &err), FL_OK);
	fl_db_release(db, conn);
	query1("SELECT spec->>'Description' FROM fl_glue_tables WHERE db = $1 AND name = $2",
	       "default", "events", v, sizeof v);
	assert_string_equal(v, "mine");
	fl_stream_conf_unref(c);

	/* A database named by SchemaConfiguration is made once. */
	c = conf_of("{" ROLE "," BUCKET ",\"Prefix\":\"c/\",\"DataFormatConversionConfiguration\":"
		    "{\"Enabled\":false,\"SchemaConfiguration\":{\"DatabaseName\":\"Analytics\","
		    "\"TableName\":\"Clicks\"}}}");
	assert_int_equal(fl_catalog_stream_table("conv", c, &t, &err), FL_OK);
	conn = acquire();
	assert_int_equal(fl_catalog_ensure_table(conn, &t, &err), FL_OK);
	assert_int_equal(fl_catalog_ensure_table(conn, &t, &err), FL_OK);
	fl_db_release(db, conn);
	assert_int_equal(count("SELECT count(*) FROM fl_glue_databases WHERE name = $1", "analytics",
			       NULL), 1);
	spec = table_spec("analytics", "clicks");
	assert_json_eq(json_object_get(spec, "PartitionKeys"), "[]");
	assert_json_eq(json_object_get(json_object_get(spec, "Parameters"), "compressionType"),
		       "\"none\"");
	json_decref(spec);
	fl_stream_conf_unref(c);

	/* A crawled CSV table. */
	struct fl_catalog_table csv;
	memset(&csv, 0, sizeof csv);
	snprintf(csv.db, sizeof csv.db, "default");
	snprintf(csv.name, sizeof csv.name, "sales");
	snprintf(csv.location, sizeof csv.location, "s3://lake/sales/");
	csv.format = FL_FORMAT_CSV;
	csv.crawler = "nightly";
	conn = acquire();
	assert_int_equal(fl_catalog_ensure_table(conn, &csv, &err), FL_OK);
	fl_db_release(db, conn);
	spec = table_spec("default", "sales");
	json_t *sd = json_object_get(spec, "StorageDescriptor");
	assert_json_eq(json_object_get(sd, "SerdeInfo"),
		       "{\"SerializationLibrary\":\"org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe\","
		       "\"Parameters\":{\"field.delim\":\",\"}}");
	json_t *params = json_object_get(spec, "Parameters");
	assert_json_eq(json_object_get(params, "classification"), "\"csv\"");
	assert_json_eq(json_object_get(params, "skip.header.line.count"), "\"1\"");
	assert_json_eq(json_object_get(params, "UPDATED_BY_CRAWLER"), "\"nightly\"");
	assert_null(json_object_get(params, "firelake.stream"));
	json_decref(spec);
	query1("SELECT crawler FROM fl_glue_tables WHERE db = $1 AND name = $2", "default",
	       "sales", v, sizeof v);
	assert_string_equal(v, "nightly");

	/* Hostile or malformed names never reach SQL. */
	static const char *const bad[] = { "x; DROP TABLE y", "Robert'); --", "Upper", "" };
	long long before = count("SELECT count(*) FROM fl_glue_tables", NULL, NULL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct fl_catalog_table h = csv;
		snprintf(h.name, sizeof h.name, "%s", bad[i]);
		conn = acquire();
		assert_int_equal(fl_catalog_ensure_table(conn, &h, &err), FL_INVALID);
		h = csv;
		snprintf(h.db, sizeof h.db, "%s", bad[i]);
		assert_int_equal(fl_catalog_ensure_table(conn, &h, &err), FL_INVALID);
		h = csv;
		h.nkeys = 1;
		snprintf(h.keys[0], sizeof h.keys[0], "%s", bad[i]);
		assert_int_equal(fl_catalog_ensure_table(conn, &h, &err), FL_INVALID);
		fl_db_release(db, conn);
	}
	assert_int_equal(count("SELECT count(*) FROM fl_glue_tables", NULL, NULL), before);
}

static void test_add_partition(void **state)
{
	(void)state;
	static const char *const keys[] = { "k", "dt" };
	make_table("default", "parts", keys, 2);
	/* The partition copies the table's columns as they are now. */
	query1("UPDATE fl_glue_tables SET spec = jsonb_set(spec, '{StorageDescriptor,Columns}',"
	       " '[{\"Name\":\"a\",\"Type\":\"bigint\"}]') WHERE db = $1 AND name = $2 RETURNING 1",
	       "default", "parts", (char[8]){ 0 }, 8);
	const char *vals[] = { "x", "2026-01-01" };
	struct fl_error err;
	PGconn *c = acquire();
	for (int i = 0; i < 2; i++)
		assert_int_equal(fl_catalog_add_partition(c, "default", "parts", vals, 2,
							  "s3://lake/parts/k=x/dt=2026-01-01/", &err),
				 FL_OK);
	/* Values that need quoting in an array literal stay themselves. */
	const char *odd[] = { "a,b {c} \"d\" \\e NULL", "" };
	assert_int_equal(fl_catalog_add_partition(c, "default", "parts", odd, 2,
						  "s3://lake/parts/odd/", &err), FL_OK);
	assert_int_equal(fl_catalog_add_partition(c, "default", "nope", vals, 2, "s3://x/", &err),
			 FL_NOT_FOUND);
	assert_int_equal(fl_catalog_add_partition(c, "default", "parts", vals, 1, "s3://x/", &err),
			 FL_INVALID);
	fl_db_release(db, c);
	assert_int_equal(count("SELECT count(*) FROM fl_glue_partitions WHERE db = $1 AND tbl = $2",
			       "default", "parts"), 2);
	char v[4096];
	query1("SELECT spec FROM fl_glue_partitions WHERE db = $1 AND tbl = $2 AND vals[1] = 'x'",
	       "default", "parts", v, sizeof v);
	json_t *spec = parse(v);
	json_t *sd = json_object_get(spec, "StorageDescriptor");
	assert_json_eq(json_object_get(sd, "Location"), "\"s3://lake/parts/k=x/dt=2026-01-01/\"");
	assert_json_eq(json_object_get(sd, "Columns"), "[{\"Name\":\"a\",\"Type\":\"bigint\"}]");
	assert_json_eq(json_object_get(sd, "InputFormat"),
		       "\"org.apache.hadoop.mapred.TextInputFormat\"");
	assert_json_eq(json_object_get(spec, "Parameters"), "{}");
	json_decref(spec);
	query1("SELECT vals[1] || '|' || vals[2] || '|' || cardinality(vals) FROM fl_glue_partitions "
	       "WHERE db = $1 AND tbl = $2 AND vals[2] = ''", "default", "parts", v, sizeof v);
	assert_string_equal(v, "a,b {c} \"d\" \\e NULL||2");
}

static void test_add_object(void **state)
{
	(void)state;
	const char *vals[] = { "payment", "2026-01-01", "03" };
	struct fl_catalog_object o = {
		.bucket = "lake", .key = "raw/events/event_type=payment/dt=2026-01-01/hour=03/o1.gz",
		.stream = "events", .kind = "data",
		.partition_path = "raw/events/event_type=payment/dt=2026-01-01/hour=03/",
		.bytes = 100, .records = 10, .min_ms = 1767225600123, .max_ms = 1767229200999,
		.db = "default", .tbl = "events", .vals = vals, .nvals = 3,
	};
	struct fl_error err;
	PGconn *c = acquire();
	assert_int_equal(fl_catalog_add_object(c, &o, &err), FL_OK);
	o.bytes = 200;  /* delivered again: one row, the latest figures */
	assert_int_equal(fl_catalog_add_object(c, &o, &err), FL_OK);
	/* Error output: no table; crawled: no stream, no created_at. */
	struct fl_catalog_object e = {
		.bucket = "lake", .key = "errors/x", .stream = "events", .kind = "error",
		.partition_path = "errors/", .bytes = 5, .records = 1,
		.min_ms = INT64_MAX, .max_ms = INT64_MIN,
	};
	assert_int_equal(fl_catalog_add_object(c, &e, &err), FL_OK);
	struct fl_catalog_object w = {
		.bucket = "lake", .key = "sales/2026/a.csv", .kind = "crawled",
		.partition_path = "sales/", .bytes = 7, .records = 2,
		.min_ms = INT64_MAX, .max_ms = INT64_MIN, .db = "default", .tbl = "sales",
		.vals = NULL, .nvals = 0,
	};
	assert_int_equal(fl_catalog_add_object(c, &w, &err), FL_OK);
	assert_int_equal(fl_catalog_add_object(c, &w, &err), FL_OK);
	struct fl_catalog_object bad = w;
	bad.kind = "bogus";
	assert_int_not_equal(fl_catalog_add_object(c, &bad, &err), FL_OK);
	fl_db_release(db, c);

	assert_int_equal(count("SELECT count(*) FROM fl_objects", NULL, NULL), 3);
	char v[512];
	query1("SELECT bytes || ' ' || records || ' ' || kind || ' ' || stream || ' ' || db || ' ' || "
	       "tbl || ' ' || array_to_string(vals, ',') || ' ' || "
	       "(extract(epoch FROM min_created_at) * 1000)::bigint || ' ' || "
	       "(extract(epoch FROM max_created_at) * 1000)::bigint FROM fl_objects "
	       "WHERE bucket = $1 AND key = $2", "lake", o.key, v, sizeof v);
	assert_string_equal(v, "200 10 data events default events payment,2026-01-01,03 "
			    "1767225600123 1767229200999");
	query1("SELECT concat_ws(',', stream, db, tbl, vals::text, min_created_at::text, "
	       "max_created_at::text) FROM fl_objects WHERE bucket = $1 AND key = $2",
	       "lake", "errors/x", v, sizeof v);
	assert_string_equal(v, "events,,"); /* outside any table: db and tbl empty */
	query1("SELECT concat_ws(',', coalesce(stream, 'none'), db, tbl, vals::text, kind) "
	       "FROM fl_objects WHERE bucket = $1 AND key = $2", "lake", "sales/2026/a.csv",
	       v, sizeof v);
	assert_string_equal(v, "none,default,sales,{},crawled");

	/* One object, two tables (a crawler over a stream's prefix): a row
	 * for each, and the stream's row keeps its table. */
	struct fl_catalog_object x = o;
	x.kind = "crawled";
	x.stream = NULL;
	x.db = "crawled";
	x.tbl = "events";
	c = acquire();
	assert_int_equal(fl_catalog_add_object(c, &x, &err), FL_OK);
	assert_int_equal(fl_catalog_add_object(c, &x, &err), FL_OK);
	fl_db_release(db, c);
	assert_int_equal(count("SELECT count(*) FROM fl_objects WHERE bucket = $1 AND key = $2",
			       "lake", o.key), 2);
	query1("SELECT string_agg(db || '.' || tbl || ':' || kind, ' ' ORDER BY db) FROM fl_objects "
	       "WHERE bucket = $1 AND key = $2", "lake", o.key, v, sizeof v);
	assert_string_equal(v, "crawled.events:crawled default.events:data");
}

static void test_merge_schema(void **state)
{
	(void)state;
	static const char *const keys[] = { "event_type", "dt" };
	make_table("default", "m", keys, 2);
	struct fl_error err;
	assert_int_equal(table_version("default", "m"), 1);

	const char *l1[] = { "{\"event_type\":\"a\",\"dt\":\"2026\",\"amount\":1,\"name\":\"x\","
			     "\"count\":3}", NULL };
	assert_int_equal(merge("default", "m", l1, &err), FL_OK);
	json_t *cols = table_columns("default", "m");
	assert_json_eq(cols, "[{\"Name\":\"amount\",\"Type\":\"bigint\"},"
		       "{\"Name\":\"name\",\"Type\":\"string\"},{\"Name\":\"count\",\"Type\":\"bigint\"}]");
	json_decref(cols);
	assert_int_equal(table_version("default", "m"), 2);

	/* Nothing new (a partition key seen again included): no write. */
	const char *l2[] = { "{\"amount\":7,\"dt\":\"x\",\"event_type\":\"b\"}", NULL };
	assert_int_equal(merge("default", "m", l2, &err), FL_OK);
	assert_int_equal(table_version("default", "m"), 2);

	/* Widening: bigint + double -> double; a clash -> string; a new
	 * column at the end. */
	const char *l3[] = { "{\"amount\":1.5,\"count\":\"three\",\"flag\":true}", NULL };
	assert_int_equal(merge("default", "m", l3, &err), FL_OK);
	cols = table_columns("default", "m");
	assert_json_eq(cols, "[{\"Name\":\"amount\",\"Type\":\"double\"},"
		       "{\"Name\":\"name\",\"Type\":\"string\"},{\"Name\":\"count\",\"Type\":\"string\"},"
		       "{\"Name\":\"flag\",\"Type\":\"boolean\"}]");
	json_decref(cols);
	assert_int_equal(table_version("default", "m"), 3);

	/* Narrower types learn nothing. */
	const char *l4[] = { "{\"amount\":2,\"count\":4}", NULL };
	assert_int_equal(merge("default", "m", l4, &err), FL_OK);
	assert_int_equal(table_version("default", "m"), 3);

	/* A renamed key: the column, and the SerDe's mapping to the key. */
	const char *l5[] = { "{\"UserId\":5}", NULL };
	assert_int_equal(merge("default", "m", l5, &err), FL_OK);
	json_t *spec = table_spec("default", "m");
	json_t *sd = json_object_get(spec, "StorageDescriptor");
	json_t *last = json_array_get(json_object_get(sd, "Columns"), 4);
	assert_json_eq(last, "{\"Name\":\"userid\",\"Type\":\"bigint\"}");
	assert_json_eq(json_object_get(json_object_get(sd, "SerdeInfo"), "Parameters"),
		       "{\"mapping.userid\":\"UserId\"}");
	for (size_t i = 0; i < json_array_size(json_object_get(sd, "Columns")); i++) {
		const char *n = json_string_value(json_object_get(
			json_array_get(json_object_get(sd, "Columns"), i), "Name"));
		assert_string_not_equal(n, "event_type");
		assert_string_not_equal(n, "dt");
	}
	/* The rest of the document is untouched. */
	assert_json_eq(json_object_get(sd, "Location"), "\"s3://lake/m/\"");
	assert_json_eq(json_object_get(spec, "PartitionKeys"),
		       "[{\"Name\":\"event_type\",\"Type\":\"string\"},{\"Name\":\"dt\",\"Type\":\"string\"}]");
	json_decref(spec);
	assert_int_equal(table_version("default", "m"), 4);
	assert_int_equal(merge("default", "m", l5, &err), FL_OK);
	assert_int_equal(table_version("default", "m"), 4);

	/* A column whose type firelake cannot read (set through UpdateTable):
	 * nothing is merged, and the delivery is not failed. */
	char v[16];
	query1("UPDATE fl_glue_tables SET spec = jsonb_set(spec, '{StorageDescriptor,Columns,0,Type}',"
	       " '\"no such type<\"') WHERE db = $1 AND name = $2 RETURNING 1", "default", "m",
	       v, sizeof v);
	const char *l6[] = { "{\"brand_new\":1}", NULL };
	assert_int_equal(merge("default", "m", l6, &err), FL_OK);
	assert_int_equal(table_version("default", "m"), 4);

	/* No table. */
	assert_int_equal(merge("default", "missing", l1, &err), FL_NOT_FOUND);
	assert_int_equal(merge("nodb", "m", l1, &err), FL_NOT_FOUND);

	/* Inside the caller's transaction: rolled back with it. */
	make_table("default", "tx", NULL, 0);
	PGconn *c = acquire();
	struct fl_schema *s = observed(l1);
	assert_int_equal(fl_db_exec(c, "BEGIN", 0, NULL, NULL, &err), FL_OK);
	assert_int_equal(fl_catalog_merge_schema(c, "default", "tx", s, &err), FL_OK);
	assert_int_equal(PQtransactionStatus(c), PQTRANS_INTRANS);
	assert_int_equal(fl_db_exec(c, "ROLLBACK", 0, NULL, NULL, &err), FL_OK);
	fl_db_release(db, c);
	fl_schema_free(s);
	assert_int_equal(table_version("default", "tx"), 1);
	cols = table_columns("default", "tx");
	assert_json_eq(cols, "[]");
	json_decref(cols);
}

struct merger {
	const char *line;
	atomic_int done;
	enum fl_result r;
};

static void *merge_thread(void *arg)
{
	struct merger *m = arg;
	const char *lines[] = { m->line, NULL };
	struct fl_error err;
	m->r = merge("default", "conc", lines, &err);
	atomic_store(&m->done, 1);
	return NULL;
}

static void test_concurrent_merges(void **state)
{
	(void)state;
	make_table("default", "conc", NULL, 0);
	struct fl_error err;
	/* A holds the row in an open transaction; B's merge waits for it and
	 * then merges into A's columns, not the ones it would have read
	 * before. */
	PGconn *a = acquire();
	struct fl_schema *sa = observed((const char *[]){ "{\"a\":1,\"shared\":1}", NULL });
	assert_int_equal(fl_db_exec(a, "BEGIN", 0, NULL, NULL, &err), FL_OK);
	assert_int_equal(fl_catalog_merge_schema(a, "default", "conc", sa, &err), FL_OK);
	struct merger b = { .line = "{\"b\":\"x\",\"shared\":0.5}" };
	atomic_init(&b.done, 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, merge_thread, &b), 0);
	struct timespec wait = { 0, 300 * 1000 * 1000 };
	nanosleep(&wait, NULL);
	assert_int_equal(atomic_load(&b.done), 0);  /* blocked on A's lock */
	assert_int_equal(fl_db_exec(a, "COMMIT", 0, NULL, NULL, &err), FL_OK);
	pthread_join(th, NULL);
	assert_int_equal(b.r, FL_OK);
	fl_db_release(db, a);
	fl_schema_free(sa);
	json_t *cols = table_columns("default", "conc");
	assert_json_eq(cols, "[{\"Name\":\"a\",\"Type\":\"bigint\"},"
		       "{\"Name\":\"shared\",\"Type\":\"double\"},{\"Name\":\"b\",\"Type\":\"string\"}]");
	json_decref(cols);
	assert_int_equal(table_version("default", "conc"), 3);

	/* Many merges at once, each with a column of its own: none lost. */
	enum { N = 8 };
	struct merger ms[N];
	pthread_t ths[N];
	char lines[N][64];
	for (int i = 0; i < N; i++) {
		snprintf(lines[i], sizeof lines[i], "{\"c%d\":%d}", i, i);
		ms[i].line = lines[i];
		atomic_init(&ms[i].done, 0);
		assert_int_equal(pthread_create(&ths[i], NULL, merge_thread, &ms[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(ths[i], NULL);
		assert_int_equal(ms[i].r, FL_OK);
	}
	cols = table_columns("default", "conc");
	assert_int_equal(json_array_size(cols), 3 + N);
	json_decref(cols);
	assert_int_equal(table_version("default", "conc"), 3 + N);
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
	snprintf(tmp, sizeof tmp, "/tmp/fl-test-catalog-XXXXXX");
	if (!mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
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
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_stream_table),
		cmocka_unit_test(test_partition_of),
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_ensure_table),
		cmocka_unit_test(test_add_partition),
		cmocka_unit_test(test_add_object),
		cmocka_unit_test(test_merge_schema),
		cmocka_unit_test(test_concurrent_merges),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
