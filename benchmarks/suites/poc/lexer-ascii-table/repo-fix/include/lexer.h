#ifndef LEXER_H
#define LEXER_H

#include <stddef.h>

enum char_class { C_OTHER, C_SPACE, C_NEWLINE, C_LETTER, C_DIGIT, C_QUOTE, C_SLASH, C_OPERATOR };
enum token_kind { T_WORD, T_NUMBER, T_STRING, T_OPERATOR, T_COMMENT, T_OTHER, T_KINDS };

extern const unsigned char CHAR_CLASS[128];

struct stats {
    size_t tokens[T_KINDS];
    size_t lines;
    size_t longest_word;
};

void lex(const unsigned char *text, size_t size, struct stats *stats);
const char *kind_name(enum token_kind kind);

#endif
