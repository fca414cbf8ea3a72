/*
 * server.h - what one firelake process holds, shared by every part.
 *
 * Built by main.c at start, torn down at exit; every field is either
 * immutable after start or thread-safe itself.
 */
#ifndef FL_SERVER_H
#define FL_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "metrics.h"
#include "wal.h"

struct fl_db;
struct fl_storage;
struct fl_streams;
struct fl_delivery;
struct fl_crawlers;
struct fl_stage;
struct fl_query_engine;

struct fl_server {
	struct fl_config cfg;           /* immutable */
	struct fl_db *db;               /* the catalog */
	struct fl_storage *storage;     /* the lake */
	struct fl_streams *streams;     /* live delivery streams */
	struct fl_delivery *delivery;   /* batcher + delivery workers */
	struct fl_crawlers *crawlers;   /* crawls running in this process */
	struct fl_stage *stage;         /* the staged lake (query engine) */
	struct fl_query_engine *query;  /* Athena query workers */
	struct fl_metrics metrics;
	struct fl_wal_budget budget;    /* shared by every stream's WAL */
	char wal_dir[4200];             /* <data-dir>/wal */
	char region[32];
	int64_t (*now_ms)(void);        /* injected clock */
	_Atomic bool storage_ok;        /* last delivery's view of storage */
};

int64_t fl_now_ms(void);

#endif
