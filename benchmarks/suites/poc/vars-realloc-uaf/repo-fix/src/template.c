#include <stdio.h>
#include <string.h>

#include "vars.h"

void print_template(struct vars *vars, const char *template)
{
    const char *p = template;
    while (*p) {
        const char *open = strstr(p, "${");
        if (!open) {
            fputs(p, stdout);
            break;
        }
        fwrite(p, 1, (size_t)(open - p), stdout);
        const char *close = strchr(open + 2, '}');
        size_t n = close ? (size_t)(close - open - 2) : 0;
        char name[NAME_MAX_LEN + 1];
        struct var *var = NULL;
        if (close && n > 0 && n <= NAME_MAX_LEN) {
            memcpy(name, open + 2, n);
            name[n] = '\0';
            var = vars_find(vars, name);
        }
        if (var) {
            fputs(var->value, stdout);
            p = close + 1;
        } else {
            fputs("${", stdout);
            p = open + 2;
        }
    }
    putchar('\n');
}
