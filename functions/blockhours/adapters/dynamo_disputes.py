"""The ledger's dispute writes: each fact Stripe reports, with the money it moves, in one transaction."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..domain.debts import Debt
from ..domain.disputes import Dispute, DisputeChange
from ..domain.ledger import JournalEntry
from .dynamo_items import (
    ACCOUNT_SK,
    DUE_SHARD,
    customer_pk,
    debt_sk,
    entry_sk,
    entry_values,
    lot_sk,
    refund_sk,
)
from .dynamo_playbook import NEVER, PlaybookWrites

_LOT_AS_READ = (
    "used_minutes = :was_used AND refunded_minutes = :was_refunded AND refunded_cents = :was_refunded_cents "
    "AND (attribute_not_exists(charged_back_cents) OR charged_back_cents = :was_charged_back)"
)
_THAWED = (
    "(attribute_not_exists(open_disputes) OR open_disputes <= :none) "
    "AND (attribute_not_exists(dispute_holds) OR dispute_holds <= :none)"
)


def dispute_key(dispute_id: str) -> tuple[str, str]:
    return f"DISPUTE#{dispute_id}", "DISPUTE"


def dispute_from(row: dict[str, Any]) -> Dispute:
    return Dispute(
        dispute_id=str(row["dispute_id"]) if "dispute_id" in row else str(row["pk"]).removeprefix("DISPUTE#"),
        email=str(row["email"]),
        lot_id=str(row.get("lot_id", "")),
        payment_intent=str(row.get("payment_intent", "")),
        amount_cents=int(row.get("amount_cents", 0)),
        status=str(row.get("status", "")),
        opened_at=int(row.get("opened_at", 0)),
        version=int(row.get("version", 0)),
        # a dispute written before facts were kept counted open exactly while it had no closing
        counted_open=bool(row.get("counted_open", "version" not in row and "closed_at" not in row)),
        closed_at=row.get("closed_at"),
        withdrawn=bool(row.get("withdrawn", False)),
        reinstated=bool(row.get("reinstated", False)),
        taken_minutes=int(row.get("taken_minutes", 0)),
        taken_cents=int(row.get("taken_cents", 0)),
        owed_cents=int(row.get("owed_cents", 0)),
    )


class DisputeWrites(PlaybookWrites):
    def commit_dispute(
        self,
        change: DisputeChange,
        stored: bool,
        entries: list[JournalEntry],
        refund_statuses: dict[str, str],
        debt: Debt | None,
        waived: Debt | None,
    ) -> bool:
        """The dispute's new facts, the lot, the refunds it cancels, the debt and the account: all or nothing.

        False when the dispute, the lot or a cancelled refund changed since they were read: read again.
        """
        after, email = change.after, change.after.email
        pk = customer_pk(email)
        dpk, dsk = dispute_key(after.dispute_id)
        was = change.before.version
        if not stored:
            condition = "attribute_not_exists(pk)"
        else:  # a dispute recorded before its facts were kept has no version yet
            condition = "version = :was" if was else "attribute_not_exists(version)"
        put: dict[str, Any] = self._put(dpk, dsk, {"type": "dispute", **asdict(after)})
        put["Put"]["ConditionExpression"] = condition
        if was:
            put["Put"]["ExpressionAttributeValues"] = {":was": {"N": str(was)}}
        items = [put]
        if change.lot_after != change.lot_before:
            lot, old = change.lot_after, change.lot_before
            items.append(
                self._update(
                    pk,
                    lot_sk(lot),
                    "SET charged_back_minutes = :back_minutes, charged_back_cents = :back_cents, "
                    "refunded_minutes = :refunded_minutes, refunded_cents = :refunded_cents",
                    {
                        ":back_minutes": lot.charged_back_minutes,
                        ":back_cents": lot.charged_back_cents,
                        ":refunded_minutes": lot.refunded_minutes,
                        ":refunded_cents": lot.refunded_cents,
                        ":was_used": old.used_minutes,
                        ":was_refunded": old.refunded_minutes,
                        ":was_refunded_cents": old.refunded_cents,
                        ":was_charged_back": old.charged_back_cents,
                    },
                    _LOT_AS_READ,
                )
            )
        for part in change.cancelled:
            items.append(
                self._update(
                    pk,
                    refund_sk(part.refund_id),
                    f"SET parts[{part.index}].#status = :failed, parts[{part.index}].failure = :why, "
                    "#status = :record_status",
                    {
                        ":failed": "failed",
                        ":why": "the charge is disputed: no refund can be made",
                        ":was": "requested",
                        ":record_status": refund_statuses[part.refund_id],
                    },
                    f"parts[{part.index}].#status = :was",
                )
            )
        items += [self._put(pk, entry_sk(entry), entry_values(entry)) for entry in entries]
        if debt is not None:
            items.append(self.debt_item(debt, NEVER))  # listed with the open debts, never dunned by the schedule
        if waived is not None:
            items.append(
                self._update(
                    pk,
                    debt_sk(waived.debt_id),
                    "SET #status = :waived, paid_at = :at, settled_by = :by REMOVE chore, chore_at",
                    {":waived": "waived", ":at": change.at, ":open": "open", ":by": "bank"},
                    "#status = :open",
                )
            )
        items.append(self._account_move(change))
        return not self._transact(items)

    def _account_move(self, change: DisputeChange) -> dict[str, Any]:
        move = change.account
        adds = {
            "available_minutes": move.available_minutes,
            "available_cents": move.available_cents,
            "awaiting_refund_cents": move.awaiting_refund_cents,
            "refunding_cents": move.refunding_cents,
            "charged_back_cents": move.charged_back_cents,
            "owed_cents": move.owed_cents,
            "open_disputes": move.open_disputes,
            "dispute_holds": move.dispute_holds,
        }
        values: dict[str, Any] = {f":{name}": delta for name, delta in adds.items() if delta}
        expression = "ADD version :one" + "".join(f", {name} :{name}" for name, delta in adds.items() if delta)
        values[":one"] = 1
        sets = []
        if move.freeze:
            sets.append("#status = :frozen")
            values[":frozen"] = "frozen"
        if move.available_minutes > 0 or move.awaiting_refund_cents > 0:  # money back: due for the sweep again
            sets.append("due_shard = :shard, refund_due_at = if_not_exists(refund_due_at, :now)")
            values |= {":shard": DUE_SHARD, ":now": change.at}
        if sets:
            expression = f"SET {', '.join(sets)} {expression}"
        return self._update(customer_pk(change.after.email), ACCOUNT_SK, expression, values, "attribute_exists(pk)")

    def thaw(self, email: str, waiting_refunds: list[str], at: int) -> bool:
        """Active again once no dispute is open or held; the refunds that waited are sent on (from the stream)."""
        pk = customer_pk(email)
        items = [
            self._update(
                pk,
                ACCOUNT_SK,
                "SET #status = :active",
                {":active": "active", ":frozen": "frozen", ":none": 0},
                f"#status = :frozen AND {_THAWED}",
            )
        ]
        items += [
            self._update(pk, refund_sk(refund_id), "SET resumed_at = :at", {":at": at}, "attribute_exists(pk)")
            for refund_id in waiting_refunds
        ]
        return not self._transact(items)

    def waive_debt(self, debt: Debt, entry: JournalEntry) -> bool:
        """The shop gives up what a lost dispute left owed; False if the debt is no longer open."""
        pk = customer_pk(debt.email)
        return not self._transact(
            [
                self._update(
                    pk,
                    debt_sk(debt.debt_id),
                    "SET #status = :waived, paid_at = :at, settled_by = :by REMOVE chore, chore_at",
                    {":waived": "waived", ":at": entry.at, ":open": "open", ":by": "waived"},
                    "#status = :open",
                ),
                self._put(pk, entry_sk(entry), entry_values(entry)),
                self._update(pk, ACCOUNT_SK, "ADD owed_cents :minus", {":minus": -debt.amount_cents}),
            ]
        )

    def release_hold(self, email: str, entry: JournalEntry) -> bool:
        """Staff release an account held after a lost dispute; False if it was not on hold."""
        pk = customer_pk(email)
        return not self._transact(
            [
                self._update(pk, ACCOUNT_SK, "SET dispute_holds = :none", {":none": 0}, "dispute_holds > :none"),
                self._put(pk, entry_sk(entry), entry_values(entry)),
            ]
        )
