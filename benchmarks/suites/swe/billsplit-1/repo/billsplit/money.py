"""Amounts of money in one currency."""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from billsplit.currency import minor_unit


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        unit = minor_unit(self.currency)
        exact = Decimal(self.amount)
        if exact != exact.quantize(unit):
            raise ValueError(f"{exact} has more digits than {self.currency} allows")
        object.__setattr__(self, "amount", exact.quantize(unit))

    @classmethod
    def parse(cls, text: str) -> "Money":
        """'12.50 EUR' -> Money(Decimal('12.50'), 'EUR')."""
        try:
            number, currency = text.split()
            return cls(Decimal(number), currency.upper())
        except (ValueError, InvalidOperation):
            raise ValueError(f"not an amount: {text!r}") from None

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(Decimal(0), currency)

    @classmethod
    def rounded(cls, amount: Decimal, currency: str) -> "Money":
        """`amount` rounded to the currency's minor unit (half to even)."""
        return cls(amount.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN), currency)

    def _check(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def __bool__(self) -> bool:
        return self.amount != 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{self}')"
