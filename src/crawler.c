/*
 * crawler.c - the Glue crawler API, and the runner of this process's crawls.
 *
 * DESIGN
 *
 * A crawler is one row of fl_glue_crawlers; its spec is CreateCrawler's
 * request without Name (UpdateCrawler merges members into it).  The row's
 * state is the truth that every firelake node sharing the catalog sees:
 *
 *   READY --StartCrawler--> RUNNING --StopCrawler--> STOPPING
 *     ^                        |                        |
 *     +---- the crawl ends: LastCrawl written ----------+
 *
 * StartCrawler moves READY to RUNNING in one conditional UPDATE that also
 * names this process as the runner (host:pid:random), so of two starts
 * only one wins, whichever node they reach, and a second start sees
 * RUNNING at once (CrawlerRunningException).  It then hands the crawl to a
 * thread of its own (struct run); the runner keeps every thread's handle
 * and joins it.  One heartbeat thread per process refreshes heartbeat_at
 * of the rows its runs hold every HEARTBEAT_S seconds, and learns from the
 * same statement which of them another node asked to stop (STOPPING) or
 * took over; a StopCrawler reaching this node flags the run directly.
 *
 * A RUNNING or STOPPING row whose heartbeat is older than FL_CRAWL_STALE_S,
 * or whose runner is a process of this host that no longer exists, lost
 * its crawl: whoever notices first (start-up, GetCrawler(s), Start, Stop,
 * Update, Delete, GetCrawlerMetrics) sets it READY with LastCrawl FAILED,
 * guarded by the runner it saw, so a crawl that is alive after all cannot
 * be overwritten.  A crawl ends with one UPDATE guarded by runner = us.
 *
 * LastCrawl keeps, besides Glue's members, the crawl's counters (Summary)
 * and the run times of the last MAX_RUNTIMES successful crawls, from which
 * GetCrawlerMetrics answers its median.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "awsjson.h"
#include "awsshape.h"
#include "catalog.h"
#include "crawler.h"
#include "db.h"
#include "log.h"
#include "server.h"
#include "storage.h"

#define HEARTBEAT_S 5
#define LOG_GROUP "/aws-glue/crawlers"
#define MAX_RUNTIMES 20
#define MAX_CRAWLERS 1000          /* Glue's default quota per account */
#define PAGE_DEFAULT 100
#define LIST_PAGE_MAX 100          /* ListCrawlers answers at most 100 names */
#define TOKEN_MAX 1024

struct run {
	char name[256];
	json_t *spec;               /* the crawler's spec at start (owned) */
	json_t *prev;               /* LastCrawl before this run, or NULL (owned) */
	int64_t start_ms;
	char message_prefix[37];
	pthread_t thread;
	_Atomic int stop;
	_Atomic bool done;
	struct fl_crawlers *owner;
	struct run *next;           /* owner->mu */
};

struct fl_crawlers {
	struct fl_server *srv;
	char host[256];             /* immutable */
	char runner[320];           /* immutable: host:pid:random */
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* mu: closing */
	struct run *runs;           /* mu */
	bool closing;               /* mu */
	pthread_t heart;
	bool heart_started;
};

/* ---- helpers -------------------------------------------------------------------- */

static enum fl_result name_of(const json_t *root, const char **name, struct fl_error *err)
{
	*name = json_string_value(json_object_get(root, "Name"));
	if (!*name)
		return fl_error_set(err, FL_VALIDATION,
				    "1 validation error detected: Value null at 'name' failed to "
				    "satisfy constraint: Member must not be null");
	return FL_OK;
}

static void uuid4(char out[37])
{
	unsigned char b[16] = { 0 };
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts, sizeof ts < sizeof b ? sizeof ts : sizeof b);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

/* ---- requests: validation beyond the shapes -------------------------------------- */

enum fl_result fl_crawl_s3_path(const char *path, char bucket[64], char *prefix,
				size_t prefix_len, struct fl_error *err)
{
	if (strncasecmp(path, "s3://", 5) != 0)
		return fl_error_set(err, FL_INVALID,
				    "The S3 target path %.200s must start with s3://", path);
	const char *b = path + 5, *slash = strchr(b, '/');
	size_t bn = slash ? (size_t)(slash - b) : strlen(b);
	if (bn == 0 || bn >= 64)
		return fl_error_set(err, FL_INVALID, "The S3 target path %.200s names no bucket",
				    path);
	memcpy(bucket, b, bn);
	bucket[bn] = '\0';
	struct fl_error nerr;
	if (fl_storage_check_name(bucket, NULL, &nerr) != FL_OK)
		return fl_error_set(err, FL_INVALID, "The S3 target path %.200s: %s", path,
				    nerr.msg);
	const char *p = slash ? slash + 1 : "";
	size_t pn = strlen(p);
	while (pn && p[pn - 1] == '/')
		pn--;
	if (pn + 2 > prefix_len || pn > 1000)
		return fl_error_set(err, FL_INVALID, "The S3 target path %.200s is too long", path);
	memcpy(prefix, p, pn);
	prefix[pn] = '\0';
	if (pn && fl_storage_check_name(NULL, prefix, &nerr) != FL_OK)
		return fl_error_set(err, FL_INVALID, "The S3 target path %.200s: %s", path,
				    nerr.msg);
	if (pn)
		prefix[pn++] = '/';
	prefix[pn] = '\0';
	return FL_OK;
}

static enum fl_result check_targets(const json_t *targets, struct fl_error *err)
{
	static const char *const other[] = {
		"JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "CatalogTargets",
		"DeltaTargets", "IcebergTargets", "HudiTargets",
	};
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		if (json_array_size(json_object_get(targets, other[i])))
			return fl_error_set(err, FL_INVALID,
					    "%s are not supported: firelake crawls S3 targets only",
					    other[i]);
	const json_t *s3 = json_object_get(targets, "S3Targets");
	if (!json_array_size(s3))
		return fl_error_set(err, FL_INVALID, "Crawler must have at least one S3 target");
	size_t i;
	json_t *t;
	json_array_foreach(s3, i, t) {
		const char *path = json_string_value(json_object_get(t, "Path"));
		char bucket[64], prefix[1100];
		if (!path)
			return fl_error_set(err, FL_INVALID, "S3 target %zu has no Path", i + 1);
		enum fl_result r = fl_crawl_s3_path(path, bucket, prefix, sizeof prefix, err);
		if (r != FL_OK)
			return r;
	}
	return FL_OK;
}

/* Members of a CreateCrawler or UpdateCrawler request that the shapes
 * cannot check. */
static enum fl_result check_spec(const json_t *in, struct fl_error *err)
{
	const json_t *targets = json_object_get(in, "Targets");
	enum fl_result r = FL_OK;
	if (targets && (r = check_targets(targets, err)) != FL_OK)
		return r;
	const char *db = json_string_value(json_object_get(in, "DatabaseName"));
	char tmp[256];
	if (db && *db && (r = fl_catalog_name(db, "database name", tmp, err)) != FL_OK)
		return r;
	const char *sched = json_string_value(json_object_get(in, "Schedule"));
	size_t sn = sched ? strlen(sched) : 0;
	if (sn && (sn < 7 || strncmp(sched, "cron(", 5) != 0 || sched[sn - 1] != ')'))
		return fl_error_set(err, FL_INVALID, "Invalid schedule expression: %.200s", sched);
	const char *conf = json_string_value(json_object_get(in, "Configuration"));
	if (conf && *conf) {
		json_t *cj = json_loads(conf, 0, NULL);
		bool ok = json_is_object(cj);
		json_decref(cj);
		if (!ok)
			return fl_error_set(err, FL_INVALID,
					    "Crawler configuration not valid: not a JSON object");
	}
	return FL_OK;
}

/* ---- rows to shapes -------------------------------------------------------------- */

#define CRAWLER_COLUMNS \
	"name, spec::text, state, version, last_crawl::text, " \
	"extract(epoch FROM created_at)::float8, extract(epoch FROM updated_at)::float8, " \
	"CASE WHEN state <> 'READY' AND started_at IS NOT NULL " \
	"THEN (extract(epoch FROM clock_timestamp() - started_at) * 1000)::bigint ELSE 0 END, " \
	"crawl_elapsed_ms"
enum { C_NAME, C_SPEC, C_STATE, C_VERSION, C_LAST, C_CREATED, C_UPDATED, C_ELAPSED, C_LAST_MS };

static long long col_i(PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static json_t *targets_json(const json_t *in)
{
	static const char *const empty[] = {
		"JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "CatalogTargets",
		"DeltaTargets", "IcebergTargets", "HudiTargets",
	};
	json_t *out = json_object(), *s3 = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(in, "S3Targets"), i, t) {
		json_t *c = json_deep_copy(t);
		if (c && !json_object_get(c, "Exclusions"))
			json_object_set_new(c, "Exclusions", json_array());
		json_array_append_new(s3, c);
	}
	json_object_set_new(out, "S3Targets", s3);
	for (size_t k = 0; k < sizeof empty / sizeof empty[0]; k++)
		json_object_set_new(out, empty[k], json_array());
	return out;
}

/* spec[member] with the members of defaults it lacks. */
static json_t *with_defaults(const json_t *spec, const char *member, json_t *defaults)
{
	const json_t *have = json_object_get(spec, member);
	if (json_is_object(have))
		json_object_update(defaults, (json_t *)have);
	return defaults;
}

static json_t *last_crawl_json(const json_t *last)
{
	static const char *const keys[] = {
		"Status", "ErrorMessage", "LogGroup", "LogStream", "MessagePrefix", "StartTime",
	};
	json_t *out = json_object();
	for (size_t i = 0; out && i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(last, keys[i]);
		if (v && !json_is_null(v))
			json_object_set(out, keys[i], v);
	}
	return out;
}

static json_t *crawler_json(PGresult *res, int row)
{
	json_t *spec = json_loads(PQgetvalue(res, row, C_SPEC), 0, NULL);
	json_t *c = json_object();
	if (!spec || !c) {
		json_decref(spec);
		json_decref(c);
		return NULL;
	}
	static const char *const copied[] = {
		"Role", "DatabaseName", "Description", "TablePrefix", "Configuration",
		"CrawlerSecurityConfiguration",
	};
	json_object_set_new(c, "Name", json_string(PQgetvalue(res, row, C_NAME)));
	for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
		json_t *v = json_object_get(spec, copied[i]);
		if (v)
			json_object_set(c, copied[i], v);
	}
	json_object_set_new(c, "Targets", targets_json(json_object_get(spec, "Targets")));
	json_t *cl = json_object_get(spec, "Classifiers");
	json_object_set_new(c, "Classifiers", cl ? json_deep_copy(cl) : json_array());
	json_object_set_new(c, "RecrawlPolicy", with_defaults(spec, "RecrawlPolicy",
		json_pack("{s:s}", "RecrawlBehavior", "CRAWL_EVERYTHING")));
	json_object_set_new(c, "SchemaChangePolicy", with_defaults(spec, "SchemaChangePolicy",
		json_pack("{s:s, s:s}", "UpdateBehavior", "UPDATE_IN_DATABASE",
			  "DeleteBehavior", "DEPRECATE_IN_DATABASE")));
	json_object_set_new(c, "LineageConfiguration", with_defaults(spec, "LineageConfiguration",
		json_pack("{s:s}", "CrawlerLineageSettings", "DISABLE")));
	json_object_set_new(c, "LakeFormationConfiguration",
		with_defaults(spec, "LakeFormationConfiguration",
			      json_pack("{s:b, s:s}", "UseLakeFormationCredentials", 0,
					"AccountId", "")));
	const char *sched = json_string_value(json_object_get(spec, "Schedule"));
	if (sched && *sched)
		/* Stored, not run: firelake starts crawls on request only. */
		json_object_set_new(c, "Schedule", json_pack("{s:s, s:s}", "ScheduleExpression",
							     sched, "State", "NOT_SCHEDULED"));
	json_object_set_new(c, "State", json_string(PQgetvalue(res, row, C_STATE)));
	json_object_set_new(c, "CrawlElapsedTime", json_integer(col_i(res, row, C_ELAPSED)));
	json_object_set_new(c, "CreationTime", json_real(atof(PQgetvalue(res, row, C_CREATED))));
	json_object_set_new(c, "LastUpdated", json_real(atof(PQgetvalue(res, row, C_UPDATED))));
	json_object_set_new(c, "Version", json_integer(col_i(res, row, C_VERSION)));
	if (!PQgetisnull(res, row, C_LAST)) {
		json_t *last = json_loads(PQgetvalue(res, row, C_LAST), 0, NULL);
		if (last)
			json_object_set_new(c, "LastCrawl", last_crawl_json(last));
		json_decref(last);
	}
	json_decref(spec);
	return c;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* GetCrawlerMetrics' CrawlerMetrics of a row (name, state, last_crawl,
 * crawl_elapsed_ms, elapsed ms of a running crawl). */
static json_t *metrics_json(PGresult *res, int row)
{
	json_t *last = PQgetisnull(res, row, 2) ? NULL
		: json_loads(PQgetvalue(res, row, 2), 0, NULL);
	bool running = strcmp(PQgetvalue(res, row, 1), "READY") != 0;
	double elapsed_s = (double)col_i(res, row, 4) / 1000.0;
	const json_t *rt = json_object_get(last, "Runtimes");
	double v[MAX_RUNTIMES], median = 0;
	size_t n = 0, i;
	json_t *x;
	json_array_foreach(rt, i, x)
		if (n < MAX_RUNTIMES && json_is_number(x))
			v[n++] = json_number_value(x) / 1000.0;
	if (n) {
		qsort(v, n, sizeof *v, cmp_double);
		median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	}
	const json_t *sum = json_object_get(last, "Summary");
	double left = running && median > elapsed_s ? median - elapsed_s : 0;
	json_t *m = json_pack("{s:s, s:f, s:b, s:f, s:f, s:I, s:I, s:I}",
		"CrawlerName", PQgetvalue(res, row, 0),
		"TimeLeftSeconds", left,
		"StillEstimating", running && n == 0,
		"LastRuntimeSeconds", (double)col_i(res, row, 3) / 1000.0,
		"MedianRuntimeSeconds", median,
		"TablesCreated", json_integer_value(json_object_get(sum, "TablesCreated")),
		"TablesUpdated", json_integer_value(json_object_get(sum, "TablesUpdated")),
		"TablesDeleted", (json_int_t)0);
	json_decref(last);
	return m;
}

/* ---- the runner: stale rows ------------------------------------------------------ */

/* Whether runner names a process of this host that is gone. */
static bool runner_dead(const struct fl_crawlers *cr, const char *runner)
{
	const char *last = strrchr(runner, ':');
	if (!cr || !last || last == runner)
		return false;
	const char *mid = last - 1;
	while (mid > runner && *mid != ':')
		mid--;
	if (mid == runner || (size_t)(mid - runner) != strlen(cr->host) ||
	    memcmp(runner, cr->host, strlen(cr->host)) != 0)
		return false;
	if (strcmp(runner, cr->runner) == 0)
		return false;
	long pid = strtol(mid + 1, NULL, 10);
	if (pid <= 0 || pid == (long)getpid())
		return true; /* an earlier process that had our pid */
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Sets READY (LastCrawl FAILED) the rows of name (NULL: all) whose crawl
 * is gone. */
static enum fl_result reap_stale(struct fl_crawlers *cr, PGconn *conn, const char *name,
				 struct fl_error *err)
{
	PGresult *res = NULL;
	char stale[16];
	snprintf(stale, sizeof stale, "%d", FL_CRAWL_STALE_S);
	const char *params[] = { name, stale };
	enum fl_result r = fl_db_exec(conn,
		"SELECT name, runner, heartbeat_at IS NULL OR "
		"heartbeat_at < now() - make_interval(secs => $2::int) "
		"FROM fl_glue_crawlers WHERE state <> 'READY' AND ($1::text IS NULL OR name = $1)",
		2, params, &res, err);
	for (int i = 0; r == FL_OK && i < PQntuples(res); i++) {
		const char *runner = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		bool stale_hb = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		if (!stale_hb && !(runner && runner_dead(cr, runner)))
			continue;
		char msg[512];
		snprintf(msg, sizeof msg, "The crawl was lost: the firelake process running it "
			 "(%.300s) stopped", runner ? runner : "unknown");
		const char *up[] = { PQgetvalue(res, i, 0), runner, msg, LOG_GROUP };
		r = fl_db_exec(conn,
			"UPDATE fl_glue_crawlers SET state = 'READY', runner = NULL, "
			"heartbeat_at = NULL, last_crawl = jsonb_build_object('Status', 'FAILED', "
			"'ErrorMessage', $3::text, 'LogGroup', $4::text, 'LogStream', name, "
			"'StartTime', extract(epoch FROM started_at), "
			"'Runtimes', coalesce(last_crawl->'Runtimes', '[]'::jsonb)) "
			"WHERE name = $1 AND runner IS NOT DISTINCT FROM $2 AND state <> 'READY'",
			4, up, NULL, err);
		if (r == FL_OK)
			fl_warn("crawler %s: %s", PQgetvalue(res, i, 0), msg);
	}
	PQclear(res);
	return r;
}

/* ---- the runner: threads ---------------------------------------------------------- */

/* Writes the end of a crawl: READY and its LastCrawl. */
static void run_finish(struct run *run, enum fl_result r, const struct fl_error *err,
		       json_t *summary)
{
	struct fl_crawlers *cr = run->owner;
	struct fl_server *srv = cr->srv;
	int64_t elapsed_ms = srv->now_ms() - run->start_ms;
	if (elapsed_ms < 0)
		elapsed_ms = 0;
	const char *status = r != FL_OK ? "FAILED"
			   : atomic_load(&run->stop) ? "CANCELLED" : "SUCCEEDED";
	json_t *runtimes = json_array();
	size_t i;
	json_t *x;
	const json_t *old = json_object_get(run->prev, "Runtimes");
	size_t keep = strcmp(status, "SUCCEEDED") == 0 ? MAX_RUNTIMES - 1 : MAX_RUNTIMES;
	json_array_foreach(old, i, x)
		if (json_array_size(old) - i <= keep)
			json_array_append(runtimes, x);
	if (strcmp(status, "SUCCEEDED") == 0)
		json_array_append_new(runtimes, json_integer(elapsed_ms));
	json_t *last = json_pack("{s:s, s:s, s:s, s:s, s:f, s:o, s:I, s:o}",
				 "Status", status, "LogGroup", LOG_GROUP, "LogStream", run->name,
				 "MessagePrefix", run->message_prefix,
				 "StartTime", (double)run->start_ms / 1000.0,
				 "Summary", summary ? json_incref(summary) : json_object(),
				 "ElapsedMs", (json_int_t)elapsed_ms, "Runtimes", runtimes);
	if (last && r != FL_OK)
		json_object_set_new(last, "ErrorMessage", json_string(err->msg));
	char *text = last ? json_dumps(last, JSON_COMPACT) : NULL;
	char ms[32];
	snprintf(ms, sizeof ms, "%" PRId64, elapsed_ms);
	const char *params[] = { run->name, cr->runner, text ? text : "{}", ms };
	/* The catalog may be away for a moment; past the retries the row goes
	 * stale and is set FAILED by whoever reads it. */
	for (int attempt = 0; attempt < 10; attempt++) {
		PGconn *conn = NULL;
		struct fl_error e;
		enum fl_result fr = fl_db_acquire(srv->db, &conn, &e);
		if (fr == FL_OK) {
			fr = fl_db_exec(conn,
				   "UPDATE fl_glue_crawlers SET state = 'READY', runner = NULL, "
				   "heartbeat_at = NULL, last_crawl = $3::jsonb, crawl_elapsed_ms = $4 "
				   "WHERE name = $1 AND runner = $2", 4, params, NULL, &e);
			fl_db_release(srv->db, conn);
		}
		if (fr == FL_OK)
			break;
		fl_warn("crawler %s: cannot record the end of its crawl: %s", run->name, e.msg);
		sleep(1);
	}
	if (r != FL_OK) {
		fl_warn("crawler %s: FAILED after %.1f s: %s", run->name,
			(double)elapsed_ms / 1000.0, err->msg);
	} else {
#define N(k) (long long)json_integer_value(json_object_get(summary, k))
		fl_info("crawler %s: %s in %.1f s: tables %lld created, %lld updated; "
			"%lld partitions created; files %lld read, %lld skipped; records %lld "
			"read, %lld malformed skipped; %lld bytes", run->name, status,
			(double)elapsed_ms / 1000.0, N("TablesCreated"), N("TablesUpdated"),
			N("PartitionsCreated"), N("FilesRead"), N("FilesSkipped"),
			N("RecordsRead"), N("RecordsSkipped"), N("BytesRead"));
#undef N
	}
	free(text);
	json_decref(last);
}

static void *run_main(void *arg)
{
	struct run *run = arg;
	struct fl_error err = { 0 };
	json_t *summary = NULL;
	enum fl_result r = fl_crawl_run(run->owner->srv, run->name, run->spec, &run->stop,
					&summary, &err);
	run_finish(run, r, &err, summary);
	json_decref(summary);
	atomic_store(&run->done, true);
	return NULL;
}

static void run_free(struct run *run)
{
	if (!run)
		return;
	json_decref(run->spec);
	json_decref(run->prev);
	free(run);
}

/* Joins and frees the runs that ended. */
static void reap_runs(struct fl_crawlers *cr)
{
	struct run *done = NULL;
	pthread_mutex_lock(&cr->mu);
	for (struct run **p = &cr->runs; *p;) {
		struct run *run = *p;
		if (atomic_load(&run->done)) {
			*p = run->next;
			run->next = done;
			done = run;
		} else {
			p = &run->next;
		}
	}
	pthread_mutex_unlock(&cr->mu);
	while (done) {
		struct run *next = done->next;
		pthread_join(done->thread, NULL);
		run_free(done);
		done = next;
	}
}

/* Refreshes the heartbeat of our rows; stops runs that another node asked
 * to stop or whose row is no longer ours. */
static void beat(struct fl_crawlers *cr)
{
	json_t *names = json_array();
	pthread_mutex_lock(&cr->mu);
	for (struct run *run = cr->runs; run; run = run->next)
		json_array_append_new(names, json_string(run->name));
	pthread_mutex_unlock(&cr->mu);
	char *text = json_array_size(names) ? json_dumps(names, JSON_COMPACT) : NULL;
	json_decref(names);
	if (!text)
		return;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct fl_error err;
	const char *params[] = { cr->runner, text };
	enum fl_result r = fl_db_acquire(cr->srv->db, &conn, &err);
	if (r == FL_OK)
		r = fl_db_exec(conn,
			  "UPDATE fl_glue_crawlers SET heartbeat_at = now() WHERE runner = $1 "
			  "AND state <> 'READY' AND name IN (SELECT jsonb_array_elements_text($2::jsonb)) "
			  "RETURNING name, state", 2, params, &res, &err);
	if (conn)
		fl_db_release(cr->srv->db, conn);
	free(text);
	if (r != FL_OK) {
		fl_warn("crawlers: heartbeat failed: %s", err.msg);
		return;
	}
	pthread_mutex_lock(&cr->mu);
	for (struct run *run = cr->runs; run; run = run->next) {
		bool mine = false, stopping = false;
		for (int i = 0; i < PQntuples(res); i++)
			if (strcmp(PQgetvalue(res, i, 0), run->name) == 0) {
				mine = true;
				stopping = strcmp(PQgetvalue(res, i, 1), "STOPPING") == 0;
			}
		if ((!mine || stopping) && !atomic_load(&run->done))
			atomic_store(&run->stop, 1);
	}
	pthread_mutex_unlock(&cr->mu);
	PQclear(res);
}

static void *heart_main(void *arg)
{
	struct fl_crawlers *cr = arg;
	pthread_mutex_lock(&cr->mu);
	while (!cr->closing) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += HEARTBEAT_S;
		while (!cr->closing && pthread_cond_timedwait(&cr->cv, &cr->mu, &until) != ETIMEDOUT)
			;
		if (cr->closing)
			break;
		pthread_mutex_unlock(&cr->mu);
		reap_runs(cr);
		beat(cr);
		pthread_mutex_lock(&cr->mu);
	}
	pthread_mutex_unlock(&cr->mu);
	return NULL;
}

enum fl_result fl_crawlers_new(struct fl_server *srv, struct fl_crawlers **out,
			       struct fl_error *err)
{
	*out = NULL;
	struct fl_crawlers *cr = calloc(1, sizeof *cr);
	if (!cr)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	cr->srv = srv;
	if (gethostname(cr->host, sizeof cr->host - 1) != 0)
		snprintf(cr->host, sizeof cr->host, "localhost");
	for (char *p = cr->host; *p; p++)
		if (*p == ':')
			*p = '_';
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd = (uint32_t)time(NULL);
	snprintf(cr->runner, sizeof cr->runner, "%s:%ld:%08" PRIx32, cr->host, (long)getpid(), rnd);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cr->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&cr->mu, NULL);
	PGconn *conn = NULL;
	enum fl_result r = fl_db_acquire(srv->db, &conn, err);
	if (r == FL_OK) {
		r = reap_stale(cr, conn, NULL, err);
		fl_db_release(srv->db, conn);
	}
	if (r == FL_OK) {
		if (pthread_create(&cr->heart, NULL, heart_main, cr) != 0)
			r = fl_error_set(err, FL_INTERNAL, "cannot start the crawl heartbeat thread");
		else
			cr->heart_started = true;
	}
	if (r != FL_OK) {
		fl_crawlers_free(cr);
		return r;
	}
	*out = cr;
	return FL_OK;
}

void fl_crawlers_free(struct fl_crawlers *cr)
{
	if (!cr)
		return;
	pthread_mutex_lock(&cr->mu);
	cr->closing = true;
	for (struct run *run = cr->runs; run; run = run->next)
		atomic_store(&run->stop, 1);
	pthread_cond_broadcast(&cr->cv);
	pthread_mutex_unlock(&cr->mu);
	if (cr->heart_started)
		pthread_join(cr->heart, NULL);
	while (cr->runs) {
		struct run *run = cr->runs;
		cr->runs = run->next;
		pthread_join(run->thread, NULL);
		run_free(run);
	}
	pthread_cond_destroy(&cr->cv);
	pthread_mutex_destroy(&cr->mu);
	free(cr);
}

/* ---- operations --------------------------------------------------------------------- */

/* The state of a crawler row: FL_NOT_FOUND with Glue's message else. */
static enum fl_result state_of(PGconn *conn, const char *name, char state[16],
			       const char *missing_fmt, struct fl_error *err)
{
	PGresult *res = NULL;
	const char *params[] = { name };
	enum fl_result r = fl_db_exec(conn, "SELECT state FROM fl_glue_crawlers WHERE name = $1", 1,
				      params, &res, err);
	if (r == FL_OK && PQntuples(res) == 0)
		r = fl_error_set(err, FL_NOT_FOUND, missing_fmt, name);
	else if (r == FL_OK)
		snprintf(state, 16, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

#define NO_ENTRY "Crawler entry with name %s does not exist"
#define NO_CRAWLER "Crawler with name %s does not exist"

static enum fl_result running_error(const char *name, struct fl_error *err)
{
	return fl_error_set_type(err, FL_IN_USE, "CrawlerRunningException",
				 "Crawler with name %s is running", name);
}

/* The operations below share one shape: parse, borrow a connection, act,
 * answer.  op_begin/op_end hold that frame. */
struct op {
	json_t *root;
	PGconn *conn;
	const char *name;
};

static enum fl_result op_begin(struct fl_req *req, struct op *o, bool named,
			       struct fl_error *err)
{
	memset(o, 0, sizeof *o);
	enum fl_result r = fl_awsjson_parse_glue(req, &o->root, err);
	if (r == FL_OK && named)
		r = name_of(o->root, &o->name, err);
	if (r == FL_OK)
		r = fl_db_acquire(req->srv->db, &o->conn, err);
	return r;
}

static enum fl_result op_end(struct fl_req *req, struct op *o, enum fl_result r, json_t *out,
			     struct fl_error *err)
{
	if (o->conn)
		fl_db_release(req->srv->db, o->conn);
	json_decref(o->root);
	if (r == FL_OK)
		return fl_awsjson_reply(req, JSON_COMPACT, out ? out : json_object(), err);
	json_decref(out);
	return r;
}

static enum fl_result create_crawler(struct fl_req *req, struct fl_error *err)
{
	struct op o;
	char *text = NULL;
	PGresult *res = NULL;
	enum fl_result r = op_begin(req, &o, true, err);
	if (r == FL_OK)
		r = check_spec(o.root, err);
	if (r == FL_OK) {
		json_t *spec = json_deep_copy(o.root);
		json_object_del(spec, "Name");
		text = json_dumps(spec, JSON_COMPACT);
		json_decref(spec);
		if (!text)
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	if (r == FL_OK) {
		char max[16];
		snprintf(max, sizeof max, "%d", MAX_CRAWLERS);
		const char *params[] = { o.name, text, max };
		r = fl_db_exec(o.conn,
			  "INSERT INTO fl_glue_crawlers (name, spec) SELECT $1, $2::jsonb "
			  "WHERE (SELECT count(*) FROM fl_glue_crawlers) < $3::int RETURNING 1",
			  3, params, &res, err);
		if (r == FL_EXISTS)
			r = fl_error_set(err, FL_EXISTS, "Crawler already exists.");
		else if (r == FL_OK && PQntuples(res) == 0)
			r = fl_error_set(err, FL_LIMIT, "Number of crawlers exceeds the limit of %d",
					 MAX_CRAWLERS);
	}
	PQclear(res);
	free(text);
	return op_end(req, &o, r, NULL, err);
}

static enum fl_result get_crawler(struct fl_req *req, struct fl_error *err)
{
	struct op o;
	PGresult *res = NULL;
	json_t *out = NULL;
	enum fl_result r = op_begin(req, &o, true, err);
	if (r == FL_OK)
		r = reap_stale(req->srv->crawlers, o.conn, o.name, err);
	if (r == FL_OK) {
		const char *params[] = { o.name };
		r = fl_db_exec(o.conn,
			       "SELECT " CRAWLER_COLUMNS " FROM fl_glue_crawlers WHERE name = $1",
			       1, params, &res, err);
	}
	if (r == FL_OK && PQntuples(res) == 0)
		r = fl_error_set(err, FL_NOT_FOUND, NO_ENTRY, o.name);
	if (r == FL_OK) {
		json_t *c = crawler_json(res, 0);
		out = c ? json_pack("{s:o}", "Crawler", c) : NULL;
	}
	PQclear(res);
	return op_end(req, &o, r, out, err);
}

/* A page of crawler rows: NextToken and MaxResults of the request (page
 * size at most max), then the rows after the token, by name. */
static enum fl_result page_of(struct op *o, const char *columns, const char *filter,
			      const char *filter_param, int max, PGresult **res, int *n,
			      struct fl_error *err)
{
	json_t *mr = json_object_get(o->root, "MaxResults");
	*n = mr ? (int)json_integer_value(mr) : PAGE_DEFAULT;
	if (*n > max)
		*n = max;
	if (*n < 1)
		*n = 1;
	const char *token = json_string_value(json_object_get(o->root, "NextToken"));
	char after[TOKEN_MAX];
	enum fl_result r = FL_OK;
	if (token && *token &&
	    (r = fl_catalog_token_decode(token, after, sizeof after, err)) != FL_OK)
		return r;
	char limit[16], sql[1024];
	snprintf(limit, sizeof limit, "%d", *n + 1);
	snprintf(sql, sizeof sql,
		 "SELECT %s FROM fl_glue_crawlers WHERE ($1::text IS NULL OR "
		 "name COLLATE \"C\" > $1 COLLATE \"C\") %s ORDER BY name COLLATE \"C\" LIMIT $2",
		 columns, filter ? filter : "");
	const char *params[] = { token && *token ? after : NULL, limit, filter_param };
	return fl_db_exec(o->conn, sql, filter ? 3 : 2, params, res, err);
}

/* Adds NextToken to out when the page has more rows than n. */
static enum fl_result next_token(PGresult *res, int n, json_t *out, struct fl_error *err)
{
	if (PQntuples(res) <= n)
		return FL_OK;
	char token[TOKEN_MAX];
	if (fl_catalog_token_encode(PQgetvalue(res, n - 1, 0), token, sizeof token) != FL_OK)
		return fl_error_set(err, FL_INTERNAL, "cannot encode a paging token");
	json_object_set_new(out, "NextToken", json_string(token));
	return FL_OK;
}

static enum fl_result get_crawlers(struct fl_req *req, struct fl_error *err)
{
	struct op o;
	PGresult *res = NULL;
	json_t *out = NULL, *list = json_array();
	int n = 0;
	enum fl_result r = op_begin(req, &o, false, err);
	if (r == FL_OK)
		r = reap_stale(req->srv->crawlers, o.conn, NULL, err);
	if (r == FL_OK)
		r = page_of(&o, CRAWLER_COLUMNS, NULL, NULL, 1000, &res, &n, err);
	for (int i = 0; r == FL_OK && i < PQntuples(res) && i < n; i++) {
		json_t *c = crawler_json(res, i);
		if (!c || json_array_append_new(list, c) != 0)
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	if (r == FL_OK) {
		out = json_pack("{s:O}", "Crawlers", list);
		r = next_token(res, n, out, err);
	}
	json_decref(list);
	PQclear(res);
	return op_end(req, &o, r, out, err);
}

static enum fl_result list_crawlers(struct fl_req *req, struct fl_error *err)
{
	struct op o;
	PGresult *res = NULL;
	json_t *out = NULL, *list = json_array();
	char *tags = NULL;
	int n = 0;
	enum fl_result r = op_begin(req, &o, false, err);
	json_t *t = o.root ? json_object_get(o.root, "Tags") : NULL;
	if (r == FL_OK && json_object_size(t))
		tags = json_dumps(t, JSON_COMPACT);
	if (r == FL_OK)
		r = page_of(&o, "name", tags ? "AND spec->'Tags' @> $3::jsonb" : NULL, tags,
			    LIST_PAGE_MAX, &res, &n, err);
	for (int i = 0; r == FL_OK && i < PQntuples(res) && i < n; i++)
		json_array_append_new(list, json_string(PQgetvalue(res, i, 0)));
	if (r == FL_OK) {
		out = json_pack("{s:O}", "CrawlerNames", list);
		r = next_token(res, n, out, err);
	}
	free(tags);
	json_decref(list);
	PQclear(res);
	return op_end(req, &o, r, out, err);
}

static enum fl_result get_crawler_metrics(struct fl_req *req, struct fl_error *err)
{
	struct op o;
	PGresult *res = NULL;
	json_t *out = NULL, *list = json_array();
	char *names = NULL;
	int n = 0;
	enum fl_result r = op_begin(req, &o, false, err);
	json_t *nl = o.root ? json_object_get(o.root, "CrawlerNameList") : NULL;
	if (r == FL_OK && nl)
		names = json_dumps(nl, JSON_COMPACT);
	if (r == FL_OK)
		r = reap_stale(req->srv->crawlers, o.conn, NULL, err);
	if (r == FL_OK)
		r = page_of(&o, "name, state, last_crawl::text, crawl_elapsed_ms, "
			    "CASE WHEN state <> 'READY' AND started_at IS NOT NULL THEN "
			    "(extract(epoch FROM clock_timestamp() - started_at) * 1000)::bigint "
			    "ELSE 0 END",
			    names ? "AND name IN (SELECT jsonb_array_elements_text($3::jsonb))" : NULL,
			    names, 1000, &res, &n, err);
	for (int i = 0; r == FL_OK && i < PQntuples(res) && i < n; i++) {
		json_t *m = metrics_json(res, i);
		if (!m || json_array_append_new(list, m) != 0)
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
	}
	if (r == FL_OK) {
		out = json_pack("{s:O}", "CrawlerMetricsList", list);
		r = next_token(res, n, out, err);
	}
	free(names);
	json_decref(list);
	PQclear(res);
	return op_end(req, &o, r, out, err);
}

static enum fl_result update_crawler(struct fl_req *req, struct fl_error *err)
{
	struct op o;
	char *text = NULL;
	PGresult *res = NULL;
	enum fl_result r = op_begin(req, &o, true, err);
	if (r == FL_OK)
		r = check_spec(o.root, err);
	if (r == FL_OK)
		r = reap_stale(req->srv->crawlers, o.conn, o.name, err);
	if (r == FL_OK) {
		json_t *patch = json_deep_copy(o.root);
		json_object_del(patch, "Name");
		text = json_dumps(patch, JSON_COMPACT);
		json_decref(patch);
		const char *params[] = { o.name, text ? text : "{}" };
		r = fl_db_exec(o.conn,
			  "UPDATE fl_glue_crawlers SET spec = spec || $2::jsonb, version = version + 1, "
			  "updated_at = now() WHERE name = $1 AND state = 'READY' RETURNING 1",
			  2, params, &res, err);
	}
	if (r == FL_OK && PQntuples(res) == 0) {
		char state[16];
		if ((r = state_of(o.conn, o.name, state, NO_ENTRY, err)) == FL_OK)
			r = running_error(o.name, err);
	}
	PQclear(res);
	free(text);
	return op_end(req, &o, r, NULL, err);
}

static enum fl_result delete_crawler(struct fl_req *req, struct fl_error *err)
{
	struct op o;
	PGresult *res = NULL;
	enum fl_result r = op_begin(req, &o, true, err);
	if (r == FL_OK)
		r = reap_stale(req->srv->crawlers, o.conn, o.name, err);
	if (r == FL_OK) {
		const char *params[] = { o.name };
		r = fl_db_exec(o.conn, "DELETE FROM fl_glue_crawlers "
			       "WHERE name = $1 AND state = 'READY' RETURNING 1",
			       1, params, &res, err);
	}
	if (r == FL_OK && PQntuples(res) == 0) {
		char state[16];
		if ((r = state_of(o.conn, o.name, state, NO_ENTRY, err)) == FL_OK)
			r = running_error(o.name, err);
	}
	PQclear(res);
	return op_end(req, &o, r, NULL, err);
}

/* Hands a crawler that StartCrawler set RUNNING to a thread of ours. */
static enum fl_result launch(struct fl_crawlers *cr, const char *name, PGresult *row,
			     struct fl_error *err)
{
	struct run *run = calloc(1, sizeof *run);
	if (!run)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	snprintf(run->name, sizeof run->name, "%s", name);
	run->owner = cr;
	run->spec = json_loads(PQgetvalue(row, 0, 0), 0, NULL);
	run->prev = PQgetisnull(row, 0, 1) ? NULL : json_loads(PQgetvalue(row, 0, 1), 0, NULL);
	run->start_ms = cr->srv->now_ms();
	uuid4(run->message_prefix);
	enum fl_result r = FL_OK;
	pthread_mutex_lock(&cr->mu);
	if (!run->spec)
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
	else if (cr->closing)
		r = fl_error_set(err, FL_UNAVAILABLE, "firelake is stopping");
	else if (pthread_create(&run->thread, NULL, run_main, run) != 0)
		r = fl_error_set(err, FL_INTERNAL, "cannot start a crawl thread");
	if (r == FL_OK) {
		run->next = cr->runs;
		cr->runs = run;
	}
	pthread_mutex_unlock(&cr->mu);
	if (r != FL_OK)
		run_free(run);
	return r;
}

static enum fl_result start_crawler(struct fl_req *req, struct fl_error *err)
{
	struct fl_crawlers *cr = req->srv->crawlers;
	struct op o;
	PGresult *res = NULL;
	enum fl_result r = op_begin(req, &o, true, err);
	if (r == FL_OK && !cr)
		r = fl_error_set(err, FL_UNAVAILABLE, "crawls cannot run: no crawl runner");
	if (r == FL_OK)
		r = reap_stale(cr, o.conn, o.name, err);
	if (r == FL_OK) {
		const char *params[] = { o.name, cr->runner };
		r = fl_db_exec(o.conn,
			  "UPDATE fl_glue_crawlers SET state = 'RUNNING', runner = $2, "
			  "heartbeat_at = now(), started_at = now() "
			  "WHERE name = $1 AND state = 'READY' RETURNING spec::text, last_crawl::text",
			  2, params, &res, err);
	}
	if (r == FL_OK && PQntuples(res) == 0) {
		char state[16];
		if ((r = state_of(o.conn, o.name, state, NO_CRAWLER, err)) == FL_OK)
			r = fl_error_set_type(err, FL_IN_USE, "CrawlerRunningException",
					      "Crawler with name %s has already started", o.name);
	} else if (r == FL_OK && (r = launch(cr, o.name, res, err)) != FL_OK) {
		/* Not started after all: give the row back. */
		const char *params[] = { o.name, cr->runner };
		struct fl_error e;
		if (fl_db_exec(o.conn, "UPDATE fl_glue_crawlers SET state = 'READY', runner = NULL, "
			       "heartbeat_at = NULL WHERE name = $1 AND runner = $2", 2, params, NULL,
			       &e) != FL_OK)
			fl_warn("crawler %s: cannot undo its start: %s", o.name, e.msg);
	}
	PQclear(res);
	return op_end(req, &o, r, NULL, err);
}

static enum fl_result stop_crawler(struct fl_req *req, struct fl_error *err)
{
	struct fl_crawlers *cr = req->srv->crawlers;
	struct op o;
	PGresult *res = NULL;
	enum fl_result r = op_begin(req, &o, true, err);
	if (r == FL_OK)
		r = reap_stale(cr, o.conn, o.name, err);
	if (r == FL_OK) {
		const char *params[] = { o.name };
		r = fl_db_exec(o.conn, "UPDATE fl_glue_crawlers SET state = 'STOPPING' "
			       "WHERE name = $1 AND state = 'RUNNING' RETURNING runner", 1, params, &res,
			       err);
	}
	if (r == FL_OK && PQntuples(res) == 0) {
		char state[16];
		if ((r = state_of(o.conn, o.name, state, NO_CRAWLER, err)) != FL_OK)
			;
		else if (strcmp(state, "STOPPING") == 0)
			r = fl_error_set_type(err, FL_INVALID, "CrawlerStoppingException",
					      "Crawler with name %s is stopping", o.name);
		else
			r = fl_error_set_type(err, FL_INVALID, "CrawlerNotRunningException",
					      "Crawler with name %s isn't running", o.name);
	} else if (r == FL_OK && cr && strcmp(PQgetvalue(res, 0, 0), cr->runner) == 0) {
		pthread_mutex_lock(&cr->mu);
		for (struct run *run = cr->runs; run; run = run->next)
			if (strcmp(run->name, o.name) == 0 && !atomic_load(&run->done))
				atomic_store(&run->stop, 1);
		pthread_mutex_unlock(&cr->mu);
	}
	PQclear(res);
	return op_end(req, &o, r, NULL, err);
}

fl_handler_fn fl_crawler_handler(const char *op)
{
	static const struct {
		const char *op;
		fl_handler_fn fn;
	} ops[] = {
		{ "CreateCrawler", create_crawler },
		{ "DeleteCrawler", delete_crawler },
		{ "GetCrawler", get_crawler },
		{ "GetCrawlerMetrics", get_crawler_metrics },
		{ "GetCrawlers", get_crawlers },
		{ "ListCrawlers", list_crawlers },
		{ "StartCrawler", start_crawler },
		{ "StopCrawler", stop_crawler },
		{ "UpdateCrawler", update_crawler },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(ops[i].op, op) == 0)
			return ops[i].fn;
	return NULL;
}
