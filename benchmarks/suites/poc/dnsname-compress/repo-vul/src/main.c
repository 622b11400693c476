#include <stdio.h>

#include "dns.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: dnsdump FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    uint8_t data[DNS_MAX_MESSAGE + 1];
    size_t size = fread(data, 1, sizeof data, f);
    fclose(f);
    if (size > DNS_MAX_MESSAGE) {
        fprintf(stderr, "%s: larger than %d bytes\n", argv[1], DNS_MAX_MESSAGE);
        return 1;
    }
    struct message m = {data, size};
    struct header h;
    size_t pos = 0;
    if (read_header(&m, &pos, &h) != 0) {
        fprintf(stderr, "%s: truncated header\n", argv[1]);
        return 1;
    }
    printf(";; id %u, flags %04x, %s\n", h.id, h.flags, h.flags & 0x8000 ? "response" : "query");
    const char *sections[] = {"QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL"};
    uint16_t counts[] = {h.qdcount, h.ancount, h.nscount, h.arcount};
    for (int s = 0; s < 4; s++) {
        if (counts[s])
            printf("\n;; %s SECTION:\n", sections[s]);
        for (unsigned i = 0; i < counts[s]; i++) {
            if (print_record(&m, &pos, s == 0) != 0) {
                fprintf(stderr, "%s: malformed record in the %s section\n", argv[1],
                        sections[s]);
                return 1;
            }
        }
    }
    return 0;
}
