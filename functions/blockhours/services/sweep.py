"""The daily sweep: warn clients whose balance will soon be refunded, then refund the ones that are due."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..catalog import Catalog
from ..domain.ledger import DAY_SECONDS
from ..domain.session_changes import warned
from ..emails import Email, refund_warning
from ..ports import LedgerStore
from .errors import ShopError
from .refunds import request_refund


@dataclass
class SweepReport:
    read: int = 0
    warned: list[str] = field(default_factory=list)
    refunded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # below the minimum, frozen, or busy: tried again tomorrow


def sweep(
    catalog: Catalog, store: LedgerStore, send: Callable[[Email], object], site_url: str, now: int | None = None
) -> SweepReport:
    """Reads only the accounts due within the warning period, from the sparse index (and, to warn, whether it did)."""
    at = now if now is not None else int(time.time())
    report = SweepReport()
    due = store.due_accounts(at + catalog.refunds.warning_days * DAY_SECONDS)
    report.read = len(due)
    for account in due:
        email, due_at = account.email, int(account.refund_due_at or 0)
        if due_at > at:
            # Sent first, remembered after: a crash in between sends the warning twice, never not at all.
            found = store.account(email)  # the index does not keep when the client was warned
            if found is not None and found.warned_for != due_at:
                send(refund_warning(catalog, email, account.available_cents, due_at, site_url))
                store.commit(warned(email, due_at))
                report.warned.append(email)
            continue
        try:
            request_refund(catalog, store, email, "stale", "sweep", now=at)
            report.refunded.append(email)
        except ShopError:
            report.kept.append(email)
    return report
