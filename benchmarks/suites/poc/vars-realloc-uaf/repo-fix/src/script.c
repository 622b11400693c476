#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vars.h"

static char *word(char **cursor)
{
    char *p = *cursor;
    while (*p == ' ')
        p++;
    if (!*p)
        return NULL;
    char *start = p;
    while (*p && *p != ' ')
        p++;
    if (*p)
        *p++ = '\0';
    *cursor = p;
    return start;
}

static int set_value(struct var *var, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -1;
    free(var->value);
    var->value = copy;
    return 0;
}

int run_line(struct vars *vars, char *line, int number)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *cursor = line;
    char *command = word(&cursor);
    if (!command || command[0] == '#')
        return 0;
    if (strcmp(command, "print") == 0) {
        while (*cursor == ' ')
            cursor++;
        print_template(vars, cursor);
        return 0;
    }
    char *name = word(&cursor);
    if (!name || !valid_name(name)) {
        fprintf(stderr, "line %d: %s needs a variable name\n", number, command);
        return -1;
    }
    while (*cursor == ' ')
        cursor++;
    if (strcmp(command, "set") == 0) {
        struct var *var = vars_add(vars, name);
        return var && set_value(var, cursor) == 0 ? 0 : -1;
    }
    if (strcmp(command, "append") == 0) {
        struct var *var = vars_find(vars, name);
        if (!var) {
            fprintf(stderr, "line %d: no variable %s\n", number, name);
            return -1;
        }
        size_t old = strlen(var->value), more = strlen(cursor);
        char *value = realloc(var->value, old + more + 1);
        if (!value)
            return -1;
        memcpy(value + old, cursor, more + 1);
        var->value = value;
        return 0;
    }
    if (strcmp(command, "alias") == 0) {
        char *old_name = word(&cursor);
        struct var *old = old_name ? vars_find(vars, old_name) : NULL;
        if (!old) {
            fprintf(stderr, "line %d: alias NEW OLD: no variable %s\n", number,
                    old_name ? old_name : "given");
            return -1;
        }
        /* vars_add may move the table (and `old` with it): copy the value first */
        char *value = strdup(old->value);
        struct var *var = value ? vars_add(vars, name) : NULL;
        int status = var && set_value(var, value) == 0 ? 0 : -1;
        free(value);
        return status;
    }
    if (strcmp(command, "unset") == 0) {
        if (vars_remove(vars, name) != 0) {
            fprintf(stderr, "line %d: no variable %s\n", number, name);
            return -1;
        }
        return 0;
    }
    fprintf(stderr, "line %d: unknown command %s\n", number, command);
    return -1;
}
