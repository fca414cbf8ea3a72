/*
 * storage.c - picks the storage backend for a URL, validates bucket and key
 * names, and forwards the fl_storage_* calls to the backend's ops.
 *
 * Names are checked here once, for every backend, so a key that S3 would
 * refuse is refused by the local directory as well (and the other way
 * round: a key that would escape a directory tree is refused for S3 too),
 * and moving a lake between backends never meets a name one side cannot
 * hold.
 */
#include "storage.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum fl_result fl_storage_open(const char *url, struct fl_storage **out,
			       struct fl_error *err)
{
	*out = NULL;
	if (strlen(url) >= sizeof(((struct fl_storage *)0)->url))
		return fl_error_set(err, FL_INVALID, "storage URL too long");
	if (strncmp(url, "file://", 7) == 0) {
		const char *root = url + 7;
		if (!*root)
			return fl_error_set(err, FL_INVALID, "file:// URL without a path");
		enum fl_result r = fl_storage_local_open(root, out, err);
		if (r == FL_OK)
			snprintf((*out)->url, sizeof (*out)->url, "%s", url);
		return r;
	}
	if (strncmp(url, "s3://", 5) == 0)
		return fl_error_set(err, FL_INVALID, "s3 storage is not built yet");
	return fl_error_set(err, FL_INVALID, "storage URL must start with file:// or s3://");
}

void fl_storage_free(struct fl_storage *s)
{
	if (s)
		s->ops->free(s);
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

/* Length of the UTF-8 sequence at p (1..4), 0 when it is not valid. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	size_t n;
	unsigned min;
	if ((c & 0xE0) == 0xC0) {
		n = 2;
		min = 0x80;
		c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3;
		min = 0x800;
		c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4;
		min = 0x10000;
		c &= 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	return n;
}

static enum fl_result check_key(const char *k, struct fl_error *err)
{
	size_t n = strlen(k);
	if (n == 0 || n > 1024)
		return fl_error_set(err, FL_INVALID, "object key must be 1 to 1024 bytes");
	if (k[0] == '/')
		return fl_error_set(err, FL_INVALID, "object key may not start with '/'");
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len((const unsigned char *)k + i);
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
	return r != FL_OK ? r : s->ops->put(s, bucket, key, data, len, err);
}

enum fl_result fl_storage_get(struct fl_storage *s, const char *bucket, const char *key,
			      struct fl_buf *out, struct fl_error *err)
{
	enum fl_result r = fl_storage_check_name(bucket, key, err);
	return r != FL_OK ? r : s->ops->get(s, bucket, key, out, err);
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
	return r != FL_OK ? r : s->ops->put_deferred(s, bucket, key, data, len, err);
}

enum fl_result fl_storage_sync(struct fl_storage *s, struct fl_error *err)
{
	return s->ops->sync ? s->ops->sync(s, err) : FL_OK;
}
