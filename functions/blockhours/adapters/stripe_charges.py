"""Time beyond the balance, charged off-session to the card that paid the client's lot: named, and only once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import stripe

from ..ports import CardCharge, GatewayError
from .stripe_keys import idempotency_key

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams, PaymentIntentListParams

    from ..ports import OverageCharge

_KEY_IN_USE = "idempotency_key_in_use"  # another attempt with the same key is running right now


def charge_overage(client: stripe.StripeClient, charge: OverageCharge) -> CardCharge:
    """Charge the card of `charge.paid_with`; a charge made for this session before, even days ago, is found.

    Stripe forgets idempotency keys after a day; the session id and email in the charge's metadata do not
    go away, so a retry first lists the customer's payments for them (list, not search: search lags).
    """
    metadata = {"kind": "overage", "session_id": charge.session_id, "email": charge.email}
    try:
        paid = client.v1.payment_intents.retrieve(charge.paid_with)
        customer, card = _id_of(paid.customer), _id_of(paid.payment_method)
        if not customer or not card:
            return CardCharge("no_card", None, f"the card that paid {charge.paid_with} was not saved for later")
        if (made := _made_before(client, customer, metadata)) is not None:
            return made
        params: PaymentIntentCreateParams = {
            "amount": charge.amount_cents,
            "currency": charge.currency,
            "customer": customer,
            "payment_method": card,
            "off_session": True,
            "confirm": True,
            "description": charge.description,
            "metadata": metadata,
        }
        key = idempotency_key("overage", charge.email, charge.session_id)
        try:
            intent = client.v1.payment_intents.create(params, {"idempotency_key": key})
        except stripe.IdempotencyError as exc:
            _raise_if_in_use(exc)
            # The key went out with other parameters (the lots changed between attempts): what it made is found.
            made = _made_before(client, customer, metadata)
            return made or CardCharge("declined", None, f"Stripe refused the charge: {exc.user_message or exc}")
    except stripe.CardError as exc:
        failed = exc.error.payment_intent if exc.error else None
        status: Literal["requires_action", "declined"] = (
            "requires_action" if exc.code == "authentication_required" else "declined"
        )
        return CardCharge(status, failed.id if failed else None, exc.user_message or str(exc))
    except stripe.InvalidRequestError as exc:
        _raise_if_in_use(exc)
        # No such payment, card or customer in this account (deleted, or the other mode's): no retry charges it.
        return CardCharge("declined", None, f"the card cannot be charged: {exc.user_message or exc}")
    except stripe.StripeError as exc:
        raise GatewayError(f"Stripe could not be asked to charge the card: {exc.user_message or exc}") from exc
    if intent.status != "succeeded":
        return CardCharge("requires_action", intent.id, f"the payment is {intent.status}")
    return CardCharge("succeeded", intent.id, "")


def _made_before(client: stripe.StripeClient, customer: str, metadata: dict[str, str]) -> CardCharge | None:
    """A succeeded charge of the customer's carrying our metadata, if one exists (all pages: a client has few)."""
    params: PaymentIntentListParams = {"customer": customer, "limit": 100}
    for intent in client.v1.payment_intents.list(params).auto_paging_iter():
        theirs = intent.metadata.to_dict() if intent.metadata else {}
        if intent.status == "succeeded" and all(theirs.get(k) == v for k, v in metadata.items()):
            return CardCharge("succeeded", intent.id, "")
    return None


def _raise_if_in_use(exc: stripe.StripeError) -> None:
    if exc.code == _KEY_IN_USE:
        raise GatewayError("another attempt is charging this session right now; send it again in a minute") from exc


def _id_of(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        value = getattr(value, "id", None)
    return str(value) if value else None
