/*
 * loadgen.c - PutRecordBatch load generator for the ingest benchmark.
 *
 * DESIGN
 * The point is to measure the server, so the generator's own cost per event
 * must be close to nothing.  Everything that costs CPU per event is done
 * before the clock starts: a pool of --bodies complete HTTP requests
 * (headers, JSON, base64 Data) is built up front from the seed
 * (loadgen_pool.c).  During the run a request is a memcpy of a pool entry
 * into the connection's private buffer plus one 12-byte patch per event that
 * keeps event_uuid unique across the run although bodies repeat (the first
 * 8 hex digits of every uuid in a request encode a run-wide request
 * counter), then send().
 *
 * Each of --threads threads runs one epoll loop over its share of the
 * --connections keep-alive HTTP/1.1 connections (raw sockets, edge
 * triggered).  A connection carries one request at a time: send it, read
 * the whole response (Content-Length, chunked, or close-delimited), take the
 * status and "FailedPutCount" (loadgen_http.c), record the ack latency (send start to last
 * byte of the response) in a log-linear histogram, go back to the idle
 * queue.  With --rate each thread owns a token bucket of rate/threads
 * events per second and hands a request to the connection that has been
 * idle longest once the bucket holds a whole request's worth of events.
 * Latency at a rate is measured from the actual send, not the scheduled
 * one: it is not corrected for coordinated omission.
 *
 * Counters and histograms are per thread, written only by their thread with
 * relaxed atomics; the main thread sums them once a second for the progress
 * line and once at the end for the report.
 *
 * The run is bounded: no request starts after --duration, requests still in
 * flight get --timeout to finish, and an alarm ends the process if anything
 * hangs past that.
 */
#include "loadgen.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LG_RESP_INIT (64u << 10)
#define LG_STATUS_MAX 600

/* Log-linear histogram of microseconds: values below 2*SUB are exact, above
 * that each power of two has SUB buckets (relative error < 1/SUB). */
#define LG_HIST_SUB_BITS 7
#define LG_HIST_SUB (1u << LG_HIST_SUB_BITS)
#define LG_HIST_MAX_US ((UINT64_C(1) << 40) - 1)
#define LG_HIST_BUCKETS ((40 - LG_HIST_SUB_BITS + 2) * LG_HIST_SUB)

#define NS_PER_S INT64_C(1000000000)

/* Counters of one thread: written only by it (relaxed atomics), read by
 * the main thread. */
struct lg_stats {
	uint64_t events_acked;
	uint64_t bytes_acked;
	uint64_t responses;
	uint64_t responses_ok;
	uint64_t records_failed;
	uint64_t err_connect;
	uint64_t err_io;
	uint64_t err_timeout;
	uint64_t err_bad;         /* unparseable response, or 200 without FailedPutCount */
	uint64_t unfinished;      /* in flight when the drain time ran out */
	uint64_t reconnects;
	uint64_t lat_max_us;
	uint64_t status[LG_STATUS_MAX]; /* non-200 responses by status; [0] = other */
	uint64_t hist[LG_HIST_BUCKETS];
};

enum lg_state {
	LG_DOWN,        /* closed; reconnect at retry_at_ns */
	LG_CONNECTING,
	LG_IDLE,        /* connected, in the idle queue */
	LG_SENDING,
	LG_WAITING,     /* request sent, reading the response */
};

struct lg_conn {
	int fd;
	enum lg_state state;
	int id;
	struct lg_conn *next_idle;
	char *req;              /* owned: private copy of the current request */
	size_t req_len;
	size_t sent;
	int send_failed;
	const struct lg_body *body; /* borrowed from the pool */
	int next_body;
	char *rbuf;             /* owned: response bytes */
	size_t rlen;
	size_t rcap;
	struct lg_resp resp;
	int64_t t_send_ns;
	int64_t retry_at_ns;
	int64_t backoff_ns;
};

struct lg_global;

struct lg_thread {
	pthread_t tid;
	struct lg_global *g;    /* borrowed */
	int epfd;
	struct lg_conn *conns;  /* owned */
	int n_conns;
	struct lg_conn *idle_head;
	struct lg_conn *idle_tail;
	double rate;            /* this thread's share, events/s */
	double tokens;
	double burst;
	int64_t last_refill_ns;
	int64_t end_ns;         /* when this thread finished */
	int done;               /* atomic */
	struct lg_stats st;
};

struct lg_global {
	struct lg_opts o;
	struct lg_pool pool;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int64_t t0_ns;
	int64_t deadline_ns;
	uint64_t req_seq;       /* atomic: run-wide request counter */
	struct lg_thread *threads; /* owned */
};

static volatile sig_atomic_t lg_stop;

/* ---- small helpers ---------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void add(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

void lg_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

void *lg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		lg_die("out of memory (%zu bytes)", n);
	return p;
}

/* ---- histogram -------------------------------------------------------- */

static unsigned hist_index(uint64_t us)
{
	if (us > LG_HIST_MAX_US)
		us = LG_HIST_MAX_US;
	if (us < 2 * LG_HIST_SUB)
		return (unsigned)us;
	unsigned msb = 63u - (unsigned)__builtin_clzll(us);
	unsigned shift = msb - LG_HIST_SUB_BITS;
	return (shift + 1) * LG_HIST_SUB + (unsigned)(us >> shift) - LG_HIST_SUB;
}

/* Highest value that lands in bucket i. */
static uint64_t hist_upper(unsigned i)
{
	if (i < 2 * LG_HIST_SUB)
		return i;
	unsigned shift = i / LG_HIST_SUB - 1;
	uint64_t m = i % LG_HIST_SUB + LG_HIST_SUB;
	return ((m + 1) << shift) - 1;
}

/* q in [0,1]; h holds LG_HIST_BUCKETS counts. */
static uint64_t hist_quantile_us(const uint64_t *h, uint64_t total, double q,
				 uint64_t max_us)
{
	if (!total)
		return 0;
	uint64_t want = (uint64_t)(q * (double)total + 0.999999);
	if (want < 1)
		want = 1;
	uint64_t cum = 0;
	for (unsigned i = 0; i < LG_HIST_BUCKETS; i++) {
		cum += h[i];
		if (cum >= want) {
			uint64_t v = hist_upper(i);
			return v < max_us ? v : max_us;
		}
	}
	return max_us;
}

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: loadgen [options]\n"
	      "  --url URL               http://HOST:PORT[/PATH] (default http://127.0.0.1:4599)\n"
	      "  --stream NAME           delivery stream (default events)\n"
	      "  --connections N         keep-alive connections (default 16)\n"
	      "  --threads T             event-loop threads (default 2)\n"
	      "  --batch N               records per PutRecordBatch, 1..500 (default 500)\n"
	      "  --events-per-record N   newline-separated events per record (default 1)\n"
	      "  --rate EV_PER_S         target events/s, 0 = flat out (default 0)\n"
	      "  --duration S            seconds of sending (default 60)\n"
	      "  --timeout S             per-request timeout and final drain (default 30)\n"
	      "  --names N               distinct event names (default 100)\n"
	      "  --bodies N              pre-built request bodies (default 64)\n"
	      "  --seed S                data seed (default 1)\n"
	      "  --base-time UNIX        created_at spans the 24 h before this (default now)\n"
	      "  --no-auth               omit the dummy SigV4 Authorization header\n"
	      "  --dry-run               print one request to stdout and exit\n"
	      "  --quiet                 no per-second progress lines\n", f);
}

static double parse_num(const char *name, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		lg_die("%s: expected a number in [%g, %g], got '%s'", name, lo, hi, s);
	return v;
}

static void parse_url(struct lg_opts *o, const char *url)
{
	const char *p = url;
	if (!strncmp(p, "http://", 7))
		p += 7;
	else if (strstr(p, "://"))
		lg_die("--url: only http:// is supported: %s", url);
	const char *slash = strchr(p, '/');
	size_t hp_len = slash ? (size_t)(slash - p) : strlen(p);
	snprintf(o->path, sizeof o->path, "%s", slash ? slash : "/");
	char hp[300];
	if (hp_len == 0 || hp_len >= sizeof hp)
		lg_die("--url: bad host in %s", url);
	memcpy(hp, p, hp_len);
	hp[hp_len] = '\0';
	char *host = hp, *port = NULL;
	if (hp[0] == '[') {               /* [::1]:4599 */
		char *rb = strchr(hp, ']');
		if (!rb)
			lg_die("--url: bad IPv6 host in %s", url);
		*rb = '\0';
		host = hp + 1;
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		char *colon = strrchr(hp, ':');
		if (colon) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (snprintf(o->host, sizeof o->host, "%s", host) >= (int)sizeof o->host)
		lg_die("--url: host too long");
	snprintf(o->port, sizeof o->port, "%s", port && *port ? port : "80");
}

static void parse_opts(struct lg_opts *o, int argc, char **argv)
{
	enum { O_URL = 256, O_STREAM, O_CONNS, O_THREADS, O_BATCH, O_EPR, O_RATE,
	       O_DURATION, O_TIMEOUT, O_NAMES, O_BODIES, O_SEED, O_BASE, O_NOAUTH,
	       O_DRY, O_QUIET, O_HELP };
	static const struct option lo[] = {
		{ "url", required_argument, NULL, O_URL },
		{ "stream", required_argument, NULL, O_STREAM },
		{ "connections", required_argument, NULL, O_CONNS },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "events-per-record", required_argument, NULL, O_EPR },
		{ "rate", required_argument, NULL, O_RATE },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "names", required_argument, NULL, O_NAMES },
		{ "bodies", required_argument, NULL, O_BODIES },
		{ "seed", required_argument, NULL, O_SEED },
		{ "base-time", required_argument, NULL, O_BASE },
		{ "no-auth", no_argument, NULL, O_NOAUTH },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof *o);
	parse_url(o, "http://127.0.0.1:4599");
	o->stream = "events";
	o->connections = 16;
	o->threads = 2;
	o->batch = 500;
	o->events_per_record = 1;
	o->names = 100;
	o->bodies = 64;
	o->duration_s = 60;
	o->timeout_s = 30;
	o->seed = 1;
	o->base_time = (int64_t)time(NULL);
	o->auth = 1;

	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_URL: parse_url(o, optarg); break;
		case O_STREAM: o->stream = optarg; break;
		case O_CONNS: o->connections = (int)parse_num("--connections", optarg, 1, LG_MAX_CONNS); break;
		case O_THREADS: o->threads = (int)parse_num("--threads", optarg, 1, LG_MAX_THREADS); break;
		case O_BATCH: o->batch = (int)parse_num("--batch", optarg, 1, LG_MAX_BATCH); break;
		case O_EPR: o->events_per_record = (int)parse_num("--events-per-record", optarg, 1, LG_MAX_EVENTS_PER_RECORD); break;
		case O_RATE: o->rate = parse_num("--rate", optarg, 0, 1e9); break;
		case O_DURATION: o->duration_s = parse_num("--duration", optarg, 0.1, 86400); break;
		case O_TIMEOUT: o->timeout_s = parse_num("--timeout", optarg, 0.1, 3600); break;
		case O_NAMES: o->names = (int)parse_num("--names", optarg, 1, LG_MAX_NAMES); break;
		case O_BODIES: o->bodies = (int)parse_num("--bodies", optarg, 1, LG_MAX_BODIES); break;
		case O_SEED: o->seed = (uint64_t)parse_num("--seed", optarg, 0, 9007199254740992.0); break;
		case O_BASE: o->base_time = (int64_t)parse_num("--base-time", optarg, 86400, 4e9); break;
		case O_NOAUTH: o->auth = 0; break;
		case O_DRY: o->dry_run = 1; break;
		case O_QUIET: o->quiet = 1; break;
		case O_HELP: usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		lg_die("unexpected argument '%s'", argv[optind]);
	if (o->threads > o->connections)
		o->threads = o->connections;
	if (strlen(o->stream) == 0 || strlen(o->stream) > 64 ||
	    strpbrk(o->stream, "\"\\"))
		lg_die("--stream: 1..64 characters, no quotes or backslashes");
}

/* ---- connections ------------------------------------------------------ */

static void idle_push(struct lg_thread *t, struct lg_conn *c)
{
	c->state = LG_IDLE;
	c->next_idle = NULL;
	if (t->idle_tail)
		t->idle_tail->next_idle = c;
	else
		t->idle_head = c;
	t->idle_tail = c;
}

static struct lg_conn *idle_pop(struct lg_thread *t)
{
	struct lg_conn *c = t->idle_head;
	if (c) {
		t->idle_head = c->next_idle;
		if (!t->idle_head)
			t->idle_tail = NULL;
		c->next_idle = NULL;
	}
	return c;
}

static void idle_remove(struct lg_thread *t, struct lg_conn *c)
{
	struct lg_conn **pp = &t->idle_head, *prev = NULL;
	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->next_idle;
	}
	if (!*pp)
		return;
	*pp = c->next_idle;
	if (t->idle_tail == c)
		t->idle_tail = prev;
	c->next_idle = NULL;
}

static int in_flight(const struct lg_conn *c)
{
	return c->state == LG_SENDING || c->state == LG_WAITING;
}

/* Closes c; the next connect waits for its backoff.  A request in flight is
 * lost and counted once, here, under *counter. */
static void conn_close(struct lg_thread *t, struct lg_conn *c, uint64_t *counter,
		       int64_t now)
{
	if (c->state == LG_IDLE)
		idle_remove(t, c);
	if (c->fd >= 0) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	if (counter) {
		/* a failure: back off 50 ms, doubling up to 1 s */
		add(counter, 1);
		c->backoff_ns = c->backoff_ns ? c->backoff_ns * 2 : NS_PER_S / 20;
		if (c->backoff_ns > NS_PER_S)
			c->backoff_ns = NS_PER_S;
	} else {
		c->backoff_ns = 0;
	}
	c->retry_at_ns = now + c->backoff_ns;
	c->state = LG_DOWN;
}

static void conn_connect(struct lg_thread *t, struct lg_conn *c)
{
	struct lg_global *g = t->g;
	int fd = socket(g->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_close(t, c, &t->st.err_connect, now_ns());
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	if (connect(fd, (const struct sockaddr *)&g->addr, g->addr_len) < 0 &&
	    errno != EINPROGRESS) {
		conn_close(t, c, &t->st.err_connect, now_ns());
		return;
	}
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = c,
	};
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		lg_die("epoll_ctl: %s", strerror(errno));
	c->state = LG_CONNECTING;
	c->t_send_ns = now_ns();   /* connect timeout uses it too */
}

/* Replaces a connection the server closed cleanly, at once, while the run
 * is still sending. */
static void conn_reopen(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
	conn_close(t, c, NULL, now);
	add(&t->st.reconnects, 1);
	if (now < t->g->deadline_ns && !lg_stop)
		conn_connect(t, c);
}

static void record_latency(struct lg_thread *t, int64_t ns)
{
	uint64_t us = ns > 0 ? (uint64_t)ns / 1000 : 0;
	add(&t->st.hist[hist_index(us)], 1);
	if (us > ld(&t->st.lat_max_us))
		__atomic_store_n(&t->st.lat_max_us, us, __ATOMIC_RELAXED);
}

static void request_done(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
	const struct lg_body *b = c->body;
	record_latency(t, now - c->t_send_ns);
	add(&t->st.responses, 1);
	if (c->resp.status == 200) {
		long f = lg_failed_put_count(c->rbuf + c->resp.hdr_len, c->resp.body_len);
		if (f < 0) {
			add(&t->st.err_bad, 1);
			add(&t->st.records_failed, b->records);
		} else {
			uint64_t failed = (uint64_t)f > b->records ? b->records : (uint64_t)f;
			uint64_t ok = b->records - failed;
			add(&t->st.responses_ok, 1);
			add(&t->st.records_failed, failed);
			add(&t->st.events_acked, ok * (uint64_t)t->g->o.events_per_record);
			add(&t->st.bytes_acked, b->raw_bytes * ok / b->records);
		}
	} else {
		int s = c->resp.status > 0 && c->resp.status < LG_STATUS_MAX ? c->resp.status : 0;
		add(&t->st.status[s], 1);
	}
	c->backoff_ns = 0;
	if (c->resp.close_after || c->send_failed || c->sent < c->req_len) {
		conn_reopen(t, c, now);
		return;
	}
	idle_push(t, c);
}

static void conn_recv(struct lg_thread *t, struct lg_conn *c)
{
	for (;;) {
		if (c->rlen == c->rcap) {
			if (c->rcap >= LG_RESP_MAX) {
				conn_close(t, c, &t->st.err_bad, now_ns());
				return;
			}
			size_t cap = c->rcap * 2;
			char *p = realloc(c->rbuf, cap);
			if (!p)
				lg_die("out of memory");
			c->rbuf = p;
			c->rcap = cap;
		}
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			int r = lg_resp_parse(&c->resp, c->rbuf, &c->rlen);
			if (r == LG_PARSE_DONE) {
				request_done(t, c, now_ns());
				return;
			}
			if (r == LG_PARSE_BAD) {
				conn_close(t, c, &t->st.err_bad, now_ns());
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EOF or error: complete only if the body was close-delimited */
		if (n == 0 && c->resp.hdr_len && c->resp.close_delimited) {
			c->resp.body_len = c->rlen - c->resp.hdr_len;
			request_done(t, c, now_ns());
			return;
		}
		conn_close(t, c, &t->st.err_io, now_ns());
		return;
	}
}

static void conn_send(struct lg_conn *c)
{
	while (c->sent < c->req_len) {
		ssize_t n = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
		if (n > 0) {
			c->sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* The server may have answered (e.g. 413) and closed: read on. */
		c->send_failed = 1;
		break;
	}
	c->state = LG_WAITING;
}

static void request_start(struct lg_thread *t, struct lg_conn *c)
{
	struct lg_global *g = t->g;
	const struct lg_body *b = &g->pool.bodies[c->next_body];
	c->next_body = (c->next_body + 1) % g->pool.n;
	c->body = b;
	memcpy(c->req, b->req, b->req_len);
	c->req_len = b->req_len;
	uint32_t seq = (uint32_t)__atomic_fetch_add(&g->req_seq, 1, __ATOMIC_RELAXED);
	char patch[LG_UUID_PATCH_B64];
	/* An odd multiplier and an xor are bijections of 32-bit integers: the
	 * prefix stays unique per request but looks random. */
	lg_uuid_patch_text(patch, seq * UINT32_C(0x9E3779B1) ^ (uint32_t)g->o.seed);
	for (size_t i = 0; i < b->n_uuid; i++)
		memcpy(c->req + b->uuid_at[i], patch, LG_UUID_PATCH_B64);
	c->sent = 0;
	c->send_failed = 0;
	c->rlen = 0;
	lg_resp_reset(&c->resp);
	c->state = LG_SENDING;
	c->t_send_ns = now_ns();
	conn_send(c);
	conn_recv(t, c);   /* an early error answer may already be there */
}

static void conn_event(struct lg_thread *t, struct lg_conn *c, uint32_t ev)
{
	if (c->state == LG_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			conn_close(t, c, &t->st.err_connect, now_ns());
			return;
		}
		if (!(ev & EPOLLOUT))
			return;
		c->backoff_ns = 0;
		idle_push(t, c);
		return;
	}
	if (c->state == LG_SENDING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		conn_send(c);
	if (in_flight(c)) {
		conn_recv(t, c);
		return;
	}
	if (c->state != LG_IDLE)
		return;
	if (!(ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		if (!(ev & EPOLLIN))
			return;
		/* Edge-triggered readiness can outlive the data it announced,
		 * which conn_recv may already have consumed. */
		char b;
		ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
	}
	/* The server closed a keep-alive connection between requests (or sent
	 * bytes nobody asked for). */
	conn_reopen(t, c, now_ns());
}

/* ---- the thread loop -------------------------------------------------- */

static void refill(struct lg_thread *t, int64_t now)
{
	if (t->rate <= 0)
		return;
	t->tokens += (double)(now - t->last_refill_ns) * t->rate / 1e9;
	if (t->tokens > t->burst)
		t->tokens = t->burst;
	t->last_refill_ns = now;
}

static void *thread_main(void *arg)
{
	struct lg_thread *t = arg;
	struct lg_global *g = t->g;
	const int64_t timeout_ns = (int64_t)(g->o.timeout_s * 1e9);
	const double req_events = (double)g->pool.bodies[0].events;
	struct epoll_event evs[128];
	int64_t next_sweep = 0;

	for (int i = 0; i < t->n_conns; i++)
		conn_connect(t, &t->conns[i]);
	t->last_refill_ns = now_ns();
	t->tokens = req_events;  /* the first request goes out at once */

	for (;;) {
		int64_t now = now_ns();
		int sending = now < g->deadline_ns && !lg_stop;
		int busy = 0;

		/* Timeouts, reconnects, and whether anything is still in flight. */
		if (now >= next_sweep || !sending) {
			for (int i = 0; i < t->n_conns; i++) {
				struct lg_conn *c = &t->conns[i];
				if ((in_flight(c) || c->state == LG_CONNECTING) &&
				    now - c->t_send_ns > timeout_ns) {
					conn_close(t, c, c->state == LG_CONNECTING ?
						   &t->st.err_connect : &t->st.err_timeout, now);
				}
				if (c->state == LG_DOWN && sending && now >= c->retry_at_ns)
					conn_connect(t, c);
				busy |= in_flight(c);
			}
			next_sweep = now + NS_PER_S / 20;
		}
		if (!sending && !busy)
			break;
		if (!sending && now > g->deadline_ns + timeout_ns)
			break;   /* cannot happen past the per-request timeout; belt and braces */

		int wait_ms = 50;
		if (sending) {
			refill(t, now);
			while (t->idle_head && (t->rate <= 0 || t->tokens >= req_events)) {
				struct lg_conn *c = idle_pop(t);
				if (t->rate > 0)
					t->tokens -= req_events;
				request_start(t, c);
			}
			if (t->rate > 0 && t->idle_head) {
				double need_ns = (req_events - t->tokens) / t->rate * 1e9;
				int ms = (int)(need_ns / 1e6) + 1;
				if (ms < wait_ms)
					wait_ms = ms;
			}
			int64_t left_ms = (g->deadline_ns - now) / 1000000 + 1;
			if (left_ms < wait_ms)
				wait_ms = (int)left_ms;
		}
		int n = epoll_wait(t->epfd, evs, (int)(sizeof evs / sizeof evs[0]), wait_ms);
		if (n < 0 && errno != EINTR)
			lg_die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			conn_event(t, evs[i].data.ptr, evs[i].events);
	}

	int64_t now = now_ns();
	for (int i = 0; i < t->n_conns; i++) {
		struct lg_conn *c = &t->conns[i];
		if (in_flight(c))
			add(&t->st.unfinished, 1);
		if (c->fd >= 0) {
			close(c->fd);
			c->fd = -1;
		}
	}
	t->end_ns = now;
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- reporting -------------------------------------------------------- */

struct lg_totals {
	uint64_t events_acked, bytes_acked, responses, responses_ok, records_failed;
	uint64_t err_connect, err_io, err_timeout, err_bad, unfinished, reconnects;
	uint64_t lat_max_us, http_errors, hist_total;
	uint64_t status[LG_STATUS_MAX];
	uint64_t hist[LG_HIST_BUCKETS];
};

static void sum_stats(const struct lg_global *g, struct lg_totals *s)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < g->o.threads; i++) {
		const struct lg_stats *st = &g->threads[i].st;
		s->events_acked += ld(&st->events_acked);
		s->bytes_acked += ld(&st->bytes_acked);
		s->responses += ld(&st->responses);
		s->responses_ok += ld(&st->responses_ok);
		s->records_failed += ld(&st->records_failed);
		s->err_connect += ld(&st->err_connect);
		s->err_io += ld(&st->err_io);
		s->err_timeout += ld(&st->err_timeout);
		s->err_bad += ld(&st->err_bad);
		s->unfinished += ld(&st->unfinished);
		s->reconnects += ld(&st->reconnects);
		uint64_t m = ld(&st->lat_max_us);
		if (m > s->lat_max_us)
			s->lat_max_us = m;
		for (int k = 0; k < LG_STATUS_MAX; k++) {
			uint64_t v = ld(&st->status[k]);
			s->status[k] += v;
			s->http_errors += v;
		}
		for (unsigned k = 0; k < LG_HIST_BUCKETS; k++) {
			uint64_t v = ld(&st->hist[k]);
			s->hist[k] += v;
			s->hist_total += v;
		}
	}
}

static double q_ms(const struct lg_totals *s, double q)
{
	return (double)hist_quantile_us(s->hist, s->hist_total, q, s->lat_max_us) / 1000.0;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void on_signal(int sig)
{
	(void)sig;
	lg_stop = 1;
}

static void on_alarm(int sig)
{
	static const char msg[] = "loadgen: hard timeout, giving up\n";
	(void)sig;
	ssize_t w = write(2, msg, sizeof msg - 1);
	(void)w;
	_exit(3);
}

static void resolve(struct lg_global *g)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc = getaddrinfo(g->o.host, g->o.port, &hints, &ai);
	if (rc)
		lg_die("cannot resolve %s:%s: %s", g->o.host, g->o.port, gai_strerror(rc));
	memcpy(&g->addr, ai->ai_addr, ai->ai_addrlen);
	g->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static void print_header(const struct lg_global *g)
{
	const struct lg_opts *o = &g->o;
	const struct lg_pool *pl = &g->pool;
	char rate[64];
	if (o->rate > 0)
		snprintf(rate, sizeof rate, "%.0f events/s", o->rate);
	else
		snprintf(rate, sizeof rate, "flat out");
	printf("# loadgen: http://%s:%s%s stream=%s connections=%d threads=%d "
	       "batch=%d events/record=%d rate=%s duration=%gs\n",
	       o->host, o->port, o->path, o->stream, o->connections, o->threads,
	       o->batch, o->events_per_record, rate, o->duration_s);
	printf("# data: seed=%" PRIu64 " names=%d created_at in [%" PRId64 ", %" PRId64 "], "
	       "%.0f B/event avg, %.1f KiB per request on the wire\n",
	       o->seed, o->names, o->base_time - 86399, o->base_time,
	       (double)pl->total_raw / (double)pl->total_events,
	       (double)pl->max_req_len / 1024.0);
	printf("# bodies: %d pre-built requests, reused round-robin: payload bytes repeat "
	       "across requests; event_uuid stays unique (its first 8 hex digits encode a run-wide request counter)\n",
	       pl->n);
	fflush(stdout);
}

/* One line a second on stderr: this second's events/s and p99 (from the
 * latency histogram's growth since the last line), then the run's totals
 * and its p99 so far.  Called from the main thread only. */
static void print_progress(const struct lg_global *g, double elapsed,
			   uint64_t prev_events, double prev_elapsed)
{
	static struct lg_totals *prev;
	struct lg_totals *s = malloc(sizeof *s), *d = calloc(1, sizeof *d);
	if (!s || !d || (!prev && !(prev = calloc(1, sizeof *prev)))) {
		free(s);
		free(d);
		return;
	}
	sum_stats(g, s);
	for (size_t i = 0; i < LG_HIST_BUCKETS; i++)
		d->hist[i] = s->hist[i] - prev->hist[i];
	d->hist_total = s->hist_total - prev->hist_total;
	d->lat_max_us = s->lat_max_us;
	double dt = elapsed - prev_elapsed;
	fprintf(stderr, "[%6.1fs] %9.0f ev/s  total %12" PRIu64 "  errors %" PRIu64
		"  failed %" PRIu64 "  p99 %.2f ms  (this second: p99 %.2f ms)\n",
		elapsed, dt > 0 ? (double)(s->events_acked - prev_events) / dt : 0.0,
		s->events_acked,
		s->http_errors + s->err_connect + s->err_io + s->err_timeout + s->err_bad,
		s->records_failed, q_ms(s, 0.99), d->hist_total ? q_ms(d, 0.99) : 0.0);
	*prev = *s;
	free(d);
	free(s);
}

static uint64_t events_now(const struct lg_global *g)
{
	uint64_t v = 0;
	for (int i = 0; i < g->o.threads; i++)
		v += ld(&g->threads[i].st.events_acked);
	return v;
}

static int all_done(const struct lg_global *g)
{
	for (int i = 0; i < g->o.threads; i++)
		if (!__atomic_load_n(&g->threads[i].done, __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct lg_global *g = calloc(1, sizeof *g);
	if (!g)
		lg_die("out of memory");
	parse_opts(&g->o, argc, argv);
	struct lg_opts *o = &g->o;

	lg_pool_build(&g->pool, o);
	if (o->dry_run) {
		const struct lg_body *b = &g->pool.bodies[0];
		fwrite(b->req, 1, b->req_len, stdout);
		fputc('\n', stdout);
		lg_pool_free(&g->pool);
		free(g);
		return 0;
	}
	resolve(g);
	print_header(g);

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm((unsigned)(o->duration_s + o->timeout_s + 30));

	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);

	g->threads = calloc((size_t)o->threads, sizeof *g->threads);
	if (!g->threads)
		lg_die("out of memory");
	g->t0_ns = now_ns();
	g->deadline_ns = g->t0_ns + (int64_t)(o->duration_s * 1e9);
	int next_id = 0;
	for (int i = 0; i < o->threads; i++) {
		struct lg_thread *t = &g->threads[i];
		t->g = g;
		t->n_conns = o->connections / o->threads + (i < o->connections % o->threads);
		t->rate = o->rate / o->threads;
		double req_events = (double)g->pool.bodies[0].events;
		t->burst = t->rate / 100 > 2 * req_events ? t->rate / 100 : 2 * req_events;
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (t->epfd < 0)
			lg_die("epoll_create1: %s", strerror(errno));
		t->conns = calloc((size_t)t->n_conns, sizeof *t->conns);
		if (!t->conns)
			lg_die("out of memory");
		for (int k = 0; k < t->n_conns; k++) {
			struct lg_conn *c = &t->conns[k];
			c->fd = -1;
			c->id = next_id++;
			c->next_body = c->id % g->pool.n;
			c->req = lg_xmalloc(g->pool.max_req_len);
			c->rcap = LG_RESP_INIT;
			c->rbuf = lg_xmalloc(c->rcap);
		}
	}
	for (int i = 0; i < o->threads; i++)
		if (pthread_create(&g->threads[i].tid, NULL, thread_main, &g->threads[i]))
			lg_die("pthread_create failed");

	/* Progress once a second until every thread has drained. */
	uint64_t prev_events = 0;
	double prev_elapsed = 0;
	struct timespec tick;
	clock_gettime(CLOCK_MONOTONIC, &tick);
	while (!all_done(g)) {
		tick.tv_sec += 1;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR &&
		       !all_done(g))
			;
		if (all_done(g))
			break;
		double elapsed = (double)(now_ns() - g->t0_ns) / 1e9;
		if (!o->quiet)
			print_progress(g, elapsed, prev_events, prev_elapsed);
		prev_events = events_now(g);
		prev_elapsed = elapsed;
	}
	int64_t end_ns = g->t0_ns;
	for (int i = 0; i < o->threads; i++) {
		pthread_join(g->threads[i].tid, NULL);
		if (g->threads[i].end_ns > end_ns)
			end_ns = g->threads[i].end_ns;
	}
	getrusage(RUSAGE_SELF, &ru1);
	alarm(0);

	struct lg_totals *s = malloc(sizeof *s);
	if (!s)
		lg_die("out of memory");
	sum_stats(g, s);
	double elapsed = (double)(end_ns - g->t0_ns) / 1e9;
	double eps = elapsed > 0 ? (double)s->events_acked / elapsed : 0;
	double mbps = elapsed > 0 ? (double)s->bytes_acked / elapsed / 1e6 : 0;
	double run_user = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
	double run_sys = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);

	if (lg_stop)
		printf("elapsed            %.2f s (stopped early by a signal, then in-flight requests drained)\n",
		       elapsed);
	else
		printf("elapsed            %.2f s (sending stopped at %g s, then in-flight requests drained)\n",
		       elapsed, o->duration_s);
	printf("events acked       %" PRIu64 "\n", s->events_acked);
	printf("events/s           %.0f\n", eps);
	printf("MB/s               %.2f (event bytes before base64, 1 MB = 10^6 B)\n", mbps);
	printf("requests           %" PRIu64 " answered, %" PRIu64 " with 200 (%.0f req/s)\n",
	       s->responses, s->responses_ok,
	       elapsed > 0 ? (double)s->responses / elapsed : 0.0);
	printf("ack latency ms     p50=%.2f p90=%.2f p99=%.2f p99.9=%.2f max=%.2f (send start to full response)\n",
	       q_ms(s, 0.50), q_ms(s, 0.90), q_ms(s, 0.99), q_ms(s, 0.999),
	       (double)s->lat_max_us / 1000.0);
	printf("failed records     %" PRIu64 " (FailedPutCount, plus whole batches of unparseable 200s)\n",
	       s->records_failed);
	printf("http errors        ");
	if (!s->http_errors)
		printf("none");
	for (int k = 1; k < LG_STATUS_MAX; k++)
		if (s->status[k])
			printf("%d=%" PRIu64 " ", k, s->status[k]);
	if (s->status[0])
		printf("other=%" PRIu64, s->status[0]);
	printf("\n");
	printf("transport errors   connect=%" PRIu64 " io=%" PRIu64 " timeout=%" PRIu64
	       " bad_response=%" PRIu64 " unfinished=%" PRIu64 " (reconnects %" PRIu64 ")\n",
	       s->err_connect, s->err_io, s->err_timeout, s->err_bad, s->unfinished,
	       s->reconnects);
	double cores = elapsed > 0 ? (run_user + run_sys) / elapsed : 0;
	printf("loadgen cpu: user=%.2fs sys=%.2fs (whole process; the run itself: "
	       "user=%.2fs sys=%.2fs = %.3f cores)\n",
	       tv_s(ru1.ru_utime), tv_s(ru1.ru_stime), run_user, run_sys, cores);
	printf("RESULT events_per_s=%.0f mb_per_s=%.2f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
	       "failed=%" PRIu64 " http_errors=%" PRIu64 " transport_errors=%" PRIu64
	       " cpu_cores=%.3f\n",
	       eps, mbps, q_ms(s, 0.50), q_ms(s, 0.99), (double)s->lat_max_us / 1000.0,
	       s->records_failed, s->http_errors,
	       s->err_connect + s->err_io + s->err_timeout + s->err_bad + s->unfinished,
	       cores);
	fflush(stdout);

	int rc = s->events_acked > 0 ? 0 : 1;
	if (rc)
		fprintf(stderr, "loadgen: no event was acknowledged\n");
	for (int i = 0; i < o->threads; i++) {
		struct lg_thread *t = &g->threads[i];
		for (int k = 0; k < t->n_conns; k++) {
			free(t->conns[k].req);
			free(t->conns[k].rbuf);
		}
		free(t->conns);
		close(t->epfd);
	}
	free(g->threads);
	free(s);
	lg_pool_free(&g->pool);
	free(g);
	return rc;
}
