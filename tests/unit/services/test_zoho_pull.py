"""The scheduled pull of Zoho Assist on the in-memory store, through the real clients against a local stand-in of
Zoho accounts and the Assist reports API: the stored refresh token exchanged once a run, every page read, each session
received once, the cursor moved after; a second run records nothing twice; a refused refresh token keeps the cursor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from blockhours.adapters.pulled_reports import report_of
from blockhours.catalog import Catalog, ZohoAssistSettings
from blockhours.domain.changes import cursor_ref
from blockhours.services import pull_sources
from blockhours.services import remote_sessions as remote
from blockhours_dev.memory_ledger import MemoryLedger
from in_memory import bought, no_gateway
from vendor_stand_in import ZOHO_GRANT, ZohoAssistStandIn, serving

EMAIL = "office@acme-dental.example"
NOW = int(datetime(2025, 11, 5, 12, 0, tzinfo=UTC).timestamp())  # the fixtures' sessions are on 3 and 4 Nov 2025


@pytest.fixture
def zoho() -> Iterator[ZohoAssistStandIn]:
    with serving(ZohoAssistStandIn()) as stand_in:
        yield stand_in


@pytest.fixture
def store(catalog: Catalog) -> MemoryLedger:
    ledger = MemoryLedger()
    bought(catalog, ledger, EMAIL, 300, 57900, NOW - 30 * 86400, "cs_zoho_1")
    shop = catalog.model_copy(update={"integrations": {"zoho": ZohoAssistSettings(policy="auto")}})
    remote.map_client(shop, ledger, no_gateway, "zoho", "frontdesk@acme-dental.example", EMAIL, "owner", NOW - 86400)  # type: ignore[arg-type]
    return ledger


def run(catalog: Catalog, store: MemoryLedger, url: str, now: int = NOW) -> dict[str, Any]:
    settings = ZohoAssistSettings(base_url=url, accounts_url=url, policy="auto", free_under_minutes=3, page_size=2)
    shop = catalog.model_copy(update={"integrations": {"zoho": settings}})
    [report] = pull_sources(shop, store, no_gateway, {"zoho": report_of("zoho", settings)}, now)  # type: ignore[arg-type]
    return report.as_dict()


def grant(monkeypatch: pytest.MonkeyPatch, **changed: str) -> None:
    monkeypatch.setenv("BLOCKHOURS_PULL_TOKENS", json.dumps({"zoho": {**ZOHO_GRANT, **changed}}))


def test_one_exchange_then_every_page_each_session_once_and_the_cursor_moves(
    catalog: Catalog, store: MemoryLedger, zoho: ZohoAssistStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(monkeypatch)
    report = run(catalog, store, zoho.url)

    assert report["error"] == ""
    assert zoho.exchanges == [{**ZOHO_GRANT, "grant_type": "refresh_token"}]
    assert [(q["index"], q["count"]) for q in zoho.asked] == [("1", "2"), ("3", "2")]
    assert zoho.asked[0]["fromdate"] == str((NOW - 7 * 86400) * 1000) and zoho.asked[0]["todate"] == str(NOW * 1000)
    # Acme's 42.5 and 30 minutes redeemed (45 + 45 billed); Birch's 90-second check is free, though unmatched.
    assert report["outcomes"] == {"redeemed": 2, "free": 1}
    cursor = store.find(cursor_ref("zoho"))
    assert cursor is not None and cursor.since_ms == (NOW - 24 * 3600) * 1000 == report["cursor_ms"]
    account = store.account(EMAIL)
    assert account is not None and account.available_minutes == 300 - 45 - 45


def test_a_second_run_exchanges_again_re_reads_the_overlap_and_records_nothing_twice(
    catalog: Catalog, store: MemoryLedger, zoho: ZohoAssistStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(monkeypatch)
    run(catalog, store, zoho.url)
    again = run(catalog, store, zoho.url, NOW + 900)

    assert again["outcomes"] == {"duplicate": 3} and again["error"] == ""
    assert len(zoho.exchanges) == 2  # one a run: an access token lasts an hour, a run is every 15 minutes
    assert zoho.asked[2]["fromdate"] == str((NOW - 24 * 3600) * 1000)
    account = store.account(EMAIL)
    assert account is not None and account.available_minutes == 210
    cursor = store.find(cursor_ref("zoho"))
    assert cursor is not None and cursor.since_ms == (NOW + 900 - 24 * 3600) * 1000


def test_a_refused_refresh_token_is_reported_with_what_to_do_and_the_cursor_stays(
    catalog: Catalog, store: MemoryLedger, zoho: ZohoAssistStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(monkeypatch)
    first = run(catalog, store, zoho.url)
    grant(monkeypatch, refresh_token="revoked")
    refused = run(catalog, store, zoho.url, NOW + 900)

    assert "Zoho accounts refused the refresh token (invalid_code)" in refused["error"]
    assert "store {client_id, client_secret, refresh_token} in the zoho-token parameter" in refused["error"]
    assert "revoked" not in refused["error"] and refused["outcomes"] == {}
    assert len(zoho.asked) == 2  # no report asked for without an access token
    assert refused["cursor_ms"] == first["cursor_ms"]
    cursor = store.find(cursor_ref("zoho"))
    assert cursor is not None and cursor.since_ms == first["cursor_ms"]


def test_a_bare_access_token_stored_from_before_is_reported_not_sent(
    catalog: Catalog, store: MemoryLedger, zoho: ZohoAssistStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOCKHOURS_PULL_TOKENS", json.dumps({"zoho": "1000.an-old-access-token"}))
    report = run(catalog, store, zoho.url)

    assert "Zoho Assist's stored grant is not usable" in report["error"] and "1000.an-old" not in report["error"]
    assert zoho.exchanges == [] and zoho.asked == []
    assert store.find(cursor_ref("zoho")) is None
