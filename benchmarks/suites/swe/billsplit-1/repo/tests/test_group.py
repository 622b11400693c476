import pytest

from billsplit import Group, Money, split


def eur(text):
    return Money.parse(f"{text} EUR")


def test_split_even_amounts():
    assert split(eur("90.00"), 3) == [eur("30.00")] * 3
    assert split(eur("45.00"), [1, 2]) == [eur("15.00"), eur("30.00")]


def test_split_rejects_bad_weights():
    for weights in ([], [0, 0], [1, -1]):
        with pytest.raises(ValueError):
            split(eur("1.00"), weights)


def test_balances_and_settle():
    trip = Group(["ana", "ben", "chloe"])
    trip.expense("ana", eur("90.00"), "dinner")
    trip.expense("ben", eur("45.00"), "taxi", weights={"ben": 1, "chloe": 2})
    assert trip.balances() == {"ana": eur("60.00"), "ben": eur("0.00"),
                               "chloe": eur("-60.00")}
    assert trip.settle() == [("chloe", "ana", eur("60.00"))]


def test_expense_checks():
    trip = Group(["ana", "ben"])
    with pytest.raises(ValueError):
        trip.expense("zoe", eur("1.00"))
    with pytest.raises(ValueError):
        trip.expense("ana", Money.parse("100 JPY"))
    with pytest.raises(ValueError):
        trip.expense("ana", eur("1.00"), weights={"zoe": 1})
