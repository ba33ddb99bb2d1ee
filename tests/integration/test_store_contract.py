"""One contract, two stores: what commit and the reads promise holds for DynamoDB (embedded) and for memory.

Every service test on the in-memory store relies on these: a change commits whole or not at all, each condition
is judged as DynamoDB judges it, and the refused writes are named.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from blockhours.adapters.dynamo import DynamoLedger
from blockhours.adapters.layout import INDEXES, Index
from blockhours.adapters.store import TableStore
from blockhours.domain.changes import (
    EXISTS,
    NEW,
    AnyOf,
    Change,
    Check,
    Expect,
    Put,
    Update,
    account_ref,
    connections_ref,
    cursor_ref,
    debt_ref,
    inbox_ref,
    lot_ref,
    mapping_ref,
    refund_ref,
)
from blockhours.domain.connection_changes import LOG, ConnectionLog, log_saved
from blockhours.domain.connection_pairing import ConnectionEvent, Connections, pair
from blockhours.domain.debts import Debt
from blockhours.domain.inbox import ClientMapping, arrived_item
from blockhours.domain.inbox_changes import ARRIVED, ITEM, arrived, assigned, closed, mapping_learnt, pinned
from blockhours.domain.ledger import RefundRecord
from blockhours.domain.lots import Lot
from blockhours.domain.pull_changes import CURSOR, PullCursor, cursor_moved
from blockhours.domain.refunds import RefundPart
from blockhours.domain.remote_sessions import RemoteSession
from blockhours_dev import template
from blockhours_dev.memory_ledger import MemoryLedger

EMAIL = "ada@example.com"
LOT = Lot("cs_1", 5000, 60, "pi_1", "v1", created_at=1_700_000_000)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> TableStore:
    if request.param == "memory":
        return MemoryLedger()
    return DynamoLedger(request.getfixturevalue("table"))


def account(**fields: Any) -> Change:
    return Change.of(Update(account_ref(EMAIL), set={"email": EMAIL, **fields}))


def test_a_new_record_is_written_once_and_a_second_put_is_refused_by_its_role(store: TableStore) -> None:
    assert store.commit(Change.of(Put(lot_ref(EMAIL, LOT), LOT)))
    again = store.commit(Change.of(Put(lot_ref(EMAIL, LOT), LOT, role="lot")))
    assert not again.committed
    assert again.refused == {"lot"}
    assert store.lots(EMAIL) == [LOT]


def test_a_change_commits_whole_or_not_at_all(store: TableStore) -> None:
    store.commit(account(available_minutes=60))
    refused = store.commit(
        Change.of(
            Put(lot_ref(EMAIL, LOT), LOT),
            Update(account_ref(EMAIL), add={"available_minutes": -90}, expect=(Expect("available_minutes", ">=", 90),)),
        )
    )
    assert refused.refused == {"account"}
    assert store.lots(EMAIL) == []
    found = store.find(account_ref(EMAIL))
    assert found is not None and found.available_minutes == 60


def test_every_failed_condition_is_named_and_shown_when_asked(store: TableStore) -> None:
    store.commit(account(available_minutes=10, status="active"))
    store.commit(Change.of(Put(lot_ref(EMAIL, LOT), LOT)))
    outcome = store.commit(
        Change.of(
            Put(lot_ref(EMAIL, LOT), LOT, role="again", show_old=True),
            Check(account_ref(EMAIL), (Expect("status", "=", "frozen"),), role="frozen", show_old=True),
            Update(account_ref("bob@example.com"), add={"version": 1}, expect=(EXISTS,), role="bob"),
        )
    )
    assert outcome.refused == {"again", "frozen", "bob"}
    assert outcome.seen["again"]["lot_id"] == "cs_1"
    assert outcome.seen["frozen"]["available_minutes"] == 10


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (Expect("available_minutes", ">=", 10), True),
        (Expect("available_minutes", ">", 10), False),
        (Expect("available_minutes", "<=", 10), True),
        (Expect("available_minutes", "<", 10), False),
        (Expect("available_minutes", "=", 10), True),
        (Expect("available_minutes", "<>", 10), False),
        (Expect("status", "=", "active"), True),
        (Expect("warned_for", "exists"), False),
        (Expect("warned_for", "missing"), True),
        (Expect("warned_for", "<>", 5), False),  # a missing attribute compares false...
        (Expect("warned_for", "<>", 5, absent=None), False),
        (Expect("warned_for", "<>", 5, absent=0), True),  # ...unless the domain says what absent means
        (Expect("open_disputes", "<=", 0, absent=0), True),
        (Expect("open_disputes", ">", 0, absent=0), False),
        (AnyOf(((Expect("status", "=", "frozen"),), (Expect("available_minutes", "=", 10),))), True),
        (AnyOf(((Expect("status", "=", "frozen"),), (Expect("available_minutes", "=", 11),))), False),
        (NEW, False),
        (EXISTS, True),
    ],
)
def test_each_condition_is_judged_as_dynamodb_judges_it(store: TableStore, condition: Any, holds: bool) -> None:
    store.commit(account(available_minutes=10, status="active"))
    outcome = store.commit(Change.of(Update(account_ref(EMAIL), add={"version": 1}, expect=(condition,))))
    assert outcome.committed is holds


def test_updates_set_add_remove_and_set_only_when_absent(store: TableStore) -> None:
    store.commit(account(refund_due_at=100))
    store.commit(Change.of(Update(account_ref(EMAIL), set={"available_cents": 5})))
    store.commit(
        Change.of(
            Update(
                account_ref(EMAIL),
                set={"status": "active"},
                set_if_absent={"created_at": 7, "last_activity_at": 99},
                add={"available_cents": 10, "owed_cents": 3},
                remove=("refund_due_at",),
            )
        )
    )
    found = store.find(account_ref(EMAIL))
    assert found is not None
    assert (found.status, found.created_at, found.available_cents, found.owed_cents) == ("active", 7, 15, 3)
    assert found.last_activity_at == 99
    store.commit(Change.of(Update(account_ref(EMAIL), set_if_absent={"created_at": 8})))
    again = store.find(account_ref(EMAIL))
    assert again is not None and again.created_at == 7
    assert found.refund_due_at is None


def test_a_field_inside_a_list_is_moved_and_checked_by_its_path(store: TableStore) -> None:
    parts = (RefundPart("cs_1", "pi_1", 10, 1000), RefundPart("cs_2", "pi_2", 20, 2000))
    record = RefundRecord("r1", EMAIL, "client", 1, parts)
    store.commit(Change.of(Put(refund_ref(EMAIL, "r1"), record)))
    moved = Update(
        refund_ref(EMAIL, "r1"),
        set={"parts[1].status": "succeeded"},
        expect=(Expect("parts[1].status", "=", "requested"),),
    )
    assert store.commit(Change.of(moved))
    assert not store.commit(Change.of(moved))
    found = store.find(refund_ref(EMAIL, "r1"))
    assert found is not None and [part.status for part in found.parts] == ["requested", "succeeded"]


def test_the_sparse_indexes_hold_what_the_domain_fields_say(store: TableStore) -> None:
    store.commit(account(refund_due_at=200, next_bill_at=300, available_cents=1))
    debt = Debt("d1", EMAIL, "overage", 500, 10, "overage", 100, "https://pay")
    store.commit(Change.of(Put(debt_ref(EMAIL, "d1"), debt, fields={"next_at": 150})))
    assert [a.email for a in store.due_accounts(200)] == [EMAIL]
    assert store.due_accounts(199) == []
    assert [a.next_bill_at for a in store.chores("bill", 300)] == [300]
    assert [d.debt_id for d in store.chores("debt", 150)] == ["d1"]
    assert store.chores("debt", 149) == []
    store.commit(Change.of(Update(account_ref(EMAIL), remove=("refund_due_at", "next_bill_at"))))
    store.commit(Change.of(Update(debt_ref(EMAIL, "d1"), remove=("next_at",))))
    assert (store.due_accounts(), store.chores("bill"), store.chores("debt")) == ([], [], [])


def test_the_in_memory_indexes_are_the_templates() -> None:
    declared = {
        index["IndexName"]: Index(
            *(part["AttributeName"] for part in index["KeySchema"]),
            tuple(index["Projection"]["NonKeyAttributes"])
            if index["Projection"]["ProjectionType"] == "INCLUDE"
            else None,
        )
        for index in template.table_definition()["GlobalSecondaryIndexes"]
    }
    assert declared == INDEXES


def test_an_index_read_gives_only_what_the_index_keeps(store: TableStore) -> None:
    store.commit(account(refund_due_at=200, available_cents=500, available_minutes=5, warned_for=100, owed_cents=7))
    [found] = store.due_accounts()
    assert (found.email, found.available_cents, found.available_minutes, found.refund_due_at) == (EMAIL, 500, 5, 200)
    assert found.warned_for == 100, "projected: the sweep warns from the index alone"
    assert found.owed_cents == 0, "not projected: read the account for it"


def test_account_pages_visit_every_account_once(store: TableStore) -> None:
    emails = {f"c{i}@example.com" for i in range(7)}
    for email in emails:
        store.commit(Change.of(Update(account_ref(email), set={"email": email}), Put(lot_ref(email, LOT), LOT)))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = store.account_page(cursor, 3)
        seen += [email for email, _ in page.accounts]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(emails)


def test_of_racing_changes_on_one_balance_exactly_the_ones_it_covers_commit(store: TableStore) -> None:
    store.commit(account(available_minutes=50))
    spend = Change.of(
        Update(account_ref(EMAIL), add={"available_minutes": -10}, expect=(Expect("available_minutes", ">=", 10),))
    )
    results: list[bool] = []

    def spend_once() -> None:
        results.append(store.commit(spend).committed)

    threads = [threading.Thread(target=spend_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5
    found = store.find(account_ref(EMAIL))
    assert found is not None and found.available_minutes == 0


def test_a_list_is_compared_whole_and_a_billing_day_by_the_attribute_that_keeps_it(store: TableStore) -> None:
    debt = Debt("d1", EMAIL, "overage", 500, 10, "overage", 100, "https://pay", notices=(100,))
    store.commit(Change.of(Put(debt_ref(EMAIL, "d1"), debt, fields={"next_at": 150})))
    remind = Update(debt_ref(EMAIL, "d1"), set={"notices": [100, 150]}, expect=(Expect("notices", "=", [100]),))
    assert store.commit(Change.of(remind))
    assert not store.commit(Change.of(remind))
    store.commit(account(next_bill_at=300))
    moved = Update(account_ref(EMAIL), set={"next_bill_at": 400}, expect=(Expect("next_bill_at", "=", 300),))
    assert store.commit(Change.of(moved))
    assert not store.commit(Change.of(moved))
    assert [a.next_bill_at for a in store.chores("bill")] == [400]


def test_a_field_put_as_none_is_absent(store: TableStore) -> None:
    store.commit(Change.of(Put(lot_ref(EMAIL, LOT), LOT)))
    assert store.commit(
        Change.of(Update(lot_ref(EMAIL, LOT), set={"used_minutes": 1}, expect=(Expect("closed_at", "missing"),)))
    )


def test_the_inbox_lists_open_items_from_the_index_and_a_mapping_reads_back(store: TableStore) -> None:
    session = RemoteSession("screenconnect", "a/1", "Sam", "Acme", 100, 600, 700, payload={"Duration": 1.5})
    waiting = arrived_item(session, 200, "unmatched", "", 15, 15, 3)
    free = arrived_item(replace(session, external_id="a/2", duration_seconds=60), 201, "unmatched", "", 15, 15, 3)
    assert store.commit(arrived(waiting)) and store.commit(arrived(free))
    assert store.commit(arrived(waiting)).refused == {ARRIVED}
    assert store.inbox() == [waiting] and waiting.inbox_id == "screenconnect-a_1"
    assert store.find(inbox_ref(free.inbox_id)) == free and free.outcome == "free"
    assert store.commit(assigned(waiting, EMAIL, "to_confirm", "Ana"))
    [to_confirm] = store.inbox()
    assert store.commit(pinned(to_confirm, 10, "note", "Ana"))
    assert store.commit(assigned(to_confirm, "other@example.com", "redeeming", "Ana")).refused == {ITEM}
    assert store.commit(closed(to_confirm, "dismissed", 300, "Ana")).refused == {ITEM}, "its redemption may be done"
    assert store.commit(closed(to_confirm, "redeemed", 300, "Ana"))
    assert store.inbox() == []
    mapping = ClientMapping("screenconnect", "acme", EMAIL, 200, "Ana")
    assert store.commit(mapping_learnt(mapping)) and store.commit(mapping_learnt(replace(mapping, email="b@x.example")))
    assert store.find(mapping_ref("screenconnect", "acme")) == replace(mapping, email="b@x.example")
    assert store.mappings("screenconnect") == [replace(mapping, email="b@x.example")]


def test_a_tools_connections_are_saved_only_as_read_and_wait_in_the_chores_index(store: TableStore) -> None:
    start = ConnectionEvent("screenconnect", "sc-1", "ana", "connected", 1000, "ana", "Acme", payload={"Time": 1.5})
    end = replace(start, kind="disconnected", at=1600)
    never = ConnectionLog("screenconnect", "sc-1", Connections())
    opened = pair(never.state, start).connections
    assert store.commit(log_saved(never, opened))
    assert store.commit(log_saved(never, opened)).refused == {LOG}, "a second first save lost the race"
    read = store.find(connections_ref("screenconnect", "sc-1"))
    assert read == ConnectionLog("screenconnect", "sc-1", opened, 1)
    assert store.chores("connections", until=999) == [] and store.chores("connections", until=1000) == [read]
    closed_state = pair(read.state, end).connections
    assert store.commit(log_saved(read, closed_state))
    assert store.commit(log_saved(read, closed_state)).refused == {LOG}, "saved since it was read"
    assert store.chores("connections") == [], "nothing waits: out of the index"
    saved = store.find(connections_ref("screenconnect", "sc-1"))
    assert saved == ConnectionLog("screenconnect", "sc-1", closed_state, 2)


def test_a_pull_cursor_is_written_once_and_moved_only_from_where_it_was_read(store: TableStore) -> None:
    first = PullCursor("teamviewer", 1_000, 10)
    assert store.commit(cursor_moved(first, None))
    assert store.commit(cursor_moved(first, None)).refused == {CURSOR}  # another run's first save won
    later = PullCursor("teamviewer", 2_000, 20)
    assert store.commit(cursor_moved(later, first))
    stale = store.commit(cursor_moved(PullCursor("teamviewer", 1_500, 30), first))  # a slower run read `first`
    assert stale.refused == {CURSOR}
    assert store.find(cursor_ref("teamviewer")) == later
    assert store.find(cursor_ref("zoho")) is None
