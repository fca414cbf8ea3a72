/*
 * test_wal.c - the WAL: framing, group commit under concurrency, torn and
 * corrupt tails, injected short writes / ENOSPC / fdatasync failures, the
 * byte budget, quarantine of a torn tail, seal/list/remove and seq after
 * reopen.  Salvage past damage and quarantine of a damaged stretch are in
 * test_wal_salvage.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wal.h"

/* ---- fixtures ------------------------------------------------------- */

struct fx {
	char dir[64];
	struct fl_wal_budget budget;
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	strcpy(fx->dir, "/tmp/fl_wal_XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	strcat(fx->dir, "/wal");
	atomic_init(&fx->budget.pending_bytes, 0);
	fx->budget.max_bytes = 0;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char top[64];
	strcpy(top, fx->dir);
	*strrchr(top, '/') = '\0';
	rm_rf(top);
	free(fx);
	return 0;
}

/* ---- fault injection ------------------------------------------------ */

/* Test-only knobs read by the io hooks (tests run one at a time). */
static _Atomic int io_max_chunk;       /* >0: write at most this much per call */
static _Atomic int io_eintr_every;     /* >0: every n-th write call fails EINTR */
static _Atomic long io_enospc_after;   /* >=0: fail with ENOSPC after that many
				        * more bytes; -1 = off */
static _Atomic int io_fail_syncs;      /* fail this many next fdatasyncs with EIO */
static _Atomic int io_sync_calls;
static _Atomic int io_write_calls;

static void io_reset(void)
{
	io_max_chunk = 0;
	io_eintr_every = 0;
	io_enospc_after = -1;
	io_fail_syncs = 0;
	io_sync_calls = 0;
	io_write_calls = 0;
}

static ssize_t t_write(int fd, const void *p, size_t n)
{
	int call = ++io_write_calls;
	if (io_eintr_every > 0 && call % io_eintr_every == 0) {
		errno = EINTR;
		return -1;
	}
	if (io_max_chunk > 0 && n > (size_t)io_max_chunk)
		n = (size_t)io_max_chunk;
	long left = io_enospc_after;
	if (left >= 0) {
		if (left == 0) {
			errno = ENOSPC;
			return -1;
		}
		if (n > (size_t)left)
			n = (size_t)left;
		io_enospc_after = left - (long)n;
	}
	return write(fd, p, n);
}

static int t_fdatasync(int fd)
{
	io_sync_calls++;
	int f = io_fail_syncs;
	while (f > 0)
		if (atomic_compare_exchange_weak(&io_fail_syncs, &f, f - 1)) {
			errno = EIO;
			return -1;
		}
	return fdatasync(fd);
}

static const struct fl_wal_io test_io = { t_write, t_fdatasync };

static int64_t fixed_now(void)
{
	return 1700000000123;
}

static struct fl_wal *open_wal(struct fx *fx)
{
	struct fl_wal_options o = { .budget = &fx->budget, .io = &test_io, .now_ms = fixed_now };
	struct fl_wal *w = NULL;
	struct fl_error err;
	io_reset();
	assert_int_equal(fl_wal_open(fx->dir, &o, &w, &err), FL_OK);
	return w;
}

/* Frames and appends one payload; returns the append's result. */
static enum fl_result append1(struct fl_wal *w, const char *s, struct fl_wal_ticket *t)
{
	struct fl_buf b;
	struct fl_error err;
	fl_buf_init(&b, 1 << 20);
	assert_int_equal(fl_wal_frame(&b, s, strlen(s)), FL_OK);
	enum fl_result r = fl_wal_append(w, b.data, b.len, t, &err);
	fl_buf_free(&b);
	return r;
}

struct collect {
	char *recs[4096];
	size_t n;
	size_t stop_after; /* 0 = never */
};

static int collect_fn(void *arg, const void *p, size_t len)
{
	struct collect *c = arg;
	assert_true(c->n < 4096);
	c->recs[c->n] = strndup(p, len);
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->recs[i]);
	c->n = 0;
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* ---- CRC32C --------------------------------------------------------- */

static void test_crc32c_vectors(void **state)
{
	(void)state;
	uint8_t buf[32];
	assert_int_equal(fl_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(fl_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(fl_crc32c(0, "", 0), 0);
	/* RFC 3720 (iSCSI) B.4 vectors. */
	memset(buf, 0, sizeof buf);
	assert_int_equal(fl_crc32c(0, buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, sizeof buf);
	assert_int_equal(fl_crc32c(0, buf, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(fl_crc32c(0, buf, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(fl_crc32c_sw(0, buf, 32), 0x113FDB5Cu);

	/* Hardware and table paths agree at every length and alignment, and
	 * the CRC can be computed in pieces. */
	uint8_t big[1100];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof big; n += 13) {
			uint32_t a = fl_crc32c(0, big + off, n);
			assert_int_equal(a, fl_crc32c_sw(0, big + off, n));
			size_t h = n / 3;
			assert_int_equal(a, fl_crc32c(fl_crc32c(0, big + off, h), big + off + h, n - h));
		}
}

/* ---- framing -------------------------------------------------------- */

static void test_frame_round_trip(void **state)
{
	struct fx *fx = *state;
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_buf b;
	fl_buf_init(&b, 1 << 22);
	static char big[100000];
	memset(big, 'x', sizeof big - 1);
	const char *p[] = { "a", "{\"event_uuid\":\"1\"}", big, "last" };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(fl_wal_frame(&b, p[i], strlen(p[i])), FL_OK);
	assert_int_equal(fl_wal_frame(&b, "", 0), FL_INVALID);

	struct fl_wal_ticket t;
	assert_int_equal(fl_wal_append(w, b.data, b.len, &t, &err), FL_OK);
	assert_int_equal(t.seq, 1);
	assert_int_equal(t.end, FL_WAL_HEADER_BYTES + b.len);
	assert_int_equal(fl_wal_sync(w, &t, &err), FL_OK);
	uint64_t bytes;
	int64_t created;
	fl_wal_open_stats(w, &bytes, &created);
	assert_int_equal(bytes, t.end);
	assert_int_equal(created, fixed_now());

	struct fl_wal_segment sealed, hdr;
	assert_int_equal(fl_wal_seal(w, &sealed, &err), FL_OK);
	assert_int_equal(sealed.bytes, t.end);
	fl_wal_open_stats(w, &bytes, &created);
	assert_int_equal(bytes, 0);

	struct collect c = { 0 };
	uint64_t end;
	assert_int_equal(fl_wal_read(sealed.path, collect_fn, &c, &hdr, &end, &err), FL_OK);
	assert_int_equal(end, file_size(sealed.path));
	assert_int_equal(c.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(c.recs[i], p[i]);
	assert_int_equal(hdr.seq, 1);
	assert_int_equal(hdr.created_ms, fixed_now());
	assert_memory_equal(hdr.id, sealed.id, 16);
	collect_free(&c);

	/* A callback can stop the read; valid_end is then its last record. */
	c.stop_after = 2;
	assert_int_equal(fl_wal_read(sealed.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(end, FL_WAL_HEADER_BYTES + 2 * FL_WAL_FRAME_BYTES + 1 + strlen(p[1]));
	collect_free(&c);

	/* Frames past the record limit are refused. */
	fl_buf_reset(&b);
	b.max = (size_t)FL_WAL_MAX_RECORD + 64;
	char *huge = calloc(1, (size_t)FL_WAL_MAX_RECORD + 1);
	assert_int_equal(fl_wal_frame(&b, huge, (size_t)FL_WAL_MAX_RECORD + 1), FL_TOO_LARGE);
	free(huge);
	fl_buf_free(&b);
	fl_wal_free(w);
}

/* ---- concurrency ---------------------------------------------------- */

#define CT_THREADS 8
#define CT_APPENDS 400

struct ct_arg {
	struct fl_wal *w;
	int id;
	int fails;
	int appends;
	bool acked[CT_APPENDS]; /* append and sync both returned FL_OK */
};

static void *ct_writer(void *p)
{
	struct ct_arg *a = p;
	struct fl_buf b;
	fl_buf_init(&b, 1 << 20);
	char rec[200];
	int i = 0;
	while (i < CT_APPENDS) {
		/* One to three records per append, as PutRecordBatch does. */
		int k = 1 + (i % 3);
		fl_buf_reset(&b);
		int j;
		for (j = 0; j < k && i + j < CT_APPENDS; j++) {
			int n = snprintf(rec, sizeof rec, "%d:%d:%.*s", a->id, i + j,
					 (i + j) % 97, "................................................................................................................");
			if (fl_wal_frame(&b, rec, (size_t)n) != FL_OK)
				a->fails++;
		}
		struct fl_wal_ticket t;
		struct fl_error err;
		if (fl_wal_append(a->w, b.data, b.len, &t, &err) != FL_OK ||
		    fl_wal_sync(a->w, &t, &err) != FL_OK)
			a->fails++;
		else
			for (int x = 0; x < j; x++)
				a->acked[i + x] = true;
		a->appends++;
		i += j;
	}
	fl_buf_free(&b);
	return NULL;
}

static _Atomic int ct_done;

static void *ct_sealer(void *p)
{
	struct fl_wal *w = p;
	while (!ct_done) {
		struct fl_wal_segment s;
		struct fl_error err;
		enum fl_result r = fl_wal_seal(w, &s, &err);
		if (r != FL_OK && r != FL_NOT_FOUND && r != FL_IO)
			abort();
		usleep(2000);
	}
	return NULL;
}

struct ct_check {
	int next[CT_THREADS];
	bool seen[CT_THREADS][CT_APPENDS];
	int bad;
	bool gaps_ok; /* unacknowledged records may be missing */
};

static int ct_check_fn(void *arg, const void *p, size_t len)
{
	struct ct_check *c = arg;
	char s[256];
	int id, seq;
	if (len >= sizeof s)
		return c->bad++, 0;
	memcpy(s, p, len);
	s[len] = '\0';
	if (sscanf(s, "%d:%d:", &id, &seq) != 2 || id < 0 || id >= CT_THREADS ||
	    seq < c->next[id] || seq >= CT_APPENDS || (!c->gaps_ok && seq != c->next[id]))
		return c->bad++, 0;
	c->seen[id][seq] = true;
	c->next[id] = seq + 1;
	return 0;
}

/* Seals until nothing is left open, then reads every segment in order. */
static void ct_read_all(struct fl_wal *w, struct ct_check *c)
{
	struct fl_error err;
	struct fl_wal_segment s, *segs;
	size_t n;
	enum fl_result r;
	int guard = 0;
	while ((r = fl_wal_seal(w, &s, &err)) != FL_NOT_FOUND)
		assert_true(r == FL_OK && ++guard < 100);
	assert_int_equal(fl_wal_list(w, &segs, &n, &err), FL_OK);
	for (size_t i = 0; i < n; i++) {
		uint64_t end;
		if (i)
			assert_true(segs[i].seq > segs[i - 1].seq);
		assert_int_equal(fl_wal_read(segs[i].path, ct_check_fn, c, NULL, &end, &err), FL_OK);
		assert_int_equal(end, segs[i].bytes);
		assert_int_equal(fl_wal_remove(w, &segs[i], &err), FL_OK);
	}
	free(segs);
}

static void test_concurrent_append_sync(void **state)
{
	struct fx *fx = *state;
	struct fl_wal *w = open_wal(fx);
	pthread_t th[CT_THREADS], sealer;
	static struct ct_arg args[CT_THREADS];
	ct_done = 0;
	assert_int_equal(pthread_create(&sealer, NULL, ct_sealer, w), 0);
	for (int i = 0; i < CT_THREADS; i++) {
		args[i] = (struct ct_arg){ .w = w, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, ct_writer, &args[i]), 0);
	}
	for (int i = 0; i < CT_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].fails, 0);
	}
	ct_done = 1;
	assert_int_equal(pthread_join(sealer, NULL), 0);

	/* Group commit: fewer fdatasyncs than appends (only a hint on a
	 * two-CPU machine, so printed rather than asserted). */
	int appends = 0;
	for (int i = 0; i < CT_THREADS; i++)
		appends += args[i].appends;
	print_message("appends %d, fdatasync calls %d (incl. headers and seals)\n",
		      appends, (int)io_sync_calls);

	static struct ct_check c;
	memset(&c, 0, sizeof c);
	ct_read_all(w, &c);
	assert_int_equal(c.bad, 0);
	for (int i = 0; i < CT_THREADS; i++)
		assert_int_equal(c.next[i], CT_APPENDS);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 0);
	fl_wal_free(w);
}

static void *ct_chaos(void *p)
{
	(void)p;
	while (!ct_done) {
		usleep(20000);
		io_fail_syncs = 1;
	}
	return NULL;
}

/* The same with fdatasyncs failing now and then: every acknowledged record
 * is read back exactly once and in order; unacknowledged ones may be
 * missing (their append failed) or present (at-least-once). */
static void test_concurrent_with_sync_failures(void **state)
{
	struct fx *fx = *state;
	struct fl_wal *w = open_wal(fx);
	pthread_t th[CT_THREADS], sealer, chaos;
	static struct ct_arg args[CT_THREADS];
	ct_done = 0;
	assert_int_equal(pthread_create(&sealer, NULL, ct_sealer, w), 0);
	assert_int_equal(pthread_create(&chaos, NULL, ct_chaos, NULL), 0);
	for (int i = 0; i < CT_THREADS; i++) {
		memset(&args[i], 0, sizeof args[i]);
		args[i].w = w;
		args[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, ct_writer, &args[i]), 0);
	}
	int fails = 0;
	for (int i = 0; i < CT_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		fails += args[i].fails;
	}
	ct_done = 1;
	assert_int_equal(pthread_join(sealer, NULL), 0);
	assert_int_equal(pthread_join(chaos, NULL), 0);
	io_fail_syncs = 0;
	print_message("failed appends/syncs: %d\n", fails);
	assert_true(fails > 0);

	static struct ct_check c;
	memset(&c, 0, sizeof c);
	c.gaps_ok = true;
	ct_read_all(w, &c);
	assert_int_equal(c.bad, 0);
	for (int i = 0; i < CT_THREADS; i++)
		for (int k = 0; k < CT_APPENDS; k++)
			if (args[i].acked[k] && !c.seen[i][k])
				fail_msg("acknowledged record %d:%d lost", i, k);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 0);
	fl_wal_free(w);
}

/* ---- damaged segments ----------------------------------------------- */

/* Writes three records to a sealed segment; returns its path and the
 * record end offsets. */
static void three_records(struct fx *fx, struct fl_wal_segment *seg, uint64_t ends[3])
{
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_wal_ticket t;
	const char *p[] = { "first record", "second record", "third record!" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(append1(w, p[i], &t), FL_OK);
		ends[i] = t.end;
	}
	assert_int_equal(fl_wal_sync(w, &t, &err), FL_OK);
	assert_int_equal(fl_wal_seal(w, seg, &err), FL_OK);
	fl_wal_free(w);
}

static void test_torn_tail(void **state)
{
	struct fx *fx = *state;
	struct fl_wal_segment seg;
	uint64_t ends[3], end;
	struct fl_error err;
	struct collect c = { 0 };
	three_records(fx, &seg, ends);

	/* Cut inside the third payload. */
	assert_int_equal(truncate(seg.path, (off_t)ends[2] - 3), 0);
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[1]);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.recs[1], "second record");
	collect_free(&c);

	/* Cut inside the third frame header. */
	assert_int_equal(truncate(seg.path, (off_t)ends[1] + 5), 0);
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[1]);
	assert_int_equal(c.n, 2);
	collect_free(&c);

	/* A tail of zeros (size grew, data never written) is not a record. */
	assert_int_equal(truncate(seg.path, (off_t)ends[1] + 4096), 0);
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[1]);
	assert_int_equal(c.n, 2);
	collect_free(&c);

	/* Header only: no records, valid. */
	assert_int_equal(truncate(seg.path, FL_WAL_HEADER_BYTES), 0);
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, FL_WAL_HEADER_BYTES);
	assert_int_equal(c.n, 0);
}

static void patch_byte(const char *path, uint64_t off, uint8_t x)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t v;
	assert_int_equal(pread(fd, &v, 1, (off_t)off), 1);
	v ^= x;
	assert_int_equal(pwrite(fd, &v, 1, (off_t)off), 1);
	close(fd);
}

static void test_crc_mismatch(void **state)
{
	struct fx *fx = *state;
	struct fl_wal_segment seg;
	uint64_t ends[3], end;
	struct fl_error err;
	struct collect c = { 0 };
	three_records(fx, &seg, ends);

	/* Flip a payload byte of the second record. */
	patch_byte(seg.path, ends[0] + FL_WAL_FRAME_BYTES + 2, 0x20);
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[0]);
	assert_int_equal(c.n, 1);
	collect_free(&c);
	patch_byte(seg.path, ends[0] + FL_WAL_FRAME_BYTES + 2, 0x20);

	/* A length pointing past the end of the file. */
	patch_byte(seg.path, ends[1] + 2, 0x01);
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[1]);
	assert_int_equal(c.n, 2);
	collect_free(&c);
	patch_byte(seg.path, ends[1] + 2, 0x01);

	/* A length past FL_WAL_MAX_RECORD. */
	patch_byte(seg.path, ends[1] + 3, 0x80);
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[1]);
	collect_free(&c);
	patch_byte(seg.path, ends[1] + 3, 0x80);

	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[2]);
	assert_int_equal(c.n, 3);
	collect_free(&c);
}

static void test_bad_header(void **state)
{
	struct fx *fx = *state;
	struct fl_wal_segment seg;
	uint64_t ends[3], end;
	struct fl_error err;
	three_records(fx, &seg, ends);

	patch_byte(seg.path, 0, 0x01); /* magic */
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &end, &err), FL_INVALID);
	patch_byte(seg.path, 0, 0x01);
	patch_byte(seg.path, 8, 0x02); /* version */
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &end, &err), FL_INVALID);
	patch_byte(seg.path, 8, 0x02);
	patch_byte(seg.path, 12, 0x40); /* header_len */
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &end, &err), FL_INVALID);
	patch_byte(seg.path, 12, 0x40);
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &end, &err), FL_OK);
	assert_int_equal(truncate(seg.path, 20), 0); /* shorter than a header */
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &end, &err), FL_INVALID);
	assert_int_equal(fl_wal_read("/nonexistent/0000000000000001.wal", NULL, NULL, NULL,
				     &end, &err), FL_NOT_FOUND);
}

/* ---- injected I/O faults -------------------------------------------- */

static void test_short_writes_and_eintr(void **state)
{
	struct fx *fx = *state;
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_wal_ticket t;
	char rec[64];
	io_max_chunk = 7;
	io_eintr_every = 3;
	for (int i = 0; i < 50; i++) {
		snprintf(rec, sizeof rec, "record number %d with some bytes", i);
		assert_int_equal(append1(w, rec, &t), FL_OK);
		assert_int_equal(fl_wal_sync(w, &t, &err), FL_OK);
	}
	assert_true(io_write_calls > 50 * 6);
	struct fl_wal_segment seg;
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_OK);
	struct collect c = { 0 };
	uint64_t end;
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(c.n, 50);
	assert_int_equal(end, file_size(seg.path));
	assert_string_equal(c.recs[49], "record number 49 with some bytes");
	collect_free(&c);
	fl_wal_free(w);
}

static void test_enospc_truncates_back(void **state)
{
	struct fx *fx = *state;
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_wal_ticket t1, t2, t3;
	assert_int_equal(append1(w, "kept before", &t1), FL_OK);
	uint64_t pending = atomic_load(&fx->budget.pending_bytes);

	io_max_chunk = 4;
	io_enospc_after = 10; /* part of the next append lands, then ENOSPC */
	assert_int_equal(append1(w, "this one does not fit on the disk", &t2), FL_IO);
	char path[256];
	snprintf(path, sizeof path, "%s/%016" PRIx64 ".wal", fx->dir, t1.seq);
	assert_int_equal(file_size(path), t1.end);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), pending);

	/* Nothing at all written: still FL_IO, file unchanged. */
	io_enospc_after = 0;
	assert_int_equal(append1(w, "nor this", &t2), FL_IO);
	assert_int_equal(file_size(path), t1.end);

	io_reset();
	assert_int_equal(append1(w, "kept after", &t3), FL_OK);
	assert_int_equal(t3.seq, t1.seq); /* same segment */
	assert_int_equal(fl_wal_sync(w, &t3, &err), FL_OK);
	assert_int_equal(fl_wal_sync(w, &t1, &err), FL_OK);
	struct fl_wal_segment seg;
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_OK);
	struct collect c = { 0 };
	uint64_t end;
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.recs[0], "kept before");
	assert_string_equal(c.recs[1], "kept after");
	assert_int_equal(end, file_size(seg.path));
	collect_free(&c);
	fl_wal_free(w);
}

static void test_fdatasync_failure_poisons(void **state)
{
	struct fx *fx = *state;
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_wal_ticket a, b1, b2, c1;
	assert_int_equal(append1(w, "A synced", &a), FL_OK);
	assert_int_equal(fl_wal_sync(w, &a, &err), FL_OK);
	assert_int_equal(append1(w, "B1 lost", &b1), FL_OK);
	assert_int_equal(append1(w, "B2 lost", &b2), FL_OK);

	io_fail_syncs = 1;
	int calls = io_sync_calls;
	assert_int_equal(fl_wal_sync(w, &b2, &err), FL_IO);
	/* B1 was covered by the same failed fdatasync: it fails too, and the
	 * failed sync is not retried. */
	assert_int_equal(fl_wal_sync(w, &b1, &err), FL_IO);
	assert_int_equal(io_sync_calls, calls + 1);
	/* A was synced before: still durable. */
	assert_int_equal(fl_wal_sync(w, &a, &err), FL_OK);

	/* The poisoned segment takes no more appends. */
	assert_int_equal(append1(w, "C new segment", &c1), FL_OK);
	assert_true(c1.seq > a.seq);
	assert_int_equal(fl_wal_sync(w, &c1, &err), FL_OK);
	assert_int_equal(fl_wal_sync(w, &b2, &err), FL_IO);

	/* It stays on disk and goes to delivery (at-least-once): it counts as
	 * the open segment until the next seal hands it out, without another
	 * fdatasync; list and remove leave it alone until then. */
	struct fl_wal_segment *segs, seg;
	size_t n;
	uint64_t bytes;
	int64_t created;
	assert_int_equal(fl_wal_list(w, &segs, &n, &err), FL_OK);
	assert_int_equal(n, 0);
	free(segs);
	fl_wal_open_stats(w, &bytes, &created);
	assert_int_equal(bytes, b2.end);
	seg.seq = a.seq;
	assert_int_equal(fl_wal_remove(w, &seg, &err), FL_IN_USE);
	calls = io_sync_calls;
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_OK);
	assert_int_equal(io_sync_calls, calls);
	assert_int_equal(seg.seq, a.seq);
	assert_int_equal(seg.bytes, b2.end);
	assert_int_equal(fl_wal_sync(w, &b2, &err), FL_IO);
	struct collect c = { 0 };
	uint64_t end;
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(c.n, 3);
	assert_int_equal(end, b2.end);
	collect_free(&c);
	fl_wal_open_stats(w, &bytes, &created);
	assert_int_equal(bytes, c1.end); /* now the real open segment */

	/* A failed seal fails the unsynced tickets of its segment too, and
	 * the next seal hands that segment out. */
	struct fl_wal_ticket d;
	assert_int_equal(append1(w, "D", &d), FL_OK);
	io_fail_syncs = 1;
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_IO);
	assert_int_equal(fl_wal_sync(w, &d, &err), FL_IO);
	assert_int_equal(fl_wal_sync(w, &c1, &err), FL_OK);
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_OK);
	assert_int_equal(seg.seq, c1.seq);
	assert_int_equal(seg.bytes, d.end);
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_NOT_FOUND);

	/* A new segment whose header cannot be synced is not used. */
	io_fail_syncs = 1;
	struct fl_wal_ticket e;
	assert_int_equal(append1(w, "E", &e), FL_IO);
	assert_int_equal(append1(w, "E again", &e), FL_OK);
	assert_int_equal(fl_wal_sync(w, &e, &err), FL_OK);
	fl_wal_free(w);
}

/* ---- budget --------------------------------------------------------- */

static void test_budget(void **state)
{
	struct fx *fx = *state;
	fx->budget.max_bytes = 100;
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_wal_ticket t;
	char rec[53];
	memset(rec, 'r', 52);
	rec[52] = '\0'; /* 60 bytes framed */
	assert_int_equal(append1(w, rec, &t), FL_OK);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 60);
	assert_int_equal(append1(w, rec, &t), FL_UNAVAILABLE);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 60);

	struct fl_wal_segment seg;
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_OK);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 60);

	/* Reopening (recovery) counts segments already on disk, even past max. */
	struct fl_wal *w2 = open_wal(fx);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 120);
	fl_wal_free(w2);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 60);

	assert_int_equal(fl_wal_remove(w, &seg, &err), FL_OK);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 0);
	assert_int_equal(append1(w, rec, &t), FL_OK);
	fl_wal_free(w);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), 0);
}

/* ---- quarantine ----------------------------------------------------- */

static void test_quarantine(void **state)
{
	struct fx *fx = *state;
	struct fl_wal_segment seg;
	uint64_t ends[3], end;
	struct fl_error err;
	three_records(fx, &seg, ends);
	patch_byte(seg.path, ends[1] + FL_WAL_FRAME_BYTES, 0x01);

	struct fl_wal *w = open_wal(fx);
	uint64_t pending = atomic_load(&fx->budget.pending_bytes);
	assert_int_equal(pending, ends[2] - FL_WAL_HEADER_BYTES);
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[1]);
	assert_int_equal(fl_wal_quarantine_tail(w, seg.path, end, &err), FL_OK);
	assert_int_equal(file_size(seg.path), ends[1]);
	assert_int_equal(atomic_load(&fx->budget.pending_bytes), ends[1] - FL_WAL_HEADER_BYTES);

	char q[512];
	snprintf(q, sizeof q, "%s/quarantine/%016" PRIx64 ".wal.%" PRIu64 ".bad", fx->dir,
		 seg.seq, ends[1]);
	assert_int_equal(file_size(q), ends[2] - ends[1]);
	FILE *f = fopen(q, "rb");
	char buf[64] = { 0 };
	assert_int_equal(fread(buf, 1, sizeof buf, f), ends[2] - ends[1]);
	fclose(f);
	assert_memory_equal(buf + FL_WAL_FRAME_BYTES + 1, "hird record!", 12);

	struct collect c = { 0 };
	assert_int_equal(fl_wal_read(seg.path, collect_fn, &c, NULL, &end, &err), FL_OK);
	assert_int_equal(end, file_size(seg.path));
	assert_int_equal(c.n, 2);
	collect_free(&c);

	/* Nothing past the end: nothing to do. */
	assert_int_equal(fl_wal_quarantine_tail(w, seg.path, end, &err), FL_OK);
	/* The quarantine directory is not mistaken for a segment. */
	struct fl_wal_segment *segs;
	size_t n;
	assert_int_equal(fl_wal_list(w, &segs, &n, &err), FL_OK);
	assert_int_equal(n, 1);
	free(segs);
	fl_wal_free(w);
}

/* ---- lifecycle ------------------------------------------------------ */

static void test_seal_list_remove(void **state)
{
	struct fx *fx = *state;
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_wal_ticket t;
	struct fl_wal_segment seg, *segs;
	size_t n;
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_NOT_FOUND);
	assert_int_equal(fl_wal_list(w, &segs, &n, &err), FL_OK);
	assert_int_equal(n, 0);
	free(segs);

	assert_int_equal(append1(w, "one", &t), FL_OK);
	assert_int_equal(fl_wal_list(w, &segs, &n, &err), FL_OK);
	assert_int_equal(n, 0); /* the open segment is not listed */
	free(segs);
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_OK);
	/* Sealed tickets are durable. */
	assert_int_equal(fl_wal_sync(w, &t, &err), FL_OK);
	assert_int_equal(append1(w, "two", &t), FL_OK);
	assert_int_equal(t.seq, seg.seq + 1);

	assert_int_equal(fl_wal_list(w, &segs, &n, &err), FL_OK);
	assert_int_equal(n, 1);
	assert_int_equal(segs[0].seq, seg.seq);
	assert_string_equal(segs[0].path, seg.path);
	assert_int_equal(segs[0].bytes, seg.bytes);
	assert_int_equal(segs[0].created_ms, fixed_now());
	assert_memory_equal(segs[0].id, seg.id, 16);
	free(segs);

	struct fl_wal_segment open_seg = seg;
	open_seg.seq = t.seq;
	assert_int_equal(fl_wal_remove(w, &open_seg, &err), FL_IN_USE);
	assert_int_equal(fl_wal_remove(w, &seg, &err), FL_OK);
	assert_int_equal(access(seg.path, F_OK), -1);
	assert_int_equal(fl_wal_remove(w, &seg, &err), FL_NOT_FOUND);

	struct fl_wal_ticket zero = { 0, 0 };
	assert_int_equal(fl_wal_sync(w, &zero, &err), FL_INVALID);
	assert_int_equal(fl_wal_append(w, "", 0, &t, &err), FL_INVALID);
	fl_wal_free(w);
}

static void test_seq_after_reopen(void **state)
{
	struct fx *fx = *state;
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_wal_ticket t;
	struct fl_wal_segment seg, *segs;
	size_t n;
	assert_int_equal(append1(w, "one", &t), FL_OK);
	assert_int_equal(fl_wal_seal(w, &seg, &err), FL_OK);
	assert_int_equal(seg.seq, 1);
	assert_int_equal(append1(w, "two", &t), FL_OK);
	assert_int_equal(fl_wal_sync(w, &t, &err), FL_OK);
	assert_int_equal(t.seq, 2);
	fl_wal_free(w); /* segment 2 left open, as after a crash */

	w = open_wal(fx);
	assert_int_equal(fl_wal_list(w, &segs, &n, &err), FL_OK);
	assert_int_equal(n, 2);
	assert_int_equal(segs[0].seq, 1);
	assert_int_equal(segs[1].seq, 2);
	assert_true(memcmp(segs[0].id, segs[1].id, 16) != 0);
	free(segs);
	assert_int_equal(append1(w, "three", &t), FL_OK);
	assert_int_equal(t.seq, 3);
	assert_int_equal(fl_wal_sync(w, &t, &err), FL_OK);
	fl_wal_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test_setup_teardown(test_frame_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_append_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_with_sync_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crc_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_writes_and_eintr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc_truncates_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fdatasync_failure_poisons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_list_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_after_reopen, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
