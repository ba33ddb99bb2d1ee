"""A background job's record, moved as values for one commit: every save is conditional on the step the
invocation started from and on the job still running, so a retried or duplicated invocation changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .changes import NEW, Change, Expect, Put, Ref, Update, job_ref

if TYPE_CHECKING:
    from .jobs import Job

_NOT_UNDER_WAY = {"step_accounts": 0, "step_discrepancies": 0, "step_requeued": 0}


def _at_step(step: int) -> tuple[Expect, ...]:
    return (Expect("step", "=", step), Expect("status", "=", "running"))


def _progress(job: Job) -> dict[str, Any]:
    return {
        "accounts": job.accounts,
        "discrepancy_count": job.discrepancy_count,
        "discrepancies": job.discrepancies,
        "requeued_count": job.requeued_count,
        "requeued": job.requeued,
        "updated_at": job.updated_at,
    }


def job_created(job: Job) -> Change:
    values = {"type": "job", "job_id": job.job_id, "kind": job.kind, "status": job.status, "step": job.step}
    values |= {"started_at": job.started_at, "updated_at": job.updated_at, "attempts": 0}
    return Change.of(Put(job_ref(job.job_id), values, expect=(NEW,)))


def job_claimed(job_id: str, step: int, at: int) -> Change:
    """One more attempt at this step; refused if the job is not running at this step."""
    return Change.of(
        Update(job_ref(job_id), set={"updated_at": at, **_NOT_UNDER_WAY}, add={"attempts": 1}, expect=_at_step(step))
    )


def progress_noted(job_id: str, step: int, seen: tuple[int, int, int], at: int) -> Change:
    """What the step under way has done so far (accounts, discrepancies, refunds requeued); no save."""
    accounts, found, requeued = seen
    moved = {"step_accounts": accounts, "step_discrepancies": found, "step_requeued": requeued, "updated_at": at}
    return Change.of(Update(job_ref(job_id), set=moved, expect=_at_step(step)))


def job_saved(job: Job, step: int) -> Change:
    """The progress of `step`, and the job moved on to `job.step`; refused if `step` was already saved."""
    moved = {**_progress(job), "step": job.step, "attempts": 0, **_NOT_UNDER_WAY, "resume_key": job.cursor}
    return Change.of(Update(job_ref(job.job_id), set=moved, expect=_at_step(step)))


def job_finished(job: Job, step: int, alert: dict[str, Any] | None) -> Change:
    """Done, and the shop's alert if any, at once: a retried last step changes nothing."""
    moved = {**_progress(job), "status": "done", "finished_at": job.updated_at, "step": step + 1, **_NOT_UNDER_WAY}
    done = Update(job_ref(job.job_id), set=moved | {"resume_key": None}, expect=_at_step(step))
    kept = Put(Ref("alert", id=f"job-{job.job_id}"), {"type": "alert", **alert}) if alert is not None else None
    return Change.of(done, kept)


def job_failed(job_id: str, step: int, at: int, error: str) -> Change:
    moved = {"status": "failed", "failure": error[:1000], "finished_at": at, "updated_at": at, **_NOT_UNDER_WAY}
    return Change.of(Update(job_ref(job_id), set=moved, expect=_at_step(step)))
