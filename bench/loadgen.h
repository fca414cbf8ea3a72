/*
 * loadgen.h - the parts of the ingest load generator shared by its files:
 * options, the pool of pre-built requests (loadgen_pool.c) and HTTP
 * response framing (loadgen_http.c).  The event loop is loadgen.c.
 */
#ifndef LG_LOADGEN_H
#define LG_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#define LG_MAX_THREADS 64
#define LG_MAX_CONNS 1024
#define LG_MAX_BATCH 500          /* PutRecordBatch's limit */
#define LG_MAX_EVENTS_PER_RECORD 1000
#define LG_MAX_NAMES 1000         /* distinct names event_name() can make: 1100 */
#define LG_MAX_BODIES 4096
#define LG_REQ_MAX (64u << 20)    /* one request, headers included */
#define LG_RESP_MAX (16u << 20)   /* one response */
#define LG_UUID_PATCH_B64 12      /* base64 chars replaced per event */

struct lg_opts {
	char host[256];
	char port[16];
	char path[256];
	const char *stream;   /* borrowed from argv */
	int connections;
	int threads;
	int batch;
	int events_per_record;
	int names;
	int bodies;
	double rate;          /* events per second; 0 = flat out */
	double duration_s;
	double timeout_s;     /* per request, and the drain after --duration */
	uint64_t seed;
	int64_t base_time;    /* created_at falls in (base_time - 24h, base_time] */
	int quiet;
	int auth;             /* send a dummy SigV4 Authorization header */
	int dry_run;
};

/* One pre-built request.  Read-only once the run starts. */
struct lg_body {
	char *req;            /* owned: HTTP headers + JSON body */
	size_t req_len;
	uint32_t *uuid_at;    /* owned: offsets in req of each event's uuid patch */
	size_t n_uuid;
	uint64_t raw_bytes;   /* event bytes of all records before base64 */
	uint32_t records;
	uint64_t events;
};

struct lg_pool {
	struct lg_body *bodies; /* owned */
	int n;
	size_t max_req_len;
	uint64_t total_raw;
	uint64_t total_events;
};

/* Builds o->bodies requests from o->seed; exits on failure (it runs before
 * the clock starts).  lg_pool_free releases what it holds. */
void lg_pool_build(struct lg_pool *pl, const struct lg_opts *o);
void lg_pool_free(struct lg_pool *pl);

/* The LG_UUID_PATCH_B64 characters to write at every uuid_at offset of a
 * request so that its events' uuids start with the 8 hex digits of prefix. */
void lg_uuid_patch_text(char out[LG_UUID_PATCH_B64], uint32_t prefix);

/* Parse state of one HTTP/1.x response. */
struct lg_resp {
	size_t hdr_len;         /* 0 until the header block is complete */
	int status;
	int chunked;
	int close_delimited;    /* no length: the body ends at EOF */
	int close_after;        /* the server will close the connection */
	uint64_t content_len;
	size_t chunk_pos;       /* next chunk header to parse */
	size_t body_len;        /* body length once complete (de-chunked) */
};

enum { LG_PARSE_BAD = -1, LG_PARSE_MORE = 0, LG_PARSE_DONE = 1 };

void lg_resp_reset(struct lg_resp *r);

/* Feeds the bytes buf[0..*len) received so far.  LG_PARSE_DONE when the
 * response is complete: its body is then buf[hdr_len .. hdr_len+body_len).
 * A chunked body is de-chunked in place, which lowers *len.  Bytes past the
 * end of the response are LG_PARSE_BAD: requests are never pipelined. */
int lg_resp_parse(struct lg_resp *r, char *buf, size_t *len);

/* "FailedPutCount": N of a PutRecordBatch response body; -1 when absent. */
long lg_failed_put_count(const char *body, size_t n);

/* Prints "loadgen: <message>" to stderr and exits 2. */
void lg_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* malloc that exits on failure; caller owns. */
void *lg_xmalloc(size_t n);

#endif
