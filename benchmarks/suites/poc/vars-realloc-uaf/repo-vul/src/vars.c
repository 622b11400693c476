#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vars.h"

int valid_name(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if (!isalnum((unsigned char)name[n]) && name[n] != '_')
            return 0;
    return n > 0 && n <= NAME_MAX_LEN;
}

struct var *vars_find(struct vars *vars, const char *name)
{
    for (size_t i = 0; i < vars->count; i++)
        if (strcmp(vars->items[i].name, name) == 0)
            return &vars->items[i];
    return NULL;
}

struct var *vars_add(struct vars *vars, const char *name)
{
    struct var *found = vars_find(vars, name);
    if (found)
        return found;
    if (vars->count == vars->capacity) {
        size_t capacity = vars->capacity ? vars->capacity * 2 : 4;
        struct var *items = realloc(vars->items, capacity * sizeof *items);
        if (!items)
            return NULL;
        vars->items = items;
        vars->capacity = capacity;
    }
    struct var *var = &vars->items[vars->count];
    var->value = strdup("");
    if (!var->value)
        return NULL;
    strcpy(var->name, name);
    vars->count++;
    return var;
}

int vars_remove(struct vars *vars, const char *name)
{
    struct var *var = vars_find(vars, name);
    if (!var)
        return -1;
    free(var->value);
    size_t index = (size_t)(var - vars->items);
    memmove(var, var + 1, (vars->count - index - 1) * sizeof *var);
    vars->count--;
    return 0;
}

void vars_free(struct vars *vars)
{
    for (size_t i = 0; i < vars->count; i++)
        free(vars->items[i].value);
    free(vars->items);
    vars->items = NULL;
    vars->count = vars->capacity = 0;
}
