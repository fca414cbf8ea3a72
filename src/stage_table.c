/*
 * stage_table.c - the PostgreSQL tables of the staged lake (stage_table.h).
 *
 * DESIGN
 *
 * fl_stage_tables_sync makes "db"."tbl" from the Glue document in one
 * transaction under an advisory lock keyed by the table's name, so two
 * threads or two processes never race on its DDL.  The parent is a plain
 * partitioned table (it has no storage of its own, and PostgreSQL 18
 * refuses UNLOGGED ones); the leaves and an unpartitioned table are
 * UNLOGGED.  A level of the tree is made as a table of its own (LIKE the
 * parent) and then ATTACHed: attaching takes only SHARE UPDATE EXCLUSIVE
 * on the parent, so new partitions appear while queries read the table,
 * where CREATE TABLE ... PARTITION OF would wait for every one of them.
 * Every level is "p_" + 16 hex digits of a 64-bit hash of the table name
 * and its values so far, so any process finds the same names again.
 *
 * The table's comment lists its partition keys; a table whose keys
 * changed is dropped and made again (its partitions unstaged).  Columns
 * are compared with pg_attribute: new ones are added, widened ones are
 * altered in place (integers -> bigint -> double precision, scalars ->
 * text), one that the Glue table dropped is dropped, and one whose type
 * changed any other way empties the table (the values must be read again
 * from the lake).  DDL waits for a lock at most DDL_LOCK_TIMEOUT (then
 * FL_RETRY), never for ever behind a long query.  Leaves are made for
 * every registered partition, and dropped for partitions no longer
 * registered, with their fl_stage_partitions rows.
 *
 * The version_id and created_at of the Glue document last built are
 * remembered per table, so a table that did not change costs one SELECT,
 * which also compares the registered partitions with the stage rows.
 */
#include "stage_table.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "log.h"
#include "sqlrewrite.h"

#define SQL_MAX ((size_t)256 << 20)
#define DDL_BATCH (64u << 10)
#define DDL_LOCK_TIMEOUT "10s"
#define COMMENT_TAG "firelake keys:"

struct cache_ent {
	char *name;             /* "db.tbl" */
	long long version;
	char created[64];
	struct cache_ent *next;
};

struct fl_stage_tables {
	pthread_mutex_t mu;
	struct cache_ent *cache;        /* mu */
};

/* ---- small helpers ------------------------------------------------------------ */

static enum fl_result oom(struct fl_error *err)
{
	return fl_error_set(err, FL_INTERNAL, "out of memory");
}

void fl_stage_rollback(PGconn *conn)
{
	PGTransactionStatusType ts = PQtransactionStatus(conn);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
		PQclear(PQexec(conn, "ROLLBACK"));
}

/* Runs sql with the simple protocol (several statements allowed). */
/* The outcome of a statement (res is cleared). */
static enum fl_result outcome(PGconn *conn, PGresult *res, struct fl_error *err)
{
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	enum fl_result r = FL_OK;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		if (!msg)
			msg = PQerrorMessage(conn);
		if (PQstatus(conn) != CONNECTION_OK)
			r = fl_error_set(err, FL_UNAVAILABLE, "PostgreSQL is unavailable: %s", msg);
		else if (state && strcmp(state, "55P03") == 0)
			r = fl_error_set(err, FL_RETRY, "table is busy: %s", msg);
		else if (state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0))
			r = fl_error_set(err, FL_RETRY, "%s", msg);
		else
			r = fl_error_set(err, FL_INTERNAL, "%s", msg);
	}
	PQclear(res);
	return r;
}

enum fl_result fl_stage_run(PGconn *conn, const char *sql, struct fl_error *err)
{
	return outcome(conn, PQexec(conn, sql), err);
}

/* One statement with parameters, its rows not wanted. */
static enum fl_result exec_p(PGconn *conn, const char *sql, int n, const char *const *p,
			     struct fl_error *err)
{
	return outcome(conn, PQexecParams(conn, sql, n, NULL, p, NULL, NULL, 0), err);
}

static enum fl_result ident(PGconn *conn, const char *name, struct fl_buf *b,
			    struct fl_error *err)
{
	return fl_db_ident(conn, name, b, err);
}

/* "db"."rel" */
enum fl_result fl_stage_qname(PGconn *conn, const char *db, const char *rel, struct fl_buf *b,
			    struct fl_error *err)
{
	enum fl_result r = ident(conn, db, b, err);
	if (r == FL_OK && (r = fl_buf_addc(b, '.')) != FL_OK)
		return oom(err);
	return r == FL_OK ? ident(conn, rel, b, err) : r;
}

static enum fl_result literal(PGconn *conn, const char *s, struct fl_buf *b, struct fl_error *err)
{
	char *q = PQescapeLiteral(conn, s, strlen(s));
	if (!q)
		return fl_error_set(err, FL_INTERNAL, "cannot quote a value: %s",
				    PQerrorMessage(conn));
	enum fl_result r = fl_buf_adds(b, q);
	PQfreemem(q);
	return r == FL_OK ? FL_OK : oom(err);
}

/* A text[] literal of strings: {"a","b\"c"}. */
enum fl_result fl_stage_text_array(const char *const *v, size_t n, struct fl_buf *b)
{
	enum fl_result r = fl_buf_addc(b, '{');
	for (size_t i = 0; r == FL_OK && i < n; i++) {
		if (i)
			r = fl_buf_addc(b, ',');
		r = r == FL_OK ? fl_buf_addc(b, '"') : r;
		for (const char *p = v[i]; r == FL_OK && *p; p++)
			r = (*p == '"' || *p == '\\') ? fl_buf_add(b, (char[]){ '\\', *p }, 2)
				: fl_buf_addc(b, *p);
		r = r == FL_OK ? fl_buf_addc(b, '"') : r;
	}
	return r == FL_OK ? fl_buf_addc(b, '}') : r;
}

/* The level of a partition tree holding vals[0, n): the table itself for
 * n = 0, else "p_" and a hash of the table's name and the values. */
void fl_stage_level_name(const char *tbl, const char *const *vals, size_t n, char out[64])
{
	if (n == 0) {
		snprintf(out, 64, "%s", tbl);
		return;
	}
	uint64_t h = 14695981039346656037u;
	for (const char *p = tbl; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(vals[i]);
		h = (h ^ 0xff) * 1099511628211u;  /* separator, then the length */
		for (int k = 0; k < 8; k++)
			h = (h ^ ((len >> (8 * k)) & 0xff)) * 1099511628211u;
		for (size_t k = 0; k < len; k++)
			h = (h ^ (unsigned char)vals[i][k]) * 1099511628211u;
	}
	h ^= h >> 33;  /* a final mix (FNV's low bits are weak) */
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	snprintf(out, 64, "p_%016" PRIx64, h);
}

enum fl_result fl_stage_check_names(const char *db, const char *tbl, struct fl_error *err)
{
	struct fl_buf b;
	enum fl_result r;
	fl_buf_init(&b, 1024);
	if ((r = fl_db_ident(NULL, db, &b, err)) == FL_OK)
		r = fl_db_ident(NULL, tbl, &b, err);
	fl_buf_free(&b);
	if (r != FL_OK)
		return r;
	if (strcmp(db, "public") == 0 || strcmp(db, "information_schema") == 0 ||
	    strncmp(db, "pg_", 3) == 0 || strcmp(db, "fl_trino") == 0)
		return fl_error_set(err, FL_INVALID, "database %s cannot be queried: PostgreSQL "
				    "reserves the name", db);
	if (strlen(db) > FL_STAGE_NAME_MAX || strlen(tbl) > FL_STAGE_NAME_MAX)
		return fl_error_set(err, FL_INVALID, "%s.%s cannot be queried: names longer than "
				    "%d characters are not supported", db, tbl, FL_STAGE_NAME_MAX);
	return FL_OK;
}

/* A JSON array of strings (PostgreSQL's to_json of a text[]) into
 * strdup'ed values; false on anything else. */
bool fl_stage_json_vals(const char *text, char ***vals, size_t *n)
{
	json_t *j = json_loads(text, 0, NULL);
	bool ok = json_is_array(j);
	*vals = NULL;
	*n = 0;
	if (ok && json_array_size(j) && !(*vals = calloc(json_array_size(j), sizeof **vals)))
		ok = false;
	for (size_t i = 0; ok && i < json_array_size(j); i++) {
		const char *s = json_string_value(json_array_get(j, i));
		ok = s && ((*vals)[i] = strdup(s));
		*n += ok;
	}
	json_decref(j);
	if (!ok) {
		for (size_t i = 0; i < *n; i++)
			free((*vals)[i]);
		free(*vals);
		*vals = NULL;
		*n = 0;
	}
	return ok;
}

void fl_stage_vals_free(char **vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
}

/* ---- the Glue document ---------------------------------------------------------- */

void fl_stage_glue_free(struct fl_stage_glue *t)
{
	json_decref(t->spec);
	free(t->cols);
	memset(t, 0, sizeof *t);
}

static bool glue_name(const char *in, char out[FL_STAGE_NAME_MAX + 1])
{
	size_t n = in ? strlen(in) : 0;
	if (n == 0 || n > FL_STAGE_NAME_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] | 0x20) : in[i];
		if (i < n && !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
		out[i] = ch;
	}
	return true;
}

static const char *param(const json_t *spec, const char *name)
{
	const json_t *sd = json_object_get(spec, "StorageDescriptor");
	const json_t *where[] = { json_object_get(json_object_get(sd, "SerdeInfo"), "Parameters"),
				  json_object_get(spec, "Parameters"),
				  json_object_get(sd, "Parameters") };
	for (size_t i = 0; i < 3; i++) {
		const char *v = json_string_value(json_object_get(where[i], name));
		if (v)
			return v;
	}
	return NULL;
}

static enum fl_result glue_parse(const char *db, const char *tbl, const char *text,
				  struct fl_stage_glue *t, struct fl_error *err)
{
	memset(t, 0, sizeof *t);
	if (!(t->spec = json_loads(text, 0, NULL)))
		return fl_error_set(err, FL_INTERNAL, "table %s.%s has a malformed document", db, tbl);
	const json_t *sd = json_object_get(t->spec, "StorageDescriptor");
	const json_t *cols = json_object_get(sd, "Columns");
	const json_t *keys = json_object_get(t->spec, "PartitionKeys");
	t->serde_params = json_object_get(json_object_get(sd, "SerdeInfo"), "Parameters");
	if (json_array_size(keys) > FL_CATALOG_MAX_KEYS)
		return fl_error_set(err, FL_INVALID, "table %s.%s has more than %d partition keys",
				    db, tbl, FL_CATALOG_MAX_KEYS);
	for (size_t i = 0; i < json_array_size(keys); i++) {
		const char *k = json_string_value(json_object_get(json_array_get(keys, i), "Name"));
		if (!glue_name(k, t->keys[t->nkeys]))
			return fl_error_set(err, FL_INVALID, "table %s.%s: partition key %.64s cannot "
					    "be a PostgreSQL column", db, tbl, k ? k : "");
		t->nkeys++;
	}
	if (json_array_size(cols) && !(t->cols = calloc(json_array_size(cols), sizeof *t->cols)))
		return oom(err);
	for (size_t i = 0; i < json_array_size(cols); i++) {
		const json_t *c = json_array_get(cols, i);
		struct fl_stage_glue_col *tc = &t->cols[t->ncols];
		const char *type = json_string_value(json_object_get(c, "Type"));
		bool ok = glue_name(json_string_value(json_object_get(c, "Name")), tc->name);
		for (size_t k = 0; ok && k < t->nkeys; k++)
			ok = strcmp(t->keys[k], tc->name) != 0;
		for (size_t k = 0; ok && k < t->ncols; k++)
			ok = strcmp(t->cols[k].name, tc->name) != 0;
		if (!ok)
			continue;  /* a name PostgreSQL cannot take, or taken: not staged */
		if (!type || !fl_sql_pg_type(type, tc->pg, sizeof tc->pg))
			snprintf(tc->pg, sizeof tc->pg, "text");
		else if (strcmp(tc->pg, "timestamp") == 0 || strcmp(tc->pg, "timestamp[]") == 0)
			/* as format_type() spells it, for comparisons */
			snprintf(tc->pg, sizeof tc->pg, "timestamp without time zone%s",
				 tc->pg[9] ? "[]" : "");
		tc->fold_keys = type && (strncasecmp(type, "struct<", 7) == 0 ||
					 strncasecmp(type, "array<struct<", 13) == 0);
		tc->pos = i;
		t->ncols++;
	}
	const char *lib = json_string_value(json_object_get(json_object_get(sd, "SerdeInfo"),
							    "SerializationLibrary"));
	const char *cls = param(t->spec, "classification");
	lib = lib ? lib : "";
	if (strcasestr(lib, "json")) {
		t->format = FL_STAGE_JSON;
	} else if (strcasestr(lib, "LazySimpleSerDe") || strcasestr(lib, "OpenCSVSerde") ||
		   (!*lib && cls && strcasecmp(cls, "csv") == 0)) {
		t->format = FL_STAGE_CSV;
	} else if (*lib || (cls && strcasecmp(cls, "json") != 0)) {
		return fl_error_set(err, FL_INVALID, "table %s.%s cannot be queried: format %s is "
				    "not supported", db, tbl, *lib ? lib : cls);
	}
	const char *d = param(t->spec, "field.delim");
	if (!d)
		d = param(t->spec, "separatorChar");
	bool csvish = strcasestr(lib, "OpenCSVSerde") || (cls && strcasecmp(cls, "csv") == 0);
	t->delim = d && strlen(d) == 1 ? d[0] : csvish ? ',' : '\001';
	const char *skip = param(t->spec, "skip.header.line.count");
	t->skip_lines = skip ? (unsigned)strtoul(skip, NULL, 10) : 0;
	return FL_OK;
}

enum fl_result fl_stage_glue_load(PGconn *conn, const char *db, const char *tbl,
				 struct fl_stage_glue *t, long long *version, char created[64],
				 struct fl_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { db, tbl };
	enum fl_result r = fl_db_exec(conn, "SELECT spec::text, version_id, created_at::text "
				      "FROM fl_glue_tables WHERE db = $1 AND name = $2",
				      2, p, &res, err);
	if (r == FL_OK && PQntuples(res) == 0)
		r = fl_error_set(err, FL_NOT_FOUND, "table %s.%s does not exist", db, tbl);
	if (r == FL_OK) {
		if (version)
			*version = atoll(PQgetvalue(res, 0, 1));
		if (created)
			snprintf(created, 64, "%s", PQgetvalue(res, 0, 2));
		r = glue_parse(db, tbl, PQgetvalue(res, 0, 0), t, err);
	}
	PQclear(res);
	return r;
}

/* ---- making tables ------------------------------------------------------------ */

/* A set of 64-bit level names (open addressing, 0 = empty). */
struct nameset {
	uint64_t *v;
	size_t mask, n;
};

static bool set_has(const struct nameset *s, uint64_t h)
{
	for (size_t i = (h * 0x9E3779B97F4A7C15u) >> 20 & s->mask; s->v[i]; i = (i + 1) & s->mask)
		if (s->v[i] == h)
			return true;
	return false;
}

static bool set_add(struct nameset *s, uint64_t h)
{
	if (2 * (s->n + 1) > s->mask + 1) {
		struct nameset g = { calloc(2 * (s->mask + 1), sizeof *g.v), 2 * s->mask + 1, 0 };
		if (!g.v)
			return false;
		for (size_t i = 0; i <= s->mask; i++)
			if (s->v[i])
				set_add(&g, s->v[i]);
		free(s->v);
		*s = g;
	}
	size_t i = (h * 0x9E3779B97F4A7C15u) >> 20 & s->mask;
	while (s->v[i] && s->v[i] != h)
		i = (i + 1) & s->mask;
	s->n += !s->v[i];
	s->v[i] = h;
	return true;
}

static uint64_t name_hash(const char *relname)
{
	return strtoull(relname + 2, NULL, 16) | 1;  /* never 0 */
}

static bool brin_type(const char *pg)
{
	static const char *const ok[] = { "timestamp without time zone", "date", "text", "bigint",
					  "integer", "smallint", "double precision", "real" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(pg, ok[i]) == 0)
			return true;
	return strncmp(pg, "numeric", 7) == 0 && !strchr(pg, '[');
}

/* How a column of type from becomes type to: 'w' widened in place, 'r'
 * emptied (the table is read again), 0 equal. */
static char type_change(const char *from, const char *to)
{
	static const char *const scalar[] = { "bigint", "integer", "smallint", "double precision",
					      "real", "boolean" };
	if (strcmp(from, to) == 0)
		return 0;
	if (strcmp(to, "double precision") == 0 &&
	    (strcmp(from, "bigint") == 0 || strcmp(from, "integer") == 0 ||
	     strcmp(from, "smallint") == 0 || strcmp(from, "real") == 0))
		return 'w';
	if (strcmp(to, "bigint") == 0 &&
	    (strcmp(from, "integer") == 0 || strcmp(from, "smallint") == 0))
		return 'w';
	if (strcmp(to, "integer") == 0 && strcmp(from, "smallint") == 0)
		return 'w';
	if (strcmp(to, "text") == 0) {
		for (size_t i = 0; i < sizeof scalar / sizeof scalar[0]; i++)
			if (strcmp(from, scalar[i]) == 0)
				return 'w';
		if (strncmp(from, "numeric", 7) == 0 && !strchr(from, '['))
			return 'w';
	}
	return 'r';
}

/* Statements collected and sent together (the simple protocol). */
struct ddl {
	PGconn *conn;
	struct fl_buf sql;
};

static enum fl_result ddl_flush(struct ddl *d, struct fl_error *err)
{
	enum fl_result r = d->sql.len ? fl_stage_run(d->conn, d->sql.data, err) : FL_OK;
	fl_buf_reset(&d->sql);
	return r;
}

static enum fl_result ddl_end(struct ddl *d, struct fl_error *err)
{
	if (fl_buf_adds(&d->sql, ";\n") != FL_OK)
		return oom(err);
	return d->sql.len > DDL_BATCH ? ddl_flush(d, err) : FL_OK;
}

static enum fl_result add_sql(struct fl_buf *b, const char *s, struct fl_error *err)
{
	return fl_buf_adds(b, s) == FL_OK ? FL_OK : oom(err);
}

/* Forgets what was staged of db.tbl: all of it (vals NULL), or of the
 * partitions whose text[] literals are listed. */
static enum fl_result forget(PGconn *conn, const char *db, const char *tbl, const char *lits,
			     bool drop_rows, struct fl_error *err)
{
	char sql[640];
	const char *p[] = { db, tbl, lits };
	snprintf(sql, sizeof sql,
		 "WITH u AS (SELECT v::text[] AS vals FROM unnest($3::text[]) v), "
		 "o AS (DELETE FROM fl_stage_objects o WHERE o.db = $1 AND o.tbl = $2 AND "
		 "($3 IS NULL OR o.vals IN (SELECT vals FROM u))) %s fl_stage_partitions p "
		 "%s WHERE p.db = $1 AND p.tbl = $2 AND ($3 IS NULL OR p.vals IN "
		 "(SELECT vals FROM u))",
		 drop_rows ? "DELETE FROM" : "UPDATE",
		 drop_rows ? "" : "SET staged_bytes = 0, staged_rows = 0");
	return fl_db_exec(conn, sql, 3, p, NULL, err);
}

/* Creates the table (its schema too), granted to the query role. */
static enum fl_result create_table(struct ddl *d, const char *db, const char *tbl,
				   const struct fl_stage_glue *t, struct fl_error *err)
{
	PGconn *c = d->conn;
	struct fl_buf *b = &d->sql;
	enum fl_result r;
	const char *p[] = { db };
	/* CREATE SCHEMA IF NOT EXISTS races with itself: one at a time. */
	if ((r = exec_p(c, "SELECT pg_advisory_xact_lock(hashtextextended("
			"'fl_stage_schema:' || $1, 0))", 1, p, err)) != FL_OK)
		return r;
	if ((r = add_sql(b, "CREATE SCHEMA IF NOT EXISTS ", err)) != FL_OK ||
	    (r = ident(c, db, b, err)) != FL_OK || (r = ddl_end(d, err)) != FL_OK ||
	    (r = add_sql(b, "GRANT USAGE ON SCHEMA ", err)) != FL_OK ||
	    (r = ident(c, db, b, err)) != FL_OK || (r = add_sql(b, " TO fl_query", err)) != FL_OK ||
	    (r = ddl_end(d, err)) != FL_OK)
		return r;
	r = add_sql(b, t->nkeys ? "CREATE TABLE " : "CREATE UNLOGGED TABLE ", err);
	if (r == FL_OK)
		r = fl_stage_qname(c, db, tbl, b, err);
	if (r == FL_OK)
		r = add_sql(b, " (", err);
	for (size_t i = 0; r == FL_OK && i < t->ncols + t->nkeys; i++) {
		bool key = i >= t->ncols;
		if (i && (r = add_sql(b, ", ", err)) != FL_OK)
			break;
		if ((r = ident(c, key ? t->keys[i - t->ncols] : t->cols[i].name, b, err)) == FL_OK)
			r = fl_buf_printf(b, " %s", key ? "text COLLATE \"C\"" : t->cols[i].pg)
				== FL_OK ? FL_OK : oom(err);
	}
	if (r == FL_OK)
		r = add_sql(b, ")", err);
	if (r == FL_OK && t->nkeys && (r = add_sql(b, " PARTITION BY LIST (", err)) == FL_OK &&
	    (r = ident(c, t->keys[0], b, err)) == FL_OK)
		r = add_sql(b, ")", err);
	if (r == FL_OK)
		r = ddl_end(d, err);
	return r;
}

/* Brings the columns of an existing table to t's: one ALTER TABLE.
 * *reset says the table must be read again. */
static enum fl_result alter_columns(struct ddl *d, const char *db, const char *tbl, PGresult *have,
				    const struct fl_stage_glue *t, bool *reset, struct fl_error *err)
{
	PGconn *c = d->conn;
	struct fl_buf *b = &d->sql;
	enum fl_result r = FL_OK;
	size_t nact = 0, start = b->len;
	*reset = false;
	if ((r = add_sql(b, "ALTER TABLE ", err)) != FL_OK ||
	    (r = fl_stage_qname(c, db, tbl, b, err)) != FL_OK)
		return r;
	for (size_t i = 0; r == FL_OK && i < t->ncols; i++) {
		const struct fl_stage_glue_col *tc = &t->cols[i];
		int row = -1;
		for (int k = 0; k < PQntuples(have); k++)
			if (strcmp(PQgetvalue(have, k, 0), tc->name) == 0)
				row = k;
		char how = row < 0 ? 'a' : type_change(PQgetvalue(have, row, 1), tc->pg);
		if (!how)
			continue;
		if ((r = add_sql(b, nact++ ? ", " : " ", err)) != FL_OK)
			break;
		if (how == 'a') {
			if ((r = add_sql(b, "ADD COLUMN ", err)) == FL_OK &&
			    (r = ident(c, tc->name, b, err)) == FL_OK)
				r = fl_buf_printf(b, " %s", tc->pg) == FL_OK ? FL_OK : oom(err);
			continue;
		}
		*reset |= how == 'r';
		if ((r = add_sql(b, "ALTER COLUMN ", err)) == FL_OK &&
		    (r = ident(c, tc->name, b, err)) == FL_OK &&
		    (r = fl_buf_printf(b, " TYPE %s USING ", tc->pg) == FL_OK ? FL_OK : oom(err)) == FL_OK) {
			if (how == 'r')
				r = fl_buf_printf(b, "NULL::%s", tc->pg) == FL_OK ? FL_OK : oom(err);
			else if ((r = ident(c, tc->name, b, err)) == FL_OK)
				r = fl_buf_printf(b, "::%s", tc->pg) == FL_OK ? FL_OK : oom(err);
		}
	}
	/* Columns the Glue table no longer has (never a partition key). */
	for (int k = 0; r == FL_OK && k < PQntuples(have); k++) {
		const char *name = PQgetvalue(have, k, 0);
		bool keep = false;
		for (size_t i = 0; !keep && i < t->ncols; i++)
			keep = strcmp(t->cols[i].name, name) == 0;
		for (size_t i = 0; !keep && i < t->nkeys; i++)
			keep = strcmp(t->keys[i], name) == 0;
		if (keep)
			continue;
		if ((r = add_sql(b, nact++ ? ", DROP COLUMN " : " DROP COLUMN ", err)) == FL_OK)
			r = ident(c, name, b, err);
	}
	if (r != FL_OK)
		return r;
	if (nact == 0) {
		b->len = start;
		b->data[start] = '\0';
		return FL_OK;
	}
	return ddl_end(d, err);
}

/* The BRIN index on created_datetime, when the column has a type with
 * minmax operators; a stale one (the column changes type) is dropped. */
static enum fl_result brin_index(struct ddl *d, const char *db, const char *tbl, const char *oid,
				 const struct fl_stage_glue *t, bool before, struct fl_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { oid };
	const char *want = NULL;
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, "created_datetime") == 0)
			want = t->cols[i].pg;
	enum fl_result r = fl_db_exec(d->conn,
		"SELECT ci.relname::text, format_type(a.atttypid, a.atttypmod) FROM pg_index i "
		"JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_attribute a ON "
		"a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::oid "
		"AND a.attname = 'created_datetime'", 1, p, &res, err);
	if (r != FL_OK)
		return r;
	bool have = PQntuples(res) > 0;
	if (before && have && (!want || strcmp(PQgetvalue(res, 0, 1), want) != 0)) {
		if ((r = add_sql(&d->sql, "DROP INDEX ", err)) == FL_OK &&
		    (r = fl_stage_qname(d->conn, db, PQgetvalue(res, 0, 0), &d->sql, err)) == FL_OK)
			r = ddl_end(d, err);
	} else if (!before && !have && want && brin_type(want)) {
		if ((r = add_sql(&d->sql, "CREATE INDEX ON ", err)) == FL_OK &&
		    (r = fl_stage_qname(d->conn, db, tbl, &d->sql, err)) == FL_OK)
			r = add_sql(&d->sql, " USING brin (created_datetime)", err);
		if (r == FL_OK)
			r = ddl_end(d, err);
	}
	PQclear(res);
	return r;
}

/* A leaf (or a level) of vals[0, n) under its parent, made and attached. */
static enum fl_result make_level(struct ddl *d, const char *db, const char *tbl,
				 const struct fl_stage_glue *t, const char *const *vals, size_t n,
				 struct fl_error *err)
{
	PGconn *c = d->conn;
	struct fl_buf *b = &d->sql;
	char name[64], parent[64];
	enum fl_result r;
	fl_stage_level_name(tbl, vals, n, name);
	fl_stage_level_name(tbl, vals, n - 1, parent);
	r = add_sql(b, n < t->nkeys ? "CREATE TABLE " : "CREATE UNLOGGED TABLE ", err);
	if (r == FL_OK && (r = fl_stage_qname(c, db, name, b, err)) == FL_OK &&
	    (r = add_sql(b, " (LIKE ", err)) == FL_OK && (r = fl_stage_qname(c, db, tbl, b, err)) == FL_OK)
		r = add_sql(b, ")", err);
	if (r == FL_OK && n < t->nkeys && (r = add_sql(b, " PARTITION BY LIST (", err)) == FL_OK &&
	    (r = ident(c, t->keys[n], b, err)) == FL_OK)
		r = add_sql(b, ")", err);
	if (r == FL_OK && (r = ddl_end(d, err)) == FL_OK &&
	    (r = add_sql(b, "ALTER TABLE ", err)) == FL_OK &&
	    (r = fl_stage_qname(c, db, parent, b, err)) == FL_OK &&
	    (r = add_sql(b, " ATTACH PARTITION ", err)) == FL_OK &&
	    (r = fl_stage_qname(c, db, name, b, err)) == FL_OK &&
	    (r = add_sql(b, " FOR VALUES IN (", err)) == FL_OK &&
	    (r = literal(c, vals[n - 1], b, err)) == FL_OK && (r = add_sql(b, ")", err)) == FL_OK)
		r = ddl_end(d, err);
	return r;
}

/* Appends s to the text[] literal being built in b (empty: nothing yet);
 * array_close ends it. */
static bool array_add(struct fl_buf *b, const char *s)
{
	bool ok = fl_buf_addc(b, b->len ? ',' : '{') == FL_OK && fl_buf_addc(b, '"') == FL_OK;
	for (; ok && *s; s++)
		ok = (*s != '"' && *s != '\\') ? fl_buf_addc(b, *s) == FL_OK
			: fl_buf_add(b, (char[]){ '\\', *s }, 2) == FL_OK;
	return ok && fl_buf_addc(b, '"') == FL_OK;
}

static bool array_close(struct fl_buf *b)
{
	return (b->len || fl_buf_addc(b, '{') == FL_OK) && fl_buf_addc(b, '}') == FL_OK;
}

/* A leaf for every registered partition (levels made as needed), each in
 * fl_stage_partitions; the leaves of partitions no longer registered
 * are dropped with their stage rows. */
static enum fl_result sync_leaves(struct ddl *d, const char *db, const char *tbl,
				  const struct fl_stage_glue *t, bool fresh, struct fl_error *err)
{
	PGconn *c = d->conn;
	PGresult *res = NULL;
	struct nameset have = { calloc(64, sizeof(uint64_t)), 63, 0 };
	struct fl_buf rels, lits, made_lits, one;
	enum fl_result r = FL_OK;
	char nk[16];
	const char *p[] = { db, tbl, NULL, NULL };
	bool ok = have.v != NULL;
	fl_buf_init(&rels, SQL_MAX);
	fl_buf_init(&lits, SQL_MAX);
	fl_buf_init(&made_lits, SQL_MAX);
	fl_buf_init(&one, SQL_MAX);
	/* The levels that exist in the schema. */
	if (!ok || (r = fl_db_exec(c, "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n "
				   "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname ~ "
				   "'^p_[0-9a-f]{16}$'", 1, p, &res, err)) != FL_OK)
		goto out;
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = set_add(&have, name_hash(PQgetvalue(res, i, 0)));
	PQclear(res);
	res = NULL;
	if (!ok || (r = fl_db_exec(c, "SELECT to_json(vals)::text FROM fl_glue_partitions WHERE "
				   "db = $1 AND tbl = $2 ORDER BY vals", 2, p, &res, err)) != FL_OK)
		goto out;
	for (int i = 0; ok && r == FL_OK && i < (t->nkeys ? PQntuples(res) : 1); i++) {
		char **vals = NULL, name[64];
		size_t n = 0;
		bool made = fresh;
		if (t->nkeys && (!fl_stage_json_vals(PQgetvalue(res, i, 0), &vals, &n) ||
				 n != t->nkeys)) {
			fl_stage_vals_free(vals, n);
			continue;  /* values that do not fit the keys: no leaf */
		}
		for (size_t l = 1; ok && r == FL_OK && l <= n; l++) {
			fl_stage_level_name(tbl, (const char *const *)vals, l, name);
			if (set_has(&have, name_hash(name)))
				continue;
			made = true;
			if ((r = make_level(d, db, tbl, t, (const char *const *)vals, l, err)) == FL_OK)
				ok = set_add(&have, name_hash(name));
		}
		fl_stage_level_name(tbl, (const char *const *)vals, n, name);
		fl_buf_reset(&one);
		ok = ok && fl_stage_text_array((const char *const *)vals, n, &one) == FL_OK &&
		     array_add(&rels, name) && array_add(&lits, one.data) &&
		     (!made || array_add(&made_lits, one.data));
		fl_stage_vals_free(vals, n);
	}
	if (r != FL_OK || !(ok = ok && array_close(&rels) && array_close(&lits) &&
			    array_close(&made_lits)) || (r = ddl_flush(d, err)) != FL_OK)
		goto out;
	p[2] = rels.data;
	p[3] = lits.data;
	if ((r = fl_db_exec(c, "INSERT INTO fl_stage_partitions (db, tbl, vals, relname) "
			    "SELECT $1, $2, u.v::text[], u.r FROM unnest($3::text[], $4::text[]) "
			    "AS u(r, v) ON CONFLICT (db, tbl, vals) DO UPDATE SET relname = "
			    "EXCLUDED.relname WHERE fl_stage_partitions.relname <> EXCLUDED.relname",
			    4, p, NULL, err)) != FL_OK)
		goto out;
	/* A leaf made now is empty, whatever the stage rows said. */
	if (made_lits.len > 2 && (r = forget(c, db, tbl, made_lits.data, false, err)) != FL_OK)
		goto out;
	/* Partitions no longer registered (or of other keys): leaves dropped. */
	PQclear(res);
	res = NULL;
	snprintf(nk, sizeof nk, "%zu", t->nkeys);
	p[2] = nk;
	static const char stale[] =
		"FROM fl_stage_partitions s WHERE s.db = $1 AND s.tbl = $2 AND "
		"(cardinality(s.vals) <> $3::int OR ($3::int > 0 AND NOT EXISTS (SELECT 1 FROM "
		"fl_glue_partitions g WHERE g.db = s.db AND g.tbl = s.tbl AND g.vals = s.vals)))";
	char sql[1024];
	snprintf(sql, sizeof sql, "SELECT s.relname %s", stale);
	if ((r = fl_db_exec(c, sql, 3, p, &res, err)) != FL_OK || PQntuples(res) == 0)
		goto out;
	for (int i = 0; r == FL_OK && i < PQntuples(res); i++) {
		const char *rel = PQgetvalue(res, i, 0);
		if (strcmp(rel, tbl) != 0 && strncmp(rel, "p_", 2) == 0 &&
		    (r = add_sql(&d->sql, "DROP TABLE IF EXISTS ", err)) == FL_OK &&
		    (r = fl_stage_qname(c, db, rel, &d->sql, err)) == FL_OK)
			r = ddl_end(d, err);
	}
	snprintf(sql, sizeof sql, "WITH x AS (SELECT s.vals %s), o AS (DELETE FROM "
		 "fl_stage_objects o USING x WHERE o.db = $1 AND o.tbl = $2 AND o.vals = x.vals) "
		 "DELETE FROM fl_stage_partitions p USING x WHERE p.db = $1 AND p.tbl = $2 AND "
		 "p.vals = x.vals", stale);
	if (r == FL_OK && (r = ddl_flush(d, err)) == FL_OK)
		r = fl_db_exec(c, sql, 3, p, NULL, err);
out:
	if (r == FL_OK && !ok)
		r = fl_error_set(err, FL_TOO_LARGE, "table %s.%s has too many partitions to stage",
				 db, tbl);
	PQclear(res);
	free(have.v);
	fl_buf_free(&rels);
	fl_buf_free(&lits);
	fl_buf_free(&made_lits);
	fl_buf_free(&one);
	return r;
}

/* The whole sync, in one transaction; *version and created get what was
 * built. */
static enum fl_result sync_full(PGconn *conn, const char *db, const char *tbl,
				long long *version, char created[64], struct fl_error *err)
{
	struct fl_stage_glue t;
	struct fl_buf comment;
	struct ddl d = { conn, { 0 } };
	PGresult *res = NULL, *cols = NULL;
	char name[2 * FL_STAGE_NAME_MAX + 2], oid[32] = "";
	enum fl_result r;
	bool exists = false, reset = false, fresh = false;
	memset(&t, 0, sizeof t);
	fl_buf_init(&d.sql, SQL_MAX);
	fl_buf_init(&comment, 8192);
	snprintf(name, sizeof name, "%s.%s", db, tbl);
	const char *p[] = { name };
	if ((r = fl_stage_run(conn, "BEGIN; SET LOCAL lock_timeout = '" DDL_LOCK_TIMEOUT "'",
			      err)) != FL_OK ||
	    (r = exec_p(conn, "SELECT pg_advisory_xact_lock(hashtextextended("
			"'fl_stage:' || $1, 0))", 1, p, err)) != FL_OK ||
	    (r = fl_stage_glue_load(conn, db, tbl, &t, version, created, err)) != FL_OK)
		goto out;
	const char *q[] = { db, tbl };
	if ((r = fl_db_exec(conn, "SELECT c.oid::text, c.relkind::text, "
			    "coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c JOIN "
			    "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
			    "c.relname = $2", 2, q, &res, err)) != FL_OK)
		goto out;
	bool cfail = fl_buf_adds(&comment, COMMENT_TAG) != FL_OK;
	for (size_t i = 0; i < t.nkeys; i++)
		cfail |= fl_buf_printf(&comment, "%s%s", i ? "," : " ", t.keys[i]) != FL_OK;
	if (PQntuples(res) == 1) {
		exists = strcmp(PQgetvalue(res, 0, 1), t.nkeys ? "p" : "r") == 0 &&
			 !cfail && strcmp(PQgetvalue(res, 0, 2), comment.data) == 0;
		snprintf(oid, sizeof oid, "%s", PQgetvalue(res, 0, 0));
		if (!exists) {
			/* Made for other keys (or not by us): made again. */
			fl_info("stage: %s.%s changed its partition keys; made again", db, tbl);
			if ((r = add_sql(&d.sql, "DROP TABLE ", err)) != FL_OK ||
			    (r = fl_stage_qname(conn, db, tbl, &d.sql, err)) != FL_OK ||
			    (r = add_sql(&d.sql, " CASCADE", err)) != FL_OK ||
			    (r = ddl_end(&d, err)) != FL_OK || (r = ddl_flush(&d, err)) != FL_OK)
				goto out;
		}
	}
	if (!exists) {
		fresh = true;
		if ((r = forget(conn, db, tbl, NULL, true, err)) != FL_OK ||
		    (r = create_table(&d, db, tbl, &t, err)) != FL_OK ||
		    (r = add_sql(&d.sql, "COMMENT ON TABLE ", err)) != FL_OK ||
		    (r = fl_stage_qname(conn, db, tbl, &d.sql, err)) != FL_OK ||
		    (r = add_sql(&d.sql, " IS ", err)) != FL_OK ||
		    (r = literal(conn, comment.data, &d.sql, err)) != FL_OK ||
		    (r = ddl_end(&d, err)) != FL_OK || (r = ddl_flush(&d, err)) != FL_OK)
			goto out;
		PQclear(res);
		if ((r = fl_db_exec(conn, "SELECT c.oid::text FROM pg_class c JOIN pg_namespace n ON "
				    "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
				    2, q, &res, err)) != FL_OK)
			goto out;
		snprintf(oid, sizeof oid, "%s", PQgetvalue(res, 0, 0));
	} else {
		const char *o[] = { oid };
		if ((r = fl_db_exec(conn, "SELECT a.attname::text, format_type(a.atttypid, "
				    "a.atttypmod) FROM pg_attribute a WHERE a.attrelid = $1::oid AND "
				    "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
				    1, o, &cols, err)) != FL_OK ||
		    (r = brin_index(&d, db, tbl, oid, &t, true, err)) != FL_OK ||
		    (r = alter_columns(&d, db, tbl, cols, &t, &reset, err)) != FL_OK ||
		    (r = ddl_flush(&d, err)) != FL_OK)
			goto out;
		if (reset) {
			fl_info("stage: a column of %s.%s changed type; its staged rows are dropped",
				db, tbl);
			if ((r = add_sql(&d.sql, "TRUNCATE ", err)) != FL_OK ||
			    (r = fl_stage_qname(conn, db, tbl, &d.sql, err)) != FL_OK ||
			    (r = ddl_end(&d, err)) != FL_OK ||
			    (r = forget(conn, db, tbl, NULL, false, err)) != FL_OK)
				goto out;
		}
	}
	if ((r = brin_index(&d, db, tbl, oid, &t, false, err)) != FL_OK ||
	    (r = add_sql(&d.sql, "GRANT USAGE ON SCHEMA ", err)) != FL_OK ||
	    (r = ident(conn, db, &d.sql, err)) != FL_OK ||
	    (r = add_sql(&d.sql, " TO fl_query", err)) != FL_OK || (r = ddl_end(&d, err)) != FL_OK ||
	    (r = add_sql(&d.sql, "GRANT SELECT ON ", err)) != FL_OK ||
	    (r = fl_stage_qname(conn, db, tbl, &d.sql, err)) != FL_OK ||
	    (r = add_sql(&d.sql, " TO fl_query", err)) != FL_OK || (r = ddl_end(&d, err)) != FL_OK ||
	    (r = sync_leaves(&d, db, tbl, &t, fresh, err)) != FL_OK || (r = ddl_flush(&d, err)) != FL_OK)
		goto out;
	r = fl_stage_run(conn, "COMMIT", err);
out:
	fl_buf_free(&comment);
	if (r != FL_OK)
		fl_stage_rollback(conn);
	PQclear(res);
	PQclear(cols);
	fl_stage_glue_free(&t);
	fl_buf_free(&d.sql);
	return r;
}

static bool cache_match(struct fl_stage_tables *st, const char *name, long long version,
			const char *created)
{
	bool hit = false;
	pthread_mutex_lock(&st->mu);
	for (struct cache_ent *e = st->cache; e && !hit; e = e->next)
		hit = strcmp(e->name, name) == 0 && e->version == version &&
		      strcmp(e->created, created) == 0;
	pthread_mutex_unlock(&st->mu);
	return hit;
}

static void cache_set(struct fl_stage_tables *st, const char *name, long long version,
		      const char *created)
{
	pthread_mutex_lock(&st->mu);
	struct cache_ent *e = st->cache;
	while (e && strcmp(e->name, name) != 0)
		e = e->next;
	if (!e && (e = calloc(1, sizeof *e))) {
		if ((e->name = strdup(name))) {
			e->next = st->cache;
			st->cache = e;
		} else {
			free(e);
			e = NULL;
		}
	}
	if (e) {
		e->version = version;
		snprintf(e->created, sizeof e->created, "%s", created);
	}
	pthread_mutex_unlock(&st->mu);
}

enum fl_result fl_stage_tables_sync(struct fl_stage_tables *st, PGconn *conn, const char *db,
				    const char *tbl, struct fl_error *err)
{
	PGresult *res = NULL;
	char name[2 * FL_STAGE_NAME_MAX + 2], created[64];
	long long version;
	enum fl_result r;
	if ((r = fl_stage_check_names(db, tbl, err)) != FL_OK)
		return r;
	snprintf(name, sizeof name, "%s.%s", db, tbl);
	const char *p[] = { db, tbl };
	r = fl_db_exec(conn,
		"SELECT t.version_id, t.created_at::text, "
		"(SELECT count(*) FROM fl_glue_partitions g WHERE g.db = t.db AND g.tbl = t.name "
		" AND NOT EXISTS (SELECT 1 FROM fl_stage_partitions s WHERE s.db = g.db AND "
		" s.tbl = g.tbl AND s.vals = g.vals)) + "
		"(SELECT count(*) FROM fl_stage_partitions s WHERE s.db = t.db AND s.tbl = t.name "
		" AND cardinality(s.vals) > 0 AND NOT EXISTS (SELECT 1 FROM fl_glue_partitions g "
		" WHERE g.db = s.db AND g.tbl = s.tbl AND g.vals = s.vals)) "
		"FROM fl_glue_tables t WHERE t.db = $1 AND t.name = $2", 2, p, &res, err);
	if (r == FL_OK && PQntuples(res) == 0)
		r = fl_error_set(err, FL_NOT_FOUND, "table %s.%s does not exist", db, tbl);
	if (r != FL_OK)
		goto out;
	if (cache_match(st, name, atoll(PQgetvalue(res, 0, 0)), PQgetvalue(res, 0, 1)) &&
	    atoll(PQgetvalue(res, 0, 2)) == 0)
		goto out;
	if ((r = sync_full(conn, db, tbl, &version, created, err)) == FL_OK)
		cache_set(st, name, version, created);
out:
	PQclear(res);
	return r;
}

enum fl_result fl_stage_tables_new(struct fl_stage_tables **out, struct fl_error *err)
{
	struct fl_stage_tables *t = calloc(1, sizeof *t);
	*out = NULL;
	if (!t)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	pthread_mutex_init(&t->mu, NULL);
	*out = t;
	return FL_OK;
}

void fl_stage_tables_free(struct fl_stage_tables *t)
{
	if (!t)
		return;
	while (t->cache) {
		struct cache_ent *e = t->cache;
		t->cache = e->next;
		free(e->name);
		free(e);
	}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

