"""Zoho's refresh-token grant (`POST {accounts_url}/oauth/v2/token`, grant_type=refresh_token): an access token lasts
an hour, so each scheduled run exchanges the stored refresh token for a fresh one, once."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import urllib3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .report_api import RETRIED_STATUSES, ReportApiError, ReportAuthError

ACCOUNTS_URL = "https://accounts.zoho.com"  # .eu, .in, .com.au, .jp ... by the account's data centre
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
RENEW = (
    "create a new refresh token with scope ZohoAssist.reportapi.READ in the API console of your data centre and "
    "store {client_id, client_secret, refresh_token} in the zoho-token parameter (infra/README.md)"
)


class ZohoGrant(BaseModel):
    """What the shop stores (the zoho-token SecureString, as JSON): a self client's id and secret and its refresh
    token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)

    @classmethod
    def parse(cls, stored: str) -> ZohoGrant:
        try:
            return cls.model_validate_json(stored)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the value"
            # Never quote the value: it is a secret.
            raise ReportAuthError(
                f"Zoho Assist's stored grant is not usable ({where}: {first['msg']}): {RENEW}"
            ) from None


def access_token(
    grant: ZohoGrant,
    accounts_url: str = ACCOUNTS_URL,
    *,
    retries: int = 2,
    backoff_seconds: float = 1.0,
    timeout_seconds: float = 20.0,
) -> str:
    """A fresh access token for `grant`; a refused grant is a ReportAuthError saying how to renew it."""
    url = f"{accounts_url.rstrip('/')}/oauth/v2/token"
    # An exchange only mints a new access token, so a retry after an outage is harmless.
    retry = urllib3.Retry(
        total=retries,
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=frozenset({"POST"}),
        backoff_factor=backoff_seconds,
        raise_on_status=False,
    )
    form = urlencode({**grant.model_dump(), "grant_type": "refresh_token"})  # in the body: secrets stay out of URLs
    try:
        response = urllib3.request("POST", url, body=form, headers=FORM, retries=retry, timeout=timeout_seconds)
    except urllib3.exceptions.HTTPError as error:
        raise ReportApiError(f"Zoho accounts is unreachable at {url}: {error}; the next run retries") from None
    body = _json(response.data)
    refused = body.get("error") if isinstance(body, dict) else None
    # Zoho answers a refused refresh token with 200 {"error": "invalid_code"}, others with 400/401.
    if refused or response.status in (400, 401, 403):
        raise ReportAuthError(f"Zoho accounts refused the refresh token ({refused or response.status}): {RENEW}")
    token = body.get("access_token") if isinstance(body, dict) else None
    if response.status != 200 or not isinstance(token, str) or not token:
        raise ReportApiError(
            f"Zoho accounts answered {response.status} without an access token at {url}; the next run retries"
        )
    return token


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
