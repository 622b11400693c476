#include <string.h>

#include "packbits.h"

long packbits_decode(const uint8_t *in, size_t size, uint8_t *out, size_t expected)
{
    const uint8_t *end = in + size;
    size_t written = 0;
    while (in < end && written < expected) {
        int n = (int8_t)*in++;
        if (n >= 0) {
            size_t count = (size_t)n + 1;
            if ((size_t)(end - in) < count || expected - written < count)
                return -1;
            memcpy(out + written, in, count);
            in += count;
            written += count;
        } else if (n != -128) {
            size_t count = (size_t)(1 - n);
            if (in == end || expected - written < count)
                return -1; /* a run longer than the room left in the strip */
            memset(out + written, *in++, count);
            written += count;
        }
    }
    return (long)written;
}
