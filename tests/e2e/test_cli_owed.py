"""Money owed and a tired technician, from the command line and HTTP against `blockhours dev` (issue 15): a trusted
client who never saved a card is never charged one, and a session id sent again says it was recorded before."""

from __future__ import annotations

import os
import subprocess
import sys

import requests

from conftest import DevStack, buy


def cli(dev: DevStack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BLOCKHOURS_API": dev.url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "blockhours_dev.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_trusted_client_without_a_card_is_told_what_fits_and_never_charged(dev: DevStack) -> None:
    email = "nocard-cli@example.com"
    assert cli(dev, "trust", email, "--limit", "300").returncode == 0
    assert cli(dev, "redeem", email, "45", "--tech", "Sam").returncode == 0  # 255 of the limit left

    refused = cli(dev, "redeem", email, "300", "--tech", "Sam", "--charge-overage", "--session-id", "nocard-1")
    assert refused.returncode == 1, refused.stdout
    said = refused.stderr.strip()
    assert len(said.splitlines()) == 1 and "Traceback" not in said, said
    assert "no card is saved for them" in said and "nothing was recorded" in said, said
    assert "255 of their 300-minute limit" in said and "record the 255 minutes that fit" in said, said
    assert f"blockhours quote {email} 45" in said and "saved card" not in said, said

    answer = requests.post(
        f"{dev.url}/api/sessions",
        json={"email": email, "minutes": 300, "technician": "Sam", "session_id": "nocard-2", "charge_overage": True},
        timeout=30,
    )
    assert answer.status_code == 409 and answer.json()["error"] == "no_card", answer.text

    balance = cli(dev, "balance", email)
    assert "45 min on account ($96.75, limit 5 h, 4 h 15 min of it left)" in balance.stdout, balance.stdout
    assert "owed" not in balance.stdout and "no prepaid time bought yet" in balance.stdout, balance.stdout
    assert email not in cli(dev, "debts").stdout, "nothing owed to chase"

    fits = cli(dev, "redeem", email, "255", "--tech", "Sam", "--charge-overage")
    assert fits.returncode == 0, fits.stderr
    said = " ".join(fits.stdout.split())  # the terminal wraps it
    assert "4 h 15 min on account = $548.25, billed later" in said, said
    assert "No prepaid time left; 5 h on account in all." in said and "$0.00" not in said, said
    assert "5 h on account" in cli(dev, "balance", email).stdout
    statement = " ".join(cli(dev, "statement", email).stdout.split())
    assert "Balance: 0 min ($0.00); on account, billed later: 5 h ($645.00)" in statement, statement


def test_a_session_id_sent_again_says_when_and_by_whom_it_was_recorded(dev: DevStack) -> None:
    email = "again-cli@example.com"
    buy(dev.url, email, "block-60")
    first = cli(dev, "redeem", email, "30", "--tech", "Sam", "--note", "printer", "--session-id", "T-1001")
    assert first.returncode == 0 and "30 min used, 30 min billed" in first.stdout, first.stdout + first.stderr

    again = cli(dev, "redeem", email, "30", "--tech", "Kim", "--session-id", "T-1001")
    assert again.returncode == 0, again.stderr
    line = again.stdout.strip()
    assert line.startswith("session T-1001 was already recorded on ") and line.endswith(
        " by Sam (30 min); nothing changed"
    ), line
    assert "min used" not in again.stdout and "Balance left" not in again.stdout, "never a new record's words"
    assert "30 min (" in cli(dev, "balance", email).stdout, "recorded once"

    body = {"email": email, "minutes": 30, "technician": "Sam", "session_id": "T-1001"}
    replayed = requests.post(f"{dev.url}/api/sessions", json=body, timeout=30).json()
    assert replayed["recorded_now"] is False and replayed["summary"] == line
    fresh = requests.post(f"{dev.url}/api/sessions", json=body | {"session_id": "T-1002"}, timeout=30).json()
    assert fresh["recorded_now"] is True
