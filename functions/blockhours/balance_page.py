"""What the client's own pages show: the balance page, and the page a payment ends on. Pure: read, then shape.

Dates are epoch seconds, which the pages write in `time_zone`, the shop's; money is cents in `currency`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .domain.debts import next_step_at
from .domain.ledger import refund_due_at
from .domain.lots import fifo_order
from .statement import Words, debt_title, statement_rows

if TYPE_CHECKING:
    from .catalog import Catalog
    from .domain.debts import Debt
    from .domain.ledger import CustomerLedger
    from .ports import PaidCheckout


def owed_items(ledger: CustomerLedger, catalog: Catalog, zone: tzinfo, now: int, but: str = "") -> list[dict[str, Any]]:
    """Every open debt but `but`, oldest first: what it is for, how much, when it was asked, by when, its pay link.

    `due_at` is the day the next step comes (a reminder, back to prepaying, collections) if it is still unpaid;
    None once nothing more comes, or for what a lost dispute left owed, which the shop settles in person.
    """
    words, schedule = Words(catalog, zone), catalog.dunning_schedule()
    debts = sorted((d for d in ledger.debts if d.status == "open" and d.debt_id != but), key=_oldest)
    return [
        {
            "debt_id": debt.debt_id,
            "what": debt_title(debt.debt_id, debt, words),
            "amount_cents": debt.amount_cents,
            "minutes": debt.minutes,
            "sent_at": debt.opened_at,
            "due_at": None if debt.kind == "dispute" else _due(next_step_at(debt, schedule), now),
            "pay_url": debt.pay_url,
            "on_hold": debt.in_collections,
        }
        for debt in debts
    ]


def _oldest(debt: Debt) -> tuple[int, str]:
    return debt.opened_at, debt.debt_id


def _due(at: int | None, now: int) -> int | None:
    return at if at is not None and at > now else None  # a step already due is no date to pay by


def balance_view(ledger: CustomerLedger, catalog: Catalog, zone: ZoneInfo, now: int) -> dict[str, Any]:
    """The balance page: what is owed first, then time on account, the prepaid balance and when it goes back to
    the card, each purchase, and the statement in the order things happened."""
    account = ledger.account
    trusted = account.trust_limit_minutes > 0
    owed = owed_items(ledger, catalog, zone, now)
    on_account = None
    if trusted or account.on_account_minutes:
        on_account = {
            "limit_minutes": account.trust_limit_minutes,
            "unbilled_minutes": account.on_account_minutes - account.billed_minutes,
            "unbilled_cents": account.on_account_cents - account.billed_cents,
            "left_minutes": max(account.trust_limit_minutes - account.on_account_minutes, 0),
            "next_bill_at": account.next_bill_at,
        }
    holds = account.available_cents > 0
    return {
        "email": account.email,
        "status": account.status,
        "currency": catalog.shop.currency,
        "time_zone": zone.key,
        "owed_cents": sum(item["amount_cents"] for item in owed),
        "owed": owed,
        "on_hold": any(item["on_hold"] for item in owed),
        "on_account": on_account,
        "balance_minutes": account.available_minutes,
        "balance_cents": account.available_cents,
        # The account's date: every session or purchase moves it, whichever lot the time is in.
        "refund_due_at": refund_due_at(account.last_activity_at, catalog.refunds.stale_after_days) if holds else None,
        "top_up": not trusted and account.available_minutes < catalog.billing.low_balance_minutes,
        "lots": [
            {
                "minutes": lot.minutes,
                "amount_cents": lot.amount_cents,
                "remaining_minutes": lot.remaining_minutes,
                "remaining_cents": lot.remaining_cents,
                "created_at": lot.created_at,
            }
            for lot in fifo_order(ledger.lots)
        ],
        "statement": [asdict(row) for row in statement_rows(ledger, catalog, zone)],
    }


def may_open_balance(paid: PaidCheckout, ledger: CustomerLedger | None) -> bool:
    """Whether the page a purchase ends on may link to the balance: anyone may buy time for any email, so only
    when that account holds nothing but this payment; an older account's link is in its own emails."""
    if paid.debt_id or paid.status != "paid":
        return False
    return ledger is None or {lot.lot_id for lot in ledger.lots} <= {paid.checkout_id}


def paid_view(
    paid: PaidCheckout, ledger: CustomerLedger | None, catalog: Catalog, zone: ZoneInfo, now: int, balance_url: str
) -> dict[str, Any]:
    """The page a payment ends on: what was paid, how much; for a purchase, the email its receipt goes to; for a
    debt, what else is still owed (not the payer's email: a pay link may be paid by someone else for the client)."""
    if paid.debt_id:
        debt = next((d for d in ledger.debts if d.debt_id == paid.debt_id), None) if ledger else None
        what = debt_title(paid.debt_id, debt, Words(catalog, zone))
        owed = owed_items(ledger, catalog, zone, now, but=paid.debt_id) if ledger else []
    else:
        product = catalog.product(paid.sku)
        what = "Quote" if paid.sku == "quote" else product.name if product else "Prepaid support time"
        owed = []
    return {
        "kind": "debt" if paid.debt_id else "purchase",
        "status": paid.status,
        "what": what,
        "note": paid.note,
        "minutes": paid.minutes,
        "amount_cents": paid.amount_cents,
        "currency": paid.currency or catalog.shop.currency,
        "time_zone": zone.key,
        "email": "" if paid.debt_id else paid.email,
        "balance_url": balance_url,
        "owed_cents": sum(item["amount_cents"] for item in owed),
        "owed": owed,
    }
