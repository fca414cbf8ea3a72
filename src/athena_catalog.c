/*
 * athena_catalog.c - Athena's views of the Glue catalog: ListDataCatalogs,
 * GetDataCatalog, ListDatabases, GetDatabase, ListTableMetadata,
 * GetTableMetadata.
 *
 * DESIGN: firelake has one data catalog, AwsDataCatalog, of type GLUE:
 * the Glue databases and tables of sql/0002_glue.sql.  Athena answers
 * from the same rows as the Glue API, so these handlers only read and
 * reshape:
 *
 *   Glue Database {Name, Description, LocationUri, Parameters ...}
 *     -> Athena Database {Name, Description, Parameters}
 *   Glue Table (fl_glue_table_json) -> Athena TableMetadata {Name,
 *     CreateTime, LastAccessTime, TableType, Columns, PartitionKeys,
 *     Parameters}, where Athena flattens the storage descriptor into the
 *     parameters as it does against AWS Glue: the table's Parameters, then
 *     "location", "inputformat", "outputformat" from the descriptor,
 *     "serde.serialization.lib" from its SerdeInfo and each SerDe parameter
 *     as "serde.param.<key>".  Columns keep Name, Type and Comment; times
 *     are whole seconds (Athena reads them through the Hive metastore).
 *
 * Catalog names compare case-insensitively ("awsdatacatalog" is the name
 * SQL engines use); database and table names are Glue's lower-case names,
 * so a name that cannot be one (fl_catalog_name refuses it) simply does
 * not exist.  Errors as Athena words them: an unknown catalog is an
 * InvalidRequestException "DataCatalog <name> was not found"; a missing
 * database or table is a MetadataException carrying Glue's
 * EntityNotFoundException in Athena's envelope "... (Service:
 * AmazonDataCatalog; Status Code: 400; Error Code: EntityNotFoundException;
 * Request ID: <id>; Proxy: null)".  Lists page with keyset tokens
 * (fl_catalog_token_*: the last name of the page), at most 50 a page as
 * the model's MaxResults ranges say; no NextToken on the last page.
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "athena.h"
#include "awsjson.h"
#include "awsshape.h"
#include "catalog.h"
#include "db.h"
#include "glue.h"
#include "glue_expr.h"
#include "server.h"
#include "stream.h"

#define PAGE_MAX 50              /* MaxDatabasesCount, MaxTableMetadataCount, MaxDataCatalogsCount */
#define TOKEN_MAX 1025           /* the model's Token: 1-1024 */
#define PATTERN_MAX 16384        /* the ERE of a 256-byte Expression */
#define SERDE_PARAM "serde.param."

/* ---- requests and answers -------------------------------------------------- */

/* The request's catalog must be ours. */
static enum fl_result check_catalog(const json_t *in, const char *name, struct fl_error *err)
{
	const char *catalog = fl_awsjson_member(in, name);
	if (!catalog)
		return fl_error_set(err, FL_VALIDATION, "1 validation error detected: Value null at "
				    "'%s' failed to satisfy constraint: Member must not be null",
				    strcmp(name, "Name") == 0 ? "name" : "catalogName");
	if (strcasecmp(catalog, FL_ATHENA_CATALOG) != 0)
		return fl_error_set_type(err, FL_NOT_FOUND, "InvalidRequestException",
					 "DataCatalog %s was not found", catalog);
	return FL_OK;
}

/* Glue's EntityNotFoundException as Athena passes it on. */
static enum fl_result metadata_not_found(const struct fl_req *req, const char *what,
					 struct fl_error *err)
{
	return fl_error_set_type(err, FL_NOT_FOUND, "MetadataException",
				 "%s (Service: AmazonDataCatalog; Status Code: 400; Error Code: "
				 "EntityNotFoundException; Request ID: %s; Proxy: null)",
				 what, req->request_id);
}

/* The Glue name of a request's database or table; false when the text
 * cannot name one (then nothing by that name exists). */
static bool glue_name(const char *in, char out[256])
{
	struct fl_error ignored;
	return in && fl_catalog_name(in, NULL, out, &ignored) == FL_OK;
}

static int page_size(const json_t *in)
{
	json_t *v = json_object_get(in, "MaxResults");
	if (!json_is_integer(v))
		return PAGE_MAX;
	json_int_t n = json_integer_value(v);
	return n < 1 ? 1 : n > PAGE_MAX ? PAGE_MAX : (int)n;
}

/* NextToken -> the last name of the previous page ("" without a token).
 * names: the keys must be Glue names (a token of another list is not). */
static enum fl_result page_after(const json_t *in, bool names, char *out, size_t n,
				 struct fl_error *err)
{
	const char *token = fl_awsjson_member(in, "NextToken");
	out[0] = '\0';
	if (!token)
		return FL_OK;
	enum fl_result r = fl_catalog_token_decode(token, out, n, err);
	if (r != FL_OK)
		return r;
	char name[256];
	if (!out[0] || (names && (!glue_name(out, name) || strcmp(name, out) != 0))) {
		out[0] = '\0';
		return fl_error_set(err, FL_INVALID, "Invalid pagination token");
	}
	return FL_OK;
}

static enum fl_result set_token(json_t *out, const char *last_key, struct fl_error *err)
{
	char token[TOKEN_MAX];
	if (fl_catalog_token_encode(last_key, token, sizeof token) != FL_OK)
		return fl_error_set(err, FL_INTERNAL, "pagination token too long");
	if (json_object_set_new(out, "NextToken", json_string(token)) != 0)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	return FL_OK;
}

/* Runs one statement on a connection of the pool. */
static enum fl_result query(PGconn *conn, const char *sql, int n, const char *const *params,
			    PGresult **res, struct fl_error *err)
{
	enum fl_result r = fl_db_exec(conn, sql, n, params, res, err);
	/* PostgreSQL may refuse an ERE that regcomp took (its AREs differ in
	 * escapes): that is the client's expression, not our failure. */
	if (r == FL_INTERNAL && err && strstr(err->msg, "regular expression")) {
		char why[FL_ERROR_MAX];
		snprintf(why, sizeof why, "%s", err->msg);
		return fl_error_set(err, FL_INVALID, "Invalid Expression: %s", why);
	}
	return r;
}

/* ---- shapes ---------------------------------------------------------------- */

/* Copies the string members of a Glue string map into out. */
static bool copy_strings(json_t *out, const json_t *map, const char *prefix)
{
	const char *k;
	json_t *v;
	char key[512];
	if (!json_is_object(map))
		return true;
	json_object_foreach((json_t *)map, k, v) {
		if (!json_is_string(v))
			continue;
		if (prefix) {
			int len = snprintf(key, sizeof key, "%s%s", prefix, k);
			if (len < 0 || (size_t)len >= sizeof key)
				continue;
		}
		if (json_object_set(out, prefix ? key : k, v) != 0)
			return false;
	}
	return true;
}

static bool copy_member(json_t *out, const char *to, const json_t *from, const char *name)
{
	json_t *v = json_object_get(from, name);
	return !json_is_string(v) || json_object_set(out, to, v) == 0;
}

/* Athena's Database from a row of fl_glue_databases. */
static json_t *database_json(const char *name, const json_t *spec)
{
	json_t *db = json_object();
	json_t *params = json_object_get(spec, "Parameters");
	bool ok = db && json_object_set_new(db, "Name", json_string(name)) == 0 &&
		copy_member(db, "Description", spec, "Description");
	if (ok && json_is_object(params) && json_object_size(params) > 0) {
		json_t *p = json_object();
		if (p && copy_strings(p, params, NULL))
			ok = json_object_set_new(db, "Parameters", p) == 0;  /* steals p */
		else {
			ok = false;
			json_decref(p);
		}
	}
	if (!ok) {
		json_decref(db);
		return NULL;
	}
	return db;
}

/* Columns [{Name, Type, Comment}] of a Glue column list. */
static json_t *columns_json(const json_t *cols)
{
	json_t *out = json_array();
	size_t i;
	json_t *c;
	if (!out)
		return NULL;
	json_array_foreach((json_t *)cols, i, c) {
		json_t *col = json_object();
		if (!col || !copy_member(col, "Name", c, "Name") || !copy_member(col, "Type", c, "Type") ||
		    !copy_member(col, "Comment", c, "Comment") || json_array_append_new(out, col) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

static bool set_seconds(json_t *out, const char *to, const json_t *from, const char *name)
{
	json_t *v = json_object_get(from, name);
	if (!json_is_number(v))
		return true;
	return json_object_set_new(out, to, json_real(floor(json_number_value(v)))) == 0;
}

/* Athena's TableMetadata from Glue's Table shape. */
static json_t *table_metadata(const json_t *table)
{
	const json_t *sd = json_object_get(table, "StorageDescriptor");
	const json_t *serde = json_object_get(sd, "SerdeInfo");
	json_t *md = json_object();
	json_t *params = json_object();
	bool ok = md && params && copy_member(md, "Name", table, "Name") &&
		set_seconds(md, "CreateTime", table, "CreateTime") &&
		set_seconds(md, "LastAccessTime", table, "LastAccessTime") &&
		copy_member(md, "TableType", table, "TableType") &&
		json_object_set_new(md, "Columns", columns_json(json_object_get(sd, "Columns"))) == 0 &&
		json_object_set_new(md, "PartitionKeys",
				    columns_json(json_object_get(table, "PartitionKeys"))) == 0;
	ok = ok && copy_strings(params, json_object_get(table, "Parameters"), NULL) &&
		copy_member(params, "location", sd, "Location") &&
		copy_member(params, "inputformat", sd, "InputFormat") &&
		copy_member(params, "outputformat", sd, "OutputFormat") &&
		copy_member(params, "serde.serialization.lib", serde, "SerializationLibrary") &&
		copy_strings(params, json_object_get(serde, "Parameters"), SERDE_PARAM);
	if (ok) {
		ok = json_object_set_new(md, "Parameters", params) == 0;
		params = NULL;
	}
	json_decref(params);
	if (!ok) {
		json_decref(md);
		return NULL;
	}
	return md;
}

/* ---- data catalogs --------------------------------------------------------- */

static enum fl_result list_data_catalogs(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *out = NULL, *list = NULL;
	char after[TOKEN_MAX];
	enum fl_result r = fl_awsjson_parse_athena(req, "ListDataCatalogs", &in, err);
	if (r != FL_OK || (r = page_after(in, false, after, sizeof after, err)) != FL_OK)
		goto out;
	out = json_object();
	list = json_array();
	if (!out || !list || json_object_set(out, "DataCatalogsSummary", list) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if (strcmp(after, FL_ATHENA_CATALOG) < 0 &&
	    json_array_append_new(list, json_pack("{s:s, s:s}", "CatalogName", FL_ATHENA_CATALOG,
						  "Type", "GLUE")) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	r = fl_awsjson_reply(req, JSON_COMPACT, out, err);
	out = NULL;
out:
	json_decref(list);
	json_decref(out);
	json_decref(in);
	return r;
}

static enum fl_result get_data_catalog(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "GetDataCatalog", &in, err);
	if (r == FL_OK && (r = check_catalog(in, "Name", err)) == FL_OK)
		r = fl_awsjson_reply(req, JSON_COMPACT,
				     json_pack("{s:{s:s, s:s, s:{s:s}}}", "DataCatalog",
					       "Name", FL_ATHENA_CATALOG, "Type", "GLUE",
					       "Parameters", "catalog-id", FL_ACCOUNT_ID), err);
	json_decref(in);
	return r;
}

/* ---- databases ------------------------------------------------------------- */

static enum fl_result list_databases(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *out = NULL, *list = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char after[TOKEN_MAX], limit[16];
	enum fl_result r = fl_awsjson_parse_athena(req, "ListDatabases", &in, err);
	if (r != FL_OK || (r = check_catalog(in, "CatalogName", err)) != FL_OK ||
	    (r = page_after(in, true, after, sizeof after, err)) != FL_OK)
		goto out;
	int max = page_size(in);
	snprintf(limit, sizeof limit, "%d", max + 1);
	const char *params[] = { after, limit };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = query(conn, "SELECT name, spec::text FROM fl_glue_databases WHERE name > $1 "
		       "ORDER BY name LIMIT $2", 2, params, &res, err)) != FL_OK)
		goto out;
	out = json_object();
	list = json_array();
	if (!out || !list || json_object_set(out, "DatabaseList", list) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	int rows = PQntuples(res);
	for (int i = 0; i < rows && i < max; i++) {
		json_t *spec = json_loads(PQgetvalue(res, i, 1), 0, NULL);
		json_t *db = database_json(PQgetvalue(res, i, 0), spec);
		json_decref(spec);
		if (!db || json_array_append_new(list, db) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (rows > max && (r = set_token(out, PQgetvalue(res, max - 1, 0), err)) != FL_OK)
		goto out;
	r = fl_awsjson_reply(req, JSON_COMPACT, out, err);
	out = NULL;
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(list);
	json_decref(out);
	json_decref(in);
	return r;
}

/* Reads a database's spec; FL_NOT_FOUND (Athena's words) without it. */
static enum fl_result load_database(struct fl_req *req, PGconn *conn, const char *given,
				    char name[256], json_t **spec, struct fl_error *err)
{
	PGresult *res = NULL;
	char what[640];
	*spec = NULL;
	if (glue_name(given, name)) {
		const char *params[] = { name };
		enum fl_result r = query(conn, "SELECT spec::text FROM fl_glue_databases "
					 "WHERE name = $1", 1, params, &res, err);
		if (r != FL_OK)
			return r;
		if (PQntuples(res) == 1) {
			*spec = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
			PQclear(res);
			return *spec ? FL_OK : fl_error_set(err, FL_INTERNAL, "database %s: bad spec", name);
		}
		PQclear(res);
	}
	snprintf(what, sizeof what, "Database %s not found.", given ? given : "");
	return metadata_not_found(req, what, err);
}

static enum fl_result get_database(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *spec = NULL;
	PGconn *conn = NULL;
	char name[256];
	enum fl_result r = fl_awsjson_parse_athena(req, "GetDatabase", &in, err);
	if (r != FL_OK || (r = check_catalog(in, "CatalogName", err)) != FL_OK ||
	    (r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = load_database(req, conn, fl_awsjson_member(in, "DatabaseName"), name, &spec,
			       err)) != FL_OK)
		goto out;
	json_t *db = database_json(name, spec);
	r = fl_awsjson_reply(req, JSON_COMPACT, db ? json_pack("{s:o}", "Database", db) : NULL,
			     err);
out:
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(spec);
	json_decref(in);
	return r;
}

/* ---- tables ---------------------------------------------------------------- */

/* The ERE of ListTableMetadata's Expression, or NULL for every table. */
static enum fl_result table_pattern(const json_t *in, struct fl_buf *pattern, const char **out,
				    struct fl_error *err)
{
	const char *expr = fl_awsjson_member(in, "Expression");
	*out = NULL;
	if (!expr || !expr[0])
		return FL_OK;
	enum fl_result r = fl_glue_table_pattern(expr, pattern, err);
	if (r != FL_OK)
		return r;
	*out = pattern->data ? pattern->data : "";
	return FL_OK;
}

static enum fl_result list_table_metadata(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *out = NULL, *list = NULL, *spec = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct fl_buf pattern;
	char db[256], after[TOKEN_MAX], limit[16];
	const char *regex = NULL;
	fl_buf_init(&pattern, PATTERN_MAX);
	enum fl_result r = fl_awsjson_parse_athena(req, "ListTableMetadata", &in, err);
	if (r != FL_OK || (r = check_catalog(in, "CatalogName", err)) != FL_OK ||
	    (r = page_after(in, true, after, sizeof after, err)) != FL_OK ||
	    (r = table_pattern(in, &pattern, &regex, err)) != FL_OK ||
	    (r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = load_database(req, conn, fl_awsjson_member(in, "DatabaseName"), db, &spec,
			       err)) != FL_OK)
		goto out;
	int max = page_size(in);
	snprintf(limit, sizeof limit, "%d", max + 1);
	const char *params[] = { db, after, regex, limit };
	if ((r = query(conn, "SELECT name, spec::text, extract(epoch FROM created_at)::float8, "
		       "extract(epoch FROM updated_at)::float8, version_id FROM fl_glue_tables "
		       "WHERE db = $1 AND name > $2 AND ($3::text IS NULL OR name ~ $3) "
		       "ORDER BY name LIMIT $4", 4, params, &res, err)) != FL_OK)
		goto out;
	out = json_object();
	list = json_array();
	if (!out || !list || json_object_set(out, "TableMetadataList", list) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	int rows = PQntuples(res);
	for (int i = 0; i < rows && i < max; i++) {
		json_t *tspec = json_loads(PQgetvalue(res, i, 1), 0, NULL);
		json_t *table = tspec ? fl_glue_table_json(db, PQgetvalue(res, i, 0), tspec,
							   strtod(PQgetvalue(res, i, 2), NULL),
							   strtod(PQgetvalue(res, i, 3), NULL),
							   strtoll(PQgetvalue(res, i, 4), NULL, 10))
			: NULL;
		json_t *md = table ? table_metadata(table) : NULL;
		json_decref(tspec);
		json_decref(table);
		if (!md || json_array_append_new(list, md) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "table %s.%s: cannot read its spec", db,
					 PQgetvalue(res, i, 0));
			goto out;
		}
	}
	if (rows > max && (r = set_token(out, PQgetvalue(res, max - 1, 0), err)) != FL_OK)
		goto out;
	r = fl_awsjson_reply(req, JSON_COMPACT, out, err);
	out = NULL;
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	fl_buf_free(&pattern);
	json_decref(list);
	json_decref(out);
	json_decref(spec);
	json_decref(in);
	return r;
}

static enum fl_result get_table_metadata(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *table = NULL;
	PGconn *conn = NULL;
	char db[256], name[256];
	enum fl_result r = fl_awsjson_parse_athena(req, "GetTableMetadata", &in, err);
	if (r != FL_OK || (r = check_catalog(in, "CatalogName", err)) != FL_OK)
		goto out;
	/* Glue answers "Entity Not Found" for either part missing. */
	if (!glue_name(fl_awsjson_member(in, "DatabaseName"), db)
	    || !glue_name(fl_awsjson_member(in, "TableName"), name)) {
		r = metadata_not_found(req, "Entity Not Found", err);
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	r = fl_glue_table_load(conn, db, name, &table, err);
	if (r == FL_NOT_FOUND)
		r = metadata_not_found(req, "Entity Not Found", err);
	if (r != FL_OK)
		goto out;
	json_t *md = table_metadata(table);
	r = fl_awsjson_reply(req, JSON_COMPACT,
			     md ? json_pack("{s:o}", "TableMetadata", md) : NULL, err);
out:
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(table);
	json_decref(in);
	return r;
}

fl_handler_fn fl_athena_catalog_handler(const char *op)
{
	static const struct {
		const char *op;
		fl_handler_fn fn;
	} ops[] = {
		{ "ListDataCatalogs", list_data_catalogs },
		{ "GetDataCatalog", get_data_catalog },
		{ "ListDatabases", list_databases },
		{ "GetDatabase", get_database },
		{ "ListTableMetadata", list_table_metadata },
		{ "GetTableMetadata", get_table_metadata },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(op, ops[i].op) == 0)
			return ops[i].fn;
	return NULL;
}
