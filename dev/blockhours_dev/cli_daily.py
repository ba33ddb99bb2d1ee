"""The daily run from the command line: now, on the local stack; as on a past day; or a later day, foretold."""

from __future__ import annotations

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
            help="Local stack: run it as on this past day; a later day only previews what the runs will do by then.",
        ),
    ] = None,
    api: ApiOption = None,
) -> None:
    """Run the daily run now (local stack): refund warnings and stale refunds, bills on account, dunning.

    With --at a past day it runs as on that day; a later day is only a preview, since entries dated ahead of the
    clock would show on clients' pages (and a debt opened then would be -1 days old)."""
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
    """A later day's runs, foretold: who each step reaches by then; the local stack wrote nothing."""
    billing, dunning = report["billing"], report["dunning"]
    steps = {
        "refund warning": report["warned"],
        "stale refund": report["refunded"],
        "bill": billing["billed"],
        "reminder": dunning["reminded"],
        "back to prepaying": dunning["prepay"],
        "collections": dunning["collections"],
    }
    out.print(
        f"preview of the daily runs up to {shop_date(report['at'])}; nothing was written "
        "(entries dated after today would show on clients' pages)",
        highlight=False,
    )
    out.print(", ".join(f"{step} {len(who)}" for step, who in steps.items()), highlight=False)
    for step, who in steps.items():
        for one in who:
            print(f"  {step}: {one}")
