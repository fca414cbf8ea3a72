#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fl_buf_init(struct fl_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void fl_buf_free(struct fl_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void fl_buf_reset(struct fl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

enum fl_result fl_buf_reserve(struct fl_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return FL_TOO_LARGE;
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return FL_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->data, cap);
	if (!p)
		return FL_INTERNAL;
	b->data = p;
	b->cap = cap;
	return FL_OK;
}

enum fl_result fl_buf_add(struct fl_buf *b, const void *p, size_t n)
{
	enum fl_result r = fl_buf_reserve(b, n);
	if (r != FL_OK)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return FL_OK;
}

enum fl_result fl_buf_addc(struct fl_buf *b, char c)
{
	return fl_buf_add(b, &c, 1);
}

enum fl_result fl_buf_adds(struct fl_buf *b, const char *s)
{
	return fl_buf_add(b, s, strlen(s));
}

enum fl_result fl_buf_printf(struct fl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return FL_INTERNAL;
	enum fl_result r = fl_buf_reserve(b, (size_t)n);
	if (r != FL_OK)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return FL_OK;
}

size_t fl_utf8_seq(const unsigned char *p, size_t n)
{
	static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t k = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
		 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (!k || k > n)
		return 0;
	unsigned cp = k == 1 ? p[0] : k == 2 ? p[0] & 0x1Fu : k == 3 ? p[0] & 0x0Fu : p[0] & 0x07u;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3Fu);
	}
	if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return k;
}

enum fl_result fl_buf_add_json_str(struct fl_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	enum fl_result r = fl_buf_addc(b, '"');
	for (size_t i = 0; r == FL_OK && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			r = fl_buf_add(b, e, 2);
		} else if (c < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			r = fl_buf_add(b, e, 6);
		} else if (c < 0x80) {
			r = fl_buf_addc(b, (char)c);
		} else {
			size_t k = fl_utf8_seq((const unsigned char *)s + i, n - i);
			if (k) {
				r = fl_buf_add(b, s + i, k);
				i += k - 1;
			} else {
				r = fl_buf_add(b, "\\ufffd", 6); /* not UTF-8: U+FFFD */
			}
		}
	}
	if (r == FL_OK)
		r = fl_buf_addc(b, '"');
	return r;
}

char *fl_buf_steal(struct fl_buf *b, size_t *len)
{
	char *p = b->data;
	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
