"""Sessions a remote-support tool reports: matched to a client, redeemed by the source's policy, or held in the
inbox for a person; exactly once per tool session, however often and in whatever order it is delivered.

Every tool session gets one inbox item, written if new: the marker that makes a second delivery (a retry, a push
then a poll) change nothing. Before any redemption the item is pinned to its client and minutes; the redemption's
session id is the item's id, so a redemption cut short and tried again is recorded once, for that client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from ..domain.account_rules import may_take_sessions
from ..domain.changes import inbox_ref, mapping_ref, session_ref
from ..domain.client_email import client_email
from ..domain.inbox import ClientMapping, arrived_item, normalised_ref
from ..domain.inbox_changes import ARRIVED, arrived, assigned, closed, mapping_learnt, pinned, refused
from .errors import Conflict, NotFound, ShopError
from .retry import replans
from .sessions import SessionRequest, record_session

if TYPE_CHECKING:
    from ..catalog import Catalog, SourcePolicy
    from ..domain.inbox import InboxItem, Reason
    from ..domain.ledger import Account, SessionRecord
    from ..domain.remote_sessions import RemoteSession
    from ..ports import LedgerStore, PaymentGateway

Answer = Literal["redeemed", "inbox", "free", "dismissed", "duplicate"]


@dataclass(frozen=True)
class InboxAnswer:
    """What became of a tool session, and what the technician must know before connecting again."""

    outcome: Answer
    item: InboxItem
    session: SessionRecord | None = None
    balance_minutes: int | None = None  # None: no client known yet
    on_hold: bool = False
    hold_reason: str = ""


def receive(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    session: RemoteSession,
    now: int,
    unknown_minutes: str = "",
) -> InboxAnswer:
    """A tool's session arrives: free, redeemed (mapped and auto), or into the inbox; a second delivery of the
    same tool session is a duplicate and changes nothing (one left half-way is carried on). `unknown_minutes`:
    why the tool could not say how long it lasted; it waits for a technician's minutes, never free."""
    integration = integration_of(catalog, session.source)
    email = mapped_email(store, session.source, session.client_ref)
    auto = integration.policy == "auto" and not unknown_minutes
    reason: Reason = "unmatched" if not email else "redeeming" if auto else "to_confirm"
    item = arrived_item(
        session,
        now,
        reason,
        email,
        catalog.billing.increment_minutes,
        catalog.billing.minimum_minutes,
        integration.free_under_minutes,
    )
    if unknown_minutes:
        item = replace(item, outcome="", closed_at=0, problem=unknown_minutes)
    outcome = store.commit(arrived(item))
    if ARRIVED in outcome.refused:
        known = _item(store, item.inbox_id)
        if known.is_open and known.reason == "redeeming":  # a delivery cut short: carry it on, once
            return _redeem(catalog, store, gateway, known, now, duplicate=True)
        if known.is_open and known.reason == "unmatched" and email:  # mapped since: goes on as if assigned
            answer = _assigned(catalog, store, gateway, known, email, known.technician, now, strict=False)
            return replace(answer, outcome="duplicate")
        return _answer(store, "duplicate", known)
    if not item.is_open:
        return _answer(store, "free", item)
    if reason == "redeeming":
        return _redeem(catalog, store, gateway, item, now)
    return _answer(store, "inbox", item)


def mapped_email(store: LedgerStore, source: str, client_ref: str) -> str:
    """The account the source's name for a client is mapped to; "" when staff have not taught it yet."""
    mapping = store.find(mapping_ref(source, normalised_ref(client_ref)))
    return mapping.email if mapping is not None else ""


def learn_mapping(store: LedgerStore, source: str, client_ref: str, email: str, by: str, now: int) -> ClientMapping:
    """Staff teach that the source's name for a client is this account; every later session of it is matched."""
    if not normalised_ref(client_ref):
        raise Conflict("empty_client_ref", 'give the name the tool uses for the client (e.g. "Acme Dental")')
    mapping = ClientMapping(source, normalised_ref(client_ref), client_email(email), now, by)
    store.commit(mapping_learnt(mapping))
    return mapping


def map_client(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    source: str,
    client_ref: str,
    email: str,
    technician: str,
    now: int,
) -> list[InboxAnswer]:
    """Learn that the source's name for a client is this account; the source's unmatched items waiting under that
    name go on by its policy at once (their answers)."""
    integration_of(catalog, source)
    mapping = learn_mapping(store, source, client_ref, email, technician, now)
    return [
        _assigned(catalog, store, gateway, other, mapping.email, technician, now, strict=False)
        for other in store.inbox()
        if other.source == source
        and other.reason == "unmatched"
        and normalised_ref(other.client_ref) == mapping.client_ref
    ]


def assign(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    inbox_id: str,
    email: str,
    technician: str,
    now: int,
) -> list[InboxAnswer]:
    """The item is this client's: the mapping is learnt, the item goes on by its source's policy, and so does every
    other unmatched item with the same source and client_ref. The first answer is the item's."""
    item = _item(store, inbox_id)
    first = _assigned(catalog, store, gateway, item, client_email(email), technician, now, strict=True)
    others = map_client(catalog, store, gateway, item.source, item.client_ref, email, technician, now)
    return [first, *others]


def confirm(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    inbox_id: str,
    technician: str,
    now: int,
    minutes: int | None = None,
    note: str | None = None,
) -> InboxAnswer:
    """A technician confirms a waiting item (a refused one too, once the client can pay): it is redeemed with
    these minutes (default: the minutes the tool reported) and note (default: the tool's notes)."""
    if minutes is not None and minutes <= 0:
        raise Conflict("bad_minutes", f"a session lasts at least one minute, not {minutes}")
    for _ in replans():
        item = _item(store, inbox_id)
        if not item.is_open:
            return _answer(store, "duplicate", item)
        if not item.email:
            raise Conflict(
                "unmatched", f"{inbox_id} is not matched to a client yet: `blockhours inbox assign {inbox_id} EMAIL`"
            )
        use_minutes = item.minutes if minutes is None else minutes
        if use_minutes <= 0:
            raise Conflict("minutes_needed", f"{inbox_id}: {item.problem or 'no minutes'}; pass --minutes")
        if store.commit(pinned(item, use_minutes, item.note if note is None else note, technician)):
            return _redeem(catalog, store, gateway, _item(store, inbox_id), now)
    raise Conflict("busy", f"{inbox_id} kept changing while it was confirmed; send it again")


def dismiss(store: LedgerStore, inbox_id: str, technician: str, now: int) -> InboxAnswer:
    """The item is not a session to bill (a test, an internal machine): it leaves the inbox, recorded as dismissed."""
    for _ in replans():
        item = _item(store, inbox_id)
        if not item.is_open:
            return _answer(store, "duplicate", item)
        if item.reason == "redeeming":
            raise Conflict(
                "redeeming",
                f"{inbox_id} is being redeemed; confirm it (`blockhours inbox confirm {inbox_id}`) to see what became "
                "of it",
            )
        if store.commit(closed(item, "dismissed", now, technician)):
            return _answer(store, "dismissed", _item(store, inbox_id))
    raise Conflict("busy", f"{inbox_id} kept changing while it was dismissed; send it again")


def _assigned(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    item: InboxItem,
    email: str,
    technician: str,
    now: int,
    strict: bool,
) -> InboxAnswer:
    if not item.is_open:
        return _answer(store, "duplicate", item)
    policy = integration_of(catalog, item.source).policy
    known = item.minutes > 0  # a connection whose end was lost has no minutes until a technician says them
    reason: Reason = "redeeming" if known and (policy == "auto" or item.reason == "refused") else "to_confirm"
    if not store.commit(assigned(item, email, reason, technician)):
        now_item = _item(store, item.inbox_id)
        if strict and now_item.is_open and now_item.email != email:
            raise Conflict(
                "already_assigned",
                f"{item.inbox_id} was already tried for {now_item.email}; dismiss it and record the session by hand",
            )
        return _answer(store, "duplicate", now_item)
    item = _item(store, item.inbox_id)
    if reason == "redeeming":
        return _redeem(catalog, store, gateway, item, now)
    return _answer(store, "inbox", item)


def _redeem(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    item: InboxItem,
    now: int,
    duplicate: bool = False,
) -> InboxAnswer:
    """Redeem a pinned item under its own id as session id; a refusal leaves it in the inbox with the reason."""
    technician = item.technician or item.by  # the statement names who did the work, not who confirmed it
    request = SessionRequest(item.email, item.minutes, technician, item.note, item.inbox_id, source=item.source)
    try:
        done = record_session(catalog, store, gateway, request, now).record
    except ShopError as refusal:
        recorded = store.find(session_ref(item.email, item.inbox_id))
        if recorded is None:  # nothing recorded: it waits, with what the ledger said
            store.commit(refused(item, f"{refusal.code}: {refusal.message}"))
            return _answer(store, "inbox", _item(store, item.inbox_id))
        done = recorded  # recorded earlier with other minutes: that session stands
    store.commit(closed(item, "redeemed", now, item.by))
    return _answer(store, "duplicate" if duplicate else "redeemed", _item(store, item.inbox_id), done)


def waiting(store: LedgerStore) -> list[InboxAnswer]:
    """The open inbox, each item with its client's balance and hold (read once per client): the technician sees
    before assigning or confirming whether the client can take the session."""
    standing: dict[str, Account | None] = {}
    answers = []
    for item in store.inbox():
        if item.email and item.email not in standing:
            standing[item.email] = store.account(item.email)
        answers.append(_standing("inbox", item, None, standing.get(item.email) if item.email else None))
    return answers


def _answer(store: LedgerStore, outcome: Answer, item: InboxItem, session: SessionRecord | None = None) -> InboxAnswer:
    if session is None and item.outcome == "redeemed":  # a duplicate gets the session recorded the first time
        session = store.find(session_ref(item.email, item.inbox_id))
    return _standing(outcome, item, session, store.account(item.email) if item.email else None)


def _standing(outcome: Answer, item: InboxItem, session: SessionRecord | None, account: Account | None) -> InboxAnswer:
    if account is None:
        return InboxAnswer(outcome, item, session)
    hold = may_take_sessions(account)
    return InboxAnswer(
        outcome,
        item,
        session,
        balance_minutes=account.available_minutes,
        on_hold=hold is not None,
        hold_reason=hold.message if hold is not None else "",
    )


def integration_of(catalog: Catalog, source: str) -> SourcePolicy:
    """The source's entry in catalog.yaml's integrations; NotFound, naming the known ones, for any other."""
    integration = catalog.integration(source)
    if integration is None:
        known = ", ".join(sorted(catalog.integrations)) or "none"
        why = f"{source} is not an integration in catalog.yaml (known: {known}); add it under integrations:"
        raise NotFound("unknown_source", why)
    return integration


def _item(store: LedgerStore, inbox_id: str) -> InboxItem:
    item = store.find(inbox_ref(inbox_id))
    if item is None:
        raise NotFound("unknown_inbox_item", f"no inbox item {inbox_id}; `blockhours inbox` lists them")
    return item
