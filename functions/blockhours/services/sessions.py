"""Remote sessions: redeem against the balance, collect overage, settle deposits, clear what is owed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..domain.account_rules import may_take_sessions
from ..domain.changes import session_ref
from ..domain.client_email import client_email
from ..domain.ledger import JournalEntry, LotShare, SessionRecord, refund_due_at
from ..domain.lots import InsufficientBalance
from ..domain.session_changes import SESSION, deposits_settled, session_recorded
from ..domain.sessions import (
    BillingRules,
    NoCardOnFile,
    billed_beyond_balance,
    minutes_that_fit,
    plan_session,
)
from .errors import Conflict, NotFound
from .overage import collect_overage
from .purchases import customer_ledger
from .retry import replans

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..domain.ledger import Account, CustomerLedger
    from ..domain.lots import Lot
    from ..domain.sessions import (
        SessionPlan,
    )
    from ..ports import LedgerStore, PaymentGateway


@dataclass(frozen=True)
class SessionRequest:
    email: str
    minutes: int
    technician: str
    note: str
    session_id: str
    charge_overage: bool = False
    source: str = ""  # the remote-support tool that reported it, if one did


def _rules(catalog: Catalog) -> BillingRules:
    return BillingRules(
        catalog.billing.increment_minutes, catalog.billing.minimum_minutes, catalog.shop.hourly_rate_cents
    )


def _session_record(request: SessionRequest, email: str, plan: SessionPlan, now: int) -> SessionRecord:
    return SessionRecord(
        session_id=request.session_id,
        email=email,
        at=now,
        technician=request.technician,
        note=request.note,
        requested_minutes=request.minutes,
        billed_minutes=plan.billed_minutes,
        covered_minutes=plan.covered_minutes,
        covered_cents=plan.covered_cents,
        overage_minutes=plan.overage_minutes,
        overage_cents=plan.overage_cents,
        draws=tuple(LotShare(d.lot_id, d.minutes, d.amount_cents) for d in plan.draws),
        balance_minutes_after=plan.balance_minutes_after,
        balance_cents_after=plan.balance_cents_after,
        overage_status="pending" if plan.overage_minutes else "none",
        on_account_minutes=plan.on_account_minutes,
        on_account_cents=plan.on_account_cents,
        source=request.source,
    )


def _session_entries(record: SessionRecord) -> list[JournalEntry]:
    entries = []
    if record.covered_minutes:
        entries.append(
            JournalEntry(
                f"session-{record.session_id}",
                "redemption",
                record.at,
                record.technician,
                record.covered_minutes,
                record.covered_cents,
                record.note,
                record.draws,
                source=record.source,
            )
        )
    if record.on_account_minutes:
        entries.append(
            JournalEntry(
                f"on-account-{record.session_id}",
                "on-account",
                record.at,
                record.technician,
                record.on_account_minutes,
                record.on_account_cents,
                f"{record.on_account_minutes} minutes on account, billed later: {record.note}",
                source=record.source,
            )
        )
    if record.overage_minutes:
        entries.append(
            JournalEntry(
                f"overage-{record.session_id}",
                "overage",
                record.at,
                record.technician,
                record.overage_minutes,
                record.overage_cents,
                f"{record.overage_minutes} minutes beyond the balance: {record.note}",
                source=record.source,
            )
        )
    return entries


@dataclass(frozen=True)
class Redeemed:
    """A session as the ledger holds it, and whether this request recorded it (False: its id was recorded before,
    and this is its first outcome)."""

    record: SessionRecord
    recorded_now: bool
    overage_finished_now: bool = False  # a replay that charged (or owed) an overage the first attempt left pending


def redeem(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    request: SessionRequest,
    now: int | None = None,
) -> SessionRecord:
    """Record a session (see `record_session`); the session as recorded, now or by an earlier request."""
    return record_session(catalog, store, gateway, request, now).record


def record_session(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    request: SessionRequest,
    now: int | None = None,
) -> Redeemed:
    """Record a session against the balance, then a trusted client's limit, then (when allowed) a card; once per
    session id, never below zero (or the limit), never for a card the client has not got.

    One read (the lots) and one conditional transaction; a lot or balance that moved in between makes
    the transaction fail, and the session is planned again from a fresh read. The account is read only
    when the lots do not cover the session (is the client trusted?) or the write was refused.
    """
    email = client_email(request.email)
    at = now if now is not None else int(time.time())
    rules = _rules(catalog)
    for _ in replans():
        lots = store.lots(email)
        account = None if lots else _known_account(store, email)
        if account is None and billed_beyond_balance(lots, request.minutes, rules):
            account = store.account(email)
        try:
            plan = plan_session(lots, request.minutes, rules, request.charge_overage, _credit_left(account))
        except (InsufficientBalance, NoCardOnFile) as short:
            if (done := store.find(session_ref(email, request.session_id))) is not None:
                return _replay(catalog, store, gateway, done, request, at)
            _refuse_if_closed(account)
            raise _refusal(catalog, email, account, lots, short) from short
        record = _session_record(request, email, plan, at)
        if plan.on_account_minutes and account is not None:
            owed = account.on_account_minutes + plan.on_account_minutes
            record = replace(record, balance_minutes_after=record.balance_minutes_after - owed)
        due = refund_due_at(at, catalog.refunds.stale_after_days)
        outcome = store.commit(session_recorded(record, lots, plan.lots_after, _session_entries(record), due))
        if outcome.committed:
            done = collect_overage(catalog, store, gateway, record, at) if record.overage_minutes else record
            return Redeemed(done, recorded_now=True)
        if SESSION in outcome.refused:
            done = store.find(session_ref(email, request.session_id))
            assert done is not None, "a duplicate session must be readable"
            return _replay(catalog, store, gateway, done, request, at)
        _refuse_if_closed(store.account(email))
    raise Conflict("busy", f"{email}'s balance kept changing while the session was recorded; send it again")


def _known_account(store: LedgerStore, email: str) -> Account:
    """A client with no lots may still be trusted to pay afterwards; anyone else has nothing to redeem."""
    account = store.account(email)
    if account is None:
        raise NotFound("unknown_customer", f"{email} has not bought any time yet; nothing to redeem")
    return account


def _credit_left(account: Account | None) -> int:
    """What is left of a trusted client's limit; nothing for anyone else (or once their usage passed it)."""
    if account is None or account.trust_limit_minutes <= 0:
        return 0
    return max(account.credit_left_minutes, 0)


def _refusal(
    catalog: Catalog, email: str, account: Account | None, lots: list[Lot], short: InsufficientBalance | NoCardOnFile
) -> Conflict:
    """Why the session cannot be recorded, with what to do; the saved card is offered only to a client who has one."""
    credit, limit = _credit_left(account), account.trust_limit_minutes if account is not None else 0
    available, billed = sum(lot.spendable_minutes for lot in lots), short.needed_minutes
    fits = minutes_that_fit(available + credit, _rules(catalog))
    has = f"{email} has {available} minutes" + (
        f" and {credit} of their {limit}-minute limit on account left" if limit > 0 else ""
    )
    if isinstance(short, NoCardOnFile) or not lots:
        code = "no_card" if isinstance(short, NoCardOnFile) else "over_limit" if limit > 0 else "insufficient_balance"
        instead = (
            f"record the {fits} minutes that fit and send a quote with a pay link for the other {billed - fits}: "
            f"`blockhours quote {email} {billed - fits}`"
            if fits
            else f"send a quote with a pay link for it: `blockhours quote {email} {billed}`"
        )
        return Conflict(
            code,
            f"{has}; the session needs {billed}, and no card is saved for them (they have never paid by card) to "
            f"charge the rest: nothing was recorded; {instead}",
        )
    if limit > 0:
        return Conflict(
            "over_limit",
            f"{has}; the session needs {billed} (pass --charge-overage to use all of it and charge the other "
            f"{billed - available - credit} to the saved card, or ask them to pay their bill or buy time)",
        )
    return Conflict(
        "insufficient_balance",
        f"{has}; the session needs {billed} "
        "(pass --charge-overage to charge the saved card for the rest, or ask them to buy more time)",
    )


def _refuse_if_closed(account: Account | None) -> None:
    if (refusal := may_take_sessions(account)) is not None:
        raise Conflict(refusal.code, refusal.message)


def _replay(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    done: SessionRecord,
    request: SessionRequest,
    at: int,
) -> Redeemed:
    """A retried session id gets its first outcome; the same id for a different session is a conflict."""
    if done.requested_minutes != request.minutes:
        raise Conflict(
            "session_conflict",
            f"session {done.session_id} was already recorded with {done.requested_minutes} minutes, not "
            f"{request.minutes}; give a new session id to record another session",
        )
    if done.overage_status == "pending":  # the first attempt stopped before the card was charged
        return Redeemed(collect_overage(catalog, store, gateway, done, at), False, overage_finished_now=True)
    return Redeemed(done, recorded_now=False)


def settle(store: LedgerStore, email: str, technician: str, now: int | None = None) -> CustomerLedger:
    """Close the client's deposit: no more sessions against it; what is left awaits its refund."""
    email = client_email(email)
    at = now if now is not None else int(time.time())
    for _ in replans():
        lots = store.lots(email)
        closing = [lot for lot in lots if lot.kind == "deposit" and lot.closed_at is None]
        if not closing:
            raise Conflict("no_open_deposit", f"{email} has no open deposit to settle")
        left_minutes = sum(lot.remaining_minutes for lot in closing)
        left_cents = sum(lot.remaining_cents for lot in closing)
        entry = JournalEntry(
            f"settled-{at}",
            "settled",
            at,
            technician,
            left_minutes,
            left_cents,
            "deposit settled; the unused part is to be refunded to the card",
            tuple(LotShare(lot.lot_id, lot.remaining_minutes, lot.remaining_cents) for lot in closing),
        )
        if store.commit(deposits_settled(email, lots, entry)):
            return customer_ledger(store, email)
    raise Conflict("busy", f"{email}'s balance kept changing while settling; send it again")
