/*
 * athena_workgroup.c - Athena's workgroups and named queries:
 * CreateWorkGroup, GetWorkGroup, ListWorkGroups, UpdateWorkGroup,
 * DeleteWorkGroup, CreateNamedQuery, GetNamedQuery, ListNamedQueries,
 * BatchGetNamedQuery, UpdateNamedQuery, DeleteNamedQuery.
 *
 * DESIGN: a workgroup is one row of fl_athena_workgroups (sql/0004_athena.sql)
 * and its WorkGroupConfiguration is kept as the jsonb document the API
 * shows, so that GetWorkGroup is a read and the query engine (query.c)
 * reads its limits straight from the row.  What is written:
 *   - the members of the model's WorkGroupConfiguration that were given
 *     (others are dropped), with Athena's defaults filled in:
 *     EnforceWorkGroupConfiguration, PublishCloudWatchMetricsEnabled and
 *     RequesterPaysEnabled false, EngineVersion {SelectedEngineVersion
 *     AUTO, EffectiveEngineVersion "Athena engine version 3"} (the only
 *     engine firelake has; EffectiveEngineVersion is read-only, as in
 *     Athena);
 *   - ResultConfiguration.OutputLocation, when given, is an s3:// URL
 *     with a bucket;
 *   - firelake's statement timeout.  Athena has no per-workgroup timeout
 *     in its API, so firelake reads it from the one free-form member the
 *     configuration has, AdditionalConfiguration (a string of at most 128
 *     characters): when that string is a JSON object with a member
 *     "StatementTimeoutInSeconds", an integer from 1 to 86400, the value
 *     is stored beside the configuration as
 *     configuration.StatementTimeoutInSeconds, which query.c reads
 *     (default 1800 s when absent).  For example:
 *       aws athena create-work-group --name etl --configuration \
 *         'AdditionalConfiguration={"StatementTimeoutInSeconds": 300}'
 *     The timeout always follows AdditionalConfiguration: an update that
 *     replaces it without the member goes back to the default.  Get shows
 *     AdditionalConfiguration as given and never the internal member.
 * UpdateWorkGroup merges ConfigurationUpdates into the stored document
 * under a row lock (SELECT ... FOR UPDATE): each member given replaces the
 * stored one, each Remove* flag removes its member, and
 * ResultConfigurationUpdates / ManagedQueryResultsConfigurationUpdates do
 * the same one level down.
 *
 * The primary workgroup comes with the migration; it cannot be created or
 * deleted.  DeleteWorkGroup refuses a workgroup that holds named queries
 * or query executions unless RecursiveDeleteOption is true, which deletes
 * them with it (and cancels those this process is running).
 *
 * Named queries are rows of fl_athena_named_queries with UUID v4 ids.  A
 * CreateNamedQuery with a ClientRequestToken derives its id from the token
 * (SHA-256, shaped as a v4 UUID), so a retried request answers the same
 * id; the same token with other parameters is refused.  A named query is
 * made in an existing, ENABLED workgroup (primary by default).  Lists page
 * with keyset tokens (fl_catalog_token_*): workgroups by name, named
 * queries by (created_at, id); no NextToken on the last page.
 *
 * Errors are Athena's InvalidRequestException, worded as Athena does:
 * "WorkGroup <name> is not found.", "WorkGroup <name> is already
 * created.", "WorkGroup <name> is not empty", "primary workGroup could
 * not be created|deleted", "NamedQuery <id> does not exist".
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "athena.h"
#include "awsjson.h"
#include "awsshape.h"
#include "catalog.h"
#include "db.h"
#include "query.h"
#include "server.h"

#define PRIMARY "primary"
#define PAGE_MAX 50                  /* MaxWorkGroupsCount, MaxNamedQueriesCount */
#define TOKEN_MAX 1025               /* the model's Token: 1-1024 */
#define TIMEOUT_MAX_S 86400
#define ENGINE_AUTO "AUTO"
#define ENGINE_3 "Athena engine version 3"
#define TIMEOUT_MEMBER "StatementTimeoutInSeconds"
#define BATCH_MAX 50                 /* NamedQueryIdList */
#define INVALID_REQUEST "InvalidRequestException"

/* ---- requests and answers -------------------------------------------------- */

static bool flag(const json_t *in, const char *name)
{
	return json_is_true(json_object_get(in, name));
}

static enum fl_result reply_empty(struct fl_req *req, struct fl_error *err)
{
	return fl_buf_adds(&req->out, "{}") == FL_OK ? FL_OK
		: fl_error_set(err, FL_INTERNAL, "out of memory");
}

static enum fl_result workgroup_not_found(const char *name, struct fl_error *err)
{
	return fl_error_set_type(err, FL_NOT_FOUND, INVALID_REQUEST, "WorkGroup %s is not found.",
				 name);
}

static enum fl_result named_query_not_found(const char *id, struct fl_error *err)
{
	return fl_error_set_type(err, FL_NOT_FOUND, INVALID_REQUEST, "NamedQuery %s does not exist",
				 id);
}

static int page_size(const json_t *in)
{
	json_t *v = json_object_get(in, "MaxResults");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return PAGE_MAX;  /* ListNamedQueries' 0: the default page */
	json_int_t n = json_integer_value(v);
	return n > PAGE_MAX ? PAGE_MAX : (int)n;
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

static enum fl_result bad_token(struct fl_error *err)
{
	return fl_error_set(err, FL_INVALID, "Invalid pagination token");
}

/* Transactions on a borrowed connection: end() commits when *r is FL_OK,
 * else rolls back (when the connection still stands). */
static enum fl_result begin(PGconn *conn, struct fl_error *err)
{
	return fl_db_exec(conn, "BEGIN", 0, NULL, NULL, err);
}

static void end(PGconn *conn, enum fl_result *r, struct fl_error *err)
{
	if (*r == FL_OK)
		*r = fl_db_exec(conn, "COMMIT", 0, NULL, NULL, err);
	else if (PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
}

/* ---- ids ------------------------------------------------------------------- */

static void uuid_text(uint8_t b[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int o = 0;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* A random v4 UUID, or the one a ClientRequestToken names. */
static enum fl_result named_query_id(const char *token, char out[37], struct fl_error *err)
{
	uint8_t b[16];
	if (!token) {
		if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
			return fl_error_set(err, FL_INTERNAL, "no randomness for an id");
		uuid_text(b, out);
		return FL_OK;
	}
	static const char tag[] = "firelake athena named query";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
		EVP_DigestUpdate(ctx, tag, sizeof tag) &&
		EVP_DigestUpdate(ctx, token, strlen(token)) &&
		EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= 16;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return fl_error_set(err, FL_INTERNAL, "cannot derive an id from the request token");
	memcpy(b, md, 16);
	uuid_text(b, out);
	return FL_OK;
}

/* True when s is a UUID as PostgreSQL reads it in its canonical form
 * (any case): only such ids can name a named query. */
static bool is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') ||
					   (s[i] >= 'a' && s[i] <= 'f') ||
					   (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	}
	return true;
}

/* ---- workgroup configurations ---------------------------------------------- */

/* WorkGroupConfiguration's members (botocore's model). */
static const char *const config_members[] = {
	"ResultConfiguration", "ManagedQueryResultsConfiguration",
	"EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled",
	"BytesScannedCutoffPerQuery", "RequesterPaysEnabled", "EngineVersion",
	"AdditionalConfiguration", "ExecutionRole", "MonitoringConfiguration",
	"EngineConfiguration", "CustomerContentEncryptionConfiguration",
	"EnableMinimumEncryptionConfiguration", "IdentityCenterConfiguration",
	"QueryResultsS3AccessGrantsConfiguration", NULL,
};

/* The members of WorkGroupConfigurationUpdates that replace the stored
 * member of the same name as they are (and Remove<Name> flags, for those
 * that have one: BytesScannedCutoffPerQuery,
 * CustomerContentEncryptionConfiguration). */
static const char *const update_members[] = {
	"EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled",
	"BytesScannedCutoffPerQuery", "RequesterPaysEnabled", "AdditionalConfiguration",
	"ExecutionRole", "CustomerContentEncryptionConfiguration",
	"EnableMinimumEncryptionConfiguration", "QueryResultsS3AccessGrantsConfiguration",
	"MonitoringConfiguration", "EngineConfiguration", NULL,
};

/* An output location must be s3://<bucket>[/<prefix>]. */
static enum fl_result check_output_location(const char *loc, struct fl_error *err)
{
	size_t bucket = 0;
	if (loc && strncmp(loc, "s3://", 5) == 0) {
		const char *p = loc + 5;
		while (p[bucket] && p[bucket] != '/') {
			char c = p[bucket];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			      c == '_'))
				break;
			bucket++;
		}
		if (bucket >= 3 && bucket <= 63 && (p[bucket] == '\0' || p[bucket] == '/'))
			return FL_OK;
	}
	return fl_error_set(err, FL_INVALID, "The S3 location provided to save your query results "
			    "is invalid. Please check your S3 location is correct and is in the "
			    "same region and try again.");
}

/* EngineVersion as Athena answers it for a requested one (NULL: AUTO). */
static enum fl_result engine_version(const json_t *given, json_t **out, struct fl_error *err)
{
	const char *selected = fl_awsjson_member(given, "SelectedEngineVersion");
	*out = NULL;
	if (!selected || strcasecmp(selected, ENGINE_AUTO) == 0)
		selected = ENGINE_AUTO;
	else if (strcasecmp(selected, ENGINE_3) == 0)
		selected = ENGINE_3;
	else
		return fl_error_set(err, FL_INVALID, "Invalid engine version: %s", selected);
	*out = json_pack("{s:s, s:s}", "SelectedEngineVersion", selected,
			 "EffectiveEngineVersion", ENGINE_3);
	return *out ? FL_OK : fl_error_set(err, FL_INTERNAL, "out of memory");
}

/* Athena's defaults for the members not given. */
static bool fill_defaults(json_t *config)
{
	static const char *const falses[] = { "EnforceWorkGroupConfiguration",
		"PublishCloudWatchMetricsEnabled", "RequesterPaysEnabled", NULL };
	for (int i = 0; falses[i]; i++)
		if (!json_object_get(config, falses[i]) &&
		    json_object_set_new(config, falses[i], json_false()) != 0)
			return false;
	if (!json_is_object(json_object_get(config, "EngineVersion"))) {
		json_t *ev = json_pack("{s:s, s:s}", "SelectedEngineVersion", ENGINE_AUTO,
				       "EffectiveEngineVersion", ENGINE_3);
		if (!ev || json_object_set_new(config, "EngineVersion", ev) != 0)
			return false;
	}
	return true;
}

/* Recomputes configuration.StatementTimeoutInSeconds from
 * AdditionalConfiguration (see the top of the file). */
static enum fl_result apply_timeout(json_t *config, struct fl_error *err)
{
	const char *extra = fl_awsjson_member(config, "AdditionalConfiguration");
	json_t *doc = extra ? json_loads(extra, JSON_DECODE_ANY, NULL) : NULL;
	json_t *v = json_object_get(doc, TIMEOUT_MEMBER);
	enum fl_result r = FL_OK;
	json_object_del(config, TIMEOUT_MEMBER);
	if (!json_is_object(doc) || !v)
		goto out;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > TIMEOUT_MAX_S) {
		r = fl_error_set(err, FL_INVALID, "AdditionalConfiguration: %s must be an integer "
				 "from 1 to %d", TIMEOUT_MEMBER, TIMEOUT_MAX_S);
		goto out;
	}
	if (json_object_set_new(config, TIMEOUT_MEMBER, json_integer(json_integer_value(v))) != 0)
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
out:
	json_decref(doc);
	return r;
}

/* The stored document of CreateWorkGroup's Configuration (may be NULL).
 * Caller owns *out. */
static enum fl_result new_config(const json_t *given, json_t **out, struct fl_error *err)
{
	json_t *config = json_object(), *ev = NULL;
	enum fl_result r = FL_OK;
	*out = NULL;
	if (!config)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	for (int i = 0; config_members[i]; i++) {
		json_t *v = json_object_get(given, config_members[i]);
		if (v && json_object_set(config, config_members[i], v) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	const char *loc = fl_awsjson_member(json_object_get(config, "ResultConfiguration"),
					    "OutputLocation");
	if ((loc && (r = check_output_location(loc, err)) != FL_OK) ||
	    (r = engine_version(json_object_get(config, "EngineVersion"), &ev, err)) != FL_OK)
		goto out;
	if (json_object_set_new(config, "EngineVersion", ev) != 0 || !fill_defaults(config)) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = apply_timeout(config, err)) != FL_OK)
		goto out;
	*out = config;
	config = NULL;
out:
	json_decref(config);
	return r;
}

/* Applies one level of updates: Remove<Name> flags, then the members. */
static enum fl_result merge_level(json_t *into, const json_t *updates,
				  const char *const *members, struct fl_error *err)
{
	char flagname[96];
	for (int i = 0; members[i]; i++) {
		snprintf(flagname, sizeof flagname, "Remove%s", members[i]);
		if (flag(updates, flagname))
			json_object_del(into, members[i]);
		json_t *v = json_object_get(updates, members[i]);
		if (v && json_object_set(into, members[i], v) != 0)
			return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	return FL_OK;
}

/* Merges UpdateWorkGroup's ConfigurationUpdates into config. */
static enum fl_result merge_config(json_t *config, const json_t *updates, struct fl_error *err)
{
	static const char *const result_members[] = { "OutputLocation", "EncryptionConfiguration",
		"ExpectedBucketOwner", "AclConfiguration", NULL };
	static const char *const managed_members[] = { "Enabled", "EncryptionConfiguration", NULL };
	enum fl_result r;
	if (!updates)
		return FL_OK;
	if ((r = merge_level(config, updates, update_members, err)) != FL_OK)
		return r;

	const json_t *ev_given = json_object_get(updates, "EngineVersion");
	if (ev_given) {
		json_t *ev = NULL;
		if ((r = engine_version(ev_given, &ev, err)) != FL_OK)
			return r;
		if (json_object_set_new(config, "EngineVersion", ev) != 0)
			return fl_error_set(err, FL_INTERNAL, "out of memory");
	}

	const json_t *rcu = json_object_get(updates, "ResultConfigurationUpdates");
	if (rcu) {
		const char *loc = fl_awsjson_member(rcu, "OutputLocation");
		if (loc && (r = check_output_location(loc, err)) != FL_OK)
			return r;
		json_t *rc = json_deep_copy(json_object_get(config, "ResultConfiguration"));
		if (!rc)
			rc = json_object();
		if (!rc || (r = merge_level(rc, rcu, result_members, err)) != FL_OK) {
			json_decref(rc);
			return r != FL_OK ? r : fl_error_set(err, FL_INTERNAL, "out of memory");
		}
		if (json_object_size(rc) == 0) {
			json_decref(rc);
			json_object_del(config, "ResultConfiguration");
		} else if (json_object_set_new(config, "ResultConfiguration", rc) != 0) {
			return fl_error_set(err, FL_INTERNAL, "out of memory");
		}
	}

	const json_t *mqu = json_object_get(updates, "ManagedQueryResultsConfigurationUpdates");
	if (mqu) {
		json_t *m = json_deep_copy(json_object_get(config, "ManagedQueryResultsConfiguration"));
		if (!m)
			m = json_object();
		if (!m || (r = merge_level(m, mqu, managed_members, err)) != FL_OK ||
		    (!json_object_get(m, "Enabled") &&
		     json_object_set_new(m, "Enabled", json_false()) != 0)) {
			json_decref(m);
			return r != FL_OK ? r : fl_error_set(err, FL_INTERNAL, "out of memory");
		}
		if (json_object_set_new(config, "ManagedQueryResultsConfiguration", m) != 0)
			return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	if (!fill_defaults(config))
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	return apply_timeout(config, err);
}

/* The API's view of a stored configuration: defaults filled, firelake's
 * own member left out.  NULL on a broken document. */
static json_t *config_view(const char *text)
{
	json_t *config = json_loads(text, 0, NULL);
	if (!json_is_object(config) || !fill_defaults(config)) {
		json_decref(config);
		return NULL;
	}
	json_object_del(config, TIMEOUT_MEMBER);
	return config;
}

/* ---- workgroups ------------------------------------------------------------ */

#define WG_COLUMNS "name, state, description, configuration::text, " \
	"extract(epoch FROM created_at)::float8"

/* WorkGroup (summary false) or WorkGroupSummary from a row of WG_COLUMNS. */
static json_t *workgroup_json(PGresult *res, int row, bool summary)
{
	json_t *config = config_view(PQgetvalue(res, row, 3));
	if (!config)
		return NULL;
	json_t *wg = json_pack("{s:s, s:s, s:s, s:f}", "Name", PQgetvalue(res, row, 0),
			       "State", PQgetvalue(res, row, 1),
			       "Description", PQgetvalue(res, row, 2),
			       "CreationTime", strtod(PQgetvalue(res, row, 4), NULL));
	bool ok = wg != NULL;
	if (ok && summary)
		ok = json_object_set(wg, "EngineVersion", json_object_get(config, "EngineVersion")) == 0;
	else if (ok)
		ok = json_object_set(wg, "Configuration", config) == 0;
	json_decref(config);
	if (!ok) {
		json_decref(wg);
		return NULL;
	}
	return wg;
}

static enum fl_result create_work_group(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *config = NULL;
	PGconn *conn = NULL;
	char *config_text = NULL, *tags_text = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "CreateWorkGroup", &in, err);
	if (r != FL_OK)
		goto out;
	const char *name = fl_awsjson_member(in, "Name");
	if (strcmp(name, PRIMARY) == 0) {
		r = fl_error_set(err, FL_EXISTS, "primary workGroup could not be created");
		goto out;
	}
	if ((r = new_config(json_object_get(in, "Configuration"), &config, err)) != FL_OK)
		goto out;
	json_t *tags = json_object_get(in, "Tags");
	config_text = json_dumps(config, JSON_COMPACT);
	tags_text = tags ? json_dumps(tags, JSON_COMPACT) : strdup("[]");
	if (!config_text || !tags_text) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	const char *desc = fl_awsjson_member(in, "Description");
	const char *params[] = { name, desc ? desc : "", config_text, tags_text };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK)
		goto out;
	r = fl_db_exec(conn, "INSERT INTO fl_athena_workgroups (name, description, configuration, "
		       "tags) VALUES ($1, $2, $3::jsonb, $4::jsonb)", 4, params, NULL, err);
	if (r == FL_EXISTS)
		r = fl_error_set_type(err, FL_EXISTS, INVALID_REQUEST,
				      "WorkGroup %s is already created.", name);
	if (r == FL_OK)
		r = reply_empty(req, err);
out:
	if (conn)
		fl_db_release(req->srv->db, conn);
	free(config_text);
	free(tags_text);
	json_decref(config);
	json_decref(in);
	return r;
}

static enum fl_result get_work_group(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "GetWorkGroup", &in, err);
	if (r != FL_OK)
		goto out;
	const char *name = fl_awsjson_member(in, "WorkGroup");
	const char *params[] = { name };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "SELECT " WG_COLUMNS " FROM fl_athena_workgroups WHERE name = $1",
			    1, params, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) != 1) {
		r = workgroup_not_found(name, err);
		goto out;
	}
	json_t *wg = workgroup_json(res, 0, false);
	if (!wg) {
		r = fl_error_set(err, FL_INTERNAL, "workgroup %s: bad configuration", name);
		goto out;
	}
	r = fl_awsjson_reply(req, JSON_COMPACT, json_pack("{s:o}", "WorkGroup", wg), err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

static enum fl_result list_work_groups(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *out = NULL, *list = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char after[TOKEN_MAX] = "", limit[16];
	enum fl_result r = fl_awsjson_parse_athena(req, "ListWorkGroups", &in, err);
	if (r != FL_OK)
		goto out;
	const char *token = fl_awsjson_member(in, "NextToken");
	if (token && (fl_catalog_token_decode(token, after, sizeof after, err) != FL_OK ||
		      !after[0])) {
		r = bad_token(err);
		goto out;
	}
	int max = page_size(in);
	snprintf(limit, sizeof limit, "%d", max + 1);
	const char *params[] = { after, limit };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "SELECT " WG_COLUMNS " FROM fl_athena_workgroups WHERE name > $1 "
			    "ORDER BY name LIMIT $2", 2, params, &res, err)) != FL_OK)
		goto out;
	out = json_object();
	list = json_array();
	if (!out || !list || json_object_set(out, "WorkGroups", list) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	int rows = PQntuples(res);
	for (int i = 0; i < rows && i < max; i++) {
		json_t *wg = workgroup_json(res, i, true);
		if (!wg || json_array_append_new(list, wg) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "workgroup %s: bad configuration",
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
	json_decref(list);
	json_decref(out);
	json_decref(in);
	return r;
}

static enum fl_result update_work_group(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *config = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char *text = NULL;
	bool tx = false;
	enum fl_result r = fl_awsjson_parse_athena(req, "UpdateWorkGroup", &in, err);
	if (r != FL_OK)
		goto out;
	const char *name = fl_awsjson_member(in, "WorkGroup");
	const char *params[] = { name, NULL, NULL, NULL };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = begin(conn, err)) != FL_OK)
		goto out;
	tx = true;
	if ((r = fl_db_exec(conn, "SELECT configuration::text FROM fl_athena_workgroups "
			    "WHERE name = $1 FOR UPDATE", 1, params, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) != 1) {
		r = workgroup_not_found(name, err);
		goto out;
	}
	config = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (!json_is_object(config)) {
		r = fl_error_set(err, FL_INTERNAL, "workgroup %s: bad configuration", name);
		goto out;
	}
	if ((r = merge_config(config, json_object_get(in, "ConfigurationUpdates"), err)) != FL_OK)
		goto out;
	if (!(text = json_dumps(config, JSON_COMPACT))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	params[1] = fl_awsjson_member(in, "Description");
	params[2] = fl_awsjson_member(in, "State");
	params[3] = text;
	r = fl_db_exec(conn, "UPDATE fl_athena_workgroups SET description = coalesce($2, "
		       "description), state = coalesce($3, state), configuration = $4::jsonb "
		       "WHERE name = $1", 4, params, NULL, err);
out:
	if (tx)
		end(conn, &r, err);
	if (r == FL_OK)
		r = reply_empty(req, err);
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	free(text);
	json_decref(config);
	json_decref(in);
	return r;
}

static enum fl_result delete_work_group(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL, *running = NULL;
	bool tx = false;
	enum fl_result r = fl_awsjson_parse_athena(req, "DeleteWorkGroup", &in, err);
	if (r != FL_OK)
		goto out;
	const char *name = fl_awsjson_member(in, "WorkGroup");
	const char *params[] = { name };
	if (strcmp(name, PRIMARY) == 0) {
		r = fl_error_set(err, FL_INVALID, "primary workGroup could not be deleted");
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = begin(conn, err)) != FL_OK)
		goto out;
	tx = true;
	/* The row lock keeps CreateNamedQuery (FOR SHARE) out meanwhile. */
	if ((r = fl_db_exec(conn, "SELECT EXISTS (SELECT 1 FROM fl_athena_named_queries WHERE "
			    "workgroup = w.name) OR EXISTS (SELECT 1 FROM fl_athena_queries WHERE "
			    "workgroup = w.name) FROM fl_athena_workgroups w WHERE w.name = $1 "
			    "FOR UPDATE OF w", 1, params, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) != 1) {
		r = workgroup_not_found(name, err);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		if (!flag(in, "RecursiveDeleteOption")) {
			r = fl_error_set(err, FL_IN_USE, "WorkGroup %s is not empty", name);
			goto out;
		}
		if ((r = fl_db_exec(conn, "DELETE FROM fl_athena_named_queries WHERE workgroup = $1",
				    1, params, NULL, err)) != FL_OK ||
		    (r = fl_db_exec(conn, "DELETE FROM fl_athena_queries WHERE workgroup = $1 "
				    "RETURNING id::text, state", 1, params, &running, err)) != FL_OK)
			goto out;
	}
	r = fl_db_exec(conn, "DELETE FROM fl_athena_workgroups WHERE name = $1", 1, params, NULL,
		       err);
out:
	if (tx)
		end(conn, &r, err);
	if (r == FL_OK) {
		/* Their rows are gone: stop the statements that still run here. */
		for (int i = 0; running && i < PQntuples(running); i++)
			if (strcmp(PQgetvalue(running, i, 1), "RUNNING") == 0)
				fl_query_engine_cancel(req->srv->query, PQgetvalue(running, i, 0));
		r = reply_empty(req, err);
	}
	PQclear(running);
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

/* ---- named queries --------------------------------------------------------- */

#define NQ_COLUMNS "id::text, name, description, db, query, workgroup"

/* NamedQuery from a row of NQ_COLUMNS. */
static json_t *named_query_json(PGresult *res, int row)
{
	json_t *q = json_pack("{s:s, s:s, s:s, s:s, s:s}", "NamedQueryId", PQgetvalue(res, row, 0),
			      "Name", PQgetvalue(res, row, 1), "Database", PQgetvalue(res, row, 3),
			      "QueryString", PQgetvalue(res, row, 4),
			      "WorkGroup", PQgetvalue(res, row, 5));
	if (q && !PQgetisnull(res, row, 2) && PQgetvalue(res, row, 2)[0] &&
	    json_object_set_new(q, "Description", json_string(PQgetvalue(res, row, 2))) != 0) {
		json_decref(q);
		return NULL;
	}
	return q;
}

/* Locks the workgroup's row (FOR SHARE) inside the caller's transaction:
 * FL_OK when it exists; enabled: it must be ENABLED too. */
static enum fl_result lock_workgroup(PGconn *conn, const char *name, bool enabled,
				     struct fl_error *err)
{
	PGresult *res = NULL;
	const char *params[] = { name };
	enum fl_result r = fl_db_exec(conn, "SELECT state FROM fl_athena_workgroups WHERE name = $1 "
				      "FOR SHARE", 1, params, &res, err);
	if (r == FL_OK && PQntuples(res) != 1)
		r = workgroup_not_found(name, err);
	else if (r == FL_OK && enabled && strcmp(PQgetvalue(res, 0, 0), "ENABLED") != 0)
		r = fl_error_set(err, FL_INVALID, "WorkGroup %s is disabled.", name);
	PQclear(res);
	return r;
}

static enum fl_result create_named_query(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	bool tx = false;
	char id[37];
	enum fl_result r = fl_awsjson_parse_athena(req, "CreateNamedQuery", &in, err);
	if (r != FL_OK)
		goto out;
	const char *wg = fl_awsjson_member(in, "WorkGroup");
	const char *token = fl_awsjson_member(in, "ClientRequestToken");
	if (!wg)
		wg = PRIMARY;
	if ((r = named_query_id(token, id, err)) != FL_OK)
		goto out;
	const char *params[] = { id, fl_awsjson_member(in, "Name"),
				 fl_awsjson_member(in, "Description"),
				 fl_awsjson_member(in, "Database"),
				 fl_awsjson_member(in, "QueryString"), wg };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = begin(conn, err)) != FL_OK)
		goto out;
	tx = true;
	if ((r = lock_workgroup(conn, wg, true, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "INSERT INTO fl_athena_named_queries (id, name, description, db, "
			    "query, workgroup) VALUES ($1::uuid, $2, $3, $4, $5, $6) "
			    "ON CONFLICT (id) DO NOTHING RETURNING id", 6, params, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) == 1)
		goto out;
	/* The token was seen: the same request answers the same id. */
	PQclear(res);
	res = NULL;
	if ((r = fl_db_exec(conn, "SELECT 1 FROM fl_athena_named_queries WHERE id = $1::uuid AND "
			    "name = $2 AND description IS NOT DISTINCT FROM $3 AND db = $4 AND "
			    "query = $5 AND workgroup = $6", 6, params, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) != 1)
		r = fl_error_set(err, FL_INVALID, "ClientRequestToken %s was used with other "
				 "parameters", token);
out:
	if (tx)
		end(conn, &r, err);
	if (r == FL_OK)
		r = fl_awsjson_reply(req, JSON_COMPACT, json_pack("{s:s}", "NamedQueryId", id),
				     err);
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

static enum fl_result get_named_query(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "GetNamedQuery", &in, err);
	if (r != FL_OK)
		goto out;
	const char *id = fl_awsjson_member(in, "NamedQueryId");
	const char *params[] = { id };
	if (!is_uuid(id)) {
		r = named_query_not_found(id, err);
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "SELECT " NQ_COLUMNS " FROM fl_athena_named_queries "
			    "WHERE id = $1::uuid", 1, params, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) != 1) {
		r = named_query_not_found(id, err);
		goto out;
	}
	json_t *q = named_query_json(res, 0);
	r = fl_awsjson_reply(req, JSON_COMPACT, q ? json_pack("{s:o}", "NamedQuery", q) : NULL,
			     err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

static enum fl_result list_named_queries(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *out = NULL, *list = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char after[TOKEN_MAX] = "", limit[16], after_us[24] = "", after_id[37] = "";
	enum fl_result r = fl_awsjson_parse_athena(req, "ListNamedQueries", &in, err);
	if (r != FL_OK)
		goto out;
	const char *wg = fl_awsjson_member(in, "WorkGroup");
	const char *token = fl_awsjson_member(in, "NextToken");
	if (!wg)
		wg = PRIMARY;
	/* The token's key: "<created_at in microseconds>:<id>". */
	if (token) {
		long long us;
		int n = 0;
		if (fl_catalog_token_decode(token, after, sizeof after, err) != FL_OK ||
		    sscanf(after, "%lld:%n", &us, &n) != 1 || n <= 0 || !is_uuid(after + n)) {
			r = bad_token(err);
			goto out;
		}
		snprintf(after_us, sizeof after_us, "%lld", us);
		snprintf(after_id, sizeof after_id, "%s", after + n);
	}
	int max = page_size(in);
	snprintf(limit, sizeof limit, "%d", max + 1);
	const char *params[] = { wg, token ? after_us : NULL, token ? after_id : NULL, limit };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = lock_workgroup(conn, wg, false, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "SELECT id::text, (extract(epoch FROM created_at) * 1000000)"
			    "::bigint AS us FROM fl_athena_named_queries WHERE workgroup = $1 AND "
			    "($2::bigint IS NULL OR (created_at, id) > (timestamptz 'epoch' + "
			    "$2::bigint * interval '1 microsecond', $3::uuid)) "
			    "ORDER BY created_at, id LIMIT $4", 4, params, &res, err)) != FL_OK)
		goto out;
	out = json_object();
	list = json_array();
	if (!out || !list || json_object_set(out, "NamedQueryIds", list) != 0) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	int rows = PQntuples(res);
	for (int i = 0; i < rows && i < max; i++)
		if (json_array_append_new(list, json_string(PQgetvalue(res, i, 0))) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	if (rows > max) {
		char key[80];
		snprintf(key, sizeof key, "%s:%s", PQgetvalue(res, max - 1, 1),
			 PQgetvalue(res, max - 1, 0));
		if ((r = set_token(out, key, err)) != FL_OK)
			goto out;
	}
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

static enum fl_result batch_get_named_query(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL, *found = NULL, *missing = NULL, *seen = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	/* "{" + 50 UUIDs and commas + "}" */
	char array[2 + BATCH_MAX * 37 + 1];
	size_t o = 0;
	enum fl_result r = fl_awsjson_parse_athena(req, "BatchGetNamedQuery", &in, err);
	if (r != FL_OK)
		goto out;
	const json_t *ids = json_object_get(in, "NamedQueryIds");
	size_t i;
	json_t *v;
	array[o++] = '{';
	json_array_foreach((json_t *)ids, i, v) {
		const char *id = json_string_value(v);
		if (i >= BATCH_MAX)
			break;
		if (is_uuid(id)) {
			if (o > 1)
				array[o++] = ',';
			memcpy(array + o, id, 36);
			o += 36;
		}
	}
	array[o++] = '}';
	array[o] = '\0';
	const char *params[] = { array };
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "SELECT " NQ_COLUMNS " FROM fl_athena_named_queries "
			    "WHERE id = ANY($1::uuid[])", 1, params, &res, err)) != FL_OK)
		goto out;
	found = json_array();
	missing = json_array();
	seen = json_object();
	if (!found || !missing || !seen) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	/* In the order asked, each id once (ids compare case-insensitively). */
	json_array_foreach((json_t *)ids, i, v) {
		const char *id = json_string_value(v);
		char lower[129];
		size_t n = 0;
		for (; id[n] && n < sizeof lower - 1; n++)
			lower[n] = (char)(id[n] >= 'A' && id[n] <= 'Z' ? id[n] + 32 : id[n]);
		lower[n] = '\0';
		if (json_object_get(seen, lower))
			continue;
		if (json_object_set_new(seen, lower, json_true()) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		int row = -1;
		for (int k = 0; k < PQntuples(res) && row < 0; k++)
			if (strcmp(PQgetvalue(res, k, 0), lower) == 0)
				row = k;
		json_t *item;
		if (row >= 0) {
			item = named_query_json(res, row);
		} else {
			char msg[256];
			snprintf(msg, sizeof msg, "NamedQuery %s does not exist", id);
			item = json_pack("{s:s, s:s, s:s}", "NamedQueryId", id,
					 "ErrorCode", "INVALID_INPUT", "ErrorMessage", msg);
		}
		if (!item || json_array_append_new(row >= 0 ? found : missing, item) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	r = fl_awsjson_reply(req, JSON_COMPACT, json_pack("{s:O, s:O}", "NamedQueries", found,
							  "UnprocessedNamedQueryIds", missing),
			     err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(seen);
	json_decref(missing);
	json_decref(found);
	json_decref(in);
	return r;
}

static enum fl_result update_named_query(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "UpdateNamedQuery", &in, err);
	if (r != FL_OK)
		goto out;
	const char *id = fl_awsjson_member(in, "NamedQueryId");
	/* Description: absent keeps it, "" clears it. */
	const char *params[] = { id, fl_awsjson_member(in, "Name"),
				 fl_awsjson_member(in, "QueryString"),
				 fl_awsjson_member(in, "Description") };
	if (!is_uuid(id)) {
		r = named_query_not_found(id, err);
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "UPDATE fl_athena_named_queries SET name = $2, query = $3, "
			    "description = CASE WHEN $4::text IS NULL THEN description "
			    "ELSE nullif($4, '') END WHERE id = $1::uuid RETURNING id", 4, params,
			    &res, err)) != FL_OK)
		goto out;
	r = PQntuples(res) == 1 ? reply_empty(req, err) : named_query_not_found(id, err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

static enum fl_result delete_named_query(struct fl_req *req, struct fl_error *err)
{
	json_t *in = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	enum fl_result r = fl_awsjson_parse_athena(req, "DeleteNamedQuery", &in, err);
	if (r != FL_OK)
		goto out;
	const char *id = fl_awsjson_member(in, "NamedQueryId");
	const char *params[] = { id };
	if (!is_uuid(id)) {
		r = named_query_not_found(id, err);
		goto out;
	}
	if ((r = fl_db_acquire(req->srv->db, &conn, err)) != FL_OK ||
	    (r = fl_db_exec(conn, "DELETE FROM fl_athena_named_queries WHERE id = $1::uuid "
			    "RETURNING id", 1, params, &res, err)) != FL_OK)
		goto out;
	r = PQntuples(res) == 1 ? reply_empty(req, err) : named_query_not_found(id, err);
out:
	PQclear(res);
	if (conn)
		fl_db_release(req->srv->db, conn);
	json_decref(in);
	return r;
}

fl_handler_fn fl_athena_workgroup_handler(const char *op)
{
	static const struct {
		const char *op;
		fl_handler_fn fn;
	} ops[] = {
		{ "CreateWorkGroup", create_work_group },
		{ "GetWorkGroup", get_work_group },
		{ "ListWorkGroups", list_work_groups },
		{ "UpdateWorkGroup", update_work_group },
		{ "DeleteWorkGroup", delete_work_group },
		{ "CreateNamedQuery", create_named_query },
		{ "GetNamedQuery", get_named_query },
		{ "ListNamedQueries", list_named_queries },
		{ "BatchGetNamedQuery", batch_get_named_query },
		{ "UpdateNamedQuery", update_named_query },
		{ "DeleteNamedQuery", delete_named_query },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(op, ops[i].op) == 0)
			return ops[i].fn;
	return NULL;
}
