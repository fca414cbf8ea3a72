/*
 * stage.h - the staged lake: Glue tables as PostgreSQL tables, filled from
 * lake objects on demand.
 *
 * Every Glue table db.tbl is the UNLOGGED PostgreSQL table "db"."tbl"
 * (schema "db"), with its columns typed by fl_sql_pg_type (sqlrewrite.h)
 * and its partition keys as text columns COLLATE "C", partitioned by LIST
 * on the first key, each level again by LIST on the next, so every
 * registered partition is one leaf table; a table without partition keys
 * is one plain table.  Leaves are named by a hash of their values
 * ("p_<16 hex>"), never by the values themselves.  Each leaf has a BRIN
 * index on created_datetime when the table has that column.  The query
 * role (fl_query: NOLOGIN, no rights but USAGE on lake schemas and
 * fl_trino and SELECT on lake tables) is granted what it needs as tables
 * are made.
 *
 * Staging an object: get it from storage, gunzip, parse each line (NDJSON:
 * the scanner of jscan.h, no DOM; CSV: header + RFC 4180 rows), type each
 * value by the table's schema (a value that does not fit its column is
 * NULL, never a failed COPY; struct/map/array-of-complex values are
 * written as jsonb text, arrays of scalars as PostgreSQL array literals)
 * and COPY it into its leaf.  The object is recorded in fl_stage_objects
 * in the same transaction as its COPY, so it is staged exactly once even
 * with concurrent stagers (the row is claimed first; a concurrent stager
 * of the same object waits on the row lock and then finds it done).
 *
 * The staged lake is a cache under a byte budget (--stage-budget):
 * when it is passed, whole leaves are truncated least recently used first
 * (fl_stage_partitions.used_at), never one that a running query holds.
 * After a PostgreSQL crash the UNLOGGED tables are empty and so is
 * fl_stage_epoch: fl_stage_new notices and forgets the stage records.
 *
 * Thread-safe: many query workers and the eager stager call in at once.
 */
#ifndef FL_STAGE_H
#define FL_STAGE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "result.h"

struct fl_server;
struct fl_stage;

/* A partition of a table (values in key order; nvals 0 for a table with
 * no partition keys). */
struct fl_stage_part {
	const char *db, *tbl;
	const char *const *vals;
	size_t nvals;
};

enum fl_result fl_stage_new(struct fl_server *srv, uint64_t budget_bytes,
			    struct fl_stage **out, struct fl_error *err) FL_MUST_USE;
void fl_stage_free(struct fl_stage *st);

/* Makes (or brings up to date: new columns are added, widened ones
 * altered) the PostgreSQL table of db.tbl and a leaf for every registered
 * partition.  Cheap when nothing changed (compares the Glue table's
 * version_id with the one it last built). */
enum fl_result fl_stage_sync_table(struct fl_stage *st, const char *db, const char *tbl,
				   struct fl_error *err) FL_MUST_USE;

/* Stages every object of the partition that is not staged yet (several
 * objects in parallel, each on its own connection).  *bytes_read gets the
 * lake bytes the partition's objects occupy (staged now or before: what
 * a query over it scans), *staged_rows the rows added now. */
enum fl_result fl_stage_partition(struct fl_stage *st, const struct fl_stage_part *p,
				  uint64_t *bytes_read, uint64_t *staged_rows,
				  struct fl_error *err) FL_MUST_USE;

/* The partitions whose leaves a query plan scans: runs EXPLAIN (FORMAT
 * JSON) of pg_sql on conn (already in the query's role and transaction)
 * and maps the leaf relations it names back to partitions.  Caller owns
 * *parts (fl_stage_parts_free). */
struct fl_stage_parts {
	struct fl_stage_part *items;
	size_t n;
	void *mem;   /* owned storage of the strings */
};
enum fl_result fl_stage_plan_parts(struct fl_stage *st, PGconn *conn, const char *pg_sql,
				   struct fl_stage_parts *parts, struct fl_error *err) FL_MUST_USE;
void fl_stage_parts_free(struct fl_stage_parts *parts);

/* Of parts, those with nothing left to stage: ready[i] true, and bytes[i]
 * the lake bytes of each partition's objects (as fl_stage_partition's
 * *bytes_read), in one statement for all of them; only the others need
 * fl_stage_partition.  ready and bytes hold parts->n entries. */
enum fl_result fl_stage_ready(struct fl_stage *st, const struct fl_stage_parts *parts,
			      bool *ready, uint64_t *bytes, struct fl_error *err) FL_MUST_USE;

/* Marks partitions as in use by a query (not evicted until released) and
 * bumps their used_at. */
void fl_stage_hold(struct fl_stage *st, const struct fl_stage_parts *parts);
void fl_stage_release(struct fl_stage *st, const struct fl_stage_parts *parts);

/* Eager staging: queues delivered objects of stream tables; a stager
 * thread stages them soon after (in delivery order), so recent data is
 * warm.  Never blocks the caller: past a bound, objects are left to
 * on-demand staging. */
void fl_stage_enqueue(struct fl_stage *st, const char *db, const char *tbl,
		      const char *const *vals, size_t nvals);

/* Bytes staged now (for /metrics). */
uint64_t fl_stage_bytes(const struct fl_stage *st);

#endif
