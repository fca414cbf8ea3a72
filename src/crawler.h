/*
 * crawler.h - Glue crawlers: their API (crawler.c) and their runs (crawl.c).
 *
 * A crawler is a row of fl_glue_crawlers.  StartCrawler marks it RUNNING
 * (with this process as its runner) and hands the crawl to a thread of
 * this process; the thread heartbeats the row, and at the end writes
 * LastCrawl and sets READY.  StopCrawler sets STOPPING; the crawl checks
 * between files and ends early (LastCrawl CANCELLED).  A RUNNING or
 * STOPPING row whose heartbeat is older than FL_CRAWL_STALE_S belongs to
 * a process that died: it is set back to READY (LastCrawl FAILED) by
 * whoever notices it first (GetCrawler, StartCrawler, start-up).
 *
 * A crawl (crawl.c) of an S3 target s3://bucket/prefix lists the objects
 * under the prefix in the lake's storage, and
 *   - groups them by their first folder under the prefix: one table per
 *     folder (named TablePrefix + folder name, as a Glue name), or one
 *     table named after the prefix's last folder when the files sit
 *     directly under it;
 *   - reads Hive-style key=value/ folders below that as partition keys
 *     (string), in folder order; a table whose files disagree on the keys
 *     keeps the keys of the first file and skips the others (counted);
 *   - reads each file whole: NDJSON (.json, .ndjson, .jsonl, or content
 *     starting with '{') or CSV with a header line (.csv), each optionally
 *     gzip (by magic bytes); others are skipped (counted);
 *   - infers and merges the schema (schema.h), registers the table
 *     (first crawl) or merges its columns (next crawls), its partitions
 *     and each object (kind "crawled", record count, created_at range);
 *   - reads files on FL_CRAWL_THREADS threads.
 * Exclusions of the target (Exclusions glob patterns) are honoured.
 */
#ifndef FL_CRAWLER_H
#define FL_CRAWLER_H

#include "http.h"
#include "result.h"

#define FL_CRAWL_STALE_S 60
#define FL_CRAWL_THREADS 2

struct fl_server;
struct fl_crawlers;

/* The crawl runner of this process.  new: sets back crawlers left
 * RUNNING by a dead process.  free: asks running crawls to stop and waits
 * for them (their rows end READY, LastCrawl CANCELLED). */
enum fl_result fl_crawlers_new(struct fl_server *srv, struct fl_crawlers **out,
			       struct fl_error *err) FL_MUST_USE;
void fl_crawlers_free(struct fl_crawlers *c);

/* Glue operations CreateCrawler, GetCrawler, GetCrawlers, DeleteCrawler,
 * StartCrawler, StopCrawler, UpdateCrawler, ListCrawlers, GetCrawlerMetrics:
 * the handler, or NULL. */
fl_handler_fn fl_crawler_handler(const char *op);

/* One crawl, run synchronously (crawl.c; the runner's thread calls it,
 * tests call it directly).  spec is the crawler's stored spec (Targets,
 * DatabaseName, TablePrefix ...).  stop is polled between files.  The
 * outcome counters go to *summary (caller owns; NULL is fine):
 * {"TablesCreated", "TablesUpdated", "PartitionsCreated", "FilesRead",
 *  "FilesSkipped", "RecordsRead", "RecordsSkipped" (malformed lines or
 *  rows), "BytesRead"}. */
#include <jansson.h>
#include <stdatomic.h>
enum fl_result fl_crawl_run(struct fl_server *srv, const char *crawler, const json_t *spec,
			    const _Atomic int *stop, json_t **summary,
			    struct fl_error *err) FL_MUST_USE;

/* Splits an S3 target path "s3://bucket[/prefix]" into its bucket and
 * its prefix (with one trailing '/', or "" for the whole bucket).
 * FL_INVALID with a message naming the path otherwise (crawler.c: the
 * API checks targets with it, and crawl.c reads them). */
enum fl_result fl_crawl_s3_path(const char *path, char bucket[64], char *prefix,
				size_t prefix_len, struct fl_error *err) FL_MUST_USE;

#endif
