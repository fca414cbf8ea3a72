/*
 * storage_local.c - the local-directory storage backend.
 *
 * DESIGN.  Bucket B, key K is the regular file ROOT/B/K; the '/'s of the
 * key are directories.  Names were validated by storage.c (no "." or ".."
 * segment, no "//", no leading '/'), so a path never leaves ROOT/B.
 *
 * put writes ROOT/B/<dir of K>/.tmp.<random>, fsyncs it, renames it over
 * the key and fsyncs the directories from the key's up to ROOT: a reader
 * sees the old object or the new one, never part of one, and after a crash
 * an acknowledged object is whole.  Key segments starting with ".tmp." are reserved for those
 * files and refused.  Directories are never removed (a concurrent put may
 * be creating a file in one), so empty ones may remain after deletes.
 *
 * S3 can hold both "a" and "a/b"; a directory tree cannot.  put of such a
 * conflicting key is FL_EXISTS; get/stat/delete of a key that is a
 * directory here behave as for a missing object.
 *
 * list walks ROOT/B depth first, starting at the deepest directory the
 * prefix names, with each directory's entries sorted by name (a directory
 * sorting as name + "/").  That yields keys in byte order, as S3 lists
 * them, without holding the whole listing in memory.
 *
 * The backend keeps no mutable state: every call is thread-safe.
 */
#include "fsdir.h"
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCAL_PATH_MAX 4096
#define TMP_PREFIX ".tmp."

struct local_storage {
	struct fl_storage base;
	char root[LOCAL_PATH_MAX];
};

static struct local_storage *local_of(struct fl_storage *s)
{
	return (struct local_storage *)s;
}


/* ROOT/bucket/key into out; -1 when it does not fit. */
static int object_path(struct local_storage *ls, const char *bucket, const char *key,
		       char *out, size_t n)
{
	int k = snprintf(out, n, "%s/%s/%s", ls->root, bucket, key);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

/* Refuses keys with a segment this backend reserves. */
static enum fl_result check_local_key(const char *key, struct fl_error *err)
{
	for (const char *seg = key; seg; seg = strchr(seg, '/'), seg = seg ? seg + 1 : NULL)
		if (strncmp(seg, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			return fl_error_set(err, FL_INVALID,
					    "object key segments may not start with \".tmp.\"");
	return FL_OK;
}

static int64_t mtime_ms_of(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* Writes an object; with durable, fsyncs it and every directory up to the
 * root before returning, else leaves that to one local_sync. */
static enum fl_result put_object(struct fl_storage *s, const char *bucket, const char *key,
				 const void *data, size_t len, bool durable,
				 struct fl_error *err)
{
	struct local_storage *ls = local_of(s);
	enum fl_result r = check_local_key(key, err);
	char path[LOCAL_PATH_MAX], dir[LOCAL_PATH_MAX], tmp[LOCAL_PATH_MAX + 32];
	int fd = -1;
	bool tmp_made = false;
	if (r != FL_OK)
		return r;
	if (object_path(ls, bucket, key, path, sizeof path) < 0)
		return fl_error_set(err, FL_INVALID, "object path too long");
	memcpy(dir, path, sizeof dir);
	*strrchr(dir, '/') = '\0';
	if (fl_mkdir_durable(dir, strlen(ls->root), 0755) < 0) {
		if (errno == ENOTDIR || errno == EEXIST)
			r = fl_error_set(err, FL_EXISTS,
					 "a part of the key is an object in the local store");
		else
			r = fl_error_set(err, FL_IO, "create directory: %s", strerror(errno));
		goto out;
	}
	uint64_t rnd;
	if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		r = fl_error_set(err, FL_IO, "getrandom: %s", strerror(errno));
		goto out;
	}
	snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "%016" PRIx64, dir, rnd);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = fl_error_set(err, FL_IO, "create object: %s", strerror(errno));
		goto out;
	}
	tmp_made = true;
	const char *p = data;
	size_t off = 0;
	while (off < len) {
		ssize_t k = write(fd, p + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = fl_error_set(err, FL_IO, "write object: %s",
					 k < 0 ? strerror(errno) : "no progress");
			goto out;
		}
		off += (size_t)k;
	}
	int t = 0;
	while (durable && (t = fsync(fd)) < 0 && errno == EINTR)
		;
	if (t < 0) {
		r = fl_error_set(err, FL_IO, "sync object: %s", strerror(errno));
		goto out;
	}
	t = close(fd);
	fd = -1;
	if (t < 0) {
		r = fl_error_set(err, FL_IO, "close object: %s", strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
			r = fl_error_set(err, FL_EXISTS,
					 "the key is a directory of other objects in the local store");
		else
			r = fl_error_set(err, FL_IO, "rename object: %s", strerror(errno));
		goto out;
	}
	tmp_made = false;
	/* The object is durable when every entry on its path is: fsync each
	 * directory from the object's up to the root.  A directory that a
	 * concurrent put has just created may not be synced yet by it, so
	 * "it already existed" does not mean "it is durable". */
	for (size_t n = strlen(dir), root_n = strlen(ls->root); durable;) {
		if (fl_fsync_path(dir) < 0) {
			r = fl_error_set(err, FL_IO, "sync directory: %s", strerror(errno));
			goto out;
		}
		if (n <= root_n)
			break;
		while (n > root_n && dir[n - 1] != '/')
			n--;
		dir[--n] = '\0';
	}
out:
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		unlink(tmp);
	return r;
}

static enum fl_result local_put(struct fl_storage *s, const char *bucket, const char *key,
				const void *data, size_t len, struct fl_error *err)
{
	return put_object(s, bucket, key, data, len, true, err);
}

static enum fl_result local_put_deferred(struct fl_storage *s, const char *bucket,
					 const char *key, const void *data, size_t len,
					 struct fl_error *err)
{
	return put_object(s, bucket, key, data, len, false, err);
}

/* Makes every deferred put durable: one syncfs of the store's file
 * system instead of an fsync per file and directory. */
static enum fl_result local_sync(struct fl_storage *s, struct fl_error *err)
{
	int fd = open(local_of(s)->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fl_error_set(err, FL_IO, "open storage root: %s", strerror(errno));
	int r = syncfs(fd);
	int e = errno;
	close(fd);
	return r < 0 ? fl_error_set(err, FL_IO, "sync storage: %s", strerror(e)) : FL_OK;
}

/* Opens the object for reading; FL_NOT_FOUND when absent or not a file. */
static enum fl_result open_object(struct local_storage *ls, const char *bucket,
				  const char *key, int *fd, struct stat *st,
				  struct fl_error *err)
{
	char path[LOCAL_PATH_MAX];
	*fd = -1;
	enum fl_result r = check_local_key(key, err);
	if (r != FL_OK)
		return r;
	if (object_path(ls, bucket, key, path, sizeof path) < 0)
		return fl_error_set(err, FL_NOT_FOUND, "no such object");
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG)
			return fl_error_set(err, FL_NOT_FOUND, "no such object");
		return fl_error_set(err, FL_IO, "open object: %s", strerror(errno));
	}
	if (fstat(f, st) < 0) {
		r = fl_error_set(err, FL_IO, "stat object: %s", strerror(errno));
		close(f);
		return r;
	}
	if (!S_ISREG(st->st_mode)) {
		close(f);
		return fl_error_set(err, FL_NOT_FOUND, "no such object");
	}
	*fd = f;
	return FL_OK;
}

/* Bytes [offset, offset + len) of the object, clipped to its size. */
static enum fl_result local_get_range(struct fl_storage *s, const char *bucket,
				      const char *key, uint64_t offset, uint64_t len,
				      struct fl_buf *out, struct fl_error *err)
{
	struct stat st;
	int fd;
	enum fl_result r = open_object(local_of(s), bucket, key, &fd, &st, err);
	if (r != FL_OK)
		return r;
	size_t old = out->len;
	uint64_t total = (uint64_t)st.st_size;
	if (offset > total)
		offset = total;
	if (len > total - offset)
		len = total - offset;
	size_t size = (size_t)len;
	r = fl_buf_reserve(out, size);
	if (r == FL_TOO_LARGE) {
		r = fl_error_set(err, FL_TOO_LARGE, "object is larger than the buffer allows");
		goto out;
	}
	if (r != FL_OK) {
		r = fl_error_set(err, r, "out of memory");
		goto out;
	}
	/* Objects are replaced by rename, never rewritten: the inode we hold
	 * keeps its size. */
	size_t got = 0;
	while (got < size) {
		ssize_t k = pread(fd, out->data + old + got, size - got,
				  (off_t)(offset + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = fl_error_set(err, FL_IO, "read object: %s", strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	out->len = old + got;
	out->data[out->len] = '\0';
out:
	if (r != FL_OK && out->data) {
		out->len = old;
		out->data[old] = '\0';
	}
	close(fd);
	return r;
}

static enum fl_result local_get(struct fl_storage *s, const char *bucket, const char *key,
				struct fl_buf *out, struct fl_error *err)
{
	return local_get_range(s, bucket, key, 0, UINT64_MAX, out, err);
}

static enum fl_result local_stat(struct fl_storage *s, const char *bucket, const char *key,
				 struct fl_object_info *info, struct fl_error *err)
{
	struct stat st;
	int fd;
	enum fl_result r = open_object(local_of(s), bucket, key, &fd, &st, err);
	if (r != FL_OK)
		return r;
	close(fd);
	snprintf(info->key, sizeof info->key, "%s", key);
	info->bytes = (uint64_t)st.st_size;
	info->mtime_ms = mtime_ms_of(&st);
	return FL_OK;
}

static enum fl_result local_del(struct fl_storage *s, const char *bucket, const char *key,
				struct fl_error *err)
{
	struct local_storage *ls = local_of(s);
	char path[LOCAL_PATH_MAX];
	enum fl_result r = check_local_key(key, err);
	if (r != FL_OK)
		return r;
	if (object_path(ls, bucket, key, path, sizeof path) < 0)
		return FL_OK; /* cannot exist */
	struct stat st;
	if (lstat(path, &st) < 0 || S_ISDIR(st.st_mode))
		return FL_OK; /* as S3: deleting a missing object succeeds */
	if (unlink(path) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return FL_OK;
		return fl_error_set(err, FL_IO, "delete object: %s", strerror(errno));
	}
	*strrchr(path, '/') = '\0';
	if (fl_fsync_path(path) < 0)
		return fl_error_set(err, FL_IO, "sync directory: %s", strerror(errno));
	return FL_OK;
}

/* ---- list ----------------------------------------------------------- */

struct walk {
	char path[LOCAL_PATH_MAX]; /* directory being read */
	char key[1100];            /* key of that directory, with its '/' */
	const char *prefix;
	size_t prefix_len;
	int (*fn)(void *arg, const struct fl_object_info *info);
	void *arg;
	bool stop;
	struct fl_error *err;
};

struct entry {
	char *sort;  /* name, plus '/' for a directory */
	bool dir;
	uint64_t bytes;
	int64_t mtime_ms;
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->sort, ((const struct entry *)b)->sort);
}

/* Whether keys under k (a directory key ending in '/') can match prefix. */
static bool dir_may_match(const char *k, size_t kn, const char *prefix, size_t pn)
{
	size_t n = kn < pn ? kn : pn;
	return memcmp(k, prefix, n) == 0;
}

static enum fl_result walk_dir(struct walk *wk)
{
	enum fl_result r = FL_OK;
	struct entry *v = NULL;
	size_t len = 0, cap = 0;
	DIR *d = opendir(wk->path);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return FL_OK;
		return fl_error_set(wk->err, FL_IO, "read directory: %s", strerror(errno));
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* deleted meanwhile */
			r = fl_error_set(wk->err, FL_IO, "stat object: %s", strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			continue;
		if (len == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct entry *nv = realloc(v, nc * sizeof *nv);
			if (!nv) {
				r = fl_error_set(wk->err, FL_INTERNAL, "out of memory");
				goto out;
			}
			v = nv;
			cap = nc;
		}
		size_t nl = strlen(name);
		struct entry *en = &v[len];
		en->dir = S_ISDIR(st.st_mode);
		en->sort = malloc(nl + 2);
		if (!en->sort) {
			r = fl_error_set(wk->err, FL_INTERNAL, "out of memory");
			goto out;
		}
		memcpy(en->sort, name, nl);
		en->sort[nl] = en->dir ? '/' : '\0';
		en->sort[nl + 1] = '\0';
		en->bytes = (uint64_t)st.st_size;
		en->mtime_ms = mtime_ms_of(&st);
		len++;
	}
	closedir(d);
	d = NULL;
	if (len)
		qsort(v, len, sizeof *v, entry_cmp);

	size_t plen = strlen(wk->path), klen = strlen(wk->key);
	for (size_t i = 0; i < len && !wk->stop && r == FL_OK; i++) {
		struct entry *en = &v[i];
		size_t sl = strlen(en->sort);
		if (klen + sl > 1024 || plen + 1 + sl >= sizeof wk->path)
			continue; /* not a key S3 could hold */
		memcpy(wk->key + klen, en->sort, sl + 1);
		if (en->dir) {
			if (dir_may_match(wk->key, klen + sl, wk->prefix, wk->prefix_len)) {
				wk->path[plen] = '/';
				memcpy(wk->path + plen + 1, en->sort, sl);
				wk->path[plen + sl] = '\0'; /* drops the sort '/' */
				r = walk_dir(wk);
				wk->path[plen] = '\0';
			}
		} else if (klen + sl >= wk->prefix_len &&
			   memcmp(wk->key, wk->prefix, wk->prefix_len) == 0) {
			struct fl_object_info info;
			memcpy(info.key, wk->key, klen + sl + 1);
			info.bytes = en->bytes;
			info.mtime_ms = en->mtime_ms;
			if (wk->fn(wk->arg, &info) != 0)
				wk->stop = true;
		}
		wk->key[klen] = '\0';
	}
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < len; i++)
		free(v[i].sort);
	free(v);
	return r;
}

static enum fl_result local_list(struct fl_storage *s, const char *bucket,
				 const char *prefix,
				 int (*fn)(void *arg, const struct fl_object_info *info),
				 void *arg, struct fl_error *err)
{
	struct local_storage *ls = local_of(s);
	struct walk *wk = calloc(1, sizeof *wk);
	if (!wk)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	enum fl_result r = FL_OK;
	wk->prefix = prefix;
	wk->prefix_len = strlen(prefix);
	wk->fn = fn;
	wk->arg = arg;
	wk->err = err;
	/* Start at the deepest directory the prefix names.  A prefix whose
	 * directory part could not be part of a valid key matches nothing. */
	const char *slash = strrchr(prefix, '/');
	size_t dn = slash ? (size_t)(slash - prefix) + 1 : 0;
	if (dn) {
		char dirpart[1025];
		memcpy(dirpart, prefix, dn - 1);
		dirpart[dn - 1] = '\0';
		if (fl_storage_check_name(NULL, dirpart, NULL) != FL_OK ||
		    check_local_key(dirpart, NULL) != FL_OK)
			goto out;
	}
	if ((size_t)snprintf(wk->path, sizeof wk->path, "%s/%s/%.*s", ls->root, bucket,
			     (int)dn, prefix) >= sizeof wk->path)
		goto out;
	wk->path[strlen(wk->path) - 1] = '\0'; /* no trailing '/' */
	memcpy(wk->key, prefix, dn);
	wk->key[dn] = '\0';
	r = walk_dir(wk);
out:
	free(wk);
	return r;
}

static void local_free(struct fl_storage *s)
{
	free(local_of(s));
}

static const struct fl_storage_ops local_ops = {
	.put = local_put,
	.put_deferred = local_put_deferred,
	.sync = local_sync,
	.get = local_get,
	.get_range = local_get_range,
	.stat = local_stat,
	.del = local_del,
	.list = local_list,
	.free = local_free,
};

enum fl_result fl_storage_local_open(const char *root, struct fl_storage **out,
				     struct fl_error *err)
{
	*out = NULL;
	size_t n = strlen(root);
	/* Room for "/bucket/key" after the root. */
	if (n == 0 || n + 1 + 63 + 1 + 1024 >= LOCAL_PATH_MAX)
		return fl_error_set(err, FL_INVALID, "storage root path empty or too long");
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (fl_mkdir_durable(root, 0, 0755) < 0)
		return fl_error_set(err, FL_IO, "create storage root %s: %s", root,
				    strerror(errno));
	struct local_storage *ls = calloc(1, sizeof *ls);
	if (!ls)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	ls->base.ops = &local_ops;
	snprintf(ls->base.url, sizeof ls->base.url, "file://%s", root);
	memcpy(ls->root, root, n);
	ls->root[n] = '\0';
	*out = &ls->base;
	return FL_OK;
}
