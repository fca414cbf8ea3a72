/*
 * walrec.h - what ingest puts in a WAL record, and delivery reads back.
 *
 * One record holds the events of one request that go to one destination
 * (bucket and evaluated prefix), so delivery appends its data straight to
 * that destination's object:
 *
 *   +-------------------------- header, 32 bytes ----------------------+
 *   | kind u8 | flags u8 (0) | dest_len u16 | count u32 | version u32  |
 *   | reserved u32 (0) | min_ms i64 | max_ms i64                       |
 *   +------------------------------------------------------------------+
 *   | dest: "<bucket>/<evaluated prefix>" (dest_len bytes)             |
 *   | data: count lines, each ending in '\n'                           |
 *
 * kind 1: data lines are enriched events; min/max are their event times.
 * kind 2: data lines are processing-failed error records; min/max are
 *         arrival times.
 * version is the stream configuration's VersionId, part of object names.
 */
#ifndef FL_WALREC_H
#define FL_WALREC_H

#include <stdint.h>
#include <string.h>

#define FL_WALREC_HEADER 32
#define FL_WALREC_DATA 1
#define FL_WALREC_ERROR 2

struct fl_walrec {
	uint8_t kind;
	uint16_t dest_len;
	uint32_t count;
	uint32_t version;
	int64_t min_ms, max_ms;
	const char *dest;
	const char *data;
	size_t data_len;
};

static inline void fl_walrec_put_header(uint8_t *h, const struct fl_walrec *r)
{
	memset(h, 0, FL_WALREC_HEADER);
	h[0] = r->kind;
	memcpy(h + 2, &r->dest_len, 2);
	memcpy(h + 4, &r->count, 4);
	memcpy(h + 8, &r->version, 4);
	memcpy(h + 16, &r->min_ms, 8);
	memcpy(h + 24, &r->max_ms, 8);
}

/* Parses a payload; 0 on success, -1 when it is malformed. */
static inline int fl_walrec_parse(const void *payload, size_t len, struct fl_walrec *r)
{
	const uint8_t *h = payload;
	if (len < FL_WALREC_HEADER)
		return -1;
	r->kind = h[0];
	memcpy(&r->dest_len, h + 2, 2);
	memcpy(&r->count, h + 4, 4);
	memcpy(&r->version, h + 8, 4);
	memcpy(&r->min_ms, h + 16, 8);
	memcpy(&r->max_ms, h + 24, 8);
	if ((r->kind != FL_WALREC_DATA && r->kind != FL_WALREC_ERROR) ||
	    len - FL_WALREC_HEADER < r->dest_len)
		return -1;
	r->dest = (const char *)h + FL_WALREC_HEADER;
	r->data = r->dest + r->dest_len;
	r->data_len = len - FL_WALREC_HEADER - r->dest_len;
	return 0;
}

#endif
