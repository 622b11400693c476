#ifndef MAR_H
#define MAR_H

#include <stddef.h>
#include <stdint.h>

#define MAR_NAME 32
#define MAR_DIRENT 44
#define MAR_MAX_ENTRIES 4096

struct mar_entry {
    char name[MAR_NAME];
    const uint8_t *data;
    size_t size;
    uint32_t crc;
};

struct mar {
    const uint8_t *data;
    size_t size;
    uint32_t count;
};

/* archive.c: 0, or -1 with a message in *why */
int mar_open(struct mar *mar, const uint8_t *data, size_t size, const char **why);
int mar_entry(const struct mar *mar, uint32_t index, struct mar_entry *entry, const char **why);

uint32_t crc32(const uint8_t *data, size_t size);

#endif
