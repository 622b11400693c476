#ifndef JSONFMT_H
#define JSONFMT_H

#include <stddef.h>

#define KEY_MAX 4096
#define STRING_MAX 8192
#define MAX_DEPTH 200 /* arrays and objects within each other */

struct out {
    char *data;
    size_t length, capacity;
};

int out_put(struct out *out, const char *text, size_t length);
int out_puts(struct out *out, const char *text);
int out_indent(struct out *out, int depth);
void out_free(struct out *out);

struct parser {
    const char *text;
    size_t size, pos;
    const char *error;
};

/* json.c: formats the document into `out`; 0 on success, -1 with p->error set */
int format_document(struct parser *p, struct out *out);

#endif
