"""The ledger in one DynamoDB table: every balance change is one conditional TransactWriteItems."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, Literal

from ..domain.ledger import JournalEntry, Payment
from ..domain.lots import Lot
from ..ports import CheckoutOrder, Credit, UnbookedPayment
from .dynamo_items import (
    ACCOUNT_SK,
    DUE_SHARD,
    customer_pk,
    entry_sk,
    entry_values,
    item,
    key,
    lot_sk,
    lot_values,
    plain,
)
from .dynamo_jobs import JobWrites
from .dynamo_parked import ParkedWrites
from .dynamo_playbook import PlaybookWrites
from .dynamo_refunds import RefundWrites
from .dynamo_table import StoreError
from .store import TableStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


Outcome = Literal["recorded", "duplicate", "changed"]
_FAILED = "ConditionalCheckFailed"


def order_key(order_id: str) -> tuple[str, str]:
    return f"ORDER#{order_id}", "ORDER"


class DynamoLedger(TableStore, RefundWrites, PlaybookWrites, ParkedWrites, JobWrites):
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        super().__init__(table, client)
        self.rows = self

    def credit_purchase(
        self, event_id: str, payment: Payment, lot: Lot, entry: JournalEntry, refund_due_at: int
    ) -> Credit:
        """The event marker, lot, journal entry, payment pointer and account, at once, or nothing.

        The write also checks the shop's own record of the checkout it opened: a payment for a checkout the
        shop never opened, or for other minutes or another amount, is "not_ours" and changes nothing. On a
        conflict the pointer comes back as it is, so events parked for this payment are seen without a read.
        """
        items = self._credit_items(event_id, payment, lot, entry, refund_due_at)
        reasons = self._transact_seeing(items)
        if not reasons:
            return Credit("credited")
        codes = [code for code, _ in reasons]
        pointer = reasons[3][1]
        parked = int(pointer.get("parked_events", 0)) > int(pointer.get("applied_events", 0))
        if _FAILED in (codes[0], codes[1]):
            return Credit("duplicate", parked)
        if codes[5] == _FAILED:
            return Credit("not_ours", order=reasons[5][1])
        if payment.quote_id and codes[6] == _FAILED and set(codes[:6]) == {"None"}:
            # the quote is unknown here (deleted by hand): credit the payment all the same
            return self.credit_purchase(event_id, replace(payment, quote_id=""), lot, entry, refund_due_at)
        if codes[3] == _FAILED and "lot_id" not in pointer:
            # events for this payment arrived first and wait under its pointer: take the pointer over
            items[3] = self._update(
                f"PI#{payment.payment_intent}",
                "PI",
                "SET email = :email, lot_id = :lot",
                {":email": payment.email, ":lot": lot.lot_id},
                "attribute_not_exists(lot_id)",
            )
            retried = self._transact_seeing(items)
            return (
                Credit("credited", True)
                if not retried
                else self.credit_purchase(event_id, payment, lot, entry, refund_due_at)
            )
        raise StoreError(f"payment {payment.payment_intent} is already the pointer of another lot: {pointer}")

    def _credit_items(
        self, event_id: str, payment: Payment, lot: Lot, entry: JournalEntry, refund_due_at: int
    ) -> list[dict[str, Any]]:
        pk = customer_pk(payment.email)
        customer_clause = "stripe_customer_id = :customer, " if payment.stripe_customer_id else ""
        account = self._update(
            pk,
            ACCOUNT_SK,
            f"SET email = :email, {customer_clause}#status = if_not_exists(#status, :active), "
            "created_at = if_not_exists(created_at, :now), last_activity_at = :now, "
            "refund_due_at = :due, due_shard = :shard "
            "ADD available_minutes :minutes, available_cents :cents, paid_cents :cents, version :one",
            {
                ":email": payment.email,
                ":customer": payment.stripe_customer_id,
                ":active": "active",
                ":now": payment.paid_at,
                ":due": refund_due_at,
                ":shard": DUE_SHARD,
                ":minutes": lot.minutes,
                ":cents": lot.amount_cents,
                ":one": 1,
            },
        )
        pointer = self._put(f"PI#{payment.payment_intent}", "PI", {"email": payment.email, "lot_id": lot.lot_id})
        pointer["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        items = [
            self._put(f"EVT#{event_id}", "EVT", {"effect": lot.lot_id, "at": payment.paid_at}),
            self._put(pk, lot_sk(lot), lot_values(lot)),
            self._put(pk, entry_sk(entry), entry_values(entry)),
            pointer,
            account,
            self._order_check(payment, lot),
        ]
        if payment.quote_id:  # only that the quote exists: a payment is credited even if it expired meanwhile
            items.append(
                self._close_quote(
                    payment.quote_id, "paid", payment.paid_at, payment.checkout_id, "attribute_exists(pk)"
                )
            )
        return items

    def _order_check(self, payment: Payment, lot: Lot) -> dict[str, Any]:
        """The checkout as the shop opened it: who, what, how many minutes, how much, in which currency."""
        check = self._update(
            *order_key(payment.order_id),
            "",
            {
                ":email": payment.email,
                ":sku": payment.sku,
                ":minutes": lot.minutes,
                ":cents": lot.amount_cents,
                ":currency": payment.currency,
            },
            "email = :email AND sku = :sku AND minutes = :minutes AND amount_cents = :cents AND currency = :currency",
        )["Update"]
        del check["UpdateExpression"]
        return {"ConditionCheck": {**check, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}

    def report_unknown_payment(self, payment: UnbookedPayment) -> bool:
        """A payment the ledger will not book, kept once for the shop (emailed from the stream, listed by
        reconcile); False if it was already reported."""
        values = {"type": "alert", "what": "payment not credited", **asdict(payment)}
        return not self._transact([self._put(f"ALERT#{payment.checkout_id}", "ALERT", values)])

    def open_order(self, order: CheckoutOrder, at: int) -> bool:
        """The shop's record of a checkout it opens; the same order again is fine, another under its id is not."""
        values = {
            "type": "order",
            "order_id": order.order_id,
            "email": order.email,
            "sku": order.sku,
            "kind": order.kind,
            "minutes": order.minutes,
            "amount_cents": order.amount_cents,
            "currency": order.currency,
            "quote_id": order.quote_id,
            "opened_at": at,
        }
        put = self._put(*order_key(order.order_id), values)
        put["Put"]["ConditionExpression"] = (
            "attribute_not_exists(pk) OR (email = :email AND sku = :sku AND minutes = :minutes "
            "AND amount_cents = :cents AND currency = :currency)"
        )
        put["Put"]["ExpressionAttributeValues"] = item(
            {
                ":email": order.email,
                ":sku": order.sku,
                ":minutes": order.minutes,
                ":cents": order.amount_cents,
                ":currency": order.currency,
            }
        )
        return not self._transact([put])

    # --- reads ----------------------------------------------------------------------------------

    def stripe_customer_id(self, email: str) -> str | None:
        found = self.client.get_item(
            TableName=self.table, Key=key(customer_pk(email), ACCOUNT_SK), ProjectionExpression="stripe_customer_id"
        ).get("Item")
        value = plain(found).get("stripe_customer_id") if found else None
        return str(value) if value else None

    def accounts_with_balance(self) -> list[dict[str, Any]]:
        """Every account holding credit, from the sparse index (accounts at zero are not in it)."""
        return self._query(
            IndexName="refund-due",
            KeyConditionExpression="due_shard = :shard",
            ExpressionAttributeValues={":shard": {"S": DUE_SHARD}},
        )

    def warned_for(self, email: str) -> int | None:
        found = self.client.get_item(
            TableName=self.table,
            Key=key(customer_pk(email), ACCOUNT_SK),
            ProjectionExpression="warned_for",
            ConsistentRead=True,
        ).get("Item")
        value = plain(found).get("warned_for") if found else None
        return int(value) if value is not None else None

    def mark_warned(self, email: str, refund_due_at: int) -> bool:
        """Remember that the client was warned about this refund date; False if they already were."""
        return not self._transact(
            [
                self._update(
                    customer_pk(email),
                    ACCOUNT_SK,
                    "SET warned_for = :due",
                    {":due": refund_due_at},
                    "attribute_exists(pk) AND (attribute_not_exists(warned_for) OR warned_for <> :due)",
                )
            ]
        )
