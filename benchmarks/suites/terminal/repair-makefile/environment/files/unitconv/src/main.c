#include <stdio.h>
#include <string.h>

#include "format.h"
#include "parse.h"
#include "units.h"
#include "version.h"

static int usage(void)
{
    fprintf(stderr, "usage: unitconv VALUE FROM TO\n       unitconv --version\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("unitconv %s\n", UNITCONV_VERSION);
        return 0;
    }
    if (argc != 4)
        return usage();
    double value, result;
    if (parse_number(argv[1], &value) != 0) {
        fprintf(stderr, "unitconv: not a number: %s\n", argv[1]);
        return 2;
    }
    const struct unit *from = find_unit(argv[2]), *to = find_unit(argv[3]);
    if (!from || !to) {
        fprintf(stderr, "unitconv: unknown unit: %s\n", from ? argv[3] : argv[2]);
        return 2;
    }
    if (convert(value, from, to, &result) != 0) {
        fprintf(stderr, "unitconv: cannot convert %s (%s) to %s (%s)\n", from->symbol,
                from->dimension, to->symbol, to->dimension);
        return 1;
    }
    char text[64];
    format_value(text, sizeof text, result, to->symbol);
    puts(text);
    return 0;
}
