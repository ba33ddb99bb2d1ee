"""Reconcile and requeue as background jobs: the jobs function's handler, step after step, on embedded AWS and the
Stripe stand-in, with a Lambda context whose time runs out; each step hands the next to a recording starter,
which this test runs in a loop as Lambda would run the asynchronous invocations."""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, cast

import boto3
import pytest

from blockhours import catalog, outbox, services, wiring
from blockhours.adapters.dynamo import DynamoLedger
from blockhours.domain.changes import job_ref
from blockhours.domain.jobs import RECONCILE_ALERT
from blockhours.handlers import jobs as jobs_handler
from blockhours.services import jobs
from conftest import scan_all
from served_standin import ServedStandIn
from stripe_events import hour_bought

CATALOG = catalog.load()


@dataclass
class ShrinkingContext:
    """A Lambda context whose remaining time drops by `per_call_ms` each time it is asked: every piece of work
    between two questions "takes" that long, so how much fits in one invocation is fixed; `dies_after` calls,
    the invocation is killed (as a timeout or a crash would)."""

    remaining_ms: int
    per_call_ms: int
    dies_after: int | None = None
    function_name: str = "blockhours-test-jobs"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:blockhours-test-jobs"
    aws_request_id: str = "test-request"
    calls: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        if self.dies_after is not None and self.calls > self.dies_after:
            raise TimeoutError("Task timed out")
        self.remaining_ms -= self.per_call_ms
        return self.remaining_ms


@pytest.fixture
def steps(
    table: str, stripe_standin: ServedStandIn, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> jobs.StepsHere:
    """The jobs function's settings, and a starter that records each step handed to the background."""
    queue = boto3.client("sqs").create_queue(QueueName=f"refunds-{secrets.token_hex(4)}")["QueueUrl"]
    monkeypatch.delenv("BLOCKHOURS_STRIPE_SECRET", raising=False)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_jobs")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_jobs_unused")
    monkeypatch.setenv("BLOCKHOURS_STRIPE_API_BASE", stripe_standin.url)
    monkeypatch.setenv("BLOCKHOURS_REFUND_QUEUE_URL", queue)
    monkeypatch.setenv("BLOCKHOURS_JOBS_FUNCTION", "blockhours-test-jobs")
    wiring.reset()
    recorder = jobs.StepsHere()
    monkeypatch.setattr(wiring, "jobs", lambda: recorder)
    return recorder


def clients(ledger: DynamoLedger, served: ServedStandIn, count: int) -> dict[str, str]:
    """`count` clients who each bought an hour: email → the PaymentIntent Stripe holds for it."""
    bought = {}
    for n in range(count):
        email = f"job-{n:03d}-{secrets.token_hex(2)}@example.com"
        bought[email] = hour_bought(ledger, served.standin, email, paid_at=1)
    return bought


def invoke(job_id: str, step: int, context: ShrinkingContext) -> dict[str, Any]:
    """The jobs function's handler, with the payload the API and each step send: `{"job_id", "step"}`."""
    return jobs_handler.handler({"job_id": job_id, "step": step}, cast("Any", context))


def run_all(steps: jobs.StepsHere, budget_ms: int = 20_000) -> list[dict[str, Any]]:
    """Every step handed over, in order, as Lambda runs asynchronous invocations; what each handler returned."""
    answers = []
    while steps.waiting:
        answers.append(invoke(*steps.waiting.pop(0), ShrinkingContext(budget_ms, 3_000)))
    return answers


def asked_about(served: ServedStandIn) -> Counter[str]:
    """How many times the job asked Stripe for each PaymentIntent."""
    return Counter(
        r.path.removeprefix("/v1/payment_intents/")
        for r in served.standin.requests
        if r.method == "GET" and r.path.startswith("/v1/payment_intents/")
    )


@pytest.mark.parametrize("page_items", [7, 500], ids=["pages-cut-mid-batch", "one-page"])
def test_every_account_is_checked_once_over_several_invocations(
    ledger: DynamoLedger,
    stripe_standin: ServedStandIn,
    steps: jobs.StepsHere,
    monkeypatch: pytest.MonkeyPatch,
    page_items: int,
) -> None:
    monkeypatch.setattr(jobs, "PAGE_ITEMS", page_items)
    bought = clients(ledger, stripe_standin, 40)
    stripe_standin.standin.requests.clear()

    job = services.start_job(ledger, steps, "reconcile", int(time.time()))
    answers = run_all(steps)

    # 20 s at the start, 3 s per page or batch: one page and one batch of 8, then 3 x 3 s + 5 s no longer fit
    assert len(answers) >= 5 and [a["outcome"] for a in answers][-1] == "done", answers
    assert all(a["outcome"] == "continued" for a in answers[:-1])
    assert asked_about(stripe_standin) == Counter(bought.values()), "each lot asked about once, none missed"
    done = ledger.find(job_ref(job.job_id))
    assert done is not None and (done.status, done.accounts, done.discrepancy_count) == ("done", 40, 0)
    assert done.cursor is None and done.finished_at is not None
    assert not [i for i in scan_all(ledger.table) if i["pk"]["S"].startswith("ALERT#")], "nothing to tell the shop"


def test_a_duplicate_or_retried_step_changes_nothing_and_starts_nothing(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, steps: jobs.StepsHere
) -> None:
    clients(ledger, stripe_standin, 20)
    job = services.start_job(ledger, steps, "reconcile", int(time.time()))
    first = steps.waiting[:]
    run_all(steps)
    before, asked = scan_all(ledger.table), len(stripe_standin.standin.requests)

    for job_id, step in [*first, (job.job_id, 1), (job.job_id, 2)]:  # Lambda's retries, a duplicated continuation
        assert invoke(job_id, step, ShrinkingContext(20_000, 3_000))["outcome"] == "skipped"

    assert steps.waiting == [] and scan_all(ledger.table) == before
    assert len(stripe_standin.standin.requests) == asked, "Stripe was not asked again"


def test_a_step_killed_midway_is_redone_from_the_last_save_and_counts_each_account_once(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, steps: jobs.StepsHere
) -> None:
    bought = clients(ledger, stripe_standin, 30)
    job = services.start_job(ledger, steps, "reconcile", int(time.time()))
    steps.waiting.clear()
    assert invoke(job.job_id, 0, ShrinkingContext(20_000, 3_000))["outcome"] == "continued"  # saves 8 accounts
    assert steps.waiting == [(job.job_id, 1)]
    steps.waiting.clear()
    with pytest.raises(TimeoutError):  # step 1 checks two batches more, shows them, and dies before it saves
        invoke(job.job_id, 1, ShrinkingContext(30_000, 3_000, dies_after=4))
    killed = ledger.find(job_ref(job.job_id))
    assert killed is not None and (killed.step, killed.accounts, killed.step_accounts) == (1, 8, 16)

    assert invoke(job.job_id, 1, ShrinkingContext(60_000, 3_000))["outcome"] == "done"  # Lambda's retry
    done = ledger.find(job_ref(job.job_id))
    assert done is not None and (done.status, done.accounts) == ("done", 30)
    assert set(asked_about(stripe_standin)) == set(bought.values())


def test_a_step_that_fails_three_times_fails_the_job_with_the_reason(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, steps: jobs.StepsHere
) -> None:
    clients(ledger, stripe_standin, 3)
    job = services.start_job(ledger, steps, "reconcile", int(time.time()))
    steps.waiting.clear()
    for _ in range(jobs.MAX_ATTEMPTS):  # the first try and Lambda's two retries
        with pytest.raises(TimeoutError):
            invoke(job.job_id, 0, ShrinkingContext(20_000, 3_000, dies_after=1))

    failed = ledger.find(job_ref(job.job_id))
    assert failed is not None and failed.status == "failed" and "TimeoutError" in failed.error
    assert steps.waiting == []


def test_a_discrepancy_makes_one_alert_that_the_outbox_emails_to_the_shop(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, steps: jobs.StepsHere
) -> None:
    bought = clients(ledger, stripe_standin, 20)
    lost_email, lost_pi = next(iter(bought.items()))
    del stripe_standin.standin.payment_intents[lost_pi]  # e.g. the keys were switched from test to live

    job = services.start_job(ledger, steps, "reconcile", int(time.time()))
    answers = run_all(steps)
    assert invoke(job.job_id, len(answers) - 1, ShrinkingContext(20_000, 3_000))["outcome"] == "skipped"  # retried

    done = ledger.find(job_ref(job.job_id))
    assert done is not None and done.discrepancy_count == 1 and done.discrepancies[0].email == lost_email
    alerts = [i for i in scan_all(ledger.table) if i["pk"]["S"].startswith("ALERT#")]
    assert len(alerts) == 1, "one alert per job, even with its last step retried"
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": alerts[0]}}
    [mail] = outbox.effects_for(
        outbox.Change.from_record(record),
        outbox.MailContext(CATALOG, "https://shop.example", "x" * 32, "owner@example.com"),
    )
    assert isinstance(mail, outbox.emails.Email) and alerts[0]["what"]["S"] == RECONCILE_ALERT
    assert mail.to == "owner@example.com" and mail.subject == "Blockhours: reconcile found 1 discrepancy"
    assert lost_email in mail.text and "Stripe does not know" in mail.text and "STRIPE_API_KEY" in mail.text


def test_requeue_sends_refunds_still_waiting_to_the_worker_without_asking_stripe(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, steps: jobs.StepsHere
) -> None:
    bought = clients(ledger, stripe_standin, 12)
    waiting = {
        email: services.request_refund(CATALOG, ledger, email, "client", email).refund_id for email in list(bought)[:3]
    }
    stripe_standin.standin.requests.clear()

    job = services.start_job(ledger, steps, "requeue", int(time.time()))
    run_all(steps)

    done = ledger.find(job_ref(job.job_id))
    assert done is not None and (done.status, done.accounts, done.requeued_count) == ("done", 12, 3)
    assert sorted(done.requeued) == sorted(waiting.values())
    sqs = boto3.client("sqs")
    url = wiring.refund_queue().url
    sent = []
    while found := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        sent += [json.loads(m["Body"]) for m in found]
        for message in found:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted((m["email"], m["refund_id"]) for m in sent) == sorted(waiting.items())
    assert stripe_standin.standin.requests == [], "requeue reads the ledger only"
    assert not [i for i in scan_all(ledger.table) if i["pk"]["S"].startswith("ALERT#")]


# --- the staff routes, in-process: the API's handler with API Gateway's event, the steps run as above ----------


def staff(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """A staff request through the API function's handler, IAM-authorized as API Gateway passes it on."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from blockhours.handlers import api
    from blockhours_dev.local import LambdaRoutes, LocalContext
    from blockhours_dev.template import http_routes

    request = Request(EnvironBuilder(path=path, method=method, json=body).get_environ())
    [route] = [r for r in http_routes() if r.method == method and LambdaRoutes([r]).map.bind("x").test(path, method)]
    params = LambdaRoutes([route]).map.bind("x").match(path, method)[1]
    authorizer = {"iam": {"userArn": "arn:aws:iam::000000000000:user/staff", "accountId": "0", "userId": "staff"}}
    answer = api.handler(LambdaRoutes.event(request, route, params, authorizer), cast("Any", LocalContext("api")))
    return int(answer["statusCode"]), json.loads(answer["body"])


def test_the_routes_start_jobs_answer_202_and_report_progress_and_outcome(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, steps: jobs.StepsHere
) -> None:
    bought = clients(ledger, stripe_standin, 10)
    email = next(iter(bought))
    waiting = services.request_refund(CATALOG, ledger, email, "client", email).refund_id

    status, started = staff("POST", "/api/reports/reconcile", {"requeue": True})
    assert status == 202 and started["status"] == "running", started
    assert sorted(steps.waiting) == sorted([(started["job_id"], 0), (started["requeue_job_id"], 0)])
    status, running = staff("GET", f"/api/jobs/{started['job_id']}")
    assert status == 200 and (running["status"], running["accounts"], running["stalled"]) == ("running", 0, False)

    run_all(steps)
    _, requeued = staff("GET", f"/api/jobs/{started['requeue_job_id']}")
    assert (requeued["kind"], requeued["status"], requeued["requeued"]) == ("requeue", "done", [waiting])
    _, reconciled = staff("GET", f"/api/jobs/{started['job_id']}")
    assert (reconciled["kind"], reconciled["status"], reconciled["accounts"]) == ("reconcile", "done", 10)
    assert [d["email"] for d in reconciled["discrepancies"]] == [email], "the refund not yet at Stripe"
    assert "cursor" not in reconciled and reconciled["finished_at"] >= reconciled["started_at"]

    status, alone = staff("POST", "/api/refunds/requeue")
    assert status == 202 and steps.waiting == [(alone["job_id"], 0)]


def test_an_unknown_job_is_a_404_in_words(steps: jobs.StepsHere) -> None:
    status, answer = staff("GET", "/api/jobs/reconcile-1-nosuchjob")
    assert status == 404 and answer["error"] == "unknown_job" and "blockhours reconcile" in answer["message"]


def test_a_job_lambda_will_not_take_is_refused_in_words_and_recorded_failed(
    ledger: DynamoLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real Lambda client (boto3, as deployed), asked for a function the embedded account does not have."""
    monkeypatch.setenv("BLOCKHOURS_JOBS_FUNCTION", "blockhours-no-such-jobs")

    status, answer = staff("POST", "/api/refunds/requeue")

    assert status == 503 and answer["error"] == "job_not_started", answer
    assert "ResourceNotFoundException" in answer["message"] and "try again in a minute" in answer["message"]
    [item] = [i for i in scan_all(ledger.table) if i["pk"]["S"].startswith("JOB#")]
    assert item["status"]["S"] == "failed" and "could not be started" in item["failure"]["S"]
