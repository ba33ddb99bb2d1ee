"""The pulled sources as the scheduled run sees them (ports.SessionReport): the vendor's client built with the
token read at the run (a rotated token is used from then on; Zoho's refresh token is exchanged for an hour's access
token), its cursor in epoch milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .. import config
from ..catalog import TeamViewerSettings
from ..ports import ReportPage, ReportUnavailable
from .teamviewer import pull_connections, teamviewer_api
from .zoho_assist import pull_reports, zoho_assist_api
from .zoho_oauth import ZohoGrant, access_token

if TYPE_CHECKING:
    from ..catalog import ZohoAssistSettings
    from ..ports import SessionReport


def _token(source: str) -> str:
    try:
        return config.pull_token(source)
    except config.ConfigError as problem:
        raise ReportUnavailable(f"{problem}; nothing was read, the cursor stays") from None


def report_of(source: str, settings: TeamViewerSettings | ZohoAssistSettings) -> SessionReport:
    if isinstance(settings, TeamViewerSettings):

        def teamviewer(since_ms: int | None, now_ms: int) -> ReportPage:
            api = teamviewer_api(_token(source), settings.base_url)
            since = datetime.fromtimestamp(since_ms / 1000, UTC) if since_ms is not None else None
            pulled = pull_connections(api, settings, since, datetime.fromtimestamp(now_ms / 1000, UTC))
            return ReportPage(pulled.sessions, int(pulled.cursor.timestamp() * 1000), pulled.in_progress)

        return teamviewer

    def zoho(since_ms: int | None, now_ms: int) -> ReportPage:
        token = access_token(ZohoGrant.parse(_token(source)), settings.accounts_url)  # once a run: it lasts an hour
        pulled = pull_reports(zoho_assist_api(token, settings.base_url), settings, since_ms, now_ms)
        return ReportPage(pulled.sessions, pulled.cursor_ms, pulled.in_progress)

    return zoho
