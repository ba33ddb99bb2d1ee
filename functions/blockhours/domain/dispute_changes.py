"""What a dispute event, a thaw, a waived debt and a released hold change, as values for one commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .changes import EXISTS, NEW, Change, Expect, Put, Update, debt_ref, dispute_ref, journal, refund_ref
from .moves import account_move, lot_move
from .playbook_changes import OPEN, debt_opened

if TYPE_CHECKING:
    from .changes import Condition
    from .debts import Debt
    from .disputes import DisputeChange, WaitingPart
    from .ledger import JournalEntry

DISPUTE = "dispute"  # refused: the dispute changed since it was read
REFUSED_BY_BANK = "the charge is disputed: no refund can be made"


def dispute_recorded(
    change: DisputeChange,
    stored: bool,
    entries: Sequence[JournalEntry],
    refund_statuses: Mapping[str, str],
    debt: Debt | None,
    waived: Debt | None,
) -> Change:
    """The dispute's new facts, the lot, the refunds it cancels, the debt and the account: all or nothing.

    Refused when the dispute, the lot or a cancelled refund changed since they were read: read again.
    """
    after, email = change.after, change.after.email
    was = change.before.version
    if not stored:
        seen: tuple[Condition, ...] = (NEW,)
    else:  # a dispute recorded before its facts were kept has no version yet
        seen = (Expect("version", "=", was),) if was else (Expect("version", "missing"),)
    dispute = Put(dispute_ref(after.dispute_id), after, expect=seen, role=DISPUTE)
    closed = (
        Update(
            debt_ref(email, waived.debt_id),
            set={"status": "waived", "paid_at": change.at, "settled_by": "bank"},
            remove=("next_at",),
            expect=(OPEN,),
        )
        if waived is not None
        else None
    )
    return Change.of(
        dispute,
        lot_move(email, change.lot_before, change.lot_after),
        *_cancelled(email, change.cancelled, refund_statuses),
        *journal(email, *entries),
        debt_opened(debt, None) if debt is not None else None,  # listed with the open debts, never dunned
        closed,
        _account(change),
    )


def _cancelled(email: str, parts: Sequence[WaitingPart], statuses: Mapping[str, str]) -> tuple[Update, ...]:
    """Each refund whose parts for the lot were waiting: those parts failed, once, and the refund's status."""
    by_refund: dict[str, list[WaitingPart]] = {}
    for part in parts:
        by_refund.setdefault(part.refund_id, []).append(part)
    return tuple(
        Update(
            refund_ref(email, refund_id),
            set={
                **{f"parts[{p.index}].status": "failed" for p in waiting},
                **{f"parts[{p.index}].failure": REFUSED_BY_BANK for p in waiting},
                "status": statuses[refund_id],
            },
            expect=tuple(Expect(f"parts[{p.index}].status", "=", "requested") for p in waiting),
        )
        for refund_id, waiting in by_refund.items()
    )


def _account(change: DisputeChange) -> Update:
    move = change.account
    deltas = {
        "available_minutes": move.available_minutes,
        "available_cents": move.available_cents,
        "awaiting_refund_cents": move.awaiting_refund_cents,
        "refunding_cents": move.refunding_cents,
        "charged_back_cents": move.charged_back_cents,
        "owed_cents": move.owed_cents,
        "open_disputes": move.open_disputes,
        "dispute_holds": move.dispute_holds,
    }
    money_back = move.available_minutes > 0 or move.awaiting_refund_cents > 0  # due for the sweep again
    return account_move(
        change.after.email,
        add={name: delta for name, delta in deltas.items() if delta},
        set={"status": "frozen"} if move.freeze else {},
        set_if_absent={"refund_due_at": change.at} if money_back else {},
        expect=(EXISTS,),
    )


def thawed(email: str, waiting_refunds: Sequence[str], at: int) -> Change:
    """Active again once no dispute is open or held; the refunds that waited are sent on (from the stream)."""
    account = account_move(
        email,
        set={"status": "active"},
        expect=(
            Expect("status", "=", "frozen"),
            Expect("open_disputes", "<=", 0, absent=0),
            Expect("dispute_holds", "<=", 0, absent=0),
        ),
        money=False,
    )
    resumed = (
        Update(refund_ref(email, refund_id), set={"resumed_at": at}, expect=(EXISTS,)) for refund_id in waiting_refunds
    )
    return Change.of(account, *resumed)


def debt_waived(debt: Debt, entry: JournalEntry) -> Change:
    """The shop gives up what a lost dispute left owed; refused as "debt" when it is no longer open."""
    closed = Update(
        debt_ref(debt.email, debt.debt_id),
        set={"status": "waived", "paid_at": entry.at, "settled_by": "waived"},
        remove=("next_at",),
        expect=(OPEN,),
    )
    owed = account_move(debt.email, add={"owed_cents": -debt.amount_cents}, money=False)
    return Change.of(closed, *journal(debt.email, entry), owed)


def hold_released(email: str, entry: JournalEntry) -> Change:
    """Staff release an account held after a lost dispute; refused as "account" when it was not on hold."""
    released = account_move(email, set={"dispute_holds": 0}, expect=(Expect("dispute_holds", ">", 0),), money=False)
    return Change.of(released, *journal(email, entry))
