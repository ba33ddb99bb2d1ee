"""The client's statement in plain words, one row per event, from the journal: for the page, the CLI and the emails.

Signs follow the client's money with the shop: what comes in (a purchase, a payment, a refund that came back) is
positive, what goes out or is used (a session, a refund to the card, a payment the bank took back) negative; rows
that only tell something (a bill, a reminder, a hold) move nothing. Time goes the same way. No row names an
internal actor or a ledger kind, and a note is only ever the technician's or the quote's own words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import TYPE_CHECKING

from . import shop_time
from .domain.ledger import journal_order, warned_due_at
from .domain.money import format_cents, format_minutes

if TYPE_CHECKING:
    from .catalog import Catalog
    from .domain.debts import Debt
    from .domain.ledger import CustomerLedger, JournalEntry, SessionRecord

# Who wrote an entry when no person did: never shown to the client.
INTERNAL_ACTORS = frozenset({"", "staff", "stripe", "stripe dashboard", "dunning", "billing", "sweep", "refund"})
CARD_PAID_BEYOND = "Paid by card: the time beyond your balance"
_REFUND = {
    "client": "Refund you asked for",
    "stale": "Refund of your unused balance",
    "settle": "Refund of your unused deposit",
    "staff": "Refund by the shop",
}


@dataclass(frozen=True)
class StatementRow:
    at: int
    words: str
    minutes: int  # signed: time added to the balance is positive, time used or sent back negative
    amount_cents: int  # signed, as the minutes
    note: str = ""  # the technician's or the quote's own words


@dataclass(frozen=True)
class Words:
    """What the words need from the shop: its catalog (products, schedule, currency) and its calendar."""

    catalog: Catalog
    zone: tzinfo

    def money(self, cents: int) -> str:
        return format_cents(cents, self.catalog.shop.currency)

    def day(self, epoch: int) -> str:
        return shop_time.day(epoch, self.zone)


def statement_rows(ledger: CustomerLedger, catalog: Catalog, zone: tzinfo) -> list[StatementRow]:
    """Every event on the account, oldest first; a session and a refund are one row each, however many entries."""
    words = Words(catalog, zone)
    debts = {debt.debt_id: debt for debt in ledger.debts}
    reasons = {record.refund_id: record.reason for record in ledger.refunds}
    groups: dict[str, list[JournalEntry]] = {}
    for entry in journal_order(ledger.entries):
        groups.setdefault(_event_of(entry), []).append(entry)
    rows = []
    for event, entries in groups.items():
        if event.startswith("session:"):
            rows.append(_session_from(entries))
        elif event.startswith("refund:"):
            rows.append(_refund(entries, reasons.get(event.removeprefix("refund:"), ""), words))
        elif (row := _single(entries[0], words, debts)) is not None:
            rows.append(row)
    return rows


def session_rows(record: SessionRecord, catalog: Catalog) -> list[StatementRow]:
    """A session's rows as its statement email lists them, in the words of the balance page."""
    parts = _Parts(
        record.covered_minutes,
        record.covered_cents,
        record.on_account_minutes,
        record.on_account_cents,
        record.overage_minutes,
        record.overage_cents,
    )
    rows = [_session(record.at, record.technician, record.note, parts, record.source)]
    if record.overage_status == "charged":
        rows.append(StatementRow(record.at, CARD_PAID_BEYOND, 0, record.overage_cents))
    return rows


def signed_minutes(minutes: int) -> str:
    """A row's time as people read it: +1 h, \u2212 45 min, nothing for none."""
    return "" if not minutes else ("+" if minutes > 0 else "\u2212") + format_minutes(abs(minutes))


def signed_cents(cents: int, currency: str) -> str:
    return "" if not cents else ("+" if cents > 0 else "\u2212") + format_cents(abs(cents), currency)


def text_lines(rows: Iterable[StatementRow], currency: str) -> list[str]:
    """Rows as an email lists them: the words, then the time and money they move; a note on the line below."""
    lines = []
    for row in rows:
        moves = [part for part in (signed_minutes(row.minutes), signed_cents(row.amount_cents, currency)) if part]
        lines.append(f"  {row.words}" + (f"  {', '.join(moves)}" if moves else ""))
        if row.note:
            lines.append(f"    {row.note}")
    return lines


def bill_title(debt_id: str, bill_every: str) -> str:
    """A bill's name from its id (bill-<billing day>): "Bill for December 2026", or the week that ended."""
    try:
        day = date.fromisoformat(debt_id.removeprefix("bill-"))
    except ValueError:
        return "Bill"
    if bill_every == "weekly":
        return f"Bill for the week of {shop_time.calendar_day(day - timedelta(days=7))}"
    if day.day == 1:
        return f"Bill for {(day - timedelta(days=1)).strftime('%B %Y')}"
    return f"Bill to {shop_time.calendar_day(day)}"


def debt_title(debt_id: str, debt: Debt | None, words: Words) -> str:
    """What a debt is for, as the client would name it."""
    if debt_id.startswith("bill-"):
        return bill_title(debt_id, words.catalog.on_account.bill_every)
    if debt_id.startswith("dispute-"):
        return "Time already used from a payment your bank returned"
    if debt is not None:
        return f"Time beyond your balance on {words.day(debt.arose)}"
    return "Time beyond your balance"


def _event_of(entry: JournalEntry) -> str:
    """Entries of one event share a key: a session's parts; a refund's request and what became of each part."""
    eid = entry.entry_id
    if entry.kind in ("redemption", "on-account", "overage"):
        for prefix in ("session-", "on-account-", "overage-"):
            if eid.startswith(prefix):
                return "session:" + eid.removeprefix(prefix)
    if entry.kind in ("refund-requested", "refunded", "refund-failed"):
        for prefix in ("refunded-outside-", "refund-failed-outside-"):
            if eid.startswith(prefix):
                return "refund:outside-" + eid.removeprefix(prefix)
        for prefix in ("refund-failed-", "refunded-", "refund-"):
            if eid.startswith(prefix):
                rest = eid.removeprefix(prefix)
                lot = entry.lots[0].lot_id if entry.lots and entry.kind != "refund-requested" else ""
                return "refund:" + (rest.removesuffix(f"-{lot}") if lot else rest)
    return "entry:" + eid


@dataclass(frozen=True)
class _Parts:
    covered_minutes: int = 0
    covered_cents: int = 0
    on_account_minutes: int = 0
    on_account_cents: int = 0
    beyond_minutes: int = 0
    beyond_cents: int = 0


_TOOLS = {"screenconnect": "ScreenConnect", "teamviewer": "TeamViewer", "zoho": "Zoho Assist", "anydesk": "AnyDesk"}


def tool_name(source: str) -> str:
    """A remote-support tool as the client knows it: "ScreenConnect"; a CSV source by its own name."""
    name = source.split(":", 1)[-1]
    return _TOOLS.get(name, name.replace("-", " ").replace("_", " ").title())


def _session(at: int, technician: str, note: str, parts: _Parts, source: str = "") -> StatementRow:
    who = "Session" if technician.strip() in INTERNAL_ACTORS else f"Session with {technician.strip()}"
    who += f" ({tool_name(source)})" if source else ""
    details = []
    if parts.covered_minutes and (parts.on_account_minutes or parts.beyond_minutes):
        details.append(f"{format_minutes(parts.covered_minutes)} from your balance")
    if parts.on_account_minutes:
        details.append(f"{format_minutes(parts.on_account_minutes)} on your account, billed later")
    if parts.beyond_minutes:
        details.append(f"{format_minutes(parts.beyond_minutes)} beyond your balance, to pay")
    minutes = parts.covered_minutes + parts.on_account_minutes + parts.beyond_minutes
    cents = parts.covered_cents + parts.on_account_cents + parts.beyond_cents
    return StatementRow(at, who + (": " + "; ".join(details) if details else ""), -minutes, -cents, note.strip())


def _session_from(entries: Sequence[JournalEntry]) -> StatementRow:
    part = {entry.kind: entry for entry in entries}
    covered, on_account, beyond = part.get("redemption"), part.get("on-account"), part.get("overage")
    first = entries[0]
    note = covered.note if covered is not None else _own_words(first.note)
    return _session(
        first.at,
        first.actor,
        note,
        _Parts(
            covered.minutes if covered else 0,
            covered.amount_cents if covered else 0,
            on_account.minutes if on_account else 0,
            on_account.amount_cents if on_account else 0,
            beyond.minutes if beyond else 0,
            beyond.amount_cents if beyond else 0,
        ),
        first.source,
    )


def _own_words(note: str) -> str:
    """The technician's note inside the ledger's "30 minutes on account, billed later: <note>"."""
    head, sep, rest = note.partition(": ")
    return rest.strip() if sep and head.split(" ", 1)[0].isdigit() else ""


def _refund(entries: Sequence[JournalEntry], reason: str, words: Words) -> StatementRow:
    """A refund once, with where it stands: what did not go through is back on the balance, so it leaves nothing."""
    asked = next((e for e in entries if e.kind == "refund-requested"), None)
    taken = [asked] if asked is not None else [e for e in entries if e.kind == "refunded"]
    failed = [e for e in entries if e.kind == "refund-failed"]
    minutes = max(sum(e.minutes for e in taken) - sum(e.minutes for e in failed), 0)
    cents = max(sum(e.amount_cents for e in taken) - sum(e.amount_cents for e in failed), 0)
    sent = sum(e.amount_cents for e in entries if e.kind == "refunded")
    back = sum(e.amount_cents for e in failed)
    if failed and not cents:
        state = "it did not go through, and the money is back on your balance"
    elif failed:
        state = f"{words.money(cents)} sent to your card, {words.money(back)} back on your balance"
    elif sent >= cents:
        state = "sent to your card"
    else:
        state = "requested, on its way to your card"
    what = _REFUND.get(reason, "Refund" if asked is not None else "Refund by the shop")
    return StatementRow((asked or entries[0]).at, f"{what}: {state}", -minutes, -cents)


def _single(entry: JournalEntry, words: Words, debts: Mapping[str, Debt]) -> StatementRow | None:
    at, eid, kind = entry.at, entry.entry_id, entry.kind

    def owed_for(prefix: str) -> str:
        debt_id = eid.removeprefix(prefix)
        title = debt_title(debt_id, debts.get(debt_id), words)
        return "the " + title[0].lower() + title[1:]

    if kind == "purchase":
        return _purchase(entry, words)
    if kind == "payment" and eid.startswith("waived-"):
        return StatementRow(at, f"Forgiven by the shop: {owed_for('waived-')}", 0, entry.amount_cents)
    if kind == "payment":
        paid_debt = eid.removeprefix("payment-") in debts or eid.startswith(("payment-bill-", "payment-overage-"))
        return StatementRow(
            at, f"Paid by card: {owed_for('payment-')}" if paid_debt else CARD_PAID_BEYOND, 0, entry.amount_cents
        )
    if kind == "set-off":
        return StatementRow(at, f"Paid from your balance: {owed_for('set-off-')}", -entry.minutes, 0)
    if kind == "settled":
        left = f"{format_minutes(entry.minutes)} ({words.money(entry.amount_cents)})"
        return StatementRow(at, f"Deposit closed: the {left} not used goes back to your card", 0, 0)
    if kind == "bill":
        title = bill_title(eid, words.catalog.on_account.bill_every)
        told = f"{words.money(entry.amount_cents)} for {format_minutes(entry.minutes)} on your account"
        return StatementRow(at, f"{title}: {told}, sent with a payment link", 0, 0)
    if kind == "notice":
        return _notice(entry, words, debts)
    if kind == "collections":
        owed = f"{words.money(entry.amount_cents)} for {owed_for('collections-')}"
        return StatementRow(at, f"Account on hold after the last reminder: {owed} is unpaid", 0, 0)
    if kind == "trust":
        return StatementRow(at, _trust(entry, words, owed_for), 0, 0)
    if kind == "refund-warning":
        told = f"your unused balance of {words.money(entry.amount_cents)} goes back to your card on"
        return StatementRow(at, f"Notice sent: {told} {words.day(warned_due_at(eid))}", 0, 0)
    if kind in ("dispute", "chargeback", "reinstated"):
        return _dispute(entry, debts)
    if kind == "quote":
        return StatementRow(at, f"Quote sent: {words.money(entry.amount_cents)}", 0, 0)
    return StatementRow(at, "Change to your account", 0, 0)  # a kind newer than this module: never its raw name


def _purchase(entry: JournalEntry, words: Words) -> StatementRow:
    sku, _, own = entry.note.partition(": ")
    product = words.catalog.product(sku)
    if sku == "quote":
        what = "Paid a quote"
    elif product is None:
        what = "Bought prepaid time"
    else:
        what = f"Paid a deposit ({product.name})" if product.kind == "deposit" else f"Bought {product.name}"
    return StatementRow(entry.at, what, entry.minutes, entry.amount_cents, own.strip() if sku == "quote" else "")


def _notice(entry: JournalEntry, words: Words, debts: Mapping[str, Debt]) -> StatementRow | None:
    debt_id, _, number_text = entry.entry_id.removeprefix("notice-").rpartition("-")
    number = int(number_text) if number_text.isdigit() else 1
    title = debt_title(debt_id, debts.get(debt_id), words)
    owed = f"{words.money(entry.amount_cents)} due for the {title[0].lower() + title[1:]}"
    if number == 1:
        if debt_id.startswith("bill-"):
            return None  # the bill's own row is its notice: one event, one row
        return StatementRow(entry.at, f"Payment link sent: {owed}", 0, 0)
    reminders = len(words.catalog.dunning.reminder_days)
    which = f"Reminder {number - 1} of {reminders}" if number - 1 <= reminders else f"Reminder {number - 1}"
    return StatementRow(entry.at, f"{which} sent: {owed}", 0, 0)


def _trust(entry: JournalEntry, words: Words, owed_for: Callable[[str], str]) -> str:
    if entry.entry_id.startswith("prepay-"):
        days = words.catalog.on_account.grace_days
        return f"Back to prepaying: {owed_for('prepay-')} is unpaid after {days} days"
    if entry.minutes > 0:
        every = words.catalog.on_account.bill_every
        return f"Pay afterwards agreed: up to {format_minutes(entry.minutes)} on your account, billed {every}"
    return "Back to prepaying: sessions are paid from prepaid time again"


def _dispute(entry: JournalEntry, debts: Mapping[str, Debt]) -> StatementRow:
    at, eid = entry.at, entry.entry_id
    if eid.startswith("released-"):
        return StatementRow(at, "Hold lifted by the shop: sessions and refunds run again", 0, 0)
    owed = debts.get("dispute-" + eid.removeprefix("dispute-").rpartition("-")[0])
    if entry.kind == "chargeback":
        used = owed.amount_cents if owed is not None else 0
        what = "Payment returned to you by your bank: the time left on it is removed"
        what += ", and the time already used from it is owed" if used else ""
        return StatementRow(at, what, -entry.minutes, -(entry.amount_cents + used))
    if entry.kind == "reinstated":
        back = owed.amount_cents if owed is not None and owed.settled_by == "bank" else 0
        return StatementRow(
            at, "Disputed payment back with the shop: the time is yours again", entry.minutes, entry.amount_cents + back
        )
    if eid.endswith("-opened"):
        return StatementRow(at, "Payment disputed with your bank: the account is paused until it is resolved", 0, 0)
    if " lost" in entry.note:
        return StatementRow(
            at, "Dispute decided by your bank: the account stays paused until the shop has spoken with you", 0, 0
        )
    return StatementRow(at, "Dispute closed: the account runs again", 0, 0)
