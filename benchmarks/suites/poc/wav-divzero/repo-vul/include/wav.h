#ifndef WAV_H
#define WAV_H

#include <stddef.h>
#include <stdint.h>

struct chunk {
    char id[5];
    uint32_t size;
    const uint8_t *data;
};

struct riff {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

/* riff.c */
int riff_open(struct riff *riff, const uint8_t *data, size_t size, const char *form);
int riff_next(struct riff *riff, struct chunk *chunk); /* 1: a chunk, 0: the end, -1: bad */
uint16_t le16(const uint8_t *p);
uint32_t le32(const uint8_t *p);

struct wav_info {
    uint16_t format, channels, block_align, bits;
    uint32_t sample_rate, byte_rate, data_size;
    uint32_t frames, seconds, milliseconds;
};

/* wav.c: 0 on success, -1 with a message in *why */
int wav_read(const uint8_t *data, size_t size, struct wav_info *info, const char **why);

#endif
