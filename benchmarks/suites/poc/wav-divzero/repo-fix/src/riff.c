#include <string.h>

#include "wav.h"

uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int riff_open(struct riff *riff, const uint8_t *data, size_t size, const char *form)
{
    if (size < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, form, 4) != 0)
        return -1;
    riff->data = data;
    riff->size = size;
    riff->pos = 12;
    return 0;
}

int riff_next(struct riff *riff, struct chunk *chunk)
{
    if (riff->size - riff->pos < 8)
        return riff->pos == riff->size ? 0 : -1;
    const uint8_t *p = riff->data + riff->pos;
    memcpy(chunk->id, p, 4);
    chunk->id[4] = '\0';
    chunk->size = le32(p + 4);
    if (chunk->size > riff->size - riff->pos - 8)
        return -1;
    chunk->data = p + 8;
    riff->pos += 8 + (size_t)chunk->size + (chunk->size & 1); /* chunks are padded to even */
    if (riff->pos > riff->size)
        riff->pos = riff->size;
    return 1;
}
