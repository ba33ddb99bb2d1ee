"""Jobs over every account, in the background: reconcile (the ledger against itself and Stripe) and requeue
(refunds still waiting for the worker, sent to it again; the ledger only, no Stripe).

A job walks the accounts page by page. Each invocation takes up one step: it checks accounts (a few at once, so
Stripe's latency overlaps) while its remaining time leaves three times its slowest batch plus a margin, saves
how far it got on condition that the job is still at its step, and only then starts the next step. A retried
or duplicated invocation of a step already saved finds the job moved on: it changes nothing and starts nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from ..domain.changes import job_ref
from ..domain.job_changes import job_claimed, job_created, job_failed, job_finished, job_saved, progress_noted
from ..domain.jobs import RECONCILE_ALERT, Discrepancy, Job
from ..ports import JobNotStarted
from .errors import TryLater
from .reconcile_checks import check_account, parked_too_long, waiting_refunds

if TYPE_CHECKING:
    from ..domain.jobs import JobKind
    from ..ports import JobStarter, LedgerStore, PaymentGateway, RefundQueue

WORKERS = 8  # accounts checked at once: ~27 Stripe reads a second at 300 ms each, under live mode's 100
PAGE_ITEMS = 500  # items one Scan page reads (accounts and everything else in the table)
SAFETY_MS = 5_000  # left for saving, starting the next step, and what no batch measured
PROGRESS_EVERY_MS = 3_000  # how often a step shows what it has done so far (`blockhours reconcile` polls it)
MAX_ATTEMPTS = 3  # Lambda's first try and the two retries of the jobs function's EventInvokeConfig
ALERT_LISTS = 20  # discrepancies the shop's email lists; the job keeps more


@dataclass(frozen=True)
class JobTools:
    """What a job may need, built only when its kind needs it (requeue never opens Stripe)."""

    gateway: Callable[[], PaymentGateway]
    refund_queue: Callable[[], RefundQueue]


def start_job(store: LedgerStore, starter: JobStarter, kind: JobKind, now: int) -> Job:
    """Record the job as running and hand its first step to the background."""
    job = Job(f"{kind}-{now}-{secrets.token_hex(4)}", kind, "running", started_at=now, updated_at=now)
    if not store.commit(job_created(job)):
        raise TryLater("busy", "a job with the same id was just started; send the request again")
    try:
        starter.start(job.job_id, 0)
    except JobNotStarted as exc:
        store.commit(job_failed(job.job_id, 0, now, f"could not be started: {exc}"))
        raise TryLater(
            "job_not_started", f"the {kind} could not be started in the background ({exc}); try again in a minute"
        ) from exc
    return job


def run_step(
    store: LedgerStore,
    starter: JobStarter,
    tools: JobTools,
    job_id: str,
    step: int,
    remaining_ms: Callable[[], int],
    now: Callable[[], int],
) -> Job | None:
    """One invocation's share of the job; None when the job is not at this step (a retry or duplicate)."""
    if not store.commit(job_claimed(job_id, step, now())):
        return None
    job = store.find(job_ref(job_id))
    if job is None:
        return None
    try:
        job, finished = _walk(store, tools, job, remaining_ms, now)
    except Exception as exc:
        if job.attempts >= MAX_ATTEMPTS:  # Lambda will not try this step again: say so on the job
            store.commit(job_failed(job_id, step, now(), f"{type(exc).__name__}: {exc}"))
        raise
    if finished:
        done = replace(job, status="done", step=step + 1, finished_at=job.updated_at)
        store.commit(job_finished(done, step, _alert(done)))
        return done
    moved = replace(job, step=step + 1, attempts=0)
    if store.commit(job_saved(moved, step)):
        try:
            starter.start(job_id, step + 1)
        except JobNotStarted as exc:
            store.commit(job_failed(job_id, step + 1, now(), f"the next part could not be started: {exc}"))
            raise
    return moved


def _walk(
    store: LedgerStore, tools: JobTools, job: Job, remaining_ms: Callable[[], int], now: Callable[[], int]
) -> tuple[Job, bool]:
    """Check accounts from the job's cursor while time allows: the job with this step's progress, and whether
    every account has been checked."""
    found: list[Discrepancy] = parked_too_long(store, now()) if job.kind == "reconcile" and job.step == 0 else []
    requeued: list[str] = []
    check = _reconciling(store, tools.gateway()) if job.kind == "reconcile" else _requeuing(store)
    queue = tools.refund_queue() if job.kind == "requeue" else None
    checked, cursor, finished, clock = 0, job.cursor, False, _Clock(remaining_ms)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        while not finished and (cursor == job.cursor or clock.enough()):  # every step gets at least one batch done
            page = store.account_page(cursor, PAGE_ITEMS)
            clock.lap()
            whole_page = True
            for batch in _batches(page.accounts, WORKERS):
                if cursor != job.cursor and not clock.enough():
                    whole_page = False
                    break
                emails = [email for email, _ in batch]
                for email, (discrepancies, waiting) in zip(emails, pool.map(check, emails), strict=True):
                    found += discrepancies
                    for refund_id in waiting:  # the worker takes a refund sent twice once: a retried step is safe
                        assert queue is not None
                        queue.send(email, refund_id)
                        requeued.append(refund_id)
                checked, cursor = checked + len(batch), batch[-1][1]
                clock.lap()
                if clock.note_due():
                    store.commit(progress_noted(job.job_id, job.step, (checked, len(found), len(requeued)), now()))
            if whole_page:
                cursor, finished = page.next_cursor, page.next_cursor is None
    return replace(job.counted(checked, found, requeued), cursor=cursor, updated_at=now()), finished


Check = Callable[[str], tuple[list[Discrepancy], list[str]]]


def _reconciling(store: LedgerStore, gateway: PaymentGateway) -> Check:
    def check(email: str) -> tuple[list[Discrepancy], list[str]]:
        ledger = store.customer(email)
        return (check_account(ledger, gateway) if ledger else []), []

    return check


def _requeuing(store: LedgerStore) -> Check:
    def check(email: str) -> tuple[list[Discrepancy], list[str]]:
        ledger = store.customer(email)
        return [], (waiting_refunds(ledger) if ledger else [])

    return check


class _Clock:
    """The invocation's time: what is left of it, and the slowest piece of work (a page, a batch) so far."""

    def __init__(self, remaining_ms: Callable[[], int]) -> None:
        self.remaining_ms = remaining_ms
        self.left = self.noted = remaining_ms()
        self.slowest = 0

    def lap(self) -> None:
        """A piece of work is done: count how long it took."""
        after = self.remaining_ms()
        self.slowest, self.left = max(self.slowest, self.left - after), after

    def enough(self) -> bool:
        """Time for one more piece of work, three times over, and to save and start the next step."""
        return self.left >= 3 * self.slowest + SAFETY_MS

    def note_due(self) -> bool:
        if self.noted - self.left < PROGRESS_EVERY_MS:
            return False
        self.noted = self.left
        return True


def _batches(accounts: list[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    for start in range(0, len(accounts), size):
        yield accounts[start : start + size]


def _alert(job: Job) -> dict[str, Any] | None:
    """What the shop is emailed when reconcile found something: once per job, written with its last save."""
    if job.kind != "reconcile" or not job.discrepancy_count:
        return None
    return {
        "what": RECONCILE_ALERT,
        "job_id": job.job_id,
        "accounts": job.accounts,
        "discrepancy_count": job.discrepancy_count,
        "discrepancies": [asdict(found) for found in job.discrepancies[:ALERT_LISTS]],
        "at": job.updated_at,
    }


class StepsHere:
    """A job starter that keeps each step to run in this process, one after another (tools and tests)."""

    def __init__(self) -> None:
        self.waiting: list[tuple[str, int]] = []

    def start(self, job_id: str, step: int) -> None:
        self.waiting.append((job_id, step))


def run_here(store: LedgerStore, tools: JobTools, kind: JobKind, now: int | None = None) -> Job:
    """A whole job in this process, with no time limit: the same steps the jobs function runs."""

    def clock() -> int:
        return now if now is not None else int(time.time())

    steps = StepsHere()
    job = start_job(store, steps, kind, clock())
    while steps.waiting:
        job_id, step = steps.waiting.pop(0)
        run_step(store, steps, tools, job_id, step, remaining_ms=lambda: 10**9, now=clock)
    done = store.find(job_ref(job.job_id))
    assert done is not None and done.status == "done", done
    return done


def reconcile(store: LedgerStore, gateway: PaymentGateway, now: int | None = None) -> tuple[int, list[Discrepancy]]:
    """Reconcile in this process: how many accounts were read, and the discrepancies (the first 200)."""
    job = run_here(store, JobTools(lambda: gateway, _no_queue), "reconcile", now)
    return job.accounts, list(job.discrepancies)


def _no_queue() -> RefundQueue:
    raise AssertionError("reconcile sends nothing to the refund queue")
