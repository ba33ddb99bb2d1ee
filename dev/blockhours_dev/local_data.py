"""`blockhours dev --data DIR`: what the local stack keeps across restarts, in plain JSON files in DIR.

- `ledger.json` and `ledger.journal`: the ledger table's items. Every write DynamoDB accepts appends the items it
  left (each one's whole new image, or its deletion) to the journal before the answer goes back, so a killed
  stack loses no write that was answered; each start folds the journal into `ledger.json`. Images, not requests:
  folding one twice gives the same table.
- `stripe.json`: the Stripe stand-in's objects (customers, checkouts, payments, saved cards, payment links,
  refunds) and the idempotency keys it honours, written whole after each request that may change them.
- `keys.json`: the balance-link key and the webhook secret, so links already emailed keep working.
- `stack.json`: the port the stack last listened on, which every link names.

moto's own recorder was the other way: it logs every request to every service (the pumps' polls too) and replays
them all, so its file only grows and a replay receives the queues' messages again.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

Item = dict[str, Any]  # DynamoDB JSON: {"pk": {"S": "..."}, ...}
Written = list[tuple[Item, Item | None]]  # each key a write touched, and its item after it (None: deleted)


class DataInUse(Exception):
    """Another running stack keeps its state in the same folder: two journals in one file would mix."""


class KeptData:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._journal: Any = None
        self._held: Any = None
        self._saving = threading.Lock()

    def hold(self) -> None:
        """Claim the folder for this process until it ends (the lock goes with it, even when killed)."""
        self._held = (self.folder / "lock").open("a")
        try:
            fcntl.flock(self._held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._held.close()
            in_use = f"{self.folder} is in use by another `blockhours dev`: stop it, or give this one another --data"
            raise DataInUse(in_use) from None

    def secret(self, name: str, make: Callable[[], str]) -> str:
        """The secret kept under `name`, made and kept the first time."""
        kept: dict[str, str] = _read(self.folder / "keys.json", {})
        if name not in kept:
            kept[name] = make()
            _replace(self.folder / "keys.json", json.dumps(kept, indent=1))
        return kept[name]

    def last_port(self) -> int | None:
        port = _read(self.folder / "stack.json", {}).get("port")
        return port if isinstance(port, int) else None

    def remember_port(self, port: int) -> None:
        _replace(self.folder / "stack.json", json.dumps({"port": port}))

    def ledger(self, key_names: list[str]) -> list[Item]:
        """The table as last kept: ledger.json with the journal folded in, which is then written as the new
        ledger.json and an empty journal (a crash between the two folds the same images again)."""
        items = {_identity(item, key_names): item for item in _read(self.folder / "ledger.json", [])}
        journal = self.folder / "ledger.journal"
        lines = journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []
        for number, line in enumerate(lines, 1):
            try:
                written = json.loads(line)
            except ValueError:
                if number == len(lines):
                    break  # the last line, cut short when the stack was killed mid-write: never answered
                raise
            for key, item in written:
                if item is None:
                    items.pop(_identity(key, key_names), None)
                else:
                    items[_identity(key, key_names)] = item
        kept = list(items.values())
        _replace(self.folder / "ledger.json", json.dumps(kept))
        _replace(journal, "")
        return kept

    def record(self, written: Written) -> None:
        """Append one accepted write to the journal; flushed, so a killed process loses none of it."""
        if self._journal is None:
            descriptor = os.open(self.folder / "ledger.journal", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._journal = os.fdopen(descriptor, "a", encoding="utf-8")
        self._journal.write(json.dumps(written) + "\n")
        self._journal.flush()

    def stripe(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = _read(self.folder / "stripe.json", None)
        return found

    def save_stripe(self, state: Callable[[], dict[str, Any]]) -> None:
        """Write the stand-in's state whole; `state` is taken inside the lock, so the last save is the newest."""
        with self._saving:
            _replace(self.folder / "stripe.json", json.dumps(state()))

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._held is not None:
            self._held.close()  # closing the file releases the lock
            self._held = None


def create_ledger_table(client: Any, table: str, definition: dict[str, Any], data: KeptData | None) -> None:
    """The ledger table as template.yaml defines it, with what `data` kept put back before its stream starts:
    those items were told to the outbox (emails, refunds) when they were first written."""
    kept = data.ledger([key["AttributeName"] for key in definition["KeySchema"]]) if data is not None else []
    stream = definition.pop("StreamSpecification", None) if kept else None
    client.create_table(TableName=table, **definition)
    client.get_waiter("table_exists").wait(TableName=table)
    put_items(client, table, kept)
    if stream is not None:
        client.update_table(TableName=table, StreamSpecification=stream)


def put_items(client: Any, table: str, items: Iterable[Item]) -> None:
    """Write kept items back through DynamoDB's API, 25 a request."""
    pending = [{"PutRequest": {"Item": _wire(item)}} for item in items]
    while pending:
        batch, pending = pending[:25], pending[25:]
        left = client.batch_write_item(RequestItems={table: batch}).get("UnprocessedItems", {})
        pending += left.get(table, [])


def _wire(item: Item) -> Item:
    """An item as kept (binary as base64 text, as DynamoDB's JSON has it) into what boto3 sends (bytes)."""
    return {name: _wire_value(value) for name, value in item.items()}


def _wire_value(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(one) for one in inner]}
    if kind == "L":
        return {"L": [_wire_value(one) for one in inner]}
    if kind == "M":
        return {"M": _wire(inner)}
    return value


def _identity(item: Item, key_names: list[str]) -> str:
    return json.dumps([item.get(name) for name in key_names])


def _read(path: Path, missing: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return missing


def _replace(path: Path, text: str) -> None:
    """Write a file whole or not at all: a new file, synced, then renamed over the old one."""
    fresh = path.with_suffix(path.suffix + ".tmp")
    with fresh.open("w", encoding="utf-8") as file:
        os.chmod(fresh, 0o600)  # the keys, and clients' emails: this user's only
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    fresh.replace(path)
