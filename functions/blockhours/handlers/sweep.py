"""The daily sweep (EventBridge Scheduler): warnings first, then refunds of balances idle too long."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, services, wiring
from .http import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = services.sweep(wiring.catalog(), wiring.ledger(), wiring.mailer().send, config.site().url)
    metrics.add_metric(name="StaleRefunds", unit=MetricUnit.Count, value=len(report.refunded))
    logger.info("sweep done", extra=asdict(report))
    return asdict(report)
