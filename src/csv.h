/*
 * csv.h - CSV text (RFC 4180) split into records and cells.
 *
 *   record  = cell *("," cell), ended by "\n" or "\r\n" outside quotes
 *             (or by the end of the text)
 *   cell    = bytes without ',' | '"' bytes, "" for a quote, '"'
 * A record ends at the first '\n' after an even number of '"' (so a '\n'
 * inside quotes belongs to its cell).  Leniencies: bytes after a closing
 * quote up to the next ',' are ignored; a quoted cell without its closing
 * quote runs to the end of the record.  A record that is empty (or only
 * "\r") is a blank line: it has no cells.  "a," has two cells, the second
 * empty.  Nothing is trimmed; a header line is a record like any other.
 *
 * A plain cell is returned in place (borrowed from the record); a quoted
 * one is unescaped into the caller's buffer, whose maximum bounds it.
 *
 * Pure, no I/O; allocates only through the caller's fl_buf.
 */
#ifndef FL_CSV_H
#define FL_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

#define FL_CSV_NONE SIZE_MAX

/* The offset of the '\n' that ends the record starting at data[0], or
 * FL_CSV_NONE when data[0..len) does not end it; *quoted then says
 * whether a quote is still open at len (a last record without its '\n',
 * or one cut in the middle of a quoted cell). */
size_t fl_csv_record_end(const char *data, size_t len, bool *quoted);

struct fl_csv_record {
	const char *rec;        /* the record (borrowed), without "\r\n" */
	size_t len;
	size_t pos;             /* the next cell's offset; len + 1: none left */
	struct fl_buf *cell;    /* quoted cells are unescaped here (borrowed) */
	enum fl_result r;       /* FL_OK, or the first failure to unescape a
	                         * quoted cell: FL_TOO_LARGE past cell's max,
	                         * FL_INTERNAL on ENOMEM (that cell holds what
	                         * fit) */
};

/* Starts reading the cells of rec[0..len) (the record without its '\n';
 * rec borrowed for as long as r is used).  false for a blank line. */
bool fl_csv_record_start(struct fl_csv_record *r, const char *rec, size_t len,
			 struct fl_buf *cell);

/* The next cell of r: *cell, *n (borrowed: from the record, or from r's
 * cell buffer until the next call).  false when no cell is left. */
bool fl_csv_next_cell(struct fl_csv_record *r, const char **cell, size_t *n);

#endif
