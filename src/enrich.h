/*
 * enrich.h - turn one event into an enriched event.
 *
 * An event is a JSON object with event_uuid (string), event_name (string)
 * and created_at (Unix seconds, integer or fractional).  Enrichment adds
 *   "created_datetime": ISO 8601 UTC ("2026-01-01T00:13:11Z", or with
 *                       ".mmmZ" when created_at has a fraction)
 *   "event_type":       first ':'-separated part of event_name
 *   "event_subtype":    second part, or null when there is none
 * spliced in before the closing brace; the rest of the event is kept byte
 * for byte.  Members of those three names already in the event are
 * replaced (removed from where they stood).  The whole event is validated.
 *
 * Details the issue left open, decided here:
 *  - White space around the object is accepted and not copied: the output
 *    starts with '{' and ends with '}'.  Anything else after the object
 *    is an error.
 *  - With duplicate keys the last event_uuid, event_name or created_at
 *    wins; the duplicates themselves are kept in the output.
 *  - created_at must be a JSON number in [0, 253402300800) (up to
 *    9999-12-31T23:59:59.999Z); -0 is 0.  The milliseconds are truncated,
 *    never rounded.  ".mmm" is written when the value is not an integer
 *    (so 1767226391.0 and 1.767226391e9 give whole seconds).
 *  - event_name is split on ':' in its raw content, so an escaped colon
 *    (\u003a) does not split; escapes stay as written in each part.  An
 *    empty second part ("payment:") counts as none: event_subtype null.
 */
#ifndef FL_ENRICH_H
#define FL_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

struct fl_enriched {
	int64_t created_at_ms;  /* event time, milliseconds since the epoch */
	/* Spans into the output buffer (valid until it is next modified),
	 * offsets relative to the start of the appended event, i.e. the
	 * event type is at out->data + event_off + event_type_off.  The
	 * spans are raw JSON string content (between the quotes; escapes
	 * kept as the event wrote them, fl_json_unescape decodes them): */
	size_t event_type_off, event_type_len;
	size_t event_subtype_off, event_subtype_len;  /* len 0: null */
	size_t event_off, event_len;   /* the whole enriched event; event_off
					* is an offset into out->data */
};

/* Enriches one event (in/len: one event without its newline; any bytes,
 * NUL included, are judged as JSON) and appends it to out, which is
 * borrowed.  On failure returns FL_INVALID (or FL_TOO_LARGE past out's
 * maximum, FL_INTERNAL without memory), leaves out as it was and sets *why
 * to a short static reason:
 *   syntax      "not valid JSON", "invalid number", "invalid escape in
 *               string", "control character in string", "invalid UTF-8",
 *               "nested too deeply", "trailing data after JSON"
 *   shape       "not a JSON object", "missing event_uuid", "event_uuid is
 *               not a string", "missing event_name", "event_name is not a
 *               string", "missing created_at", "created_at is not a
 *               number", "created_at out of range"
 *   output      "output too large", "out of memory"
 * Syntax is checked over the whole event first, then the fields in the
 * order above.  info and why may be NULL.  No allocation per event beyond
 * growing out. */
enum fl_result fl_enrich_event(const char *in, size_t len, struct fl_buf *out,
			       struct fl_enriched *info, const char **why) FL_MUST_USE;

/* Formats ms since the epoch as ISO 8601 UTC; with_ms adds ".mmm"
 * (truncated, "2026-01-01T00:13:11.250Z").  out must hold 25 bytes; it is
 * NUL-terminated.  Returns the length written (20 or 24).  Times outside
 * 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z are clamped to them.
 * No gmtime: a civil-from-days conversion, safe in any thread. */
size_t fl_iso8601(int64_t ms, int with_ms, char *out);

#endif
