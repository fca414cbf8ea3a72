/*
 * fuzz_glue_expr.c - Glue's GetPartitions Expression compiled to SQL, and
 * GetTables' Expression turned into a regular expression.
 *
 * Design.  The first line lists the table's partition keys,
 * "name:type,name:type" (empty: a fixed set of one key per type family);
 * the rest is the expression.  The expression goes to
 * fl_glue_expr_compile over those keys and, as GetTables takes any text,
 * to fl_glue_table_pattern too.
 *
 * Checked beside the sanitizers:
 *  - compile answers FL_OK or FL_INVALID with a message, UTF-8 when the
 *    expression and the keys are (it travels in the JSON answer; keys
 *    come from the catalog, where they are UTF-8);
 *  - on success the SQL is plain ASCII with balanced quotes and
 *    parentheses, every parameter it names ($N) is one of the literals it
 *    handed back, and no more than FL_GLUE_EXPR_MAX_PARAMS of them: no
 *    client text reaches the SQL except through parameters;
 *  - a table pattern is anchored with '^' and compiles with
 *    regcomp(REG_EXTENDED), the check its contract names.
 */
#include <regex.h>

#include "buf.h"
#include "fuzz.h"
#include "glue_expr.h"

#define MAX_KEYS 16
#define FIRST_PARAM 3

static const struct fl_glue_key default_keys[] = {
	{ "dt", "string" }, { "year", "int" }, { "price", "decimal(10,2)" },
	{ "day", "date" }, { "ts", "timestamp" }, { "region", "varchar(16)" },
	{ "event type", "string" }, { "flag", "boolean" }, { "n", "bigint" },
	{ "x", "double" }, { "f", "float" }, { "s", "smallint" },
};

/* Cuts "name:type,..." (in place) into keys; returns the count. */
static size_t parse_keys(char *s, struct fl_glue_key *keys)
{
	size_t n = 0;
	char *save = NULL;

	for (char *k = strtok_r(s, ",", &save); k && n < MAX_KEYS; k = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(k, ':');
		if (!colon)
			continue;
		*colon = '\0';
		keys[n].name = k;
		keys[n].type = colon + 1;
		n++;
	}
	return n;
}

static void check_sql(const struct fl_glue_expr *e)
{
	const char *s = e->sql.data;
	int depth = 0;
	bool quoted = false;

	FUZZ_CHECK(e->nparams >= 0 && e->nparams <= FL_GLUE_EXPR_MAX_PARAMS);
	FUZZ_CHECK(s != NULL && strlen(s) == e->sql.len);
	for (int i = 0; i < e->nparams; i++)
		FUZZ_CHECK(e->params[i] != NULL);
	for (size_t i = 0; i < e->sql.len; i++) {
		unsigned char c = (unsigned char)s[i];
		FUZZ_CHECK(c >= 0x20 && c < 0x7F);
		if (c == '\'') {
			quoted = !quoted;
			continue;
		}
		if (quoted)
			continue;
		if (c == '(')
			depth++;
		if (c == ')')
			FUZZ_CHECK(--depth >= 0);
		if (c == '$' && i + 1 < e->sql.len && s[i + 1] >= '0' && s[i + 1] <= '9') {
			long v = strtol(s + i + 1, NULL, 10);
			if (v < FIRST_PARAM || v >= FIRST_PARAM + e->nparams) {
				fprintf(stderr, "SQL names $%ld, params %d..%d: %s\n", v, FIRST_PARAM,
					FIRST_PARAM + e->nparams - 1, s);
				FUZZ_CHECK(!"a parameter out of range");
			}
		}
	}
	FUZZ_CHECK(!quoted && depth == 0);
}

static void run_pattern(const char *expr)
{
	struct fl_buf out;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r;
	regex_t re;

	fl_buf_init(&out, 1 << 16);
	r = fl_glue_table_pattern(expr, &out, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_INVALID || r == FL_TOO_LARGE);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK_MESSAGE_UTF8(expr, strlen(expr), err.msg);
	} else {
		FUZZ_CHECK(out.len > 0 && out.data[0] == '^');
		FUZZ_CHECK(regcomp(&re, out.data, REG_EXTENDED | REG_NOSUB) == 0);
		regfree(&re);
	}
	fl_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *line;
	size_t n, nkeys;
	struct fl_glue_key keys[MAX_KEYS];
	const struct fl_glue_key *k = default_keys;
	char *spec = NULL, *expr = NULL;
	struct fl_glue_expr e;
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r;

	fuzz_line(&data, &size, &line, &n);
	spec = fuzz_strndup(line, n);
	expr = fuzz_strndup(data, size);
	if (!spec || !expr)
		goto done;
	nkeys = parse_keys(spec, keys);
	if (nkeys > 0)
		k = keys;
	else
		nkeys = sizeof default_keys / sizeof default_keys[0];

	r = fl_glue_expr_compile(expr, k, nkeys, "p.vals", FIRST_PARAM, &e, &err);
	FUZZ_CHECK(r == FL_OK || r == FL_INVALID || r == FL_TOO_LARGE || r == FL_INTERNAL);
	if (r != FL_OK) {
		FUZZ_CHECK_ERROR(r, err);
		/* Messages quote key names and types too; the catalog's are UTF-8. */
		if (fuzz_utf8_ok((const char *)line, n))
			FUZZ_CHECK_MESSAGE_UTF8(expr, strlen(expr), err.msg);
	} else {
		check_sql(&e);
	}
	fl_glue_expr_free(&e);

	if (size <= 4096)  /* the pattern's own limit is 2048 */
		run_pattern(expr);
done:
	free(spec);
	free(expr);
	return 0;
}
