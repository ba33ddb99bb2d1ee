"""A model-based test: random histories of every money path, with crashes; the machine is in tests/model/.

The state machine (tests/model/machine.py) drives the real services against moto and the Stripe stand-in through
the real SDK; its reference model (tests/model/reference.py) is written from DESIGN.md and the README's playbook.
After each step the ledger matches the model, every cent is conserved between Stripe and the ledger, no balance is
below zero and every unpaid amount is a debt; at the end `reconcile` finds nothing. `make proof` runs the same
machine for 10,000 steps and more (tests/model/proof.py).

BLOCKHOURS_MODEL_EXAMPLES=500 makes a longer run (BLOCKHOURS_MODEL_STEPS=100 longer histories,
BLOCKHOURS_MODEL_SHRINK=0 a failure unshrunk, at once); the defaults keep this file near 40 s on two cores.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from model import machine as model_machine
from model.machine import EMAILS, LedgerMachine, SessionSent
from model.world import World, open_world

EXAMPLES = int(os.environ.get("BLOCKHOURS_MODEL_EXAMPLES", "8"))  # `make proof` runs thousands of steps more
SHRINK = os.environ.get("BLOCKHOURS_MODEL_SHRINK", "1") == "1"
STEPS = int(os.environ.get("BLOCKHOURS_MODEL_STEPS", "40"))


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with open_world() as opened:
        yield opened


@pytest.mark.timeout(900)  # a failure is shrunk to its shortest history, which can take minutes
@pytest.mark.parametrize(
    ("store", "examples"),
    [("memory", EXAMPLES), ("dynamodb", max(EXAMPLES // 4, 1))],  # the contract test holds the two stores alike
)
def test_random_histories_with_crashes_keep_every_cent(
    world: World, store: str, examples: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOCKHOURS_MODEL_STORE", store)
    LedgerMachine.world = world
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            # no explain phase: it replays a failure many times over, minutes at this test's pace
            phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if SHRINK else [])],
        ),
    )


# --- histories the machine found: replayed exactly, so each fix stays fixed --------------------------


class Choices:
    """Stands in for hypothesis's data() when a rule is called directly: hands out the given choices in order."""

    def __init__(self, *values: Any) -> None:
        self.values = list(values)

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        return self.values.pop(0)


@pytest.fixture
def machine(world: World) -> Iterator[LedgerMachine]:
    """A history to replay; each test ends with teardown(): every event delivered, every refund worked, reconcile."""
    LedgerMachine.world = world
    history = LedgerMachine()
    yield history
    history.forget()


def test_a_dashboard_refund_that_fails_returns_its_money_once(machine: LedgerMachine) -> None:
    machine.opening("block-60", "block-30", "4242424242424242")
    machine.dashboard_refund(Choices(machine._lots_with_money()[0]), 50, None)
    machine.bank_fails_refund(Choices(machine._stripe_refunds("succeeded")[0]), True, None)
    machine._deliver(machine.events[-1], None)  # refund.failed, told twice
    machine.every_cent_is_accounted_for()
    assert machine.model["ana@example.com"].available == (60, 12900)
    machine.teardown()


def test_a_dashboard_refund_of_nearly_everything_leaves_the_rest_a_minute(machine: LedgerMachine) -> None:
    machine.opening("block-60", "block-30", "4242424242424242")
    machine.dashboard_refund(Choices(machine._lots_with_money()[0]), 99, None)  # $127.71 of $129.00
    machine.every_cent_is_accounted_for()
    assert machine.model["ana@example.com"].available == (1, 129)
    machine.teardown()


def test_a_sweep_that_crashes_after_a_warning_writes_its_entry_once_with_warned_for(machine: LedgerMachine) -> None:
    """The warning is a journal entry committed with warned_for (the outbox emails it): a crash after the commit
    cannot lose the email, and the retried run finds the client warned and writes nothing more."""
    machine.opening("block-60", "block-30", "4242424242424242")
    # both due in 25 days, inside the warning period; the run dies once the first warning is committed
    machine.daily_run(340, 0, ("TransactWriteItems", "after"))
    assert machine.crashed == 1
    warned = machine.warnings()
    for email in EMAILS:
        account = machine.reader.account(email)
        assert warned[email] == [account.warned_for] == [machine.model[email].due], (email, warned)
    machine.teardown()


def test_a_dispute_close_that_crashes_between_its_writes_thaws_the_account_on_retry(machine: LedgerMachine) -> None:
    machine.opening("block-60", "block-30", "4242424242424242")
    pi = machine._disputable()[0]
    machine.dispute_opens(Choices(pi), False, True, None)
    machine.dispute_closes(Choices(pi), True, True, (3, "after"))  # after the close, before the thaw
    machine.every_cent_is_accounted_for()
    assert not machine.model["ana@example.com"].frozen
    machine.teardown()


def test_a_dispute_lost_before_its_opening_arrives_takes_the_money_and_holds_the_account(
    machine: LedgerMachine,
) -> None:
    machine.opening("block-60", "block-30", "4242424242424242")
    pi = machine._disputable()[0]
    machine.dispute_opens(Choices(pi), False, False, None)  # created and funds_withdrawn, both held back
    machine.dispute_closes(Choices(pi), False, True, None)  # lost, delivered first
    machine._deliver(machine.events[0], None)  # charge.dispute.created, late
    machine._deliver(machine.events[1], None)  # funds_withdrawn, late: nothing more to take
    machine.every_cent_is_accounted_for()
    account = machine.model["ana@example.com"]
    assert account.frozen and account.holds == 1 and account.charged_back == 12900
    machine.release(Choices("ana@example.com"), None)
    assert not account.frozen
    machine.teardown()


def test_a_dispute_and_a_refund_before_the_credit_land_with_it(machine: LedgerMachine) -> None:
    machine.opening("block-60", "block-30", "4242424242424242")
    machine.pay("ana@example.com", "block-60", "4242424242424242", False, None)  # its event held back by Stripe
    pi = machine.checkouts[-1].payment.payment_intent
    machine.standin.dashboard_refund(pi, 3225, announce=False)
    machine.standin.send_event(
        "refund.created", dict(next(iter(r for r in machine.standin.refunds.values() if r["payment_intent"] == pi)))
    )
    machine._emitted(True, None)  # parked: the ledger does not know the payment yet
    machine.dispute_opens(Choices(pi), True, True, None)  # an inquiry, parked too
    machine.deliver_payment(Choices(machine.checkouts[-1]), False, None)  # the credit lands: both apply, once
    machine.every_cent_is_accounted_for()
    assert machine.model["ana@example.com"].frozen
    machine.teardown()


def test_a_settled_deposit_stays_due_for_the_sweep_after_an_overage_session(machine: LedgerMachine) -> None:
    machine.opening("deposit", "block-30", "4242424242424242")
    machine.settle(Choices("ana@example.com"), None)  # its refund not asked for yet (a crash, or the catalog's choice)
    machine.redeem(SessionSent("ana@example.com", 30, True, False), None)  # all overage: the open balance is zero
    machine.every_cent_is_accounted_for()
    machine.teardown()


def test_a_failed_dashboard_refund_whose_minute_is_gone_goes_back_to_the_card(machine: LedgerMachine) -> None:
    machine.opening("block-30", "block-30", "4242424242424242")
    lot = machine._lots_with_money()[0]
    machine.dashboard_refund(Choices(lot), 99, None)  # $68.31 of $69.00 takes 29 minutes: 1 minute holds 69 cents
    machine.dashboard_refund(Choices(lot), 50, None)  # 34 cents of the last minute's 69 take no minute
    assert machine.model["ana@example.com"].available == (1, 35)
    # the last minute, for what it still holds; the rest overage
    machine.redeem(SessionSent("ana@example.com", 15, True, False), None)
    machine.bank_fails_refund(Choices(machine._stripe_refunds("succeeded")[-1]), True, None)
    assert machine.model["ana@example.com"].available == (0, 34)  # no minute to spend them with
    machine.request_refund("ana@example.com", None, "client", None)  # below the minimum, and refunded all the same
    assert machine.model["ana@example.com"].available == (0, 0)
    machine.teardown()


def test_two_refunds_waiting_on_one_lot_are_not_a_discrepancy(machine: LedgerMachine) -> None:
    machine.opening("block-60", "block-30", "4242424242424242")
    machine.request_refund("ana@example.com", 15, "client", None)
    machine.request_refund("ana@example.com", 15, "client", None)  # both wait for the worker, on the same lot
    machine.teardown()


def test_a_trust_retried_after_its_write_returns_the_account(machine: LedgerMachine) -> None:
    machine.opening("block-60", "block-30", "4242424242424242")
    machine.trust("ben@example.com", 60, (2, "after"))  # the limit and its journal entry written, then a crash
    machine.every_cent_is_accounted_for()
    machine.teardown()


def test_a_trusted_clients_time_beyond_a_deposit_goes_on_account_before_any_card(machine: LedgerMachine) -> None:
    machine.opening("deposit", "block-30", "4242424242424242")
    machine.trust("ana@example.com", 60, None)
    machine.redeem(SessionSent("ana@example.com", 80, False, False), None)  # 90: 60 from the deposit, 30 on account
    machine.redeem(SessionSent("ben@example.com", 45, True, False), None)  # untrusted: the card pays past the block
    assert (machine.model["ana@example.com"].on_account_m, machine.model["ben@example.com"].on_account_m) == (30, 0)
    machine.teardown()


def test_a_trusted_client_without_a_card_uses_the_limit_and_is_never_charged(machine: LedgerMachine) -> None:
    """Issue 15: 255 of a 300-minute limit left, no card ever saved; 300 minutes with --charge-overage is refused
    (no_card, nothing written), 255 go on account, and a deposit bought later pays only what is past the limit."""
    machine.opening(None, "block-30", "4242424242424242", trusted=300)
    machine.redeem(SessionSent("ana@example.com", 45, False, False), None)
    machine.redeem(SessionSent("ana@example.com", 300, True, False), None)  # the machine asserts no_card
    assert machine.model["ana@example.com"].on_account_m == 45 and not machine.model["ana@example.com"].debts
    machine.redeem(SessionSent("ana@example.com", 255, True, False), None)
    machine.pay("ana@example.com", "deposit", "4242424242424242", True, None)
    machine.redeem(SessionSent("ana@example.com", 90, False, False), None)  # 60 from the deposit, 30 to its card
    ana = machine.model["ana@example.com"]
    assert ana.on_account_m == 300 and list(ana.sessions.values())[-1][1:] == (6450, "charged")
    machine.teardown()


def test_a_dunning_run_that_missed_days_sends_one_reminder_and_waits_a_day_for_collections(
    machine: LedgerMachine,
) -> None:
    """Issue 15: three weeks without a daily run; the client was untrusted by hand before her bill's grace ran out."""
    machine.opening(None, "block-30", "4242424242424242", trusted=300)
    machine.redeem(SessionSent("ana@example.com", 45, False, False), None)
    machine.trust("ana@example.com", 0, None)  # untrusted by hand: what she used on account is still billed
    machine.daily_run(None, 0, None)  # her billing day: the bill and its notice
    (bill,) = machine.model["ana@example.com"].debts.values()
    machine.daily_run(22, 0, None)
    machine.every_cent_is_accounted_for()  # the ledger's debt matches the model's, step for step
    assert len(bill.notices) == 2 and bill.collections_at is None, "one reminder, and collections waits"
    assert bill.prepay_at is not None and bill.already_prepaying, "back to prepaying: recorded, not announced"
    machine.daily_run(0, 3600, None)  # an hour later: still not a day after the reminder
    assert bill.collections_at is None
    machine.daily_run(1, 0, None)
    assert bill.collections_at is not None
    machine.teardown()


# --- histories the fixes made pass: keys naming their client, charges looked up, currency, chargebacks ------


def test_an_overage_charge_retried_after_stripe_forgot_its_key_is_not_made_twice(
    machine: LedgerMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_machine, "LATE_CHARGE_RETRIES", True)
    machine.opening("deposit", "block-30", "4242424242424242")
    # 90 minutes on a 60-minute deposit: the card is charged for 30, the process dies, the retry comes a day later
    machine.redeem(SessionSent("ana@example.com", 90, False, False), ("Stripe POST payment_intents", "after", "late"))
    machine.every_cent_is_accounted_for()
    machine.teardown()


def test_two_clients_sessions_with_one_id_both_charge_their_overage(
    machine: LedgerMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_machine, "SHARED_IDS_WITH_OVERAGE", True)
    machine.opening("deposit", "deposit", "4242424242424242")
    machine.redeem(SessionSent("ana@example.com", 90, False, False), None)  # 30 minutes charged to Ana's card
    machine.redeem(SessionSent("ben@example.com", 90, False, True), None)  # Ben's technician sends the same id
    machine.every_cent_is_accounted_for()
    machine.teardown()


def test_a_checkout_in_another_currency_is_not_booked_as_shop_cents(
    machine: LedgerMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_machine, "FOREIGN_CURRENCY", True)
    machine.opening("block-60", "block-30", "4242424242424242")
    machine.pay_converted("ana@example.com", False, True, None)  # €118.68 for a 1-hour block
    machine.every_cent_is_accounted_for()
    machine.teardown()


def test_a_lost_dispute_takes_its_money_out_of_the_ledger(machine: LedgerMachine) -> None:
    machine.opening("block-60", "block-30", "4242424242424242")
    pi = machine._disputable()[0]
    machine.dispute_opens(Choices(pi), False, True, None)
    machine.dispute_closes(Choices(pi), False, True, None)
    machine.every_cent_is_accounted_for()
    machine.teardown()


def test_a_debt_paid_by_link_after_a_refund_set_it_off_is_reported_not_lost(machine: LedgerMachine) -> None:
    """The make proof run found it: the client pays the overage's link, its event is late, and meanwhile a refund
    pays the same debt from the balance. The late payment is not booked twice: the shop is told to refund it."""
    machine.opening("deposit", "block-30", "4000000000000341")  # the deposit's card declines later charges
    machine.redeem(SessionSent("ana@example.com", 90, False, False), None)  # 30 minutes past the deposit: owed
    machine.pay("ana@example.com", "block-60", "4242424242424242", True, None)
    (key,) = machine.model["ana@example.com"].open_debts()
    machine.pay_debt(Choices(("ana@example.com", key), False), None)  # paid at Stripe; the event waits
    machine.request_refund("ana@example.com", None, "client", None)  # the debt is set off from the balance first
    assert machine.model["ana@example.com"].debts[key].paid_by == "balance"
    machine._deliver(machine.events[-1], None)  # the link's payment arrives: not booked a second time
    machine.every_cent_is_accounted_for()
    machine.teardown()
