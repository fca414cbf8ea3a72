/*
 * stream.c - the registry of live delivery streams.
 *
 * DESIGN
 * The catalog row is the truth; this registry caches the compiled
 * configuration and owns each stream's WAL.  A lookup that misses asks
 * the catalog, so a stream created through another node becomes usable
 * here without a restart.  Streams are reference-counted: a request or a
 * delivery job holds its stream, and the last unref closes the WAL.
 *
 * Each stream's WAL lives in <data-dir>/wal/stream-<name>; the "stream-"
 * prefix keeps legal names such as ".." from meaning a directory.
 */
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "wal.h"

struct fl_streams {
	struct fl_server *srv;
	pthread_rwlock_t lock;          /* protects items and n */
	struct fl_stream **items;
	size_t n, cap;
};

/* The stream firelake creates on first start with an empty catalog. */
static const char default_stream_json[] =
	"{\"RoleARN\":\"arn:aws:iam::" FL_ACCOUNT_ID ":role/firelake\","
	"\"BucketARN\":\"arn:aws:s3:::lake\","
	"\"Prefix\":\"raw/events/event_type=!{partitionKeyFromQuery:event_type}/"
	"dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/\","
	"\"ErrorOutputPrefix\":\"errors/events/!{firehose:error-output-type}/"
	"dt=!{timestamp:yyyy-MM-dd}/\","
	"\"BufferingHints\":{\"SizeInMBs\":64,\"IntervalInSeconds\":10},"
	"\"CompressionFormat\":\"GZIP\","
	"\"DynamicPartitioningConfiguration\":{\"Enabled\":true},"
	"\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[{"
	"\"Type\":\"MetadataExtraction\",\"Parameters\":["
	"{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":"
	"\"{event_type: .event_type, dt: (.created_at|strftime(\\\"%Y-%m-%d\\\")), "
	"hour: (.created_at|strftime(\\\"%H\\\"))}\"},"
	"{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.6\"}]}]}}";

void fl_stream_arn(const char *region, const char *name, char *out, size_t n)
{
	snprintf(out, n, "arn:aws:firehose:%s:%s:deliverystream/%s", region, FL_ACCOUNT_ID, name);
}

struct fl_stream_conf *fl_stream_conf_get(struct fl_stream *s)
{
	pthread_mutex_lock(&s->lock);
	struct fl_stream_conf *c = fl_stream_conf_ref(s->conf);
	pthread_mutex_unlock(&s->lock);
	return c;
}

struct fl_stream *fl_stream_ref(struct fl_stream *s)
{
	if (s)
		atomic_fetch_add(&s->refs, 1);
	return s;
}

void fl_stream_unref(struct fl_stream *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	fl_wal_free(s->wal);
	fl_stream_conf_unref(s->conf);
	json_decref(s->tags);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void wal_path(struct fl_streams *reg, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/stream-%s", reg->srv->wal_dir, name);
}

/* A new live stream (refs = 1) around conf (stolen). */
static enum fl_result stream_new(struct fl_streams *reg, const char *name,
				 struct fl_stream_conf *conf, enum fl_stream_status status,
				 int64_t created_ms, int64_t updated_ms, json_t *tags,
				 struct fl_stream **out, struct fl_error *err)
{
	struct fl_stream *s = calloc(1, sizeof *s);
	if (!s) {
		fl_stream_conf_unref(conf);
		json_decref(tags);
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	atomic_init(&s->refs, 1);
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->name, sizeof s->name, "%s", name);
	fl_stream_arn(reg->srv->region, name, s->arn, sizeof s->arn);
	s->conf = conf;
	atomic_init(&s->status, (int)status);
	s->created_ms = created_ms;
	s->updated_ms = updated_ms;
	s->tags = tags ? tags : json_array();
	s->metrics = fl_metrics_stream(&reg->srv->metrics, name);
	char dir[4300];
	wal_path(reg, name, dir, sizeof dir);
	struct fl_wal_options opt = { .budget = &reg->srv->budget, .now_ms = reg->srv->now_ms };
	enum fl_result r = s->metrics ? fl_wal_open(dir, &opt, &s->wal, err)
				      : fl_error_set(err, FL_INTERNAL, "out of memory");
	if (r != FL_OK) {
		fl_stream_unref(s);
		return r;
	}
	*out = s;
	return FL_OK;
}

/* Adds s to the registry unless a stream of that name is there; returns
 * the registered one, referenced. */
static struct fl_stream *registry_add(struct fl_streams *reg, struct fl_stream *s)
{
	pthread_rwlock_wrlock(&reg->lock);
	for (size_t i = 0; i < reg->n; i++)
		if (strcmp(reg->items[i]->name, s->name) == 0) {
			struct fl_stream *have = fl_stream_ref(reg->items[i]);
			pthread_rwlock_unlock(&reg->lock);
			fl_stream_unref(s);
			return have;
		}
	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 16;
		struct fl_stream **items = realloc(reg->items, cap * sizeof *items);
		if (!items) {
			pthread_rwlock_unlock(&reg->lock);
			fl_stream_unref(s);
			return NULL;
		}
		reg->items = items;
		reg->cap = cap;
	}
	reg->items[reg->n++] = s; /* the registry's reference */
	fl_stream_ref(s);
	pthread_rwlock_unlock(&reg->lock);
	return s;
}

enum fl_result fl_streams_new(struct fl_server *srv, struct fl_streams **out,
			      struct fl_error *err)
{
	struct fl_streams *reg = calloc(1, sizeof *reg);
	if (!reg)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	reg->srv = srv;
	pthread_rwlock_init(&reg->lock, NULL);
	if (mkdir(srv->wal_dir, 0755) != 0 && errno != EEXIST) {
		int e = errno;
		pthread_rwlock_destroy(&reg->lock);
		free(reg);
		return fl_error_set(err, FL_IO, "cannot create %s: %s", srv->wal_dir, strerror(e));
	}
	*out = reg;
	return FL_OK;
}

void fl_streams_free(struct fl_streams *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++)
		fl_stream_unref(reg->items[i]);
	free(reg->items);
	pthread_rwlock_destroy(&reg->lock);
	free(reg);
}

/* Builds a live stream from one catalog row:
 * name, status, version_id, destination, tags, created_ms, updated_ms. */
static enum fl_result from_row(struct fl_streams *reg, PGresult *res, int row,
			       struct fl_stream **out, struct fl_error *err)
{
	const char *name = PQgetvalue(res, row, 0);
	json_error_t jerr;
	json_t *dest = json_loads(PQgetvalue(res, row, 3), 0, &jerr);
	json_t *tags = json_loads(PQgetvalue(res, row, 4), 0, &jerr);
	struct fl_stream_conf *conf = NULL;
	enum fl_result r;
	if (!dest || !tags) {
		json_decref(dest);
		json_decref(tags);
		return fl_error_set(err, FL_INTERNAL, "stream %s: catalog row is not JSON", name);
	}
	r = fl_stream_conf_load(dest, atoi(PQgetvalue(res, row, 2)), &conf, err);
	json_decref(dest);
	if (r != FL_OK) {
		json_decref(tags);
		return r;
	}
	enum fl_stream_status st = strcmp(PQgetvalue(res, row, 1), "DELETING") == 0
		? FL_STREAM_DELETING : FL_STREAM_ACTIVE;
	return stream_new(reg, name, conf, st, atoll(PQgetvalue(res, row, 5)),
			  atoll(PQgetvalue(res, row, 6)), tags, out, err);
}

#define ROW_COLUMNS \
	"name, status, version_id, destination::text, tags::text," \
	" (extract(epoch from created_at) * 1000)::bigint," \
	" (extract(epoch from updated_at) * 1000)::bigint"

static enum fl_result query(struct fl_streams *reg, const char *sql, int n,
			    const char *const *params, PGresult **res, struct fl_error *err)
{
	PGconn *conn = NULL;
	enum fl_result r = fl_db_acquire(reg->srv->db, &conn, err);
	if (r != FL_OK)
		return r;
	r = fl_db_exec(conn, sql, n, params, res, err);
	fl_db_release(reg->srv->db, conn);
	return r;
}

/* The stream's row and its Glue table, in one transaction: a stream
 * never exists without its table. */
static enum fl_result insert_row(struct fl_streams *reg, const char *name,
				 const struct fl_stream_conf *conf, bool plain_s3,
				 const json_t *tags, struct fl_error *err)
{
	char arn[256], version[16];
	fl_stream_arn(reg->srv->region, name, arn, sizeof arn);
	snprintf(version, sizeof version, "%d", conf->version);
	struct fl_catalog_table table;
	enum fl_result r = fl_catalog_stream_table(name, conf, &table, err);
	if (r != FL_OK)
		return r;
	char *dest = json_dumps(conf->destination, JSON_COMPACT);
	char *tagtext = json_dumps(tags, JSON_COMPACT);
	PGconn *conn = NULL;
	if (!dest || !tagtext) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_db_acquire(reg->srv->db, &conn, err)) != FL_OK)
		goto out;
	const char *params[] = { name, arn, version, dest, plain_s3 ? "t" : "f", tagtext };
	if ((r = fl_db_exec(conn, "BEGIN", 0, NULL, NULL, err)) == FL_OK &&
	    (r = fl_db_exec(conn,
			    "INSERT INTO fl_delivery_streams (name, arn, version_id, destination,"
			    " plain_s3, tags) VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb)",
			    6, params, NULL, err)) == FL_OK &&
	    (r = fl_catalog_ensure_table(conn, &table, err)) == FL_OK)
		r = fl_db_exec(conn, "COMMIT", 0, NULL, NULL, err);
	if (r != FL_OK && PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
	fl_db_release(reg->srv->db, conn);
	if (r == FL_EXISTS)
		fl_error_set(err, FL_EXISTS, "Firehose %s under accountId %s already exists",
			     name, FL_ACCOUNT_ID);
out:
	free(dest);
	free(tagtext);
	return r;
}

enum fl_result fl_streams_load(struct fl_streams *reg, struct fl_error *err)
{
	PGresult *res = NULL;
	enum fl_result r = query(reg, "SELECT " ROW_COLUMNS " FROM fl_delivery_streams ORDER BY name",
				 0, NULL, &res, err);
	if (r != FL_OK)
		return r;
	int rows = PQntuples(res);
	for (int i = 0; i < rows && r == FL_OK; i++) {
		struct fl_stream *s = NULL;
		r = from_row(reg, res, i, &s, err);
		if (r == FL_OK)
			fl_stream_unref(registry_add(reg, s));
	}
	PQclear(res);
	if (r != FL_OK || rows > 0)
		return r;

	json_error_t jerr;
	json_t *dest = json_loads(default_stream_json, 0, &jerr);
	struct fl_stream_conf *conf = NULL;
	if (!dest)
		return fl_error_set(err, FL_INTERNAL, "default stream: %s", jerr.text);
	r = fl_stream_conf_new(dest, true, 1, &conf, err);
	json_decref(dest);
	if (r != FL_OK)
		return r;
	json_t *tags = json_array();
	r = fl_streams_create(reg, "events", conf, false, tags, err);
	json_decref(tags);
	if (r == FL_EXISTS)
		return fl_streams_load(reg, err); /* another node made it first */
	if (r == FL_OK)
		fl_info("created the default delivery stream \"events\"");
	return r;
}

struct fl_stream *fl_streams_get(struct fl_streams *reg, const char *name)
{
	pthread_rwlock_rdlock(&reg->lock);
	for (size_t i = 0; i < reg->n; i++)
		if (strcmp(reg->items[i]->name, name) == 0) {
			struct fl_stream *s = fl_stream_ref(reg->items[i]);
			pthread_rwlock_unlock(&reg->lock);
			return s;
		}
	pthread_rwlock_unlock(&reg->lock);

	/* Not here: perhaps another node created it. */
	PGresult *res = NULL;
	struct fl_error err = { 0 };
	const char *params[] = { name };
	if (query(reg, "SELECT " ROW_COLUMNS " FROM fl_delivery_streams WHERE name = $1",
		  1, params, &res, &err) != FL_OK)
		return NULL;
	struct fl_stream *s = NULL;
	if (PQntuples(res) == 1 && from_row(reg, res, 0, &s, &err) == FL_OK)
		s = registry_add(reg, s);
	PQclear(res);
	return s;
}

enum fl_result fl_streams_create(struct fl_streams *reg, const char *name,
				 struct fl_stream_conf *conf, bool plain_s3,
				 const json_t *tags, struct fl_error *err)
{
	enum fl_result r = insert_row(reg, name, conf, plain_s3, tags, err);
	if (r != FL_OK) {
		fl_stream_conf_unref(conf);
		return r;
	}
	int64_t now = reg->srv->now_ms();
	struct fl_stream *s = NULL;
	r = stream_new(reg, name, conf, FL_STREAM_ACTIVE, now, now, json_deep_copy(tags), &s, err);
	if (r != FL_OK)
		return r;
	fl_stream_unref(registry_add(reg, s));
	return FL_OK;
}

enum fl_result fl_streams_update(struct fl_streams *reg, struct fl_stream *s,
				 struct fl_stream_conf *conf, struct fl_error *err)
{
	char version[16], prev[16];
	snprintf(version, sizeof version, "%d", conf->version);
	snprintf(prev, sizeof prev, "%d", conf->version - 1);
	char *dest = json_dumps(conf->destination, JSON_COMPACT);
	if (!dest) {
		fl_stream_conf_unref(conf);
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	const char *params[] = { s->name, dest, version, prev };
	PGresult *res = NULL;
	enum fl_result r = query(reg,
				 "UPDATE fl_delivery_streams SET destination = $2::jsonb,"
				 " version_id = $3, updated_at = now()"
				 " WHERE name = $1 AND version_id = $4 AND status = 'ACTIVE'",
				 4, params, &res, err);
	free(dest);
	if (r == FL_OK && atoi(PQcmdTuples(res)) != 1)
		r = fl_error_set(err, FL_CONFLICT,
				 "Firehose %s was changed by another request: describe it again",
				 s->name);
	PQclear(res);
	if (r != FL_OK) {
		fl_stream_conf_unref(conf);
		return r;
	}
	pthread_mutex_lock(&s->lock);
	struct fl_stream_conf *old = s->conf;
	s->conf = conf;
	s->updated_ms = reg->srv->now_ms();
	pthread_mutex_unlock(&s->lock);
	fl_stream_conf_unref(old);
	return FL_OK;
}

enum fl_result fl_streams_delete(struct fl_streams *reg, struct fl_stream *s,
				 struct fl_error *err)
{
	const char *params[] = { s->name };
	enum fl_result r = query(reg,
				 "UPDATE fl_delivery_streams SET status = 'DELETING', updated_at = now()"
				 " WHERE name = $1", 1, params, NULL, err);
	if (r != FL_OK)
		return r;
	atomic_store(&s->status, FL_STREAM_DELETING);
	return FL_OK;
}

enum fl_result fl_streams_drop(struct fl_streams *reg, struct fl_stream *s,
			       struct fl_error *err)
{
	const char *params[] = { s->name };
	enum fl_result r = query(reg,
				 "DELETE FROM fl_delivery_streams WHERE name = $1 AND status = 'DELETING'",
				 1, params, NULL, err);
	if (r != FL_OK)
		return r;
	struct fl_stream *found = NULL;
	pthread_rwlock_wrlock(&reg->lock);
	for (size_t i = 0; i < reg->n; i++)
		if (reg->items[i] == s) {
			found = s;
			reg->items[i] = reg->items[--reg->n];
			break;
		}
	pthread_rwlock_unlock(&reg->lock);
	if (found) {
		char dir[4300];
		wal_path(reg, s->name, dir, sizeof dir);
		if (rmdir(dir) != 0 && errno != ENOENT)
			fl_warn("stream %s: WAL directory %s kept: %s", s->name, dir, strerror(errno));
		fl_stream_unref(found);
	}
	return FL_OK;
}

enum fl_result fl_streams_save_tags(struct fl_streams *reg, struct fl_stream *s,
				    struct fl_error *err)
{
	pthread_mutex_lock(&s->lock);
	char *tags = json_dumps(s->tags, JSON_COMPACT);
	pthread_mutex_unlock(&s->lock);
	if (!tags)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	const char *params[] = { s->name, tags };
	enum fl_result r = query(reg, "UPDATE fl_delivery_streams SET tags = $2::jsonb WHERE name = $1",
				 2, params, NULL, err);
	free(tags);
	return r;
}

void fl_streams_each(struct fl_streams *reg, void (*fn)(void *arg, struct fl_stream *s),
		     void *arg)
{
	pthread_rwlock_rdlock(&reg->lock);
	size_t n = reg->n;
	struct fl_stream **copy = n ? malloc(n * sizeof *copy) : NULL;
	if (copy)
		for (size_t i = 0; i < n; i++)
			copy[i] = fl_stream_ref(reg->items[i]);
	pthread_rwlock_unlock(&reg->lock);
	if (!copy)
		return;
	for (size_t i = 0; i < n; i++) {
		fn(arg, copy[i]);
		fl_stream_unref(copy[i]);
	}
	free(copy);
}
