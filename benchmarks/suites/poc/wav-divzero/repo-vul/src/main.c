#include <stdio.h>
#include <stdlib.h>

#include "wav.h"

static const char *format_name(uint16_t format)
{
    switch (format) {
    case 1: return "PCM";
    case 3: return "IEEE float";
    case 6: return "A-law";
    case 7: return "mu-law";
    default: return "other";
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wavinfo FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static uint8_t data[1 << 20];
    size_t size = fread(data, 1, sizeof data, f);
    fclose(f);
    struct wav_info info;
    const char *why = NULL;
    if (wav_read(data, size, &info, &why) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], why);
        return 1;
    }
    printf("format: %s (%u)\nchannels: %u\nsample rate: %u Hz\nbits: %u\n",
           format_name(info.format), info.format, info.channels, info.sample_rate, info.bits);
    printf("frames: %u\nduration: %u.%03u s\n", info.frames, info.seconds, info.milliseconds);
    return 0;
}
