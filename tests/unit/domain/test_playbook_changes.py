"""The playbook's changes decided in the domain, committed to the in-memory table (judged as DynamoDB judges)."""

from __future__ import annotations

from dataclasses import replace

from blockhours.adapters.layout import NEVER
from blockhours.domain.changes import Change, Put, Update, account_ref, debt_ref, lot_ref, session_ref
from blockhours.domain.debts import Debt, set_off
from blockhours.domain.ledger import JournalEntry, LotShare, SessionRecord
from blockhours.domain.lots import Lot
from blockhours.domain.playbook_changes import (
    bill_opened,
    billing_day_moved,
    collections_marked,
    debt_opened,
    debt_paid,
    debt_set_off,
    notice_recorded,
    trust_set,
)
from blockhours_dev.memory_ledger import MemoryLedger

EMAIL = "ana@example.com"
T0 = 1_700_000_000
DAY = 86_400


def entry(entry_id: str, at: int = T0) -> JournalEntry:
    return JournalEntry(entry_id, "notice", at, "dunning", 15, 3225, entry_id)


def opened(store: MemoryLedger, kind: str = "overage", next_at: int | None = T0 + 7 * DAY) -> Debt:
    store.commit(Change.of(Update(account_ref(EMAIL), set={"email": EMAIL}, set_if_absent={"status": "active"})))
    debt = Debt(f"{kind}-s1", EMAIL, kind, 3225, 15, "15 minutes", T0, "https://pay", notices=(T0,))  # type: ignore[arg-type]
    assert store.commit(Change.of(debt_opened(debt, next_at)))
    return debt


def found_debt(store: MemoryLedger, debt: Debt) -> Debt:
    found = store.find(debt_ref(EMAIL, debt.debt_id))
    assert found is not None
    return found


def test_a_reminder_planned_on_a_stale_read_is_refused_and_one_on_a_fresh_read_is_kept() -> None:
    store = MemoryLedger()
    debt = opened(store)
    assert store.commit(notice_recorded(debt, entry("notice-2", T0 + 7 * DAY), T0 + 14 * DAY))
    again = store.commit(notice_recorded(debt, entry("notice-2b", T0 + 7 * DAY + 1), T0 + 14 * DAY))
    assert again.refused == {"debt"}  # a second run read the debt before the first reminder: nothing twice
    fresh = found_debt(store, debt)
    assert store.commit(notice_recorded(fresh, entry("notice-3", T0 + 14 * DAY), None))
    assert found_debt(store, debt).notices == (T0, T0 + 7 * DAY, T0 + 14 * DAY)
    assert [d.debt_id for d in store.chores("debt")] == [debt.debt_id]  # no step left: still listed...
    assert store.chores("debt", NEVER - 1) == []  # ...at a day that never comes


def test_paying_a_debt_that_went_to_collections_after_it_was_read_is_refused() -> None:
    store = MemoryLedger()
    debt = opened(store, "dispute")
    assert store.commit(collections_marked(debt, entry("collections", T0 + 21 * DAY), None))
    stale = store.commit(debt_paid(debt, entry("payment"), "pi_1"))
    assert stale.refused == {"debt"}  # paid from this read, the account would keep counting it in collections
    assert store.commit(debt_paid(found_debt(store, debt), entry("payment"), "pi_1"))
    account = store.account(EMAIL)
    assert account is not None and account.collections_debts == 0
    assert store.chores("debt") == []


def test_paying_an_overage_debt_marks_its_session_paid_and_clears_what_is_owed_once() -> None:
    store = MemoryLedger()
    draws = (LotShare("cs_1", 15, 0),)
    record = SessionRecord("s1", EMAIL, T0, "tech", "", 30, 30, 15, 0, 15, 3225, draws, 0, 0, "owed")
    store.commit(Change.of(Put(session_ref(EMAIL, "s1"), record), Update(account_ref(EMAIL), add={"owed_cents": 3225})))
    debt = opened(store)
    assert store.commit(debt_paid(debt, entry("payment"), "pi_1"))
    session = store.find(session_ref(EMAIL, "s1"))
    account = store.account(EMAIL)
    assert session is not None and session.overage_status == "paid"
    assert account is not None and account.owed_cents == 0
    assert found_debt(store, debt).settled_by == "pi_1"
    assert store.commit(debt_paid(debt, entry("payment-2"), "pi_1")).refused == {"debt", "session"}


def test_a_trust_limit_opens_the_account_and_its_billing_day_once_and_refuses_a_usage_that_moved() -> None:
    store = MemoryLedger()
    assert store.commit(trust_set(EMAIL, 120, None, entry("trust-1"), T0 + 30 * DAY))
    account = store.account(EMAIL)
    assert account is not None
    assert (account.status, account.credit_left_minutes, account.next_bill_at) == ("active", 120, T0 + 30 * DAY)
    assert store.commit(trust_set(EMAIL, 60, account, entry("trust-2"), T0 + 60 * DAY))
    later = store.account(EMAIL)
    assert later is not None and later.next_bill_at == T0 + 30 * DAY  # a new limit keeps the billing day it had
    store.commit(Change.of(Update(account_ref(EMAIL), add={"on_account_minutes": 15, "on_account_cents": 3225})))
    assert store.commit(trust_set(EMAIL, 300, later, entry("trust-3"), T0)).refused == {"account"}
    used = store.account(EMAIL)
    assert used is not None
    assert store.commit(trust_set(EMAIL, 0, used, entry("trust-4"), T0))
    ended = store.account(EMAIL)
    assert ended is not None and (ended.credit_left_minutes, ended.next_bill_at) == (-15, T0 + 30 * DAY)  # billed


def test_ending_a_limit_with_nothing_unbilled_takes_the_client_off_the_billing_list() -> None:
    store = MemoryLedger()
    store.commit(trust_set(EMAIL, 120, None, entry("trust-1"), T0 + 30 * DAY))
    account = store.account(EMAIL)
    assert store.commit(trust_set(EMAIL, 0, account, entry("trust-2"), T0 + 30 * DAY))
    assert store.chores("bill") == []


def test_a_billing_day_moves_once_per_day_seen_and_a_bill_once_per_usage_seen() -> None:
    store = MemoryLedger()
    store.commit(trust_set(EMAIL, 120, None, entry("trust-1"), T0))
    assert store.commit(billing_day_moved(EMAIL, T0, T0 + 7 * DAY))
    assert store.commit(billing_day_moved(EMAIL, T0, T0 + 14 * DAY)).refused == {"account"}
    assert [a.next_bill_at for a in store.chores("bill")] == [T0 + 7 * DAY]
    store.commit(Change.of(Update(account_ref(EMAIL), add={"on_account_minutes": 15, "on_account_cents": 3225})))
    seen = store.account(EMAIL)
    assert seen is not None
    bill = Debt("bill-1", EMAIL, "bill", 3225, 15, "on account", T0, "https://pay", notices=(T0,))
    assert store.commit(bill_opened(bill, seen, [entry("bill-1")], T0 + 7 * DAY, None))
    assert store.commit(bill_opened(replace(bill, debt_id="bill-2"), seen, [entry("bill-2")], T0, None)).refused == {
        "account"
    }
    billed = store.account(EMAIL)
    assert billed is not None and (billed.billed_cents, billed.next_bill_at) == (3225, None)
    assert [d.debt_id for d in store.chores("debt")] == ["bill-1"]


def test_a_set_off_from_a_deposit_closed_after_it_was_read_is_refused() -> None:
    store = MemoryLedger()
    deposit = Lot("cs_1", 6450, 30, "pi_1", "v1", T0, kind="deposit")
    store.commit(Change.of(Update(account_ref(EMAIL), set={"email": EMAIL, "status": "active"})))
    store.commit(Change.of(Put(lot_ref(EMAIL, deposit), deposit)))
    debt = opened(store, "dispute")
    plan = set_off(debt, [deposit])
    assert plan is not None and plan.spendable_cents == 3225
    store.commit(Change.of(Update(lot_ref(EMAIL, deposit), set={"closed_at": T0 + 1})))  # settled meanwhile
    refused = store.commit(debt_set_off(plan, [deposit], entry("set-off")))
    assert refused.refused == {"lot"}  # planned as spendable, it is awaiting its refund now: plan again


def test_a_frozen_account_pays_no_debt_from_its_balance() -> None:
    store = MemoryLedger()
    lot = Lot("cs_1", 6450, 30, "pi_1", "v1", T0)
    store.commit(
        Change.of(Update(account_ref(EMAIL), set={"email": EMAIL, "status": "frozen"}), Put(lot_ref(EMAIL, lot), lot))
    )
    plan = set_off(opened(store, "dispute"), [lot])
    assert plan is not None
    assert store.commit(debt_set_off(plan, [lot], entry("set-off"))).refused == {"account"}
    store.commit(Change.of(Update(account_ref(EMAIL), set={"status": "active"})))
    assert store.commit(debt_set_off(plan, [lot], entry("set-off")))
    assert store.lots(EMAIL)[0].consumed_cents == 3225
