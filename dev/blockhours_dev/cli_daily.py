"""The daily run from the command line: now, on the local stack; as on a past day; or a later day, foretold by the
real runs on a copy of the ledger."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any

import typer

from .cli_app import ApiOption, app, call, client_for, fail, out, shop_date, shop_zone
from .staff_client import StaffError, is_loopback


@app.command()
def sweep(
    at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            formats=["%Y-%m-%d"],
            help="Local stack: run it as on this past day; a later day previews, day by day, what the runs will do.",
        ),
    ] = None,
    api: ApiOption = None,
) -> None:
    """Run the daily run now (local stack): refund warnings and stale refunds, bills on account, dunning.

    With --at a past day it runs as on that day; a later day is only a preview: the real runs, on a copy of the
    ledger, since entries dated ahead of the clock would show on clients' pages (and a debt then be -1 days old)."""
    client = client_for(api)
    if not is_loopback(client.api):
        raise fail(
            StaffError(
                "the deployed sweep runs daily on its schedule; run it now with `aws lambda invoke "
                "--function-name <the stack's SweepFunction> out.json`"
            )
        )
    day = ""
    if at:
        call(api, "GET", "/api/health")  # the shop's zone: the run goes at 10:00 there, as the schedule's does
        if at.date() != datetime.now(shop_zone.get()).date():  # today runs now: 10:00 may be ahead of the clock
            day = f"?now={int(at.replace(hour=10, tzinfo=shop_zone.get()).timestamp())}"
    report = call(api, "POST", f"/_local/sweep{day}")
    if report.get("preview"):
        _print_preview(report)
        return
    billing, dunning = report["billing"], report["dunning"]
    out.print(
        f"read {report['read']} accounts due: {len(report['warned'])} warned, {len(report['refunded'])} refunded, "
        f"{len(report['kept'])} kept on their balance for now\n"
        f"billing: bills sent {len(billing['billed'])}; dunning: reminders sent {len(dunning['reminded'])}, "
        f"back to prepaying {len(dunning['prepay'])}, into collections {len(dunning['collections'])}",
        highlight=False,
    )


def _print_preview(report: dict[str, Any]) -> None:
    """A later day's runs, foretold: the real daily run on each scheduled day, on a copy the stack then dropped."""
    runs = report["runs"]
    out.print(
        f"preview of the daily runs up to {shop_date(report['at'])}; nothing was written\n"
        f"({len(runs)} {'run' if len(runs) == 1 else 'runs'} from {shop_date(runs[0]['at'])}, on a copy of the ledger "
        "that is then dropped, Stripe not asked: entries dated after today would show on clients' pages)",
        highlight=False,
    )
    steps = [(run["at"], step["step"], step["who"]) for run in runs for step in run["steps"]]
    kinds = ("refund warning", "stale refund", "bill", "reminder", "back to prepaying", "collections")
    counts = Counter("reminder" if step.startswith("reminder ") else step for _, step, _ in steps)
    out.print(", ".join(f"{kind} {counts[kind]}" for kind in kinds), highlight=False)
    for at, step, who in steps:  # plain print: rich would fold a long email or id at the terminal's width
        print(f"  {shop_date(at)}  {step}: {who}")
    if not steps:
        print("  nothing to do on any of those days")
