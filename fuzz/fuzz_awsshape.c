/*
 * fuzz_awsshape.c - Glue and Athena request bodies against botocore's
 * shapes (fl_awsshape_parse, the start of every Glue and Athena handler).
 *
 * Design.  The first line names the operation, "glue:GetPartitions" or
 * "athena:StartQueryExecution"; the rest is the request body.  A name the
 * tables do not hold picks an operation by a hash of the line, so a
 * mutated name still lands on some shape and every generated shape is in
 * reach.  The body is handed over in a buffer of exactly its size.
 *
 * Checked beside the sanitizers:
 *  - the answer is FL_OK (with a JSON object), FL_MALFORMED or
 *    FL_VALIDATION, and a failure has a message;
 *  - a validation message is valid UTF-8 (it quotes the client's values,
 *    cut to a length, and travels in a JSON answer) and starts as AWS's
 *    does: "N validation error(s) detected: ";
 *  - checking the parsed request again (fl_awsshape_check) gives the same
 *    answer and the same message.
 */
#include <jansson.h>

#include "awsshape.h"
#include "fuzz.h"

static const struct fl_awsshape_op *pick(const uint8_t *line, size_t n)
{
	const struct fl_awsshape_op *ops = fl_glue_ops;
	size_t count = fl_glue_op_count;
	uint32_t h = 2166136261u;
	char name[128];

	if (n > 5 && !memcmp(line, "glue:", 5)) {
		line += 5, n -= 5;
	} else if (n > 7 && !memcmp(line, "athena:", 7)) {
		line += 7, n -= 7;
		ops = fl_athena_ops;
		count = fl_athena_op_count;
	}
	if (n < sizeof name && !memchr(line, '\0', n)) {
		const struct fl_awsshape_op *op;
		memcpy(name, line, n);
		name[n] = '\0';
		op = fl_awsshape_find(ops, count, name);
		if (op)
			return op;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ line[i]) * 16777619u;
	h %= (uint32_t)(fl_glue_op_count + fl_athena_op_count);
	return h < fl_glue_op_count ? &fl_glue_ops[h] : &fl_athena_ops[h - fl_glue_op_count];
}

static void check_message(const struct fl_error *err)
{
	size_t n = strlen(err->msg);

	if (!fuzz_utf8_ok(err->msg, n)) {
		fprintf(stderr, "message not UTF-8: %s\n", err->msg);
		FUZZ_CHECK(!"message not UTF-8");
	}
	if (err->code == FL_VALIDATION) {
		const char *p = err->msg;
		while (*p >= '0' && *p <= '9')
			p++;
		FUZZ_CHECK(p > err->msg);
		FUZZ_CHECK(!strncmp(p, " validation error detected: ", 28) ||
			   !strncmp(p, " validation errors detected: ", 29));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *line;
	size_t n;
	const struct fl_awsshape_op *op;
	struct fl_error err = { FL_OK, "", "" };
	json_t *out = NULL, *again = NULL;
	enum fl_result r;
	char *body;

	fuzz_line(&data, &size, &line, &n);
	op = pick(line, n);
	body = malloc(size ? size : 1);
	if (!body)
		return 0;
	if (size)
		memcpy(body, data, size);

	r = fl_awsshape_parse(op, body, size, &out, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_MALFORMED || r == FL_VALIDATION || r == FL_INTERNAL);
	if (r == FL_OK) {
		FUZZ_CHECK(json_is_object(out));
		FUZZ_CHECK(fl_awsshape_check(op, out, &err) == FL_OK);
		goto done;
	}
	FUZZ_CHECK(out == NULL);
	FUZZ_CHECK_ERROR(r, err);
	err.code = r;
	check_message(&err);

	/* The same request checked again, as a DOM: the same verdict. */
	again = size ? json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (again) {
		struct fl_error err2 = { FL_OK, "", "" };
		enum fl_result r2 = fl_awsshape_check(op, again, &err2);
		FUZZ_CHECK(r2 == r);
		FUZZ_CHECK(!strcmp(err.msg, err2.msg));
	}
done:
	json_decref(out);
	json_decref(again);
	free(body);
	return 0;
}
