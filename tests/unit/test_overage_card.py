"""Whose card pays an overage, and whose name is on every Stripe idempotency key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blockhours.adapters.stripe_keys import MAX_KEY_LENGTH, client_of, idempotency_key
from blockhours.domain.lots import Lot
from blockhours.domain.sessions import lot_to_charge


def lot(lot_id: str, created: int, kind: str = "block") -> Lot:
    return Lot(lot_id, 12900, 60, f"pi_{lot_id}", "v1", created, kind=kind)  # type: ignore[arg-type]


DEPOSIT, GIFT, LATER_GIFT = lot("deposit", 1, "deposit"), lot("gift", 2), lot("later-gift", 3)


@pytest.mark.parametrize(
    ("lots", "drawn", "pays"),
    [
        ([DEPOSIT, GIFT], ["deposit"], "deposit"),  # a newer card elsewhere on the account decides nothing
        ([DEPOSIT, GIFT], ["deposit", "gift"], "deposit"),  # a deposit's card pays time beyond it
        ([GIFT, LATER_GIFT], ["gift", "later-gift"], "later-gift"),  # blocks only: the newest lot drawn
        ([GIFT, LATER_GIFT], ["gift"], "gift"),
        ([GIFT, DEPOSIT, LATER_GIFT], [], "deposit"),  # drew from none: the client's deposit
        ([GIFT, LATER_GIFT], [], "later-gift"),
    ],
)
def test_the_card_of_a_lot_the_session_drew_from_pays(lots: list[Lot], drawn: list[str], pays: str) -> None:
    chosen = lot_to_charge(lots, drawn)
    assert chosen is not None and chosen.lot_id == pays


def test_no_lot_no_card() -> None:
    assert lot_to_charge([], []) is None


def test_the_same_id_of_two_clients_makes_two_keys() -> None:
    ana, ben = (
        idempotency_key("overage", "ana@example.com", "T-1001"),
        idempotency_key("overage", "ben@x.com", "T-1001"),
    )
    assert ana != ben
    assert ana == f"overage/{client_of('ana@example.com')}/T-1001"
    assert idempotency_key("overage", " Ana@Example.com ", "T-1001") == ana, "the email as the ledger keeps it"
    assert "ana@example.com" not in ana, "no address in Stripe's request logs"


ids = st.text(min_size=1, max_size=300)


@given(st.lists(ids, min_size=1, max_size=3), st.lists(ids, min_size=1, max_size=3))
def test_keys_fit_stripe_and_never_collide_across_ids(first: list[str], second: list[str]) -> None:
    a, b = idempotency_key("refund", "ana@example.com", *first), idempotency_key("refund", "ana@example.com", *second)
    assert len(a) <= MAX_KEY_LENGTH and len(b) <= MAX_KEY_LENGTH and a.isascii() and b.isascii()
    assert (a == b) == (first == second)


def test_ids_that_would_read_alike_make_different_keys() -> None:
    assert idempotency_key("refund", "a@x.com", "r/1", "2") != idempotency_key("refund", "a@x.com", "r", "1/2")
    assert idempotency_key("refund", "a@x.com", "x/1\x1f2") != idempotency_key("refund", "a@x.com", "x/1", "2")
