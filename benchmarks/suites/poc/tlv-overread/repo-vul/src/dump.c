#include <stdio.h>

#include "tlv.h"

static void indent(int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", stdout);
}

static void hex(const uint8_t *value, size_t length)
{
    for (size_t i = 0; i < length; i++)
        printf("%02x%s", value[i], i + 1 < length ? " " : "");
}

int dump_stream(const uint8_t *data, size_t size, int depth)
{
    struct tlv_reader reader;
    struct tlv_record record;
    int status;
    tlv_init(&reader, data, size);
    while ((status = tlv_next(&reader, &record)) == TLV_OK) {
        indent(depth);
        switch (record.type) {
        case TLV_BYTES:
            printf("bytes[%u]: ", record.length);
            hex(record.value, record.length);
            putchar('\n');
            break;
        case TLV_TEXT:
            printf("text[%u]: \"%.*s\"\n", record.length, (int)record.length,
                   (const char *)record.value);
            break;
        case TLV_U32:
            if (record.length != 4) {
                printf("u32: bad length %u\n", record.length);
                return -1;
            }
            printf("u32: %u\n", (unsigned)record.value[0] << 24 | record.value[1] << 16 |
                                    record.value[2] << 8 | record.value[3]);
            break;
        case TLV_NESTED:
            printf("nested[%u]:\n", record.length);
            if (depth >= 8 || dump_stream(record.value, record.length, depth + 1) != 0)
                return -1;
            break;
        default:
            printf("type %u[%u]: ", record.type, record.length);
            hex(record.value, record.length);
            putchar('\n');
        }
    }
    if (status == TLV_TRUNCATED) {
        indent(depth);
        puts("error: truncated record");
        return -1;
    }
    return 0;
}
