"""Minor units of currencies (ISO 4217)."""

from decimal import Decimal

MINOR_DIGITS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KRW": 0, "KWD": 3,
                "BHD": 3}


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`: Decimal('0.01') for EUR, Decimal('1') for JPY."""
    try:
        digits = MINOR_DIGITS[currency]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}") from None
    return Decimal(1).scaleb(-digits)
