/*
 * main.c - `firelake serve`: start the parts in order, stop them in reverse.
 *
 * Start: options -> data dir (locked: one process per WAL) -> PostgreSQL
 * (embedded unless --pg) -> catalog migrations -> storage -> streams and
 * their WALs -> delivery (queues what a previous run left in the WAL) ->
 * staged lake -> query engine ->
 * HTTP.  SIGINT/SIGTERM: stop HTTP (nothing new is acknowledged), seal and
 * deliver every buffer, stop PostgreSQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crawler.h"
#include "db.h"
#include "delivery.h"
#include "http.h"
#include "log.h"
#include "pgembed.h"
#include "query.h"
#include "server.h"
#include "stage.h"
#include "storage.h"
#include "stream.h"

#define FLUSH_DEADLINE_MS 60000

extern char **environ;

int64_t fl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firelake <command> [options]\n\n"
		"A data lake service: Kinesis Data Firehose ingest, a Glue catalog in\n"
		"PostgreSQL, Athena SQL.\n\n"
		"commands:\n"
		"  serve      run the service (firelake serve --help for its options)\n"
		"  version    print the version\n");
}

static int mkdirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Holds an exclusive lock on <data-dir>/firelake.lock for the life of the
 * process: two processes on one WAL would corrupt it. */
static int lock_data_dir(const char *dir, struct fl_error *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/firelake.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fl_error_set(err, FL_IO, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fl_error_set(err, FL_IN_USE, "%s is in use by another firelake process", dir);
		close(fd);
		return -1;
	}
	return fd;
}

static int serve(int argc, char **argv)
{
	struct fl_server *srv = calloc(1, sizeof *srv);
	struct fl_pgembed *pg = NULL;
	struct fl_http *http = NULL;
	struct fl_error err = { 0 };
	int lock_fd = -1, status = 1;
	sigset_t sigs;
	if (!srv) {
		fprintf(stderr, "firelake: out of memory\n");
		return 1;
	}
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: firelake serve [options]\n\noptions:\n");
			fl_config_usage(stdout);
			free(srv);
			return 0;
		}
	if (fl_config_parse(&srv->cfg, argc, argv, environ, &err) != FL_OK) {
		fprintf(stderr, "firelake: %s\n(see firelake serve --help)\n", err.msg);
		free(srv);
		return 2;
	}
	const struct fl_config *cfg = &srv->cfg;
	if (fl_config_check_exposure(cfg, &err) != FL_OK) {
		fprintf(stderr, "firelake: %s\n", err.msg);
		free(srv);
		return 2;
	}
	fl_log_set_level((enum fl_log_level)fl_log_level_parse(cfg->log_level));
	if (!cfg->access_keys[0] && cfg->allow_anonymous)
		fl_warn("--allow-anonymous: ANYONE WHO CAN REACH %s:%d CAN WRITE AND QUERY THE "
			"LAKE WITHOUT CREDENTIALS", cfg->listen_host, cfg->listen_port);
	srv->now_ms = fl_now_ms;
	snprintf(srv->region, sizeof srv->region, "%s", FL_REGION_DEFAULT);
	srv->budget.max_bytes = cfg->wal_budget_bytes;
	atomic_store(&srv->storage_ok, true);
	fl_metrics_init(&srv->metrics);

	/* Every connection is a descriptor (4,096 at most, http.c): take the
	 * hard limit rather than a shell's soft 1,024. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
			fl_warn("cannot raise the open-files limit: %s", strerror(errno));
	}

	/* Signals go to sigwait below, never to a worker thread. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (mkdirs(cfg->data_dir) != 0) {
		fl_error("cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
		goto out;
	}
	if ((lock_fd = lock_data_dir(cfg->data_dir, &err)) < 0) {
		fl_error("%s", err.msg);
		goto out;
	}
	snprintf(srv->wal_dir, sizeof srv->wal_dir, "%s/wal", cfg->data_dir);

	char conninfo[4096];
	if (cfg->pg[0]) {
		snprintf(conninfo, sizeof conninfo, "%s", cfg->pg);
	} else {
		char pgdir[4200];
		snprintf(pgdir, sizeof pgdir, "%s/pg", cfg->data_dir);
		fl_info("starting the embedded PostgreSQL in %s", pgdir);
		if (fl_pgembed_start(pgdir, &pg, conninfo, sizeof conninfo, &err) != FL_OK) {
			fl_error("embedded PostgreSQL: %s", err.msg);
			goto out;
		}
	}
	/* + per query worker its statement and two staging connections, and
	 * the engine's monitor (connections open lazily: a bound, not a cost) */
	if (fl_db_open(conninfo, cfg->http_threads + cfg->delivery_threads +
		       3 * cfg->query_threads + 5, &srv->db, &err) != FL_OK) {
		fl_error("catalog: %s", err.msg);
		goto out;
	}
	const struct fl_storage_options sopt = {
		.s3_endpoint = cfg->s3_endpoint,
		.s3_region = cfg->s3_region,
		.s3_virtual_hosted = cfg->s3_virtual_hosted,
		.s3_part_size = cfg->s3_part_size,
	};
	if (fl_storage_open(cfg->storage, &sopt, &srv->storage, &err) != FL_OK) {
		fl_error("storage %s: %s", cfg->storage, err.msg);
		goto out;
	}
	if (fl_streams_new(srv, &srv->streams, &err) != FL_OK ||
	    fl_streams_load(srv->streams, &err) != FL_OK) {
		fl_error("delivery streams: %s", err.msg);
		goto out;
	}
	if (fl_delivery_start(srv, cfg->delivery_threads, &srv->delivery, &err) != FL_OK) {
		fl_error("delivery: %s", err.msg);
		goto out;
	}
	if (fl_stage_new(srv, cfg->stage_budget_bytes, &srv->stage, &err) != FL_OK) {
		fl_error("staged lake: %s", err.msg);
		goto out;
	}
	if (fl_query_engine_new(srv, cfg->query_threads, &srv->query, &err) != FL_OK) {
		fl_error("query engine: %s", err.msg);
		goto out;
	}
	if (fl_crawlers_new(srv, &srv->crawlers, &err) != FL_OK) {
		fl_error("crawlers: %s", err.msg);
		goto out;
	}
	if (fl_http_start(srv, cfg->listen_host, cfg->listen_port, cfg->http_threads, &http,
			  &err) != FL_OK) {
		fl_error("http: %s", err.msg);
		goto out;
	}
	fl_info("firelake listening on %s://%s:%d (data %s, storage %s%s)",
		cfg->tls_cert[0] ? "https" : "http", cfg->listen_host, cfg->listen_port,
		cfg->data_dir, cfg->storage, cfg->access_keys[0] ? ", SigV4 keys required" : "");

	int sig = 0;
	sigwait(&sigs, &sig);
	fl_info("%s: stopping; flushing buffered records", sig == SIGINT ? "SIGINT" : "SIGTERM");
	status = 0;
out:
	fl_http_stop(http);
	fl_crawlers_free(srv->crawlers);
	fl_query_engine_free(srv->query);
	/* The stage outlives delivery: its last deliveries still enqueue. */
	fl_delivery_stop(srv->delivery, FLUSH_DEADLINE_MS);
	fl_stage_free(srv->stage);
	fl_streams_free(srv->streams);
	fl_storage_free(srv->storage);
	fl_db_free(srv->db);
	fl_pgembed_stop(pg);
	fl_metrics_free(&srv->metrics);
	if (lock_fd >= 0)
		close(lock_fd);
	free(srv);
	if (status == 0)
		fl_info("stopped");
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("firelake %s\n", FIRELAKE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	fprintf(stderr, "firelake: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
