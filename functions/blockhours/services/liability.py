"""Who the liability report counts: every account that holds money for its client or is owed money by them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..domain.ledger import Account
    from ..ports import LedgerStore


def accounts_holding_or_owing(store: LedgerStore) -> list[Account]:
    """Holders from the refund-due index, debtors from their open debts, trusted clients from their billing days:
    read through indexes (the API never scans), each account read whole for every amount it holds or is owed."""
    emails = {account.email for account in store.due_accounts()}
    emails |= {debt.email for debt in store.chores("debt")}
    emails |= {account.email for account in store.chores("bill")}
    found = (store.account(email) for email in sorted(emails))
    return [account for account in found if account is not None]
