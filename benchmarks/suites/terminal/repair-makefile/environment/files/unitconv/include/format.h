#ifndef UNITCONV_FORMAT_H
#define UNITCONV_FORMAT_H

#include <stddef.h>

/* Write value and unit symbol as "6.21371 mi" into buf. */
void format_value(char *buf, size_t size, double value, const char *symbol);

#endif
