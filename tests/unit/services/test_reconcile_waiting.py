"""Two refunds waiting for the worker on the same lot: reconcile counts both, so Stripe and the lot still agree."""

from __future__ import annotations

from blockhours.domain.ledger import Account, CustomerLedger, JournalEntry, LotShare, RefundRecord
from blockhours.domain.lots import Lot
from blockhours.domain.refunds import RefundPart
from blockhours.ports import StripeRefund
from blockhours.services.reconcile_checks import check_account, waiting_refunds

EMAIL = "ana@example.com"
LOT = Lot("cs_a", 12900, 60, "pi_a", "v1", 1, refunded_minutes=30, refunded_cents=6450)
REFUNDS = [RefundRecord(f"r{n}", EMAIL, "client", 2, (RefundPart("cs_a", "pi_a", 15, 3225),)) for n in (1, 2)]
ENTRIES = [
    JournalEntry("purchase-cs_a", "purchase", 1, "stripe", 60, 12900, "", (LotShare("cs_a", 60, 12900),)),
    *(
        JournalEntry(f"refund-{r.refund_id}", "refund-requested", 2, "ana", 15, 3225, "", (LotShare("cs_a", 15, 3225),))
        for r in REFUNDS
    ),
]
ACCOUNT = Account(EMAIL, "cus_a", 30, 6450, 12900, "active", 3, 0, 1, 2, 99, refunding_cents=6450)


LEDGER = CustomerLedger(ACCOUNT, [LOT], ENTRIES, REFUNDS)


class Stripe:
    def amount_received(self, payment_intent: str) -> int:
        return 12900

    def refunds_of(self, payment_intent: str) -> list[StripeRefund]:
        return []


def test_each_waiting_refund_is_reported_and_the_lot_agrees_with_stripe() -> None:
    found = check_account(LEDGER, Stripe())  # type: ignore[arg-type]
    assert waiting_refunds(LEDGER) == ["r1", "r2"], "both go to the worker again with requeue"
    assert sorted(d.what for d in found) == [
        "refund r1 ($32.25) has not reached Stripe yet",
        "refund r2 ($32.25) has not reached Stripe yet",
    ]
