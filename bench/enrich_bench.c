/*
 * enrich_bench.c - throughput of the ingest hot path on one core.
 *
 * Builds a few thousand distinct events of about 260 bytes (the size the
 * targets are stated for), then times, each for about a second:
 *   validate   fl_json_value over each event
 *   enrich     fl_enrich_event, appending to one reused fl_buf
 *   b64decode  fl_base64_decode of each event's base64 (the Firehose Data)
 *   b64encode  fl_base64_encode of each event
 *   find       fl_json_find("event_type") on each enriched event
 * and prints events/s and MB/s (of the input each step reads) per second
 * of this thread's CPU time.  The best of three runs is reported.
 *
 *   enrich_bench [seconds per run, default 1]
 *
 * With 0 seconds each step makes exactly one pass and prints no figures:
 * run that under `valgrind --tool=callgrind` and divide a function's
 * inclusive instruction count by the 4096 events for a noise-free cost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "enrich.h"
#include "jscan.h"

#define N_EVENTS 4096
#define RUNS 3

struct corpus {
	char *ev[N_EVENTS];
	size_t len[N_EVENTS];
	char *b64[N_EVENTS];
	size_t b64_len[N_EVENTS];
	char *enriched[N_EVENTS];
	size_t enriched_len[N_EVENTS];
	size_t bytes, b64_bytes, enriched_bytes;
};

/* CPU time of this thread: the figures are per core, and the machines
 * we bench on are shared, so time spent preempted must not count. */
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

static void build(struct corpus *c)
{
	static const char *const names[] = {
		"payment:order:completed", "payment:refund:issued", "login",
		"cart:item:added", "search:query", "page:view",
	};
	static const char *const cur[] = { "EUR", "USD", "GBP", "JPY" };
	uint32_t s = 2463534242u;
	char tmp[512];

	memset(c, 0, sizeof *c);
	for (int i = 0; i < N_EVENTS; i++) {
		int n = snprintf(tmp, sizeof tmp,
			"{\"event_uuid\":\"%08x-%04x-4%03x-a%03x-%012llx\","
			"\"event_name\":\"%s\",\"created_at\":%u%s,"
			"\"user_id\":\"user-%06u\",\"session_id\":\"s-%08x\","
			"\"amount\":%u.%02u,\"currency\":\"%s\",\"country\":\"DE\","
			"\"device\":{\"os\":\"ios\",\"version\":\"17.%u\"},"
			"\"tags\":[\"new\",\"promo\"],\"consent\":true}",
			rnd(&s), rnd(&s) & 0xffff, rnd(&s) & 0xfff, rnd(&s) & 0xfff,
			(unsigned long long)rnd(&s) << 16 | (rnd(&s) & 0xffff),
			names[i % 6], 1767226391u + (unsigned)i, i % 3 ? "" : ".25",
			rnd(&s) % 1000000, rnd(&s), rnd(&s) % 1000, rnd(&s) % 100,
			cur[i % 4], rnd(&s) % 10);
		c->ev[i] = strdup(tmp);
		c->len[i] = (size_t)n;
		c->bytes += (size_t)n;

		struct fl_buf b;
		fl_buf_init(&b, 4096);
		if (fl_base64_encode(tmp, (size_t)n, &b) != FL_OK)
			abort();
		c->b64_bytes += b.len;
		c->b64[i] = fl_buf_steal(&b, &c->b64_len[i]);

		fl_buf_init(&b, 4096);
		const char *why = NULL;
		if (fl_enrich_event(tmp, (size_t)n, &b, NULL, &why) != FL_OK) {
			fprintf(stderr, "bench event rejected: %s\n%s\n", why, tmp);
			exit(1);
		}
		c->enriched_bytes += b.len;
		c->enriched[i] = fl_buf_steal(&b, &c->enriched_len[i]);
	}
}

enum step { VALIDATE, ENRICH, B64DECODE, B64ENCODE, FIND, N_STEPS };
static const char *const step_name[] = {
	"validate", "enrich", "b64decode", "b64encode", "find",
};

/* Runs one pass over the corpus; returns a value that depends on the
 * work so the compiler keeps it. */
static size_t pass(const struct corpus *c, enum step st, struct fl_buf *out)
{
	size_t sink = 0;
	const char *why = NULL;

	fl_buf_reset(out);
	for (int i = 0; i < N_EVENTS; i++) {
		switch (st) {
		case VALIDATE: {
			const char *e = fl_json_value(c->ev[i], c->ev[i] + c->len[i], &why);
			sink += (size_t)(e - c->ev[i]);
			break;
		}
		case ENRICH: {
			struct fl_enriched info;
			if (fl_enrich_event(c->ev[i], c->len[i], out, &info, &why) != FL_OK)
				abort();
			sink += info.event_type_len;
			break;
		}
		case B64DECODE:
			if (fl_base64_decode(c->b64[i], c->b64_len[i], out) != FL_OK)
				abort();
			break;
		case B64ENCODE:
			if (fl_base64_encode(c->ev[i], c->len[i], out) != FL_OK)
				abort();
			break;
		case FIND: {
			const char *v;
			size_t vn;
			if (fl_json_find(c->enriched[i], c->enriched_len[i], "event_type", 10, &v, &vn))
				sink += vn;
			break;
		}
		case N_STEPS:
			break;
		}
	}
	return sink + out->len;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	static struct corpus c;
	struct fl_buf out;
	size_t sink = 0;

	build(&c);
	fl_buf_init(&out, (size_t)1 << 30);
	printf("corpus: %d events, %.1f bytes/event, %.1f base64 bytes/event, "
	       "%.1f enriched bytes/event\n", N_EVENTS,
	       (double)c.bytes / N_EVENTS, (double)c.b64_bytes / N_EVENTS,
	       (double)c.enriched_bytes / N_EVENTS);

	for (enum step st = 0; st < N_STEPS; st++) {
		size_t in_bytes = st == B64DECODE ? c.b64_bytes :
				  st == FIND ? c.enriched_bytes : c.bytes;
		double best = 0;
		sink += pass(&c, st, &out);  /* warm up: buffer grown, caches hot */
		if (secs <= 0)
			continue;
		for (int r = 0; r < RUNS; r++) {
			long passes = 0;
			double t0 = now_s(), t;
			do {
				sink += pass(&c, st, &out);
				passes++;
				t = now_s();
			} while (t - t0 < secs);
			double rate = (double)passes * N_EVENTS / (t - t0);
			if (rate > best)
				best = rate;
		}
		printf("%-10s %8.2f M events/s  %8.1f MB/s  %6.1f ns/event\n",
		       step_name[st], best / 1e6,
		       best * (double)in_bytes / N_EVENTS / 1e6, 1e9 / best);
	}
	fl_buf_free(&out);
	for (int i = 0; i < N_EVENTS; i++) {
		free(c.ev[i]);
		free(c.b64[i]);
		free(c.enriched[i]);
	}
	return sink == 42;  /* never: keeps the work observable */
}
