/*
 * test_config.c - options from defaults, file, environment and argv.
 *
 * Table-driven: each case is an argv (and sometimes an environment or a
 * config file's text) with either the value one option must end up with,
 * rendered as text by show(), or the exact error message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define MAX_ARGS 8

/* One option's final value as text, so tables can compare strings. */
static void show(const struct fl_config *c, const char *field, char *out,
		 size_t len)
{
	if (strcmp(field, "listen") == 0)
		snprintf(out, len, "%s|%d", c->listen_host, c->listen_port);
	else if (strcmp(field, "data-dir") == 0)
		snprintf(out, len, "%s", c->data_dir);
	else if (strcmp(field, "pg") == 0)
		snprintf(out, len, "%s", c->pg);
	else if (strcmp(field, "storage") == 0)
		snprintf(out, len, "%s", c->storage);
	else if (strcmp(field, "config") == 0)
		snprintf(out, len, "%s", c->config_file);
	else if (strcmp(field, "wal-budget") == 0)
		snprintf(out, len, "%llu",
			 (unsigned long long)c->wal_budget_bytes);
	else if (strcmp(field, "http-threads") == 0)
		snprintf(out, len, "%d", c->http_threads);
	else if (strcmp(field, "delivery-threads") == 0)
		snprintf(out, len, "%d", c->delivery_threads);
	else if (strcmp(field, "log-level") == 0)
		snprintf(out, len, "%s", c->log_level);
	else if (strcmp(field, "s3") == 0)
		snprintf(out, len, "%s|%s|%s|%llu", c->s3_endpoint, c->s3_region,
			 c->s3_virtual_hosted ? "virtual" : "path",
			 (unsigned long long)c->s3_part_size);
	else if (strcmp(field, "auth") == 0)
		snprintf(out, len, "%s|%s|%s", c->access_keys,
			 c->allow_anonymous ? "anon" : "-", c->metrics_auth ? "metrics" : "-");
	else if (strcmp(field, "tls") == 0)
		snprintf(out, len, "%s|%s", c->tls_cert, c->tls_key);
	else
		fail_msg("no field %s", field);
}

static int count_args(const char *const *args)
{
	int n = 0;

	while (n < MAX_ARGS && args[n])
		n++;
	return n;
}

static enum fl_result parse(struct fl_config *c, const char *const *args,
			    const char *const *env, struct fl_error *err)
{
	memset(err, 0, sizeof *err);
	return fl_config_parse(c, count_args(args), (char **)args,
			       (char **)env, err);
}

/* Writes text to a fresh temp file; returns its path (static buffer). */
static const char *write_file(const char *text)
{
	static char path[64];
	int fd;
	size_t n = strlen(text);

	snprintf(path, sizeof path, "/tmp/test_config_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
	return path;
}

/* ---- defaults --------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct fl_config c;
	struct fl_error err;
	const char *args[] = { NULL };

	(void)state;
	assert_int_equal(parse(&c, args, NULL, &err), FL_OK);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 4599);
	assert_string_equal(c.data_dir, "./var");
	assert_string_equal(c.pg, "");
	assert_string_equal(c.storage, "file://./var/lake");
	assert_string_equal(c.config_file, "");
	assert_true(c.wal_budget_bytes == 4ULL << 30);
	assert_int_equal(c.http_threads, 8);
	assert_int_equal(c.delivery_threads, 2);
	assert_string_equal(c.log_level, "info");
}

/* ---- valid values on the command line --------------------------------- */

struct valid_case {
	const char *args[MAX_ARGS];
	const char *field;
	const char *want;
};

static const struct valid_case valid_cases[] = {
	{ { "--listen", "0.0.0.0:8080" }, "listen", "0.0.0.0|8080" },
	{ { "--listen=localhost:1" }, "listen", "localhost|1" },
	{ { "--listen", "[::1]:4599" }, "listen", "::1|4599" },
	{ { "--listen", "[::]:65535" }, "listen", "::|65535" },
	{ { "--listen", "lake-1.internal:443" }, "listen", "lake-1.internal|443" },
	{ { "--data-dir", "/var/lib/firelake" }, "data-dir", "/var/lib/firelake" },
	{ { "--data-dir=/srv/fl//" }, "data-dir", "/srv/fl" },
	{ { "--data-dir", "/" }, "data-dir", "/" },
	{ { "--pg", "postgres://u:p@db:5432/firelake" }, "pg",
	  "postgres://u:p@db:5432/firelake" },
	{ { "--pg", "postgresql:///firelake?host=/tmp" }, "pg",
	  "postgresql:///firelake?host=/tmp" },
	{ { "--pg", "host=/tmp port=5433 dbname=x" }, "pg",
	  "host=/tmp port=5433 dbname=x" },
	{ { "--pg=" }, "pg", "" },
	{ { "--storage", "s3://lake" }, "storage", "s3://lake" },
	{ { "--storage", "s3://" }, "storage", "s3://" },
	{ { "--storage", "s3://" }, "s3", "||path|8388608" },
	{ { "--s3-endpoint", "http://127.0.0.1:5000", "--s3-region", "eu-west-1",
	    "--s3-addressing", "virtual", "--s3-part-size", "5MiB" },
	  "s3", "http://127.0.0.1:5000|eu-west-1|virtual|5242880" },
	{ { "--access-keys", "AKIAEXAMPLE0000001:s3cr/t+X,AKIAEXAMPLE0000002:y" },
	  "auth", "AKIAEXAMPLE0000001:s3cr/t+X,AKIAEXAMPLE0000002:y|-|-" },
	{ { "--allow-anonymous" }, "auth", "|anon|-" },
	{ { "--allow-anonymous", "--metrics-auth", "on" }, "auth", "|anon|metrics" },
	{ { "--allow-anonymous=off" }, "auth", "|-|-" },
	{ { "--tls-cert", "c.pem", "--tls-key", "k.pem" }, "tls", "c.pem|k.pem" },
	{ { "--storage", "s3://lake/prefix/x" }, "storage", "s3://lake/prefix/x" },
	{ { "--storage=file:///data/lake" }, "storage", "file:///data/lake" },
	{ { "--wal-budget", "1048576" }, "wal-budget", "1048576" },
	{ { "--wal-budget", "1024K" }, "wal-budget", "1048576" },
	{ { "--wal-budget", "2MiB", "--wal-budget", "3M" }, "wal-budget",
	  "3145728" },
	{ { "--wal-budget", "64MiB" }, "wal-budget", "67108864" },
	{ { "--wal-budget", "1g" }, "wal-budget", "1073741824" },
	{ { "--wal-budget", "10GiB" }, "wal-budget", "10737418240" },
	{ { "--http-threads", "1" }, "http-threads", "1" },
	{ { "--http-threads=256" }, "http-threads", "256" },
	{ { "--delivery-threads", "1" }, "delivery-threads", "1" },
	{ { "--delivery-threads", "64" }, "delivery-threads", "64" },
	{ { "--log-level", "debug" }, "log-level", "debug" },
	{ { "--log-level", "warn" }, "log-level", "warn" },
	{ { "--log-level=error" }, "log-level", "error" },
	/* last one wins */
	{ { "--http-threads", "3", "--http-threads", "4" }, "http-threads", "4" },
	/* storage follows the final data dir unless set */
	{ { "--data-dir", "/d" }, "storage", "file:///d/lake" },
	{ { "--data-dir", "rel/dir/" }, "storage", "file://rel/dir/lake" },
	{ { "--storage", "s3://b", "--data-dir", "/d" }, "storage", "s3://b" },
};

static void test_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
		const struct valid_case *t = &valid_cases[i];
		struct fl_config c;
		struct fl_error err;
		char got[16384];

		if (parse(&c, t->args, NULL, &err) != FL_OK)
			fail_msg("case %zu (%s): %s", i, t->args[0], err.msg);
		show(&c, t->field, got, sizeof got);
		if (strcmp(got, t->want) != 0)
			fail_msg("case %zu (%s): %s is '%s', want '%s'", i,
				 t->args[0], t->field, got, t->want);
	}
}

/* ---- errors on the command line -------------------------------------- */

struct invalid_case {
	const char *args[MAX_ARGS];
	const char *want;
};

static const struct invalid_case invalid_cases[] = {
	{ { "--foo" }, "unknown option --foo" },
	{ { "--foo=bar" }, "unknown option --foo" },
	{ { "--data_dir", "x" }, "unknown option --data_dir" },
	{ { "-h" }, "unknown option -h" },
	{ { "--" }, "unknown option --" },
	{ { "serve" }, "unexpected argument serve" },
	{ { "--listen" }, "option --listen needs a value" },
	{ { "--listen", "--data-dir", "x" }, "option --listen needs a value" },
	{ { "--log-level" }, "option --log-level needs a value" },
	{ { "--listen", "" }, "invalid value for --listen: empty" },
	{ { "--listen", "127.0.0.1" }, "invalid value for --listen: missing port" },
	{ { "--listen", "127.0.0.1:" }, "invalid value for --listen: missing port" },
	{ { "--listen", ":4599" }, "invalid value for --listen: missing host" },
	{ { "--listen", "127.0.0.1:0" },
	  "invalid value for --listen: port must be 1..65535" },
	{ { "--listen", "127.0.0.1:65536" },
	  "invalid value for --listen: port must be 1..65535" },
	{ { "--listen", "127.0.0.1:-1" },
	  "invalid value for --listen: port must be 1..65535" },
	{ { "--listen", "127.0.0.1:80x" },
	  "invalid value for --listen: port must be 1..65535" },
	{ { "--listen", "::1:4599" },
	  "invalid value for --listen: IPv6 addresses need brackets: [::1]:PORT" },
	{ { "--listen", "[::1:4599" }, "invalid value for --listen: missing ']'" },
	{ { "--listen", "[zz]:4599" },
	  "invalid value for --listen: bad IPv6 address" },
	{ { "--listen", "[::1]4599" }, "invalid value for --listen: missing port" },
	{ { "--listen", "a b:1" }, "invalid value for --listen: bad host" },
	{ { "--data-dir", "" }, "invalid value for --data-dir: empty" },
	{ { "--pg", "mysql://x" },
	  "invalid value for --pg: expected postgres://... or key=value conninfo" },
	{ { "--storage", "http://x" },
	  "invalid value for --storage: expected file://PATH, s3:// or "
	  "s3://BUCKET[/PREFIX]" },
	{ { "--storage", "/data" },
	  "invalid value for --storage: expected file://PATH, s3:// or "
	  "s3://BUCKET[/PREFIX]" },
	{ { "--storage", "file://" },
	  "invalid value for --storage: file:// needs a path" },
	{ { "--storage", "s3:///p" },
	  "invalid value for --storage: expected s3:// or s3://BUCKET[/PREFIX]" },
	{ { "--s3-endpoint", "ftp://x" },
	  "invalid value for --s3-endpoint: expected http://HOST[:PORT] or https://HOST[:PORT]" },
	{ { "--s3-endpoint", "http://" }, "invalid value for --s3-endpoint: missing host" },
	{ { "--s3-region", "US_EAST" },
	  "invalid value for --s3-region: expected a region name such as us-east-1" },
	{ { "--s3-addressing", "dns" }, "invalid value for --s3-addressing: expected path or virtual" },
	{ { "--s3-part-size", "4MiB" }, "invalid value for --s3-part-size: must be at least 5MiB" },
	{ { "--access-keys", "short:secret" },
	  "invalid value for --access-keys: key 1: the ID must be 16..128 characters, the secret 1..128" },
	{ { "--access-keys", "AKIAEXAMPLE0000001:ok,AKIAEXAMPLE0000002" },
	  "invalid value for --access-keys: key 2: expected ID:SECRET" },
	{ { "--access-keys", "AKIAEXAMPLE0000001:has blank" },
	  "invalid value for --access-keys: key 1: the secret holds a blank or control character" },
	{ { "--access-keys", "AKIA-EXAMPLE-000001:x" },
	  "invalid value for --access-keys: key 1: the ID may hold letters, digits and '_' only" },
	{ { "--metrics-auth", "yes" }, "invalid value for --metrics-auth: expected on or off" },
	{ { "--tls-cert", "c.pem" }, "--tls-cert and --tls-key go together" },
	{ { "--wal-budget", "" }, "invalid value for --wal-budget: empty" },
	{ { "--wal-budget", "4T" },
	  "invalid value for --wal-budget: expected BYTES with K, M, G, KiB, MiB "
	  "or GiB" },
	{ { "--wal-budget", "G" },
	  "invalid value for --wal-budget: expected BYTES with K, M, G, KiB, MiB "
	  "or GiB" },
	{ { "--wal-budget", "-1" },
	  "invalid value for --wal-budget: expected BYTES with K, M, G, KiB, MiB "
	  "or GiB" },
	{ { "--wal-budget", "1.5G" },
	  "invalid value for --wal-budget: expected BYTES with K, M, G, KiB, MiB "
	  "or GiB" },
	{ { "--wal-budget", "1023K" },
	  "invalid value for --wal-budget: must be at least 1MiB" },
	{ { "--wal-budget", "0" },
	  "invalid value for --wal-budget: must be at least 1MiB" },
	{ { "--wal-budget", "18446744073709551616" },
	  "invalid value for --wal-budget: too large" },
	{ { "--wal-budget", "17179869184G" },
	  "invalid value for --wal-budget: too large" },
	{ { "--http-threads", "0" }, "invalid value for --http-threads: must be 1..256" },
	{ { "--http-threads", "257" },
	  "invalid value for --http-threads: must be 1..256" },
	{ { "--http-threads", "eight" },
	  "invalid value for --http-threads: must be 1..256" },
	{ { "--http-threads", " 8" },
	  "invalid value for --http-threads: must be 1..256" },
	{ { "--http-threads", "99999999999999999999" },
	  "invalid value for --http-threads: must be 1..256" },
	{ { "--delivery-threads", "65" },
	  "invalid value for --delivery-threads: must be 1..64" },
	{ { "--delivery-threads", "" },
	  "invalid value for --delivery-threads: must be 1..64" },
	{ { "--log-level", "trace" },
	  "invalid value for --log-level: expected debug, info, warn or error" },
	{ { "--log-level", "INFO" },
	  "invalid value for --log-level: expected debug, info, warn or error" },
	{ { "--config", "" }, "invalid value for --config: empty" },
	/* a bad value is an error even when a later one would be good */
	{ { "--http-threads", "0", "--http-threads", "4" },
	  "invalid value for --http-threads: must be 1..256" },
};

static void test_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++) {
		const struct invalid_case *t = &invalid_cases[i];
		struct fl_config c;
		struct fl_error err;
		enum fl_result rc = parse(&c, t->args, NULL, &err);

		if (rc != FL_INVALID)
			fail_msg("case %zu (%s %s): result %d", i, t->args[0],
				 t->args[1] ? t->args[1] : "", rc);
		if (err.code != FL_INVALID || strcmp(err.msg, t->want) != 0)
			fail_msg("case %zu (%s): message '%s', want '%s'", i,
				 t->args[0], err.msg, t->want);
	}
}

/* ---- the environment ------------------------------------------------- */

struct env_case {
	const char *env[MAX_ARGS];
	const char *field;     /* NULL: an error is expected */
	const char *want;      /* value, or the error message */
};

static const struct env_case env_cases[] = {
	{ { "FIRELAKE_LISTEN=[::1]:9000" }, "listen", "::1|9000" },
	{ { "FIRELAKE_DATA_DIR=/e" }, "data-dir", "/e" },
	{ { "FIRELAKE_DATA_DIR=/e" }, "storage", "file:///e/lake" },
	{ { "FIRELAKE_PG=postgres://db/x" }, "pg", "postgres://db/x" },
	{ { "FIRELAKE_PG=" }, "pg", "" },
	{ { "FIRELAKE_STORAGE=s3://lake/raw" }, "storage", "s3://lake/raw" },
	{ { "FIRELAKE_WAL_BUDGET=2GiB" }, "wal-budget", "2147483648" },
	{ { "FIRELAKE_HTTP_THREADS=16" }, "http-threads", "16" },
	{ { "FIRELAKE_DELIVERY_THREADS=4" }, "delivery-threads", "4" },
	{ { "FIRELAKE_LOG_LEVEL=debug" }, "log-level", "debug" },
	/* unknown FIRELAKE_* and other variables are ignored */
	{ { "FIRELAKE_BIN=/x/firelake", "FIRELAKE_SRC=/x", "PATH=/bin",
	    "FIRELAKE_LISTENX=bad", "FIRELAKE_listen=bad" },
	  "listen", "127.0.0.1|4599" },
	/* the last duplicate wins, as getenv would see after putenv */
	{ { "FIRELAKE_HTTP_THREADS=2", "FIRELAKE_HTTP_THREADS=3" },
	  "http-threads", "3" },
	{ { "FIRELAKE_LISTEN=nope" }, NULL,
	  "invalid value for FIRELAKE_LISTEN: missing port" },
	{ { "FIRELAKE_LISTEN=" }, NULL, "invalid value for FIRELAKE_LISTEN: empty" },
	{ { "FIRELAKE_STORAGE=ftp://x" }, NULL,
	  "invalid value for FIRELAKE_STORAGE: expected file://PATH, s3:// or "
	  "s3://BUCKET[/PREFIX]" },
	{ { "FIRELAKE_WAL_BUDGET=lots" }, NULL,
	  "invalid value for FIRELAKE_WAL_BUDGET: expected BYTES with K, M, G, "
	  "KiB, MiB or GiB" },
	{ { "FIRELAKE_HTTP_THREADS=0" }, NULL,
	  "invalid value for FIRELAKE_HTTP_THREADS: must be 1..256" },
	{ { "FIRELAKE_DELIVERY_THREADS=100" }, NULL,
	  "invalid value for FIRELAKE_DELIVERY_THREADS: must be 1..64" },
	{ { "FIRELAKE_LOG_LEVEL=loud" }, NULL,
	  "invalid value for FIRELAKE_LOG_LEVEL: expected debug, info, warn or "
	  "error" },
	{ { "FIRELAKE_CONFIG=" }, NULL, "invalid value for FIRELAKE_CONFIG: empty" },
	{ { "FIRELAKE_CONFIG=/nonexistent/firelake.conf" }, NULL,
	  "cannot open config file /nonexistent/firelake.conf: No such file or "
	  "directory" },
};

static void test_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof env_cases / sizeof env_cases[0]; i++) {
		const struct env_case *t = &env_cases[i];
		const char *args[] = { NULL };
		struct fl_config c;
		struct fl_error err;
		enum fl_result rc = parse(&c, args, t->env, &err);
		char got[16384];

		if (!t->field) {
			if (rc != FL_INVALID || strcmp(err.msg, t->want) != 0)
				fail_msg("case %zu (%s): %d '%s', want '%s'", i,
					 t->env[0], rc, err.msg, t->want);
			continue;
		}
		if (rc != FL_OK)
			fail_msg("case %zu (%s): %s", i, t->env[0], err.msg);
		show(&c, t->field, got, sizeof got);
		if (strcmp(got, t->want) != 0)
			fail_msg("case %zu (%s): %s is '%s', want '%s'", i,
				 t->env[0], t->field, got, t->want);
	}
}

/* ---- the config file ------------------------------------------------- */

struct file_case {
	const char *text;
	const char *field;     /* NULL: an error is expected */
	const char *want;      /* value, or the message after "<path>:" */
};

static const struct file_case file_cases[] = {
	{ "listen = 10.0.0.1:80\n", "listen", "10.0.0.1|80" },
	{ "# comment\n\n   \n  # indented comment\nlisten=[::1]:81\n", "listen",
	  "::1|81" },
	{ "data-dir = /f\n", "data-dir", "/f" },
	{ "data_dir = /f\n", "storage", "file:///f/lake" },
	{ "pg = postgres://u@h/db?sslmode=disable\n", "pg",
	  "postgres://u@h/db?sslmode=disable" },
	{ "pg = host=/tmp dbname=x\n", "pg", "host=/tmp dbname=x" },
	{ "pg =\n", "pg", "" },
	{ "storage = s3://lake/p\n", "storage", "s3://lake/p" },
	{ "wal_budget = 512MiB\r\n", "wal-budget", "536870912" },
	{ "http-threads\t=\t12\n", "http-threads", "12" },
	{ "delivery-threads = 3", "delivery-threads", "3" }, /* no newline */
	{ "log-level = warn\nlog-level = error\n", "log-level", "error" },
	/* errors: the message after "<path>:" */
	{ "listen\n", NULL, "1: expected `name = value`" },
	{ "# ok\nlisten = 127.0.0.1:1\n= 5\n", NULL,
	  "3: expected `name = value`" },
	{ "\n\nbogus = 1\n", NULL, "3: unknown option bogus" },
	{ "listen = 127.0.0.1:99999\n", NULL,
	  "1: invalid value for listen: port must be 1..65535" },
	{ "http-threads = 8  # inline comments are not comments\n", NULL,
	  "1: invalid value for http-threads: must be 1..256" },
	{ "log-level = info\nlog-level =\n", NULL,
	  "2: invalid value for log-level: expected debug, info, warn or error" },
	{ "storage = nfs://x\n", NULL,
	  "1: invalid value for storage: expected file://PATH, s3:// or "
	  "s3://BUCKET[/PREFIX]" },
	{ "config = /other.conf\n", NULL,
	  "1: config cannot be set in a config file" },
};

static void test_file(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof file_cases / sizeof file_cases[0]; i++) {
		const struct file_case *t = &file_cases[i];
		const char *path = write_file(t->text);
		const char *args[] = { "--config", path, NULL };
		struct fl_config c;
		struct fl_error err;
		enum fl_result rc = parse(&c, args, NULL, &err);
		char got[16384], want[512];

		if (!t->field) {
			snprintf(want, sizeof want, "%s:%s", path, t->want);
			if (rc != FL_INVALID || strcmp(err.msg, want) != 0)
				fail_msg("case %zu: %d '%s', want '%s'", i, rc,
					 err.msg, want);
		} else {
			if (rc != FL_OK)
				fail_msg("case %zu: %s", i, err.msg);
			show(&c, t->field, got, sizeof got);
			if (strcmp(got, t->want) != 0)
				fail_msg("case %zu: %s is '%s', want '%s'", i,
					 t->field, got, t->want);
			assert_string_equal(c.config_file, path);
		}
		unlink(path);
	}
}

static void test_file_line_too_long(void **state)
{
	size_t n = 10000;
	char *text = malloc(n + 32);
	const char *path;
	struct fl_config c;
	struct fl_error err;
	char want[128];

	(void)state;
	assert_non_null(text);
	strcpy(text, "log-level = info\npg = ");
	memset(text + strlen(text), 'x', n);
	text[22 + n] = '\0';
	strcat(text, "\n");
	path = write_file(text);
	free(text);
	{
		const char *args[] = { "--config", path, NULL };

		assert_int_equal(parse(&c, args, NULL, &err), FL_INVALID);
	}
	snprintf(want, sizeof want, "%s:2: line too long", path);
	assert_string_equal(err.msg, want);
	unlink(path);
}

/* ---- precedence ------------------------------------------------------- */

/* Who may reach the listener without keys: loopback, or when told. */
static void test_exposure(void **state)
{
	static const struct {
		const char *args[MAX_ARGS];
		bool ok;
	} cases[] = {
		{ { NULL }, true },                                  /* 127.0.0.1 */
		{ { "--listen", "127.8.9.10:80" }, true },
		{ { "--listen", "[::1]:80" }, true },
		{ { "--listen", "localhost:80" }, true },
		{ { "--listen", "0.0.0.0:80" }, false },
		{ { "--listen", "[::]:80" }, false },
		{ { "--listen", "lake-1.internal:80" }, false },
		{ { "--listen", "128.0.0.1:80" }, false },
		{ { "--listen", "0.0.0.0:80", "--allow-anonymous" }, true },
		{ { "--listen", "0.0.0.0:80", "--access-keys", "AKIAEXAMPLE0000001:x" }, true },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_config c;
		struct fl_error err = { 0 };
		const char *env[] = { NULL };
		assert_int_equal(parse(&c, cases[i].args, env, &err), FL_OK);
		enum fl_result r = fl_config_check_exposure(&c, &err);
		if ((r == FL_OK) != cases[i].ok)
			fail_msg("case %zu: %s", i, err.msg);
		if (r != FL_OK) {
			assert_non_null(strstr(err.msg, "refusing to listen on"));
			assert_non_null(strstr(err.msg, "--allow-anonymous"));
		}
	}
	/* The secret never shows in a refusal. */
	struct fl_config c;
	struct fl_error err = { 0 };
	const char *args[] = { "--access-keys", "AKIAEXAMPLE0000001:topsecret,bad", NULL };
	const char *env[] = { NULL };
	assert_int_equal(parse(&c, args, env, &err), FL_INVALID);
	assert_null(strstr(err.msg, "topsecret"));
}

static void test_precedence(void **state)
{
	const char *path = write_file("listen = 127.0.0.1:1001\n"
				      "log-level = debug\n"
				      "data-dir = /from-file\n");
	char cfg_env[128];
	struct fl_config c;
	struct fl_error err;

	(void)state;
	snprintf(cfg_env, sizeof cfg_env, "FIRELAKE_CONFIG=%s", path);

	/* file only */
	{
		const char *args[] = { NULL };
		const char *env[] = { cfg_env, NULL };

		assert_int_equal(parse(&c, args, env, &err), FL_OK);
		assert_int_equal(c.listen_port, 1001);
		assert_string_equal(c.log_level, "debug");
		assert_string_equal(c.storage, "file:///from-file/lake");
		assert_string_equal(c.config_file, path);
	}
	/* env over file */
	{
		const char *args[] = { NULL };
		const char *env[] = { "FIRELAKE_LISTEN=127.0.0.1:1002", cfg_env,
				      "FIRELAKE_DATA_DIR=/from-env", NULL };

		assert_int_equal(parse(&c, args, env, &err), FL_OK);
		assert_int_equal(c.listen_port, 1002);
		assert_string_equal(c.log_level, "debug");
		assert_string_equal(c.storage, "file:///from-env/lake");
	}
	/* argv over env over file */
	{
		const char *args[] = { "--listen", "127.0.0.1:1003",
				       "--data-dir=/from-argv", NULL };
		const char *env[] = { "FIRELAKE_LISTEN=127.0.0.1:1002", cfg_env,
				      "FIRELAKE_DATA_DIR=/from-env", NULL };

		assert_int_equal(parse(&c, args, env, &err), FL_OK);
		assert_int_equal(c.listen_port, 1003);
		assert_string_equal(c.log_level, "debug");
		assert_string_equal(c.data_dir, "/from-argv");
		assert_string_equal(c.storage, "file:///from-argv/lake");
	}
	unlink(path);

	/* storage set in the file survives a data dir from argv */
	path = write_file("storage = file:///fixed\n");
	{
		const char *args[] = { "--config", path, "--data-dir", "/d",
				       NULL };

		assert_int_equal(parse(&c, args, NULL, &err), FL_OK);
		assert_string_equal(c.data_dir, "/d");
		assert_string_equal(c.storage, "file:///fixed");
	}
	unlink(path);
}

static void test_config_flag_over_env(void **state)
{
	char a[64], cfg_env[128];
	const char *b;
	struct fl_config c;
	struct fl_error err;

	(void)state;
	snprintf(a, sizeof a, "%s", write_file("http-threads = 11\n"));
	b = write_file("http-threads = 22\n");
	snprintf(cfg_env, sizeof cfg_env, "FIRELAKE_CONFIG=%s", a);
	{
		/* --config may come after other options; it still picks the
		 * file before anything is applied. */
		const char *args[] = { "--log-level", "warn", "--config", b, NULL };
		const char *env[] = { cfg_env, NULL };

		assert_int_equal(parse(&c, args, env, &err), FL_OK);
		assert_int_equal(c.http_threads, 22);
		assert_string_equal(c.config_file, b);
	}
	{
		const char *args[] = { "--config=/nonexistent.conf", NULL };
		const char *env[] = { cfg_env, NULL };

		assert_int_equal(parse(&c, args, env, &err), FL_INVALID);
		assert_string_equal(err.msg, "cannot open config file "
				    "/nonexistent.conf: No such file or directory");
	}
	unlink(a);
	unlink(b);
}

/* An error in a weaker source is reported even when a stronger one sets
 * the same option. */
static void test_bad_file_value_not_hidden(void **state)
{
	const char *path = write_file("http-threads = 0\n");
	const char *args[] = { "--config", path, "--http-threads", "4", NULL };
	struct fl_config c;
	struct fl_error err;
	char want[128];

	(void)state;
	assert_int_equal(parse(&c, args, NULL, &err), FL_INVALID);
	snprintf(want, sizeof want,
		 "%s:1: invalid value for http-threads: must be 1..256", path);
	assert_string_equal(err.msg, want);
	unlink(path);
}

/* Unknown options are reported before a config file is even opened. */
static void test_unknown_before_file(void **state)
{
	const char *args[] = { "--config", "/nonexistent.conf", "--nope", NULL };
	struct fl_config c;
	struct fl_error err;

	(void)state;
	assert_int_equal(parse(&c, args, NULL, &err), FL_INVALID);
	assert_string_equal(err.msg, "unknown option --nope");
}

static void test_data_dir_too_long_for_storage(void **state)
{
	static char dir[5000], arg[5100];
	const char *args[] = { arg, NULL };
	struct fl_config c;
	struct fl_error err;

	(void)state;
	/* fits data_dir, but not file://<dir>/lake */
	memset(dir, 'd', 4090);
	dir[0] = '/';
	dir[4090] = '\0';
	snprintf(arg, sizeof arg, "--data-dir=%s", dir);
	assert_int_equal(parse(&c, args, NULL, &err), FL_INVALID);
	assert_string_equal(err.msg, "invalid value for --data-dir: too long "
			    "to derive --storage");

	/* ... unless storage is given */
	{
		const char *args2[] = { arg, "--storage", "s3://b", NULL };

		assert_int_equal(parse(&c, args2, NULL, &err), FL_OK);
	}

	/* does not fit data_dir */
	memset(dir, 'd', 4096);
	dir[0] = '/';
	dir[4096] = '\0';
	snprintf(arg, sizeof arg, "--data-dir=%s", dir);
	assert_int_equal(parse(&c, args, NULL, &err), FL_INVALID);
	assert_string_equal(err.msg,
			    "invalid value for --data-dir: longer than 4095 bytes");
}

/* ---- usage ------------------------------------------------------------ */

static void test_usage(void **state)
{
	static const char *const must[] = {
		"--listen HOST:PORT", "FIRELAKE_LISTEN", "127.0.0.1:4599",
		"--data-dir DIR", "FIRELAKE_DATA_DIR", "./var",
		"--pg URL", "FIRELAKE_PG",
		"--storage URL", "FIRELAKE_STORAGE", "file://<data-dir>/lake",
		"--config FILE", "FIRELAKE_CONFIG",
		"--wal-budget SIZE", "FIRELAKE_WAL_BUDGET", "4GiB",
		"--http-threads N", "FIRELAKE_HTTP_THREADS",
		"--delivery-threads N", "FIRELAKE_DELIVERY_THREADS",
		"--log-level LEVEL", "FIRELAKE_LOG_LEVEL",
	};
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, i;
	int column = -1;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	fl_config_usage(f);
	assert_int_equal(fclose(f), 0);
	for (i = 0; i < sizeof must / sizeof must[0]; i++)
		if (!strstr(text, must[i]))
			fail_msg("usage lacks %s:\n%s", must[i], text);
	/* Descriptions start in one column. */
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *p;
		int col;

		if (strncmp(line, "  --", 4) != 0)
			continue;
		p = strstr(line + 4, "  ");
		assert_non_null(p);
		while (*p == ' ')
			p++;
		col = (int)(p - line);
		if (column < 0)
			column = col;
		assert_int_equal(col, column);
	}
	assert_true(column > 0);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_line_too_long),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_config_flag_over_env),
		cmocka_unit_test(test_bad_file_value_not_hidden),
		cmocka_unit_test(test_unknown_before_file),
		cmocka_unit_test(test_data_dir_too_long_for_storage),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_exposure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
