/*
 * auth.c - who may call: SigV4 verification of incoming requests.
 *
 * DESIGN
 * The keys are parsed once at start into an immutable table; after that
 * fl_auth_check only reads it, so any number of HTTP threads share one
 * struct fl_auth without a lock (the counters are atomics).
 *
 * A check runs in the order AWS's front ends answer in, cheapest and most
 * structural first, so that the error a client sees names the first thing
 * wrong with its request:
 *
 *   1. find the signature: the Authorization header, else the query's
 *      X-Amz-Algorithm form (both at once is malformed); none at all is
 *      MissingAuthenticationTokenException;
 *   2. parse it (sigv4.c): anything malformed is IncompleteSignature-
 *      Exception, with sigv4.c's AWS wording (InvalidSignatureException
 *      where sigv4.c says so: a signature that does not sign the host
 *      header, a scope dated another day);
 *   3. the credential scope's service, then the date (within
 *      FL_AUTH_SKEW_S of now; the query form not in the future past that
 *      skew, and not past its X-Amz-Expires, at most a week);
 *   4. the access key ID (UnrecognizedClientException when unknown);
 *   5. x-amz-content-sha256, when sent, against the body's hash;
 *   6. the signature itself: canonical request -> string to sign -> HMAC
 *      under the key's secret, compared in constant time.
 *
 * The canonical request always carries the hash of the body as received,
 * whatever x-amz-content-sha256 claims: a body changed on the way fails
 * at step 6 even when step 5 is skipped.
 *
 * Secrets never leave this file: error messages name the key ID and the
 * dates at most, never a secret, a signature we computed, or the
 * Authorization header (which the log rules treat as secret).  Failures
 * are logged at debug level only: the counters are the operator's view,
 * and a flood of bad requests must not become a flood of log lines.
 */
#include "auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"

#define MAX_KEYS 1024
#define MAX_ID 128
#define MAX_SECRET 128
/* The canonical request holds the path, query and signed headers, which
 * libmicrohttpd already bounds to its 64 KiB of connection memory. */
#define MAX_CANONICAL (256u * 1024)
#define MAX_STRING_TO_SIGN 4096

#define INVALID_SIGNATURE "InvalidSignatureException"
#define INCOMPLETE_SIGNATURE "IncompleteSignatureException"
#define MSG_BAD_SIGNATURE \
	"The request signature we calculated does not match the signature you provided. " \
	"Check your AWS Secret Access Key and signing method. Consult the service " \
	"documentation for details."

struct key {
	char id[MAX_ID + 1];
	char secret[MAX_SECRET + 1];
};

struct fl_auth {
	struct key *keys;  /* immutable after fl_auth_new */
	size_t n_keys;
	struct fl_auth_counters counters;
};

/* Wipes a secret so that it does not linger in freed memory. */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

/* One "ID:SECRET" of [p, end) into k.  The message never quotes the text:
 * it holds a secret. */
static enum fl_result parse_key(const char *p, const char *end, int n, struct key *k,
				struct fl_error *err)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	if (!colon)
		return fl_error_set(err, FL_INVALID, "access key %d: expected ID:SECRET", n);
	size_t id_len = (size_t)(colon - p), sec_len = (size_t)(end - colon - 1);
	if (id_len < 1 || id_len > MAX_ID || sec_len < 1 || sec_len > MAX_SECRET)
		return fl_error_set(err, FL_INVALID, "access key %d: the ID must be 1..%d "
				    "characters, the secret 1..%d", n, MAX_ID, MAX_SECRET);
	for (const char *q = p; q < end; q++)
		if (*q == ' ' || *q == '\t' || (unsigned char)*q < 0x20 || *q == 0x7f)
			return fl_error_set(err, FL_INVALID, "access key %d: holds a blank or "
					    "control character", n);
	memcpy(k->id, p, id_len);
	k->id[id_len] = '\0';
	memcpy(k->secret, colon + 1, sec_len);
	k->secret[sec_len] = '\0';
	return FL_OK;
}

enum fl_result fl_auth_new(const char *keys, struct fl_auth **out, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	struct fl_auth *a = calloc(1, sizeof *a);
	size_t n = 0;
	*out = NULL;
	if (!a)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	if (!keys)
		keys = "";
	if (*keys) {
		n = 1;
		for (const char *p = keys; *p; p++)
			n += *p == ',';
	}
	if (n > MAX_KEYS) {
		r = fl_error_set(err, FL_INVALID, "at most %d access keys", MAX_KEYS);
		goto out;
	}
	if (n && !(a->keys = calloc(n, sizeof *a->keys))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	const char *p = keys;
	for (size_t i = 0; i < n; i++) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if ((r = parse_key(p, end, (int)i + 1, &a->keys[i], err)) != FL_OK)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->keys[j].id, a->keys[i].id) == 0) {
				r = fl_error_set(err, FL_INVALID, "access key %zu: the ID %s is "
						 "given twice", i + 1, a->keys[i].id);
				goto out;
			}
		a->n_keys++;
		p = *end ? end + 1 : end;
	}
out:
	if (r != FL_OK) {
		a->n_keys = n;  /* wipe every slot, parsed or not */
		fl_auth_free(a);
		return r;
	}
	*out = a;
	return FL_OK;
}

void fl_auth_free(struct fl_auth *a)
{
	if (!a)
		return;
	if (a->keys)
		wipe(a->keys, a->n_keys * sizeof *a->keys);
	free(a->keys);
	free(a);
}

bool fl_auth_enabled(const struct fl_auth *a)
{
	return a && a->n_keys > 0;
}

const struct fl_auth_counters *fl_auth_counters(const struct fl_auth *a)
{
	return &a->counters;
}

/* The first header named name (case-insensitive), or NULL. */
static const char *header(const struct fl_auth_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* Unix seconds to "20150830T123600Z". */
static void amz_time(long long unix_s, char out[17])
{
	struct fl_sigv4_scope s;
	fl_sigv4_scope_time(&s, unix_s);
	memcpy(out, s.amz_date, 17);
}

/* Counts a failure set in err and returns its code. */
static enum fl_result fail(_Atomic uint64_t *counter, const char *key_id,
			   struct fl_error *err)
{
	atomic_fetch_add(counter, 1);
	/* The type only: sigv4.c's messages may quote the Authorization
	 * header.  A key ID is the client's text: logged only when it looks
	 * like one, so that it cannot forge log lines. */
	for (const char *p = key_id; p && *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_') {
			key_id = "(malformed)";
			break;
		}
	fl_debug("auth: refused%s%s: %s", key_id ? " key " : "", key_id ? key_id : "",
		 err->type[0] ? err->type : fl_result_name(err->code));
	return err->code;
}

/* Step 3: the scope's service and the request's date. */
static enum fl_result check_scope(const struct fl_auth_request *req,
				  const struct fl_sigv4_auth *sig, struct fl_error *err)
{
	const char *svc = sig->scope.service;
	if (req->service ? strcmp(svc, req->service) != 0
			 : strcmp(svc, "firehose") != 0 && strcmp(svc, "glue") != 0 &&
				   strcmp(svc, "athena") != 0)
		return fl_error_set_type(err, FL_DENIED, INVALID_SIGNATURE,
					 "Credential should be scoped to correct service: '%s'. ",
					 req->service ? req->service : "firehose', 'glue' or 'athena");

	long long t = fl_sigv4_parse_time(sig->scope.amz_date);
	char now_s[17], edge[17];
	if (t < 0)
		return fl_error_set_type(err, FL_DENIED, INCOMPLETE_SIGNATURE,
					 "Date must be in ISO-8601 'basic format'. Got '%s'.",
					 sig->scope.amz_date);
	amz_time(req->now_s, now_s);
	/* The query form lives from its date until X-Amz-Expires (sigv4.c
	 * caps it at seven days) has passed, as a presigned URL does; the header form
	 * within FL_AUTH_SKEW_S either side of now. */
	if (sig->expires < 0 && t < req->now_s - FL_AUTH_SKEW_S) {
		amz_time(req->now_s - FL_AUTH_SKEW_S, edge);
		return fl_error_set_type(err, FL_DENIED, INVALID_SIGNATURE,
					 "Signature expired: %s is now earlier than %s (%s - 15 min.)",
					 sig->scope.amz_date, edge, now_s);
	}
	if (t > req->now_s + FL_AUTH_SKEW_S) {
		amz_time(req->now_s + FL_AUTH_SKEW_S, edge);
		return fl_error_set_type(err, FL_DENIED, INVALID_SIGNATURE,
					 "Signature not yet current: %s is still later than %s "
					 "(%s + 15 min.)", sig->scope.amz_date, edge, now_s);
	}
	if (sig->expires >= 0 && req->now_s > t + sig->expires) {
		amz_time(req->now_s - sig->expires, edge);
		return fl_error_set_type(err, FL_DENIED, INVALID_SIGNATURE,
					 "Signature expired: %s is now earlier than %s (%s - %ld sec.)",
					 sig->scope.amz_date, edge, now_s, sig->expires);
	}
	return FL_OK;
}

/* Step 6: the signature req should carry under k, compared with sig's. */
static enum fl_result check_signature(const struct fl_auth_request *req,
				      const struct fl_sigv4_auth *sig, const struct key *k,
				      const char *body_hash, struct fl_error *err)
{
	struct fl_buf creq, sts;
	struct fl_error cerr = { 0 };
	char expect[65];
	enum fl_result r = FL_OK;
	const struct fl_sigv4_request sreq = {
		.method = req->method,
		.path = req->path,
		.query = req->query,
		.headers = req->headers,
		.n_headers = req->n_headers,
		.payload_hash = body_hash,
		.s3 = false,
	};
	fl_buf_init(&creq, MAX_CANONICAL);
	fl_buf_init(&sts, MAX_STRING_TO_SIGN);
	/* A signed header the request lacks, or a malformed escape: the
	 * client signed something else than what arrived. */
	if (fl_sigv4_canonical_request(&sreq, sig->signed_headers, &creq, &cerr) != FL_OK ||
	    fl_sigv4_string_to_sign(&sig->scope, creq.data ? creq.data : "", creq.len,
				    &sts) != FL_OK) {
		r = fl_error_set_type(err, FL_DENIED, INVALID_SIGNATURE, MSG_BAD_SIGNATURE);
		goto out;
	}
	fl_sigv4_signature(k->secret, &sig->scope, sts.data, sts.len, expect);
	if (!fl_sigv4_equal(expect, sig->signature))
		r = fl_error_set_type(err, FL_DENIED, INVALID_SIGNATURE, MSG_BAD_SIGNATURE);
out:
	wipe(expect, sizeof expect);
	fl_buf_free(&creq);
	fl_buf_free(&sts);
	return r;
}

enum fl_result fl_auth_check(struct fl_auth *a, const struct fl_auth_request *req,
			     struct fl_error *err)
{
	struct fl_auth_counters *c = &a->counters;
	struct fl_sigv4_auth sig;
	char body_hash[65];
	enum fl_result r;

	if (!fl_auth_enabled(a))
		return FL_OK;
	memset(&sig, 0, sizeof sig);

	/* 1, 2: find and parse the signature. */
	const char *authz = header(req, "Authorization");
	if (authz) {
		const char *date = header(req, "X-Amz-Date");
		if (!date)
			date = header(req, "Date");
		if (req->query && (strncmp(req->query, "X-Amz-Algorithm=", 16) == 0 ||
				   strstr(req->query, "&X-Amz-Algorithm="))) {
			fl_error_set_type(err, FL_DENIED, INCOMPLETE_SIGNATURE,
					  "Only one auth mechanism allowed; only the X-Amz-Algorithm "
					  "query parameter or the Authorization header should be "
					  "specified");
			return fail(&c->incomplete, NULL, err);
		}
		r = fl_sigv4_parse_header(authz, date, &sig, err);
	} else {
		r = req->query ? fl_sigv4_parse_query(req->query, &sig, err) : FL_NOT_FOUND;
		if (r == FL_NOT_FOUND) {
			fl_error_set(err, FL_FORBIDDEN, "Missing Authentication Token");
			return fail(&c->missing, NULL, err);
		}
	}
	if (r == FL_INTERNAL)
		return r;
	if (r != FL_OK) {
		/* sigv4.c's message and type are AWS's (Incomplete unless it
		 * says otherwise); the code becomes an authentication failure. */
		err->code = FL_DENIED;
		if (!err->type[0])
			snprintf(err->type, sizeof err->type, "%s", INCOMPLETE_SIGNATURE);
		if (strcmp(err->type, INVALID_SIGNATURE) == 0)
			return fail(&c->bad_signature, NULL, err);
		return fail(&c->incomplete, NULL, err);
	}

	/* 3: service and date. */
	if (check_scope(req, &sig, err) != FL_OK)
		return fail(&c->bad_signature, sig.key_id, err);

	/* 4: the key. */
	const struct key *k = NULL;
	for (size_t i = 0; i < a->n_keys; i++)
		if (strcmp(a->keys[i].id, sig.key_id) == 0)
			k = &a->keys[i];
	if (!k) {
		fl_error_set(err, FL_DENIED, "The security token included in the request is "
			     "invalid.");
		return fail(&c->unknown_key, sig.key_id, err);
	}

	/* 5: the body's hash. */
	fl_sigv4_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0,
			    body_hash);
	const char *claimed = header(req, "X-Amz-Content-Sha256");
	if (claimed && strcmp(claimed, body_hash) != 0) {
		fl_error_set_type(err, FL_DENIED, INVALID_SIGNATURE,
				  "The provided 'x-amz-content-sha256' header does not match "
				  "what was computed.");
		return fail(&c->bad_signature, k->id, err);
	}

	/* 6: the signature. */
	if (check_signature(req, &sig, k, body_hash, err) != FL_OK)
		return fail(&c->bad_signature, k->id, err);
	atomic_fetch_add(&c->ok, 1);
	return FL_OK;
}
