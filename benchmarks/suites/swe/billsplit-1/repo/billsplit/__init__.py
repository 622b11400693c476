"""Shared expenses."""

from billsplit.group import Group
from billsplit.money import CurrencyMismatch, Money
from billsplit.split import split

__all__ = ["CurrencyMismatch", "Group", "Money", "split"]
