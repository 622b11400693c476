#include <stdio.h>

#include "vars.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tmplvars SCRIPT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    struct vars vars = {0};
    char line[4096];
    int number = 0, errors = 0;
    while (fgets(line, sizeof line, f))
        if (run_line(&vars, line, ++number) != 0)
            errors++;
    fclose(f);
    vars_free(&vars);
    return errors ? 1 : 0;
}
