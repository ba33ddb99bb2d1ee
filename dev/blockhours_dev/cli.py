"""The staff command line: record sessions, read balances and the shop's liability, run the local stack."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from blockhours.domain.money import format_cents, format_minutes
from blockhours.statement import signed_cents, signed_minutes

from .cli_app import ApiOption, app, call, client_for, fail, out, print_rows, run, shop_date
from .cli_minutes import minutes_argument, minutes_option
from .staff_client import StaffClient, StaffError


@app.command()
def redeem(
    email: str,
    minutes: Annotated[int, minutes_argument("How long the session lasted: 45, 45m, 1h30, 1:30, 90min.")],
    tech: Annotated[str, typer.Option("--tech", help="Who did the work.")],
    note: Annotated[str, typer.Option("--note", help="What was done, for the client's statement.")] = "",
    charge_overage: Annotated[
        bool, typer.Option("--charge-overage", help="Charge the saved card for time beyond the balance and any limit.")
    ] = False,
    session_id: Annotated[
        str | None, typer.Option("--session-id", help="Your id for the session; sending it again is harmless.")
    ] = None,
    api: ApiOption = None,
) -> None:
    """Record a remote session against the client's balance."""
    body = {
        "email": email,
        "minutes": minutes,
        "technician": tech,
        "note": note,
        "session_id": session_id or uuid.uuid4().hex,
        "charge_overage": charge_overage,
    }
    for attempt in range(4):
        try:
            record = client_for(api).call("POST", "/api/sessions", body)
            break
        except StaffError as problem:
            if problem.code != "busy" or attempt == 3:
                raise fail(problem) from None
            time.sleep(0.2 * (attempt + 1))  # the same session id again: recorded once, whatever happened
    out.print(record["summary"], highlight=False)  # a session id recorded before: when, by whom; nothing changed
    if record["draws"] and record.get("recorded_now", True):
        table = Table("lot", "minutes", "amount", title=f"session {record['session_id']}")
        for draw in record["draws"]:
            table.add_row(draw["lot_id"], str(draw["minutes"]), format_cents(draw["amount_cents"]))
        out.print(table)


@app.command()
def balance(email: str, api: ApiOption = None) -> None:
    """What the client has left, lot by lot."""
    ledger = call(api, "GET", StaffClient.customer_path(email))
    account = ledger["account"]
    out.print(
        f"{account['email']}: {format_minutes(account['available_minutes'])} "
        f"({format_cents(account['available_cents'])}) available"
        + (f", {format_cents(account['owed_cents'])} owed" if account.get("owed_cents") else "")
        + (
            f", {format_minutes(account['on_account_minutes'])} on account"
            f" ({format_cents(account['on_account_cents'])}, limit {format_minutes(account['trust_limit_minutes'])},"
            f" {format_minutes(max(account['credit_left_minutes'], 0))} of it left)"
            if account.get("trust_limit_minutes") or account.get("on_account_minutes")
            else ""
        )
        + (" [in collections: no new sessions]" if account.get("collections_debts") else "")
        + (f" [account {account['status']}]" if account["status"] != "active" else ""),
        highlight=False,
    )
    if account.get("refund_due_at"):  # the account's, not a lot's: any session or purchase moves it on
        out.print(
            f"refund due {shop_date(account['refund_due_at'])} (a session or purchase before then moves it on)",
            highlight=False,
        )
    rows = [
        [
            shop_date(lot["created_at"]),
            lot["lot_id"],
            lot["kind"] + (" (settled)" if lot.get("closed_at") else ""),
            str(lot["minutes"]),
            str(lot["remaining_minutes"]),
            format_cents(lot["remaining_cents"]),
        ]
        for lot in ledger["lots"]
    ]
    if not rows:
        out.print("no prepaid time bought yet", highlight=False)
        return
    print_rows(("bought", "lot", "kind", "minutes", "left", "left $"), rows, whole={"lot"})


@app.command()
def statement(email: str, api: ApiOption = None) -> None:
    """The client's statement, row by row in the order things happened, in the words of their balance page."""
    ledger = call(api, "GET", StaffClient.customer_path(email))
    table = Table("date", "what", "time", "amount", "note", title=f"statement for {ledger['account']['email']}")
    for row in ledger["statement"]:
        table.add_row(
            shop_date(row["at"]),
            row["words"],
            signed_minutes(row["minutes"]),
            signed_cents(row["amount_cents"], "usd"),
            row["note"],
        )
    out.print(table)
    account = ledger["account"]
    owed = sum(debt["amount_cents"] for debt in ledger["debts"] if debt["status"] == "open")
    out.print(
        f"Balance: {format_minutes(account['available_minutes'])} ({format_cents(account['available_cents'])})"
        + (
            f"; on account, billed later: {format_minutes(account['on_account_minutes'])}"
            f" ({format_cents(account['on_account_cents'])})"
            if account.get("on_account_minutes")
            else ""
        )
        + (f"; owed: {format_cents(owed)}" if owed else ""),
        highlight=False,
    )


@app.command()
def customers(api: ApiOption = None) -> None:
    """Who holds prepaid credit, largest first."""
    holders = call(api, "GET", "/api/customers")["customers"]
    rows = [
        [
            holder["email"],
            str(holder["available_minutes"]),
            format_cents(holder["available_cents"]),
            shop_date(holder["last_activity_at"]),
            shop_date(holder["refund_due_at"]),
        ]
        for holder in holders
    ]
    print_rows(("customer", "minutes", "balance", "last session or purchase", "refund due"), rows, whole={"customer"})
    out.print(f"{len(holders)} customers hold credit")


@app.command()
def liability(api: ApiOption = None) -> None:
    """What the shop holds for clients (available, set aside for a refund, being refunded) and what they owe it."""
    report = call(api, "GET", "/api/reports/liability")
    currency = report["currency"]
    rows = [*report["by_age"], {"label": "total", **{k.removeprefix("total_"): v for k, v in report.items()}}]
    held = Table("since last activity", "accounts", "minutes", "available", "set aside for refund", "being refunded")
    held.add_column("held", style="bold")
    held.title = "held for clients (prepaid liability)"
    owed = Table("since last activity", "overage owed", "on account", title="owed by clients")
    owed.add_column("owed", style="bold")
    for row in rows:
        cents = [format_cents(row[name], currency) for name in ("cents", "awaiting_refund_cents", "refunding_cents")]
        held.add_row(
            row["label"], str(row["accounts"]), str(row["minutes"]), *cents, format_cents(row["held_cents"], currency)
        )
        owing = [format_cents(row[name], currency) for name in ("owed_cents", "on_account_cents", "clients_owe_cents")]
        owed.add_row(row["label"], *owing)
    out.print(held)
    out.print(owed)


@app.command()
def release(
    email: str,
    tech: Annotated[str, typer.Option("--tech", help="Who releases it.")] = "staff",
    api: ApiOption = None,
) -> None:
    """Lift the hold a lost dispute put on the client's account: sessions and refunds run again."""
    ledger = call(api, "POST", StaffClient.customer_path(email, "/release"), {"technician": tech})
    account = ledger["account"]
    owed = sum(d["amount_cents"] for d in ledger["debts"] if d["status"] == "open")
    out.print(
        f"{account['email']}: released; the account is {account['status']}"
        + (f" ({format_cents(owed)} still owed: see `blockhours debts`)" if owed else ""),
        highlight=False,
    )


@app.command()
def waive(
    email: str,
    debt_id: str,
    tech: Annotated[str, typer.Option("--tech", help="Who waives it.")] = "staff",
    api: ApiOption = None,
) -> None:
    """Waive what a lost dispute left owed (the debt id from `blockhours debts`)."""
    path = StaffClient.customer_path(email, f"/debts/{quote(debt_id, safe='')}/waive")
    ledger = call(api, "POST", path, {"technician": tech})
    out.print(f"{ledger['account']['email']}: debt {debt_id} waived", highlight=False)


@app.command()
def settle(
    email: str,
    tech: Annotated[str, typer.Option("--tech", help="Who settles it.")] = "staff",
    api: ApiOption = None,
) -> None:
    """Close the client's deposit; what is left of it awaits its refund."""
    ledger = call(api, "POST", StaffClient.customer_path(email, "/settle"), {"technician": tech})
    settled = [e for e in ledger["entries"] if e["kind"] == "settled"][-1]
    out.print(
        f"{ledger['account']['email']}: deposit settled; {format_minutes(settled['minutes'])} "
        f"({format_cents(settled['amount_cents'])}) unused, to be refunded to the card",
        highlight=False,
    )


@app.command()
def refund(
    email: str,
    minutes: Annotated[
        int | None, minutes_option("--minutes", help="Refund only this much (default: all that is left): 90, 1h30.")
    ] = None,
    tech: Annotated[str, typer.Option("--tech", help="Who asks for it.")] = "staff",
    api: ApiOption = None,
) -> None:
    """Refund the client's unused balance (or part of it) to the cards it came from."""
    body: dict[str, Any] = {"technician": tech}
    if minutes is not None:
        body["minutes"] = minutes
    record = call(api, "POST", StaffClient.customer_path(email, "/refund"), body)
    out.print(
        f"{record['email']}: refund of {format_minutes(record['minutes'])} ({format_cents(record['amount_cents'])}) "
        f"requested as {record['refund_id']}; the worker asks Stripe now",
        highlight=False,
        soft_wrap=True,  # the refund id whole, however narrow the terminal
    )
    rows = [
        [part["lot_id"], part["payment_intent"], str(part["minutes"]), format_cents(part["amount_cents"])]
        for part in record["parts"]
    ]
    print_rows(("lot", "payment", "minutes", "amount"), rows, whole={"lot", "payment"})


def main() -> None:
    run()


# After the commands above, so `blockhours --help` lists redeem first: reconcile, requeue, job; quote, trust...
from . import cli_daily, cli_dev, cli_import, cli_jobs, cli_playbook, cli_sources  # noqa: E402, F401

if __name__ == "__main__":
    main()
