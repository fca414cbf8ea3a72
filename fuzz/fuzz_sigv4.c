/*
 * fuzz_sigv4.c - SigV4 as a server meets it: the Authorization header and
 * the query-string form parsed, the canonical request built from what a
 * client sent; and signing checked against verifying.
 *
 * Design.  The input is lines:
 *   1  an Authorization header value
 *   2  the X-Amz-Date (or Date) header value
 *   3  the method
 *   4  the path, as sent
 *   5  the query, as sent (also parsed as the presigned form)
 *   6… headers, "name:value"
 * Missing lines are empty.
 *
 * Checked beside the sanitizers:
 *  - parse_header and parse_query answer a documented code with a
 *    message in UTF-8, leave a cleared struct on failure, and on success hold what
 *    a verifier relies on: a key id, a date matching the request's, a
 *    region and service, 64 hex digits of signature, host among the
 *    signed headers, expires within a week;
 *  - the canonical request (as S3 and as any other service) has one line
 *    per signed header between its fixed lines;
 *  - round trip: when fl_sigv4_sign signs the request (with its host and
 *    x-amz-date headers), the Authorization value it writes parses, and
 *    recomputing the signature from what was parsed, as auth.c does,
 *    gives the same signature.
 */
#include "buf.h"
#include "fuzz.h"
#include "sigv4.h"

#define MAX_LINES 40
#define MAX_HEADERS 32

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool names_host(const char *signed_headers)
{
	const char *p = signed_headers;

	for (;;) {
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 4 && !strncasecmp(p, "host", 4))
			return true;
		if (!e)
			return false;
		p = e + 1;
	}
}

static void check_auth(enum fl_result r, const struct fl_sigv4_auth *a, const struct fl_error *err,
		       bool query, bool utf8)
{
	static const struct fl_sigv4_auth zero = { .expires = -1 };

	if (r != FL_OK) {
		FUZZ_CHECK(r == FL_INVALID || r == FL_INTERNAL || (query && r == FL_NOT_FOUND));
		FUZZ_CHECK_ERROR(r, *err);
		if (utf8)
			FUZZ_CHECK_MESSAGE_UTF8("", 0, err->msg);
		FUZZ_CHECK(!memcmp(a, &zero, sizeof zero));
		return;
	}
	FUZZ_CHECK(a->key_id[0] != '\0');
	FUZZ_CHECK(a->scope.region[0] != '\0' && a->scope.service[0] != '\0');
	FUZZ_CHECK(strlen(a->scope.date) == 8 && !strncmp(a->scope.date, a->scope.amz_date, 8));
	FUZZ_CHECK(fl_sigv4_parse_time(a->scope.amz_date) >= 0);
	FUZZ_CHECK(is_hex64(a->signature));
	FUZZ_CHECK(names_host(a->signed_headers));
	FUZZ_CHECK(a->expires >= -1 && a->expires <= 604800);
	if (!query)
		FUZZ_CHECK(a->expires == -1);
}

static void check_canonical(const struct fl_sigv4_request *req, const char *signed_headers)
{
	struct fl_buf out;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r;
	size_t lines = 0, nsigned = 1;

	for (const char *p = signed_headers; *p; p++)
		nsigned += *p == ';';
	fl_buf_init(&out, 4 << 20);
	r = fl_sigv4_canonical_request(req, signed_headers, &out, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_INVALID || r == FL_TOO_LARGE || r == FL_INTERNAL);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
	} else {
		for (size_t i = 0; i < out.len; i++)
			lines += out.data[i] == '\n';
		/* method, URI, query, the headers, a blank, signed, hash (a
		 * presigned list may hold a decoded newline of its own) */
		FUZZ_CHECK(lines == 5 + nsigned || strchr(signed_headers, '\n'));
		FUZZ_CHECK(out.len >= strlen(req->payload_hash) &&
			   !strcmp(out.data + out.len - strlen(req->payload_hash), req->payload_hash));
	}
	fl_buf_free(&out);
}

/* Signs req, parses the signature back and recomputes it. */
static void round_trip(struct fl_sigv4_request *req, const struct fl_sigv4_scope *scope)
{
	struct fl_buf auth, creq, sts;
	struct fl_error err = { FL_OK, "", "" };
	struct fl_sigv4_auth parsed;
	char sig[65];
	enum fl_result r;

	fl_buf_init(&auth, 1 << 16);
	fl_buf_init(&creq, 4 << 20);
	fl_buf_init(&sts, 1 << 12);
	r = fl_sigv4_sign(req, scope, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
			  &auth, &err);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		goto done;
	}
	memset(&err, 0, sizeof err);
	r = fl_sigv4_parse_header(auth.data, scope->amz_date, &parsed, &err);
	if (r != FL_OK) {
		fprintf(stderr, "own signature refused: %s\n%s\n", err.msg, auth.data);
		FUZZ_CHECK(!"a signature fl_sigv4_sign wrote does not parse");
	}
	FUZZ_CHECK(!strcmp(parsed.key_id, "AKIDEXAMPLE"));
	FUZZ_CHECK(!strcmp(parsed.scope.region, scope->region) &&
		   !strcmp(parsed.scope.service, scope->service) &&
		   !strcmp(parsed.scope.date, scope->date) &&
		   !strcmp(parsed.scope.amz_date, scope->amz_date));
	r = fl_sigv4_canonical_request(req, parsed.signed_headers, &creq, &err);
	if (r != FL_OK) {
		fprintf(stderr, "own signed headers refused: %s\n", err.msg);
		FUZZ_CHECK(!"the canonical request of a signed request fails");
	}
	FUZZ_CHECK(fl_sigv4_string_to_sign(&parsed.scope, creq.data, creq.len, &sts) == FL_OK);
	fl_sigv4_signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", &parsed.scope, sts.data,
			   sts.len, sig);
	if (!fl_sigv4_equal(sig, parsed.signature)) {
		fprintf(stderr, "signature %s, recomputed %s\n%s\n", parsed.signature, sig, creq.data);
		FUZZ_CHECK(!"a signature does not verify");
	}
done:
	fl_buf_free(&auth);
	fl_buf_free(&creq);
	fl_buf_free(&sts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *lines[MAX_LINES];
	size_t nlines = 0;
	struct fl_sigv4_header headers[MAX_HEADERS + 2];
	size_t nh = 0;
	struct fl_sigv4_auth a;
	struct fl_sigv4_scope scope;
	struct fl_error err = { FL_OK, "", "" };
	uint64_t h = 1469598103934665603ull;
	enum fl_result r;

	if (!text)
		return 0;
	for (char *p = text; nlines < MAX_LINES;) {
		char *nl = strchr(p, '\n');
		lines[nlines++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	for (size_t i = nlines; i < 5; i++)
		lines[i] = "";
	/* Messages quote the input, cut at a byte count or %-decoded; sigv4.c
	 * drops what is not UTF-8 from them, whatever the input. */
	r = fl_sigv4_parse_header(lines[0], lines[1], &a, &err);
	check_auth(r, &a, &err, false, true);
	memset(&err, 0, sizeof err);
	r = fl_sigv4_parse_query(lines[4], &a, &err);
	check_auth(r, &a, &err, true, true);

	/* The request: host and x-amz-date first, then the input's headers. */
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	fl_sigv4_scope_time(&scope, (long long)(h % 4102444800ull));
	FUZZ_CHECK(fl_sigv4_parse_time(scope.amz_date) == (long long)(h % 4102444800ull));
	strcpy(scope.region, "us-east-1");
	strcpy(scope.service, h & 1 ? "s3" : "glue");
	headers[nh++] = (struct fl_sigv4_header){ "Host", "example.amazonaws.com" };
	headers[nh++] = (struct fl_sigv4_header){ "X-Amz-Date", scope.amz_date };
	for (size_t i = 5; i < nlines && nh < MAX_HEADERS + 2; i++) {
		char *colon = strchr(lines[i], ':');
		if (!colon)
			continue;
		*colon = '\0';
		headers[nh++] = (struct fl_sigv4_header){ lines[i], colon + 1 };
	}
	struct fl_sigv4_request req = {
		.method = lines[2][0] ? lines[2] : "GET",
		.path = lines[3],
		.query = lines[4],
		.headers = headers,
		.n_headers = nh,
		.payload_hash = FL_SIGV4_EMPTY_SHA256,
		.s3 = h & 1,
	};

	/* What the parsed header names, or every header the request has. */
	check_canonical(&req, r == FL_OK ? a.signed_headers : "host;x-amz-date");
	req.s3 = !req.s3;
	check_canonical(&req, "host;x-amz-date");
	req.s3 = !req.s3;
	round_trip(&req, &scope);
	free(text);
	return 0;
}
