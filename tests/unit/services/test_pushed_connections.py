"""ScreenConnect's pushed events on the in-memory store: each host connection ends as one redemption or one inbox
item, whatever the order or repetition, a racing event or a crash between the redemption and the saved state."""

from __future__ import annotations

from dataclasses import replace

import pytest

from blockhours.catalog import Catalog
from blockhours.domain.changes import Change, Outcome, connections_ref
from blockhours.domain.connection_pairing import ConnectionEvent
from blockhours.services import pushed_connections as pushed
from blockhours.services import remote_sessions as remote
from blockhours.services.errors import Conflict
from blockhours_dev.memory_ledger import MemoryLedger
from in_memory import RacingLedger, bought, no_gateway

EMAIL = "office@acme-dental.example"
AT = 1_800_000_000
HOURS = 3600
START = ConnectionEvent("screenconnect", "sc-7f4a", "ana", "connected", AT, "ana", "Acme Dental", "FRONTDESK-01")
END = replace(START, kind="disconnected", at=AT + 20 * 60)


def push(catalog: Catalog, store: MemoryLedger, event: ConnectionEvent, at: int = AT) -> pushed.EventAnswer:
    return pushed.connection_event(catalog, store, no_gateway, event, at)  # type: ignore[arg-type]


def available(store: MemoryLedger) -> int:
    account = store.account(EMAIL)
    assert account is not None
    return account.available_minutes


@pytest.fixture
def store(catalog: Catalog) -> RacingLedger:
    ledger = RacingLedger()
    bought(catalog, ledger, EMAIL, 120, 25800, AT - 86400, "cs_pushed_1")
    remote.map_client(catalog, ledger, no_gateway, "screenconnect", "Acme Dental", EMAIL, "owner", AT - 60)  # type: ignore[arg-type]
    return ledger


def test_a_pair_redeems_once_whatever_the_order_and_repetition(catalog: Catalog, store: RacingLedger) -> None:
    opened = push(catalog, store, START)
    assert opened.sessions == () and opened.balance_minutes == 120 and opened.client == EMAIL
    closed = push(catalog, store, END)
    [redeemed] = closed.sessions
    assert redeemed.outcome == "redeemed" and closed.balance_minutes == 90
    assert push(catalog, store, END).sessions == () and push(catalog, store, START).sessions == ()
    other = replace(START, session_id="sc-other"), replace(END, session_id="sc-other")
    assert push(catalog, store, other[1]).sessions == ()
    [reversed_pair] = push(catalog, store, other[0]).sessions
    assert reversed_pair.outcome == "redeemed" and available(store) == 60


def test_a_crash_between_the_redemption_and_the_saved_state_is_healed_by_the_same_event(
    catalog: Catalog, store: RacingLedger
) -> None:
    push(catalog, store, START)

    class Crash(Exception):
        pass

    def crash_on_the_state(change: Change) -> Outcome:
        if change.writes[0].ref.kind == "connections":
            raise Crash
        return MemoryLedger.commit(store, change)

    store.commit = crash_on_the_state  # type: ignore[method-assign]
    with pytest.raises(Crash):
        push(catalog, store, END)
    del store.commit
    assert available(store) == 90, "redeemed before the state was saved"
    [again] = push(catalog, store, END).sessions
    assert again.outcome == "duplicate" and available(store) == 90
    log = store.find(connections_ref("screenconnect", "sc-7f4a"))
    assert log is not None and log.state.open == {}


def test_an_event_racing_another_of_the_same_session_is_paired_again(catalog: Catalog, store: RacingLedger) -> None:
    store.racer = lambda: push(catalog, store, START)
    [redeemed] = push(catalog, store, END).sessions
    assert redeemed.outcome == "redeemed" and store.refused >= 1 and available(store) == 90


def test_a_lost_disconnected_waits_in_the_inbox_for_minutes_and_a_late_one_changes_nothing(
    catalog: Catalog, store: RacingLedger
) -> None:
    push(catalog, store, START)
    assert pushed.lost_connections(catalog, store, no_gateway, AT + 11 * HOURS) == []  # type: ignore[arg-type]
    [lost] = pushed.lost_connections(catalog, store, no_gateway, AT + 13 * HOURS)  # type: ignore[arg-type]
    [item] = store.inbox()
    assert item.inbox_id == lost and item.reason == "to_confirm" and item.problem == pushed.LOST_END
    assert store.chores("connections") == [], "handed over: out of the index"
    assert push(catalog, store, END).sessions == () and available(store) == 120, "the technician's minutes stand"
    assert pushed.lost_connections(catalog, store, no_gateway, AT + 40 * HOURS) == []  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="pass --minutes"):
        remote.confirm(catalog, store, no_gateway, lost, "ana", AT + 14 * HOURS)  # type: ignore[arg-type]
    done = remote.confirm(catalog, store, no_gateway, lost, "ana", AT + 14 * HOURS, minutes=40)  # type: ignore[arg-type]
    assert done.outcome == "redeemed" and available(store) == 75


def test_a_newer_connection_before_the_old_ones_end_sends_the_old_to_the_inbox(
    catalog: Catalog, store: RacingLedger
) -> None:
    push(catalog, store, START)
    [abandoned] = push(catalog, store, replace(START, at=AT + HOURS)).sessions
    assert abandoned.outcome == "inbox" and abandoned.item.problem == pushed.REPLACED
    [redeemed] = push(catalog, store, replace(END, at=AT + HOURS + 600)).sessions
    assert redeemed.outcome == "redeemed" and available(store) == 105
