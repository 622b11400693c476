#include <stdio.h>
#include <stdlib.h>

#include "record.h"

void record_init(struct record *record)
{
    record->name = NULL;
    record->email = NULL;
    record->age = -1;
    record->tags = NULL;
    record->ntags = 0;
}

void record_clear(struct record *record)
{
    free(record->name);
    free(record->email);
    for (size_t i = 0; i < record->ntags; i++)
        free(record->tags[i]);
    free(record->tags);
    record_init(record); /* cleared twice (the parser on an error, then its caller) is fine */
}

void record_print(const struct record *record)
{
    printf("%s", record->name);
    if (record->email)
        printf(" <%s>", record->email);
    if (record->age >= 0)
        printf(", %d", record->age);
    for (size_t i = 0; i < record->ntags; i++)
        printf("%s%s", i ? ", " : " [", record->tags[i]);
    puts(record->ntags ? "]" : "");
}
