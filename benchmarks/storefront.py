"""Storefront figures: the shop page's weight in a real browser, and Lighthouse's scores for it.

Run with `make bench` (or `.venv/bin/python benchmarks/storefront.py`). The built site is served twice
on 127.0.0.1: as `blockhours dev` serves it (no compression) and gzip-compressed, as a CDN serves it.
Lighthouse is the npm package installed under .build/lighthouse by `make bench`; without it the
weight is still measured and the reason Lighthouse did not run is printed.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.exceptions import NotFound
from werkzeug.serving import make_server
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --no-first-run"
LIGHTHOUSE = ROOT / ".build" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


def static_app(site: Path, compress: bool) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path.lstrip("/")
        if not path or path.endswith("/"):
            path += "index.html"
        try:
            response = send_from_directory(site, path, environ)
        except NotFound:
            response = Response("not found", status=404)
        wants_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        if (
            compress
            and wants_gzip
            and response.status_code == 200
            and (response.mimetype or "").startswith(COMPRESSIBLE)
        ):
            response.direct_passthrough = False
            response.set_data(gzip.compress(response.get_data(), compresslevel=6))
            response.headers["Content-Encoding"] = "gzip"
            response.headers["Vary"] = "Accept-Encoding"
        return response(environ, start_response)

    return app


@contextmanager
def serving(site: Path, compress: bool) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, static_app(site, compress), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def page_weight(url: str) -> dict[str, int]:
    """Bytes on the wire (headers and bodies) for everything the page loads, as Chromium counts them."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_FLAGS.split())
        page = browser.new_page()
        seen: list[Any] = []
        page.on("requestfinished", lambda request: seen.append(request))
        page.goto(url, wait_until="networkidle")
        sizes = [request.sizes() for request in seen]
        outside = [r.url for r in seen if urlsplit(r.url).hostname not in ("127.0.0.1", None)]
        browser.close()
    return {
        "requests": len(seen),
        "bytes": sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes),
        "body_bytes": sum(s["responseBodySize"] for s in sizes),
        "third_party_requests": len(outside),
    }


def lighthouse(url: str) -> dict[str, Any] | str:
    """Lighthouse's mobile run (its default: simulated slow 4G, 4x CPU slowdown), or why it could not run."""
    if not LIGHTHOUSE.exists():
        return f"not installed at {LIGHTHOUSE.relative_to(ROOT)}: `make bench` installs it with npm"
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js 18 or newer"
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--only-categories=performance,accessibility",
            "--output=json",
            f"--output-path={report}",
            f"--chrome-flags={CHROME_FLAGS}",
            "--quiet",
        ]
        env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0 or not report.exists():
            return f"lighthouse exited {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"
        result = json.loads(report.read_text())
    audits = result["audits"]
    return {
        "performance": round(result["categories"]["performance"]["score"] * 100),
        "accessibility": round(result["categories"]["accessibility"]["score"] * 100),
        "metrics": {
            name: audits[key]["displayValue"]
            for name, key in [
                ("FCP", "first-contentful-paint"),
                ("LCP", "largest-contentful-paint"),
                ("TBT", "total-blocking-time"),
                ("CLS", "cumulative-layout-shift"),
            ]
        },
        "failing_accessibility": [
            ref["id"]
            for ref in result["categories"]["accessibility"]["auditRefs"]
            if audits[ref["id"]].get("score") is not None and audits[ref["id"]]["score"] < 1
        ],
    }


def main() -> None:
    from blockhours_dev.local import build_site

    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: `make bench` installs it, or run `apt-get install -y chromium`")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        site = build_site(ROOT, Path(scratch) / "site")
        assert site is not None, "mkdocs.yml not found"
        print("Shop page (/) in headless Chromium: bytes on the wire, headers included")
        for label, compress in (("as `blockhours dev` serves it", False), ("gzip, as a CDN serves it", True)):
            with serving(site, compress) as url:
                weight = page_weight(url)
                print(
                    f"  {label:<32} {weight['bytes'] / 1024:7.1f} KiB in {weight['requests']} requests"
                    f"  (third-party requests: {weight['third_party_requests']})"
                )
                scores = lighthouse(url)
                if isinstance(scores, str):
                    print(f"    Lighthouse did not run: {scores}")
                    continue
                metrics = "  ".join(f"{k} {v}" for k, v in scores["metrics"].items())
                print(
                    f"    Lighthouse (mobile): performance {scores['performance']}, "
                    f"accessibility {scores['accessibility']}   {metrics}"
                )
                if scores["failing_accessibility"]:
                    print(f"    accessibility audits failing: {', '.join(scores['failing_accessibility'])}")


if __name__ == "__main__":
    main()
