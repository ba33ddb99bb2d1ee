"""A tool's export brought in by staff (`blockhours import`): a preview that writes nothing — each session, whether
its client is known, its minutes, and whether it was recorded before — or every session received, once each
(`remote_sessions.receive`: the same file imported twice records nothing new)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..domain.changes import inbox_ref
from ..domain.remote_sessions import billable_minutes, used_minutes
from .remote_sessions import integration_of, mapped_email, receive

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..domain.remote_sessions import RemoteSession
    from ..ports import LedgerStore, PaymentGateway
    from .remote_sessions import InboxAnswer


@dataclass(frozen=True)
class PreviewRow:
    session: RemoteSession
    email: str  # "": no mapping for its client yet, it would wait in the inbox
    used_minutes: int
    billable_minutes: int  # 0: under the source's free threshold
    recorded_before: bool  # its tool session is in the ledger already: importing records nothing for it


def preview(catalog: Catalog, store: LedgerStore, source: str, sessions: Sequence[RemoteSession]) -> list[PreviewRow]:
    policy = integration_of(catalog, source)
    rows = []
    for session in sessions:
        email = mapped_email(store, source, session.client_ref)
        billable = billable_minutes(
            session, catalog.billing.increment_minutes, catalog.billing.minimum_minutes, policy.free_under_minutes
        )
        known = store.find(inbox_ref(session.session_id)) is not None
        rows.append(PreviewRow(session, email, used_minutes(session), billable, known))
    return rows


def import_sessions(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    source: str,
    sessions: Sequence[RemoteSession],
    now: int,
) -> list[InboxAnswer]:
    integration_of(catalog, source)
    return [receive(catalog, store, gateway, session, now) for session in sessions]
