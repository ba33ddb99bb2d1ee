"""The pulled sources on their schedule (EventBridge Scheduler, every 15 minutes): TeamViewer's and Zoho Assist's
reports read since each cursor, every session received once (services.pull_sources). A source that failed is in
the answer and logged as an error (the ten free custom metrics are taken); its cursor stays for the next run."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, services, wiring
from .telemetry import logger, tracer

config.at_cold_start(config.store, secrets=("STRIPE_API_KEY",))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # answers name clients' tool names
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    local_now = event.get("now") if event.get("source") == "local" else None  # the local clock, when asked
    now = int(local_now) if local_now else int(time.time())
    shop = wiring.catalog()
    reports = services.pull_sources(shop, wiring.ledger(), wiring.gateway, wiring.session_reports(shop), now)
    failed = [report for report in reports if report.error]
    for report in failed:
        logger.error("pull failed", extra=report.as_dict())
    received = sum(sum(report.outcomes.values()) for report in reports)
    done = {"sources": [report.as_dict() for report in reports], "failed": len(failed)}
    logger.info("pulls done", extra={"failed": len(failed), "received": received})
    return done
