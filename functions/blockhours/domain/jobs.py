"""Background jobs over every account (reconcile, requeue): what one has done so far, page by page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

JobKind = Literal["reconcile", "requeue"]
JobStatus = Literal["running", "done", "failed"]
LISTED_AT_MOST = 200  # discrepancies or refunds kept on the job for reading; the count says how many in all
STALLED_AFTER_SECONDS = 900  # past every retry Lambda makes of a step (two more timeouts, and its waits between)
RECONCILE_ALERT = "reconcile found discrepancies"  # an alert item's `what`: the shop is emailed, from the stream


@dataclass(frozen=True)
class Discrepancy:
    email: str
    what: str
    todo: str


@dataclass(frozen=True)
class Job:
    """A reconcile or requeue run: `step` numbers the invocation that may save next, `cursor` is where it starts.

    Each invocation's save is conditional on the step it started from, so a retried or duplicated invocation of a
    step already saved changes nothing and starts nothing.
    """

    job_id: str
    kind: JobKind
    status: JobStatus
    started_at: int
    updated_at: int
    step: int = 0
    cursor: str | None = None  # where the next account page starts; None before the first
    accounts: int = 0  # checked so far
    discrepancy_count: int = 0
    discrepancies: tuple[Discrepancy, ...] = ()  # the first LISTED_AT_MOST of them
    requeued_count: int = 0
    requeued: tuple[str, ...] = ()  # refund ids sent to the worker again, the first LISTED_AT_MOST
    attempts: int = 0  # invocations that took up this step (Lambda retries a failed one twice)
    # what the step under way has checked and found, not saved yet: shown while it runs, dropped if it fails
    step_accounts: int = 0
    step_discrepancies: int = 0
    step_requeued: int = 0
    finished_at: int | None = None
    error: str = ""

    def counted(self, accounts: int, found: list[Discrepancy], requeued: list[str]) -> Job:
        """This job with more accounts checked, and what they showed."""
        return replace(
            self,
            accounts=self.accounts + accounts,
            discrepancy_count=self.discrepancy_count + len(found),
            discrepancies=(self.discrepancies + tuple(found))[:LISTED_AT_MOST],
            requeued_count=self.requeued_count + len(requeued),
            requeued=(self.requeued + tuple(requeued))[:LISTED_AT_MOST],
        )

    def stalled(self, now: int) -> bool:
        """Running, but no invocation has taken it up for longer than Lambda's retries would wait: it failed for
        good (its event is in FailedEventsQueue)."""
        return self.status == "running" and now - self.updated_at > STALLED_AFTER_SECONDS
