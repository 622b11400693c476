#include "lexer.h"

static enum char_class class_of(unsigned char c)
{
    return (enum char_class)CHAR_CLASS[c];
}

void lex(const unsigned char *text, size_t size, struct stats *stats)
{
    size_t i = 0;
    stats->lines = size > 0 && text[size - 1] != '\n' ? 1 : 0;
    while (i < size) {
        unsigned char c = text[i];
        size_t start = i;
        switch (class_of(c)) {
        case C_NEWLINE:
            stats->lines++;
            /* fall through */
        case C_SPACE:
            i++;
            continue;
        case C_LETTER:
            while (i < size && (class_of(text[i]) == C_LETTER || class_of(text[i]) == C_DIGIT))
                i++;
            stats->tokens[T_WORD]++;
            if (i - start > stats->longest_word)
                stats->longest_word = i - start;
            continue;
        case C_DIGIT:
            while (i < size && (class_of(text[i]) == C_DIGIT || class_of(text[i]) == C_LETTER ||
                                text[i] == '.'))
                i++;
            stats->tokens[T_NUMBER]++;
            continue;
        case C_QUOTE:
            for (i++; i < size && text[i] != c && text[i] != '\n'; i++)
                if (text[i] == '\\' && i + 1 < size)
                    i++;
            if (i < size && text[i] == c)
                i++;
            stats->tokens[T_STRING]++;
            continue;
        case C_SLASH:
            if (i + 1 < size && text[i + 1] == '/') {
                while (i < size && text[i] != '\n')
                    i++;
                stats->tokens[T_COMMENT]++;
                continue;
            }
            if (i + 1 < size && text[i + 1] == '*') {
                for (i += 2; i < size && !(text[i] == '*' && i + 1 < size && text[i + 1] == '/');
                     i++)
                    if (text[i] == '\n')
                        stats->lines++;
                i = i < size ? i + 2 : size;
                stats->tokens[T_COMMENT]++;
                continue;
            }
            /* fall through: division */
        case C_OPERATOR:
            i++;
            stats->tokens[T_OPERATOR]++;
            continue;
        case C_OTHER:
            i++;
            stats->tokens[T_OTHER]++;
            continue;
        }
    }
}
