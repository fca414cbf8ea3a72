/*
 * pgembed.c - the private PostgreSQL cluster of the embedded default.
 *
 * DESIGN
 *
 * Layout of the cluster directory <dir> (normally <data-dir>/pg):
 *
 *   <dir>/firelake.lock   flock()ed by the firelake that owns the cluster
 *   <dir>/data/           PGDATA (created by initdb as data.init, renamed)
 *   <dir>/data/firelake.conf   our settings, rewritten at every start and
 *                         included from postgresql.conf
 *   <dir>/run/            unix socket directory (when the path is short)
 *   <dir>/log/initdb.log, <dir>/log/postgres.log
 *
 * First start runs initdb into <dir>/data.init and renames it to <dir>/data
 * once it succeeded, so a firelake killed during initdb leaves no half
 * cluster behind: the next start wipes data.init and runs initdb again.
 * The superuser is "firelake", local (unix socket) connections are trusted,
 * TCP is rejected and not even listened on (listen_addresses = '').  The
 * socket directory is mode 0700 and owned by the user postgres runs as, so
 * only that user and root can connect.  Checksums are on.
 *
 * Socket directory.  A unix socket path is limited to 107 bytes, and the
 * socket is <sockdir>/.s.PGSQL.5432.  <dir>/run is used when it fits, else
 * a fresh mkdtemp("/tmp/firelake-pg-XXXXXX") owned by the run user, which
 * stop removes again.
 *
 * The postmaster is started by fork + exec of postgres itself (no pg_ctl,
 * so no shell and no quoting of paths), in its own session, with a minimal
 * environment (PATH and HOME only: PGDATA, PGHOST, PGPORT, PGOPTIONS ... of
 * the caller never reach it), no inherited descriptors beyond stdin
 * (/dev/null) and stdout/stderr (the log), default signal dispositions and
 * an empty signal mask.  Start waits until PQping answers (60 s without any
 * answer; a server that answers "starting up" -- crash recovery -- is
 * waited for up to 10 minutes).  Stop sends SIGINT (fast shutdown) and
 * waits until the postmaster is gone; after 60 s it escalates to SIGQUIT
 * (immediate shutdown, recovered at the next start).  A clean stop never
 * leaves a postgres process behind.
 *
 * A firelake that was killed (-9) leaves its postmaster running.  The next
 * start takes <dir>/firelake.lock (a live firelake holds it, so a second
 * firelake on the same directory is refused with FL_IN_USE), finds
 * data/postmaster.pid naming a live process, waits until it answers on the
 * socket recorded in that file, checks with SQL that it serves this very
 * data directory, and then REUSES it: no restart, no lost connections, and
 * stop shuts it down as if we had started it.  A postmaster.pid whose
 * process is dead (the postmaster was killed too, or the machine rebooted)
 * is left to postgres, which replaces a stale lock file by itself; if the
 * pid was recycled by an unrelated process (not "postgres" in /proc), the
 * stale file is removed first, since postgres would refuse to start.  If
 * backends of a killed postmaster still hold its shared memory for a
 * moment, the start is retried a few times.
 *
 * Root.  PostgreSQL refuses to run as root.  When geteuid() == 0, initdb
 * and postgres run as "postgres" (when getpwnam finds it) else "nobody":
 * the child drops supplementary groups, then setgid, then setuid, before
 * exec.  The whole cluster directory is chown -R'ed to that user at every
 * (non-reusing) start.  That user must be able to traverse every ancestor
 * of <dir>; when an ancestor denies it search permission (a 0700
 * root-owned temp dir, /root ...), start adds the search bit for the class
 * the user falls in (o+x in practice; never read), and logs one info line
 * per directory so changed.  Not running as root, everything runs as the
 * current user and nothing outside <dir> is touched.
 */
#include "pgembed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libpq-fe.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define FL_PGEMBED_PORT "5432"
#define FL_PGEMBED_USER "firelake"
#define FL_PGEMBED_DB "firelake"
#define FL_PGEMBED_START_TIMEOUT_MS 60000
#define FL_PGEMBED_RECOVERY_TIMEOUT_MS 600000
#define FL_PGEMBED_STOP_TIMEOUT_MS 60000
#define FL_PGEMBED_KILL_TIMEOUT_MS 10000
#define FL_PGEMBED_START_ATTEMPTS 5
#define FL_PGEMBED_LOG_ROTATE_BYTES (64L * 1024 * 1024)
#define FL_PGEMBED_TMP_SOCKDIR "/tmp/firelake-pg-"

struct fl_pgembed {
	char dir[PATH_MAX];      /* cluster root, absolute, no symlinks */
	char data[PATH_MAX];     /* <dir>/data: PGDATA */
	char log_path[PATH_MAX]; /* <dir>/log/postgres.log */
	char bindir[PATH_MAX];   /* holds initdb and postgres */
	int major;               /* of bindir; 0 when unknown */
	char sockdir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool sockdir_tmp;        /* a mkdtemp dir of ours: removed at stop */
	pid_t pid;               /* postmaster; 0 when none */
	bool child;              /* pid is our child (reap with waitpid) */
	bool drop;               /* we are root: children run as uid/gid */
	uid_t uid;
	gid_t gid;
	char user[64];
	int lock_fd;             /* <dir>/firelake.lock, flock()ed */
};

/* ---- small helpers ------------------------------------------------------ */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* snprintf into a PATH_MAX buffer; false when the path does not fit. */
static bool path_fmt(char *out, size_t n, const char *a, const char *b)
{
	int r = snprintf(out, n, "%s/%s", a, b);
	return r > 0 && (size_t)r < n;
}

static bool is_exec(const char *dir, const char *name)
{
	char p[PATH_MAX];
	return path_fmt(p, sizeof p, dir, name) && access(p, X_OK) == 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The last non-empty line of a text file (for error messages), or "". */
static void file_last_line(const char *path, char *out, size_t n)
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char tail[1024];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof tail - 1 ? size - (off_t)sizeof tail + 1 : 0;
	ssize_t got = pread(fd, tail, sizeof tail - 1, from);
	close(fd);
	if (got <= 0)
		return;
	tail[got] = '\0';
	char *end = tail + got;
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	char *start = end;
	while (start > tail && start[-1] != '\n')
		start--;
	size_t len = (size_t)(end - start);
	if (len >= n)
		len = n - 1;
	memcpy(out, start, len);
	out[len] = '\0';
}

static enum fl_result fsync_dir(const char *dir, struct fl_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fl_error_set(err, FL_IO, "cannot fsync %s: %s", dir, strerror(e));
	}
	close(fd);
	return FL_OK;
}

/* Writes path as tmp + fsync + rename + fsync of the directory; the file
 * is owned by the run user. */
static enum fl_result write_file_durable(struct fl_pgembed *pg, const char *dir,
					 const char *name, const char *text,
					 struct fl_error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	enum fl_result r = FL_IO;
	int fd = -1;
	size_t len = strlen(text), off = 0;

	if (!path_fmt(path, sizeof path, dir, name)) {
		r = fl_error_set(err, FL_INVALID, "path too long: %s", dir);
		goto out;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fl_error_set(err, FL_IO, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			fl_error_set(err, FL_IO, "cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (pg->drop && fchown(fd, pg->uid, pg->gid) < 0) {
		fl_error_set(err, FL_IO, "cannot chown %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fsync(fd) < 0) {
		fl_error_set(err, FL_IO, "cannot fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	int c = close(fd);
	fd = -1;
	if (c < 0) {
		fl_error_set(err, FL_IO, "cannot close %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		fl_error_set(err, FL_IO, "cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	r = fsync_dir(dir, err);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* mkdir -p, mode for the directories created. */
static enum fl_result mkdir_p(const char *path, mode_t mode, struct fl_error *err)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
		return fl_error_set(err, FL_INVALID, "path too long: %s", path);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return fl_error_set(err, FL_IO, "cannot create directory %s: %s",
					    p, strerror(errno));
		*s = c;
		if (c == '\0')
			break;
	}
	return FL_OK;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	if (remove(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

static enum fl_result rm_rf(const char *path, struct fl_error *err)
{
	if (!exists(path))
		return FL_OK;
	if (nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS) != 0)
		return fl_error_set(err, FL_IO, "cannot remove %s: %s", path, strerror(errno));
	return FL_OK;
}

/* chown -R to the run user.  nftw has no user pointer: the owner travels
 * in thread-local storage for the duration of the walk. */
static __thread uid_t chown_uid;
static __thread gid_t chown_gid;

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)flag; (void)f;
	if (st->st_uid == chown_uid && st->st_gid == chown_gid)
		return 0;
	if (lchown(path, chown_uid, chown_gid) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

static enum fl_result chown_r(struct fl_pgembed *pg, struct fl_error *err)
{
	chown_uid = pg->uid;
	chown_gid = pg->gid;
	if (nftw(pg->dir, chown_entry, 32, FTW_PHYS) != 0)
		return fl_error_set(err, FL_IO, "cannot chown %s to %s: %s", pg->dir,
				    pg->user, strerror(errno));
	return FL_OK;
}

/* ---- binaries ----------------------------------------------------------- */

/* "15" -> 15, "9.6" -> 9; 0 when not a version. */
static int parse_major(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v <= 0 || v > 1000 || (*end != '\0' && *end != '.'))
		return 0;
	return (int)v;
}

/* Scans base/<prefix><version><suffix> for the best bindir: the one of
 * version want when want > 0, else the highest. */
static void scan_versions(const char *base, const char *prefix, const char *suffix,
			  int want, char *best, size_t n, int *best_major)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *e;
	size_t plen = strlen(prefix);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		int major = parse_major(e->d_name + plen);
		if (major == 0 || (want > 0 && major != want) || major <= *best_major)
			continue;
		char bin[PATH_MAX];
		if (snprintf(bin, sizeof bin, "%s/%s%s", base, e->d_name, suffix) >= (int)sizeof bin)
			continue;
		if (is_exec(bin, "initdb") && is_exec(bin, "postgres")) {
			snprintf(best, n, "%s", bin);
			*best_major = major;
		}
	}
	closedir(d);
}

/* Finds initdb + postgres: the versioned install directories of Debian
 * (/usr/lib/postgresql/N/bin) and PGDG RPMs (/usr/pgsql-N/bin), the
 * source-install default, then PATH.  want (the PG_VERSION of an existing
 * cluster) wins over a higher version. */
static enum fl_result find_bindir(struct fl_pgembed *pg, int want, struct fl_error *err)
{
	for (int pass = want > 0 ? 0 : 1; pass < 2 && !pg->bindir[0]; pass++) {
		int w = pass == 0 ? want : 0;
		scan_versions("/usr/lib/postgresql", "", "/bin", w, pg->bindir,
			      sizeof pg->bindir, &pg->major);
		scan_versions("/usr", "pgsql-", "/bin", w, pg->bindir,
			      sizeof pg->bindir, &pg->major);
	}
	if (!pg->bindir[0] && is_exec("/usr/local/pgsql/bin", "initdb") &&
	    is_exec("/usr/local/pgsql/bin", "postgres"))
		snprintf(pg->bindir, sizeof pg->bindir, "/usr/local/pgsql/bin");
	const char *path = getenv("PATH");
	if (!pg->bindir[0] && path) {
		char copy[4096];
		snprintf(copy, sizeof copy, "%s", path);
		char *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			if (d[0] == '/' && is_exec(d, "initdb") && is_exec(d, "postgres")) {
				snprintf(pg->bindir, sizeof pg->bindir, "%s", d);
				break;
			}
		}
	}
	if (!pg->bindir[0])
		return fl_error_set(err, FL_UNAVAILABLE,
				    "PostgreSQL server binaries (initdb, postgres) not found: "
				    "install PostgreSQL or pass --pg");
	if (want > 0 && pg->major > 0 && pg->major != want)
		return fl_error_set(err, FL_UNAVAILABLE,
				    "the cluster in %s was created by PostgreSQL %d, whose "
				    "binaries are not installed (found %d in %s)",
				    pg->data, want, pg->major, pg->bindir);
	return FL_OK;
}

/* ---- processes ---------------------------------------------------------- */

/* Moves a descriptor above stdin/stdout/stderr (keeps O_CLOEXEC), so that
 * the dup2()s of the child cannot clobber one with another. */
static int fd_high(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int e = errno;
	close(fd);
	errno = e;
	return h;
}

static void close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = lowfd; fd < max; fd++)
		close(fd);
}

/* Forks and execs argv[0] with stdout/stderr appended to out_path, as the
 * run user when we are root, in a new session when detach.  Only
 * async-signal-safe calls happen between fork and exec: the environment,
 * argv and the descriptors are all prepared before the fork. */
static enum fl_result spawn(struct fl_pgembed *pg, char *const argv[],
			    const char *out_path, bool detach, pid_t *pid,
			    struct fl_error *err)
{
	char env_home[PATH_MAX + 8];
	snprintf(env_home, sizeof env_home, "HOME=%s", pg->dir);
	char *envp[] = { "PATH=/usr/bin:/bin", env_home, NULL };
	int out = fd_high(open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
	if (out < 0)
		return fl_error_set(err, FL_IO, "cannot open %s: %s", out_path, strerror(errno));
	if (pg->drop && fchown(out, pg->uid, pg->gid) < 0) {
		int e = errno;
		close(out);
		return fl_error_set(err, FL_IO, "cannot chown %s: %s", out_path, strerror(e));
	}
	int in = fd_high(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (in < 0) {
		int e = errno;
		close(out);
		return fl_error_set(err, FL_IO, "cannot open /dev/null: %s", strerror(e));
	}

	pid_t p = fork();
	if (p == 0) {
		static const char fail[] = "firelake: cannot start child process\n";
		/* Default dispositions first, then unblock: a pending signal
		 * must not run one of firelake's handlers in the child. */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				sigaction(s, &dfl, NULL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (detach)
			setsid();
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(127);
		close_from(3);
		if (pg->drop && (setgroups(0, NULL) < 0 || setgid(pg->gid) < 0 ||
				 setuid(pg->uid) < 0 || setuid(0) == 0)) {
			ssize_t w = write(2, fail, sizeof fail - 1);
			(void)w;
			_exit(127);
		}
		if (chdir(pg->dir) < 0)
			_exit(127);
		execve(argv[0], argv, envp);
		ssize_t w = write(2, fail, sizeof fail - 1);
		(void)w;
		_exit(127);
	}
	int e = errno;
	close(in);
	close(out);
	if (p < 0)
		return fl_error_set(err, FL_INTERNAL, "fork: %s", strerror(e));
	*pid = p;
	return FL_OK;
}

/* Reaps a child: 1 when it exited (*status set), 0 while it runs, -1 when
 * it is not ours to reap (SIGCHLD ignored, or reaped elsewhere). */
static int reap(pid_t pid, int *status, bool block)
{
	for (;;) {
		pid_t r = waitpid(pid, status, block ? 0 : WNOHANG);
		if (r == pid)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* The state letter ('R', 'S', 'Z' ...) and, when comm is not NULL, the
 * command name of a process per /proc/<pid>/stat; 0 and "" when unknown. */
static char proc_state(pid_t pid, char *comm, size_t n)
{
	char p[64], buf[512];
	if (comm)
		comm[0] = '\0';
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t got = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (got <= 0)
		return 0;
	buf[got] = '\0';
	char *lp = strchr(buf, '('), *rp = strrchr(buf, ')'); /* names may hold ')' */
	if (!lp || !rp || rp < lp || rp[1] != ' ')
		return 0;
	if (comm)
		snprintf(comm, n, "%.*s", (int)(rp - lp - 1), lp + 1);
	return rp[2];
}

/* True when the postmaster we know of has exited. */
static bool postmaster_gone(struct fl_pgembed *pg)
{
	int status;
	if (pg->child) {
		int r = reap(pg->pid, &status, false);
		if (r != -1)
			return r == 1;
	}
	if (kill(pg->pid, 0) < 0 && errno == ESRCH)
		return true;
	/* Not our child: once exited it may linger as a zombie until its new
	 * parent reaps it (or forever, under a pid 1 that does not reap). */
	char state = proc_state(pg->pid, NULL, 0);
	if (state)
		return state == 'Z' || state == 'X';
	/* No /proc: postgres removes postmaster.pid as its last act. */
	char pidfile[PATH_MAX];
	return path_fmt(pidfile, sizeof pidfile, pg->data, "postmaster.pid") &&
	       !exists(pidfile);
}

/* ---- connection strings ------------------------------------------------- */

/* Appends key='value' to a libpq connection string. */
static bool conninfo_add(char *out, size_t n, const char *key, const char *value)
{
	size_t len = strlen(out);
	int w = snprintf(out + len, n - len, "%s%s='", len ? " " : "", key);
	if (w < 0 || (size_t)w >= n - len)
		return false;
	len += (size_t)w;
	for (const char *s = value; *s; s++) {
		if (len + 3 >= n)
			return false;
		if (*s == '\'' || *s == '\\')
			out[len++] = '\\';
		out[len++] = *s;
	}
	if (len + 2 > n)
		return false;
	out[len++] = '\'';
	out[len] = '\0';
	return true;
}

static bool make_conninfo(const char *sockdir, const char *port, const char *db,
			  char *out, size_t n)
{
	if (n == 0)
		return false;
	out[0] = '\0';
	return conninfo_add(out, n, "host", sockdir) && conninfo_add(out, n, "port", port) &&
	       conninfo_add(out, n, "dbname", db) &&
	       conninfo_add(out, n, "user", FL_PGEMBED_USER);
}

/* ---- setup -------------------------------------------------------------- */

static enum fl_result choose_user(struct fl_pgembed *pg, struct fl_error *err)
{
	if (geteuid() != 0)
		return FL_OK;
	const char *names[] = { "postgres", "nobody" };
	for (size_t i = 0; i < 2; i++) {
		struct passwd pw, *res = NULL;
		char buf[4096];
		if (getpwnam_r(names[i], &pw, buf, sizeof buf, &res) == 0 && res &&
		    res->pw_uid != 0) {
			pg->drop = true;
			pg->uid = res->pw_uid;
			pg->gid = res->pw_gid;
			snprintf(pg->user, sizeof pg->user, "%s", names[i]);
			return FL_OK;
		}
	}
	return fl_error_set(err, FL_UNAVAILABLE,
			    "running as root, and neither user \"postgres\" nor \"nobody\" "
			    "exists to run PostgreSQL");
}

/* As root: lets the run user traverse every ancestor of pg->dir by adding
 * the search bit of the class it falls in.  Read permission is never
 * added. */
static enum fl_result open_ancestors(struct fl_pgembed *pg, struct fl_error *err)
{
	/* pg->dir is a realpath: absolute, no "//", no trailing "/".  Its last
	 * component is chown'ed to the user, so only the ancestors matter. */
	for (size_t i = 0; pg->dir[i]; i++) {
		if (pg->dir[i] != '/')
			continue;
		char anc[PATH_MAX];
		snprintf(anc, sizeof anc, "%.*s", i ? (int)i : 1, pg->dir);
		struct stat st;
		if (stat(anc, &st) < 0)
			return fl_error_set(err, FL_IO, "cannot stat %s: %s", anc, strerror(errno));
		mode_t bit = S_IXOTH;
		const char *cls = "o+x";
		if (st.st_uid == pg->uid) {
			bit = S_IXUSR;
			cls = "u+x";
		} else if (st.st_gid == pg->gid) {
			bit = S_IXGRP;
			cls = "g+x";
		}
		if (st.st_mode & bit)
			continue;
		if (chmod(anc, (st.st_mode & 07777) | bit) < 0)
			return fl_error_set(err, FL_IO, "cannot make %s searchable for user %s: %s",
					    anc, pg->user, strerror(errno));
		fl_info("made %s searchable by PostgreSQL's user %s (%s, search only)", anc,
			pg->user, cls);
	}
	return FL_OK;
}

/* Takes <dir>/firelake.lock; FL_IN_USE while another live firelake has it. */
static enum fl_result take_lock(struct fl_pgembed *pg, struct fl_error *err)
{
	char p[PATH_MAX];
	if (!path_fmt(p, sizeof p, pg->dir, "firelake.lock"))
		return fl_error_set(err, FL_INVALID, "path too long: %s", pg->dir);
	pg->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (pg->lock_fd < 0)
		return fl_error_set(err, FL_IO, "cannot open %s: %s", p, strerror(errno));
	if (flock(pg->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return fl_error_set(err, FL_IN_USE,
					    "another firelake is using the PostgreSQL cluster in %s",
					    pg->dir);
		return fl_error_set(err, FL_IO, "cannot lock %s: %s", p, strerror(errno));
	}
	return FL_OK;
}

/* Reads PG_VERSION's major (0 when there is no cluster yet). */
static int cluster_major(const char *data)
{
	char p[PATH_MAX], line[32] = "";
	if (!path_fmt(p, sizeof p, data, "PG_VERSION"))
		return 0;
	FILE *f = fopen(p, "re");
	if (!f)
		return 0;
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	int v = parse_major(line);
	return v ? v : -1;
}

static enum fl_result run_initdb(struct fl_pgembed *pg, struct fl_error *err)
{
	char init[PATH_MAX], log_path[PATH_MAX], exe[PATH_MAX], version[PATH_MAX];
	char conf[PATH_MAX], opt_d[PATH_MAX + 8];
	enum fl_result r;
	pid_t pid;
	int status = 0;
	long long t0 = now_ms();

	if (snprintf(init, sizeof init, "%s.init", pg->data) >= (int)sizeof init ||
	    !path_fmt(log_path, sizeof log_path, pg->dir, "log/initdb.log") ||
	    !path_fmt(exe, sizeof exe, pg->bindir, "initdb"))
		return fl_error_set(err, FL_INVALID, "path too long: %s", pg->dir);
	/* A half-done initdb of a killed firelake. */
	if ((r = rm_rf(init, err)) != FL_OK)
		return r;
	if (snprintf(opt_d, sizeof opt_d, "--pgdata=%s", init) >= (int)sizeof opt_d)
		return fl_error_set(err, FL_INVALID, "path too long: %s", pg->dir);
	/* Byte-order collation (fast, stable across glibc upgrades); Unicode
	 * character classes for upper()/lower() when C.UTF-8 exists. */
	bool cutf8 = false;
	locale_t loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	if (loc) {
		cutf8 = true;
		freelocale(loc);
	}
	char *argv[16];
	int a = 0;
	argv[a++] = exe;
	argv[a++] = opt_d;
	argv[a++] = "--username=" FL_PGEMBED_USER;
	argv[a++] = "--auth-local=trust";
	argv[a++] = "--auth-host=reject";
	argv[a++] = "--encoding=UTF8";
	argv[a++] = "--locale=C";
	if (cutf8)
		argv[a++] = "--lc-ctype=C.UTF-8";
	argv[a++] = "--data-checksums";
	if (pg->major == 0 || pg->major >= 14)
		argv[a++] = "--no-instructions";
	argv[a] = NULL;

	fl_info("PostgreSQL: initialising a new cluster in %s", pg->data);
	if ((r = spawn(pg, argv, log_path, false, &pid, err)) != FL_OK)
		return r;
	bool reaped = reap(pid, &status, true) == 1;
	if (!path_fmt(version, sizeof version, init, "global/pg_control"))
		return fl_error_set(err, FL_INVALID, "path too long: %s", init);
	if ((reaped && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) ||
	    !exists(version)) {
		char last[160];
		file_last_line(log_path, last, sizeof last);
		return fl_error_set(err, FL_UNAVAILABLE, "initdb failed: see %s (%s)",
				    log_path, last);
	}
	if (!path_fmt(conf, sizeof conf, init, "postgresql.conf"))
		return fl_error_set(err, FL_INVALID, "path too long: %s", init);
	FILE *f = fopen(conf, "ae");
	if (!f)
		return fl_error_set(err, FL_IO, "cannot open %s: %s", conf, strerror(errno));
	fputs("\n# firelake: the settings of the embedded cluster, rewritten at every start\n"
	      "include_if_exists = 'firelake.conf'\n", f);
	int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad)
		return fl_error_set(err, FL_IO, "cannot write %s: %s", conf, strerror(errno));
	if (rename(init, pg->data) < 0)
		return fl_error_set(err, FL_IO, "cannot rename %s: %s", init, strerror(errno));
	if ((r = fsync_dir(pg->dir, err)) != FL_OK)
		return r;
	fl_info("PostgreSQL: cluster initialised in %lld ms", now_ms() - t0);
	return FL_OK;
}

/* Picks the socket directory: <dir>/run when the socket path fits. */
static enum fl_result choose_sockdir(struct fl_pgembed *pg, struct fl_error *err)
{
	const size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	const size_t sock = strlen("/.s.PGSQL." FL_PGEMBED_PORT);
	char run[PATH_MAX];
	if (path_fmt(run, sizeof run, pg->dir, "run") && strlen(run) + sock <= max) {
		memcpy(pg->sockdir, run, strlen(run) + 1); /* fits: checked above */
		pg->sockdir_tmp = false;
		if (mkdir(run, 0700) < 0 && errno != EEXIST)
			return fl_error_set(err, FL_IO, "cannot create %s: %s", run, strerror(errno));
		if (chmod(run, 0700) < 0 || (pg->drop && chown(run, pg->uid, pg->gid) < 0))
			return fl_error_set(err, FL_IO, "cannot set up %s: %s", run, strerror(errno));
		return FL_OK;
	}
	snprintf(pg->sockdir, sizeof pg->sockdir, "%sXXXXXX", FL_PGEMBED_TMP_SOCKDIR);
	if (!mkdtemp(pg->sockdir))
		return fl_error_set(err, FL_IO, "cannot create a socket directory in /tmp: %s",
				    strerror(errno));
	pg->sockdir_tmp = true;
	if (pg->drop && chown(pg->sockdir, pg->uid, pg->gid) < 0)
		return fl_error_set(err, FL_IO, "cannot chown %s: %s", pg->sockdir,
				    strerror(errno));
	fl_info("PostgreSQL: %s is too long for a unix socket path, using %s", pg->dir,
		pg->sockdir);
	return FL_OK;
}

/* Appends s as a postgresql.conf string literal. */
static void conf_str(char *out, size_t n, const char *key, const char *value)
{
	size_t len = strlen(out);
	int w = snprintf(out + len, n - len, "%s = '", key);
	if (w < 0 || (size_t)w >= n - len)
		return;
	len += (size_t)w;
	for (const char *s = value; *s && len + 4 < n; s++) {
		if (*s == '\'' || *s == '\\')
			out[len++] = *s;
		out[len++] = *s;
	}
	snprintf(out + len, n - len, "'\n");
}

static enum fl_result write_conf(struct fl_pgembed *pg, struct fl_error *err)
{
	char conf[2 * PATH_MAX];
	snprintf(conf, sizeof conf,
		 "# Written by firelake at every start; edits are lost.\n"
		 "# Put your own settings in postgresql.auto.conf (ALTER SYSTEM).\n"
		 "listen_addresses = ''\n"
		 "port = " FL_PGEMBED_PORT "\n"
		 "unix_socket_permissions = 0700\n"
		 "max_connections = 100\n"
		 "shared_buffers = 128MB\n"
		 "fsync = on\n"
		 "synchronous_commit = on\n"
		 "full_page_writes = on\n"
		 "timezone = 'UTC'\n"
		 "log_timezone = 'UTC'\n"
		 "logging_collector = off\n"
		 "log_destination = 'stderr'\n");
	conf_str(conf, sizeof conf, "unix_socket_directories", pg->sockdir);
	return write_file_durable(pg, pg->data, "firelake.conf", conf, err);
}

/* Keeps postgres.log bounded across restarts. */
static void rotate_log(struct fl_pgembed *pg)
{
	struct stat st;
	if (stat(pg->log_path, &st) == 0 && st.st_size > FL_PGEMBED_LOG_ROTATE_BYTES) {
		char old[PATH_MAX + 4];
		snprintf(old, sizeof old, "%s.1", pg->log_path);
		if (rename(pg->log_path, old) < 0)
			fl_warn("cannot rotate %s: %s", pg->log_path, strerror(errno));
	}
}

/* ---- the postmaster ----------------------------------------------------- */

/* What postmaster.pid says (see PostgreSQL's pidfile.h): pid, port, first
 * socket directory, status ("starting", "ready", "stopping", "standby"). */
struct pidinfo {
	long pid;
	char port[16];
	char sockdir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char status[16];
};

static bool read_pidfile(const char *data, struct pidinfo *pi)
{
	char p[PATH_MAX], line[PATH_MAX];
	memset(pi, 0, sizeof *pi);
	if (!path_fmt(p, sizeof p, data, "postmaster.pid"))
		return false;
	FILE *f = fopen(p, "re");
	if (!f)
		return false;
	for (int i = 1; i <= 8 && fgets(line, sizeof line, f); i++) {
		line[strcspn(line, "\n")] = '\0';
		if (i == 1)
			pi->pid = strtol(line, NULL, 10);
		else if (i == 4)
			snprintf(pi->port, sizeof pi->port, "%.15s", line);
		else if (i == 5 && strlen(line) < sizeof pi->sockdir)
			memcpy(pi->sockdir, line, strlen(line) + 1);
		else if (i == 8)
			snprintf(pi->status, sizeof pi->status, "%.15s", line);
	}
	fclose(f);
	return pi->pid > 0;
}

/* Waits until the postmaster answers.  FL_OK when it accepts connections;
 * FL_RETRY when our child exited early (for the caller to retry);
 * FL_NOT_FOUND when a postmaster not ours is gone; FL_UNAVAILABLE on
 * timeout.  While postmaster.pid says it is starting (crash recovery)
 * nothing connects: every refused attempt would be a FATAL line in its
 * log. */
static enum fl_result wait_ready(struct fl_pgembed *pg, const char *port,
				 struct fl_error *err)
{
	char ping[PATH_MAX + 256];
	if (!make_conninfo(pg->sockdir, port, "postgres", ping, sizeof ping - 32))
		return fl_error_set(err, FL_INVALID, "path too long: %s", pg->sockdir);
	strcat(ping, " connect_timeout=2");
	long long start = now_ms(), last_note = start;
	long delay = 10;
	for (;;) {
		struct pidinfo pi;
		PGPing p = PQPING_REJECT;
		if (!read_pidfile(pg->data, &pi) || pi.pid != pg->pid || !pi.status[0] ||
		    strncmp(pi.status, "ready", 5) == 0 || strncmp(pi.status, "standby", 7) == 0)
			p = PQping(ping);
		if (p == PQPING_OK)
			return FL_OK;
		if (postmaster_gone(pg))
			return pg->child ? FL_RETRY : FL_NOT_FOUND;
		long long waited = now_ms() - start;
		long long limit = p == PQPING_REJECT ? FL_PGEMBED_RECOVERY_TIMEOUT_MS
						     : FL_PGEMBED_START_TIMEOUT_MS;
		if (waited > limit) {
			char last[160];
			file_last_line(pg->log_path, last, sizeof last);
			return fl_error_set(err, FL_UNAVAILABLE,
					    "PostgreSQL (pid %d) did not become ready in %lld s: "
					    "see %s (%s)", (int)pg->pid, waited / 1000,
					    pg->log_path, last);
		}
		if (p == PQPING_REJECT && now_ms() - last_note > 10000) {
			fl_info("PostgreSQL is starting up (recovery?): still waiting");
			last_note = now_ms();
		}
		sleep_ms(delay);
		if (delay < 100)
			delay *= 2;
	}
}

/* Asks the postmaster which data directory it serves. */
static bool serves_our_data(struct fl_pgembed *pg, const char *port)
{
	char ci[PATH_MAX + 256];
	if (!make_conninfo(pg->sockdir, port, "postgres", ci, sizeof ci))
		return false;
	PGconn *c = PQconnectdb(ci);
	bool ours = false;
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *res = PQexec(c, "SELECT current_setting('data_directory')");
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			char a[PATH_MAX], b[PATH_MAX];
			const char *theirs = PQgetvalue(res, 0, 0);
			ours = strcmp(theirs, pg->data) == 0 ||
			       (realpath(theirs, a) && realpath(pg->data, b) && strcmp(a, b) == 0);
		}
		PQclear(res);
	}
	PQfinish(c);
	return ours;
}

/* Looks for a postmaster left running by a firelake that died.  FL_OK with
 * pg->pid set when it is ours and healthy (reused), FL_NOT_FOUND when there
 * is none (the caller starts one), an error otherwise. */
static enum fl_result find_running(struct fl_pgembed *pg, struct fl_error *err)
{
	char pidfile[PATH_MAX];
	struct pidinfo pi;
	if (!read_pidfile(pg->data, &pi) ||
	    !path_fmt(pidfile, sizeof pidfile, pg->data, "postmaster.pid"))
		return FL_NOT_FOUND;
	long pid = pi.pid;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return FL_NOT_FOUND; /* stale: postgres replaces it by itself */
	char comm[64];
	proc_state((pid_t)pid, comm, sizeof comm);
	if (comm[0] && strcmp(comm, "postgres") != 0 && strcmp(comm, "postmaster") != 0) {
		fl_warn("PostgreSQL: removing stale %s (pid %ld is now \"%s\")", pidfile, pid,
			comm);
		if (unlink(pidfile) < 0 && errno != ENOENT)
			return fl_error_set(err, FL_IO, "cannot remove %s: %s", pidfile,
					    strerror(errno));
		return FL_NOT_FOUND;
	}
	if (!pi.port[0] || !pi.sockdir[0]) {
		/* Just started: give it a moment to write the rest of the file. */
		sleep_ms(500);
		if (!read_pidfile(pg->data, &pi))
			return FL_NOT_FOUND;
	}
	char port[sizeof pi.port];
	memcpy(port, pi.port, sizeof port);
	memcpy(pg->sockdir, pi.sockdir, sizeof pg->sockdir);
	pg->pid = (pid_t)pid;
	pg->child = false;
	fl_info("PostgreSQL: found a running postmaster (pid %ld) left by a previous "
		"firelake, waiting for it", pid);
	enum fl_result r = port[0] && pg->sockdir[0] ? wait_ready(pg, port, err)
						      : fl_error_set(err, FL_UNAVAILABLE,
								     "PostgreSQL (pid %ld) holds %s "
								     "but does not say where it "
								     "listens", pid, pidfile);
	if (r == FL_OK && (strcmp(port, FL_PGEMBED_PORT) != 0 || !serves_our_data(pg, port)))
		r = fl_error_set(err, FL_IN_USE, "PostgreSQL (pid %ld) holds %s but is not "
				 "the cluster firelake expects: stop it", pid, pidfile);
	if (r != FL_OK) {
		/* Gone meanwhile (it was shutting down): the caller starts one.
		 * Otherwise leave it alone: a failed start must not stop it. */
		pg->pid = 0;
		pg->sockdir[0] = '\0';
		return r;
	}
	pg->sockdir_tmp = strncmp(pg->sockdir, FL_PGEMBED_TMP_SOCKDIR,
				  strlen(FL_PGEMBED_TMP_SOCKDIR)) == 0;
	fl_info("PostgreSQL: reusing the running postmaster (pid %ld)", pid);
	return FL_OK;
}

static enum fl_result start_postmaster(struct fl_pgembed *pg, struct fl_error *err)
{
	char exe[PATH_MAX], opt_d[PATH_MAX + 4];
	enum fl_result r = FL_OK;
	if (!path_fmt(exe, sizeof exe, pg->bindir, "postgres"))
		return fl_error_set(err, FL_INVALID, "path too long: %s", pg->bindir);
	snprintf(opt_d, sizeof opt_d, "-D%s", pg->data);
	char *argv[] = { exe, opt_d, NULL };
	for (int attempt = 1; attempt <= FL_PGEMBED_START_ATTEMPTS; attempt++) {
		if ((r = spawn(pg, argv, pg->log_path, true, &pg->pid, err)) != FL_OK)
			return r;
		pg->child = true;
		r = wait_ready(pg, FL_PGEMBED_PORT, err);
		if (r != FL_RETRY)
			break;
		/* Exited at once.  Typically backends of a killed postmaster
		 * still hold its shared memory for a moment: try again. */
		pg->pid = 0;
		if (attempt < FL_PGEMBED_START_ATTEMPTS) {
			char last[160];
			file_last_line(pg->log_path, last, sizeof last);
			fl_warn("PostgreSQL exited at start (%s), retrying", last);
			sleep_ms(500L * attempt);
		}
	}
	if (r == FL_RETRY) {
		char last[160];
		file_last_line(pg->log_path, last, sizeof last);
		return fl_error_set(err, FL_UNAVAILABLE, "PostgreSQL did not start: see %s (%s)",
				    pg->log_path, last);
	}
	return r;
}

static void stop_postmaster(struct fl_pgembed *pg)
{
	if (pg->pid <= 0)
		return;
	long long t0 = now_ms();
	if (kill(pg->pid, SIGINT) < 0 && errno == ESRCH) {
		postmaster_gone(pg); /* reap a zombie child */
		pg->pid = 0;
		return;
	}
	bool quit = false;
	long delay = 5;
	while (!postmaster_gone(pg)) {
		long long waited = now_ms() - t0;
		if (!quit && waited > FL_PGEMBED_STOP_TIMEOUT_MS) {
			fl_warn("PostgreSQL (pid %d) did not shut down in %d s: immediate "
				"shutdown", (int)pg->pid, FL_PGEMBED_STOP_TIMEOUT_MS / 1000);
			kill(pg->pid, SIGQUIT);
			quit = true;
		}
		if (waited > FL_PGEMBED_STOP_TIMEOUT_MS + FL_PGEMBED_KILL_TIMEOUT_MS) {
			fl_error("PostgreSQL (pid %d) is still running: see %s", (int)pg->pid,
				 pg->log_path);
			return;
		}
		sleep_ms(delay);
		if (delay < 100)
			delay *= 2;
	}
	fl_info("PostgreSQL stopped in %lld ms", now_ms() - t0);
	pg->pid = 0;
}

static enum fl_result ensure_database(struct fl_pgembed *pg, struct fl_error *err)
{
	char ci[PATH_MAX + 256];
	enum fl_result r = FL_OK;
	PGresult *res = NULL;
	if (!make_conninfo(pg->sockdir, FL_PGEMBED_PORT, "postgres", ci, sizeof ci))
		return fl_error_set(err, FL_INVALID, "path too long: %s", pg->sockdir);
	PGconn *c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		r = fl_error_set(err, FL_UNAVAILABLE, "cannot connect to PostgreSQL: %s",
				 PQerrorMessage(c));
		goto out;
	}
	res = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = '" FL_PGEMBED_DB "'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = fl_error_set(err, FL_INTERNAL, "PostgreSQL: %s", PQerrorMessage(c));
		goto out;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		res = PQexec(c, "CREATE DATABASE " FL_PGEMBED_DB);
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    !(state && strcmp(state, "42P04") == 0)) {
			r = fl_error_set(err, FL_INTERNAL, "cannot create database "
					 FL_PGEMBED_DB ": %s", PQerrorMessage(c));
			goto out;
		}
		fl_info("PostgreSQL: created database " FL_PGEMBED_DB);
	}
out:
	PQclear(res);
	PQfinish(c);
	/* libpq messages end with a newline */
	if (r != FL_OK && err)
		err->msg[strcspn(err->msg, "\n")] = '\0';
	return r;
}

/* ---- the contract ------------------------------------------------------- */

enum fl_result fl_pgembed_start(const char *dir, struct fl_pgembed **out,
				char *conninfo, size_t conninfo_len,
				struct fl_error *err)
{
	enum fl_result r;
	long long t0 = now_ms();
	struct fl_pgembed *pg = calloc(1, sizeof *pg);
	*out = NULL;
	if (!pg)
		return fl_error_set(err, FL_INTERNAL, "out of memory");
	pg->lock_fd = -1;

	if ((r = choose_user(pg, err)) != FL_OK)
		goto fail;
	if ((r = mkdir_p(dir, 0700, err)) != FL_OK)
		goto fail;
	if (!realpath(dir, pg->dir)) {
		r = fl_error_set(err, FL_IO, "cannot resolve %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (!path_fmt(pg->data, sizeof pg->data, pg->dir, "data") ||
	    !path_fmt(pg->log_path, sizeof pg->log_path, pg->dir, "log/postgres.log")) {
		r = fl_error_set(err, FL_INVALID, "path too long: %s", pg->dir);
		goto fail;
	}
	if ((r = take_lock(pg, err)) != FL_OK)
		goto fail;
	char logdir[PATH_MAX];
	if (!path_fmt(logdir, sizeof logdir, pg->dir, "log")) {
		r = fl_error_set(err, FL_INVALID, "path too long: %s", pg->dir);
		goto fail;
	}
	if ((r = mkdir_p(logdir, 0700, err)) != FL_OK)
		goto fail;

	int major = cluster_major(pg->data);
	if (major < 0) {
		r = fl_error_set(err, FL_INVALID, "%s/PG_VERSION is not a PostgreSQL version",
				 pg->data);
		goto fail;
	}
	if ((r = find_bindir(pg, major, err)) != FL_OK)
		goto fail;

	if (major > 0) {
		r = find_running(pg, err);
		if (r == FL_OK)
			goto ready;
		if (r != FL_NOT_FOUND)
			goto fail;
	}

	if (pg->drop) {
		if ((r = open_ancestors(pg, err)) != FL_OK ||
		    (r = chown_r(pg, err)) != FL_OK)
			goto fail;
	}
	if (major == 0) {
		/* A directory that is not a cluster: refuse unless empty. */
		if (exists(pg->data) && rmdir(pg->data) < 0) {
			r = fl_error_set(err, FL_INVALID, "%s exists but is not a PostgreSQL "
					 "cluster (no PG_VERSION)", pg->data);
			goto fail;
		}
		if ((r = run_initdb(pg, err)) != FL_OK)
			goto fail;
	}
	if ((r = choose_sockdir(pg, err)) != FL_OK || (r = write_conf(pg, err)) != FL_OK)
		goto fail;
	rotate_log(pg);
	if ((r = start_postmaster(pg, err)) != FL_OK)
		goto fail;
	fl_info("PostgreSQL started (pid %d) in %lld ms, socket in %s", (int)pg->pid,
		now_ms() - t0, pg->sockdir);
ready:
	if ((r = ensure_database(pg, err)) != FL_OK)
		goto fail;
	if (!make_conninfo(pg->sockdir, FL_PGEMBED_PORT, FL_PGEMBED_DB, conninfo,
			   conninfo_len)) {
		r = fl_error_set(err, FL_INVALID, "connection string does not fit in %zu bytes",
				 conninfo_len);
		goto fail;
	}
	*out = pg;
	return FL_OK;
fail:
	fl_pgembed_stop(pg);
	return r;
}

void fl_pgembed_stop(struct fl_pgembed *pg)
{
	if (!pg)
		return;
	stop_postmaster(pg);
	if (pg->sockdir_tmp && pg->pid == 0 && rmdir(pg->sockdir) < 0 && errno != ENOENT)
		fl_warn("cannot remove %s: %s", pg->sockdir, strerror(errno));
	if (pg->lock_fd >= 0)
		close(pg->lock_fd);
	free(pg);
}
