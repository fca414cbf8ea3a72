/*
 * storage.h - where delivered objects live: a small interface, two backends.
 *
 * file://ROOT      the local-directory backend (storage_local.c): bucket
 *                  B, key K is the file ROOT/B/K, written atomically.
 * s3://            S3 over libcurl with SigV4 (storage_s3.c): bucket B,
 *                  key K is the object K of the S3 bucket B.
 * s3://BKT/PREFIX  S3, every bucket in one: bucket B, key K is the object
 *                  PREFIX/B/K of the S3 bucket BKT (PREFIX may be empty),
 *                  as file://ROOT keeps ROOT/B/K.
 *
 * Every call is blocking and thread-safe; callers are delivery, crawler
 * and query workers, never HTTP threads.
 *
 * Health: storage.c watches the results of puts (and syncs): FL_OK is
 * "ok"; FL_RETRY (timeout, refused connection, 5xx) "unavailable";
 * FL_FORBIDDEN (403) "forbidden"; FL_NOT_FOUND on a put (NoSuchBucket)
 * "no_such_bucket"; anything else "failing".  A change is logged once
 * (warn on the way down, info on the way up) and counted; /health and
 * /metrics read it with fl_storage_health.
 */
#ifndef FL_STORAGE_H
#define FL_STORAGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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
	enum fl_result (*get_range)(struct fl_storage *s, const char *bucket, const char *key,
				    uint64_t offset, uint64_t len, struct fl_buf *out,
				    struct fl_error *err);
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

enum fl_storage_state {
	FL_STORAGE_OK,
	FL_STORAGE_UNAVAILABLE,
	FL_STORAGE_FORBIDDEN,
	FL_STORAGE_NO_SUCH_BUCKET,
	FL_STORAGE_FAILING,
	FL_STORAGE_N_STATES
};

struct fl_storage_health {
	enum fl_storage_state state;
	char reason[256];              /* the last failure's message; "" when ok */
	int64_t since_ms;              /* when state began (CLOCK_REALTIME ms) */
	uint64_t failures[FL_STORAGE_N_STATES]; /* failed calls, by state they caused */
	uint64_t changes;              /* state changes since start */
};

struct fl_storage {
	const struct fl_storage_ops *ops;
	char url[4096];
	pthread_mutex_t health_lock;   /* storage.c's; backends leave it alone */
	struct fl_storage_health health;
};

/* S3 settings (config's s3-*); NULL or zeroes give the defaults. */
struct fl_storage_options {
	const char *s3_endpoint;       /* "" or NULL: https://s3.<region>.amazonaws.com */
	const char *s3_region;         /* "" or NULL: AWS_REGION, AWS_DEFAULT_REGION, us-east-1 */
	bool s3_virtual_hosted;
	uint64_t s3_part_size;         /* 0: 8 MiB */
};

/* Opens the backend named by url ("file:///abs/path", "file://rel",
 * "s3://", "s3://BUCKET[/PREFIX]").  Caller owns *out (fl_storage_free). */
enum fl_result fl_storage_open(const char *url, const struct fl_storage_options *opt,
			       struct fl_storage **out, struct fl_error *err) FL_MUST_USE;
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
/* get_range: appends bytes [offset, offset+len) of the object to out
 * (fewer at its end; none past it). */
enum fl_result fl_storage_get_range(struct fl_storage *s, const char *bucket, const char *key,
				    uint64_t offset, uint64_t len, struct fl_buf *out,
				    struct fl_error *err) FL_MUST_USE;
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

/* A copy of the health record; the state's name ("ok", "unavailable",
 * "forbidden", "no_such_bucket", "failing"). */
void fl_storage_health(struct fl_storage *s, struct fl_storage_health *out);
const char *fl_storage_state_name(enum fl_storage_state st);

/* Backends.  A backend allocates its struct with struct fl_storage first
 * and leaves health and health_lock to fl_storage_open. */
enum fl_result fl_storage_local_open(const char *root, struct fl_storage **out,
				     struct fl_error *err) FL_MUST_USE;
/* bucket: "" for s3://, else the one S3 bucket; prefix: "" or "p/" (ends
 * in '/'), put before "B/K". */
enum fl_result fl_storage_s3_open(const char *bucket, const char *prefix,
				  const struct fl_storage_options *opt, struct fl_storage **out,
				  struct fl_error *err) FL_MUST_USE;

#endif
