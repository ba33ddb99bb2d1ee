"""TeamViewer and Zoho Assist pulls through the real urllib3 client against a local HTTP server serving the
documented report pages: paging, cursor, a 429 retried, a refused token named."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from blockhours.adapters.report_api import ReportApiError, ReportAuthError
from blockhours.adapters.teamviewer import pull_connections, teamviewer_api
from blockhours.adapters.zoho_assist import pull_reports, zoho_assist_api
from blockhours.catalog import TeamViewerSettings, ZohoAssistSettings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sources"


@dataclass
class Vendor:
    """Answers each GET with the next scripted (status, body, headers) and records what was asked."""

    answers: list[tuple[int, bytes, dict[str, str]]] = field(default_factory=list)
    asked: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def answer(self, status: int, body: Any, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append((status, raw, headers))


@pytest.fixture
def vendor() -> Iterator[Vendor]:
    state = Vendor()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            state.asked.append((parts.path, query, dict(self.headers.items())))
            status, body, headers = state.answers.pop(0) if state.answers else (500, b"no answer scripted", {})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def page(vendor_dir: str, name: str) -> Any:
    return json.loads((FIXTURES / vendor_dir / f"{name}.json").read_text())


NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def test_teamviewer_reads_every_page_with_the_offset_it_was_given(vendor: Vendor) -> None:
    vendor.answer(200, page("teamviewer", "page1"))
    vendor.answer(200, page("teamviewer", "page2"))
    api = teamviewer_api("tv-token", vendor.url, backoff_seconds=0)
    pulled = pull_connections(api, TeamViewerSettings(), since=None, now=NOW)
    assert [s.external_id for s in pulled.sessions] == [
        "0755a8dd-df19-4ea7-af47-cabb6b2a97e4",
        "5ae6d2a9-57e9-4c62-b236-280390954b6f",
        "018d007c-9faf-474a-b39a-4021251860e7",
    ]
    first = pulled.sessions[0]
    assert (first.technician, first.client_ref, first.machine) == ("Ana Tech", "Acme Dental", "FRONTDESK-01")
    assert (first.duration_seconds, first.notes) == (2550, "Printer spooler stuck")
    (path1, query1, headers1), (_, query2, _) = vendor.asked
    assert path1 == "/api/v1/reports/connections" and headers1["Authorization"] == "Bearer tv-token"
    assert query1 == {"from_date": "2026-10-29T12:00:00Z", "to_date": "2026-11-05T12:00:00Z"}
    assert query2["offset_id"] == "5ae6d2a9-57e9-4c62-b236-280390954b6f"
    assert query2["from_date"] == query1["from_date"]


def test_teamviewer_cursor_keeps_an_overlap_so_a_long_connection_ending_later_is_read(vendor: Vendor) -> None:
    vendor.answer(200, {"records": []})
    vendor.answer(200, {"records": []})
    api = teamviewer_api("tv-token", vendor.url, backoff_seconds=0)
    first = pull_connections(api, TeamViewerSettings(overlap_hours=24), since=None, now=NOW)
    assert first.cursor == NOW - timedelta(hours=24)
    later = NOW + timedelta(minutes=15)
    second = pull_connections(api, TeamViewerSettings(overlap_hours=24), since=first.cursor, now=later)
    assert vendor.asked[1][1]["from_date"] == "2026-11-04T12:00:00Z"
    assert second.cursor == later - timedelta(hours=24)


def test_teamviewer_groupname_or_devicename_is_the_client_by_setting(vendor: Vendor) -> None:
    vendor.answer(200, page("teamviewer", "page2"))
    api = teamviewer_api("tv-token", vendor.url, backoff_seconds=0)
    pulled = pull_connections(api, TeamViewerSettings(client_field="devicename"), since=None, now=NOW)
    assert [s.client_ref for s in pulled.sessions] == ["RECEPTION-MAC"]


def test_an_unfinished_connection_is_left_for_a_later_run(vendor: Vendor) -> None:
    record = dict(page("teamviewer", "page2")["records"][0], end_date=None)
    vendor.answer(200, {"records": [record]})
    pulled = pull_connections(teamviewer_api("t", vendor.url), TeamViewerSettings(), since=None, now=NOW)
    assert pulled.sessions == () and pulled.in_progress == 1


def test_a_429_is_retried_and_the_page_still_read(vendor: Vendor) -> None:
    vendor.answer(429, {"error": "rate_limited"}, Retry_After="0")
    vendor.answer(503, b"busy")
    vendor.answer(200, page("teamviewer", "page2"))
    api = teamviewer_api("tv-token", vendor.url, backoff_seconds=0)
    pulled = pull_connections(api, TeamViewerSettings(), since=None, now=NOW)
    assert len(pulled.sessions) == 1 and len(vendor.asked) == 3


def test_retries_end_with_an_error_that_says_the_next_run_retries(vendor: Vendor) -> None:
    for _ in range(3):
        vendor.answer(500, b"down")
    api = teamviewer_api("tv-token", vendor.url, retries=2, backoff_seconds=0)
    with pytest.raises(ReportApiError, match=r"answered 500.*next run retries"):
        pull_connections(api, TeamViewerSettings(), since=None, now=NOW)
    assert len(vendor.asked) == 3


def test_a_refused_token_is_a_clear_error_and_is_not_retried(vendor: Vendor) -> None:
    vendor.answer(401, {"error": "invalid_token"})
    with pytest.raises(ReportAuthError, match="TeamViewer refused the token"):
        pull_connections(teamviewer_api("bad", vendor.url), TeamViewerSettings(), since=None, now=NOW)
    assert len(vendor.asked) == 1


def test_a_record_without_its_id_is_named(vendor: Vendor) -> None:
    record = {k: v for k, v in page("teamviewer", "page2")["records"][0].items() if k != "id"}
    vendor.answer(200, {"records": [record]})
    with pytest.raises(ReportApiError, match="record 0: id"):
        pull_connections(teamviewer_api("t", vendor.url), TeamViewerSettings(), since=None, now=NOW)


def test_zoho_reads_every_page_by_index_and_count(vendor: Vendor) -> None:
    vendor.answer(200, page("zoho_assist", "page1"))
    vendor.answer(200, page("zoho_assist", "page2"))
    api = zoho_assist_api("zoho-token", vendor.url, backoff_seconds=0)
    now_ms = int(NOW.timestamp() * 1000)
    pulled = pull_reports(api, ZohoAssistSettings(page_size=2), since_ms=None, now_ms=now_ms)
    assert [s.external_id for s in pulled.sessions] == ["706174884", "706174885", "706174886"]
    first = pulled.sessions[0]
    assert (first.technician, first.client_ref) == ("ana@shop.example", "frontdesk@acme-dental.example")
    assert first.duration_seconds == 2550 and first.started_at == 1762178710
    assert pulled.sessions[1].duration_seconds == 91  # 90.5 s of someone's time rounds up
    (path, query1, headers), (_, query2, _) = vendor.asked
    assert path == "/api/v2/reports" and headers["Authorization"] == "Zoho-oauthtoken zoho-token"
    assert (query1["index"], query1["count"], query2["index"]) == ("1", "2", "3")
    assert query1["type"] == "all" and query1["todate"] == str(now_ms)
    assert query1["fromdate"] == str(now_ms - 7 * 86_400_000)
    assert pulled.cursor_ms == now_ms - 24 * 3_600_000


def test_zoho_a_refused_token_says_to_renew_it(vendor: Vendor) -> None:
    vendor.answer(401, {"error": {"code": 1003, "message": "Invalid OAuthtoken"}})
    api = zoho_assist_api("expired", vendor.url)
    with pytest.raises(ReportAuthError, match="Zoho Assist refused the token"):
        pull_reports(api, ZohoAssistSettings(), since_ms=0, now_ms=1)
