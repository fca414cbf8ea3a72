/*
 * stream_conf.c - a delivery stream's S3 destination: validated, defaulted,
 * compiled.
 *
 * DESIGN
 *
 * A configuration enters in one of three ways: a CreateDeliveryStream
 * request (fl_stream_conf_new), an UpdateDestination request
 * (fl_stream_conf_update) or the catalog, which stores the description
 * that Describe shows (fl_stream_conf_load).  All three end in one
 * function, conf_finish, so a stored description is held to exactly the
 * rules a request is.
 *
 * Validation has the two layers that Firehose has:
 *
 *   1. The shape (a ValidationException in AWS, FL_VALIDATION here): the
 *      members of the botocore model (firehose 2015-08-04) with their
 *      min/max, patterns and enums, written down as the tables below.  One
 *      walk over the request checks every constraint, reports every
 *      violation in Coral's words,
 *
 *        1 validation error detected: Value '129' at
 *        'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs'
 *        failed to satisfy constraint: Member must have value less than or
 *        equal to 128
 *
 *      and copies the members it knows (unknown members are ignored, as
 *      AWS JSON 1.1 ignores them; they are not echoed).  A JSON value of
 *      the wrong type (a string where an integer goes) is what AWS answers
 *      with a SerializationException: FL_MALFORMED here, and the walk
 *      stops at it.  A JSON null is an absent member.
 *
 *   2. The semantics (an InvalidArgumentException, FL_INVALID): the rules
 *      of dynamic partitioning and prefixes, in AWS's own words where they
 *      are known, and the options firelake does not implement, said
 *      plainly ("... is not supported by firelake") rather than accepted
 *      and ignored.
 *
 * Then the defaults are filled in and the description is built, in the
 * model's member order, as DescribeDeliveryStream shows it:
 * BufferingHints, CompressionFormat, EncryptionConfiguration,
 * CloudWatchLoggingOptions and S3BackupMode always; Prefix,
 * ErrorOutputPrefix, ProcessingConfiguration, DataFormatConversion-
 * Configuration, DynamicPartitioningConfiguration (RetryOptions filled
 * in), FileExtension and CustomTimeZone when given.
 *
 * Processors: firelake applies MetadataExtraction only (its query is
 * compiled here and run by the ingest path).  RecordDeAggregation and
 * AppendDelimiterToRecord are accepted and echoed but not applied; Lambda,
 * Decompression and CloudWatchLogProcessing are refused.
 *
 * Where firelake departs from AWS on purpose:
 *   - Firehose refuses BufferingHints.IntervalInSeconds below 60 with
 *     dynamic partitioning ("zero buffering is not available for dynamic
 *     partitioning"); firelake allows it, so a lake can be fresh within
 *     seconds (its own default stream flushes every 10 s).
 *   - A partitionKeyFromQuery key that a query of the form {k: ..., ...}
 *     cannot produce is refused here; Firehose finds it only at delivery.
 */
#include "stream.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "partition.h"
#include "prefix.h"

#define SC_MIB 1048576ULL
#define SC_SIZE_MB_DEFAULT 5
#define SC_INTERVAL_S_DEFAULT 300
#define SC_RETRY_S_DEFAULT 300
#define SC_DP_MIN_SIZE_MB 64
#define SC_PATH_MAX 512
#define SC_MSG_MAX 4096
#define SC_VALUE_SHOWN 64       /* longer values are cut in messages */
#define SC_KEY_MAX 128

/* ------------------------------------------------------------------ */
/* Patterns of the model.  Java's matches(): the whole string, and '.'
 * matches no line terminator. */

static bool has_line_terminator(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r')
			return true;
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85)
			return true;        /* U+0085 */
		if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
			return true;        /* U+2028, U+2029 */
	}
	return false;
}

static bool ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_alnum(char c)
{
	return ascii_alpha(c) || (c >= '0' && c <= '9');
}

static bool is_java_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* POSIX ERE, anchored; the model's ARN patterns translated (\d, \w and
 * backslashes inside brackets have no POSIX spelling). */
static bool regex_match(const char *ere, const char *s, size_t n)
{
	regex_t re;
	bool ok;

	if (has_line_terminator(s, n))
		return false;
	if (regcomp(&re, ere, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static bool m_role_arn(const char *s, size_t n)
{
	return regex_match("^arn:.*:iam::[0-9]{12}:role/[a-zA-Z_0-9+=,.@_/-]+$", s, n);
}

static bool m_bucket_arn(const char *s, size_t n)
{
	return regex_match("^arn:.*:s3:::[a-zA-Z0-9_.-]{1,255}$", s, n);
}

static bool m_kms_arn(const char *s, size_t n)
{
	return regex_match("^arn:.*:kms:[a-zA-Z0-9-]+:[0-9]{12}:(key|alias)/"
			   "[a-zA-Z_0-9+=,.@_/-]+$", s, n);
}

/* .* */
static bool m_any_line(const char *s, size_t n)
{
	return !has_line_terminator(s, n);
}

/* ^(?!\s*$).+ */
static bool m_not_blank(const char *s, size_t n)
{
	bool blank = true;

	if (n == 0 || has_line_terminator(s, n))
		return false;
	for (size_t i = 0; i < n && blank; i++)
		blank = is_java_space(s[i]);
	return !blank;
}

/* ^\S+$ */
static bool m_no_space(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (is_java_space(s[i]))
			return false;
	return true;
}

/* [\.\-_/#A-Za-z0-9]* */
static bool m_log_group(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!ascii_alnum(s[i]) && !strchr(".-_/#", s[i]))
			return false;
	return true;
}

/* [^:*]* */
static bool m_log_stream(const char *s, size_t n)
{
	return memchr(s, ':', n) == NULL && memchr(s, '*', n) == NULL;
}

/* ^$|\.[0-9a-z!\-_.*'()]+ */
static bool m_file_ext(const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (s[0] != '.' || n < 2)
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
		    !strchr("!-_.*'()", c))
			return false;
	}
	return true;
}

/* ^$|[a-zA-Z/_]+ */
static bool m_time_zone(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!ascii_alpha(s[i]) && s[i] != '/' && s[i] != '_')
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* The shapes firelake reads, from the model. */

enum sc_kind { SC_STRING, SC_INT, SC_BOOL, SC_DOUBLE, SC_STRUCT, SC_LIST, SC_MAP };

struct sc_member;

struct sc_shape {
	enum sc_kind kind;
	bool has_min, has_max;
	double min, max;              /* length for strings, value for numbers */
	const char *pattern;          /* the model's text, quoted in messages */
	bool (*match)(const char *s, size_t n);
	const char *const *enums;     /* NULL-terminated */
	const struct sc_member *members; /* SC_STRUCT, ends with a NULL name */
	const struct sc_shape *elem;  /* SC_LIST member, SC_MAP value */
	const struct sc_shape *key;   /* SC_MAP key */
};

struct sc_member {
	const char *name;
	const struct sc_shape *shape;
	bool required;
};

#define STR_LEN(lo, hi, pat, fn) { .kind = SC_STRING, .has_min = true, \
	.has_max = true, .min = (lo), .max = (hi), .pattern = (pat), .match = (fn) }
#define ENUM(list) { .kind = SC_STRING, .enums = (list) }
#define INT_RANGE(lo, hi) { .kind = SC_INT, .has_min = true, .has_max = true, \
	.min = (lo), .max = (hi) }
#define INT_MIN_ONLY(lo) { .kind = SC_INT, .has_min = true, .min = (lo) }
#define STRUCT(m) { .kind = SC_STRUCT, .members = (m) }
#define LIST(e) { .kind = SC_LIST, .elem = (e) }

static const struct sc_shape SH_BOOL = { .kind = SC_BOOL };
static const struct sc_shape SH_ROLE_ARN = STR_LEN(1, 512,
	"arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+", m_role_arn);
static const struct sc_shape SH_BUCKET_ARN = STR_LEN(1, 2048,
	"arn:.*:s3:::[\\w\\.\\-]{1,255}", m_bucket_arn);
static const struct sc_shape SH_PREFIX = STR_LEN(0, 1024, ".*", m_any_line);
static const struct sc_shape SH_SIZE_MB = INT_RANGE(1, 128);
static const struct sc_shape SH_INTERVAL_S = INT_RANGE(0, 900);
static const char *const COMPRESSION_ENUM[] = {
	"UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY", NULL };
static const struct sc_shape SH_COMPRESSION = ENUM(COMPRESSION_ENUM);
static const char *const NO_ENCRYPTION_ENUM[] = { "NoEncryption", NULL };
static const struct sc_shape SH_NO_ENCRYPTION = ENUM(NO_ENCRYPTION_ENUM);
static const struct sc_shape SH_KMS_ARN = STR_LEN(1, 512,
	"arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+",
	m_kms_arn);
static const struct sc_shape SH_LOG_GROUP = STR_LEN(0, 512,
	"[\\.\\-_/#A-Za-z0-9]*", m_log_group);
static const struct sc_shape SH_LOG_STREAM = STR_LEN(0, 512, "[^:*]*", m_log_stream);
static const char *const PROCESSOR_TYPE_ENUM[] = {
	"RecordDeAggregation", "Decompression", "CloudWatchLogProcessing", "Lambda",
	"MetadataExtraction", "AppendDelimiterToRecord", NULL };
static const struct sc_shape SH_PROCESSOR_TYPE = ENUM(PROCESSOR_TYPE_ENUM);
static const char *const PARAMETER_NAME_ENUM[] = {
	"LambdaArn", "NumberOfRetries", "MetadataExtractionQuery", "JsonParsingEngine",
	"RoleArn", "BufferSizeInMBs", "BufferIntervalInSeconds", "SubRecordType",
	"Delimiter", "CompressionFormat", "DataMessageExtraction", NULL };
static const struct sc_shape SH_PARAMETER_NAME = ENUM(PARAMETER_NAME_ENUM);
static const struct sc_shape SH_PARAMETER_VALUE = STR_LEN(1, 5120,
	"^(?!\\s*$).+", m_not_blank);
static const char *const BACKUP_MODE_ENUM[] = { "Disabled", "Enabled", NULL };
static const struct sc_shape SH_BACKUP_MODE = ENUM(BACKUP_MODE_ENUM);
static const struct sc_shape SH_NO_SPACE = STR_LEN(1, 1024, "^\\S+$", m_no_space);
static const struct sc_shape SH_NON_EMPTY = STR_LEN(1, 1024, "^(?!\\s*$).+", m_not_blank);
static const struct sc_shape SH_BLOCK_SIZE = INT_MIN_ONLY(67108864);
static const struct sc_shape SH_PAGE_SIZE = INT_MIN_ONLY(65536);
static const struct sc_shape SH_NON_NEGATIVE = INT_MIN_ONLY(0);
static const struct sc_shape SH_STRIPE_SIZE = INT_MIN_ONLY(8388608);
static const struct sc_shape SH_ROW_INDEX_STRIDE = INT_MIN_ONLY(1000);
static const struct sc_shape SH_PROPORTION = { .kind = SC_DOUBLE, .has_min = true,
	.has_max = true, .min = 0, .max = 1 };
static const char *const PARQUET_COMPRESSION_ENUM[] = {
	"UNCOMPRESSED", "GZIP", "SNAPPY", NULL };
static const struct sc_shape SH_PARQUET_COMPRESSION = ENUM(PARQUET_COMPRESSION_ENUM);
static const char *const PARQUET_WRITER_ENUM[] = { "V1", "V2", NULL };
static const struct sc_shape SH_PARQUET_WRITER = ENUM(PARQUET_WRITER_ENUM);
static const char *const ORC_COMPRESSION_ENUM[] = { "NONE", "ZLIB", "SNAPPY", NULL };
static const struct sc_shape SH_ORC_COMPRESSION = ENUM(ORC_COMPRESSION_ENUM);
static const char *const ORC_FORMAT_ENUM[] = { "V0_11", "V0_12", NULL };
static const struct sc_shape SH_ORC_FORMAT = ENUM(ORC_FORMAT_ENUM);
static const struct sc_shape SH_RETRY_S = INT_RANGE(0, 7200);
static const struct sc_shape SH_FILE_EXT = STR_LEN(0, 128,
	"^$|\\.[0-9a-z!\\-_.*'()]+", m_file_ext);
static const struct sc_shape SH_TIME_ZONE = STR_LEN(0, 50, "^$|[a-zA-Z/_]+", m_time_zone);

static const struct sc_member M_BUFFERING[] = {
	{ "SizeInMBs", &SH_SIZE_MB, false },
	{ "IntervalInSeconds", &SH_INTERVAL_S, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_BUFFERING = STRUCT(M_BUFFERING);

static const struct sc_member M_KMS[] = {
	{ "AWSKMSKeyARN", &SH_KMS_ARN, true },
	{ NULL, NULL, false } };
static const struct sc_shape SH_KMS = STRUCT(M_KMS);

static const struct sc_member M_ENCRYPTION[] = {
	{ "NoEncryptionConfig", &SH_NO_ENCRYPTION, false },
	{ "KMSEncryptionConfig", &SH_KMS, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_ENCRYPTION = STRUCT(M_ENCRYPTION);

static const struct sc_member M_LOGGING[] = {
	{ "Enabled", &SH_BOOL, false },
	{ "LogGroupName", &SH_LOG_GROUP, false },
	{ "LogStreamName", &SH_LOG_STREAM, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_LOGGING = STRUCT(M_LOGGING);

static const struct sc_member M_PARAMETER[] = {
	{ "ParameterName", &SH_PARAMETER_NAME, true },
	{ "ParameterValue", &SH_PARAMETER_VALUE, true },
	{ NULL, NULL, false } };
static const struct sc_shape SH_PARAMETER = STRUCT(M_PARAMETER);
static const struct sc_shape SH_PARAMETERS = LIST(&SH_PARAMETER);

static const struct sc_member M_PROCESSOR[] = {
	{ "Type", &SH_PROCESSOR_TYPE, true },
	{ "Parameters", &SH_PARAMETERS, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_PROCESSOR = STRUCT(M_PROCESSOR);
static const struct sc_shape SH_PROCESSORS = LIST(&SH_PROCESSOR);

static const struct sc_member M_PROCESSING[] = {
	{ "Enabled", &SH_BOOL, false },
	{ "Processors", &SH_PROCESSORS, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_PROCESSING = STRUCT(M_PROCESSING);

static const struct sc_member M_SCHEMA[] = {
	{ "RoleARN", &SH_NO_SPACE, false },
	{ "CatalogId", &SH_NO_SPACE, false },
	{ "DatabaseName", &SH_NO_SPACE, false },
	{ "TableName", &SH_NO_SPACE, false },
	{ "Region", &SH_NO_SPACE, false },
	{ "VersionId", &SH_NO_SPACE, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_SCHEMA = STRUCT(M_SCHEMA);

static const struct sc_shape SH_KEY_MAPPINGS = { .kind = SC_MAP,
	.key = &SH_NO_SPACE, .elem = &SH_NON_EMPTY };
static const struct sc_member M_OPENX[] = {
	{ "ConvertDotsInJsonKeysToUnderscores", &SH_BOOL, false },
	{ "CaseInsensitive", &SH_BOOL, false },
	{ "ColumnToJsonKeyMappings", &SH_KEY_MAPPINGS, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_OPENX = STRUCT(M_OPENX);
static const struct sc_shape SH_NON_EMPTY_LIST = LIST(&SH_NON_EMPTY);
static const struct sc_member M_HIVE[] = {
	{ "TimestampFormats", &SH_NON_EMPTY_LIST, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_HIVE = STRUCT(M_HIVE);
static const struct sc_member M_DESERIALIZER[] = {
	{ "OpenXJsonSerDe", &SH_OPENX, false },
	{ "HiveJsonSerDe", &SH_HIVE, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_DESERIALIZER = STRUCT(M_DESERIALIZER);
static const struct sc_member M_INPUT_FORMAT[] = {
	{ "Deserializer", &SH_DESERIALIZER, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_INPUT_FORMAT = STRUCT(M_INPUT_FORMAT);

static const struct sc_member M_PARQUET[] = {
	{ "BlockSizeBytes", &SH_BLOCK_SIZE, false },
	{ "PageSizeBytes", &SH_PAGE_SIZE, false },
	{ "Compression", &SH_PARQUET_COMPRESSION, false },
	{ "EnableDictionaryCompression", &SH_BOOL, false },
	{ "MaxPaddingBytes", &SH_NON_NEGATIVE, false },
	{ "WriterVersion", &SH_PARQUET_WRITER, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_PARQUET = STRUCT(M_PARQUET);
static const struct sc_shape SH_NO_SPACE_LIST = LIST(&SH_NO_SPACE);
static const struct sc_member M_ORC[] = {
	{ "StripeSizeBytes", &SH_STRIPE_SIZE, false },
	{ "BlockSizeBytes", &SH_BLOCK_SIZE, false },
	{ "RowIndexStride", &SH_ROW_INDEX_STRIDE, false },
	{ "EnablePadding", &SH_BOOL, false },
	{ "PaddingTolerance", &SH_PROPORTION, false },
	{ "Compression", &SH_ORC_COMPRESSION, false },
	{ "BloomFilterColumns", &SH_NO_SPACE_LIST, false },
	{ "BloomFilterFalsePositiveProbability", &SH_PROPORTION, false },
	{ "DictionaryKeyThreshold", &SH_PROPORTION, false },
	{ "FormatVersion", &SH_ORC_FORMAT, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_ORC = STRUCT(M_ORC);
static const struct sc_member M_SERIALIZER[] = {
	{ "ParquetSerDe", &SH_PARQUET, false },
	{ "OrcSerDe", &SH_ORC, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_SERIALIZER = STRUCT(M_SERIALIZER);
static const struct sc_member M_OUTPUT_FORMAT[] = {
	{ "Serializer", &SH_SERIALIZER, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_OUTPUT_FORMAT = STRUCT(M_OUTPUT_FORMAT);

static const struct sc_member M_FORMAT_CONVERSION[] = {
	{ "SchemaConfiguration", &SH_SCHEMA, false },
	{ "InputFormatConfiguration", &SH_INPUT_FORMAT, false },
	{ "OutputFormatConfiguration", &SH_OUTPUT_FORMAT, false },
	{ "Enabled", &SH_BOOL, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_FORMAT_CONVERSION = STRUCT(M_FORMAT_CONVERSION);

static const struct sc_member M_RETRY[] = {
	{ "DurationInSeconds", &SH_RETRY_S, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_RETRY = STRUCT(M_RETRY);
static const struct sc_member M_DYNAMIC[] = {
	{ "RetryOptions", &SH_RETRY, false },
	{ "Enabled", &SH_BOOL, false },
	{ NULL, NULL, false } };
static const struct sc_shape SH_DYNAMIC = STRUCT(M_DYNAMIC);

/* S3DestinationConfiguration and ExtendedS3DestinationConfiguration, and
 * their Update twins: the same members, none of them required. */
#define S3_MEMBERS(req) \
	{ "RoleARN", &SH_ROLE_ARN, req }, \
	{ "BucketARN", &SH_BUCKET_ARN, req }, \
	{ "Prefix", &SH_PREFIX, false }, \
	{ "ErrorOutputPrefix", &SH_PREFIX, false }, \
	{ "BufferingHints", &SH_BUFFERING, false }, \
	{ "CompressionFormat", &SH_COMPRESSION, false }, \
	{ "EncryptionConfiguration", &SH_ENCRYPTION, false }, \
	{ "CloudWatchLoggingOptions", &SH_LOGGING, false }

#define EXTENDED_MEMBERS(req, backup_name, backup_shape) \
	S3_MEMBERS(req), \
	{ "ProcessingConfiguration", &SH_PROCESSING, false }, \
	{ "S3BackupMode", &SH_BACKUP_MODE, false }, \
	{ backup_name, backup_shape, false }, \
	{ "DataFormatConversionConfiguration", &SH_FORMAT_CONVERSION, false }, \
	{ "DynamicPartitioningConfiguration", &SH_DYNAMIC, false }, \
	{ "FileExtension", &SH_FILE_EXT, false }, \
	{ "CustomTimeZone", &SH_TIME_ZONE, false }

static const struct sc_member M_S3[] = { S3_MEMBERS(true), { NULL, NULL, false } };
static const struct sc_shape SH_S3 = STRUCT(M_S3);
static const struct sc_member M_S3_UPDATE[] = { S3_MEMBERS(false), { NULL, NULL, false } };
static const struct sc_shape SH_S3_UPDATE = STRUCT(M_S3_UPDATE);
static const struct sc_member M_EXTENDED[] = {
	EXTENDED_MEMBERS(true, "S3BackupConfiguration", &SH_S3), { NULL, NULL, false } };
static const struct sc_shape SH_EXTENDED = STRUCT(M_EXTENDED);
static const struct sc_member M_EXTENDED_UPDATE[] = {
	EXTENDED_MEMBERS(false, "S3BackupUpdate", &SH_S3_UPDATE), { NULL, NULL, false } };
static const struct sc_shape SH_EXTENDED_UPDATE = STRUCT(M_EXTENDED_UPDATE);

/* ------------------------------------------------------------------ */
/* The walk: checks value against shape, copies what it knows. */

struct sc_walk {
	char path[SC_PATH_MAX];
	size_t plen;
	int nerrors;
	struct fl_buf msg;          /* "Value ... constraint: ...; Value ..." */
	bool malformed;
	struct fl_error *err;       /* the FL_MALFORMED text, when malformed */
};

/* Appends ".seg" (camelCase: the first letter lower-cased, as Coral
 * writes member paths); returns the length to restore. */
static size_t path_push(struct sc_walk *w, const char *seg, bool camel)
{
	size_t old = w->plen;
	int n = snprintf(w->path + w->plen, sizeof w->path - w->plen, "%s%s",
			 w->plen ? "." : "", seg);

	if (n < 0 || (size_t)n >= sizeof w->path - w->plen) {
		w->path[old] = '\0';
		return old;
	}
	if (camel && seg[0])
		w->path[w->plen + (w->plen ? 1 : 0)] =
			(char)tolower((unsigned char)seg[0]);
	w->plen += (size_t)n;
	return old;
}

static void path_pop(struct sc_walk *w, size_t old)
{
	w->plen = old;
	w->path[old] = '\0';
}

/* One constraint violation, in Coral's words.  value NULL: "Value null".
 * Values are cut at SC_VALUE_SHOWN characters so the constraint survives
 * FL_ERROR_MAX. */
static void violation(struct sc_walk *w, const char *value, size_t vlen,
		      const char *fmt, ...) FL_PRINTF(4, 5);

static void violation(struct sc_walk *w, const char *value, size_t vlen,
		      const char *fmt, ...)
{
	char constraint[1024];
	va_list ap;
	enum fl_result r = FL_OK;

	va_start(ap, fmt);
	vsnprintf(constraint, sizeof constraint, fmt, ap);
	va_end(ap);
	if (w->nerrors++ > 0)
		r = fl_buf_adds(&w->msg, "; ");
	if (!value) {
		if (r == FL_OK)
			r = fl_buf_adds(&w->msg, "Value null");
	} else if (r == FL_OK) {
		bool cut = vlen > SC_VALUE_SHOWN;
		r = fl_buf_printf(&w->msg, "Value '%.*s%s'", (int)(cut ? SC_VALUE_SHOWN : vlen),
				  value, cut ? "..." : "");
	}
	if (r == FL_OK)
		r = fl_buf_printf(&w->msg, " at '%s' failed to satisfy constraint: %s",
				  w->path, constraint);
	/* Past SC_MSG_MAX the tail is dropped; the count stays exact. */
	(void)r;
}

static void malformed(struct sc_walk *w, const char *what)
{
	if (w->malformed)
		return;
	w->malformed = true;
	fl_error_set(w->err, FL_MALFORMED, "Value at '%s' is not %s", w->path, what);
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static void check_string(struct sc_walk *w, const struct sc_shape *sh,
			 const char *s, size_t n)
{
	size_t chars = utf8_chars(s, n);

	if (sh->enums) {
		bool found = false;
		char set[512] = "";
		size_t used = 0;

		for (const char *const *e = sh->enums; *e; e++) {
			if (strlen(*e) == n && memcmp(*e, s, n) == 0)
				found = true;
			int k = snprintf(set + used, sizeof set - used, "%s%s",
					 e == sh->enums ? "" : ", ", *e);
			if (k > 0 && (size_t)k < sizeof set - used)
				used += (size_t)k;
		}
		if (!found)
			violation(w, s, n, "Member must satisfy enum value set: [%s]", set);
		return;
	}
	if (sh->has_min && (double)chars < sh->min)
		violation(w, s, n, "Member must have length greater than or equal to %.0f",
			  sh->min);
	if (sh->has_max && (double)chars > sh->max)
		violation(w, s, n, "Member must have length less than or equal to %.0f",
			  sh->max);
	/* A NUL inside a string fails every pattern: nothing downstream can
	 * carry it. */
	if (sh->match && (memchr(s, '\0', n) != NULL || !sh->match(s, n)))
		violation(w, s, n, "Member must satisfy regular expression pattern: %s",
			  sh->pattern);
}

static void check_number(struct sc_walk *w, const struct sc_shape *sh,
			 double v, const char *shown)
{
	if (sh->has_min && v < sh->min)
		violation(w, shown, strlen(shown),
			  "Member must have value greater than or equal to %.0f", sh->min);
	if (sh->has_max && v > sh->max)
		violation(w, shown, strlen(shown),
			  "Member must have value less than or equal to %.0f", sh->max);
}

/* Checks v (not NULL, not null) against sh; returns the copy of what sh
 * knows of v, or NULL once the walk is malformed. */
static json_t *sc_walk(struct sc_walk *w, const struct sc_shape *sh,
		       const json_t *v)
{
	char shown[64];

	switch (sh->kind) {
	case SC_STRING:
		if (!json_is_string(v)) {
			malformed(w, "a string");
			return NULL;
		}
		check_string(w, sh, json_string_value(v), json_string_length(v));
		return json_deep_copy(v);
	case SC_INT:
		if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
		    json_integer_value(v) > INT32_MAX) {
			malformed(w, "an integer");
			return NULL;
		}
		snprintf(shown, sizeof shown, "%lld", (long long)json_integer_value(v));
		check_number(w, sh, (double)json_integer_value(v), shown);
		return json_deep_copy(v);
	case SC_DOUBLE:
		if (!json_is_number(v)) {
			malformed(w, "a number");
			return NULL;
		}
		snprintf(shown, sizeof shown, "%g", json_number_value(v));
		check_number(w, sh, json_number_value(v), shown);
		return json_deep_copy(v);
	case SC_BOOL:
		if (!json_is_boolean(v)) {
			malformed(w, "a boolean");
			return NULL;
		}
		return json_deep_copy(v);
	case SC_STRUCT: {
		json_t *out;

		if (!json_is_object(v)) {
			malformed(w, "a structure");
			return NULL;
		}
		out = json_object();
		for (const struct sc_member *m = sh->members; out && m->name; m++) {
			const json_t *mv = json_object_get(v, m->name);
			size_t old = path_push(w, m->name, true);

			if (!mv || json_is_null(mv)) {
				if (m->required)
					violation(w, NULL, 0, "Member must not be null");
			} else {
				json_t *c = sc_walk(w, m->shape, mv);
				if (!c || json_object_set_new(out, m->name, c) != 0) {
					json_decref(out);
					out = NULL;
				}
			}
			path_pop(w, old);
		}
		return out;
	}
	case SC_LIST: {
		json_t *out;
		size_t i;
		const json_t *e;

		if (!json_is_array(v)) {
			malformed(w, "a list");
			return NULL;
		}
		out = json_array();
		json_array_foreach(v, i, e) {
			char seg[40];
			size_t old;
			json_t *c;

			if (!out)
				break;
			snprintf(seg, sizeof seg, "%zu.member", i + 1);
			old = path_push(w, seg, false);
			if (json_is_null(e)) {
				violation(w, NULL, 0, "Member must not be null");
				c = json_null();
			} else {
				c = sc_walk(w, sh->elem, e);
			}
			if (!c || json_array_append_new(out, c) != 0) {
				json_decref(out);
				out = NULL;
			}
			path_pop(w, old);
		}
		return out;
	}
	case SC_MAP: {
		json_t *out;
		const char *k;
		json_t *e;

		if (!json_is_object(v)) {
			malformed(w, "a map");
			return NULL;
		}
		out = json_object();
		json_object_foreach((json_t *)v, k, e) {
			struct sc_walk kw;

			if (!out)
				break;
			if (!json_is_string(e)) {
				malformed(w, "a map of strings");
				json_decref(out);
				return NULL;
			}
			/* Key and value report as Coral does for maps:
			 * "Map keys/value must satisfy constraint: [...]". */
			memset(&kw, 0, sizeof kw);
			fl_buf_init(&kw.msg, SC_MSG_MAX);
			check_string(&kw, sh->key, k, strlen(k));
			check_string(&kw, sh->elem, json_string_value(e), json_string_length(e));
			if (kw.nerrors > 0)
				violation(w, k, strlen(k),
					  "Map keys and values must satisfy constraint: [%s]",
					  kw.msg.data ? kw.msg.data : "");
			fl_buf_free(&kw.msg);
			if (json_object_set(out, k, e) != 0) {
				json_decref(out);
				out = NULL;
			}
		}
		return out;
	}
	}
	return NULL;
}

/* Validates v against root (path root_name) and returns the copy of its
 * known members in *out. */
static enum fl_result sc_validate(const json_t *v, const struct sc_shape *root,
				  const char *root_name, json_t **out, struct fl_error *err)
{
	struct sc_walk w;
	json_t *copy;
	enum fl_result r = FL_OK;

	*out = NULL;
	memset(&w, 0, sizeof w);
	fl_buf_init(&w.msg, SC_MSG_MAX);
	w.err = err;
	path_push(&w, root_name, false);
	copy = sc_walk(&w, root, v);
	if (w.malformed) {
		r = FL_MALFORMED;       /* err set by malformed() */
	} else if (!copy) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
	} else if (w.nerrors > 0) {
		r = fl_error_set(err, FL_VALIDATION, "%d validation error%s detected: %s",
				 w.nerrors, w.nerrors == 1 ? "" : "s",
				 w.msg.data ? w.msg.data : "");
	}
	fl_buf_free(&w.msg);
	if (r != FL_OK) {
		json_decref(copy);
		return r;
	}
	*out = copy;
	return FL_OK;
}

/* ------------------------------------------------------------------ */
/* Semantics, defaults, compilation. */

static const char *get_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool get_true(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static json_int_t get_int(const json_t *o, const char *k, json_int_t dflt)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* The top-level keys of a query of the form `{k: ..., "k2": ..., k3}`
 * (the only form whose keys are known without running it).  Returns false
 * when the query is not of that form; names longer than SC_KEY_MAX - 1 or
 * past max make it unknown too. */
static bool query_object_keys(const char *q, char names[][SC_KEY_MAX], size_t max,
			      size_t *n)
{
	const char *p = q;

	*n = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != '{')
		return false;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '}') {                        /* {}: no keys at all */
		for (p++; isspace((unsigned char)*p); p++)
			;
		return *p == '\0';
	}
	for (;;) {
		const char *k;
		size_t klen;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '"') {
			k = ++p;
			while (*p && *p != '"' && *p != '\\')
				p++;
			if (*p != '"')
				return false;   /* escapes or interpolation */
			klen = (size_t)(p++ - k);
		} else if (ascii_alpha(*p) || *p == '_') {
			k = p;
			while (ascii_alnum(*p) || *p == '_')
				p++;
			klen = (size_t)(p - k);
		} else {
			return false;           /* $var, (expr), @format ... */
		}
		if (klen == 0 || klen >= SC_KEY_MAX || *n >= max)
			return false;
		memcpy(names[*n], k, klen);
		names[(*n)++][klen] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ':') {
			int depth = 0;

			/* Skip the value: up to ',' or '}' outside brackets and
			 * strings. */
			for (p++; *p; p++) {
				if (*p == '"') {
					for (p++; *p && *p != '"'; p++)
						if (*p == '\\' && p[1])
							p++;
					if (!*p)
						return false;
				} else if (*p == '(' || *p == '[' || *p == '{') {
					depth++;
				} else if (*p == ')' || *p == ']' || (*p == '}' && depth > 0)) {
					depth--;
				} else if (depth == 0 && (*p == ',' || *p == '}')) {
					break;
				}
			}
		}
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '}')
			return false;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		return *p == '\0';
	}
}

static bool conf_dp_enabled(const json_t *cfg)
{
	return get_true(json_object_get(cfg, "DynamicPartitioningConfiguration"), "Enabled");
}

/* Reads the processors.  *query_text: the MetadataExtractionQuery of the
 * one MetadataExtraction processor (borrowed from cfg), NULL if none. */
static enum fl_result check_processors(const json_t *cfg, bool dp_enabled,
				       const char **query_text, struct fl_error *err)
{
	const json_t *procs = json_object_get(json_object_get(cfg, "ProcessingConfiguration"),
					      "Processors");
	const json_t *proc;
	size_t i;
	int extractions = 0;

	*query_text = NULL;
	json_array_foreach(procs, i, proc) {
		const char *type = get_str(proc, "Type");
		const json_t *params = json_object_get(proc, "Parameters");
		const json_t *param;
		size_t j;
		const char *engine = NULL;

		if (strcmp(type, "Lambda") == 0)
			return fl_error_set(err, FL_INVALID,
					    "Lambda processors are not supported by firelake");
		if (strcmp(type, "Decompression") == 0 ||
		    strcmp(type, "CloudWatchLogProcessing") == 0)
			return fl_error_set(err, FL_INVALID,
					    "%s processors are not supported by firelake", type);
		/* AWS's wording, Java class name and all. */
		if (!dp_enabled && (strcmp(type, "MetadataExtraction") == 0 ||
				    strcmp(type, "RecordDeAggregation") == 0))
			return fl_error_set(err, FL_INVALID,
					    "class com.amazonaws.services.firehose.internal.model."
					    "%sProcessor can only be present when Dynamic "
					    "Partitioning is enabled.", type);
		json_array_foreach(params, j, param) {
			const char *name = get_str(param, "ParameterName");
			for (size_t k = 0; k < j; k++)
				if (strcmp(name, get_str(json_array_get(params, k),
							 "ParameterName")) == 0)
					return fl_error_set(err, FL_INVALID,
							    "Processor %s has parameter %s more "
							    "than once", type, name);
		}
		if (strcmp(type, "MetadataExtraction") != 0)
			continue;
		if (++extractions > 1)
			return fl_error_set(err, FL_INVALID,
					    "Only one MetadataExtraction processor is allowed");
		json_array_foreach(params, j, param) {
			const char *name = get_str(param, "ParameterName");
			const char *value = get_str(param, "ParameterValue");

			if (strcmp(name, "MetadataExtractionQuery") == 0)
				*query_text = value;
			else if (strcmp(name, "JsonParsingEngine") == 0)
				engine = value;
			else
				return fl_error_set(err, FL_INVALID,
						    "Parameter %s is not valid for a "
						    "MetadataExtraction processor", name);
		}
		if (!*query_text)
			return fl_error_set(err, FL_INVALID,
					    "MetadataExtraction processor needs a "
					    "MetadataExtractionQuery parameter");
		if (!engine || strcmp(engine, "JQ-1.6") != 0)
			return fl_error_set(err, FL_INVALID,
					    "MetadataExtraction processor needs JsonParsingEngine "
					    "JQ-1.6");
	}
	return FL_OK;
}

/* The Describe form of a validated configuration, defaults filled in,
 * members in the model's order. */
static json_t *describe(const json_t *cfg, json_int_t size_mb, json_int_t interval_s,
			const char *compression)
{
	static const char *const echoed_first[] = { "RoleARN", "BucketARN", "Prefix",
		"ErrorOutputPrefix", NULL };
	json_t *d = json_object();
	json_t *enc = json_object_get(cfg, "EncryptionConfiguration");
	json_t *log = json_object_get(cfg, "CloudWatchLoggingOptions");
	json_t *dp = json_object_get(cfg, "DynamicPartitioningConfiguration");
	int bad = 0;

	if (!d)
		return NULL;
	for (const char *const *k = echoed_first; *k; k++)
		if (json_object_get(cfg, *k))
			bad |= json_object_set(d, *k, json_object_get(cfg, *k));
	bad |= json_object_set_new(d, "BufferingHints",
				   json_pack("{s:I,s:I}", "SizeInMBs", size_mb,
					     "IntervalInSeconds", interval_s));
	bad |= json_object_set_new(d, "CompressionFormat", json_string(compression));
	if (enc && json_object_size(enc) > 0)
		bad |= json_object_set(d, "EncryptionConfiguration", enc);
	else
		bad |= json_object_set_new(d, "EncryptionConfiguration",
					   json_pack("{s:s}", "NoEncryptionConfig", "NoEncryption"));
	if (log)
		bad |= json_object_set(d, "CloudWatchLoggingOptions", log);
	else
		bad |= json_object_set_new(d, "CloudWatchLoggingOptions",
					   json_pack("{s:b}", "Enabled", 0));
	if (json_object_get(cfg, "ProcessingConfiguration"))
		bad |= json_object_set(d, "ProcessingConfiguration",
				       json_object_get(cfg, "ProcessingConfiguration"));
	bad |= json_object_set_new(d, "S3BackupMode", json_string("Disabled"));
	if (json_object_get(cfg, "DataFormatConversionConfiguration"))
		bad |= json_object_set(d, "DataFormatConversionConfiguration",
				       json_object_get(cfg, "DataFormatConversionConfiguration"));
	if (dp) {
		json_t *dpc = json_deep_copy(dp);
		json_t *retry = dpc ? json_object_get(dpc, "RetryOptions") : NULL;

		if (dpc && !retry)
			bad |= json_object_set_new(dpc, "RetryOptions",
						   retry = json_object());
		if (retry && !json_object_get(retry, "DurationInSeconds"))
			bad |= json_object_set_new(retry, "DurationInSeconds",
						   json_integer(SC_RETRY_S_DEFAULT));
		bad |= json_object_set_new(d, "DynamicPartitioningConfiguration", dpc);
	}
	if (json_object_get(cfg, "FileExtension"))
		bad |= json_object_set(d, "FileExtension", json_object_get(cfg, "FileExtension"));
	if (json_object_get(cfg, "CustomTimeZone"))
		bad |= json_object_set(d, "CustomTimeZone", json_object_get(cfg, "CustomTimeZone"));
	if (bad) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static void conf_free(struct fl_stream_conf *c)
{
	if (!c)
		return;
	fl_prefix_free(c->prefix);
	fl_prefix_free(c->error_prefix);
	fl_partition_query_free(c->query);
	json_decref(c->destination);
	free(c);
}

/* The semantic rules and the build, shared by new, update and load.  cfg
 * is a validated ExtendedS3DestinationConfiguration (borrowed). */
static enum fl_result conf_finish(const json_t *cfg, int version,
				  struct fl_stream_conf **out, struct fl_error *err)
{
	struct fl_stream_conf *c = NULL;
	const json_t *hints = json_object_get(cfg, "BufferingHints");
	const json_t *enc = json_object_get(cfg, "EncryptionConfiguration");
	const json_t *log = json_object_get(cfg, "CloudWatchLoggingOptions");
	const char *compression = get_str(cfg, "CompressionFormat");
	const char *backup = get_str(cfg, "S3BackupMode");
	const char *tz = get_str(cfg, "CustomTimeZone");
	const char *ext = get_str(cfg, "FileExtension");
	const char *prefix = get_str(cfg, "Prefix");
	const char *eprefix = get_str(cfg, "ErrorOutputPrefix");
	const char *bucket_arn = get_str(cfg, "BucketARN");
	const char *query_text = NULL;
	bool dp_enabled = conf_dp_enabled(cfg);
	bool processing = get_true(json_object_get(cfg, "ProcessingConfiguration"), "Enabled");
	json_int_t size_mb = get_int(hints, "SizeInMBs", SC_SIZE_MB_DEFAULT);
	json_int_t interval_s = get_int(hints, "IntervalInSeconds", SC_INTERVAL_S_DEFAULT);
	enum fl_result r;

	*out = NULL;
	if (!compression)
		compression = "UNCOMPRESSED";
	if (strcmp(compression, "GZIP") != 0 && strcmp(compression, "UNCOMPRESSED") != 0)
		return fl_error_set(err, FL_INVALID,
				    "CompressionFormat %s is not supported by firelake", compression);
	if (json_object_get(enc, "KMSEncryptionConfig"))
		return fl_error_set(err, FL_INVALID,
				    "KMSEncryptionConfig is not supported by firelake");
	if (get_true(log, "Enabled") &&
	    (!get_str(log, "LogGroupName") || !get_str(log, "LogStreamName")))
		return fl_error_set(err, FL_INVALID,
				    "LogGroupName and LogStreamName are required when "
				    "CloudWatch logging is enabled");
	if ((backup && strcmp(backup, "Enabled") == 0) ||
	    json_object_get(cfg, "S3BackupConfiguration"))
		return fl_error_set(err, FL_INVALID,
				    "S3 backup is not supported by firelake "
				    "(S3BackupMode must be Disabled)");
	if (tz && tz[0] && strcmp(tz, "UTC") != 0)
		return fl_error_set(err, FL_INVALID,
				    "CustomTimeZone %s is not supported by firelake "
				    "(prefixes are evaluated in UTC)", tz);
	/* BufferingHints: the docs ask for both members or neither; a missing
	 * one takes its default instead, as the hints are only hints. */
	if (dp_enabled && size_mb < SC_DP_MIN_SIZE_MB)
		return fl_error_set(err, FL_INVALID,
				    "BufferingHints.SizeInMBs must be at least %d when "
				    "Dynamic Partitioning is enabled.", SC_DP_MIN_SIZE_MB);
	if ((r = check_processors(cfg, dp_enabled, &query_text, err)) != FL_OK)
		return r;

	c = calloc(1, sizeof *c);
	if (!c)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	atomic_init(&c->refs, 1);
	c->version = version;
	/* The bucket name cannot hold ':' (pattern), so it is all after the
	 * last one. */
	snprintf(c->bucket, sizeof c->bucket, "%s", strrchr(bucket_arn, ':') + 1);
	c->gzip = strcmp(compression, "GZIP") == 0;
	c->size_bytes = (uint64_t)size_mb * SC_MIB;
	c->interval_s = (uint32_t)interval_s;
	snprintf(c->file_extension, sizeof c->file_extension, "%s", ext ? ext : "");

	if (query_text && processing) {
		/* A bad query is FL_INVALID, with libjq's words. */
		if ((r = fl_partition_compile(query_text, &c->query, err)) != FL_OK)
			goto fail;
	}

	/* Bad expressions are FL_INVALID, in prefix.c's (Firehose's) words. */
	if ((r = fl_prefix_compile(prefix ? prefix : "", false, &c->prefix, err)) != FL_OK)
		goto fail;
	if (dp_enabled && !fl_prefix_uses_partition_keys(c->prefix) &&
	    !fl_prefix_uses_lambda_keys(c->prefix)) {
		r = fl_error_set(err, FL_INVALID, "S3 Prefix should contain Dynamic "
				 "Partitioning namespaces when Dynamic Partitioning is enabled");
		goto fail;
	}
	if (!dp_enabled && (fl_prefix_uses_partition_keys(c->prefix) ||
			    fl_prefix_uses_lambda_keys(c->prefix))) {
		r = fl_error_set(err, FL_INVALID, "Dynamic Partitioning Namespaces can only "
				 "be part of a prefix expression when Dynamic Partitioning "
				 "is enabled.");
		goto fail;
	}
	if (fl_prefix_uses_lambda_keys(c->prefix)) {
		r = fl_error_set(err, FL_INVALID, "partitionKeyFromLambda needs a Lambda "
				 "processor; Lambda processors are not supported by firelake");
		goto fail;
	}
	if (fl_prefix_uses_partition_keys(c->prefix) && !c->query) {
		r = fl_error_set(err, FL_INVALID, "partitionKeyFromQuery needs an enabled "
				 "ProcessingConfiguration with a MetadataExtraction processor");
		goto fail;
	}
	c->nkeys = fl_prefix_key_count(c->prefix);
	if (c->nkeys > FL_PREFIX_MAX_KEYS)
		c->nkeys = FL_PREFIX_MAX_KEYS;
	for (size_t i = 0; i < c->nkeys; i++)
		c->key_names[i] = fl_prefix_key_name(c->prefix, i);
	if (c->query) {
		/* Keys the query cannot produce fail here; for queries of
		 * another form, at run time (MetadataExtractionFailed). */
		char names[FL_PREFIX_MAX_KEYS][SC_KEY_MAX];
		size_t n;

		if (query_object_keys(query_text, names, FL_PREFIX_MAX_KEYS, &n)) {
			for (size_t i = 0; i < c->nkeys; i++) {
				bool found = false;
				for (size_t j = 0; j < n && !found; j++)
					found = strcmp(c->key_names[i], names[j]) == 0;
				if (!found) {
					r = fl_error_set(err, FL_INVALID,
							 "!{partitionKeyFromQuery:%s} in Prefix is "
							 "not a key of the MetadataExtractionQuery",
							 c->key_names[i]);
					goto fail;
				}
			}
		}
	}

	if (eprefix && eprefix[0]) {
		r = fl_prefix_compile(eprefix, true, &c->error_prefix, err);
	} else if (fl_prefix_has_expression(c->prefix)) {
		/* AWS's text, without its typo ("Ths"). */
		r = fl_error_set(err, FL_INVALID, "The supplied prefix(es) do not satisfy "
				 "the following constraint: ErrorOutputPrefix cannot be null "
				 "or empty when Prefix contains expressions");
	} else {
		/* Firehose's null ErrorOutputPrefix: the Prefix text with
		 * <error-output-type>/YYYY/MM/dd/HH/ appended (prefix.c). */
		r = fl_prefix_compile(prefix ? prefix : "", true, &c->error_prefix, err);
	}
	if (r != FL_OK)
		goto fail;

	c->destination = describe(cfg, size_mb, interval_s, compression);
	if (!c->destination) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto fail;
	}
	*out = c;
	return FL_OK;
fail:
	conf_free(c);
	return r;
}

/* ------------------------------------------------------------------ */

enum fl_result fl_stream_conf_new(const json_t *dest, bool is_extended, int version,
				  struct fl_stream_conf **out, struct fl_error *err)
{
	json_t *cfg = NULL;
	enum fl_result r;

	*out = NULL;
	if (!dest)
		return fl_error_set(err, FL_INVALID, "%s is missing",
				    is_extended ? "ExtendedS3DestinationConfiguration"
						: "S3DestinationConfiguration");
	r = sc_validate(dest, is_extended ? &SH_EXTENDED : &SH_S3,
			is_extended ? "extendedS3DestinationConfiguration"
				    : "s3DestinationConfiguration",
			&cfg, err);
	if (r == FL_OK)
		r = conf_finish(cfg, version, out, err);
	json_decref(cfg);
	return r;
}

enum fl_result fl_stream_conf_update(const struct fl_stream_conf *base,
				     const json_t *update, bool is_extended,
				     int version, struct fl_stream_conf **out,
				     struct fl_error *err)
{
	json_t *upd = NULL, *merged = NULL, *cfg = NULL;
	const char *k;
	json_t *v;
	enum fl_result r;

	*out = NULL;
	if (!update)
		return fl_error_set(err, FL_INVALID, "%s is missing",
				    is_extended ? "ExtendedS3DestinationUpdate"
						: "S3DestinationUpdate");
	r = sc_validate(update, is_extended ? &SH_EXTENDED_UPDATE : &SH_S3_UPDATE,
			is_extended ? "extendedS3DestinationUpdate" : "s3DestinationUpdate",
			&upd, err);
	if (r != FL_OK)
		goto done;
	if (json_object_get(upd, "S3BackupUpdate")) {
		r = fl_error_set(err, FL_INVALID, "S3 backup is not supported by firelake "
				 "(S3BackupMode must be Disabled)");
		goto done;
	}
	/* Each member given replaces the stored one whole, as AWS does:
	 * BufferingHints {"SizeInMBs": 10} resets IntervalInSeconds to its
	 * default. */
	merged = json_deep_copy(base->destination);
	if (!merged) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto done;
	}
	json_object_foreach(upd, k, v) {
		if (json_object_set(merged, k, v) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto done;
		}
	}
	/* "You cannot enable dynamic partitioning for an existing Firehose
	 * stream"; turning it off would strand the partitions in flight. */
	if (conf_dp_enabled(base->destination) != conf_dp_enabled(merged)) {
		r = fl_error_set(err, FL_INVALID, "Dynamic Partitioning cannot be %s on an "
				 "existing delivery stream",
				 conf_dp_enabled(merged) ? "enabled" : "disabled");
		goto done;
	}
	r = sc_validate(merged, &SH_EXTENDED, "extendedS3DestinationConfiguration", &cfg,
			err);
	if (r == FL_OK)
		r = conf_finish(cfg, version, out, err);
done:
	json_decref(upd);
	json_decref(merged);
	json_decref(cfg);
	return r;
}

enum fl_result fl_stream_conf_load(const json_t *destination, int version,
				   struct fl_stream_conf **out, struct fl_error *err)
{
	return fl_stream_conf_new(destination, true, version, out, err);
}

struct fl_stream_conf *fl_stream_conf_ref(struct fl_stream_conf *c)
{
	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

void fl_stream_conf_unref(struct fl_stream_conf *c)
{
	if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		conf_free(c);
}

bool fl_stream_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n < 1 || n > FL_STREAM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ascii_alnum(name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}
