/*
 * crc32c.h - CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected), as
 * used by the WAL frames.  crc32c("123456789") = 0xE3069283.
 */
#ifndef FL_CRC32C_H
#define FL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over p[0..n): start with 0; fl_crc32c(fl_crc32c(0, a), b)
 * is the CRC of a followed by b. */
uint32_t fl_crc32c(uint32_t crc, const void *p, size_t n);
/* The same with the portable table code whatever the CPU (tests, bench). */
uint32_t fl_crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
