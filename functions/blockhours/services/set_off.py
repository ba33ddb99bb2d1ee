"""What is owed comes first: a refund pays the client's open debts from the balance, then returns the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.account_rules import may_refund
from ..domain.debts import set_off
from ..domain.ledger import JournalEntry, LotShare
from ..domain.money import format_cents
from ..domain.playbook_changes import debt_set_off
from .errors import Conflict
from .retry import replans

if TYPE_CHECKING:
    from ..domain.ledger import CustomerLedger
    from ..ports import LedgerStore


def pay_debts_from_balance(store: LedgerStore, email: str, currency: str, at: int) -> CustomerLedger | None:
    """Pay every open debt, oldest first, from what the lots hold; the ledger as last read (None if unknown).

    Refused (changing nothing more) when the balance cannot pay the next debt whole: nothing goes back to the
    card while the client owes the shop. An account on hold pays nothing here; its refund is refused anyway.
    """
    for _ in replans():
        ledger = store.customer(email)
        if ledger is None or may_refund(ledger.account) is not None:
            return ledger
        owed = sorted((d for d in ledger.debts if d.status == "open"), key=lambda d: (d.opened_at, d.debt_id))
        if not owed:
            return ledger
        debt = owed[0]
        plan = set_off(debt, ledger.lots)
        if plan is None:
            held = sum(max(lot.remaining_cents, 0) for lot in ledger.lots)
            how = f"with the link in the notice ({debt.pay_url})" if debt.pay_url else "by contacting the shop"
            raise Conflict(
                "debt_exceeds_balance",
                f"{email} owes {format_cents(debt.amount_cents, currency)} ({debt.description}) and the balance holds "
                f"{format_cents(held, currency)}: nothing goes back to the card while money is owed; pay the debt "
                f"{how}, then ask for the refund again",
            )
        entry = JournalEntry(
            f"set-off-{debt.debt_id}",
            "set-off",
            at,
            "refund",
            sum(minutes for _, minutes, _ in plan.draws),
            debt.amount_cents,
            f"{format_cents(debt.amount_cents, currency)} owed ({debt.description}) paid from the balance "
            "before the refund",
            tuple(LotShare(lot_id, minutes, cents) for lot_id, minutes, cents in plan.draws),
        )
        store.commit(debt_set_off(plan, ledger.lots, entry))  # paid, or the lots moved: read again either way
    raise Conflict("busy", f"{email}'s balance kept changing while debts were paid from it; ask again")
