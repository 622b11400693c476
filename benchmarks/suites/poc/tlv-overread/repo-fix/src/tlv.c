#include "tlv.h"

void tlv_init(struct tlv_reader *reader, const uint8_t *data, size_t size)
{
    reader->data = data;
    reader->size = size;
    reader->pos = 0;
}

int tlv_next(struct tlv_reader *reader, struct tlv_record *record)
{
    if (reader->pos == reader->size)
        return TLV_END;
    if (reader->size - reader->pos < 3)
        return TLV_TRUNCATED;
    const uint8_t *p = reader->data + reader->pos;
    record->type = p[0];
    record->length = (uint16_t)(p[1] << 8 | p[2]);
    if (record->length > reader->size - reader->pos - 3)
        return TLV_TRUNCATED; /* the value would run past the end of the input */
    record->value = p + 3;
    reader->pos += 3 + (size_t)record->length;
    return TLV_OK;
}
