/*
 * awserr.c - results to AWS error shapes.
 *
 * Each service names its errors differently (Firehose InvalidArgument-
 * Exception, Glue InvalidInputException, Athena InvalidRequestException);
 * the table below is the whole mapping.  Firehose's error member is
 * "message", Glue's and Athena's "Message" (as their models say).
 * Athena's InvalidRequestException also carries "AthenaErrorCode", as its
 * model has it: INVALID_INPUT for a request that is wrong in itself.
 */
#include "awserr.h"

#include <stdbool.h>
#include <string.h>

struct row {
	enum fl_result r;
	struct fl_awserr svc[3];  /* firehose, glue, athena */
};

static const struct row table[] = {
	{ FL_VALIDATION, { { "ValidationException", 400 },
			   { "InvalidInputException", 400 },
			   { "InvalidRequestException", 400 } } },
	{ FL_MALFORMED, { { "SerializationException", 400 },
			  { "SerializationException", 400 },
			  { "SerializationException", 400 } } },
	{ FL_INVALID, { { "InvalidArgumentException", 400 },
			{ "InvalidInputException", 400 },
			{ "InvalidRequestException", 400 } } },
	{ FL_TOO_LARGE, { { "InvalidArgumentException", 400 },
			  { "InvalidInputException", 400 },
			  { "InvalidRequestException", 400 } } },
	{ FL_NOT_FOUND, { { "ResourceNotFoundException", 400 },
			  { "EntityNotFoundException", 400 },
			  { "ResourceNotFoundException", 400 } } },
	{ FL_EXISTS, { { "ResourceInUseException", 400 },
		       { "AlreadyExistsException", 400 },
		       { "InvalidRequestException", 400 } } },
	{ FL_IN_USE, { { "ResourceInUseException", 400 },
		       { "ConcurrentModificationException", 400 },
		       { "InvalidRequestException", 400 } } },
	{ FL_LIMIT, { { "LimitExceededException", 400 },
		      { "ResourceNumberLimitExceededException", 400 },
		      { "TooManyRequestsException", 400 } } },
	{ FL_CONFLICT, { { "ConcurrentModificationException", 400 },
			 { "ConcurrentModificationException", 400 },
			 { "InvalidRequestException", 400 } } },
	{ FL_UNAVAILABLE, { { "ServiceUnavailableException", 503 },
			    { "InternalServiceException", 503 },
			    { "InternalServerException", 503 } } },
	{ FL_DENIED, { { "UnrecognizedClientException", 400 },
		       { "UnrecognizedClientException", 400 },
		       { "UnrecognizedClientException", 400 } } },
	{ FL_FORBIDDEN, { { "MissingAuthenticationTokenException", 403 },
			  { "MissingAuthenticationTokenException", 403 },
			  { "MissingAuthenticationTokenException", 403 } } },
	{ FL_UNKNOWN_OP, { { "UnknownOperationException", 400 },
			   { "UnknownOperationException", 400 },
			   { "UnknownOperationException", 400 } } },
};

static const struct fl_awserr internal[3] = {
	{ "InternalFailure", 500 },
	{ "InternalServiceException", 500 },
	{ "InternalServerException", 500 },
};

struct fl_awserr fl_awserr_map(enum fl_service svc, enum fl_result r)
{
	int i = svc == FL_SVC_NONE ? 0 : (int)svc;
	for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
		if (table[k].r == r)
			return table[k].svc[i];
	return internal[i];
}

int fl_awserr_body(enum fl_service svc, const struct fl_error *err,
		   struct fl_buf *out, const char **type)
{
	struct fl_awserr e = fl_awserr_map(svc, err->code);
	const char *member = svc == FL_SVC_FIREHOSE || svc == FL_SVC_NONE
		? "message" : "Message";
	if (err->type[0])
		e.type = err->type;
	fl_buf_reset(out);
	bool athena_code = svc == FL_SVC_ATHENA && strcmp(e.type, "InvalidRequestException") == 0;
	if (fl_buf_printf(out, "{\"__type\":\"%s\",\"%s\":", e.type, member) != FL_OK ||
	    fl_buf_add_json_str(out, err->msg, strlen(err->msg)) != FL_OK ||
	    (athena_code && fl_buf_adds(out, ",\"AthenaErrorCode\":\"INVALID_INPUT\"") != FL_OK) ||
	    fl_buf_addc(out, '}') != FL_OK) {
		/* Only an out-of-memory gets here: answer without a body. */
		fl_buf_reset(out);
	}
	if (type)
		*type = e.type;
	return e.status;
}

const char *fl_awserr_record_code(enum fl_result r)
{
	return r == FL_UNAVAILABLE ? "ServiceUnavailableException" : "InternalFailure";
}
