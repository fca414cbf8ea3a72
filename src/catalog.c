/*
 * catalog.c - keeping the Glue catalog in step with the lake.
 *
 * DESIGN
 *
 * firelake writes four kinds of rows into the catalog of sql/0002_glue.sql
 * as it delivers or crawls: a table per stream (or crawled folder), a
 * partition per key=value/ folder, an object per stored file, and the
 * columns learnt from the events.  Every write is one idempotent statement
 * on a borrowed connection (INSERT ... ON CONFLICT), so a segment that is
 * delivered again after a crash, or a crawl that runs twice, adds nothing.
 * The one read-modify-write, merging a schema into a table's columns,
 * locks the table's row (SELECT ... FOR UPDATE) for the merge, inside the
 * caller's transaction or, without one, a transaction of its own: two
 * deliveries that learn different columns at once both end up in the
 * table, and the version moves only when the columns do.
 *
 * A partition's row copies the table's StorageDescriptor with its own
 * Location, in the statement that inserts it (jsonb_set on the table's
 * row), so registering a partition costs one round trip.
 *
 * Partition values are read back from an evaluated prefix rather than
 * carried from the evaluation: the object's path is what a reader of the
 * lake sees, so the partition is what the path says.  The prefix
 * expression is turned into a template of literal bytes, '/' and
 * wildcards (an expression; a timestamp whose pattern prints '/' becomes
 * wildcards around those slashes), and the path must follow it segment
 * by segment.  A key value holding '/' moves the segments, and the path
 * is refused rather than read as a wrong partition (one case cannot be
 * seen: two adjacent key segments, the first value with '/' and the
 * second's name missing from the path, read as other values).
 *
 * Names that become SQL identifiers in the query engine (databases,
 * tables, partition keys) are Glue's lower-case [a-z0-9_]{1,255};
 * everything else travels as parameters.
 */
#include "catalog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "prefix.h"
#include "schema.h"
#include "stream.h"

#define NAME_MAX_LEN 255
#define NAME_SHOWN 64                  /* bytes of a bad name in a message */
#define TOKEN_TAG "fl1."               /* version of the token format */
#define TOKEN_TAG_LEN 4
#define ARRAY_MAX (1024 * 1024)        /* a text[] literal of partition values */
#define TPL_MAX 8192                   /* items of an expanded prefix template */
#define DEFAULT_TIME "yyyy/MM/dd/HH/"  /* prefix.c's appended default */

#define INPUT_FORMAT "org.apache.hadoop.mapred.TextInputFormat"
#define OUTPUT_FORMAT "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
#define JSON_SERDE "org.openx.data.jsonserde.JsonSerDe"
#define CSV_SERDE "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"

/* ------------------------------------------------------------------ */
/* Names */

/* Copies at most max bytes of in to out as printable, valid UTF-8 (other
 * bytes as '?'), for an error message that echoes a name. */
static void shown_name(const char *in, size_t max, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t i = 0, o = 0;
	while (p[i] && i < max && o + 5 < n) {
		unsigned char c = p[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			: (c & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = len > 0 && c >= 0x20 && c != 0x7f && c != 0xc0 && c != 0xc1
			&& c <= 0xf4 && i + len <= max;
		for (size_t k = 1; ok && k < len; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		if (!ok) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
}

static enum fl_result bad_name(const char *in, const char *what, struct fl_error *err)
{
	char shown[NAME_SHOWN * 4 + 8];
	shown_name(in, NAME_SHOWN, shown, sizeof shown);
	return fl_error_set(err, FL_INVALID, "%s '%s' is not a valid name: use 1-255 "
			    "characters of a-z, 0-9 and _", what ? what : "name", shown);
}

enum fl_result fl_catalog_name(const char *in, const char *what, char out[256],
			       struct fl_error *err)
{
	size_t n = in ? strnlen(in, NAME_MAX_LEN + 1) : 0;
	bool ok = n >= 1 && n <= NAME_MAX_LEN;
	for (size_t i = 0; ok && i < n; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
		out[i] = c;
	}
	if (!ok) {
		out[0] = '\0';
		return bad_name(in, what, err);
	}
	out[n] = '\0';
	return FL_OK;
}

/* A name that must already be in Glue's form (it goes into a row as it
 * is). */
static enum fl_result exact_name(const char *in, const char *what, struct fl_error *err)
{
	char norm[256];
	enum fl_result r = fl_catalog_name(in, what, norm, err);
	if (r == FL_OK && strcmp(norm, in) != 0)
		r = bad_name(in, what, err);
	return r;
}

/* ------------------------------------------------------------------ */
/* Paging tokens: TOKEN_TAG, then the key in base64url without padding.
 * Decoding accepts exactly what encoding writes (no padding, no stray
 * bits, no NUL in the key), so a forged or damaged token is refused. */

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

enum fl_result fl_catalog_token_encode(const char *last_key, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)last_key;
	size_t len = strlen(last_key);
	if (n == 0)
		return FL_TOO_LARGE;
	out[0] = '\0';
	if (len > (SIZE_MAX - TOKEN_TAG_LEN - 3) / 2 ||
	    n < TOKEN_TAG_LEN + (len * 4 + 2) / 3 + 1)
		return FL_TOO_LARGE;
	memcpy(out, TOKEN_TAG, TOKEN_TAG_LEN);
	size_t o = TOKEN_TAG_LEN;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return FL_OK;
}

enum fl_result fl_catalog_token_decode(const char *token, char *out, size_t n,
				       struct fl_error *err)
{
	size_t len = token ? strlen(token) : 0;
	size_t o = 0;
	if (n == 0)
		return fl_error_set(err, FL_INTERNAL, "no room for a pagination token");
	out[0] = '\0';
	if (len < TOKEN_TAG_LEN || memcmp(token, TOKEN_TAG, TOKEN_TAG_LEN) != 0)
		goto bad;
	const char *s = token + TOKEN_TAG_LEN;
	len -= TOKEN_TAG_LEN;
	if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) >= n)
		goto bad;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		size_t k;
		for (k = 0; k < 4 && i + k < len; k++) {
			int d = b64url_value(s[i + k]);
			if (d < 0)
				goto bad;
			v |= (uint32_t)d << (18 - 6 * k);
		}
		/* k characters carry k - 1 bytes; the bits past them are 0. */
		if (k < 4 && (v & ((1u << (24 - 8 * (k - 1))) - 1)) != 0)
			goto bad;
		for (size_t b = 0; b + 1 < k; b++) {
			char c = (char)((v >> (16 - 8 * b)) & 0xff);
			if (c == '\0')
				goto bad;
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return FL_OK;
bad:
	out[0] = '\0';
	return fl_error_set(err, FL_INVALID, "Invalid pagination token");
}

/* ------------------------------------------------------------------ */
/* The table of a stream */

static bool span_starts(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && memcmp(s, lit, l) == 0;
}

enum fl_result fl_catalog_stream_table(const char *stream, const struct fl_stream_conf *conf,
				       struct fl_catalog_table *out, struct fl_error *err)
{
	enum fl_result r;
	memset(out, 0, sizeof *out);
	const json_t *dest = conf->destination;
	const json_t *sc = json_object_get(json_object_get(dest, "DataFormatConversionConfiguration"),
					   "SchemaConfiguration");
	const char *dbname = json_string_value(json_object_get(sc, "DatabaseName"));
	const char *tblname = json_string_value(json_object_get(sc, "TableName"));
	const char *expr = json_string_value(json_object_get(dest, "Prefix"));
	if (!expr)
		expr = "";

	if (dbname && *dbname)
		r = fl_catalog_name(dbname, "database name", out->db, err);
	else
		r = fl_catalog_name(FL_CATALOG_DEFAULT_DB, "database name", out->db, err);
	if (r != FL_OK)
		return r;
	if (tblname && *tblname) {
		r = fl_catalog_name(tblname, "table name", out->name, err);
	} else {
		char mapped[FL_STREAM_NAME_MAX + 1];
		size_t i = 0;
		for (; stream[i] && i < FL_STREAM_NAME_MAX; i++)
			mapped[i] = stream[i] == '-' || stream[i] == '.' ? '_' : stream[i];
		mapped[i] = '\0';
		r = stream[i] ? bad_name(stream, "table name", err)
			: fl_catalog_name(mapped, "table name", out->name, err);
	}
	if (r != FL_OK)
		return r;

	size_t slen = fl_prefix_static_len(expr);
	int w = snprintf(out->location, sizeof out->location, "s3://%s/%.*s", conf->bucket,
			 (int)slen, expr);
	if (w < 0 || (size_t)w >= sizeof out->location)
		return fl_error_set(err, FL_INVALID, "table location is longer than %zu bytes",
				    sizeof out->location - 1);

	char raw[FL_CATALOG_MAX_KEYS][128];
	size_t nkeys = fl_prefix_hive_keys(expr, raw, FL_CATALOG_MAX_KEYS);
	for (size_t i = 0; i < nkeys; i++) {
		char name[256];
		if ((r = fl_catalog_name(raw[i], "partition key", name, err)) != FL_OK)
			return r;
		for (size_t k = 0; k < i; k++)
			if (strcmp(out->keys[k], name) == 0)
				return fl_error_set(err, FL_INVALID, "partition key '%s' appears "
						    "twice in the prefix", name);
		memcpy(out->keys[i], name, strlen(name) + 1);  /* < 128: raw is */
	}
	out->nkeys = nkeys;
	out->format = FL_FORMAT_JSON;
	out->compressed = conf->gzip;
	out->stream = stream;
	out->crawler = NULL;
	return FL_OK;
}

/* The spec document of a new table (see catalog.h). */
static json_t *table_spec(const struct fl_catalog_table *t)
{
	bool csv = t->format == FL_FORMAT_CSV;
	const char *cls = csv ? "csv" : "json";
	const char *comp = t->compressed ? "gzip" : "none";
	json_t *keys = json_array();
	json_t *params = json_pack("{s:s,s:s,s:s}", "classification", cls,
				   "compressionType", comp, "typeOfData", "file");
	json_t *sd_params = json_pack("{s:s,s:s,s:s}", "classification", cls,
				      "compressionType", comp, "typeOfData", "file");
	json_t *serde_params = csv ? json_pack("{s:s}", "field.delim", ",") : json_object();
	json_t *spec = NULL;
	int bad = !keys || !params || !sd_params || !serde_params;
	for (size_t i = 0; !bad && i < t->nkeys; i++)
		bad |= json_array_append_new(keys, json_pack("{s:s,s:s}", "Name", t->keys[i],
							     "Type", "string"));
	if (!bad && csv) {
		bad |= json_object_set_new(params, "skip.header.line.count", json_string("1"));
		bad |= json_object_set_new(sd_params, "skip.header.line.count", json_string("1"));
	}
	if (!bad && t->stream)
		bad |= json_object_set_new(params, "firelake.stream", json_string(t->stream));
	if (!bad && t->crawler) {
		/* What a Glue crawler leaves on the tables it makes. */
		bad |= json_object_set_new(params, "UPDATED_BY_CRAWLER", json_string(t->crawler));
		bad |= json_object_set_new(params, "CrawlerSchemaDeserializerVersion",
					   json_string("1.0"));
		bad |= json_object_set_new(params, "CrawlerSchemaSerializerVersion",
					   json_string("1.0"));
	}
	if (!bad)
		spec = json_pack("{s:{s:[],s:s,s:s,s:s,s:b,s:i,s:{s:s,s:O},s:[],s:[],s:O,s:b},"
				 "s:O,s:s,s:O}",
				 "StorageDescriptor",
				 "Columns", "Location", t->location, "InputFormat", INPUT_FORMAT,
				 "OutputFormat", OUTPUT_FORMAT, "Compressed", t->compressed,
				 "NumberOfBuckets", -1,
				 "SerdeInfo", "SerializationLibrary", csv ? CSV_SERDE : JSON_SERDE,
				 "Parameters", serde_params,
				 "BucketColumns", "SortColumns", "Parameters", sd_params,
				 "StoredAsSubDirectories", 0,
				 "PartitionKeys", keys, "TableType", "EXTERNAL_TABLE",
				 "Parameters", params);
	json_decref(keys);
	json_decref(params);
	json_decref(sd_params);
	json_decref(serde_params);
	return spec;
}

enum fl_result fl_catalog_ensure_table(PGconn *conn, const struct fl_catalog_table *t,
				       struct fl_error *err)
{
	enum fl_result r;
	json_t *spec = NULL;
	char *text = NULL;
	if ((r = exact_name(t->db, "database name", err)) != FL_OK ||
	    (r = exact_name(t->name, "table name", err)) != FL_OK)
		goto out;
	if (t->nkeys > FL_CATALOG_MAX_KEYS) {
		r = fl_error_set(err, FL_INVALID, "more than %d partition keys",
				 FL_CATALOG_MAX_KEYS);
		goto out;
	}
	for (size_t i = 0; i < t->nkeys; i++)
		if ((r = exact_name(t->keys[i], "partition key", err)) != FL_OK)
			goto out;
	spec = table_spec(t);
	text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	if (!text) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	const char *params[] = { t->db, t->name, text, t->stream, t->crawler };
	/* The database first ("default" exists from the migration); both
	 * statements leave an existing row as it is. */
	if ((r = fl_db_exec(conn, "INSERT INTO fl_glue_databases (name) VALUES ($1) "
			    "ON CONFLICT DO NOTHING", 1, params, NULL, err)) != FL_OK)
		goto out;
	r = fl_db_exec(conn, "INSERT INTO fl_glue_tables (db, name, spec, stream, crawler) "
		       "VALUES ($1, $2, $3::jsonb, $4, $5) ON CONFLICT DO NOTHING",
		       5, params, NULL, err);
out:
	free(text);
	json_decref(spec);
	return r;
}

/* ------------------------------------------------------------------ */
/* Partitions from evaluated prefixes */

enum tpl_kind { T_LIT, T_SLASH, T_TSLASH, T_WILD };

/* A prefix expression as literal bytes, '/' of the text (T_SLASH), '/'
 * printed by a timestamp (T_TSLASH) and wildcards: any run of bytes
 * without '/'. */
struct tpl {
	size_t n;
	char ch[TPL_MAX];
	unsigned char kind[TPL_MAX];
};

static bool tpl_add(struct tpl *t, enum tpl_kind kind, char c)
{
	if (t->n == TPL_MAX)
		return false;
	t->kind[t->n] = (unsigned char)kind;
	t->ch[t->n++] = c;
	return true;
}

/* A timestamp pattern: a wildcard around each '/' it prints (quoted or
 * not, a '/' is printed as it is). */
static bool tpl_add_time(struct tpl *t, const char *pat, size_t n)
{
	bool ok = tpl_add(t, T_WILD, 0);
	for (size_t i = 0; ok && i < n; i++)
		if (pat[i] == '/')
			ok = tpl_add(t, T_TSLASH, '/') && tpl_add(t, T_WILD, 0);
	return ok;
}

static enum fl_result tpl_build(const char *expr, struct tpl *t, struct fl_error *err)
{
	bool has_time = false, has_keys = false, ok = true;
	t->n = 0;
	for (const char *s = expr; ok && *s;) {
		if (s[0] != '!' || s[1] != '{') {
			ok = tpl_add(t, *s == '/' ? T_SLASH : T_LIT, *s);
			s++;
			continue;
		}
		const char *body = s + 2, *close = strchr(body, '}');
		if (!close)
			return fl_error_set(err, FL_INVALID, "prefix has an expression that is "
					    "not closed");
		size_t blen = (size_t)(close - body);
		if (span_starts(body, blen, "timestamp:")) {
			has_time = true;
			ok = tpl_add_time(t, body + 10, blen - 10);
		} else {
			has_keys |= span_starts(body, blen, "partitionKeyFromQuery:") ||
				    span_starts(body, blen, "partitionKeyFromLambda:");
			ok = tpl_add(t, T_WILD, 0);
		}
		s = close + 1;
	}
	if (ok && !has_time && !has_keys)
		ok = tpl_add_time(t, DEFAULT_TIME, strlen(DEFAULT_TIME));
	if (!ok)
		return fl_error_set(err, FL_INVALID, "prefix expression too long");
	return FL_OK;
}

/* Whether items [ts, te) (no slashes) match s[0, n) (no slashes):
 * wildcards take any run, the classic greedy match with one backtrack
 * point (enough when wildcards are unrestricted). */
static bool tpl_match(const struct tpl *t, size_t ts, size_t te, const char *s, size_t n)
{
	size_t ti = ts, si = 0, star = SIZE_MAX, star_s = 0;
	while (si < n) {
		if (ti < te && t->kind[ti] == T_WILD) {
			star = ti++;
			star_s = si;
		} else if (ti < te && t->ch[ti] == s[si]) {
			ti++;
			si++;
		} else if (star != SIZE_MAX) {
			ti = star + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (ti < te && t->kind[ti] == T_WILD)
		ti++;
	return ti == te;
}

/* The key of a name=!{...} segment starting at item ts, as
 * fl_prefix_hive_keys reads it: its index in names, or -1. */
static int tpl_key_at(const struct tpl *t, size_t ts, char names[][128], size_t nnames,
		      size_t *name_len)
{
	size_t i = ts;
	while (i < t->n && t->kind[i] == T_LIT && t->ch[i] != '=')
		i++;
	size_t len = i - ts;
	if (i + 1 >= t->n || t->kind[i] != T_LIT || t->ch[i] != '=' ||
	    t->kind[i + 1] != T_WILD || len == 0 || len >= 128)
		return -1;
	for (size_t k = 0; k < nnames; k++)
		if (strlen(names[k]) == len && memcmp(names[k], t->ch + ts, len) == 0) {
			*name_len = len;
			return (int)k;
		}
	return -1;
}

enum fl_result fl_catalog_partition_of(const char *prefix_expr, const char *bucket,
				       const char *evaluated, char vals[][256], size_t max,
				       size_t *n, char *location, size_t location_len,
				       struct fl_error *err)
{
	enum fl_result r = FL_OK;
	struct tpl *t = NULL;
	char names[FL_CATALOG_MAX_KEYS][128];
	bool seen[FL_CATALOG_MAX_KEYS] = { false };
	size_t nnames = fl_prefix_hive_keys(prefix_expr, names, FL_CATALOG_MAX_KEYS);
	*n = 0;
	if (location_len)
		location[0] = '\0';
	if (nnames == 0)
		goto out;
	if (nnames > max) {
		r = fl_error_set(err, FL_INVALID, "prefix has more than %zu partition keys", max);
		goto out;
	}
	t = malloc(sizeof *t);
	if (!t) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = tpl_build(prefix_expr, t, err)) != FL_OK)
		goto out;

	/* One step per evaluated segment: ts/es start the segment in the
	 * template and in the path; a key segment may span several
	 * segments (a timestamp with '/'), its value runs from val_at to
	 * the end of the template segment. */
	size_t ts = 0, es = 0, elen = strlen(evaluated), loc_end = 0, val_at = 0;
	int key = -1;
	for (;;) {
		if (ts == 0 || t->kind[ts - 1] == T_SLASH) {
			size_t nl = 0;
			int k = tpl_key_at(t, ts, names, nnames, &nl);
			if (k >= 0 && !seen[k]) {
				key = k;
				val_at = es + nl + 1;
			}
		}
		size_t te = ts, ee = es;
		while (te < t->n && t->kind[te] != T_SLASH && t->kind[te] != T_TSLASH)
			te++;
		while (ee < elen && evaluated[ee] != '/')
			ee++;
		if (!tpl_match(t, ts, te, evaluated + es, ee - es) ||
		    (te == t->n) != (ee == elen))
			goto mismatch;
		if (key >= 0 && (te == t->n || t->kind[te] == T_SLASH)) {
			size_t vlen = ee - val_at;
			if (vlen > 255) {
				r = fl_error_set(err, FL_INVALID, "partition value of '%s' is longer "
						 "than 255 bytes", names[key]);
				goto out;
			}
			memcpy(vals[key], evaluated + val_at, vlen);
			vals[key][vlen] = '\0';
			seen[key] = true;
			loc_end = ee;
			key = -1;
		}
		if (te == t->n)
			break;
		ts = te + 1;
		es = ee + 1;
	}
	for (size_t k = 0; k < nnames; k++)
		if (!seen[k])
			goto mismatch;
	int w = snprintf(location, location_len, "s3://%s/%.*s/", bucket, (int)loc_end,
			 evaluated);
	if (w < 0 || (size_t)w >= location_len) {
		if (location_len)
			location[0] = '\0';
		r = fl_error_set(err, FL_INVALID, "partition location is longer than %zu bytes",
				 location_len ? location_len - 1 : 0);
		goto out;
	}
	*n = nnames;
	goto out;
mismatch:
	r = fl_error_set(err, FL_INVALID, "path '%.200s' does not follow the prefix '%.200s'",
			 evaluated, prefix_expr);
out:
	free(t);
	return r;
}

/* A PostgreSQL text[] literal of vals: every element double-quoted, '"'
 * and '\' escaped, so any text is one element. */
static enum fl_result text_array(const char *const *vals, size_t n, struct fl_buf *out,
				 struct fl_error *err)
{
	enum fl_result r = fl_buf_addc(out, '{');
	for (size_t i = 0; r == FL_OK && i < n; i++) {
		if (i)
			r = fl_buf_addc(out, ',');
		if (r == FL_OK)
			r = fl_buf_addc(out, '"');
		for (const char *p = vals[i]; r == FL_OK && *p; p++) {
			if (*p == '"' || *p == '\\')
				r = fl_buf_addc(out, '\\');
			if (r == FL_OK)
				r = fl_buf_addc(out, *p);
		}
		if (r == FL_OK)
			r = fl_buf_addc(out, '"');
	}
	if (r == FL_OK)
		r = fl_buf_addc(out, '}');
	if (r != FL_OK)
		return fl_error_set(err, r == FL_TOO_LARGE ? FL_INVALID : r,
				    "partition values too long");
	return FL_OK;
}

enum fl_result fl_catalog_add_partition(PGconn *conn, const char *db, const char *tbl,
					const char *const *vals, size_t nvals,
					const char *location, struct fl_error *err)
{
	struct fl_buf arr;
	PGresult *res = NULL;
	enum fl_result r;
	fl_buf_init(&arr, ARRAY_MAX);
	if ((r = text_array(vals, nvals, &arr, err)) != FL_OK)
		goto out;
	const char *params[] = { db, tbl, arr.data, location };
	/* One statement: the table's row (and its key count) and the insert
	 * that copies its StorageDescriptor. */
	r = fl_db_exec(conn,
		       "WITH t AS (SELECT db, name, spec FROM fl_glue_tables"
		       "           WHERE db = $1 AND name = $2),"
		       " ok AS (SELECT * FROM t WHERE jsonb_typeof(spec->'PartitionKeys') = 'array'"
		       "        AND jsonb_array_length(spec->'PartitionKeys') = cardinality($3::text[])),"
		       " ins AS (INSERT INTO fl_glue_partitions (db, tbl, vals, spec)"
		       "         SELECT db, name, $3::text[], jsonb_build_object("
		       "           'StorageDescriptor', jsonb_set(CASE jsonb_typeof(spec->'StorageDescriptor')"
		       "             WHEN 'object' THEN spec->'StorageDescriptor' ELSE '{}' END,"
		       "             '{Location}', to_jsonb($4::text)),"
		       "           'Parameters', '{}'::jsonb) FROM ok"
		       "         ON CONFLICT DO NOTHING RETURNING 1)"
		       " SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM ok),"
		       "        (SELECT count(*) FROM ins)",
		       4, params, &res, err);
	if (r != FL_OK)
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		r = fl_error_set(err, FL_NOT_FOUND, "Table %s not found.", tbl);
	else if (strcmp(PQgetvalue(res, 0, 1), "0") == 0)
		r = fl_error_set(err, FL_INVALID, "%zu partition values do not match the "
				 "partition keys of table %s.%s", nvals, db, tbl);
out:
	PQclear(res);
	fl_buf_free(&arr);
	return r;
}

/* ------------------------------------------------------------------ */
/* Objects */

enum fl_result fl_catalog_add_object(PGconn *conn, const struct fl_catalog_object *o,
				     struct fl_error *err)
{
	struct fl_buf arr;
	char bytes[24], records[24], min[24], max[24];
	enum fl_result r = FL_OK;
	fl_buf_init(&arr, ARRAY_MAX);
	snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)o->bytes);
	snprintf(records, sizeof records, "%llu", (unsigned long long)o->records);
	snprintf(min, sizeof min, "%lld", (long long)o->min_ms);
	snprintf(max, sizeof max, "%lld", (long long)o->max_ms);
	if (o->db && (r = text_array(o->vals, o->nvals, &arr, err)) != FL_OK)
		goto out;
	const char *params[] = {
		o->bucket, o->key, o->stream, o->kind,
		o->partition_path ? o->partition_path : "", bytes, records,
		o->min_ms == INT64_MAX ? NULL : min, o->max_ms == INT64_MIN ? NULL : max,
		o->db ? o->db : "", o->db ? o->tbl : "", o->db ? arr.data : NULL,
	};
	r = fl_db_exec(conn,
		       "INSERT INTO fl_objects (bucket, key, stream, kind, partition_path, bytes,"
		       " records, min_created_at, max_created_at, db, tbl, vals)"
		       " VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint,"
		       "  'epoch'::timestamptz + $8::bigint * interval '1 millisecond',"
		       "  'epoch'::timestamptz + $9::bigint * interval '1 millisecond',"
		       "  $10, $11, $12::text[])"
		       " ON CONFLICT (bucket, key, db, tbl) DO UPDATE SET stream = EXCLUDED.stream,"
		       "  kind = EXCLUDED.kind, partition_path = EXCLUDED.partition_path,"
		       "  bytes = EXCLUDED.bytes, records = EXCLUDED.records,"
		       "  min_created_at = EXCLUDED.min_created_at,"
		       "  max_created_at = EXCLUDED.max_created_at, vals = EXCLUDED.vals",
		       12, params, NULL, err);
out:
	fl_buf_free(&arr);
	return r;
}

/* ------------------------------------------------------------------ */
/* Schemas */

/* obj[key] as an object, made when missing (NULL on ENOMEM). */
static json_t *object_member(json_t *obj, const char *key)
{
	json_t *m = json_object_get(obj, key);
	if (json_is_object(m))
		return m;
	m = json_object();
	if (!m || json_object_set_new(obj, key, m) != 0)
		return NULL;
	return m;
}

static bool listed(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Whether the table of spec is read by position (classification csv):
 * its new columns are then appended in the order observed. */
static bool positional(const json_t *spec)
{
	const json_t *where[] = {
		json_object_get(spec, "Parameters"),
		json_object_get(json_object_get(spec, "StorageDescriptor"), "Parameters"),
	};
	for (size_t i = 0; i < 2; i++) {
		const char *cls = json_string_value(json_object_get(where[i], "classification"));
		if (cls)
			return strcasecmp(cls, "csv") == 0;
	}
	return false;
}

/* Merges observed into spec (the table's document, changed in place);
 * *changed says whether it changed. */
static enum fl_result merge_spec(json_t *spec, const struct fl_schema *observed,
				 bool *changed, struct fl_error *err)
{
	enum fl_result r;
	struct fl_schema *cur = NULL, *seen = NULL;
	json_t *seen_cols = NULL, *cols = NULL;
	const json_t *pkeys = json_object_get(spec, "PartitionKeys");
	size_t nkeys = json_array_size(pkeys);
	const char **keys = calloc(nkeys ? nkeys : 1, sizeof *keys);
	*changed = false;
	if (!keys) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nkeys; i++)
		keys[i] = json_string_value(json_object_get(json_array_get(pkeys, i), "Name"));

	json_t *sd = object_member(spec, "StorageDescriptor");
	json_t *have = sd ? json_object_get(sd, "Columns") : NULL;
	json_t *empty = json_array();
	r = fl_schema_from_columns(json_is_array(have) ? have : empty, &cur, err);
	json_decref(empty);
	if (r != FL_OK)
		goto out;
	if (positional(spec))
		fl_schema_set_positional(cur);
	/* The observed columns less the partition keys. */
	seen_cols = fl_schema_to_columns(observed, keys, nkeys);
	if (!sd || !seen_cols) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = fl_schema_from_columns(seen_cols, &seen, err)) != FL_OK ||
	    (r = fl_schema_merge(cur, seen, changed)) != FL_OK) {
		if (r != FL_INVALID)
			fl_error_set(err, r, "cannot merge the observed columns");
		goto out;
	}
	if (*changed) {
		cols = fl_schema_to_columns(cur, keys, nkeys);
		if (!cols || json_object_set(sd, "Columns", cols) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}

	/* Renamed keys of a JSON table: the SerDe reads the key for the
	 * column.  A mapping already there is kept as it is. */
	json_t *serde = object_member(sd, "SerdeInfo");
	const char *lib = serde ? json_string_value(json_object_get(serde, "SerializationLibrary"))
		: NULL;
	if (!lib || strcmp(lib, JSON_SERDE) != 0)
		goto out;
	json_t *sparams = NULL;
	for (size_t i = 0; i < fl_schema_count(observed); i++) {
		const char *name = fl_schema_name(observed, i), *key = fl_schema_key(observed, i);
		char pname[sizeof "mapping." + FL_SCHEMA_NAME_MAX];
		if (!key || strcmp(name, key) == 0 || listed(name, keys, nkeys))
			continue;
		snprintf(pname, sizeof pname, "mapping.%s", name);
		if (!sparams && !(sparams = object_member(serde, "Parameters"))) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		if (json_object_get(sparams, pname))
			continue;
		if (json_object_set_new(sparams, pname, json_string(key)) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
		*changed = true;
	}
out:
	json_decref(cols);
	json_decref(seen_cols);
	fl_schema_free(seen);
	fl_schema_free(cur);
	free(keys);
	return r;
}

enum fl_result fl_catalog_merge_schema(PGconn *conn, const char *db, const char *tbl,
				       const struct fl_schema *observed, struct fl_error *err)
{
	enum fl_result r;
	PGresult *res = NULL;
	json_t *spec = NULL;
	char *text = NULL;
	bool own = PQtransactionStatus(conn) == PQTRANS_IDLE, changed = false;
	const char *params[] = { db, tbl, NULL };
	if (own && (r = fl_db_exec(conn, "BEGIN", 0, NULL, NULL, err)) != FL_OK)
		return r;
	if ((r = fl_db_exec(conn, "SELECT spec FROM fl_glue_tables WHERE db = $1 AND name = $2 "
			    "FOR UPDATE", 2, params, &res, err)) != FL_OK)
		goto out;
	if (PQntuples(res) == 0) {
		r = fl_error_set(err, FL_NOT_FOUND, "Table %s not found.", tbl);
		goto out;
	}
	json_error_t jerr;
	spec = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
	if (!json_is_object(spec)) {
		r = fl_error_set(err, FL_INTERNAL, "table %s.%s: spec is not a JSON object",
				 db, tbl);
		goto out;
	}
	struct fl_error merr;
	r = merge_spec(spec, observed, &changed, &merr);
	if (r == FL_INVALID) {
		/* A column typed (through UpdateTable) in a way firelake cannot
		 * read: the columns stay as they are, and delivery goes on. */
		fl_warn("table %s.%s: columns not merged: %s", db, tbl, merr.msg);
		r = FL_OK;
		goto out;
	}
	if (r != FL_OK) {
		if (err)
			*err = merr;
		goto out;
	}
	if (!changed)
		goto out;
	text = json_dumps(spec, JSON_COMPACT);
	if (!text) {
		r = fl_error_set(err, FL_INTERNAL, "out of memory");
		goto out;
	}
	params[2] = text;
	r = fl_db_exec(conn, "UPDATE fl_glue_tables SET spec = $3::jsonb,"
		       " version_id = version_id + 1, updated_at = now()"
		       " WHERE db = $1 AND name = $2", 3, params, NULL, err);
out:
	if (own) {
		if (r == FL_OK)
			r = fl_db_exec(conn, "COMMIT", 0, NULL, NULL, err);
		else if (PQstatus(conn) == CONNECTION_OK)
			PQclear(PQexec(conn, "ROLLBACK"));
	}
	free(text);
	json_decref(spec);
	PQclear(res);
	return r;
}
