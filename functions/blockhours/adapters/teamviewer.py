"""TeamViewer's Web API connection report (`GET /api/v1/reports/connections`): every ended connection since the
cursor, read page by page (`offset_id` ← `next_offset`), as RemoteSessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..domain.remote_sessions import RemoteSession
from .report_api import ReportApi, ReportApiError

if TYPE_CHECKING:
    from ..catalog import TeamViewerSettings

SOURCE = "teamviewer"
BASE_URL = "https://webapi.teamviewer.com"
MAX_PAGES = 500  # 1000 records a page: far beyond any shop's day; stops a server that repeats its cursor


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    start_date: datetime
    end_date: datetime | None = None
    username: str | None = None
    userid: str | None = None
    devicename: str | None = None
    groupname: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class Pulled:
    sessions: tuple[RemoteSession, ...]
    cursor: datetime  # pass back as `since` next run
    in_progress: int  # records without an end yet: read again by a later run


def pull_connections(api: ReportApi, settings: TeamViewerSettings, since: datetime | None, now: datetime) -> Pulled:
    """All connections that started from `since` (or `first_run_days` ago) and ended before `now`."""
    start = since or now - timedelta(days=settings.first_run_days)
    fields: dict[str, str | int] = {"from_date": _iso(start), "to_date": _iso(now)}
    sessions: list[RemoteSession] = []
    in_progress = 0
    seen_offsets: set[str] = set()
    for _ in range(MAX_PAGES):
        page = api.get("/api/v1/reports/connections", fields)
        for record in _records(page):
            session = _session(record, settings)
            if session is None:
                in_progress += 1
            else:
                sessions.append(session)
        offset = page.get("next_offset")
        if not offset:
            break
        if offset in seen_offsets:
            raise ReportApiError(f"TeamViewer repeated the page cursor {offset}; stopped so nothing is read twice")
        seen_offsets.add(str(offset))
        fields["offset_id"] = str(offset)
    else:
        raise ReportApiError(f"TeamViewer gave more than {MAX_PAGES} pages; the next run continues from the cursor")
    cursor = max(start, now - timedelta(hours=settings.overlap_hours))
    return Pulled(tuple(sessions), cursor, in_progress)


def _records(page: dict[str, Any]) -> list[_Record]:
    raw = page.get("records")
    if not isinstance(raw, list):
        raise ReportApiError("TeamViewer's connection report has no `records` list")
    records = []
    for position, item in enumerate(raw):
        try:
            records.append(_Record.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            field_name = ".".join(str(part) for part in first["loc"])
            raise ReportApiError(f"TeamViewer record {position}: {field_name} {first['msg']}") from None
    return records


def _session(record: _Record, settings: TeamViewerSettings) -> RemoteSession | None:
    if record.end_date is None:
        return None
    started_at = int(_utc(record.start_date).timestamp())
    ended_at = int(_utc(record.end_date).timestamp())
    return RemoteSession(
        source=SOURCE,
        external_id=record.id,
        technician=record.username or record.userid or "",
        client_ref=getattr(record, settings.client_field) or "",
        started_at=started_at,
        duration_seconds=max(ended_at - started_at, 0),
        ended_at=ended_at,
        machine=record.devicename or "",
        notes=record.notes or "",
        payload=record.model_dump(mode="json"),
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the API documents UTC (ISO 8601, Z)


def _iso(moment: datetime) -> str:
    return _utc(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def teamviewer_api(token: str, base_url: str = BASE_URL, **options: Any) -> ReportApi:
    """A client with the script token as Bearer (a token with the 'Connection reporting' permission)."""
    return ReportApi("TeamViewer", base_url, {"Authorization": f"Bearer {token}"}, **options)
