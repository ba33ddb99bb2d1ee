"""Background jobs run by the jobs function, invoked asynchronously: Lambda queues the event, retries a failed
one twice, and keeps what still fails in FailedEventsQueue (template.yaml, JobsFunction's EventInvokeConfig)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..ports import JobNotStarted


class LambdaJobs:
    def __init__(self, function_name: str, client: Any = None) -> None:
        self.function_name = function_name
        self._client = client

    @property
    def client(self) -> Any:  # boto3-stubs here cover dynamodb, sesv2 and sqs only
        if self._client is None:
            self._client = boto3.client("lambda")
        return self._client

    def start(self, job_id: str, step: int) -> None:
        """Hand one step of the job to the jobs function; Lambda answers 202 once it has queued the event."""
        payload = json.dumps({"job_id": job_id, "step": step}).encode()
        try:
            self.client.invoke(FunctionName=self.function_name, InvocationType="Event", Payload=payload)
        except (ClientError, BotoCoreError) as exc:
            raise JobNotStarted(f"Lambda did not take the job for {self.function_name}: {exc}") from exc
