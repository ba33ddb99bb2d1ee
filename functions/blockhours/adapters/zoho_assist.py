"""Zoho Assist's session reports (`GET /api/v2/reports`, times in epoch milliseconds, paged with `index`/`count`):
every session since the cursor as RemoteSessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..domain.remote_sessions import RemoteSession
from .report_api import ReportApi, ReportApiError

if TYPE_CHECKING:
    from ..catalog import ZohoAssistSettings

SOURCE = "zoho"
BASE_URL = "https://assist.zoho.com"  # .eu, .in, .com.au ... by the account's data centre
MAX_PAGES = 1000


class _Report(BaseModel):
    model_config = ConfigDict(extra="allow")

    session_id: int | str
    start_time: int
    end_time: int | None = None
    duration: int | str | None = None  # milliseconds, documented as a string
    agent_email: str | None = None
    viewer_email: str | None = None
    display_name: str | None = None
    session_owner_email: str | None = None
    session_type: str | None = None


@dataclass(frozen=True)
class Pulled:
    sessions: tuple[RemoteSession, ...]
    cursor_ms: int  # pass back as `since_ms` next run
    in_progress: int


def pull_reports(api: ReportApi, settings: ZohoAssistSettings, since_ms: int | None, now_ms: int) -> Pulled:
    """All sessions between `since_ms` (or `first_run_days` ago) and `now_ms`, every page."""
    start_ms = since_ms if since_ms is not None else now_ms - settings.first_run_days * 86_400_000
    sessions: list[RemoteSession] = []
    in_progress = 0
    read = 0
    for page_number in range(MAX_PAGES):
        fields: dict[str, str | int] = {
            "type": settings.session_type,
            "fromdate": start_ms,
            "todate": now_ms,
            "index": page_number * settings.page_size + 1,
            "count": settings.page_size,
        }
        page = api.get("/api/v2/reports", fields)
        reports = _reports(page)
        read += len(reports)
        for report in reports:
            session = _session(report, settings)
            if session is None:
                in_progress += 1
            else:
                sessions.append(session)
        total = page.get("total_count")
        if not reports or len(reports) < settings.page_size or (isinstance(total, int) and read >= total):
            break
    else:
        raise ReportApiError(f"Zoho Assist gave more than {MAX_PAGES} pages; the next run continues from the cursor")
    cursor_ms = max(start_ms, now_ms - settings.overlap_hours * 3_600_000)
    return Pulled(tuple(sessions), cursor_ms, in_progress)


def _reports(page: dict[str, Any]) -> list[_Report]:
    raw = page.get("representation", [])
    if not isinstance(raw, list):
        raise ReportApiError("Zoho Assist's report has no `representation` list")
    reports = []
    for position, item in enumerate(raw):
        try:
            reports.append(_Report.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            field_name = ".".join(str(part) for part in first["loc"])
            raise ReportApiError(f"Zoho Assist report {position}: {field_name} {first['msg']}") from None
    return reports


def _session(report: _Report, settings: ZohoAssistSettings) -> RemoteSession | None:
    if not report.end_time:
        return None
    duration_ms = int(report.duration) if report.duration not in (None, "") else report.end_time - report.start_time
    return RemoteSession(
        source=SOURCE,
        external_id=str(report.session_id),
        technician=report.viewer_email or report.session_owner_email or "",
        client_ref=getattr(report, settings.client_field) or "",
        started_at=report.start_time // 1000,
        duration_seconds=-(-max(duration_ms, 0) // 1000),
        ended_at=report.end_time // 1000,
        machine="",  # the report names no computer
        notes=report.session_type or "",
        payload=report.model_dump(mode="json"),
    )


def zoho_assist_api(access_token: str, base_url: str = BASE_URL, **options: Any) -> ReportApi:
    """A client with an OAuth access token (scope ZohoAssist.reportapi.READ) in Zoho's own header form."""
    return ReportApi("Zoho Assist", base_url, {"Authorization": f"Zoho-oauthtoken {access_token}"}, **options)
