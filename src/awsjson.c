/*
 * awsjson.c - AWS JSON 1.1 request/answer helpers shared by the Glue,
 * Athena and Firehose handlers.
 *
 * DESIGN
 *
 * Every handler of glue.c, glue_partition.c, crawler.c, firehose.c and
 * the athena_*.c files does the same things around its statement: find
 * its operation's model and check the body against it (awsshape.h), read
 * string members, and dump one document into req->out.  They live here
 * once.  The dump flags stay the caller's: Glue's catalog keeps 16
 * significant digits so epoch seconds with microseconds survive, the
 * others write jansson's default.  Nothing here touches the database.
 */
#include "awsjson.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"

enum fl_result fl_awsjson_parse(const struct fl_req *req, const struct fl_awsshape_op *ops,
				size_t n, const char *op, json_t **in, struct fl_error *err)
{
	const struct fl_awsshape_op *shape = fl_awsshape_find(ops, n, op);
	if (!shape)
		return fl_error_set(err, FL_INTERNAL, "no model for operation %s", op);
	return fl_awsshape_parse(shape, req->body, req->body_len, in, err);
}

enum fl_result fl_awsjson_parse_glue(const struct fl_req *req, json_t **in, struct fl_error *err)
{
	return fl_awsjson_parse(req, fl_glue_ops, fl_glue_op_count, req->op, in, err);
}

enum fl_result fl_awsjson_parse_athena(const struct fl_req *req, const char *op, json_t **in,
				       struct fl_error *err)
{
	return fl_awsjson_parse(req, fl_athena_ops, fl_athena_op_count, op, in, err);
}

enum fl_result fl_awsjson_reply(struct fl_req *req, size_t flags, json_t *out,
				struct fl_error *err)
{
	char *text = out ? json_dumps(out, flags) : NULL;
	json_decref(out);
	if (!text)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	enum fl_result r = fl_buf_adds(&req->out, text);
	free(text);
	return r == FL_OK ? FL_OK : fl_error_set(err, r, "response too large");
}

const char *fl_awsjson_member(const json_t *in, const char *name)
{
	return json_string_value(json_object_get(in, name));
}

enum fl_result fl_awsjson_not_null(const char *path, struct fl_error *err)
{
	return fl_error_set(err, FL_VALIDATION,
			    "1 validation error detected: Value null at '%s' failed to satisfy "
			    "constraint: Member must not be null", path);
}

enum fl_result fl_awsjson_glue_name(const json_t *obj, const char *member, const char *path,
				    const char *what, char out[256], struct fl_error *err)
{
	const json_t *v = json_object_get(obj, member);
	if (!v)
		return fl_awsjson_not_null(path, err);
	if (!json_is_string(v))
		return fl_error_set(err, FL_MALFORMED, "%s must be a string", member);
	return fl_catalog_name(json_string_value(v), what, out, err);
}

enum fl_result fl_awsjson_no_nul(const json_t *v, struct fl_error *err)
{
	const char *key;
	const json_t *x;
	size_t i, key_len;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (strlen(json_string_value(v)) != json_string_length(v))
			return fl_error_set(err, FL_INVALID, "strings must not contain NUL characters");
		return FL_OK;
	case JSON_OBJECT:
		json_object_keylen_foreach((json_t *)v, key, key_len, x) {
			if (strlen(key) != key_len)
				return fl_error_set(err, FL_INVALID,
						    "keys must not contain NUL characters");
			enum fl_result r = fl_awsjson_no_nul(x, err);
			if (r != FL_OK)
				return r;
		}
		return FL_OK;
	case JSON_ARRAY:
		json_array_foreach(v, i, x) {
			enum fl_result r = fl_awsjson_no_nul(x, err);
			if (r != FL_OK)
				return r;
		}
		return FL_OK;
	default:
		return FL_OK;
	}
}
