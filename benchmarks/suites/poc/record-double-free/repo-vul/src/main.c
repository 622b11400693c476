#include <stdio.h>

#include "record.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: recparse FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char line[2048];
    int number = 0, valid = 0, invalid = 0;
    while (fgets(line, sizeof line, f)) {
        number++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct record record;
        const char *why = NULL;
        if (parse_record(line, &record, &why) != 0) {
            fprintf(stderr, "line %d: %s\n", number, why);
            invalid++;
            record_clear(&record);
            continue;
        }
        record_print(&record);
        record_clear(&record);
        valid++;
    }
    fclose(f);
    printf("%d valid, %d invalid\n", valid, invalid);
    return invalid ? 1 : 0;
}
