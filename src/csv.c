/*
 * csv.c - CSV text split into records and cells (csv.h).
 *
 * DESIGN
 * Two passes over a record, both plain scans: finding its end only counts
 * quotes (a '\n' ends the record when the count is even), so a reader can
 * hand over whole records from a stream without decoding cells it does
 * not need yet; reading its cells then walks it once more, a cell at a
 * time.  A plain cell costs nothing (it is returned in place); only a
 * quoted one is copied, unescaped, into the caller's bounded buffer,
 * reused for every quoted cell.  Nothing fails: malformed quoting is read
 * leniently (csv.h), and a quoted cell past the buffer's maximum is cut short
 * and said in the record's r.
 */
#include "csv.h"

#include <string.h>

size_t fl_csv_record_end(const char *data, size_t len, bool *quoted)
{
	bool q = false;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '"')
			q = !q;
		else if (data[i] == '\n' && !q) {
			*quoted = false;
			return i;
		}
	}
	*quoted = q;
	return FL_CSV_NONE;
}

bool fl_csv_record_start(struct fl_csv_record *r, const char *rec, size_t len,
			 struct fl_buf *cell)
{
	if (len && rec[len - 1] == '\r')
		len--;
	*r = (struct fl_csv_record){ .rec = rec, .len = len, .pos = len ? 0 : 1, .cell = cell };
	return len > 0;
}

/* Unescapes the quoted cell at rec[i] ('"') into r->cell; returns the
 * offset after its closing quote (len + 1 without one). */
static size_t quoted(struct fl_csv_record *r, size_t i)
{
	const char *rec = r->rec;
	size_t end = r->len;
	enum fl_result fr = FL_OK;
	fl_buf_reset(r->cell);
	i++;
	for (;;) {
		const char *q = memchr(rec + i, '"', end - i);
		size_t stop = q ? (size_t)(q - rec) : end;
		if ((fr = fl_buf_add(r->cell, rec + i, stop - i)) != FL_OK)
			break;
		i = stop + 1;
		if (!q || i >= end || rec[i] != '"')
			break;
		if ((fr = fl_buf_addc(r->cell, '"')) != FL_OK)
			break;
		i++;
	}
	if (fr != FL_OK && r->r == FL_OK)
		r->r = fr;
	return i;
}

bool fl_csv_next_cell(struct fl_csv_record *r, const char **cell, size_t *n)
{
	const char *rec = r->rec;
	size_t i = r->pos, end = r->len;
	if (i > end)
		return false;
	if (i < end && rec[i] == '"') {
		i = quoted(r, i);
		while (i < end && rec[i] != ',')
			i++; /* bytes after the closing quote: ignored */
		*cell = r->cell->data ? r->cell->data : "";
		*n = r->cell->len;
	} else {
		const char *comma = memchr(rec + i, ',', end - i);
		size_t stop = comma ? (size_t)(comma - rec) : end;
		*cell = rec + i;
		*n = stop - i;
		i = stop;
	}
	r->pos = i < end ? i + 1 : end + 1;
	return true;
}
