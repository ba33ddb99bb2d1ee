"""One "account may act" rule: read before planning (domain/account_rules.py) and held at the write (moves.ACTIVE,
moves.NOT_IN_COLLECTIONS); a session or refund planned before the account was put on hold is refused the same way."""

from __future__ import annotations

from dataclasses import replace

import pytest

from blockhours.catalog import Catalog
from blockhours.domain.account_rules import may_refund, may_take_sessions
from blockhours.domain.changes import Change
from blockhours.domain.moves import account_move
from blockhours.services import SessionRequest, redeem, request_refund
from blockhours.services.errors import Conflict
from in_memory import RacingLedger, bought, no_gateway

EMAIL = "ana@example.com"
AT = 1_800_000_000


@pytest.fixture
def store(catalog: Catalog) -> RacingLedger:
    store = RacingLedger()
    bought(catalog, store, EMAIL, 60, 12900, AT, "cs_a")
    return store


def put_on_hold(store: RacingLedger) -> None:
    assert store.commit(Change.of(account_move(EMAIL, set={"status": "frozen"}, money=False)))


def test_the_rule_says_why(store: RacingLedger) -> None:
    active = store.account(EMAIL)
    assert active is not None
    assert may_take_sessions(active) is None and may_refund(active) is None
    held = replace(active, status="frozen")
    assert [may_take_sessions(held).code, may_refund(held).code] == ["account_frozen"] * 2  # type: ignore[union-attr]
    chased = replace(active, collections_debts=1)
    assert may_take_sessions(chased).code == "in_collections"  # type: ignore[union-attr]
    assert may_refund(chased) is None, "what is owed is paid from the balance before a refund, not a reason to refuse"


@pytest.mark.parametrize("race", [False, True], ids=["read on hold", "put on hold while planning"])
def test_no_session_on_an_account_on_hold(catalog: Catalog, store: RacingLedger, race: bool) -> None:
    if race:
        store.racer = lambda: put_on_hold(store)
    else:
        put_on_hold(store)
    with pytest.raises(Conflict) as refused:
        redeem(catalog, store, no_gateway, SessionRequest(EMAIL, 15, "sam", "printer", "T-1"), now=AT + 60)  # type: ignore[arg-type]
    assert refused.value.code == "account_frozen"
    account = store.account(EMAIL)
    assert account is not None and account.available_minutes == 60


@pytest.mark.parametrize("race", [False, True], ids=["read on hold", "put on hold while planning"])
def test_no_refund_on_an_account_on_hold(catalog: Catalog, store: RacingLedger, race: bool) -> None:
    if race:
        store.racer = lambda: put_on_hold(store)
    else:
        put_on_hold(store)
    with pytest.raises(Conflict) as refused:
        request_refund(catalog, store, EMAIL, "client", "ana", now=AT + 60)
    assert refused.value.code == "account_frozen"
    account = store.account(EMAIL)
    assert account is not None and (account.available_minutes, account.refunding_cents) == (60, 0)
