"""What the inbox's steps change, as values for one commit each: an arrival, a mapping learnt, an item pinned to
its client before any redemption, refused, or closed. Every step on an open item is conditional on what was read,
so two people (or a person and a redelivery) racing on one item leave one outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .changes import NEW, AnyOf, Change, Expect, Put, Update, inbox_ref, mapping_ref

if TYPE_CHECKING:
    from .inbox import ClientMapping, Closing, InboxItem, Reason

ARRIVED = "arrived"  # refused: this tool session arrived before (a duplicate delivery, or a push then a poll)
ITEM = "item"  # refused: the item moved on since it was read (closed, or pinned to another client)
OPEN = Expect("outcome", "=", "", absent="")


def arrived(item: InboxItem) -> Change:
    return Change.of(Put(inbox_ref(item.inbox_id), item, expect=(NEW,), role=ARRIVED))


def mapping_learnt(mapping: ClientMapping) -> Change:
    """Staff's latest word on a client_ref wins: a mapping is rewritten, never guessed."""
    return Change.of(Put(mapping_ref(mapping.source, mapping.client_ref), mapping, expect=()))


def assigned(item: InboxItem, email: str, reason: Reason, by: str) -> Change:
    """The item is the client's: allowed while no redemption was tried for it (or it was tried for this client)."""
    unpinned = AnyOf(
        (
            (Expect("reason", "=", "unmatched"),),
            (Expect("reason", "=", "to_confirm"),),
            (Expect("email", "=", email),),
        )
    )
    update = Update(
        inbox_ref(item.inbox_id), set={"email": email, "reason": reason, "by": by}, expect=(OPEN, unpinned), role=ITEM
    )
    return Change.of(update)


def pinned(item: InboxItem, minutes: int, note: str, by: str) -> Change:
    """A redemption is about to be tried for the item's client: the client it was read with, with these minutes."""
    update = Update(
        inbox_ref(item.inbox_id),
        set={"reason": "redeeming", "minutes": minutes, "note": note, "by": by},
        expect=(OPEN, Expect("email", "=", item.email), Expect("reason", "=", item.reason)),
        role=ITEM,
    )
    return Change.of(update)


def refused(item: InboxItem, problem: str) -> Change:
    """The ledger said no: the item waits in the inbox with the reason, never lost."""
    update = Update(inbox_ref(item.inbox_id), set={"reason": "refused", "problem": problem}, expect=(OPEN,), role=ITEM)
    return Change.of(update)


def closed(item: InboxItem, outcome: Closing, at: int, by: str) -> Change:
    """The item leaves the inbox: redeemed (its session id is its id), dismissed, or free. Dismissing an item
    whose redemption is under way is refused: that redemption may have been recorded."""
    expect = (OPEN, Expect("reason", "<>", "redeeming")) if outcome == "dismissed" else (OPEN,)
    update = Update(
        inbox_ref(item.inbox_id), set={"outcome": outcome, "closed_at": at, "by": by}, expect=expect, role=ITEM
    )
    return Change.of(update)
