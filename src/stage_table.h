/*
 * stage_table.h - the PostgreSQL tables of the staged lake: made from the
 * Glue documents and kept in step with them (the DDL half of stage.h).
 *
 * Used by stage.c only.  A table db.tbl is "db"."tbl"; the levels of its
 * partition tree (and its leaves) are "db"."p_<16 hex>", named by
 * fl_stage_level_name; the comment of the table lists its partition keys
 * ("firelake keys: k1,k2").
 */
#ifndef FL_STAGE_TABLE_H
#define FL_STAGE_TABLE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "catalog.h"
#include "result.h"
#include "stage_copy.h"

#define FL_STAGE_NAME_MAX 63          /* PostgreSQL's NAMEDATALEN - 1 */

/* What staging reads of a Glue table's document. */
struct fl_stage_glue_col {
	char name[FL_STAGE_NAME_MAX + 1];
	char pg[128];                  /* PostgreSQL type (fl_sql_pg_type) */
	size_t pos;                    /* index in StorageDescriptor.Columns */
	bool fold_keys;                /* struct<..> or array<struct<..>>: see fl_stage_col */
};
struct fl_stage_glue {
	json_t *spec;                  /* owned */
	struct fl_stage_glue_col *cols; /* owned: the columns PostgreSQL can take */
	size_t ncols;
	char keys[FL_CATALOG_MAX_KEYS][FL_STAGE_NAME_MAX + 1];
	size_t nkeys;
	enum fl_stage_format format;
	char delim;
	unsigned skip_lines;
	const json_t *serde_params;    /* borrowed from spec: mapping.<col> ... */
};

/* Reads db.tbl's document (FL_NOT_FOUND without the table; FL_INVALID
 * for a format staging cannot read).  version/created may be NULL. */
enum fl_result fl_stage_glue_load(PGconn *conn, const char *db, const char *tbl,
				  struct fl_stage_glue *g, long long *version,
				  char created[64], struct fl_error *err) FL_MUST_USE;
void fl_stage_glue_free(struct fl_stage_glue *g);

/* The names of the tables made per Glue table (the built version_id /
 * created_at of each), shared by threads. */
struct fl_stage_tables;
enum fl_result fl_stage_tables_new(struct fl_stage_tables **out,
				   struct fl_error *err) FL_MUST_USE;
void fl_stage_tables_free(struct fl_stage_tables *t);

/* fl_stage_sync_table's work, on a borrowed connection (no transaction
 * open). */
enum fl_result fl_stage_tables_sync(struct fl_stage_tables *t, PGconn *conn, const char *db,
				    const char *tbl, struct fl_error *err) FL_MUST_USE;

/* FL_INVALID unless db and tbl can be a schema and a table name. */
enum fl_result fl_stage_check_names(const char *db, const char *tbl,
				    struct fl_error *err) FL_MUST_USE;

/* The level of tbl's tree holding vals[0, n): tbl itself for n = 0. */
void fl_stage_level_name(const char *tbl, const char *const *vals, size_t n, char out[64]);

/* A text[] literal of strings ({"a","b\"c"}) appended to b. */
enum fl_result fl_stage_text_array(const char *const *v, size_t n, struct fl_buf *b) FL_MUST_USE;

/* A JSON array of strings (to_json of a text[]) as strdup'ed values
 * (fl_stage_vals_free); false for anything else. */
bool fl_stage_json_vals(const char *text, char ***vals, size_t *n);
void fl_stage_vals_free(char **vals, size_t n);

/* "db"."rel" appended to b. */
enum fl_result fl_stage_qname(PGconn *conn, const char *db, const char *rel, struct fl_buf *b,
			      struct fl_error *err) FL_MUST_USE;

/* Runs sql (several statements allowed): lock timeouts and deadlocks are
 * FL_RETRY, a lost connection FL_UNAVAILABLE, the rest FL_INTERNAL. */
enum fl_result fl_stage_run(PGconn *conn, const char *sql, struct fl_error *err) FL_MUST_USE;
/* Rolls back the transaction open on conn, if any. */
void fl_stage_rollback(PGconn *conn);

#endif
