"""What recording a session, finishing its overage and settling a deposit change, as values for one commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .changes import EXISTS, Change, Expect, Put, Update, debt_ref, journal, session_ref
from .ledger import warned_due_at
from .moves import ACTIVE, NOT_IN_COLLECTIONS, account_move, due, holding, lot_move, lot_moves

if TYPE_CHECKING:
    from .debts import Debt
    from .ledger import JournalEntry, SessionRecord
    from .lots import Lot

SESSION = "session"  # refused: the session id is already recorded
MAX_LOTS = 96  # a transaction takes 100 writes: the session, its entries and the account leave room for this many


def session_recorded(
    record: SessionRecord,
    lots_before: Sequence[Lot],
    lots_after: Sequence[Lot],
    entries: Sequence[JournalEntry],
    due_at: int,
) -> Change:
    """The session, its entries, the lots it drew on and the account, at once.

    Refused as SESSION when the session id is already recorded; otherwise a lot or the balance moved since it
    was read, or the account may not take sessions: read again and re-plan.
    """
    if len(lots_after) > MAX_LOTS:
        raise ValueError(f"a session may draw on at most {MAX_LOTS} lots at once; record it in two parts")
    email = record.email
    expect = [EXISTS, ACTIVE, NOT_IN_COLLECTIONS, Expect("available_minutes", ">=", record.covered_minutes, absent=0)]
    if record.on_account_minutes:
        expect.append(Expect("credit_left_minutes", ">=", record.on_account_minutes))
    account = account_move(
        email,
        add={
            "available_minutes": -record.covered_minutes,
            "available_cents": -record.covered_cents,
            "owed_cents": record.overage_cents,
            "on_account_minutes": record.on_account_minutes,
            "on_account_cents": record.on_account_cents,
            "credit_left_minutes": -record.on_account_minutes,
        },
        set={"last_activity_at": record.at} | due(holding(lots_after), due_at).get("set", {}),
        remove=due(holding(lots_after), due_at).get("remove", ()),
        expect=tuple(expect),
    )
    return Change.of(
        Put(session_ref(email, record.session_id), record, role=SESSION),
        *journal(email, *entries),
        *lot_moves(email, lots_before, lots_after),
        account,
    )


def overage_finished(
    record: SessionRecord, entry: JournalEntry | None, paid_cents: int, debt: Debt | None, debt_next_at: int
) -> Change:
    """A session's overage moves on from pending (charged, or owed as a debt), once."""
    email = record.email
    session = Update(
        session_ref(email, record.session_id),
        set={
            "overage_status": record.overage_status,
            "payment_intent": record.payment_intent or "",
            "pay_url": record.pay_url or "",
            "overage_problem": record.overage_problem,
            "overage_no_card": record.overage_no_card,
        },
        expect=(Expect("overage_status", "=", "pending"),),
        role=SESSION,
    )
    paid = account_move(email, add={"owed_cents": -paid_cents}, money=False) if paid_cents else None
    opened = (
        Put(debt_ref(debt.email, debt.debt_id), debt, fields={"next_at": debt_next_at}) if debt is not None else None
    )
    return Change.of(session, *journal(email, *([entry] if entry else [])), paid, opened)


def deposits_settled(email: str, lots_before: Sequence[Lot], entry: JournalEntry) -> Change:
    """The open deposits close: what is left leaves the spendable balance to await its refund."""
    closing = [lot for lot in lots_before if lot.kind == "deposit" and lot.closed_at is None]
    minutes = sum(lot.remaining_minutes for lot in closing)
    cents = sum(lot.remaining_cents for lot in closing)
    account = account_move(
        email,
        add={"available_minutes": -minutes, "available_cents": -cents, "awaiting_refund_cents": cents},
        set={"last_activity_at": entry.at},
        expect=(EXISTS,),
    )
    closed = (lot_move(email, lot, replace(lot, closed_at=entry.at)) for lot in closing)
    return Change.of(*journal(email, entry), *closed, account)


def warned(email: str, warning: JournalEntry) -> Change:
    """The client is warned about this refund date: the entry (the outbox emails it) and `warned_for`, at once;
    refused when they already were (a retried sweep), so the warning is written, and sent, once."""
    refund_due_at = warned_due_at(warning.entry_id)
    not_yet = Expect("warned_for", "<>", refund_due_at, absent=0)  # never warned: no date is 0
    account = account_move(email, set={"warned_for": refund_due_at}, expect=(EXISTS, not_yet), money=False)
    return Change.of(*journal(email, warning), account)
