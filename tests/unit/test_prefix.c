/*
 * test_prefix.c - Firehose prefix expressions, DateTimeFormatter patterns,
 * object names.  Time is pinned: T0 = 2026-01-01T00:13:11.250Z (Thursday).
 * The expected timestamp texts were checked against Java's own
 * DateTimeFormatter (Locale.US, UTC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "prefix.h"

#define T0 1767226391250LL              /* 2026-01-01T00:13:11.250Z Thu */
#define T_LEAP 1709211909007LL          /* 2024-02-29T13:05:09.007Z Thu */
#define T_EOY 1735689599999LL           /* 2024-12-31T23:59:59.999Z Tue */
#define T_MIN (-62135596800000LL)       /* 0001-01-01T00:00:00.000Z Mon */
#define T_MAX 253402300799999LL         /* 9999-12-31T23:59:59.999Z Fri */
#define T_1900 (-2203848000000LL)       /* 1900-03-01T12:00:00.000Z Thu */

/* ---- fl_datefmt ------------------------------------------------------- */

static const struct {
	const char *pattern;
	int64_t ts;
	const char *want;
} datefmt_cases[] = {
	{ "yyyy-MM-dd", T0, "2026-01-01" },
	{ "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", T0, "2026-01-01T00:13:11.250Z" },
	{ "yyyy/MM/dd/HH/", T0, "2026/01/01/00/" },
	{ "y", T0, "2026" },
	{ "yy", T0, "26" },
	{ "yyy", T0, "2026" },
	{ "yyyyy", T0, "02026" },
	{ "uuuu", T0, "2026" },
	{ "uu", T0, "26" },
	{ "YYYY", T0, "2026" },
	{ "M MM MMM MMMM MMMMM", T0, "1 01 Jan January J" },
	{ "L LL", T0, "1 01" },
	{ "d dd", T0, "1 01" },
	{ "H HH h hh K KK k kk", T0, "0 00 12 12 0 00 24 24" },
	{ "m mm s ss", T0, "13 13 11 11" },
	{ "S SS SSS SSSS SSSSSSSSS", T0, "2 25 250 2500 250000000" },
	{ "a", T0, "AM" },
	{ "E EE EEE EEEE EEEEE", T0, "Thu Thu Thu Thursday T" },
	{ "D DD DDD", T0, "1 01 001" },
	{ "''", T0, "'" },
	{ "'it''s' yyyy", T0, "it's 2026" },
	{ "'o''clock'''", T0, "o'clock'" },
	{ "'yyyy'", T0, "yyyy" },
	{ "[yyyy][-MM]", T0, "2026-01" },
	{ "yyyy[-MM[-dd", T0, "2026-01-01" },
	{ "yyyy\xe5\xb9\xb4MM\xe6\x9c\x88", T0, "2026\xe5\xb9\xb4" "01\xe6\x9c\x88" },
	{ "HH:mm 'h' a", T_LEAP, "13:05 h PM" },
	{ "h K k", T_LEAP, "1 1 13" },
	{ "yyyy-MM-dd D EEEE MMMM", T_LEAP, "2024-02-29 60 Thursday February" },
	{ "S SS SSS", T_LEAP, "0 00 007" },
	{ "yyyy-MM-dd HH:mm:ss.SSS D EEE", T_EOY, "2024-12-31 23:59:59.999 366 Tue" },
	{ "yyyy-MM-dd HH:mm:ss.SSS EEE", -1, "1969-12-31 23:59:59.999 Wed" },
	{ "yyyy-MM-dd HH:mm:ss.SSS EEE", 0, "1970-01-01 00:00:00.000 Thu" },
	{ "yyyy-MM-dd D EEE y yy", T_MIN, "0001-01-01 1 Mon 1 01" },
	{ "yyyy-MM-dd D EEE", T_MAX, "9999-12-31 365 Fri" },
	{ "yyyy-MM-dd D", T_1900, "1900-03-01 60" },
	{ "", T0, "" },
	{ "-_/.,: ", T0, "-_/.,: " },
};

static void test_datefmt(void **state)
{
	for (size_t i = 0; i < sizeof datefmt_cases / sizeof *datefmt_cases; i++) {
		struct fl_buf out;
		struct fl_error err = { 0 };
		fl_buf_init(&out, 4096);
		assert_int_equal(fl_buf_adds(&out, ">"), FL_OK);
		enum fl_result r = fl_datefmt(datefmt_cases[i].pattern,
					      strlen(datefmt_cases[i].pattern),
					      datefmt_cases[i].ts, &out, &err);
		if (r != FL_OK)
			print_error("case %zu: %s\n", i, err.msg);
		assert_int_equal(r, FL_OK);
		assert_string_equal(out.data + 1, datefmt_cases[i].want);
		assert_int_equal(out.len, strlen(datefmt_cases[i].want) + 1);
		fl_buf_free(&out);
	}
}

static const struct {
	const char *pattern;
	const char *msg;
} datefmt_bad[] = {
	{ "yyyy-qq", "invalid DateTimeFormatter pattern 'yyyy-qq': unsupported pattern letter 'q'" },
	{ "ddd", "invalid DateTimeFormatter pattern 'ddd': too many pattern letters: d" },
	{ "HHH", "invalid DateTimeFormatter pattern 'HHH': too many pattern letters: H" },
	{ "aa", "invalid DateTimeFormatter pattern 'aa': too many pattern letters: a" },
	{ "MMMMMM", "invalid DateTimeFormatter pattern 'MMMMMM': too many pattern letters: M" },
	{ "EEEEEE", "invalid DateTimeFormatter pattern 'EEEEEE': too many pattern letters: E" },
	{ "DDDD", "invalid DateTimeFormatter pattern 'DDDD': too many pattern letters: D" },
	{ "SSSSSSSSSS", "invalid DateTimeFormatter pattern 'SSSSSSSSSS': too many pattern letters: S" },
	{ "'abc", "invalid DateTimeFormatter pattern ''abc': pattern ends with an incomplete string literal" },
	{ "yyyy{", "invalid DateTimeFormatter pattern 'yyyy{': pattern includes reserved character '{'" },
	{ "#", "invalid DateTimeFormatter pattern '#': pattern includes reserved character '#'" },
	{ "yyyy]", "invalid DateTimeFormatter pattern 'yyyy]': pattern contains ] without previous [" },
	{ "G", "invalid DateTimeFormatter pattern 'G': unsupported pattern letter 'G'" },
	{ "z", "invalid DateTimeFormatter pattern 'z': unsupported pattern letter 'z'" },
};

static void test_datefmt_errors(void **state)
{
	for (size_t i = 0; i < sizeof datefmt_bad / sizeof *datefmt_bad; i++) {
		struct fl_buf out;
		struct fl_error err = { 0 };
		fl_buf_init(&out, 4096);
		assert_int_equal(fl_datefmt(datefmt_bad[i].pattern, strlen(datefmt_bad[i].pattern),
					    T0, &out, &err), FL_INVALID);
		assert_int_equal(err.code, FL_INVALID);
		assert_string_equal(err.msg, datefmt_bad[i].msg);
		assert_int_equal(out.len, 0);
		fl_buf_free(&out);
	}
	/* Outside years 1..9999. */
	struct fl_buf out;
	struct fl_error err = { 0 };
	fl_buf_init(&out, 64);
	assert_int_equal(fl_datefmt("yyyy", 4, T_MIN - 1, &out, &err), FL_INVALID);
	assert_string_equal(err.msg, "timestamp -62135596800001 ms is outside years 1-9999");
	assert_int_equal(fl_datefmt("yyyy", 4, T_MAX + 1, &out, &err), FL_INVALID);
	/* Past the buffer's maximum. */
	assert_int_equal(fl_datefmt("yyyy-MM-dd", 10, T0, &out, &err), FL_OK);
	out.max = out.len + 3;
	assert_int_equal(fl_datefmt("yyyy", 4, T0, &out, &err), FL_TOO_LARGE);
	assert_int_equal(out.len, 10);
	fl_buf_free(&out);
}

/* ---- prefixes ---------------------------------------------------------- */

static const char *const key_names[] = { "event_type", "dt", "hour" };
static const char *const key_values[] = { "payment", "2026-01-01", "00" };
static const size_t key_lens[] = { 7, 10, 2 };

static const struct {
	const char *expr;
	bool error_prefix;
	const char *want;
} prefix_cases[] = {
	/* No expression: Firehose's default time appended, nothing inserted. */
	{ "", false, "2026/01/01/00/" },
	{ "logs/", false, "logs/2026/01/01/00/" },
	{ "logs", false, "logs2026/01/01/00/" },
	{ "a}b!c{d/", false, "a}b!c{d/2026/01/01/00/" },
	/* Timestamps: no default. */
	{ "raw/!{timestamp:yyyy-MM-dd}/", false, "raw/2026-01-01/" },
	{ "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
	  "hour=!{timestamp:HH}/", false, "myPrefix/year=2026/month=01/day=01/hour=00/" },
	{ "!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/", false,
	  "year=2026/month=01/day=01/hour=00/" },
	{ "t=!{timestamp:HH:mm:ss.SSS}", false, "t=00:13:11.250" },
	{ "!{timestamp:YYYY}/!{timestamp:D}", false, "2026/1" },
	/* random-string without timestamp: the default is appended (AWS rule). */
	{ "rand=!{firehose:random-string}/", false, "rand=Ab3dE6gH9jK/2026/01/01/00/" },
	{ "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}",
	  false, "myFirehose/DeliveredYear=2026/anyMonth/rand=Ab3dE6gH9jK" },
	{ "!{firehose:random-string}/!{firehose:random-string}/!{timestamp:yyyy}", false,
	  "Ab3dE6gH9jK/36e71e080fc/2026" },
	/* Dynamic partitioning: used as written. */
	{ "raw/events/event_type=!{partitionKeyFromQuery:event_type}/dt="
	  "!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/", false,
	  "raw/events/event_type=payment/dt=2026-01-01/hour=00/" },
	{ "!{partitionKeyFromQuery:event_type}/!{partitionKeyFromQuery:event_type}", false,
	  "payment/payment" },
	{ "e=!{partitionKeyFromQuery:event_type}/!{timestamp:yyyy/MM}/", false,
	  "e=payment/2026/01/" },
	/* Error prefixes. */
	{ "myFirehoseFailures/!{firehose:error-output-type}/", true,
	  "myFirehoseFailures/processing-failed/" },
	{ "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/", true,
	  "errors/processing-failed/2026/01/01/" },
	{ "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/"
	  "!{firehose:error-output-type}", true,
	  "myErrorPrefix/year=2026/month=01/day=01/hour=00/processing-failed" },
	{ "myFirehosePrefix/", true, "myFirehosePrefix/processing-failed/2026/01/01/00/" },
	{ "", true, "processing-failed/2026/01/01/00/" },
	{ "e/!{firehose:random-string}/!{firehose:error-output-type}/", true,
	  "e/Ab3dE6gH9jK/processing-failed/" },
};

static void eval_ok(const char *expr, bool error_prefix, const struct fl_prefix_ctx *ctx,
		    const char *want)
{
	struct fl_prefix *p = NULL;
	struct fl_error err = { 0 };
	struct fl_buf out;
	enum fl_result r = fl_prefix_compile(expr, error_prefix, &p, &err);
	if (r != FL_OK)
		print_error("%s: %s\n", expr, err.msg);
	assert_int_equal(r, FL_OK);
	fl_buf_init(&out, 4096);
	assert_int_equal(fl_buf_adds(&out, "bucket/"), FL_OK);
	r = fl_prefix_eval(p, ctx, &out, &err);
	if (r != FL_OK)
		print_error("%s: %s\n", expr, err.msg);
	assert_int_equal(r, FL_OK);
	assert_memory_equal(out.data, "bucket/", 7);
	assert_string_equal(out.data + 7, want);
	assert_int_equal(out.len, 7 + strlen(want));
	fl_buf_free(&out);
	fl_prefix_free(p);
}

static const struct fl_prefix_ctx base_ctx = {
	.ts_ms = T0,
	.error_output_type = "processing-failed",
	.random = "Ab3dE6gH9jK",
	.key_values = key_values,
	.key_lens = key_lens,
};

static void test_prefix_eval(void **state)
{
	for (size_t i = 0; i < sizeof prefix_cases / sizeof *prefix_cases; i++)
		eval_ok(prefix_cases[i].expr, prefix_cases[i].error_prefix, &base_ctx,
			prefix_cases[i].want);
}

static void test_prefix_keys(void **state)
{
	struct fl_prefix *p = NULL;
	struct fl_error err = { 0 };
	const char *expr = "raw/events/event_type=!{partitionKeyFromQuery:event_type}/dt="
			   "!{partitionKeyFromQuery:dt}/x=!{partitionKeyFromQuery:event_type}/"
			   "hour=!{partitionKeyFromQuery:hour}/";
	assert_int_equal(fl_prefix_compile(expr, false, &p, &err), FL_OK);
	assert_int_equal(fl_prefix_key_count(p), 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(fl_prefix_key_name(p, i), key_names[i]);
	assert_null(fl_prefix_key_name(p, 3));
	assert_true(fl_prefix_has_expression(p));
	assert_true(fl_prefix_uses_partition_keys(p));
	assert_false(fl_prefix_uses_random(p));
	assert_false(fl_prefix_uses_lambda_keys(p));

	/* key_lens may be NULL (NUL-terminated values); unicode as bytes. */
	const char *uvals[] = { "caf\xc3\xa9 \xe2\x98\x83", "\xf0\x9f\x98\x80", "" };
	struct fl_prefix_ctx ctx = { .ts_ms = T0, .key_values = uvals };
	struct fl_buf out;
	fl_buf_init(&out, 4096);
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_OK);
	assert_string_equal(out.data, "raw/events/event_type=caf\xc3\xa9 \xe2\x98\x83/dt="
			    "\xf0\x9f\x98\x80/x=caf\xc3\xa9 \xe2\x98\x83/hour=/");

	/* A key without a value: FL_INVALID, out unchanged. */
	const char *missing[] = { "payment", NULL, "00" };
	ctx.key_values = missing;
	fl_buf_reset(&out);
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_INVALID);
	assert_string_equal(err.msg, "partition key 'dt' has no value");
	assert_int_equal(out.len, 0);

	/* Longer than 512 characters once evaluated: FL_INVALID, out unchanged.
	 * 200 two-byte characters count 200, not 400. */
	char big[1201];
	memset(big, 'v', 600);
	big[600] = '\0';
	const char *bigvals[] = { big, "d", "h" };
	ctx.key_values = bigvals;
	assert_int_equal(fl_buf_adds(&out, "keep"), FL_OK);
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_INVALID);
	assert_string_equal(err.msg, "evaluated prefix is longer than 512 characters");
	assert_string_equal(out.data, "keep");
	for (int i = 0; i < 200; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	big[400] = '\0';
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_OK);

	/* Past the buffer's maximum: FL_TOO_LARGE. */
	ctx.key_values = key_values;
	fl_buf_reset(&out);
	out.max = 20;
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_TOO_LARGE);
	assert_int_equal(out.len, 0);
	fl_buf_free(&out);
	fl_prefix_free(p);
}

static void test_prefix_flags(void **state)
{
	struct fl_prefix *p = NULL;
	struct fl_error err = { 0 };
	struct fl_buf out;
	fl_buf_init(&out, 4096);

	assert_int_equal(fl_prefix_compile("logs/", false, &p, &err), FL_OK);
	assert_false(fl_prefix_has_expression(p));
	assert_false(fl_prefix_uses_random(p));
	assert_false(fl_prefix_uses_partition_keys(p));
	assert_int_equal(fl_prefix_key_count(p), 0);
	/* Needs no ctx but the time. */
	struct fl_prefix_ctx ctx = { .ts_ms = T0 };
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_OK);
	ctx.ts_ms = T_MAX + 1;
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_INVALID);
	fl_prefix_free(p);

	assert_int_equal(fl_prefix_compile("r/!{firehose:random-string}/", false, &p, &err), FL_OK);
	assert_true(fl_prefix_has_expression(p));
	assert_true(fl_prefix_uses_random(p));
	ctx.ts_ms = T0;
	ctx.random = "short";
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_INTERNAL);
	ctx.random = NULL;
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_INTERNAL);
	fl_prefix_free(p);

	assert_int_equal(fl_prefix_compile("e/!{firehose:error-output-type}/", true, &p, &err),
			 FL_OK);
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_INTERNAL);
	assert_string_equal(err.msg, "no error-output-type to evaluate");
	fl_prefix_free(p);

	/* partitionKeyFromLambda: valid syntax, no value ever. */
	assert_int_equal(fl_prefix_compile("c=!{partitionKeyFromLambda:customer}/", false, &p,
					   &err), FL_OK);
	assert_true(fl_prefix_uses_lambda_keys(p));
	assert_false(fl_prefix_uses_partition_keys(p));
	fl_buf_reset(&out);
	assert_int_equal(fl_prefix_eval(p, &base_ctx, &out, &err), FL_INVALID);
	assert_string_equal(err.msg, "partitionKeyFromLambda:customer has no value: firelake "
			    "runs no Lambda processor");
	assert_int_equal(out.len, 0);
	fl_prefix_free(p);
	fl_buf_free(&out);
}

static const struct {
	const char *expr;
	bool error_prefix;
	const char *msg;
} compile_bad[] = {
	{ "!{foo:bar}/", false,
	  "Prefix expression '!{foo:bar}' has an unknown namespace 'foo': use firehose, "
	  "timestamp, partitionKeyFromQuery or partitionKeyFromLambda" },
	{ "!{:bar}/", false,
	  "Prefix expression '!{:bar}' has an unknown namespace '': use firehose, "
	  "timestamp, partitionKeyFromQuery or partitionKeyFromLambda" },
	{ "!{Timestamp:yyyy}/", false,
	  "Prefix expression '!{Timestamp:yyyy}' has an unknown namespace 'Timestamp': use "
	  "firehose, timestamp, partitionKeyFromQuery or partitionKeyFromLambda" },
	{ "x/!{timestamp:}/", false, "Prefix expression '!{timestamp:}' has an empty value" },
	{ "x/!{partitionKeyFromQuery:}/", false,
	  "Prefix expression '!{partitionKeyFromQuery:}' has an empty value" },
	{ "x/!{timestamp}/", false,
	  "Prefix expression '!{timestamp}' must be of the form !{namespace:value}" },
	{ "x/!{}/", false, "Prefix expression '!{}' must be of the form !{namespace:value}" },
	{ "x/!{timestamp:!{firehose:random-string}}/", false,
	  "Prefix has a nested expression: '!{' inside '!{timestamp:'" },
	{ "raw/!{timestamp:yyyy", false,
	  "Prefix has an expression that is not closed: '!{timestamp:yyyy'" },
	{ "raw/!{", false, "Prefix has an expression that is not closed: '!{'" },
	{ "raw/!{firehose:error-output-type}/", false,
	  "Prefix can't contain !{firehose:error-output-type}: it is valid only in "
	  "ErrorOutputPrefix" },
	{ "raw/!{firehose:uuid}/", false,
	  "Prefix expression '!{firehose:uuid}' has an unknown firehose value: use "
	  "random-string or error-output-type" },
	{ "raw/!{timestamp:yyyy-qq}/", false,
	  "Prefix expression '!{timestamp:yyyy-qq}' is not a valid DateTimeFormatter "
	  "pattern: unsupported pattern letter 'q'" },
	{ "raw/!{timestamp:'x}/", false,
	  "Prefix expression '!{timestamp:'x}' is not a valid DateTimeFormatter "
	  "pattern: pattern ends with an incomplete string literal" },
	{ "e/!{timestamp:yyyy}/", true,
	  "ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains "
	  "expressions" },
	{ "e/!{firehose:error-output-type}/!{partitionKeyFromQuery:k}/", true,
	  "ErrorOutputPrefix can't contain !{partitionKeyFromQuery:k}: records that failed "
	  "have no partition keys" },
	{ "e/!{foo:x}/", true,
	  "ErrorOutputPrefix expression '!{foo:x}' has an unknown namespace 'foo': use "
	  "firehose, timestamp, partitionKeyFromQuery or partitionKeyFromLambda" },
};

static void test_prefix_compile_errors(void **state)
{
	for (size_t i = 0; i < sizeof compile_bad / sizeof *compile_bad; i++) {
		struct fl_prefix *p = (struct fl_prefix *)(uintptr_t)1;
		struct fl_error err = { 0 };
		assert_int_equal(fl_prefix_compile(compile_bad[i].expr, compile_bad[i].error_prefix,
						   &p, &err), FL_INVALID);
		assert_null(p);
		assert_int_equal(err.code, FL_INVALID);
		assert_string_equal(err.msg, compile_bad[i].msg);
	}
}

static void test_prefix_limits(void **state)
{
	struct fl_prefix *p = NULL;
	struct fl_error err = { 0 };
	char s[4096];

	/* 1024 characters is the most; 1024 two-byte characters too. */
	memset(s, 'a', 1024);
	s[1024] = '\0';
	assert_int_equal(fl_prefix_compile(s, false, &p, &err), FL_OK);
	fl_prefix_free(p);
	s[1024] = 'a';
	s[1025] = '\0';
	assert_int_equal(fl_prefix_compile(s, false, &p, &err), FL_INVALID);
	assert_string_equal(err.msg, "Prefix must have length less than or equal to 1024");
	assert_int_equal(fl_prefix_compile(s, true, &p, &err), FL_INVALID);
	assert_string_equal(err.msg,
			    "ErrorOutputPrefix must have length less than or equal to 1024");
	for (int i = 0; i < 1024; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	s[2048] = '\0';
	assert_int_equal(fl_prefix_compile(s, false, &p, &err), FL_OK);
	fl_prefix_free(p);

	/* FL_PREFIX_MAX_KEYS (50) distinct keys cannot fit in 1024 characters
	 * (an expression takes at least 25); 36 short ones do. */
	size_t n = 0;
	for (int i = 0; i < 36; i++)
		n += (size_t)sprintf(s + n, "!{partitionKeyFromQuery:%c%c}",
				     'a' + i / 26, 'a' + i % 26);
	n += (size_t)sprintf(s + n, "!{partitionKeyFromQuery:aa}");
	assert_true(n <= 1024);
	assert_int_equal(fl_prefix_compile(s, false, &p, &err), FL_OK);
	assert_int_equal(fl_prefix_key_count(p), 36);
	assert_string_equal(fl_prefix_key_name(p, 0), "aa");
	assert_string_equal(fl_prefix_key_name(p, 35), "bj");
	fl_prefix_free(p);
}

/* ---- helpers ------------------------------------------------------------ */

static void test_hive_keys(void **state)
{
	char names[8][128];
	size_t n;

	n = fl_prefix_hive_keys("raw/events/event_type=!{partitionKeyFromQuery:event_type}/"
				"dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/",
				names, 8);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "event_type");
	assert_string_equal(names[1], "dt");
	assert_string_equal(names[2], "hour");

	/* '/' inside an expression does not start a segment; duplicates once. */
	n = fl_prefix_hive_keys("!{timestamp:yyyy/MM}/dt=!{timestamp:yyyy-MM-dd}/"
				"h=!{timestamp:HH}/x=1/y=!{timestamp:'a/b=!'}z/dt=!{timestamp:dd}/",
				names, 8);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "dt");
	assert_string_equal(names[1], "h");
	assert_string_equal(names[2], "y");

	/* At most max. */
	n = fl_prefix_hive_keys("a=!{timestamp:y}/b=!{timestamp:y}/c=!{timestamp:y}/", names, 2);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "b");

	/* No keys. */
	assert_int_equal(fl_prefix_hive_keys("raw/2026/a=b/", names, 8), 0);
	assert_int_equal(fl_prefix_hive_keys("", names, 8), 0);
	assert_int_equal(fl_prefix_hive_keys("=!{timestamp:y}/a==!{timestamp:y}", names, 8), 0);
	assert_int_equal(fl_prefix_hive_keys("a=!{timestamp:y", names, 8), 1);

	/* A name that does not fit is skipped. */
	char longp[400];
	memset(longp, 'n', 130);
	strcpy(longp + 130, "=!{timestamp:y}/ok=!{timestamp:y}/");
	n = fl_prefix_hive_keys(longp, names, 8);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "ok");
}

static void test_static_len(void **state)
{
	assert_int_equal(fl_prefix_static_len(
		"raw/events/event_type=!{partitionKeyFromQuery:event_type}/dt="
		"!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/"), 11);
	assert_int_equal(fl_prefix_static_len("raw/"), 4);
	assert_int_equal(fl_prefix_static_len("raw/x"), 4);
	assert_int_equal(fl_prefix_static_len("logs"), 0);
	assert_int_equal(fl_prefix_static_len(""), 0);
	assert_int_equal(fl_prefix_static_len("!{timestamp:yyyy}/"), 0);
	assert_int_equal(fl_prefix_static_len("a/b/c!{timestamp:yyyy}/"), 4);
}

static void test_object_name(void **state)
{
	static const uint8_t uuid[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					  0x08, 0x09, 0x0a, 0x0b, 0xcd, 0xef, 0xf0, 0xff };
	struct fl_buf out;
	fl_buf_init(&out, 4096);
	assert_int_equal(fl_buf_adds(&out, "raw/2026/"), FL_OK);
	assert_int_equal(fl_object_name(&out, "my-stream", 1, T0, uuid, true), FL_OK);
	assert_string_equal(out.data, "raw/2026/my-stream-1-2026-01-01-00-13-11-"
			    "00010203-0405-0607-0809-0a0bcdeff0ff.gz");
	fl_buf_reset(&out);
	assert_int_equal(fl_object_name(&out, "s", 12, T_EOY, uuid, false), FL_OK);
	assert_string_equal(out.data, "s-12-2024-12-31-23-59-59-00010203-0405-0607-0809-"
			    "0a0bcdeff0ff");
	fl_buf_reset(&out);
	assert_int_equal(fl_object_name(&out, "s", 1, T_MAX + 1, uuid, false), FL_INVALID);
	out.max = 10;
	assert_int_equal(fl_object_name(&out, "s", 1, T0, uuid, false), FL_TOO_LARGE);
	assert_int_equal(out.len, 0);
	fl_buf_free(&out);
}

static void test_random(void **state)
{
	char a[FL_PREFIX_RANDOM_LEN + 1], b[FL_PREFIX_RANDOM_LEN + 1];
	fl_prefix_random(0, a);
	assert_string_equal(a, "fadcd1b7938");
	fl_prefix_random(1, b);
	assert_string_equal(b, "1cc52098ced");
	fl_prefix_random(0, b);
	assert_string_equal(a, b);
	fl_prefix_random(UINT64_MAX, a);
	assert_int_equal(strlen(a), FL_PREFIX_RANDOM_LEN);
	assert_int_equal(strspn(a, "0123456789abcdef"), FL_PREFIX_RANDOM_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datefmt),
		cmocka_unit_test(test_datefmt_errors),
		cmocka_unit_test(test_prefix_eval),
		cmocka_unit_test(test_prefix_keys),
		cmocka_unit_test(test_prefix_flags),
		cmocka_unit_test(test_prefix_compile_errors),
		cmocka_unit_test(test_prefix_limits),
		cmocka_unit_test(test_hive_keys),
		cmocka_unit_test(test_static_len),
		cmocka_unit_test(test_object_name),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
