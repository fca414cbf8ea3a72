/*
 * ingest.c - the hot path: PutRecord / PutRecordBatch.
 *
 * DESIGN
 * A request is handled in three passes over per-thread scratch buffers,
 * with no DOM and no allocation per event:
 *
 *  1. parse and check the whole request (jscan): stream name, at most 500
 *     records, each Data base64 and at most 1,024,000 bytes decoded, at
 *     most 4 MiB in all, no member twice.  Any violation fails the request
 *     and changes nothing; like AWS, the ValidationException names every
 *     record that broke a constraint, and the 4 MiB check comes after.
 *  2. for each record: gunzip when it starts with the gzip magic, split
 *     it into events at newlines, enrich each event, compute its
 *     destination (partition keys -> evaluated prefix).  An event that
 *     cannot be enriched or partitioned becomes a processing-failed error
 *     record for the error output: it is kept, and its record succeeds.
 *     A decompressed record (up to 16 MiB) may hold an event too large
 *     for a WAL record of its own: that record goes to the error output
 *     whole, as its compressed bytes, and the rest of the batch is kept.
 *  3. sort the events by destination, frame one WAL record per
 *     destination (walrec.h), append them in one write and wait for the
 *     group commit.  Only then is the answer sent.
 *
 * If the WAL budget is full the request is refused whole with
 * ServiceUnavailableException (503: SDKs retry it).  If the disk fails,
 * every record of the batch is answered InternalFailure: none of them was
 * acknowledged, though some may still be delivered (at least once).
 */
#include "ingest.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "enrich.h"
#include "jscan.h"
#include "log.h"
#include "metrics.h"
#include "partition.h"
#include "server.h"
#include "stream.h"
#include "wal.h"
#include "walrec.h"

struct record {
	size_t off, len;        /* decoded Data in scratch.decoded */
};

struct event {
	uint32_t dest_off, dest_len;   /* in scratch.dests */
	uint32_t data_off, data_len;   /* in scratch.events */
	int64_t ts_ms;
	uint8_t kind;
};

/* Per-thread buffers, reused across requests (HTTP threads live long) and
 * freed when the thread ends. */
struct scratch {
	struct fl_buf decoded;    /* all records' Data, decoded */
	struct fl_buf inflated;   /* one gunzipped record */
	struct fl_buf events;     /* enriched events and error lines */
	struct fl_buf dests;      /* destinations */
	struct fl_buf keyvals;    /* partition key values of one event */
	struct fl_buf payload;    /* one WAL record */
	struct fl_buf frames;     /* all framed WAL records of the request */
	struct fl_buf tmp;
	struct record *records;
	struct event *evs;
	size_t evs_cap;
	struct fl_partition_state *pstate;
	bool ready;
};

static _Thread_local struct scratch *tls;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_key_ok;

/* Frees a thread's buffers when the thread ends (pthread key destructor). */
static void scratch_free(void *p)
{
	struct scratch *s = p;
	struct fl_buf *bufs[] = { &s->decoded, &s->inflated, &s->events, &s->dests,
				  &s->keyvals, &s->payload, &s->frames, &s->tmp };
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		fl_buf_free(bufs[i]);
	free(s->records);
	free(s->evs);
	if (s->pstate)
		fl_partition_state_free(s->pstate);
	free(s);
}

static void scratch_key_init(void)
{
	scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

static struct scratch *scratch_get(void)
{
	struct scratch *s = tls;
	if (!s) {
		pthread_once(&scratch_once, scratch_key_init);
		if (!scratch_key_ok || !(s = calloc(1, sizeof *s)))
			return NULL;
		if (pthread_setspecific(scratch_key, s) != 0) {
			free(s);
			return NULL;
		}
		tls = s;
	}
	if (!s->ready) {
		fl_buf_init(&s->decoded, FL_INGEST_MAX_BATCH_BYTES);
		fl_buf_init(&s->inflated, FL_INGEST_MAX_INFLATED);
		fl_buf_init(&s->events, 256u << 20);
		fl_buf_init(&s->dests, 64u << 20);
		fl_buf_init(&s->keyvals, 1u << 20);
		fl_buf_init(&s->payload, FL_WAL_MAX_RECORD - FL_WAL_FRAME_BYTES);
		fl_buf_init(&s->frames, 512u << 20);
		fl_buf_init(&s->tmp, 8u << 20);
		s->records = calloc(FL_INGEST_MAX_RECORDS, sizeof *s->records);
		s->ready = s->records != NULL;
	}
	if (!s->pstate)
		s->pstate = fl_partition_state_new();
	if (!s->ready || !s->pstate)
		return NULL;
	fl_buf_reset(&s->decoded);
	fl_buf_reset(&s->events);
	fl_buf_reset(&s->dests);
	fl_buf_reset(&s->frames);
	return s;
}

/* Gives memory back after an unusually large request. */
static void scratch_trim(struct scratch *s)
{
	struct fl_buf *bufs[] = { &s->decoded, &s->inflated, &s->events, &s->dests,
				  &s->payload, &s->frames, &s->tmp };
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		if (bufs[i]->cap > (8u << 20))
			fl_buf_free(bufs[i]);
	if (s->evs_cap > 65536) {
		free(s->evs);
		s->evs = NULL;
		s->evs_cap = 0;
	}
}

/* ---- pass 1: the request -------------------------------------------- */

struct request {
	char stream[FL_STREAM_NAME_MAX + 1];
	size_t nrecords;
	size_t total_bytes;     /* decoded bytes of every record, stored or not */
	/* Constraint violations, reported together as AWS does. */
	size_t nbad;
	char bad[FL_ERROR_MAX];
	size_t bad_len;
};

static enum fl_result bad_json(struct fl_error *err, const char *why)
{
	return fl_error_set(err, FL_MALFORMED, "Request body is not valid JSON: %s", why);
}

/* jansson's words for it, as every other operation answers. */
static enum fl_result duplicate_key(struct fl_error *err, const char *key)
{
	return fl_error_set(err, FL_MALFORMED,
			    "Request body is not valid JSON: duplicate object key near '\"%s\"'", key);
}

/* Records one "Value ... at 'path' failed to satisfy constraint: ..." for
 * the ValidationException that ends pass 1; what does not fit the error
 * text is counted but not spelled out. */
static void add_violation(struct request *rq, const char *fmt, ...) FL_PRINTF(2, 3);
static void add_violation(struct request *rq, const char *fmt, ...)
{
	size_t room = sizeof rq->bad - rq->bad_len;
	rq->nbad++;
	if (rq->nbad > 1 && room > 2) {
		memcpy(rq->bad + rq->bad_len, "; ", 3);
		rq->bad_len += 2;
		room -= 2;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(rq->bad + rq->bad_len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		rq->bad_len += (size_t)n < room ? (size_t)n : room - 1;
}

/* Decodes one {"Data": "..."} record object into s->decoded.  A record
 * over 1,024,000 bytes, or one that would take the request past 4 MiB,
 * is checked (base64) and counted, not stored: the request fails at the
 * end of pass 1, with every violation in its message. */
static enum fl_result parse_record(struct scratch *s, const char *p, size_t len,
				   struct request *rq, bool batch, struct record *rec,
				   struct fl_error *err)
{
	const char *why = NULL, *end = p + len;
	struct fl_json_member m;
	size_t index = rq->nrecords;
	bool have = false;
	char path[48] = "record.data";
	if (batch)
		snprintf(path, sizeof path, "records.%zu.member.data", index + 1);
	rec->off = s->decoded.len;
	rec->len = 0;
	const char *q = fl_json_object_begin(p, end, &why);
	if (!q)
		return fl_error_set(err, FL_MALFORMED, "Record %zu is not a JSON object", index);
	while ((q = fl_json_object_next(q, end, &m, &why)) && m.key) {
		if (m.key_len != 4 || memcmp(m.key, "Data", 4) != 0)
			continue;
		if (have)
			return duplicate_key(err, "Data");
		have = true;
		if (m.value[0] != '"')
			return fl_error_set(err, FL_MALFORMED, "Record %zu: Data is not a string", index);
		const char *raw;
		size_t n;
		bool escaped;
		if (!fl_json_string(m.value, m.value + m.value_len, &raw, &n, &escaped, &why))
			return bad_json(err, why);
		enum fl_result r;
		if (escaped) { /* "\/" is legal JSON inside base64 */
			fl_buf_reset(&s->tmp);
			if ((r = fl_json_unescape(raw, n, &s->tmp)) != FL_OK)
				return fl_error_set(err, FL_MALFORMED, "Record %zu: Data is too large", index);
			raw = s->tmp.data;
			n = s->tmp.len;
		}
		size_t dlen = 0;
		if (n % 4 == 0 && n > 0)
			dlen = n / 4 * 3 - (raw[n - 1] == '=') - (raw[n - 1] == '=' && raw[n - 2] == '=');
		bool keep = dlen <= FL_INGEST_MAX_RECORD_BYTES && rq->nbad == 0 &&
			    rq->total_bytes + dlen <= FL_INGEST_MAX_BATCH_BYTES;
		struct fl_buf *into = keep ? &s->decoded : &s->inflated;
		if (!keep)
			fl_buf_reset(&s->inflated);
		r = fl_base64_decode(raw, n, into);
		if (r == FL_TOO_LARGE)
			return fl_error_set(err, FL_TOO_LARGE, "Record %zu: Data is too large", index);
		if (r != FL_OK)
			return fl_error_set(err, FL_MALFORMED,
					    "Record %zu: Data is not valid base64", index);
		if (keep)
			rec->len = s->decoded.len - rec->off;
		rq->total_bytes += dlen;
		if (dlen > FL_INGEST_MAX_RECORD_BYTES)
			add_violation(rq, "Value 'java.nio.HeapByteBuffer[pos=0 lim=%zu cap=%zu]' at "
				      "'%s' failed to satisfy constraint: Member must have length "
				      "less than or equal to %u", dlen, dlen, path,
				      FL_INGEST_MAX_RECORD_BYTES);
	}
	if (!q)
		return bad_json(err, why);
	if (!have)
		add_violation(rq, "Value null at '%s' failed to satisfy constraint: Member must "
			      "not be null", path);
	return FL_OK;
}

static enum fl_result parse_request(struct scratch *s, const struct fl_req *req, bool batch,
				    struct request *out, struct fl_error *err)
{
	const char *why = NULL, *end = req->body + req->body_len;
	struct fl_json_member m;
	bool have_name = false, have_records = false;
	const char *p = fl_json_object_begin(req->body, end, &why);
	if (!p)
		return bad_json(err, why);
	while ((p = fl_json_object_next(p, end, &m, &why)) && m.key) {
		if (m.key_len == 18 && memcmp(m.key, "DeliveryStreamName", 18) == 0) {
			const char *raw;
			size_t n;
			bool esc;
			if (have_name)
				return duplicate_key(err, "DeliveryStreamName");
			if (m.value[0] != '"' ||
			    !fl_json_string(m.value, m.value + m.value_len, &raw, &n, &esc, &why))
				return fl_error_set(err, FL_MALFORMED, "DeliveryStreamName is not a string");
			if (esc || n < 1 || n > FL_STREAM_NAME_MAX)
				goto bad_name;
			memcpy(out->stream, raw, n);
			out->stream[n] = '\0';
			if (!fl_stream_name_valid(out->stream))
				goto bad_name;
			have_name = true;
		} else if (batch && m.key_len == 7 && memcmp(m.key, "Records", 7) == 0) {
			if (have_records)
				return duplicate_key(err, "Records");
			const char *e, *q = fl_json_array_begin(m.value, m.value + m.value_len, &why);
			size_t elen;
			if (!q)
				return fl_error_set(err, FL_MALFORMED, "Records is not a list");
			while ((q = fl_json_array_next(q, m.value + m.value_len, &e, &elen, &why)) && e) {
				if (out->nrecords == FL_INGEST_MAX_RECORDS)
					return fl_error_set(err, FL_VALIDATION,
						"1 validation error detected: Value at 'records' failed to "
						"satisfy constraint: Member must have length less than or "
						"equal to %d", FL_INGEST_MAX_RECORDS);
				enum fl_result r = parse_record(s, e, elen, out, true,
								&s->records[out->nrecords], err);
				if (r != FL_OK)
					return r;
				out->nrecords++;
			}
			if (!q)
				return bad_json(err, why);
			have_records = true;
		} else if (!batch && m.key_len == 6 && memcmp(m.key, "Record", 6) == 0) {
			if (have_records)
				return duplicate_key(err, "Record");
			enum fl_result r = parse_record(s, m.value, m.value_len, out, false,
							&s->records[0], err);
			if (r != FL_OK)
				return r;
			out->nrecords = 1;
			have_records = true;
		}
	}
	if (!p)
		return bad_json(err, why);
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p < end)
		return bad_json(err, "unexpected bytes after the JSON object");
	if (!have_name)
		return fl_error_set(err, FL_VALIDATION,
				    "1 validation error detected: Value null at 'deliveryStreamName' "
				    "failed to satisfy constraint: Member must not be null");
	if (!have_records)
		return fl_error_set(err, FL_VALIDATION,
				    "1 validation error detected: Value null at '%s' failed to "
				    "satisfy constraint: Member must not be null",
				    batch ? "records" : "record");
	if (batch && out->nrecords == 0)
		return fl_error_set(err, FL_VALIDATION,
				    "1 validation error detected: Value '[]' at 'records' failed to "
				    "satisfy constraint: Member must have length greater than or equal to 1");
	if (out->nbad)
		return fl_error_set(err, FL_VALIDATION, "%zu validation error%s detected: %s",
				    out->nbad, out->nbad == 1 ? "" : "s", out->bad);
	/* Firehose's own words; the limit is on the decoded Data. */
	if (out->total_bytes > FL_INGEST_MAX_BATCH_BYTES)
		return fl_error_set(err, FL_INVALID, "Records size exceeds 4 MB limit");
	return FL_OK;
bad_name:
	return fl_error_set(err, FL_VALIDATION,
			    "1 validation error detected: Value at 'deliveryStreamName' failed "
			    "to satisfy constraint: Member must satisfy regular expression "
			    "pattern: [a-zA-Z0-9_.-]+ and have length between 1 and 64");
}

/* ---- pass 2: events -------------------------------------------------- */

static enum fl_result add_event(struct scratch *s, size_t n, const struct event *e)
{
	if (n == s->evs_cap) {
		size_t cap = s->evs_cap ? s->evs_cap * 2 : 1024;
		struct event *p = realloc(s->evs, cap * sizeof *p);
		if (!p)
			return FL_INTERNAL;
		s->evs = p;
		s->evs_cap = cap;
	}
	s->evs[n] = *e;
	return FL_OK;
}

/* The context one request's events are processed in. */
struct batch {
	struct scratch *s;
	struct fl_stream_conf *conf;
	int64_t arrival_ms;
	size_t nevents;
	size_t nfailed;           /* events sent to the error output */
	/* The last destination computed: consecutive events often share it. */
	uint32_t last_dest_off, last_dest_len;
	bool have_last;
	/* An event (or its error line) of the current record is too large
	 * for a WAL record of its own: the record goes to the error output
	 * whole (see one_record). */
	bool oversized;
	size_t oversized_len;
};

/* Whether one event, framed alone, fits a WAL record.  Records up to
 * 1,024,000 bytes always do; an event of a gzip record may not. */
static bool fits_alone(const struct event *e)
{
	return (size_t)FL_WALREC_HEADER + e->dest_len + e->data_len + 1 <=
	       FL_WAL_MAX_RECORD - FL_WAL_FRAME_BYTES;
}

/* Forgets the event just written at events[start..]; flags the record. */
static enum fl_result oversized(struct batch *b, size_t start)
{
	b->oversized = true;
	b->oversized_len = b->s->events.len - start;
	b->s->events.len = start;
	return FL_OK;
}

/* Appends "<bucket>/" + evaluated prefix to s->dests; dedupes against the
 * previous destination. */
static enum fl_result finish_dest(struct batch *b, size_t start, uint32_t *off, uint32_t *len)
{
	struct scratch *s = b->s;
	size_t n = s->dests.len - start;
	if (b->have_last && b->last_dest_len == n &&
	    memcmp(s->dests.data + b->last_dest_off, s->dests.data + start, n) == 0) {
		s->dests.len = start;
	} else {
		b->last_dest_off = (uint32_t)start;
		b->last_dest_len = (uint32_t)n;
		b->have_last = true;
	}
	*off = b->last_dest_off;
	*len = b->last_dest_len;
	return FL_OK;
}

static enum fl_result error_dest(struct batch *b, uint32_t *off, uint32_t *len,
				 struct fl_error *err)
{
	struct scratch *s = b->s;
	size_t start = s->dests.len;
	struct fl_prefix_ctx ctx = { .ts_ms = b->arrival_ms,
				     .error_output_type = "processing-failed" };
	enum fl_result r;
	if ((r = fl_buf_adds(&s->dests, b->conf->bucket)) != FL_OK ||
	    (r = fl_buf_addc(&s->dests, '/')) != FL_OK)
		return fl_error_set(err, r, "too many destinations in one request");
	/* Always compiled: from ErrorOutputPrefix, or Firehose's default. */
	if ((r = fl_prefix_eval(b->conf->error_prefix, &ctx, &s->dests, err)) != FL_OK)
		return r;
	return finish_dest(b, start, off, len);
}

/* Writes a Firehose processing-failed error line for raw to s->events. */
static enum fl_result add_failed(struct batch *b, const char *raw, size_t len,
				 const char *code, const char *msg, struct fl_error *err)
{
	struct scratch *s = b->s;
	struct event e = { .kind = FL_WALREC_ERROR, .ts_ms = b->arrival_ms };
	enum fl_result r = error_dest(b, &e.dest_off, &e.dest_len, err);
	if (r != FL_OK)
		return r;
	size_t start = s->events.len;
	if ((r = fl_buf_printf(&s->events,
			       "{\"attemptsMade\":1,\"arrivalTimestamp\":%lld,\"errorCode\":\"%s\","
			       "\"errorMessage\":", (long long)b->arrival_ms, code)) != FL_OK ||
	    (r = fl_buf_add_json_str(&s->events, msg, strlen(msg))) != FL_OK ||
	    (r = fl_buf_printf(&s->events, ",\"attemptEndingTimestamp\":%lld,\"rawData\":\"",
			       (long long)b->arrival_ms)) != FL_OK ||
	    (r = fl_base64_encode(raw, len, &s->events)) != FL_OK ||
	    (r = fl_buf_adds(&s->events, "\"}")) != FL_OK)
		return fl_error_set(err, r, "request too large to process");
	e.data_off = (uint32_t)start;
	e.data_len = (uint32_t)(s->events.len - start);
	if (!fits_alone(&e))
		return oversized(b, start);
	if (add_event(s, b->nevents, &e) != FL_OK)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	b->nevents++;
	b->nfailed++;
	return FL_OK;
}

/* Enriches one event and files it under its destination. */
static enum fl_result one_event(struct batch *b, const char *raw, size_t len,
				struct fl_error *err)
{
	struct scratch *s = b->s;
	struct fl_stream_conf *conf = b->conf;
	struct fl_enriched info;
	const char *why = NULL;
	size_t start = s->events.len;
	enum fl_result r = fl_enrich_event(raw, len, &s->events, &info, &why);
	if (r == FL_TOO_LARGE)
		return fl_error_set(err, r, "request too large to process");
	if (r != FL_OK && r != FL_INVALID)
		return fl_error_set(err, r, "cannot enrich: %s", why ? why : fl_result_name(r));
	if (r != FL_OK)
		return add_failed(b, raw, len, "Enrichment.InvalidEvent", why ? why : "invalid event", err);

	const char *ev = s->events.data + start;
	size_t evlen = s->events.len - start;
	const char *vals[FL_PREFIX_MAX_KEYS];
	size_t lens[FL_PREFIX_MAX_KEYS], offs[FL_PREFIX_MAX_KEYS];
	if (conf->query) {
		struct fl_error perr = { 0 };
		fl_buf_reset(&s->keyvals);
		r = fl_partition_eval(conf->query, s->pstate, ev, evlen, conf->key_names,
				      conf->nkeys, &s->keyvals, offs, lens, &perr);
		if (r != FL_OK) {
			s->events.len = start;
			return add_failed(b, raw, len, "DynamicPartitioning.MetadataExtractionFailed",
					  perr.msg, err);
		}
		for (size_t i = 0; i < conf->nkeys; i++)
			vals[i] = s->keyvals.data + offs[i];
	}
	struct event e = { .kind = FL_WALREC_DATA, .ts_ms = info.created_at_ms,
			   .data_off = (uint32_t)start, .data_len = (uint32_t)evlen };
	size_t dstart = s->dests.len;
	struct fl_prefix_ctx ctx = { .ts_ms = info.created_at_ms, .key_values = vals,
				     .key_lens = lens };
	if ((r = fl_buf_adds(&s->dests, conf->bucket)) != FL_OK ||
	    (r = fl_buf_addc(&s->dests, '/')) != FL_OK)
		return fl_error_set(err, r, "request too large to process");
	struct fl_error perr = { 0 };
	if (fl_prefix_eval(conf->prefix, &ctx, &s->dests, &perr) != FL_OK) {
		s->dests.len = dstart;
		s->events.len = start;
		return add_failed(b, raw, len, "DynamicPartitioning.MetadataExtractionFailed",
				  perr.msg, err);
	}
	if ((r = finish_dest(b, dstart, &e.dest_off, &e.dest_len)) != FL_OK)
		return r;
	if (!fits_alone(&e))
		return oversized(b, start);
	if (add_event(s, b->nevents, &e) != FL_OK)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	b->nevents++;
	return FL_OK;
}

static int is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* gunzips a record into s->inflated; FL_INVALID when it is not gzip. */
static enum fl_result gunzip(struct scratch *s, const char *p, size_t n, const char **why)
{
	z_stream z = { 0 };
	enum fl_result r = FL_OK;
	fl_buf_reset(&s->inflated);
	if (inflateInit2(&z, 15 + 32) != Z_OK) {
		*why = "cannot start decompression";
		return FL_INTERNAL;
	}
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	for (;;) {
		if (fl_buf_reserve(&s->inflated, 65536) != FL_OK) {
			*why = "decompressed record exceeds 16 MiB";
			r = FL_INVALID;
			break;
		}
		z.next_out = (Bytef *)s->inflated.data + s->inflated.len;
		z.avail_out = 65536;
		int zr = inflate(&z, Z_NO_FLUSH);
		s->inflated.len += 65536 - z.avail_out;
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0)
				break;
			/* Concatenated gzip members. */
			if (inflateReset(&z) != Z_OK) {
				*why = "corrupt gzip data";
				r = FL_INVALID;
				break;
			}
			continue;
		}
		if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_out == 0)) {
			*why = "corrupt gzip data";
			r = FL_INVALID;
			break;
		}
		if (z.avail_in == 0 && z.avail_out != 0) {
			*why = "truncated gzip data";
			r = FL_INVALID;
			break;
		}
	}
	inflateEnd(&z);
	if (r == FL_OK)
		s->inflated.data[s->inflated.len] = '\0';
	return r;
}

static enum fl_result one_record(struct batch *b, const char *p, size_t n,
				 struct fl_error *err)
{
	struct scratch *s = b->s;
	const char *rec = p;
	size_t rec_len = n;
	size_t events_mark = s->events.len, dests_mark = s->dests.len;
	size_t nevents_mark = b->nevents, nfailed_mark = b->nfailed;
	if (n >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b) {
		const char *why = NULL;
		enum fl_result r = gunzip(s, p, n, &why);
		if (r == FL_INVALID)
			return add_failed(b, p, n, "Decompression.Failed", why, err);
		if (r != FL_OK)
			return fl_error_set(err, r, "%s", why);
		p = s->inflated.data;
		n = s->inflated.len;
	}
	const char *end = p + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		size_t len = (size_t)(stop - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (!is_blank(p, len)) {
			enum fl_result r = one_event(b, p, len, err);
			if (r != FL_OK)
				return r;
			if (b->oversized)
				break;
		}
		p = nl ? nl + 1 : end;
	}
	if (!b->oversized)
		return FL_OK;
	/* Only a decompressed record gets here; it fails alone, whole, and
	 * its compressed bytes (at most 1,024,000) fit an error line. */
	s->events.len = events_mark;
	s->dests.len = dests_mark;
	b->nevents = nevents_mark;
	b->nfailed = nfailed_mark;
	b->have_last = false;
	b->oversized = false;
	char msg[160];
	snprintf(msg, sizeof msg, "an event of the decompressed record takes %zu bytes, "
		 "more than a WAL record holds (%u)", b->oversized_len, FL_WAL_MAX_RECORD);
	return add_failed(b, rec, rec_len, "Enrichment.EventTooLarge", msg, err);
}

/* ---- pass 3: WAL records ----------------------------------------------- */

static _Thread_local const char *sort_dests;

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->dest_off != y->dest_off) {
		size_t n = x->dest_len < y->dest_len ? x->dest_len : y->dest_len;
		int c = memcmp(sort_dests + x->dest_off, sort_dests + y->dest_off, n);
		if (c)
			return c;
		if (x->dest_len != y->dest_len)
			return x->dest_len < y->dest_len ? -1 : 1;
	}
	/* Keep arrival order within a destination. */
	return x->data_off < y->data_off ? -1 : x->data_off > y->data_off;
}

static bool same_dest(const struct scratch *s, const struct event *a, const struct event *b)
{
	return a->kind == b->kind && a->dest_len == b->dest_len &&
	       (a->dest_off == b->dest_off ||
		memcmp(s->dests.data + a->dest_off, s->dests.data + b->dest_off, a->dest_len) == 0);
}

static enum fl_result frame_group(struct scratch *s, const struct fl_stream_conf *conf,
				  const struct event *g, size_t n)
{
	struct fl_walrec rec = { .kind = g[0].kind, .dest_len = (uint16_t)g[0].dest_len,
				 .count = (uint32_t)n, .version = (uint32_t)conf->version,
				 .min_ms = g[0].ts_ms, .max_ms = g[0].ts_ms };
	for (size_t i = 1; i < n; i++) {
		if (g[i].ts_ms < rec.min_ms)
			rec.min_ms = g[i].ts_ms;
		if (g[i].ts_ms > rec.max_ms)
			rec.max_ms = g[i].ts_ms;
	}
	uint8_t h[FL_WALREC_HEADER];
	fl_walrec_put_header(h, &rec);
	enum fl_result r;
	fl_buf_reset(&s->payload);
	if ((r = fl_buf_add(&s->payload, h, sizeof h)) != FL_OK ||
	    (r = fl_buf_add(&s->payload, s->dests.data + g[0].dest_off, g[0].dest_len)) != FL_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = fl_buf_add(&s->payload, s->events.data + g[i].data_off, g[i].data_len)) != FL_OK ||
		    (r = fl_buf_addc(&s->payload, '\n')) != FL_OK)
			return r;
	return fl_wal_frame(&s->frames, s->payload.data, s->payload.len);
}

/* Frames every destination group; a group too large for one WAL record
 * is split (the WAL record size bounds one payload). */
static enum fl_result frame_all(struct scratch *s, const struct fl_stream_conf *conf,
				size_t nevents, struct fl_error *err)
{
	sort_dests = s->dests.data;
	qsort(s->evs, nevents, sizeof *s->evs, cmp_event);
	const size_t budget = FL_WAL_MAX_RECORD / 2;
	size_t i = 0;
	while (i < nevents) {
		size_t j = i + 1, bytes = s->evs[i].data_len;
		while (j < nevents && same_dest(s, &s->evs[i], &s->evs[j]) &&
		       bytes + s->evs[j].data_len < budget)
			bytes += s->evs[j++].data_len;
		enum fl_result r = frame_group(s, conf, s->evs + i, j - i);
		if (r != FL_OK)
			return fl_error_set(err, r, "request too large to process");
		i = j;
	}
	return FL_OK;
}

/* ---- the answer ---------------------------------------------------------- */

/* Record ids: unique per process run and record, opaque as Firehose's. */
static void record_id(char out[64], uint64_t req_no, size_t index)
{
	static _Atomic uint64_t boot;
	uint64_t b = atomic_load(&boot);
	if (!b) {
		uint64_t now = (uint64_t)fl_now_ms();
		atomic_compare_exchange_strong(&boot, &b, now);
		b = atomic_load(&boot);
	}
	snprintf(out, 64, "%020llu%020llu%016zu", (unsigned long long)b,
		 (unsigned long long)req_no, index);
}

static enum fl_result answer_batch(struct fl_req *req, size_t nrecords,
				   enum fl_result fail, uint64_t req_no)
{
	struct fl_buf *o = &req->out;
	char id[64];
	enum fl_result r = fl_buf_printf(o, "{\"FailedPutCount\":%zu,\"Encrypted\":false,"
					 "\"RequestResponses\":[", fail == FL_OK ? 0 : nrecords);
	for (size_t i = 0; r == FL_OK && i < nrecords; i++) {
		if (fail == FL_OK) {
			record_id(id, req_no, i);
			r = fl_buf_printf(o, "%s{\"RecordId\":\"%s\"}", i ? "," : "", id);
		} else {
			r = fl_buf_printf(o, "%s{\"ErrorCode\":\"%s\",\"ErrorMessage\":\"%s\"}",
					  i ? "," : "", fl_awserr_record_code(fail),
					  fail == FL_UNAVAILABLE ? "Slow down." : "Internal failure.");
		}
	}
	if (r == FL_OK)
		r = fl_buf_adds(o, "]}");
	return r;
}

static enum fl_result put(struct fl_req *req, bool batch, struct fl_error *err)
{
	static _Atomic uint64_t requests;
	struct fl_server *srv = req->srv;
	struct request rq = { 0 };
	struct fl_stream *stream = NULL;
	struct fl_stream_conf *conf = NULL;
	enum fl_result r;
	struct scratch *s = scratch_get();
	if (!s)
		return fl_error_set(err, FL_INTERNAL, "out of memory");

	if ((r = parse_request(s, req, batch, &rq, err)) != FL_OK)
		goto out;
	stream = fl_streams_get(srv->streams, rq.stream);
	if (!stream || atomic_load(&stream->status) != FL_STREAM_ACTIVE) {
		r = fl_error_set(err, FL_NOT_FOUND, "Firehose %s under account %s not found.",
				 rq.stream, FL_ACCOUNT_ID);
		goto out;
	}
	conf = fl_stream_conf_get(stream);

	struct batch b = { .s = s, .conf = conf, .arrival_ms = srv->now_ms() };
	for (size_t i = 0; i < rq.nrecords; i++)
		if ((r = one_record(&b, s->decoded.data + s->records[i].off,
				    s->records[i].len, err)) != FL_OK)
			goto out;
	if ((r = frame_all(s, conf, b.nevents, err)) != FL_OK)
		goto out;

	enum fl_result fail = FL_OK;
	if (s->frames.len) {
		struct fl_wal_ticket t;
		struct fl_error werr = { 0 };
		fail = fl_wal_append(stream->wal, s->frames.data, s->frames.len, &t, &werr);
		if (fail == FL_OK)
			fail = fl_wal_sync(stream->wal, &t, &werr);
		if (fail == FL_UNAVAILABLE) {
			r = fl_error_set(err, FL_UNAVAILABLE, "Slow down: %s", werr.msg);
			goto out;
		}
		if (fail != FL_OK) {
			fl_error("stream %s: WAL write failed: %s", rq.stream, werr.msg);
			fail = FL_IO;
		}
	}

	struct fl_stream_metrics *m = stream->metrics;
	if (fail == FL_OK) {
		atomic_fetch_add(&m->incoming_records, rq.nrecords);
		atomic_fetch_add(&m->incoming_bytes, rq.total_bytes);
		atomic_fetch_add(&m->incoming_events, b.nevents);
		atomic_fetch_add(&m->processing_failed, b.nfailed);
	} else {
		atomic_fetch_add(&m->failed_records, rq.nrecords);
	}
	uint64_t no = atomic_fetch_add(&requests, 1);
	if (batch) {
		r = answer_batch(req, rq.nrecords, fail, no);
	} else if (fail != FL_OK) {
		r = fl_error_set(err, FL_INTERNAL, "Internal failure: the record was not stored");
		goto out;
	} else {
		char id[64];
		record_id(id, no, 0);
		r = fl_buf_printf(&req->out, "{\"RecordId\":\"%s\",\"Encrypted\":false}", id);
	}
	if (r != FL_OK)
		r = fl_error_set(err, r, "response too large");
out:
	fl_stream_conf_unref(conf);
	fl_stream_unref(stream);
	scratch_trim(s);
	return r;
}

enum fl_result fl_ingest_put_record(struct fl_req *req, struct fl_error *err)
{
	return put(req, false, err);
}

enum fl_result fl_ingest_put_record_batch(struct fl_req *req, struct fl_error *err)
{
	return put(req, true, err);
}
