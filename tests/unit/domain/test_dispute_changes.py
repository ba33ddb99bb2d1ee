"""Dispute changes decided in the domain, committed to the in-memory table (judged as DynamoDB judges)."""

from __future__ import annotations

from dataclasses import replace

from blockhours.domain.changes import Change, Put, Update, account_ref, dispute_ref, lot_ref, refund_ref
from blockhours.domain.debts import Debt
from blockhours.domain.dispute_changes import debt_waived, dispute_recorded, hold_released, thawed
from blockhours.domain.disputes import Dispute, WaitingPart, apply_fact
from blockhours.domain.ledger import JournalEntry, RefundRecord
from blockhours.domain.lots import Lot
from blockhours.domain.playbook_changes import debt_opened
from blockhours.domain.refunds import RefundPart
from blockhours_dev.memory_ledger import MemoryLedger

EMAIL = "ana@example.com"
T0 = 1_700_000_000
LOT = Lot("cs_1", 6450, 30, "pi_1", "v1", T0)


def client(store: MemoryLedger, **fields: object) -> None:
    store.commit(
        Change.of(
            Update(account_ref(EMAIL), set={"email": EMAIL, "status": "active", **fields}),
            Put(lot_ref(EMAIL, LOT), LOT),
        )
    )


def test_a_dispute_stored_before_its_facts_were_kept_is_written_over_only_while_it_has_no_version() -> None:
    store = MemoryLedger()
    client(store)
    old = Dispute("dp_1", EMAIL, "cs_1", "pi_1", 6450, "needs_response", T0)
    store.table.items[("DISPUTE#dp_1", "DISPUTE")] = {"pk": "DISPUTE#dp_1", "sk": "DISPUTE", "email": EMAIL}
    change = apply_fact(old, "opened", "needs_response", T0, LOT, ())
    assert change is not None
    assert store.commit(dispute_recorded(change, True, [], {}, None, None))
    assert store.commit(dispute_recorded(change, True, [], {}, None, None)).refused == {"dispute"}
    stored = store.find(dispute_ref("dp_1"))
    assert stored is not None and stored.version == 1
    account = store.account(EMAIL)
    assert account is not None and (account.status, account.open_disputes, account.version) == ("frozen", 1, 1)


def test_two_waiting_parts_of_one_refund_are_cancelled_in_one_write_of_that_refund() -> None:
    store = MemoryLedger()
    client(store, refunding_cents=300)
    parts = (RefundPart("cs_1", "pi_1", 1, 100), RefundPart("cs_0", "pi_0", 1, 100), RefundPart("cs_1", "pi_1", 2, 200))
    store.commit(Change.of(Put(refund_ref(EMAIL, "r1"), RefundRecord("r1", EMAIL, "client", T0, parts))))
    lot = replace(LOT, refunded_minutes=3, refunded_cents=300)
    store.commit(Change.of(Update(lot_ref(EMAIL, LOT), set={"refunded_minutes": 3, "refunded_cents": 300})))
    waiting = (WaitingPart("r1", 0, 1, 100), WaitingPart("r1", 2, 2, 200))
    change = apply_fact(Dispute("dp_1", EMAIL, "cs_1", "pi_1", 6450, "lost", T0), "withdrawn", "lost", T0, lot, waiting)
    assert change is not None
    planned = dispute_recorded(change, False, [], {"r1": "requested"}, None, None)
    assert [w.ref for w in planned.writes].count(refund_ref(EMAIL, "r1")) == 1
    assert store.commit(planned)
    record = store.find(refund_ref(EMAIL, "r1"))
    assert record is not None and [p.status for p in record.parts] == ["failed", "requested", "failed"]
    account = store.account(EMAIL)
    assert account is not None and (account.refunding_cents, account.charged_back_cents) == (0, 6450)


def test_money_given_back_by_the_bank_is_due_for_the_sweep_from_then_unless_it_was_due_already() -> None:
    store = MemoryLedger()
    client(store)
    taken = replace(LOT, charged_back_minutes=30, charged_back_cents=6450)
    store.commit(Change.of(Update(lot_ref(EMAIL, LOT), set={"charged_back_minutes": 30, "charged_back_cents": 6450})))
    dispute = Dispute("dp_1", EMAIL, "cs_1", "pi_1", 6450, "under_review", T0, 1, True, None, True, False, 30, 6450)
    store.commit(Change.of(Put(dispute_ref("dp_1"), dispute)))
    change = apply_fact(dispute, "reinstated", "under_review", T0 + 5, taken, ())
    assert change is not None
    assert store.commit(dispute_recorded(change, True, [], {}, None, None))
    assert [(a.email, a.refund_due_at) for a in store.due_accounts()] == [(EMAIL, T0 + 5)]


def test_an_account_thaws_only_when_no_dispute_is_open_or_held_and_its_waiting_refunds_go_on() -> None:
    store = MemoryLedger()
    client(store, status="frozen", open_disputes=1)
    store.commit(Change.of(Put(refund_ref(EMAIL, "r1"), RefundRecord("r1", EMAIL, "client", T0, ()))))
    assert store.commit(thawed(EMAIL, ["r1"], T0)).refused == {"account"}
    store.commit(Change.of(Update(account_ref(EMAIL), add={"open_disputes": -1, "dispute_holds": 1})))
    assert not store.commit(thawed(EMAIL, ["r1"], T0))
    assert store.commit(hold_released(EMAIL, JournalEntry("released", "dispute", T0, "staff", 0, 0)))
    assert store.commit(hold_released(EMAIL, JournalEntry("released-2", "dispute", T0, "staff", 0, 0))).refused == {
        "account"
    }
    assert store.commit(thawed(EMAIL, ["r1"], T0 + 1))
    account = store.account(EMAIL)
    assert account is not None and account.status == "active"
    assert store.table.items[("CUST#" + EMAIL, "REFUND#r1")]["resumed_at"] == T0 + 1


def test_a_debt_is_waived_once() -> None:
    store = MemoryLedger()
    client(store, owed_cents=500)
    debt = Debt("dispute-dp_1", EMAIL, "dispute", 500, 0, "time used", T0, "")
    store.commit(Change.of(debt_opened(debt, None)))
    assert store.commit(debt_waived(debt, JournalEntry("waived", "payment", T0, "staff", 0, 500)))
    assert store.commit(debt_waived(debt, JournalEntry("waived-2", "payment", T0, "staff", 0, 500))).refused == {"debt"}
    account = store.account(EMAIL)
    assert account is not None and account.owed_cents == 0
    assert store.chores("debt") == []
