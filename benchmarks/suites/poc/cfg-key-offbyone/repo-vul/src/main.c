#include <stdio.h>
#include <stdlib.h>

#include "cfg.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cfgcheck FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char line[512];
    int number = 0, errors = 0;
    struct setting *first = NULL, **last = &first;
    while (fgets(line, sizeof line, f)) {
        struct setting *setting = NULL;
        switch (parse_line(line, ++number, &setting)) {
        case LINE_SETTING:
            *last = setting;
            last = &setting->next;
            break;
        case LINE_ERROR:
            errors++;
            break;
        case LINE_BLANK:
            break;
        }
    }
    fclose(f);
    for (struct setting *s = first; s; s = s->next) {
        const char *why = NULL;
        int verdict = check_setting(s, &why);
        if (verdict < 0) {
            fprintf(stderr, "line %d: %s: %s\n", s->line, s->key, why);
            errors++;
        } else if (verdict > 0) {
            fprintf(stderr, "line %d: warning: %s: %s\n", s->line, s->key, why);
        }
        printf("%s = %s\n", s->key, s->value);
    }
    while (first) {
        struct setting *next = first->next;
        setting_free(first);
        first = next;
    }
    return errors ? 1 : 0;
}
