"""Reconcile: the ledger against itself and against Stripe, one account and every lot of it at a time (the
jobs in services/jobs.py walk every account); and what refunds still wait for the worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.account_rules import may_refund
from ..domain.audit import audit
from ..domain.jobs import Discrepancy
from ..domain.money import format_cents
from ..domain.parked import PARKED_TOO_LONG_SECONDS
from ..emails import format_day
from ..ports import GatewayError, PaymentUnknown

if TYPE_CHECKING:
    from ..domain.ledger import CustomerLedger
    from ..domain.lots import Lot
    from ..ports import LedgerStore, PaymentGateway

# What the journal adds or takes away from what the lots still hold.
_JOURNAL_SIGN = {
    "purchase": 1,
    "redemption": -1,
    "refund-requested": -1,
    "refund-failed": 1,
    "chargeback": -1,
    "set-off": -1,
    "reinstated": 1,
}


def _ledger_checks(ledger: CustomerLedger) -> list[Discrepancy]:
    account, email, found = ledger.account, ledger.account.email, []
    open_lots = [lot for lot in ledger.lots if lot.closed_at is None]
    spendable = (sum(lot.spendable_minutes for lot in open_lots), sum(lot.remaining_cents for lot in open_lots))
    if (account.available_minutes, account.available_cents) != spendable:
        found.append(
            Discrepancy(
                email,
                f"the account shows {account.available_minutes} min / {format_cents(account.available_cents)} "
                f"available but its lots hold {spendable[0]} min / {format_cents(spendable[1])}",
                "the lots are the truth: correct the account's available_minutes and available_cents to match",
            )
        )
    for wrong in audit(ledger):  # every other field the lots, refunds and debts determine
        if wrong.field in ("available_minutes", "available_cents"):
            continue  # said above, both at once
        found.append(
            Discrepancy(
                email,
                f"the account's {wrong.field} is {wrong.stored}; its lots, refunds and debts make it {wrong.derived}",
                f"the items are the truth: correct {wrong.field} to {wrong.derived}, or find the entry that is missing",
            )
        )
    journal = sum(_JOURNAL_SIGN.get(e.kind, 0) * e.amount_cents for e in ledger.entries)
    journal -= sum(e.amount_cents for e in ledger.entries if e.kind == "refunded" and e.actor == "stripe dashboard")
    held = sum(lot.remaining_cents for lot in ledger.lots)
    if journal != held:
        found.append(
            Discrepancy(
                email,
                f"the journal adds up to {format_cents(journal)} but the lots hold {format_cents(held)}",
                "an entry is missing: compare the journal with the lots and add a correcting entry",
            )
        )
    for lot in ledger.lots:
        if lot.remaining_cents < 0:
            found.append(
                Discrepancy(
                    email, f"lot {lot.lot_id} gave back more than was left ({lot.remaining_cents})", "review it"
                )
            )
    return found


def _stripe_checks(ledger: CustomerLedger, gateway: PaymentGateway) -> list[Discrepancy]:
    email, found = ledger.account.email, []
    waiting: dict[str, int] = {}  # per lot, what refunds still waiting for the worker hold: they may be several
    for part in (part for refund in ledger.refunds for part in refund.parts if part.status == "requested"):
        waiting[part.lot_id] = waiting.get(part.lot_id, 0) + part.amount_cents
    for lot in ledger.lots:
        try:
            received = gateway.amount_received(lot.payment_intent)
        except GatewayError as exc:  # one payment Stripe cannot show must not stop the audit of the rest
            found.append(_unchecked(email, lot, exc))
            continue
        if received != lot.amount_cents:
            found.append(
                Discrepancy(
                    email,
                    f"lot {lot.lot_id}: Stripe received {format_cents(received)} on {lot.payment_intent}, "
                    f"the lot says {format_cents(lot.amount_cents)}",
                    "look at the payment in the Stripe dashboard before anything else",
                )
            )
        at_stripe = sum(
            r.amount_cents for r in gateway.refunds_of(lot.payment_intent) if r.status in ("succeeded", "pending")
        )
        expected = lot.refunded_cents - waiting.get(lot.lot_id, 0)
        if at_stripe != expected:
            found.append(
                Discrepancy(
                    email,
                    f"lot {lot.lot_id}: Stripe has refunded {format_cents(at_stripe)} of {lot.payment_intent}, "
                    f"the ledger {format_cents(expected)}",
                    "a refund was made or lost outside the ledger: resend its webhook from the Stripe dashboard",
                )
            )
    for refund in ledger.refunds if may_refund(ledger.account) is None else []:  # on hold: waits by design
        if any(part.status == "requested" for part in refund.parts):
            found.append(
                Discrepancy(
                    email,
                    f"refund {refund.refund_id} ({format_cents(refund.amount_cents)}) has not reached Stripe yet",
                    "if it is more than an hour old, `blockhours reconcile --requeue` sends it to the worker again",
                )
            )
    return found


def _unchecked(email: str, lot: Lot, exc: GatewayError) -> Discrepancy:
    if isinstance(exc, PaymentUnknown):
        return Discrepancy(
            email,
            f"lot {lot.lot_id}: Stripe does not know its payment {lot.payment_intent} "
            f"({format_cents(lot.amount_cents)} for {lot.minutes} min)",
            "check that STRIPE_API_KEY is the key (live or test) of the account that took this payment; if the "
            "payment is really gone, look for it in the Stripe dashboard and correct the lot with an entry",
        )
    return Discrepancy(
        email,
        f"lot {lot.lot_id}: its payment {lot.payment_intent} could not be checked at Stripe ({exc})",
        "run reconcile again in a few minutes",
    )


def parked_too_long(store: LedgerStore, now: int) -> list[Discrepancy]:
    """Stripe events still waiting, over an hour on, for a payment the ledger never credited."""
    return [
        Discrepancy(
            "(no client yet)",
            f"{event.event_type} for {event.payment_intent} parked since {format_day(event.at)}: "
            "the payment it refers to was never credited",
            "find the payment in the Stripe dashboard: resend its checkout.session.completed event, or refund it",
        )
        for event in store.waiting_parked()
        if event.at < now - PARKED_TOO_LONG_SECONDS
    ]


def check_account(ledger: CustomerLedger, gateway: PaymentGateway) -> list[Discrepancy]:
    """What disagrees in one account: its balance, lots and journal with each other, and each lot with Stripe."""
    return _ledger_checks(ledger) + _stripe_checks(ledger, gateway)


def waiting_refunds(ledger: CustomerLedger) -> list[str]:
    """Refunds of this account still waiting for the worker (some part not yet sent to Stripe), to queue again."""
    return [refund.refund_id for refund in ledger.refunds if any(part.status == "requested" for part in refund.parts)]
