#include <stdio.h>

#include "dns.h"

const char *type_name(uint16_t type)
{
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    default: return "TYPE?";
    }
}

static int print_data(const struct message *m, size_t pos, uint16_t type, uint16_t length)
{
    char name[NAME_TEXT_MAX];
    const uint8_t *d = m->data + pos;
    switch (type) {
    case 1:
        if (length != 4)
            return -1;
        printf("%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
        return 0;
    case 28:
        if (length != 16)
            return -1;
        for (int i = 0; i < 16; i += 2)
            printf("%s%x", i ? ":" : "", d[i] << 8 | d[i + 1]);
        return 0;
    case 2: case 5: case 12:
        if (read_name(m, &pos, name) != 0)
            return -1;
        printf("%s", name);
        return 0;
    case 15: {
        uint16_t preference;
        if (read_u16(m, &pos, &preference) != 0 || read_name(m, &pos, name) != 0)
            return -1;
        printf("%u %s", preference, name);
        return 0;
    }
    case 16:
        for (size_t i = 0; i < length;) {
            size_t n = d[i];
            if (i + 1 + n > length)
                return -1;
            printf("%s\"%.*s\"", i ? " " : "", (int)n, (const char *)d + i + 1);
            i += 1 + n;
        }
        return 0;
    default:
        printf("\\# %u", length);
        return 0;
    }
}

int print_record(const struct message *m, size_t *pos, int question)
{
    char name[NAME_TEXT_MAX];
    uint16_t type, class, length;
    uint32_t ttl;
    if (read_name(m, pos, name) != 0 || read_u16(m, pos, &type) != 0 ||
        read_u16(m, pos, &class) != 0)
        return -1;
    if (question) {
        printf(";%s\t\t%s\t%s\n", name, class == 1 ? "IN" : "CLASS?", type_name(type));
        return 0;
    }
    if (read_u32(m, pos, &ttl) != 0 || read_u16(m, pos, &length) != 0 ||
        length > m->size - *pos)
        return -1;
    printf("%s\t%u\t%s\t%s\t", name, ttl, class == 1 ? "IN" : "CLASS?", type_name(type));
    if (print_data(m, *pos, type, length) != 0)
        return -1;
    putchar('\n');
    *pos += length;
    return 0;
}
