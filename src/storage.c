/*
 * storage.c - picks the storage backend for a URL, validates bucket and key
 * names, and forwards the fl_storage_* calls to the backend's ops.
 *
 * Names are checked here once, for every backend, so a key that S3 would
 * refuse is refused by the local directory as well (and the other way
 * round: a key that would escape a directory tree is refused for S3 too),
 * and moving a lake between backends never meets a name one side cannot
 * hold.
 *
 * The health record (storage.h) is kept here too, from the results of the
 * writes every backend forwards through this file.
 */
#include "storage.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* s3://BUCKET/PREFIX into "BUCKET" and "PREFIX/" ("" and "" for s3://). */
static enum fl_result open_s3(const char *url, const struct fl_storage_options *opt,
			      struct fl_storage **out, struct fl_error *err)
{
	char bucket[64] = "", prefix[1024] = "";
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	if (blen) {
		if (blen >= sizeof bucket)
			return fl_error_set(err, FL_INVALID, "bucket name must be 3 to 63 characters");
		memcpy(bucket, b, blen);
		enum fl_result r = fl_storage_check_name(bucket, NULL, err);
		if (r != FL_OK)
			return r;
	}
	if (slash && slash[1]) {
		const char *p = slash + 1;
		size_t n = strlen(p);
		while (n && p[n - 1] == '/')
			n--;
		if (n + 2 > sizeof prefix)
			return fl_error_set(err, FL_INVALID, "s3:// prefix too long");
		memcpy(prefix, p, n);
		if (n) {
			/* "PREFIX/x" must be a valid key: no "//", no "." segments. */
			char probe[sizeof prefix + 2];
			prefix[n] = '/';
			snprintf(probe, sizeof probe, "%sx", prefix);
			struct fl_error why = { 0 };
			if (fl_storage_check_name(NULL, probe, &why) != FL_OK)
				return fl_error_set(err, FL_INVALID, "s3:// prefix: %s", why.msg);
		}
	}
	return fl_storage_s3_open(bucket, prefix, opt, out, err);
}

enum fl_result fl_storage_open(const char *url, const struct fl_storage_options *opt,
			       struct fl_storage **out, struct fl_error *err)
{
	static const struct fl_storage_options defaults = { 0 };
	enum fl_result r;
	*out = NULL;
	if (!opt)
		opt = &defaults;
	if (strlen(url) >= sizeof(((struct fl_storage *)0)->url))
		return fl_error_set(err, FL_INVALID, "storage URL too long");
	if (strncmp(url, "file://", 7) == 0) {
		const char *root = url + 7;
		if (!*root)
			return fl_error_set(err, FL_INVALID, "file:// URL without a path");
		r = fl_storage_local_open(root, out, err);
	} else if (strncmp(url, "s3://", 5) == 0) {
		r = open_s3(url, opt, out, err);
	} else {
		return fl_error_set(err, FL_INVALID, "storage URL must start with file:// or s3://");
	}
	if (r != FL_OK)
		return r;
	snprintf((*out)->url, sizeof (*out)->url, "%s", url);
	pthread_mutex_init(&(*out)->health_lock, NULL);
	memset(&(*out)->health, 0, sizeof (*out)->health);
	(*out)->health.since_ms = wall_ms();
	return FL_OK;
}

void fl_storage_free(struct fl_storage *s)
{
	if (s) {
		pthread_mutex_destroy(&s->health_lock);
		s->ops->free(s);
	}
}

const char *fl_storage_state_name(enum fl_storage_state st)
{
	static const char *const names[FL_STORAGE_N_STATES] = {
		"ok", "unavailable", "forbidden", "no_such_bucket", "failing",
	};
	return (unsigned)st < FL_STORAGE_N_STATES ? names[st] : "failing";
}

void fl_storage_health(struct fl_storage *s, struct fl_storage_health *out)
{
	pthread_mutex_lock(&s->health_lock);
	*out = s->health;
	pthread_mutex_unlock(&s->health_lock);
}

/* Records the outcome of a write; logs a change of state once. */
static enum fl_result observe(struct fl_storage *s, enum fl_result r,
			      const struct fl_error *err)
{
	enum fl_storage_state st;
	switch (r) {
	case FL_OK: st = FL_STORAGE_OK; break;
	case FL_INVALID: return r; /* a bad name: the caller's, not the store's */
	case FL_RETRY: st = FL_STORAGE_UNAVAILABLE; break;
	case FL_FORBIDDEN: st = FL_STORAGE_FORBIDDEN; break;
	case FL_NOT_FOUND: st = FL_STORAGE_NO_SUCH_BUCKET; break;
	default: st = FL_STORAGE_FAILING; break;
	}
	pthread_mutex_lock(&s->health_lock);
	struct fl_storage_health *h = &s->health;
	enum fl_storage_state was = h->state;
	if (st != FL_STORAGE_OK)
		h->failures[st]++;
	if (st != was) {
		h->state = st;
		h->since_ms = wall_ms();
		h->changes++;
		snprintf(h->reason, sizeof h->reason, "%.255s", st == FL_STORAGE_OK ? "" : err->msg);
	}
	pthread_mutex_unlock(&s->health_lock);
	if (st != was) {
		if (st == FL_STORAGE_OK)
			fl_info("storage %s: writes succeed again (was %s)", s->url,
				fl_storage_state_name(was));
		else
			fl_warn("storage %s: %s: %s; delivery retries until it recovers", s->url,
				fl_storage_state_name(st), err->msg);
	}
	return r;
}

/* Dotted quad such as 192.168.5.4: S3 refuses bucket names shaped so. */
static bool ip_like(const char *b)
{
	int parts = 0, digits = 0;
	for (const char *p = b;; p++) {
		if (*p >= '0' && *p <= '9') {
			if (++digits > 3)
				return false;
		} else if (*p == '.' || *p == '\0') {
			if (digits == 0)
				return false;
			parts++;
			digits = 0;
			if (*p == '\0')
				break;
		} else {
			return false;
		}
	}
	return parts == 4;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static enum fl_result check_bucket(const char *b, struct fl_error *err)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63)
		return fl_error_set(err, FL_INVALID, "bucket name must be 3 to 63 characters");
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && c != '.' && c != '-')
			return fl_error_set(err, FL_INVALID,
					    "bucket name may hold only a-z, 0-9, '.' and '-'");
		if (!alnum && (i == 0 || i == n - 1))
			return fl_error_set(err, FL_INVALID,
					    "bucket name must start and end with a letter or digit");
		if (c == '.' && b[i + 1] == '.')
			return fl_error_set(err, FL_INVALID,
					    "bucket name may not hold two adjacent periods");
	}
	if (ip_like(b))
		return fl_error_set(err, FL_INVALID, "bucket name may not look like an IP address");
	if (strncmp(b, "xn--", 4) == 0 || strncmp(b, "sthree-", 7) == 0 ||
	    ends_with(b, n, "-s3alias") || ends_with(b, n, "--ol-s3"))
		return fl_error_set(err, FL_INVALID, "bucket name uses a prefix or suffix S3 reserves");
	return FL_OK;
}

static enum fl_result check_key(const char *k, struct fl_error *err)
{
	size_t n = strlen(k);
	if (n == 0 || n > 1024)
		return fl_error_set(err, FL_INVALID, "object key must be 1 to 1024 bytes");
	if (k[0] == '/')
		return fl_error_set(err, FL_INVALID, "object key may not start with '/'");
	for (size_t i = 0; i < n;) {
		size_t l = fl_utf8_seq((const unsigned char *)k + i, n - i);
		if (!l)
			return fl_error_set(err, FL_INVALID, "object key is not valid UTF-8");
		i += l;
	}
	/* Every '/'-separated segment must name a file or directory. */
	for (const char *seg = k;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		if (len == 0)
			return fl_error_set(err, FL_INVALID,
					    "object key may not hold '//' or end with '/'");
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return fl_error_set(err, FL_INVALID,
					    "object key may not hold '.' or '..' segments");
		if (!end)
			break;
		seg = end + 1;
	}
	return FL_OK;
}

enum fl_result fl_storage_check_name(const char *bucket, const char *key,
				     struct fl_error *err)
{
	enum fl_result r = FL_OK;
	if (bucket)
		r = check_bucket(bucket, err);
	if (r == FL_OK && key)
		r = check_key(key, err);
	return r;
}

enum fl_result fl_storage_put(struct fl_storage *s, const char *bucket, const char *key,
			      const void *data, size_t len, struct fl_error *err)
{
	enum fl_result r = fl_storage_check_name(bucket, key, err);
	return r != FL_OK ? r : observe(s, s->ops->put(s, bucket, key, data, len, err), err);
}

enum fl_result fl_storage_get(struct fl_storage *s, const char *bucket, const char *key,
			      struct fl_buf *out, struct fl_error *err)
{
	enum fl_result r = fl_storage_check_name(bucket, key, err);
	return r != FL_OK ? r : s->ops->get(s, bucket, key, out, err);
}

enum fl_result fl_storage_get_range(struct fl_storage *s, const char *bucket, const char *key,
				    uint64_t offset, uint64_t len, struct fl_buf *out,
				    struct fl_error *err)
{
	enum fl_result r = fl_storage_check_name(bucket, key, err);
	return r != FL_OK ? r : s->ops->get_range(s, bucket, key, offset, len, out, err);
}

enum fl_result fl_storage_stat(struct fl_storage *s, const char *bucket, const char *key,
			       struct fl_object_info *info, struct fl_error *err)
{
	enum fl_result r = fl_storage_check_name(bucket, key, err);
	return r != FL_OK ? r : s->ops->stat(s, bucket, key, info, err);
}

enum fl_result fl_storage_delete(struct fl_storage *s, const char *bucket, const char *key,
				 struct fl_error *err)
{
	enum fl_result r = fl_storage_check_name(bucket, key, err);
	return r != FL_OK ? r : s->ops->del(s, bucket, key, err);
}

enum fl_result fl_storage_list(struct fl_storage *s, const char *bucket, const char *prefix,
			       int (*fn)(void *arg, const struct fl_object_info *info),
			       void *arg, struct fl_error *err)
{
	enum fl_result r = fl_storage_check_name(bucket, NULL, err);
	if (r != FL_OK)
		return r;
	if (!prefix)
		prefix = "";
	if (strlen(prefix) > 1024)
		return fl_error_set(err, FL_INVALID, "list prefix longer than 1024 bytes");
	return s->ops->list(s, bucket, prefix, fn, arg, err);
}

enum fl_result fl_storage_put_deferred(struct fl_storage *s, const char *bucket,
				       const char *key, const void *data, size_t len,
				       struct fl_error *err)
{
	if (!s->ops->put_deferred)
		return fl_storage_put(s, bucket, key, data, len, err);
	enum fl_result r = fl_storage_check_name(bucket, key, err);
	return r != FL_OK ? r
		: observe(s, s->ops->put_deferred(s, bucket, key, data, len, err), err);
}

enum fl_result fl_storage_sync(struct fl_storage *s, struct fl_error *err)
{
	return s->ops->sync ? observe(s, s->ops->sync(s, err), err) : FL_OK;
}
