"""ScreenConnect's pushed events, from the documented `{*:json}` shape, paired into one session per host connection."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from blockhours import wiring
from blockhours.adapters.screenconnect import ScreenConnectPayloadError, read_event
from blockhours.catalog import ScreenConnectSettings
from blockhours.domain.connection_pairing import (
    ConnectionEvent,
    Connections,
    from_record,
    pair,
    stale_connections,
    to_record,
    without,
)
from blockhours.handlers import screenconnect_routes

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "sources" / "screenconnect"
SETTINGS = ScreenConnectSettings()


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return body


def event(name: str, **changes: Any) -> ConnectionEvent:
    body = fixture(name)
    for dotted, value in changes.items():
        part, key = dotted.split("__")
        body[part][key] = value
    read = read_event(body, SETTINGS)
    assert read is not None
    return read


def play(*events: ConnectionEvent, state: Connections | None = None) -> tuple[Connections, list[Any]]:
    state = state or Connections()
    sessions = []
    for item in events:
        result = pair(state, item)
        state = result.connections
        sessions.extend(result.sessions)
    return state, sessions


def test_every_fixture_parses_and_the_host_events_carry_the_session() -> None:
    start, end = event("host_connected"), event("host_disconnected")
    assert (start.kind, end.kind) == ("connected", "disconnected")
    assert start.session_id == end.session_id == "7f4a1c2e-90d3-4b6a-8e21-5c3d2b1a0f99"
    assert (start.technician, start.client_ref, start.machine) == ("ana", "Acme Dental", "FRONTDESK-01")
    assert read_event(fixture("guest_connected"), SETTINGS) is None
    assert read_event(fixture("host_sent_message"), SETTINGS) is None


def test_a_host_connected_then_disconnected_is_one_session_of_its_length() -> None:
    state, sessions = play(event("host_connected"), event("host_disconnected"))
    assert len(sessions) == 1
    session = sessions[0]
    assert (session.source, session.technician, session.client_ref) == ("screenconnect", "ana", "Acme Dental")
    assert session.duration_seconds == 42 * 60 + 30
    assert session.ended_at == session.started_at + session.duration_seconds
    assert state.open == {} and state.early_ends == {}


def test_the_same_events_delivered_twice_make_one_session() -> None:
    start, end = event("host_connected"), event("host_disconnected")
    _, sessions = play(start, start, end, end, start)
    assert len(sessions) == 1


def test_disconnected_before_connected_still_pairs() -> None:
    state, sessions = play(event("host_disconnected"), event("host_connected"))
    assert [s.duration_seconds for s in sessions] == [2550]
    assert state.early_ends == {} and state.open == {}


def test_guest_events_change_nothing() -> None:
    start = event("host_connected")
    guest = read_event(fixture("guest_connected"), SETTINGS)
    assert guest is None
    state, sessions = play(start)
    assert sessions == [] and list(state.open) == [start.key]


def test_two_connections_of_one_session_are_two_sessions_with_their_own_ids() -> None:
    first = (event("host_connected"), event("host_disconnected"))
    second = (
        event("host_connected", Event__Time="2026-11-03T16:00:00Z"),
        event("host_disconnected", Event__Time="2026-11-03T16:10:00Z"),
    )
    _, sessions = play(*first, *second)
    assert [s.duration_seconds for s in sessions] == [2550, 600]
    assert len({s.session_id for s in sessions}) == 2


def test_a_lost_disconnected_is_reported_stale_for_the_inbox_not_guessed() -> None:
    start = event("host_connected")
    state, sessions = play(start)
    assert stale_connections(state, now=start.at + 3600, max_age_seconds=12 * 3600) == []
    stale = stale_connections(state, now=start.at + 13 * 3600, max_age_seconds=12 * 3600)
    assert stale == [start] and sessions == []
    assert without(state, stale).open == {}


def test_a_new_connection_after_a_lost_disconnected_hands_back_the_abandoned_one() -> None:
    lost = event("host_connected")
    again = event("host_connected", Event__Time="2026-11-04T09:00:00Z")
    result = pair(pair(Connections(), lost).connections, again)
    assert result.abandoned == (lost,)
    assert list(result.connections.open.values()) == [again]


def test_the_state_survives_a_round_trip_through_the_store() -> None:
    state, _ = play(event("host_connected"), event("host_disconnected", Event__Time="2026-11-03T14:50:00Z"))
    state, _ = play(event("host_connected", Event__Time="2026-11-03T17:00:00Z"), state=state)
    stored = json.loads(json.dumps(to_record(state)))
    assert from_record(stored) == state


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        (("Session", "SessionID"), "Session.SessionID"),
        (("Event", "EventType"), "Event.EventType"),
        (("Event", "Time"), "Event.Time"),
        (("Connection", "ProcessType"), "Connection.ProcessType"),
    ],
)
def test_a_payload_without_a_needed_field_names_it(remove: tuple[str, str], named: str) -> None:
    body = copy.deepcopy(fixture("host_connected"))
    del body[remove[0]][remove[1]]
    with pytest.raises(ScreenConnectPayloadError, match=named.replace(".", r"\.")):
        read_event(body, SETTINGS)


def test_the_client_comes_from_the_configured_session_field() -> None:
    by_name = read_event(fixture("host_connected"), ScreenConnectSettings(client_field="Name"))
    assert by_name is not None and by_name.client_ref == "Acme Dental - Front Desk"


def test_the_push_endpoint_reads_the_client_from_the_catalog_s_client_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = yaml.safe_load((ROOT / "catalog.yaml").read_text())
    raw["integrations"]["screenconnect"]["client_field"] = "CustomProperty2"
    shop = tmp_path / "catalog.yaml"
    shop.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("BLOCKHOURS_CATALOG", str(shop))
    wiring.reset()
    try:
        settings = screenconnect_routes._settings()
        read = read_event(fixture("host_connected"), settings)
    finally:
        monkeypatch.delenv("BLOCKHOURS_CATALOG")
        wiring.reset()
    assert settings.client_field == "CustomProperty2"
    assert read is not None and read.client_ref == "Main office"
    assert ScreenConnectSettings().client_field == "CustomProperty1"  # "Company", when the catalog says nothing
