/*
 * metrics.h - counters for /metrics (Prometheus text format).
 *
 * Counters are atomics, bumped lock-free from any thread.  Per-stream
 * counters live in a struct fl_stream_metrics that the registry keeps for
 * the life of the process (a deleted stream's counters stay, as counters
 * must never go back).
 */
#ifndef FL_METRICS_H
#define FL_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

#define FL_METRICS_LATENCY_BUCKETS 14

struct fl_stream_metrics {
	char name[65];
	_Atomic uint64_t incoming_records;   /* records acknowledged */
	_Atomic uint64_t incoming_bytes;     /* their decoded bytes */
	_Atomic uint64_t incoming_events;    /* enriched events acknowledged */
	_Atomic uint64_t failed_records;     /* records answered with an ErrorCode */
	_Atomic uint64_t processing_failed;  /* events sent to the error output */
	_Atomic uint64_t objects_delivered;
	_Atomic uint64_t bytes_delivered;
	_Atomic uint64_t delivery_failures;
	_Atomic uint64_t delivery_retries;
	_Atomic int64_t oldest_pending_ms;   /* created_ms of the oldest undelivered segment, 0: none */
	struct fl_stream_metrics *next;      /* registry list, immutable once linked */
};

struct fl_metrics {
	_Atomic uint64_t requests_rejected;  /* whole requests answered with an error */
	_Atomic uint64_t wal_quarantined_bytes;
	_Atomic uint64_t latency_count;
	_Atomic uint64_t latency_sum_us;
	_Atomic uint64_t latency_buckets[FL_METRICS_LATENCY_BUCKETS];
	_Atomic(struct fl_stream_metrics *) streams;
};

void fl_metrics_init(struct fl_metrics *m);
void fl_metrics_free(struct fl_metrics *m);
/* Finds or creates the counters of a stream (borrowed, lives as long as m). */
struct fl_stream_metrics *fl_metrics_stream(struct fl_metrics *m, const char *name);
void fl_metrics_observe_latency(struct fl_metrics *m, uint64_t us);
/* Appends the Prometheus text of all counters; wal_pending_bytes and
 * now_ms are read by the caller. */
enum fl_result fl_metrics_render(struct fl_metrics *m, uint64_t wal_pending_bytes,
				 uint64_t wal_budget_bytes, int64_t now_ms,
				 struct fl_buf *out) FL_MUST_USE;

#endif
