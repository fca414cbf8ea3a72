/*
 * fsdir.h - durable directories (see fsdir.c).
 */
#ifndef FL_FSDIR_H
#define FL_FSDIR_H

#include <stddef.h>
#include <sys/types.h>

/* fsyncs the directory at path; -1 with errno on failure. */
int fl_fsync_path(const char *dir);

/* mkdir -p of the components of path past its first skip bytes (a
 * directory known to exist; 0 for all), with mode, fsyncing the parent of
 * every directory it creates.  -1 with errno (ENOTDIR when a component is
 * not a directory). */
int fl_mkdir_durable(const char *path, size_t skip, mode_t mode);

#endif
