/*
 * sqlrewrite.h - Athena (Trino) SQL to the PostgreSQL SQL that runs it.
 *
 * The query engine runs a user's SELECT in PostgreSQL over the staged lake.
 * Every Glue table db.tbl is the PostgreSQL table "db"."tbl" (schema named
 * after its database), with columns typed from Glue types:
 *   string, char(n), varchar(n) -> text      bigint -> bigint
 *   int -> integer      smallint, tinyint -> smallint
 *   double -> double precision   float -> real   boolean -> boolean
 *   timestamp -> timestamp (UTC, no zone)    date -> date
 *   decimal(p,s) -> numeric(p,s)   binary -> bytea
 *   array<scalar> -> <scalar type>[]
 *   array<struct|array|map>, struct<...>, map<k,v> -> jsonb
 *   partition keys -> text (their Glue type, string in firelake's tables)
 *
 * One pass over the tokens (strings, quoted identifiers, comments and
 * numbers are recognised and never rewritten inside) does:
 *   - table references: [AwsDataCatalog.][db.]tbl (quoted or not, any
 *     case) that name a Glue table become "db"."tbl"; an unqualified name
 *     uses the default database; the tables found are listed in out.
 *     A name that is not a table of the catalog (and not a CTE name of
 *     the query) is FL_NOT_FOUND "Table db.tbl does not exist" - so
 *     nothing outside the lake (catalog tables, pg_catalog, other
 *     schemas) can be named;
 *   - struct field access col.f1.f2 (or alias.col.f1, tbl.col.f1) on a
 *     jsonb struct column of a referenced table becomes
 *     ((col -> 'f1' ->> 'f2')::<pg type of f2>), or stays jsonb
 *     (col -> 'f1' -> 'f2') when f2 is itself complex;
 *   - CAST(x AS <trino type>) and TRY_CAST: type names mapped as above
 *     (varchar -> text, double -> double precision, ...); TRY_CAST(x AS
 *     T) becomes fl_try_cast_<t>(x) (functions in sql/, NULL on failure);
 *   - literals Trino has and PostgreSQL spells differently: TIMESTAMP
 *     '...' and DATE '...' are kept (PostgreSQL has them); X'..' binary ok;
 *   - refusals (FL_INVALID, with a message that names the construct):
 *     more than one statement (a ';' followed by anything but space and
 *     comments), anything but SELECT / WITH ... SELECT / VALUES at the top
 *     (EXPLAIN, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, COPY, GRANT,
 *     SET, CALL, DO ...), dollar-quoted strings, PostgreSQL-only syntax
 *     that would change the meaning or escape the lake: '::' casts, E''
 *     strings, and any identifier naming a schema or function prefix
 *     pg_*, information_schema or the catalog's fl_* tables.
 * Function names are left as they are: the Trino functions are provided
 * in the schema fl_trino (sql/), which comes first in the query role's
 * search_path.
 *
 * Errors: FL_INVALID syntax the tokenizer rejects (an unclosed string or
 * comment: "line 1:8: mismatched input" style messages are not needed;
 * say what and where: "Unterminated string literal at line 1, column 8"),
 * FL_NOT_FOUND unknown table/database, FL_INVALID unknown struct field.
 */
#ifndef FL_SQLREWRITE_H
#define FL_SQLREWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

#define FL_SQL_MAX_LEN 262144        /* Athena's QueryString max */
#define FL_SQL_MAX_TABLES 64

struct fl_sql_column {
	const char *name;   /* lower case */
	const char *type;   /* Glue type string */
};

/* What the rewriter may ask of the catalog. */
struct fl_sql_catalog {
	void *arg;
	const char *default_db;
	/* The columns (partition keys included, last) of db.tbl (names lower
	 * case); false when there is no such table.  The arrays stay valid
	 * for the whole rewrite. */
	bool (*table)(void *arg, const char *db, const char *tbl,
		      const struct fl_sql_column **cols, size_t *ncols);
};

struct fl_sql_table_ref {
	char db[256];
	char tbl[256];
};

struct fl_sql_rewrite {
	struct fl_buf sql;                      /* the PostgreSQL text */
	struct fl_sql_table_ref tables[FL_SQL_MAX_TABLES];
	size_t ntables;                         /* distinct tables referenced */
};

/* Rewrites sql (Athena's text) into out (initialised here; free with
 * fl_sql_rewrite_free, also after a failure). */
enum fl_result fl_sql_rewrite(const char *sql, const struct fl_sql_catalog *cat,
			      struct fl_sql_rewrite *out, struct fl_error *err) FL_MUST_USE;
void fl_sql_rewrite_free(struct fl_sql_rewrite *out);

/* The PostgreSQL type of a Glue type string (table above), written to
 * out; false for a type string it does not know. */
bool fl_sql_pg_type(const char *glue_type, char *out, size_t n);

#endif
