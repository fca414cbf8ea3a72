/*
 * test_wal_salvage.c - reading past damage in a sealed WAL segment
 * (fl_wal_salvage) and copying a damaged stretch aside
 * (fl_wal_quarantine_range).  The WAL's framing, group commit, injected I/O
 * faults and lifecycle are tested in test_wal.c; this file needs none of
 * the fault injection, only sealed segments it builds and then damages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wal.h"

/* ---- fixtures ------------------------------------------------------- */

/* The WAL directory is the temporary directory itself. */
struct fx {
	char dir[64];
	struct fl_wal_budget budget;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/fl_walsv_XXXXXX");
	atomic_init(&fx->budget.pending_bytes, 0);
	*state = fx;
	return mkdtemp(fx->dir) ? 0 : -1;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* Default I/O and clock: nothing here injects faults. */
static struct fl_wal *open_wal(struct fx *fx)
{
	struct fl_wal_options o = { .budget = &fx->budget };
	struct fl_wal *w = NULL;
	struct fl_error err;
	assert_int_equal(fl_wal_open(fx->dir, &o, &w, &err), FL_OK);
	return w;
}

static void append_frame(struct fl_wal *w, const void *p, size_t len, struct fl_wal_ticket *t)
{
	struct fl_buf b;
	struct fl_error err;
	fl_buf_init(&b, 1 << 16);
	assert_int_equal(fl_wal_frame(&b, p, len), FL_OK);
	assert_int_equal(fl_wal_append(w, b.data, b.len, t, &err), FL_OK);
	fl_buf_free(&b);
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static void patch_byte(const char *path, uint64_t off, uint8_t x)
{
	uint8_t v;
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0 && pread(fd, &v, 1, (off_t)off) == 1);
	v ^= x;
	assert_true(pwrite(fd, &v, 1, (off_t)off) == 1 && close(fd) == 0);
}

/* ---- salvage -------------------------------------------------------- */

/* Table-driven: build a sealed segment of n records, damage it, salvage
 * from where fl_wal_read's valid prefix ends, and compare the callbacks
 * (in order) with the expected ones.  Offsets in the table are record
 * boundaries: boundary i is where record i starts (boundary n is where the
 * last record ends), SV_EOF the file size after the damage. */

#define SV_MAX_RECS 12
#define SV_EOF (-1)

enum sv_mut_kind {
	SV_NONE,
	SV_PAYLOAD,  /* flip payload byte `arg` of record `rec` */
	SV_LEN_LOW,  /* length one off (still fits) */
	SV_LEN_FITS, /* length 256 off (still fits in the file) */
	SV_LEN_HUGE, /* length past FL_WAL_MAX_RECORD */
	SV_CRC,      /* flip a CRC byte */
	SV_CUT,      /* truncate at `arg` bytes into record `rec` */
	SV_GARBAGE,  /* append bytes that are no frame (one looks like one) */
	SV_ZEROS,    /* extend the file by `arg` zero bytes */
};

struct sv_mut {
	enum sv_mut_kind kind;
	int rec;
	int arg;
};

struct sv_exp {
	char kind; /* 'R' record a, 'D' damage [boundary a, boundary b); 0 ends */
	int a, b;
};

struct sv_case {
	const char *name;
	int nrec;
	unsigned embed_mask;   /* bit i: record i's payload holds intact frames */
	struct sv_mut mut[2];
	bool from_header;      /* salvage from the first record, not valid_end */
	int valid;             /* boundary where fl_wal_read stops */
	size_t stop_records;   /* fn stops at this many records (0: never) */
	bool stop_on_damage;   /* damage_fn stops at the first stretch */
	struct sv_exp ev[12];
};

#define R(i) { 'R', (i), 0 }
#define D(a, b) { 'D', (a), (b) }
#define FLIP(k) { { SV_PAYLOAD, (k), 3 } }

static const struct sv_case sv_cases[] = {
	{ "payload byte, first record", 5, 0, FLIP(0), false, 0, 0, false,
	  { D(0, 1), R(1), R(2), R(3), R(4) } },
	{ "payload byte, record 2 of 6", 6, 0, FLIP(2), false, 2, 0, false,
	  { D(2, 3), R(3), R(4), R(5) } },
	{ "last payload byte", 4, 0, { { SV_PAYLOAD, 1, -1 } }, false, 1, 0, false,
	  { D(1, 2), R(2), R(3) } },
	{ "length one off", 6, 0, { { SV_LEN_LOW, 2, 0 } }, false, 2, 0, false,
	  { D(2, 3), R(3), R(4), R(5) } },
	{ "length 256 off, still fits", 10, 0, { { SV_LEN_FITS, 1, 0 } }, false, 1, 0, false,
	  { D(1, 2), R(2), R(3), R(4), R(5), R(6), R(7), R(8), R(9) } },
	{ "length past the record limit", 5, 0, { { SV_LEN_HUGE, 3, 0 } }, false, 3, 0, false,
	  { D(3, 4), R(4) } },
	{ "CRC byte", 4, 0, { { SV_CRC, 1, 0 } }, false, 1, 0, false,
	  { D(1, 2), R(2), R(3) } },
	{ "two separate damaged records", 7, 0, { { SV_PAYLOAD, 1, 0 }, { SV_LEN_LOW, 4, 0 } },
	  false, 1, 0, false, { D(1, 2), R(2), R(3), D(4, 5), R(5), R(6) } },
	{ "two adjacent damaged records", 6, 0, { { SV_CRC, 2, 0 }, { SV_PAYLOAD, 3, 5 } },
	  false, 2, 0, false, { D(2, 4), R(4), R(5) } },
	{ "last record damaged", 4, 0, FLIP(3), false, 3, 0, false, { D(3, SV_EOF) } },
	{ "cut inside the last payload", 4, 0, { { SV_CUT, 3, 12 } }, false, 3, 0, false,
	  { D(3, SV_EOF) } },
	{ "cut inside the last frame header", 4, 0, { { SV_CUT, 3, 5 } }, false, 3, 0, false,
	  { D(3, SV_EOF) } },
	{ "garbage after the last record", 3, 0, { { SV_GARBAGE, 0, 0 } }, false, 3, 0, false,
	  { D(3, SV_EOF) } },
	{ "zero-filled tail", 3, 0, { { SV_ZEROS, 0, 4096 } }, false, 3, 0, false,
	  { D(3, SV_EOF) } },
	{ "from at the end of the file", 3, 0, { { SV_NONE, 0, 0 } }, false, 3, 0, false,
	  { { 0, 0, 0 } } },
	{ "intact records holding frames", 4, 0x6, { { SV_NONE, 0, 0 } }, true, 4, 0, false,
	  { R(0), R(1), R(2), R(3) } },
	{ "damage before records holding frames", 5, 0xc, FLIP(1), false, 1, 0, false,
	  { D(1, 2), R(2), R(3), R(4) } },
	{ "damaged length before records holding frames", 5, 0x1c,
	  { { SV_LEN_FITS, 1, 0 } }, false, 1, 0, false, { D(1, 2), R(2), R(3), R(4) } },
	{ "fn stops early", 6, 0, FLIP(1), false, 1, 2, false, { D(1, 2), R(2), R(3) } },
	{ "fn stops before later damage", 6, 0, { { SV_PAYLOAD, 1, 0 }, { SV_PAYLOAD, 3, 0 } },
	  false, 1, 1, false, { D(1, 2), R(2) } },
	{ "damage_fn stops", 6, 0, { { SV_PAYLOAD, 1, 0 }, { SV_PAYLOAD, 4, 0 } }, false, 1, 0,
	  true, { D(1, 2) } },
};

struct sv_payload {
	uint8_t data[256];
	size_t len;
};

/* Record i's payload: text of varying length, or (embed) text around two
 * complete, intact frames, one at the very start of the payload. */
static void sv_payload(int i, bool embed, struct sv_payload *out)
{
	char text[128];
	int n = snprintf(text, sizeof text, "record %d of the salvage table %.*s", i,
			 (i * 7) % 23, "+++++++++++++++++++++++");
	out->len = 0;
	if (!embed) {
		memcpy(out->data, text, (size_t)n);
		out->len = (size_t)n;
		return;
	}
	struct fl_buf b;
	fl_buf_init(&b, sizeof out->data);
	assert_int_equal(fl_wal_frame(&b, "inner frame A", 13), FL_OK);
	assert_int_equal(fl_buf_reserve(&b, (size_t)n), FL_OK);
	memcpy(b.data + b.len, text, (size_t)n);
	b.len += (size_t)n;
	assert_int_equal(fl_wal_frame(&b, "inner frame B", 13), FL_OK);
	memcpy(out->data, b.data, b.len);
	out->len = b.len;
	fl_buf_free(&b);
}

/* Builds a sealed segment of the given payloads; starts[i] is where record
 * i begins, starts[n] where the last one ends. */
static void sv_build(struct fx *fx, const struct sv_payload *p, int n,
		     struct fl_wal_segment *seg, uint64_t *starts)
{
	struct fl_wal *w = open_wal(fx);
	struct fl_error err;
	struct fl_wal_ticket t;
	starts[0] = FL_WAL_HEADER_BYTES;
	for (int i = 0; i < n; i++) {
		append_frame(w, p[i].data, p[i].len, &t);
		starts[i + 1] = t.end;
	}
	assert_int_equal(fl_wal_sync(w, &t, &err), FL_OK);
	assert_int_equal(fl_wal_seal(w, seg, &err), FL_OK);
	fl_wal_free(w);
}

/* A sealed segment of three plain records; ends[i] is where record i ends. */
static void three_records(struct fx *fx, struct fl_wal_segment *seg, uint64_t ends[3])
{
	struct sv_payload p[3];
	uint64_t starts[4];
	for (int i = 0; i < 3; i++)
		sv_payload(i, false, &p[i]);
	sv_build(fx, p, 3, seg, starts);
	memcpy(ends, starts + 1, 3 * sizeof *ends);
}

static uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	assert_true(*len < (1 << 20));
	fclose(f);
	return buf;
}

static void append_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void sv_apply(const char *path, const struct sv_mut *m, const uint64_t *starts,
		     const struct sv_payload *p)
{
	uint64_t at = starts[m->rec];
	switch (m->kind) {
	case SV_NONE:
		break;
	case SV_PAYLOAD: {
		size_t i = m->arg < 0 ? p[m->rec].len - 1 : (size_t)m->arg;
		patch_byte(path, at + FL_WAL_FRAME_BYTES + i, 0x20);
		break;
	}
	case SV_LEN_LOW:
		patch_byte(path, at, 0x01);
		break;
	case SV_LEN_FITS:
		patch_byte(path, at + 1, 0x01);
		break;
	case SV_LEN_HUGE:
		patch_byte(path, at + 3, 0x80);
		break;
	case SV_CRC:
		patch_byte(path, at + 4, 0x01);
		break;
	case SV_CUT:
		assert_int_equal(truncate(path, (off_t)(at + (uint64_t)m->arg)), 0);
		break;
	case SV_GARBAGE: {
		/* A length that fits with a wrong CRC, then bytes whose every
		 * length is too large. */
		static const uint8_t junk[] = { 4, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 'a', 'b',
						'c', 'd', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						0xff, 0xff, 0xff, 0xff, 0xff };
		append_bytes(path, junk, sizeof junk);
		break;
	}
	case SV_ZEROS:
		assert_int_equal(truncate(path, (off_t)(file_size(path) + (uint64_t)m->arg)), 0);
		break;
	}
}

struct sv_event {
	char kind;
	uint64_t start, end; /* 'D' */
	uint8_t *data;       /* 'R', owned */
	size_t len;
};

struct sv_log {
	struct sv_event ev[64];
	size_t n;
	size_t records;
	size_t stop_records;
	bool stop_on_damage;
};

static int sv_on_record(void *arg, const void *p, size_t len)
{
	struct sv_log *l = arg;
	assert_true(l->n < 64);
	struct sv_event *e = &l->ev[l->n++];
	e->kind = 'R';
	e->data = malloc(len);
	assert_non_null(e->data);
	memcpy(e->data, p, len);
	e->len = len;
	l->records++;
	return l->stop_records && l->records >= l->stop_records;
}

static int sv_on_damage(void *arg, uint64_t start, uint64_t end)
{
	struct sv_log *l = arg;
	assert_true(l->n < 64);
	l->ev[l->n++] = (struct sv_event){ .kind = 'D', .start = start, .end = end };
	return l->stop_on_damage;
}

static void sv_log_free(struct sv_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->ev[i].data);
	l->n = 0;
	l->records = 0;
}

static uint64_t sv_at(int boundary, const uint64_t *starts, uint64_t eof)
{
	return boundary == SV_EOF ? eof : starts[boundary];
}

static void run_salvage_case(struct fx *fx, const struct sv_case *tc)
{
	struct sv_payload p[SV_MAX_RECS];
	uint64_t starts[SV_MAX_RECS + 1];
	struct fl_wal_segment seg;
	struct fl_error err;
	assert_true(tc->nrec <= SV_MAX_RECS);
	for (int i = 0; i < tc->nrec; i++)
		sv_payload(i, tc->embed_mask & (1u << i), &p[i]);
	sv_build(fx, p, tc->nrec, &seg, starts);
	for (size_t m = 0; m < 2; m++)
		sv_apply(seg.path, &tc->mut[m], starts, p);
	uint64_t eof = file_size(seg.path);

	uint64_t valid_end;
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &valid_end, &err), FL_OK);
	assert_int_equal(valid_end, sv_at(tc->valid, starts, eof));
	uint64_t from = tc->from_header ? FL_WAL_HEADER_BYTES : valid_end;

	size_t before_len, after_len;
	uint8_t *before = read_whole(seg.path, &before_len);
	struct sv_log l = { .stop_records = tc->stop_records,
			    .stop_on_damage = tc->stop_on_damage };
	assert_int_equal(fl_wal_salvage(seg.path, from, sv_on_record, sv_on_damage, &l, &err),
			 FL_OK);
	uint8_t *after = read_whole(seg.path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len); /* the file is not changed */
	free(before);
	free(after);

	size_t want = 0;
	while (want < 12 && tc->ev[want].kind)
		want++;
	for (size_t i = 0; i < want && i < l.n; i++) {
		const struct sv_exp *x = &tc->ev[i];
		const struct sv_event *e = &l.ev[i];
		if (e->kind != x->kind)
			fail_msg("%s: event %zu is %c, want %c", tc->name, i, e->kind, x->kind);
		if (x->kind == 'D') {
			uint64_t a = sv_at(x->a, starts, eof), b = sv_at(x->b, starts, eof);
			if (e->start != a || e->end != b)
				fail_msg("%s: damage %zu is [%" PRIu64 ", %" PRIu64 "), want [%" PRIu64
					 ", %" PRIu64 ")", tc->name, i, e->start, e->end, a, b);
		} else if (e->len != p[x->a].len || memcmp(e->data, p[x->a].data, e->len) != 0) {
			fail_msg("%s: event %zu is not record %d (%zu bytes)", tc->name, i, x->a,
				 e->len);
		}
	}
	if (l.n != want)
		fail_msg("%s: %zu callbacks, want %zu", tc->name, l.n, want);
	sv_log_free(&l);

	/* The same read with NULL callbacks runs to the end without trouble. */
	assert_int_equal(fl_wal_salvage(seg.path, from, NULL, NULL, NULL, &err), FL_OK);
	assert_int_equal(unlink(seg.path), 0);
}

static void test_salvage_table(void **state)
{
	struct fx *fx = *state;
	for (size_t i = 0; i < sizeof sv_cases / sizeof sv_cases[0]; i++)
		run_salvage_case(fx, &sv_cases[i]);
}

/* Resyncing is by CRC alone: when the damaged record's own payload holds a
 * complete frame, that frame counts as intact (the header's contract; it
 * carries only bytes the same client sent). */
static void test_salvage_frame_inside_damaged_record(void **state)
{
	struct fx *fx = *state;
	struct sv_payload p[3];
	uint64_t starts[4];
	struct fl_wal_segment seg;
	struct fl_error err;
	sv_payload(0, false, &p[0]);
	sv_payload(1, true, &p[1]); /* frame A at payload 0, text, frame B */
	sv_payload(2, false, &p[2]);
	sv_build(fx, p, 3, &seg, starts);
	/* Damage the text between the two inner frames. */
	uint64_t a_at = starts[1] + FL_WAL_FRAME_BYTES;
	uint64_t a_end = a_at + FL_WAL_FRAME_BYTES + 13;
	patch_byte(seg.path, a_end + 2, 0x20);
	uint64_t b_at = starts[2] - FL_WAL_FRAME_BYTES - 13;

	uint64_t valid_end;
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &valid_end, &err), FL_OK);
	assert_int_equal(valid_end, starts[1]);
	struct sv_log l = { 0 };
	assert_int_equal(fl_wal_salvage(seg.path, valid_end, sv_on_record, sv_on_damage, &l,
					&err), FL_OK);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.ev[0].kind, 'D');
	assert_int_equal(l.ev[0].start, starts[1]);
	assert_int_equal(l.ev[0].end, a_at);
	assert_int_equal(l.ev[1].kind, 'R');
	assert_int_equal(l.ev[1].len, 13);
	assert_memory_equal(l.ev[1].data, "inner frame A", 13);
	assert_int_equal(l.ev[2].kind, 'D');
	assert_int_equal(l.ev[2].start, a_end);
	assert_int_equal(l.ev[2].end, b_at);
	assert_int_equal(l.ev[3].kind, 'R');
	assert_memory_equal(l.ev[3].data, "inner frame B", 13);
	/* Frame B ends where record 2 starts, so record 2 is read by length. */
	assert_int_equal(b_at + FL_WAL_FRAME_BYTES + 13, starts[2]);
	assert_int_equal(l.ev[4].kind, 'R');
	assert_int_equal(l.ev[4].len, p[2].len);
	assert_memory_equal(l.ev[4].data, p[2].data, p[2].len);
	sv_log_free(&l);
}

static void test_salvage_bad_input(void **state)
{
	struct fx *fx = *state;
	struct fl_wal_segment seg;
	uint64_t ends[3];
	struct fl_error err;
	three_records(fx, &seg, ends);
	struct sv_log l = { 0 };
	assert_int_equal(fl_wal_salvage(seg.path, FL_WAL_HEADER_BYTES - 1, sv_on_record,
					sv_on_damage, &l, &err), FL_INVALID);
	assert_int_equal(fl_wal_salvage(seg.path, ends[2] + 1, sv_on_record, sv_on_damage, &l,
					&err), FL_INVALID);
	assert_int_equal(l.n, 0);
	assert_int_equal(fl_wal_salvage("/nonexistent/0000000000000001.wal", FL_WAL_HEADER_BYTES,
					NULL, NULL, NULL, &err), FL_NOT_FOUND);
	patch_byte(seg.path, 0, 0x01);
	assert_int_equal(fl_wal_salvage(seg.path, FL_WAL_HEADER_BYTES, sv_on_record,
					sv_on_damage, &l, &err), FL_INVALID);
	assert_int_equal(l.n, 0);
}

/* ---- quarantine of a damaged stretch --------------------------------- */

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_quarantine_range(void **state)
{
	struct fx *fx = *state;
	struct fl_wal_segment seg;
	uint64_t ends[3];
	struct fl_error err;
	three_records(fx, &seg, ends);
	patch_byte(seg.path, ends[0] + FL_WAL_FRAME_BYTES + 1, 0x20);
	struct fl_wal *w = open_wal(fx);
	uint64_t pending = atomic_load(&fx->budget.pending_bytes);
	size_t seg_len;
	uint8_t *orig = read_whole(seg.path, &seg_len);
	assert_int_equal(seg_len, ends[2]);
	char qdir[256];
	snprintf(qdir, sizeof qdir, "%s/quarantine", fx->dir);

	/* Nothing to copy: no file, not even the directory. */
	assert_int_equal(fl_wal_quarantine_range(w, seg.path, ends[1], ends[1], &err), FL_OK);
	assert_int_equal(fl_wal_quarantine_range(w, seg.path, ends[2], ends[2] + 10, &err), FL_OK);
	assert_int_equal(access(qdir, F_OK), -1);

	/* from, to, bytes expected in the file (to past the end is cut to it). */
	const struct {
		uint64_t from, to, want;
	} rc[] = {
		{ ends[0], ends[1], ends[1] - ends[0] },
		{ FL_WAL_HEADER_BYTES, ends[0], ends[0] - FL_WAL_HEADER_BYTES },
		{ ends[1] + 3, ends[2] + 100, ends[2] - ends[1] - 3 },
		{ 0, 1, 1 },
	};
	for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++) {
		assert_int_equal(fl_wal_quarantine_range(w, seg.path, rc[i].from, rc[i].to, &err),
				 FL_OK);
		char q[512];
		snprintf(q, sizeof q, "%s/%016" PRIx64 ".wal.%" PRIu64 ".bad", qdir, seg.seq,
			 rc[i].from);
		size_t qlen;
		uint8_t *qb = read_whole(q, &qlen);
		assert_int_equal(qlen, rc[i].want);
		assert_memory_equal(qb, orig + rc[i].from, qlen);
		free(qb);
		assert_int_equal(count_entries(qdir), i + 1);

		/* The segment is byte-identical and its budget unchanged. */
		size_t now_len;
		uint8_t *now = read_whole(seg.path, &now_len);
		assert_int_equal(now_len, seg_len);
		assert_memory_equal(now, orig, seg_len);
		free(now);
		assert_int_equal(atomic_load(&fx->budget.pending_bytes), pending);
	}

	/* Copying again (same from) overwrites the same file: here with a
	 * shorter range, so the old contents must be gone. */
	size_t files = count_entries(qdir);
	char q0[512];
	snprintf(q0, sizeof q0, "%s/%016" PRIx64 ".wal.%" PRIu64 ".bad", qdir, seg.seq, ends[0]);
	assert_int_equal(fl_wal_quarantine_range(w, seg.path, ends[0], ends[0] + 5, &err), FL_OK);
	assert_int_equal(count_entries(qdir), files);
	size_t qlen;
	uint8_t *qb = read_whole(q0, &qlen);
	assert_int_equal(qlen, 5);
	assert_memory_equal(qb, orig + ends[0], 5);
	free(qb);
	assert_int_equal(fl_wal_quarantine_range(w, seg.path, ends[0], ends[1], &err), FL_OK);
	assert_int_equal(count_entries(qdir), files);
	qb = read_whole(q0, &qlen);
	assert_int_equal(qlen, ends[1] - ends[0]);
	assert_memory_equal(qb, orig + ends[0], qlen);
	free(qb);

	/* The segment still reads as before, and is still listed. */
	uint64_t end;
	assert_int_equal(fl_wal_read(seg.path, NULL, NULL, NULL, &end, &err), FL_OK);
	assert_int_equal(end, ends[0]);
	struct fl_wal_segment *segs;
	size_t n;
	assert_int_equal(fl_wal_list(w, &segs, &n, &err), FL_OK);
	assert_int_equal(n, 1);
	assert_int_equal(segs[0].bytes, seg_len);
	free(segs);

	/* The open segment is left alone; a missing one is reported. */
	struct fl_wal_ticket t;
	append_frame(w, "open", 4, &t);
	char open_path[512];
	snprintf(open_path, sizeof open_path, "%s/%016" PRIx64 ".wal", fx->dir, t.seq);
	assert_int_equal(fl_wal_quarantine_range(w, open_path, FL_WAL_HEADER_BYTES, t.end, &err),
			 FL_IN_USE);
	assert_int_equal(count_entries(qdir), files);
	char gone[512];
	snprintf(gone, sizeof gone, "%s/%016" PRIx64 ".wal", fx->dir, t.seq + 100);
	assert_int_equal(fl_wal_quarantine_range(w, gone, FL_WAL_HEADER_BYTES, 60, &err),
			 FL_NOT_FOUND);
	free(orig);
	fl_wal_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_salvage_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_salvage_frame_inside_damaged_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_salvage_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine_range, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
