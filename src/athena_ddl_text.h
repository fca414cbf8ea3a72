/*
 * athena_ddl_text.h - Glue tables as Athena's Hive engine writes them as
 * text, and the Glue TableInput that a CREATE EXTERNAL TABLE statement
 * stands for: the pure half of the DDL (athena_ddl.c parses,
 * athena_ddl_run.c runs; neither this nor they format tables otherwise).
 * No catalog, no I/O; safe from any thread.
 */
#ifndef FL_ATHENA_DDL_TEXT_H
#define FL_ATHENA_DDL_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

/* What the clauses of a CREATE EXTERNAL TABLE said (all borrowed; NULL
 * for a clause not given). */
struct fl_ddl_table_clauses {
	const char *comment;          /* COMMENT '...' of the table */
	const char *serde;            /* ROW FORMAT SERDE '...' */
	bool delimited;               /* ROW FORMAT DELIMITED */
	const char *stored_as;        /* STORED AS <format>, as written */
	const char *input, *output;   /* STORED AS INPUTFORMAT '...' OUTPUTFORMAT '...' */
	const char *location;
	const json_t *cols, *keys;    /* Glue Columns [{Name, Type, Comment?}] */
	const json_t *serde_params;   /* SERDEPROPERTIES, or what DELIMITED says */
	const json_t *props;          /* TBLPROPERTIES */
};

/* A quoted token raw[0, n), quotes included, decoded into out (room for
 * n bytes), NUL-terminated: '...' and "..." with Hive's backslash escapes
 * (\n \t \r \b \Z, \ooo octal, \uXXXX, \x for any other x) and a doubled
 * quote for one; `...` with a doubled backtick for one.  false with *why
 * for an escape of NUL or an unpaired surrogate. */
bool fl_ddl_unquote(const char *raw, size_t n, char *out, const char **why);

/* Whether s[0, n) is UTF-8 (no surrogates, no overlongs); *bad (may be
 * NULL) gets the offset of the first bad byte. */
bool fl_ddl_utf8_valid(const char *s, size_t n, size_t *bad);

/* Whether STORED AS <name> is a format Hive knows (TEXTFILE, PARQUET,
 * ORC, AVRO, SEQUENCEFILE, RCFILE; any case). */
bool fl_ddl_stored_as_known(const char *name);

/* The TableInput without Name (fl_glue_tables.spec): StorageDescriptor
 * {Columns, Location, InputFormat, OutputFormat, Compressed false,
 * NumberOfBuckets -1, SerdeInfo {SerializationLibrary, Parameters},
 * BucketColumns [], SortColumns [], Parameters {}, StoredAsSubDirectories
 * false}, PartitionKeys, TableType EXTERNAL_TABLE, Parameters (the
 * TBLPROPERTIES, "EXTERNAL": "TRUE", "classification" of the SerDe unless
 * given, "comment"), Description (the comment).  Caller owns; NULL on
 * ENOMEM. */
json_t *fl_ddl_table_input(const struct fl_ddl_table_clauses *c);

/* SHOW CREATE TABLE of table (Glue's Table shape) named db.name, in the
 * layout of Hive's ShowCreateTable, lines separated by '\n' (no final
 * one), appended to out.  What it prints parses back to the same table. */
enum fl_result fl_ddl_create_text(const char *db, const char *name, const json_t *table,
				  struct fl_buf *out) FL_MUST_USE;

/* DESCRIBE [FORMATTED] of table as rows [col_name, data_type, comment]
 * appended to rows.  FL_INTERNAL only on ENOMEM. */
enum fl_result fl_ddl_describe_rows(const char *db, const json_t *table, bool formatted,
				    json_t *rows) FL_MUST_USE;

/* Hive's partition name "k=v/k2=v2", keys and values escaped as Hive
 * escapes path names (%XX for '/', '=', ':', '%', control bytes ...),
 * into out (reset first). */
enum fl_result fl_ddl_partition_name(const char *const *keys, size_t n,
				     const char *const *vals, struct fl_buf *out) FL_MUST_USE;
/* A value read back from a path segment s[0, n) (%XX unescaped) into out;
 * false when it is empty, over 255 bytes, holds NUL or is not UTF-8. */
bool fl_ddl_path_value(const char *s, size_t n, char out[256]);

/* SHOW TABLES / SHOW DATABASES patterns as Hive reads them: alternatives
 * split by '|', '*' any run of characters, '.' any one character,
 * case-insensitive; whole names only.  NULL matches everything. */
bool fl_ddl_pattern_match(const char *pattern, const char *name);

#endif
