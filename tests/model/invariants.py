"""What holds after every step of the model: the ledger matches the model and adds up; every cent is conserved
between Stripe and the ledger; no balance is below zero; every unpaid amount is a debt."""

from __future__ import annotations

from typing import Any

from blockhours.domain.audit import audit
from blockhours.domain.ledger import CustomerLedger
from blockhours_dev.standin import StripeStandIn

from .reference import CURRENCY, MAccount, MLot, MQuote
from .world import StoredLedger

# A lost dispute's money is not yet taken from the ledger (its booking is being written on main): until then the
# Stripe side leaves chargebacks out (strict-xfail replay in tests/model/test_model.py).
CHARGEBACKS_IN_LEDGER = True  # lost disputes are booked: Stripe's chargebacks count on its side


class LedgerInvariants:
    """The machine's checks, each against the stand-in's Stripe, the ledger as read, and the model."""

    standin: StripeStandIn
    reader: StoredLedger
    model: dict[str, MAccount]
    quotes: dict[str, MQuote]
    payments: dict[str, tuple[str, tuple[str, ...]]]
    events: list[dict[str, Any]]

    def _owner(self, payment_intent: str) -> tuple[MAccount, MLot] | None:
        for account in self.model.values():
            lot = account.lot_of(payment_intent)
            if lot is not None:
                return account, lot
        return None

    def every_overage_is_charged_once(self) -> None:
        """A session retried after a crash, or sent again, never charges the saved card a second time."""
        charged = [
            intent["metadata"].get("session_id")
            for intent in self.standin.payment_intents.values()
            if intent["status"] == "succeeded" and intent["metadata"].get("kind") == "overage"
        ]
        expected = [s for a in self.model.values() for s, (_, _, status) in a.sessions.items() if status == "charged"]
        assert sorted(charged) == sorted(expected), (charged, expected)

    def every_cent_is_conserved(self, ledgers: dict[str, CustomerLedger | None]) -> None:
        """Stripe's charges - refunds - lost chargebacks = the ledger's held + consumed - owed, to the cent.

        Held is what the client may still spend or get back (available, awaiting refund, a refund not yet sent);
        consumed is every session's worth (from lots, overage, on account); owed is what of it is unpaid. Put
        otherwise: charges - chargebacks = held + refunded + consumed - owed. Money in transit is left out until
        its event arrives: a payment not yet credited, a dashboard refund or a bank's refund failure not yet
        heard of. A charge in another currency is never shop cents.
        """
        charges = sum(
            int(c["amount"])
            for c in self.standin.charges.values()
            if c["currency"] == CURRENCY and self._heard_of_payment(str(c["payment_intent"]))
        )
        refunds = sum(int(r["amount"]) for r in self.standin.refunds.values() if self._ledger_counts(r))
        chargebacks = 0
        if CHARGEBACKS_IN_LEDGER:  # money the bank took back, as far as the ledger has heard (and not given back)
            for account in self.model.values():
                chargebacks += sum(d.amount for d in account.disputes.values() if d.withdrawn and not d.reinstated)
        held = consumed = owed = 0
        for ledger in ledgers.values():
            if ledger is None:
                continue
            account = ledger.account
            unsent = sum(p.amount_cents for r in ledger.refunds for p in r.parts if p.status == "requested")
            held += account.available_cents + account.awaiting_refund_cents + unsent
            consumed += sum(lot.consumed_cents for lot in ledger.lots)
            consumed += sum(e.amount_cents for e in ledger.entries if e.kind in ("overage", "on-account"))
            # a debt paid from the balance moves money from held to paying what was owed: no new consumption
            consumed -= sum(e.amount_cents for e in ledger.entries if e.kind == "set-off")
            owed += account.owed_cents + account.on_account_cents
        assert charges - refunds - chargebacks == held + consumed - owed, (
            f"Stripe: charges {charges} - refunds {refunds} - chargebacks {chargebacks}; "
            f"ledger: held {held} + consumed {consumed} - owed {owed}"
        )

    def _heard_of_payment(self, payment_intent: str) -> bool:
        """Has the ledger been told of this payment? Overage charges it makes itself; the rest come as events."""
        if payment_intent not in self.payments:
            return True
        email, what = self.payments[payment_intent]
        account = self.model[email]
        if what[0] == "lot":
            return what[1] in account.lots
        if what[0] == "debt":  # a link paid after the debt was set off is not the ledger's: the shop refunds it
            return account.debts[(what[1], what[2])].paid_by == "link"
        return False  # in another currency: never the ledger's

    def _ledger_counts(self, refund: dict[str, Any]) -> bool:
        """Does the ledger count this Stripe refund as money sent back, as far as the events it heard tell?"""
        owner = self._owner(str(refund["payment_intent"]))
        if owner is None or refund["currency"] != CURRENCY:
            return False
        account = owner[0]
        failed = refund["status"] in ("failed", "canceled")
        ours = refund["metadata"].get("refund_id")
        if ours:
            part = next(p for p in account.refunds[ours] if p.lot_id == refund["metadata"]["lot_id"])
            return not failed or part.status != "failed"
        return refund["id"] in account.outside and not (failed and refund["id"] in account.outside_failed)

    def quotes_match_the_model(self) -> None:
        if self.quotes:
            got = {q.quote_id: q.status for q in self.reader.quotes()}
            assert got == {quote_id: q.status for quote_id, q in self.quotes.items()}, "quotes differ from the model"

    def ledger_matches_the_model(self, ledgers: dict[str, CustomerLedger | None]) -> None:
        for email, model in self.model.items():
            ledger = ledgers[email]
            if ledger is None:
                assert not model.opened
                continue
            account = ledger.account
            lots = {lot.lot_id: lot for lot in ledger.lots}
            assert sorted(lots) == sorted(model.lots), "the ledger has other lots than were paid for"
            for lot_id, want in model.lots.items():
                got = lots[lot_id]
                assert (
                    got.used_minutes,
                    got.consumed_cents,
                    got.refunded_minutes,
                    got.refunded_cents,
                    got.charged_back_minutes,
                    got.charged_back_cents,
                ) == (
                    want.used_m,
                    want.consumed_c,
                    want.refunded_m,
                    want.refunded_c,
                    want.back_m,
                    want.back_c,
                ), f"lot {lot_id}: ledger {got}, model {want}"
                assert (got.closed_at is not None) == want.closed
                assert (got.kind, got.amount_cents, got.minutes) == (want.kind, want.amount, want.minutes)
            got_fields = (
                (account.available_minutes, account.available_cents),
                account.paid_cents,
                account.awaiting_refund_cents,
                account.refunding_cents,
                account.refunded_cents,
                account.owed_cents,
                account.status,
                account.refund_due_at,
                account.trust_limit_minutes,
                (account.on_account_minutes, account.on_account_cents),
                (account.billed_minutes, account.billed_cents),
                account.credit_left_minutes,
                account.collections_debts,
                account.next_bill_at,
                account.charged_back_cents,
                account.dispute_holds,
            )
            want_fields = (
                model.available,
                model.paid,
                model.awaiting,
                model.parts("requested", "pending"),
                model.refunded,
                model.owed,
                "frozen" if model.frozen else "active",
                model.due,
                model.trust_limit,
                (model.on_account_m, model.on_account_c),
                (model.billed_m, model.billed_c),
                model.credit_left,
                model.collections,
                model.next_bill,
                model.charged_back,
                model.holds,
            )
            names = (
                "available",
                "paid",
                "awaiting",
                "refunding",
                "refunded",
                "owed",
                "status",
                "refund_due_at",
                "trust limit",
                "on account",
                "billed",
                "credit left",
                "debts in collections",
                "next billing day",
                "charged back",
                "disputes on hold",
            )
            for name, got_value, want_value in zip(names, got_fields, want_fields, strict=True):
                assert got_value == want_value, f"{email} {name}: ledger {got_value}, model {want_value}"
            statuses = {(r.refund_id, p.lot_id): p.status for r in ledger.refunds for p in r.parts}
            assert statuses == {(rid, p.lot_id): p.status for rid, parts in model.refunds.items() for p in parts}, (
                "refund parts differ from the model"
            )
            got_debts = {
                debt_key(d.kind, d.debt_id, d.opened_at): (
                    d.kind,
                    d.amount_cents,
                    d.minutes,
                    d.opened_at,
                    d.notices,
                    d.prepay_at,
                    d.already_prepaying,
                    d.collections_at,
                    d.status,
                )
                for d in ledger.debts
            }
            want_debts = {
                key: (
                    d.kind,
                    d.amount,
                    d.minutes,
                    d.opened_at,
                    tuple(d.notices),
                    d.prepay_at,
                    d.already_prepaying,
                    d.collections_at,
                    ("waived" if d.paid_by == "bank" else "paid") if d.paid else "open",
                )
                for key, d in model.debts.items()
            }
            assert got_debts == want_debts, f"{email} debts: ledger {got_debts}, model {want_debts}"

    def every_stripe_refund_matches_one_ledger_refund(self, ledgers: dict[str, CustomerLedger | None]) -> None:
        parts = {
            (r.refund_id, p.lot_id): p for ledger in ledgers.values() if ledger for r in ledger.refunds for p in r.parts
        }
        outside = [
            e.entry_id.removeprefix("refunded-outside-")
            for ledger in ledgers.values()
            if ledger
            for e in ledger.entries
            if e.entry_id.startswith("refunded-outside-")
        ]
        assert len(outside) == len(set(outside)), "a dashboard refund is in the ledger twice"
        seen: set[tuple[str, str]] = set()
        for refund in self.standin.refunds.values():
            metadata = refund["metadata"]
            if metadata.get("refund_id"):
                key = (metadata["refund_id"], metadata["lot_id"])
                assert key not in seen, f"Stripe refunded {key} twice"
                seen.add(key)
                part = parts.get(key)
                assert part is not None, f"Stripe refund {refund['id']} has no ledger refund"
                assert part.amount_cents == refund["amount"]
                assert part.stripe_refund_id in ("", refund["id"])
        stripe_ids = set(self.standin.refunds)
        for key, part in parts.items():
            assert not part.stripe_refund_id or part.stripe_refund_id in stripe_ids, f"{key} names no Stripe refund"
            if part.status in ("succeeded", "pending"):
                assert key in seen, f"{key} is {part.status} in the ledger, unknown to Stripe"
        assert set(outside) <= stripe_ids
        for charge in self.standin.charges.values():
            assert 0 <= charge["amount_refunded"] <= charge["amount"]


def debt_key(kind: str, debt_id: str, opened_at: int) -> tuple[str, str]:
    """How the model knows a debt: an overage by its session, a lost dispute by its dispute, a bill by its day."""
    if kind in ("overage", "dispute"):
        return (kind, debt_id.removeprefix(f"{kind}-"))
    return (kind, str(opened_at))


def check_ledger(ledger: CustomerLedger) -> None:
    """What holds for any ledger, model or no model: per lot and in total, nothing created or lost, nothing below
    zero, and every unpaid amount a debt (or on account, with a billing day to come)."""
    account = ledger.account
    assert audit(ledger) == [], f"{account.email}: account fields the items contradict: {audit(ledger)}"
    journal: dict[str, dict[str, int]] = {
        lot.lot_id: dict.fromkeys(("paid", "used_m", "used_c", "refunded_m", "refunded_c", "done"), 0)
        for lot in ledger.lots
    }
    sign = {"refund-requested": 1, "refund-failed": -1}
    for entry in ledger.entries:
        for share in entry.lots:
            row = journal[share.lot_id]
            if entry.kind == "purchase":
                row["paid"] += share.amount_cents
            elif entry.kind in ("redemption", "set-off"):
                row["used_m"] += share.minutes
                row["used_c"] += share.amount_cents
            elif entry.kind in sign or entry.actor == "stripe dashboard":
                row["refunded_m"] += sign.get(entry.kind, 1) * share.minutes
                row["refunded_c"] += sign.get(entry.kind, 1) * share.amount_cents
    for lot in ledger.lots:
        row = journal[lot.lot_id]
        assert lot.remaining_minutes >= 0 and lot.remaining_cents >= 0, f"lot {lot.lot_id} below zero: {lot}"
        assert row["paid"] == lot.amount_cents, f"lot {lot.lot_id}: purchase entry {row['paid']}"
        assert (row["used_m"], row["used_c"]) == (lot.used_minutes, lot.consumed_cents), f"lot {lot.lot_id}: {row}"
        assert (row["refunded_m"], row["refunded_c"]) == (lot.refunded_minutes, lot.refunded_cents), (
            f"lot {lot.lot_id}: journal {row}, lot {lot}"
        )
        back = sum(
            s.amount_cents for e in ledger.entries for s in e.lots if s.lot_id == lot.lot_id and e.kind == "chargeback"
        )
        back -= sum(
            s.amount_cents for e in ledger.entries for s in e.lots if s.lot_id == lot.lot_id and e.kind == "reinstated"
        )
        assert back == lot.charged_back_cents, f"lot {lot.lot_id}: chargeback entries {back}, lot {lot}"
        # payments - consumed - refunded - charged back = balance, per lot
        assert (
            lot.amount_cents - lot.consumed_cents - lot.refunded_cents - lot.charged_back_cents == lot.remaining_cents
        )
    open_lots = [lot for lot in ledger.lots if lot.closed_at is None]
    closed_lots = [lot for lot in ledger.lots if lot.closed_at is not None]
    assert account.available_minutes == sum(lot.spendable_minutes for lot in open_lots)
    assert account.available_cents == sum(lot.remaining_cents for lot in open_lots)
    assert account.awaiting_refund_cents == sum(lot.remaining_cents for lot in closed_lots)
    in_flight = sum(p.amount_cents for r in ledger.refunds for p in r.parts if p.status in ("requested", "pending"))
    done = sum(p.amount_cents for r in ledger.refunds for p in r.parts if p.status == "succeeded")
    outside = sum(e.amount_cents for e in ledger.entries if e.actor == "stripe dashboard" and e.kind == "refunded")
    outside -= sum(
        e.amount_cents for e in ledger.entries if e.actor == "stripe dashboard" and e.kind == "refund-failed"
    )
    assert account.refunding_cents == in_flight
    assert account.refunded_cents == done + outside
    # payments - consumed - refunded = balance, in total
    consumed = sum(lot.consumed_cents for lot in ledger.lots)
    assert account.paid_cents == sum(lot.amount_cents for lot in ledger.lots)
    assert (
        account.paid_cents - consumed - account.refunding_cents - account.refunded_cents - account.charged_back_cents
        == (account.available_cents + account.awaiting_refund_cents)
    )
    assert account.charged_back_cents == sum(lot.charged_back_cents for lot in ledger.lots)
    assert (account.status == "frozen") == (account.open_disputes > 0 or account.dispute_holds > 0)
    # nothing forfeited: an account holding money is in the sweep's index, so an idle balance is refunded in time
    # (cents a lot holds with no minute to carry them, a failed dashboard refund's, go with the next full refund)
    if account.available_cents + account.awaiting_refund_cents > 0:
        assert account.refund_due_at is not None, f"{account.email} holds money the sweep will never see"
    # no balance below zero: a trusted client's time on account is owed, not a negative balance
    amounts = {
        "available minutes": account.available_minutes,
        "available cents": account.available_cents,
        "awaiting refund": account.awaiting_refund_cents,
        "refunding": account.refunding_cents,
        "refunded": account.refunded_cents,
        "owed": account.owed_cents,
        "billed": account.billed_cents,
        "unbilled": account.on_account_cents - account.billed_cents,
        "debts in collections": account.collections_debts,
    }
    assert all(value >= 0 for value in amounts.values()), f"{account.email} below zero: {amounts}"
    assert account.credit_left_minutes == account.trust_limit_minutes - account.on_account_minutes
    # every unpaid amount is a debt: an overage not charged, a bill; time on account not billed yet has a billing day
    open_debts = [d for d in ledger.debts if d.status == "open"]
    assert account.owed_cents == sum(d.amount_cents for d in open_debts if d.kind in ("overage", "dispute")), (
        "owed is no debt"
    )
    billed = [d for d in open_debts if d.kind == "bill"]
    assert (account.billed_minutes, account.billed_cents) == (
        sum(d.minutes for d in billed),
        sum(d.amount_cents for d in billed),
    ), f"{account.email}: billed time that is no open bill"
    if account.on_account_cents > account.billed_cents:
        assert account.next_bill_at is not None, f"{account.email} has time on account that is never billed"
    assert account.collections_debts == sum(1 for d in open_debts if d.collections_at is not None)
