"""Cents a lot holds with no minute left to carry them (a failed dashboard refund of part of its last minute, after
that minute was used) cannot be spent: a refund of everything takes them, however small, and their lot is written."""

from __future__ import annotations

import pytest

from blockhours import catalog
from blockhours.domain.changes import Change, Put, Update, account_ref, lot_ref
from blockhours.domain.lots import Lot
from blockhours.domain.refunds import RefundPart
from blockhours.services import ShopError, request_refund
from blockhours_dev.memory_ledger import MemoryLedger

CATALOG = catalog.load()
EMAIL = "ana@example.com"
SPENT = Lot("cs_a", 6900, 30, "pi_a", "v1", 1, used_minutes=1, consumed_cents=209, refunded_minutes=29,
            refunded_cents=6657)  # fmt: skip
SPENDABLE = Lot("cs_b", 12900, 60, "pi_b", "v1", 2)


def holding(*lots: Lot) -> MemoryLedger:
    """A client whose lots are these, due for the sweep."""
    store = MemoryLedger()
    account = Update(
        account_ref(EMAIL),
        set={
            "email": EMAIL,
            "status": "active",
            "available_minutes": sum(lot.remaining_minutes for lot in lots),
            "available_cents": sum(lot.remaining_cents for lot in lots),
            "refund_due_at": 10_000,
        },
    )
    assert store.commit(Change.of(account, *(Put(lot_ref(EMAIL, lot), lot) for lot in lots)))
    return store


def test_stranded_cents_are_refunded_below_the_minimum() -> None:
    assert SPENT.remaining_minutes == 0 and SPENT.remaining_cents == 34 < CATALOG.refunds.minimum_refund_cents
    store = holding(SPENT)
    record = request_refund(CATALOG, store, EMAIL, "client", "ana")
    assert record.parts == (RefundPart("cs_a", "pi_a", 0, 34),)
    [after] = store.lots(EMAIL)
    assert (after.remaining_minutes, after.remaining_cents) == (0, 0), "their lot is written"
    account = store.account(EMAIL)
    assert account is not None and account.refund_due_at is None, "nothing is held after it: out of the sweep"
    assert store.due_accounts() == []


def test_a_full_refund_takes_them_after_the_minutes() -> None:
    record = request_refund(CATALOG, holding(SPENT, SPENDABLE), EMAIL, "client", "ana")
    assert [(p.lot_id, p.minutes, p.amount_cents) for p in record.parts] == [("cs_b", 60, 12900), ("cs_a", 0, 34)]


def test_a_refund_of_some_minutes_leaves_them_and_the_account_stays_due() -> None:
    store = holding(SPENT, SPENDABLE)
    record = request_refund(CATALOG, store, EMAIL, "client", "ana", 60)
    assert [(p.lot_id, p.minutes) for p in record.parts] == [("cs_b", 60)]
    assert [lot.remaining_cents for lot in store.lots(EMAIL)] == [34, 0]
    assert [account.email for account in store.due_accounts()] == [EMAIL], "SPENT's 34 cents are still held"
    with pytest.raises(ShopError) as nothing:
        request_refund(CATALOG, holding(SPENT), EMAIL, "client", "ana", 15)
    assert nothing.value.code == "nothing_to_refund"
