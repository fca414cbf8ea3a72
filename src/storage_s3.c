/*
 * storage_s3.c - the S3 storage backend (storage.h) over our S3 client
 * (s3.h).
 *
 * DESIGN.  A logical bucket B and key K live in S3 in one of two ways:
 * with s3:// the logical bucket is the S3 bucket (B, K); with
 * s3://BKT/PREFIX every logical bucket shares one S3 bucket and K is the
 * object PREFIX + B + "/" + K of BKT.  list maps the S3 keys it reads
 * back to logical keys by cutting PREFIX + B + "/", so callers never see
 * the layout.
 *
 * put is durable when S3 answers 200, so the backend has no deferred put
 * and no sync.  An object up to the part size (8 MiB unless configured)
 * is one PutObject; a larger one is a multipart upload (Create, one
 * UploadPart per part, Complete), each part with its Content-MD5 and
 * checked ETag.  On any failure after Create the upload is aborted, so
 * no invisible parts are left to bill; if the abort itself fails, we
 * warn once with the upload id (a bucket lifecycle rule with
 * AbortIncompleteMultipartUpload is the backstop).
 *
 * Reads: get is a GET checked against the ETag, get_range a GET with
 * Range (416 - a range past the end - is no bytes, as for a file), stat
 * a HEAD, list ListObjectsV2 pages of 1,000 keys with continuation
 * tokens, in key (byte) order as S3 lists them.  The ListObjectsV2
 * operation (its answer's reader and the paging, declared in s3.h) lives
 * here, beside the multipart upload: s3.c sends one request, this file
 * strings requests into operations.
 *
 * The backend keeps no mutable state of its own; the client's per-thread
 * handles make every call thread-safe.
 */
#include "storage.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awscred.h"
#include "log.h"
#include "s3.h"
#include "sigv4.h"

#define DEFAULT_PART_SIZE ((uint64_t)8 << 20)
#define MAX_PARTS 10000
#define UPLOAD_ID_MAX 1024

struct s3_storage {
	struct fl_storage base;
	struct fl_s3 *c;
	char bucket[64];         /* "": the logical bucket is the S3 bucket */
	char prefix[1024];       /* "" or "p/" before "B/" */
	uint64_t part_size;
};

static struct s3_storage *s3_of(struct fl_storage *s)
{
	return (struct s3_storage *)s;
}

/* The S3 bucket and key of a logical bucket and key (s3_key holds
 * FL_S3_KEY_MAX + 1 bytes). */
static enum fl_result locate(struct s3_storage *ss, const char *bucket, const char *key,
			     const char **s3_bucket, char *s3_key, struct fl_error *err)
{
	if (!ss->bucket[0]) {
		*s3_bucket = bucket;
		snprintf(s3_key, FL_S3_KEY_MAX + 1, "%s", key);
		return FL_OK;
	}
	*s3_bucket = ss->bucket;
	int n = snprintf(s3_key, FL_S3_KEY_MAX + 1, "%s%s/%s", ss->prefix, bucket, key);
	if (n < 0 || n > FL_S3_KEY_MAX)
		return fl_error_set(err, FL_INVALID,
				    "object key is longer than 1024 bytes under s3://%s/%s%s/",
				    ss->bucket, ss->prefix, bucket);
	return FL_OK;
}

/* locate() for a read: a key too long to store cannot exist either. */
static enum fl_result locate_read(struct s3_storage *ss, const char *bucket, const char *key,
				  const char **s3_bucket, char *s3_key, struct fl_error *err)
{
	enum fl_result r = locate(ss, bucket, key, s3_bucket, s3_key, err);
	return r == FL_INVALID ? fl_error_set(err, FL_NOT_FOUND, "no such object") : r;
}

/* ---- put ---------------------------------------------------------------- */

static enum fl_result put_single(struct s3_storage *ss, const char *bucket, const char *key,
				 const void *data, size_t len, struct fl_error *err)
{
	const struct fl_s3_request req = {
		.method = "PUT", .bucket = bucket, .key = key, .body = data, .body_len = len,
		.content_md5 = true, .retry = true,
	};
	struct fl_s3_response resp;
	enum fl_result r = fl_s3_request(ss->c, &req, &resp, err);
	fl_s3_response_free(&resp);
	return r;
}

/* Appends s XML-escaped. */
static enum fl_result add_xml_text(struct fl_buf *b, const char *s)
{
	enum fl_result r = FL_OK;
	for (; *s && r == FL_OK; s++) {
		switch (*s) {
		case '&': r = fl_buf_adds(b, "&amp;"); break;
		case '<': r = fl_buf_adds(b, "&lt;"); break;
		case '>': r = fl_buf_adds(b, "&gt;"); break;
		case '"': r = fl_buf_adds(b, "&quot;"); break;
		default: r = fl_buf_addc(b, *s); break;
		}
	}
	return r;
}

static void abort_upload(struct s3_storage *ss, const char *bucket, const char *key,
			 const char *upload_id, const char *query)
{
	const struct fl_s3_request req = {
		.method = "DELETE", .bucket = bucket, .key = key, .query = query, .retry = true,
	};
	struct fl_s3_response resp;
	struct fl_error why = { 0 };
	enum fl_result r = fl_s3_request(ss->c, &req, &resp, &why);
	fl_s3_response_free(&resp);
	if (r != FL_OK && r != FL_NOT_FOUND)
		fl_warn("storage s3: cannot abort multipart upload %.200s of s3://%s/%s: %s; "
			"its parts stay until a lifecycle rule removes them", upload_id, bucket,
			key, why.msg);
}

/* The text of the first child element name of the answer's root into
 * out[n], whatever the root is called: S3 says
 * CompleteMultipartUploadResult where moto says ...Response. */
struct child {
	const char *name;
	char *out;
	size_t n;
	bool found;
};

static int child_cb(void *arg, const char *path, const char *text, size_t len)
{
	struct child *c = arg;
	const char *slash = strchr(path, '/');
	if (!slash || strcmp(slash + 1, c->name) != 0 || len >= c->n)
		return 0;
	memcpy(c->out, text, len);
	c->out[len] = '\0';
	c->found = true;
	return 1;
}

static bool root_child(const struct fl_buf *body, const char *name, char *out, size_t n)
{
	struct child c = { name, out, n, false };
	struct fl_error ignored;
	out[0] = '\0';
	return fl_s3_xml_walk(body->data ? body->data : "", body->len, child_cb, &c,
			      &ignored) == FL_OK && c.found && out[0];
}

static enum fl_result put_multipart(struct s3_storage *ss, const char *bucket, const char *key,
				    const void *data, size_t len, struct fl_error *err)
{
	struct fl_buf idq, query, done;
	struct fl_s3_response resp;
	char *upload_id = malloc(UPLOAD_ID_MAX + 1);
	enum fl_result r;
	bool created = false;
	uint64_t part = ss->part_size;
	fl_buf_init(&idq, 4096);
	fl_buf_init(&query, 4096);
	fl_buf_init(&done, (size_t)MAX_PARTS * 256 + 256);
	memset(&resp, 0, sizeof resp);
	if (!upload_id) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((len + part - 1) / part > MAX_PARTS) /* S3 takes at most 10,000 parts */
		part = (((len + MAX_PARTS - 1) / MAX_PARTS + (1u << 20) - 1) >> 20) << 20;

	const struct fl_s3_request create = {
		.method = "POST", .bucket = bucket, .key = key, .query = "uploads",
	};
	if ((r = fl_s3_request(ss->c, &create, &resp, err)) != FL_OK)
		goto out;
	bool have_id = root_child(&resp.body, "UploadId", upload_id, UPLOAD_ID_MAX + 1);
	fl_s3_response_free(&resp);
	if (!have_id) {
		r = fl_error_set(err, FL_UNAVAILABLE,
				 "CreateMultipartUpload of s3://%s/%s: no UploadId in the answer",
				 bucket, key);
		goto out;
	}
	created = true;
	if ((r = fl_buf_adds(&idq, "uploadId=")) != FL_OK ||
	    (r = fl_sigv4_uri_encode(upload_id, strlen(upload_id), false, &idq)) != FL_OK ||
	    (r = fl_buf_adds(&done, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/"
			     "doc/2006-03-01/\">")) != FL_OK) {
		r = fl_error_set(err, FL_INTERNAL, "multipart upload id too long");
		goto out;
	}
	int n = 0;
	for (uint64_t off = 0; off < len; off += part) {
		uint64_t size = len - off < part ? len - off : part;
		n++;
		fl_buf_reset(&query);
		if ((r = fl_buf_printf(&query, "partNumber=%d&%s", n, idq.data)) != FL_OK) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		const struct fl_s3_request up = {
			.method = "PUT", .bucket = bucket, .key = key, .query = query.data,
			.body = (const char *)data + off, .body_len = (size_t)size,
			.content_md5 = true, .retry = true,
		};
		r = fl_s3_request(ss->c, &up, &resp, err);
		if (r == FL_OK && !resp.etag[0])
			r = fl_error_set(err, FL_UNAVAILABLE, "UploadPart %d of s3://%s/%s: no ETag "
					 "in the answer", n, bucket, key);
		if (r == FL_OK &&
		    ((r = fl_buf_printf(&done, "<Part><PartNumber>%d</PartNumber><ETag>", n)) !=
		     FL_OK || (r = add_xml_text(&done, resp.etag)) != FL_OK ||
		     (r = fl_buf_adds(&done, "</ETag></Part>")) != FL_OK))
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
		fl_s3_response_free(&resp);
		if (r != FL_OK)
			goto out;
	}
	if ((r = fl_buf_adds(&done, "</CompleteMultipartUpload>")) != FL_OK) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	const struct fl_s3_request complete = {
		.method = "POST", .bucket = bucket, .key = key, .query = idq.data,
		.body = done.data, .body_len = done.len, .slow = true,
	};
	if ((r = fl_s3_request(ss->c, &complete, &resp, err)) != FL_OK)
		goto out;
	char etag[130];
	if (!root_child(&resp.body, "ETag", etag, sizeof etag))
		r = fl_error_set(err, FL_RETRY, "CompleteMultipartUpload of s3://%s/%s: "
				 "an answer without ETag", bucket, key);
	else
		created = false; /* complete: nothing to abort */
out:
	fl_s3_response_free(&resp);
	if (r != FL_OK && created)
		abort_upload(ss, bucket, key, upload_id, idq.data);
	fl_buf_free(&idq);
	fl_buf_free(&query);
	fl_buf_free(&done);
	free(upload_id);
	return r;
}

static enum fl_result s3_put(struct fl_storage *s, const char *bucket, const char *key,
			     const void *data, size_t len, struct fl_error *err)
{
	struct s3_storage *ss = s3_of(s);
	char s3_key[FL_S3_KEY_MAX + 1];
	const char *s3_bucket;
	enum fl_result r = locate(ss, bucket, key, &s3_bucket, s3_key, err);
	if (r != FL_OK)
		return r;
	if (len <= ss->part_size)
		return put_single(ss, s3_bucket, s3_key, data, len, err);
	return put_multipart(ss, s3_bucket, s3_key, data, len, err);
}

/* ---- reads ----------------------------------------------------------- */

static enum fl_result s3_stat(struct fl_storage *s, const char *bucket, const char *key,
			      struct fl_object_info *info, struct fl_error *err)
{
	struct s3_storage *ss = s3_of(s);
	char s3_key[FL_S3_KEY_MAX + 1];
	const char *s3_bucket;
	enum fl_result r = locate_read(ss, bucket, key, &s3_bucket, s3_key, err);
	if (r != FL_OK)
		return r;
	const struct fl_s3_request req = {
		.method = "HEAD", .bucket = s3_bucket, .key = s3_key, .retry = true,
	};
	struct fl_s3_response resp;
	r = fl_s3_request(ss->c, &req, &resp, err);
	if (r == FL_OK && !resp.has_length)
		r = fl_error_set(err, FL_UNAVAILABLE, "HEAD s3://%s/%s: no Content-Length",
				 s3_bucket, s3_key);
	if (r == FL_OK) {
		snprintf(info->key, sizeof info->key, "%s", key);
		info->bytes = resp.length;
		info->mtime_ms = resp.mtime_ms < 0 ? 0 : resp.mtime_ms;
	}
	fl_s3_response_free(&resp);
	return r;
}

static enum fl_result s3_get_range(struct fl_storage *s, const char *bucket, const char *key,
				   uint64_t offset, uint64_t len, struct fl_buf *out,
				   struct fl_error *err)
{
	struct s3_storage *ss = s3_of(s);
	char s3_key[FL_S3_KEY_MAX + 1];
	const char *s3_bucket;
	enum fl_result r = locate_read(ss, bucket, key, &s3_bucket, s3_key, err);
	if (r != FL_OK)
		return r;
	if (len > UINT64_MAX - offset)
		len = UINT64_MAX - offset;
	if (len == 0) { /* no bytes, but a missing object is still missing */
		struct fl_object_info info;
		return s3_stat(s, bucket, key, &info, err);
	}
	size_t start = out->len;
	const struct fl_s3_request req = {
		.method = "GET", .bucket = s3_bucket, .key = s3_key, .out = out, .retry = true,
		.range = true, .range_offset = offset, .range_len = len,
	};
	struct fl_s3_response resp;
	r = fl_s3_request(ss->c, &req, &resp, err);
	if (r != FL_OK && resp.status == 416)
		r = FL_OK; /* the range starts past the end: no bytes */
	if (r == FL_OK && resp.status == 200 && out->len > start) {
		/* The server ignored Range and sent the whole object: cut it. */
		size_t got = out->len - start;
		size_t from = offset < got ? (size_t)offset : got;
		size_t n = len < got - from ? (size_t)len : got - from;
		memmove(out->data + start, out->data + start + from, n);
		out->len = start + n;
		out->data[out->len] = '\0';
	}
	fl_s3_response_free(&resp);
	return r;
}

static enum fl_result s3_get(struct fl_storage *s, const char *bucket, const char *key,
			     struct fl_buf *out, struct fl_error *err)
{
	struct s3_storage *ss = s3_of(s);
	char s3_key[FL_S3_KEY_MAX + 1];
	const char *s3_bucket;
	enum fl_result r = locate_read(ss, bucket, key, &s3_bucket, s3_key, err);
	if (r != FL_OK)
		return r;
	const struct fl_s3_request req = {
		.method = "GET", .bucket = s3_bucket, .key = s3_key, .out = out,
		.verify_etag = true, .retry = true,
	};
	struct fl_s3_response resp;
	r = fl_s3_request(ss->c, &req, &resp, err);
	fl_s3_response_free(&resp);
	return r;
}

static enum fl_result s3_del(struct fl_storage *s, const char *bucket, const char *key,
			     struct fl_error *err)
{
	struct s3_storage *ss = s3_of(s);
	char s3_key[FL_S3_KEY_MAX + 1];
	const char *s3_bucket;
	enum fl_result r = locate(ss, bucket, key, &s3_bucket, s3_key, err);
	if (r == FL_INVALID)
		return FL_OK; /* cannot exist; deleting a missing object succeeds */
	if (r != FL_OK)
		return r;
	const struct fl_s3_request req = {
		.method = "DELETE", .bucket = s3_bucket, .key = s3_key, .retry = true,
	};
	struct fl_s3_response resp;
	r = fl_s3_request(ss->c, &req, &resp, err);
	fl_s3_response_free(&resp);
	return r;
}

/* ---- ListObjectsV2 (declared in s3.h) ---------------------------------- */

enum fl_result fl_s3_parse_time(const char *s, int64_t *ms)
{
	/* yyyy-mm-ddThh:mm:ss[.fff...]Z */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	for (size_t i = 0; i < sizeof shape - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return FL_INVALID;
	struct tm tm = { 0 };
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return FL_INVALID;
	const char *p = s + 19;
	int frac = 0, scale = 100;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return FL_INVALID;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (strcmp(p, "Z") != 0)
		return FL_INVALID;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return FL_OK;
}

struct list_parse {
	int (*fn)(void *arg, const struct fl_s3_object *o);
	void *arg;
	struct fl_s3_list_page *page;
	struct fl_s3_object cur;
	bool has_key, has_size, has_time, root;
	enum fl_result r;
	struct fl_error *err;
};

static int list_fail(struct list_parse *lp, const char *what)
{
	lp->r = fl_error_set(lp->err, FL_INVALID, "ListObjectsV2 answer: %s", what);
	return 1;
}

static int list_cb(void *arg, const char *path, const char *text, size_t len)
{
	struct list_parse *lp = arg;
	static const char root[] = "ListBucketResult";
	if (strncmp(path, root, sizeof root - 1) != 0)
		return list_fail(lp, "not a ListBucketResult");
	const char *rel = path + sizeof root - 1;
	if (*rel == '\0') {
		lp->root = true;
	} else if (strcmp(rel, "/Contents/Key") == 0) {
		if (len > FL_S3_KEY_MAX || memchr(text, '\0', len))
			return list_fail(lp, "a Key longer than 1024 bytes");
		memcpy(lp->cur.key, text, len);
		lp->cur.key[len] = '\0';
		lp->has_key = true;
	} else if (strcmp(rel, "/Contents/Size") == 0) {
		char *end;
		if (!len || !isdigit((unsigned char)text[0]) || len > 20)
			return list_fail(lp, "a bad Size");
		lp->cur.bytes = strtoull(text, &end, 10);
		if (*end)
			return list_fail(lp, "a bad Size");
		lp->has_size = true;
	} else if (strcmp(rel, "/Contents/LastModified") == 0) {
		if (fl_s3_parse_time(text, &lp->cur.mtime_ms) != FL_OK)
			return list_fail(lp, "a bad LastModified");
		lp->has_time = true;
	} else if (strcmp(rel, "/Contents") == 0) {
		if (!lp->has_key || !lp->has_size || !lp->has_time)
			return list_fail(lp, "a Contents without Key, Size or LastModified");
		lp->has_key = lp->has_size = lp->has_time = false;
		lp->page->count++;
		if (lp->fn(lp->arg, &lp->cur) != 0) {
			lp->page->stopped = true;
			return 1;
		}
	} else if (strcmp(rel, "/IsTruncated") == 0) {
		lp->page->truncated = len == 4 && memcmp(text, "true", 4) == 0;
	} else if (strcmp(rel, "/NextContinuationToken") == 0) {
		if (len > FL_S3_TOKEN_MAX)
			return list_fail(lp, "a NextContinuationToken longer than 1024 bytes");
		memcpy(lp->page->next_token, text, len);
		lp->page->next_token[len] = '\0';
	}
	return 0;
}

enum fl_result fl_s3_parse_list(const char *xml, size_t len,
				int (*fn)(void *arg, const struct fl_s3_object *o), void *arg,
				struct fl_s3_list_page *page, struct fl_error *err)
{
	struct list_parse lp = { .fn = fn, .arg = arg, .page = page, .err = err };
	memset(page, 0, sizeof *page);
	enum fl_result r = fl_s3_xml_walk(xml, len, list_cb, &lp, err);
	if (r == FL_OK)
		r = lp.r;
	if (r == FL_OK && !lp.root && !page->stopped)
		r = fl_error_set(err, FL_INVALID, "ListObjectsV2 answer: not a ListBucketResult");
	return r;
}

enum fl_result fl_s3_list(struct fl_s3 *c, const char *bucket, const char *prefix,
			  int max_keys, int (*fn)(void *arg, const struct fl_s3_object *o),
			  void *arg, struct fl_error *err)
{
	struct fl_buf query;
	struct fl_s3_list_page *page = calloc(1, sizeof *page);
	char *token = calloc(1, FL_S3_TOKEN_MAX + 1);
	enum fl_result r = FL_OK;
	fl_buf_init(&query, 8192);
	if (!page || !token) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if (max_keys < 1 || max_keys > 1000)
		max_keys = 1000;
	for (;;) {
		fl_buf_reset(&query);
		if ((r = fl_buf_printf(&query, "list-type=2&max-keys=%d", max_keys)) != FL_OK ||
		    (*prefix && ((r = fl_buf_adds(&query, "&prefix=")) != FL_OK ||
				 (r = fl_sigv4_uri_encode(prefix, strlen(prefix), false, &query)) !=
				 FL_OK)) ||
		    (*token && ((r = fl_buf_adds(&query, "&continuation-token=")) != FL_OK ||
				(r = fl_sigv4_uri_encode(token, strlen(token), false, &query)) !=
				FL_OK))) {
			r = fl_error_set(err, FL_INVALID, "list query too long");
			break;
		}
		const struct fl_s3_request req = {
			.method = "GET", .bucket = bucket, .query = query.data, .retry = true,
		};
		struct fl_s3_response resp;
		r = fl_s3_request(c, &req, &resp, err);
		if (r == FL_OK) {
			r = fl_s3_parse_list(resp.body.data ? resp.body.data : "", resp.body.len,
					     fn, arg, page, err);
			if (r == FL_INVALID)
				r = FL_UNAVAILABLE; /* the store's answer, not the caller's fault */
		}
		fl_s3_response_free(&resp);
		if (r != FL_OK || page->stopped || !page->truncated)
			break;
		if (!page->next_token[0] || strcmp(page->next_token, token) == 0) {
			r = fl_error_set(err, FL_UNAVAILABLE, "ListObjectsV2 of s3://%s/%s: "
					 "truncated without a new NextContinuationToken", bucket,
					 prefix);
			break;
		}
		memcpy(token, page->next_token, strlen(page->next_token) + 1);
	}
out:
	fl_buf_free(&query);
	free(page);
	free(token);
	return r;
}

struct list_map {
	size_t strip;   /* bytes of PREFIX + B + "/" before each logical key */
	int (*fn)(void *arg, const struct fl_object_info *info);
	void *arg;
	struct fl_object_info info;
};

static int list_one(void *arg, const struct fl_s3_object *o)
{
	struct list_map *m = arg;
	size_t n = strlen(o->key);
	if (n <= m->strip)
		return 0; /* the "B/" marker object itself, or not ours */
	memcpy(m->info.key, o->key + m->strip, n - m->strip + 1);
	m->info.bytes = o->bytes;
	m->info.mtime_ms = o->mtime_ms;
	return m->fn(m->arg, &m->info);
}

static enum fl_result s3_list(struct fl_storage *s, const char *bucket, const char *prefix,
			      int (*fn)(void *arg, const struct fl_object_info *info),
			      void *arg, struct fl_error *err)
{
	struct s3_storage *ss = s3_of(s);
	struct list_map *m = calloc(1, sizeof *m);
	char *s3_prefix = malloc(FL_S3_KEY_MAX + 1);
	const char *s3_bucket = ss->bucket[0] ? ss->bucket : bucket;
	enum fl_result r = FL_OK;
	if (!m || !s3_prefix) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	int n = ss->bucket[0]
		? snprintf(s3_prefix, FL_S3_KEY_MAX + 1, "%s%s/%s", ss->prefix, bucket, prefix)
		: snprintf(s3_prefix, FL_S3_KEY_MAX + 1, "%s", prefix);
	if (n < 0 || n > FL_S3_KEY_MAX)
		goto out; /* no key can be that long: nothing to list */
	m->strip = ss->bucket[0] ? strlen(ss->prefix) + strlen(bucket) + 1 : 0;
	m->fn = fn;
	m->arg = arg;
	r = fl_s3_list(ss->c, s3_bucket, s3_prefix, 1000, list_one, m, err);
out:
	free(m);
	free(s3_prefix);
	return r;
}

static void s3_free(struct fl_storage *s)
{
	struct s3_storage *ss = s3_of(s);
	fl_s3_free(ss->c);
	free(ss);
}

static const struct fl_storage_ops s3_ops = {
	.put = s3_put,
	.get = s3_get,
	.get_range = s3_get_range,
	.stat = s3_stat,
	.del = s3_del,
	.list = s3_list,
	.free = s3_free,
};

static const char *region_of(const struct fl_storage_options *opt)
{
	const char *r = opt->s3_region;
	if (r && *r)
		return r;
	if ((r = getenv("AWS_REGION")) && *r)
		return r;
	if ((r = getenv("AWS_DEFAULT_REGION")) && *r)
		return r;
	return "us-east-1";
}

enum fl_result fl_storage_s3_open(const char *bucket, const char *prefix,
				  const struct fl_storage_options *opt, struct fl_storage **out,
				  struct fl_error *err)
{
	static const struct fl_storage_options defaults = { 0 };
	struct fl_s3_endpoint ep;
	struct fl_awscred *cred = calloc(1, sizeof *cred);
	struct s3_storage *ss = calloc(1, sizeof *ss);
	enum fl_result r;
	*out = NULL;
	if (!opt)
		opt = &defaults;
	if (!cred || !ss) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if (strlen(bucket) >= sizeof ss->bucket || strlen(prefix) >= sizeof ss->prefix) {
		r = fl_error_set(err, FL_INVALID, "s3:// bucket or prefix too long");
		goto out;
	}
	if ((r = fl_s3_endpoint_parse(opt->s3_endpoint, region_of(opt), opt->s3_virtual_hosted,
				      &ep, err)) != FL_OK ||
	    (r = fl_awscred_load(cred, err)) != FL_OK ||
	    (r = fl_s3_new(&ep, cred, &ss->c, err)) != FL_OK)
		goto out;
	ss->base.ops = &s3_ops;
	memcpy(ss->bucket, bucket, strlen(bucket) + 1);
	memcpy(ss->prefix, prefix, strlen(prefix) + 1);
	ss->part_size = opt->s3_part_size ? opt->s3_part_size : DEFAULT_PART_SIZE;
	bool mib = ss->part_size % (1u << 20) == 0;
	fl_info("storage: S3 at %s://%s%s, region %s, %s addressing, multipart above %" PRIu64
		"%s, credentials from %s", ep.https ? "https" : "http", ep.host, ep.base,
		ep.region, ep.virtual_hosted ? "virtual-hosted" : "path-style",
		mib ? ss->part_size >> 20 : ss->part_size, mib ? " MiB" : " bytes", cred->source);
	*out = &ss->base;
	ss = NULL;
out:
	if (cred) {
		explicit_bzero(cred, sizeof *cred);
		free(cred);
	}
	free(ss);
	return r;
}
