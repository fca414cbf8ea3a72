/*
 * crawl.c - one crawl of a Glue crawler: list, read, infer, register.
 *
 * DESIGN
 *
 * A crawl has three phases.
 *
 * 1. Listing (the calling thread).  Every S3 target is listed in the
 *    lake's storage; each key becomes a struct file that names its table
 *    and its partition.  The table is the key's first folder under the
 *    target's prefix, or the prefix itself when the file sits directly
 *    under it or when that first folder is already a key=value partition.
 *    The folders between the table's folder and the file are partition
 *    levels: "k=v" gives key k (a column name) and value v (%XX decoded),
 *    any other folder gives key partition_<i> and its name as value, as
 *    Glue names them.  A table's keys are those of its first file in key
 *    order; a file with other keys is skipped.  Keys come in byte order,
 *    so the files of one partition folder are adjacent: a partition is
 *    the run of its table's files that share a folder.  Hidden files and
 *    folders (".x", "_x", as Hadoop hides them) and the target's
 *    Exclusions (globs relative to the prefix, glob.h: '*' and '?' stay
 *    inside a folder, '**' crosses folders, [a-z], {a,b}) are not crawled.
 *
 * 2. Reading (FL_CRAWL_THREADS workers sharing one atomic cursor over
 *    the files).  A worker reads an object whole (storage gets at most
 *    CRAWL_MAX_OBJECT bytes; larger ones are skipped), inflates gzip (by
 *    magic bytes; multi-member) chunk by chunk into a buffer of at most
 *    CRAWL_MAX_RECORD + CRAWL_CHUNK bytes and hands complete records to
 *    the reader of the table's format: NDJSON lines to the worker's own
 *    fl_infer of that table, CSV records (RFC 4180: quotes, "" escapes,
 *    CRLF, newlines inside quotes; split by csv.h) to
 *    fl_schema_observe_text, column names from the header line.  The
 *    first file of a table that a worker reaches "ensures" the table
 *    (under the table's mutex, in its own committed statement so that no
 *    file's transaction waits on another): an existing table keeps its
 *    format and keys (files that disagree are skipped), a new one is
 *    created.  Each file is then registered in one transaction of the
 *    worker's own connection: its partition (once per partition per
 *    crawl) and its object row (kind "crawled").  Those transactions
 *    commit with synchronous_commit off: a crawl that a crash cut short
 *    is simply run again, and every write is idempotent.  Workers poll
 *    the stop flag between files.
 *
 * 3. Merging (the calling thread).  Per table, the schemas that the
 *    workers learnt are merged and written with one
 *    fl_catalog_merge_schema, unless the crawler's SchemaChangePolicy
 *    says LOG for a table that existed.  CSV columns keep the header's
 *    order: a CSV table is read by position, so its schemas are
 *    positional (schema.h) from the file up to the catalog, which appends
 *    a CSV table's new columns in that order too.  The outcome counters
 *    come from the tables' version_id and partition counts before and
 *    after.
 *
 * No thread holds two pool connections at once, so crawls cannot starve
 * the pool into a deadlock.
 */
#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "buf.h"
#include "catalog.h"
#include "crawler.h"
#include "csv.h"
#include "db.h"
#include "glob.h"
#include "log.h"
#include "schema.h"
#include "server.h"
#include "storage.h"

#define CRAWL_MAX_OBJECT ((size_t)2 << 30)  /* bigger objects are skipped */
#define CRAWL_CHUNK ((size_t)1 << 20)       /* inflated bytes read at once */
#define CRAWL_MAX_RECORD ((size_t)64 << 20) /* a longer line is a bad record */
#define CRAWL_MAX_SEGMENTS 64
#define CRAWL_NONE SIZE_MAX

enum { FMT_UNKNOWN = -1 };

struct part {
	size_t table;
	char *path;                 /* the folder's key prefix, with its '/' */
	char **vals;                /* nvals = the table's nkeys */
	_Atomic bool added;         /* registered in this crawl */
};

struct file {
	char *key;
	uint64_t bytes;
	size_t table, part;         /* part: CRAWL_NONE without keys */
	int ext_fmt;                /* from the name, or FMT_UNKNOWN */
};

struct table {
	char name[256];
	char bucket[64];
	char folder[1025];          /* key prefix of the table, with '/', or "" */
	size_t nkeys;
	char keys[FL_CATALOG_MAX_KEYS][128];
	size_t last_part;           /* listing: the part of its last file */
	pthread_mutex_t mu;         /* the fields below, once workers run */
	int fmt;
	bool ensured, existed, broken;
	long long version;          /* version_id when ensured */
	long long parts_before;
};

struct crawl {
	struct fl_server *srv;
	const char *crawler;
	char db[256];
	char table_prefix[256];
	bool log_only;              /* SchemaChangePolicy.UpdateBehavior LOG */
	bool new_only;              /* RecrawlPolicy CRAWL_NEW_FOLDERS_ONLY */
	const _Atomic int *stop;
	struct file *files;
	size_t nfiles, files_cap;
	struct part *parts;
	size_t nparts, parts_cap;
	struct table **tables;
	size_t ntables, tables_cap;
	_Atomic size_t next;        /* the workers' cursor over files */
	_Atomic bool failed;        /* a worker failed: the others stop */
	_Atomic uint64_t files_read, files_skipped, records, bad_records, bytes;
};

/* ---- names and paths ------------------------------------------------------ */

/* A Glue table name from prefix + text: lower case, other bytes '_'. */
static bool glue_name(const char *prefix, const char *text, size_t n, char out[256])
{
	char tmp[1024];
	int k = snprintf(tmp, sizeof tmp, "%s%.*s", prefix, (int)(n < 900 ? n : 900), text);
	if (k <= 0)
		return false;
	for (char *p = tmp; *p; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			*p = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			*p = '_';
	}
	return fl_catalog_name(tmp, "table name", out, NULL) == FL_OK;
}

/* Hive escapes partition values as %XX. */
static char *unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2]) && sscanf(s + i + 1, "%2x", &v) == 1 && v) {
			*o++ = (char)v;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int ext_format(const char *key)
{
	const char *name = strrchr(key, '/');
	name = name ? name + 1 : key;
	size_t n = strlen(name);
	static const char *const zips[] = { ".gz", ".gzip" };
	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(zips[i]);
		if (n > k && strcasecmp(name + n - k, zips[i]) == 0) {
			n -= k;
			break;
		}
	}
	static const struct { const char *ext; int fmt; } exts[] = {
		{ ".json", FL_FORMAT_JSON }, { ".ndjson", FL_FORMAT_JSON },
		{ ".jsonl", FL_FORMAT_JSON }, { ".csv", FL_FORMAT_CSV },
	};
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		size_t k = strlen(exts[i].ext);
		if (n > k && strncasecmp(name + n - k, exts[i].ext, k) == 0)
			return exts[i].fmt;
	}
	return FMT_UNKNOWN;
}

/* ---- listing ------------------------------------------------------------------ */

struct listing {
	struct crawl *c;
	const char *bucket;
	const char *base;           /* the target's prefix, with '/', or "" */
	size_t base_len;
	const json_t *exclusions;
	char base_name[256];        /* table of files directly under base */
	bool base_name_ok;
	char **known;               /* new_only: crawled folders, sorted */
	size_t nknown;
	enum fl_result r;
	struct fl_error *err;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = nc;
	return true;
}

/* The index of the table of folder (a key prefix) named name, found or
 * added; CRAWL_NONE when it cannot be named (*oom: out of memory). */
static size_t table_for(struct crawl *c, const char *bucket, const char *folder,
			size_t folder_len, const char *name, bool *oom)
{
	char want[256];
	snprintf(want, sizeof want, "%s", name);
	for (size_t i = c->ntables; i-- > 0;) {
		struct table *t = c->tables[i];
		if (strcmp(t->name, want) != 0)
			continue;
		if (strcmp(t->bucket, bucket) == 0 && strlen(t->folder) == folder_len &&
		    memcmp(t->folder, folder, folder_len) == 0)
			return i;
		/* Another folder gives the same name: as Glue, a hash suffix. */
		uint32_t h = (uint32_t)crc32(0, (const Bytef *)folder, (uInt)folder_len);
		char alt[256];
		snprintf(alt, sizeof alt, "%.200s_%08" PRIx32, name, h);
		if (strcmp(want, alt) == 0)
			return CRAWL_NONE;
		snprintf(want, sizeof want, "%s", alt);
		i = c->ntables;
	}
	if (folder_len >= sizeof c->tables[0]->folder)
		return CRAWL_NONE;
	struct table *t = NULL;
	if (!grow((void **)&c->tables, &c->tables_cap, c->ntables, sizeof *c->tables) ||
	    !(t = calloc(1, sizeof *t))) {
		*oom = true;
		return CRAWL_NONE;
	}
	snprintf(t->name, sizeof t->name, "%s", want);
	snprintf(t->bucket, sizeof t->bucket, "%s", bucket);
	memcpy(t->folder, folder, folder_len);
	t->folder[folder_len] = '\0';
	t->nkeys = CRAWL_NONE;
	t->last_part = CRAWL_NONE;
	t->fmt = FMT_UNKNOWN;
	pthread_mutex_init(&t->mu, NULL);
	c->tables[c->ntables] = t;
	return c->ntables++;
}

static bool hidden(const char *rel)
{
	for (const char *s = rel;;) {
		if (*s == '.' || *s == '_')
			return true;
		if (!(s = strchr(s, '/')))
			return false;
		s++;
	}
}

static bool excluded(const struct listing *ls, const char *rel)
{
	size_t i;
	json_t *pat;
	json_array_foreach(ls->exclusions, i, pat) {
		if (fl_glob_match(json_string_value(pat), rel))
			return true;
	}
	return false;
}

static int list_fail(struct listing *ls, enum fl_result r, const char *what)
{
	ls->r = fl_error_set(ls->err, r, "%s", what);
	return 1;
}

/* Adds one listed object to the crawl. */
static int on_object(void *arg, const struct fl_object_info *info)
{
	struct listing *ls = arg;
	struct crawl *c = ls->c;
	if (atomic_load(c->stop))
		return 1;
	const char *rel = info->key + ls->base_len;
	if (!*rel || rel[strlen(rel) - 1] == '/' || hidden(rel) || excluded(ls, rel))
		return 0;
	const char *seg[CRAWL_MAX_SEGMENTS];
	size_t segn[CRAWL_MAX_SEGMENTS], nseg = 0;
	for (const char *s = rel;;) {
		const char *e = strchr(s, '/');
		if (nseg == CRAWL_MAX_SEGMENTS) {
			atomic_fetch_add(&c->files_skipped, 1);
			return 0;
		}
		seg[nseg] = s;
		segn[nseg++] = e ? (size_t)(e - s) : strlen(s);
		if (!e)
			break;
		s = e + 1;
	}
	/* Which folder is the table, and which folders are partitions. */
	size_t first_part, ti = CRAWL_NONE;
	char name[256];
	bool oom = false;
	if (nseg == 1 || memchr(seg[0], '=', segn[0])) {
		first_part = 0;
		if (ls->base_name_ok)
			ti = table_for(c, ls->bucket, info->key, ls->base_len, ls->base_name, &oom);
	} else {
		first_part = 1;
		if (glue_name(c->table_prefix, seg[0], segn[0], name))
			ti = table_for(c, ls->bucket, info->key, ls->base_len + segn[0] + 1, name,
				       &oom);
	}
	if (oom)
		return list_fail(ls, FL_INTERNAL, "out of memory");
	if (ti == CRAWL_NONE) {
		fl_warn("crawler %s: %s/%s gives no valid table name; skipped", c->crawler,
			ls->bucket, info->key);
		atomic_fetch_add(&c->files_skipped, 1);
		return 0;
	}
	struct table *t = c->tables[ti];
	size_t nkeys = nseg - 1 - first_part;
	char keys[CRAWL_MAX_SEGMENTS][128];
	const char *valp[CRAWL_MAX_SEGMENTS];
	size_t valn[CRAWL_MAX_SEGMENTS];
	for (size_t i = 0; i < nkeys; i++) {
		const char *s = seg[first_part + i];
		size_t n = segn[first_part + i];
		const char *eq = memchr(s, '=', n);
		char col[FL_SCHEMA_NAME_MAX + 1];
		if (eq && eq > s && fl_schema_column_name(s, (size_t)(eq - s), col) &&
		    strlen(col) < sizeof keys[i]) {
			snprintf(keys[i], sizeof keys[i], "%s", col);
			valp[i] = eq + 1;
			valn[i] = n - (size_t)(eq - s) - 1;
		} else {
			snprintf(keys[i], sizeof keys[i], "partition_%zu", i);
			valp[i] = s;
			valn[i] = n;
		}
	}
	if (!grow((void **)&c->files, &c->files_cap, c->nfiles, sizeof *c->files))
		return list_fail(ls, FL_INTERNAL, "out of memory");
	struct file *f = &c->files[c->nfiles];
	memset(f, 0, sizeof *f);
	f->bytes = info->bytes;
	f->table = ti;
	f->part = CRAWL_NONE;
	f->ext_fmt = ext_format(rel);
	if (t->nkeys == CRAWL_NONE) {
		if (nkeys > FL_CATALOG_MAX_KEYS) {
			atomic_fetch_add(&c->files_skipped, 1);
			return 0;
		}
		t->nkeys = nkeys;
		for (size_t i = 0; i < nkeys; i++)
			memcpy(t->keys[i], keys[i], sizeof keys[i]);
	}
	bool same = t->nkeys == nkeys;
	for (size_t i = 0; same && i < nkeys; i++)
		same = strcmp(t->keys[i], keys[i]) == 0;
	if (!same) {
		fl_warn("crawler %s: %s/%s has other partition keys than table %s; skipped",
			c->crawler, ls->bucket, info->key, t->name);
		atomic_fetch_add(&c->files_skipped, 1);
		return 0;
	}
	const char *last_slash = strrchr(info->key, '/');
	size_t dir_len = last_slash ? (size_t)(last_slash - info->key) + 1 : 0;
	if (ls->nknown) {
		char dir[1025];
		const char *dp = dir;
		snprintf(dir, sizeof dir, "%.*s", (int)dir_len, info->key);
		if (bsearch(&dp, ls->known, ls->nknown, sizeof *ls->known, cmp_str))
			return 0;
	}
	if (t->fmt == FMT_UNKNOWN)
		t->fmt = f->ext_fmt;
	if (nkeys) {
		struct part *last = t->last_part == CRAWL_NONE ? NULL : &c->parts[t->last_part];
		if (!last || strlen(last->path) != dir_len ||
		    memcmp(last->path, info->key, dir_len) != 0) {
			if (!grow((void **)&c->parts, &c->parts_cap, c->nparts, sizeof *c->parts))
				return list_fail(ls, FL_INTERNAL, "out of memory");
			struct part *p = &c->parts[c->nparts];
			memset(p, 0, sizeof *p);
			p->table = f->table;
			p->path = strndup(info->key, dir_len);
			p->vals = calloc(nkeys, sizeof *p->vals);
			bool mem = p->path && p->vals;
			for (size_t i = 0; mem && i < nkeys; i++)
				mem = (p->vals[i] = unescape(valp[i], valn[i])) != NULL;
			c->nparts++; /* freed with the crawl even when incomplete */
			if (!mem)
				return list_fail(ls, FL_INTERNAL, "out of memory");
			t->last_part = c->nparts - 1;
		}
		f->part = t->last_part;
	}
	if (!(f->key = strdup(info->key)))
		return list_fail(ls, FL_INTERNAL, "out of memory");
	c->nfiles++;
	return 0;
}

/* new_only: the folders of objects that earlier crawls registered. */
static enum fl_result load_known(PGconn *conn, struct listing *ls, struct fl_error *err)
{
	PGresult *res = NULL;
	const char *params[] = { ls->bucket, ls->base };
	enum fl_result r = fl_db_exec(conn,
		"SELECT DISTINCT partition_path FROM fl_objects WHERE kind = 'crawled' "
		"AND bucket = $1 AND starts_with(key, $2)", 2, params, &res, err);
	if (r != FL_OK)
		return r;
	int n = PQntuples(res);
	ls->known = calloc((size_t)n + 1, sizeof *ls->known);
	for (int i = 0; ls->known && i < n; i++)
		if ((ls->known[ls->nknown] = strdup(PQgetvalue(res, i, 0))))
			ls->nknown++;
	PQclear(res);
	if (!ls->known)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	qsort(ls->known, ls->nknown, sizeof *ls->known, cmp_str);
	return FL_OK;
}

static enum fl_result list_target(struct crawl *c, const json_t *target, struct fl_error *err)
{
	struct listing ls = { .c = c, .exclusions = json_object_get(target, "Exclusions"),
			      .err = err };
	char bucket[64], prefix[1100];
	const char *path = json_string_value(json_object_get(target, "Path"));
	enum fl_result r = fl_crawl_s3_path(path ? path : "", bucket, prefix, sizeof prefix, err);
	if (r != FL_OK)
		return r;
	ls.bucket = bucket;
	ls.base = prefix;
	ls.base_len = strlen(prefix);
	/* The table of files right under the prefix: its last folder. */
	const char *last = bucket;
	size_t ln = strlen(bucket);
	if (ls.base_len) {
		const char *end = prefix + ls.base_len - 1, *s = end;
		while (s > prefix && s[-1] != '/')
			s--;
		last = s;
		ln = (size_t)(end - s);
	}
	ls.base_name_ok = glue_name(c->table_prefix, last, ln, ls.base_name);
	if (c->new_only) {
		PGconn *conn = NULL;
		if ((r = fl_db_acquire(c->srv->db, &conn, err)) != FL_OK)
			return r;
		r = load_known(conn, &ls, err);
		fl_db_release(c->srv->db, conn);
	}
	if (r == FL_OK) {
		ls.r = FL_OK;
		r = fl_storage_list(c->srv->storage, bucket, prefix, on_object, &ls, err);
		if (r == FL_OK)
			r = ls.r;
	}
	for (size_t i = 0; i < ls.nknown; i++)
		free(ls.known[i]);
	free(ls.known);
	return r;
}

/* ---- reading ------------------------------------------------------------------ */

struct csv {
	size_t ncols;
	char (*cols)[FL_SCHEMA_NAME_MAX + 1];
	bool header_done;
	struct fl_schema *file;     /* this file's observations */
	struct fl_buf cell;
	uint64_t records, bad;
};

struct worker {
	struct crawl *c;
	pthread_t thread;
	PGconn *conn;
	struct fl_buf obj;          /* the object as stored */
	char *chunk;                /* inflated bytes not yet consumed */
	size_t chunk_cap;
	z_stream z;
	bool z_ready;
	struct fl_infer **inf;      /* per table (JSON) */
	struct fl_schema **csvs;    /* per table (CSV) */
	struct csv csv;
	struct fl_infer *cur_inf;
	int cur_fmt;
	enum fl_result feed_r;
	uint64_t long_bad;          /* records over CRAWL_MAX_RECORD */
	enum fl_result r;           /* the worker's outcome, and its text */
	struct fl_error err;
};

/* Records of data[0..len) go to the current reader; returns the bytes
 * consumed (whole records).  final: the data ends the object. */
static size_t csv_feed(struct worker *w, const char *data, size_t len, bool final);

static size_t feed(struct worker *w, const char *data, size_t len, bool final)
{
	if (w->cur_fmt == FL_FORMAT_CSV)
		return csv_feed(w, data, len, final);
	size_t upto = len;
	if (!final) {
		const char *nl = memrchr(data, '\n', len);
		if (!nl)
			return 0;
		upto = (size_t)(nl - data) + 1;
	}
	if (upto && w->feed_r == FL_OK)
		w->feed_r = fl_infer_lines(w->cur_inf, data, upto);
	return upto;
}

/* Inflates more of the object into dst; *end when the object is done,
 * *bad when it is not valid gzip. */
static size_t inflate_some(struct worker *w, char *dst, size_t room, bool *end, bool *bad)
{
	z_stream *z = &w->z;
	z->next_out = (Bytef *)dst;
	z->avail_out = (uInt)room;
	while (z->avail_out > 0) {
		int zr = inflate(z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* Another gzip member follows, or the object ends. */
			if (z->avail_in >= 2 && z->next_in[0] == 0x1f && z->next_in[1] == 0x8b) {
				inflateReset(z);
				continue;
			}
			*end = true;
			break;
		}
		if (zr == Z_BUF_ERROR && z->avail_in == 0) {
			*bad = true; /* truncated */
			break;
		}
		if (zr != Z_OK) {
			*bad = true;
			break;
		}
	}
	return room - z->avail_out;
}

/* Reads an inflating object through feed(), chunk by chunk. */
static enum fl_result read_gzip(struct worker *w, size_t have, bool end, bool *bad)
{
	bool skipping = false; /* inside a record longer than CRAWL_MAX_RECORD */
	for (;;) {
		size_t used = 0;
		if (skipping) {
			const char *nl = memchr(w->chunk, '\n', have);
			if (nl) {
				used = (size_t)(nl - w->chunk) + 1;
				skipping = false;
			} else {
				used = have;
			}
		} else {
			used = feed(w, w->chunk, have, end);
		}
		if (w->feed_r != FL_OK)
			return w->feed_r;
		memmove(w->chunk, w->chunk + used, have - used);
		have -= used;
		if (end || *bad)
			return FL_OK;
		if (w->chunk_cap - have < CRAWL_CHUNK / 4) {
			if (w->chunk_cap >= CRAWL_MAX_RECORD + CRAWL_CHUNK) {
				w->long_bad++;
				skipping = true;
				have = 0;
			} else {
				char *nc = realloc(w->chunk, w->chunk_cap * 2);
				if (!nc)
					return FL_INTERNAL;
				w->chunk = nc;
				w->chunk_cap *= 2;
			}
		}
		have += inflate_some(w, w->chunk + have, w->chunk_cap - have, &end, bad);
	}
}

/* The format of an object from its first bytes, when its name says none. */
static int sniff(const char *p, size_t n)
{
	size_t i = 0;
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < n && p[i] == '{' ? FL_FORMAT_JSON : FMT_UNKNOWN;
}

/* ---- CSV ---------------------------------------------------------------------- */

/* The column names of the header record rec (csv.h splits it). */
static enum fl_result csv_header(struct csv *cv, struct fl_csv_record *rec)
{
	size_t cap = 0, n;
	const char *cell;
	while (cv->ncols < FL_SCHEMA_MAX_COLUMNS && fl_csv_next_cell(rec, &cell, &n)) {
		if (!grow((void **)&cv->cols, &cap, cv->ncols, sizeof *cv->cols))
			return FL_INTERNAL;
		char *name = cv->cols[cv->ncols];
		if (!fl_schema_column_name(cell, n, name))
			snprintf(name, FL_SCHEMA_NAME_MAX + 1, "col%zu", cv->ncols);
		for (size_t i = 0; i < cv->ncols; i++)
			if (strcmp(cv->cols[i], name) == 0) {
				/* A repeated header: a name of its own (a clash left
				 * after that merges the two). */
				char tmp[FL_SCHEMA_NAME_MAX + 1];
				snprintf(tmp, sizeof tmp, "%.200s_%zu", name, cv->ncols);
				snprintf(name, FL_SCHEMA_NAME_MAX + 1, "%s", tmp);
				break;
			}
		cv->ncols++;
	}
	cv->header_done = true;
	return FL_OK;
}

static enum fl_result csv_record(struct csv *cv, const char *data, size_t len)
{
	struct fl_csv_record rec;
	const char *cell;
	size_t n;
	if (!fl_csv_record_start(&rec, data, len, &cv->cell))
		return FL_OK; /* blank line */
	if (!cv->header_done)
		return csv_header(cv, &rec);
	for (size_t col = 0; col < cv->ncols && fl_csv_next_cell(&rec, &cell, &n); col++) {
		enum fl_result r = fl_schema_observe_text(cv->file, cv->cols[col], cell, n);
		if (r != FL_OK && r != FL_INVALID)
			return r;
	}
	cv->records++;
	return FL_OK;
}

static size_t csv_feed(struct worker *w, const char *data, size_t len, bool final)
{
	struct csv *cv = &w->csv;
	size_t pos = 0;
	while (pos < len && w->feed_r == FL_OK) {
		bool quoted;
		size_t end = fl_csv_record_end(data + pos, len - pos, &quoted);
		if (end != FL_CSV_NONE) {
			end += pos;
		} else {
			if (!final)
				return pos;
			if (quoted) {
				cv->bad++; /* an unterminated quote runs to the end */
				return len;
			}
			end = len;
		}
		w->feed_r = csv_record(cv, data + pos, end - pos);
		pos = end < len ? end + 1 : len;
	}
	return pos;
}

/* This file's CSV columns, in header order, into the worker's schema of
 * the table. */
static enum fl_result csv_finish(struct worker *w, size_t table)
{
	struct csv *cv = &w->csv;
	json_t *cols = json_array();
	struct fl_schema *fs = NULL;
	enum fl_result r = FL_INTERNAL;
	if (!cols)
		goto out;
	size_t n = fl_schema_count(cv->file);
	for (size_t i = 0; i < cv->ncols; i++) {
		const char *type = "string";
		for (size_t k = 0; k < n; k++)
			if (strcmp(fl_schema_name(cv->file, k), cv->cols[i]) == 0)
				type = fl_schema_type(cv->file, k);
		if (json_array_append_new(cols, json_pack("{s:s, s:s}", "Name", cv->cols[i],
							  "Type", type)) != 0)
			goto out;
	}
	struct fl_error err;
	if ((r = fl_schema_from_columns(cols, &fs, &err)) != FL_OK)
		goto out;
	if (!w->csvs[table] && !(w->csvs[table] = fl_schema_new_positional())) {
		r = FL_INTERNAL;
		goto out;
	}
	r = fl_schema_merge(w->csvs[table], fs, NULL);
out:
	fl_schema_free(fs);
	json_decref(cols);
	return r;
}

static void csv_reset(struct csv *cv)
{
	fl_schema_free(cv->file);
	cv->file = NULL;
	free(cv->cols);
	cv->cols = NULL;
	cv->ncols = 0;
	cv->header_done = false;
	cv->records = cv->bad = 0;
}

/* ---- one file ------------------------------------------------------------------- */

static enum fl_result exec0(PGconn *conn, const char *sql, struct fl_error *err)
{
	return fl_db_exec(conn, sql, 0, NULL, NULL, err);
}

/* Creates the table when it does not exist, else adopts its format and
 * keys (once per table per crawl). */
static enum fl_result table_ensure(struct worker *w, struct table *t, int fmt, bool gz,
				   struct fl_error *err)
{
	struct crawl *c = w->c;
	enum fl_result r = FL_OK;
	PGresult *res = NULL;
	pthread_mutex_lock(&t->mu);
	if (t->ensured)
		goto out;
	const char *params[] = { c->db, t->name };
	r = fl_db_exec(w->conn,
		"SELECT version_id, spec->'Parameters'->>'classification', "
		"(SELECT coalesce(string_agg(k->>'Name', '/' ORDER BY o), '') "
		"   FROM jsonb_array_elements(CASE jsonb_typeof(spec->'PartitionKeys') "
		"        WHEN 'array' THEN spec->'PartitionKeys' ELSE '[]' END) "
		"   WITH ORDINALITY AS e(k, o)), "
		"(SELECT count(*) FROM fl_glue_partitions p WHERE p.db = t.db AND p.tbl = t.name) "
		"FROM fl_glue_tables t WHERE db = $1 AND name = $2", 2, params, &res, err);
	if (r != FL_OK)
		goto out;
	if (PQntuples(res) == 1) {
		t->existed = true;
		t->version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		t->parts_before = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		const char *cls = PQgetvalue(res, 0, 1);
		if (strcasecmp(cls, "json") == 0)
			t->fmt = FL_FORMAT_JSON;
		else if (strcasecmp(cls, "csv") == 0)
			t->fmt = FL_FORMAT_CSV;
		char keys[FL_CATALOG_MAX_KEYS * 129] = "";
		size_t k = 0;
		for (size_t i = 0; i < t->nkeys; i++)
			k += (size_t)snprintf(keys + k, sizeof keys - k, "%s%s", i ? "/" : "",
					      t->keys[i]);
		if (strcmp(keys, PQgetvalue(res, 0, 2)) != 0) {
			fl_warn("crawler %s: table %s.%s has partition keys (%s), its files (%s); "
				"its files are skipped", c->crawler, c->db, t->name,
				PQgetvalue(res, 0, 2), keys);
			t->broken = true;
		}
	} else {
		if (t->fmt == FMT_UNKNOWN)
			t->fmt = fmt;
		struct fl_catalog_table ct = {
			.format = (enum fl_catalog_format)t->fmt, .compressed = gz,
			.nkeys = t->nkeys, .crawler = c->crawler,
		};
		snprintf(ct.db, sizeof ct.db, "%s", c->db);
		snprintf(ct.name, sizeof ct.name, "%s", t->name);
		snprintf(ct.location, sizeof ct.location, "s3://%s/%s", t->bucket, t->folder);
		for (size_t i = 0; i < t->nkeys; i++)
			memcpy(ct.keys[i], t->keys[i], sizeof ct.keys[i]);
		if ((r = fl_catalog_ensure_table(w->conn, &ct, err)) != FL_OK)
			goto out;
		t->version = 1;
	}
	t->ensured = true;
out:
	PQclear(res);
	pthread_mutex_unlock(&t->mu);
	return r;
}

/* The object's partition and its row, in one transaction. */
static enum fl_result register_file(struct worker *w, struct file *f, struct table *t,
				    uint64_t records, int64_t min_ms, int64_t max_ms,
				    struct fl_error *err)
{
	struct crawl *c = w->c;
	struct part *p = f->part == CRAWL_NONE ? NULL : &c->parts[f->part];
	const char *dir_end = strrchr(f->key, '/');
	char dir[1025];
	snprintf(dir, sizeof dir, "%.*s", dir_end ? (int)(dir_end - f->key + 1) : 0, f->key);
	struct fl_catalog_object o = {
		.bucket = t->bucket, .key = f->key, .kind = "crawled", .partition_path = dir,
		.bytes = f->bytes, .records = records, .min_ms = min_ms, .max_ms = max_ms,
		.db = c->db, .tbl = t->name,
		.vals = p ? (const char *const *)p->vals : NULL, .nvals = p ? t->nkeys : 0,
	};
	enum fl_result r = exec0(w->conn, "BEGIN", err);
	if (r == FL_OK)
		r = exec0(w->conn, "SET LOCAL synchronous_commit TO off", err);
	if (r == FL_OK && p && !atomic_load(&p->added)) {
		char loc[2048];
		snprintf(loc, sizeof loc, "s3://%s/%s", t->bucket, p->path);
		r = fl_catalog_add_partition(w->conn, c->db, t->name,
					     (const char *const *)p->vals, t->nkeys, loc, err);
	}
	if (r == FL_OK)
		r = fl_catalog_add_object(w->conn, &o, err);
	if (r == FL_OK)
		r = exec0(w->conn, "COMMIT", err);
	else if (PQstatus(w->conn) == CONNECTION_OK)
		PQclear(PQexec(w->conn, "ROLLBACK"));
	if (r == FL_OK && p)
		atomic_store(&p->added, true);
	return r;
}

static void skip(struct crawl *c, const struct file *f, const char *why)
{
	fl_warn("crawler %s: %s skipped: %s", c->crawler, f->key, why);
	atomic_fetch_add(&c->files_skipped, 1);
}

/* Reads, infers and registers one file.  Only catalog failures fail the
 * crawl; a file that cannot be read is skipped. */
static enum fl_result crawl_file(struct worker *w, struct file *f, struct fl_error *err)
{
	struct crawl *c = w->c;
	struct table *t = c->tables[f->table];
	struct fl_error ferr;
	fl_buf_reset(&w->obj);
	enum fl_result r = fl_storage_get(c->srv->storage, t->bucket, f->key, &w->obj, &ferr);
	if (r != FL_OK) {
		skip(c, f, r == FL_TOO_LARGE ? "larger than 2 GiB" : ferr.msg);
		return FL_OK;
	}
	f->bytes = w->obj.len;
	if (w->obj.len == 0) {
		skip(c, f, "empty");
		return FL_OK;
	}
	const unsigned char *in = (const unsigned char *)w->obj.data;
	bool gz = w->obj.len >= 2 && in[0] == 0x1f && in[1] == 0x8b, end = !gz, bad = false;
	const char *data = w->obj.data;
	size_t have = w->obj.len;
	if (gz) {
		inflateReset(&w->z);
		w->z.next_in = (Bytef *)w->obj.data;
		w->z.avail_in = (uInt)w->obj.len;
		data = w->chunk;
		have = inflate_some(w, w->chunk, w->chunk_cap, &end, &bad);
	}
	int fmt = f->ext_fmt != FMT_UNKNOWN ? f->ext_fmt : sniff(data, have);
	if (fmt == FMT_UNKNOWN) {
		skip(c, f, bad ? "not valid gzip" : "neither NDJSON nor CSV");
		return FL_OK;
	}
	if ((r = table_ensure(w, t, fmt, gz, err)) != FL_OK)
		return r;
	if (t->broken || t->fmt != fmt) {
		skip(c, f, t->broken ? "partition keys differ from the table's"
				     : "another format than its table's");
		return FL_OK;
	}
	/* The reader of the table's format. */
	w->cur_fmt = fmt;
	w->feed_r = FL_OK;
	w->long_bad = 0;
	if (fmt == FL_FORMAT_JSON) {
		if (!w->inf[f->table] && !(w->inf[f->table] = fl_infer_new()))
			return fl_error_set(err, FL_INTERNAL, "out of memory");
		w->cur_inf = w->inf[f->table];
		fl_infer_reset_stats(w->cur_inf);
	} else {
		csv_reset(&w->csv);
		if (!(w->csv.file = fl_schema_new()))
			return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	if (gz) {
		r = read_gzip(w, have, end, &bad);
	} else {
		feed(w, data, have, true);
		r = w->feed_r;
	}
	if (r != FL_OK)
		return fl_error_set(err, r, "out of memory reading %s", f->key);
	if (bad) {
		skip(c, f, "not valid gzip");
		return FL_OK;
	}
	uint64_t records, badn;
	int64_t min_ms = INT64_MAX, max_ms = INT64_MIN;
	if (fmt == FL_FORMAT_JSON) {
		struct fl_infer_stats st;
		fl_infer_stats(w->cur_inf, &st);
		records = st.records;
		badn = st.bad;
		min_ms = st.min_created_ms;
		max_ms = st.max_created_ms;
	} else {
		records = w->csv.records;
		badn = w->csv.bad;
		if (w->csv.header_done && (r = csv_finish(w, f->table)) != FL_OK)
			return fl_error_set(err, r, "cannot merge the columns of %s", f->key);
	}
	badn += w->long_bad;
	if ((r = register_file(w, f, t, records, min_ms, max_ms, err)) != FL_OK)
		return r;
	if (badn)
		fl_info("crawler %s: %s: %" PRIu64 " malformed records skipped", c->crawler,
			f->key, badn);
	atomic_fetch_add(&c->files_read, 1);
	atomic_fetch_add(&c->records, records);
	atomic_fetch_add(&c->bad_records, badn);
	atomic_fetch_add(&c->bytes, f->bytes);
	return FL_OK;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct crawl *c = w->c;
	w->r = fl_db_acquire(c->srv->db, &w->conn, &w->err);
	while (w->r == FL_OK && !atomic_load(c->stop) && !atomic_load(&c->failed)) {
		size_t i = atomic_fetch_add(&c->next, 1);
		if (i >= c->nfiles)
			break;
		w->r = crawl_file(w, &c->files[i], &w->err);
	}
	if (w->conn)
		fl_db_release(c->srv->db, w->conn);
	w->conn = NULL;
	if (w->r != FL_OK)
		atomic_store(&c->failed, true);
	return NULL;
}

static enum fl_result worker_init(struct worker *w, struct crawl *c)
{
	memset(w, 0, sizeof *w);
	w->c = c;
	fl_buf_init(&w->obj, CRAWL_MAX_OBJECT);
	fl_buf_init(&w->csv.cell, CRAWL_MAX_RECORD);
	w->chunk_cap = CRAWL_CHUNK;
	w->chunk = malloc(w->chunk_cap);
	w->inf = calloc(c->ntables, sizeof *w->inf);
	w->csvs = calloc(c->ntables, sizeof *w->csvs);
	if (!w->chunk || !w->inf || !w->csvs || inflateInit2(&w->z, 15 + 32) != Z_OK)
		return FL_INTERNAL;
	w->z_ready = true;
	return FL_OK;
}

static void worker_free(struct worker *w, size_t ntables)
{
	for (size_t i = 0; w->inf && i < ntables; i++)
		fl_infer_free(w->inf[i]);
	for (size_t i = 0; w->csvs && i < ntables; i++)
		fl_schema_free(w->csvs[i]);
	free(w->inf);
	free(w->csvs);
	csv_reset(&w->csv);
	fl_buf_free(&w->csv.cell);
	fl_buf_free(&w->obj);
	free(w->chunk);
	if (w->z_ready)
		inflateEnd(&w->z);
}

/* ---- merging -------------------------------------------------------------------- */

static long long count_of(PGconn *conn, const char *sql, const char *db, const char *tbl,
			  struct fl_error *err, enum fl_result *r)
{
	PGresult *res = NULL;
	const char *params[] = { db, tbl };
	long long n = 0;
	if ((*r = fl_db_exec(conn, sql, 2, params, &res, err)) == FL_OK && PQntuples(res) == 1)
		n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return n;
}

/* Writes what the workers learnt of each table; counts tables created and
 * updated and partitions created. */
static enum fl_result merge_tables(struct crawl *c, struct worker *w, size_t nw,
				   uint64_t *created, uint64_t *updated, uint64_t *parts,
				   struct fl_error *err)
{
	PGconn *conn = NULL;
	enum fl_result r = fl_db_acquire(c->srv->db, &conn, err);
	for (size_t t = 0; r == FL_OK && t < c->ntables; t++) {
		struct table *tb = c->tables[t];
		if (!tb->ensured)
			continue;
		struct fl_schema *s = tb->fmt == FL_FORMAT_CSV ? fl_schema_new_positional()
							       : fl_schema_new();
		if (!s) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			break;
		}
		for (size_t i = 0; r == FL_OK && i < nw; i++) {
			const struct fl_schema *from = tb->fmt == FL_FORMAT_CSV
				? w[i].csvs[t] : w[i].inf[t] ? fl_infer_schema(w[i].inf[t]) : NULL;
			if (from && fl_schema_merge(s, from, NULL) != FL_OK)
				r = fl_error_set(err, FL_INTERNAL, "out of memory");
		}
		if (r == FL_OK && fl_schema_count(s) && !(c->log_only && tb->existed))
			r = fl_catalog_merge_schema(conn, c->db, tb->name, s, err);
		fl_schema_free(s);
		if (r != FL_OK)
			break;
		long long version = count_of(conn,
			"SELECT version_id FROM fl_glue_tables WHERE db = $1 AND name = $2",
			c->db, tb->name, err, &r);
		long long np = r != FL_OK ? 0 : count_of(conn,
			"SELECT count(*) FROM fl_glue_partitions WHERE db = $1 AND tbl = $2",
			c->db, tb->name, err, &r);
		if (r != FL_OK)
			break;
		if (np > tb->parts_before)
			*parts += (uint64_t)(np - tb->parts_before);
		if (!tb->existed)
			(*created)++;
		else if (version != tb->version || np > tb->parts_before)
			(*updated)++;
	}
	if (conn)
		fl_db_release(c->srv->db, conn);
	return r;
}

/* ---- the crawl ------------------------------------------------------------------ */

static enum fl_result crawl_options(struct crawl *c, const json_t *spec, struct fl_error *err)
{
	const char *db = json_string_value(json_object_get(spec, "DatabaseName"));
	if (!db || !*db)
		return fl_error_set(err, FL_INVALID,
				    "The crawler has no DatabaseName to write its tables in");
	enum fl_result r = fl_catalog_name(db, "database name", c->db, err);
	if (r != FL_OK)
		return r;
	/* glue_name() makes it part of a Glue name. */
	const char *tp = json_string_value(json_object_get(spec, "TablePrefix"));
	snprintf(c->table_prefix, sizeof c->table_prefix, "%s", tp ? tp : "");
	const char *ub = json_string_value(json_object_get(
		json_object_get(spec, "SchemaChangePolicy"), "UpdateBehavior"));
	c->log_only = ub && strcmp(ub, "LOG") == 0;
	const char *rb = json_string_value(json_object_get(
		json_object_get(spec, "RecrawlPolicy"), "RecrawlBehavior"));
	c->new_only = rb && strcmp(rb, "CRAWL_NEW_FOLDERS_ONLY") == 0;
	return FL_OK;
}

static enum fl_result check_database(struct crawl *c, struct fl_error *err)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	enum fl_result r = fl_db_acquire(c->srv->db, &conn, err);
	if (r != FL_OK)
		return r;
	const char *params[] = { c->db };
	r = fl_db_exec(conn, "SELECT 1 FROM fl_glue_databases WHERE name = $1", 1, params,
		       &res, err);
	if (r == FL_OK && PQntuples(res) == 0)
		r = fl_error_set(err, FL_NOT_FOUND, "Database %s not found.", c->db);
	PQclear(res);
	fl_db_release(c->srv->db, conn);
	return r;
}

static void crawl_free(struct crawl *c)
{
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i].key);
	free(c->files);
	for (size_t i = 0; i < c->nparts; i++) {
		struct part *p = &c->parts[i];
		for (size_t k = 0; p->vals && k < c->tables[p->table]->nkeys; k++)
			free(p->vals[k]);
		free(p->vals);
		free(p->path);
	}
	free(c->parts);
	for (size_t i = 0; i < c->ntables; i++) {
		pthread_mutex_destroy(&c->tables[i]->mu);
		free(c->tables[i]);
	}
	free(c->tables);
	free(c);
}

enum fl_result fl_crawl_run(struct fl_server *srv, const char *crawler, const json_t *spec,
			    const _Atomic int *stop, json_t **summary, struct fl_error *err)
{
	struct crawl *c = calloc(1, sizeof *c);
	struct worker *w = NULL;
	size_t nw = 0, started = 0;
	uint64_t created = 0, updated = 0, parts = 0;
	if (summary)
		*summary = NULL;
	if (!c)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	c->srv = srv;
	c->crawler = crawler;
	c->stop = stop;
	enum fl_result r = crawl_options(c, spec, err);
	if (r == FL_OK)
		r = check_database(c, err);
	const json_t *targets = json_object_get(json_object_get(spec, "Targets"), "S3Targets");
	size_t i;
	json_t *target;
	json_array_foreach(targets, i, target) {
		if (r != FL_OK || atomic_load(stop))
			break;
		r = list_target(c, target, err);
	}
	if (r != FL_OK)
		goto out;
	nw = c->nfiles < FL_CRAWL_THREADS ? c->nfiles : FL_CRAWL_THREADS;
	if (nw && !(w = calloc(nw, sizeof *w))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	for (; started < nw; started++) {
		if (worker_init(&w[started], c) != FL_OK ||
		    pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0) {
			worker_free(&w[started], c->ntables);
			r = fl_error_set(err, FL_INTERNAL, "cannot start a crawl thread");
			atomic_store(&c->failed, true);
			break;
		}
	}
	for (size_t k = 0; k < started; k++)
		pthread_join(w[k].thread, NULL);
	for (size_t k = 0; r == FL_OK && k < started; k++)
		if (w[k].r != FL_OK) {
			*err = w[k].err;
			r = w[k].r;
		}
	if (r != FL_OK)
		goto out;
	r = merge_tables(c, w, started, &created, &updated, &parts, err);
out:
	if (summary && r == FL_OK)
		*summary = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				     "TablesCreated", (json_int_t)created,
				     "TablesUpdated", (json_int_t)updated,
				     "PartitionsCreated", (json_int_t)parts,
				     "FilesRead", (json_int_t)atomic_load(&c->files_read),
				     "FilesSkipped", (json_int_t)atomic_load(&c->files_skipped),
				     "RecordsRead", (json_int_t)atomic_load(&c->records),
				     "RecordsSkipped", (json_int_t)atomic_load(&c->bad_records),
				     "BytesRead", (json_int_t)atomic_load(&c->bytes));
	for (size_t k = 0; k < started; k++)
		worker_free(&w[k], c->ntables);
	free(w);
	crawl_free(c);
	return r;
}
