/*
 * delivery.h - the batcher and the delivery workers.
 *
 * The batcher seals a stream's open WAL segment when it reaches the
 * stream's buffer size or age (BufferingHints) and queues it; a worker
 * turns a sealed segment into one object per destination, stores them,
 * records them in the catalog and only then removes the segment.
 */
#ifndef FL_DELIVERY_H
#define FL_DELIVERY_H

#include <stdint.h>

#include "result.h"

struct fl_server;
struct fl_delivery;

/* Queues every segment already on disk (recovery) and starts the batcher
 * and nworkers workers.  Caller owns *out. */
enum fl_result fl_delivery_start(struct fl_server *srv, int nworkers,
				 struct fl_delivery **out, struct fl_error *err) FL_MUST_USE;
/* Seals everything, delivers what can be delivered within deadline_ms,
 * stops the threads and frees.  Undelivered segments stay in the WAL. */
void fl_delivery_stop(struct fl_delivery *d, int64_t deadline_ms);

#endif
