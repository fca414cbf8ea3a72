/* Results to AWS error shapes: the one mapping, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "awserr.h"

static const struct {
	enum fl_service svc;
	enum fl_result r;
	const char *type;
	int status;
} cases[] = {
	{ FL_SVC_FIREHOSE, FL_VALIDATION, "ValidationException", 400 },
	{ FL_SVC_FIREHOSE, FL_INVALID, "InvalidArgumentException", 400 },
	{ FL_SVC_FIREHOSE, FL_TOO_LARGE, "InvalidArgumentException", 400 },
	{ FL_SVC_FIREHOSE, FL_MALFORMED, "SerializationException", 400 },
	{ FL_SVC_FIREHOSE, FL_NOT_FOUND, "ResourceNotFoundException", 400 },
	{ FL_SVC_FIREHOSE, FL_EXISTS, "ResourceInUseException", 400 },
	{ FL_SVC_FIREHOSE, FL_IN_USE, "ResourceInUseException", 400 },
	{ FL_SVC_FIREHOSE, FL_LIMIT, "LimitExceededException", 400 },
	{ FL_SVC_FIREHOSE, FL_CONFLICT, "ConcurrentModificationException", 400 },
	{ FL_SVC_FIREHOSE, FL_UNAVAILABLE, "ServiceUnavailableException", 503 },
	{ FL_SVC_FIREHOSE, FL_UNKNOWN_OP, "UnknownOperationException", 400 },
	{ FL_SVC_FIREHOSE, FL_IO, "InternalFailure", 500 },
	{ FL_SVC_FIREHOSE, FL_INTERNAL, "InternalFailure", 500 },
	{ FL_SVC_GLUE, FL_NOT_FOUND, "EntityNotFoundException", 400 },
	{ FL_SVC_GLUE, FL_EXISTS, "AlreadyExistsException", 400 },
	{ FL_SVC_GLUE, FL_INVALID, "InvalidInputException", 400 },
	{ FL_SVC_GLUE, FL_INTERNAL, "InternalServiceException", 500 },
	{ FL_SVC_ATHENA, FL_INVALID, "InvalidRequestException", 400 },
	{ FL_SVC_ATHENA, FL_LIMIT, "TooManyRequestsException", 400 },
	{ FL_SVC_ATHENA, FL_INTERNAL, "InternalServerException", 500 },
	{ FL_SVC_NONE, FL_UNKNOWN_OP, "UnknownOperationException", 400 },
};

static void test_map(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_awserr e = fl_awserr_map(cases[i].svc, cases[i].r);
		assert_string_equal(e.type, cases[i].type);
		assert_int_equal(e.status, cases[i].status);
	}
}

static void test_body(void **state)
{
	(void)state;
	struct fl_buf out;
	struct fl_error err;
	const char *type = NULL;
	fl_buf_init(&out, 4096);
	fl_error_set(&err, FL_NOT_FOUND, "Firehose \"x\"\n not found");
	assert_int_equal(fl_awserr_body(FL_SVC_FIREHOSE, &err, &out, &type), 400);
	assert_string_equal(type, "ResourceNotFoundException");
	assert_string_equal(out.data, "{\"__type\":\"ResourceNotFoundException\","
				      "\"message\":\"Firehose \\\"x\\\"\\u000a not found\"}");
	/* Glue and Athena name the member Message. */
	fl_error_set(&err, FL_INVALID, "bad");
	assert_int_equal(fl_awserr_body(FL_SVC_ATHENA, &err, &out, &type), 400);
	assert_string_equal(out.data, "{\"__type\":\"InvalidRequestException\",\"Message\":\"bad\","
				      "\"AthenaErrorCode\":\"INVALID_INPUT\"}");
	fl_error_set(&err, FL_INVALID, "bad");
	assert_int_equal(fl_awserr_body(FL_SVC_GLUE, &err, &out, &type), 400);
	assert_string_equal(out.data, "{\"__type\":\"InvalidInputException\",\"Message\":\"bad\"}");
	/* A service's own exception type keeps the mapped status. */
	fl_error_set_type(&err, FL_IN_USE, "CrawlerRunningException", "running");
	assert_int_equal(fl_awserr_body(FL_SVC_GLUE, &err, &out, &type), 400);
	assert_string_equal(type, "CrawlerRunningException");
	assert_string_equal(out.data, "{\"__type\":\"CrawlerRunningException\",\"Message\":\"running\"}");
	/* A message quoting client bytes is UTF-8 from the start: what is not
	 * (a stray continuation byte, a cut sequence, an overlong form, a
	 * surrogate) becomes U+FFFD, well-formed characters stay. */
#define FFFD "\xef\xbf\xbd"
	fl_error_set(&err, FL_INVALID, "a\x80" "b \xc3\xa9 \xe2\x82 \xc0\xaf \xed\xa0\x80 \xf0\x9f\x98\x80!\xf0");
	assert_string_equal(err.msg, "a" FFFD "b \xc3\xa9 " FFFD FFFD " " FFFD FFFD " " FFFD FFFD FFFD
			    " \xf0\x9f\x98\x80!" FFFD);
	assert_int_equal(fl_awserr_body(FL_SVC_GLUE, &err, &out, &type), 400);
	assert_string_equal(out.data, "{\"__type\":\"InvalidInputException\",\"Message\":"
				      "\"a" FFFD "b \xc3\xa9 " FFFD FFFD " " FFFD FFFD " " FFFD FFFD FFFD
				      " \xf0\x9f\x98\x80!" FFFD "\"}");
	/* A precision that cuts a character in two. */
	fl_error_set_type(&err, FL_INVALID, "X", "type '%.3s' for", "\xc3\xa9\xc3\xa9");
	assert_string_equal(err.msg, "type '\xc3\xa9" FFFD "' for");
	/* The buffer's end cutting one: shorter, and ending on a boundary. */
	char big[2 * FL_ERROR_MAX];
	for (size_t i = 0; i + 2 < sizeof big; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof big - 2] = '\0';
	fl_error_set(&err, FL_INVALID, "%s", big);   /* 1,023 bytes: the last is a lead byte */
	assert_int_equal(strlen(err.msg), FL_ERROR_MAX - 2);
	assert_memory_equal(err.msg + FL_ERROR_MAX - 4, "\xc3\xa9", 2);
#undef FFFD
	fl_buf_free(&out);
}

static void test_record_codes(void **state)
{
	(void)state;
	assert_string_equal(fl_awserr_record_code(FL_UNAVAILABLE), "ServiceUnavailableException");
	assert_string_equal(fl_awserr_record_code(FL_IO), "InternalFailure");
	assert_string_equal(fl_awserr_record_code(FL_INTERNAL), "InternalFailure");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_record_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
