"""Whether an account may act now: take a session, have money go back to the card. Read here, before planning;
the same rule is written again as write conditions (moves.ACTIVE, moves.NOT_IN_COLLECTIONS) so a change planned
on a stale read is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ledger import Account


@dataclass(frozen=True)
class Refusal:
    """Why the account may not act: a code the edge maps to its answer, and what to do, in the shop's words."""

    code: str
    message: str


def _on_hold(account: Account) -> Refusal | None:
    if account.status == "active":
        return None
    return Refusal(
        "account_frozen",
        f"{account.email}'s account is on hold for a payment dispute: no sessions or refunds until the shop "
        "clears it (the dispute closes, or the shop releases a lost one)",
    )


def may_take_sessions(account: Account | None) -> Refusal | None:
    """No session on an account on hold for a dispute, nor while a debt is in collections (None: it may)."""
    if account is None:
        return None
    if (held := _on_hold(account)) is not None:
        return held
    if account.collections_debts > 0:
        return Refusal(
            "in_collections",
            f"{account.email} has a debt in collections: no new sessions until it is paid (see `blockhours debts`)",
        )
    return None


def may_refund(account: Account | None) -> Refusal | None:
    """Nothing goes back to the card while the account is on hold for a dispute (None: it may; a debt is paid
    from the balance first, so collections do not stop a refund)."""
    return None if account is None else _on_hold(account)
