"""The shop's playbook from the command line: quotes, balance links, trusted clients on account, and what is owed."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from blockhours.domain.money import format_cents, format_minutes
from blockhours.domain.quotes import new_quote_id

from .cli_app import ApiOption, app, call, err, out, print_rows, shop_date
from .cli_minutes import minutes_argument, minutes_option
from .staff_client import StaffClient


def _pay_links(links: list[tuple[str, str]]) -> None:
    """Each pay link alone on its line under what it pays, not in a table cell: a link is copied whole or not at all."""
    for what, url in links:
        out.print(f"\npay link for {what}:", highlight=False, soft_wrap=True)
        print(url)


@app.command()
def quote(
    email: str,
    minutes: Annotated[int, minutes_argument("The estimate: 90, 1h30, 1:30, 2h.")],
    note: Annotated[str, typer.Option("--note", help="What the work is, for the client.")] = "",
    tech: Annotated[str, typer.Option("--tech", help="Who quotes it.")] = "staff",
    quote_id: Annotated[
        str | None, typer.Option("--quote-id", help="Your id for the quote; sending it again is harmless.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Send it even above the shop's bound (quotes.confirm_above_minutes).")
    ] = False,
    api: ApiOption = None,
) -> None:
    """Price an estimate at the hourly rate, email the client a payment page for it, and print the link."""
    body = {
        "email": email,
        "minutes": minutes,
        "note": note,
        "technician": tech,
        "quote_id": quote_id or new_quote_id(int(time.time())),
        "confirmed": yes,
    }
    sent = call(api, "POST", "/api/quotes", body)
    out.print(
        f"quote {sent['quote_id']} for {sent['email']}: {format_minutes(sent['minutes'])} = "
        f"{format_cents(sent['amount_cents'])}, valid until {shop_date(sent['expires_at'])}; emailed. Pay link:",
        highlight=False,
    )
    print(sent["pay_url"])  # alone on its line, to paste into the remote session's chat


@app.command()
def quotes(api: ApiOption = None) -> None:
    """Recent quotes, newest first: open, paid or expired."""
    found = call(api, "GET", "/api/quotes")["quotes"]
    rows = []
    for q in found:
        status = q["status"] + (f" {shop_date(q['closed_at'])}" if q.get("closed_at") else "")
        if q["status"] == "open":
            status += f" (until {shop_date(q['expires_at'])})"
        rows.append(
            [
                shop_date(q["created_at"]),
                q["quote_id"],
                q["email"],
                format_minutes(q["minutes"]),
                format_cents(q["amount_cents"]),
                status,
                q["note"],
            ]
        )
    print_rows(("sent", "quote", "client", "estimate", "amount", "status", "note"), rows, whole={"quote", "client"})
    _pay_links([(f"quote {q['quote_id']} ({q['email']})", q["pay_url"]) for q in found if q["status"] == "open"])


@app.command()
def link(email: str, api: ApiOption = None) -> None:
    """A fresh link to the client's balance page, signed by the API (the key stays there); only the link on stdout."""
    made = call(api, "POST", StaffClient.customer_path(email, "/link"))
    err.print(f"balance link for {made['email']}, valid until {shop_date(made['expires_at'])}:", highlight=False)
    print(made["url"])  # alone on stdout: to paste into the remote session's chat, or to pipe


@app.command()
def trust(
    email: str,
    limit: Annotated[int, minutes_option("--limit", help="How far below zero their sessions may go: 300, 5h.")],
    tech: Annotated[str, typer.Option("--tech", help="Who decides it.")] = "staff",
    api: ApiOption = None,
) -> None:
    """Let a long-standing client pay afterwards, down to a limit; usage is billed on the catalog's schedule."""
    account = call(
        api, "POST", StaffClient.customer_path(email, "/trust"), {"limit_minutes": limit, "technician": tech}
    )
    out.print(
        f"{account['email']} may now go down to {format_minutes(-limit)} on account; "
        f"next bill {shop_date(account.get('next_bill_at'))}; balance {format_minutes(account['balance_minutes'])}",
        highlight=False,
    )


@app.command()
def untrust(
    email: str,
    tech: Annotated[str, typer.Option("--tech", help="Who decides it.")] = "staff",
    api: ApiOption = None,
) -> None:
    """Move the client back to prepaying; what they already used on account is still billed."""
    account = call(api, "POST", StaffClient.customer_path(email, "/trust"), {"limit_minutes": 0, "technician": tech})
    owed = account["on_account_minutes"]
    out.print(
        f"{account['email']} prepays again"
        + (
            f"; {format_minutes(owed)} on account is billed on {shop_date(account.get('next_bill_at'))}" if owed else ""
        ),
        highlight=False,
    )


@app.command()
def debts(api: ApiOption = None) -> None:
    """What is owed, oldest first: amount, age, every notice sent, and whether it is in collections."""
    report = call(api, "GET", "/api/debts")
    now = report["now"]
    rows = []
    for debt in report["debts"]:
        reminders = max(0, len(debt["notices"]) - 1)
        stage = (
            "collections"
            if debt.get("collections_at")
            else {0: "notice sent", 1: "1 reminder"}.get(reminders, f"{reminders} reminders")
        )
        if debt.get("prepay_at"):
            stage += ", back to prepaying"
        rows.append(
            [
                debt["debt_id"],
                debt["email"],
                debt["description"],
                format_cents(debt["amount_cents"]),
                f"{max(0, now - debt['opened_at']) // 86_400} days",  # opened on a clock a little ahead: today
                ", ".join(shop_date(at)[:10] for at in debt["notices"]),
                stage,
            ]
        )
    columns = ("debt", "client", "what", "amount", "age", "notices sent", "stage")
    print_rows(columns, rows, whole={"debt", "client"})
    total = sum(d["amount_cents"] for d in report["debts"])
    out.print(f"{len(report['debts'])} open debts, {format_cents(total)} owed in all", highlight=False)
    _pay_links([(f"{debt['debt_id']} ({debt['email']})", debt["pay_url"]) for debt in report["debts"]])
