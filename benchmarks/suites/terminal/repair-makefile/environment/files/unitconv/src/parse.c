#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int parse_number(const char *text, double *out)
{
    char clean[64];
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '_')
            continue; /* 1_000 */
        if (n + 1 >= sizeof clean)
            return -1;
        clean[n++] = *p;
    }
    clean[n] = '\0';
    if (n == 0)
        return -1;
    char *end;
    errno = 0;
    double value = strtod(clean, &end);
    if (*end != '\0' || errno != 0)
        return -1;
    *out = value;
    return 0;
}
