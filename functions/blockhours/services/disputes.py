"""Card disputes: the account is on hold while one is open; a lost one takes the money back out.

Every dispute event (created, updated, funds withdrawn or reinstated, closed) is a fact about one
dispute; the domain decides what it changes, and the change is written at once or not at all. No
session and no refund runs on an account on hold; refunds that were waiting go on when it thaws.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from ..domain.changes import debt_ref, dispute_ref, payment_ref
from ..domain.client_email import client_email
from ..domain.debts import Debt
from ..domain.dispute_changes import debt_waived, dispute_recorded, hold_released, thawed
from ..domain.disputes import Dispute, WaitingPart, apply_fact, describe, fact_of
from ..domain.ledger import JournalEntry, LotShare
from ..domain.money import format_cents
from ..domain.payment_changes import payment_owner
from .errors import Conflict, NotFound
from .retry import replans

if TYPE_CHECKING:
    from ..domain.disputes import DisputeChange, DisputeFact
    from ..domain.ledger import CustomerLedger, EntryKind
    from ..ports import LedgerStore


def dispute_changed(
    store: LedgerStore,
    dispute_id: str,
    payment_intent: str,
    amount_cents: int,
    status: str,
    event_type: str,
    at: int,
) -> Literal["recorded", "duplicate", "unknown_payment"]:
    """One dispute event into the ledger, once; "unknown_payment" when no lot has this PaymentIntent (yet)."""
    owner = payment_owner(store.find(payment_ref(payment_intent)))
    if owner is None:
        return "unknown_payment"
    email, lot_id = owner
    fact = fact_of(event_type, status)
    outcome: Literal["recorded", "duplicate"] = "duplicate"
    for _ in replans():
        ledger = store.customer(email)
        lot = next((lot for lot in ledger.lots if lot.lot_id == lot_id), None) if ledger else None
        if ledger is None or lot is None:
            return "unknown_payment"
        stored = store.find(dispute_ref(dispute_id))
        current = stored or Dispute(dispute_id, email, lot_id, payment_intent, amount_cents, status, at)
        change = apply_fact(current, fact, status, at, lot, _waiting(ledger, lot_id))
        if change is None:
            break
        entries = [_entry(change, fact_, at) for fact_ in change.facts]
        entries += [_cancelled_entry(part, lot_id, at) for part in change.cancelled]
        debt = _debt(change, at) if change.debt_opened else None
        waived = next((d for d in ledger.debts if d.debt_id == f"dispute-{dispute_id}"), None)
        statuses = _refund_statuses(ledger, change)
        waive = waived if change.debt_waived and waived is not None and waived.status == "open" else None
        if change.debt_waived and waive is None:  # settled already (waived by staff, set off): owed once, not twice
            change = replace(
                change, account=replace(change.account, owed_cents=change.account.owed_cents + change.after.owed_cents)
            )
        if store.commit(dispute_recorded(change, stored is not None, entries, statuses, debt, waive)):
            outcome = "recorded"
            break
    else:
        raise Conflict("busy", f"{email}'s balance kept changing while dispute {dispute_id} was recorded; retry")
    thaw(store, email, at)  # on every delivery: a retry finishes a thaw that stopped after the dispute's write
    return outcome


def thaw(store: LedgerStore, email: str, at: int) -> bool:
    """Active again when no dispute is open or held, and the refunds that waited go on; False if it stays."""
    ledger = store.customer(email)
    if ledger is None or ledger.account.status != "frozen":
        return False
    waiting = [r.refund_id for r in ledger.refunds if any(part.status == "requested" for part in r.parts)]
    return store.commit(thawed(email, waiting, at)).committed


def release(store: LedgerStore, email: str, actor: str, at: int) -> CustomerLedger:
    """Staff release an account held after a lost dispute: sessions and refunds may run again."""
    email = client_email(email)
    account = store.account(email)
    if account is None:
        raise NotFound("unknown_customer", f"no customer with email {email} has bought anything")
    if account.dispute_holds <= 0:
        if thaw(store, email, at):  # a release retried after its first write: finish it
            found_ledger = store.customer(email)
            assert found_ledger is not None
            return found_ledger
        raise Conflict(
            "not_on_hold",
            f"{email} is not on hold for a lost dispute"
            + (" (a dispute is still open: it thaws when the dispute closes)" if account.open_disputes > 0 else ""),
        )
    entry = JournalEntry(f"released-{at}", "dispute", at, actor, 0, 0, "released by the shop after a lost dispute")
    store.commit(hold_released(email, entry))
    thaw(store, email, at)
    found = store.customer(email)
    assert found is not None
    return found


def waive(store: LedgerStore, email: str, debt_id: str, actor: str, at: int) -> CustomerLedger:
    """Staff waive what a lost dispute left owed (time already used): the client owes it no more."""
    email = client_email(email)
    debt = store.find(debt_ref(email, debt_id))
    if debt is None or debt.kind != "dispute":
        raise NotFound(
            "unknown_debt",
            f"{email} has no debt {debt_id} from a lost dispute (see `blockhours debts`; other debts are paid by link)",
        )
    if debt.status != "open":
        raise Conflict("debt_closed", f"debt {debt_id} is already {debt.status}")
    note = f"{format_cents(debt.amount_cents)} owed after a lost dispute waived by the shop"
    entry = JournalEntry(f"waived-{debt_id}", "payment", at, actor, 0, debt.amount_cents, note)
    store.commit(debt_waived(debt, entry))
    found = store.customer(email)
    assert found is not None
    return found


def _waiting(ledger: CustomerLedger, lot_id: str) -> tuple[WaitingPart, ...]:
    """Refund parts for the lot set aside and not yet sent to Stripe: it refuses them once the charge is disputed."""
    return tuple(
        WaitingPart(record.refund_id, index, part.minutes, part.amount_cents)
        for record in ledger.refunds
        for index, part in enumerate(record.parts)
        if part.lot_id == lot_id and part.status == "requested"
    )


def _refund_statuses(ledger: CustomerLedger, change: DisputeChange) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for cancelled in change.cancelled:
        record = next(r for r in ledger.refunds if r.refund_id == cancelled.refund_id)
        parts = list(record.parts)
        parts[cancelled.index] = replace(parts[cancelled.index], status="failed")
        statuses[record.refund_id] = replace(record, parts=tuple(parts)).settled_status()
    return statuses


def _entry(change: DisputeChange, fact: DisputeFact, at: int) -> JournalEntry:
    d = change.after
    minutes, cents = (d.taken_minutes, d.taken_cents) if fact in ("withdrawn", "reinstated") else (0, 0)
    kind: EntryKind = {"withdrawn": "chargeback", "reinstated": "reinstated"}.get(fact, "dispute")  # type: ignore[assignment]
    return JournalEntry(
        f"dispute-{d.dispute_id}-{fact}",
        kind,
        at,
        "stripe",
        minutes,
        cents,
        describe(d, fact),
        (LotShare(d.lot_id, minutes, cents),) if cents else (),
    )


def _cancelled_entry(part: WaitingPart, lot_id: str, at: int) -> JournalEntry:
    """A refund set aside for a disputed lot can never be sent: its money is back on the lot (and then the bank's)."""
    return JournalEntry(
        f"refund-failed-{part.refund_id}-{lot_id}",
        "refund-failed",
        at,
        "stripe",
        part.minutes,
        part.amount_cents,
        f"the refund of {format_cents(part.amount_cents)} was cancelled: the payment is disputed with the bank",
        (LotShare(lot_id, part.minutes, part.amount_cents),),
    )


def _debt(change: DisputeChange, at: int) -> Debt:
    d = change.after
    return Debt(
        f"dispute-{d.dispute_id}",
        d.email,
        "dispute",
        change.debt_opened,
        0,
        f"time already used from a payment the bank returned to the cardholder ({format_cents(d.amount_cents)})",
        at,
        "",
    )
