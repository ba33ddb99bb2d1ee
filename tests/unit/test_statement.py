"""The client's statement (blockhours/statement.py): every entry the services write, in plain words, once, with signs
that add up. The journals come from the real use cases on the in-memory store, Stripe from its stand-in."""

from __future__ import annotations

import re
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from blockhours import services
from blockhours.catalog import Catalog
from blockhours.domain.ledger import (
    DAY_SECONDS,
    Account,
    CustomerLedger,
    EntryKind,
    JournalEntry,
    LotShare,
    SessionRecord,
)
from blockhours.ports import DebtPayment, StripeRefund
from blockhours.statement import INTERNAL_ACTORS, StatementRow, session_rows, statement_rows
from blockhours_dev.memory_ledger import MemoryLedger
from blockhours_dev.standin.payments import paid_intent
from in_memory import paid_checkout as pay
from in_memory import session_at as session
from served_standin import ServedStandIn

UTC = ZoneInfo("UTC")
AT = 1_800_000_000  # 15 Jan 2027
DAY = DAY_SECONDS
# Never shown to a client: who wrote an entry when no person did, and the ledger's own names for kinds.
LEAKS = re.compile(
    r"\b(dunning|billing|staff|stripe|sweep|on-account|trust|redemption|overage|chargeback|set-off|"
    r"refund-requested|refund-failed|refund-warning|collections|reinstated)\b",
    re.IGNORECASE,
)


def plain(rows: list[StatementRow]) -> list[StatementRow]:
    """Rows a client can read: words that start a sentence and end without a dangling colon, nothing internal."""
    for row in rows:
        assert row.words and row.words[0].isupper(), row
        assert not re.search(r":\s*($|[:;,])", row.words), f"a dangling colon: {row.words!r}"
        assert "notice: notice" not in row.words.lower()
        assert not LEAKS.search(row.words), f"an internal word: {row.words!r}"
        assert not LEAKS.search(row.note), f"an internal word in the note: {row.note!r}"
        assert not re.search(r"\b(cs|pi|re|du|evt)_[A-Za-z0-9]", row.words + row.note), f"a Stripe id: {row}"
    return rows


def rows_of(store: MemoryLedger, catalog: Catalog, email: str) -> list[StatementRow]:
    ledger = store.customer(email)
    assert ledger is not None
    return plain(statement_rows(ledger, catalog, UTC))


def squares(store: MemoryLedger, catalog: Catalog, email: str) -> None:
    """The signs add up: the rows' amounts are what the client holds with the shop less what they owe it."""
    ledger = store.customer(email)
    assert ledger is not None
    account = ledger.account
    owed = sum(d.amount_cents for d in ledger.debts if d.status == "open" and d.kind != "bill")
    holds = account.available_cents + account.awaiting_refund_cents - owed - account.on_account_cents
    assert sum(row.amount_cents for row in statement_rows(ledger, catalog, UTC)) == holds


@pytest.fixture
def store() -> MemoryLedger:
    return MemoryLedger()


def test_a_session_beyond_the_balance_paid_by_card_is_one_session_row_and_one_payment(
    catalog: Catalog, store: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    card = paid_intent(stripe_standin.standin, 12900, customer="cus_ana", card="4242424242424242")
    pay(catalog, store, "ana@example.com", 60, 12900, AT, pi=card)
    session(catalog, store, stripe_standin, "ana@example.com", 90, AT + 60)

    assert [(r.words, r.minutes, r.amount_cents, r.note) for r in rows_of(store, catalog, "ana@example.com")] == [
        ("Bought 1-hour block", 60, 12900, ""),
        (
            "Session with Sam: 1 h from your balance; 30 min beyond your balance, to pay",
            -90,
            -19350,
            "Outlook profile rebuilt",
        ),
        ("Paid by card: the time beyond your balance", 0, 6450, ""),
    ]
    squares(store, catalog, "ana@example.com")


@pytest.fixture
def owing(catalog: Catalog, store: MemoryLedger, stripe_standin: ServedStandIn) -> str:
    """ben used 90 minutes of a 60-minute block; the card that paid it cannot be charged, so 30 minutes are owed."""
    email = "ben@example.com"
    pay(catalog, store, email, 60, 12900, AT)  # a payment the stand-in does not know: the charge is declined
    record = session(catalog, store, stripe_standin, email, 90, AT + 60)
    assert record.overage_status == "owed"
    return email


def test_what_is_owed_is_told_reminded_held_and_paid_in_plain_words(
    catalog: Catalog, store: MemoryLedger, owing: str
) -> None:
    schedule = catalog.dunning
    for days in (*schedule.reminder_days, schedule.collections_after_days):
        services.chase_debts(catalog, store, now=AT + 60 + days * DAY + 1)
    squares(store, catalog, owing)
    services.record_debt_payment(
        catalog,
        store,
        DebtPayment("cs_link", "pi_link", owing, f"overage-{_session_id(store, owing)}", 6450, "usd", AT + 30 * DAY),
    )

    words = [r.words for r in rows_of(store, catalog, owing)]
    what = "the time beyond your balance on 15 Jan 2027"
    assert words[2:] == [
        f"Payment link sent: $64.50 due for {what}",
        f"Reminder 1 of 2 sent: $64.50 due for {what}",
        f"Reminder 2 of 2 sent: $64.50 due for {what}",
        f"Account on hold after the last reminder: $64.50 for {what} is unpaid",
        f"Paid by card: {what}",
    ]
    squares(store, catalog, owing)


def _session_id(store: MemoryLedger, email: str) -> str:
    ledger = store.customer(email)
    assert ledger is not None
    return next(d.debt_id for d in ledger.debts).removeprefix("overage-")


def test_time_on_account_is_billed_reminded_and_paid_without_a_raw_kind(
    catalog: Catalog, store: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    email = "cleo@example.com"
    pay(catalog, store, email, 30, 6900, AT)
    services.set_trust(catalog, store, email, 300, "staff", now=AT + 10)
    session(catalog, store, None, email, 90, AT + 60)  # 30 from the balance, 60 on account: no card
    squares(store, catalog, email)
    account = store.account(email)
    assert account is not None and account.next_bill_at is not None
    billed_at = account.next_bill_at
    services.bill_on_account(catalog, store, stripe_standin.gateway(), "https://shop.example", now=billed_at)
    squares(store, catalog, email)
    for days in (7, 14):
        services.chase_debts(catalog, store, now=billed_at + days * DAY + 1)
    services.record_debt_payment(
        catalog, store, DebtPayment("cs_bill", "pi_bill", email, "bill-2027-02-01", 12900, "usd", billed_at + 15 * DAY)
    )

    words = [(r.words, r.minutes, r.amount_cents) for r in rows_of(store, catalog, email)]
    assert words == [
        ("Bought 1-hour block", 30, 6900),
        ("Pay afterwards agreed: up to 5 h on your account, billed monthly", 0, 0),
        ("Session with Sam: 30 min from your balance; 1 h on your account, billed later", -90, -19800),
        ("Bill for January 2027: $129.00 for 1 h on your account, sent with a payment link", 0, 0),
        ("Reminder 1 of 2 sent: $129.00 due for the bill for January 2027", 0, 0),
        *[(w, 0, 0) for w, _, _ in words[5:-1]],  # the second reminder and back to prepaying, in either order
        ("Paid by card: the bill for January 2027", 0, 12900),
    ]
    assert {w for w, _, _ in words[5:-1]} == {
        "Reminder 2 of 2 sent: $129.00 due for the bill for January 2027",
        "Back to prepaying: the bill for January 2027 is unpaid after 14 days",
    }
    squares(store, catalog, email)


def test_a_debt_paid_from_the_balance_then_the_refund_each_once(
    catalog: Catalog, store: MemoryLedger, owing: str
) -> None:
    pay(catalog, store, owing, 60, 12900, AT + DAY)
    services.request_refund(catalog, store, owing, "client", owing, now=AT + 2 * DAY)

    rows = rows_of(store, catalog, owing)
    assert [(r.words, r.minutes, r.amount_cents) for r in rows[-2:]] == [
        ("Paid from your balance: the time beyond your balance on 15 Jan 2027", -30, 0),
        ("Refund you asked for: requested, on its way to your card", -30, -6450),
    ]
    squares(store, catalog, owing)


def test_a_refund_is_one_row_whether_it_is_sent_or_fails(
    catalog: Catalog, store: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    email = "dan@example.com"
    first = paid_intent(stripe_standin.standin, 12900)
    lot = pay(catalog, store, email, 60, 12900, AT, pi=first)
    asked = services.request_refund(catalog, store, email, "client", email, now=AT + 60)
    done = services.process_refund(store, stripe_standin.gateway(), email, asked.refund_id, now=AT + 61)
    assert done is not None and done.status == "succeeded"
    assert [(r.words, r.minutes, r.amount_cents) for r in rows_of(store, catalog, email)][1:] == [
        ("Refund you asked for: sent to your card", -60, -12900),
    ]

    second = paid_intent(stripe_standin.standin, 6900)
    lot = pay(catalog, store, email, 30, 6900, AT + DAY, pi=second)
    asked = services.request_refund(catalog, store, email, "staff", "staff", now=AT + DAY + 60)
    failed = StripeRefund("re_x", second, 6900, "failed", "the card is closed", asked.refund_id, lot)
    assert services.stripe_refund_changed(store, failed, AT + DAY + 120) == "recorded"

    rows = rows_of(store, catalog, email)
    assert [(r.words, r.minutes, r.amount_cents) for r in rows[3:]] == [
        ("Refund by the shop: it did not go through, and the money is back on your balance", 0, 0),
    ]
    squares(store, catalog, email)


def test_a_deposit_closed_and_its_unused_part_refunded(catalog: Catalog, store: MemoryLedger) -> None:
    email = "eve@example.com"
    pay(catalog, store, email, 60, 12900, AT, sku="deposit", kind="deposit")
    session(catalog, store, None, email, 30, AT + 60)
    services.settle(store, email, "Sam", now=AT + 120)
    squares(store, catalog, email)
    services.request_refund(catalog, store, email, "settle", "Sam", scope="settled", now=AT + 121)

    assert [(r.words, r.minutes, r.amount_cents) for r in rows_of(store, catalog, email)] == [
        ("Paid a deposit (Security deposit)", 60, 12900),
        ("Session with Sam", -30, -6450),
        ("Deposit closed: the 30 min ($64.50) not used goes back to your card", 0, 0),
        ("Refund of your unused deposit: requested, on its way to your card", -30, -6450),
    ]
    squares(store, catalog, email)


def test_the_refund_warning_names_its_date_and_a_paid_quote_its_work(catalog: Catalog, store: MemoryLedger) -> None:
    email = "fay@example.com"
    pay(catalog, store, email, 60, 12900, AT, sku="quote", kind="deposit", note="Move the mail to the new server")
    due = AT + catalog.refunds.stale_after_days * DAY
    services.sweep(catalog, store, now=due - catalog.refunds.warning_days * DAY + 60)

    rows = rows_of(store, catalog, email)
    assert [(r.words, r.amount_cents, r.note) for r in rows] == [
        ("Paid a quote", 12900, "Move the mail to the new server"),
        ("Notice sent: your unused balance of $129.00 goes back to your card on 15 Jan 2028", 0, ""),
    ]


def test_a_dispute_lost_then_settled_by_the_shop(catalog: Catalog, store: MemoryLedger) -> None:
    email = "gus@example.com"
    lot_pi = "pi_disputed"
    pay(catalog, store, email, 60, 12900, AT, pi=lot_pi)
    session(catalog, store, None, email, 30, AT + 60)
    for event, status, at in [
        ("charge.dispute.created", "needs_response", AT + DAY),
        ("charge.dispute.funds_withdrawn", "needs_response", AT + DAY + 1),
        ("charge.dispute.closed", "lost", AT + 5 * DAY),
    ]:
        assert services.dispute_changed(store, "du_1", lot_pi, 12900, status, event, at) == "recorded"
    squares(store, catalog, email)
    services.release(store, email, "staff", AT + 6 * DAY)
    services.waive(store, email, "dispute-du_1", "staff", AT + 6 * DAY + 1)

    assert [(r.words, r.minutes, r.amount_cents) for r in rows_of(store, catalog, email)][2:] == [
        ("Payment disputed with your bank: the account is paused until it is resolved", 0, 0),
        (
            "Payment returned to you by your bank: the time left on it is removed, and the time already used "
            "from it is owed",
            -30,
            -12900,
        ),
        ("Dispute decided by your bank: the account stays paused until the shop has spoken with you", 0, 0),
        ("Hold lifted by the shop: sessions and refunds run again", 0, 0),
        ("Forgiven by the shop: the time already used from a payment your bank returned", 0, 6450),
    ]
    squares(store, catalog, email)


def test_every_kind_the_ledger_knows_has_words(catalog: Catalog) -> None:
    """A kind added to the ledger must get words here before it reaches a client as its raw name."""
    at, account = AT, Account("h@example.com", None, 0, 0, 0, "active", 1, 0, AT, AT, None)
    ids = {
        "purchase": "purchase-cs_1",
        "redemption": "session-T1",
        "overage": "overage-T2",
        "payment": "payment-T2",
        "settled": f"settled-{at}",
        "refund-requested": "refund-r1",
        "refunded": "refunded-r2-cs_1",
        "refund-failed": "refund-failed-r3-cs_1",
        "dispute": "dispute-du_1-opened",
        "chargeback": "dispute-du_1-withdrawn",
        "reinstated": "dispute-du_1-reinstated",
        "on-account": "on-account-T3",
        "bill": "bill-2027-02-01",
        "notice": "notice-overage-T2-2",
        "collections": "collections-overage-T2",
        "trust": f"trust-{at}-300",
        "quote": "quote-q1",
        "set-off": "set-off-overage-T2",
        "refund-warning": f"refund-warning-{at + 30 * DAY}",
    }
    assert set(ids) == set(get_args(EntryKind)), "a kind without a case here"
    for kind, entry_id in ids.items():
        shares = (LotShare("cs_1", 15, 3225),)
        # What the ledger writes for staff (ids, reasons) never reaches the row; a technician's note does.
        note = "Outlook profile rebuilt" if kind == "redemption" else f"{kind}: {kind}: internal (re_1)"
        entry = JournalEntry(entry_id, kind, at, "stripe", 15, 3225, note, shares)  # type: ignore[arg-type]
        rows = plain(statement_rows(CustomerLedger(account, entries=[entry]), catalog, UTC))
        assert len(rows) == 1, kind
        assert kind not in rows[0].words.lower() or kind in ("dispute", "quote", "bill"), rows[0]


def test_a_sessions_email_rows_are_the_pages(catalog: Catalog) -> None:
    record = SessionRecord(
        "T-9", "h@example.com", AT, "Sam", "printer", 100, 105, 45, 9675, 60, 12900, (), 0, 0, "charged"
    )
    ledger_rows = session_rows(record, catalog)
    assert [(r.words, r.minutes, r.amount_cents) for r in plain(ledger_rows)] == [
        ("Session with Sam: 45 min from your balance; 1 h beyond your balance, to pay", -105, -22575),
        ("Paid by card: the time beyond your balance", 0, 12900),
    ]
    assert {"staff", "dunning", "billing", "stripe"} <= INTERNAL_ACTORS
