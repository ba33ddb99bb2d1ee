"""The client's balance link: a signed, expiring token that names one customer by email."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from .domain.client_email import InvalidEmail, client_email

# A token signed for another purpose with the same secret cannot open a balance page.
SALT = "balance-link"


class LinkError(Exception):
    """A balance link that cannot be honoured; `code` is stable, the message tells the client what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Signer(TimestampSigner):
    """Itsdangerous' signer with SHA-256 and, for tests and re-issued links, a chosen issue time."""

    def __init__(self, *args: Any, issued_at: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("digest_method", hashlib.sha256)
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        return self.issued_at if self.issued_at is not None else super().get_timestamp()


def _serializer(secret: str, issued_at: int | None = None) -> URLSafeTimedSerializer:
    if len(secret) < 32:
        raise ValueError("the balance-link secret must be at least 32 characters")
    return URLSafeTimedSerializer(secret, salt=SALT, signer=_Signer, signer_kwargs={"issued_at": issued_at})


def make_balance_token(email: str, secret: str, *, issued_at: int | None = None) -> str:
    """A URL-safe token for `email`'s balance page; `issued_at` (epoch seconds) defaults to now."""
    try:
        normalized = client_email(email)
    except InvalidEmail as exc:
        raise ValueError(f"a balance link names a customer by email: {exc.message}") from exc
    return str(_serializer(secret, issued_at).dumps(normalized))


def read_balance_token(token: str, secret: str, max_age_seconds: int) -> str:
    """The email a token names, if our secret signed it within `max_age_seconds`; else LinkError."""
    try:
        email = _serializer(secret).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise LinkError(
            "expired_link",
            "this balance link has expired; ask the shop for a new link and it will be emailed to you",
        ) from exc
    except BadSignature as exc:
        raise LinkError(
            "invalid_link",
            "this balance link is not valid; open the link from your latest email exactly as sent, "
            "or ask the shop for a new one",
        ) from exc
    try:
        return client_email(email)  # a link made before the spelling rule changed still opens its account
    except InvalidEmail as exc:
        raise LinkError(
            "invalid_link", "this balance link does not name a customer; ask the shop for a new one"
        ) from exc


def balance_url(site_url: str, token: str) -> str:
    """Where the client reads their balance: the shop's balance page with the token in its query."""
    return f"{site_url.rstrip('/')}/balance/?t={quote(token, safe='')}"


def paid_url(site_url: str) -> str:
    """Where a pay link's payer lands: the thank-you page, told by Stripe which Checkout Session was paid."""
    return f"{site_url.rstrip('/')}/paid/?session_id={{CHECKOUT_SESSION_ID}}"
