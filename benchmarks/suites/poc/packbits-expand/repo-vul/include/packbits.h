#ifndef PACKBITS_H
#define PACKBITS_H

#include <stddef.h>
#include <stdint.h>

/* Decodes `size` bytes of PackBits data into `out`, which has room for `expected` bytes.
 * Returns the number of bytes decoded, or -1 if the data is truncated. */
long packbits_decode(const uint8_t *in, size_t size, uint8_t *out, size_t expected);

uint32_t crc32(const uint8_t *data, size_t size);

#endif
