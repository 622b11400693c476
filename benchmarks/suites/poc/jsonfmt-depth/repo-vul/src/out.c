#include <stdlib.h>
#include <string.h>

#include "jsonfmt.h"

int out_put(struct out *out, const char *text, size_t length)
{
    if (out->length + length + 1 > out->capacity) {
        size_t capacity = out->capacity ? out->capacity : 256;
        while (capacity < out->length + length + 1)
            capacity *= 2;
        char *data = realloc(out->data, capacity);
        if (!data)
            return -1;
        out->data = data;
        out->capacity = capacity;
    }
    memcpy(out->data + out->length, text, length);
    out->length += length;
    out->data[out->length] = '\0';
    return 0;
}

int out_puts(struct out *out, const char *text)
{
    return out_put(out, text, strlen(text));
}

int out_indent(struct out *out, int depth)
{
    for (int i = 0; i < depth; i++)
        if (out_put(out, "  ", 2) != 0)
            return -1;
    return 0;
}

void out_free(struct out *out)
{
    free(out->data);
    out->data = NULL;
    out->length = out->capacity = 0;
}
