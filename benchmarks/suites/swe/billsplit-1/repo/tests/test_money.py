from decimal import Decimal

import pytest

from billsplit import CurrencyMismatch, Money


def test_parse_and_print():
    m = Money.parse("12.5 eur")
    assert m.amount == Decimal("12.50") and m.currency == "EUR"
    assert str(m) == "12.50 EUR"


def test_arithmetic():
    a, b = Money.parse("10.00 EUR"), Money.parse("2.55 EUR")
    assert a - b == Money.parse("7.45 EUR")
    assert -(a + b) == Money.parse("-12.55 EUR")
    with pytest.raises(CurrencyMismatch):
        a + Money.parse("1 USD")


def test_too_many_digits():
    with pytest.raises(ValueError):
        Money(Decimal("1.005"), "EUR")
    with pytest.raises(ValueError):
        Money(Decimal("1.5"), "JPY")


def test_rounded_half_even():
    assert Money.rounded(Decimal("0.125"), "EUR").amount == Decimal("0.12")
    assert Money.rounded(Decimal("2.5"), "JPY").amount == Decimal("2")
