/*
 * infer_bench.c - throughput of schema inference on delivered events.
 *
 * Delivery calls fl_infer_lines on every event it writes, so its cost is
 * stated against the ingest path (~200k events/s on 2 cores).  This builds
 * N enriched events (default 500000, about 300 bytes each) of a handful of
 * shapes - six event names, each with its own payload, optional members
 * and arrays of varying length - and times, on one core:
 *   infer/batch   fl_infer_lines over the whole NDJSON buffer at once
 *   infer/event   fl_infer_lines once per event (as delivery calls it)
 *   jscan         fl_json_value over each event (the ingest validator), and
 *   jansson       json_loadb of each event, for scale
 * printing lines/s and MB/s per second of this thread's CPU time, best of
 * three runs, each with a fresh observer (so the few new shapes are
 * parsed each run).
 *
 *   infer_bench [events, default 500000]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jscan.h"
#include "schema.h"

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

/* One enriched event into out; returns its length (no newline). */
static int event(char *out, size_t cap, uint32_t *s, unsigned i)
{
	static const char *const names[][3] = {
		{ "payment:order:completed", "payment", "\"order\"" },
		{ "payment:refund:issued", "payment", "\"refund\"" },
		{ "cart:item:added", "cart", "\"item\"" },
		{ "login", "login", "null" },
		{ "search:query", "search", "\"query\"" },
		{ "page:view", "page", "\"view\"" },
	};
	static const char *const cur[] = { "EUR", "USD", "GBP", "JPY" };
	unsigned k = rnd(s) % 6, t = 1732300000u + i / 10;
	char payload[256];
	switch (k) {
	case 0:
	case 1:
		snprintf(payload, sizeof payload,
			 "{\"amount\":%u.%02u,\"currency\":\"%s\",\"items\":[%u,%u%s]}",
			 rnd(s) % 500, rnd(s) % 100, cur[rnd(s) % 4], rnd(s) % 90, rnd(s) % 90,
			 rnd(s) % 2 ? ",7" : "");
		break;
	case 2:
		snprintf(payload, sizeof payload,
			 "{\"sku\":\"SKU-%06u\",\"qty\":%u,\"price\":%u.%02u}",
			 rnd(s) % 1000000, 1 + rnd(s) % 5, rnd(s) % 200, rnd(s) % 100);
		break;
	case 3:
		snprintf(payload, sizeof payload, "{\"method\":\"%s\",\"mfa\":%s}",
			 rnd(s) % 2 ? "password" : "sso", rnd(s) % 3 ? "true" : "false");
		break;
	case 4:
		snprintf(payload, sizeof payload, "{\"q\":\"red shoes %u\",\"results\":%u,"
			 "\"filters\":[\"size:4%u\",\"color:red\"]}", rnd(s) % 100, rnd(s) % 1000,
			 rnd(s) % 10);
		break;
	default:
		snprintf(payload, sizeof payload, "{\"path\":\"/products/%u\",\"referrer\":%s}",
			 rnd(s) % 10000, rnd(s) % 2 ? "\"https://example.com/\"" : "null");
		break;
	}
	return snprintf(out, cap,
		"{\"event_uuid\":\"%08x-%04x-4%03x-a%03x-%012llx\",\"event_name\":\"%s\","
		"\"created_at\":%u%s,\"user_id\":\"user-%06u\",\"payload\":%s%s,"
		"\"created_datetime\":\"2024-11-22T18:26:40Z\",\"event_type\":\"%s\","
		"\"event_subtype\":%s}",
		rnd(s), rnd(s) & 0xffff, rnd(s) & 0xfff, rnd(s) & 0xfff,
		(unsigned long long)rnd(s) << 16 | (rnd(s) & 0xffff), names[k][0], t,
		i % 3 ? "" : ".25", rnd(s) % 1000000, payload,
		rnd(s) % 4 ? "" : ",\"session\":{\"id\":\"s-1\",\"device\":\"ios\"}",
		names[k][1], names[k][2]);
}

static void report(const char *what, size_t lines, size_t bytes, double secs)
{
	printf("%-12s %10.0f lines/s %8.1f MB/s\n", what, (double)lines / secs,
	       (double)bytes / secs / 1e6);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 500000;
	if (n == 0)
		return 2;
	char *buf = malloc(n * 512);
	size_t *off = malloc((n + 1) * sizeof *off), len = 0;
	uint32_t seed = 2463534242u;
	if (!buf || !off)
		return 1;
	for (size_t i = 0; i < n; i++) {
		off[i] = len;
		len += (size_t)event(buf + len, 510, &seed, (unsigned)i);
		buf[len++] = '\n';
	}
	off[n] = len;
	printf("%zu events, %.1f MB, %.0f bytes/event\n", n, (double)len / 1e6,
	       (double)len / (double)n);

	double best[4] = { 1e30, 1e30, 1e30, 1e30 };
	for (int run = 0; run < RUNS; run++) {
		struct fl_infer *inf = fl_infer_new();
		double t0 = now_s();
		if (!inf || fl_infer_lines(inf, buf, len) != FL_OK)
			return 1;
		double t = now_s() - t0;
		best[0] = t < best[0] ? t : best[0];
		if (run == 0) {
			struct fl_infer_stats st;
			const struct fl_schema *s = fl_infer_schema(inf);
			fl_infer_stats(inf, &st);
			printf("records %llu bad %llu, %zu columns:\n", (unsigned long long)st.records,
			       (unsigned long long)st.bad, fl_schema_count(s));
			for (size_t i = 0; i < fl_schema_count(s); i++)
				printf("  %s %s\n", fl_schema_name(s, i), fl_schema_type(s, i));
		}
		fl_infer_free(inf);

		inf = fl_infer_new();
		t0 = now_s();
		for (size_t i = 0; i < n; i++)
			if (fl_infer_lines(inf, buf + off[i], off[i + 1] - off[i]) != FL_OK)
				return 1;
		t = now_s() - t0;
		best[1] = t < best[1] ? t : best[1];
		fl_infer_free(inf);

		size_t ok = 0;
		t0 = now_s();
		for (size_t i = 0; i < n; i++) {
			const char *e = buf + off[i + 1] - 1;
			ok += fl_json_value(buf + off[i], e, NULL) == e;
		}
		t = now_s() - t0;
		best[2] = t < best[2] ? t : best[2];

		t0 = now_s();
		for (size_t i = 0; i < n; i++) {
			json_t *j = json_loadb(buf + off[i], off[i + 1] - off[i] - 1, 0, NULL);
			ok += j != NULL;
			json_decref(j);
		}
		t = now_s() - t0;
		best[3] = t < best[3] ? t : best[3];
		if (ok != 2 * n)
			return 1;
	}
	report("infer/batch", n, len, best[0]);
	report("infer/event", n, len, best[1]);
	report("jscan", n, len, best[2]);
	report("jansson", n, len, best[3]);
	free(off);
	free(buf);
	return 0;
}
