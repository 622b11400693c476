#ifndef CFG_H
#define CFG_H

#define KEY_MAX 32    /* bytes, with the terminating NUL */
#define VALUE_MAX 128

struct setting {
    char *key;
    char *value;
    int line;
    struct setting *next;
};

enum line_kind { LINE_BLANK, LINE_SETTING, LINE_ERROR };

/* Reads one line; on LINE_SETTING, *out is a new setting (free with setting_free). */
enum line_kind parse_line(const char *text, int number, struct setting **out);
void setting_free(struct setting *setting);

/* schema.c: 0 if the setting is known and valid, 1 if unknown (a warning), -1 if invalid. */
int check_setting(const struct setting *setting, const char **why);

#endif
