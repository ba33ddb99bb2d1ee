"""The refund queue (SQS): each message names one requested refund for the worker."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


class SqsRefundQueue:
    def __init__(self, url: str, client: SQSClient | None = None) -> None:
        self.url = url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client

    def send(self, email: str, refund_id: str) -> None:
        self.client.send_message(QueueUrl=self.url, MessageBody=json.dumps({"email": email, "refund_id": refund_id}))
