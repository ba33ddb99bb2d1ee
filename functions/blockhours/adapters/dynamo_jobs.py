"""Background jobs in the table, and the account pages they walk.

A job is one item, `JOB#<job_id>` / `JOB` (type `job`, which the outbox's stream filter does not admit):
kind (reconcile, requeue), status (running, done, failed), started_at, updated_at, finished_at, `step` (the
number of the invocation that may save next), `resume_key` (the account page's cursor, absent before the
first page and once done), accounts (checked so far), discrepancy_count and the first 200 `discrepancies`
({email, what, todo}), requeued_count and the first 200 `requeued` refund ids, `attempts` at the current step,
`step_accounts`/`step_discrepancies`/`step_requeued` (the step under way, not saved yet: shown while it runs),
and `failure` (why it failed). Every save is conditional on `step` and status running.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from botocore.exceptions import ClientError

from ..domain.jobs import Discrepancy, Job
from .dynamo_items import item, key, plain
from .dynamo_table import DynamoTable

_AT_STEP = "step = :step AND #status = :running"


def job_key(job_id: str) -> tuple[str, str]:
    return f"JOB#{job_id}", "JOB"


def job_from(row: dict[str, Any]) -> Job:
    return Job(
        job_id=str(row["job_id"]),
        kind=row["kind"],
        status=row["status"],
        started_at=int(row["started_at"]),
        updated_at=int(row.get("updated_at", row["started_at"])),
        step=int(row.get("step", 0)),
        cursor=row.get("resume_key"),
        accounts=int(row.get("accounts", 0)),
        discrepancy_count=int(row.get("discrepancy_count", 0)),
        discrepancies=tuple(Discrepancy(**found) for found in row.get("discrepancies", [])),
        requeued_count=int(row.get("requeued_count", 0)),
        requeued=tuple(str(refund_id) for refund_id in row.get("requeued", [])),
        attempts=int(row.get("attempts", 0)),
        step_accounts=int(row.get("step_accounts", 0)),
        step_discrepancies=int(row.get("step_discrepancies", 0)),
        step_requeued=int(row.get("step_requeued", 0)),
        finished_at=row.get("finished_at"),
        error=str(row.get("failure", "")),
    )


def _progress(job: Job) -> dict[str, Any]:
    """What a save writes, besides the step and status."""
    return {
        ":accounts": job.accounts,
        ":found": job.discrepancy_count,
        ":listed": [asdict(found) for found in job.discrepancies],
        ":requeued_count": job.requeued_count,
        ":requeued": list(job.requeued),
        ":at": job.updated_at,
    }


_SET_PROGRESS = (
    "accounts = :accounts, discrepancy_count = :found, discrepancies = :listed, "
    "requeued_count = :requeued_count, requeued = :requeued, updated_at = :at"
)
_NOT_UNDER_WAY = "step_accounts = :zero, step_discrepancies = :zero, step_requeued = :zero"


class JobWrites(DynamoTable):
    def create_job(self, job: Job) -> bool:
        pk, sk = job_key(job.job_id)
        values = {"type": "job", "job_id": job.job_id, "kind": job.kind, "status": job.status, "step": job.step}
        values |= {"started_at": job.started_at, "updated_at": job.updated_at, "attempts": 0}
        return not self._transact([self._put(pk, sk, values)])

    def claim_job(self, job_id: str, step: int, at: int) -> Job | None:
        values: dict[str, Any] = {":one": 1, ":zero": 0, ":at": at, ":step": step, ":running": "running"}
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=key(*job_key(job_id)),
                UpdateExpression=f"SET attempts = attempts + :one, updated_at = :at, {_NOT_UNDER_WAY}",
                ConditionExpression=_AT_STEP,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return job_from(plain(answer["Attributes"]))

    def note_progress(self, job_id: str, step: int, seen: tuple[int, int, int], at: int) -> bool:
        expression = "SET step_accounts = :accounts, step_discrepancies = :found, step_requeued = :requeued"
        values: dict[str, Any] = {":accounts": seen[0], ":found": seen[1], ":requeued": seen[2], ":at": at}
        values |= {":step": step, ":running": "running"}
        update = self._update(*job_key(job_id), expression + ", updated_at = :at", values, _AT_STEP)
        return not self._transact([update])

    def save_job(self, job: Job, step: int) -> bool:
        expression = f"SET {_SET_PROGRESS}, step = :next, attempts = :zero, {_NOT_UNDER_WAY}"
        expression += ", resume_key = :cursor" if job.cursor is not None else " REMOVE resume_key"
        values = _progress(job) | {":next": job.step, ":zero": 0, ":step": step, ":running": "running"}
        if job.cursor is not None:
            values[":cursor"] = job.cursor
        return not self._transact([self._update(*job_key(job.job_id), expression, values, _AT_STEP)])

    def finish_job(self, job: Job, step: int, alert: dict[str, Any] | None) -> bool:
        """Done, and the shop's alert if any, in one transaction: a retried last step changes nothing."""
        expression = f"SET {_SET_PROGRESS}, #status = :done, finished_at = :at, step = :next, {_NOT_UNDER_WAY}"
        expression += " REMOVE resume_key"
        values = _progress(job) | {":done": "done", ":next": step + 1, ":zero": 0, ":step": step, ":running": "running"}
        writes = [self._update(*job_key(job.job_id), expression, values, _AT_STEP)]
        if alert is not None:
            writes.append(self._put(f"ALERT#job-{job.job_id}", "ALERT", {"type": "alert", **alert}))
        return not self._transact(writes)

    def fail_job(self, job_id: str, step: int, at: int, error: str) -> bool:
        expression = f"SET #status = :failed, failure = :failure, finished_at = :at, updated_at = :at, {_NOT_UNDER_WAY}"
        values: dict[str, Any] = {":failed": "failed", ":failure": error[:1000], ":at": at, ":zero": 0}
        values |= {":step": step, ":running": "running"}
        return not self._transact([self._update(*job_key(job_id), expression, values, _AT_STEP)])


def _cursor(pk: str, sk: str) -> str:
    return json.dumps({"pk": pk, "sk": sk}, sort_keys=True)
