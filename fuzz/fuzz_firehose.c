/*
 * fuzz_firehose.c - the Firehose JSON requests: destination shapes and
 * stream configurations, and PutRecord/PutRecordBatch bodies.
 *
 * Design.  The first line of the input names what the rest is:
 *
 *   S3DestinationConfiguration | ExtendedS3DestinationConfiguration
 *       the member of a CreateDeliveryStream request: shape check
 *       (fl_firehose_shape_check) and, when it passes, the stream
 *       configuration built from it (fl_stream_conf_new: prefixes,
 *       dynamic partitioning, jq query), which must then load back from
 *       its own description (fl_stream_conf_load) to an equal one;
 *   S3DestinationUpdate | ExtendedS3DestinationUpdate [dp]
 *       the member of an UpdateDestination request, applied to a fixed
 *       base configuration (with dynamic partitioning when "dp" follows);
 *   PutRecordBatch | PutRecord (or anything else)
 *       a request body read the way ingest.c reads it - jscan's object and
 *       array iterators, base64, one event per line enriched - and checked
 *       against jansson: jscan must accept exactly the JSON jansson
 *       accepts (less its known differences: nesting past
 *       FL_JSON_MAX_DEPTH, numbers past a double), and fl_json_find must
 *       find the member jansson finds.
 *
 * Every failure must carry a documented code and a message, valid UTF-8
 * (jansson has read the body, so every string in it is).
 */
#include <jansson.h>

#include "buf.h"
#include "enrich.h"
#include "firehose_shape.h"
#include "fuzz.h"
#include "jscan.h"
#include "stream.h"

#define MAX_DECODED (5u << 20)
#define MAX_RECORDS 1000   /* ingest's limit of a batch */

#define ROLE "\"RoleARN\":\"arn:aws:iam::000000000000:role/firehose\""
#define BASE_PLAIN "{" ROLE ",\"BucketARN\":\"arn:aws:s3:::lake\",\"Prefix\":\"raw/\"}"
#define BASE_DP "{" ROLE ",\"BucketARN\":\"arn:aws:s3:::lake\"," \
	"\"Prefix\":\"p/k=!{partitionKeyFromQuery:k}/\"," \
	"\"ErrorOutputPrefix\":\"e/!{firehose:error-output-type}/\"," \
	"\"BufferingHints\":{\"SizeInMBs\":64,\"IntervalInSeconds\":60}," \
	"\"DynamicPartitioningConfiguration\":{\"Enabled\":true}," \
	"\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[" \
	"{\"Type\":\"MetadataExtraction\",\"Parameters\":[" \
	"{\"ParameterName\":\"MetadataExtractionQuery\",\"ParameterValue\":\"{k: .k}\"}," \
	"{\"ParameterName\":\"JsonParsingEngine\",\"ParameterValue\":\"JQ-1.6\"}]}]}}"

static const struct {
	const char *name;
	enum fl_firehose_shape shape;
	const char *root;
	int update;
	int extended;
} shapes[] = {
	{ "S3DestinationConfiguration", FL_SHAPE_S3, "s3DestinationConfiguration", 0, 0 },
	{ "ExtendedS3DestinationConfiguration", FL_SHAPE_EXTENDED_S3,
	  "extendedS3DestinationConfiguration", 0, 1 },
	{ "S3DestinationUpdate", FL_SHAPE_S3_UPDATE, "s3DestinationUpdate", 1, 0 },
	{ "ExtendedS3DestinationUpdate", FL_SHAPE_EXTENDED_S3_UPDATE,
	  "extendedS3DestinationUpdate", 1, 1 },
};

static int known(enum fl_result r)
{
	return r == FL_OK || r == FL_INVALID || r == FL_VALIDATION || r == FL_MALFORMED ||
	       r == FL_TOO_LARGE || r == FL_INTERNAL;
}

/* A configuration's description loads back to itself. */
static void check_conf(const struct fl_stream_conf *c)
{
	struct fl_stream_conf *back = NULL;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r = fl_stream_conf_load(c->destination, c->version, &back, &err);

	if (r != FL_OK) {
		fprintf(stderr, "a configuration does not load back: %s\n", err.msg);
		FUZZ_CHECK(r == FL_OK);
	}
	FUZZ_CHECK(json_equal(back->destination, c->destination));
	FUZZ_CHECK(back->gzip == c->gzip && back->size_bytes == c->size_bytes &&
		   back->interval_s == c->interval_s && back->nkeys == c->nkeys &&
		   !strcmp(back->bucket, c->bucket));
	fl_stream_conf_unref(back);
}

/* The base of an update, built once per process (its jq query is slow to
 * compile); borrowed. */
static const struct fl_stream_conf *base_conf(int dp)
{
	static struct fl_stream_conf *conf[2];
	struct fl_error err = { FL_OK, "", "" };

	if (!conf[dp]) {
		json_t *b = json_loads(dp ? BASE_DP : BASE_PLAIN, 0, NULL);
		FUZZ_CHECK(fl_stream_conf_new(b, true, 1, &conf[dp], &err) == FL_OK);
		json_decref(b);
	}
	return conf[dp];
}

static void run_shape(size_t i, int dp, const char *body, size_t len, uint64_t hash)
{
	json_error_t jerr;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *out = NULL;
	const struct fl_stream_conf *base = NULL;
	struct fl_stream_conf *c = NULL;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r;

	if (!v)
		return;
	r = fl_firehose_shape_check(v, shapes[i].shape, shapes[i].root, &out, &err);
	FUZZ_CHECK(known(r));
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK_MESSAGE_UTF8("", 0, err.msg);  /* jansson read the body */
		FUZZ_CHECK(r == FL_VALIDATION || r == FL_MALFORMED || r == FL_INTERNAL);
	} else {
		FUZZ_CHECK(json_is_object(out));
	}
	json_decref(out);

	/* libjq compiles a MetadataExtractionQuery in some 100 ms under ASan:
	 * one input in 8 that has one goes on to the configuration. */
	if (memmem(body, len, "MetadataExtraction", 18) && hash % 8 != 0)
		goto done;
	memset(&err, 0, sizeof err);
	if (!shapes[i].update) {
		r = fl_stream_conf_new(v, shapes[i].extended, 1, &c, &err);
	} else {
		base = base_conf(dp);
		memset(&err, 0, sizeof err);
		r = fl_stream_conf_update(base, v, shapes[i].extended, 2, &c, &err);
		base = NULL;
	}
	FUZZ_CHECK(known(r));
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK_MESSAGE_UTF8("", 0, err.msg);
		FUZZ_CHECK(c == NULL);
	} else {
		FUZZ_CHECK(c != NULL && json_is_object(c->destination));
		check_conf(c);
	}
	if (c)
		fl_stream_conf_unref(c);
done:
	json_decref(v);
}

/* Enriches every line of a decoded record. */
static void run_events(const char *p, size_t n, struct fl_buf *out)
{
	const char *end = p + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *why = NULL;
		struct fl_enriched info;

		if (e > p) {
			enum fl_result r = fl_enrich_event(p, (size_t)(e - p), out, &info, &why);
			FUZZ_CHECK(r == FL_OK || (why && why[0]));
		}
		p = nl ? nl + 1 : end;
	}
}

/* One {"Data": "..."} record, as ingest.c reads it. */
static void run_record(const char *p, size_t len, struct fl_buf *decoded, struct fl_buf *tmp,
		       struct fl_buf *events)
{
	const char *why = NULL, *end = p + len;
	struct fl_json_member m;
	const char *q = fl_json_object_begin(p, end, &why);

	if (!q)
		return;
	while ((q = fl_json_object_next(q, end, &m, &why)) && m.key) {
		const char *raw;
		size_t n;
		bool escaped;

		FUZZ_CHECK(m.key >= p && m.key + m.key_len <= end);
		FUZZ_CHECK(m.value >= p && m.value + m.value_len <= end);
		if (m.key_len != 4 || memcmp(m.key, "Data", 4) != 0 || m.value[0] != '"')
			continue;
		FUZZ_CHECK(fl_json_string(m.value, m.value + m.value_len, &raw, &n, &escaped,
					  &why) == m.value + m.value_len);
		if (escaped) {
			fl_buf_reset(tmp);
			if (fl_json_unescape(raw, n, tmp) != FL_OK)
				continue;
			raw = tmp->data;
			n = tmp->len;
		}
		size_t before = decoded->len;
		enum fl_result r = fl_base64_decode(raw, n, decoded);
		if (r != FL_OK) {
			FUZZ_CHECK(decoded->len == before);
			continue;
		}
		/* Encoded again, the bytes decode to themselves (the text may
		 * differ: unused low bits of the last character are ignored, as
		 * Java's decoder ignores them). */
		struct fl_buf enc, back;
		size_t dn = decoded->len - before;
		fl_buf_init(&enc, MAX_DECODED * 2);
		fl_buf_init(&back, MAX_DECODED);
		FUZZ_CHECK(fl_base64_encode(decoded->data + before, dn, &enc) == FL_OK);
		FUZZ_CHECK(enc.len == n);
		FUZZ_CHECK(fl_base64_decode(enc.data, enc.len, &back) == FL_OK);
		FUZZ_CHECK(back.len == dn && (dn == 0 || !memcmp(back.data, decoded->data + before, dn)));
		fl_buf_free(&enc);
		fl_buf_free(&back);
		run_events(decoded->data + before, decoded->len - before, events);
		fl_buf_reset(events);
	}
}

/* jscan against jansson over the whole body. */
static void differential(const char *body, size_t len)
{
	const char *end = body + len, *why = NULL;
	const char *p = fl_json_ws(body, end);
	const char *q = p < end ? fl_json_value(p, end, &why) : NULL;
	int jscan_ok = q && fl_json_ws(q, end) == end;
	json_error_t jerr;
	json_t *v = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

	if (v && !jscan_ok) {
		/* jansson nests 2048 deep, jscan FL_JSON_MAX_DEPTH; jansson 2.14
		 * skips a raw NUL after a number ("1\0,"). */
		if ((!why || strcmp(why, "nested too deeply") != 0) && !memchr(body, '\0', len)) {
			fprintf(stderr, "jansson accepts, jscan says \"%s\"\n", why ? why : "?");
			FUZZ_CHECK(!"jscan refuses valid JSON");
		}
	}
	if (!v && jscan_ok) {
		/* jansson refuses numbers past a double or a 64-bit integer,
		 * and NUL in a key. */
		if (!strstr(jerr.text, "overflow") && !strstr(jerr.text, "too big") &&
		    !strstr(jerr.text, "NUL byte in object key")) {
			fprintf(stderr, "jscan accepts, jansson says \"%s\"\n", jerr.text);
			FUZZ_CHECK(!"jscan accepts invalid JSON");
		}
	}
	if (v && jscan_ok && json_is_object(v)) {
		/* The member jansson finds (the last of duplicates), by key. */
		static const char *const keys[] = { "DeliveryStreamName", "Records", "Record" };
		for (size_t i = 0; i < 3; i++) {
			const char *val = NULL;
			size_t vlen = 0;
			bool found = fl_json_find(p, (size_t)(q - p), keys[i], strlen(keys[i]), &val,
						  &vlen);
			json_t *want = json_object_get(v, keys[i]);
			FUZZ_CHECK(found == (want != NULL));
			if (found) {
				json_t *got = json_loadb(val, vlen, JSON_DECODE_ANY | JSON_ALLOW_NUL,
							 NULL);
				FUZZ_CHECK(got == NULL || json_equal(got, want));
				json_decref(got);
			}
		}
		/* object_scan counts what jansson holds, duplicates aside. */
		struct fl_json_member first[2];
		size_t count = 0;
		FUZZ_CHECK(fl_json_object_scan(p, end, first, 2, &count, &why) == q);
		FUZZ_CHECK(count >= json_object_size(v));
	}
	json_decref(v);
}

static void run_put(const char *body, size_t len)
{
	const char *why = NULL, *end = body + len;
	struct fl_json_member m;
	struct fl_buf decoded, tmp, events;
	size_t nrecords = 0;
	const char *p;

	differential(body, len);
	fl_buf_init(&decoded, MAX_DECODED);
	fl_buf_init(&tmp, MAX_DECODED * 2);
	fl_buf_init(&events, MAX_DECODED * 2);
	p = fl_json_object_begin(body, end, &why);
	while (p && (p = fl_json_object_next(p, end, &m, &why)) && m.key) {
		if (m.key_len == 7 && !memcmp(m.key, "Records", 7)) {
			const char *e, *vend = m.value + m.value_len;
			size_t elen;
			const char *q = fl_json_array_begin(m.value, vend, &why);
			while (q && (q = fl_json_array_next(q, vend, &e, &elen, &why)) && e) {
				FUZZ_CHECK(e >= m.value && e + elen <= vend);
				if (nrecords++ == MAX_RECORDS)
					break;
				run_record(e, elen, &decoded, &tmp, &events);
			}
		} else if (m.key_len == 6 && !memcmp(m.key, "Record", 6)) {
			run_record(m.value, m.value_len, &decoded, &tmp, &events);
		}
	}
	FUZZ_CHECK(p || (why && why[0]));
	fl_buf_free(&decoded);
	fl_buf_free(&tmp);
	fl_buf_free(&events);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *line;
	size_t n;
	char *body;
	uint64_t hash = 1469598103934665603ull;

	fuzz_line(&data, &size, &line, &n);
	for (size_t i = 0; i < size; i++)
		hash = (hash ^ data[i]) * 1099511628211ull;
	/* Exactly the body's bytes, no NUL after them: ASan sees an over-read. */
	body = malloc(size ? size : 1);
	if (!body)
		return 0;
	if (size)
		memcpy(body, data, size);
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		size_t k = strlen(shapes[i].name);
		if (n >= k && !memcmp(line, shapes[i].name, k) &&
		    (n == k || line[k] == ' ')) {
			run_shape(i, n > k, body, size, hash);
			goto done;
		}
	}
	run_put(body, size);
done:
	free(body);
	return 0;
}
