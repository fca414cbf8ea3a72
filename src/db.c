/*
 * db.c - PostgreSQL connections of the catalog, and its migrations.
 *
 * DESIGN
 *
 * The pool is a stack of idle connections plus a count of the connections
 * that exist (idle, borrowed, or being opened), under one mutex; a condition
 * variable wakes borrowers when a connection is returned or a slot frees.
 * Connections are opened lazily, outside the lock, up to `size`.  Every
 * connection carries fallback_application_name=firelake and
 * client_encoding=UTF8.  Connecting and resetting use libpq's non-blocking
 * API with a deadline (FL_DB_CONNECT_TIMEOUT_MS), so an unreachable server
 * costs a bounded wait and answers FL_UNAVAILABLE.
 *
 * A borrowed connection that broke (PQstatus != CONNECTION_OK) goes back to
 * the pool as it is and is reset by the next borrower; if the reset fails
 * it is closed and its slot freed.  A connection returned inside a
 * transaction is rolled back (that is a caller bug, and is logged); one
 * returned in the middle of a query or COPY is closed.  Session state
 * (SET, temporary tables, LISTEN) is NOT cleared between borrowers:
 * borrowers must not leave any behind.
 *
 * Result mapping (fl_db_exec, and the migrations):
 *   23505 unique_violation                       -> FL_EXISTS
 *   40001 serialization, 40P01 deadlock          -> FL_RETRY
 *   connection bad after the call, class 08,
 *   57P01..57P03 (admin/crash shutdown, starting) -> FL_UNAVAILABLE
 *   anything else                                -> FL_INTERNAL
 * with the server's primary message as the text.
 *
 * Migrations run at fl_db_open on one connection under a session advisory
 * lock (FL_DB_MIGRATION_LOCK), so that nodes starting together apply each
 * migration once: the others wait, then find it recorded.  Each missing
 * migration runs in its own transaction together with its row in
 * fl_schema_migrations, so a failed one leaves no trace and is tried again
 * at the next start.  A migration file therefore must not contain
 * transaction control or statements that cannot run in a transaction
 * (CREATE INDEX CONCURRENTLY, CREATE DATABASE).
 */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"

#define FL_DB_CONNECT_TIMEOUT_MS 10000
#define FL_DB_PING_WAIT_MS 1000
#define FL_DB_PING_TIMEOUT_MS 1000
#define FL_DB_IDENT_MAX 255
/* pg_advisory_lock key of the migrations: "firelake" as a big-endian int8 */
#define FL_DB_MIGRATION_LOCK "7379555244358855525"

struct fl_db {
	char *conninfo;       /* immutable */
	int size;             /* immutable: most connections at once */
	pthread_mutex_t mu;
	pthread_cond_t cv;    /* a connection came back or a slot freed */
	PGconn **idle;        /* mu: idle connections, a stack of nidle */
	int nidle;            /* mu */
	int open;             /* mu: connections idle, borrowed or being opened */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line of a libpq message, for short error texts. */
static const char *first_line(const char *msg, char *out, size_t n)
{
	if (!msg || !*msg)
		msg = "unknown error";
	size_t len = strcspn(msg, "\n");
	if (len >= n)
		len = n - 1;
	memcpy(out, msg, len);
	out[len] = '\0';
	return out;
}

static bool is_connection_state(const char *state)
{
	return state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
			 strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

/* Maps a result (NULL: libpq could not even build one) to a code. */
static enum fl_result map_result(PGconn *conn, const PGresult *res, struct fl_error *err)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	switch (st) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
	case PGRES_COPY_IN:
	case PGRES_COPY_OUT:
	case PGRES_COPY_BOTH:
	case PGRES_SINGLE_TUPLE:
		return FL_OK;
	default:
		break;
	}
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char line[200];
	if (!primary)
		primary = first_line(res ? PQresultErrorMessage(res) : NULL, line, sizeof line);
	if (!*primary)
		primary = first_line(PQerrorMessage(conn), line, sizeof line);
	if (PQstatus(conn) != CONNECTION_OK || is_connection_state(state))
		return fl_error_set(err, FL_UNAVAILABLE, "PostgreSQL is unavailable: %s",
				    primary);
	if (state && strcmp(state, "23505") == 0)
		return fl_error_set(err, FL_EXISTS, "%s", primary);
	if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		return fl_error_set(err, FL_RETRY, "%s", primary);
	return fl_error_set(err, FL_INTERNAL, "%s", primary);
}

enum fl_result fl_db_exec(PGconn *conn, const char *sql, int nparams,
			  const char *const *params, PGresult **res,
			  struct fl_error *err)
{
	if (res)
		*res = NULL;
	PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	enum fl_result code = map_result(conn, r, err);
	if (code == FL_OK && res)
		*res = r;
	else
		PQclear(r);
	return code;
}

/* ---- connections -------------------------------------------------------- */

/* Drives PQconnectPoll / PQresetPoll until done or the deadline. */
static bool poll_connect(PGconn *c, bool reset, long long deadline)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	for (;;) {
		if (st == PGRES_POLLING_OK)
			return true;
		if (st == PGRES_POLLING_FAILED)
			return false;
		long long left = deadline - now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { PQsocket(c),
				    st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0 };
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return false;
		if (n <= 0)
			continue;
		st = reset ? PQresetPoll(c) : PQconnectPoll(c);
	}
}

/* Server notices ("relation already exists, skipping" ...) are not errors:
 * they go to the debug log rather than to stderr. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	char line[200];
	fl_debug("PostgreSQL: %s", first_line(message, line, sizeof line));
}

/* An idle connection has nothing to read unless the server spoke: a
 * shutdown message, an end of file (server gone), a notification.  Reading
 * it marks a dead connection CONNECTION_BAD before anyone sends a query on
 * it.  One poll(2), no round trip. */
static void notice_hangup(PGconn *c)
{
	/* A server that shuts down sends a FATAL message, then closes: the
	 * first read takes the message, the next one sees the end. */
	for (int i = 0; i < 8 && PQstatus(c) == CONNECTION_OK; i++) {
		struct pollfd p = { PQsocket(c), POLLIN, 0 };
		if (p.fd < 0 || poll(&p, 1, 0) <= 0 || !PQconsumeInput(c))
			break;
	}
}

static enum fl_result db_connect(const struct fl_db *db, long long deadline, PGconn **out,
				 struct fl_error *err)
{
	static const char *const keys[] = { "dbname", "fallback_application_name",
					    "client_encoding", NULL };
	const char *const vals[] = { db->conninfo, "firelake", "UTF8", NULL };
	char line[200];
	*out = NULL;
	PGconn *c = PQconnectStartParams(keys, vals, 1);
	if (!c)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	if (PQstatus(c) == CONNECTION_BAD || !poll_connect(c, false, deadline)) {
		enum fl_result r = fl_error_set(err, FL_UNAVAILABLE,
						"PostgreSQL is unavailable: %s",
						PQstatus(c) == CONNECTION_OK ||
						*PQerrorMessage(c) == '\0'
							? "connection timed out"
							: first_line(PQerrorMessage(c), line,
								     sizeof line));
		PQfinish(c);
		return r;
	}
	PQsetNoticeProcessor(c, on_notice, NULL);
	*out = c;
	return FL_OK;
}

static enum fl_result db_reset(PGconn *c, long long deadline, struct fl_error *err)
{
	char line[200];
	if (PQresetStart(c) && poll_connect(c, true, deadline))
		return FL_OK;
	return fl_error_set(err, FL_UNAVAILABLE, "PostgreSQL is unavailable: %s",
			    *PQerrorMessage(c) ? first_line(PQerrorMessage(c), line, sizeof line)
					       : "connection timed out");
}

/* Closes a borrowed connection and frees its slot. */
static void discard(struct fl_db *db, PGconn *c)
{
	PQfinish(c);
	pthread_mutex_lock(&db->mu);
	db->open--;
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
}

/* Borrows a connection; waits for one until wait_deadline (-1: forever),
 * then gives connecting or resetting connect_ms. */
static enum fl_result acquire(struct fl_db *db, long long wait_deadline, long connect_ms,
			      PGconn **conn, struct fl_error *err)
{
	PGconn *c = NULL;
	enum fl_result r = FL_OK;
	*conn = NULL;

	pthread_mutex_lock(&db->mu);
	while (db->nidle == 0 && db->open >= db->size) {
		if (wait_deadline < 0) {
			pthread_cond_wait(&db->cv, &db->mu);
			continue;
		}
		struct timespec ts = { (time_t)(wait_deadline / 1000),
				       (long)(wait_deadline % 1000) * 1000000L };
		if (pthread_cond_timedwait(&db->cv, &db->mu, &ts) == ETIMEDOUT &&
		    db->nidle == 0 && db->open >= db->size) {
			pthread_mutex_unlock(&db->mu);
			return fl_error_set(err, FL_UNAVAILABLE,
					    "all %d PostgreSQL connections are busy", db->size);
		}
	}
	if (db->nidle > 0)
		c = db->idle[--db->nidle];
	else
		db->open++; /* the slot is ours; connect outside the lock */
	pthread_mutex_unlock(&db->mu);

	long long deadline = now_ms() + connect_ms;
	if (!c) {
		r = db_connect(db, deadline, &c, err);
		if (r != FL_OK) {
			pthread_mutex_lock(&db->mu);
			db->open--;
			pthread_cond_signal(&db->cv);
			pthread_mutex_unlock(&db->mu);
			return r;
		}
	} else {
		if (PQstatus(c) == CONNECTION_OK)
			notice_hangup(c);
		if (PQstatus(c) != CONNECTION_OK) {
			r = db_reset(c, deadline, err);
			if (r != FL_OK) {
				discard(db, c);
				return r;
			}
			fl_info("PostgreSQL connection re-established");
		}
	}
	*conn = c;
	return FL_OK;
}

enum fl_result fl_db_acquire(struct fl_db *db, PGconn **conn, struct fl_error *err)
{
	return acquire(db, -1, FL_DB_CONNECT_TIMEOUT_MS, conn, err);
}

void fl_db_release(struct fl_db *db, PGconn *conn)
{
	if (!conn)
		return;
	switch (PQtransactionStatus(conn)) {
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR: {
		fl_warn("a PostgreSQL connection came back inside a transaction: rolled back");
		PQclear(PQexec(conn, "ROLLBACK"));
		if (PQtransactionStatus(conn) != PQTRANS_IDLE &&
		    PQstatus(conn) == CONNECTION_OK) {
			discard(db, conn);
			return;
		}
		break;
	}
	case PQTRANS_ACTIVE: /* a query or COPY still in progress */
		discard(db, conn);
		return;
	default: /* idle, or broken (PQTRANS_UNKNOWN): the next borrower resets it */
		break;
	}
	pthread_mutex_lock(&db->mu);
	if (db->nidle >= db->open) { /* released twice: a caller bug */
		pthread_mutex_unlock(&db->mu);
		fl_error("a PostgreSQL connection was returned to the pool twice");
		return;
	}
	db->idle[db->nidle++] = conn;
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
}

/* ---- migrations --------------------------------------------------------- */

static enum fl_result exec0(PGconn *c, const char *sql, struct fl_error *err)
{
	return fl_db_exec(c, sql, 0, NULL, NULL, err);
}

static bool applied(const PGresult *done, const char *name)
{
	for (int i = 0; i < PQntuples(done); i++)
		if (strcmp(PQgetvalue(done, i, 0), name) == 0)
			return true;
	return false;
}

static bool known(const char *name)
{
	for (unsigned i = 0; i < fl_migration_count; i++)
		if (strcmp(fl_migrations[i].name, name) == 0)
			return true;
	return false;
}

static enum fl_result apply(PGconn *c, const struct fl_migration *m, struct fl_error *err)
{
	const char *name[] = { m->name };
	enum fl_result r = exec0(c, "BEGIN", err);
	if (r != FL_OK)
		return r;
	/* PQexec: a file holds several statements, which PQexecParams refuses. */
	PGresult *res = PQexec(c, m->sql);
	r = map_result(c, res, err);
	PQclear(res);
	if (r == FL_OK)
		r = fl_db_exec(c, "INSERT INTO fl_schema_migrations (name) VALUES ($1)", 1,
			       name, NULL, err);
	if (r == FL_OK)
		r = exec0(c, "COMMIT", err);
	if (r != FL_OK) {
		PQclear(PQexec(c, "ROLLBACK"));
		return r;
	}
	fl_info("applied migration %s", m->name);
	return FL_OK;
}

static enum fl_result migrate(PGconn *c, struct fl_error *err)
{
	const char *key[] = { FL_DB_MIGRATION_LOCK };
	PGresult *done = NULL;
	bool locked = false;
	long long t0 = now_ms();
	unsigned n = 0;

	enum fl_result r = fl_db_exec(c, "SELECT pg_advisory_lock($1::int8)", 1, key, NULL, err);
	if (r != FL_OK)
		goto out;
	locked = true;
	r = exec0(c, "CREATE TABLE IF NOT EXISTS fl_schema_migrations ("
		     " name text PRIMARY KEY,"
		     " applied_at timestamptz NOT NULL DEFAULT now())", err);
	if (r != FL_OK)
		goto out;
	r = fl_db_exec(c, "SELECT name FROM fl_schema_migrations ORDER BY name", 0, NULL,
		       &done, err);
	if (r != FL_OK)
		goto out;
	for (int i = 0; i < PQntuples(done); i++)
		if (!known(PQgetvalue(done, i, 0)))
			fl_warn("the catalog has migration %s, which this firelake does not "
				"know (a newer version migrated it)", PQgetvalue(done, i, 0));
	for (unsigned i = 0; i < fl_migration_count; i++) {
		if (applied(done, fl_migrations[i].name))
			continue;
		struct fl_error e = { 0 };
		if ((r = apply(c, &fl_migrations[i], &e)) != FL_OK) {
			fl_error_set(err, r, "migration %s failed: %s", fl_migrations[i].name,
				     e.msg);
			goto out;
		}
		n++;
	}
	if (n)
		fl_info("catalog migrated: %u migration(s) in %lld ms", n, now_ms() - t0);
out:
	PQclear(done);
	if (locked && PQstatus(c) == CONNECTION_OK)
		PQclear(PQexecParams(c, "SELECT pg_advisory_unlock($1::int8)", 1, NULL, key,
				     NULL, NULL, 0));
	return r;
}

/* ---- the pool ----------------------------------------------------------- */

enum fl_result fl_db_open(const char *conninfo, int size, struct fl_db **out,
			  struct fl_error *err)
{
	struct fl_db *db = NULL;
	PGconn *c = NULL;
	enum fl_result r;
	pthread_condattr_t ca;

	*out = NULL;
	if (!conninfo || size < 1)
		return fl_error_set(err, FL_INVALID, "a connection string and a pool size "
				    "of at least 1 are needed");
	db = calloc(1, sizeof *db);
	if (!db)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	db->size = size;
	db->conninfo = strdup(conninfo);
	db->idle = calloc((size_t)size, sizeof *db->idle);
	pthread_mutex_init(&db->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&db->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (!db->conninfo || !db->idle) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto fail;
	}
	if ((r = fl_db_acquire(db, &c, err)) != FL_OK)
		goto fail;
	r = migrate(c, err);
	fl_db_release(db, c);
	if (r != FL_OK)
		goto fail;
	*out = db;
	return FL_OK;
fail:
	fl_db_free(db);
	return r;
}

void fl_db_free(struct fl_db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->mu);
	if (db->open != db->nidle)
		fl_warn("closing the PostgreSQL pool with %d connection(s) still borrowed",
			db->open - db->nidle);
	for (int i = 0; i < db->nidle; i++)
		PQfinish(db->idle[i]);
	pthread_mutex_unlock(&db->mu);
	pthread_cond_destroy(&db->cv);
	pthread_mutex_destroy(&db->mu);
	free(db->idle);
	free(db->conninfo);
	free(db);
}

/* SELECT 1 with a deadline; false on failure or timeout (the connection is
 * then in the middle of a query and must be discarded). */
static bool select1(PGconn *c, long long deadline)
{
	bool ok = false;
	if (!PQsendQuery(c, "SELECT 1"))
		return false;
	for (;;) {
		while (PQisBusy(c)) {
			long long left = deadline - now_ms();
			if (left <= 0)
				return false;
			struct pollfd p = { PQsocket(c), POLLIN, 0 };
			int n = poll(&p, 1, (int)left);
			if (n < 0 && errno != EINTR)
				return false;
			if (n > 0 && !PQconsumeInput(c))
				return false;
		}
		PGresult *res = PQgetResult(c);
		if (!res)
			return ok;
		ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
	}
}

bool fl_db_ping(struct fl_db *db)
{
	PGconn *c;
	if (acquire(db, now_ms() + FL_DB_PING_WAIT_MS, FL_DB_PING_TIMEOUT_MS, &c, NULL) != FL_OK)
		return false;
	bool ok = select1(c, now_ms() + FL_DB_PING_TIMEOUT_MS);
	if (!ok && PQtransactionStatus(c) == PQTRANS_ACTIVE)
		discard(db, c);
	else
		fl_db_release(db, c);
	return ok;
}

/* ---- identifiers -------------------------------------------------------- */

enum fl_result fl_db_ident(PGconn *conn, const char *name, struct fl_buf *out,
			   struct fl_error *err)
{
	size_t n = name ? strnlen(name, FL_DB_IDENT_MAX + 1) : 0;
	bool ok = n >= 1 && n <= FL_DB_IDENT_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = name[i];
		ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
	}
	if (!ok)
		return fl_error_set(err, FL_INVALID, "invalid identifier: names are 1 to %d "
				    "characters of a-z, 0-9 and _", FL_DB_IDENT_MAX);
	enum fl_result r;
	if (conn) {
		char *q = PQescapeIdentifier(conn, name, n);
		if (!q) {
			char line[200];
			return fl_error_set(err, FL_INTERNAL, "cannot quote an identifier: %s",
					    first_line(PQerrorMessage(conn), line, sizeof line));
		}
		r = fl_buf_adds(out, q);
		PQfreemem(q);
	} else {
		/* No connection to ask: the validated alphabet needs nothing
		 * beyond the double quotes. */
		r = fl_buf_addc(out, '"');
		if (r == FL_OK)
			r = fl_buf_add(out, name, n);
		if (r == FL_OK)
			r = fl_buf_addc(out, '"');
	}
	if (r != FL_OK)
		return fl_error_set(err, r, "statement too long");
	return FL_OK;
}
