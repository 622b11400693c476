#include <stdlib.h>
#include <string.h>

#include "cfg.h"

enum kind { INTEGER, BOOLEAN, TEXT };

static const struct {
    const char *key;
    enum kind kind;
    long min, max;
} SCHEMA[] = {
    {"listen_port", INTEGER, 1, 65535},
    {"workers", INTEGER, 1, 256},
    {"timeout_seconds", INTEGER, 1, 3600},
    {"debug", BOOLEAN, 0, 0},
    {"log_file", TEXT, 0, 0},
    {"server_name", TEXT, 0, 0},
};

static int is_boolean(const char *v)
{
    static const char *const words[] = {"yes", "no", "true", "false", "on", "off", "1", "0"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(v, words[i]) == 0)
            return 1;
    return 0;
}

int check_setting(const struct setting *setting, const char **why)
{
    for (size_t i = 0; i < sizeof SCHEMA / sizeof SCHEMA[0]; i++) {
        if (strcmp(SCHEMA[i].key, setting->key) != 0)
            continue;
        if (SCHEMA[i].kind == INTEGER) {
            char *end;
            long n = strtol(setting->value, &end, 10);
            if (*setting->value == '\0' || *end != '\0') {
                *why = "not an integer";
                return -1;
            }
            if (n < SCHEMA[i].min || n > SCHEMA[i].max) {
                *why = "out of range";
                return -1;
            }
        } else if (SCHEMA[i].kind == BOOLEAN && !is_boolean(setting->value)) {
            *why = "not a boolean (yes/no, true/false, on/off, 1/0)";
            return -1;
        }
        return 0;
    }
    *why = "unknown setting";
    return 1;
}
