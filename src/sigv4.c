/*
 * sigv4.c - AWS Signature Version 4, as pure functions.
 *
 * DESIGN
 * Signing and verifying are the same computation: build the canonical
 * request from what travels on the wire, hash it into the string to sign,
 * and HMAC that under a key derived from the secret and the scope.  The
 * signer (our S3 client) signs every header it sends; the verifier
 * (auth.c) parses the signature a request carries, recomputes it over the
 * headers that signature names, and compares in constant time.  So the
 * only judgement calls are in the canonical forms, and they follow AWS's
 * published test suite (tests/sigv4/) and botocore:
 *
 *   - URI, every service but S3: the path as given is normalised (".",
 *     ".." and empty segments dropped, a trailing '/' kept) and then
 *     encoded once more; a path already percent-encoded on the wire ends
 *     up encoded twice, as AWS wants.  S3: the path is decoded and encoded
 *     once, segment by segment, never normalised ("a//b" is a key).
 *   - Query: each name and value decoded and re-encoded with only RFC 3986
 *     unreserved characters left bare ('+' is a plus, sent as %2B), sorted
 *     by encoded name then value, X-Amz-Signature left out.
 *   - Headers: lower-case names, values trimmed with inner blank runs
 *     folded, repeated names joined with ',' in the order sent.
 *
 * Nothing here reads a clock, allocates beyond one request's scratch
 * buffers, or logs: callers own the policy (skew, expiry, which keys).
 * Key material on the stack is wiped before returning.
 */
#include "sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/* Upper bounds of a request's parts, well past what AWS accepts. */
#define MAX_CANONICAL (1024 * 1024)
#define MAX_SIGNED_HEADERS 1023
#define TYPE_INCOMPLETE "IncompleteSignatureException"
#define TYPE_INVALID "InvalidSignatureException"

static const char hexdigits[] = "0123456789abcdef";
static const char HEXDIGITS[] = "0123456789ABCDEF";

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[p[i] >> 4];
		out[2 * i + 1] = hexdigits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

void fl_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	to_hex(md, sizeof md, out);
}

/* ---- encoding ---------------------------------------------------------- */

enum fl_result fl_sigv4_uri_encode(const char *s, size_t n, bool keep_slash, struct fl_buf *out)
{
	enum fl_result r = FL_OK;
	for (size_t i = 0; i < n && r == FL_OK; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			r = fl_buf_addc(out, (char)c);
		} else {
			char esc[3] = { '%', HEXDIGITS[c >> 4], HEXDIGITS[c & 15] };
			r = fl_buf_add(out, esc, 3);
		}
	}
	return r;
}

/* Decodes s[0..n) (%XX escapes; '+' stays a plus) into out.
 * FL_INVALID on a malformed escape. */
static enum fl_result decode(struct fl_buf *out, const char *s, size_t n)
{
	enum fl_result r = FL_OK;
	for (size_t i = 0; i < n && r == FL_OK; i++) {
		char c = s[i];
		if (c == '%') {
			if (n - i < 3)
				return FL_INVALID;
			int h = hexval((unsigned char)s[i + 1]);
			int l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return FL_INVALID;
			c = (char)(h << 4 | l);
			i += 2;
		}
		r = fl_buf_addc(out, c);
	}
	return r;
}

/* FL_OK when every '%' in s[0..n) starts a well-formed escape, else
 * FL_INVALID with AWS's MalformedQueryString / InvalidURIPath wording. */
static enum fl_result check_escapes(const char *s, size_t n, const char *type,
				    struct fl_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%')
			continue;
		if (n - i < 3)
			return fl_error_set_type(err, FL_INVALID, type,
						 "Incomplete trailing escape %% sequence");
		if (hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0)
			return fl_error_set_type(err, FL_INVALID, type,
						 "Illegal hex character in escape %% pattern: %%%c%c",
						 s[i + 1], s[i + 2]);
		i += 2;
	}
	return FL_OK;
}

/* ---- canonical URI ----------------------------------------------------- */

/* Non-S3: botocore's remove_dot_segments, then one more encoding. */
static enum fl_result uri_normalised(const char *path, struct fl_buf *out)
{
	size_t n = strlen(path), start = out->len;
	size_t *starts = NULL, *lens = NULL, kept = 0;
	enum fl_result r = FL_OK;

	if (n == 0)
		return fl_buf_addc(out, '/');
	/* at most n/2 + 1 segments survive */
	size_t max_segs = n / 2 + 2;
	starts = malloc(max_segs * sizeof *starts);
	lens = malloc(max_segs * sizeof *lens);
	if (!starts || !lens) {
		r = FL_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && path[j] != '/')
			j++;
		size_t len = j - i;
		if (len == 0 || (len == 1 && path[i] == '.')) {
			/* dropped */
		} else if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
			if (kept)
				kept--;
		} else {
			starts[kept] = i;
			lens[kept] = len;
			kept++;
		}
		i = j + 1;
	}
	if (path[0] == '/')
		r = fl_buf_addc(out, '/');
	for (size_t k = 0; k < kept && r == FL_OK; k++) {
		if (k)
			r = fl_buf_addc(out, '/');
		if (r == FL_OK)
			r = fl_sigv4_uri_encode(path + starts[k], lens[k], false, out);
	}
	if (r == FL_OK && path[n - 1] == '/' && kept)
		r = fl_buf_addc(out, '/');
	if (r == FL_OK && out->len == start)
		r = fl_buf_addc(out, '/');
out:
	free(starts);
	free(lens);
	return r;
}

/* S3: decode each segment and encode it once; '/' separators as sent
 * (an encoded %2F stays encoded).  The escapes were checked already. */
static enum fl_result uri_s3(const char *path, struct fl_buf *out)
{
	size_t n = strlen(path);
	enum fl_result r = FL_OK;
	if (n == 0)
		return fl_buf_addc(out, '/');
	for (size_t i = 0; i < n && r == FL_OK; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c == '%') {
			c = (unsigned char)(hexval((unsigned char)path[i + 1]) << 4 |
					    hexval((unsigned char)path[i + 2]));
			i += 2;
			r = fl_sigv4_uri_encode((const char *)&c, 1, false, out);
		} else {
			r = fl_sigv4_uri_encode((const char *)&c, 1, true, out);
		}
	}
	return r;
}

/* ---- canonical query --------------------------------------------------- */

struct param {
	size_t name;   /* offsets into the scratch buffer, NUL-terminated */
	size_t value;
};

static int param_cmp_base(const char *base, const struct param *a, const struct param *b)
{
	int c = strcmp(base + a->name, base + b->name);
	return c ? c : strcmp(base + a->value, base + b->value);
}

/* Appends the decoded-then-encoded form of s[0..n) plus a NUL to scratch. */
static enum fl_result reencode(struct fl_buf *scratch, struct fl_buf *tmp, const char *s, size_t n)
{
	fl_buf_reset(tmp);
	enum fl_result r = decode(tmp, s, n);
	if (r == FL_OK)
		r = fl_sigv4_uri_encode(tmp->data ? tmp->data : "", tmp->len, false, scratch);
	if (r == FL_OK)
		r = fl_buf_addc(scratch, '\0');
	return r;
}

/* A merge sort: qsort has no context argument for the scratch base, and
 * no global may hold it (handlers run on many threads). */
static void sort_params(const char *base, struct param *p, struct param *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_params(base, p, tmp, h);
	sort_params(base, p + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = param_cmp_base(base, &p[j], &p[i]) < 0 ? p[j++] : p[i++];
	while (i < h)
		tmp[k++] = p[i++];
	while (j < n)
		tmp[k++] = p[j++];
	memcpy(p, tmp, n * sizeof *p);
}

static enum fl_result canonical_query(const char *query, struct fl_buf *out)
{
	struct fl_buf scratch, tmp;
	struct param *params = NULL, *sorttmp = NULL;
	size_t n_params = 0, qlen = query ? strlen(query) : 0;
	enum fl_result r = FL_OK;

	fl_buf_init(&scratch, 3 * qlen + 2 * (qlen + 1) + 16);
	fl_buf_init(&tmp, qlen + 1);
	if (qlen == 0)
		goto out;
	size_t max_params = 1;
	for (size_t i = 0; i < qlen; i++)
		max_params += query[i] == '&';
	params = calloc(max_params, sizeof *params);
	sorttmp = calloc(max_params, sizeof *sorttmp);
	if (!params || !sorttmp) {
		r = FL_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i <= qlen;) {
		size_t j = i;
		while (j < qlen && query[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(query + i, '=', j - i);
			size_t nlen = eq ? (size_t)(eq - (query + i)) : j - i;
			const char *v = eq ? eq + 1 : query + j;
			size_t vlen = eq ? (size_t)(query + j - v) : 0;
			struct param p = { .name = scratch.len };
			r = reencode(&scratch, &tmp, query + i, nlen);
			if (r == FL_OK) {
				p.value = scratch.len;
				r = reencode(&scratch, &tmp, v, vlen);
			}
			if (r != FL_OK)
				goto out;
			params[n_params++] = p;
		}
		i = j + 1;
	}
	sort_params(scratch.data, params, sorttmp, n_params);
	bool first = true;
	for (size_t k = 0; k < n_params && r == FL_OK; k++) {
		const char *name = scratch.data + params[k].name;
		if (strcmp(name, "X-Amz-Signature") == 0)
			continue;
		if (!first)
			r = fl_buf_addc(out, '&');
		first = false;
		if (r == FL_OK)
			r = fl_buf_adds(out, name);
		if (r == FL_OK)
			r = fl_buf_addc(out, '=');
		if (r == FL_OK)
			r = fl_buf_adds(out, scratch.data + params[k].value);
	}
out:
	free(params);
	free(sorttmp);
	fl_buf_free(&scratch);
	fl_buf_free(&tmp);
	return r;
}

/* The error of a failed append: too large, or out of memory. */
static enum fl_result buf_error(struct fl_error *err, enum fl_result r)
{
	if (r == FL_TOO_LARGE)
		return fl_error_set(err, r, "The canonical request is too large.");
	return fl_error_set(err, r, "Out of memory.");
}

/* ---- canonical headers ------------------------------------------------- */

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Appends value trimmed, inner blank runs folded to one space. */
static enum fl_result add_value(struct fl_buf *out, const char *v)
{
	enum fl_result r = FL_OK;
	bool pending = false, any = false;
	for (; *v && r == FL_OK; v++) {
		if (blank(*v)) {
			pending = any;
			continue;
		}
		if (pending)
			r = fl_buf_addc(out, ' ');
		if (r == FL_OK)
			r = fl_buf_addc(out, *v);
		pending = false;
		any = true;
	}
	return r;
}

static bool name_is(const char *header, const char *name, size_t n)
{
	return strlen(header) == n && strncasecmp(header, name, n) == 0;
}

static enum fl_result add_headers(const struct fl_sigv4_request *req, const char *signed_headers,
				  struct fl_buf *out, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	const char *s = signed_headers;
	if (!*s)
		return fl_error_set(err, FL_INVALID, "SignedHeaders is empty.");
	for (;;) {
		const char *e = strchr(s, ';');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0)
			return fl_error_set(err, FL_INVALID,
					    "SignedHeaders holds an empty header name: '%s'.",
					    signed_headers);
		bool found = false;
		for (size_t k = 0; k < n && r == FL_OK; k++)
			r = fl_buf_addc(out, (char)tolower((unsigned char)s[k]));
		if (r == FL_OK)
			r = fl_buf_addc(out, ':');
		for (size_t i = 0; i < req->n_headers && r == FL_OK; i++) {
			const struct fl_sigv4_header *h = &req->headers[i];
			if (!h->name || !name_is(h->name, s, n))
				continue;
			if (found)
				r = fl_buf_addc(out, ',');
			if (r == FL_OK)
				r = add_value(out, h->value ? h->value : "");
			found = true;
		}
		if (r == FL_OK)
			r = fl_buf_addc(out, '\n');
		if (r != FL_OK)
			return buf_error(err, r);
		if (!found)
			return fl_error_set(err, FL_INVALID,
					    "The request signature names the header '%.*s', "
					    "which the request does not carry.", (int)(n > 128 ? 128 : n), s);
		if (!e)
			return FL_OK;
		s = e + 1;
	}
}

enum fl_result fl_sigv4_canonical_request(const struct fl_sigv4_request *req,
					  const char *signed_headers, struct fl_buf *out,
					  struct fl_error *err)
{
	const char *path = req->path && *req->path ? req->path : "/";
	const char *query = req->query ? req->query : "";
	enum fl_result r;

	if (!req->method || !*req->method)
		return fl_error_set(err, FL_INVALID, "The request has no method.");
	if (!req->payload_hash || !*req->payload_hash)
		return fl_error_set(err, FL_INVALID, "The request has no payload hash.");
	if (!signed_headers)
		return fl_error_set(err, FL_INVALID, "SignedHeaders is empty.");
	r = check_escapes(path, strlen(path), "InvalidURIPath", err);
	if (r == FL_OK)
		r = check_escapes(query, strlen(query), "MalformedQueryString", err);
	if (r != FL_OK)
		return r;

	r = fl_buf_adds(out, req->method);
	if (r == FL_OK)
		r = fl_buf_addc(out, '\n');
	if (r == FL_OK)
		r = req->s3 ? uri_s3(path, out) : uri_normalised(path, out);
	if (r == FL_OK)
		r = fl_buf_addc(out, '\n');
	if (r == FL_OK)
		r = canonical_query(query, out);
	if (r == FL_OK)
		r = fl_buf_addc(out, '\n');
	if (r != FL_OK)
		return buf_error(err, r);
	r = add_headers(req, signed_headers, out, err);
	if (r != FL_OK)
		return r;
	r = fl_buf_addc(out, '\n');
	if (r == FL_OK)
		r = fl_buf_adds(out, signed_headers);
	if (r == FL_OK)
		r = fl_buf_addc(out, '\n');
	if (r == FL_OK)
		r = fl_buf_adds(out, req->payload_hash);
	if (r != FL_OK)
		return buf_error(err, r);
	return FL_OK;
}

/* ---- string to sign, signature ----------------------------------------- */

enum fl_result fl_sigv4_string_to_sign(const struct fl_sigv4_scope *scope,
				       const char *canonical_request, size_t len,
				       struct fl_buf *out)
{
	char hash[65];
	fl_sigv4_sha256_hex(canonical_request, len, hash);
	return fl_buf_printf(out, "%s\n%s\n%s/%s/%s/aws4_request\n%s", FL_SIGV4_ALGORITHM,
			     scope->amz_date, scope->date, scope->region, scope->service, hash);
}

static void hmac(const void *key, size_t key_len, const void *data, size_t len,
		 unsigned char out[32])
{
	unsigned int n = 32;
	HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n);
}

void fl_sigv4_signature(const char *secret, const struct fl_sigv4_scope *scope,
			const char *string_to_sign, size_t len, char out[65])
{
	/* HMAC hashes a key longer than its block, so "AWS4"+secret of any
	 * length becomes SHA-256("AWS4"+secret) without a copy. */
	unsigned char key[256];
	size_t key_len, slen = strlen(secret);
	unsigned char k[32];

	if (slen + 4 <= 64) {
		memcpy(key, "AWS4", 4);
		memcpy(key + 4, secret, slen);
		key_len = slen + 4;
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		unsigned int n = 32;
		if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
		    !EVP_DigestUpdate(ctx, "AWS4", 4) || !EVP_DigestUpdate(ctx, secret, slen) ||
		    !EVP_DigestFinal_ex(ctx, key, &n))
			memset(key, 0, 32);  /* unreachable in practice: no match */
		EVP_MD_CTX_free(ctx);
		key_len = 32;
	}
	hmac(key, key_len, scope->date, strlen(scope->date), k);
	hmac(k, 32, scope->region, strlen(scope->region), k);
	hmac(k, 32, scope->service, strlen(scope->service), k);
	hmac(k, 32, "aws4_request", 12, k);
	hmac(k, 32, string_to_sign, len, k);
	to_hex(k, 32, out);
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(k, sizeof k);
}

/* ---- signing ----------------------------------------------------------- */

static int strcasecmp_ptr(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* "host;x-amz-date": every header name of req, lower-cased, sorted, once. */
static enum fl_result signed_header_list(const struct fl_sigv4_request *req, struct fl_buf *out,
					 struct fl_error *err)
{
	enum fl_result r = FL_OK;
	const char **names = NULL;
	if (req->n_headers == 0)
		return fl_error_set(err, FL_INVALID, "A signed request needs a Host header.");
	names = malloc(req->n_headers * sizeof *names);
	if (!names)
		return fl_error_set(err, FL_INTERNAL, "Out of memory.");
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *nm = req->headers[i].name;
		if (!nm || !*nm || strpbrk(nm, ";:, \t\r\n")) {
			r = fl_error_set(err, FL_INVALID, "Header name '%s' cannot be signed.",
					 nm ? nm : "");
			goto out;
		}
		names[i] = nm;
	}
	qsort(names, req->n_headers, sizeof *names, strcasecmp_ptr);
	for (size_t i = 0; i < req->n_headers && r == FL_OK; i++) {
		if (i && strcasecmp(names[i - 1], names[i]) == 0)
			continue;
		if (i)
			r = fl_buf_addc(out, ';');
		for (const char *p = names[i]; *p && r == FL_OK; p++)
			r = fl_buf_addc(out, (char)tolower((unsigned char)*p));
	}
	if (r != FL_OK)
		r = fl_error_set(err, FL_INVALID, "SignedHeaders would exceed %d characters.",
				 MAX_SIGNED_HEADERS);
out:
	free(names);
	return r;
}

static bool has_header(const struct fl_sigv4_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return true;
	return false;
}

enum fl_result fl_sigv4_sign(const struct fl_sigv4_request *req,
			     const struct fl_sigv4_scope *scope, const char *key_id,
			     const char *secret, struct fl_buf *out, struct fl_error *err)
{
	struct fl_buf sh, creq, sts;
	char sig[65];
	enum fl_result r;

	fl_buf_init(&sh, MAX_SIGNED_HEADERS);
	fl_buf_init(&creq, MAX_CANONICAL);
	fl_buf_init(&sts, 1024);
	r = signed_header_list(req, &sh, err);
	if (r != FL_OK)
		goto out;
	if (!has_header(req, "host") || !has_header(req, "x-amz-date")) {
		r = fl_error_set(err, FL_INVALID,
				 "A request is signed with its Host and X-Amz-Date headers.");
		goto out;
	}
	r = fl_sigv4_canonical_request(req, sh.data, &creq, err);
	if (r != FL_OK)
		goto out;
	r = fl_sigv4_string_to_sign(scope, creq.data, creq.len, &sts);
	if (r != FL_OK) {
		r = fl_error_set(err, r, "The string to sign is too large.");
		goto out;
	}
	fl_sigv4_signature(secret, scope, sts.data, sts.len, sig);
	r = fl_buf_printf(out, "%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
			  FL_SIGV4_ALGORITHM, key_id, scope->date, scope->region, scope->service,
			  sh.data, sig);
	if (r != FL_OK)
		r = fl_error_set(err, r, "The Authorization header does not fit.");
out:
	OPENSSL_cleanse(sig, sizeof sig);
	fl_buf_free(&sh);
	fl_buf_free(&creq);
	fl_buf_free(&sts);
	return r;
}

/* ---- time -------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(long long y, unsigned m)
{
	static const unsigned dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static long long make_time(int y, int mo, int d, int h, int mi, int s)
{
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo) ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
		return -1;
	return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
}

long long fl_sigv4_parse_time(const char *amz_date)
{
	if (!amz_date || strlen(amz_date) != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z')
		return -1;
	return make_time(digits(amz_date, 4), digits(amz_date + 4, 2), digits(amz_date + 6, 2),
			 digits(amz_date + 9, 2), digits(amz_date + 11, 2),
			 digits(amz_date + 13, 2));
}

/* Writes v as exactly n decimal digits. */
static void put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void fl_sigv4_scope_time(struct fl_sigv4_scope *scope, long long unix_s)
{
	long long days = unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
	long long secs = unix_s - days * 86400;
	long long y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	unsigned sod = (unsigned)secs;
	put_digits(scope->amz_date, (unsigned)y, 4);
	put_digits(scope->amz_date + 4, m, 2);
	put_digits(scope->amz_date + 6, d, 2);
	scope->amz_date[8] = 'T';
	put_digits(scope->amz_date + 9, sod / 3600, 2);
	put_digits(scope->amz_date + 11, sod / 60 % 60, 2);
	put_digits(scope->amz_date + 13, sod % 60, 2);
	scope->amz_date[15] = 'Z';
	scope->amz_date[16] = '\0';
	memcpy(scope->date, scope->amz_date, 8);
	scope->date[8] = '\0';
}

/* ---- verifying: parsing what a request carries ------------------------- */


/* Copies s[0..n) into dst[cap] when it fits (with its NUL). */
static bool copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* RFC 1123 "Sun, 30 Aug 2015 12:36:00 GMT" (the Date header) to Unix
 * seconds; -1 if malformed. */
static long long parse_http_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
		return -1;
	int mo = 0;
	for (int i = 0; i < 12; i++)
		if (strncmp(s + 8, months + 3 * i, 3) == 0)
			mo = i + 1;
	if (!mo)
		return -1;
	return make_time(digits(s + 12, 4), mo, digits(s + 5, 2), digits(s + 17, 2),
			 digits(s + 20, 2), digits(s + 23, 2));
}

static enum fl_result date_error(struct fl_error *err, const char *value)
{
	return fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
				 "Date must be in ISO-8601 'basic format'. Got '%.64s'. "
				 "See http://en.wikipedia.org/wiki/ISO_8601", value);
}

/* Fills out->scope.amz_date from an X-Amz-Date (or Date) value. */
static enum fl_result request_date(const char *value, struct fl_sigv4_auth *out,
				   struct fl_error *err)
{
	long long t = fl_sigv4_parse_time(value);
	if (t < 0)
		t = parse_http_date(value);
	if (t < 0)
		return date_error(err, value);
	struct fl_sigv4_scope s;
	fl_sigv4_scope_time(&s, t);
	memcpy(out->scope.amz_date, s.amz_date, sizeof s.amz_date);
	return FL_OK;
}

/* Splits "ID/yyyymmdd/region/service/aws4_request" into out and checks
 * what can be checked without knowing the service: the terminator and
 * the date against out->scope.amz_date (already set). */
static enum fl_result parse_credential(const char *cred, struct fl_sigv4_auth *out,
				       struct fl_error *err)
{
	const char *part[5];
	size_t len[5];
	int slashes = 0;
	for (const char *p = cred; *p; p++)
		slashes += *p == '/';
	if (slashes != 4)
		return fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
					 "Credential must have exactly 5 slash-delimited elements, "
					 "e.g. keyid/date/region/service/term, got '%.256s'", cred);
	const char *p = cred;
	for (int n = 0; n < 5; n++) {
		const char *e = strchr(p, '/');
		part[n] = p;
		len[n] = e ? (size_t)(e - p) : strlen(p);
		p = e ? e + 1 : p + len[n];
	}
	if (len[0] == 0 || !copy_part(out->key_id, sizeof out->key_id, part[0], len[0]))
		return fl_error_set_type(err, FL_INVALID, "UnrecognizedClientException",
					 "The security token included in the request is invalid.");
	if (len[2] == 0 || !copy_part(out->scope.region, sizeof out->scope.region, part[2], len[2]))
		return fl_error_set_type(err, FL_INVALID, TYPE_INVALID,
					 "Credential should be scoped to a valid region, not '%.*s'.",
					 (int)(len[2] > 64 ? 64 : len[2]), part[2]);
	if (len[3] == 0 ||
	    !copy_part(out->scope.service, sizeof out->scope.service, part[3], len[3]))
		return fl_error_set_type(err, FL_INVALID, TYPE_INVALID,
					 "Credential should be scoped to correct service: '%.*s'.",
					 (int)(len[3] > 64 ? 64 : len[3]), part[3]);
	bool bad_term = len[4] != 12 || strncmp(part[4], "aws4_request", 12) != 0;
	bool bad_date = len[1] != 8 || strncmp(part[1], out->scope.amz_date, 8) != 0;
	if (bad_term || bad_date) {
		char msg[FL_ERROR_MAX];
		int m = 0;
		if (bad_term)
			m = snprintf(msg, sizeof msg,
				     "Credential should be scoped with a valid terminator: "
				     "'aws4_request', not '%.*s'.", (int)(len[4] > 64 ? 64 : len[4]),
				     part[4]);
		if (bad_date)
			snprintf(msg + m, sizeof msg - (size_t)m,
				 "%sDate in Credential scope does not match YYYYMMDD from ISO-8601 "
				 "version of date from HTTP: '%.*s' != '%.8s', from '%s'.",
				 bad_term ? " " : "", (int)(len[1] > 64 ? 64 : len[1]), part[1],
				 out->scope.amz_date, out->scope.amz_date);
		return fl_error_set_type(err, FL_INVALID, TYPE_INVALID, "%s", msg);
	}
	memcpy(out->scope.date, part[1], 8);
	out->scope.date[8] = '\0';
	return FL_OK;
}

/* SignedHeaders and Signature, once the credential is in. */
static enum fl_result check_rest(const char *signed_headers, const char *signature,
				 struct fl_sigv4_auth *out, struct fl_error *err)
{
	if (!is_hex64(signature))
		return fl_error_set_type(err, FL_INVALID, TYPE_INVALID,
					 "The request signature we calculated does not match the "
					 "signature you provided. Check your AWS Secret Access Key and "
					 "signing method. Consult the service documentation for details.");
	memcpy(out->signature, signature, 65);
	bool host = false;
	for (const char *p = signed_headers; *p;) {
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 4 && strncasecmp(p, "host", 4) == 0)
			host = true;
		if (!e)
			break;
		p = e + 1;
	}
	if (!host)
		return fl_error_set_type(err, FL_INVALID, TYPE_INVALID,
					 "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
					 "Authorization.");
	if (!copy_part(out->signed_headers, sizeof out->signed_headers, signed_headers,
		       strlen(signed_headers)))
		return fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
					 "SignedHeaders is longer than %zu characters.",
					 sizeof out->signed_headers - 1);
	return FL_OK;
}

/* Drops from a message every byte that is not part of well-formed UTF-8:
 * the messages quote client bytes, cut at a byte count or %-decoded, and
 * they travel in JSON answers. */
static void scrub_utf8(struct fl_error *err)
{
	if (!err)
		return;
	unsigned char *s = (unsigned char *)err->msg, *w = s;
	size_t left = strlen(err->msg);
	while (left) {
		size_t n = fl_utf8_seq(s, left);
		if (!n) {
			s++;
			left--;
			continue;
		}
		memmove(w, s, n);
		w += n;
		s += n;
		left -= n;
	}
	*w = '\0';
}

static void auth_init(struct fl_sigv4_auth *out)
{
	memset(out, 0, sizeof *out);
	out->expires = -1;
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

enum fl_result fl_sigv4_parse_header(const char *authorization, const char *amz_date,
				     struct fl_sigv4_auth *out, struct fl_error *err)
{
	enum { CRED, SIG, SIGNED, N_FIELDS };
	static const char *const field_names[N_FIELDS] = { "Credential", "Signature",
							   "SignedHeaders" };
	char *copy = NULL;
	char *value[N_FIELDS] = { NULL };
	enum fl_result r = FL_OK;

	auth_init(out);
	if (!authorization)
		authorization = "";
	copy = strdup(authorization);
	if (!copy)
		return fl_error_set(err, FL_INTERNAL, "Out of memory.");

	/* trim, then "ALGORITHM params" */
	char *s = copy, *end = copy + strlen(copy);
	while (ows(*s))
		s++;
	while (end > s && ows(end[-1]))
		*--end = '\0';
	char *sp = s;
	while (*sp && *sp != ' ')
		sp++;
	char *params = *sp ? sp + 1 : sp;
	*sp = '\0';
	if (strcmp(s, FL_SIGV4_ALGORITHM) != 0) {
		r = fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
				      "Unsupported AWS 'algorithm': '%.128s'.", s);
		goto out;
	}
	for (char *p = params; *p;) {
		char *e = strchr(p, ',');
		if (e)
			*e = '\0';
		char *b = p, *q = p + strlen(p);
		while (ows(*b))
			b++;
		while (q > b && ows(q[-1]))
			*--q = '\0';
		if (*b) {
			char *eq = strchr(b, '=');
			if (!eq) {
				r = fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
						      "'%.128s' not a valid key=value pair (missing "
						      "equal-sign) in Authorization header: '%.512s'",
						      b, authorization);
				goto out;
			}
			*eq = '\0';
			for (int f = 0; f < N_FIELDS; f++)
				if (strcmp(b, field_names[f]) == 0)
					value[f] = eq + 1;  /* the last one wins */
		}
		if (!e)
			break;
		p = e + 1;
	}

	char missing[FL_ERROR_MAX];
	size_t m = 0;
	missing[0] = '\0';
	for (int f = 0; f < N_FIELDS; f++)
		if (!value[f])
			m += (size_t)snprintf(missing + m, sizeof missing - m,
					      "Authorization header requires '%s' parameter. ",
					      field_names[f]);
	if (!amz_date || !*amz_date)
		m += (size_t)snprintf(missing + m, sizeof missing - m,
				      "Authorization header requires existence of either a "
				      "'X-Amz-Date' or a 'Date' header. ");
	if (m) {
		r = fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
				      "%sAuthorization=%s", missing, FL_SIGV4_ALGORITHM);
		goto out;
	}
	r = request_date(amz_date, out, err);
	if (r == FL_OK)
		r = parse_credential(value[CRED], out, err);
	if (r == FL_OK)
		r = check_rest(value[SIGNED], value[SIG], out, err);
out:
	free(copy);
	if (r != FL_OK) {
		auth_init(out);
		scrub_utf8(err);
	}
	return r;
}

/* The query form's parameters, decoded; the first of a name wins. */
enum { Q_ALG, Q_CRED, Q_SIG, Q_SIGNED, Q_DATE, Q_EXPIRES, N_Q };
static const char *const query_names[N_Q] = { "X-Amz-Algorithm", "X-Amz-Credential",
					      "X-Amz-Signature", "X-Amz-SignedHeaders",
					      "X-Amz-Date", "X-Amz-Expires" };

static enum fl_result query_params(const char *query, struct fl_buf *store, size_t at[N_Q],
				   bool have[N_Q], struct fl_error *err)
{
	size_t qlen = strlen(query);
	struct fl_buf name;
	enum fl_result r = FL_OK;

	fl_buf_init(&name, qlen + 1);
	for (size_t i = 0; i <= qlen && r == FL_OK;) {
		size_t j = i;
		while (j < qlen && query[j] != '&')
			j++;
		const char *eq = memchr(query + i, '=', j - i);
		size_t nlen = eq ? (size_t)(eq - (query + i)) : j - i;
		const char *v = eq ? eq + 1 : query + j;
		size_t vlen = eq ? (size_t)(query + j - v) : 0;
		fl_buf_reset(&name);
		r = decode(&name, query + i, nlen);
		for (int k = 0; k < N_Q && r == FL_OK; k++) {
			if (have[k] || !name.data || strcmp(name.data, query_names[k]) != 0)
				continue;
			have[k] = true;
			at[k] = store->len;
			r = decode(store, v, vlen);
			if (r == FL_OK)
				r = fl_buf_addc(store, '\0');
		}
		i = j + 1;
	}
	fl_buf_free(&name);
	if (r != FL_OK)
		r = fl_error_set(err, r, "The query string is too large.");
	return r;
}

enum fl_result fl_sigv4_parse_query(const char *query, struct fl_sigv4_auth *out,
				    struct fl_error *err)
{
	size_t at[N_Q] = { 0 };
	bool have[N_Q] = { false };
	struct fl_buf store;
	enum fl_result r;

	auth_init(out);
	if (!query)
		query = "";
	fl_buf_init(&store, strlen(query) + N_Q + 1);
	r = check_escapes(query, strlen(query), "MalformedQueryString", err);
	if (r != FL_OK)
		goto out;
	r = query_params(query, &store, at, have, err);
	if (r != FL_OK)
		goto out;
#define QV(k) (store.data + at[k])
	/* AWS answers an unknown algorithm as if nothing were signed */
	if (!have[Q_ALG] || strcmp(QV(Q_ALG), FL_SIGV4_ALGORITHM) != 0) {
		r = fl_error_set(err, FL_NOT_FOUND, "Request is missing Authentication Token");
		goto out;
	}
	char missing[FL_ERROR_MAX];
	size_t m = 0;
	missing[0] = '\0';
	for (int k = Q_CRED; k <= Q_DATE; k++)
		if (!have[k] || !*QV(k))
			m += (size_t)snprintf(missing + m, sizeof missing - m,
					      "AWS query-string parameters must include '%s'. ",
					      query_names[k]);
	if (m) {
		r = fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
				      "%sRe-examine the query-string parameters.", missing);
		goto out;
	}
	/* the query form's date is X-Amz-Date's basic format only */
	r = fl_sigv4_parse_time(QV(Q_DATE)) < 0 ? date_error(err, QV(Q_DATE))
						: request_date(QV(Q_DATE), out, err);
	if (r == FL_OK)
		r = parse_credential(QV(Q_CRED), out, err);
	if (r == FL_OK)
		r = check_rest(QV(Q_SIGNED), QV(Q_SIG), out, err);
	if (r == FL_OK && have[Q_EXPIRES]) {
		const char *e = QV(Q_EXPIRES);
		char *endp;
		long v = strtol(e, &endp, 10);
		if (!*e || *endp || e[0] == '+' || e[0] == ' ')
			r = fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
					      "X-Amz-Expires should be a number");
		else if (v < 0)
			r = fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
					      "X-Amz-Expires must be non-negative");
		else if (v > 604800)
			r = fl_error_set_type(err, FL_INVALID, TYPE_INCOMPLETE,
					      "X-Amz-Expires must be less than a week (in seconds) "
					      "that is 604800");
		else
			out->expires = v;
	}
#undef QV
out:
	fl_buf_free(&store);
	if (r != FL_OK) {
		auth_init(out);
		scrub_utf8(err);
	}
	return r;
}

bool fl_sigv4_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}
