/*
 * loadgen_http.c - HTTP/1.x response framing for the load generator.
 *
 * DESIGN
 * The generator only needs to know where a response ends, its status,
 * whether the server will close the connection, and FailedPutCount.  The
 * parser is incremental: it is fed the whole buffer after every recv and
 * remembers where it got to.  Bodies are delimited by Content-Length, by
 * chunked transfer coding (de-chunked in place, so the JSON is contiguous
 * and a key split across chunks is still found), or by EOF.  No DOM, no
 * copies: libmicrohttpd answers with Content-Length, so the common path is
 * one memmem for the header end and a length compare.
 */
#include "loadgen.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LG_HDR_MAX (64u * 1024)  /* a header block larger than this is bad */

void lg_resp_reset(struct lg_resp *r)
{
	memset(r, 0, sizeof *r);
}

/* Case-insensitive search for needle within [p, p+n). */
static const char *memcasemem(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(p + i, needle, k))
			return p + i;
	return NULL;
}

/* Value of header `name` (with the colon, lower case, e.g. "content-length:")
 * in the header block [h, h+n); NULL if absent.  *vlen gets its length. */
static const char *header_value(const char *h, size_t n, const char *name, size_t *vlen)
{
	size_t k = strlen(name);
	const char *end = h + n;
	const char *line = memchr(h, '\n', n);  /* skip the status line */
	while (line && line + 1 < end) {
		line++;
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > k && !strncasecmp(line, name, k)) {
			const char *v = line + k;
			const char *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		line = eol < end ? eol : NULL;
	}
	return NULL;
}

/* Parses the header block once it is complete. */
static int parse_headers(struct lg_resp *r, const char *buf, size_t len)
{
	const char *p = buf;
	const char *e = memmem(p, len, "\r\n\r\n", 4);
	if (!e)
		return len > LG_HDR_MAX ? LG_PARSE_BAD : LG_PARSE_MORE;
	r->hdr_len = (size_t)(e - p) + 4;
	if (r->hdr_len < 12 || strncmp(p, "HTTP/1.", 7) || p[8] != ' ')
		return LG_PARSE_BAD;
	r->status = atoi(p + 9);
	if (r->status < 100 || r->status > 999)
		return LG_PARSE_BAD;
	int http10 = p[7] == '0';

	size_t vl;
	const char *v;
	v = header_value(p, r->hdr_len, "connection:", &vl);
	if (v && memcasemem(v, vl, "close"))
		r->close_after = 1;
	else if (http10 && !(v && memcasemem(v, vl, "keep-alive")))
		r->close_after = 1;
	v = header_value(p, r->hdr_len, "transfer-encoding:", &vl);
	if (v && memcasemem(v, vl, "chunked")) {
		r->chunked = 1;
		r->chunk_pos = r->hdr_len;
		return LG_PARSE_MORE;
	}
	v = header_value(p, r->hdr_len, "content-length:", &vl);
	if (v) {
		char num[32];
		if (vl == 0 || vl >= sizeof num)
			return LG_PARSE_BAD;
		memcpy(num, v, vl);
		num[vl] = '\0';
		char *end;
		unsigned long long cl = strtoull(num, &end, 10);
		if (*end || cl > LG_RESP_MAX)
			return LG_PARSE_BAD;
		r->content_len = cl;
		return LG_PARSE_MORE;
	}
	if (r->status == 204 || r->status == 304 || r->status < 200) {
		r->content_len = 0;
		return LG_PARSE_MORE;
	}
	r->close_delimited = 1;
	r->close_after = 1;
	return LG_PARSE_MORE;
}

/* Walks chunks from chunk_pos; on the last chunk, compacts the data in
 * place right after the headers and sets body_len. */
static int parse_chunked(struct lg_resp *r, char *buf, size_t *len)
{
	char *p = buf;
	size_t out = r->hdr_len + r->body_len;   /* de-chunked so far */
	for (;;) {
		size_t pos = r->chunk_pos;
		char *eol = memmem(p + pos, *len - pos, "\r\n", 2);
		if (!eol)
			return *len - pos > 1024 ? LG_PARSE_BAD : LG_PARSE_MORE;
		char *end;
		unsigned long long sz = strtoull(p + pos, &end, 16);
		if (end == p + pos || sz > LG_RESP_MAX)
			return LG_PARSE_BAD;
		size_t data = (size_t)(eol - p) + 2;
		if (sz == 0) {
			/* trailers, then an empty line */
			for (size_t q = data;;) {
				char *te = memmem(p + q, *len - q, "\r\n", 2);
				if (!te)
					return LG_PARSE_MORE;
				if (te == p + q) {
					if ((size_t)(te - p) + 2 != *len)
						return LG_PARSE_BAD;
					*len = out;
					return LG_PARSE_DONE;
				}
				q = (size_t)(te - p) + 2;
			}
		}
		if (*len < data + sz + 2)
			return LG_PARSE_MORE;
		if (p[data + sz] != '\r' || p[data + sz + 1] != '\n')
			return LG_PARSE_BAD;
		memmove(p + out, p + data, sz);
		out += sz;
		r->body_len += sz;
		/* the raw bytes [out, data+sz+2) are now dead; shift the rest down */
		size_t tail = data + sz + 2;
		memmove(p + out, p + tail, *len - tail);
		*len -= tail - out;
		r->chunk_pos = out;
	}
}

int lg_resp_parse(struct lg_resp *r, char *buf, size_t *len)
{
	if (!r->hdr_len) {
		int rc = parse_headers(r, buf, *len);
		if (rc != LG_PARSE_MORE || !r->hdr_len)
			return rc;
	}
	if (r->chunked)
		return parse_chunked(r, buf, len);
	if (r->close_delimited)
		return LG_PARSE_MORE;
	if (*len < r->hdr_len + r->content_len)
		return LG_PARSE_MORE;
	if (*len > r->hdr_len + r->content_len)
		return LG_PARSE_BAD;  /* we never pipeline */
	r->body_len = r->content_len;
	return LG_PARSE_DONE;
}

long lg_failed_put_count(const char *body, size_t n)
{
	static const char key[] = "\"FailedPutCount\"";
	const char *k = memmem(body, n, key, sizeof key - 1);
	if (!k)
		return -1;
	const char *p = k + sizeof key - 1, *e = body + n;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= e || *p != ':')
		return -1;
	p++;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= e || *p < '0' || *p > '9')
		return -1;
	long v = 0;
	while (p < e && *p >= '0' && *p <= '9' && v < 1000000)
		v = v * 10 + (*p++ - '0');
	return v;
}
