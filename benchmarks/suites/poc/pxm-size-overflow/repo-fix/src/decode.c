#include <stdlib.h>
#include <string.h>

#include "pxm.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int pxm_decode(const uint8_t *data, size_t size, struct image *image, const char **why)
{
    memset(image, 0, sizeof *image);
    if (size < 13 || memcmp(data, "PXM1", 4) != 0) {
        *why = "not a PXM1 image";
        return -1;
    }
    uint32_t width = le32(data + 4), height = le32(data + 8);
    uint8_t channels = data[12];
    if (width == 0 || height == 0 || width > PXM_MAX_SIDE || height > PXM_MAX_SIDE) {
        *why = "bad width or height";
        return -1;
    }
    if (channels != 1 && channels != 3 && channels != 4) {
        *why = "bad number of channels";
        return -1;
    }
    /* In 64 bits: 65536 x 65536 x 4 does not fit in 32 (it wrapped to a tiny buffer). */
    size_t stride = (size_t)width * channels;
    uint64_t bytes = (uint64_t)stride * height;
    if (bytes > PXM_MAX_BYTES) {
        *why = "image too large";
        return -1;
    }
    uint8_t *pixels = malloc((size_t)bytes);
    if (!pixels) {
        *why = "out of memory";
        return -1;
    }
    const uint8_t *in = data + 13, *end = data + size;
    for (uint32_t y = 0; y < height; y++) {
        uint8_t *row = pixels + (size_t)y * stride;
        for (size_t x = 0; x < stride; x++)
            row[x] = in < end ? *in++ : 0; /* a short file is padded with black */
    }
    image->width = width;
    image->height = height;
    image->channels = channels;
    image->pixels = pixels;
    return 0;
}

void image_free(struct image *image)
{
    free(image->pixels);
    image->pixels = NULL;
}
