from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blockhours.domain.lots import InsufficientBalance, Lot, balance, consume


def lot(lot_id: str, amount: int, minutes: int, created: int) -> Lot:
    return Lot(lot_id, amount, minutes, f"pi_{lot_id}", "v1", created)


def test_sessions_take_from_the_oldest_lot_first() -> None:
    newer, older = lot("new", 12900, 60, 200), lot("old", 6900, 30, 100)
    draws, after = consume([newer, older], 45)
    assert [(d.lot_id, d.minutes) for d in draws] == [("old", 30), ("new", 15)]
    assert [d.amount_cents for d in draws] == [6900, 3225]
    assert {x.lot_id: x.remaining_minutes for x in after} == {"old": 0, "new": 45}


def test_a_lot_used_to_its_last_minute_has_consumed_exactly_its_amount() -> None:
    lots = [lot("odd", 1000, 7, 1)]  # 1000/7 cents a minute does not divide
    spent = 0
    for _ in range(7):
        draws, lots = consume(lots, 1)
        spent += draws[0].amount_cents
    assert spent == 1000
    assert lots[0].remaining_cents == 0 and lots[0].consumed_cents == 1000


def test_more_than_the_balance_is_refused_and_changes_nothing() -> None:
    lots = [lot("a", 6900, 30, 1)]
    with pytest.raises(InsufficientBalance) as refused:
        consume(lots, 45)
    assert (refused.value.available_minutes, refused.value.needed_minutes) == (30, 45)
    assert lots[0].remaining_minutes == 30


def test_refundable_is_what_was_paid_and_not_used() -> None:
    _, [used] = consume([lot("a", 12900, 60, 1)], 45)
    assert used.refundable_cents == 3225
    assert replace(used, refunded_cents=3225, refunded_minutes=15).refundable_cents == 0


def test_a_lot_cannot_be_used_beyond_its_minutes() -> None:
    with pytest.raises(ValueError, match="exceed"):
        Lot("a", 100, 10, "pi", "v1", 1, used_minutes=8, refunded_minutes=3)


purchases = st.tuples(st.integers(1, 500_000), st.integers(1, 600))
steps = st.lists(
    st.one_of(st.tuples(st.just("buy"), purchases), st.tuples(st.just("redeem"), st.integers(1, 700))),
    max_size=40,
)


@given(steps)
def test_money_is_conserved_for_any_purchases_and_redemptions(script: list[tuple[str, object]]) -> None:
    """payments = consumed + remaining, to the cent, and no lot ever goes negative."""
    lots: list[Lot] = []
    paid_cents = paid_minutes = consumed_cents = used_minutes = 0
    for n, (action, arg) in enumerate(script):
        if action == "buy":
            amount, minutes = arg  # type: ignore[misc]
            lots.append(lot(f"l{n}", amount, minutes, n))
            paid_cents, paid_minutes = paid_cents + amount, paid_minutes + minutes
            continue
        wanted = int(arg)  # type: ignore[call-overload]
        before = balance(lots).minutes
        try:
            draws, lots = consume(lots, wanted)
        except InsufficientBalance:
            assert before < wanted
            continue
        assert sum(d.minutes for d in draws) == wanted
        consumed_cents += sum(d.amount_cents for d in draws)
        used_minutes += wanted
        for x in lots:
            assert x.remaining_minutes >= 0 and x.remaining_cents >= 0
    now = balance(lots)
    assert paid_cents == consumed_cents + now.amount_cents
    assert paid_minutes == used_minutes + now.minutes
    assert consumed_cents == sum(x.consumed_cents for x in lots)
