"""POST /api/stripe/webhook: verify Stripe's signature, then credit a paid checkout exactly once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import services, wiring
from ..adapters.stripe_gateway import WebhookRejected, checkout_event
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
        return error(400, "invalid_signature", str(exc))

    meaning = checkout_event(verified)
    logger.append_keys(stripe_event=meaning.event_id, stripe_event_type=meaning.event_type)
    if meaning.debt is not None:
        debt = meaning.debt
        outcome = services.record_debt_payment(wiring.ledger(), debt.email, debt.session_id, debt.amount_cents, debt.at)
        logger.info("overage payment recorded", extra={"outcome": outcome, "session_id": debt.session_id})
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
