/*
 * metrics.c - Prometheus counters.
 *
 * The stream list is append-only: a new entry is linked with a
 * compare-and-swap at the head, so readers walk it without a lock.
 */
#include "metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds of the request latency histogram, in microseconds. */
static const uint64_t bounds_us[FL_METRICS_LATENCY_BUCKETS] = {
	500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000,
	500000, 1000000, 2000000, 5000000, 10000000,
};

void fl_metrics_init(struct fl_metrics *m)
{
	memset(m, 0, sizeof *m);
}

void fl_metrics_free(struct fl_metrics *m)
{
	struct fl_stream_metrics *s = atomic_load(&m->streams);
	while (s) {
		struct fl_stream_metrics *next = s->next;
		free(s);
		s = next;
	}
	atomic_store(&m->streams, NULL);
}

struct fl_stream_metrics *fl_metrics_stream(struct fl_metrics *m, const char *name)
{
	for (;;) {
		struct fl_stream_metrics *head = atomic_load(&m->streams);
		for (struct fl_stream_metrics *s = head; s; s = s->next)
			if (strcmp(s->name, name) == 0)
				return s;
		struct fl_stream_metrics *n = calloc(1, sizeof *n);
		if (!n)
			return NULL;
		snprintf(n->name, sizeof n->name, "%s", name);
		n->next = head;
		if (atomic_compare_exchange_strong(&m->streams, &head, n))
			return n;
		free(n); /* someone linked first: look again */
	}
}

void fl_metrics_observe_latency(struct fl_metrics *m, uint64_t us)
{
	atomic_fetch_add(&m->latency_count, 1);
	atomic_fetch_add(&m->latency_sum_us, us);
	for (int i = 0; i < FL_METRICS_LATENCY_BUCKETS; i++)
		if (us <= bounds_us[i]) {
			atomic_fetch_add(&m->latency_buckets[i], 1);
			break;
		}
}

#define EMIT(...) do { if ((r = fl_buf_printf(out, __VA_ARGS__)) != FL_OK) return r; } while (0)

static enum fl_result stream_counter(struct fl_metrics *m, struct fl_buf *out,
				     const char *name, const char *help, size_t off)
{
	enum fl_result r;
	EMIT("# HELP firelake_%s %s\n# TYPE firelake_%s counter\n", name, help, name);
	for (struct fl_stream_metrics *s = atomic_load(&m->streams); s; s = s->next) {
		_Atomic uint64_t *v = (_Atomic uint64_t *)((char *)s + off);
		EMIT("firelake_%s{stream=\"%s\"} %llu\n", name, s->name,
		     (unsigned long long)atomic_load(v));
	}
	return FL_OK;
}

enum fl_result fl_metrics_render(struct fl_metrics *m, uint64_t wal_pending_bytes,
				 uint64_t wal_budget_bytes, int64_t now_ms,
				 struct fl_buf *out)
{
	static const struct { const char *name, *help; size_t off; } counters[] = {
		{ "incoming_records_total", "Records acknowledged.",
		  offsetof(struct fl_stream_metrics, incoming_records) },
		{ "incoming_bytes_total", "Bytes of acknowledged records (decoded).",
		  offsetof(struct fl_stream_metrics, incoming_bytes) },
		{ "incoming_events_total", "Events acknowledged (enriched or sent to the error output).",
		  offsetof(struct fl_stream_metrics, incoming_events) },
		{ "records_rejected_total", "Records answered with a per-record ErrorCode.",
		  offsetof(struct fl_stream_metrics, failed_records) },
		{ "events_processing_failed_total", "Events that could not be enriched, sent to the error output.",
		  offsetof(struct fl_stream_metrics, processing_failed) },
		{ "objects_delivered_total", "Objects stored.",
		  offsetof(struct fl_stream_metrics, objects_delivered) },
		{ "bytes_delivered_total", "Bytes of objects stored.",
		  offsetof(struct fl_stream_metrics, bytes_delivered) },
		{ "delivery_failures_total", "Failed delivery attempts of a segment.",
		  offsetof(struct fl_stream_metrics, delivery_failures) },
		{ "delivery_retries_total", "Delivery attempts that were retries.",
		  offsetof(struct fl_stream_metrics, delivery_retries) },
	};
	enum fl_result r;
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
		if ((r = stream_counter(m, out, counters[i].name, counters[i].help,
					counters[i].off)) != FL_OK)
			return r;

	EMIT("# HELP firelake_oldest_pending_record_age_seconds Age of the oldest record not yet delivered (data freshness).\n"
	     "# TYPE firelake_oldest_pending_record_age_seconds gauge\n");
	for (struct fl_stream_metrics *s = atomic_load(&m->streams); s; s = s->next) {
		int64_t oldest = atomic_load(&s->oldest_pending_ms);
		double age = oldest > 0 && now_ms > oldest ? (double)(now_ms - oldest) / 1000.0 : 0.0;
		EMIT("firelake_oldest_pending_record_age_seconds{stream=\"%s\"} %.3f\n", s->name, age);
	}
	EMIT("# HELP firelake_wal_pending_bytes Bytes in the WAL not yet delivered.\n"
	     "# TYPE firelake_wal_pending_bytes gauge\nfirelake_wal_pending_bytes %llu\n"
	     "# HELP firelake_wal_budget_bytes Pending WAL bytes past which records are refused.\n"
	     "# TYPE firelake_wal_budget_bytes gauge\nfirelake_wal_budget_bytes %llu\n",
	     (unsigned long long)wal_pending_bytes, (unsigned long long)wal_budget_bytes);
	EMIT("# HELP firelake_wal_quarantined_bytes_total Damaged WAL bytes moved to quarantine.\n"
	     "# TYPE firelake_wal_quarantined_bytes_total counter\nfirelake_wal_quarantined_bytes_total %llu\n",
	     (unsigned long long)atomic_load(&m->wal_quarantined_bytes));
	EMIT("# HELP firelake_requests_rejected_total API requests answered with an error.\n"
	     "# TYPE firelake_requests_rejected_total counter\nfirelake_requests_rejected_total %llu\n",
	     (unsigned long long)atomic_load(&m->requests_rejected));

	EMIT("# HELP firelake_request_duration_seconds API request latency, receipt to answer.\n"
	     "# TYPE firelake_request_duration_seconds histogram\n");
	uint64_t cum = 0;
	for (int i = 0; i < FL_METRICS_LATENCY_BUCKETS; i++) {
		cum += atomic_load(&m->latency_buckets[i]);
		EMIT("firelake_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		     (double)bounds_us[i] / 1e6, (unsigned long long)cum);
	}
	uint64_t count = atomic_load(&m->latency_count);
	EMIT("firelake_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	     "firelake_request_duration_seconds_sum %.6f\n"
	     "firelake_request_duration_seconds_count %llu\n",
	     (unsigned long long)count, (double)atomic_load(&m->latency_sum_us) / 1e6,
	     (unsigned long long)count);
	return FL_OK;
}
