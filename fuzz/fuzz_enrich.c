/*
 * fuzz_enrich.c - fl_enrich_event on any bytes.
 *
 * Design.  The input is one event, as a line of a PutRecord body after
 * base64 decoding.  Beside the sanitizers, the target checks the
 * contract of enrich.h:
 *  - on failure: FL_INVALID with a reason, the buffer exactly as it was
 *    (a previous event is in it, so a stray write shows);
 *  - on success: the event is appended after the previous one, is valid
 *    JSON by jscan, and the spans in info lie inside it;
 *  - against jansson, an independent parser: when jansson reads the input
 *    as an object nested less deeply than jscan's bound, with string
 *    event_uuid and event_name and a created_at clearly inside the range,
 *    enrichment must succeed; and then the output read by jansson holds
 *    every other member of the input unchanged, plus the three members
 *    enrichment adds, with created_datetime the ISO form of the time.
 */
#include <jansson.h>
#include <math.h>

#include "buf.h"
#include "enrich.h"
#include "fuzz.h"
#include "jscan.h"

#define PREVIOUS "{\"previous\":\"event\"}\n"
#define MAX_OUT (4u << 20)

/* Nesting depth of v (a scalar is 0). */
static int depth(const json_t *v)
{
	int d = 0;

	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach((json_t *)v, k, m) {
			int dm = depth(m);
			d = dm > d ? dm : d;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m) {
			int dm = depth(m);
			d = dm > d ? dm : d;
		}
		return d + 1;
	}
	return 0;
}

/* Whether enrichment must accept what jansson read. */
static int must_accept(const json_t *in)
{
	const json_t *at = json_object_get(in, "created_at");
	double t;

	if (!json_is_object(in) || depth(in) >= FL_JSON_MAX_DEPTH - 1)
		return 0;
	if (!json_is_string(json_object_get(in, "event_uuid")) ||
	    !json_is_string(json_object_get(in, "event_name")) || !json_is_number(at))
		return 0;
	t = json_number_value(at);
	/* Away from the upper bound, where a double cannot tell; a negative
	 * zero from "-1e-400" is a negative number to enrichment. */
	return isfinite(t) && t >= 0 && !signbit(t) && t < 253402300799.0;
}

/* The output read back agrees with the input read by jansson. */
static void compare(const json_t *in, const char *out, size_t n, const struct fl_enriched *info)
{
	static const char *const added[] = { "created_datetime", "event_type", "event_subtype" };
	json_error_t jerr;
	json_t *o = json_loadb(out, n, JSON_ALLOW_NUL, &jerr);
	const char *k;
	json_t *v;
	char iso[25];
	size_t extra = 0;

	if (!o) {
		fprintf(stderr, "jansson cannot read the output: %s\n", jerr.text);
		FUZZ_CHECK(o != NULL);
	}
	json_object_foreach((json_t *)in, k, v) {
		if (!strcmp(k, added[0]) || !strcmp(k, added[1]) || !strcmp(k, added[2])) {
			extra++;
			continue;
		}
		FUZZ_CHECK(json_equal(v, json_object_get(o, k)));
	}
	FUZZ_CHECK(json_object_size(o) == json_object_size(in) - extra + 3);

	/* created_datetime is fl_iso8601 of the time, which is within a
	 * millisecond of the double jansson read. */
	double t = json_number_value(json_object_get(in, "created_at")) * 1000.0;
	FUZZ_CHECK(fabs((double)info->created_at_ms - t) <= 1.0 + t * 1e-15);
	fl_iso8601(info->created_at_ms, strlen(json_string_value(json_object_get(o, added[0]))) == 24,
		   iso);
	FUZZ_CHECK(!strcmp(iso, json_string_value(json_object_get(o, added[0]))));

	/* event_type[:event_subtype] starts the name (escaped colons do not
	 * split, so the name may hold more colons than the parts show). */
	const char *name = json_string_value(json_object_get(in, "event_name"));
	const json_t *ty = json_object_get(o, added[1]), *sub = json_object_get(o, added[2]);
	size_t tl = json_string_length(ty);
	FUZZ_CHECK(json_is_string(ty) && (json_is_string(sub) || json_is_null(sub)));
	FUZZ_CHECK(tl <= json_string_length(json_object_get(in, "event_name")) &&
		   !memcmp(name, json_string_value(ty), tl));
	if (json_is_string(sub)) {
		FUZZ_CHECK(name[tl] == ':');
		FUZZ_CHECK(!memcmp(name + tl + 1, json_string_value(sub), json_string_length(sub)));
	}
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fl_buf out;
	struct fl_enriched info;
	const char *why = NULL;
	json_t *in = NULL;
	json_error_t jerr;

	fl_buf_init(&out, MAX_OUT);
	if (fl_buf_adds(&out, PREVIOUS) != FL_OK)
		goto done;

	enum fl_result r = fl_enrich_event((const char *)data, size, &out, &info, &why);
	in = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &jerr);
	if (r != FL_OK) {
		FUZZ_CHECK(r == FL_INVALID || r == FL_TOO_LARGE || r == FL_INTERNAL);
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		FUZZ_CHECK(out.len == strlen(PREVIOUS) && !memcmp(out.data, PREVIOUS, out.len));
		/* jansson 2.14 skips a raw NUL after a number ("1\0,"), which
		 * valid JSON never holds: no verdict then. */
		if (in && must_accept(in) && !memchr(data, '\0', size)) {
			fprintf(stderr, "jansson reads the event, enrichment says \"%s\"\n", why);
			FUZZ_CHECK(!"a good event refused");
		}
		goto done;
	}

	const char *ev = out.data + info.event_off;
	FUZZ_CHECK(!memcmp(out.data, PREVIOUS, strlen(PREVIOUS)));
	FUZZ_CHECK(info.event_off == strlen(PREVIOUS));
	FUZZ_CHECK(info.event_off + info.event_len == out.len);
	FUZZ_CHECK(out.data[out.len] == '\0');
	FUZZ_CHECK(ev[0] == '{' && ev[info.event_len - 1] == '}');
	FUZZ_CHECK(info.event_type_off + info.event_type_len <= info.event_len);
	FUZZ_CHECK(info.event_subtype_off + info.event_subtype_len <= info.event_len);
	const char *why2 = NULL;
	FUZZ_CHECK(fl_json_value(ev, ev + info.event_len, &why2) == ev + info.event_len);
	FUZZ_CHECK(info.created_at_ms >= 0 && info.created_at_ms <= 253402300799999LL);
	if (in && must_accept(in))
		compare(in, ev, info.event_len, &info);
done:
	json_decref(in);
	fl_buf_free(&out);
	return 0;
}
