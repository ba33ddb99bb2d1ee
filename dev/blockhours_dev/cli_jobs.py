"""Jobs over every account from the command line: reconcile and requeue start in the background, and the
command follows the job (accounts checked, discrepancies so far) until it has its outcome."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import quote

import typer

from .cli_app import ApiOption, app, call, err, fail, out, print_rows
from .staff_client import StaffError

WaitOption = Annotated[
    int, typer.Option("--wait", min=1, help="Seconds to follow the job before leaving it to run on its own.")
]


def _follow(api: str | None, job_id: str, wait: int) -> dict[str, Any]:
    """The job once it is done or failed, printing its progress as it changes; exits if it stalls or `wait` passes."""
    deadline, shown, pause = time.monotonic() + wait, None, 0.2
    while True:
        job: dict[str, Any] = call(api, "GET", f"/api/jobs/{quote(job_id, safe='')}")
        if job["status"] == "failed":
            raise fail(StaffError(f"the {job['kind']} job {job_id} failed: {job['error']}; run it again"))
        if job["status"] == "done":
            return job
        progress = (job["accounts"], job["discrepancy_count"], job["requeued_count"])
        if progress != shown:
            err.print(_progress(job), highlight=False)
            shown = progress
        if job["stalled"]:
            raise fail(
                StaffError(
                    f"the {job['kind']} job {job_id} stopped after "
                    f"{_many(job['accounts'], 'account', 'accounts')}: read the jobs function's log (JobsLogGroup) "
                    "and FailedEventsQueue, then run it again"
                )
            )
        if time.monotonic() > deadline:
            raise fail(StaffError(f"the {job['kind']} job {job_id} is still running: `blockhours job {job_id}`"))
        time.sleep(pause)  # polling the job record: a person waits, nothing else depends on it
        pause = min(pause * 1.5, 2.0)


def _many(count: int, thing: str, things: str) -> str:
    return f"{count} {thing if count == 1 else things}"


def _progress(job: dict[str, Any]) -> str:
    if job["kind"] == "requeue":
        read, sent = _many(job["accounts"], "account", "accounts"), _many(job["requeued_count"], "refund", "refunds")
        return f"requeue: {read} read, {sent} sent again so far"
    checked = _many(job["accounts"], "account", "accounts")
    return f"reconcile: {checked} checked, {_many(job['discrepancy_count'], 'discrepancy', 'discrepancies')} so far"


def _requeued(job: dict[str, Any]) -> None:
    for refund_id in job["requeued"]:
        out.print(f"requeued refund {refund_id}", highlight=False)
    if job["requeued_count"] > len(job["requeued"]):
        out.print(f"... and {job['requeued_count'] - len(job['requeued'])} more", highlight=False)
    out.print(
        f"{job['requeued_count']} {'refund' if job['requeued_count'] == 1 else 'refunds'} waiting for the worker "
        f"sent to it again ({_many(job['accounts'], 'account', 'accounts')} read)"
        if job["requeued_count"]
        else f"no refund is waiting for the worker ({_many(job['accounts'], 'account', 'accounts')} read)",
        highlight=False,
    )


def _reconciled(job: dict[str, Any]) -> None:
    """Each discrepancy with what to do; exits 1 if there is any."""
    count = job["discrepancy_count"]
    if not count:
        checked = _many(job["accounts"], "account", "accounts")
        out.print(f"{checked} checked against their lots, journal and Stripe: all agree", highlight=False)
        return
    rows = [[found["email"], found["what"], found["todo"]] for found in job["discrepancies"]]
    print_rows(("customer", "what disagrees", "what to do"), rows, whole={"customer"}, title="discrepancies")
    if count > len(job["discrepancies"]):
        out.print(f"the first {len(job['discrepancies'])} are listed", highlight=False)
    found = _many(count, "discrepancy", "discrepancies")
    err.print(f"{found} in {_many(job['accounts'], 'account', 'accounts')}", highlight=False)
    raise typer.Exit(1)


def _outcome(job: dict[str, Any]) -> None:
    if job["kind"] == "requeue":
        _requeued(job)
    else:
        _reconciled(job)


@app.command()
def reconcile(
    requeue: Annotated[
        bool, typer.Option("--requeue", help="Also send refunds still waiting to the worker again (as `requeue`).")
    ] = False,
    wait: WaitOption = 900,
    api: ApiOption = None,
) -> None:
    """Check the ledger against itself and against Stripe, in the background; exits non-zero if anything disagrees."""
    started = call(api, "POST", "/api/reports/reconcile", {"requeue": requeue})
    err.print(f"reconcile started: job {started['job_id']}", highlight=False)
    if "requeue_job_id" in started:
        _requeued(_follow(api, started["requeue_job_id"], wait))
    _reconciled(_follow(api, started["job_id"], wait))


@app.command("requeue")
def requeue_refunds(wait: WaitOption = 900, api: ApiOption = None) -> None:
    """Send every refund still waiting for the worker to it again (the ledger only; Stripe is not asked)."""
    started = call(api, "POST", "/api/refunds/requeue")
    err.print(f"requeue started: job {started['job_id']}", highlight=False)
    _requeued(_follow(api, started["job_id"], wait))


@app.command()
def job(job_id: str, wait: WaitOption = 900, api: ApiOption = None) -> None:
    """Follow a reconcile or requeue job (its id was printed when it started) to its outcome."""
    _outcome(_follow(api, job_id, wait))
