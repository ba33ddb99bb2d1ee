"""POST /api/stripe/webhook: verify Stripe's signature, then credit a paid checkout exactly once."""

from __future__ import annotations

from typing import Any

import stripe
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import services, wiring
from ..adapters.stripe_gateway import WebhookRejected, checkout_event, refund_from_event
from ..adapters.stripe_objects import charge_payment_intent, read_dispute
from .http import error, json_response, logger, metrics, resolver

app = resolver()


@app.post("/api/stripe/webhook")
def stripe_webhook() -> Response[str]:
    event = app.current_event
    try:
        payload = (event.decoded_body or "").encode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return error(400, "invalid_payload", "the webhook body is not UTF-8 JSON")
    try:
        verified = wiring.gateway().verify_event(payload, event.headers.get("stripe-signature"))
    except WebhookRejected as exc:
        metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)
        logger.warning("webhook rejected", extra={"reason": str(exc)})
        return error(400, exc.code, str(exc))

    if verified.type in REFUND_EVENTS or verified.type in DISPUTE_EVENTS:
        outcome = _refund_or_dispute(verified)
        logger.info("stripe event recorded", extra={"type": verified.type, "outcome": outcome})
        return json_response(200, {"received": True, "outcome": outcome})

    meaning = checkout_event(verified)
    logger.append_keys(stripe_event=meaning.event_id, stripe_event_type=meaning.event_type)
    if meaning.debt is not None:
        debt = meaning.debt
        outcome = services.record_debt_payment(wiring.ledger(), debt.email, debt.debt_id, debt.amount_cents, debt.at)
        metrics.add_metric(
            name="DebtPaid" if outcome == "credited" else "DuplicateEvent", unit=MetricUnit.Count, value=1
        )
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
    metrics.add_metric(
        name="PurchaseCredited" if outcome == "credited" else "DuplicateEvent", unit=MetricUnit.Count, value=1
    )
    logger.info("payment recorded", extra={"outcome": outcome, "lot": meaning.payment.checkout_id})
    return json_response(200, {"received": True, "outcome": outcome})


REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed", "charge.refunded"})
DISPUTE_EVENTS = frozenset({"charge.dispute.created", "charge.dispute.closed"})
NOT_APPLICABLE = "not_applicable"  # the object lacks what the ledger needs: acknowledged, nothing to record


def _refund_or_dispute(event: stripe.Event) -> str:
    """Refunds made or changed anywhere, and disputes: into the ledger exactly once."""
    store = wiring.ledger()
    if event.type in DISPUTE_EVENTS:
        dispute = read_dispute(event.data.object)
        if dispute is None:  # e.g. a dispute of a charge made without a PaymentIntent: none of ours
            return NOT_APPLICABLE
        closed = event.type == "charge.dispute.closed"
        return services.dispute_changed(
            store, dispute.id, dispute.payment_intent, dispute.amount_cents, dispute.status, closed, event.created
        )
    if event.type == "charge.refunded":  # a charge lists no refunds any more: ask Stripe for them
        payment_intent = charge_payment_intent(event.data.object)
        if not payment_intent:
            return NOT_APPLICABLE
        if store.payment_owner(payment_intent) is None:  # not ours: Stripe need not be asked
            return "ignored"
        refunds = wiring.gateway().refunds_of(payment_intent)
        outcomes = [services.stripe_refund_changed(store, refund, event.created) for refund in refunds]
        return "recorded" if "recorded" in outcomes else "duplicate"
    refund = refund_from_event(event)
    if refund is None:
        return NOT_APPLICABLE
    return services.stripe_refund_changed(store, refund, event.created)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
