"""What the shop must look at: kept once each in the ledger, emailed from its stream, listed by reconcile."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from ..domain.payment_changes import alert_raised

if TYPE_CHECKING:
    from ..ports import LedgerStore, UnbookedPayment


def report_unbooked(store: LedgerStore, payment: UnbookedPayment) -> bool:
    """A payment the ledger will not book, kept once for the shop; False if it was already reported."""
    values = {"what": "payment not credited", **asdict(payment)}
    return store.commit(alert_raised(payment.checkout_id, values)).committed
