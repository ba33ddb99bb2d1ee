"""The table's stream → what must follow a committed change: client emails (and, next, queued refunds)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, outbox, wiring
from .telemetry import logger, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
config.at_cold_start(config.site, config.mail, config.owner, config.queues, secrets=("BLOCKHOURS_LINK_SECRET",))


def _context() -> outbox.MailContext:
    return outbox.MailContext(wiring.catalog(), config.site().url, config.links().secret, config.owner().email)


def carry_out(record: DynamoDBRecord) -> None:
    for effect in outbox.effects_for(outbox.Change.from_record(record.raw_event), _context()):
        if isinstance(effect, outbox.RefundJob):
            wiring.refund_queue().send(effect.email, effect.refund_id)
            logger.info("refund queued", extra={"refund_id": effect.refund_id})
        else:
            message_id = wiring.mailer().send(effect)
            logger.info("email sent", extra={"subject": effect.subject, "message_id": message_id})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=carry_out, processor=processor, context=context))
