#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks.h"

static char *next_word(char **cursor)
{
    char *p = *cursor;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return NULL;
    char *word = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p)
        *p++ = '\0';
    *cursor = p;
    return word;
}

static int number(const char *word, int low, int high, int *out)
{
    char *end;
    long value = word ? strtol(word, &end, 10) : 0;
    if (!word || *end || value < low || value > high)
        return -1;
    *out = (int)value;
    return 0;
}

int run_command(struct list *list, char *line, int number_of_line)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *cursor = line;
    char *command = next_word(&cursor);
    if (!command || command[0] == '#')
        return 0;
    if (strcmp(command, "add") == 0) {
        int id, priority;
        if (number(next_word(&cursor), 0, 1000000, &id) || number(next_word(&cursor), 1, 9,
                                                                   &priority)) {
            fprintf(stderr, "line %d: add ID PRIORITY TEXT\n", number_of_line);
            return -1;
        }
        while (*cursor == ' ')
            cursor++;
        if (list_find(list, id)) {
            fprintf(stderr, "line %d: task %d exists\n", number_of_line, id);
            return -1;
        }
        struct task *task = task_new(id, priority, cursor);
        if (!task)
            return -1;
        list_push(list, task);
    } else if (strcmp(command, "done") == 0) {
        int id;
        struct task *task = NULL;
        if (number(next_word(&cursor), 0, 1000000, &id) || !(task = list_find(list, id))) {
            fprintf(stderr, "line %d: no such task\n", number_of_line);
            return -1;
        }
        task->done = 1;
    } else if (strcmp(command, "purge") == 0) {
        printf("purged %zu\n", list_purge(list));
    } else if (strcmp(command, "drop") == 0) {
        char *prefix = next_word(&cursor);
        if (!prefix) {
            fprintf(stderr, "line %d: drop PREFIX\n", number_of_line);
            return -1;
        }
        printf("dropped %zu\n", list_drop(list, prefix));
    } else if (strcmp(command, "print") == 0) {
        list_print(list);
    } else {
        fprintf(stderr, "line %d: unknown command %s\n", number_of_line, command);
        return -1;
    }
    return 0;
}
