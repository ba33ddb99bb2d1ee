"""`blockhours import FILE --source NAME`: a tool's CSV export read with catalog.yaml's column mapping for the
source, previewed (each session, its client known or not, its minutes) or, with --apply, recorded once per tool
session through the staff route (IAM: no tool secret on a laptop). A bad row stops it all: nothing is sent.
`blockhours pull` runs the scheduled pull of TeamViewer and Zoho Assist now, on the local stack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from blockhours.config import CatalogError

from .cli_app import ApiOption, app, call, client_for, fail, out, print_rows, shop_date
from .staff_client import StaffError, is_loopback

if TYPE_CHECKING:
    from blockhours.sessions_csv import CsvColumns

BATCH = 100  # handlers.inbox_routes.IMPORT_BATCH: a request the API function applies well within its time


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="The tool's session export (CSV with a header row).")],
    source: Annotated[str, typer.Option("--source", help="The integration in catalog.yaml with a csv: mapping.")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Record the sessions (default: preview, writes nothing).")
    ] = False,
    api: ApiOption = None,
) -> None:
    """Preview a tool's export, then record it with --apply: once per session, however often it is imported."""
    columns = _columns(source)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as problem:
        raise fail(StaffError(f"cannot read {file}: {problem.strerror}")) from None
    from blockhours.sessions_csv import read_sessions  # the catalog's models: for this command only, not every one

    read = read_sessions(text, columns, source)
    if not read.ok:
        for bad in read.bad_rows:
            out.print(f"{file.name} {bad}", highlight=False, soft_wrap=True)
        raise fail(StaffError(f"{len(read.bad_rows)} bad row(s): nothing imported; fix them and run it again"))
    if not read.sessions:
        raise fail(StaffError(f"{file.name} has no sessions"))
    path = f"/api/integrations/{quote(source, safe='')}/import"
    sent = [
        {
            "external_id": s.external_id,
            "technician": s.technician,
            "client_ref": s.client_ref,
            "started_at": s.started_at,
            "duration_seconds": s.duration_seconds,
            "ended_at": s.ended_at,
            "machine": s.machine,
            "notes": s.notes,
            "payload": s.payload,
        }
        for s in read.sessions
    ]
    batches = [sent[i : i + BATCH] for i in range(0, len(sent), BATCH)]
    if not apply:
        rows = [row for batch in batches for row in call(api, "POST", path, {"sessions": batch})["preview"]]
        _print_preview(rows, source)
        return
    answers = [a for batch in batches for a in call(api, "POST", path, {"sessions": batch, "apply": True})["answers"]]
    counts: dict[str, int] = {}
    for answer in answers:
        counts[answer["outcome"]] = counts.get(answer["outcome"], 0) + 1
    said = ", ".join(f"{counts[o]} {o}" for o in ("redeemed", "inbox", "free", "duplicate") if o in counts)
    out.print(f"{source}: {len(answers)} sessions: {said}", highlight=False, soft_wrap=True)


def _columns(source: str) -> CsvColumns:
    from blockhours.catalog import load

    try:
        shop = load()
    except CatalogError as problem:
        raise fail(StaffError(str(problem))) from None
    policy = shop.integration(source)
    if policy is None or policy.csv is None:
        with_csv = ", ".join(sorted(n for n, p in shop.integrations.items() if p.csv is not None)) or "none yet"
        raise fail(StaffError(f"{source} has no csv: column mapping in catalog.yaml (sources with one: {with_csv})"))
    return policy.csv


def _print_preview(rows: list[dict[str, Any]], source: str) -> None:
    table = [
        [
            row["external_id"],
            shop_date(row["started_at"]),
            row["technician"],
            row["client_ref"],
            row["email"] or "not matched: waits in the inbox",
            f"{row['billable_minutes']} min" + (" (free)" if row["billable_minutes"] == 0 else ""),
            "already recorded" if row["recorded_before"] else "new",
        ]
        for row in rows
    ]
    print_rows(["id", "started", "technician", "client (tool)", "account", "billed", ""], table, whole={"id"})
    new = [row for row in rows if not row["recorded_before"]]
    matched = sum(1 for row in new if row["email"])
    minutes = sum(row["billable_minutes"] for row in new if row["email"])
    out.print(
        f"{source}: {len(rows)} rows, {len(new)} new ({matched} with a known client, {minutes} min to bill); "
        "nothing written: add --apply to record them",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def pull(api: ApiOption = None) -> None:
    """Run the scheduled pull now (local stack): TeamViewer's and Zoho Assist's reports since each cursor."""
    if not is_loopback(client_for(api).api):
        raise fail(
            StaffError(
                "the deployed pull runs every 15 minutes; run it now with `aws lambda invoke "
                "--function-name <the stack's PullsFunction> out.json`"
            )
        )
    report = call(api, "POST", "/_local/pulls")
    for source in report["sources"]:
        if source["error"]:
            out.print(f"{source['source']}: FAILED: {source['error']}", highlight=False, soft_wrap=True)
            continue
        said = ", ".join(f"{n} {o}" for o, n in sorted(source["outcomes"].items())) or "nothing new"
        out.print(f"{source['source']}: {said}", highlight=False, soft_wrap=True)
    if report["failed"]:
        raise typer.Exit(1)
