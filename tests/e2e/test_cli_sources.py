"""The tools' sessions at the command line, in a subprocess against `blockhours dev`: a session a tool posts for
an unknown client waits in `blockhours inbox` (its id whole), `inbox assign` redeems it and learns the client,
`inbox confirm --minutes` bills what the technician says, `inbox dismiss` bills nothing; each answer says the
balance left."""

from __future__ import annotations

import time
import uuid

import requests
from test_cli import cli

from conftest import INTEGRATION_SECRETS, DevStack, buy


def tool_posts(dev: DevStack, source: str, external_id: str, client_ref: str, minutes: int) -> dict[str, object]:
    now = int(time.time())
    body = {
        "external_id": external_id,
        "technician": "Sam",
        "client_ref": client_ref,
        "started_at": now - minutes * 60,
        "duration_seconds": minutes * 60,
        "notes": "printer driver",
    }
    headers = {"Authorization": f"Bearer {INTEGRATION_SECRETS[source]}"}
    answer = requests.post(f"{dev.url}/api/integrations/{source}/sessions", json=body, headers=headers, timeout=20)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_inbox_assign_confirm_and_dismiss(dev: DevStack) -> None:
    tag = uuid.uuid4().hex[:6]
    email, client = f"dental-{tag}@example.com", f"Acme Dental {tag}"
    buy(dev.url, email, "block-60")
    unmatched = f"sc-{tag}-session-with-a-long-identifier-0001"
    tool_posts(dev, "screenconnect", unmatched, client, 20)
    listed = cli(dev, "inbox", columns=80)
    assert listed.returncode == 0, listed.stderr
    assert f"screenconnect-{unmatched}" in listed.stdout and "unmatched" in listed.stdout, "ids are never cut"

    assigned = cli(dev, "inbox", "assign", f"screenconnect-{unmatched}", email, "--tech", "Ana")
    assert assigned.returncode == 0, assigned.stderr
    assert "redeemed 30 min" in assigned.stdout and f"{email} has 30 min left" in assigned.stdout

    mapped = cli(dev, "map", "teamviewer", client, email)
    assert mapped.returncode == 0 and f"is {email} from now on" in mapped.stdout
    held = tool_posts(dev, "teamviewer", f"tv-{tag}", client.lower(), 50)
    assert held["outcome"] == "inbox" and held["balance_minutes"] == 30
    waiting = cli(dev, "inbox", columns=200)
    row = next(line for line in waiting.stdout.splitlines() if f"teamviewer-tv-{tag}" in line)
    assert "30 min" in row and email in row, "the client's balance shows before the session is confirmed"
    items = requests.get(f"{dev.url}/api/inbox", timeout=20).json()["items"]
    item = next(i for i in items if i["inbox_id"] == f"teamviewer-tv-{tag}")
    assert (item["balance_minutes"], item["on_hold"], item["minutes"]) == (30, False, 50)
    confirmed = cli(dev, "inbox", "confirm", f"teamviewer-tv-{tag}", "--minutes", "0:25", "--note", "driver only")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "redeemed 30 min" in confirmed.stdout and f"{email} has 0 min left" in confirmed.stdout

    tool_posts(dev, "screenconnect", f"sc-{tag}-test", f"Our lab {tag}", 30)
    dismissed = cli(dev, "inbox", "dismiss", f"screenconnect-sc-{tag}-test")
    assert dismissed.returncode == 0 and "dismissed" in dismissed.stdout
    assert f"sc-{tag}" not in cli(dev, "inbox").stdout

    unknown = cli(dev, "inbox", "confirm", "screenconnect-nothing-here")
    assert unknown.returncode == 1 and "no inbox item screenconnect-nothing-here" in unknown.stderr
    statement = cli(dev, "statement", email)
    assert (
        "Session with Sam (ScreenConnect)" in statement.stdout and "Session with Sam (TeamViewer)" in statement.stdout
    )


def test_integrations_url_prints_the_url_screenconnect_posts_to(dev: DevStack) -> None:
    printed = cli(dev, "integrations", "url", "screenconnect")
    assert printed.returncode == 0, printed.stderr
    url = printed.stdout.strip()
    assert url == f"{dev.url}/api/integrations/screenconnect/events/{INTEGRATION_SECRETS['screenconnect']}"
    guest = {
        "Session": {"SessionID": f"cli-{uuid.uuid4()}", "CustomProperty1": "Acme"},
        "Connection": {"ProcessType": "Guest", "ParticipantName": "reception"},
        "Event": {"EventType": "Connected", "Time": "2026-11-03T14:04:58Z"},
    }
    answer = requests.post(url, json=guest, timeout=20)
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored", "the printed URL is the one that works"
    polled = cli(dev, "integrations", "url", "teamviewer")
    assert polled.returncode == 2 and "does not post to a URL" in polled.stderr
