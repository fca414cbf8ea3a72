/*
 * athena_ddl_run.c - running Athena's DDL and utility statements against
 * the Glue catalog (the parsed form comes from athena_ddl.c).
 *
 * DESIGN
 *
 * Every statement is answered from, or written into, the Glue rows of
 * sql/0002_glue.sql: never by running the user's DDL in PostgreSQL.  A
 * statement runs on one pooled connection; one that writes more than one
 * row does it in one transaction, so it happens whole or not at all.
 * Slow work (listing the lake) is done before the transaction opens.
 *
 * Reads answer what Athena's Hive engine prints, row by row: names in
 * byte order, SHOW PARTITIONS as Hive's escaped "k=v/k2=v2" paths,
 * DESCRIBE with its "# Partition Information" block, SHOW CREATE TABLE
 * line by line in the layout of Hive's ShowCreateTable (so that it runs
 * again as it is).  Errors use Hive's words as Athena passes them on
 * ("FAILED: SemanticException [Error 10001]: Table not found db.tbl").
 *
 * The query engine reads a table's data from the objects registered for
 * its partitions (fl_objects), so DDL that makes data visible registers
 * the objects too, as kind "crawled": CREATE EXTERNAL TABLE of a table
 * without partition keys (the objects under its location), ALTER TABLE
 * ADD PARTITION (those under each partition's location) and MSCK REPAIR
 * TABLE (the key=value/ folders under the location that follow the
 * table's keys in order, and their objects; for a table without keys,
 * the objects under the location).  Hidden paths (a segment starting
 * with '.' or '_', as Hadoop hides them) are left out.  The record count
 * of such an object is not known without reading it and is written as
 * 0; its created_at range as unknown.  Dropping a table, a partition or
 * a database removes the crawled object rows with it; objects that a
 * delivery stream wrote stay: they belong to the stream, whose table
 * comes back with its next delivery.
 */
#include "athena_ddl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "athena_ddl_text.h"
#include "buf.h"
#include "catalog.h"
#include "crawler.h"
#include "db.h"
#include "glue.h"
#include "log.h"
#include "server.h"
#include "storage.h"

#define LIST_MAX 1000000          /* objects one statement registers */
#define TEXT_MAX (64u << 20)      /* SHOW CREATE TABLE text, one MSCK line */
#define DDL_TASK "FAILED: Execution Error, return code 1 from " \
	"org.apache.hadoop.hive.ql.exec.DDLTask. "

struct ctx {
	struct fl_server *srv;
	PGconn *conn;
	const struct fl_ddl_stmt *st;
	char db[256];              /* the statement's database */
	json_t *rows;
	const char *const *cols;   /* the answer's column names */
	size_t ncols;
	struct fl_error *err;
};

/* ---- answers ---------------------------------------------------------------- */

static enum fl_result nomem(struct ctx *c)
{
	return fl_error_set(c->err, FL_INTERNAL, "out of memory");
}

static json_t *column_info(const char *const *names, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *col = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:b}",
					"CatalogName", "hive", "SchemaName", "", "TableName", "",
					"Name", names[i], "Label", names[i], "Type", "string",
					"Precision", 0, "Scale", 0, "Nullable", "UNKNOWN",
					"CaseSensitive", 0);
		if (!col || json_array_append_new(a, col) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static void set_columns(struct ctx *c, const char *const *names, size_t n)
{
	c->cols = names;
	c->ncols = n;
}

/* A row of n values (NULL for NULL). */
static enum fl_result add_row(struct ctx *c, size_t n, const char *const *vals)
{
	json_t *row = json_array();
	for (size_t i = 0; row && i < n; i++)
		if (json_array_append_new(row, vals[i] ? json_string(vals[i]) : json_null()) != 0) {
			json_decref(row);
			row = NULL;
		}
	if (!row || json_array_append_new(c->rows, row) != 0)
		return nomem(c);
	return FL_OK;
}

static enum fl_result add_row1(struct ctx *c, const char *a)
{
	return add_row(c, 1, &a);
}

/* ---- catalog helpers ----------------------------------------------------------- */

static enum fl_result table_not_found(struct ctx *c)
{
	return fl_error_set(c->err, FL_NOT_FOUND, "FAILED: SemanticException [Error 10001]: "
			    "Table not found %s.%s", c->db, c->st->table);
}

static enum fl_result db_not_found(struct ctx *c)
{
	return fl_error_set(c->err, FL_NOT_FOUND, "FAILED: SemanticException [Error 10072]: "
			    "Database does not exist: %s", c->db);
}

static enum fl_result exec(struct ctx *c, const char *sql, int n, const char *const *params,
			   PGresult **res)
{
	return fl_db_exec(c->conn, sql, n, params, res, c->err);
}

static enum fl_result begin(struct ctx *c)
{
	return exec(c, "BEGIN", 0, NULL, NULL);
}

/* Commits on r == FL_OK, else rolls back; returns the outcome. */
static enum fl_result finish(struct ctx *c, enum fl_result r)
{
	if (PQtransactionStatus(c->conn) == PQTRANS_IDLE)
		return r;
	if (r == FL_OK)
		return exec(c, "COMMIT", 0, NULL, NULL);
	if (PQstatus(c->conn) == CONNECTION_OK)
		PQclear(PQexec(c->conn, "ROLLBACK"));
	return r;
}

static enum fl_result db_exists(struct ctx *c, bool *exists)
{
	PGresult *res = NULL;
	const char *p[1] = { c->db };
	enum fl_result r = exec(c, "SELECT 1 FROM fl_glue_databases WHERE name = $1", 1, p, &res);
	*exists = r == FL_OK && PQntuples(res) > 0;
	PQclear(res);
	return r;
}

/* The statement's table as Glue's Table shape (caller owns). */
static enum fl_result load_table(struct ctx *c, json_t **t)
{
	struct fl_error lerr;
	enum fl_result r = fl_glue_table_load(c->conn, c->db, c->st->table, t, &lerr);
	if (r == FL_NOT_FOUND)
		return table_not_found(c);
	if (r != FL_OK && c->err)
		*c->err = lerr;
	return r;
}

static const json_t *sd_of(const json_t *t)
{
	return json_object_get(t, "StorageDescriptor");
}

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The partition key names of a table (borrowed from t); *n of them. */
static enum fl_result table_keys(struct ctx *c, const json_t *t, const char **keys, size_t *n)
{
	const json_t *pk = json_object_get(t, "PartitionKeys");
	*n = json_array_size(pk);
	if (*n > FL_CATALOG_MAX_KEYS)
		return fl_error_set(c->err, FL_INTERNAL, "table %s.%s has more than %d partition "
				    "keys", c->db, c->st->table, FL_CATALOG_MAX_KEYS);
	for (size_t i = 0; i < *n; i++)
		if (!(keys[i] = str_of(json_array_get(pk, i), "Name")))
			return fl_error_set(c->err, FL_INTERNAL, "table %s.%s has a partition key "
					    "without a name", c->db, c->st->table);
	return FL_OK;
}

/* Hive's name of a partition whose values are a JSON array (a row of
 * fl_glue_partitions). */
static enum fl_result partition_name_json(const char *const *keys, size_t n,
					  const json_t *vals, struct fl_buf *b)
{
	const char *v[FL_CATALOG_MAX_KEYS];
	n = n < FL_CATALOG_MAX_KEYS ? n : FL_CATALOG_MAX_KEYS;
	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(vals, i));
	return fl_ddl_partition_name(keys, n, v, b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj in byte order (caller frees the array, not the keys). */
static const char **sorted_keys(const json_t *obj, size_t *n)
{
	const char *key;
	json_t *v;
	size_t i = 0;
	*n = json_object_size(obj);
	const char **keys = calloc(*n ? *n : 1, sizeof *keys);
	if (!keys)
		return NULL;
	json_object_foreach((json_t *)obj, key, v)
		keys[i++] = key;
	qsort(keys, *n, sizeof *keys, cmp_str);
	return keys;
}

/* ---- listing the lake ------------------------------------------------------------ */

struct obj {
	char *key;
	uint64_t bytes;
};

struct listing {
	struct obj *v;
	size_t n, cap, plen;
	bool too_many, nomem;
};

/* A path below the listed prefix that Hadoop (and so Athena) hides. */
static bool hidden(const char *rel)
{
	size_t n = strlen(rel);
	if (n == 0 || rel[n - 1] == '/' || (n >= 9 && strcmp(rel + n - 9, "_$folder$") == 0))
		return true;
	for (const char *seg = rel; seg; seg = strchr(seg, '/')) {
		if (*seg == '/')
			seg++;
		if (*seg == '.' || *seg == '_')
			return true;
	}
	return false;
}

static int list_one(void *arg, const struct fl_object_info *info)
{
	struct listing *l = arg;
	if (hidden(info->key + l->plen))
		return 0;
	if (l->n == LIST_MAX) {
		l->too_many = true;
		return 1;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct obj *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv) {
			l->nomem = true;
			return 1;
		}
		l->v = nv;
		l->cap = nc;
	}
	if (!(l->v[l->n].key = strdup(info->key))) {
		l->nomem = true;
		return 1;
	}
	l->v[l->n++].bytes = info->bytes;
	return 0;
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Lists the objects under an s3:// location (bucket has 64 bytes,
 * prefix 1100). */
static enum fl_result list_location(struct ctx *c, const char *location, char *bucket,
				    char *prefix, struct listing *l)
{
	struct fl_error lerr;
	memset(l, 0, sizeof *l);
	if (!location || fl_crawl_s3_path(location, bucket, prefix, 1100, &lerr) != FL_OK)
		return fl_error_set(c->err, FL_INVALID, "FAILED: SemanticException table %s.%s: "
				    "location '%.200s' is not an S3 location", c->db, c->st->table,
				    location ? location : "");
	l->plen = strlen(prefix);
	enum fl_result r = fl_storage_list(c->srv->storage, bucket, prefix, list_one, l, c->err);
	if (r == FL_NOT_FOUND)
		r = FL_OK;               /* no bucket: nothing there */
	if (r == FL_OK && l->nomem)
		r = nomem(c);
	if (r == FL_OK && l->too_many)
		r = fl_error_set(c->err, FL_TOO_LARGE, "more than %d objects under %.200s",
				 LIST_MAX, location);
	if (r != FL_OK)
		listing_free(l);
	return r;
}

/* Registers objects [from, to) of l as the partition vals' (kind crawled). */
static enum fl_result register_objects(struct ctx *c, const char *bucket,
				       const struct listing *l, size_t from, size_t to,
				       const char *const *vals, size_t nvals, const char *path)
{
	enum fl_result r = FL_OK;
	for (size_t i = from; r == FL_OK && i < to; i++) {
		struct fl_catalog_object o = {
			.bucket = bucket, .key = l->v[i].key, .kind = "crawled",
			.partition_path = path, .bytes = l->v[i].bytes, .records = 0,
			.min_ms = INT64_MAX, .max_ms = INT64_MIN,
			.db = c->db, .tbl = c->st->table, .vals = vals, .nvals = nvals,
		};
		r = fl_catalog_add_object(c->conn, &o, c->err);
	}
	return r;
}

/* ---- SHOW ---------------------------------------------------------------------- */

/* One name a row, from a statement's first column, filtered. */
static enum fl_result name_rows(struct ctx *c, const char *sql, int n, const char *const *p)
{
	PGresult *res = NULL;
	enum fl_result r = exec(c, sql, n, p, &res);
	for (int i = 0; r == FL_OK && i < PQntuples(res); i++)
		if (fl_ddl_pattern_match(c->st->pattern, PQgetvalue(res, i, 0)))
			r = add_row1(c, PQgetvalue(res, i, 0));
	PQclear(res);
	return r;
}

static enum fl_result show_databases(struct ctx *c)
{
	static const char *const cols[] = { "database_name" };
	set_columns(c, cols, 1);
	return name_rows(c, "SELECT name FROM fl_glue_databases ORDER BY name COLLATE \"C\"",
			 0, NULL);
}

static enum fl_result show_tables(struct ctx *c)
{
	static const char *const cols[] = { "tab_name" };
	bool exists = false;
	set_columns(c, cols, 1);
	enum fl_result r = db_exists(c, &exists);
	if (r != FL_OK)
		return r;
	if (!exists)
		return db_not_found(c);
	const char *p[1] = { c->db };
	return name_rows(c, "SELECT name FROM fl_glue_tables WHERE db = $1 "
			 "ORDER BY name COLLATE \"C\"", 1, p);
}

/* The index of key in keys, or -1. */
static int key_index(const char *const *keys, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return (int)i;
	return -1;
}

/* A spec's keys must be the table's partition keys. */
static enum fl_result check_spec_keys(struct ctx *c, const json_t *spec,
				      const char *const *keys, size_t nkeys)
{
	const json_t *sk = json_object_get(spec, "Keys");
	for (size_t i = 0; i < json_array_size(sk); i++) {
		const char *k = json_string_value(json_array_get(sk, i));
		if (key_index(keys, nkeys, k) < 0)
			return fl_error_set(c->err, FL_INVALID, "FAILED: SemanticException "
					    "[Error 10098]: Non-Partition column appears in the "
					    "partition specification: %s", k);
	}
	return FL_OK;
}

/* Whether vals (in key order) has the values the spec names. */
static bool spec_matches(const json_t *spec, const char *const *keys, size_t nkeys,
			 const json_t *vals)
{
	const json_t *sk = json_object_get(spec, "Keys"), *sv = json_object_get(spec, "Values");
	for (size_t i = 0; i < json_array_size(sk); i++) {
		int k = key_index(keys, nkeys, json_string_value(json_array_get(sk, i)));
		const char *v = json_string_value(json_array_get(vals, (size_t)k));
		if (k < 0 || !v || strcmp(v, json_string_value(json_array_get(sv, i))) != 0)
			return false;
	}
	return true;
}

/* The table's partitions: [[vals...] as JSON text from PostgreSQL, ...]
 * parsed into *out, with their locations in *locs (caller owns both). */
static enum fl_result load_partitions(struct ctx *c, json_t **out, json_t **locs)
{
	PGresult *res = NULL;
	const char *p[2] = { c->db, c->st->table };
	*out = json_array();
	*locs = json_array();
	enum fl_result r = *out && *locs ? FL_OK : nomem(c);
	if (r == FL_OK)
		r = exec(c, "SELECT to_jsonb(vals)::text, spec->'StorageDescriptor'->>'Location' "
			 "FROM fl_glue_partitions WHERE db = $1 AND tbl = $2", 2, p, &res);
	for (int i = 0; r == FL_OK && i < PQntuples(res); i++) {
		json_error_t jerr;
		json_t *v = json_loads(PQgetvalue(res, i, 0), 0, &jerr);
		const char *loc = PQgetisnull(res, i, 1) ? "" : PQgetvalue(res, i, 1);
		if (!json_is_array(v)) {
			json_decref(v);
			r = fl_error_set(c->err, FL_INTERNAL, "partition values of %s.%s are not "
					 "an array", c->db, c->st->table);
		} else if (json_array_append_new(*out, v) != 0 ||
			   json_array_append_new(*locs, json_string(loc)) != 0) {
			r = nomem(c);
		}
	}
	PQclear(res);
	if (r != FL_OK) {
		json_decref(*out);
		json_decref(*locs);
		*out = *locs = NULL;
	}
	return r;
}

static enum fl_result show_partitions(struct ctx *c)
{
	static const char *const cols[] = { "partition" };
	json_t *t = NULL, *parts = NULL, *locs = NULL;
	const char *keys[FL_CATALOG_MAX_KEYS];
	char **names = NULL;
	size_t nkeys = 0, n = 0;
	struct fl_buf b;
	fl_buf_init(&b, TEXT_MAX);
	set_columns(c, cols, 1);
	enum fl_result r = load_table(c, &t);
	if (r != FL_OK || (r = table_keys(c, t, keys, &nkeys)) != FL_OK)
		goto out;
	if (nkeys == 0) {
		r = fl_error_set(c->err, FL_INVALID, "FAILED: SemanticException [Error 10241]: "
				 "Table %s is not a partitioned table", c->st->table);
		goto out;
	}
	const json_t *filter = json_array_get(c->st->partitions, 0);
	if (filter && (r = check_spec_keys(c, filter, keys, nkeys)) != FL_OK)
		goto out;
	if ((r = load_partitions(c, &parts, &locs)) != FL_OK)
		goto out;
	if (!(names = calloc(json_array_size(parts) + 1, sizeof *names))) {
		r = nomem(c);
		goto out;
	}
	for (size_t i = 0; r == FL_OK && i < json_array_size(parts); i++) {
		const json_t *vals = json_array_get(parts, i);
		if (filter && !spec_matches(filter, keys, nkeys, vals))
			continue;
		if ((r = partition_name_json(keys, nkeys, vals, &b)) != FL_OK ||
		    !(names[n] = strdup(b.data)))
			r = r != FL_OK ? fl_error_set(c->err, r, "partition name too long") : nomem(c);
		else
			n++;
	}
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; r == FL_OK && i < n; i++)
		r = add_row1(c, names[i]);
out:
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	fl_buf_free(&b);
	json_decref(parts);
	json_decref(locs);
	json_decref(t);
	return r;
}

static enum fl_result show_columns(struct ctx *c)
{
	static const char *const cols[] = { "field" };
	json_t *t = NULL;
	set_columns(c, cols, 1);
	enum fl_result r = load_table(c, &t);
	const json_t *lists[2] = { json_object_get(sd_of(t), "Columns"),
				   json_object_get(t, "PartitionKeys") };
	for (size_t l = 0; r == FL_OK && l < 2; l++)
		for (size_t i = 0; r == FL_OK && i < json_array_size(lists[l]); i++)
			r = add_row1(c, str_of(json_array_get(lists[l], i), "Name"));
	json_decref(t);
	return r;
}

static enum fl_result show_tblproperties(struct ctx *c)
{
	static const char *const cols[] = { "prpt_name", "prpt_value" };
	static const char *const one[] = { "prpt_value" };
	json_t *t = NULL;
	const char **keys = NULL;
	size_t n = 0;
	enum fl_result r = load_table(c, &t);
	const json_t *params = json_object_get(t, "Parameters");
	set_columns(c, c->st->pattern ? one : cols, c->st->pattern ? 1 : 2);
	if (r != FL_OK)
		goto out;
	if (c->st->pattern) {
		const char *v = str_of(params, c->st->pattern);
		r = v ? add_row1(c, v) : fl_error_set(c->err, FL_NOT_FOUND, "FAILED: "
			"SemanticException Table %s.%s does not have property: %s", c->db,
			c->st->table, c->st->pattern);
		goto out;
	}
	if (!(keys = sorted_keys(params, &n))) {
		r = nomem(c);
		goto out;
	}
	for (size_t i = 0; r == FL_OK && i < n; i++) {
		const char *v[2] = { keys[i], str_of(params, keys[i]) };
		r = add_row(c, 2, v);
	}
out:
	free(keys);
	json_decref(t);
	return r;
}

/* ---- DESCRIBE / SHOW CREATE TABLE ------------------------------------------------ */

static enum fl_result describe(struct ctx *c)
{
	static const char *const cols[] = { "col_name", "data_type", "comment" };
	json_t *t = NULL;
	set_columns(c, cols, 3);
	enum fl_result r = load_table(c, &t);
	if (r == FL_OK && fl_ddl_describe_rows(c->db, t, c->st->formatted, c->rows) != FL_OK)
		r = nomem(c);
	json_decref(t);
	return r;
}

static enum fl_result show_create_table(struct ctx *c)
{
	static const char *const cols[] = { "createtab_stmt" };
	json_t *t = NULL;
	struct fl_buf b;
	fl_buf_init(&b, TEXT_MAX);
	set_columns(c, cols, 1);
	enum fl_result r = load_table(c, &t);
	if (r != FL_OK)
		goto out;
	if ((r = fl_ddl_create_text(c->db, c->st->table, t, &b)) != FL_OK) {
		r = fl_error_set(c->err, r, "cannot print the statement of table %s.%s", c->db,
				 c->st->table);
		goto out;
	}
	/* One row per line. */
	for (char *line = b.data; r == FL_OK && line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		r = add_row1(c, line);
		line = nl ? nl + 1 : NULL;
	}
out:
	fl_buf_free(&b);
	json_decref(t);
	return r;
}

/* ---- CREATE ------------------------------------------------------------------------ */

static enum fl_result create_database(struct ctx *c)
{
	PGresult *res = NULL;
	char *text = json_dumps(c->st->spec, JSON_COMPACT);
	enum fl_result r = text ? FL_OK : nomem(c);
	const char *p[2] = { c->db, text };
	if (r == FL_OK)
		r = exec(c, "INSERT INTO fl_glue_databases (name, spec) VALUES ($1, $2::jsonb) "
			 "ON CONFLICT DO NOTHING RETURNING 1", 2, p, &res);
	if (r == FL_OK && PQntuples(res) == 0 && !c->st->if_exists)
		r = fl_error_set(c->err, FL_EXISTS, DDL_TASK "Database %s already exists", c->db);
	PQclear(res);
	free(text);
	return r;
}

static enum fl_result table_exists(struct ctx *c)
{
	return fl_error_set(c->err, FL_EXISTS, DDL_TASK "AlreadyExistsException(message:Table "
			    "%s.%s already exists)", c->db, c->st->table);
}

static enum fl_result create_table(struct ctx *c)
{
	const json_t *spec = c->st->spec;
	const char *loc = str_of(sd_of(spec), "Location");
	bool keyed = json_array_size(json_object_get(spec, "PartitionKeys")) > 0, exists = false;
	char bucket[64], prefix[1100];
	struct listing l = { 0 };
	PGresult *res = NULL;
	char *text = NULL;
	const char *p[3] = { c->db, c->st->table, NULL };
	enum fl_result r = db_exists(c, &exists);
	if (r != FL_OK)
		goto out;
	if (!exists) {
		r = db_not_found(c);
		goto out;
	}
	if ((r = exec(c, "SELECT 1 FROM fl_glue_tables WHERE db = $1 AND name = $2", 2, p,
		      &res)) != FL_OK)
		goto out;
	if (PQntuples(res) > 0) {
		r = c->st->if_exists ? FL_OK : table_exists(c);
		goto out;
	}
	PQclear(res);
	res = NULL;
	/* A table without keys reads what is under its location. */
	if (!keyed && (r = list_location(c, loc, bucket, prefix, &l)) != FL_OK)
		goto out;
	if (!(text = json_dumps(spec, JSON_COMPACT))) {
		r = nomem(c);
		goto out;
	}
	p[2] = text;
	if ((r = begin(c)) != FL_OK)
		goto out;
	r = exec(c, "INSERT INTO fl_glue_tables (db, name, spec) VALUES ($1, $2, $3::jsonb) "
		 "ON CONFLICT DO NOTHING RETURNING 1", 3, p, &res);
	if (r == FL_OK && PQntuples(res) == 0) {
		/* Made meanwhile by another statement. */
		r = finish(c, c->st->if_exists ? FL_OK : table_exists(c));
		goto out;
	}
	if (r == FL_OK && !keyed)
		r = register_objects(c, bucket, &l, 0, l.n, NULL, 0, prefix);
	r = finish(c, r);
out:
	PQclear(res);
	free(text);
	listing_free(&l);
	return r;
}

/* ---- partitions -------------------------------------------------------------------- */

/* A spec's values in the table's key order (borrowed from spec); every
 * key named, none empty. */
static enum fl_result spec_values(struct ctx *c, const json_t *spec, const char *const *keys,
				  size_t nkeys, const char **vals)
{
	const json_t *sk = json_object_get(spec, "Keys"), *sv = json_object_get(spec, "Values");
	enum fl_result r = check_spec_keys(c, spec, keys, nkeys);
	if (r != FL_OK)
		return r;
	for (size_t i = 0; i < nkeys; i++)
		vals[i] = NULL;
	for (size_t i = 0; i < json_array_size(sk); i++)
		vals[key_index(keys, nkeys, json_string_value(json_array_get(sk, i)))] =
			json_string_value(json_array_get(sv, i));
	for (size_t i = 0; i < nkeys; i++)
		if (!vals[i] || !vals[i][0])
			return fl_error_set(c->err, FL_INVALID, "FAILED: SemanticException "
					    "partition spec is invalid; field %s does not exist "
					    "or is empty", keys[i]);
	return FL_OK;
}

/* The default location of a partition: the table's + "k=v/.../". */
static enum fl_result default_location(struct ctx *c, const char *table_loc,
				       const char *const *keys, size_t nkeys,
				       const char *const *vals, struct fl_buf *b)
{
	struct fl_buf name;
	size_t tl = table_loc ? strlen(table_loc) : 0;
	fl_buf_init(&name, TEXT_MAX);
	enum fl_result r = fl_ddl_partition_name(keys, nkeys, vals, &name);
	fl_buf_reset(b);
	if (r == FL_OK)
		r = fl_buf_printf(b, "%s%s%s/", table_loc ? table_loc : "",
				  tl && table_loc[tl - 1] == '/' ? "" : "/", name.data);
	fl_buf_free(&name);
	if (r == FL_TOO_LARGE)
		return fl_error_set(c->err, FL_INVALID, "partition location too long");
	return r == FL_OK ? r : nomem(c);
}

struct new_part {
	const char *vals[FL_CATALOG_MAX_KEYS];
	char *location;
	char bucket[64], prefix[1100];
	struct listing l;
};

static enum fl_result add_partitions(struct ctx *c)
{
	json_t *t = NULL;
	const char *keys[FL_CATALOG_MAX_KEYS];
	size_t nkeys = 0, n = json_array_size(c->st->partitions), np = 0;
	struct new_part *parts = calloc(n ? n : 1, sizeof *parts);
	struct fl_buf loc;
	PGresult *res = NULL;
	fl_buf_init(&loc, 4096);
	enum fl_result r = parts ? load_table(c, &t) : nomem(c);
	if (r != FL_OK || (r = table_keys(c, t, keys, &nkeys)) != FL_OK)
		goto out;
	if (nkeys == 0) {
		r = fl_error_set(c->err, FL_INVALID, "FAILED: SemanticException [Error 10241]: "
				 "Table %s is not a partitioned table", c->st->table);
		goto out;
	}
	const char *table_loc = str_of(sd_of(t), "Location");
	for (size_t i = 0; i < n; i++) {
		const json_t *spec = json_array_get(c->st->partitions, i);
		struct new_part *np_ = &parts[np];
		if ((r = spec_values(c, spec, keys, nkeys, np_->vals)) != FL_OK)
			goto out;
		json_t *arr = json_array();
		for (size_t k = 0; arr && k < nkeys; k++)
			if (json_array_append_new(arr, json_string(np_->vals[k])) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		char *arr_text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
		json_decref(arr);
		if (!arr_text) {
			r = nomem(c);
			goto out;
		}
		const char *p[3] = { c->db, c->st->table, arr_text };
		r = exec(c, "SELECT 1 FROM fl_glue_partitions WHERE db = $1 AND tbl = $2 AND "
			 "vals = ARRAY(SELECT e FROM jsonb_array_elements_text($3::jsonb) "
			 "WITH ORDINALITY AS a(e, i) ORDER BY i)", 3, p, &res);
		free(arr_text);
		if (r != FL_OK)
			goto out;
		bool exists = PQntuples(res) > 0;
		PQclear(res);
		res = NULL;
		if (exists && c->st->if_exists)
			continue;
		if (exists) {
			struct fl_buf name;
			fl_buf_init(&name, TEXT_MAX);
			if (fl_ddl_partition_name(keys, nkeys, np_->vals, &name) != FL_OK)
				fl_buf_reset(&name);
			r = fl_error_set(c->err, FL_EXISTS, DDL_TASK "AlreadyExistsException("
					 "message:Partition already exists: %s:%.512s)", c->st->table,
					 name.data ? name.data : "");
			fl_buf_free(&name);
			goto out;
		}
		const char *given = str_of(spec, "Location");
		if (!given && (r = default_location(c, table_loc, keys, nkeys, np_->vals,
						    &loc)) != FL_OK)
			goto out;
		if (!(np_->location = strdup(given ? given : loc.data))) {
			r = nomem(c);
			goto out;
		}
		np++;
		if ((r = list_location(c, np_->location, np_->bucket, np_->prefix,
				       &np_->l)) != FL_OK)
			goto out;
	}
	if ((r = begin(c)) != FL_OK)
		goto out;
	for (size_t i = 0; r == FL_OK && i < np; i++) {
		r = fl_catalog_add_partition(c->conn, c->db, c->st->table, parts[i].vals, nkeys,
					     parts[i].location, c->err);
		if (r == FL_OK)
			r = register_objects(c, parts[i].bucket, &parts[i].l, 0, parts[i].l.n,
					     parts[i].vals, nkeys, parts[i].prefix);
	}
	r = finish(c, r);
out:
	for (size_t i = 0; parts && i < n; i++) {
		free(parts[i].location);
		listing_free(&parts[i].l);
	}
	free(parts);
	PQclear(res);
	fl_buf_free(&loc);
	json_decref(t);
	return r;
}

/* "(k = 'v', ...)" of a spec, for a message. */
static void spec_text(const json_t *spec, char *out, size_t n)
{
	const json_t *sk = json_object_get(spec, "Keys"), *sv = json_object_get(spec, "Values");
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(sk) && o < n; i++) {
		int w = snprintf(out + o, n - o, "%s%s = '%.100s'", i ? ", " : "",
				 json_string_value(json_array_get(sk, i)),
				 json_string_value(json_array_get(sv, i)));
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static enum fl_result drop_partitions(struct ctx *c)
{
	json_t *t = NULL, *parts = NULL, *locs = NULL;
	const char *keys[FL_CATALOG_MAX_KEYS];
	size_t nkeys = 0;
	bool *drop = NULL;
	enum fl_result r = load_table(c, &t);
	if (r != FL_OK || (r = table_keys(c, t, keys, &nkeys)) != FL_OK)
		goto out;
	if (nkeys == 0) {
		r = fl_error_set(c->err, FL_INVALID, "FAILED: SemanticException [Error 10241]: "
				 "Table %s is not a partitioned table", c->st->table);
		goto out;
	}
	if ((r = load_partitions(c, &parts, &locs)) != FL_OK)
		goto out;
	size_t have = json_array_size(parts);
	if (!(drop = calloc(have + 1, sizeof *drop))) {
		r = nomem(c);
		goto out;
	}
	for (size_t s = 0; s < json_array_size(c->st->partitions); s++) {
		const json_t *spec = json_array_get(c->st->partitions, s);
		bool any = false;
		if ((r = check_spec_keys(c, spec, keys, nkeys)) != FL_OK)
			goto out;
		for (size_t i = 0; i < have; i++)
			if (spec_matches(spec, keys, nkeys, json_array_get(parts, i)))
				any = drop[i] = true;
		if (!any && !c->st->if_exists) {
			char shown[512];
			spec_text(spec, shown, sizeof shown);
			r = fl_error_set(c->err, FL_NOT_FOUND, "FAILED: SemanticException "
					 "[Error 10006]: Partition not found (%s)", shown);
			goto out;
		}
	}
	if ((r = begin(c)) != FL_OK)
		goto out;
	for (size_t i = 0; r == FL_OK && i < have; i++) {
		if (!drop[i])
			continue;
		char *vals = json_dumps(json_array_get(parts, i), JSON_COMPACT);
		const char *p[3] = { c->db, c->st->table, vals };
		if (!vals)
			r = nomem(c);
#define VALS_EQ " AND vals = ARRAY(SELECT e FROM jsonb_array_elements_text($3::jsonb)" \
	" WITH ORDINALITY AS a(e, i) ORDER BY i)"
		if (r == FL_OK)
			r = exec(c, "DELETE FROM fl_glue_partitions WHERE db = $1 AND tbl = $2"
				 VALS_EQ, 3, p, NULL);
		if (r == FL_OK)
			r = exec(c, "DELETE FROM fl_objects WHERE kind = 'crawled' AND db = $1 "
				 "AND tbl = $2" VALS_EQ, 3, p, NULL);
#undef VALS_EQ
		free(vals);
	}
	r = finish(c, r);
out:
	free(drop);
	json_decref(parts);
	json_decref(locs);
	json_decref(t);
	return r;
}

/* ---- MSCK REPAIR TABLE ------------------------------------------------------------- */

/* How a listed key sits in the table's layout: the length of its
 * partition folder ("k=v/k2=v2/", relative to the table's prefix) and
 * its values; false when it does not follow the keys. */
static bool folder_of(const char *rel, const char *const *keys, size_t nkeys,
		      char vals[][256], size_t *folder_len)
{
	const char *s = rel;
	for (size_t i = 0; i < nkeys; i++) {
		const char *slash = strchr(s, '/'), *eq = strchr(s, '=');
		size_t kl = strlen(keys[i]);
		if (!slash || !eq || eq > slash || (size_t)(eq - s) != kl)
			return false;
		for (size_t k = 0; k < kl; k++) {
			char ch = s[k] >= 'A' && s[k] <= 'Z' ? (char)(s[k] - 'A' + 'a') : s[k];
			if (ch != keys[i][k])
				return false;
		}
		if (!fl_ddl_path_value(eq + 1, (size_t)(slash - eq - 1), vals[i]))
			return false;
		s = slash + 1;
	}
	*folder_len = (size_t)(s - rel);
	return *s != '\0';
}

static enum fl_result msck_rows(struct ctx *c, char **added, size_t n)
{
	struct fl_buf line;
	enum fl_result r = FL_OK;
	fl_buf_init(&line, TEXT_MAX);
	if (n > 0) {
		r = fl_buf_adds(&line, "Partitions not in metastore:");
		for (size_t i = 0; r == FL_OK && i < n; i++)
			r = fl_buf_printf(&line, "\t%s:%s", c->st->table, added[i]);
		if (r == FL_OK)
			r = add_row1(c, line.data);
		else
			r = fl_error_set(c->err, r, "too many partitions for one answer");
	}
	for (size_t i = 0; r == FL_OK && i < n; i++) {
		fl_buf_reset(&line);
		r = fl_buf_printf(&line, "Repair: Added partition to metastore %s:%s",
				  c->st->table, added[i]);
		if (r == FL_OK)
			r = add_row1(c, line.data);
	}
	fl_buf_free(&line);
	return r;
}

/* The location (trailing '/' ignored) equals s3://bucket/prefix. */
static bool same_location(const char *loc, const char *bucket, const char *prefix,
			  size_t prefix_len)
{
	size_t bl = strlen(bucket), ll = strlen(loc);
	while (ll && loc[ll - 1] == '/')
		ll--;
	while (prefix_len && prefix[prefix_len - 1] == '/')
		prefix_len--;
	return ll == 5 + bl + (prefix_len ? 1 + prefix_len : 0) && strncmp(loc, "s3://", 5) == 0 &&
	       memcmp(loc + 5, bucket, bl) == 0 &&
	       (prefix_len == 0 || (loc[5 + bl] == '/' &&
				    memcmp(loc + 6 + bl, prefix, prefix_len) == 0));
}

static enum fl_result msck_repair(struct ctx *c)
{
	static const char *const cols[] = { "result" };
	json_t *t = NULL, *parts = NULL, *locs = NULL;
	const char *keys[FL_CATALOG_MAX_KEYS];
	size_t nkeys = 0, nadded = 0, skipped = 0;
	char bucket[64], prefix[1100];
	char (*vals)[256] = NULL;
	char **added = NULL, **known = NULL;
	struct listing l = { 0 };
	struct fl_buf name, path;
	fl_buf_init(&name, TEXT_MAX);
	fl_buf_init(&path, 4096);
	set_columns(c, cols, 1);
	enum fl_result r = load_table(c, &t);
	if (r != FL_OK || (r = table_keys(c, t, keys, &nkeys)) != FL_OK)
		goto out;
	if ((r = list_location(c, str_of(sd_of(t), "Location"), bucket, prefix, &l)) != FL_OK)
		goto out;
	if (nkeys == 0) {
		if ((r = begin(c)) == FL_OK)
			r = register_objects(c, bucket, &l, 0, l.n, NULL, 0, prefix);
		r = finish(c, r);
		goto out;
	}
	/* The partitions there are, by name, to look up. */
	if ((r = load_partitions(c, &parts, &locs)) != FL_OK)
		goto out;
	size_t have = json_array_size(parts);
	vals = calloc(nkeys, sizeof *vals);
	known = calloc(have + 1, sizeof *known);
	added = calloc(l.n + 1, sizeof *added);
	if (!vals || !known || !added) {
		r = nomem(c);
		goto out;
	}
	for (size_t i = 0; i < have; i++) {
		if ((r = partition_name_json(keys, nkeys, json_array_get(parts, i), &name)) != FL_OK ||
		    (r = fl_buf_printf(&name, "\n%zu", i)) != FL_OK || !(known[i] = strdup(name.data))) {
			r = r != FL_OK ? fl_error_set(c->err, r, "partition name too long") : nomem(c);
			goto out;
		}
	}
	qsort(known, have, sizeof *known, cmp_str);
	if ((r = begin(c)) != FL_OK)
		goto out;
	/* Keys come in byte order: the objects of one folder are a run. */
	for (size_t i = 0; r == FL_OK && i < l.n;) {
		size_t flen = 0, j = i + 1;
		const char *rel = l.v[i].key + l.plen;
		if (!folder_of(rel, keys, nkeys, vals, &flen)) {
			skipped++;
			i++;
			continue;
		}
		while (j < l.n && strncmp(l.v[j].key + l.plen, rel, flen) == 0)
			j++;
		const char *vp[FL_CATALOG_MAX_KEYS];
		for (size_t k = 0; k < nkeys; k++)
			vp[k] = vals[k];
		fl_buf_reset(&path);
		if ((r = fl_ddl_partition_name(keys, nkeys, vp, &name)) != FL_OK ||
		    (r = fl_buf_printf(&path, "%s%.*s", prefix, (int)flen, rel)) != FL_OK) {
			r = fl_error_set(c->err, r == FL_TOO_LARGE ? FL_INVALID : r,
					 "partition path too long");
			break;
		}
		/* Known: the name's entry, "name\n<index>", sorts right after it. */
		size_t lo = 0, hi = have, nl = name.len;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(known[mid], name.data) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		bool exists = lo < have && strncmp(known[lo], name.data, nl) == 0 &&
			      known[lo][nl] == '\n';
		if (!exists) {
			char loc[1200];
			snprintf(loc, sizeof loc, "s3://%s/%s", bucket, path.data);
			if (!(added[nadded] = strndup(rel, flen - 1))) {
				r = nomem(c);
				break;
			}
			nadded++;
			r = fl_catalog_add_partition(c->conn, c->db, c->st->table, vp, nkeys, loc,
						     c->err);
		} else {
			size_t idx = strtoul(known[lo] + nl + 1, NULL, 10);
			const char *ploc = json_string_value(json_array_get(locs, idx));
			/* Objects of a partition that reads from elsewhere are not its. */
			if (!ploc || !same_location(ploc, bucket, path.data, path.len)) {
				i = j;
				continue;
			}
		}
		if (r == FL_OK)
			r = register_objects(c, bucket, &l, i, j, vp, nkeys, path.data);
		i = j;
	}
	r = finish(c, r);
	if (skipped)
		fl_info("MSCK REPAIR TABLE %s.%s: %zu objects outside the partition layout",
			c->db, c->st->table, skipped);
	if (r == FL_OK)
		r = msck_rows(c, added, nadded);
out:
	for (size_t i = 0; added && i < nadded; i++)
		free(added[i]);
	for (size_t i = 0; known && parts && i < json_array_size(parts); i++)
		free(known[i]);
	free(added);
	free(known);
	free(vals);
	listing_free(&l);
	fl_buf_free(&name);
	fl_buf_free(&path);
	json_decref(parts);
	json_decref(locs);
	json_decref(t);
	return r;
}

/* ---- DROP ---------------------------------------------------------------------------- */

static enum fl_result drop_table(struct ctx *c)
{
	PGresult *res = NULL;
	const char *p[2] = { c->db, c->st->table };
	enum fl_result r = begin(c);
	if (r == FL_OK)
		r = exec(c, "DELETE FROM fl_glue_tables WHERE db = $1 AND name = $2 RETURNING 1",
			 2, p, &res);
	if (r == FL_OK && PQntuples(res) == 0 && !c->st->if_exists)
		r = table_not_found(c);
	if (r == FL_OK)
		r = exec(c, "DELETE FROM fl_objects WHERE kind = 'crawled' AND db = $1 AND tbl = $2",
			 2, p, NULL);
	PQclear(res);
	return finish(c, r);
}

static enum fl_result drop_database(struct ctx *c)
{
	PGresult *res = NULL;
	const char *p[1] = { c->db };
	if (strcmp(c->db, FL_CATALOG_DEFAULT_DB) == 0)
		return fl_error_set(c->err, FL_INVALID, DDL_TASK "MetaException(message:Can not "
				    "drop default database)");
	enum fl_result r = begin(c);
	if (r == FL_OK)
		r = exec(c, "SELECT (SELECT count(*) FROM fl_glue_tables WHERE db = $1) "
			 "FROM fl_glue_databases WHERE name = $1 FOR UPDATE", 1, p, &res);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = c->st->if_exists ? FL_OK : db_not_found(c);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0 && !c->st->cascade) {
		r = fl_error_set(c->err, FL_INVALID, DDL_TASK "InvalidOperationException(message:"
				 "Database %s is not empty. One or more tables exist.)", c->db);
		goto out;
	}
	/* Its tables and their partitions go with it (ON DELETE CASCADE). */
	if ((r = exec(c, "DELETE FROM fl_glue_databases WHERE name = $1", 1, p, NULL)) == FL_OK)
		r = exec(c, "DELETE FROM fl_objects WHERE kind = 'crawled' AND db = $1", 1, p, NULL);
out:
	PQclear(res);
	return finish(c, r);
}

/* ---- the statement --------------------------------------------------------------------- */

static enum fl_result run(struct ctx *c)
{
	switch (c->st->kind) {
	case FL_DDL_SHOW_DATABASES: return show_databases(c);
	case FL_DDL_SHOW_TABLES: return show_tables(c);
	case FL_DDL_SHOW_PARTITIONS: return show_partitions(c);
	case FL_DDL_SHOW_COLUMNS: return show_columns(c);
	case FL_DDL_SHOW_CREATE_TABLE: return show_create_table(c);
	case FL_DDL_SHOW_TBLPROPERTIES: return show_tblproperties(c);
	case FL_DDL_DESCRIBE: return describe(c);
	case FL_DDL_CREATE_DATABASE: return create_database(c);
	case FL_DDL_CREATE_TABLE: return create_table(c);
	case FL_DDL_MSCK_REPAIR: return msck_repair(c);
	case FL_DDL_ADD_PARTITIONS: return add_partitions(c);
	case FL_DDL_DROP_PARTITIONS: return drop_partitions(c);
	case FL_DDL_DROP_TABLE: return drop_table(c);
	case FL_DDL_DROP_DATABASE: return drop_database(c);
	}
	return fl_error_set(c->err, FL_INTERNAL, "unknown statement kind %d", (int)c->st->kind);
}

enum fl_result fl_ddl_run(struct fl_server *srv, const char *sql, const char *db,
			  json_t **columns, json_t **rows, struct fl_error *err)
{
	struct fl_ddl_stmt *st = NULL;
	struct ctx c;
	memset(&c, 0, sizeof c);
	c.srv = srv;
	c.err = err;
	*columns = NULL;
	*rows = NULL;
	enum fl_result r = fl_ddl_parse(sql, &st, err);
	if (r != FL_OK)
		goto out;
	c.st = st;
	if (st->db[0])
		memcpy(c.db, st->db, sizeof c.db);
	else if ((r = fl_catalog_name(db && *db ? db : FL_CATALOG_DEFAULT_DB, "database name",
				      c.db, err)) != FL_OK)
		goto out;
	if (!(c.rows = json_array())) {
		r = nomem(&c);
		goto out;
	}
	if ((r = fl_db_acquire(srv->db, &c.conn, err)) != FL_OK)
		goto out;
	r = run(&c);
	if (r == FL_OK && !(*columns = column_info(c.cols, c.ncols)))
		r = nomem(&c);
	if (r == FL_OK) {
		*rows = c.rows;
		c.rows = NULL;
	}
out:
	if (c.conn)
		fl_db_release(srv->db, c.conn);
	json_decref(c.rows);
	fl_ddl_stmt_free(st);
	return r;
}
