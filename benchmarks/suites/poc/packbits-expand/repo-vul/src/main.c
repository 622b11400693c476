#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packbits.h"

static int unpack(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    int strip = 0;
    while (pos < size) {
        if (size - pos < 6 || memcmp(data + pos, "PB", 2) != 0) {
            fprintf(stderr, "strip %d: bad header\n", strip);
            return -1;
        }
        size_t expected = (size_t)data[pos + 2] << 8 | data[pos + 3];
        size_t packed = (size_t)data[pos + 4] << 8 | data[pos + 5];
        pos += 6;
        if (packed > size - pos) {
            fprintf(stderr, "strip %d: truncated\n", strip);
            return -1;
        }
        uint8_t *out = malloc(expected ? expected : 1);
        if (!out)
            return -1;
        long got = packbits_decode(data + pos, packed, out, expected);
        if (got != (long)expected) {
            fprintf(stderr, "strip %d: decodes to %ld bytes, not %zu\n", strip, got, expected);
            free(out);
            return -1;
        }
        printf("strip %d: %zu bytes, crc32 %08x\n", strip, expected, crc32(out, expected));
        free(out);
        pos += packed;
        strip++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pbunpack FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static uint8_t data[1 << 16];
    size_t size = fread(data, 1, sizeof data, f);
    fclose(f);
    return unpack(data, size) == 0 ? 0 : 1;
}
