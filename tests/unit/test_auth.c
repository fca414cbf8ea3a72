/*
 * auth.c: SigV4 verification of incoming requests, table-driven.
 *
 * The signed requests below were made by botocore (SigV4Auth, and
 * SigV4QueryAuth with the body left in place), not by firelake's signer,
 * at a pinned clock: 2015-08-30T12:36:00Z.  Each case changes one thing
 * about a good request and names the AWS answer it must get, the message,
 * and the one counter it must move.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define T0 1440938160LL /* 20150830T123600Z */
#define KEY_ID "AKIDFIRELAKETEST0001"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define KEYS "AKIDSOMEONEELSE00001:n0tTh1s0ne," KEY_ID ":" SECRET
#define BODY "{\"DeliveryStreamName\":\"events\",\"Record\":{\"Data\":\"aGVsbG8=\"}}"
#define TARGET "Firehose_20150804.PutRecord"
#define HOST "127.0.0.1:4599"
#define DATE "20150830T123600Z"
#define AUTHZ_OK                                                                          \
	"AWS4-HMAC-SHA256 Credential=" KEY_ID "/20150830/us-east-1/firehose/aws4_request, " \
	"SignedHeaders=content-type;host;x-amz-date;x-amz-target, "                        \
	"Signature=6bcb1474b5554b9ca898e603acad4ef7d17858307f537c1e47cbb4b99c35d5bf"
#define QUERY_OK                                                                           \
	"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" KEY_ID                          \
	"%2F20150830%2Fus-east-1%2Ffirehose%2Faws4_request&X-Amz-Date=20150830T123600Z"     \
	"&X-Amz-Expires=300&X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-target"          \
	"&X-Amz-Signature=44ef576a98d885e56c5f51243d3d9ec4cb73f7272e3dc125870fded1fda0f871"
/* GET /metrics signed for athena in eu-west-1. */
#define AUTHZ_METRICS                                                                      \
	"AWS4-HMAC-SHA256 Credential=" KEY_ID "/20150830/eu-west-1/athena/aws4_request, "  \
	"SignedHeaders=host;x-amz-date, "                                                   \
	"Signature=f438ef8f5528d250b0616d498b9f7498834ae4b023f6b78fae0acdd04b16b69e"
#define BAD_SIGNATURE                                                                      \
	"The request signature we calculated does not match the signature you provided. "  \
	"Check your AWS Secret Access Key and signing method. Consult the service "         \
	"documentation for details."

enum counter { C_OK, C_MISSING, C_INCOMPLETE, C_UNKNOWN, C_BAD };

struct tcase {
	const char *name;
	const char *keys;        /* NULL: KEYS */
	const char *method;      /* NULL: POST */
	const char *path;        /* NULL: "/" */
	const char *query;       /* NULL: none */
	const char *authz;       /* NULL: AUTHZ_OK; "": no Authorization header */
	const char *date;        /* NULL: DATE; "": no X-Amz-Date header */
	const char *body;        /* NULL: BODY */
	const char *target;      /* NULL: TARGET; "": no X-Amz-Target header */
	const char *sha256;      /* x-amz-content-sha256 sent; NULL: none */
	const char *service;     /* the service the request is for */
	long long skew_s;        /* now - T0 */
	enum fl_result code;
	const char *type;        /* expected error type ("" for the code's own) */
	const char *msg;         /* expected message (prefix) */
	enum counter counter;
};

#define BODY_SHA256 "a0dc0bf48914100dc79f406dc3489c3041058c3cff1c5a553f75d4153ff9ecbf"

static const struct tcase cases[] = {
	{ "header form, right key", .service = "firehose", .code = FL_OK, .counter = C_OK },
	{ "the key found after another", .keys = "AKIDSOMEONEELSE00001:x," KEY_ID ":" SECRET,
	  .service = "firehose", .code = FL_OK, .counter = C_OK },
	{ "any service accepts firehose", .service = NULL, .code = FL_OK, .counter = C_OK },
	{ "14 minutes late", .service = "firehose", .skew_s = 14 * 60, .code = FL_OK,
	  .counter = C_OK },
	{ "14 minutes early", .service = "firehose", .skew_s = -14 * 60, .code = FL_OK,
	  .counter = C_OK },
	{ "x-amz-content-sha256 right (unsigned)", .service = "firehose",
	  .sha256 = BODY_SHA256, .code = FL_OK, .counter = C_OK },
	{ "query form", .query = QUERY_OK, .authz = "", .date = "", .service = "firehose",
	  .skew_s = 60, .code = FL_OK, .counter = C_OK },
	{ "GET /metrics for any service", .method = "GET", .path = "/metrics",
	  .authz = AUTHZ_METRICS, .body = "", .target = "", .service = NULL,
	  .code = FL_OK, .counter = C_OK },

	{ "wrong secret", .keys = KEY_ID ":not-the-secret", .service = "firehose",
	  .code = FL_DENIED, .type = "InvalidSignatureException", .msg = BAD_SIGNATURE,
	  .counter = C_BAD },
	{ "unknown key", .keys = "AKIDSOMEONEELSE00001:" SECRET, .service = "firehose",
	  .code = FL_DENIED, .type = "",
	  .msg = "The security token included in the request is invalid.",
	  .counter = C_UNKNOWN },
	{ "tampered body", .body = "{\"DeliveryStreamName\":\"other\",\"Record\":{\"Data\":\"aGVsbG8=\"}}",
	  .service = "firehose", .code = FL_DENIED, .type = "InvalidSignatureException",
	  .msg = BAD_SIGNATURE, .counter = C_BAD },
	{ "tampered signed header", .target = "Firehose_20150804.DeleteDeliveryStream",
	  .service = "firehose", .code = FL_DENIED, .type = "InvalidSignatureException",
	  .msg = BAD_SIGNATURE, .counter = C_BAD },
	{ "tampered path", .path = "/x", .service = "firehose", .code = FL_DENIED,
	  .type = "InvalidSignatureException", .msg = BAD_SIGNATURE, .counter = C_BAD },
	{ "tampered query", .query = "a=1", .service = "firehose", .code = FL_DENIED,
	  .type = "InvalidSignatureException", .msg = BAD_SIGNATURE, .counter = C_BAD },
	{ "x-amz-content-sha256 wrong", .service = "firehose", .sha256 = FL_SIGV4_EMPTY_SHA256,
	  .code = FL_DENIED, .type = "InvalidSignatureException",
	  .msg = "The provided 'x-amz-content-sha256' header does not match what was computed.",
	  .counter = C_BAD },
	{ "expired", .service = "firehose", .skew_s = 16 * 60, .code = FL_DENIED,
	  .type = "InvalidSignatureException",
	  .msg = "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z "
		 "(20150830T125200Z - 15 min.)",
	  .counter = C_BAD },
	{ "not yet current", .service = "firehose", .skew_s = -16 * 60, .code = FL_DENIED,
	  .type = "InvalidSignatureException",
	  .msg = "Signature not yet current: 20150830T123600Z is still later than "
		 "20150830T123500Z (20150830T122000Z + 15 min.)",
	  .counter = C_BAD },
	{ "wrong service", .service = "glue", .code = FL_DENIED,
	  .type = "InvalidSignatureException",
	  .msg = "Credential should be scoped to correct service: 'glue'. ", .counter = C_BAD },
	{ "metrics signature used for firehose", .method = "GET", .path = "/metrics",
	  .authz = AUTHZ_METRICS, .body = "", .target = "", .service = "firehose",
	  .code = FL_DENIED, .type = "InvalidSignatureException",
	  .msg = "Credential should be scoped to correct service: 'firehose'. ",
	  .counter = C_BAD },
	{ "query form past X-Amz-Expires", .query = QUERY_OK, .authz = "", .date = "",
	  .service = "firehose", .skew_s = 6 * 60, .code = FL_DENIED,
	  .type = "InvalidSignatureException",
	  .msg = "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z "
		 "(20150830T124200Z - 300 sec.)",
	  .counter = C_BAD },
	{ "query form, tampered body", .query = QUERY_OK, .authz = "", .date = "",
	  .body = "{}", .service = "firehose", .code = FL_DENIED,
	  .type = "InvalidSignatureException", .msg = BAD_SIGNATURE, .counter = C_BAD },

	{ "unsigned", .authz = "", .service = "firehose", .code = FL_FORBIDDEN, .type = "",
	  .msg = "Missing Authentication Token", .counter = C_MISSING },
	{ "unsigned with a query", .authz = "", .query = "Action=x", .service = "firehose",
	  .code = FL_FORBIDDEN, .type = "", .msg = "Missing Authentication Token",
	  .counter = C_MISSING },
	{ "no Signature part",
	  .authz = "AWS4-HMAC-SHA256 Credential=" KEY_ID "/20150830/us-east-1/firehose/aws4_request, "
		   "SignedHeaders=content-type;host;x-amz-date;x-amz-target",
	  .service = "firehose", .code = FL_DENIED, .type = "IncompleteSignatureException",
	  .msg = "", .counter = C_INCOMPLETE },
	{ "no date header", .date = "", .service = "firehose", .code = FL_DENIED,
	  .type = "IncompleteSignatureException",
	  .msg = "Authorization header requires existence of either a 'X-Amz-Date' or a "
		 "'Date' header.",
	  .counter = C_INCOMPLETE },
	{ "host not signed",
	  .authz = "AWS4-HMAC-SHA256 Credential=" KEY_ID "/20150830/us-east-1/firehose/aws4_request, "
		   "SignedHeaders=content-type;x-amz-date;x-amz-target, "
		   "Signature=6bcb1474b5554b9ca898e603acad4ef7d17858307f537c1e47cbb4b99c35d5bf",
	  .service = "firehose", .code = FL_DENIED, .type = "InvalidSignatureException",
	  .msg = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
	  .counter = C_BAD },
	{ "both forms at once", .query = QUERY_OK, .service = "firehose", .code = FL_DENIED,
	  .type = "IncompleteSignatureException", .msg = "Only one auth mechanism allowed",
	  .counter = C_INCOMPLETE },
};

static uint64_t counter_value(const struct fl_auth_counters *c, enum counter which)
{
	switch (which) {
	case C_OK: return atomic_load(&c->ok);
	case C_MISSING: return atomic_load(&c->missing);
	case C_INCOMPLETE: return atomic_load(&c->incomplete);
	case C_UNKNOWN: return atomic_load(&c->unknown_key);
	case C_BAD: return atomic_load(&c->bad_signature);
	}
	return 0;
}

static void run_case(const struct tcase *t)
{
	struct fl_auth *a = NULL;
	struct fl_error err = { 0 };
	struct fl_sigv4_header h[8];
	size_t n = 0;
	uint64_t before[5];

	print_message("case: %s\n", t->name);
	assert_int_equal(fl_auth_new(t->keys ? t->keys : KEYS, &a, &err), FL_OK);
	assert_true(fl_auth_enabled(a));
	const char *body = t->body ? t->body : BODY;
	const char *target = t->target ? t->target : TARGET;
	const char *authz = t->authz ? t->authz : AUTHZ_OK;
	const char *date = t->date ? t->date : DATE;
	if (*body)
		h[n++] = (struct fl_sigv4_header){ "Content-Type", "application/x-amz-json-1.1" };
	h[n++] = (struct fl_sigv4_header){ "Host", HOST };
	h[n++] = (struct fl_sigv4_header){ "User-Agent", "Boto3/1.34 (not signed)" };
	if (*date)
		h[n++] = (struct fl_sigv4_header){ "X-Amz-Date", date };
	if (*target)
		h[n++] = (struct fl_sigv4_header){ "X-Amz-Target", target };
	if (*authz)
		h[n++] = (struct fl_sigv4_header){ "Authorization", authz };
	if (t->sha256)
		h[n++] = (struct fl_sigv4_header){ "X-Amz-Content-SHA256", t->sha256 };
	const struct fl_auth_request req = {
		.method = t->method ? t->method : "POST",
		.path = t->path ? t->path : "/",
		.query = t->query,
		.headers = h,
		.n_headers = n,
		.body = body,
		.body_len = strlen(body),
		.service = t->service,
		.now_s = T0 + t->skew_s,
	};
	for (int i = 0; i < 5; i++)
		before[i] = counter_value(fl_auth_counters(a), (enum counter)i);

	enum fl_result r = fl_auth_check(a, &req, &err);
	if (r != t->code)
		print_error("%s: got %d (%s %s), want %d\n", t->name, r, err.type, err.msg, t->code);
	assert_int_equal(r, t->code);
	if (t->code != FL_OK) {
		assert_int_equal(err.code, t->code);
		assert_string_equal(err.type, t->type);
		if (strncmp(err.msg, t->msg, strlen(t->msg)) != 0)
			print_error("%s: message '%s'\n", t->name, err.msg);
		assert_true(strncmp(err.msg, t->msg, strlen(t->msg)) == 0);
		assert_non_null(err.msg[0] ? err.msg : NULL);
		/* never a secret in an error */
		assert_null(strstr(err.msg, SECRET));
		assert_null(strstr(err.msg, "n0tTh1s0ne"));
		assert_null(strstr(err.msg, "not-the-secret"));
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(counter_value(fl_auth_counters(a), (enum counter)i),
				 before[i] + (i == (int)t->counter));
	fl_auth_free(a);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
}

/* Without keys every request passes, signed or not, and nothing is counted. */
static void test_no_keys(void **state)
{
	(void)state;
	struct fl_auth *a = NULL;
	struct fl_error err = { 0 };
	const struct fl_sigv4_header h[] = { { "Host", HOST } };
	const struct fl_auth_request req = { .method = "POST", .path = "/", .headers = h,
					     .n_headers = 1, .body = "", .service = "firehose",
					     .now_s = T0 };
	assert_int_equal(fl_auth_new("", &a, &err), FL_OK);
	assert_false(fl_auth_enabled(a));
	assert_int_equal(fl_auth_check(a, &req, &err), FL_OK);
	assert_int_equal(atomic_load(&fl_auth_counters(a)->missing), 0);
	assert_int_equal(atomic_load(&fl_auth_counters(a)->ok), 0);
	fl_auth_free(a);
	assert_int_equal(fl_auth_new(NULL, &a, &err), FL_OK);
	assert_false(fl_auth_enabled(a));
	fl_auth_free(a);
	fl_auth_free(NULL);
}

static const struct {
	const char *keys;
	enum fl_result r;
	const char *msg;
} key_lists[] = {
	{ KEY_ID ":" SECRET, FL_OK, NULL },
	{ KEYS, FL_OK, NULL },
	{ KEY_ID ":a:b", FL_OK, NULL },  /* a secret may hold ':' */
	{ KEY_ID, FL_INVALID, "access key 1: expected ID:SECRET" },
	{ KEY_ID ":", FL_INVALID, "access key 1: the ID must be 1..128 characters, the secret 1..128" },
	{ ":" SECRET, FL_INVALID, "access key 1: the ID must be" },
	{ KEY_ID ":" SECRET ",", FL_INVALID, "access key 2: expected ID:SECRET" },
	{ KEY_ID ":" SECRET ",AKIDX:sec ret", FL_INVALID, "access key 2: holds a blank" },
	{ KEY_ID ":" SECRET "," KEY_ID ":other", FL_INVALID,
	  "access key 2: the ID " KEY_ID " is given twice" },
};

static void test_key_lists(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof key_lists / sizeof key_lists[0]; i++) {
		struct fl_auth *a = (struct fl_auth *)&a; /* must be reset on failure */
		struct fl_error err = { 0 };
		enum fl_result r = fl_auth_new(key_lists[i].keys, &a, &err);
		assert_int_equal(r, key_lists[i].r);
		if (r == FL_OK) {
			assert_true(fl_auth_enabled(a));
		} else {
			assert_null(a);
			assert_true(strncmp(err.msg, key_lists[i].msg,
					    strlen(key_lists[i].msg)) == 0);
			assert_null(strstr(err.msg, SECRET));
			assert_null(strstr(err.msg, "sec ret"));
		}
		fl_auth_free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_no_keys),
		cmocka_unit_test(test_key_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
