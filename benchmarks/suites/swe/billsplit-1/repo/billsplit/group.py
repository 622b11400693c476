"""A group's expenses, balances and settlement."""

from collections.abc import Mapping
from dataclasses import dataclass

from billsplit.money import Money
from billsplit.split import split


@dataclass(frozen=True)
class Expense:
    payer: str
    amount: Money
    label: str
    shares: dict[str, Money]


class Group:
    def __init__(self, members: list[str], currency: str = "EUR") -> None:
        if len(set(members)) != len(members) or not members:
            raise ValueError("members must be distinct and at least one")
        self.members = list(members)
        self.currency = currency
        self.expenses: list[Expense] = []

    def expense(self, payer: str, amount: Money, label: str = "",
                weights: Mapping[str, int] | None = None) -> Expense:
        """`payer` paid `amount` for the members in `weights` (by default everyone, equally)."""
        if payer not in self.members:
            raise ValueError(f"{payer!r} is not in the group")
        if amount.currency != self.currency:
            raise ValueError(f"the group counts in {self.currency}, not {amount.currency}")
        weights = dict(weights) if weights is not None else {m: 1 for m in self.members}
        unknown = set(weights) - set(self.members)
        if unknown:
            raise ValueError(f"not in the group: {', '.join(sorted(unknown))}")
        names = list(weights)
        shares = dict(zip(names, split(amount, [weights[n] for n in names])))
        expense = Expense(payer, amount, label, shares)
        self.expenses.append(expense)
        return expense

    def balances(self) -> dict[str, Money]:
        """What each member is owed (positive) or owes (negative)."""
        balance = {m: Money.zero(self.currency) for m in self.members}
        for expense in self.expenses:
            balance[expense.payer] += expense.amount
            for member, share in expense.shares.items():
                balance[member] -= share
        return balance

    def settle(self) -> list[tuple[str, str, Money]]:
        """Transfers (from, to, amount) that bring every balance to zero: the largest debtor
        pays the largest creditor, until all are even."""
        balance = {m: b.amount for m, b in self.balances().items()}
        transfers = []
        while True:
            debtor = min(balance, key=lambda m: (balance[m], m))
            creditor = max(balance, key=lambda m: (balance[m], m))
            if balance[debtor] >= 0 or balance[creditor] <= 0:
                break
            amount = min(-balance[debtor], balance[creditor])
            transfers.append((debtor, creditor, Money(amount, self.currency)))
            balance[debtor] += amount
            balance[creditor] -= amount
        return transfers
