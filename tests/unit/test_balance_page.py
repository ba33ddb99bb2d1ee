"""What the client's pages show (blockhours/balance_page.py): what is owed first, time on account, one refund date,
and who may see a balance link after paying. On the in-memory store, with the real use cases."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from blockhours import services
from blockhours.balance_page import balance_view, may_open_balance, paid_view
from blockhours.catalog import Catalog
from blockhours.domain.ledger import DAY_SECONDS
from blockhours.ports import PaidCheckout
from blockhours_dev.memory_ledger import MemoryLedger
from in_memory import paid_checkout as pay
from in_memory import session_at as session
from served_standin import ServedStandIn

UTC = ZoneInfo("UTC")
AT = 1_800_000_000  # 15 Jan 2027
DAY = DAY_SECONDS


@pytest.fixture
def store() -> MemoryLedger:
    return MemoryLedger()


def view(store: MemoryLedger, catalog: Catalog, email: str, now: int) -> dict[str, object]:
    ledger = store.customer(email)
    assert ledger is not None
    return balance_view(ledger, catalog, UTC, now)


def test_the_refund_date_is_the_accounts_not_each_purchases(catalog: Catalog, store: MemoryLedger) -> None:
    pay(catalog, store, "ana@example.com", 60, 12900, AT)
    pay(catalog, store, "ana@example.com", 30, 6900, AT + 5 * DAY)
    session(catalog, store, None, "ana@example.com", 15, AT + 40 * DAY)  # from the oldest purchase

    shown = view(store, catalog, "ana@example.com", AT + 41 * DAY)
    assert shown["refund_due_at"] == AT + 40 * DAY + catalog.refunds.stale_after_days * DAY
    assert all("expires_at" not in lot for lot in shown["lots"])  # type: ignore[attr-defined]
    assert shown["top_up"] is False and shown["owed"] == [] and shown["on_account"] is None


def test_what_is_owed_comes_with_its_link_and_the_day_of_the_next_step(
    catalog: Catalog, store: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    pay(catalog, store, "ben@example.com", 60, 12900, AT)  # its card cannot be charged
    record = session(catalog, store, stripe_standin, "ben@example.com", 90, AT + 60)

    shown = view(store, catalog, "ben@example.com", AT + DAY)
    assert shown["owed_cents"] == 6450
    assert shown["owed"] == [
        {
            "debt_id": f"overage-{record.session_id}",
            "what": "Time beyond your balance on 15 Jan 2027",
            "amount_cents": 6450,
            "minutes": 30,
            "sent_at": AT + 60,
            "due_at": AT + 60 + catalog.dunning.reminder_days[0] * DAY,
            "pay_url": record.pay_url,
            "on_hold": False,
        }
    ]
    assert shown["refund_due_at"] is None and shown["top_up"] is True, "nothing left to refund: buy time"


def test_a_trusted_client_sees_time_on_account_the_next_bill_and_the_limit_left_and_no_top_up(
    catalog: Catalog, store: MemoryLedger
) -> None:
    pay(catalog, store, "cleo@example.com", 30, 6900, AT)
    services.set_trust(catalog, store, "cleo@example.com", 300, "staff", now=AT + 10)
    session(catalog, store, None, "cleo@example.com", 90, AT + 60)

    shown = view(store, catalog, "cleo@example.com", AT + 120)
    assert shown["balance_minutes"] == 0 and shown["top_up"] is False
    assert shown["on_account"] == {
        "limit_minutes": 300,
        "unbilled_minutes": 60,
        "unbilled_cents": 12900,
        "left_minutes": 240,
        "next_bill_at": 1_801_440_000,  # 1 Feb 2027, midnight in the shop's zone
    }


def paid(debt_id: str = "", status: str = "paid") -> PaidCheckout:
    sku = "" if debt_id else "block-60"
    return PaidCheckout("cs_test_1", status, "ana@example.com", 12900, "usd", AT, sku, 60, debt_id=debt_id)  # type: ignore[arg-type]


def test_a_balance_link_after_paying_only_for_an_account_that_holds_nothing_else(
    catalog: Catalog, store: MemoryLedger
) -> None:
    assert may_open_balance(paid(), None), "the payment is not credited yet: the account will hold only it"
    pay(catalog, store, "ana@example.com", 30, 6900, AT - DAY)  # an older purchase, maybe by someone else
    assert not may_open_balance(paid(), store.customer("ana@example.com"))
    assert not may_open_balance(paid(status="processing"), None)
    assert not may_open_balance(paid("bill-2027-02-01"), None), "a pay link may be paid by anyone for the client"

    shown = paid_view(paid(), None, catalog, UTC, AT, "https://shop.example/balance/?t=x")
    assert (shown["what"], shown["amount_cents"], shown["email"], shown["kind"]) == (
        "1-hour block",
        12900,
        "ana@example.com",
        "purchase",
    )


def test_a_paid_debt_says_what_else_is_owed_and_not_whose_it_is(
    catalog: Catalog, store: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    pay(catalog, store, "ben@example.com", 60, 12900, AT)
    first = session(catalog, store, stripe_standin, "ben@example.com", 90, AT + 60)
    second = session(catalog, store, stripe_standin, "ben@example.com", 30, AT + DAY)

    shown = paid_view(
        paid(f"overage-{first.session_id}"), store.customer("ben@example.com"), catalog, UTC, AT + DAY, ""
    )
    assert (shown["what"], shown["email"], shown["owed_cents"]) == (
        "Time beyond your balance on 15 Jan 2027",
        "",
        6450,
    )
    assert [item["pay_url"] for item in shown["owed"]] == [second.pay_url]  # type: ignore[attr-defined]
