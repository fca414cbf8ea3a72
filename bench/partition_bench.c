/*
 * partition_bench.c - per-event cost of object keys: prefixes and dynamic
 * partitioning.
 *
 * Builds a few thousand distinct enriched events of about 300 bytes, then
 * times, each for about a second:
 *   prefix      fl_prefix_eval of a hive-style prefix with three partition
 *               keys and a timestamp, into one reused fl_buf
 *   prefix_ts   fl_prefix_eval of the default prefix (yyyy/MM/dd/HH/)
 *   fast        fl_partition_eval of {event_type: .event_type, dt: .meta.dt,
 *               hour: .meta.hour} (the jscan fast path)
 *   jq          the same query through libjq (written `(...)` so that the
 *               fast path does not take it)
 *   jq_strftime {year: .created_at|strftime("%Y"), ...}: a query only
 *               libjq can run, as in Firehose's documentation
 * and prints events/s per second of this thread's CPU time (best of three
 * runs), plus the cost of one fl_partition_compile.
 *
 *   partition_bench [seconds per run, default 1]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "partition.h"
#include "prefix.h"

#define N_EVENTS 4096
#define RUNS 3

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static const char *const types[] = { "payment", "signup", "login", "page_view",
				     "checkout", "refund" };

struct corpus {
	char *ev[N_EVENTS];
	size_t len[N_EVENTS];
	size_t bytes;
};

static void build(struct corpus *c)
{
	uint32_t seed = 2463534242u;
	c->bytes = 0;
	for (int i = 0; i < N_EVENTS; i++) {
		char buf[1024];
		uint32_t r = rnd(&seed);
		long created = 1767225600L + (long)(r % 86400);
		int n = snprintf(buf, sizeof buf,
			"{\"event_uuid\":\"%08x-%04x-4%03x-a%03x-%08x%04x\","
			"\"event_name\":\"%s:web:done\",\"created_at\":%ld,"
			"\"user\":{\"id\":%u,\"country\":\"DE\",\"plan\":\"pro\"},"
			"\"amount\":%u.%02u,\"currency\":\"EUR\",\"ok\":true,"
			"\"meta\":{\"dt\":\"2026-01-01\",\"hour\":\"%02ld\",\"src\":\"bench\"},"
			"\"created_datetime\":\"2026-01-01T%02ld:%02ld:%02ldZ\","
			"\"event_type\":\"%s\",\"event_subtype\":\"web\"}",
			rnd(&seed), r & 0xffff, r & 0xfff, (r >> 12) & 0xfff, rnd(&seed),
			r >> 16, types[r % 6], created, rnd(&seed) % 100000,
			r % 10000, r % 100, (created / 3600) % 24, (created / 3600) % 24,
			(created / 60) % 60, created % 60, types[r % 6]);
		c->ev[i] = strdup(buf);
		c->len[i] = (size_t)n;
		c->bytes += (size_t)n;
	}
}

struct partition_job {
	const struct fl_partition_query *q;
	struct fl_partition_state *s;
	const char *const *names;
	size_t n;
};

/* Evaluates every event once; returns the failures (there must be none). */
static size_t pass_partition(const struct corpus *c, struct partition_job *j)
{
	struct fl_buf vals;
	struct fl_error err;
	size_t offs[8], lens[8], bad = 0;
	fl_buf_init(&vals, 1 << 20);
	for (int i = 0; i < N_EVENTS; i++) {
		fl_buf_reset(&vals);
		if (fl_partition_eval(j->q, j->s, c->ev[i], c->len[i], j->names, j->n, &vals,
				      offs, lens, &err) != FL_OK)
			bad++;
	}
	fl_buf_free(&vals);
	return bad;
}

static size_t pass_prefix(const struct fl_prefix *p, const struct fl_prefix_ctx *ctx)
{
	struct fl_buf out;
	struct fl_error err;
	size_t bad = 0;
	fl_buf_init(&out, 4096);
	for (int i = 0; i < N_EVENTS; i++) {
		fl_buf_reset(&out);
		struct fl_prefix_ctx c = *ctx;
		c.ts_ms += i * 997;
		if (fl_prefix_eval(p, &c, &out, &err) != FL_OK)
			bad++;
	}
	fl_buf_free(&out);
	return bad;
}

static void report(const char *name, double best_s, size_t bad)
{
	printf("%-12s %12.0f events/s  %8.1f ns/event%s\n", name, N_EVENTS / best_s,
	       best_s / N_EVENTS * 1e9, bad ? "  (FAILURES)" : "");
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	static struct corpus c;
	struct fl_error err;
	build(&c);
	printf("%d events, %.0f bytes on average, best of %d runs of %.1f s\n", N_EVENTS,
	       (double)c.bytes / N_EVENTS, RUNS, secs);

	/* Prefixes. */
	const char *pfx[] = {
		"prefix", "raw/events/event_type=!{partitionKeyFromQuery:event_type}/dt="
			  "!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/"
			  "!{timestamp:yyyy-MM-dd'T'HH}/",
		"prefix_ts", "raw/",
	};
	const char *kv[] = { "payment", "2026-01-01", "00" };
	const size_t kl[] = { 7, 10, 2 };
	struct fl_prefix_ctx ctx = { .ts_ms = 1767226391250LL, .key_values = kv,
				     .key_lens = kl };
	for (int k = 0; k < 2; k++) {
		struct fl_prefix *p = NULL;
		if (fl_prefix_compile(pfx[2 * k + 1], false, &p, &err) != FL_OK) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		double best = 1e9;
		size_t bad = 0;
		for (int run = 0; run < RUNS; run++) {
			double t0 = now_s(), t;
			size_t passes = 0;
			do {
				bad += pass_prefix(p, &ctx);
				passes++;
			} while ((t = now_s() - t0) < secs);
			if (t / (double)passes < best)
				best = t / (double)passes;
		}
		report(pfx[2 * k], best, bad);
		fl_prefix_free(p);
	}

	/* Partition keys. */
	static const char *const names[] = { "event_type", "dt", "hour" };
	static const char *const ynames[] = { "year", "month", "day", "hour" };
	const char *queries[] = {
		"fast", "{event_type: .event_type, dt: .meta.dt, hour: .meta.hour}",
		"jq", "({event_type: .event_type, dt: .meta.dt, hour: .meta.hour})",
		"jq_strftime", "{year: .created_at|strftime(\"%Y\"), month: .created_at|"
			       "strftime(\"%m\"), day: .created_at|strftime(\"%d\"), hour: "
			       ".created_at|strftime(\"%H\")}",
	};
	for (int k = 0; k < 3; k++) {
		struct fl_partition_query *q = NULL;
		double t0 = now_s();
		if (fl_partition_compile(queries[2 * k + 1], &q, &err) != FL_OK) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		double compile_s = now_s() - t0;
		struct partition_job j = { .q = q, .s = fl_partition_state_new(),
					   .names = k == 2 ? ynames : names, .n = k == 2 ? 4 : 3 };
		double best = 1e9;
		size_t bad = pass_partition(&c, &j);      /* warm: the state compiles */
		for (int run = 0; run < RUNS; run++) {
			double t1 = now_s(), t;
			size_t passes = 0;
			do {
				bad += pass_partition(&c, &j);
				passes++;
			} while ((t = now_s() - t1) < secs);
			if (t / (double)passes < best)
				best = t / (double)passes;
		}
		report(queries[2 * k], best, bad);
		if (k == 0)
			printf("%-12s %12.1f ms (libjq compiles the query)\n", "compile", compile_s * 1e3);
		fl_partition_state_free(j.s);
		fl_partition_query_free(q);
	}
	for (int i = 0; i < N_EVENTS; i++)
		free(c.ev[i]);
	return 0;
}
