"""The refund worker: each SQS message names one requested refund; Stripe is asked per lot, once."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, services, wiring
from .telemetry import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)
config.at_cold_start(config.store, secrets=("STRIPE_API_KEY",))


def refund(record: SQSRecord) -> None:
    """A failure here leaves the message on the queue: the next try finds what Stripe already did."""
    job = json.loads(record.body)
    done = services.process_refund(wiring.ledger(), wiring.gateway(), job["email"], job["refund_id"])
    if done is None:
        logger.warning("refund not found", extra=job)
        return
    logger.info("refund processed", extra={"refund_id": done.refund_id, "status": done.status})
    if done.status in ("failed", "partial"):
        metrics.add_metric(name="RefundFailed", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=refund, processor=processor, context=context))
