/*
 * fuzz_athena_sql.c - an Athena QueryString through everything that reads
 * it before PostgreSQL does: the statement classifier and the DDL parser
 * (athena_ddl.c), the Trino lexer (sqllex.c) and the query rewriter
 * (sqlrewrite.c, sqlscope.c) over a fixed catalog.
 *
 * Design.  The input is the query text (up to its first NUL, as
 * StartQueryExecution's string arrives).  Checked beside the sanitizers:
 *  - every failure has a message, UTF-8 when the query is (messages quote
 *    the query and travel in JSON answers);
 *  - fl_ddl_statement_type is DDL, UTILITY or DML; a statement that
 *    fl_ddl_parse accepts is one fl_ddl_is_ddl claims (else it would run
 *    as a query), of the type its kind says;
 *  - a parsed statement holds NUL-ended names, a JSON object spec, and
 *    partitions whose Keys and Values pair up;
 *  - CREATE EXTERNAL TABLE round trip: SHOW CREATE TABLE's text of the
 *    parsed table (fl_ddl_create_text) parses back to the same spec (the
 *    promise of athena_ddl_text.h); DESCRIBE rows of it can be made;
 *  - partition specs round trip through Hive's path names
 *    (fl_ddl_partition_name, fl_ddl_path_value);
 *  - SHOW ... LIKE patterns match without blowing up;
 *  - the lexer's tokens lie inside the text, in order, END last; pairing
 *    answers FL_OK or FL_INVALID;
 *  - a rewritten query, read by PostgreSQL's lexical rules, holds no ';',
 *    no comment and no '$' outside its literals, its quotes are closed,
 *    and every table it names is one of the catalog's: nothing but one
 *    query over the lake reaches PostgreSQL.
 */
#include <ctype.h>
#include <jansson.h>

#include "athena_ddl.h"
#include "athena_ddl_text.h"
#include "buf.h"
#include "fuzz.h"
#include "sqllex.h"
#include "sqlrewrite.h"

static const struct fl_sql_column events_cols[] = {
	{ "event_uuid", "string" }, { "event_name", "string" }, { "created_at", "bigint" },
	{ "created_datetime", "timestamp" },
	{ "payload", "struct<item:string,qty:bigint,inner:struct<x:double>>" },
	{ "tags", "array<string>" }, { "amount", "decimal(10,2)" }, { "day", "date" },
	{ "event_type", "string" }, { "dt", "string" },
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

static const struct {
	const char *db, *tbl;
	const struct fl_sql_column *cols;
	size_t n;
} tables[] = {
	{ "default", "events", events_cols, sizeof events_cols / sizeof events_cols[0] },
	{ "default", "users", users_cols, sizeof users_cols / sizeof users_cols[0] },
	{ "sales", "orders", orders_cols, sizeof orders_cols / sizeof orders_cols[0] },
};

static bool table(void *arg, const char *db, const char *tbl, const struct fl_sql_column **cols,
		  size_t *ncols)
{
	(void)arg;
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		if (!strcmp(db, tables[i].db) && !strcmp(tbl, tables[i].tbl)) {
			*cols = tables[i].cols;
			*ncols = tables[i].n;
			return true;
		}
	return false;
}

static const struct fl_sql_catalog catalog = { NULL, "default", table };

static bool utility_kind(enum fl_ddl_kind k)
{
	return k == FL_DDL_SHOW_DATABASES || k == FL_DDL_SHOW_TABLES ||
	       k == FL_DDL_SHOW_PARTITIONS || k == FL_DDL_SHOW_COLUMNS ||
	       k == FL_DDL_SHOW_TBLPROPERTIES;
}

static void check_partitions(const json_t *parts)
{
	size_t i;
	json_t *p;

	FUZZ_CHECK(json_is_array(parts));
	json_array_foreach(parts, i, p) {
		const json_t *keys = json_object_get(p, "Keys"), *vals = json_object_get(p, "Values");
		const char *k[64], *v[64];
		size_t n = json_array_size(keys);
		struct fl_buf name;

		FUZZ_CHECK(json_is_array(keys) && json_is_array(vals));
		FUZZ_CHECK(n == json_array_size(vals) && n > 0);
		if (n > 64)
			continue;
		for (size_t j = 0; j < n; j++) {
			k[j] = json_string_value(json_array_get(keys, j));
			v[j] = json_string_value(json_array_get(vals, j));
			FUZZ_CHECK(k[j] && v[j]);
		}
		/* k=v/k2=v2 and back: each value reads back from its segment. */
		fl_buf_init(&name, 1 << 20);
		if (fl_ddl_partition_name(k, n, v, &name) == FL_OK) {
			const char *s = name.data;
			for (size_t j = 0; j < n; j++) {
				const char *eq = strchr(s, '='), *slash;
				char back[256];
				FUZZ_CHECK(eq != NULL);
				slash = strchr(eq, '/');
				if (!slash)
					slash = eq + strlen(eq);
				FUZZ_CHECK((j == n - 1) == (*slash == '\0'));
				if (fl_ddl_path_value(eq + 1, (size_t)(slash - eq - 1), back))
					FUZZ_CHECK(!strcmp(back, v[j]));
				else
					FUZZ_CHECK(v[j][0] == '\0' || strlen(v[j]) > 255);
				s = slash + (*slash == '/');
			}
		}
		fl_buf_free(&name);
	}
}

/* SHOW CREATE TABLE of the parsed table parses back to it. */
static void round_trip(const struct fl_ddl_stmt *st)
{
	json_t *t = json_deep_copy(st->spec), *rows = json_array();
	const char *db = st->db[0] ? st->db : "default";
	struct fl_ddl_stmt *again = NULL;
	struct fl_error err = { FL_OK, "", "" };
	struct fl_buf text;

	fl_buf_init(&text, 8 << 20);
	if (!t || !rows)
		goto done;
	json_object_set_new(t, "Name", json_string(st->table));
	json_object_set_new(t, "DatabaseName", json_string(db));
	FUZZ_CHECK(fl_ddl_describe_rows(db, t, true, rows) == FL_OK);
	FUZZ_CHECK(fl_ddl_create_text(db, st->table, t, &text) == FL_OK);
	if (fl_ddl_parse(text.data, &again, &err) != FL_OK) {
		fprintf(stderr, "SHOW CREATE TABLE text does not parse back: %s\n---\n%s\n", err.msg,
			text.data);
		FUZZ_CHECK(!"create text does not parse");
	}
	if (!json_equal(st->spec, again->spec)) {
		char *x = json_dumps(st->spec, JSON_SORT_KEYS), *y = json_dumps(again->spec,
										JSON_SORT_KEYS);
		fprintf(stderr, "---\n%s\nbefore %s\nafter  %s\n", text.data, x, y);
		free(x);
		free(y);
		FUZZ_CHECK(!"create text parses to another table");
	}
	FUZZ_CHECK(!strcmp(again->table, st->table) && !strcmp(again->db, db));
done:
	fl_ddl_stmt_free(again);
	json_decref(t);
	json_decref(rows);
	fl_buf_free(&text);
}

static void run_ddl(const char *sql)
{
	const char *type = fl_ddl_statement_type(sql);
	bool is_ddl = fl_ddl_is_ddl(sql);
	struct fl_ddl_stmt *st = NULL;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r;

	FUZZ_CHECK(!strcmp(type, "DDL") || !strcmp(type, "UTILITY") || !strcmp(type, "DML"));
	r = fl_ddl_parse(sql, &st, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_INVALID || r == FL_INTERNAL);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK_MESSAGE_UTF8(sql, strlen(sql), err.msg);
		FUZZ_CHECK(st == NULL);
		return;
	}
	FUZZ_CHECK(st != NULL);
	if (!is_ddl) {
		fprintf(stderr, "parsed as DDL kind %d, but not DDL by fl_ddl_is_ddl\n", st->kind);
		FUZZ_CHECK(!"parse and is_ddl disagree");
	}
	FUZZ_CHECK(st->kind >= FL_DDL_SHOW_DATABASES && st->kind <= FL_DDL_DROP_DATABASE);
	FUZZ_CHECK(!strcmp(type, utility_kind(st->kind) ? "UTILITY" : "DDL"));
	FUZZ_CHECK(memchr(st->db, '\0', sizeof st->db) && memchr(st->table, '\0', sizeof st->table));
	if (st->spec)
		FUZZ_CHECK(json_is_object(st->spec));
	if (st->partitions)
		check_partitions(st->partitions);
	if (st->pattern) {
		(void)fl_ddl_pattern_match(st->pattern, "events");
		(void)fl_ddl_pattern_match(st->pattern, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	}
	if (st->kind == FL_DDL_CREATE_TABLE && st->spec)
		round_trip(st);
	fl_ddl_stmt_free(st);
}

static void run_lex(const char *sql)
{
	struct fl_sql_lex lx;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r = fl_sql_lex(sql, &lx, &err);
	size_t len = strlen(sql);

	FUZZ_CHECK(r == FL_OK || r == FL_INVALID || r == FL_INTERNAL);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK_MESSAGE_UTF8(sql, len, err.msg);
		goto done;
	}
	FUZZ_CHECK(lx.n >= 1 && lx.t[lx.n - 1].kind == FL_SQL_TK_END);
	for (int i = 0; i < lx.n; i++) {
		const struct fl_sql_tok *t = &lx.t[i];
		FUZZ_CHECK(t->text >= sql && t->text + t->len <= sql + len);
		if (i > 0)
			FUZZ_CHECK(t->text >= lx.t[i - 1].text + lx.t[i - 1].len);
		FUZZ_CHECK((t->kind == FL_SQL_TK_END) == (i == lx.n - 1));
		if (t->kind == FL_SQL_TK_IDENT || t->kind == FL_SQL_TK_QIDENT ||
		    t->kind == FL_SQL_TK_BINARY)
			FUZZ_CHECK(t->name != NULL);
	}
	memset(&err, 0, sizeof err);
	r = fl_sql_lex_pair(lx.t, lx.n, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_INVALID);
	if (r != FL_OK)
		FUZZ_CHECK_ERROR(r, err);
done:
	fl_sql_lex_free(&lx);
}

/* PostgreSQL's reading of the rewritten text: no second statement, no
 * comment, no parameter or dollar quote outside literals. */
static void check_pg_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\'' || c == '"') {
			bool e = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
				 (i < 2 || !(isalnum((unsigned char)s[i - 2]) || s[i - 2] == '_'));
			for (i++;; i++) {
				FUZZ_CHECK(i < n);    /* an unclosed literal */
				if (e && s[i] == '\\') {
					i++;
					continue;
				}
				if (s[i] == c) {
					if (i + 1 < n && s[i + 1] == c) {
						i++;
						continue;
					}
					break;
				}
			}
			continue;
		}
		if (c == ';' || c == '$' || (c == '-' && i + 1 < n && s[i + 1] == '-') ||
		    (c == '/' && i + 1 < n && s[i + 1] == '*')) {
			fprintf(stderr, "rewritten text has '%c' at %zu: %s\n", c, i, s);
			FUZZ_CHECK(!"rewritten text escapes one query");
		}
	}
}

static void run_rewrite(const char *sql)
{
	struct fl_sql_rewrite out;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r = fl_sql_rewrite(sql, &catalog, &out, &err);

	FUZZ_CHECK(r == FL_OK || r == FL_INVALID || r == FL_NOT_FOUND || r == FL_TOO_LARGE ||
		   r == FL_INTERNAL);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK_MESSAGE_UTF8(sql, strlen(sql), err.msg);
		goto done;
	}
	FUZZ_CHECK(out.ntables <= FL_SQL_MAX_TABLES);
	for (size_t i = 0; i < out.ntables; i++) {
		const struct fl_sql_column *cols;
		size_t n;
		FUZZ_CHECK(table(NULL, out.tables[i].db, out.tables[i].tbl, &cols, &n));
	}
	FUZZ_CHECK(out.sql.data != NULL && strlen(out.sql.data) == out.sql.len);
	check_pg_text(out.sql.data, out.sql.len);
done:
	fl_sql_rewrite_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = fuzz_strndup(data, size);

	if (!sql)
		return 0;
	run_ddl(sql);
	run_lex(sql);
	run_rewrite(sql);
	free(sql);
	return 0;
}
