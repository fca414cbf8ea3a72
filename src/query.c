/*
 * query.c - the Athena query engine: worker threads that run queued queries.
 *
 * DESIGN
 * The queue is the catalog table fl_athena_queries.  A worker claims the
 * oldest QUEUED row in one statement (UPDATE ... WHERE id = (SELECT ...
 * FOR UPDATE SKIP LOCKED LIMIT 1)), so workers of every firelake process
 * on one catalog share the queue without a coordinator.  Workers sleep on
 * a condition variable that fl_query_engine_wake signals, and look at the
 * queue every FL_QUERY_POLL_MS anyway (work queued by other processes).
 * One monitor thread per engine does what must go on while workers are
 * blocked in PostgreSQL: it heartbeats the rows this process runs, turns
 * a cancel flag set by another process into a PQcancel here, and puts back
 * in the queue RUNNING rows whose runner stopped heartbeating.  An ended
 * query keeps its runner: which process ran it stays in the catalog.
 *
 * A query (DML) runs in this order, every step of it checked against the
 * workgroup's time limit and the row's cancel flag:
 *   rewrite (sqlrewrite.h; the catalog callback reads the Glue tables once
 *   per query) -> sync each referenced table (stage.h) -> BEGIN READ ONLY,
 *   SET LOCAL ROLE fl_query, search_path fl_trino, pg_catalog, UTC, ISO
 *   dates, no JIT (over hundreds of leaves compiling costs more than the
 *   scan: 1.7 s against 0.37 s for 2 M events in 480 leaves) ->
 *   parse-analyse the text once (PQprepare of the unnamed statement: its
 *   errors carry SQLSTATEs, the planner's EXPLAIN in stage.c does not) ->
 *   the partitions the plan scans -> hold them -> BytesScannedCutoffPerQuery
 *   against their lake bytes -> those with objects not yet staged (one
 *   statement, fl_stage_ready) staged -> the statement (extended
 *   protocol: one statement only, single-row mode) streamed into CSV in a
 *   buffer bounded by RESULT_MAX -> COMMIT, release -> <id>.csv and
 *   <id>.csv.metadata put in the output location -> the row's final state
 *   and statistics.
 * DDL and utility statements go to athena_ddl.h and write <id>.txt.
 * The time limit is the workgroup's StatementTimeoutInSeconds (default
 * 1800) from the claim, staging included; a stage call that answers
 * FL_RETRY (a deadlock with a concurrent stager) is tried again.  A plan
 * whose partitions hold more lake bytes than BytesScannedCutoffPerQuery
 * ends CANCELLED before anything is staged, as Athena cancels it.
 *
 * The CSV (and the .txt of DDL) is Athena's format, drawn in athena_csv.h.
 *
 * Failures keep Athena's shapes (StateChangeReason, AthenaError); the
 * rewriter's refusals and PostgreSQL's SQLSTATEs become Athena's error
 * names and types in query_error.c.
 */
#include "query.h"

#include <ctype.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "athena_csv.h"
#include "athena_ddl.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "query_error.h"
#include "server.h"
#include "sqlrewrite.h"
#include "stage.h"
#include "storage.h"

#define RESULT_MAX ((size_t)1 << 30)     /* one query's CSV */
#define VALUE_MAX ((size_t)64 << 20)     /* one formatted value */
#define HEARTBEAT_MS 10000
#define TIMEOUT_DEFAULT_S 1800
#define TABLE_CACHE_MAX 256              /* catalog lookups of one rewrite */
#define MAX_SLOTS 64
#define STAGE_TRIES 4                    /* a stage call that answers FL_RETRY */
#define STR_(x) #x
#define STR(x) STR_(x)

/* One worker's query, as the monitor and fl_query_engine_cancel see it. */
struct slot {
	char id[37];            /* e->lock: the query it runs, "" when idle */
	PGcancel *cancel;       /* e->lock: of the connection it runs on */
	bool in_statement;      /* e->lock: a statement is in flight */
	int cancel_why;         /* e->lock: FL_QUERY_CANCEL_* */
};

struct fl_query_engine;
struct worker {
	struct fl_query_engine *e;
	int n;
};

struct fl_query_engine {
	struct fl_server *srv;
	char runner[128];                 /* immutable: host:pid:random */
	int nworkers;                     /* immutable */
	pthread_t threads[MAX_SLOTS];
	struct worker workers[MAX_SLOTS]; /* immutable: each thread's argument */
	int started;
	pthread_t monitor;
	bool monitor_started;
	struct slot slots[MAX_SLOTS];     /* lock */
	pthread_mutex_t lock;
	pthread_cond_t work;              /* lock: wakes, stop */
	pthread_cond_t tick;              /* lock: stop (the monitor) */
	unsigned wakes;                   /* lock */
	bool stop;                        /* lock */
};

/* A claimed row. */
struct job {
	char id[37];
	char workgroup[129];
	char *query;
	char stype[16];
	char db[256];
	char bucket[256];
	char key[1100];
	int64_t t0;                       /* monotonic ms at the claim */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the slot: cancellation --------------------------------------------- */

static int slot_cancel_why(struct fl_query_engine *e, struct slot *s)
{
	pthread_mutex_lock(&e->lock);
	int why = s->cancel_why;
	pthread_mutex_unlock(&e->lock);
	return why;
}

/* Under e->lock. */
static void slot_pqcancel(struct slot *s)
{
	char buf[256];
	if (s->in_statement && s->cancel && !PQcancel(s->cancel, buf, sizeof buf))
		fl_warn("query %s: cannot cancel its statement: %s", s->id, buf);
}

void fl_query_engine_cancel(struct fl_query_engine *e, const char *id)
{
	if (!e || !id)
		return;
	pthread_mutex_lock(&e->lock);
	for (int i = 0; i < e->nworkers; i++) {
		struct slot *s = &e->slots[i];
		if (s->id[0] && strcasecmp(s->id, id) == 0) {
			if (s->cancel_why == FL_QUERY_CANCEL_NONE)
				s->cancel_why = FL_QUERY_CANCEL_USER;
			slot_pqcancel(s);
		}
	}
	pthread_mutex_unlock(&e->lock);
}

void fl_query_engine_wake(struct fl_query_engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->wakes++;
	pthread_cond_signal(&e->work);
	pthread_mutex_unlock(&e->lock);
}

/* Ends a cancel or stop noticed between steps; true when the run must end. */
static bool interrupted(struct fl_query_engine *e, struct slot *s, const struct job *j,
			int64_t limit_ms, struct fl_query_outcome *o)
{
	int why = slot_cancel_why(e, s);
	if (why == FL_QUERY_CANCEL_STOP) {
		o->end = FL_QUERY_REQUEUE;
		return true;
	}
	if (why == FL_QUERY_CANCEL_USER) {
		o->end = FL_QUERY_CANCELLED;
		snprintf(o->reason, sizeof o->reason, "Query cancelled by user");
		return true;
	}
	if (mono_ms() - j->t0 >= limit_ms) {
		fl_query_fail(o, 1, 206, false, "Query timeout");
		return true;
	}
	return false;
}

/* ---- the rewriter's view of the catalog --------------------------------- */

struct table_entry {
	char db[256], tbl[256];
	bool found;
	struct fl_sql_column *cols;
	size_t ncols;
	char *names;            /* lower-case copies the columns point into */
	json_t *spec;           /* owns the type strings */
};

struct table_cache {
	PGconn *conn;
	struct table_entry *items;
	size_t n;
	struct fl_error err;    /* a lookup that failed (not "no such table") */
};

static bool load_columns(struct table_entry *t)
{
	const json_t *lists[2] = {
		json_object_get(json_object_get(t->spec, "StorageDescriptor"), "Columns"),
		json_object_get(t->spec, "PartitionKeys"),
	};
	size_t n = json_array_size(lists[0]) + json_array_size(lists[1]), bytes = 0, k = 0;
	size_t i;
	json_t *c;
	for (int l = 0; l < 2; l++)
		json_array_foreach((json_t *)lists[l], i, c)
			bytes += strlen(json_string_value(json_object_get(c, "Name")) ?: "") + 1;
	t->cols = calloc(n ? n : 1, sizeof *t->cols);
	t->names = malloc(bytes + 1);
	if (!t->cols || !t->names)
		return false;
	char *p = t->names;
	for (int l = 0; l < 2; l++)
		json_array_foreach((json_t *)lists[l], i, c) {
			const char *name = json_string_value(json_object_get(c, "Name"));
			const char *type = json_string_value(json_object_get(c, "Type"));
			if (!name || !type)
				continue;
			t->cols[k].name = p;
			for (const char *q = name; *q; q++)
				*p++ = (char)tolower((unsigned char)*q);
			*p++ = '\0';
			t->cols[k++].type = type;
		}
	t->ncols = k;
	return true;
}

static bool catalog_table(void *arg, const char *db, const char *tbl,
			  const struct fl_sql_column **cols, size_t *ncols)
{
	struct table_cache *tc = arg;
	for (size_t i = 0; i < tc->n; i++)
		if (strcmp(tc->items[i].db, db) == 0 && strcmp(tc->items[i].tbl, tbl) == 0) {
			*cols = tc->items[i].cols;
			*ncols = tc->items[i].ncols;
			return tc->items[i].found;
		}
	*cols = NULL;
	*ncols = 0;
	if (tc->n >= TABLE_CACHE_MAX || strlen(db) > 255 || strlen(tbl) > 255)
		return false;
	if (!tc->items && !(tc->items = calloc(TABLE_CACHE_MAX, sizeof *tc->items)))
		return false;
	struct table_entry *t = &tc->items[tc->n];
	PGresult *res = NULL;
	const char *params[] = { db, tbl };
	struct fl_error err;
	if (fl_db_exec(tc->conn, "SELECT spec::text FROM fl_glue_tables WHERE db = $1 AND "
		       "name = $2", 2, params, &res, &err) != FL_OK) {
		if (tc->err.code == FL_OK)
			tc->err = err;
		return false;
	}
	snprintf(t->db, sizeof t->db, "%s", db);
	snprintf(t->tbl, sizeof t->tbl, "%s", tbl);
	if (PQntuples(res) == 1) {
		t->spec = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
		t->found = t->spec && load_columns(t);
	}
	PQclear(res);
	tc->n++;
	*cols = t->cols;
	*ncols = t->ncols;
	return t->found;
}

static void table_cache_free(struct table_cache *tc)
{
	for (size_t i = 0; i < tc->n; i++) {
		free(tc->items[i].cols);
		free(tc->items[i].names);
		json_decref(tc->items[i].spec);
	}
	free(tc->items);
}

/* ---- the statement ------------------------------------------------------- */

struct result {
	struct fl_buf csv, val, tmp;
	struct fl_athena_csv_col *cols;
	char **names;
	int ncols;
	bool header;
	enum fl_result overflow;   /* FL_TOO_LARGE once the CSV passed RESULT_MAX */
	uint64_t rows;
};

static enum fl_result result_header(struct result *rs, const PGresult *res)
{
	enum fl_result r = FL_OK;
	rs->ncols = PQnfields(res);
	rs->cols = calloc((size_t)rs->ncols + 1, sizeof *rs->cols);
	rs->names = calloc((size_t)rs->ncols + 1, sizeof *rs->names);
	if (!rs->cols || !rs->names)
		return FL_INTERNAL;
	for (int i = 0; i < rs->ncols && r == FL_OK; i++) {
		char gen[32];
		const char *name = PQfname(res, i);
		if (strcmp(name, "?column?") == 0) {     /* Trino names it _col<i> */
			snprintf(gen, sizeof gen, "_col%d", i);
			name = gen;
		}
		if (!(rs->names[i] = strdup(name)))
			return FL_INTERNAL;
		fl_athena_csv_col_init(&rs->cols[i], PQftype(res, i), PQfmod(res, i));
		if ((r = i ? fl_buf_addc(&rs->csv, ',') : FL_OK) == FL_OK)
			r = fl_athena_csv_field(&rs->csv, name, strlen(name));
	}
	rs->header = true;
	return r == FL_OK ? fl_buf_addc(&rs->csv, '\n') : r;
}

static enum fl_result result_row(struct result *rs, const PGresult *res)
{
	enum fl_result r = FL_OK;
	for (int i = 0; i < rs->ncols && r == FL_OK; i++) {
		if (i && (r = fl_buf_addc(&rs->csv, ',')) != FL_OK)
			break;
		if (PQgetisnull(res, 0, i))
			continue;
		fl_buf_reset(&rs->val);
		r = fl_athena_csv_value(&rs->cols[i], PQgetvalue(res, 0, i), (size_t)PQgetlength(res, 0, i),
				 &rs->val, &rs->tmp);
		if (r == FL_OK)
			r = fl_athena_csv_field(&rs->csv, rs->val.data ? rs->val.data : "", rs->val.len);
	}
	if (r == FL_OK)
		r = fl_buf_addc(&rs->csv, '\n');
	rs->rows += r == FL_OK;
	return r;
}

static void result_free(struct result *rs)
{
	fl_buf_free(&rs->csv);
	fl_buf_free(&rs->val);
	fl_buf_free(&rs->tmp);
	for (int i = 0; rs->names && i < rs->ncols; i++)
		free(rs->names[i]);
	free(rs->names);
	free(rs->cols);
}

/* Runs sql on conn in single-row mode into rs.  FL_OK when it ran (o is
 * untouched), else o says how it ended. */
static enum fl_result run_statement(struct fl_query_engine *e, struct slot *s,
				    const struct job *j, PGconn *conn, const char *sql,
				    struct result *rs, struct fl_query_outcome *o)
{
	char *state = NULL, *msg = NULL;
	if (!PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
		fl_query_fail(o, 1, 100, true, "GENERIC_INTERNAL_ERROR: %s", PQerrorMessage(conn));
		return FL_INTERNAL;
	}
	PQsetSingleRowMode(conn);
	pthread_mutex_lock(&e->lock);
	s->in_statement = true;
	if (s->cancel_why != FL_QUERY_CANCEL_NONE)
		slot_pqcancel(s);
	pthread_mutex_unlock(&e->lock);
	PGresult *res;
	while ((res = PQgetResult(conn))) {
		ExecStatusType st = PQresultStatus(res);
		enum fl_result r = FL_OK;
		if ((st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) && !rs->header &&
		    !rs->overflow)
			r = result_header(rs, res);
		if (st == PGRES_SINGLE_TUPLE && r == FL_OK && !rs->overflow)
			r = result_row(rs, res);
		if (st == PGRES_FATAL_ERROR && !state) {
			const char *f = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			state = strdup(f ? f : "XX000");
			msg = strdup(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: "error");
		}
		if (r != FL_OK && !rs->overflow) {
			/* Past the bound (or out of memory): stop the statement,
			 * drain what is already on the way. */
			rs->overflow = r;
			pthread_mutex_lock(&e->lock);
			slot_pqcancel(s);
			pthread_mutex_unlock(&e->lock);
		}
		PQclear(res);
	}
	pthread_mutex_lock(&e->lock);
	s->in_statement = false;
	int why = s->cancel_why;
	pthread_mutex_unlock(&e->lock);
	enum fl_result r = FL_OK;
	if (rs->overflow) {
		if (rs->overflow == FL_TOO_LARGE)
			fl_query_fail(o, 2, 1, false,
				      "Query exhausted resources at this scale factor: the "
				      "result is larger than %zu MiB", RESULT_MAX >> 20);
		else
			fl_query_fail(o, 1, 100, true, "GENERIC_INTERNAL_ERROR: out of memory");
		r = rs->overflow;
	} else if (state) {
		fl_query_statement_failed(o, j->query, state, msg, why);
		r = FL_INVALID;
	}
	free(state);
	free(msg);
	return r;
}

/* ---- one query ----------------------------------------------------------- */

/* A simple-protocol command (several statements) that must succeed. */
static enum fl_result command(PGconn *conn, const char *sql, struct fl_error *err)
{
	PGresult *res = PQexec(conn, sql);
	enum fl_result r = PQresultStatus(res) == PGRES_COMMAND_OK ? FL_OK
		: fl_error_set(err, PQstatus(conn) == CONNECTION_OK ? FL_INTERNAL : FL_UNAVAILABLE,
			       "%s", PQresultErrorMessage(res));
	PQclear(res);
	return r;
}

/* The partitions as a JSON parameter [[db, tbl, [vals]], ...]. */
static char *parts_json(const struct fl_stage_parts *parts)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < parts->n; i++) {
		const struct fl_stage_part *p = &parts->items[i];
		json_t *vals = json_array();
		for (size_t k = 0; vals && k < p->nvals; k++)
			json_array_append_new(vals, json_string(p->vals[k]));
		json_array_append_new(a, json_pack("[s, s, o]", p->db, p->tbl, vals));
	}
	char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

/* Lake bytes of the partitions' objects (catalog) and rows staged in
 * them; run as the session user, not the query role. */
static enum fl_result parts_sums(PGconn *conn, const struct fl_stage_parts *parts,
				 uint64_t *bytes, uint64_t *rows, struct fl_error *err)
{
	PGresult *res = NULL;
	char *json = parts_json(parts);
	const char *params[] = { json };
	enum fl_result r = json ? FL_OK : fl_error_set(err, FL_INTERNAL, "out of memory");
	if (r == FL_OK && (r = command(conn, "SET LOCAL ROLE NONE; SET LOCAL search_path = DEFAULT",
				       err)) == FL_OK)
		r = fl_db_exec(conn,
			       "WITH p AS (SELECT e->>0 AS db, e->>1 AS tbl, ARRAY(SELECT "
			       "jsonb_array_elements_text(e->2)) AS vals "
			       "FROM jsonb_array_elements($1::jsonb) e) "
			       "SELECT (SELECT coalesce(sum(o.bytes), 0) FROM p JOIN fl_objects o ON "
			       "o.db = p.db AND o.tbl = p.tbl AND o.vals = p.vals WHERE o.kind <> 'error'), "
			       "(SELECT coalesce(sum(s.staged_rows), 0) FROM p JOIN fl_stage_partitions s "
			       "ON s.db = p.db AND s.tbl = p.tbl AND s.vals = p.vals)", 1, params, &res, err);
	if (r == FL_OK) {
		*bytes = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		*rows = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
		r = command(conn, "SET LOCAL ROLE fl_query; SET LOCAL search_path = fl_trino, "
			    "pg_catalog", err);
	}
	PQclear(res);
	free(json);
	return r;
}

struct limits {
	int64_t timeout_ms;
	uint64_t cutoff_bytes;     /* 0: none */
};

static enum fl_result load_limits(PGconn *conn, const char *wg, struct limits *l,
				  struct fl_error *err)
{
	PGresult *res = NULL;
	const char *params[] = { wg };
	*l = (struct limits){ .timeout_ms = TIMEOUT_DEFAULT_S * 1000LL };
	enum fl_result r = fl_db_exec(conn, "SELECT (configuration->>'StatementTimeoutInSeconds')"
				      "::float8, (configuration->>'BytesScannedCutoffPerQuery')::float8 "
				      "FROM fl_athena_workgroups WHERE name = $1", 1, params, &res, err);
	if (r == FL_OK && PQntuples(res) == 1) {
		if (!PQgetisnull(res, 0, 0) && strtod(PQgetvalue(res, 0, 0), NULL) > 0)
			l->timeout_ms = (int64_t)(strtod(PQgetvalue(res, 0, 0), NULL) * 1000);
		if (!PQgetisnull(res, 0, 1) && strtod(PQgetvalue(res, 0, 1), NULL) > 0)
			l->cutoff_bytes = (uint64_t)strtod(PQgetvalue(res, 0, 1), NULL);
	}
	PQclear(res);
	return r;
}

static enum fl_result put_result(struct fl_server *srv, const struct job *j, const char *data,
				 size_t len, json_t *columns, struct fl_error *err)
{
	char key[1200];
	json_t *md = json_pack("{s:O}", "ColumnInfo", columns);
	char *text = md ? json_dumps(md, JSON_COMPACT) : NULL;
	json_decref(md);
	enum fl_result r = text ? fl_storage_put(srv->storage, j->bucket, j->key, data, len, err)
		: fl_error_set(err, FL_INTERNAL, "out of memory");
	snprintf(key, sizeof key, "%s.metadata", j->key);
	if (r == FL_OK)
		r = fl_storage_put(srv->storage, j->bucket, key, text, strlen(text), err);
	free(text);
	return r;
}

/* The rest of the time limit as the transaction's statement_timeout. */
static enum fl_result set_timeout(PGconn *conn, const struct job *j, const struct limits *lim,
				  struct fl_error *err)
{
	char set[96];
	int64_t left = lim->timeout_ms - (mono_ms() - j->t0);
	snprintf(set, sizeof set, "SET LOCAL statement_timeout = %lld",
		 (long long)(left > 1 ? left : 1));
	return command(conn, set, err);
}

/* BytesScannedCutoffPerQuery, then every partition the plan scans staged;
 * false when the run ends here (o says how). */
static bool stage_parts(struct fl_query_engine *e, struct slot *s, const struct job *j,
			PGconn *conn, const struct limits *lim, const struct fl_stage_parts *parts,
			struct fl_query_outcome *o)
{
	struct fl_error err = { 0 };
	uint64_t lake_bytes = 0, rows = 0;
	if (lim->cutoff_bytes && parts->n) {
		if (parts_sums(conn, parts, &lake_bytes, &rows, &err) != FL_OK) {
			fl_query_system_error(o, &err);
			return false;
		}
		if (lake_bytes > lim->cutoff_bytes) {
			/* Athena cancels a query past its workgroup's limit. */
			fl_query_fail(o, 2, 1000, false,
				      "Query cancelled! : Bytes scanned limit was exceeded");
			o->end = FL_QUERY_CANCELLED;
			return false;
		}
	}
	bool *ready = calloc(parts->n + 1, sizeof *ready);
	uint64_t *ready_bytes = calloc(parts->n + 1, sizeof *ready_bytes);
	bool ok = false;
	if (!ready || !ready_bytes) {
		fl_error_set(&err, FL_INTERNAL, "out of memory");
		fl_query_system_error(o, &err);
		goto out;
	}
	if (fl_stage_ready(e->srv->stage, parts, ready, ready_bytes, &err) != FL_OK) {
		fl_query_system_error(o, &err);
		goto out;
	}
	for (size_t i = 0; i < parts->n; i++) {
		uint64_t bytes = 0, added = 0;
		enum fl_result r = FL_RETRY;
		if (ready[i]) {
			o->scanned += ready_bytes[i];
			continue;
		}
		/* FL_RETRY: a deadlock or lock timeout with a concurrent stager */
		for (int k = 0; r == FL_RETRY && k < STAGE_TRIES; k++) {
			if (interrupted(e, s, j, lim->timeout_ms, o))
				goto out;
			if ((r = fl_stage_partition(e->srv->stage, &parts->items[i], &bytes, &added,
						    &err)) == FL_RETRY)
				usleep(50000u << k);
		}
		if (r != FL_OK) {
			fl_query_system_error(o, &err);
			goto out;
		}
		o->scanned += bytes;
	}
	if (parts->n && parts_sums(conn, parts, &lake_bytes, &o->input_rows, &err) != FL_OK) {
		fl_query_system_error(o, &err);
		goto out;
	}
	ok = !interrupted(e, s, j, lim->timeout_ms, o);
out:
	free(ready);
	free(ready_bytes);
	return ok;
}

/* The result and its metadata to the output location. */
static void write_result(struct fl_server *srv, const struct job *j, const struct result *rs,
			 struct fl_query_outcome *o)
{
	struct fl_error err = { 0 };
	int64_t t0 = mono_ms();
	o->columns = json_array();
	for (int i = 0; o->columns && i < rs->ncols; i++)
		if (json_array_append_new(o->columns, fl_athena_csv_column_info(rs->names[i],
										  &rs->cols[i])) != 0) {
			json_decref(o->columns);
			o->columns = NULL;
		}
	if (!o->columns) {
		fl_query_fail(o, 1, 100, true, "GENERIC_INTERNAL_ERROR: out of memory");
		return;
	}
	if (put_result(srv, j, rs->csv.data ? rs->csv.data : "", rs->csv.len, o->columns,
		       &err) != FL_OK) {
		fl_query_fail(o, 1, 401, true,
			      "Unable to write the query results to s3://%s/%s: %s",
			      j->bucket, j->key, err.msg);
		return;
	}
	o->service_ms = mono_ms() - t0;
	o->output_rows = rs->rows;
	o->output_bytes = rs->csv.len;
	o->end = FL_QUERY_SUCCEEDED;
}

static void run_dml(struct fl_query_engine *e, struct slot *s, const struct job *j,
		    struct fl_query_outcome *o)
{
	struct fl_server *srv = e->srv;
	struct fl_error err = { 0 };
	struct table_cache tc = { 0 };
	struct fl_sql_rewrite rw = { 0 };
	struct fl_stage_parts parts = { 0 };
	struct result rs = { 0 };
	struct limits lim;
	PGconn *conn = NULL;
	PGresult *prep = NULL;
	bool held = false;
	enum fl_result r = FL_RETRY;
	fl_buf_init(&rs.csv, RESULT_MAX);
	fl_buf_init(&rs.val, VALUE_MAX);
	fl_buf_init(&rs.tmp, VALUE_MAX);

	if (fl_db_acquire(srv->db, &conn, &err) != FL_OK ||
	    load_limits(conn, j->workgroup, &lim, &err) != FL_OK) {
		fl_query_system_error(o, &err);
		goto out;
	}
	pthread_mutex_lock(&e->lock);
	s->cancel = PQgetCancel(conn);
	pthread_mutex_unlock(&e->lock);

	tc.conn = conn;
	struct fl_sql_catalog cat = { .arg = &tc, .default_db = j->db, .table = catalog_table };
	if (fl_sql_rewrite(j->query, &cat, &rw, &err) != FL_OK) {
		if (tc.err.code != FL_OK)
			fl_query_system_error(o, &tc.err);
		else
			fl_query_rewrite_failed(o, j->query, &err);
		goto out;
	}
	for (size_t i = 0; i < rw.ntables; i++, r = FL_RETRY) {
		for (int k = 0; r == FL_RETRY && k < STAGE_TRIES; k++)
			if ((r = fl_stage_sync_table(srv->stage, rw.tables[i].db, rw.tables[i].tbl,
						     &err)) == FL_RETRY)
				usleep(50000u << k);
		if (r != FL_OK) {
			fl_query_system_error(o, &err);
			goto out;
		}
	}
	if (interrupted(e, s, j, lim.timeout_ms, o))
		goto out;
	if (command(conn, "BEGIN READ ONLY; SET LOCAL ROLE fl_query; SET LOCAL search_path = "
		    "fl_trino, pg_catalog; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = "
		    "'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL "
		    "extra_float_digits = 1; SET LOCAL jit = off", &err) != FL_OK ||
	    set_timeout(conn, j, &lim, &err) != FL_OK) {
		fl_query_system_error(o, &err);
		goto out;
	}
	/* Parse analysis: undefined columns, functions, syntax, with SQLSTATEs. */
	prep = PQprepare(conn, "", rw.sql.data, 0, NULL);
	if (PQresultStatus(prep) != PGRES_COMMAND_OK) {
		fl_query_statement_failed(o, j->query, PQresultErrorField(prep, PG_DIAG_SQLSTATE),
					  PQresultErrorField(prep, PG_DIAG_MESSAGE_PRIMARY),
					  slot_cancel_why(e, s));
		goto out;
	}
	if (rw.ntables && fl_stage_plan_parts(srv->stage, conn, rw.sql.data, &parts, &err) != FL_OK) {
		if (PQtransactionStatus(conn) == PQTRANS_INERROR)
			fl_query_fail(o, 2, 1006, false, "SYNTAX_ERROR: %s", err.msg);
		else
			fl_query_system_error(o, &err);
		goto out;
	}
	fl_stage_hold(srv->stage, &parts);
	held = true;
	if (!stage_parts(e, s, j, conn, &lim, &parts, o))
		goto out;
	o->planning_ms = mono_ms() - j->t0;
	if (set_timeout(conn, j, &lim, &err) != FL_OK) {
		fl_query_system_error(o, &err);
		goto out;
	}
	if (run_statement(e, s, j, conn, rw.sql.data, &rs, o) != FL_OK)
		goto out;
	o->engine_ms = mono_ms() - j->t0;
	if (command(conn, "COMMIT", &err) != FL_OK) {
		fl_query_system_error(o, &err);
		goto out;
	}
	fl_stage_release(srv->stage, &parts);
	held = false;
	write_result(srv, j, &rs, o);
out:
	PQclear(prep);
	if (conn && PQtransactionStatus(conn) != PQTRANS_IDLE && PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
	if (held)
		fl_stage_release(srv->stage, &parts);
	fl_stage_parts_free(&parts);
	if (conn) {
		pthread_mutex_lock(&e->lock);
		PQfreeCancel(s->cancel);
		s->cancel = NULL;
		pthread_mutex_unlock(&e->lock);
		fl_db_release(srv->db, conn);
	}
	if (!o->engine_ms)
		o->engine_ms = mono_ms() - j->t0;
	fl_sql_rewrite_free(&rw);
	table_cache_free(&tc);
	result_free(&rs);
}

/* A DDL or utility statement: rows written tab-separated, no header. */
static void run_ddl(struct fl_query_engine *e, const struct job *j, struct fl_query_outcome *o)
{
	struct fl_error err = { 0 };
	json_t *columns = NULL, *rows = NULL;
	struct fl_buf txt;
	fl_buf_init(&txt, RESULT_MAX);
	enum fl_result r = fl_ddl_run(e->srv, j->query, j->db, &columns, &rows, &err);
	if (r != FL_OK) {
		if (r == FL_INTERNAL || r == FL_UNAVAILABLE || r == FL_RETRY || r == FL_IO)
			fl_query_system_error(o, &err);
		else
			fl_query_fail(o, 2, 1003, false, "%s", err.msg);
		goto out;
	}
	size_t i, k;
	json_t *row, *v;
	json_array_foreach(rows, i, row) {
		json_array_foreach(row, k, v) {
			const char *s = json_string_value(v) ?: "";
			if (k && (r = fl_buf_addc(&txt, '\t')) != FL_OK)
				break;
			/* A field holds no separator; the last may hold tabs (read
			 * back whole: MSCK's "...metastore:\t<tbl>:<k=v>" line). */
			bool last = k + 1 == json_array_size(row);
			for (; *s && r == FL_OK; s++)
				r = fl_buf_addc(&txt, *s == '\n' || (*s == '\t' && !last) ? ' ' : *s);
		}
		if (r == FL_OK)
			r = fl_buf_addc(&txt, '\n');
		if (r != FL_OK) {
			fl_query_fail(o, 2, 1, false,
				      "Query exhausted resources at this scale factor: the "
				      "result is larger than %zu MiB", RESULT_MAX >> 20);
			goto out;
		}
	}
	o->engine_ms = mono_ms() - j->t0;
	int64_t t_write = mono_ms();
	if (!columns && !(columns = json_array())) {
		fl_query_fail(o, 1, 100, true, "GENERIC_INTERNAL_ERROR: out of memory");
		goto out;
	}
	if (put_result(e->srv, j, txt.data ? txt.data : "", txt.len, columns, &err) != FL_OK) {
		fl_query_fail(o, 1, 401, true,
			      "Unable to write the query results to s3://%s/%s: %s", j->bucket,
			      j->key, err.msg);
		goto out;
	}
	o->service_ms = mono_ms() - t_write;
	o->output_rows = json_array_size(rows);
	o->output_bytes = txt.len;
	o->columns = columns;
	columns = NULL;
	o->end = FL_QUERY_SUCCEEDED;
out:
	if (!o->engine_ms)
		o->engine_ms = mono_ms() - j->t0;
	json_decref(columns);
	json_decref(rows);
	fl_buf_free(&txt);
}

/* ---- the queue ----------------------------------------------------------- */

static bool split_s3(const char *loc, char *bucket, size_t nb, char *key, size_t nk)
{
	if (strncmp(loc, "s3://", 5) != 0)
		return false;
	const char *b = loc + 5, *slash = strchr(b, '/');
	if (!slash || slash == b || (size_t)(slash - b) >= nb || strlen(slash + 1) >= nk ||
	    !slash[1])
		return false;
	snprintf(bucket, nb, "%.*s", (int)(slash - b), b);
	snprintf(key, nk, "%s", slash + 1);
	return true;
}

/* Claims the oldest QUEUED row; *got false when there is none. */
static enum fl_result claim(struct fl_query_engine *e, struct job *j, bool *got,
			    struct fl_error *err)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	const char *params[] = { e->runner };
	*got = false;
	enum fl_result r = fl_db_acquire(e->srv->db, &conn, err);
	if (r == FL_OK)
		r = fl_db_exec(conn, "UPDATE fl_athena_queries SET state = 'RUNNING', runner = $1, "
			       "heartbeat_at = clock_timestamp(), started_at = clock_timestamp() "
			       "WHERE id = (SELECT id FROM fl_athena_queries WHERE state = 'QUEUED' "
			       "ORDER BY submitted_at FOR UPDATE SKIP LOCKED LIMIT 1) "
			       "RETURNING id::text, workgroup, query, statement_type, "
			       "coalesce(db, 'default'), output_location", 1, params, &res, err);
	if (r == FL_OK && PQntuples(res) == 1) {
		memset(j, 0, sizeof *j);
		j->t0 = mono_ms();
		snprintf(j->id, sizeof j->id, "%s", PQgetvalue(res, 0, 0));
		snprintf(j->workgroup, sizeof j->workgroup, "%s", PQgetvalue(res, 0, 1));
		snprintf(j->stype, sizeof j->stype, "%s", PQgetvalue(res, 0, 3));
		snprintf(j->db, sizeof j->db, "%s", PQgetvalue(res, 0, 4));
		j->query = strdup(PQgetvalue(res, 0, 2));
		if (!split_s3(PQgetvalue(res, 0, 5), j->bucket, sizeof j->bucket, j->key, sizeof j->key))
			snprintf(j->bucket, sizeof j->bucket, "%s", "");
		*got = true;
		if (!j->query)
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	PQclear(res);
	if (conn)
		fl_db_release(e->srv->db, conn);
	return r;
}

static void finish(struct fl_query_engine *e, const struct job *j, const struct fl_query_outcome *o)
{
	static const char *const STATES[] = { "SUCCEEDED", "FAILED", "CANCELLED", "QUEUED" };
	struct fl_error err;
	PGconn *conn = NULL;
	char num[7][24];
	char *error = NULL, *columns = NULL;
	if (o->category) {
		json_t *ae = json_pack("{s:i, s:i, s:b, s:s}", "ErrorCategory", o->category,
				       "ErrorType", o->type, "Retryable", o->retryable,
				       "ErrorMessage", o->reason);
		error = ae ? json_dumps(ae, JSON_COMPACT) : NULL;
		json_decref(ae);
	}
	if (o->columns)
		columns = json_dumps(o->columns, JSON_COMPACT);
	snprintf(num[0], sizeof num[0], "%lld", (long long)o->planning_ms);
	snprintf(num[1], sizeof num[1], "%lld", (long long)o->engine_ms);
	snprintf(num[2], sizeof num[2], "%lld", (long long)o->service_ms);
	snprintf(num[3], sizeof num[3], "%llu", (unsigned long long)o->scanned);
	snprintf(num[4], sizeof num[4], "%llu", (unsigned long long)o->input_rows);
	snprintf(num[5], sizeof num[5], "%llu", (unsigned long long)o->output_rows);
	snprintf(num[6], sizeof num[6], "%llu", (unsigned long long)o->output_bytes);
	const char *params[] = { j->id, e->runner, STATES[o->end], o->reason[0] ? o->reason : NULL,
				 error, num[0], num[1], num[2], num[3], num[4], num[5], num[6],
				 columns };
	enum fl_result r = fl_db_acquire(e->srv->db, &conn, &err);
	if (r == FL_OK && o->end == FL_QUERY_REQUEUE)
		r = fl_db_exec(conn, "UPDATE fl_athena_queries SET state = CASE WHEN cancel THEN "
			       "'CANCELLED' ELSE 'QUEUED' END, completed_at = CASE WHEN cancel THEN "
			       "clock_timestamp() END, runner = NULL, heartbeat_at = NULL, "
			       "started_at = NULL WHERE id = $1 AND runner = $2 AND state = 'RUNNING'",
			       2, params, NULL, &err);
	else if (r == FL_OK)
		r = fl_db_exec(conn, "UPDATE fl_athena_queries SET state = $3, state_reason = $4, "
			       "error = $5::jsonb, completed_at = clock_timestamp(), "
			       "heartbeat_at = NULL, queue_ms = (extract(epoch FROM started_at - "
			       "submitted_at) * 1000)::bigint, planning_ms = $6, engine_ms = $7, "
			       "service_ms = $8, scanned_bytes = $9, input_rows = $10, output_rows = $11, "
			       "output_bytes = $12, columns = $13::jsonb "
			       "WHERE id = $1 AND runner = $2 AND state = 'RUNNING'",
			       13, params, NULL, &err);
	if (r != FL_OK)
		fl_error("query %s: cannot record its end (%s); it runs again later", j->id, err.msg);
	if (conn)
		fl_db_release(e->srv->db, conn);
	free(error);
	free(columns);
}

static void run_job(struct fl_query_engine *e, struct slot *s, struct job *j)
{
	struct fl_query_outcome o = { 0 };
	pthread_mutex_lock(&e->lock);
	snprintf(s->id, sizeof s->id, "%s", j->id);
	pthread_mutex_unlock(&e->lock);
	fl_debug("query %s: running (%s)", j->id, j->stype);
	if (!j->bucket[0])
		fl_query_fail(&o, 1, 100, false, "GENERIC_INTERNAL_ERROR: bad output location");
	else if (fl_ddl_is_ddl(j->query))
		run_ddl(e, j, &o);
	else
		run_dml(e, s, j, &o);
	finish(e, j, &o);
	if (o.end == FL_QUERY_FAILED && o.category == 1)
		fl_warn("query %s failed: %s", j->id, o.reason);
	json_decref(o.columns);
	pthread_mutex_lock(&e->lock);
	s->id[0] = '\0';
	if (s->cancel_why == FL_QUERY_CANCEL_USER)
		s->cancel_why = FL_QUERY_CANCEL_NONE;
	pthread_mutex_unlock(&e->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct fl_query_engine *e = w->e;
	struct slot *s = &e->slots[w->n];
	for (;;) {
		struct fl_error err = { 0 };
		struct job j = { 0 };
		bool got = false;
		pthread_mutex_lock(&e->lock);
		bool stop = e->stop;
		pthread_mutex_unlock(&e->lock);
		if (stop)
			break;
		if (claim(e, &j, &got, &err) != FL_OK)
			fl_warn("query engine: cannot claim a query: %s", err.msg);
		if (got) {
			run_job(e, s, &j);
			free(j.query);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)FL_QUERY_POLL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&e->lock);
		if (!e->stop && !e->wakes)
			pthread_cond_timedwait(&e->work, &e->lock, &ts);
		if (e->wakes)
			e->wakes--;
		pthread_mutex_unlock(&e->lock);
	}
	return NULL;
}

/* ---- the monitor --------------------------------------------------------- */

/* Cancels flagged by StopQueryExecution in any process; heartbeats; the
 * rows of dead runners back in the queue. */
static void monitor_pass(struct fl_query_engine *e, const char *ids, bool beat, bool requeue)
{
	struct fl_error err;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	const char *params[] = { ids, e->runner };
	if (fl_db_acquire(e->srv->db, &conn, &err) != FL_OK)
		return;
	if (ids[1] != '}' && fl_db_exec(conn, "SELECT id::text FROM fl_athena_queries WHERE "
					"id = ANY($1::uuid[]) AND cancel", 1, params, &res,
					&err) == FL_OK)
		for (int i = 0; i < PQntuples(res); i++)
			fl_query_engine_cancel(e, PQgetvalue(res, i, 0));
	PQclear(res);
	if (beat && ids[1] != '}' &&
	    fl_db_exec(conn, "UPDATE fl_athena_queries SET heartbeat_at = clock_timestamp() "
		       "WHERE id = ANY($1::uuid[]) AND runner = $2 AND state = 'RUNNING'", 2, params,
		       NULL, &err) != FL_OK)
		fl_warn("query engine: heartbeat: %s", err.msg);
	if (requeue &&
	    fl_db_exec(conn, "UPDATE fl_athena_queries SET state = CASE WHEN cancel THEN "
		       "'CANCELLED' ELSE 'QUEUED' END, completed_at = CASE WHEN cancel THEN "
		       "clock_timestamp() END, runner = NULL, heartbeat_at = NULL, started_at = NULL "
		       "WHERE state = 'RUNNING' AND heartbeat_at < clock_timestamp() - interval '"
		       STR(FL_QUERY_STALE_S) " seconds'", 0, NULL, NULL, &err) != FL_OK)
		fl_warn("query engine: requeue of stale queries: %s", err.msg);
	fl_db_release(e->srv->db, conn);
}

static void *monitor_main(void *arg)
{
	struct fl_query_engine *e = arg;
	int64_t last_beat = mono_ms(), last_requeue = 0;
	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)FL_QUERY_POLL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&e->tick, &e->lock, &ts);
		if (e->stop)
			break;
		char ids[MAX_SLOTS * 38 + 3] = "{";
		size_t n = 1;
		for (int i = 0; i < e->nworkers; i++) {
			struct slot *s = &e->slots[i];
			if (!s->id[0])
				continue;
			n += (size_t)snprintf(ids + n, sizeof ids - n, "%s%s", n > 1 ? "," : "", s->id);
			if (s->cancel_why != FL_QUERY_CANCEL_NONE)
				slot_pqcancel(s);   /* again: the first may have come early */
		}
		snprintf(ids + n, sizeof ids - n, "}");
		pthread_mutex_unlock(&e->lock);
		int64_t now = mono_ms();
		bool beat = now - last_beat >= HEARTBEAT_MS, requeue = now - last_requeue >= HEARTBEAT_MS;
		if (n > 1 || requeue)
			monitor_pass(e, ids, beat, requeue);
		if (beat)
			last_beat = now;
		if (requeue)
			last_requeue = now;
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* ---- the engine ---------------------------------------------------------- */

enum fl_result fl_query_engine_new(struct fl_server *srv, int threads,
				   struct fl_query_engine **out, struct fl_error *err)
{
	*out = NULL;
	if (threads < 1 || threads > MAX_SLOTS)
		return fl_error_set(err, FL_INVALID, "query threads must be 1 to %d", MAX_SLOTS);
	if (!srv->stage)
		return fl_error_set(err, FL_INTERNAL, "the query engine needs the staged lake");
	struct fl_query_engine *e = calloc(1, sizeof *e);
	if (!e)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	e->srv = srv;
	e->nworkers = threads;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->work, NULL);
	pthread_cond_init(&e->tick, NULL);
	char host[64] = "localhost";
	uint32_t rnd = 0;
	gethostname(host, sizeof host - 1);
	if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd = (uint32_t)mono_ms();
	snprintf(e->runner, sizeof e->runner, "%s:%d:%08x", host, (int)getpid(), rnd);
	for (int i = 0; i < threads; i++) {
		e->workers[i] = (struct worker){ .e = e, .n = i };
		if (pthread_create(&e->threads[i], NULL, worker_main, &e->workers[i]) != 0) {
			fl_query_engine_free(e);
			return fl_error_set(err, FL_INTERNAL, "cannot start query workers");
		}
		e->started++;
	}
	if (pthread_create(&e->monitor, NULL, monitor_main, e) != 0) {
		fl_query_engine_free(e);
		return fl_error_set(err, FL_INTERNAL, "cannot start the query monitor");
	}
	e->monitor_started = true;
	fl_info("query engine: %d workers (%s)", threads, e->runner);
	*out = e;
	return FL_OK;
}

void fl_query_engine_free(struct fl_query_engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	for (int i = 0; i < e->nworkers; i++) {
		e->slots[i].cancel_why = FL_QUERY_CANCEL_STOP;
		slot_pqcancel(&e->slots[i]);
	}
	pthread_cond_broadcast(&e->work);
	pthread_cond_broadcast(&e->tick);
	pthread_mutex_unlock(&e->lock);
	for (int i = 0; i < e->started; i++)
		pthread_join(e->threads[i], NULL);
	if (e->monitor_started)
		pthread_join(e->monitor, NULL);
	pthread_cond_destroy(&e->work);
	pthread_cond_destroy(&e->tick);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
