"""The scheduled pull on the in-memory store, through the real TeamViewer client against a local server serving
the documented report pages: every page read, each session received once, the cursor moved only after all were
received; a second run re-reads the overlap and records nothing twice; a refused token keeps the cursor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from blockhours.adapters.pulled_reports import report_of
from blockhours.catalog import Catalog, TeamViewerSettings
from blockhours.domain.changes import cursor_ref
from blockhours.services import pull_sources
from blockhours.services import remote_sessions as remote
from blockhours_dev.memory_ledger import MemoryLedger
from in_memory import bought, no_gateway
from vendor_stand_in import TeamViewerStandIn, serving

EMAIL = "office@acme-dental.example"
NOW = int(datetime(2026, 11, 5, 12, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def teamviewer() -> Iterator[TeamViewerStandIn]:
    with serving(TeamViewerStandIn()) as stand_in:
        yield stand_in


def run(catalog: Catalog, store: MemoryLedger, url: str, now: int = NOW) -> dict[str, Any]:
    settings = TeamViewerSettings(base_url=url, policy="auto", free_under_minutes=3)
    shop = catalog.model_copy(update={"integrations": {"teamviewer": settings}})
    reports = {"teamviewer": report_of("teamviewer", settings)}
    [report] = pull_sources(shop, store, no_gateway, reports, now)  # type: ignore[arg-type]
    return report.as_dict()


@pytest.fixture
def store(catalog: Catalog) -> MemoryLedger:
    ledger = MemoryLedger()
    bought(catalog, ledger, EMAIL, 300, 57900, NOW - 30 * 86400, "cs_pull_1")
    shop = catalog.model_copy(update={"integrations": {"teamviewer": TeamViewerSettings(policy="auto")}})
    remote.map_client(shop, ledger, no_gateway, "teamviewer", "Acme Dental", EMAIL, "owner", NOW - 86400)  # type: ignore[arg-type]
    return ledger


def test_every_page_is_received_once_and_the_cursor_moves_after(
    catalog: Catalog, store: MemoryLedger, teamviewer: TeamViewerStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOCKHOURS_PULL_TOKENS", json.dumps({"teamviewer": "good-token"}))
    report = run(catalog, store, teamviewer.url)

    assert report["error"] == ""
    # Acme's 43 and 31 minutes redeemed (45 + 45 billed); Birch's 90-second check is free (unmatched would wait).
    assert report["outcomes"] == {"redeemed": 2, "free": 1}
    assert [q.get("offset_id") for q in teamviewer.asked] == [None, "5ae6d2a9-57e9-4c62-b236-280390954b6f"]
    cursor = store.find(cursor_ref("teamviewer"))
    assert cursor is not None and cursor.since_ms == (NOW - 24 * 3600) * 1000 == report["cursor_ms"]
    account = store.account(EMAIL)
    assert account is not None and account.available_minutes == 300 - 45 - 45


def test_a_second_run_re_reads_the_overlap_and_records_nothing_twice(
    catalog: Catalog, store: MemoryLedger, teamviewer: TeamViewerStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOCKHOURS_PULL_TOKENS", json.dumps({"teamviewer": "good-token"}))
    run(catalog, store, teamviewer.url)
    again = run(catalog, store, teamviewer.url, NOW + 900)

    assert again["outcomes"] == {"duplicate": 3}
    assert teamviewer.asked[2]["from_date"] == datetime.fromtimestamp(NOW - 24 * 3600, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    account = store.account(EMAIL)
    assert account is not None and account.available_minutes == 210
    cursor = store.find(cursor_ref("teamviewer"))
    assert cursor is not None and cursor.since_ms == (NOW + 900 - 24 * 3600) * 1000


def test_a_refused_token_is_reported_and_the_cursor_stays(
    catalog: Catalog, store: MemoryLedger, teamviewer: TeamViewerStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOCKHOURS_PULL_TOKENS", json.dumps({"teamviewer": "good-token"}))
    first = run(catalog, store, teamviewer.url)
    monkeypatch.setenv("BLOCKHOURS_PULL_TOKENS", json.dumps({"teamviewer": "revoked"}))
    refused = run(catalog, store, teamviewer.url, NOW + 900)

    assert "refused the token (401)" in refused["error"] and refused["outcomes"] == {}
    assert refused["cursor_ms"] == first["cursor_ms"]
    cursor = store.find(cursor_ref("teamviewer"))
    assert cursor is not None and cursor.since_ms == first["cursor_ms"]


def test_a_source_without_a_token_is_reported_not_read(
    catalog: Catalog, store: MemoryLedger, teamviewer: TeamViewerStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOCKHOURS_PULL_TOKENS", json.dumps({"zoho": "x"}))
    report = run(catalog, store, teamviewer.url)

    assert "no token for teamviewer" in report["error"] and teamviewer.asked == []
    assert store.find(cursor_ref("teamviewer")) is None
