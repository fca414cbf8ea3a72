/*
 * schema_tree.h - the type trees behind struct fl_schema, shared by
 * schema.c (types, merging, type strings, Glue Columns) and
 * schema_infer.c (the line scanner and the observer).
 *
 * Private to those two files: nothing else includes it, and nothing here
 * is part of the contract of schema.h.
 *
 * A type is a node; a struct holds its fields in order, with an
 * open-addressing index of their names (compared ignoring ASCII case)
 * once it has more than a few.  A schema is the root struct: its fields
 * are the columns, which also carry their rendered Glue type string and
 * the Glue Column object they were read from.
 */
#ifndef FL_SCHEMA_TREE_H
#define FL_SCHEMA_TREE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"

/* Longer raw JSON keys give no column name (6 bytes per \uXXXX escape). */
#define FL_SCHEMA_KEY_RAW_MAX ((FL_SCHEMA_NAME_MAX) * 6)

enum kind {
	T_NONE,  /* nothing learnt yet: written string */
	T_BOOLEAN, T_TINYINT, T_SMALLINT, T_INT, T_BIGINT, T_FLOAT, T_DOUBLE,
	T_DECIMAL, T_STRING, T_CHAR, T_VARCHAR, T_TIMESTAMP, T_DATE, T_BINARY,
	T_ARRAY, T_MAP, T_STRUCT,
};

struct field;

struct type {
	enum kind kind;
	unsigned a, b;           /* decimal (precision, scale), char/varchar (n) */
	struct type *elem;       /* array element; map key */
	struct type *val;        /* map value */
	struct field *f;         /* struct fields */
	size_t nf, capf;
	uint32_t *idx;           /* field index + 1, 0 empty; NULL: none */
	size_t idxcap;           /* power of two */
};

struct field {
	char *name;
	char *key;     /* the JSON key when it differs from name, else NULL */
	struct type *t;
	char *tstr;    /* columns only: the Glue type string */
	json_t *col;   /* columns only: the Glue Column object it came from */
};

struct fl_schema {
	struct type root;
	bool given;       /* from fl_schema_from_columns: new columns appended */
	bool positional;  /* fl_schema_new_positional: first-seen order only */
};

/* A node of kind k (caller owns); NULL on ENOMEM. */
struct type *fl_schema_tree_new(enum kind k);
/* Frees t and all it holds; NULL is fine. */
void fl_schema_tree_free(struct type *t);
/* The field of struct t named name (ignoring ASCII case), borrowed; NULL
 * when there is none. */
struct field *fl_schema_tree_find(const struct type *t, const char *name);
/* Inserts *f at position at of struct t (fields after it move up); steals
 * what f holds on success.  -1 on ENOMEM, t unchanged. */
int fl_schema_tree_insert(struct type *t, size_t at, const struct field *f);
/* Joins b (borrowed) into a; *changed is set when a changes.  -1 on
 * ENOMEM (a is then valid but may be half joined). */
int fl_schema_tree_join(struct type *a, const struct type *b, bool *changed);
/* Adds the fields of struct from (borrowed) to s as columns, or joins
 * them into the columns of their names, in the order schema.c's DESIGN
 * says.  -1 on ENOMEM. */
int fl_schema_tree_add_columns(struct fl_schema *s, const struct type *from, bool *changed);

#endif
