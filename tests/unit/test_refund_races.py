"""A refund event whose write lost a race with a session on the same lot is read again and recorded, not taken
for a duplicate: the webhook answers 200 either way, and Stripe would never send it again."""

from __future__ import annotations

from typing import Any

from blockhours.domain.ledger import Account, CustomerLedger, JournalEntry, RefundRecord
from blockhours.domain.lots import Lot
from blockhours.domain.refunds import RefundPart
from blockhours.ports import StripeRefund
from blockhours.services import stripe_refund_changed

EMAIL = "ana@example.com"
LOT = Lot("cs_a", 12900, 60, "pi_a", "v1", 1, refunded_minutes=30, refunded_cents=6450)
ACCOUNT = Account(EMAIL, "cus_a", 30, 6450, 12900, "active", 3, 0, 1, 1, None)


class RacedStore:
    """Loses the first write to a concurrent session, then lets the next one through."""

    def __init__(self, entries: list[JournalEntry] | None = None) -> None:
        self.entries = entries or []
        self.writes = 0
        self.part = RefundPart("cs_a", "pi_a", 30, 6450, "succeeded", "re_1")

    def _write(self) -> bool:
        self.writes += 1
        return self.writes > 1

    def payment_owner(self, payment_intent: str) -> tuple[str, str]:
        return EMAIL, "cs_a"

    def refund(self, email: str, refund_id: str) -> RefundRecord:
        return RefundRecord("r1", EMAIL, "client", 1, (self.part,))

    def lots(self, email: str) -> list[Lot]:
        return [LOT]

    def customer(self, email: str) -> CustomerLedger:
        return CustomerLedger(ACCOUNT, [LOT], self.entries)

    def give_back_refund_part(self, *args: Any) -> bool:
        return self._write()

    def record_outside_refund(self, *args: Any) -> bool:
        return self._write()


def test_a_failed_refund_given_back_after_losing_a_race() -> None:
    store = RacedStore()
    failed = StripeRefund("re_1", "pi_a", 6450, "failed", "expired_or_canceled_card", "r1", "cs_a")
    assert stripe_refund_changed(store, failed, 5) == "recorded"  # type: ignore[arg-type]
    assert store.writes == 2


def test_a_dashboard_refund_recorded_after_losing_a_race() -> None:
    store = RacedStore()
    made = StripeRefund("re_2", "pi_a", 1000, "succeeded", "", "", "")
    assert stripe_refund_changed(store, made, 5) == "recorded"  # type: ignore[arg-type]
    assert store.writes == 2


def test_a_failed_dashboard_refund_given_back_after_losing_a_race() -> None:
    taken = JournalEntry("refunded-outside-re_2", "refunded", 2, "stripe dashboard", 5, 1000)
    store = RacedStore([taken])
    failed = StripeRefund("re_2", "pi_a", 1000, "failed", "expired_or_canceled_card", "", "")
    assert stripe_refund_changed(store, failed, 5) == "recorded"  # type: ignore[arg-type]
    assert store.writes == 2


def test_one_already_in_the_ledger_is_a_duplicate_without_a_write() -> None:
    store = RacedStore([JournalEntry("refunded-outside-re_2", "refunded", 2, "stripe dashboard", 5, 1000)])
    made = StripeRefund("re_2", "pi_a", 1000, "succeeded", "", "", "")
    assert stripe_refund_changed(store, made, 5) == "duplicate"  # type: ignore[arg-type]
    assert store.writes == 0
