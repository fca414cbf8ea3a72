/*
 * test_db.c - the embedded cluster (pgembed.c) and the catalog pool (db.c)
 * against a real PostgreSQL.
 *
 * The tests share one cluster and run in order: first start (initdb),
 * migrations, statements and result mapping, identifiers, the pool, then
 * the restart paths: a clean stop and start, PostgreSQL going away under
 * open connections, a firelake killed with -9 (its postmaster is reused),
 * a postmaster killed with -9 (stale postmaster.pid), and a directory too
 * deep for a unix socket path.  After every stop no postmaster is left.
 *
 * The cluster lives in <tmp>/locked/pg with <tmp>/locked mode 0700: as root,
 * the start must open that ancestor for the postgres user (search only).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "pgembed.h"

static char tmp[PATH_MAX];    /* mkdtemp, removed at the end */
static char pgdir[PATH_MAX];  /* <tmp>/locked/pg, later moved deeper */
static char conninfo[1024];
static struct fl_pgembed *pg;
static struct fl_db *db;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pidfile_path(char *out, size_t n)
{
	snprintf(out, n, "%s/data/postmaster.pid", pgdir);
}

/* The postmaster's pid from postmaster.pid, 0 when there is none. */
static pid_t postmaster_pid(void)
{
	char p[PATH_MAX + 32];
	pidfile_path(p, sizeof p);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	long pid = 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* Alive and not a zombie (a zombie under a non-reaping pid 1 is gone). */
static bool process_alive(pid_t pid)
{
	if (pid <= 0 || kill(pid, 0) < 0)
		return false;
	char p[64], buf[512];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

static void start_pg(const char *what)
{
	struct fl_error err = { 0 };
	double t0 = now_s();
	enum fl_result r = fl_pgembed_start(pgdir, &pg, conninfo, sizeof conninfo, &err);
	if (r != FL_OK)
		fail_msg("fl_pgembed_start: %s", err.msg);
	print_message("TIMING %s: %.3f s\n", what, now_s() - t0);
}

/* Stops, then checks that no postmaster is left. */
static void stop_pg(void)
{
	pid_t pid = postmaster_pid();
	assert_true(pid > 0);
	fl_pgembed_stop(pg);
	pg = NULL;
	char p[PATH_MAX + 32];
	pidfile_path(p, sizeof p);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_false(process_alive(pid));
}

static long long count_migrations(struct fl_db *d)
{
	PGconn *c;
	PGresult *res;
	struct fl_error err;
	assert_int_equal(fl_db_acquire(d, &c, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "SELECT count(*) FROM fl_schema_migrations", 0, NULL,
				    &res, &err), FL_OK);
	long long n = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	fl_db_release(d, c);
	return n;
}

/* One value from one statement on a pooled connection. */
static void query1(struct fl_db *d, const char *sql, char *out, size_t n)
{
	PGconn *c;
	PGresult *res;
	struct fl_error err = { 0 };
	assert_int_equal(fl_db_acquire(d, &c, &err), FL_OK);
	if (fl_db_exec(c, sql, 0, NULL, &res, &err) != FL_OK)
		fail_msg("%s: %s", sql, err.msg);
	snprintf(out, n, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	fl_db_release(d, c);
}

/* ---- tests -------------------------------------------------------------- */

static void test_first_start(void **state)
{
	(void)state;
	start_pg("first start (initdb)");
	char want[PATH_MAX + 16];
	snprintf(want, sizeof want, "host='%s/run'", pgdir);
	assert_non_null(strstr(conninfo, want));
	assert_non_null(strstr(conninfo, "dbname='firelake'"));
	if (geteuid() == 0) {
		/* The 0700 root-owned ancestor was opened for search only. */
		char locked[PATH_MAX + 8];
		struct stat st;
		snprintf(locked, sizeof locked, "%s/locked", tmp);
		assert_int_equal(stat(locked, &st), 0);
		assert_true(st.st_mode & S_IXOTH);
		assert_false(st.st_mode & S_IROTH);
		assert_false(st.st_mode & S_IWOTH);
	}
	struct fl_error err;
	assert_int_equal(fl_db_open(conninfo, 4, &db, &err), FL_OK);
	/* firelake.conf is in effect: no TCP, durable, UTC, checksums. */
	char v[256];
	query1(db, "SELECT concat_ws(',', current_setting('listen_addresses'), "
		   "current_setting('fsync'), current_setting('timezone'), "
		   "current_setting('data_checksums'), current_setting('shared_buffers'), "
		   "current_setting('max_connections'), current_setting('server_encoding'), "
		   "current_setting('lc_collate'))", v, sizeof v);
	assert_string_equal(v, ",on,UTC,on,128MB,100,UTF8,C");
}

static void test_migrations_once(void **state)
{
	(void)state;
	char before[128], after[128];
	assert_int_equal(count_migrations(db), (long long)fl_migration_count);
	query1(db, "SELECT max(applied_at)::text FROM fl_schema_migrations", before,
	       sizeof before);
	/* A second open (another node, or a restart) applies nothing again. */
	struct fl_db *again;
	struct fl_error err;
	assert_int_equal(fl_db_open(conninfo, 1, &again, &err), FL_OK);
	assert_int_equal(count_migrations(again), (long long)fl_migration_count);
	query1(again, "SELECT max(applied_at)::text FROM fl_schema_migrations", after,
	       sizeof after);
	assert_string_equal(before, after);
	fl_db_free(again);
}

static void test_exec_params(void **state)
{
	(void)state;
	PGconn *c;
	PGresult *res;
	struct fl_error err;
	assert_int_equal(fl_db_acquire(db, &c, &err), FL_OK);
	const char *p[] = { "2", "3", NULL, "it's \"quoted\"; drop table x; --" };
	assert_int_equal(fl_db_exec(c, "SELECT $1::int + $2::int, $3::text IS NULL, $4::text, "
				    "current_setting('application_name')", 4, p, &res, &err),
			 FL_OK);
	assert_string_equal(PQgetvalue(res, 0, 0), "5");
	assert_string_equal(PQgetvalue(res, 0, 1), "t");
	assert_string_equal(PQgetvalue(res, 0, 2), p[3]);
	assert_string_equal(PQgetvalue(res, 0, 3), "firelake");
	PQclear(res);
	/* res may be NULL when the rows are not wanted */
	assert_int_equal(fl_db_exec(c, "SELECT 1", 0, NULL, NULL, &err), FL_OK);
	fl_db_release(db, c);
}

static void test_result_mapping(void **state)
{
	(void)state;
	PGconn *c;
	PGresult *res = (PGresult *)1;
	struct fl_error err;
	assert_int_equal(fl_db_acquire(db, &c, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "CREATE TEMP TABLE t_unique (id int PRIMARY KEY)", 0,
				    NULL, NULL, &err), FL_OK);
	const char *one[] = { "1" };
	assert_int_equal(fl_db_exec(c, "INSERT INTO t_unique VALUES ($1)", 1, one, NULL, &err),
			 FL_OK);
	assert_int_equal(fl_db_exec(c, "INSERT INTO t_unique VALUES ($1)", 1, one, &res, &err),
			 FL_EXISTS);
	assert_null(res);
	assert_int_equal(err.code, FL_EXISTS);
	assert_non_null(strstr(err.msg, "duplicate key"));
	assert_int_equal(fl_db_exec(c, "SELEC 1", 0, NULL, NULL, &err), FL_INTERNAL);
	assert_non_null(strstr(err.msg, "syntax error"));
	assert_int_equal(fl_db_exec(c, "SELECT * FROM no_such_table", 0, NULL, NULL, &err),
			 FL_INTERNAL);
	assert_non_null(strstr(err.msg, "no_such_table"));
	/* The server ending our session is "unavailable" (57P01 or a lost
	 * connection, depending on who notices first). */
	assert_int_equal(fl_db_exec(c, "SELECT pg_terminate_backend(pg_backend_pid())", 0,
				    NULL, NULL, &err), FL_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "PostgreSQL is unavailable: "));
	fl_db_release(db, c);
	/* The broken connection is reset by the next borrower. */
	char v[16];
	query1(db, "SELECT 42", v, sizeof v);
	assert_string_equal(v, "42");
	/* A connection returned inside a transaction comes back clean. */
	assert_int_equal(fl_db_acquire(db, &c, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "BEGIN", 0, NULL, NULL, &err), FL_OK);
	fl_db_release(db, c);
	for (int i = 0; i < 4; i++) {
		PGconn *cs[4];
		for (int j = 0; j < 4; j++)
			assert_int_equal(fl_db_acquire(db, &cs[j], &err), FL_OK);
		for (int j = 0; j < 4; j++) {
			assert_int_equal(PQtransactionStatus(cs[j]), PQTRANS_IDLE);
			fl_db_release(db, cs[j]);
		}
	}
}

static void test_ident(void **state)
{
	(void)state;
	char max[256], over[257];
	memset(max, 'a', 255);
	max[255] = '\0';
	memset(over, 'a', 256);
	over[256] = '\0';
	static const struct {
		const char *name;
		const char *quoted; /* NULL: rejected */
	} cases[] = {
		{ "events", "\"events\"" },
		{ "a", "\"a\"" },
		{ "payment_order_2024", "\"payment_order_2024\"" },
		{ "select", "\"select\"" },
		{ "1abc", "\"1abc\"" },
		{ "_", "\"_\"" },
		{ "", NULL },
		{ "Events", NULL },
		{ "x\"; drop table y; --", NULL },
		{ "a-b", NULL },
		{ "a b", NULL },
		{ "a.b", NULL },
		{ "\xc3\xa9t\xc3\xa9", NULL },
		{ "tab\t", NULL },
	};
	PGconn *c;
	struct fl_error err;
	assert_int_equal(fl_db_acquire(db, &c, &err), FL_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int with_conn = 0; with_conn < 2; with_conn++) {
			struct fl_buf b;
			fl_buf_init(&b, 1024);
			enum fl_result r = fl_db_ident(with_conn ? c : NULL, cases[i].name, &b,
						       &err);
			if (cases[i].quoted) {
				assert_int_equal(r, FL_OK);
				assert_string_equal(b.data, cases[i].quoted);
			} else {
				assert_int_equal(r, FL_INVALID);
				assert_non_null(strstr(err.msg, "invalid identifier"));
				assert_true(b.len == 0);
			}
			fl_buf_free(&b);
		}
	}
	struct fl_buf b;
	fl_buf_init(&b, 1024);
	assert_int_equal(fl_db_ident(c, max, &b, &err), FL_OK);
	assert_int_equal(b.len, 257);
	fl_buf_reset(&b);
	assert_int_equal(fl_db_ident(c, over, &b, &err), FL_INVALID);
	assert_int_equal(fl_db_ident(c, NULL, &b, &err), FL_INVALID);
	fl_buf_free(&b);
	/* The buffer's maximum holds. */
	fl_buf_init(&b, 4);
	assert_int_equal(fl_db_ident(c, "events", &b, &err), FL_TOO_LARGE);
	fl_buf_free(&b);
	/* A quoted name works in a statement. */
	fl_buf_init(&b, 1024);
	assert_int_equal(fl_buf_adds(&b, "CREATE TEMP TABLE "), FL_OK);
	assert_int_equal(fl_db_ident(c, "select", &b, &err), FL_OK);
	assert_int_equal(fl_buf_adds(&b, " (x int)"), FL_OK);
	assert_int_equal(fl_db_exec(c, b.data, 0, NULL, NULL, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "DROP TABLE \"select\"", 0, NULL, NULL, &err), FL_OK);
	fl_buf_free(&b);
	fl_db_release(db, c);
}

struct worker {
	struct fl_db *db;
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 100; i++) {
		PGconn *c;
		PGresult *res;
		struct fl_error err;
		char v[16];
		snprintf(v, sizeof v, "%d", i);
		const char *p[] = { v };
		if (fl_db_acquire(w->db, &c, &err) != FL_OK) {
			w->errors++;
			continue;
		}
		if (fl_db_exec(c, "SELECT $1::int * 2", 1, p, &res, &err) != FL_OK ||
		    atoi(PQgetvalue(res, 0, 0)) != 2 * i)
			w->errors++;
		else
			PQclear(res);
		fl_db_release(w->db, c);
	}
	return NULL;
}

static void test_pool(void **state)
{
	(void)state;
	struct fl_db *small;
	struct fl_error err;
	assert_int_equal(fl_db_open(conninfo, 2, &small, &err), FL_OK);
	assert_true(fl_db_ping(small));
	/* Exhausted: ping gives up after about a second. */
	PGconn *a, *b;
	assert_int_equal(fl_db_acquire(small, &a, &err), FL_OK);
	assert_int_equal(fl_db_acquire(small, &b, &err), FL_OK);
	assert_ptr_not_equal(a, b);
	double t0 = now_s();
	assert_false(fl_db_ping(small));
	double waited = now_s() - t0;
	assert_true(waited >= 0.9 && waited < 2.0);
	fl_db_release(small, a);
	assert_true(fl_db_ping(small));
	fl_db_release(small, b);
	/* 4 threads share 2 connections. */
	pthread_t th[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ small, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	char v[16];
	query1(small, "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
		      "'firelake' AND backend_type = 'client backend'", v, sizeof v);
	assert_true(atoi(v) >= 2); /* db's connections and small's 2 */
	fl_db_free(small);
	struct fl_db *bad = (struct fl_db *)1;
	assert_int_equal(fl_db_open(conninfo, 0, &bad, &err), FL_INVALID);
	assert_null(bad);
}

static void test_postgres_down_and_restart(void **state)
{
	(void)state;
	PGconn *c;
	struct fl_error err;
	assert_int_equal(fl_db_acquire(db, &c, &err), FL_OK);
	stop_pg();
	/* Open connections see "unavailable", and so do new ones. */
	assert_int_equal(fl_db_exec(c, "SELECT 1", 0, NULL, NULL, &err), FL_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "PostgreSQL is unavailable: "));
	fl_db_release(db, c);
	assert_false(fl_db_ping(db));
	assert_int_equal(fl_db_acquire(db, &c, &err), FL_UNAVAILABLE);
	struct fl_db *none = (struct fl_db *)1;
	assert_int_equal(fl_db_open(conninfo, 1, &none, &err), FL_UNAVAILABLE);
	assert_null(none);

	start_pg("restart (clean stop before)");
	assert_true(fl_db_ping(db));
	char v[16];
	query1(db, "SELECT 7", v, sizeof v);
	assert_string_equal(v, "7");
	assert_int_equal(count_migrations(db), (long long)fl_migration_count);
}

/* A firelake killed with -9 leaves its postmaster running: the next start
 * reuses it, and stopping stops it. */
static void test_firelake_killed(void **state)
{
	(void)state;
	fl_db_free(db);
	db = NULL;
	stop_pg();

	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct fl_pgembed *mine;
		struct fl_error err;
		char ci[1024];
		close(ready[0]);
		if (fl_pgembed_start(pgdir, &mine, ci, sizeof ci, &err) != FL_OK)
			_exit(1);
		if (write(ready[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char k;
	assert_int_equal(read(ready[0], &k, 1), 1);
	close(ready[0]);
	pid_t orphan = postmaster_pid();
	assert_true(orphan > 0);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_true(process_alive(orphan));

	/* Same directory again: refused while the other firelake lives would
	 * be FL_IN_USE; it is dead, so its postmaster is adopted. */
	start_pg("start reusing the postmaster of a killed firelake");
	assert_int_equal(postmaster_pid(), orphan);
	struct fl_error err;
	assert_int_equal(fl_db_open(conninfo, 4, &db, &err), FL_OK);
	assert_true(fl_db_ping(db));

	/* A second firelake on the same directory is refused. */
	pid_t second = fork();
	if (second == 0) {
		struct fl_pgembed *mine = NULL;
		char ci[1024];
		enum fl_result r = fl_pgembed_start(pgdir, &mine, ci, sizeof ci, &err);
		_exit(r == FL_IN_USE ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(second, &status, 0), second);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(fl_db_ping(db)); /* the refused start left the cluster alone */
	assert_int_equal(postmaster_pid(), orphan);

	fl_db_free(db);
	db = NULL;
	stop_pg();
	assert_false(process_alive(orphan));
}

/* The postmaster itself killed with -9: a stale postmaster.pid, and crash
 * recovery at the next start. */
static void test_postmaster_killed(void **state)
{
	(void)state;
	start_pg("start after a clean stop");
	struct fl_error err;
	assert_int_equal(fl_db_open(conninfo, 2, &db, &err), FL_OK);
	PGconn *c;
	assert_int_equal(fl_db_acquire(db, &c, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "CREATE TABLE IF NOT EXISTS t_durable (x int)", 0, NULL,
				    NULL, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "INSERT INTO t_durable VALUES (1)", 0, NULL, NULL, &err),
			 FL_OK);
	fl_db_release(db, c);

	pid_t pm = postmaster_pid();
	assert_int_equal(kill(pm, SIGKILL), 0);
	fl_pgembed_stop(pg); /* reaps it; the pid file stays behind */
	pg = NULL;
	assert_false(process_alive(pm));
	char p[PATH_MAX + 32];
	pidfile_path(p, sizeof p);
	assert_int_equal(access(p, F_OK), 0);

	start_pg("start over a stale postmaster.pid (crash recovery)");
	assert_int_not_equal(postmaster_pid(), pm);
	char v[16];
	query1(db, "SELECT count(*) FROM t_durable", v, sizeof v);
	assert_string_equal(v, "1");
	assert_int_equal(fl_db_acquire(db, &c, &err), FL_OK);
	assert_int_equal(fl_db_exec(c, "DROP TABLE t_durable", 0, NULL, NULL, &err), FL_OK);
	fl_db_release(db, c);
}

/* A directory too deep for a socket path gets a socket directory in /tmp,
 * removed at stop. */
static void test_long_path(void **state)
{
	(void)state;
	fl_db_free(db);
	db = NULL;
	stop_pg();
	char deep[PATH_MAX + 128], moved[PATH_MAX + 132];
	snprintf(deep, sizeof deep, "%s/locked/%0100d", tmp, 0);
	assert_int_equal(mkdir(deep, 0755), 0);
	snprintf(moved, sizeof moved, "%s/pg", deep);
	assert_true(strlen(moved) < sizeof pgdir);
	assert_int_equal(rename(pgdir, moved), 0);
	memcpy(pgdir, moved, strlen(moved) + 1);

	start_pg("restart in a deep directory");
	const char *host = strstr(conninfo, "host='/tmp/firelake-pg-");
	assert_non_null(host);
	char sockdir[256];
	snprintf(sockdir, sizeof sockdir, "%s", host + strlen("host='"));
	sockdir[strcspn(sockdir, "'")] = '\0';
	struct stat st;
	assert_int_equal(stat(sockdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	struct fl_error err;
	assert_int_equal(fl_db_open(conninfo, 1, &db, &err), FL_OK);
	assert_int_equal(count_migrations(db), (long long)fl_migration_count);
	fl_db_free(db);
	db = NULL;
	stop_pg();
	assert_int_not_equal(stat(sockdir, &st), 0);
}

/* ---- fixture ------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/fl-test-db-XXXXXX");
	if (!mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return -1;
	char locked[PATH_MAX + 8];
	snprintf(locked, sizeof locked, "%s/locked", tmp);
	if (mkdir(locked, 0700) < 0)
		return -1;
	if (snprintf(pgdir, sizeof pgdir, "%s/pg", locked) >= (int)sizeof pgdir)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fl_db_free(db);
	db = NULL;
	if (pg) {
		fl_pgembed_stop(pg);
		pg = NULL;
	}
	if (tmp[0] && !getenv("FL_TEST_KEEP"))
		nftw(tmp, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_start),
		cmocka_unit_test(test_migrations_once),
		cmocka_unit_test(test_exec_params),
		cmocka_unit_test(test_result_mapping),
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_postgres_down_and_restart),
		cmocka_unit_test(test_firelake_killed),
		cmocka_unit_test(test_postmaster_killed),
		cmocka_unit_test(test_long_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
