"""The tools' endpoint as a script reaches it on the local stack: the source's secret as a Bearer token, the
common record as JSON; a wrong or missing secret, or a source without one, is a 401, a bad field a 400 naming it,
and the same session sent twice is redeemed once."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import pytest
import requests

from blockhours_dev.local import LocalStack

TERMS = "2026-12-06"


@pytest.fixture
def api(stack: LocalStack) -> str:
    return stack.url


def screenconnect_secret() -> str:
    return str(json.loads(os.environ["BLOCKHOURS_INTEGRATION_SECRETS"])["screenconnect"])


def record(external_id: str, minutes: int, client_ref: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "external_id": external_id,
        "technician": "Sam",
        "client_ref": client_ref,
        "started_at": now - minutes * 60,
        "duration_seconds": minutes * 60,
        "ended_at": now,
        "machine": "FRONTDESK-PC",
        "notes": "printer driver",
        "payload": {"Session": {"SessionID": external_id}, "Duration": 1.5},
    }


def post(api: str, body: Any, secret: str | None, source: str = "screenconnect") -> requests.Response:
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    return requests.post(f"{api}/api/integrations/{source}/sessions", json=body, headers=headers, timeout=20)


def bought_hour(api: str, email: str) -> None:
    body = {"sku": "block-60", "email": email, "terms_version": TERMS, "terms_accepted": True}
    url = requests.post(f"{api}/api/checkout", json=body, timeout=10).json()["url"]
    assert requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30).status_code == 303


def test_a_session_posted_twice_with_the_secret_is_redeemed_once_and_says_the_balance(api: str) -> None:
    email, client = f"acme-{uuid.uuid4().hex[:8]}@example.com", f"Acme {uuid.uuid4().hex[:6]}"
    bought_hour(api, email)
    mapped = requests.post(
        f"{api}/api/mappings", json={"source": "screenconnect", "client_ref": client, "email": email}, timeout=10
    )
    assert mapped.status_code == 200, mapped.text
    session = record(f"sc-{uuid.uuid4().hex[:8]}", 20, client.upper())
    first = post(api, session, screenconnect_secret())
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "redeemed" and first.json()["balance_minutes"] == 30
    assert first.json()["on_hold"] is False and first.json()["billed_minutes"] == 30
    again = post(api, session, screenconnect_secret())
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert again.json()["balance_minutes"] == 30
    statement = requests.get(f"{api}/api/customers/{email}", timeout=10).json()["statement"]
    assert [row["words"] for row in statement if row["words"].startswith("Session")] == [
        "Session with Sam (ScreenConnect)"
    ]


def test_an_unmatched_session_waits_in_the_inbox_until_assigned(api: str) -> None:
    email, client = f"lab-{uuid.uuid4().hex[:8]}@example.com", f"Lab {uuid.uuid4().hex[:6]}"
    bought_hour(api, email)
    session = record(f"sc-{uuid.uuid4().hex[:8]}", 40, client)
    waiting = post(api, session, screenconnect_secret())
    assert waiting.json()["outcome"] == "inbox" and waiting.json()["balance_minutes"] is None
    inbox_id = waiting.json()["inbox_id"]
    assert inbox_id in [item["inbox_id"] for item in requests.get(f"{api}/api/inbox", timeout=10).json()["items"]]
    assigned = requests.post(f"{api}/api/inbox/{inbox_id}/assign", json={"email": email}, timeout=20)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["outcome"] == "redeemed" and assigned.json()["balance_minutes"] == 15


@pytest.mark.parametrize("secret", [None, "", "x" * 43, "Basic abc"])
def test_a_wrong_or_missing_secret_is_a_401_and_records_nothing(api: str, secret: str | None) -> None:
    session = record(f"sc-{uuid.uuid4().hex[:8]}", 20, "Nobody")
    refused = post(api, session, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "bad_secret"
    inbox = requests.get(f"{api}/api/inbox", timeout=10).json()["items"]
    assert f"screenconnect-{session['external_id']}" not in [item["inbox_id"] for item in inbox]


def test_a_teamviewer_secret_does_not_open_screenconnect_nor_says_which_sources_exist(api: str) -> None:
    teamviewer = str(json.loads(os.environ["BLOCKHOURS_INTEGRATION_SECRETS"])["teamviewer"])
    assert post(api, record("x-1", 20, "Acme"), teamviewer).status_code == 401
    unknown = post(api, record("x-1", 20, "Acme"), screenconnect_secret(), source="anydesk")
    assert unknown.status_code == 401 and unknown.json()["error"] == "bad_secret", "the same answer as a bad secret"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"duration_seconds": -5}, "duration_seconds"), ({"external_id": ""}, "external_id"), ({"minutes": 3}, "minutes")],
)
def test_a_bad_record_is_a_400_naming_the_field(api: str, change: dict[str, Any], field: str) -> None:
    refused = post(api, record("bad-1", 20, "Acme") | change, screenconnect_secret())
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    assert field in refused.json()["message"]
