#include <stdio.h>
#include <stdlib.h>

#include "pxm.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pxmthumb FILE > thumb.pgm\n");
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
    struct image image, thumb;
    const char *why = NULL;
    int status = 1;
    if (!data)
        fprintf(stderr, "pxmthumb: out of memory\n");
    else if (pxm_decode(data, size, &image, &why) != 0)
        fprintf(stderr, "%s: %s\n", argv[1], why);
    else {
        if (thumbnail(&image, &thumb) == 0) {
            write_pgm(&thumb);
            image_free(&thumb);
            status = 0;
        }
        image_free(&image);
    }
    free(data);
    return status;
}
