/*
 * loadgen.c - PutRecordBatch load generator for the ingest benchmark.
 *
 * DESIGN
 * The point is to measure the server, so the generator's own cost per event
 * must be close to nothing.  Everything that costs CPU per event is done
 * before the clock starts: a pool of --bodies complete HTTP requests
 * (headers, JSON, base64 Data) is built up front from the seed.  During the
 * run a request is a memcpy of a pool entry into the connection's private
 * buffer plus one 12-byte patch per event, then send().
 *
 * The patch keeps event_uuid unique across the run although bodies repeat:
 * every event starts at a 3-byte boundary of its record's Data, and
 * `{"event_uuid":"` is 15 bytes, so the uuid's first 9 bytes ("xxxxxxxx-")
 * are exactly 12 base64 characters that can be replaced without re-encoding
 * anything around them.  They are set to the hex of a run-wide request
 * counter; the rest of the uuid is random per pool slot.  Events that are
 * not last in their record are padded with spaces (JSON whitespace) to keep
 * the next event aligned.
 *
 * Each of --threads threads runs one epoll loop over its share of the
 * --connections keep-alive HTTP/1.1 connections (raw sockets, edge
 * triggered).  A connection carries one request at a time: send it, read
 * the whole response (Content-Length, chunked, or close-delimited), take the
 * status and "FailedPutCount", record the ack latency (send start to last
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
#include <errno.h>
#include <fcntl.h>
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

#define LG_MAX_THREADS 64
#define LG_MAX_CONNS 1024
#define LG_MAX_BATCH 500          /* PutRecordBatch's limit */
#define LG_MAX_EVENTS_PER_RECORD 1000
#define LG_MAX_NAMES 1000
#define LG_MAX_BODIES 4096
#define LG_REQ_MAX (64u << 20)    /* one request, headers included */
#define LG_RESP_MAX (16u << 20)   /* one response */
#define LG_RESP_INIT (64u << 10)
#define LG_EVENT_MAX 1024
#define LG_UUID_OFF 15            /* strlen("{\"event_uuid\":\"") */
#define LG_UUID_PATCH_B64 12      /* 9 uuid bytes -> 12 base64 chars */
#define LG_STATUS_MAX 600

/* Log-linear histogram of microseconds: values below 2*SUB are exact, above
 * that each power of two has SUB buckets (relative error < 1/SUB). */
#define LG_HIST_SUB_BITS 7
#define LG_HIST_SUB (1u << LG_HIST_SUB_BITS)
#define LG_HIST_MAX_US ((UINT64_C(1) << 40) - 1)
#define LG_HIST_BUCKETS ((40 - LG_HIST_SUB_BITS + 2) * LG_HIST_SUB)

#define NS_PER_S INT64_C(1000000000)

struct lg_opts {
	char host[256];
	char port[16];
	char path[256];
	const char *stream;
	int connections;
	int threads;
	int batch;
	int events_per_record;
	int names;
	int bodies;
	double rate;          /* events per second; 0 = flat out */
	double duration_s;
	double timeout_s;     /* per request, and the drain after --duration */
	uint64_t seed;
	int64_t base_time;    /* created_at falls in (base_time - 24h, base_time] */
	int quiet;
	int auth;             /* send a dummy SigV4 Authorization header */
	int dry_run;
};

/* One pre-built request.  Read-only once the run starts. */
struct lg_body {
	char *req;            /* owned: HTTP headers + JSON body */
	size_t req_len;
	uint32_t *uuid_at;    /* owned: offsets in req of each event's uuid patch */
	size_t n_uuid;
	uint64_t raw_bytes;   /* event bytes of all records before base64 */
	uint32_t records;
	uint64_t events;
};

struct lg_pool {
	struct lg_body *bodies; /* owned */
	int n;
	size_t max_req_len;
	uint64_t total_raw;
	uint64_t total_events;
};

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
	/* response parse state */
	size_t hdr_len;         /* 0 until the header block is complete */
	int status;
	int chunked;
	int close_delimited;
	int close_after;
	uint64_t content_len;
	size_t chunk_pos;       /* next chunk header to parse */
	size_t body_len;        /* de-chunked body length once complete */
	int64_t t_send_ns;
	int64_t retry_at_ns;
	int64_t backoff_ns;
};

struct lg_global;

struct lg_thread {
	pthread_t tid;
	int idx;
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

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

/* splitmix64: small, fast, and good enough for synthetic data. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

/* Encodes n bytes of in as base64 into out (room for 4*ceil(n/3)); returns
 * the number of characters written. */
static size_t b64_encode(char *out, const unsigned char *in, size_t n)
{
	char *o = out;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = b64_alphabet[(v >> 6) & 63];
		*o++ = b64_alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	return (size_t)(o - out);
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
		die("%s: expected a number in [%g, %g], got '%s'", name, lo, hi, s);
	return v;
}

static void parse_url(struct lg_opts *o, const char *url)
{
	const char *p = url;
	if (!strncmp(p, "http://", 7))
		p += 7;
	else if (strstr(p, "://"))
		die("--url: only http:// is supported: %s", url);
	const char *slash = strchr(p, '/');
	size_t hp_len = slash ? (size_t)(slash - p) : strlen(p);
	snprintf(o->path, sizeof o->path, "%s", slash ? slash : "/");
	char hp[300];
	if (hp_len == 0 || hp_len >= sizeof hp)
		die("--url: bad host in %s", url);
	memcpy(hp, p, hp_len);
	hp[hp_len] = '\0';
	char *host = hp, *port = NULL;
	if (hp[0] == '[') {               /* [::1]:4599 */
		char *rb = strchr(hp, ']');
		if (!rb)
			die("--url: bad IPv6 host in %s", url);
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
		die("--url: host too long");
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
		die("unexpected argument '%s'", argv[optind]);
	if (o->threads > o->connections)
		o->threads = o->connections;
	if (strlen(o->stream) == 0 || strlen(o->stream) > 64 ||
	    strpbrk(o->stream, "\"\\"))
		die("--stream: 1..64 characters, no quotes or backslashes");
}

/* ---- synthetic events ------------------------------------------------- */

static const char *const ev_types[] = {
	"payment", "user", "session", "cart", "search",
	"content", "notification", "subscription", "app", "ad",
};
static const char *const ev_subtypes[] = {
	"order", "account", "page", "item", "profile",
	"card", "message", "plan", "video", "query",
};
static const char *const ev_actions[] = {
	"completed", "created", "updated", "failed", "viewed",
	"clicked", "deleted", "started", "cancelled", "shared",
};
static const char *const currencies[] = { "EUR", "USD", "GBP", "JPY", "CHF", "SEK", "PLN", "BRL" };
static const char *const countries[] = { "DE", "FR", "US", "GB", "JP", "CH", "SE", "PL", "BR", "ES", "IT", "NL" };
static const char *const oses[] = { "ios", "android", "web", "macos", "windows" };
static const char *const tag_words[] = { "a", "b", "promo", "beta", "vip", "new", "returning", "mobile" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Name i of the event-name table: "<type>:<subtype>[:<action>]".  Names
 * go round the types; within a type, k = row * 10 + subtype and the action
 * is (row + subtype + type) mod 11 with 0 meaning none: a bijection for each
 * row, so all LG_MAX_NAMES names are distinct, and about one in eleven
 * has no action. */
static void event_name(char *out, size_t cap, int i)
{
	int nt = (int)NELEM(ev_types), ns = (int)NELEM(ev_subtypes);
	int t = i % nt;
	int k = i / nt;
	int s = k % ns;
	int a = (k / ns + s + t) % ((int)NELEM(ev_actions) + 1);
	if (a == 0)
		snprintf(out, cap, "%s:%s", ev_types[t], ev_subtypes[s]);
	else
		snprintf(out, cap, "%s:%s:%s", ev_types[t], ev_subtypes[s],
			 ev_actions[a - 1]);
}

/* Writes one event (no newline) into out; returns its length. */
static size_t gen_event(char *out, size_t cap, uint64_t *r, const struct lg_opts *o)
{
	unsigned char u[16];
	for (int i = 0; i < 16; i += 8) {
		uint64_t x = rng_next(r);
		memcpy(u + i, &x, 8);
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	char uuid[37];
	static const char hx[] = "0123456789abcdef";
	for (int i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			uuid[j++] = '-';
		uuid[j++] = hx[u[i] >> 4];
		uuid[j++] = hx[u[i] & 15];
	}
	uuid[36] = '\0';

	char name[64];
	event_name(name, sizeof name, (int)rng_below(r, (uint32_t)o->names));
	int64_t created = o->base_time - (int64_t)rng_below(r, 86400);
	uint32_t cents = 50 + rng_below(r, 49951);
	const char *os = oses[rng_below(r, NELEM(oses))];
	char tags[64];
	int ntags = (int)rng_below(r, 4);
	size_t tl = 0;
	tags[tl++] = '[';
	for (int i = 0; i < ntags; i++)
		tl += (size_t)snprintf(tags + tl, sizeof tags - tl, "%s\"%s\"", i ? "," : "",
				       tag_words[rng_below(r, NELEM(tag_words))]);
	tags[tl++] = ']';
	tags[tl] = '\0';

	int n = snprintf(out, cap,
		"{\"event_uuid\":\"%s\",\"event_name\":\"%s\",\"created_at\":%" PRId64 ","
		"\"user_id\":\"u_%06u\",\"session_id\":\"s_%016" PRIx64 "\","
		"\"amount\":%u.%02u,\"currency\":\"%s\",\"country\":\"%s\","
		"\"device\":{\"os\":\"%s\",\"version\":\"%u.%u\"},\"tags\":%s}",
		uuid, name, created, rng_below(r, 1000000), rng_next(r),
		cents / 100, cents % 100, currencies[rng_below(r, NELEM(currencies))],
		countries[rng_below(r, NELEM(countries))], os,
		10 + rng_below(r, 8), rng_below(r, 10), tags);
	if (n < 0 || (size_t)n >= cap)
		die("event template too long");
	return (size_t)n;
}

/* A growable buffer with a hard maximum. */
struct lg_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

static void buf_reserve(struct lg_buf *b, size_t n)
{
	if (n > b->max - b->len)
		die("request larger than %zu bytes: lower --batch or --events-per-record", b->max);
	if (b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		die("out of memory");
	b->p = p;
	b->cap = cap;
}

static void buf_add(struct lg_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_adds(struct lg_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Builds one complete request: records of newline-terminated events, each
 * event but a record's last padded to a multiple of 3 bytes so its uuid
 * can be patched in the base64 text. */
static void build_body(struct lg_body *bd, const struct lg_opts *o, uint64_t *r)
{
	struct lg_buf json = { NULL, 0, 0, LG_REQ_MAX };
	size_t rec_cap = (size_t)o->events_per_record * (LG_EVENT_MAX + 3);
	unsigned char *rec = xmalloc(rec_cap);
	size_t *ev_off = xmalloc(sizeof *ev_off * (size_t)o->events_per_record);
	size_t n_patch = (size_t)o->batch * (size_t)o->events_per_record;
	size_t *patch = xmalloc(sizeof *patch * n_patch);
	size_t np = 0;

	memset(bd, 0, sizeof *bd);
	buf_adds(&json, "{\"DeliveryStreamName\":\"");
	buf_adds(&json, o->stream);
	buf_adds(&json, "\",\"Records\":[");
	for (int i = 0; i < o->batch; i++) {
		size_t rl = 0;
		for (int e = 0; e < o->events_per_record; e++) {
			ev_off[e] = rl;
			rl += gen_event((char *)rec + rl, LG_EVENT_MAX, r, o);
			if (e + 1 < o->events_per_record)
				while ((rl + 1) % 3)
					rec[rl++] = ' ';
			rec[rl++] = '\n';
		}
		buf_adds(&json, i ? ",{\"Data\":\"" : "{\"Data\":\"");
		size_t b64_at = json.len;
		buf_reserve(&json, (rl + 2) / 3 * 4);
		json.len += b64_encode(json.p + json.len, rec, rl);
		buf_adds(&json, "\"}");
		for (int e = 0; e < o->events_per_record; e++)
			patch[np++] = b64_at + (ev_off[e] + LG_UUID_OFF) / 3 * 4;
		bd->raw_bytes += rl;
	}
	buf_adds(&json, "]}");

	char hdr[1024];
	int hl;
	if (o->auth)
		hl = snprintf(hdr, sizeof hdr,
			"POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
			"X-Amz-Target: Firehose_20150804.PutRecordBatch\r\n"
			"Content-Type: application/x-amz-json-1.1\r\n"
			"X-Amz-Date: 20260101T000000Z\r\n"
			"Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/firehose/aws4_request, "
			"SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
			"Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n"
			"Content-Length: %zu\r\n\r\n",
			o->path, o->host, o->port, json.len);
	else
		hl = snprintf(hdr, sizeof hdr,
			"POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
			"X-Amz-Target: Firehose_20150804.PutRecordBatch\r\n"
			"Content-Type: application/x-amz-json-1.1\r\n"
			"Content-Length: %zu\r\n\r\n",
			o->path, o->host, o->port, json.len);
	if (hl < 0 || (size_t)hl >= sizeof hdr)
		die("request header too long");
	if (json.len > LG_REQ_MAX - (size_t)hl)
		die("request larger than %u bytes", LG_REQ_MAX);

	bd->req_len = (size_t)hl + json.len;
	bd->req = xmalloc(bd->req_len);
	memcpy(bd->req, hdr, (size_t)hl);
	memcpy(bd->req + hl, json.p, json.len);
	bd->uuid_at = xmalloc(sizeof *bd->uuid_at * np);
	for (size_t i = 0; i < np; i++) {
		size_t at = patch[i] + (size_t)hl;
		if (at + LG_UUID_PATCH_B64 > bd->req_len || at > UINT32_MAX)
			die("internal: uuid patch out of range");
		bd->uuid_at[i] = (uint32_t)at;
	}
	bd->n_uuid = np;
	bd->records = (uint32_t)o->batch;
	bd->events = (uint64_t)o->batch * (uint64_t)o->events_per_record;

	free(json.p);
	free(rec);
	free(ev_off);
	free(patch);
}

static void pool_build(struct lg_pool *pl, const struct lg_opts *o)
{
	uint64_t r = o->seed * UINT64_C(0x2545F4914F6CDD1D) + 1;
	pl->n = o->bodies;
	pl->bodies = xmalloc(sizeof *pl->bodies * (size_t)pl->n);
	pl->max_req_len = 0;
	pl->total_raw = 0;
	pl->total_events = 0;
	for (int i = 0; i < pl->n; i++) {
		build_body(&pl->bodies[i], o, &r);
		if (pl->bodies[i].req_len > pl->max_req_len)
			pl->max_req_len = pl->bodies[i].req_len;
		pl->total_raw += pl->bodies[i].raw_bytes;
		pl->total_events += pl->bodies[i].events;
	}
}

static void pool_free(struct lg_pool *pl)
{
	for (int i = 0; pl->bodies && i < pl->n; i++) {
		free(pl->bodies[i].req);
		free(pl->bodies[i].uuid_at);
	}
	free(pl->bodies);
	pl->bodies = NULL;
}

/* The 12 base64 characters of "<8 hex of seq>-". */
static void uuid_patch_text(char out[LG_UUID_PATCH_B64], uint32_t seq)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char raw[9];
	for (int i = 0; i < 8; i++)
		raw[i] = (unsigned char)hx[(seq >> (28 - 4 * i)) & 15];
	raw[8] = '-';
	b64_encode(out, raw, sizeof raw);
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
	if (counter)
		add(counter, 1);
	if (counter) {
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
		die("epoll_ctl: %s", strerror(errno));
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

static void response_reset(struct lg_conn *c)
{
	c->rlen = 0;
	c->hdr_len = 0;
	c->status = 0;
	c->chunked = 0;
	c->close_delimited = 0;
	c->close_after = 0;
	c->content_len = 0;
	c->chunk_pos = 0;
	c->body_len = 0;
}

/* Case-insensitive search for needle within [p, p+n). */
static const char *memcasemem(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(p + i, needle, k))
			return p + i;
	return NULL;
}

/* Value of header `name` (with the colon, lower case, e.g. "content-length:")
 * in the header block [h, h+n); NULL if absent.  *vlen gets its length. */
static const char *header_value(const char *h, size_t n, const char *name, size_t *vlen)
{
	size_t k = strlen(name);
	const char *end = h + n;
	const char *line = memchr(h, '\n', n);  /* skip the status line */
	while (line && line + 1 < end) {
		line++;
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > k && !strncasecmp(line, name, k)) {
			const char *v = line + k;
			const char *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		line = eol < end ? eol : NULL;
	}
	return NULL;
}

enum { PARSE_MORE = 0, PARSE_DONE = 1, PARSE_BAD = -1 };

/* Parses the header block once it is complete. */
static int parse_headers(struct lg_conn *c)
{
	const char *p = c->rbuf;
	const char *e = memmem(p, c->rlen, "\r\n\r\n", 4);
	if (!e)
		return c->rlen > 64 * 1024 ? PARSE_BAD : PARSE_MORE;
	c->hdr_len = (size_t)(e - p) + 4;
	if (c->hdr_len < 12 || strncmp(p, "HTTP/1.", 7) || p[8] != ' ')
		return PARSE_BAD;
	c->status = atoi(p + 9);
	if (c->status < 100 || c->status > 999)
		return PARSE_BAD;
	int http10 = p[7] == '0';

	size_t vl;
	const char *v;
	v = header_value(p, c->hdr_len, "connection:", &vl);
	if (v && memcasemem(v, vl, "close"))
		c->close_after = 1;
	else if (http10 && !(v && memcasemem(v, vl, "keep-alive")))
		c->close_after = 1;
	v = header_value(p, c->hdr_len, "transfer-encoding:", &vl);
	if (v && memcasemem(v, vl, "chunked")) {
		c->chunked = 1;
		c->chunk_pos = c->hdr_len;
		return PARSE_MORE;
	}
	v = header_value(p, c->hdr_len, "content-length:", &vl);
	if (v) {
		char num[32];
		if (vl == 0 || vl >= sizeof num)
			return PARSE_BAD;
		memcpy(num, v, vl);
		num[vl] = '\0';
		char *end;
		unsigned long long cl = strtoull(num, &end, 10);
		if (*end || cl > LG_RESP_MAX)
			return PARSE_BAD;
		c->content_len = cl;
		return PARSE_MORE;
	}
	if (c->status == 204 || c->status == 304 || c->status < 200) {
		c->content_len = 0;
		return PARSE_MORE;
	}
	c->close_delimited = 1;
	c->close_after = 1;
	return PARSE_MORE;
}

/* Walks chunks from chunk_pos; on the last chunk, compacts the data in
 * place right after the headers and sets body_len. */
static int parse_chunked(struct lg_conn *c)
{
	char *p = c->rbuf;
	size_t out = c->hdr_len + c->body_len;   /* de-chunked so far */
	for (;;) {
		size_t pos = c->chunk_pos;
		char *eol = memmem(p + pos, c->rlen - pos, "\r\n", 2);
		if (!eol)
			return c->rlen - pos > 1024 ? PARSE_BAD : PARSE_MORE;
		char *end;
		unsigned long long sz = strtoull(p + pos, &end, 16);
		if (end == p + pos || sz > LG_RESP_MAX)
			return PARSE_BAD;
		size_t data = (size_t)(eol - p) + 2;
		if (sz == 0) {
			/* trailers, then an empty line */
			for (size_t q = data;;) {
				char *te = memmem(p + q, c->rlen - q, "\r\n", 2);
				if (!te)
					return PARSE_MORE;
				if (te == p + q) {
					if ((size_t)(te - p) + 2 != c->rlen)
						return PARSE_BAD;
					c->rlen = out;
					return PARSE_DONE;
				}
				q = (size_t)(te - p) + 2;
			}
		}
		if (c->rlen < data + sz + 2)
			return PARSE_MORE;
		if (p[data + sz] != '\r' || p[data + sz + 1] != '\n')
			return PARSE_BAD;
		memmove(p + out, p + data, sz);
		out += sz;
		c->body_len += sz;
		/* the raw bytes [out, data+sz+2) are now dead; shift the rest down */
		size_t tail = data + sz + 2;
		memmove(p + out, p + tail, c->rlen - tail);
		c->rlen -= tail - out;
		c->chunk_pos = out;
	}
}

static int parse_response(struct lg_conn *c)
{
	if (!c->hdr_len) {
		int r = parse_headers(c);
		if (r != PARSE_MORE || !c->hdr_len)
			return r;
	}
	if (c->chunked)
		return parse_chunked(c);
	if (c->close_delimited)
		return PARSE_MORE;
	if (c->rlen < c->hdr_len + c->content_len)
		return PARSE_MORE;
	if (c->rlen > c->hdr_len + c->content_len)
		return PARSE_BAD;  /* we never pipeline */
	c->body_len = c->content_len;
	return PARSE_DONE;
}

/* Reads "FailedPutCount": N from the body; -1 when absent. */
static long failed_put_count(const char *body, size_t n)
{
	static const char key[] = "\"FailedPutCount\"";
	const char *k = memmem(body, n, key, sizeof key - 1);
	if (!k)
		return -1;
	const char *p = k + sizeof key - 1, *e = body + n;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= e || *p != ':')
		return -1;
	p++;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= e || *p < '0' || *p > '9')
		return -1;
	long v = 0;
	while (p < e && *p >= '0' && *p <= '9' && v < 1000000)
		v = v * 10 + (*p++ - '0');
	return v;
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
	if (c->status == 200) {
		long f = failed_put_count(c->rbuf + c->hdr_len, c->body_len);
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
		int s = c->status > 0 && c->status < LG_STATUS_MAX ? c->status : 0;
		add(&t->st.status[s], 1);
	}
	c->backoff_ns = 0;
	if (c->close_after || c->send_failed || c->sent < c->req_len) {
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
				die("out of memory");
			c->rbuf = p;
			c->rcap = cap;
		}
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			int r = parse_response(c);
			if (r == PARSE_DONE) {
				request_done(t, c, now_ns());
				return;
			}
			if (r == PARSE_BAD) {
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
		if (n == 0 && c->hdr_len && c->close_delimited) {
			c->body_len = c->rlen - c->hdr_len;
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
	uuid_patch_text(patch, seq * UINT32_C(0x9E3779B1) ^ (uint32_t)g->o.seed);
	for (size_t i = 0; i < b->n_uuid; i++)
		memcpy(c->req + b->uuid_at[i], patch, LG_UUID_PATCH_B64);
	c->sent = 0;
	c->send_failed = 0;
	response_reset(c);
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
		int n = epoll_wait(t->epfd, evs, (int)NELEM(evs), wait_ms);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
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
		die("cannot resolve %s:%s: %s", g->o.host, g->o.port, gai_strerror(rc));
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

static void print_progress(const struct lg_global *g, double elapsed,
			   uint64_t prev_events, double prev_elapsed)
{
	struct lg_totals *s = malloc(sizeof *s);
	if (!s)
		return;
	sum_stats(g, s);
	double dt = elapsed - prev_elapsed;
	fprintf(stderr, "[%6.1fs] %9.0f ev/s  total %12" PRIu64 "  errors %" PRIu64
		"  failed %" PRIu64 "  p99 %.2f ms\n",
		elapsed, dt > 0 ? (double)(s->events_acked - prev_events) / dt : 0.0,
		s->events_acked,
		s->http_errors + s->err_connect + s->err_io + s->err_timeout + s->err_bad,
		s->records_failed, q_ms(s, 0.99));
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
		die("out of memory");
	parse_opts(&g->o, argc, argv);
	struct lg_opts *o = &g->o;

	pool_build(&g->pool, o);
	if (o->dry_run) {
		const struct lg_body *b = &g->pool.bodies[0];
		fwrite(b->req, 1, b->req_len, stdout);
		fputc('\n', stdout);
		pool_free(&g->pool);
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
		die("out of memory");
	g->t0_ns = now_ns();
	g->deadline_ns = g->t0_ns + (int64_t)(o->duration_s * 1e9);
	int next_id = 0;
	for (int i = 0; i < o->threads; i++) {
		struct lg_thread *t = &g->threads[i];
		t->idx = i;
		t->g = g;
		t->n_conns = o->connections / o->threads + (i < o->connections % o->threads);
		t->rate = o->rate / o->threads;
		double req_events = (double)g->pool.bodies[0].events;
		t->burst = t->rate / 100 > 2 * req_events ? t->rate / 100 : 2 * req_events;
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (t->epfd < 0)
			die("epoll_create1: %s", strerror(errno));
		t->conns = calloc((size_t)t->n_conns, sizeof *t->conns);
		if (!t->conns)
			die("out of memory");
		for (int k = 0; k < t->n_conns; k++) {
			struct lg_conn *c = &t->conns[k];
			c->fd = -1;
			c->id = next_id++;
			c->next_body = c->id % g->pool.n;
			c->req = xmalloc(g->pool.max_req_len);
			c->rcap = LG_RESP_INIT;
			c->rbuf = xmalloc(c->rcap);
		}
	}
	for (int i = 0; i < o->threads; i++)
		if (pthread_create(&g->threads[i].tid, NULL, thread_main, &g->threads[i]))
			die("pthread_create failed");

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
		die("out of memory");
	sum_stats(g, s);
	double elapsed = (double)(end_ns - g->t0_ns) / 1e9;
	double eps = elapsed > 0 ? (double)s->events_acked / elapsed : 0;
	double mbps = elapsed > 0 ? (double)s->bytes_acked / elapsed / 1e6 : 0;
	double run_user = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
	double run_sys = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);

	printf("elapsed            %.2f s (sending stopped at %.0f s, then in-flight requests drained)\n",
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
	pool_free(&g->pool);
	free(g);
	return rc;
}
