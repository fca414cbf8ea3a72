/*
 * auth.h - who may call: SigV4 verification of incoming requests.
 *
 * The keys are --access-keys (ID:SECRET,...).  With none configured every
 * request passes (config.c's fl_config_check_exposure keeps that to a
 * loopback listener unless --allow-anonymous).  With keys, a request must
 * carry a SigV4 signature, in the Authorization header or in the query
 * string (X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...), by one
 * of the keys, for the service the request is for, dated within
 * FL_AUTH_SKEW_S of now (query form: from its date, less that skew, until
 * X-Amz-Expires, at most a week, has passed, as a presigned URL), with
 * x-amz-content-sha256, when sent, equal to the body's hash.
 *
 * Failures are AWS's, as fl_error code + type:
 *   no signature at all            FL_FORBIDDEN  MissingAuthenticationTokenException (403)
 *   malformed signature parts      FL_DENIED     IncompleteSignatureException (400)
 *   unknown access key             FL_DENIED     UnrecognizedClientException (400)
 *   wrong signature, wrong service,
 *   date out of range, body hash   FL_DENIED     InvalidSignatureException (400)
 * and each is counted in struct fl_auth_counters.  Messages are AWS's
 * wording; they may name the key ID and the dates, never a secret or a
 * signature we computed.  Signatures are compared in constant time.
 */
#ifndef FL_AUTH_H
#define FL_AUTH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "sigv4.h"

#define FL_AUTH_SKEW_S (15 * 60)

struct fl_auth;

struct fl_auth_counters {
	_Atomic uint64_t ok;
	_Atomic uint64_t missing;        /* MissingAuthenticationTokenException */
	_Atomic uint64_t incomplete;     /* IncompleteSignatureException */
	_Atomic uint64_t unknown_key;    /* UnrecognizedClientException */
	_Atomic uint64_t bad_signature;  /* InvalidSignatureException */
};

/* One incoming request, as http.c sees it. */
struct fl_auth_request {
	const char *method;
	const char *path;                       /* as sent, before any decoding */
	const char *query;                      /* raw, without '?'; NULL: none */
	const struct fl_sigv4_header *headers;  /* every request header */
	size_t n_headers;
	const void *body;
	size_t body_len;
	const char *service;  /* "firehose", "glue", "athena"; NULL: any of them */
	long long now_s;      /* Unix seconds */
};

/* Parses keys (config's access-keys; "" for none).  Caller owns *out. */
enum fl_result fl_auth_new(const char *keys, struct fl_auth **out,
			   struct fl_error *err) FL_MUST_USE;
void fl_auth_free(struct fl_auth *a);

/* Whether any key is configured (else fl_auth_check always passes). */
bool fl_auth_enabled(const struct fl_auth *a);

/* FL_OK when req is signed as described above; else the error. */
enum fl_result fl_auth_check(struct fl_auth *a, const struct fl_auth_request *req,
			     struct fl_error *err) FL_MUST_USE;

/* The counters (live; read with atomic_load). */
const struct fl_auth_counters *fl_auth_counters(const struct fl_auth *a);

#endif
