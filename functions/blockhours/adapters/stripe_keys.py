"""Every Stripe idempotency key, made here: what it is for, whose it is, and our ids.

Stripe keeps one key space per account; our ids (sessions, refunds, debts, orders) are unique per client
only. Two clients' session `T-1001` must not share a key, or Stripe refuses the second charge (other
parameters) or replays the first client's. So each key names its owner, the client, by a hash of the
email: stable across Stripe customers and modes, and no address in Stripe's request logs.
"""

from __future__ import annotations

import hashlib
import json

from ..domain.client_email import client_email

MAX_KEY_LENGTH = 255  # Stripe's limit
_SEPARATOR = "/"  # not in our ids (one that holds it is hashed): two sets of ids never make one key


def client_of(email: str) -> str:
    """The owner part of a key: the client's email, spelt as the ledger keys it, hashed."""
    return hashlib.sha256(client_email(email).encode()).hexdigest()[:24]


def idempotency_key(purpose: str, email: str, *ours: str) -> str:
    """`purpose/client/our ids`, readable in the Stripe dashboard; the ids hashed if they would not fit a header."""
    owner = client_of(email)
    key = _SEPARATOR.join((purpose, owner, *ours))
    if len(key) <= MAX_KEY_LENGTH and key.isascii() and not any(_SEPARATOR in part or not part for part in ours):
        return key
    digest = hashlib.sha256(json.dumps(ours).encode()).hexdigest()  # a list's JSON: no two lists share it
    return _SEPARATOR.join((purpose, owner, f"sha256-{digest}"))
