"""One client, one account: the single spelling of an email address that the ledger knows a client by.

Every way in (checkout, Stripe's webhook, the staff API and CLI, the balance link, the services) passes the
address through `client_email`, so `Ana@Example.com`, the same in fullwidth letters and
`ana@bücher.example` / `ana@xn--bcher-kva.example` each reach one account. Nothing else is folded: dots and
`+tags` in the local part are the client's own, so `an.a@example.com` is another client than `ana@example.com`.
"""

from __future__ import annotations

import unicodedata

_SHOWN = 60  # how much of a refused address a message repeats


class InvalidEmail(ValueError):
    """Text that cannot be a client's email address; the message says what is wrong with it."""

    code = "invalid_email"

    def __init__(self, address: object, reason: str) -> None:
        shown = "".join(c if c.isprintable() else "?" for c in address[:_SHOWN]) if isinstance(address, str) else ""
        self.message = f"'{shown}' is not an email address: {reason.rstrip('.')}. Check it and send it again."
        super().__init__(self.message)


def client_email(address: str) -> str:
    """The address as the ledger keys it: trimmed, Unicode NFKC, the domain in IDNA (punycode), lower case."""
    from email_validator import EmailNotValidError, validate_email  # imported on first use: 40 ms at cold start

    if not isinstance(address, str):
        raise InvalidEmail(address, "an email address is text")
    candidate = unicodedata.normalize("NFKC", address.strip())
    try:
        # Syntax only, as at checkout: no DNS lookup, and special-use domains (.invalid, .localhost) are refused.
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(address, str(exc)) from exc
    local_part = unicodedata.normalize("NFKC", valid.local_part.lower())
    return f"{local_part}@{valid.ascii_domain.lower()}"
