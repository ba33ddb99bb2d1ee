"""The command line's app and what every command shares: the API client, errors (a usage error too: one line),
dates in the shop's zone, and tables that never cut an id or email.

cli.py, cli_daily.py, cli_jobs.py, cli_playbook.py and cli_sources.py each add commands to `app`; none imports
another's commands.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

# typer 0.29 vendors click and exports no base class for the usage errors it raises (bad value, missing option,
# unknown command); they all derive from this one.
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from .staff_client import StaffClient, StaffError

app = typer.Typer(help="Blockhours: prepaid remote-support time.", no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)
ApiOption = Annotated[
    str | None,
    typer.Option("--api", envvar="BLOCKHOURS_API", help="The Blockhours API (default: the local stack)."),
]


# The shop's time zone, as the API names it on every answer: a technician in another zone, or on a laptop
# set to UTC, reads the times the shop and its clients read (emails, the balance page).
shop_zone: ContextVar[tzinfo] = ContextVar("shop_zone", default=UTC)


def client_for(api: str | None) -> StaffClient:
    return StaffClient(api)


def fail(problem: StaffError) -> typer.Exit:
    err.print(f"[red]error:[/red] {problem}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def shop_date(epoch: int | None) -> str:
    """A date and time in the shop's zone, with its abbreviation: 2027-01-14 21:00 CST."""
    return datetime.fromtimestamp(epoch, shop_zone.get()).strftime("%Y-%m-%d %H:%M %Z") if epoch else "-"


def print_rows(
    columns: Sequence[str], rows: Sequence[Sequence[str]], *, whole: Collection[str], title: str | None = None
) -> None:
    """Rows as a table if every value of the `whole` columns (ids, emails: what a technician copies) shows on one
    line of it at this terminal's width; else each row as a block of `column: value` lines, as psql's expanded
    display does, so a narrow terminal never cuts or folds one."""
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(Text(value) for value in row))  # Text: a note with [brackets] is not rich markup
    lines = ["".join(segment.text for segment in line) for line in out.render_lines(table, pad=False)]
    copied = [value for row in rows for column, value in zip(columns, row, strict=True) if column in whole and value]
    if all(any(value in line for line in lines) for value in copied):
        out.print(table)
        return
    label = max(len(column) for column in columns) + 1
    if title:
        print(title)
    for number, row in enumerate(rows):
        if number:
            print()
        for column, value in zip(columns, row, strict=True):
            print(f"{column + ':':<{label}} {value}")


def _learn_zone(client: StaffClient) -> None:
    if not client.shop_time_zone:
        return  # an API from before the header: its dates were UTC
    try:
        shop_zone.set(ZoneInfo(client.shop_time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        unknown = StaffError(f"the API names a time zone this machine does not know: {client.shop_time_zone}")
        raise fail(unknown) from None


def call(api: str | None, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    client = client_for(api)
    try:
        answer = client.call(method, path, body)
    except StaffError as problem:
        raise fail(problem) from None
    _learn_zone(client)
    return answer


@app.callback()
def _root() -> None:
    """Blockhours: prepaid remote-support time."""


def run() -> None:
    """Run the command line: a usage error is one line on stderr and exit status 2, as every refusal of ours is
    one line; typer's own handler draws it in a framed panel under the usage text."""
    try:
        status = app(standalone_mode=False)  # typer returns the status of a typer.Exit, and raises usage errors
    except NoArgsIsHelpError:
        status = 2  # the help is already printed, as click does for a bare command
    except ClickException as refused:
        ctx = getattr(refused, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = " ".join(refused.format_message().split())
        print(f"error: {message}{hint}", file=sys.stderr)
        status = refused.exit_code
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        status = 1
    sys.exit(status if isinstance(status, int) else 0)
