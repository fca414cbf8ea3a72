/*
 * test_sqlrewrite.c - Athena SQL in, exact PostgreSQL SQL or exact refusal out.
 *
 * Table-driven over a mock catalog (default.events, default.users,
 * sales.orders, and a database "many" where every table exists).  Each
 * case is a query and either the exact rewritten text plus the tables it
 * references, or the result code and a piece of the message.  A second
 * table covers the Glue -> PostgreSQL type mapping.  Finally every
 * rewritten query (but the few calling Trino-only functions) must be
 * accepted by a real PostgreSQL (PREPARE) over tables made with those
 * types: the output is not only what we expect, it is SQL that runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "pgembed.h"
#include "sqlrewrite.h"

/* ---- the mock catalog ---- */

static const struct fl_sql_column events_cols[] = {
	{ "event_uuid", "string" }, { "event_name", "string" }, { "created_at", "bigint" },
	{ "created_datetime", "timestamp" },
	{ "payload", "struct<item:string,qty:bigint,inner:struct<x:double>>" },
	{ "tags", "array<string>" }, { "event_type", "string" },
	{ "dt", "string" }, { "hour", "string" },
};
static const struct fl_sql_column users_cols[] = {
	{ "user_id", "string" }, { "name", "string" },
	{ "profile", "struct<age:int,emails:array<string>,prefs:map<string,string>>" },
	{ "pg_score", "double" }, { "dt", "string" },
};
static const struct fl_sql_column orders_cols[] = {
	{ "order_id", "bigint" }, { "user_id", "string" }, { "total", "decimal(10,2)" },
	{ "items", "array<struct<sku:string,qty:int>>" }, { "attrs", "map<string,string>" },
	{ "dt", "string" },
};
static const struct fl_sql_column many_cols[] = {
	{ "a", "string" }, { "s", "array<struct<a:int>>" },
};

struct mock_table {
	const char *db, *tbl;
	const struct fl_sql_column *cols;
	size_t n;
};

#define T(db, tbl, c) { db, tbl, c, sizeof c / sizeof c[0] }
static const struct mock_table mock_tables[] = {
	T("default", "events", events_cols),
	T("default", "users", users_cols),
	T("sales", "orders", orders_cols),
};

static bool mock_table(void *arg, const char *db, const char *tbl,
		       const struct fl_sql_column **cols, size_t *ncols)
{
	(void)arg;
	if (strcmp(db, "many") == 0) {
		*cols = many_cols;
		*ncols = sizeof many_cols / sizeof many_cols[0];
		return true;
	}
	for (size_t i = 0; i < sizeof mock_tables / sizeof mock_tables[0]; i++)
		if (strcmp(db, mock_tables[i].db) == 0 && strcmp(tbl, mock_tables[i].tbl) == 0) {
			*cols = mock_tables[i].cols;
			*ncols = mock_tables[i].n;
			return true;
		}
	return false;
}

static const struct fl_sql_catalog cat = { NULL, "default", mock_table };

/* ---- the cases ---- */

struct rcase {
	const char *name;
	const char *in;
	const char *out;        /* NULL: must fail with code and msg */
	const char *tables;     /* "db.tbl,db.tbl" in order; NULL: not checked */
	enum fl_result code;
	const char *msg;        /* a piece of the message */
	bool no_pg;             /* calls a Trino-only function, or fails in PostgreSQL */
};

#define EV "\"default\".\"events\""
#define US "\"default\".\"users\""
#define OR "\"sales\".\"orders\""
#define OK(n, in, out, tables) { n, in, out, tables, FL_OK, NULL, false }
#define OK_NOPG(n, in, out, tables) { n, in, out, tables, FL_OK, NULL, true }
#define BAD(n, in, code, msg) { n, in, NULL, NULL, code, msg, false }
#define IDX(e) "(NULLIF(GREATEST(CAST((" e ") AS integer), 0), 0) - 1)"

static const struct rcase cases[] = {
	/* ---- table references ---- */
	OK("star", "SELECT * FROM events", "SELECT * FROM " EV, "default.events"),
	OK("case and catalog", "select Event_Name from AwsDataCatalog.Default.EVENTS",
	   "select \"event_name\" from " EV, "default.events"),
	OK("quoted names", "SELECT \"Event_Name\" FROM \"default\".\"events\"",
	   "SELECT \"event_name\" FROM " EV, "default.events"),
	OK("other database", "SELECT order_id FROM sales.orders",
	   "SELECT \"order_id\" FROM " OR, "sales.orders"),
	OK("alias", "SELECT e.event_name FROM events e",
	   "SELECT \"e\".\"event_name\" FROM " EV " \"e\"", "default.events"),
	OK("alias with AS and column names", "SELECT x.a FROM users AS x(a, b)",
	   "SELECT \"x\".\"a\" FROM " US " AS \"x\"(\"a\", \"b\")", "default.users"),
	OK("join chain",
	   "SELECT e.event_name, u.name FROM events e JOIN users u ON e.event_uuid = u.user_id "
	   "LEFT OUTER JOIN sales.orders o ON o.user_id = u.user_id",
	   "SELECT \"e\".\"event_name\", \"u\".\"name\" FROM " EV " \"e\" JOIN " US " \"u\" ON "
	   "\"e\".\"event_uuid\" = \"u\".\"user_id\" LEFT OUTER JOIN " OR " \"o\" ON "
	   "\"o\".\"user_id\" = \"u\".\"user_id\"", "default.events,default.users,sales.orders"),
	OK("comma list, a table listed once", "SELECT a.dt FROM events a, events b WHERE a.dt = b.dt",
	   "SELECT \"a\".\"dt\" FROM " EV " \"a\", " EV " \"b\" WHERE \"a\".\"dt\" = \"b\".\"dt\"",
	   "default.events"),
	OK("join using", "SELECT dt FROM events JOIN users USING (dt)",
	   "SELECT \"dt\" FROM " EV " JOIN " US " USING (\"dt\")", "default.events,default.users"),
	OK("cross join unnest", "SELECT t.tag FROM events CROSS JOIN UNNEST(tags) AS t(tag)",
	   "SELECT \"t\".\"tag\" FROM " EV " CROSS JOIN UNNEST(\"tags\") AS \"t\"(\"tag\")",
	   "default.events"),
	OK("unnest with ordinality",
	   "SELECT tag, n FROM events e, UNNEST(e.tags) WITH ORDINALITY t(tag, n)",
	   "SELECT \"tag\", \"n\" FROM " EV " \"e\", UNNEST(\"e\".\"tags\") WITH ORDINALITY "
	   "\"t\"(\"tag\", \"n\")", "default.events"),
	OK("parenthesized join", "SELECT * FROM (events e JOIN users u ON e.dt = u.dt)",
	   "SELECT * FROM (" EV " \"e\" JOIN " US " \"u\" ON \"e\".\"dt\" = \"u\".\"dt\")",
	   "default.events,default.users"),
	OK("lateral", "SELECT l.n FROM events e, LATERAL (SELECT e.created_at AS n) l",
	   "SELECT \"l\".\"n\" FROM " EV " \"e\", LATERAL (SELECT \"e\".\"created_at\" AS \"n\") \"l\"",
	   "default.events"),
	OK("tablesample", "SELECT * FROM events TABLESAMPLE BERNOULLI (10)",
	   "SELECT * FROM " EV " TABLESAMPLE BERNOULLI(10)", "default.events"),
	OK("qualified star", "SELECT e.*, u.* FROM events e JOIN users u ON u.user_id = e.event_uuid",
	   "SELECT \"e\".*, \"u\".* FROM " EV " \"e\" JOIN " US " \"u\" ON \"u\".\"user_id\" = "
	   "\"e\".\"event_uuid\"", NULL),
	OK("multi-line", "SELECT\n  event_name\nFROM\n  events\n",
	   "SELECT \"event_name\" FROM " EV, "default.events"),

	/* ---- WITH, subqueries, scopes ---- */
	OK("with", "WITH x AS (SELECT event_name FROM events), y (n) AS (SELECT count(*) FROM x) "
	   "SELECT * FROM x, y",
	   "WITH \"x\" AS (SELECT \"event_name\" FROM " EV "), \"y\" (\"n\") AS (SELECT count(*) "
	   "FROM \"x\") SELECT * FROM \"x\", \"y\"", "default.events"),
	OK("with recursive",
	   "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r",
	   "WITH RECURSIVE \"r\"(\"n\") AS (SELECT 1 UNION ALL SELECT \"n\" + 1 FROM \"r\" WHERE "
	   "\"n\" < 3) SELECT \"n\" FROM \"r\"", ""),
	OK("a WITH name hides a table", "WITH events AS (SELECT 1 AS a) SELECT a FROM events",
	   "WITH \"events\" AS (SELECT 1 AS \"a\") SELECT \"a\" FROM \"events\"", ""),
	OK("subquery without alias", "SELECT * FROM (SELECT 1)",
	   "SELECT * FROM (SELECT 1) AS \"fl_subquery_1\"", ""),
	OK("correlated subquery",
	   "SELECT event_name FROM events e WHERE EXISTS (SELECT 1 FROM users u WHERE "
	   "u.user_id = e.event_uuid AND e.payload.qty > 1)",
	   "SELECT \"event_name\" FROM " EV " \"e\" WHERE EXISTS (SELECT 1 FROM " US " \"u\" WHERE "
	   "\"u\".\"user_id\" = \"e\".\"event_uuid\" AND ((\"e\".\"payload\" ->> 'qty')::bigint) > 1)",
	   "default.events,default.users"),
	OK("scalar subquery and IN",
	   "SELECT (SELECT max(created_at) FROM events), 1 IN (SELECT order_id FROM sales.orders)",
	   "SELECT (SELECT max(\"created_at\") FROM " EV "), 1 IN (SELECT \"order_id\" FROM " OR ")",
	   "default.events,sales.orders"),
	OK("each UNION branch has its own aliases",
	   "SELECT x.payload.qty FROM events x UNION ALL SELECT x.profile.age FROM users x",
	   "SELECT ((\"x\".\"payload\" ->> 'qty')::bigint) FROM " EV " \"x\" UNION ALL SELECT "
	   "((\"x\".\"profile\" ->> 'age')::integer) FROM " US " \"x\"", "default.events,default.users"),
	OK("parenthesized queries", "(SELECT 1) UNION (SELECT 2)", "(SELECT 1) UNION (SELECT 2)", ""),
	OK("values rows", "VALUES 1, 2", "VALUES (1), (2)", ""),
	OK("values in FROM", "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s)",
	   "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS \"v\"(\"n\", \"s\")", ""),

	/* ---- struct fields, subscripts ---- */
	OK("struct field", "SELECT payload.qty FROM events",
	   "SELECT ((\"payload\" ->> 'qty')::bigint) FROM " EV, "default.events"),
	OK("nested struct field through an alias", "SELECT e.payload.inner.x FROM events AS e",
	   "SELECT ((\"e\".\"payload\" -> 'inner' ->> 'x')::double precision) FROM " EV " AS \"e\"",
	   "default.events"),
	OK("a struct stays jsonb", "SELECT payload.inner, payload FROM events",
	   "SELECT (\"payload\" -> 'inner'), \"payload\" FROM " EV, "default.events"),
	OK("struct through the table name",
	   "SELECT events.payload.item FROM events WHERE events.payload.qty > 2",
	   "SELECT ((\"events\".\"payload\" ->> 'item')::text) FROM " EV " WHERE "
	   "((\"events\".\"payload\" ->> 'qty')::bigint) > 2", "default.events"),
	OK("struct through db.table", "SELECT default.events.payload.qty FROM default.events",
	   "SELECT ((\"default\".\"events\".\"payload\" ->> 'qty')::bigint) FROM " EV, NULL),
	OK("column through catalog.db.table",
	   "SELECT awsdatacatalog.default.events.event_name FROM awsdatacatalog.default.events",
	   "SELECT \"default\".\"events\".\"event_name\" FROM " EV, NULL),
	OK("struct field in any case", "SELECT PAYLOAD.\"Item\" FROM events",
	   "SELECT ((\"payload\" ->> 'item')::text) FROM " EV, NULL),
	OK("struct field in CASE", "SELECT CASE WHEN payload.qty > 1 THEN 'many' ELSE 'one' END FROM events",
	   "SELECT CASE WHEN ((\"payload\" ->> 'qty')::bigint) > 1 THEN 'many' ELSE 'one' END FROM " EV,
	   NULL),
	OK("array subscript kept", "SELECT tags[1], cardinality(tags) FROM events",
	   "SELECT \"tags\"[1], cardinality(\"tags\") FROM " EV, NULL),
	OK("array of structs", "SELECT items[1].sku FROM sales.orders",
	   "SELECT ((\"items\" -> " IDX("1") " ->> 'sku')::text) FROM " OR, "sales.orders"),
	OK("map subscript", "SELECT attrs['color'] FROM sales.orders",
	   "SELECT ((\"attrs\" ->> CAST(('color') AS text))::text) FROM " OR, NULL),
	OK("array and map inside a struct",
	   "SELECT u.profile.emails[2], u.profile.prefs['lang'], u.profile.age FROM users u",
	   "SELECT ((\"u\".\"profile\" -> 'emails' ->> " IDX("2") ")::text), ((\"u\".\"profile\" -> "
	   "'prefs' ->> CAST(('lang') AS text))::text), ((\"u\".\"profile\" ->> 'age')::integer) FROM "
	   US " \"u\"", NULL),
	OK("struct through a subquery", "SELECT s.payload.qty FROM (SELECT payload FROM events) s",
	   "SELECT ((\"s\".\"payload\" ->> 'qty')::bigint) FROM (SELECT \"payload\" FROM " EV ") \"s\"",
	   "default.events"),
	OK("struct through a WITH query",
	   "WITH c AS (SELECT payload FROM events) SELECT payload.item FROM c",
	   "WITH \"c\" AS (SELECT \"payload\" FROM " EV ") SELECT ((\"payload\" ->> 'item')::text) "
	   "FROM \"c\"", "default.events"),
	OK("a lake column may be named pg_*", "SELECT pg_score, u.pg_score FROM users u",
	   "SELECT \"pg_score\", \"u\".\"pg_score\" FROM " US " \"u\"", NULL),
	OK_NOPG("unknown columns are PostgreSQL's to report", "SELECT nope FROM events",
		"SELECT \"nope\" FROM " EV, "default.events"),

	/* ---- CAST, TRY_CAST, literals ---- */
	OK("cast types",
	   "SELECT CAST(created_at AS varchar), CAST(created_at AS double), CAST(created_at AS tinyint), "
	   "CAST(created_at AS decimal(10,2)), CAST(event_name AS varchar(20)), CAST(created_at AS int), "
	   "CAST(created_at AS real), CAST(dt AS date), CAST(dt AS timestamp), cast(event_name as json), "
	   "CAST(event_name AS varbinary), CAST(1 AS boolean), CAST(created_at AS DOUBLE PRECISION), "
	   "CAST(created_at AS bigint), CAST(created_at AS smallint), CAST(created_at AS char(3)) "
	   "FROM events",
	   "SELECT CAST(\"created_at\" AS text), CAST(\"created_at\" AS double precision), "
	   "CAST(\"created_at\" AS smallint), CAST(\"created_at\" AS numeric(10,2)), "
	   "CAST(\"event_name\" AS text), CAST(\"created_at\" AS integer), CAST(\"created_at\" AS real), "
	   "CAST(\"dt\" AS date), CAST(\"dt\" AS timestamp), cast(\"event_name\" as jsonb), "
	   "CAST(\"event_name\" AS bytea), CAST(1 AS boolean), CAST(\"created_at\" AS double precision), "
	   "CAST(\"created_at\" AS bigint), CAST(\"created_at\" AS smallint), "
	   "CAST(\"created_at\" AS text) FROM " EV, NULL),
	OK("cast to arrays, precisions, zones",
	   "SELECT CAST(tags AS ARRAY(VARCHAR)), CAST(created_datetime AS timestamp(3)), "
	   "CAST(created_datetime AS timestamp(3) with time zone), CAST(created_at AS decimal) FROM events",
	   "SELECT CAST(\"tags\" AS text[]), CAST(\"created_datetime\" AS timestamp(3)), "
	   "CAST(\"created_datetime\" AS timestamp(3) with time zone), "
	   "CAST(\"created_at\" AS numeric(38,0)) FROM " EV, NULL),
	OK("cast of a subquery", "SELECT CAST((SELECT count(*) FROM users) AS varchar)",
	   "SELECT CAST((SELECT count(*) FROM " US ") AS text)", "default.users"),
	OK("try_cast",
	   "SELECT TRY_CAST(event_name AS bigint), try_cast(dt AS date), TRY_CAST(created_at AS varchar), "
	   "TRY_CAST(event_name AS double), TRY_CAST(event_name AS decimal(10,2)), "
	   "TRY_CAST(event_name AS integer), TRY_CAST(event_name AS tinyint), "
	   "TRY_CAST(event_name AS boolean), TRY_CAST(dt AS timestamp), TRY_CAST(event_name AS real) "
	   "FROM events",
	   "SELECT fl_try_cast_bigint(\"event_name\"), fl_try_cast_date(\"dt\"), "
	   "fl_try_cast_text(\"created_at\"), fl_try_cast_double(\"event_name\"), "
	   "fl_try_cast_numeric(\"event_name\")::numeric(10,2), fl_try_cast_integer(\"event_name\"), "
	   "fl_try_cast_smallint(\"event_name\"), fl_try_cast_boolean(\"event_name\"), "
	   "fl_try_cast_timestamp(\"dt\"), fl_try_cast_real(\"event_name\") FROM " EV, NULL),
	OK("literals",
	   "SELECT DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', X'0aFF', x'00 11', "
	   "DECIMAL '1.50', double '1.5', 1e3, 2.5E-1, .5, 'it''s'",
	   "SELECT date '2024-01-01', timestamp '2024-01-01 00:00:00', E'\\\\x0aff'::bytea, "
	   "E'\\\\x0011'::bytea, numeric '1.50', double precision '1.5', CAST(1e3 AS double precision), "
	   "CAST(2.5E-1 AS double precision), .5, 'it''s'", ""),
	OK("intervals",
	   "SELECT created_datetime - INTERVAL '1' DAY, created_datetime + interval - '2' hour, "
	   "INTERVAL '1-2' YEAR TO MONTH FROM events",
	   "SELECT \"created_datetime\" - INTERVAL '1' DAY, \"created_datetime\" + (-interval '2' hour), "
	   "INTERVAL '1-2' YEAR TO MONTH FROM " EV, NULL),
	OK("extract",
	   "SELECT EXTRACT(dow FROM created_datetime), extract(YEAR from created_datetime), "
	   "EXTRACT(second FROM created_datetime) FROM events",
	   "SELECT CAST(EXTRACT(isodow FROM \"created_datetime\") AS bigint), "
	   "CAST(extract(year from \"created_datetime\") AS bigint), "
	   "CAST(floor(EXTRACT(second FROM \"created_datetime\")) AS bigint) FROM " EV, NULL),

	/* ---- what stays as it is ---- */
	OK("block comments do not nest", "SELECT /* /* */ 1", "SELECT 1", ""),
	OK("comments and the final semicolon", "SELECT /* c */ 1 -- x\n;\n -- end", "SELECT 1", ""),
	OK("backslashes mean the same whatever the session's settings",
	   "SELECT regexp_replace(event_name, '\\d+''\\', 'x') FROM events",
	   "SELECT regexp_replace(\"event_name\", E'\\\\d+''\\\\', 'x') FROM " EV, NULL),
	OK("strings and quoted names are not rewritten",
	   "SELECT 'payload.qty; DROP TABLE x -- ', \"payload\" FROM events",
	   "SELECT 'payload.qty; DROP TABLE x -- ', \"payload\" FROM " EV, NULL),
	OK("keywords as written",
	   "SELECT event_type, count(*) AS n FROM events WHERE event_type IN ('a', 'b') AND "
	   "created_at BETWEEN 1 AND 2 AND event_name LIKE 'x%' AND dt IS NOT NULL GROUP BY event_type "
	   "HAVING count(*) > 1 ORDER BY n DESC NULLS LAST LIMIT 10 OFFSET 2",
	   "SELECT \"event_type\", count(*) AS \"n\" FROM " EV " WHERE \"event_type\" IN ('a', 'b') AND "
	   "\"created_at\" BETWEEN 1 AND 2 AND \"event_name\" LIKE 'x%' AND \"dt\" IS NOT NULL GROUP BY "
	   "\"event_type\" HAVING count(*) > 1 ORDER BY \"n\" DESC NULLS LAST LIMIT 10 OFFSET 2", NULL),
	OK("window",
	   "SELECT row_number() OVER (PARTITION BY event_type ORDER BY created_at ROWS BETWEEN "
	   "UNBOUNDED PRECEDING AND CURRENT ROW) FROM events",
	   "SELECT row_number() OVER (PARTITION BY \"event_type\" ORDER BY \"created_at\" ROWS BETWEEN "
	   "UNBOUNDED PRECEDING AND CURRENT ROW) FROM " EV, NULL),
	OK("partition columns hour and dt",
	   "SELECT hour, dt FROM events WHERE dt = '2024-01-01' AND hour = '01'",
	   "SELECT \"hour\", \"dt\" FROM " EV " WHERE \"dt\" = '2024-01-01' AND \"hour\" = '01'", NULL),
	OK("at time zone", "SELECT created_datetime AT TIME ZONE 'UTC' FROM events",
	   "SELECT \"created_datetime\" AT TIME ZONE 'UTC' FROM " EV, NULL),
	OK("FROM inside functions and IS DISTINCT FROM",
	   "SELECT substring(event_name FROM 2 FOR 3), trim(BOTH ' ' FROM event_name) FROM events "
	   "WHERE dt IS DISTINCT FROM hour",
	   "SELECT substring(\"event_name\" FROM 2 FOR 3), trim(BOTH ' ' FROM \"event_name\") FROM " EV
	   " WHERE \"dt\" IS DISTINCT FROM \"hour\"", "default.events"),
	OK("functions as written",
	   "SELECT lower(event_name), coalesce(dt, 'x'), date_trunc('day', created_datetime) FROM events",
	   "SELECT lower(\"event_name\"), coalesce(\"dt\", 'x'), date_trunc('day', "
	   "\"created_datetime\") FROM " EV, NULL),
	OK_NOPG("subscript of a call", "SELECT split(event_name, ':')[1] FROM events",
		"SELECT (split(\"event_name\", ':'))[1] FROM " EV, NULL),
	OK("subscript of an array constructor", "SELECT ARRAY[1, 2][1]", "SELECT (ARRAY[1, 2])[1]", ""),
	OK("fetch first", "SELECT * FROM events ORDER BY created_at FETCH FIRST 5 ROWS ONLY",
	   "SELECT * FROM " EV " ORDER BY \"created_at\" FETCH FIRST 5 ROWS ONLY", NULL),
	OK("current date and time", "SELECT current_date, CURRENT_TIMESTAMP",
	   "SELECT current_date, CURRENT_TIMESTAMP", ""),
	OK("operators", "SELECT 1<>2, 1!=2, 'a'||'b', 3%2, -1, 1- -1, 2>=1",
	   "SELECT 1<>2, 1!=2, 'a'||'b', 3%2, -1, 1- -1, 2>=1", ""),

	/* ---- one statement, and a query ---- */
	BAD("two statements", "select * from events; drop table x", FL_INVALID,
	    "Only one statement is allowed at line 1, column 21"),
	BAD("a statement after a comment", "SELECT 1 -- ;\n; DELETE FROM events", FL_INVALID,
	    "Only one statement is allowed at line 2, column 1"),
	BAD("two semicolons", "SELECT 1;;", FL_INVALID, "Only one statement"),
	BAD("copy", "COPY (select 1) TO PROGRAM 'x'", FL_INVALID,
	    "COPY statements are not allowed: only SELECT, WITH ... SELECT and VALUES"),
	BAD("explain", "EXPLAIN SELECT 1", FL_INVALID, "EXPLAIN statements are not allowed"),
	BAD("insert", "INSERT INTO events VALUES (1)", FL_INVALID, "INSERT statements"),
	BAD("update", "UPDATE events SET dt = '1'", FL_INVALID, "UPDATE statements"),
	BAD("delete", "(DELETE FROM events)", FL_INVALID, "DELETE statements"),
	BAD("create", "CREATE TABLE x AS SELECT 1", FL_INVALID, "CREATE statements"),
	BAD("drop", "drop table events", FL_INVALID, "DROP statements"),
	BAD("set", "SET search_path = public", FL_INVALID, "SET statements"),
	BAD("call", "CALL p()", FL_INVALID, "CALL statements"),
	BAD("do", "DO 'begin end'", FL_INVALID, "DO statements"),
	BAD("lock", "LOCK events", FL_INVALID, "LOCK statements"),
	BAD("table statement", "TABLE events", FL_INVALID, "TABLE statements"),
	BAD("grant", "GRANT ALL ON events TO public", FL_INVALID, "GRANT statements"),
	BAD("not a word", "'x'", FL_INVALID, "must begin with SELECT, WITH or VALUES"),
	BAD("empty", "  -- nothing\n", FL_INVALID, "Query is empty"),
	BAD("select into", "SELECT * INTO t FROM events", FL_INVALID, "SELECT ... INTO is not allowed"),
	BAD("for update", "SELECT * FROM events FOR UPDATE", FL_INVALID, "FOR UPDATE and FOR SHARE"),
	BAD("for share", "SELECT * FROM events e FOR SHARE", FL_INVALID, "FOR UPDATE and FOR SHARE"),
	BAD("for no key update", "SELECT 1 FOR NO KEY UPDATE", FL_INVALID, "FOR UPDATE"),
	BAD("TABLE in a subquery", "SELECT * FROM events WHERE dt IN (TABLE x)", FL_INVALID,
	    "TABLE is not allowed"),
	BAD("DELETE in WITH", "WITH x AS (DELETE FROM events RETURNING *) SELECT * FROM x", FL_INVALID,
	    "DELETE is not allowed in WITH"),
	BAD("UPDATE in WITH", "WITH x AS (UPDATE events SET dt = '1' RETURNING *) SELECT 1", FL_INVALID,
	    "UPDATE is not allowed in WITH"),
	BAD("DELETE after WITH", "WITH x AS (SELECT 1) DELETE FROM events", FL_INVALID,
	    "DELETE is not allowed after WITH"),
	BAD("MATERIALIZED", "WITH x AS MATERIALIZED (SELECT 1) SELECT * FROM x", FL_INVALID,
	    "Expected AS ( query ) in WITH"),

	/* ---- nothing outside the lake ---- */
	BAD("pg_read_file", "SELECT pg_read_file('/etc/passwd')", FL_INVALID, "'pg_read_file'"),
	BAD("pg_ cut by a comment", "SELECT pg_/**/read_file('x')", FL_INVALID, "Name 'pg_'"),
	BAD("quoted pg function", "SELECT \"PG_READ_FILE\"('x')", FL_INVALID, "'pg_read_file'"),
	BAD("pg_sleep", "SELECT pg_sleep(10)", FL_INVALID, "pg_sleep"),
	BAD("qualified function", "SELECT pg_catalog.lower('x')", FL_INVALID,
	    "Qualified function names are not supported"),
	BAD("other schema's function", "SELECT public.lower('x')", FL_INVALID, "Qualified function"),
	BAD("catalog table", "select * from fl_delivery_streams", FL_INVALID,
	    "Name 'fl_delivery_streams' is not allowed"),
	BAD("catalog table in public", "select * from public.fl_objects", FL_INVALID,
	    "Name 'fl_objects' is not allowed"),
	BAD("pg_catalog", "select * from pg_catalog.pg_user", FL_INVALID, "Name 'pg_catalog'"),
	BAD("quoted pg_catalog", "select * from \"PG_CATALOG\".\"PG_USER\"", FL_INVALID,
	    "Name 'pg_catalog'"),
	BAD("information_schema", "select * from information_schema.tables", FL_INVALID,
	    "Name 'information_schema'"),
	BAD("pg table in a subquery",
	    "SELECT * FROM events WHERE event_name IN (SELECT usename FROM pg_user)", FL_INVALID,
	    "Name 'pg_user'"),
	BAD("pg table in a WITH", "WITH a AS (SELECT * FROM pg_roles) SELECT 1", FL_INVALID,
	    "Name 'pg_roles'"),
	BAD("set_config", "SELECT set_config('search_path', 'public', false)", FL_INVALID,
	    "Function set_config is not allowed"),
	BAD("current_setting", "SELECT current_setting('data_directory')", FL_INVALID,
	    "Function current_setting is not allowed"),
	BAD("lo_import", "SELECT lo_import('/etc/passwd')", FL_INVALID, "Function lo_import"),
	BAD("dblink", "SELECT dblink_connect('x')", FL_INVALID, "Function dblink_connect"),
	BAD("query_to_xml", "SELECT query_to_xml('select 1', true, true, '')", FL_INVALID,
	    "Function query_to_xml"),
	BAD("ts_stat", "SELECT * FROM events WHERE 1 = (SELECT count(*) FROM events WHERE "
	    "ts_stat('select 1') IS NULL)", FL_INVALID, "Function ts_stat"),
	BAD("nextval", "SELECT nextval('s')", FL_INVALID, "Function nextval"),
	BAD("function-style cast to regclass", "SELECT regclass('pg_user')", FL_INVALID,
	    "Function regclass is not allowed"),
	BAD("function through attribute notation", "SELECT e.current_setting FROM events e",
	    FL_INVALID, "Function current_setting is not allowed"),
	BAD("operator()", "SELECT 1 OPERATOR(+) 2", FL_INVALID, "Function operator"),
	BAD("internal functions", "SELECT fl_try_cast_text(1)", FL_INVALID,
	    "Name 'fl_try_cast_text'"),
	BAD("system column", "SELECT ctid FROM events", FL_INVALID, "Name 'ctid'"),
	BAD("system column through an alias", "SELECT e.tableoid FROM events e", FL_INVALID,
	    "Name 'tableoid'"),
	BAD("alias named pg_*", "SELECT 1 FROM events pg_x", FL_INVALID, "Name 'pg_x'"),
	BAD("table function", "SELECT * FROM generate_series(1, 10)", FL_INVALID,
	    "Table functions are not supported: generate_series"),
	BAD("ONLY", "SELECT * FROM ONLY events", FL_INVALID, "Unsupported FROM item 'ONLY'"),
	BAD("ROWS FROM", "SELECT * FROM ROWS FROM (f())", FL_INVALID, "Unsupported FROM item 'ROWS'"),
	BAD("unknown table", "SELECT * FROM nope", FL_NOT_FOUND, "Table default.nope does not exist"),
	BAD("unknown database", "SELECT * FROM nodb.events", FL_NOT_FOUND,
	    "Table nodb.events does not exist"),
	BAD("other catalog", "SELECT * FROM hive.default.events", FL_NOT_FOUND,
	    "Catalog hive does not exist"),
	BAD("four-part name", "SELECT * FROM a.b.c.d", FL_INVALID, "Table name has too many parts"),
	BAD("WITH name out of its scope", "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x",
	    FL_NOT_FOUND, "Table default.x does not exist"),
	BAD("WITH name in its own body", "WITH x AS (SELECT * FROM x) SELECT * FROM x", FL_NOT_FOUND,
	    "Table default.x does not exist"),

	/* ---- PostgreSQL-only syntax ---- */
	BAD("unicode escapes", "SELECT U&'\\0041'", FL_INVALID, "Unicode escape"),
	BAD("E string", "SELECT E'\\x41'", FL_INVALID, "PostgreSQL E'...' string literals"),
	BAD("B string", "SELECT B'101'", FL_INVALID, "PostgreSQL B'...'"),
	BAD("N string", "SELECT N'x'", FL_INVALID, "PostgreSQL N'...'"),
	BAD("dollar quotes", "SELECT $$x$$", FL_INVALID, "Dollar-quoted strings"),
	BAD("dollar tag", "SELECT $a$x$a$", FL_INVALID, "Dollar-quoted strings"),
	BAD("dollar in a name", "SELECT a$b FROM events", FL_INVALID, "Dollar-quoted strings"),
	BAD("positional parameter", "SELECT $1", FL_INVALID, "Dollar-quoted strings"),
	BAD("pg cast", "SELECT 1::text", FL_INVALID, "PostgreSQL casts (::) are not allowed"),
	BAD("question mark", "SELECT * FROM events WHERE dt = ?", FL_INVALID, "parameters (?)"),
	BAD("lambda", "SELECT transform(tags, x -> upper(x)) FROM events", FL_INVALID,
	    "Lambda expressions"),
	BAD("backquotes", "SELECT `x` FROM events", FL_INVALID, "Backquoted identifiers"),
	BAD("backslash", "SELECT 1 \\g", FL_INVALID, "Unexpected character '\\'"),
	BAD("tilde", "SELECT 'a' ~ 'b'", FL_INVALID, "Unexpected character '~'"),
	BAD("non-ASCII outside strings", "SELECT caf\xc3\xa9", FL_INVALID, "Unexpected character 0xc3"),
	BAD("hex number", "SELECT 0x1F", FL_INVALID, "Invalid number"),
	BAD("digits then letters", "SELECT 1abc", FL_INVALID, "Invalid number"),

	/* ---- types ---- */
	BAD("cast to regclass", "SELECT CAST('pg_user' AS regclass)", FL_INVALID,
	    "Unknown type: regclass"),
	BAD("cast to row", "SELECT CAST(1 AS row(a int))", FL_INVALID, "Unknown type: row(a int)"),
	BAD("cast without AS", "SELECT CAST(1)", FL_INVALID, "CAST needs ( expression AS type )"),
	BAD("try_cast to json", "SELECT TRY_CAST('1' AS json)", FL_INVALID,
	    "TRY_CAST to json is not supported"),
	BAD("decimal too wide", "SELECT CAST(1 AS decimal(39,2))", FL_INVALID,
	    "Unknown type: decimal(39,2)"),
	BAD("unknown literal type", "SELECT foo 'bar'", FL_INVALID, "Unknown type: foo"),
	BAD("interval without unit", "SELECT INTERVAL '1 day'", FL_INVALID, "needs a unit"),
	BAD("bad EXTRACT field", "SELECT EXTRACT(epoch FROM current_date)", FL_INVALID,
	    "Invalid EXTRACT field epoch"),
	BAD("odd binary literal", "SELECT X'ABC'", FL_INVALID, "even number of digits"),
	BAD("binary literal with a non-hex digit", "SELECT X'AG'", FL_INVALID,
	    "hexadecimal digits"),

	/* ---- struct fields ---- */
	BAD("unknown struct field", "SELECT payload.nope FROM events", FL_INVALID,
	    "line 1:8: Column 'payload.nope' cannot be resolved"),
	BAD("unknown nested field", "SELECT x, e.payload.inner.y FROM events e", FL_INVALID,
	    "line 1:11: Column 'e.payload.inner.y' cannot be resolved"),
	BAD("field of an array", "SELECT e.tags.x FROM events e", FL_INVALID,
	    "line 1:8: Expression 'e.tags' is not of type ROW"),
	BAD("field of a struct's scalar", "SELECT payload.inner.x.y FROM events", FL_INVALID,
	    "line 1:8: Expression 'payload.inner.x' is not of type ROW"),
	BAD("field of a scalar", "SELECT event_name.x FROM events", FL_INVALID, "not of type ROW"),

	/* ---- lexical errors, with their place ---- */
	BAD("unterminated string", "SELECT 'abc", FL_INVALID,
	    "Unterminated string literal at line 1, column 8"),
	BAD("unterminated string on line 2", "SELECT 1,\n  'abc", FL_INVALID,
	    "Unterminated string literal at line 2, column 3"),
	BAD("unterminated comment", "SELECT 1 /* x", FL_INVALID,
	    "Unterminated comment at line 1, column 10"),
	BAD("unterminated identifier", "SELECT \"abc", FL_INVALID, "Unterminated quoted identifier"),
	BAD("empty identifier", "SELECT \"\" FROM events", FL_INVALID, "Zero-length delimited"),
	BAD("unclosed parenthesis", "SELECT (1", FL_INVALID, "Unclosed '(' at line 1, column 8"),
	BAD("unbalanced parenthesis", "SELECT 1)", FL_INVALID, "Unbalanced ')'"),
	BAD("mismatched brackets", "SELECT tags[1) FROM events", FL_INVALID, "Unbalanced ')'"),
};

static bool check_tables(const struct fl_sql_rewrite *out, const char *want)
{
	char got[4096] = "";
	size_t n = 0;
	for (size_t i = 0; i < out->ntables && n < sizeof got; i++)
		n += (size_t)snprintf(got + n, sizeof got - n, "%s%s.%s", i ? "," : "",
				      out->tables[i].db, out->tables[i].tbl);
	if (strcmp(got, want) != 0) {
		print_error("tables: got '%s', want '%s'\n", got, want);
		return false;
	}
	return true;
}

static void test_cases(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rcase *c = &cases[i];
		struct fl_sql_rewrite out;
		struct fl_error err;
		memset(&err, 0, sizeof err);
		enum fl_result r = fl_sql_rewrite(c->in, &cat, &out, &err);
		const char *sql = out.sql.data ? out.sql.data : "";
		if (c->out) {
			if (r != FL_OK || strcmp(sql, c->out) != 0) {
				print_error("case '%s': result %d (%s)\n  got:  %s\n  want: %s\n", c->name,
					    r, r ? err.msg : "", sql, c->out);
				failed++;
			} else if (c->tables && !check_tables(&out, c->tables)) {
				print_error("case '%s': wrong tables\n", c->name);
				failed++;
			}
		} else if (r != c->code || !strstr(err.msg, c->msg) || out.sql.len != 0 ||
			   out.ntables != 0) {
			print_error("case '%s': result %d, want %d; message '%s', want '%s'; out '%s'\n",
				    c->name, r, c->code, r ? err.msg : "", c->msg, sql);
			failed++;
		}
		fl_sql_rewrite_free(&out);
	}
	assert_int_equal(failed, 0);
}

/* ---- limits ---- */

static void test_limits(void **state)
{
	(void)state;
	struct fl_sql_rewrite out;
	struct fl_error err;
	struct fl_buf q;
	char want[64];

	/* 64 distinct tables are fine, the 65th is refused */
	fl_buf_init(&q, 1 << 20);
	assert_int_equal(fl_buf_adds(&q, "SELECT 1 FROM many.t0"), FL_OK);
	for (int i = 1; i < FL_SQL_MAX_TABLES; i++)
		assert_int_equal(fl_buf_printf(&q, ", many.t%d", i), FL_OK);
	assert_int_equal(fl_buf_adds(&q, ", many.t0"), FL_OK);
	assert_int_equal(fl_sql_rewrite(q.data, &cat, &out, &err), FL_OK);
	assert_int_equal(out.ntables, FL_SQL_MAX_TABLES);
	snprintf(want, sizeof want, "t%d", FL_SQL_MAX_TABLES - 1);
	assert_string_equal(out.tables[FL_SQL_MAX_TABLES - 1].tbl, want);
	assert_string_equal(out.tables[0].db, "many");
	fl_sql_rewrite_free(&out);
	assert_int_equal(fl_buf_printf(&q, ", many.t%d", FL_SQL_MAX_TABLES), FL_OK);
	assert_int_equal(fl_sql_rewrite(q.data, &cat, &out, &err), FL_INVALID);
	assert_non_null(strstr(err.msg, "more than 64 tables"));
	fl_sql_rewrite_free(&out);

	/* nesting */
	fl_buf_reset(&q);
	assert_int_equal(fl_buf_adds(&q, "SELECT "), FL_OK);
	for (int i = 0; i < 250; i++)
		assert_int_equal(fl_buf_adds(&q, "("), FL_OK);
	assert_int_equal(fl_sql_rewrite(q.data, &cat, &out, &err), FL_INVALID);
	assert_non_null(strstr(err.msg, "nested too deeply"));
	fl_sql_rewrite_free(&out);

	/* Athena's QueryString limit, in characters */
	fl_buf_reset(&q);
	assert_int_equal(fl_buf_adds(&q, "SELECT '"), FL_OK);
	while (q.len < FL_SQL_MAX_LEN - 1)
		assert_int_equal(fl_buf_addc(&q, 'x'), FL_OK);
	assert_int_equal(fl_buf_addc(&q, '\''), FL_OK);
	assert_int_equal(q.len, FL_SQL_MAX_LEN);
	assert_int_equal(fl_sql_rewrite(q.data, &cat, &out, &err), FL_OK);
	assert_int_equal(out.sql.len, FL_SQL_MAX_LEN);
	fl_sql_rewrite_free(&out);
	q.data[q.len - 1] = 'x';
	assert_int_equal(fl_buf_adds(&q, "'"), FL_OK);
	assert_int_equal(fl_sql_rewrite(q.data, &cat, &out, &err), FL_TOO_LARGE);
	fl_sql_rewrite_free(&out);
	/* ... characters, not bytes: é is two bytes */
	fl_buf_reset(&q);
	assert_int_equal(fl_buf_adds(&q, "SELECT '"), FL_OK);
	while (q.len < FL_SQL_MAX_LEN + 2)
		assert_int_equal(fl_buf_adds(&q, "\xc3\xa9"), FL_OK);
	assert_int_equal(fl_buf_addc(&q, '\''), FL_OK);
	assert_int_equal(fl_sql_rewrite(q.data, &cat, &out, &err), FL_OK);
	fl_sql_rewrite_free(&out);

	/* many struct accesses grow the text: still bounded, never cut */
	fl_buf_reset(&q);
	assert_int_equal(fl_buf_adds(&q, "SELECT s[1].a"), FL_OK);
	while (q.len < FL_SQL_MAX_LEN - 100)
		assert_int_equal(fl_buf_adds(&q, ",s[1].a"), FL_OK);
	assert_int_equal(fl_buf_adds(&q, " FROM many.t"), FL_OK);
	assert_int_equal(fl_sql_rewrite(q.data, &cat, &out, &err), FL_TOO_LARGE);
	assert_int_equal(out.sql.len, 0);
	fl_sql_rewrite_free(&out);
	fl_buf_free(&q);
}

/* ---- Glue types ---- */

struct tcase {
	const char *glue;
	const char *pg;   /* NULL: unknown */
};

static const struct tcase types[] = {
	{ "string", "text" }, { "char(10)", "text" }, { "varchar(65535)", "text" },
	{ "bigint", "bigint" }, { "int", "integer" }, { "integer", "integer" },
	{ "smallint", "smallint" }, { "tinyint", "smallint" }, { "double", "double precision" },
	{ "float", "real" }, { "boolean", "boolean" }, { "timestamp", "timestamp" },
	{ "date", "date" }, { "decimal(10,2)", "numeric(10,2)" }, { "decimal", "numeric(10,0)" },
	{ "decimal(5)", "numeric(5,0)" }, { "DECIMAL( 12 , 3 )", "numeric(12,3)" },
	{ "decimal(38,38)", "numeric(38,38)" }, { "binary", "bytea" }, { " STRING ", "text" },
	{ "array<string>", "text[]" }, { "array<decimal(10,2)>", "numeric(10,2)[]" },
	{ "array<bigint>", "bigint[]" }, { "array<struct<a:int>>", "jsonb" },
	{ "array<array<int>>", "jsonb" }, { "array<map<string,int>>", "jsonb" },
	{ "struct<a:int,b:array<string>,c:decimal(3,1)>", "jsonb" },
	{ "map<string,int>", "jsonb" }, { "struct<`a b`:string>", "jsonb" },
	{ "struct<item:string,qty:bigint,inner:struct<x:double>>", "jsonb" },
	{ "", NULL }, { "nope", NULL }, { "decimal(40,2)", NULL }, { "decimal(5,6)", NULL },
	{ "decimal(0)", NULL }, { "decimal(10,2", NULL }, { "varchar(x)", NULL },
	{ "struct<>", NULL }, { "struct<a>", NULL }, { "struct<a:nope>", NULL },
	{ "array<nope>", NULL }, { "map<string>", NULL }, { "array<string", NULL },
	{ "array<>", NULL }, { "varbinary", NULL }, { "json", NULL }, { "real", NULL },
	{ "double precision", NULL }, { "timestamp(3)", NULL }, { "array(varchar)", NULL },
};

static void test_pg_types(void **state)
{
	(void)state;
	char out[128];
	int failed = 0;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		bool ok = fl_sql_pg_type(types[i].glue, out, sizeof out);
		if (ok != (types[i].pg != NULL) || (ok && strcmp(out, types[i].pg) != 0)) {
			print_error("type '%s': got %s '%s', want '%s'\n", types[i].glue,
				    ok ? "true" : "false", ok ? out : "", types[i].pg ? types[i].pg : "-");
			failed++;
		}
	}
	assert_int_equal(failed, 0);
	assert_false(fl_sql_pg_type(NULL, out, sizeof out));
	assert_false(fl_sql_pg_type("double", out, 5));        /* does not fit */
	assert_true(fl_sql_pg_type("double", out, 17));
	assert_false(fl_sql_pg_type("double", out, 16));

	/* nesting is bounded: a hostile type string cannot exhaust the stack */
	char deep[4096] = "";
	for (int i = 0; i < 50; i++)
		strcat(deep, "array<");
	strcat(deep, "int");
	for (int i = 0; i < 50; i++)
		strcat(deep, ">");
	assert_true(fl_sql_pg_type(deep, out, sizeof out));
	assert_string_equal(out, "jsonb");
	deep[0] = '\0';
	for (int i = 0; i < 500; i++)
		strcat(deep, "array<");
	strcat(deep, "int");
	for (int i = 0; i < 500; i++)
		strcat(deep, ">");
	assert_false(fl_sql_pg_type(deep, out, sizeof out));
}

/* ---- every rewritten query runs in PostgreSQL ---- */

static char tmp[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void exec_ok(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

static void make_tables(PGconn *conn)
{
	static const char *const tries[][2] = {
		{ "text", "text" }, { "bigint", "bigint" }, { "integer", "integer" },
		{ "smallint", "smallint" }, { "double", "double precision" }, { "real", "real" },
		{ "boolean", "boolean" }, { "date", "date" }, { "timestamp", "timestamp" },
		{ "numeric", "numeric" },
	};
	char sql[2048];
	exec_ok(conn, "CREATE SCHEMA \"default\"; CREATE SCHEMA sales;");
	for (size_t i = 0; i < sizeof mock_tables / sizeof mock_tables[0]; i++) {
		const struct mock_table *t = &mock_tables[i];
		size_t n = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE \"%s\".\"%s\" (", t->db, t->tbl);
		for (size_t c = 0; c < t->n; c++) {
			char pg[128];
			assert_true(fl_sql_pg_type(t->cols[c].type, pg, sizeof pg));
			n += (size_t)snprintf(sql + n, sizeof sql - n, "%s\"%s\" %s", c ? ", " : "",
					      t->cols[c].name, pg);
		}
		snprintf(sql + n, sizeof sql - n, ")");
		exec_ok(conn, sql);
	}
	/* stand-ins of sql/'s fl_try_cast_<t>: same names, NULL always */
	for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
		snprintf(sql, sizeof sql,
			 "CREATE FUNCTION fl_try_cast_%s(text) RETURNS %s LANGUAGE sql AS 'SELECT NULL::%s';"
			 "CREATE FUNCTION fl_try_cast_%s(anyelement) RETURNS %s LANGUAGE sql "
			 "AS 'SELECT NULL::%s'", tries[i][0], tries[i][1], tries[i][1], tries[i][0],
			 tries[i][1], tries[i][1]);
		exec_ok(conn, sql);
	}
}

static void test_runs_in_postgres(void **state)
{
	(void)state;
	struct fl_pgembed *pg = NULL;
	struct fl_error err;
	char conninfo[1024], dir[PATH_MAX + 8];
	int failed = 0, checked = 0;
	snprintf(dir, sizeof dir, "%s/pg", tmp);
	if (fl_pgembed_start(dir, &pg, conninfo, sizeof conninfo, &err) != FL_OK)
		fail_msg("fl_pgembed_start: %s", err.msg);
	PGconn *conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(conn));
	make_tables(conn);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rcase *c = &cases[i];
		struct fl_sql_rewrite out;
		if (!c->out || c->no_pg)
			continue;
		assert_int_equal(fl_sql_rewrite(c->in, &cat, &out, &err), FL_OK);
		PGresult *res = PQprepare(conn, "", out.sql.data, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			print_error("case '%s': PostgreSQL refuses %s\n  %s", c->name, out.sql.data,
				    PQerrorMessage(conn));
			failed++;
		}
		checked++;
		PQclear(res);
		fl_sql_rewrite_free(&out);
	}
	PQfinish(conn);
	fl_pgembed_stop(pg);
	assert_true(checked > 40);
	assert_int_equal(failed, 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/fl-test-sqlrewrite-XXXXXX");
	if (!mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (tmp[0] && !getenv("FL_TEST_KEEP"))
		nftw(tmp, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_pg_types),
		cmocka_unit_test(test_runs_in_postgres),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
