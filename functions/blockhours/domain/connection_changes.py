"""What a pushed tool's events change, as values for one commit each: the connections still waiting for their other
half, kept per tool session between requests and saved only if no other request saved them since they were read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .changes import NEW, Change, Expect, Put, connections_ref

if TYPE_CHECKING:
    from .connection_pairing import Connections

LOG = "connections"  # refused: another event of the same tool session was saved since this one read the state


@dataclass(frozen=True)
class ConnectionLog:
    """One tool session's connections between events; `version` +1 with every save (optimistic concurrency)."""

    source: str
    session_id: str  # the tool's own session id (a ScreenConnect SessionID)
    state: Connections
    version: int = 0  # 0: never saved


def log_saved(read: ConnectionLog, state: Connections) -> Change:
    """The state after an event, on condition that the log is still as it was read (new if it was never saved)."""
    expect = (NEW,) if read.version == 0 else (Expect("version", "=", read.version),)
    saved = ConnectionLog(read.source, read.session_id, state, read.version + 1)
    return Change.of(Put(connections_ref(read.source, read.session_id), saved, expect=expect, role=LOG))
