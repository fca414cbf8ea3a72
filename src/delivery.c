/*
 * delivery.c - from sealed WAL segments to objects in the lake.
 *
 * DESIGN
 * One batcher thread looks at every stream ten times a second and seals
 * its open segment when it holds BufferingHints.SizeInMBs or is
 * IntervalInSeconds old.  Sealed segments wait in one queue; delivery
 * workers take them in order.
 *
 * Delivering a segment: read it (walrec.h records), append each record's
 * lines to its destination's buffer, compress (GZIP: level 1, one gzip
 * member per MiB of input, so memory stays bounded however many
 * destinations a segment has), and put one object per destination.  The
 * object key is a pure function of the segment (id, creation time) and the
 * destination, so delivering a segment twice after a crash overwrites the
 * same objects: no duplicates.  Objects are recorded in the catalog
 * (idempotent on bucket+key), then the segment is removed.
 *
 * The catalog learns from each delivery in the same transaction as the
 * object rows: the stream's Glue table exists (catalog.c), each data
 * object's partition is registered, and the fields of the segment's events
 * (one shape-hashing scan per event, schema.h) are merged into the table's
 * columns.  Off with --schema-inference off.
 *
 * A damaged segment (a torn tail, a flipped byte) still delivers every
 * intact record: fl_wal_salvage reads on past the damage, and only the
 * damaged stretches are copied to the WAL's quarantine directory (one
 * error line, firelake_wal_quarantined_bytes_total) before the segment
 * is removed.
 *
 * A failure (storage or catalog down) is RETRY: the segment goes back in
 * the queue with exponential backoff and jitter; nothing is dropped.
 */
#include "delivery.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <zlib.h>

#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "enrich.h"
#include "log.h"
#include "metrics.h"
#include "prefix.h"
#include "schema.h"
#include "server.h"
#include "stage.h"
#include "storage.h"
#include "stream.h"
#include "wal.h"
#include "walrec.h"

#define TICK_MS 100
#define CHUNK_BYTES (1u << 20)      /* input per gzip member */
#define PENDING_MAX (8u << 20)      /* uncompressed bytes held across destinations */
#define OBJECT_MAX (1u << 30)
#define BACKOFF_MAX_MS 30000
#define DAMAGE_MAX 64               /* damaged WAL stretches kept apart per segment */

struct job {
	struct fl_stream *stream;       /* referenced */
	struct fl_wal_segment seg;
	int attempts;
	int64_t not_before_ms;
	struct job *next;
};

struct fl_delivery {
	struct fl_server *srv;
	pthread_t batcher;
	bool batcher_started;
	pthread_t *workers;
	int nworkers;
	pthread_mutex_t lock;           /* protects everything below */
	pthread_cond_t cond;
	struct job *head, *tail;
	int running;                    /* jobs being delivered */
	bool stopping;                  /* batcher: seal all and stop */
	bool workers_stop;              /* workers: exit when idle or past deadline */
	int64_t deadline_ms;
};

/* ---- the queue ----------------------------------------------------------- */

static void enqueue(struct fl_delivery *d, struct job *j)
{
	pthread_mutex_lock(&d->lock);
	j->next = NULL;
	if (d->tail)
		d->tail->next = j;
	else
		d->head = j;
	d->tail = j;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static struct job *new_job(struct fl_stream *s, const struct fl_wal_segment *seg)
{
	struct job *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->stream = fl_stream_ref(s);
	j->seg = *seg;
	return j;
}

static void free_job(struct job *j)
{
	if (!j)
		return;
	fl_stream_unref(j->stream);
	free(j);
}

/* Jobs (queued or running) of a stream, and the oldest segment among
 * them; call with d->lock held. */
static int jobs_of(struct fl_delivery *d, struct fl_stream *s, int64_t *oldest)
{
	int n = 0;
	for (struct job *j = d->head; j; j = j->next)
		if (j->stream == s) {
			n++;
			if (!*oldest || j->seg.created_ms < *oldest)
				*oldest = j->seg.created_ms;
		}
	return n;
}

/* ---- one destination's object -------------------------------------------- */

struct part {
	char *dest;                 /* "<bucket>/<prefix>" */
	char *key;                  /* the object key, once stored */
	size_t dest_len;
	uint8_t kind;
	uint32_t version;
	uint64_t hash;              /* of kind and dest, for the index */
	uint64_t records;
	int64_t min_ms, max_ms;
	struct fl_buf pending;      /* uncompressed lines not yet compressed */
	struct fl_buf out;          /* the object's bytes */
};

struct segment_read {
	bool gzip;
	struct part *parts;
	size_t nparts, cap;
	uint32_t *index;            /* open addressing: part number + 1, 0 = empty */
	size_t nslots;              /* a power of two, at least twice nparts */
	size_t pending_total;
	z_stream z;
	bool z_ready;
	enum fl_result failure;
	struct fl_error err;
	uint64_t bad_records;
	struct fl_infer *inf;       /* fields of the data records; NULL: off */
	struct {
		uint64_t from, to;
	} damage[DAMAGE_MAX];       /* damaged stretches of the segment, in order */
	size_t ndamage;
	uint64_t damaged_bytes;
};

/* Compresses part->pending as one gzip member appended to part->out. */
static enum fl_result compress_pending(struct segment_read *sr, struct part *p)
{
	if (!p->pending.len)
		return FL_OK;
	if (!sr->gzip) {
		enum fl_result r = fl_buf_add(&p->out, p->pending.data, p->pending.len);
		sr->pending_total -= p->pending.len;
		fl_buf_reset(&p->pending);
		return r;
	}
	if (!sr->z_ready) {
		if (deflateInit2(&sr->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return FL_INTERNAL;
		sr->z_ready = true;
	} else if (deflateReset(&sr->z) != Z_OK) {
		return FL_INTERNAL;
	}
	size_t bound = deflateBound(&sr->z, (uLong)p->pending.len);
	enum fl_result r = fl_buf_reserve(&p->out, bound);
	if (r != FL_OK)
		return r;
	sr->z.next_in = (Bytef *)p->pending.data;
	sr->z.avail_in = (uInt)p->pending.len;
	sr->z.next_out = (Bytef *)p->out.data + p->out.len;
	sr->z.avail_out = (uInt)bound;
	if (deflate(&sr->z, Z_FINISH) != Z_STREAM_END)
		return FL_INTERNAL;
	p->out.len += bound - sr->z.avail_out;
	sr->pending_total -= p->pending.len;
	fl_buf_reset(&p->pending);
	return FL_OK;
}

static uint64_t dest_hash(uint8_t kind, const char *dest, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ kind;     /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)dest[i]) * 1099511628211ull;
	return h;
}

/* Rebuilds the index with room for twice the parts it will hold. */
static int grow_index(struct segment_read *sr)
{
	size_t nslots = sr->nslots ? sr->nslots * 2 : 64;
	uint32_t *index = calloc(nslots, sizeof *index);
	if (!index)
		return -1;
	for (size_t i = 0; i < sr->nparts; i++) {
		size_t at = sr->parts[i].hash & (nslots - 1);
		while (index[at])
			at = (at + 1) & (nslots - 1);
		index[at] = (uint32_t)i + 1;
	}
	free(sr->index);
	sr->index = index;
	sr->nslots = nslots;
	return 0;
}

/* The part of a record's destination, made on first sight. */
static struct part *find_part(struct segment_read *sr, const struct fl_walrec *rec)
{
	if ((sr->nparts + 1) * 2 > sr->nslots && grow_index(sr) != 0)
		return NULL;
	uint64_t h = dest_hash(rec->kind, rec->dest, rec->dest_len);
	size_t at = h & (sr->nslots - 1);
	for (; sr->index[at]; at = (at + 1) & (sr->nslots - 1)) {
		struct part *p = &sr->parts[sr->index[at] - 1];
		if (p->hash == h && p->kind == rec->kind && p->dest_len == rec->dest_len &&
		    memcmp(p->dest, rec->dest, rec->dest_len) == 0)
			return p;
	}
	if (sr->nparts == sr->cap) {
		size_t cap = sr->cap ? sr->cap * 2 : 16;
		struct part *n = realloc(sr->parts, cap * sizeof *n);
		if (!n)
			return NULL;
		sr->parts = n;
		sr->cap = cap;
	}
	struct part *p = &sr->parts[sr->nparts];
	memset(p, 0, sizeof *p);
	p->dest = strndup(rec->dest, rec->dest_len);
	if (!p->dest)
		return NULL;
	p->dest_len = rec->dest_len;
	p->kind = rec->kind;
	p->hash = h;
	p->version = rec->version;
	p->min_ms = rec->min_ms;
	p->max_ms = rec->max_ms;
	fl_buf_init(&p->pending, CHUNK_BYTES + FL_WAL_MAX_RECORD);
	fl_buf_init(&p->out, OBJECT_MAX);
	sr->index[at] = (uint32_t)++sr->nparts;
	return p;
}

static int on_record(void *arg, const void *payload, size_t len)
{
	struct segment_read *sr = arg;
	struct fl_walrec rec;
	if (fl_walrec_parse(payload, len, &rec) != 0) {
		sr->bad_records++; /* framed and checksummed, yet not ours: skip it */
		return 0;
	}
	struct part *p = find_part(sr, &rec);
	if (!p) {
		sr->failure = fl_error_set(&sr->err, FL_INTERNAL, "out of memory");
		return 1;
	}
	p->records += rec.count;
	if (rec.min_ms < p->min_ms)
		p->min_ms = rec.min_ms;
	if (rec.max_ms > p->max_ms)
		p->max_ms = rec.max_ms;
	enum fl_result r = fl_buf_add(&p->pending, rec.data, rec.data_len);
	if (r == FL_OK && sr->inf && rec.kind == FL_WALREC_DATA)
		r = fl_infer_lines(sr->inf, rec.data, rec.data_len);
	if (r == FL_OK) {
		sr->pending_total += rec.data_len;
		if (p->pending.len >= CHUNK_BYTES)
			r = compress_pending(sr, p);
	}
	for (size_t i = 0; r == FL_OK && sr->pending_total > PENDING_MAX && i < sr->nparts; i++)
		r = compress_pending(sr, &sr->parts[i]);
	if (r != FL_OK) {
		sr->failure = fl_error_set(&sr->err, r, "cannot build object for %.*s",
					   (int)rec.dest_len, rec.dest);
		return 1;
	}
	return 0;
}

/* A damaged stretch of the segment (fl_wal_salvage).  Past DAMAGE_MAX the
 * last stretch grows over the next one: its quarantine file then also
 * holds the intact records between them, which are delivered all the same. */
static int on_damage(void *arg, uint64_t from, uint64_t to)
{
	struct segment_read *sr = arg;
	sr->damaged_bytes += to - from;
	if (sr->ndamage == DAMAGE_MAX) {
		sr->damage[DAMAGE_MAX - 1].to = to;
		return 0;
	}
	sr->damage[sr->ndamage].from = from;
	sr->damage[sr->ndamage].to = to;
	sr->ndamage++;
	return 0;
}

static void segment_read_free(struct segment_read *sr)
{
	for (size_t i = 0; i < sr->nparts; i++) {
		free(sr->parts[i].dest);
		free(sr->parts[i].key);
		fl_buf_free(&sr->parts[i].pending);
		fl_buf_free(&sr->parts[i].out);
	}
	free(sr->parts);
	free(sr->index);
	fl_infer_free(sr->inf);
	if (sr->z_ready)
		deflateEnd(&sr->z);
}

/* The object's uuid: SHA-256 of segment id, kind and destination, shaped
 * as a version-4 UUID.  Same segment, same destination, same key. */
static void object_uuid(const struct fl_wal_segment *seg, const struct part *p, uint8_t out[16])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, seg->id, sizeof seg->id) &&
	    EVP_DigestUpdate(ctx, &p->kind, 1) &&
	    EVP_DigestUpdate(ctx, p->dest, p->dest_len) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= 16) {
		memcpy(out, md, 16);
	} else {
		/* No digest: fall back to the segment id, still deterministic. */
		memcpy(out, seg->id, 16);
		for (size_t i = 0; i < p->dest_len; i++)
			out[i % 16] ^= (uint8_t)p->dest[i];
	}
	EVP_MD_CTX_free(ctx);
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

/* Records one stored object (idempotent on bucket and key), and for a
 * data object the partition of its table that it belongs to. */
static enum fl_result record_object(PGconn *conn, const char *stream,
				    const struct fl_stream_conf *conf,
				    const struct fl_catalog_table *t, const struct part *p,
				    struct fl_error *err)
{
	const char *slash = memchr(p->dest, '/', p->dest_len);
	char bucket[256];
	snprintf(bucket, sizeof bucket, "%.*s", (int)(slash - p->dest), p->dest);
	struct fl_catalog_object o = {
		.bucket = bucket, .key = p->key, .stream = stream,
		.kind = p->kind == FL_WALREC_DATA ? "data" : "error",
		.partition_path = slash + 1, .bytes = p->out.len, .records = p->records,
		.min_ms = p->min_ms, .max_ms = p->max_ms,
	};
	char vals[FL_CATALOG_MAX_KEYS][256];
	const char *valp[FL_CATALOG_MAX_KEYS];
	char location[2048];
	size_t n = 0;
	enum fl_result r;
	if (p->kind == FL_WALREC_DATA) {
		const char *expr = json_string_value(json_object_get(conf->destination, "Prefix"));
		struct fl_error perr;
		r = fl_catalog_partition_of(expr ? expr : "", bucket, slash + 1, vals,
					    FL_CATALOG_MAX_KEYS, &n, location, sizeof location,
					    &perr);
		if (r == FL_OK) {
			for (size_t i = 0; i < n; i++)
				valp[i] = vals[i];
			o.db = t->db;
			o.tbl = t->name;
			o.vals = valp;
			o.nvals = n;
			if (n && (r = fl_catalog_add_partition(conn, t->db, t->name, valp, n,
							       location, err)) != FL_OK)
				return r;
		} else {
			/* Written under an earlier prefix, or a key value with '/':
			 * the object is kept, outside any partition. */
			fl_warn("stream %s: object %s fits no partition of %s.%s: %s", stream,
				p->key, t->db, t->name, perr.msg);
		}
	}
	return fl_catalog_add_object(conn, &o, err);
}

/* Eager staging: the partitions of the data objects just recorded go to
 * the staged lake's queue (it never blocks), so recent data is warm. */
static void enqueue_staging(struct fl_server *srv, const struct fl_stream_conf *conf,
			    const struct fl_catalog_table *t, const struct segment_read *sr)
{
	const char *expr = json_string_value(json_object_get(conf->destination, "Prefix"));
	for (size_t i = 0; srv->stage && srv->cfg.eager_staging && i < sr->nparts; i++) {
		const struct part *p = &sr->parts[i];
		const char *slash = memchr(p->dest, '/', p->dest_len);
		char bucket[256], vals[FL_CATALOG_MAX_KEYS][256], location[2048];
		const char *valp[FL_CATALOG_MAX_KEYS];
		size_t n = 0;
		struct fl_error perr;
		if (p->kind != FL_WALREC_DATA || !slash)
			continue;
		snprintf(bucket, sizeof bucket, "%.*s", (int)(slash - p->dest), p->dest);
		if (fl_catalog_partition_of(expr ? expr : "", bucket, slash + 1, vals,
					    FL_CATALOG_MAX_KEYS, &n, location, sizeof location,
					    &perr) != FL_OK)
			continue;   /* outside any partition: left to on-demand staging */
		for (size_t k = 0; k < n; k++)
			valp[k] = vals[k];
		fl_stage_enqueue(srv->stage, t->db, t->name, valp, n);
	}
}

/* Records every object of a segment, its partitions and what its events
 * taught about the table's columns, in one transaction: one commit (one
 * sync of PostgreSQL's WAL) per segment, not per object. */
static int part_cmp(const void *a, const void *b)
{
	const struct part *x = *(const struct part *const *)a, *y = *(const struct part *const *)b;
	size_t n = x->dest_len < y->dest_len ? x->dest_len : y->dest_len;
	int c = memcmp(x->dest, y->dest, n);
	if (c)
		return c;
	if (x->dest_len != y->dest_len)
		return x->dest_len < y->dest_len ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

/* Records a segment's objects, their partitions and the merged schema in
 * one transaction.  Objects go in destination order, so two deliveries
 * (of this process or another) that register the same new partitions take
 * their row locks in the same order and never deadlock. */
static enum fl_result record_objects(struct fl_server *srv, const char *stream,
				     const struct fl_stream_conf *conf,
				     const struct segment_read *sr, struct fl_error *err)
{
	struct fl_catalog_table t;
	enum fl_result r = fl_catalog_stream_table(stream, conf, &t, err);
	if (r != FL_OK)
		return r;
	const struct part **order = calloc(sr->nparts ? sr->nparts : 1, sizeof *order);
	if (!order)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	for (size_t i = 0; i < sr->nparts; i++)
		order[i] = &sr->parts[i];
	qsort(order, sr->nparts, sizeof *order, part_cmp);
	PGconn *conn = NULL;
	if ((r = fl_db_acquire(srv->db, &conn, err)) != FL_OK) {
		free(order);
		return r;
	}
	if ((r = fl_db_exec(conn, "BEGIN", 0, NULL, NULL, err)) == FL_OK)
		r = fl_catalog_ensure_table(conn, &t, err);
	for (size_t i = 0; r == FL_OK && i < sr->nparts; i++)
		r = record_object(conn, stream, conf, &t, order[i], err);
	free(order);
	if (r == FL_OK && sr->inf && fl_schema_count(fl_infer_schema(sr->inf)))
		r = fl_catalog_merge_schema(conn, t.db, t.name, fl_infer_schema(sr->inf), err);
	if (r == FL_OK)
		r = fl_db_exec(conn, "COMMIT", 0, NULL, NULL, err);
	else if (PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
	fl_db_release(srv->db, conn);
	if (r == FL_OK)
		enqueue_staging(srv, conf, &t, sr);
	return r;
}

/* Stores every object of a read segment (durable after one storage sync)
 * and records them. */
static enum fl_result store_parts(struct fl_delivery *d, struct job *j,
				  struct segment_read *sr, struct fl_stream_conf *conf,
				  struct fl_error *err)
{
	struct fl_server *srv = d->srv;
	struct fl_buf key;
	enum fl_result r = FL_OK;
	fl_buf_init(&key, 4096);
	for (size_t i = 0; i < sr->nparts && r == FL_OK; i++) {
		struct part *p = &sr->parts[i];
		if ((r = compress_pending(sr, p)) != FL_OK) {
			fl_error_set(err, r, "cannot compress object");
			break;
		}
		const char *slash = memchr(p->dest, '/', p->dest_len);
		if (!slash) {
			r = fl_error_set(err, FL_INTERNAL, "destination without bucket");
			break;
		}
		char bucket[256];
		snprintf(bucket, sizeof bucket, "%.*s", (int)(slash - p->dest), p->dest);
		uint8_t uuid[16];
		object_uuid(&j->seg, p, uuid);
		bool ext = conf->file_extension[0] != '\0';
		fl_buf_reset(&key);
		if ((r = fl_buf_adds(&key, slash + 1)) != FL_OK ||
		    (r = fl_object_name(&key, j->stream->name, (int)p->version,
					j->seg.created_ms, uuid, sr->gzip && !ext)) != FL_OK ||
		    (ext && (r = fl_buf_adds(&key, conf->file_extension)) != FL_OK)) {
			fl_error_set(err, r, "object key too long");
			break;
		}
		if ((r = fl_storage_put_deferred(srv->storage, bucket, key.data, p->out.data,
						 p->out.len, err)) != FL_OK)
			break;
		free(p->key);
		if (!(p->key = strdup(key.data)))
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	fl_buf_free(&key);
	if (r == FL_OK && (r = fl_storage_sync(srv->storage, err)) == FL_OK)
		r = record_objects(srv, j->stream->name, conf, sr, err);
	if (r == FL_OK)
		for (size_t i = 0; i < sr->nparts; i++) {
			atomic_fetch_add(&j->stream->metrics->objects_delivered, 1);
			atomic_fetch_add(&j->stream->metrics->bytes_delivered, sr->parts[i].out.len);
		}
	return r;
}

static enum fl_result deliver(struct fl_delivery *d, struct job *j, struct fl_error *err)
{
	struct fl_server *srv = d->srv;
	struct fl_stream_conf *conf = fl_stream_conf_get(j->stream);
	struct segment_read sr = { .gzip = conf->gzip };
	if (srv->cfg.schema_inference && !(sr.inf = fl_infer_new())) {
		fl_stream_conf_unref(conf);
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	uint64_t valid_end = 0;
	struct fl_wal_segment hdr;
	enum fl_result r = fl_wal_read(j->seg.path, on_record, &sr, &hdr, &valid_end, err);
	if (r == FL_INVALID) {
		/* The header itself is damaged: quarantine the whole file. */
		fl_error("stream %s: WAL segment %s unreadable (%s): quarantined",
			 j->stream->name, j->seg.path, err->msg);
		if (fl_wal_quarantine_tail(j->stream->wal, j->seg.path, 0, err) == FL_OK) {
			atomic_fetch_add(&srv->metrics.wal_quarantined_bytes, j->seg.bytes);
			r = fl_wal_remove(j->stream->wal, &j->seg, err);
		}
		goto out;
	}
	/* Damage ends the valid prefix, not necessarily the intact records:
	 * acknowledged records after a flipped byte are read on and kept. */
	if (r == FL_OK && sr.failure == FL_OK && valid_end < hdr.bytes)
		r = fl_wal_salvage(j->seg.path, valid_end, on_record, on_damage, &sr, err);
	if (r != FL_OK)
		goto out;
	if (sr.failure != FL_OK) {
		*err = sr.err;
		r = sr.failure;
		goto out;
	}
	if ((r = store_parts(d, j, &sr, conf, err)) != FL_OK)
		goto out;
	/* Copies, not cuts: the segment keeps its bytes until it is removed,
	 * so a delivery repeated after a crash rebuilds the same objects. */
	if (sr.ndamage)
		fl_error("stream %s: WAL segment %s damaged: %llu bytes in %zu stretches from "
			 "byte %llu quarantined; the intact records around them are delivered",
			 j->stream->name, j->seg.path, (unsigned long long)sr.damaged_bytes,
			 sr.ndamage, (unsigned long long)sr.damage[0].from);
	for (size_t i = 0; i < sr.ndamage; i++)
		if ((r = fl_wal_quarantine_range(j->stream->wal, j->seg.path, sr.damage[i].from,
						 sr.damage[i].to, err)) != FL_OK)
			goto out;
	if (sr.bad_records)
		fl_warn("stream %s: %llu unknown records skipped in %s", j->stream->name,
			(unsigned long long)sr.bad_records, j->seg.path);
	if ((r = fl_wal_remove(j->stream->wal, &j->seg, err)) == FL_OK)
		atomic_fetch_add(&srv->metrics.wal_quarantined_bytes, sr.damaged_bytes);
out:
	segment_read_free(&sr);
	fl_stream_conf_unref(conf);
	return r;
}

static int64_t backoff_ms(int attempts)
{
	int64_t base = 500;
	for (int i = 1; i < attempts && base < BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	uint32_t jitter = 0;
	if (getrandom(&jitter, sizeof jitter, 0) != (ssize_t)sizeof jitter)
		jitter = (uint32_t)attempts * 7919u;
	return base / 2 + (int64_t)(jitter % (uint32_t)(base / 2 + 1));
}

/* Takes the first job that may run now; NULL when the worker should exit. */
static struct job *next_job(struct fl_delivery *d)
{
	pthread_mutex_lock(&d->lock);
	for (;;) {
		int64_t now = d->srv->now_ms(), wake = 0;
		struct job **pp = &d->head, *prev = NULL;
		for (struct job *j = d->head; j; prev = j, j = j->next) {
			if (j->not_before_ms <= now || (d->workers_stop && d->deadline_ms > now)) {
				*pp = j->next;
				if (d->tail == j)
					d->tail = prev;
				d->running++;
				pthread_mutex_unlock(&d->lock);
				return j;
			}
			if (!wake || j->not_before_ms < wake)
				wake = j->not_before_ms;
			pp = &j->next;
		}
		if (d->workers_stop && (!d->head || now >= d->deadline_ms) && !d->stopping) {
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t wait_ms = wake ? wake - now : 1000;
		if (wait_ms > 1000)
			wait_ms = 1000;
		if (wait_ms < 1)
			wait_ms = 1;
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (wait_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&d->cond, &d->lock, &ts);
	}
}

static void *worker_main(void *arg)
{
	struct fl_delivery *d = arg;
	struct job *j;
	while ((j = next_job(d))) {
		struct fl_error err = { 0 };
		enum fl_result r = deliver(d, j, &err);
		struct fl_stream_metrics *m = j->stream->metrics;
		pthread_mutex_lock(&d->lock);
		d->running--;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
		if (r == FL_OK) {
			if (j->attempts)
				fl_info("stream %s: segment %016llx delivered after %d retries",
					j->stream->name, (unsigned long long)j->seg.seq, j->attempts);
			atomic_store(&d->srv->storage_ok, true);
			free_job(j);
			continue;
		}
		atomic_fetch_add(&m->delivery_failures, 1);
		atomic_fetch_add(&m->delivery_retries, 1);
		if (j->attempts == 0 || j->attempts % 10 == 0)
			fl_error("stream %s: delivery of segment %016llx failed (%s: %s); retrying",
				 j->stream->name, (unsigned long long)j->seg.seq,
				 fl_result_name(r), err.msg);
		atomic_store(&d->srv->storage_ok, false);
		j->attempts++;
		j->not_before_ms = d->srv->now_ms() + backoff_ms(j->attempts);
		enqueue(d, j);
	}
	return NULL;
}

/* ---- the batcher --------------------------------------------------------- */

struct tick {
	struct fl_delivery *d;
	int64_t now;
	bool seal_all;
};

static void seal(struct fl_delivery *d, struct fl_stream *s)
{
	struct fl_wal_segment seg;
	struct fl_error err = { 0 };
	enum fl_result r = fl_wal_seal(s->wal, &seg, &err);
	if (r == FL_NOT_FOUND)
		return;
	if (r != FL_OK) {
		fl_error("stream %s: cannot seal WAL segment: %s", s->name, err.msg);
		return;
	}
	struct job *j = new_job(s, &seg);
	if (!j) {
		fl_error("stream %s: out of memory queueing a segment", s->name);
		return; /* it stays on disk; the next start delivers it */
	}
	enqueue(d, j);
}

static void tick_stream(void *arg, struct fl_stream *s)
{
	struct tick *t = arg;
	struct fl_delivery *d = t->d;
	uint64_t bytes = 0;
	int64_t created = 0;
	fl_wal_open_stats(s->wal, &bytes, &created);
	struct fl_stream_conf *conf = fl_stream_conf_get(s);
	bool deleting = atomic_load(&s->status) == FL_STREAM_DELETING;
	if (bytes > 0 && (t->seal_all || deleting || bytes >= conf->size_bytes ||
			  t->now - created >= (int64_t)conf->interval_s * 1000)) {
		seal(d, s);
		bytes = 0;
	}
	fl_stream_conf_unref(conf);

	int64_t oldest = bytes > 0 ? created : 0;
	pthread_mutex_lock(&d->lock);
	int jobs = jobs_of(d, s, &oldest) + d->running;
	pthread_mutex_unlock(&d->lock);
	atomic_store(&s->metrics->oldest_pending_ms, oldest);

	if (deleting && bytes == 0 && jobs == 0) {
		struct fl_error err = { 0 };
		if (fl_streams_drop(d->srv->streams, s, &err) != FL_OK)
			fl_warn("stream %s: cannot finish deletion yet: %s", s->name, err.msg);
		else
			fl_info("stream %s: deleted", s->name);
	}
}

static void *batcher_main(void *arg)
{
	struct fl_delivery *d = arg;
	for (;;) {
		pthread_mutex_lock(&d->lock);
		bool stopping = d->stopping;
		pthread_mutex_unlock(&d->lock);
		struct tick t = { .d = d, .now = d->srv->now_ms(), .seal_all = stopping };
		fl_streams_each(d->srv->streams, tick_stream, &t);
		if (stopping)
			break;
		struct timespec ts = { 0, TICK_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* ---- start and stop ----------------------------------------------------- */

struct recover {
	struct fl_delivery *d;
	size_t segments;
	enum fl_result r;
	struct fl_error err;
};

static void recover_stream(void *arg, struct fl_stream *s)
{
	struct recover *rc = arg;
	struct fl_wal_segment *segs = NULL;
	size_t n = 0;
	if (fl_wal_list(s->wal, &segs, &n, &rc->err) != FL_OK) {
		rc->r = rc->err.code;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct job *j = new_job(s, &segs[i]);
		if (!j) {
			rc->r = fl_error_set(&rc->err, FL_INTERNAL, "out of memory");
			break;
		}
		enqueue(rc->d, j);
		rc->segments++;
	}
	free(segs);
}

enum fl_result fl_delivery_start(struct fl_server *srv, int nworkers,
				 struct fl_delivery **out, struct fl_error *err)
{
	struct fl_delivery *d = calloc(1, sizeof *d);
	if (!d)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	d->srv = srv;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);

	struct recover rc = { .d = d };
	fl_streams_each(srv->streams, recover_stream, &rc);
	if (rc.r != FL_OK) {
		*err = rc.err;
		fl_delivery_stop(d, 0);
		return rc.r;
	}
	if (rc.segments)
		fl_info("recovery: %zu WAL segments to deliver", rc.segments);

	d->workers = calloc((size_t)nworkers, sizeof *d->workers);
	if (!d->workers) {
		fl_delivery_stop(d, 0);
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	for (int i = 0; i < nworkers; i++) {
		if (pthread_create(&d->workers[i], NULL, worker_main, d) != 0) {
			fl_delivery_stop(d, 0);
			return fl_error_set(err, FL_INTERNAL, "cannot start delivery thread");
		}
		d->nworkers++;
	}
	if (pthread_create(&d->batcher, NULL, batcher_main, d) != 0) {
		fl_delivery_stop(d, 0);
		return fl_error_set(err, FL_INTERNAL, "cannot start batcher thread");
	}
	d->batcher_started = true;
	*out = d;
	return FL_OK;
}

void fl_delivery_stop(struct fl_delivery *d, int64_t deadline_ms)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_mutex_unlock(&d->lock);
	if (d->batcher_started)
		pthread_join(d->batcher, NULL); /* it seals everything on its way out */
	pthread_mutex_lock(&d->lock);
	d->stopping = false;
	d->workers_stop = true;
	d->deadline_ms = d->srv->now_ms() + deadline_ms;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (int i = 0; i < d->nworkers; i++)
		pthread_join(d->workers[i], NULL);
	size_t left = 0;
	while (d->head) {
		struct job *j = d->head;
		d->head = j->next;
		free_job(j);
		left++;
	}
	if (left)
		fl_warn("%zu WAL segments not delivered before exit: they are delivered at the next start",
			left);
	free(d->workers);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
