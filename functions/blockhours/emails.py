"""Every email a client gets, in one place: plain text, signed with the shop's name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from .catalog import Catalog
from .domain.ledger import SessionRecord
from .domain.money import format_cents, format_minutes


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str


def _date(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d %b %Y")


def _signature(catalog: Catalog) -> str:
    shop = catalog.shop
    contact = " · ".join(part for part in (shop.email, shop.phone, shop.hours) if part)
    return f"\n-- \n{shop.name}\n{contact}\n"


def purchase_receipt(
    catalog: Catalog, email: str, product: str, minutes: int, amount_cents: int, at: int, balance_url: str
) -> Email:
    currency = catalog.shop.currency
    text = (
        f"Thank you for your purchase.\n\n"
        f"  {product}: {format_minutes(minutes)} for {format_cents(amount_cents, currency)}, {_date(at)}\n\n"
        f"Your balance, with every session and what is left, is here:\n{balance_url}\n\n"
        "Whatever you do not use is refunded to your card; nothing is ever forfeited.\n"
    )
    return Email(
        email, f"{catalog.shop.name}: {format_minutes(minutes)} added to your balance", text + _signature(catalog)
    )


def session_statement(catalog: Catalog, record: SessionRecord, site_url: str) -> Email:
    """After every session: what was done, what it cost, and what is left (with a top-up link when low)."""
    currency = catalog.shop.currency
    lines = [
        f"Here is the statement for your remote session on {_date(record.at)}.",
        "",
        f"  Technician:   {record.technician}",
        f"  Work done:    {record.note or '-'}",
        f"  Time:         {record.requested_minutes} min, billed {format_minutes(record.billed_minutes)}"
        f" (in {catalog.billing.increment_minutes}-minute steps)",
        f"  From balance: {format_minutes(record.covered_minutes)} ({format_cents(record.covered_cents, currency)})",
    ]
    if record.overage_minutes:
        beyond = f"  Beyond your balance: {format_minutes(record.overage_minutes)}"
        beyond += f" = {format_cents(record.overage_cents, currency)}"
        if record.overage_status in ("charged", "paid"):
            beyond += ", charged to the card you saved at checkout"
        lines.append(beyond)
    lines += [
        "",
        f"Balance left: {format_minutes(record.balance_minutes_after)}"
        f" ({format_cents(record.balance_cents_after, currency)})",
    ]
    if record.overage_status == "owed":
        lines += [
            "",
            f"We could not charge your card for the {format_cents(record.overage_cents, currency)} beyond your"
            f" balance ({record.overage_problem}). Please pay it here:",
            f"{record.pay_url}",
        ]
    if record.balance_minutes_after < catalog.billing.low_balance_minutes:
        lines += ["", f"Your balance is running low. Top it up here: {site_url.rstrip('/')}/"]
    subject = f"{catalog.shop.name}: session of {format_minutes(record.billed_minutes)} on {_date(record.at)}"
    return Email(record.email, subject, "\n".join(lines) + "\n" + _signature(catalog))


def refund_warning(catalog: Catalog, email: str, amount_cents: int, due_at: int, site_url: str) -> Email:
    currency = catalog.shop.currency
    text = (
        f"You have {format_cents(amount_cents, currency)} of prepaid support time that has not been used for a"
        f" while. On {_date(due_at)} we will refund it to the card you paid with, as our client agreement"
        " promises.\n\nNothing to do if that suits you. To keep it for your next session instead, just book one"
        f" before then: {site_url.rstrip('/')}/\n"
    )
    return Email(
        email,
        f"{catalog.shop.name}: your unused balance will be refunded on {_date(due_at)}",
        text + _signature(catalog),
    )


def refund_confirmation(catalog: Catalog, email: str, amount_cents: int, minutes: int, reason: str) -> Email:
    why = {
        "client": "as you asked",
        "settle": "now that your deposit is settled",
        "stale": "because it had not been used for a while",
        "staff": "at the shop's request",
    }.get(reason, "")
    text = (
        f"We are refunding {format_cents(amount_cents, catalog.shop.currency)} ({format_minutes(minutes)} of unused"
        f" time) to the card you paid with, {why}. Card refunds usually appear within 5 to 10 business days.\n"
    )
    return Email(
        email,
        f"{catalog.shop.name}: {format_cents(amount_cents, catalog.shop.currency)} on its way back to your card",
        text + _signature(catalog),
    )


def refund_failed_alert(catalog: Catalog, email: str, amount_cents: int, why: str) -> Email:
    """To the shop: a refund came back; the money is on the client's balance again, and someone should call."""
    text = (
        f"A refund of {format_cents(amount_cents, catalog.shop.currency)} to {email} failed: {why}.\n"
        "The amount is back on the client's balance. Contact the client for another way to pay it back,"
        " then refund it again (`blockhours refund EMAIL`).\n"
    )
    return Email(catalog.shop.email, f"Blockhours: a refund to {email} failed", text)
