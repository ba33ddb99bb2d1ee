"""What a refund changes, as values for one commit: money set aside, each part's answer, what failed given back,
and refunds made in the Stripe dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .changes import EXISTS, Change, Expect, Put, Ref, Update, journal, refund_ref
from .moves import ACTIVE, account_move, holding, lot_move, lot_moves

if TYPE_CHECKING:
    from .ledger import JournalEntry, RefundRecord
    from .lots import Lot
    from .refunds import RefundPart

REFUND = "refund"  # refused: this refund (or this part's answer) is already recorded
MARKER = "marker"  # refused: this dashboard refund is already in the ledger


def refund_requested(
    record: RefundRecord,
    lots_before: Sequence[Lot],
    lots_after: Sequence[Lot],
    entry: JournalEntry,
    spendable: tuple[int, int],
) -> Change:
    """The refund's money set aside, out of reach of sessions, in the same write that records it.

    `spendable`: the minutes and cents of it that were spendable (the rest was a settled deposit's, awaiting its
    refund). Refused as REFUND: recorded before; otherwise a lot or the balance moved, or the account is frozen.
    """
    email = record.email
    minutes, cents = spendable
    account = account_move(
        email,
        add={
            "available_minutes": -minutes,
            "available_cents": -cents,
            "awaiting_refund_cents": -(record.amount_cents - cents),
            "refunding_cents": record.amount_cents,
        },
        remove=() if holding(lots_after) else ("refund_due_at",),
        expect=(EXISTS, ACTIVE, Expect("available_minutes", ">=", minutes, absent=0)),
    )
    return Change.of(
        Put(refund_ref(email, record.refund_id), record, role=REFUND),
        *journal(email, entry),
        *lot_moves(email, lots_before, lots_after),
        account,
    )


def _with_part(record: RefundRecord, index: int, part: RefundPart) -> RefundRecord:
    parts = list(record.parts)
    parts[index] = part
    return replace(record, parts=tuple(parts))


def refund_part_recorded(record: RefundRecord, index: int, part: RefundPart, entry: JournalEntry | None) -> Change:
    """Stripe answered for one part; refused as REFUND when that answer was already recorded."""
    email = record.email
    after = _with_part(record, index, part)
    moved = Update(
        refund_ref(email, record.refund_id),
        set={f"parts[{index}]": part, "status": after.settled_status()},
        expect=(Expect(f"parts[{index}].status", "=", record.parts[index].status),),
        role=REFUND,
    )
    paid = None
    if part.status == "succeeded":
        money = {"refunding_cents": -part.amount_cents, "refunded_cents": part.amount_cents}
        paid = account_move(email, add=money, money=False)
    return Change.of(moved, paid, *journal(email, *([entry] if entry else [])))


def refund_part_given_back(
    record: RefundRecord, index: int, lot: Lot, lot_after: Lot, failure: str, entry: JournalEntry
) -> Change:
    """A part Stripe could not refund: its money returns to the lot and the balance (or to what awaits a refund,
    for a settled deposit), once; the account is due for the sweep again."""
    email = record.email
    old = record.parts[index]
    failed = replace(old, status="failed", failure=failure)
    after = _with_part(record, index, failed)
    spendable = lot.closed_at is None
    succeeded = old.status == "succeeded"
    account = account_move(
        email,
        set_if_absent={"refund_due_at": entry.at},
        add={
            "available_minutes": old.minutes if spendable else 0,
            "available_cents": old.amount_cents if spendable else 0,
            "awaiting_refund_cents": 0 if spendable else old.amount_cents,
            "refunding_cents": 0 if succeeded else -old.amount_cents,
            "refunded_cents": -old.amount_cents if succeeded else 0,
        },
    )
    return Change.of(
        Update(
            refund_ref(email, record.refund_id),
            set={f"parts[{index}]": failed, "status": after.settled_status()},
            expect=(Expect(f"parts[{index}].status", "<>", "failed"),),
            role=REFUND,
        ),
        lot_move(email, lot, lot_after),
        *journal(email, entry),
        account,
    )


def outside_refund_recorded(stripe_refund_id: str, email: str, lot: Lot, lot_after: Lot, entry: JournalEntry) -> Change:
    """A refund made elsewhere (the Stripe dashboard) into the ledger once, keyed by Stripe's id.

    A negative one is such a refund failing: its money returns, and the account is due a refund again.
    """
    minutes = lot_after.refunded_minutes - lot.refunded_minutes
    cents = lot_after.refunded_cents - lot.refunded_cents
    spendable = lot.closed_at is None
    account = account_move(
        email,
        set_if_absent={"refund_due_at": entry.at} if cents < 0 else {},
        add={
            "available_minutes": -minutes if spendable else 0,
            "available_cents": -cents if spendable else 0,
            "awaiting_refund_cents": 0 if spendable else -cents,
            "refunded_cents": cents,
        },
    )
    return Change.of(
        Put(Ref("outside-refund", id=stripe_refund_id), {"email": email, "lot_id": lot.lot_id}, role=MARKER),
        lot_move(email, lot, lot_after),
        *journal(email, entry),
        account,
    )
