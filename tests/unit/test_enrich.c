/*
 * test_enrich.c - events in, exact enriched bytes or exact reasons out.
 *
 * Table-driven: each case is an event's bytes (with an explicit length
 * when it holds NUL bytes) and either the exact output plus the
 * event_type / event_subtype the offsets must point at, or the exact
 * failure reason.  Every case also checks that a failure leaves the output
 * buffer as it was and that a success appends after what was there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "enrich.h"

#define PREFIX "previous event\n"

struct ecase {
	const char *name;
	const char *in;
	size_t len;         /* 0: strlen(in) */
	const char *out;    /* NULL: must fail with why */
	const char *why;
	const char *type;   /* expected event_type span */
	const char *sub;    /* expected event_subtype span, NULL: null */
	int64_t ms;         /* expected created_at_ms */
};

/* A literal with its length, for inputs holding NUL bytes. */
#define B(s) s, sizeof(s) - 1

#define HEAD "{\"event_uuid\":\"u1\",\"event_name\":\"payment:order:completed\","
#define DT(s) ",\"created_datetime\":\"" s "\""
#define PO ",\"event_type\":\"payment\",\"event_subtype\":\"order\"}"

static const struct ecase cases[] = {
	/* ---- good events ---- */
	{ "basic", HEAD "\"created_at\":1767226391}", 0,
	  HEAD "\"created_at\":1767226391" DT("2026-01-01T00:13:11Z") PO, NULL,
	  "payment", "order", 1767226391000LL },
	{ "no subtype", "{\"event_uuid\":\"u\",\"event_name\":\"login\",\"created_at\":0}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"login\",\"created_at\":0"
	  ",\"created_datetime\":\"1970-01-01T00:00:00Z\",\"event_type\":\"login\",\"event_subtype\":null}",
	  NULL, "login", NULL, 0 },
	{ "two parts", "{\"event_uuid\":\"u\",\"event_name\":\"a:b\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"a:b\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":\"b\"}",
	  NULL, "a", "b", 1000 },
	{ "empty second part is null", "{\"event_uuid\":\"u\",\"event_name\":\"payment:\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"payment:\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"payment\",\"event_subtype\":null}",
	  NULL, "payment", NULL, 1000 },
	{ "empty first part", "{\"event_uuid\":\"u\",\"event_name\":\":order:x\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\":order:x\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"\",\"event_subtype\":\"order\"}",
	  NULL, "", "order", 1000 },
	{ "empty name", "{\"event_uuid\":\"u\",\"event_name\":\"\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"\",\"event_subtype\":null}",
	  NULL, "", NULL, 1000 },
	{ "escapes kept in parts",
	  "{\"event_uuid\":\"u\",\"event_name\":\"pa\\\"y\\u00e9:o\\\\r\\ud83d\\ude00:z\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"pa\\\"y\\u00e9:o\\\\r\\ud83d\\ude00:z\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"pa\\\"y\\u00e9\""
	  ",\"event_subtype\":\"o\\\\r\\ud83d\\ude00\"}",
	  NULL, "pa\\\"y\\u00e9", "o\\\\r\\ud83d\\ude00", 1000 },
	{ "escaped colon does not split",
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\\u003ab\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\\u003ab\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\\u003ab\",\"event_subtype\":null}",
	  NULL, "a\\u003ab", NULL, 1000 },
	{ "utf-8 name", "{\"event_uuid\":\"u\",\"event_name\":\"caf\xc3\xa9:\xe2\x82\xac\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"caf\xc3\xa9:\xe2\x82\xac\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"caf\xc3\xa9\",\"event_subtype\":\"\xe2\x82\xac\"}",
	  NULL, "caf\xc3\xa9", "\xe2\x82\xac", 1000 },
	{ "other members kept byte for byte",
	  "{\"a\" : [1, {\"b\":null}, \"x\\/y\"] ,\"event_uuid\":\"u\",\"event_name\":\"l\",\"created_at\":5,\"big\":-1.5E+999999,\"t\":true,\"f\":false}", 0,
	  "{\"a\" : [1, {\"b\":null}, \"x\\/y\"] ,\"event_uuid\":\"u\",\"event_name\":\"l\",\"created_at\":5,\"big\":-1.5E+999999,\"t\":true,\"f\":false"
	  ",\"created_datetime\":\"1970-01-01T00:00:05Z\",\"event_type\":\"l\",\"event_subtype\":null}",
	  NULL, "l", NULL, 5000 },

	/* ---- created_at spellings ---- */
	{ "fraction .25", HEAD "\"created_at\":1767226391.25}", 0,
	  HEAD "\"created_at\":1767226391.25" DT("2026-01-01T00:13:11.250Z") PO, NULL,
	  "payment", "order", 1767226391250LL },
	{ "fraction truncated", HEAD "\"created_at\":1767226391.2519}", 0,
	  HEAD "\"created_at\":1767226391.2519" DT("2026-01-01T00:13:11.251Z") PO, NULL,
	  "payment", "order", 1767226391251LL },
	{ "fraction .9999 stays in its second", HEAD "\"created_at\":1767226391.9999}", 0,
	  HEAD "\"created_at\":1767226391.9999" DT("2026-01-01T00:13:11.999Z") PO, NULL,
	  "payment", "order", 1767226391999LL },
	{ "fraction below a ms", HEAD "\"created_at\":1767226391.0001}", 0,
	  HEAD "\"created_at\":1767226391.0001" DT("2026-01-01T00:13:11.000Z") PO, NULL,
	  "payment", "order", 1767226391000LL },
	{ "decimal .251 is exact", HEAD "\"created_at\":1767226391.251}", 0,
	  HEAD "\"created_at\":1767226391.251" DT("2026-01-01T00:13:11.251Z") PO, NULL,
	  "payment", "order", 1767226391251LL },
	{ "zero fraction is an integer", HEAD "\"created_at\":1767226391.000}", 0,
	  HEAD "\"created_at\":1767226391.000" DT("2026-01-01T00:13:11Z") PO, NULL,
	  "payment", "order", 1767226391000LL },
	{ "exponent integer", HEAD "\"created_at\":1.767226391e9}", 0,
	  HEAD "\"created_at\":1.767226391e9" DT("2026-01-01T00:13:11Z") PO, NULL,
	  "payment", "order", 1767226391000LL },
	{ "exponent fraction", HEAD "\"created_at\":1.76722639125E+9}", 0,
	  HEAD "\"created_at\":1.76722639125E+9" DT("2026-01-01T00:13:11.250Z") PO, NULL,
	  "payment", "order", 1767226391250LL },
	{ "negative exponent", HEAD "\"created_at\":1767226391251e-3}", 0,
	  HEAD "\"created_at\":1767226391251e-3" DT("2026-01-01T00:13:11.251Z") PO, NULL,
	  "payment", "order", 1767226391251LL },
	{ "minus zero", HEAD "\"created_at\":-0.0}", 0,
	  HEAD "\"created_at\":-0.0" DT("1970-01-01T00:00:00Z") PO, NULL,
	  "payment", "order", 0 },
	{ "tiny", HEAD "\"created_at\":1e-999999999999}", 0,
	  HEAD "\"created_at\":1e-999999999999" DT("1970-01-01T00:00:00.000Z") PO, NULL,
	  "payment", "order", 0 },
	{ "zero exponent digits", HEAD "\"created_at\":0e99999999999999999999}", 0,
	  HEAD "\"created_at\":0e99999999999999999999" DT("1970-01-01T00:00:00Z") PO, NULL,
	  "payment", "order", 0 },
	{ "last second of 9999", HEAD "\"created_at\":253402300799.999}", 0,
	  HEAD "\"created_at\":253402300799.999" DT("9999-12-31T23:59:59.999Z") PO, NULL,
	  "payment", "order", 253402300799999LL },
	{ "last ms of 9999, more digits", HEAD "\"created_at\":253402300799.99999}", 0,
	  HEAD "\"created_at\":253402300799.99999" DT("9999-12-31T23:59:59.999Z") PO, NULL,
	  "payment", "order", 253402300799999LL },
	{ "leap day", HEAD "\"created_at\":951782400}", 0,
	  HEAD "\"created_at\":951782400" DT("2000-02-29T00:00:00Z") PO, NULL,
	  "payment", "order", 951782400000LL },

	/* ---- white space ---- */
	{ "white space everywhere",
	  " \t\r\n{ \"event_uuid\" : \"u\" ,\n\"event_name\":\"a:b\"\t,\"created_at\" :\r7 } \n\t\r", 0,
	  "{ \"event_uuid\" : \"u\" ,\n\"event_name\":\"a:b\"\t,\"created_at\" :\r7 "
	  ",\"created_datetime\":\"1970-01-01T00:00:07Z\",\"event_type\":\"a\",\"event_subtype\":\"b\"}",
	  NULL, "a", "b", 7000 },

	/* ---- replaced members ---- */
	{ "replace all three",
	  "{\"event_type\":\"x\",\"event_uuid\":\"u\",\"event_name\":\"a:b\",\"created_at\":1,"
	  "\"created_datetime\":\"old\",\"z\":1,\"event_subtype\":null}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"a:b\",\"created_at\":1,\"z\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":\"b\"}",
	  NULL, "a", "b", 1000 },
	{ "replace keeps separators and white space",
	  "{ \"event_type\" : {\"deep\":[1]} ,  \"event_uuid\":\"u\" , \"event_name\":\"a\",\"created_at\":1 ,\"event_subtype\" : 2 }", 0,
	  "{ \"event_uuid\":\"u\" , \"event_name\":\"a\",\"created_at\":1 "
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":null}",
	  NULL, "a", NULL, 1000 },
	{ "replace in the middle",
	  "{\"event_uuid\":\"u\",\"event_type\":1,\"event_name\":\"a\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":null}",
	  NULL, "a", NULL, 1000 },
	{ "replace duplicates",
	  "{\"event_type\":1,\"event_type\":2,\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1,\"event_type\":3}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":null}",
	  NULL, "a", NULL, 1000 },
	{ "replace escaped key",
	  "{\"event\\u005ftype\":1,\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":null}",
	  NULL, "a", NULL, 1000 },
	{ "nested members of those names stay",
	  "{\"event_uuid\":\"u\",\"x\":{\"event_type\":1,\"created_datetime\":2},\"event_name\":\"a\",\"created_at\":1}", 0,
	  "{\"event_uuid\":\"u\",\"x\":{\"event_type\":1,\"created_datetime\":2},\"event_name\":\"a\",\"created_at\":1"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":null}",
	  NULL, "a", NULL, 1000 },

	/* ---- keys ---- */
	{ "escaped required keys",
	  "{\"event\\u005fuuid\":\"u\",\"\\u0065vent_name\":\"a:b\",\"created\\u005Fat\":2}", 0,
	  "{\"event\\u005fuuid\":\"u\",\"\\u0065vent_name\":\"a:b\",\"created\\u005Fat\":2"
	  ",\"created_datetime\":\"1970-01-01T00:00:02Z\",\"event_type\":\"a\",\"event_subtype\":\"b\"}",
	  NULL, "a", "b", 2000 },
	{ "duplicate keys: last wins, all kept",
	  "{\"event_uuid\":\"u\",\"event_name\":\"first:x\",\"created_at\":1,\"event_name\":\"second:y\",\"created_at\":2}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"first:x\",\"created_at\":1,\"event_name\":\"second:y\",\"created_at\":2"
	  ",\"created_datetime\":\"1970-01-01T00:00:02Z\",\"event_type\":\"second\",\"event_subtype\":\"y\"}",
	  NULL, "second", "y", 2000 },
	{ "duplicate: last one is not a string",
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1,\"event_uuid\":1}", 0,
	  NULL, "event_uuid is not a string", NULL, NULL, 0 },
	{ "near-miss keys are other members",
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1,\"event_typ\":1,\"Event_type\":2,\"created_at \":3}", 0,
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1,\"event_typ\":1,\"Event_type\":2,\"created_at \":3"
	  ",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":null}",
	  NULL, "a", NULL, 1000 },

	/* ---- not JSON, not an object ---- */
	{ "empty input", "", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "only white space", " \n\t ", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "array", "[1,2]", 0, NULL, "not a JSON object", NULL, NULL, 0 },
	{ "string", " \"x\" ", 0, NULL, "not a JSON object", NULL, NULL, 0 },
	{ "number", "42", 0, NULL, "not a JSON object", NULL, NULL, 0 },
	{ "null", "null", 0, NULL, "not a JSON object", NULL, NULL, 0 },
	{ "broken array", "[1,2", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "array then junk", "[1] x", 0, NULL, "trailing data after JSON", NULL, NULL, 0 },
	{ "garbage", "hello", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "unclosed object", "{\"event_uuid\":\"u\"", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "just a brace", "{", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "trailing comma", "{\"a\":1,}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "leading comma", "{,\"a\":1}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "missing colon", "{\"a\" 1}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "missing comma", "{\"a\":1 \"b\":2}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "single quotes", "{'a':1}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "bare key", "{a:1}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "unterminated string", "{\"a\":\"xyz}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "bad literal", "{\"a\":tru}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "literal prefix", "{\"a\":nulll}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "extra brace", "{\"a\":1}}", 0, NULL, "trailing data after JSON", NULL, NULL, 0 },
	{ "two objects", "{\"a\":1}{\"b\":2}", 0, NULL, "trailing data after JSON", NULL, NULL, 0 },
	{ "junk after", "{\"a\":1} x", 0, NULL, "trailing data after JSON", NULL, NULL, 0 },
	{ "NUL after object", B("{\"a\":1}\0"), NULL, "trailing data after JSON", NULL, NULL, 0 },
	{ "NUL before object", B("\0{\"a\":1}"), NULL, "not valid JSON", NULL, NULL, 0 },
	{ "NUL between members", B("{\"a\":1,\0\"b\":2}"), NULL, "not valid JSON", NULL, NULL, 0 },
	{ "NUL in a string", B("{\"event_uuid\":\"u\0v\",\"event_name\":\"a\",\"created_at\":1}"),
	  NULL, "control character in string", NULL, NULL, 0 },
	{ "raw newline in a string", "{\"a\":\"x\ny\"}", 0, NULL, "control character in string", NULL, NULL, 0 },
	{ "raw tab in a key", "{\"a\tb\":1}", 0, NULL, "control character in string", NULL, NULL, 0 },
	{ "DEL is fine, trailing junk is not", "{\"a\":\"\x7f\"}x", 0, NULL, "trailing data after JSON", NULL, NULL, 0 },

	/* ---- numbers ---- */
	{ "leading zero", "{\"a\":01}", 0, NULL, "invalid number", NULL, NULL, 0 },
	{ "bare minus", "{\"a\":-}", 0, NULL, "invalid number", NULL, NULL, 0 },
	{ "dot without digits", "{\"a\":1.}", 0, NULL, "invalid number", NULL, NULL, 0 },
	{ "exponent without digits", "{\"a\":1e+}", 0, NULL, "invalid number", NULL, NULL, 0 },
	{ "leading dot", "{\"a\":.5}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "plus sign", "{\"a\":+1}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "hex", "{\"a\":0x10}", 0, NULL, "not valid JSON", NULL, NULL, 0 },
	{ "NaN", "{\"a\":NaN}", 0, NULL, "not valid JSON", NULL, NULL, 0 },

	/* ---- escapes ---- */
	{ "unknown escape", "{\"a\":\"\\x\"}", 0, NULL, "invalid escape in string", NULL, NULL, 0 },
	{ "short \\u", "{\"a\":\"\\u12\"}", 0, NULL, "invalid escape in string", NULL, NULL, 0 },
	{ "non-hex \\u", "{\"a\":\"\\u12G4\"}", 0, NULL, "invalid escape in string", NULL, NULL, 0 },
	{ "lone high surrogate", "{\"a\":\"\\ud800\"}", 0, NULL, "invalid escape in string", NULL, NULL, 0 },
	{ "high surrogate then letter", "{\"a\":\"\\ud800\\u0041\"}", 0, NULL, "invalid escape in string", NULL, NULL, 0 },
	{ "lone low surrogate", "{\"a\":\"\\udc00\\ud800\"}", 0, NULL, "invalid escape in string", NULL, NULL, 0 },
	{ "escape in key", "{\"\\q\":1}", 0, NULL, "invalid escape in string", NULL, NULL, 0 },

	/* ---- UTF-8 ---- */
	{ "overlong 2 bytes", "{\"a\":\"\xc0\x80\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "overlong C1", "{\"a\":\"\xc1\xbf\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "overlong 3 bytes", "{\"a\":\"\xe0\x80\xaf\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "overlong 4 bytes", "{\"a\":\"\xf0\x8f\xbf\xbf\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "UTF-16 surrogate", "{\"a\":\"\xed\xa0\x80\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "past U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "F5 lead", "{\"a\":\"\xf5\x80\x80\x80\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "lone continuation", "{\"a\":\"\x80\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "truncated sequence", "{\"a\":\"\xe2\x82\"}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "truncated at end", "{\"a\":\"\xe2\x82", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "latin-1 in a long string", "{\"a\":\"abcdefghijklmnopqrstuvwxyz caf\xe9 abcdefghijklmnop\"}", 0,
	  NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "byte FF in a key", "{\"\xff\":1}", 0, NULL, "invalid UTF-8", NULL, NULL, 0 },
	{ "high byte outside strings", "{\"a\":1,\xc3\xa9}", 0, NULL, "not valid JSON", NULL, NULL, 0 },

	/* ---- required fields ---- */
	{ "empty object", "{}", 0, NULL, "missing event_uuid", NULL, NULL, 0 },
	{ "empty object, white space", " { \n } ", 0, NULL, "missing event_uuid", NULL, NULL, 0 },
	{ "missing event_uuid", "{\"event_name\":\"a\",\"created_at\":1}", 0, NULL, "missing event_uuid", NULL, NULL, 0 },
	{ "event_uuid number", "{\"event_uuid\":1,\"event_name\":\"a\",\"created_at\":1}", 0,
	  NULL, "event_uuid is not a string", NULL, NULL, 0 },
	{ "event_uuid null", "{\"event_uuid\":null,\"event_name\":\"a\",\"created_at\":1}", 0,
	  NULL, "event_uuid is not a string", NULL, NULL, 0 },
	{ "missing event_name", "{\"event_uuid\":\"u\",\"created_at\":1}", 0, NULL, "missing event_name", NULL, NULL, 0 },
	{ "event_name array", "{\"event_uuid\":\"u\",\"event_name\":[\"a\"],\"created_at\":1}", 0,
	  NULL, "event_name is not a string", NULL, NULL, 0 },
	{ "event_name object", "{\"event_uuid\":\"u\",\"event_name\":{},\"created_at\":1}", 0,
	  NULL, "event_name is not a string", NULL, NULL, 0 },
	{ "missing created_at", "{\"event_uuid\":\"u\",\"event_name\":\"a\"}", 0, NULL, "missing created_at", NULL, NULL, 0 },
	{ "created_at string", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":\"1767226391\"}", 0,
	  NULL, "created_at is not a number", NULL, NULL, 0 },
	{ "created_at true", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":true}", 0,
	  NULL, "created_at is not a number", NULL, NULL, 0 },
	{ "created_at false", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":false}", 0,
	  NULL, "created_at is not a number", NULL, NULL, 0 },
	{ "created_at null", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":null}", 0,
	  NULL, "created_at is not a number", NULL, NULL, 0 },
	{ "created_at object", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":{}}", 0,
	  NULL, "created_at is not a number", NULL, NULL, 0 },
	{ "created_at negative", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":-1}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at slightly negative", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":-0.001e-5}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at year 10000", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":253402300800}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at year 10000, spelt with a fraction", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":253402300800.0}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at year 10000, spelt with an exponent", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":2.534023008e11}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at 1e12", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1e12}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at 1e400", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1e400}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at huge exponent", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1e99999999999999999999}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at huge integer",
	  "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":123456789012345678901234567890123456789}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "created_at milliseconds by mistake", "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1767226391000}", 0,
	  NULL, "created_at out of range", NULL, NULL, 0 },
	{ "order of checks: uuid first", "{\"event_uuid\":1,\"created_at\":\"x\"}", 0,
	  NULL, "event_uuid is not a string", NULL, NULL, 0 },
	{ "syntax before fields", "{\"event_name\":1,\"a\":01}", 0, NULL, "invalid number", NULL, NULL, 0 },
};

static void check_case(const struct ecase *c)
{
	struct fl_buf out;
	struct fl_enriched info;
	const char *why = NULL;
	size_t len = c->len ? c->len : strlen(c->in);

	fl_buf_init(&out, 1 << 20);
	assert_int_equal(fl_buf_adds(&out, PREFIX), FL_OK);
	memset(&info, 0xAB, sizeof info);

	enum fl_result r = fl_enrich_event(c->in, len, &out, &info, &why);
	if (!c->out) {
		if (r != FL_INVALID || !why || strcmp(why, c->why) != 0)
			fail_msg("%s: result %d why \"%s\", want \"%s\"", c->name, r,
				 why ? why : "(null)", c->why);
		assert_int_equal(out.len, strlen(PREFIX));
		assert_string_equal(out.data, PREFIX);
		fl_buf_free(&out);
		return;
	}
	if (r != FL_OK)
		fail_msg("%s: failed: %s", c->name, why ? why : "(null)");
	assert_int_equal(info.event_off, strlen(PREFIX));
	assert_memory_equal(out.data, PREFIX, strlen(PREFIX));
	const char *ev = out.data + info.event_off;
	if (info.event_len != strlen(c->out) || memcmp(ev, c->out, info.event_len) != 0)
		fail_msg("%s:\n got  %.*s\n want %s", c->name, (int)info.event_len, ev, c->out);
	assert_int_equal(out.len, info.event_off + info.event_len);
	assert_int_equal(out.data[out.len], '\0');

	if (info.event_type_len != strlen(c->type) ||
	    memcmp(ev + info.event_type_off, c->type, info.event_type_len) != 0)
		fail_msg("%s: event_type %.*s", c->name, (int)info.event_type_len,
			 ev + info.event_type_off);
	/* The span is the string content: quotes right around it. */
	assert_int_equal(ev[info.event_type_off - 1], '"');
	assert_int_equal(ev[info.event_type_off + info.event_type_len], '"');
	if (c->sub) {
		if (info.event_subtype_len != strlen(c->sub) ||
		    memcmp(ev + info.event_subtype_off, c->sub, info.event_subtype_len) != 0)
			fail_msg("%s: event_subtype %.*s", c->name, (int)info.event_subtype_len,
				 ev + info.event_subtype_off);
		assert_int_equal(ev[info.event_subtype_off - 1], '"');
	} else {
		assert_int_equal(info.event_subtype_len, 0);
		assert_memory_equal(ev + info.event_subtype_off, "null}", 5);
	}
	if (info.created_at_ms != c->ms)
		fail_msg("%s: created_at_ms %lld, want %lld", c->name,
			 (long long)info.created_at_ms, (long long)c->ms);
	fl_buf_free(&out);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(&cases[i]);
}

/* Builds an object nested n levels deep around the required members. */
static size_t deep_event(char *buf, int levels)
{
	size_t n = (size_t)sprintf(buf, "{\"event_uuid\":\"u\",\"event_name\":\"a\",\"created_at\":1,\"d\":");
	for (int i = 0; i < levels; i++) {
		if (i % 2)
			buf[n++] = '[';
		else
			n += (size_t)sprintf(buf + n, "{\"k\":");
	}
	buf[n++] = '0';
	for (int i = levels - 1; i >= 0; i--)
		buf[n++] = i % 2 ? ']' : '}';
	buf[n++] = '}';
	buf[n] = '\0';
	return n;
}

static void test_depth(void **state)
{
	(void)state;
	char in[4096];
	struct fl_buf out;
	struct fl_enriched info;
	const char *why = NULL;

	fl_buf_init(&out, 1 << 20);
	/* The event is level 1: 63 more levels is the bound. */
	size_t n = deep_event(in, 63);
	assert_int_equal(fl_enrich_event(in, n, &out, &info, &why), FL_OK);
	assert_memory_equal(out.data, in, n - 1);
	assert_string_equal(out.data + n - 1,
		",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":null}");

	fl_buf_reset(&out);
	n = deep_event(in, 64);
	assert_int_equal(fl_enrich_event(in, n, &out, &info, &why), FL_INVALID);
	assert_string_equal(why, "nested too deeply");
	assert_int_equal(out.len, 0);

	/* Far deeper than any stack would like. */
	char *huge = malloc(200001);
	assert_non_null(huge);
	huge[0] = '{';
	memcpy(huge + 1, "\"a\":", 4);
	memset(huge + 5, '[', 199996);
	assert_int_equal(fl_enrich_event(huge, 200001, &out, &info, &why), FL_INVALID);
	assert_string_equal(why, "nested too deeply");
	free(huge);
	fl_buf_free(&out);
}

/* Events with more top-level members than one scan reports are read
 * again by iteration: the result must not change. */
static void test_many_members(void **state)
{
	(void)state;
	char in[8192], want[8192];
	struct fl_buf out;
	struct fl_enriched info;
	const char *why = NULL;

	for (int members = 28; members <= 40; members++) {
		size_t n = 0, w = 0;
		n += (size_t)sprintf(in + n, "{\"event_type\":0");
		w += (size_t)sprintf(want + w, "{");
		for (int i = 0; i < members; i++) {
			n += (size_t)sprintf(in + n, ",\"m%d\":%d", i, i);
			w += (size_t)sprintf(want + w, "%s\"m%d\":%d", i ? "," : "", i, i);
		}
		/* Required members and a replaced one at the end. */
		n += (size_t)sprintf(in + n, ",\"event_uuid\":\"u\",\"event_name\":\"a:b\","
				     "\"created_at\":%d,\"event_subtype\":1}", members);
		w += (size_t)sprintf(want + w, ",\"event_uuid\":\"u\",\"event_name\":\"a:b\","
				     "\"created_at\":%d,\"created_datetime\":\"1970-01-01T00:00:%02dZ\","
				     "\"event_type\":\"a\",\"event_subtype\":\"b\"}", members, members);
		fl_buf_init(&out, 1 << 16);
		if (fl_enrich_event(in, n, &out, &info, &why) != FL_OK)
			fail_msg("%d members: %s", members, why);
		if (strcmp(out.data, want) != 0)
			fail_msg("%d members:\n got  %s\n want %s", members, out.data, want);
		assert_memory_equal(out.data + info.event_type_off, "a\"", 2);
		assert_memory_equal(out.data + info.event_subtype_off, "b\"", 2);
		fl_buf_free(&out);

		/* Missing created_at past the first scan's members. */
		char *cut = strstr(in, ",\"created_at\"");
		memcpy(cut, "}", 2);
		fl_buf_init(&out, 1 << 16);
		assert_int_equal(fl_enrich_event(in, strlen(in), &out, &info, &why), FL_INVALID);
		assert_string_equal(why, "missing created_at");
		fl_buf_free(&out);
	}
}

static void test_too_large(void **state)
{
	(void)state;
	const char *in = "{\"event_uuid\":\"u\",\"event_name\":\"a:b\",\"created_at\":1}";
	const char *want = "{\"event_uuid\":\"u\",\"event_name\":\"a:b\",\"created_at\":1"
		",\"created_datetime\":\"1970-01-01T00:00:01Z\",\"event_type\":\"a\",\"event_subtype\":\"b\"}";
	struct fl_buf out;
	struct fl_enriched info;
	const char *why = NULL;

	/* Exactly the enriched size fits; one byte less does not. */
	fl_buf_init(&out, strlen(want) - 1);
	assert_int_equal(fl_enrich_event(in, strlen(in), &out, &info, &why), FL_TOO_LARGE);
	assert_string_equal(why, "output too large");
	assert_int_equal(out.len, 0);
	fl_buf_free(&out);

	fl_buf_init(&out, strlen(want));
	assert_int_equal(fl_enrich_event(in, strlen(in), &out, &info, &why), FL_OK);
	assert_string_equal(out.data, want);
	fl_buf_free(&out);

	/* The slow path (a replaced member) has the same exact size. */
	const char *in2 = "{\"event_uuid\":\"u\",\"event_type\":\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\","
		"\"event_name\":\"a:b\",\"created_at\":1}";
	fl_buf_init(&out, strlen(want));
	assert_int_equal(fl_enrich_event(in2, strlen(in2), &out, &info, &why), FL_OK);
	assert_string_equal(out.data, want);
	fl_buf_free(&out);
	fl_buf_init(&out, strlen(want) - 1);
	assert_int_equal(fl_enrich_event(in2, strlen(in2), &out, &info, &why), FL_TOO_LARGE);
	assert_int_equal(out.len, 0);
	fl_buf_free(&out);
}

static void test_append_many(void **state)
{
	(void)state;
	struct fl_buf out;
	struct fl_enriched a, b;
	const char *why = NULL;
	const char *e1 = "{\"event_uuid\":\"1\",\"event_name\":\"x:y\",\"created_at\":10}";
	const char *e2 = "{\"event_uuid\":\"2\",\"event_name\":\"p\",\"created_at\":20.5}";

	fl_buf_init(&out, 4096);
	assert_int_equal(fl_enrich_event(e1, strlen(e1), &out, &a, &why), FL_OK);
	assert_int_equal(fl_buf_addc(&out, '\n'), FL_OK);
	assert_int_equal(fl_enrich_event(e2, strlen(e2), &out, &b, &why), FL_OK);
	assert_string_equal(out.data,
		"{\"event_uuid\":\"1\",\"event_name\":\"x:y\",\"created_at\":10"
		",\"created_datetime\":\"1970-01-01T00:00:10Z\",\"event_type\":\"x\",\"event_subtype\":\"y\"}\n"
		"{\"event_uuid\":\"2\",\"event_name\":\"p\",\"created_at\":20.5"
		",\"created_datetime\":\"1970-01-01T00:00:20.500Z\",\"event_type\":\"p\",\"event_subtype\":null}");
	assert_int_equal(a.event_off, 0);
	assert_int_equal(b.event_off, a.event_len + 1);
	assert_memory_equal(out.data + b.event_off + b.event_type_off, "p\"", 2);
	assert_int_equal(b.created_at_ms, 20500);
	/* info and why may be NULL. */
	assert_int_equal(fl_enrich_event(e1, strlen(e1), &out, NULL, NULL), FL_OK);
	assert_int_equal(fl_enrich_event("[]", 2, &out, NULL, NULL), FL_INVALID);
	fl_buf_free(&out);
}

struct icase {
	int64_t ms;
	int with_ms;
	const char *want;
};

static const struct icase iso_cases[] = {
	{ 0, 0, "1970-01-01T00:00:00Z" },
	{ 0, 1, "1970-01-01T00:00:00.000Z" },
	{ 1767226391250LL, 1, "2026-01-01T00:13:11.250Z" },
	{ 1767226391250LL, 0, "2026-01-01T00:13:11Z" },
	{ 951782400000LL, 0, "2000-02-29T00:00:00Z" },
	{ 951868799999LL, 1, "2000-02-29T23:59:59.999Z" },
	{ 1709164800000LL, 0, "2024-02-29T00:00:00Z" },
	{ 4107542400000LL, 0, "2100-03-01T00:00:00Z" },  /* 2100 is no leap year */
	{ -1, 1, "1969-12-31T23:59:59.999Z" },
	{ -2208988800000LL, 0, "1900-01-01T00:00:00Z" },
	{ 253402300799999LL, 1, "9999-12-31T23:59:59.999Z" },
	{ 253402300800000LL, 1, "9999-12-31T23:59:59.999Z" },  /* clamped */
	{ INT64_MAX, 0, "9999-12-31T23:59:59Z" },
	{ -62167219200000LL, 1, "0000-01-01T00:00:00.000Z" },
	{ INT64_MIN, 0, "0000-01-01T00:00:00Z" },
};

static void test_iso8601(void **state)
{
	(void)state;
	char out[25];

	for (size_t i = 0; i < sizeof iso_cases / sizeof iso_cases[0]; i++) {
		memset(out, 'x', sizeof out);
		size_t n = fl_iso8601(iso_cases[i].ms, iso_cases[i].with_ms, out);
		if (n != strlen(iso_cases[i].want) || strcmp(out, iso_cases[i].want) != 0)
			fail_msg("%lld: got %s want %s", (long long)iso_cases[i].ms, out,
				 iso_cases[i].want);
	}

	/* Against the C library over the whole range, a week and an odd
	 * hour apart, with milliseconds. */
	for (int64_t s = -62167219200LL; s < 253402300800LL; s += 86400 * 7 + 3599) {
		time_t t = (time_t)s;
		struct tm tm;
		char want[96];
		assert_non_null(gmtime_r(&t, &tm));
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, (int)(s & 511) % 1000);
		fl_iso8601(s * 1000 + (s & 511) % 1000, 1, out);
		if (strcmp(out, want) != 0)
			fail_msg("%lld: got %s want %s", (long long)s, out, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_many_members),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_append_many),
		cmocka_unit_test(test_iso8601),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
