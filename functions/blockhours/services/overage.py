"""A session's time beyond the balance: charged to the card that paid the lot, or owed with a payment link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..domain.changes import session_ref
from ..domain.debts import Debt, next_step_at
from ..domain.ledger import JournalEntry
from ..domain.money import format_cents
from ..domain.session_changes import overage_finished
from ..domain.sessions import lot_to_charge
from ..emails import format_day
from ..ports import CardCharge, DebtLink, GatewayError, OverageCharge
from .debts import notice_entry
from .errors import ShopError, StripeUnreachable

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..domain.ledger import SessionRecord
    from ..domain.lots import Lot
    from ..ports import LedgerStore, PaymentGateway


def collect_overage(
    catalog: Catalog, store: LedgerStore, gateway: Callable[[], PaymentGateway], record: SessionRecord, at: int
) -> SessionRecord:
    """Move a pending overage on, once, at `at`: charged, or a debt with its pay link and the dunning schedule.

    Only Stripe out of reach leaves it pending; the same session id, sent again, then finishes it (a charge
    made in between is found at Stripe, not made again). What is written is dated `at`, when it happens: a
    notice sent days after the session starts its reminders' days from the day the client gets it.
    """
    try:
        return _charge_or_owe(catalog, store, gateway(), record, at)
    except GatewayError as exc:
        owed = format_cents(record.overage_cents, catalog.shop.currency)
        raise StripeUnreachable(
            "overage_pending",
            f"session {record.session_id} is recorded but its overage of {owed} is not charged yet ({exc}); "
            f"send the same session again, with session id {record.session_id}, to finish it: "
            "nothing is charged twice",
        ) from exc


def finish_pending_overages(
    catalog: Catalog, store: LedgerStore, gateway: Callable[[], PaymentGateway], now: int
) -> list[str]:
    """The daily run: every overage left pending because Stripe was out of reach is charged, or owed with its
    pay link, without waiting for the technician to send the session again. The sessions finished."""
    finished = []
    for record in store.chores("overage", now):
        try:
            collect_overage(catalog, store, gateway, record, now)
            finished.append(f"{record.email} {record.session_id}")
        except ShopError as still:  # Stripe still out of reach: tomorrow's run tries again
            if still.code != "overage_pending":
                raise
    return finished


def _charge_or_owe(
    catalog: Catalog, store: LedgerStore, stripe: PaymentGateway, record: SessionRecord, at: int
) -> SessionRecord:
    currency = catalog.shop.currency
    description = f"{record.overage_minutes} minutes of remote support beyond your balance ({record.session_id})"
    lot = lot_to_charge(store.lots(record.email), [draw.lot_id for draw in record.draws])
    charge = _charge(stripe, record, lot, description, currency)
    if charge.status == "succeeded" and lot is not None:
        done = replace(record, overage_status="charged", payment_intent=charge.payment_intent)
        paid = JournalEntry(
            f"payment-{record.session_id}",
            "payment",
            at,
            "stripe",
            record.overage_minutes,
            record.overage_cents,
            f"{format_cents(record.overage_cents, currency)} charged to the card that paid for the {lot.kind} "
            f"of {format_day(lot.created_at)}",
        )
        finished = store.commit(overage_finished(done, paid, record.overage_cents, None, 0))
    else:
        debt_id = f"overage-{record.session_id}"
        link = stripe.create_debt_link(DebtLink(debt_id, record.email, record.overage_cents, currency, description, ""))
        done = replace(
            record,
            overage_status="owed",
            payment_intent=charge.payment_intent,
            pay_url=link,
            overage_problem=charge.message,
            overage_no_card=charge.status == "no_card",
        )
        debt = Debt(
            debt_id,
            record.email,
            "overage",
            record.overage_cents,
            record.overage_minutes,
            f"{record.overage_minutes} minutes beyond your balance on {format_day(record.at)}",
            at,  # the notice goes out now, whenever the session was: its reminders count from here
            link,
            notices=(at,),
            arose_at=record.at,
            no_card=charge.status == "no_card",
        )
        notice = notice_entry(debt, at, 1, currency)
        next_at = next_step_at(debt, catalog.dunning_schedule()) or at
        finished = store.commit(overage_finished(done, notice, 0, debt, next_at))
    if not finished:  # another attempt finished it first; its outcome is the one that counts
        current = store.find(session_ref(record.email, record.session_id))
        assert current is not None
        return current
    return done


def _charge(
    stripe: PaymentGateway, record: SessionRecord, lot: Lot | None, description: str, currency: str
) -> CardCharge:
    if lot is None:  # refused before recording since no card could pay; kept for sessions left pending before that
        return CardCharge("no_card", None, "no card has paid for time on this account")
    return stripe.charge_saved_card(
        OverageCharge(
            email=record.email,
            session_id=record.session_id,
            paid_with=lot.payment_intent,
            amount_cents=record.overage_cents,
            currency=currency,
            description=description,
        )
    )
