/*
 * loadgen_pool.c - synthetic events and the pool of pre-built requests.
 *
 * DESIGN
 * Everything here runs before the clock starts, so it favours clarity over
 * speed.  Events are "seed-shaped" JSON objects of about 270 bytes:
 *
 *   {"event_uuid":"<uuid v4>","event_name":"payment:order:completed",
 *    "created_at":1767226391,"user_id":"u_123456","session_id":"s_<16 hex>",
 *    "amount":12.34,"currency":"EUR","country":"DE",
 *    "device":{"os":"ios","version":"17.2"},"tags":["a","b"]}
 *
 * event_name is drawn uniformly from --names names "<type>:<subtype>[:<action>]"
 * over 10 types; created_at uniformly from the 24 hours before --base-time.
 * All of it is a function of --seed (and --base-time).
 *
 * A record's Data is its events, each followed by '\n'.  Every event starts
 * at a multiple of 3 bytes into Data (events that are not last in their
 * record are padded with spaces), and `{"event_uuid":"` is 15 bytes, so the
 * first 9 bytes of each uuid are exactly 12 base64 characters at a known
 * offset of the request: lg_uuid_patch_text() makes those characters, the
 * event loop writes them per request, and uuids stay unique although the
 * pool's bodies repeat.
 */
#include "loadgen.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LG_EVENT_MAX 1024
#define LG_UUID_OFF 15            /* strlen("{\"event_uuid\":\"") */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* splitmix64: small, fast, and good enough for synthetic data. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

/* Encodes n bytes of in as base64 into out (room for 4*ceil(n/3)); returns
 * the number of characters written. */
static size_t b64_encode(char *out, const unsigned char *in, size_t n)
{
	char *o = out;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = b64_alphabet[(v >> 6) & 63];
		*o++ = b64_alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	return (size_t)(o - out);
}

static const char *const ev_types[] = {
	"payment", "user", "session", "cart", "search",
	"content", "notification", "subscription", "app", "ad",
};
static const char *const ev_subtypes[] = {
	"order", "account", "page", "item", "profile",
	"card", "message", "plan", "video", "query",
};
static const char *const ev_actions[] = {
	"completed", "created", "updated", "failed", "viewed",
	"clicked", "deleted", "started", "cancelled", "shared",
};
static const char *const currencies[] = { "EUR", "USD", "GBP", "JPY", "CHF", "SEK", "PLN", "BRL" };
static const char *const countries[] = { "DE", "FR", "US", "GB", "JP", "CH", "SE", "PL", "BR", "ES", "IT", "NL" };
static const char *const oses[] = { "ios", "android", "web", "macos", "windows" };
static const char *const tag_words[] = { "a", "b", "promo", "beta", "vip", "new", "returning", "mobile" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Name i of the event-name table: "<type>:<subtype>[:<action>]".  Names
 * go round the types; within a type, k = row * 10 + subtype and the action
 * is (row + subtype + type) mod 11 with 0 meaning none: a bijection for each
 * row, so all LG_MAX_NAMES names are distinct, and about one in eleven
 * has no action. */
static void event_name(char *out, size_t cap, int i)
{
	int nt = (int)NELEM(ev_types), ns = (int)NELEM(ev_subtypes);
	int t = i % nt;
	int k = i / nt;
	int s = k % ns;
	int a = (k / ns + s + t) % ((int)NELEM(ev_actions) + 1);
	if (a == 0)
		snprintf(out, cap, "%s:%s", ev_types[t], ev_subtypes[s]);
	else
		snprintf(out, cap, "%s:%s:%s", ev_types[t], ev_subtypes[s],
			 ev_actions[a - 1]);
}

/* Writes one event (no newline) into out; returns its length. */
static size_t gen_event(char *out, size_t cap, uint64_t *r, const struct lg_opts *o)
{
	unsigned char u[16];
	for (int i = 0; i < 16; i += 8) {
		uint64_t x = rng_next(r);
		memcpy(u + i, &x, 8);
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	char uuid[37];
	static const char hx[] = "0123456789abcdef";
	for (int i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			uuid[j++] = '-';
		uuid[j++] = hx[u[i] >> 4];
		uuid[j++] = hx[u[i] & 15];
	}
	uuid[36] = '\0';

	char name[64];
	event_name(name, sizeof name, (int)rng_below(r, (uint32_t)o->names));
	int64_t created = o->base_time - (int64_t)rng_below(r, 86400);
	uint32_t cents = 50 + rng_below(r, 49951);
	const char *os = oses[rng_below(r, NELEM(oses))];
	char tags[64];
	int ntags = (int)rng_below(r, 4);
	size_t tl = 0;
	tags[tl++] = '[';
	for (int i = 0; i < ntags; i++)
		tl += (size_t)snprintf(tags + tl, sizeof tags - tl, "%s\"%s\"", i ? "," : "",
				       tag_words[rng_below(r, NELEM(tag_words))]);
	tags[tl++] = ']';
	tags[tl] = '\0';

	int n = snprintf(out, cap,
		"{\"event_uuid\":\"%s\",\"event_name\":\"%s\",\"created_at\":%" PRId64 ","
		"\"user_id\":\"u_%06u\",\"session_id\":\"s_%016" PRIx64 "\","
		"\"amount\":%u.%02u,\"currency\":\"%s\",\"country\":\"%s\","
		"\"device\":{\"os\":\"%s\",\"version\":\"%u.%u\"},\"tags\":%s}",
		uuid, name, created, rng_below(r, 1000000), rng_next(r),
		cents / 100, cents % 100, currencies[rng_below(r, NELEM(currencies))],
		countries[rng_below(r, NELEM(countries))], os,
		10 + rng_below(r, 8), rng_below(r, 10), tags);
	if (n < 0 || (size_t)n >= cap)
		lg_die("event template too long");
	return (size_t)n;
}

/* A growable buffer with a hard maximum. */
struct lg_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

static void buf_reserve(struct lg_buf *b, size_t n)
{
	if (n > b->max - b->len)
		lg_die("request larger than %zu bytes: lower --batch or --events-per-record", b->max);
	if (b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		lg_die("out of memory");
	b->p = p;
	b->cap = cap;
}

static void buf_add(struct lg_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_adds(struct lg_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Builds one complete request: records of newline-terminated events, each
 * event but a record's last padded to a multiple of 3 bytes so its uuid
 * can be patched in the base64 text. */
static void build_body(struct lg_body *bd, const struct lg_opts *o, uint64_t *r)
{
	struct lg_buf json = { NULL, 0, 0, LG_REQ_MAX };
	size_t rec_cap = (size_t)o->events_per_record * (LG_EVENT_MAX + 3);
	unsigned char *rec = lg_xmalloc(rec_cap);
	size_t *ev_off = lg_xmalloc(sizeof *ev_off * (size_t)o->events_per_record);
	size_t n_patch = (size_t)o->batch * (size_t)o->events_per_record;
	size_t *patch = lg_xmalloc(sizeof *patch * n_patch);
	size_t np = 0;

	memset(bd, 0, sizeof *bd);
	buf_adds(&json, "{\"DeliveryStreamName\":\"");
	buf_adds(&json, o->stream);
	buf_adds(&json, "\",\"Records\":[");
	for (int i = 0; i < o->batch; i++) {
		size_t rl = 0;
		for (int e = 0; e < o->events_per_record; e++) {
			ev_off[e] = rl;
			rl += gen_event((char *)rec + rl, LG_EVENT_MAX, r, o);
			if (e + 1 < o->events_per_record)
				while ((rl + 1) % 3)
					rec[rl++] = ' ';
			rec[rl++] = '\n';
		}
		buf_adds(&json, i ? ",{\"Data\":\"" : "{\"Data\":\"");
		size_t b64_at = json.len;
		buf_reserve(&json, (rl + 2) / 3 * 4);
		json.len += b64_encode(json.p + json.len, rec, rl);
		buf_adds(&json, "\"}");
		for (int e = 0; e < o->events_per_record; e++)
			patch[np++] = b64_at + (ev_off[e] + LG_UUID_OFF) / 3 * 4;
		bd->raw_bytes += rl;
	}
	buf_adds(&json, "]}");

	char hdr[1024];
	int hl;
	if (o->auth)
		hl = snprintf(hdr, sizeof hdr,
			"POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
			"X-Amz-Target: Firehose_20150804.PutRecordBatch\r\n"
			"Content-Type: application/x-amz-json-1.1\r\n"
			"X-Amz-Date: 20260101T000000Z\r\n"
			"Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/firehose/aws4_request, "
			"SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
			"Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n"
			"Content-Length: %zu\r\n\r\n",
			o->path, o->host, o->port, json.len);
	else
		hl = snprintf(hdr, sizeof hdr,
			"POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
			"X-Amz-Target: Firehose_20150804.PutRecordBatch\r\n"
			"Content-Type: application/x-amz-json-1.1\r\n"
			"Content-Length: %zu\r\n\r\n",
			o->path, o->host, o->port, json.len);
	if (hl < 0 || (size_t)hl >= sizeof hdr)
		lg_die("request header too long");
	if (json.len > LG_REQ_MAX - (size_t)hl)
		lg_die("request larger than %u bytes", LG_REQ_MAX);

	bd->req_len = (size_t)hl + json.len;
	bd->req = lg_xmalloc(bd->req_len);
	memcpy(bd->req, hdr, (size_t)hl);
	memcpy(bd->req + hl, json.p, json.len);
	bd->uuid_at = lg_xmalloc(sizeof *bd->uuid_at * np);
	for (size_t i = 0; i < np; i++) {
		size_t at = patch[i] + (size_t)hl;
		if (at + LG_UUID_PATCH_B64 > bd->req_len || at > UINT32_MAX)
			lg_die("internal: uuid patch out of range");
		bd->uuid_at[i] = (uint32_t)at;
	}
	bd->n_uuid = np;
	bd->records = (uint32_t)o->batch;
	bd->events = (uint64_t)o->batch * (uint64_t)o->events_per_record;

	free(json.p);
	free(rec);
	free(ev_off);
	free(patch);
}

void lg_pool_build(struct lg_pool *pl, const struct lg_opts *o)
{
	uint64_t r = o->seed * UINT64_C(0x2545F4914F6CDD1D) + 1;
	pl->n = o->bodies;
	pl->bodies = lg_xmalloc(sizeof *pl->bodies * (size_t)pl->n);
	pl->max_req_len = 0;
	pl->total_raw = 0;
	pl->total_events = 0;
	for (int i = 0; i < pl->n; i++) {
		build_body(&pl->bodies[i], o, &r);
		if (pl->bodies[i].req_len > pl->max_req_len)
			pl->max_req_len = pl->bodies[i].req_len;
		pl->total_raw += pl->bodies[i].raw_bytes;
		pl->total_events += pl->bodies[i].events;
	}
}

void lg_pool_free(struct lg_pool *pl)
{
	for (int i = 0; pl->bodies && i < pl->n; i++) {
		free(pl->bodies[i].req);
		free(pl->bodies[i].uuid_at);
	}
	free(pl->bodies);
	pl->bodies = NULL;
}

/* "<8 hex digits>-" is 9 bytes: exactly 12 base64 characters. */
void lg_uuid_patch_text(char out[LG_UUID_PATCH_B64], uint32_t prefix)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char raw[9];
	for (int i = 0; i < 8; i++)
		raw[i] = (unsigned char)hx[(prefix >> (28 - 4 * i)) & 15];
	raw[8] = '-';
	b64_encode(out, raw, sizeof raw);
}
