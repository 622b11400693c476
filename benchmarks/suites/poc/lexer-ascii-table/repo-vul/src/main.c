#include <stdio.h>
#include <stdlib.h>

#include "lexer.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tokstat FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t capacity = 4096, size = 0, got;
    unsigned char *text = malloc(capacity);
    while (text && (got = fread(text + size, 1, capacity - size, f)) > 0) {
        size += got;
        if (size == capacity) {
            unsigned char *bigger = realloc(text, capacity * 2);
            if (!bigger) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            capacity *= 2;
        }
    }
    fclose(f);
    if (!text) {
        fprintf(stderr, "tokstat: out of memory\n");
        return 1;
    }
    struct stats stats = {0};
    lex(text, size, &stats);
    free(text);
    printf("lines: %zu\n", stats.lines);
    for (int k = 0; k < T_KINDS; k++)
        printf("%s: %zu\n", kind_name((enum token_kind)k), stats.tokens[k]);
    printf("longest word: %zu\n", stats.longest_word);
    return 0;
}
