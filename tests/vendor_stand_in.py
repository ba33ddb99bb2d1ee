"""TeamViewer's connection report and Zoho Assist's session reports (with Zoho's refresh-token grant) as their
documentation shows them, served locally: the scheduled pull's tests read them through the real clients (in memory,
and on the local stack)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit

SOURCES = Path(__file__).resolve().parent / "fixtures" / "sources"
PAGES = SOURCES / "teamviewer"
ZOHO = SOURCES / "zoho_assist"


class _Quiet(BaseHTTPRequestHandler):
    """A vendor's JSON answers, without a line on stderr for each request."""

    def send_json(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Served(Protocol):
    server: ThreadingHTTPServer


Served = TypeVar("Served", bound=_Served)


@contextmanager
def serving(stand_in: Served) -> Iterator[Served]:
    """The stand-in answering on its port for the block's length, then closed."""
    thread = threading.Thread(target=stand_in.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.server.shutdown()
        stand_in.server.server_close()
        thread.join()


ZOHO_GRANT = {"client_id": "1000.SELFCLIENT", "client_secret": "self-client-secret", "refresh_token": "good-refresh"}


class TeamViewerStandIn:
    """The connection report as documented: page 1, then page 2 for `offset_id`; 401 for any other token."""

    def __init__(self) -> None:
        self.asked: list[dict[str, str]] = []
        stand_in = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                stand_in.asked.append(query)
                if self.headers.get("Authorization") != "Bearer good-token":
                    self.send_json(401, b'{"error": "invalid_token"}')
                else:
                    page = "page2.json" if query.get("offset_id") else "page1.json"
                    self.send_json(200, (PAGES / page).read_bytes())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


class ZohoAssistStandIn:
    """Zoho accounts' token endpoint and Assist's report pages (two a page): the documented access token for the
    good grant, `{"error": "invalid_code"}` for any other; reports only for that access token."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, str]] = []
        self.asked: list[dict[str, str]] = []
        stand_in = self
        access_token = json.loads((ZOHO / "token.json").read_text())["access_token"]

        class Handler(_Quiet):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                stand_in.exchanges.append(form)
                good = urlsplit(self.path).path == "/oauth/v2/token" and form == {
                    **ZOHO_GRANT,
                    "grant_type": "refresh_token",
                }
                self.send_json(200, (ZOHO / ("token.json" if good else "token_refused.json")).read_bytes())

            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                stand_in.asked.append(query)
                if self.headers.get("Authorization") != f"Zoho-oauthtoken {access_token}":
                    self.send_json(401, b'{"error": {"code": 1001, "message": "Invalid OAuth token"}}')
                else:
                    page = "page1.json" if query.get("index") == "1" else "page2.json"
                    self.send_json(200, (ZOHO / page).read_bytes())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
