"""A daily run that missed days (issue 15): one letter, the latest reminder due; no letter naming a day already
gone; a day between the last letter and collections; every step taken once, whatever the days the run kept."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from blockhours import catalog, emails
from blockhours.domain.debts import Debt, DunningSchedule, due_step, next_step_at, pending_steps

DAY = 86_400
SCHEDULE = DunningSchedule(reminder_days=(7, 14), collections_after_days=21, grace_days=14)
T0 = int(datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp())
SHOP = catalog.load()


def debt(kind: str = "overage") -> Debt:
    return Debt("d1", "ana@example.com", kind, 3225, 15, "15 minutes", T0, "https://pay", notices=(T0,))  # type: ignore[arg-type]


def run(current: Debt, at: int) -> tuple[Debt, list[str]]:
    """What chase_debts does with one debt at `at`: each due step, taken as its planner records it."""
    taken = []
    while (step := due_step(current, SCHEDULE, at)) is not None:
        taken.append(step)
        if step == "remind":
            current = replace(current, notices=(*current.notices, at))
        elif step == "prepay":
            current = replace(current, prepay_at=at)
        else:
            current = replace(current, collections_at=at)
        assert len(taken) <= 2, taken
    return current, taken


def days_named(letter: emails.Email) -> list[datetime]:
    return [
        datetime.strptime(day, "%d %b %Y").replace(tzinfo=UTC)
        for day in re.findall(r"  - on (\d{1,2} \w{3} \d{4})", letter.text)
    ]


def test_three_weeks_missed_send_one_reminder_and_collections_waits_a_day_after_it() -> None:
    late = T0 + 22 * DAY
    after, taken = run(debt(), late)
    assert taken == ["remind"] and after.notices == (T0, late), "one letter, not reminder 1, 2 and collections"
    assert pending_steps(after, SCHEDULE) == [(late + DAY, "collections")]
    assert next_step_at(after, SCHEDULE) == late + DAY, "the debt moves on in the daily run's index"
    assert run(after, late)[1] == [] and run(after, late + DAY - 1)[1] == [], "a retried run sends nothing again"
    assert run(after, late + DAY)[1] == ["collections"]


def test_a_missed_first_reminder_is_passed_over_not_sent_late() -> None:
    after, taken = run(debt(), T0 + 15 * DAY)
    assert taken == ["remind"] and len(after.notices) == 2
    assert pending_steps(after, SCHEDULE) == [(T0 + 21 * DAY, "collections")], "no reminder is left behind"


def test_the_reminder_sent_late_names_only_days_still_to_come() -> None:
    late = T0 + 22 * DAY
    after, _ = run(debt(), late)
    letter = emails.debt_notice(SHOP, after, SCHEDULE)
    today = datetime.fromtimestamp(late, UTC).replace(hour=0)
    assert days_named(letter) and all(day > today for day in days_named(letter)), letter.text
    assert f"on {emails.format_day(late + DAY)} your account goes to collections" in letter.text


def test_a_bill_caught_up_moves_back_to_prepaying_before_its_one_reminder() -> None:
    after, taken = run(debt("bill"), T0 + 16 * DAY)
    assert taken == ["prepay", "remind"], "the reminder is written after the move, so it names no past step"
    assert [step for _, step in pending_steps(after, SCHEDULE)] == ["collections"]


def test_on_time_the_schedule_is_as_the_catalog_says() -> None:
    current, letters = debt("bill"), []
    for day in range(0, 30):
        current, taken = run(current, T0 + day * DAY)
        letters += [(day, step) for step in taken]
    assert letters == [(7, "remind"), (14, "prepay"), (14, "remind"), (21, "collections")]


@given(
    st.lists(st.integers(min_value=1, max_value=30 * 24), min_size=1, max_size=12), st.sampled_from(["overage", "bill"])
)
def test_whatever_days_the_run_keeps_every_letter_tells_the_truth(gaps_hours: list[int], kind: str) -> None:
    current, at = debt(kind), T0
    for hours in gaps_hours:
        at += hours * 3600
        current, taken = run(current, at)
        if "remind" in taken:
            assert "collections" not in taken, "never a reminder and collections in one run"
            assert all(when > at for when, _ in pending_steps(current, SCHEDULE)), "no step named for a past day"
        if (step_at := next_step_at(current, SCHEDULE)) is not None:
            assert step_at > at, "the debt moves on: nothing left due after a run"
    assert len(current.notices) <= 1 + len(SCHEDULE.reminder_days)
    if current.collections_at is not None:
        before = [sent for sent in current.notices if sent < current.collections_at]
        assert current.collections_at - before[-1] >= DAY, "a day between the last letter and collections"
        assert current.collections_at >= T0 + SCHEDULE.collections_after_days * DAY
