"""Storefront figures: the shop page's weight in a real browser, and Lighthouse's scores for it, both against the
local stack `blockhours dev` runs, which compresses the site as CloudFront does (gzip here, over http).

Run with `make bench` (or `.venv/bin/python benchmarks/storefront.py`). It exits 1 when the page and all it
loads weigh more than WEIGHT_TARGET_BYTES on the wire. Lighthouse is the npm package installed under
.build/lighthouse by `make bench`; without it the weight is still measured and the reason Lighthouse did not
run is printed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --no-first-run"
LIGHTHOUSE = ROOT / ".build" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
# Issue 17: the page and everything it needs for first paint in 60 kB; here everything it loads counts.
WEIGHT_TARGET_BYTES = 60_000
SCORE_TARGET = 100


def page_weight(url: str) -> dict[str, Any]:
    """Bytes on the wire (headers and bodies, as encoded) for everything the page loads, as Chromium counts them."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_FLAGS.split())
        page = browser.new_page()
        seen: list[Any] = []
        page.on("requestfinished", lambda request: seen.append(request))
        page.goto(url, wait_until="networkidle")
        files: dict[str, tuple[int, str]] = {}
        for request in seen:
            sizes, response = request.sizes(), request.response()
            encoding = response.headers.get("content-encoding", "none") if response else "none"
            files[urlsplit(request.url).path] = (sizes["responseBodySize"] + sizes["responseHeadersSize"], encoding)
        outside = [r.url for r in seen if urlsplit(r.url).hostname not in ("127.0.0.1", None)]
        browser.close()
    return {
        "requests": len(seen),
        "bytes": sum(size for size, _ in files.values()),
        "files": files,
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


def main() -> int:
    from blockhours_dev.local import LocalStack, build_site

    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: `make bench` installs it, or run `apt-get install -y chromium`")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        # The stack `blockhours dev` runs, with a site built of its own: .build/site may be a running dev's.
        stack = LocalStack(port=0, with_site=False).start()
        stack.site_dir = build_site(ROOT, Path(scratch) / "site")
        assert stack.site_dir is not None, "mkdocs.yml not found"
        try:
            url = stack.url + "/"
            weight = page_weight(url)
            scores = lighthouse(url)
        finally:
            stack.stop()
    met = weight["bytes"] <= WEIGHT_TARGET_BYTES
    print("Shop page (/) from `blockhours dev` (compressed as CloudFront compresses), in headless Chromium")
    print(
        f"  weight, the page and all it loads (headers included): {weight['bytes'] / 1000:.1f} kB"
        f" in {weight['requests']} requests, target <= {WEIGHT_TARGET_BYTES / 1000:.0f} kB:"
        f" {'met' if met else 'MISSED'}   (third-party requests: {weight['third_party_requests']})"
    )
    for path, (size, encoding) in sorted(weight["files"].items(), key=lambda item: -item[1][0]):
        print(f"    {size / 1000:6.1f} kB  {path}  (content-encoding: {encoding})")
    if isinstance(scores, str):
        print(f"  Lighthouse did not run: {scores}")
    else:
        metrics = "  ".join(f"{k} {v}" for k, v in scores["metrics"].items())
        print(
            f"  Lighthouse (mobile): performance {scores['performance']}, accessibility {scores['accessibility']}"
            f" (target {SCORE_TARGET} each)   {metrics}"
        )
        if scores["failing_accessibility"]:
            print(f"    accessibility audits failing: {', '.join(scores['failing_accessibility'])}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
