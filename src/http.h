/*
 * http.h - the HTTP front: routing of AWS JSON requests and plain routes.
 *
 * POST / with X-Amz-Target "<Service>.<Op>" goes to the handler that the
 * service's lookup function returns; GET /health and GET /metrics sit
 * beside it.  Handlers fill req->out and return FL_OK, or return an error
 * that the router (and only the router) turns into the AWS error shape.
 * Every answer carries x-amzn-RequestId.
 */
#ifndef FL_HTTP_H
#define FL_HTTP_H

#include "awserr.h"
#include "buf.h"
#include "result.h"

struct fl_server;

/* Largest request body accepted (PutRecordBatch: 4 MiB of data, base64). */
#define FL_HTTP_MAX_BODY (6u << 20)
#define FL_HTTP_MAX_RESPONSE (64u << 20)

struct fl_req {
	struct fl_server *srv;
	enum fl_service svc;
	const char *op;            /* "PutRecordBatch" */
	const char *body;          /* NUL-terminated; borrowed for the call */
	size_t body_len;
	char request_id[37];
	struct fl_buf out;         /* the JSON answer (FL_HTTP_MAX_RESPONSE) */
};

typedef enum fl_result (*fl_handler_fn)(struct fl_req *req, struct fl_error *err);

struct fl_http;

/* Starts listening on host:port with threads worker threads.  Caller owns *out. */
enum fl_result fl_http_start(struct fl_server *srv, const char *host, int port,
			     int threads, struct fl_http **out,
			     struct fl_error *err) FL_MUST_USE;
/* Stops accepting, waits for requests in flight, frees. */
void fl_http_stop(struct fl_http *h);

/* Service lookups: the handler of an operation, or NULL. */
fl_handler_fn fl_firehose_handler(const char *op);
fl_handler_fn fl_glue_handler(const char *op);     /* glue.c */
fl_handler_fn fl_athena_handler(const char *op);   /* athena.c */

#endif
