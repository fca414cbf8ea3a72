/*
 * awscred.c - AWS credentials from the environment or the shared
 * credentials file (awscred.h).
 *
 * DESIGN.  Credentials are read once, when the S3 storage opens, and kept
 * for the life of the process; nothing here runs on a request's path.
 * The INI reader is a single pass over the file's lines that keeps only
 * the wanted profile's three properties, so the secrets of other profiles
 * are never copied anywhere.  Messages name files, profiles, properties
 * and line numbers, never a value: a line that fails to parse may hold a
 * secret.
 */
#include "awscred.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CRED_FILE_MAX (1u << 20)

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* [*b, *e) without leading and trailing blanks. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && blank(**b))
		(*b)++;
	while (*e > *b && blank((*e)[-1]))
		(*e)--;
}

/* Cuts a comment: '#' or ';' at the start or after a blank. */
static const char *comment_cut(const char *b, const char *e)
{
	for (const char *p = b; p < e; p++)
		if ((*p == '#' || *p == ';') && (p == b || blank(p[-1])))
			return p;
	return e;
}

static bool name_is(const char *b, const char *e, const char *want)
{
	size_t n = (size_t)(e - b);
	if (n != strlen(want))
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)b[i]) != want[i])
			return false;
	return true;
}

struct parse {
	const char *profile;
	struct fl_awscred *out;
	bool in_profile;   /* inside a [profile] section */
	bool nested;       /* after "name =" with no value: indented lines belong to it */
	bool found;        /* the profile's section was seen */
	int line;
	struct fl_error *err;
};

static enum fl_result set_value(struct parse *ps, char *dst, size_t cap, const char *what,
				const char *b, const char *e)
{
	size_t n = (size_t)(e - b);
	if (n >= cap)
		return fl_error_set(ps->err, FL_INVALID, "line %d: %s longer than %zu bytes",
				    ps->line, what, cap - 1);
	memcpy(dst, b, n);
	dst[n] = '\0';
	return FL_OK;
}

static enum fl_result parse_line(struct parse *ps, const char *b, const char *e)
{
	bool indented = b < e && blank(*b);
	trim(&b, &e);
	if (b == e || *b == '#' || *b == ';')
		return FL_OK;
	if (*b == '[') {
		const char *close = memchr(b, ']', (size_t)(e - b));
		if (!close)
			return fl_error_set(ps->err, FL_INVALID, "line %d: section header without ']'",
					    ps->line);
		const char *rest = close + 1, *rest_end = e;
		trim(&rest, &rest_end);
		if (rest < rest_end && *rest != '#' && *rest != ';')
			return fl_error_set(ps->err, FL_INVALID,
					    "line %d: text after a section header", ps->line);
		const char *nb = b + 1, *ne = close;
		trim(&nb, &ne);
		ps->in_profile = (size_t)(ne - nb) == strlen(ps->profile) &&
				 memcmp(nb, ps->profile, (size_t)(ne - nb)) == 0;
		ps->found |= ps->in_profile;
		ps->nested = false;
		return FL_OK;
	}
	if (indented && ps->nested)
		return FL_OK;
	const char *eq = b;
	while (eq < e && *eq != '=' && *eq != ':')
		eq++;
	if (eq == e)
		return fl_error_set(ps->err, FL_INVALID, "line %d: expected name = value", ps->line);
	const char *nb = b, *ne = eq, *vb = eq + 1, *ve = e;
	trim(&nb, &ne);
	ve = comment_cut(vb, ve);
	trim(&vb, &ve);
	if (nb == ne)
		return fl_error_set(ps->err, FL_INVALID, "line %d: property without a name",
				    ps->line);
	ps->nested = vb == ve;
	if (!ps->in_profile)
		return FL_OK;
	struct fl_awscred *c = ps->out;
	if (name_is(nb, ne, "aws_access_key_id"))
		return set_value(ps, c->key_id, sizeof c->key_id, "aws_access_key_id", vb, ve);
	if (name_is(nb, ne, "aws_secret_access_key"))
		return set_value(ps, c->secret, sizeof c->secret, "aws_secret_access_key", vb, ve);
	if (name_is(nb, ne, "aws_session_token"))
		return set_value(ps, c->token, sizeof c->token, "aws_session_token", vb, ve);
	return FL_OK;
}

enum fl_result fl_awscred_parse(const char *text, size_t len, const char *profile,
				struct fl_awscred *out, struct fl_error *err)
{
	struct parse ps = { .profile = profile, .out = out, .err = err };
	out->key_id[0] = out->secret[0] = out->token[0] = '\0';
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 BOM */
		text += 3;
		len -= 3;
	}
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		ps.line++;
		if (memchr(p, '\0', (size_t)(le - p)))
			return fl_error_set(err, FL_INVALID, "line %d: NUL byte", ps.line);
		enum fl_result r = parse_line(&ps, p, le);
		if (r != FL_OK) {
			out->key_id[0] = out->secret[0] = out->token[0] = '\0';
			return r;
		}
		p = nl ? nl + 1 : end;
	}
	bool has_id = out->key_id[0] != '\0', has_secret = out->secret[0] != '\0';
	if (!ps.found || (!has_id && !has_secret))
		return fl_error_set(err, FL_NOT_FOUND, "no credentials for profile %s", profile);
	if (!has_id || !has_secret) {
		enum fl_result r = fl_error_set(err, FL_INVALID,
						"profile %s has %s but no %s", profile,
						has_id ? "aws_access_key_id" : "aws_secret_access_key",
						has_id ? "aws_secret_access_key" : "aws_access_key_id");
		out->key_id[0] = out->secret[0] = out->token[0] = '\0';
		return r;
	}
	return FL_OK;
}

/* The whole file into a malloc'd NUL-terminated buffer (caller frees);
 * errno set and NULL on failure (EFBIG when too large). */
static char *read_file(const char *path, size_t *len)
{
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (st.st_size > (off_t)CRED_FILE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	if (!(buf = malloc((size_t)st.st_size + 1)))
		goto fail;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			goto fail;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	buf[got] = '\0';
	*len = got;
	close(fd);
	return buf;
fail:;
	int e = errno;
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "";
}

/* The shared credentials file's path ("~/" expanded) into out. */
static enum fl_result file_path(char *out, size_t n, struct fl_error *err)
{
	const char *f = getenv("AWS_SHARED_CREDENTIALS_FILE");
	int k;
	if (f && *f) {
		if (f[0] == '~' && (f[1] == '/' || f[1] == '\0'))
			k = snprintf(out, n, "%s%s", home_dir(), f + 1);
		else
			k = snprintf(out, n, "%s", f);
	} else {
		k = snprintf(out, n, "%s/.aws/credentials", home_dir());
	}
	if (k < 0 || (size_t)k >= n)
		return fl_error_set(err, FL_INVALID, "AWS shared credentials file path too long");
	return FL_OK;
}

static enum fl_result from_env(struct fl_awscred *out, bool *found, struct fl_error *err)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	bool has_id = id && *id, has_secret = secret && *secret;
	*found = false;
	if (!has_id && !has_secret)
		return FL_OK;
	if (!has_id || !has_secret)
		return fl_error_set(err, FL_INVALID, "%s is set but %s is not",
				    has_id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				    has_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	if (!token)
		token = "";
	if (strlen(id) >= sizeof out->key_id || strlen(secret) >= sizeof out->secret ||
	    strlen(token) >= sizeof out->token)
		return fl_error_set(err, FL_INVALID,
				    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or "
				    "AWS_SESSION_TOKEN is too long");
	snprintf(out->key_id, sizeof out->key_id, "%s", id);
	snprintf(out->secret, sizeof out->secret, "%s", secret);
	snprintf(out->token, sizeof out->token, "%s", token);
	snprintf(out->source, sizeof out->source, "environment");
	*found = true;
	return FL_OK;
}

enum fl_result fl_awscred_load(struct fl_awscred *out, struct fl_error *err)
{
	enum fl_result r;
	char path[4096];
	bool found;
	char *text = NULL;
	size_t len = 0;
	memset(out, 0, sizeof *out);
	if ((r = from_env(out, &found, err)) != FL_OK || found)
		goto out;
	if ((r = file_path(path, sizeof path, err)) != FL_OK)
		goto out;
	const char *env_profile = getenv("AWS_PROFILE");
	bool named = env_profile && *env_profile;
	const char *profile = named ? env_profile : "default";
	if (strlen(profile) > 128) {
		r = fl_error_set(err, FL_INVALID, "AWS_PROFILE is too long");
		goto out;
	}
	if (!(text = read_file(path, &len))) {
		if (errno == ENOENT && !named)
			r = fl_error_set(err, FL_INVALID,
					 "no AWS credentials: AWS_ACCESS_KEY_ID and "
					 "AWS_SECRET_ACCESS_KEY are not set and %s does not exist",
					 path);
		else
			r = fl_error_set(err, FL_INVALID, "AWS credentials file %s: %s", path,
					 errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		goto out;
	}
	struct fl_error why = { 0 };
	r = fl_awscred_parse(text, len, profile, out, &why);
	if (r == FL_NOT_FOUND && named)
		r = fl_error_set(err, FL_INVALID,
				 "AWS_PROFILE is %s but %s holds no credentials for it", profile, path);
	else if (r == FL_NOT_FOUND)
		r = fl_error_set(err, FL_INVALID,
				 "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
				 "are not set and %s holds no [default] profile with them "
				 "(set AWS_PROFILE to use another)", path);
	else if (r != FL_OK)
		r = fl_error_set(err, r, "AWS credentials file %s: %s", path, why.msg);
	else
		snprintf(out->source, sizeof out->source, "%.250s [%.40s]", path, profile);
out:
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	if (r != FL_OK)
		memset(out, 0, sizeof *out);
	return r;
}
