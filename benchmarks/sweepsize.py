"""The daily sweep against table size: what it reads to find the accounts that are due, at 1k to 100k accounts."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness import DynamoCalls

DAY = 86_400
DUE = 10
BATCH = 25  # DynamoDB's limit for one batch_write_item


@dataclass(frozen=True)
class SweepAtSize:
    wanted: int
    accounts: int  # fewer than wanted when seeding ran out of its time budget
    due: int
    index_items: int  # ScannedCount of the sweep's index query: what DynamoDB reads to find who is due
    items_read: int  # every item read: the index query, then each due account's lots
    calls: int
    seconds: float  # the sweep's wall time against the embedded AWS
    seeded: int  # accounts written to grow the table to this size
    seeding: float


def _account(n: int, due_at: int) -> dict[str, Any]:
    """An account holding credit, with what the sparse refund-due index projects: in the index, as a credit
    leaves it (the rest of an account item plays no part in the sweep and would only slow moto down)."""
    email = f"client-{n}@example.com"
    return {
        "PutRequest": {
            "Item": {
                "pk": {"S": f"CUST#{email}"},
                "sk": {"S": "ACCOUNT"},
                "email": {"S": email},
                "due_shard": {"S": "DUE"},
                "refund_due_at": {"N": str(due_at)},
                "available_cents": {"N": "500"},
                "available_minutes": {"N": "5"},
            }
        }
    }


def seed(client: Any, table: str, numbers: Iterable[int], due_at: int) -> None:
    rows = [_account(n, due_at + n % DAY) for n in numbers]
    for first in range(0, len(rows), BATCH):
        batch: dict[str, Any] = {table: rows[first : first + BATCH]}
        while batch:
            batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def measure(sizes: Iterable[int], budget: float) -> list[SweepAtSize]:
    """Grow one table (template.yaml's definition) to each size; `DUE` accounts are past their refund date.

    The due accounts hold no lots: the sweep finds them, reads their lots to plan the refund, finds none and keeps
    them. What it reads is the figure; refunding one adds one transaction per account, whatever the table's size
    (section 1). Making those transactions here would time moto, which copies the whole table once per item of
    every TransactWriteItems. Seeding stops after `budget` seconds in all; the sweep is then measured at the size
    reached.
    """
    import boto3
    from botocore.config import Config

    from blockhours import catalog as catalog_module
    from blockhours import services
    from blockhours.adapters.dynamo import DynamoLedger
    from blockhours_dev import template
    from blockhours_dev.embedded_aws import EmbeddedAWS

    catalog = catalog_module.load()
    aws = EmbeddedAWS().start()
    try:
        options: dict[str, Any] = {"endpoint_url": aws.endpoint, "region_name": "us-east-1"}
        options |= {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        seeder = boto3.client("dynamodb", config=Config(parameter_validation=False), **options)
        client = boto3.client("dynamodb", **options)
        table = "bench-sweep"
        definition = template.table_definition()
        definition.pop("StreamSpecification", None)  # no part in the sweep; moto keeps a record of every write
        client.create_table(TableName=table, **definition)
        store, counter = DynamoLedger(table, client), DynamoCalls(client)
        now, have, spent, found = int(time.time()), 0, 0.0, []
        seed(seeder, table, range(1_000_000, 1_000_000 + DUE), now - 30 * DAY)  # past due for a month
        for size in sizes:
            started, before = time.perf_counter(), have
            while have < size - DUE and spent + time.perf_counter() - started < budget:
                step = min(size - DUE, have + 5_000)
                seed(seeder, table, range(have, step), now + 200 * DAY)  # in the index, due in months
                have = step
            seeding = time.perf_counter() - started
            spent += seeding
            counter.clear()
            started = time.perf_counter()
            report = services.sweep(catalog, store, now=now)
            took = time.perf_counter() - started
            assert report.read == DUE and len(report.kept) == DUE, report
            index = next(n for name, n in counter.read if name == "Query")
            items = sum(n for _, n in counter.read)
            reached = have + DUE
            found.append(
                SweepAtSize(size, reached, DUE, index, items, len(counter.calls), took, have - before, seeding)
            )
            if reached < size:
                break
        return found
    finally:
        aws.stop()


def misses(found: list[SweepAtSize]) -> list[str]:
    """Sizes where the sweep read more of the index than the due accounts, or made more than 1 + 1 per due call."""
    return [
        f"sweep at {row.accounts:,} accounts: {row.calls} calls / {row.index_items} index items,"
        f" target {1 + row.due} / {row.due}"
        for row in found
        if row.calls > 1 + row.due or row.index_items > row.due
    ]


def show(found: list[SweepAtSize]) -> None:
    print(
        f"The sweep against table size: every account holds credit (all in the index), {DUE} are past due"
        " (template.yaml's table, without its stream)"
    )
    print("  (items read: ScannedCount of each Query and items found by GetItem, from botocore after-call hooks)")
    print(
        f"  {'accounts':>9} {'due':>4} {'index items':>12} {'items read':>11} {'target':>7} {'calls':>6}"
        f" {'sweep s':>8}   seeding (batch_write_item)"
    )
    for row in found:
        rate = row.seeded / row.seeding if row.seeding else 0
        print(
            f"  {row.accounts:>9,} {row.due:>4} {row.index_items:>12} {row.items_read:>11} {row.due:>7} {row.calls:>6}"
            f" {row.seconds:>8.2f}   +{row.seeded:,} in {row.seeding:.0f} s ({rate:,.0f} items/s)"
        )
        if row.accounts < row.wanted:
            print(
                f"  {row.wanted:,} accounts NOT reached: moto stored {rate:,.0f} items/s here and seeding stopped at"
                f" its time budget; the row above is the largest table measured."
            )
    print(
        f"  target: the index query reads only the {DUE} due accounts, whatever the table holds; calls = 1 + one lot"
        " read per due account (no lots here; refunding adds one transaction each, see above)."
    )
    print(
        "  sweep s is moto's time: its Query walks and sorts every item of the table for an index query"
        " (DynamoDB reads only the matching range), so it grows with the table while the items read do not."
    )


if __name__ == "__main__":
    import sys

    import harness

    harness.quiet()
    sizes = tuple(int(size) for size in sys.argv[1:]) or (1_000, 10_000)
    measured = measure(sizes, 120.0)
    show(measured)
    for line in misses(measured):
        print(f"ROUND-TRIP TARGET MISSED: {line}", file=sys.stderr)
    sys.exit(1 if misses(measured) else 0)
