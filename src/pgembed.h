/*
 * pgembed.h - the private PostgreSQL cluster of the embedded default.
 *
 * Without --pg, firelake runs its own cluster under <data-dir>/pg:
 * initdb on first start, then postgres listening on a unix socket only
 * (listen_addresses = ''), stopped on exit.  PostgreSQL refuses to run as
 * root; as root the cluster runs as an unprivileged user ("postgres" when
 * it exists, else "nobody").
 */
#ifndef FL_PGEMBED_H
#define FL_PGEMBED_H

#include <stddef.h>

#include "result.h"

struct fl_pgembed;

/* Initialises (if needed) and starts the cluster in dir; waits until it
 * accepts connections and the database "firelake" exists.  conninfo
 * receives a libpq connection string for it.  Caller owns *out. */
enum fl_result fl_pgembed_start(const char *dir, struct fl_pgembed **out,
				char *conninfo, size_t conninfo_len,
				struct fl_error *err) FL_MUST_USE;
/* Stops the cluster (fast shutdown) and frees; NULL is fine. */
void fl_pgembed_stop(struct fl_pgembed *pg);

#endif
