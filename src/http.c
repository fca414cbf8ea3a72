/*
 * http.c - libmicrohttpd front end.
 *
 * DESIGN
 * libmicrohttpd runs a pool of epoll threads (--http-threads).  A request
 * body is gathered into a bounded buffer hanging off the connection; when
 * it is complete the handler runs on the same thread.  Ingest handlers
 * block on the WAL's group commit: with N threads, up to N requests share
 * one fdatasync, which is where the throughput comes from.
 *
 * Everything a request allocates hangs off struct conn and dies with it in
 * request_done, whatever path the request took.
 */
#include "http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

struct fl_http {
	struct MHD_Daemon *daemon;
	struct fl_server *srv;
};

struct conn {
	struct fl_buf body;
	bool too_large;
	uint64_t start_us;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Request ids: UUID v4 from a per-thread xorshift seeded by getrandom. */
static void request_id(char out[37])
{
	static _Thread_local uint64_t s[2];
	if (!s[0] && !s[1]) {
		if (getrandom(s, sizeof s, 0) != (ssize_t)sizeof s || (!s[0] && !s[1])) {
			s[0] = now_us() | 1;
			s[1] = (uint64_t)(uintptr_t)&s;
		}
	}
	uint8_t b[16];
	for (int i = 0; i < 2; i++) {
		uint64_t x = s[0], y = s[1];
		s[0] = y;
		x ^= x << 23;
		s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
		uint64_t v = s[1] + y;
		memcpy(b + 8 * i, &v, 8);
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	static const char hex[] = "0123456789abcdef";
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* Queues an answer; steals body->data. */
static enum MHD_Result answer(struct MHD_Connection *c, int status, struct fl_buf *body,
			      const char *content_type, const char *rid,
			      const char *error_type)
{
	size_t len;
	char *data = fl_buf_steal(body, &len);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", content_type);
	if (rid)
		MHD_add_response_header(resp, "x-amzn-RequestId", rid);
	if (error_type)
		MHD_add_response_header(resp, "x-amzn-ErrorType", error_type);
	enum MHD_Result r = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result answer_error(struct fl_server *srv, struct MHD_Connection *c,
				    enum fl_service svc, const struct fl_error *err,
				    const char *rid)
{
	struct fl_buf out;
	const char *type;
	fl_buf_init(&out, 64 * 1024);
	int status = fl_awserr_body(svc, err, &out, &type);
	atomic_fetch_add(&srv->metrics.requests_rejected, 1);
	if (status >= 500)
		fl_warn("request %s: %s: %s", rid, type, err->msg);
	return answer(c, status, &out, "application/x-amz-json-1.1", rid, type);
}

/* Splits "Firehose_20150804.PutRecord" into service and handler. */
static fl_handler_fn route(const char *target, enum fl_service *svc, const char **op)
{
	static const struct {
		const char *prefix;
		enum fl_service svc;
		fl_handler_fn (*lookup)(const char *op);
	} services[] = {
		{ "Firehose_20150804.", FL_SVC_FIREHOSE, fl_firehose_handler },
		{ "AWSGlue.", FL_SVC_GLUE, fl_glue_handler },
		{ "AmazonAthena.", FL_SVC_ATHENA, fl_athena_handler },
	};
	*svc = FL_SVC_NONE;
	*op = "";
	if (!target)
		return NULL;
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
		size_t n = strlen(services[i].prefix);
		if (strncmp(target, services[i].prefix, n) == 0) {
			*svc = services[i].svc;
			*op = target + n;
			return services[i].lookup(*op);
		}
	}
	return NULL;
}

static enum MHD_Result serve_aws(struct fl_server *srv, struct MHD_Connection *c,
				 struct conn *cn)
{
	struct fl_req req = { .srv = srv };
	struct fl_error err = { 0 };
	enum MHD_Result ret;
	request_id(req.request_id);
	fl_buf_init(&req.out, FL_HTTP_MAX_RESPONSE);

	const char *target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
	fl_handler_fn fn = route(target, &req.svc, &req.op);
	if (!fn) {
		fl_error_set(&err, FL_UNKNOWN_OP, target ? "Unknown operation %s" : "Missing X-Amz-Target header",
			     target ? target : "");
		ret = answer_error(srv, c, req.svc, &err, req.request_id);
		goto out;
	}
	if (cn->too_large) {
		fl_error_set(&err, FL_TOO_LARGE, "Request body exceeds the maximum of %u bytes",
			     FL_HTTP_MAX_BODY);
		ret = answer_error(srv, c, req.svc, &err, req.request_id);
		goto out;
	}
	if (fl_buf_reserve(&cn->body, 0) != FL_OK) { /* makes data non-NULL and terminated */
		fl_error_set(&err, FL_INTERNAL, "Out of memory");
		ret = answer_error(srv, c, req.svc, &err, req.request_id);
		goto out;
	}
	cn->body.data[cn->body.len] = '\0';
	req.body = cn->body.data;
	req.body_len = cn->body.len;
	enum fl_result r = fn(&req, &err);
	if (r != FL_OK) {
		if (err.code != r || !err.msg[0])
			fl_error_set(&err, r, "%s", err.msg[0] ? err.msg : fl_result_name(r));
		ret = answer_error(srv, c, req.svc, &err, req.request_id);
		goto out;
	}
	ret = answer(c, 200, &req.out, "application/x-amz-json-1.1", req.request_id, NULL);
out:
	fl_buf_free(&req.out);
	return ret;
}

static enum MHD_Result serve_health(struct fl_server *srv, struct MHD_Connection *c)
{
	struct fl_buf out;
	fl_buf_init(&out, 4096);
	bool pg = fl_db_ping(srv->db);
	bool storage = atomic_load(&srv->storage_ok);
	uint64_t pending = atomic_load(&srv->budget.pending_bytes);
	bool wal_ok = srv->budget.max_bytes == 0 || pending < srv->budget.max_bytes;
	int status = wal_ok ? 200 : 503;
	if (fl_buf_printf(&out,
			  "{\"status\":\"%s\",\"postgres\":\"%s\",\"storage\":\"%s\","
			  "\"wal\":{\"state\":\"%s\",\"pending_bytes\":%llu,\"budget_bytes\":%llu}}\n",
			  wal_ok ? (pg && storage ? "ok" : "degraded") : "full",
			  pg ? "ok" : "unavailable", storage ? "ok" : "failing",
			  wal_ok ? "ok" : "full", (unsigned long long)pending,
			  (unsigned long long)srv->budget.max_bytes) != FL_OK)
		status = 500;
	return answer(c, status, &out, "application/json", NULL, NULL);
}

static enum MHD_Result serve_metrics(struct fl_server *srv, struct MHD_Connection *c)
{
	struct fl_buf out;
	fl_buf_init(&out, 16u << 20);
	int status = 200;
	if (fl_metrics_render(&srv->metrics, atomic_load(&srv->budget.pending_bytes),
			      srv->budget.max_bytes, srv->now_ms(), &out) != FL_OK) {
		fl_buf_reset(&out);
		status = 500;
	}
	return answer(c, status, &out, "text/plain; version=0.0.4", NULL, NULL);
}

static enum MHD_Result serve_plain(struct MHD_Connection *c, int status, const char *text)
{
	struct fl_buf out;
	fl_buf_init(&out, 4096);
	if (fl_buf_adds(&out, text) != FL_OK)
		fl_buf_reset(&out);
	return answer(c, status, &out, "text/plain", NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **con_cls)
{
	struct fl_http *h = cls;
	struct conn *cn = *con_cls;
	if (!cn) {
		cn = calloc(1, sizeof *cn);
		if (!cn)
			return MHD_NO;
		fl_buf_init(&cn->body, FL_HTTP_MAX_BODY);
		cn->start_us = now_us();
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_len) {
		if (!cn->too_large && fl_buf_add(&cn->body, upload, *upload_len) != FL_OK) {
			cn->too_large = true;
			fl_buf_free(&cn->body);
		}
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0 && strcmp(url, "/") == 0)
		return serve_aws(h->srv, c, cn);
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		if (strcmp(url, "/health") == 0)
			return serve_health(h->srv, c);
		if (strcmp(url, "/metrics") == 0)
			return serve_metrics(h->srv, c);
		return serve_plain(c, 404, "not found\n");
	}
	return serve_plain(c, 405, "method not allowed\n");
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct fl_http *h = cls;
	struct conn *cn = *con_cls;
	if (!cn)
		return;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		fl_metrics_observe_latency(&h->srv->metrics, now_us() - cn->start_us);
	fl_buf_free(&cn->body);
	free(cn);
	*con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	fl_warn("http: %s", line);
}

enum fl_result fl_http_start(struct fl_server *srv, const char *host, int port,
			     int threads, struct fl_http **out, struct fl_error *err)
{
	struct fl_http *h = calloc(1, sizeof *h);
	if (!h)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	h->srv = srv;

	struct sockaddr_storage ss = { 0 };
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	char portstr[16];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	snprintf(portstr, sizeof portstr, "%d", port);
	int gai = getaddrinfo(host, portstr, &hints, &ai);
	if (gai != 0 || !ai || ai->ai_addrlen > sizeof ss) {
		if (ai)
			freeaddrinfo(ai);
		free(h);
		return fl_error_set(err, FL_INVALID, "cannot resolve listen address %s: %s", host,
				    gai ? gai_strerror(gai) : "no address");
	}
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	freeaddrinfo(ai);
	h->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, h,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				     MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
				     MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
				     MHD_OPTION_END);
	if (!h->daemon) {
		free(h);
		return fl_error_set(err, FL_IO, "cannot listen on %s:%d", host, port);
	}
	*out = h;
	return FL_OK;
}

void fl_http_stop(struct fl_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
