/*
 * wal_bench.c - WAL group-commit throughput: N threads each append one
 * frame of S bytes and wait for its sync, for T seconds.  Prints appends/s,
 * MiB/s and how many appends one fdatasync covered on average.
 *
 *   wal_bench [dir] [threads=8] [append_bytes=65536] [seconds=5]
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wal.h"

static _Atomic int stop;
static _Atomic uint64_t syncs;

static ssize_t b_write(int fd, const void *p, size_t n)
{
	return write(fd, p, n);
}

static int b_fdatasync(int fd)
{
	atomic_fetch_add(&syncs, 1);
	return fdatasync(fd);
}

static const struct fl_wal_io bench_io = { b_write, b_fdatasync };

struct worker {
	struct fl_wal *w;
	size_t bytes;
	uint64_t appends;
	uint64_t fails;
};

static void *run(void *p)
{
	struct worker *k = p;
	struct fl_buf b;
	fl_buf_init(&b, k->bytes + 64);
	char *payload = malloc(k->bytes);
	memset(payload, 'e', k->bytes);
	if (fl_wal_frame(&b, payload, k->bytes - FL_WAL_FRAME_BYTES) != FL_OK)
		abort();
	while (!atomic_load(&stop)) {
		struct fl_wal_ticket t;
		struct fl_error err;
		if (fl_wal_append(k->w, b.data, b.len, &t, &err) != FL_OK ||
		    fl_wal_sync(k->w, &t, &err) != FL_OK)
			k->fails++;
		else
			k->appends++;
	}
	free(payload);
	fl_buf_free(&b);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/fl_wal_bench_XXXXXX";
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
	int nthreads = argc > 2 ? atoi(argv[2]) : 8;
	size_t bytes = argc > 3 ? (size_t)atol(argv[3]) : 65536;
	double seconds = argc > 4 ? atof(argv[4]) : 5;
	if (!dir || nthreads < 1 || nthreads > 256 || bytes <= FL_WAL_FRAME_BYTES) {
		fprintf(stderr, "usage: wal_bench [dir] [threads] [append_bytes] [seconds]\n");
		return 2;
	}
	struct fl_wal_budget budget = { .max_bytes = 0 };
	struct fl_wal_options opt = { .budget = &budget, .io = &bench_io };
	struct fl_wal *w;
	struct fl_error err;
	if (fl_wal_open(dir, &opt, &w, &err) != FL_OK) {
		fprintf(stderr, "open %s: %s\n", dir, err.msg);
		return 1;
	}
	struct worker *ks = calloc((size_t)nthreads, sizeof *ks);
	pthread_t *th = calloc((size_t)nthreads, sizeof *th);
	double t0 = now_s();
	for (int i = 0; i < nthreads; i++) {
		ks[i] = (struct worker){ .w = w, .bytes = bytes };
		pthread_create(&th[i], NULL, run, &ks[i]);
	}
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, 1);
	uint64_t appends = 0, fails = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		appends += ks[i].appends;
		fails += ks[i].fails;
	}
	double dt = now_s() - t0;
	uint64_t n_syncs = atomic_load(&syncs);
	printf("threads %d, append %zu bytes, %.1f s: %.0f appends+sync/s, %.1f MiB/s, "
	       "%" PRIu64 " fdatasync (%.2f appends each), %" PRIu64 " failures\n",
	       nthreads, bytes, dt, appends / dt, appends * (double)bytes / dt / 1048576.0,
	       n_syncs, n_syncs ? (double)appends / (double)n_syncs : 0.0, fails);

	/* Leave nothing behind. */
	struct fl_wal_segment seg, *segs;
	size_t n;
	while (fl_wal_seal(w, &seg, &err) == FL_OK)
		;
	if (fl_wal_list(w, &segs, &n, &err) == FL_OK) {
		for (size_t i = 0; i < n; i++)
			if (fl_wal_remove(w, &segs[i], &err) != FL_OK)
				fprintf(stderr, "remove: %s\n", err.msg);
		free(segs);
	}
	fl_wal_free(w);
	if (argc <= 1)
		rmdir(dir);
	free(ks);
	free(th);
	return 0;
}
