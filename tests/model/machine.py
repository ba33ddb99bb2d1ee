"""A model-based test: random histories of every money path, with crashes, against the real services.

A hypothesis state machine drives the real services against moto and the Stripe stand-in (through the real SDK):
purchases, quotes (paid, expired, settled), sessions (prepaid, on account for trusted clients, overage charged or
owed), bills on the billing day, dunning on chosen days, debts paid through their links at any point, refunds,
and Stripe's own doings (dashboard refunds, banks failing refunds, disputes). Stripe's webhooks are a bag of events
that may arrive late, twice, or out of order. Any operation may crash before or after any one of its I/O calls (a
DynamoDB call or a Stripe request, a charge among them), and is then retried with the same ids, as Lambda, SQS or
Stripe would retry it, sometimes after Stripe has forgotten the idempotency keys. The reference model
(reference.py) predicts every lot, account field, debt and quote; after each step the invariants (invariants.py)
hold: the ledger matches the model and adds up; every cent is conserved between Stripe and the ledger; no balance
is below zero; every unpaid amount is a debt; and at the end, once every event has arrived and every refund has
been worked, `reconcile` finds nothing.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

import pytest
import requests
import stripe
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from blockhours import services
from blockhours.adapters.stripe_gateway import StripeGateway, checkout_event, refund_from_event
from blockhours.config import StripeSettings
from blockhours.domain.changes import refund_ref
from blockhours.domain.ledger import DAY_SECONDS, Payment, warned_due_at
from blockhours.domain.money import bill_minutes
from blockhours.domain.parked import ParkedEvent
from blockhours.domain.remote_sessions import RemoteSession
from blockhours.services import remote_sessions
from blockhours.services.purchases import record_order
from blockhours_dev.memory_table import MemoryTable
from blockhours_dev.standin import StripeStandIn
from blockhours_dev.standin.payments import paid_intent
from stripe_events import opened_payment, order_of

from .invariants import LedgerInvariants, check_ledger, debt_key
from .reference import (
    CATALOG,
    CURRENCY,
    INCREMENT,
    PRODUCTS,
    QUOTE_HOURS,
    SESSION_MINIMUM,
    STALE,
    WARNING,
    MAccount,
    MDebt,
    MLot,
    MQuote,
    Refused,
    apply_refund,
    at_rate,
    bill,
    chase,
    dispute_fact,
    give_back,
    outside_minutes,
    pay_debt,
    plan_refund,
    plan_session,
    set_off,
    set_trust,
    tool_minutes,
)
from .world import (
    TABLE,
    Crash,
    Crasher,
    CrashingHTTP,
    MemoryStore,
    StoredLedger,
    World,
    crashing_ledger,
    dynamodb,
    in_memory,
)

EMAILS = ("ana@example.com", "ben@example.com")
CUSTOMERS = {email: f"cus_model_{email.split('@')[0]}" for email in EMAILS}
CARDS = {"4242424242424242": "succeeds", "4000002760003184": "needs authentication", "4000000000000341": "declined"}
T0 = 1_900_000_000  # a fixed clock: every example starts at the same time
SITE = "https://shop.example"

# Cases the random run leaves out while a known bug in someone else's area stands; each has a strict-xfail replay
# in tests/model/test_model.py. Set one to True once its fix is in (BLOCKHOURS_MODEL_ALL=1: all of them, and
# invariants.CHARGEBACKS_IN_LEDGER too).
EVERY_CASE = os.environ.get("BLOCKHOURS_MODEL_ALL", "0") == "1"
SHARED_IDS_WITH_OVERAGE = True  # fixed: every Stripe key names its client
FOREIGN_CURRENCY = True  # fixed: a checkout paid in another currency is reported, never booked as shop cents
LATE_CHARGE_RETRIES = True  # fixed: a charge retried after Stripe forgot its key is looked up by our ids first

plain_crashes = st.tuples(st.integers(1, 8), st.sampled_from(["before", "after"]))
# a retry that comes after Stripe has forgotten the idempotency keys (24 hours, no longer promised)
late_crashes = st.tuples(st.integers(1, 8), st.sampled_from(["before", "after"]), st.just("late"))
crashes = st.none() | plain_crashes | late_crashes


# --- what a run did: for `make proof` -----------------------------------------------------------------------


@dataclass
class Tally:
    rules: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    late_retries: int = 0
    reached: Counter[str] = field(default_factory=Counter)  # what the histories got to, summed at their ends

    @property
    def steps(self) -> int:
        return sum(self.rules.values())


TALLY = Tally()


def counted(function: Callable[..., None]) -> Callable[..., None]:
    """Each run of a rule is a step of the proof's count."""

    @functools.wraps(function)
    def counting(self: LedgerMachine, *args: Any, **kwargs: Any) -> None:
        TALLY.rules[function.__name__] += 1
        function(self, *args, **kwargs)

    return counting


def say(text: str) -> None:
    """A note in hypothesis's report of a failing history; nothing when a rule is called directly."""
    with contextlib.suppress(InvalidArgument):
        note(text)


class SessionSent(NamedTuple):
    """A session as the technician sends it; `shared_id`: with an id the other client's technician used too."""

    email: str
    minutes: int
    charge_overage: bool
    shared_id: bool


@dataclass
class PaidCheckout:
    payment: Payment
    event_ids: list[str] = field(default_factory=list)


Outcome = tuple[str, Any]  # ("ok", value) or ("refused", ShopError code)


class LedgerMachine(LedgerInvariants, RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.table = f"model-{secrets.token_hex(4)}"
        self.memory = MemoryTable() if in_memory() else None
        if self.memory is None:
            dynamodb().create_table(TableName=self.table, **TABLE)
        self.standin = StripeStandIn(public_base=self.world.stripe_url)
        for email, customer in CUSTOMERS.items():  # one Stripe customer per client, as checkout made them
            self.standin.customers[customer] = self.standin._object("customer", id=customer, email=email, metadata={})
        self.world.switch.app = self.standin
        self.crasher = Crasher()
        if self.memory is not None:
            self.store: Any = MemoryStore(self.memory, self.crasher)
            self.reader: Any = MemoryStore(self.memory)
        else:
            self.store = crashing_ledger(self.table, self.crasher)
            self.reader = StoredLedger(self.table, dynamodb())
        settings_ = StripeSettings(
            api_key="sk_test_model", webhook_secret="whsec_model_unused", api_base=self.world.stripe_url
        )
        http = CrashingHTTP(self.crasher)
        self.gateway = StripeGateway(
            settings_,
            stripe.StripeClient(
                settings_.api_key,
                base_addresses={"api": self.world.stripe_url},
                http_client=http,
                max_network_retries=2,
            ),
        )
        self.plain_gateway = StripeGateway(settings_)
        self.now = T0
        self.serial = 0
        self.model = {email: MAccount(email) for email in EMAILS}
        self.checkouts: list[PaidCheckout] = []
        self.events: list[dict[str, Any]] = []  # Stripe's events other than `pay`'s, in the order Stripe made them
        self.cards: dict[str, str] = {}  # PaymentIntent → behaviour of the card that paid it
        self.parked: dict[str, list[tuple[int, str, Callable[[MAccount, MLot], None]]]] = {}  # PI → waiting effects
        self.disputes: dict[str, str] = {}  # PaymentIntent → its dispute at Stripe: open | won | lost
        self.quotes: dict[str, MQuote] = {}
        self.links_paid: set[tuple[str, tuple[str, str]]] = set()  # (email, debt key) paid at Stripe
        self.payments: dict[str, tuple[str, tuple[str, ...]]] = {}  # PaymentIntent → client, what it pays for
        self.crashed = 0
        self.tool_sent: list[tuple[str, str, int]] = []  # (client, ScreenConnect's id, seconds) as the tool sent them
        self.tool_done: set[str] = set()  # tool sessions the ledger has answered (a later delivery changes nothing)

    # --- running an operation, crashing it, retrying it ----------------------------------------

    def run(self, crash: tuple[Any, ...] | None, operation: Callable[[], Any]) -> tuple[bool, Outcome]:
        """Run once with the crash armed; if it crashed, once more with the same ids, as a retry would."""
        self.crasher.arm(crash)
        try:
            return False, self._attempt(operation)
        except Crash:
            self.crashed += 1
            TALLY.crashes += 1
            late = crash is not None and len(crash) > 2
            if late and (LATE_CHARGE_RETRIES or self.crasher.crashed_at != "Stripe POST payment_intents"):
                self.standin.forget_idempotency_keys()
                TALLY.late_retries += 1
        finally:
            self.crasher.arm(None)
        return True, self._attempt(operation)

    @staticmethod
    def _attempt(operation: Callable[[], Any]) -> Outcome:
        try:
            return "ok", operation()
        except services.ShopError as refused:
            return "refused", refused.code

    def tick(self, seconds: int = 1) -> None:
        """Time passes; Stripe closes every quote's page whose time is up (its event may arrive any time later)."""
        self.now += seconds
        for quote in self.quotes.values():
            session = self.standin.sessions[quote.checkout_id]
            if session["status"] == "open" and quote.expires_at <= self.now:
                self.standin.expire(quote.checkout_id)
                self.events.append(self.standin.deliveries[-1].event)

    def next_id(self, prefix: str) -> str:
        """Ids in the order they are made: a hypothesis replay must see the same lists in the same order."""
        self.serial += 1
        return f"{prefix}_{self.table.replace('-', '')}_{self.serial:04d}"  # Stripe's ids have no dashes

    # --- purchases: paid at Stripe, credited when (and however often) the event arrives ------------

    @initialize(
        first=st.sampled_from([*sorted(PRODUCTS), None]),
        second=st.sampled_from(sorted(PRODUCTS)),
        card=st.sampled_from(sorted(CARDS)),
        trusted=st.sampled_from([0, 60, 300]),
    )
    @counted
    def opening(self, first: str | None, second: str, card: str, trusted: int = 0) -> None:
        """Each client buys time; the first may pay afterwards, down to a limit, and then need buy none.

        Hypothesis favours the first of a list, so the first client is the one whose sessions run most often.
        """
        if trusted:
            self._trust(EMAILS[0], trusted, None)
        for email, sku in zip(EMAILS, (first, second), strict=True):
            if sku is not None or not trusted:
                self._pay(email, sku or "block-30", card, deliver_now=True, crash=None)

    @rule(
        email=st.sampled_from(EMAILS),
        sku=st.sampled_from(sorted(PRODUCTS)),
        card=st.sampled_from(sorted(CARDS)),
        deliver_now=st.booleans(),
        crash=crashes,
    )
    @counted
    def pay(self, email: str, sku: str, card: str, deliver_now: bool, crash: tuple[Any, ...] | None) -> None:
        self._pay(email, sku, card, deliver_now, crash)

    def _pay(self, email: str, sku: str, card: str, deliver_now: bool, crash: tuple[Any, ...] | None) -> None:
        kind, minutes, cents = PRODUCTS[sku]
        customer = CUSTOMERS[email]
        pi = paid_intent(self.standin, cents, customer=customer, card=card)  # the card stays on the customer
        self.cards[pi] = CARDS[card]
        payment = Payment(self.next_id("cs_test"), pi, customer, email, sku, kind, minutes, cents, "usd", "v", self.now)  # type: ignore[arg-type]
        payment = opened_payment(self.reader, payment)  # the shop opened this checkout before the client paid
        self.checkouts.append(PaidCheckout(payment))
        self.payments[pi] = (email, ("lot", payment.checkout_id))
        self.tick()
        if deliver_now:
            self._deliver_payment(self.checkouts[-1], True, crash)

    @precondition(lambda self: self.checkouts)
    @rule(data=st.data(), new_event=st.booleans(), crash=crashes)
    @counted
    def deliver_payment(self, data: st.DataObject, new_event: bool, crash: tuple[Any, ...] | None) -> None:
        """Stripe delivers a payment's event late, again, or as another event (async_payment_succeeded)."""
        checkout = data.draw(st.sampled_from(self.checkouts), label="checkout")
        self._deliver_payment(checkout, new_event or not checkout.event_ids, crash)

    def _deliver_payment(self, checkout: PaidCheckout, new_event: bool, crash: tuple[Any, ...] | None) -> None:
        if new_event:
            checkout.event_ids.append(self.next_id("evt"))
        event_id = checkout.event_ids[-1]
        payment = checkout.payment
        account = self.model[payment.email]
        first = payment.checkout_id not in account.lots
        crashed, outcome = self.run(crash, lambda: services.record_payment(CATALOG, self.store, event_id, payment))
        if not crashed:
            assert outcome == ("ok", "credited" if first else "duplicate")
        if first:
            self._credit(
                account, payment.checkout_id, payment.payment_intent, payment.kind, payment.minutes, payment.paid_at
            )
        self.tick()

    def _credit(self, account: MAccount, lot_id: str, pi: str, kind: str, minutes: int, created: int) -> None:
        """A paid checkout's lot, dated when its Checkout Session was made (a quote's: when it was sent); the events
        that came before it about its payment then apply, once, in the order they came."""
        amount = int(self.standin.payment_intents[pi]["amount"])
        account.lots[lot_id] = MLot(lot_id, pi, amount, minutes, kind, created)
        account.due = created + STALE
        for _, _, effect in sorted(self.parked.pop(pi, []), key=lambda waiting: waiting[:2]):
            effect(account, account.lots[lot_id])

    def _when_known(self, pi: str, parked_id: str, at: int, effect: Callable[[MAccount, MLot], None]) -> None:
        """An event about a payment: its effect now if the ledger knows the payment, else once its credit lands."""
        owner = self._owner(pi)
        if owner is not None:
            effect(*owner)
        elif pi and all(waiting[1] != parked_id for waiting in self.parked.get(pi, [])):
            self.parked.setdefault(pi, []).append((at, parked_id, effect))

    @rule(email=st.sampled_from(EMAILS), adaptive=st.booleans(), deliver_now=st.booleans(), crash=crashes)
    @counted
    def pay_converted(self, email: str, adaptive: bool, deliver_now: bool, crash: tuple[Any, ...] | None) -> None:
        """A client abroad pays a 1-hour block. Under Adaptive Pricing the session is in the shop's currency and says
        what the client saw in presentment_details: credited as usual. A session in another currency cannot be
        booked as shop cents: nothing is credited."""
        if not (adaptive or FOREIGN_CURRENCY):
            adaptive = True
        kind, minutes, cents = PRODUCTS["block-60"]
        currency, amount = (CURRENCY, cents) if adaptive else ("eur", cents * 92 // 100)
        customer = CUSTOMERS[email]
        pi = paid_intent(self.standin, amount, currency=currency, customer=customer)
        session = self.standin._object(
            "checkout.session",
            id=self.next_id("cs_test"),
            mode="payment",
            amount_subtotal=amount,
            amount_total=amount,
            currency=currency,
            customer=customer,
            payment_intent=pi,
            payment_status="paid",
            status="complete",
            created=self.now,
            metadata={
                "email": email,
                "sku": "block-60",
                "kind": kind,
                "minutes": str(minutes),
                "terms_version": "v",
                "order_id": self.next_id("order"),
            },
            presentment_details={"presentment_amount": cents * 92 // 100, "presentment_currency": "eur"},
        )
        order = replace(order_of(session), currency=CURRENCY, amount_cents=cents)  # the shop sells in its currency
        assert record_order(self.reader, order, self.now)
        self.payments[pi] = (email, ("lot", session["id"]) if adaptive else ("foreign",))
        self.standin.send_event("checkout.session.completed", session)
        self._emitted(deliver_now, crash)

    # --- quotes ------------------------------------------------------------------------------------

    @rule(email=st.sampled_from(EMAILS), minutes=st.integers(1, 240), crash=crashes)
    @counted
    def send_quote(self, email: str, minutes: int, crash: tuple[Any, ...] | None) -> None:
        """The technician quotes an estimate: rounded up to the increment, at the hourly rate, payable for a day."""
        quote_id = self.next_id("q")
        request = services.QuoteRequest(email, minutes, "Sam", "model", quote_id)
        _, outcome = self.run(
            crash, lambda: services.send_quote(CATALOG, self.store, self.gateway, request, SITE, self.now)
        )
        assert outcome[0] == "ok", outcome
        quote = outcome[1]
        billed = bill_minutes(minutes, INCREMENT, SESSION_MINIMUM)
        expires_at = self.now + QUOTE_HOURS * 3600
        assert (quote.minutes, quote.amount_cents, quote.expires_at) == (billed, at_rate(billed), expires_at)
        checkout_id = quote.pay_url.rsplit("/", 1)[1]
        session = self.standin.sessions[checkout_id]
        assert (session["amount_total"], session["customer"]) == (at_rate(billed), CUSTOMERS[email])
        session["created"] = self.now  # Stripe dates a session when it is made: on this test's clock
        self.quotes[quote_id] = MQuote(email, billed, at_rate(billed), expires_at, checkout_id)
        self.tick()

    def _payable_quotes(self) -> list[str]:
        return [
            quote_id
            for quote_id, quote in self.quotes.items()
            if self.standin.sessions[quote.checkout_id]["status"] == "open"
        ]

    @precondition(lambda self: self._payable_quotes())
    @rule(data=st.data(), crash=crashes)
    @counted
    def pay_quote(self, data: st.DataObject, crash: tuple[Any, ...] | None) -> None:
        """The client pays the quote's page before it expires; checkout.session.completed may arrive late."""
        quote = self.quotes[data.draw(st.sampled_from(self._payable_quotes()), label="quote")]
        card = data.draw(st.sampled_from(sorted(CARDS)), label="card")
        deliver_now = data.draw(st.booleans(), label="deliver now")
        self.standin.complete(quote.checkout_id, "paid", card)
        pi = str(self.standin.sessions[quote.checkout_id]["payment_intent"])
        self.cards[pi] = CARDS[card]  # the quote's checkout saves the card, as every checkout
        self.payments[pi] = (quote.email, ("lot", quote.checkout_id))
        self._emitted(deliver_now, crash)

    @precondition(lambda self: self._payable_quotes())
    @rule(data=st.data(), deliver_now=st.booleans(), crash=crashes)
    @counted
    def quote_expires(self, data: st.DataObject, deliver_now: bool, crash: tuple[Any, ...] | None) -> None:
        """The quote's day passes unpaid: Stripe closes its page and sends checkout.session.expired."""
        quote = self.quotes[data.draw(st.sampled_from(self._payable_quotes()), label="quote")]
        self.tick(max(0, quote.expires_at - self.now))
        [expired] = [
            e
            for e in self.events
            if e["type"] == "checkout.session.expired" and e["data"]["object"]["id"] == quote.checkout_id
        ]
        if deliver_now:
            self._deliver(expired, crash)
        self.tick()

    # --- trusted clients -----------------------------------------------------------------------------

    @rule(email=st.sampled_from(EMAILS), limit=st.sampled_from([0, 0, 60, 120, 300]), crash=crashes)
    @counted
    def trust(self, email: str, limit: int, crash: tuple[Any, ...] | None) -> None:
        """The owner lets a client pay afterwards down to a limit (`blockhours trust`), or ends it (`untrust`)."""
        self._trust(email, limit, crash)

    def _trust(self, email: str, limit: int, crash: tuple[Any, ...] | None) -> None:
        account = self.model[email]
        was = account.trust_limit
        crashed, outcome = self.run(
            crash, lambda: services.set_trust(CATALOG, self.store, email, limit, "owner", self.now)
        )
        try:
            set_trust(account, limit, self.now)
        except Refused as refused:
            assert outcome == ("refused", refused.code), outcome
        else:  # a retry after the crashed attempt had ended the trust finds nothing to end
            late = crashed and limit == 0 < was and outcome == ("refused", "not_trusted")
            assert outcome[0] == "ok" or late, outcome
        self.tick()

    # --- sessions --------------------------------------------------------------------------------

    # hypothesis draws the rules with the fewest arguments most often: a session's are one
    @rule(
        sent=st.builds(SessionSent, st.sampled_from(EMAILS), st.integers(1, 200), st.booleans(), st.booleans()),
        crash=crashes,
    )
    @counted
    def redeem(self, sent: SessionSent, crash: tuple[Any, ...] | None) -> None:
        """A session, its id new or one the other client's technician used too (ids are only unique per client)."""
        email, minutes, charge_overage, shared_id = sent
        expected = plan_session(self.model[email], minutes, charge_overage)
        session_id = self._session_id(email, expected) if shared_id else self.next_id("s")
        say(f"session {session_id}")
        request = services.SessionRequest(email, minutes, "Sam", "model", session_id, charge_overage)
        _, outcome = self.run(
            crash, lambda: services.redeem(CATALOG, self.store, lambda: self.gateway, request, self.now)
        )
        if isinstance(expected, Refused):
            assert outcome[0] == "refused" and outcome[1] in expected.codes, (outcome, expected.codes)
        else:
            assert outcome[0] == "ok", outcome
            record = outcome[1]
            self._apply_session(self.model[email], session_id, minutes, expected)
            got = (
                record.covered_minutes,
                record.covered_cents,
                record.overage_cents,
                record.on_account_minutes,
                record.on_account_cents,
            )
            want = tuple(expected[k] for k in ("covered_m", "covered_c", "overage_c", "on_account_m", "on_account_c"))
            assert got == want, (got, want)
            assert record.overage_status == self.model[email].sessions[session_id][2]
        self.tick()

    def _session_id(self, email: str, plan: dict[str, Any] | Refused) -> str:
        """The other client's latest session id that this client has not used (else a new one of the same form)."""
        other = self.model[next(e for e in EMAILS if e != email)]
        mine = self.model[email].sessions
        for session_id, (_, overage, _) in reversed(other.sessions.items()):
            if session_id in mine:
                continue
            charges_too = not isinstance(plan, Refused) and plan["overage_c"] and overage
            if charges_too and not SHARED_IDS_WITH_OVERAGE:
                break
            return session_id
        return self.next_id("T")

    @rule(
        email=st.sampled_from(EMAILS),
        seconds=st.integers(1, 200 * 60),
        again=st.booleans(),
        crash=crashes,
    )
    @counted
    def tool_session(self, email: str, seconds: int, again: bool, crash: tuple[Any, ...] | None) -> None:
        """ScreenConnect (policy auto) reports a session of the client, among the technicians' own sessions; sent
        again (a retry, a push then a poll) it changes nothing: one session per tool session, never below zero."""
        if again and self.tool_sent:
            email, external_id, seconds = self.tool_sent[-1]
        else:
            external_id = self.next_id("sc")
            self.tool_sent.append((email, external_id, seconds))
        ref = f"client {email}"
        session = RemoteSession("screenconnect", external_id, "Sam", ref, self.now - seconds, seconds, self.now)
        minutes = tool_minutes(seconds, CATALOG.integrations["screenconnect"].free_under_minutes)
        fresh = session.session_id not in self.tool_done
        expected = plan_session(self.model[email], minutes, False) if fresh and minutes else None
        say(f"tool session {session.session_id} ({seconds} s){'' if fresh else ' again'}")

        def deliver() -> Any:
            remote_sessions.learn_mapping(self.store, "screenconnect", ref, email, "owner", self.now)
            return remote_sessions.receive(CATALOG, self.store, lambda: self.gateway, session, self.now)

        _, outcome = self.run(crash, deliver)
        assert outcome[0] == "ok", outcome
        answer = outcome[1]
        self.tool_done.add(session.session_id)
        if expected is None:  # free, or sent before: nothing moves
            assert answer.outcome in ("free", "duplicate"), answer
        elif isinstance(expected, Refused):  # the ledger said no: it waits in the inbox, never lost
            assert answer.item.reason == "refused" and answer.item.is_open, answer
            assert any(code in answer.item.problem for code in expected.codes), (answer.item.problem, expected.codes)
        else:
            assert answer.outcome in ("redeemed", "duplicate") and answer.session is not None, answer
            self._apply_session(self.model[email], session.session_id, minutes, expected)
        self.tick()

    @precondition(lambda self: any(a.sessions for a in self.model.values()))
    @rule(data=st.data(), same_minutes=st.booleans(), crash=crashes)
    @counted
    def redeem_again(self, data: st.DataObject, same_minutes: bool, crash: tuple[Any, ...] | None) -> None:
        """The technician sends a session id again: its first outcome, or a conflict if it is another session."""
        email, session_id = data.draw(
            st.sampled_from([(e, s) for e, a in self.model.items() for s in a.sessions]), label="session"
        )
        minutes, _, status = self.model[email].sessions[session_id]
        sent = minutes if same_minutes else minutes + 15
        request = services.SessionRequest(email, sent, "Sam", "again", session_id, True)
        _, outcome = self.run(
            crash, lambda: services.redeem(CATALOG, self.store, lambda: self.gateway, request, self.now)
        )
        if same_minutes:
            assert outcome[0] == "ok" and outcome[1].overage_status == status, outcome
        else:
            assert outcome == ("refused", "session_conflict"), outcome
        self.tick()

    def _apply_session(self, account: MAccount, session_id: str, minutes: int, plan: dict[str, Any]) -> None:
        for lot_id, take, cents in plan["draws"]:
            lot = account.lots[lot_id]
            lot.used_m += take
            lot.consumed_c += cents
        account.on_account_m += plan["on_account_m"]
        account.on_account_c += plan["on_account_c"]
        status = "none"
        if plan["overage_c"]:
            # the card that paid the lot the session drew from (a deposit first, then the newest), else the newest
            drawn = [account.lots[lot_id] for lot_id, _, _ in plan["draws"]] or list(account.lots.values())
            paid_by = max(drawn, key=lambda lot: (lot.kind == "deposit", lot.created_at, lot.lot_id)) if drawn else None
            status = "charged" if paid_by and self.cards.get(paid_by.payment_intent) == "succeeds" else "owed"
        if status == "owed":  # the notice goes out the day the debt arises
            account.debts[("overage", session_id)] = MDebt(
                "overage", plan["overage_c"], plan["overage_m"], self.now, [self.now]
            )
        account.sessions[session_id] = (minutes, plan["overage_c"], status)
        holding = any(lot.left_m > 0 or lot.left_c > 0 for lot in account.lots.values())
        account.due = self.now + STALE if holding else None

    def _open_deposits(self) -> list[str]:
        return [e for e, a in self.model.items() if any(x.kind == "deposit" and not x.closed for x in a.lots.values())]

    @precondition(lambda self: self._open_deposits())
    @rule(data=st.data(), crash=crashes)
    @counted
    def settle(self, data: st.DataObject, crash: tuple[Any, ...] | None) -> None:
        email = data.draw(st.sampled_from(self._open_deposits()), label="client")
        account = self.model[email]
        closing = [lot for lot in account.lots.values() if lot.kind == "deposit" and not lot.closed]
        crashed, outcome = self.run(crash, lambda: services.settle(self.store, email, "Sam", self.now))
        if not closing:
            assert outcome == ("refused", "no_open_deposit"), outcome
        else:  # a retry after the deposit closed finds nothing left to settle
            assert outcome[0] == "ok" or (crashed and outcome == ("refused", "no_open_deposit")), outcome
            for lot in closing:
                lot.closed = True
        self.tick()

    # --- what is owed: paid through its link, at any point ---------------------------------------------

    def _payable_debts(self) -> list[tuple[str, tuple[str, str]]]:
        return [
            (email, key)
            for email, account in self.model.items()
            for key in account.open_debts()
            if (email, key) not in self.links_paid and key[0] != "dispute"  # a lost dispute's debt has no link
        ]

    @precondition(lambda self: self._payable_debts())
    @rule(data=st.data(), crash=crashes)
    @counted
    def pay_debt(self, data: st.DataObject, crash: tuple[Any, ...] | None) -> None:
        """The client pays a debt's link (an overage, a bill): Stripe charges, the event may arrive late or twice."""
        email, key = data.draw(st.sampled_from(self._payable_debts()), label="debt")
        deliver_now = data.draw(st.booleans(), label="deliver now")
        ledger = self.reader.customer(email)
        assert ledger is not None
        [debt] = [d for d in ledger.debts if debt_key(d.kind, d.debt_id, d.opened_at) == key]
        opened = requests.get(debt.pay_url, allow_redirects=False, timeout=10)  # the link opens a checkout
        assert opened.status_code == 303, opened.text
        checkout_id = opened.headers["Location"].rsplit("/", 1)[1]
        self.standin.sessions[checkout_id]["created"] = self.now
        self.standin.complete(checkout_id, "paid")
        self.links_paid.add((email, key))
        self.payments[str(self.standin.sessions[checkout_id]["payment_intent"])] = (email, ("debt", *key))
        self._emitted(deliver_now, crash)

    # --- refunds -----------------------------------------------------------------------------------

    @rule(
        email=st.sampled_from(EMAILS),
        minutes=st.none() | st.integers(1, 120),
        reason=st.sampled_from(["client", "staff", "settle"]),
        crash=crashes,
    )
    @counted
    def request_refund(self, email: str, minutes: int | None, reason: str, crash: tuple[Any, ...] | None) -> None:
        scope = "settled" if reason == "settle" else "all"
        known = set(self.model[email].refunds)
        _, outcome = self.run(
            crash,
            lambda: services.request_refund(
                CATALOG,
                self.store,
                email,
                reason,
                "model",
                minutes,
                scope,
                now=self.now,  # type: ignore[arg-type]
            ),
        )
        retried = outcome[1].refund_id if outcome[0] == "ok" else None
        made = self._refund_ids(email) - known
        try:
            set_off(self.model[email])  # what is owed comes first
        except Refused as owing:
            assert not made and outcome == ("refused", owing.code), outcome
            self.tick()
            return
        earlier = made - {retried}
        assert len(earlier) <= 1, f"one request made {len(made)} refunds"
        for refund_id in earlier:  # the crashed attempt had committed: its refund stands, the retry asked again
            self._expect_refund(email, refund_id, minutes, scope, reason)
        if retried is not None:
            self._expect_refund(email, retried, minutes, scope, reason)
        else:
            with pytest.raises(Refused) as refused:
                plan_refund(self.model[email], minutes, scope, reason)
            assert outcome == ("refused", refused.value.code)
        self.tick()

    def _refund_ids(self, email: str) -> set[str]:
        ledger = self.reader.customer(email)
        return {r.refund_id for r in ledger.refunds} if ledger else set()

    def _expect_refund(self, email: str, refund_id: str, minutes: int | None, scope: str, reason: str) -> None:
        parts = plan_refund(self.model[email], minutes, scope, reason)
        record = self.reader.find(refund_ref(email, refund_id))
        assert record is not None
        assert [(p.lot_id, p.minutes, p.amount_cents) for p in record.parts] == [
            (p.lot_id, p.minutes, p.cents) for p in parts
        ]
        apply_refund(self.model[email], refund_id, parts)

    def _waiting(self) -> list[tuple[str, str]]:
        return [
            (e, r)
            for e, a in self.model.items()
            for r, parts in a.refunds.items()
            if any(p.status == "requested" for p in parts)
        ]

    @precondition(lambda self: any(a.refunds for a in self.model.values()))
    @rule(data=st.data(), stripe_answers=st.sampled_from(["succeeded", "pending"]), crash=crashes)
    @counted
    def work_refund(self, data: st.DataObject, stripe_answers: str, crash: tuple[Any, ...] | None) -> None:
        """The worker takes a refund off the queue (again, if SQS delivers it twice): per lot, to Stripe, once.

        Stripe's new refunds succeed at once, or stay pending for a while.
        """
        self.standin.refund_outcome = stripe_answers
        every = [(e, r) for e, a in self.model.items() for r in a.refunds]
        waiting = self._waiting()
        email, refund_id = data.draw(st.sampled_from(waiting or every), label="refund")
        self._work(email, refund_id, crash)

    def _work(self, email: str, refund_id: str, crash: tuple[Any, ...] | None) -> None:
        _, outcome = self.run(
            crash, lambda: services.process_refund(self.store, self.gateway, email, refund_id, now=self.now)
        )
        assert outcome[0] == "ok" and outcome[1] is not None
        account = self.model[email]
        if account.frozen:  # no refund is sent while a dispute holds the account: the money stays set aside
            for part in account.refunds[refund_id]:
                assert part.status != "requested" or not self._stripe_refunds_for(refund_id, part.lot_id)
            self.tick()
            return
        for part in account.refunds[refund_id]:
            if part.status != "requested":
                continue
            lot = account.lots[part.lot_id]
            [made] = self._stripe_refunds_for(refund_id, part.lot_id)
            assert (made["amount"], made["payment_intent"]) == (part.cents, lot.payment_intent)
            if made["status"] == "failed":
                give_back(account, part, self.now)
            else:
                part.status, part.stripe_id = str(made["status"]), str(made["id"])
        self.tick()

    def _stripe_refunds_for(self, refund_id: str, lot_id: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.standin.refunds.values()
            if r["metadata"].get("refund_id") == refund_id and r["metadata"].get("lot_id") == lot_id
        ]

    def _stripe_refunds(self, *states: str) -> list[str]:
        return [r["id"] for r in self.standin.refunds.values() if r["status"] in states]

    @precondition(lambda self: self._stripe_refunds("pending"))
    @rule(data=st.data(), deliver_now=st.booleans(), crash=crashes)
    @counted
    def stripe_settles_pending(self, data: st.DataObject, deliver_now: bool, crash: tuple[Any, ...] | None) -> None:
        refund_id = data.draw(st.sampled_from(self._stripe_refunds("pending")), label="pending refund")
        self.standin.refunds[refund_id]["status"] = "succeeded"
        self.standin.send_event("refund.updated", dict(self.standin.refunds[refund_id]))
        self._emitted(deliver_now, crash)

    @precondition(lambda self: self._stripe_refunds("succeeded", "pending"))
    @rule(data=st.data(), deliver_now=st.booleans(), crash=crashes)
    @counted
    def bank_fails_refund(self, data: st.DataObject, deliver_now: bool, crash: tuple[Any, ...] | None) -> None:
        """The card's bank sends a refund back, days later; refund.failed is sent (and may arrive late)."""
        refund_id = data.draw(st.sampled_from(self._stripe_refunds("succeeded", "pending")), label="refund")
        self.standin.fail_refund(refund_id)
        self._emitted(deliver_now, crash)

    def _lots_with_money(self) -> list[tuple[str, str]]:
        return [(e, lot.lot_id) for e, a in self.model.items() for lot in a.lots.values() if lot.left_c > 0]

    @precondition(lambda self: self._lots_with_money())
    @rule(data=st.data(), share=st.integers(1, 100), crash=crashes)
    @counted
    def dashboard_refund(self, data: st.DataObject, share: int, crash: tuple[Any, ...] | None) -> None:
        """The shop refunds part of a lot's unused money in the Stripe dashboard; charge.refunded arrives."""
        email, lot_id = data.draw(st.sampled_from(self._lots_with_money()), label="lot")
        lot = self.model[email].lots[lot_id]
        self.standin.dashboard_refund(lot.payment_intent, max(1, lot.left_c * share // 100))
        self._emitted(True, crash)

    def _disputable(self) -> list[str]:
        return [
            lot.payment_intent
            for a in self.model.values()
            for lot in a.lots.values()
            if lot.payment_intent not in self.disputes
        ]

    @precondition(lambda self: self._disputable())
    @rule(data=st.data(), inquiry=st.booleans(), deliver_now=st.booleans(), crash=crashes)
    @counted
    def dispute_opens(
        self, data: st.DataObject, inquiry: bool, deliver_now: bool, crash: tuple[Any, ...] | None
    ) -> None:
        """The cardholder disputes a charge: charge.dispute.created; a real dispute (not an inquiry) also takes the
        money at once (charge.dispute.funds_withdrawn). Either may arrive late, or before the payment's credit."""
        pi = data.draw(st.sampled_from(self._disputable()), label="payment")
        self.disputes[pi] = "inquiry" if inquiry else "open"
        self.standin.dispute(pi, "warning_needs_response" if inquiry else "needs_response")
        self._emitted(deliver_now, crash)
        if not inquiry:
            self.standin.dispute(pi, "needs_response", "charge.dispute.funds_withdrawn")
            self._emitted(deliver_now, crash)

    @precondition(lambda self: any(state in ("open", "inquiry") for state in self.disputes.values()))
    @rule(data=st.data(), won=st.booleans(), deliver_now=st.booleans(), crash=crashes)
    @counted
    def dispute_closes(self, data: st.DataObject, won: bool, deliver_now: bool, crash: tuple[Any, ...] | None) -> None:
        """The dispute is decided: an inquiry closes (warning_closed); a dispute is won (the money comes back:
        funds_reinstated, then closed) or lost (closed). Possibly before its opening has arrived."""
        pi = data.draw(
            st.sampled_from([pi for pi, state in self.disputes.items() if state in ("open", "inquiry")]),
            label="payment",
        )
        if self.disputes[pi] == "inquiry":
            self.disputes[pi] = "warning_closed"
        elif won:
            self.disputes[pi] = "won"
            self.standin.dispute(pi, "won", "charge.dispute.funds_reinstated")
            self._emitted(deliver_now, crash)
        else:
            self.disputes[pi] = "lost"
        self.standin.dispute(pi, self.disputes[pi])
        self._emitted(deliver_now, crash)

    def _held(self) -> list[str]:
        return [email for email, account in self.model.items() if account.holds > 0]

    @precondition(lambda self: self._held())
    @rule(data=st.data(), crash=crashes)
    @counted
    def release(self, data: st.DataObject, crash: tuple[Any, ...] | None) -> None:
        """Staff release an account held after a lost dispute (`blockhours release`)."""
        email = data.draw(st.sampled_from(self._held()), label="client")
        crashed, outcome = self.run(crash, lambda: services.release(self.store, email, "Kim", self.now))
        assert outcome[0] == "ok" or (crashed and outcome == ("refused", "not_on_hold")), outcome
        self.model[email].holds = 0
        self.tick()

    # --- Stripe's events: late, repeated, out of order ----------------------------------------------

    def _emitted(self, deliver_now: bool, crash: tuple[Any, ...] | None) -> None:
        event = self.standin.deliveries[-1].event
        self.events.append(event)
        if deliver_now:
            self._deliver(event, crash)
        self.tick()

    @precondition(lambda self: self.events)
    @rule(data=st.data(), crash=crashes)
    @counted
    def deliver_event(self, data: st.DataObject, crash: tuple[Any, ...] | None) -> None:
        index = data.draw(st.integers(0, len(self.events) - 1), label="event")
        event = self.events[index]
        obj = event["data"]["object"]
        say(f"event {index}: {event['type']} for {obj.get('payment_intent') or obj.get('id')}")
        self._deliver(event, crash)
        self.tick()

    def _deliver(self, event: dict[str, Any], crash: tuple[Any, ...] | None) -> None:
        """What POST /api/stripe/webhook does with a verified event (handlers/webhook.py); what the model expects."""
        verified = stripe.Event.construct_from(event, "sk_test_model")
        obj = verified.data.object.to_dict()
        at = self.now
        if verified.type.startswith("checkout.session."):
            self._deliver_checkout(verified, obj, crash)
            return

        def receive() -> list[str]:  # handlers/webhook.py: parked when the payment is not credited yet
            if verified.type.startswith("charge.dispute."):
                fields = {"dispute_id": obj["id"], "amount_cents": int(obj["amount"]), "status": str(obj["status"])}
                pi = str(obj.get("payment_intent") or "")
                return [
                    services.payment_event(
                        self.store, ParkedEvent(pi, event["id"], "dispute", verified.type, at, fields)
                    )
                ]
            if verified.type == "charge.refunded":
                refunds = self.gateway.refunds_of(str(obj["payment_intent"]))
            else:
                refund = refund_from_event(verified)
                refunds = [refund] if refund is not None else []
            return [
                services.payment_event(
                    self.store,
                    ParkedEvent(
                        refund.payment_intent, f"{event['id']}:{refund.id}", "refund", verified.type, at, asdict(refund)
                    ),
                )
                for refund in refunds
            ]

        listed = [dict(r) for r in self.standin.refunds.values() if r["payment_intent"] == obj.get("payment_intent")]
        self.run(crash, receive)
        if verified.type.startswith("charge.dispute."):
            status, amount, dispute_id = str(obj["status"]), int(obj["amount"]), str(obj["id"])
            self._when_known(
                str(obj["payment_intent"]),
                str(event["id"]),
                at,
                lambda account, lot: dispute_fact(account, lot, dispute_id, verified.type, status, amount, at),
            )
        elif verified.type == "charge.refunded":
            for refund in listed:
                self._when_known(
                    str(refund["payment_intent"]),
                    f"{event['id']}:{refund['id']}",
                    at,
                    lambda account, lot, refund=refund: self._model_refund_event(account, lot, refund, at),
                )
        else:
            self._when_known(
                str(obj["payment_intent"]),
                f"{event['id']}:{obj['id']}",
                at,
                lambda account, lot: self._model_refund_event(account, lot, obj, at),
            )

    def _deliver_checkout(self, verified: stripe.Event, obj: dict[str, Any], crash: tuple[Any, ...] | None) -> None:
        """A Checkout Session's event: a debt's link paid, a quote's page expired or paid, a purchase."""
        at = self.now

        def receive() -> str:
            meaning = checkout_event(verified)
            if meaning.debt is not None:
                debt = meaning.debt
                return services.record_debt_payment(CATALOG, self.store, debt)
            if meaning.expired_quote:
                return services.quote_expired(self.store, meaning.expired_quote, meaning.checkout_id, at)
            if meaning.payment is None:
                return meaning.outcome
            return services.record_payment(CATALOG, self.store, meaning.event_id, meaning.payment)

        metadata = obj.get("metadata") or {}
        email = str(metadata.get("email") or "")
        if verified.type == "checkout.session.expired":
            quote = self.quotes[str(metadata["quote_id"])]
            first = quote.status == "open"
            crashed, outcome = self.run(crash, receive)
            assert outcome == ("ok", "expired" if first else "duplicate") or crashed, outcome
            if first:
                quote.status = "expired"
        elif metadata.get("kind") == "debt":
            account = self.model[email]
            _, (_, kind, ref) = self.payments[str(obj["payment_intent"])]
            key = (kind, ref)
            debt = account.debts[key]
            first = not debt.paid
            crashed, outcome = self.run(crash, receive)
            # paid meanwhile from the balance: this second payment is not booked, the shop is told to refund it
            again = "duplicate" if debt.paid_by in ("", "link") else "not_ours"
            assert outcome == ("ok", "credited" if first else again) or crashed, outcome
            pay_debt(account, key)
        else:
            account = self.model[email]
            foreign = obj["currency"] != CURRENCY
            first = obj["id"] not in account.lots and not foreign
            crashed, outcome = self.run(crash, receive)
            if foreign:
                assert outcome != ("ok", "credited"), "a payment in another currency was booked as shop cents"
            else:
                assert outcome == ("ok", "credited" if first else "duplicate") or crashed, outcome
            if first:
                kind = "deposit" if metadata["kind"] == "deposit" else "block"
                pi, minutes = str(obj["payment_intent"]), int(metadata["minutes"])
                self._credit(account, obj["id"], pi, kind, minutes, int(obj["created"]))
                if metadata.get("quote_id"):
                    self.quotes[str(metadata["quote_id"])].status = "paid"

    def _model_refund_event(self, account: MAccount, lot: MLot, refund: dict[str, Any], at: int) -> None:
        status = str(refund["status"])
        ours = refund["metadata"].get("refund_id")
        if ours:
            part = next(p for p in account.refunds[ours] if p.lot_id == refund["metadata"]["lot_id"])
            if status in ("failed", "canceled") and part.status != "failed":
                give_back(account, part, at)
            elif status == "succeeded" and part.status in ("requested", "pending"):
                part.status, part.stripe_id = "succeeded", str(refund["id"])
        elif status in ("failed", "canceled"):  # a dashboard refund the bank sent back: the money returns, once
            taken = account.outside.get(str(refund["id"]))
            if taken is not None and refund["id"] not in account.outside_failed:
                account.outside_failed.add(str(refund["id"]))
                lot.refunded_m -= taken[1]
                lot.refunded_c -= taken[2]
                if account.due is None:
                    account.due = at
        elif refund["id"] not in account.outside:
            minutes = outside_minutes(lot, int(refund["amount"]))
            lot.refunded_m += minutes
            lot.refunded_c += int(refund["amount"])
            account.outside[str(refund["id"])] = (lot.lot_id, minutes, int(refund["amount"]))

    # --- time and the daily run: stale refunds, bills, dunning -----------------------------------------

    @rule(
        days=st.sampled_from([None, 0, 1, 7, 14, 21, 45, 200, 340, 366]),
        late=st.sampled_from([0, 3600, 2 * DAY_SECONDS]),
        crash=crashes,
    )
    @counted
    def daily_run(self, days: int | None, late: int, crash: tuple[Any, ...] | None) -> None:
        """Days pass (None: up to the next day the playbook acts on); the daily run, on time, later that day or
        two days late, warns, refunds idle balances, bills time on account and chases debts."""
        ahead = self._next_moment()
        seconds = days * DAY_SECONDS if days is not None else (ahead - self.now if ahead else DAY_SECONDS)
        self.tick(seconds + late)
        self._daily_run(crash)

    def _next_moment(self) -> int | None:
        """The next day the playbook acts on: a billing day, or a step of an open debt's schedule."""
        moments = {a.next_bill for a in self.model.values() if a.next_bill is not None}
        moments |= {when for a in self.model.values() for d in a.open_debts().values() for when in d.moments()}
        return min((m for m in moments if m >= self.now), default=None)

    def warnings(self) -> dict[str, list[int]]:
        """The refund dates each client was warned about: the refund-warning entries, each emailed by the outbox."""
        warned: dict[str, list[int]] = {}
        for email in EMAILS:
            ledger = self.reader.customer(email)
            entries = ledger.entries if ledger is not None else []
            warned[email] = [warned_due_at(e.entry_id) for e in entries if e.kind == "refund-warning"]
            assert len(set(warned[email])) == len(warned[email]), f"{email} was warned twice about one date"
        return warned

    def _daily_run(self, crash: tuple[Any, ...] | None) -> None:
        now = self.now
        warned_before = self.warnings()
        known = {email: self._refund_ids(email) for email in EMAILS}

        def run_the_day() -> None:  # handlers/sweep.py: the three jobs, in its order
            services.sweep(CATALOG, self.store, now)
            services.bill_on_account(CATALOG, self.store, self.gateway, SITE, now)
            services.chase_debts(CATALOG, self.store, now)

        self.run(crash, run_the_day)
        expected_warnings = []
        for email, account in sorted(self.model.items()):
            if account.due is None or account.due > now + WARNING:
                continue
            if account.due > now:
                if account.warned_for != account.due:
                    account.warned_for = account.due
                    expected_warnings.append(email)
                continue
            made = self._refund_ids(email) - known[email]
            try:
                set_off(account)  # what is owed comes first; a debt the balance cannot pay keeps it all
                plan_refund(account, None, "all", "stale")
            except Refused:
                assert not made, f"the sweep refunded {email} though the model keeps it"
                continue
            assert len(made) == 1, f"the sweep made {len(made)} refunds for {email}"
            self._expect_refund(email, made.pop(), None, "all", "stale")
        warned_after = self.warnings()
        sent = sorted(email for email in EMAILS if warned_after[email] != warned_before[email])
        assert sent == expected_warnings, (sent, expected_warnings)
        for email in sent:  # the outbox emails each refund-warning entry: one entry is one email, for its date
            new = [due for due in warned_after[email] if due not in warned_before[email]]
            assert new == [self.model[email].due], (email, warned_before[email], warned_after[email])
        for account in self.model.values():
            bill(account, now)
        for account in self.model.values():
            chase(account, now)
        self.tick()

    # --- invariants ---------------------------------------------------------------------------------

    @invariant()
    def every_cent_is_accounted_for(self) -> None:
        ledgers = {email: self.reader.customer(email) for email in EMAILS}
        for ledger in ledgers.values():
            if ledger is not None:
                check_ledger(ledger)
        self.ledger_matches_the_model(ledgers)
        self.every_stripe_refund_matches_one_ledger_refund(ledgers)
        self.every_overage_is_charged_once()
        self.every_cent_is_conserved(ledgers)
        self.quotes_match_the_model()

    # --- the end: every event arrives, every refund is worked, reconcile is clean -------------------

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is None:  # the steps ran to the end (not a failure, nor hypothesis stopping early)
                self.finish()
                TALLY.reached.update(self.reached())
        finally:
            self.forget()

    def reached(self) -> Counter[str]:
        """What this history got to: for `make proof` to show that every money path was walked."""
        accounts = self.model.values()
        debts = [debt for account in accounts for debt in account.debts.values()]
        ids = [set(account.sessions) for account in accounts]
        entries = [e for email in EMAILS for e in (getattr(self.reader.customer(email), "entries", None) or [])]
        return Counter(
            {
                "sessions on account": sum(1 for e in entries if e.kind == "on-account"),
                "overage charged": sum(
                    1 for a in accounts for *_, status in a.sessions.values() if status == "charged"
                ),
                "overage debts": sum(1 for debt in debts if debt.kind == "overage"),
                "bills": sum(1 for debt in debts if debt.kind == "bill"),
                "reminders": sum(max(len(debt.notices) - 1, 0) for debt in debts),  # a dispute's debt sends none
                "lost disputes": sum(1 for a in self.model.values() for d in a.disputes.values() if d.status == "lost"),
                "debts set off": sum(1 for debt in debts if debt.paid_by == "balance"),
                "prepay again": sum(1 for debt in debts if debt.prepay_at is not None),
                "collections": sum(1 for debt in debts if debt.collections_at is not None),
                "debts paid": sum(1 for debt in debts if debt.paid),
                "quotes paid": sum(1 for quote in self.quotes.values() if quote.status == "paid"),
                "quotes expired": sum(1 for quote in self.quotes.values() if quote.status == "expired"),
                "session ids both clients used": len(set.intersection(*ids)),
                "refunds": sum(len(account.refunds) for account in accounts),
                "disputes": len(self.disputes),
            }
        )

    def forget(self) -> None:
        if self.table and self.memory is None:
            dynamodb().delete_table(TableName=self.table)
        self.table = ""

    def finish(self) -> None:
        """Every event arrives, every waiting refund is worked; then the ledger, Stripe and reconcile agree."""
        self.crasher.arm(None)
        listings = {e["data"]["object"]["payment_intent"]: e for e in self.events if e["type"] == "charge.refunded"}
        for event in list(self.events):
            # a charge.refunded delivered now lists the charge's refunds as they are now: its last one does for all
            if event["type"] != "charge.refunded" or listings[event["data"]["object"]["payment_intent"]] is event:
                self._deliver(event, None)
        for checkout in self.checkouts:
            self._deliver_payment(checkout, not checkout.event_ids, None)
        for email in self._held():  # the shop looks at each lost dispute and releases the account
            assert services.release(self.store, email, "Kim", self.now).account.dispute_holds == 0
            self.model[email].holds = 0
        # with every event in, reconcile finds only the refunds still waiting for the worker (not those a dispute
        # still holds: that is by design), and no lot amiss
        waiting = sorted(
            f"{email}: refund {refund_id} " for email, refund_id in self._waiting() if not self.model[email].frozen
        )
        _, found = services.reconcile(self.reader, self.plain_gateway)
        reported = sorted(f"{d.email}: {d.what}" for d in found)
        assert len(reported) == len(waiting), "\n".join(reported)
        assert all(line.startswith(w) for line, w in zip(reported, waiting, strict=True)), "\n".join(reported)
        for email, refund_id in self._waiting():
            self._work(email, refund_id, None)
        self.every_cent_is_accounted_for()
        for refund in self.standin.refunds.values():
            if refund["metadata"].get("refund_id") or refund["status"] not in ("succeeded", "pending"):
                continue
            account, _ = self._owner(str(refund["payment_intent"])) or (None, None)
            assert account is not None and refund["id"] in account.outside, f"{refund['id']} not in the ledger"
        unbooked = {  # a link paid after its debt was set off: reported to the shop, not the ledger's
            pi
            for pi, (email, what) in self.payments.items()
            if what[0] == "debt" and self.model[email].debts[(what[1], what[2])].paid_by != "link"
        }
        assert all(
            self._heard_of_payment(pi)
            for pi, (_, what) in self.payments.items()
            if what[0] != "foreign" and pi not in unbooked
        )
        _, found = services.reconcile(self.reader, self.plain_gateway)
        assert found == [], "\n".join(f"{d.email}: {d.what}" for d in found)
