/*
 * athena_query.c - Athena's query executions: StartQueryExecution,
 * GetQueryExecution, GetQueryResults, StopQueryExecution,
 * ListQueryExecutions, BatchGetQueryExecution, GetQueryRuntimeStatistics.
 *
 * DESIGN: an execution is a row of fl_athena_queries; these handlers only
 * queue, read and flag rows, and read results back from storage.  The
 * engine (query.c) claims and runs them.
 *
 * Start checks the workgroup (unknown or DISABLED: InvalidRequestException),
 * picks the output location as Athena does (the workgroup's when it
 * enforces its configuration, else the request's, else the workgroup's;
 * none at all is refused), bounds the executions QUEUED or RUNNING
 * (FL_QUERY_MAX_ACTIVE: TooManyRequestsException) and inserts the row.
 * ClientRequestToken makes it idempotent: the unique index on (workgroup,
 * request_token) turns a second insert into a lookup of the first id (the
 * same token with another query text is refused).  ExecutionParameters
 * replace the '?' placeholders outside strings, quoted names and comments,
 * in order; the query stored (and shown) is the text with them in.
 *
 * Results are read back from the object the engine wrote (query.c draws
 * the format): GetQueryResults pages through it at most 1000 rows a page,
 * the header row first on the first page of a SELECT (it counts as a row);
 * a NULL is a Datum without VarCharValue.  The NextToken carries the byte
 * offset of the next row and the execution id, so a page is parsed from
 * where the last one stopped; the object is read whole each time (storage
 * has no ranged get).  DDL results (.txt) are tab-separated rows without
 * a header.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "athena.h"
#include "athena_csv.h"
#include "athena_ddl.h"
#include "awsjson.h"
#include "awsshape.h"
#include "catalog.h"
#include "db.h"
#include "query.h"
#include "server.h"
#include "sqlrewrite.h"
#include "storage.h"

#define FL_QUERY_MAX_ACTIVE 100        /* QUEUED + RUNNING executions */
#define RESULTS_PAGE_MAX 1000          /* GetQueryResults MaxResults */
#define LIST_PAGE_MAX 50               /* ListQueryExecutions MaxResults */
#define RESULT_READ_MAX (((size_t)1 << 30) + 1)
#define TOKEN_MAX 1025
#define WORKGROUP_DEFAULT "primary"

/* ---- requests and answers ------------------------------------------------ */

static bool is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-'
		    : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static enum fl_result not_found(const char *id, struct fl_error *err)
{
	return fl_error_set(err, FL_INVALID, "QueryExecution %s was not found", id ? id : "");
}

static void uuid4(char out[37])
{
	unsigned char b[16] = { 0 };
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts, sizeof ts < sizeof b ? sizeof ts : sizeof b);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

/* ---- StartQueryExecution ------------------------------------------------- */

/* Copies sql to out with each '?' outside strings, quoted names and
 * comments replaced by the next parameter; their counts must match. */
static enum fl_result bind_parameters(const char *sql, const json_t *params, struct fl_buf *out,
				      struct fl_error *err)
{
	size_t holes = 0, n = json_array_size(params);
	enum fl_result r = FL_OK;
	for (const char *p = sql; *p && r == FL_OK; ) {
		const char *s = p;
		if (*p == '\'' || *p == '"') {
			char q = *p++;
			while (*p && !(*p == q && p[1] != q))
				p += *p == q ? 2 : 1;
			p += *p != '\0';
		} else if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
		} else if (*p == '?' && holes < n) {
			r = fl_buf_adds(out, json_string_value(json_array_get(params, holes++)));
			p++;
			continue;
		} else {
			holes += *p == '?';
			p++;
		}
		r = fl_buf_add(out, s, (size_t)(p - s));
	}
	if (r != FL_OK)
		return fl_error_set(err, r, "Query string is too long with its execution parameters");
	if (holes != n)
		return fl_error_set(err, FL_INVALID, "Incorrect number of parameters: expected %zu "
				    "but found %zu", holes, n);
	return FL_OK;
}

/* The workgroup's state and configuration; Athena's errors when it cannot
 * take queries. */
static enum fl_result load_workgroup(PGconn *conn, const char *name, bool need_enabled,
				     json_t **config, struct fl_error *err)
{
	PGresult *res = NULL;
	const char *params[] = { name };
	*config = NULL;
	enum fl_result r = fl_db_exec(conn, "SELECT state, configuration::text FROM "
				      "fl_athena_workgroups WHERE name = $1", 1, params, &res, err);
	if (r != FL_OK)
		return r;
	if (PQntuples(res) != 1)
		r = fl_error_set(err, FL_INVALID, "WorkGroup %s is not found.", name);
	else if (need_enabled && strcmp(PQgetvalue(res, 0, 0), "ENABLED") != 0)
		r = fl_error_set(err, FL_INVALID, "WorkGroup %s is disabled.", name);
	else if (!(*config = json_loads(PQgetvalue(res, 0, 1), 0, NULL)))
		r = fl_error_set(err, FL_INTERNAL, "workgroup %s: bad configuration", name);
	PQclear(res);
	return r;
}

/* s3://bucket/prefix/<id><ext> from the location Athena would use. */
static enum fl_result output_location(const json_t *in, const json_t *config, const char *id,
				      const char *ext, char *out, size_t n, struct fl_error *err)
{
	const char *wg_loc = fl_awsjson_member(json_object_get(config, "ResultConfiguration"),
					       "OutputLocation");
	const char *req_loc = fl_awsjson_member(json_object_get(in, "ResultConfiguration"),
						"OutputLocation");
	const char *loc = json_is_true(json_object_get(config, "EnforceWorkGroupConfiguration")) ||
		!req_loc || !req_loc[0] ? wg_loc : req_loc;
	char bucket[256];
	if (!loc || !loc[0])
		return fl_error_set(err, FL_INVALID, "No output location provided. An output "
				    "location is required either through the Workgroup result "
				    "configuration setting or as an API input.");
	const char *b = loc + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	if (strncmp(loc, "s3://", 5) != 0 || blen == 0 || blen >= sizeof bucket)
		return fl_error_set(err, FL_INVALID, "%s is not a valid S3 path.", loc);
	snprintf(bucket, sizeof bucket, "%.*s", (int)blen, b);
	size_t len = strlen(loc);
	int w = snprintf(out, n, "%s%s%s%s", loc, loc[len - 1] == '/' ? "" : "/", id, ext);
	if (w < 0 || (size_t)w >= n || fl_storage_check_name(bucket, out + 6 + blen, err) != FL_OK)
		return fl_error_set(err, FL_INVALID, "%s is not a valid S3 path.", loc);
	return FL_OK;
}

static enum fl_result start_query_execution(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *config = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct fl_buf sql;
	char id[37], location[2200], dbname[256];
	fl_buf_init(&sql, 4 * (size_t)FL_SQL_MAX_LEN);
	enum fl_result r = fl_awsjson_parse_athena(req, "StartQueryExecution", &in, err);
	if (r != FL_OK)
		goto out;
	const json_t *ctx = json_object_get(in, "QueryExecutionContext");
	const char *wg = fl_awsjson_member(in, "WorkGroup");
	if (!wg)
		wg = WORKGROUP_DEFAULT;
	const char *token = fl_awsjson_member(in, "ClientRequestToken");
	const char *db = fl_awsjson_member(ctx, "Database");
	const char *catalog = fl_awsjson_member(ctx, "Catalog");
	if (catalog && strcasecmp(catalog, FL_ATHENA_CATALOG) != 0) {
		r = fl_error_set(err, FL_INVALID, "DataCatalog %s was not found", catalog);
		goto out;
	}
	struct fl_error ignored;
	if (db && fl_catalog_name(db, NULL, dbname, &ignored) == FL_OK)
		db = dbname;
	if ((r = bind_parameters(fl_awsjson_member(in, "QueryString"),
				 json_object_get(in, "ExecutionParameters"), &sql, err)) != FL_OK)
		goto out;
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = load_workgroup(conn, wg, true, &config, err)) != FL_OK)
		goto out;
	uuid4(id);
	bool ddl = fl_ddl_is_ddl(sql.data);
	if ((r = output_location(in, config, id, ddl ? ".txt" : ".csv", location, sizeof location,
				 err)) != FL_OK ||
	    (r = fl_db_exec(conn, "SELECT count(*) FROM fl_athena_queries WHERE state IN "
			    "('QUEUED', 'RUNNING')", 0, NULL, &res, err)) != FL_OK)
		goto out;
	if (strtol(PQgetvalue(res, 0, 0), NULL, 10) >= FL_QUERY_MAX_ACTIVE) {
		r = fl_error_set(err, FL_LIMIT, "You have exceeded the limit for the number of "
				 "queries you can run concurrently. Reduce the number of concurrent "
				 "queries submitted by this account. Contact customer support to "
				 "request a concurrent query limit increase.");
		goto out;
	}
	PQclear(res);
	res = NULL;
	const char *params[] = { id, wg, token, sql.data, fl_ddl_statement_type(sql.data),
				 catalog ? catalog : FL_ATHENA_CATALOG, db, location };
	if ((r = fl_db_exec(conn, "INSERT INTO fl_athena_queries (id, workgroup, request_token, "
			    "query, statement_type, catalog, db, output_location) VALUES ($1, $2, $3, "
			    "$4, $5, $6, $7, $8) ON CONFLICT (workgroup, request_token) WHERE "
			    "request_token IS NOT NULL DO NOTHING RETURNING id", 8, params, &res,
			    err)) != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		/* The token was used before: that execution, if it is the same query. */
		PQclear(res);
		res = NULL;
		const char *p2[] = { wg, token };
		if ((r = fl_db_exec(conn, "SELECT id::text, query FROM fl_athena_queries WHERE "
				    "workgroup = $1 AND request_token = $2", 2, p2, &res, err)) != FL_OK)
			goto out;
		if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), sql.data) != 0) {
			r = fl_error_set(err, FL_INVALID, "Idempotent parameters do not match: the "
					 "ClientRequestToken was used with another query");
			goto out;
		}
		snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
	} else {
		fl_query_engine_wake(req->srv->query);
	}
	r = fl_awsjson_reply(req, JSON_COMPACT, json_pack("{s:s}", "QueryExecutionId", id), err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	fl_buf_free(&sql);
	json_decref(config);
	json_decref(in);
	return r;
}

/* ---- reading executions -------------------------------------------------- */

#define EXEC_COLUMNS                                                                         \
	"SELECT q.id::text, q.workgroup, q.query, q.statement_type, q.catalog, q.db, "       \
	"q.output_location, q.state, q.state_reason, q.error::text, "                        \
	"extract(epoch FROM q.submitted_at)::float8, extract(epoch FROM q.started_at)::float8, " \
	"extract(epoch FROM q.completed_at)::float8, q.queue_ms, q.planning_ms, q.engine_ms, " \
	"q.service_ms, q.scanned_bytes, q.input_rows, q.output_rows, q.output_bytes, "       \
	"extract(epoch FROM clock_timestamp())::float8, "                                    \
	"(SELECT w.configuration->'EngineVersion' FROM fl_athena_workgroups w "              \
	"WHERE w.name = q.workgroup)::text, q.columns::text FROM fl_athena_queries q "

enum { C_ID, C_WG, C_QUERY, C_STYPE, C_CATALOG, C_DB, C_OUTPUT, C_STATE, C_REASON, C_ERROR,
       C_SUBMITTED, C_STARTED, C_COMPLETED, C_QUEUE, C_PLANNING, C_ENGINE, C_SERVICE,
       C_SCANNED, C_INPUT_ROWS, C_OUTPUT_ROWS, C_OUTPUT_BYTES, C_NOW, C_ENGINE_VERSION,
       C_COLUMNS };

static const char *value(const PGresult *res, int i, int c)
{
	return PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
}

static double epoch(const PGresult *res, int i, int c)
{
	return PQgetisnull(res, i, c) ? -1 : strtod(PQgetvalue(res, i, c), NULL);
}

static json_int_t number(const PGresult *res, int i, int c)
{
	return PQgetisnull(res, i, c) ? 0 : strtoll(PQgetvalue(res, i, c), NULL, 10);
}

static json_int_t span_ms(double from, double to)
{
	return from < 0 || to < from ? 0 : (json_int_t)((to - from) * 1000 + 0.5);
}

/* The timeline of row i: queue, planning, engine, service, total. */
struct timeline {
	json_int_t queue, planning, engine, service, total;
};

static struct timeline timeline(const PGresult *res, int i)
{
	const char *state = PQgetvalue(res, i, C_STATE);
	double submitted = epoch(res, i, C_SUBMITTED), started = epoch(res, i, C_STARTED);
	double completed = epoch(res, i, C_COMPLETED), now = epoch(res, i, C_NOW);
	struct timeline t = { 0 };
	if (strcmp(state, "QUEUED") == 0) {
		t.queue = t.total = span_ms(submitted, now);
	} else if (strcmp(state, "RUNNING") == 0) {
		t.queue = span_ms(submitted, started);
		t.engine = span_ms(started, now);
		t.planning = number(res, i, C_PLANNING);
		t.total = span_ms(submitted, now);
	} else {
		t.queue = PQgetisnull(res, i, C_QUEUE) ? span_ms(submitted, completed)
			: number(res, i, C_QUEUE);
		t.planning = number(res, i, C_PLANNING);
		t.engine = number(res, i, C_ENGINE);
		t.service = number(res, i, C_SERVICE);
		t.total = span_ms(submitted, completed);
	}
	return t;
}

static const char *substatement(const char *stype, const char *sql)
{
	static const struct {
		const char *prefix, *name;
	} names[] = {
		{ "show databases", "SHOW_DATABASES" }, { "show schemas", "SHOW_DATABASES" },
		{ "show tables", "SHOW_TABLES" }, { "show partitions", "SHOW_PARTITIONS" },
		{ "show columns", "SHOW_COLUMNS" }, { "show create table", "SHOW_CREATE_TABLE" },
		{ "describe", "DESCRIBE_TABLE" }, { "create database", "CREATE_DATABASE" },
		{ "create schema", "CREATE_DATABASE" }, { "create external table", "CREATE_TABLE" },
		{ "msck", "MSCK_REPAIR_TABLE" }, { "alter table", "ALTER_TABLE" },
		{ "drop table", "DROP_TABLE" }, { "drop database", "DROP_DATABASE" },
		{ "drop schema", "DROP_DATABASE" },
	};
	char head[64];
	size_t n = 0;
	if (strcmp(stype, "DML") == 0)
		return "SELECT";
	for (const char *p = sql; *p && n < sizeof head - 1; p++) {
		if (isspace((unsigned char)*p)) {
			if (n && head[n - 1] != ' ')
				head[n++] = ' ';
		} else {
			head[n++] = (char)tolower((unsigned char)*p);
		}
	}
	head[n] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strncmp(head, names[i].prefix, strlen(names[i].prefix)) == 0)
			return names[i].name;
	return stype;
}

/* Athena's QueryExecution of row i. */
static json_t *execution_json(const PGresult *res, int i)
{
	struct timeline t = timeline(res, i);
	const char *state = PQgetvalue(res, i, C_STATE);
	json_t *status = json_pack("{s:s, s:f}", "State", state, "SubmissionDateTime",
				   epoch(res, i, C_SUBMITTED));
	json_t *ctx = json_pack("{s:s}", "Catalog", PQgetvalue(res, i, C_CATALOG));
	json_t *ev = value(res, i, C_ENGINE_VERSION) ? json_loads(value(res, i, C_ENGINE_VERSION),
								   0, NULL) : NULL;
	json_t *error = value(res, i, C_ERROR) ? json_loads(value(res, i, C_ERROR), 0, NULL) : NULL;
	bool ok = status && ctx;
	if (ok && value(res, i, C_DB))
		ok = json_object_set_new(ctx, "Database", json_string(value(res, i, C_DB))) == 0;
	if (ok && value(res, i, C_REASON))
		ok = json_object_set_new(status, "StateChangeReason",
					 json_string(value(res, i, C_REASON))) == 0;
	if (ok && epoch(res, i, C_COMPLETED) >= 0)
		ok = json_object_set_new(status, "CompletionDateTime",
					 json_real(epoch(res, i, C_COMPLETED))) == 0;
	if (ok && json_is_object(error)) {
		ok = json_object_set(status, "AthenaError", error) == 0;
	}
	json_decref(error);
	if (!json_is_object(ev)) {
		json_decref(ev);
		ev = json_pack("{s:s, s:s}", "SelectedEngineVersion", "AUTO",
			       "EffectiveEngineVersion", "Athena engine version 3");
	}
	json_t *stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:{s:b}}",
				  "EngineExecutionTimeInMillis", t.engine,
				  "DataScannedInBytes", number(res, i, C_SCANNED),
				  "TotalExecutionTimeInMillis", t.total,
				  "QueryQueueTimeInMillis", t.queue,
				  "QueryPlanningTimeInMillis", t.planning,
				  "ServiceProcessingTimeInMillis", t.service,
				  "ResultReuseInformation", "ReusedPreviousResult", 0);
	if (!ok || !stats || !ev) {
		json_decref(status);
		json_decref(ctx);
		json_decref(stats);
		json_decref(ev);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:{s:b}}, s:o, s:o, s:o, s:s, s:o, s:s}",
			 "QueryExecutionId", PQgetvalue(res, i, C_ID),
			 "Query", PQgetvalue(res, i, C_QUERY),
			 "StatementType", PQgetvalue(res, i, C_STYPE),
			 "ResultConfiguration", "OutputLocation", PQgetvalue(res, i, C_OUTPUT),
			 "ResultReuseConfiguration", "ResultReuseByAgeConfiguration", "Enabled", 0,
			 "QueryExecutionContext", ctx, "Status", status, "Statistics", stats,
			 "WorkGroup", PQgetvalue(res, i, C_WG), "EngineVersion", ev,
			 "SubstatementType", substatement(PQgetvalue(res, i, C_STYPE),
							  PQgetvalue(res, i, C_QUERY)));
}

/* Reads one execution; FL_INVALID (Athena's words) when there is none. */
static enum fl_result load_execution(PGconn *conn, const char *id, PGresult **res,
				     struct fl_error *err)
{
	const char *params[] = { id };
	*res = NULL;
	if (!is_uuid(id))
		return not_found(id, err);
	enum fl_result r = fl_db_exec(conn, EXEC_COLUMNS "WHERE q.id = $1::uuid", 1, params, res, err);
	if (r == FL_OK && PQntuples(*res) != 1) {
		PQclear(*res);
		*res = NULL;
		return not_found(id, err);
	}
	return r;
}

static enum fl_result get_query_execution(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "GetQueryExecution", &in, err);
	if (r == FL_OK && (r = fl_db_acquire(req->srv->db, &conn, err)) == FL_OK &&
	    (r = load_execution(conn, fl_awsjson_member(in, "QueryExecutionId"), &res,
				err)) == FL_OK) {
		json_t *qe = execution_json(res, 0);
		r = fl_awsjson_reply(req, JSON_COMPACT,
				     qe ? json_pack("{s:o}", "QueryExecution", qe) : NULL, err);
	}
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

static enum fl_result batch_get_query_execution(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *found = NULL, *missing = NULL, *ids = NULL, *v;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char *array = NULL;
	size_t k;
	enum fl_result r = fl_awsjson_parse_athena(req, "BatchGetQueryExecution", &in, err);
	if (r != FL_OK)
		goto out;
	/* The well-formed ids as a PostgreSQL uuid[] literal. */
	ids = json_array();
	json_array_foreach(json_object_get(in, "QueryExecutionIds"), k, v)
		if (is_uuid(json_string_value(v)))
			json_array_append(ids, v);
	struct fl_buf lit;
	fl_buf_init(&lit, 64 * 50);
	r = fl_buf_addc(&lit, '{');
	json_array_foreach(ids, k, v)
		if (r == FL_OK)
			r = fl_buf_printf(&lit, "%s%s", k ? "," : "", json_string_value(v));
	if (r == FL_OK)
		r = fl_buf_addc(&lit, '}');
	array = fl_buf_steal(&lit, NULL);
	const char *params[] = { array };
	if (r != FL_OK || !array) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = fl_db_exec(conn, EXEC_COLUMNS "WHERE q.id = ANY($1::uuid[])", 1, params, &res,
			    err)) != FL_OK)
		goto out;
	found = json_array();
	missing = json_array();
	json_array_foreach(json_object_get(in, "QueryExecutionIds"), k, v) {
		const char *id = json_string_value(v);
		int row = -1;
		for (int i = 0; i < PQntuples(res) && row < 0; i++)
			if (strcasecmp(PQgetvalue(res, i, C_ID), id) == 0)
				row = i;
		char msg[200];
		snprintf(msg, sizeof msg, "QueryExecution %s was not found", id);
		json_t *item = row >= 0 ? execution_json(res, row)
			: json_pack("{s:s, s:s, s:s}", "QueryExecutionId", id, "ErrorCode",
				    "INVALID_INPUT", "ErrorMessage", msg);
		if (!found || !missing || !item ||
		    json_array_append_new(row >= 0 ? found : missing, item) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	r = fl_awsjson_reply(req, JSON_COMPACT, json_pack("{s:O, s:O}", "QueryExecutions", found,
							  "UnprocessedQueryExecutionIds", missing),
			     err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	free(array);
	json_decref(found);
	json_decref(missing);
	json_decref(ids);
	json_decref(in);
	return r;
}

static enum fl_result list_query_executions(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *config = NULL, *list = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char after[TOKEN_MAX], limit[16], *sep = NULL;
	const char *after_us = NULL, *after_id = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "ListQueryExecutions", &in, err);
	if (r != FL_OK)
		goto out;
	const char *wg = fl_awsjson_member(in, "WorkGroup");
	if (!wg)
		wg = WORKGROUP_DEFAULT;
	json_int_t max = json_integer_value(json_object_get(in, "MaxResults"));
	if (max < 1 || max > LIST_PAGE_MAX)
		max = LIST_PAGE_MAX;
	if (fl_awsjson_member(in, "NextToken")) {
		/* "<submitted_at, epoch microseconds>/<id>" */
		if ((r = fl_catalog_token_decode(fl_awsjson_member(in, "NextToken"), after,
						 sizeof after,
						 err)) != FL_OK)
			goto out;
		if (!(sep = strchr(after, '/')) || !is_uuid(sep + 1)) {
			r = fl_error_set(err, FL_INVALID, "Invalid pagination token");
			goto out;
		}
		*sep = '\0';
		after_us = after;
		after_id = sep + 1;
	}
	snprintf(limit, sizeof limit, "%d", (int)max + 1);
	const char *params[] = { wg, after_us, after_id, limit };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = load_workgroup(conn, wg, false, &config, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "SELECT id::text, (extract(epoch FROM submitted_at) * 1000000)"
			    "::bigint FROM fl_athena_queries WHERE workgroup = $1 AND ($2::bigint IS "
			    "NULL OR ((extract(epoch FROM submitted_at) * 1000000)::bigint, id) < "
			    "($2::bigint, $3::uuid)) ORDER BY submitted_at DESC, id DESC LIMIT $4",
			    4, params, &res, err)) != FL_OK)
		goto out;
	list = json_array();
	json_t *out = json_object();
	if (!list || !out || json_object_set(out, "QueryExecutionIds", list) != 0) {
		json_decref(out);
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	int rows = PQntuples(res);
	for (int i = 0; i < rows && i < max; i++)
		json_array_append_new(list, json_string(PQgetvalue(res, i, 0)));
	if (rows > max) {
		char key[128], token[TOKEN_MAX];
		snprintf(key, sizeof key, "%s/%s", PQgetvalue(res, (int)max - 1, 1),
			 PQgetvalue(res, (int)max - 1, 0));
		if (fl_catalog_token_encode(key, token, sizeof token) != FL_OK ||
		    json_object_set_new(out, "NextToken", json_string(token)) != 0) {
			json_decref(out);
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	r = fl_awsjson_reply(req, JSON_COMPACT, out, err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(list);
	json_decref(config);
	json_decref(in);
	return r;
}

static enum fl_result stop_query_execution(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "StopQueryExecution", &in, err);
	const char *id = fl_awsjson_member(in, "QueryExecutionId");
	const char *params[] = { id };
	if (r != FL_OK)
		goto out;
	if (!is_uuid(id)) {
		r = not_found(id, err);
		goto out;
	}
	/* QUEUED ends here; RUNNING is flagged for its runner (this process
	 * or another); a finished execution stays as it is. */
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "UPDATE fl_athena_queries SET cancel = cancel OR state IN "
			    "('QUEUED', 'RUNNING'), state_reason = CASE WHEN state = 'QUEUED' THEN "
			    "'Query cancelled by user' ELSE state_reason END, completed_at = CASE "
			    "WHEN state = 'QUEUED' THEN clock_timestamp() ELSE completed_at END, "
			    "state = CASE WHEN state = 'QUEUED' THEN 'CANCELLED' ELSE state END "
			    "WHERE id = $1::uuid RETURNING state", 1, params, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) != 1) {
		r = not_found(id, err);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "RUNNING") == 0)
		fl_query_engine_cancel(req->srv->query, id);
	r = fl_awsjson_reply(req, JSON_COMPACT, json_object(), err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

static enum fl_result get_query_runtime_statistics(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "GetQueryRuntimeStatistics", &in, err);
	if (r != FL_OK || (r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = load_execution(conn, fl_awsjson_member(in, "QueryExecutionId"), &res,
				err)) != FL_OK)
		goto out;
	struct timeline t = timeline(res, 0);
	json_int_t in_rows = number(res, 0, C_INPUT_ROWS), in_bytes = number(res, 0, C_SCANNED);
	json_int_t out_rows = number(res, 0, C_OUTPUT_ROWS), out_bytes = number(res, 0, C_OUTPUT_BYTES);
	r = fl_awsjson_reply(req, JSON_COMPACT,
			     json_pack("{s:{s:{s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}, "
				       "s:{s:I, s:s, s:I, s:I, s:I, s:I, s:I}}}",
				       "QueryRuntimeStatistics",
				       "Timeline", "QueryQueueTimeInMillis", t.queue,
				       "QueryPlanningTimeInMillis", t.planning,
				       "EngineExecutionTimeInMillis", t.engine,
				       "ServiceProcessingTimeInMillis", t.service,
				       "TotalExecutionTimeInMillis", t.total,
				       "Rows", "InputRows", in_rows, "InputBytes", in_bytes,
				       "OutputBytes", out_bytes, "OutputRows", out_rows,
				       "OutputStage", "StageId", (json_int_t)0,
				       "State", PQgetvalue(res, 0, C_STATE),
				       "OutputBytes", out_bytes, "OutputRows", out_rows,
				       "InputBytes", in_bytes, "InputRows", in_rows,
				       "ExecutionTime", t.engine - t.planning), err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

/* ---- GetQueryResults ----------------------------------------------------- */

static enum fl_result get_query_results(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *columns = NULL, *rows = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct fl_buf data, tmp;
	char token[TOKEN_MAX], bucket[256], key[1100];
	size_t offset = 0;
	fl_buf_init(&data, RESULT_READ_MAX);
	fl_buf_init(&tmp, RESULT_READ_MAX);
	enum fl_result r = fl_awsjson_parse_athena(req, "GetQueryResults", &in, err);
	const char *id = fl_awsjson_member(in, "QueryExecutionId");
	if (r != FL_OK)
		goto out;
	const char *result_type = fl_awsjson_member(in, "QueryResultType");
	if (result_type && strcmp(result_type, "DATA_ROWS")) {
		r = fl_error_set(err, FL_INVALID, "A data manifest is only written for queries "
				 "that write tables; use QueryResultType DATA_ROWS");
		goto out;
	}
	json_int_t max = json_integer_value(json_object_get(in, "MaxResults"));
	if (max < 1 || max > RESULTS_PAGE_MAX)
		max = RESULTS_PAGE_MAX;
	if (fl_awsjson_member(in, "NextToken")) {
		/* "<byte offset>/<id>" */
		char *sep, *end;
		if ((r = fl_catalog_token_decode(fl_awsjson_member(in, "NextToken"), token,
						 sizeof token,
						 err)) != FL_OK)
			goto out;
		offset = strtoull(token, &end, 10);
		if (!(sep = strchr(token, '/')) || end != sep || !id || strcasecmp(sep + 1, id) != 0) {
			r = fl_error_set(err, FL_INVALID, "Invalid pagination token");
			goto out;
		}
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = load_execution(conn, id, &res, err)) != FL_OK)
		goto out;
	fl_db_release(req->srv->db, conn);
	conn = NULL;
	const char *state = PQgetvalue(res, 0, C_STATE), *loc = PQgetvalue(res, 0, C_OUTPUT);
	if (strcmp(state, "QUEUED") == 0 || strcmp(state, "RUNNING") == 0) {
		r = fl_error_set(err, FL_INVALID, "Query has not yet finished. Current state: %s", state);
		goto out;
	}
	if (strcmp(state, "SUCCEEDED") != 0) {
		r = fl_error_set(err, FL_INVALID, "Query did not finish successfully. Final query "
				 "state: %s", state);
		goto out;
	}
	const char *slash = strncmp(loc, "s3://", 5) == 0 ? strchr(loc + 5, '/') : NULL;
	if (!slash || (size_t)(slash - loc - 5) >= sizeof bucket || strlen(slash + 1) >= sizeof key) {
		r = fl_error_set(err, FL_INTERNAL, "bad output location %s", loc);
		goto out;
	}
	snprintf(bucket, sizeof bucket, "%.*s", (int)(slash - loc - 5), loc + 5);
	snprintf(key, sizeof key, "%s", slash + 1);
	r = fl_storage_get(req->srv->storage, bucket, key, &data, err);
	if (r == FL_NOT_FOUND)
		r = fl_error_set(err, FL_INVALID, "The results of query %s are no longer at %s", id, loc);
	if (r != FL_OK)
		goto out;
	columns = value(res, 0, C_COLUMNS) ? json_loads(value(res, 0, C_COLUMNS), 0, NULL) : NULL;
	if (!json_is_array(columns)) {
		json_decref(columns);
		columns = json_array();
	}
	bool txt = strlen(key) > 4 && strcmp(key + strlen(key) - 4, ".txt") == 0;
	const char *p = data.data ? data.data + (offset < data.len ? offset : data.len) : "";
	const char *end = data.data ? data.data + data.len : p;
	rows = json_array();
	for (json_int_t n = 0; rows && n < max && p < end; n++) {
		json_t *row = fl_athena_csv_row(&p, end, txt, json_array_size(columns), &tmp);
		if (!row || json_array_append_new(rows, row) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "cannot read the results of query %s", id);
			goto out;
		}
	}
	json_t *out = json_pack("{s:I, s:{s:O, s:{s:O}}}", "UpdateCount", (json_int_t)0,
				"ResultSet", "Rows", rows, "ResultSetMetadata", "ColumnInfo", columns);
	if (out && p < end) {
		char next[128];
		snprintf(next, sizeof next, "%zu/%s", (size_t)(p - data.data), id);
		if (fl_catalog_token_encode(next, token, sizeof token) != FL_OK ||
		    json_object_set_new(out, "NextToken", json_string(token)) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
	r = fl_awsjson_reply(req, JSON_COMPACT, out, err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	fl_buf_free(&data);
	fl_buf_free(&tmp);
	json_decref(rows);
	json_decref(columns);
	json_decref(in);
	return r;
}

fl_handler_fn fl_athena_query_handler(const char *op)
{
	static const struct {
		const char *op;
		fl_handler_fn fn;
	} ops[] = {
		{ "StartQueryExecution", start_query_execution },
		{ "GetQueryExecution", get_query_execution },
		{ "GetQueryResults", get_query_results },
		{ "StopQueryExecution", stop_query_execution },
		{ "ListQueryExecutions", list_query_executions },
		{ "BatchGetQueryExecution", batch_get_query_execution },
		{ "GetQueryRuntimeStatistics", get_query_runtime_statistics },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(op, ops[i].op) == 0)
			return ops[i].fn;
	return NULL;
}
