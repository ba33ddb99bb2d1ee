"""ScreenConnect's trigger as it reaches the local stack: the documented `{*:json}` events posted to the URL that
carries the source's secret. A host's Connected and Disconnected become one redemption however often and in
whatever order they come; a guest's event changes nothing; a wrong secret is refused and writes nothing; a lost
Disconnected waits in the inbox once the stale period has passed and the daily run looked."""

from __future__ import annotations

import copy
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from test_remote_sessions_http import bought_hour

from blockhours.catalog import load
from blockhours_dev.local import LocalStack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources" / "screenconnect"
STALE_HOURS = load(Path(__file__).resolve().parents[2] / "catalog.yaml").integrations["screenconnect"].stale_after_hours


@pytest.fixture
def api(stack: LocalStack) -> str:
    return stack.url


def secret() -> str:
    return str(json.loads(os.environ["BLOCKHOURS_INTEGRATION_SECRETS"])["screenconnect"])


def event(name: str, session_id: str, client: str, at: float) -> dict[str, Any]:
    """A fixture event for this tool session and client, at `at` (epoch seconds)."""
    body: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))
    body["Session"] |= {"SessionID": session_id, "CustomProperty1": client}
    body["Event"]["Time"] = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


def push(api: str, body: Any, with_secret: str | None = None) -> requests.Response:
    url = f"{api}/api/integrations/screenconnect/events/{with_secret or secret()}"
    return requests.post(url, json=body, timeout=30)


def mapped_client(api: str) -> tuple[str, str, str]:
    """A client with an hour bought and mapped from its ScreenConnect company name; a fresh tool session id."""
    tag = uuid.uuid4().hex[:8]
    email, client = f"sc-{tag}@example.com", f"Acme {tag}"
    bought_hour(api, email)
    body = {"source": "screenconnect", "client_ref": client, "email": email}
    assert requests.post(f"{api}/api/mappings", json=body, timeout=10).status_code == 200
    return email, client, str(uuid.uuid4())


def statement_sessions(api: str, email: str) -> list[str]:
    statement = requests.get(f"{api}/api/customers/{email}", timeout=10).json()["statement"]
    return [row["words"] for row in statement if row["words"].startswith("Session")]


def test_a_pair_is_one_redemption_even_sent_twice_and_the_answer_names_the_balance(api: str) -> None:
    email, client, session = mapped_client(api)
    now = time.time()
    connected = push(api, event("host_connected", session, client, now - 20 * 60))
    assert connected.status_code == 200, connected.text
    assert connected.json()["summary"] == f"{email} has 60 min left" and connected.json()["on_hold"] is False
    ended = push(api, event("host_disconnected", session, client, now))
    assert ended.status_code == 200, ended.text
    [redeemed] = ended.json()["sessions"]
    assert redeemed["outcome"] == "redeemed" and ended.json()["balance_minutes"] == 30
    for again in ("host_connected", "host_disconnected"):
        answer = push(api, event(again, session, client, now - 20 * 60 if again == "host_connected" else now))
        assert answer.status_code == 200 and answer.json()["sessions"] == []
    assert statement_sessions(api, email) == ["Session with ana (ScreenConnect)"]


def test_disconnected_before_connected_is_one_redemption(api: str) -> None:
    email, client, session = mapped_client(api)
    now = time.time()
    assert push(api, event("host_disconnected", session, client, now)).json()["sessions"] == []
    [redeemed] = push(api, event("host_connected", session, client, now - 40 * 60)).json()["sessions"]
    assert redeemed["outcome"] == "redeemed" and redeemed["billed_minutes"] == 45
    assert statement_sessions(api, email) == ["Session with ana (ScreenConnect)"]


def test_a_guests_event_changes_nothing(api: str) -> None:
    email, client, session = mapped_client(api)
    answer = push(api, event("guest_connected", session, client, time.time()))
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert push(api, event("host_disconnected", session, client, time.time())).json()["sessions"] == []
    assert statement_sessions(api, email) == []


def test_a_wrong_secret_is_refused_and_writes_nothing(api: str) -> None:
    email, client, session = mapped_client(api)
    now = time.time()
    wrong = push(api, event("host_connected", session, client, now - 600), with_secret=secret()[:-1] + "x")
    assert wrong.status_code == 404 and wrong.json()["error"] == "not_found"
    assert "secret" not in wrong.text, "no hint that the route exists"
    assert push(api, event("host_disconnected", session, client, now)).json()["sessions"] == [], "nothing opened"
    assert statement_sessions(api, email) == []


def test_a_body_without_a_needed_field_is_a_400_naming_it(api: str) -> None:
    _, client, session = mapped_client(api)
    body = event("host_connected", session, client, time.time())
    del body["Session"]["SessionID"]
    answer = push(api, body)
    assert answer.status_code == 400 and "Session.SessionID" in answer.json()["message"]
    assert push(api, "not an object").status_code in (400, 422)


def test_a_lost_disconnected_waits_in_the_inbox_after_the_stale_period(api: str) -> None:
    email, client, session = mapped_client(api)
    started = time.time() - (STALE_HOURS + 1) * 3600
    assert push(api, event("host_connected", session, client, started)).status_code == 200
    swept = requests.post(f"{api}/_local/sweep", timeout=60)
    assert swept.status_code == 200, swept.text
    [lost] = [i for i in swept.json()["connections lost"] if session in i]
    [item] = [i for i in requests.get(f"{api}/api/inbox", timeout=10).json()["items"] if i["inbox_id"] == lost]
    assert item["email"] == email and item["reason"] == "to_confirm" and "Disconnected never came" in item["problem"]
    again = requests.post(f"{api}/_local/sweep", timeout=60).json()["connections lost"]
    assert lost not in again, "handed over once"
    assert statement_sessions(api, email) == []
