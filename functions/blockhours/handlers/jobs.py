"""The jobs function: one step of a reconcile or requeue, invoked asynchronously with `{"job_id", "step"}` by the
API (step 0) or by the step before it."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config, services, wiring
from .telemetry import logger, tracer

config.at_cold_start(config.store, config.queues, config.jobs, secrets=("STRIPE_API_KEY",))


def _now() -> int:
    return int(time.time())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job_id, step = str(event["job_id"]), int(event["step"])
    tools = services.JobTools(gateway=wiring.gateway, refund_queue=wiring.refund_queue)
    job = services.run_step(
        wiring.ledger(), wiring.jobs(), tools, job_id, step, context.get_remaining_time_in_millis, _now
    )
    if job is None:
        logger.info("job step already taken up or done: nothing to do", extra={"job_id": job_id, "step": step})
        return {"job_id": job_id, "step": step, "outcome": "skipped"}
    outcome = "done" if job.status == "done" else "continued"
    logger.info(
        "job step " + outcome,
        extra={"job_id": job_id, "step": step, "accounts": job.accounts, "discrepancies": job.discrepancy_count},
    )
    return {"job_id": job_id, "step": step, "outcome": outcome, "accounts": job.accounts}
