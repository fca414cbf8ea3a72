/*
 * glob.c - path globs for crawler Exclusions (glob.h).
 *
 * DESIGN
 * A backtracking matcher over the pattern and the path, both NUL-
 * terminated: '*' tries every split of the rest of the path, '{a,b}'
 * tries each alternative spliced before what follows its '}' (in a
 * buffer of FL_GLOB_MAX_LEN + 1 bytes on the stack: an expansion that
 * does not fit is an alternative that does not match).  Rather than
 * compiling patterns, the work is bounded: every step of the pattern
 * costs one unit of a budget, and a pattern that spends it all does not
 * match - so a hostile Exclusions list costs at most FL_GLOB_BUDGET steps
 * per pattern and path.
 */
#include "glob.h"

#include <stdio.h>
#include <string.h>

/* Whether c is in the class at *pp ('['); *pp moves past its ']'.  *ok
 * false: the class has no ']' (then *pp does not move). */
static bool glob_class(const char **pp, char c, bool *ok)
{
	const char *p = *pp + 1;
	bool neg = *p == '!' || *p == '^', hit = false;
	if (neg)
		p++;
	for (bool first = true; *p && (first || *p != ']'); first = false) {
		char lo = *p, hi = lo;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = p[2];
			p += 3;
		} else {
			p++;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	if (*p != ']') {
		*ok = false;
		return false;
	}
	*pp = p + 1;
	*ok = true;
	return hit != neg;
}

/* budget bounds the work of a pattern that backtracks a lot ("*a*a*a*b"):
 * past it the pattern does not match. */
static bool glob_match(const char *p, const char *s, long *budget)
{
	while (*p) {
		if (--*budget < 0)
			return false;
		switch (*p) {
		case '*': {
			bool any = p[1] == '*';
			const char *rest = p + (any ? 2 : 1);
			for (const char *t = s;; t++) {
				if (glob_match(rest, t, budget))
					return true;
				if (!*t || (!any && *t == '/'))
					return false;
			}
		}
		case '?':
			if (!*s || *s == '/')
				return false;
			p++;
			s++;
			break;
		case '[': {
			bool ok;
			if (!*s || *s == '/')
				return false;
			bool hit = glob_class(&p, *s, &ok);
			if (!ok) {
				if (*s != '[')
					return false;
				p++;
			} else if (!hit) {
				return false;
			}
			s++;
			break;
		}
		case '{': {
			/* Each alternative, followed by what comes after the '}'. */
			const char *end = p + 1;
			int nest = 0;
			for (; *end && (nest || *end != '}'); end++)
				nest += *end == '{' ? 1 : *end == '}' ? -1 : 0;
			if (!*end)
				goto literal;
			const char *alt = p + 1;
			for (;;) {
				const char *q = alt;
				for (nest = 0; q < end && (nest || *q != ','); q++)
					nest += *q == '{' ? 1 : *q == '}' ? -1 : 0;
				char buf[FL_GLOB_MAX_LEN + 1];
				int k = snprintf(buf, sizeof buf, "%.*s%s", (int)(q - alt), alt, end + 1);
				if (k > 0 && (size_t)k < sizeof buf && glob_match(buf, s, budget))
					return true;
				if (q >= end)
					return false;
				alt = q + 1;
			}
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
literal:
			if (*p != *s)
				return false;
			p++;
			s++;
		}
	}
	return *s == '\0';
}

bool fl_glob_match(const char *pattern, const char *path)
{
	long budget = FL_GLOB_BUDGET;
	if (!pattern || !path || strlen(pattern) > FL_GLOB_MAX_LEN)
		return false;
	return glob_match(pattern, path, &budget);
}
