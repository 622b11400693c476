#ifndef UNITCONV_UNITS_H
#define UNITCONV_UNITS_H

/* A unit: its symbol, its dimension, and how to turn a value into the base unit of the
 * dimension: base = value * scale + offset (offset for temperatures). */
struct unit {
    const char *symbol;
    const char *dimension;
    double scale;
    double offset;
};

const struct unit *find_unit(const char *symbol);

/* Convert value from one unit to another of the same dimension; 0 on success, -1 if the
 * dimensions differ. */
int convert(double value, const struct unit *from, const struct unit *to, double *out);

/* Round to `digits` significant digits. */
double round_significant(double value, int digits);

#endif
