/*
 * athena_ddl.h - Athena's DDL and utility statements, answered from the
 * Glue catalog (never by running user DDL in PostgreSQL).
 *
 * Statements (keywords any case; names as Athena takes them: bare,
 * `backticked` or "quoted", db.tbl or tbl in the query's database):
 *   SHOW DATABASES | SHOW SCHEMAS [LIKE 'pattern']
 *   SHOW TABLES [IN db] ['pattern']
 *   SHOW PARTITIONS tbl [PARTITION (k = 'v', ...)]
 *   SHOW COLUMNS { IN | FROM } tbl [{ IN | FROM } db]
 *   DESCRIBE [FORMATTED | EXTENDED] tbl
 *   SHOW CREATE TABLE tbl
 *   SHOW TBLPROPERTIES tbl [('key')]  (prpt_name, prpt_value)
 *   CREATE { DATABASE | SCHEMA } [IF NOT EXISTS] db [COMMENT '...']
 *          [LOCATION '...'] [WITH DBPROPERTIES (...)]
 *   CREATE EXTERNAL TABLE [IF NOT EXISTS] tbl (col type [COMMENT '...'], ...)
 *          [COMMENT '...'] [PARTITIONED BY (key type, ...)]
 *          [ROW FORMAT SERDE 'class' [WITH SERDEPROPERTIES ('k'='v', ...)]
 *           | ROW FORMAT DELIMITED [FIELDS TERMINATED BY ','] [ESCAPED BY '\\']
 *             [LINES TERMINATED BY '\n']]
 *          [STORED AS {TEXTFILE | PARQUET | ORC | AVRO | SEQUENCEFILE | RCFILE
 *                      | INPUTFORMAT '...' OUTPUTFORMAT '...'}]
 *          LOCATION 's3://bucket/prefix/' [TBLPROPERTIES ('k'='v', ...)]
 *   MSCK REPAIR TABLE tbl          (registers key=value/ folders under the
 *                                   table's location and their objects)
 *   ALTER TABLE tbl ADD [IF NOT EXISTS] PARTITION (k = 'v', ...) [LOCATION '...'] ...
 *   ALTER TABLE tbl DROP [IF EXISTS] PARTITION (k = 'v', ...) [, PARTITION (...)]
 *   DROP TABLE [IF EXISTS] tbl
 *   DROP { DATABASE | SCHEMA } [IF EXISTS] db [CASCADE | RESTRICT]
 * Anything else that is not a SELECT / WITH / VALUES query is FL_INVALID
 * with Athena's wording for an unsupported statement.
 *
 * Answers are what Athena's .txt result holds: rows of one or more
 * columns, no header row (SHOW TABLES: tab_name; SHOW DATABASES:
 * database_name; SHOW PARTITIONS: partition "k=v/k2=v2"; SHOW COLUMNS:
 * field; DESCRIBE: col_name, data_type, comment, with the
 * "# Partition Information" block as Athena prints it; SHOW CREATE
 * TABLE: createtab_stmt, one row per line; MSCK REPAIR TABLE: result,
 * Hive's "Partitions not in metastore:\t<tbl>:<k=v/...>..." line and a
 * "Repair: Added partition to metastore <tbl>:<k=v/...>" line for each
 * partition added; CREATE, DROP and ALTER: no columns, no rows).
 * Errors in Athena's words: FL_NOT_FOUND for a missing database or
 * table, FL_EXISTS for CREATE without IF NOT EXISTS of something that
 * exists, FL_INVALID for syntax with the position ("line 1:8: ...") as
 * Athena gives it.
 */
#ifndef FL_ATHENA_DDL_H
#define FL_ATHENA_DDL_H

#include <jansson.h>
#include <stdbool.h>

#include "result.h"

struct fl_server;

/* Athena's StatementType of sql: "DDL" (the statements above that change
 * or describe the catalog: CREATE, DROP, ALTER, MSCK, SHOW CREATE TABLE,
 * DESCRIBE), "UTILITY" (SHOW DATABASES/TABLES/PARTITIONS/COLUMNS,
 * EXPLAIN), or "DML" (SELECT, WITH, VALUES, and anything unrecognised,
 * which then fails as the query runs). */
const char *fl_ddl_statement_type(const char *sql);

/* True when sql is one of the statements above (to be run by fl_ddl_run,
 * not as a query). */
bool fl_ddl_is_ddl(const char *sql);

/* Runs a DDL/utility statement with db as the query's database.
 * *columns: ColumnInfo array [{Name, Type "string", ...}] (caller owns),
 * *rows: array of arrays of strings (NULL entries for NULL), caller owns. */
enum fl_result fl_ddl_run(struct fl_server *srv, const char *sql, const char *db,
			  json_t **columns, json_t **rows, struct fl_error *err) FL_MUST_USE;

/*
 * The parsed form of a statement (athena_ddl.c parses, athena_ddl_run.c
 * runs; the unit tests read it).  Names are Glue names already
 * (fl_catalog_name): a name that cannot be one fails the parse with
 * FL_INVALID.
 */
enum fl_ddl_kind {
	FL_DDL_SHOW_DATABASES = 1,
	FL_DDL_SHOW_TABLES,
	FL_DDL_SHOW_PARTITIONS,
	FL_DDL_SHOW_COLUMNS,
	FL_DDL_SHOW_CREATE_TABLE,
	FL_DDL_SHOW_TBLPROPERTIES,
	FL_DDL_DESCRIBE,
	FL_DDL_CREATE_DATABASE,
	FL_DDL_CREATE_TABLE,
	FL_DDL_MSCK_REPAIR,
	FL_DDL_ADD_PARTITIONS,
	FL_DDL_DROP_PARTITIONS,
	FL_DDL_DROP_TABLE,
	FL_DDL_DROP_DATABASE,
};

struct fl_ddl_stmt {
	enum fl_ddl_kind kind;
	char db[256];        /* the database named, "" for the query's database */
	char table[256];     /* the table named ("" in database statements) */
	bool if_exists;      /* IF EXISTS, or IF NOT EXISTS of CREATE / ADD */
	bool cascade;        /* DROP DATABASE ... CASCADE */
	bool formatted;      /* DESCRIBE FORMATTED | EXTENDED */
	char *pattern;       /* SHOW TABLES / DATABASES pattern, or NULL */
	/* CREATE DATABASE: DatabaseInput without Name; CREATE EXTERNAL TABLE:
	 * TableInput without Name (what fl_glue_tables.spec holds). */
	json_t *spec;
	/* ADD / DROP PARTITION, SHOW PARTITIONS ... PARTITION (...):
	 * [{"Keys": [k, ...], "Values": [v, ...], "Location": s (ADD only,
	 * when given)}], keys and values in the order written. */
	json_t *partitions;
};

/* Parses one statement (a trailing ';' allowed).  *out: caller owns
 * (fl_ddl_stmt_free).  FL_INVALID with "line L:C: ..." for what is not
 * one of the statements above. */
enum fl_result fl_ddl_parse(const char *sql, struct fl_ddl_stmt **out,
			    struct fl_error *err) FL_MUST_USE;
void fl_ddl_stmt_free(struct fl_ddl_stmt *st);   /* NULL is fine */

#endif
