"""The ledger's store in memory: the same port, reads and conditions as DynamoDB's, in microseconds."""

from __future__ import annotations

from blockhours.adapters.store import TableStore

from .memory_table import MemoryTable


class MemoryLedger(TableStore):
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.rows = self.table = table or MemoryTable()
