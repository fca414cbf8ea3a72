/*
 * config.h - firelake's options.
 *
 * Each option comes, weakest first, from its default, the config file
 * (--config FILE or FIRELAKE_CONFIG: `name = value` lines, '#' comments),
 * the environment (FIRELAKE_<NAME>, upper case, '-' as '_'), then the
 * command line (--name VALUE or --name=VALUE).  Unknown or invalid options
 * are errors with a message that names them.
 */
#ifndef FL_CONFIG_H
#define FL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "result.h"

struct fl_config {
	char listen_host[256];      /* --listen HOST:PORT, default 127.0.0.1:4599 */
	int listen_port;
	char data_dir[4096];        /* --data-dir, default ./var */
	char pg[4096];              /* --pg URL; empty: embedded */
	char storage[4096];         /* --storage URL, default file://<data-dir>/lake */
	char config_file[4096];     /* --config FILE */
	uint64_t wal_budget_bytes;  /* --wal-budget BYTES[K|M|G], default 4G */
	int http_threads;           /* --http-threads N, default 8 */
	int delivery_threads;       /* --delivery-threads N, default 2 */
	char log_level[16];         /* --log-level debug|info|warn|error */
	int query_threads;          /* --query-threads N, default 2 */
	uint64_t stage_budget_bytes; /* --stage-budget BYTES[K|M|G], default 8G */
	bool schema_inference;      /* --schema-inference on|off, default on */
	bool eager_staging;         /* --eager-staging on|off, default on */
	/* S3 storage (storage_s3.c) */
	char s3_endpoint[1024];     /* --s3-endpoint URL; empty: AWS's for the region */
	char s3_region[64];         /* --s3-region; empty: AWS_REGION, AWS_DEFAULT_REGION, us-east-1 */
	bool s3_virtual_hosted;     /* --s3-addressing path|virtual, default path */
	uint64_t s3_part_size;      /* --s3-part-size SIZE, default 8MiB, at least 5MiB */
	/* Authentication (auth.c) and HTTPS */
	char access_keys[8192];     /* --access-keys ID:SECRET[,ID:SECRET...]; empty: none */
	bool allow_anonymous;       /* --allow-anonymous: no keys on a non-loopback listener */
	bool metrics_auth;          /* --metrics-auth on|off: /metrics needs a signature */
	char tls_cert[4096];        /* --tls-cert FILE (PEM); with --tls-key: HTTPS */
	char tls_key[4096];         /* --tls-key FILE (PEM) */
};

/* Parses argv (after the "serve" word) with env (NULL-terminated
 * "NAME=value" list, e.g. environ) into *cfg.  FL_INVALID with a message
 * naming the option for anything unknown or malformed. */
enum fl_result fl_config_parse(struct fl_config *cfg, int argc, char **argv,
			       char **env, struct fl_error *err) FL_MUST_USE;

/* Whether the listener may be reached without credentials: FL_OK when
 * access keys are configured, the listen host is a loopback address
 * (127.0.0.0/8, ::1, localhost), or allow_anonymous is set; FL_INVALID
 * with a message saying why and what to do otherwise. */
enum fl_result fl_config_check_exposure(const struct fl_config *cfg,
					struct fl_error *err) FL_MUST_USE;

/* Writes the option list (for --help) to f. */
#include <stdio.h>
void fl_config_usage(FILE *f);

#endif
