"""The auditor recomputes each derivable account field from lots, refunds and debts, and names every one that is off."""

from __future__ import annotations

import dataclasses

import pytest

from blockhours.domain.audit import audit, derived_fields
from blockhours.domain.debts import Debt
from blockhours.domain.ledger import Account, CustomerLedger, RefundRecord
from blockhours.domain.lots import Lot
from blockhours.domain.refunds import RefundPart

OPEN = Lot(
    "open", 12900, 60, "pi_1", "v1", 1, used_minutes=15, consumed_cents=3225, refunded_cents=3225, refunded_minutes=15
)
CLOSED = Lot("dep", 6450, 30, "pi_2", "v1", 1, used_minutes=10, consumed_cents=2150, closed_at=5)
REFUND = RefundRecord("r1", "ana@example.com", "staff", 2, (RefundPart("open", "pi_1", 15, 3225, "pending"),))
OVERAGE = Debt("d1", "ana@example.com", "overage", 1000, 5, "overage", 3, "https://pay", collections_at=9)
BILL = Debt("b1", "ana@example.com", "bill", 6450, 30, "bill", 3, "https://pay")
RIGHT = Account(
    "ana@example.com", None, 30, 6450, 19350, "active", 7, 1000, 1, 1, None,
    refunding_cents=3225, awaiting_refund_cents=4300, trust_limit_minutes=120, on_account_minutes=30,
    on_account_cents=6450, billed_minutes=30, billed_cents=6450, credit_left_minutes=90, collections_debts=1,
)  # fmt: skip


def ledger(account: Account) -> CustomerLedger:
    return CustomerLedger(account, [OPEN, CLOSED], [], [REFUND], [OVERAGE, BILL])


def test_an_account_that_agrees_with_its_items_has_nothing_to_report() -> None:
    assert audit(ledger(RIGHT)) == []


@pytest.mark.parametrize("name", sorted(derived_fields(ledger(RIGHT))))
def test_each_field_that_is_off_is_reported_with_what_it_should_be(name: str) -> None:
    wrong = dataclasses.replace(RIGHT, **{name: getattr(RIGHT, name) + 1})
    [found] = audit(ledger(wrong))
    assert (found.field, found.stored, found.derived) == (name, getattr(RIGHT, name) + 1, getattr(RIGHT, name))


def test_a_paid_debt_and_a_refund_stripe_settled_hold_nothing() -> None:
    paid = dataclasses.replace(OVERAGE, status="paid")
    settled = RefundRecord(
        "r1", "ana@example.com", "staff", 2, (dataclasses.replace(REFUND.parts[0], status="succeeded"),)
    )
    fields = derived_fields(CustomerLedger(RIGHT, [OPEN, CLOSED], [], [settled], [paid, BILL]))
    assert (fields["owed_cents"], fields["refunding_cents"], fields["collections_debts"]) == (0, 0, 0)
