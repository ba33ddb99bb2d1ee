"""Zoho's refresh-token grant through real urllib3 against a local token endpoint: the documented answer gives the
access token; a refusal, whatever its status, names what to do and never the secret; an outage says the run retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from blockhours.adapters.report_api import ReportApiError, ReportAuthError
from blockhours.adapters.zoho_oauth import ZohoGrant, access_token

GRANT = ZohoGrant(client_id="1000.X", client_secret="very-secret", refresh_token="1000.refresh")


@pytest.fixture
def accounts() -> Iterator[tuple[str, list[tuple[int, bytes]], list[dict[str, str]]]]:
    answers: list[tuple[int, bytes]] = []
    asked: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            asked.append({k: v[0] for k, v in parse_qs(body).items()} | {"path": self.path})
            status, raw = answers.pop(0) if answers else (500, b"{}")
            self.send_response(status)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers, asked
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_documented_answer_gives_the_access_token(accounts: Any) -> None:
    url, answers, asked = accounts
    answers.append(
        (200, b'{"access_token": "1000.new", "expires_in": 3600, "api_domain": "x", "token_type": "Bearer"}')
    )
    assert access_token(GRANT, url) == "1000.new"
    assert asked == [{**GRANT.model_dump(), "grant_type": "refresh_token", "path": "/oauth/v2/token"}]


@pytest.mark.parametrize(
    ("status", "body"), [(200, b'{"error": "invalid_code"}'), (400, b'{"error": "invalid_client"}')]
)
def test_a_refusal_names_what_to_do_and_never_the_secret(accounts: Any, status: int, body: bytes) -> None:
    url, answers, _ = accounts
    answers.append((status, body))
    with pytest.raises(ReportAuthError, match="refused the refresh token") as refused:
        access_token(GRANT, url, backoff_seconds=0)
    assert "store {client_id, client_secret, refresh_token}" in str(refused.value)
    assert "very-secret" not in str(refused.value) and "1000.refresh" not in str(refused.value)


def test_an_outage_is_retried_then_reported_for_the_next_run(accounts: Any) -> None:
    url, answers, asked = accounts
    answers.extend([(503, b"{}"), (503, b"{}"), (503, b"{}")])
    with pytest.raises(ReportApiError, match="answered 503 without an access token") as failed:
        access_token(GRANT, url, backoff_seconds=0)
    assert not isinstance(failed.value, ReportAuthError) and len(asked) == 3
