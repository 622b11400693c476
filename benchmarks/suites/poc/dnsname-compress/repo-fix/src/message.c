#include <string.h>

#include "dns.h"

int read_u16(const struct message *m, size_t *pos, uint16_t *out)
{
    if (m->size < 2 || *pos > m->size - 2)
        return -1;
    *out = (uint16_t)(m->data[*pos] << 8 | m->data[*pos + 1]);
    *pos += 2;
    return 0;
}

int read_u32(const struct message *m, size_t *pos, uint32_t *out)
{
    uint16_t high, low;
    if (read_u16(m, pos, &high) != 0 || read_u16(m, pos, &low) != 0)
        return -1;
    *out = (uint32_t)high << 16 | low;
    return 0;
}

int read_header(const struct message *m, size_t *pos, struct header *h)
{
    return read_u16(m, pos, &h->id) || read_u16(m, pos, &h->flags) ||
                   read_u16(m, pos, &h->qdcount) || read_u16(m, pos, &h->ancount) ||
                   read_u16(m, pos, &h->nscount) || read_u16(m, pos, &h->arcount)
               ? -1
               : 0;
}

int read_name(const struct message *m, size_t *pos, char *out)
{
    size_t p = *pos, start = *pos, length = 0;
    int jumped = 0;
    for (;;) {
        if (p >= m->size)
            return -1;
        uint8_t n = m->data[p];
        if (n == 0) {
            p++;
            break;
        }
        if ((n & 0xC0) == 0xC0) { /* a pointer to the rest of the name */
            if (p + 1 >= m->size)
                return -1;
            size_t target = (size_t)(n & 0x3F) << 8 | m->data[p + 1];
            if (target >= p)
                return -1; /* only backwards: a pointer may not loop */
            if (!jumped)
                *pos = p + 2;
            jumped = 1;
            p = target;
            continue;
        }
        if (n > 63 || p + 1 + n > m->size)
            return -1;
        if (!jumped && p + 1 + n - start > NAME_WIRE_MAX)
            return -1;
        if (length + (length ? 1 : 0) + n >= NAME_TEXT_MAX)
            return -1; /* the dotted name, pointers followed, must fit in `out` */
        if (length)
            out[length++] = '.';
        memcpy(out + length, m->data + p + 1, n);
        length += n;
        p += 1 + (size_t)n;
    }
    if (!jumped)
        *pos = p;
    if (length == 0)
        out[length++] = '.'; /* the root */
    out[length] = '\0';
    return 0;
}
