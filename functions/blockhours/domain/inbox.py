"""Sessions a tool reported, on their way to the ledger: the client mappings staff teach once, and one inbox item
per tool session (`source`, `external_id`), open while it waits for a person, closed once it became a session,
was dismissed or was free."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .remote_sessions import billable_minutes, used_minutes

if TYPE_CHECKING:
    from .remote_sessions import RemoteSession

# Why an item waits: no client for its client_ref yet; the source's policy asks a technician to confirm; the
# ledger refused the session (on hold, over the balance); or its redemption is under way (or was cut short).
Reason = Literal["unmatched", "to_confirm", "refused", "redeeming"]
Closing = Literal["", "redeemed", "dismissed", "free"]  # "": still open, in the inbox
_SPACES = re.compile(r"\s+")


def normalised_ref(client_ref: str) -> str:
    """What a tool calls a client, compared as a person would: case and spacing do not make another client."""
    return _SPACES.sub(" ", client_ref).strip().casefold()


@dataclass(frozen=True)
class ClientMapping:
    """Staff taught once: this source's name for a client is this account."""

    source: str
    client_ref: str  # normalised
    email: str
    learnt_at: int
    learnt_by: str


@dataclass(frozen=True)
class InboxItem:
    """One tool session, as it arrived, and what became of it. Its id is the ledger's session id for it."""

    inbox_id: str
    source: str
    external_id: str
    technician: str
    client_ref: str
    machine: str
    notes: str
    started_at: int
    duration_seconds: int
    received_at: int
    used_minutes: int
    billable_minutes: int  # 0: under the source's free threshold
    reason: Reason
    email: str = ""  # the client, once known: pinned before any redemption is tried
    minutes: int = 0  # the minutes to redeem (the used minutes, or what the confirming technician said)
    note: str = ""
    by: str = ""  # who confirmed or assigned it
    problem: str = ""  # refused: what the ledger said
    outcome: Closing = ""
    closed_at: int = 0
    ended_at: int | None = None
    payload: str = "{}"  # the tool's original record, as JSON

    @property
    def is_open(self) -> bool:
        return self.outcome == ""

    @property
    def session_id(self) -> str:
        return self.inbox_id


def arrived_item(
    session: RemoteSession,
    now: int,
    reason: Reason,
    email: str,
    increment_minutes: int,
    minimum_minutes: int,
    free_under_minutes: int,
) -> InboxItem:
    """The item for a session that just arrived; a free one is closed at once (recorded, never charged)."""
    billable = billable_minutes(session, increment_minutes, minimum_minutes, free_under_minutes)
    used = used_minutes(session)
    return InboxItem(
        inbox_id=session.session_id,
        source=session.source,
        external_id=session.external_id,
        technician=session.technician,
        client_ref=session.client_ref,
        machine=session.machine,
        notes=session.notes,
        started_at=session.started_at,
        duration_seconds=session.duration_seconds,
        ended_at=session.ended_at,
        received_at=now,
        used_minutes=used,
        billable_minutes=billable,
        reason=reason,
        email=email,
        minutes=used,
        note=session.notes,
        by=session.technician,
        outcome="free" if billable == 0 else "",
        closed_at=now if billable == 0 else 0,
        payload=json.dumps(session.payload, sort_keys=True, default=str),
    )
