"""The scheduled pull: every configured source's report read since its cursor, each session received exactly once
(`remote_sessions.receive`), and the cursor saved only after every session of the run was received. A source that
fails (a refused token, an outage) is reported and keeps its cursor; the next run reads the same window again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..domain.changes import cursor_ref
from ..domain.pull_changes import CURSOR, PullCursor, cursor_moved
from ..ports import ReportUnavailable
from .errors import ShopError
from .remote_sessions import receive

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..ports import LedgerStore, PaymentGateway, SessionReport


@dataclass(frozen=True)
class PullReport:
    """One source's run: what became of its sessions, where its cursor is, or why it failed."""

    source: str
    outcomes: Mapping[str, int] = field(default_factory=dict)  # redeemed, inbox, free, duplicate → how many
    in_progress: int = 0
    cursor_ms: int | None = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "outcomes": dict(self.outcomes),
            "in_progress": self.in_progress,
            "cursor_ms": self.cursor_ms,
            "error": self.error,
        }


def pull_sources(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    reports: Mapping[str, SessionReport],
    now: int,
) -> list[PullReport]:
    """Each source in turn; one failing never stops the others."""
    return [pull_source(catalog, store, gateway, source, report, now) for source, report in sorted(reports.items())]


def pull_source(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    source: str,
    report: SessionReport,
    now: int,
) -> PullReport:
    read = store.find(cursor_ref(source))
    since_ms = read.since_ms if read is not None else None
    try:
        page = report(since_ms, now * 1000)
    except ReportUnavailable as problem:
        return PullReport(source, cursor_ms=since_ms, error=str(problem))
    outcomes: Counter[str] = Counter()
    for session in page.sessions:
        try:
            outcomes[receive(catalog, store, gateway, session, now).outcome] += 1
        except ShopError as problem:  # the ledger is busy: this run stops here, the next reads the window again
            error = f"session {session.external_id}: {problem.message}; the next run reads it again"
            return PullReport(source, outcomes, page.in_progress, since_ms, error)
    moved = store.commit(cursor_moved(PullCursor(source, page.cursor_ms, now), read))
    if CURSOR in moved.refused:  # another run moved it meanwhile: its cursor stands, nothing is lost
        latest = store.find(cursor_ref(source))
        return PullReport(source, outcomes, page.in_progress, latest.since_ms if latest else None)
    return PullReport(source, outcomes, page.in_progress, page.cursor_ms)
