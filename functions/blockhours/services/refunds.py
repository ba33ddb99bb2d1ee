"""Refunds: set the unused money aside, ask Stripe per lot, record what Stripe answers — once each."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from ..domain.account_rules import may_refund
from ..domain.changes import account_ref, payment_ref, refund_ref
from ..domain.client_email import client_email
from ..domain.ledger import JournalEntry, LotShare, RefundRecord
from ..domain.lots import fifo_order, minutes_worth
from ..domain.money import format_cents
from ..domain.payment_changes import payment_owner
from ..domain.refund_changes import (
    outside_refund_recorded,
    refund_part_given_back,
    refund_part_recorded,
    refund_requested,
)
from ..domain.refunds import NothingToRefund, RefundPart, give_back, plan_refund
from .errors import Conflict, NotFound
from .retry import replans
from .set_off import pay_debts_from_balance

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..domain.ledger import RefundReason
    from ..domain.lots import Lot
    from ..domain.refunds import Scope
    from ..ports import LedgerStore, PaymentGateway, StripeRefund


def request_refund(
    catalog: Catalog,
    store: LedgerStore,
    email: str,
    reason: RefundReason,
    actor: str,
    minutes: int | None = None,
    scope: Scope = "all",
    now: int | None = None,
) -> RefundRecord:
    """Move the refund out of the spendable balance and record it, in one transaction; the worker does the rest."""
    email = client_email(email)
    at = now if now is not None else int(time.time())
    read = pay_debts_from_balance(store, email, catalog.shop.currency, at)  # what is owed comes first
    refund_id = uuid.uuid4().hex[:20]
    for attempt in replans():
        lots = read.lots if read is not None and attempt == 0 else store.lots(email)
        if not lots:
            raise NotFound("unknown_customer", f"{email} has not bought any time; there is nothing to refund")
        try:
            parts, after, stranded = _plan(lots, minutes, scope)
        except NothingToRefund as nothing:
            raise Conflict("nothing_to_refund", f"{email}: {nothing}") from nothing
        total = sum(part.amount_cents for part in parts)
        if reason != "staff" and total < catalog.refunds.minimum_refund_cents and not stranded:
            raise Conflict(
                "below_minimum",
                f"{format_cents(total, catalog.shop.currency)} is below the shop's minimum refund of "
                f"{format_cents(catalog.refunds.minimum_refund_cents, catalog.shop.currency)}; it stays on the "
                "balance for the next session and is never forfeited",
            )
        record = RefundRecord(refund_id, email, reason, at, tuple(parts))
        open_lots = {lot.lot_id for lot in lots if lot.closed_at is None}
        spendable = (
            sum(p.minutes for p in parts if p.lot_id in open_lots),
            sum(p.amount_cents for p in parts if p.lot_id in open_lots),
        )
        entry = JournalEntry(
            f"refund-{refund_id}",
            "refund-requested",
            at,
            actor,
            record.minutes,
            total,
            f"refund to the card ({reason})",
            tuple(LotShare(p.lot_id, p.minutes, p.amount_cents) for p in parts),
        )
        if store.commit(refund_requested(record, lots, after, entry, spendable)):
            return record
        if (refusal := may_refund(store.account(email))) is not None:
            raise Conflict(refusal.code, refusal.message)
    raise Conflict("busy", f"{email}'s balance kept changing while the refund was set aside; ask again")


def _plan(lots: list[Lot], minutes: int | None, scope: Scope) -> tuple[list[RefundPart], list[Lot], bool]:
    """The domain's plan and, when everything is refunded, the cents a lot holds with no minute left to carry them.

    A dashboard refund of part of a lot's last minute takes no minute; if it fails after that minute was used or
    refunded, its cents return to a lot with no minutes. They can never be spent, so they go back to the card
    however small (the shop's minimum would forfeit them). The parts, the lots after, and whether there were any.
    """
    stranded = [
        lot
        for lot in reversed(fifo_order(lots))
        if minutes is None
        and lot.remaining_minutes == 0
        and lot.remaining_cents > 0
        and (scope == "all" or lot.closed_at is not None)
    ]
    try:
        parts, after = plan_refund(lots, minutes, scope)
    except NothingToRefund:
        if not stranded:
            raise
        parts, after = [], list(lots)
    parts += [RefundPart(lot.lot_id, lot.payment_intent, 0, lot.remaining_cents) for lot in stranded]
    emptied = {lot.lot_id: replace(lot, refunded_cents=lot.refunded_cents + lot.remaining_cents) for lot in stranded}
    return parts, [emptied.get(lot.lot_id, lot) for lot in after], bool(stranded)


def _refunded_entry(record: RefundRecord, part: RefundPart, at: int) -> JournalEntry:
    return JournalEntry(
        f"refunded-{record.refund_id}-{part.lot_id}",
        "refunded",
        at,
        "stripe",
        part.minutes,
        part.amount_cents,
        f"refunded to the card ({part.stripe_refund_id})",
        (LotShare(part.lot_id, part.minutes, part.amount_cents),),
    )


def _give_back(store: LedgerStore, email: str, refund_id: str, lot_id: str, failure: str, at: int) -> bool:
    """A part Stripe could not refund: its money back on its lot, once; False if that was done already.

    The write holds only while the lot is as read: a session or another refund on it in between reads it again.
    """
    for _ in replans():
        record = store.find(refund_ref(email, refund_id))
        index = next((i for i, p in enumerate(record.parts) if p.lot_id == lot_id), None) if record else None
        if record is None or index is None or record.parts[index].status == "failed":
            return False
        part = record.parts[index]
        lot = next(lot for lot in store.lots(email) if lot.lot_id == lot_id)
        entry = JournalEntry(
            f"refund-failed-{refund_id}-{lot_id}",
            "refund-failed",
            at,
            "stripe",
            part.minutes,
            part.amount_cents,
            f"the refund of {format_cents(part.amount_cents)} could not be made ({failure}); it is back on the balance",
            (LotShare(lot_id, part.minutes, part.amount_cents),),
        )
        if store.commit(refund_part_given_back(record, index, lot, give_back(lot, part), failure, entry)):
            return True
    raise Conflict("busy", f"{email}'s balance kept changing while a failed refund was given back; retry")


def process_refund(
    store: LedgerStore, gateway: PaymentGateway, email: str, refund_id: str, now: int | None = None
) -> RefundRecord | None:
    """The worker's step: every part still to do goes to Stripe (found, not redone, if already made).

    Nothing is sent while the account is on hold for a dispute: the money stays set aside, and the refund
    goes on when the account thaws (or is cancelled, part by part, if the dispute is lost).
    """
    at = now if now is not None else int(time.time())
    found, account = store.find_many(refund_ref(email, refund_id), account_ref(email))
    record: RefundRecord | None = found
    if record is None:
        return None
    if may_refund(account) is not None:  # on hold: the money stays set aside until the account thaws
        return record
    for index, part in enumerate(record.parts):
        if part.status != "requested":
            continue
        made = gateway.refund_part(refund_id, part, email)
        if made.status in ("failed", "canceled"):
            failure = made.failure or "Stripe refused the refund"
            recorded = _give_back(store, email, refund_id, part.lot_id, failure, at)
            done = replace(part, status="failed", failure=failure)
        else:
            done = replace(
                part, status="succeeded" if made.status == "succeeded" else "pending", stripe_refund_id=made.id
            )
            entry = _refunded_entry(record, done, at) if done.status == "succeeded" else None
            recorded = store.commit(refund_part_recorded(record, index, done, entry)).committed
        if recorded:
            parts = list(record.parts)
            parts[index] = done
            record = replace(record, parts=tuple(parts))
            record = replace(record, status=record.settled_status())
        else:  # another delivery of this message got there first: its record is the one that counts
            record = store.find(refund_ref(email, refund_id)) or record
    return record


RefundOutcome = Literal["recorded", "duplicate", "ignored", "unknown_payment"]


def stripe_refund_changed(store: LedgerStore, refund: StripeRefund, at: int) -> RefundOutcome:
    """refund.created/updated/failed and charge.refunded, for one Stripe refund: into the ledger once.

    "unknown_payment": no lot has the refund's PaymentIntent yet (its credit has not arrived).
    """
    owner = payment_owner(store.find(payment_ref(refund.payment_intent)))
    if owner is None:
        return "unknown_payment"
    email, lot_id = owner
    if refund.refund_id:
        record = store.find(refund_ref(email, refund.refund_id))
        if record is None:
            return "ignored"
        index = next((i for i, p in enumerate(record.parts) if p.lot_id == refund.lot_id), None)
        if index is None:
            return "ignored"
        part = record.parts[index]
        if refund.status in ("failed", "canceled"):
            given = part.status != "failed" and _give_back(
                store, email, record.refund_id, part.lot_id, refund.failure, at
            )
            return "recorded" if given else "duplicate"
        if refund.status == "succeeded" and part.status in ("requested", "pending"):
            done = replace(part, status="succeeded", stripe_refund_id=refund.id)
            return (
                "recorded"
                if store.commit(refund_part_recorded(record, index, done, _refunded_entry(record, done, at)))
                else "duplicate"
            )
        return "duplicate"
    if refund.status in ("failed", "canceled"):
        return _outside_refund_failed(store, refund, email, lot_id, at)
    return _outside_refund(store, refund, email, lot_id, at)


def _outside_refund(store: LedgerStore, refund: StripeRefund, email: str, lot_id: str, at: int) -> RefundOutcome:
    """A refund made elsewhere (the Stripe dashboard): off its lot, once; charge.refunded lists it again and again."""
    for _ in replans():
        ledger = store.customer(email)
        lot = next((lot for lot in ledger.lots if lot.lot_id == lot_id), None) if ledger else None
        if ledger is None or lot is None:
            return "ignored"
        seen = {f"refunded-outside-{refund.id}", f"refund-failed-outside-{refund.id}"}
        if any(e.entry_id in seen for e in ledger.entries):  # recorded, or known to have failed before it was
            return "duplicate"
        minutes = minutes_worth(lot, refund.amount_cents)
        after = replace(
            lot,
            refunded_minutes=lot.refunded_minutes + minutes,
            refunded_cents=lot.refunded_cents + refund.amount_cents,
        )
        entry = JournalEntry(
            f"refunded-outside-{refund.id}",
            "refunded",
            at,
            "stripe dashboard",
            minutes,
            refund.amount_cents,
            f"refunded outside Blockhours ({refund.id})",
            (LotShare(lot.lot_id, minutes, refund.amount_cents),),
        )
        if store.commit(outside_refund_recorded(refund.id, email, lot, after, entry)):
            return "recorded"
        # the lot changed since it was read (a session, a refund), or another delivery recorded it: read again
    raise Conflict("busy", f"{email}'s balance kept changing while a refund made in Stripe was recorded; retry")


def _outside_refund_failed(store: LedgerStore, refund: StripeRefund, email: str, lot_id: str, at: int) -> RefundOutcome:
    """A dashboard refund the bank sent back: what the ledger took for it returns to its lot, once.

    Its failure may arrive before its creation: then it is recorded as failed with nothing taken, and the
    late `refund.created` finds it and changes nothing.
    """
    for _ in replans():
        ledger = store.customer(email)
        entries = {e.entry_id: e for e in ledger.entries} if ledger else {}
        taken = entries.get(f"refunded-outside-{refund.id}")
        lot = next((lot for lot in ledger.lots if lot.lot_id == lot_id), None) if ledger else None
        if lot is None:
            return "ignored"
        if f"refund-failed-outside-{refund.id}" in entries:
            return "duplicate"
        if taken is None:
            failed_first = JournalEntry(
                f"refund-failed-outside-{refund.id}",
                "refund-failed",
                at,
                "stripe dashboard",
                0,
                0,
                f"a refund made outside Blockhours ({refund.id}) failed before it was recorded; nothing was taken",
            )
            if store.commit(outside_refund_recorded(refund.id, email, lot, lot, failed_first)):
                return "recorded"
            continue
        after = replace(
            lot,
            refunded_minutes=lot.refunded_minutes - taken.minutes,
            refunded_cents=lot.refunded_cents - taken.amount_cents,
        )
        entry = JournalEntry(
            f"refund-failed-outside-{refund.id}",
            "refund-failed",
            at,
            "stripe dashboard",
            taken.minutes,
            taken.amount_cents,
            f"the refund made outside Blockhours ({refund.id}) failed ({refund.failure or 'no reason given'}); "
            "it is back on the balance",
            (LotShare(lot.lot_id, taken.minutes, taken.amount_cents),),
        )
        if store.commit(outside_refund_recorded(f"{refund.id}-failed", email, lot, after, entry)):
            return "recorded"
    raise Conflict("busy", f"{email}'s balance kept changing while a failed Stripe refund was given back; retry")
