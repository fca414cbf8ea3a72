/*
 * s3.c - the S3 client (s3.h): addresses, the XML S3 answers in, the
 * classification of outcomes, and one request = sign + send + classify.
 *
 * DESIGN.  A request is one function call that owns everything it
 * allocates: the target (URL, Host, path), the signed header lines, the
 * curl header list and the error body all die before it returns.  The
 * body of a successful GET goes straight into the caller's buffer, whose
 * maximum stops the transfer (FL_TOO_LARGE) instead of growing past it;
 * any other answer's body goes to a small buffer of its own, so an error
 * document never lands in the caller's data.
 *
 * Integrity: a PUT carries Content-MD5 (S3 refuses a body that does not
 * match: BadDigest) and x-amz-content-sha256 (signed), and the ETag that
 * comes back must be the MD5 we sent, unless the bucket encrypts with
 * KMS or a customer key (then S3's ETag is not an MD5 and S3's own check
 * of Content-MD5 is what we have).  A whole GET is checked against its
 * ETag when the ETag is a plain MD5.  A mismatch is FL_RETRY: the bytes
 * were damaged on the way and the next attempt will likely be clean.
 *
 * Retries: requests the caller marks idempotent are tried up to three
 * times on FL_RETRY with 100 and 400 ms (plus jitter) between, except
 * after a timeout, which has already cost its budget; the delivery layer
 * retries on top with its own backoff.
 *
 * Connections: one curl handle per thread and client (a pthread key), so
 * a worker keeps its connection alive between requests with no lock on
 * the path.  The handles are also on a list under a mutex so that
 * fl_s3_free can clean up the handles of threads that are still alive.
 *
 * The XML reader is a small well-formedness-checking walker: enough of
 * XML for what S3 sends (declarations, comments, CDATA, attributes,
 * entities), with depth, path and text bounded.
 */
#include "s3.h"

#include <curl/curl.h>
#include <ctype.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "sigv4.h"

#define CONNECT_TIMEOUT_MS 5000L
#define LOW_SPEED_BYTES 1024L          /* abort below 1 KiB/s ... */
#define LOW_SPEED_S 30L                /* ... for 30 s */
#define BASE_TIMEOUT_MS 60000L         /* a request's budget, plus ... */
#define BYTES_PER_S (128L * 1024)      /* ... its body at 128 KiB/s */
#define LONG_TIMEOUT_MS (15L * 60 * 1000)
#define ERROR_BODY_MAX (64u * 1024)
#define ATTEMPTS 3
#define XML_DEPTH 32
#define XML_PATH_MAX 512
#define XML_TEXT_MAX (1u << 20)

/* ---- endpoints and addresses ---------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

enum fl_result fl_s3_endpoint_parse(const char *endpoint, const char *region,
				    bool virtual_hosted, struct fl_s3_endpoint *out,
				    struct fl_error *err)
{
	char def[128];
	memset(out, 0, sizeof *out);
	if (!region || !*region || strlen(region) >= sizeof out->region)
		return fl_error_set(err, FL_INVALID, "S3 region missing or too long");
	for (const char *p = region; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			return fl_error_set(err, FL_INVALID, "S3 region %s is not a region name",
					    region);
	if (!endpoint || !*endpoint) {
		snprintf(def, sizeof def, "https://s3.%s.amazonaws.com", region);
		endpoint = def;
	}
	const char *rest;
	if (strncmp(endpoint, "https://", 8) == 0) {
		out->https = true;
		rest = endpoint + 8;
	} else if (strncmp(endpoint, "http://", 7) == 0) {
		rest = endpoint + 7;
	} else {
		return fl_error_set(err, FL_INVALID, "S3 endpoint must start with http:// or https://");
	}
	if (strpbrk(rest, "?#"))
		return fl_error_set(err, FL_INVALID, "S3 endpoint may not hold a query or fragment");
	const char *slash = strchr(rest, '/');
	size_t hn = slash ? (size_t)(slash - rest) : strlen(rest);
	if (hn == 0)
		return fl_error_set(err, FL_INVALID, "S3 endpoint has no host");
	if (hn >= sizeof out->host)
		return fl_error_set(err, FL_INVALID, "S3 endpoint host too long");
	for (size_t i = 0; i < hn; i++) {
		char c = rest[i];
		if (!isalnum((unsigned char)c) && !strchr(".-_:[]", c))
			return fl_error_set(err, FL_INVALID,
					    "S3 endpoint host may hold only letters, digits, "
					    "'.', '-', '_', and a :port");
	}
	memcpy(out->host, rest, hn);
	/* A port after the host (after ']' for an IPv6 literal). */
	char *colon = strrchr(out->host, ':'), *bracket = strrchr(out->host, ']');
	if (colon && (!bracket || colon > bracket)) {
		size_t pn = strlen(colon + 1);
		long port = all_digits(colon + 1, pn) && pn <= 5 ? strtol(colon + 1, NULL, 10) : 0;
		if (port < 1 || port > 65535)
			return fl_error_set(err, FL_INVALID, "S3 endpoint port must be 1 to 65535");
		if (port == (out->https ? 443 : 80))
			*colon = '\0';
		if (colon == out->host)
			return fl_error_set(err, FL_INVALID, "S3 endpoint has no host");
	}
	if (slash) {
		size_t bn = strlen(slash);
		while (bn && slash[bn - 1] == '/')
			bn--;
		if (bn >= sizeof out->base)
			return fl_error_set(err, FL_INVALID, "S3 endpoint path too long");
		memcpy(out->base, slash, bn);
	}
	memcpy(out->region, region, strlen(region) + 1);
	out->virtual_hosted = virtual_hosted;
	return FL_OK;
}

enum fl_result fl_s3_target(const struct fl_s3_endpoint *ep, const char *bucket,
			    const char *key, const char *query, struct fl_s3_target *out,
			    struct fl_error *err)
{
	struct fl_buf path;
	enum fl_result r;
	fl_buf_init(&path, sizeof out->path - 1);
	int n = ep->virtual_hosted
		? snprintf(out->host, sizeof out->host, "%s.%s", bucket, ep->host)
		: snprintf(out->host, sizeof out->host, "%s", ep->host);
	if (n < 0 || (size_t)n >= sizeof out->host) {
		r = fl_error_set(err, FL_INVALID, "S3 host name too long");
		goto out;
	}
	if ((r = fl_buf_adds(&path, ep->base)) != FL_OK ||
	    (!ep->virtual_hosted && (r = fl_buf_printf(&path, "/%s", bucket)) != FL_OK) ||
	    ((key || ep->virtual_hosted) && (r = fl_buf_addc(&path, '/')) != FL_OK) ||
	    (key && (r = fl_sigv4_uri_encode(key, strlen(key), true, &path)) != FL_OK)) {
		r = fl_error_set(err, FL_INVALID, "S3 request path too long");
		goto out;
	}
	memcpy(out->path, path.data, path.len + 1);
	bool q = query && *query;
	n = snprintf(out->url, sizeof out->url, "%s://%s%s%s%s", ep->https ? "https" : "http",
		     out->host, out->path, q ? "?" : "", q ? query : "");
	if (n < 0 || (size_t)n >= sizeof out->url)
		r = fl_error_set(err, FL_INVALID, "S3 request URL too long");
out:
	fl_buf_free(&path);
	return r;
}

/* ---- XML -------------------------------------------------------------- */

static enum fl_result add_utf8(struct fl_buf *out, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return fl_buf_add(out, u, n);
}

/* One entity body (between '&' and ';') into out. */
static enum fl_result add_entity(const char *e, size_t n, struct fl_buf *out)
{
	static const struct { const char *name; char c; } named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (strlen(named[i].name) == n && memcmp(e, named[i].name, n) == 0)
			return fl_buf_addc(out, named[i].c);
	if (n < 2 || e[0] != '#')
		return FL_INVALID;
	bool hexa = e[1] == 'x' || e[1] == 'X';
	size_t i = hexa ? 2 : 1;
	if (i == n || n - i > 8)
		return FL_INVALID;
	unsigned long cp = 0;
	for (; i < n; i++) {
		int d = isdigit((unsigned char)e[i]) ? e[i] - '0'
			: hexa && isxdigit((unsigned char)e[i]) ? tolower((unsigned char)e[i]) - 'a' + 10
			: -1;
		if (d < 0)
			return FL_INVALID;
		cp = cp * (hexa ? 16 : 10) + (unsigned long)d;
	}
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return FL_INVALID;
	return add_utf8(out, cp);
}

enum fl_result fl_s3_xml_unescape(const char *s, size_t n, struct fl_buf *out)
{
	size_t i = 0;
	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t plain = amp ? (size_t)(amp - s) - i : n - i;
		enum fl_result r = fl_buf_add(out, s + i, plain);
		if (r != FL_OK)
			return r;
		i += plain;
		if (i == n)
			break;
		const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
		if (!semi)
			return FL_INVALID;
		if ((r = add_entity(s + i + 1, (size_t)(semi - s) - i - 1, out)) != FL_OK)
			return r;
		i = (size_t)(semi - s) + 1;
	}
	return FL_OK;
}

struct xml {
	const char *start, *p, *end;
	char path[XML_PATH_MAX];
	size_t plen;
	size_t mark[XML_DEPTH];   /* plen before each open element */
	int depth;
	bool root_seen;
	struct fl_buf text;
	struct fl_error *err;
};

static enum fl_result xml_bad(struct xml *x, const char *what)
{
	return fl_error_set(x->err, FL_INVALID, "malformed XML at byte %zu: %s",
			    (size_t)(x->p - x->start), what);
}

static bool xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips past the terminator; false when there is none. */
static bool xml_skip_to(struct xml *x, const char *term)
{
	const char *t = memmem(x->p, (size_t)(x->end - x->p), term, strlen(term));
	if (!t)
		return false;
	x->p = t + strlen(term);
	return true;
}

/* The name at x->p: [*b, *e); its local part (after any prefix) starts at *local. */
static bool xml_name(struct xml *x, const char **b, const char **e, const char **local)
{
	*b = *local = x->p;
	while (x->p < x->end && !xml_space(*x->p) && !strchr("/>=<\"'", *x->p)) {
		if (*x->p == ':')
			*local = x->p + 1;
		x->p++;
	}
	*e = x->p;
	return *e > *local;
}

static enum fl_result xml_open(struct xml *x, int (*fn)(void *, const char *, const char *, size_t),
			       void *arg, bool *stop)
{
	const char *b, *e, *local;
	x->p++;
	if (!xml_name(x, &b, &e, &local))
		return xml_bad(x, "element without a name");
	if (x->depth == 0 && x->root_seen)
		return xml_bad(x, "a second root element");
	if (x->depth == XML_DEPTH)
		return xml_bad(x, "elements nested too deep");
	char quote = 0;
	while (x->p < x->end && (quote || *x->p != '>')) {
		if (quote && *x->p == quote)
			quote = 0;
		else if (!quote && (*x->p == '"' || *x->p == '\''))
			quote = *x->p;
		else if (!quote && *x->p == '<')
			return xml_bad(x, "'<' inside a tag");
		x->p++;
	}
	if (x->p == x->end)
		return xml_bad(x, "unterminated tag");
	bool empty = x->p[-1] == '/';
	x->p++;
	size_t ln = (size_t)(e - local), need = x->plen + (x->depth ? 1 : 0) + ln;
	if (need >= sizeof x->path)
		return xml_bad(x, "element path too long");
	x->mark[x->depth++] = x->plen;
	if (x->depth > 1)
		x->path[x->plen++] = '/';
	memcpy(x->path + x->plen, local, ln);
	x->plen += ln;
	x->path[x->plen] = '\0';
	x->root_seen = true;
	fl_buf_reset(&x->text);
	if (empty) {
		*stop = fn(arg, x->path, "", 0) != 0;
		x->plen = x->mark[--x->depth];
		x->path[x->plen] = '\0';
	}
	return FL_OK;
}

static enum fl_result xml_close(struct xml *x, int (*fn)(void *, const char *, const char *, size_t),
				void *arg, bool *stop)
{
	const char *b, *e, *local;
	x->p += 2;
	if (!xml_name(x, &b, &e, &local))
		return xml_bad(x, "end tag without a name");
	while (x->p < x->end && xml_space(*x->p))
		x->p++;
	if (x->p == x->end || *x->p != '>')
		return xml_bad(x, "unterminated end tag");
	x->p++;
	if (x->depth == 0)
		return xml_bad(x, "end tag without a start tag");
	size_t from = x->mark[x->depth - 1] + (x->depth > 1 ? 1 : 0), ln = (size_t)(e - local);
	if (x->plen - from != ln || memcmp(x->path + from, local, ln) != 0)
		return xml_bad(x, "end tag does not match its start tag");
	*stop = fn(arg, x->path, x->text.data ? x->text.data : "", x->text.len) != 0;
	fl_buf_reset(&x->text);
	x->plen = x->mark[--x->depth];
	x->path[x->plen] = '\0';
	return FL_OK;
}

enum fl_result fl_s3_xml_walk(const char *xml, size_t len,
			      int (*fn)(void *arg, const char *path, const char *text,
					size_t text_len),
			      void *arg, struct fl_error *err)
{
	struct xml *x = calloc(1, sizeof *x);
	enum fl_result r = FL_OK;
	bool stop = false;
	if (!x)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	x->start = x->p = xml;
	x->end = xml + len;
	x->err = err;
	fl_buf_init(&x->text, XML_TEXT_MAX);
	while (x->p < x->end && r == FL_OK && !stop) {
		size_t left = (size_t)(x->end - x->p);
		if (*x->p != '<') {
			const char *lt = memchr(x->p, '<', left);
			size_t n = lt ? (size_t)(lt - x->p) : left;
			if (x->depth == 0) {
				for (size_t i = 0; i < n; i++)
					if (!xml_space(x->p[i]))
						r = xml_bad(x, "text outside the root element");
			} else if ((r = fl_s3_xml_unescape(x->p, n, &x->text)) != FL_OK) {
				r = r == FL_INVALID ? xml_bad(x, "bad entity")
						    : xml_bad(x, "text too long");
			}
			x->p += n;
		} else if (left >= 2 && x->p[1] == '?') {
			if (!xml_skip_to(x, "?>"))
				r = xml_bad(x, "unterminated declaration");
		} else if (left >= 4 && memcmp(x->p, "<!--", 4) == 0) {
			if (!xml_skip_to(x, "-->"))
				r = xml_bad(x, "unterminated comment");
		} else if (left >= 9 && memcmp(x->p, "<![CDATA[", 9) == 0) {
			const char *b = x->p + 9;
			if (x->depth == 0)
				r = xml_bad(x, "CDATA outside the root element");
			else if (!xml_skip_to(x, "]]>"))
				r = xml_bad(x, "unterminated CDATA");
			else if (fl_buf_add(&x->text, b, (size_t)(x->p - 3 - b)) != FL_OK)
				r = xml_bad(x, "text too long");
		} else if (left >= 2 && x->p[1] == '!') {
			/* <!DOCTYPE ...> before the root, without an internal subset */
			const char *gt = memchr(x->p, '>', left);
			if (!gt)
				r = xml_bad(x, "unterminated declaration");
			else if (x->depth != 0 || x->root_seen ||
				 memchr(x->p, '[', (size_t)(gt - x->p)))
				r = xml_bad(x, "unexpected declaration");
			else
				x->p = gt + 1;
		} else if (left >= 2 && x->p[1] == '/') {
			r = xml_close(x, fn, arg, &stop);
		} else {
			r = xml_open(x, fn, arg, &stop);
		}
	}
	if (r == FL_OK && !stop && (x->depth != 0 || !x->root_seen))
		r = xml_bad(x, x->root_seen ? "unexpected end" : "no element");
	fl_buf_free(&x->text);
	free(x);
	return r;
}

struct find {
	const char *path;
	char *out;
	size_t n;
	bool found, too_long;
};

static int find_cb(void *arg, const char *path, const char *text, size_t len)
{
	struct find *f = arg;
	if (strcmp(path, f->path) != 0)
		return 0;
	f->found = true;
	if (len >= f->n) {
		f->too_long = true;
	} else {
		memcpy(f->out, text, len);
		f->out[len] = '\0';
	}
	return 1;
}

enum fl_result fl_s3_xml_find(const char *xml, size_t len, const char *path, char *out,
			      size_t n, struct fl_error *err)
{
	struct find f = { .path = path, .out = out, .n = n };
	enum fl_result r = fl_s3_xml_walk(xml, len, find_cb, &f, err);
	if (r != FL_OK)
		return r;
	if (f.too_long)
		return fl_error_set(err, FL_INVALID, "%s longer than %zu bytes", path, n - 1);
	if (!f.found)
		return fl_error_set(err, FL_NOT_FOUND, "no %s in the answer", path);
	return FL_OK;
}

struct error_doc {
	char *code, *msg;
	size_t code_n, msg_n;
	bool is_error;
};

static void copy_cut(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int error_cb(void *arg, const char *path, const char *text, size_t len)
{
	struct error_doc *d = arg;
	if (strncmp(path, "Error", 5) != 0 || (path[5] != '\0' && path[5] != '/'))
		return 1; /* another root: not an error document */
	d->is_error = true;
	if (strcmp(path, "Error/Code") == 0)
		copy_cut(d->code, d->code_n, text, len);
	else if (strcmp(path, "Error/Message") == 0)
		copy_cut(d->msg, d->msg_n, text, len);
	return 0;
}

bool fl_s3_parse_error(const char *xml, size_t len, char *code, size_t code_n,
		       char *message, size_t message_n)
{
	struct error_doc d = { code, message, code_n, message_n, false };
	code[0] = message[0] = '\0';
	struct fl_error ignored;
	(void)!fl_s3_xml_walk(xml, len, error_cb, &d, &ignored);
	return d.is_error;
}

/* ---- classification ---------------------------------------------------- */

static bool code_in(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(code, *list) == 0)
			return true;
	return false;
}

enum fl_result fl_s3_classify(int curl_code, const char *detail, long status,
			      const char *body, size_t len, const char *what,
			      struct fl_error *err)
{
	static const char *const retry_codes[] = {
		"RequestTimeout", "BadDigest", "XAmzContentSHA256Mismatch", "IncompleteBody",
		"InternalError", "SlowDown", "ServiceUnavailable", NULL,
	};
	static const char *const denied_codes[] = {
		"ExpiredToken", "InvalidToken", "TokenRefreshRequired",
		"AuthorizationHeaderMalformed", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"AccessDenied", "RequestTimeTooSkewed", NULL,
	};
	if (curl_code != CURLE_OK) {
		enum fl_result r;
		switch (curl_code) {
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_WEIRD_SERVER_REPLY:
			r = FL_RETRY;
			break;
		case CURLE_OUT_OF_MEMORY:
			r = FL_INTERNAL;
			break;
		default:
			r = FL_UNAVAILABLE;
			break;
		}
		return fl_error_set(err, r, "%s: %s (%s)",
				    curl_code == CURLE_OPERATION_TIMEDOUT ? "timeout"
				    : r == FL_RETRY ? "connection failed" : "request failed",
				    detail && *detail ? detail : curl_easy_strerror(curl_code), what);
	}
	char code[64], msg[400];
	bool is_error = len && fl_s3_parse_error(body, len, code, sizeof code, msg, sizeof msg);
	if (status / 100 == 2 && !is_error)
		return FL_OK;
	if (!is_error)
		code[0] = msg[0] = '\0';
	enum fl_result r;
	if (status / 100 == 2) /* an error inside a 200 (CompleteMultipartUpload) */
		r = code[0] && code_in(code, denied_codes) ? FL_FORBIDDEN : FL_RETRY;
	else if (status == 403)
		r = FL_FORBIDDEN;
	else if (status == 404)
		r = FL_NOT_FOUND;
	else if (status >= 500 || status == 408 || status == 429 || code_in(code, retry_codes))
		r = FL_RETRY;
	else if (code_in(code, denied_codes))
		r = FL_FORBIDDEN;
	else
		r = FL_UNAVAILABLE;
	if (code[0])
		return fl_error_set(err, r, "%s: %s (%s)", code, msg[0] ? msg : "no message", what);
	const char *reason = status == 403 ? " Forbidden" : status == 404 ? " Not Found" : "";
	return fl_error_set(err, r, "HTTP %ld%s (%s)", status, reason, what);
}

/* ---- the client and its per-thread handles ---------------------------- */

struct handle {
	CURL *curl;
	struct fl_s3 *owner;
	struct handle *prev, *next;
};

struct fl_s3 {
	struct fl_s3_endpoint ep;
	struct fl_awscred cred;
	pthread_key_t key;
	pthread_mutex_t lock;      /* guards handles */
	struct handle *handles;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Thread exit: the thread's handle leaves the list and is cleaned up. */
static void handle_drop(void *p)
{
	struct handle *h = p;
	struct fl_s3 *c = h->owner;
	pthread_mutex_lock(&c->lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		c->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&c->lock);
	curl_easy_cleanup(h->curl);
	free(h);
}

static CURL *thread_curl(struct fl_s3 *c)
{
	struct handle *h = pthread_getspecific(c->key);
	if (h)
		return h->curl;
	if (!(h = calloc(1, sizeof *h)))
		return NULL;
	if (!(h->curl = curl_easy_init()) || pthread_setspecific(c->key, h) != 0) {
		if (h->curl)
			curl_easy_cleanup(h->curl);
		free(h);
		return NULL;
	}
	h->owner = c;
	pthread_mutex_lock(&c->lock);
	h->next = c->handles;
	if (c->handles)
		c->handles->prev = h;
	c->handles = h;
	pthread_mutex_unlock(&c->lock);
	return h->curl;
}

enum fl_result fl_s3_new(const struct fl_s3_endpoint *ep, const struct fl_awscred *cred,
			 struct fl_s3 **out, struct fl_error *err)
{
	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return fl_error_set(err, FL_INTERNAL, "libcurl: %s", curl_easy_strerror(global_rc));
	struct fl_s3 *c = calloc(1, sizeof *c);
	if (!c)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	if (pthread_key_create(&c->key, handle_drop) != 0) {
		free(c);
		return fl_error_set(err, FL_INTERNAL, "no pthread key for the S3 client");
	}
	pthread_mutex_init(&c->lock, NULL);
	c->ep = *ep;
	c->cred = *cred;
	*out = c;
	return FL_OK;
}

void fl_s3_free(struct fl_s3 *c)
{
	if (!c)
		return;
	/* No destructor runs once the key is gone: clean up every handle here. */
	pthread_key_delete(c->key);
	for (struct handle *h = c->handles, *next; h; h = next) {
		next = h->next;
		curl_easy_cleanup(h->curl);
		free(h);
	}
	pthread_mutex_destroy(&c->lock);
	explicit_bzero(&c->cred, sizeof c->cred);
	free(c);
}

/* ---- signing ----------------------------------------------------------- */

enum fl_result fl_s3_sign(const struct fl_s3 *c, const struct fl_s3_request *req,
			  const struct fl_s3_target *t, const char *payload_hash,
			  const char *md5_b64, long long unix_s, struct fl_buf *out,
			  struct fl_error *err)
{
	struct fl_sigv4_scope scope;
	struct fl_sigv4_header h[6];
	char range[64];
	size_t n = 0;
	enum fl_result r = FL_OK;
	memset(&scope, 0, sizeof scope);
	fl_sigv4_scope_time(&scope, unix_s);
	snprintf(scope.region, sizeof scope.region, "%s", c->ep.region);
	snprintf(scope.service, sizeof scope.service, "s3");
	h[n++] = (struct fl_sigv4_header){ "host", t->host };
	if (md5_b64)
		h[n++] = (struct fl_sigv4_header){ "content-md5", md5_b64 };
	if (req->range) {
		snprintf(range, sizeof range, "bytes=%" PRIu64 "-%" PRIu64, req->range_offset,
			 req->range_offset + req->range_len - 1);
		h[n++] = (struct fl_sigv4_header){ "range", range };
	}
	h[n++] = (struct fl_sigv4_header){ "x-amz-content-sha256", payload_hash };
	h[n++] = (struct fl_sigv4_header){ "x-amz-date", scope.amz_date };
	if (c->cred.token[0])
		h[n++] = (struct fl_sigv4_header){ "x-amz-security-token", c->cred.token };
	const struct fl_sigv4_request sr = {
		.method = req->method, .path = t->path, .query = req->query,
		.headers = h, .n_headers = n, .payload_hash = payload_hash, .s3 = true,
	};
	for (size_t i = 0; i < n && r == FL_OK; i++)
		r = fl_buf_printf(out, "%s: %s\n", h[i].name, h[i].value);
	if (r == FL_OK)
		r = fl_buf_adds(out, "Authorization: ");
	if (r != FL_OK)
		return fl_error_set(err, r, "S3 request headers too long");
	if ((r = fl_sigv4_sign(&sr, &scope, c->cred.key_id, c->cred.secret, out, err)) != FL_OK)
		return r;
	if ((r = fl_buf_addc(out, '\n')) != FL_OK)
		return fl_error_set(err, r, "S3 request headers too long");
	return FL_OK;
}

/* ---- one request ------------------------------------------------------- */

struct call {
	const struct fl_s3_request *req;
	struct fl_s3_response *resp;
	CURL *curl;
	size_t sent;              /* bytes of the body read by curl */
	size_t out_start;         /* req->out->len before the request */
	bool too_large, no_memory;
	bool etag_opaque;         /* SSE-KMS or SSE-C: the ETag is not an MD5 */
	struct fl_buf errbody;    /* the body of any answer but 2xx */
	char detail[CURL_ERROR_SIZE];
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct call *k = arg;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status / 100 != 2) {
		if (k->errbody.len < k->errbody.max)
			(void)!fl_buf_add(&k->errbody, p,
					  n < k->errbody.max - k->errbody.len
					  ? n : k->errbody.max - k->errbody.len);
		return n;
	}
	struct fl_buf *b = k->req->out ? k->req->out : &k->resp->body;
	enum fl_result r = fl_buf_add(b, p, n);
	if (r == FL_TOO_LARGE)
		k->too_large = true;
	else if (r != FL_OK)
		k->no_memory = true;
	return r == FL_OK ? n : 0;
}

static bool header_is(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);
	return n > k && p[k] == ':' && strncasecmp(p, name, k) == 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct call *k = arg;
	struct fl_s3_response *resp = k->resp;
	size_t n = size * nmemb;
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new answer (after 100 Continue) */
		resp->etag[0] = '\0';
		resp->has_length = false;
		resp->mtime_ms = -1;
		k->etag_opaque = false;
		return n;
	}
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return n;
	const char *v = colon + 1, *e = p + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	char value[256];
	copy_cut(value, sizeof value, v, (size_t)(e - v));
	if (header_is(p, n, "etag")) {
		copy_cut(resp->etag, sizeof resp->etag, v, (size_t)(e - v));
	} else if (header_is(p, n, "content-length") && all_digits(value, strlen(value))) {
		resp->length = strtoull(value, NULL, 10);
		resp->has_length = true;
	} else if (header_is(p, n, "last-modified")) {
		time_t t = curl_getdate(value, NULL);
		if (t != (time_t)-1)
			resp->mtime_ms = (int64_t)t * 1000;
	} else if (header_is(p, n, "x-amz-server-side-encryption")) {
		k->etag_opaque |= strncmp(value, "aws:kms", 7) == 0;
	} else if (header_is(p, n, "x-amz-server-side-encryption-customer-algorithm")) {
		k->etag_opaque = true;
	}
	return n;
}

static size_t on_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct call *k = arg;
	size_t n = size * nmemb, left = k->req->body_len - k->sent;
	if (n > left)
		n = left;
	if (n)
		memcpy(dst, (const char *)k->req->body + k->sent, n);
	k->sent += n;
	return n;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct call *k = arg;
	if (origin != SEEK_SET || offset < 0 || (size_t)offset > k->req->body_len)
		return CURL_SEEKFUNC_FAIL;
	k->sent = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static void md5_of(const void *data, size_t len, unsigned char md[16])
{
	unsigned int n = 16;
	EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
}

static void hex_of(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Whether the ETag (quotes optional) is the MD5 whose hex is md5_hex. */
static bool etag_is(const char *etag, const char *md5_hex)
{
	size_t n = strlen(etag);
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
		etag++;
		n -= 2;
	}
	return n == 32 && strncasecmp(etag, md5_hex, 32) == 0;
}

static bool etag_plain_md5(const char *etag)
{
	size_t n = strlen(etag);
	if (n == 34 && etag[0] == '"' && etag[33] == '"') {
		etag++;
		n = 32;
	}
	if (n != 32)
		return false;
	for (size_t i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)etag[i]))
			return false;
	return true;
}

static long timeout_ms(const struct fl_s3_request *req)
{
	uint64_t bytes = req->range ? req->range_len : req->body_len;
	if (req->slow || (req->out && !req->range))
		return LONG_TIMEOUT_MS;
	uint64_t ms = (uint64_t)BASE_TIMEOUT_MS + bytes / (BYTES_PER_S / 1000);
	return ms > (uint64_t)LONG_TIMEOUT_MS ? LONG_TIMEOUT_MS : (long)ms;
}

/* Appends the lines of text ("Name: value\n" ...) to a curl list. */
static struct curl_slist *header_list(char *text)
{
	struct curl_slist *list = NULL;
	for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		if ((nl = strchr(line, '\n')))
			*nl = '\0';
		struct curl_slist *l = curl_slist_append(list, line);
		if (!l) {
			curl_slist_free_all(list);
			return NULL;
		}
		list = l;
	}
	return list;
}

struct digests {
	char sha256[65];
	char md5_hex[33];
	char md5_b64[32];
};

static enum fl_result attempt(struct fl_s3 *c, struct call *k, const struct fl_s3_target *t,
			      const struct digests *d, const char *what, int *curl_code,
			      struct fl_error *err)
{
	const struct fl_s3_request *req = k->req;
	struct fl_buf lines;
	struct curl_slist *hdrs = NULL;
	enum fl_result r;
	CURL *h = k->curl;
	fl_buf_init(&lines, 16384);
	*curl_code = CURLE_OK;
	if ((r = fl_s3_sign(c, req, t, d->sha256, req->content_md5 ? d->md5_b64 : NULL,
			    (long long)time(NULL), &lines, err)) != FL_OK)
		goto out;
	if ((r = fl_buf_adds(&lines, "Expect:\n")) != FL_OK ||
	    (strcmp(req->method, "POST") == 0 &&
	     (r = fl_buf_adds(&lines, "Content-Type: application/xml\n")) != FL_OK) ||
	    !(hdrs = header_list(lines.data))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	curl_easy_reset(h);
	k->detail[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, t->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "firelake");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, k->detail);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms(req));
	if (!req->slow) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_S);
	}
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, k);
	if (strcmp(req->method, "PUT") == 0) {
		k->sent = 0;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, k);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, k);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	}
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &k->resp->status);
	*curl_code = (int)cc;
	if (k->too_large) {
		r = fl_error_set(err, FL_TOO_LARGE, "object is larger than the buffer allows (%s)",
				 what);
		goto out;
	}
	if (k->no_memory) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory (%s)", what);
		goto out;
	}
	const struct fl_buf *body = k->resp->status / 100 == 2
		? (req->out ? NULL : &k->resp->body) : &k->errbody;
	if ((r = fl_s3_classify((int)cc, k->detail, k->resp->status, body ? body->data : NULL,
				body ? body->len : 0, what, err)) != FL_OK)
		goto out;
	if (req->content_md5 && !k->etag_opaque && !etag_is(k->resp->etag, d->md5_hex)) {
		r = fl_error_set(err, FL_RETRY, "ETag %.40s is not the MD5 %s of what was sent: "
				 "damaged in transit (%s)", k->resp->etag, d->md5_hex, what);
		goto out;
	}
	if (req->verify_etag && req->out && !req->range && !k->etag_opaque &&
	    etag_plain_md5(k->resp->etag)) {
		unsigned char md[16];
		char hex[33];
		md5_of(req->out->data + k->out_start, req->out->len - k->out_start, md);
		hex_of(md, 16, hex);
		if (!etag_is(k->resp->etag, hex))
			r = fl_error_set(err, FL_RETRY, "object's MD5 %s is not its ETag %.40s: "
					 "damaged in transit (%s)", hex, k->resp->etag, what);
	}
out:
	curl_slist_free_all(hdrs);
	fl_buf_free(&lines);
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

enum fl_result fl_s3_request(struct fl_s3 *c, const struct fl_s3_request *req,
			     struct fl_s3_response *resp, struct fl_error *err)
{
	struct fl_s3_target *t = NULL;
	struct call k = { .req = req, .resp = resp };
	struct digests d;
	char what[1200];
	enum fl_result r;
	memset(resp, 0, sizeof *resp);
	resp->mtime_ms = -1;
	fl_buf_init(&resp->body, FL_S3_ANSWER_MAX);
	fl_buf_init(&k.errbody, ERROR_BODY_MAX);
	k.out_start = req->out ? req->out->len : 0;
	snprintf(what, sizeof what, "%s s3://%s/%s", req->method, req->bucket,
		 req->key ? req->key : "");
	if (!(t = malloc(sizeof *t))) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_s3_target(&c->ep, req->bucket, req->key, req->query, t, err)) != FL_OK)
		goto out;
	if (!(k.curl = thread_curl(c))) {
		r = fl_error_set(err, FL_INTERNAL, "cannot create a curl handle");
		goto out;
	}
	unsigned char md[16];
	fl_sigv4_sha256_hex(req->body ? req->body : "", req->body_len, d.sha256);
	md5_of(req->body ? req->body : "", req->body_len, md);
	hex_of(md, 16, d.md5_hex);
	EVP_EncodeBlock((unsigned char *)d.md5_b64, md, 16);
	for (int i = 0;; i++) {
		int cc;
		k.too_large = k.no_memory = k.etag_opaque = false;
		fl_buf_reset(&k.errbody);
		fl_buf_reset(&resp->body);
		if (req->out && req->out->data) {
			req->out->len = k.out_start;
			req->out->data[k.out_start] = '\0';
		}
		r = attempt(c, &k, t, &d, what, &cc, err);
		if (r != FL_RETRY || !req->retry || i + 1 == ATTEMPTS ||
		    cc == CURLE_OPERATION_TIMEDOUT)
			break;
		uint32_t jitter = 0;
		(void)!getrandom(&jitter, sizeof jitter, 0);
		fl_debug("s3: %s; trying again", err->msg);
		sleep_ms(100L * (1L << (2 * i)) + (long)(jitter % 100));
	}
out:
	if (r != FL_OK && req->out && req->out->data) {
		req->out->len = k.out_start;
		req->out->data[k.out_start] = '\0';
	}
	fl_buf_free(&k.errbody);
	free(t);
	return r;
}

void fl_s3_response_free(struct fl_s3_response *resp)
{
	if (resp)
		fl_buf_free(&resp->body);
}
