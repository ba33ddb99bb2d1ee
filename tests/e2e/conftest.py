from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
# The tools' secrets, as a shop sets them before `blockhours dev` (otherwise it makes fresh ones nobody here knows).
INTEGRATION_SECRETS = {"screenconnect": "sc-" + "e2e" * 12, "teamviewer": "tv-" + "e2e" * 12}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DevStack:
    url: str
    process: subprocess.Popen[str]
    log: Path  # what it printed (the banner, every email): a file, since a pipe nobody reads would block it


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`blockhours dev` in a subprocess on a free port, as a new user starts it (no Stripe, no AWS)."""
    yield from started_dev(tmp_path_factory, {})


def started_dev(tmp_path_factory: pytest.TempPathFactory, more_env: dict[str, str]) -> Iterator[DevStack]:
    """`blockhours dev` as above, with more of the environment (another catalog.yaml)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "AWS_ENDPOINT", "BLOCKHOURS_"))}
    env["XDG_RUNTIME_DIR"] = str(tmp_path_factory.mktemp("run"))  # where it announces itself: not the user's
    env["BLOCKHOURS_INTEGRATION_SECRETS"] = json.dumps(INTEGRATION_SECRETS)
    env |= more_env
    log = tmp_path_factory.mktemp("dev") / "printed.txt"
    with log.open("w") as printed:
        process = subprocess.Popen(
            [sys.executable, "-m", "blockhours_dev.cli", "dev", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=printed,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"blockhours dev exited early:\n{log.read_text()}")
        try:
            if requests.get(f"{url}/api/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"blockhours dev did not answer within 90 s; it printed:\n{log.read_text()[-4000:]}")
    yield DevStack(url, process, log)
    process.terminate()
    process.wait(timeout=20)


def buy(url: str, email: str, sku: str = "block-60", card: str = "4242424242424242") -> None:
    body = {"sku": sku, "email": email, "terms_version": "2026-12-06", "terms_accepted": True}
    checkout_url = requests.post(f"{url}/api/checkout", json=body, timeout=10).json()["url"]
    requests.post(checkout_url, data={"outcome": "paid", "card": card}, timeout=30).raise_for_status()
