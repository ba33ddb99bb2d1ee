"""Stripe events about a payment the ledger does not know yet: parked, and applied once its credit lands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..domain.payment_changes import EVENT, event_parked, parked_applied
from ..ports import StripeRefund
from .disputes import dispute_changed
from .refunds import stripe_refund_changed

if TYPE_CHECKING:
    from ..domain.parked import ParkedEvent
    from ..ports import LedgerStore

EventOutcome = Literal["recorded", "duplicate", "ignored", "parked"]


def payment_event(store: LedgerStore, event: ParkedEvent) -> EventOutcome:
    """A refund or dispute event into the ledger once; parked when its payment is not credited yet."""
    outcome = _apply(store, event)
    if outcome != "unknown_payment":
        return outcome
    if not event.payment_intent:  # a refund or dispute of no payment we could ever know: nothing to keep
        return "ignored"
    parked = store.commit(event_parked(event))
    if parked.committed:
        return "parked"
    if EVENT in parked.refused:
        return "duplicate"
    again = _apply(store, event)  # the credit landed between the two: apply it now
    return "ignored" if again == "unknown_payment" else again


def apply_parked(store: LedgerStore, payment_intent: str, at: int) -> int:
    """Apply, in the order Stripe made them, the events that waited for this payment; each exactly once.

    Applying is idempotent on its own (each event's effect is keyed by the dispute or refund), so a crash
    between applying and marking applies it again harmlessly.
    """
    applied = 0
    for event in sorted(store.parked_events(payment_intent), key=lambda e: (e.at, e.parked_id)):
        if event.applied_at is not None:
            continue
        if _apply(store, event) == "unknown_payment":
            break
        applied += store.commit(parked_applied(event, at)).committed
    return applied


def _apply(store: LedgerStore, event: ParkedEvent) -> Literal["recorded", "duplicate", "ignored", "unknown_payment"]:
    fields = event.fields
    if event.kind == "dispute":
        return dispute_changed(
            store,
            str(fields["dispute_id"]),
            event.payment_intent,
            int(fields["amount_cents"]),
            str(fields["status"]),
            event.event_type,
            event.at,
        )
    return stripe_refund_changed(store, StripeRefund(**fields), event.at)
