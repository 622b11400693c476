#ifndef DNS_H
#define DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_MAX_MESSAGE 512
#define NAME_WIRE_MAX 255  /* a name's length on the wire */
#define NAME_TEXT_MAX 256  /* a dotted name and its NUL */

struct message {
    const uint8_t *data;
    size_t size;
};

struct header {
    uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

/* message.c: each returns 0, or -1 when the message is malformed */
int read_u16(const struct message *m, size_t *pos, uint16_t *out);
int read_u32(const struct message *m, size_t *pos, uint32_t *out);
int read_header(const struct message *m, size_t *pos, struct header *h);
/* The name at *pos, dotted, into `out`; *pos moves past it (past the first pointer if any). */
int read_name(const struct message *m, size_t *pos, char *out);

/* print.c */
const char *type_name(uint16_t type);
int print_record(const struct message *m, size_t *pos, int question);

#endif
