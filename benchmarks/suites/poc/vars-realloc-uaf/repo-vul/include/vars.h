#ifndef VARS_H
#define VARS_H

#include <stddef.h>

#define NAME_MAX_LEN 31

struct var {
    char name[NAME_MAX_LEN + 1];
    char *value;
};

struct vars {
    struct var *items; /* grows as needed: pointers into it do not survive vars_add */
    size_t count, capacity;
};

struct var *vars_find(struct vars *vars, const char *name);
/* The variable `name`, added (with an empty value) when missing; NULL when out of memory. */
struct var *vars_add(struct vars *vars, const char *name);
int vars_remove(struct vars *vars, const char *name);
void vars_free(struct vars *vars);
int valid_name(const char *name);

/* script.c */
int run_line(struct vars *vars, char *line, int number);
/* template.c: prints the template with the variables replaced */
void print_template(struct vars *vars, const char *template);

#endif
