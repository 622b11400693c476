#include <math.h>
#include <string.h>

#include "units.h"

static const struct unit UNITS[] = {
    {"m", "length", 1.0, 0.0},
    {"km", "length", 1000.0, 0.0},
    {"cm", "length", 0.01, 0.0},
    {"mi", "length", 1609.344, 0.0},
    {"ft", "length", 0.3048, 0.0},
    {"in", "length", 0.0254, 0.0},
    {"kg", "mass", 1.0, 0.0},
    {"g", "mass", 0.001, 0.0},
    {"lb", "mass", 0.45359237, 0.0},
    {"oz", "mass", 0.028349523125, 0.0},
    {"K", "temperature", 1.0, 0.0},
    {"C", "temperature", 1.0, 273.15},
    {"F", "temperature", 5.0 / 9.0, 255.3722222222222},
    {"l", "volume", 1.0, 0.0},
    {"ml", "volume", 0.001, 0.0},
    {"gal", "volume", 3.785411784, 0.0},
};

const struct unit *find_unit(const char *symbol)
{
    for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; i++)
        if (strcmp(UNITS[i].symbol, symbol) == 0)
            return &UNITS[i];
    return NULL;
}

int convert(double value, const struct unit *from, const struct unit *to, double *out)
{
    if (strcmp(from->dimension, to->dimension) != 0)
        return -1;
    double base = value * from->scale + from->offset;
    *out = (base - to->offset) / to->scale;
    return 0;
}

double round_significant(double value, int digits)
{
    if (value == 0.0)
        return 0.0;
    double magnitude = pow(10.0, digits - 1 - (int)floor(log10(fabs(value))));
    return round(value * magnitude) / magnitude;
}
