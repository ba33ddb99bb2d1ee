"""Cents a lot holds with no minute left to carry them (a failed dashboard refund of part of its last minute, after
that minute was used) cannot be spent: a refund of everything takes them, however small, and their lot is written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from blockhours import catalog
from blockhours.adapters.dynamo import DynamoLedger
from blockhours.domain.ledger import JournalEntry, RefundRecord
from blockhours.domain.lots import Lot
from blockhours.domain.refunds import RefundPart
from blockhours.services import ShopError, request_refund

CATALOG = catalog.load()
SPENT = Lot("cs_a", 6900, 30, "pi_a", "v1", 1, used_minutes=1, consumed_cents=209, refunded_minutes=29,
            refunded_cents=6657)  # fmt: skip
SPENDABLE = Lot("cs_b", 12900, 60, "pi_b", "v1", 2)


class Store:
    """The two calls request_refund makes when the write goes through."""

    def __init__(self, lots: list[Lot]) -> None:
        self._lots = lots
        self.written: list[tuple[RefundRecord, Sequence[Lot], int]] = []

    def customer(self, email: str) -> None:  # no debts to pay from the balance first
        return None

    def lots(self, email: str) -> list[Lot]:
        return self._lots

    def request_refund(
        self,
        record: RefundRecord,
        lots_before: Sequence[Lot],
        lots_after: Sequence[Lot],
        entry: JournalEntry,
        spendable: tuple[int, int],
        balance_left_minutes: int,
    ) -> str:
        self.written.append((record, lots_after, balance_left_minutes))
        return "recorded"


def refund(store: Store, minutes: int | None = None) -> RefundRecord:
    return request_refund(CATALOG, store, "ana@example.com", "client", "ana", minutes)  # type: ignore[arg-type]


def test_stranded_cents_are_refunded_below_the_minimum() -> None:
    assert SPENT.remaining_minutes == 0 and SPENT.remaining_cents == 34 < CATALOG.refunds.minimum_refund_cents
    store = Store([SPENT])
    record = refund(store)
    assert record.parts == (RefundPart("cs_a", "pi_a", 0, 34),)
    [(_, after, _)] = store.written
    assert (after[0].remaining_minutes, after[0].remaining_cents) == (0, 0)


def test_a_full_refund_takes_them_after_the_minutes() -> None:
    record = refund(Store([SPENT, SPENDABLE]))
    assert [(p.lot_id, p.minutes, p.amount_cents) for p in record.parts] == [("cs_b", 60, 12900), ("cs_a", 0, 34)]


def test_a_refund_of_some_minutes_leaves_them() -> None:
    record = refund(Store([SPENT, SPENDABLE]), 15)
    assert [(p.lot_id, p.minutes) for p in record.parts] == [("cs_b", 15)]
    with pytest.raises(ShopError) as nothing:
        refund(Store([SPENT]), 15)
    assert nothing.value.code == "nothing_to_refund"


def test_their_lot_is_written_and_the_account_stays_due_while_they_are_held() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    sent: list[dict[str, Any]] = []
    client.meta.events.register("before-parameter-build.dynamodb", lambda params, **_: sent.append(params))
    stub = Stubber(client)
    stub.add_response("transact_write_items", {}, {"TransactItems": ANY})
    stub.add_response("transact_write_items", {}, {"TransactItems": ANY})
    part = RefundPart("cs_a", "pi_a", 0, 34)
    record = RefundRecord("r1", "ana@example.com", "client", 5, (part,))
    taken = Lot(**{**SPENT.__dict__, "refunded_cents": SPENT.refunded_cents + 34})
    entry = JournalEntry("refund-r1", "refund-requested", 5, "ana", 0, 34)
    with stub:
        DynamoLedger("t", client).request_refund(record, [SPENT], [taken], entry, (0, 34), 0)
        DynamoLedger("t", client).request_refund(record, [SPENT, SPENDABLE], [SPENT, SPENDABLE], entry, (0, 0), 0)
    first, second = ([item["Update"] for item in call["TransactItems"] if "Update" in item] for call in sent)
    [lot_write] = [update for update in first if update["Key"]["sk"]["S"].startswith("LOT#")]
    assert "refunded_cents = :was_refunded_cents" in lot_write["ConditionExpression"]
    assert "REMOVE refund_due_at" in first[-1]["UpdateExpression"]  # nothing is held after it
    assert "REMOVE refund_due_at" not in second[-1]["UpdateExpression"]  # SPENT's 34 cents are still held
