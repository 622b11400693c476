#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlv.h"

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = length >= 0 ? malloc(length ? (size_t)length : 1) : NULL;
    if (data && fread(data, 1, (size_t)length, f) != (size_t)length) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)length;
    return data;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tlvdump FILE\n");
        return 2;
    }
    size_t size;
    unsigned char *data = read_file(argv[1], &size);
    if (!data) {
        perror(argv[1]);
        return 1;
    }
    int status = 1;
    if (size < 4 || memcmp(data, "TLV1", 4) != 0)
        fprintf(stderr, "%s: not a TLV1 file\n", argv[1]);
    else
        status = dump_stream(data + 4, size - 4, 0) == 0 ? 0 : 1;
    free(data);
    return status;
}
