"""Stripe through its own SDK: hosted Checkout, customers, and verified webhook events."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import stripe

from ..domain.ledger import Payment
from ..links import paid_url
from ..ports import (
    DebtPayment,
    GatewayError,
    PaymentUnknown,
    StripeRefund,
)
from . import stripe_objects as read
from .stripe_charges import charge_overage
from .stripe_keys import idempotency_key

if TYPE_CHECKING:
    from stripe.params import PaymentLinkCreateParams, RefundCreateParams
    from stripe.params.checkout import SessionCreateParams

    from ..config import StripeSettings
    from ..domain.refunds import RefundPart
    from ..ports import (
        CardCharge,
        CheckoutOrder,
        DebtLink,
        OverageCharge,
        PaidCheckout,
    )

CREDIT_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
EXPIRED_EVENT = "checkout.session.expired"


class WebhookRejected(Exception):
    """The request is not a genuine, fresh Stripe event; nothing may be done with it."""

    def __init__(self, message: str, code: str = "invalid_signature") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CheckoutEvent:
    """What a Checkout Session event means for the ledger."""

    event_id: str
    event_type: str
    outcome: Literal["paid", "unpaid", "ignored", "not_applicable", "debt", "expired"]
    payment: Payment | None = None
    reason: str = ""
    debt: DebtPayment | None = None
    expired_quote: str = ""  # an unpaid quote's page that Stripe closed
    checkout_id: str = ""


def make_client(settings: StripeSettings) -> stripe.StripeClient:
    base = {"api": settings.api_base} if settings.api_base else None
    return stripe.StripeClient(
        settings.api_key,
        base_addresses=base,  # type: ignore[arg-type]
        max_network_retries=settings.max_network_retries,
    )


class StripeGateway:
    def __init__(self, settings: StripeSettings, client: stripe.StripeClient | None = None, site_url: str = "") -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.site_url = site_url  # the shop's pages: a pay link's payer lands on its thank-you page

    @property
    def live(self) -> bool:
        """Whether the key in use moves real money: events must come from the same mode."""
        return self.settings.api_key.startswith(("sk_live_", "rk_live_"))

    def customer_for(self, email: str, replacing: str = "") -> str:
        """The Stripe customer for an email: the existing one, or one created exactly once (per lost one)."""
        found = self.client.v1.customers.list({"email": email, "limit": 1})
        if found.data:
            return found.data[0].id
        key = idempotency_key("customer", email, *([replacing] if replacing else []))
        created = self.client.v1.customers.create(
            {"email": email, "metadata": {"source": "blockhours"}}, {"idempotency_key": key}
        )
        return created.id

    def create_checkout(self, order: CheckoutOrder) -> str:
        try:
            customer = order.stripe_customer_id or self.customer_for(order.email)
            metadata = {
                "order_id": order.order_id,
                "email": order.email,
                "sku": order.sku,
                "kind": order.kind,
                "minutes": str(order.minutes),
                "terms_version": order.terms_version,
            }
            metadata |= {"quote_id": order.quote_id} if order.quote_id else {}
            metadata |= {"note": order.note[:500]} if order.note else {}  # Stripe keeps 500 characters a value
            params: SessionCreateParams = {
                "mode": "payment",
                "customer": customer,
                "client_reference_id": order.order_id,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": order.currency,
                            "unit_amount": order.amount_cents,
                            "product_data": {
                                "name": order.product_name,
                                "description": order.description or order.product_name,
                                "metadata": {"sku": order.sku},
                            },
                        },
                    }
                ],
                "payment_intent_data": {
                    "setup_future_usage": "off_session",
                    "description": f"{order.product_name} ({order.minutes} minutes)",
                    "metadata": metadata,
                },
                # Off: under Adaptive Pricing the PaymentIntent (and so every refund) is in the client's currency.
                "adaptive_pricing": {"enabled": False},
                "consent_collection": {"terms_of_service": "required"},
                "custom_text": {
                    "terms_of_service_acceptance": {
                        "message": f"I agree to the client agreement (version {order.terms_version})."
                    }
                },
                "metadata": metadata,
                "success_url": order.success_url,
                "cancel_url": order.cancel_url,
            }
            if order.expires_at is not None:
                params["expires_at"] = order.expires_at
            key = idempotency_key("checkout", order.email, order.order_id, order.sku)
            try:
                session = self.client.v1.checkout.sessions.create(params, {"idempotency_key": key})
            except stripe.InvalidRequestError as exc:
                if not (order.stripe_customer_id and exc.code == "resource_missing" and exc.param == "customer"):
                    raise
                # The customer we remembered is gone at Stripe (deleted, or the other mode): find or make one.
                params["customer"] = self.customer_for(order.email, replacing=customer)
                key = idempotency_key("checkout", order.email, order.order_id, order.sku, params["customer"])
                session = self.client.v1.checkout.sessions.create(params, {"idempotency_key": key})
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused the checkout: {exc.user_message or exc}") from exc
        if not session.url:
            raise GatewayError(f"Stripe returned checkout session {session.id} without a URL")
        return session.url

    def charge_saved_card(self, charge: OverageCharge) -> CardCharge:
        """Charge the card that paid the lot, off-session, once; a decline is an answer, not an error."""
        return charge_overage(self.client, charge)

    def create_debt_link(self, debt: DebtLink) -> str:
        """A Stripe payment link for exactly what is owed, payable once; its metadata reaches our webhook."""
        params: PaymentLinkCreateParams = {
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": debt.currency,
                        "unit_amount": debt.amount_cents,
                        "product_data": {"name": debt.description},
                    },
                }
            ],
            "metadata": {"kind": "debt", "email": debt.email, "debt_id": debt.debt_id},
            "payment_intent_data": {"metadata": {"kind": "debt", "email": debt.email, "debt_id": debt.debt_id}},
            "restrictions": {"completed_sessions": {"limit": 1}},
        }
        if thanks := debt.thanks_url or (paid_url(self.site_url) if self.site_url else ""):
            params["after_completion"] = {"type": "redirect", "redirect": {"url": thanks}}
        try:
            link = self.client.v1.payment_links.create(
                params, {"idempotency_key": idempotency_key("debt-link", debt.email, debt.debt_id)}
            )
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not create the payment link: {exc.user_message or exc}") from exc
        return link.url

    def paid_checkout(self, checkout_id: str) -> PaidCheckout | None:
        """The Checkout Session a success or thank-you page names, if it is one of ours."""
        try:
            session = self.client.v1.checkout.sessions.retrieve(checkout_id)
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise GatewayError(f"Stripe refused to show checkout {checkout_id}: {exc.user_message or exc}") from exc
            return None
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not show checkout {checkout_id}: {exc.user_message or exc}") from exc
        return read.paid_checkout(session)

    def refund_part(self, refund_id: str, part: RefundPart, email: str) -> StripeRefund:
        """Refund one lot's part to its PaymentIntent, once: a refund already made for it is found, not redone.

        Stripe keeps idempotency keys for a day at least; our refund id and lot id in the refund's metadata
        let a retry after that find the refund it made instead of making another.
        """
        try:
            for existing in self.refunds_of(part.payment_intent):
                if existing.refund_id == refund_id and existing.lot_id == part.lot_id:
                    return existing
            params: RefundCreateParams = {
                "payment_intent": part.payment_intent,
                "amount": part.amount_cents,
                "reason": "requested_by_customer",
                "metadata": {"refund_id": refund_id, "lot_id": part.lot_id, "email": email},
            }
            key = idempotency_key("refund", email, refund_id, part.lot_id)
            created = self.client.v1.refunds.create(params, {"idempotency_key": key})
        except stripe.InvalidRequestError as exc:
            return StripeRefund("", part.payment_intent, part.amount_cents, "failed", exc.user_message or str(exc))
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not be asked for the refund: {exc.user_message or exc}") from exc
        return _refund(created)

    def refunds_of(self, payment_intent: str) -> list[StripeRefund]:
        found = self.client.v1.refunds.list({"payment_intent": payment_intent, "limit": 100})
        listed = (read.read_refund(refund) for refund in found.auto_paging_iter())
        return [refund for refund in listed if refund is not None]

    def amount_received(self, payment_intent: str) -> int:
        try:
            return int(self.client.v1.payment_intents.retrieve(payment_intent).amount_received or 0)
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise GatewayError(f"Stripe refused to show {payment_intent}: {exc.user_message or exc}") from exc
            raise PaymentUnknown(f"Stripe has no payment {payment_intent} in this account") from exc
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not show {payment_intent}: {exc.user_message or exc}") from exc

    def verify_event(self, payload: bytes, signature: str | None) -> stripe.Event:
        """The event, if Stripe signed this body with our secret within the tolerance of now, before or after."""
        if not signature:
            raise WebhookRejected("missing Stripe-Signature header")
        tolerance = self.settings.webhook_tolerance_seconds
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.settings.webhook_secret, tolerance)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"signature verification failed: {exc.user_message or exc}") from exc
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:  # signed, but JSON of another shape
            raise WebhookRejected("the body is not a JSON Stripe event", "invalid_payload") from exc
        _refuse_future(signature, tolerance)
        problem = read.event_problem(event)
        if problem:
            raise WebhookRejected(f"the body is not a Stripe event: {problem}", "invalid_payload")
        return cast("stripe.Event", event)


def _refuse_future(signature: str, tolerance: int) -> None:
    """Stripe's SDK refuses only a timestamp too old; one stamped too far ahead could be replayed until then."""
    stamps = [part[2:] for part in signature.split(",") if part.startswith("t=")]
    ahead = (int(stamps[0]) if stamps and stamps[0].isdigit() else 0) - int(time.time())
    if ahead > tolerance:
        raise WebhookRejected(
            f"signature verification failed: timestamp is {ahead} s in the future (over {tolerance} s)"
        )


def checkout_event(event: stripe.Event) -> CheckoutEvent:
    """Read a verified event: a paid Checkout Session of ours becomes a Payment; anything else is not credit."""
    if event.type not in CREDIT_EVENTS | {EXPIRED_EVENT}:
        return CheckoutEvent(event.id, event.type, "ignored", reason="not a crediting event")
    session = read.of_kind(event.data.object, "checkout.session")
    if session is None:
        return CheckoutEvent(event.id, event.type, "not_applicable", reason="the event carries no Checkout Session")
    metadata = {name: read.text(value) for name, value in read.fields(session.get("metadata")).items()}
    checkout_id = read.stripe_id(session.get("id"))
    if event.type == EXPIRED_EVENT:
        quote_id = metadata.get("quote_id", "")
        if not quote_id or not checkout_id:
            return CheckoutEvent(event.id, event.type, "ignored", reason="an abandoned checkout: nothing was paid")
        return CheckoutEvent(event.id, event.type, "expired", expired_quote=quote_id, checkout_id=checkout_id)
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        status = read.text(session.get("payment_status"), 40) or "missing"
        return CheckoutEvent(event.id, event.type, "unpaid", reason=f"payment_status {status}")
    paid_at = read.timestamp(session.get("created")) or event.created
    total_cents = read.amount(session.get("amount_total"))
    if metadata.get("kind") == "debt" and metadata.get("email") and metadata.get("debt_id"):
        debtor = read.client(metadata["email"])
        if total_cents is None or not debtor:
            return CheckoutEvent(event.id, event.type, "not_applicable", reason="a debt paid without amount or email")
        debt = DebtPayment(
            checkout_id=checkout_id,
            payment_intent=read.stripe_id(session.get("payment_intent")),
            email=debtor,
            debt_id=metadata["debt_id"],
            amount_cents=total_cents,
            currency=read.text(session.get("currency"), 3),
            at=paid_at,
        )
        return CheckoutEvent(event.id, event.type, "debt", debt=debt)
    missing = [k for k in ("sku", "kind", "minutes", "terms_version") if not metadata.get(k)]
    if session.get("mode") != "payment" or missing:
        return CheckoutEvent(event.id, event.type, "ignored", reason="not a Blockhours checkout")
    email = read.client(metadata.get("email") or read.fields(session.get("customer_details")).get("email"))
    minutes, payment_intent = read.amount_in_text(metadata["minutes"]), read.stripe_id(session.get("payment_intent"))
    if not (email and checkout_id and payment_intent and minutes and total_cents):
        reason = "a paid checkout without email, id, payment_intent, minutes or amount_total"
        return CheckoutEvent(event.id, event.type, "not_applicable", reason=reason)
    payment = Payment(
        checkout_id=checkout_id,
        payment_intent=payment_intent,
        stripe_customer_id=read.stripe_id(session.get("customer")) or None,
        email=email,
        sku=metadata["sku"],
        kind="deposit" if metadata["kind"] == "deposit" else "block",
        minutes=minutes,
        amount_cents=total_cents,
        currency=read.text(session.get("currency"), 3),
        terms_version=metadata["terms_version"],
        paid_at=paid_at,
        quote_id=metadata.get("quote_id", ""),
        note=metadata.get("note", "") if metadata.get("quote_id") else "",
        order_id=metadata.get("order_id") or read.text(session.get("client_reference_id")),
    )
    return CheckoutEvent(event.id, event.type, "paid", payment=payment)


def _refund(refund: Any) -> StripeRefund:
    """A refund Stripe's API answered with; one the ledger cannot read is Stripe's fault, not the client's."""
    found = read.read_refund(refund)
    if found is None:
        raise GatewayError(f"Stripe answered with a refund we cannot read: {read.fields(refund).get('id')!r}")
    return found


def refund_from_event(event: stripe.Event) -> StripeRefund | None:
    """The refund a refund event carries; None when it lacks what the ledger needs (a null payment_intent)."""
    return read.read_refund(event.data.object)
