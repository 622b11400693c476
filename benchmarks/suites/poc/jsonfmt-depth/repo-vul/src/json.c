#include <ctype.h>
#include <string.h>

#include "jsonfmt.h"

static void skip_space(struct parser *p)
{
    while (p->pos < p->size && isspace((unsigned char)p->text[p->pos]))
        p->pos++;
}

static int fail(struct parser *p, const char *error)
{
    if (!p->error)
        p->error = error;
    return -1;
}

/* A string literal, copied with its quotes and escapes into buf (at most max bytes). */
static int read_string(struct parser *p, char *buf, size_t max)
{
    size_t n = 0;
    if (p->pos >= p->size || p->text[p->pos] != '"')
        return fail(p, "expected a string");
    buf[n++] = p->text[p->pos++];
    while (p->pos < p->size && p->text[p->pos] != '"') {
        char c = p->text[p->pos++];
        if ((unsigned char)c < 0x20)
            return fail(p, "control character in a string");
        if (n + 3 >= max)
            return fail(p, "string too long");
        buf[n++] = c;
        if (c == '\\') {
            if (p->pos >= p->size)
                break;
            buf[n++] = p->text[p->pos++];
        }
    }
    if (p->pos >= p->size)
        return fail(p, "unterminated string");
    buf[n++] = p->text[p->pos++];
    buf[n] = '\0';
    return 0;
}

static int literal(struct parser *p, struct out *out)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(words[i]);
        if (p->size - p->pos >= len && memcmp(p->text + p->pos, words[i], len) == 0) {
            p->pos += len;
            return out_puts(out, words[i]);
        }
    }
    size_t start = p->pos;
    if (p->pos < p->size && p->text[p->pos] == '-')
        p->pos++;
    while (p->pos < p->size && (isdigit((unsigned char)p->text[p->pos]) ||
                                strchr(".eE+-", p->text[p->pos])))
        p->pos++;
    if (p->pos == start || !isdigit((unsigned char)p->text[p->pos - 1]))
        return fail(p, "expected a value");
    return out_put(out, p->text + start, p->pos - start);
}

static int value(struct parser *p, struct out *out, int depth)
{
    char key[KEY_MAX];
    char text[STRING_MAX];
    skip_space(p);
    if (p->pos >= p->size)
        return fail(p, "unexpected end of input");
    char c = p->text[p->pos];
    if (c == '"') {
        if (read_string(p, text, sizeof text) != 0)
            return -1;
        return out_puts(out, text);
    }
    if (c != '[' && c != '{')
        return literal(p, out);
    char close = c == '[' ? ']' : '}';
    p->pos++;
    skip_space(p);
    if (p->pos < p->size && p->text[p->pos] == close) {
        p->pos++;
        return out_puts(out, c == '[' ? "[]" : "{}");
    }
    out_put(out, &c, 1);
    for (int first = 1;; first = 0) {
        if (!first && out_put(out, ",", 1) != 0)
            return -1;
        if (out_put(out, "\n", 1) != 0 || out_indent(out, depth + 1) != 0)
            return -1;
        if (close == '}') {
            skip_space(p);
            if (read_string(p, key, sizeof key) != 0)
                return -1;
            skip_space(p);
            if (p->pos >= p->size || p->text[p->pos++] != ':')
                return fail(p, "expected ':'");
            if (out_puts(out, key) != 0 || out_put(out, ": ", 2) != 0)
                return -1;
        }
        if (value(p, out, depth + 1) != 0)
            return -1;
        skip_space(p);
        if (p->pos < p->size && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->size && p->text[p->pos] == close) {
            p->pos++;
            break;
        }
        return fail(p, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
    if (out_put(out, "\n", 1) != 0 || out_indent(out, depth) != 0)
        return -1;
    return out_put(out, &close, 1);
}

int format_document(struct parser *p, struct out *out)
{
    if (value(p, out, 0) != 0)
        return -1;
    skip_space(p);
    if (p->pos != p->size)
        return fail(p, "text after the document");
    return out_put(out, "\n", 1);
}
