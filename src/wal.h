/*
 * wal.h - the write-ahead log of one delivery stream.
 *
 * The open segment of a stream *is* its buffer: records are appended to it,
 * made durable with group commit, and acknowledged only then.  The batcher
 * seals the open segment (by size or age); delivery turns a sealed segment
 * into objects and removes it only after they are stored and recorded.
 *
 * Directory: <dir>/ holds the segments of one stream, named
 *     <seq: 16 hex digits>.wal          seq grows by one per segment
 * Segment format (all integers little-endian):
 *
 *   +------------------------------- header, 48 bytes -----------------+
 *   | magic "FLWAL\r\n\0" (8) | version u32 (=1) | header_len u32 (=48) |
 *   | created_ms i64 | seq u64 | segment id (16 random bytes)          |
 *   +------------------------------------------------------------------+
 *   | record: payload_len u32 | crc32c(payload) u32 | payload ...      |
 *   | record ...                                                       |
 *
 * A record is valid when its length fits in the file and its CRC matches.
 * A torn tail (short or bad last record) is expected only at the end of
 * the segment that was open when the process died; the reader reports
 * where the valid prefix ends.  Damage elsewhere (a flipped byte) may have
 * intact records after it: fl_wal_salvage finds them, and the caller
 * quarantines only the damaged stretches.
 *
 * Threading: fl_wal_append and fl_wal_sync are called from many HTTP
 * threads at once; fl_wal_seal from the batcher thread.  All state is
 * protected inside (see wal.c).
 */
#ifndef FL_WAL_H
#define FL_WAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "crc32c.h" /* fl_crc32c, the frames' checksum */
#include "result.h"

#define FL_WAL_HEADER_BYTES 48
#define FL_WAL_FRAME_BYTES 8
#define FL_WAL_MAX_RECORD (16u << 20)

/* System calls the WAL makes, replaceable by tests to inject faults. */
struct fl_wal_io {
	ssize_t (*write)(int fd, const void *p, size_t n);
	int (*fdatasync)(int fd);
};

/* Bytes held by all WALs of the process (appended and not yet removed).
 * Shared by every stream's WAL; appends past max_bytes are refused. */
struct fl_wal_budget {
	_Atomic uint64_t pending_bytes;
	uint64_t max_bytes;
};

struct fl_wal_options {
	struct fl_wal_budget *budget;  /* borrowed; required */
	const struct fl_wal_io *io;    /* borrowed; NULL = libc */
	int64_t (*now_ms)(void);       /* NULL = wall clock */
};

/* Where an append ended: durable once the WAL has synced past it. */
struct fl_wal_ticket {
	uint64_t seq;
	uint64_t end;
};

struct fl_wal_segment {
	uint64_t seq;
	int64_t created_ms;
	uint8_t id[16];
	uint64_t bytes;        /* file size, header included */
	char path[4096];
};

struct fl_wal;

/* Opens (creating) the directory of one stream's WAL.  Existing segments
 * are left for fl_wal_list/delivery; appends go to a new segment whose
 * seq is above all of them.  Caller owns *out. */
enum fl_result fl_wal_open(const char *dir, const struct fl_wal_options *opt,
			   struct fl_wal **out, struct fl_error *err) FL_MUST_USE;
/* Closes without sealing; the open segment stays on disk for recovery. */
void fl_wal_free(struct fl_wal *w);

/* Appends frames (built with fl_wal_frame) as one write.  Either all of it
 * is in the file or none (a short write is truncated back).  FL_UNAVAILABLE
 * when the budget is full, FL_IO when the disk fails. */
enum fl_result fl_wal_append(struct fl_wal *w, const void *frames, size_t len,
			     struct fl_wal_ticket *ticket,
			     struct fl_error *err) FL_MUST_USE;
/* Returns once everything up to ticket is on disk (group commit: one
 * fdatasync covers every append before it).  FL_IO if that sync failed:
 * nothing it covered may be acknowledged. */
enum fl_result fl_wal_sync(struct fl_wal *w, const struct fl_wal_ticket *ticket,
			   struct fl_error *err) FL_MUST_USE;

/* Bytes (file size, header included) and age of the open segment (0 bytes
 * when none is open).  A segment whose fdatasync failed counts as open
 * until fl_wal_seal hands it out. */
void fl_wal_open_stats(struct fl_wal *w, uint64_t *bytes, int64_t *created_ms);

/* Seals the open segment: syncs it, closes it, and the next append opens a
 * new one.  *sealed describes it.  FL_NOT_FOUND when nothing is open.
 * A segment poisoned by a failed fdatasync (in fl_wal_sync or a failed
 * seal, which returns FL_IO) is handed out by the next call first, with
 * FL_OK: it is closed and goes to delivery like any sealed segment. */
enum fl_result fl_wal_seal(struct fl_wal *w, struct fl_wal_segment *sealed,
			   struct fl_error *err) FL_MUST_USE;

/* Sealed segments on disk (all except the open one), oldest first.
 * Caller owns *segs (free()). */
enum fl_result fl_wal_list(struct fl_wal *w, struct fl_wal_segment **segs,
			   size_t *n, struct fl_error *err) FL_MUST_USE;

/* Removes a delivered segment and returns its bytes to the budget. */
enum fl_result fl_wal_remove(struct fl_wal *w, const struct fl_wal_segment *seg,
			     struct fl_error *err) FL_MUST_USE;

/* Appends one frame around payload to out (request-side framing). */
enum fl_result fl_wal_frame(struct fl_buf *out, const void *payload,
			    size_t len) FL_MUST_USE;

/* Reads a segment file.  fn is called for each valid record (payload is
 * borrowed, valid during the call); a non-zero return stops the read.
 * *valid_end is the offset where the valid records end (= file size when
 * the whole file is intact). Header fields go to *seg when not NULL. */
typedef int (*fl_wal_record_fn)(void *arg, const void *payload, size_t len);
enum fl_result fl_wal_read(const char *path, fl_wal_record_fn fn, void *arg,
			   struct fl_wal_segment *seg, uint64_t *valid_end,
			   struct fl_error *err) FL_MUST_USE;

/* Reads on past damage, from `from` (where fl_wal_read's valid prefix
 * ended) to the end of the file.  A damaged stretch [start, end) ends at
 * the next offset holding an intact frame (its length fits, its CRC
 * matches), or at the end of the file; damage_fn gets each stretch and fn
 * each intact record after them, in file order (either may be NULL; a
 * non-zero return stops the read).  The file is not changed. */
typedef int (*fl_wal_damage_fn)(void *arg, uint64_t start, uint64_t end);
enum fl_result fl_wal_salvage(const char *path, uint64_t from, fl_wal_record_fn fn,
			      fl_wal_damage_fn damage_fn, void *arg,
			      struct fl_error *err) FL_MUST_USE;

/* Moves the damaged tail [from, EOF) of a segment into <dir>/quarantine/
 * and truncates the segment to `from`. */
enum fl_result fl_wal_quarantine_tail(struct fl_wal *w, const char *path,
				      uint64_t from, struct fl_error *err) FL_MUST_USE;
/* Copies the damaged stretch [from, to) of a segment into <dir>/quarantine/
 * (named like fl_wal_quarantine_tail's files); the segment is unchanged.
 * Copying again overwrites the same file. */
enum fl_result fl_wal_quarantine_range(struct fl_wal *w, const char *path, uint64_t from,
				       uint64_t to, struct fl_error *err) FL_MUST_USE;

#endif
