"""The moves every change is made of, written once: a lot as it was read, an account's money and when it falls due.

A use case's planner (domain/*_changes.py) composes these into a Change; docs/ARCHITECTURE.md has the table of
which use case moves which account field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from .changes import Expect, Update, account_ref, lot_ref
from .lots import Lot

# account_rules.may_take_sessions / may_refund at write time: the rule read before planning, held at the commit.
ACTIVE = Expect("status", "=", "active")  # the account takes sessions and refunds (not frozen by a dispute)
NOT_IN_COLLECTIONS = Expect("collections_debts", "<=", 0, absent=0)  # no debt past its last reminder

# What a lot's next minute is priced from: a change planned on a lot holds only if none of these moved.
_POSITION = (
    "used_minutes",
    "consumed_cents",
    "refunded_minutes",
    "refunded_cents",
    "charged_back_minutes",
    "charged_back_cents",
)
_LOT_FIELDS = tuple(f.name for f in fields(Lot))


def lot_as_read(lot: Lot) -> tuple[Expect, ...]:
    """The lot is as it was read: nothing drew on it, refunded it, took it back or closed it meanwhile."""
    unchanged = tuple(Expect(name, "=", getattr(lot, name), absent=0) for name in _POSITION)
    closed = Expect("closed_at", "missing") if lot.closed_at is None else Expect("closed_at", "=", lot.closed_at)
    return (*unchanged, closed)


def lot_move(email: str, before: Lot, after: Lot) -> Update | None:
    """The fields of a lot that changed, written on the condition that it is still as it was read."""
    moved = {name: getattr(after, name) for name in _LOT_FIELDS if getattr(after, name) != getattr(before, name)}
    if not moved:
        return None
    if before.lot_id != after.lot_id or "created_at" in moved:
        raise ValueError(f"lot {before.lot_id} cannot become another lot")
    return Update(lot_ref(email, after), set=moved, expect=lot_as_read(before))


def lot_moves(email: str, before: Sequence[Lot], after: Sequence[Lot]) -> tuple[Update, ...]:
    by_id = {lot.lot_id: lot for lot in before}
    moves = (lot_move(email, by_id[lot.lot_id], lot) for lot in after)
    return tuple(move for move in moves if move is not None)


def holding(lots: Sequence[Lot]) -> bool:
    """Money is held for the client while any lot has minutes or cents left: the sweep must still see it.

    Cents no minute carries (a failed dashboard refund's) and a settled deposit's remainder count too.
    """
    return any(lot.remaining_minutes > 0 or lot.remaining_cents > 0 for lot in lots)


def due(holds_money: bool, due_at: int) -> dict[str, Any]:
    """The account stays due for the sweep (at `due_at`) while it holds money, and leaves the sweep when not."""
    return {"set": {"refund_due_at": due_at}} if holds_money else {"remove": ("refund_due_at",)}


def account_move(
    email: str,
    *,
    add: Mapping[str, int] | None = None,
    set: Mapping[str, Any] | None = None,
    set_if_absent: Mapping[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    expect: tuple[Any, ...] = (),
    role: str = "account",
    show_old: bool = False,
    money: bool = True,
) -> Update:
    """An account's fields moved; a move of money counts one more version (the balance others planned on changed)."""
    adds = {name: delta for name, delta in (add or {}).items()}
    if money:
        adds["version"] = adds.get("version", 0) + 1
    return Update(
        account_ref(email),
        set=dict(set or {}),
        set_if_absent=dict(set_if_absent or {}),
        add=adds,
        remove=remove,
        expect=expect,
        role=role,
        show_old=show_old,
    )
