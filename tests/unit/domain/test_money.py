import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blockhours.domain.money import bill_minutes, cents_for_minutes, deposit_minutes, format_cents, format_minutes


@pytest.mark.parametrize(
    ("used", "billed"), [(1, 15), (14, 15), (15, 15), (16, 30), (44, 45), (45, 45), (46, 60), (121, 135)]
)
def test_sessions_round_up_to_the_increment(used: int, billed: int) -> None:
    assert bill_minutes(used, increment_minutes=15, minimum_minutes=15) == billed


def test_a_short_session_is_billed_the_minimum() -> None:
    assert bill_minutes(5, increment_minutes=5, minimum_minutes=30) == 30
    assert bill_minutes(35, increment_minutes=5, minimum_minutes=30) == 35


@pytest.mark.parametrize("used", [0, -15])
def test_a_session_must_last(used: int) -> None:
    with pytest.raises(ValueError, match="at least one minute"):
        bill_minutes(used, 15, 15)


@settings(deadline=None)  # up to 10,000 draws in one example: its time is the machine's load, not the code's
@given(
    amount=st.integers(min_value=1, max_value=10_000_000),
    minutes=st.integers(min_value=1, max_value=10_000),
    data=st.data(),
)
def test_pieces_of_a_lot_add_up_to_its_amount_exactly(amount: int, minutes: int, data: st.DataObject) -> None:
    used, total = 0, 0
    while used < minutes:
        take = data.draw(st.integers(min_value=1, max_value=minutes - used))
        piece = cents_for_minutes(amount, minutes, used, take)
        assert piece >= 0
        total += piece
        used += take
    assert total == amount


def test_a_deposit_buys_minutes_at_the_hourly_rate() -> None:
    assert deposit_minutes(12900, 12900) == 60
    assert deposit_minutes(10000, 12000) == 50


def test_amounts_read_as_money() -> None:
    assert format_cents(12900) == "$129.00"
    assert format_cents(-5) == "-$0.05"
    assert format_cents(123456789) == "$1,234,567.89"
    assert format_cents(500, "chf") == "5.00 CHF"
    assert format_minutes(90) == "1 h 30 min"
    assert format_minutes(300) == "5 h"
    assert format_minutes(45) == "45 min"
