"""`blockhours sweep --at` a later day, on the in-memory store: the preview is the real daily run on each scheduled
day, on a copy; it says on which day each client is reminded, moved back to prepaying, put into collections, warned
or refunded, exactly as the same runs on the ledger itself would, and it leaves the ledger as it was."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from blockhours import services
from blockhours.catalog import Catalog
from blockhours.domain.debts import Debt
from blockhours.services import SessionRequest, ShopError, bill_on_account, redeem, set_trust
from blockhours_dev import template
from blockhours_dev.daily_preview import NoStripe, preview, run_times, schedule_time
from blockhours_dev.memory_ledger import MemoryLedger
from in_memory import bought, no_gateway
from served_standin import ServedStandIn

AT = 1_800_000_000  # 2027-01-15 08:00 UTC
DAY = 86_400
SITE = "https://shop.example"
TEN = time(10, 0)


def billed(catalog: Catalog, ledger: MemoryLedger, served: ServedStandIn) -> Debt:
    """Carla, trusted, used 45 minutes on account; her billing day billed them (the bill's notice, that day)."""
    set_trust(catalog, ledger, "carla@example.com", 300, "owner", AT)
    redeem(catalog, ledger, no_gateway, SessionRequest("carla@example.com", 45, "Sam", "printer", "T-1"), AT + 60)  # type: ignore[arg-type]
    account = ledger.account("carla@example.com")
    assert account is not None and account.next_bill_at is not None
    assert bill_on_account(catalog, ledger, served.gateway(), SITE, account.next_bill_at).billed
    (bill,) = ledger.chores("debt")
    return bill


def steps_by_day(foretold: dict[str, object]) -> dict[str, list[str]]:
    runs = foretold["runs"]
    assert isinstance(runs, list)
    return {
        datetime.fromtimestamp(run["at"], UTC).strftime("%m-%d %H:%M"): [f"{s['step']}: {s['who']}" for s in steps]
        for run in runs
        if (steps := run["steps"])
    }


def real_runs(catalog: Catalog, ledger: MemoryLedger, served: ServedStandIn, times: list[int]) -> list[object]:
    """The daily run itself, with Stripe (its stand-in), on each of those days: what the preview must foretell."""
    return [services.daily_run(catalog, ledger, served.gateway, SITE, at).as_dict() for at in times]


def test_a_debt_three_weeks_on_is_reminded_twice_then_put_into_collections_each_on_its_day(
    catalog: Catalog, stripe_standin: ServedStandIn
) -> None:
    ledger = MemoryLedger()
    bill = billed(catalog, ledger, stripe_standin)
    clock = bill.opened_at + 3600  # the bill went out on its billing day; the preview is asked an hour later
    until = bill.opened_at + 22 * DAY + 10 * 3600
    times = run_times(clock, until, TEN, UTC)
    before = copy.deepcopy(ledger.table.items)

    foretold = preview(catalog, ledger, SITE, times)

    assert ledger.table.items == before, "the ledger is as it was: the runs went on a copy"
    owed = f"carla@example.com {bill.debt_id}"
    assert steps_by_day(foretold) == {
        "02-08 10:00": [f"reminder 1: {owed}"],
        "02-15 10:00": [f"reminder 2: {owed}", f"back to prepaying: {owed}"],
        "02-22 10:00": [f"collections: {owed}"],
    }
    assert foretold["at"] == until and len(times) == 23
    again = MemoryLedger()
    billed(catalog, again, stripe_standin)
    assert [run["report"] for run in foretold["runs"]] == real_runs(catalog, again, stripe_standin, times)


def test_a_stale_balance_is_warned_then_refunded_on_its_days(catalog: Catalog, stripe_standin: ServedStandIn) -> None:
    ledger = MemoryLedger()
    bought(catalog, ledger, "ana@example.com", 60, 12900, AT, "lot-1")
    due = AT + catalog.refunds.stale_after_days * DAY  # 2028-01-15 08:00 UTC
    times = run_times(due - 40 * DAY, due + DAY, TEN, UTC)
    before = copy.deepcopy(ledger.table.items)

    foretold = preview(catalog, ledger, SITE, times)

    assert ledger.table.items == before
    assert steps_by_day(foretold) == {
        "12-16 10:00": ["refund warning: ana@example.com"],  # the first run within 30 days of the due date
        "01-15 10:00": ["stale refund: ana@example.com"],
    }
    again = MemoryLedger()
    bought(catalog, again, "ana@example.com", 60, 12900, AT, "lot-1")
    assert [run["report"] for run in foretold["runs"]] == real_runs(catalog, again, stripe_standin, times)


def test_a_billing_day_ahead_is_billed_on_it_without_asking_stripe(catalog: Catalog) -> None:
    """The bill's pay link is made on the day: the preview's gateway makes nothing at Stripe (no_gateway would
    fail the test if the run reached for a real one)."""
    ledger = MemoryLedger()
    set_trust(catalog, ledger, "carla@example.com", 300, "owner", AT)
    redeem(catalog, ledger, no_gateway, SessionRequest("carla@example.com", 45, "Sam", "printer", "T-1"), AT + 60)  # type: ignore[arg-type]

    foretold = preview(catalog, ledger, SITE, run_times(AT + 120, AT + 20 * DAY, TEN, UTC))

    assert steps_by_day(foretold) == {"02-01 10:00": ["bill: carla@example.com"]}
    account = ledger.account("carla@example.com")
    assert account is not None and account.billed_cents == 0 and ledger.chores("debt") == []


def test_an_overage_left_pending_is_said_to_go_to_stripe_on_the_next_day_once_and_stays_pending(
    catalog: Catalog,
) -> None:
    """Stripe was out of reach when the session was recorded: the next run asks it for the charge. A preview asks
    nothing (its gateway is Stripe out of reach), so it says once that the charge is asked for on that day."""
    ledger = MemoryLedger()
    bought(catalog, ledger, "ana@example.com", 60, 12900, AT, "lot-1")
    with pytest.raises(ShopError, match="not charged yet"):
        redeem(catalog, ledger, NoStripe, SessionRequest("ana@example.com", 90, "Sam", "server", "T-9", True), AT + 60)
    (pending,) = ledger.chores("overage")

    foretold = preview(catalog, ledger, SITE, run_times(AT + 120, AT + 5 * DAY, TEN, UTC))

    assert steps_by_day(foretold) == {
        "01-15 10:00": ["overage charge to the saved card, asked of Stripe on the day: ana@example.com T-9"]
    }
    assert all(run["report"]["overages finished"] == [] for run in foretold["runs"]), "left pending every day"
    assert ledger.chores("overage") == [pending]


def test_the_runs_are_the_schedules_in_the_shops_zone_then_the_day_asked() -> None:
    assert schedule_time(template.load_template()) == TEN, "template.yaml's cron(0 10 * * ? *)"
    chicago = ZoneInfo("America/Chicago")
    clock = int(datetime(2027, 3, 12, 11, 0, tzinfo=chicago).timestamp())  # after that day's run
    until = int(datetime(2027, 3, 15, 10, 0, tzinfo=chicago).timestamp())
    runs = [datetime.fromtimestamp(at, chicago).strftime("%d %H:%M %Z") for at in run_times(clock, until, TEN, chicago)]
    assert runs == ["13 10:00 CST", "14 10:00 CDT", "15 10:00 CDT"], "10:00 as the shop's clocks say, DST or not"
    assert run_times(clock, clock + 60, TEN, chicago) == [clock + 60], "no scheduled run before it: the day asked"
