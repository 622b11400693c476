#include <string.h>

#include "mar.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int mar_open(struct mar *mar, const uint8_t *data, size_t size, const char **why)
{
    if (size < 8 || memcmp(data, "MAR1", 4) != 0) {
        *why = "not a MAR archive";
        return -1;
    }
    uint32_t count = le32(data + 4);
    if (count > MAR_MAX_ENTRIES || (size - 8) / MAR_DIRENT < count) {
        *why = "the directory does not fit in the file";
        return -1;
    }
    mar->data = data;
    mar->size = size;
    mar->count = count;
    return 0;
}

int mar_entry(const struct mar *mar, uint32_t index, struct mar_entry *entry, const char **why)
{
    const uint8_t *d = mar->data + 8 + (size_t)index * MAR_DIRENT;
    memcpy(entry->name, d, MAR_NAME);
    if (entry->name[MAR_NAME - 1] != '\0') {
        *why = "a name without its NUL";
        return -1;
    }
    /* Unsigned and in size_t: a size of 0xffffffff is not -1, and offset + size cannot
     * overflow when checked as size > end - offset. */
    size_t offset = le32(d + 32);
    size_t size = le32(d + 36);
    size_t data_start = 8 + (size_t)mar->count * MAR_DIRENT;
    if (offset < data_start || offset > mar->size || size > mar->size - offset) {
        *why = "data outside the archive";
        return -1;
    }
    entry->data = mar->data + offset;
    entry->size = size;
    entry->crc = le32(d + 40);
    return 0;
}
