"""Sessions a remote-support tool reports, on the in-memory store: each tool session ends as one redemption or
one inbox item, however often it is delivered and whoever races on it; free ones are never charged; a refused one
waits in the inbox; a learnt mapping is reused."""

from __future__ import annotations

import pytest

from blockhours.catalog import Catalog
from blockhours.domain.changes import inbox_ref, session_ref
from blockhours.domain.remote_sessions import RemoteSession
from blockhours.services import remote_sessions as remote
from blockhours.services.errors import Conflict
from blockhours_dev.memory_ledger import MemoryLedger
from in_memory import RacingLedger, bought, no_gateway

EMAIL = "office@acme-dental.example"
AT = 1_800_000_000


def tool_session(
    external_id: str, minutes: int, source: str = "screenconnect", ref: str = "Acme Dental"
) -> RemoteSession:
    return RemoteSession(
        source, external_id, "Sam", ref, AT - minutes * 60, minutes * 60, AT, "FRONTDESK-PC", "printer driver"
    )


def receive(catalog: Catalog, store: MemoryLedger, session: RemoteSession, at: int = AT) -> remote.InboxAnswer:
    return remote.receive(catalog, store, no_gateway, session, at)  # type: ignore[arg-type]


def available(store: MemoryLedger) -> int:
    account = store.account(EMAIL)
    assert account is not None
    return account.available_minutes


@pytest.fixture
def store(catalog: Catalog) -> RacingLedger:
    ledger = RacingLedger()
    bought(catalog, ledger, EMAIL, 120, 25800, AT - 86400, "cs_remote_1")
    return ledger


def mapped(catalog: Catalog, store: MemoryLedger, source: str = "screenconnect") -> None:
    remote.map_client(catalog, store, no_gateway, source, "Acme Dental", EMAIL, "owner", AT - 60)  # type: ignore[arg-type]


def test_a_session_delivered_twice_or_pushed_then_polled_is_redeemed_once(
    catalog: Catalog, store: RacingLedger
) -> None:
    mapped(catalog, store)
    first = receive(catalog, store, tool_session("7f3a-91", 20))
    assert first.outcome == "redeemed" and first.session is not None
    assert first.session.billed_minutes == 30 and first.session.source == "screenconnect"
    assert first.balance_minutes == 90 and not first.on_hold
    again = receive(catalog, store, tool_session("7f3a-91", 20), AT + 600)
    assert again.outcome == "duplicate" and again.balance_minutes == 90
    assert available(store) == 90 and store.inbox() == []
    ledger = store.customer(EMAIL)
    assert ledger is not None and [e.kind for e in ledger.entries].count("redemption") == 1


def test_unmatched_waits_then_assign_redeems_it_and_every_waiting_session_of_that_client(
    catalog: Catalog, store: RacingLedger
) -> None:
    one = receive(catalog, store, tool_session("s-1", 20))
    two = receive(catalog, store, tool_session("s-2", 10, ref="  acme   DENTAL "))
    assert one.outcome == two.outcome == "inbox" and one.balance_minutes is None
    assert [item.reason for item in store.inbox()] == ["unmatched", "unmatched"]
    answers = remote.assign(catalog, store, no_gateway, one.item.inbox_id, EMAIL, "Sam", AT + 60)  # type: ignore[arg-type]
    assert [a.outcome for a in answers] == ["redeemed", "redeemed"]
    assert answers[0].balance_minutes == 120 - 30 - 15 or answers[-1].balance_minutes == 75
    assert store.inbox() == [] and available(store) == 75
    later = receive(catalog, store, tool_session("s-3", 14), AT + 120)  # the learnt mapping is reused
    assert later.outcome == "redeemed" and available(store) == 60


def test_confirm_policy_holds_the_session_and_confirm_redeems_adjusted_minutes_with_a_note(
    catalog: Catalog, store: RacingLedger
) -> None:
    mapped(catalog, store, "teamviewer")
    waiting = receive(catalog, store, tool_session("tv-88", 50, source="teamviewer"))
    assert waiting.outcome == "inbox" and waiting.item.reason == "to_confirm" and waiting.balance_minutes == 120
    assert available(store) == 120
    done = remote.confirm(
        catalog,
        store,
        no_gateway,
        "teamviewer-tv-88",
        "Ana",
        AT + 60,
        minutes=40,
        note="left it running",  # type: ignore[arg-type]
    )
    assert done.outcome == "redeemed" and done.session is not None
    assert (done.session.requested_minutes, done.session.billed_minutes, done.session.note) == (
        40,
        45,
        "left it running",
    )
    assert done.balance_minutes == 75 and store.inbox() == []
    again = remote.confirm(catalog, store, no_gateway, "teamviewer-tv-88", "Ana", AT + 90)  # type: ignore[arg-type]
    assert again.outcome == "duplicate" and available(store) == 75


def test_a_session_under_the_free_threshold_is_recorded_free_and_never_charged(
    catalog: Catalog, store: RacingLedger
) -> None:
    mapped(catalog, store)
    free = receive(catalog, store, tool_session("quick", 2))
    assert free.outcome == "free" and free.item.billable_minutes == 0 and free.item.outcome == "free"
    assert store.find(session_ref(EMAIL, "screenconnect-quick")) is None
    assert available(store) == 120 and store.inbox() == []
    assert receive(catalog, store, tool_session("quick", 2)).outcome == "duplicate"


def test_a_refused_redemption_waits_in_the_inbox_and_is_confirmed_once_the_client_can_pay(
    catalog: Catalog, store: RacingLedger
) -> None:
    mapped(catalog, store)
    over = receive(catalog, store, tool_session("long", 150))
    assert over.outcome == "inbox" and over.item.reason == "refused"
    assert "insufficient_balance" in over.item.problem and over.balance_minutes == 120
    assert [item.inbox_id for item in store.inbox()] == ["screenconnect-long"]
    assert receive(catalog, store, tool_session("long", 150)).outcome == "duplicate"
    bought(catalog, store, EMAIL, 60, 12900, AT + 30, "cs_remote_2")
    done = remote.confirm(catalog, store, no_gateway, "screenconnect-long", "Sam", AT + 60)  # type: ignore[arg-type]
    assert done.outcome == "redeemed" and done.balance_minutes == 180 - 150 and store.inbox() == []


def test_dismissed_leaves_the_inbox_and_a_redelivery_changes_nothing(catalog: Catalog, store: RacingLedger) -> None:
    receive(catalog, store, tool_session("test-run", 30, ref="Our lab"))
    gone = remote.dismiss(store, "screenconnect-test-run", "Sam", AT + 60)
    assert gone.outcome == "dismissed" and store.inbox() == []
    assert receive(catalog, store, tool_session("test-run", 30, ref="Our lab")).outcome == "duplicate"
    assert store.inbox() == []


def test_assign_racing_a_second_delivery_after_the_mapping_records_one_session(
    catalog: Catalog, store: RacingLedger
) -> None:
    receive(catalog, store, tool_session("race", 20))
    mapped(catalog, store)  # staff map the client; the poll brings the same session again as assign runs
    store.racer = lambda: receive(catalog, store, tool_session("race", 20), AT + 30)
    answers = remote.assign(catalog, store, no_gateway, "screenconnect-race", EMAIL, "Sam", AT + 60)  # type: ignore[arg-type]
    assert answers[0].outcome in ("redeemed", "duplicate")
    assert available(store) == 90 and store.inbox() == []
    item = store.find(inbox_ref("screenconnect-race"))
    assert item is not None and item.outcome == "redeemed"


def test_an_item_tried_for_one_client_is_not_reassigned_to_another(catalog: Catalog, store: RacingLedger) -> None:
    mapped(catalog, store)
    receive(catalog, store, tool_session("long", 150))  # refused: tried for the mapped client
    with pytest.raises(Conflict) as refused:
        remote.assign(catalog, store, no_gateway, "screenconnect-long", "other@example.com", "Sam", AT + 60)  # type: ignore[arg-type]
    assert refused.value.code == "already_assigned"


def test_an_unknown_source_is_refused_before_anything_is_written(catalog: Catalog, store: RacingLedger) -> None:
    with pytest.raises(remote.NotFound):
        receive(catalog, store, tool_session("x", 20, source="nosuchtool"))
    assert store.inbox() == []
