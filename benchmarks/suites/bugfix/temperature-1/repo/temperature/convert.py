"""Convert temperatures between Celsius, Fahrenheit and Kelvin."""

ABSOLUTE_ZERO_C = -273.15


def c_to_f(celsius: float) -> float:
    return celsius * 9 / 5 + 32


def f_to_c(fahrenheit: float) -> float:
    return fahrenheit - 32 * 5 / 9


def c_to_k(celsius: float) -> float:
    if celsius < ABSOLUTE_ZERO_C:
        raise ValueError(f"{celsius} C is below absolute zero ({ABSOLUTE_ZERO_C} C)")
    return celsius - ABSOLUTE_ZERO_C


def k_to_c(kelvin: float) -> float:
    if kelvin < 0:
        raise ValueError(f"{kelvin} K is below absolute zero (0 K)")
    return kelvin + ABSOLUTE_ZERO_C
