"""TeamViewer's connection report as its documentation shows it, served locally: the scheduled pull's tests read it
through the real client (in memory, and on the local stack)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).resolve().parent / "fixtures" / "sources" / "teamviewer"


class TeamViewerStandIn:
    """The connection report as documented: page 1, then page 2 for `offset_id`; 401 for any other token."""

    def __init__(self) -> None:
        self.asked: list[dict[str, str]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                stand_in.asked.append(query)
                if self.headers.get("Authorization") != "Bearer good-token":
                    status, body = 401, b'{"error": "invalid_token"}'
                else:
                    name = "page2.json" if query.get("offset_id") else "page1.json"
                    status, body = 200, (PAGES / name).read_bytes()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
