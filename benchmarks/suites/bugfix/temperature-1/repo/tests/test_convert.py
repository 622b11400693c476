import pytest

from temperature import c_to_f, c_to_k, f_to_c, k_to_c


def test_celsius_to_fahrenheit():
    assert c_to_f(100) == pytest.approx(212)
    assert c_to_f(-40) == pytest.approx(-40)


def test_kelvin():
    assert c_to_k(0) == pytest.approx(273.15)
    assert k_to_c(300) == pytest.approx(26.85)


def test_below_absolute_zero():
    with pytest.raises(ValueError):
        c_to_k(-300)
    with pytest.raises(ValueError):
        k_to_c(-1)


def test_fahrenheit_to_celsius():
    assert f_to_c(212) == pytest.approx(100)
