#include <stdio.h>
#include <stdlib.h>

#include "mar.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mar FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(length > 0 ? (size_t)length : 1);
    size_t size = data ? fread(data, 1, length > 0 ? (size_t)length : 0, f) : 0;
    fclose(f);
    if (!data)
        return 1;
    struct mar mar;
    const char *why = NULL;
    int bad = 0;
    if (mar_open(&mar, data, size, &why) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], why);
        free(data);
        return 1;
    }
    for (uint32_t i = 0; i < mar.count; i++) {
        struct mar_entry entry;
        if (mar_entry(&mar, i, &entry, &why) != 0) {
            fprintf(stderr, "entry %u: %s\n", i, why);
            bad++;
            continue;
        }
        int ok = crc32(entry.data, entry.size) == entry.crc;
        printf("%-31s %8zu  %s\n", entry.name, entry.size, ok ? "ok" : "CRC MISMATCH");
        bad += !ok;
    }
    free(data);
    return bad ? 1 : 0;
}
