"""What a payment changes, as values for one commit: the shop's order, the credit, events parked before it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .changes import NEW, AnyOf, Change, Check, Expect, Put, Ref, Update, journal, lot_ref, payment_ref
from .moves import account_move

if TYPE_CHECKING:
    from .ledger import JournalEntry, Payment
    from .lots import Lot
    from .parked import ParkedEvent

EVENT, LOT, POINTER, ORDER, QUOTE = "event", "lot", "pointer", "order", "quote"  # the roles a refused credit names
_ORDER_FIELDS = ("email", "sku", "minutes", "amount_cents", "currency")


def order_ref(order_id: str) -> Ref[dict[str, Any]]:
    return Ref("order", id=order_id)


def order_opened(order: dict[str, Any]) -> Change:
    """The shop's record of a checkout it opens: the same order again is fine, another under its id is not."""
    same = tuple(Expect(name, "=", order[name]) for name in _ORDER_FIELDS)
    new_or_same = AnyOf(((NEW,), same))
    return Change.of(Put(order_ref(str(order["order_id"])), {"type": "order", **order}, expect=(new_or_same,)))


def alert_raised(alert_id: str, values: dict[str, Any]) -> Change:
    """Something the shop must look at, kept once (emailed from the stream, listed by reconcile)."""
    return Change.of(Put(Ref("alert", id=alert_id), {"type": "alert", **values}))


def payment_owner(pointer: dict[str, Any] | None) -> tuple[str, str] | None:
    """The client and lot a PaymentIntent paid for; None while only events parked under it are known."""
    if pointer is None or "lot_id" not in pointer:
        return None
    return str(pointer["email"]), str(pointer["lot_id"])


def credited(
    event_id: str,
    payment: Payment,
    lot: Lot,
    entry: JournalEntry,
    refund_due_at: int,
    *,
    pointer_taken_over: bool = False,
    with_quote: bool = True,
) -> Change:
    """The event marker, lot, journal entry, payment pointer and account, at once — and only if the shop opened
    this checkout for this client, these minutes and this amount (ORDER), and its quote exists (QUOTE).

    Refused as EVENT or LOT: credited before. As POINTER with no lot in it: events came first and wait under it
    (`pointer_taken_over` then claims it). The pointer and the order show what they hold when refused.
    """
    email = payment.email
    account = account_move(
        email,
        set={"email": email, "last_activity_at": payment.paid_at, "refund_due_at": refund_due_at}
        | ({"stripe_customer_id": payment.stripe_customer_id} if payment.stripe_customer_id else {}),
        set_if_absent={"status": "active", "created_at": payment.paid_at},
        add={"available_minutes": lot.minutes, "available_cents": lot.amount_cents, "paid_cents": lot.amount_cents},
    )
    if pointer_taken_over:
        pointer: Put | Update = Update(
            payment_ref(payment.payment_intent),
            set={"email": email, "lot_id": lot.lot_id},
            expect=(Expect("lot_id", "missing"),),
            role=POINTER,
            show_old=True,
        )
    else:
        owner = {"email": email, "lot_id": lot.lot_id}
        pointer = Put(payment_ref(payment.payment_intent), owner, role=POINTER, show_old=True)
    order = Check(
        order_ref(payment.order_id),
        tuple(Expect(name, "=", value) for name, value in _order_of(payment, lot).items()),
        role=ORDER,
        show_old=True,
    )
    quote = None
    if payment.quote_id and with_quote:  # only that it exists: a payment is credited even if it expired meanwhile
        quote = Update(
            Ref("quote", id=payment.quote_id),
            set={"status": "paid", "closed_at": payment.paid_at, "checkout_id": payment.checkout_id},
            expect=(Expect("", "exists"),),
            role=QUOTE,
        )
    return Change.of(
        Put(Ref("event", id=event_id), {"effect": lot.lot_id, "at": payment.paid_at}, role=EVENT),
        Put(lot_ref(email, lot), lot, role=LOT),
        *journal(email, entry),
        pointer,
        account,
        order,
        quote,
    )


def _order_of(payment: Payment, lot: Lot) -> dict[str, Any]:
    return {
        "email": payment.email,
        "sku": payment.sku,
        "minutes": lot.minutes,
        "amount_cents": lot.amount_cents,
        "currency": payment.currency,
    }


def event_parked(event: ParkedEvent) -> Change:
    """An event whose payment the ledger does not know yet, kept under its pointer — unless the credit landed
    meanwhile (refused as POINTER: the pointer has its lot; apply the event instead). Refused as EVENT: kept before."""
    return Change.of(
        Put(Ref("parked", event.payment_intent, event.parked_id, event.at), event, role=EVENT),
        Update(
            payment_ref(event.payment_intent),
            add={"parked_events": 1},
            expect=(Expect("lot_id", "missing"),),
            role=POINTER,
        ),
    )


def parked_applied(event: ParkedEvent, at: int) -> Change:
    return Change.of(
        Update(
            Ref("parked", event.payment_intent, event.parked_id, event.at),
            set={"applied_at": at},
            expect=(Expect("applied_at", "missing"),),
        ),
        Update(payment_ref(event.payment_intent), add={"applied_events": 1}),
    )
