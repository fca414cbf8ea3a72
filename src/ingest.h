/*
 * ingest.h - PutRecord and PutRecordBatch: from request bytes to durable
 * WAL records, acknowledged only once they are on disk.
 */
#ifndef FL_INGEST_H
#define FL_INGEST_H

#include "http.h"

#define FL_INGEST_MAX_RECORDS 500
#define FL_INGEST_MAX_RECORD_BYTES 1024000u
#define FL_INGEST_MAX_BATCH_BYTES (4u << 20)
/* A gzip-compressed record may expand to at most this much. */
#define FL_INGEST_MAX_INFLATED (16u << 20)

enum fl_result fl_ingest_put_record(struct fl_req *req, struct fl_error *err) FL_MUST_USE;
enum fl_result fl_ingest_put_record_batch(struct fl_req *req, struct fl_error *err) FL_MUST_USE;

#endif
