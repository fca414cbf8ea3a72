/*
 * http.c - libmicrohttpd front end.
 *
 * DESIGN
 * libmicrohttpd runs a pool of poll() threads (--http-threads).  A request
 * body is gathered into a bounded buffer hanging off the connection; when
 * it is complete the handler runs on the same thread.  Ingest handlers
 * block on the WAL's group commit: with N threads, up to N requests share
 * one fdatasync, which is where the throughput comes from.
 *
 * Everything a request allocates hangs off struct conn and dies with it in
 * on_done, whatever path the request took.  struct conn is born in
 * on_uri, libmicrohttpd's URI log callback: it is the one place that sees
 * the request line as sent (the access handler gets the path decoded and
 * no query), and SigV4 signs the raw path and query.
 *
 * Authentication (auth.c) runs when the body is complete, because the
 * signature covers the body's hash, and before anything is dispatched:
 * for POST / (the service named by X-Amz-Target's prefix) and, with
 * --metrics-auth, for GET /metrics (any of the services).  A request that
 * fails it changes nothing.  /health stays open: probes carry no keys.
 *
 * Storage never blocks these threads: an operation that reads the lake
 * (GetQueryResults reads the result object) is offloaded.  Its connection
 * is suspended (MHD_suspend_connection), the call goes to a small pool of
 * storage threads, and when it is done the connection is resumed; its
 * access handler runs again and queues the answer the pool left in
 * struct conn.  While stopping, calls run inline (the pool is gone).
 *
 * HTTPS is libmicrohttpd's own TLS (GnuTLS): --tls-cert and --tls-key are
 * read once at start, checked with libcrypto so that a wrong file is a
 * clear message rather than a handshake failure, and handed over in
 * memory; the key's copy is wiped when the daemon stops.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "storage.h"
#include "server.h"

/* A PEM file larger than this is not a certificate or a key. */
#define MAX_PEM_BYTES (1u << 20)
#define STORAGE_THREADS 2

/* A call handed to the storage threads, and its outcome. */
struct offload {
	struct MHD_Connection *c;
	fl_handler_fn fn;
	struct fl_req req;
	struct fl_error err;
	enum fl_result result;
	bool done;               /* h->lock: result, err and req.out are final */
	struct offload *next;    /* h->lock: the queue */
};

struct fl_http {
	struct MHD_Daemon *daemon;
	struct fl_server *srv;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct offload *head, *tail;   /* lock: calls waiting for a storage thread */
	bool stopping;                 /* lock: no more offloading */
	pthread_t storage_threads[STORAGE_THREADS];
	int n_storage_threads;
	struct fl_auth *auth;  /* immutable keys, atomic counters */
	char *tls_cert;        /* PEM, read at start; NULL: plain HTTP */
	char *tls_key;         /* PEM; wiped before it is freed */
	size_t tls_key_len;
};

struct conn {
	struct fl_buf body;
	bool too_large;
	bool started;        /* the access handler has seen the headers */
	uint64_t start_us;
	char *path;          /* the request's path as sent (owned) */
	const char *query;   /* its query, without '?', inside path's block; NULL: none */
	struct offload *job; /* an offloaded call (owned); NULL: none */
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
	/* A 5xx is logged, but at most once a second: under backpressure
	 * every request is one (the counter above has them all). */
	static _Atomic int64_t last_ms;
	int64_t now = srv->now_ms(), last = atomic_load(&last_ms);
	if (status >= 500 && now - last >= 1000 &&
	    atomic_compare_exchange_strong(&last_ms, &last, now))
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

/* The request's headers for auth.c, gathered by MHD_get_connection_values;
 * the strings are libmicrohttpd's, valid for the request. */
struct headers {
	struct fl_sigv4_header *v;
	size_t n, cap;
};

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct headers *hs = cls;
	(void)kind;
	if (hs->n < hs->cap) {
		hs->v[hs->n].name = key;
		hs->v[hs->n].value = value ? value : "";
		hs->n++;
	}
	return MHD_YES;
}

static const char *service_name(enum fl_service svc)
{
	switch (svc) {
	case FL_SVC_FIREHOSE: return "firehose";
	case FL_SVC_GLUE: return "glue";
	case FL_SVC_ATHENA: return "athena";
	case FL_SVC_NONE: break;
	}
	return NULL;
}

/* FL_OK when the request is signed by one of the keys for service (NULL:
 * any), or no key is configured; else the AWS error in err. */
static enum fl_result authenticate(struct fl_http *h, struct MHD_Connection *c,
				   const struct conn *cn, const char *method,
				   const char *service, struct fl_error *err)
{
	struct headers hs = { 0 };
	enum fl_result r;
	if (!fl_auth_enabled(h->auth))
		return FL_OK;
	int n = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
	hs.cap = n > 0 ? (size_t)n : 0;
	if (hs.cap && !(hs.v = calloc(hs.cap, sizeof *hs.v)))
		return fl_error_set(err, FL_INTERNAL, "Out of memory");
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &hs);
	const struct fl_auth_request req = {
		.method = method,
		.path = cn->path ? cn->path : "/",
		.query = cn->query,
		.headers = hs.v,
		.n_headers = hs.n,
		.body = cn->body.data,
		.body_len = cn->body.data ? cn->body.len : 0,
		.service = service,
		.now_s = (long long)(h->srv->now_ms() / 1000),
	};
	r = fl_auth_check(h->auth, &req, err);
	free(hs.v);
	return r;
}

/* Operations whose handler reads storage, and so must not run here. */
static bool reads_storage(enum fl_service svc, const char *op)
{
	return svc == FL_SVC_ATHENA && strcmp(op, "GetQueryResults") == 0;
}

static void *storage_main(void *arg)
{
	struct fl_http *h = arg;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct offload *j = h->head;
		if (!j) {
			if (h->stopping)
				break;
			pthread_cond_wait(&h->cond, &h->lock);
			continue;
		}
		h->head = j->next;
		if (!h->head)
			h->tail = NULL;
		pthread_mutex_unlock(&h->lock);
		enum fl_result r = j->fn(&j->req, &j->err);
		pthread_mutex_lock(&h->lock);
		j->result = r;
		j->done = true;
		/* The connection stays suspended, and j alive, until this. */
		MHD_resume_connection(j->c);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Queues j for the storage threads; false when stopping (run it inline). */
static bool offload(struct fl_http *h, struct offload *j)
{
	pthread_mutex_lock(&h->lock);
	bool ok = !h->stopping && h->n_storage_threads > 0;
	if (ok) {
		MHD_suspend_connection(j->c);
		if (h->tail)
			h->tail->next = j;
		else
			h->head = j;
		h->tail = j;
		pthread_cond_signal(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return ok;
}

/* The answer of a handler's outcome (inline or offloaded). */
static enum MHD_Result answer_call(struct fl_server *srv, struct MHD_Connection *c,
				   struct fl_req *req, enum fl_result r, struct fl_error *err)
{
	if (r != FL_OK) {
		if (err->code != r || !err->msg[0])
			fl_error_set(err, r, "%s", err->msg[0] ? err->msg : fl_result_name(r));
		return answer_error(srv, c, req->svc, err, req->request_id);
	}
	return answer(c, 200, &req->out, "application/x-amz-json-1.1", req->request_id, NULL);
}

/* The access handler again, after the storage thread resumed c. */
static enum MHD_Result serve_offloaded(struct fl_http *h, struct MHD_Connection *c,
				       struct conn *cn)
{
	struct offload *j = cn->job;
	pthread_mutex_lock(&h->lock);
	bool done = j->done;
	pthread_mutex_unlock(&h->lock);
	if (!done) /* resumed for another reason: nothing to say yet */
		return MHD_YES;
	enum MHD_Result ret = answer_call(h->srv, c, &j->req, j->result, &j->err);
	fl_buf_free(&j->req.out);
	free(j);
	cn->job = NULL;
	return ret;
}

static enum MHD_Result serve_aws(struct fl_http *h, struct MHD_Connection *c,
				 struct conn *cn)
{
	struct fl_server *srv = h->srv;
	struct fl_req req = { .srv = srv };
	struct fl_error err = { 0 };
	enum MHD_Result ret;
	request_id(req.request_id);
	fl_buf_init(&req.out, FL_HTTP_MAX_RESPONSE);

	const char *target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
	fl_handler_fn fn = route(target, &req.svc, &req.op);
	/* Too large to hash: rejected, signed or not, and nothing changes. */
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
	if (authenticate(h, c, cn, "POST", service_name(req.svc), &err) != FL_OK) {
		ret = answer_error(srv, c, req.svc, &err, req.request_id);
		goto out;
	}
	if (!fn) {
		fl_error_set(&err, FL_UNKNOWN_OP, target ? "Unknown operation %s" : "Missing X-Amz-Target header",
			     target ? target : "");
		ret = answer_error(srv, c, req.svc, &err, req.request_id);
		goto out;
	}
	req.body = cn->body.data;
	req.body_len = cn->body.len;
	if (reads_storage(req.svc, req.op)) {
		struct offload *j = calloc(1, sizeof *j);
		if (!j) {
			fl_error_set(&err, FL_INTERNAL, "Out of memory");
			ret = answer_error(srv, c, req.svc, &err, req.request_id);
			goto out;
		}
		*j = (struct offload){ .c = c, .fn = fn, .req = req };
		fl_buf_init(&req.out, FL_HTTP_MAX_RESPONSE); /* j owns the first */
		if (offload(h, j)) {
			cn->job = j;
			ret = MHD_YES;
			goto out;
		}
		req.out = j->req.out;
		free(j);
	}
	ret = answer_call(srv, c, &req, fn(&req, &err), &err);
out:
	fl_buf_free(&req.out);
	return ret;
}

static enum MHD_Result serve_health(struct fl_server *srv, struct MHD_Connection *c)
{
	struct fl_buf out;
	struct fl_storage_health sh;
	fl_buf_init(&out, 4096);
	fl_storage_health(srv->storage, &sh);
	bool pg = fl_db_ping(srv->db);
	bool storage = sh.state == FL_STORAGE_OK;
	bool delivery = atomic_load(&srv->storage_ok);
	uint64_t pending = atomic_load(&srv->budget.pending_bytes);
	bool wal_ok = srv->budget.max_bytes == 0 || pending < srv->budget.max_bytes;
	int status = wal_ok ? 200 : 503;
	if (fl_buf_printf(&out,
			  "{\"status\":\"%s\",\"postgres\":\"%s\",\"storage\":\"%s\",",
			  wal_ok ? (pg && storage && delivery ? "ok" : "degraded") : "full",
			  pg ? "ok" : "unavailable", fl_storage_state_name(sh.state)) != FL_OK ||
	    (!storage && (fl_buf_adds(&out, "\"storage_error\":") != FL_OK ||
			  fl_buf_add_json_str(&out, sh.reason, strlen(sh.reason)) != FL_OK ||
			  fl_buf_printf(&out, ",\"storage_since_ms\":%lld,",
					(long long)sh.since_ms) != FL_OK)) ||
	    fl_buf_printf(&out,
			  "\"delivery\":\"%s\",\"wal\":{\"state\":\"%s\",\"pending_bytes\":%llu,"
			  "\"budget_bytes\":%llu}}\n",
			  delivery ? "ok" : "retrying", wal_ok ? "ok" : "full",
			  (unsigned long long)pending,
			  (unsigned long long)srv->budget.max_bytes) != FL_OK)
		status = 500;
	return answer(c, status, &out, "application/json", NULL, NULL);
}

/* The storage health record in Prometheus text. */
static enum fl_result render_storage(struct fl_storage *st, struct fl_buf *out)
{
	struct fl_storage_health h;
	fl_storage_health(st, &h);
	enum fl_result r = fl_buf_printf(out,
		"# HELP firelake_storage_up 1 when the last write to storage succeeded.\n"
		"# TYPE firelake_storage_up gauge\n"
		"firelake_storage_up %d\n"
		"# HELP firelake_storage_state_changes_total Changes of the storage state.\n"
		"# TYPE firelake_storage_state_changes_total counter\n"
		"firelake_storage_state_changes_total %llu\n"
		"# HELP firelake_storage_failures_total Failed writes, by the state they caused.\n"
		"# TYPE firelake_storage_failures_total counter\n",
		h.state == FL_STORAGE_OK, (unsigned long long)h.changes);
	for (int i = 1; r == FL_OK && i < FL_STORAGE_N_STATES; i++)
		r = fl_buf_printf(out, "firelake_storage_failures_total{state=\"%s\"} %llu\n",
				  fl_storage_state_name((enum fl_storage_state)i),
				  (unsigned long long)h.failures[i]);
	return r;
}

/* The authentication counters in Prometheus text. */
static enum fl_result render_auth(const struct fl_auth *a, struct fl_buf *out)
{
	const struct fl_auth_counters *k = fl_auth_counters(a);
	return fl_buf_printf(out,
		"# HELP firelake_auth_accepted_total Requests whose SigV4 signature was verified.\n"
		"# TYPE firelake_auth_accepted_total counter\n"
		"firelake_auth_accepted_total %llu\n"
		"# HELP firelake_auth_failures_total Requests refused by authentication, by reason.\n"
		"# TYPE firelake_auth_failures_total counter\n"
		"firelake_auth_failures_total{reason=\"missing\"} %llu\n"
		"firelake_auth_failures_total{reason=\"incomplete\"} %llu\n"
		"firelake_auth_failures_total{reason=\"unknown_key\"} %llu\n"
		"firelake_auth_failures_total{reason=\"bad_signature\"} %llu\n",
		(unsigned long long)atomic_load(&k->ok),
		(unsigned long long)atomic_load(&k->missing),
		(unsigned long long)atomic_load(&k->incomplete),
		(unsigned long long)atomic_load(&k->unknown_key),
		(unsigned long long)atomic_load(&k->bad_signature));
}

static enum MHD_Result serve_metrics(struct fl_http *h, struct MHD_Connection *c,
				     struct conn *cn, const char *method)
{
	struct fl_server *srv = h->srv;
	struct fl_buf out;
	if (srv->cfg.metrics_auth) {
		struct fl_error err = { 0 };
		char rid[37];
		if (cn->too_large)
			fl_error_set(&err, FL_TOO_LARGE, "Request body exceeds the maximum of %u "
				     "bytes", FL_HTTP_MAX_BODY);
		if (cn->too_large ||
		    authenticate(h, c, cn, method, NULL, &err) != FL_OK) {
			request_id(rid);
			return answer_error(srv, c, FL_SVC_NONE, &err, rid);
		}
	}
	fl_buf_init(&out, 16u << 20);
	int status = 200;
	if (fl_metrics_render(&srv->metrics, atomic_load(&srv->budget.pending_bytes),
			      srv->budget.max_bytes, srv->now_ms(), &out) != FL_OK ||
	    render_storage(srv->storage, &out) != FL_OK ||
	    render_auth(h->auth, &out) != FL_OK) {
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
	if (!cn) /* on_uri ran out of memory */
		return MHD_NO;
	if (!cn->started) {
		cn->started = true;
		return MHD_YES;
	}
	if (cn->job)
		return serve_offloaded(h, c, cn);
	if (*upload_len) {
		if (!cn->too_large && fl_buf_add(&cn->body, upload, *upload_len) != FL_OK) {
			cn->too_large = true;
			fl_buf_free(&cn->body);
		}
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0 && strcmp(url, "/") == 0)
		return serve_aws(h, c, cn);
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		if (strcmp(url, "/health") == 0)
			return serve_health(h->srv, c);
		if (strcmp(url, "/metrics") == 0)
			return serve_metrics(h, c, cn, method);
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
	if (cn->job) { /* answered never: the client went away after the resume */
		fl_buf_free(&cn->job->req.out);
		free(cn->job);
	}
	fl_buf_free(&cn->body);
	free(cn->path);
	free(cn);
	*con_cls = NULL;
}

/* The URI log callback: the request line's URI as sent, before
 * libmicrohttpd decodes it.  What it returns becomes *con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn *cn = calloc(1, sizeof *cn);
	(void)cls;
	(void)c;
	if (!cn)
		return NULL;
	fl_buf_init(&cn->body, FL_HTTP_MAX_BODY);
	cn->start_us = now_us();
	if (uri && !(cn->path = strdup(uri))) {
		free(cn);
		return NULL;
	}
	char *q = cn->path ? strchr(cn->path, '?') : NULL;
	if (q) {
		*q = '\0';
		cn->query = q + 1;
	}
	return cn;
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

static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Reads a PEM file of at most MAX_PEM_BYTES into *out (caller owns). */
static enum fl_result read_pem(const char *option, const char *path, char **out,
			       size_t *len, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	struct fl_buf b;
	char chunk[16384];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	fl_buf_init(&b, MAX_PEM_BYTES);
	if (fd < 0) {
		r = fl_error_set(err, FL_IO, "cannot read %s %s: %s", option, path, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = fl_error_set(err, FL_IO, "cannot read %s %s: %s", option, path,
					 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (fl_buf_add(&b, chunk, (size_t)n) != FL_OK) {
			r = fl_error_set(err, FL_INVALID, "%s %s: larger than %u bytes: not a "
					 "PEM file", option, path, MAX_PEM_BYTES);
			goto out;
		}
	}
	if (!b.len) {
		r = fl_error_set(err, FL_INVALID, "%s %s is empty", option, path);
		goto out;
	}
	*out = fl_buf_steal(&b, len);
out:
	if (fd >= 0)
		close(fd);
	explicit_bzero(chunk, sizeof chunk);
	if (b.data)
		explicit_bzero(b.data, b.cap);
	fl_buf_free(&b);
	return r;
}

/* Reads --tls-cert and --tls-key into h and checks that they are a PEM
 * certificate and its unencrypted private key. */
static enum fl_result load_tls(struct fl_http *h, const struct fl_config *cfg,
			       struct fl_error *err)
{
	enum fl_result r;
	size_t cert_len = 0;
	BIO *bio = NULL;
	X509 *x509 = NULL;
	EVP_PKEY *pkey = NULL;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return fl_error_set(err, FL_INVALID, "--tls-cert: this libmicrohttpd was built "
				    "without TLS support; rebuild it with GnuTLS or serve "
				    "HTTP behind a TLS proxy");
	if ((r = read_pem("--tls-cert", cfg->tls_cert, &h->tls_cert, &cert_len, err)) != FL_OK ||
	    (r = read_pem("--tls-key", cfg->tls_key, &h->tls_key, &h->tls_key_len, err)) != FL_OK)
		goto out;
	if (!(bio = BIO_new_mem_buf(h->tls_cert, (int)cert_len)) ||
	    !(x509 = PEM_read_bio_X509(bio, NULL, no_password, NULL))) {
		r = fl_error_set(err, FL_INVALID, "--tls-cert %s holds no PEM certificate",
				 cfg->tls_cert);
		goto out;
	}
	BIO_free(bio);
	if (!(bio = BIO_new_mem_buf(h->tls_key, (int)h->tls_key_len)) ||
	    !(pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL))) {
		r = fl_error_set(err, FL_INVALID, "--tls-key %s holds no unencrypted PEM "
				 "private key", cfg->tls_key);
		goto out;
	}
	if (X509_check_private_key(x509, pkey) != 1) {
		r = fl_error_set(err, FL_INVALID, "--tls-key %s is not the key of the "
				 "certificate in --tls-cert %s", cfg->tls_key, cfg->tls_cert);
		goto out;
	}
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_free(x509);
	EVP_PKEY_free(pkey);
	return r;
}

/* Lets the storage threads finish what is queued (each resumes its
 * connection) and joins them; later calls run inline. */
static void stop_storage_threads(struct fl_http *h)
{
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	for (int i = 0; i < h->n_storage_threads; i++)
		pthread_join(h->storage_threads[i], NULL);
	h->n_storage_threads = 0;
}

static void free_http(struct fl_http *h)
{
	if (!h)
		return;
	stop_storage_threads(h);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	fl_auth_free(h->auth);
	if (h->tls_key)
		explicit_bzero(h->tls_key, h->tls_key_len);
	free(h->tls_key);
	free(h->tls_cert);
	free(h);
}

enum fl_result fl_http_start(struct fl_server *srv, const char *host, int port,
			     int threads, struct fl_http **out, struct fl_error *err)
{
	enum fl_result r = FL_OK;
	struct fl_http *h = calloc(1, sizeof *h);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	struct sockaddr_storage ss = { 0 };
	struct MHD_OptionItem tls[3] = { { MHD_OPTION_END, 0, NULL } };
	/* poll(), not epoll: libmicrohttpd 0.9.75's epoll loop misses a FIN
	 * that arrives with request bytes, and such a connection would sit in
	 * CLOSE-WAIT until the connection timeout. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	const struct fl_config *cfg = &srv->cfg;
	char portstr[16];
	if (!h)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	h->srv = srv;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	if ((r = fl_auth_new(cfg->access_keys, &h->auth, err)) != FL_OK)
		goto out;
	for (int i = 0; i < STORAGE_THREADS; i++) {
		if (pthread_create(&h->storage_threads[i], NULL, storage_main, h) != 0) {
			r = fl_error_set(err, FL_INTERNAL, "cannot start a storage thread");
			goto out;
		}
		h->n_storage_threads++;
	}
	if (cfg->tls_cert[0] || cfg->tls_key[0]) {
		if ((r = load_tls(h, cfg, err)) != FL_OK)
			goto out;
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert };
		tls[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	}

	snprintf(portstr, sizeof portstr, "%d", port);
	int gai = getaddrinfo(host, portstr, &hints, &ai);
	if (gai != 0 || !ai || ai->ai_addrlen > sizeof ss) {
		r = fl_error_set(err, FL_INVALID, "cannot resolve listen address %s: %s", host,
				 gai ? gai_strerror(gai) : "no address");
		goto out;
	}
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, h,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				     MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
				     MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
				     MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
				     MHD_OPTION_ARRAY, tls,
				     MHD_OPTION_END);
	if (!h->daemon) {
		r = fl_error_set(err, FL_IO, "cannot %s on %s:%d",
				 h->tls_cert ? "serve HTTPS" : "listen", host, port);
		goto out;
	}
	if (h->tls_cert)
		fl_info("serving HTTPS with the certificate %s", cfg->tls_cert);
	if (cfg->metrics_auth && !fl_auth_enabled(h->auth))
		fl_warn("--metrics-auth on without --access-keys: /metrics stays open");
	if (fl_auth_enabled(h->auth))
		fl_info("SigV4 authentication on: every AWS request must be signed (/metrics %s)",
			cfg->metrics_auth ? "too" : "stays open");
out:
	if (ai)
		freeaddrinfo(ai);
	if (r != FL_OK) {
		free_http(h);
		return r;
	}
	*out = h;
	return FL_OK;
}

void fl_http_stop(struct fl_http *h)
{
	if (!h)
		return;
	/* Suspended connections must be resumed before the daemon stops:
	 * the storage threads drain their queue first. */
	stop_storage_threads(h);
	MHD_stop_daemon(h->daemon);
	free_http(h);
}
