/*
 * stage_bench.c - how fast the staged lake fills: lake objects (gzip
 * NDJSON) into PostgreSQL through COPY.
 *
 * Starts a private PostgreSQL (as firelake does) and a local lake in a
 * temporary directory, writes N enriched events (default 2,000,000, the
 * shape of infer_bench: six event names with their own payloads,
 * optional members, arrays) as gzip objects of 100,000 events, one
 * object stream per event_type (partition keys event_type and dt), learns
 * the table's schema from them (fl_infer, as delivery does) and then
 * measures, printing events/s and MB/s:
 *   convert   the conversion alone (fl_stage_copy_object, one thread, no
 *             PostgreSQL): the client's share of the work
 *   stage     fl_stage_partition of every partition in turn (two objects
 *             at once per partition, each on its own connection), wall
 *             clock: what a query or the eager stager waits for
 * and the staged bytes per event (pg_total_relation_size of the leaves)
 * against the lake's bytes per event.
 *
 *   stage_bench [events, default 2000000]
 */
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "pgembed.h"
#include "schema.h"
#include "server.h"
#include "sqlrewrite.h"
#include "stage.h"
#include "stage_copy.h"
#include "storage.h"

#define PER_OBJECT 100000
#define NTYPES 5

static const char *const types[NTYPES] = { "payment", "cart", "login", "search", "page" };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* One enriched event (infer_bench's shape); returns its length and the
 * index of its event_type in types. */
static int event(char *out, size_t cap, uint32_t *s, unsigned i, int *type)
{
	static const char *const names[][3] = {
		{ "payment:order:completed", "payment", "\"order\"" },
		{ "payment:refund:issued", "payment", "\"refund\"" },
		{ "cart:item:added", "cart", "\"item\"" },
		{ "login", "login", "null" },
		{ "search:query", "search", "\"query\"" },
		{ "page:view", "page", "\"view\"" },
	};
	static const int type_of[] = { 0, 0, 1, 2, 3, 4 };
	static const char *const cur[] = { "EUR", "USD", "GBP", "JPY" };
	unsigned k = rnd(s) % 6, t = 1732300000u + i / 10;
	char payload[256];
	*type = type_of[k];
	switch (k) {
	case 0:
	case 1:
		snprintf(payload, sizeof payload,
			 "{\"amount\":%u.%02u,\"currency\":\"%s\",\"items\":[%u,%u%s]}",
			 rnd(s) % 500, rnd(s) % 100, cur[rnd(s) % 4], rnd(s) % 90, rnd(s) % 90,
			 rnd(s) % 2 ? ",7" : "");
		break;
	case 2:
		snprintf(payload, sizeof payload,
			 "{\"sku\":\"SKU-%06u\",\"qty\":%u,\"price\":%u.%02u}",
			 rnd(s) % 1000000, 1 + rnd(s) % 5, rnd(s) % 200, rnd(s) % 100);
		break;
	case 3:
		snprintf(payload, sizeof payload, "{\"method\":\"%s\",\"mfa\":%s}",
			 rnd(s) % 2 ? "password" : "sso", rnd(s) % 3 ? "true" : "false");
		break;
	case 4:
		snprintf(payload, sizeof payload, "{\"q\":\"red shoes %u\",\"results\":%u,"
			 "\"filters\":[\"size:4%u\",\"color:red\"]}", rnd(s) % 100, rnd(s) % 1000,
			 rnd(s) % 10);
		break;
	default:
		snprintf(payload, sizeof payload, "{\"path\":\"/products/%u\",\"referrer\":%s}",
			 rnd(s) % 10000, rnd(s) % 2 ? "\"https://example.com/\"" : "null");
		break;
	}
	return snprintf(out, cap,
		"{\"event_uuid\":\"%08x-%04x-4%03x-a%03x-%012llx\",\"event_name\":\"%s\","
		"\"created_at\":%u%s,\"user_id\":\"user-%06u\",\"payload\":%s%s,"
		"\"created_datetime\":\"2024-11-22T18:26:40Z\",\"event_type\":\"%s\","
		"\"event_subtype\":%s}",
		rnd(s), rnd(s) & 0xffff, rnd(s) & 0xfff, rnd(s) & 0xfff,
		(unsigned long long)rnd(s) << 16 | (rnd(s) & 0xffff), names[k][0], t,
		i % 3 ? "" : ".25", rnd(s) % 1000000, payload,
		rnd(s) % 4 ? "" : ",\"session\":{\"id\":\"s-1\",\"device\":\"ios\"}",
		names[k][1], names[k][2]);
}

static int gzip(const char *in, size_t n, struct fl_buf *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t cap = deflateBound(&zs, (uLong)n);
	fl_buf_reset(out);
	if (fl_buf_reserve(out, cap) != FL_OK)
		return -1;
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (unsigned char *)out->data;
	zs.avail_out = (uInt)cap;
	int r = deflate(&zs, Z_FINISH);
	out->len = cap - zs.avail_out;
	deflateEnd(&zs);
	return r == Z_STREAM_END ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static enum fl_result discard(void *arg, const char *rows, size_t n, struct fl_error *err)
{
	(void)rows;
	(void)err;
	*(uint64_t *)arg += n;
	return FL_OK;
}

struct objects {
	char keys[256][64];
	int type[256];
	size_t n;
};

int main(int argc, char **argv)
{
	size_t total = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 2000000;
	char tmp[] = "/tmp/fl-stage-bench-XXXXXX", dir[PATH_MAX], conninfo[1024];
	struct fl_pgembed *pg = NULL;
	struct fl_db *db = NULL;
	struct fl_storage *lake = NULL;
	struct fl_stage *st = NULL;
	struct fl_error err = { FL_OK, "", "" };
	struct fl_server srv;
	struct fl_infer *inf = fl_infer_new();
	struct fl_buf text[NTYPES], gz;
	struct objects objs = { .n = 0 };
	uint64_t lake_bytes = 0, count[NTYPES] = { 0 };
	int rc = 1;
	PGconn *c = NULL;
	memset(&srv, 0, sizeof srv);
	setvbuf(stdout, NULL, _IOLBF, 0);  /* figures as they come, also into a file */
	fl_buf_init(&gz, (size_t)1 << 30);
	for (int t = 0; t < NTYPES; t++)
		fl_buf_init(&text[t], (size_t)1 << 30);
	if (total == 0 || !inf || !mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return 2;
	snprintf(dir, sizeof dir, "%s/pg", tmp);
	if (fl_pgembed_start(dir, &pg, conninfo, sizeof conninfo, &err) != FL_OK ||
	    fl_db_open(conninfo, 6, &db, &err) != FL_OK)
		goto out;
	snprintf(dir, sizeof dir, "%s/lake", tmp);
	if (fl_storage_local_open(dir, &lake, &err) != FL_OK)
		goto out;

	/* The lake: objects of PER_OBJECT events per event_type. */
	uint32_t seed = 2463534242u;
	double t0 = now_s();
	for (size_t i = 0; i <= total; i++) {
		char ev[600];
		int type = -1;
		if (i < total) {
			int n = event(ev, sizeof ev - 1, &seed, (unsigned)i, &type);
			ev[n++] = '\n';
			if (fl_buf_add(&text[type], ev, (size_t)n) != FL_OK)
				goto out;
			if (++count[type] % PER_OBJECT != 0)
				continue;
		}
		for (int t = 0; t < NTYPES; t++) {
			if (!text[t].len || (i < total && t != type) || objs.n == 256)
				continue;
			if (fl_infer_lines(inf, text[t].data, text[t].len) != FL_OK ||
			    gzip(text[t].data, text[t].len, &gz) != 0)
				goto out;
			snprintf(objs.keys[objs.n], sizeof objs.keys[0],
				 "bench/event_type=%s/dt=2024-11-22/o%zu.gz", types[t], objs.n);
			objs.type[objs.n] = t;
			if (fl_storage_put(lake, "lake", objs.keys[objs.n], gz.data, gz.len, &err) != FL_OK)
				goto out;
			lake_bytes += gz.len;
			objs.n++;
			fl_buf_reset(&text[t]);
		}
	}
	printf("%zu events in %zu objects, %.1f MB gzip (%.0f bytes/event), written in %.1f s\n",
	       total, objs.n, (double)lake_bytes / 1e6, (double)lake_bytes / (double)total,
	       now_s() - t0);

	/* The catalog: table, schema, partitions, objects. */
	struct fl_catalog_table tbl;
	memset(&tbl, 0, sizeof tbl);
	snprintf(tbl.db, sizeof tbl.db, "default");
	snprintf(tbl.name, sizeof tbl.name, "bench");
	snprintf(tbl.location, sizeof tbl.location, "s3://lake/bench/");
	snprintf(tbl.keys[0], sizeof tbl.keys[0], "event_type");
	snprintf(tbl.keys[1], sizeof tbl.keys[1], "dt");
	tbl.nkeys = 2;
	tbl.compressed = true;
	if (fl_db_acquire(db, &c, &err) != FL_OK || fl_catalog_ensure_table(c, &tbl, &err) != FL_OK ||
	    fl_catalog_merge_schema(c, "default", "bench", fl_infer_schema(inf), &err) != FL_OK)
		goto out;
	for (size_t i = 0; i < objs.n; i++) {
		const char *vals[] = { types[objs.type[i]], "2024-11-22" };
		struct fl_catalog_object o = {
			.bucket = "lake", .key = objs.keys[i], .kind = "crawled",
			.partition_path = "bench/", .bytes = 1, .records = PER_OBJECT,
			.min_ms = INT64_MAX, .max_ms = INT64_MIN, .db = "default", .tbl = "bench",
			.vals = vals, .nvals = 2,
		};
		if (fl_catalog_add_partition(c, "default", "bench", vals, 2, "s3://lake/x/",
					     &err) != FL_OK ||
		    fl_catalog_add_object(c, &o, &err) != FL_OK)
			goto out;
	}
	fl_db_release(db, c);
	c = NULL;
	srv.db = db;
	srv.storage = lake;
	if (fl_stage_new(&srv, UINT64_C(1) << 40, &st, &err) != FL_OK ||
	    fl_stage_sync_table(st, "default", "bench", &err) != FL_OK)
		goto out;

	/* The conversion alone, on this thread, over every object. */
	{
		const struct fl_schema *s = fl_infer_schema(inf);
		size_t n = fl_schema_count(s);
		struct fl_stage_col *cols = calloc(n + 2, sizeof *cols);
		const char *vals[] = { "x", "2024-11-22" };
		struct fl_stage_copy *cv = NULL;
		struct fl_buf obj;
		uint64_t rows = 0, bad = 0, all = 0, out_bytes = 0;
		fl_buf_init(&obj, (size_t)1 << 30);
		for (size_t i = 0; cols && i < n + 2; i++) {
			char pgt[128] = "text";
			if (i < n && !fl_sql_pg_type(fl_schema_type(s, i), pgt, sizeof pgt))
				snprintf(pgt, sizeof pgt, "text");
			if (strcmp(pgt, "timestamp") == 0)
				snprintf(pgt, sizeof pgt, "timestamp without time zone");
			(void)fl_stage_col_type(pgt, &cols[i]);
			cols[i].key = i < n ? fl_schema_name(s, i) : NULL;
			cols[i].field = -1;
			cols[i].part = i < n ? -1 : (int)(i - n);
		}
		struct fl_stage_layout l = { FL_STAGE_JSON, 0, 0, cols, n + 2, vals, 2 };
		if (!cols || fl_stage_copy_new(&l, &cv, &err) != FL_OK)
			goto out;
		double cpu = 0;
		for (size_t i = 0; i < objs.n; i++) {
			fl_buf_reset(&obj);
			if (fl_storage_get(lake, "lake", objs.keys[i], &obj, &err) != FL_OK)
				goto out;
			double a = now_s();
			if (fl_stage_copy_object(cv, obj.data, obj.len, discard, &out_bytes, &rows, &bad,
						 &err) != FL_OK)
				goto out;
			cpu += now_s() - a;
			all += rows;
		}
		printf("convert  %10.0f events/s %8.1f MB/s of COPY text (%.0f bytes/row), "
		       "one thread\n", (double)all / cpu, (double)out_bytes / cpu / 1e6,
		       (double)out_bytes / (double)all);
		fl_stage_copy_free(cv);
		fl_buf_free(&obj);
		free(cols);
	}

	/* Staging, partition after partition. */
	uint64_t staged = 0;
	t0 = now_s();
	for (int t = 0; t < NTYPES; t++) {
		const char *vals[] = { types[t], "2024-11-22" };
		struct fl_stage_part p = { "default", "bench", vals, 2 };
		uint64_t bytes, rows;
		if (fl_stage_partition(st, &p, &bytes, &rows, &err) != FL_OK)
			goto out;
		staged += rows;
	}
	double secs = now_s() - t0;
	printf("stage    %10.0f events/s %8.1f MB/s of gzip, %" PRIu64 " events in %.2f s\n",
	       (double)staged / secs, (double)lake_bytes / secs / 1e6, staged, secs);
	PGresult *res = NULL;
	if (fl_db_acquire(db, &c, &err) != FL_OK ||
	    fl_db_exec(c, "SELECT sum(staged_bytes)::text, sum(staged_rows)::text FROM "
		       "fl_stage_partitions WHERE tbl = 'bench'", 0, NULL, &res, &err) != FL_OK)
		goto out;
	double sb = atof(PQgetvalue(res, 0, 0));
	printf("staged   %.0f bytes/event in PostgreSQL (%.1f MB), lake %.0f bytes/event\n",
	       sb / (double)staged, sb / 1e6, (double)lake_bytes / (double)total);
	PQclear(res);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "stage_bench: %s\n", err.msg);
	if (c)
		fl_db_release(db, c);
	fl_stage_free(st);
	fl_storage_free(lake);
	fl_db_free(db);
	fl_pgembed_stop(pg);
	fl_infer_free(inf);
	for (int t = 0; t < NTYPES; t++)
		fl_buf_free(&text[t]);
	fl_buf_free(&gz);
	nftw(tmp, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	return rc;
}
