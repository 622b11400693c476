#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>

struct record {
    char *name;
    char *email;
    int age; /* -1 when not given */
    char **tags;
    size_t ntags;
};

void record_init(struct record *record);
void record_clear(struct record *record); /* frees what the record holds */
void record_print(const struct record *record);

/* parse.c: fills `record` from one line; 0 on success, -1 on an error (message in *why) */
int parse_record(char *line, struct record *record, const char **why);

#endif
