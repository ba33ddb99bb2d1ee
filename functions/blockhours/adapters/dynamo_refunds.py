"""The ledger's refund writes: set money aside, record what Stripe did, give back what failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Literal

from ..domain.ledger import JournalEntry, RefundRecord
from ..domain.lots import Lot
from ..domain.refunds import RefundPart
from .dynamo_items import (
    ACCOUNT_SK,
    DUE_SHARD,
    customer_pk,
    entry_sk,
    entry_values,
    key,
    lot_sk,
    plain,
    refund_sk,
    refund_values,
)
from .dynamo_table import DynamoTable

# Cents too: a dashboard refund of part of a lot's last minute changes its cents and none of its minutes.
_LOT_UNCHANGED = (
    "used_minutes = :was_used AND refunded_minutes = :was_refunded AND refunded_cents = :was_refunded_cents"
)


def _lot_values(lot: Lot, old: Lot) -> dict[str, Any]:
    return {
        ":refunded_minutes": lot.refunded_minutes,
        ":refunded_cents": lot.refunded_cents,
        ":was_used": old.used_minutes,
        ":was_refunded": old.refunded_minutes,
        ":was_refunded_cents": old.refunded_cents,
    }


class RefundWrites(DynamoTable):
    def _lot_refund(self, email: str, lot: Lot, old: Lot) -> dict[str, Any]:
        return self._update(
            customer_pk(email),
            lot_sk(lot),
            "SET refunded_minutes = :refunded_minutes, refunded_cents = :refunded_cents",
            _lot_values(lot, old),
            _LOT_UNCHANGED,
        )

    def request_refund(
        self,
        record: RefundRecord,
        lots_before: Sequence[Lot],
        lots_after: Sequence[Lot],
        entry: JournalEntry,
        spendable: tuple[int, int],
        balance_left_minutes: int,
    ) -> Literal["recorded", "duplicate", "changed"]:
        """Set the refund's money aside, out of reach of sessions, in the same transaction that records it."""
        pk = customer_pk(record.email)
        before = {lot.lot_id: lot for lot in lots_before}
        items = [self._put(pk, refund_sk(record.refund_id), refund_values(record))]
        items.append(self._put(pk, entry_sk(entry), entry_values(entry)))
        items += [
            self._lot_refund(record.email, lot, before[lot.lot_id])
            for lot in lots_after
            if (lot.refunded_minutes, lot.refunded_cents)
            != (before[lot.lot_id].refunded_minutes, before[lot.lot_id].refunded_cents)
        ]
        spend_minutes, spend_cents = spendable
        # cents no minute carries (a failed dashboard refund's) are money held too: the sweep must still see them
        holding = balance_left_minutes > 0 or any(lot.remaining_cents > 0 for lot in lots_after)
        due = "" if holding else " REMOVE refund_due_at, due_shard"
        items.append(
            self._update(
                pk,
                ACCOUNT_SK,
                "ADD available_minutes :minus_minutes, available_cents :minus_cents, "
                f"awaiting_refund_cents :minus_settled, refunding_cents :total, version :one{due}",
                {
                    ":minus_minutes": -spend_minutes,
                    ":minus_cents": -spend_cents,
                    ":minus_settled": -(record.amount_cents - spend_cents),
                    ":total": record.amount_cents,
                    ":one": 1,
                    ":active": "active",
                    ":minutes": spend_minutes,
                },
                "attribute_exists(pk) AND #status = :active AND available_minutes >= :minutes",
            )
        )
        reasons = self._transact(items)
        if not reasons:
            return "recorded"
        return "duplicate" if reasons[0] == "ConditionalCheckFailed" else "changed"

    def record_refund_part(
        self, record: RefundRecord, index: int, part: RefundPart, entry: JournalEntry | None
    ) -> bool:
        """Stripe answered for one part; False if that answer was already recorded."""
        pk = customer_pk(record.email)
        old = record.parts[index]
        parts = list(record.parts)
        parts[index] = part
        status = RefundRecord(record.refund_id, record.email, record.reason, record.requested_at, tuple(parts))
        items = [
            self._update(
                pk,
                refund_sk(record.refund_id),
                f"SET parts[{index}] = :part, #status = :status",
                {":part": asdict(part), ":status": status.settled_status(), ":was": old.status},
                f"parts[{index}].#status = :was",
            )
        ]
        if part.status == "succeeded":
            items.append(
                self._update(
                    pk,
                    ACCOUNT_SK,
                    "ADD refunding_cents :minus, refunded_cents :cents",
                    {":minus": -part.amount_cents, ":cents": part.amount_cents},
                )
            )
        if entry is not None:
            items.append(self._put(pk, entry_sk(entry), entry_values(entry)))
        return not self._transact(items)

    def give_back_refund_part(
        self, record: RefundRecord, index: int, lot: Lot, lot_after: Lot, failure: str, entry: JournalEntry
    ) -> bool:
        """A part Stripe could not refund: its money returns to the lot and the balance, once."""
        pk = customer_pk(record.email)
        old = record.parts[index]
        failed = RefundPart(**{**asdict(old), "status": "failed", "failure": failure})
        parts = list(record.parts)
        parts[index] = failed
        status = RefundRecord(record.refund_id, record.email, record.reason, record.requested_at, tuple(parts))
        spendable = lot.closed_at is None
        items = [
            self._update(
                pk,
                refund_sk(record.refund_id),
                f"SET parts[{index}] = :part, #status = :status",
                {":part": asdict(failed), ":status": status.settled_status(), ":failed": "failed"},
                f"parts[{index}].#status <> :failed",
            ),
            self._lot_refund(record.email, lot_after, lot),
            self._put(pk, entry_sk(entry), entry_values(entry)),
            self._update(
                pk,
                ACCOUNT_SK,
                "SET due_shard = :shard, refund_due_at = if_not_exists(refund_due_at, :now) "
                "ADD available_minutes :minutes, available_cents :cents, awaiting_refund_cents :settled, "
                "refunding_cents :minus, refunded_cents :undo, version :one",
                {
                    ":shard": DUE_SHARD,
                    ":now": entry.at,
                    ":minutes": old.minutes if spendable else 0,
                    ":cents": old.amount_cents if spendable else 0,
                    ":settled": 0 if spendable else old.amount_cents,
                    ":minus": -old.amount_cents if old.status != "succeeded" else 0,
                    ":undo": -old.amount_cents if old.status == "succeeded" else 0,
                    ":one": 1,
                },
            ),
        ]
        return not self._transact(items)

    def record_outside_refund(
        self, stripe_refund_id: str, email: str, lot: Lot, lot_after: Lot, entry: JournalEntry
    ) -> bool:
        """A refund made elsewhere (the Stripe dashboard): into the ledger once, keyed by Stripe's id.

        A negative one is such a refund failing: its money returns, and the account is due a refund again.
        """
        pk = customer_pk(email)
        minutes = lot_after.refunded_minutes - lot.refunded_minutes
        cents = lot_after.refunded_cents - lot.refunded_cents
        spendable = lot.closed_at is None
        returning = cents < 0
        due = "SET due_shard = :shard, refund_due_at = if_not_exists(refund_due_at, :now) " if returning else ""
        items = [
            self._put(f"EXTREFUND#{stripe_refund_id}", "EXTREFUND", {"email": email, "lot_id": lot.lot_id}),
            self._lot_refund(email, lot_after, lot),
            self._put(pk, entry_sk(entry), entry_values(entry)),
            self._update(
                pk,
                ACCOUNT_SK,
                f"{due}ADD available_minutes :minutes, available_cents :cents, awaiting_refund_cents :settled, "
                "refunded_cents :refunded, version :one",
                {
                    ":shard": DUE_SHARD if returning else None,
                    ":now": entry.at if returning else None,
                    ":minutes": -minutes if spendable else 0,
                    ":cents": -cents if spendable else 0,
                    ":settled": 0 if spendable else -cents,
                    ":refunded": cents,
                    ":one": 1,
                },
            ),
        ]
        return not self._transact(items)

    def payment_owner(self, payment_intent: str) -> tuple[str, str] | None:
        """The customer and lot a PaymentIntent paid for, from the pointer written with the credit."""
        found = self.client.get_item(TableName=self.table, Key=key(f"PI#{payment_intent}", "PI"), ConsistentRead=True)
        row = plain(found.get("Item") or {})
        if "lot_id" not in row:  # unknown, or only events parked under it so far
            return None
        return str(row["email"]), str(row["lot_id"])
