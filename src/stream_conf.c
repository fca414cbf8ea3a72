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
 *      min/max, patterns and enums, checked by firehose_shape.c.  One
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
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "firehose_shape.h"
#include "partition.h"
#include "prefix.h"

#define SC_MIB 1048576ULL
#define SC_SIZE_MB_DEFAULT 5
#define SC_INTERVAL_S_DEFAULT 300
#define SC_RETRY_S_DEFAULT 300
#define SC_DP_MIN_SIZE_MB 64
#define SC_KEY_MAX 128

static bool ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_alnum(char c)
{
	return ascii_alpha(c) || (c >= '0' && c <= '9');
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
	r = fl_firehose_shape_check(dest, is_extended ? FL_SHAPE_EXTENDED_S3 : FL_SHAPE_S3,
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
	r = fl_firehose_shape_check(update,
				    is_extended ? FL_SHAPE_EXTENDED_S3_UPDATE : FL_SHAPE_S3_UPDATE,
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
	r = fl_firehose_shape_check(merged, FL_SHAPE_EXTENDED_S3,
				    "extendedS3DestinationConfiguration", &cfg, err);
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
