"""What is owed: a notice, at most two reminders on set days, then collections; a payment stops it all, once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from ..domain.changes import debt_ref
from ..domain.client_email import client_email
from ..domain.debts import due_step, next_step_at
from ..domain.ledger import JournalEntry
from ..domain.money import format_cents
from ..domain.playbook_changes import collections_marked, debt_paid, notice_recorded, prepay_switched
from ..ports import UnbookedPayment
from .alerts import report_unbooked
from .errors import Conflict
from .purchases import foreign_currency
from .retry import replans

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..domain.debts import Debt, DunningSchedule, Step
    from ..ports import DebtPayment, LedgerStore


def notice_entry(debt: Debt, at: int, number: int, currency: str) -> JournalEntry:
    """The journal's record of a notice (number 1) or reminder (2, 3): the paper trail of asking."""
    what = "notice" if number == 1 else f"reminder {number - 1}"
    return JournalEntry(
        f"notice-{debt.debt_id}-{number}",
        "notice",
        at,
        "dunning",
        debt.minutes,
        debt.amount_cents,
        f"{what}: {format_cents(debt.amount_cents, currency)} owed for {debt.description}",
    )


@dataclass
class DunningReport:
    reminded: list[str] = field(default_factory=list)
    prepay: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)


def chase_debts(catalog: Catalog, store: LedgerStore, now: int | None = None) -> DunningReport:
    """Take every open debt whose next step has come one step on: reads only those, from the sparse index.

    A run that missed days sends one letter, the latest reminder due (collections then waits a day after it),
    never a string of them naming days already gone; a step already true is recorded, not announced.
    """
    at = now if now is not None else int(time.time())
    schedule, report = catalog.dunning_schedule(), DunningReport()
    for debt in store.chores("debt", at):
        current: Debt | None = debt
        for _ in range(3):  # at most a bill's move back to prepaying and one letter; each step taken once
            if current is None or (step := due_step(current, schedule, at)) is None:
                break
            if _take_step(catalog, store, schedule, current, step, at):
                getattr(report, {"remind": "reminded", "prepay": "prepay", "collections": "collections"}[step]).append(
                    f"{current.email} {current.debt_id}"
                )
            current = store.find(debt_ref(current.email, current.debt_id))
    return report


def _take_step(
    catalog: Catalog, store: LedgerStore, schedule: DunningSchedule, debt: Debt, step: Step, at: int
) -> bool:
    """One step, recorded with its journal entry in one write; False if another run took it first, or it was
    already true (the report counts only what the client hears of)."""
    currency = catalog.shop.currency
    if step == "remind":
        after = replace(debt, notices=(*debt.notices, at))
        entry = notice_entry(debt, at, len(after.notices), currency)
        return store.commit(notice_recorded(debt, entry, next_step_at(after, schedule))).committed
    if step == "collections":
        after = replace(debt, collections_at=at)
        entry = JournalEntry(
            f"collections-{debt.debt_id}",
            "collections",
            at,
            "dunning",
            debt.minutes,
            debt.amount_cents,
            f"{format_cents(debt.amount_cents, currency)} unpaid after the last reminder: no new sessions until paid",
        )
        return store.commit(collections_marked(debt, entry, next_step_at(after, schedule))).committed
    account = store.account(debt.email)
    if account is None:
        return False
    after = replace(debt, prepay_at=at)
    already = account.trust_limit_minutes <= 0  # untrusted by hand before the grace days ran out: nothing to say
    entry = JournalEntry(
        f"prepay-{debt.debt_id}",
        "trust",
        at,
        "dunning",
        0,
        0,
        f"moved back to prepaying: the bill of {format_cents(debt.amount_cents, currency)} is unpaid after "
        f"{catalog.on_account.grace_days} days",
    )
    change = prepay_switched(debt, account, at, None if already else entry, next_step_at(after, schedule))
    return store.commit(change).committed and not already


def record_debt_payment(
    catalog: Catalog, store: LedgerStore, paid: DebtPayment
) -> Literal["credited", "duplicate", "ignored", "not_ours"]:
    """A pay link paid: the debt is cleared, its schedule stops and any collections mark goes. Once.

    Only a payment in the shop's currency counts as the shop's cents; any other is not booked.
    """
    email, debt_id = client_email(paid.email), paid.debt_id
    if paid.currency.lower() != catalog.shop.currency.lower():
        why = f"debt {debt_id}: {foreign_currency(catalog, paid.currency)}"
        report_unbooked(
            store,
            UnbookedPayment(
                paid.checkout_id, email, paid.payment_intent, paid.amount_cents, paid.currency, paid.at, why
            ),
        )
        return "not_ours"
    for _ in replans():
        debt = store.find(debt_ref(email, debt_id))
        if debt is None:
            return "ignored"
        if debt.status != "open":
            if debt.settled_by in ("", paid.payment_intent):  # this payment, delivered again
                return "duplicate"
            why = (
                f"debt {debt_id} was already settled ({debt.settled_by}) when this payment for it came: "
                "refund it to the client"
            )
            report_unbooked(
                store,
                UnbookedPayment(
                    paid.checkout_id, email, paid.payment_intent, paid.amount_cents, paid.currency, paid.at, why
                ),
            )
            return "not_ours"
        if paid.amount_cents < debt.amount_cents:
            return "ignored"
        entry = JournalEntry(
            f"payment-{debt_id}",
            "payment",
            paid.at,
            "stripe",
            debt.minutes,
            debt.amount_cents,
            f"{debt.description}: paid through the payment link",
        )
        if store.commit(debt_paid(debt, entry, paid.payment_intent or "link")):
            return "credited"
    raise Conflict("busy", f"{email}'s debt {debt_id} kept changing while its payment was recorded; retry")
