"""Stripe through its own SDK: hosted Checkout, customers, and verified webhook events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import stripe

from ..config import StripeSettings
from ..domain.ledger import Payment
from ..domain.refunds import RefundPart
from ..ports import (
    CardCharge,
    CheckoutOrder,
    DebtLink,
    DebtPayment,
    GatewayError,
    OverageCharge,
    PaymentUnknown,
    StripeRefund,
)
from .stripe_charges import charge_overage
from .stripe_keys import idempotency_key

if TYPE_CHECKING:
    from stripe.params import PaymentLinkCreateParams, RefundCreateParams
    from stripe.params.checkout import SessionCreateParams

CREDIT_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
EXPIRED_EVENT = "checkout.session.expired"


class WebhookRejected(Exception):
    """The request is not a genuine, fresh Stripe event; nothing may be done with it."""


@dataclass(frozen=True)
class CheckoutEvent:
    """What a Checkout Session event means for the ledger."""

    event_id: str
    event_type: str
    outcome: Literal["paid", "unpaid", "ignored", "debt", "expired"]
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
    def __init__(self, settings: StripeSettings, client: stripe.StripeClient | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)

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
            } | ({"quote_id": order.quote_id} if order.quote_id else {})
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
            "after_completion": {"type": "redirect", "redirect": {"url": debt.thanks_url}},
        }
        try:
            link = self.client.v1.payment_links.create(
                params, {"idempotency_key": idempotency_key("debt-link", debt.email, debt.debt_id)}
            )
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not create the payment link: {exc.user_message or exc}") from exc
        return link.url

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
        return [_refund(refund) for refund in found.auto_paging_iter()]

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
        if not signature:
            raise WebhookRejected("missing Stripe-Signature header")
        try:
            return cast(
                "stripe.Event",
                stripe.Webhook.construct_event(
                    payload, signature, self.settings.webhook_secret, tolerance=self.settings.webhook_tolerance_seconds
                ),
            )
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"signature verification failed: {exc.user_message or exc}") from exc
        except ValueError as exc:
            raise WebhookRejected("the body is not a JSON Stripe event") from exc


def checkout_event(event: stripe.Event) -> CheckoutEvent:
    """Read a verified event: a paid Checkout Session of ours becomes a Payment; anything else is not credit."""
    if event.type not in CREDIT_EVENTS | {EXPIRED_EVENT}:
        return CheckoutEvent(event.id, event.type, "ignored", reason="not a crediting event")
    session: dict[str, Any] = event.data.object.to_dict() if hasattr(event.data.object, "to_dict") else {}
    if event.type == EXPIRED_EVENT:
        quote_id = str((session.get("metadata") or {}).get("quote_id") or "")
        if not quote_id:
            return CheckoutEvent(event.id, event.type, "ignored", reason="an abandoned checkout: nothing was paid")
        return CheckoutEvent(
            event.id, event.type, "expired", expired_quote=quote_id, checkout_id=str(session.get("id"))
        )
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return CheckoutEvent(event.id, event.type, "unpaid", reason=f"payment_status {session.get('payment_status')}")
    metadata = session.get("metadata") or {}
    if metadata.get("kind") == "debt" and metadata.get("email") and metadata.get("debt_id"):
        payment_intent = session.get("payment_intent")
        debt = DebtPayment(
            checkout_id=str(session.get("id") or ""),
            payment_intent=str(_id_of(payment_intent) or ""),
            email=str(metadata["email"]),
            debt_id=str(metadata["debt_id"]),
            amount_cents=int(session.get("amount_total") or 0),
            currency=str(session.get("currency") or ""),
            at=int(session.get("created") or event.created),
        )
        return CheckoutEvent(event.id, event.type, "debt", debt=debt)
    missing = [k for k in ("sku", "kind", "minutes", "terms_version") if not metadata.get(k)]
    if session.get("mode") != "payment" or missing:
        return CheckoutEvent(event.id, event.type, "ignored", reason="not a Blockhours checkout")
    email = metadata.get("email") or (session.get("customer_details") or {}).get("email") or ""
    payment_intent = session.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    try:
        payment = Payment(
            checkout_id=str(session["id"]),
            payment_intent=str(payment_intent or ""),
            stripe_customer_id=_id_of(session.get("customer")),
            email=str(email).strip().lower(),
            sku=str(metadata["sku"]),
            kind="deposit" if metadata["kind"] == "deposit" else "block",
            minutes=int(metadata["minutes"]),
            amount_cents=int(session.get("amount_total") or 0),
            currency=str(session.get("currency") or ""),
            terms_version=str(metadata["terms_version"]),
            paid_at=int(session.get("created") or event.created),
            quote_id=str(metadata.get("quote_id") or ""),
            order_id=str(metadata.get("order_id") or session.get("client_reference_id") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        return CheckoutEvent(event.id, event.type, "ignored", reason=f"unreadable checkout session: {exc}")
    if not payment.email or not payment.payment_intent:
        return CheckoutEvent(event.id, event.type, "ignored", reason="checkout session without email or payment")
    return CheckoutEvent(event.id, event.type, "paid", payment=payment)


def _refund(refund: Any) -> StripeRefund:
    metadata = refund.metadata.to_dict() if refund.metadata else {}
    return StripeRefund(
        id=refund.id,
        payment_intent=str(refund.payment_intent or ""),
        amount_cents=int(refund.amount),
        status=str(refund.status),
        failure=str(getattr(refund, "failure_reason", "") or ""),
        refund_id=str(metadata.get("refund_id", "")),
        lot_id=str(metadata.get("lot_id", "")),
    )


def refund_from_event(event: stripe.Event) -> StripeRefund:
    return _refund(event.data.object)


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None
