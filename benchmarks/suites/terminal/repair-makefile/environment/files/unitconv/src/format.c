#include <stdio.h>

#include "format.h"
#include "units.h"

void format_value(char *buf, size_t size, double value, const char *symbol)
{
    double shown = round_significant(value, 6);
    if (shown == 0.0)
        shown = 0.0; /* no "-0" */
    snprintf(buf, size, "%g %s", shown, symbol);
}
