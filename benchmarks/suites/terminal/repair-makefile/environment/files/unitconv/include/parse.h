#ifndef UNITCONV_PARSE_H
#define UNITCONV_PARSE_H

/* Parse a decimal number ("12", "-3.5", "1e3", "1_000"); 0 on success, -1 otherwise. */
int parse_number(const char *text, double *out);

#endif
