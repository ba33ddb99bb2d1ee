"""POST /api/stripe/webhook: verify Stripe's signature, then credit a paid checkout exactly once."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, services, wiring
from .http import error, json_response, resolver
from .telemetry import logger, metrics, tracer

if TYPE_CHECKING:
    import stripe

# No body model (the signed payload is read as it came): no pydantic. Stripe's SDK loads with the first delivery.
app = resolver(validation=False)
config.at_cold_start(config.store, secrets=("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"))


@app.post("/api/stripe/webhook")
def stripe_webhook() -> Response[str]:
    from ..adapters.stripe_gateway import WebhookRejected, checkout_event

    event = app.current_event
    try:
        payload = (event.decoded_body or "").encode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return error(400, "invalid_payload", "the webhook body is not UTF-8 JSON")
    signature = event.headers.get("stripe-signature")
    try:
        verified = wiring.gateway(webhook=True).verify_event(payload, signature)
    except WebhookRejected as exc:
        if signature:  # signed yet refused: a wrong signing secret refuses every delivery (WebhookRejectedAlarm)
            metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)
        logger.warning("webhook rejected", extra={"reason": str(exc)})
        return error(400, exc.code, str(exc))

    live_event = "livemode" in verified and verified["livemode"] is True  # absent or odd: not a live-mode event
    if live_event != wiring.gateway(webhook=True).live:
        mode, key = ("live", "test") if live_event else ("test", "live")
        metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)  # the keys are mixed up
        logger.warning("webhook rejected", extra={"reason": "wrong mode", "livemode": live_event})
        return error(400, "wrong_mode", f"a {mode}-mode event reached a shop using a {key}-mode key; check the keys")
    if verified.type in REFUND_EVENTS or verified.type in DISPUTE_EVENTS:
        outcome = _refund_or_dispute(verified)
        logger.info("stripe event recorded", extra={"type": verified.type, "outcome": outcome})
        return json_response(200, {"received": True, "outcome": outcome})

    meaning = checkout_event(verified)
    logger.append_keys(stripe_event=meaning.event_id, stripe_event_type=meaning.event_type)
    if meaning.debt is not None:
        debt = meaning.debt
        outcome = services.record_debt_payment(wiring.catalog(), wiring.ledger(), debt)
        if outcome == "credited":
            metrics.add_metric(name="DebtPaid", unit=MetricUnit.Count, value=1)
        logger.info("debt payment recorded", extra={"outcome": outcome, "debt_id": debt.debt_id})
        return json_response(200, {"received": True, "outcome": outcome})
    if meaning.expired_quote:
        outcome = services.quote_expired(wiring.ledger(), meaning.expired_quote, meaning.checkout_id, verified.created)
        logger.info("quote expired", extra={"outcome": outcome, "quote_id": meaning.expired_quote})
        return json_response(200, {"received": True, "outcome": outcome})
    if meaning.payment is None:
        logger.info("nothing to credit", extra={"outcome": meaning.outcome, "reason": meaning.reason})
        return json_response(200, {"received": True, "outcome": meaning.outcome})

    outcome = services.record_payment(wiring.catalog(), wiring.ledger(), meaning.event_id, meaning.payment)
    if outcome == "credited":
        metrics.add_metric(name="PurchaseCredited", unit=MetricUnit.Count, value=1)
    elif outcome != "duplicate":  # Stripe delivers at least once: a duplicate is normal and only logged
        metrics.add_metric(name="PaymentNotCredited", unit=MetricUnit.Count, value=1)
    logger.info("payment recorded", extra={"outcome": outcome, "lot": meaning.payment.checkout_id})
    return json_response(200, {"received": True, "outcome": outcome})


REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed", "charge.refunded"})
DISPUTE_EVENTS = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
    }
)
NOT_APPLICABLE = "not_applicable"  # the object lacks what the ledger needs: acknowledged, nothing to record


def _refund_or_dispute(event: stripe.Event) -> str:
    """Refunds made or changed anywhere, and disputes: into the ledger exactly once, parked if they come first."""
    from ..adapters.stripe_gateway import refund_from_event
    from ..adapters.stripe_objects import charge_payment_intent, read_dispute
    from ..domain.parked import ParkedEvent

    store = wiring.ledger()
    if event.type in DISPUTE_EVENTS:
        dispute = read_dispute(event.data.object)
        if dispute is None:  # e.g. a dispute of a charge made without a PaymentIntent: none of ours
            return NOT_APPLICABLE
        fields = {"dispute_id": dispute.id, "amount_cents": dispute.amount_cents, "status": dispute.status}
        parked = ParkedEvent(dispute.payment_intent, event.id, "dispute", event.type, event.created, fields)
        return services.payment_event(store, parked)
    if event.type == "charge.refunded":  # a charge lists no refunds any more: ask Stripe for them
        payment_intent = charge_payment_intent(event.data.object)
        if not payment_intent:
            return NOT_APPLICABLE
        refunds = wiring.gateway(webhook=True).refunds_of(payment_intent)
    else:
        refund = refund_from_event(event)
        if refund is None:
            return NOT_APPLICABLE
        refunds = [refund]
    outcomes = [
        services.payment_event(
            store,
            ParkedEvent(
                refund.payment_intent, f"{event.id}:{refund.id}", "refund", event.type, event.created, asdict(refund)
            ),
        )
        for refund in refunds
    ]
    return next((o for o in ("recorded", "parked") if o in outcomes), outcomes[0] if outcomes else "duplicate")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
