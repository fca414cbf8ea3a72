/*
 * fuzz_prefix.c - Firehose prefix expressions: compile, then evaluate
 * against a fuzzed event.
 *
 * Design.  The first line is the expression: a Prefix, an
 * ErrorOutputPrefix when it starts with "E ", or a bare DateTimeFormatter
 * pattern for fl_datefmt when it starts with "D ".  The rest is an event:
 * it is enriched as ingest does (fl_enrich_event), its created_at is the
 * evaluation's time (or a time hashed from the input when the event is
 * refused), and the value of each partitionKeyFromQuery key is the
 * event's member of that name (strings decoded, other scalars as
 * written; no member: no value, which evaluation must refuse cleanly).
 *
 * Checked beside the sanitizers:
 *  - compile answers FL_OK or FL_INVALID with a message, UTF-8 when the
 *    expression is;
 *  - at most FL_PREFIX_MAX_KEYS keys, each with a name;
 *  - evaluation answers FL_OK, FL_INVALID or FL_TOO_LARGE and leaves the
 *    output as it was on failure; on success the result is at most
 *    FL_PREFIX_MAX_EVAL_LEN characters, starts with the expression's
 *    literal directory part (fl_prefix_static_len), and is the same when
 *    evaluated again;
 *  - a prefix with partitionKeyFromLambda never evaluates;
 *  - fl_prefix_hive_keys stays within its array and returns NUL-ended
 *    names.
 */
#include <jansson.h>

#include "buf.h"
#include "enrich.h"
#include "fuzz.h"
#include "jscan.h"
#include "prefix.h"

#define PREVIOUS "out/"

static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static void run_datefmt(const char *pat, size_t n, int64_t ts_ms)
{
	struct fl_buf out;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r;

	fl_buf_init(&out, 1 << 16);
	if (fl_buf_adds(&out, PREVIOUS) != FL_OK)
		goto done;
	r = fl_datefmt(pat, n, ts_ms, &out, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_INVALID || r == FL_TOO_LARGE);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(out.len == strlen(PREVIOUS));
	}
	FUZZ_CHECK(!memcmp(out.data, PREVIOUS, strlen(PREVIOUS)) && out.data[out.len] == '\0');
done:
	fl_buf_free(&out);
}

/* The event's member named key, as evaluation takes it, into vals. */
static int key_value(const char *ev, size_t len, const char *key, struct fl_buf *vals,
		     size_t *off, size_t *n)
{
	const char *v;
	size_t vlen;

	if (!fl_json_find(ev, len, key, strlen(key), &v, &vlen))
		return 0;
	*off = vals->len;
	if (v[0] == '"') {
		if (fl_json_unescape(v + 1, vlen - 2, vals) != FL_OK)
			return 0;
	} else if (v[0] == '{' || v[0] == '[' || v[0] == 'n') {
		return 0;
	} else if (fl_buf_add(vals, v, vlen) != FL_OK) {
		return 0;
	}
	*n = vals->len - *off;
	return 1;
}

static void run_eval(const struct fl_prefix *p, const char *expr, const char *ev, size_t evlen,
		     int64_t ts_ms)
{
	const char *values[FL_PREFIX_MAX_KEYS] = { 0 };
	size_t lens[FL_PREFIX_MAX_KEYS] = { 0 }, offs[FL_PREFIX_MAX_KEYS] = { 0 };
	int have[FL_PREFIX_MAX_KEYS] = { 0 };
	size_t nkeys = fl_prefix_key_count(p);
	struct fl_buf vals, out, again;
	struct fl_error err = { FL_OK, "", "" };
	char random[FL_PREFIX_RANDOM_LEN + 1];
	struct fl_prefix_ctx ctx;
	enum fl_result r;

	fl_buf_init(&vals, 1 << 20);
	fl_buf_init(&out, 1 << 16);
	fl_buf_init(&again, 1 << 16);
	FUZZ_CHECK(nkeys <= FL_PREFIX_MAX_KEYS);
	FUZZ_CHECK(fl_prefix_uses_partition_keys(p) == (nkeys > 0));
	for (size_t i = 0; i < nkeys; i++) {
		const char *name = fl_prefix_key_name(p, i);
		FUZZ_CHECK(name != NULL && name[0] != '\0');
		if (ev)
			have[i] = key_value(ev, evlen, name, &vals, &offs[i], &lens[i]);
	}
	/* vals may have moved while growing: point into it only now. */
	for (size_t i = 0; i < nkeys; i++)
		values[i] = have[i] ? vals.data + offs[i] : NULL;

	fl_prefix_random((uint64_t)ts_ms, random);
	FUZZ_CHECK(strlen(random) == FL_PREFIX_RANDOM_LEN);
	ctx = (struct fl_prefix_ctx){ .ts_ms = ts_ms, .error_output_type = "processing-failed",
				      .random = random, .key_values = values, .key_lens = lens };
	if (fl_buf_adds(&out, PREVIOUS) != FL_OK)
		goto done;
	r = fl_prefix_eval(p, &ctx, &out, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_INVALID || r == FL_TOO_LARGE);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(out.len == strlen(PREVIOUS) && !memcmp(out.data, PREVIOUS, out.len));
		goto done;
	}
	FUZZ_CHECK(!fl_prefix_uses_lambda_keys(p));
	const char *got = out.data + strlen(PREVIOUS);
	size_t n = out.len - strlen(PREVIOUS), fixed = fl_prefix_static_len(expr);
	FUZZ_CHECK(out.data[out.len] == '\0');
	FUZZ_CHECK(utf8_chars(got, n) <= FL_PREFIX_MAX_EVAL_LEN);
	FUZZ_CHECK(fixed <= strlen(expr));
	if (n < fixed || memcmp(got, expr, fixed) != 0) {
		fprintf(stderr, "prefix \"%s\" evaluates to \"%.*s\", not under its first %zu bytes\n",
			expr, (int)n, got, fixed);
		FUZZ_CHECK(!"evaluated prefix outside its static part");
	}
	FUZZ_CHECK(fl_prefix_eval(p, &ctx, &again, &err) == FL_OK);
	FUZZ_CHECK(again.len == n && !memcmp(again.data, got, n));
done:
	fl_buf_free(&vals);
	fl_buf_free(&out);
	fl_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *line;
	size_t n;
	bool is_error = false, datefmt = false;
	char *expr = NULL, *event = NULL;
	struct fl_prefix *p = NULL;
	struct fl_error err = { FL_OK, "", "" };
	struct fl_buf enriched;
	struct fl_enriched info;
	const char *ev = NULL, *why = NULL;
	size_t evlen = 0;
	int64_t ts_ms;
	uint64_t h = 1469598103934665603ull;

	fuzz_line(&data, &size, &line, &n);
	if (n >= 2 && line[1] == ' ' && (line[0] == 'E' || line[0] == 'D')) {
		is_error = line[0] == 'E';
		datefmt = line[0] == 'D';
		line += 2, n -= 2;
	}
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	/* Any time of years 1..9999 (and a little outside) when the event
	 * gives none. */
	ts_ms = (int64_t)(h % 316000000000000ull) - 62200000000000ll;

	fl_buf_init(&enriched, 1 << 20);
	event = malloc(size ? size : 1);
	if (!event)
		goto done;
	if (size)
		memcpy(event, data, size);
	if (fl_enrich_event(event, size, &enriched, &info, &why) == FL_OK) {
		ev = enriched.data + info.event_off;
		evlen = info.event_len;
		ts_ms = info.created_at_ms;
	}

	if (datefmt) {
		run_datefmt((const char *)line, n, ts_ms);
		goto done;
	}
	expr = fuzz_strndup(line, n);
	if (!expr)
		goto done;
	enum fl_result r = fl_prefix_compile(expr, is_error, &p, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_INVALID);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(p == NULL);
		if (fuzz_utf8_ok(expr, strlen(expr)) && !fuzz_utf8_ok(err.msg, strlen(err.msg))) {
			fprintf(stderr, "message not UTF-8: %s\n", err.msg);
			FUZZ_CHECK(!"message not UTF-8");
		}
	} else {
		FUZZ_CHECK(p != NULL);
		run_eval(p, expr, ev, evlen, ts_ms);
	}

	char names[8][128];
	size_t nh = fl_prefix_hive_keys(expr, names, 8);
	FUZZ_CHECK(nh <= 8);
	for (size_t i = 0; i < nh; i++)
		FUZZ_CHECK(memchr(names[i], '\0', sizeof names[i]) != NULL);
done:
	fl_prefix_free(p);
	free(expr);
	free(event);
	fl_buf_free(&enriched);
	return 0;
}
