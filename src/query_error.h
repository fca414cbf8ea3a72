/*
 * query_error.h - how a query run ends, and Athena's error texts for its
 * failures (private to query.c).
 */
#ifndef FL_QUERY_ERROR_H
#define FL_QUERY_ERROR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "result.h"

/* Why a running statement was cancelled (the slot's cancel_why). */
enum { FL_QUERY_CANCEL_NONE, FL_QUERY_CANCEL_USER, FL_QUERY_CANCEL_STOP };

/* How a run ended. */
enum fl_query_end {
	FL_QUERY_SUCCEEDED, FL_QUERY_FAILED, FL_QUERY_CANCELLED, FL_QUERY_REQUEUE
};
struct fl_query_outcome {
	enum fl_query_end end;
	char reason[FL_ERROR_MAX + 64];
	int category, type;               /* AthenaError; category 0: none */
	bool retryable;
	int64_t planning_ms, engine_ms, service_ms;
	uint64_t scanned, input_rows, output_rows, output_bytes;
	json_t *columns;
};

/* Ends o FAILED with AthenaError {category, type, retryable} and the
 * StateChangeReason fmt. */
void fl_query_fail(struct fl_query_outcome *o, int category, int type, bool retryable,
		   const char *fmt, ...) FL_PRINTF(5, 6);

/* A failure of firelake itself (category 1, type 100); retryable when
 * err is FL_UNAVAILABLE or FL_RETRY. */
void fl_query_system_error(struct fl_query_outcome *o, const struct fl_error *err);

/* A refusal of the rewriter (sqlrewrite.h), in Athena's words; query is
 * the user's text, where positions are found again. */
void fl_query_rewrite_failed(struct fl_query_outcome *o, const char *query,
			     const struct fl_error *err);

/* A failed statement by its SQLSTATE (NULL: XX000) and message;
 * cancel_why (FL_QUERY_CANCEL_*) tells a 57014 cancel apart: a user's
 * cancel, the engine stopping (the run goes back to the queue), or the
 * time limit. */
void fl_query_statement_failed(struct fl_query_outcome *o, const char *query,
			       const char *state, const char *msg, int cancel_why);

#endif
