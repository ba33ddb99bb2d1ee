"""The daily run (EventBridge Scheduler): stale-balance warnings and refunds, bills on account, overages Stripe
could not be asked for yet, dunning."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, services, wiring
from .http import logger, metrics, tracer

config.at_cold_start(config.store, config.site, secrets=("STRIPE_API_KEY",))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    catalog, store, site = wiring.catalog(), wiring.ledger(), config.site().url
    now = int(event["now"]) if event.get("source") == "local" and event.get("now") else None  # the local clock
    report = services.sweep(catalog, store, now=now)
    bills = services.bill_on_account(catalog, store, wiring.gateway(), site, now=now)
    overages = services.finish_pending_overages(
        catalog, store, wiring.gateway, now if now is not None else int(time.time())
    )
    dunning = services.chase_debts(catalog, store, now=now)
    metrics.add_metric(name="StaleRefunds", unit=MetricUnit.Count, value=len(report.refunded))
    done = asdict(report) | {"billing": asdict(bills), "overages finished": overages, "dunning": asdict(dunning)}
    logger.info("daily run done", extra=done)
    return done
