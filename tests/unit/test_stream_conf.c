/*
 * test_stream_conf.c - S3 destination configurations: shape, semantics,
 * defaults, Describe form, updates, reloads, reference counts.
 *
 * Table-driven: a request's JSON and either the Describe JSON it must
 * give or the result code and a piece of the error text it must give.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "partition.h"
#include "prefix.h"
#include "stream.h"

#define ROLE_ARN "arn:aws:iam::000000000000:role/firehose"
#define ROLE "\"RoleARN\":\"" ROLE_ARN "\""
#define BUCKET "\"BucketARN\":\"arn:aws:s3:::lake\""
#define BASE ROLE "," BUCKET
#define DP_ON "\"DynamicPartitioningConfiguration\":{\"Enabled\":true}"
#define HINTS64 "\"BufferingHints\":{\"SizeInMBs\":64,\"IntervalInSeconds\":60}"
#define PROCESSORS(list) "\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[" list "]}"
#define EXTRACTION(q) "{\"Type\":\"MetadataExtraction\",\"Parameters\":[" \
	"{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"" q "\"}," \
	"{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.6\"}]}"
#define EXTRACT_K PROCESSORS(EXTRACTION("{k: .k}"))
#define KPREFIX "\"Prefix\":\"p/k=!{partitionKeyFromQuery:k}/\""
#define EPREFIX "\"ErrorOutputPrefix\":\"e/!{firehose:error-output-type}/\""
/* A valid dynamically partitioned destination, less what a case adds. */
#define DP_BASE BASE "," KPREFIX "," EPREFIX "," HINTS64 "," DP_ON

/* firelake's own default stream. */
#define LAKE_PREFIX "raw/events/event_type=!{partitionKeyFromQuery:event_type}/" \
	"dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/"
#define LAKE_EPREFIX "errors/events/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
#define LAKE_QUERY "{event_type: .event_type, dt: (.created_at|strftime(\\\"%Y-%m-%d\\\")), " \
	"hour: (.created_at|strftime(\\\"%H\\\"))}"
#define LAKE_PROCESSING "\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[" \
	"{\"Type\":\"MetadataExtraction\",\"Parameters\":[" \
	"{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"" LAKE_QUERY "\"}," \
	"{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.6\"}]}]}"
#define LAKE_CONF "{" BASE ",\"Prefix\":\"" LAKE_PREFIX "\",\"ErrorOutputPrefix\":\"" \
	LAKE_EPREFIX "\",\"BufferingHints\":{\"SizeInMBs\":64,\"IntervalInSeconds\":10}," \
	"\"CompressionFormat\":\"GZIP\"," DP_ON "," LAKE_PROCESSING "}"

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &jerr);

	if (!j)
		fail_msg("bad test JSON (%s): %s", jerr.text, text);
	return j;
}

static void assert_json(const json_t *got, const char *want_text)
{
	json_t *want = parse(want_text);

	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS);
		char *w = json_dumps(want, JSON_SORT_KEYS);
		print_error("got  %s\nwant %s\n", g, w);
		free(g);
		free(w);
		json_decref(want);
		fail();
	}
	json_decref(want);
}

static enum fl_result build(const char *text, bool is_extended, int version,
			    struct fl_stream_conf **out, struct fl_error *err)
{
	json_t *j = parse(text);
	enum fl_result r;

	memset(err, 0, sizeof *err);
	r = fl_stream_conf_new(j, is_extended, version, out, err);
	json_decref(j);
	return r;
}

/* Evaluates p at 2026-01-02T03:04:05Z. */
static void assert_eval(const struct fl_prefix *p, const char *error_type,
			const char *const *values, const size_t *lens, const char *want)
{
	struct fl_prefix_ctx ctx = { .ts_ms = 1767323045000LL, .error_output_type = error_type,
				     .random = "abcdefghijk", .key_values = values,
				     .key_lens = lens };
	struct fl_buf out;
	struct fl_error err = { 0 };

	fl_buf_init(&out, 4096);
	assert_int_equal(fl_prefix_eval(p, &ctx, &out, &err), FL_OK);
	assert_string_equal(out.data, want);
	fl_buf_free(&out);
}

/* ------------------------------------------------------------------ */
/* Defaults and the Describe form. */

#define MINIMAL_DESCRIPTION "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":5," \
	"\"IntervalInSeconds\":300},\"CompressionFormat\":\"UNCOMPRESSED\"," \
	"\"EncryptionConfiguration\":{\"NoEncryptionConfig\":\"NoEncryption\"}," \
	"\"CloudWatchLoggingOptions\":{\"Enabled\":false},\"S3BackupMode\":\"Disabled\"}"

static void test_minimal(void **state)
{
	/* Extended and plain S3 give the same configuration. */
	for (int extended = 0; extended <= 1; extended++) {
		struct fl_stream_conf *c = NULL;
		struct fl_error err;

		assert_int_equal(build("{" BASE "}", extended, 1, &c, &err), FL_OK);
		assert_int_equal(c->refs, 1);
		assert_int_equal(c->version, 1);
		assert_string_equal(c->bucket, "lake");
		assert_false(c->gzip);
		assert_int_equal(c->size_bytes, 5 * 1048576);
		assert_int_equal(c->interval_s, 300);
		assert_string_equal(c->file_extension, "");
		assert_null(c->query);
		assert_int_equal(c->nkeys, 0);
		assert_non_null(c->prefix);
		assert_non_null(c->error_prefix);
		assert_json(c->destination, MINIMAL_DESCRIPTION);
		/* Firehose's defaults: YYYY/MM/dd/HH/, and for errors
		 * <error-output-type>/YYYY/MM/dd/HH/. */
		assert_eval(c->prefix, NULL, NULL, NULL, "2026/01/02/03/");
		assert_eval(c->error_prefix, "processing-failed", NULL, NULL,
			    "processing-failed/2026/01/02/03/");
		fl_stream_conf_unref(c);
	}
}

static void test_lake_default(void **state)
{
	struct fl_stream_conf *c = NULL;
	struct fl_error err;
	struct fl_partition_state *ps;
	struct fl_buf vals;
	size_t offs[3], lens[3];
	const char *values[3];
	static const char event[] =
		"{\"event_uuid\":\"u\",\"event_name\":\"payment:order:completed\","
		"\"event_type\":\"payment\",\"created_at\":1767323045}";

	assert_int_equal(build(LAKE_CONF, true, 1, &c, &err), FL_OK);
	assert_string_equal(c->bucket, "lake");
	assert_true(c->gzip);
	assert_int_equal(c->size_bytes, 64 * 1048576);
	assert_int_equal(c->interval_s, 10);
	assert_non_null(c->query);
	assert_int_equal(c->nkeys, 3);
	assert_string_equal(c->key_names[0], "event_type");
	assert_string_equal(c->key_names[1], "dt");
	assert_string_equal(c->key_names[2], "hour");
	assert_json(c->destination,
		    "{" BASE ",\"Prefix\":\"" LAKE_PREFIX "\",\"ErrorOutputPrefix\":\""
		    LAKE_EPREFIX "\",\"BufferingHints\":{\"SizeInMBs\":64,"
		    "\"IntervalInSeconds\":10},\"CompressionFormat\":\"GZIP\","
		    "\"EncryptionConfiguration\":{\"NoEncryptionConfig\":\"NoEncryption\"},"
		    "\"CloudWatchLoggingOptions\":{\"Enabled\":false}," LAKE_PROCESSING ","
		    "\"S3BackupMode\":\"Disabled\",\"DynamicPartitioningConfiguration\":"
		    "{\"Enabled\":true,\"RetryOptions\":{\"DurationInSeconds\":300}}}");

	/* The query's keys feed the prefix through the borrowed names. */
	ps = fl_partition_state_new();
	assert_non_null(ps);
	fl_buf_init(&vals, 4096);
	assert_int_equal(fl_partition_eval(c->query, ps, event, sizeof event - 1,
					   c->key_names, c->nkeys, &vals, offs, lens, &err),
			 FL_OK);
	for (size_t i = 0; i < 3; i++)
		values[i] = vals.data + offs[i];
	assert_eval(c->prefix, NULL, values, lens,
		    "raw/events/event_type=payment/dt=2026-01-02/hour=03/");
	assert_eval(c->error_prefix, "processing-failed", NULL, NULL,
		    "errors/events/processing-failed/dt=2026-01-02/");
	fl_buf_free(&vals);
	fl_partition_state_free(ps);
	fl_stream_conf_unref(c);
}

/* Accepted inputs and the Describe JSON (or a field) they give. */
struct ok_case {
	const char *name;
	const char *in;
	bool extended;
	const char *description;   /* exact, or NULL */
	const char *file_extension; /* or NULL */
	int gzip;                   /* -1: not checked */
};

static const struct ok_case ok_cases[] = {
	{ "json nulls are absent members, unknown members are dropped",
	  "{" BASE ",\"Prefix\":null,\"BufferingHints\":null,\"Foo\":1,"
	  "\"CloudWatchLoggingOptions\":{\"Enabled\":false,\"Bar\":2}}", true,
	  MINIMAL_DESCRIPTION, NULL, -1 },
	{ "S3 members only, for a plain S3 destination",
	  "{" BASE ",\"ProcessingConfiguration\":{\"Enabled\":true},"
	  "\"FileExtension\":\".x\"}", false, MINIMAL_DESCRIPTION, "", -1 },
	{ "everything echoed",
	  "{" BASE ",\"Prefix\":\"logs/\",\"ErrorOutputPrefix\":\"\","
	  "\"BufferingHints\":{\"SizeInMBs\":1},\"CompressionFormat\":\"GZIP\","
	  "\"EncryptionConfiguration\":{\"NoEncryptionConfig\":\"NoEncryption\"},"
	  "\"CloudWatchLoggingOptions\":{\"Enabled\":true,\"LogGroupName\":\"/aws/fh\","
	  "\"LogStreamName\":\"S3Delivery\"},"
	  "\"ProcessingConfiguration\":{\"Enabled\":false,\"Processors\":[]},"
	  "\"S3BackupMode\":\"Disabled\",\"DataFormatConversionConfiguration\":{"
	  "\"Enabled\":false,\"SchemaConfiguration\":{\"DatabaseName\":\"lake\","
	  "\"TableName\":\"events\"}},\"FileExtension\":\".json.gz\","
	  "\"CustomTimeZone\":\"UTC\"}", true,
	  "{" BASE ",\"Prefix\":\"logs/\",\"ErrorOutputPrefix\":\"\","
	  "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":300},"
	  "\"CompressionFormat\":\"GZIP\","
	  "\"EncryptionConfiguration\":{\"NoEncryptionConfig\":\"NoEncryption\"},"
	  "\"CloudWatchLoggingOptions\":{\"Enabled\":true,\"LogGroupName\":\"/aws/fh\","
	  "\"LogStreamName\":\"S3Delivery\"},"
	  "\"ProcessingConfiguration\":{\"Enabled\":false,\"Processors\":[]},"
	  "\"S3BackupMode\":\"Disabled\",\"DataFormatConversionConfiguration\":{"
	  "\"Enabled\":false,\"SchemaConfiguration\":{\"DatabaseName\":\"lake\","
	  "\"TableName\":\"events\"}},\"FileExtension\":\".json.gz\","
	  "\"CustomTimeZone\":\"UTC\"}", ".json.gz", 1 },
	{ "empty EncryptionConfiguration takes the default",
	  "{" BASE ",\"EncryptionConfiguration\":{}}", true, MINIMAL_DESCRIPTION, NULL, 0 },
	{ "RetryOptions kept when given",
	  "{" DP_BASE "," EXTRACT_K ",\"DynamicPartitioningConfiguration\":{\"Enabled\":true,"
	  "\"RetryOptions\":{\"DurationInSeconds\":0}}}", true, NULL, NULL, -1 },
	{ "RecordDeAggregation and AppendDelimiterToRecord with dynamic partitioning",
	  "{" DP_BASE "," PROCESSORS(
		  "{\"Type\":\"RecordDeAggregation\",\"Parameters\":[{\"ParameterName\":"
		  "\"SubRecordType\",\"ParameterValue\":\"JSON\"}]},"
		  EXTRACTION("{k: .k}") ",{\"Type\":\"AppendDelimiterToRecord\"}") "}",
	  true, NULL, NULL, -1 },
	{ "AppendDelimiterToRecord without dynamic partitioning",
	  "{" BASE "," PROCESSORS("{\"Type\":\"AppendDelimiterToRecord\"}") "}",
	  true, NULL, NULL, -1 },
	{ "a query in a form that is checked at run time",
	  "{" DP_BASE "," PROCESSORS(EXTRACTION("{k: .a} | .k = .k")) "}", true, NULL,
	  NULL, -1 },
	{ "quoted and shorthand query keys",
	  "{" BASE ",\"Prefix\":\"!{partitionKeyFromQuery:a}/!{partitionKeyFromQuery:b}/\","
	  EPREFIX "," HINTS64 "," DP_ON ","
	  PROCESSORS(EXTRACTION("{\\\"a\\\": (.x, .y) | tostring, b}")) "}",
	  true, NULL, NULL, -1 },
	{ "a Prefix without expressions needs no ErrorOutputPrefix",
	  "{" BASE ",\"Prefix\":\"plain/\"}", true, NULL, NULL, -1 },
	{ "bucket names after the last ':'",
	  "{" ROLE ",\"BucketARN\":\"arn:aws-cn:x:::y:s3:::my.bucket-1\"}", true,
	  NULL, NULL, -1 },
};

static void test_ok_table(void **state)
{
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		const struct ok_case *t = &ok_cases[i];
		struct fl_stream_conf *c = NULL;
		struct fl_error err;
		enum fl_result r = build(t->in, t->extended, 3, &c, &err);

		if (r != FL_OK)
			fail_msg("%s: %s (%s)", t->name, fl_result_name(r), err.msg);
		if (t->description)
			assert_json(c->destination, t->description);
		if (t->file_extension)
			assert_string_equal(c->file_extension, t->file_extension);
		if (t->gzip >= 0)
			assert_int_equal(c->gzip, t->gzip);
		fl_stream_conf_unref(c);
	}
	/* The bucket of the last case. */
	{
		struct fl_stream_conf *c = NULL;
		struct fl_error err;
		const struct ok_case *t = &ok_cases[sizeof ok_cases / sizeof ok_cases[0] - 1];

		assert_int_equal(build(t->in, true, 1, &c, &err), FL_OK);
		assert_string_equal(c->bucket, "my.bucket-1");
		fl_stream_conf_unref(c);
	}
}

/* ------------------------------------------------------------------ */
/* Refused inputs. */

struct bad_case {
	const char *in;
	bool extended;
	enum fl_result code;
	const char *msg;           /* a substring of the message */
};

#define V1 "1 validation error detected: "
#define EXT "extendedS3DestinationConfiguration"
#define PROC1 EXT ".processingConfiguration.processors.1.member"

static const struct bad_case bad_cases[] = {
	/* Shape: required members. */
	{ "{" BUCKET "}", true, FL_VALIDATION,
	  V1 "Value null at '" EXT ".roleARN' failed to satisfy constraint: "
	  "Member must not be null" },
	{ "{" ROLE "}", false, FL_VALIDATION,
	  V1 "Value null at 's3DestinationConfiguration.bucketARN' failed to satisfy "
	  "constraint: Member must not be null" },
	{ "{}", true, FL_VALIDATION,
	  "2 validation errors detected: Value null at '" EXT ".roleARN' failed to "
	  "satisfy constraint: Member must not be null; Value null at '" EXT
	  ".bucketARN'" },
	{ "{\"RoleARN\":null," BUCKET "}", true, FL_VALIDATION, "Member must not be null" },
	/* Patterns. */
	{ "{\"RoleARN\":\"arn:aws:iam::123:role/x\"," BUCKET "}", true, FL_VALIDATION,
	  V1 "Value 'arn:aws:iam::123:role/x' at '" EXT ".roleARN' failed to satisfy "
	  "constraint: Member must satisfy regular expression pattern: "
	  "arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+" },
	{ "{\"RoleARN\":\"arn:aws:iam::000000000000:role/a b\"," BUCKET "}", true,
	  FL_VALIDATION, "pattern" },
	{ "{\"RoleARN\":\"\"," BUCKET "}", true, FL_VALIDATION,
	  "2 validation errors detected: Value '' at '" EXT ".roleARN' failed to "
	  "satisfy constraint: Member must have length greater than or equal to 1; "
	  "Value '' at '" EXT ".roleARN'" },        /* the rest past FL_ERROR_MAX */
	{ "{" ROLE ",\"BucketARN\":\"arn:aws:s3:::\"}", true, FL_VALIDATION,
	  V1 "Value 'arn:aws:s3:::' at '" EXT ".bucketARN' failed to satisfy "
	  "constraint: Member must satisfy regular expression pattern: "
	  "arn:.*:s3:::[\\w\\.\\-]{1,255}" },
	{ "{" ROLE ",\"BucketARN\":\"arn:aws:s3:::a/b\"}", true, FL_VALIDATION, "pattern" },
	{ "{" ROLE ",\"BucketARN\":\"s3://lake\"}", true, FL_VALIDATION, "pattern" },
	{ "{" BASE ",\"Prefix\":\"a\\nb\"}", true, FL_VALIDATION,
	  "at '" EXT ".prefix' failed to satisfy constraint: Member must satisfy "
	  "regular expression pattern: .*" },
	{ "{" BASE ",\"Prefix\":\"a\\u0000b\"}", true, FL_VALIDATION, "pattern: .*" },
	{ "{" BASE ",\"FileExtension\":\"gz\"}", true, FL_VALIDATION,
	  V1 "Value 'gz' at '" EXT ".fileExtension' failed to satisfy constraint: "
	  "Member must satisfy regular expression pattern: ^$|\\.[0-9a-z!\\-_.*'()]+" },
	{ "{" BASE ",\"FileExtension\":\".GZ\"}", true, FL_VALIDATION, "pattern" },
	{ "{" BASE ",\"CustomTimeZone\":\"UTC+9\"}", true, FL_VALIDATION,
	  "'" EXT ".customTimeZone' failed to satisfy constraint: Member must satisfy "
	  "regular expression pattern: ^$|[a-zA-Z/_]+" },
	{ "{" BASE ",\"CloudWatchLoggingOptions\":{\"Enabled\":true,\"LogGroupName\":"
	  "\"a b\",\"LogStreamName\":\"s\"}}", true, FL_VALIDATION,
	  "'" EXT ".cloudWatchLoggingOptions.logGroupName' failed" },
	{ "{" BASE ",\"CloudWatchLoggingOptions\":{\"LogStreamName\":\"a:b\"}}", true,
	  FL_VALIDATION, "pattern: [^:*]*" },
	/* Ranges. */
	{ "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":129,\"IntervalInSeconds\":300}}",
	  true, FL_VALIDATION,
	  V1 "Value '129' at '" EXT ".bufferingHints.sizeInMBs' failed to satisfy "
	  "constraint: Member must have value less than or equal to 128" },
	{ "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":0}}", true, FL_VALIDATION,
	  V1 "Value '0' at '" EXT ".bufferingHints.sizeInMBs' failed to satisfy "
	  "constraint: Member must have value greater than or equal to 1" },
	{ "{" BASE ",\"BufferingHints\":{\"IntervalInSeconds\":901}}", true, FL_VALIDATION,
	  V1 "Value '901' at '" EXT ".bufferingHints.intervalInSeconds' failed to "
	  "satisfy constraint: Member must have value less than or equal to 900" },
	{ "{" BASE ",\"BufferingHints\":{\"IntervalInSeconds\":-1}}", true, FL_VALIDATION,
	  "Value '-1' at '" EXT ".bufferingHints.intervalInSeconds'" },
	{ "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":0,\"IntervalInSeconds\":1000}}",
	  true, FL_VALIDATION,
	  "2 validation errors detected: Value '0' at '" EXT ".bufferingHints.sizeInMBs' "
	  "failed to satisfy constraint: Member must have value greater than or equal "
	  "to 1; Value '1000' at '" EXT ".bufferingHints.in" },  /* FL_ERROR_MAX */
	{ "{" DP_BASE "," EXTRACT_K ",\"DynamicPartitioningConfiguration\":{\"Enabled\":"
	  "true,\"RetryOptions\":{\"DurationInSeconds\":7201}}}", true, FL_VALIDATION,
	  V1 "Value '7201' at '" EXT ".dynamicPartitioningConfiguration.retryOptions."
	  "durationInSeconds' failed to satisfy constraint: Member must have value less "
	  "than or equal to 7200" },
	{ "{" BASE ",\"DataFormatConversionConfiguration\":{\"OutputFormatConfiguration\":"
	  "{\"Serializer\":{\"ParquetSerDe\":{\"BlockSizeBytes\":1}}}}}", true,
	  FL_VALIDATION,
	  V1 "Value '1' at '" EXT ".dataFormatConversionConfiguration."
	  "outputFormatConfiguration.serializer.parquetSerDe.blockSizeBytes' failed to "
	  "satisfy constraint: Member must have value greater than or equal to" },
	{ "{" BASE ",\"DataFormatConversionConfiguration\":{\"OutputFormatConfiguration\":"
	  "{\"Serializer\":{\"OrcSerDe\":{\"PaddingTolerance\":1.5}}}}}", true,
	  FL_VALIDATION, "Value '1.5' at '" EXT ".dataFormatConversionConfiguration."
	  "outputFormatConfiguration.serializer.orcSerDe.paddingTolerance' failed to "
	  "satisfy constraint: Member must have value less than or equal to 1" },
	{ "{" BASE ",\"DataFormatConversionConfiguration\":{\"InputFormatConfiguration\":"
	  "{\"Deserializer\":{\"OpenXJsonSerDe\":{\"ColumnToJsonKeyMappings\":"
	  "{\"a b\":\"x\"}}}}}}", true, FL_VALIDATION,
	  "columnToJsonKeyMappings' failed to satisfy constraint: Map keys and values "
	  "must satisfy" },
	{ "{" BASE ",\"DataFormatConversionConfiguration\":{\"SchemaConfiguration\":"
	  "{\"TableName\":\"\"}}}", true, FL_VALIDATION,
	  "'" EXT ".dataFormatConversionConfiguration.schemaConfiguration.tableName'" },
	/* Enums. */
	{ "{" BASE ",\"CompressionFormat\":\"BZIP2\"}", true, FL_VALIDATION,
	  V1 "Value 'BZIP2' at '" EXT ".compressionFormat' failed to satisfy constraint: "
	  "Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, "
	  "HADOOP_SNAPPY]" },
	{ "{" BASE ",\"CompressionFormat\":\"gzip\"}", true, FL_VALIDATION, "enum value set" },
	{ "{" BASE ",\"S3BackupMode\":\"Sometimes\"}", true, FL_VALIDATION,
	  "'" EXT ".s3BackupMode' failed to satisfy constraint: Member must satisfy "
	  "enum value set: [Disabled, Enabled]" },
	{ "{" BASE ",\"EncryptionConfiguration\":{\"NoEncryptionConfig\":\"None\"}}", true,
	  FL_VALIDATION, "'" EXT ".encryptionConfiguration.noEncryptionConfig'" },
	{ "{" BASE ",\"EncryptionConfiguration\":{\"KMSEncryptionConfig\":{}}}", true,
	  FL_VALIDATION, V1 "Value null at '" EXT ".encryptionConfiguration."
	  "kMSEncryptionConfig.aWSKMSKeyARN' failed to satisfy constraint: Member must "
	  "not be null" },
	{ "{" BASE ",\"EncryptionConfiguration\":{\"KMSEncryptionConfig\":{\"AWSKMSKeyARN\":"
	  "\"key\"}}}", true, FL_VALIDATION, "pattern: arn:.*:kms:" },
	{ "{" BASE "," PROCESSORS("{\"Type\":\"Foo\"}") "}", true, FL_VALIDATION,
	  V1 "Value 'Foo' at '" PROC1 ".type' failed to satisfy constraint: Member must "
	  "satisfy enum value set: [RecordDeAggregation, Decompression, "
	  "CloudWatchLog" },        /* the rest past FL_ERROR_MAX */
	{ "{" BASE "," PROCESSORS("{\"Parameters\":[]}") "}", true, FL_VALIDATION,
	  V1 "Value null at '" PROC1 ".type' failed to satisfy constraint: Member must "
	  "not be null" },
	{ "{" BASE "," PROCESSORS("null") "}", true, FL_VALIDATION,
	  "Value null at '" EXT ".processingConfiguration.processors.1.member'" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"MetadataExtraction\",\"Parameters\":["
	  "{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"{k:.k}\"},"
	  "{\"ParameterName\":\"Engine\",\"ParameterValue\":\"JQ-1.6\"}]}") "}", true,
	  FL_VALIDATION, "Value 'Engine' at '" PROC1 ".parameters.2.member.parameterName'" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"MetadataExtraction\",\"Parameters\":["
	  "{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"  \"}]}") "}",
	  true, FL_VALIDATION,
	  V1 "Value '  ' at '" PROC1 ".parameters.1.member.parameterValue' failed to "
	  "satisfy constraint: Member must satisfy regular expression pattern: "
	  "^(?!\\s*$).+" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"MetadataExtraction\",\"Parameters\":["
	  "{\"ParameterName\":\"MetadataExtractionQuery\"}]}") "}", true, FL_VALIDATION,
	  "Value null at '" PROC1 ".parameters.1.member.parameterValue'" },
	/* Types: what AWS answers with a SerializationException. */
	{ "[]", true, FL_MALFORMED, "Value at '" EXT "' is not a structure" },
	{ "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":\"5\"}}", true, FL_MALFORMED,
	  "Value at '" EXT ".bufferingHints.sizeInMBs' is not an integer" },
	{ "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":5.0}}", true, FL_MALFORMED,
	  "is not an integer" },
	{ "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":4294967296}}", true, FL_MALFORMED,
	  "is not an integer" },
	{ "{" BASE ",\"BufferingHints\":[]}", true, FL_MALFORMED,
	  "Value at '" EXT ".bufferingHints' is not a structure" },
	{ "{\"RoleARN\":7," BUCKET "}", true, FL_MALFORMED,
	  "Value at '" EXT ".roleARN' is not a string" },
	{ "{" BASE ",\"CloudWatchLoggingOptions\":{\"Enabled\":\"true\"}}", true,
	  FL_MALFORMED, "Value at '" EXT ".cloudWatchLoggingOptions.enabled' is not a boolean" },
	{ "{" BASE ",\"ProcessingConfiguration\":{\"Processors\":{}}}", true, FL_MALFORMED,
	  "Value at '" EXT ".processingConfiguration.processors' is not a list" },
	{ "{" BASE ",\"DataFormatConversionConfiguration\":{\"InputFormatConfiguration\":"
	  "{\"Deserializer\":{\"OpenXJsonSerDe\":{\"ColumnToJsonKeyMappings\":"
	  "{\"a\":1}}}}}}", true, FL_MALFORMED, "is not a map of strings" },
	/* What firelake does not do. */
	{ "{" BASE ",\"CompressionFormat\":\"ZIP\"}", true, FL_INVALID,
	  "CompressionFormat ZIP is not supported by firelake" },
	{ "{" BASE ",\"CompressionFormat\":\"Snappy\"}", true, FL_INVALID,
	  "CompressionFormat Snappy is not supported by firelake" },
	{ "{" BASE ",\"CompressionFormat\":\"HADOOP_SNAPPY\"}", false, FL_INVALID,
	  "CompressionFormat HADOOP_SNAPPY is not supported by firelake" },
	{ "{" BASE ",\"S3BackupMode\":\"Enabled\"}", true, FL_INVALID,
	  "S3 backup is not supported by firelake" },
	{ "{" BASE ",\"S3BackupConfiguration\":{" BASE "}}", true, FL_INVALID,
	  "S3 backup is not supported by firelake" },
	{ "{" BASE ",\"S3BackupConfiguration\":{" ROLE "}}", true, FL_VALIDATION,
	  "Value null at '" EXT ".s3BackupConfiguration.bucketARN'" },
	{ "{" BASE ",\"EncryptionConfiguration\":{\"KMSEncryptionConfig\":{\"AWSKMSKeyARN\":"
	  "\"arn:aws:kms:us-east-1:000000000000:key/k1\"}}}", true, FL_INVALID,
	  "KMSEncryptionConfig is not supported by firelake" },
	{ "{" BASE ",\"CustomTimeZone\":\"Asia/Tokyo\"}", true, FL_INVALID,
	  "CustomTimeZone Asia/Tokyo is not supported by firelake" },
	{ "{" BASE "," PROCESSORS("{\"Type\":\"Lambda\",\"Parameters\":[{\"ParameterName\":"
	  "\"LambdaArn\",\"ParameterValue\":\"arn:aws:lambda:us-east-1:0:function:f\"}]}") "}",
	  true, FL_INVALID, "Lambda processors are not supported by firelake" },
	{ "{" BASE "," PROCESSORS("{\"Type\":\"Decompression\"}") "}", true, FL_INVALID,
	  "Decompression processors are not supported by firelake" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"Lambda\"}," EXTRACTION("{k: .k}")) "}",
	  true, FL_INVALID, "Lambda processors are not supported by firelake" },
	{ "{" BASE ",\"CloudWatchLoggingOptions\":{\"Enabled\":true}}", true, FL_INVALID,
	  "LogGroupName and LogStreamName are required" },
	/* Dynamic partitioning, in AWS's words where known. */
	{ "{" BASE ",\"Prefix\":\"p/\"," EPREFIX "," HINTS64 "," DP_ON "," EXTRACT_K "}",
	  true, FL_INVALID, "S3 Prefix should contain Dynamic Partitioning namespaces "
	  "when Dynamic Partitioning is enabled" },
	{ "{" BASE "," HINTS64 "," DP_ON "," EXTRACT_K "}", true, FL_INVALID,
	  "S3 Prefix should contain Dynamic Partitioning namespaces" },
	{ "{" BASE "," KPREFIX "," EPREFIX "," DP_ON "," EXTRACT_K "}", true, FL_INVALID,
	  "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is "
	  "enabled." },
	{ "{" BASE "," KPREFIX "," EPREFIX "," DP_ON "," EXTRACT_K
	  ",\"BufferingHints\":{\"SizeInMBs\":63,\"IntervalInSeconds\":60}}", true,
	  FL_INVALID, "BufferingHints.SizeInMBs must be at least 64" },
	{ "{" BASE "," KPREFIX "," EPREFIX "," EXTRACT_K "}", true, FL_INVALID,
	  "class com.amazonaws.services.firehose.internal.model.MetadataExtractionProcessor "
	  "can only be present when Dynamic Partitioning is enabled." },
	{ "{" BASE "," PROCESSORS("{\"Type\":\"RecordDeAggregation\"}") ","
	  "\"DynamicPartitioningConfiguration\":{\"Enabled\":false}}", true, FL_INVALID,
	  "RecordDeAggregationProcessor can only be present when Dynamic Partitioning "
	  "is enabled." },
	{ "{" BASE "," KPREFIX "," EPREFIX "}", true, FL_INVALID,
	  "Dynamic Partitioning Namespaces can only be part of a prefix expression when "
	  "Dynamic Partitioning is enabled." },
	{ "{" BASE ",\"Prefix\":\"p/!{partitionKeyFromLambda:k}/\"," EPREFIX "}", true,
	  FL_INVALID, "Dynamic Partitioning Namespaces can only be part" },
	{ "{" BASE "," KPREFIX "," HINTS64 "," DP_ON "," EXTRACT_K "}", true, FL_INVALID,
	  "The supplied prefix(es) do not satisfy the following constraint: "
	  "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions" },
	{ "{" BASE "," KPREFIX ",\"ErrorOutputPrefix\":\"\"," HINTS64 "," DP_ON ","
	  EXTRACT_K "}", true, FL_INVALID,
	  "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions" },
	{ "{" BASE ",\"Prefix\":\"d/!{timestamp:yyyy}/\"}", false, FL_INVALID,
	  "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions" },
	{ "{" DP_BASE "}", true, FL_INVALID,
	  "partitionKeyFromQuery needs an enabled ProcessingConfiguration with a "
	  "MetadataExtraction processor" },
	{ "{" DP_BASE ",\"ProcessingConfiguration\":{\"Enabled\":false,\"Processors\":["
	  EXTRACTION("{k: .k}") "]}}", true, FL_INVALID,
	  "partitionKeyFromQuery needs an enabled ProcessingConfiguration" },
	{ "{" BASE ",\"Prefix\":\"p/!{partitionKeyFromLambda:k}/\"," EPREFIX "," HINTS64
	  "," DP_ON "}", true, FL_INVALID,
	  "partitionKeyFromLambda needs a Lambda processor; Lambda processors are not "
	  "supported by firelake" },
	{ "{" DP_BASE "," PROCESSORS(EXTRACTION("{j: .k}")) "}", true, FL_INVALID,
	  "!{partitionKeyFromQuery:k} in Prefix is not a key of the "
	  "MetadataExtractionQuery" },
	{ "{" DP_BASE "," PROCESSORS(EXTRACTION("{ }")) "}", true, FL_INVALID,
	  "!{partitionKeyFromQuery:k} in Prefix is not a key" },
	{ "{" DP_BASE "," PROCESSORS(EXTRACTION("{k: .k")) "}", true, FL_INVALID,
	  "MetadataExtractionQuery is not a valid jq" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"MetadataExtraction\",\"Parameters\":["
	  "{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.6\"}]}") "}",
	  true, FL_INVALID, "needs a MetadataExtractionQuery parameter" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"MetadataExtraction\",\"Parameters\":["
	  "{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"{k:.k}\"}]}")
	  "}", true, FL_INVALID, "needs JsonParsingEngine JQ-1.6" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"MetadataExtraction\",\"Parameters\":["
	  "{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"{k:.k}\"},"
	  "{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.5\"}]}") "}",
	  true, FL_INVALID, "needs JsonParsingEngine JQ-1.6" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"MetadataExtraction\",\"Parameters\":["
	  "{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"{k:.k}\"},"
	  "{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"{k:.j}\"},"
	  "{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.6\"}]}") "}",
	  true, FL_INVALID, "has parameter MetadataExtractionQuery more than once" },
	{ "{" DP_BASE "," PROCESSORS("{\"Type\":\"MetadataExtraction\",\"Parameters\":["
	  "{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"{k:.k}\"},"
	  "{\"ParameterName\":\"LambdaArn\",\"ParameterValue\":\"x\"},"
	  "{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.6\"}]}") "}",
	  true, FL_INVALID, "Parameter LambdaArn is not valid for a MetadataExtraction" },
	{ "{" DP_BASE "," PROCESSORS(EXTRACTION("{k: .k}") "," EXTRACTION("{k: .k}")) "}",
	  true, FL_INVALID, "Only one MetadataExtraction processor" },
	/* Prefix expressions (prefix.c's rules and words). */
	{ "{" BASE ",\"Prefix\":\"p/!{foo:bar}/\"," EPREFIX "}", true, FL_INVALID,
	  "unknown namespace" },
	{ "{" BASE ",\"Prefix\":\"p/!{timestamp:yyyy/\"," EPREFIX "}", true, FL_INVALID,
	  "not closed" },
	{ "{" BASE ",\"Prefix\":\"p/!{firehose:error-output-type}/\"," EPREFIX "}", true,
	  FL_INVALID, "Prefix can't contain !{firehose:error-output-type}" },
	{ "{" BASE ",\"Prefix\":\"p/!{timestamp:yyyy}/\",\"ErrorOutputPrefix\":"
	  "\"e/!{timestamp:yyyy}/\"}", true, FL_INVALID,
	  "ErrorOutputPrefix must contain !{firehose:error-output-type}" },
	{ "{" BASE ",\"Prefix\":\"p/!{timestamp:yyyy}/\",\"ErrorOutputPrefix\":"
	  "\"e/!{firehose:error-output-type}/!{partitionKeyFromQuery:k}/\"}", true,
	  FL_INVALID, "ErrorOutputPrefix can't contain !{partitionKeyFromQuery:k}" },
	{ NULL, false, FL_OK, NULL },
};

static void test_bad_table(void **state)
{
	int failures = 0;

	for (const struct bad_case *t = bad_cases; t->in; t++) {
		struct fl_stream_conf *c = NULL;
		struct fl_error err;
		enum fl_result r = build(t->in, t->extended, 1, &c, &err);

		if (r != t->code || err.code != t->code || !strstr(err.msg, t->msg)) {
			print_error("input %s\n got %s \"%s\"\nwant %s \"%s\"\n", t->in,
				    fl_result_name(r), r ? err.msg : "", fl_result_name(t->code),
				    t->msg);
			fl_stream_conf_unref(c);
			failures++;
			continue;
		}
		assert_null(c);
	}
	assert_int_equal(failures, 0);
}

/* Values longer than 64 characters are cut in messages so the constraint
 * fits FL_ERROR_MAX. */
static void test_long_values(void **state)
{
	char text[2200], big[1100];
	struct fl_stream_conf *c = NULL;
	struct fl_error err;

	memset(big, 'a', 1025);
	big[1025] = '\0';
	snprintf(text, sizeof text, "{" BASE ",\"Prefix\":\"%s\"}", big);
	assert_int_equal(build(text, true, 1, &c, &err), FL_VALIDATION);
	assert_non_null(strstr(err.msg, V1 "Value 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			       "aaaaaaaaaaaaaaaaaaaa...' at '" EXT ".prefix' failed to "
			       "satisfy constraint: Member must have length less than or "
			       "equal to 1024"));
	snprintf(text, sizeof text, "{" BASE ",\"ErrorOutputPrefix\":\"%s\"}", big);
	assert_int_equal(build(text, true, 1, &c, &err), FL_VALIDATION);
	assert_non_null(strstr(err.msg, "at '" EXT ".errorOutputPrefix' failed"));
	/* 1024 characters, multi-byte ones counted once. */
	memset(big, 'a', 1022);
	memcpy(big + 1022, "\xc3\xa9", 3);      /* é + NUL: 1023 characters */
	snprintf(text, sizeof text, "{" BASE ",\"Prefix\":\"%s\"}", big);
	assert_int_equal(build(text, true, 1, &c, &err), FL_OK);
	fl_stream_conf_unref(c);
	/* A bucket name of 256 characters. */
	memset(big, 'b', 256);
	big[256] = '\0';
	snprintf(text, sizeof text, "{" ROLE ",\"BucketARN\":\"arn:aws:s3:::%s\"}", big);
	assert_int_equal(build(text, true, 1, &c, &err), FL_VALIDATION);
	assert_non_null(strstr(err.msg, "pattern"));
	big[255] = '\0';
	snprintf(text, sizeof text, "{" ROLE ",\"BucketARN\":\"arn:aws:s3:::%s\"}", big);
	assert_int_equal(build(text, true, 1, &c, &err), FL_OK);
	assert_string_equal(c->bucket, big);
	fl_stream_conf_unref(c);
}

static void test_null_input(void **state)
{
	struct fl_stream_conf *c = (struct fl_stream_conf *)1;
	struct fl_error err = { 0 };

	assert_int_equal(fl_stream_conf_new(NULL, true, 1, &c, &err), FL_INVALID);
	assert_null(c);
	assert_int_equal(fl_stream_conf_new(NULL, true, 1, &c, NULL), FL_INVALID);
}

/* ------------------------------------------------------------------ */
/* UpdateDestination: each member given replaces the stored one whole. */

struct update_case {
	const char *name;
	const char *base;
	const char *update;
	bool extended;
	enum fl_result code;
	const char *msg;           /* FL_OK: the description, exact */
};

static const struct update_case update_cases[] = {
	{ "BufferingHints replaced whole",
	  "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":10,\"IntervalInSeconds\":60}}",
	  "{\"BufferingHints\":{\"SizeInMBs\":20}}", true, FL_OK,
	  "{" BASE ",\"BufferingHints\":{\"SizeInMBs\":20,\"IntervalInSeconds\":300},"
	  "\"CompressionFormat\":\"UNCOMPRESSED\",\"EncryptionConfiguration\":"
	  "{\"NoEncryptionConfig\":\"NoEncryption\"},\"CloudWatchLoggingOptions\":"
	  "{\"Enabled\":false},\"S3BackupMode\":\"Disabled\"}" },
	{ "S3DestinationUpdate on any destination",
	  "{" BASE ",\"Prefix\":\"a/\"}",
	  "{\"CompressionFormat\":\"GZIP\",\"Prefix\":\"b/\",\"ProcessingConfiguration\":{}}",
	  false, FL_OK,
	  "{" BASE ",\"Prefix\":\"b/\",\"BufferingHints\":{\"SizeInMBs\":5,"
	  "\"IntervalInSeconds\":300},\"CompressionFormat\":\"GZIP\","
	  "\"EncryptionConfiguration\":{\"NoEncryptionConfig\":\"NoEncryption\"},"
	  "\"CloudWatchLoggingOptions\":{\"Enabled\":false},\"S3BackupMode\":\"Disabled\"}" },
	{ "empty update", "{" BASE "}", "{}", true, FL_OK, MINIMAL_DESCRIPTION },
	{ "role and bucket replaced", "{" BASE "}",
	  "{\"BucketARN\":\"arn:aws:s3:::other\"}", true, FL_OK,
	  "{" ROLE ",\"BucketARN\":\"arn:aws:s3:::other\",\"BufferingHints\":{\"SizeInMBs\":5,"
	  "\"IntervalInSeconds\":300},\"CompressionFormat\":\"UNCOMPRESSED\","
	  "\"EncryptionConfiguration\":{\"NoEncryptionConfig\":\"NoEncryption\"},"
	  "\"CloudWatchLoggingOptions\":{\"Enabled\":false},\"S3BackupMode\":\"Disabled\"}" },
	{ "shape errors name the update", "{" BASE "}",
	  "{\"BufferingHints\":{\"SizeInMBs\":200}}", true, FL_VALIDATION,
	  V1 "Value '200' at 'extendedS3DestinationUpdate.bufferingHints.sizeInMBs' failed "
	  "to satisfy constraint: Member must have value less than or equal to 128" },
	{ "plain update path", "{" BASE "}", "{\"CompressionFormat\":\"LZ4\"}", false,
	  FL_VALIDATION, "at 's3DestinationUpdate.compressionFormat'" },
	{ "type errors", "{" BASE "}", "{\"Prefix\":1}", true, FL_MALFORMED,
	  "Value at 'extendedS3DestinationUpdate.prefix' is not a string" },
	{ "nested required members still required", "{" BASE "}",
	  "{\"EncryptionConfiguration\":{\"KMSEncryptionConfig\":{}}}", true, FL_VALIDATION,
	  "Value null at 'extendedS3DestinationUpdate.encryptionConfiguration."
	  "kMSEncryptionConfig.aWSKMSKeyARN'" },
	{ "dynamic partitioning cannot be turned on", "{" BASE "}",
	  "{" KPREFIX "," EPREFIX "," HINTS64 "," DP_ON "," EXTRACT_K "}", true, FL_INVALID,
	  "Dynamic Partitioning cannot be enabled on an existing delivery stream" },
	{ "nor off", "{" DP_BASE "," EXTRACT_K "}",
	  "{\"Prefix\":\"p/\",\"DynamicPartitioningConfiguration\":{\"Enabled\":false},"
	  "\"ProcessingConfiguration\":{\"Enabled\":false}}", true, FL_INVALID,
	  "Dynamic Partitioning cannot be disabled on an existing delivery stream" },
	{ "the result is checked as a whole", "{" DP_BASE "," EXTRACT_K "}",
	  "{\"Prefix\":\"p/\"}", true, FL_INVALID,
	  "S3 Prefix should contain Dynamic Partitioning namespaces" },
	{ "dropping hints under dynamic partitioning", "{" DP_BASE "," EXTRACT_K "}",
	  "{\"BufferingHints\":{\"IntervalInSeconds\":60}}", true, FL_INVALID,
	  "BufferingHints.SizeInMBs must be at least 64" },
	{ "S3 backup", "{" BASE "}", "{\"S3BackupUpdate\":{\"Prefix\":\"b/\"}}", true,
	  FL_INVALID, "S3 backup is not supported by firelake" },
	{ "S3 backup mode", "{" BASE "}", "{\"S3BackupMode\":\"Enabled\"}", true,
	  FL_INVALID, "S3 backup is not supported by firelake" },
	{ "a new query", "{" DP_BASE "," EXTRACT_K "}",
	  "{" PROCESSORS(EXTRACTION("{k: .other}")) "}", true, FL_OK, NULL },
	{ "a query without the prefix's key", "{" DP_BASE "," EXTRACT_K "}",
	  "{" PROCESSORS(EXTRACTION("{j: .other}")) "}", true, FL_INVALID,
	  "!{partitionKeyFromQuery:k} in Prefix is not a key" },
	{ NULL, NULL, NULL, false, FL_OK, NULL },
};

static void test_update_table(void **state)
{
	for (const struct update_case *t = update_cases; t->name; t++) {
		struct fl_stream_conf *base = NULL, *c = NULL;
		struct fl_error err;
		json_t *upd = parse(t->update);
		json_t *before;
		enum fl_result r;

		if (build(t->base, true, 1, &base, &err) != FL_OK)
			fail_msg("%s: base refused: %s", t->name, err.msg);
		before = json_deep_copy(base->destination);
		memset(&err, 0, sizeof err);
		r = fl_stream_conf_update(base, upd, t->extended, 2, &c, &err);
		if (r != t->code || (r != FL_OK && !strstr(err.msg, t->msg)))
			fail_msg("%s: got %s \"%s\"", t->name, fl_result_name(r), err.msg);
		if (r == FL_OK) {
			assert_int_equal(c->version, 2);
			assert_int_equal(c->refs, 1);
			if (t->msg)
				assert_json(c->destination, t->msg);
		} else {
			assert_null(c);
		}
		/* The base is untouched. */
		assert_true(json_equal(base->destination, before));
		assert_int_equal(base->version, 1);
		json_decref(before);
		json_decref(upd);
		fl_stream_conf_unref(c);
		fl_stream_conf_unref(base);
	}
}

static void test_update_fields(void **state)
{
	struct fl_stream_conf *base = NULL, *c = NULL;
	struct fl_error err;
	json_t *upd = parse("{\"Prefix\":\"p/k=!{partitionKeyFromQuery:k}/j=!{"
			    "partitionKeyFromQuery:j}/\"," PROCESSORS(EXTRACTION("{k: .a, j: .b}"))
			    ",\"CompressionFormat\":\"GZIP\",\"BufferingHints\":"
			    "{\"SizeInMBs\":128,\"IntervalInSeconds\":0},\"FileExtension\":\".ndjson\"}");

	assert_int_equal(build("{" DP_BASE "," EXTRACT_K "}", true, 4, &base, &err), FL_OK);
	assert_int_equal(base->nkeys, 1);
	assert_int_equal(fl_stream_conf_update(base, upd, true, 5, &c, &err), FL_OK);
	assert_int_equal(c->version, 5);
	assert_true(c->gzip);
	assert_int_equal(c->size_bytes, 128 * 1048576ULL);
	assert_int_equal(c->interval_s, 0);
	assert_string_equal(c->file_extension, ".ndjson");
	assert_int_equal(c->nkeys, 2);
	assert_string_equal(c->key_names[0], "k");
	assert_string_equal(c->key_names[1], "j");
	assert_non_null(c->query);
	assert_ptr_not_equal(c->query, base->query);
	json_decref(upd);
	fl_stream_conf_unref(base);     /* c owns its own compiled parts */
	assert_string_equal(c->key_names[1], "j");
	fl_stream_conf_unref(c);
}

/* ------------------------------------------------------------------ */
/* The catalog's copy: a description loads back to itself. */

static void test_load_round_trip(void **state)
{
	static const char *const inputs[] = {
		"{" BASE "}",
		LAKE_CONF,
		"{" BASE ",\"Prefix\":\"logs/\",\"ErrorOutputPrefix\":\"\",\"FileExtension\":\".j\","
		"\"CloudWatchLoggingOptions\":{\"Enabled\":true,\"LogGroupName\":\"g\","
		"\"LogStreamName\":\"s\"},\"CustomTimeZone\":\"\"}",
		NULL,
	};

	for (const char *const *in = inputs; *in; in++) {
		struct fl_stream_conf *c = NULL, *l = NULL;
		struct fl_error err;

		assert_int_equal(build(*in, true, 1, &c, &err), FL_OK);
		assert_int_equal(fl_stream_conf_load(c->destination, 7, &l, &err), FL_OK);
		assert_int_equal(l->version, 7);
		assert_true(json_equal(l->destination, c->destination));
		assert_string_equal(l->bucket, c->bucket);
		assert_int_equal(l->gzip, c->gzip);
		assert_int_equal(l->size_bytes, c->size_bytes);
		assert_int_equal(l->interval_s, c->interval_s);
		assert_int_equal(l->nkeys, c->nkeys);
		assert_int_equal(l->query != NULL, c->query != NULL);
		fl_stream_conf_unref(l);
		fl_stream_conf_unref(c);
	}
}

static void test_load_checks(void **state)
{
	struct fl_stream_conf *c = NULL;
	struct fl_error err = { 0 };
	json_t *d = parse("{" BASE ",\"BufferingHints\":{\"SizeInMBs\":500}}");

	assert_int_equal(fl_stream_conf_load(d, 1, &c, &err), FL_VALIDATION);
	assert_null(c);
	json_decref(d);
}

/* ------------------------------------------------------------------ */
/* References. */

#define REF_THREADS 8
#define REF_ROUNDS 20000

static void *ref_worker(void *arg)
{
	struct fl_stream_conf *c = arg;

	for (int i = 0; i < REF_ROUNDS; i++) {
		struct fl_stream_conf *r = fl_stream_conf_ref(c);
		fl_stream_conf_unref(r);
	}
	fl_stream_conf_unref(c);        /* the reference given to this thread */
	return NULL;
}

static void test_refcount(void **state)
{
	struct fl_stream_conf *c = NULL;
	struct fl_error err;
	pthread_t th[REF_THREADS];

	assert_int_equal(build(LAKE_CONF, true, 1, &c, &err), FL_OK);
	assert_ptr_equal(fl_stream_conf_ref(c), c);
	assert_int_equal(c->refs, 2);
	fl_stream_conf_unref(c);
	assert_int_equal(c->refs, 1);
	for (int i = 0; i < REF_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, ref_worker,
						fl_stream_conf_ref(c)), 0);
	for (int i = 0; i < REF_THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(c->refs, 1);
	fl_stream_conf_unref(c);        /* frees: valgrind sees no leak */
	assert_null(fl_stream_conf_ref(NULL));
	fl_stream_conf_unref(NULL);
}

/* ------------------------------------------------------------------ */

static void test_stream_names(void **state)
{
	static const struct { const char *name; bool ok; } cases[] = {
		{ "events", true }, { "a", true }, { "A-b_c.9", true },
		{ "0123456789012345678901234567890123456789012345678901234567890123", true },
		{ "01234567890123456789012345678901234567890123456789012345678901234", false },
		{ "", false }, { "a b", false }, { "a/b", false }, { "é", false },
		{ "a:b", false }, { NULL, false },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (fl_stream_name_valid(cases[i].name) != cases[i].ok)
			fail_msg("%s", cases[i].name ? cases[i].name : "(null)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_lake_default),
		cmocka_unit_test(test_ok_table),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_null_input),
		cmocka_unit_test(test_update_table),
		cmocka_unit_test(test_update_fields),
		cmocka_unit_test(test_load_round_trip),
		cmocka_unit_test(test_load_checks),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_stream_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
