/*
 * firehose.c - the Kinesis Data Firehose API (Firehose_20150804.<Op>).
 *
 * Control-plane operations parse with jansson (they are rare); PutRecord
 * and PutRecordBatch are ingest.c's.  Shapes, limits and messages follow
 * botocore's firehose model; firelake is one account (000000000000) in
 * one region, and every stream is DirectPut into S3.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsjson.h"
#include "db.h"
#include "http.h"
#include "ingest.h"
#include "server.h"
#include "stream.h"

#define DESTINATION_ID "destinationId-000000000001"
#define MAX_TAGS 50

static enum fl_result parse_body(const struct fl_req *req, json_t **out, struct fl_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fl_error_set(err, FL_MALFORMED, "Request body is not valid JSON: %s", jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return fl_error_set(err, FL_MALFORMED, "Request body must be a JSON object");
	}
	*out = root;
	return FL_OK;
}

/* The DeliveryStreamName member: required, 1-64 of [a-zA-Z0-9_.-]. */
static enum fl_result stream_name(json_t *root, const char **name, struct fl_error *err)
{
	json_t *v = json_object_get(root, "DeliveryStreamName");
	if (!v)
		return fl_awsjson_not_null("deliveryStreamName", err);
	if (!json_is_string(v))
		return fl_error_set(err, FL_MALFORMED, "DeliveryStreamName must be a string");
	*name = json_string_value(v);
	if (!fl_stream_name_valid(*name))
		return fl_error_set(err, FL_VALIDATION,
				    "1 validation error detected: Value '%.64s' at 'deliveryStreamName' "
				    "failed to satisfy constraint: Member must satisfy regular "
				    "expression pattern: [a-zA-Z0-9_.-]+ and have length between 1 and 64",
				    *name);
	return FL_OK;
}

static enum fl_result not_found(const char *name, struct fl_error *err)
{
	return fl_error_set(err, FL_NOT_FOUND, "Firehose %s under account %s not found.",
			    name, FL_ACCOUNT_ID);
}

/* Looks the named stream up; it must exist (DELETING ones too). */
static enum fl_result find_stream(struct fl_req *req, json_t *root, struct fl_stream **out,
				  struct fl_error *err)
{
	const char *name = NULL;
	enum fl_result r = stream_name(root, &name, err);
	if (r != FL_OK)
		return r;
	*out = fl_streams_get(req->srv->streams, name);
	return *out ? FL_OK : not_found(name, err);
}

/* ---- tags ----------------------------------------------------------------- */

static bool tag_chars_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!(*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(" _.:/=+-@%", *p)))
			return false;
	return true;
}

static enum fl_result check_tag_key(const char *key, const char *path, struct fl_error *err)
{
	size_t n = strlen(key);
	if (n < 1 || n > 128 || strncmp(key, "aws:", 4) == 0 || !tag_chars_ok(key))
		return fl_error_set(err, FL_VALIDATION,
				    "1 validation error detected: Value '%.128s' at '%s' failed to "
				    "satisfy constraint: Member must satisfy regular expression pattern: "
				    "^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%%]*$ and have length between 1 and 128",
				    key, path);
	return FL_OK;
}

/* Validates a Tags list and returns a normalised copy (caller owns). */
static enum fl_result check_tags(json_t *tags, json_t **out, struct fl_error *err)
{
	if (!json_is_array(tags))
		return fl_error_set(err, FL_MALFORMED, "Tags must be a list");
	if (json_array_size(tags) < 1 || json_array_size(tags) > MAX_TAGS)
		return fl_error_set(err, FL_VALIDATION,
				    "1 validation error detected: Value at 'tags' failed to satisfy "
				    "constraint: Member must have length between 1 and %d", MAX_TAGS);
	json_t *norm = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		json_t *k = json_object_get(t, "Key"), *v = json_object_get(t, "Value");
		char path[64];
		snprintf(path, sizeof path, "tags.%zu.member.key", i + 1);
		enum fl_result r;
		if (!json_is_object(t) || !json_is_string(k))
			r = fl_awsjson_not_null(path, err);
		else if ((r = check_tag_key(json_string_value(k), path, err)) == FL_OK && v &&
			 (!json_is_string(v) || strlen(json_string_value(v)) > 256 ||
			  !tag_chars_ok(json_string_value(v))))
			r = fl_error_set(err, FL_VALIDATION,
					 "1 validation error detected: Value at 'tags.%zu.member.value' "
					 "failed to satisfy constraint: Member must have length less than "
					 "or equal to 256 and satisfy the tag value pattern", i + 1);
		if (r != FL_OK) {
			json_decref(norm);
			return r;
		}
		json_array_append_new(norm, v ? json_pack("{s:O, s:O}", "Key", k, "Value", v)
					      : json_pack("{s:O, s:s}", "Key", k, "Value", ""));
	}
	*out = norm;
	return FL_OK;
}

/* Merges add into have (same key replaces).  FL_LIMIT past 50 tags. */
static enum fl_result merge_tags(json_t *have, json_t *add, struct fl_error *err)
{
	json_t *merged = json_deep_copy(have);
	size_t i, j;
	json_t *t, *h;
	json_array_foreach(add, i, t) {
		const char *key = json_string_value(json_object_get(t, "Key"));
		bool found = false;
		json_array_foreach(merged, j, h)
			if (strcmp(json_string_value(json_object_get(h, "Key")), key) == 0) {
				json_array_set(merged, j, t);
				found = true;
				break;
			}
		if (!found)
			json_array_append(merged, t);
	}
	if (json_array_size(merged) > MAX_TAGS) {
		json_decref(merged);
		return fl_error_set(err, FL_LIMIT, "A delivery stream can have at most %d tags", MAX_TAGS);
	}
	json_array_clear(have);
	json_array_extend(have, merged);
	json_decref(merged);
	return FL_OK;
}

/* ---- operations ----------------------------------------------------------- */

static enum fl_result create_stream(struct fl_req *req, struct fl_error *err)
{
	json_t *root = NULL, *tags = NULL;
	struct fl_stream_conf *conf = NULL;
	const char *name = NULL;
	enum fl_result r = parse_body(req, &root, err);
	if (r != FL_OK)
		return r;
	if ((r = stream_name(root, &name, err)) != FL_OK)
		goto out;
	json_t *type = json_object_get(root, "DeliveryStreamType");
	if (type && (!json_is_string(type) || strcmp(json_string_value(type), "DirectPut") != 0)) {
		r = fl_error_set(err, FL_INVALID,
				 "DeliveryStreamType %s is not supported: firelake streams are DirectPut",
				 json_is_string(type) ? json_string_value(type) : "(not a string)");
		goto out;
	}
	static const char *const other[] = {
		"RedshiftDestinationConfiguration", "ElasticsearchDestinationConfiguration",
		"AmazonopensearchserviceDestinationConfiguration", "SplunkDestinationConfiguration",
		"HttpEndpointDestinationConfiguration", "AmazonOpenSearchServerlessDestinationConfiguration",
		"SnowflakeDestinationConfiguration", "IcebergDestinationConfiguration",
		"KinesisStreamSourceConfiguration", "MSKSourceConfiguration",
		"DatabaseSourceConfiguration",
	};
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		if (json_object_get(root, other[i])) {
			r = fl_error_set(err, FL_INVALID, "%s is not supported: firelake delivers to S3",
					 other[i]);
			goto out;
		}
	json_t *ext = json_object_get(root, "ExtendedS3DestinationConfiguration");
	json_t *s3 = json_object_get(root, "S3DestinationConfiguration");
	if ((ext != NULL) == (s3 != NULL)) {
		r = fl_error_set(err, FL_INVALID,
				 "Exactly one destination configuration is required: "
				 "ExtendedS3DestinationConfiguration or S3DestinationConfiguration");
		goto out;
	}
	json_t *t = json_object_get(root, "Tags");
	if (t && (r = check_tags(t, &tags, err)) != FL_OK)
		goto out;
	if ((r = fl_stream_conf_new(ext ? ext : s3, ext != NULL, 1, &conf, err)) != FL_OK)
		goto out;
	if (!tags)
		tags = json_array();
	r = fl_streams_create(req->srv->streams, name, conf, ext == NULL, tags, err);
	conf = NULL; /* stolen */
	if (r != FL_OK)
		goto out;
	char arn[256];
	fl_stream_arn(req->srv->region, name, arn, sizeof arn);
	r = fl_awsjson_reply(req, JSON_COMPACT, json_pack("{s:s}", "DeliveryStreamARN", arn), err);
out:
	fl_stream_conf_unref(conf);
	json_decref(tags);
	json_decref(root);
	return r;
}

/* The S3DestinationDescription is the subset of the extended one. */
static json_t *plain_description(const json_t *ext)
{
	static const char *const keys[] = {
		"RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix", "BufferingHints",
		"CompressionFormat", "EncryptionConfiguration", "CloudWatchLoggingOptions",
	};
	json_t *d = json_object();
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(ext, keys[i]);
		if (v)
			json_object_set(d, keys[i], v);
	}
	return d;
}

static json_t *describe(struct fl_stream *s)
{
	pthread_mutex_lock(&s->lock);
	struct fl_stream_conf *conf = fl_stream_conf_ref(s->conf);
	double updated = (double)s->updated_ms / 1000.0;
	pthread_mutex_unlock(&s->lock);
	char version[16];
	snprintf(version, sizeof version, "%d", conf->version);
	json_t *dest = json_pack("{s:s, s:O, s:o}", "DestinationId", DESTINATION_ID,
				 "ExtendedS3DestinationDescription", conf->destination,
				 "S3DestinationDescription", plain_description(conf->destination));
	json_t *d = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:f, s:f, s:[o], s:b}",
			      "DeliveryStreamName", s->name,
			      "DeliveryStreamARN", s->arn,
			      "DeliveryStreamStatus",
			      atomic_load(&s->status) == FL_STREAM_DELETING ? "DELETING" : "ACTIVE",
			      "DeliveryStreamEncryptionConfiguration", "Status", "DISABLED",
			      "DeliveryStreamType", "DirectPut",
			      "VersionId", version,
			      "CreateTimestamp", (double)s->created_ms / 1000.0,
			      "LastUpdateTimestamp", updated,
			      "Destinations", dest,
			      "HasMoreDestinations", 0);
	fl_stream_conf_unref(conf);
	return json_pack("{s:o}", "DeliveryStreamDescription", d);
}

static enum fl_result describe_stream(struct fl_req *req, struct fl_error *err)
{
	json_t *root = NULL;
	struct fl_stream *s = NULL;
	enum fl_result r = parse_body(req, &root, err);
	if (r == FL_OK) {
		json_t *limit = json_object_get(root, "Limit");
		if (limit && (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
			      json_integer_value(limit) > 10000))
			r = fl_error_set(err, FL_VALIDATION,
					 "1 validation error detected: Value at 'limit' failed to "
					 "satisfy constraint: Member must have value between 1 and 10000");
	}
	if (r == FL_OK && (r = find_stream(req, root, &s, err)) == FL_OK)
		r = fl_awsjson_reply(req, JSON_COMPACT, describe(s), err);
	fl_stream_unref(s);
	json_decref(root);
	return r;
}

static enum fl_result list_streams(struct fl_req *req, struct fl_error *err)
{
	json_t *root = NULL;
	enum fl_result r = parse_body(req, &root, err);
	if (r != FL_OK)
		return r;
	json_int_t limit = 10;
	json_t *l = json_object_get(root, "Limit");
	json_t *start = json_object_get(root, "ExclusiveStartDeliveryStreamName");
	json_t *type = json_object_get(root, "DeliveryStreamType");
	if (l && (!json_is_integer(l) || json_integer_value(l) < 1 || json_integer_value(l) > 10000)) {
		r = fl_error_set(err, FL_VALIDATION,
				 "1 validation error detected: Value at 'limit' failed to satisfy "
				 "constraint: Member must have value between 1 and 10000");
		goto out;
	}
	if (l)
		limit = json_integer_value(l);
	if (start && (!json_is_string(start) || !fl_stream_name_valid(json_string_value(start)))) {
		r = fl_error_set(err, FL_VALIDATION,
				 "1 validation error detected: Value at 'exclusiveStartDeliveryStreamName' "
				 "failed to satisfy constraint: Member must satisfy regular expression "
				 "pattern: [a-zA-Z0-9_.-]+");
		goto out;
	}
	if (type && !json_is_string(type)) {
		r = fl_error_set(err, FL_MALFORMED, "DeliveryStreamType must be a string");
		goto out;
	}
	json_t *names = json_array();
	bool more = false;
	/* Every firelake stream is DirectPut; other types list nothing. */
	if (!type || strcmp(json_string_value(type), "DirectPut") == 0) {
		PGconn *conn = NULL;
		PGresult *res = NULL;
		char lim[24];
		snprintf(lim, sizeof lim, "%lld", (long long)limit + 1);
		const char *params[] = { start ? json_string_value(start) : "", lim };
		if ((r = fl_db_acquire(req->srv->db, &conn, err)) == FL_OK) {
			r = fl_db_exec(conn,
				       "SELECT name FROM fl_delivery_streams WHERE name > $1"
				       " ORDER BY name COLLATE \"C\" LIMIT $2::bigint",
				       2, params, &res, err);
			fl_db_release(req->srv->db, conn);
		}
		if (r != FL_OK) {
			json_decref(names);
			goto out;
		}
		int n = PQntuples(res);
		more = n > limit;
		for (int i = 0; i < n && i < limit; i++)
			json_array_append_new(names, json_string(PQgetvalue(res, i, 0)));
		PQclear(res);
	}
	r = fl_awsjson_reply(req, JSON_COMPACT,
			     json_pack("{s:o, s:b}", "DeliveryStreamNames", names,
				       "HasMoreDeliveryStreams", more), err);
out:
	json_decref(root);
	return r;
}

static enum fl_result delete_stream(struct fl_req *req, struct fl_error *err)
{
	json_t *root = NULL;
	struct fl_stream *s = NULL;
	enum fl_result r = parse_body(req, &root, err);
	if (r == FL_OK && (r = find_stream(req, root, &s, err)) == FL_OK) {
		if (atomic_load(&s->status) == FL_STREAM_DELETING)
			r = fl_error_set(err, FL_IN_USE, "Firehose %s is already being deleted", s->name);
		else
			r = fl_streams_delete(req->srv->streams, s, err);
	}
	if (r == FL_OK)
		r = fl_awsjson_reply(req, JSON_COMPACT, json_object(), err);
	fl_stream_unref(s);
	json_decref(root);
	return r;
}

static enum fl_result update_destination(struct fl_req *req, struct fl_error *err)
{
	json_t *root = NULL;
	struct fl_stream *s = NULL;
	struct fl_stream_conf *base = NULL, *conf = NULL;
	enum fl_result r = parse_body(req, &root, err);
	if (r != FL_OK || (r = find_stream(req, root, &s, err)) != FL_OK)
		goto out;
	json_t *ver = json_object_get(root, "CurrentDeliveryStreamVersionId");
	json_t *did = json_object_get(root, "DestinationId");
	if (!json_is_string(ver)) {
		r = fl_awsjson_not_null("currentDeliveryStreamVersionId", err);
		goto out;
	}
	if (!json_is_string(did)) {
		r = fl_awsjson_not_null("destinationId", err);
		goto out;
	}
	if (atomic_load(&s->status) != FL_STREAM_ACTIVE) {
		r = fl_error_set(err, FL_IN_USE, "Firehose %s is not ACTIVE", s->name);
		goto out;
	}
	if (strcmp(json_string_value(did), DESTINATION_ID) != 0) {
		r = fl_error_set(err, FL_INVALID, "Destination %s not found in Firehose %s",
				 json_string_value(did), s->name);
		goto out;
	}
	base = fl_stream_conf_get(s);
	char cur[16];
	snprintf(cur, sizeof cur, "%d", base->version);
	if (strcmp(json_string_value(ver), cur) != 0) {
		r = fl_error_set(err, FL_CONFLICT,
				 "Current delivery stream version %s does not match the version %s "
				 "of Firehose %s", json_string_value(ver), cur, s->name);
		goto out;
	}
	json_t *ext = json_object_get(root, "ExtendedS3DestinationUpdate");
	json_t *s3 = json_object_get(root, "S3DestinationUpdate");
	if ((ext != NULL) == (s3 != NULL)) {
		r = fl_error_set(err, FL_INVALID,
				 "Exactly one destination update is required: "
				 "ExtendedS3DestinationUpdate or S3DestinationUpdate");
		goto out;
	}
	if ((r = fl_stream_conf_update(base, ext ? ext : s3, ext != NULL, base->version + 1,
				       &conf, err)) != FL_OK)
		goto out;
	r = fl_streams_update(req->srv->streams, s, conf, err);
	conf = NULL; /* stolen */
	if (r == FL_OK)
		r = fl_awsjson_reply(req, JSON_COMPACT, json_object(), err);
out:
	fl_stream_conf_unref(conf);
	fl_stream_conf_unref(base);
	fl_stream_unref(s);
	json_decref(root);
	return r;
}

static enum fl_result tag_stream(struct fl_req *req, struct fl_error *err)
{
	json_t *root = NULL, *tags = NULL;
	struct fl_stream *s = NULL;
	enum fl_result r = parse_body(req, &root, err);
	if (r != FL_OK || (r = find_stream(req, root, &s, err)) != FL_OK)
		goto out;
	json_t *t = json_object_get(root, "Tags");
	if (!t) {
		r = fl_awsjson_not_null("tags", err);
		goto out;
	}
	if ((r = check_tags(t, &tags, err)) != FL_OK)
		goto out;
	pthread_mutex_lock(&s->lock);
	r = merge_tags(s->tags, tags, err);
	pthread_mutex_unlock(&s->lock);
	if (r == FL_OK && (r = fl_streams_save_tags(req->srv->streams, s, err)) == FL_OK)
		r = fl_awsjson_reply(req, JSON_COMPACT, json_object(), err);
out:
	json_decref(tags);
	fl_stream_unref(s);
	json_decref(root);
	return r;
}

static enum fl_result untag_stream(struct fl_req *req, struct fl_error *err)
{
	json_t *root = NULL;
	struct fl_stream *s = NULL;
	enum fl_result r = parse_body(req, &root, err);
	if (r != FL_OK || (r = find_stream(req, root, &s, err)) != FL_OK)
		goto out;
	json_t *keys = json_object_get(root, "TagKeys");
	if (!keys) {
		r = fl_awsjson_not_null("tagKeys", err);
		goto out;
	}
	if (!json_is_array(keys) || json_array_size(keys) < 1 || json_array_size(keys) > MAX_TAGS) {
		r = fl_error_set(err, FL_VALIDATION,
				 "1 validation error detected: Value at 'tagKeys' failed to satisfy "
				 "constraint: Member must have length between 1 and %d", MAX_TAGS);
		goto out;
	}
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k) {
		char path[48];
		snprintf(path, sizeof path, "tagKeys.%zu.member", i + 1);
		if (!json_is_string(k)) {
			r = fl_awsjson_not_null(path, err);
			goto out;
		}
		if ((r = check_tag_key(json_string_value(k), path, err)) != FL_OK)
			goto out;
	}
	pthread_mutex_lock(&s->lock);
	for (size_t j = json_array_size(s->tags); j-- > 0;) {
		const char *have = json_string_value(json_object_get(json_array_get(s->tags, j), "Key"));
		json_array_foreach(keys, i, k)
			if (strcmp(have, json_string_value(k)) == 0) {
				json_array_remove(s->tags, j);
				break;
			}
	}
	pthread_mutex_unlock(&s->lock);
	if ((r = fl_streams_save_tags(req->srv->streams, s, err)) == FL_OK)
		r = fl_awsjson_reply(req, JSON_COMPACT, json_object(), err);
out:
	fl_stream_unref(s);
	json_decref(root);
	return r;
}

static int cmp_tag(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "Key")),
		      json_string_value(json_object_get(y, "Key")));
}

static enum fl_result list_tags(struct fl_req *req, struct fl_error *err)
{
	json_t *root = NULL;
	struct fl_stream *s = NULL;
	enum fl_result r = parse_body(req, &root, err);
	if (r != FL_OK || (r = find_stream(req, root, &s, err)) != FL_OK)
		goto out;
	json_t *l = json_object_get(root, "Limit");
	json_t *start = json_object_get(root, "ExclusiveStartTagKey");
	if (l && (!json_is_integer(l) || json_integer_value(l) < 1 || json_integer_value(l) > 50)) {
		r = fl_error_set(err, FL_VALIDATION,
				 "1 validation error detected: Value at 'limit' failed to satisfy "
				 "constraint: Member must have value between 1 and 50");
		goto out;
	}
	if (start && !json_is_string(start)) {
		r = fl_error_set(err, FL_MALFORMED, "ExclusiveStartTagKey must be a string");
		goto out;
	}
	size_t limit = l ? (size_t)json_integer_value(l) : 50;
	pthread_mutex_lock(&s->lock);
	size_t n = json_array_size(s->tags);
	json_t *sorted[MAX_TAGS + 1];
	for (size_t i = 0; i < n && i <= MAX_TAGS; i++)
		sorted[i] = json_incref(json_array_get(s->tags, i));
	pthread_mutex_unlock(&s->lock);
	if (n > MAX_TAGS)
		n = MAX_TAGS;
	qsort(sorted, n, sizeof sorted[0], cmp_tag);
	json_t *tags = json_array();
	bool more = false;
	for (size_t i = 0; i < n; i++) {
		const char *key = json_string_value(json_object_get(sorted[i], "Key"));
		if (start && strcmp(key, json_string_value(start)) <= 0)
			continue;
		if (json_array_size(tags) == limit)
			more = true;
		else
			json_array_append(tags, sorted[i]);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(sorted[i]);
	r = fl_awsjson_reply(req, JSON_COMPACT, json_pack("{s:o, s:b}", "Tags", tags,
							  "HasMoreTags", more), err);
out:
	fl_stream_unref(s);
	json_decref(root);
	return r;
}

fl_handler_fn fl_firehose_handler(const char *op)
{
	static const struct {
		const char *op;
		fl_handler_fn fn;
	} ops[] = {
		{ "PutRecordBatch", fl_ingest_put_record_batch },
		{ "PutRecord", fl_ingest_put_record },
		{ "CreateDeliveryStream", create_stream },
		{ "DescribeDeliveryStream", describe_stream },
		{ "ListDeliveryStreams", list_streams },
		{ "DeleteDeliveryStream", delete_stream },
		{ "UpdateDestination", update_destination },
		{ "TagDeliveryStream", tag_stream },
		{ "UntagDeliveryStream", untag_stream },
		{ "ListTagsForDeliveryStream", list_tags },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(op, ops[i].op) == 0)
			return ops[i].fn;
	return NULL;
}
