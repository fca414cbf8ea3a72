/*
 * firehose_shape.c - the botocore shapes of a Firehose S3 destination and
 * the one walk that validates a request against them.
 *
 * The members of the model (firehose 2015-08-04) with their min/max,
 * patterns and enums are written down as tables; one walk over a request
 * checks every constraint, reports every violation in AWS's words
 * (FL_VALIDATION, a ValidationException), copies the members it knows
 * (unknown ones are ignored, as AWS JSON 1.1 ignores them) and stops at a
 * JSON value of the wrong type (FL_MALFORMED, a SerializationException).
 * A JSON null is an absent member.  The semantics of a configuration are
 * stream_conf.c's.
 */
#include "firehose_shape.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define SC_PATH_MAX 512
#define SC_MSG_MAX 4096
#define SC_VALUE_SHOWN 64       /* longer values are cut in messages */

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


enum fl_result fl_firehose_shape_check(const json_t *v, enum fl_firehose_shape shape,
				       const char *root_name, json_t **out,
				       struct fl_error *err)
{
	static const struct sc_shape *const roots[] = {
		[FL_SHAPE_S3] = &SH_S3,
		[FL_SHAPE_S3_UPDATE] = &SH_S3_UPDATE,
		[FL_SHAPE_EXTENDED_S3] = &SH_EXTENDED,
		[FL_SHAPE_EXTENDED_S3_UPDATE] = &SH_EXTENDED_UPDATE,
	};
	return sc_validate(v, roots[shape], root_name, out, err);
}
