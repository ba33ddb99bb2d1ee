"""The daily run on its schedule (EventBridge Scheduler): stale-balance warnings and refunds, bills on account,
overages Stripe could not be asked for yet, dunning (services.daily_run, which the local preview runs too)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, services, wiring
from .telemetry import logger, metrics, tracer

config.at_cold_start(config.store, config.site, secrets=("STRIPE_API_KEY",))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = int(event["now"]) if event.get("source") == "local" and event.get("now") else None  # the local clock
    report = services.daily_run(wiring.catalog(), wiring.ledger(), wiring.gateway, config.site().url, now)
    metrics.add_metric(name="StaleRefunds", unit=MetricUnit.Count, value=len(report.sweep.refunded))
    done = report.as_dict()
    logger.info("daily run done", extra=done)
    return done
