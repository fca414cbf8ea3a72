/*
 * athena_ddl_text.c - Glue tables as Hive text, and back.
 *
 * DESIGN
 *
 * Athena's DDL is Hive's, and so is the text it prints about tables.
 * This file holds both directions of that translation, with no catalog
 * and no I/O, so they can be checked against each other: the TableInput
 * that the clauses of a CREATE EXTERNAL TABLE stand for (STORED AS
 * formats and their default SerDes, ROW FORMAT DELIMITED as
 * LazySimpleSerDe parameters, the "classification" Glue readers expect),
 * and the statement that SHOW CREATE TABLE prints for a table, in the
 * layout of Hive's ShowCreateTable: DELIMITED when a LazySimpleSerDe
 * table has delimiter parameters, else SERDE; properties in key order;
 * "EXTERNAL" and "comment" not repeated as properties; strings with
 * Java's escapes, which the parser reads back.  DESCRIBE's rows follow
 * Hive's layout too (the partition keys listed among the columns, then
 * in the "# Partition Information" block).
 *
 * Partition names are Hive's: "k=v/k2=v2" with the bytes Hive escapes in
 * path names written %XX, so a name is also the folder path of the
 * partition under its table, and a folder path reads back as values.
 */
#include "athena_ddl_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TEXT_INPUT "org.apache.hadoop.mapred.TextInputFormat"
#define TEXT_OUTPUT "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
#define LAZY_SERDE "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
#define PROPS_MAX (16u << 20)

/* ---- CREATE EXTERNAL TABLE -> TableInput ------------------------------------- */

/* STORED AS <name>: input, output format and default SerDe. */
static const struct stored_as {
	const char *name, *input, *output, *serde;
} stored_formats[] = {
	{ "TEXTFILE", TEXT_INPUT, TEXT_OUTPUT, LAZY_SERDE },
	{ "PARQUET", "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
	  "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
	  "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" },
	{ "ORC", "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
	  "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
	  "org.apache.hadoop.hive.ql.io.orc.OrcSerde" },
	{ "AVRO", "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
	  "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
	  "org.apache.hadoop.hive.serde2.avro.AvroSerDe" },
	{ "SEQUENCEFILE", "org.apache.hadoop.mapred.SequenceFileInputFormat",
	  "org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat", LAZY_SERDE },
	{ "RCFILE", "org.apache.hadoop.hive.ql.io.RCFileInputFormat",
	  "org.apache.hadoop.hive.ql.io.RCFileOutputFormat",
	  "org.apache.hadoop.hive.serde2.columnar.LazyBinaryColumnarSerDe" },
};

static const struct stored_as *stored_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof stored_formats / sizeof stored_formats[0]; i++)
		if (strcasecmp(stored_formats[i].name, name) == 0)
			return &stored_formats[i];
	return NULL;
}

bool fl_ddl_stored_as_known(const char *name)
{
	return stored_find(name) != NULL;
}

/* The "classification" Glue gives a table of this SerDe, or NULL. */
static const char *classification_of(const char *serde)
{
	static const struct {
		const char *serde, *cls;
	} map[] = {
		{ "org.openx.data.jsonserde.JsonSerDe", "json" },
		{ "org.apache.hive.hcatalog.data.JsonSerDe", "json" },
		{ "org.apache.hadoop.hive.serde2.JsonSerDe", "json" },
		{ LAZY_SERDE, "csv" },
		{ "org.apache.hadoop.hive.serde2.OpenCSVSerde", "csv" },
		{ "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", "parquet" },
		{ "org.apache.hadoop.hive.ql.io.orc.OrcSerde", "orc" },
		{ "org.apache.hadoop.hive.serde2.avro.AvroSerDe", "avro" },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].serde, serde) == 0)
			return map[i].cls;
	return NULL;
}

json_t *fl_ddl_table_input(const struct fl_ddl_table_clauses *c)
{
	const struct stored_as *st = stored_find(c->stored_as);
	const char *serde = c->serde ? c->serde : c->delimited ? LAZY_SERDE
		: st ? st->serde : LAZY_SERDE;
	const char *input = c->input ? c->input : st ? st->input : TEXT_INPUT;
	const char *output = c->output ? c->output : st ? st->output : TEXT_OUTPUT;
	const char *cls = classification_of(serde);
	json_t *out = NULL, *empty = json_object();
	json_t *params = c->props ? json_deep_copy(c->props) : json_object();
	json_t *sparams = c->serde_params ? json_deep_copy(c->serde_params) : json_object();
	json_t *cols = c->cols ? json_deep_copy(c->cols) : json_array();
	json_t *keys = c->keys ? json_deep_copy(c->keys) : json_array();
	if (!empty || !params || !sparams || !cols || !keys ||
	    json_object_set_new(params, "EXTERNAL", json_string("TRUE")) != 0 ||
	    (cls && !json_object_get(params, "classification") &&
	     json_object_set_new(params, "classification", json_string(cls)) != 0) ||
	    (c->comment && json_object_set_new(params, "comment", json_string(c->comment)) != 0))
		goto out;
	out = json_pack("{s:{s:O,s:s?,s:s,s:s,s:b,s:i,s:{s:s,s:O},s:[],s:[],s:O,s:b},"
			"s:O,s:s,s:O}",
			"StorageDescriptor",
			"Columns", cols, "Location", c->location, "InputFormat", input,
			"OutputFormat", output, "Compressed", 0, "NumberOfBuckets", -1,
			"SerdeInfo", "SerializationLibrary", serde, "Parameters", sparams,
			"BucketColumns", "SortColumns", "Parameters", empty,
			"StoredAsSubDirectories", 0,
			"PartitionKeys", keys, "TableType", "EXTERNAL_TABLE", "Parameters", params);
	if (out && c->comment &&
	    json_object_set_new(out, "Description", json_string(c->comment)) != 0) {
		json_decref(out);
		out = NULL;
	}
out:
	json_decref(empty);
	json_decref(params);
	json_decref(sparams);
	json_decref(cols);
	json_decref(keys);
	return out;
}

/* ---- string literals ------------------------------------------------------------ */

/* Appends code point cp as UTF-8. */
static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Four hex digits at s (n bytes there), or -1. */
static int hex4(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < 4; i++) {
		int d = i < n ? hexval(s[i]) : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static bool octal(char c)
{
	return c >= '0' && c <= '7';
}

/* The code point of the escape after a backslash at s[0, n); *used gets
 * the bytes it takes.  0 for an escape of NUL, UINT32_MAX for an unpaired
 * surrogate, a byte >= 0x80 (of a UTF-8 sequence) as itself. */
static uint32_t escape_of(const char *s, size_t n, size_t *used)
{
	*used = 1;
	if (octal(s[0]) && n >= 3 && octal(s[1]) && octal(s[2])) {
		*used = 3;
		return (uint32_t)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
	}
	if (s[0] == 'u' && hex4(s + 1, n - 1) >= 0) {
		uint32_t cp = (uint32_t)hex4(s + 1, n - 1);
		int lo = n >= 11 && s[5] == '\\' && s[6] == 'u' ? hex4(s + 7, n - 7) : -1;
		*used = 5;
		if (cp >= 0xd800 && cp <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
			*used = 11;
			return 0x10000 + ((cp - 0xd800) << 10) + (uint32_t)(lo - 0xdc00);
		}
		return cp >= 0xd800 && cp <= 0xdfff ? UINT32_MAX : cp;
	}
	switch (s[0]) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'b': return '\b';
	case 'Z': return 0x1a;
	case '0': return 0;
	default: return (unsigned char)s[0];
	}
}

bool fl_ddl_unquote(const char *raw, size_t n, char *out, const char **why)
{
	char q = raw[0];
	const char *s = raw + 1;
	size_t len = n >= 2 ? n - 2 : 0, o = 0;
	for (size_t i = 0; i < len;) {
		char c = s[i];
		if (c == q) {                   /* a doubled quote */
			out[o++] = q;
			i += 2;
			continue;
		}
		if (c != '\\' || q == '`' || i + 1 >= len) {
			out[o++] = c;
			i++;
			continue;
		}
		size_t used;
		uint32_t cp = escape_of(s + i + 1, len - i - 1, &used);
		i += 1 + used;
		if (cp == 0 || cp == UINT32_MAX) {
			*why = cp ? "string literal has an unpaired surrogate escape"
				: "string literal holds a NUL character";
			return false;
		}
		if (cp >= 0x80 && used == 1 && (unsigned char)s[i - 1] >= 0x80)
			out[o++] = s[i - 1];    /* a backslash before a UTF-8 byte */
		else
			o += put_utf8(out + o, cp);
	}
	out[o] = '\0';
	return true;
}

bool fl_ddl_utf8_valid(const char *s, size_t n, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			: (c & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = len > 0 && c != 0xc0 && c != 0xc1 && c <= 0xf4 && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		if (ok && len == 3) {
			uint32_t cp = ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(p[i + 1] & 0x3f) << 6);
			ok = cp >= 0x800 && !(cp >= 0xd800 && cp <= 0xdfff);
		}
		if (ok && len == 4)
			ok = !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
		if (!ok) {
			if (bad)
				*bad = i;
			return false;
		}
		i += len;
	}
	return true;
}

/* ---- SHOW CREATE TABLE ------------------------------------------------------- */

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj in byte order (caller frees the array, not the keys). */
static const char **sorted_keys(const json_t *obj, size_t *n)
{
	const char *key;
	json_t *v;
	size_t i = 0;
	*n = json_object_size(obj);
	const char **keys = calloc(*n ? *n : 1, sizeof *keys);
	if (!keys)
		return NULL;
	json_object_foreach((json_t *)obj, key, v)
		keys[i++] = key;
	qsort(keys, *n, sizeof *keys, cmp_str);
	return keys;
}

/* s as a Hive string literal: quoted, with Java's escapes. */
static enum fl_result add_literal(struct fl_buf *b, const char *s)
{
	enum fl_result r = fl_buf_addc(b, '\'');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); r == FL_OK && *p; p++) {
		switch (*p) {
		case '\\': r = fl_buf_adds(b, "\\\\"); break;
		case '\'': r = fl_buf_adds(b, "\\'"); break;
		case '\n': r = fl_buf_adds(b, "\\n"); break;
		case '\t': r = fl_buf_adds(b, "\\t"); break;
		case '\r': r = fl_buf_adds(b, "\\r"); break;
		case '\b': r = fl_buf_adds(b, "\\b"); break;
		default:
			r = *p < 0x20 || *p == 0x7f ? fl_buf_printf(b, "\\u%04X", *p)
				: fl_buf_addc(b, (char)*p);
		}
	}
	if (r == FL_OK)
		r = fl_buf_addc(b, '\'');
	return r;
}

/* "  `name` type[ COMMENT '...']" lines joined by ", \n". */
static enum fl_result add_column_list(struct fl_buf *b, const json_t *list)
{
	enum fl_result r = FL_OK;
	for (size_t i = 0; r == FL_OK && i < json_array_size(list); i++) {
		const json_t *col = json_array_get(list, i);
		const char *comment = str_of(col, "Comment"), *type = str_of(col, "Type");
		r = fl_buf_printf(b, "%s  `%s` %s", i ? ", \n" : "", str_of(col, "Name"),
				  type ? type : "string");
		if (r == FL_OK && comment && (r = fl_buf_adds(b, " COMMENT ")) == FL_OK)
			r = add_literal(b, comment);
	}
	return r;
}

/* The "<title> (\n  'k'='v', \n  ...)<tail>" block of obj's members in
 * key order but for skip; nothing when no member is left. */
static enum fl_result add_props(struct fl_buf *b, const char *title, const json_t *obj,
				const char *const *skip, size_t nskip, const char *tail)
{
	size_t n = 0, written = 0;
	const char **keys = sorted_keys(obj, &n);
	enum fl_result r = keys ? FL_OK : FL_INTERNAL;
	for (size_t i = 0; r == FL_OK && i < n; i++) {
		bool skipped = false;
		for (size_t k = 0; k < nskip; k++)
			skipped |= strcmp(keys[i], skip[k]) == 0;
		const char *v = str_of(obj, keys[i]);
		if (skipped || !v)
			continue;
		r = written ? fl_buf_adds(b, ", \n  ") : fl_buf_printf(b, "%s\n  ", title);
		if (r == FL_OK)
			r = add_literal(b, keys[i]);
		if (r == FL_OK)
			r = fl_buf_addc(b, '=');
		if (r == FL_OK)
			r = add_literal(b, v);
		written++;
	}
	if (r == FL_OK && written)
		r = fl_buf_printf(b, ")%s", tail);
	free(keys);
	return r;
}

/* ROW FORMAT ... OUTPUTFORMAT '...', as Hive prints it: DELIMITED with
 * the delimiters a LazySimpleSerDe table has, else SERDE; the other
 * SerDe parameters (never serialization.format) in WITH SERDEPROPERTIES. */
static enum fl_result add_row_format(struct fl_buf *b, const json_t *sd)
{
	static const struct {
		const char *param, *clause;
	} delims[] = {
		{ "field.delim", "FIELDS TERMINATED BY" },
		{ "colelction.delim", "COLLECTION ITEMS TERMINATED BY" },
		{ "mapkey.delim", "MAP KEYS TERMINATED BY" },
		{ "line.delim", "LINES TERMINATED BY" },
		{ "serialization.null.format", "NULL DEFINED AS" },
	};
	const size_t ndelims = sizeof delims / sizeof delims[0];
	const json_t *serde = json_object_get(sd, "SerdeInfo");
	const json_t *params = json_object_get(serde, "Parameters");
	const char *lib = str_of(serde, "SerializationLibrary");
	const char *skip[1 + sizeof delims / sizeof delims[0]] = { "serialization.format" };
	size_t nskip = 1;
	bool delimited = false;
	enum fl_result r = FL_OK;
	if (!lib || strcmp(lib, LAZY_SERDE) == 0)
		for (size_t i = 0; i < ndelims; i++)
			delimited |= str_of(params, delims[i].param) != NULL;
	if (delimited) {
		r = fl_buf_adds(b, "ROW FORMAT DELIMITED \n");
		for (size_t i = 0; r == FL_OK && i < ndelims; i++) {
			const char *v = str_of(params, delims[i].param);
			if (!v)
				continue;
			skip[nskip++] = delims[i].param;
			if ((r = fl_buf_printf(b, "  %s ", delims[i].clause)) == FL_OK &&
			    (r = add_literal(b, v)) == FL_OK)
				r = fl_buf_adds(b, " \n");
		}
	} else if ((r = fl_buf_adds(b, "ROW FORMAT SERDE \n  ")) == FL_OK &&
		   (r = add_literal(b, lib ? lib : "")) == FL_OK) {
		r = fl_buf_adds(b, " \n");
	}
	if (r == FL_OK)
		r = add_props(b, "WITH SERDEPROPERTIES ( ", params, skip, nskip, " \n");
	const char *in = str_of(sd, "InputFormat"), *out = str_of(sd, "OutputFormat");
	if (r == FL_OK && in && out &&
	    (r = fl_buf_adds(b, "STORED AS INPUTFORMAT \n  ")) == FL_OK &&
	    (r = add_literal(b, in)) == FL_OK &&
	    (r = fl_buf_adds(b, " \nOUTPUTFORMAT \n  ")) == FL_OK &&
	    (r = add_literal(b, out)) == FL_OK)
		r = fl_buf_addc(b, '\n');
	return r;
}

enum fl_result fl_ddl_create_text(const char *db, const char *name, const json_t *table,
				  struct fl_buf *b)
{
	static const char *const skip[] = { "EXTERNAL", "comment" };
	const json_t *sd = json_object_get(table, "StorageDescriptor");
	const json_t *keys = json_object_get(table, "PartitionKeys");
	const json_t *params = json_object_get(table, "Parameters");
	const char *type = str_of(table, "TableType");
	const char *comment = str_of(params, "comment");
	const char *loc = str_of(sd, "Location");
	if (!comment)
		comment = str_of(table, "Description");
	enum fl_result r = fl_buf_printf(b, "CREATE %sTABLE `%s`.`%s`(\n",
					 type && strcmp(type, "EXTERNAL_TABLE") == 0 ? "EXTERNAL " : "",
					 db, name);
	if (r == FL_OK)
		r = add_column_list(b, json_object_get(sd, "Columns"));
	if (r == FL_OK)
		r = fl_buf_adds(b, ")\n");
	if (r == FL_OK && comment && (r = fl_buf_adds(b, "COMMENT ")) == FL_OK &&
	    (r = add_literal(b, comment)) == FL_OK)
		r = fl_buf_addc(b, '\n');
	if (r == FL_OK && json_array_size(keys) > 0 &&
	    (r = fl_buf_adds(b, "PARTITIONED BY ( \n")) == FL_OK &&
	    (r = add_column_list(b, keys)) == FL_OK)
		r = fl_buf_adds(b, ")\n");
	if (r == FL_OK)
		r = add_row_format(b, sd);
	if (r == FL_OK && loc && (r = fl_buf_adds(b, "LOCATION\n  ")) == FL_OK &&
	    (r = add_literal(b, loc)) == FL_OK)
		r = fl_buf_addc(b, '\n');
	if (r == FL_OK)
		r = add_props(b, "TBLPROPERTIES (", params, skip, 2, "");
	/* No final newline. */
	if (r == FL_OK && b->len && b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
	return r;
}

/* ---- DESCRIBE -------------------------------------------------------------------- */

static enum fl_result row3(json_t *rows, const char *a, const char *b, const char *c)
{
	json_t *row = json_pack("[sss]", a ? a : "", b ? b : "", c ? c : "");
	if (!row || json_array_append_new(rows, row) != 0)
		return FL_INTERNAL;
	return FL_OK;
}

static enum fl_result column_rows(json_t *rows, const json_t *list)
{
	enum fl_result r = FL_OK;
	for (size_t i = 0; r == FL_OK && i < json_array_size(list); i++) {
		const json_t *col = json_array_get(list, i);
		r = row3(rows, str_of(col, "Name"), str_of(col, "Type"), str_of(col, "Comment"));
	}
	return r;
}

/* "", k, v rows of an object's members in key order. */
static enum fl_result param_rows(json_t *rows, const json_t *obj)
{
	size_t n = 0;
	const char **keys = sorted_keys(obj, &n);
	enum fl_result r = keys ? FL_OK : FL_INTERNAL;
	for (size_t i = 0; r == FL_OK && i < n; i++)
		r = row3(rows, "", keys[i], str_of(obj, keys[i]));
	free(keys);
	return r;
}

/* The "# Detailed Table Information" and "# Storage Information" blocks. */
static enum fl_result formatted_rows(const char *db, const json_t *t, json_t *rows)
{
	const json_t *sd = json_object_get(t, "StorageDescriptor");
	const json_t *serde = json_object_get(sd, "SerdeInfo");
	const json_t *sparams = json_object_get(serde, "Parameters");
	char created[64] = "UNKNOWN", buckets[32];
	time_t secs = (time_t)json_number_value(json_object_get(t, "CreateTime"));
	struct tm tm;
	if (secs > 0 && gmtime_r(&secs, &tm))
		strftime(created, sizeof created, "%a %b %d %H:%M:%S UTC %Y", &tm);
	const json_t *nb = json_object_get(sd, "NumberOfBuckets");
	snprintf(buckets, sizeof buckets, "%lld",
		 json_is_integer(nb) ? (long long)json_integer_value(nb) : -1LL);
	bool compressed = json_is_true(json_object_get(sd, "Compressed"));
	enum fl_result r;
	if ((r = row3(rows, "", "", "")) != FL_OK ||
	    (r = row3(rows, "# Detailed Table Information", "", "")) != FL_OK ||
	    (r = row3(rows, "Database:", db, "")) != FL_OK ||
	    (r = row3(rows, "Owner:", str_of(t, "Owner"), "")) != FL_OK ||
	    (r = row3(rows, "CreateTime:", created, "")) != FL_OK ||
	    (r = row3(rows, "LastAccessTime:", "UNKNOWN", "")) != FL_OK ||
	    (r = row3(rows, "Retention:", "0", "")) != FL_OK ||
	    (r = row3(rows, "Location:", str_of(sd, "Location"), "")) != FL_OK ||
	    (r = row3(rows, "Table Type:", str_of(t, "TableType"), "")) != FL_OK ||
	    (r = row3(rows, "Table Parameters:", "", "")) != FL_OK ||
	    (r = param_rows(rows, json_object_get(t, "Parameters"))) != FL_OK ||
	    (r = row3(rows, "", "", "")) != FL_OK ||
	    (r = row3(rows, "# Storage Information", "", "")) != FL_OK ||
	    (r = row3(rows, "SerDe Library:", str_of(serde, "SerializationLibrary"), "")) != FL_OK ||
	    (r = row3(rows, "InputFormat:", str_of(sd, "InputFormat"), "")) != FL_OK ||
	    (r = row3(rows, "OutputFormat:", str_of(sd, "OutputFormat"), "")) != FL_OK ||
	    (r = row3(rows, "Compressed:", compressed ? "Yes" : "No", "")) != FL_OK ||
	    (r = row3(rows, "Num Buckets:", buckets, "")) != FL_OK ||
	    (r = row3(rows, "Bucket Columns:", "[]", "")) != FL_OK ||
	    (r = row3(rows, "Sort Columns:", "[]", "")) != FL_OK)
		return r;
	if (json_object_size(sparams) > 0 &&
	    ((r = row3(rows, "Storage Desc Params:", "", "")) != FL_OK ||
	     (r = param_rows(rows, sparams)) != FL_OK))
		return r;
	return FL_OK;
}

enum fl_result fl_ddl_describe_rows(const char *db, const json_t *table, bool formatted,
				    json_t *rows)
{
	const json_t *keys = json_object_get(table, "PartitionKeys");
	const json_t *cols = json_object_get(json_object_get(table, "StorageDescriptor"),
					     "Columns");
	enum fl_result r;
	if (formatted && ((r = row3(rows, "# col_name", "data_type", "comment")) != FL_OK ||
			  (r = row3(rows, "", "", "")) != FL_OK))
		return r;
	/* Hive lists the partition keys among the columns, then again in
	 * their own block. */
	if ((r = column_rows(rows, cols)) != FL_OK || (r = column_rows(rows, keys)) != FL_OK)
		return r;
	if (json_array_size(keys) > 0 &&
	    ((r = row3(rows, "", "", "")) != FL_OK ||
	     (r = row3(rows, "# Partition Information", "", "")) != FL_OK ||
	     (r = row3(rows, "# col_name", "data_type", "comment")) != FL_OK ||
	     (r = row3(rows, "", "", "")) != FL_OK || (r = column_rows(rows, keys)) != FL_OK))
		return r;
	return formatted ? formatted_rows(db, table, rows) : FL_OK;
}

/* ---- partition names --------------------------------------------------------------- */

static bool path_escaped(unsigned char c)
{
	return c < 0x20 || c == 0x7f || strchr("\"#%'*/:=?\\{[]^", c) != NULL;
}

static enum fl_result add_escaped(struct fl_buf *b, const char *s)
{
	enum fl_result r = FL_OK;
	for (; r == FL_OK && *s; s++)
		r = path_escaped((unsigned char)*s) ? fl_buf_printf(b, "%%%02X", (unsigned char)*s)
			: fl_buf_addc(b, *s);
	return r;
}

enum fl_result fl_ddl_partition_name(const char *const *keys, size_t n,
				     const char *const *vals, struct fl_buf *b)
{
	enum fl_result r = FL_OK;
	fl_buf_reset(b);
	for (size_t i = 0; r == FL_OK && i < n; i++) {
		if (i)
			r = fl_buf_addc(b, '/');
		if (r == FL_OK)
			r = add_escaped(b, keys[i]);
		if (r == FL_OK)
			r = fl_buf_addc(b, '=');
		if (r == FL_OK)
			r = add_escaped(b, vals[i] ? vals[i] : "");
	}
	return r;
}

bool fl_ddl_path_value(const char *s, size_t n, char out[256])
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			ch = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (ch == '\0' || o >= 255)
			return false;
		out[o++] = ch;
	}
	out[o] = '\0';
	return o > 0 && fl_ddl_utf8_valid(out, o, NULL);
}

/* ---- SHOW patterns ------------------------------------------------------------------ */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* p[0, pn) against all of s: '*' any run, '.' any one character. */
static bool glob(const char *p, size_t pn, const char *s)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, star_s = 0, sn = strlen(s);
	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			star_s = si;
		} else if (pi < pn && (p[pi] == '.' || lower(p[pi]) == lower(s[si]))) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

bool fl_ddl_pattern_match(const char *pattern, const char *name)
{
	if (!pattern)
		return true;
	for (const char *alt = pattern;;) {
		const char *bar = strchr(alt, '|');
		size_t n = bar ? (size_t)(bar - alt) : strlen(alt);
		if (glob(alt, n, name))
			return true;
		if (!bar)
			return false;
		alt = bar + 1;
	}
}
