/*
 * stage_value.h - checks of staged values against PostgreSQL's input
 * rules (private to stage_copy.c; fl_stage_col_type is in stage_copy.h).
 */
#ifndef FL_STAGE_VALUE_H
#define FL_STAGE_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "stage_copy.h"

#define FL_STAGE_PLAIN_MAX 2304         /* a checked non-text value */

/* A non-text scalar of col's kind from text s[0..n): writes PostgreSQL's
 * input text into dst (FL_STAGE_PLAIN_MAX bytes); its length, or -1. */
int fl_stage_value_plain(const struct fl_stage_col *col, const char *s, size_t n, char *dst);

/* Whether s[0..n) is well-formed UTF-8 without U+0000. */
bool fl_stage_value_utf8_ok(const unsigned char *s, size_t n);

/* Whether PostgreSQL's jsonb takes this valid JSON text. */
bool fl_stage_value_jsonb_ok(const char *s, size_t n);

#endif
