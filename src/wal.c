/*
 * wal.c - the write-ahead log of one delivery stream (format in wal.h).
 *
 * DESIGN.  Appends and syncs follow PostgreSQL's XLogWrite/XLogFlush split.
 * An append takes the short append lock, writes the caller's frames at the
 * end of the open segment (looping on short writes and EINTR), advances the
 * in-memory end and hands back a ticket (seq, end).  A sync checks, under
 * the small state lock, whether some fdatasync already covered the ticket.
 * If not, and no other thread is syncing, it becomes the sync leader: it
 * notes how far the segment is written and issues one fdatasync for
 * everything written so far, then publishes the new synced position and
 * wakes the waiters.  While a leader syncs, the others wait on a condition
 * variable, not on a mutex: when woken, those the sync covered return at
 * once without queueing behind the next leader (PostgreSQL's
 * LWLockAcquireOrWait), and one of the rest leads the next round, covering
 * every append made meanwhile.
 *
 * Progress is one lexicographic position (synced_seq, synced_end): segments
 * are written one after another, and a segment is closed (sealed or
 * poisoned) with its outcome recorded before the position can move past it.
 * Sealing is sync leader for its fdatasync, so a sealed segment's tickets
 * are durable exactly when the position passed its seq.
 *
 * A failed fdatasync is never retried (Linux reports a writeback error once
 * and may drop the dirty pages): the segment is poisoned.  Its tickets past
 * the last successful sync fail with FL_IO, it takes no more appends (the
 * next append opens a new segment) and it stays on disk to be delivered:
 * delivering data that was never acknowledged is at-least-once.  The
 * poisoned segments of this process are remembered in a small list; a ticket
 * of one is checked there first.
 *
 * A poisoned segment waits as an "orphan" until the batcher takes it: it
 * counts as the open segment in fl_wal_open_stats, and the next fl_wal_seal
 * hands it out (FL_OK, without another fdatasync) before it seals the real
 * open segment.  So the batcher delivers it at its next tick, and
 * fl_wal_list, fl_wal_remove and fl_wal_quarantine_tail leave it alone until
 * then, as they do the open segment.
 *
 * A failed write is truncated back to the previous end, so the file never
 * holds half of an append.  If even the truncate fails the segment is
 * poisoned as above.
 *
 * Zero-length records are refused by the writer and treated as the end of
 * the valid prefix by the reader: a crash can leave a file whose size grew
 * but whose tail reads as zeros, and an all-zero frame (length 0, CRC 0)
 * would otherwise pass as a record.
 *
 * Damage is not always a torn tail: a flipped bit in the middle of a
 * segment leaves intact, acknowledged records after it.  fl_wal_salvage
 * reads on from where the valid prefix ended: a damaged stretch ends at
 * the next offset where a frame's length fits and its CRC matches.  Every
 * offset is tried, since the damage may be in a length (following lengths
 * would skip intact records or stop early); most offsets fail on the
 * length alone, and the CRC work is bounded.  A false match needs a 32-bit
 * CRC to agree by chance, and delivery still parses what it gets.
 *
 * Lock order: append_lock -> state_lock.  Sync leadership (state_lock's
 * `leader` flag) is taken and dropped under state_lock and held across
 * append_lock; nothing waits for leadership while holding append_lock.
 */
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsdir.h"
#include "log.h"

static const char wal_magic[8] = { 'F', 'L', 'W', 'A', 'L', '\r', '\n', '\0' };
#define WAL_VERSION 1u
#define WAL_NAME_LEN 20 /* 16 hex digits + ".wal" */
#define WAL_POISON_MAX 1024
#define WAL_ORPHAN_MAX 64

/* One segment file.  refs: one for w->cur or the orphan list, one per sync
 * in flight using fd; the last release closes fd.  written and poisoned are
 * protected by append_lock; the rest is set at creation, then read-only. */
struct wal_seg {
	_Atomic int refs;
	int fd;
	uint64_t seq;
	int64_t created_ms;
	uint8_t id[16];
	uint64_t written;  /* end of the last complete append (append_lock) */
	bool poisoned;     /* no more appends (append_lock) */
	char path[4096];
};

struct wal_poison {
	uint64_t seq;
	uint64_t durable_end; /* tickets with end <= this were synced */
};

struct fl_wal {
	char dir[4096];
	int dir_fd;
	struct fl_wal_budget *budget;
	const struct fl_wal_io *io;
	int64_t (*now_ms)(void);
	_Atomic uint64_t charged; /* this WAL's share of budget->pending_bytes */

	pthread_mutex_t append_lock;
	struct wal_seg *cur;       /* open segment or NULL (append_lock) */
	uint64_t next_seq;         /* seq of the next segment (append_lock) */
	struct wal_seg *orphans[WAL_ORPHAN_MAX]; /* poisoned segments not yet
				    * handed out by fl_wal_seal, oldest first */
	size_t n_orphans;          /* (append_lock) */

	pthread_mutex_t state_lock;
	pthread_cond_t sync_done;  /* signalled when a leader finishes */
	bool leader;               /* a sync or seal is running (state_lock) */
	uint64_t synced_seq;       /* (synced_seq, synced_end): every ticket */
	uint64_t synced_end;       /* at or below is durable (state_lock) */
	struct wal_poison *poison; /* closed segments whose tail failed */
	size_t n_poison;           /* (state_lock) */
	uint64_t forgot_below;     /* poison entries below this seq were
				    * dropped: such tickets fail (state_lock) */
};

/* ---- little helpers ------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ssize_t libc_write(int fd, const void *p, size_t n)
{
	return write(fd, p, n);
}

static int libc_fdatasync(int fd)
{
	return fdatasync(fd);
}

static const struct fl_wal_io libc_io = { libc_write, libc_fdatasync };

/* Bytes of a segment file that count against the budget. */
static uint64_t charge_of(uint64_t file_bytes)
{
	return file_bytes > FL_WAL_HEADER_BYTES ? file_bytes - FL_WAL_HEADER_BYTES : 0;
}

static bool budget_take(struct fl_wal *w, uint64_t n)
{
	struct fl_wal_budget *b = w->budget;
	uint64_t cur = atomic_load(&b->pending_bytes);
	do {
		if (b->max_bytes && (n > b->max_bytes || cur > b->max_bytes - n))
			return false;
	} while (!atomic_compare_exchange_weak(&b->pending_bytes, &cur, cur + n));
	atomic_fetch_add(&w->charged, n);
	return true;
}

/* Adds without the limit (existing segments found at open). */
static void budget_force(struct fl_wal *w, uint64_t n)
{
	atomic_fetch_add(&w->budget->pending_bytes, n);
	atomic_fetch_add(&w->charged, n);
}

/* Subtracts, never below zero (of this WAL's share nor of the total). */
static void budget_give(struct fl_wal *w, uint64_t n)
{
	uint64_t mine = atomic_load(&w->charged), take;
	do {
		take = n < mine ? n : mine;
	} while (!atomic_compare_exchange_weak(&w->charged, &mine, mine - take));
	uint64_t tot = atomic_load(&w->budget->pending_bytes);
	uint64_t t;
	do {
		t = take < tot ? take : tot;
	} while (!atomic_compare_exchange_weak(&w->budget->pending_bytes, &tot, tot - t));
}

/* Writes all of p, looping on short writes and EINTR.  *done is how many
 * bytes reached the file.  Returns 0 or an errno value. */
static int write_all(const struct fl_wal_io *io, int fd, const void *p, size_t n,
		     size_t *done)
{
	const char *c = p;
	size_t off = 0;
	int e = 0;
	while (off < n) {
		ssize_t k = io->write(fd, c + off, n - off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			e = errno ? errno : EIO;
			break;
		}
		if (k == 0) { /* no progress on a regular file: treat as full */
			e = ENOSPC;
			break;
		}
		off += (size_t)k;
	}
	*done = off;
	return e;
}

static int fsync_fd(int fd)
{
	int r;
	do
		r = fsync(fd);
	while (r < 0 && errno == EINTR);
	return r;
}


/* Parses "<16 hex>.wal"; 0 when the name is not a segment's. */
static uint64_t parse_name(const char *name)
{
	if (strlen(name) != WAL_NAME_LEN || strcmp(name + 16, ".wal") != 0)
		return 0;
	uint64_t v = 0;
	for (int i = 0; i < 16; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return 0;
		v = v << 4 | (uint64_t)d;
	}
	return v;
}

/* fl_wal_open checked that dir leaves room for a segment name. */
static void seg_path(const struct fl_wal *w, uint64_t seq, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%016" PRIx64 ".wal", w->dir, seq) >= n)
		out[0] = '\0';
}

static void seg_release(struct wal_seg *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	if (s->fd >= 0 && close(s->fd) < 0)
		fl_warn("wal: close %s: %s", s->path, strerror(errno));
	free(s);
}

/* ---- progress and poison (state_lock) ------------------------------- */

enum tstate { T_PENDING, T_DURABLE, T_FAILED };

static enum tstate ticket_state_locked(const struct fl_wal *w,
				       const struct fl_wal_ticket *t)
{
	for (size_t i = 0; i < w->n_poison; i++)
		if (w->poison[i].seq == t->seq)
			return t->end <= w->poison[i].durable_end ? T_DURABLE : T_FAILED;
	if (t->seq < w->forgot_below)
		return T_FAILED; /* outcome forgotten: refuse to acknowledge */
	if (t->seq < w->synced_seq || (t->seq == w->synced_seq && t->end <= w->synced_end))
		return T_DURABLE;
	return T_PENDING;
}

static enum tstate ticket_state(struct fl_wal *w, const struct fl_wal_ticket *t)
{
	pthread_mutex_lock(&w->state_lock);
	enum tstate s = ticket_state_locked(w, t);
	pthread_mutex_unlock(&w->state_lock);
	return s;
}

static void publish_synced(struct fl_wal *w, uint64_t seq, uint64_t end)
{
	pthread_mutex_lock(&w->state_lock);
	if (seq > w->synced_seq || (seq == w->synced_seq && end > w->synced_end)) {
		w->synced_seq = seq;
		w->synced_end = end;
	}
	pthread_mutex_unlock(&w->state_lock);
}

/* Records that segment seq failed: only what an earlier sync covered is
 * durable.  Must be called before any later segment can be synced. */
static void record_poison(struct fl_wal *w, uint64_t seq)
{
	pthread_mutex_lock(&w->state_lock);
	uint64_t durable = FL_WAL_HEADER_BYTES;
	if (w->synced_seq == seq)
		durable = w->synced_end;
	if (w->n_poison == WAL_POISON_MAX) {
		w->forgot_below = w->poison[0].seq + 1;
		memmove(w->poison, w->poison + 1, (WAL_POISON_MAX - 1) * sizeof *w->poison);
		w->n_poison--;
	}
	w->poison[w->n_poison].seq = seq;
	w->poison[w->n_poison].durable_end = durable;
	w->n_poison++;
	pthread_mutex_unlock(&w->state_lock);
}

/* Queues a closed, poisoned segment for fl_wal_seal to hand out; steals
 * the caller's reference (append_lock held). */
static void add_orphan_locked(struct fl_wal *w, struct wal_seg *s)
{
	if (w->n_orphans == WAL_ORPHAN_MAX) {
		/* Still on disk: the next start delivers it. */
		fl_warn("wal: too many failed segments; %s waits for a restart",
			w->orphans[0]->path);
		seg_release(w->orphans[0]);
		memmove(w->orphans, w->orphans + 1, (WAL_ORPHAN_MAX - 1) * sizeof w->orphans[0]);
		w->n_orphans--;
	}
	w->orphans[w->n_orphans++] = s;
}

static bool is_orphan_locked(const struct fl_wal *w, uint64_t seq)
{
	for (size_t i = 0; i < w->n_orphans; i++)
		if (w->orphans[i]->seq == seq)
			return true;
	return false;
}

/* Poisons the open segment s (append_lock held): it takes no more appends,
 * its unsynced tickets fail, and it waits for fl_wal_seal as an orphan. */
static void poison_cur_locked(struct fl_wal *w, struct wal_seg *s, const char *why)
{
	if (s->poisoned)
		return;
	s->poisoned = true;
	record_poison(w, s->seq);
	fl_error("wal: segment %s poisoned (%s); new appends go to a new segment",
		 s->path, why);
	if (w->cur == s) {
		w->cur = NULL;
		add_orphan_locked(w, s);
	}
}

/* ---- segments ------------------------------------------------------- */

static int fill_random(uint8_t *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t k = getrandom(p + off, n - off, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)k;
	}
	return 0;
}

/* Creates the next segment and makes it w->cur (append_lock held). */
static enum fl_result open_segment(struct fl_wal *w, struct fl_error *err)
{
	enum fl_result r = FL_IO;
	struct wal_seg *s = calloc(1, sizeof *s);
	if (!s)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	s->fd = -1;
	atomic_init(&s->refs, 1);
	if (fill_random(s->id, sizeof s->id) < 0) {
		r = fl_error_set(err, FL_IO, "getrandom: %s", strerror(errno));
		goto out;
	}
	for (int tries = 0; tries < 16 && s->fd < 0; tries++) {
		s->seq = w->next_seq++;
		seg_path(w, s->seq, s->path, sizeof s->path);
		s->fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
		if (s->fd < 0 && errno != EEXIST) {
			r = fl_error_set(err, FL_IO, "create WAL segment: %s", strerror(errno));
			goto out;
		}
	}
	if (s->fd < 0) {
		r = fl_error_set(err, FL_IO, "create WAL segment: seq taken");
		goto out;
	}
	s->created_ms = w->now_ms();

	uint8_t h[FL_WAL_HEADER_BYTES];
	memcpy(h, wal_magic, 8);
	put_u32(h + 8, WAL_VERSION);
	put_u32(h + 12, FL_WAL_HEADER_BYTES);
	put_u64(h + 16, (uint64_t)s->created_ms);
	put_u64(h + 24, s->seq);
	memcpy(h + 32, s->id, 16);
	size_t done;
	int e = write_all(w->io, s->fd, h, sizeof h, &done);
	if (e) {
		r = fl_error_set(err, FL_IO, "write WAL header: %s", strerror(e));
		goto unlink_out;
	}
	if (w->io->fdatasync(s->fd) < 0) {
		r = fl_error_set(err, FL_IO, "sync WAL header: %s", strerror(errno));
		goto unlink_out;
	}
	if (fsync_fd(w->dir_fd) < 0) {
		r = fl_error_set(err, FL_IO, "sync WAL directory: %s", strerror(errno));
		goto unlink_out;
	}
	s->written = FL_WAL_HEADER_BYTES;
	w->cur = s;
	s = NULL;
	r = FL_OK;
	goto out;
unlink_out:
	/* Nothing was appended: the half-made file goes.  If the unlink
	 * fails the reader will quarantine it as a bad header. */
	unlink(s->path);
out:
	if (s) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
	}
	return r;
}

/* Reads a segment's header fields and size for fl_wal_list; a file too
 * short or with a bad header is still listed (zeros), so delivery finds
 * it and quarantines it. */
static int stat_segment(const char *path, struct fl_wal_segment *seg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	seg->bytes = (uint64_t)st.st_size;
	uint8_t h[FL_WAL_HEADER_BYTES];
	ssize_t k;
	do
		k = pread(fd, h, sizeof h, 0);
	while (k < 0 && errno == EINTR);
	close(fd);
	if (k == (ssize_t)sizeof h && memcmp(h, wal_magic, 8) == 0) {
		seg->created_ms = (int64_t)get_u64(h + 16);
		memcpy(seg->id, h + 32, 16);
	}
	return 0;
}

/* ---- open / free ---------------------------------------------------- */

enum fl_result fl_wal_open(const char *dir, const struct fl_wal_options *opt,
			   struct fl_wal **out, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	DIR *d = NULL;
	struct fl_wal *w = NULL;
	*out = NULL;
	if (!opt || !opt->budget)
		return fl_error_set(err, FL_INVALID, "WAL budget is required");
	if (strlen(dir) + 1 + WAL_NAME_LEN + 32 >= sizeof w->dir)
		return fl_error_set(err, FL_INVALID, "WAL directory path too long");
	w = calloc(1, sizeof *w);
	if (!w)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	w->dir_fd = -1;
	snprintf(w->dir, sizeof w->dir, "%s", dir);
	w->budget = opt->budget;
	w->io = opt->io ? opt->io : &libc_io;
	w->now_ms = opt->now_ms ? opt->now_ms : wall_ms;
	atomic_init(&w->charged, 0);
	pthread_cond_init(&w->sync_done, NULL);
	pthread_mutex_init(&w->append_lock, NULL);
	pthread_mutex_init(&w->state_lock, NULL);
	w->poison = calloc(WAL_POISON_MAX, sizeof *w->poison);
	if (!w->poison) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if (fl_mkdir_durable(dir, 0, 0750) < 0) {
		r = fl_error_set(err, FL_IO, "create WAL directory %s: %s", dir, strerror(errno));
		goto out;
	}
	w->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dir_fd < 0) {
		r = fl_error_set(err, FL_IO, "open WAL directory %s: %s", dir, strerror(errno));
		goto out;
	}
	d = opendir(dir);
	if (!d) {
		r = fl_error_set(err, FL_IO, "read WAL directory %s: %s", dir, strerror(errno));
		goto out;
	}
	uint64_t max_seq = 0, existing = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint64_t seq = parse_name(e->d_name);
		if (!seq)
			continue;
		struct stat st;
		if (fstatat(w->dir_fd, e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
			existing += charge_of((uint64_t)st.st_size);
		if (seq > max_seq)
			max_seq = seq;
	}
	w->next_seq = max_seq + 1;
	budget_force(w, existing);
	/* Nothing of this process's segments is unsynced yet. */
	w->synced_seq = max_seq;
	w->synced_end = UINT64_MAX;
	*out = w;
	w = NULL;
out:
	if (d)
		closedir(d);
	fl_wal_free(w);
	return r;
}

void fl_wal_free(struct fl_wal *w)
{
	if (!w)
		return;
	seg_release(w->cur);
	for (size_t i = 0; i < w->n_orphans; i++)
		seg_release(w->orphans[i]);
	budget_give(w, atomic_load(&w->charged));
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	pthread_cond_destroy(&w->sync_done);
	pthread_mutex_destroy(&w->append_lock);
	pthread_mutex_destroy(&w->state_lock);
	free(w->poison);
	free(w);
}

/* ---- append / sync -------------------------------------------------- */

enum fl_result fl_wal_frame(struct fl_buf *out, const void *payload, size_t len)
{
	if (len == 0)
		return FL_INVALID;
	if (len > FL_WAL_MAX_RECORD)
		return FL_TOO_LARGE;
	uint8_t f[FL_WAL_FRAME_BYTES];
	put_u32(f, (uint32_t)len);
	put_u32(f + 4, fl_crc32c(0, payload, len));
	size_t old = out->len;
	enum fl_result r = fl_buf_reserve(out, sizeof f + len);
	if (r != FL_OK)
		return r;
	r = fl_buf_add(out, f, sizeof f);
	if (r == FL_OK)
		r = fl_buf_add(out, payload, len);
	if (r != FL_OK)
		out->len = old;
	return r;
}

enum fl_result fl_wal_append(struct fl_wal *w, const void *frames, size_t len,
			     struct fl_wal_ticket *ticket, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	if (len == 0)
		return fl_error_set(err, FL_INVALID, "empty WAL append");
	if (!budget_take(w, len))
		return fl_error_set(err, FL_UNAVAILABLE, "WAL budget full");
	uint64_t keep = 0; /* bytes that stay charged to the budget */

	pthread_mutex_lock(&w->append_lock);
	if (!w->cur) {
		r = open_segment(w, err);
		if (r != FL_OK)
			goto out;
	}
	struct wal_seg *s = w->cur;
	size_t done = 0;
	int e = write_all(w->io, s->fd, frames, len, &done);
	if (e == 0) {
		s->written += len;
		ticket->seq = s->seq;
		ticket->end = s->written;
		keep = len;
		goto out;
	}
	r = fl_error_set(err, FL_IO, "write WAL: %s", strerror(e));
	if (done > 0) {
		int t;
		do
			t = ftruncate(s->fd, (off_t)s->written);
		while (t < 0 && errno == EINTR);
		if (t < 0) {
			fl_error("wal: truncate %s back after a failed write: %s", s->path,
				 strerror(errno));
			keep = done; /* they stay in the file until it is removed */
			poison_cur_locked(w, s, "truncate failed");
		}
	}
out:
	pthread_mutex_unlock(&w->append_lock);
	if (keep < len)
		budget_give(w, len - keep);
	return r;
}

/* Waits until no sync or seal runs, then takes the leadership. */
static void lead(struct fl_wal *w)
{
	pthread_mutex_lock(&w->state_lock);
	while (w->leader)
		pthread_cond_wait(&w->sync_done, &w->state_lock);
	w->leader = true;
	pthread_mutex_unlock(&w->state_lock);
}

static void unlead(struct fl_wal *w)
{
	pthread_mutex_lock(&w->state_lock);
	w->leader = false;
	pthread_cond_broadcast(&w->sync_done);
	pthread_mutex_unlock(&w->state_lock);
}

enum fl_result fl_wal_sync(struct fl_wal *w, const struct fl_wal_ticket *ticket,
			   struct fl_error *err)
{
	if (ticket->seq == 0)
		return fl_error_set(err, FL_INVALID, "empty WAL ticket");
	pthread_mutex_lock(&w->state_lock);
	enum tstate st;
	while ((st = ticket_state_locked(w, ticket)) == T_PENDING && w->leader)
		pthread_cond_wait(&w->sync_done, &w->state_lock);
	if (st == T_PENDING)
		w->leader = true;
	pthread_mutex_unlock(&w->state_lock);
	if (st == T_DURABLE)
		return FL_OK;
	if (st == T_FAILED)
		return fl_error_set(err, FL_IO, "WAL sync failed");

	/* Leader: one fdatasync for everything written so far. */
	enum fl_result r = FL_OK;
	pthread_mutex_lock(&w->append_lock);
	struct wal_seg *s = w->cur;
	if (!s || s->seq != ticket->seq || ticket->end > s->written) {
		pthread_mutex_unlock(&w->append_lock);
		/* An append may have poisoned the segment since we looked;
		 * other closings record their outcome before they drop the
		 * leadership.  Anything else was not a ticket of this WAL. */
		st = ticket_state(w, ticket);
		if (st == T_FAILED)
			r = fl_error_set(err, FL_IO, "WAL sync failed");
		else if (st == T_PENDING)
			r = fl_error_set(err, FL_INTERNAL, "WAL ticket of an unknown segment");
		goto out;
	}
	atomic_fetch_add(&s->refs, 1);
	uint64_t target = s->written;
	pthread_mutex_unlock(&w->append_lock);

	if (w->io->fdatasync(s->fd) == 0) {
		publish_synced(w, s->seq, target);
	} else {
		int e = errno;
		pthread_mutex_lock(&w->append_lock);
		poison_cur_locked(w, s, strerror(e));
		pthread_mutex_unlock(&w->append_lock);
	}
	seg_release(s);
	if (ticket_state(w, ticket) != T_DURABLE)
		r = fl_error_set(err, FL_IO, "WAL sync failed");
out:
	unlead(w);
	return r;
}

void fl_wal_open_stats(struct fl_wal *w, uint64_t *bytes, int64_t *created_ms)
{
	pthread_mutex_lock(&w->append_lock);
	/* An orphan is older than the open segment and is sealed first. */
	struct wal_seg *s = w->n_orphans ? w->orphans[0] : w->cur;
	if (bytes)
		*bytes = s ? s->written : 0;
	if (created_ms)
		*created_ms = s ? s->created_ms : 0;
	pthread_mutex_unlock(&w->append_lock);
}

enum fl_result fl_wal_seal(struct fl_wal *w, struct fl_wal_segment *sealed,
			   struct fl_error *err)
{
	enum fl_result r = FL_OK;
	bool orphan = false;
	lead(w);
	pthread_mutex_lock(&w->append_lock);
	struct wal_seg *s;
	if (w->n_orphans) {
		/* Its failed fdatasync is not retried: what it covered is
		 * already recorded as failed. */
		s = w->orphans[0];
		w->n_orphans--;
		memmove(w->orphans, w->orphans + 1, w->n_orphans * sizeof w->orphans[0]);
		orphan = true;
	} else {
		s = w->cur;
		w->cur = NULL; /* steals w->cur's reference */
	}
	uint64_t end = s ? s->written : 0;
	pthread_mutex_unlock(&w->append_lock);
	if (!s) {
		r = fl_error_set(err, FL_NOT_FOUND, "no open WAL segment");
		goto out;
	}
	struct stat st;
	if (orphan && fstat(s->fd, &st) == 0)
		end = (uint64_t)st.st_size; /* a failed truncate may have left more */
	if (!orphan) {
		if (w->io->fdatasync(s->fd) < 0) {
			int e = errno;
			r = fl_error_set(err, FL_IO, "sync WAL segment: %s", strerror(e));
			pthread_mutex_lock(&w->append_lock);
			s->poisoned = true;
			record_poison(w, s->seq);
			add_orphan_locked(w, s); /* steals our reference */
			pthread_mutex_unlock(&w->append_lock);
			fl_error("wal: sealing %s failed (%s); the next seal hands it out",
				 s->path, strerror(e));
			goto out;
		}
		publish_synced(w, s->seq, end);
	}
	if (sealed) {
		memset(sealed, 0, sizeof *sealed);
		sealed->seq = s->seq;
		sealed->created_ms = s->created_ms;
		memcpy(sealed->id, s->id, 16);
		sealed->bytes = end;
		snprintf(sealed->path, sizeof sealed->path, "%s", s->path);
	}
	seg_release(s);
out:
	unlead(w);
	return r;
}

/* ---- list / remove -------------------------------------------------- */

static int seg_cmp(const void *a, const void *b)
{
	const struct fl_wal_segment *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

enum fl_result fl_wal_list(struct fl_wal *w, struct fl_wal_segment **segs,
			   size_t *n, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	struct fl_wal_segment *v = NULL;
	size_t len = 0, cap = 0;
	*segs = NULL;
	*n = 0;

	/* Segments created after this snapshot are open (or were, briefly);
	 * orphans are handed out by fl_wal_seal, not listed. */
	uint64_t skip[WAL_ORPHAN_MAX + 1];
	size_t n_skip = 0;
	pthread_mutex_lock(&w->append_lock);
	if (w->cur)
		skip[n_skip++] = w->cur->seq;
	for (size_t i = 0; i < w->n_orphans; i++)
		skip[n_skip++] = w->orphans[i]->seq;
	uint64_t next_seq = w->next_seq;
	pthread_mutex_unlock(&w->append_lock);

	DIR *d = opendir(w->dir);
	if (!d)
		return fl_error_set(err, FL_IO, "read WAL directory: %s", strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint64_t seq = parse_name(e->d_name);
		bool skipped = !seq || seq >= next_seq;
		for (size_t i = 0; i < n_skip && !skipped; i++)
			skipped = skip[i] == seq;
		if (skipped)
			continue;
		if (len == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct fl_wal_segment *nv = realloc(v, nc * sizeof *nv);
			if (!nv) {
				r = fl_error_set(err, FL_INTERNAL, "out of memory");
				goto out;
			}
			v = nv;
			cap = nc;
		}
		struct fl_wal_segment *s = &v[len];
		memset(s, 0, sizeof *s);
		s->seq = seq;
		seg_path(w, seq, s->path, sizeof s->path);
		if (stat_segment(s->path, s) < 0) {
			if (errno == ENOENT) /* removed meanwhile */
				continue;
			r = fl_error_set(err, FL_IO, "read WAL segment %s: %s", e->d_name,
					 strerror(errno));
			goto out;
		}
		len++;
	}
	if (len)
		qsort(v, len, sizeof *v, seg_cmp);
	*segs = v;
	*n = len;
	v = NULL;
out:
	closedir(d);
	free(v);
	return r;
}

enum fl_result fl_wal_remove(struct fl_wal *w, const struct fl_wal_segment *seg,
			     struct fl_error *err)
{
	char path[4096];
	pthread_mutex_lock(&w->append_lock);
	bool open_now = (w->cur && w->cur->seq == seg->seq) || is_orphan_locked(w, seg->seq);
	pthread_mutex_unlock(&w->append_lock);
	if (open_now)
		return fl_error_set(err, FL_IN_USE, "WAL segment is open");
	/* The path is rebuilt from seq: only files of this WAL are removed. */
	seg_path(w, seg->seq, path, sizeof path);
	struct stat st;
	uint64_t bytes = seg->bytes;
	if (stat(path, &st) == 0)
		bytes = (uint64_t)st.st_size;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return fl_error_set(err, FL_NOT_FOUND, "WAL segment is gone");
		return fl_error_set(err, FL_IO, "remove WAL segment: %s", strerror(errno));
	}
	budget_give(w, charge_of(bytes));
	/* A lost unlink only means the segment is delivered again. */
	if (fsync_fd(w->dir_fd) < 0)
		fl_warn("wal: sync directory %s: %s", w->dir, strerror(errno));
	return FL_OK;
}

/* ---- read / salvage / quarantine ------------------------------------- */

/* fl_wal_read releases mapped pages in steps of this (a power of two). */
#define READ_DROP_BYTES (4u << 20)
/* CRC work (bytes of candidate payloads) one fl_wal_salvage may spend
 * looking for the frame after a damaged stretch; past it, the rest of the
 * file counts as damaged. */
#define SALVAGE_SCAN_BYTES (1ull << 30)

/* Maps a whole segment file read-only and checks its header.  FL_INVALID
 * when the file is too short for a header or the header is not ours. */
static enum fl_result map_segment(const char *path, uint8_t **map, size_t *size,
				  struct fl_error *err)
{
	enum fl_result r = FL_OK;
	*map = NULL;
	*size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return fl_error_set(err, FL_NOT_FOUND, "WAL segment is gone");
		return fl_error_set(err, FL_IO, "open WAL segment: %s", strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = fl_error_set(err, FL_IO, "stat WAL segment: %s", strerror(errno));
		goto out;
	}
	size_t n = (size_t)st.st_size;
	if (n < FL_WAL_HEADER_BYTES) {
		r = fl_error_set(err, FL_INVALID, "WAL segment shorter than its header");
		goto out;
	}
	uint8_t *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		r = fl_error_set(err, FL_IO, "map WAL segment: %s", strerror(errno));
		goto out;
	}
	if (memcmp(m, wal_magic, 8) != 0 || get_u32(m + 8) != WAL_VERSION ||
	    get_u32(m + 12) != FL_WAL_HEADER_BYTES) {
		munmap(m, n);
		r = fl_error_set(err, FL_INVALID, "bad WAL segment header");
		goto out;
	}
	*map = m;
	*size = n;
out:
	close(fd);
	return r;
}

/* The payload length of the intact frame at off (its length fits in the
 * file and its CRC matches); 0 when there is none.  off <= size. */
static uint32_t frame_at(const uint8_t *map, size_t size, size_t off)
{
	if (size - off < FL_WAL_FRAME_BYTES)
		return 0;
	uint32_t len = get_u32(map + off);
	if (len == 0 || len > FL_WAL_MAX_RECORD || len > size - off - FL_WAL_FRAME_BYTES)
		return 0;
	if (fl_crc32c(0, map + off + FL_WAL_FRAME_BYTES, len) != get_u32(map + off + 4))
		return 0;
	return len;
}

enum fl_result fl_wal_read(const char *path, fl_wal_record_fn fn, void *arg,
			   struct fl_wal_segment *seg, uint64_t *valid_end,
			   struct fl_error *err)
{
	uint8_t *map;
	size_t size;
	*valid_end = 0;
	enum fl_result r = map_segment(path, &map, &size, err);
	if (r != FL_OK)
		return r;
	madvise(map, size, MADV_SEQUENTIAL);
	if (seg) {
		memset(seg, 0, sizeof *seg);
		seg->created_ms = (int64_t)get_u64(map + 16);
		seg->seq = get_u64(map + 24);
		memcpy(seg->id, map + 32, 16);
		seg->bytes = size;
		snprintf(seg->path, sizeof seg->path, "%s", path);
	}
	size_t off = FL_WAL_HEADER_BYTES, dropped = 0;
	uint32_t len;
	while ((len = frame_at(map, size, off)) != 0) {
		/* Pages already read are not needed again: give them back, so a
		 * large segment does not stay resident while it is read. */
		if (off - dropped >= READ_DROP_BYTES) {
			size_t upto = off & ~(size_t)(READ_DROP_BYTES - 1);
			madvise(map + dropped, upto - dropped, MADV_DONTNEED);
			dropped = upto;
		}
		const uint8_t *p = map + off + FL_WAL_FRAME_BYTES;
		off += FL_WAL_FRAME_BYTES + len;
		/* When fn stops the read, valid_end is the end of its last
		 * record: the rest was not looked at. */
		if (fn && fn(arg, p, len) != 0)
			break;
	}
	*valid_end = off;
	munmap(map, size);
	return FL_OK;
}

/* Where the damaged stretch that starts at off ends: the first later
 * offset holding an intact frame, or size.  Every offset is a candidate
 * (the damage may be in a length, so lengths are not followed); most are
 * rejected by their length alone, the rest by their CRC, whose work is
 * bounded by *budget. */
static size_t next_intact(const uint8_t *map, size_t size, size_t off, uint64_t *budget)
{
	for (size_t p = off + 1; size - p >= FL_WAL_FRAME_BYTES; p++) {
		uint32_t len = get_u32(map + p);
		if (len == 0 || len > FL_WAL_MAX_RECORD || len > size - p - FL_WAL_FRAME_BYTES)
			continue;
		if (len > *budget) {
			*budget = 0;
			break;
		}
		*budget -= len;
		if (frame_at(map, size, p))
			return p;
	}
	return size;
}

enum fl_result fl_wal_salvage(const char *path, uint64_t from, fl_wal_record_fn fn,
			      fl_wal_damage_fn damage_fn, void *arg, struct fl_error *err)
{
	uint8_t *map;
	size_t size;
	enum fl_result r = map_segment(path, &map, &size, err);
	if (r != FL_OK)
		return r;
	if (from < FL_WAL_HEADER_BYTES || from > size) {
		r = fl_error_set(err, FL_INVALID, "salvage from %" PRIu64 ": outside the records",
				 from);
		goto out;
	}
	uint64_t budget = SALVAGE_SCAN_BYTES;
	size_t off = (size_t)from;
	while (off < size) {
		uint32_t len = frame_at(map, size, off);
		if (len) {
			const uint8_t *p = map + off + FL_WAL_FRAME_BYTES;
			off += FL_WAL_FRAME_BYTES + len;
			if (fn && fn(arg, p, len) != 0)
				break;
			continue;
		}
		size_t end = next_intact(map, size, off, &budget);
		if (end == size && budget == 0)
			fl_warn("wal: %s: gave up looking for intact records after offset %zu",
				path, off);
		if (damage_fn && damage_fn(arg, off, end) != 0)
			break;
		off = end;
	}
out:
	munmap(map, size);
	return r;
}

/* Writes n bytes to dir/name durably (tmp + fsync + rename + fsync dir). */
static int write_file_durably(const char *dir, const char *name, const void *p,
			      size_t n)
{
	char tmp[4096 + 64], dst[4096 + 64];
	uint8_t rnd[8];
	if (fill_random(rnd, sizeof rnd) < 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%s/.tmp.%016" PRIx64, dir, get_u64(rnd));
	if ((size_t)snprintf(dst, sizeof dst, "%s/%s", dir, name) >= sizeof dst) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	size_t done;
	int e = write_all(&libc_io, fd, p, n, &done);
	if (!e && fsync_fd(fd) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, dst) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		errno = e;
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int rr = fsync_fd(dfd);
	e = errno;
	close(dfd);
	errno = e;
	return rr;
}

/* Copies [from, to) of a segment (to past the end: up to the end) into
 * <dir>/quarantine/; with cut, truncates the segment to from. */
static enum fl_result quarantine(struct fl_wal *w, const char *path, uint64_t from,
				 uint64_t to, bool cut, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	int fd = -1;
	uint8_t *data = NULL;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	uint64_t seq = parse_name(base);
	pthread_mutex_lock(&w->append_lock);
	bool open_now = seq && ((w->cur && w->cur->seq == seq) || is_orphan_locked(w, seq));
	pthread_mutex_unlock(&w->append_lock);
	if (open_now)
		return fl_error_set(err, FL_IN_USE, "WAL segment is open");

	fd = open(path, (cut ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		r = fl_error_set(err, errno == ENOENT ? FL_NOT_FOUND : FL_IO,
				 "open WAL segment: %s", strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = fl_error_set(err, FL_IO, "stat WAL segment: %s", strerror(errno));
		goto out;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (to > size)
		to = size;
	if (from >= to)
		goto out; /* nothing to move */
	size_t n = (size_t)(to - from);
	data = malloc(n);
	if (!data) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, data + got, n - got, (off_t)(from + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = fl_error_set(err, FL_IO, "read WAL segment: %s",
					 k < 0 ? strerror(errno) : "short file");
			goto out;
		}
		got += (size_t)k;
	}
	char qdir[4096 + 16], name[512];
	snprintf(qdir, sizeof qdir, "%s/quarantine", w->dir);
	snprintf(name, sizeof name, "%s.%" PRIu64 ".bad", base, from);
	if (fl_mkdir_durable(qdir, 0, 0750) < 0 || write_file_durably(qdir, name, data, n) < 0) {
		r = fl_error_set(err, FL_IO, "write quarantine file: %s", strerror(errno));
		goto out;
	}
	if (!cut) {
		fl_warn("wal: copied %zu damaged bytes of %s at offset %" PRIu64 " to %s/%s",
			n, path, from, qdir, name);
		goto out;
	}
	int t;
	do
		t = ftruncate(fd, (off_t)from);
	while (t < 0 && errno == EINTR);
	if (t < 0 || fsync_fd(fd) < 0) {
		r = fl_error_set(err, FL_IO, "truncate WAL segment: %s", strerror(errno));
		goto out;
	}
	budget_give(w, charge_of(size) - charge_of(from));
	fl_warn("wal: moved %zu damaged bytes of %s at offset %" PRIu64 " to %s/%s", n,
		path, from, qdir, name);
out:
	free(data);
	if (fd >= 0)
		close(fd);
	return r;
}

enum fl_result fl_wal_quarantine_tail(struct fl_wal *w, const char *path,
				      uint64_t from, struct fl_error *err)
{
	return quarantine(w, path, from, UINT64_MAX, true, err);
}

enum fl_result fl_wal_quarantine_range(struct fl_wal *w, const char *path, uint64_t from,
				       uint64_t to, struct fl_error *err)
{
	return quarantine(w, path, from, to, false, err);
}
