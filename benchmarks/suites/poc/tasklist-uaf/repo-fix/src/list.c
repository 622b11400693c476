#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks.h"

struct task *task_new(int id, int priority, const char *text)
{
    struct task *task = calloc(1, sizeof *task);
    if (!task)
        return NULL;
    task->text = strdup(text);
    if (!task->text) {
        free(task);
        return NULL;
    }
    task->id = id;
    task->priority = priority;
    return task;
}

void task_free(struct task *task)
{
    free(task->text);
    free(task);
}

void list_push(struct list *list, struct task *task)
{
    struct task **slot = &list->head;
    while (*slot)
        slot = &(*slot)->next;
    *slot = task;
    list->count++;
}

struct task *list_find(struct list *list, int id)
{
    for (struct task *t = list->head; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

void list_unlink(struct list *list, struct task *task)
{
    for (struct task **slot = &list->head; *slot; slot = &(*slot)->next) {
        if (*slot == task) {
            *slot = task->next;
            task->next = NULL;
            list->count--;
            return;
        }
    }
}

size_t list_purge(struct list *list)
{
    size_t removed = 0;
    struct task **slot = &list->head;
    while (*slot) {
        struct task *t = *slot;
        if (t->done) {
            *slot = t->next;
            task_free(t);
            list->count--;
            removed++;
        } else {
            slot = &t->next;
        }
    }
    return removed;
}

size_t list_drop(struct list *list, const char *prefix)
{
    size_t removed = 0, n = strlen(prefix);
    struct task *next;
    for (struct task *t = list->head; t; t = next) {
        next = t->next; /* before t is freed */
        if (strncmp(t->text, prefix, n) == 0) {
            list_unlink(list, t);
            task_free(t);
            removed++;
        }
    }
    return removed;
}

static int by_priority(const void *a, const void *b)
{
    const struct task *x = *(const struct task *const *)a, *y = *(const struct task *const *)b;
    if (x->done != y->done)
        return x->done - y->done;
    if (x->priority != y->priority)
        return x->priority - y->priority;
    return x->id - y->id;
}

void list_print(const struct list *list)
{
    struct task **all = malloc((list->count ? list->count : 1) * sizeof *all);
    if (!all)
        return;
    size_t n = 0;
    for (struct task *t = list->head; t; t = t->next)
        all[n++] = t;
    qsort(all, n, sizeof *all, by_priority);
    for (size_t i = 0; i < n; i++)
        printf("[%c] #%d (p%d) %s\n", all[i]->done ? 'x' : ' ', all[i]->id, all[i]->priority,
               all[i]->text);
    free(all);
}

void list_clear(struct list *list)
{
    while (list->head) {
        struct task *next = list->head->next;
        task_free(list->head);
        list->head = next;
    }
    list->count = 0;
}
