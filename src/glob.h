/*
 * glob.h - path globs, as Glue crawler Exclusions read them.
 *
 * A pattern matches a whole path ('/' separates its folders):
 *   *       any bytes within one folder (not '/')
 *   **      any bytes, across folders
 *   ?       one byte, not '/'
 *   [a-z]   one byte (not '/') in the class; [!...] or [^...] negates; a
 *           ']' first in the class is literal; a '[' without its ']' is
 *           literal
 *   {a,b}   either alternative (nesting allowed); a '{' without its '}'
 *           is literal
 *   \c      c, literally
 * Bytes are compared as they are (case matters).  The work a pattern may
 * take is bounded: one that backtracks past FL_GLOB_BUDGET steps
 * ("*a*a*a*a*b" against a long path), or is longer than FL_GLOB_MAX_LEN
 * bytes, matches nothing.
 *
 * Pure, no I/O, no allocation.
 */
#ifndef FL_GLOB_H
#define FL_GLOB_H

#include <stdbool.h>

#define FL_GLOB_MAX_LEN 1024
#define FL_GLOB_BUDGET 100000L

/* Whether path matches pattern (both NUL-terminated; NULL matches
 * nothing). */
bool fl_glob_match(const char *pattern, const char *path);

#endif
