/*
 * config.c - firelake's options, from four sources.
 *
 * DESIGN
 *
 * Every option is one row of the table `options` below: its name, the
 * argument shown by --help, its default, and a setter that validates a
 * value and stores it.  The four sources all go through the same setters,
 * so an option means the same thing wherever it is written:
 *
 *   default  <  config file  <  FIRELAKE_<NAME>  <  --name VALUE / --name=VALUE
 *
 * fl_config_parse works in this order:
 *
 *   1. the command line is split into (option, value) pairs, so that an
 *      unknown option or a missing value is reported before anything else;
 *   2. the config file is --config from the command line, else
 *      FIRELAKE_CONFIG, else none;
 *   3. defaults, then the file, then the environment, then the command line
 *      are applied; each value is validated when it is applied, so a bad
 *      value is an error even when a stronger source overrides it;
 *   4. --storage, when no source set it, is derived from the final data
 *      directory: file://<data-dir>/lake.
 *
 * Errors are FL_INVALID (FL_IO only for a config file that cannot be read
 * back after it opened) and name the place the value came from:
 *
 *   unknown option --foo
 *   option --listen needs a value
 *   invalid value for --listen: port must be 1..65535
 *   invalid value for FIRELAKE_HTTP_THREADS: must be 1..256
 *   firelake.conf:3: invalid value for listen: missing port
 *   firelake.conf:7: expected `name = value`
 *
 * The environment: a variable FIRELAKE_<NAME> whose name matches no option
 * is ignored (the test harness, for one, sets FIRELAKE_BIN and
 * FIRELAKE_SRC).  An empty variable is a value like any other: it is valid
 * for FIRELAKE_PG (embedded PostgreSQL) and invalid elsewhere.
 *
 * The file: one `name = value` per line; blank lines and lines whose first
 * non-blank character is '#' are skipped.  The value is everything after
 * the first '=', trimmed; there is no quoting and no trailing comment
 * (`http-threads = 8  # more` is an invalid value, reported with its line).
 * Names may be written with '-' or '_' (data-dir, data_dir).  `config`
 * cannot be set from inside a config file.
 *
 * Values:
 *   listen        HOST:PORT or [IPV6]:PORT; the host is stored without
 *                 brackets; port 1..65535.
 *   data-dir      non-empty; trailing '/' dropped (except for "/").
 *   pg            empty (embedded), postgres://..., postgresql://..., or a
 *                 libpq "key=value ..." conninfo string.
 *   storage       file://PATH or s3://BUCKET[/PREFIX].
 *   wal-budget    bytes, optionally with K, M, G, KiB, MiB or GiB (all
 *                 powers of 1024); at least 1 MiB.
 *   http-threads  1..256;  delivery-threads 1..64.
 *   log-level     debug, info, warn or error.
 *   s3-endpoint   http(s)://HOST[:PORT][/PATH]; s3-region lower case,
 *                 digits, '-'; s3-addressing path or virtual; s3-part-size
 *                 a size, 5 MiB..5 GiB (S3's bounds for a part).
 *   access-keys   ID:SECRET[,ID:SECRET...]; an ID is 16..128 letters,
 *                 digits or '_', a secret 1..128 printable characters
 *                 without blanks or ','.  Errors never quote the value.
 *   allow-anonymous, metrics-auth, schema-inference, eager-staging
 *                 on or off; --allow-anonymous alone means on.
 *   tls-cert, tls-key  both or neither.
 *
 * argv holds only the options: the caller passes what follows "serve".
 * --help is not an option here; main.c answers it before calling us.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CFG_ENV_PREFIX "FIRELAKE_"
#define CFG_LINE_MAX 8192
#define CFG_WAL_BUDGET_MIN ((uint64_t)1 << 20)
#define CFG_WHY_MAX 160

/* A setter validates value and stores it into cfg; on failure it writes a
 * short reason (no option name: the caller adds where it came from) into
 * why and returns false. */
typedef bool (*cfg_setter)(struct fl_config *cfg, const char *value,
			   char *why, size_t why_len);

struct cfg_option {
	const char *name;   /* as on the command line, without "--" */
	const char *arg;    /* metavariable for --help */
	const char *def;    /* default as text, for defaults and --help */
	const char *help;
	cfg_setter set;
};

/* ---- value checks ---------------------------------------------------- */

static bool why_set(char *why, size_t why_len, const char *text)
{
	snprintf(why, why_len, "%s", text);
	return false;
}

static bool copy_value(char *dst, size_t dst_len, const char *value,
		       char *why, size_t why_len)
{
	size_t n = strlen(value);

	if (n == 0)
		return why_set(why, why_len, "empty");
	if (n >= dst_len) {
		snprintf(why, why_len, "longer than %zu bytes", dst_len - 1);
		return false;
	}
	memcpy(dst, value, n + 1);
	return true;
}

/* Decimal digits only (no sign, no blanks), at most max. */
static bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool is_hostname(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return false;
	}
	return len > 0;
}

static bool set_listen(struct fl_config *cfg, const char *value,
		       char *why, size_t why_len)
{
	const char *host = value, *colon, *port;
	size_t host_len;
	uint64_t p;

	if (*value == '\0')
		return why_set(why, why_len, "empty");
	if (*value == '[') {
		const char *close = strchr(value, ']');
		char v6[INET6_ADDRSTRLEN];
		struct in6_addr addr;

		if (!close)
			return why_set(why, why_len, "missing ']'");
		host = value + 1;
		host_len = (size_t)(close - host);
		if (host_len == 0 || host_len >= sizeof v6)
			return why_set(why, why_len, "bad IPv6 address");
		memcpy(v6, host, host_len);
		v6[host_len] = '\0';
		if (inet_pton(AF_INET6, v6, &addr) != 1)
			return why_set(why, why_len, "bad IPv6 address");
		if (close[1] != ':')
			return why_set(why, why_len, "missing port");
		port = close + 2;
	} else {
		colon = strrchr(value, ':');
		if (!colon)
			return why_set(why, why_len, "missing port");
		host_len = (size_t)(colon - value);
		if (memchr(value, ':', host_len))
			return why_set(why, why_len,
				       "IPv6 addresses need brackets: [::1]:PORT");
		if (host_len == 0)
			return why_set(why, why_len, "missing host");
		if (!is_hostname(value, host_len))
			return why_set(why, why_len, "bad host");
		port = colon + 1;
	}
	if (*port == '\0')
		return why_set(why, why_len, "missing port");
	if (!parse_u64(port, strlen(port), 65535, &p) || p < 1)
		return why_set(why, why_len, "port must be 1..65535");
	if (host_len >= sizeof cfg->listen_host)
		return why_set(why, why_len, "host too long");
	memcpy(cfg->listen_host, host, host_len);
	cfg->listen_host[host_len] = '\0';
	cfg->listen_port = (int)p;
	return true;
}

static bool set_data_dir(struct fl_config *cfg, const char *value,
			 char *why, size_t why_len)
{
	size_t n;

	if (!copy_value(cfg->data_dir, sizeof cfg->data_dir, value, why,
			why_len))
		return false;
	n = strlen(cfg->data_dir);
	while (n > 1 && cfg->data_dir[n - 1] == '/')
		cfg->data_dir[--n] = '\0';
	return true;
}

static bool set_pg(struct fl_config *cfg, const char *value,
		   char *why, size_t why_len)
{
	if (*value != '\0' && strncmp(value, "postgres://", 11) != 0 &&
	    strncmp(value, "postgresql://", 13) != 0 && !strchr(value, '='))
		return why_set(why, why_len,
			       "expected postgres://... or key=value conninfo");
	if (strlen(value) >= sizeof cfg->pg) {
		snprintf(why, why_len, "longer than %zu bytes",
			 sizeof cfg->pg - 1);
		return false;
	}
	strcpy(cfg->pg, value);
	return true;
}

static bool set_storage(struct fl_config *cfg, const char *value,
			char *why, size_t why_len)
{
	if (strncmp(value, "file://", 7) == 0) {
		if (value[7] == '\0')
			return why_set(why, why_len, "file:// needs a path");
	} else if (strncmp(value, "s3://", 5) == 0) {
		if (value[5] == '/')
			return why_set(why, why_len, "expected s3:// or s3://BUCKET[/PREFIX]");
	} else {
		return why_set(why, why_len, "expected file://PATH, s3:// or "
				"s3://BUCKET[/PREFIX]");
	}
	return copy_value(cfg->storage, sizeof cfg->storage, value, why,
			  why_len);
}

static bool set_config_file(struct fl_config *cfg, const char *value,
			    char *why, size_t why_len)
{
	return copy_value(cfg->config_file, sizeof cfg->config_file, value,
			  why, why_len);
}

/* BYTES with an optional K, M, G, KiB, MiB or GiB suffix, at least min. */
static bool set_size(uint64_t *dst, const char *value, uint64_t min, const char *min_text,
		     char *why, size_t why_len)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 0 },
		{ "K", 10 }, { "KiB", 10 },
		{ "M", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GiB", 30 },
	};
	size_t digits = strspn(value, "0123456789");
	const char *suffix = value + digits;
	uint64_t n;
	size_t i;

	if (*value == '\0')
		return why_set(why, why_len, "empty");
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcasecmp(suffix, units[i].suffix) == 0)
			break;
	if (digits == 0 || i == sizeof units / sizeof units[0])
		return why_set(why, why_len,
			       "expected BYTES with K, M, G, KiB, MiB or GiB");
	if (!parse_u64(value, digits, UINT64_MAX >> units[i].shift, &n))
		return why_set(why, why_len, "too large");
	n <<= units[i].shift;
	if (n < min) {
		snprintf(why, why_len, "must be at least %s", min_text);
		return false;
	}
	*dst = n;
	return true;
}

static bool set_wal_budget(struct fl_config *cfg, const char *value,
			   char *why, size_t why_len)
{
	return set_size(&cfg->wal_budget_bytes, value, CFG_WAL_BUDGET_MIN, "1MiB", why,
			why_len);
}

static bool set_stage_budget(struct fl_config *cfg, const char *value,
			     char *why, size_t why_len)
{
	return set_size(&cfg->stage_budget_bytes, value, 1u << 20, "1MiB", why, why_len);
}

static bool set_int_range(int *dst, const char *value, int lo, int hi,
			  char *why, size_t why_len)
{
	uint64_t n;

	if (!parse_u64(value, strlen(value), (uint64_t)hi, &n) ||
	    n < (uint64_t)lo) {
		snprintf(why, why_len, "must be %d..%d", lo, hi);
		return false;
	}
	*dst = (int)n;
	return true;
}

static bool set_http_threads(struct fl_config *cfg, const char *value,
			     char *why, size_t why_len)
{
	return set_int_range(&cfg->http_threads, value, 1, 256, why, why_len);
}

static bool set_delivery_threads(struct fl_config *cfg, const char *value,
				 char *why, size_t why_len)
{
	return set_int_range(&cfg->delivery_threads, value, 1, 64, why,
			     why_len);
}

static bool set_query_threads(struct fl_config *cfg, const char *value,
			      char *why, size_t why_len)
{
	return set_int_range(&cfg->query_threads, value, 1, 64, why, why_len);
}

static bool set_log_level(struct fl_config *cfg, const char *value,
			  char *why, size_t why_len)
{
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	size_t i;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		if (strcmp(value, levels[i]) == 0) {
			strcpy(cfg->log_level, levels[i]);
			return true;
		}
	}
	return why_set(why, why_len, "expected debug, info, warn or error");
}

static bool set_on_off(bool *dst, const char *value, char *why, size_t why_len)
{
	if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
		*dst = value[1] == 'n';
		return true;
	}
	return why_set(why, why_len, "expected on or off");
}

static bool set_schema_inference(struct fl_config *cfg, const char *value,
				 char *why, size_t why_len)
{
	return set_on_off(&cfg->schema_inference, value, why, why_len);
}

static bool set_eager_staging(struct fl_config *cfg, const char *value,
			      char *why, size_t why_len)
{
	return set_on_off(&cfg->eager_staging, value, why, why_len);
}
static bool set_s3_endpoint(struct fl_config *cfg, const char *value,
			    char *why, size_t why_len)
{
	if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
		return why_set(why, why_len, "expected http://HOST[:PORT] or https://HOST[:PORT]");
	const char *host = value + (value[4] == 's' ? 8 : 7);
	if (*host == '\0' || *host == '/')
		return why_set(why, why_len, "missing host");
	if (strchr(host, '?') || strchr(host, '#'))
		return why_set(why, why_len, "no query or fragment allowed");
	return copy_value(cfg->s3_endpoint, sizeof cfg->s3_endpoint, value, why, why_len);
}

static bool set_s3_region(struct fl_config *cfg, const char *value,
			  char *why, size_t why_len)
{
	for (const char *p = value; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			return why_set(why, why_len, "expected a region name such as us-east-1");
	return copy_value(cfg->s3_region, sizeof cfg->s3_region, value, why, why_len);
}

static bool set_s3_addressing(struct fl_config *cfg, const char *value,
			      char *why, size_t why_len)
{
	if (strcmp(value, "path") == 0 || strcmp(value, "virtual") == 0) {
		cfg->s3_virtual_hosted = value[0] == 'v';
		return true;
	}
	return why_set(why, why_len, "expected path or virtual");
}

static bool set_s3_part_size(struct fl_config *cfg, const char *value,
			     char *why, size_t why_len)
{
	uint64_t n;

	if (!set_size(&n, value, (uint64_t)5 << 20, "5MiB", why, why_len))
		return false;
	if (n > ((uint64_t)5 << 30))
		return why_set(why, why_len, "must be at most 5GiB");
	cfg->s3_part_size = n;
	return true;
}

/* ID:SECRET[,ID:SECRET...]: IDs of 16..128 word characters, secrets of
 * 1..128 printable characters without ',' or blanks.  The reason never
 * quotes the value: it holds secrets. */
static bool set_access_keys(struct fl_config *cfg, const char *value,
			    char *why, size_t why_len)
{
	const char *p = value;
	int n = 0;

	if (*p == '\0') { /* an empty value configures no key */
		cfg->access_keys[0] = '\0';
		return true;
	}
	for (;;) {
		const char *colon = strchr(p, ':'), *end = strchr(p, ',');

		if (!end)
			end = p + strlen(p);
		n++;
		if (!colon || colon > end) {
			snprintf(why, why_len, "key %d: expected ID:SECRET", n);
			return false;
		}
		size_t id_len = (size_t)(colon - p), sec_len = (size_t)(end - colon - 1);
		if (id_len < 16 || id_len > 128 || sec_len < 1 || sec_len > 128) {
			snprintf(why, why_len, "key %d: the ID must be 16..128 characters, "
				 "the secret 1..128", n);
			return false;
		}
		for (const char *q = p; q < colon; q++)
			if (!isalnum((unsigned char)*q) && *q != '_') {
				snprintf(why, why_len, "key %d: the ID may hold letters, "
					 "digits and '_' only", n);
				return false;
			}
		for (const char *q = colon + 1; q < end; q++)
			if (!isgraph((unsigned char)*q)) {
				snprintf(why, why_len, "key %d: the secret holds a blank "
					 "or control character", n);
				return false;
			}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return copy_value(cfg->access_keys, sizeof cfg->access_keys, value, why, why_len);
}

static bool set_allow_anonymous(struct fl_config *cfg, const char *value,
				char *why, size_t why_len)
{
	return set_on_off(&cfg->allow_anonymous, value, why, why_len);
}

static bool set_metrics_auth(struct fl_config *cfg, const char *value,
			     char *why, size_t why_len)
{
	return set_on_off(&cfg->metrics_auth, value, why, why_len);
}

static bool set_tls_cert(struct fl_config *cfg, const char *value,
			 char *why, size_t why_len)
{
	return copy_value(cfg->tls_cert, sizeof cfg->tls_cert, value, why, why_len);
}

static bool set_tls_key(struct fl_config *cfg, const char *value,
			char *why, size_t why_len)
{
	return copy_value(cfg->tls_key, sizeof cfg->tls_key, value, why, why_len);
}

/* ---- the table ------------------------------------------------------- */

/* storage's default is derived (see step 4); its text is for --help. */
static const struct cfg_option options[] = {
	{ "listen", "HOST:PORT", "127.0.0.1:4599",
	  "address to serve HTTP on; [::1]:PORT for IPv6", set_listen },
	{ "data-dir", "DIR", "./var",
	  "WAL, embedded PostgreSQL and default lake live here", set_data_dir },
	{ "pg", "URL", "",
	  "PostgreSQL catalog; empty starts an embedded cluster", set_pg },
	{ "storage", "URL", "file://<data-dir>/lake",
	  "object storage: file://PATH or s3://BUCKET[/PREFIX]", set_storage },
	{ "config", "FILE", "",
	  "config file of `name = value` lines", set_config_file },
	{ "wal-budget", "SIZE", "4GiB",
	  "disk the WAL may use before ingest is refused", set_wal_budget },
	{ "http-threads", "N", "8",
	  "HTTP worker threads, 1..256", set_http_threads },
	{ "delivery-threads", "N", "2",
	  "delivery worker threads, 1..64", set_delivery_threads },
	{ "log-level", "LEVEL", "info",
	  "debug, info, warn or error", set_log_level },
	{ "query-threads", "N", "2",
	  "Athena query worker threads, 1..64", set_query_threads },
	{ "stage-budget", "SIZE", "8GiB",
	  "PostgreSQL space the staged lake may use before it evicts", set_stage_budget },
	{ "eager-staging", "on|off", "on",
	  "stage delivered objects of stream tables for queries right away",
	  set_eager_staging },
	{ "schema-inference", "on|off", "on",
	  "merge the fields of delivered events into their table's columns",
	  set_schema_inference },
	{ "s3-endpoint", "URL", "",
	  "S3 endpoint for s3:// storage; empty: AWS's for the region", set_s3_endpoint },
	{ "s3-region", "REGION", "",
	  "S3 region; empty: AWS_REGION, AWS_DEFAULT_REGION or us-east-1", set_s3_region },
	{ "s3-addressing", "path|virtual", "path",
	  "S3 addressing: ENDPOINT/BUCKET/KEY or BUCKET.ENDPOINT/KEY", set_s3_addressing },
	{ "s3-part-size", "SIZE", "8MiB",
	  "objects larger than this go up in multipart uploads of parts this size",
	  set_s3_part_size },
	{ "access-keys", "ID:SECRET,...", "",
	  "SigV4 keys; when set, every AWS request must be signed by one", set_access_keys },
	{ "allow-anonymous", "on|off", "off",
	  "accept unsigned requests on a non-loopback address (dangerous)",
	  set_allow_anonymous },
	{ "metrics-auth", "on|off", "off",
	  "/metrics needs a SigV4 signature too (when keys are set)", set_metrics_auth },
	{ "tls-cert", "FILE", "",
	  "PEM certificate: serve HTTPS (with --tls-key)", set_tls_cert },
	{ "tls-key", "FILE", "",
	  "PEM private key of --tls-cert", set_tls_key },
};

#define N_OPTIONS (sizeof options / sizeof options[0])

/* Finds an option by name; '_' matches '-' (for the file). */
static const struct cfg_option *find_option(const char *name, size_t len)
{
	size_t i, j;

	for (i = 0; i < N_OPTIONS; i++) {
		const char *o = options[i].name;

		if (strlen(o) != len)
			continue;
		for (j = 0; j < len; j++) {
			char c = name[j] == '_' ? '-' : name[j];

			if (c != o[j])
				break;
		}
		if (j == len)
			return &options[i];
	}
	return NULL;
}

/* FIRELAKE_DATA_DIR for data-dir. */
static void env_name(const struct cfg_option *o, char *out, size_t out_len)
{
	size_t n = strlen(CFG_ENV_PREFIX), i;

	snprintf(out, out_len, "%s", CFG_ENV_PREFIX);
	for (i = 0; o->name[i] && n + 1 < out_len; i++, n++)
		out[n] = o->name[i] == '-' ? '_'
					   : (char)toupper((unsigned char)o->name[i]);
	out[n] = '\0';
}

/* The value of variable name in env (last one wins, as with putenv), or
 * NULL. */
static const char *env_lookup(char **env, const char *name)
{
	size_t len = strlen(name);
	const char *found = NULL;
	char **e;

	for (e = env; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			found = *e + len + 1;
	return found;
}

static void set_defaults(struct fl_config *cfg)
{
	char why[CFG_WHY_MAX];
	size_t i;

	memset(cfg, 0, sizeof *cfg);
	/* The defaults go through the setters like any value; they are
	 * known good, so a failure here is a bug in the table. */
	for (i = 0; i < N_OPTIONS; i++) {
		if (options[i].def[0] == '\0' || options[i].set == set_storage)
			continue;
		if (!options[i].set(cfg, options[i].def, why, sizeof why))
			abort();
	}
}

/* ---- sources --------------------------------------------------------- */

struct cfg_arg {
	const struct cfg_option *opt;
	const char *value;       /* borrowed from argv */
};

/* Step 1: argv into pairs; unknown options and missing values fail. */
static enum fl_result split_argv(int argc, char **argv, struct cfg_arg *out,
				 int *n_out, struct fl_error *err)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *name, *eq;
		const struct cfg_option *o;
		size_t len;

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (a[0] == '-')
				return fl_error_set(err, FL_INVALID,
						    "unknown option %s", a);
			return fl_error_set(err, FL_INVALID,
					    "unexpected argument %s", a);
		}
		name = a + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		/* The command line spells options with '-' only. */
		o = memchr(name, '_', len) ? NULL : find_option(name, len);
		if (!o)
			return fl_error_set(err, FL_INVALID,
					    "unknown option --%.*s", (int)len,
					    name);
		if (eq) {
			out[n].value = eq + 1;
		} else if (o->set == set_allow_anonymous &&
			   (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
			out[n].value = "on"; /* a bare flag */
		} else {
			if (i + 1 >= argc ||
			    strncmp(argv[i + 1], "--", 2) == 0)
				return fl_error_set(err, FL_INVALID,
						    "option --%s needs a value",
						    o->name);
			out[n].value = argv[++i];
		}
		out[n++].opt = o;
	}
	*n_out = n;
	return FL_OK;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Step 3, the file.  storage_set is raised when the file sets storage. */
static enum fl_result apply_file(struct fl_config *cfg, const char *path,
				 bool *storage_set, struct fl_error *err)
{
	enum fl_result rc = FL_OK;
	char line[CFG_LINE_MAX];
	unsigned lineno = 0;
	FILE *f = NULL;

	f = fopen(path, "r");
	if (!f) {
		rc = fl_error_set(err, FL_INVALID, "cannot open config file %s: %s",
				  path, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof line, f)) {
		const struct cfg_option *o;
		char why[CFG_WHY_MAX];
		char *s, *eq, *name, *value;
		size_t len = strlen(line);

		lineno++;
		if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
			rc = fl_error_set(err, FL_INVALID, "%s:%u: line too long",
					  path, lineno);
			goto out;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			rc = fl_error_set(err, FL_INVALID,
					  "%s:%u: expected `name = value`",
					  path, lineno);
			goto out;
		}
		*eq = '\0';
		name = trim(s);
		value = trim(eq + 1);
		if (*name == '\0') {
			rc = fl_error_set(err, FL_INVALID,
					  "%s:%u: expected `name = value`",
					  path, lineno);
			goto out;
		}
		o = find_option(name, strlen(name));
		if (!o) {
			rc = fl_error_set(err, FL_INVALID,
					  "%s:%u: unknown option %s", path,
					  lineno, name);
			goto out;
		}
		if (o->set == set_config_file) {
			rc = fl_error_set(err, FL_INVALID,
					  "%s:%u: config cannot be set in a "
					  "config file", path, lineno);
			goto out;
		}
		if (!o->set(cfg, value, why, sizeof why)) {
			rc = fl_error_set(err, FL_INVALID,
					  "%s:%u: invalid value for %s: %s",
					  path, lineno, o->name, why);
			goto out;
		}
		if (o->set == set_storage)
			*storage_set = true;
	}
	if (ferror(f))
		rc = fl_error_set(err, FL_IO, "cannot read config file %s",
				  path);
out:
	if (f)
		fclose(f);
	return rc;
}

/* Step 3, the environment. */
static enum fl_result apply_env(struct fl_config *cfg, char **env,
				bool *storage_set, struct fl_error *err)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++) {
		const struct cfg_option *o = &options[i];
		char name[64], why[CFG_WHY_MAX];
		const char *value;

		if (o->set == set_config_file)
			continue; /* chose the file already */
		env_name(o, name, sizeof name);
		value = env_lookup(env, name);
		if (!value)
			continue;
		if (!o->set(cfg, value, why, sizeof why))
			return fl_error_set(err, FL_INVALID,
					    "invalid value for %s: %s", name,
					    why);
		if (o->set == set_storage)
			*storage_set = true;
	}
	return FL_OK;
}

enum fl_result fl_config_parse(struct fl_config *cfg, int argc, char **argv,
			       char **env, struct fl_error *err)
{
	struct cfg_arg *args = NULL;
	enum fl_result rc;
	bool storage_set = false;
	const char *file = NULL;
	char why[CFG_WHY_MAX];
	int n_args = 0, i;

	set_defaults(cfg);
	if (argc > 0) {
		args = calloc((size_t)argc, sizeof *args);
		if (!args) {
			rc = fl_error_set(err, FL_INTERNAL, "out of memory");
			goto out;
		}
	}
	rc = split_argv(argc, argv, args, &n_args, err);
	if (rc != FL_OK)
		goto out;

	/* Step 2: which file. */
	for (i = 0; i < n_args; i++)
		if (args[i].opt->set == set_config_file)
			file = args[i].value;
	if (file) {
		if (!set_config_file(cfg, file, why, sizeof why)) {
			rc = fl_error_set(err, FL_INVALID,
					  "invalid value for --config: %s", why);
			goto out;
		}
	} else {
		file = env_lookup(env, CFG_ENV_PREFIX "CONFIG");
		if (file && !set_config_file(cfg, file, why, sizeof why)) {
			rc = fl_error_set(err, FL_INVALID,
					  "invalid value for "
					  CFG_ENV_PREFIX "CONFIG: %s", why);
			goto out;
		}
	}

	if (file) {
		rc = apply_file(cfg, cfg->config_file, &storage_set, err);
		if (rc != FL_OK)
			goto out;
	}
	rc = apply_env(cfg, env, &storage_set, err);
	if (rc != FL_OK)
		goto out;
	for (i = 0; i < n_args; i++) {
		const struct cfg_option *o = args[i].opt;

		if (o->set == set_config_file)
			continue;
		if (!o->set(cfg, args[i].value, why, sizeof why)) {
			rc = fl_error_set(err, FL_INVALID,
					  "invalid value for --%s: %s",
					  o->name, why);
			goto out;
		}
		if (o->set == set_storage)
			storage_set = true;
	}

	if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
		rc = fl_error_set(err, FL_INVALID, "--tls-cert and --tls-key go together");
		goto out;
	}

	/* Step 4. */
	if (!storage_set) {
		int n = snprintf(cfg->storage, sizeof cfg->storage,
				 "file://%s/lake", cfg->data_dir);

		if (n < 0 || (size_t)n >= sizeof cfg->storage) {
			rc = fl_error_set(err, FL_INVALID,
					  "invalid value for --data-dir: too "
					  "long to derive --storage");
			goto out;
		}
	}
	rc = FL_OK;
out:
	free(args);
	return rc;
}

static bool loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

enum fl_result fl_config_check_exposure(const struct fl_config *cfg, struct fl_error *err)
{
	if (cfg->access_keys[0] || cfg->allow_anonymous || loopback(cfg->listen_host))
		return FL_OK;
	return fl_error_set(err, FL_INVALID,
			    "refusing to listen on %s without access keys: anyone who can reach "
			    "it could write and query the lake; set --access-keys ID:SECRET "
			    "(or FIRELAKE_ACCESS_KEYS), listen on 127.0.0.1, or pass "
			    "--allow-anonymous", cfg->listen_host);
}

void fl_config_usage(FILE *f)
{
	size_t i, width = 0;

	for (i = 0; i < N_OPTIONS; i++) {
		size_t w = strlen(options[i].name) + strlen(options[i].arg) + 3;

		if (w > width)
			width = w;
	}
	for (i = 0; i < N_OPTIONS; i++) {
		const struct cfg_option *o = &options[i];
		char flag[64], env[64];

		snprintf(flag, sizeof flag, "--%s %s", o->name, o->arg);
		env_name(o, env, sizeof env);
		fprintf(f, "  %-*s  %s\n", (int)width, flag, o->help);
		fprintf(f, "  %-*s  env %s, default %s\n", (int)width, "", env,
			o->def[0] ? o->def : "empty");
	}
	fprintf(f,
		"\n"
		"Each option is also read from the environment (FIRELAKE_<NAME>)\n"
		"and from the config file (`name = value` lines, '#' comments).\n"
		"Precedence: default < config file < environment < command line.\n"
		"Values: --name VALUE or --name=VALUE; SIZE takes K, M, G, KiB, MiB, GiB.\n");
}
