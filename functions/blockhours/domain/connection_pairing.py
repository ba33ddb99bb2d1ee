"""A pushed tool (ScreenConnect) reports a technician's connection as two events, Connected then Disconnected: pair
them into one RemoteSession. Duplicates, reversed order, guests and lost events are expected, not errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .remote_sessions import RemoteSession

# A completed connection is remembered this long so a re-delivered Disconnected is recognised, not re-opened.
REMEMBER_CLOSED_SECONDS = 7 * 86400


@dataclass(frozen=True)
class ConnectionEvent:
    """One host connection event of a tool session, already read from the tool's payload."""

    source: str
    session_id: str  # the tool's session (a ScreenConnect SessionID)
    connection: str  # what tells this connection apart within the session: the tool's connection id, else the host
    kind: Literal["connected", "disconnected"]
    at: int  # epoch seconds
    technician: str
    client_ref: str
    machine: str = ""
    notes: str = ""
    payload: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return f"{self.session_id}/{self.connection}"


@dataclass(frozen=True)
class Connections:
    """What is open between two events: connections awaiting their end, ends that arrived before their start, and
    recently completed connections (start, end) so a repeated event changes nothing."""

    open: Mapping[str, ConnectionEvent] = field(default_factory=dict)
    early_ends: Mapping[str, ConnectionEvent] = field(default_factory=dict)
    closed: Mapping[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Paired:
    connections: Connections
    sessions: tuple[RemoteSession, ...] = ()
    # Opened before and never ended, now replaced by a newer Connected: the technician's time needs a person.
    abandoned: tuple[ConnectionEvent, ...] = ()


def pair(connections: Connections, event: ConnectionEvent) -> Paired:
    """The new state after `event`, and the sessions it completes. Never raises for order or repetition."""
    key = event.key
    closed = _forget_old(connections.closed, event.at)
    if key in closed and event.at in closed[key]:
        return Paired(replace(connections, closed=closed))  # the same event delivered again
    state = replace(connections, closed=closed)
    if event.kind == "connected":
        return _connected(state, event)
    return _disconnected(state, event)


def _connected(state: Connections, start: ConnectionEvent) -> Paired:
    key = start.key
    end = state.early_ends.get(key)
    if end is not None and end.at >= start.at:
        early_ends = {k: v for k, v in state.early_ends.items() if k != key}
        return _complete(replace(state, early_ends=early_ends), start, end)
    previous = state.open.get(key)
    if previous is not None and previous.at == start.at:
        return Paired(state)
    abandoned = (previous,) if previous is not None and previous.at < start.at else ()
    if previous is not None and previous.at > start.at:
        return Paired(state, abandoned=(start,))  # an older start arriving late: the newer one stays open
    return Paired(replace(state, open={**state.open, key: start}), abandoned=abandoned)


def _disconnected(state: Connections, end: ConnectionEvent) -> Paired:
    key = end.key
    start = state.open.get(key)
    handed = state.closed.get(key)
    if start is None and handed is not None and handed[0] == handed[1] <= end.at:
        # the late end of a connection already handed to the inbox as lost: the technician's minutes stand
        return Paired(replace(state, closed={**state.closed, key: (handed[0], end.at)}))
    if start is None or end.at < start.at:
        if start is None:
            return Paired(replace(state, early_ends={**state.early_ends, key: end}))
        return Paired(state)  # an end older than the open start belongs to a connection already lost
    open_now = {k: v for k, v in state.open.items() if k != key}
    return _complete(replace(state, open=open_now), start, end)


def external_id(start: ConnectionEvent) -> str:
    """The tool session's id for a connection, from its start alone: a completed pair and a connection handed to the
    inbox as lost share it, so the exactly-once rule covers both."""
    return f"{start.session_id}:{start.connection}:{start.at}"


def unfinished(event: ConnectionEvent, why: str) -> RemoteSession:
    """A connection whose other half never came (lost, or replaced by a newer one): no minutes, a person decides."""
    ident = external_id(event) if event.kind == "connected" else f"{event.session_id}:{event.connection}:end:{event.at}"
    return RemoteSession(
        source=event.source,
        external_id=ident,
        technician=event.technician,
        client_ref=event.client_ref,
        started_at=event.at,
        duration_seconds=0,
        machine=event.machine,
        notes=why,
        payload={event.kind: event.payload},
    )


def _complete(state: Connections, start: ConnectionEvent, end: ConnectionEvent) -> Paired:
    session = RemoteSession(
        source=start.source,
        external_id=external_id(start),
        technician=start.technician or end.technician,
        client_ref=start.client_ref or end.client_ref,
        started_at=start.at,
        duration_seconds=end.at - start.at,
        ended_at=end.at,
        machine=start.machine or end.machine,
        notes=end.notes or start.notes,
        payload={"connected": start.payload, "disconnected": end.payload},
    )
    closed = {**state.closed, start.key: (start.at, end.at)}
    return Paired(replace(state, closed=closed), sessions=(session,))


def _forget_old(closed: Mapping[str, tuple[int, int]], now: int) -> Mapping[str, tuple[int, int]]:
    if all(end >= now - REMEMBER_CLOSED_SECONDS for _, end in closed.values()):
        return closed
    return {k: v for k, v in closed.items() if v[1] >= now - REMEMBER_CLOSED_SECONDS}


def stale_connections(connections: Connections, now: int, max_age_seconds: int) -> list[ConnectionEvent]:
    """Connections opened longer ago than `max_age_seconds` with no end: a Disconnected was lost, so the inbox asks
    a technician for the minutes instead of guessing them."""
    return sorted(
        (start for start in connections.open.values() if now - start.at > max_age_seconds), key=lambda e: e.at
    )


def stale_ends(connections: Connections, now: int, max_age_seconds: int) -> list[ConnectionEvent]:
    """Disconnected events whose Connected never came in `max_age_seconds`: the start was lost."""
    return sorted(
        (end for end in connections.early_ends.values() if now - end.at > max_age_seconds), key=lambda e: e.at
    )


def oldest_waiting(connections: Connections) -> int | None:
    """When the oldest connection still waiting for its other half began (None: nothing waits)."""
    times = [e.at for e in connections.open.values()] + [e.at for e in connections.early_ends.values()]
    return min(times) if times else None


def without(connections: Connections, events: list[ConnectionEvent]) -> Connections:
    """The state once stale connections (and stale early ends) have been handed to the inbox."""
    gone = {(event.key, event.at) for event in events}
    handed = {k: (v.at, v.at) for k, v in connections.open.items() if (k, v.at) in gone}  # known if its end comes
    return replace(
        connections,
        open={k: v for k, v in connections.open.items() if (k, v.at) not in gone},
        early_ends={k: v for k, v in connections.early_ends.items() if (k, v.at) not in gone},
        closed={**connections.closed, **handed},
    )


def to_record(connections: Connections) -> dict[str, Any]:
    """Plain JSON-able data for the store."""
    return {
        "open": {k: _event_record(v) for k, v in connections.open.items()},
        "early_ends": {k: _event_record(v) for k, v in connections.early_ends.items()},
        "closed": {k: list(v) for k, v in connections.closed.items()},
    }


def from_record(record: Mapping[str, Any]) -> Connections:
    return Connections(
        open={k: ConnectionEvent(**v) for k, v in record.get("open", {}).items()},
        early_ends={k: ConnectionEvent(**v) for k, v in record.get("early_ends", {}).items()},
        closed={k: (int(v[0]), int(v[1])) for k, v in record.get("closed", {}).items()},
    )


def _event_record(event: ConnectionEvent) -> dict[str, Any]:
    return {
        "source": event.source,
        "session_id": event.session_id,
        "connection": event.connection,
        "kind": event.kind,
        "at": event.at,
        "technician": event.technician,
        "client_ref": event.client_ref,
        "machine": event.machine,
        "notes": event.notes,
        "payload": event.payload,
    }
