import time

import pytest

from opensage.core.budget import Budget, BudgetExceeded, Limits


def test_a_child_charge_is_charged_to_every_ancestor():
    root = Budget(Limits(max_steps=100), name="root")
    mid = root.child(Limits(max_steps=50), name="mid")
    leaf = mid.child(name="leaf")
    leaf.charge(steps=2, tokens=30, cost_usd=0.5)
    mid.charge(steps=1)
    assert (leaf.steps, mid.steps, root.steps) == (2, 3, 3)
    assert (leaf.tokens, mid.tokens, root.tokens) == (30, 30, 30)
    assert root.cost_usd == pytest.approx(0.5)


def test_remaining_is_the_least_left_at_any_level():
    root = Budget(Limits(max_steps=10, max_tokens=1000, max_cost_usd=1.0))
    child = root.child(Limits(max_steps=8, max_cost_usd=5.0))
    root.charge(steps=4, tokens=100, cost_usd=0.25)  # spent by a sibling, say
    child.charge(steps=1, tokens=50, cost_usd=0.25)
    left = child.remaining()
    assert left.max_steps == 5  # root: 10 - 5 beats child: 8 - 1
    assert left.max_tokens == 850  # only root limits tokens
    assert left.max_cost_usd == pytest.approx(0.5)  # root: 1.0 - 0.5 beats child: 5.0 - 0.25
    assert left.max_seconds is None


def test_exhausting_a_level_names_it():
    root = Budget(Limits(max_cost_usd=1.0), name="root")
    child = root.child(Limits(max_steps=5), name="worker")
    child.charge(steps=1, cost_usd=1.0)
    with pytest.raises(BudgetExceeded) as info:
        child.check()
    assert (info.value.reason, info.value.budget) == ("max_cost", "root")
    child2 = Budget(Limits(max_steps=100)).child(Limits(max_steps=1), name="w2")
    child2.charge(steps=1)
    with pytest.raises(BudgetExceeded, match="step limit of 1 reached.*'w2'"):
        child2.check()
    child2.parent.check()  # the parent still has budget left


def test_a_child_deadline_is_never_later_than_its_parent():
    root = Budget(Limits(max_seconds=0.2))
    child = root.child(Limits(max_seconds=60))
    assert child.deadline == root.deadline
    assert child.remaining().max_seconds <= 0.2
    time.sleep(0.25)
    with pytest.raises(BudgetExceeded) as info:
        child.check()
    assert info.value.reason == "max_time"


def test_elapsed_time_carries_over():
    b = Budget(Limits(max_seconds=10), elapsed_s=9.9)
    assert b.remaining().max_seconds < 0.2


def test_limits_merge_prefers_what_is_set():
    base = Limits(max_steps=50, max_cost_usd=1.0)
    assert base.merged(Limits(max_steps=5)) == Limits(max_steps=5, max_cost_usd=1.0)


def test_a_limit_is_reached_exactly_at_its_value():
    budget = Budget(Limits(max_tokens=300, max_steps=3))
    budget.charge(steps=2, tokens=299)
    budget.check()  # one below each limit: still running
    budget.charge(tokens=1)
    with pytest.raises(BudgetExceeded, match="token limit of 300 reached: 300 used"):
        budget.check()
    steps = Budget(Limits(max_steps=3))
    steps.charge(steps=3)
    with pytest.raises(BudgetExceeded, match="step limit of 3"):
        steps.check()
