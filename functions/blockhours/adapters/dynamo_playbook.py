"""What is left of the playbook's hand-written writes: the quote a payment's credit closes (adapters/dynamo.py).

The use cases commit domain/playbook_changes.py's changes; credit_purchase moves to `quote_closed` with the rest of
the credit.
"""

from __future__ import annotations

from typing import Any

from .dynamo_items import QUOTES_PK, quote_sk
from .dynamo_table import DynamoTable


class PlaybookWrites(DynamoTable):
    def _close_quote(
        self, quote_id: str, status: str, at: int, checkout_id: str, condition: str = "#status = :open"
    ) -> dict[str, Any]:
        return self._update(
            QUOTES_PK,
            quote_sk(quote_id),
            "SET #status = :status, closed_at = :at, checkout_id = :checkout",
            {":status": status, ":at": at, ":checkout": checkout_id, ":open": "open"},
            condition,
        )
