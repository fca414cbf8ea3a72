/*
 * s3.h - a small S3 client: one call is one request, signed (SigV4,
 * sigv4.h), sent (libcurl) and classified into an fl_result.
 *
 * Addressing.  Path style: ENDPOINT/BUCKET/KEY, the Host header is the
 * endpoint's.  Virtual-hosted: SCHEME://BUCKET.HOST/KEY.  Keys are
 * URI-encoded as S3 wants: every byte but A-Z a-z 0-9 - . _ ~ and '/'
 * becomes %XX; the path is signed as sent (S3's canonical URI).
 *
 * Every request carries host, x-amz-date, x-amz-content-sha256 (hex
 * SHA-256 of the body), Content-MD5 when asked, Range when asked and
 * x-amz-security-token with temporary credentials, all signed.
 *
 * Results:
 *   2xx                                  FL_OK
 *   timeout, refused or broken connection,
 *   5xx, 408, 429, RequestTimeout, BadDigest,
 *   XAmzContentSHA256Mismatch, IncompleteBody,
 *   an ETag that is not the body's MD5  FL_RETRY
 *   403, and 400 ExpiredToken, InvalidToken,
 *   AuthorizationHeaderMalformed         FL_FORBIDDEN
 *   404 (NoSuchBucket, NoSuchKey, ...)   FL_NOT_FOUND
 *   the response past the buffer's max   FL_TOO_LARGE
 *   anything else                        FL_UNAVAILABLE
 * The message starts with S3's error code and carries its message, then
 * what was asked ("NoSuchBucket: The specified bucket does not exist
 * (PUT s3://lake/a/b)"); for a bodiless answer (HEAD) it starts with
 * the HTTP status.  Never a credential.
 *
 * Threads.  A client is shared by every thread; each thread gets its own
 * curl handle (a pthread key, created on first use, its connections kept
 * for the next request), freed when the thread exits or the client is
 * freed.  Calls block; workers only.
 */
#ifndef FL_S3_H
#define FL_S3_H

#include <stdbool.h>
#include <stdint.h>

#include "awscred.h"
#include "buf.h"
#include "result.h"

#define FL_S3_KEY_MAX 1024          /* bytes of an object key */
#define FL_S3_TOKEN_MAX 1024        /* bytes of a continuation token we accept */
#define FL_S3_ANSWER_MAX (16u << 20) /* a response body kept in fl_s3_response */

/* ---- endpoints and addresses (pure) ----------------------------------- */

struct fl_s3_endpoint {
	bool https;
	char host[256];          /* "host" or "host:port" (a default port dropped) */
	char base[512];          /* path of the endpoint: "" or "/p" (no final '/') */
	char region[64];
	bool virtual_hosted;
};

/* Parses endpoint ("" or NULL: https://s3.REGION.amazonaws.com); region
 * must be given (callers resolve the environment).  FL_INVALID for
 * anything but http(s)://HOST[:PORT][/PATH]. */
enum fl_result fl_s3_endpoint_parse(const char *endpoint, const char *region,
				    bool virtual_hosted, struct fl_s3_endpoint *out,
				    struct fl_error *err) FL_MUST_USE;

/* Where a request goes. */
struct fl_s3_target {
	char host[320];          /* the Host header */
	char path[4096];         /* as sent: "/bucket/a%20b" or "/a%20b" */
	char url[12288];         /* scheme://host/path[?query] */
};

/* The target of bucket and key (NULL: the bucket itself) with query
 * (encoded, without '?'; NULL or "" for none).  FL_INVALID when a part
 * does not fit. */
enum fl_result fl_s3_target(const struct fl_s3_endpoint *ep, const char *bucket,
			    const char *key, const char *query, struct fl_s3_target *out,
			    struct fl_error *err) FL_MUST_USE;

/* ---- XML (pure) ----------------------------------------------------- */

/* Appends s[0..n) with the entities &amp; &lt; &gt; &quot; &apos; &#N;
 * &#xH; decoded (as UTF-8).  FL_INVALID for another or a bad one. */
enum fl_result fl_s3_xml_unescape(const char *s, size_t n, struct fl_buf *out) FL_MUST_USE;

/* Calls fn at the end of every element of xml with its path from the
 * root ("ListBucketResult/Contents/Key", namespace prefixes dropped) and
 * its decoded text (for an element without children, its content; CDATA
 * as is).  fn returns non-zero to stop (FL_OK).  FL_INVALID (message
 * says where) when xml is not well-formed enough to read. */
enum fl_result fl_s3_xml_walk(const char *xml, size_t len,
			      int (*fn)(void *arg, const char *path, const char *text,
					size_t text_len),
			      void *arg, struct fl_error *err) FL_MUST_USE;

/* The decoded text of the first element at path into out[n].
 * FL_NOT_FOUND when there is none; FL_INVALID when xml is malformed or
 * the text does not fit. */
enum fl_result fl_s3_xml_find(const char *xml, size_t len, const char *path, char *out,
			      size_t n, struct fl_error *err) FL_MUST_USE;

/* <Error><Code>..</Code><Message>..</Message></Error> into code and
 * message (cut to fit; "" when absent).  Whether xml is an Error. */
bool fl_s3_parse_error(const char *xml, size_t len, char *code, size_t code_n,
		       char *message, size_t message_n);

/* ---- classification (pure) -------------------------------------------- */

/* The result of one exchange: curl_code (a CURLcode, 0 when an answer
 * came), detail (curl's error text, may be ""), the HTTP status and
 * body.  what names the request ("GET s3://b/k") for the message. */
enum fl_result fl_s3_classify(int curl_code, const char *detail, long status,
			      const char *body, size_t len, const char *what,
			      struct fl_error *err) FL_MUST_USE;

/* ---- requests ----------------------------------------------------- */

struct fl_s3;

/* A client for ep with cred (both copied).  Caller owns *out. */
enum fl_result fl_s3_new(const struct fl_s3_endpoint *ep, const struct fl_awscred *cred,
			 struct fl_s3 **out, struct fl_error *err) FL_MUST_USE;
/* Frees the client and every thread's curl handle; no call may be running. */
void fl_s3_free(struct fl_s3 *c);

struct fl_s3_request {
	const char *method;       /* GET HEAD PUT POST DELETE */
	const char *bucket;
	const char *key;          /* NULL: the bucket itself */
	const char *query;        /* encoded, without '?'; NULL: none */
	const void *body;         /* borrowed */
	size_t body_len;
	bool content_md5;         /* send Content-MD5; the ETag answered must be it */
	bool range;               /* Range: bytes=range_offset-(range_offset+range_len-1) */
	uint64_t range_offset, range_len; /* range_len >= 1 */
	struct fl_buf *out;       /* borrowed: a 2xx body is appended here; NULL: resp->body */
	bool verify_etag;         /* a whole GET: the body's MD5 must be the ETag's */
	bool retry;               /* idempotent: up to twice more on FL_RETRY (not on a timeout) */
	bool slow;                /* the answer may take minutes (CompleteMultipartUpload) */
};

struct fl_s3_response {
	long status;
	char etag[130];           /* the ETag header as sent (quotes kept); "" when none */
	bool has_length;
	uint64_t length;          /* Content-Length */
	int64_t mtime_ms;         /* Last-Modified; -1 when absent */
	struct fl_buf body;       /* the body when req->out is NULL (FL_S3_ANSWER_MAX) */
};

/* Sends req (signed at the current time), retrying as req allows.  resp
 * is filled even on failure (the last attempt's); caller frees it with
 * fl_s3_response_free.  On failure nothing is left appended to req->out. */
enum fl_result fl_s3_request(struct fl_s3 *c, const struct fl_s3_request *req,
			     struct fl_s3_response *resp, struct fl_error *err) FL_MUST_USE;
void fl_s3_response_free(struct fl_s3_response *resp);

/* The headers req is sent with at unix_s, "Name: value\n" each, signed
 * (Authorization last).  payload_hash: hex SHA-256 of the body; md5_b64:
 * NULL or the body's Content-MD5.  Pure: tests pin the clock. */
enum fl_result fl_s3_sign(const struct fl_s3 *c, const struct fl_s3_request *req,
			  const struct fl_s3_target *t, const char *payload_hash,
			  const char *md5_b64, long long unix_s, struct fl_buf *out,
			  struct fl_error *err) FL_MUST_USE;

/* ---- ListObjectsV2 (built from requests; in storage_s3.c) ------------ */

struct fl_s3_object {
	char key[FL_S3_KEY_MAX + 1];
	uint64_t bytes;
	int64_t mtime_ms;
};

struct fl_s3_list_page {
	bool truncated;                       /* IsTruncated */
	char next_token[FL_S3_TOKEN_MAX + 1]; /* NextContinuationToken */
	size_t count;                         /* objects passed to fn */
	bool stopped;                         /* fn asked to stop */
};

/* A ListObjectsV2 answer: fn for each Contents in order (non-zero
 * stops).  FL_INVALID when it is not a ListBucketResult or a Contents
 * lacks Key, Size or LastModified, or holds a bad one. */
enum fl_result fl_s3_parse_list(const char *xml, size_t len,
				int (*fn)(void *arg, const struct fl_s3_object *o), void *arg,
				struct fl_s3_list_page *page, struct fl_error *err) FL_MUST_USE;

/* "2009-10-12T17:50:30.123Z" to Unix milliseconds; FL_INVALID otherwise. */
enum fl_result fl_s3_parse_time(const char *s, int64_t *ms) FL_MUST_USE;

/* ListObjectsV2 of bucket under prefix, max_keys (1..1000) a page,
 * following continuation tokens: fn for each object in key order until
 * it returns non-zero. */
enum fl_result fl_s3_list(struct fl_s3 *c, const char *bucket, const char *prefix,
			  int max_keys, int (*fn)(void *arg, const struct fl_s3_object *o),
			  void *arg, struct fl_error *err) FL_MUST_USE;

#endif
