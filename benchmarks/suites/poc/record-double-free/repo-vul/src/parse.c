#include <stdlib.h>
#include <string.h>

#include "record.h"

static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

static int parse_tags(char *value, struct record *record)
{
    for (char *tag = strtok(value, ","); tag; tag = strtok(NULL, ",")) {
        tag = trim(tag);
        if (!*tag)
            continue;
        char **more = realloc(record->tags, (record->ntags + 1) * sizeof *more);
        if (!more)
            return -1;
        record->tags = more;
        if (!(record->tags[record->ntags] = strdup(tag)))
            return -1;
        record->ntags++;
    }
    return 0;
}

static int set_field(struct record *record, const char *key, char *value, const char **why)
{
    if (strcmp(key, "name") == 0 || strcmp(key, "email") == 0) {
        char **slot = key[0] == 'n' ? &record->name : &record->email;
        if (*slot) {
            *why = "field given twice";
            return -1;
        }
        if (!*value || !(*slot = strdup(value))) {
            *why = "empty value";
            return -1;
        }
    } else if (strcmp(key, "age") == 0) {
        char *end;
        long age = strtol(value, &end, 10);
        if (!*value || *end || age < 0 || age > 150) {
            *why = "bad age";
            return -1;
        }
        record->age = (int)age;
    } else if (strcmp(key, "tags") == 0) {
        if (parse_tags(value, record) != 0) {
            *why = "out of memory";
            return -1;
        }
    } else {
        *why = "unknown field";
        return -1;
    }
    return 0;
}

int parse_record(char *line, struct record *record, const char **why)
{
    record_init(record);
    char *save = NULL;
    for (char *field = strtok_r(line, ";", &save); field; field = strtok_r(NULL, ";", &save)) {
        field = trim(field);
        if (!*field)
            continue;
        char *eq = strchr(field, '=');
        if (!eq) {
            *why = "a field without '='";
            record_clear(record);
            return -1;
        }
        *eq = '\0';
        if (set_field(record, trim(field), trim(eq + 1), why) != 0) {
            record_clear(record);
            return -1;
        }
    }
    if (!record->name) {
        *why = "no name";
        record_clear(record);
        return -1;
    }
    return 0;
}
