/*
 * buf.h - growable byte buffer that carries its own maximum.
 *
 * Going past max is FL_TOO_LARGE and leaves the buffer as it was: callers
 * map it to the API's own limit error, never a crash or a silent cut.
 * The data is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef FL_BUF_H
#define FL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

struct fl_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void fl_buf_init(struct fl_buf *b, size_t max);
/* Frees the storage; the buffer may be initialised again. NULL is fine. */
void fl_buf_free(struct fl_buf *b);
/* Keeps the storage, forgets the contents. */
void fl_buf_reset(struct fl_buf *b);
/* Makes room for n more bytes (FL_TOO_LARGE past max, FL_INTERNAL on ENOMEM). */
enum fl_result fl_buf_reserve(struct fl_buf *b, size_t n) FL_MUST_USE;
enum fl_result fl_buf_add(struct fl_buf *b, const void *p, size_t n) FL_MUST_USE;
enum fl_result fl_buf_addc(struct fl_buf *b, char c) FL_MUST_USE;
enum fl_result fl_buf_adds(struct fl_buf *b, const char *s) FL_MUST_USE;
enum fl_result fl_buf_printf(struct fl_buf *b, const char *fmt, ...)
	FL_PRINTF(2, 3) FL_MUST_USE;
/* Length of the well-formed UTF-8 sequence at p (1..4 bytes, at most n),
 * 0 when there is none (a stray byte, a cut or overlong sequence, a
 * surrogate, past U+10FFFF). */
size_t fl_utf8_seq(const unsigned char *p, size_t n);
/* Appends s as a JSON string literal, quotes included; a byte that is not
 * part of well-formed UTF-8 becomes \ufffd, so the literal is valid JSON
 * whatever s holds. */
enum fl_result fl_buf_add_json_str(struct fl_buf *b, const char *s, size_t n)
	FL_MUST_USE;
/* Takes the storage out of the buffer; caller owns (free()).  The buffer
 * is left empty. */
char *fl_buf_steal(struct fl_buf *b, size_t *len);

#endif
