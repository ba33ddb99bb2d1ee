"""`blockhours dev` as a new user runs it: a subprocess, a free port, the shop, a purchase, the balance."""

from __future__ import annotations

import os
import subprocess
import sys

import requests

from conftest import ROOT, DevStack, free_port


def test_the_stack_serves_the_shop_and_a_purchase_reaches_the_balance(dev: DevStack) -> None:
    shop = requests.get(f"{dev.url}/", timeout=5)
    assert shop.status_code == 200
    assert "1-hour block" in shop.text and "$129.00" in shop.text and "5-hour bundle" in shop.text
    assert "fonts.googleapis.com" not in shop.text

    body = {"sku": "block-60", "email": "e2e@example.com", "terms_version": "2026-11-01", "terms_accepted": True}
    checkout_url = requests.post(f"{dev.url}/api/checkout", json=body, timeout=10).json()["url"]
    landed = requests.post(checkout_url, data={"outcome": "paid"}, timeout=30)
    assert landed.status_code == 200 and landed.url.startswith(f"{dev.url}/success/")
    assert "on the way" in landed.text

    account = requests.get(f"{dev.url}/api/customers/e2e@example.com", timeout=5).json()["account"]
    assert account["available_minutes"] == 60


def test_it_prints_where_everything_is(dev: DevStack) -> None:
    assert dev.process.stdout is not None
    text = "".join(dev.process.stdout.readline() for _ in range(8))
    assert f"Blockhours is running at {dev.url}" in text
    assert f"{dev.url}/api/stripe/webhook" in text and "embedded AWS" in text


def test_a_slow_stripe_is_one_flag_away_and_a_stop_signal_stops_it_cleanly() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "AWS_ENDPOINT", "BLOCKHOURS_"))}
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
