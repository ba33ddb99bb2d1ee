"""Card disputes: the account freezes while one is open; no session and no refund runs on it."""

from __future__ import annotations

from typing import Literal

from ..domain.ledger import JournalEntry
from ..domain.money import format_cents
from ..ports import LedgerStore


def dispute_changed(
    store: LedgerStore, dispute_id: str, payment_intent: str, amount_cents: int, status: str, closed: bool, at: int
) -> Literal["recorded", "duplicate", "ignored"]:
    owner = store.payment_owner(payment_intent)
    if owner is None:
        return "ignored"
    email, lot_id = owner
    what = (
        f"dispute {dispute_id} on {format_cents(amount_cents)} ({lot_id}) {'closed: ' + status if closed else 'opened'}"
    )
    entry = JournalEntry(
        f"dispute-{dispute_id}-{'closed' if closed else 'opened'}", "dispute", at, "stripe", 0, 0, what
    )
    done = store.close_dispute(dispute_id, email, entry) if closed else store.open_dispute(dispute_id, email, entry)
    return "recorded" if done else "duplicate"
