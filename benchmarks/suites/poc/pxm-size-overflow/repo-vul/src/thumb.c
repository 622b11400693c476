#include <stdio.h>
#include <stdlib.h>

#include "pxm.h"

static uint8_t gray_at(const struct image *image, uint32_t x, uint32_t y)
{
    const uint8_t *p = image->pixels + ((size_t)y * image->width + x) * image->channels;
    if (image->channels == 1)
        return p[0];
    return (uint8_t)((299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u);
}

int thumbnail(const struct image *image, struct image *thumb)
{
    uint32_t side = image->width > image->height ? image->width : image->height;
    uint32_t scale = (side + THUMB_MAX - 1) / THUMB_MAX;
    thumb->width = (image->width + scale - 1) / scale;
    thumb->height = (image->height + scale - 1) / scale;
    thumb->channels = 1;
    thumb->pixels = malloc((size_t)thumb->width * thumb->height);
    if (!thumb->pixels)
        return -1;
    for (uint32_t ty = 0; ty < thumb->height; ty++) {
        for (uint32_t tx = 0; tx < thumb->width; tx++) {
            unsigned sum = 0, count = 0;
            for (uint32_t y = ty * scale; y < (ty + 1) * scale && y < image->height; y++)
                for (uint32_t x = tx * scale; x < (tx + 1) * scale && x < image->width; x++) {
                    sum += gray_at(image, x, y);
                    count++;
                }
            thumb->pixels[(size_t)ty * thumb->width + tx] = (uint8_t)(sum / count);
        }
    }
    return 0;
}

void write_pgm(const struct image *gray)
{
    printf("P2\n%u %u\n255\n", gray->width, gray->height);
    for (uint32_t y = 0; y < gray->height; y++)
        for (uint32_t x = 0; x < gray->width; x++)
            printf("%u%c", gray->pixels[(size_t)y * gray->width + x],
                   x + 1 < gray->width ? ' ' : '\n');
}
