"""A refund event whose write lost a race with a session on the same lot is read again and recorded, not taken
for a duplicate: the webhook answers 200 either way, and Stripe would never send it again."""

from __future__ import annotations

import pytest

from blockhours.catalog import Catalog
from blockhours.domain.changes import refund_ref
from blockhours.ports import StripeRefund
from blockhours.services import SessionRequest, redeem, request_refund, stripe_refund_changed
from in_memory import RacingLedger, bought, no_gateway

EMAIL = "ana@example.com"
AT = 1_800_000_000


@pytest.fixture
def store() -> RacingLedger:
    return RacingLedger()


def a_session_on_the_same_lot(catalog: Catalog, store: RacingLedger, minutes: int = 15) -> None:
    def session() -> None:
        request = SessionRequest(EMAIL, minutes, "sam", "racing", f"T-{store.commits}")
        redeem(catalog, store, no_gateway, request, now=AT + 60)  # type: ignore[arg-type]

    store.racer = session


def test_a_failed_refund_given_back_after_losing_a_race(catalog: Catalog, store: RacingLedger) -> None:
    payment = bought(catalog, store, EMAIL, 60, 12900, AT, "cs_a")
    refund = request_refund(catalog, store, EMAIL, "client", "ana", minutes=30, now=AT + 10)
    a_session_on_the_same_lot(catalog, store)
    failed = StripeRefund(
        "re_1", payment.payment_intent, 6450, "failed", "expired_or_canceled_card", refund.refund_id, "cs_a"
    )

    assert stripe_refund_changed(store, failed, AT + 120) == "recorded"
    assert store.refused == 1, "the first write met the racing session and was refused"

    account = store.account(EMAIL)
    assert account is not None
    assert (account.available_minutes, account.refunding_cents) == (45, 0), "30 back, 15 used by the racing session"
    record = store.find(refund_ref(EMAIL, refund.refund_id))
    assert record is not None and record.status == "failed"
    assert stripe_refund_changed(store, failed, AT + 130) == "duplicate"


def test_a_dashboard_refund_recorded_after_losing_a_race(catalog: Catalog, store: RacingLedger) -> None:
    payment = bought(catalog, store, EMAIL, 60, 12900, AT, "cs_a")
    a_session_on_the_same_lot(catalog, store)
    made = StripeRefund("re_2", payment.payment_intent, 1000, "succeeded")

    assert stripe_refund_changed(store, made, AT + 120) == "recorded"
    assert store.refused == 1, "the first write met the racing session and was refused"

    account = store.account(EMAIL)
    assert account is not None and account.refunded_cents == 1000
    assert [lot.refunded_cents for lot in store.lots(EMAIL)] == [1000]
    assert stripe_refund_changed(store, made, AT + 130) == "duplicate", "in the ledger already: no second write"


def test_a_failed_dashboard_refund_given_back_after_losing_a_race(catalog: Catalog, store: RacingLedger) -> None:
    payment = bought(catalog, store, EMAIL, 60, 12900, AT, "cs_a")
    made = StripeRefund("re_2", payment.payment_intent, 1000, "succeeded")
    assert stripe_refund_changed(store, made, AT + 100) == "recorded"
    a_session_on_the_same_lot(catalog, store)
    failed = StripeRefund("re_2", payment.payment_intent, 1000, "failed", "expired_or_canceled_card")

    assert stripe_refund_changed(store, failed, AT + 120) == "recorded"
    assert store.refused == 1, "the first write met the racing session and was refused"

    account = store.account(EMAIL)
    assert account is not None and account.refunded_cents == 0
    assert [lot.refunded_cents for lot in store.lots(EMAIL)] == [0]
