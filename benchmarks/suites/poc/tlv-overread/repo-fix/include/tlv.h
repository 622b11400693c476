#ifndef TLV_H
#define TLV_H

#include <stddef.h>
#include <stdint.h>

enum tlv_type { TLV_BYTES = 1, TLV_TEXT = 2, TLV_U32 = 3, TLV_NESTED = 4 };

struct tlv_record {
    uint8_t type;
    uint16_t length;
    const uint8_t *value;
};

struct tlv_reader {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

enum tlv_status { TLV_OK = 1, TLV_END = 0, TLV_TRUNCATED = -1 };

void tlv_init(struct tlv_reader *reader, const uint8_t *data, size_t size);
/* The next record: TLV_OK, TLV_END at the end of the input, TLV_TRUNCATED when the input
 * ends inside a record. */
int tlv_next(struct tlv_reader *reader, struct tlv_record *record);

/* dump.c */
int dump_stream(const uint8_t *data, size_t size, int depth);

#endif
