"""The daily sweep: warn clients whose balance will soon be refunded, then refund the ones that are due."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..domain.ledger import DAY_SECONDS, refund_warning_entry
from ..domain.session_changes import warned
from ..emails import format_day
from .errors import ShopError
from .refunds import request_refund

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..ports import LedgerStore


@dataclass
class SweepReport:
    read: int = 0
    warned: list[str] = field(default_factory=list)
    refunded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # below the minimum, frozen, or busy: tried again tomorrow


def sweep(catalog: Catalog, store: LedgerStore, now: int | None = None) -> SweepReport:
    """Reads only the accounts due within the warning period, from the sparse index, which also says who was warned.

    A warning is a journal entry written with `warned_for`; the outbox emails it from the table's stream.
    """
    at = now if now is not None else int(time.time())
    report = SweepReport()
    due = store.due_accounts(at + catalog.refunds.warning_days * DAY_SECONDS)
    report.read = len(due)
    for account in due:
        email, due_at = account.email, int(account.refund_due_at or 0)
        if due_at > at:
            # the index keeps warned_for; if it lags a warning just written, the write's condition refuses a second
            if account.warned_for != due_at:
                note = f"reminder: your unused balance will be refunded to your card on {format_day(due_at)}"
                entry = refund_warning_entry(due_at, at, account.available_minutes, account.available_cents, note)
                if store.commit(warned(email, entry)):  # refused: another run warned them first
                    report.warned.append(email)
            continue
        try:
            request_refund(catalog, store, email, "stale", "sweep", now=at)
            report.refunded.append(email)
        except ShopError:
            report.kept.append(email)
    return report
