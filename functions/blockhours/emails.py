"""Every email Blockhours sends, in one place: plain text, signed with the shop's name.

Clients: purchase receipt, session statement, refund warning and confirmation, quote, debt notice and
reminders, collections, back to prepaying, payment received. The shop's owner (OwnerEmail, never the public
address in catalog.yaml): a failed refund, collections, a client back to prepaying, a payment that was not credited,
what reconcile found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import shop_time
from .domain.debts import pending_steps
from .domain.money import format_cents, format_minutes
from .statement import session_rows, text_lines

if TYPE_CHECKING:
    from .catalog import Catalog
    from .domain.debts import Debt, DunningSchedule
    from .domain.ledger import SessionRecord
    from .domain.quotes import Quote


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str


def format_day(epoch: int) -> str:
    """A date in a client's email, in the shop's time zone (BLOCKHOURS_TIME_ZONE)."""
    return shop_time.day(epoch)


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
        f"  {product}: {format_minutes(minutes)} for {format_cents(amount_cents, currency)}, {format_day(at)}\n\n"
        f"Your balance, with every session and what is left, is here:\n{balance_url}\n\n"
        "Whatever you do not use is refunded to your card; nothing is ever forfeited.\n"
    )
    return Email(
        email, f"{catalog.shop.name}: {format_minutes(minutes)} added to your balance", text + _signature(catalog)
    )


def session_statement(catalog: Catalog, record: SessionRecord, site_url: str) -> Email:
    """After every session: what was done, its row of the client's statement, and what is left (with a top-up link
    when low, unless the session ran on account)."""
    currency = catalog.shop.currency
    lines = [
        f"Here is the statement for your remote session on {format_day(record.at)}.",
        "",
        f"  Technician:   {record.technician}",
        f"  Work done:    {record.note or '-'}",
        f"  Time:         {record.requested_minutes} min, billed {format_minutes(record.billed_minutes)}"
        f" (in {catalog.billing.increment_minutes}-minute steps)",
        "",
        *text_lines((replace(row, note="") for row in session_rows(record, catalog)), currency),  # note: above
    ]
    lines += [
        "",
        f"Balance left: {format_minutes(record.balance_minutes_after)}"
        f" ({format_cents(record.balance_cents_after, currency)})",
    ]
    if record.overage_status == "owed" and record.overage_no_card:  # nothing was asked of any card: say so
        lines += [
            "",
            f"No card is saved on your account for us to charge the {format_cents(record.overage_cents, currency)}"
            " beyond your balance. Please pay it by the link:",
            f"{record.pay_url}",
        ]
    elif record.overage_status == "owed":
        lines += [
            "",
            f"We could not charge your card for the {format_cents(record.overage_cents, currency)} beyond your"
            f" balance ({record.overage_problem}). Please pay it here:",
            f"{record.pay_url}",
        ]
    # A client using time on account pays afterwards: no prompt to prepay more.
    if record.balance_minutes_after < catalog.billing.low_balance_minutes and not record.on_account_minutes:
        lines += ["", f"Your balance is running low. Top it up here: {site_url.rstrip('/')}/"]
    subject = f"{catalog.shop.name}: session of {format_minutes(record.billed_minutes)} on {format_day(record.at)}"
    return Email(record.email, subject, "\n".join(lines) + "\n" + _signature(catalog))


def refund_warning(catalog: Catalog, email: str, amount_cents: int, due_at: int, site_url: str) -> Email:
    currency = catalog.shop.currency
    text = (
        f"You have {format_cents(amount_cents, currency)} of prepaid support time that has not been used for a"
        f" while. On {format_day(due_at)} we will refund it to the card you paid with, as our client agreement"
        " promises.\n\nNothing to do if that suits you. To keep it for your next session instead, just book one"
        f" before then: {site_url.rstrip('/')}/\n"
    )
    return Email(
        email,
        f"{catalog.shop.name}: your unused balance will be refunded on {format_day(due_at)}",
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


def refund_failed_alert(catalog: Catalog, owner_email: str, email: str, amount_cents: int, why: str) -> Email:
    """To the shop: a refund came back; the money is on the client's balance again, and someone should call."""
    text = (
        f"A refund of {format_cents(amount_cents, catalog.shop.currency)} to {email} failed: {why}.\n"
        "The amount is back on the client's balance. Contact the client for another way to pay it back,"
        " then refund it again (`blockhours refund EMAIL`).\n"
    )
    return Email(owner_email, f"Blockhours: a refund to {email} failed", text)


def payment_not_booked_alert(catalog: Catalog, owner_email: str, alert: Mapping[str, Any]) -> Email:
    """To the shop: Stripe received money the ledger will not book as the shop's; someone must decide."""
    currency = str(alert.get("currency", ""))
    amount = f"{format_cents(int(alert.get('amount_cents', 0)), currency)} {currency.upper()}"
    text = (
        f"Stripe received {amount} from {alert.get('email') or 'an unknown client'} "
        f"(checkout {alert.get('checkout_id')}, payment {alert.get('payment_intent')}), and Blockhours did not "
        f"credit it: {alert.get('why')}.\n"
        "Nothing was added to any balance. Look at the payment in the Stripe dashboard: refund it there, or open "
        "the right checkout for the client and refund this one.\n"
    )
    return Email(owner_email, "Blockhours: a payment was not credited", text)


def reconcile_alert(catalog: Catalog, owner_email: str, alert: Mapping[str, Any]) -> Email:
    """To the shop: reconcile found the ledger and Stripe (or the ledger and itself) disagreeing; what to do."""
    count, listed = int(alert.get("discrepancy_count", 0)), list(alert.get("discrepancies", []))
    lines = [
        f"Reconcile checked {alert.get('accounts')} accounts against their lots, journal and Stripe, and found "
        f"{count} {'discrepancy' if count == 1 else 'discrepancies'}:",
        "",
    ]
    for found in listed:
        lines += [f"- {found.get('email')}: {found.get('what')}", f"  what to do: {found.get('todo')}"]
    if count > len(listed):
        lines.append(f"... and {count - len(listed)} more.")
    lines += ["", f"`blockhours job {alert.get('job_id')}` lists them all; `blockhours reconcile` checks again."]
    subject = f"Blockhours: reconcile found {count} {'discrepancy' if count == 1 else 'discrepancies'}"
    return Email(owner_email, subject, "\n".join(lines) + "\n")


def quote_offer(catalog: Catalog, quote: Quote) -> Email:
    """The quote with its payment page: what the work is estimated at, and what happens after it."""
    currency, rate = catalog.shop.currency, catalog.shop.hourly_rate_cents
    lines = [
        f"Here is our quote for {quote.note or 'the work we discussed'}.",
        "",
        f"  Estimate: {format_minutes(quote.minutes)} at {format_cents(rate, currency)} an hour"
        f" = {format_cents(quote.amount_cents, currency)}",
        f"  Quote:    {quote.quote_id}, valid until {format_day(quote.expires_at)}",
        "",
        "Pay it here, before we start (your card is saved for the final settlement):",
        quote.pay_url,
        "",
        "When the work is done we settle: time not used is refunded to your card, and time beyond the"
        " estimate is charged to it at the same rate. You get a statement after every session.",
        f"Paying means you agree to our client agreement (version {quote.terms_version}).",
    ]
    subject = (
        f"{catalog.shop.name}: quote for {format_minutes(quote.minutes)}, {format_cents(quote.amount_cents, currency)}"
    )
    return Email(quote.email, subject, "\n".join(lines) + "\n" + _signature(catalog))


_STEP_WORDS = {
    "remind": "we send a reminder",
    "prepay": "your account goes back to prepaying: no more sessions on account",
    "collections": "your account goes to collections: no new sessions until it is paid",
}


def debt_notice(catalog: Catalog, debt: Debt, schedule: DunningSchedule) -> Email:
    """The notice (the first of `debt.notices`) or a reminder: the amount, the earlier dates, the link, what next."""
    currency, number = catalog.shop.currency, len(debt.notices)
    amount = format_cents(debt.amount_cents, currency)
    if debt.no_card:  # no card was tried: none is saved that could pay it
        why = "No card is saved on your account for us to charge, so please pay it by the link below."
        lines = [f"{amount} is due for {debt.description}.", why, ""]
    else:
        what = "a bill" if debt.kind == "bill" else "a payment we could not take from your card"
        lines = [f"This is {what}: {amount} for {debt.description}.", ""]
    if number > 1:
        earlier = ", ".join(format_day(at) for at in debt.notices[:-1])
        lines += [f"This is reminder {number - 1}; we wrote to you about it on {earlier}.", ""]
    lines += ["Pay it here, by card:", debt.pay_url, "", "If it is still unpaid:"]
    lines += [f"  - on {format_day(at)} {_STEP_WORDS[step]}" for at, step in pending_steps(debt, schedule)]
    lines += ["", "Paying at any time stops all of this. Questions? Just reply to this email."]
    subject = (
        f"{catalog.shop.name}: {amount} due"
        if number == 1
        else f"{catalog.shop.name}: reminder {number - 1}, {amount} due"
    )
    return Email(debt.email, subject, "\n".join(lines) + "\n" + _signature(catalog))


def debt_in_collections(catalog: Catalog, owner_email: str, debt: Debt) -> list[Email]:
    """The last step: the client is told their account is on hold; the shop, that it is in `blockhours debts`."""
    amount = format_cents(debt.amount_cents, catalog.shop.currency)
    dates = ", ".join(format_day(at) for at in debt.notices)
    client = (
        f"We wrote to you about {amount} for {debt.description} on {dates}, and it is still unpaid.\n\n"
        "Your account is now in collections: we cannot start new sessions until it is paid. Paying clears"
        f" this at once:\n{debt.pay_url}\n"
    )
    shop = (
        f"{debt.email} has not paid {amount} ({debt.description}) after the notice and every reminder ({dates}).\n"
        "The account takes no new sessions until it is paid; `blockhours debts` lists it with its history.\n"
    )
    return [
        Email(debt.email, f"{catalog.shop.name}: {amount} unpaid, account on hold", client + _signature(catalog)),
        Email(owner_email, f"Blockhours: {debt.email} is in collections ({amount})", shop),
    ]


def back_to_prepay(catalog: Catalog, owner_email: str, debt: Debt) -> list[Email]:
    """A bill unpaid past its grace days: the client prepays again, and the shop is told."""
    amount = format_cents(debt.amount_cents, catalog.shop.currency)
    days = catalog.on_account.grace_days
    client = (
        f"Your bill of {amount} ({debt.description}) is unpaid after {days} days, so from now on sessions are"
        " paid ahead, from prepaid time. The bill can still be paid here:\n"
        f"{debt.pay_url}\n"
    )
    shop = (
        f"{debt.email} has not paid the bill of {amount} after {days} days: they are back to prepaying"
        f" (no more sessions on account). `blockhours trust {debt.email} --limit MINUTES` trusts them again.\n"
    )
    return [
        Email(debt.email, f"{catalog.shop.name}: sessions are prepaid again", client + _signature(catalog)),
        Email(owner_email, f"Blockhours: {debt.email} moved back to prepaying", shop),
    ]


def debt_paid(catalog: Catalog, debt: Debt) -> Email:
    amount = format_cents(debt.amount_cents, catalog.shop.currency)
    text = f"Thank you: we received {amount} for {debt.description}. Nothing more is owed for it.\n"
    return Email(debt.email, f"{catalog.shop.name}: payment received, thank you", text + _signature(catalog))
