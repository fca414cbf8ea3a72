/*
 * sigv4.h - AWS Signature Version 4: signing (our S3 client) and the
 * pieces of verifying (auth.c).  Pure functions: no clock, no I/O.
 *
 * A request is described by its method, its path and query exactly as
 * they travel on the wire (percent-encoded), its headers, and the hex
 * SHA-256 of its payload (or "UNSIGNED-PAYLOAD").  From that:
 *
 *   canonical request  METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n HASH
 *   string to sign     AWS4-HMAC-SHA256 \n DATE \n SCOPE \n hex(sha256(creq))
 *   signing key        HMAC("AWS4"+secret, yyyymmdd) -> region -> service
 *                      -> "aws4_request"
 *   signature          hex(HMAC(signing key, string to sign))
 *
 * The canonical URI: for every service but S3 the path is normalised
 * (".", ".." and empty segments removed, as the test suite's
 * get-relative*, get-slash* cases want) and each segment is encoded
 * twice; for S3 (s3 = true) the path is used as sent, encoded once.
 * The canonical query: parameters split on '&', each name and value
 * decoded then re-encoded with RFC 3986 unreserved characters only
 * (space as %20, never '+'), sorted by name then value; a parameter
 * without '=' has an empty value; X-Amz-Signature is left out (the
 * query-string form signs everything else).
 * Canonical headers: names lower-cased, values with leading and trailing
 * blanks trimmed and inner runs of blanks folded to one space, headers of
 * one name joined with ',' in the order given, sorted by name.
 */
#ifndef FL_SIGV4_H
#define FL_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

#define FL_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define FL_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define FL_SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fl_sigv4_header {
	const char *name;
	const char *value;
};

struct fl_sigv4_request {
	const char *method;          /* "GET" */
	const char *path;            /* "/bucket/key%20x", as sent */
	const char *query;           /* "a=1&b=2" without '?'; NULL or "" for none */
	const struct fl_sigv4_header *headers;
	size_t n_headers;
	const char *payload_hash;    /* 64 lower-case hex digits or UNSIGNED-PAYLOAD */
	bool s3;                     /* S3's canonical URI rules (see above) */
};

/* yyyymmdd/region/service/aws4_request, and the request time. */
struct fl_sigv4_scope {
	char amz_date[17];           /* "20150830T123600Z" */
	char date[9];                /* "20150830" */
	char region[64];
	char service[64];
};

/* Appends s[0..n) percent-encoded as SigV4 and S3 want it: RFC 3986
 * unreserved bytes bare, '/' bare when keep_slash, every other byte %XX
 * (upper-case hex). */
enum fl_result fl_sigv4_uri_encode(const char *s, size_t n, bool keep_slash,
				   struct fl_buf *out) FL_MUST_USE;

/* Lower-case hex SHA-256 of data into out[65]. */
void fl_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* The canonical request of req, restricted to the headers named in
 * signed_headers ("host;x-amz-date", lower case, ';'-separated, sorted),
 * into out (appended).  FL_INVALID when a signed header is not among
 * req's headers or the path/query holds a malformed %-escape. */
enum fl_result fl_sigv4_canonical_request(const struct fl_sigv4_request *req,
					  const char *signed_headers, struct fl_buf *out,
					  struct fl_error *err) FL_MUST_USE;

/* The string to sign for a canonical request, appended to out. */
enum fl_result fl_sigv4_string_to_sign(const struct fl_sigv4_scope *scope,
				       const char *canonical_request, size_t len,
				       struct fl_buf *out) FL_MUST_USE;

/* The hex signature (out[65]) of string_to_sign under secret and scope. */
void fl_sigv4_signature(const char *secret, const struct fl_sigv4_scope *scope,
			const char *string_to_sign, size_t len, char out[65]);

/* Signs req: every header of req is signed.  Writes the Authorization
 * header value ("AWS4-HMAC-SHA256 Credential=ID/SCOPE, SignedHeaders=...,
 * Signature=...") into out (appended).  req must already hold the host and
 * x-amz-date headers (and x-amz-content-sha256 for S3) it is sent with. */
enum fl_result fl_sigv4_sign(const struct fl_sigv4_request *req,
			     const struct fl_sigv4_scope *scope, const char *key_id,
			     const char *secret, struct fl_buf *out,
			     struct fl_error *err) FL_MUST_USE;

/* The parts of a signature a request carries, in either form. */
struct fl_sigv4_auth {
	char key_id[129];
	struct fl_sigv4_scope scope;  /* amz_date from X-Amz-Date */
	char signed_headers[1024];    /* "host;x-amz-date" */
	char signature[65];
	long expires;                 /* query form's X-Amz-Expires, else -1 */
};

/* Parses an Authorization header value.  FL_INVALID with AWS's wording
 * (IncompleteSignatureException's messages: "Authorization header
 * requires 'Credential' parameter. ...") for anything malformed; the
 * date comes from amz_date (the X-Amz-Date or Date header's value) and
 * must agree with the credential scope's. */
enum fl_result fl_sigv4_parse_header(const char *authorization, const char *amz_date,
				     struct fl_sigv4_auth *out, struct fl_error *err) FL_MUST_USE;

/* Parses the query-string form (X-Amz-Algorithm, X-Amz-Credential,
 * X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Signature, X-Amz-Expires) from
 * a raw query.  FL_NOT_FOUND when the query holds no X-Amz-Algorithm;
 * FL_INVALID as above. */
enum fl_result fl_sigv4_parse_query(const char *query, struct fl_sigv4_auth *out,
				    struct fl_error *err) FL_MUST_USE;

/* Constant-time comparison of two NUL-terminated hex signatures. */
bool fl_sigv4_equal(const char *a, const char *b);

/* "20150830T123600Z" to Unix seconds; -1 if malformed. */
long long fl_sigv4_parse_time(const char *amz_date);
/* Unix seconds to scope's amz_date and date. */
void fl_sigv4_scope_time(struct fl_sigv4_scope *scope, long long unix_s);

#endif
