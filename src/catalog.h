/*
 * catalog.h - keeping the Glue catalog (sql/0002_glue.sql) in step with
 * the lake: the tables of delivery streams, partitions and objects as they
 * are delivered or crawled, and schemas merged from what is observed.
 *
 * The Glue API (glue.c, glue_partition.c, crawler.c) reads and writes the
 * same rows; this file is the part that firelake itself drives.  Every
 * function here works on a borrowed connection and runs inside the
 * caller's transaction when there is one, so a delivery records its
 * objects, partitions and schema in one commit.  All writes are
 * idempotent: a segment delivered twice, or a crawl run twice, adds no
 * second row.
 *
 * Table documents (fl_glue_tables.spec) that firelake writes:
 *   StorageDescriptor: Columns (inferred), Location, Compressed,
 *     InputFormat org.apache.hadoop.mapred.TextInputFormat,
 *     OutputFormat org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat,
 *     SerdeInfo: org.openx.data.jsonserde.JsonSerDe (NDJSON, Parameters
 *     "mapping.<col>" for renamed keys) or
 *     org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe (CSV, Parameters
 *     field.delim "," and skip.header.line.count "1" in table Parameters),
 *     NumberOfBuckets -1, StoredAsSubDirectories false
 *   PartitionKeys: [{Name, Type "string"}] from the prefix / folders
 *   TableType EXTERNAL_TABLE
 *   Parameters: classification json|csv, compressionType gzip|none,
 *     typeOfData file, and "firelake.stream" for stream tables
 */
#ifndef FL_CATALOG_H
#define FL_CATALOG_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "result.h"

struct fl_schema;
struct fl_stream_conf;

#define FL_CATALOG_DEFAULT_DB "default"
#define FL_CATALOG_MAX_KEYS 50       /* partition keys of one table */

/* Where a table's data sits and how it is written. */
enum fl_catalog_format { FL_FORMAT_JSON, FL_FORMAT_CSV };

struct fl_catalog_table {
	char db[256];
	char name[256];
	char location[2048];            /* s3://bucket/prefix/ */
	enum fl_catalog_format format;
	bool compressed;                /* gzip */
	size_t nkeys;
	char keys[FL_CATALOG_MAX_KEYS][128];  /* partition keys, type string */
	const char *stream;             /* feeding stream or NULL (borrowed) */
	const char *crawler;            /* crawler or NULL (borrowed) */
};

/* The table of a delivery stream: database "default" (or the database and
 * table named by the destination's DataFormatConversionConfiguration.
 * SchemaConfiguration), table = stream name with '-' and '.' as '_' (lower
 * case), location s3://<bucket>/<prefix up to the first expression>,
 * partition keys the prefix's name=!{...} segments.  FL_INVALID when the
 * names cannot be Glue names. */
enum fl_result fl_catalog_stream_table(const char *stream, const struct fl_stream_conf *conf,
				       struct fl_catalog_table *out,
				       struct fl_error *err) FL_MUST_USE;

/* Creates the table when it does not exist (its database too), else
 * leaves it as it is.  Called when a stream is created and before a
 * delivery records into it. */
enum fl_result fl_catalog_ensure_table(PGconn *conn, const struct fl_catalog_table *t,
				       struct fl_error *err) FL_MUST_USE;

/* The partition values of an object's evaluated prefix (the "<prefix>" of
 * a delivery destination "bucket/<prefix>"), read through the stream's
 * prefix expression: vals[i] for the i-th name=!{...} segment.  *n = 0 and
 * FL_OK for a prefix with no such segments.  FL_INVALID when the evaluated
 * prefix does not follow the expression (a value with '/' in it).  The
 * partition's location (s3://bucket/<evaluated prefix up to and including
 * its last key segment>/) goes to location. */
enum fl_result fl_catalog_partition_of(const char *prefix_expr, const char *bucket,
				       const char *evaluated, char vals[][256], size_t max,
				       size_t *n, char *location, size_t location_len,
				       struct fl_error *err) FL_MUST_USE;

/* Registers a partition (no-op when it exists); location is stored in
 * its StorageDescriptor (the table's descriptor with this Location). */
enum fl_result fl_catalog_add_partition(PGconn *conn, const char *db, const char *tbl,
					const char *const *vals, size_t nvals,
					const char *location, struct fl_error *err) FL_MUST_USE;

/* Records an object of a table's partition (upsert on bucket and key). */
struct fl_catalog_object {
	const char *bucket, *key;
	const char *stream;             /* NULL for crawled objects */
	const char *kind;               /* "data" | "error" | "crawled" */
	const char *partition_path;     /* evaluated prefix / folder path */
	uint64_t bytes, records;
	int64_t min_ms, max_ms;         /* created_at range; INT64_MAX/INT64_MIN: none */
	const char *db, *tbl;           /* NULL: not a table's (error output) */
	const char *const *vals;
	size_t nvals;
};
enum fl_result fl_catalog_add_object(PGconn *conn, const struct fl_catalog_object *o,
				     struct fl_error *err) FL_MUST_USE;

/* Merges an observed schema into the table's columns (locks the table's
 * row: concurrent merges serialise).  Partition keys are never columns.
 * Writes and bumps version_id only when the columns change; keeps the
 * SerDe mapping parameters of renamed keys.  FL_NOT_FOUND without the
 * table. */
enum fl_result fl_catalog_merge_schema(PGconn *conn, const char *db, const char *tbl,
				       const struct fl_schema *observed,
				       struct fl_error *err) FL_MUST_USE;

/* Opaque paging tokens for the Glue and Athena List/Get operations: the
 * last key of a page, base64url.  decode: FL_INVALID for a token that is
 * not one of ours (InvalidInputException "Invalid pagination token"). */
enum fl_result fl_catalog_token_encode(const char *last_key, char *out, size_t n) FL_MUST_USE;
enum fl_result fl_catalog_token_decode(const char *token, char *out, size_t n,
				       struct fl_error *err) FL_MUST_USE;

/* A Glue name from a request or from data: lower-cased, then [a-z0-9_]
 * 1-255 bytes, else FL_INVALID with a message naming what (e.g.
 * "database name").  out has 256 bytes. */
enum fl_result fl_catalog_name(const char *in, const char *what, char out[256],
			       struct fl_error *err) FL_MUST_USE;

#endif
