#include <stdio.h>

#include "tasks.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tasklist SCRIPT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    struct list list = {0};
    char line[1024];
    int number = 0, errors = 0;
    while (fgets(line, sizeof line, f))
        if (run_command(&list, line, ++number) != 0)
            errors++;
    fclose(f);
    list_clear(&list);
    return errors ? 1 : 0;
}
