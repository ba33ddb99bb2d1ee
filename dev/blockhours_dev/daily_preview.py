"""What the daily runs up to a later day will do, read from the ledger and written nowhere.

`blockhours sweep --at` a day after today asks for it: a run dated ahead of the clock would leave warnings,
notices and bills dated in the future on the client's balance page and statement, and a debt opened tomorrow.
The preview reads what each part of the run reads (handlers/sweep.py) and applies the same dates.
"""

from __future__ import annotations

from typing import Any

from blockhours.catalog import Catalog
from blockhours.domain.debts import pending_steps
from blockhours.domain.ledger import DAY_SECONDS
from blockhours.ports import LedgerStore

_STEP_LISTS = {"remind": "reminded", "prepay": "prepay", "collections": "collections"}


def preview(catalog: Catalog, store: LedgerStore, at: int) -> dict[str, Any]:
    """The daily run's report, as the runs from today to `at` would fill it: who is warned, refunded, billed,
    reminded, moved back to prepaying or marked for collections by then; `preview` says nothing was written."""
    warned, refunded = [], []
    due = store.due_accounts(at + catalog.refunds.warning_days * DAY_SECONDS)
    for account in due:
        due_at = int(account.refund_due_at or 0)
        if due_at <= at:
            refunded.append(account.email)
        elif (found := store.account(account.email)) is not None and found.warned_for != due_at:
            warned.append(account.email)
    billed = [
        account.email
        for account in store.chores("bill", at)
        if account.next_bill_at is not None
        and account.next_bill_at <= at
        and account.on_account_cents > account.billed_cents
    ]
    dunning: dict[str, list[str]] = {name: [] for name in _STEP_LISTS.values()}
    schedule = catalog.dunning_schedule()
    for debt in store.chores("debt", at):
        for step_at, step in pending_steps(debt, schedule):
            if step_at <= at:
                dunning[_STEP_LISTS[step]].append(f"{debt.email} {debt.debt_id}")
    return {
        "preview": True,
        "at": at,
        "read": len(due),
        "warned": warned,
        "refunded": refunded,
        "kept": [],
        "billing": {"billed": billed, "nothing_to_bill": []},
        "dunning": dunning,
    }
