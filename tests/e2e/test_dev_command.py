"""`blockhours dev` as a new user runs it: a subprocess, a free port, the shop, a purchase, the balance."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def dev() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "AWS_ENDPOINT", "BLOCKHOURS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "blockhours.cli", "dev", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"blockhours dev exited early:\n{process.stdout.read() if process.stdout else ''}")
        try:
            if requests.get(f"{url}/api/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("blockhours dev did not answer within 90 s")
    yield url, process
    process.terminate()
    process.wait(timeout=20)


def test_the_stack_serves_the_shop_and_a_purchase_reaches_the_balance(dev: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = dev
    shop = requests.get(f"{url}/", timeout=5)
    assert shop.status_code == 200
    assert "1-hour block" in shop.text and "$129.00" in shop.text and "5-hour bundle" in shop.text
    assert "fonts.googleapis.com" not in shop.text

    body = {"sku": "block-60", "email": "e2e@example.com", "terms_version": "2026-11-01", "terms_accepted": True}
    checkout_url = requests.post(f"{url}/api/checkout", json=body, timeout=10).json()["url"]
    landed = requests.post(checkout_url, data={"outcome": "paid"}, timeout=30)
    assert landed.status_code == 200 and landed.url.startswith(f"{url}/success/")
    assert "on the way" in landed.text

    account = requests.get(f"{url}/api/customers/e2e@example.com", timeout=5).json()["account"]
    assert account["available_minutes"] == 60


def test_it_prints_where_everything_is(dev: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = dev
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(8)]
    text = "".join(lines)
    assert f"Blockhours is running at {url}" in text
    assert f"{url}/api/stripe/webhook" in text and "embedded AWS" in text
