"""The playbook's rules with no AWS and no Stripe: the dunning schedule, billing days, trusted sessions, emails."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blockhours import catalog, emails
from blockhours.catalog import CatalogError
from blockhours.domain.debts import (
    Debt,
    DunningSchedule,
    bill_id,
    due_step,
    next_bill_at,
    next_step_at,
    pending_steps,
    planned_steps,
)
from blockhours.domain.lots import InsufficientBalance, Lot
from blockhours.domain.money import format_minutes
from blockhours.domain.sessions import BillingRules, plan_session

DAY = 86_400
SCHEDULE = DunningSchedule(reminder_days=(7, 14), collections_after_days=21, grace_days=14)
RULES = BillingRules(increment_minutes=15, minimum_minutes=15, hourly_rate_cents=12900)
T0 = int(datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp())


def debt(kind: str = "overage", **changes: object) -> Debt:
    base = Debt("d1", "ana@example.com", kind, 3225, 15, "15 minutes", T0, "https://pay", notices=(T0,))  # type: ignore[arg-type]
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_overage_is_reminded_twice_then_goes_to_collections() -> None:
    assert planned_steps(debt(), SCHEDULE) == [
        (T0 + 7 * DAY, "remind"),
        (T0 + 14 * DAY, "remind"),
        (T0 + 21 * DAY, "collections"),
    ]


def test_a_bill_also_moves_its_client_back_to_prepay_after_the_grace_days() -> None:
    steps = planned_steps(debt("bill"), SCHEDULE)
    assert steps == [
        (T0 + 7 * DAY, "remind"),
        (T0 + 14 * DAY, "remind"),
        (T0 + 14 * DAY, "prepay"),
        (T0 + 21 * DAY, "collections"),
    ]


@pytest.mark.parametrize(
    ("day", "step"),
    [(0, None), (6, None), (7, "remind"), (13, "remind"), (30, "remind")],
)
def test_the_first_reminder_falls_due_on_its_day_and_stays_due_until_sent(day: int, step: str | None) -> None:
    assert due_step(debt(), SCHEDULE, T0 + day * DAY) == step


def test_each_step_taken_moves_the_next_one_on() -> None:
    after_one = debt(notices=(T0, T0 + 7 * DAY))
    assert next_step_at(after_one, SCHEDULE) == T0 + 14 * DAY
    after_two = debt(notices=(T0, T0 + 7 * DAY, T0 + 14 * DAY))
    assert due_step(after_two, SCHEDULE, T0 + 20 * DAY) is None
    assert due_step(after_two, SCHEDULE, T0 + 21 * DAY) == "collections"
    done = replace(after_two, collections_at=T0 + 21 * DAY)
    assert pending_steps(done, SCHEDULE) == [] and next_step_at(done, SCHEDULE) is None


def test_a_paid_debt_has_no_step_left() -> None:
    assert pending_steps(debt(status="paid"), SCHEDULE) == []
    assert due_step(debt(status="paid"), SCHEDULE, T0 + 100 * DAY) is None


@given(st.integers(min_value=0, max_value=60))
def test_never_more_than_two_reminders_whatever_the_days(days_late: int) -> None:
    current, sent = debt(), 0
    for day in range(0, 60 + days_late):
        while (step := due_step(current, SCHEDULE, T0 + day * DAY)) is not None:
            if step == "remind":
                current, sent = replace(current, notices=(*current.notices, T0 + day * DAY)), sent + 1
            else:
                current = replace(current, collections_at=T0 + day * DAY)
    assert sent == 2 and current.in_collections


def test_billing_days() -> None:
    assert datetime.fromtimestamp(next_bill_at(T0, "monthly"), UTC) == datetime(2026, 12, 1, tzinfo=UTC)
    december = int(datetime(2026, 12, 31, 23, tzinfo=UTC).timestamp())
    assert datetime.fromtimestamp(next_bill_at(december, "monthly"), UTC) == datetime(2027, 1, 1, tzinfo=UTC)
    first = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    assert datetime.fromtimestamp(next_bill_at(first, "monthly"), UTC) == datetime(2027, 1, 1, tzinfo=UTC)
    assert datetime.fromtimestamp(next_bill_at(T0, "weekly"), UTC) == datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
    assert bill_id(first) == "bill-2026-12-01"


def lot(minutes: int, amount: int, kind: str = "block") -> Lot:
    return Lot("a", amount, minutes, "pi_a", "v1", 1, kind=kind)  # type: ignore[arg-type]


def test_a_trusted_session_goes_on_account_within_the_limit_only() -> None:
    plan = plan_session([lot(30, 6900)], 75, RULES, charge_overage=False, credit_minutes=60)
    assert (plan.covered_minutes, plan.on_account_minutes, plan.on_account_cents, plan.overage_minutes) == (
        30,
        45,
        9675,
        0,
    )
    with pytest.raises(InsufficientBalance):
        plan_session([lot(30, 6900)], 120, RULES, charge_overage=False, credit_minutes=60)
    beyond = plan_session([lot(30, 6900)], 120, RULES, charge_overage=True, credit_minutes=60)
    assert (beyond.covered_minutes, beyond.on_account_minutes, beyond.overage_minutes) == (30, 60, 30), (
        "the balance, then the limit, then the card for the rest only"
    )
    assert plan_session([], 15, RULES, False, credit_minutes=15).on_account_minutes == 15


def test_negative_minutes_read_as_owed_time() -> None:
    assert (format_minutes(-45), format_minutes(-60), format_minutes(-90)) == ("-45 min", "-1 h", "-1 h 30 min")


@pytest.mark.parametrize(
    ("dunning", "problem"),
    [
        ("reminder_days: [7, 14, 21]", "at most 2"),
        ("reminder_days: [14, 7]", "increasing"),
        ("reminder_days: [7, 14]\n  collections_after_days: 14", "after the last reminder"),
    ],
)
def test_a_dunning_policy_the_shop_cannot_keep_is_refused(dunning: str, problem: str) -> None:
    text = catalog.default_path().read_text(encoding="utf-8")
    start = text.index("dunning:")
    end = text.index("products:")
    bad = text[:start] + f"dunning:\n  {dunning}\n\n" + text[end:]
    with pytest.raises(CatalogError, match=problem):
        catalog.parse(bad)


def test_a_reminder_names_the_amount_the_earlier_dates_the_link_and_what_comes_next() -> None:
    shop = catalog.load()
    reminder = emails.debt_notice(shop, debt(notices=(T0, T0 + 7 * DAY)), SCHEDULE)
    assert reminder.to == "ana@example.com" and "reminder 1, $32.25 due" in reminder.subject
    assert "we wrote to you about it on 26 Nov 2026." in reminder.text
    assert "https://pay" in reminder.text
    assert "on 10 Dec 2026 we send a reminder" in reminder.text
    assert "on 17 Dec 2026 your account goes to collections" in reminder.text
    assert shop.shop.name in reminder.text and shop.shop.email in reminder.text


def test_every_email_is_plain_text_signed_by_the_shop() -> None:
    shop = catalog.load()
    sent = [
        emails.debt_notice(shop, debt("bill"), SCHEDULE),
        *emails.debt_in_collections(shop, "owner@shop.example", debt()),
        *emails.back_to_prepay(shop, "owner@shop.example", debt("bill")),
        emails.debt_paid(shop, debt()),
    ]
    for email in sent:
        assert "<" not in email.text and "$32.25" in email.text
    assert all(shop.shop.name in e.text for e in sent if e.to != "owner@shop.example")
