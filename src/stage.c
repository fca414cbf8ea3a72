/*
 * stage.c - the staged lake: Glue tables as PostgreSQL tables (stage.h).
 *
 * DESIGN
 *
 * Tables are made and kept in step with the Glue documents by
 * stage_table.c; rows are made from lake objects by stage_copy.c.  This
 * file stages, evicts, maps query plans to partitions and runs the eager
 * stager.
 *
 * Staging.  Each object is staged in one transaction of its own: the
 * claim (INSERT INTO fl_stage_objects ... ON CONFLICT DO NOTHING
 * RETURNING), the COPY into the leaf, the partition's counters.  A second
 * stager of the same object waits on the claim's unique index entry and
 * then finds it taken; so an object is in a leaf once, whatever runs at
 * the same time, in this process or another.  The COPY's columns and
 * their types are read from the leaf itself (not the Glue document),
 * so rows always match the table they land in.  Objects of one partition
 * are staged by STAGE_WORKERS threads (the caller's and one more), each
 * with its own connection.
 *
 * The cache.  staged_bytes of a partition is its leaf's
 * pg_total_relation_size after each COPY.  When the sum passes the budget
 * the least recently used leaves are truncated (with their object rows
 * deleted in the same transaction) until it fits, skipping those held by
 * queries of this process and, through a short lock_timeout, those that a
 * query of any process is reading.
 *
 * The epoch.  fl_stage_epoch is UNLOGGED: after a crash PostgreSQL
 * empties it together with every leaf.  Finding it empty (at start, and
 * before staging) means the stage records lie: they are forgotten under
 * an advisory lock and a new epoch row is written.
 *
 * Locks: st->mu guards the holds; st->qmu the queue.
 * Neither is held across a call into PostgreSQL.
 */
#include "stage.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "log.h"
#include "server.h"
#include "sqlrewrite.h"
#include "stage_copy.h"
#include "stage_table.h"
#include "storage.h"

#define QUEUE_MAX 1024
#define HOLD_BUCKETS 256
#define OBJECT_MAX ((size_t)2 << 30)
#define SQL_MAX ((size_t)256 << 20)
#define EVICT_LOCK_TIMEOUT "50ms"
#define EVICT_MAX_BUSY 8               /* locked leaves tried in one pass */
#define EVICT_BATCH "64"
#define STAGE_WORKERS 2
#define STAGE_RETRIES 3
/* pg_advisory_xact_lock key of the epoch check ("firelakf") */
#define EPOCH_LOCK "7379555244358855526"

struct hold_ent {
	char *key;              /* "db.relname" */
	unsigned count;
	struct hold_ent *next;
};

struct qitem {
	char *db, *tbl, **vals;
	size_t nvals;
};

struct fl_stage {
	struct fl_db *db;               /* immutable, borrowed */
	struct fl_storage *storage;     /* immutable, borrowed */
	uint64_t budget_bytes;          /* immutable */
	_Atomic uint64_t bytes;         /* staged bytes last seen */
	struct fl_stage_tables *tables; /* thread-safe */
	pthread_mutex_t mu;
	struct hold_ent *holds[HOLD_BUCKETS];  /* mu: partitions held by queries */
	pthread_mutex_t qmu;
	pthread_cond_t qcv;             /* an item was queued, or stop */
	struct qitem queue[QUEUE_MAX];  /* qmu: a ring of qlen from qhead */
	size_t qhead, qlen;             /* qmu */
	bool stop;                      /* qmu */
	bool started;                   /* immutable after fl_stage_new */
	pthread_t thread;
};

static enum fl_result oom(struct fl_error *err)
{
	return fl_error_set(err, FL_INTERNAL, "out of memory");
}

static enum fl_result add_sql(struct fl_buf *b, const char *s, struct fl_error *err)
{
	return fl_buf_adds(b, s) == FL_OK ? FL_OK : oom(err);
}

enum fl_result fl_stage_sync_table(struct fl_stage *st, const char *db, const char *tbl,
				   struct fl_error *err)
{
	PGconn *conn = NULL;
	enum fl_result r = fl_stage_check_names(db, tbl, err);
	if (r != FL_OK || (r = fl_db_acquire(st->db, &conn, err)) != FL_OK)
		return r;
	r = fl_stage_tables_sync(st->tables, conn, db, tbl, err);
	fl_db_release(st->db, conn);
	return r;
}

/* ---- staging objects --------------------------------------------------------------- */

struct object {
	const char *bucket, *key;       /* borrowed from the listing's result */
};

/* What the objects of one partition are staged with. */
struct job {
	struct fl_stage *st;
	const char *db, *tbl, *relname, *vals_lit;
	struct fl_stage_layout layout;
	struct fl_stage_col *cols;
	char (*names)[FL_STAGE_NAME_MAX + 1];
	struct fl_buf copy_sql;
	struct object *objs;
	size_t nobjs;
	atomic_size_t next;
	_Atomic uint64_t rows;
	pthread_mutex_t mu;
	enum fl_result r;       /* mu: the first failure */
	struct fl_error err;    /* mu */
};

static void job_fail(struct job *j, enum fl_result r, const struct fl_error *err)
{
	pthread_mutex_lock(&j->mu);
	if (j->r == FL_OK) {
		j->r = r;
		j->err = *err;
	}
	pthread_mutex_unlock(&j->mu);
}

static bool job_failed(struct job *j)
{
	pthread_mutex_lock(&j->mu);
	bool f = j->r != FL_OK;
	pthread_mutex_unlock(&j->mu);
	return f;
}

/* The leaf's columns, typed from the catalog, sourced from the Glue
 * document; and the COPY statement. */
static enum fl_result job_layout(PGconn *conn, struct job *j, const struct fl_stage_glue *t,
				 struct fl_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { j->db, j->relname };
	enum fl_result r = fl_db_exec(conn, "SELECT a.attname::text, format_type(a.atttypid, "
				      "a.atttypmod) FROM pg_attribute a JOIN pg_class c ON "
				      "c.oid = a.attrelid JOIN pg_namespace n ON n.oid = "
				      "c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND "
				      "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
				      2, p, &res, err);
	if (r != FL_OK)
		return r;
	size_t n = (size_t)PQntuples(res);
	j->cols = calloc(n + 1, sizeof *j->cols);
	j->names = calloc(n + 1, sizeof *j->names);
	if (!j->cols || !j->names) {
		r = oom(err);
		goto out;
	}
	if ((r = add_sql(&j->copy_sql, "COPY ", err)) != FL_OK ||
	    (r = fl_stage_qname(conn, j->db, j->relname, &j->copy_sql, err)) != FL_OK ||
	    (r = add_sql(&j->copy_sql, " (", err)) != FL_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct fl_stage_col *c = &j->cols[i];
		snprintf(j->names[i], sizeof j->names[i], "%s", PQgetvalue(res, (int)i, 0));
		if (!fl_stage_col_type(PQgetvalue(res, (int)i, 1), c))
			c->kind = FL_STAGE_UNKNOWN;
		c->part = -1;
		c->field = -1;
		c->key = j->names[i];
		for (size_t k = 0; k < t->nkeys; k++)
			if (strcmp(t->keys[k], j->names[i]) == 0)
				c->part = (int)k;
		for (size_t k = 0; k < t->ncols; k++)
			if (strcmp(t->cols[k].name, j->names[i]) == 0) {
				c->field = (int)t->cols[k].pos;
				c->fold_keys = t->cols[k].fold_keys;
			}
		char mp[sizeof "mapping." + FL_STAGE_NAME_MAX];
		snprintf(mp, sizeof mp, "mapping.%s", j->names[i]);
		const char *m = json_string_value(json_object_get(t->serde_params, mp));
		if (m && *m && strlen(m) <= FL_STAGE_NAME_MAX * 4 + 3)
			c->key = m;  /* borrowed from t->spec, which outlives the job */
		if ((i && (r = add_sql(&j->copy_sql, ", ", err)) != FL_OK) ||
		    (r = fl_db_ident(conn, j->names[i], &j->copy_sql, err)) != FL_OK)
			goto out;
	}
	r = add_sql(&j->copy_sql, ") FROM STDIN", err);
	j->layout.format = t->format;
	j->layout.delim = t->delim;
	j->layout.skip_lines = t->skip_lines;
	j->layout.cols = j->cols;
	j->layout.ncols = n;
out:
	PQclear(res);
	return r;
}

static enum fl_result put_copy(void *arg, const char *rows, size_t n, struct fl_error *err)
{
	PGconn *conn = arg;
	if (PQputCopyData(conn, rows, (int)n) != 1)
		return fl_error_set(err, FL_UNAVAILABLE, "PostgreSQL is unavailable: %s",
				    PQerrorMessage(conn));
	return FL_OK;
}

/* Ends a COPY: sent (ok) or abandoned; the statement's outcome. */
static enum fl_result copy_end(PGconn *conn, bool ok, const char *what, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	if (PQputCopyEnd(conn, ok ? NULL : "staging failed") != 1)
		r = fl_error_set(err, FL_UNAVAILABLE, "PostgreSQL is unavailable: %s",
				 PQerrorMessage(conn));
	PGresult *res;
	while ((res = PQgetResult(conn))) {
		if (ok && r == FL_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
			r = fl_error_set(err, PQstatus(conn) == CONNECTION_OK ? FL_INTERNAL
					 : FL_UNAVAILABLE, "staging %s failed: %s", what,
					 m ? m : PQerrorMessage(conn));
		}
		PQclear(res);
	}
	return r;
}

static enum fl_result stage_object(struct job *j, PGconn *conn, struct fl_stage_copy *cv,
				   struct fl_buf *data, const struct object *o,
				   struct fl_error *err)
{
	PGresult *res = NULL;
	uint64_t rows = 0, bad = 0;
	char srows[24], sbad[24], what[1200];
	enum fl_result r;
	const char *p[] = { o->bucket, o->key, j->db, j->tbl, j->vals_lit };
	snprintf(what, sizeof what, "s3://%s/%s", o->bucket, o->key);
	/* No flush at commit: a crash empties the UNLOGGED leaves and the
	 * epoch, which forgets every stage record anyway (see above). */
	if ((r = fl_stage_run(conn, "BEGIN; SET LOCAL synchronous_commit TO off", err)) != FL_OK ||
	    (r = fl_db_exec(conn, "INSERT INTO fl_stage_objects (bucket, key, db, tbl, vals, rows) "
			    "VALUES ($1, $2, $3, $4, $5::text[], 0) ON CONFLICT DO NOTHING "
			    "RETURNING 1", 5, p, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) == 0)
		goto out;  /* staged by someone else, now or before */
	fl_buf_reset(data);
	if ((r = fl_storage_get(j->st->storage, o->bucket, o->key, data, err)) != FL_OK) {
		if (r == FL_NOT_FOUND)
			r = fl_error_set(err, FL_NOT_FOUND, "object %s of %s.%s is missing from the "
					 "lake", what, j->db, j->tbl);
		goto out;
	}
	PQclear(res);
	res = PQexec(conn, j->copy_sql.data);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		r = fl_error_set(err, PQstatus(conn) == CONNECTION_OK ? FL_INTERNAL : FL_UNAVAILABLE,
				 "staging %s failed: %s", what, PQerrorMessage(conn));
		goto out;
	}
	r = fl_stage_copy_object(cv, data->data, data->len, put_copy, conn, &rows, &bad, err);
	enum fl_result e = copy_end(conn, r == FL_OK, what, r == FL_OK ? err : NULL);
	if (r == FL_OK)
		r = e;
	if (r != FL_OK)
		goto out;
	if (bad)
		fl_debug("stage: %s: %" PRIu64 " lines skipped", what, bad);
	snprintf(srows, sizeof srows, "%" PRIu64, rows);
	snprintf(sbad, sizeof sbad, "%" PRIu64, bad);
	const char *u1[] = { o->bucket, o->key, srows, sbad, j->db, j->tbl };
	const char *u2[] = { j->db, j->tbl, j->vals_lit, srows, j->relname };
	if ((r = fl_db_exec(conn, "UPDATE fl_stage_objects SET rows = $3, bad = $4 WHERE "
			    "bucket = $1 AND key = $2 AND db = $5 AND tbl = $6", 6, u1, NULL,
			    err)) != FL_OK ||
	    (r = fl_db_exec(conn, "UPDATE fl_stage_partitions SET staged_rows = staged_rows + $4, "
			    "staged_bytes = pg_total_relation_size(format('%I.%I', $1::text, "
			    "$5::text)::regclass), used_at = now() WHERE db = $1 AND tbl = $2 AND "
			    "vals = $3::text[]", 5, u2, NULL, err)) != FL_OK ||
	    (r = fl_stage_run(conn, "COMMIT", err)) != FL_OK)
		goto out;
	atomic_fetch_add(&j->rows, rows);
out:
	PQclear(res);
	if (r != FL_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)
		fl_stage_rollback(conn);
	return r;
}

static void work(struct job *j, PGconn *conn)
{
	struct fl_stage_copy *cv = NULL;
	struct fl_buf data;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r = fl_stage_copy_new(&j->layout, &cv, &err);
	fl_buf_init(&data, OBJECT_MAX);
	while (r == FL_OK && !job_failed(j)) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->nobjs)
			break;
		for (int attempt = 0; attempt < STAGE_RETRIES; attempt++)
			if ((r = stage_object(j, conn, cv, &data, &j->objs[i], &err)) != FL_RETRY)
				break;
	}
	if (r != FL_OK)
		job_fail(j, r, &err);
	fl_stage_copy_free(cv);
	fl_buf_free(&data);
}

static void *helper_main(void *arg)
{
	struct job *j = arg;
	PGconn *conn = NULL;
	struct fl_error err;
	if (fl_db_acquire(j->st->db, &conn, &err) != FL_OK)
		return NULL;  /* the caller's thread does it all */
	work(j, conn);
	fl_db_release(j->st->db, conn);
	return NULL;
}

/* ---- the cache -------------------------------------------------------------------- */

static size_t hold_bucket(const char *key)
{
	size_t h = 5381;
	for (const char *p = key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h % HOLD_BUCKETS;
}

static bool held(struct fl_stage *st, const char *db, const char *rel)
{
	char key[2 * FL_STAGE_NAME_MAX + 2];
	bool h = false;
	snprintf(key, sizeof key, "%s.%s", db, rel);
	pthread_mutex_lock(&st->mu);
	for (struct hold_ent *e = st->holds[hold_bucket(key)]; e && !h; e = e->next)
		h = strcmp(e->key, key) == 0;
	pthread_mutex_unlock(&st->mu);
	return h;
}

static enum fl_result total_bytes(struct fl_stage *st, PGconn *conn, uint64_t *total,
				  struct fl_error *err)
{
	PGresult *res = NULL;
	enum fl_result r = fl_db_exec(conn, "SELECT coalesce(sum(staged_bytes), 0)::text FROM "
				      "fl_stage_partitions", 0, NULL, &res, err);
	if (r == FL_OK) {
		*total = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		atomic_store(&st->bytes, *total);
	}
	PQclear(res);
	return r;
}

/* Truncates least recently used leaves until the staged bytes fit the
 * budget; never keep_db.keep_rel, a held leaf, or one locked by a query. */
static void evict(struct fl_stage *st, PGconn *conn, const char *keep_db, const char *keep_rel)
{
	PGresult *res = NULL;
	struct fl_error err;
	struct fl_buf sql;
	uint64_t total;
	fl_buf_init(&sql, 4096);
	if (total_bytes(st, conn, &total, &err) != FL_OK || total <= st->budget_bytes)
		goto out;
	if (fl_db_exec(conn, "SELECT db, relname, staged_bytes FROM fl_stage_partitions WHERE "
		       "staged_bytes > 0 ORDER BY used_at, db, relname LIMIT " EVICT_BATCH, 0, NULL,
		       &res, &err) != FL_OK)
		goto out;
	int busy = 0;
	for (int i = 0; i < PQntuples(res) && total > st->budget_bytes && busy < EVICT_MAX_BUSY;
	     i++) {
		const char *db = PQgetvalue(res, i, 0), *rel = PQgetvalue(res, i, 1);
		const char *p[] = { db, rel };
		if ((strcmp(db, keep_db) == 0 && strcmp(rel, keep_rel) == 0) || held(st, db, rel))
			continue;
		fl_buf_reset(&sql);
		if (add_sql(&sql, "BEGIN; SET LOCAL lock_timeout = '" EVICT_LOCK_TIMEOUT "'; "
			    "TRUNCATE ", &err) != FL_OK ||
		    fl_stage_qname(conn, db, rel, &sql, &err) != FL_OK)
			continue;
		if (fl_stage_run(conn, sql.data, &err) != FL_OK ||
		    fl_db_exec(conn, "DELETE FROM fl_stage_objects o USING fl_stage_partitions p "
			       "WHERE p.db = $1 AND p.relname = $2 AND o.db = p.db AND "
			       "o.tbl = p.tbl AND o.vals = p.vals", 2, p, NULL, &err) != FL_OK ||
		    fl_db_exec(conn, "UPDATE fl_stage_partitions SET staged_bytes = 0, "
			       "staged_rows = 0 WHERE db = $1 AND relname = $2", 2, p, NULL,
			       &err) != FL_OK ||
		    fl_stage_run(conn, "COMMIT", &err) != FL_OK) {
			fl_debug("stage: %s.%s not evicted: %s", db, rel, err.msg);
			busy++;
			fl_stage_rollback(conn);
			continue;
		}
		uint64_t b = strtoull(PQgetvalue(res, i, 2), NULL, 10);
		total = b < total ? total - b : 0;
		fl_debug("stage: evicted %s.%s (%" PRIu64 " bytes)", db, rel, b);
	}
	atomic_store(&st->bytes, total);
out:
	PQclear(res);
	fl_buf_free(&sql);
}

/* Forgets the stage records when fl_stage_epoch is empty (a fresh
 * catalog, or PostgreSQL emptied the UNLOGGED tables after a crash). */
static enum fl_result epoch_check(PGconn *conn, struct fl_error *err)
{
	PGresult *res = NULL;
	enum fl_result r = fl_db_exec(conn, "SELECT 1 FROM fl_stage_epoch LIMIT 1", 0, NULL, &res,
				      err);
	bool have = r == FL_OK && PQntuples(res) > 0;
	PQclear(res);
	res = NULL;
	if (r != FL_OK || have)
		return r;
	if ((r = fl_stage_run(conn, "BEGIN; SELECT pg_advisory_xact_lock(" EPOCH_LOCK ")",
			      err)) != FL_OK ||
	    (r = fl_db_exec(conn, "SELECT 1 FROM fl_stage_epoch LIMIT 1", 0, NULL, &res,
			    err)) != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		fl_info("stage: a new epoch: the staged lake starts empty");
		r = fl_stage_run(conn, "DELETE FROM fl_stage_objects; UPDATE fl_stage_partitions SET "
			"staged_bytes = 0, staged_rows = 0 WHERE staged_bytes <> 0 OR "
			"staged_rows <> 0; INSERT INTO fl_stage_epoch (epoch) VALUES "
			"((extract(epoch FROM clock_timestamp()) * 1000)::bigint)", err);
	}
	if (r == FL_OK)
		r = fl_stage_run(conn, "COMMIT", err);
out:
	PQclear(res);
	if (r != FL_OK)
		fl_stage_rollback(conn);
	return r;
}

/* A leaf just filled, vacuumed: its pages become all-visible, so a scan
 * checks no row's visibility (nor sets hint bits: 2 M events in 480
 * leaves scanned in 1.45 s before, 0.59 s after), and its BRIN index
 * summarizes the new ranges, which a scan otherwise always reads.  Best
 * effort: autovacuum gets there too, later. */
static void vacuum_leaf(PGconn *conn, const char *db, const char *rel)
{
	struct fl_buf sql;
	struct fl_error err;
	fl_buf_init(&sql, 4096);
	if (add_sql(&sql, "VACUUM (SKIP_LOCKED, TRUNCATE false) ", &err) != FL_OK ||
	    fl_stage_qname(conn, db, rel, &sql, &err) != FL_OK ||
	    fl_stage_run(conn, sql.data, &err) != FL_OK)
		fl_debug("stage: %s.%s not vacuumed: %s", db, rel, err.msg);
	fl_buf_free(&sql);
}

enum fl_result fl_stage_partition(struct fl_stage *st, const struct fl_stage_part *p,
				  uint64_t *bytes_read, uint64_t *staged_rows,
				  struct fl_error *err)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct fl_buf lit;
	struct fl_stage_glue t;
	struct job j;
	pthread_t helper;
	bool helper_started = false;
	char relname[64];
	enum fl_result r;
	memset(&t, 0, sizeof t);
	memset(&j, 0, sizeof j);
	pthread_mutex_init(&j.mu, NULL);
	fl_buf_init(&j.copy_sql, SQL_MAX);
	fl_buf_init(&lit, SQL_MAX);
	*bytes_read = *staged_rows = 0;
	if ((r = fl_stage_check_names(p->db, p->tbl, err)) != FL_OK)
		goto out;
	if (p->nvals > FL_CATALOG_MAX_KEYS || fl_stage_text_array(p->vals, p->nvals, &lit) != FL_OK) {
		r = fl_error_set(err, FL_INVALID, "partition values of %s.%s are too long", p->db,
				 p->tbl);
		goto out;
	}
	if ((r = fl_db_acquire(st->db, &conn, err)) != FL_OK || (r = epoch_check(conn, err)) != FL_OK)
		goto out;
	const char *q[] = { p->db, p->tbl, lit.data };
	for (int pass = 0; pass < 2; pass++) {
		PQclear(res);
		if ((r = fl_db_exec(conn, "SELECT relname FROM fl_stage_partitions WHERE db = $1 AND "
				    "tbl = $2 AND vals = $3::text[]", 3, q, &res, err)) != FL_OK)
			goto out;
		if (PQntuples(res) > 0 || pass == 1)
			break;
		if ((r = fl_stage_sync_table(st, p->db, p->tbl, err)) != FL_OK)
			goto out;  /* a partition registered since the last sync */
	}
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, "%s.%s has no partition %s", p->db, p->tbl,
				 lit.data);
		goto out;
	}
	snprintf(relname, sizeof relname, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((r = fl_db_exec(conn, "SELECT o.bucket, o.key, o.bytes, s.key IS NOT NULL FROM "
			    "fl_objects o LEFT JOIN fl_stage_objects s ON s.bucket = o.bucket AND "
			    "s.key = o.key AND s.db = o.db AND s.tbl = o.tbl WHERE o.db = $1 AND "
			    "o.tbl = $2 AND o.vals = $3::text[] AND o.kind <> 'error' ORDER BY "
			    "o.delivered_at, o.key", 3, q, &res, err)) != FL_OK)
		goto out;
	size_t n = (size_t)PQntuples(res);
	if (n && !(j.objs = calloc(n, sizeof *j.objs))) {
		r = oom(err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		*bytes_read += strtoull(PQgetvalue(res, (int)i, 2), NULL, 10);
		if (PQgetvalue(res, (int)i, 3)[0] == 't')
			continue;
		struct object *o = &j.objs[j.nobjs++];
		o->bucket = PQgetvalue(res, (int)i, 0);
		o->key = PQgetvalue(res, (int)i, 1);
	}
	if (j.nobjs) {
		j.st = st;
		j.db = p->db;
		j.tbl = p->tbl;
		j.relname = relname;
		j.vals_lit = lit.data;
		if ((r = fl_stage_glue_load(conn, p->db, p->tbl, &t, NULL, NULL, err)) != FL_OK ||
		    (r = job_layout(conn, &j, &t, err)) != FL_OK)
			goto out;
		j.layout.vals = p->vals;
		j.layout.nvals = p->nvals;
		for (size_t i = 0; i < j.layout.ncols; i++)
			if (j.cols[i].part >= 0 && (size_t)j.cols[i].part >= p->nvals) {
				r = fl_error_set(err, FL_INVALID, "%s.%s has %zu partition keys, not %zu",
						 p->db, p->tbl, t.nkeys, p->nvals);
				goto out;
			}
		helper_started = j.nobjs > 1 && STAGE_WORKERS > 1 &&
				 pthread_create(&helper, NULL, helper_main, &j) == 0;
		work(&j, conn);
		if (helper_started)
			pthread_join(helper, NULL);
		helper_started = false;
		if ((r = j.r) != FL_OK) {
			*err = j.err;
			goto out;
		}
		*staged_rows = atomic_load(&j.rows);
	}
	/* used_at, in a commit that waits for its flush: the objects' commits
	 * did not, and VACUUM makes a page all-visible only once the commits
	 * of its rows are flushed (WAL flushes in order). */
	const char *u[] = { p->db, relname };
	struct fl_error e2;
	if (fl_db_exec(conn, "UPDATE fl_stage_partitions SET used_at = now() WHERE "
		       "db = $1 AND relname = $2", 2, u, NULL, &e2) != FL_OK)
		fl_debug("stage: used_at not updated: %s", e2.msg);
	else if (*staged_rows > 0)
		vacuum_leaf(conn, p->db, relname);
	evict(st, conn, p->db, relname);
out:
	if (helper_started)
		pthread_join(helper, NULL);
	PQclear(res);
	if (conn)
		fl_db_release(st->db, conn);
	fl_stage_glue_free(&t);
	free(j.objs);
	free(j.cols);
	free(j.names);
	fl_buf_free(&j.copy_sql);
	fl_buf_free(&lit);
	pthread_mutex_destroy(&j.mu);
	return r;
}

/* The partitions' databases and leaf names as two PostgreSQL text-array
 * literals, in the order of parts (for unnest($1::text[], $2::text[])). */
static enum fl_result leaf_arrays(const struct fl_stage_parts *parts, struct fl_buf *dbs,
				  struct fl_buf *rels, struct fl_error *err)
{
	const char **dv = calloc(parts->n + 1, sizeof *dv), **rv = calloc(parts->n + 1, sizeof *rv);
	char (*relnames)[64] = calloc(parts->n + 1, sizeof *relnames);
	enum fl_result r = FL_OK;
	if (!dv || !rv || !relnames) {
		r = oom(err);
		goto out;
	}
	for (size_t i = 0; i < parts->n; i++) {
		fl_stage_level_name(parts->items[i].tbl, parts->items[i].vals, parts->items[i].nvals,
				    relnames[i]);
		dv[i] = parts->items[i].db;
		rv[i] = relnames[i];
	}
	if (fl_stage_text_array(dv, parts->n, dbs) != FL_OK ||
	    fl_stage_text_array(rv, parts->n, rels) != FL_OK)
		r = fl_error_set(err, FL_INVALID, "the partitions of the query are too many");
out:
	free(dv);
	free(rv);
	free(relnames);
	return r;
}

enum fl_result fl_stage_ready(struct fl_stage *st, const struct fl_stage_parts *parts,
			      bool *ready, uint64_t *bytes, struct fl_error *err)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct fl_buf dbs, rels;
	enum fl_result r = FL_OK;
	fl_buf_init(&dbs, SQL_MAX);
	fl_buf_init(&rels, SQL_MAX);
	for (size_t i = 0; i < parts->n; i++) {
		ready[i] = false;
		bytes[i] = 0;
		if ((r = fl_stage_check_names(parts->items[i].db, parts->items[i].tbl, err)) != FL_OK)
			goto out;
	}
	if (parts->n == 0)
		goto out;
	if ((r = leaf_arrays(parts, &dbs, &rels, err)) != FL_OK ||
	    (r = fl_db_acquire(st->db, &conn, err)) != FL_OK || (r = epoch_check(conn, err)) != FL_OK)
		goto out;
	/* A partition is ready when it has a leaf and every object of it
	 * (but error records) has its fl_stage_objects row, which commits
	 * with the object's COPY.  "o.db <> ''" lets the partial index
	 * fl_objects_partition serve. */
	const char *q[] = { dbs.data, rels.data };
	if ((r = fl_db_exec(conn,
			    "SELECT u.i, sp.relname IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
			    "fl_objects o WHERE o.db = sp.db AND o.db <> '' AND o.tbl = sp.tbl AND "
			    "o.vals = sp.vals AND o.kind <> 'error' AND NOT EXISTS (SELECT 1 FROM "
			    "fl_stage_objects s WHERE s.bucket = o.bucket AND s.key = o.key AND "
			    "s.db = o.db AND s.tbl = o.tbl)), (SELECT coalesce(sum(o.bytes), 0) FROM "
			    "fl_objects o WHERE o.db = sp.db AND o.db <> '' AND o.tbl = sp.tbl AND "
			    "o.vals = sp.vals AND o.kind <> 'error') FROM unnest($1::text[], "
			    "$2::text[]) WITH ORDINALITY AS u(db, r, i) LEFT JOIN fl_stage_partitions "
			    "sp ON sp.db = u.db AND sp.relname = u.r", 2, q, &res, err)) != FL_OK)
		goto out;
	for (int k = 0; k < PQntuples(res); k++) {
		unsigned long long i = strtoull(PQgetvalue(res, k, 0), NULL, 10);
		if (i < 1 || i > parts->n)
			continue;
		ready[i - 1] = PQgetvalue(res, k, 1)[0] == 't';
		bytes[i - 1] = strtoull(PQgetvalue(res, k, 2), NULL, 10);
	}
out:
	PQclear(res);
	if (conn)
		fl_db_release(st->db, conn);
	fl_buf_free(&dbs);
	fl_buf_free(&rels);
	return r;
}

/* ---- query plans ------------------------------------------------------------------ */

struct relref {
	char *schema, *rel;
};

static int relref_cmp(const void *a, const void *b)
{
	const struct relref *x = a, *y = b;
	int c = strcmp(x->schema, y->schema);
	return c ? c : strcmp(x->rel, y->rel);
}

/* The relations the scan nodes of a plan read ("Relation Name" and
 * "Schema" of EXPLAIN VERBOSE), anywhere in the tree. */
static bool plan_walk(const json_t *j, struct relref **refs, size_t *n, size_t *cap)
{
	if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++)
			if (!plan_walk(json_array_get(j, i), refs, n, cap))
				return false;
		return true;
	}
	if (!json_is_object(j))
		return true;
	const char *rel = json_string_value(json_object_get(j, "Relation Name"));
	const char *schema = json_string_value(json_object_get(j, "Schema"));
	if (rel && schema) {
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 16;
			struct relref *g = realloc(*refs, c * sizeof *g);
			if (!g)
				return false;
			*refs = g;
			*cap = c;
		}
		(*refs)[*n].schema = strdup(schema);
		(*refs)[*n].rel = strdup(rel);
		if (!(*refs)[*n].schema || !(*refs)[*n].rel) {
			free((*refs)[*n].schema);
			free((*refs)[*n].rel);
			return false;
		}
		(*n)++;
	}
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)j, k, v)
		if ((json_is_object(v) || json_is_array(v)) && !plan_walk(v, refs, n, cap))
			return false;
	return true;
}

/* EXPLAIN of the caller's SQL: errors of the query are the client's. */
static enum fl_result explain(PGconn *conn, const char *pg_sql, PGresult **out,
			      struct fl_error *err)
{
	struct fl_buf sql;
	enum fl_result r = FL_OK;
	fl_buf_init(&sql, SQL_MAX);
	*out = NULL;
	if (fl_buf_adds(&sql, "EXPLAIN (VERBOSE, FORMAT JSON) ") != FL_OK ||
	    fl_buf_adds(&sql, pg_sql) != FL_OK) {
		fl_buf_free(&sql);
		return fl_error_set(err, FL_TOO_LARGE, "query is too long");
	}
	PGresult *res = PQexecParams(conn, sql.data, 0, NULL, NULL, NULL, NULL, 0);
	fl_buf_free(&sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		*out = res;
		return FL_OK;
	}
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (!msg)
		msg = PQerrorMessage(conn);
	if (PQstatus(conn) != CONNECTION_OK)
		r = fl_error_set(err, FL_UNAVAILABLE, "PostgreSQL is unavailable: %s", msg);
	else if (state && (strncmp(state, "42", 2) == 0 || strncmp(state, "22", 2) == 0 ||
			   strncmp(state, "0A", 2) == 0))
		r = fl_error_set(err, FL_INVALID, "%s", msg);
	else if (state && strcmp(state, "57014") == 0)
		r = fl_error_set(err, FL_RETRY, "%s", msg);
	else
		r = fl_error_set(err, FL_INTERNAL, "%s", msg);
	PQclear(res);
	return r;
}

/* Copies the rows (db, tbl, to_json(vals)) into parts: one block. */
static enum fl_result parts_build(PGresult *res, struct fl_stage_parts *parts,
				  struct fl_error *err)
{
	size_t n = (size_t)PQntuples(res), size = n * sizeof(struct fl_stage_part), nptr = 0;
	char ***vals = calloc(n + 1, sizeof *vals);
	size_t *nv = calloc(n + 1, sizeof *nv), chars = 0;
	enum fl_result r = FL_OK;
	if (!vals || !nv) {
		r = oom(err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!fl_stage_json_vals(PQgetvalue(res, (int)i, 2), &vals[i], &nv[i])) {
			r = fl_error_set(err, FL_INTERNAL, "malformed partition values");
			goto out;
		}
		chars += strlen(PQgetvalue(res, (int)i, 0)) + strlen(PQgetvalue(res, (int)i, 1)) + 2;
		for (size_t k = 0; k < nv[i]; k++)
			chars += strlen(vals[i][k]) + 1;
		nptr += nv[i];
	}
	size += nptr * sizeof(char *);
	char *mem = malloc(size + chars + 1);
	if (!mem) {
		r = oom(err);
		goto out;
	}
	struct fl_stage_part *items = (struct fl_stage_part *)mem;
	const char **ptrs = (const char **)(mem + n * sizeof *items);
	char *w = mem + size;
	for (size_t i = 0; i < n; i++) {
		const char *src[2] = { PQgetvalue(res, (int)i, 0), PQgetvalue(res, (int)i, 1) };
		for (int k = 0; k < 2; k++) {
			size_t len = strlen(src[k]) + 1;
			memcpy(w, src[k], len);
			if (k == 0)
				items[i].db = w;
			else
				items[i].tbl = w;
			w += len;
		}
		items[i].vals = ptrs;
		items[i].nvals = nv[i];
		for (size_t k = 0; k < nv[i]; k++) {
			size_t len = strlen(vals[i][k]) + 1;
			memcpy(w, vals[i][k], len);
			*ptrs++ = w;
			w += len;
		}
	}
	parts->items = items;
	parts->n = n;
	parts->mem = mem;
out:
	for (size_t i = 0; vals && nv && i < n; i++)
		fl_stage_vals_free(vals[i], nv[i]);
	free(vals);
	free(nv);
	return r;
}

enum fl_result fl_stage_plan_parts(struct fl_stage *st, PGconn *conn, const char *pg_sql,
				   struct fl_stage_parts *parts, struct fl_error *err)
{
	PGresult *res = NULL;
	PGconn *mine = NULL;
	struct relref *refs = NULL;
	size_t n = 0, cap = 0, u = 0;
	struct fl_buf schemas, rels;
	enum fl_result r;
	json_t *plan = NULL;
	memset(parts, 0, sizeof *parts);
	fl_buf_init(&schemas, SQL_MAX);
	fl_buf_init(&rels, SQL_MAX);
	if ((r = explain(conn, pg_sql, &res, err)) != FL_OK)
		goto out;
	if (!(plan = json_loads(PQgetvalue(res, 0, 0), 0, NULL))) {
		r = fl_error_set(err, FL_INTERNAL, "EXPLAIN gave no plan");
		goto out;
	}
	if (!plan_walk(plan, &refs, &n, &cap)) {
		r = oom(err);
		goto out;
	}
	if (n == 0)
		goto out;
	qsort(refs, n, sizeof *refs, relref_cmp);
	for (size_t i = 0; i < n; i++) {
		if (u && relref_cmp(&refs[u - 1], &refs[i]) == 0) {
			free(refs[i].schema);
			free(refs[i].rel);
			continue;
		}
		refs[u++] = refs[i];
	}
	n = u;
	const char **sv = calloc(n, sizeof *sv), **rv = calloc(n, sizeof *rv);
	for (size_t i = 0; sv && rv && i < n; i++) {
		sv[i] = refs[i].schema;
		rv[i] = refs[i].rel;
	}
	bool ok = sv && rv && fl_stage_text_array(sv, n, &schemas) == FL_OK &&
		  fl_stage_text_array(rv, n, &rels) == FL_OK;
	free(sv);
	free(rv);
	if (!ok) {
		r = oom(err);
		goto out;
	}
	PQclear(res);
	res = NULL;
	/* The caller's connection runs as the query role, which cannot read
	 * the stage rows: they are read on a connection of the pool. */
	const char *p[] = { schemas.data, rels.data };
	if ((r = fl_db_acquire(st->db, &mine, err)) != FL_OK ||
	    (r = fl_db_exec(mine, "SELECT p.db, p.tbl, to_json(p.vals)::text FROM "
			    "fl_stage_partitions p JOIN unnest($1::text[], $2::text[]) AS u(s, r) "
			    "ON p.db = u.s AND p.relname = u.r ORDER BY p.db, p.tbl, p.vals",
			    2, p, &res, err)) != FL_OK)
		goto out;
	r = parts_build(res, parts, err);
out:
	if (mine)
		fl_db_release(st->db, mine);
	PQclear(res);
	json_decref(plan);
	for (size_t i = 0; i < n; i++) {
		free(refs[i].schema);
		free(refs[i].rel);
	}
	free(refs);
	fl_buf_free(&schemas);
	fl_buf_free(&rels);
	return r;
}

void fl_stage_parts_free(struct fl_stage_parts *parts)
{
	if (!parts)
		return;
	free(parts->mem);
	memset(parts, 0, sizeof *parts);
}

/* ---- holds ------------------------------------------------------------------------ */

static void hold_key(const struct fl_stage_part *p, char key[2 * FL_STAGE_NAME_MAX + 2],
		     char rel[64])
{
	fl_stage_level_name(p->tbl, p->vals, p->nvals, rel);
	snprintf(key, 2 * FL_STAGE_NAME_MAX + 2, "%.63s.%s", p->db, rel);
}

void fl_stage_hold(struct fl_stage *st, const struct fl_stage_parts *parts)
{
	struct fl_buf dbs, rels;
	PGconn *conn = NULL;
	struct fl_error err;
	fl_buf_init(&dbs, SQL_MAX);
	fl_buf_init(&rels, SQL_MAX);
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < parts->n; i++) {
		char key[2 * FL_STAGE_NAME_MAX + 2], rel[64];
		hold_key(&parts->items[i], key, rel);
		struct hold_ent **b = &st->holds[hold_bucket(key)], *e = *b;
		while (e && strcmp(e->key, key) != 0)
			e = e->next;
		if (!e && (e = calloc(1, sizeof *e)) && !(e->key = strdup(key))) {
			free(e);
			e = NULL;
		} else if (e && e->count == 0) {
			e->next = *b;
			*b = e;
		}
		if (e)
			e->count++;
		else
			fl_warn("stage: out of memory holding a partition");
	}
	pthread_mutex_unlock(&st->mu);
	/* used_at: the least recently used go first. */
	if (parts->n && leaf_arrays(parts, &dbs, &rels, &err) == FL_OK &&
	    fl_db_acquire(st->db, &conn, &err) == FL_OK) {
		const char *p[] = { dbs.data, rels.data };
		if (fl_db_exec(conn, "UPDATE fl_stage_partitions p SET used_at = now() FROM "
			       "unnest($1::text[], $2::text[]) AS u(db, r) WHERE p.db = u.db AND "
			       "p.relname = u.r", 2, p, NULL, &err) != FL_OK)
			fl_debug("stage: used_at not updated: %s", err.msg);
		fl_db_release(st->db, conn);
	}
	fl_buf_free(&dbs);
	fl_buf_free(&rels);
}

void fl_stage_release(struct fl_stage *st, const struct fl_stage_parts *parts)
{
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < parts->n; i++) {
		char key[2 * FL_STAGE_NAME_MAX + 2], rel[64];
		hold_key(&parts->items[i], key, rel);
		struct hold_ent **pe = &st->holds[hold_bucket(key)];
		while (*pe && strcmp((*pe)->key, key) != 0)
			pe = &(*pe)->next;
		if (*pe && --(*pe)->count == 0) {
			struct hold_ent *e = *pe;
			*pe = e->next;
			free(e->key);
			free(e);
		}
	}
	pthread_mutex_unlock(&st->mu);
}

/* ---- eager staging ------------------------------------------------------------------- */

static void qitem_free(struct qitem *q)
{
	free(q->db);
	free(q->tbl);
	fl_stage_vals_free(q->vals, q->nvals);
	memset(q, 0, sizeof *q);
}

static bool qitem_eq(const struct qitem *a, const struct qitem *b)
{
	if (strcmp(a->db, b->db) != 0 || strcmp(a->tbl, b->tbl) != 0 || a->nvals != b->nvals)
		return false;
	for (size_t i = 0; i < a->nvals; i++)
		if (strcmp(a->vals[i], b->vals[i]) != 0)
			return false;
	return true;
}

void fl_stage_enqueue(struct fl_stage *st, const char *db, const char *tbl,
		      const char *const *vals, size_t nvals)
{
	struct qitem q = { strdup(db), strdup(tbl), nvals ? calloc(nvals, sizeof(char *)) : NULL,
			   0 };
	if (!st || !st->started)
		goto drop;
	bool ok = q.db && q.tbl && (q.vals || nvals == 0);
	for (size_t i = 0; ok && i < nvals; i++)
		ok = (q.vals[q.nvals++] = strdup(vals[i])) != NULL;
	if (!ok)
		goto drop;
	pthread_mutex_lock(&st->qmu);
	for (size_t i = 0; i < st->qlen; i++)
		if (qitem_eq(&st->queue[(st->qhead + i) % QUEUE_MAX], &q)) {
			pthread_mutex_unlock(&st->qmu);
			goto drop;  /* queued already: staged together */
		}
	if (st->stop || st->qlen == QUEUE_MAX) {
		pthread_mutex_unlock(&st->qmu);
		fl_debug("stage: the eager queue is full; %s.%s is left to queries", db, tbl);
		goto drop;
	}
	st->queue[(st->qhead + st->qlen++) % QUEUE_MAX] = q;
	pthread_cond_signal(&st->qcv);
	pthread_mutex_unlock(&st->qmu);
	return;
drop:
	qitem_free(&q);
}

static void *stager_main(void *arg)
{
	struct fl_stage *st = arg;
	pthread_mutex_lock(&st->qmu);
	while (!st->stop) {
		if (st->qlen == 0) {
			pthread_cond_wait(&st->qcv, &st->qmu);
			continue;
		}
		struct qitem q = st->queue[st->qhead];
		st->qhead = (st->qhead + 1) % QUEUE_MAX;
		st->qlen--;
		pthread_mutex_unlock(&st->qmu);
		struct fl_stage_part p = { q.db, q.tbl, (const char *const *)q.vals, q.nvals };
		struct fl_error err = { FL_OK, "", "" };
		uint64_t bytes, rows;
		enum fl_result r = fl_stage_sync_table(st, q.db, q.tbl, &err);
		if (r == FL_OK)
			r = fl_stage_partition(st, &p, &bytes, &rows, &err);
		if (r != FL_OK && r != FL_NOT_FOUND)
			fl_warn("stage: eager staging of %s.%s failed: %s", q.db, q.tbl, err.msg);
		qitem_free(&q);
		pthread_mutex_lock(&st->qmu);
	}
	pthread_mutex_unlock(&st->qmu);
	return NULL;
}

/* ---- the stage ---------------------------------------------------------------------- */

uint64_t fl_stage_bytes(const struct fl_stage *st)
{
	return st ? atomic_load(&((struct fl_stage *)st)->bytes) : 0;
}

/* The query role: made when missing (roles are the cluster's), and this
 * user made a member of it so that queries can SET ROLE to it. */
static enum fl_result ensure_role(PGconn *conn, struct fl_error *err)
{
	enum fl_result r = fl_stage_run(conn,
		"DO $$ BEGIN "
		"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fl_query') THEN "
		"  BEGIN CREATE ROLE fl_query NOLOGIN; "
		"  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END; "
		"END IF; "
		"IF NOT pg_has_role(current_user, 'fl_query', 'MEMBER') THEN "
		"  BEGIN GRANT fl_query TO CURRENT_USER; "
		"  EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'cannot join fl_query: %', SQLERRM; END; "
		"END IF; END $$", err);
	if (r != FL_OK)
		return fl_error_set(err, r, "cannot make the query role fl_query: %s", err->msg);
	return FL_OK;
}

enum fl_result fl_stage_new(struct fl_server *srv, uint64_t budget_bytes,
			    struct fl_stage **out, struct fl_error *err)
{
	PGconn *conn = NULL;
	uint64_t total;
	enum fl_result r;
	*out = NULL;
	if (!srv || !srv->db || !srv->storage)
		return fl_error_set(err, FL_INVALID, "the staged lake needs a catalog and a lake");
	struct fl_stage *st = calloc(1, sizeof *st);
	if (!st)
		return oom(err);
	st->db = srv->db;
	st->storage = srv->storage;
	st->budget_bytes = budget_bytes;
	pthread_mutex_init(&st->mu, NULL);
	pthread_mutex_init(&st->qmu, NULL);
	pthread_cond_init(&st->qcv, NULL);
	if ((r = fl_stage_tables_new(&st->tables, err)) != FL_OK ||
	    (r = fl_db_acquire(st->db, &conn, err)) != FL_OK ||
	    (r = ensure_role(conn, err)) != FL_OK || (r = epoch_check(conn, err)) != FL_OK ||
	    (r = total_bytes(st, conn, &total, err)) != FL_OK)
		goto out;
	if (pthread_create(&st->thread, NULL, stager_main, st) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "cannot start the stager thread");
		goto out;
	}
	st->started = true;
	*out = st;
	st = NULL;
out:
	if (conn)
		fl_db_release(srv->db, conn);
	fl_stage_free(st);
	return r;
}

void fl_stage_free(struct fl_stage *st)
{
	if (!st)
		return;
	if (st->started) {
		pthread_mutex_lock(&st->qmu);
		st->stop = true;
		pthread_cond_broadcast(&st->qcv);
		pthread_mutex_unlock(&st->qmu);
		pthread_join(st->thread, NULL);
	}
	while (st->qlen) {
		qitem_free(&st->queue[st->qhead]);
		st->qhead = (st->qhead + 1) % QUEUE_MAX;
		st->qlen--;
	}
	for (size_t i = 0; i < HOLD_BUCKETS; i++)
		while (st->holds[i]) {
			struct hold_ent *e = st->holds[i];
			st->holds[i] = e->next;
			free(e->key);
			free(e);
		}
	fl_stage_tables_free(st->tables);
	pthread_mutex_destroy(&st->mu);
	pthread_mutex_destroy(&st->qmu);
	pthread_cond_destroy(&st->qcv);
	free(st);
}
