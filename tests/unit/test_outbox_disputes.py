"""What the outbox tells about a lost dispute's debt and a payment the ledger would not credit; where shop alerts go."""

from __future__ import annotations

from dataclasses import asdict

from blockhours import catalog, emails, outbox
from blockhours.adapters.dynamo_items import debt_values, item
from blockhours.domain.debts import Debt

CONTEXT = outbox.MailContext(catalog.load(), "https://shop.example", "s" * 40, "owner@shop.example")


def change(event_name: str, new: dict[str, object], old: dict[str, object] | None = None) -> outbox.Change:
    images = {"NewImage": item(new)} | ({"OldImage": item(old)} if old else {})
    return outbox.Change.from_record({"eventName": event_name, "dynamodb": images})


def test_a_lost_disputes_debt_sends_no_dunning_letter_but_thanks_when_paid() -> None:
    debt = Debt("dispute-dp_1", "ana@example.com", "dispute", 3225, 0, "time already used", 1_900_000_000, "")
    opened = {"pk": "CUST#ana@example.com", "sk": "DEBT#dispute-dp_1", **debt_values(debt)}
    assert outbox.effects_for(change("INSERT", opened), CONTEXT) == []
    paid = opened | {"status": "paid", "paid_at": 1_900_086_400}
    (thanks,) = outbox.effects_for(change("MODIFY", paid, opened), CONTEXT)
    assert thanks.to == "ana@example.com"


def test_a_payment_not_credited_is_reported_to_the_shop() -> None:
    alert = {
        "pk": "ALERT#cs_1",
        "sk": "ALERT",
        "type": "alert",
        "why": "the shop never opened this checkout",
        "email": "eve@example.com",
        "checkout_id": "cs_1",
        "payment_intent": "pi_1",
        "amount_cents": 12900,
        "currency": "eur",
        "at": 1_900_000_000,
    }
    (mail,) = outbox.effects_for(change("INSERT", alert), CONTEXT)
    assert mail.to == "owner@shop.example" != CONTEXT.catalog.shop.email
    assert "never opened" in mail.text and "EUR" in mail.text and "cs_1" in mail.text
    assert asdict(mail)["subject"] == "Blockhours: a payment was not credited"


def test_every_alert_for_the_shop_goes_to_the_owner_never_to_the_public_address() -> None:
    bill = Debt("bill-1", "ana@example.com", "bill", 6450, 60, "sessions on account", 1_900_000_000, "https://pay")
    opened = {"pk": "CUST#ana@example.com", "sk": "DEBT#bill-1", **debt_values(bill)}
    prepaying = opened | {"prepay_at": 1_901_000_000}
    in_collections = prepaying | {"collections_at": 1_902_000_000}
    failed = {"pk": "CUST#ana@example.com", "sk": "ENTRY#1", "type": "entry", "kind": "refund-failed"}
    failed |= {"amount_cents": 500, "minutes": 0, "note": "the card was closed", "at": 1_900_000_000}
    alert = {"pk": "ALERT#cs_2", "sk": "ALERT", "type": "alert", "why": "no such order", "amount_cents": 100}
    sent = [
        *outbox.effects_for(change("MODIFY", prepaying, opened), CONTEXT),
        *outbox.effects_for(change("MODIFY", in_collections, prepaying), CONTEXT),
        *outbox.effects_for(change("INSERT", failed), CONTEXT),
        *outbox.effects_for(change("INSERT", alert), CONTEXT),
    ]
    to_shop = [mail for mail in sent if isinstance(mail, emails.Email) and mail.to != "ana@example.com"]

    assert [mail.subject.split(":")[0] for mail in to_shop] == ["Blockhours"] * 4
    assert {mail.to for mail in to_shop} == {"owner@shop.example"}
