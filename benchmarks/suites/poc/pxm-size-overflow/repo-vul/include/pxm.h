#ifndef PXM_H
#define PXM_H

#include <stddef.h>
#include <stdint.h>

#define PXM_MAX_SIDE 65536u
#define THUMB_MAX 64u

struct image {
    uint32_t width, height;
    uint8_t channels;
    uint8_t *pixels; /* width * height * channels bytes, row by row */
};

/* decode.c: 0 on success, -1 with a message in *why */
int pxm_decode(const uint8_t *data, size_t size, struct image *image, const char **why);
void image_free(struct image *image);

/* thumb.c: a grayscale image at most THUMB_MAX on each side */
int thumbnail(const struct image *image, struct image *thumb);
void write_pgm(const struct image *gray);

#endif
