"""What the ledger's changes ask to tell the client: read from the table's stream, never sent beside a write.

A balance change and the email about it cannot be one transaction; the stream delivers every committed
change at least once, so the email follows the change and is never sent for one that did not happen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import emails, links
from .adapters.dynamo_items import debt_from, plain, quote_from, session_from
from .domain.jobs import RECONCILE_ALERT
from .domain.ledger import warned_due_at

if TYPE_CHECKING:
    from .catalog import Catalog


@dataclass(frozen=True)
class Change:
    """One item change from the DynamoDB stream, with plain values."""

    event_name: str
    new: dict[str, Any]
    old: dict[str, Any]

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Change:
        images = record.get("dynamodb") or {}
        return cls(
            event_name=str(record.get("eventName", "")),
            new=plain(images.get("NewImage") or {}),
            old=plain(images.get("OldImage") or {}),
        )


@dataclass(frozen=True)
class RefundJob:
    """A requested refund for the worker, through the refund queue."""

    email: str
    refund_id: str


Effect = emails.Email | RefundJob


@dataclass(frozen=True)
class MailContext:
    catalog: Catalog
    site_url: str
    link_secret: str
    owner_email: str  # where the shop's own alerts go


def effects_for(change: Change, context: MailContext) -> list[Effect]:
    new, old = change.new, change.old
    kind = new.get("type")
    if kind == "refund" and new.get("resumed_at") and new.get("resumed_at") != old.get("resumed_at"):
        return [RefundJob(str(new["email"]), str(new["refund_id"]))]  # held by a dispute, free to go on now
    if change.event_name == "INSERT" and kind == "refund":
        email, amount, minutes = str(new["email"]), int(new["amount_cents"]), int(new["minutes"])
        confirm = emails.refund_confirmation(context.catalog, email, amount, minutes, str(new["reason"]))
        return [RefundJob(email, str(new["refund_id"])), confirm]
    if change.event_name == "INSERT" and kind == "entry" and new.get("kind") == "refund-failed":
        email = str(new["pk"]).removeprefix("CUST#")
        amount, why = int(new["amount_cents"]), str(new.get("note", ""))
        return [emails.refund_failed_alert(context.catalog, context.owner_email, email, amount, why)]
    if change.event_name == "INSERT" and kind == "entry" and new.get("kind") == "refund-warning":
        email, amount, due_at = str(new["pk"]).removeprefix("CUST#"), int(new["amount_cents"]), new["entry_id"]
        return [emails.refund_warning(context.catalog, email, amount, warned_due_at(str(due_at)), context.site_url)]
    if change.event_name == "INSERT" and kind == "entry" and new.get("kind") == "purchase":
        email = str(new["pk"]).removeprefix("CUST#")
        product = context.catalog.product(str(new.get("note", "")).partition(": ")[0])  # the sku, then any note
        url = links.balance_url(context.site_url, links.make_balance_token(email, context.link_secret))
        return [
            emails.purchase_receipt(
                context.catalog,
                email,
                product.name if product else "Prepaid support time",
                int(new["minutes"]),
                int(new["amount_cents"]),
                int(new["at"]),
                url,
            )
        ]
    if kind == "debt":
        return _debt_effects(change, context)
    if kind == "alert" and change.event_name == "INSERT":
        if new.get("what") == RECONCILE_ALERT:
            return [emails.reconcile_alert(context.catalog, context.owner_email, new)]
        return [emails.payment_not_booked_alert(context.catalog, context.owner_email, new)]
    if kind == "quote" and change.event_name == "INSERT":
        return [emails.quote_offer(context.catalog, quote_from(new))]
    if kind != "session":
        return []
    status, was = new.get("overage_status"), old.get("overage_status")
    settled_now = change.event_name == "MODIFY" and was == "pending" and status in ("charged", "owed")
    if (change.event_name == "INSERT" and status == "none") or settled_now:
        return [emails.session_statement(context.catalog, session_from(new), context.site_url)]
    return []


def _debt_effects(change: Change, context: MailContext) -> list[Effect]:
    """A debt opened (the notice), a reminder recorded, collections, back to prepaying, paid: each told once."""
    catalog, new, old = context.catalog, change.new, change.old
    if change.event_name == "REMOVE" or not new:
        return []
    debt = debt_from(new)
    if debt.kind == "dispute":  # staff chase (or waive) what a lost dispute left owed: no dunning letters
        paid = new.get("status") == "paid" and old.get("status") != "paid"
        return [emails.debt_paid(catalog, debt)] if paid else []
    if change.event_name == "INSERT":
        return [emails.debt_notice(catalog, debt, catalog.dunning_schedule())]
    sent: list[Effect] = []
    if len(new.get("notices", [])) > len(old.get("notices", [])):
        sent.append(emails.debt_notice(catalog, debt, catalog.dunning_schedule()))
    if new.get("prepay_at") and not old.get("prepay_at") and not new.get("already_prepaying"):  # untrusted by hand
        sent += emails.back_to_prepay(catalog, context.owner_email, debt)
    if new.get("collections_at") and not old.get("collections_at"):
        sent += emails.debt_in_collections(catalog, context.owner_email, debt)
    if new.get("status") == "paid" and old.get("status") != "paid":
        sent.append(emails.debt_paid(catalog, debt))
    return sent
