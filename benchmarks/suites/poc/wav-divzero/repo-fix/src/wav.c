#include <string.h>

#include "wav.h"

int wav_read(const uint8_t *data, size_t size, struct wav_info *info, const char **why)
{
    struct riff riff;
    struct chunk chunk;
    int have_fmt = 0, have_data = 0, status;
    memset(info, 0, sizeof *info);
    if (riff_open(&riff, data, size, "WAVE") != 0) {
        *why = "not a RIFF/WAVE file";
        return -1;
    }
    while ((status = riff_next(&riff, &chunk)) == 1) {
        if (strcmp(chunk.id, "fmt ") == 0) {
            if (chunk.size < 16) {
                *why = "fmt chunk too short";
                return -1;
            }
            info->format = le16(chunk.data);
            info->channels = le16(chunk.data + 2);
            info->sample_rate = le32(chunk.data + 4);
            info->byte_rate = le32(chunk.data + 8);
            info->block_align = le16(chunk.data + 12);
            info->bits = le16(chunk.data + 14);
            have_fmt = 1;
        } else if (strcmp(chunk.id, "data") == 0) {
            info->data_size = chunk.size;
            have_data = 1;
        }
    }
    if (status < 0) {
        *why = "truncated chunk";
        return -1;
    }
    if (!have_fmt || !have_data) {
        *why = have_fmt ? "no data chunk" : "no fmt chunk";
        return -1;
    }
    if (info->channels == 0 || info->sample_rate == 0) {
        *why = "no channels or a sample rate of 0";
        return -1;
    }
    if (info->bits == 0 || info->bits % 8 != 0 ||
        info->block_align != (uint32_t)info->channels * (info->bits / 8)) {
        *why = "the block size does not match the channels and bits per sample";
        return -1;
    }
    info->frames = info->data_size / info->block_align;
    info->seconds = info->frames / info->sample_rate;
    info->milliseconds = (uint32_t)((uint64_t)(info->frames % info->sample_rate) * 1000 /
                                    info->sample_rate);
    return 0;
}
