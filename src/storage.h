/*
 * storage.h - where delivered objects live: a small interface, two backends.
 *
 * file://ROOT   the local-directory backend (storage_local.c): bucket B,
 *               key K is the file ROOT/B/K, written atomically.
 * s3://...      S3 over libcurl with SigV4 (storage_s3.c, later).
 *
 * Every call is blocking and thread-safe; callers are delivery, crawler
 * and query workers, never HTTP threads.
 */
#ifndef FL_STORAGE_H
#define FL_STORAGE_H

#include <stdint.h>

#include "buf.h"
#include "result.h"

struct fl_object_info {
	char key[1025];
	uint64_t bytes;
	int64_t mtime_ms;
};

struct fl_storage;

struct fl_storage_ops {
	enum fl_result (*put)(struct fl_storage *s, const char *bucket, const char *key,
			      const void *data, size_t len, struct fl_error *err);
	enum fl_result (*get)(struct fl_storage *s, const char *bucket, const char *key,
			      struct fl_buf *out, struct fl_error *err);
	enum fl_result (*stat)(struct fl_storage *s, const char *bucket, const char *key,
			       struct fl_object_info *info, struct fl_error *err);
	enum fl_result (*del)(struct fl_storage *s, const char *bucket, const char *key,
			      struct fl_error *err);
	enum fl_result (*list)(struct fl_storage *s, const char *bucket, const char *prefix,
			       int (*fn)(void *arg, const struct fl_object_info *info),
			       void *arg, struct fl_error *err);
	/* Optional: a put that is durable only after sync (NULL: put). */
	enum fl_result (*put_deferred)(struct fl_storage *s, const char *bucket,
				       const char *key, const void *data, size_t len,
				       struct fl_error *err);
	enum fl_result (*sync)(struct fl_storage *s, struct fl_error *err);
	void (*free)(struct fl_storage *s);
};

struct fl_storage {
	const struct fl_storage_ops *ops;
	char url[4096];
};

/* Opens the backend named by url ("file:///abs/path" or "file://rel").
 * Caller owns *out (fl_storage_free). */
enum fl_result fl_storage_open(const char *url, struct fl_storage **out,
			       struct fl_error *err) FL_MUST_USE;
void fl_storage_free(struct fl_storage *s);

/* Validates an S3 bucket name and object key as S3 does, plus what a
 * directory tree needs: no "." or ".." segment, no NUL, key <= 1024 bytes. */
enum fl_result fl_storage_check_name(const char *bucket, const char *key,
				     struct fl_error *err) FL_MUST_USE;

/* put: replaces the object atomically.  get: appends the whole object to
 * out (FL_TOO_LARGE past out->max).  list: keys under prefix in byte order;
 * fn returns non-zero to stop.  FL_NOT_FOUND for a missing object. */
enum fl_result fl_storage_put(struct fl_storage *s, const char *bucket, const char *key,
			      const void *data, size_t len, struct fl_error *err) FL_MUST_USE;
enum fl_result fl_storage_get(struct fl_storage *s, const char *bucket, const char *key,
			      struct fl_buf *out, struct fl_error *err) FL_MUST_USE;
enum fl_result fl_storage_stat(struct fl_storage *s, const char *bucket, const char *key,
			       struct fl_object_info *info, struct fl_error *err) FL_MUST_USE;
enum fl_result fl_storage_delete(struct fl_storage *s, const char *bucket, const char *key,
				 struct fl_error *err) FL_MUST_USE;
enum fl_result fl_storage_list(struct fl_storage *s, const char *bucket, const char *prefix,
			       int (*fn)(void *arg, const struct fl_object_info *info),
			       void *arg, struct fl_error *err) FL_MUST_USE;

/* put_deferred: like put, but durable only once fl_storage_sync returns
 * FL_OK, so many objects share one sync (delivery of a segment).  On a
 * backend whose puts are durable on return, sync does nothing. */
enum fl_result fl_storage_put_deferred(struct fl_storage *s, const char *bucket,
				       const char *key, const void *data, size_t len,
				       struct fl_error *err) FL_MUST_USE;
enum fl_result fl_storage_sync(struct fl_storage *s, struct fl_error *err) FL_MUST_USE;

/* Backends. */
enum fl_result fl_storage_local_open(const char *root, struct fl_storage **out,
				     struct fl_error *err) FL_MUST_USE;

#endif
