"""A session a remote-support tool reports (ScreenConnect, TeamViewer, Zoho Assist, a CSV export, any script):
one record whatever its source, and the minutes the shop bills for it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .money import bill_minutes

_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]+")


@dataclass(frozen=True)
class RemoteSession:
    """What a tool knows of one session. `external_id` is the tool's own id for it: the de-duplication key."""

    source: str  # the integration's name in catalog.yaml: screenconnect, teamviewer, zoho, csv:<name>, ...
    external_id: str
    technician: str
    client_ref: str  # what the tool calls the client (a session name, a group, an email): mapped to an account
    started_at: int  # epoch seconds
    duration_seconds: int
    ended_at: int | None = None
    machine: str = ""
    notes: str = ""
    payload: dict[str, Any] = field(default_factory=dict, compare=False)  # the original, for the record

    def __post_init__(self) -> None:
        if not self.source or not self.external_id:
            raise ValueError("a remote session needs its source and the tool's id for it")
        if self.duration_seconds < 0:
            raise ValueError(f"{self.source} session {self.external_id}: a duration cannot be negative")

    @property
    def session_id(self) -> str:
        """The ledger's session id: the same tool session, pushed twice or pushed then polled, is one session."""
        return f"{self.source}-{_UNSAFE.sub('_', self.external_id)}"[:200]


def used_minutes(session: RemoteSession) -> int:
    """Whole minutes the session lasted, rounded up (a 61-second session is 2 minutes of someone's time)."""
    return -(-session.duration_seconds // 60)


def billable_minutes(
    session: RemoteSession, increment_minutes: int, minimum_minutes: int, free_under_minutes: int
) -> int:
    """The minutes the shop bills, applied once per record: none under the source's free threshold, else the
    catalog's increment and minimum."""
    minutes = used_minutes(session)
    if minutes <= 0 or minutes < free_under_minutes:
        return 0
    return bill_minutes(minutes, increment_minutes, minimum_minutes)
