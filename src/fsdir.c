/*
 * fsdir.c - durable directories: fsync of a path, and mkdir -p that
 * fsyncs the parent of every directory it creates, so a new entry
 * survives a crash once the call returns.  Used by the WAL and the local
 * storage backend.
 */
#include "fsdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fl_fsync_path(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r;
	do
		r = fsync(fd);
	while (r < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

int fl_mkdir_durable(const char *path, size_t skip, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (size_t i = skip + 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		if (tmp[i - 1] == '/')
			continue;
		char save = tmp[i];
		tmp[i] = '\0';
		if (mkdir(tmp, mode) == 0) {
			char *slash = strrchr(tmp, '/');
			int r;
			if (!slash) {
				r = fl_fsync_path(".");
			} else if (slash == tmp) {
				r = fl_fsync_path("/");
			} else {
				*slash = '\0';
				r = fl_fsync_path(tmp);
				*slash = '/';
			}
			if (r < 0)
				return -1;
		} else if (errno != EEXIST) {
			return -1;
		}
		tmp[i] = save;
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}
