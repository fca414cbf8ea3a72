/*
 * gluetype.c - Glue type strings read in place, and the PostgreSQL types
 * of Glue and Trino type names (gluetype.h).
 *
 * DESIGN
 * The rewriter needs little of a type string: the kind of a column's
 * type, then, walking a dereference, the type of one struct field, map
 * value or array element.  So a type is read as spans of its string,
 * found by splitting at the first separator outside <>, () and
 * `quotes` - no tree is built, nothing is allocated, and a type is
 * checked whole (gvalid, depth bounded) only where it must be: when
 * fl_sql_pg_type maps a complex type to jsonb.  Scalar names map through
 * one table shared by Glue's names (column types) and Trino's (CAST and
 * typed literals); an entry marked G is Glue's only, T Trino's only.
 */
#include "gluetype.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sqlrewrite.h"

static struct fl_gluetype_span sp_trim(struct fl_gluetype_span s)
{
	while (s.n && isspace((unsigned char)s.p[0]))
		s.p++, s.n--;
	while (s.n && isspace((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

/* The kind of type s; *in gets what is between its < >. */
enum fl_gluetype_kind fl_gluetype_kind_of(struct fl_gluetype_span s,
					  struct fl_gluetype_span *in)
{
	static const struct { const char *pre; enum fl_gluetype_kind k; } tab[] = {
		{ "struct<", FL_GLUETYPE_STRUCT }, { "array<", FL_GLUETYPE_ARRAY },
		{ "map<", FL_GLUETYPE_MAP },
	};
	s = sp_trim(s);
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		size_t n = strlen(tab[i].pre);
		if (s.n > n && strncasecmp(s.p, tab[i].pre, n) == 0) {
			if (s.p[s.n - 1] != '>')
				return FL_GLUETYPE_BAD;
			in->p = s.p + n;
			in->n = s.n - n - 1;
			return tab[i].k;
		}
	}
	return s.n ? FL_GLUETYPE_SCALAR : FL_GLUETYPE_BAD;
}

/* The offset of the first c outside <>, () and `quotes` in s, or s.n. */
static size_t sp_find(struct fl_gluetype_span s, char c)
{
	int d = 0;
	for (size_t i = 0; i < s.n; i++) {
		char x = s.p[i];
		if (x == '`') {
			while (++i < s.n && s.p[i] != '`')
				;
		} else if (x == '<' || x == '(') {
			d++;
		} else if (x == '>' || x == ')') {
			d--;
		} else if (x == c && d == 0) {
			return i;
		}
	}
	return s.n;
}

/* Splits s at its first top-level c. */
bool fl_gluetype_split(struct fl_gluetype_span s, char c, struct fl_gluetype_span *a,
		       struct fl_gluetype_span *b)
{
	size_t i = sp_find(s, c);
	if (i == s.n)
		return false;
	*a = (struct fl_gluetype_span){ s.p, i };
	*b = (struct fl_gluetype_span){ s.p + i + 1, s.n - i - 1 };
	return true;
}

/* The "name:type" of struct fields in; *rest moves past it. */
static bool gfield_next(struct fl_gluetype_span *in, struct fl_gluetype_span *name,
			struct fl_gluetype_span *type)
{
	struct fl_gluetype_span f = *in, rest = { in->p + in->n, 0 };
	if (!fl_gluetype_split(*in, ',', &f, &rest))
		rest = (struct fl_gluetype_span){ in->p + in->n, 0 };
	if (!fl_gluetype_split(f, ':', name, type))
		return false;
	*name = sp_trim(*name);
	if (name->n >= 2 && name->p[0] == '`' && name->p[name->n - 1] == '`') {
		name->p++;
		name->n -= 2;
	}
	*in = rest;
	return name->n > 0;
}

bool fl_gluetype_field(struct fl_gluetype_span in, const char *want,
		       struct fl_gluetype_span *name, struct fl_gluetype_span *type)
{
	while (in.n > 0 && gfield_next(&in, name, type))
		if (name->n == strlen(want) && strncasecmp(name->p, want, name->n) == 0)
			return true;
	return false;
}

/* Reads name[(a[,b])] from s; *np gets how many numbers there were. */
static bool type_args(const char *s, const char *name, unsigned v[2], int *np)
{
	size_t n = strlen(name);
	*np = 0;
	if (strncmp(s, name, n) != 0)
		return false;
	s += n;
	if (*s == '\0')
		return true;
	if (*s++ != '(')
		return false;
	while (*np < 2 && isdigit((unsigned char)*s)) {
		unsigned long x = strtoul(s, (char **)&s, 10);
		v[(*np)++] = x > 1000 ? 1000 : (unsigned)x;
		if (*s == ',' && *np < 2)
			s++;
		else
			break;
	}
	return *np > 0 && s[0] == ')' && s[1] == '\0';
}

/*
 * The PostgreSQL type of a scalar type name (lower case, no spaces unless
 * trino); trino selects Trino's names (CAST) over Glue's.  *try gets the
 * fl_try_cast_<t> suffix (NULL: no TRY_CAST), *param whether the result of
 * fl_try_cast needs a cast of its own to carry the type's parameters.
 */
bool fl_gluetype_scalar(const char *ty, bool trino, char *out, size_t n,
			const char **try, bool *param)
{
	static const struct { const char *name, *pg, *try; char only; } tab[] = {
		{ "string", "text", "text", 0 }, { "varchar", "text", "text", 0 },
		{ "char", "text", "text", 0 }, { "bigint", "bigint", "bigint", 0 },
		{ "int", "integer", "integer", 0 }, { "integer", "integer", "integer", 0 },
		{ "smallint", "smallint", "smallint", 0 }, { "tinyint", "smallint", "smallint", 0 },
		{ "double", "double precision", "double", 0 },
		{ "double precision", "double precision", "double", 'T' },
		{ "float", "real", "real", 0 }, { "real", "real", "real", 'T' },
		{ "boolean", "boolean", "boolean", 0 }, { "date", "date", "date", 0 },
		{ "timestamp", "timestamp", "timestamp", 0 }, { "binary", "bytea", NULL, 'G' },
		{ "varbinary", "bytea", NULL, 'T' }, { "json", "jsonb", NULL, 'T' },
		{ "time", "time", NULL, 'T' }, { "uuid", "uuid", NULL, 'T' },
		{ "timestamp with time zone", "timestamp with time zone", NULL, 'T' },
	};
	static const char tz[] = " with time zone";
	unsigned v[2] = { 0, 0 };
	int np;
	size_t l = strlen(ty);
	*try = NULL;
	*param = false;
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(ty, tab[i].name) == 0 && tab[i].only != (trino ? 'G' : 'T')) {
			*try = tab[i].try;
			return (size_t)snprintf(out, n, "%s", tab[i].pg) < n;
		}
	if (trino && l > sizeof tz - 1 && l < 64 && strcmp(ty + l - (sizeof tz - 1), tz) == 0) {
		char ts[64];
		memcpy(ts, ty, l - (sizeof tz - 1));
		ts[l - (sizeof tz - 1)] = '\0';
		return type_args(ts, "timestamp", v, &np) && np == 1 &&
			(size_t)snprintf(out, n, "timestamp(%u) with time zone", v[0] > 6 ? 6 : v[0]) < n;
	}
	if ((type_args(ty, "varchar", v, &np) || type_args(ty, "char", v, &np)) && np == 1) {
		*try = "text";
		return (size_t)snprintf(out, n, "text") < n;
	}
	if (trino && type_args(ty, "timestamp", v, &np) && np == 1) {
		*try = "timestamp";
		*param = true;
		return (size_t)snprintf(out, n, "timestamp(%u)", v[0] > 6 ? 6 : v[0]) < n;
	}
	if (type_args(ty, "decimal", v, &np) || (trino && type_args(ty, "numeric", v, &np))) {
		if (np == 0)
			v[0] = trino ? 38 : 10;
		if (np < 2)
			v[1] = 0;
		if (v[0] < 1 || v[0] > 38 || v[1] > v[0])
			return false;
		*try = "numeric";
		*param = true;
		return (size_t)snprintf(out, n, "numeric(%u,%u)", v[0], v[1]) < n;
	}
	if (trino && l > 7 && strncmp(ty, "array(", 6) == 0 && ty[l - 1] == ')') {
		char in[96], pg[96];
		const char *x;
		bool p;
		if (l - 7 >= sizeof in)
			return false;
		memcpy(in, ty + 6, l - 7);
		in[l - 7] = '\0';
		if (strncmp(in, "array(", 6) == 0 ||
		    !fl_gluetype_scalar(in, true, pg, sizeof pg, &x, &p))
			return false;
		*try = NULL;
		return (size_t)snprintf(out, n, "%s[]", pg) < n;
	}
	return false;
}

/* A Glue scalar type: lower case without blanks, then scalar_type. */
bool fl_gluetype_scalar_span(struct fl_gluetype_span s, char *out, size_t n)
{
	char ty[64];
	size_t k = 0;
	const char *try;
	bool param;
	s = sp_trim(s);
	for (size_t i = 0; i < s.n; i++) {
		if (isspace((unsigned char)s.p[i]))
			continue;
		if (k + 1 >= sizeof ty)
			return false;
		ty[k++] = (char)tolower((unsigned char)s.p[i]);
	}
	ty[k] = '\0';
	return fl_gluetype_scalar(ty, false, out, n, &try, &param);
}

static bool gvalid(struct fl_gluetype_span s, int depth)
{
	struct fl_gluetype_span in, a, b, name, type;
	char pg[64];
	if (depth > FL_GLUETYPE_MAX_DEPTH)
		return false;
	switch (fl_gluetype_kind_of(s, &in)) {
	case FL_GLUETYPE_SCALAR:
		return fl_gluetype_scalar_span(s, pg, sizeof pg);
	case FL_GLUETYPE_ARRAY:
		return gvalid(in, depth + 1);
	case FL_GLUETYPE_MAP:
		return fl_gluetype_split(in, ',', &a, &b) && gvalid(a, depth + 1) &&
		       gvalid(b, depth + 1);
	case FL_GLUETYPE_STRUCT:
		if (sp_trim(in).n == 0)
			return false;
		while (in.n > 0)
			if (!gfield_next(&in, &name, &type) || !gvalid(type, depth + 1))
				return false;
		return true;
	case FL_GLUETYPE_BAD:
		break;
	}
	return false;
}

bool fl_sql_pg_type(const char *glue_type, char *out, size_t n)
{
	struct fl_gluetype_span s = { glue_type, glue_type ? strlen(glue_type) : 0 }, in, e;
	char el[64];
	if (!glue_type || n == 0)
		return false;
	switch (fl_gluetype_kind_of(s, &in)) {
	case FL_GLUETYPE_SCALAR:
		return fl_gluetype_scalar_span(s, out, n);
	case FL_GLUETYPE_ARRAY:
		if (fl_gluetype_kind_of(in, &e) == FL_GLUETYPE_SCALAR)
			return fl_gluetype_scalar_span(in, el, sizeof el) &&
			       (size_t)snprintf(out, n, "%s[]", el) < n;
		return gvalid(s, 0) && (size_t)snprintf(out, n, "jsonb") < n;
	case FL_GLUETYPE_STRUCT:
	case FL_GLUETYPE_MAP:
		return gvalid(s, 0) && (size_t)snprintf(out, n, "jsonb") < n;
	case FL_GLUETYPE_BAD:
		break;
	}
	return false;
}
