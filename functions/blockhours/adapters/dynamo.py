"""The ledger in one DynamoDB table: the store's reads and its one commit, over DynamoDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .dynamo_table import DynamoTable
from .store import TableStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class DynamoLedger(TableStore, DynamoTable):
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        super().__init__(table, client)
        self.rows = self
