"""Connections a tool pushes one event at a time (ScreenConnect's Connected and Disconnected): paired into sessions
with the state kept in the ledger between requests, each completed pair received once, and connections whose other
half never came handed to the inbox for a technician.

Crash-safety: every session an event completes is received before the state is saved. A request cut short between
the two leaves the connection open; the same event again pairs it again into the same tool session (its id comes
from the start alone), which `receive` finds and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..domain.account_rules import may_take_sessions
from ..domain.changes import connections_ref
from ..domain.connection_changes import ConnectionLog, log_saved
from ..domain.connection_pairing import (
    Connections,
    pair,
    stale_connections,
    stale_ends,
    unfinished,
    without,
)
from .errors import Conflict
from .remote_sessions import mapped_email, receive
from .retry import replans

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..domain.connection_pairing import (
        ConnectionEvent,
    )
    from ..ports import LedgerStore, PaymentGateway
    from .remote_sessions import InboxAnswer

REPLACED = "a newer Connected of the same host came before this one's Disconnected: say the minutes it took"
LOST_END = "the Disconnected never came: say the minutes it took"
LOST_START = "a Disconnected came without its Connected: say the minutes it took"


@dataclass(frozen=True)
class EventAnswer:
    """What one pushed event did, and what the technician must see of the client before working on."""

    sessions: tuple[InboxAnswer, ...] = ()  # the sessions it completed or handed to the inbox
    client: str = ""  # the account the tool's name for the client maps to ("" : not mapped yet)
    balance_minutes: int | None = None
    on_hold: bool = False
    hold_reason: str = ""


def connection_event(
    catalog: Catalog, store: LedgerStore, gateway: Callable[[], PaymentGateway], event: ConnectionEvent, now: int
) -> EventAnswer:
    """Pair the event with what its tool session has open; receive what it completes; save the state as read."""
    for _ in replans():
        log = store.find(connections_ref(event.source, event.session_id)) or ConnectionLog(
            event.source, event.session_id, Connections()
        )
        paired = pair(log.state, event)
        answers = [receive(catalog, store, gateway, session, now) for session in paired.sessions]
        answers += [
            receive(catalog, store, gateway, unfinished(lost, REPLACED), now, unknown_minutes=REPLACED)
            for lost in paired.abandoned
        ]
        if paired.connections == log.state or store.commit(log_saved(log, paired.connections)):
            return _with_client(store, event, tuple(answers))
    raise Conflict("busy", f"session {event.session_id} kept changing while this event was paired; send it again")


def lost_connections(
    catalog: Catalog, store: LedgerStore, gateway: Callable[[], PaymentGateway], now: int
) -> list[str]:
    """The daily run: connections waiting longer than their source's `stale_after_hours` for their other half go
    to the inbox (read from the chores index, never a scan); the inbox ids they became."""
    hours = {name: integration.stale_after_hours * 3600 for name, integration in catalog.integrations.items()}
    handed: list[str] = []
    for waiting in store.chores("connections", until=now - min(hours.values(), default=0)):
        stale_after_seconds = hours.get(waiting.source)
        for _ in replans():
            log = store.find(connections_ref(waiting.source, waiting.session_id))
            if log is None or stale_after_seconds is None:
                break
            ends = stale_connections(log.state, now, stale_after_seconds)
            starts = stale_ends(log.state, now, stale_after_seconds)
            answers = [receive(catalog, store, gateway, unfinished(e, LOST_END), now, LOST_END) for e in ends]
            answers += [receive(catalog, store, gateway, unfinished(e, LOST_START), now, LOST_START) for e in starts]
            if (not ends and not starts) or store.commit(log_saved(log, without(log.state, ends + starts))):
                handed += [answer.item.inbox_id for answer in answers]
                break
    return handed


def _with_client(store: LedgerStore, event: ConnectionEvent, sessions: tuple[InboxAnswer, ...]) -> EventAnswer:
    email = mapped_email(store, event.source, event.client_ref)
    account = store.account(email) if email else None
    if account is None:
        return EventAnswer(sessions, email)
    hold = may_take_sessions(account)
    return EventAnswer(
        sessions,
        email,
        account.available_minutes,
        on_hold=hold is not None,
        hold_reason=hold.message if hold is not None else "",
    )
