/*
 * glue.c - the Glue Data Catalog API: databases, tables, and the router
 * of every AWSGlue.<Op>.
 *
 * DESIGN
 *
 * Each handler has the same four steps: check the request against
 * botocore's model (awsshape.h), turn every name it carries into a Glue
 * name (fl_catalog_name: lower case [a-z0-9_], else InvalidInputException),
 * run one statement, or a few inside one transaction, with values as
 * parameters only, and write Glue's output shape.  Names never reach SQL
 * text; documents travel as text parameters cast to jsonb.
 *
 * A database row keeps its DatabaseInput without Name, a table row its
 * TableInput without Name (sql/0002_glue.sql), so Get* answers what
 * Create* and Update* were given, plus what Glue adds: CreateTime,
 * CatalogId, the default CreateTableDefaultPermissions of a database
 * (IAM_ALLOWED_PRINCIPALS / ALL, as a new Glue account has), and for a
 * table DatabaseName, UpdateTime, VersionId and
 * IsRegisteredWithLakeFormation.  Column and partition-key names are
 * stored lower-cased: they become PostgreSQL identifiers in the query
 * engine.
 *
 * Existence checks ride on the writes themselves: an insert that finds
 * no database inserts nothing, a unique violation is "already exists",
 * an update or delete that touches no row is "not found"; only then is
 * the database looked up, for Glue's message ("Database x not found."
 * before "Table x not found.").  Deleting a database or a table deletes
 * what is under it through the schema's ON DELETE CASCADE.
 *
 * Listing pages by key (ORDER BY name, name > last), never by OFFSET:
 * a NextToken is the last name of the page (fl_catalog_token_encode), and
 * the last page has none.  One row past the page is read to know whether
 * another page follows.
 *
 * VersionId: every UpdateTable makes a new version (version_id + 1);
 * a request's VersionId, when given, must be the current one, checked in
 * the UPDATE itself, else ConcurrentModificationException.  Old versions
 * are not kept, so SkipArchive changes nothing.
 */
#include "glue.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsjson.h"
#include "awsshape.h"
#include "buf.h"
#include "catalog.h"
#include "crawler.h"
#include "db.h"
#include "glue_expr.h"
#include "server.h"

#define GLUE_CATALOG_ID "000000000000"
#define GLUE_PAGE_DEFAULT 100
#define GLUE_TOKEN_MAX 1024             /* a name of 255 bytes, base64url */
#define GLUE_PATTERN_MAX 16384          /* GetTables' expression as a regex */
/* Enough digits that epoch seconds with microseconds survive. */
#define GLUE_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(16))

/* ---- requests and answers ------------------------------------------------ */

/* MaxResults, or the default page. */
static size_t page_size(const json_t *in)
{
	const json_t *m = json_object_get(in, "MaxResults");
	json_int_t n = json_is_integer(m) ? json_integer_value(m) : 0;
	return n >= 1 && n <= 1000 ? (size_t)n : GLUE_PAGE_DEFAULT;
}

/* The last key of the previous page from NextToken; *has false without one. */
static enum fl_result page_after(const json_t *in, char *key, size_t n, bool *has,
				 struct fl_error *err)
{
	const json_t *t = json_object_get(in, "NextToken");
	*has = false;
	if (!t || (json_is_string(t) && json_string_length(t) == 0))
		return FL_OK;
	if (!json_is_string(t))
		return fl_error_set(err, FL_MALFORMED, "NextToken must be a string");
	enum fl_result r = fl_catalog_token_decode(json_string_value(t), key, n, err);
	if (r != FL_OK)
		return r;
	*has = true;
	return FL_OK;
}

/* Sets out's NextToken to the token of last_key. */
static enum fl_result set_token(json_t *out, const char *last_key, struct fl_error *err)
{
	char token[GLUE_TOKEN_MAX];
	if (fl_catalog_token_encode(last_key, token, sizeof token) != FL_OK)
		return fl_error_set(err, FL_INTERNAL, "cannot encode a pagination token");
	if (json_object_set_new(out, "NextToken", json_string(token)) != 0)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	return FL_OK;
}

/* The JSON document in a result's text column, or an empty object. */
static json_t *load_text(const char *text)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	if (!json_is_object(v)) {
		json_decref(v);
		v = json_object();
	}
	return v;
}

static double epoch_of(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0.0 : strtod(PQgetvalue(res, row, col), NULL);
}

static enum fl_result exec0(PGconn *conn, const char *sql, struct fl_error *err)
{
	return fl_db_exec(conn, sql, 0, NULL, NULL, err);
}

/* Ends a transaction that failed, keeping the first error's text. */
static void rollback(PGconn *conn)
{
	struct fl_error ignored;
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		(void)exec0(conn, "ROLLBACK", &ignored);
}

/* FL_OK when the database exists, else Glue's EntityNotFoundException. */
static enum fl_result database_exists(PGconn *conn, const char *db, struct fl_error *err)
{
	PGresult *res = NULL;
	const char *p[1] = { db };
	enum fl_result r = fl_db_exec(conn, "SELECT 1 FROM fl_glue_databases WHERE name = $1",
				      1, p, &res, err);
	if (r == FL_OK && PQntuples(res) == 0)
		r = fl_error_set(err, FL_NOT_FOUND, "Database %s not found.", db);
	PQclear(res);
	return r;
}

/* The error of a table that a statement did not find. */
static enum fl_result table_missing(PGconn *conn, const char *db, const char *name,
				    struct fl_error *err)
{
	enum fl_result r = database_exists(conn, db, err);
	return r != FL_OK ? r : fl_error_set(err, FL_NOT_FOUND, "Table %s not found.", name);
}

/* ---- inputs ---------------------------------------------------------------- */

/* Lower-cases the Name of each column of a ColumnList (in place); a name
 * that is not a Glue name is FL_INVALID. */
static enum fl_result columns(json_t *list, const char *what, struct fl_error *err)
{
	size_t i;
	json_t *c;
	if (!list)
		return FL_OK;
	if (!json_is_array(list))
		return fl_error_set(err, FL_MALFORMED, "%s must be a list", what);
	json_array_foreach(list, i, c) {
		char name[256];
		enum fl_result r = fl_awsjson_glue_name(c, "Name", "name", what, name, err);
		if (r != FL_OK)
			return r;
		if (json_object_set_new(c, "Name", json_string(name)) != 0)
			return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	return FL_OK;
}

/* A DatabaseInput / TableInput: its Glue name, and a copy without Name
 * (caller owns *spec) that is what the row keeps. */
static enum fl_result input_spec(const json_t *in, const char *member, const char *path,
				 const char *what, char name[256], json_t **spec,
				 struct fl_error *err)
{
	const json_t *input = json_object_get(in, member);
	char name_path[64];
	*spec = NULL;
	if (!input)
		return fl_awsjson_not_null(path, err);
	if (!json_is_object(input))
		return fl_error_set(err, FL_MALFORMED, "%s must be a structure", member);
	snprintf(name_path, sizeof name_path, "%s.name", path);
	enum fl_result r = fl_awsjson_glue_name(input, "Name", name_path, what, name, err);
	if (r != FL_OK)
		return r;
	if ((r = fl_awsjson_no_nul(input, err)) != FL_OK)
		return r;
	json_t *copy = json_deep_copy(input);
	if (!copy)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	json_object_del(copy, "Name");
	*spec = copy;
	return FL_OK;
}

/* A TableInput: input_spec plus Glue names for its columns and keys. */
static enum fl_result table_spec(const json_t *in, char name[256], json_t **spec,
				 struct fl_error *err)
{
	enum fl_result r = input_spec(in, "TableInput", "tableInput", "table name", name, spec, err);
	if (r != FL_OK)
		return r;
	json_t *sd = json_object_get(*spec, "StorageDescriptor");
	if (json_is_object(sd))
		r = columns(json_object_get(sd, "Columns"), "column name", err);
	if (r == FL_OK)
		r = columns(json_object_get(*spec, "PartitionKeys"), "partition key name", err);
	if (r != FL_OK) {
		json_decref(*spec);
		*spec = NULL;
	}
	return r;
}

/* A second name member (CreateTable/UpdateTable's Name) must agree with
 * the one of the input when both are given. */
static enum fl_result same_name(const json_t *in, const char *member, const char *what,
				const char *name, struct fl_error *err)
{
	char other[256];
	if (!json_object_get(in, member))
		return FL_OK;
	enum fl_result r = fl_awsjson_glue_name(in, member, "name", what, other, err);
	if (r == FL_OK && strcmp(other, name) != 0)
		r = fl_error_set(err, FL_INVALID, "%s %s does not match the name %s of the input",
				 member, other, name);
	return r;
}

/* ---- databases ------------------------------------------------------------- */

static json_t *database_json(const char *name, const char *spec_text, double created_s)
{
	json_t *d = load_text(spec_text);
	if (!d)
		return NULL;
	json_object_del(d, "Name");
	if (!json_object_get(d, "CreateTableDefaultPermissions"))
		json_object_set_new(d, "CreateTableDefaultPermissions",
				    json_pack("[{s:{s:s}, s:[s]}]", "Principal",
					      "DataLakePrincipalIdentifier", "IAM_ALLOWED_PRINCIPALS",
					      "Permissions", "ALL"));
	if (json_object_set_new(d, "Name", json_string(name)) != 0 ||
	    json_object_set_new(d, "CreateTime", json_real(created_s)) != 0 ||
	    json_object_set_new(d, "CatalogId", json_string(GLUE_CATALOG_ID)) != 0) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* Only the members AttributesToGet asks for (Name always). */
static void keep_attributes(json_t *obj, const json_t *in, const char *attr, const char *member)
{
	const json_t *want = json_object_get(in, "AttributesToGet");
	const char *key;
	void *tmp;
	json_t *v;
	size_t i;
	bool keep_member = false;
	if (!json_is_array(want))
		return;
	json_array_foreach(want, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), attr) == 0)
			keep_member = true;
	json_object_foreach_safe(obj, tmp, key, v)
		if (strcmp(key, "Name") != 0 && !(keep_member && strcmp(key, member) == 0))
			json_object_del(obj, key);
}

static enum fl_result create_database(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *spec = NULL;
	PGconn *conn = NULL;
	char *text = NULL;
	char name[256];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = input_spec(in, "DatabaseInput", "databaseInput", "database name", name, &spec,
			    err)) != FL_OK)
		goto out;
	if (!(text = json_dumps(spec, GLUE_JSON_FLAGS))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	const char *p[2] = { name, text };
	r = fl_db_exec(conn, "INSERT INTO fl_glue_databases (name, spec) VALUES ($1, $2::jsonb)",
		       2, p, NULL, err);
	if (r == FL_EXISTS)
		r = fl_error_set(err, FL_EXISTS, "Database already exists.");
	if (r == FL_OK)
		r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	fl_db_release(req->srv->db, conn);
	free(text);
	json_decref(spec);
	json_decref(in);
	return r;
}

static enum fl_result get_database(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char name[256];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "Name", "name", "database name", name, err)) != FL_OK)
		goto out;
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	const char *p[1] = { name };
	r = fl_db_exec(conn, "SELECT spec::text, extract(epoch FROM created_at)::float8 "
			     "FROM fl_glue_databases WHERE name = $1", 1, p, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, "Database %s not found.", name);
		goto out;
	}
	json_t *d = database_json(name, PQgetvalue(res, 0, 0), epoch_of(res, 0, 1));
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS,
			     d ? json_pack("{s:o}", "Database", d) : NULL, err);
out:
	PQclear(res);
	fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

static enum fl_result get_databases(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *out = NULL, *list = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char after[512], limit[32];
	bool has_after = false;
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = page_after(in, after, sizeof after, &has_after, err)) != FL_OK)
		goto out;
	size_t page = page_size(in);
	snprintf(limit, sizeof limit, "%zu", page + 1);
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	const char *p[2] = { has_after ? after : NULL, limit };
	r = fl_db_exec(conn, "SELECT name, spec::text, extract(epoch FROM created_at)::float8 "
			     "FROM fl_glue_databases WHERE ($1::text IS NULL OR name > $1) "
			     "ORDER BY name LIMIT $2::int", 2, p, &res, err);
	if (r != FL_OK)
		goto out;
	out = json_object();
	list = json_array();
	if (!out || !list || json_object_set(out, "DatabaseList", list) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	size_t n = (size_t)PQntuples(res);
	for (size_t i = 0; i < n && i < page; i++) {
		json_t *d = database_json(PQgetvalue(res, (int)i, 0), PQgetvalue(res, (int)i, 1),
					  epoch_of(res, (int)i, 2));
		if (d)
			keep_attributes(d, in, "TARGET_DATABASE", "TargetDatabase");
		if (!d || json_array_append_new(list, d) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (n > page && (r = set_token(out, PQgetvalue(res, (int)page - 1, 0), err)) != FL_OK)
		goto out;
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, out, err);
	out = NULL;
out:
	PQclear(res);
	fl_db_release(req->srv->db, conn);
	json_decref(list);
	json_decref(out);
	json_decref(in);
	return r;
}

static enum fl_result update_database(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *spec = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char *text = NULL;
	char name[256], new_name[256];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "Name", "name", "database name", name, err)) != FL_OK)
		goto out;
	if ((r = input_spec(in, "DatabaseInput", "databaseInput", "database name", new_name,
			    &spec, err)) != FL_OK)
		goto out;
	if (strcmp(name, new_name) != 0) {
		r = fl_error_set(err, FL_INVALID, "A database cannot be renamed: DatabaseInput.Name "
				 "must be %s", name);
		goto out;
	}
	if (!(text = json_dumps(spec, GLUE_JSON_FLAGS))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	const char *p[2] = { name, text };
	r = fl_db_exec(conn, "UPDATE fl_glue_databases SET spec = $2::jsonb WHERE name = $1 "
			     "RETURNING 1", 2, p, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, "Database %s not found.", name);
		goto out;
	}
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	PQclear(res);
	fl_db_release(req->srv->db, conn);
	free(text);
	json_decref(spec);
	json_decref(in);
	return r;
}

static enum fl_result delete_database(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char name[256];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "Name", "name", "database name", name, err)) != FL_OK)
		goto out;
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	const char *p[1] = { name };
	/* Tables and their partitions go with it (ON DELETE CASCADE). */
	r = fl_db_exec(conn, "DELETE FROM fl_glue_databases WHERE name = $1 RETURNING 1",
		       1, p, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, "Database %s not found.", name);
		goto out;
	}
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	PQclear(res);
	fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

/* ---- tables ---------------------------------------------------------------- */

json_t *fl_glue_table_json(const char *db, const char *name, const json_t *spec,
			   double created_s, double updated_s, long long version_id)
{
	char version[32];
	json_t *t = json_is_object(spec) ? json_deep_copy(spec) : json_object();
	if (!t)
		return NULL;
	snprintf(version, sizeof version, "%lld", version_id);
	json_object_del(t, "Name");
	if (!json_object_get(t, "PartitionKeys") &&
	    json_object_set_new(t, "PartitionKeys", json_array()) != 0)
		goto fail;
	if (json_object_set_new(t, "Name", json_string(name)) != 0 ||
	    json_object_set_new(t, "DatabaseName", json_string(db)) != 0 ||
	    json_object_set_new(t, "CreateTime", json_real(created_s)) != 0 ||
	    json_object_set_new(t, "UpdateTime", json_real(updated_s)) != 0 ||
	    json_object_set_new(t, "VersionId", json_string(version)) != 0 ||
	    json_object_set_new(t, "CatalogId", json_string(GLUE_CATALOG_ID)) != 0 ||
	    json_object_set_new(t, "IsRegisteredWithLakeFormation", json_false()) != 0)
		goto fail;
	return t;
fail:
	json_decref(t);
	return NULL;
}

#define TABLE_COLUMNS "name, spec::text, extract(epoch FROM created_at)::float8, " \
	"extract(epoch FROM updated_at)::float8, version_id"

/* The Table shape of row i of a TABLE_COLUMNS result. */
static json_t *table_row(const char *db, const PGresult *res, int i)
{
	json_t *spec = load_text(PQgetvalue(res, i, 1));
	json_t *t = spec ? fl_glue_table_json(db, PQgetvalue(res, i, 0), spec, epoch_of(res, i, 2),
					      epoch_of(res, i, 3),
					      strtoll(PQgetvalue(res, i, 4), NULL, 10))
			 : NULL;
	json_decref(spec);
	return t;
}

/* A name as stored (ASCII lower case); false when it cannot be one. */
static bool lower_name(const char *in, char out[256])
{
	size_t n = in ? strnlen(in, 256) : 256;
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return true;
}

enum fl_result fl_glue_table_load(PGconn *conn, const char *db, const char *name,
				  json_t **out, struct fl_error *err)
{
	PGresult *res = NULL;
	char d[256], t[256];
	enum fl_result r;
	*out = NULL;
	if (!lower_name(db, d))
		return fl_error_set(err, FL_NOT_FOUND, "Database %.255s not found.", db ? db : "");
	if (!lower_name(name, t))
		return fl_error_set(err, FL_NOT_FOUND, "Table %.255s not found.", name ? name : "");
	const char *p[2] = { d, t };
	r = fl_db_exec(conn, "SELECT " TABLE_COLUMNS " FROM fl_glue_tables "
			     "WHERE db = $1 AND name = $2", 2, p, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = table_missing(conn, d, t, err);
		goto out;
	}
	if (!(*out = table_row(d, res, 0)))
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
out:
	PQclear(res);
	return r;
}

static enum fl_result create_table(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *spec = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char *text = NULL;
	char db[256], name[256];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "DatabaseName", "databaseName", "database name", db,
				      err)) != FL_OK)
		goto out;
	if ((r = table_spec(in, name, &spec, err)) != FL_OK)
		goto out;
	if ((r = same_name(in, "Name", "table name", name, err)) != FL_OK)
		goto out;
	if (!(text = json_dumps(spec, GLUE_JSON_FLAGS))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	const char *p[3] = { db, name, text };
	r = fl_db_exec(conn, "INSERT INTO fl_glue_tables (db, name, spec) "
			     "SELECT $1, $2, $3::jsonb FROM fl_glue_databases WHERE name = $1 "
			     "RETURNING 1", 3, p, &res, err);
	if (r == FL_EXISTS)
		r = fl_error_set(err, FL_EXISTS, "Table already exists.");
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, "Database %s not found.", db);
		goto out;
	}
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	PQclear(res);
	fl_db_release(req->srv->db, conn);
	free(text);
	json_decref(spec);
	json_decref(in);
	return r;
}

static enum fl_result get_table(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *t = NULL;
	PGconn *conn = NULL;
	char db[256], name[256];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "DatabaseName", "databaseName", "database name", db,
				      err)) != FL_OK ||
	    (r = fl_awsjson_glue_name(in, "Name", "name", "table name", name, err)) != FL_OK)
		goto out;
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	if ((r = fl_glue_table_load(conn, db, name, &t, err)) != FL_OK)
		goto out;
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_pack("{s:o}", "Table", t), err);
	t = NULL;
out:
	fl_db_release(req->srv->db, conn);
	json_decref(t);
	json_decref(in);
	return r;
}

static enum fl_result get_tables(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *out = NULL, *list = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct fl_buf pattern;
	char db[256], after[512], limit[32];
	bool has_after = false;
	fl_buf_init(&pattern, GLUE_PATTERN_MAX);
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "DatabaseName", "databaseName", "database name", db,
				      err)) != FL_OK)
		goto out;
	const json_t *expr = json_object_get(in, "Expression");
	if (expr && !json_is_string(expr)) {
		r = fl_error_set(err, FL_MALFORMED, "Expression must be a string");
		goto out;
	}
	bool filtered = expr && json_string_length(expr) > 0;
	if (filtered && (r = fl_glue_table_pattern(json_string_value(expr), &pattern, err)) != FL_OK)
		goto out;
	if ((r = page_after(in, after, sizeof after, &has_after, err)) != FL_OK)
		goto out;
	size_t page = page_size(in);
	snprintf(limit, sizeof limit, "%zu", page + 1);
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	if ((r = database_exists(conn, db, err)) != FL_OK)
		goto out;
	const char *p[4] = { db, has_after ? after : NULL, filtered ? pattern.data : NULL, limit };
	r = fl_db_exec(conn, "SELECT " TABLE_COLUMNS " FROM fl_glue_tables WHERE db = $1 "
			     "AND ($2::text IS NULL OR name > $2) AND ($3::text IS NULL OR name ~ $3) "
			     "ORDER BY name LIMIT $4::int", 4, p, &res, err);
	if (r == FL_INTERNAL && filtered) { /* a regex PostgreSQL would not take */
		char why[FL_ERROR_MAX];
		snprintf(why, sizeof why, "%s", err->msg);
		r = fl_error_set(err, FL_INVALID, "Invalid Expression: %.900s", why);
	}
	if (r != FL_OK)
		goto out;
	out = json_object();
	list = json_array();
	if (!out || !list || json_object_set(out, "TableList", list) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	size_t n = (size_t)PQntuples(res);
	for (size_t i = 0; i < n && i < page; i++) {
		json_t *t = table_row(db, res, (int)i);
		if (t)
			keep_attributes(t, in, "TABLE_TYPE", "TableType");
		if (!t || json_array_append_new(list, t) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (n > page && (r = set_token(out, PQgetvalue(res, (int)page - 1, 0), err)) != FL_OK)
		goto out;
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, out, err);
	out = NULL;
out:
	PQclear(res);
	fl_db_release(req->srv->db, conn);
	fl_buf_free(&pattern);
	json_decref(list);
	json_decref(out);
	json_decref(in);
	return r;
}

/* UpdateTable's VersionId as a number; -1 (matches no row) when it is not one. */
static void version_param(const json_t *v, char out[32])
{
	const char *s = json_string_value(v);
	char *end = NULL;
	errno = 0;
	long long n = s && *s ? strtoll(s, &end, 10) : -1;
	if (!s || !*s || errno || *end || n < 0)
		n = -1;
	snprintf(out, 32, "%lld", n);
}

static enum fl_result update_table(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *spec = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char *text = NULL;
	char db[256], name[256], version[32];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "DatabaseName", "databaseName", "database name", db,
				      err)) != FL_OK)
		goto out;
	if ((r = table_spec(in, name, &spec, err)) != FL_OK)
		goto out;
	if ((r = same_name(in, "Name", "table name", name, err)) != FL_OK)
		goto out;
	const json_t *v = json_object_get(in, "VersionId");
	if (v)
		version_param(v, version);
	if (!(text = json_dumps(spec, GLUE_JSON_FLAGS))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	/* SkipArchive: no versions are archived, so there is nothing to skip. */
	const char *p[4] = { db, name, text, v ? version : NULL };
	r = fl_db_exec(conn, "UPDATE fl_glue_tables SET spec = $3::jsonb, "
			     "version_id = version_id + 1, updated_at = now() "
			     "WHERE db = $1 AND name = $2 AND ($4::bigint IS NULL OR version_id = $4) "
			     "RETURNING 1", 4, p, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		json_t *t = NULL;
		r = fl_glue_table_load(conn, db, name, &t, err);
		json_decref(t);
		if (r == FL_OK) /* it exists: the version was not the current one */
			r = fl_error_set(err, FL_CONFLICT, "Update table failed due to concurrent "
					 "modifications: VersionId %s is not the current version.",
					 json_string_value(v) ? json_string_value(v) : "");
		goto out;
	}
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	PQclear(res);
	fl_db_release(req->srv->db, conn);
	free(text);
	json_decref(spec);
	json_decref(in);
	return r;
}

static enum fl_result delete_table(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char db[256], name[256];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "DatabaseName", "databaseName", "database name", db,
				      err)) != FL_OK ||
	    (r = fl_awsjson_glue_name(in, "Name", "name", "table name", name, err)) != FL_OK)
		goto out;
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	const char *p[2] = { db, name };
	/* Its partitions go with it (ON DELETE CASCADE). */
	r = fl_db_exec(conn, "DELETE FROM fl_glue_tables WHERE db = $1 AND name = $2 RETURNING 1",
		       2, p, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = table_missing(conn, db, name, err);
		goto out;
	}
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	PQclear(res);
	fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

/* Appends a TableError for one entry of BatchDeleteTable. */
static enum fl_result table_error(json_t *errors, const char *table, const char *code,
				  const char *msg, struct fl_error *err)
{
	json_t *e = json_pack("{s:s%, s:{s:s, s:s}}", "TableName", table, strlen(table),
			      "ErrorDetail", "ErrorCode", code, "ErrorMessage", msg);
	if (!e || json_array_append_new(errors, e) != 0)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	return FL_OK;
}

static enum fl_result batch_delete_table(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *errors = NULL;
	PGconn *conn = NULL;
	char db[256];
	enum fl_result r = fl_awsjson_parse_glue(req, &in, err);
	if (r != FL_OK)
		goto out;
	if ((r = fl_awsjson_glue_name(in, "DatabaseName", "databaseName", "database name", db,
				      err)) != FL_OK)
		goto out;
	const json_t *names = json_object_get(in, "TablesToDelete");
	if (!names) {
		r = fl_awsjson_not_null("tablesToDelete", err);
		goto out;
	}
	if (!json_is_array(names)) {
		r = fl_error_set(err, FL_MALFORMED, "TablesToDelete must be a list");
		goto out;
	}
	if (!(errors = json_array())) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	if ((r = exec0(conn, "BEGIN", err)) != FL_OK)
		goto out;
	/* The database stays while its tables are deleted one by one. */
	const char *pdb[1] = { db };
	PGresult *res = NULL;
	r = fl_db_exec(conn, "SELECT 1 FROM fl_glue_databases WHERE name = $1 FOR KEY SHARE",
		       1, pdb, &res, err);
	bool found = r == FL_OK && PQntuples(res) > 0;
	PQclear(res);
	if (r != FL_OK)
		goto out;
	if (!found) {
		r = fl_error_set(err, FL_NOT_FOUND, "Database %s not found.", db);
		goto out;
	}
	size_t i;
	const json_t *v;
	json_array_foreach(names, i, v) {
		char name[256], msg[320];
		struct fl_error e;
		const char *raw = json_is_string(v) ? json_string_value(v) : "";
		if (fl_catalog_name(raw, "table name", name, &e) != FL_OK) {
			if ((r = table_error(errors, raw, "InvalidInputException", e.msg, err)) != FL_OK)
				goto out;
			continue;
		}
		const char *p[2] = { db, name };
		res = NULL;
		r = fl_db_exec(conn, "DELETE FROM fl_glue_tables WHERE db = $1 AND name = $2 "
				     "RETURNING 1", 2, p, &res, err);
		found = r == FL_OK && PQntuples(res) > 0;
		PQclear(res);
		if (r != FL_OK)
			goto out;
		if (!found) {
			snprintf(msg, sizeof msg, "Table %s not found.", name);
			if ((r = table_error(errors, name, "EntityNotFoundException", msg, err)) != FL_OK)
				goto out;
		}
	}
	if ((r = exec0(conn, "COMMIT", err)) != FL_OK)
		goto out;
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_pack("{s:O}", "Errors", errors), err);
out:
	if (conn)
		rollback(conn);
	fl_db_release(req->srv->db, conn);
	json_decref(errors);
	json_decref(in);
	return r;
}

/* ---- router ---------------------------------------------------------------- */

static const struct {
	const char *op;
	fl_handler_fn fn;
} glue_ops[] = {
	{ "BatchDeleteTable", batch_delete_table },
	{ "CreateDatabase", create_database },
	{ "CreateTable", create_table },
	{ "DeleteDatabase", delete_database },
	{ "DeleteTable", delete_table },
	{ "GetDatabase", get_database },
	{ "GetDatabases", get_databases },
	{ "GetTable", get_table },
	{ "GetTables", get_tables },
	{ "UpdateDatabase", update_database },
	{ "UpdateTable", update_table },
};

fl_handler_fn fl_glue_handler(const char *op)
{
	if (!op)
		return NULL;
	for (size_t i = 0; i < sizeof glue_ops / sizeof glue_ops[0]; i++)
		if (strcmp(glue_ops[i].op, op) == 0)
			return glue_ops[i].fn;
	fl_handler_fn fn = fl_glue_partition_handler(op);
	return fn ? fn : fl_crawler_handler(op);
}
