"""A fresh balance link for a client, made by staff: signed where the link-signing key is, never handed out."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import links
from ..domain.client_email import client_email
from .errors import NotFound

if TYPE_CHECKING:
    from ..ports import LedgerStore


@dataclass(frozen=True)
class BalanceLink:
    email: str
    url: str
    expires_at: int  # epoch seconds: the page refuses the link after this


def balance_link(
    store: LedgerStore, email: str, secret: str, max_age_seconds: int, site_url: str, now: int | None = None
) -> BalanceLink:
    """The link to a known client's balance page, good for `max_age_seconds`; NotFound for an unknown email."""
    email = client_email(email)
    if store.account(email) is None:  # a link to nobody's page would only show the client an error
        raise NotFound("unknown_customer", f"no customer with email {email} has bought anything; check the spelling")
    issued_at = now if now is not None else int(time.time())
    token = links.make_balance_token(email, secret, issued_at=issued_at)
    return BalanceLink(email, links.balance_url(site_url, token), issued_at + max_age_seconds)
