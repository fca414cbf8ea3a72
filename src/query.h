/*
 * query.h - the Athena query engine: workers that run queued queries.
 *
 * StartQueryExecution (athena_query.c) inserts a QUEUED row in
 * fl_athena_queries and wakes the engine.  Each of the engine's worker
 * threads claims the oldest QUEUED row (UPDATE ... WHERE id = (SELECT ...
 * FOR UPDATE SKIP LOCKED LIMIT 1): several firelake processes on one
 * catalog share the queue), marks it RUNNING with itself as runner and
 * heartbeats it, then:
 *   DDL/utility (athena_ddl.h): answered from the catalog; the rows are
 *     written as <id>.txt (tab-separated lines) + <id>.txt.metadata;
 *   a query: rewritten (sqlrewrite.h); each referenced table brought up
 *     to date (fl_stage_sync_table); in a READ ONLY transaction as role
 *     fl_query with search_path fl_trino, pg_catalog and the workgroup's
 *     statement_timeout: EXPLAIN to find the partitions it scans, stage
 *     those not staged yet (fl_stage_partition), check
 *     BytesScannedCutoffPerQuery against their lake bytes, then run it,
 *     streaming rows (single-row mode) into <id>.csv (RFC 4180, every
 *     field quoted as Athena writes them, header row first) and
 *     <id>.csv.metadata, put in the output location;
 *   the row ends SUCCEEDED (statistics filled in), FAILED (AthenaError
 *   {ErrorCategory 1 system | 2 user, ErrorType, Retryable, ErrorMessage}
 *   and StateChangeReason) or CANCELLED.
 * StopQueryExecution sets cancel on the row; the runner notices within
 * FL_QUERY_POLL_MS (in this process at once) and cancels the PostgreSQL
 * statement (PQcancel).  A RUNNING row whose heartbeat is older than
 * FL_QUERY_STALE_S belongs to a dead process and is queued again.
 */
#ifndef FL_QUERY_H
#define FL_QUERY_H

#include "result.h"

#define FL_QUERY_POLL_MS 200
#define FL_QUERY_STALE_S 60

struct fl_server;
struct fl_query_engine;

enum fl_result fl_query_engine_new(struct fl_server *srv, int threads,
				   struct fl_query_engine **out,
				   struct fl_error *err) FL_MUST_USE;
/* Stops claiming, cancels the statements it runs and puts their rows
 * back in the queue (another process, or this one at its next start, runs
 * them), joins the workers. */
void fl_query_engine_free(struct fl_query_engine *e);
/* A query was queued in this process: a worker looks now. */
void fl_query_engine_wake(struct fl_query_engine *e);
/* A query of this process was asked to stop: cancel it now. */
void fl_query_engine_cancel(struct fl_query_engine *e, const char *id);

#endif
