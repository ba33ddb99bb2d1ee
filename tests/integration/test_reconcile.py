"""Reconcile: a clean ledger agrees with itself and Stripe; every kind of disagreement is named, with a remedy.

The checks run here in-process through services.reconcile (the jobs' steps, one after another); the last test
goes through the staff route, the jobs function and the CLI of the local stack.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import boto3
import pytest
import requests
from test_refund_events import wait_for

from blockhours import catalog, services
from blockhours.adapters.dynamo import DynamoLedger
from blockhours.adapters.stripe_gateway import StripeGateway
from blockhours.config import StripeSettings
from blockhours_dev.local import LocalStack
from blockhours_dev.local_streams import sent_mail
from conftest import finished_job
from served_standin import ServedStandIn
from stripe_events import hour_bought

CATALOG = catalog.load()


@pytest.fixture(scope="module")
def stack(own_stack: LocalStack) -> LocalStack:
    return own_stack  # reconcile reads every account: these tests count them, so a table of their own


@pytest.fixture
def gateway(stripe_standin: ServedStandIn) -> StripeGateway:
    return StripeGateway(
        StripeSettings(api_key="sk_test_x", webhook_secret="whsec_unused_here", api_base=stripe_standin.url)
    )


class SentRefunds:
    """The refund queue as the requeue job sees it: what it was given to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, email: str, refund_id: str) -> None:
        self.sent.append((email, refund_id))


def client_with_history(ledger: DynamoLedger, served: ServedStandIn, gateway: StripeGateway) -> tuple[str, str]:
    """Bought an hour, used 15 minutes, had 15 refunded through Blockhours."""
    email = f"audit-{secrets.token_hex(3)}@example.com"
    pi = hour_bought(ledger, served.standin, email)
    services.redeem(
        CATALOG, ledger, lambda: pytest.fail("no overage"), services.SessionRequest(email, 15, "Sam", "", "s1")
    )
    refund = services.request_refund(CATALOG, ledger, email, "staff", "owner", minutes=15)
    services.process_refund(ledger, gateway, email, refund.refund_id)
    return email, pi


def test_a_clean_ledger_agrees_with_stripe(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, gateway: StripeGateway
) -> None:
    client_with_history(ledger, stripe_standin, gateway)
    accounts, found = services.reconcile(ledger, gateway)
    assert accounts == 1 and found == []


def test_a_refund_made_behind_the_ledgers_back_is_found(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, gateway: StripeGateway
) -> None:
    email, pi = client_with_history(ledger, stripe_standin, gateway)
    stripe_standin.standin._new_refund(stripe_standin.standin.payment_intents[pi], 1000, {}, None)  # no webhook
    _, found = services.reconcile(ledger, gateway)
    assert [(d.email, "Stripe has refunded $42.25" in d.what) for d in found] == [(email, True)]
    assert "resend its webhook" in found[0].todo


def test_an_account_that_disagrees_with_its_lots_is_found(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, gateway: StripeGateway
) -> None:
    email, _ = client_with_history(ledger, stripe_standin, gateway)
    boto3.client("dynamodb").update_item(
        TableName=ledger.table,
        Key={"pk": {"S": f"CUST#{email}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="ADD available_minutes :m",
        ExpressionAttributeValues={":m": {"N": "15"}},
    )
    _, found = services.reconcile(ledger, gateway)
    assert len(found) == 1 and "available but its lots hold 30 min" in found[0].what


def test_a_refund_that_never_reached_the_worker_is_found_and_can_be_requeued(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, gateway: StripeGateway
) -> None:
    email, _ = client_with_history(ledger, stripe_standin, gateway)
    waiting = services.request_refund(CATALOG, ledger, email, "client", email)
    _, found = services.reconcile(ledger, gateway)
    assert any(waiting.refund_id in d.what and "--requeue" in d.todo for d in found)
    queue = SentRefunds()
    requeue = services.run_here(ledger, services.JobTools(lambda: pytest.fail("no Stripe"), lambda: queue), "requeue")
    assert queue.sent == [(email, waiting.refund_id)] and requeue.requeued == (waiting.refund_id,)


def test_a_payment_stripe_does_not_know_is_one_discrepancy_and_every_other_lot_is_still_checked(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, gateway: StripeGateway
) -> None:
    """After switching from test to live keys Stripe knows none of the old payments: say so per lot, go on."""
    lost_email, lost_pi = client_with_history(ledger, stripe_standin, gateway)
    clean_email, clean_pi = client_with_history(ledger, stripe_standin, gateway)
    del stripe_standin.standin.payment_intents[lost_pi]
    stripe_standin.standin.requests.clear()

    accounts, found = services.reconcile(ledger, gateway)
    assert accounts == 2
    [lost] = found
    [lot] = ledger.lots(lost_email)
    assert lost.email == lost_email and f"lot {lot.lot_id}" in lost.what and lost_pi in lost.what
    assert "Stripe does not know" in lost.what and "STRIPE_API_KEY" in lost.todo
    asked = {r.path for r in stripe_standin.standin.requests}
    assert f"/v1/payment_intents/{clean_pi}" in asked and "/v1/refunds" in asked, f"{clean_email} was checked"


def test_staff_run_reconcile_past_an_unknown_payment(stack: LocalStack) -> None:
    """Through the staff route and the CLI: one discrepancy naming the lot, the other client checked clean."""
    assert stack.standin is not None
    emails = [f"audit-{secrets.token_hex(3)}@example.com" for _ in range(2)]
    for email in emails:
        body = {"sku": "block-60", "email": email, "terms_version": CATALOG.terms.version, "terms_accepted": True}
        url = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"]
        assert requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30).status_code == 303
    [lot] = requests.get(f"{stack.url}/api/customers/{emails[0]}", timeout=10).json()["lots"]
    del stack.standin.payment_intents[lot["payment_intent"]]

    answer = requests.post(f"{stack.url}/api/reports/reconcile", json={}, timeout=10)
    assert answer.status_code == 202 and answer.json()["status"] == "running", answer.text
    report = finished_job(stack.url, answer.json()["job_id"])
    assert (report["kind"], report["status"], report["accounts"]) == ("reconcile", "done", 2)
    assert [(d["email"], lot["lot_id"] in d["what"]) for d in report["discrepancies"]] == [(emails[0], True)]
    wait_for(lambda: any("reconcile found 1 discrepancy" in m.subject for m in sent_mail()), "the shop's email")

    env = {**os.environ, "BLOCKHOURS_API": stack.url, "COLUMNS": "300"}
    cli = subprocess.run(
        [sys.executable, "-m", "blockhours_dev.cli", "reconcile"], capture_output=True, text=True, env=env, timeout=60
    )
    assert cli.returncode == 1 and "1 discrepancy in 2 accounts" in cli.stderr, cli.stderr
    assert "reconcile: " in cli.stderr, "progress while it runs"
    assert lot["lot_id"] in cli.stdout and "Traceback" not in cli.stderr


def test_unknown_jobs_are_a_404_in_words(stack: LocalStack) -> None:
    answer = requests.get(f"{stack.url}/api/jobs/reconcile-0-nope", timeout=10)
    assert answer.status_code == 404 and answer.json()["error"] == "unknown_job"


@pytest.mark.parametrize("field", ["owed_cents", "on_account_minutes", "billed_cents", "awaiting_refund_cents"])
def test_an_account_field_tampered_with_in_dynamodb_is_reported(
    ledger: DynamoLedger, stripe_standin: ServedStandIn, gateway: StripeGateway, field: str
) -> None:
    email, _ = client_with_history(ledger, stripe_standin, gateway)
    boto3.client("dynamodb").update_item(
        TableName=ledger.table,
        Key={"pk": {"S": f"CUST#{email}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="ADD #field :n",
        ExpressionAttributeNames={"#field": field},
        ExpressionAttributeValues={":n": {"N": "500"}},
    )
    _, found = services.reconcile(ledger, gateway)
    shows = {"on_account_minutes": "credit_left_minutes"}.get(field, field)  # its limit's remainder is what is off
    assert [d.email for d in found] == [email] and f"account's {shows} is" in found[0].what
