/*
 * stream.h - delivery streams: their configuration and the live registry.
 *
 * A stream's configuration is an immutable struct fl_stream_conf, built
 * from a CreateDeliveryStream request (stream_conf.c), stored in the
 * catalog as the normalised description JSON, and replaced whole by
 * UpdateDestination (readers hold a reference, so a swap never pulls the
 * rug from an ingest thread).  The live struct fl_stream owns the WAL and
 * the metrics, which outlive configuration changes.
 */
#ifndef FL_STREAM_H
#define FL_STREAM_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "prefix.h"
#include "result.h"

struct fl_db;
struct fl_wal;
struct fl_partition_query;
struct fl_stream_metrics;

#define FL_STREAM_NAME_MAX 64
#define FL_ACCOUNT_ID "000000000000"
#define FL_REGION_DEFAULT "us-east-1"

struct fl_stream_conf {
	_Atomic int refs;
	int version;                    /* VersionId: 1, then +1 per update */
	char bucket[256];               /* from BucketARN arn:aws:s3:::B */
	bool gzip;                      /* CompressionFormat GZIP (else UNCOMPRESSED) */
	uint64_t size_bytes;            /* BufferingHints.SizeInMBs * MiB */
	uint32_t interval_s;            /* BufferingHints.IntervalInSeconds */
	char file_extension[129];       /* FileExtension; "" = default (.gz for GZIP) */
	struct fl_prefix *prefix;       /* Prefix (default YYYY/MM/dd/HH/ appended) */
	struct fl_prefix *error_prefix; /* ErrorOutputPrefix */
	/* Dynamic partitioning: NULL when disabled.  key_names are the
	 * prefix's partitionKeyFromQuery names, borrowed from prefix. */
	struct fl_partition_query *query;
	size_t nkeys;
	const char *key_names[FL_PREFIX_MAX_KEYS];
	/* The "ExtendedS3DestinationDescription" object as Describe answers
	 * it, defaults filled in (owned). */
	json_t *destination;
};

/* Builds a configuration from the ExtendedS3DestinationConfiguration (or
 * S3DestinationConfiguration, is_extended false) of a create request.
 * Validates as Firehose does: FL_VALIDATION for shape constraints (a
 * ValidationException), FL_INVALID for semantic errors (an
 * InvalidArgumentException), with AWS's wording where known.  Fills the
 * defaults that Describe echoes.  Caller owns *out (refs = 1). */
enum fl_result fl_stream_conf_new(const json_t *dest, bool is_extended, int version,
				  struct fl_stream_conf **out,
				  struct fl_error *err) FL_MUST_USE;
/* Applies an ExtendedS3DestinationUpdate (or S3DestinationUpdate) to
 * base: members present in update replace those of base.  version is the
 * new VersionId.  Caller owns *out. */
enum fl_result fl_stream_conf_update(const struct fl_stream_conf *base,
				     const json_t *update, bool is_extended,
				     int version, struct fl_stream_conf **out,
				     struct fl_error *err) FL_MUST_USE;
/* Rebuilds a configuration from its stored destination description. */
enum fl_result fl_stream_conf_load(const json_t *destination, int version,
				   struct fl_stream_conf **out,
				   struct fl_error *err) FL_MUST_USE;
struct fl_stream_conf *fl_stream_conf_ref(struct fl_stream_conf *c);
void fl_stream_conf_unref(struct fl_stream_conf *c);

/* The ARN of stream name in region (FL_ACCOUNT_ID's). */
void fl_stream_arn(const char *region, const char *name, char *out, size_t n);

/* Validates a delivery stream name: 1-64 of [a-zA-Z0-9_.-]. */
bool fl_stream_name_valid(const char *name);

enum fl_stream_status { FL_STREAM_ACTIVE, FL_STREAM_DELETING };

struct fl_stream {
	_Atomic int refs;
	char name[FL_STREAM_NAME_MAX + 1];
	char arn[256];
	int64_t created_ms;
	struct fl_wal *wal;                 /* owned; thread-safe itself */
	struct fl_stream_metrics *metrics;  /* borrowed from the metrics registry */
	_Atomic int status;                 /* enum fl_stream_status */
	pthread_mutex_t lock;               /* protects conf, updated_ms, tags */
	struct fl_stream_conf *conf;
	int64_t updated_ms;
	json_t *tags;                       /* array of {Key, Value} */
};

struct fl_stream_conf *fl_stream_conf_get(struct fl_stream *s); /* caller unrefs */
struct fl_stream *fl_stream_ref(struct fl_stream *s);
void fl_stream_unref(struct fl_stream *s);

#endif

/* The registry of live streams.  The catalog is the source of truth; the
 * registry caches it and loads a stream it does not know yet on demand
 * (another node may have created it). */
struct fl_server;
struct fl_streams;

enum fl_result fl_streams_new(struct fl_server *srv, struct fl_streams **out,
			      struct fl_error *err) FL_MUST_USE;
void fl_streams_free(struct fl_streams *reg);
/* Loads every stream of the catalog; creates the default stream "events"
 * when the catalog has none. */
enum fl_result fl_streams_load(struct fl_streams *reg, struct fl_error *err) FL_MUST_USE;
/* A referenced stream (caller unrefs), or NULL with FL_NOT_FOUND. */
struct fl_stream *fl_streams_get(struct fl_streams *reg, const char *name);
/* Creates a stream: catalog row, WAL, registry entry. */
enum fl_result fl_streams_create(struct fl_streams *reg, const char *name,
				 struct fl_stream_conf *conf, bool plain_s3,
				 const json_t *tags, struct fl_error *err) FL_MUST_USE;
/* Replaces the configuration if version matches (else FL_CONFLICT). */
enum fl_result fl_streams_update(struct fl_streams *reg, struct fl_stream *s,
				 struct fl_stream_conf *conf, struct fl_error *err) FL_MUST_USE;
/* Marks the stream DELETING; delivery drains it and then it is dropped. */
enum fl_result fl_streams_delete(struct fl_streams *reg, struct fl_stream *s,
				 struct fl_error *err) FL_MUST_USE;
/* Drops a drained DELETING stream: catalog row, WAL directory, registry. */
enum fl_result fl_streams_drop(struct fl_streams *reg, struct fl_stream *s,
			       struct fl_error *err) FL_MUST_USE;
/* Saves the tags of s (after the caller changed s->tags under s->lock). */
enum fl_result fl_streams_save_tags(struct fl_streams *reg, struct fl_stream *s,
				    struct fl_error *err) FL_MUST_USE;
/* Calls fn for each live stream (referenced for the call). */
void fl_streams_each(struct fl_streams *reg, void (*fn)(void *arg, struct fl_stream *s),
		     void *arg);
