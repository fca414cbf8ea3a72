/*
 * fuzz.h - what every libFuzzer target of firelake shares.
 *
 * A target is one file fuzz/fuzz_<target>.c defining LLVMFuzzerTestOneInput
 * over a module's pure entry points.  A target aborts (FUZZ_CHECK) when an
 * entry point breaks its own contract - an answer outside the documented
 * results, an error without text, output that is not what the header
 * promises - so the fuzzer reports those as crashes too, beside what ASan
 * and UBSan catch.
 *
 * Inputs that carry several parts (an operation name and a body, an
 * expression and an event) put them on lines: fuzz_line() cuts the first
 * line off.  Seeds in fuzz/corpus/<target>/ are written that way, so they
 * stay readable and survive a change of the generated tables.
 */
#ifndef FL_FUZZ_H
#define FL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the place and the failed condition: libFuzzer then keeps
 * the input as a crash. */
#define FUZZ_CHECK(cond)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, \
				__LINE__, #cond);                               \
			abort();                                                \
		}                                                               \
	} while (0)

/* A failed call must say why: a known code and some text. */
#define FUZZ_CHECK_ERROR(r, err)                                                \
	do {                                                                    \
		FUZZ_CHECK((r) != FL_OK);                                       \
		FUZZ_CHECK((err).msg[0] != '\0');                               \
		FUZZ_CHECK(memchr((err).msg, '\0', sizeof (err).msg) != NULL);  \
	} while (0)

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing past U+10FFFF): an error message quoting a client's value must
 * stay so, or the JSON answer around it is broken. */
static inline int fuzz_utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p++;
		size_t k;
		unsigned cp, min;

		if (c < 0x80)
			continue;
		if ((c & 0xE0) == 0xC0) {
			k = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if ((size_t)(end - p) < k)
			return 0;
		for (size_t i = 0; i < k; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		p += k;
	}
	return 1;
}

/* A message about input that was UTF-8 must be UTF-8 too. */
#define FUZZ_CHECK_MESSAGE_UTF8(in, in_len, msg)                                \
	do {                                                                    \
		if (fuzz_utf8_ok((in), (in_len)) &&                             \
		    !fuzz_utf8_ok((msg), strlen(msg))) {                        \
			fprintf(stderr, "message not UTF-8: %s\n", (msg));      \
			FUZZ_CHECK(!"message not UTF-8");                       \
		}                                                               \
	} while (0)

/* A NUL-terminated heap copy of data[0..n) (caller frees); NULL without
 * memory, which ends the run quietly. */
static inline char *fuzz_strndup(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, data, n);
		s[n] = '\0';
	}
	return s;
}

/* Cuts the first line (without its '\n') off the input (data, size);
 * the rest stays in it.  Without a '\n' the whole input is the line. */
static inline void fuzz_line(const uint8_t **data, size_t *size, const uint8_t **line,
			     size_t *len)
{
	const uint8_t *nl = *size ? memchr(*data, '\n', *size) : NULL;

	*line = *data;
	if (!nl) {
		*len = *size;
		*data += *size;
		*size = 0;
		return;
	}
	*len = (size_t)(nl - *data);
	*size -= *len + 1;
	*data = nl + 1;
}

#endif
