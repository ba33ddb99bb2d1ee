"""`blockhours dev` as a new user runs it: a subprocess, a free port, the shop, a purchase, the balance."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from conftest import ROOT, DevStack, free_port


def test_the_stack_serves_the_shop_and_a_purchase_reaches_the_balance(dev: DevStack) -> None:
    shop = requests.get(f"{dev.url}/", timeout=5)
    assert shop.status_code == 200
    assert "1-hour block" in shop.text and "$129.00" in shop.text and "5-hour bundle" in shop.text
    assert "fonts.googleapis.com" not in shop.text
    assert shop.headers["Content-Encoding"] == "gzip"  # as CloudFront sends it: the weight measured is the real one

    body = {"sku": "block-60", "email": "e2e@example.com", "terms_version": "2026-12-06", "terms_accepted": True}
    checkout_url = requests.post(f"{dev.url}/api/checkout", json=body, timeout=10).json()["url"]
    landed = requests.post(checkout_url, data={"outcome": "paid"}, timeout=30)
    assert landed.status_code == 200 and landed.url.startswith(f"{dev.url}/success/")
    assert "on the way" in landed.text

    account = requests.get(f"{dev.url}/api/customers/e2e@example.com", timeout=5).json()["account"]
    assert account["available_minutes"] == 60


def test_it_prints_where_everything_is(dev: DevStack) -> None:
    text = "".join(dev.log.read_text().splitlines(keepends=True)[:8])
    assert f"Blockhours is running at {dev.url}" in text
    assert f"{dev.url}/api/stripe/webhook" in text and "embedded AWS" in text


def test_a_slow_stripe_is_one_flag_away_and_a_stop_signal_stops_it_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "AWS_ENDPOINT", "BLOCKHOURS_"))}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "blockhours_dev.cli", "dev", "--port", str(port), "--no-site"]
    process = subprocess.Popen(
        [*command, "--stripe-latency-ms", "250"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    banner = [process.stdout.readline()]
    while banner[-1] and not banner[-1].startswith("Press Ctrl-C"):
        banner.append(process.stdout.readline())
    process.terminate()
    try:
        rest, errors = process.communicate(timeout=60)  # reads both pipes: nothing it prints can block it
    except subprocess.TimeoutExpired:
        process.kill()
        rest, errors = process.communicate()
        raise AssertionError(f"still running a minute after SIGTERM; its stderr:\n{errors}") from None

    assert any("each call takes 250 ms" in line for line in banner), banner
    assert process.returncode == 0 and "stopping" in rest, (process.returncode, rest, errors)


@dataclass
class Running:
    """One `blockhours dev` in a subprocess; every line it prints, as it prints it."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    url: str = ""

    def next_line(self, matching: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if re.search(matching, line):
                return line
        raise AssertionError(f"blockhours dev printed nothing matching {matching!r} in {seconds} s")

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(timeout=60)


def start_dev(env: dict[str, str], *args: str) -> Running:
    process = subprocess.Popen(
        [sys.executable, "-m", "blockhours_dev.cli", "dev", "--no-site", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    running = Running(process, lines)
    running.url = running.next_line("^Blockhours is running at ").split()[-1]
    running.next_line("^Press Ctrl-C")
    return running


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "blockhours_dev.cli", *args],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        timeout=60,
        check=False,
    )


def buy(url: str, email: str) -> None:
    """The 1-hour block, paid on the stand-in's page (--no-site: the success page it then opens is not built)."""
    body = {"sku": "block-60", "email": email, "terms_version": "2026-12-06", "terms_accepted": True}
    checkout_url = requests.post(f"{url}/api/checkout", json=body, timeout=10).json()["url"]
    paid = requests.post(checkout_url, data={"outcome": "paid"}, timeout=30, allow_redirects=False)
    assert paid.status_code == 303, paid.text


def emailed_balance_link(running: Running, to: str) -> str:
    """The balance link in the first email the stack printed to `to`."""
    running.next_line(f"^--- email to {re.escape(to)}:")
    return re.findall(r"https?://\S+/balance/\?t=\S+", running.next_line(r"/balance/\?t="))[0]


def test_with_data_the_ledger_links_and_payments_outlive_a_restart_and_the_cli_finds_it(tmp_path: Path) -> None:
    shop = tmp_path / "my-catalog.yaml"  # BLOCKHOURS_CATALOG, honoured by every part of the stack
    shop.write_text((ROOT / "catalog.yaml").read_text().replace("price_cents: 12900\n", "price_cents: 11900\n", 1))
    assert "price_cents: 11900" in shop.read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "AWS_ENDPOINT", "BLOCKHOURS_"))}
    env |= {"XDG_RUNTIME_DIR": str(tmp_path / "run"), "BLOCKHOURS_CATALOG": str(shop)}
    data = tmp_path / "data"

    first = start_dev(env, "--port", "0", "--data", str(data))
    try:
        buy(first.url, "keep@example.com")
        link = emailed_balance_link(first, "keep@example.com")
        buy(first.url, "later@example.com")
        used = cli(env, "redeem", "keep@example.com", "40m", "--tech", "Sam")  # no --api: it finds port 0's stack
        assert used.returncode == 0 and "Balance left: 15 min" in used.stdout, used.stderr
        typed = cli(env, "balance", "keep@example.com", "--api", f"{first.url}/api/")
        assert typed.returncode == 0 and "15 min ($29.75) available" in typed.stdout, typed.stderr
        twice = cli(env, "dev", "--port", "0", "--no-site", "--data", str(data))
        assert twice.returncode == 1 and "is in use by another `blockhours dev`" in twice.stderr, twice.stderr
    finally:
        assert first.stop() == 0
    assert not list((tmp_path / "run" / "blockhours").glob("dev-*.json")), "a stopped stack is not announced"

    second = start_dev(env, "--port", "0", "--data", str(data))
    try:
        assert second.url == first.url, "the port its links name is taken again"
        token = link.split("?t=", 1)[1]
        page = requests.get(f"{second.url}/api/balance", params={"t": token}, timeout=10)
        assert page.status_code == 200 and page.json()["balance_minutes"] == 15, page.text
        assert cli(env, "balance", "keep@example.com").stdout.count("15 min ($29.75) available") == 1

        # The payment it was bought with is still known to Stripe's stand-in: the refund reaches the card.
        assert cli(env, "refund", "later@example.com").returncode == 0
        deadline = time.monotonic() + 30
        kinds: list[str] = []
        while "refunded" not in kinds and time.monotonic() < deadline:
            ledger = requests.get(f"{second.url}/api/customers/later@example.com", timeout=10).json()
            kinds = [entry["kind"] for entry in ledger["entries"]]
        assert "refunded" in kinds and "refund-failed" not in kinds, kinds
        assert [lot["amount_cents"] for lot in ledger["lots"]] == [11900]
    finally:
        assert second.stop() == 0


def test_a_mistake_in_the_catalog_stops_it_at_once_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "catalog.yaml"
    broken.write_text((ROOT / "catalog.yaml").read_text().replace("price_cents: 12900\n", "price_cents: 0\n", 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "AWS_ENDPOINT", "BLOCKHOURS_"))}
    env |= {"BLOCKHOURS_CATALOG": str(broken), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "blockhours_dev.cli", "dev", "--port", "0", "--no-site"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == "", (done.returncode, done.stdout)
    assert done.stderr == f"error: {broken}: product block-60: price_cents: must be greater than 0\n"
    assert time.monotonic() - started < 10, "it stops before starting anything"
