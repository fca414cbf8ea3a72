/*
 * query_error.c - Athena's error texts for failed queries (see
 * query_error.h).
 *
 * DESIGN
 *
 * A failed run keeps Athena's shapes: StateChangeReason "<ERROR_NAME>:
 * line L:C: ..." and AthenaError {ErrorCategory 1 system | 2 user,
 * ErrorType (1006 query syntax or semantics, 1001 data, 1 exhausted
 * resources, 206 timeout, 100 internal), Retryable}.  Two sources feed
 * it: the rewriter's refusals (its fl_error codes and texts) and
 * PostgreSQL's errors, mapped by SQLSTATE class.  Positions that
 * PostgreSQL reports are in the rewritten text, so a name's position is
 * found again in the user's text (its first whole-word occurrence).
 * Nothing here talks to PostgreSQL; the query engine (query.c) hands in
 * what it got.
 */
#include "query_error.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void fl_query_fail(struct fl_query_outcome *o, int category, int type, bool retryable,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof o->reason, fmt, ap);
	va_end(ap);
	o->end = FL_QUERY_FAILED;
	o->category = category;
	o->type = type;
	o->retryable = retryable;
}

void fl_query_system_error(struct fl_query_outcome *o, const struct fl_error *err)
{
	fl_query_fail(o, 1, 100, err->code == FL_UNAVAILABLE || err->code == FL_RETRY, "%s",
		      err->msg);
}

/* "line L:C: " of the first whole-word, case-insensitive occurrence of
 * word in the user's text (quoted or not), or "" when it is not there. */
static void position_of(const char *text, const char *word, char *out, size_t n)
{
	size_t wl = strlen(word);
	unsigned line = 1, col = 1;
	out[0] = '\0';
	if (!wl)
		return;
	for (const char *p = text; *p; p++) {
		bool start = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
		if (start && strncasecmp(p, word, wl) == 0 &&
		    !(isalnum((unsigned char)p[wl]) || p[wl] == '_')) {
			if (p > text && (p[-1] == '"' || p[-1] == '`'))
				col--;
			snprintf(out, n, "line %u:%u: ", line, col);
			return;
		}
		if (*p == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80) {
			col++;
		}
	}
}

/* The text between the first two occurrences of quote in msg. */
static bool quoted_part(const char *msg, char quote, char *out, size_t n)
{
	const char *a = strchr(msg, quote), *b = a ? strchr(a + 1, quote) : NULL;
	if (!b || (size_t)(b - a - 1) >= n)
		return false;
	snprintf(out, n, "%.*s", (int)(b - a - 1), a + 1);
	return true;
}

/* A refusal of the rewriter, in Athena's words. */
void fl_query_rewrite_failed(struct fl_query_outcome *o, const char *query,
			     const struct fl_error *err)
{
	char db[256], tbl[256], pos[64];
	const char *m = err->msg;
	unsigned line, col;
	int at = -1;
	if (err->code == FL_NOT_FOUND && sscanf(m, "Table %255[^.].%255s does not exist", db,
						tbl) == 2) {
		position_of(query, tbl, pos, sizeof pos);
		fl_query_fail(o, 2, 1006, false,
			      "TABLE_NOT_FOUND: %sTable 'awsdatacatalog.%s.%s' does not "
			      "exist", pos, db, tbl);
	} else if (err->code == FL_NOT_FOUND) {
		fl_query_fail(o, 2, 1006, false, "CATALOG_NOT_FOUND: %s", m);
	} else if (err->code == FL_INVALID && strstr(m, "cannot be resolved")) {
		fl_query_fail(o, 2, 1006, false, "COLUMN_NOT_FOUND: %s", m);
	} else if (err->code == FL_INVALID || err->code == FL_TOO_LARGE) {
		/* "<what> at line L, column C" -> "line L:C: <what>" */
		const char *tail = strstr(m, " at line ");
		if (tail && sscanf(tail, " at line %u, column %u%n", &line, &col, &at) == 2 &&
		    tail[at] == '\0')
			fl_query_fail(o, 2, 1006, false, "SYNTAX_ERROR: line %u:%u: %.*s", line,
				      col,
				      (int)(tail - m), m);
		else
			fl_query_fail(o, 2, 1006, false, "SYNTAX_ERROR: %s", m);
	} else {
		fl_query_system_error(o, err);
	}
}

/* A failed statement, by its SQLSTATE. */
void fl_query_statement_failed(struct fl_query_outcome *o, const char *query,
			       const char *state, const char *msg, int cancel_why)
{
	char name[256], pos[64], text[FL_ERROR_MAX];
	snprintf(text, sizeof text, "%s", msg ? msg : "unknown error");
	text[strcspn(text, "\n")] = '\0';
	if (!state)
		state = "XX000";
	if (strcmp(state, "57014") == 0) {
		if (cancel_why == FL_QUERY_CANCEL_STOP) {
			o->end = FL_QUERY_REQUEUE;
		} else if (cancel_why == FL_QUERY_CANCEL_USER) {
			o->end = FL_QUERY_CANCELLED;
			snprintf(o->reason, sizeof o->reason, "Query cancelled by user");
		} else {
			fl_query_fail(o, 1, 206, false, "Query timeout");
		}
	} else if (strcmp(state, "42703") == 0 &&
		   (quoted_part(text, '"', name, sizeof name) ||
		    sscanf(text, "column %255s does not exist", name) == 1)) {
		const char *dot = strrchr(name, '.');
		position_of(query, dot ? dot + 1 : name, pos, sizeof pos);
		fl_query_fail(o, 2, 1006, false,
			      "COLUMN_NOT_FOUND: %sColumn '%s' cannot be resolved", pos,
			      name);
	} else if (strcmp(state, "42883") == 0 && sscanf(text, "function %255[^(]", name) == 1) {
		const char *dot = strrchr(name, '.');
		position_of(query, dot ? dot + 1 : name, pos, sizeof pos);
		fl_query_fail(o, 2, 1006, false,
			      "FUNCTION_NOT_FOUND: %sFunction '%s' not registered", pos,
			      dot ? dot + 1 : name);
	} else if (strcmp(state, "42601") == 0) {
		fl_query_fail(o, 2, 1006, false, "SYNTAX_ERROR: %s", text);
	} else if (strcmp(state, "42P01") == 0) {
		fl_query_fail(o, 2, 1006, false, "TABLE_NOT_FOUND: %s", text);
	} else if (strcmp(state, "42804") == 0 || strcmp(state, "42846") == 0 ||
		   strcmp(state, "42725") == 0) {
		fl_query_fail(o, 2, 1006, false, "TYPE_MISMATCH: %s", text);
	} else if (strcmp(state, "42803") == 0) {
		fl_query_fail(o, 2, 1006, false, "EXPRESSION_NOT_AGGREGATE: %s", text);
	} else if (strcmp(state, "42501") == 0) {
		fl_query_fail(o, 2, 1006, false, "PERMISSION_DENIED: %s", text);
	} else if (strncmp(state, "42", 2) == 0 || strncmp(state, "0A", 2) == 0) {
		fl_query_fail(o, 2, 1006, false, "SYNTAX_ERROR: %s", text);
	} else if (strcmp(state, "22012") == 0) {
		fl_query_fail(o, 2, 1001, false, "DIVISION_BY_ZERO: Division by zero");
	} else if (strncmp(state, "22", 2) == 0) {
		fl_query_fail(o, 2, 1001, false, "%s: %s", strcmp(state, "22003") == 0 ?
			      "NUMERIC_VALUE_OUT_OF_RANGE" : "INVALID_FUNCTION_ARGUMENT", text);
	} else if (strncmp(state, "53", 2) == 0 || strncmp(state, "54", 2) == 0) {
		fl_query_fail(o, 2, 1, false, "Query exhausted resources at this scale factor: %s",
			      text);
	} else {
		fl_query_fail(o, 1, 100, strncmp(state, "08", 2) == 0 || strncmp(state, "40",
										 2) == 0 ||
			      strncmp(state, "57P", 3) == 0, "GENERIC_INTERNAL_ERROR: %s", text);
	}
}
