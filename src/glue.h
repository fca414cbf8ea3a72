/*
 * glue.h - the AWS Glue Data Catalog API (AWSGlue.<Op>, JSON 1.1).
 *
 * glue.c: databases and tables (CreateDatabase, GetDatabase, GetDatabases,
 * UpdateDatabase, DeleteDatabase, CreateTable, GetTable, GetTables,
 * UpdateTable, DeleteTable, BatchDeleteTable) and the router of the
 * service; glue_partition.c: partitions (CreatePartition, GetPartition,
 * GetPartitions, BatchCreatePartition, BatchDeletePartition,
 * BatchGetPartition, UpdatePartition, DeletePartition); crawler.c:
 * crawlers.  Requests are checked against botocore's glue model
 * (awsshape.h) before anything runs; names go through fl_catalog_name;
 * values through parameters only.
 */
#ifndef FL_GLUE_H
#define FL_GLUE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "http.h"
#include "result.h"

/* The handler of a Glue operation (any of the three files), or NULL. */
fl_handler_fn fl_glue_handler(const char *op);
fl_handler_fn fl_glue_partition_handler(const char *op);

/* Glue's "Table" output shape for a row of fl_glue_tables:
 * spec + Name, DatabaseName, CreateTime, UpdateTime, VersionId, CatalogId,
 * IsRegisteredWithLakeFormation.  Times are epoch seconds (numbers, as
 * AWS JSON writes timestamps).  Caller owns the result (NULL on ENOMEM). */
json_t *fl_glue_table_json(const char *db, const char *name, const json_t *spec,
			   double created_s, double updated_s, long long version_id);

/* Reads one table's row: FL_NOT_FOUND ("Table <name> not found.") when it
 * or its database does not exist (EntityNotFoundException, as Glue
 * words it: "Database <db> not found." for a missing database).
 * *out is the Table shape (caller owns). */
enum fl_result fl_glue_table_load(PGconn *conn, const char *db, const char *name,
				  json_t **out, struct fl_error *err) FL_MUST_USE;

#endif
