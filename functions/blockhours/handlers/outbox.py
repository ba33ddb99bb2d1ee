"""The table's stream → what must follow a committed change: client emails (and, next, queued refunds)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, outbox, wiring
from .http import logger

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _context() -> outbox.MailContext:
    return outbox.MailContext(wiring.catalog(), config.site().url, config.links().secret)


def send_for(record: DynamoDBRecord) -> None:
    for email in outbox.emails_for(outbox.Change.from_record(record.raw_event), _context()):
        message_id = wiring.mailer().send(email)
        logger.info("email sent", extra={"subject": email.subject, "message_id": message_id})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=send_for, processor=processor, context=context))
