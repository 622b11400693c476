#include <stdio.h>
#include <stdlib.h>

#include "jsonfmt.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: jsonfmt FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    struct out input = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (out_put(&input, chunk, got) != 0)
            break;
    fclose(f);
    struct parser p = {input.data ? input.data : "", input.length, 0, NULL};
    struct out out = {0};
    int status = 0;
    if (format_document(&p, &out) != 0) {
        fprintf(stderr, "%s: %s at byte %zu\n", argv[1], p.error ? p.error : "out of memory",
                p.pos);
        status = 1;
    } else {
        fputs(out.data, stdout);
    }
    out_free(&out);
    out_free(&input);
    return status;
}
