"""The auditor: every account field that the rest of the ledger determines, recomputed from the rules.

The account keeps materialised totals so DynamoDB conditions can test them; the lots, refunds and debts are the
truth they summarise. `audit` returns each field whose stored value disagrees with what they say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ledger import CustomerLedger

_IN_FLIGHT = frozenset({"requested", "pending"})  # a refund part's money is set aside until Stripe settles it


@dataclass(frozen=True)
class FieldDisagrees:
    field: str
    stored: int
    derived: int


def derived_fields(ledger: CustomerLedger) -> dict[str, int]:
    """What each derivable account field must hold, by the money rules (DESIGN.md), from lots, refunds and debts."""
    open_lots = [lot for lot in ledger.lots if lot.closed_at is None]
    closed_lots = [lot for lot in ledger.lots if lot.closed_at is not None]
    parts = [part for refund in ledger.refunds for part in refund.parts]
    open_debts = [debt for debt in ledger.debts if debt.status == "open"]
    bills = [debt for debt in open_debts if debt.kind == "bill"]
    account = ledger.account
    return {
        "available_minutes": sum(lot.spendable_minutes for lot in open_lots),  # spendable: open lots only
        "available_cents": sum(lot.remaining_cents for lot in open_lots),
        "awaiting_refund_cents": sum(max(lot.remaining_cents, 0) for lot in closed_lots),  # settled deposits' rest
        "refunding_cents": sum(part.amount_cents for part in parts if part.status in _IN_FLIGHT),
        "paid_cents": sum(lot.amount_cents for lot in ledger.lots),
        "charged_back_cents": sum(lot.charged_back_cents for lot in ledger.lots),
        "owed_cents": sum(debt.amount_cents for debt in open_debts if debt.kind != "bill"),  # bills are on account
        "billed_minutes": sum(debt.minutes for debt in bills),
        "billed_cents": sum(debt.amount_cents for debt in bills),
        "collections_debts": sum(1 for debt in open_debts if debt.in_collections),
        "credit_left_minutes": account.trust_limit_minutes - account.on_account_minutes,
    }


def audit(ledger: CustomerLedger) -> list[FieldDisagrees]:
    """Every derivable account field whose stored value is not what the ledger's items say."""
    account = ledger.account
    return [
        FieldDisagrees(name, getattr(account, name), value)
        for name, value in derived_fields(ledger).items()
        if getattr(account, name) != value
    ]
