#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

static const char *skip_space(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

static size_t trimmed_length(const char *start, const char *end)
{
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    return (size_t)(end - start);
}

static char *copy(const char *text, size_t length)
{
    char *out = malloc(length + 1);
    if (out) {
        memcpy(out, text, length);
        out[length] = '\0';
    }
    return out;
}

enum line_kind parse_line(const char *text, int number, struct setting **out)
{
    char key[KEY_MAX];
    char value[VALUE_MAX];
    const char *start = skip_space(text);
    if (*start == '\0' || *start == '#' || *start == ';')
        return LINE_BLANK;
    const char *eq = strchr(start, '=');
    if (!eq || eq == start) {
        fprintf(stderr, "line %d: expected 'key = value'\n", number);
        return LINE_ERROR;
    }
    size_t klen = trimmed_length(start, eq);
    if (klen >= sizeof key) { /* room for the NUL too */
        fprintf(stderr, "line %d: key longer than %d characters\n", number, KEY_MAX - 1);
        return LINE_ERROR;
    }
    memcpy(key, start, klen);
    key[klen] = '\0';

    const char *vstart = skip_space(eq + 1);
    const char *vend = vstart + strcspn(vstart, "#;\r\n");
    size_t vlen = trimmed_length(vstart, vend);
    if (vlen >= sizeof value) {
        fprintf(stderr, "line %d: value longer than %d characters\n", number, VALUE_MAX - 1);
        return LINE_ERROR;
    }
    memcpy(value, vstart, vlen);
    value[vlen] = '\0';

    struct setting *setting = calloc(1, sizeof *setting);
    if (!setting)
        return LINE_ERROR;
    setting->key = copy(key, strlen(key));
    setting->value = copy(value, vlen);
    setting->line = number;
    if (!setting->key || !setting->value) {
        setting_free(setting);
        return LINE_ERROR;
    }
    for (char *k = setting->key; *k; k++)
        *k = (char)tolower((unsigned char)*k);
    *out = setting;
    return LINE_SETTING;
}

void setting_free(struct setting *setting)
{
    if (!setting)
        return;
    free(setting->key);
    free(setting->value);
    free(setting);
}
