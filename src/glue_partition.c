/*
 * glue_partition.c - the Glue Data Catalog API: partitions.
 *
 * DESIGN
 *
 * Every partition operation names a table; the table is read first
 * (fl_glue_table_load, so a missing database or table is Glue's
 * EntityNotFoundException), and its PartitionKeys say how many values a
 * partition has and what type each key is.  A partition row keeps its
 * PartitionInput without Values (sql/0002_glue.sql) and its values as a
 * text[] in key order; the answer is that document plus Values,
 * DatabaseName, TableName, CreationTime and CatalogId, as Glue writes a
 * Partition.
 *
 * Values reach SQL as one text[] parameter whose literal is built here
 * (each element double-quoted, backslash and quote escaped), never as SQL
 * text.  A list of value lists (BatchGetPartition) travels as one jsonb
 * parameter and is compared with to_jsonb(vals).
 *
 * GetPartitions' Expression is compiled by glue_expr.c into a predicate
 * over p.vals whose literals are parameters after this file's own four;
 * a value that the predicate cannot cast to its key's type makes the
 * statement fail, which is the client's InvalidInputException, as in
 * Glue.  Pages go by key: ORDER BY vals, vals > the last vals of the
 * previous page, whose JSON array is the NextToken (base64url through
 * fl_catalog_token_encode).  Segments are not split: segment 0 of any
 * TotalSegments holds every partition, the others are empty.
 *
 * The batch operations run in one transaction (one commit for up to a
 * hundred partitions) and report a failed entry in Errors with Glue's
 * ErrorDetail instead of failing the call; only a missing table or a
 * request that breaks the model fails the whole call.
 */
#include "glue.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsjson.h"
#include "awsshape.h"
#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "glue_expr.h"
#include "server.h"

#define PART_CATALOG_ID "000000000000"
#define PART_PAGE_DEFAULT 100
#define PART_LITERAL_MAX (1u << 20)     /* a text[] literal of 100 values */
#define PART_SQL_MAX (64u << 10)        /* a compiled GetPartitions statement */
#define PART_OWN_PARAMS 4               /* db, table, after, limit */
#define PART_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(16))
#define PART_MISMATCH "The number of partition keys do not match the number of partition values"
#define PART_NOT_FOUND "Cannot find partition."
#define PART_EXISTS "Partition already exists."

#define PART_COLUMNS "array_to_json(p.vals)::text, p.spec::text, " \
	"extract(epoch FROM p.created_at)::float8"

/* One call on one table: the request, the connection, the table's keys. */
struct call {
	json_t *in;                 /* the request (owned) */
	PGconn *conn;               /* borrowed from the pool */
	char db[256], tbl[256];
	json_t *table;              /* Glue's Table shape (owned) */
	size_t nkeys;
	struct fl_glue_key *keys;   /* owned array; names in key_names */
	char (*key_names)[256];     /* owned */
};

/* ---- requests and answers ------------------------------------------------ */

static json_t *load_text(const char *text)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	if (!json_is_object(v)) {
		json_decref(v);
		v = json_object();
	}
	return v;
}

static enum fl_result exec0(PGconn *conn, const char *sql, struct fl_error *err)
{
	return fl_db_exec(conn, sql, 0, NULL, NULL, err);
}

/* ---- the table of a call --------------------------------------------------- */

/* Reads the table's PartitionKeys into c (names lower case, type "string"
 * when the key has none). */
static enum fl_result read_keys(struct call *c, struct fl_error *err)
{
	const json_t *keys = json_object_get(c->table, "PartitionKeys");
	size_t n = json_is_array(keys) ? json_array_size(keys) : 0;
	c->nkeys = n;
	if (n == 0)
		return FL_OK;
	c->keys = calloc(n, sizeof *c->keys);
	c->key_names = calloc(n, sizeof *c->key_names);
	if (!c->keys || !c->key_names)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *k = json_array_get(keys, i);
		const char *name = json_string_value(json_object_get(k, "Name"));
		const char *type = json_string_value(json_object_get(k, "Type"));
		snprintf(c->key_names[i], sizeof c->key_names[i], "%s", name ? name : "");
		for (char *p = c->key_names[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		c->keys[i].name = c->key_names[i];
		c->keys[i].type = type && *type ? type : "string";
	}
	return FL_OK;
}

/* Parses the request, names its database and table, borrows a connection
 * and reads the table.  call_close undoes it, also after a failure. */
static enum fl_result call_open(struct fl_req *req, struct call *c, struct fl_error *err)
{
	memset(c, 0, sizeof *c);
	const struct fl_awsshape_op *op = fl_awsshape_find(fl_glue_ops, fl_glue_op_count, req->op);
	if (!op)
		return fl_error_set(err, FL_INTERNAL, "no model for operation %s", req->op);
	enum fl_result r = fl_awsshape_parse(op, req->body, req->body_len, &c->in, err);
	if (r != FL_OK)
		return r;
	if ((r = fl_awsjson_glue_name(c->in, "DatabaseName", "databaseName", "database name",
				      c->db, err)) != FL_OK ||
	    (r = fl_awsjson_glue_name(c->in, "TableName", "tableName", "table name", c->tbl,
				      err)) != FL_OK)
		return r;
	if ((r = fl_db_acquire(req->srv->db, &c->conn, err)) != FL_OK)
		return r;
	if ((r = fl_glue_table_load(c->conn, c->db, c->tbl, &c->table, err)) != FL_OK)
		return r;
	return read_keys(c, err);
}

static void call_close(struct fl_req *req, struct call *c)
{
	if (c->conn && PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
		struct fl_error ignored;
		(void)exec0(c->conn, "ROLLBACK", &ignored);
	}
	fl_db_release(req->srv->db, c->conn);
	free(c->keys);
	free(c->key_names);
	json_decref(c->table);
	json_decref(c->in);
}

/* ---- values ---------------------------------------------------------------- */

/* Writes vals (a JSON list of strings) as a text[] literal to out:
 * FL_INVALID when it does not have one value per partition key. */
static enum fl_result values_literal(const struct call *c, const json_t *vals,
				     struct fl_buf *out, struct fl_error *err)
{
	size_t i;
	const json_t *v;
	fl_buf_reset(out);
	if (vals && !json_is_array(vals))
		return fl_error_set(err, FL_MALFORMED, "partition values must be a list");
	if (json_array_size(vals) != c->nkeys)
		return fl_error_set(err, FL_INVALID, PART_MISMATCH);
	enum fl_result r = fl_buf_addc(out, '{');
	json_array_foreach(vals, i, v) {
		if (!json_is_string(v))
			return fl_error_set(err, FL_MALFORMED, "partition values must be strings");
		if (strlen(json_string_value(v)) != json_string_length(v))
			return fl_error_set(err, FL_INVALID, "partition values must not contain NUL "
					    "characters");
		if (r == FL_OK && i > 0)
			r = fl_buf_addc(out, ',');
		if (r == FL_OK)
			r = fl_buf_addc(out, '"');
		for (const char *p = json_string_value(v); r == FL_OK && *p; p++) {
			if (*p == '"' || *p == '\\')
				r = fl_buf_addc(out, '\\');
			if (r == FL_OK)
				r = fl_buf_addc(out, *p);
		}
		if (r == FL_OK)
			r = fl_buf_addc(out, '"');
	}
	if (r == FL_OK)
		r = fl_buf_addc(out, '}');
	return r == FL_OK ? FL_OK : fl_error_set(err, r, "partition values too long");
}

/* The list-of-strings member of obj as a text[] literal. */
static enum fl_result member_literal(const struct call *c, const json_t *obj, const char *member,
				     const char *path, struct fl_buf *out, struct fl_error *err)
{
	const json_t *vals = json_object_get(obj, member);
	if (!vals)
		return fl_awsjson_not_null(path, err);
	return values_literal(c, vals, out, err);
}

/* A PartitionInput without Values: what the row keeps (caller owns). */
static enum fl_result partition_spec(const json_t *input, json_t **spec, struct fl_error *err)
{
	*spec = NULL;
	if (!json_is_object(input))
		return fl_error_set(err, FL_MALFORMED, "PartitionInput must be a structure");
	enum fl_result r = fl_awsjson_no_nul(input, err);
	if (r != FL_OK)
		return r;
	if (!(*spec = json_deep_copy(input)))
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	json_object_del(*spec, "Values");
	return FL_OK;
}

/* Glue's Partition shape of row i of a PART_COLUMNS result. */
static json_t *partition_row(const struct call *c, const PGresult *res, int i, bool no_columns)
{
	json_t *p = load_text(PQgetvalue(res, i, 1));
	json_t *vals = json_loads(PQgetvalue(res, i, 0), JSON_DECODE_ANY, NULL);
	double created = strtod(PQgetvalue(res, i, 2), NULL);
	if (!p || !vals)
		goto fail;
	json_object_del(p, "Values");
	if (no_columns) {
		json_t *sd = json_object_get(p, "StorageDescriptor");
		if (json_is_object(sd))
			json_object_del(sd, "Columns");
	}
	if (json_object_set_new(p, "Values", vals) != 0) {
		vals = NULL;
		goto fail;
	}
	if (json_object_set_new(p, "DatabaseName", json_string(c->db)) != 0 ||
	    json_object_set_new(p, "TableName", json_string(c->tbl)) != 0 ||
	    json_object_set_new(p, "CreationTime", json_real(created)) != 0 ||
	    json_object_set_new(p, "CatalogId", json_string(PART_CATALOG_ID)) != 0)
		goto fail_p;
	return p;
fail:
	json_decref(vals);
fail_p:
	json_decref(p);
	return NULL;
}

/* Appends a PartitionError {PartitionValues, ErrorDetail} to errors. */
static enum fl_result entry_error(json_t *errors, const json_t *vals, const char *code,
				  const char *msg, struct fl_error *err)
{
	json_t *e = json_pack("{s:o, s:{s:s, s:s}}", "PartitionValues",
			      json_is_array(vals) ? json_deep_copy(vals) : json_array(),
			      "ErrorDetail", "ErrorCode", code, "ErrorMessage", msg);
	if (!e || json_array_append_new(errors, e) != 0)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	return FL_OK;
}

/* The Glue error code of a failed entry. */
static const char *entry_code(enum fl_result r)
{
	switch (r) {
	case FL_EXISTS: return "AlreadyExistsException";
	case FL_NOT_FOUND: return "EntityNotFoundException";
	default: return "InvalidInputException";
	}
}

/* ---- single partitions ----------------------------------------------------- */

static enum fl_result create_partition(struct fl_req *req, struct fl_error *err)
{
	struct call c;
	struct fl_buf lit;
	json_t *spec = NULL;
	char *text = NULL;
	fl_buf_init(&lit, PART_LITERAL_MAX);
	enum fl_result r = call_open(req, &c, err);
	if (r != FL_OK)
		goto out;
	const json_t *input = json_object_get(c.in, "PartitionInput");
	if (!input) {
		r = fl_awsjson_not_null("partitionInput", err);
		goto out;
	}
	if ((r = partition_spec(input, &spec, err)) != FL_OK)
		goto out;
	if ((r = values_literal(&c, json_object_get(input, "Values"), &lit, err)) != FL_OK)
		goto out;
	if (!(text = json_dumps(spec, PART_JSON_FLAGS))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	const char *p[4] = { c.db, c.tbl, lit.data, text };
	r = fl_db_exec(c.conn, "INSERT INTO fl_glue_partitions (db, tbl, vals, spec) "
			       "VALUES ($1, $2, $3::text[], $4::jsonb)", 4, p, NULL, err);
	if (r == FL_EXISTS)
		r = fl_error_set(err, FL_EXISTS, PART_EXISTS);
	if (r == FL_OK)
		r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	call_close(req, &c);
	free(text);
	json_decref(spec);
	fl_buf_free(&lit);
	return r;
}

static enum fl_result get_partition(struct fl_req *req, struct fl_error *err)
{
	struct call c;
	struct fl_buf lit;
	PGresult *res = NULL;
	fl_buf_init(&lit, PART_LITERAL_MAX);
	enum fl_result r = call_open(req, &c, err);
	if (r != FL_OK)
		goto out;
	if ((r = member_literal(&c, c.in, "PartitionValues", "partitionValues", &lit, err)) != FL_OK)
		goto out;
	const char *p[3] = { c.db, c.tbl, lit.data };
	r = fl_db_exec(c.conn, "SELECT " PART_COLUMNS " FROM fl_glue_partitions p "
			       "WHERE p.db = $1 AND p.tbl = $2 AND p.vals = $3::text[]",
		       3, p, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, PART_NOT_FOUND);
		goto out;
	}
	json_t *part = partition_row(&c, res, 0, false);
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS,
			     part ? json_pack("{s:o}", "Partition", part) : NULL, err);
out:
	PQclear(res);
	call_close(req, &c);
	fl_buf_free(&lit);
	return r;
}

static enum fl_result update_partition(struct fl_req *req, struct fl_error *err)
{
	struct call c;
	struct fl_buf old, lit;
	json_t *spec = NULL;
	PGresult *res = NULL;
	char *text = NULL;
	fl_buf_init(&old, PART_LITERAL_MAX);
	fl_buf_init(&lit, PART_LITERAL_MAX);
	enum fl_result r = call_open(req, &c, err);
	if (r != FL_OK)
		goto out;
	if ((r = member_literal(&c, c.in, "PartitionValueList", "partitionValueList", &old,
				err)) != FL_OK)
		goto out;
	const json_t *input = json_object_get(c.in, "PartitionInput");
	if (!input) {
		r = fl_awsjson_not_null("partitionInput", err);
		goto out;
	}
	if ((r = partition_spec(input, &spec, err)) != FL_OK)
		goto out;
	/* New Values move the partition; without them it keeps its own. */
	const json_t *vals = json_object_get(input, "Values");
	if (vals && (r = values_literal(&c, vals, &lit, err)) != FL_OK)
		goto out;
	if (!(text = json_dumps(spec, PART_JSON_FLAGS))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	const char *p[5] = { c.db, c.tbl, old.data, vals ? lit.data : NULL, text };
	r = fl_db_exec(c.conn, "UPDATE fl_glue_partitions SET vals = coalesce($4::text[], vals), "
			       "spec = $5::jsonb, updated_at = now() "
			       "WHERE db = $1 AND tbl = $2 AND vals = $3::text[] RETURNING 1",
		       5, p, &res, err);
	if (r == FL_EXISTS)
		r = fl_error_set(err, FL_EXISTS, PART_EXISTS);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, PART_NOT_FOUND);
		goto out;
	}
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	PQclear(res);
	call_close(req, &c);
	free(text);
	json_decref(spec);
	fl_buf_free(&old);
	fl_buf_free(&lit);
	return r;
}

static enum fl_result delete_partition(struct fl_req *req, struct fl_error *err)
{
	struct call c;
	struct fl_buf lit;
	PGresult *res = NULL;
	fl_buf_init(&lit, PART_LITERAL_MAX);
	enum fl_result r = call_open(req, &c, err);
	if (r != FL_OK)
		goto out;
	if ((r = member_literal(&c, c.in, "PartitionValues", "partitionValues", &lit, err)) != FL_OK)
		goto out;
	const char *p[3] = { c.db, c.tbl, lit.data };
	r = fl_db_exec(c.conn, "DELETE FROM fl_glue_partitions "
			       "WHERE db = $1 AND tbl = $2 AND vals = $3::text[] RETURNING 1",
		       3, p, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, PART_NOT_FOUND);
		goto out;
	}
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_object(), err);
out:
	PQclear(res);
	call_close(req, &c);
	fl_buf_free(&lit);
	return r;
}

/* ---- GetPartitions --------------------------------------------------------- */

/* The vals after which the page starts, from NextToken, as a text[]
 * literal in after; *has false without a token. */
static enum fl_result page_after(const struct call *c, struct fl_buf *after, bool *has,
				 struct fl_error *err)
{
	const json_t *t = json_object_get(c->in, "NextToken");
	json_t *vals = NULL;
	char *key = NULL;
	enum fl_result r = FL_OK;
	*has = false;
	if (!t || (json_is_string(t) && json_string_length(t) == 0))
		return FL_OK;
	if (!json_is_string(t))
		return fl_error_set(err, FL_MALFORMED, "NextToken must be a string");
	size_t n = json_string_length(t) + 16;
	if (!(key = malloc(n)))
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	if ((r = fl_catalog_token_decode(json_string_value(t), key, n, err)) != FL_OK)
		goto out;
	vals = json_loads(key, JSON_DECODE_ANY, NULL);
	/* A token of ours holds one value per key, as the table has now. */
	struct fl_error ignored;
	if (!json_is_array(vals) || values_literal(c, vals, after, &ignored) != FL_OK) {
		r = fl_error_set(err, FL_INVALID, "Invalid pagination token");
		goto out;
	}
	*has = true;
out:
	json_decref(vals);
	free(key);
	return r;
}

/* Sets out's NextToken to the token of the vals JSON array last. */
static enum fl_result set_token(json_t *out, const char *last, struct fl_error *err)
{
	size_t n = 2 * strlen(last) + 64;
	char *token = malloc(n);
	enum fl_result r = FL_OK;
	if (!token)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	if (fl_catalog_token_encode(last, token, n) != FL_OK)
		r = fl_error_set(err, FL_INTERNAL, "cannot encode a pagination token");
	else if (json_object_set_new(out, "NextToken", json_string(token)) != 0)
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
	free(token);
	return r;
}

/* Segment: FL_OK with *empty set for a segment other than the first. */
static enum fl_result segment(const json_t *in, bool *empty, struct fl_error *err)
{
	const json_t *s = json_object_get(in, "Segment");
	*empty = false;
	if (!s)
		return FL_OK;
	json_int_t num = json_integer_value(json_object_get(s, "SegmentNumber"));
	json_int_t total = json_integer_value(json_object_get(s, "TotalSegments"));
	if (total < 1 || num < 0 || num >= total)
		return fl_error_set(err, FL_INVALID, "SegmentNumber %lld must be less than "
				    "TotalSegments %lld", (long long)num, (long long)total);
	*empty = num > 0;
	return FL_OK;
}

static enum fl_result get_partitions(struct fl_req *req, struct fl_error *err)
{
	struct call c;
	struct fl_glue_expr expr;
	struct fl_buf after, sql;
	json_t *out = NULL, *list = NULL;
	PGresult *res = NULL;
	const char **params = NULL;
	char limit[32];
	bool has_after = false, compiled = false, empty = false;
	fl_buf_init(&after, PART_LITERAL_MAX);
	fl_buf_init(&sql, PART_SQL_MAX);
	enum fl_result r = call_open(req, &c, err);
	if (r != FL_OK)
		goto out;
	if ((r = segment(c.in, &empty, err)) != FL_OK)
		goto out;
	const json_t *e = json_object_get(c.in, "Expression");
	if (e && !json_is_string(e)) {
		r = fl_error_set(err, FL_MALFORMED, "Expression must be a string");
		goto out;
	}
	bool filtered = e && json_string_length(e) > 0;
	if (filtered) {
		r = fl_glue_expr_compile(json_string_value(e), c.keys, c.nkeys, "p.vals",
					 PART_OWN_PARAMS + 1, &expr, err);
		compiled = true;
		if (r != FL_OK)
			goto out;
	}
	if ((r = page_after(&c, &after, &has_after, err)) != FL_OK)
		goto out;
	const json_t *m = json_object_get(c.in, "MaxResults");
	json_int_t want = json_is_integer(m) ? json_integer_value(m) : 0;
	size_t page = want >= 1 && want <= 1000 ? (size_t)want : PART_PAGE_DEFAULT;
	snprintf(limit, sizeof limit, "%zu", page + 1);
	out = json_object();
	list = json_array();
	if (!out || !list || json_object_set(out, "Partitions", list) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if (empty)
		goto answer;
	int nparams = PART_OWN_PARAMS + (filtered ? expr.nparams : 0);
	if (!(params = calloc((size_t)nparams, sizeof *params))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	params[0] = c.db;
	params[1] = c.tbl;
	params[2] = has_after ? after.data : NULL;
	params[3] = limit;
	for (int i = PART_OWN_PARAMS; i < nparams; i++)
		params[i] = expr.params[i - PART_OWN_PARAMS];
	r = fl_buf_adds(&sql, "SELECT " PART_COLUMNS " FROM fl_glue_partitions p "
			      "WHERE p.db = $1 AND p.tbl = $2 "
			      "AND ($3::text[] IS NULL OR p.vals > $3::text[])");
	if (r == FL_OK && filtered)
		r = fl_buf_printf(&sql, " AND (%s)", expr.sql.data);
	if (r == FL_OK)
		r = fl_buf_adds(&sql, " ORDER BY p.vals LIMIT $4::int");
	if (r != FL_OK) {
		r = fl_error_set(err, FL_INVALID, "Expression too complex");
		goto out;
	}
	r = fl_db_exec(c.conn, sql.data, nparams, params, &res, err);
	if (r == FL_INTERNAL && filtered) { /* a value the predicate cannot cast */
		char why[FL_ERROR_MAX];
		snprintf(why, sizeof why, "%s", err->msg);
		r = fl_error_set(err, FL_INVALID, "Unable to evaluate Expression: %.900s", why);
	}
	if (r != FL_OK)
		goto out;
	bool no_columns = json_is_true(json_object_get(c.in, "ExcludeColumnSchema"));
	size_t n = (size_t)PQntuples(res);
	for (size_t i = 0; i < n && i < page; i++) {
		json_t *part = partition_row(&c, res, (int)i, no_columns);
		if (!part || json_array_append_new(list, part) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (n > page && (r = set_token(out, PQgetvalue(res, (int)page - 1, 0), err)) != FL_OK)
		goto out;
answer:
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, out, err);
	out = NULL;
out:
	PQclear(res);
	free(params);
	if (compiled)
		fl_glue_expr_free(&expr);
	call_close(req, &c);
	json_decref(list);
	json_decref(out);
	fl_buf_free(&after);
	fl_buf_free(&sql);
	return r;
}

/* ---- batches --------------------------------------------------------------- */

/* The list member of a batch request (awsshape checked its bounds). */
static enum fl_result batch_list(const struct call *c, const char *member, const char *path,
				 const json_t **list, struct fl_error *err)
{
	*list = json_object_get(c->in, member);
	if (!*list)
		return fl_awsjson_not_null(path, err);
	if (!json_is_array(*list))
		return fl_error_set(err, FL_MALFORMED, "%s must be a list", member);
	return FL_OK;
}

/* Creates one partition of a batch inside its transaction: FL_OK, or the
 * entry's own failure (FL_EXISTS, FL_INVALID) in e; a failure of the
 * whole batch (the connection) is returned in err as it is. */
static enum fl_result create_one(const struct call *c, const json_t *input, struct fl_buf *lit,
				 struct fl_error *e, struct fl_error *err)
{
	json_t *spec = NULL;
	PGresult *res = NULL;
	char *text = NULL;
	enum fl_result r;
	if ((r = partition_spec(input, &spec, e)) != FL_OK ||
	    (r = values_literal(c, json_object_get(input, "Values"), lit, e)) != FL_OK)
		goto out;
	if (!(text = json_dumps(spec, PART_JSON_FLAGS))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	const char *p[4] = { c->db, c->tbl, lit->data, text };
	r = fl_db_exec(c->conn, "INSERT INTO fl_glue_partitions (db, tbl, vals, spec) "
				"VALUES ($1, $2, $3::text[], $4::jsonb) "
				"ON CONFLICT DO NOTHING RETURNING 1", 4, p, &res, err);
	if (r == FL_OK && PQntuples(res) == 0)
		r = fl_error_set(e, FL_EXISTS, PART_EXISTS);
out:
	PQclear(res);
	free(text);
	json_decref(spec);
	return r;
}

static enum fl_result batch_create_partition(struct fl_req *req, struct fl_error *err)
{
	struct call c;
	struct fl_buf lit;
	json_t *errors = json_array();
	const json_t *list, *input;
	size_t i;
	fl_buf_init(&lit, PART_LITERAL_MAX);
	enum fl_result r = call_open(req, &c, err);
	if (r != FL_OK)
		goto out;
	if ((r = batch_list(&c, "PartitionInputList", "partitionInputList", &list, err)) != FL_OK)
		goto out;
	if (!errors) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = exec0(c.conn, "BEGIN", err)) != FL_OK)
		goto out;
	json_array_foreach(list, i, input) {
		struct fl_error e = { FL_OK, "", "" };
		r = create_one(&c, input, &lit, &e, err);
		if (r != FL_OK && e.code == FL_OK)
			goto out;
		if (r != FL_OK && (r = entry_error(errors, json_object_get(input, "Values"),
						   entry_code(e.code), e.msg, err)) != FL_OK)
			goto out;
	}
	if ((r = exec0(c.conn, "COMMIT", err)) != FL_OK)
		goto out;
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_pack("{s:O}", "Errors", errors), err);
out:
	call_close(req, &c);
	json_decref(errors);
	fl_buf_free(&lit);
	return r;
}

static enum fl_result batch_delete_partition(struct fl_req *req, struct fl_error *err)
{
	struct call c;
	struct fl_buf lit;
	json_t *errors = json_array();
	const json_t *list, *entry;
	size_t i;
	fl_buf_init(&lit, PART_LITERAL_MAX);
	enum fl_result r = call_open(req, &c, err);
	if (r != FL_OK)
		goto out;
	if ((r = batch_list(&c, "PartitionsToDelete", "partitionsToDelete", &list, err)) != FL_OK)
		goto out;
	if (!errors) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = exec0(c.conn, "BEGIN", err)) != FL_OK)
		goto out;
	json_array_foreach(list, i, entry) {
		const json_t *vals = json_object_get(entry, "Values");
		struct fl_error e = { FL_OK, "", "" };
		if (values_literal(&c, vals, &lit, &e) == FL_OK) {
			PGresult *res = NULL;
			const char *p[3] = { c.db, c.tbl, lit.data };
			r = fl_db_exec(c.conn, "DELETE FROM fl_glue_partitions WHERE db = $1 "
					       "AND tbl = $2 AND vals = $3::text[] RETURNING 1",
				       3, p, &res, err);
			bool gone = r == FL_OK && PQntuples(res) > 0;
			PQclear(res);
			if (r != FL_OK)
				goto out;
			if (!gone)
				fl_error_set(&e, FL_NOT_FOUND, PART_NOT_FOUND);
		}
		if (e.code != FL_OK &&
		    (r = entry_error(errors, vals, entry_code(e.code), e.msg, err)) != FL_OK)
			goto out;
	}
	if ((r = exec0(c.conn, "COMMIT", err)) != FL_OK)
		goto out;
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_pack("{s:O}", "Errors", errors), err);
out:
	call_close(req, &c);
	json_decref(errors);
	fl_buf_free(&lit);
	return r;
}

static enum fl_result batch_get_partition(struct fl_req *req, struct fl_error *err)
{
	struct call c;
	struct fl_buf lit;
	json_t *wanted = json_array(), *parts = NULL;
	PGresult *res = NULL;
	char *text = NULL;
	const json_t *list, *entry;
	size_t i;
	fl_buf_init(&lit, PART_LITERAL_MAX);
	enum fl_result r = call_open(req, &c, err);
	if (r != FL_OK)
		goto out;
	if ((r = batch_list(&c, "PartitionsToGet", "partitionsToGet", &list, err)) != FL_OK)
		goto out;
	if (!wanted || !(parts = json_array())) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	json_array_foreach(list, i, entry) {
		const json_t *vals = json_object_get(entry, "Values");
		/* The literal checks count, types and NULs; the query takes JSON. */
		if ((r = values_literal(&c, vals, &lit, err)) != FL_OK)
			goto out;
		if (json_array_append_new(wanted, vals ? json_incref((json_t *)vals)
						       : json_array()) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (json_array_size(wanted) > 0) {
		if (!(text = json_dumps(wanted, JSON_COMPACT))) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		const char *p[3] = { c.db, c.tbl, text };
		r = fl_db_exec(c.conn, "SELECT " PART_COLUMNS " FROM fl_glue_partitions p "
				       "WHERE p.db = $1 AND p.tbl = $2 AND to_jsonb(p.vals) IN "
				       "(SELECT jsonb_array_elements($3::jsonb)) ORDER BY p.vals",
			       3, p, &res, err);
		if (r != FL_OK)
			goto out;
		for (int k = 0; k < PQntuples(res); k++) {
			json_t *part = partition_row(&c, res, k, false);
			if (!part || json_array_append_new(parts, part) != 0) {
				r = fl_error_set(err, FL_INTERNAL, "out of memory");
				goto out;
			}
		}
	}
	r = fl_awsjson_reply(req, FL_AWSJSON_GLUE_FLAGS, json_pack("{s:O, s:[]}", "Partitions",
								   parts, "UnprocessedKeys"), err);
out:
	PQclear(res);
	call_close(req, &c);
	free(text);
	json_decref(parts);
	json_decref(wanted);
	fl_buf_free(&lit);
	return r;
}

/* ---- router ---------------------------------------------------------------- */

static const struct {
	const char *op;
	fl_handler_fn fn;
} partition_ops[] = {
	{ "BatchCreatePartition", batch_create_partition },
	{ "BatchDeletePartition", batch_delete_partition },
	{ "BatchGetPartition", batch_get_partition },
	{ "CreatePartition", create_partition },
	{ "DeletePartition", delete_partition },
	{ "GetPartition", get_partition },
	{ "GetPartitions", get_partitions },
	{ "UpdatePartition", update_partition },
};

fl_handler_fn fl_glue_partition_handler(const char *op)
{
	if (!op)
		return NULL;
	for (size_t i = 0; i < sizeof partition_ops / sizeof partition_ops[0]; i++)
		if (strcmp(partition_ops[i].op, op) == 0)
			return partition_ops[i].fn;
	return NULL;
}
