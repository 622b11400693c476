"""Convert temperatures between Celsius, Fahrenheit and Kelvin."""

from temperature.convert import ABSOLUTE_ZERO_C, c_to_f, c_to_k, f_to_c, k_to_c

__all__ = ["ABSOLUTE_ZERO_C", "c_to_f", "c_to_k", "f_to_c", "k_to_c"]
__version__ = "2.0.1"
