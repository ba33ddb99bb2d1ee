"""The ledger in one DynamoDB table: every balance change is one conditional TransactWriteItems."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, Literal

from ..domain.debts import Debt
from ..domain.ledger import JournalEntry, Payment, SessionRecord
from ..domain.lots import Lot
from ..ports import CheckoutOrder, Credit, UnbookedPayment
from .dynamo_disputes import DisputeWrites
from .dynamo_items import (
    ACCOUNT_SK,
    CHORE_OVERAGE,
    DUE_SHARD,
    account_from,
    customer_pk,
    entry_sk,
    entry_values,
    item,
    key,
    lot_sk,
    lot_values,
    plain,
    session_from,
    session_sk,
    session_values,
)
from .dynamo_jobs import JobWrites
from .dynamo_parked import ParkedWrites
from .dynamo_refunds import RefundWrites
from .dynamo_table import StoreError
from .store import TableStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ..domain.ledger import Account

Outcome = Literal["recorded", "duplicate", "changed"]
_FAILED = "ConditionalCheckFailed"


def order_key(order_id: str) -> tuple[str, str]:
    return f"ORDER#{order_id}", "ORDER"


class DynamoLedger(TableStore, RefundWrites, DisputeWrites, ParkedWrites, JobWrites):
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

    def record_session(
        self,
        record: SessionRecord,
        lots_before: Sequence[Lot],
        lots_after: Sequence[Lot],
        entries: Sequence[JournalEntry],
        refund_due_at: int,
    ) -> Outcome:
        """Record a session, its journal entries, the lots it drew on and the account, or nothing.

        "duplicate": the session id is already recorded. "changed": a lot or the balance moved since it
        was read (another session, a refund) or the account is not active; read again and re-plan.
        """
        pk = customer_pk(record.email)
        values = session_values(record)
        if record.overage_status == "pending":  # in the chores index until charged or owed, so it cannot stay pending
            values |= {"chore": CHORE_OVERAGE, "chore_at": record.at}
        items = [self._put(pk, session_sk(record.session_id), values)]
        items += [self._put(pk, entry_sk(entry), entry_values(entry)) for entry in entries]
        before = {lot.lot_id: lot for lot in lots_before}
        for lot in lots_after:
            old = before[lot.lot_id]
            if (lot.used_minutes, lot.closed_at) == (old.used_minutes, old.closed_at):
                continue
            items.append(
                self._update(
                    pk,
                    lot_sk(lot),
                    "SET used_minutes = :used, consumed_cents = :consumed",
                    {
                        ":used": lot.used_minutes,
                        ":consumed": lot.consumed_cents,
                        ":was_used": old.used_minutes,
                        ":was_refunded": old.refunded_minutes,
                    },
                    "used_minutes = :was_used AND refunded_minutes = :was_refunded AND attribute_not_exists(closed_at)",
                )
            )
        # Out of the sweep's index only when no lot holds anything: a settled deposit's remainder still waits for it.
        holding = any(lot.remaining_minutes > 0 or lot.remaining_cents > 0 for lot in lots_after)
        due = (
            "SET last_activity_at = :now, refund_due_at = :due, due_shard = :shard"
            if holding
            else "SET last_activity_at = :now REMOVE refund_due_at, due_shard"
        )
        items.append(
            self._update(
                pk,
                ACCOUNT_SK,
                f"{due} ADD available_minutes :minus_minutes, available_cents :minus_cents, "
                "owed_cents :owed, version :one, on_account_minutes :on_account, on_account_cents :on_account_cents, "
                "credit_left_minutes :minus_on_account",
                {
                    ":now": record.at,
                    ":due": refund_due_at if "refund_due_at = :due" in due else None,
                    ":shard": DUE_SHARD if "due_shard = :shard" in due else None,
                    ":minus_minutes": -record.covered_minutes,
                    ":minus_cents": -record.covered_cents,
                    ":owed": record.overage_cents,
                    ":one": 1,
                    ":active": "active",
                    ":minutes": record.covered_minutes,
                    ":on_account": record.on_account_minutes,
                    ":on_account_cents": record.on_account_cents,
                    ":minus_on_account": -record.on_account_minutes,
                    ":none": 0,
                },
                "attribute_exists(pk) AND #status = :active AND available_minutes >= :minutes "
                "AND (attribute_not_exists(collections_debts) OR collections_debts <= :none)"
                + (" AND credit_left_minutes >= :on_account" if record.on_account_minutes else ""),
            )
        )
        if len(items) > 100:
            raise StoreError(f"a session may draw on at most {100 - 4} lots at once; record it in two parts")
        reasons = self._transact(items)
        if not reasons:
            return "recorded"
        return "duplicate" if reasons[0] == "ConditionalCheckFailed" else "changed"

    def finish_overage(
        self,
        record: SessionRecord,
        entry: JournalEntry | None,
        paid_cents: int,
        debt: Debt | None = None,
        debt_next_at: int = 0,
    ) -> bool:
        """Move a session's overage on from pending (charged, or owed as a debt); False if it already moved."""
        pk = customer_pk(record.email)
        was = "pending"
        items = [
            self._update(
                pk,
                session_sk(record.session_id),
                "SET overage_status = :status, payment_intent = :pi, pay_url = :url, overage_problem = :problem "
                "REMOVE chore, chore_at",
                {
                    ":status": record.overage_status,
                    ":pi": record.payment_intent or "",
                    ":url": record.pay_url or "",
                    ":problem": record.overage_problem,
                    ":was": was,
                },
                "overage_status = :was",
            )
        ]
        if entry is not None:
            items.append(self._put(pk, entry_sk(entry), entry_values(entry)))
        if paid_cents:
            items.append(self._update(pk, ACCOUNT_SK, "ADD owed_cents :paid", {":paid": -paid_cents}))
        if debt is not None:
            items.append(self.debt_item(debt, debt_next_at))
        return not self._transact(items)

    # --- reads ----------------------------------------------------------------------------------

    def account(self, email: str) -> Account | None:
        found = self.client.get_item(TableName=self.table, Key=key(customer_pk(email), ACCOUNT_SK), ConsistentRead=True)
        return account_from(plain(found["Item"])) if "Item" in found else None

    def session(self, email: str, session_id: str) -> SessionRecord | None:
        found = self.client.get_item(
            TableName=self.table, Key=key(customer_pk(email), session_sk(session_id)), ConsistentRead=True
        )
        return session_from(plain(found["Item"])) if "Item" in found else None

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

    def settle_deposits(self, email: str, lots_before: Sequence[Lot], entry: JournalEntry) -> bool:
        """Close the open deposit lots: what is left leaves the spendable balance to await its refund."""
        pk = customer_pk(email)
        closing = [lot for lot in lots_before if lot.kind == "deposit" and lot.closed_at is None]
        items = [self._put(pk, entry_sk(entry), entry_values(entry))]
        for lot in closing:
            items.append(
                self._update(
                    pk,
                    lot_sk(lot),
                    "SET closed_at = :now",
                    {":now": entry.at, ":used": lot.used_minutes, ":refunded": lot.refunded_minutes},
                    "used_minutes = :used AND refunded_minutes = :refunded AND attribute_not_exists(closed_at)",
                )
            )
        minutes = sum(lot.remaining_minutes for lot in closing)
        cents = sum(lot.remaining_cents for lot in closing)
        items.append(
            self._update(
                pk,
                ACCOUNT_SK,
                "SET last_activity_at = :now ADD available_minutes :minus_minutes, available_cents :minus_cents, "
                "awaiting_refund_cents :cents, version :one",
                {":now": entry.at, ":minus_minutes": -minutes, ":minus_cents": -cents, ":cents": cents, ":one": 1},
                "attribute_exists(pk)",
            )
        )
        return not self._transact(items)

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
