"""Sessions from remote-support tools at the command line: teach which account a tool's client name is
(`blockhours map`), and work the inbox of sessions waiting for a person (list, assign, confirm, dismiss); every
answer ends with the client's balance left and whether the account is on hold."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer

from blockhours.domain.money import format_minutes

from .cli_app import ApiOption, app, call, err, out, print_rows, shop_date
from .cli_minutes import minutes_option

inbox_app = typer.Typer(help="Tools' sessions waiting for a person: unmatched, to confirm, refused.")
app.add_typer(inbox_app, name="inbox")
integrations_app = typer.Typer(help="Set up the remote-support tools that report sessions by themselves.")
app.add_typer(integrations_app, name="integrations")
PUSHING = ("screenconnect",)  # tools that post to a URL of ours (the others are polled or post with a Bearer secret)
TechOption = Annotated[str, typer.Option("--tech", help="Who is doing this (kept on the item).")]


def _said(answer: dict[str, Any]) -> str:
    """One line: what became of the session, then the balance and hold the technician must see."""
    item = answer["item"]
    what = {
        "redeemed": f"redeemed {answer['billed_minutes']} min as session {answer['session_id']}",
        "inbox": f"waiting in the inbox ({item['reason']}{': ' + item['problem'] if item['problem'] else ''})",
        "free": f"free: {item['used_minutes']} min is under the source's free threshold",
        "dismissed": "dismissed: it is not billed",
        "duplicate": f"already handled ({item['outcome'] or item['reason']})",
    }[answer["outcome"]]
    line = f"{answer['inbox_id']}: {what}"
    if answer["balance_minutes"] is not None:
        line += f"; {item['email']} has {answer['balance_minutes']} min left"
    if answer["on_hold"]:
        line += f"; ON HOLD: {answer['hold_reason']}"
    return line


def _print(answer: dict[str, Any]) -> None:
    out.print(_said(answer), highlight=False, soft_wrap=True)
    for other in answer.get("also", []):
        out.print(_said(other), highlight=False, soft_wrap=True)


@app.command("map")
def map_client(
    source: Annotated[str, typer.Argument(help="The tool, as catalog.yaml's integrations name it: screenconnect.")],
    client_ref: Annotated[str, typer.Argument(help='What the tool calls the client: "Acme Dental".')],
    email: Annotated[str, typer.Argument(help="The client's account.")],
    tech: TechOption = "staff",
    api: ApiOption = None,
) -> None:
    """Teach once which account a tool's client name is; its sessions waiting in the inbox go on at once."""
    body = {"source": source, "client_ref": client_ref, "email": email, "technician": tech}
    answer = call(api, "POST", "/api/mappings", body)
    out.print(f'{source} "{client_ref}" is {answer["email"]} from now on', highlight=False, soft_wrap=True)
    for applied in answer["applied"]:
        out.print(_said(applied), highlight=False, soft_wrap=True)


@inbox_app.callback(invoke_without_command=True)
def inbox(ctx: typer.Context, api: ApiOption = None) -> None:
    """List the sessions waiting, oldest first (ids are whole: copy them into assign, confirm or dismiss)."""
    if ctx.invoked_subcommand is not None:
        return
    items = call(api, "GET", "/api/inbox")["items"]
    if not items:
        out.print("the inbox is empty: every session the tools reported is redeemed, dismissed or free")
        return
    rows = [
        [
            item["inbox_id"],
            item["reason"] + (f" ({item['problem']})" if item["problem"] else ""),
            item["client_ref"],
            item["email"] or "-",
            _standing(item),
            item["technician"],
            f"{item['minutes']} min",
            shop_date(item["started_at"]),
            item["notes"],
        ]
        for item in items
    ]
    columns = ["id", "why", "client (tool)", "email", "client's balance", "technician", "time", "started", "notes"]
    print_rows(columns, rows, whole={"id", "email"})


def _standing(item: dict[str, Any]) -> str:
    """What the client has left and whether they may take sessions, before anyone connects again."""
    if item.get("balance_minutes") is None:
        return "-"
    return format_minutes(item["balance_minutes"]) + (" (on hold)" if item.get("on_hold") else "")


@inbox_app.command("assign")
def assign(
    inbox_id: Annotated[str, typer.Argument(help="The item's id, from `blockhours inbox`.")],
    email: Annotated[str, typer.Argument(help="The client's account; the tool's name for it is learnt.")],
    tech: TechOption = "staff",
    api: ApiOption = None,
) -> None:
    """The session is this client's: learnt for next time, and redeemed or held by the source's policy."""
    _print(call(api, "POST", f"/api/inbox/{quote(inbox_id, safe='')}/assign", {"email": email, "technician": tech}))


@inbox_app.command("confirm")
def confirm(
    inbox_id: Annotated[str, typer.Argument(help="The item's id, from `blockhours inbox`.")],
    minutes: Annotated[
        int | None, minutes_option("--minutes", help="The time to bill instead of the tool's: 45, 1h30, 1:30.")
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="For the client's statement (default: the tool's notes).")
    ] = None,
    tech: TechOption = "staff",
    api: ApiOption = None,
) -> None:
    """Redeem a waiting session (a refused one too, once the client can pay)."""
    body: dict[str, Any] = {"technician": tech}
    if minutes is not None:
        body["minutes"] = minutes
    if note is not None:
        body["note"] = note
    _print(call(api, "POST", f"/api/inbox/{quote(inbox_id, safe='')}/confirm", body))


@inbox_app.command("dismiss")
def dismiss(
    inbox_id: Annotated[str, typer.Argument(help="The item's id, from `blockhours inbox`.")],
    tech: TechOption = "staff",
    api: ApiOption = None,
) -> None:
    """Not a session to bill (a test, the shop's own machine): it leaves the inbox, recorded as dismissed."""
    _print(call(api, "POST", f"/api/inbox/{quote(inbox_id, safe='')}/dismiss", {"technician": tech}))


@integrations_app.command("url")
def integration_url(
    source: Annotated[str, typer.Argument(help="The tool that posts its events: screenconnect.")],
    api: ApiOption = None,
) -> None:
    """Print the URL to paste into the tool's trigger (it carries the source's secret: keep it as a password)."""
    if source not in PUSHING:
        err.print(f"error: {source} does not post to a URL; only {', '.join(PUSHING)} does (infra/README.md)")
        raise typer.Exit(2)
    out.print(call(api, "GET", f"/api/integrations/{quote(source)}/url")["url"], highlight=False, soft_wrap=True)
