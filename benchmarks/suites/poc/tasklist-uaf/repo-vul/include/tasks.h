#ifndef TASKS_H
#define TASKS_H

#include <stddef.h>

struct task {
    int id;
    int priority;
    int done;
    char *text;
    struct task *next;
};

struct list {
    struct task *head;
    size_t count;
};

struct task *task_new(int id, int priority, const char *text);
void task_free(struct task *task);

void list_push(struct list *list, struct task *task);
struct task *list_find(struct list *list, int id);
void list_unlink(struct list *list, struct task *task);
size_t list_purge(struct list *list);
size_t list_drop(struct list *list, const char *prefix);
void list_print(const struct list *list);
void list_clear(struct list *list);

/* commands.c: runs one line; 0 on success, -1 on an error (reported) */
int run_command(struct list *list, char *line, int number);

#endif
